//! ArrayInterfaces.cs: vectors T[] as the generic collection interfaces (ECMA-335
// Partition I §8.9.1, Partition II §14.1; issue 12, items 4 and 6): is/as/casts of
// int[], struct[], enum[], string[] and class[] to IList<T>, ICollection<T>,
// IEnumerable<T>, IReadOnlyList<T>, IReadOnlyCollection<T>, covariance of reference
// element types (string[] as IEnumerable<object>), null and wrong-element casts;
// calls through them (Count, indexer get/set and its bounds, Contains, IndexOf,
// CopyTo, the enumerator, Add/Remove/Insert/RemoveAt/Clear throwing
// NotSupportedException), foreach over an IEnumerable<T> that is an array, and
// collections built from arrays (List<T>, HashSet<T>: JIT-only, mono keeps it in
// System.Core.dll). Also System.Array's non-generic IEnumerable, IList and
// ICollection, and array-element compatibility (§I.8.7.1: int[] is a uint[] and an
// IList<uint>, an enum array an array of its underlying type).
using System;
using System.Collections;
using System.Collections.Generic;

namespace Corpus
{
    public struct AiPoint : IEquatable<AiPoint>
    {
        public int X;
        public int Y;
        public AiPoint(int x, int y) { X = x; Y = y; }
        public bool Equals(AiPoint o) { return X == o.X && Y == o.Y; }
    }

    // 24 bytes: returned through a hidden buffer.
    public struct AiWide
    {
        public long A;
        public long B;
        public long C;
        public AiWide(long a, long b, long c) { A = a; B = b; C = c; }
    }

    public enum AiColour { Red, Green, Blue }

    public interface IAiShape { int Sides(); }

    public class AiShape : IAiShape
    {
        public int N;
        public AiShape(int n) { N = n; }
        public int Sides() { return N; }
    }

    public sealed class AiSquare : AiShape
    {
        public AiSquare() : base(4) { }
    }

    public static class ArrayInterfaces
    {
        static object O(object o) { return o; }

        static int Sum(IEnumerable<int> xs)
        {
            int s = 0;
            foreach (int x in xs) s += x;
            return s;
        }

        static int CountOf<T>(ICollection<T> c) { return c.Count; }

        static void FillAll<T>(IList<T> l, T v)
        {
            for (int i = 0; i < l.Count; i++) l[i] = v;
        }

        static T Last<T>(IReadOnlyList<T> l) { return l[l.Count - 1]; }

        static int Throws(Action a)
        {
            try { a(); return 0; } catch (NotSupportedException) { return 1; }
        }

        // ---- casts -----------------------------------------------------------

        [Expect("11111")]
        public static int IntArrayIsEveryInterface()
        {
            object o = O(new int[] { 1, 2, 3 });
            return (o is IEnumerable<int> ? 1 : 0) + (o is ICollection<int> ? 10 : 0)
                + (o is IList<int> ? 100 : 0) + (o is IReadOnlyList<int> ? 1000 : 0)
                + (o is IReadOnlyCollection<int> ? 10000 : 0);
        }

        [Expect("0")]
        public static int IntArrayIsNotOtherElementTypes()
        {
            object o = O(new int[2]);
            return (o is IEnumerable<long> ? 1 : 0) + (o is IList<object> ? 10 : 0)
                + (o is IEnumerable<string> ? 100 : 0) + (o is ICollection<short> ? 1000 : 0);
        }

        [Expect("1")]
        public static int WrongElementCastThrows()
        {
            object o = O(new int[2]);
            try { IList<string> l = (IList<string>)o; return l.Count + 10; }
            catch (InvalidCastException) { return 1; }
        }

        [Expect("1")]
        public static int ValueElementIsNotCovariant()
        {
            object o = O(new int[2]);
            try { IEnumerable<object> e = (IEnumerable<object>)o; return e == null ? 20 : 10; }
            catch (InvalidCastException) { return 1; }
        }

        [Expect("11")]
        public static int NullArrayCasts()
        {
            int[] a = null;
            IList<int> l = (IList<int>)O(a);
            IEnumerable<int> e = O(a) as IEnumerable<int>;
            return (l == null ? 1 : 0) + (e == null ? 10 : 0) + (O(a) is ICollection<int> ? 100 : 0);
        }

        [Expect("1")]
        public static int AsWrongElementIsNull()
        {
            return O(new string[1]) as IList<int> == null ? 1 : 0;
        }

