// System.Collections.Generic.Queue<T> (a circular buffer) and Stack<T> (an array
// stack), with struct enumerators that throw InvalidOperationException when the
// collection changes during enumeration; Dequeue/Pop/Peek on an empty collection
// throw InvalidOperationException as in .NET. (mono keeps both in mscorlib too.)
namespace System.Collections.Generic
{
    public class Queue<T> : IEnumerable<T>, IReadOnlyCollection<T>
    {
        T[] items;
        int head; // index of the first element
        int size;
        int version;

        public Queue() { items = new T[4]; }

        public Queue(int capacity)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException("capacity");
            items = new T[capacity < 4 ? 4 : capacity];
        }

        public Queue(IEnumerable<T> collection)
        {
            if (collection == null) throw new ArgumentNullException("collection");
            items = new T[4];
            IEnumerator<T> e = collection.GetEnumerator();
            try { while (e.MoveNext()) Enqueue(e.Current); }
            finally { e.Dispose(); }
        }

        public int Count { get { return size; } }

        T At(int i) { return items[(head + i) % items.Length]; }

        public void Enqueue(T item)
        {
            if (size == items.Length)
            {
                T[] n = new T[items.Length * 2];
                for (int i = 0; i < size; i++) n[i] = At(i);
                items = n;
                head = 0;
            }
            items[(head + size) % items.Length] = item;
            size++;
            version++;
        }

        public T Dequeue()
        {
            if (size == 0) throw CollectionErrors.Empty("Queue");
            T r = items[head];
            items[head] = default(T);
            head = (head + 1) % items.Length;
            size--;
            version++;
            return r;
        }

        public T Peek()
        {
            if (size == 0) throw CollectionErrors.Empty("Queue");
            return items[head];
        }

        public bool TryDequeue(out T result)
        {
            if (size == 0) { result = default(T); return false; }
            result = Dequeue();
            return true;
        }

        public bool TryPeek(out T result)
        {
            if (size == 0) { result = default(T); return false; }
            result = items[head];
            return true;
        }

        public bool Contains(T item)
        {
            EqualityComparer<T> c = EqualityComparer<T>.Default;
            for (int i = 0; i < size; i++) if (c.Equals(At(i), item)) return true;
            return false;
        }

        public void Clear()
        {
            for (int i = 0; i < items.Length; i++) items[i] = default(T);
            head = 0;
            size = 0;
            version++;
        }

        public T[] ToArray()
        {
            T[] a = new T[size];
            for (int i = 0; i < size; i++) a[i] = At(i);
            return a;
        }

        public void CopyTo(T[] array, int arrayIndex)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (arrayIndex < 0 || array.Length - arrayIndex < size) throw new ArgumentException("Destination array is not long enough.");
            for (int i = 0; i < size; i++) array[arrayIndex + i] = At(i);
        }

        public Enumerator GetEnumerator() { return new Enumerator(this); }
        IEnumerator<T> IEnumerable<T>.GetEnumerator() { return new Enumerator(this); }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() { return new Enumerator(this); }

        public struct Enumerator : IEnumerator<T>
        {
            Queue<T> q;
            int index;
            int version;
            T current;

            internal Enumerator(Queue<T> q) { this.q = q; index = 0; version = q.version; current = default(T); }

            public bool MoveNext()
            {
                if (version != q.version) throw CollectionErrors.Modified();
                if (index < q.size) { current = q.At(index++); return true; }
                index = q.size + 1;
                current = default(T);
                return false;
            }

            public T Current { get { return current; } }
            object System.Collections.IEnumerator.Current { get { return current; } }

            void System.Collections.IEnumerator.Reset()
            {
                if (version != q.version) throw CollectionErrors.Modified();
                index = 0;
                current = default(T);
            }

            public void Dispose() { }
        }
    }

    // Enumerates from the top (last pushed) down, as .NET does.
    public class Stack<T> : IEnumerable<T>, IReadOnlyCollection<T>
    {
        T[] items;
        int size;
        int version;

        public Stack() { items = new T[4]; }

        public Stack(int capacity)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException("capacity");
            items = new T[capacity < 4 ? 4 : capacity];
        }

        public Stack(IEnumerable<T> collection)
        {
            if (collection == null) throw new ArgumentNullException("collection");
            items = new T[4];
            IEnumerator<T> e = collection.GetEnumerator();
            try { while (e.MoveNext()) Push(e.Current); }
            finally { e.Dispose(); }
        }

        public int Count { get { return size; } }

        public void Push(T item)
        {
            if (size == items.Length)
            {
                T[] n = new T[items.Length * 2];
                for (int i = 0; i < size; i++) n[i] = items[i];
                items = n;
            }
            items[size++] = item;
            version++;
        }

        public T Pop()
        {
            if (size == 0) throw CollectionErrors.Empty("Stack");
            T r = items[--size];
            items[size] = default(T);
            version++;
            return r;
        }

        public T Peek()
        {
            if (size == 0) throw CollectionErrors.Empty("Stack");
            return items[size - 1];
        }

        public bool TryPop(out T result)
        {
            if (size == 0) { result = default(T); return false; }
            result = Pop();
            return true;
        }

        public bool TryPeek(out T result)
        {
            if (size == 0) { result = default(T); return false; }
            result = items[size - 1];
            return true;
        }

        public bool Contains(T item)
        {
            EqualityComparer<T> c = EqualityComparer<T>.Default;
            for (int i = 0; i < size; i++) if (c.Equals(items[i], item)) return true;
            return false;
        }

        public void Clear()
        {
            for (int i = 0; i < size; i++) items[i] = default(T);
            size = 0;
            version++;
        }

        // Top first, as .NET's Stack<T>.ToArray.
        public T[] ToArray()
        {
            T[] a = new T[size];
            for (int i = 0; i < size; i++) a[i] = items[size - 1 - i];
            return a;
        }

        public Enumerator GetEnumerator() { return new Enumerator(this); }
        IEnumerator<T> IEnumerable<T>.GetEnumerator() { return new Enumerator(this); }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() { return new Enumerator(this); }

        public struct Enumerator : IEnumerator<T>
        {
            Stack<T> s;
            int index; // next element index from the top; -1 when done
            int version;
            T current;

            internal Enumerator(Stack<T> s) { this.s = s; index = s.size - 1; version = s.version; current = default(T); }

            public bool MoveNext()
            {
                if (version != s.version) throw CollectionErrors.Modified();
                if (index >= 0) { current = s.items[index--]; return true; }
                current = default(T);
                return false;
            }

            public T Current { get { return current; } }
            object System.Collections.IEnumerator.Current { get { return current; } }

            void System.Collections.IEnumerator.Reset()
            {
                if (version != s.version) throw CollectionErrors.Modified();
                index = s.size - 1;
                current = default(T);
            }

            public void Dispose() { }
        }
    }
}
