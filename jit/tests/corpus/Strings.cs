// Strings.cs: ldstr (UTF-16 from #US, interning), String.Length, the indexer
// (get_Chars), string references in arrays and fields, null strings.
using System;

namespace Corpus
{
    public static class Strings
    {
        static string S(string s) { return s; }
        static int I(int x) { return x; }

        [Expect("5")] public static int Length() { return S("hello").Length; }
        [Expect("0")] public static int EmptyLength() { return S("").Length; }
        [Expect("104")] public static int FirstChar() { return S("hello")[0]; }
        [Expect("111")] public static int LastChar() { string s = S("hello"); return s[s.Length - 1]; }
        [Expect("233")] public static int NonAsciiChar() { return S("caf\u00e9")[3]; }
        [Expect("65535")] public static int MaxChar() { return S("a\uffff")[1]; }
        [Expect("0")] public static int EmbeddedNul() { return S("a\0b")[1]; }
        [Expect("3")] public static int EmbeddedNulLength() { return S("a\0b").Length; }
        [Expect("2")] public static int SurrogatePairLength() { return S("\U0001F600").Length; }
        [Expect("55357")] public static int HighSurrogate() { return S("\U0001F600")[0]; }
        [Expect("1")] public static bool LiteralsAreInterned() { return (object)S("same") == (object)S("same"); }
        [Expect("0")] public static bool DifferentLiteralsDiffer() { return (object)S("same") == (object)S("other"); }
        [Expect("1")] public static bool StringIsObject() { object o = S("x"); return o is string; }
        [Expect("532")]
        public static int SumOfChars()
        {
            string s = S("hello");
            int t = 0;
            for (int i = 0; i < s.Length; i++) t += s[i];
            return t;
        }
        [Expect("3")]
        public static int CountChar()
        {
            string s = S("a,b,c,d");
            int n = 0;
            for (int i = 0; i < s.Length; i++) if (s[i] == ',') n++;
            return n;
        }
        [Expect("12345")]
        public static int ParseDigits()
        {
            string s = S("12345");
            int v = 0;
            for (int i = 0; i < s.Length; i++) v = v * 10 + (s[i] - '0');
            return v;
        }
        [Expect("1000")]
        public static int LongLiteral()
        {
            string s = S("0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                       + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                       + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                       + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                       + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                       + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                       + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                       + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                       + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                       + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789");
            return s.Length;
        }
        [Expect("7")]
        public static int StringArray()
        {
            string[] a = new string[] { "a", "bb", "cccc" };
            int n = 0;
            for (int i = 0; i < a.Length; i++) n += a[i].Length;
            return n;
        }
        [Expect("1")] public static bool NullString() { string s = S(null); return s == null; }
        [ExpectError("null-reference")] public static int NullStringLength() { string s = S(null); return s.Length; }
        [ExpectError("index-out-of-range")] public static int CharPastEnd() { return S("abc")[I(3)]; }
        [ExpectError("index-out-of-range")] public static int CharNegative() { return S("abc")[I(-1)]; }
        [Expect("99")] public static char ReturnsChar() { return S("abc")[2]; }
    }
}
