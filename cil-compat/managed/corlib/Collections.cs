// System.Collections.Generic as far as mono's mscorlib has it (Queue<T>,
// Stack<T> and HashSet<T> live in mono's System.dll and System.Core.dll, so they
// are not here): the interfaces, List<T>, Dictionary<TKey,TValue>,
// KeyValuePair, EqualityComparer<T>.Default and Comparer<T>.Default. Each
// instantiation is compiled on its own by our runtime.
namespace System
{
    public interface IComparable<in T>
    {
        int CompareTo(T other);
    }
}

namespace System.Collections.Generic
{
    public interface IEnumerable<out T> : System.Collections.IEnumerable
    {
        new IEnumerator<T> GetEnumerator();
    }

    public interface IEnumerator<out T> : IDisposable, System.Collections.IEnumerator
    {
        new T Current { get; }
    }

    public interface ICollection<T> : IEnumerable<T>
    {
        int Count { get; }
        bool IsReadOnly { get; }
        void Add(T item);
        void Clear();
        bool Contains(T item);
        void CopyTo(T[] array, int arrayIndex);
        bool Remove(T item);
    }

    public interface IList<T> : ICollection<T>
    {
        T this[int index] { get; set; }
        int IndexOf(T item);
        void Insert(int index, T item);
        void RemoveAt(int index);
    }

    public interface IEqualityComparer<in T>
    {
        bool Equals(T x, T y);
        int GetHashCode(T obj);
    }

    public interface IComparer<in T>
    {
        int Compare(T x, T y);
    }

    public class KeyNotFoundException : SystemException
    {
        public KeyNotFoundException() : base("The given key was not present in the dictionary.") { }
        public KeyNotFoundException(string message) : base(message) { }
    }

    // Object.Equals/GetHashCode through constrained calls (no boxing for value
    // types that override them).
    public abstract class EqualityComparer<T> : IEqualityComparer<T>
    {
        static EqualityComparer<T> defaultComparer;

        public static EqualityComparer<T> Default
        {
            get
            {
                if (defaultComparer == null) defaultComparer = new ObjectEqualityComparer<T>();
                return defaultComparer;
            }
        }

        public abstract bool Equals(T x, T y);
        public abstract int GetHashCode(T obj);
    }

    internal sealed class ObjectEqualityComparer<T> : EqualityComparer<T>
    {
        public override bool Equals(T x, T y)
        {
            if (x == null) return y == null;
            if (y == null) return false;
            return x.Equals(y);
        }

        public override int GetHashCode(T obj) { return obj == null ? 0 : obj.GetHashCode(); }
    }

    public abstract class Comparer<T> : IComparer<T>
    {
        static Comparer<T> defaultComparer;

        public static Comparer<T> Default
        {
            get
            {
                if (defaultComparer == null) defaultComparer = new ObjectComparer<T>();
                return defaultComparer;
            }
        }

        public abstract int Compare(T x, T y);
    }

    internal sealed class ObjectComparer<T> : Comparer<T>
    {
        public override int Compare(T x, T y)
        {
            if (x == null) return y == null ? 0 : -1;
            if (y == null) return 1;
            IComparable<T> g = x as IComparable<T>;
            if (g != null) return g.CompareTo(y);
            IComparable c = x as IComparable;
            if (c != null) return c.CompareTo(y);
            throw new ArgumentException("At least one object must implement IComparable.");
        }
    }

    public struct KeyValuePair<TKey, TValue>
    {
        TKey key;
        TValue value;
        public KeyValuePair(TKey key, TValue value) { this.key = key; this.value = value; }
        public TKey Key { get { return key; } }
        public TValue Value { get { return value; } }
    }

    public class List<T> : IList<T>
    {
        T[] items;
        int size;

        public List() { items = new T[4]; }
        public List(int capacity)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException("capacity");
            items = new T[capacity < 4 ? 4 : capacity];
        }

        public int Count { get { return size; } }
        public int Capacity { get { return items.Length; } }
        bool ICollection<T>.IsReadOnly { get { return false; } }

        public T this[int index]
        {
            get { if ((uint)index >= (uint)size) throw new ArgumentOutOfRangeException("index"); return items[index]; }
            set { if ((uint)index >= (uint)size) throw new ArgumentOutOfRangeException("index"); items[index] = value; }
        }

        void Grow()
        {
            T[] n = new T[items.Length * 2];
            for (int i = 0; i < size; i++) n[i] = items[i];
            items = n;
        }

