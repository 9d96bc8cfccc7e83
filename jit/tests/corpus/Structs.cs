// Structs.cs: value types of 3, 5, 12, 24 and 40 bytes (and padded mixes) as locals,
// arguments, return values, fields of structs in classes, array elements, nested
// structs; ldfld on a struct value (seed bug 5), initobj, ldobj/stobj, copies.
using System;

namespace Corpus
{
    public struct S3 { public byte A, B, C; }
    public struct S5 { public byte A, B, C, D, E; }
    public struct S12 { public int A, B, C; }
    public struct S24 { public long A; public int B; public int C; public long D; }
    public struct S40 { public long A, B, C, D, E; }
    public struct Padded { public byte A; public long B; public short C; }   // 24 bytes
    public struct Nested { public S3 Addr; public int Tag; public S12 Inner; }
    public struct Deep { public Nested N; public S40 Big; public byte Last; }

    public struct Vec2 { public double X, Y; }                               // SysV: two SSE eightbytes
    public struct IntFloat { public int I; public float F; }                  // SysV: one INTEGER eightbyte
    public struct Vec3f { public float X, Y, Z; }                              // 12 bytes of floats

    public class Holder
    {
        public int Before;
        public S3 Small;
        public S24 Mid;
        public S40 Big;
        public byte After;
    }

    public static class Structs
    {
        static S3 MakeS3(byte a, byte b, byte c) { S3 s; s.A = a; s.B = b; s.C = c; return s; }
        static S5 MakeS5(byte x) { S5 s; s.A = x; s.B = (byte)(x + 1); s.C = (byte)(x + 2); s.D = (byte)(x + 3); s.E = (byte)(x + 4); return s; }
        static S12 MakeS12(int a, int b, int c) { S12 s; s.A = a; s.B = b; s.C = c; return s; }
        static S24 MakeS24(long a, int b, int c, long d) { S24 s; s.A = a; s.B = b; s.C = c; s.D = d; return s; }
        static S40 MakeS40(long x) { S40 s; s.A = x; s.B = x * 2; s.C = x * 3; s.D = x * 4; s.E = x * 5; return s; }
        static int SumS3(S3 s) { return s.A + s.B * 256 + s.C * 65536; }
        static int SumS5(S5 s) { return s.A + s.B + s.C + s.D + s.E; }
        static int SumS12(S12 s) { return s.A + s.B + s.C; }
        static long SumS24(S24 s) { return s.A + s.B + s.C + s.D; }
        static long SumS40(S40 s) { return s.A + s.B + s.C + s.D + s.E; }
        static void Bump(ref S12 s) { s.A++; s.B += 10; s.C += 100; }
        static S40 Twice(S40 s) { s.A *= 2; s.B *= 2; s.C *= 2; s.D *= 2; s.E *= 2; return s; }

        static Vec2 MkVec2(double x, double y) { Vec2 v; v.X = x; v.Y = y; return v; }
        static Vec2 AddVec2(Vec2 a, Vec2 b) { Vec2 r; r.X = a.X + b.X; r.Y = a.Y + b.Y; return r; }
        static IntFloat MkIntFloat(int i, float f) { IntFloat r; r.I = i; r.F = f; return r; }
        static float SumVec3f(Vec3f v, int k) { return (v.X + v.Y + v.Z) * k; }
        static double VecAmongScalars(int a, Vec2 v, double b, IntFloat m, long c, Vec2 w)
        {
            return a + v.X + v.Y + b + m.I + m.F + c + w.X * w.Y;
        }

