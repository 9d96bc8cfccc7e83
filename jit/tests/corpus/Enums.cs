// Enums.cs: enums of every underlying width (stored, loaded, compared and switched
// on as their underlying type), flags arithmetic, enums in structs and arrays, and
// boxing: a boxed enum unboxes to its underlying type (ECMA-335 III.4.32).
using System;

namespace Corpus
{
    public enum Color { Red, Green, Blue = 10, Black = -1 }
    public enum Small : byte { A = 1, B = 200 }
    public enum Signed8 : sbyte { Low = -128, High = 127 }
    public enum Wide : long { Big = 0x100000000, Neg = long.MinValue }
    public enum Unsigned : ulong { Top = 0x8000000000000000 }
    [Flags] public enum Bits { None = 0, R = 1, W = 2, X = 4, All = 7 }

    public struct Pixel { public Small Level; public Color Hue; }

    public static class Enums
    {
        static Color C(Color c) { return c; }
        static object O(object o) { return o; }

        [Expect("10")] public static int EnumValue() { return (int)C(Color.Blue); }
        [Expect("-1")] public static int NegativeMember() { return (int)C(Color.Black); }
        [Expect("200")] public static int ByteEnumZeroExtends() { Small s = Small.B; return (int)s; }
        [Expect("-128")] public static int SByteEnumSignExtends() { Signed8 s = Signed8.Low; return (int)s; }
        [Expect("4294967296")] public static long LongEnum() { Wide w = Wide.Big; return (long)w; }
        [Expect("-9223372036854775808")] public static long LongEnumMin() { Wide w = Wide.Neg; return (long)w; }
        [Expect("9223372036854775808")] public static ulong ULongEnum() { Unsigned u = Unsigned.Top; return (ulong)u; }
        [Expect("1")] public static bool CompareEnums() { return C(Color.Green) < C(Color.Blue); }
        [Expect("1")] public static bool CompareNegativeEnum() { return C(Color.Black) < C(Color.Red); }
        [Expect("3")]
        public static int SwitchOnEnum()
        {
            switch (C(Color.Blue))
            {
                case Color.Red: return 1;
                case Color.Green: return 2;
                case Color.Blue: return 3;
                default: return 0;
            }
        }
        [Expect("6")] public static int FlagsOr() { Bits b = Bits.W | Bits.X; return (int)b; }
        [Expect("1")] public static bool FlagsTest() { Bits b = Bits.All & ~Bits.W; return (b & Bits.R) != 0 && (b & Bits.W) == 0; }
        [Expect("200")]
        public static int EnumFieldsInStruct()
        {
            Pixel p; p.Level = Small.B; p.Hue = Color.Black;
            return (int)p.Level + (int)p.Hue + 1;
        }
        [Expect("20")]
        public static int EnumArray()
        {
            Color[] a = new Color[3];
            a[0] = Color.Blue; a[2] = Color.Blue;
            return (int)a[0] + (int)a[1] + (int)a[2];
        }
        [Expect("200")]
        public static int ByteEnumArray()
        {
            Small[] a = new Small[2];
            a[1] = Small.B;
            return (int)a[1];
        }
        [Expect("10")] public static int BoxUnboxEnum() { object o = Color.Blue; return (int)(Color)o; }
        [Expect("10")] public static int UnboxEnumAsUnderlying() { object o = O(Color.Blue); return (int)o; }
        [Expect("1")] public static bool BoxedEnumIsEnum() { return O(Color.Red) is Enum; }
        [Expect("1")] public static bool BoxedEnumIsItsType() { return O(Color.Red) is Color; }
        [Expect("0")] public static bool BoxedEnumIsNotOtherEnum() { return O(Color.Red) is Bits; }
        [ExpectError("invalid-cast")] public static int UnboxEnumWrongWidth() { object o = O(Wide.Big); return (int)o; }
        [Expect("11")]
        public static int EnumIncrement()
        {
            Color c = C(Color.Blue);
            c++;
            return (int)c;
        }
    }
}
