// System.Collections.Generic.List<T>: a growable array with IList<T>, sorting
// (stable insertion sort), searching, predicates and a struct enumerator that
// throws InvalidOperationException when the list changes during enumeration.
namespace System.Collections.Generic
{
    public class List<T> : IList<T>, IReadOnlyList<T>
    {
        T[] items;
        int size;
        int version;

        public List() { items = new T[4]; }

        public List(int capacity)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException("capacity");
            items = new T[capacity < 4 ? 4 : capacity];
        }

        public List(IEnumerable<T> collection)
        {
            if (collection == null) throw new ArgumentNullException("collection");
            items = new T[4];
            AddRange(collection);
        }

        public int Count { get { return size; } }
        public int Capacity { get { return items.Length; } }
        bool ICollection<T>.IsReadOnly { get { return false; } }

        public T this[int index]
        {
            get { if ((uint)index >= (uint)size) throw new ArgumentOutOfRangeException("index"); return items[index]; }
            set
            {
                if ((uint)index >= (uint)size) throw new ArgumentOutOfRangeException("index");
                items[index] = value;
                version++;
            }
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
            version++;
        }

        public void AddRange(IEnumerable<T> collection)
        {
            if (collection == null) throw new ArgumentNullException("collection");
            // Copy first: adding a list to itself must not see its own additions.
            List<T> src = new List<T>(0);
            IEnumerator<T> e = collection.GetEnumerator();
            try
            {
                while (e.MoveNext())
                {
                    if (src.size == src.items.Length) src.Grow();
                    src.items[src.size++] = e.Current;
                }
            }
            finally { e.Dispose(); }
            for (int i = 0; i < src.size; i++) Add(src.items[i]);
        }

        public void Insert(int index, T item)
        {
            if ((uint)index > (uint)size) throw new ArgumentOutOfRangeException("index");
            if (size == items.Length) Grow();
            for (int i = size; i > index; i--) items[i] = items[i - 1];
            items[index] = item;
            size++;
            version++;
        }

        public void RemoveAt(int index)
        {
            if ((uint)index >= (uint)size) throw new ArgumentOutOfRangeException("index");
            size--;
            for (int i = index; i < size; i++) items[i] = items[i + 1];
            items[size] = default(T);
            version++;
        }

        public void RemoveRange(int index, int count)
        {
            if (index < 0 || count < 0 || size - index < count) throw new ArgumentOutOfRangeException("index");
            if (count == 0) return;
            size -= count;
            for (int i = index; i < size; i++) items[i] = items[i + count];
            for (int i = size; i < size + count; i++) items[i] = default(T);
            version++;
        }

        public int RemoveAll(Predicate<T> match)
        {
            if (match == null) throw new ArgumentNullException("match");
            int j = 0;
            for (int i = 0; i < size; i++)
            {
                if (match(items[i])) continue;
                items[j++] = items[i];
            }
            int removed = size - j;
            for (int i = j; i < size; i++) items[i] = default(T);
            size = j;
            if (removed > 0) version++;
            return removed;
        }

        public int IndexOf(T item)
        {
            EqualityComparer<T> c = EqualityComparer<T>.Default;
            for (int i = 0; i < size; i++) if (c.Equals(items[i], item)) return i;
            return -1;
        }

        public int LastIndexOf(T item)
        {
            EqualityComparer<T> c = EqualityComparer<T>.Default;
            for (int i = size - 1; i >= 0; i--) if (c.Equals(items[i], item)) return i;
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
            version++;
        }

        public void CopyTo(T[] array) { CopyTo(array, 0); }

