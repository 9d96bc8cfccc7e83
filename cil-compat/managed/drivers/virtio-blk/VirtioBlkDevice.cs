//! Managed virtio-blk: the block device (virtio 1.2 §5.2), behaving as
//! native-drivers/virtio-blk's device.rs: bring-up (§3.1.1, §5.2.5), feature
//! negotiation, requests (§5.2.6) honouring seg_max/size_max, zero-copy DMA into
//! caller buffers with a bounce fallback, a bounded wait via `time_ns` (or a spin
//! budget without a clock), IOERR/UNSUPP mapping, read-only refusal, and recovery
//! (reset + re-init) after a timeout or protocol violation. Batches of reads
//! in flight together (`IBlockBatch`) are in Batch.cs.
using System;
using Ddk;

namespace VirtioBlk
{
    /// Tunables (the native driver's `Config`). 32 bytes.
    public struct DriverConfig
    {
        /// Longest wait for one request when the platform has a clock.
        public ulong TimeoutNs;
        /// Polls before giving up when it has none.
        public ulong SpinBudget;
        /// Status reads to wait for a reset to complete.
        public uint ResetSpins;
        /// Largest queue to ask a modern device for (rounded down to a power of two).
        public ushort MaxQueueSize;
        /// Bounce buffer bytes (used only when a caller buffer cannot be translated).
        public uint BounceSize;

        public static DriverConfig Default
        {
            get
            {
                DriverConfig c;
                c.TimeoutNs = 5000000000UL;
#if FAULT_CAMPAIGN
                c.TimeoutNs = CampaignConfig.TimeoutNs;
#endif
                c.SpinBudget = 200000000UL;
                c.ResetSpins = 1000000;
                c.MaxQueueSize = 256;
                c.BounceSize = 64 * 1024;
                return c;
            }
        }
    }

    /// The negotiated shape of a running device (the native `DeviceInfo`).
    public struct DeviceInfo
    {
        public bool Legacy;
        public ulong Features;
        public ulong CapacitySectors;
        public uint BlockSize;
        /// Max data segments per request (seg_max, bounded by the queue).
        public ushort MaxSegments;
        /// Max bytes per segment (size_max, or a driver cap).
        public uint MaxSegmentLen;
        public ushort QueueSize;
    }

    public sealed unsafe partial class VirtioBlkDevice : IBlockDevice, System.IDisposable
    {
        public const uint SectorSize = 512;
        /// Request block: one page of `SlotSize`-byte slots, each a header at
        /// HdrOff and the status byte at StatusOff; single requests use slot 0,
        /// a batch one slot per request in flight.
        const uint HdrOff = 0;
        const uint StatusOff = 16;
        const uint SlotSize = 32;
        /// Written before submission: a device that "completes" without writing a
        /// status leaves it and is caught.
        const byte StatusSentinel = 0xff;
        /// Cap for one segment when the device sets no size_max.
        const uint SegCap = 1u << 22;

        PciDevice _pci;
        /// Interrupt handle from `irq_setup` (MSI-X entry 0 modern, INTx legacy)
        /// when the platform completes by interrupt (`completion=irq`).
        ulong _irq;
        bool _hasIrq;
        VirtioTransport _transport;
        DriverConfig _config;
        DeviceInfo _info;
        SplitQueue _queue;
        DmaBuffer _req;
        DmaBuffer _bounce;
        Segment[] _segs = new Segment[1];
        int _segCount;
        bool _ready;
        /// The queue-notify register of queue 0 (handle and offset in its
        /// mapping, checked against the window at init), when `_directNotify`;
        /// otherwise notifications go through the transport.
        bool _directNotify;
        ulong _notifyHandle;
        ulong _notifyAt;
        // Request-path constants derived once at init (the block size is a
        // power of two): shifts and masks instead of 64-bit divisions.
        ulong _blockCount;
        int _blockShift;
        int _sectorShift;
        byte* _reqBase;
        ulong _reqPhys;
        uint _recoveries;
#if FAULT_INJECT
        /// Block requests served so far (FaultInjection.cs).
        uint _requests;
#endif

