// System.Array (vectors T[] and multi-dimensional T[,...] arrays: dimensions,
// boxed element access, Copy/Clear/Fill/IndexOf/Reverse/Sort/Resize,
// CreateInstance, Clone), System.ICloneable, System.RankException's users and
// System.Buffer (BlockCopy, ByteLength). The InternalCalls are bound by the
// runtime (cil-compat/src/exec/arrays.rs); the .ctor/Get/Set/Address methods of
// multi-dimensional array types are the VES's own (ECMA-335 II.14.2), lowered
// inline by the JIT. Elements of every array are addressed here by their flat
// (row-major) index.
namespace System
{
    using System.Collections.Generic;
    using System.Runtime.CompilerServices;

    public interface ICloneable
    {
        object Clone();
    }

    public abstract class Array : ICloneable, System.Collections.IList
    {
        // Reads the element count stored after the MethodTable pointer (bound by the runtime).
        [MethodImpl(MethodImplOptions.InternalCall)]
        internal extern int GetLengthInternal();

        [MethodImpl(MethodImplOptions.InternalCall)]
        extern int GetRankInternal();

        // Length (lower == false) or lower bound of a dimension in range.
        [MethodImpl(MethodImplOptions.InternalCall)]
        extern int GetDimInternal(int dimension, bool lower);

        // The element at a flat index, boxed (value types) or as is.
        [MethodImpl(MethodImplOptions.InternalCall)]
        internal extern object GetValueFlat(int index);

        // 0, or 1 when value's type does not fit the element type.
        [MethodImpl(MethodImplOptions.InternalCall)]
        extern int SetValueFlat(object value, int index);

        // 0, 1 (element types incompatible) or 2 (an element failed its cast).
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern int CopyInternal(Array source, int sourceIndex, Array destination, int destinationIndex, int length);

        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern void ClearInternal(Array array, int index, int length);

        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern void ReverseInternal(Array array, int index, int length);

        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern Array CreateInstanceInternal(IntPtr elementType, int[] lengths, int[] lowerBounds);

        public int Length { get { return GetLengthInternal(); } }

        public long LongLength { get { return GetLengthInternal(); } }

        public int Rank { get { return GetRankInternal(); } }

        public bool IsFixedSize { get { return true; } }

        public bool IsReadOnly { get { return false; } }

        public int GetLength(int dimension)
        {
            CheckDimension(dimension);
            return GetDimInternal(dimension, false);
        }

        public int GetLowerBound(int dimension)
        {
            CheckDimension(dimension);
            return GetDimInternal(dimension, true);
        }

        public int GetUpperBound(int dimension)
        {
            CheckDimension(dimension);
            return GetDimInternal(dimension, true) + GetDimInternal(dimension, false) - 1;
        }

        void CheckDimension(int dimension)
        {
            if (dimension < 0 || dimension >= GetRankInternal()) throw new IndexOutOfRangeException();
        }

        // The flat index of element [i0, i1, ...] given as `rank` indices.
        int Flat1(int i0)
        {
            if (GetRankInternal() != 1) throw new ArgumentException("Only single dimension arrays are supported here.");
            return Dim(0, i0, 0);
        }

        int Flat2(int i0, int i1)
        {
            if (GetRankInternal() != 2) throw new ArgumentException("Indices length does not match the array rank.");
            return Dim(1, i1, Dim(0, i0, 0));
        }

        int Flat3(int i0, int i1, int i2)
        {
            if (GetRankInternal() != 3) throw new ArgumentException("Indices length does not match the array rank.");
            return Dim(2, i2, Dim(1, i1, Dim(0, i0, 0)));
        }

        int FlatN(int[] indices)
        {
            if (indices == null) throw new ArgumentNullException("indices");
            int rank = GetRankInternal();
            if (indices.Length != rank) throw new ArgumentException("Indices length does not match the array rank.");
            int flat = 0;
            for (int k = 0; k < rank; k++) flat = Dim(k, indices[k], flat);
            return flat;
        }

        // Folds index `i` of dimension `k` into the flat index so far.
        int Dim(int k, int i, int flat)
        {
            int len = GetDimInternal(k, false);
            int rel = i - GetDimInternal(k, true);
            if ((uint)rel >= (uint)len) throw new IndexOutOfRangeException();
            return flat * len + rel;
        }

        public object GetValue(int index) { return GetValueFlat(Flat1(index)); }
        public object GetValue(int index1, int index2) { return GetValueFlat(Flat2(index1, index2)); }
        public object GetValue(int index1, int index2, int index3) { return GetValueFlat(Flat3(index1, index2, index3)); }
        public object GetValue(params int[] indices) { return GetValueFlat(FlatN(indices)); }

