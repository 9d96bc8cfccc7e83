// Overflow.cs: add.ovf, add.ovf.un, sub.ovf(.un), mul.ovf(.un), conv.ovf.* and
// conv.ovf.*.un, each with a passing case and an overflowing one.
using System;

namespace Corpus
{
    public static class Overflow
    {
        static int I(int x) { return x; }
        static uint U(uint x) { return x; }
        static long L(long x) { return x; }
        static ulong UL(ulong x) { return x; }
        static double D(double x) { return x; }
        static float F(float x) { return x; }

        [Expect("2147483647")] public static int AddOvfOk() { return checked(I(2147483646) + I(1)); }
        [ExpectError("overflow")] public static int AddOvf() { return checked(I(int.MaxValue) + I(1)); }
        [ExpectError("overflow")] public static int AddOvfNegative() { return checked(I(int.MinValue) + I(-1)); }
        [Expect("-2147483648")] public static int SubOvfOk() { return checked(I(-2147483647) - I(1)); }
        [ExpectError("overflow")] public static int SubOvf() { return checked(I(int.MinValue) - I(1)); }
        [ExpectError("overflow")] public static int SubOvfFromMaxSide() { return checked(I(int.MaxValue) - I(-1)); }
        [Expect("-2147483648")] public static int MulOvfOk() { return checked(I(-65536) * I(32768)); }
        [ExpectError("overflow")] public static int MulOvf() { return checked(I(65536) * I(32768)); }
        [ExpectError("overflow")] public static int MulOvfMinByMinusOne() { return checked(I(int.MinValue) * I(-1)); }
        [Expect("4294967295")] public static uint AddOvfUnOk() { return checked(U(4294967294) + U(1)); }
        [ExpectError("overflow")] public static uint AddOvfUn() { return checked(U(uint.MaxValue) + U(1)); }
        [Expect("0")] public static uint SubOvfUnOk() { return checked(U(5) - U(5)); }
        [ExpectError("overflow")] public static uint SubOvfUn() { return checked(U(0) - U(1)); }
        [Expect("4294967295")] public static uint MulOvfUnOk() { return checked(U(65535) * U(65537)); }
        [ExpectError("overflow")] public static uint MulOvfUn() { return checked(U(65536) * U(65536)); }
        [Expect("9223372036854775807")] public static long AddOvfI8Ok() { return checked(L(long.MaxValue - 1) + L(1)); }
        [ExpectError("overflow")] public static long AddOvfI8() { return checked(L(long.MaxValue) + L(1)); }
        [ExpectError("overflow")] public static long SubOvfI8() { return checked(L(long.MinValue) - L(1)); }
        [Expect("-9223372036854775808")] public static long MulOvfI8Ok() { return checked(L(-4294967296) * L(2147483648)); }
        [ExpectError("overflow")] public static long MulOvfI8() { return checked(L(4294967296) * L(2147483648)); }
        [ExpectError("overflow")] public static long MulOvfI8Negative() { return checked(L(-4294967296) * L(4294967296)); }
        [ExpectError("overflow")] public static ulong AddOvfU8() { return checked(UL(ulong.MaxValue) + UL(1)); }
        [ExpectError("overflow")] public static ulong SubOvfU8() { return checked(UL(1) - UL(2)); }
        [Expect("18446744065119617025")] public static ulong MulOvfU8Ok() { return checked(UL(4294967295) * UL(4294967295)); }
        [ExpectError("overflow")] public static ulong MulOvfU8() { return checked(UL(4294967296) * UL(4294967296)); }

