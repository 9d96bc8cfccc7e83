// Boxing.cs: box, unbox, unbox.any, isinst, castclass on primitives, structs, classes
// and interfaces; casts that fail (invalid-cast) and null handling.
using System;

namespace Corpus
{
    public class Animal { public virtual int Legs() { return 4; } }
    public class Bird : Animal { public override int Legs() { return 2; } }
    public class Fish : Animal { public override int Legs() { return 0; } }
    public interface IFly { int Wings(); }
    public class Bat : Animal, IFly { public int Wings() { return 2; } }

    public static class Boxing
    {
        static object O(object o) { return o; }

        [Expect("42")] public static int BoxUnboxInt() { object o = 42; return (int)o; }
        [Expect("-1")] public static long BoxUnboxLong() { object o = -1L; return (long)o; }
        [Expect("255")] public static int BoxUnboxByte() { object o = (byte)255; return (byte)o; }
        [Expect("-2")] public static int BoxUnboxSByte() { object o = (sbyte)-2; return (sbyte)o; }
        [Expect("65")] public static char BoxUnboxChar() { object o = 'A'; return (char)o; }
        [Expect("1")] public static bool BoxUnboxBool() { object o = true; return (bool)o; }
        [Expect("2.5")] public static double BoxUnboxDouble() { object o = 2.5; return (double)o; }
        [Expect("-0.5")] public static float BoxUnboxFloat() { object o = -0.5f; return (float)o; }
        [Expect("197121")]
        public static int BoxUnboxS3()
        {
            S3 s; s.A = 1; s.B = 2; s.C = 3;
            object o = s;
            S3 t = (S3)o;
            return t.A + t.B * 256 + t.C * 65536;
        }
        [Expect("-5")]
        public static long BoxUnboxS40()
        {
            S40 s = new S40(); s.E = -5;
            object o = O(s);
            return ((S40)o).E;
        }
        [Expect("1")]
        public static int BoxIsACopy()
        {
            int x = 1;
            object o = x;
            x = 2;
            return (int)o;
        }
        [Expect("1")] public static bool IsInt() { return O(5) is int; }
        [Expect("0")] public static bool IsNotLong() { return O(5) is long; }
        [Expect("0")] public static bool NullIsNothing() { return O(null) is object; }
        [Expect("1")] public static bool IsStruct() { S12 s = new S12(); return O(s) is S12; }
        [Expect("0")] public static bool IsOtherStruct() { S12 s = new S12(); return O(s) is S3; }
        [Expect("1")] public static bool IsBaseClass() { return O(new Bird()) is Animal; }
        [Expect("0")] public static bool IsSiblingClass() { return O(new Bird()) is Fish; }
        [Expect("1")] public static bool IsInterface() { return O(new Bat()) is IFly; }
        [Expect("0")] public static bool IsNotInterface() { return O(new Bird()) is IFly; }
        [Expect("1")] public static bool BoxedIsObject() { return O(3) is object; }
        [Expect("1")] public static bool BoxedIsValueType() { return O(3) is ValueType; }
        [Expect("1")] public static bool IsArray() { return O(new int[1]) is int[]; }
        [Expect("0")] public static bool IsWrongArray() { return O(new int[1]) is long[]; }
        [Expect("1")] public static bool ArrayIsArray() { return O(new byte[1]) is Array; }
        [Expect("2")] public static int AsClass() { Animal a = O(new Bird()) as Animal; return a.Legs(); }
        [Expect("1")] public static bool AsFailsToNull() { Fish f = O(new Bird()) as Fish; return f == null; }
        [Expect("2")] public static int CastClass() { return ((Animal)O(new Bird())).Legs(); }
        [Expect("2")] public static int CastInterface() { return ((IFly)O(new Bat())).Wings(); }
        [Expect("1")] public static bool CastNullSucceeds() { Animal a = (Animal)O(null); return a == null; }
        [ExpectError("invalid-cast")] public static int CastClassFails() { return ((Fish)O(new Bird())).Legs(); }
        [ExpectError("invalid-cast")] public static int CastInterfaceFails() { return ((IFly)O(new Bird())).Wings(); }
        [ExpectError("invalid-cast")] public static int UnboxWrongType() { return (int)O(5L) == 5 ? 1 : 0; }
        [ExpectError("invalid-cast")] public static int UnboxWrongStruct() { S12 s = new S12(); return ((S3)O(s)).A; }
        [ExpectError("null-reference")] public static int UnboxNull() { return (int)O(null); }
        [ExpectError("invalid-cast")] public static int CastStringToArray() { return ((int[])O("x")).Length; }
        [Expect("3")]
        public static int VirtualCallAfterIsinst()
        {
            object[] zoo = new object[] { new Bird(), new Fish(), 7, new Bat(), null };
            int birds = 0;
            for (int i = 0; i < zoo.Length; i++)
            {
                Animal a = zoo[i] as Animal;
                if (a != null && a.Legs() < 4) birds++;
                if (zoo[i] is int) birds++;
            }
            return birds;
        }
    }
}
