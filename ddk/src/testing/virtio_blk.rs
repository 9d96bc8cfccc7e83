//! A virtio-blk device model (virtio 1.2 §5.2) on the fake PCI bus, in its
//! modern (§4.1.4, 1af4:1042) and legacy (§4.1.4.8, 1af4:1001 with an I/O
//! BAR0) forms, backed by a `Vec<u8>` or an image file.
//!
//! A notify write processes the queue synchronously, the way QEMU does it:
//! walk each new avail entry's chain, check it, move data, write the status
//! byte into the last byte of the last device-writable buffer, add a used
//! element `{id: head, len: bytes written}` and bump `used.idx`.
//! Driver mistakes (unmapped addresses, chains longer than the queue,
//! segments over `size_max`/`seg_max`, notifying before DRIVER_OK) are
//! recorded as [`VirtioBlkDevice::violations`] for tests to assert on.
//! Faults are injected one request at a time with [`VirtioBlkDevice::inject`].
//!
//! Modern BAR4 layout (64-bit, 16 KiB): common cfg at 0x0000, ISR at 0x1000,
//! device cfg at 0x2000, notify at 0x3000 with `notify_off_multiplier` 4 and
//! queue 0's `queue_notify_off` = 1, so a driver that ignores either writes
//! to the wrong place and is caught.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::rc::Rc;

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::IntoBytes;

use super::memory::{FakeMemory, MemKind};
use super::pci::{FakeBarKind, FakeConfigSpace};
use super::DeviceModel;
use crate::pci::{cap_id, PciAddress};
use crate::virtio::{
    self, blk_status, cfg_type, desc_flags, features as f, req_type, status, VirtioBlkConfig,
};
use crate::wire::Width;

/// Requests a polling device takes before it pauses for a notification
/// ([`VirtioBlkDevice::poll_rings`]): more than a queue's worth.
pub const POLL_STRETCH: u32 = 300;

const MODERN_BAR: u8 = 4;
const MODERN_BAR_ADDR: u64 = 0xfe00_0000;
const MODERN_BAR_SIZE: u64 = 0x4000;
const COMMON_OFF: u64 = 0x0000;
const ISR_OFF: u64 = 0x1000;
const DEVICE_OFF: u64 = 0x2000;
const NOTIFY_OFF: u64 = 0x3000;
const NOTIFY_MULTIPLIER: u32 = 4;
const QUEUE0_NOTIFY_OFF: u16 = 1;
const LEGACY_PORT: u16 = 0xc040;
const LEGACY_BAR_SIZE: u64 = 0x40;

/// Where the sectors live.
#[derive(Debug)]
pub enum Backing {
    Memory(Vec<u8>),
    File(File),
}

/// Device shape and the features it offers.
#[derive(Clone, Debug)]
pub struct BlkOptions {
    /// Legacy (1af4:1001, I/O BAR0, no VERSION_1) instead of modern (1af4:1042).
    pub legacy: bool,
    /// Transitional (QEMU's default): 1af4:1001 with the legacy I/O BAR0
    /// *and* the modern capabilities; ignored when `legacy` is set.
    pub transitional: bool,
    /// Offer VIRTIO_BLK_F_RO and refuse writes with IOERR.
    pub read_only: bool,
    /// Offer VIRTIO_BLK_F_FLUSH.
    pub flush: bool,
    /// Offer VIRTIO_BLK_F_BLK_SIZE with this value.
    pub blk_size: Option<u32>,
    /// Offer VIRTIO_BLK_F_SIZE_MAX with this value (enforced per segment).
    pub size_max: Option<u32>,
    /// Offer VIRTIO_BLK_F_SEG_MAX with this value (enforced per request).
    pub seg_max: Option<u32>,
    /// Maximum (modern) or fixed (legacy) queue size.
    pub queue_size: u16,
    /// Further feature bits offered that a driver should leave alone.
    pub extra_features: u64,
}

impl Default for BlkOptions {
    fn default() -> Self {
        BlkOptions {
            legacy: false,
            transitional: false,
            read_only: false,
            flush: true,
            blk_size: Some(512),
            size_max: None,
            seg_max: Some(126),
            queue_size: 128,
            extra_features: f::EVENT_IDX | f::INDIRECT_DESC | f::BLK_TOPOLOGY,
        }
    }
}

/// A fault applied to the next request that reaches the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Status VIRTIO_BLK_S_IOERR, no data moved.
    IoErr,
    /// Status VIRTIO_BLK_S_UNSUPP.
    Unsupp,
    /// The request completes with a used id outside the queue.
    BogusUsedId,
    /// The request completes with an in-range id that is not its head.
    StaleUsedId,
    /// The used length exceeds what the chain could hold.
    BogusUsedLen,
    /// The status byte is not a defined status.
    BadStatusByte,
    /// The request is taken from the avail ring and never completed.
    NeverComplete,
    /// Nothing: the request is served normally (to aim a later fault at a
    /// later request).
    Pass,
    /// The request completes with the id of the completion before it (a
    /// used id repeated; its own head, if it is the first completion).
    RepeatUsedId,
    /// Status VIRTIO_BLK_S_OK, but no data moved and a used length covering
    /// only the status byte: a transfer the device claims and did not do
    /// (§2.7.8: the driver must not use data past `len`).
    ShortOk,
}

