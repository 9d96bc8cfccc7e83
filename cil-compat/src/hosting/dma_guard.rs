//! The DMA guard: before a managed virtio driver's queue notification reaches
//! the device, the hosting layer checks every descriptor chain the driver made
//! available since the last one, and refuses the notification (a driver
//! fault) when a descriptor, an indirect table or the ring itself lies outside
//! the DMA memory that driver instance allocated.
//!
//! There is no IOMMU under the kernel, so without this check a driver bug
//! that writes a wrong buffer address makes the device read or write memory
//! the driver does not own (QEMU's virtio-blk then completes the request with
//! status OK, and the damage is silent). The guard follows the queue set-up
//! the driver writes (virtio 1.2 §4.1.4.3 common configuration: queue_select,
//! queue_size, queue_desc/driver/device, queue_enable; §4.1.4.8 legacy
//! QUEUE_ADDRESS, QUEUE_SELECT, QUEUE_NOTIFY) and reads the split ring
//! (§2.7.5 descriptors, §2.7.5.3 indirect tables, §2.7.6 available ring) from
//! the driver's own DMA blocks.
//!
//! Scope: the guard protects against a faulty driver, not a malicious one. A
//! driver could rewrite a descriptor after the check, and a device still
//! working on an earlier notification, or polling its ring (QEMU's
//! iothread), may pick up an entry published before the guard saw it; a
//! hardware IOMMU closes these gaps. The managed driver kicks after every
//! publication, so every chain is checked; a kick the device asked not to
//! get (VIRTQ_USED_F_NO_NOTIFY) is checked and then dropped
//! ([`wants_notification`]). Devices that are not virtio, and
//! virtio functions whose capabilities cannot be read, are not checked.

use alloc::format;
use alloc::string::String;
use core::cell::Cell;

use ddk::abi::{DdkAbi, DdkError, IO_HANDLE_TAG, STATUS_OK};
use ddk::pci::{cap_id, ConfigAccess, PciAddress};
use ddk::virtio::{self, cfg_type, desc_flags, legacy};
use ddk::Platform;

use super::guard::{self, Trap};
use super::resources;
use super::virtio_watch::{Modern, Queue, RingsAt, Transport, VirtioWatch};

/// Where a function's virtio registers are: the platform's enumeration of it
/// and the DDK's capability walk (virtio 1.2 §4.1.4), as the native driver
/// reads them.
fn read_caps(abi: &'static DdkAbi, addr: PciAddress) -> Transport {
    // SAFETY: the table the hosting layer was given, already checked by
    // `Runtime::new` (the same call).
    let Ok(platform) = (unsafe { Platform::new(abi) }) else {
        return Transport::Unchecked;
    };
    let Ok(dev) = platform.pci_device(addr) else {
        return Transport::Unchecked;
    };
    if dev.vendor_id != virtio::VIRTIO_VENDOR_ID {
        return Transport::Unchecked;
    }
    let (mut common, mut notify) = (None, None);
    for cap in dev.capabilities(&platform) {
        if cap.id != cap_id::VENDOR_SPECIFIC {
            continue;
        }
        let p = cap.offset as u16;
        let field = |off: u16| platform.read_u32(addr, p + off).ok();
        let (Ok(kind), Ok(bar), Some(off), Some(len)) = (
            platform.read_u8(addr, p + 3),
            platform.read_u8(addr, p + 4),
            field(8),
            field(12),
        ) else {
            return Transport::Unchecked;
        };
        let region = (bar, (off as u64, len as u64));
        if kind == cfg_type::COMMON && common.is_none() {
            common = Some(region);
        } else if kind == cfg_type::NOTIFY && notify.is_none() {
            notify = Some(region);
        }
    }
    let modern = match (common, notify) {
        (Some((cb, c)), Some((nb, n))) => Some(Modern {
            common_bar: cb,
            common: c,
            notify_bar: nb,
            notify: n,
        }),
        _ => None,
    };
    Transport::Virtio { modern }
}

/// What a register write means to the guard.
enum Write {
    Other,
    Reset,
    Select(u16),
    Size(u16),
    /// Which address (0 desc, 1 avail, 2 used), which half (None: all 64
    /// bits), value.
    Addr(u8, Option<bool>, u64),
    /// queue_enable, and the offset of queue_size in the same mapping.
    Enable(bool, u64),
    /// A legacy QUEUE_ADDRESS (page frame number; 0 disables).
    LegacyPfn(u32),
    /// A queue notification; the value written (its low 16 bits name the
    /// queue, also with VIRTIO_F_NOTIFICATION_DATA, §4.1.5.2).
    Notify(u16),
}