        public PciDevice Pci { get { return _pci; } }
        public DeviceInfo Info { get { return _info; } }
        public VirtioTransport Transport { get { return _transport; } }
        /// Whether requests are accepted (false after a failed recovery).
        public bool IsReady { get { return _ready; } }
        /// How many times the driver reset and re-initialised after a fault.
        public uint Recoveries { get { return _recoveries; } }
        /// Chains handed to the device and not yet returned (0 between requests).
        public int InFlight { get { return _queue == null ? 0 : _queue.InFlightCount; } }
        /// Whether FLUSH was negotiated (without it the device writes through).
        public bool HasFlush { get { return (_info.Features & Features.BlkFlush) != 0; } }

        /// Binds to `dev`: bus mastering on, INTx off (we poll), the modern transport
        /// if the device has virtio capabilities, else legacy, then §3.1.1.
        public static InitResult Create(PciDevice dev, DriverConfig config, out VirtioBlkDevice device)
        {
            device = null;
            Status s;
            if ((s = dev.EnableBusMaster()).IsError) return InitResult.From(s);
            if ((s = dev.SetCommandBits(PciReg.CommandIntxDisable)).IsError) return InitResult.From(s);
            VirtioTransport transport;
            ModernTransport modern;
            InitResult r = ModernTransport.Probe(dev, out modern);
            if (!r.IsOk) return r;
            if (modern != null)
            {
                transport = modern;
            }
            else
            {
                LegacyTransport legacy;
                if (!(r = LegacyTransport.Probe(dev, out legacy)).IsOk) return r;
                transport = legacy;
            }
            DmaBuffer req;
            if ((s = DmaBuffer.Allocate(4096, 4096, out req)).IsError) return InitResult.From(s);
            VirtioBlkDevice blk = new VirtioBlkDevice();
            blk._pci = dev;
            blk._transport = transport;
            blk._config = config;
            blk._req = req;
            blk._info.BlockSize = SectorSize;
            blk._info.MaxSegments = 1;
            blk._info.MaxSegmentLen = SegCap;
            if (!(r = blk.Init()).IsOk)
            {
                blk.Shutdown();
                return r;
            }
            blk.LogInfo();
            device = blk;
            return InitResult.Ok;
        }

        void LogInfo()
        {
            LogLine line = new LogLine();
            line.Append("virtio-blk ");
            line.Append(_pci.Address);
            line.Append(_info.Legacy ? ": legacy transport, " : ": modern transport, ");
            line.AppendDec(_info.CapacitySectors);
            line.Append(" sectors, block ");
            line.AppendDec(_info.BlockSize);
            line.Append(" B, features ");
            line.AppendHex(_info.Features);
            line.Append(", queue ");
            line.AppendDec(_info.QueueSize);
            line.Append(", seg_max ");
            line.AppendDec(_info.MaxSegments);
            line.Append(", size_max ");
            line.AppendDec(_info.MaxSegmentLen);
            line.Append(" (managed)");
            line.Emit(LogLevel.Info);
        }

        InitResult Init()
        {
            _ready = false;
            InitResult r = TryInit();
            if (!r.IsOk) _transport.Fail();
            return r;
        }

