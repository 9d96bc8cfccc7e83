// ArithInt32.cs: add, sub, mul, div, div.un, rem, rem.un, neg on int32 (wrapping).
using System;

namespace Corpus
{
    public static class ArithInt32
    {
        static int I(int x) { return x; }
        static uint U(uint x) { return x; }

        [Expect("5")] public static int Add() { return I(2) + I(3); }
        [Expect("-2147483648")] public static int AddWraps() { return unchecked(I(int.MaxValue) + I(1)); }
        [Expect("-2")] public static int AddMaxMax() { return unchecked(I(int.MaxValue) + I(int.MaxValue)); }
        [Expect("0")] public static int AddMinusOne() { return I(1) + I(-1); }
        [Expect("-1")] public static int Sub() { return I(2) - I(3); }
        [Expect("2147483647")] public static int SubWraps() { return unchecked(I(int.MinValue) - I(1)); }
        [Expect("42")] public static int Mul() { return I(6) * I(7); }
        [Expect("-42")] public static int MulNegative() { return I(-6) * I(7); }
        [Expect("1")] public static int MulWraps() { return unchecked(I(int.MaxValue) * I(int.MaxValue)); }
        [Expect("-2147483648")] public static int MulMinByMinusOne() { return unchecked(I(int.MinValue) * I(-1)); }
        [Expect("-2147483648")] public static int NegMin() { return unchecked(-I(int.MinValue)); }
        [Expect("-5")] public static int Neg() { return -I(5); }
        [Expect("3")] public static int Div() { return I(7) / I(2); }
        [Expect("-3")] public static int DivTruncatesTowardZero() { return I(-7) / I(2); }
        [Expect("3")] public static int DivBothNegative() { return I(-7) / I(-2); }
        [Expect("-2147483648")] public static int DivMinByOne() { return I(int.MinValue) / I(1); }
        [Expect("1")] public static int Rem() { return I(7) % I(2); }
        [Expect("-1")] public static int RemSignFollowsDividend() { return I(-7) % I(2); }
        [Expect("1")] public static int RemNegativeDivisor() { return I(7) % I(-2); }
        [Expect("0")] public static int RemMinByMinusOne2() { return I(int.MinValue) % I(2); }
        [ExpectError("divide-by-zero")] public static int DivByZero() { return I(1) / I(0); }
        [ExpectError("divide-by-zero")] public static int RemByZero() { return I(1) % I(0); }
        // ECMA-335 III.3.31: div of MinValue by -1 throws ArithmeticException; mono and
        // CoreCLR throw OverflowException, printed as overflow.
        [ExpectError("overflow")] public static int DivMinByMinusOne() { return I(int.MinValue) / I(-1); }
        [ExpectError("overflow")] public static int RemMinByMinusOne() { return I(int.MinValue) % I(-1); }
        [Expect("2147483647")] public static uint DivUn() { return U(uint.MaxValue) / U(2); }
        [Expect("1")] public static uint RemUn() { return U(uint.MaxValue) % U(2); }
        [Expect("0")] public static uint DivUnLargeDivisor() { return U(5) / U(0x80000000); }
        [Expect("1")] public static uint DivUnBothLarge() { return U(0xFFFFFFFF) / U(0x80000000); }
        [Expect("2147483647")] public static uint RemUnBothLarge() { return U(0xFFFFFFFF) % U(0x80000000); }
        [ExpectError("divide-by-zero")] public static uint DivUnByZero() { return U(1) / U(0); }
        [Expect("4294967295")] public static uint UIntSubWraps() { return unchecked(U(0) - U(1)); }
        [Expect("4294967294")] public static uint UIntMulWraps() { return unchecked(U(uint.MaxValue) * U(2)); }
        [Expect("-1")] public static int UIntToIntReinterpret() { return unchecked((int)U(uint.MaxValue)); }
        [Expect("100")]
        public static int CompoundAssign()
        {
            int x = 10;
            x *= 20; x -= 50; x /= 3; x %= 1000; x += 50;
            return x;
        }
        [Expect("3")]
        public static int IncrementDecrement()
        {
            int x = 1;
            x++; ++x; x--; x++;
            return x;
        }
        [Expect("255")] public static int ByteArithPromotes() { byte a = 200, b = 55; return a + b; }
        [Expect("0")] public static int ByteStoreWraps() { byte a = 200, b = 56; byte c = unchecked((byte)(a + b)); return c; }
        [Expect("-32768")] public static int ShortStoreWraps() { short a = short.MaxValue; a++; return a; }
        [Expect("65535")] public static int CharMinusOneWraps() { char c = (char)0; c--; return c; }
        [Expect("1234567")]
        public static int Horner()
        {
            int r = 0;
            for (int d = 1; d <= 7; d++) r = r * 10 + d;
            return r;
        }
        [Expect("-6")]
        public static int MixedSignChain() { return I(10) - I(4) * I(5) / I(2) + I(-7) % I(4) - I(3); }
    }
}
