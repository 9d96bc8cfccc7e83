// Inlining.cs: calls to trivial accessors, which our JIT lowers at the call
// site (jit/src/codegen/inline.rs): getters and setters through call and
// callvirt, on null (the exception still surfaces), on structs through a
// managed pointer, of generic instances over value types, of corlib's own
// (another assembly's) IntPtr, and bodies with constants and arithmetic.
using System;

namespace Corpus
{
    public class Acc
    {
        int x;
        long wide;
        byte small;
        public Acc next;
        public int X { get { return x; } set { x = value; } }
        public long Wide { get { return wide; } set { wide = value; } }
        public byte Small { get { return small; } set { small = value; } }
        public Acc Next { get { return next; } }
        public int XPlusOne() { return x + 1; }
        public bool IsZero { get { return x == 0; } }
        public bool IsNonZero { get { return x != 0; } }
        public bool Below(int v) { return x < v; }
        public long WideShifted() { return wide << 3; }
        public void SetBoth(int a, long b) { x = a; }
        public sealed override string ToString() { return "Acc"; }
    }

    public struct AccPair
    {
        public int A;
        public long B;
        public int GetA() { return A; }
        public long GetB() { return B; }
        public void SetA(int v) { A = v; }
        public bool IsOk { get { return A == 0; } }
    }

    public class AccCell<T>
    {
        T value;
        public T Value { get { return value; } set { this.value = value; } }
    }

    public static class Inlining
    {
        [Expect("42")] public static int Getter() { Acc h = new Acc(); h.X = 42; return h.X; }
        [Expect("-7")] public static int SetterThenGetter() { Acc h = new Acc(); h.X = 5; h.X = -7; return h.X; }
        [Expect("-9223372036854775808")] public static long WideGetter() { Acc h = new Acc(); h.Wide = long.MinValue; return h.Wide; }
        [Expect("200")] public static int ByteGetter() { Acc h = new Acc(); h.Small = 200; return h.Small; }
        [Expect("44")] public static int ByteSetterTruncates() { Acc h = new Acc(); int v = 300; h.Small = (byte)v; return h.Small; }
        [Expect("43")] public static int ConstantArithmetic() { Acc h = new Acc(); h.X = 42; return h.XPlusOne(); }
        [Expect("-2147483648")] public static int ArithmeticWraps() { Acc h = new Acc(); h.X = int.MaxValue; return h.XPlusOne(); }
        [Expect("40")] public static long ShiftedGetter() { Acc h = new Acc(); h.Wide = 5; return h.WideShifted(); }
        [Expect("3")] public static int Chain() { Acc a = new Acc(); a.next = new Acc(); a.next.X = 3; return a.Next.X; }
        [Expect("1")] public static int NullFromGetter() { Acc a = new Acc(); return a.Next == null ? 1 : 0; }
        [Expect("11")]
        public static int ManyCallsInOneExpression()
        {
            Acc a = new Acc(); Acc b = new Acc();
            a.X = 4; b.X = 7;
            return a.X + b.X;
        }
        [Expect("99")]
        public static int GetterInLoop()
        {
            Acc h = new Acc();
            for (int i = 0; i < 99; i++) h.X = h.X + 1;
            return h.X;
        }
        [Expect("121")]
        public static int Compares()
        {
            Acc h = new Acc();
            int r = h.IsZero ? 1 : 0;
            h.X = -3;
            r += h.IsNonZero ? 20 : 0;
            r += h.Below(-2) ? 100 : 0;
            r += h.Below(-3) ? 1000 : 0;
            return r;
        }
        [Expect("2")] public static int StructCompare() { AccPair p = new AccPair(); int r = p.IsOk ? 1 : 0; p.A = 1; return r + (p.IsOk ? 0 : 1); }
        [ExpectError("null-reference")] public static int CompareOnNull() { Acc h = null; return h.IsZero ? 1 : 0; }
        [ExpectError("null-reference")] public static int GetterOnNull() { Acc h = null; return h.X; }
        [ExpectError("null-reference")] public static int SetterOnNull() { Acc h = null; h.X = 1; return 0; }
        [ExpectError("null-reference")] public static int ArithmeticOnNull() { Acc h = null; return h.XPlusOne(); }
        [ExpectError("null-reference")] public static int NullInChain() { Acc a = new Acc(); return a.Next.X; }
        [Expect("-1")]
        public static int NullCaughtAroundGetter()
        {
            Acc h = null;
            try { return h.X; }
            catch (NullReferenceException) { return -1; }
        }
        [Expect("12")] public static int StructGetter() { AccPair p = new AccPair(); p.A = 12; return p.GetA(); }
        [Expect("34")] public static int StructSetterByRef() { AccPair p = new AccPair(); p.SetA(34); return p.A; }
        [Expect("56")]
        public static long StructInArray()
        {
            AccPair[] ps = new AccPair[2];
            ps[1].B = 56;
            return ps[1].GetB();
        }
        [Expect("-5")] public static long GenericOverLong() { AccCell<long> c = new AccCell<long>(); c.Value = -5; return c.Value; }
        [Expect("9")] public static int GenericOverInt() { AccCell<int> c = new AccCell<int>(); c.Value = 9; return c.Value; }
        [Expect("2")] public static int GenericOverString() { AccCell<string> c = new AccCell<string>(); c.Value = "hi"; return c.Value.Length; }
        [Expect("123456789012")] public static long IntPtrToInt64() { IntPtr p = new IntPtr(123456789012L); return p.ToInt64(); }
        [Expect("3")] public static int SealedOverride() { return new Acc().ToString().Length; }
    }
}
