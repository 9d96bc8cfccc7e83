//! Managed DDK: PCI addressing, typed configuration access, the platform's view of a
//! function (`PciDeviceInfo`, from the ABI's `pci_device_info`: header, BARs decoded
//! and sized once at the platform's enumeration, PCI Local Bus Specification 3.0
//! §6.2.5.1, and the capability list, §6.7) and the capability walk, the same
//! behaviour as ddk/src/pci.rs, over the ABI's `pci_*`/`bar_map` entries. Drivers
//! never size BARs: sizing toggles decoding, ~1 ms a toggle under QEMU TCG.
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

        /// The platform's enumeration of `a`; `NoDevice` if it found nothing there.
        public static Status DeviceInfo(PciAddress a, out PciDeviceInfo info)
        {
            return Status.FromRaw(Abi.pci_device_info(a, out info));
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

    /// One BAR in a PciDeviceInfo: ddk::pci::PciBarInfo, 24 bytes. `Kind` is a
    /// BarKind value (0 none, 1 mem32, 2 mem64, 3 I/O); `Flags` bit 0: prefetchable.
    [StructLayout(LayoutKind.Sequential)]
    public struct PciBarInfo
    {
        public uint Kind;
        public uint Flags;
        public ulong Address;
        public ulong Size;

        public const uint FlagPrefetchable = 1;

        /// The decoded BAR (an unknown kind is BarKind.None).
        public Bar ToBar()
        {
            if (Kind == 0 || Kind > (uint)BarKind.Io) return new Bar();
            return new Bar((BarKind)Kind, Address, Size, (Flags & FlagPrefetchable) != 0);
        }
    }

    /// ddk::pci::PciDeviceInfo exactly (264 bytes, filled by `Abi.pci_device_info`):
    /// what the platform's enumeration knows about one function. `Size` first, for
    /// versioning; `HeaderType` is the raw register (bit 7: multifunction).
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct PciDeviceInfo
    {
        public uint Size;
        public ushort VendorId;
        public ushort DeviceId;
        public ushort SubsystemVendorId;
        public ushort SubsystemId;
        public byte Class;
        public byte Subclass;
        public byte ProgIf;
        public byte Revision;
        public byte HeaderType;
        public byte InterruptLine;
        public byte InterruptPin;
        public byte Reserved;
        /// Valid (id, offset) pairs in `Caps`, at most MaxCapabilities.
        public uint CapCount;
        public PciBarInfo Bar0;
        public PciBarInfo Bar1;
        public PciBarInfo Bar2;
        public PciBarInfo Bar3;
        public PciBarInfo Bar4;
        public PciBarInfo Bar5;
        /// The capability list as (id, offset) byte pairs, in list order.
        public fixed byte Caps[96];

        public const int MaxCapabilities = 48;

        public PciBarInfo Bar(int index)
        {
            switch (index)
            {
                case 0: return Bar0;
                case 1: return Bar1;
                case 2: return Bar2;
                case 3: return Bar3;
                case 4: return Bar4;
                case 5: return Bar5;
                default: return new PciBarInfo();
            }
        }

        /// Capability `index` (< CapCount) as the platform listed it.
        public Capability Capability(int index)
        {
            Capability c = new Capability();
            if (index < 0 || index >= MaxCapabilities || (uint)index >= CapCount) return c;
            fixed (byte* p = Caps)
            {
                c.Id = p[2 * index];
                c.Offset = p[2 * index + 1];
            }
            return c;
        }
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

        /// The function as the platform enumerated it (`pci_device_info`): header
        /// fields and BARs as sized at enumeration. No config-space write, no decode
        /// toggle. `NoDevice` when the platform found nothing at `address`.
        public static Status Probe(PciAddress address, out PciDevice device)
        {
            device = null;
            if (!address.IsValid) return Status.Of(DdkError.InvalidArgument);
            PciDeviceInfo info;
            Status s = Pci.DeviceInfo(address, out info);
            if (s.IsError) return s;
            if (info.VendorId == 0xffff || info.VendorId == 0) return Status.Of(DdkError.NoDevice);
            PciDevice d = new PciDevice();
            d.Address = address;
            d.VendorId = info.VendorId;
            d.DeviceId = info.DeviceId;
            d.Revision = info.Revision;
            d.Class = info.Class;
            d.Subclass = info.Subclass;
            d.ProgIf = info.ProgIf;
            d.HeaderType = (byte)(info.HeaderType & 0x7f);
            d.Multifunction = (info.HeaderType & 0x80) != 0;
            d.SubsystemVendorId = info.SubsystemVendorId;
            d.SubsystemId = info.SubsystemId;
            d.InterruptLine = info.InterruptLine;
            d.InterruptPin = info.InterruptPin;
            for (int i = 0; i < 6; i++) d.Bars[i] = info.Bar(i).ToBar();
            device = d;
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