        InitResult TryInit()
        {
            VirtioTransport t = _transport;
            ulong negotiated;
            InitResult r = t.BeginInit(Features.Supported, _config.ResetSpins, out negotiated);
            if (!r.IsOk) return r;
            ulong capacity;
            if (!(r = t.ConfigRead64(BlkConfig.Capacity, out capacity)).IsOk) return r;
            Status s;
            uint blockSize = SectorSize;
            if ((negotiated & Features.BlkBlkSize) != 0)
            {
                uint bs;
                if ((s = t.ConfigRead32(BlkConfig.BlkSize, out bs)).IsError) return InitResult.From(s);
                // Only sizes the LBA arithmetic can express; others fall back to 512.
                if ((bs & (bs - 1)) == 0 && bs >= SectorSize && bs <= 65536) blockSize = bs;
            }
            uint maxSegmentLen = SegCap;
            if ((negotiated & Features.BlkSizeMax) != 0)
            {
                uint sm;
                if ((s = t.ConfigRead32(BlkConfig.SizeMax, out sm)).IsError) return InitResult.From(s);
                if (sm != 0) maxSegmentLen = Math.Min(sm, SegCap);
            }
            uint segMax = uint.MaxValue;
            if ((negotiated & Features.BlkSegMax) != 0)
            {
                uint sg;
                if ((s = t.ConfigRead32(BlkConfig.SegMax, out sg)).IsError) return InitResult.From(s);
                segMax = Math.Max(sg, 1u);
            }
            ushort offered;
            if ((s = t.MaxQueueSize(0, out offered)).IsError) return InitResult.From(s);
            if (offered == 0) return InitResult.Device("request queue 0 does not exist");
            ushort size;
            if (t.IsLegacy)
            {
                if ((offered & (offered - 1)) != 0) return InitResult.Unsupported("legacy queue size is not a power of two");
                size = offered;
            }
            else
            {
                int want = Math.Min((int)offered, Math.Max((int)_config.MaxQueueSize, 4));
                size = 1;
                while (size * 2 <= want) size = (ushort)(size * 2);
            }
            if (size < 3) return InitResult.Unsupported("queue too small for a request");
            // Drop any old ring only now: the reset in BeginInit has completed, so the
            // device no longer looks at it.
            if (_queue != null)
            {
                _queue.Release();
                _queue = null;
            }
            SplitQueue queue;
            if ((s = SplitQueue.Create(size, out queue)).IsError) return InitResult.From(s);
            SetUpInterrupt(t, queue);
            if (!(r = t.ActivateQueue(0, size, queue.PhysicalAddress, queue.Layout)).IsOk)
            {
                queue.Release();
                return r;
            }
            _queue = queue;
            ushort maxSegments = (ushort)Math.Min(segMax, (uint)size - 2);
            _info.Legacy = t.IsLegacy;
            _info.Features = negotiated;
            _info.CapacitySectors = capacity;
            _info.BlockSize = blockSize;
            _info.MaxSegments = maxSegments;
            _info.MaxSegmentLen = maxSegmentLen;
            _info.QueueSize = size;
            _segs = new Segment[maxSegments];
            _segCount = 0;
            _directNotify = t.NotifyTarget(0, out _notifyHandle, out _notifyAt);
            _blockShift = Log2(blockSize);
            _sectorShift = _blockShift - Log2(SectorSize);
            _blockCount = capacity >> _sectorShift;
            _reqBase = _req.Pointer;
            _reqPhys = _req.PhysicalAddress;
            if (!(r = t.FinishInit()).IsOk) return r;
            _ready = true;
            return InitResult.Ok;
        }

        /// Interrupts when the platform offers them; otherwise (Unsupported:
        /// `completion=poll`, or a source it cannot route) the used ring is polled.
        void SetUpInterrupt(VirtioTransport t, SplitQueue queue)
        {
            ulong now;
            if (!_hasIrq && Clock.TryNowNs(out now))
            {
                ulong h;
                uint source = t.IsLegacy ? 0xffffffffu : 0u;
                if (Abi.irq_setup(_pci.Address, source, out h) == 0)
                {
                    _irq = h;
                    _hasIrq = true;
                }
            }
            if (!_hasIrq) return;
            bool taken = t.IsLegacy;
            if (!t.IsLegacy && t.SetQueueVector(0, 0, out taken).IsError) taken = false;
            if (taken)
            {
                queue.EnableInterrupts();
                return;
            }
            Log.Warn("virtio-blk: device refused MSI-X vector 0 for queue 0; polling");
            ReleaseInterrupt();
        }

        void ReleaseInterrupt()
        {
            if (!_hasIrq) return;
            Abi.irq_release(_irq);
            _hasIrq = false;
        }

        static int Log2(uint v)
        {
            int n = 0;
            while ((1u << n) < v) n++;
            return n;
        }

