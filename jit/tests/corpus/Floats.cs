// Floats.cs: float32/float64 add, sub, mul, div, rem, neg; comparisons and branches
// with NaN (ordered vs unordered: clt vs clt.un, bge.un, ...); conversions; infinities,
// signed zero, rounding of float32 intermediates.
using System;

namespace Corpus
{
    public static class Floats
    {
        static double D(double x) { return x; }
        static float F(float x) { return x; }
        static int I(int x) { return x; }

        [Expect("0.30000000000000004")] public static double AddInexact() { return D(0.1) + D(0.2); }
        [Expect("0.3")] public static float AddFloat() { return F(0.1f) + F(0.2f); }
        [Expect("-1.5")] public static double Sub() { return D(1.0) - D(2.5); }
        [Expect("6.25")] public static double Mul() { return D(2.5) * D(2.5); }
        [Expect("0.3333333333333333")] public static double Div() { return D(1.0) / D(3.0); }
        [Expect("0.33333334")] public static float DivFloat() { return F(1.0f) / F(3.0f); }
        [Expect("1.5")] public static double Rem() { return D(7.5) % D(2.0); }
        [Expect("-1.5")] public static double RemNegative() { return D(-7.5) % D(2.0); }
        [Expect("1")] public static float RemFloat() { return F(10f) % F(3f); }
        [Expect("NaN")] public static double RemByZero() { return D(1.0) % D(0.0); }
        [Expect("-2")] public static double Neg() { return -D(2.0); }
        [Expect("-0")] public static double NegZero() { return -D(0.0); }
        [Expect("0")] public static double ZeroPlusNegZero() { return D(0.0) + D(-0.0); }
        [Expect("inf")] public static double DivByZero() { return D(1.0) / D(0.0); }
        [Expect("-inf")] public static double DivByNegZero() { return D(1.0) / D(-0.0); }
        [Expect("NaN")] public static double ZeroByZero() { return D(0.0) / D(0.0); }
        [Expect("NaN")] public static double InfMinusInf() { return D(double.PositiveInfinity) - D(double.PositiveInfinity); }
        [Expect("inf")] public static float FloatOverflowsToInf() { return F(3e38f) * F(10f); }
        [Expect("179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000")]
        public static double MaxValue() { return D(double.MaxValue); }
        [Expect("0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005")]
        public static double Epsilon() { return D(double.Epsilon); }
        [Expect("0.000000000000000000000000000000000000000000001")] public static float FloatEpsilon() { return F(float.Epsilon); }
        [Expect("340282350000000000000000000000000000000")] public static float FloatMax() { return F(float.MaxValue); }
        [Expect("1")] public static bool Less() { return D(1.0) < D(2.0); }
        [Expect("0")] public static bool NaNLess() { return D(double.NaN) < D(1.0); }
        [Expect("0")] public static bool NaNGreater() { return D(double.NaN) > D(1.0); }
        [Expect("0")] public static bool NaNEqualsItself() { double n = D(double.NaN); return n == n; }
        [Expect("1")] public static bool NaNNotEqualsItself() { double n = D(double.NaN); return n != n; }
        [Expect("0")] public static bool NaNLessOrEqual() { return D(double.NaN) <= D(1.0); }
        [Expect("0")] public static bool NaNGreaterOrEqual() { return D(double.NaN) >= D(1.0); }
        [Expect("1")] public static bool NotLessIsTrueForNaN() { return !(D(double.NaN) < D(1.0)); }
        [Expect("1")] public static bool NotGreaterOrEqualIsTrueForNaN() { return !(D(double.NaN) >= D(1.0)); }
        [Expect("2")]
        public static int NaNBranches()
        {
            double n = D(double.NaN);
            int r = 0;
            if (n < 1.0) r += 1;
            if (!(n < 1.0)) r += 2;       // bge.un
            if (n > 1.0) r += 4;
            if (n == n) r += 8;
            return r;
        }
        [Expect("7")]
        public static int FloatNaNBranches()
        {
            float n = F(float.NaN);
            int r = 0;
            if (!(n <= 0f)) r += 1;       // bgt.un
            if (!(n >= 0f)) r += 2;       // blt.un
            if (n != 0f) r += 4;          // bne.un
            if (n == 0f) r += 8;
            return r;
        }
        [Expect("1")] public static bool NegZeroEqualsZero() { return D(-0.0) == D(0.0); }
        [Expect("1")] public static bool InfinityGreaterThanMax() { return D(double.PositiveInfinity) > D(double.MaxValue); }
        [Expect("1")] public static bool FloatCompare() { return F(1.0000001f) > F(1.0f); }
        [Expect("0")] public static bool FloatPrecisionLoss() { return F(16777217f) > F(16777216f); }
        [Expect("3")] public static int ToInt() { return (int)D(3.999); }
        [Expect("-3")] public static int ToIntNegative() { return (int)D(-3.999); }
        [Expect("1")] public static float IntToFloat() { return (float)I(1); }
        [Expect("0.1")] public static double FloatWidenedIsNotPointOne() { return (double)F(0.1f) == 0.1 ? 0.0 : 0.1; }
        [Expect("3.1415927")] public static float PiFloat() { return F(3.14159265358979f); }
        [Expect("3.141592653589793")] public static double PiDouble() { return D(3.14159265358979323846); }
        [Expect("1.0000001")] public static float FloatAddRoundsToFloat() { float a = F(1.0f), b = F(1.0e-7f); return a + b; }
        [Expect("1")]
        public static float FloatIntermediateIsRounded()
        {
            // (a + b) - a must be computed in float32, not kept at higher precision.
            float a = F(16777216f), b = F(1f);
            float s = a + b;
            return s - a + F(1f);
        }
        [Expect("2")]
        public static double SqrtByNewton()
        {
            double x = D(4.0), g = 1.0;
            for (int i = 0; i < 20; i++) g = (g + x / g) / 2;
            return g;
        }
        [Expect("5050")]
        public static double SumLoop()
        {
            double s = 0;
            for (int i = 1; i <= 100; i++) s += i;
            return s;
        }
        [Expect("0.9999999999999999")]
        public static double RepeatedAdd()
        {
            double s = 0;
            for (int i = 0; i < 10; i++) s += D(0.1);
            return s;
        }
        [Expect("-7")] public static long DoubleToLongNegative() { return (long)D(-7.9); }
        [Expect("1")] public static float MixedFloatDouble() { float f = F(0.5f); double d = D(0.5); return (float)(f + d); }
    }
}
