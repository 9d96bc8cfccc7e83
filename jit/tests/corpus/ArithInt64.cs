// ArithInt64.cs: add, sub, mul, div, div.un, rem, rem.un, neg on int64 (wrapping),
// and mixing int32 with int64 (conv.i8 / conv.u8 insertion by the compiler).
using System;

namespace Corpus
{
    public static class ArithInt64
    {
        static long L(long x) { return x; }
        static ulong U(ulong x) { return x; }
        static int I(int x) { return x; }

        [Expect("5000000000")] public static long Add() { return L(2000000000) + L(3000000000); }
        [Expect("-9223372036854775808")] public static long AddWraps() { return unchecked(L(long.MaxValue) + L(1)); }
        [Expect("9223372036854775807")] public static long SubWraps() { return unchecked(L(long.MinValue) - L(1)); }
        [Expect("-1")] public static long Sub() { return L(4294967296) - L(4294967297); }
        [Expect("6000000000000000000")] public static long Mul() { return L(3000000000) * L(2000000000); }
        [Expect("-8446744073709551616")] public static long MulWraps() { return unchecked(L(10000000000) * L(1000000000)); }
        [Expect("1")] public static long MulMaxMax() { return unchecked(L(long.MaxValue) * L(long.MaxValue)); }
        [Expect("-9223372036854775808")] public static long NegMin() { return unchecked(-L(long.MinValue)); }
        [Expect("-4294967296")] public static long Neg() { return -L(4294967296); }
        [Expect("3")] public static long Div() { return L(7) / L(2); }
        [Expect("-4611686018427387904")] public static long DivNegative() { return L(long.MinValue) / L(2); }
        [Expect("-1")] public static long Rem() { return L(-9) % L(4); }
        [Expect("4294967295")] public static long DivLarge() { return L(long.MaxValue) / L(2147483648); }
        [Expect("2147483647")] public static long RemLarge() { return L(long.MaxValue) % L(2147483648); }
        [ExpectError("divide-by-zero")] public static long DivByZero() { return L(1) / L(0); }
        [ExpectError("divide-by-zero")] public static long RemByZero() { return L(1) % L(0); }
        [ExpectError("overflow")] public static long DivMinByMinusOne() { return L(long.MinValue) / L(-1); }
        [ExpectError("overflow")] public static long RemMinByMinusOne() { return L(long.MinValue) % L(-1); }
        [Expect("9223372036854775807")] public static ulong DivUn() { return U(ulong.MaxValue) / U(2); }
        [Expect("1")] public static ulong RemUn() { return U(ulong.MaxValue) % U(2); }
        [Expect("1")] public static ulong DivUnTopBit() { return U(ulong.MaxValue) / U(0x8000000000000000); }
        [Expect("9223372036854775807")] public static ulong RemUnTopBit() { return U(ulong.MaxValue) % U(0x8000000000000000); }
        [Expect("4294967297")] public static ulong DivUnBy32Bit() { return U(ulong.MaxValue) / U(4294967295); }
        [ExpectError("divide-by-zero")] public static ulong DivUnByZero() { return U(1) / U(0); }
        [Expect("18446744073709551615")] public static ulong ULongSubWraps() { return unchecked(U(0) - U(1)); }
        // int + long: mcs sign-extends the int operand (conv.i8).
        [Expect("4294967295")] public static long IntPlusLong() { return I(-1) + L(4294967296); }
        // uint + long: the uint operand is zero-extended (conv.u8).
        [Expect("8589934591")] public static long UIntPlusLong() { uint u = uint.MaxValue; return u + L(4294967296); }
        [Expect("-2147483648")] public static long IntMinWidened() { return (long)I(int.MinValue); }
        [Expect("4611686014132420609")] public static long SquareOfIntMax() { return (long)I(int.MaxValue) * I(int.MaxValue); }
        [Expect("1")] public static long IntMulIntWrapsBeforeWidening() { return unchecked((long)(I(int.MaxValue) * I(int.MaxValue))); }
        [Expect("-10")]
        public static long Compound()
        {
            long x = 1L << 40;
            x /= 1L << 20; x *= -3; x %= 7; x -= 5; x /= 1;
            return x;
        }
        [Expect("3628800")]
        public static long Factorial10()
        {
            long r = 1;
            for (long i = 2; i <= 10; i++) r *= i;
            return r;
        }
        [Expect("2432902008176640000")]
        public static long Factorial20()
        {
            long r = 1;
            for (int i = 2; i <= 20; i++) r *= i;
            return r;
        }
        [Expect("-4249290049419214848")]
        public static long Factorial21Wraps()
        {
            long r = 1;
            for (int i = 2; i <= 21; i++) r = unchecked(r * i);
            return r;
        }
        [Expect("12157665459056928801")] public static ulong Pow3To40()
        {
            ulong r = 1;
            for (int i = 0; i < 40; i++) r *= 3;
            return r;
        }
    }
}
