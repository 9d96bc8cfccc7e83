// System.Collections.Generic.HashSet<T>: chained hash set (same layout as
// Dictionary: bucket heads index into slots, removed slots go on a free list),
// set algebra (UnionWith/IntersectWith/ExceptWith/SymmetricExceptWith and the
// subset tests), and an enumerator that throws InvalidOperationException when the
// set changes during enumeration. mono keeps HashSet<T> in System.Core.dll;
// ours is in mscorlib (the kernel has one base assembly).
namespace System.Collections.Generic
{
    public class HashSet<T> : ISet<T>, IReadOnlyCollection<T>
    {
        struct Slot
        {
            public int hash; // -1: free
            public int next;
            public T value;
        }

        int[] buckets;
        Slot[] slots;
        int count;
        int freeList = -1;
        int freeCount;
        int version;
        IEqualityComparer<T> comparer;

        public HashSet() : this((IEqualityComparer<T>)null) { }

        public HashSet(IEqualityComparer<T> comparer)
        {
            this.comparer = comparer == null ? EqualityComparer<T>.Default : comparer;
            Init(8);
        }

        public HashSet(IEnumerable<T> collection) : this(collection, null) { }

        public HashSet(IEnumerable<T> collection, IEqualityComparer<T> comparer) : this(comparer)
        {
            if (collection == null) throw new ArgumentNullException("collection");
            UnionWith(collection);
        }

        void Init(int size)
        {
            buckets = new int[size];
            for (int i = 0; i < size; i++) buckets[i] = -1;
            slots = new Slot[size];
        }

        public int Count { get { return count - freeCount; } }
        public IEqualityComparer<T> Comparer { get { return comparer; } }
        bool ICollection<T>.IsReadOnly { get { return false; } }

        int Hash(T item) { return item == null ? 0 : comparer.GetHashCode(item) & 0x7FFFFFFF; }

        int Find(T item)
        {
            int h = Hash(item);
            for (int i = buckets[h % buckets.Length]; i >= 0; i = slots[i].next)
                if (slots[i].hash == h && comparer.Equals(slots[i].value, item)) return i;
            return -1;
        }

        public bool Contains(T item) { return Find(item) >= 0; }

        public bool Add(T item)
        {
            if (Find(item) >= 0) return false;
            int h = Hash(item);
            int index;
            if (freeCount > 0)
            {
                index = freeList;
                freeList = slots[index].next;
                freeCount--;
            }
            else
            {
                if (count == slots.Length) Resize();
                index = count++;
            }
            int b = h % buckets.Length;
            slots[index].hash = h;
            slots[index].next = buckets[b];
            slots[index].value = item;
            buckets[b] = index;
            version++;
            return true;
        }

        void ICollection<T>.Add(T item) { Add(item); }

        void Resize()
        {
            int n = slots.Length * 2;
            Slot[] old = slots;
            buckets = new int[n];
            for (int i = 0; i < n; i++) buckets[i] = -1;
            slots = new Slot[n];
            for (int i = 0; i < count; i++)
            {
                slots[i] = old[i];
                if (old[i].hash < 0) continue;
                int b = old[i].hash % n;
                slots[i].next = buckets[b];
                buckets[b] = i;
            }
        }

        public bool Remove(T item)
        {
            int h = Hash(item);
            int b = h % buckets.Length;
            int last = -1;
            for (int i = buckets[b]; i >= 0; last = i, i = slots[i].next)
            {
                if (slots[i].hash != h || !comparer.Equals(slots[i].value, item)) continue;
                if (last < 0) buckets[b] = slots[i].next;
                else slots[last].next = slots[i].next;
                slots[i].hash = -1;
                slots[i].next = freeList;
                slots[i].value = default(T);
                freeList = i;
                freeCount++;
                version++;
                return true;
            }
            return false;
        }

