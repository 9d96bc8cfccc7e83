//! The virtio-blk device (virtio 1.2 §5.2): bring-up (§3.1.1, §5.2.5),
//! feature negotiation, request building (§5.2.6) with `seg_max`/`size_max`
//! honoured, zero-copy DMA into caller buffers with a bounce fallback, a
//! bounded wait, and recovery (reset + re-init) after device faults.
#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::fmt::Write as _;

use ddk::abi::{LogLevel, IRQ_SOURCE_INTX};
use ddk::pci::PciDevice;
use ddk::virtio::{blk_config, blk_status, features, req_type, SECTOR_SIZE};
use ddk::{BlockDevice, BlockError, DdkError, Dma, Hal, Lba, PhysAddr, Platform};

use crate::queue::{Segment, SplitQueue};
use crate::transport::{InitError, LegacyTransport, ModernTransport, SomeTransport, Transport};

/// Features this driver understands; it accepts only those the device offers.
pub const SUPPORTED_FEATURES: u64 = features::VERSION_1
    | features::BLK_RO
    | features::BLK_BLK_SIZE
    | features::BLK_FLUSH
    | features::BLK_SEG_MAX
    | features::BLK_SIZE_MAX;

/// Tunables.
#[derive(Clone, Debug)]
pub struct Config {
    /// Longest wait for one request, when the platform has a clock.
    pub timeout_ns: u64,
    /// Polls before giving up when the platform has no clock.
    pub spin_budget: u64,
    /// Register reads to wait for a reset to complete.
    pub reset_spins: u32,
    /// Largest queue to ask a modern device for (rounded down to a power of two).
    pub max_queue_size: u16,
    /// Bounce buffer size (used only when a caller buffer cannot be translated).
    pub bounce_size: usize,
    /// Most requests one transfer keeps in flight at once (clamped to 1..=64
    /// and to what the queue can hold). A large zero-copy transfer is split
    /// into up to this many requests, all submitted before any is reaped, so
    /// the host works on several at once.
    pub max_in_flight: u16,
    /// Smallest piece a transfer is split into (bytes, rounded to sectors):
    /// transfers below twice this stay one request.
    pub split_min: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout_ns: 5_000_000_000,
            spin_budget: 200_000_000,
            reset_spins: 1_000_000,
            max_queue_size: 256,
            bounce_size: 64 * 1024,
            max_in_flight: 4,
            split_min: 128 * 1024,
        }
    }
}

/// The per-device request block holds one slot per request in flight: the
/// 16-byte header, then the status byte, `SLOT_SIZE` bytes apart.
const SLOT_SIZE: usize = 32;
const STATUS_OFF: usize = 16;
/// Hard cap on requests in flight (slots in the 4 KiB request block, with room to spare).
const MAX_IN_FLIGHT: usize = 64;
/// Written before submission; a device that "completes" without writing a
/// status leaves it and is caught.
const STATUS_SENTINEL: u8 = 0xff;
/// Cap for one segment when the device sets no `size_max`.
const SEG_CAP: u32 = 1 << 22;

/// What a running device looks like after negotiation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    pub legacy: bool,
    pub features: u64,
    pub capacity_sectors: u64,
    pub block_size: usize,
    /// Max data segments per request (seg_max, bounded by the queue).
    pub max_segments: u16,
    /// Max bytes per segment (size_max, or a driver cap).
    pub max_segment_len: u32,
    pub queue_size: u16,
}

/// A bound virtio-blk device.
pub struct VirtioBlk {
    platform: Platform,
    pci: PciDevice,
    transport: SomeTransport,
    config: Config,
    info: DeviceInfo,
    queue: Option<SplitQueue<Platform>>,
    req: Dma<Platform>,
    bounce: Option<Dma<Platform>>,
    segs: Vec<Segment>,
    chain: Vec<Segment>,
    /// Head descriptor of the request in each slot of the current batch
    /// (`None` once reaped).
    heads: Vec<Option<u16>>,
    /// Requests were published since the last notification.
    unnotified: bool,
    ready: bool,
    recoveries: u32,
    /// Interrupt handle from `irq_setup` (MSI-X entry 0 for queue 0), when
    /// the platform completes by interrupt; `None`: poll the used ring.
    irq: Option<u64>,
}