fn classify(w: &VirtioWatch, handle: u64, off: u64, value: u64, wide: bool) -> Write {
    let Transport::Virtio { modern } = w.transport else {
        return Write::Other;
    };
    let Some(&(_, bar)) = w.bars.iter().find(|&&(h, _)| h == handle) else {
        return Write::Other;
    };
    if handle & IO_HANDLE_TAG != 0 && bar == 0 {
        // A transitional function's legacy registers (§4.1.4.8).
        return match off as usize {
            o if o == legacy::QUEUE_ADDRESS.offset() => Write::LegacyPfn(value as u32),
            o if o == legacy::QUEUE_SELECT.offset() => Write::Select(value as u16),
            o if o == legacy::QUEUE_NOTIFY.offset() => Write::Notify(value as u16),
            o if o == legacy::DEVICE_STATUS.offset() && value as u8 == 0 => Write::Reset,
            _ => Write::Other,
        };
    }
    let Some(m) = modern else {
        return Write::Other;
    };
    let within = |(start, len): (u64, u64)| off >= start && off - start < len;
    if bar == m.notify_bar && within(m.notify) {
        return Write::Notify(value as u16);
    }
    if bar != m.common_bar || !within(m.common) {
        return Write::Other;
    }
    use virtio::common as c;
    let rel = (off - m.common.0) as usize;
    // A 64-bit write at the low half sets the whole address.
    let lo = if wide { None } else { Some(false) };
    match rel {
        r if r == c::DEVICE_STATUS.offset() && value as u8 == 0 => Write::Reset,
        r if r == c::QUEUE_SELECT.offset() => Write::Select(value as u16),
        r if r == c::QUEUE_SIZE.offset() => Write::Size(value as u16),
        r if r == c::QUEUE_ENABLE.offset() => Write::Enable(
            value as u16 == 1,
            m.common.0 + c::QUEUE_SIZE.offset() as u64,
        ),
        r if r == c::QUEUE_DESC_LO.offset() => Write::Addr(0, lo, value),
        r if r == c::QUEUE_DESC_HI.offset() => Write::Addr(0, Some(true), value),
        r if r == c::QUEUE_DRIVER_LO.offset() => Write::Addr(1, lo, value),
        r if r == c::QUEUE_DRIVER_HI.offset() => Write::Addr(1, Some(true), value),
        r if r == c::QUEUE_DEVICE_LO.offset() => Write::Addr(2, lo, value),
        r if r == c::QUEUE_DEVICE_HI.offset() => Write::Addr(2, Some(true), value),
        _ => Write::Other,
    }
}

/// Queues followed per instance at most: a driver selecting ever new queue
/// numbers cannot grow the table without bound (virtio-blk uses one queue
/// per CPU, here one).
const MAX_QUEUES: usize = 64;

/// The state of queue `q`; past [`MAX_QUEUES`], a scratch entry: once one
/// of those is enabled, every notification is refused (it cannot be checked).
fn queue_mut(w: &mut VirtioWatch, q: u16) -> &mut Queue {
    if let Some(i) = w.queues.iter().position(|(n, _)| *n == q) {
        return &mut w.queues[i].1;
    }
    if w.queues.len() >= MAX_QUEUES {
        w.overflow = Queue::default();
        return &mut w.overflow;
    }
    w.queues.push((q, Queue::default()));
    &mut w.queues.last_mut().expect("just pushed").1
}

/// The queue size register of the selected queue, read from the device.
fn device_queue_size(abi: &DdkAbi, handle: u64, off: u64) -> u16 {
    let mut v = 0u16;
    // SAFETY: a platform entry on a handle the instance mapped; valid out-pointer.
    if unsafe { (abi.mmio_read16)(handle, off, &mut v) } == STATUS_OK {
        v
    } else {
        0
    }
}

/// A check that failed: what to report.
type Refusal = String;

/// The memory of the instance's DMA blocks, `(virt, phys, size)`, and the
/// physical ranges of the buffers lent to the running call. A check starts
/// with the block and the range that held the previous buffer (a chain's
/// descriptors mostly fall in the same ones), so a descriptor costs a
/// constant number of comparisons in the common case and never allocates.
struct Dma<'a> {
    blocks: &'a [(u64, u64, u64)],
    lent: &'a [(u64, u64)],
    /// Index of the block, and of the lent range, that held the last hit.
    hint: Cell<(usize, usize)>,
}