/// What the device saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlkStats {
    pub notifies: u64,
    pub requests: u64,
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
    pub resets: u64,
    /// Largest number of data segments in one request.
    pub max_segments: u32,
    /// Largest single data segment.
    pub max_segment_len: u32,
    /// Data segments that pointed into `dma_alloc` memory (bounce buffers).
    pub segments_in_dma_alloc: u64,
    /// Data segments that pointed into translated caller buffers (zero-copy).
    pub segments_in_caller_buffers: u64,
    pub driver_features: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Queue {
    size: u16,
    enabled: bool,
    desc: u64,
    driver: u64,
    device: u64,
    last_avail: u16,
    used_idx: u16,
}

#[derive(Debug)]
struct Model {
    opts: BlkOptions,
    backing: Backing,
    capacity: u64,
    offered: u64,
    status: u8,
    driver_features: u64,
    dfsel: u32,
    drfsel: u32,
    queue_select: u16,
    queue: Queue,
    isr: u8,
    /// MSI-X entry queue 0 interrupts through (NO_VECTOR: none).
    queue_vector: u16,
    /// The device raised an interrupt (a completion) not yet taken by the
    /// platform's `irq_wait` ([`DeviceModel::take_interrupt`]).
    irq_raised: bool,
    /// Notifications are processed only when the platform waits for the
    /// interrupt (a device that takes its time); see [`VirtioBlkDevice::defer_completions`].
    deferred: bool,
    /// A notification arrived while `deferred`.
    kicked: bool,
    /// The device polls the available ring and asks for no notifications
    /// (see [`VirtioBlkDevice::poll_rings`]).
    polling: bool,
    /// Polling paused until the next notification (notifications wanted).
    poll_paused: bool,
    /// Requests taken by polling since the last pause.
    polled: u32,
    faults: VecDeque<Fault>,
    /// The id of the last used element written ([`Fault::RepeatUsedId`]).
    last_used_id: Option<u32>,
    /// Arbitrary answers (fuzzing): register reads and completions consult
    /// this byte stream, see [`VirtioBlkDevice::chaos`].
    chaos: Option<VecDeque<u8>>,
    stats: BlkStats,
    violations: Vec<String>,
}

/// A shareable handle on one device model: install it on the fake bus, then
/// inject faults and inspect the image and statistics from the test.
#[derive(Clone, Debug)]
pub struct VirtioBlkDevice(Rc<RefCell<Model>>);

impl VirtioBlkDevice {
    /// A device over an in-memory image (its length is rounded down to 512).
    pub fn new(image: Vec<u8>, opts: BlkOptions) -> Self {
        let capacity = image.len() as u64 / 512;
        Self::build(Backing::Memory(image), capacity, opts)
    }

