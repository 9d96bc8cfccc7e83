// Calls.cs: call with 0..12 arguments (beyond the 6 SysV integer registers), mixed
// struct and float arguments, instance methods on structs and classes (`this` as the
// first argument, seed bug 2), callee-saved registers across calls, bool returns.
using System;

namespace Corpus
{
    public struct Point
    {
        public int X, Y;
        public Point(int x, int y) { X = x; Y = y; }
        public int Manhattan() { return Math2.Abs(X) + Math2.Abs(Y); }
        public void Scale(int k) { X *= k; Y *= k; }
        public Point Add(Point o) { return new Point(X + o.X, Y + o.Y); }
        public bool IsOrigin() { return X == 0 && Y == 0; }
    }

    public struct Big40
    {
        public long A, B, C, D, E;
        public Big40(long v) { A = v; B = v + 1; C = v + 2; D = v + 3; E = v + 4; }
        public long Sum() { return A + B + C + D + E; }
    }

    public static class Math2
    {
        public static int Abs(int x) { return x < 0 ? -x : x; }
    }

    public class Counter
    {
        int count;
        long total;
        public Counter(int start) { count = start; }
        public Counter() { count = 100; }
        public void Add(long v) { count++; total += v; }
        public int Count() { return count; }
        public long Total() { return total; }
        public bool HasMany() { return count > 2; }
        public long AddMany(long a, long b, long c, long d, long e, long f, long g)
        {
            total += a + b + c + d + e + f + g;
            return total;
        }
    }

    public static class Calls
    {
        static int Zero(int unused) { return 42 + unused; }
        static int Six(int a, int b, int c, int d, int e, int f) { return a + b * 2 + c * 3 + d * 4 + e * 5 + f * 6; }
        static int Seven(int a, int b, int c, int d, int e, int f, int g) { return Six(a, b, c, d, e, f) + g * 7; }
        static int Eight(int a, int b, int c, int d, int e, int f, int g, int h) { return Seven(a, b, c, d, e, f, g) + h * 8; }
        static long Twelve(long a, int b, long c, int d, long e, int f, long g, int h, long i, int j, long k, int l)
        {
            return a - b + c - d + e - f + g - h + i - j + k * l;
        }
        static long LastOfTen(long a, long b, long c, long d, long e, long f, long g, long h, long i, long j) { return j; }
        static int FirstOfTen(int a, int b, int c, int d, int e, int f, int g, int h, int i, int j) { return a; }
        static long MixedStructs(int a, S3 b, long c, S12 d, byte e, S40 f, short g, S24 h)
        {
            return a + b.A + b.B + b.C + c + d.A + d.B + d.C + e + f.A + f.E + g + h.A + h.D;
        }
        static double Floats(int a, double b, float c, long d, double e, int f, double g, float h, double i, double j)
        {
            return a + b + c + d + e + f + g + h + i + j;
        }
        static double TenDoubles(double a, double b, double c, double d, double e, double f, double g, double h, double i, double j)
        {
            return a + b * 2 + c * 3 + d * 4 + e * 5 + f * 6 + g * 7 + h * 8 + i * 9 + j * 10;
        }
        static double ManyMixed(int i1, double d1, int i2, double d2, int i3, double d3, int i4, double d4, int i5, double d5,
                                int i6, double d6, int i7, double d7, int i8, double d8, int i9, double d9, float f10, long l10)
        {
            return (i1 + i2 + i3 + i4 + i5 + i6 + i7 + i8 + i9) * 1000.0 + d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 + d9 + f10 + l10 * 1000000.0;
        }
        static float FloatsOnly(float a, float b, float c, float d, float e, float f, float g, float h, float i) { return a - b + c - d + e - f + g - h + i; }
        static byte NarrowReturn(int x) { return (byte)x; }
        static sbyte NarrowSignedReturn(int x) { return unchecked((sbyte)x); }
        static bool IsEven(int x) { return (x & 1) == 0; }
        static S3 Mk3(byte v) { S3 s; s.A = v; s.B = v; s.C = v; return s; }
        static S12 Mk12(int v) { S12 s; s.A = v; s.B = v + 1; s.C = v + 2; return s; }
        static S24 Mk24(long v) { S24 s; s.A = v; s.B = 0; s.C = 0; s.D = v * 10; return s; }
        static S40 Mk40(long v) { S40 s; s.A = v; s.B = 0; s.C = 0; s.D = 0; s.E = v * 100; return s; }

