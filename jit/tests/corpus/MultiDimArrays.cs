// MultiDimArrays.cs: multi-dimensional arrays T[,] and T[,,] (ECMA-335 II.14.2: the
// VES's .ctor/Get/Set/Address methods that mcs calls) of int, long, double, byte,
// struct and reference elements; row-major layout, bounds checks on every dimension,
// covariant stores, initializers, Length/Rank/GetLength/GetLowerBound/GetUpperBound,
// GetValue/SetValue, Array.CreateInstance (typeof), Clone, foreach, jagged arrays.
using System;

namespace Corpus
{
    public struct MdPoint
    {
        public int X;
        public long Y;
        public byte Z;
        public MdPoint(int x, long y, byte z) { X = x; Y = y; Z = z; }
    }

    public class MdAnimal { public int Legs; public MdAnimal(int l) { Legs = l; } }
    public class MdDog : MdAnimal { public MdDog() : base(4) { } }

    public static class MultiDimArrays
    {
        static int I(int x) { return x; }

        static int Sum(int[,] a)
        {
            int s = 0;
            for (int i = 0; i < a.GetLength(0); i++)
                for (int j = 0; j < a.GetLength(1); j++) s += a[i, j];
            return s;
        }

        static void Bump(ref int x) { x += 100; }

        [Expect("6")] public static int Length2D() { int[,] a = new int[I(2), I(3)]; return a.Length; }
        [Expect("24")] public static int Length3D() { int[,,] a = new int[2, 3, 4]; return a.Length; }
        [Expect("2")] public static int Rank2D() { int[,] a = new int[1, 1]; return a.Rank; }
        [Expect("3")] public static int Rank3D() { long[,,] a = new long[1, 1, 1]; return a.Rank; }
        [Expect("1")] public static int RankVector() { int[] a = new int[4]; return a.Rank; }
        [Expect("0")] public static int NewIsZeroed() { int[,] a = new int[I(7), I(9)]; int s = 0; foreach (int v in a) s |= v; return s; }
        [Expect("0")] public static int ZeroLengthDim() { int[,] a = new int[I(0), I(5)]; return a.Length; }
        [Expect("5")] public static int ZeroLengthDimGetLength() { int[,] a = new int[I(0), I(5)]; return a.GetLength(1); }
        [Expect("42")] public static int IntStoreLoad() { int[,] a = new int[3, 4]; a[2, 3] = 42; return a[2, 3]; }
        [Expect("-9223372036854775808")] public static long LongElem() { long[,] a = new long[2, 2]; a[1, 0] = long.MinValue; return a[1, 0]; }
        [Expect("-2.5")] public static double DoubleElem() { double[,] a = new double[2, 2]; a[0, 1] = -2.5; return a[0, 1]; }
        [Expect("1.25")] public static float FloatElem() { float[,] a = new float[2, 2]; a[1, 1] = 1.25f; return a[1, 1]; }
        [Expect("255")] public static int ByteElem() { byte[,] a = new byte[2, 2]; a[1, 1] = 255; return a[1, 1]; }
        [Expect("-1")] public static int SByteElem() { sbyte[,] a = new sbyte[2, 2]; a[0, 0] = -1; return a[0, 0]; }
        [Expect("65535")] public static int CharElem() { char[,] a = new char[2, 2]; a[0, 1] = '\uffff'; return a[0, 1]; }
        [Expect("1")] public static bool BoolElem() { bool[,] a = new bool[2, 2]; a[1, 0] = true; return a[1, 0] && !a[0, 0]; }
        [Expect("1")]
        public static bool RefElem()
        {
            object[,] a = new object[2, 3];
            object o = new object();
            a[1, 2] = o;
            return a[1, 2] == o && a[0, 0] == null;
        }
        [Expect("1")]
        public static bool StringElem()
        {
            string[,] a = new string[2, 2];
            a[1, 0] = "hel"; a[0, 1] = "lo";
            return a[1, 0] + a[0, 1] == "hello" && a[1, 1] == null;
        }
        [Expect("7")]
        public static int StructElem()
        {
            MdPoint[,] a = new MdPoint[3, 3];
            a[2, 1] = new MdPoint(3, 4, 0);
            return a[2, 1].X + (int)a[2, 1].Y + a[1, 2].X;
        }
        [Expect("36")]
        public static int StructFieldInPlace()
        {
            MdPoint[,] a = new MdPoint[2, 2];
            a[1, 1].X = 30;
            a[1, 1].Z = 6;
            a[1, 1].X += 0;
            return a[1, 1].X + a[1, 1].Z + a[0, 0].X;
        }
        [Expect("1200")]
        public static long StructElemsDoNotOverlap()
        {
            MdPoint[,] a = new MdPoint[2, 3];
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++) a[i, j] = new MdPoint(i * 3 + j, (i * 3 + j) * 100, (byte)j);
            long s = 0;
            foreach (MdPoint p in a) s += p.Y - p.X + p.X;
            return s - 300;
        }
        [Expect("1234")]
        public static int RowMajorOrder()
        {
            int[,] a = new int[2, 2];
            a[0, 0] = 1; a[0, 1] = 2; a[1, 0] = 3; a[1, 1] = 4;
            int r = 0;
            foreach (int v in a) r = r * 10 + v;
            return r;
        }
        [Expect("123")]
        public static int ThreeDIndexing()
        {
            int[,,] a = new int[2, 3, 4];
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++)
                    for (int k = 0; k < 4; k++) a[i, j, k] = i * 100 + j * 10 + k;
            return a[1, 2, 3];
        }
        [Expect("276")]
        public static int ThreeDSum()
        {
            int[,,] a = new int[2, 3, 4];
            int n = 0;
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++)
                    for (int k = 0; k < 4; k++) a[i, j, k] = n++;
            int s = 0;
            foreach (int v in a) s += v;
            return s;
        }
        [Expect("21")] public static int Initializer() { int[,] a = { { 1, 2, 3 }, { 4, 5, 6 } }; return Sum(a); }
        [Expect("6")] public static int InitializerCorner() { int[,] a = { { 1, 2, 3 }, { 4, 5, 6 } }; return a[1, 2]; }
        [Expect("8.5")] public static double InitializerDouble() { double[,] a = { { 0.5, 1 }, { 2, 5 } }; return a[0, 0] + a[0, 1] + a[1, 0] + a[1, 1]; }
        [Expect("1")] public static bool InitializerStrings() { string[,] a = { { "a", "b" }, { "c", "d" } }; return a[0, 0] + a[1, 1] == "ad"; }
        [Expect("8")] public static int InitializerThreeD() { int[,,] a = { { { 1, 2 }, { 3, 4 } }, { { 5, 6 }, { 7, 8 } } }; return a[1, 1, 1]; }
        [Expect("110")] public static int AddressOfElement() { int[,] a = new int[2, 2]; a[1, 0] = 10; Bump(ref a[1, 0]); return a[1, 0]; }
        [Expect("12")] public static int CompoundAssign() { int[,] a = new int[2, 2]; a[1, 1] = 5; a[1, 1] += 7; return a[1, 1]; }
        [Expect("3")] public static int PostIncrement() { long[,] a = new long[2, 2]; a[0, 1]++; a[0, 1]++; a[0, 1]++; return (int)a[0, 1]; }
        [Expect("3")] public static int GetLength0() { int[,] a = new int[3, 5]; return a.GetLength(0); }
        [Expect("5")] public static int GetLength1() { int[,] a = new int[3, 5]; return a.GetLength(1); }
        [Expect("0")] public static int GetLowerBound() { int[,] a = new int[3, 5]; return a.GetLowerBound(1); }
        [Expect("4")] public static int GetUpperBound() { int[,] a = new int[3, 5]; return a.GetUpperBound(1); }
        [Expect("7")] public static int GetLengthThreeD() { int[,,] a = new int[2, 3, 7]; return a.GetLength(2); }
        [Expect("12")]
        public static int GetValueBoxes()
        {
            int[,] a = new int[2, 3];
            a[1, 2] = 12;
            object o = a.GetValue(1, 2);
            return (int)o;
        }
        [Expect("9")]
        public static int SetValueUnboxes()
        {
            int[,] a = new int[2, 3];
            a.SetValue(9, 0, 2);
            return a[0, 2];
        }
        [Expect("4.5")]
        public static double GetValueParams()
        {
            double[,,] a = new double[2, 2, 2];
            a[1, 0, 1] = 4.5;
            return (double)a.GetValue(new int[] { 1, 0, 1 });
        }
        [Expect("1")]
        public static bool SetValueRef()
        {
            string[,] a = new string[2, 2];
            a.SetValue("x", 1, 1);
            return (string)a.GetValue(1, 1) == "x";
        }
        [Expect("30")]
        public static int CreateInstance2D()
        {
            int[,] a = (int[,])Array.CreateInstance(typeof(int), 3, 4);
            a[2, 3] = 30;
            return a[2, 3] + a.Rank - 2;
        }
        [Expect("24")]
        public static int CreateInstanceLengths()
        {
            Array a = Array.CreateInstance(typeof(long), new int[] { 2, 3, 4 });
            return a.Length;
        }
        [Expect("5")]
        public static int CreateInstanceVector()
        {
            int[] a = (int[])Array.CreateInstance(typeof(int), 5);
            return a.Length;
        }
        [Expect("12")]
        public static int CreateInstanceLowerBounds()
        {
            Array a = Array.CreateInstance(typeof(int), new int[] { 3, 4 }, new int[] { 10, 1 });
            a.SetValue(5, 12, 4);
            return a.GetUpperBound(0) - a.GetLowerBound(1) + 1 + (int)a.GetValue(12, 4) - 5;
        }
        [Expect("0")]
        public static int CloneIsDeep()
        {
            int[,] a = new int[2, 2];
            a[1, 1] = 5;
            int[,] b = (int[,])a.Clone();
            b[1, 1] = 6;
            return a[1, 1] * 10 + b[1, 1] - 56;
        }
        [Expect("3")] public static int CloneKeepsShape() { int[,,] a = new int[2, 3, 4]; int[,,] b = (int[,,])a.Clone(); return b.GetLength(1) + b.Rank - 3; }
        [Expect("15")]
        public static int PassAsArgument()
        {
            int[,] a = new int[2, 3];
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++) a[i, j] = i + j;
            return Sum(a) + 6;
        }
        [Expect("4")]
        public static int CovariantStoreOk()
        {
            MdAnimal[,] a = new MdDog[2, 2];
            a[1, 1] = new MdDog();
            return a[1, 1].Legs;
        }
        [Expect("1")]
        public static bool NullStoreIntoCovariant()
        {
            object[,] a = new string[1, 1];
            a[0, 0] = null;
            return a[0, 0] == null;
        }
        [Expect("6")]
        public static int JaggedOfMd()
        {
            int[][,] j = new int[2][,];
            j[1] = new int[2, 3];
            j[1][1, 2] = 6;
            return j[1][1, 2];
        }
        [Expect("9")]
        public static int MdOfJagged()
        {
            int[,][] m = new int[2, 2][];
            m[1, 0] = new int[] { 7, 8, 9 };
            return m[1, 0][2];
        }
        [Expect("4")]
        public static int Jagged()
        {
            int[][] j = new int[3][];
            for (int i = 0; i < 3; i++) j[i] = new int[i + 1];
            j[2][2] = 4;
            return j[2][2] + j[0].Length - 1;
        }
        [Expect("5")]
        public static int Identity()
        {
            double[,] m = new double[I(4), I(4)];
            for (int i = 0; i < 4; i++) m[i, i] = 1;
            double t = 0;
            for (int i = 0; i < 4; i++) t += m[i, i] + m[i, 3 - i];
            return (int)t + 1;
        }
        [Expect("2000")]
        public static int MatrixMultiply()
        {
            int n = 5;
            int[,] a = new int[n, n], b = new int[n, n], c = new int[n, n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) { a[i, j] = i + j; b[i, j] = i == j ? 2 : 0; }
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    int s = 0;
                    for (int k = 0; k < n; k++) s += a[i, k] * b[k, j];
                    c[i, j] = s;
                }
            return Sum(c) * 10;
        }
        [Expect("2")]
        public static int CatchOutOfRange()
        {
            int[,] a = new int[2, 2];
            try { a[I(2), 0] = 1; return 1; }
            catch (IndexOutOfRangeException) { return 2; }
        }
        [Expect("3")]
        public static int CatchArrayTypeMismatch()
        {
            object[,] a = new string[2, 2];
            try { a[0, 1] = 5; return 1; }
            catch (ArrayTypeMismatchException) { return a[0, 1] == null ? 3 : 4; }
        }

        // Runtime errors.
        [ExpectError("index-out-of-range")] public static int FirstIndexPastEnd() { int[,] a = new int[2, 3]; return a[I(2), 0]; }
        [ExpectError("index-out-of-range")] public static int SecondIndexPastEnd() { int[,] a = new int[2, 3]; return a[0, I(3)]; }
        [ExpectError("index-out-of-range")] public static int FirstIndexNegative() { int[,] a = new int[2, 3]; return a[I(-1), 0]; }
        [ExpectError("index-out-of-range")] public static int SecondIndexNegative() { int[,] a = new int[2, 3]; return a[1, I(-1)]; }
        [ExpectError("index-out-of-range")] public static int ThirdIndexPastEnd() { int[,,] a = new int[2, 3, 4]; return a[1, 2, I(4)]; }
        [ExpectError("index-out-of-range")] public static int StorePastEnd() { long[,] a = new long[2, 3]; a[I(5), 1] = 1; return 0; }
        [ExpectError("index-out-of-range")] public static int AddressPastEnd() { int[,] a = new int[2, 3]; Bump(ref a[1, I(3)]); return 0; }
        [ExpectError("index-out-of-range")] public static int IndexIntMin() { int[,] a = new int[2, 3]; return a[I(int.MinValue), 0]; }
        [ExpectError("index-out-of-range")] public static int StructIndexPastEnd() { MdPoint[,] a = new MdPoint[2, 2]; return a[0, I(2)].X; }
        [ExpectError("index-out-of-range")] public static int GetLengthBadDimension() { int[,] a = new int[2, 3]; return a.GetLength(I(2)); }
        [ExpectError("index-out-of-range")] public static int GetValuePastEnd() { int[,] a = new int[2, 3]; return (int)a.GetValue(2, 0); }
        [ExpectError("null-reference")] public static int NullArray() { int[,] a = null; return a[0, 0]; }
        [ExpectError("null-reference")] public static int NullArrayStore() { double[,] a = null; a[I(0), 0] = 1; return 0; }
        [ExpectError("overflow")] public static int NegativeLength() { int[,] a = new int[I(2), I(-1)]; return a.Length; }
        [ExpectError("array-type-mismatch")]
        public static int CovariantStoreWrongType()
        {
            object[,] a = new string[2, 2];
            a[1, 1] = new object();
            return 0;
        }
        [ExpectError("array-type-mismatch")]
        public static int CovariantStoreSibling()
        {
            MdAnimal[,,] a = new MdDog[1, 1, 1];
            a[0, 0, 0] = new MdAnimal(2);
            return 0;
        }
        [ExpectError("invalid-cast")] public static int SetValueWrongType() { int[,] a = new int[2, 2]; a.SetValue("s", 0, 0); return 0; }
        [ExpectError("exception System.ArgumentException")] public static int GetValueWrongRank() { int[,] a = new int[2, 2]; return (int)a.GetValue(0); }
    }
}