    /// A device over an image file (opened read-write unless `read_only`).
    pub fn open(path: &std::path::Path, opts: BlkOptions) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(!opts.read_only)
            .open(path)?;
        let capacity = file.metadata()?.len() / 512;
        Ok(Self::build(Backing::File(file), capacity, opts))
    }

    fn build(backing: Backing, capacity: u64, opts: BlkOptions) -> Self {
        let mut offered = opts.extra_features;
        if !opts.legacy {
            offered |= f::VERSION_1;
        }
        if opts.read_only {
            offered |= f::BLK_RO;
        }
        if opts.flush {
            offered |= f::BLK_FLUSH;
        }
        if opts.blk_size.is_some() {
            offered |= f::BLK_BLK_SIZE;
        }
        if opts.size_max.is_some() {
            offered |= f::BLK_SIZE_MAX;
        }
        if opts.seg_max.is_some() {
            offered |= f::BLK_SEG_MAX;
        }
        if opts.legacy {
            offered &= 0xffff_ffff;
        }
        VirtioBlkDevice(Rc::new(RefCell::new(Model {
            opts,
            backing,
            capacity,
            offered,
            status: 0,
            driver_features: 0,
            dfsel: 0,
            drfsel: 0,
            queue_select: 0,
            queue: Queue::default(),
            isr: 0,
            queue_vector: 0xffff,
            irq_raised: false,
            deferred: false,
            kicked: false,
            polling: false,
            poll_paused: false,
            polled: 0,
            faults: VecDeque::new(),
            last_used_id: None,
            chaos: None,
            stats: BlkStats::default(),
            violations: Vec::new(),
        })))
    }

    /// Puts the device on the fake bus at `addr` with its config space.
    pub fn install(&self, addr: PciAddress) {
        let m = self.0.borrow();
        let (legacy, transitional) = (m.opts.legacy, m.opts.transitional && !m.opts.legacy);
        let id = if legacy || transitional {
            virtio::VIRTIO_BLK_TRANSITIONAL_ID
        } else {
            virtio::VIRTIO_BLK_MODERN_ID
        };
        let mut c = FakeConfigSpace::new(virtio::VIRTIO_VENDOR_ID, id, 0x01, 0x00, 0);
        c.set_u16(
            crate::pci::reg::SUBSYSTEM_VENDOR_ID,
            virtio::VIRTIO_VENDOR_ID,
        );
        if legacy || transitional {
            // Transitional ids name the device type in the subsystem id (§4.1.2.1).
            c.set_u16(
                crate::pci::reg::SUBSYSTEM_ID,
                virtio::VIRTIO_DEVICE_TYPE_BLOCK,
            );
            c.set_bar(0, FakeBarKind::Io, LEGACY_BAR_SIZE, LEGACY_PORT as u64);
        } else {
            c.set_u8(crate::pci::reg::REVISION, 1);
            c.set_u16(crate::pci::reg::SUBSYSTEM_ID, 0x1100);
        }
        if !legacy {
            c.set_bar(
                MODERN_BAR as usize,
                FakeBarKind::Memory64 { prefetchable: true },
                MODERN_BAR_SIZE,
                MODERN_BAR_ADDR,
            );
            // An MSI-X capability first, so the walk has to skip a non-virtio entry.
            c.add_capability(cap_id::MSIX, &[0x00, 0x00, 0x01, 0, 0, 0, 0x01, 0x08, 0, 0]);
            let vcap = |ty: u8, off: u64, len: u32| -> Vec<u8> {
                let mut v = vec![16, ty, MODERN_BAR, 0, 0, 0];
                v.extend_from_slice(&(off as u32).to_le_bytes());
                v.extend_from_slice(&len.to_le_bytes());
                v
            };
            // A PCI-cfg-access capability the driver must skip.
            let mut pci_cfg = vcap(cfg_type::PCI, 0, 0);
            pci_cfg[0] = 20;
            pci_cfg.extend_from_slice(&[0; 4]);
            c.add_capability(cap_id::VENDOR_SPECIFIC, &pci_cfg);
            c.add_capability(
                cap_id::VENDOR_SPECIFIC,
                &vcap(cfg_type::COMMON, COMMON_OFF, 0x3c),
            );
            c.add_capability(cap_id::VENDOR_SPECIFIC, &vcap(cfg_type::ISR, ISR_OFF, 1));
            c.add_capability(
                cap_id::VENDOR_SPECIFIC,
                &vcap(cfg_type::DEVICE, DEVICE_OFF, 72),
            );
            let mut notify = vcap(cfg_type::NOTIFY, NOTIFY_OFF, 0x1000);
            notify[0] = 20;
            notify.extend_from_slice(&NOTIFY_MULTIPLIER.to_le_bytes());
            c.add_capability(cap_id::VENDOR_SPECIFIC, &notify);
        }
        let cfg = c;
        drop(m);
        super::add_function(addr, cfg, Box::new(self.clone()));
    }

    /// Queues a fault for the next request (faults apply in order).
    /// A device that answers with arbitrary values, as `bytes` decide: each
    /// register read takes one byte and, for about one in five, answers with
    /// the next eight bytes instead of the truth (device and queue sizes,
    /// features, status, config fields, ISR); each completion takes one byte
    /// and may be dropped, or carry an arbitrary used id, used length,
    /// status byte or used index. When the bytes run out the device is
    /// honest again. For fuzzing drivers (`virtio_blk::fuzzing`).
    pub fn chaos(&self, bytes: &[u8]) {
        self.0.borrow_mut().chaos = Some(bytes.iter().copied().collect());
    }

    /// Completes requests only when the platform waits for the interrupt
    /// (`irq_wait`), as a real device finishes later than the kick: a
    /// driver that polls without waiting never sees them.
    pub fn defer_completions(&self) {
        self.0.borrow_mut().deferred = true;
    }

    /// Polls the available ring as QEMU's virtio-blk does when an iothread
    /// serves it: VIRTQ_USED_F_NO_NOTIFY set in the used ring (§2.7.10), and
    /// new entries taken whenever the platform's clock is read, notified or
    /// not. Like QEMU's adaptive polling, it stops now and then (after
    /// [`POLL_STRETCH`] requests): the flag is cleared until the next
    /// notification, which is processed (and counted) and starts polling
    /// again.
    pub fn poll_rings(&self) {
        self.0.borrow_mut().polling = true;
    }

    pub fn inject(&self, fault: Fault) {
        self.0.borrow_mut().faults.push_back(fault);
    }

    /// A copy of the in-memory image (empty for file backing).
    pub fn image(&self) -> Vec<u8> {
        match &self.0.borrow().backing {
            Backing::Memory(v) => v.clone(),
            Backing::File(_) => Vec::new(),
        }
    }

    pub fn stats(&self) -> BlkStats {
        self.0.borrow().stats.clone()
    }

    /// Protocol violations by the driver, in order.
    pub fn violations(&self) -> Vec<String> {
        self.0.borrow().violations.clone()
    }

    /// The device status register.
    pub fn status(&self) -> u8 {
        self.0.borrow().status
    }

    /// Capacity in 512-byte sectors.
    pub fn capacity(&self) -> u64 {
        self.0.borrow().capacity
    }

    /// Changes the capacity the device reports from now on (a disk resized
    /// under the driver, or a device that lies after a reset); requests are
    /// bounded by the new value. Panics above the backing's own size: the
    /// model never invents sectors.
    pub fn set_capacity(&self, sectors: u64) {
        let mut m = self.0.borrow_mut();
        let backing = match &m.backing {
            Backing::Memory(v) => v.len() as u64 / 512,
            Backing::File(f) => f.metadata().map_or(0, |md| md.len() / 512),
        };
        assert!(
            sectors <= backing,
            "set_capacity({sectors}) beyond the backing's {backing} sectors"
        );
        m.capacity = sectors;
    }
}