        /// After a timeout or protocol violation: reset the device (so it stops DMA
        /// into buffers about to be handed back), then bring it up again.
        void Recover(BlockError why)
        {
            _recoveries++;
            _ready = false;
            LogLine line = new LogLine();
            line.Append("virtio-blk ");
            line.Append(_pci.Address);
            line.Append(": ");
            line.Append(BlockErrors.Describe(why));
            line.Append("; resetting device");
            line.Emit(LogLevel.Warn);
            if (!_transport.Reset(_config.ResetSpins).IsOk)
            {
                // The device may still own the ring and our buffers: never free that
                // memory, and refuse further requests.
                if (_queue != null)
                {
                    _queue.Leak();
                    _queue = null;
                }
                Log.Error("virtio-blk: reset did not complete; device disabled");
                return;
            }
            ulong sectors = _info.CapacitySectors;
            uint blockSize = _info.BlockSize;
            InitResult r = Init();
            if (!r.IsOk)
            {
                LogLine l2 = new LogLine();
                l2.Append("virtio-blk ");
                l2.Append(_pci.Address);
                l2.Append(": re-initialisation failed: ");
                l2.Append(r.Describe());
                l2.Emit(LogLevel.Error);
                // A failed bring-up may have read new values: the caller's view stays.
                _info.CapacitySectors = sectors;
                _info.BlockSize = blockSize;
                return;
            }
            // The volume above addresses blocks of the size and count the device
            // had: a device that comes back with others cannot be used under it.
            if (_info.CapacitySectors != sectors || _info.BlockSize != blockSize)
            {
                LogLine l3 = new LogLine();
                l3.Append("virtio-blk ");
                l3.Append(_pci.Address);
                l3.Append(": came back from the reset with another capacity or block size; device disabled");
                l3.Emit(LogLevel.Error);
                _info.CapacitySectors = sectors;
                _info.BlockSize = blockSize;
                _ready = false;
                _transport.Fail();
            }
        }

        BlockError CheckRange(ulong lba, ulong length)
        {
            if (!_ready) return BlockError.NotReady;
            if (length == 0 || (length & (((ulong)1 << _blockShift) - 1)) != 0) return BlockError.BadBuffer;
            ulong end = lba + (length >> _blockShift);
            if (end < lba || end > _blockCount) return BlockError.OutOfRange;
            return BlockError.None;
        }

        BlockError Transfer(ulong lba, byte* data, ulong total, bool isIn)
        {
            uint type = isIn ? ReqType.In : ReqType.Out;
            ulong startSector = lba << _sectorShift;
            ulong done = 0;
            BlockError e;
            while (done < total)
            {
                ulong sector = startSector + done / SectorSize;
                ulong direct = PlanDirect(data + done, total - done, isIn);
                if (direct > 0)
                {
                    if ((e = Submit(type, sector)) != BlockError.None) return e;
                    done += direct;
                    continue;
                }
                ulong chunk;
                if ((e = PlanBounce(total - done, out chunk)) != BlockError.None) return e;
                if (!isIn && _bounce.CopyIn(0, data + done, chunk).IsError) return BlockError.NoMemory;
                if ((e = Submit(type, sector)) != BlockError.None) return e;
                if (isIn && _bounce.CopyOut(0, data + done, chunk).IsError) return BlockError.NoMemory;
                done += chunk;
            }
            return BlockError.None;
        }

        /// Fills `_segs` with the caller's buffer (zero-copy), up to seg_max segments
        /// of at most size_max, trimmed to whole sectors. Returns the bytes covered; 0
        /// if the platform cannot translate here or the limits do not allow a sector.
        /// A buffer that is physically contiguous, within size_max and whole
        /// sectors (every block request in practice) is one translation and one
        /// segment.
        ulong PlanDirect(byte* p, ulong remaining, bool deviceWrites)
        {
            _segCount = 0;
            Segment[] segs = _segs;
            ulong maxLen = _info.MaxSegmentLen;
            int maxSegs = (int)_info.MaxSegments;
            if (segs.Length < maxSegs) maxSegs = segs.Length;
            ulong phys, n;
            if (!Translate(p, remaining, out phys, out n)) return 0;
            if (n == remaining && n <= maxLen && (n & (SectorSize - 1)) == 0 && maxSegs > 0)
            {
                segs[0].Addr = phys;
                segs[0].Len = (uint)n;
                segs[0].DeviceWrites = deviceWrites;
                _segCount = 1;
                return n;
            }
            ulong planned = 0;
            bool full = false;
            while (true)
            {
                // Extend the previous segment when this run continues it physically.
                if (_segCount > 0 && segs[_segCount - 1].Addr + segs[_segCount - 1].Len == phys)
                {
                    ulong room = maxLen - segs[_segCount - 1].Len;
                    ulong take = n < room ? n : room;
                    segs[_segCount - 1].Len += (uint)take;
                    planned += take;
                    n -= take;
                    phys += take;
                }
                while (n > 0)
                {
                    if (_segCount == maxSegs)
                    {
                        full = true;
                        break;
                    }
                    ulong len = n < maxLen ? n : maxLen;
                    segs[_segCount].Addr = phys;
                    segs[_segCount].Len = (uint)len;
                    segs[_segCount].DeviceWrites = deviceWrites;
                    _segCount++;
                    planned += len;
                    n -= len;
                    phys += len;
                }
                if (planned >= remaining || full) break;
                if (!Translate(p + planned, remaining - planned, out phys, out n)) break;
            }
            // Cut back to a whole number of sectors (a request must be, §5.2.6).
            ulong excess = planned % SectorSize;
            planned -= excess;
            while (excess > 0 && _segCount > 0)
            {
                ulong cut = Math.Min(excess, (ulong)segs[_segCount - 1].Len);
                segs[_segCount - 1].Len -= (uint)cut;
                excess -= cut;
                if (segs[_segCount - 1].Len == 0) _segCount--;
            }
            return planned;
        }

