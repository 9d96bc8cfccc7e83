// DeepStack.cs: expressions nested 30+ deep, so the evaluation stack holds more
// values than there are registers (spills), across calls and branches.
// Generated once by a script; the expectations were computed independently of C#.
using System;

namespace Corpus
{
    public static class DeepStack
    {
        static int I(int x) { return x; }
        static long L(long x) { return x; }
        static double D(double x) { return x; }
        static int Mix(int a, int b) { return unchecked(a * 3 + b * 2 - 1); }
        static int Eight(int a, int b, int c, int d, int e, int f, int g, int h) { return unchecked(a + b + c + d + e + f + g + h); }

        [Expect("820")]
        public static int RightNestedAdd40()
        {
            return I(40) + (I(39) + (I(38) + (I(37) + (I(36) + (I(35) + (I(34) + (I(33) + (I(32) + (I(31) + (I(30) + (I(29) + (I(28) + (I(27) + (I(26) + (I(25) + (I(24) + (I(23) + (I(22) + (I(21) + (I(20) + (I(19) + (I(18) + (I(17) + (I(16) + (I(15) + (I(14) + (I(13) + (I(12) + (I(11) + (I(10) + (I(9) + (I(8) + (I(7) + (I(6) + (I(5) + (I(4) + (I(3) + (I(2) + (I(1))))))))))))))))))))))))))))))))))))))));
        }
        [Expect("-213379026")]
        public static int AlternatingOps32()
        {
            return (I(33) - ((I(32) + ((I(31) ^ ((I(30) * ((I(29) - ((I(28) + ((I(27) ^ ((I(26) * ((I(25) - ((I(24) + ((I(23) ^ ((I(22) * ((I(21) - ((I(20) + ((I(19) ^ ((I(18) * ((I(17) - ((I(16) + ((I(15) ^ ((I(14) * ((I(13) - ((I(12) + ((I(11) ^ ((I(10) * ((I(9) - ((I(8) + ((I(7) ^ ((I(6) * ((I(5) - ((I(4) + ((I(3) ^ ((I(2) * (I(1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))));
        }
        [Expect("603245878443372789")]
        public static long LongNested35()
        {
            return unchecked((L(36000000252) + ((L(35000000245) - ((L(34000000238) * ((L(33000000231) + ((L(32000000224) - ((L(31000000217) * ((L(30000000210) + ((L(29000000203) - ((L(28000000196) * ((L(27000000189) + ((L(26000000182) - ((L(25000000175) * ((L(24000000168) + ((L(23000000161) - ((L(22000000154) * ((L(21000000147) + ((L(20000000140) - ((L(19000000133) * ((L(18000000126) + ((L(17000000119) - ((L(16000000112) * ((L(15000000105) + ((L(14000000098) - ((L(13000000091) * ((L(12000000084) + ((L(11000000077) - ((L(10000000070) * ((L(9000000063) + ((L(8000000056) - ((L(7000000049) * ((L(6000000042) + ((L(5000000035) - ((L(4000000028) * ((L(3000000021) + ((L(2000000014) - (L(1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))));
        }
        [Expect("1073741729")]
        public static int NestedCalls30()
        {
            return Mix(I(30), Mix(I(29), Mix(I(28), Mix(I(27), Mix(I(26), Mix(I(25), Mix(I(24), Mix(I(23), Mix(I(22), Mix(I(21), Mix(I(20), Mix(I(19), Mix(I(18), Mix(I(17), Mix(I(16), Mix(I(15), Mix(I(14), Mix(I(13), Mix(I(12), Mix(I(11), Mix(I(10), Mix(I(9), Mix(I(8), Mix(I(7), Mix(I(6), Mix(I(5), Mix(I(4), Mix(I(3), Mix(I(2), Mix(I(1), I(0)))))))))))))))))))))))))))))));
        }
        [Expect("496")]
        public static double DoubleNested30()
        {
            return (D(31) + ((D(30) + ((D(29) + ((D(28) + ((D(27) + ((D(26) + ((D(25) + ((D(24) + ((D(23) + ((D(22) + ((D(21) + ((D(20) + ((D(19) + ((D(18) + ((D(17) + ((D(16) + ((D(15) + ((D(14) + ((D(13) + ((D(12) + ((D(11) + ((D(10) + ((D(9) + ((D(8) + ((D(7) + ((D(6) + ((D(5) + ((D(4) + ((D(3) + ((D(2) + (D(1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))));
        }
        [Expect("1156")]
        public static int EightArgCallsNested30()
        {
            return Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), Eight(I(1), I(2), I(3), I(1), I(5), I(6), I(7), I(0)), I(5), I(6), I(7), I(1)), I(5), I(6), I(7), I(2)), I(5), I(6), I(7), I(3)), I(5), I(6), I(7), I(4)), I(5), I(6), I(7), I(5)), I(5), I(6), I(7), I(6)), I(5), I(6), I(7), I(7)), I(5), I(6), I(7), I(8)), I(5), I(6), I(7), I(9)), I(5), I(6), I(7), I(10)), I(5), I(6), I(7), I(11)), I(5), I(6), I(7), I(12)), I(5), I(6), I(7), I(13)), I(5), I(6), I(7), I(14)), I(5), I(6), I(7), I(15)), I(5), I(6), I(7), I(16)), I(5), I(6), I(7), I(17)), I(5), I(6), I(7), I(18)), I(5), I(6), I(7), I(19)), I(5), I(6), I(7), I(20)), I(5), I(6), I(7), I(21)), I(5), I(6), I(7), I(22)), I(5), I(6), I(7), I(23)), I(5), I(6), I(7), I(24)), I(5), I(6), I(7), I(25)), I(5), I(6), I(7), I(26)), I(5), I(6), I(7), I(27)), I(5), I(6), I(7), I(28)), I(5), I(6), I(7), I(29));
        }
        [Expect("55")]
        public static int TernaryNested10()
        {
            // mcs takes exponential time on deeper ?: nests; 10 levels still branch with values on the stack.
            return (I(10) + (I(10) > 5 ? ((I(9) + (I(9) > 5 ? ((I(8) + (I(8) > 5 ? ((I(7) + (I(7) > 5 ? ((I(6) + (I(6) > 5 ? ((I(5) + (I(5) > 5 ? ((I(4) + (I(4) > 5 ? ((I(3) + (I(3) > 5 ? ((I(2) + (I(2) > 5 ? ((I(1) + (I(1) > 5 ? (I(0)) : I(1) * 2))) : I(2) * 2))) : I(3) * 2))) : I(4) * 2))) : I(5) * 2))) : I(6) * 2))) : I(7) * 2))) : I(8) * 2))) : I(9) * 2))) : I(10) * 2));
        }
        [Expect("1457")]
        public static long StructFieldsDeep()
        {
            S40 s; s.A = 1; s.B = 2; s.C = 3; s.D = 4; s.E = 5;
            return s.A * L(0) + (s.B * L(1) + (s.C * L(2) + (s.D * L(3) + (s.E * L(4) + (s.A * L(5) + (s.B * L(6) + (s.C * L(7) + (s.D * L(8) + (s.E * L(9) + (s.A * L(10) + (s.B * L(11) + (s.C * L(12) + (s.D * L(13) + (s.E * L(14) + (s.A * L(15) + (s.B * L(16) + (s.C * L(17) + (s.D * L(18) + (s.E * L(19) + (s.A * L(20) + (s.B * L(21) + (s.C * L(22) + (s.D * L(23) + (s.E * L(24) + (s.A * L(25) + (s.B * L(26) + (s.C * L(27) + (s.D * L(28) + (s.E * L(29) + (s.A * L(30) + (s.B * L(31))))))))))))))))))))))))))))))));
        }
    }
}