        // Array-element compatibility (§I.8.7.1): signed and unsigned integers
        // of one width, and an enum and its underlying type, are one element type.
        [Expect("1111")]
        public static int SameWidthIntegerArraysAreCompatible()
        {
            object o = O(new int[] { -1, 2 });
            return (o is uint[] ? 1 : 0) + (o is IList<uint> ? 10 : 0)
                + (O(new byte[1]) is sbyte[] ? 100 : 0) + (O(new ulong[1]) is long[] ? 1000 : 0);
        }

        [Expect("-1")]
        public static int UintViewOfAnIntArray()
        {
            uint[] u = (uint[])O(new int[] { 7, -1 });
            return (int)u[1];
        }

        [Expect("1111")]
        public static int EnumArraysAreArraysOfTheUnderlyingType()
        {
            object c = O(new AiColour[] { AiColour.Blue });
            int[] i = (int[])c;
            return (c is int[] ? 1 : 0) + (c is IList<uint> ? 10 : 0)
                + (O(new int[1]) is AiColour[] ? 100 : 0) + (i[0] == 2 ? 1000 : 0);
        }

        [Expect("0")]
        public static int OtherElementTypesStayDistinct()
        {
            return (O(new char[1]) is ushort[] ? 1 : 0) + (O(new bool[1]) is byte[] ? 10 : 0)
                + (O(new int[1]) is float[] ? 100 : 0) + (O(new int[1]) is long[] ? 1000 : 0)
                + (O(new uint[1]) is IList<short> ? 10000 : 0);
        }

        // System.Array's non-generic IList and ICollection (fixed size).
        [Expect("5211")]
        public static int ArrayAsNonGenericIList()
        {
            IList l = (IList)O(new int[] { 1, 5 });
            ICollection c = l;
            return (int)l[1] * 1000 + c.Count * 100 + (l.Contains(5) ? 10 : 0) + l.IndexOf(5);
        }

        [Expect("9311")]
        public static int NonGenericIListWritesAndCopies()
        {
            string[] s = new string[] { "a", "b" };
            IList l = s;
            l[0] = "xyz";
            object[] dst = new object[3];
            ((ICollection)l).CopyTo(dst, 1);
            int fixedSize = 0;
            try { l.Add("c"); } catch (NotSupportedException) { fixedSize = 1; }
            return (s[0] == "xyz" ? 9000 : 0) + ((string)dst[1]).Length * 100 + (dst[0] == null ? 10 : 0)
                + (fixedSize == 1 && l.IsFixedSize ? 1 : 0);
        }

        [Expect("1")]
        public static int NonGenericIListSetterChecksTheElementType()
        {
            IList l = new int[2];
            try { l[0] = "no"; return 0; } catch (InvalidCastException) { return 1; }
        }

        [Expect("111")]
        public static int StructAndEnumArrays()
        {
            object p = O(new AiPoint[1]);
            object c = O(new AiColour[1]);
            return (p is IList<AiPoint> ? 1 : 0) + (c is IReadOnlyList<AiColour> ? 10 : 0)
                + (p is IEnumerable<object> ? 0 : 100);
        }

        [Expect("11111")]
        public static int StringArrayCovariance()
        {
            object o = O(new string[] { "x", "yy" });
            return (o is IEnumerable<object> ? 1 : 0) + (o is IList<object> ? 10 : 0)
                + (o is IReadOnlyList<object> ? 100 : 0) + (o is IEnumerable<string> ? 1000 : 0)
                + (o is ICollection<object> ? 10000 : 0);
        }

        [Expect("1111")]
        public static int ClassArrayCovariance()
        {
            object o = O(new AiSquare[] { new AiSquare() });
            return (o is IList<AiShape> ? 1 : 0) + (o is IEnumerable<IAiShape> ? 10 : 0)
                + (o is IReadOnlyCollection<AiSquare> ? 100 : 0) + (o is IList<string> ? 0 : 1000);
        }

        [Expect("111")]
        public static int JaggedArrays()
        {
            object a = O(new int[2][]);
            object s = O(new string[1][]);
            return (a is IList<int[]> ? 1 : 0) + (s is IEnumerable<object[]> ? 10 : 0)
                + (a is IEnumerable<long[]> ? 0 : 100);
        }