impl<'a> Dma<'a> {
    /// `block_hint`: the block that held the last hit of the previous check
    /// (the rings and request headers stay in the same blocks from one
    /// notification to the next); any index, only a first guess.
    fn new(blocks: &'a [(u64, u64, u64)], lent: &'a [(u64, u64)], block_hint: usize) -> Self {
        Dma {
            blocks,
            lent,
            hint: Cell::new((block_hint, 0)),
        }
    }
    /// The block that held the last hit (for the next check's [`Dma::new`]).
    fn block_hint(&self) -> usize {
        self.hint.get().0
    }
    /// Whether the device may touch `[phys, phys + len)`: inside one DMA block
    /// or one lent range. The hinted block, then the hinted lent range and the
    /// next one (lent buffers are translated, and so published, in order),
    /// before any search.
    fn allowed(&self, phys: u64, len: u64) -> bool {
        let Some(end) = phys.checked_add(len) else {
            return false;
        };
        let in_block = |&(_, p, s): &(u64, u64, u64)| phys >= p && end <= p + s;
        let in_lent = |&(p, n): &(u64, u64)| phys >= p && end <= p + n;
        let (b, l) = self.hint.get();
        if self.blocks.get(b).is_some_and(in_block) || self.lent.get(l).is_some_and(in_lent) {
            return true;
        }
        if self.lent.get(l + 1).is_some_and(in_lent) {
            self.hint.set((b, l + 1));
            return true;
        }
        if self.virt(phys, len).is_some() {
            return true;
        }
        match self.lent.iter().position(in_lent) {
            Some(i) => {
                self.hint.set((self.hint.get().0, i));
                true
            }
            None => false,
        }
    }
    /// The virtual address of `[phys, phys + len)` when one block holds it all.
    fn virt(&self, phys: u64, len: u64) -> Option<u64> {
        let end = phys.checked_add(len)?;
        let inside = |&(_, p, s): &(u64, u64, u64)| phys >= p && end <= p + s;
        let (b, l) = self.hint.get();
        let i = match self.blocks.get(b) {
            Some(x) if inside(x) => b,
            _ => {
                let i = self.blocks.iter().position(inside)?;
                self.hint.set((i, l));
                i
            }
        };
        let (v, p, _) = self.blocks[i];
        Some(v + (phys - p))
    }
}

/// Reads the `u16` at `virt`, inside a checked ring of a live DMA block.
fn read_u16(virt: u64) -> u16 {
    // SAFETY: callers pass addresses inside a DMA block of this instance
    // whose placement was checked (`rings`), 2-aligned (ring addresses are
    // checked for alignment); the block is mapped and owned by the platform
    // allocator until released. Volatile: the device and driver share it.
    unsafe { core::ptr::read_volatile(virt as *const u16) }
}

/// Descriptor `i` of a table mapped at `table` (virtual), `i` inside it:
/// `(addr, len, flags, next)` (§2.7.5, little-endian), read as two words.
fn desc(table: u64, i: u16) -> (u64, u32, u16, u16) {
    let v = table + 16 * i as u64;
    // SAFETY: callers checked that the whole table lies inside one live DMA
    // block of this instance (so descriptor `i` below its size does) and
    // that its base is 16-byte aligned (§2.7.5); see `read_u16`.
    let (addr, rest) = unsafe {
        (
            u64::from_le(core::ptr::read_volatile(v as *const u64)),
            u64::from_le(core::ptr::read_volatile((v + 8) as *const u64)),
        )
    };
    (addr, rest as u32, (rest >> 32) as u16, (rest >> 48) as u16)
}

/// Why a chain was refused; formatted only when one is.
#[derive(Clone, Copy, Debug)]
enum ChainFault {
    IndexOutside { i: u16, n: u16 },
    Loops { head: u16 },
    NestedIndirect { i: u16 },
    MalformedIndirect { i: u16, addr: u64, len: u32 },
    IndirectOutside { i: u16, addr: u64, len: u32 },
    BufferOutside { i: u16, addr: u64, len: u32 },
}

impl core::fmt::Display for ChainFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            ChainFault::IndexOutside { i, n } => {
                write!(f, "descriptor index {i} outside a table of {n}")
            }
            ChainFault::Loops { head } => write!(f, "the chain from descriptor {head} loops"),
            ChainFault::NestedIndirect { i } => write!(
                f,
                "descriptor {i}: an indirect table inside an indirect table"
            ),
            ChainFault::MalformedIndirect { i, addr, len } => write!(
                f,
                "descriptor {i}: indirect table 0x{addr:x}+{len} is malformed"
            ),
            ChainFault::IndirectOutside { i, addr, len } => write!(
                f,
                "descriptor {i}: indirect table 0x{addr:x}+{len} is outside the driver's DMA memory"
            ),
            ChainFault::BufferOutside { i, addr, len } => write!(
                f,
                "descriptor {i}: buffer 0x{addr:x}+{len} is outside the driver's DMA memory and the request's buffers"
            ),
        }
    }
}

