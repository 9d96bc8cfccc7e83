//! Managed virtio-blk: the driver side of one split virtqueue (virtio 1.2 §2.7) in
//! one DMA block with the legacy layout (§2.7.2), as native-drivers/virtio-blk's
//! queue.rs. Trust boundary: the descriptor table and rings live in memory the
//! device can write, so the driver never reads the table back: `_shadow` (an array
//! of VirtqDesc structs) is the source of truth for chains and the free list. The
//! only device-written inputs, used.idx and used elements, are validated (idx at
//! most a queue ahead, id the head of a chain in flight, len within that chain's
//! writable bytes); a violation is BlockError.DeviceMisbehaved, never an index out
//! of range or the reuse of live descriptors.
using Ddk;

namespace VirtioBlk
{
    /// One buffer of a request chain. 16 bytes (8 + 4 + 1, padded).
    public struct Segment
    {
        public ulong Addr;
        public uint Len;
        /// The device writes into it (VIRTQ_DESC_F_WRITE).
        public bool DeviceWrites;

        public Segment(ulong addr, uint len, bool deviceWrites)
        {
            Addr = addr;
            Len = len;
            DeviceWrites = deviceWrites;
        }
    }

    /// Book-keeping for a chain handed to the device.
    public struct InFlight
    {
        public bool Active;
        public ushort Count;
        public ulong Writable;
    }

    /// A completed chain as reported by the device (validated).
    public struct UsedChain
    {
        public ushort Head;
        public uint Len;
    }

    public sealed unsafe class SplitQueue
    {
        DmaBuffer _mem;
        SplitRingLayout _layout;
        VirtqDesc[] _shadow;
        InFlight[] _inFlight;
        ushort _freeHead;
        ushort _numFree;
        /// Our copy of avail.idx (the device only reads it).
        ushort _availIdx;
        /// The next used element not yet consumed.
        ushort _lastUsed;
        // The hot path works on raw pointers into the ring block, computed once
        // from `_layout` (every field is inside the block by construction), and
        // on `Size - 1` as a mask (Size is a power of two): a request then costs
        // no property calls and no division.
        byte* _base;
        VirtqDesc* _table;
        ushort* _availRing;
        ushort* _availIdxPtr;
        ushort* _usedFlags;
        ushort* _usedIdxPtr;
        VirtqUsedElem* _usedRing;
        ushort _mask;

        /// A zeroed ring of `size` entries (a power of two, <= 32768).
        public static Status Create(ushort size, out SplitQueue queue)
        {
            queue = null;
            if (size == 0 || (size & (size - 1)) != 0 || size > 32768) return Status.Of(DdkError.InvalidArgument);
            SplitRingLayout layout = SplitRingLayout.For(size);
            DmaBuffer mem;
            Status s = DmaBuffer.Allocate(layout.Total, 4096, out mem);
            if (s.IsError) return s;
            SplitQueue q = new SplitQueue();
            q._mem = mem;
            q._layout = layout;
            q._shadow = new VirtqDesc[size];
            q._inFlight = new InFlight[size];
            for (int i = 0; i < size; i++) q._shadow[i].Next = (ushort)(i + 1);
            q._freeHead = 0;
            q._numFree = size;
            byte* b = mem.Pointer;
            q._base = b;
            q._table = (VirtqDesc*)b;
            q._availRing = (ushort*)(b + layout.AvailRing(0));
            q._availIdxPtr = (ushort*)(b + layout.AvailIdx);
            q._usedFlags = (ushort*)(b + layout.UsedOffset);
            q._usedIdxPtr = (ushort*)(b + layout.UsedIdx);
            q._usedRing = (VirtqUsedElem*)(b + layout.UsedRing(0));
            q._mask = (ushort)(size - 1);
            // We poll; ask the device not to interrupt (§2.7.7, a hint only).
            q.WriteU16(layout.AvailOffset, RingFlags.AvailNoInterrupt);
            queue = q;
            return Status.Ok;
        }

        /// Asks the device to interrupt on used buffers again (clears
        /// VIRTQ_AVAIL_F_NO_INTERRUPT, §2.7.7): the driver waits for interrupts.
        public void EnableInterrupts()
        {
            WriteU16(_layout.AvailOffset, 0);
        }

        public ushort Size { get { return _layout.Size; } }
        public SplitRingLayout Layout { get { return _layout; } }
        /// Physical address of the ring block (descriptor table first).
        public ulong PhysicalAddress { get { return _mem.PhysicalAddress; } }
        public ushort NumFree { get { return _numFree; } }

        /// Frees the ring; only after the device has been reset.
        public void Release() { _mem.Dispose(); }