        /// The physical address of `p` and how many bytes from there (at most
        /// `length`, at least one) are contiguous; false when the platform
        /// cannot translate (Memory.VirtToPhys's checks, without its Status).
        static bool Translate(byte* p, ulong length, out ulong phys, out ulong contiguous)
        {
            // UIntPtr is one 64-bit word: set and read it in place rather than
            // through its conversion methods (calls, on this path).
            UIntPtr len = default(UIntPtr), contig;
            *(ulong*)&len = length;
            contiguous = 0;
            if (Abi.virt_to_phys(p, len, out phys, out contig) != 0) return false;
            ulong c = *(ulong*)&contig;
            if (c == 0 || c > length) return false;
            contiguous = c;
            return true;
        }

        /// Prepares bounce-buffer segments for the next chunk; its size goes to `chunk`.
        BlockError PlanBounce(ulong remaining, out ulong chunk)
        {
            chunk = 0;
            if (_bounce == null)
            {
                DmaBuffer b;
                if (DmaBuffer.Allocate(Math.Max((ulong)_config.BounceSize, SectorSize), 4096, out b).IsError)
                    return BlockError.NoMemory;
                _bounce = b;
            }
            ulong seg = _info.MaxSegmentLen;
            int maxSegs = Math.Min((int)_info.MaxSegments, _segs.Length);
            ulong cap = Math.Min((ulong)maxSegs * seg, _bounce.Length);
            chunk = Math.Min(remaining, cap) / SectorSize * SectorSize;
            // seg_max × size_max cannot hold one sector: every transfer is impossible.
            if (chunk == 0) return BlockError.Unsupported;
            _segCount = 0;
            ulong off = 0;
            while (off < chunk)
            {
                ulong n = Math.Min(chunk - off, seg);
                _segs[_segCount++] = new Segment(_bounce.PhysicalAddress + off, (uint)n, true);
                off += n;
            }
            return BlockError.None;
        }

        /// Publishes one request in request-block slot `slot` (header, `_segs` as
        /// its data, status byte) without notifying; its head goes to `head`.
        BlockError Publish(uint slot, uint type, ulong sector, out ushort head)
        {
            head = 0;
            if (_queue == null) return BlockError.NotReady;
            // `_req` is one page of 4096 / SlotSize slots and callers pass a slot
            // below that, so both offsets lie inside it.
            uint off = slot * SlotSize;
            VirtioBlkReqHeader* hdr = (VirtioBlkReqHeader*)(_reqBase + off + HdrOff);
            hdr->Type = type;
            hdr->Reserved = 0;
            hdr->Sector = sector;
            _reqBase[off + StatusOff] = StatusSentinel;
            ulong reqPhys = _reqPhys + off;
            return _queue.AddRequest(reqPhys + HdrOff, _segs, _segCount, type == ReqType.In, reqPhys + StatusOff, out head);
        }

        /// Notifies the device of queue 0: straight to the register found at
        /// init (bounds-checked there), else through the transport. None when
        /// sent; else what the request fails with (NoMemory, or NotReady).
        /// Every publication is followed by a kick, even when the device asked
        /// for none (VIRTQ_USED_F_NO_NOTIFY, §2.7.10, as QEMU sets while an
        /// iothread polls the ring): the hosting layer's DMA guard checks the
        /// new chains when it sees the kick, and forwards the kick to the
        /// device only when the device wants one, so a suppressed notification
        /// still costs no register write.
        BlockError Kick()
        {
            uint st;
            if (_directNotify) st = Abi.mmio_write16(_notifyHandle, _notifyAt, 0);
            else st = _transport.Notify(0).Code;
            if (st == 0) return BlockError.None;
            return st == (uint)DdkError.NoMemory ? BlockError.NoMemory : BlockError.NotReady;
        }

