//! Managed virtio-blk: the virtio-over-PCI transports (virtio 1.2 §4.1) behind one
//! abstract class, and the initialisation sequence they share (§3.1.1): modern
//! (§4.1.4: capability walk, BAR windows, notify multiplier) and legacy (§4.1.4.8:
//! I/O BAR0, fixed queue size, page-number ring address, 32 feature bits).
using Ddk;

namespace VirtioBlk
{
    public enum InitKind : byte
    {
        Ok = 0,
        /// A platform call failed (`Platform` says how).
        Platform,
        /// The device lacks something this driver needs.
        Unsupported,
        /// The device broke the spec during initialisation.
        Device,
        /// The device cleared FEATURES_OK (§3.1.1 step 6).
        FeaturesRejected,
        /// The device did not finish a reset within the spin budget.
        ResetTimeout,
    }

    /// Why a device could not be brought up (native: `InitError`). A struct holding a
    /// reference: 16 bytes with a GC reference at offset 8.
    public struct InitResult
    {
        public InitKind Kind;
        public DdkError Platform;
        public string Message;

        InitResult(InitKind kind, DdkError platform, string message)
        {
            Kind = kind;
            Platform = platform;
            Message = message;
        }

        public static InitResult Ok { get { return new InitResult(InitKind.Ok, DdkError.None, null); } }
        public static InitResult From(Status s)
        {
            return s.IsOk ? Ok : new InitResult(InitKind.Platform, s.Error, null);
        }
        public static InitResult Unsupported(string why) { return new InitResult(InitKind.Unsupported, DdkError.None, why); }
        public static InitResult Device(string why) { return new InitResult(InitKind.Device, DdkError.None, why); }
        public static InitResult FeaturesRejected { get { return new InitResult(InitKind.FeaturesRejected, DdkError.None, null); } }
        public static InitResult ResetTimeout { get { return new InitResult(InitKind.ResetTimeout, DdkError.None, null); } }

        public bool IsOk { get { return Kind == InitKind.Ok; } }

        /// The status `Driver.Probe` reports for it.
        public DdkError ToDdkError()
        {
            switch (Kind)
            {
                case InitKind.Ok: return DdkError.None;
                case InitKind.Platform: return Platform;
                case InitKind.Unsupported: return DdkError.Unsupported;
                default: return DdkError.Failed;
            }
        }

        public string Describe()
        {
            switch (Kind)
            {
                case InitKind.Ok: return "ok";
                case InitKind.Platform: return Status.Describe(Platform);
                case InitKind.FeaturesRejected: return "device rejected the negotiated features";
                case InitKind.ResetTimeout: return "device did not complete reset";
                default: return Message;
            }
        }
    }

    /// Register access common to both PCI transports.
    public abstract class VirtioTransport
    {
        /// Legacy: 32 feature bits, no FEATURES_OK, fixed queue size, ring by page number.
        public abstract bool IsLegacy { get; }
        public abstract Status DeviceFeatures(out ulong features);
        public abstract Status SetDriverFeatures(ulong features);
        public abstract Status ReadStatus(out byte status);
        public abstract Status WriteStatus(byte status);
        /// Maximum (modern) or fixed (legacy) size of `queue`; 0 if it does not exist.
        public abstract Status MaxQueueSize(ushort queue, out ushort size);
        /// Tells the device where queue `queue` of `size` entries lives and enables it.
        public abstract InitResult ActivateQueue(ushort queue, ushort size, ulong ringPhys, SplitRingLayout layout);
        public abstract Status Notify(ushort queue);
        /// Where `Notify(queue)` writes (a 16-bit write of `queue`): the
        /// mapping's handle and the offset in it, checked against the window;
        /// false when the queue has no notify register (yet).
        public abstract bool NotifyTarget(ushort queue, out ulong handle, out ulong offset);
        /// Points `queue`'s interrupt at MSI-X entry `vector` before the queue is
        /// enabled (§4.1.4.3); `taken` is false when the device read back NO_VECTOR.
        /// Legacy (INTx): never taken.
        public virtual Status SetQueueVector(ushort queue, ushort vector, out bool taken)
        {
            taken = false;
            return Status.Ok;
        }
        /// Reads (clearing) the ISR status, deasserting INTx (§4.1.4.5); legacy only.
        public virtual Status AckInterrupt()
        {
            return Status.Ok;
        }
#if FAULT_CAMPAIGN
        /// Writes `value` to the queue-notify register as it is (FaultCampaign.cs).
        public abstract Status NotifyValue(ushort value);
#endif
        public abstract Status ConfigRead8(ulong offset, out byte value);
        public abstract Status ConfigRead32(ulong offset, out uint value);

