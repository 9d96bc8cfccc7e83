// TextOps.cs: strings and text (issue 12, item 5): concatenation, ordinal
// comparison, switch on strings, Substring, IndexOf, Split, Trim, Replace, Join,
// Pad, StringBuilder, integer formatting ("D", "X") and parsing, String.Format,
// char classification. Results are lengths, codes and comparisons (the corpus
// prints no strings).
using System;
using System.Text;

namespace Corpus
{
    public static class TextOps
    {
        static string S(string s) { return s; }
        static int I(int x) { return x; }

        static int Kind(string s)
        {
            switch (s)
            {
                case "red": return 1;
                case "green": return 2;
                case "blue": return 3;
                case "": return 4;
                case null: return 5;
                default: return 0;
            }
        }

        [Expect("1")] public static bool ConcatEquals() { return S("ab") + S("cd") == "abcd"; }
        [Expect("1")] public static bool ConcatInt() { return "n=" + I(42) == "n=42"; }
        [Expect("1")] public static bool ConcatNegativeLong() { return "v" + (-9000000000L) == "v-9000000000"; }
        [Expect("1")] public static bool ConcatChar() { return S("a") + 'b' == "ab"; }
        [Expect("1")] public static bool ConcatBool() { return S("x") + true == "xTrue"; }
        [Expect("1")] public static bool ConcatNull() { string n = null; return S("a") + n == "a"; }
        [Expect("1")] public static bool ConcatMany() { return string.Concat(S("a"), S("b"), S("c"), S("d"), S("e")) == "abcde"; }
        [Expect("-1")] public static int CompareOrdinalLess() { return Math.Sign(string.CompareOrdinal(S("abc"), S("abd"))); }
        [Expect("1")] public static int CompareOrdinalCase() { return Math.Sign(string.CompareOrdinal(S("a"), S("B"))); }
        [Expect("-1")] public static int CompareOrdinalPrefix() { return Math.Sign(string.CompareOrdinal(S("ab"), S("abc"))); }
        [Expect("0")] public static int CompareIgnoreCase() { return string.Compare(S("Hello"), S("hELLO"), StringComparison.OrdinalIgnoreCase); }
        [Expect("1")] public static bool EqualsIgnoreCase() { return S("ABC").Equals("abc", StringComparison.OrdinalIgnoreCase); }
        [Expect("123450")] public static int SwitchOnStrings() { return Kind("red") * 100000 + Kind("green") * 10000 + Kind("blue") * 1000 + Kind("") * 100 + Kind(null) * 10 + Kind("x"); }
        [Expect("1")] public static bool SubstringMiddle() { return S("hello world").Substring(6, 3) == "wor"; }
        [Expect("5")] public static int SubstringTail() { return S("hello world").Substring(6).Length; }
        [ExpectError("exception System.ArgumentOutOfRangeException")] public static int SubstringOutOfRange() { return S("abc").Substring(2, 5).Length; }
        [Expect("4")] public static int IndexOfChar() { return S("hello").IndexOf('o'); }
        [Expect("-1")] public static int IndexOfMissing() { return S("hello").IndexOf('z'); }
        [Expect("6")] public static int IndexOfString() { return S("hello world").IndexOf("wor"); }
        [Expect("7")] public static int IndexOfFrom() { return S("abcabcabc").IndexOf("bc", 5); }
        [Expect("7")] public static int LastIndexOfChar() { return S("abcabcabc").LastIndexOf('b'); }
        [Expect("6")] public static int LastIndexOfString() { return S("abcabcabc").LastIndexOf("abc"); }
        [Expect("1")] public static bool Contains() { return S("needle in haystack").Contains("hay"); }
        [Expect("1")] public static bool StartsEnds() { return S("prefix.txt").StartsWith("pre") && S("prefix.txt").EndsWith(".txt"); }
        [Expect("4")] public static int SplitCount() { return S("a,b,,c").Split(',').Length; }
        [Expect("3")] public static int SplitRemoveEmpty() { return S("a,b,,c").Split(new char[] { ',' }, StringSplitOptions.RemoveEmptyEntries).Length; }
        [Expect("1")] public static bool SplitParts() { string[] p = S("k=v;x=y").Split(';', '='); return p.Length == 4 && p[0] == "k" && p[3] == "y"; }
        [Expect("1")] public static bool Trim() { return S("  hi \t\n").Trim() == "hi"; }
        [Expect("1")] public static bool TrimChars() { return S("xxhixx").Trim('x') == "hi"; }
        [Expect("1")] public static bool TrimStartEnd() { return S("  a  ").TrimStart() == "a  " && S("  a  ").TrimEnd() == "  a"; }
        [Expect("1")] public static bool ReplaceString() { return S("a-b-c").Replace("-", "+=") == "a+=b+=c"; }
        [Expect("1")] public static bool ReplaceChar() { return S("a-b-c").Replace('-', '.') == "a.b.c"; }
        [Expect("1")] public static bool JoinStrings() { return string.Join(", ", new string[] { "x", "y", "z" }) == "x, y, z"; }
        [Expect("1")] public static bool PadLeftRight() { return S("7").PadLeft(3, '0') == "007" && S("ab").PadRight(4) == "ab  "; }
        [Expect("1")] public static bool UpperLower() { return S("MiXeD 1").ToUpper() == "MIXED 1" && S("MiXeD 1").ToLower() == "mixed 1"; }
        [Expect("1")] public static bool InsertRemove() { return S("herld").Insert(2, "llo wo") == "hello world" && S("hello world").Remove(5) == "hello" && S("abcdef").Remove(1, 2) == "adef"; }
        [Expect("1")] public static bool NullOrWhiteSpace() { return string.IsNullOrWhiteSpace(" \t") && !string.IsNullOrWhiteSpace(" x"); }
        [Expect("5")] public static int ToCharArray() { return S("hello").ToCharArray().Length; }

