// Arrays.cs: newarr, ldlen, ldelem/stelem of every element kind (i1 u1 i2 u2 i4 u4 i8
// r4 r8 ref, char, bool), ldelema, index math, bounds and null checks, array
// initializers (RuntimeHelpers.InitializeArray), arrays of arrays; covariant
// reference arrays; the Array statics (Copy, Clear, Fill, IndexOf, Reverse, Sort with
// IComparable<T> and IComparer<T>, Resize), Buffer.BlockCopy and Clone.
using System;
using System.Collections.Generic;

namespace Corpus
{
    public static class Arrays
    {
        static int I(int x) { return x; }

        [Expect("10")] public static int Length() { int[] a = new int[I(10)]; return a.Length; }
        [Expect("0")] public static int EmptyLength() { long[] a = new long[I(0)]; return a.Length; }
        [Expect("0")] public static int NewArrayIsZeroed() { int[] a = new int[I(64)]; int s = 0; for (int i = 0; i < a.Length; i++) s |= a[i]; return s; }
        [Expect("-128")] public static int SByteElem() { sbyte[] a = new sbyte[2]; a[1] = -128; return a[1]; }
        [Expect("255")] public static int ByteElem() { byte[] a = new byte[2]; a[1] = 255; return a[1]; }
        [Expect("44")] public static int ByteElemTruncates() { byte[] a = new byte[1]; a[0] = unchecked((byte)I(300)); return a[0]; }
        [Expect("-32768")] public static int ShortElem() { short[] a = new short[3]; a[2] = short.MinValue; return a[2]; }
        [Expect("65535")] public static int UShortElem() { ushort[] a = new ushort[3]; a[2] = 65535; return a[2]; }
        [Expect("65535")] public static int CharElem() { char[] a = new char[3]; a[1] = '\uffff'; return a[1]; }
        [Expect("-2147483648")] public static int IntElem() { int[] a = new int[3]; a[0] = int.MinValue; return a[0]; }
        [Expect("4294967295")] public static uint UIntElem() { uint[] a = new uint[3]; a[0] = uint.MaxValue; return a[0]; }
        [Expect("4294967295")] public static long UIntElemZeroExtends() { uint[] a = new uint[1]; a[0] = uint.MaxValue; long l = a[0]; return l; }
        [Expect("-9223372036854775808")] public static long LongElem() { long[] a = new long[3]; a[1] = long.MinValue; return a[1]; }
        [Expect("18446744073709551615")] public static ulong ULongElem() { ulong[] a = new ulong[3]; a[2] = ulong.MaxValue; return a[2]; }
        [Expect("1.5")] public static float FloatElem() { float[] a = new float[3]; a[1] = 1.5f; return a[1]; }
        [Expect("-2.25")] public static double DoubleElem() { double[] a = new double[3]; a[2] = -2.25; return a[2]; }
        [Expect("1")] public static bool BoolElem() { bool[] a = new bool[3]; a[2] = true; return a[2] && !a[1]; }
        [Expect("1")] public static bool RefElem() { object[] a = new object[3]; object o = new object(); a[1] = o; return a[1] == o && a[0] == null; }
        [Expect("258")]
        public static int NarrowElemsDoNotOverlap()
        {
            byte[] a = new byte[4];
            a[0] = 1; a[1] = 1; a[2] = 0; a[1]++; a[3] = 255;
            return a[0] + a[1] + a[2] + a[3];
        }
        [Expect("65536")]
        public static int ShortElemsDoNotOverlap()
        {
            short[] a = new short[3];
            a[0] = -1; a[2] = -1; a[1] = 0;
            return (ushort)a[0] + 1 + a[1];
        }
        [Expect("11")]
        public static int LdelemaRef()
        {
            int[] a = new int[3];
            Bump(ref a[1]);
            return a[1] + a[0] + a[2];
        }
        static void Bump(ref int x) { x += 11; }
        [Expect("499500")]
        public static int SumLoop()
        {
            int[] a = new int[1000];
            for (int i = 0; i < a.Length; i++) a[i] = i;
            int s = 0;
            for (int i = 0; i < a.Length; i++) s += a[i];
            return s;
        }
        [Expect("354")]
        public static long IndexMath()
        {
            long[] a = new long[100];
            for (int i = 0; i < 100; i++) a[i] = i;
            int j = I(3);
            return a[j * 11 + 2] * 9 + a[j * j] - a[a.Length - 1 - 90] + a[(j << 4) - j * 3];
        }
        [Expect("4")] public static int LongIndex() { int[] a = new int[10]; long i = 7; a[i] = 4; return a[7]; }
        [Expect("6")] public static int IndexFromByteArray() { byte[] idx = new byte[] { 9, 1 }; int[] a = new int[10]; a[idx[0]] = 6; return a[9]; }
        [Expect("15")]
        public static int Initializer()
        {
            int[] a = new int[] { 1, 2, 3, 4, 5 };
            int s = 0;
            for (int i = 0; i < a.Length; i++) s += a[i];
            return s;
        }
        [Expect("-9223372036854775807")]
        public static long InitializerLong()
        {
            long[] a = new long[] { long.MinValue, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
            return a[0] + a[1];
        }
        [Expect("1000")]
        public static int InitializerBytes()
        {
            byte[] a = new byte[] { 255, 255, 255, 235, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
            int s = 0;
            for (int i = 0; i < a.Length; i++) s += a[i];
            return s;
        }
        [Expect("3.5")]
        public static double InitializerDoubles()
        {
            double[] a = new double[] { 0.5, 1.0, 2.0 };
            return a[0] + a[1] + a[2];
        }
        [Expect("6")]
        public static int JaggedArrays()
        {
            int[][] a = new int[3][];
            for (int i = 0; i < 3; i++) { a[i] = new int[i + 1]; a[i][i] = i + 1; }
            return a[0][0] + a[1][1] + a[2][2];
        }
        [Expect("3")] public static int JaggedLengths() { int[][] a = new int[2][]; a[1] = new int[3]; return a[1].Length; }
        [ExpectError("index-out-of-range")] public static int IndexPastEnd() { int[] a = new int[3]; return a[I(3)]; }
        [ExpectError("index-out-of-range")] public static int IndexNegative() { int[] a = new int[3]; return a[I(-1)]; }
        [ExpectError("index-out-of-range")] public static int StoreOutOfRange() { byte[] a = new byte[3]; a[I(100)] = 1; return 0; }
        [ExpectError("index-out-of-range")] public static int LdelemaOutOfRange() { int[] a = new int[3]; Bump(ref a[I(5)]); return 0; }
        [ExpectError("index-out-of-range")] public static int IndexIntMin() { int[] a = new int[3]; return a[I(int.MinValue)]; }
        [ExpectError("index-out-of-range")] public static int EmptyArrayIndex() { int[] a = new int[0]; return a[0]; }
        [ExpectError("null-reference")] public static int NullArrayLength() { int[] a = null; return a.Length; }
        [ExpectError("null-reference")] public static int NullArrayLoad() { int[] a = null; return a[0]; }
        [ExpectError("overflow")] public static int NegativeSize() { int[] a = new int[I(-1)]; return a.Length; }
        [Expect("2")]
        public static int CovariantRefArray()
        {
            object[] a = new string[2];
            a[1] = "xy";
            return ((string)a[1]).Length;
        }
        [ExpectError("array-type-mismatch")]
        public static int CovariantStoreMismatch()
        {
            object[] a = new string[2];
            a[0] = new object();
            return 0;
        }
        [Expect("10")]
        public static int ReverseInPlace()
        {
            int[] a = new int[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
            for (int i = 0, j = a.Length - 1; i < j; i++, j--) { int t = a[i]; a[i] = a[j]; a[j] = t; }
            return a[0];
        }
        [Expect("45")]
        public static int BubbleSort()
        {
            int[] a = new int[] { 5, 3, 9, 1, 7, 2, 8, 6, 4, 0 };
            for (int i = 0; i < a.Length; i++)
                for (int j = 0; j + 1 < a.Length - i; j++)
                    if (a[j] > a[j + 1]) { int t = a[j]; a[j] = a[j + 1]; a[j + 1] = t; }
            int bad = 0;
            for (int i = 0; i < a.Length; i++) if (a[i] != i) bad++;
            return bad == 0 ? 45 : -bad;
        }
            // ---- covariance, structs, Clone -------------------------------------------------
        [Expect("1")] public static bool CovariantRead() { object[] a = new string[] { "a", "b" }; return (string)a[1] == "b"; }
        [ExpectError("array-type-mismatch")] public static int CovariantStoreWrongType() { object[] a = new string[2]; a[I(0)] = new object(); return 0; }
        [ExpectError("array-type-mismatch")] public static int CovariantStoreBoxed() { object[] a = new ArrAnimal[2]; a[0] = 5; return 0; }
        [Expect("4")] public static int CovariantStoreSubclass() { ArrAnimal[] a = new ArrDog[2]; a[1] = new ArrDog(); return a[1].Legs; }
        [Expect("2")]
        public static int CatchArrayTypeMismatch()
        {
            object[] a = new string[1];
            try { a[0] = 1; return 1; } catch (ArrayTypeMismatchException) { return 2; }
        }
        [Expect("66")]
        public static int StructArray()
        {
            ArrPair[] a = new ArrPair[3];
            a[1].A = 6; a[2] = new ArrPair(20, 40);
            return a[1].A + a[2].A + a[2].B + a[0].B;
        }
        [Expect("5")]
        public static int CloneCopies()
        {
            int[] a = { 1, 2, 3 };
            int[] b = (int[])a.Clone();
            b[0] = 9;
            return a[0] + b.Length + (b[0] == 9 ? 1 : 0);
        }
        [Expect("1")]
        public static bool CloneIsShallow()
        {
            object o = new object();
            object[] a = { o };
            object[] b = (object[])a.Clone();
            return b[0] == o && b != a;
        }
        [Expect("1")] public static bool ICloneableArray() { ICloneable c = new long[] { 4, 5 }; long[] b = (long[])c.Clone(); return b[1] == 5; }

        // ---- Array statics ---------------------------------------------------------------
        [Expect("1234")]
        public static int CopyWhole()
        {
            int[] a = { 1, 2, 3, 4 };
            int[] b = new int[4];
            Array.Copy(a, b, 4);
            return b[0] * 1000 + b[1] * 100 + b[2] * 10 + b[3];
        }
        [Expect("2300")]
        public static int CopyRange()
        {
            int[] a = { 1, 2, 3, 4 };
            int[] b = new int[4];
            Array.Copy(a, 1, b, 0, 2);
            return b[0] * 1000 + b[1] * 100 + b[2] * 10 + b[3];
        }
        [Expect("11234")]
        public static int CopyOverlapping()
        {
            int[] a = { 1, 2, 3, 4, 5 };
            Array.Copy(a, 0, a, 1, 4);
            return a[0] * 10000 + a[1] * 1000 + a[2] * 100 + a[3] * 10 + a[4];
        }
        [Expect("2345")]
        public static int CopyOverlappingDown()
        {
            int[] a = { 1, 2, 3, 4, 5 };
            Array.Copy(a, 1, a, 0, 4);
            return a[0] * 1000 + a[1] * 100 + a[2] * 10 + a[3];
        }
        [Expect("1")]
        public static bool CopyStrings()
        {
            string[] a = { "x", "y" };
            object[] b = new object[3];
            Array.Copy(a, 0, b, 1, 2);
            return b[0] == null && (string)b[2] == "y";
        }
        [Expect("7")]
        public static int CopyBoxes()
        {
            int[] a = { 3, 4 };
            object[] b = new object[2];
            Array.Copy(a, b, 2);
            return (int)b[0] + (int)b[1];
        }
        [Expect("9")]
        public static int CopyUnboxes()
        {
            object[] a = { 4, 5 };
            int[] b = new int[2];
            Array.Copy(a, b, 2);
            return b[0] + b[1];
        }
        [Expect("1")]
        public static bool CopyDowncast()
        {
            object[] a = { "p", "q" };
            string[] b = new string[2];
            Array.Copy(a, b, 2);
            return b[1] == "q";
        }
        [Expect("3")]
        public static int CopyStructs()
        {
            ArrPair[] a = { new ArrPair(1, 2), new ArrPair(3, 4) };
            ArrPair[] b = new ArrPair[2];
            Array.Copy(a, b, 2);
            return b[1].A;
        }
        [Expect("5")]
        public static int CopyMdFlat()
        {
            int[,] a = { { 1, 2 }, { 3, 4 } };
            int[,] b = new int[2, 2];
            Array.Copy(a, b, 4);
            return b[1, 1] + b[0, 0];
        }
        [ExpectError("invalid-cast")]
        public static int CopyDowncastFails() { object[] a = { "p", 1 }; string[] b = new string[2]; Array.Copy(a, b, 2); return 0; }
        [Expect("-5")]
        public static long CopyWidensIntToLong() { int[] a = { -5, 7 }; long[] b = new long[2]; Array.Copy(a, b, I(2)); return b[0]; }
        [Expect("255.5")]
        public static double CopyWidensToDouble() { byte[] a = { 255 }; double[] b = new double[1]; Array.Copy(a, b, 1); return b[0] + 0.5; }
        [Expect("65")]
        public static int CopyWidensCharToInt() { char[] a = { 'A' }; int[] b = new int[1]; Array.Copy(a, b, 1); return b[0]; }
        [ExpectError("array-type-mismatch")]
        public static int CopyNarrowingFails() { long[] a = new long[2]; int[] b = new int[2]; Array.Copy(a, b, I(2)); return 0; }
        [ExpectError("array-type-mismatch")]
        public static int CopyIntToString() { int[] a = new int[2]; string[] b = new string[2]; Array.Copy(a, b, I(2)); return 0; }
        [ExpectError("array-type-mismatch")]
        public static int CopyIntToUInt() { int[] a = new int[2]; uint[] b = new uint[2]; Array.Copy(a, b, I(2)); return 0; }
        [ExpectError("exception System.ArgumentException")]
        public static int CopyTooLong() { int[] a = new int[2]; int[] b = new int[5]; Array.Copy(a, b, I(3)); return 0; }
        [ExpectError("exception System.ArgumentNullException")]
        public static int CopyNull() { int[] b = new int[5]; Array.Copy(null, b, 1); return 0; }
        [ExpectError("exception System.ArgumentOutOfRangeException")]
        public static int CopyNegativeLength() { int[] a = new int[2]; Array.Copy(a, a, I(-1)); return 0; }
        [Expect("1004")]
        public static int ClearRange()
        {
            int[] a = { 1, 2, 3, 4 };
            Array.Clear(a, 1, 2);
            return a[0] * 1000 + a[1] * 100 + a[2] * 10 + a[3];
        }
        [Expect("1")]
        public static bool ClearRefs()
        {
            string[] a = { "a", "b" };
            Array.Clear(a, 0, 2);
            return a[0] == null && a[1] == null;
        }
        [ExpectError("index-out-of-range")]
        public static int ClearOutOfRange() { int[] a = new int[3]; Array.Clear(a, 2, I(2)); return 0; }
        [Expect("21")]
        public static int FillInts() { int[] a = new int[3]; Array.Fill(a, 7); return a[0] + a[1] + a[2]; }
        [Expect("1")]
        public static bool FillRefs() { string[] a = new string[2]; Array.Fill(a, "z"); return a[0] == "z" && a[1] == "z"; }
        [Expect("2")] public static int IndexOfGeneric() { int[] a = { 5, 6, 7, 6 }; return Array.IndexOf(a, 7); }
        [Expect("-1")] public static int IndexOfMissing() { long[] a = { 5, 6 }; return Array.IndexOf(a, 9L); }
        [Expect("3")] public static int IndexOfFrom() { int[] a = { 5, 6, 7, 6 }; return Array.IndexOf(a, 6, 2); }
        [Expect("1")] public static int IndexOfString() { string[] a = { "a", "bc", "d" }; return Array.IndexOf(a, "b" + "c"); }
        [Expect("2")] public static int IndexOfObject() { Array a = new int[] { 1, 2, 3 }; return Array.IndexOf(a, (object)3); }
        [Expect("3")] public static int LastIndexOf() { int[] a = { 5, 6, 7, 6 }; return Array.LastIndexOf(a, 6); }
        [Expect("4321")]
        public static int ReverseWhole()
        {
            int[] a = { 1, 2, 3, 4 };
            Array.Reverse(a);
            return a[0] * 1000 + a[1] * 100 + a[2] * 10 + a[3];
        }
        [Expect("1324")]
        public static int ReverseRange()
        {
            int[] a = { 1, 2, 3, 4 };
            Array.Reverse(a, 1, 2);
            return a[0] * 1000 + a[1] * 100 + a[2] * 10 + a[3];
        }
        [Expect("1")]
        public static bool ReverseStrings() { string[] a = { "a", "b", "c" }; Array.Reverse(a); return a[0] == "c" && a[2] == "a"; }
        [Expect("1")]
        public static bool SortInts()
        {
            int[] a = new int[100];
            for (int i = 0; i < a.Length; i++) a[i] = (i * 37 + 11) % 100 - 50;
            Array.Sort(a);
            for (int i = 0; i < a.Length; i++) if (a[i] != i - 50) return false;
            return true;
        }
        [Expect("1")]
        public static bool SortDuplicates()
        {
            int[] a = new int[50];
            for (int i = 0; i < a.Length; i++) a[i] = (i * 7) % 5;
            Array.Sort(a);
            for (int i = 1; i < a.Length; i++) if (a[i - 1] > a[i]) return false;
            return a[0] == 0 && a[49] == 4;
        }
        [Expect("1")]
        public static bool SortDoubles()
        {
            double[] a = { 2.5, -1, 0.25, 1e9, -7.5 };
            Array.Sort(a);
            return a[0] == -7.5 && a[1] == -1 && a[2] == 0.25 && a[4] == 1e9;
        }
        [Expect("1")]
        public static bool SortStrings()
        {
            string[] a = { "pear", "apple", "fig" };
            Array.Sort(a, new ArrStringLength());
            return a[0] == "fig" && a[2] == "apple";
        }
        [Expect("13579")]
        public static int SortComparable()
        {
            ArrKey[] a = new ArrKey[5];
            for (int i = 0; i < 5; i++) a[i] = new ArrKey((i * 3) % 5 * 2 + 1);
            Array.Sort(a);
            int r = 0;
            for (int i = 0; i < 5; i++) r = r * 10 + a[i].K;
            return r;
        }
        [Expect("97531")]
        public static int SortWithComparer()
        {
            int[] a = { 3, 9, 1, 7, 5 };
            Array.Sort(a, new ArrDescending());
            int r = 0;
            for (int i = 0; i < 5; i++) r = r * 10 + a[i];
            return r;
        }
        [Expect("14325")]
        public static int SortRange()
        {
            int[] a = { 1, 4, 3, 2, 5 };
            Array.Sort(a, 1, 3, new ArrDescending());
            int r = 0;
            for (int i = 0; i < 5; i++) r = r * 10 + a[i];
            return r;
        }
        [Expect("12345")]
        public static int SortComparison()
        {
            int[] a = { 5, 3, 4, 1, 2 };
            Array.Sort(a, (x, y) => x.CompareTo(y));
            int r = 0;
            for (int i = 0; i < 5; i++) r = r * 10 + a[i];
            return r;
        }
        [Expect("6")]
        public static int Resize()
        {
            int[] a = { 1, 2, 3 };
            Array.Resize(ref a, 5);
            return a.Length + a[2] - 2;
        }
        [Expect("0")] public static int EmptyArray() { return Array.Empty<int>().Length; }
        [Expect("16")] public static int ByteLength() { return Buffer.ByteLength(new int[4]); }
        [Expect("67305985")]
        public static int BlockCopy()
        {
            byte[] b = { 1, 2, 3, 4 };
            int[] a = new int[1];
            Buffer.BlockCopy(b, 0, a, 0, 4);
            return a[0];
        }
        [Expect("4")]
        public static int BlockCopyIntoBytes()
        {
            int[] a = { 0x01020304, 0x05060708 };
            byte[] b = new byte[8];
            Buffer.BlockCopy(a, 4, b, 2, 4);
            return b[2] == 8 && b[5] == 5 ? 4 : 0;
        }
        [ExpectError("exception System.ArgumentException")]
        public static int BlockCopyTooLong() { byte[] a = new byte[4]; Buffer.BlockCopy(a, 0, a, I(2), 4); return 0; }
        [ExpectError("exception System.ArgumentException")]
        public static int BlockCopyNotPrimitive() { object[] a = new object[4]; Buffer.BlockCopy(a, 0, a, 0, 1); return 0; }
        [Expect("10")]
        public static int GetSetValue()
        {
            Array a = new long[3];
            a.SetValue(10L, 2);
            return (int)(long)a.GetValue(2);
        }
        [Expect("1")] public static int VectorLowerBound() { int[] a = new int[3]; return a.GetUpperBound(0) - a.GetLowerBound(0) - 1; }
    }

    public struct ArrPair
    {
        public int A, B;
        public ArrPair(int a, int b) { A = a; B = b; }
    }

    public class ArrAnimal { public int Legs = 2; }
    public class ArrDog : ArrAnimal { public ArrDog() { Legs = 4; } }

    public struct ArrKey : IComparable<ArrKey>
    {
        public int K;
        public ArrKey(int k) { K = k; }
        public int CompareTo(ArrKey other) { return K.CompareTo(other.K); }
    }

    public sealed class ArrDescending : IComparer<int>
    {
        public int Compare(int x, int y) { return y.CompareTo(x); }
    }

    public sealed class ArrStringLength : IComparer<string>
    {
        public int Compare(string x, string y) { return x.Length - y.Length; }
    }
}