/// Checks one chain from `head` of a table of `n` descriptors mapped at
/// `table` (virtual; the caller checked that all `n` lie in one DMA block).
/// The number of descriptors in it, indirect ones included.
fn check_chain(dma: &Dma, table: u64, n: u16, head: u16, nested: bool) -> Result<u64, ChainFault> {
    let mut i = head;
    let mut count = 0u64;
    loop {
        if i >= n {
            return Err(ChainFault::IndexOutside { i, n });
        }
        count += 1;
        if count > n as u64 {
            return Err(ChainFault::Loops { head });
        }
        let (addr, len, flags, next) = desc(table, i);
        if flags & desc_flags::INDIRECT != 0 {
            if nested {
                return Err(ChainFault::NestedIndirect { i });
            }
            if len == 0 || len % 16 != 0 || addr % 16 != 0 || len / 16 > u16::MAX as u32 {
                return Err(ChainFault::MalformedIndirect { i, addr, len });
            }
            let Some(inner) = dma.virt(addr, len as u64) else {
                return Err(ChainFault::IndirectOutside { i, addr, len });
            };
            count += check_chain(dma, inner, (len / 16) as u16, 0, true)?;
        } else if !dma.allowed(addr, len as u64) {
            return Err(ChainFault::BufferOutside { i, addr, len });
        }
        if flags & desc_flags::NEXT == 0 {
            return Ok(count);
        }
        i = next;
    }
}

/// Where `q`'s descriptor table and available ring are mapped, checked to
/// lie (with the used ring) inside the instance's DMA memory; cached in the
/// queue until its set-up or the DMA blocks change.
fn rings(dma: &Dma, dma_gen: u64, qi: u16, q: &mut Queue) -> Result<RingsAt, Refusal> {
    if let Some(r) = q.rings.filter(|r| r.dma_gen == dma_gen) {
        return Ok(r);
    }
    let n = q.size;
    if !q.desc.is_multiple_of(16) || !q.avail.is_multiple_of(2) || !q.used.is_multiple_of(4) {
        return Err(format!("queue {qi}: ring addresses are misaligned"));
    }
    let Some(desc) = dma.virt(q.desc, 16 * n as u64) else {
        return Err(format!(
            "queue {qi}: descriptor table 0x{:x} is not the driver's DMA memory",
            q.desc
        ));
    };
    let Some(avail) = dma.virt(q.avail, 4 + 2 * n as u64) else {
        return Err(format!(
            "queue {qi}: available ring 0x{:x} is not the driver's DMA memory",
            q.avail
        ));
    };
    let Some(used) = dma.virt(q.used, 4 + 8 * n as u64) else {
        return Err(format!(
            "queue {qi}: used ring 0x{:x} is not the driver's DMA memory",
            q.used
        ));
    };
    let r = RingsAt {
        dma_gen,
        desc,
        avail,
        used,
    };
    q.rings = Some(r);
    Ok(r)
}

/// Checks every entry made available on `q` since the last check.
fn check_queue(dma: &Dma, dma_gen: u64, qi: u16, q: &mut Queue) -> Result<u64, Refusal> {
    let n = q.size;
    if n == 0 {
        return Ok(0);
    }
    let at = rings(dma, dma_gen, qi, q)?;
    let idx = read_u16(at.avail + 2);
    let fresh = idx.wrapping_sub(q.checked_to);
    if fresh > n {
        return Err(format!(
            "queue {qi}: available index moved by {fresh}, more than the queue's {n} entries"
        ));
    }
    let mut checked = 0;
    // Split rings have power-of-two sizes (§2.7); any other size a driver
    // wrote is still checked, with a division.
    let mask = n.is_power_of_two().then(|| n - 1);
    for k in 0..fresh {
        let at_k = q.checked_to.wrapping_add(k);
        let slot = mask.map_or_else(|| at_k % n, |m| at_k & m);
        let head = read_u16(at.avail + 4 + 2 * slot as u64);
        checked += check_chain(dma, at.desc, n, head, false)
            .map_err(|e| format!("queue {qi}, chain {head}: {e}"))?;
    }
    q.checked_to = idx;
    Ok(checked)
}

/// What the shim does with a write: forward it, or refuse it with a reason.
///
/// One look at the instance's holdings classifies and applies the write in
/// the common case (a notification, any write once the transport is known);
/// only the first write (the capability walk) and a queue being enabled (its
/// size read from the device) need reads of the device outside the lock.
fn inspect(
    abi: &'static DdkAbi,
    id: u32,
    handle: u64,
    off: u64,
    value: u64,
    wide: bool,
) -> Result<bool, Refusal> {
    enum First {
        Done(Result<bool, Refusal>),
        Unknown(Option<PciAddress>),
        NeedsSize(Write),
    }
    let first = resources::with(id, |h| {
        if matches!(h.virtio.transport, Transport::Unknown) {
            return First::Unknown(h.device);
        }
        if h.virtio.notify_at == Some((handle, off)) {
            return First::Done(apply(h, Write::Notify(value as u16), None));
        }
        match classify(&h.virtio, handle, off, value, wide) {
            k @ Write::Notify(_) => {
                h.virtio.notify_at = Some((handle, off));
                First::Done(apply(h, k, None))
            }
            k @ (Write::Enable(true, _) | Write::LegacyPfn(1..)) => First::NeedsSize(k),
            k => First::Done(apply(h, k, None)),
        }
    });
    let kind = match first {
        None => return Ok(true),
        Some(First::Done(r)) => return r,
        Some(First::NeedsSize(k)) => k,
        Some(First::Unknown(device)) => {
            // Find out what the device is, once (configuration reads outside the lock).
            let t = device.map_or(Transport::Unchecked, |d| read_caps(abi, d));
            resources::with(id, |h| {
                h.virtio.transport = t;
                classify(&h.virtio, handle, off, value, wide)
            })
            .unwrap_or(Write::Other)
        }
    };
    // Reads of device registers happen before taking the lock again.
    let size_now = match kind {
        Write::Enable(true, size_off) => Some(device_queue_size(abi, handle, size_off)),
        Write::LegacyPfn(pfn) if pfn != 0 => Some(device_queue_size(
            abi,
            handle,
            legacy::QUEUE_SIZE.offset() as u64,
        )),
        _ => None,
    };
    resources::with(id, |h| apply(h, kind, size_now)).unwrap_or(Ok(true))
}