        [Expect("10")]
        public static int MultiDimArrayIsNotIList()
        {
            object o = O(new int[2, 2]);
            return (o is IList<int> ? 1 : 0) + (o is IEnumerable ? 10 : 0);
        }

        [Expect("31")]
        public static int ArraysStoredInInterfaceArrays()
        {
            IEnumerable<int>[] es = new IEnumerable<int>[2];
            es[0] = new int[] { 1, 2 };
            es[1] = new List<int>(new int[] { 3 });
            object[] os = new IList<string>[1];
            int r = Sum(es[0]) * 10 + Sum(es[1]) - 3;
            try { os[0] = new int[1]; } catch (ArrayTypeMismatchException) { r += 1; }
            os[0] = new string[0];
            return r;
        }

        [Expect("2")]
        public static int ArrayCopyIntoInterfaceArray()
        {
            int[][] src = { new int[] { 1 }, new int[] { 2, 3 } };
            IList<int>[] dst = new IList<int>[2];
            Array.Copy(src, dst, 2);
            return dst[1].Count;
        }

        // ---- calls through the interfaces ---------------------------------------

        [Expect("356")]
        public static int CountAndIndexer()
        {
            IList<int> l = new int[] { 4, 5, 6 };
            return l.Count * 100 + l[1] * 10 + l[2];
        }

        [Expect("42")]
        public static int IndexerSetIsVisibleInArray()
        {
            int[] a = new int[3];
            IList<int> l = a;
            l[1] = 42;
            return a[1] + a[0] + a[2];
        }

        [Expect("77")]
        public static int ArrayWriteIsVisibleThroughInterface()
        {
            int[] a = new int[3];
            IReadOnlyList<int> l = a;
            a[2] = 77;
            return l[2];
        }

        [Expect("-1")]
        public static int IndexerOutOfRange()
        {
            IList<int> l = new int[2];
            try { return l[2]; } catch (ArgumentOutOfRangeException) { return -1; }
        }

        [Expect("-2")]
        public static int IndexerSetNegativeIndex()
        {
            IList<int> l = new int[2];
            try { l[-1] = 3; return 0; } catch (ArgumentOutOfRangeException) { return -2; }
        }

        [Expect("120")]
        public static int ContainsAndIndexOf()
        {
            IList<int> l = new int[] { 3, 1, 4, 1, 5 };
            return (l.Contains(4) ? 100 : 0) + (l.Contains(9) ? 1000 : 0) + l.IndexOf(1) * 10
                + (l.IndexOf(7) + 1) + (l.IndexOf(3) == 0 ? 10 : 0);
        }

        [Expect("120")]
        public static int CopyTo()
        {
            ICollection<int> c = new int[] { 1, 2 };
            int[] d = new int[4];
            c.CopyTo(d, 1);
            return d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3];
        }

        [Expect("1")]
        public static int CopyToTooSmallThrows()
        {
            ICollection<int> c = new int[] { 1, 2 };
            try { c.CopyTo(new int[2], 1); return 0; } catch (ArgumentException) { return 1; }
        }

        [Expect("1")]
        public static int IsReadOnly()
        {
            ICollection<int> c = new int[1];
            return c.IsReadOnly ? 1 : 0;
        }

        [Expect("1")]
        public static int AddThrowsNotSupported()
        {
            IList<int> l = new int[2];
            try { l.Add(1); return 0; } catch (NotSupportedException) { return 1; }
        }

        [Expect("5")]
        public static int EveryResizeThrowsNotSupported()
        {
            IList<string> l = new string[] { "a", "b" };
            return Throws(() => l.Add("c")) + Throws(() => l.Remove("a")) + Throws(() => l.Insert(0, "c"))
                + Throws(() => l.RemoveAt(0)) + Throws(() => l.Clear());
        }

        [Expect("1")]
        public static int ResizeAttemptsLeaveArrayAlone()
        {
            string[] a = { "a", "b" };
            IList<string> l = a;
            try { l.Remove("a"); } catch (NotSupportedException) { }
            try { l.Clear(); } catch (NotSupportedException) { }
            return a[0] + a[1] + (l.Count == 2 ? "" : "!") == "ab" ? 1 : 0;
        }

        [Expect("81")]
        public static int StructElements()
        {
            AiPoint[] a = { new AiPoint(1, 2), new AiPoint(3, 4) };
            IList<AiPoint> l = a;
            l[0] = new AiPoint(5, 6);
            AiPoint p = l[1];
            int s = 0;
            foreach (AiPoint q in l) s += q.X;
            return s * 10 + (a[0].Y == 6 ? 1 : 0) + p.X - 3 + (l.Contains(new AiPoint(3, 4)) ? 0 : 100);
        }

