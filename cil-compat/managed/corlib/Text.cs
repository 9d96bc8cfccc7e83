// Strings and text as programs use them (issue 12, item 5): comparison, search,
// Substring/Split/Trim/Replace/Join/Pad, ASCII case mapping (ordinal semantics:
// there are no culture tables), char classification (ASCII and Latin-1), integer
// formatting (decimal, "D<n>", "X<n>"/"x<n>") and parsing, String.Format with
// {n} and {n,width} items, and System.Text.StringBuilder.
namespace System
{
    public sealed unsafe partial class String : IEquatable<String>
    {
        public static string Copy(string str) { return Concat(str, Empty); }

        internal static string FromCharArray(char[] value, int startIndex, int length)
        {
            return FromChars(value, startIndex, length);
        }

        public char[] ToCharArray()
        {
            char[] r = new char[m_length];
            fixed (char* p = &m_firstChar) { for (int i = 0; i < m_length; i++) r[i] = p[i]; }
            return r;
        }

        public static int CompareOrdinal(string strA, string strB)
        {
            if ((object)strA == (object)strB) return 0;
            if ((object)strA == null) return -1;
            if ((object)strB == null) return 1;
            int n = strA.m_length < strB.m_length ? strA.m_length : strB.m_length;
            fixed (char* a = &strA.m_firstChar, b = &strB.m_firstChar)
            {
                for (int i = 0; i < n; i++)
                    if (a[i] != b[i]) return a[i] - b[i];
            }
            return strA.m_length - strB.m_length;
        }

        public static int Compare(string strA, string strB, StringComparison comparisonType)
        {
            if (comparisonType == StringComparison.OrdinalIgnoreCase)
            {
                if ((object)strA == null || (object)strB == null) return CompareOrdinal(strA, strB);
                return CompareOrdinal(strA.ToUpperInvariant(), strB.ToUpperInvariant());
            }
            return CompareOrdinal(strA, strB);
        }

        public bool Equals(string value, StringComparison comparisonType)
        {
            return Compare(this, value, comparisonType) == 0;
        }

        public static bool Equals(string a, string b, StringComparison comparisonType)
        {
            return Compare(a, b, comparisonType) == 0;
        }

        // No CompareTo(string): mono's is culture-sensitive ("a" < "B"); an ordinal
        // one would give silently different answers. Use CompareOrdinal.

        public string Substring(int startIndex) { return Substring(startIndex, m_length - startIndex); }

        public string Substring(int startIndex, int length)
        {
            if (startIndex < 0 || startIndex > m_length) throw new ArgumentOutOfRangeException("startIndex");
            if (length < 0 || startIndex > m_length - length) throw new ArgumentOutOfRangeException("length");
            if (startIndex == 0 && length == m_length) return this;
            string s = FastAllocateString(length);
            fixed (char* d = &s.m_firstChar, p = &m_firstChar)
            {
                for (int i = 0; i < length; i++) d[i] = p[startIndex + i];
            }
            return s;
        }

        public int IndexOf(char value) { return IndexOf(value, 0); }

        public int IndexOf(char value, int startIndex)
        {
            if (startIndex < 0 || startIndex > m_length) throw new ArgumentOutOfRangeException("startIndex");
            fixed (char* p = &m_firstChar)
            {
                for (int i = startIndex; i < m_length; i++) if (p[i] == value) return i;
            }
            return -1;
        }

        public int IndexOf(string value) { return IndexOf(value, 0); }

        public int IndexOf(string value, int startIndex)
        {
            if ((object)value == null) throw new ArgumentNullException("value");
            if (startIndex < 0 || startIndex > m_length) throw new ArgumentOutOfRangeException("startIndex");
            fixed (char* p = &m_firstChar, v = &value.m_firstChar)
            {
                for (int i = startIndex; i + value.m_length <= m_length; i++)
                {
                    int k = 0;
                    while (k < value.m_length && p[i + k] == v[k]) k++;
                    if (k == value.m_length) return i;
                }
            }
            return -1;
        }

        public int IndexOf(string value, StringComparison comparisonType) { return IndexOf(value, 0); }