/// Applies a classified write to the instance's watch; for a notification,
/// checks what was made available. `size_now`: the queue size the device
/// reports, for writes that enable a queue. `Ok(true)`: forward the write;
/// `Ok(false)`: a notification the device asked not to get (see
/// [`wants_notification`]), checked and then dropped.
fn apply(h: &mut resources::Holdings, kind: Write, size_now: Option<u16>) -> Result<bool, Refusal> {
    let w = &mut h.virtio;
    let selected = w.selected;
    match kind {
        Write::Other => Ok(true),
        Write::Reset => {
            w.queues.clear();
            w.overflow = Queue::default();
            w.selected = 0;
            Ok(true)
        }
        Write::Select(q) => {
            w.selected = q;
            Ok(true)
        }
        Write::Size(n) => {
            let q = queue_mut(w, selected);
            q.size = n;
            q.rings = None;
            Ok(true)
        }
        Write::Addr(which, half, v) => {
            let q = queue_mut(w, selected);
            q.rings = None;
            let slot = match which {
                0 => &mut q.desc,
                1 => &mut q.avail,
                _ => &mut q.used,
            };
            *slot = match half {
                None => v,
                Some(false) => (*slot & !0xffff_ffff) | (v & 0xffff_ffff),
                Some(true) => (*slot & 0xffff_ffff) | (v << 32),
            };
            Ok(true)
        }
        Write::Enable(on, _) => {
            let q = queue_mut(w, selected);
            q.enabled = on;
            q.rings = None;
            if let Some(n) = size_now.filter(|&n| n != 0) {
                q.size = n;
            }
            // The device starts from avail.idx 0 (§2.7.13).
            q.checked_to = 0;
            Ok(true)
        }
        Write::LegacyPfn(pfn) => {
            let q = queue_mut(w, selected);
            q.enabled = pfn != 0;
            q.size = size_now.unwrap_or(0);
            let base = (pfn as u64) << legacy::PAGE_SHIFT;
            let layout = virtio::SplitRingLayout::new(q.size);
            q.desc = base;
            q.avail = base + layout.avail_offset as u64;
            q.used = base + layout.used_offset as u64;
            q.checked_to = 0;
            q.rings = None;
            Ok(true)
        }
        Write::Notify(queue) => notify(h, queue),
    }
}

/// A notification of `queue`: checks every entry made available on the
/// instance's enabled queues since the last one, then says whether the
/// device wants the notification (see [`apply`]'s `Ok` values).
fn notify(h: &mut resources::Holdings, queue: u16) -> Result<bool, Refusal> {
    let w = &mut h.virtio;
    if w.overflow.enabled {
        w.refused += 1;
        return Err(format!(
            "a queue past the {MAX_QUEUES} the guard follows was enabled"
        ));
    }
    let dma = Dma::new(&h.dma, &w.lent_phys, w.dma_hint);
    let dma_gen = w.dma_gen;
    // The used ring of the notified queue, for `wants_notification`.
    let mut used = None;
    for (qi, q) in w.queues.iter_mut() {
        if !q.enabled {
            continue;
        }
        match check_queue(&dma, dma_gen, *qi, q) {
            Ok(n) => w.checked += n,
            Err(e) => {
                w.refused += 1;
                return Err(e);
            }
        }
        if *qi == queue {
            used = q.rings.map(|r| r.used);
        }
    }
    w.dma_hint = dma.block_hint();
    let wanted = wants_notification(used);
    if !wanted {
        w.suppressed += 1;
    }
    Ok(wanted)
}

/// Whether the device wants the notification of `queue`: not when it set
/// VIRTQ_USED_F_NO_NOTIFY in the queue's used ring (§2.7.10), as QEMU does
/// while an iothread polls the available ring. The driver kicks after every
/// publication so that the guard sees each one; the suppression it would
/// otherwise apply itself (§2.7.13.4) is applied here, after the check. The
/// full fence orders the driver's avail.idx store before the flags load
/// (store->load is the one order x86 relaxes). `used`: where the notified
/// queue's used ring is mapped; `None` (a queue the guard does not follow,
/// or not enabled) is notified.
fn wants_notification(used: Option<u64>) -> bool {
    let Some(used) = used else {
        return true;
    };
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
    read_u16(used) & virtio::VIRTQ_USED_F_NO_NOTIFY == 0
}