        /// Sends one request (`_segs` as its data) and waits for it.
        BlockError Submit(uint type, ulong sector)
        {
            ushort head;
            BlockError e = Publish(0, type, sector, out head);
            if (e != BlockError.None) return e;
#if FAULT_CAMPAIGN
            if (FaultCampaign.AfterAdd(_queue, _transport, head)) { }
            else
#endif
            // Always kick: see Kick.
            if ((e = Kick()) != BlockError.None)
            {
                Recover(BlockError.NotReady);
                return e;
            }
            // Only one chain is ever in flight and TakeUsed checked the id names a
            // chain in flight: it must be ours.
            ushort done;
            if ((e = NextUsed(out done)) == BlockError.None && done != head) e = BlockError.DeviceMisbehaved;
            if (e != BlockError.None)
            {
                Recover(e);
                return e;
            }
#if FAULT_CAMPAIGN
            FaultCampaign.Completed();
#endif
            byte st = _reqBase[StatusOff];
            // OK with less written than the chain's writable bytes: a lie (§2.7.8).
            if (st == BlkStatus.Ok && _queue.LastShort) st = StatusSentinel;
            switch (st)
            {
                case BlkStatus.Ok: return BlockError.None;
                case BlkStatus.IoErr: return BlockError.Io;
                case BlkStatus.Unsupp: return BlockError.Unsupported;
                default:
                    Recover(BlockError.DeviceMisbehaved);
                    return BlockError.DeviceMisbehaved;
            }
        }

        /// Waits for the next completion (validated by TakeUsed) and gives its
        /// head, bounded by the platform clock (TimeoutNs) or, without one, by
        /// SpinBudget polls; with interrupts it waits on the interrupt between
        /// polls.
        BlockError NextUsed(out ushort head)
        {
            head = 0;
            SplitQueue q = _queue;
            ulong deadline = 0;
            bool hasClock = false;
            ulong spins = 0;
            while (true)
            {
                // One load per spin until the device publishes something; the
                // validation in TakeUsed runs once per completion.
                int taken = q.TakeUsed();
                if (taken >= 0)
                {
                    head = (ushort)taken;
                    return BlockError.None;
                }
                if (taken == SplitQueue.Misbehaved) return BlockError.DeviceMisbehaved;
                if (_hasIrq)
                {
                    ulong now;
                    if (!Clock.TryNowNs(out now)) return BlockError.Timeout;
                    if (deadline == 0)
                    {
                        deadline = now + _config.TimeoutNs;
                        if (deadline < now) deadline = ulong.MaxValue;
                    }
                    if (now >= deadline) return BlockError.Timeout;
                    uint fired;
                    if (Abi.irq_wait(_irq, deadline - now, out fired) != 0)
                    {
                        Log.Warn("virtio-blk: irq_wait failed; polling");
                        _hasIrq = false;
                    }
                    else if (fired != 0)
                    {
                        // INTx is level-triggered: acknowledge before the next wait re-arms it.
                        _transport.AckInterrupt();
                    }
                    continue;
                }
                spins++;
                if ((spins & 63) == 0)
                {
                    // The deadline starts at the first check, not before the first
                    // poll: most requests complete before the clock is ever read.
                    ulong t;
                    if (spins == 64)
                    {
                        hasClock = Clock.TryNowNs(out t);
                        deadline = t + _config.TimeoutNs;
                        if (deadline < t) deadline = ulong.MaxValue;
                    }
                    bool expired;
                    if (hasClock)
                    {
                        expired = !Clock.TryNowNs(out t) || t >= deadline;
                    }
                    else
                    {
                        expired = spins >= _config.SpinBudget;
                    }
                    if (expired) return BlockError.Timeout;
                }
            }
        }

        public uint BlockSize { get { return _info.BlockSize; } }
        public ulong BlockCount { get { return _info.CapacitySectors / (_info.BlockSize / SectorSize); } }
        public bool IsReadOnly { get { return (_info.Features & Features.BlkRo) != 0; } }