        [Expect("1")]
        public static int StructIndexOf()
        {
            IList<AiPoint> l = new AiPoint[] { new AiPoint(1, 2), new AiPoint(3, 4) };
            return l.IndexOf(new AiPoint(3, 4)) + l.IndexOf(new AiPoint(3, 5)) + 1;
        }

        [Expect("456")]
        public static long WideStructElements()
        {
            IReadOnlyList<AiWide> l = new AiWide[] { new AiWide(1, 2, 3), new AiWide(4, 5, 6) };
            AiWide w = l[1];
            return w.A * 100 + w.B * 10 + w.C;
        }

        [Expect("2.5")]
        public static double DoubleElements()
        {
            IList<double> l = new double[] { 1.25, 0 };
            l[1] = l[0] * 2;
            return l[1] + l.Count * 0;
        }

        [Expect("258")]
        public static int ByteElements()
        {
            IList<byte> l = new byte[] { 255, 0 };
            l[1] = 3;
            return l[0] + l[1];
        }

        [Expect("2")]
        public static int EnumElements()
        {
            IList<AiColour> l = new AiColour[] { AiColour.Red, AiColour.Blue };
            return (int)l[1] + l.IndexOf(AiColour.Green) + 1;
        }

        [Expect("7")]
        public static int GenericMethodsOverArrays()
        {
            int[] a = new int[3];
            FillAll(a, 2);
            return CountOf(new string[] { "a" }) + Sum(a) + CountOf<AiPoint>(new AiPoint[0]);
        }

        [Expect("1")]
        public static int ReadOnlyListOfStrings()
        {
            return Last<string>(new string[] { "x", "y", "z" }) == "z" ? 1 : 0;
        }

        // ---- covariant views --------------------------------------------------

        [Expect("1")]
        public static int CovariantEnumeration()
        {
            IEnumerable<object> e = new string[] { "a", "b", "c" };
            string s = "";
            foreach (object x in e) s += x;
            return s == "abc" ? 1 : 0;
        }

        [Expect("1")]
        public static int CovariantSetOfRightType()
        {
            string[] a = new string[2];
            IList<object> l = a;
            l[1] = "z";
            return a[1] == "z" && a[0] == null ? 1 : 0;
        }

        [Expect("1")]
        public static int CovariantSetOfWrongTypeThrows()
        {
            IList<object> l = new string[1];
            try { l[0] = 5; return 0; } catch (ArrayTypeMismatchException) { return 1; }
        }

        [Expect("1")]
        public static int CovariantIndexOfAndContains()
        {
            IList<object> l = new string[] { "p", "q" };
            return l.IndexOf("q") + (l.Contains("r") ? 10 : 0) + (l.Contains(3) ? 10 : 0);
        }

        [Expect("9")]
        public static int CovariantInterfaceElements()
        {
            IEnumerable<IAiShape> e = new AiShape[] { new AiSquare(), new AiShape(3), new AiShape(2) };
            int n = 0;
            foreach (IAiShape s in e) n += s.Sides();
            return n;
        }

        [Expect("2")]
        public static int CovariantCopyTo()
        {
            ICollection<object> c = new string[] { "a", "b" };
            object[] d = new object[2];
            c.CopyTo(d, 0);
            return ((string)d[0] + (string)d[1]).Length;
        }

        // ---- enumerators --------------------------------------------------------

        [Expect("10")]
        public static int ForeachOverIEnumerable()
        {
            return Sum(new int[] { 1, 2, 3, 4 });
        }

        [Expect("0")]
        public static int EmptyArrayEnumerator()
        {
            IEnumerable<int> e = new int[0];
            IEnumerator<int> en = e.GetEnumerator();
            int n = 0;
            while (en.MoveNext()) n++;
            foreach (int x in e) n += 1 + x;
            return n + (en.MoveNext() ? 100 : 0);
        }

        [Expect("3")]
        public static int CurrentOutsideTheArrayThrows()
        {
            IEnumerator<int> en = ((IEnumerable<int>)new int[] { 7 }).GetEnumerator();
            int r = 0;
            try { r += en.Current; } catch (InvalidOperationException) { r += 1; }
            en.MoveNext();
            en.MoveNext();
            try { r += en.Current; } catch (InvalidOperationException) { r += 2; }
            return r;
        }

