// Conv.cs: every unchecked conv: conv.i1/i2/i4/i8/u1/u2/u4/u8/i/u/r4/r8/r.un, with
// truncation, sign extension and zero extension, from int32, int64 and floats.
using System;

namespace Corpus
{
    public static class Conv
    {
        static int I(int x) { return x; }
        static uint U(uint x) { return x; }
        static long L(long x) { return x; }
        static ulong UL(ulong x) { return x; }
        static double D(double x) { return x; }
        static float F(float x) { return x; }

        [Expect("-1")] public static int ConvI1() { return unchecked((sbyte)I(255)); }
        [Expect("127")] public static int ConvI1Truncates() { return unchecked((sbyte)I(0x17F)); }
        [Expect("-128")] public static int ConvI1SignExtends() { return unchecked((sbyte)I(0x80)); }
        [Expect("255")] public static int ConvU1() { return unchecked((byte)I(-1)); }
        [Expect("52")] public static int ConvU1Truncates() { return unchecked((byte)I(0x1234)); }
        [Expect("-32768")] public static int ConvI2() { return unchecked((short)I(0x8000)); }
        [Expect("22136")] public static int ConvI2Truncates() { return unchecked((short)I(0x12345678)); }
        [Expect("65535")] public static int ConvU2() { return unchecked((ushort)I(-1)); }
        [Expect("65535")] public static int ConvChar() { return unchecked((char)I(-1)); }
        [Expect("-1")] public static int ConvI4FromLong() { return unchecked((int)L(0x1FFFFFFFF)); }
        [Expect("-2147483648")] public static int ConvI4FromLongHalf() { return unchecked((int)L(0x80000000)); }
        [Expect("4294967295")] public static uint ConvU4FromLong() { return unchecked((uint)L(-1)); }
        [Expect("-1")] public static long ConvI8FromInt() { return (long)I(-1); }
        [Expect("4294967295")] public static long ConvU8FromUInt() { return (long)U(uint.MaxValue); }
        [Expect("18446744073709551615")] public static ulong ConvU8FromIntSignExtends() { return unchecked((ulong)I(-1)); }
        [Expect("4294967295")] public static ulong ConvU8FromUIntZeroExtends() { return (ulong)U(uint.MaxValue); }
        [Expect("-1")] public static int ConvI1FromLong() { return unchecked((sbyte)L(0x7FFFFFFFFF)); }
        [Expect("255")] public static int ConvU1FromLong() { return unchecked((byte)L(0x7FFFFFFFFF)); }
        [Expect("-1")] public static int ConvI2FromLong() { return unchecked((short)L(-1)); }
        [Expect("65535")] public static int ConvU2FromULong() { return unchecked((ushort)UL(ulong.MaxValue)); }
        [Expect("-1")] public static long ConvI8FromSByte() { sbyte s = -1; return s; }
        [Expect("255")] public static long ConvI8FromByte() { byte b = 255; return b; }
        [Expect("65535")] public static long ConvI8FromChar() { char c = '\uffff'; return c; }
        [Expect("-32768")] public static long ConvI8FromShort() { short s = short.MinValue; return s; }
        // Round trip int -> byte -> int in one expression.
        [Expect("44")] public static int NarrowThenWiden() { return (int)(byte)I(300); }
        [Expect("-56")] public static int NarrowSignedThenWiden() { return (int)unchecked((sbyte)I(200)); }

        // Floating-point conversions, truncation toward zero.
        [Expect("3")] public static int ConvI4FromDouble() { return (int)D(3.99); }
        [Expect("-3")] public static int ConvI4FromNegativeDouble() { return (int)D(-3.99); }
        [Expect("2147483647")] public static int ConvI4FromDoubleMax() { return (int)D(2147483647.0); }
        [Expect("-2147483648")] public static int ConvI4FromDoubleMin() { return (int)D(-2147483648.0); }
        [Expect("9007199254740993")] public static long ConvI8FromDouble() { return (long)D(9007199254740992.0) + 1; }
        [Expect("-9223372036854775808")] public static long ConvI8FromDoubleMin() { return (long)D(-9223372036854775808.0); }
        [Expect("3000000000")] public static uint ConvU4FromDouble() { return (uint)D(3000000000.0); }
        [Expect("10000000000000000000")] public static ulong ConvU8FromDoubleAbove2Pow63() { return (ulong)D(1e19); }
        [Expect("9223372036854775808")] public static ulong ConvU8FromDouble2Pow63() { return (ulong)D(9223372036854775808.0); }
        [Expect("200")] public static byte ConvU1FromDouble() { return (byte)D(200.7); }
        [Expect("-7")] public static int ConvI4FromFloat() { return (int)F(-7.5f); }
        [Expect("16777217")] public static long ConvI8FromFloatExact() { return (long)F(16777216f) + 1; }
        [Expect("2147483648")] public static double ConvR8FromInt() { return (double)I(int.MinValue) * -1.0; }
        [Expect("-1")] public static double ConvR8FromIntMinusOne() { return (double)I(-1); }
        [Expect("4294967295")] public static double ConvRUnFromUInt() { return (double)U(uint.MaxValue); }
        [Expect("18446744073709552000")] public static double ConvRUnFromULong() { return (double)UL(ulong.MaxValue); }
        [Expect("9223372036854776000")] public static double ConvRUnFromULongTopBit() { return (double)UL(0x8000000000000000); }
        [Expect("-9223372036854776000")] public static double ConvR8FromLongMin() { return (double)L(long.MinValue); }
        [Expect("9007199254740992")] public static double ConvR8FromLongRounds() { return (double)L(9007199254740993); }
        [Expect("16777216")] public static float ConvR4FromIntRounds() { return (float)I(16777217); }
        [Expect("4294967300")] public static float ConvR4FromUInt() { return (float)U(uint.MaxValue); }
        [Expect("18446744000000000000")] public static float ConvR4FromULong() { return (float)UL(ulong.MaxValue); }
        [Expect("0.1")] public static float ConvR4FromDouble() { return (float)D(0.1); }
        [Expect("0.10000000149011612")] public static double ConvR8FromFloat() { return (double)F(0.1f); }
        [Expect("inf")] public static float ConvR4FromHugeDouble() { return (float)D(1e300); }
        [Expect("0")] public static float ConvR4FromTinyDouble() { return (float)D(1e-300); }
        [Expect("-0")] public static float ConvR4FromTinyNegativeDouble() { return (float)D(-1e-300); }
        [Expect("97")] public static int CharFromByte() { byte b = 97; char c = (char)b; return c; }
        [Expect("200")] public static int ByteFromChar() { char c = (char)I(456); return (byte)c; }
    }
}
