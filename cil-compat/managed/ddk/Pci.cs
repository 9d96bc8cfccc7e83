//! Managed DDK: PCI addressing, typed configuration access, BAR decoding/sizing and
//! the capability walk (PCI Local Bus Specification 3.0 §6.1, §6.2.5, §6.7), the
//! same behaviour as ddk/src/pci.rs, over the ABI's `pci_*`/`bar_map` entries.
using System;
using System.Runtime.InteropServices;

namespace Ddk
{
    /// Bus/Device/Function, segment 0: exactly 3 bytes, the layout of Rust's
    /// `ddk::PciAddress` (`#[repr(C)] { bus, device, function }`). By value through
    /// the ABI it is the low 24 bits of one register: bus | device << 8 | function << 16.
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct PciAddress
    {
        public byte Bus;
        public byte Device;
        public byte Function;

        public PciAddress(byte bus, byte device, byte function)
        {
            Bus = bus;
            Device = device;
            Function = function;
        }

        /// device < 32 and function < 8.
        public bool IsValid { get { return Device < 32 && Function < 8; } }

        /// The register image (`PciAddress::to_abi_u32`).
        public uint ToAbiU32() { return (uint)Bus | ((uint)Device << 8) | ((uint)Function << 16); }

        /// Inverse of ToAbiU32; false for bits above 24 or out-of-range fields.
        public static bool TryFromAbiU32(uint v, out PciAddress address)
        {
            address = new PciAddress((byte)v, (byte)(v >> 8), (byte)(v >> 16));
            return (v >> 24) == 0 && address.IsValid;
        }

        public bool Equals(PciAddress other)
        {
            return Bus == other.Bus && Device == other.Device && Function == other.Function;
        }

        public override bool Equals(object obj) { return obj is PciAddress && Equals((PciAddress)obj); }
        public override int GetHashCode() { return (int)ToAbiU32(); }

        /// `bb:dd.f`, like ddk::PciAddress's Display.
        public override string ToString()
        {
            return String.Concat(Hex2(Bus) + ":", Hex2(Device), ".", ((int)Function).ToString());
        }

        static string Hex2(byte b)
        {
            char[] c = new char[2];
            c[0] = HexDigit(b >> 4);
            c[1] = HexDigit(b & 0xF);
            return String.Concat(c[0].ToString(), c[1].ToString());
        }

        static char HexDigit(int d) { return (char)(d < 10 ? '0' + d : 'a' + d - 10); }
    }

    /// Type-0 header register offsets (PCI 3.0 §6.1) and command bits (§6.2.2).
    public static class PciReg
    {
        public const ushort VendorId = 0x00;
        public const ushort DeviceId = 0x02;
        public const ushort Command = 0x04;
        public const ushort Status = 0x06;
        public const ushort Revision = 0x08;
        public const ushort ProgIf = 0x09;
        public const ushort Subclass = 0x0a;
        public const ushort Class = 0x0b;
        public const ushort HeaderType = 0x0e;
        public const ushort Bar0 = 0x10;
        public const ushort SubsystemVendorId = 0x2c;
        public const ushort SubsystemId = 0x2e;
        public const ushort CapabilitiesPtr = 0x34;
        public const ushort InterruptLine = 0x3c;
        public const ushort InterruptPin = 0x3d;

        public const ushort CommandIoSpace = 1 << 0;
        public const ushort CommandMemorySpace = 1 << 1;
        public const ushort CommandBusMaster = 1 << 2;
        public const ushort CommandIntxDisable = 1 << 10;

        public const ushort StatusCapList = 1 << 4;

        public const byte CapMsi = 0x05;
        public const byte CapVendorSpecific = 0x09;
        public const byte CapPcie = 0x10;
        public const byte CapMsix = 0x11;
    }

    /// Typed configuration-space access (offsets < 256, naturally aligned; the
    /// platform checks too).
    public static class Pci
    {
        public static Status Read8(PciAddress a, ushort offset, out byte value)
        {
            return Status.FromRaw(Abi.pci_read8(a, offset, out value));
        }

        public static Status Read16(PciAddress a, ushort offset, out ushort value)
        {
            return Status.FromRaw(Abi.pci_read16(a, offset, out value));
        }