impl DeviceModel for VirtioBlkDevice {
    fn take_interrupt(&mut self, mem: &mut FakeMemory) -> bool {
        let mut m = self.0.borrow_mut();
        if core::mem::take(&mut m.kicked) {
            m.process_now(mem);
        }
        core::mem::take(&mut m.irq_raised)
    }

    fn poll(&mut self, mem: &mut FakeMemory) {
        let mut m = self.0.borrow_mut();
        let q = m.queue;
        if !m.polling
            || m.poll_paused
            || m.status & status::DRIVER_OK == 0
            || !q.enabled
            || q.size == 0
        {
            return;
        }
        mem.write_u16(q.device, virtio::VIRTQ_USED_F_NO_NOTIFY);
        let Some(avail) = mem.read_u16(q.driver + 2) else {
            return;
        };
        if avail == q.last_avail {
            return;
        }
        m.polled += avail.wrapping_sub(q.last_avail) as u32;
        m.process_now(mem);
        if m.polled >= POLL_STRETCH {
            m.polled = 0;
            m.poll_paused = true;
            mem.write_u16(q.device, 0);
        }
    }

    fn bar_read(&mut self, bar: u8, offset: u64, width: Width, _mem: &mut FakeMemory) -> u64 {
        let mut m = self.0.borrow_mut();
        let legacy_bar0 = m.opts.legacy || m.opts.transitional;
        let real = if bar == 0 && legacy_bar0 {
            m.legacy_read(offset, width)
        } else if bar == MODERN_BAR && !m.opts.legacy {
            m.modern_read(offset, width)
        } else {
            all_ones(width)
        };
        m.chaos_value(real, width)
    }

    fn bar_write(&mut self, bar: u8, offset: u64, width: Width, value: u64, mem: &mut FakeMemory) {
        let mut m = self.0.borrow_mut();
        let legacy_bar0 = m.opts.legacy || m.opts.transitional;
        if bar == 0 && legacy_bar0 {
            m.legacy_write(offset, width, value, mem);
        } else if bar == MODERN_BAR && !m.opts.legacy {
            m.modern_write(offset, width, value, mem);
        }
    }
}

fn all_ones(w: Width) -> u64 {
    u64::MAX >> (64 - 8 * w.bytes() as u32)
}

fn slice_read(bytes: &[u8], off: usize, w: Width) -> u64 {
    let mut v = 0u64;
    for i in 0..w.bytes() {
        v |= (*bytes.get(off + i).unwrap_or(&0) as u64) << (8 * i);
    }
    v
}

impl Model {
    fn blk_config(&self) -> VirtioBlkConfig {
        VirtioBlkConfig {
            capacity: U64::new(self.capacity),
            size_max: U32::new(self.opts.size_max.unwrap_or(0)),
            seg_max: U32::new(self.opts.seg_max.unwrap_or(0)),
            blk_size: U32::new(self.opts.blk_size.unwrap_or(512)),
            num_queues: U16::new(1),
            ..Default::default()
        }
    }

    fn reset(&mut self) {
        self.status = 0;
        self.driver_features = 0;
        self.queue = Queue::default();
        self.queue_select = 0;
        self.isr = 0;
        self.queue_vector = 0xffff;
        self.irq_raised = false;
        self.last_used_id = None;
        self.stats.resets += 1;
    }

    fn set_status(&mut self, v: u8) {
        if v == 0 {
            self.reset();
            return;
        }
        let mut v = v;
        if v & status::FEATURES_OK != 0 && self.status & status::FEATURES_OK == 0 {
            let ok = self.driver_features & !self.offered == 0
                && (self.opts.legacy || self.driver_features & f::VERSION_1 != 0);
            if !ok {
                v &= !status::FEATURES_OK;
                self.violations.push(format!(
                    "features {:#x} rejected (offered {:#x})",
                    self.driver_features, self.offered
                ));
            }
        }
        if v & status::DRIVER_OK != 0 && self.status & status::DRIVER_OK == 0 {
            self.stats.driver_features = self.driver_features;
        }
        self.status = v;
    }

