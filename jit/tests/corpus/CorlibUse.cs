// CorlibUse.cs: calls into ordinary (IL-bodied) corlib code that exists in both our
// corlib and mono's: String equality and Concat, Math.Min/Max. Failures here may be
// the corlib's rather than the JIT's.
using System;

namespace Corpus
{
    public static class CorlibUse
    {
        static string S(string s) { return s; }

        [Expect("1")] public static bool StringEquals() { return S("abc") == S("ab") + S("c"); }
        [Expect("0")] public static bool StringNotEquals() { return S("abc") == S("abd"); }
        [Expect("0")] public static bool StringEqualsNull() { return S("abc") == S(null); }
        [Expect("6")] public static int ConcatLength() { return (S("abc") + S("def")).Length; }
        [Expect("102")] public static int ConcatChar() { return (S("abc") + S("def"))[5]; }
        [Expect("0")] public static int ConcatEmpty() { return (S("") + S("")).Length; }
        [Expect("3")] public static int ConcatThree() { return string.Concat(S("a"), S("b"), S("c")).Length; }
        [Expect("-5")] public static int MathMin() { return Math.Min(-5, 3); }
        [Expect("9223372036854775807")] public static long MathMaxLong() { return Math.Max(long.MaxValue, -1L); }
        [Expect("4294967295")] public static uint MathMaxUInt() { return Math.Max(uint.MaxValue, 1u); }
        [Expect("1")] public static bool IsNullOrEmpty() { return string.IsNullOrEmpty(S("")); }
        [Expect("0")] public static int EmptyField() { return string.Empty.Length; }
        static System.Array A(System.Array a) { return a; }
        [Expect("5")] public static int ArrayLengthThroughSystemArray() { return A(new int[5]).Length; }
        [Expect("0")] public static int EmptyArrayLengthThroughSystemArray() { return A(new long[0]).Length; }
        [Expect("3")] public static int StructArrayLengthThroughSystemArray() { return A(new System.IntPtr[3]).Length; }
    }
}