        public static Status Read32(PciAddress a, ushort offset, out uint value)
        {
            return Status.FromRaw(Abi.pci_read32(a, offset, out value));
        }

        public static Status Write8(PciAddress a, ushort offset, byte value)
        {
            return Status.FromRaw(Abi.pci_write8(a, offset, value));
        }

        public static Status Write16(PciAddress a, ushort offset, ushort value)
        {
            return Status.FromRaw(Abi.pci_write16(a, offset, value));
        }

        public static Status Write32(PciAddress a, ushort offset, uint value)
        {
            return Status.FromRaw(Abi.pci_write32(a, offset, value));
        }

        public static Status EnableBusMaster(PciAddress a)
        {
            return Status.FromRaw(Abi.pci_enable_bus_master(a));
        }

        /// Maps BAR `bar` (enabling its decoding) as a bounds-checked region.
        public static Status MapBar(PciAddress a, int bar, out MmioRegion region)
        {
            ulong handle, length;
            region = new MmioRegion();
            if (bar < 0 || bar > 5) return Status.Of(DdkError.InvalidArgument);
            Status s = Status.FromRaw(Abi.bar_map(a, (uint)bar, out handle, out length));
            if (s.IsOk) region = new MmioRegion(handle, 0, length);
            return s;
        }

        /// BAR slots of a header type (0: endpoint 6, 1: bridge 2).
        public static int BarSlots(byte headerType)
        {
            switch (headerType & 0x7f)
            {
                case 0: return 6;
                case 1: return 2;
                default: return 0;
            }
        }
    }

    public enum BarKind : byte
    {
        None = 0,
        Memory32 = 1,
        Memory64 = 2,
        Io = 3,
    }

    /// A decoded, sized Base Address Register (PCI 3.0 §6.2.5.1). 32 bytes.
    public struct Bar
    {
        public BarKind Kind;
        /// Base address (a port number for I/O BARs).
        public ulong Address;
        public ulong Size;
        public bool Prefetchable;

        public Bar(BarKind kind, ulong address, ulong size, bool prefetchable)
        {
            Kind = kind;
            Address = address;
            Size = size;
            Prefetchable = prefetchable;
        }

        public bool IsPresent { get { return Kind != BarKind.None; } }
        public bool IsIo { get { return Kind == BarKind.Io; } }
        public bool IsMemory { get { return Kind == BarKind.Memory32 || Kind == BarKind.Memory64; } }
    }

    /// One capability-list entry.
    public struct Capability
    {
        /// Config-space offset of the capability header.
        public byte Offset;
        public byte Id;
    }

    /// Walks the capability list, bounded like ddk::pci::CapabilityIter: at most 48
    /// entries, pointers below 0x40 end the walk, a repeated offset ends it, the two
    /// low pointer bits are masked. Pattern-based `foreach` (no IDisposable, so no
    /// try/finally is generated).
    public struct CapabilityEnumerator
    {
        PciAddress _address;
        byte _next;
        int _steps;
        ulong _seen0, _seen1, _seen2, _seen3;
        Capability _current;
        /// Set when the walk stopped on a malformed list rather than at its end.
        public bool Malformed;

        public CapabilityEnumerator(PciAddress address, byte first)
        {
            _address = address;
            _next = first;
            _steps = 0;
            _seen0 = _seen1 = _seen2 = _seen3 = 0;
            _current = new Capability();
            Malformed = false;
        }

        public Capability Current { get { return _current; } }

        public CapabilityEnumerator GetEnumerator() { return this; }

        bool Seen(int bit)
        {
            ulong mask = 1UL << (bit & 63);
            switch (bit >> 6)
            {
                case 0: if ((_seen0 & mask) != 0) return true; _seen0 |= mask; return false;
                case 1: if ((_seen1 & mask) != 0) return true; _seen1 |= mask; return false;
                case 2: if ((_seen2 & mask) != 0) return true; _seen2 |= mask; return false;
                default: if ((_seen3 & mask) != 0) return true; _seen3 |= mask; return false;
            }
        }