        public void CopyTo(T[] array, int arrayIndex)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (arrayIndex < 0 || array.Length - arrayIndex < size) throw new ArgumentException("Destination array is not long enough.");
            for (int i = 0; i < size; i++) array[arrayIndex + i] = items[i];
        }

        public T[] ToArray()
        {
            T[] a = new T[size];
            for (int i = 0; i < size; i++) a[i] = items[i];
            return a;
        }

        public void Reverse()
        {
            for (int i = 0, j = size - 1; i < j; i++, j--) { T t = items[i]; items[i] = items[j]; items[j] = t; }
            version++;
        }

        public void Sort() { Sort(Comparer<T>.Default); }

        public void Sort(Comparison<T> comparison)
        {
            if (comparison == null) throw new ArgumentNullException("comparison");
            Sort(new ComparisonComparer<T>(comparison));
        }

        public void Sort(IComparer<T> comparer)
        {
            if (comparer == null) comparer = Comparer<T>.Default;
            // Insertion sort: stable, no allocation.
            for (int i = 1; i < size; i++)
            {
                T v = items[i];
                int j = i - 1;
                while (j >= 0 && comparer.Compare(items[j], v) > 0) { items[j + 1] = items[j]; j--; }
                items[j + 1] = v;
            }
            version++;
        }

        public int BinarySearch(T item) { return BinarySearch(item, null); }

        public int BinarySearch(T item, IComparer<T> comparer)
        {
            if (comparer == null) comparer = Comparer<T>.Default;
            int lo = 0, hi = size - 1;
            while (lo <= hi)
            {
                int mid = lo + ((hi - lo) >> 1);
                int c = comparer.Compare(items[mid], item);
                if (c == 0) return mid;
                if (c < 0) lo = mid + 1; else hi = mid - 1;
            }
            return ~lo;
        }

        public T Find(Predicate<T> match)
        {
            for (int i = 0; i < size; i++) if (match(items[i])) return items[i];
            return default(T);
        }

        public T FindLast(Predicate<T> match)
        {
            for (int i = size - 1; i >= 0; i--) if (match(items[i])) return items[i];
            return default(T);
        }

        public List<T> FindAll(Predicate<T> match)
        {
            List<T> r = new List<T>();
            for (int i = 0; i < size; i++) if (match(items[i])) r.Add(items[i]);
            return r;
        }

        public bool Exists(Predicate<T> match) { return FindIndex(match) >= 0; }

        public bool TrueForAll(Predicate<T> match)
        {
            for (int i = 0; i < size; i++) if (!match(items[i])) return false;
            return true;
        }

        public int FindIndex(Predicate<T> match)
        {
            for (int i = 0; i < size; i++) if (match(items[i])) return i;
            return -1;
        }

        public List<TOutput> ConvertAll<TOutput>(Converter<T, TOutput> converter)
        {
            List<TOutput> r = new List<TOutput>(size);
            for (int i = 0; i < size; i++) r.Add(converter(items[i]));
            return r;
        }

        public List<T> GetRange(int index, int count)
        {
            if (index < 0 || count < 0 || size - index < count) throw new ArgumentOutOfRangeException("index");
            List<T> r = new List<T>(count);
            for (int i = 0; i < count; i++) r.Add(items[index + i]);
            return r;
        }

        public void ForEach(Action<T> action)
        {
            int v = version;
            for (int i = 0; i < size; i++)
            {
                action(items[i]);
                if (v != version) throw CollectionErrors.Modified();
            }
        }

        public Enumerator GetEnumerator() { return new Enumerator(this); }
        IEnumerator<T> IEnumerable<T>.GetEnumerator() { return new Enumerator(this); }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() { return new Enumerator(this); }

        public struct Enumerator : IEnumerator<T>
        {
            List<T> list;
            int index;
            int version;
            T current;

            internal Enumerator(List<T> list)
            {
                this.list = list;
                index = 0;
                version = list.version;
                current = default(T);
            }

            public bool MoveNext()
            {
                if (version != list.version) throw CollectionErrors.Modified();
                if (index < list.size) { current = list.items[index++]; return true; }
                current = default(T);
                index = list.size + 1;
                return false;
            }

            public T Current { get { return current; } }
            object System.Collections.IEnumerator.Current { get { return current; } }

            void System.Collections.IEnumerator.Reset()
            {
                if (version != list.version) throw CollectionErrors.Modified();
                index = 0;
                current = default(T);
            }

            public void Dispose() { }
        }
    }
}
