// MathLib.cs: System.Math and MathF as programs use them (issue 12, item 3):
// rounding modes (Round is to even), signed zeros, NaN through Min/Max, Sqrt,
// exact powers, the double/float predicates. The generated half of this family
// is cil-compat/tests/jit_corpus/random_math.rs.
using System;

namespace Corpus
{
    public static class MathLib
    {
        static double D(double x) { return x; }
        static float F(float x) { return x; }

        [Expect("2")] public static double RoundHalfToEven() { return Math.Round(D(2.5)); }
        [Expect("4")] public static double RoundHalfUpToEven() { return Math.Round(D(3.5)); }
        [Expect("-2")] public static double RoundNegativeHalf() { return Math.Round(D(-2.5)); }
        [Expect("-0")] public static double RoundSmallNegative() { return Math.Round(D(-0.4)); }
        [Expect("-3")] public static double FloorNegative() { return Math.Floor(D(-2.5)); }
        [Expect("-2")] public static double CeilingNegative() { return Math.Ceiling(D(-2.5)); }
        [Expect("-0")] public static double CeilingNegativeSmall() { return Math.Ceiling(D(-0.5)); }
        [Expect("-2")] public static double TruncateNegative() { return Math.Truncate(D(-2.9)); }
        [Expect("1.4142135623730951")] public static double Sqrt2() { return Math.Sqrt(D(2.0)); }
        [Expect("NaN")] public static double SqrtNegative() { return Math.Sqrt(D(-1.0)); }
        [Expect("-0")] public static double SqrtNegativeZero() { return Math.Sqrt(D(-0.0)); }
        [Expect("1.4142135")] public static float Sqrt2F() { return MathF.Sqrt(F(2f)); }
        [Expect("1024")] public static double PowExact() { return Math.Pow(D(2.0), D(10.0)); }
        [Expect("1")] public static double PowZeroExponentOfNaN() { return Math.Pow(D(double.NaN), D(0.0)); }
        [Expect("0.25")] public static double PowNegativeExponent() { return Math.Pow(D(2.0), D(-2.0)); }
        [Expect("NaN")] public static double PowNegativeBaseFraction() { return Math.Pow(D(-8.0), D(1.0 / 3.0)); }
        [Expect("1")] public static double ExpZero() { return Math.Exp(D(0.0)); }
        [Expect("0")] public static double LogOne() { return Math.Log(D(1.0)); }
        [Expect("-inf")] public static double LogZero() { return Math.Log(D(0.0)); }
        [Expect("3")] public static double Log10Thousand() { return Math.Log10(D(1000.0)); }
        [Expect("3")] public static double LogBase() { return Math.Log(D(8.0), D(2.0)); }
        [Expect("0")] public static double SinZero() { return Math.Sin(D(0.0)); }
        [Expect("1")] public static double CosZero() { return Math.Cos(D(0.0)); }
        [Expect("0.7853981633974483")] public static double AtanOne() { return Math.Atan(D(1.0)); }
        [Expect("3.141592653589793")] public static double Atan2Pi() { return Math.Atan2(D(0.0), D(-1.0)); }
        [Expect("3.141592653589793")] public static double PiConstant() { return Math.PI; }
        [Expect("2.5")] public static double AbsNegative() { return Math.Abs(D(-2.5)); }
        [Expect("0")] public static double AbsNegativeZero() { return Math.Abs(D(-0.0)); }
        [Expect("1.5")] public static float AbsFloat() { return Math.Abs(F(-1.5f)); }
        [Expect("7")] public static short AbsShort() { return Math.Abs((short)-7); }
        [Expect("NaN")] public static double MaxNaNFirst() { return Math.Max(D(double.NaN), D(1.0)); }
        [Expect("NaN")] public static double MaxNaNSecond() { return Math.Max(D(1.0), D(double.NaN)); }
        [Expect("NaN")] public static double MinNaN() { return Math.Min(D(1.0), D(double.NaN)); }
        [Expect("-inf")] public static double MaxOfZerosIsSecond() { return 1.0 / Math.Max(D(0.0), D(-0.0)); }
        [Expect("inf")] public static double MinOfZerosIsSecond() { return 1.0 / Math.Min(D(-0.0), D(0.0)); }
        [Expect("2.5")] public static float MaxFloat() { return Math.Max(F(2.5f), F(-3f)); }
        [Expect("-1")] public static int SignDouble() { return Math.Sign(D(-0.1)); }
        [Expect("0")] public static int SignZero() { return Math.Sign(D(-0.0)); }
        [Expect("1")] public static int SignLong() { return Math.Sign(5L); }
        [Expect("15")] public static long BigMul() { return Math.BigMul(3, 5); }
        [Expect("1")] public static bool IsNaN() { return double.IsNaN(D(0.0) / D(0.0)); }
        [Expect("1")] public static bool IsInfinity() { return double.IsInfinity(D(-1.0) / D(0.0)); }
        [Expect("0")] public static bool IsFiniteInf() { return double.IsFinite(D(1.0) / D(0.0)); }
        [Expect("1")] public static bool IsFiniteMax() { return double.IsFinite(D(double.MaxValue)); }
        [Expect("1")] public static bool IsNegativeZero() { return double.IsNegative(D(-0.0)); }
        [Expect("1")] public static bool IsSubnormal() { return double.IsSubnormal(D(double.Epsilon)); }
        [Expect("0")] public static bool IsNormalZero() { return double.IsNormal(D(0.0)); }
        [Expect("1")] public static bool FloatIsNaN() { return float.IsNaN(F(0f) / F(0f)); }
        [Expect("1")] public static bool FloatIsPositiveInfinity() { return float.IsPositiveInfinity(F(3e38f) * F(10f)); }
        [Expect("1")] public static bool DoubleEqualsNaN() { return D(double.NaN).Equals(double.NaN); }
        [Expect("-1")] public static int DoubleCompareToNaN() { return D(double.NaN).CompareTo(1.0); }
        [Expect("1")] public static int FloatCompareTo() { return F(2f).CompareTo(1f); }
        [Expect("2")] public static float MathFRound() { return MathF.Round(F(2.5f)); }
        [Expect("-3")] public static float MathFFloor() { return MathF.Floor(F(-2.5f)); }
        [Expect("8")] public static float MathFPow() { return MathF.Pow(F(2f), F(3f)); }
    }
}
