// Bitwise.cs: and, or, xor, not, shl, shr, shr.un on int32 and int64; shift counts
// are masked by C# (& 31 / & 63); shr keeps the sign, shr.un shifts in zeros.
using System;

namespace Corpus
{
    public static class Bitwise
    {
        static int I(int x) { return x; }
        static uint U(uint x) { return x; }
        static long L(long x) { return x; }
        static ulong UL(ulong x) { return x; }

        [Expect("8")] public static int And() { return I(12) & I(10); }
        [Expect("14")] public static int Or() { return I(12) | I(10); }
        [Expect("6")] public static int Xor() { return I(12) ^ I(10); }
        [Expect("-13")] public static int Not() { return ~I(12); }
        [Expect("2147483647")] public static int NotMin() { return ~I(int.MinValue); }
        [Expect("-1")] public static int OrAllBits() { return I(0x55555555) | unchecked((int)0xAAAAAAAA); }
        [Expect("16")] public static int Shl() { return I(1) << I(4); }
        [Expect("-2147483648")] public static int ShlIntoSign() { return I(1) << I(31); }
        [Expect("2")] public static int ShlCountMasked() { return I(1) << I(33); }
        // mono 6.8 gets this wrong with its default optimisations (inlining + folding
        // of neg then shr gives 109300); see ../mono-runner/mono-known-bugs.txt.
        [Expect("-5388")]
        public static int NegThenShrOfInlinedCalls()
        {
            int a = I(6);
            return (-(I(66) * (a | I(-434127727)))) >> I(1108530066);   // count & 31 = 18
        }
        [Expect("-4")] public static int ShrNegative() { return I(-16) >> I(2); }
        [Expect("-1")] public static int ShrNegativeAll() { return I(-1) >> I(31); }
        [Expect("-1")] public static int ShrMinBy31() { return I(int.MinValue) >> I(31); }
        [Expect("1073741820")] public static uint ShrUnNegative() { return U(0xFFFFFFF0) >> I(2); }
        [Expect("1")] public static uint ShrUnTopBit() { return U(0x80000000) >> I(31); }
        [Expect("1073741820")] public static int ShrUnViaCast() { return (int)((uint)I(-16) >> 2); }
        [Expect("1")] public static int ShrCountMasked() { return I(2) >> I(33); }
        [Expect("4294967296")] public static long ShlLong() { return L(1) << I(32); }
        [Expect("-9223372036854775808")] public static long ShlLongIntoSign() { return L(1) << I(63); }
        [Expect("2")] public static long ShlLongCountMasked() { return L(1) << I(65); }
        [Expect("-4294967296")] public static long ShrLongNegative() { return L(-8589934592) >> I(1); }
        [Expect("-1")] public static long ShrLongNegativeAll() { return L(long.MinValue) >> I(63); }
        // seed (later ProtonOS bug): shr.un on 64-bit values lost the upper 32 bits.
        [Expect("9223372036854775807")] public static ulong ShrUnLongNegative() { return UL(ulong.MaxValue) >> I(1); }
        [Expect("4294967295")] public static ulong ShrUnLongBy32() { return UL(ulong.MaxValue) >> I(32); }
        [Expect("1")] public static ulong ShrUnLongTopBit() { return UL(0x8000000000000000) >> I(63); }
        [Expect("1193046")] public static ulong ShrUnLongKeepsUpper() { return UL(0x0123456789ABCDEF) >> I(36); }
        [Expect("305419896")] public static long ShrLongUpperHalf() { return L(0x12345678ABCDEF00) >> I(32); }
        [Expect("-1698898192")] public static long ShrLongSignedUpper() { return L(unchecked((long)0x9ABCDEF012345678)) >> I(32); }
        [Expect("81985529216486895")] public static long AndLong() { return L(0x0123456789ABCDEF) & L(-1); }
        [Expect("-81985529216486896")] public static long NotLong() { return ~L(0x0123456789ABCDEF); }
        [Expect("-1")] public static long OrLong() { return L(unchecked((long)0xF0F0F0F0F0F0F0F0)) | L(0x0F0F0F0F0F0F0F0F); }
        [Expect("1311768465173141112")] public static long XorLong() { return L(0x1234567800000000) ^ L(0x0000000012345678); }
        [Expect("4294967295")] public static long AndLongWithUIntMask() { return L(-1) & 0xFFFFFFFFL; }
        [Expect("8")] public static int CountBits()
        {
            int v = 0xF00F, c = 0;
            while (v != 0) { c += v & 1; v >>= 1; }
            return c;
        }
        [Expect("32")] public static int CountBitsOfMinusOne()
        {
            uint v = U(uint.MaxValue); int c = 0;
            while (v != 0) { c += (int)(v & 1); v >>= 1; }
            return c;
        }
        [Expect("64")] public static int CountBitsOfLongMinusOne()
        {
            ulong v = UL(ulong.MaxValue); int c = 0;
            while (v != 0) { c += (int)(v & 1); v >>= 1; }
            return c;
        }
        [Expect("-1")] public static int RotateLeftMinusOne() { uint v = U(0xFFFFFFFF); return (int)((v << 7) | (v >> 25)); }
        [Expect("591751041")] public static uint RotateLeft() { uint v = U(0x12345678); return (v << 4) | (v >> 28); }
        [Expect("1")] public static bool BoolAnd() { bool a = I(1) == 1, b = I(2) == 2; return a & b; }
        [Expect("1")] public static bool BoolXor() { bool a = I(1) == 1, b = I(2) == 3; return a ^ b; }
        [Expect("0")] public static bool BoolNot() { bool a = I(1) == 1; return !a; }
        [Expect("240")] public static int ByteNotMasked() { byte b = 0x0F; return (byte)~b; }
    }
}