        [Expect("1")] public static bool StringBuilderAppend() { StringBuilder sb = new StringBuilder(); sb.Append("a").Append(1).Append('c').Append(true); return sb.ToString() == "a1cTrue"; }
        [Expect("1000")] public static int StringBuilderGrows() { StringBuilder sb = new StringBuilder(); for (int i = 0; i < 1000; i++) sb.Append('x'); return sb.ToString().Length; }
        [Expect("1")] public static bool StringBuilderInsertRemove() { StringBuilder sb = new StringBuilder("world"); sb.Insert(0, "hello "); sb.Remove(5, 1); return sb.ToString() == "helloworld"; }
        [Expect("1")] public static bool StringBuilderIndexer() { StringBuilder sb = new StringBuilder("abc"); sb[1] = 'X'; return sb.ToString() == "aXc" && sb[2] == 'c'; }
        [Expect("1")] public static bool StringBuilderLength() { StringBuilder sb = new StringBuilder("abcdef"); sb.Length = 2; sb.Append("z"); return sb.ToString() == "abz"; }
        [Expect("1")] public static bool StringBuilderAppendFormat() { StringBuilder sb = new StringBuilder(); sb.AppendFormat("{0}-{1}", 1, "b"); return sb.ToString() == "1-b"; }

        [Expect("1")] public static bool IntToString() { return I(-123).ToString() == "-123" && int.MinValue.ToString() == "-2147483648"; }
        [Expect("1")] public static bool HexUpper() { return I(255).ToString("X") == "FF" && I(255).ToString("X4") == "00FF"; }
        [Expect("1")] public static bool HexLower() { return I(48879).ToString("x") == "beef"; }
        [Expect("1")] public static bool HexNegative() { return I(-1).ToString("X") == "FFFFFFFF" && (-1L).ToString("X") == "FFFFFFFFFFFFFFFF"; }
        [Expect("1")] public static bool DecimalWidth() { return I(42).ToString("D5") == "00042" && I(-42).ToString("D4") == "-0042"; }
        [Expect("1")] public static bool FormatItems() { return string.Format("{0} + {1} = {2}", 1, 2, 3) == "1 + 2 = 3"; }
        [Expect("1")] public static bool FormatAlignAndHex() { return string.Format("[{0,4}|{1,-3}|{2:X2}]", 7, "a", 10) == "[   7|a  |0A]"; }
        [Expect("1")] public static bool FormatBraces() { return string.Format("{{{0}}}", 5) == "{5}"; }
        [Expect("-1234")] public static int ParseInt() { return int.Parse(S(" -1234 ")); }
        [Expect("2147483647")] public static int ParseIntMax() { return int.Parse(S("2147483647")); }
        [Expect("-2147483648")] public static int ParseIntMin() { return int.Parse(S("-2147483648")); }
        [ExpectError("overflow")] public static int ParseIntOverflow() { return int.Parse(S("2147483648")); }
        [ExpectError("exception System.FormatException")] public static int ParseIntGarbage() { return int.Parse(S("12a")); }
        [Expect("255")] public static int ParseHex() { return int.Parse(S("ff"), System.Globalization.NumberStyles.HexNumber); }
        [Expect("-1")] public static int ParseHexAllOnes() { return int.Parse(S("FFFFFFFF"), System.Globalization.NumberStyles.HexNumber); }
        [Expect("-9000000000")] public static long ParseLong() { return long.Parse(S("-9000000000")); }
        [Expect("1")] public static bool TryParseOk() { int v; return int.TryParse(S("77"), out v) && v == 77; }
        [Expect("0")] public static int TryParseFails() { int v = 5; return int.TryParse(S("x"), out v) ? 1 : v; }