        public int IndexOfAny(char[] anyOf)
        {
            for (int i = 0; i < m_length; i++)
                for (int k = 0; k < anyOf.Length; k++)
                    if (this[i] == anyOf[k]) return i;
            return -1;
        }

        public int LastIndexOf(char value)
        {
            fixed (char* p = &m_firstChar)
            {
                for (int i = m_length - 1; i >= 0; i--) if (p[i] == value) return i;
            }
            return -1;
        }

        public int LastIndexOf(string value)
        {
            if ((object)value == null) throw new ArgumentNullException("value");
            for (int i = m_length - value.m_length; i >= 0; i--)
                if (CompareOrdinal(Substring(i, value.m_length), value) == 0) return i;
            return -1;
        }

        public bool Contains(string value) { return IndexOf(value) >= 0; }
        public bool StartsWith(string value) { return (object)value != null && value.m_length <= m_length && CompareOrdinal(Substring(0, value.m_length), value) == 0; }
        public bool EndsWith(string value) { return (object)value != null && value.m_length <= m_length && CompareOrdinal(Substring(m_length - value.m_length), value) == 0; }
        public bool StartsWith(string value, StringComparison comparisonType) { return value.m_length <= m_length && Compare(Substring(0, value.m_length), value, comparisonType) == 0; }
        public bool EndsWith(string value, StringComparison comparisonType) { return value.m_length <= m_length && Compare(Substring(m_length - value.m_length), value, comparisonType) == 0; }

        public string ToUpperInvariant()
        {
            string s = FastAllocateString(m_length);
            fixed (char* d = &s.m_firstChar, p = &m_firstChar)
            {
                for (int i = 0; i < m_length; i++) d[i] = Char.ToUpperInvariant(p[i]);
            }
            return s;
        }

        public string ToLowerInvariant()
        {
            string s = FastAllocateString(m_length);
            fixed (char* d = &s.m_firstChar, p = &m_firstChar)
            {
                for (int i = 0; i < m_length; i++) d[i] = Char.ToLowerInvariant(p[i]);
            }
            return s;
        }

        public string ToUpper() { return ToUpperInvariant(); }
        public string ToLower() { return ToLowerInvariant(); }

        public string Trim() { return TrimEnd().TrimStart(); }

        public string TrimStart()
        {
            int i = 0;
            while (i < m_length && Char.IsWhiteSpace(this[i])) i++;
            return Substring(i);
        }

        public string TrimEnd()
        {
            int n = m_length;
            while (n > 0 && Char.IsWhiteSpace(this[n - 1])) n--;
            return Substring(0, n);
        }

        public string Trim(params char[] trimChars)
        {
            if (trimChars == null || trimChars.Length == 0) return Trim();
            int a = 0, b = m_length;
            while (a < b && Has(trimChars, this[a])) a++;
            while (b > a && Has(trimChars, this[b - 1])) b--;
            return Substring(a, b - a);
        }

        static bool Has(char[] set, char c)
        {
            for (int i = 0; i < set.Length; i++) if (set[i] == c) return true;
            return false;
        }

        public string PadLeft(int totalWidth) { return PadLeft(totalWidth, ' '); }
        public string PadRight(int totalWidth) { return PadRight(totalWidth, ' '); }

        public string PadLeft(int totalWidth, char paddingChar)
        {
            if (totalWidth < 0) throw new ArgumentOutOfRangeException("totalWidth");
            if (totalWidth <= m_length) return this;
            return Concat(Repeat(paddingChar, totalWidth - m_length), this);
        }

        public string PadRight(int totalWidth, char paddingChar)
        {
            if (totalWidth < 0) throw new ArgumentOutOfRangeException("totalWidth");
            if (totalWidth <= m_length) return this;
            return Concat(this, Repeat(paddingChar, totalWidth - m_length));
        }

        internal static string Repeat(char c, int n)
        {
            string s = FastAllocateString(n);
            fixed (char* d = &s.m_firstChar) { for (int i = 0; i < n; i++) d[i] = c; }
            return s;
        }

        public string Replace(char oldChar, char newChar)
        {
            string s = FastAllocateString(m_length);
            fixed (char* d = &s.m_firstChar, p = &m_firstChar)
            {
                for (int i = 0; i < m_length; i++) d[i] = p[i] == oldChar ? newChar : p[i];
            }
            return s;
        }