        // conv.ovf.* from signed int32
        [Expect("127")] public static sbyte ConvOvfI1Ok() { return checked((sbyte)I(127)); }
        [ExpectError("overflow")] public static sbyte ConvOvfI1() { return checked((sbyte)I(128)); }
        [ExpectError("overflow")] public static sbyte ConvOvfI1Low() { return checked((sbyte)I(-129)); }
        [Expect("255")] public static byte ConvOvfU1Ok() { return checked((byte)I(255)); }
        [ExpectError("overflow")] public static byte ConvOvfU1Negative() { return checked((byte)I(-1)); }
        [Expect("-32768")] public static short ConvOvfI2Ok() { return checked((short)I(-32768)); }
        [ExpectError("overflow")] public static short ConvOvfI2() { return checked((short)I(32768)); }
        [Expect("65535")] public static ushort ConvOvfU2Ok() { return checked((ushort)I(65535)); }
        [ExpectError("overflow")] public static ushort ConvOvfU2() { return checked((ushort)I(65536)); }
        [ExpectError("overflow")] public static uint ConvOvfU4Negative() { return checked((uint)I(-1)); }
        [ExpectError("overflow")] public static ulong ConvOvfU8Negative() { return checked((ulong)I(-1)); }
        [ExpectError("overflow")] public static char ConvOvfCharNegative() { return checked((char)I(-1)); }
        // conv.ovf.*.un from unsigned sources
        [ExpectError("overflow")] public static int ConvOvfI4UnFromUInt() { return checked((int)U(0x80000000)); }
        [Expect("2147483647")] public static int ConvOvfI4UnOk() { return checked((int)U(0x7FFFFFFF)); }
        [ExpectError("overflow")] public static sbyte ConvOvfI1Un() { return checked((sbyte)U(128)); }
        [ExpectError("overflow")] public static byte ConvOvfU1Un() { return checked((byte)U(256)); }
        [ExpectError("overflow")] public static long ConvOvfI8UnFromULong() { return checked((long)UL(0x8000000000000000)); }
        [Expect("9223372036854775807")] public static long ConvOvfI8UnOk() { return checked((long)UL(0x7FFFFFFFFFFFFFFF)); }
        // conv.ovf.* from int64
        [Expect("-2147483648")] public static int ConvOvfI4FromLongOk() { return checked((int)L(int.MinValue)); }
        [ExpectError("overflow")] public static int ConvOvfI4FromLong() { return checked((int)L(2147483648)); }
        [ExpectError("overflow")] public static int ConvOvfI4FromLongLow() { return checked((int)L(-2147483649)); }
        [Expect("4294967295")] public static uint ConvOvfU4FromLongOk() { return checked((uint)L(4294967295)); }
        [ExpectError("overflow")] public static uint ConvOvfU4FromLong() { return checked((uint)L(4294967296)); }
        [ExpectError("overflow")] public static uint ConvOvfU4FromLongNegative() { return checked((uint)L(-1)); }
        [ExpectError("overflow")] public static ulong ConvOvfU8FromLongNegative() { return checked((ulong)L(long.MinValue)); }
        [ExpectError("overflow")] public static short ConvOvfI2FromLong() { return checked((short)L(0x100000000)); }
        // conv.ovf.* from floating point (truncation toward zero, NaN overflows)
        [Expect("2147483647")] public static int ConvOvfI4FromDoubleOk() { return checked((int)D(2147483647.9)); }
        [ExpectError("overflow")] public static int ConvOvfI4FromDouble() { return checked((int)D(2147483648.0)); }
        [Expect("-2147483648")] public static int ConvOvfI4FromDoubleLowOk() { return checked((int)D(-2147483648.9)); }
        [ExpectError("overflow")] public static int ConvOvfI4FromNaN() { return checked((int)D(double.NaN)); }
        [ExpectError("overflow")] public static long ConvOvfI8FromInfinity() { return checked((long)D(double.PositiveInfinity)); }
        [ExpectError("overflow")] public static long ConvOvfI8FromDouble() { return checked((long)D(9223372036854775808.0)); }
        [Expect("0")] public static uint ConvOvfU4FromSmallNegativeDouble() { return checked((uint)D(-0.9)); }
        [ExpectError("overflow")] public static uint ConvOvfU4FromNegativeDouble() { return checked((uint)D(-1.0)); }
        [Expect("18446744073709549568")] public static ulong ConvOvfU8FromDoubleOk() { return checked((ulong)D(18446744073709549568.0)); }
        [ExpectError("overflow")] public static ulong ConvOvfU8FromDouble() { return checked((ulong)D(18446744073709551616.0)); }
        [ExpectError("overflow")] public static byte ConvOvfU1FromFloat() { return checked((byte)F(256.0f)); }
        [Expect("255")] public static byte ConvOvfU1FromFloatOk() { return checked((byte)F(255.99f)); }
        [Expect("100")]
        public static int CheckedLoopNoOverflow()
        {
            int s = 0;
            for (int i = 0; i < 100; i++) s = checked(s + 1);
            return s;
        }
        [ExpectError("overflow")]
        public static int CheckedLoopOverflows()
        {
            int s = 1;
            for (int i = 0; i < 40; i++) s = checked(s * 2);
            return s;
        }
    }
}
