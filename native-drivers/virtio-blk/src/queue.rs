//! Split virtqueue, driver side (virtio 1.2 §2.7), in one DMA block with the
//! legacy layout (§2.7.2) so both transports share it.
//!
//! Trust boundary: the descriptor table, avail and used rings live in memory
//! the device can write. The driver never reads anything back from the
//! descriptor table: a private *shadow* of every descriptor (address, length,
//! flags, next) is the source of truth for building and recycling chains.
//! The only device-written inputs are `used.idx` and used elements; both are
//! validated (idx may not run more than a queue ahead, the id must be the head
//! of a chain in flight, the length must fit that chain's writable bytes) and
//! a violation is `BlockError::DeviceMisbehaved`, never an index out of
//! bounds or a reuse of live descriptors.

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{fence, Ordering};

use ddk::virtio::{
    desc_flags, SplitRingLayout, VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_USED_F_NO_NOTIFY,
};
use ddk::{BlockError, DdkError, Dma, Hal, PhysAddr};

/// One buffer of a request chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub addr: PhysAddr,
    pub len: u32,
    /// The device writes into it (`VIRTQ_DESC_F_WRITE`).
    pub device_writes: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct ShadowDesc {
    addr: u64,
    len: u32,
    flags: u16,
    next: u16,
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    count: u16,
    writable: u64,
}

/// A completed chain as reported by the device (validated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Used {
    pub head: u16,
    pub len: u32,
    /// `len` is less than the chain's device-writable bytes: the device
    /// wrote less than all of them (§2.7.8: the driver must not use data
    /// beyond `len`), so a request it reports successful is a lie.
    pub short: bool,
}

/// The driver's half of one split virtqueue.
pub struct SplitQueue<H: Hal> {
    mem: Dma<H>,
    layout: SplitRingLayout,
    shadow: Vec<ShadowDesc>,
    in_flight: Vec<Option<InFlight>>,
    free_head: u16,
    num_free: u16,
    /// Our copy of `avail.idx` (the device only reads it).
    avail_idx: u16,
    /// Next used element we have not consumed.
    last_used: u16,
}

impl<H: Hal> SplitQueue<H> {
    /// Allocates a zeroed ring of `size` entries (a power of two, ≤ 32768).
    pub fn new(hal: H, size: u16) -> Result<Self, DdkError> {
        if size == 0 || !size.is_power_of_two() || size > 32768 {
            return Err(DdkError::InvalidArgument);
        }
        let layout = SplitRingLayout::new(size);
        let mem = Dma::new(hal, layout.total, 4096)?;
        let shadow = (0..size)
            .map(|i| ShadowDesc {
                next: i.wrapping_add(1),
                ..Default::default()
            })
            .collect();
        let q = SplitQueue {
            mem,
            layout,
            shadow,
            in_flight: vec![None; size as usize],
            free_head: 0,
            num_free: size,
            avail_idx: 0,
            last_used: 0,
        };
        // We poll; ask the device not to interrupt (§2.7.7, a hint only).
        q.write_u16(layout.avail_offset, VIRTQ_AVAIL_F_NO_INTERRUPT);
        Ok(q)
    }

    pub fn size(&self) -> u16 {
        self.layout.size
    }
    /// Asks the device to interrupt on used buffers again (clears
    /// VIRTQ_AVAIL_F_NO_INTERRUPT, §2.7.7): the driver waits for interrupts.
    pub fn enable_interrupts(&self) {
        self.write_u16(self.layout.avail_offset, 0);
    }
    pub fn layout(&self) -> &SplitRingLayout {
        &self.layout
    }
    /// Physical address of the ring block (descriptor table first).
    pub fn phys(&self) -> PhysAddr {
        self.mem.phys_addr()
    }
    pub fn num_free(&self) -> u16 {
        self.num_free
    }