        public string Replace(string oldValue, string newValue)
        {
            if ((object)oldValue == null) throw new ArgumentNullException("oldValue");
            if (oldValue.m_length == 0) throw new ArgumentException("String cannot be of zero length.");
            System.Text.StringBuilder sb = new System.Text.StringBuilder();
            int i = 0;
            while (true)
            {
                int k = IndexOf(oldValue, i);
                if (k < 0) break;
                sb.Append(Substring(i, k - i));
                sb.Append(newValue);
                i = k + oldValue.m_length;
            }
            sb.Append(Substring(i));
            return sb.ToString();
        }

        public string Insert(int startIndex, string value) { return Concat(Substring(0, startIndex), value, Substring(startIndex)); }
        public string Remove(int startIndex) { return Substring(0, startIndex); }
        public string Remove(int startIndex, int count) { return Concat(Substring(0, startIndex), Substring(startIndex + count)); }

        public string[] Split(params char[] separator)
        {
            int n = 1;
            for (int i = 0; i < m_length; i++) if (IsSep(separator, this[i])) n++;
            string[] r = new string[n];
            int start = 0, k = 0;
            for (int i = 0; i < m_length; i++)
            {
                if (!IsSep(separator, this[i])) continue;
                r[k++] = Substring(start, i - start);
                start = i + 1;
            }
            r[k] = Substring(start);
            return r;
        }

        public string[] Split(char[] separator, StringSplitOptions options)
        {
            string[] all = Split(separator);
            if (options != StringSplitOptions.RemoveEmptyEntries) return all;
            int n = 0;
            for (int i = 0; i < all.Length; i++) if (all[i].m_length != 0) n++;
            string[] r = new string[n];
            n = 0;
            for (int i = 0; i < all.Length; i++) if (all[i].m_length != 0) r[n++] = all[i];
            return r;
        }

        static bool IsSep(char[] separator, char c)
        {
            if (separator == null || separator.Length == 0) return Char.IsWhiteSpace(c);
            return Has(separator, c);
        }

        public static string Join(string separator, params string[] value)
        {
            if (value == null) throw new ArgumentNullException("value");
            System.Text.StringBuilder sb = new System.Text.StringBuilder();
            for (int i = 0; i < value.Length; i++)
            {
                if (i > 0) sb.Append(separator);
                sb.Append(value[i]);
            }
            return sb.ToString();
        }

        public static string Concat(params string[] values) { return Join(Empty, values); }

        public static string Concat(params object[] args)
        {
            System.Text.StringBuilder sb = new System.Text.StringBuilder();
            for (int i = 0; i < args.Length; i++) if (args[i] != null) sb.Append(args[i].ToString());
            return sb.ToString();
        }

        public static bool IsNullOrWhiteSpace(string value)
        {
            if ((object)value == null) return true;
            for (int i = 0; i < value.m_length; i++) if (!Char.IsWhiteSpace(value[i])) return false;
            return true;
        }

        public static string Format(string format, object arg0) { return Format(format, new object[] { arg0 }); }
        public static string Format(string format, object arg0, object arg1) { return Format(format, new object[] { arg0, arg1 }); }
        public static string Format(string format, object arg0, object arg1, object arg2) { return Format(format, new object[] { arg0, arg1, arg2 }); }

        // {index[,alignment][:format]} with {{ and }} escapes; format strings apply
        // to integers (see Int64.ToString(string)).
        public static string Format(string format, params object[] args)
        {
            if ((object)format == null) throw new ArgumentNullException("format");
            System.Text.StringBuilder sb = new System.Text.StringBuilder();
            int i = 0, n = format.m_length;
            while (i < n)
            {
                char c = format[i++];
                if (c == '}')
                {
                    if (i < n && format[i] == '}') i++;
                    else throw new FormatException();
                    sb.Append('}');
                    continue;
                }
                if (c != '{') { sb.Append(c); continue; }
                if (i < n && format[i] == '{') { i++; sb.Append('{'); continue; }
                int index = 0, digits = 0;
                while (i < n && format[i] >= '0' && format[i] <= '9') { index = index * 10 + (format[i++] - '0'); digits++; }
                if (digits == 0 || index >= args.Length) throw new FormatException();
                int width = 0;
                bool left = false;
                if (i < n && format[i] == ',')
                {
                    i++;
                    if (i < n && format[i] == '-') { left = true; i++; }
                    while (i < n && format[i] >= '0' && format[i] <= '9') width = width * 10 + (format[i++] - '0');
                }
                string spec = null;
                if (i < n && format[i] == ':')
                {
                    int s0 = ++i;
                    while (i < n && format[i] != '}') i++;
                    spec = format.Substring(s0, i - s0);
                }
                if (i >= n || format[i] != '}') throw new FormatException();
                i++;
                object a = args[index];
                string text = a == null ? Empty : (spec != null ? Number.FormatObject(a, spec) : a.ToString());
                if (left) text = text.PadRight(width);
                else text = text.PadLeft(width);
                sb.Append(text);
            }
            return sb.ToString();
        }
    }