        public void Add(T item)
        {
            if (size == items.Length) Grow();
            items[size++] = item;
        }

        public void Insert(int index, T item)
        {
            if ((uint)index > (uint)size) throw new ArgumentOutOfRangeException("index");
            if (size == items.Length) Grow();
            for (int i = size; i > index; i--) items[i] = items[i - 1];
            items[index] = item;
            size++;
        }

        public void RemoveAt(int index)
        {
            if ((uint)index >= (uint)size) throw new ArgumentOutOfRangeException("index");
            size--;
            for (int i = index; i < size; i++) items[i] = items[i + 1];
            items[size] = default(T);
        }

        public int IndexOf(T item)
        {
            EqualityComparer<T> c = EqualityComparer<T>.Default;
            for (int i = 0; i < size; i++) if (c.Equals(items[i], item)) return i;
            return -1;
        }

        public bool Contains(T item) { return IndexOf(item) >= 0; }

        public bool Remove(T item)
        {
            int i = IndexOf(item);
            if (i < 0) return false;
            RemoveAt(i);
            return true;
        }

        public void Clear()
        {
            for (int i = 0; i < size; i++) items[i] = default(T);
            size = 0;
        }

        public void CopyTo(T[] array, int arrayIndex)
        {
            for (int i = 0; i < size; i++) array[arrayIndex + i] = items[i];
        }

        public T[] ToArray()
        {
            T[] a = new T[size];
            CopyTo(a, 0);
            return a;
        }

        public void Reverse()
        {
            for (int i = 0, j = size - 1; i < j; i++, j--) { T t = items[i]; items[i] = items[j]; items[j] = t; }
        }

        public void Sort() { Sort(Comparer<T>.Default); }

        public void Sort(Comparison<T> comparison)
        {
            // Insertion sort: stable, no allocation.
            for (int i = 1; i < size; i++)
            {
                T v = items[i];
                int j = i - 1;
                while (j >= 0 && comparison(items[j], v) > 0) { items[j + 1] = items[j]; j--; }
                items[j + 1] = v;
            }
        }

        public void Sort(IComparer<T> comparer)
        {
            for (int i = 1; i < size; i++)
            {
                T v = items[i];
                int j = i - 1;
                while (j >= 0 && comparer.Compare(items[j], v) > 0) { items[j + 1] = items[j]; j--; }
                items[j + 1] = v;
            }
        }

        public T Find(Predicate<T> match)
        {
            for (int i = 0; i < size; i++) if (match(items[i])) return items[i];
            return default(T);
        }

        public bool Exists(Predicate<T> match) { return FindIndex(match) >= 0; }

        public int FindIndex(Predicate<T> match)
        {
            for (int i = 0; i < size; i++) if (match(items[i])) return i;
            return -1;
        }

        public void ForEach(Action<T> action)
        {
            for (int i = 0; i < size; i++) action(items[i]);
        }

        public void AddRange(IEnumerable<T> collection)
        {
            IEnumerator<T> e = collection.GetEnumerator();
            while (e.MoveNext()) Add(e.Current);
        }

        public Enumerator GetEnumerator() { return new Enumerator(this); }
        IEnumerator<T> IEnumerable<T>.GetEnumerator() { return new Enumerator(this); }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() { return new Enumerator(this); }

        public struct Enumerator : IEnumerator<T>
        {
            List<T> list;
            int index;
            T current;

            internal Enumerator(List<T> list) { this.list = list; index = 0; current = default(T); }

            public bool MoveNext()
            {
                if (index < list.size) { current = list.items[index++]; return true; }
                current = default(T);
                index = list.size + 1;
                return false;
            }

            public T Current { get { return current; } }
            object System.Collections.IEnumerator.Current { get { return current; } }
            void System.Collections.IEnumerator.Reset() { index = 0; current = default(T); }
            public void Dispose() { }
        }
    }

    // Separate chaining over an array of bucket heads (indexes into entries).
    public class Dictionary<TKey, TValue>
    {
        struct Entry
        {
            public int hash;
            public int next;
            public TKey key;
            public TValue value;
        }

        int[] buckets;
        Entry[] entries;
        int count;
        int freeList = -1;
        int freeCount;
        IEqualityComparer<TKey> comparer;

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
                if (i < 0) throw new KeyNotFoundException();
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
        }
    }
}