        [Expect("42")] public static int NoArgs() { return Zero(0); }
        [Expect("91")] public static int SixArgs() { return Six(1, 2, 3, 4, 5, 6); }
        [Expect("140")] public static int SevenArgs() { return Seven(1, 2, 3, 4, 5, 6, 7); }
        [Expect("204")] public static int EightArgs() { return Eight(1, 2, 3, 4, 5, 6, 7, 8); }
        [Expect("-9")] public static int EightArgsNegative() { return Eight(-1, 0, 0, 0, 0, 0, 0, -1); }
        [Expect("-9223372036854775808")] public static long TenthArgLong() { return LastOfTen(1, 2, 3, 4, 5, 6, 7, 8, 9, long.MinValue); }
        [Expect("-7")] public static int FirstOfTenArgs() { return FirstOfTen(-7, 2, 3, 4, 5, 6, 7, 8, 9, 10); }
        [Expect("50999999985")]
        public static long TwelveMixedWidths()
        {
            // 1e9-1+2e9-2+3e9-3+4e9-4+5e9-5+6e9*6 = 15e9-15+36e9
            return Twelve(1000000000, 1, 2000000000, 2, 3000000000, 3, 4000000000, 4, 5000000000, 5, 6000000000, 6);
        }
        [Expect("-1")] public static long TwelveNegativeInts() { return Twelve(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, -1); }
        [Expect("731")]
        public static long StructsAmongScalars()
        {
            // 1 + 3*2 + 3 + (4+5+6) + 5 + (6+600) + 7 + (8+80)
            return MixedStructs(1, Mk3(2), 3, Mk12(4), 5, Mk40(6), 7, Mk24(8));
        }
        [Expect("55.5")] public static double FloatsAmongInts() { return Floats(1, 2.0, 3.0f, 4, 5.0, 6, 7.0, 8.5f, 9.0, 10.0); }
        [Expect("385")] public static double TenDoubleArgs() { return TenDoubles(1, 2, 3, 4, 5, 6, 7, 8, 9, 10); }
        [Expect("-1")] public static double TenthDoubleArg() { return TenDoubles(0, 0, 0, 0, 0, 0, 0, 0, 0, -0.1); }
        [Expect("7045005.25")]
        public static double TwentyMixedArgs()
        {
            // ints 1..9 -> 45000; doubles 0.5 * 9 = 4.5; float 0.75; long 7 -> 7000000
            return ManyMixed(1, 0.5, 2, 0.5, 3, 0.5, 4, 0.5, 5, 0.5, 6, 0.5, 7, 0.5, 8, 0.5, 9, 0.5, 0.75f, 7);
        }
        [Expect("5")] public static float NineFloatArgs() { return FloatsOnly(1, 2, 3, 4, 5, 6, 7, 8, 9); }
        [Expect("44")] public static int NarrowReturnTruncates() { return NarrowReturn(300); }
        [Expect("-1")] public static int NarrowSignedReturnExtends() { return NarrowSignedReturn(255); }
        [Expect("1")] public static bool BoolReturn() { return IsEven(10); }
        [Expect("5")]
        public static int BoolReturnInCondition()
        {
            int c = 0;
            for (int i = 0; i < 10; i++) if (IsEven(i)) c++;
            return c;
        }
        [Expect("55")]
        public static int ValuesLiveAcrossCalls()
        {
            // Locals held in callee-saved registers must survive nested calls.
            int a = 1, b = 2, c = 3, d = 4, e = 5;
            int f = Six(0, 0, 0, 0, 0, 1);           // 6
            int g = Seven(0, 0, 0, 0, 0, 0, 1);      // 7
            int h = Eight(0, 0, 0, 0, 0, 0, 0, 1);   // 8
            int i = Zero(0) - 33;                     // 9
            int j = Six(10, 0, 0, 0, 0, 0);          // 10
            return a + b + c + d + e + f + g + h + i + j;
        }
        [Expect("35")]
        public static int CallResultsAsArgs() { return Six(Zero(0) - 41, Zero(0) - 41, Zero(0) - 41, Zero(0) - 41, Zero(0) - 41, Math2.Abs(-2) - 1) + Math2.Abs(-14); }

        // Instance methods on structs: `this` is a managed pointer to the value.
        [Expect("7")] public static int StructInstanceMethod() { Point p = new Point(3, -4); return p.Manhattan(); }
        [Expect("-12")] public static int StructMutatingMethod() { Point p = new Point(3, -4); p.Scale(3); return p.Y; }
        [Expect("9")] public static int StructMethodWithStructArg() { Point p = new Point(1, 2); Point q = p.Add(new Point(3, 3)); return q.X + q.Y; }
        [Expect("1")] public static bool StructBoolMethod() { Point p = new Point(0, 0); return p.IsOrigin(); }
        [Expect("7")] public static int MethodOnCallResult() { return MkPoint(-3).Manhattan(); }
        static Point MkPoint(int x) { return new Point(x, 4); }
        [Expect("7")] public static int MethodOnArrayElement() { Point[] a = new Point[2]; a[1] = new Point(3, 4); return a[1].Manhattan(); }
        [Expect("-12")] public static int MutateArrayElementInPlace() { Point[] a = new Point[2]; a[1] = new Point(3, -4); a[1].Scale(3); return a[1].Y; }
        [Expect("60")] public static long BigStructCtorAndMethod() { Big40 b = new Big40(10); return b.Sum(); }
        [Expect("60")] public static long BigStructMethodOnTemp() { return new Big40(10).Sum(); }

        // Instance methods on classes.
        [Expect("3")]
        public static int ClassInstanceMethods()
        {
            Counter c = new Counter(0);
            c.Add(1); c.Add(2); c.Add(3);
            return c.Count();
        }
        [Expect("100")] public static int DefaultCtor() { return new Counter().Count(); }
        [Expect("6")]
        public static long ClassFieldLong()
        {
            Counter c = new Counter(0);
            c.Add(1); c.Add(2); c.Add(3);
            return c.Total();
        }
        [Expect("1")] public static bool ClassBoolMethod() { Counter c = new Counter(5); return c.HasMany(); }
        [Expect("28")] public static long InstanceMethodEightArgs() { return new Counter().AddMany(1, 2, 3, 4, 5, 6, 7); }
        [ExpectError("null-reference")] public static int NullInstanceCall() { Counter c = null; return c.Count(); }
    }
}
