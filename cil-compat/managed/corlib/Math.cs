// System.Math (floating-point half; the integer Min/Max/Abs are in String.cs) and
// System.MathF. The functions are runtime internal calls computed with libm
// (cil-compat/src/exec/math.rs), floats passed as their bits; the operation
// numbers are shared with that file. Min/Max/Sign follow mono's managed code:
// NaN wins, and of two equal zeros the second argument is returned.
namespace System
{
    using System.Runtime.CompilerServices;

    public static partial class Math
    {
        public const double PI = 3.14159265358979323846;
        public const double E = 2.7182818284590452354;

        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern long Unary(int op, long bits);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern long Binary(int op, long a, long b);

        static unsafe double U(int op, double x) { long r = Unary(op, *(long*)&x); return *(double*)&r; }
        static unsafe double B(int op, double x, double y) { long r = Binary(op, *(long*)&x, *(long*)&y); return *(double*)&r; }

        public static double Sqrt(double d) { return U(0, d); }
        public static double Floor(double d) { return U(1, d); }
        public static double Ceiling(double a) { return U(2, a); }
        public static double Truncate(double d) { return U(3, d); }
        public static double Round(double a) { return U(4, a); }
        public static double Abs(double value) { return U(5, value); }
        public static double Exp(double d) { return U(6, d); }
        public static double Log(double d) { return U(7, d); }
        public static double Log10(double d) { return U(8, d); }
        public static double Sin(double a) { return U(9, a); }
        public static double Cos(double d) { return U(10, d); }
        public static double Tan(double a) { return U(11, a); }
        public static double Asin(double d) { return U(12, d); }
        public static double Acos(double d) { return U(13, d); }
        public static double Atan(double d) { return U(14, d); }
        public static double Sinh(double value) { return U(15, value); }
        public static double Cosh(double value) { return U(16, value); }
        public static double Tanh(double value) { return U(17, value); }
        public static double Cbrt(double d) { return U(18, d); }
        public static double Asinh(double d) { return U(20, d); }
        public static double Acosh(double d) { return U(21, d); }
        public static double Atanh(double d) { return U(22, d); }
        public static double Pow(double x, double y) { return B(0, x, y); }
        public static double Atan2(double y, double x) { return B(1, y, x); }

        public static double Log(double a, double newBase)
        {
            if (double.IsNaN(a)) return a;
            if (double.IsNaN(newBase)) return newBase;
            if (newBase == 1) return double.NaN;
            if (a != 1 && (newBase == 0 || double.IsPositiveInfinity(newBase))) return double.NaN;
            return Log(a) / Log(newBase);
        }

        public static float Abs(float value) { return MathF.Abs(value); }
        public static short Abs(short value)
        {
            if (value == short.MinValue) throw new OverflowException();
            return value < 0 ? (short)-value : value;
        }
        public static sbyte Abs(sbyte value)
        {
            if (value == sbyte.MinValue) throw new OverflowException();
            return value < 0 ? (sbyte)-value : value;
        }

        public static double Max(double val1, double val2)
        {
            if (val1 > val2) return val1;
            if (double.IsNaN(val1)) return val1;
            return val2;
        }
        public static double Min(double val1, double val2)
        {
            if (val1 < val2) return val1;
            if (double.IsNaN(val1)) return val1;
            return val2;
        }
        public static float Max(float val1, float val2)
        {
            if (val1 > val2) return val1;
            if (float.IsNaN(val1)) return val1;
            return val2;
        }
        public static float Min(float val1, float val2)
        {
            if (val1 < val2) return val1;
            if (float.IsNaN(val1)) return val1;
            return val2;
        }
        public static short Max(short a, short b) { return a > b ? a : b; }
        public static short Min(short a, short b) { return a < b ? a : b; }
        public static ushort Max(ushort a, ushort b) { return a > b ? a : b; }
        public static ushort Min(ushort a, ushort b) { return a < b ? a : b; }
        public static sbyte Max(sbyte a, sbyte b) { return a > b ? a : b; }
        public static sbyte Min(sbyte a, sbyte b) { return a < b ? a : b; }

        public static int Sign(long value) { return value < 0 ? -1 : (value > 0 ? 1 : 0); }
        public static int Sign(short value) { return value < 0 ? -1 : (value > 0 ? 1 : 0); }
        public static int Sign(sbyte value) { return value < 0 ? -1 : (value > 0 ? 1 : 0); }
        public static int Sign(double value)
        {
            if (value < 0) return -1;
            if (value > 0) return 1;
            if (value == 0) return 0;
            throw new ArithmeticException("Function does not accept floating point Not-a-Number values.");
        }
        public static int Sign(float value) { return Sign((double)value); }

        public static long BigMul(int a, int b) { return (long)a * b; }
        public static int DivRem(int a, int b, out int result) { result = a % b; return a / b; }
        public static long DivRem(long a, long b, out long result) { result = a % b; return a / b; }
    }

    public static class MathF
    {
        public const float PI = 3.14159265f;
        public const float E = 2.71828183f;

        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern int Unary(int op, int bits);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern int Binary(int op, int a, int b);

        static unsafe float U(int op, float x) { int r = Unary(op, *(int*)&x); return *(float*)&r; }
        static unsafe float B(int op, float x, float y) { int r = Binary(op, *(int*)&x, *(int*)&y); return *(float*)&r; }

        public static float Sqrt(float x) { return U(0, x); }
        public static float Floor(float x) { return U(1, x); }
        public static float Ceiling(float x) { return U(2, x); }
        public static float Truncate(float x) { return U(3, x); }
        public static float Round(float x) { return U(4, x); }
        public static float Abs(float x) { return U(5, x); }
        public static float Exp(float x) { return U(6, x); }
        public static float Log(float x) { return U(7, x); }
        public static float Log10(float x) { return U(8, x); }
        public static float Sin(float x) { return U(9, x); }
        public static float Cos(float x) { return U(10, x); }
        public static float Tan(float x) { return U(11, x); }
        public static float Asin(float x) { return U(12, x); }
        public static float Acos(float x) { return U(13, x); }
        public static float Atan(float x) { return U(14, x); }
        public static float Sinh(float x) { return U(15, x); }
        public static float Cosh(float x) { return U(16, x); }
        public static float Tanh(float x) { return U(17, x); }
        public static float Cbrt(float x) { return U(18, x); }
        public static float Asinh(float x) { return U(20, x); }
        public static float Acosh(float x) { return U(21, x); }
        public static float Atanh(float x) { return U(22, x); }
        public static float Pow(float x, float y) { return B(0, x, y); }
        public static float Atan2(float y, float x) { return B(1, y, x); }
        public static float Max(float x, float y) { return Math.Max(x, y); }
        public static float Min(float x, float y) { return Math.Min(x, y); }
        public static int Sign(float x) { return Math.Sign(x); }
    }
}