    fn max_queue(&self) -> u16 {
        self.opts.queue_size
    }

    fn modern_read(&mut self, offset: u64, w: Width) -> u64 {
        if offset < ISR_OFF {
            let q = &self.queue;
            let sel0 = self.queue_select == 0;
            let cfg = virtio::VirtioPciCommonCfg {
                device_feature_select: U32::new(self.dfsel),
                device_feature: U32::new(match self.dfsel {
                    0 => self.offered as u32,
                    1 => (self.offered >> 32) as u32,
                    _ => 0,
                }),
                driver_feature_select: U32::new(self.drfsel),
                driver_feature: U32::new(match self.drfsel {
                    0 => self.driver_features as u32,
                    1 => (self.driver_features >> 32) as u32,
                    _ => 0,
                }),
                config_msix_vector: U16::new(0xffff),
                num_queues: U16::new(1),
                device_status: self.status,
                config_generation: 0,
                queue_select: U16::new(self.queue_select),
                queue_size: U16::new(if sel0 {
                    if q.size == 0 {
                        self.max_queue()
                    } else {
                        q.size
                    }
                } else {
                    0
                }),
                queue_msix_vector: U16::new(if sel0 { self.queue_vector } else { 0xffff }),
                queue_enable: U16::new((sel0 && q.enabled) as u16),
                queue_notify_off: U16::new(if sel0 { QUEUE0_NOTIFY_OFF } else { 0 }),
                queue_desc: U64::new(if sel0 { q.desc } else { 0 }),
                queue_driver: U64::new(if sel0 { q.driver } else { 0 }),
                queue_device: U64::new(if sel0 { q.device } else { 0 }),
                queue_notif_config_data: U16::new(0),
                queue_reset: U16::new(0),
            };
            slice_read(cfg.as_bytes(), offset as usize, w)
        } else if offset < DEVICE_OFF {
            if offset == ISR_OFF {
                let v = self.isr;
                self.isr = 0;
                v as u64
            } else {
                0
            }
        } else if offset < NOTIFY_OFF {
            slice_read(
                self.blk_config().as_bytes(),
                (offset - DEVICE_OFF) as usize,
                w,
            )
        } else {
            0
        }
    }

    fn modern_write(&mut self, offset: u64, w: Width, value: u64, mem: &mut FakeMemory) {
        use core::mem::offset_of;
        use virtio::VirtioPciCommonCfg as C;
        if offset >= NOTIFY_OFF {
            self.stats.notifies += 1;
            let expect = NOTIFY_OFF + QUEUE0_NOTIFY_OFF as u64 * NOTIFY_MULTIPLIER as u64;
            if offset == expect && w == Width::U16 && value == 0 {
                self.process(mem);
            } else {
                self.violations
                    .push(format!("notify write {value:#x} ({w:?}) at BAR offset {offset:#x}, expected 0 at {expect:#x}"));
            }
            return;
        }
        if offset >= ISR_OFF {
            self.violations
                .push(format!("write to read-only BAR offset {offset:#x}"));
            return;
        }
        let off = offset as usize;
        let v32 = value as u32;
        let sel0 = self.queue_select == 0;
        let set_half = |field: &mut u64, hi: bool, v: u32| {
            if hi {
                *field = (*field & 0xffff_ffff) | (v as u64) << 32;
            } else {
                *field = (*field & !0xffff_ffff) | v as u64;
            }
        };
        match off {
            o if o == offset_of!(C, device_feature_select) => self.dfsel = v32,
            o if o == offset_of!(C, driver_feature_select) => self.drfsel = v32,
            o if o == offset_of!(C, driver_feature) => {
                let mut df = self.driver_features;
                match self.drfsel {
                    0 => set_half(&mut df, false, v32),
                    1 => set_half(&mut df, true, v32),
                    _ => {}
                }
                self.driver_features = df;
            }
            o if o == offset_of!(C, device_status) => self.set_status(value as u8),
            o if o == offset_of!(C, queue_select) => self.queue_select = value as u16,
            o if o == offset_of!(C, queue_size) && sel0 => {
                let s = value as u16;
                if s == 0 || s > self.max_queue() {
                    self.violations
                        .push(format!("queue_size {s} outside 1..={}", self.max_queue()));
                } else {
                    self.queue.size = s;
                }
            }
            o if o == offset_of!(C, queue_enable) && sel0 => {
                if self.queue.size == 0 {
                    self.queue.size = self.max_queue();
                }
                self.queue.enabled = value & 1 == 1;
            }
            o if (offset_of!(C, queue_desc)..offset_of!(C, queue_notif_config_data))
                .contains(&o)
                && sel0 =>
            {
                let base = offset_of!(C, queue_desc);
                let idx = (o - base) / 8;
                let hi = (o - base) % 8 == 4;
                let field = match idx {
                    0 => &mut self.queue.desc,
                    1 => &mut self.queue.driver,
                    _ => &mut self.queue.device,
                };
                if w == Width::U64 {
                    *field = value;
                } else {
                    set_half(field, hi, v32);
                }
            }
            o if o == offset_of!(C, queue_msix_vector) => {
                // One MSI-X entry per queue at most (the capability has 2).
                if self.queue_select == 0 {
                    self.queue_vector = if value < 2 { value as u16 } else { 0xffff };
                }
            }
            o if o == offset_of!(C, config_msix_vector) => {}
            _ => self
                .violations
                .push(format!("write {value:#x} to common cfg offset {off:#x}")),
        }
    }