        /// config_generation (§4.1.4.3); legacy devices have none.
        public virtual Status ConfigGeneration(out byte generation)
        {
            generation = 0;
            return Status.Ok;
        }

        /// A 64-bit config field as two halves, retried until the generation is
        /// stable so the halves belong together (§2.5.1).
        public InitResult ConfigRead64(ulong offset, out ulong value)
        {
            value = 0;
            for (int i = 0; i < 16; i++)
            {
                byte g0, g1;
                uint lo, hi;
                Status s;
                if ((s = ConfigGeneration(out g0)).IsError) return InitResult.From(s);
                if ((s = ConfigRead32(offset, out lo)).IsError) return InitResult.From(s);
                if ((s = ConfigRead32(offset + 4, out hi)).IsError) return InitResult.From(s);
                if ((s = ConfigGeneration(out g1)).IsError) return InitResult.From(s);
                if (g0 == g1)
                {
                    value = ((ulong)hi << 32) | lo;
                    return InitResult.Ok;
                }
            }
            return InitResult.Device("configuration generation never settled");
        }

        /// Resets the device and waits until status reads back 0 (§2.4, §4.1.4.3.2):
        /// only then may ring memory the device knew about be reused or freed.
        public InitResult Reset(uint spinBudget)
        {
            Status s = WriteStatus(0);
            if (s.IsError) return InitResult.From(s);
            if (spinBudget == 0) spinBudget = 1;
            for (uint i = 0; i < spinBudget; i++)
            {
                byte st;
                if ((s = ReadStatus(out st)).IsError) return InitResult.From(s);
                if (st == 0) return InitResult.Ok;
            }
            return InitResult.ResetTimeout;
        }

        /// Steps 1-6 of §3.1.1: reset, ACKNOWLEDGE, DRIVER, read the offered features,
        /// accept supported ∩ offered, and (modern) FEATURES_OK with the read-back check.
        public InitResult BeginInit(ulong supported, uint resetSpins, out ulong negotiated)
        {
            negotiated = 0;
            InitResult r = Reset(resetSpins);
            if (!r.IsOk) return r;
            Status s;
            if ((s = WriteStatus(DeviceStatus.Acknowledge)).IsError) return InitResult.From(s);
            if ((s = WriteStatus(DeviceStatus.Acknowledge | DeviceStatus.Driver)).IsError) return InitResult.From(s);
            ulong offered;
            if ((s = DeviceFeatures(out offered)).IsError) return InitResult.From(s);
            ulong wanted = supported & offered;
            if (IsLegacy)
            {
                wanted &= 0xffffffffUL;
            }
            else
            {
                if ((offered & Features.Version1) == 0)
                {
                    Fail();
                    return InitResult.Unsupported("modern device does not offer VIRTIO_F_VERSION_1");
                }
                wanted |= Features.Version1;
            }
            if ((s = SetDriverFeatures(wanted)).IsError) return InitResult.From(s);
            if (!IsLegacy)
            {
                if ((s = WriteStatus(DeviceStatus.Acknowledge | DeviceStatus.Driver | DeviceStatus.FeaturesOk)).IsError)
                    return InitResult.From(s);
                byte st;
                if ((s = ReadStatus(out st)).IsError) return InitResult.From(s);
                if ((st & DeviceStatus.FeaturesOk) == 0)
                {
                    Fail();
                    return InitResult.FeaturesRejected;
                }
            }
            negotiated = wanted;
            return InitResult.Ok;
        }

        /// Step 8 of §3.1.1: DRIVER_OK.
        public InitResult FinishInit()
        {
            byte st;
            Status s = ReadStatus(out st);
            if (s.IsError) return InitResult.From(s);
            if ((st & (DeviceStatus.Failed | DeviceStatus.DeviceNeedsReset)) != 0)
                return InitResult.Device("device reported FAILED/NEEDS_RESET during init");
            return InitResult.From(WriteStatus((byte)(st | DeviceStatus.DriverOk)));
        }

        /// Sets FAILED (§3.1.1: "if any of these steps go irrecoverably wrong").
        public void Fail()
        {
            byte st;
            if (ReadStatus(out st).IsOk) WriteStatus((byte)(st | DeviceStatus.Failed));
        }
    }

    /// One virtio_pci_cap as read from config space.
    public struct CapInfo
    {
        public bool Present;
        public byte Bar;
        public byte CapOffset;
        public uint Offset;
        public uint Length;
    }

