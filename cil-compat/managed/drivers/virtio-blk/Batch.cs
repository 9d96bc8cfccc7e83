//! Managed virtio-blk: batches of reads in flight together (`Ddk.IBlockBatch`,
//! what `BlockDevice::read_many` reaches through the hosting layer), as
//! native-drivers/virtio-blk's `read_many`: every read that fits is published
//! as its own chain (virtio 1.2 §2.7.13, one request-block slot each), the
//! device is notified once (§2.7.13.3), then completions are reaped in
//! whatever order the device returns them (§2.7.8), each validated by
//! SplitQueue.TakeUsed and matched to a chain of this batch.
//!
//! Errors: a status error (IOERR, UNSUPP) fails that request alone and the
//! others carry on. A protocol violation, a timeout or a failed notification
//! resets the device (Recover), which stops it using every buffer of the
//! batch, and stops the batch: every request not completed carries that error,
//! and ReadMany returns it, so the hosting layer's watchdog sees a Timeout.
//!
//! Fault hooks: FaultInjection and FaultCampaign count each read of a batch as
//! one request, as Read does. A campaign kick fault (wrong register, lost
//! request) withholds the one notification of the batch, so the whole batch
//! waits out its bound.
using Ddk;

namespace VirtioBlk
{
    public sealed unsafe partial class VirtioBlkDevice : IBlockBatch
    {
        /// Requests in flight at once (request-block slots; at most 4096 / SlotSize).
        const int MaxBatch = 64;

        /// Per slot of the batch in flight: its chain's head, which request it
        /// serves, whether it has completed.
        ushort[] _batchHead;
        uint[] _batchIndex;
        bool[] _batchDone;
        /// Head -> slot of the batch in flight (a completion is matched in one
        /// step; the slot's own head is checked, so stale entries are harmless).
        byte[] _slotOfHead;

        /// A failure that stops a batch: the device was reset or is unusable.
        static bool StopsBatch(BlockError e)
        {
            return e == BlockError.Timeout || e == BlockError.DeviceMisbehaved || e == BlockError.NotReady;
        }

        public BlockError ReadMany(BlockRequest* requests, uint count)
        {
            if (count == 0) return BlockError.None;
            if (requests == null) return BlockError.BadBuffer;
            if (_batchHead == null)
            {
                _batchHead = new ushort[MaxBatch];
                _batchIndex = new uint[MaxBatch];
                _batchDone = new bool[MaxBatch];
            }
            if (_queue != null && (_slotOfHead == null || _slotOfHead.Length < _queue.Size))
                _slotOfHead = new byte[_queue.Size];
            for (uint j = 0; j < count; j++) requests[j].Status = (uint)BlockError.NotReady;
            BlockError stop = BlockError.None;
            uint i = 0;
            // Requests whose fault hooks have run (a request that did not fit the
            // batch is published in the next one: hooks run once per request).
            uint hooked = 0;
            while (i < count && stop == BlockError.None)
            {
                int n = 0;
                bool withheld = false;
                while (i < count && n < MaxBatch)
                {
                    BlockRequest* r = requests + i;
                    if (hooked <= i)
                    {
                        hooked = i + 1;
#if FAULT_INJECT
                        FaultInjection.BeforeRequest(++_requests, false);
#endif
#if FAULT_CAMPAIGN
                        FaultCampaign.BeforeRequest();
#endif
                    }
                    BlockError e = r->Buffer == null ? BlockError.BadBuffer : CheckRange(r->Lba, r->Length);
                    if (e != BlockError.None)
                    {
                        r->Status = (uint)e;
                        i++;
                        continue;
                    }
                    // One zero-copy chain, with room left in the ring; otherwise the
                    // batch so far goes first and this read is served on its own.
                    ulong planned = PlanDirect(r->Buffer, r->Length, true);
                    if (planned != r->Length || _queue == null || _queue.NumFree < _segCount + 2) break;
                    ushort head;
                    e = Publish((uint)n, ReqType.In, r->Lba << _sectorShift, out head);
                    if (e != BlockError.None) break;
#if FAULT_CAMPAIGN
                    if (FaultCampaign.AfterAdd(_queue, _transport, head)) withheld = true;
#endif
                    _batchHead[n] = head;
                    // Heads are below the queue size, which _slotOfHead covers
                    // (sized above; the ring is re-created only when a batch stops).
                    _slotOfHead[head] = (byte)n;
                    _batchIndex[n] = i;
                    _batchDone[n] = false;
                    n++;
                    i++;
                }
                if (n == 0)
                {
                    if (i >= count) break;
                    // Not expressible as one zero-copy chain (or the ring is too
                    // small for it): the single-request path, bounce buffer and all.
                    BlockRequest* r = requests + i;
                    BlockError e = Transfer(r->Lba, r->Buffer, r->Length, true);
                    r->Status = (uint)e;
                    if (StopsBatch(e)) stop = e;
                    i++;
                    continue;
                }
                stop = KickAndReap(requests, n, withheld);
            }
            // Requests never served share the error that stopped the batch.
            if (stop != BlockError.None)
            {
                for (uint j = i; j < count; j++) requests[j].Status = (uint)stop;
                return stop;
            }
            for (uint j = 0; j < count; j++)
                if (requests[j].Status != 0) return (BlockError)requests[j].Status;
            return BlockError.None;
        }