    fn ptr(&self, off: usize, size: usize) -> *mut u8 {
        debug_assert!(off + size <= self.mem.len());
        self.mem.as_ptr().wrapping_add(off)
    }
    fn write_u16(&self, off: usize, v: u16) {
        assert!(
            off.is_multiple_of(2) && off + 2 <= self.mem.len(),
            "ring offset"
        );
        // SAFETY: in bounds (checked) and 2-aligned (the block is page-aligned,
        // `off` is even); volatile because the device reads it concurrently.
        unsafe { (self.ptr(off, 2) as *mut u16).write_volatile(v.to_le()) }
    }
    fn read_u16(&self, off: usize) -> u16 {
        assert!(
            off.is_multiple_of(2) && off + 2 <= self.mem.len(),
            "ring offset"
        );
        // SAFETY: as in `write_u16`; the device writes it concurrently.
        u16::from_le(unsafe { (self.ptr(off, 2) as *const u16).read_volatile() })
    }
    fn read_u32(&self, off: usize) -> u32 {
        assert!(
            off.is_multiple_of(4) && off + 4 <= self.mem.len(),
            "ring offset"
        );
        // SAFETY: in bounds and 4-aligned (checked); volatile as above.
        u32::from_le(unsafe { (self.ptr(off, 4) as *const u32).read_volatile() })
    }
    fn write_desc(&self, i: u16, d: &ShadowDesc) {
        let off = 16 * i as usize;
        assert!(i < self.layout.size, "descriptor index");
        let p = self.ptr(off, 16);
        // SAFETY: descriptor `i` lies inside the table at the start of the
        // (page-aligned) block, so the 8/4/2-byte fields are aligned.
        unsafe {
            (p as *mut u64).write_volatile(d.addr.to_le());
            (p.add(8) as *mut u32).write_volatile(d.len.to_le());
            (p.add(12) as *mut u16).write_volatile(d.flags.to_le());
            (p.add(14) as *mut u16).write_volatile(d.next.to_le());
        }
    }

    /// Publishes one chain; returns its head. `NoMemory` if the queue lacks
    /// free descriptors, `BadBuffer` for an empty chain or oversized segment.
    pub fn add(&mut self, segs: &[Segment]) -> Result<u16, BlockError> {
        if segs.is_empty() || segs.len() > self.num_free as usize {
            return Err(if segs.is_empty() {
                BlockError::BadBuffer
            } else {
                BlockError::NoMemory
            });
        }
        let head = self.free_head;
        let mut idx = head;
        let mut writable = 0u64;
        for (n, s) in segs.iter().enumerate() {
            let last = n + 1 == segs.len();
            let next_free = self.shadow[idx as usize].next;
            let mut flags = if s.device_writes {
                desc_flags::WRITE
            } else {
                0
            };
            if !last {
                flags |= desc_flags::NEXT;
            }
            if s.device_writes {
                writable += s.len as u64;
            }
            let d = ShadowDesc {
                addr: s.addr.as_u64(),
                len: s.len,
                flags,
                // The free list is threaded through `next`, so a chain taken
                // from its head is already linked in order.
                next: if last { 0 } else { next_free },
            };
            self.shadow[idx as usize] = d;
            self.write_desc(idx, &d);
            if last {
                self.free_head = next_free;
            }
            idx = next_free;
        }
        self.num_free -= segs.len() as u16;
        self.in_flight[head as usize] = Some(InFlight {
            count: segs.len() as u16,
            writable,
        });
        let slot = self.avail_idx % self.layout.size;
        self.write_u16(self.layout.avail_ring(slot), head);
        // §2.7.13: descriptor and ring-entry writes must be visible to the
        // device before the new avail.idx that publishes them (a write
        // barrier; on x86 a compiler fence, TSO keeps stores in order).
        fence(Ordering::Release);
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.write_u16(self.layout.avail_offset + 2, self.avail_idx);
        Ok(head)
    }

    /// Whether the device wants a notification (§2.7.10, no EVENT_IDX).
    pub fn notify_needed(&self) -> bool {
        // §2.7.13.4: a full barrier between publishing avail.idx and reading
        // used.flags, or we could read a stale NO_NOTIFY and the device could
        // miss our buffers (store→load ordering is the one x86 reorders).
        fence(Ordering::SeqCst);
        self.read_u16(self.layout.used_offset) & VIRTQ_USED_F_NO_NOTIFY == 0
    }

    /// Takes the next used element, if any, after validating it.
    pub fn poll_used(&mut self) -> Result<Option<Used>, BlockError> {
        let used_idx = self.read_u16(self.layout.used_offset + 2);
        if used_idx == self.last_used {
            return Ok(None);
        }
        if used_idx.wrapping_sub(self.last_used) > self.layout.size {
            return Err(BlockError::DeviceMisbehaved);
        }
        // §2.7.13 (device side mirrored): the element must be read after the
        // idx that says it is there (a read barrier).
        fence(Ordering::Acquire);
        let slot = self.last_used % self.layout.size;
        let off = self.layout.used_ring(slot);
        let id = self.read_u32(off);
        let len = self.read_u32(off + 4);
        self.last_used = self.last_used.wrapping_add(1);
        if id >= self.layout.size as u32 {
            return Err(BlockError::DeviceMisbehaved);
        }
        let head = id as u16;
        let Some(info) = self.in_flight[head as usize].take() else {
            return Err(BlockError::DeviceMisbehaved);
        };
        self.recycle(head, info.count);
        if len as u64 > info.writable {
            return Err(BlockError::DeviceMisbehaved);
        }
        Ok(Some(Used {
            head,
            len,
            short: (len as u64) < info.writable,
        }))
    }