    public enum StringComparison
    {
        CurrentCulture = 0, CurrentCultureIgnoreCase = 1, InvariantCulture = 2,
        InvariantCultureIgnoreCase = 3, Ordinal = 4, OrdinalIgnoreCase = 5
    }

    [Flags]
    public enum StringSplitOptions { None = 0, RemoveEmptyEntries = 1 }

    public partial struct Char
    {
        public static bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '\u00C0' && c <= '\u00FF' && c != '\u00D7' && c != '\u00F7') || c == '\u00AA' || c == '\u00B5' || c == '\u00BA'; }
        public static bool IsLetterOrDigit(char c) { return IsLetter(c) || IsDigit(c); }
        public static bool IsUpper(char c) { return (c >= 'A' && c <= 'Z') || (c >= '\u00C0' && c <= '\u00DE' && c != '\u00D7'); }
        public static bool IsLower(char c) { return (c >= 'a' && c <= 'z') || (c >= '\u00DF' && c <= '\u00FF' && c != '\u00F7') || c == '\u00AA' || c == '\u00B5' || c == '\u00BA'; }
        public static bool IsWhiteSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || c == '\u00A0' || c == '\u0085'; }
        public static bool IsPunctuation(char c) { return (c >= '!' && c <= '#') || (c >= '%' && c <= '*') || (c >= ',' && c <= '/') || c == ':' || c == ';' || c == '?' || c == '@' || (c >= '[' && c <= ']') || c == '_' || c == '{' || c == '}' || c == '\u00A1' || c == '\u00A7' || c == '\u00AB' || c == '\u00B6' || c == '\u00B7' || c == '\u00BB' || c == '\u00BF'; }
        public static bool IsControl(char c) { return c < ' ' || (c >= '\u007F' && c <= '\u009F'); }
        public static char ToUpperInvariant(char c)
        {
            if (c >= 'a' && c <= 'z') return (char)(c - 32);
            if (c >= '\u00E0' && c <= '\u00FE' && c != '\u00F7') return (char)(c - 32);
            if (c == '\u00FF') return '\u0178';
            if (c == '\u00B5') return '\u039C';
            return c;
        }
        public static char ToLowerInvariant(char c)
        {
            if (c >= 'A' && c <= 'Z') return (char)(c + 32);
            if (c >= '\u00C0' && c <= '\u00DE' && c != '\u00D7') return (char)(c + 32);
            return c;
        }
        public static char ToUpper(char c) { return ToUpperInvariant(c); }
        public static char ToLower(char c) { return ToLowerInvariant(c); }
        public static double GetNumericValue(char c) { return c >= '0' && c <= '9' ? c - '0' : -1; }
        public int CompareTo(char value) { return m_value - value; }
    }

    public partial struct Int32
    {
        public string ToString(string format) { return Number.FormatInteger(m_value, format, 32); }
        public static int Parse(string s) { return (int)Number.ParseInteger(s, false, int.MinValue, int.MaxValue); }
        public static int Parse(string s, System.Globalization.NumberStyles style) { return (int)Number.ParseInteger(s, style == System.Globalization.NumberStyles.HexNumber, int.MinValue, uint.MaxValue); }
        public static bool TryParse(string s, out int result)
        {
            long v;
            bool ok = Number.TryParseInteger(s, false, int.MinValue, int.MaxValue, out v);
            result = ok ? (int)v : 0;
            return ok;
        }
    }

    public partial struct UInt32
    {
        public string ToString(string format) { return Number.FormatInteger(m_value, format, 32); }
        public static uint Parse(string s) { return (uint)Number.ParseInteger(s, false, 0, uint.MaxValue); }
    }

    public partial struct Int64
    {
        public string ToString(string format) { return Number.FormatInteger(m_value, format, 64); }
        public static long Parse(string s) { return Number.ParseInteger(s, false, long.MinValue, long.MaxValue); }
        public static bool TryParse(string s, out long result) { return Number.TryParseInteger(s, false, long.MinValue, long.MaxValue, out result); }
    }

    internal static partial class Number
    {
        internal static string FormatObject(object a, string spec)
        {
            if (a is int) return FormatInteger((int)a, spec, 32);
            if (a is uint) return FormatInteger((uint)a, spec, 32);
            if (a is long) return FormatInteger((long)a, spec, 64);
            if (a is byte) return FormatInteger((byte)a, spec, 8);
            if (a is ushort) return FormatInteger((ushort)a, spec, 16);
            if (a is short) return FormatInteger((short)a, spec, 16);
            return a.ToString();
        }

        // "D[n]", "X[n]"/"x[n]" (two's complement of the type's width), "G"/empty.
        internal static string FormatInteger(long value, string format, int bits)
        {
            if ((object)format == null || format.Length == 0 || format == "G" || format == "g") return Format(value, false);
            char k = format[0];
            int width = 0;
            for (int i = 1; i < format.Length; i++)
            {
                char d = format[i];
                if (d < '0' || d > '9') throw new FormatException("Input string was not in a correct format.");
                width = width * 10 + (d - '0');
            }
            if (k == 'D' || k == 'd')
            {
                bool neg = value < 0;
                string digits = neg ? Format(value, false).Substring(1) : Format(value, false);
                digits = digits.PadLeft(width, '0');
                return neg ? String.Concat("-", digits) : digits;
            }
            if (k == 'X' || k == 'x')
            {
                ulong v = (ulong)value;
                if (bits < 64) v &= (1UL << bits) - 1;
                char[] buf = new char[16];
                int pos = 16;
                do
                {
                    int nib = (int)(v & 15);
                    buf[--pos] = (char)(nib < 10 ? '0' + nib : (k == 'X' ? 'A' : 'a') + nib - 10);
                    v >>= 4;
                } while (v != 0);
                return String.FromChars(buf, pos, 16 - pos).PadLeft(width, '0');
            }
            throw new FormatException("Format specifier was invalid.");
        }

        internal static long ParseInteger(string s, bool hex, long min, long max)
        {
            long v;
            if ((object)s == null) throw new ArgumentNullException("s");
            if (!TryParseInteger(s, hex, min, max, out v))
            {
                if (Overflowed) throw new OverflowException();
                throw new FormatException("Input string was not in a correct format.");
            }
            return v;
        }

        static bool Overflowed;

        // [ws][sign]digits[ws] (decimal), or hex digits without a sign.
        internal static bool TryParseInteger(string s, bool hex, long min, long max, out long result)
        {
            result = 0;
            Overflowed = false;
            if ((object)s == null) return false;
            int i = 0, n = s.Length;
            while (i < n && Char.IsWhiteSpace(s[i])) i++;
            while (n > i && Char.IsWhiteSpace(s[n - 1])) n--;
            bool neg = false;
            if (!hex && i < n && (s[i] == '-' || s[i] == '+')) { neg = s[i] == '-'; i++; }
            if (i >= n) return false;
            ulong v = 0;
            ulong limit = neg ? (ulong)(-(min + 1)) + 1 : (ulong)max;
            for (; i < n; i++)
            {
                char c = s[i];
                int d;
                if (c >= '0' && c <= '9') d = c - '0';
                else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
                else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
                else return false;
                ulong b = hex ? 16UL : 10UL;
                if (v > (limit - (ulong)d) / b) { Overflowed = true; return false; }
                v = v * b + (ulong)d;
            }
            if (hex && max == uint.MaxValue) { result = (int)(uint)v; return true; }
            result = neg ? -(long)v : (long)v;
            if (neg && v == (ulong)(-(min + 1)) + 1) result = min;
            return true;
        }
    }
}

