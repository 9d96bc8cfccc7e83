// Primitive value types with their constants (generated layout: one m_value field).
namespace System
{
    public struct SByte : IComparable, IComparable<SByte>, IEquatable<SByte>
    {
        internal sbyte m_value;
        public const sbyte MinValue = -128;
        public const sbyte MaxValue = 127;
        public override bool Equals(object obj) { return obj is sbyte && m_value == (sbyte)obj; }
        public bool Equals(sbyte other) { return m_value == other; }
        public override int GetHashCode() { return (int)m_value; }
        public int CompareTo(object obj) { sbyte o = (sbyte)obj; return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public int CompareTo(sbyte o) { return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public override string ToString() { return Number.Format((long)m_value, false); }
    }

    public struct Byte : IComparable, IComparable<Byte>, IEquatable<Byte>
    {
        internal byte m_value;
        public const byte MinValue = 0;
        public const byte MaxValue = 255;
        public override bool Equals(object obj) { return obj is byte && m_value == (byte)obj; }
        public bool Equals(byte other) { return m_value == other; }
        public override int GetHashCode() { return (int)m_value; }
        public int CompareTo(object obj) { byte o = (byte)obj; return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public int CompareTo(byte o) { return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public override string ToString() { return Number.Format((long)m_value, false); }
    }

    public struct Int16 : IComparable, IComparable<Int16>, IEquatable<Int16>
    {
        internal short m_value;
        public const short MinValue = -32768;
        public const short MaxValue = 32767;
        public override bool Equals(object obj) { return obj is short && m_value == (short)obj; }
        public bool Equals(short other) { return m_value == other; }
        public override int GetHashCode() { return (int)m_value; }
        public int CompareTo(object obj) { short o = (short)obj; return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public int CompareTo(short o) { return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public override string ToString() { return Number.Format((long)m_value, false); }
    }

    public struct UInt16 : IComparable, IComparable<UInt16>, IEquatable<UInt16>
    {
        internal ushort m_value;
        public const ushort MinValue = 0;
        public const ushort MaxValue = 65535;
        public override bool Equals(object obj) { return obj is ushort && m_value == (ushort)obj; }
        public bool Equals(ushort other) { return m_value == other; }
        public override int GetHashCode() { return (int)m_value; }
        public int CompareTo(object obj) { ushort o = (ushort)obj; return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public int CompareTo(ushort o) { return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public override string ToString() { return Number.Format((long)m_value, false); }
    }

    public partial struct Int32 : IComparable, IComparable<Int32>, IEquatable<Int32>
    {
        internal int m_value;
        public const int MinValue = -2147483647 - 1;
        public const int MaxValue = 2147483647;
        public override bool Equals(object obj) { return obj is int && m_value == (int)obj; }
        public bool Equals(int other) { return m_value == other; }
        public override int GetHashCode() { return (int)m_value; }
        public int CompareTo(object obj) { int o = (int)obj; return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public int CompareTo(int o) { return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public override string ToString() { return Number.Format((long)m_value, false); }
    }

    public partial struct UInt32 : IComparable, IComparable<UInt32>, IEquatable<UInt32>
    {
        internal uint m_value;
        public const uint MinValue = 0;
        public const uint MaxValue = 4294967295;
        public override bool Equals(object obj) { return obj is uint && m_value == (uint)obj; }
        public bool Equals(uint other) { return m_value == other; }
        public override int GetHashCode() { return (int)m_value; }
        public int CompareTo(object obj) { uint o = (uint)obj; return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public int CompareTo(uint o) { return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public override string ToString() { return Number.Format((long)m_value, false); }
    }

    public partial struct Int64 : IComparable, IComparable<Int64>, IEquatable<Int64>
    {
        internal long m_value;
        public const long MinValue = -9223372036854775807L - 1;
        public const long MaxValue = 9223372036854775807;
        public override bool Equals(object obj) { return obj is long && m_value == (long)obj; }
        public bool Equals(long other) { return m_value == other; }
        public override int GetHashCode() { return (int)m_value; }
        public int CompareTo(object obj) { long o = (long)obj; return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public int CompareTo(long o) { return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public override string ToString() { return Number.Format((long)m_value, false); }
    }

    public struct UInt64 : IComparable, IComparable<UInt64>, IEquatable<UInt64>
    {
        internal ulong m_value;
        public const ulong MinValue = 0;
        public const ulong MaxValue = 18446744073709551615;
        public override bool Equals(object obj) { return obj is ulong && m_value == (ulong)obj; }
        public bool Equals(ulong other) { return m_value == other; }
        public override int GetHashCode() { return (int)m_value; }
        public int CompareTo(object obj) { ulong o = (ulong)obj; return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public int CompareTo(ulong o) { return m_value < o ? -1 : (m_value > o ? 1 : 0); }
        public override string ToString() { return Number.Format((long)m_value, m_value > (ulong)long.MaxValue); }
    }

    public struct Boolean : IEquatable<bool>
    {
        internal bool m_value;
        public static readonly string TrueString = "True";
        public static readonly string FalseString = "False";
        public override bool Equals(object obj) { return obj is bool && m_value == (bool)obj; }
        public bool Equals(bool other) { return m_value == other; }
        public override int GetHashCode() { return m_value ? 1 : 0; }
        public override string ToString() { return m_value ? "True" : "False"; }
    }

    public partial struct Char : IEquatable<char>
    {
        internal char m_value;
        public const char MinValue = '\0';
        public const char MaxValue = '\uffff';
        public override bool Equals(object obj) { return obj is char && m_value == (char)obj; }
        public bool Equals(char other) { return m_value == other; }
        public override int GetHashCode() { return (int)m_value; }
        public static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
        public override string ToString() { return String.FromChar(m_value); }
    }

    public unsafe struct Single : IComparable<Single>, IEquatable<Single>
    {
        internal float m_value;
        public const float MinValue = -3.40282347E+38f;
        public const float MaxValue = 3.40282347E+38f;
        public const float Epsilon = 1.401298E-45f;
        public const float PositiveInfinity = 1.0f / 0.0f;
        public const float NegativeInfinity = -1.0f / 0.0f;
        public const float NaN = 0.0f / 0.0f;
#pragma warning disable 1718
        public static bool IsNaN(float f) { return f != f; }
#pragma warning restore 1718
        public static bool IsInfinity(float f) { return f == PositiveInfinity || f == NegativeInfinity; }
        public static bool IsPositiveInfinity(float f) { return f == PositiveInfinity; }
        public static bool IsNegativeInfinity(float f) { return f == NegativeInfinity; }
        public static unsafe bool IsFinite(float f) { int b = *(int*)&f; return (b & 0x7FFFFFFF) < 0x7F800000; }
        public static unsafe bool IsNegative(float f) { return *(int*)&f < 0; }
        public static unsafe bool IsNormal(float f) { int b = *(int*)&f & 0x7FFFFFFF; return b < 0x7F800000 && (b & 0x7F800000) != 0; }
        public static unsafe bool IsSubnormal(float f) { int b = *(int*)&f & 0x7FFFFFFF; return b != 0 && (b & 0x7F800000) == 0; }
        public override bool Equals(object obj) { return obj is float && Equals((float)obj); }
        public bool Equals(float obj) { return obj == m_value || (IsNaN(obj) && IsNaN(m_value)); }
        public unsafe override int GetHashCode() { float f = m_value; if (f == 0) return 0; return *(int*)&f; }
        public int CompareTo(float value)
        {
            if (m_value < value) return -1;
            if (m_value > value) return 1;
            if (m_value == value) return 0;
            if (IsNaN(m_value)) return IsNaN(value) ? 0 : -1;
            return 1;
        }
    }

    public unsafe struct Double : IComparable<Double>, IEquatable<Double>
    {
        internal double m_value;
        public const double MinValue = -1.7976931348623157E+308;
        public const double MaxValue = 1.7976931348623157E+308;
        public const double Epsilon = 4.94065645841247E-324;
        public const double PositiveInfinity = 1.0 / 0.0;
        public const double NegativeInfinity = -1.0 / 0.0;
        public const double NaN = 0.0 / 0.0;
#pragma warning disable 1718
        public static bool IsNaN(double d) { return d != d; }
#pragma warning restore 1718
        public static bool IsInfinity(double d) { return d == PositiveInfinity || d == NegativeInfinity; }
        public static bool IsPositiveInfinity(double d) { return d == PositiveInfinity; }
        public static bool IsNegativeInfinity(double d) { return d == NegativeInfinity; }
        public static unsafe bool IsFinite(double d) { long b = *(long*)&d; return (b & 0x7FFFFFFFFFFFFFFF) < 0x7FF0000000000000; }
        public static unsafe bool IsNegative(double d) { return *(long*)&d < 0; }
        public static unsafe bool IsNormal(double d) { long b = *(long*)&d & 0x7FFFFFFFFFFFFFFF; return b < 0x7FF0000000000000 && (b & 0x7FF0000000000000) != 0; }
        public static unsafe bool IsSubnormal(double d) { long b = *(long*)&d & 0x7FFFFFFFFFFFFFFF; return b != 0 && (b & 0x7FF0000000000000) == 0; }
        public override bool Equals(object obj) { return obj is double && Equals((double)obj); }
        public bool Equals(double obj) { return obj == m_value || (IsNaN(obj) && IsNaN(m_value)); }
        public unsafe override int GetHashCode() { double d = m_value; if (d == 0) return 0; long b = *(long*)&d; return (int)b ^ (int)(b >> 32); }
        public int CompareTo(double value)
        {
            if (m_value < value) return -1;
            if (m_value > value) return 1;
            if (m_value == value) return 0;
            if (IsNaN(m_value)) return IsNaN(value) ? 0 : -1;
            return 1;
        }
    }


    public unsafe struct IntPtr
    {
        internal void* m_value;
        public static readonly IntPtr Zero;
        public IntPtr(int value) { m_value = (void*)value; }
        public IntPtr(long value) { m_value = (void*)value; }
        public IntPtr(void* value) { m_value = value; }
        public static int Size { get { return 8; } }
        public long ToInt64() { return (long)m_value; }
        public int ToInt32() { return (int)(long)m_value; }
        public void* ToPointer() { return m_value; }
        public static explicit operator IntPtr(int value) { return new IntPtr(value); }
        public static explicit operator IntPtr(long value) { return new IntPtr(value); }
        public static explicit operator IntPtr(void* value) { return new IntPtr(value); }
        public static explicit operator long(IntPtr value) { return (long)value.m_value; }
        public static explicit operator int(IntPtr value) { return (int)(long)value.m_value; }
        public static explicit operator void*(IntPtr value) { return value.m_value; }
        public static bool operator ==(IntPtr a, IntPtr b) { return a.m_value == b.m_value; }
        public static bool operator !=(IntPtr a, IntPtr b) { return a.m_value != b.m_value; }
        public override bool Equals(object obj) { return obj is IntPtr && ((IntPtr)obj).m_value == m_value; }
        public override int GetHashCode() { return (int)(long)m_value; }
    }

    public unsafe struct UIntPtr
    {
        internal void* m_value;
        public static readonly UIntPtr Zero;
        public UIntPtr(uint value) { m_value = (void*)value; }
        public UIntPtr(ulong value) { m_value = (void*)value; }
        public UIntPtr(void* value) { m_value = value; }
        public static int Size { get { return 8; } }
        public ulong ToUInt64() { return (ulong)m_value; }
        public void* ToPointer() { return m_value; }
        public static explicit operator UIntPtr(uint value) { return new UIntPtr(value); }
        public static explicit operator UIntPtr(ulong value) { return new UIntPtr(value); }
        public static explicit operator ulong(UIntPtr value) { return (ulong)value.m_value; }
        public static explicit operator void*(UIntPtr value) { return value.m_value; }
        public static bool operator ==(UIntPtr a, UIntPtr b) { return a.m_value == b.m_value; }
        public static bool operator !=(UIntPtr a, UIntPtr b) { return a.m_value != b.m_value; }
        public override bool Equals(object obj) { return obj is UIntPtr && ((UIntPtr)obj).m_value == m_value; }
        public override int GetHashCode() { return (int)(ulong)m_value; }
    }
}
