// System.String (UTF-16, length-prefixed; layout fixed by the runtime: m_length at
// object offset 16, chars from offset 20) and number formatting (System.Array
// is in Array.cs).
namespace System
{
    using System.Runtime.CompilerServices;

    public sealed unsafe partial class String : ICloneable
    {
        // Field order and types are part of the runtime contract (heap.rs).
        internal int m_length;
        internal char m_firstChar;

        public static readonly string Empty = "";

        // Allocates an uninitialised string of `length` chars (bound by the runtime).
        [MethodImpl(MethodImplOptions.InternalCall)]
        internal static extern string FastAllocateString(int length);

        public int Length { get { return m_length; } }

        // A string is allocated at its final length, so its constructors have
        // no body: the runtime turns `new string(...)` into a call to the
        // static Ctor below with the same parameters (as .NET does).
        [MethodImpl(MethodImplOptions.InternalCall)]
        public extern String(char[] value, int startIndex, int length);
        [MethodImpl(MethodImplOptions.InternalCall)]
        public extern String(char[] value);
        [MethodImpl(MethodImplOptions.InternalCall)]
        public extern String(char c, int count);

        internal static string Ctor(char[] value, int startIndex, int length)
        {
            if (value == null)
                throw new ArgumentNullException("value");
            if (startIndex < 0)
                throw new ArgumentOutOfRangeException("startIndex", "StartIndex cannot be less than zero.");
            if (length < 0)
                throw new ArgumentOutOfRangeException("length", "Length cannot be less than zero.");
            if (startIndex > value.Length - length)
                throw new ArgumentOutOfRangeException("startIndex", "Index and length must refer to a location within the string.");
            if (length == 0)
                return Empty;
            return FromChars(value, startIndex, length);
        }

        internal static string Ctor(char[] value)
        {
            if (value == null || value.Length == 0)
                return Empty;
            return FromChars(value, 0, value.Length);
        }

        internal static string Ctor(char c, int count)
        {
            if (count < 0)
                throw new ArgumentOutOfRangeException("count", "Count cannot be less than zero.");
            if (count == 0)
                return Empty;
            string s = FastAllocateString(count);
            fixed (char* d = &s.m_firstChar)
            {
                for (int i = 0; i < count; i++) d[i] = c;
            }
            return s;
        }

        // Strings are immutable: a clone is the same string.
        public object Clone() { return this; }

        [System.Runtime.CompilerServices.IndexerName("Chars")]
        public char this[int index]
        {
            get
            {
                if ((uint)index >= (uint)m_length)
                    throw new IndexOutOfRangeException();
                fixed (char* p = &m_firstChar) { return p[index]; }
            }
        }

        internal static string FromChar(char c)
        {
            string s = FastAllocateString(1);
            fixed (char* d = &s.m_firstChar) { d[0] = c; }
            return s;
        }

        internal static string FromChars(char[] chars, int start, int count)
        {
            string s = FastAllocateString(count);
            fixed (char* d = &s.m_firstChar)
            {
                for (int i = 0; i < count; i++) d[i] = chars[start + i];
            }
            return s;
        }

        public static string Concat(string a, string b)
        {
            if (a == null) a = Empty;
            if (b == null) b = Empty;
            string s = FastAllocateString(a.m_length + b.m_length);
            fixed (char* d = &s.m_firstChar, pa = &a.m_firstChar, pb = &b.m_firstChar)
            {
                for (int i = 0; i < a.m_length; i++) d[i] = pa[i];
                for (int i = 0; i < b.m_length; i++) d[a.m_length + i] = pb[i];
            }
            return s;
        }

        public static string Concat(string a, string b, string c) { return Concat(Concat(a, b), c); }

        public static string Concat(string a, string b, string c, string d) { return Concat(Concat(a, b), Concat(c, d)); }

        public static string Concat(object a, object b)
        {
            return Concat(a == null ? null : a.ToString(), b == null ? null : b.ToString());
        }

        public static string Concat(object a, object b, object c)
        {
            return Concat(Concat(a, b), c == null ? null : c.ToString());
        }

        public static bool Equals(string a, string b)
        {
            if ((object)a == (object)b) return true;
            if ((object)a == null || (object)b == null) return false;
            if (a.m_length != b.m_length) return false;
            fixed (char* pa = &a.m_firstChar, pb = &b.m_firstChar)
            {
                for (int i = 0; i < a.m_length; i++)
                    if (pa[i] != pb[i]) return false;
            }
            return true;
        }

        public override bool Equals(object obj) { return Equals(this, obj as string); }

        public bool Equals(string value) { return Equals(this, value); }

        public static bool operator ==(string a, string b) { return Equals(a, b); }

        public static bool operator !=(string a, string b) { return !Equals(a, b); }

        public override int GetHashCode()
        {
            int h = 5381;
            fixed (char* p = &m_firstChar)
            {
                for (int i = 0; i < m_length; i++) h = (h * 33) ^ p[i];
            }
            return h;
        }

        public override string ToString() { return this; }

        public static bool IsNullOrEmpty(string s) { return s == null || s.m_length == 0; }
    }

    internal static partial class Number
    {
        internal static string Format(long value, bool unsignedHigh)
        {
            char[] buf = new char[21];
            int pos = 21;
            ulong v;
            bool neg = false;
            if (unsignedHigh) v = (ulong)value;
            else if (value < 0) { neg = true; v = (ulong)(-(value + 1)) + 1; }
            else v = (ulong)value;
            do { buf[--pos] = (char)('0' + (int)(v % 10)); v /= 10; } while (v != 0);
            if (neg) buf[--pos] = '-';
            return String.FromChars(buf, pos, 21 - pos);
        }
    }

    public static partial class Math
    {
        public static int Min(int a, int b) { return a < b ? a : b; }
        public static int Max(int a, int b) { return a > b ? a : b; }
        public static long Min(long a, long b) { return a < b ? a : b; }
        public static long Max(long a, long b) { return a > b ? a : b; }
        public static uint Min(uint a, uint b) { return a < b ? a : b; }
        public static uint Max(uint a, uint b) { return a > b ? a : b; }
        public static ulong Min(ulong a, ulong b) { return a < b ? a : b; }
        public static ulong Max(ulong a, ulong b) { return a > b ? a : b; }
        public static byte Min(byte a, byte b) { return a < b ? a : b; }
        public static byte Max(byte a, byte b) { return a > b ? a : b; }
        public static int Abs(int a)
        {
            if (a == int.MinValue) throw new OverflowException();
            return a < 0 ? -a : a;
        }
        public static long Abs(long a)
        {
            if (a == long.MinValue) throw new OverflowException();
            return a < 0 ? -a : a;
        }
        public static int Sign(int a) { return a < 0 ? -1 : (a > 0 ? 1 : 0); }
        public static int Clamp(int v, int min, int max) { return v < min ? min : (v > max ? max : v); }
    }
}