namespace System.Globalization
{
    [Flags]
    public enum NumberStyles
    {
        None = 0, AllowLeadingWhite = 1, AllowTrailingWhite = 2, AllowLeadingSign = 4,
        AllowTrailingSign = 8, AllowParentheses = 16, AllowDecimalPoint = 32,
        AllowThousands = 64, AllowExponent = 128, AllowCurrencySymbol = 256,
        AllowHexSpecifier = 512, Integer = 7, HexNumber = 515, Number = 111,
        Float = 167, Currency = 383, Any = 511
    }
}

namespace System.Text
{
    public sealed class StringBuilder
    {
        char[] buf;
        int len;

        public StringBuilder() { buf = new char[16]; }
        public StringBuilder(int capacity) { buf = new char[capacity < 1 ? 1 : capacity]; }
        public StringBuilder(string value) : this(value == null ? 16 : value.Length + 16) { Append(value); }

        public int Length
        {
            get { return len; }
            set
            {
                if (value < 0) throw new ArgumentOutOfRangeException("value");
                Reserve(value);
                for (int i = len; i < value; i++) buf[i] = '\0';
                len = value;
            }
        }

        public int Capacity { get { return buf.Length; } }

        [System.Runtime.CompilerServices.IndexerName("Chars")]
        public char this[int index]
        {
            get { if ((uint)index >= (uint)len) throw new IndexOutOfRangeException(); return buf[index]; }
            set { if ((uint)index >= (uint)len) throw new IndexOutOfRangeException(); buf[index] = value; }
        }

