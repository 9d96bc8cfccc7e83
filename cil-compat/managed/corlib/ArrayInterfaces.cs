//! The generic collection interfaces of vectors (ECMA-335 Partition I §8.9.1,
// Partition II §14.1): every T[] implements IList<T>, ICollection<T>,
// IEnumerable<T>, IReadOnlyList<T> and IReadOnlyCollection<T>, and through array
// covariance U[] does too for every reference type U that T converts to. No array
// type declares these interfaces: when an interface call on an array finds no
// slot, the runtime (cil-compat/src/types/vector_ifaces.rs) answers with the
// method of SZArrayMethods<U> named like the interface method, U being the
// interface's type argument. Those methods are static and take the array as their
// first parameter, which is where an instance call passes `this`, so the call site
// needs no adjustment. Fixed size: what would change the length throws
// NotSupportedException, as on .NET; writes through the indexer are visible in the
// array.
namespace System
{
    using System.Collections;
    using System.Collections.Generic;

    internal static class SZArrayMethods<T>
    {
        // IEnumerable<T>
        internal static IEnumerator<T> GetEnumerator(T[] array)
        {
            return new SZArrayEnumerator<T>(array);
        }

        // ICollection<T>, IReadOnlyCollection<T>
        internal static int get_Count(T[] array) { return array.Length; }

        internal static bool get_IsReadOnly(T[] array) { return true; }

        internal static void Add(T[] array, T item) { throw FixedSize(); }

        internal static void Clear(T[] array) { throw ReadOnly(); }

        internal static bool Contains(T[] array, T item)
        {
            return Array.IndexOf(array, item, 0, array.Length) >= 0;
        }

        internal static void CopyTo(T[] array, T[] destination, int index)
        {
            if (destination == null) throw new ArgumentNullException("array");
            Array.Copy(array, 0, destination, index, array.Length);
        }

        internal static bool Remove(T[] array, T item) { throw FixedSize(); }

        // IList<T>, IReadOnlyList<T>
        internal static T get_Item(T[] array, int index)
        {
            if ((uint)index >= (uint)array.Length) throw new ArgumentOutOfRangeException("index");
            return array[index];
        }

        internal static void set_Item(T[] array, int index, T value)
        {
            if ((uint)index >= (uint)array.Length) throw new ArgumentOutOfRangeException("index");
            array[index] = value;
        }

        internal static int IndexOf(T[] array, T item)
        {
            return Array.IndexOf(array, item, 0, array.Length);
        }

        internal static void Insert(T[] array, int index, T item) { throw FixedSize(); }

        internal static void RemoveAt(T[] array, int index) { throw FixedSize(); }

        static NotSupportedException FixedSize()
        {
            return new NotSupportedException("Collection was of a fixed size.");
        }

        static NotSupportedException ReadOnly()
        {
            return new NotSupportedException("Collection is read-only.");
        }
    }

    // Current before the first MoveNext or after the last throws, as on .NET.
    internal sealed class SZArrayEnumerator<T> : IEnumerator<T>
    {
        readonly T[] array;
        int index;

        internal SZArrayEnumerator(T[] array)
        {
            this.array = array;
            index = -1;
        }

        public bool MoveNext()
        {
            if (index < array.Length) index++;
            return index < array.Length;
        }

        public T Current
        {
            get
            {
                if (index < 0) throw new InvalidOperationException("Enumeration has not started. Call MoveNext.");
                if (index >= array.Length) throw new InvalidOperationException("Enumeration already finished.");
                return array[index];
            }
        }

        object IEnumerator.Current { get { return Current; } }

        public void Reset() { index = -1; }

        public void Dispose() { }
    }

    // System.Array's IEnumerable: every array (any rank), elements boxed, in flat
    // (row-major) order.
    internal sealed class ArrayBoxEnumerator : IEnumerator
    {
        readonly Array array;
        int index;

        internal ArrayBoxEnumerator(Array array)
        {
            this.array = array;
            index = -1;
        }

        public bool MoveNext()
        {
            int n = array.GetLengthInternal();
            if (index < n) index++;
            return index < n;
        }

        public object Current
        {
            get
            {
                if (index < 0) throw new InvalidOperationException("Enumeration has not started. Call MoveNext.");
                if (index >= array.GetLengthInternal()) throw new InvalidOperationException("Enumeration already finished.");
                return array.GetValueFlat(index);
            }
        }

        public void Reset() { index = -1; }
    }
}