        public bool MoveNext()
        {
            byte off = (byte)(_next & ~3);
            if (off == 0) return false;
            if (off < 0x40 || _steps >= 48 || Seen(off))
            {
                Malformed = true;
                _next = 0;
                return false;
            }
            _steps++;
            ushort hdr;
            if (Pci.Read16(_address, off, out hdr).IsError)
            {
                Malformed = true;
                _next = 0;
                return false;
            }
            _next = (byte)(hdr >> 8);
            _current.Offset = off;
            _current.Id = (byte)hdr;
            return true;
        }
    }

    /// What the DDK knows about one PCI function, read once at probe time
    /// (ddk::pci::PciDevice).
    public sealed class PciDevice
    {
        public PciAddress Address;
        public ushort VendorId;
        public ushort DeviceId;
        public byte Revision;
        public byte Class;
        public byte Subclass;
        public byte ProgIf;
        /// 0 endpoint, 1 PCI bridge, 2 CardBus (multifunction bit cleared).
        public byte HeaderType;
        public bool Multifunction;
        public ushort SubsystemVendorId;
        public ushort SubsystemId;
        public byte InterruptLine;
        public byte InterruptPin;
        /// Decoded BARs; the upper half of a 64-bit BAR is `BarKind.None`.
        public readonly Bar[] Bars = new Bar[6];

        /// Reads the header and sizes the BARs. `NoDevice` when nothing answers.
        public static Status Probe(PciAddress address, out PciDevice device)
        {
            device = null;
            if (!address.IsValid) return Status.Of(DdkError.InvalidArgument);
            ushort vendor;
            Status s = Pci.Read16(address, PciReg.VendorId, out vendor);
            if (s.IsError) return s;
            if (vendor == 0xffff || vendor == 0) return Status.Of(DdkError.NoDevice);
            PciDevice d = new PciDevice();
            d.Address = address;
            d.VendorId = vendor;
            byte ht;
            if ((s = Pci.Read8(address, PciReg.HeaderType, out ht)).IsError) return s;
            d.HeaderType = (byte)(ht & 0x7f);
            d.Multifunction = (ht & 0x80) != 0;
            int slots = Pci.BarSlots(d.HeaderType);
            int i = 0;
            while (i < slots)
            {
                Bar bar;
                int used;
                if ((s = SizeBar(address, i, out bar, out used)).IsError) return s;
                d.Bars[i] = bar;
                i += used;
            }
            if (d.HeaderType == 0)
            {
                if ((s = Pci.Read16(address, PciReg.SubsystemVendorId, out d.SubsystemVendorId)).IsError) return s;
                if ((s = Pci.Read16(address, PciReg.SubsystemId, out d.SubsystemId)).IsError) return s;
            }
            if ((s = Pci.Read16(address, PciReg.DeviceId, out d.DeviceId)).IsError) return s;
            if ((s = Pci.Read8(address, PciReg.Revision, out d.Revision)).IsError) return s;
            if ((s = Pci.Read8(address, PciReg.Class, out d.Class)).IsError) return s;
            if ((s = Pci.Read8(address, PciReg.Subclass, out d.Subclass)).IsError) return s;
            if ((s = Pci.Read8(address, PciReg.ProgIf, out d.ProgIf)).IsError) return s;
            if ((s = Pci.Read8(address, PciReg.InterruptLine, out d.InterruptLine)).IsError) return s;
            if ((s = Pci.Read8(address, PciReg.InterruptPin, out d.InterruptPin)).IsError) return s;
            device = d;
            return Status.Ok;
        }

        /// Decodes and sizes BAR `index` (write all-ones, read back, restore), with
        /// memory and I/O decoding off meanwhile; `used` is 2 for a 64-bit BAR.
        public static Status SizeBar(PciAddress a, int index, out Bar bar, out int used)
        {
            bar = new Bar();
            used = 1;
            if (index < 0 || index >= 6) return Status.Of(DdkError.InvalidArgument);
            ushort off = (ushort)(PciReg.Bar0 + 4 * index);
            uint orig;
            ushort cmd;
            Status s;
            if ((s = Pci.Read32(a, off, out orig)).IsError) return s;
            if ((s = Pci.Read16(a, PciReg.Command, out cmd)).IsError) return s;
            if ((s = Pci.Write16(a, PciReg.Command, (ushort)(cmd & ~(PciReg.CommandIoSpace | PciReg.CommandMemorySpace)))).IsError) return s;
            Status r = Decode(a, index, off, orig, out bar, out used);
            // Restore decoding even when sizing failed half-way.
            Status restore = Pci.Write16(a, PciReg.Command, cmd);
            if (r.IsError) return r;
            return restore;
        }

