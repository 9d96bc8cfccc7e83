// Compare.cs: ceq, cgt, cgt.un, clt, clt.un, every conditional branch (signed,
// unsigned, short and long forms), brtrue/brfalse on each width, switch.
using System;

namespace Corpus
{
    public static class Compare
    {
        static int I(int x) { return x; }
        static uint U(uint x) { return x; }
        static long L(long x) { return x; }
        static ulong UL(ulong x) { return x; }
        static object O(object x) { return x; }

        [Expect("1")] public static bool Ceq() { return I(5) == I(5); }
        [Expect("0")] public static bool CeqFalse() { return I(5) == I(6); }
        [Expect("1")] public static bool Cne() { return I(5) != I(6); }
        [Expect("1")] public static bool CltSigned() { return I(-1) < I(0); }
        [Expect("0")] public static bool CltUnsigned() { return U(0xFFFFFFFF) < U(0); }
        [Expect("1")] public static bool CgtUnsigned() { return U(0x80000000) > U(0x7FFFFFFF); }
        [Expect("0")] public static bool CgtSigned() { return I(int.MinValue) > I(int.MaxValue); }
        [Expect("1")] public static bool CleSigned() { return I(int.MinValue) <= I(int.MinValue); }
        [Expect("1")] public static bool CgeUnsigned() { return U(uint.MaxValue) >= U(0); }
        [Expect("1")] public static bool CltLong() { return L(long.MinValue) < L(0); }
        [Expect("1")] public static bool CltLongUpperHalf() { return L(0x100000000) > L(0xFFFFFFFF); }
        [Expect("1")] public static bool CltULong() { return UL(0x7FFFFFFFFFFFFFFF) < UL(0x8000000000000000); }
        [Expect("0")] public static bool CeqLongDiffersInUpper() { return L(0x100000001) == L(1); }
        [Expect("1")] public static bool CeqObjects() { object a = O(null); return a == null; }
        [Expect("0")] public static bool CeqDistinctObjects() { return O(new object()) == O(new object()); }
        [Expect("1")] public static bool CeqSameObject() { object a = new object(); return O(a) == O(a); }

        static int Classify(int x)
        {
            if (x < 0) return -1;
            if (x == 0) return 0;
            if (x > 100) return 2;
            return 1;
        }
        static int ClassifyU(uint x)
        {
            if (x >= 0x80000000) return 3;
            if (x > 10) return 2;
            if (x <= 1) return 0;
            return 1;
        }
        [Expect("-1")] public static int BranchLt() { return Classify(-5); }
        [Expect("0")] public static int BranchEq() { return Classify(0); }
        [Expect("2")] public static int BranchGt() { return Classify(101); }
        [Expect("1")] public static int BranchFallthrough() { return Classify(100); }
        [Expect("3")] public static int BranchGeUn() { return ClassifyU(0xFFFFFFFF); }
        [Expect("2")] public static int BranchGtUn() { return ClassifyU(11); }
        [Expect("0")] public static int BranchLeUn() { return ClassifyU(1); }
        [Expect("1")] public static int BranchMiddleUn() { return ClassifyU(10); }
        [Expect("-1")] public static int BranchLong() { long v = L(-4294967296); return v < 0 ? -1 : 1; }
        [Expect("1")] public static int BrTrueLongUpperBitsOnly() { long v = L(0x100000000); return v != 0 ? 1 : 0; }
        [Expect("1")] public static int BrTrueByte() { byte b = 128; return b != 0 ? 1 : 0; }
        [Expect("0")] public static int BrFalseNull() { object o = O(null); return o != null ? 1 : 0; }
        [Expect("1")] public static int BrTrueObject() { object o = O(new object()); return o != null ? 1 : 0; }
        [Expect("1")] public static int ShortCircuitAnd() { int x = I(5); return (x > 0 && x < 10) ? 1 : 0; }
        [Expect("1")] public static int ShortCircuitOr() { int x = I(50); return (x < 0 || x > 10) ? 1 : 0; }
        [Expect("0")]
        public static int ShortCircuitSkipsDivide()
        {
            int d = I(0);
            return (d != 0 && 10 / d > 1) ? 1 : 0;
        }
        [Expect("7")] public static int Ternary() { int a = I(3), b = I(7); return a > b ? a : b; }
        [Expect("1")] public static int NestedTernary() { int a = I(0); return a < 0 ? -1 : a == 0 ? 1 : 2; }