        public int RemoveWhere(Predicate<T> match)
        {
            if (match == null) throw new ArgumentNullException("match");
            int removed = 0;
            for (int i = 0; i < count; i++)
            {
                if (slots[i].hash < 0) continue;
                T v = slots[i].value;
                if (match(v) && Remove(v)) removed++;
            }
            return removed;
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

        public void CopyTo(T[] array) { CopyTo(array, 0); }

        public void CopyTo(T[] array, int arrayIndex)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (arrayIndex < 0 || array.Length - arrayIndex < Count) throw new ArgumentException("Destination array is not long enough.");
            for (int i = 0; i < count; i++) if (slots[i].hash >= 0) array[arrayIndex++] = slots[i].value;
        }

        // `other` may be this set or change while we read it, so take a copy.
        static List<T> Snapshot(IEnumerable<T> other)
        {
            if (other == null) throw new ArgumentNullException("other");
            return new List<T>(other);
        }

        public void UnionWith(IEnumerable<T> other)
        {
            List<T> l = Snapshot(other);
            for (int i = 0; i < l.Count; i++) Add(l[i]);
        }

        public void IntersectWith(IEnumerable<T> other)
        {
            HashSet<T> keep = new HashSet<T>(comparer);
            List<T> l = Snapshot(other);
            for (int i = 0; i < l.Count; i++) if (Contains(l[i])) keep.Add(l[i]);
            for (int i = 0; i < count; i++)
            {
                if (slots[i].hash < 0) continue;
                if (!keep.Contains(slots[i].value)) Remove(slots[i].value);
            }
        }

        public void ExceptWith(IEnumerable<T> other)
        {
            List<T> l = Snapshot(other);
            for (int i = 0; i < l.Count; i++) Remove(l[i]);
        }

        public void SymmetricExceptWith(IEnumerable<T> other)
        {
            HashSet<T> o = new HashSet<T>(Snapshot(other), comparer);
            foreach (T v in o)
                if (!Remove(v)) Add(v);
        }

        public bool IsSubsetOf(IEnumerable<T> other)
        {
            HashSet<T> o = new HashSet<T>(Snapshot(other), comparer);
            for (int i = 0; i < count; i++)
                if (slots[i].hash >= 0 && !o.Contains(slots[i].value)) return false;
            return true;
        }

        public bool IsSupersetOf(IEnumerable<T> other)
        {
            List<T> l = Snapshot(other);
            for (int i = 0; i < l.Count; i++) if (!Contains(l[i])) return false;
            return true;
        }

        public bool IsProperSubsetOf(IEnumerable<T> other)
        {
            HashSet<T> o = new HashSet<T>(Snapshot(other), comparer);
            return o.Count > Count && IsSubsetOf(o);
        }

        public bool IsProperSupersetOf(IEnumerable<T> other)
        {
            HashSet<T> o = new HashSet<T>(Snapshot(other), comparer);
            return Count > o.Count && IsSupersetOf(o);
        }

        public bool Overlaps(IEnumerable<T> other)
        {
            List<T> l = Snapshot(other);
            for (int i = 0; i < l.Count; i++) if (Contains(l[i])) return true;
            return false;
        }

        public bool SetEquals(IEnumerable<T> other)
        {
            HashSet<T> o = new HashSet<T>(Snapshot(other), comparer);
            return o.Count == Count && IsSubsetOf(o);
        }

        public Enumerator GetEnumerator() { return new Enumerator(this); }
        IEnumerator<T> IEnumerable<T>.GetEnumerator() { return new Enumerator(this); }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() { return new Enumerator(this); }

        public struct Enumerator : IEnumerator<T>
        {
            HashSet<T> set;
            int index;
            int version;
            T current;

            internal Enumerator(HashSet<T> set) { this.set = set; index = 0; version = set.version; current = default(T); }

            public bool MoveNext()
            {
                if (version != set.version) throw CollectionErrors.Modified();
                while (index < set.count)
                {
                    int i = index++;
                    if (set.slots[i].hash >= 0) { current = set.slots[i].value; return true; }
                }
                index = set.count + 1;
                current = default(T);
                return false;
            }

            public T Current { get { return current; } }
            object System.Collections.IEnumerator.Current { get { return current; } }

            void System.Collections.IEnumerator.Reset()
            {
                if (version != set.version) throw CollectionErrors.Modified();
                index = 0;
                current = default(T);
            }

            public void Dispose() { }
        }
    }
}