    fn legacy_read(&mut self, offset: u64, w: Width) -> u64 {
        let q = self.queue;
        match offset {
            0x00 => self.offered & 0xffff_ffff,
            0x04 => self.driver_features & 0xffff_ffff,
            0x08 => (q.desc >> virtio::legacy::PAGE_SHIFT) & 0xffff_ffff,
            0x0c if self.queue_select == 0 => self.max_queue() as u64,
            0x0c => 0,
            0x0e => self.queue_select as u64,
            0x10 => 0,
            0x12 => self.status as u64,
            0x13 => {
                let v = self.isr;
                self.isr = 0;
                v as u64
            }
            o if o >= virtio::legacy::DEVICE_CONFIG as u64 => slice_read(
                self.blk_config().as_bytes(),
                (o - virtio::legacy::DEVICE_CONFIG as u64) as usize,
                w,
            ),
            _ => 0,
        }
    }

    fn legacy_write(&mut self, offset: u64, w: Width, value: u64, mem: &mut FakeMemory) {
        match offset {
            0x04 => self.driver_features = value & 0xffff_ffff,
            0x08 => {
                if self.queue_select != 0 {
                    return;
                }
                let pfn = value & 0xffff_ffff;
                if pfn == 0 {
                    self.queue = Queue::default();
                    return;
                }
                let size = self.max_queue();
                let l = virtio::SplitRingLayout::new(size);
                let base = pfn << virtio::legacy::PAGE_SHIFT;
                self.queue = Queue {
                    size,
                    enabled: true,
                    desc: base,
                    driver: base + l.avail_offset as u64,
                    device: base + l.used_offset as u64,
                    last_avail: 0,
                    used_idx: 0,
                };
            }
            0x0e => self.queue_select = value as u16,
            0x10 => {
                self.stats.notifies += 1;
                if value == 0 && w == Width::U16 {
                    self.process(mem);
                } else {
                    self.violations
                        .push(format!("legacy notify {value:#x} ({w:?})"));
                }
            }
            0x12 => self.set_status(value as u8),
            _ => self
                .violations
                .push(format!("legacy write {value:#x} at {offset:#x}")),
        }
    }

    /// A notification: processed at once, or (deferred) when the platform
    /// next waits for the interrupt.
    fn process(&mut self, mem: &mut FakeMemory) {
        if self.polling && self.queue.enabled {
            // A kick restarts polling: notifications off again.
            self.poll_paused = false;
            mem.write_u16(self.queue.device, virtio::VIRTQ_USED_F_NO_NOTIFY);
        }
        if self.deferred {
            self.kicked = true;
        } else {
            self.process_now(mem);
        }
    }

    /// Processes every new avail entry of queue 0 (§2.7.13 device side).
    fn process_now(&mut self, mem: &mut FakeMemory) {
        if self.status & status::DRIVER_OK == 0 {
            self.violations.push("notify before DRIVER_OK".into());
            return;
        }
        let q = self.queue;
        if !q.enabled || q.size == 0 {
            self.violations
                .push("notify on a queue that is not enabled".into());
            return;
        }
        let Some(avail_idx) = mem.read_u16(q.driver + 2) else {
            self.violations
                .push(format!("avail ring at {:#x} is not mapped", q.driver));
            return;
        };
        if avail_idx.wrapping_sub(q.last_avail) > q.size {
            self.violations.push(format!(
                "avail.idx {avail_idx} is more than a queue ahead of {}",
                q.last_avail
            ));
            return;
        }
        while self.queue.last_avail != avail_idx {
            let slot = self.queue.last_avail % q.size;
            self.queue.last_avail = self.queue.last_avail.wrapping_add(1);
            let Some(head) = mem.read_u16(q.driver + 4 + 2 * slot as u64) else {
                self.violations.push("avail ring entry unmapped".into());
                return;
            };
            self.handle_chain(head, mem);
        }
    }