enum Data<'a> {
    In(&'a mut [u8]),
    Out(&'a [u8]),
}

impl Data<'_> {
    fn len(&self) -> usize {
        match self {
            Data::In(b) => b.len(),
            Data::Out(b) => b.len(),
        }
    }
    fn ptr_at(&self, off: usize) -> *const u8 {
        match self {
            Data::In(b) => b.as_ptr().wrapping_add(off),
            Data::Out(b) => b.as_ptr().wrapping_add(off),
        }
    }
    fn is_in(&self) -> bool {
        matches!(self, Data::In(_))
    }
}

impl VirtioBlk {
    /// Binds to `dev`: enables bus mastering, picks the modern transport if
    /// the device has virtio capabilities, else the legacy one, and runs the
    /// §3.1.1 initialisation.
    pub fn new(platform: Platform, dev: PciDevice, config: Config) -> Result<VirtioBlk, InitError> {
        platform.enable_bus_master(dev.address)?;
        // We poll the used ring; keep a stray INTx from reaching an unhandled vector.
        dev.set_command_bits(&platform, ddk::pci::command::INTX_DISABLE)?;
        let transport = match ModernTransport::probe(platform, &dev)? {
            Some(m) => SomeTransport::Modern(m),
            None => SomeTransport::Legacy(LegacyTransport::probe(platform, &dev)?),
        };
        let req = Dma::new(platform, 4096, 4096)?;
        let mut blk = VirtioBlk {
            platform,
            pci: dev,
            transport,
            config,
            info: DeviceInfo {
                legacy: false,
                features: 0,
                capacity_sectors: 0,
                block_size: SECTOR_SIZE,
                max_segments: 1,
                max_segment_len: SEG_CAP,
                queue_size: 0,
            },
            queue: None,
            req,
            bounce: None,
            segs: Vec::new(),
            chain: Vec::new(),
            heads: Vec::new(),
            unnotified: false,
            ready: false,
            recoveries: 0,
            irq: None,
        };
        blk.init()?;
        let mut line = line_buf();
        let _ = write!(
            line,
            "virtio-blk {}: {} transport, {} sectors, block {} B, features {:#x}, queue {}, seg_max {}, size_max {}",
            blk.pci.address,
            if blk.info.legacy { "legacy" } else { "modern" },
            blk.info.capacity_sectors,
            blk.info.block_size,
            blk.info.features,
            blk.info.queue_size,
            blk.info.max_segments,
            blk.info.max_segment_len
        );
        blk.platform.log(LogLevel::Info, &line);
        Ok(blk)
    }

    /// The negotiated shape of the device.
    pub fn info(&self) -> DeviceInfo {
        self.info
    }
    pub fn pci(&self) -> &PciDevice {
        &self.pci
    }
    /// Whether requests are accepted (false after a failed recovery).
    pub fn is_ready(&self) -> bool {
        self.ready
    }
    /// How many times the driver reset and re-initialised after a fault.
    pub fn recoveries(&self) -> u32 {
        self.recoveries
    }
    /// Whether FLUSH was negotiated (without it the device writes through).
    pub fn has_flush(&self) -> bool {
        self.info.features & features::BLK_FLUSH != 0
    }

    fn init(&mut self) -> Result<(), InitError> {
        self.ready = false;
        let r = self.try_init();
        if r.is_err() {
            self.transport.fail();
        }
        r
    }