        static Status Decode(PciAddress a, int index, ushort off, uint orig, out Bar bar, out int used)
        {
            bar = new Bar();
            used = 1;
            Status s;
            uint rb;
            if ((orig & 1) == 1)
            {
                if ((s = Pci.Write32(a, off, 0xffffffff)).IsError) return s;
                if ((s = Pci.Read32(a, off, out rb)).IsError) return s;
                if ((s = Pci.Write32(a, off, orig)).IsError) return s;
                uint size = (~(rb & ~3u) + 1) & 0xffff;
                if ((rb & ~3u) == 0 || size == 0) return Status.Ok;
                uint port = orig & ~3u;
                if (port > 0xffff) return Status.Of(DdkError.Unsupported);
                bar = new Bar(BarKind.Io, port, size, false);
                return Status.Ok;
            }
            bool prefetchable = (orig & 8) != 0;
            if (((orig >> 1) & 3) == 2)
            {
                used = 2;
                if (index == 5) return Status.Of(DdkError.InvalidArgument);
                uint origHi, lo, hi;
                if ((s = Pci.Read32(a, (ushort)(off + 4), out origHi)).IsError) return s;
                if ((s = Pci.Write32(a, off, 0xffffffff)).IsError) return s;
                if ((s = Pci.Write32(a, (ushort)(off + 4), 0xffffffff)).IsError) return s;
                if ((s = Pci.Read32(a, off, out lo)).IsError) return s;
                if ((s = Pci.Read32(a, (ushort)(off + 4), out hi)).IsError) return s;
                if ((s = Pci.Write32(a, off, orig)).IsError) return s;
                if ((s = Pci.Write32(a, (ushort)(off + 4), origHi)).IsError) return s;
                ulong mask = ((ulong)hi << 32) | (ulong)(lo & ~0xfu);
                if (mask == 0) return Status.Ok;
                bar = new Bar(BarKind.Memory64, ((ulong)origHi << 32) | (ulong)(orig & ~0xfu), ~mask + 1, prefetchable);
                return Status.Ok;
            }
            if ((s = Pci.Write32(a, off, 0xffffffff)).IsError) return s;
            if ((s = Pci.Read32(a, off, out rb)).IsError) return s;
            if ((s = Pci.Write32(a, off, orig)).IsError) return s;
            uint m = rb & ~0xfu;
            if (m == 0) return Status.Ok;
            bar = new Bar(BarKind.Memory32, orig & ~0xfu, (ulong)(~m + 1), prefetchable);
            return Status.Ok;
        }

        /// The capability list (empty when the status register says there is none).
        public CapabilityEnumerator Capabilities()
        {
            ushort status;
            byte first = 0;
            if (Pci.Read16(Address, PciReg.Status, out status).IsOk && (status & PciReg.StatusCapList) != 0)
            {
                if (Pci.Read8(Address, PciReg.CapabilitiesPtr, out first).IsError) first = 0;
            }
            return new CapabilityEnumerator(Address, first);
        }

        /// Offset of the first capability with `id`.
        public bool FindCapability(byte id, out byte offset)
        {
            foreach (Capability c in Capabilities())
            {
                if (c.Id == id)
                {
                    offset = c.Offset;
                    return true;
                }
            }
            offset = 0;
            return false;
        }

        /// Sets `bits` in the command register, leaving the others as they are.
        public Status SetCommandBits(ushort bits)
        {
            ushort cmd;
            Status s = Pci.Read16(Address, PciReg.Command, out cmd);
            if (s.IsError || (cmd & bits) == bits) return s;
            return Pci.Write16(Address, PciReg.Command, (ushort)(cmd | bits));
        }

        public Status EnableBusMaster() { return Pci.EnableBusMaster(Address); }

        public Status MapBar(int index, out MmioRegion region) { return Pci.MapBar(Address, index, out region); }
    }
}
