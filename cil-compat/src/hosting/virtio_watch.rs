//! What the DMA guard ([`super::dma_guard`]) follows of one driver
//! instance's device: its BAR mappings, transport and queue set-up. A leaf
//! below both the guard, which reads and updates it, and
//! [`super::resources`], whose per-instance holdings own it.

use alloc::vec::Vec;

/// What the guard knows about one driver instance's device.
#[derive(Debug, Default)]
pub struct VirtioWatch {
    /// `(handle, bar)` of every live BAR mapping of the instance.
    pub(super) bars: Vec<(u64, u8)>,
    pub(super) transport: Transport,
    /// `(handle, offset)` of the last write classified as a queue
    /// notification: what it means depends only on the transport and the
    /// BAR behind the handle, so the next one is known without classifying
    /// it again. Cleared when a mapping changes.
    pub(super) notify_at: Option<(u64, u64)>,
    /// Queues by index, as the driver configured them.
    pub(super) queues: Vec<(u16, Queue)>,
    /// Where set-up writes for queues past the guard's `MAX_QUEUES` land.
    pub(super) overflow: Queue,
    /// The queue the next queue_* register write applies to.
    pub(super) selected: u16,
    /// `(virt, len)` the platform lent the running call (a request's buffer).
    pub(super) lent_virt: Vec<(u64, u64)>,
    /// `(phys, len)` the driver translated inside `lent_virt` during the call
    /// (physically adjacent translations merged).
    pub(super) lent_phys: Vec<(u64, u64)>,
    /// The `lent_virt` range the last translation fell in.
    pub(super) lent_hint: usize,
    /// Bumped whenever the instance's DMA blocks change: ring placements
    /// checked under an older value are checked again.
    pub(super) dma_gen: u64,
    /// The DMA block that held the last descriptor checked: where the next
    /// notification's check looks first (an index into the instance's blocks,
    /// only a guess; a stale one costs a search).
    pub(super) dma_hint: usize,
    /// Notifications refused.
    pub refused: u64,
    /// Descriptors checked (all notifications).
    pub checked: u64,
    /// Notifications checked and then not forwarded, because the device
    /// asked for none (VIRTQ_USED_F_NO_NOTIFY).
    pub suppressed: u64,
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) enum Transport {
    /// Not looked at yet.
    #[default]
    Unknown,
    /// Not a virtio function, or its capabilities could not be read: no checks.
    Unchecked,
    /// A virtio function: where its modern registers are (if it has them).
    Virtio { modern: Option<Modern> },
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Modern {
    pub(super) common_bar: u8,
    pub(super) common: (u64, u64),
    pub(super) notify_bar: u8,
    pub(super) notify: (u64, u64),
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Queue {
    pub(super) size: u16,
    pub(super) desc: u64,
    pub(super) avail: u64,
    pub(super) used: u64,
    pub(super) enabled: bool,
    /// avail.idx up to which every entry was checked.
    pub(super) checked_to: u16,
    /// Where the descriptor table and available ring are mapped, once their
    /// placement inside one DMA block was checked (under `VirtioWatch::
    /// dma_gen`); any change to the queue's set-up clears it.
    pub(super) rings: Option<RingsAt>,
}

/// The checked placement of a queue's rings: virtual addresses of the
/// descriptor table, the available ring and the used ring, and the DMA
/// generation the check was made under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RingsAt {
    pub(super) dma_gen: u64,
    pub(super) desc: u64,
    pub(super) avail: u64,
    pub(super) used: u64,
}

/// Records the BAR behind a `bar_map` handle.
pub(super) fn note_bar(w: &mut VirtioWatch, handle: u64, bar: u32) {
    w.notify_at = None;
    w.bars.retain(|&(h, _)| h != handle);
    w.bars.push((handle, bar as u8));
}

/// Forgets a `bar_unmap`ped handle.
pub(super) fn forget_bar(w: &mut VirtioWatch, handle: u64) {
    w.notify_at = None;
    w.bars.retain(|&(h, _)| h != handle);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_change_forgets_where_notifications_go() {
        let mut w = VirtioWatch::default();
        note_bar(&mut w, 7, 4);
        w.notify_at = Some((7, 0x3000));
        note_bar(&mut w, 7, 2);
        assert_eq!(w.notify_at, None);
        w.notify_at = Some((7, 0x3000));
        forget_bar(&mut w, 7);
        assert_eq!(w.notify_at, None);
        assert!(w.bars.is_empty());
    }
}