    /// Modern virtio PCI transport (§4.1.4).
    public sealed class ModernTransport : VirtioTransport
    {
        MmioRegion _common;
        MmioRegion _notify;
        MmioRegion _device;
        MmioRegion _isr;
        bool _hasIsr;
        uint _notifyOffMultiplier;
        ulong _queue0Notify;
        bool _queue0NotifySet;

        public override bool IsLegacy { get { return false; } }
        public uint NotifyOffMultiplier { get { return _notifyOffMultiplier; } }

        /// Walks the capability list. Ok with `transport == null` when there is no
        /// virtio common-configuration capability (a legacy-only device).
        public static InitResult Probe(PciDevice dev, out ModernTransport transport)
        {
            transport = null;
            PciAddress a = dev.Address;
            CapInfo[] found = new CapInfo[5];
            Status s;
            foreach (Capability cap in dev.Capabilities())
            {
                if (cap.Id != PciReg.CapVendorSpecific) continue;
                ushort off = cap.Offset;
                byte capLen, type, bar;
                if ((s = Pci.Read8(a, (ushort)(off + 2), out capLen)).IsError) return InitResult.From(s);
                if ((s = Pci.Read8(a, (ushort)(off + 3), out type)).IsError) return InitResult.From(s);
                if ((s = Pci.Read8(a, (ushort)(off + 4), out bar)).IsError) return InitResult.From(s);
                if (capLen < 16 || type < CfgType.Common || type > CfgType.Device) continue;
                // §4.1.4: ignore structures in reserved BARs; the first usable one of each type wins.
                if (bar > 5 || !dev.Bars[bar].IsMemory) continue;
                if (type == CfgType.Notify && capLen < 20) continue;
                if (found[type].Present) continue;
                CapInfo info = new CapInfo();
                info.Present = true;
                info.Bar = bar;
                info.CapOffset = cap.Offset;
                if ((s = Pci.Read32(a, (ushort)(off + 8), out info.Offset)).IsError) return InitResult.From(s);
                if ((s = Pci.Read32(a, (ushort)(off + 12), out info.Length)).IsError) return InitResult.From(s);
                found[type] = info;
            }
            if (!found[CfgType.Common].Present) return InitResult.Ok;
            if (!found[CfgType.Notify].Present) return InitResult.Device("modern device without a notify capability");
            if (!found[CfgType.Device].Present) return InitResult.Device("modern device without a device-config capability");
            if (found[CfgType.Common].Length < CommonCfg.MinLength)
                return InitResult.Device("common configuration capability is too short");
            uint multiplier;
            if ((s = Pci.Read32(a, (ushort)(found[CfgType.Notify].CapOffset + 16), out multiplier)).IsError)
                return InitResult.From(s);

            MmioRegion[] bars = new MmioRegion[6];
            bool[] mapped = new bool[6];
            ModernTransport t = new ModernTransport();
            t._notifyOffMultiplier = multiplier;
            InitResult r = Window(dev, found[CfgType.Common], bars, mapped, out t._common);
            if (!r.IsOk) return r;
            if (!(r = Window(dev, found[CfgType.Notify], bars, mapped, out t._notify)).IsOk) return r;
            if (!(r = Window(dev, found[CfgType.Device], bars, mapped, out t._device)).IsOk) return r;
            if (found[CfgType.Isr].Present)
            {
                if (!(r = Window(dev, found[CfgType.Isr], bars, mapped, out t._isr)).IsOk) return r;
                t._hasIsr = true;
            }
            transport = t;
            return InitResult.Ok;
        }

        /// The capability's window inside its BAR, mapping each BAR once.
        static InitResult Window(PciDevice dev, CapInfo c, MmioRegion[] bars, bool[] mapped, out MmioRegion window)
        {
            window = new MmioRegion();
            if (!mapped[c.Bar])
            {
                Status s = dev.MapBar(c.Bar, out bars[c.Bar]);
                if (s.IsError) return InitResult.From(s);
                mapped[c.Bar] = true;
            }
            if (bars[c.Bar].Subregion(c.Offset, c.Length, out window).IsError)
                return InitResult.Device("virtio capability points outside its BAR");
            return InitResult.Ok;
        }

        /// Reads (and thereby clears) the ISR status byte.
        public Status ReadIsr(out byte isr)
        {
            isr = 0;
            if (!_hasIsr) return Status.Of(DdkError.Unsupported);
            return _isr.Read8(0, out isr);
        }

