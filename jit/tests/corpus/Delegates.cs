// Delegates.cs: ldftn / ldvirtftn + newobj of a delegate type, and Invoke (a
// runtime-implemented method) on static, instance, virtual and struct-returning
// targets. No multicast (Delegate.Combine) and no closures over locals.
using System;

namespace Corpus
{
    public delegate int IntOp(int x);
    public delegate long Op7(long a, long b, long c, long d, long e, long f, long g);
    public delegate S12 MakeS12Op(int v);
    public delegate bool Pred(int x);

    public class Adder
    {
        public int K;
        public Adder(int k) { K = k; }
        public int Add(int x) { return x + K; }
        public virtual int Virt(int x) { return x * 2; }
    }
    public class Adder2 : Adder
    {
        public Adder2() : base(0) { }
        public override int Virt(int x) { return x * 3; }
    }

    public static class Delegates
    {
        static int Square(int x) { return x * x; }
        static long Sum7(long a, long b, long c, long d, long e, long f, long g) { return a + b + c + d + e + f + g; }
        static S12 Mk(int v) { S12 s; s.A = v; s.B = v * 2; s.C = v * 3; return s; }
        static bool IsNeg(int x) { return x < 0; }
        static int Apply(IntOp f, int x) { return f(x); }

        [Expect("49")] public static int StaticTarget() { IntOp f = Square; return f(7); }
        [Expect("15")] public static int InstanceTarget() { IntOp f = new Adder(5).Add; return f(10); }
        [Expect("30")] public static int VirtualTarget() { Adder a = new Adder2(); IntOp f = a.Virt; return f(10); }
        [Expect("28")] public static long SevenArgs() { Op7 f = Sum7; return f(1, 2, 3, 4, 5, 6, 7); }
        [Expect("12")] public static int StructReturn() { MakeS12Op f = Mk; return f(2).A + f(2).B + f(2).C; }
        [Expect("1")] public static bool BoolReturn() { Pred p = IsNeg; return p(-1); }
        [Expect("0")] public static bool BoolReturnFalse() { Pred p = IsNeg; return p(1); }
        [Expect("81")] public static int PassedAsArgument() { return Apply(Square, 9); }
        [Expect("3")] public static int DelegateArray()
        {
            IntOp[] fs = new IntOp[] { Square, new Adder(1).Add, new Adder2().Virt };
            return fs[0](1) + fs[1](0) + fs[2](1) - 2;
        }
        [ExpectError("null-reference")] public static int NullDelegate() { IntOp f = null; return f(1); }
    }
}