        public void SetValue(object value, int index) { Store(value, Flat1(index)); }
        public void SetValue(object value, int index1, int index2) { Store(value, Flat2(index1, index2)); }
        public void SetValue(object value, int index1, int index2, int index3) { Store(value, Flat3(index1, index2, index3)); }
        public void SetValue(object value, params int[] indices) { Store(value, FlatN(indices)); }

        void Store(object value, int flat)
        {
            if (SetValueFlat(value, flat) != 0)
                throw new InvalidCastException("Object cannot be stored in an array of this type.");
        }

        public object Clone() { return MemberwiseClone(); }

        // The generic interfaces of T[] are in ArrayInterfaces.cs.
        public System.Collections.IEnumerator GetEnumerator() { return new ArrayBoxEnumerator(this); }

        // ---- System.Collections.IList and ICollection (fixed size) --------------

        int System.Collections.ICollection.Count { get { return Length; } }
        public bool IsSynchronized { get { return false; } }
        public object SyncRoot { get { return this; } }

        public void CopyTo(Array array, int index)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (GetRankInternal() != 1) throw new RankException("Only single dimension arrays are supported here.");
            Copy(this, GetDimInternal(0, true), array, index, Length);
        }

        object System.Collections.IList.this[int index]
        {
            get { return GetValue(index); }
            set { SetValue(value, index); }
        }

        int System.Collections.IList.Add(object value) { throw new NotSupportedException("Collection was of a fixed size."); }
        void System.Collections.IList.Clear() { Clear(this, GetDimInternal(0, true), Length); }
        bool System.Collections.IList.Contains(object value) { return IndexOf(this, value) >= GetDimInternal(0, true); }
        int System.Collections.IList.IndexOf(object value) { return IndexOf(this, value); }
        void System.Collections.IList.Insert(int index, object value) { throw new NotSupportedException("Collection was of a fixed size."); }
        void System.Collections.IList.Remove(object value) { throw new NotSupportedException("Collection was of a fixed size."); }
        void System.Collections.IList.RemoveAt(int index) { throw new NotSupportedException("Collection was of a fixed size."); }

        // ---- creation ---------------------------------------------------------

        public static Array CreateInstance(Type elementType, int length)
        {
            return CreateInstance(elementType, new int[] { length });
        }

        public static Array CreateInstance(Type elementType, int length1, int length2)
        {
            return CreateInstance(elementType, new int[] { length1, length2 });
        }

        public static Array CreateInstance(Type elementType, int length1, int length2, int length3)
        {
            return CreateInstance(elementType, new int[] { length1, length2, length3 });
        }

        public static Array CreateInstance(Type elementType, params int[] lengths)
        {
            return CreateInstance(elementType, lengths, null);
        }

        public static Array CreateInstance(Type elementType, int[] lengths, int[] lowerBounds)
        {
            if (elementType == null) throw new ArgumentNullException("elementType");
            if (lengths == null) throw new ArgumentNullException("lengths");
            if (lengths.Length == 0) throw new ArgumentException("Must provide at least one rank.");
            if (lowerBounds != null && lowerBounds.Length != lengths.Length)
                throw new ArgumentException("The length of the lowerBounds array must match the length of the lengths array.");
            for (int i = 0; i < lengths.Length; i++)
                if (lengths[i] < 0) throw new ArgumentOutOfRangeException("lengths");
            IntPtr h = elementType.m_handle;
            if (h.ToInt64() == 0) throw new ArgumentException("Type must be a type provided by the runtime.");
            return CreateInstanceInternal(h, lengths, lowerBounds);
        }

        public static T[] Empty<T>() { return EmptyArray<T>.Value; }

        public static void Resize<T>(ref T[] array, int newSize)
        {
            if (newSize < 0) throw new ArgumentOutOfRangeException("newSize");
            T[] old = array;
            if (old == null) { array = new T[newSize]; return; }
            if (old.Length == newSize) return;
            T[] a = new T[newSize];
            Copy(old, 0, a, 0, old.Length < newSize ? old.Length : newSize);
            array = a;
        }

        // ---- copy, clear, fill ----------------------------------------------

        public static void Copy(Array sourceArray, Array destinationArray, int length)
        {
            if (sourceArray == null) throw new ArgumentNullException("sourceArray");
            if (destinationArray == null) throw new ArgumentNullException("destinationArray");
            Copy(sourceArray, sourceArray.GetDimInternal(0, true), destinationArray,
                destinationArray.GetDimInternal(0, true), length);
        }

