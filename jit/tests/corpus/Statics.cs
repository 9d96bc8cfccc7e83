// Statics.cs: ldsfld/stsfld/ldsflda of every width, static fields of struct type,
// static constructors (run once, before first access, also for beforefieldinit),
// initialised static readonly arrays.
using System;

namespace Corpus
{
    public static class StaticHolder
    {
        public static int I32;
        public static long I64;
        public static byte U8;
        public static sbyte I8;
        public static short I16;
        public static double F64;
        public static float F32;
        public static bool Flag;
        public static object Ref;
        public static S40 Big;
        public static S3 Small;
    }

    public class WithCctor
    {
        public static int Runs;
        public static int Value;
        static WithCctor() { Runs++; Value = 1234; }
        public static int Get(int add) { return Value + add; }
    }

    public class FieldInit   // beforefieldinit: initialisers only, no explicit .cctor
    {
        public static int A = 7;
        public static long B = A * 1000000000L;
        public static readonly int[] Table = new int[] { 10, 20, 30, 40 };
    }

    public class Chain1 { public static int V = Chain2.V + 1; }
    public class Chain2 { public static int V = 41; }

    public static class Statics
    {
        [Expect("-7")] public static int IntStatic() { StaticHolder.I32 = -7; return StaticHolder.I32; }
        [Expect("-8589934592")] public static long LongStatic() { StaticHolder.I64 = -8589934592; return StaticHolder.I64; }
        [Expect("255")] public static int ByteStatic() { StaticHolder.U8 = 255; return StaticHolder.U8; }
        [Expect("-128")] public static int SByteStatic() { StaticHolder.I8 = -128; return StaticHolder.I8; }
        [Expect("-2")] public static int ShortStatic() { StaticHolder.I16 = -2; return StaticHolder.I16; }
        [Expect("0.125")] public static double DoubleStatic() { StaticHolder.F64 = 0.125; return StaticHolder.F64; }
        [Expect("3.5")] public static float FloatStatic() { StaticHolder.F32 = 3.5f; return StaticHolder.F32; }
        [Expect("1")] public static bool BoolStatic() { StaticHolder.Flag = true; return StaticHolder.Flag; }
        [Expect("1")] public static bool RefStatic() { object o = new object(); StaticHolder.Ref = o; return StaticHolder.Ref == o; }
        [Expect("15")]
        public static long StructStatic()
        {
            S40 s; s.A = 1; s.B = 2; s.C = 3; s.D = 4; s.E = 5;
            StaticHolder.Big = s;
            return StaticHolder.Big.A + StaticHolder.Big.B + StaticHolder.Big.C + StaticHolder.Big.D + StaticHolder.Big.E;
        }
        [Expect("9")]
        public static int StructStaticFieldStore()
        {
            StaticHolder.Small.C = 9;        // ldsflda + stfld
            return StaticHolder.Small.C;
        }
        [Expect("30")]
        public static int StaticAddress()
        {
            StaticHolder.I32 = 10;
            Add20(ref StaticHolder.I32);
            return StaticHolder.I32;
        }
        static void Add20(ref int x) { x += 20; }
        [Expect("1234")] public static int CctorRuns() { return WithCctor.Get(0); }
        [Expect("1")]
        public static int CctorRunsOnce()
        {
            int v = WithCctor.Value + WithCctor.Get(0) + WithCctor.Value;
            return v == 3702 ? WithCctor.Runs : -1;
        }
        [Expect("7")] public static int FieldInitializer() { return FieldInit.A; }
        [Expect("7000000000")] public static long FieldInitializerDependsOnEarlier() { return FieldInit.B; }
        [Expect("100")]
        public static int StaticReadonlyArray()
        {
            int s = 0;
            for (int i = 0; i < FieldInit.Table.Length; i++) s += FieldInit.Table[i];
            return s;
        }
        [Expect("42")] public static int CctorChain() { return Chain1.V; }
        [Expect("5")]
        public static int StaticCounterLoop()
        {
            StaticHolder.I32 = 0;
            for (int i = 0; i < 5; i++) StaticHolder.I32++;
            return StaticHolder.I32;
        }
    }
}
