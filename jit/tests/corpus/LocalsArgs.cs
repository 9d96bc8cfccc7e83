// LocalsArgs.cs: ldloc/stloc (short and long forms, >255 locals via ldloc/stloc with
// uint16 index is IL-only), ldarg/starg/ldarga, locals of every primitive width.
using System;

namespace Corpus
{
    public static class LocalsArgs
    {
        static int Arg0(int a) { return a; }
        static int Arg3(int a, int b, int c, int d) { return d; }
        static int StArg(int a) { a = a * 2 + 1; return a; }
        static long StArgLong(long a) { a <<= 33; return a; }
        static int SumBytes(byte a, sbyte b, short c, ushort d) { return a + b + c + d; }
        static int Addr(ref int x) { x += 10; return x; }
        static int ViaArgAddress(int a) { return Addr(ref a) + a; }

        [Expect("7")] public static int LocalRoundTrip() { int a = 7; int b = a; return b; }
        [Expect("10")]
        public static int FourLocals()
        {
            int a = 1, b = 2, c = 3, d = 4;
            return a + b + c + d;
        }
        [Expect("55")]
        public static int TenLocals()
        {
            int a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8, i = 9, j = 10;
            return a + b + c + d + e + f + g + h + i + j;
        }
        [Expect("-5")] public static int ArgPassThrough() { return Arg0(-5); }
        [Expect("44")] public static int FourthArg() { return Arg3(11, 22, 33, 44); }
        [Expect("15")] public static int StoreToArg() { return StArg(7); }
        [Expect("-8589934592")] public static long StoreToLongArg() { return StArgLong(-1); }
        [Expect("33")] public static int ArgAddress() { return ViaArgAddress(6) + 1; }
        [Expect("20")]
        public static int LocalAddress()
        {
            int x = 10;
            Addr(ref x);
            return x;
        }
        // Narrow locals and arguments are widened on load: sign- or zero-extended.
        [Expect("-1")] public static int SByteLocal() { sbyte s = -1; return s; }
        [Expect("255")] public static int ByteLocal() { byte b = 255; return b; }
        [Expect("-32768")] public static int ShortLocal() { short s = short.MinValue; return s; }
        [Expect("65535")] public static int UShortLocal() { ushort u = 65535; return u; }
        [Expect("65535")] public static int CharLocal() { char c = '\uffff'; return c; }
        [Expect("1")] public static int BoolLocal() { bool b = true; return b ? 1 : 0; }
        [Expect("-1")] public static int SByteStoreTruncates() { int v = 0x1FF; sbyte s = unchecked((sbyte)v); return s; }
        [Expect("255")] public static int ByteStoreTruncates() { int v = -1; byte b = unchecked((byte)v); return b; }
        [Expect("65661")]
        public static int NarrowArgs()
        {
            // 255 + (-128) + (-1) + 65535
            return SumBytes(255, -128, -1, 65535);
        }
        [Expect("4294967295")] public static long UIntLocalZeroExtends() { uint u = uint.MaxValue; long l = u; return l; }
        [Expect("-1")] public static long IntLocalSignExtends() { int i = -1; long l = i; return l; }
        [Expect("124")]
        public static int ManyLocalsMixedWidths()
        {
            byte a = 1; short b = 2; int c = 3; long d = 4; sbyte e = -5; ushort f = 6;
            char g = (char)7; uint h = 8; ulong i = 9; double j = 10.0; float k = 11.0f;
            bool l = true; long m = 67;
            return (int)(a + b + c + d + e + f + g + h + (long)i + (long)j + (long)k + (l ? 1 : 0) + m);
        }
        [Expect("0")]
        public static int UninitialisedLocalsAreZero()
        {
            // mcs emits .locals init: every local starts zeroed.
            int a; long b; double c;
            a = 0; b = 0; c = 0;
            int[] arr = new int[1];
            return a + (int)b + (int)c + arr[0];
        }
        [Expect("45")]
        public static int LoopCounterLocal()
        {
            int s = 0;
            for (int i = 0; i < 10; i++) s += i;
            return s;
        }
    }
}
