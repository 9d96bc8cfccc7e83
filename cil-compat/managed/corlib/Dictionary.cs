// System.Collections.Generic.Dictionary<TKey,TValue>: separate chaining over an
// array of bucket heads (indexes into entries), with a free list for removed
// slots; Keys/Values views and enumerators over KeyValuePair that throw
// InvalidOperationException when the dictionary changes during enumeration.
namespace System.Collections.Generic
{
    public class Dictionary<TKey, TValue> : IDictionary<TKey, TValue>, IReadOnlyCollection<KeyValuePair<TKey, TValue>>
    {
        struct Entry
        {
            public int hash; // -1: free
            public int next;
            public TKey key;
            public TValue value;
        }

        int[] buckets;
        Entry[] entries;
        int count;
        int freeList = -1;
        int freeCount;
        int version;
        IEqualityComparer<TKey> comparer;
        KeyCollection keys;
        ValueCollection values;

        public Dictionary() : this(0, null) { }
        public Dictionary(int capacity) : this(capacity, null) { }
        public Dictionary(IEqualityComparer<TKey> comparer) : this(0, comparer) { }

        public Dictionary(int capacity, IEqualityComparer<TKey> comparer)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException("capacity");
            this.comparer = comparer == null ? EqualityComparer<TKey>.Default : comparer;
            Init(capacity < 8 ? 8 : capacity);
        }

        void Init(int size)
        {
            buckets = new int[size];
            for (int i = 0; i < size; i++) buckets[i] = -1;
            entries = new Entry[size];
        }

        public int Count { get { return count - freeCount; } }
        public IEqualityComparer<TKey> Comparer { get { return comparer; } }
        bool ICollection<KeyValuePair<TKey, TValue>>.IsReadOnly { get { return false; } }

        int Hash(TKey key)
        {
            if (key == null) throw new ArgumentNullException("key");
            return comparer.GetHashCode(key) & 0x7FFFFFFF;
        }

        int Find(TKey key)
        {
            int h = Hash(key);
            for (int i = buckets[h % buckets.Length]; i >= 0; i = entries[i].next)
                if (entries[i].hash == h && comparer.Equals(entries[i].key, key)) return i;
            return -1;
        }

        public TValue this[TKey key]
        {
            get
            {
                int i = Find(key);
                if (i < 0) throw new KeyNotFoundException("The given key '" + key.ToString() + "' was not present in the dictionary.");
                return entries[i].value;
            }
            set { Insert(key, value, false); }
        }

        public void Add(TKey key, TValue value) { Insert(key, value, true); }

        void Insert(TKey key, TValue value, bool add)
        {
            int h = Hash(key);
            for (int i = buckets[h % buckets.Length]; i >= 0; i = entries[i].next)
            {
                if (entries[i].hash == h && comparer.Equals(entries[i].key, key))
                {
                    if (add) throw new ArgumentException("An item with the same key has already been added.");
                    entries[i].value = value;
                    version++;
                    return;
                }
            }
            int index;
            if (freeCount > 0)
            {
                index = freeList;
                freeList = entries[index].next;
                freeCount--;
            }
            else
            {
                if (count == entries.Length) Resize();
                index = count++;
            }
            int b = h % buckets.Length;
            entries[index].hash = h;
            entries[index].next = buckets[b];
            entries[index].key = key;
            entries[index].value = value;
            buckets[b] = index;
            version++;
        }

        void Resize()
        {
            int n = entries.Length * 2;
            Entry[] old = entries;
            buckets = new int[n];
            for (int i = 0; i < n; i++) buckets[i] = -1;
            entries = new Entry[n];
            for (int i = 0; i < count; i++)
            {
                entries[i] = old[i];
                int b = old[i].hash % n;
                entries[i].next = buckets[b];
                buckets[b] = i;
            }
        }

        public bool ContainsKey(TKey key) { return Find(key) >= 0; }

        public bool ContainsValue(TValue value)
        {
            EqualityComparer<TValue> c = EqualityComparer<TValue>.Default;
            for (int i = 0; i < count; i++)
                if (entries[i].hash >= 0 && c.Equals(entries[i].value, value)) return true;
            return false;
        }