    /// Returns a chain to the free list, following the *shadow* links only.
    fn recycle(&mut self, head: u16, count: u16) {
        let mut last = head;
        for _ in 1..count {
            last = self.shadow[last as usize].next;
        }
        self.shadow[last as usize].next = self.free_head;
        self.free_head = head;
        self.num_free += count;
    }

    /// Chains handed to the device and not yet returned.
    pub fn in_flight(&self) -> usize {
        self.in_flight.iter().filter(|x| x.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ddk::testing;

    fn seg(addr: u64, len: u32, w: bool) -> Segment {
        Segment {
            addr: PhysAddr::new(addr),
            len,
            device_writes: w,
        }
    }

    /// Plays the device by hand: puts a used element into the ring.
    fn complete(q: &SplitQueue<ddk::Platform>, slot: u16, id: u32, len: u32, idx: u16) {
        let off = q.layout.used_ring(slot);
        // SAFETY: test-only write into our own ring block at an aligned offset.
        unsafe {
            (q.mem.as_ptr().add(off) as *mut u32).write_volatile(id);
            (q.mem.as_ptr().add(off + 4) as *mut u32).write_volatile(len);
        }
        q.write_u16(q.layout.used_offset + 2, idx);
    }

    #[test]
    fn chains_recycle_through_the_shadow_even_if_the_device_scribbles() {
        testing::reset();
        let mut q = SplitQueue::new(testing::platform(), 8).unwrap();
        let h = q
            .add(&[
                seg(0x1000, 16, false),
                seg(0x2000, 512, true),
                seg(0x3000, 1, true),
            ])
            .unwrap();
        assert_eq!(q.num_free(), 5);
        // The device overwrites the descriptor table with garbage links.
        // SAFETY: test-only write inside our own ring block.
        unsafe { core::ptr::write_bytes(q.mem.as_ptr(), 0xff, 16 * 8) };
        complete(&q, 0, h as u32, 513, 1);
        assert_eq!(
            q.poll_used(),
            Ok(Some(Used {
                head: h,
                len: 513,
                short: false
            }))
        );
        assert_eq!(q.num_free(), 8);
        // All 8 descriptors are usable again.
        let segs = [seg(0x1000, 1, false); 8];
        assert!(q.add(&segs).is_ok());
    }

    #[test]
    fn untrusted_used_entries_are_rejected() {
        testing::reset();
        let mut q = SplitQueue::new(testing::platform(), 4).unwrap();
        let h = q
            .add(&[seg(0x1000, 16, false), seg(0x3000, 1, true)])
            .unwrap();
        complete(&q, 0, 99, 1, 1);
        assert_eq!(
            q.poll_used(),
            Err(BlockError::DeviceMisbehaved),
            "id out of range"
        );
        complete(&q, 1, (h + 1) as u32, 1, 2);
        assert_eq!(
            q.poll_used(),
            Err(BlockError::DeviceMisbehaved),
            "id not in flight"
        );
        complete(&q, 2, h as u32, 2, 3);
        assert_eq!(
            q.poll_used(),
            Err(BlockError::DeviceMisbehaved),
            "len beyond writable bytes"
        );
        complete(&q, 3, 0, 0, 3u16.wrapping_add(100));
        assert_eq!(
            q.poll_used(),
            Err(BlockError::DeviceMisbehaved),
            "idx jumps past the queue"
        );
        assert_eq!(q.add(&[seg(0, 1, false); 5]), Err(BlockError::NoMemory));
    }

    #[test]
    fn several_chains_in_flight_complete_in_any_order_once_each() {
        testing::reset();
        let mut q = SplitQueue::new(testing::platform(), 16).unwrap();
        let heads: Vec<u16> = (0..3)
            .map(|i| {
                q.add(&[
                    seg(0x1000 * i, 16, false),
                    seg(0x10_0000 * (i + 1), 4096, true),
                    seg(0x2000 * i, 1, true),
                ])
                .unwrap()
            })
            .collect();
        assert_eq!(q.in_flight(), 3);
        assert_eq!(q.num_free(), 7);
        // The device returns them out of order, and then one of them twice.
        for (n, &i) in [2usize, 0, 1].iter().enumerate() {
            complete(&q, n as u16, heads[i] as u32, 4097, n as u16 + 1);
            assert_eq!(
                q.poll_used(),
                Ok(Some(Used {
                    head: heads[i],
                    len: 4097,
                    short: false
                }))
            );
        }
        assert_eq!(q.num_free(), 16);
        assert_eq!(q.in_flight(), 0);
        complete(&q, 3, heads[1] as u32, 1, 4);
        assert_eq!(
            q.poll_used(),
            Err(BlockError::DeviceMisbehaved),
            "completed twice"
        );
        assert_eq!(q.num_free(), 16, "a repeated id frees nothing");
    }
}