        public override Status DeviceFeatures(out ulong features)
        {
            uint lo, hi;
            features = 0;
            Status s;
            if ((s = _common.Write32(CommonCfg.DeviceFeatureSelect, 0)).IsError) return s;
            if ((s = _common.Read32(CommonCfg.DeviceFeature, out lo)).IsError) return s;
            if ((s = _common.Write32(CommonCfg.DeviceFeatureSelect, 1)).IsError) return s;
            if ((s = _common.Read32(CommonCfg.DeviceFeature, out hi)).IsError) return s;
            features = ((ulong)hi << 32) | lo;
            return s;
        }

        public override Status SetDriverFeatures(ulong features)
        {
            Status s;
            if ((s = _common.Write32(CommonCfg.DriverFeatureSelect, 0)).IsError) return s;
            if ((s = _common.Write32(CommonCfg.DriverFeature, (uint)features)).IsError) return s;
            if ((s = _common.Write32(CommonCfg.DriverFeatureSelect, 1)).IsError) return s;
            return _common.Write32(CommonCfg.DriverFeature, (uint)(features >> 32));
        }

        public override Status ReadStatus(out byte status) { return _common.Read8(CommonCfg.DeviceStatus, out status); }
        public override Status WriteStatus(byte status) { return _common.Write8(CommonCfg.DeviceStatus, status); }

        public override Status SetQueueVector(ushort queue, ushort vector, out bool taken)
        {
            taken = false;
            Status s = _common.Write16(CommonCfg.QueueSelect, queue);
            if (s.IsError) return s;
            if ((s = _common.Write16(CommonCfg.QueueMsixVector, vector)).IsError) return s;
            ushort back;
            if ((s = _common.Read16(CommonCfg.QueueMsixVector, out back)).IsError) return s;
            taken = back == vector;
            return Status.Ok;
        }

        public override Status MaxQueueSize(ushort queue, out ushort size)
        {
            size = 0;
            Status s = _common.Write16(CommonCfg.QueueSelect, queue);
            if (s.IsError) return s;
            return _common.Read16(CommonCfg.QueueSize, out size);
        }

        public override InitResult ActivateQueue(ushort queue, ushort size, ulong ringPhys, SplitRingLayout layout)
        {
            Status s;
            ushort max;
            if ((s = _common.Write16(CommonCfg.QueueSelect, queue)).IsError) return InitResult.From(s);
            if ((s = _common.Read16(CommonCfg.QueueSize, out max)).IsError) return InitResult.From(s);
            if (size == 0 || size > max) return InitResult.Device("queue size out of the device's range");
            if ((s = _common.Write16(CommonCfg.QueueSize, size)).IsError) return InitResult.From(s);
            ulong desc = ringPhys;
            ulong driver = desc + layout.AvailOffset;
            ulong device = desc + layout.UsedOffset;
            // 64-bit fields as two 32-bit writes (§4.1.3.1): some hosts reject 64-bit MMIO.
            if ((s = _common.Write32(CommonCfg.QueueDescLo, (uint)desc)).IsError) return InitResult.From(s);
            if ((s = _common.Write32(CommonCfg.QueueDescHi, (uint)(desc >> 32))).IsError) return InitResult.From(s);
            if ((s = _common.Write32(CommonCfg.QueueDriverLo, (uint)driver)).IsError) return InitResult.From(s);
            if ((s = _common.Write32(CommonCfg.QueueDriverHi, (uint)(driver >> 32))).IsError) return InitResult.From(s);
            if ((s = _common.Write32(CommonCfg.QueueDeviceLo, (uint)device)).IsError) return InitResult.From(s);
            if ((s = _common.Write32(CommonCfg.QueueDeviceHi, (uint)(device >> 32))).IsError) return InitResult.From(s);
            ushort notifyOff;
            if ((s = _common.Read16(CommonCfg.QueueNotifyOff, out notifyOff)).IsError) return InitResult.From(s);
            // notify_off (16 bits) × multiplier (32 bits) cannot overflow 64 bits.
            ulong byteOff = (ulong)notifyOff * _notifyOffMultiplier;
            if (byteOff + 2 > _notify.Length)
                return InitResult.Device("queue notify address lies outside the notify region");
            if (queue == 0)
            {
                _queue0Notify = byteOff;
                _queue0NotifySet = true;
            }
            return InitResult.From(_common.Write16(CommonCfg.QueueEnable, 1));
        }

