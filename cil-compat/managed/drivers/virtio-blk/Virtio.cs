//! Managed virtio-blk: virtio 1.2 wire constants and structures, as in
//! ddk/src/virtio.rs: device status (§2.1), feature bits (§6, §5.2.3), PCI
//! capabilities and common configuration (§4.1.4), legacy registers (§4.1.4.8),
//! split-virtqueue structures (§2.7.5, §2.7.8) and virtio-blk requests (§5.2.6).
using System.Runtime.InteropServices;

namespace VirtioBlk
{
    public static class VirtioIds
    {
        public const ushort VendorId = 0x1af4;
        /// Transitional virtio-blk (legacy I/O BAR, maybe modern capabilities too).
        public const ushort TransitionalBlockId = 0x1001;
        /// Modern-only: 0x1040 + device type 2 (§4.1.2).
        public const ushort ModernBlockId = 0x1042;
        public const ushort DeviceTypeBlock = 2;
    }

    public static class DeviceStatus
    {
        public const byte Acknowledge = 1;
        public const byte Driver = 2;
        public const byte DriverOk = 4;
        public const byte FeaturesOk = 8;
        public const byte DeviceNeedsReset = 64;
        public const byte Failed = 128;
    }

    public static class Features
    {
        public const ulong BlkSizeMax = 1UL << 1;
        public const ulong BlkSegMax = 1UL << 2;
        public const ulong BlkRo = 1UL << 5;
        public const ulong BlkBlkSize = 1UL << 6;
        public const ulong BlkFlush = 1UL << 9;
        public const ulong Version1 = 1UL << 32;

        /// What this driver understands (the native driver's SUPPORTED_FEATURES).
        public const ulong Supported = Version1 | BlkRo | BlkBlkSize | BlkFlush | BlkSegMax | BlkSizeMax;
    }

    /// `virtio_pci_cap.cfg_type` (§4.1.4).
    public static class CfgType
    {
        public const byte Common = 1;
        public const byte Notify = 2;
        public const byte Isr = 3;
        public const byte Device = 4;
    }

    /// Offsets in `virtio_pci_common_cfg` (§4.1.4.3).
    public static class CommonCfg
    {
        public const ulong DeviceFeatureSelect = 0x00;
        public const ulong DeviceFeature = 0x04;
        public const ulong DriverFeatureSelect = 0x08;
        public const ulong DriverFeature = 0x0c;
        public const ulong NumQueues = 0x12;
        public const ulong DeviceStatus = 0x14;
        public const ulong ConfigGeneration = 0x15;
        public const ulong QueueSelect = 0x16;
        public const ulong QueueSize = 0x18;
        public const ulong QueueMsixVector = 0x1a;
        public const ulong QueueEnable = 0x1c;
        public const ulong QueueNotifyOff = 0x1e;
        public const ulong QueueDescLo = 0x20;
        public const ulong QueueDescHi = 0x24;
        public const ulong QueueDriverLo = 0x28;
        public const ulong QueueDriverHi = 0x2c;
        public const ulong QueueDeviceLo = 0x30;
        public const ulong QueueDeviceHi = 0x34;
        /// The bytes a driver needs (up to queue_device, virtio 1.0).
        public const uint MinLength = 0x38;
    }

    /// Legacy registers in I/O BAR0 without MSI-X (§4.1.4.8).
    public static class LegacyRegs
    {
        public const ulong DeviceFeatures = 0x00;
        public const ulong DriverFeatures = 0x04;
        public const ulong QueueAddress = 0x08;
        public const ulong QueueSize = 0x0c;
        public const ulong QueueSelect = 0x0e;
        public const ulong QueueNotify = 0x10;
        public const ulong DeviceStatus = 0x12;
        public const ulong IsrStatus = 0x13;
        public const ulong DeviceConfig = 0x14;
        public const uint QueueAlign = 4096;
        public const int PageShift = 12;
    }

    /// virtio_blk_config offsets (§5.2.4).
    public static class BlkConfig
    {
        public const ulong Capacity = 0;
        public const ulong SizeMax = 8;
        public const ulong SegMax = 12;
        public const ulong BlkSize = 20;
    }

    public static class DescFlags
    {
        public const ushort Next = 1;
        public const ushort Write = 2;
    }

    public static class RingFlags
    {
        /// avail.flags: the driver does not want interrupts.
        public const ushort AvailNoInterrupt = 1;
        /// used.flags: the device does not need notifications.
        public const ushort UsedNoNotify = 1;
    }

    public static class ReqType
    {
        public const uint In = 0;
        public const uint Out = 1;
        public const uint Flush = 4;
    }

    public static class BlkStatus
    {
        public const byte Ok = 0;
        public const byte IoErr = 1;
        public const byte Unsupp = 2;
    }

    /// Split virtqueue descriptor (§2.7.5): 16 bytes, offsets 0/8/12/14.
    [StructLayout(LayoutKind.Sequential)]
    public struct VirtqDesc
    {
        public ulong Addr;
        public uint Len;
        public ushort Flags;
        public ushort Next;
    }

    /// One used-ring element (§2.7.8): 8 bytes.
    [StructLayout(LayoutKind.Sequential)]
    public struct VirtqUsedElem
    {
        public uint Id;
        public uint Len;
    }

    /// virtio-blk request header (§5.2.6): 16 bytes; `Sector` is in 512-byte units.
    [StructLayout(LayoutKind.Sequential)]
    public struct VirtioBlkReqHeader
    {
        public uint Type;
        public uint Reserved;
        public ulong Sector;
    }

    /// Where the parts of a split ring of `Size` entries sit in one block, in the
    /// legacy layout (§2.7.2), which also meets the modern alignment rules.
    public struct SplitRingLayout
    {
        public ushort Size;
        public uint AvailOffset;
        public uint UsedOffset;
        public uint Total;

        public static SplitRingLayout For(ushort size)
        {
            uint n = size;
            uint desc = 16 * n;
            uint avail = 4 + 2 * n + 2;
            uint used = 4 + 8 * n + 2;
            SplitRingLayout l;
            l.Size = size;
            l.AvailOffset = desc;
            l.UsedOffset = RoundUp(desc + avail, LegacyRegs.QueueAlign);
            l.Total = RoundUp(l.UsedOffset + used, LegacyRegs.QueueAlign);
            return l;
        }

        static uint RoundUp(uint v, uint align) { return (v + align - 1) / align * align; }

        /// Offset of avail.idx.
        public uint AvailIdx { get { return AvailOffset + 2; } }
        /// Offset of used.idx.
        public uint UsedIdx { get { return UsedOffset + 2; } }
        /// Offset of avail.ring[i].
        public uint AvailRing(ushort i) { return AvailOffset + 4 + 2 * (uint)i; }
        /// Offset of used.ring[i].
        public uint UsedRing(ushort i) { return UsedOffset + 4 + 8 * (uint)i; }
    }
}
