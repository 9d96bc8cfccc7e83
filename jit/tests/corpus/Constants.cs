// Constants.cs: ldc.i4.m1..ldc.i4.8, ldc.i4.s, ldc.i4, ldc.i8, ldc.r4, ldc.r8, ldnull.
using System;

namespace Corpus
{
    public static class Constants
    {
        [Expect("-1")] public static int LdcM1() { return -1; }
        [Expect("0")] public static int Ldc0() { return 0; }
        [Expect("1")] public static int Ldc1() { return 1; }
        [Expect("2")] public static int Ldc2() { return 2; }
        [Expect("3")] public static int Ldc3() { return 3; }
        [Expect("4")] public static int Ldc4() { return 4; }
        [Expect("5")] public static int Ldc5() { return 5; }
        [Expect("6")] public static int Ldc6() { return 6; }
        [Expect("7")] public static int Ldc7() { return 7; }
        [Expect("8")] public static int Ldc8() { return 8; }
        [Expect("9")] public static int LdcS9() { return 9; }
        [Expect("127")] public static int LdcSMax() { return 127; }
        [Expect("-128")] public static int LdcSMin() { return -128; }
        [Expect("128")] public static int LdcI4Above8Bit() { return 128; }
        [Expect("-129")] public static int LdcI4BelowS() { return -129; }
        [Expect("2147483647")] public static int LdcI4Max() { return int.MaxValue; }
        [Expect("-2147483648")] public static int LdcI4Min() { return int.MinValue; }
        [Expect("305419896")] public static int LdcI4Hex() { return 0x12345678; }
        [Expect("-559038737")] public static int LdcI4Deadbeef() { return unchecked((int)0xDEADBEEF); }
        [Expect("9223372036854775807")] public static long LdcI8Max() { return long.MaxValue; }
        [Expect("-9223372036854775808")] public static long LdcI8Min() { return long.MinValue; }
        [Expect("81985529216486895")] public static long LdcI8Hex() { return 0x0123456789ABCDEFL; }
        // mcs emits ldc.i4 + conv.i8 for small long constants: check sign extension.
        [Expect("-1")] public static long LdcI8SmallNegative() { return -1L; }
        [Expect("-2147483648")] public static long LdcI8FromI4Min() { return (long)int.MinValue; }
        [Expect("4294967295")] public static long LdcI8UIntMax() { return 0xFFFFFFFFL; }
        [Expect("2147483648")] public static long LdcI8JustAboveInt() { return 2147483648L; }
        [Expect("18446744073709551615")] public static ulong LdcU8Max() { return ulong.MaxValue; }
        [Expect("4294967295")] public static uint LdcU4Max() { return uint.MaxValue; }
        [Expect("1.5")] public static double LdcR8() { return 1.5; }
        [Expect("-0.1")] public static double LdcR8Negative() { return -0.1; }
        [Expect("0.25")] public static float LdcR4() { return 0.25f; }
        [Expect("3.4028234")] public static float LdcR4Nearest() { return 3.4028235f; }   // shortest digits of the nearest float
        [Expect("1")] public static bool LdcTrue() { return true; }
        [Expect("0")] public static bool LdcFalse() { return false; }
        [Expect("65")] public static char LdcChar() { return 'A'; }
        [Expect("65535")] public static char LdcCharMax() { return '\uffff'; }
        [Expect("255")] public static byte LdcByteMax() { return 255; }
        [Expect("-128")] public static sbyte LdcSByteMin() { return -128; }
        [Expect("-32768")] public static short LdcShortMin() { return short.MinValue; }
        [Expect("65535")] public static ushort LdcUShortMax() { return ushort.MaxValue; }
        [Expect("1")]
        public static bool LdNullIsNull()
        {
            object o = null;
            return o == null;
        }
    }
}