    fn try_init(&mut self) -> Result<(), InitError> {
        let t = &mut self.transport;
        let negotiated = t.begin_init(SUPPORTED_FEATURES, self.config.reset_spins)?;
        let capacity = t.config_read_u64(blk_config::CAPACITY)?;
        let mut block_size = SECTOR_SIZE;
        if negotiated & features::BLK_BLK_SIZE != 0 {
            let bs = t.config_read_u32(blk_config::BLK_SIZE)? as usize;
            // Only sizes the LBA arithmetic can express; others fall back to 512.
            if bs.is_power_of_two() && (SECTOR_SIZE..=65536).contains(&bs) {
                block_size = bs;
            }
        }
        let mut max_segment_len = SEG_CAP;
        if negotiated & features::BLK_SIZE_MAX != 0 {
            let sm = t.config_read_u32(blk_config::SIZE_MAX)?;
            if sm != 0 {
                max_segment_len = sm.min(SEG_CAP);
            }
        }
        let mut seg_max = u32::MAX;
        if negotiated & features::BLK_SEG_MAX != 0 {
            let s = t.config_read_u32(blk_config::SEG_MAX)?;
            seg_max = s.max(1);
        }
        let offered = t.max_queue_size(0)?;
        if offered == 0 {
            return Err(InitError::Device("request queue 0 does not exist"));
        }
        let size = if t.is_legacy() {
            if !offered.is_power_of_two() {
                return Err(InitError::Unsupported(
                    "legacy queue size is not a power of two",
                ));
            }
            offered
        } else {
            let want = offered.min(self.config.max_queue_size.max(4));
            1 << (15 - want.leading_zeros())
        };
        if size < 3 {
            return Err(InitError::Unsupported("queue too small for a request"));
        }
        // Drop any old ring only now: the reset in begin_init has completed,
        // so the device no longer looks at it.
        self.queue = None;
        self.unnotified = false;
        let queue = SplitQueue::new(self.platform, size)?;
        // Interrupts when the platform offers them (`completion=irq`), on
        // the modern transport's MSI-X entry 0; otherwise (or when the
        // device refuses the vector) the used ring is polled.
        // Legacy functions use INTx (MSI-X stays off, so the legacy register
        // layout keeps the device config at 0x14).
        if self.irq.is_none() && self.platform.time_ns().is_some() {
            let source = if t.is_legacy() { IRQ_SOURCE_INTX } else { 0 };
            self.irq = self.platform.irq_setup(self.pci.address, source).ok();
        }
        if let Some(h) = self.irq {
            if t.is_legacy() || t.set_queue_vector(0, 0)? {
                queue.enable_interrupts();
            } else {
                self.platform.log(
                    LogLevel::Warn,
                    "virtio-blk: device refused MSI-X vector 0 for queue 0; polling",
                );
                let _ = self.platform.irq_release(h);
                self.irq = None;
            }
        }
        t.activate_queue(0, size, queue.phys(), queue.layout())?;
        self.queue = Some(queue);
        let max_segments = seg_max.min(size as u32 - 2) as u16;
        self.info = DeviceInfo {
            legacy: t.is_legacy(),
            features: negotiated,
            capacity_sectors: capacity,
            block_size,
            max_segments,
            max_segment_len,
            queue_size: size,
        };
        self.segs = Vec::with_capacity(max_segments as usize);
        self.chain = Vec::with_capacity(max_segments as usize + 2);
        t.finish_init()?;
        self.heads = Vec::with_capacity(self.max_in_flight());
        self.ready = true;
        Ok(())
    }