        /// Abandons the ring to a device that would not reset (never reuse it).
        public void Leak() { _mem.Leak(); }

        // Offsets come from `_layout`, which lies inside the block by construction;
        // every access is naturally aligned (the block is page-aligned).
        void WriteU16(uint offset, ushort v) { *(ushort*)(_mem.Pointer + offset) = v; }

        /// Publishes `segs[0..count)` as one chain; its head goes to `head`.
        public BlockError Add(Segment[] segs, int count, out ushort head)
        {
            head = 0;
            if (count <= 0 || count > segs.Length) return BlockError.BadBuffer;
            if (count > _numFree) return BlockError.NoMemory;
            VirtqDesc* table = _table;
            VirtqDesc[] shadow = _shadow;
            ushort first = _freeHead;
            ushort idx = first;
            ulong writable = 0;
            for (int n = 0; n < count; n++)
            {
                bool last = n + 1 == count;
                ushort nextFree = shadow[idx].Next;
                Segment s = segs[n];
                ushort flags = s.DeviceWrites ? DescFlags.Write : (ushort)0;
                if (!last) flags |= DescFlags.Next;
                if (s.DeviceWrites) writable += s.Len;
                VirtqDesc d;
                d.Addr = s.Addr;
                d.Len = s.Len;
                d.Flags = flags;
                // The free list is threaded through Next, so a chain taken from its
                // head is already linked in order.
                d.Next = last ? (ushort)0 : nextFree;
                shadow[idx] = d;
                table[idx] = d;
                if (last) _freeHead = nextFree;
                idx = nextFree;
            }
            _numFree -= (ushort)count;
            InFlight f;
            f.Active = true;
            f.Count = (ushort)count;
            f.Writable = writable;
            _inFlight[first] = f;
            _availRing[_availIdx & _mask] = first;
            // §2.7.13: descriptors and the ring entry must be visible before the new
            // avail.idx. x86 keeps stores in order (TSO) and the JIT emits them in
            // program order, so no fence instruction is needed here.
            _availIdx++;
            *_availIdxPtr = _availIdx;
            head = first;
            return BlockError.None;
        }

#if FAULT_CAMPAIGN
        /// Overwrites the buffer address of descriptor `index` in the ring the
        /// device reads (the shadow keeps the true one): FaultCampaign.cs.
        public void CorruptDescriptorAddress(ushort index, ulong addr)
        {
            _table[index & _mask].Addr = addr;
        }

#endif
        /// Whether the device wants a notification (§2.7.10, without EVENT_IDX).
        public bool NotifyNeeded()
        {
            // §2.7.13.4: a full fence between publishing avail.idx and reading
            // used.flags (store->load is the one order x86 relaxes).
            Runtime.MemoryBarrier();
            return (*_usedFlags & RingFlags.UsedNoNotify) == 0;
        }

        /// Whether the device has published a used element we have not taken
        /// (one load: what a wait loop spins on before calling PollUsed).
        public bool HasUsed { get { return *_usedIdxPtr != _lastUsed; } }

        /// Takes the next used element, if any, after validating it.
        public BlockError PollUsed(out bool found, out UsedChain used)
        {
            found = false;
            used = new UsedChain();
            ushort usedIdx = *_usedIdxPtr;
            if (usedIdx == _lastUsed) return BlockError.None;
            if ((ushort)(usedIdx - _lastUsed) > (uint)_mask + 1) return BlockError.DeviceMisbehaved;
            VirtqUsedElem e = _usedRing[_lastUsed & _mask];
            _lastUsed++;
            if (e.Id > _mask) return BlockError.DeviceMisbehaved;
            ushort head = (ushort)e.Id;
            InFlight info = _inFlight[head];
            if (!info.Active) return BlockError.DeviceMisbehaved;
            _inFlight[head].Active = false;
            Recycle(head, info.Count);
            if (e.Len > info.Writable) return BlockError.DeviceMisbehaved;
            found = true;
            used.Head = head;
            used.Len = e.Len;
            return BlockError.None;
        }

        /// Returns a chain to the free list, following the shadow links only.
        void Recycle(ushort head, ushort count)
        {
            ushort last = head;
            for (int i = 1; i < count; i++) last = _shadow[last].Next;
            _shadow[last].Next = _freeHead;
            _freeHead = head;
            _numFree += count;
        }

        /// Chains handed to the device and not yet returned.
        public int InFlightCount
        {
            get
            {
                int n = 0;
                for (int i = 0; i < _inFlight.Length; i++)
                    if (_inFlight[i].Active) n++;
                return n;
            }
        }
    }
}