        static int Sw(int x)
        {
            switch (x)
            {
                case 0: return 100;
                case 1: return 101;
                case 2: return 102;
                case 3: return 103;
                case 5: return 105;
                default: return -1;
            }
        }
        [Expect("100")] public static int SwitchFirst() { return Sw(0); }
        [Expect("103")] public static int SwitchMiddle() { return Sw(3); }
        [Expect("-1")] public static int SwitchHole() { return Sw(4); }
        [Expect("105")] public static int SwitchLast() { return Sw(5); }
        [Expect("-1")] public static int SwitchAbove() { return Sw(6); }
        [Expect("-1")] public static int SwitchNegative() { return Sw(-1); }
        // switch compares unsigned: a huge value must not index the table.
        [Expect("-1")] public static int SwitchMinValue() { return Sw(int.MinValue); }

        static int SwOffset(int x)
        {
            switch (x)
            {
                case 10: return 1;
                case 11: return 2;
                case 12: return 3;
                case 13: return 4;
                default: return 0;
            }
        }
        [Expect("3")] public static int SwitchWithBias() { return SwOffset(12); }
        [Expect("0")] public static int SwitchWithBiasBelow() { return SwOffset(9); }

        static int SwFallThroughCases(int x)
        {
            int r = 0;
            switch (x)
            {
                case 1:
                case 2: r = 12; break;
                case 3: r = 3; goto case 4;
                case 4: r += 40; break;
            }
            return r;
        }
        [Expect("12")] public static int SwitchSharedCase() { return SwFallThroughCases(2); }
        [Expect("43")] public static int SwitchGotoCase() { return SwFallThroughCases(3); }
        [Expect("0")] public static int SwitchNoMatch() { return SwFallThroughCases(9); }

        static int SwLong(long x)
        {
            switch (x)
            {
                case 0: return 1;
                case 1: return 2;
                case 2: return 3;
                case 4294967296: return 4;
                default: return 0;
            }
        }
        [Expect("2")] public static int SwitchLong() { return SwLong(1); }
        [Expect("4")] public static int SwitchLongBig() { return SwLong(4294967296); }
        [Expect("0")] public static int SwitchLongUpperBits() { return SwLong(4294967297); }

        static int SwChar(char c)
        {
            switch (c)
            {
                case 'a': return 1;
                case 'b': return 2;
                case 'z': return 26;
                default: return 0;
            }
        }
        [Expect("26")] public static int SwitchChar() { return SwChar('z'); }
        [Expect("55")]
        public static int WhileLoop()
        {
            int i = 0, s = 0;
            while (i <= 10) { s += i; i++; }
            return s;
        }
        [Expect("10")]
        public static int DoWhileLoop()
        {
            int i = 0;
            do { i++; } while (i < 10);
            return i;
        }
        [Expect("25")]
        public static int BreakContinue()
        {
            int s = 0;
            for (int i = 0; ; i++)
            {
                if (i >= 10) break;
                if (i % 2 == 0) continue;
                s += i;
            }
            return s;
        }
        [Expect("64")]
        public static int NestedLoops()
        {
            int c = 0;
            for (int i = 0; i < 8; i++)
                for (int j = 0; j < 8; j++)
                    c++;
            return c;
        }
        [Expect("6")]
        public static int Goto()
        {
            int i = 0;
        again:
            i += 2;
            if (i < 5) goto again;
            return i;
        }
        // Long branch forms: a loop body bigger than 127 bytes of IL.
        [Expect("1000")]
        public static int LongBranchLoop()
        {
            int s = 0;
            for (int i = 0; i < 10; i++)
            {
                s += I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1);
                s += I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1);
                s += I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1);
                s += I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1);
                s += I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1);
                s += I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1);
                s += I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1);
                s += I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1);
                s += I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1);
                s += I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1) + I(1);
            }
            return s;
        }
    }
}