        public static void Copy(Array sourceArray, int sourceIndex, Array destinationArray, int destinationIndex, int length)
        {
            if (sourceArray == null) throw new ArgumentNullException("sourceArray");
            if (destinationArray == null) throw new ArgumentNullException("destinationArray");
            if (sourceArray.GetRankInternal() != destinationArray.GetRankInternal())
                throw new RankException("Only single dimension arrays are supported here.");
            if (length < 0) throw new ArgumentOutOfRangeException("length");
            int si = sourceIndex - sourceArray.GetDimInternal(0, true);
            int di = destinationIndex - destinationArray.GetDimInternal(0, true);
            if (si < 0) throw new ArgumentOutOfRangeException("sourceIndex");
            if (di < 0) throw new ArgumentOutOfRangeException("destinationIndex");
            if (si > sourceArray.Length - length) throw new ArgumentException("Source array was not long enough.");
            if (di > destinationArray.Length - length) throw new ArgumentException("Destination array was not long enough.");
            int r = CopyInternal(sourceArray, si, destinationArray, di, length);
            if (r == 1) throw new ArrayTypeMismatchException("Source array type cannot be assigned to destination array type.");
            if (r == 2) throw new InvalidCastException("At least one element in the source array could not be cast down to the destination array type.");
        }

        public static void ConstrainedCopy(Array sourceArray, int sourceIndex, Array destinationArray, int destinationIndex, int length)
        {
            Copy(sourceArray, sourceIndex, destinationArray, destinationIndex, length);
        }

        public static void Clear(Array array, int index, int length)
        {
            if (array == null) throw new ArgumentNullException("array");
            int i = index - array.GetDimInternal(0, true);
            if (i < 0 || length < 0 || i > array.Length - length) throw new IndexOutOfRangeException();
            ClearInternal(array, i, length);
        }

        public static void Fill<T>(T[] array, T value)
        {
            if (array == null) throw new ArgumentNullException("array");
            for (int i = 0; i < array.Length; i++) array[i] = value;
        }