/// Lends `(virt, len)` ranges (a request's buffers) to instance `id` for the
/// call about to run; an empty slice withdraws them (the call returned).
pub fn lend(id: u32, ranges: impl IntoIterator<Item = (u64, u64)>) {
    resources::with(id, |h| {
        h.virtio.lent_virt.clear();
        h.virtio.lent_virt.extend(ranges);
        h.virtio.lent_phys.clear();
        h.virtio.lent_hint = 0;
    });
}

/// `virt_to_phys` for managed drivers: forwarded; a translation inside a lent
/// buffer makes its physical range one the device may be pointed at.
pub(crate) unsafe extern "C" fn virt_to_phys(
    virt: *const u8,
    len: usize,
    out_phys: *mut u64,
    out_contiguous: *mut usize,
) -> u32 {
    let Some(abi) = resources::platform() else {
        return DdkError::Failed as u32;
    };
    // SAFETY: forwarded unchanged; the platform checks the out-pointers.
    let st = unsafe { (abi.virt_to_phys)(virt, len, out_phys, out_contiguous) };
    if st != STATUS_OK || out_phys.is_null() || out_contiguous.is_null() {
        return st;
    }
    let Some(id) = guard::current_instance() else {
        return st;
    };
    // SAFETY: the platform just wrote both through the caller's pointers.
    let (phys, n) = unsafe { (*out_phys, *out_contiguous as u64) };
    let v = virt as u64;
    resources::with(id, |h| {
        let w = &mut h.virtio;
        let Some(end) = v.checked_add(n) else { return };
        // A driver translates the lent buffers in order: look at the range
        // the last translation fell in, and the next, before all of them.
        let inside = |i: usize| {
            w.lent_virt
                .get(i)
                .is_some_and(|&(s, l)| v >= s && end <= s + l)
        };
        let hint = w.lent_hint;
        let found = if inside(hint) {
            Some(hint)
        } else if inside(hint + 1) {
            Some(hint + 1)
        } else {
            (0..w.lent_virt.len()).find(|&i| inside(i))
        };
        let Some(i) = found else { return };
        w.lent_hint = i;
        // One range for a buffer the platform translates a piece at a time
        // but that is contiguous (the guard then checks it in one step).
        match w.lent_phys.last_mut() {
            Some((p, len)) if *p + *len == phys => *len += n,
            _ => w.lent_phys.push((phys, n)),
        }
    });
    st
}

/// The shared body of the write shims.
fn write(
    handle: u64,
    off: u64,
    value: u64,
    wide: bool,
    forward: impl FnOnce(&DdkAbi) -> u32,
) -> u32 {
    let Some(abi) = resources::platform() else {
        return DdkError::Failed as u32;
    };
    let Some(id) = guard::current_instance() else {
        return forward(abi);
    };
    // The common case first: a notification written where the last one
    // was (`VirtioWatch::notify_at`), checked under one look at the holdings.
    let known = resources::with(id, |h| {
        let w = &h.virtio;
        let known =
            !matches!(w.transport, Transport::Unknown) && w.notify_at == Some((handle, off));
        known.then(|| notify(h, value as u16))
    })
    .flatten();
    let verdict = match known {
        Some(v) => v,
        None => inspect(abi, id, handle, off, value, wide),
    };
    match verdict {
        Ok(true) => forward(abi),
        Ok(false) => STATUS_OK,
        Err(why) => {
            let what = format!("DMA guard refused a queue notification: {why}");
            // Ends the guarded call (a driver fault); nothing owned is live
            // in this frame but `what`, which moves into the trap.
            guard::fail(Trap::Refused {
                what,
                rbp: guard::frame_pointer(),
                rsp: guard::stack_pointer(),
            });
            DdkError::InvalidArgument as u32
        }
    }
}

