// Pointers.cs (compiled with -unsafe): native int arithmetic through C# pointers,
// ldind/stind of every width, localloc (stackalloc), pointer comparison, conv.i/conv.u
// of pointer offsets, fixed (pinned ldelema), sizeof of structs.
using System;

namespace Corpus
{
    public static unsafe class Pointers
    {
        static int I(int x) { return x; }

        [Expect("10")]
        public static int StackallocSum()
        {
            int* p = stackalloc int[4];
            for (int i = 0; i < 4; i++) p[i] = i + 1;
            return p[0] + p[1] + p[2] + p[3];
        }
        [Expect("3")]
        public static long PointerDifference()
        {
            long* p = stackalloc long[8];
            long* q = p + 3;
            return q - p;
        }
        [Expect("24")]
        public static long PointerByteDifference()
        {
            long* p = stackalloc long[8];
            long* q = p + 3;
            return (byte*)q - (byte*)p;
        }
        [Expect("1")]
        public static bool PointerCompare()
        {
            byte* p = stackalloc byte[16];
            byte* q = p + I(5);
            return q > p && p < q && q != p;
        }
        [Expect("-1")]
        public static int NegativeIndex()
        {
            int* p = stackalloc int[4];
            p[0] = -1;
            int* q = p + 2;
            return q[-2];
        }
        [Expect("-1")] public static int LdindI1() { byte* p = stackalloc byte[4]; p[0] = 0xFF; return *(sbyte*)p; }
        [Expect("255")] public static int LdindU1() { byte* p = stackalloc byte[4]; p[0] = 0xFF; return *p; }
        [Expect("-1")] public static int LdindI2() { ushort* p = stackalloc ushort[2]; p[0] = 0xFFFF; return *(short*)p; }
        [Expect("65535")] public static int LdindU2() { short* p = stackalloc short[2]; p[0] = -1; return *(ushort*)p; }
        [Expect("4294967295")] public static long LdindU4() { int* p = stackalloc int[2]; p[0] = -1; return *(uint*)p; }
        [Expect("-4294967296")] public static long LdindI8() { int* p = stackalloc int[2]; p[0] = 0; p[1] = -1; return *(long*)p; }
        [Expect("1.5")] public static double LdindR8() { double* p = stackalloc double[1]; *p = 1.5; return *p; }
        [Expect("0.75")] public static float LdindR4() { float* p = stackalloc float[1]; *p = 0.75f; return *p; }
        [Expect("67305985")]
        public static int LittleEndianBytes()
        {
            byte* p = stackalloc byte[4];
            p[0] = 1; p[1] = 2; p[2] = 3; p[3] = 4;
            return *(int*)p;
        }
        [Expect("513")]
        public static int UnalignedRead()
        {
            byte* p = stackalloc byte[8];
            for (int i = 0; i < 8; i++) p[i] = (byte)i;
            return *(short*)(p + 1);
        }
        [Expect("4")] public static int SizeOfS3Plus1() { return sizeof(S3) + 1; }
        [Expect("5")] public static int SizeOfS5() { return sizeof(S5); }
        [Expect("12")] public static int SizeOfS12() { return sizeof(S12); }
        [Expect("24")] public static int SizeOfS24() { return sizeof(S24); }
        [Expect("40")] public static int SizeOfS40() { return sizeof(S40); }
        [Expect("24")] public static int SizeOfPadded() { return sizeof(Padded); }
        [Expect("20")] public static int SizeOfNested() { return sizeof(Nested); }
        [Expect("8")] public static int SizeOfPointer() { return sizeof(IntPtr); }
        [Expect("600")]
        public static int FixedArray()
        {
            int[] a = new int[] { 100, 200, 300 };
            int s = 0;
            fixed (int* p = a)
            {
                for (int i = 0; i < 3; i++) s += p[i];
            }
            return s;
        }
        [Expect("99")]
        public static int WriteThroughFixed()
        {
            long[] a = new long[4];
            fixed (long* p = &a[2]) { *p = 99; }
            return (int)a[2];
        }
        [Expect("197121")]
        public static int StructThroughPointer()
        {
            S3* p = stackalloc S3[2];
            p[1].A = 1; p[1].B = 2; p[1].C = 3;
            p->A = 9;
            return p[1].A + p[1].B * 256 + p[1].C * 65536;
        }
        [Expect("0")]
        public static int StackallocIsZeroed()
        {
            // mcs marks methods .locals init, so localloc memory is zeroed.
            long* p = stackalloc long[16];
            long s = 0;
            for (int i = 0; i < 16; i++) s |= p[i];
            return (int)s;
        }
        [Expect("4294967296")]
        public static long PointerToLongRoundTrip()
        {
            long* p = stackalloc long[1];
            long addr = (long)p;
            *(long*)addr = 4294967296;
            return *p;
        }
        [Expect("-7")]
        public static long PointerArray()
        {
            // long*[] uses ldelem.i / stelem.i.
            long* p = stackalloc long[2];
            p[1] = -7;
            long*[] a = new long*[3];
            a[2] = p + 1;
            return *a[2];
        }
        [Expect("1")] public static bool PointerArrayStartsNull() { int*[] a = new int*[2]; return a[1] == null; }
        [Expect("1")] public static bool NullPointer() { byte* p = null; return p == null; }
        [ExpectError("null-reference")] public static int NullPointerRead() { int* p = null; return *p; }
    }
}