    fn handle_chain(&mut self, head: u16, mem: &mut FakeMemory) {
        let q = self.queue;
        if head >= q.size {
            self.violations
                .push(format!("avail head {head} >= queue size {}", q.size));
            return;
        }
        let mut descs = Vec::new();
        let mut idx = head;
        loop {
            if descs.len() >= q.size as usize {
                self.violations
                    .push(format!("descriptor chain from {head} loops"));
                return;
            }
            let mut raw = [0u8; 16];
            if !mem.read(q.desc + 16 * idx as u64, &mut raw) {
                self.violations.push("descriptor table unmapped".into());
                return;
            }
            let addr = u64::from_le_bytes(raw[0..8].try_into().unwrap_or_default());
            let len = u32::from_le_bytes(raw[8..12].try_into().unwrap_or_default());
            let flags = u16::from_le_bytes([raw[12], raw[13]]);
            let next = u16::from_le_bytes([raw[14], raw[15]]);
            if flags & desc_flags::INDIRECT != 0 {
                self.violations
                    .push("indirect descriptor without VIRTIO_F_INDIRECT_DESC".into());
                return;
            }
            descs.push((addr, len, flags));
            if flags & desc_flags::NEXT == 0 {
                break;
            }
            if next >= q.size {
                self.violations
                    .push(format!("descriptor next {next} out of range"));
                return;
            }
            idx = next;
        }
        self.stats.requests += 1;
        let fault = self.faults.pop_front();
        if fault == Some(Fault::NeverComplete) {
            return;
        }
        let writable: u32 = descs
            .iter()
            .filter(|d| d.2 & desc_flags::WRITE != 0)
            .map(|d| d.1)
            .fold(0u32, |a, b| a.saturating_add(b));
        // IOERR/UNSUPP faults answer without moving any data.
        let (st, data_written) = match fault {
            Some(Fault::IoErr) => (blk_status::IOERR, 0),
            Some(Fault::Unsupp) => (blk_status::UNSUPP, 0),
            Some(Fault::ShortOk) => (blk_status::OK, 0),
            _ => match self.execute(&descs, mem) {
                Err(msg) => {
                    self.violations.push(msg);
                    (blk_status::IOERR, 0)
                }
                Ok(r) => r,
            },
        };
        let st = if fault == Some(Fault::BadStatusByte) {
            0x7f
        } else {
            st
        };
        let Some(&(saddr, slen, sflags)) = descs.last() else {
            return;
        };
        if sflags & desc_flags::WRITE == 0
            || slen == 0
            || !mem.write(saddr + slen as u64 - 1, &[st])
        {
            self.violations
                .push("status descriptor missing, read-only or unmapped".into());
            return;
        }
        let mut id = head as u32;
        let mut len = data_written + 1;
        match fault {
            Some(Fault::BogusUsedId) => id = q.size as u32 + 7,
            Some(Fault::StaleUsedId) => id = (head as u32 + 1) % q.size as u32,
            Some(Fault::BogusUsedLen) => len = writable.saturating_add(0x1000),
            Some(Fault::RepeatUsedId) => id = self.last_used_id.unwrap_or(id),
            _ => {}
        }
        let mut skip = 0u16;
        if let Some(b) = self.chaos_byte() {
            let arbitrary =
                |m: &mut Self| u32::from_le_bytes([0; 4].map(|_| m.chaos_byte().unwrap_or(0xff)));
            match b % 12 {
                0 => return, // never completed
                1 => id = arbitrary(self),
                2 => len = arbitrary(self),
                3 => {
                    let st = arbitrary(self) as u8;
                    mem.write(saddr + slen as u64 - 1, &[st]);
                }
                4 => skip = arbitrary(self) as u16,
                _ => {}
            }
        }
        let slot = self.queue.used_idx % q.size;
        let mut elem = [0u8; 8];
        elem[..4].copy_from_slice(&id.to_le_bytes());
        elem[4..].copy_from_slice(&len.to_le_bytes());
        if !mem.write(q.device + 4 + 8 * slot as u64, &elem) {
            self.violations.push("used ring unmapped".into());
            return;
        }
        self.last_used_id = Some(id);
        self.queue.used_idx = self.queue.used_idx.wrapping_add(1).wrapping_add(skip);
        mem.write_u16(q.device + 2, self.queue.used_idx);
        self.isr |= 1;
        // The interrupt callback: INTx on a legacy device, the queue's MSI-X
        // vector on a modern one (none when it has no vector).
        if self.opts.legacy || self.queue_vector != 0xffff {
            self.irq_raised = true;
        }
    }

    fn chaos_byte(&mut self) -> Option<u8> {
        self.chaos.as_mut()?.pop_front()
    }

    /// `real`, or (in chaos mode, about one read in five) arbitrary bits.
    fn chaos_value(&mut self, real: u64, w: Width) -> u64 {
        match self.chaos_byte() {
            Some(b) if b < 52 => {
                let v = (0..8).fold(0u64, |v, i| {
                    v | u64::from(self.chaos_byte().unwrap_or(0xff)) << (8 * i)
                });
                v & all_ones(w)
            }
            _ => real,
        }
    }

