//! Managed virtio-blk: the driver side of one split virtqueue (virtio 1.2 §2.7) in
//! one DMA block with the legacy layout (§2.7.2), as native-drivers/virtio-blk's
//! queue.rs. Trust boundary: the descriptor table and rings live in memory the
//! device can write, so the driver never reads the table back: `_next` (each
//! descriptor's link) is the source of truth for chains and the free list. The
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

    public sealed unsafe class SplitQueue
    {
        DmaBuffer _mem;
        SplitRingLayout _layout;
        /// Each descriptor's link: chains in flight and the free list.
        ushort[] _next;
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
            q._next = new ushort[size];
            q._inFlight = new InFlight[size];
            for (int i = 0; i < size; i++) q._next[i] = (ushort)(i + 1);
            q._freeHead = 0;
            q._numFree = size;
            byte* b = mem.Pointer;
            q._base = b;
            q._table = (VirtqDesc*)b;
            q._availRing = (ushort*)(b + layout.AvailRing(0));
            q._availIdxPtr = (ushort*)(b + layout.AvailIdx);
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

        /// Publishes one virtio-blk request as a chain: the 16-byte header at
        /// `hdrPhys` (device reads), `segs[0..segCount)` as its data (device
        /// writes them when `dataWrites`), the status byte at `statusPhys`
        /// (device writes); its head goes to `head`. Descriptors are written
        /// straight into the table, their links taken from the free list.
        public BlockError AddRequest(ulong hdrPhys, Segment[] segs, int segCount, bool dataWrites, ulong statusPhys, out ushort head)
        {
            head = 0;
            if (segCount < 0 || segCount > segs.Length) return BlockError.BadBuffer;
            int count = segCount + 2;
            if (count > _numFree) return BlockError.NoMemory;
            VirtqDesc* table = _table;
            ushort[] next = _next;
            ushort first = _freeHead;
            // The free list is threaded through `_next`, so a chain taken from
            // its head is already linked in order.
            ushort idx = first;
            ushort link = next[idx];
            VirtqDesc* d = table + idx;
            d->Addr = hdrPhys;
            d->Len = 16;
            d->Flags = DescFlags.Next;
            d->Next = link;
            ushort dataFlags = dataWrites ? (ushort)(DescFlags.Write | DescFlags.Next) : DescFlags.Next;
            ulong writable = 1;
            for (int n = 0; n < segCount; n++)
            {
                idx = link;
                link = next[idx];
                d = table + idx;
                uint len = segs[n].Len;
                d->Addr = segs[n].Addr;
                d->Len = len;
                d->Flags = dataFlags;
                d->Next = link;
                if (dataWrites) writable += len;
            }
            idx = link;
            link = next[idx];
            d = table + idx;
            d->Addr = statusPhys;
            d->Len = 1;
            d->Flags = DescFlags.Write;
            d->Next = 0;
            _freeHead = link;
            _numFree -= (ushort)count;
            InFlight[] inFlight = _inFlight;
            inFlight[first].Active = true;
            inFlight[first].Count = (ushort)count;
            inFlight[first].Writable = writable;
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
        /// Takes the next used element, if any, after validating it: its head
        /// (>= 0), `NoneUsed` when the device has published none, `Misbehaved`
        /// when what it published breaks the protocol.
        public int TakeUsed()
        {
            ushort last = _lastUsed;
            ushort usedIdx = *_usedIdxPtr;
            if (usedIdx == last) return NoneUsed;
            if ((ushort)(usedIdx - last) > (uint)_mask + 1) return Misbehaved;
            VirtqUsedElem* e = _usedRing + (last & _mask);
            uint id = e->Id;
            uint len = e->Len;
            _lastUsed = (ushort)(last + 1);
            if (id > _mask) return Misbehaved;
            InFlight[] inFlight = _inFlight;
            if (!inFlight[id].Active) return Misbehaved;
            inFlight[id].Active = false;
            // Back to the free list, following the driver's own links only.
            ushort[] next = _next;
            ushort count = inFlight[id].Count;
            ushort tail = (ushort)id;
            for (int i = 1; i < count; i++) tail = next[tail];
            next[tail] = _freeHead;
            _freeHead = (ushort)id;
            _numFree += count;
            if (len > inFlight[id].Writable) return Misbehaved;
            _lastShort = len < inFlight[id].Writable;
            return (int)id;
        }

        bool _lastShort;

        /// The chain TakeUsed last returned was written short: `len` below its
        /// device-writable bytes (§2.7.8: data past `len` must not be used), so
        /// a status of OK for it is a lie.
        public bool LastShort { get { return _lastShort; } }

        /// What TakeUsed answers when there is nothing new, or a violation.
        public const int NoneUsed = -1;
        public const int Misbehaved = -2;

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