    /// After a timeout or protocol violation: reset the device (so it stops
    /// DMA into buffers we are about to give back), then bring it up again.
    fn recover(&mut self, why: BlockError) {
        self.recoveries += 1;
        self.ready = false;
        let mut line = line_buf();
        let _ = write!(
            line,
            "virtio-blk {}: {why}; resetting device",
            self.pci.address
        );
        self.platform.log(LogLevel::Warn, &line);
        if self.transport.reset(self.config.reset_spins).is_err() {
            // The device may still own the ring and our buffers: never free
            // that memory, and refuse further requests.
            if let Some(q) = self.queue.take() {
                core::mem::forget(q);
            }
            self.platform.log(
                LogLevel::Error,
                "virtio-blk: reset did not complete; device disabled",
            );
            return;
        }
        let geometry = (self.info.capacity_sectors, self.info.block_size);
        if let Err(e) = self.init() {
            let mut line = line_buf();
            let _ = write!(
                line,
                "virtio-blk {}: re-initialisation failed: {e}",
                self.pci.address
            );
            self.platform.log(LogLevel::Error, &line);
            // A failed bring-up may have read new values: the caller's view stays.
            (self.info.capacity_sectors, self.info.block_size) = geometry;
            return;
        }
        // The volume above addresses blocks of the size and count the device
        // had: a device that comes back with others cannot be used under it.
        if (self.info.capacity_sectors, self.info.block_size) != geometry {
            let mut line = line_buf();
            let _ = write!(
                line,
                "virtio-blk {}: came back from the reset with {} sectors of {} B, not {} of {} B; device disabled",
                self.pci.address,
                self.info.capacity_sectors,
                self.info.block_size,
                geometry.0,
                geometry.1
            );
            self.platform.log(LogLevel::Error, &line);
            (self.info.capacity_sectors, self.info.block_size) = geometry;
            self.ready = false;
            self.transport.fail();
        }
    }

    fn check_range(&self, lba: Lba, len: usize) -> Result<(), BlockError> {
        if !self.ready {
            return Err(BlockError::NotReady);
        }
        let bs = self.info.block_size;
        if len == 0 || !len.is_multiple_of(bs) {
            return Err(BlockError::BadBuffer);
        }
        let blocks = (len / bs) as u64;
        match lba.checked_add(blocks) {
            Some(end) if end.as_u64() <= self.block_count() => Ok(()),
            _ => Err(BlockError::OutOfRange),
        }
    }

    /// Requests one batch may hold: the configured depth, bounded by the
    /// slots of the request block and by the queue (a request takes at least
    /// three descriptors).
    fn max_in_flight(&self) -> usize {
        (self.config.max_in_flight as usize)
            .clamp(1, MAX_IN_FLIGHT)
            .min((self.info.queue_size as usize / 3).max(1))
    }