        [Expect("26")]
        public static int EnumeratorReset()
        {
            IEnumerator<int> en = ((IEnumerable<int>)new int[] { 2, 6 }).GetEnumerator();
            en.MoveNext();
            en.MoveNext();
            int last = en.Current;
            en.Reset();
            en.MoveNext();
            return en.Current * 10 + last;
        }

        [Expect("15")]
        public static int EnumeratorSeesArrayWrites()
        {
            int[] a = { 1, 2, 3 };
            int s = 0;
            foreach (int x in (IEnumerable<int>)a) { s += x; a[2] = 12; }
            return s;
        }

        [Expect("6")]
        public static int NonGenericIEnumerable()
        {
            IEnumerable e = new int[] { 1, 2, 3 };
            int s = 0;
            foreach (object x in e) s += (int)x;
            return s;
        }

        [Expect("1")]
        public static int NonGenericEnumeratorOfGenericView()
        {
            IEnumerable<string> g = new string[] { "x", "y" };
            IEnumerator en = ((IEnumerable)g).GetEnumerator();
            string s = "";
            while (en.MoveNext()) s += (string)en.Current;
            return s == "xy" ? 1 : 0;
        }

        static int SumConstrained<T>(T xs) where T : IEnumerable<int>
        {
            int s = 0;
            foreach (int x in xs) s += x;
            return s;
        }

        [Expect("6")]
        public static int ConstrainedCallOnArrayTypeArgument()
        {
            return SumConstrained(new int[] { 1, 2, 3 });
        }

        [Expect("11")]
        public static int DelegateToInterfaceMethodOfArray()
        {
            ICollection<int> c = new int[] { 1, 2, 3 };
            Func<int, bool> has = c.Contains;
            Func<int, int> at = ((IList<int>)new int[] { 5, 10 }).IndexOf;
            return (has(2) ? 1 : 0) + (has(4) ? 100 : 0) + at(10) * 10;
        }

        [Expect("21")]
        public static int OneCallSiteManyReceivers()
        {
            IList<int>[] ls = { new int[] { 1, 2 }, new List<int>(new int[] { 3, 4, 5 }), new int[] { 6 }, new int[0] };
            int n = 0;
            for (int k = 0; k < ls.Length; k++)
                for (int i = 0; i < ls[k].Count; i++) n += ls[k][i];
            return n;
        }

        [Expect("18")]
        public static int OneCallSiteManyElementTypes()
        {
            object[] arrays = { new string[] { "ab" }, new AiShape[] { new AiSquare() }, new object[] { 1, 2 }, new int[3] };
            int n = 0;
            for (int k = 0; k < arrays.Length; k++)
            {
                IEnumerable<object> e = arrays[k] as IEnumerable<object>;
                if (e == null) { n += 10; continue; }
                foreach (object o in e) n += 1;
                ICollection<object> c = (ICollection<object>)arrays[k];
                n += c.Count;
            }
            return n;
        }

        // ---- collections built from arrays ----------------------------------------

        [Expect("312")]
        public static int ListFromIntArray()
        {
            List<int> l = new List<int>(new int[] { 5, 6, 7 });
            return l.Count * 100 + l[0] + l[2];
        }

        [Expect("1")]
        public static int ListFromStringArray()
        {
            List<string> l = new List<string>(new string[] { "a", "bc" });
            return l[0] + l[1] == "abc" && l.Count == 2 ? 1 : 0;
        }

        [Expect("4")]
        public static int ListAddRangeOfArray()
        {
            List<AiPoint> l = new List<AiPoint>();
            l.AddRange(new AiPoint[] { new AiPoint(1, 1), new AiPoint(3, 3) });
            return l[0].X + l[1].Y;
        }

        [Expect("3")]
        public static int HashSetFromArray()
        {
            HashSet<int> h = new HashSet<int>(new int[] { 1, 2, 2, 3, 3, 3 });
            return h.Count;
        }

        [Expect("2")]
        public static int HashSetSetOpsWithArrays()
        {
            HashSet<string> h = new HashSet<string>(new string[] { "a", "b", "c" });
            h.ExceptWith(new string[] { "b" });
            h.UnionWith(new string[] { "a", "d" });
            h.IntersectWith(new string[] { "a", "d", "e" });
            return h.Count;
        }
    }
}
