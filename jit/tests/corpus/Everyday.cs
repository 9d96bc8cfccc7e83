// Everyday.cs: defects found by writing programs the way a new user would
// (issue 12, item 7): virtual calls on string literals, float32 arithmetic rounded
// to single precision at each step, delegates (whose BeginInvoke/EndInvoke name
// IAsyncResult), static doubles set by a .cctor, unbox.any between an enum and its
// underlying type, Interlocked, Volatile, BitConverter, IntPtr.Size.
using System;
using System.Threading;

namespace Corpus
{
    public enum Level { Low = 1, High = 7 }
    public enum Tiny : byte { A = 3 }
    public delegate int Twice(int x);

    public class Circle
    {
        public static double Pi;
        public static double Scale = 2.0;
        static Circle() { Pi = 3.25; }
        public double R;
        public Circle(double r) { R = r; }
        public double Area() { return Pi * R * R * Scale; }
    }

    public class Remote : MarshalByRefObject
    {
        public int V = 5;
    }

    public static class Everyday
    {
        static string S(string s) { return s; }
        static float F(float x) { return x; }
        static object O(object o) { return o; }
        static int Dbl(int x) { return 2 * x; }
        static int counter;
        static long big;
        static object slot;

        [Expect("1")] public static int LiteralToString() { return "y".ToString().Length; }
        [Expect("1")] public static bool LiteralToStringIsSame() { string s = "y"; return (object)s.ToString() == (object)s; }
        [Expect("1")] public static bool LiteralHashEqualsComputed() { return "abc".GetHashCode() == (S("ab") + "c").GetHashCode(); }
        [Expect("1")] public static bool LiteralObjectEquals() { return ((object)"abc").Equals(S("ab") + "c"); }
        [Expect("0")] public static bool LiteralObjectEqualsOther() { return ((object)"abc").Equals("abd"); }
        [Expect("3")] public static int LiteralAsObjectToString() { object o = "xyz"; return o.ToString().Length; }

        [Expect("51")] public static int FloatMulRoundsToSingle() { float a = F(2.5f), b = F(20.4f); return (int)(a * b); }
        [Expect("51")] public static float FloatMulValue() { return F(2.5f) * F(20.4f); }
        [Expect("16777216")] public static float FloatAddRounds() { return F(16777216f) + F(1f); }
        [Expect("1")] public static int FloatSumLoop() { float s = 0; for (int i = 0; i < 10; i++) s += F(0.1f); return s == 1.0000001f ? 1 : 0; }
        [Expect("0.3")] public static float FloatAddThenReturn() { return F(0.1f) + F(0.2f); }
        [Expect("0.30000001192092896")] public static double FloatSumWidened() { return (double)(F(0.1f) + F(0.2f)); }
        [Expect("0.30000000447034836")] public static double FloatWidenedThenSum() { return (double)F(0.1f) + (double)F(0.2f); }
        [Expect("1")] public static int FloatDivRounds() { float x = F(1f) / F(3f); return x * F(3f) == 1f ? 1 : 0; }
        [Expect("0.33333334")] public static float FloatChainedDiv() { return F(1f) / F(3f) * F(3f) / F(3f); }
        [Expect("9007199000000000")] public static float LongToFloatOnce() { long v = 9007199254740993L; return (float)v; }
        [Expect("-0.1")] public static float FloatNeg() { return -F(0.1f); }
        [Expect("1")] public static int FloatTernary() { float a = F(2.5f), b = F(20.4f); float c = a > 1 ? a * b : b; return (int)c == 51 ? 1 : 0; }

        [Expect("10")] public static int DelegateDeclared() { Twice t = Dbl; return t(5); }
        [Expect("14.625")] public static double StaticDoubleFromCctor() { return new Circle(1.5).Area() / 1.0; }
        [Expect("3.25")] public static double StaticDoubleRead() { return Circle.Pi; }

        [Expect("7")] public static int UnboxEnumAsInt() { object o = O(Level.High); return (int)o; }
        [Expect("7")] public static int UnboxIntAsEnum() { object o = O(7); return (int)(Level)o; }
        [Expect("3")] public static byte UnboxByteEnumAsByte() { object o = O(Tiny.A); return (byte)o; }
        [ExpectError("invalid-cast")] public static uint UnboxIntAsUint() { object o = O(7); return (uint)o; }
        [ExpectError("invalid-cast")] public static int UnboxByteEnumAsInt() { object o = O(Tiny.A); return (int)o; }

        [Expect("3")] public static int InterlockedIncrement() { counter = 1; Interlocked.Increment(ref counter); return Interlocked.Increment(ref counter); }
        [Expect("-1")] public static int InterlockedDecrement() { int x = 0; return Interlocked.Decrement(ref x); }
        [Expect("12")] public static int InterlockedAdd() { int x = 5; Interlocked.Add(ref x, 7); return x; }
        [Expect("5000000001")] public static long InterlockedAdd64() { big = 5000000000L; return Interlocked.Increment(ref big); }
        [Expect("5")] public static int InterlockedExchange() { int x = 5; int old = Interlocked.Exchange(ref x, 9); return x == 9 ? old : -1; }
        [Expect("9")] public static int CompareExchangeHit() { int x = 5; Interlocked.CompareExchange(ref x, 9, 5); return x; }
        [Expect("5")] public static int CompareExchangeMiss() { int x = 5; Interlocked.CompareExchange(ref x, 9, 4); return x; }
        [Expect("1")] public static bool CompareExchangeObject() { object a = "a"; slot = a; object old = Interlocked.CompareExchange(ref slot, "b", a); return old == a && (string)slot == "b"; }
        [Expect("42")] public static long CompareExchange64() { long x = 41; Interlocked.CompareExchange(ref x, 42L, 41L); return x; }
        [Expect("8")] public static int VolatileReadWrite() { int x = 0; Volatile.Write(ref x, 8); return Volatile.Read(ref x); }

        [Expect("8")] public static int IntPtrSize() { return IntPtr.Size; }
        [Expect("5")] public static int MarshalByRef() { return new Remote().V; }
        [Expect("1")] public static bool BitConverterLittleEndian() { return BitConverter.IsLittleEndian; }
        [Expect("4607182418800017408")] public static long DoubleBits() { return BitConverter.DoubleToInt64Bits(1.0); }
        [Expect("-2")] public static double BitsToDouble() { return BitConverter.Int64BitsToDouble(-4611686018427387904L); }
        [Expect("305419896")] public static int BytesRoundTrip() { byte[] b = BitConverter.GetBytes(0x12345678); return b[0] == 0x78 ? BitConverter.ToInt32(b, 0) : -1; }
        [Expect("-1")] public static long BytesRoundTrip64() { return BitConverter.ToInt64(BitConverter.GetBytes(-1L), 0); }
        [Expect("1.5")] public static double BytesDouble() { return BitConverter.ToDouble(BitConverter.GetBytes(1.5), 0); }
        [Expect("2.5")] public static float BytesFloat() { return BitConverter.ToSingle(BitConverter.GetBytes(2.5f), 0); }
        [Expect("65535")] public static ushort BytesUShort() { return BitConverter.ToUInt16(new byte[] { 0, 255, 255 }, 1); }
    }
}