    /// Moves `data` to or from the disk from `lba` on. Zero-copy pieces go
    /// out in batches of up to [`Config::max_in_flight`] requests, all
    /// published before any is reaped; where the platform cannot translate
    /// the buffer, one bounce-buffered request at a time. Any failing piece
    /// fails the whole transfer, and only after none is left in flight.
    fn transfer(&mut self, lba: Lba, mut data: Data<'_>) -> Result<(), BlockError> {
        let ty = if data.is_in() {
            req_type::IN
        } else {
            req_type::OUT
        };
        let start_sector = lba.as_u64() * (self.info.block_size / SECTOR_SIZE) as u64;
        let total = data.len();
        let depth = self.max_in_flight();
        // Split evenly over the depth, but never below `split_min`: small
        // transfers stay one request (each costs a round trip to the host).
        let split_min = self.config.split_min.max(SECTOR_SIZE);
        let piece = if depth > 1 && total >= 2 * split_min {
            total
                .div_ceil(depth)
                .max(split_min)
                .next_multiple_of(SECTOR_SIZE)
        } else {
            total
        };
        let mut done = 0usize;
        while done < total {
            self.heads.clear();
            let mut planned = done;
            while planned < total && self.heads.len() < depth {
                let n = self.plan_direct(&data, planned, (total - planned).min(piece));
                if n == 0 {
                    break;
                }
                let free = self.queue.as_ref().map_or(0, |q| q.num_free() as usize);
                if !self.heads.is_empty() && free < self.segs.len() + 2 {
                    break;
                }
                let sector = start_sector + (planned / SECTOR_SIZE) as u64;
                match self.enqueue(self.heads.len(), ty, sector) {
                    Ok(head) => self.heads.push(Some(head)),
                    Err(e) => {
                        // Never leave with requests in flight.
                        if !self.heads.is_empty() {
                            let _ = self.kick_and_reap();
                        }
                        return Err(e);
                    }
                }
                planned += n;
            }
            if !self.heads.is_empty() {
                // One notification for the whole batch. (Measured under QEMU
                // 7.2 TCG: a notification per piece starts each on its own
                // host I/O thread, which cost more than it overlapped; with
                // one, QEMU merges adjacent pieces into one host request.)
                self.kick_and_reap()?;
                done = planned;
                continue;
            }
            let sector = start_sector + (done / SECTOR_SIZE) as u64;
            let chunk = self.plan_bounce(total - done)?;
            if let Data::Out(src) = &data {
                let b = self.bounce.as_mut().ok_or(BlockError::NoMemory)?;
                b.write_bytes(0, &src[done..done + chunk])
                    .map_err(|_| BlockError::NoMemory)?;
            }
            self.submit(ty, sector)?;
            if let Data::In(dst) = &mut data {
                let b = self.bounce.as_ref().ok_or(BlockError::NoMemory)?;
                b.read_bytes(0, &mut dst[done..done + chunk])
                    .map_err(|_| BlockError::NoMemory)?;
            }
            done += chunk;
        }
        Ok(())
    }