        public bool TryGetValue(TKey key, out TValue value)
        {
            int i = Find(key);
            if (i < 0) { value = default(TValue); return false; }
            value = entries[i].value;
            return true;
        }

        public bool Remove(TKey key)
        {
            int h = Hash(key);
            int b = h % buckets.Length;
            int last = -1;
            for (int i = buckets[b]; i >= 0; last = i, i = entries[i].next)
            {
                if (entries[i].hash != h || !comparer.Equals(entries[i].key, key)) continue;
                if (last < 0) buckets[b] = entries[i].next;
                else entries[last].next = entries[i].next;
                entries[i].hash = -1;
                entries[i].next = freeList;
                entries[i].key = default(TKey);
                entries[i].value = default(TValue);
                freeList = i;
                freeCount++;
                version++;
                return true;
            }
            return false;
        }

        public void Clear()
        {
            if (count == 0) return;
            Init(buckets.Length);
            count = 0;
            freeList = -1;
            freeCount = 0;
            version++;
        }

        void ICollection<KeyValuePair<TKey, TValue>>.Add(KeyValuePair<TKey, TValue> item) { Add(item.Key, item.Value); }

        bool ICollection<KeyValuePair<TKey, TValue>>.Contains(KeyValuePair<TKey, TValue> item)
        {
            int i = Find(item.Key);
            return i >= 0 && EqualityComparer<TValue>.Default.Equals(entries[i].value, item.Value);
        }

        bool ICollection<KeyValuePair<TKey, TValue>>.Remove(KeyValuePair<TKey, TValue> item)
        {
            int i = Find(item.Key);
            if (i < 0 || !EqualityComparer<TValue>.Default.Equals(entries[i].value, item.Value)) return false;
            return Remove(item.Key);
        }

