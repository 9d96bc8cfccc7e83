// Arrays.cs: newarr, ldlen, ldelem/stelem of every element kind (i1 u1 i2 u2 i4 u4 i8
// r4 r8 ref, char, bool), ldelema, index math, bounds and null checks, array
// initializers (RuntimeHelpers.InitializeArray), arrays of arrays.
using System;

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
    }
}
