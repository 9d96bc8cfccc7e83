// System.Threading.Interlocked and Volatile. The read-modify-write operations are
// runtime internal calls done with the CPU's atomic instructions (lock-prefixed),
// so they stay correct if managed code ever runs on more than one CPU or is
// interrupted; Volatile's accesses are plain loads/stores, which x86-64 already
// orders as acquire/release (the JIT neither caches nor reorders memory accesses).
namespace System.Threading
{
    using System.Runtime.CompilerServices;

    public static class Interlocked
    {
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern int ExchangeAdd32(ref int location, int value);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern long ExchangeAdd64(ref long location, long value);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern int Exchange32(ref int location, int value);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern long Exchange64(ref long location, long value);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern int CompareExchange32(ref int location, int value, int comparand);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern long CompareExchange64(ref long location, long value, long comparand);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern object ExchangeObject(ref object location, object value);
        [MethodImpl(MethodImplOptions.InternalCall)]
        static extern object CompareExchangeObject(ref object location, object value, object comparand);

        public static int Increment(ref int location) { return ExchangeAdd32(ref location, 1) + 1; }
        public static long Increment(ref long location) { return ExchangeAdd64(ref location, 1) + 1; }
        public static int Decrement(ref int location) { return ExchangeAdd32(ref location, -1) - 1; }
        public static long Decrement(ref long location) { return ExchangeAdd64(ref location, -1) - 1; }
        public static int Add(ref int location1, int value) { return ExchangeAdd32(ref location1, value) + value; }
        public static long Add(ref long location1, long value) { return ExchangeAdd64(ref location1, value) + value; }
        public static int Exchange(ref int location1, int value) { return Exchange32(ref location1, value); }
        public static long Exchange(ref long location1, long value) { return Exchange64(ref location1, value); }
        public static object Exchange(ref object location1, object value) { return ExchangeObject(ref location1, value); }
        public static int CompareExchange(ref int location1, int value, int comparand) { return CompareExchange32(ref location1, value, comparand); }
        public static long CompareExchange(ref long location1, long value, long comparand) { return CompareExchange64(ref location1, value, comparand); }
        public static object CompareExchange(ref object location1, object value, object comparand) { return CompareExchangeObject(ref location1, value, comparand); }
        // Reference-type locations (mcs's field-like event accessors use it).
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern T CompareExchange<T>(ref T location1, T value, T comparand) where T : class;
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern T Exchange<T>(ref T location1, T value) where T : class;
        public static long Read(ref long location) { return CompareExchange64(ref location, 0, 0); }
        public static void MemoryBarrier() { int x = 0; ExchangeAdd32(ref x, 0); }
    }

    public static class Volatile
    {
        public static bool Read(ref bool location) { return location; }
        public static byte Read(ref byte location) { return location; }
        public static short Read(ref short location) { return location; }
        public static int Read(ref int location) { return location; }
        public static long Read(ref long location) { return location; }
        public static uint Read(ref uint location) { return location; }
        public static ulong Read(ref ulong location) { return location; }
        public static double Read(ref double location) { return location; }
        public static void Write(ref bool location, bool value) { location = value; }
        public static void Write(ref byte location, byte value) { location = value; }
        public static void Write(ref short location, short value) { location = value; }
        public static void Write(ref int location, int value) { location = value; }
        public static void Write(ref long location, long value) { location = value; }
        public static void Write(ref uint location, uint value) { location = value; }
        public static void Write(ref ulong location, ulong value) { location = value; }
        public static void Write(ref double location, double value) { location = value; }
    }
}