        [Expect("4.5")] public static double DoubleStructReturn() { return MkVec2(1.5, 3.0).X + MkVec2(1.5, 3.0).Y - 0.0; }
        [Expect("-2.5")] public static double DoubleStructArgs() { Vec2 r = AddVec2(MkVec2(1, 2), MkVec2(-3.5, 4)); return r.X; }
        [Expect("6")] public static double DoubleStructArgsY() { Vec2 r = AddVec2(MkVec2(1, 2), MkVec2(-3.5, 4)); return r.Y; }
        [Expect("7.25")] public static float IntFloatStruct() { IntFloat m = MkIntFloat(7, 0.25f); return m.I + m.F; }
        [Expect("-7")] public static int IntFloatStructIntField() { return MkIntFloat(-7, 1.5f).I; }
        [Expect("13.5")] public static float FloatStruct12()
        {
            Vec3f v; v.X = 1.5f; v.Y = 2f; v.Z = 1f;
            return SumVec3f(v, 3);
        }
        [Expect("24.5")]
        public static double FloatStructsAmongScalars()
        {
            // 1 + (2 + 3) + 4 + (5 + 0.5) + 6 + (1.5 * 2)
            return VecAmongScalars(1, MkVec2(2, 3), 4, MkIntFloat(5, 0.5f), 6, MkVec2(1.5, 2));
        }
        [Expect("3")] public static int SizeOfS3Array() { S3[] a = new S3[3]; a[2].C = 3; return a[2].C + a[0].C + a[1].C; }
        [Expect("197121")] public static int S3Local() { S3 s = MakeS3(1, 2, 3); return s.A + s.B * 256 + s.C * 65536; }
        [Expect("197121")] public static int S3Arg() { return SumS3(MakeS3(1, 2, 3)); }
        [Expect("16777215")] public static int S3ArgMax() { return SumS3(MakeS3(255, 255, 255)); }
        // seed bug 5: field read from a struct value returned by a call (call; ldfld).
        [Expect("2")] public static int S3FieldOfCallResult() { return MakeS3(1, 2, 3).B; }
        [Expect("3")] public static int S3FieldOfCallResultLast() { return MakeS3(1, 2, 3).C; }
        [Expect("35")] public static int S5Arg() { return SumS5(MakeS5(5)); }
        [Expect("9")] public static int S5FieldOfCallResult() { return MakeS5(5).E; }
        [Expect("6")] public static int S12Arg() { return SumS12(MakeS12(1, 2, 3)); }
        [Expect("-1")] public static int S12FieldOfCallResult() { return MakeS12(7, 8, -1).C; }
        [Expect("-2147483648")] public static int S12Edge() { return SumS12(MakeS12(int.MaxValue, 1, 0)); }
        [Expect("10000000010")] public static long S24Arg() { return SumS24(MakeS24(4000000000, 3, 7, 6000000000)); }
        [Expect("-1")] public static long S24FieldOfCallResult() { return MakeS24(1, 2, 3, -1).D; }
        [Expect("-4")] public static long S24MixedFields() { return SumS24(MakeS24(-1, -1, -1, -1)); }
        [Expect("15")] public static long S40Arg() { return SumS40(MakeS40(1)); }
        [Expect("500000000000")] public static long S40FieldOfCallResult() { return MakeS40(100000000000).E; }
        [Expect("30")] public static long S40ReturnThroughChain() { return SumS40(Twice(MakeS40(1))); }
        [Expect("1")]
        public static long S40ArgIsACopy()
        {
            S40 s = MakeS40(1);
            Twice(s);                      // the callee's changes must not leak back
            return s.A;
        }
        [Expect("11112")]
        public static int S12ByRef()
        {
            S12 s = MakeS12(1, 1000, 10000);
            Bump(ref s);
            return s.A + s.B + s.C;
        }
        [Expect("3")]
        public static int StructCopyIsIndependent()
        {
            S12 a = MakeS12(1, 2, 3);
            S12 b = a;
            b.C = 99;
            return a.C;
        }
        [Expect("0")]
        public static long DefaultStructIsZero()
        {
            S40 s = new S40();
            return s.A | s.B | s.C | s.D | s.E;
        }
        [Expect("0")]
        public static int InitobjClearsLocal()
        {
            S12 s = MakeS12(5, 6, 7);
            s = new S12();                 // initobj on an existing local
            return s.A + s.B + s.C;
        }
        [Expect("24")] public static int PaddedFields() { Padded p; p.A = 1; p.B = 20; p.C = 3; return p.A + (int)p.B + p.C; }
        [Expect("-1")]
        public static long PaddedKeepsNeighbours()
        {
            Padded p = new Padded();
            p.B = -1;
            p.A = 0xFF; p.C = -1;
            p.A = 0; p.C = 0;              // narrow stores must not touch B
            return p.B;
        }
        [Expect("1013")]
        public static int NestedStruct()
        {
            Nested n = new Nested();
            n.Addr = MakeS3(1, 2, 3);
            n.Tag = 7;
            n.Inner = MakeS12(100, 200, 700);
            return n.Addr.A + n.Addr.B + n.Addr.C + n.Tag + n.Inner.A + n.Inner.B + n.Inner.C - 0;
        }
        [Expect("3")]
        public static int NestedFieldStore()
        {
            Nested n = new Nested();
            n.Inner.B = 3;
            return n.Inner.B + n.Inner.A + n.Inner.C;
        }
        [Expect("255")]
        public static int DeepStructLastField()
        {
            Deep d = new Deep();
            d.Big = MakeS40(-1);
            d.Last = 255;
            d.N.Addr.C = 9;
            return d.Last;
        }
        [Expect("-15")]
        public static long DeepStructBigField()
        {
            Deep d = new Deep();
            d.Big = MakeS40(-1);
            d.Last = 255;
            return SumS40(d.Big);
        }
        [Expect("9")]
        public static int DeepStructCopy()
        {
            Deep d = new Deep();
            d.N.Addr.C = 9;
            Deep e = d;
            d.N.Addr.C = 1;
            return e.N.Addr.C;
        }
        // seed bug 3 / issue 4: struct fields inside a class sit after the header.
        [Expect("197121")]
        public static int StructFieldOfClass()
        {
            Holder h = new Holder();
            h.Small = MakeS3(1, 2, 3);
            return SumS3(h.Small);
        }
        [Expect("7")]
        public static int StructFieldOfClassDirectWrite()
        {
            Holder h = new Holder();
            h.Small.C = 7;
            h.Big.E = 8;
            return h.Small.C + h.Small.A + h.Small.B;
        }
        [Expect("10000000010")]
        public static long StructFieldOfClassMid()
        {
            Holder h = new Holder();
            h.Mid = MakeS24(4000000000, 3, 7, 6000000000);
            return SumS24(h.Mid);
        }
        // Later ProtonOS bug: storing a >= 32-byte struct field corrupted neighbours.
        [Expect("1234")]
        public static int BigStructStoreKeepsNeighbours()
        {
            Holder h = new Holder();
            h.Before = 1000; h.After = 234;
            h.Big = MakeS40(-1);
            h.Mid = MakeS24(-1, -1, -1, -1);
            return h.Before + h.After;
        }
        [Expect("-5")]
        public static long BigStructFieldOfClassRoundTrip()
        {
            Holder h = new Holder();
            h.Big = MakeS40(-1);
            S40 copy = h.Big;
            return copy.E;
        }
        // seed bug 1: arrays of structs use the element size as the stride.
        [Expect("4950")]
        public static int ArrayOfS12()
        {
            S12[] a = new S12[100];
            for (int i = 0; i < a.Length; i++) { a[i].A = i; a[i].B = -i; a[i].C = i; }
            int s = 0;
            for (int i = 0; i < a.Length; i++) s += a[i].A + a[i].B + a[i].C;
            return s;
        }
        [Expect("897")]
        public static int ArrayOfS3()
        {
            S3[] a = new S3[6];
            for (int i = 0; i < 6; i++) a[i] = MakeS3((byte)i, (byte)(i * 10), (byte)(i * 100));
            int s = 0;
            for (int i = 0; i < 6; i++) s += a[i].A + a[i].B + a[i].C;
            return s;
        }
        [Expect("255")]
        public static int ArrayOfS3NoBleed()
        {
            S3[] a = new S3[3];
            a[1] = MakeS3(255, 255, 255);
            return a[0].C + a[2].A + a[1].B;
        }
        [Expect("100")]
        public static int ArrayOfS5()
        {
            S5[] a = new S5[5];
            for (int i = 0; i < 5; i++) a[i] = MakeS5((byte)i);
            int s = 0;
            for (int i = 0; i < 5; i++) s += SumS5(a[i]);
            return s;
        }
        [Expect("150")]
        public static long ArrayOfS40()
        {
            S40[] a = new S40[4];
            for (int i = 0; i < 4; i++) a[i] = MakeS40(i + 1);
            long s = 0;
            for (int i = 0; i < 4; i++) s += SumS40(a[i]);
            return s;
        }
        [Expect("-1")]
        public static long ArrayOfS24LastElement()
        {
            S24[] a = new S24[7];
            a[6] = MakeS24(1, 2, 3, -1);
            return a[6].D;
        }
        [Expect("2")]
        public static int ArrayElementCopyIsIndependent()
        {
            S12[] a = new S12[2];
            a[0] = MakeS12(1, 2, 3);
            S12 c = a[0];
            a[0].B = 50;
            return c.B;
        }
        [Expect("100")]
        public static int StructArrayInStructArray()
        {
            Nested[] a = new Nested[3];
            a[2].Inner.C = 100;
            a[1].Addr.C = 5;
            return a[2].Inner.C + a[0].Inner.C;
        }
        [Expect("6")]
        public static int SwapStructs()
        {
            S12 a = MakeS12(1, 2, 3), b = MakeS12(4, 5, 6);
            S12 t = a; a = b; b = t;
            return a.C;
        }
        [Expect("0")] public static int EmptyishStructSize() { S3 s = new S3(); return s.A + s.B + s.C; }
    }
}
