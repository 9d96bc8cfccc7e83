// Objects.cs: newobj for classes (fields zeroed, ctor chains, field initialisers),
// ldfld/stfld/ldflda of every width on objects, object references in fields,
// linked structures, null field access.
using System;

namespace Corpus
{
    public class AllFields
    {
        public sbyte I1; public byte U1; public short I2; public ushort U2; public char C;
        public int I4; public uint U4; public long I8; public ulong U8;
        public float R4; public double R8; public bool B; public object O;
        public int Initialised = 77;
    }

    public class Node
    {
        public int Value;
        public Node Next;
        public Node(int v, Node next) { Value = v; Next = next; }
    }

    public class Base2 { public int X; public Base2() { X = 10; } }
    public class Derived2 : Base2 { public int Y; public Derived2() : base() { Y = X * 2; } }

    public static class Objects
    {
        static int Inc(ref int x) { return ++x; }

        [Expect("0")]
        public static long FieldsStartZeroed()
        {
            AllFields f = new AllFields();
            return f.I1 + f.U1 + f.I2 + f.U2 + f.C + f.I4 + f.U4 + f.I8 + (long)f.U8 + (long)f.R4 + (long)f.R8 + (f.B ? 1 : 0) + (f.O == null ? 0 : 1);
        }
        [Expect("77")] public static int FieldInitialiser() { return new AllFields().Initialised; }
        [Expect("-1")] public static int SByteField() { AllFields f = new AllFields(); f.I1 = -1; return f.I1; }
        [Expect("255")] public static int ByteField() { AllFields f = new AllFields(); f.U1 = 255; return f.U1; }
        [Expect("-32768")] public static int ShortField() { AllFields f = new AllFields(); f.I2 = short.MinValue; return f.I2; }
        [Expect("65535")] public static int UShortField() { AllFields f = new AllFields(); f.U2 = ushort.MaxValue; return f.U2; }
        [Expect("65535")] public static int CharField() { AllFields f = new AllFields(); f.C = '\uffff'; return f.C; }
        [Expect("4294967295")] public static uint UIntField() { AllFields f = new AllFields(); f.U4 = uint.MaxValue; return f.U4; }
        [Expect("-9223372036854775808")] public static long LongField() { AllFields f = new AllFields(); f.I8 = long.MinValue; return f.I8; }
        [Expect("18446744073709551615")] public static ulong ULongField() { AllFields f = new AllFields(); f.U8 = ulong.MaxValue; return f.U8; }
        [Expect("-0.5")] public static float FloatField() { AllFields f = new AllFields(); f.R4 = -0.5f; return f.R4; }
        [Expect("0.0000001")] public static double DoubleFieldSmall() { AllFields f = new AllFields(); f.R8 = 1e-7; return f.R8; }
        [Expect("1")] public static bool BoolField() { AllFields f = new AllFields(); f.B = true; return f.B; }
        [Expect("1")] public static bool ObjectField() { AllFields f = new AllFields(); f.O = f; return f.O == f; }
        [Expect("-1")]
        public static long NarrowFieldsDoNotOverlap()
        {
            AllFields f = new AllFields();
            f.I8 = -1; f.I1 = 0; f.U1 = 0; f.I2 = 0; f.U2 = 0; f.C = '\0'; f.I4 = 0; f.U4 = 0; f.B = false;
            return f.I8;
        }
        [Expect("42")] public static int FieldAddress() { AllFields f = new AllFields(); f.I4 = 41; Inc(ref f.I4); return f.I4; }
        [Expect("20")] public static int CtorChain() { return new Derived2().Y; }
        [Expect("10")] public static int BaseFieldFromDerived() { Derived2 d = new Derived2(); return d.X; }
        [Expect("15")]
        public static int LinkedList()
        {
            Node n = null;
            for (int i = 1; i <= 5; i++) n = new Node(i, n);
            int s = 0;
            while (n != null) { s += n.Value; n = n.Next; }
            return s;
        }
        [Expect("4")]
        public static int ManyAllocations()
        {
            Node last = null;
            for (int i = 0; i < 100000; i++) last = new Node(i % 7, last == null ? null : last.Next);
            return last.Value;
        }
        [Expect("1")] public static bool DistinctObjects() { object a = new object(), b = new object(); return a != b; }
        [ExpectError("null-reference")] public static int NullFieldLoad() { Node n = null; return n.Value; }
        [ExpectError("null-reference")] public static int NullFieldStore() { Node n = null; n.Value = 1; return 0; }
        [ExpectError("null-reference")] public static int NullFieldAddress() { AllFields f = null; return Inc(ref f.I4); }
    }
}