        [Expect("1")] public static bool CharDigitLetter() { return char.IsDigit('7') && !char.IsDigit('x') && char.IsLetter('q') && char.IsLetter('\u00E9') && !char.IsLetter('1'); }
        [Expect("1")] public static bool CharWhiteSpace() { return char.IsWhiteSpace(' ') && char.IsWhiteSpace('\t') && char.IsWhiteSpace('\u00A0') && !char.IsWhiteSpace('x'); }
        [Expect("1")] public static bool CharCase() { return char.IsUpper('A') && char.IsLower('a') && !char.IsUpper('1') && char.ToUpper('b') == 'B' && char.ToLower('\u00C9') == '\u00E9'; }
        [Expect("1")] public static bool CharPunctuationControl() { return char.IsPunctuation('!') && char.IsPunctuation('_') && !char.IsPunctuation('+') && char.IsControl('\n') && char.IsLetterOrDigit('5'); }
        [Expect("7")] public static int CharNumericValue() { return (int)char.GetNumericValue('7'); }
        [Expect("1")] public static bool NewStringRepeat() { string s = new string('-', I(5)); return s == "-----" && s.Length == 5; }
        [Expect("0")] public static int NewStringRepeatZero() { return new string('x', I(0)).Length; }
        [ExpectError("exception System.ArgumentOutOfRangeException")] public static int NewStringRepeatNegative() { return new string('x', I(-1)).Length; }
        [Expect("1")] public static bool NewStringFromChars() { char[] c = { 'a', 'b', 'c' }; return new string(c) == "abc"; }
        [Expect("0")] public static int NewStringFromNullChars() { char[] c = null; return new string(c).Length; }
        [Expect("1")] public static bool NewStringFromCharRange() { char[] c = { 'w', 'x', 'y', 'z' }; return new string(c, I(1), I(2)) == "xy"; }
        [ExpectError("exception System.ArgumentOutOfRangeException")] public static int NewStringFromCharRangeOut() { char[] c = { 'a', 'b' }; return new string(c, I(1), I(2)).Length; }
        [ExpectError("exception System.ArgumentNullException")] public static int NewStringFromNullRange() { char[] c = null; return new string(c, 0, 0).Length; }
        [Expect("1")] public static bool NewStringIsFresh() { char[] c = { 'q' }; string a = new string(c); c[0] = 'r'; return a == "q"; }
    }
}
