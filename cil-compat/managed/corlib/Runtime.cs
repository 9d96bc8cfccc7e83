// Types every delegate declaration and ordinary program refers to: the async
// pattern types of a delegate's BeginInvoke/EndInvoke (mcs emits them for every
// `delegate`), MarshalByRefObject, BitConverter.
namespace System
{
    public interface IAsyncResult
    {
        object AsyncState { get; }
        bool CompletedSynchronously { get; }
        bool IsCompleted { get; }
    }

    public delegate void AsyncCallback(IAsyncResult ar);

    public abstract class MarshalByRefObject
    {
        protected MarshalByRefObject() { }
    }

    // Little-endian, like every x86-64 target (ECMA-335 §I.12.6.3 leaves it to the
    // platform).
    public static unsafe class BitConverter
    {
        public static readonly bool IsLittleEndian = true;

        public static long DoubleToInt64Bits(double value) { return *(long*)&value; }
        public static double Int64BitsToDouble(long value) { return *(double*)&value; }

        public static byte[] GetBytes(bool value) { byte[] b = new byte[1]; b[0] = value ? (byte)1 : (byte)0; return b; }
        public static byte[] GetBytes(char value) { return GetBytes((short)value); }
        public static byte[] GetBytes(short value) { return Bytes((ulong)(ushort)value, 2); }
        public static byte[] GetBytes(ushort value) { return Bytes(value, 2); }
        public static byte[] GetBytes(int value) { return Bytes((ulong)(uint)value, 4); }
        public static byte[] GetBytes(uint value) { return Bytes(value, 4); }
        public static byte[] GetBytes(long value) { return Bytes((ulong)value, 8); }
        public static byte[] GetBytes(ulong value) { return Bytes(value, 8); }
        public static byte[] GetBytes(float value) { return Bytes(*(uint*)&value, 4); }
        public static byte[] GetBytes(double value) { return Bytes(*(ulong*)&value, 8); }

        static byte[] Bytes(ulong v, int n)
        {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) { b[i] = (byte)v; v >>= 8; }
            return b;
        }

        static ulong Read(byte[] value, int startIndex, int n)
        {
            if (value == null) throw new ArgumentNullException("value");
            if ((uint)startIndex >= (uint)value.Length) throw new ArgumentOutOfRangeException("startIndex");
            if (startIndex > value.Length - n) throw new ArgumentException("Destination array is not long enough to copy all the items in the collection. Check array index and length.");
            ulong v = 0;
            for (int i = n - 1; i >= 0; i--) v = (v << 8) | value[startIndex + i];
            return v;
        }

        public static bool ToBoolean(byte[] value, int startIndex) { return Read(value, startIndex, 1) != 0; }
        public static char ToChar(byte[] value, int startIndex) { return (char)Read(value, startIndex, 2); }
        public static short ToInt16(byte[] value, int startIndex) { return (short)Read(value, startIndex, 2); }
        public static ushort ToUInt16(byte[] value, int startIndex) { return (ushort)Read(value, startIndex, 2); }
        public static int ToInt32(byte[] value, int startIndex) { return (int)Read(value, startIndex, 4); }
        public static uint ToUInt32(byte[] value, int startIndex) { return (uint)Read(value, startIndex, 4); }
        public static long ToInt64(byte[] value, int startIndex) { return (long)Read(value, startIndex, 8); }
        public static ulong ToUInt64(byte[] value, int startIndex) { return Read(value, startIndex, 8); }
        public static float ToSingle(byte[] value, int startIndex) { uint v = (uint)Read(value, startIndex, 4); return *(float*)&v; }
        public static double ToDouble(byte[] value, int startIndex) { ulong v = Read(value, startIndex, 8); return *(double*)&v; }
    }
}
