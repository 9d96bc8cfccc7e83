// SeedBugs.cs: named regression tests for the five seed bugs and the later ProtonOS
// bugs listed in /work/shared/DESIGN.md ("What the seed taught"). The IL-only forms
// (ldloc + ldfld, dup + initobj) are in ../il/seed_bugs.il.
using System;

namespace Corpus
{
    // The seed's PciAddress: 3 bytes, Bus/Device/Function.
    public struct PciAddress
    {
        public byte Bus, Device, Function;
        public PciAddress(byte bus, byte device, byte function) { Bus = bus; Device = device; Function = function; }
        public int Packed() { return (Bus << 16) | (Device << 8) | Function; }
    }

    // The seed's PciBar (16 bytes): arrays of it were undersized (bug 1).
    public struct PciBar { public ulong Address; public uint Size; public bool IsIo; public bool Is64; }

    public class PciDeviceInfo
    {
        public PciAddress Address;
        public ushort Vendor;
        public PciBar[] Bars = new PciBar[6];
        public PciDeviceInfo(byte bus, byte dev, byte fn) { Address = new PciAddress(bus, dev, fn); Vendor = 0x1af4; }
        public PciAddress GetAddress() { return Address; }
    }

    public struct Regs32 { public long A, B, C, D; }   // 32 bytes

    public class Regs32Holder { public int Guard1; public Regs32 R; public int Guard2; }

    public static class SeedBugs
    {
        static int EnableBusMaster(PciAddress addr) { return addr.Bus * 10000 + addr.Device * 100 + addr.Function; }
        static int Fifth(int a, int b, int c, int d, int e) { return e; }
        static long SumFive(long a, long b, long c, long d, long e) { return a + b + c + d + e; }

        // Bug 1: array of structs has component size = element size (PciBar is 16).
        [Expect("30")]
        public static int Bug1ArrayOfStructsComponentSize()
        {
            PciDeviceInfo d = new PciDeviceInfo(0, 3, 0);
            for (int i = 0; i < 6; i++) { d.Bars[i].Address = (ulong)(i + 1) << 32; d.Bars[i].Size = (uint)i; d.Bars[i].Is64 = true; }
            int s = 0;
            for (int i = 0; i < 6; i++) s += (int)(d.Bars[i].Address >> 32) + (int)d.Bars[i].Size - (d.Bars[i].Is64 ? 1 : 0) - (d.Bars[i].IsIo ? 100 : 0);
            return s;
        }
        [Expect("16777216")]
        public static long Bug1LastElementDoesNotOverrun()
        {
            PciBar[] bars = new PciBar[6];
            int[] after = new int[4];
            bars[5].Address = ulong.MaxValue; bars[5].Size = uint.MaxValue; bars[5].IsIo = true; bars[5].Is64 = true;
            return after[0] + after[1] + after[2] + after[3] + (long)(bars[5].Address >> 40) + 1;
        }
        // Bug 2: instance methods (and constructors without parameters) get `this`.
        [Expect("197121")] public static int Bug2ThisOfStructMethod() { PciAddress a = new PciAddress(3, 2, 1); return a.Packed(); }
        [Expect("6900")] public static int Bug2ThisOfConstructor() { PciDeviceInfo d = new PciDeviceInfo(0, 3, 0); return d.Vendor - 0x1af4 + 6900; }
        // Bug 3: value-type field offsets start at 0, class fields after the header.
        [Expect("66051")]
        public static int Bug3ValueTypeFieldOffsets()
        {
            PciAddress a = new PciAddress(1, 2, 3);
            return a.Packed();
        }
        [Expect("6915")]
        public static int Bug3StructInsideClass()
        {
            PciDeviceInfo d = new PciDeviceInfo(0, 3, 0);
            return d.Address.Device * 5 + d.Vendor - 0x1af4 + 6900;
        }
        // Bug 4: struct locals of any size; callee-saved registers survive calls.
        [Expect("100")]
        public static long Bug4LargeStructLocals()
        {
            S40 a = new S40(); S40 b = new S40(); S24 c = new S24(); S40 d = new S40();
            a.E = 10; b.E = 20; c.D = 30; d.E = 40;
            return a.E + b.E + c.D + d.E;
        }
        [Expect("15")]
        public static int Bug4CalleeSavedAcrossCalls()
        {
            int a = Fifth(0, 0, 0, 0, 1), b = Fifth(0, 0, 0, 0, 2), c = Fifth(0, 0, 0, 0, 3);
            int d = Fifth(0, 0, 0, 0, 4), e = Fifth(0, 0, 0, 0, 5);
            return a + b + c + d + e;
        }
        // Bug 5: ldfld on a struct value (not an address): call result, ldobj, unbox.any.
        [Expect("3")] public static int Bug5LdfldOnCallResult() { PciDeviceInfo d = new PciDeviceInfo(0, 3, 0); return d.GetAddress().Device; }
        [Expect("300")] public static int Bug5StructArgFieldRead() { PciDeviceInfo d = new PciDeviceInfo(0, 3, 0); return EnableBusMaster(d.Address); }
        [Expect("30201")] public static int Bug5StructArgFromLocal() { PciAddress addr = new PciAddress(3, 2, 1); PciAddress copy = addr; return EnableBusMaster(copy); }
        [Expect("7")]
        public static int Bug5LdfldOnUnboxedValue()
        {
            object o = new PciAddress(0, 7, 0);
            return ((PciAddress)o).Device;
        }
        [Expect("3")]
        public static int Bug5SeedWorkaroundShape()
        {
            PciDeviceInfo pd = new PciDeviceInfo(0, 3, 0);
            PciDeviceInfo local = pd;
            PciAddress addr = local.Address;
            byte b = addr.Device;
            return b;
        }
        // Later: shr.un / conv.u lost the upper bits of 64-bit values.
        [Expect("4294967295")] public static ulong ShrUnKeepsUpperBits() { ulong v = 0xFFFFFFFF00000000; return v >> 32; }
        [Expect("18446744069414584320")] public static ulong ConvUKeepsUpperBits() { ulong v = 0xFFFFFFFF00000000; ulong w = (ulong)(long)v; return w; }
        // Later: a 5th argument clobbered a callee-saved register.
        [Expect("5")] public static int FifthArgument() { return Fifth(1, 2, 3, 4, 5); }
        [Expect("15000000000")] public static long FifthArgumentLong() { return SumFive(1000000000, 2000000000, 3000000000, 4000000000, 5000000000); }
        // Later: storing a 32-byte struct field corrupted memory around it.
        [Expect("3")]
        public static int Store32ByteStructField()
        {
            Regs32Holder h = new Regs32Holder();
            h.Guard1 = 1; h.Guard2 = 2;
            Regs32 r; r.A = -1; r.B = -1; r.C = -1; r.D = -1;
            h.R = r;
            return h.Guard1 + h.Guard2;
        }
        [Expect("-4")]
        public static long Store32ByteStructFieldReadBack()
        {
            Regs32Holder h = new Regs32Holder();
            Regs32 r; r.A = -1; r.B = -1; r.C = -1; r.D = -1;
            h.R = r;
            return h.R.A + h.R.B + h.R.C + h.R.D;
        }
        // Later: a bool return was lost after callvirt (see also Dispatch.cs).
        [Expect("1")] public static bool BoolAfterCallvirt() { object o = new Bird(); Animal a = (Animal)o; return a.Legs() == 2; }
    }
}