        public override Status Notify(ushort queue)
        {
            if (queue != 0 || !_queue0NotifySet) return Status.Of(DdkError.InvalidArgument);
            return _notify.Write16(_queue0Notify, queue);
        }

        public override bool NotifyTarget(ushort queue, out ulong handle, out ulong offset)
        {
            handle = 0;
            offset = 0;
            if (queue != 0 || !_queue0NotifySet) return false;
            return _notify.Locate(_queue0Notify, 2, out handle, out offset);
        }
#if FAULT_CAMPAIGN
        public override Status NotifyValue(ushort value) { return _notify.Write16(_queue0Notify, value); }
#endif

        public override Status ConfigRead8(ulong offset, out byte value) { return _device.Read8(offset, out value); }
        public override Status ConfigRead32(ulong offset, out uint value) { return _device.Read32(offset, out value); }
        public override Status ConfigGeneration(out byte generation) { return _common.Read8(CommonCfg.ConfigGeneration, out generation); }
    }

    /// Legacy virtio PCI transport (§4.1.4.8): registers in I/O BAR0.
    public sealed class LegacyTransport : VirtioTransport
    {
        MmioRegion _io;

        public override bool IsLegacy { get { return true; } }

        /// Maps BAR0, which must be an I/O BAR large enough for the blk config.
        public static InitResult Probe(PciDevice dev, out LegacyTransport transport)
        {
            transport = null;
            if (!dev.Bars[0].IsIo) return InitResult.Unsupported("legacy virtio device without an I/O BAR0");
            MmioRegion io;
            Status s = dev.MapBar(0, out io);
            if (s.IsError) return InitResult.From(s);
            if (!io.IsIo || io.Length < LegacyRegs.DeviceConfig + 24)
                return InitResult.Device("legacy I/O BAR0 is too small");
            LegacyTransport t = new LegacyTransport();
            t._io = io;
            transport = t;
            return InitResult.Ok;
        }

        public override Status DeviceFeatures(out ulong features)
        {
            uint f;
            Status s = _io.Read32(LegacyRegs.DeviceFeatures, out f);
            features = f;
            return s;
        }

        public override Status SetDriverFeatures(ulong features) { return _io.Write32(LegacyRegs.DriverFeatures, (uint)features); }
        public override Status ReadStatus(out byte status) { return _io.Read8(LegacyRegs.DeviceStatus, out status); }
        public override Status WriteStatus(byte status) { return _io.Write8(LegacyRegs.DeviceStatus, status); }

        public override Status MaxQueueSize(ushort queue, out ushort size)
        {
            size = 0;
            Status s = _io.Write16(LegacyRegs.QueueSelect, queue);
            if (s.IsError) return s;
            return _io.Read16(LegacyRegs.QueueSize, out size);
        }

        public override InitResult ActivateQueue(ushort queue, ushort size, ulong ringPhys, SplitRingLayout layout)
        {
            Status s;
            ushort fixedSize;
            if ((s = _io.Write16(LegacyRegs.QueueSelect, queue)).IsError) return InitResult.From(s);
            if ((s = _io.Read16(LegacyRegs.QueueSize, out fixedSize)).IsError) return InitResult.From(s);
            if (fixedSize != size || layout.Size != size) return InitResult.Device("legacy queue size is fixed by the device");
            ulong pfn = ringPhys >> LegacyRegs.PageShift;
            if ((ringPhys & (LegacyRegs.QueueAlign - 1)) != 0 || pfn > 0xffffffffUL)
                return InitResult.Unsupported("legacy ring must be page-aligned below 2^44");
            return InitResult.From(_io.Write32(LegacyRegs.QueueAddress, (uint)pfn));
        }

        public override Status Notify(ushort queue) { return _io.Write16(LegacyRegs.QueueNotify, queue); }

        public override bool NotifyTarget(ushort queue, out ulong handle, out ulong offset)
        {
            return _io.Locate(LegacyRegs.QueueNotify, 2, out handle, out offset);
        }

        public override Status AckInterrupt()
        {
            byte isr;
            return _io.Read8(LegacyRegs.IsrStatus, out isr);
        }
#if FAULT_CAMPAIGN
        public override Status NotifyValue(ushort value) { return _io.Write16(LegacyRegs.QueueNotify, value); }
#endif
        public override Status ConfigRead8(ulong offset, out byte value) { return _io.Read8(LegacyRegs.DeviceConfig + offset, out value); }
        public override Status ConfigRead32(ulong offset, out uint value) { return _io.Read32(LegacyRegs.DeviceConfig + offset, out value); }
    }
}