    /// Fills `segs` with the caller's buffer from `off` (zero-copy), up to
    /// `seg_max` segments of at most `size_max`, trimmed to whole sectors.
    /// Returns the bytes covered; 0 if the platform cannot translate here or
    /// the limits do not allow a whole sector.
    fn plan_direct(&mut self, data: &Data<'_>, off: usize, remaining: usize) -> usize {
        self.segs.clear();
        let max_len = self.info.max_segment_len as usize;
        let max_segs = self.info.max_segments as usize;
        let writes = data.is_in();
        let mut planned = 0usize;
        'runs: while planned < remaining {
            let Ok((phys, contig)) = self
                .platform
                .virt_to_phys(data.ptr_at(off + planned), remaining - planned)
            else {
                break;
            };
            let mut phys = phys.as_u64();
            let mut n = contig.min(remaining - planned);
            // Extend the previous segment when this run continues it physically.
            if let Some(last) = self.segs.last_mut() {
                if last.addr.as_u64() + last.len as u64 == phys {
                    let take = n.min(max_len - last.len as usize);
                    last.len += take as u32;
                    planned += take;
                    n -= take;
                    phys += take as u64;
                }
            }
            // The rest of the run becomes new segments of at most size_max.
            while n > 0 {
                if self.segs.len() == max_segs {
                    break 'runs;
                }
                let len = n.min(max_len);
                self.segs.push(Segment {
                    addr: PhysAddr::new(phys),
                    len: len as u32,
                    device_writes: writes,
                });
                planned += len;
                n -= len;
                phys += len as u64;
            }
        }
        // Cut back to a whole number of sectors (a request must be, §5.2.6).
        let mut excess = planned % SECTOR_SIZE;
        planned -= excess;
        while excess > 0 {
            let Some(last) = self.segs.last_mut() else {
                break;
            };
            let cut = excess.min(last.len as usize);
            last.len -= cut as u32;
            excess -= cut;
            if last.len == 0 {
                self.segs.pop();
            }
        }
        planned
    }

    /// Prepares the bounce buffer segments for the next chunk; returns its size.
    fn plan_bounce(&mut self, remaining: usize) -> Result<usize, BlockError> {
        if self.bounce.is_none() {
            let size = self.config.bounce_size.max(SECTOR_SIZE);
            self.bounce =
                Some(Dma::new(self.platform, size, 4096).map_err(|_| BlockError::NoMemory)?);
        }
        let b = self.bounce.as_ref().ok_or(BlockError::NoMemory)?;
        let seg = self.info.max_segment_len as usize;
        let cap = (self.info.max_segments as usize)
            .saturating_mul(seg)
            .min(b.len());
        let chunk = remaining.min(cap) / SECTOR_SIZE * SECTOR_SIZE;
        if chunk == 0 {
            // seg_max × size_max cannot hold one sector: the device's limits
            // make every transfer impossible.
            return Err(BlockError::Unsupported);
        }
        self.segs.clear();
        let mut off = 0;
        while off < chunk {
            let n = (chunk - off).min(seg);
            self.segs.push(Segment {
                addr: PhysAddr::new(b.phys_addr().as_u64() + off as u64),
                len: n as u32,
                device_writes: true,
            });
            off += n;
        }
        Ok(chunk)
    }

    /// Sends one request (`segs` as its data) and waits for it.
    fn submit(&mut self, ty: u32, sector: u64) -> Result<(), BlockError> {
        self.heads.clear();
        let head = self.enqueue(0, ty, sector)?;
        self.heads.push(Some(head));
        self.kick_and_reap()
    }

    /// Publishes one request in `slot` of the request block: its header,
    /// `segs` as data, its status byte (pre-set to a sentinel). Returns the
    /// chain's head; the device is not notified yet.
    fn enqueue(&mut self, slot: usize, ty: u32, sector: u64) -> Result<u16, BlockError> {
        let off = slot * SLOT_SIZE;
        let mut hdr = [0u8; STATUS_OFF + 1];
        hdr[0..4].copy_from_slice(&ty.to_le_bytes());
        hdr[8..16].copy_from_slice(&sector.to_le_bytes());
        hdr[STATUS_OFF] = STATUS_SENTINEL;
        self.req
            .write_bytes(off, &hdr)
            .map_err(|_| BlockError::NoMemory)?;
        let base = self.req.phys_addr().as_u64() + off as u64;
        let data_writes = ty == req_type::IN;
        self.chain.clear();
        self.chain.push(Segment {
            addr: PhysAddr::new(base),
            len: 16,
            device_writes: false,
        });
        self.chain.extend(self.segs.iter().map(|s| Segment {
            device_writes: data_writes,
            ..*s
        }));
        self.chain.push(Segment {
            addr: PhysAddr::new(base + STATUS_OFF as u64),
            len: 1,
            device_writes: true,
        });
        let head = self
            .queue
            .as_mut()
            .ok_or(BlockError::NotReady)?
            .add(&self.chain)?;
        self.unnotified = true;
        Ok(head)
    }

    /// Notifies the device, if it asks for it, of what was published so far.
    fn kick(&mut self) -> Result<(), BlockError> {
        if !core::mem::take(&mut self.unnotified) {
            return Ok(());
        }
        let queue = self.queue.as_mut().ok_or(BlockError::NotReady)?;
        if queue.notify_needed() {
            if let Err(e) = self.transport.notify(0) {
                // The reset stops the device before the batch's buffers go back.
                self.recover(BlockError::NotReady);
                return Err(ddk_to_block(e));
            }
        }
        Ok(())
    }

    /// Notifies the device and reaps the batch in `heads`.
    fn kick_and_reap(&mut self) -> Result<(), BlockError> {
        self.kick()?;
        self.reap()
    }

    /// Polls the used ring until every request in `heads` completed. The
    /// wait is bounded per completion by the platform clock (`timeout_ns`)
    /// or, without one, by `spin_budget` polls. A protocol violation or a
    /// timeout resets the device at once (which stops it using every buffer
    /// of the batch) and fails the transfer; a status error fails it once
    /// the whole batch is back, with the error of the earliest piece.
    fn reap(&mut self) -> Result<(), BlockError> {
        let mut pending = self.heads.iter().filter(|h| h.is_some()).count();
        let mut first_err: Option<BlockError> = None;
        let mut first_err_slot = usize::MAX;
        // Read the clock only once a request is slow to come back: most
        // finish within the first polls.
        let mut deadline: Option<Option<u64>> = None;
        let mut spins: u64 = 0;
        while pending > 0 {
            let queue = self.queue.as_mut().ok_or(BlockError::NotReady)?;
            let used = match queue.poll_used() {
                Ok(u) => u,
                Err(e) => {
                    self.recover(e);
                    return Err(e);
                }
            };
            let Some(used) = used else {
                if let Some(h) = self.irq {
                    let now = self.platform.time_ns().unwrap_or(0);
                    let d = *deadline
                        .get_or_insert(Some(now.saturating_add(self.config.timeout_ns)))
                        .get_or_insert(0);
                    if now >= d {
                        self.recover(BlockError::Timeout);
                        return Err(BlockError::Timeout);
                    }
                    match self.platform.irq_wait(h, d - now) {
                        // INTx is level-triggered: acknowledge before the
                        // next wait re-arms it. MSI-X needs nothing.
                        Ok(true) => {
                            let _ = self.transport.ack_interrupt();
                        }
                        Ok(false) => {}
                        Err(_) => {
                            self.platform
                                .log(LogLevel::Warn, "virtio-blk: irq_wait failed; polling");
                            self.irq = None;
                        }
                    }
                    continue;
                }
                spins += 1;
                if spins.is_multiple_of(64) {
                    let d = *deadline.get_or_insert_with(|| {
                        self.platform
                            .time_ns()
                            .map(|t| t.saturating_add(self.config.timeout_ns))
                    });
                    let expired = match d {
                        Some(d) => self.platform.time_ns().is_none_or(|now| now >= d),
                        None => spins >= self.config.spin_budget,
                    };
                    if expired {
                        self.recover(BlockError::Timeout);
                        return Err(BlockError::Timeout);
                    }
                }
                // No `pause` (spin_loop) here: QEMU's TCG turns each one into
                // an exit from guest code through the big QEMU lock, which
                // the host's completion path needs too. Without it the best
                // 4 KiB read went from ~17 us to ~11 us under QEMU 7.2 TCG.
                continue;
            };
            // poll_used checked the id names a chain in flight, and only this
            // batch is in flight: it must be one of ours.
            let Some(slot) = self.heads.iter().position(|h| *h == Some(used.head)) else {
                self.recover(BlockError::DeviceMisbehaved);
                return Err(BlockError::DeviceMisbehaved);
            };
            self.heads[slot] = None;
            pending -= 1;
            spins = 0;
            deadline = None;
            let mut st = [0u8; 1];
            self.req
                .read_bytes(slot * SLOT_SIZE + STATUS_OFF, &mut st)
                .map_err(|_| BlockError::NoMemory)?;
            let err = match st[0] {
                // OK with less written than the chain's writable bytes: the
                // data cannot be trusted (§2.7.8).
                blk_status::OK if used.short => {
                    self.recover(BlockError::DeviceMisbehaved);
                    return Err(BlockError::DeviceMisbehaved);
                }
                blk_status::OK => continue,
                blk_status::IOERR => BlockError::Io,
                blk_status::UNSUPP => BlockError::Unsupported,
                _ => {
                    self.recover(BlockError::DeviceMisbehaved);
                    return Err(BlockError::DeviceMisbehaved);
                }
            };
            if slot < first_err_slot {
                first_err_slot = slot;
                first_err = Some(err);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

fn ddk_to_block(e: DdkError) -> BlockError {
    match e {
        DdkError::NoMemory => BlockError::NoMemory,
        _ => BlockError::NotReady,
    }
}

/// A small stack string for log lines (no allocation on the I/O path).
fn line_buf() -> LineBuf {
    LineBuf {
        buf: [0; 256],
        len: 0,
    }
}

struct LineBuf {
    buf: [u8; 256],
    len: usize,
}

impl core::fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // Truncate at a char boundary rather than fail the whole line.
        let room = self.buf.len() - self.len;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

impl core::ops::Deref for LineBuf {
    type Target = str;
    fn deref(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl BlockDevice for VirtioBlk {
    fn block_size(&self) -> usize {
        self.info.block_size
    }
    fn block_count(&self) -> u64 {
        self.info.capacity_sectors / (self.info.block_size / SECTOR_SIZE) as u64
    }
    fn is_read_only(&self) -> bool {
        self.info.features & features::BLK_RO != 0
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        self.check_range(lba, buf.len())?;
        self.transfer(lba, Data::In(buf))
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        if self.is_read_only() {
            return Err(BlockError::ReadOnly);
        }
        self.check_range(lba, buf.len())?;
        self.transfer(lba, Data::Out(buf))
    }
    /// Publishes the reads in batches of up to the request block's slots
    /// (and what the queue holds), one notification per batch, then reaps
    /// the batch: a queue depth of `reqs.len()` up to that bound. A read the
    /// platform cannot hand the device as one zero-copy request goes
    /// through [`VirtioBlk::read_blocks`] on its own.
    fn read_many(&mut self, reqs: &mut [ddk::ReadRequest<'_>]) -> Result<(), BlockError> {
        for r in reqs.iter() {
            self.check_range(r.lba, r.buf.len())?;
        }
        let depth = MAX_IN_FLIGHT.min((self.info.queue_size as usize / 3).max(1));
        let per_block = (self.info.block_size / SECTOR_SIZE) as u64;
        let mut i = 0;
        while i < reqs.len() {
            self.heads.clear();
            while i < reqs.len() && self.heads.len() < depth {
                let len = reqs[i].buf.len();
                let planned = self.plan_direct(&Data::In(&mut *reqs[i].buf), 0, len);
                let free = self.queue.as_ref().map_or(0, |q| q.num_free() as usize);
                if planned != len || free < self.segs.len() + 2 {
                    break;
                }
                let sector = reqs[i].lba.as_u64() * per_block;
                match self.enqueue(self.heads.len(), req_type::IN, sector) {
                    Ok(head) => self.heads.push(Some(head)),
                    Err(e) => {
                        // Never leave with requests in flight.
                        if !self.heads.is_empty() {
                            let _ = self.kick_and_reap();
                        }
                        return Err(e);
                    }
                }
                i += 1;
            }
            if self.heads.is_empty() {
                let r = &mut reqs[i];
                self.transfer(r.lba, Data::In(&mut *r.buf))?;
                i += 1;
            } else {
                self.kick_and_reap()?;
            }
        }
        Ok(())
    }
    /// With VIRTIO_BLK_F_FLUSH: a FLUSH request. Without it the device has
    /// no volatile write cache to flush (it writes through, §5.2.6.2), so
    /// every completed write is already durable and this returns `Ok`
    /// without a request; [`VirtioBlk::has_flush`] tells the two apart.
    fn flush(&mut self) -> Result<(), BlockError> {
        if !self.ready {
            return Err(BlockError::NotReady);
        }
        if self.is_read_only() {
            return Err(BlockError::ReadOnly);
        }
        if !self.has_flush() {
            return Ok(());
        }
        self.segs.clear();
        self.submit(req_type::FLUSH, 0)
    }
}

impl Drop for VirtioBlk {
    fn drop(&mut self) {
        // The ring and request block are freed after this: the device must
        // have stopped using them first.
        if self.transport.reset(self.config.reset_spins).is_err() {
            if let Some(q) = self.queue.take() {
                core::mem::forget(q);
            }
        }
        if let Some(h) = self.irq.take() {
            let _ = self.platform.irq_release(h);
        }
    }
}