pub(crate) unsafe extern "C" fn mmio_write8(h: u64, off: u64, v: u8) -> u32 {
    // SAFETY: forwarded unchanged to the platform's entry.
    write(h, off, v as u64, false, |abi| unsafe {
        (abi.mmio_write8)(h, off, v)
    })
}
pub(crate) unsafe extern "C" fn mmio_write16(h: u64, off: u64, v: u16) -> u32 {
    // SAFETY: forwarded unchanged to the platform's entry.
    write(h, off, v as u64, false, |abi| unsafe {
        (abi.mmio_write16)(h, off, v)
    })
}
pub(crate) unsafe extern "C" fn mmio_write32(h: u64, off: u64, v: u32) -> u32 {
    // SAFETY: forwarded unchanged to the platform's entry.
    write(h, off, v as u64, false, |abi| unsafe {
        (abi.mmio_write32)(h, off, v)
    })
}
pub(crate) unsafe extern "C" fn mmio_write64(h: u64, off: u64, v: u64) -> u32 {
    // SAFETY: forwarded unchanged to the platform's entry.
    write(h, off, v, true, |abi| unsafe {
        (abi.mmio_write64)(h, off, v)
    })
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;

    const PHYS: u64 = 0x10_0000;
    const N: u16 = 8;
    const DESC: u64 = PHYS;
    const AVAIL: u64 = PHYS + 0x100;
    const USED: u64 = PHYS + 0x200;
    const BUF: u64 = PHYS + 0x1000;

    /// 64 KiB of 16-byte-aligned "DMA memory" at physical [`PHYS`].
    struct Mem(Vec<u128>);

    impl Mem {
        fn new() -> Mem {
            Mem(vec![0u128; 4096])
        }
        fn virt(&self) -> u64 {
            self.0.as_ptr() as u64
        }
        fn bytes(&mut self, phys: u64) -> *mut u8 {
            let off = (phys - PHYS) as usize;
            assert!(off < 65536);
            // SAFETY: inside the vector (checked above).
            unsafe { (self.0.as_mut_ptr() as *mut u8).add(off) }
        }
        fn desc(&mut self, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
            self.desc_in(DESC, i, addr, len, flags, next);
        }
        fn desc_in(&mut self, table: u64, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
            let p = self.bytes(table + 16 * i as u64);
            // SAFETY: 16 bytes inside the vector, 16-byte aligned.
            unsafe {
                (p as *mut u64).write(addr);
                (p.add(8) as *mut u32).write(len);
                (p.add(12) as *mut u16).write(flags);
                (p.add(14) as *mut u16).write(next);
            }
        }
        /// Makes `heads` available after the ones already there.
        fn publish(&mut self, heads: &[u16]) {
            let idx_p = self.bytes(AVAIL + 2) as *mut u16;
            // SAFETY: aligned u16s inside the vector.
            unsafe {
                let mut idx = idx_p.read();
                for &h in heads {
                    let slot = self.bytes(AVAIL + 4 + 2 * (idx % N) as u64) as *mut u16;
                    slot.write(h);
                    idx = idx.wrapping_add(1);
                }
                idx_p.write(idx);
            }
        }
    }

    fn queue() -> Queue {
        Queue {
            size: N,
            desc: DESC,
            avail: AVAIL,
            used: USED,
            enabled: true,
            checked_to: 0,
            rings: None,
        }
    }

    /// A virtio-blk request: header, data, status (§5.2.6).
    fn request(m: &mut Mem, head: u16, data: u64) {
        m.desc(head, BUF, 16, desc_flags::NEXT, head + 1);
        m.desc(
            head + 1,
            data,
            512,
            desc_flags::NEXT | desc_flags::WRITE,
            head + 2,
        );
        m.desc(head + 2, BUF + 16, 1, desc_flags::WRITE, 0);
    }

    #[test]
    fn chains_inside_dma_memory_pass_and_advance() {
        let mut m = Mem::new();
        let blocks = [(m.virt(), PHYS, 65536)];
        request(&mut m, 0, BUF + 512);
        request(&mut m, 3, BUF + 1024);
        m.publish(&[0, 3]);
        let mut q = queue();
        assert_eq!(check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut q), Ok(6));
        assert_eq!(q.checked_to, 2);
        // Nothing new: nothing checked.
        assert_eq!(check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut q), Ok(0));
    }

    #[test]
    fn a_buffer_outside_is_refused_until_the_queue_is_reset() {
        let mut m = Mem::new();
        let blocks = [(m.virt(), PHYS, 65536)];
        request(&mut m, 0, 0x0000_ffff_ffff_f000);
        m.publish(&[0]);
        let mut q = queue();
        let e = check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut q).unwrap_err();
        assert!(
            e.contains("descriptor 1: buffer 0xfffffffff000+512 is outside"),
            "{e}"
        );
        assert_eq!(q.checked_to, 0, "the bad entry stays unchecked");
        // A later, valid request does not get past it.
        request(&mut m, 3, BUF + 512);
        m.publish(&[3]);
        assert!(check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut q).is_err());
        // A buffer straddling the block's end is refused too.
        let mut m = Mem::new();
        let blocks = [(m.virt(), PHYS, 65536)];
        request(&mut m, 0, PHYS + 65536 - 256);
        m.publish(&[0]);
        assert!(check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut queue()).is_err());
    }

    #[test]
    fn lent_buffers_are_allowed_and_only_those() {
        let mut m = Mem::new();
        let blocks = [(m.virt(), PHYS, 65536)];
        let lent = [(0x4000_0000u64, 4096u64)];
        request(&mut m, 0, 0x4000_0200);
        m.publish(&[0]);
        assert_eq!(
            check_queue(&Dma::new(&blocks, &lent, 0), 0, 0, &mut queue()),
            Ok(3)
        );
        let mut m = Mem::new();
        let blocks = [(m.virt(), PHYS, 65536)];
        request(&mut m, 0, 0x4000_0f00);
        m.publish(&[0]);
        assert!(check_queue(&Dma::new(&blocks, &lent, 0), 0, 0, &mut queue()).is_err());
    }

    #[test]
    fn ring_placement_is_checked_again_when_the_dma_blocks_change() {
        let mut m = Mem::new();
        let blocks = [(m.virt(), PHYS, 65536)];
        request(&mut m, 0, BUF + 512);
        m.publish(&[0]);
        let mut q = queue();
        assert_eq!(check_queue(&Dma::new(&blocks, &[], 0), 7, 0, &mut q), Ok(3));
        assert!(q.rings.is_some(), "placement cached");
        // The block holding the rings went away (dma_free bumps the
        // generation): the rings are checked again, and refused.
        request(&mut m, 3, BUF + 1024);
        m.publish(&[3]);
        let e = check_queue(&Dma::new(&[], &[], 0), 8, 0, &mut q).unwrap_err();
        assert!(e.contains("descriptor table"), "{e}");
    }

    #[test]
    fn buffers_in_any_lent_range_pass_whatever_was_hit_before() {
        let mut m = Mem::new();
        let blocks = [(m.virt(), PHYS, 65536)];
        let lent = [
            (0x4000_0000u64, 4096u64),
            (0x5000_0000, 4096),
            (0x6000_0000, 4096),
        ];
        request(&mut m, 0, 0x6000_0000);
        request(&mut m, 3, 0x4000_0000);
        m.publish(&[0, 3]);
        let mut q = queue();
        assert_eq!(
            check_queue(&Dma::new(&blocks, &lent, 0), 0, 0, &mut q),
            Ok(6)
        );
        request(&mut m, 0, 0x5000_0800);
        request(&mut m, 3, 0x5000_0f00);
        m.publish(&[0, 3]);
        assert!(check_queue(&Dma::new(&blocks, &lent, 0), 0, 0, &mut q).is_err());
    }

    #[test]
    fn loops_bad_indices_and_runaway_indices_are_refused() {
        let mut m = Mem::new();
        let blocks = [(m.virt(), PHYS, 65536)];
        m.desc(0, BUF, 16, desc_flags::NEXT, 1);
        m.desc(1, BUF, 16, desc_flags::NEXT, 0);
        m.publish(&[0]);
        let e = check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut queue()).unwrap_err();
        assert!(e.contains("loops"), "{e}");

        let mut m = Mem::new();
        m.desc(0, BUF, 16, desc_flags::NEXT, 9);
        m.publish(&[0]);
        let blocks = [(m.virt(), PHYS, 65536)];
        let e = check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut queue()).unwrap_err();
        assert!(e.contains("index 9 outside a table of 8"), "{e}");

        let mut m = Mem::new();
        let blocks = [(m.virt(), PHYS, 65536)];
        m.publish(&[0; 9]);
        let e = check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut queue()).unwrap_err();
        assert!(e.contains("moved by 9"), "{e}");
    }

    #[test]
    fn rings_outside_dma_memory_are_refused() {
        let m = Mem::new();
        let blocks = [(m.virt(), PHYS, 65536)];
        for (field, what) in [
            (0, "descriptor table"),
            (1, "available ring"),
            (2, "used ring"),
        ] {
            let mut q = queue();
            match field {
                0 => q.desc = 0x2000_0000,
                1 => q.avail = 0x2000_0000,
                _ => q.used = 0x2000_0000,
            }
            let e = check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut q).unwrap_err();
            assert!(e.contains(what), "{e}");
        }
    }

    #[test]
    fn indirect_tables_are_walked_once_deep() {
        let mut m = Mem::new();
        let blocks = [(m.virt(), PHYS, 65536)];
        let table = PHYS + 0x3000;
        m.desc(0, table, 3 * 16, desc_flags::INDIRECT, 0);
        m.desc_in(table, 0, BUF, 16, desc_flags::NEXT, 1);
        m.desc_in(table, 1, BUF + 512, 512, desc_flags::NEXT, 2);
        m.desc_in(table, 2, BUF + 16, 1, 0, 0);
        m.publish(&[0]);
        assert_eq!(
            check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut queue()),
            Ok(4)
        );

        m.desc_in(table, 1, 0x7000_0000, 512, desc_flags::NEXT, 2);
        let e = check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut queue()).unwrap_err();
        assert!(e.contains("0x70000000+512"), "{e}");

        m.desc_in(table, 1, table, 16, desc_flags::INDIRECT, 0);
        let e = check_queue(&Dma::new(&blocks, &[], 0), 0, 0, &mut queue()).unwrap_err();
        assert!(e.contains("inside an indirect table"), "{e}");
    }
}