        public static void Fill<T>(T[] array, T value, int startIndex, int count)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (startIndex < 0 || startIndex > array.Length) throw new ArgumentOutOfRangeException("startIndex");
            if (count < 0 || startIndex > array.Length - count) throw new ArgumentOutOfRangeException("count");
            for (int i = startIndex; i < startIndex + count; i++) array[i] = value;
        }

        // ---- search ------------------------------------------------------------

        public static int IndexOf(Array array, object value)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (array.GetRankInternal() != 1) throw new RankException("Only single dimension arrays are supported here.");
            int n = array.Length;
            for (int i = 0; i < n; i++)
            {
                object o = array.GetValueFlat(i);
                if (o == null ? value == null : o.Equals(value)) return i + array.GetDimInternal(0, true);
            }
            return array.GetDimInternal(0, true) - 1;
        }

        public static int IndexOf<T>(T[] array, T value)
        {
            if (array == null) throw new ArgumentNullException("array");
            return IndexOf(array, value, 0, array.Length);
        }

        public static int IndexOf<T>(T[] array, T value, int startIndex)
        {
            if (array == null) throw new ArgumentNullException("array");
            return IndexOf(array, value, startIndex, array.Length - startIndex);
        }

        public static int IndexOf<T>(T[] array, T value, int startIndex, int count)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (startIndex < 0 || startIndex > array.Length) throw new ArgumentOutOfRangeException("startIndex");
            if (count < 0 || startIndex > array.Length - count) throw new ArgumentOutOfRangeException("count");
            EqualityComparer<T> c = EqualityComparer<T>.Default;
            for (int i = startIndex; i < startIndex + count; i++)
                if (c.Equals(array[i], value)) return i;
            return -1;
        }

        public static int LastIndexOf<T>(T[] array, T value)
        {
            if (array == null) throw new ArgumentNullException("array");
            EqualityComparer<T> c = EqualityComparer<T>.Default;
            for (int i = array.Length - 1; i >= 0; i--)
                if (c.Equals(array[i], value)) return i;
            return -1;
        }

        public static bool Exists<T>(T[] array, Predicate<T> match)
        {
            return FindIndex(array, match) >= 0;
        }

        public static int FindIndex<T>(T[] array, Predicate<T> match)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (match == null) throw new ArgumentNullException("match");
            for (int i = 0; i < array.Length; i++)
                if (match(array[i])) return i;
            return -1;
        }

        // ---- reverse and sort --------------------------------------------------

        public static void Reverse(Array array)
        {
            if (array == null) throw new ArgumentNullException("array");
            Reverse(array, array.GetDimInternal(0, true), array.Length);
        }

        public static void Reverse(Array array, int index, int length)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (array.GetRankInternal() != 1) throw new RankException("Only single dimension arrays are supported here.");
            int i = index - array.GetDimInternal(0, true);
            if (i < 0) throw new ArgumentOutOfRangeException("index");
            if (length < 0) throw new ArgumentOutOfRangeException("length");
            if (i > array.Length - length) throw new ArgumentException("Offset and length were out of bounds for the array.");
            ReverseInternal(array, i, length);
        }

        public static void Reverse<T>(T[] array)
        {
            Reverse((Array)array);
        }

        public static void Sort(Array array)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (array.GetRankInternal() != 1) throw new RankException("Only single dimension arrays are supported here.");
            int n = array.Length;
            object[] tmp = new object[n];
            for (int i = 0; i < n; i++) tmp[i] = array.GetValueFlat(i);
            SortRange(tmp, 0, n, Comparer<object>.Default);
            for (int i = 0; i < n; i++) array.SetValueFlat(tmp[i], i);
        }

        public static void Sort<T>(T[] array)
        {
            if (array == null) throw new ArgumentNullException("array");
            SortRange(array, 0, array.Length, Comparer<T>.Default);
        }

        public static void Sort<T>(T[] array, IComparer<T> comparer)
        {
            if (array == null) throw new ArgumentNullException("array");
            SortRange(array, 0, array.Length, comparer ?? Comparer<T>.Default);
        }

        public static void Sort<T>(T[] array, int index, int length)
        {
            Sort(array, index, length, null);
        }

        public static void Sort<T>(T[] array, int index, int length, IComparer<T> comparer)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (index < 0) throw new ArgumentOutOfRangeException("index");
            if (length < 0) throw new ArgumentOutOfRangeException("length");
            if (index > array.Length - length) throw new ArgumentException("Offset and length were out of bounds for the array.");
            SortRange(array, index, index + length, comparer ?? Comparer<T>.Default);
        }

        public static void Sort<T>(T[] array, Comparison<T> comparison)
        {
            if (array == null) throw new ArgumentNullException("array");
            if (comparison == null) throw new ArgumentNullException("comparison");
            SortRange(array, 0, array.Length, new ComparisonSorter<T>(comparison));
        }

        // Sorts a[lo, hi): quicksort (median of three, Hoare partition) recursing
        // into the smaller part, insertion sort below 16 elements. Not stable,
        // like .NET's.
        static void SortRange<T>(T[] a, int lo, int hi, IComparer<T> c)
        {
            while (hi - lo > 16)
            {
                int mid = lo + (hi - lo) / 2;
                if (c.Compare(a[mid], a[lo]) < 0) Swap(a, lo, mid);
                if (c.Compare(a[hi - 1], a[lo]) < 0) Swap(a, lo, hi - 1);
                if (c.Compare(a[hi - 1], a[mid]) < 0) Swap(a, mid, hi - 1);
                T p = a[mid];
                int i = lo, j = hi - 1;
                while (i <= j)
                {
                    while (c.Compare(a[i], p) < 0) i++;
                    while (c.Compare(p, a[j]) < 0) j--;
                    if (i <= j) { Swap(a, i, j); i++; j--; }
                }
                if (j - lo < hi - 1 - i) { SortRange(a, lo, j + 1, c); lo = i; }
                else { SortRange(a, i, hi, c); hi = j + 1; }
            }
            for (int k = lo + 1; k < hi; k++)
            {
                T v = a[k];
                int m = k - 1;
                while (m >= lo && c.Compare(a[m], v) > 0) { a[m + 1] = a[m]; m--; }
                a[m + 1] = v;
            }
        }

        static void Swap<T>(T[] a, int i, int j)
        {
            T t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    internal sealed class ComparisonSorter<T> : IComparer<T>
    {
        readonly Comparison<T> comparison;
        internal ComparisonSorter(Comparison<T> comparison) { this.comparison = comparison; }
        public int Compare(T x, T y) { return comparison(x, y); }
    }

    internal static class EmptyArray<T>
    {
        internal static readonly T[] Value = new T[0];
    }

    public static class Buffer
    {
        // The array's size in bytes, or -1 when its elements are not primitives.
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern int ByteLengthInternal(Array array);

        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern void BlockCopyInternal(Array src, int srcOffset, Array dst, int dstOffset, int count);

        public static int ByteLength(Array array)
        {
            if (array == null) throw new ArgumentNullException("array");
            int n = ByteLengthInternal(array);
            if (n < 0) throw new ArgumentException("Object must be an array of primitives.");
            return n;
        }

        public static void BlockCopy(Array src, int srcOffset, Array dst, int dstOffset, int count)
        {
            if (src == null) throw new ArgumentNullException("src");
            if (dst == null) throw new ArgumentNullException("dst");
            int sl = ByteLength(src);
            int dl = ByteLength(dst);
            if (srcOffset < 0) throw new ArgumentOutOfRangeException("srcOffset");
            if (dstOffset < 0) throw new ArgumentOutOfRangeException("dstOffset");
            if (count < 0) throw new ArgumentOutOfRangeException("count");
            if (srcOffset > sl - count || dstOffset > dl - count)
                throw new ArgumentException("Offset and length were out of bounds for the array.");
            BlockCopyInternal(src, srcOffset, dst, dstOffset, count);
        }
    }
}