        public void CopyTo(KeyValuePair<TKey, TValue>[] array, int index)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (index < 0 || array.Length - index < Count) throw new ArgumentException("Destination array is not long enough.");
            for (int i = 0; i < count; i++)
                if (entries[i].hash >= 0) array[index++] = new KeyValuePair<TKey, TValue>(entries[i].key, entries[i].value);
        }

        public KeyCollection Keys
        {
            get { if (keys == null) keys = new KeyCollection(this); return keys; }
        }

        public ValueCollection Values
        {
            get { if (values == null) values = new ValueCollection(this); return values; }
        }

        ICollection<TKey> IDictionary<TKey, TValue>.Keys { get { return Keys; } }
        ICollection<TValue> IDictionary<TKey, TValue>.Values { get { return Values; } }

        public Enumerator GetEnumerator() { return new Enumerator(this); }
        IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() { return new Enumerator(this); }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() { return new Enumerator(this); }

        // Walks live entries in slot order; `index` is the next slot to look at.
        public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
        {
            Dictionary<TKey, TValue> d;
            int index;
            internal int version;
            KeyValuePair<TKey, TValue> current;

            internal Enumerator(Dictionary<TKey, TValue> d)
            {
                this.d = d;
                index = 0;
                version = d.version;
                current = new KeyValuePair<TKey, TValue>();
            }

            public bool MoveNext()
            {
                if (version != d.version) throw CollectionErrors.Modified();
                while (index < d.count)
                {
                    int i = index++;
                    if (d.entries[i].hash >= 0)
                    {
                        current = new KeyValuePair<TKey, TValue>(d.entries[i].key, d.entries[i].value);
                        return true;
                    }
                }
                index = d.count + 1;
                current = new KeyValuePair<TKey, TValue>();
                return false;
            }

            public KeyValuePair<TKey, TValue> Current { get { return current; } }
            object System.Collections.IEnumerator.Current { get { return current; } }

            void System.Collections.IEnumerator.Reset()
            {
                if (version != d.version) throw CollectionErrors.Modified();
                index = 0;
                current = new KeyValuePair<TKey, TValue>();
            }

            public void Dispose() { }
        }

        public sealed class KeyCollection : ICollection<TKey>, IReadOnlyCollection<TKey>
        {
            Dictionary<TKey, TValue> d;
            public KeyCollection(Dictionary<TKey, TValue> dictionary)
            {
                if (dictionary == null) throw new ArgumentNullException("dictionary");
                d = dictionary;
            }

            public int Count { get { return d.Count; } }
            bool ICollection<TKey>.IsReadOnly { get { return true; } }
            void ICollection<TKey>.Add(TKey item) { throw new NotSupportedException(); }
            void ICollection<TKey>.Clear() { throw new NotSupportedException(); }
            bool ICollection<TKey>.Remove(TKey item) { throw new NotSupportedException(); }
            bool ICollection<TKey>.Contains(TKey item) { return d.ContainsKey(item); }

            public void CopyTo(TKey[] array, int index)
            {
                if (array == null) throw new ArgumentNullException("array");
                if (index < 0 || array.Length - index < d.Count) throw new ArgumentException("Destination array is not long enough.");
                for (int i = 0; i < d.count; i++) if (d.entries[i].hash >= 0) array[index++] = d.entries[i].key;
            }

            public Enumerator GetEnumerator() { return new Enumerator(d); }
            IEnumerator<TKey> IEnumerable<TKey>.GetEnumerator() { return new Enumerator(d); }
            System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() { return new Enumerator(d); }

            public struct Enumerator : IEnumerator<TKey>
            {
                Dictionary<TKey, TValue> d;
                Dictionary<TKey, TValue>.Enumerator e;
                internal Enumerator(Dictionary<TKey, TValue> d) { this.d = d; e = new Dictionary<TKey, TValue>.Enumerator(d); }
                public bool MoveNext() { return e.MoveNext(); }
                public TKey Current { get { return e.Current.Key; } }
                object System.Collections.IEnumerator.Current { get { return e.Current.Key; } }

                void System.Collections.IEnumerator.Reset()
                {
                    if (e.version != d.version) throw CollectionErrors.Modified();
                    e = new Dictionary<TKey, TValue>.Enumerator(d);
                }
                public void Dispose() { }
            }
        }

        public sealed class ValueCollection : ICollection<TValue>, IReadOnlyCollection<TValue>
        {
            Dictionary<TKey, TValue> d;
            public ValueCollection(Dictionary<TKey, TValue> dictionary)
            {
                if (dictionary == null) throw new ArgumentNullException("dictionary");
                d = dictionary;
            }

            public int Count { get { return d.Count; } }
            bool ICollection<TValue>.IsReadOnly { get { return true; } }
            void ICollection<TValue>.Add(TValue item) { throw new NotSupportedException(); }
            void ICollection<TValue>.Clear() { throw new NotSupportedException(); }
            bool ICollection<TValue>.Remove(TValue item) { throw new NotSupportedException(); }
            bool ICollection<TValue>.Contains(TValue item) { return d.ContainsValue(item); }

            public void CopyTo(TValue[] array, int index)
            {
                if (array == null) throw new ArgumentNullException("array");
                if (index < 0 || array.Length - index < d.Count) throw new ArgumentException("Destination array is not long enough.");
                for (int i = 0; i < d.count; i++) if (d.entries[i].hash >= 0) array[index++] = d.entries[i].value;
            }

            public Enumerator GetEnumerator() { return new Enumerator(d); }
            IEnumerator<TValue> IEnumerable<TValue>.GetEnumerator() { return new Enumerator(d); }
            System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() { return new Enumerator(d); }

            public struct Enumerator : IEnumerator<TValue>
            {
                Dictionary<TKey, TValue> d;
                Dictionary<TKey, TValue>.Enumerator e;
                internal Enumerator(Dictionary<TKey, TValue> d) { this.d = d; e = new Dictionary<TKey, TValue>.Enumerator(d); }
                public bool MoveNext() { return e.MoveNext(); }
                public TValue Current { get { return e.Current.Value; } }
                object System.Collections.IEnumerator.Current { get { return e.Current.Value; } }

                void System.Collections.IEnumerator.Reset()
                {
                    if (e.version != d.version) throw CollectionErrors.Modified();
                    e = new Dictionary<TKey, TValue>.Enumerator(d);
                }
                public void Dispose() { }
            }
        }
    }
}