        public BlockError Read(ulong lba, byte* buffer, ulong length)
        {
#if FAULT_INJECT
            FaultInjection.BeforeRequest(++_requests, false);
#endif
#if FAULT_CAMPAIGN
            FaultCampaign.BeforeRequest();
#endif
            BlockError e = CheckRange(lba, length);
            if (e != BlockError.None) return e;
            return Transfer(lba, buffer, length, true);
        }

        public BlockError Write(ulong lba, byte* buffer, ulong length)
        {
#if FAULT_INJECT
            FaultInjection.BeforeRequest(++_requests, true);
#endif
#if FAULT_CAMPAIGN
            FaultCampaign.BeforeRequest();
#endif
            if (IsReadOnly) return BlockError.ReadOnly;
            BlockError e = CheckRange(lba, length);
            if (e != BlockError.None) return e;
#if FAULT_INJECT
            if (FaultInjection.CorruptsWrite(_requests)) return TransferCorrupted(lba, buffer, length);
#endif
            return Transfer(lba, buffer, length, false);
        }

#if FAULT_INJECT
        /// CorruptWrite: the write goes through the bounce buffer and its first
        /// byte is inverted there, so exactly one byte on the disk differs and
        /// the caller's buffer is never written. (Flipping it in place and back
        /// would do the same to the disk, but the buffer is a Rust `&[u8]` on the
        /// other side of the ABI: writing through it at all is undefined there.)
        BlockError TransferCorrupted(ulong lba, byte* data, ulong total)
        {
            ulong startSector = lba << _sectorShift;
            ulong done = 0;
            BlockError e;
            while (done < total)
            {
                ulong chunk;
                if ((e = PlanBounce(total - done, out chunk)) != BlockError.None) return e;
                if (_bounce.CopyIn(0, data + done, chunk).IsError) return BlockError.NoMemory;
                if (done == 0) FaultInjection.Corrupt(_requests, lba, _info.BlockSize, _bounce.Pointer);
                if ((e = Submit(ReqType.Out, startSector + done / SectorSize)) != BlockError.None) return e;
                done += chunk;
            }
            return BlockError.None;
        }
#endif

        /// With VIRTIO_BLK_F_FLUSH a FLUSH request; without it the device has no
        /// volatile cache (it writes through, §5.2.6.2) and this succeeds at once.
        public BlockError Flush()
        {
#if FAULT_INJECT
            FaultInjection.BeforeRequest(++_requests, false);
#endif
#if FAULT_CAMPAIGN
            FaultCampaign.BeforeRequest();
#endif
            if (!_ready) return BlockError.NotReady;
            if (IsReadOnly) return BlockError.ReadOnly;
            if (!HasFlush) return BlockError.None;
            _segCount = 0;
            return Submit(ReqType.Flush, 0);
        }

        /// Array convenience for managed callers: `count` bytes at `offset` of `buffer`.
        public BlockError Read(ulong lba, byte[] buffer, int offset, int count)
        {
            if (buffer == null || offset < 0 || count < 0 || offset > buffer.Length - count) return BlockError.BadBuffer;
            if (count == 0) return BlockError.BadBuffer;
            fixed (byte* p = &buffer[offset])
            {
                return Read(lba, p, (ulong)count);
            }
        }

        public BlockError Write(ulong lba, byte[] buffer, int offset, int count)
        {
            if (buffer == null || offset < 0 || count < 0 || offset > buffer.Length - count) return BlockError.BadBuffer;
            if (count == 0) return BlockError.BadBuffer;
            fixed (byte* p = &buffer[offset])
            {
                return Write(lba, p, (ulong)count);
            }
        }

        /// Unbinding (`BlockDevices.Unregister`): the same as Shutdown.
        public void Dispose() { Shutdown(); }

        /// Resets the device, then frees the ring and buffers (the native Drop).
        public void Shutdown()
        {
            _ready = false;
            if (!_transport.Reset(_config.ResetSpins).IsOk)
            {
                if (_queue != null) _queue.Leak();
                _queue = null;
                ReleaseInterrupt();
                return;
            }
            ReleaseInterrupt();
            ReleaseMemory();
        }

        void ReleaseMemory()
        {
            if (_queue != null) _queue.Release();
            _queue = null;
            if (_bounce != null) _bounce.Dispose();
            _bounce = null;
            if (_req != null) _req.Dispose();
            _req = null;
        }
    }
}
