// System.Console (output only: the runtime writes it to the host's standard
// output, or the kernel log) and System.TypeCode.
namespace System
{
    public static class Console
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall)]
        static extern void WriteInternal(string s);

        public static void Write(string value) { if (value != null) WriteInternal(value); }
        public static void Write(object value) { if (value != null) WriteInternal(value.ToString()); }
        public static void Write(string format, params object[] args) { WriteInternal(string.Format(format, args)); }
        public static void WriteLine() { WriteInternal("\n"); }
        public static void WriteLine(string value) { WriteInternal(value == null ? "\n" : value + "\n"); }
        public static void WriteLine(object value) { WriteLine(value == null ? null : value.ToString()); }
        public static void WriteLine(int value) { WriteLine(value.ToString()); }
        public static void WriteLine(long value) { WriteLine(value.ToString()); }
        public static void WriteLine(bool value) { WriteLine(value ? "True" : "False"); }
        public static void WriteLine(string format, object arg0) { WriteLine(string.Format(format, arg0)); }
        public static void WriteLine(string format, object arg0, object arg1) { WriteLine(string.Format(format, arg0, arg1)); }
        public static void WriteLine(string format, object arg0, object arg1, object arg2) { WriteLine(string.Format(format, arg0, arg1, arg2)); }
        public static void WriteLine(string format, params object[] args) { WriteLine(string.Format(format, args)); }
    }

    public enum TypeCode
    {
        Empty = 0, Object = 1, DBNull = 2, Boolean = 3, Char = 4, SByte = 5, Byte = 6,
        Int16 = 7, UInt16 = 8, Int32 = 9, UInt32 = 10, Int64 = 11, UInt64 = 12,
        Single = 13, Double = 14, Decimal = 15, DateTime = 16, String = 18,
    }
}
