//! Managed virtio-blk: the entry points the runtime calls. `Probe` matches the PCI
//! function (1af4:1001 transitional with subsystem id 2, or 1af4:1042 modern),
//! brings the device up and registers it through the ABI's `block_register`.
//! Statuses are DdkError codes (0 = ok), so a probe result reads like an ABI status.
using Ddk;

namespace VirtioBlk
{
    public static class Driver
    {
        public const string Name = "virtio-blk-managed";

        /// Debug markers (`debug_marker`), in the order a successful probe emits them.
        public const uint MarkerProbeEntry = 0x4D420001;
        public const uint MarkerPciProbed = 0x4D420002;
        public const uint MarkerDeviceUp = 0x4D420003;
        public const uint MarkerRegistered = 0x4D420004;
        public const uint MarkerProbeFailed = 0x4D42FFFF;

        /// The platform id `block_register` gave the last device this driver registered.
        public static uint LastDeviceId { get; private set; }

        /// The last device this driver brought up (for managed callers and tests).
        public static VirtioBlkDevice LastDevice { get; private set; }

        /// Whether this driver takes the function (the native driver's id table + probe):
        /// transitional ids are shared by all device types, the subsystem id names it.
        public static bool Matches(ushort vendorId, ushort deviceId, ushort subsystemId)
        {
            if (vendorId != VirtioIds.VendorId) return false;
            if (deviceId == VirtioIds.ModernBlockId) return true;
            return deviceId == VirtioIds.TransitionalBlockId && subsystemId == VirtioIds.DeviceTypeBlock;
        }

        /// Probes with the default configuration.
        public static uint Probe(PciAddress address)
        {
            return Probe(address, DriverConfig.Default);
        }

        /// The same, for a caller that has the address as its ABI register image
        /// (bus | device << 8 | function << 16): a SysV-friendly `uint(uint)` entry.
        public static uint ProbeBdf(uint bdf)
        {
            PciAddress address;
            if (!PciAddress.TryFromAbiU32(bdf, out address)) return (uint)DdkError.InvalidArgument;
            return Probe(address);
        }

        public static uint Probe(PciAddress address, DriverConfig config)
        {
            Log.Marker(MarkerProbeEntry);
            PciDevice dev;
            Status s = PciDevice.Probe(address, out dev);
            if (s.IsError) return Failed(address, s.Error, s.ToString());
            if (!Matches(dev.VendorId, dev.DeviceId, dev.SubsystemId))
                return Failed(address, DdkError.NoDevice, "not a virtio block device");
            Log.Marker(MarkerPciProbed);
            VirtioBlkDevice blk;
            InitResult r = VirtioBlkDevice.Create(dev, config, out blk);
            if (!r.IsOk) return Failed(address, r.ToDdkError(), r.Describe());
            Log.Marker(MarkerDeviceUp);
            uint id;
            s = BlockDevices.Register(blk, Name + " " + address.ToString(), out id);
            if (s.IsError)
            {
                blk.Shutdown();
                return Failed(address, s.Error, "block_register failed");
            }
            LastDeviceId = id;
            LastDevice = blk;
            Log.Marker(MarkerRegistered);
            return 0;
        }

        static uint Failed(PciAddress address, DdkError code, string why)
        {
            LogLine line = new LogLine();
            line.Append("virtio-blk ");
            line.Append(address);
            line.Append(": probe failed: ");
            line.Append(why);
            line.Emit(LogLevel.Error);
            Log.Marker(MarkerProbeFailed);
            return code == DdkError.None ? (uint)DdkError.Failed : (uint)code;
        }
    }
}