        /// Notifies the device of the `n` chains in `_batchHead` (unless a
        /// campaign fault withheld the kick) and reaps them. Returns an error
        /// only when the batch stops (see the file header); the requests of
        /// every chain not completed then carry it.
        BlockError KickAndReap(BlockRequest* requests, int n, bool withheld)
        {
            BlockError e = BlockError.None;
            if (!withheld && (e = Kick()) != BlockError.None)
            {
                // The reset stops the device before the batch's buffers go back.
                Recover(BlockError.NotReady);
            }
            if (e == BlockError.None) e = Reap(requests, n);
            if (e != BlockError.None)
            {
                FailPending(requests, n, e);
                return e;
            }
#if FAULT_CAMPAIGN
            FaultCampaign.Completed();
#endif
            return BlockError.None;
        }

        void FailPending(BlockRequest* requests, int n, BlockError e)
        {
            for (int k = 0; k < n; k++)
                if (!_batchDone[k]) requests[_batchIndex[k]].Status = (uint)e;
        }

        /// Waits for every chain of the batch. A completion that names no chain
        /// of this batch still pending (TakeUsed already refused ids out of
        /// range or not in flight) or a status byte that is no status is a
        /// protocol violation; it and a timeout reset the device.
        BlockError Reap(BlockRequest* requests, int n)
        {
            int pending = n;
            while (pending > 0)
            {
                ushort head;
                BlockError e = NextUsed(out head);
                if (e != BlockError.None)
                {
                    Recover(e);
                    return e;
                }
                // TakeUsed checked head < queue size <= _slotOfHead.Length.
                int k = _slotOfHead[head];
                if (k >= n || _batchDone[k] || _batchHead[k] != head)
                {
                    Recover(BlockError.DeviceMisbehaved);
                    return BlockError.DeviceMisbehaved;
                }
                _batchDone[k] = true;
                pending--;
                BlockRequest* r = requests + _batchIndex[k];
                // k < MaxBatch <= 4096 / SlotSize: inside the request page.
                byte st = _reqBase[(uint)k * SlotSize + StatusOff];
                if (st == BlkStatus.Ok && !_queue.LastShort) r->Status = 0;
                else if (st == BlkStatus.IoErr) r->Status = (uint)BlockError.Io;
                else if (st == BlkStatus.Unsupp) r->Status = (uint)BlockError.Unsupported;
                else
                {
                    r->Status = (uint)BlockError.DeviceMisbehaved;
                    Recover(BlockError.DeviceMisbehaved);
                    return BlockError.DeviceMisbehaved;
                }
            }
            return BlockError.None;
        }
    }
}