    /// Runs one request; `Err` is a driver protocol violation (answered IOERR).
    fn execute(
        &mut self,
        descs: &[(u64, u32, u16)],
        mem: &mut FakeMemory,
    ) -> Result<(u8, u32), String> {
        if descs.len() < 2 {
            return Err(format!("request chain of {} descriptors", descs.len()));
        }
        let (haddr, hlen, hflags) = descs[0];
        if hflags & desc_flags::WRITE != 0 || hlen < 16 {
            return Err("header descriptor writable or shorter than 16 bytes".into());
        }
        let mut hdr = [0u8; 16];
        if !mem.read(haddr, &mut hdr) {
            return Err(format!("header at {haddr:#x} unmapped"));
        }
        let ty = u32::from_le_bytes(hdr[0..4].try_into().unwrap_or_default());
        let sector = u64::from_le_bytes(hdr[8..16].try_into().unwrap_or_default());
        let data = &descs[1..descs.len() - 1];
        let data_len: u64 = data.iter().map(|d| d.1 as u64).sum();
        let negotiated = self.driver_features;
        if negotiated & f::BLK_SEG_MAX != 0 {
            if let Some(max) = self.opts.seg_max {
                if data.len() as u32 > max {
                    return Err(format!("{} data segments > seg_max {max}", data.len()));
                }
            }
        }
        if negotiated & f::BLK_SIZE_MAX != 0 {
            if let Some(max) = self.opts.size_max {
                if let Some(d) = data.iter().find(|d| d.1 > max) {
                    return Err(format!("segment of {} bytes > size_max {max}", d.1));
                }
            }
        }
        self.stats.max_segments = self.stats.max_segments.max(data.len() as u32);
        for d in data {
            self.stats.max_segment_len = self.stats.max_segment_len.max(d.1);
            match mem.resolve(d.0, d.1 as u64) {
                Some((_, MemKind::DmaAlloc)) => self.stats.segments_in_dma_alloc += 1,
                Some((_, MemKind::Translated)) => self.stats.segments_in_caller_buffers += 1,
                None => return Err(format!("data segment {:#x}+{} unmapped", d.0, d.1)),
            }
        }
        match ty {
            req_type::IN | req_type::OUT => {
                let write = ty == req_type::OUT;
                let want_flag = if write { 0 } else { desc_flags::WRITE };
                if data.iter().any(|d| d.2 & desc_flags::WRITE != want_flag) {
                    return Err("data descriptor direction wrong".into());
                }
                if !data_len.is_multiple_of(512) || data_len == 0 {
                    return Err(format!(
                        "data length {data_len} is not a whole number of sectors"
                    ));
                }
                if sector
                    .checked_add(data_len / 512)
                    .is_none_or(|end| end > self.capacity)
                {
                    return Ok((blk_status::IOERR, 0));
                }
                if write && self.opts.read_only {
                    return Ok((blk_status::IOERR, 0));
                }
                let mut pos = sector * 512;
                for &(addr, len, _) in data {
                    let mut buf = vec![0u8; len as usize];
                    if write {
                        mem.read(addr, &mut buf);
                        self.store(pos, &buf)
                            .map_err(|e| format!("backing write: {e}"))?;
                    } else {
                        self.load(pos, &mut buf)
                            .map_err(|e| format!("backing read: {e}"))?;
                        mem.write(addr, &buf);
                    }
                    pos += len as u64;
                }
                if write {
                    self.stats.writes += 1;
                    Ok((blk_status::OK, 0))
                } else {
                    self.stats.reads += 1;
                    Ok((blk_status::OK, data_len as u32))
                }
            }
            req_type::FLUSH => {
                if negotiated & f::BLK_FLUSH == 0 {
                    return Ok((blk_status::UNSUPP, 0));
                }
                self.stats.flushes += 1;
                if let Backing::File(file) = &self.backing {
                    file.sync_data().map_err(|e| format!("fsync: {e}"))?;
                }
                Ok((blk_status::OK, 0))
            }
            req_type::GET_ID => {
                let Some(&(addr, len, _)) = data.first() else {
                    return Err("GET_ID without a buffer".into());
                };
                let mut id = [0u8; 20];
                id[..15].copy_from_slice(b"fake-virtio-blk");
                mem.write(addr, &id[..(len as usize).min(20)]);
                Ok((blk_status::OK, len.min(20)))
            }
            _ => Ok((blk_status::UNSUPP, 0)),
        }
    }

    fn load(&mut self, pos: u64, buf: &mut [u8]) -> std::io::Result<()> {
        match &mut self.backing {
            Backing::Memory(v) => {
                buf.copy_from_slice(&v[pos as usize..pos as usize + buf.len()]);
                Ok(())
            }
            Backing::File(file) => file.read_exact_at(buf, pos),
        }
    }

    fn store(&mut self, pos: u64, buf: &[u8]) -> std::io::Result<()> {
        match &mut self.backing {
            Backing::Memory(v) => {
                v[pos as usize..pos as usize + buf.len()].copy_from_slice(buf);
                Ok(())
            }
            Backing::File(file) => file.write_all_at(buf, pos),
        }
    }
}