        void Reserve(int n)
        {
            if (n <= buf.Length) return;
            int c = buf.Length * 2;
            if (c < n) c = n;
            char[] b = new char[c];
            for (int i = 0; i < len; i++) b[i] = buf[i];
            buf = b;
        }

        public StringBuilder Append(char value)
        {
            Reserve(len + 1);
            buf[len++] = value;
            return this;
        }

        public StringBuilder Append(char value, int repeatCount)
        {
            for (int i = 0; i < repeatCount; i++) Append(value);
            return this;
        }

        public StringBuilder Append(string value)
        {
            if ((object)value == null) return this;
            Reserve(len + value.Length);
            for (int i = 0; i < value.Length; i++) buf[len++] = value[i];
            return this;
        }

        public StringBuilder Append(object value) { return value == null ? this : Append(value.ToString()); }
        public StringBuilder Append(int value) { return Append(value.ToString()); }
        public StringBuilder Append(long value) { return Append(value.ToString()); }
        public StringBuilder Append(uint value) { return Append(value.ToString()); }
        public StringBuilder Append(bool value) { return Append(value.ToString()); }
        public StringBuilder AppendLine() { return Append('\n'); }
        public StringBuilder AppendLine(string value) { return Append(value).Append('\n'); }

        public StringBuilder AppendFormat(string format, params object[] args) { return Append(String.Format(format, args)); }
        public StringBuilder AppendFormat(string format, object arg0) { return Append(String.Format(format, arg0)); }

        public StringBuilder Insert(int index, string value)
        {
            if ((uint)index > (uint)len) throw new ArgumentOutOfRangeException("index");
            string tail = ToString(index, len - index);
            len = index;
            Append(value);
            return Append(tail);
        }

        public StringBuilder Remove(int startIndex, int length)
        {
            if (startIndex < 0 || length < 0 || startIndex > len - length) throw new ArgumentOutOfRangeException("length");
            for (int i = startIndex; i + length < len; i++) buf[i] = buf[i + length];
            len -= length;
            return this;
        }

        public StringBuilder Clear() { len = 0; return this; }

        public StringBuilder Replace(char oldChar, char newChar)
        {
            for (int i = 0; i < len; i++) if (buf[i] == oldChar) buf[i] = newChar;
            return this;
        }

        public override string ToString() { return String.FromCharArray(buf, 0, len); }

        public string ToString(int startIndex, int length)
        {
            if (startIndex < 0 || length < 0 || startIndex > len - length) throw new ArgumentOutOfRangeException("length");
            return String.FromCharArray(buf, startIndex, length);
        }
    }
}
