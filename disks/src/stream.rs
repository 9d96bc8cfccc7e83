//! A cached byte stream over any [`BlockDevice`]: embedded-io 0.7 `Read + Write +
//! Seek` with a small set-associative write-back cache of whole blocks.
//!
//! File systems (fatfs/lamfat in particular) issue many small, unaligned reads and
//! writes: a 4-byte FAT entry, a 32-byte directory entry, a 512-byte cluster. The
//! stream turns them into whole-block device requests:
//!
//! - partial blocks go through the cache (read-modify-write on a miss);
//! - whole-block writes shorter than [`CacheConfig::bypass_blocks`] land in the cache
//!   dirty without reading the device first;
//! - runs of at least `bypass_blocks` whole, aligned blocks bypass the cache and go
//!   straight between the device and the caller's buffer (one multi-block request, no
//!   bounce copy), while the cache stays coherent: dirty cached blocks overlay what a
//!   bypass read returns, and a bypass write refreshes the cached copies it covers;
//! - a cache miss that continues the previous access reads ahead
//!   [`CacheConfig::readahead_blocks`] blocks in one request, so sequential small reads
//!   (fatfs reads one cluster at a time) cost one device request per read-ahead window;
//! - bypass writes that continue each other are combined, up to
//!   [`CacheConfig::write_combine_blocks`], into one device request (fatfs writes one
//!   cluster at a time): the pending run is written when the next write does not
//!   continue it, when anything touches its blocks, and on flush. If that write
//!   fails, the run is dropped and the failure is reported to the operation that
//!   triggered it (as a failed bypass write always was: a device that refuses a
//!   range must not make every later flush fail). (disks' glue does not flush
//!   the stream on fatfs's `File::flush`; a file written with
//!   `Volume::write_to_file` gets its data's failure from that call, below.)
//! - between [`BlockStream::begin_borrowed`] and [`BlockStream::end_borrowed`],
//!   such writes whose bytes lie in the caller's buffer are recorded, not
//!   copied, and written from that buffer when the write ends (`borrowed.rs`).
//!
//! Dirty blocks reach the device on eviction or on [`BlockStream::flush`] (which also
//! flushes the device). Dropping a stream with dirty blocks discards them: call
//! `flush()` or [`BlockStream::into_inner`] first. A failed device request is
//! reported as [`StreamError::Device`] carrying the [`BlockError`]; a dirty block
//! whose write-back failed stays dirty in the cache, so nothing is lost silently.
#![forbid(unsafe_code)]

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use embedded_io::{ErrorKind, ErrorType, Read, Seek, SeekFrom, Write};

use ddk::{BlockDevice, BlockError, Lba};

/// Errors of the stream. Device failures keep the device's [`BlockError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamError {
    /// The device failed a request.
    Device(BlockError),
    /// A seek to a negative position or past `u64::MAX`.
    InvalidSeek,
    /// A write starting at or beyond the end of the device.
    EndOfDevice,
    /// The device reports a block size of 0, not a power of two, or above 64 KiB.
    BadBlockSize(usize),
    /// The cache configuration has a zero field.
    BadConfig,
    /// An access to blocks an open borrowed write has recorded (their bytes
    /// are only in the caller's buffer), a second borrowed write, or the end
    /// of one with a different buffer.
    BorrowedBlocks,
}

impl StreamError {
    /// The device error behind this error, if it came from the device.
    pub const fn block_error(&self) -> Option<BlockError> {
        match self {
            StreamError::Device(e) => Some(*e),
            _ => None,
        }
    }
}

impl From<BlockError> for StreamError {
    fn from(e: BlockError) -> Self {
        StreamError::Device(e)
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Device(e) => write!(f, "block device error: {e}"),
            StreamError::InvalidSeek => f.write_str("seek to a negative or overflowing position"),
            StreamError::EndOfDevice => f.write_str("write beyond the end of the device"),
            StreamError::BadBlockSize(n) => write!(f, "unsupported device block size {n}"),
            StreamError::BadConfig => f.write_str("cache configuration has a zero field"),
            StreamError::BorrowedBlocks => {
                f.write_str("access to blocks of an open borrowed write")
            }
        }
    }
}

impl core::error::Error for StreamError {}

impl embedded_io::Error for StreamError {
    fn kind(&self) -> ErrorKind {
        match self {
            StreamError::Device(BlockError::ReadOnly) => ErrorKind::PermissionDenied,
            StreamError::Device(BlockError::Timeout) => ErrorKind::TimedOut,
            StreamError::Device(BlockError::Unsupported) => ErrorKind::Unsupported,
            StreamError::Device(BlockError::NoMemory) => ErrorKind::OutOfMemory,
            StreamError::Device(BlockError::OutOfRange | BlockError::BadBuffer) => {
                ErrorKind::InvalidInput
            }
            StreamError::Device(_) => ErrorKind::Other,
            StreamError::InvalidSeek | StreamError::BadConfig | StreamError::BadBlockSize(_) => {
                ErrorKind::InvalidInput
            }
            StreamError::EndOfDevice => ErrorKind::WriteZero,
            StreamError::BorrowedBlocks => ErrorKind::InvalidInput,
        }
    }
}

/// Shape of the cache. Capacity is `sets * ways` blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// Number of sets; block `lba` lives in set `lba % sets`.
    pub sets: usize,
    /// Blocks per set (associativity); replacement within a set is LRU.
    pub ways: usize,
    /// Blocks fetched by one read-ahead on a sequential cache miss (1 disables it).
    pub readahead_blocks: usize,
    /// Runs of at least this many whole aligned blocks bypass the cache.
    pub bypass_blocks: usize,
    /// Most blocks consecutive bypass writes are combined into before they go to
    /// the device as one request (0 or 1: every bypass write goes at once).
    pub write_combine_blocks: usize,
}

impl Default for CacheConfig {
    /// 512 blocks (256 KiB of 512-byte blocks), 4-way, 64-block read-ahead,
    /// bypass from 8 blocks (4 KiB) up, bypass writes combined up to 2048
    /// blocks (1 MiB of 512-byte blocks).
    fn default() -> Self {
        CacheConfig {
            sets: 128,
            ways: 4,
            readahead_blocks: 64,
            bypass_blocks: 8,
            write_combine_blocks: 2048,
        }
    }
}

/// Counters for benchmarks and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Block lookups served from the cache.
    pub hits: u64,
    /// Block lookups that had to read the device.
    pub misses: u64,
    /// `read_blocks` calls issued to the device.
    pub device_reads: u64,
    /// `write_blocks` calls issued to the device.
    pub device_writes: u64,
    /// Bytes moved by bypass (uncached) requests.
    pub bypass_bytes: u64,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    lba: u64,
    valid: bool,
    dirty: bool,
    /// LRU stamp: larger is more recent.
    used: u64,
}

/// Access streams the read-ahead detector follows at once.
const STREAMS: usize = 4;

/// Most blocks one eviction writes back together.
const WRITE_BACK_RUN: usize = 64;

const EMPTY_SLOT: Slot = Slot {
    lba: 0,
    valid: false,
    dirty: false,
    used: 0,
};

/// A failed [`BlockStream::into_inner`]: the stream, dirty blocks intact, and why.
pub struct IntoInnerError<D: BlockDevice> {
    /// The stream, to retry or inspect.
    pub stream: Box<BlockStream<D>>,
    /// The error of the final flush.
    pub error: StreamError,
}

impl<D: BlockDevice> fmt::Debug for IntoInnerError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoInnerError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// The cached `Read + Write + Seek` stream over a block device.
pub struct BlockStream<D: BlockDevice> {
    dev: D,
    cfg: CacheConfig,
    bs: usize,
    /// log2 of `bs`. Block arithmetic uses shifts and masks: a 64-bit `div`
    /// is a helper call under QEMU/TCG, and fatfs's 4-byte FAT accesses made
    /// them a visible share of a file write.
    shift: u32,
    /// `sets - 1` when `sets` is a power of two (the set is `lba & mask`).
    set_mask: Option<u64>,
    /// Device size in bytes.
    size: u64,
    pos: u64,
    slots: Vec<Slot>,
    /// `slots.len() * bs` bytes; slot `i` owns `data[i*bs..(i+1)*bs]`.
    data: Vec<u8>,
    /// Scratch space for read-ahead.
    scratch: Vec<u8>,
    /// Scratch space for clustered write-back.
    wbuf: Vec<u8>,
    /// Combined bypass writes not yet on the device: first block and bytes.
    pending_lba: u64,
    pending: Vec<u8>,
    clock: u64,
    /// Sequential-stream detector: the block expected next by each of the last
    /// few access streams (file data and FAT reads interleave, so one is not
    /// enough), and which entry to replace next.
    streams: [u64; STREAMS],
    stream_victim: usize,
    /// Slots of the last two small-access hits, looked at before the set:
    /// fatfs alternates between an entry of FAT 1 and the same one of FAT 2.
    recent: [usize; 2],
    stats: CacheStats,
    /// The open borrowed write, if any (`borrowed.rs`).
    borrowed: Option<borrowed::Borrowed>,
    /// Every valid slot's block lies in `cached_lo..cached_hi` (widened on
    /// install, reset when the cache is emptied): ranges outside need no
    /// look-up, as a file's new clusters usually are.
    cached_lo: u64,
    cached_hi: u64,
}

impl<D: BlockDevice> BlockStream<D> {
    /// A stream with the default cache shape.
    pub fn new(dev: D) -> Result<Self, StreamError> {
        Self::with_config(dev, CacheConfig::default())
    }

    /// A stream with an explicit cache shape.
    pub fn with_config(dev: D, cfg: CacheConfig) -> Result<Self, StreamError> {
        let bs = dev.block_size();
        if bs == 0 || !bs.is_power_of_two() || bs > 65536 {
            return Err(StreamError::BadBlockSize(bs));
        }
        if cfg.sets == 0 || cfg.ways == 0 || cfg.readahead_blocks == 0 || cfg.bypass_blocks == 0 {
            return Err(StreamError::BadConfig);
        }
        let n = cfg
            .sets
            .checked_mul(cfg.ways)
            .ok_or(StreamError::BadConfig)?;
        let size = dev
            .block_count()
            .checked_mul(bs as u64)
            .ok_or(StreamError::BadBlockSize(bs))?;
        // Read-ahead may never exceed a set's worth of distinct sets at once.
        let readahead = cfg.readahead_blocks.min(cfg.sets);
        let cfg = CacheConfig {
            readahead_blocks: readahead,
            ..cfg
        };
        Ok(BlockStream {
            dev,
            cfg,
            bs,
            shift: bs.trailing_zeros(),
            set_mask: cfg.sets.is_power_of_two().then_some(cfg.sets as u64 - 1),
            size,
            pos: 0,
            slots: vec![EMPTY_SLOT; n],
            data: vec![0; n * bs],
            scratch: vec![0; readahead * bs],
            wbuf: Vec::new(),
            pending_lba: 0,
            pending: Vec::new(),
            clock: 0,
            streams: [u64::MAX; STREAMS],
            stream_victim: 0,
            recent: [0; 2],
            stats: CacheStats::default(),
            borrowed: None,
            cached_lo: u64::MAX,
            cached_hi: 0,
        })
    }

    /// The device's block size in bytes.
    pub fn block_size(&self) -> usize {
        self.bs
    }

    /// The device's size in bytes.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the device has no blocks.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The current position.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The cache shape in effect (read-ahead is capped at the number of sets).
    pub fn config(&self) -> CacheConfig {
        self.cfg
    }

    /// Counters since creation.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// Number of blocks accepted but not yet written to the device (dirty
    /// cached blocks, combined writes still pending, blocks an open borrowed
    /// write recorded).
    pub fn dirty_blocks(&self) -> usize {
        self.slots.iter().filter(|s| s.valid && s.dirty).count()
            + (self.pending.len() >> self.shift)
            + self.borrowed_blocks()
    }

    /// Writes the pending combined run if it overlaps `count` blocks from
    /// `lba` (every access to those blocks must see it on the device first).
    /// Blocks an open borrowed write recorded cannot be accessed at all.
    fn settle(&mut self, lba: u64, count: u64) -> Result<(), StreamError> {
        self.check_borrowed(lba, count)?;
        let n = (self.pending.len() >> self.shift) as u64;
        if n > 0 && lba < self.pending_lba + n && self.pending_lba < lba.saturating_add(count) {
            self.write_pending()?;
        }
        Ok(())
    }

    /// Writes the pending combined run to the device. On failure the run is
    /// dropped with the cached copies of its blocks (the device holds unknown
    /// contents there) and the error returned.
    fn write_pending(&mut self) -> Result<(), StreamError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.stats.device_writes += 1;
        let res = self
            .dev
            .write_blocks(Lba::new(self.pending_lba), &self.pending);
        if res.is_err() {
            let (lba, count) = (self.pending_lba, (self.pending.len() >> self.shift) as u64);
            self.for_each_cached(lba, count, |st, i, _| st.slots[i] = EMPTY_SLOT);
        }
        self.pending.clear();
        res?;
        Ok(())
    }

    /// The device, for queries. Writing through it behind the stream's back makes
    /// the cache stale; call [`BlockStream::invalidate`] afterwards.
    pub fn device(&self) -> &D {
        &self.dev
    }

    /// Mutable access to the device; see [`BlockStream::device`].
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.dev
    }

    /// Writes back dirty blocks, then drops every cached block.
    pub fn invalidate(&mut self) -> Result<(), StreamError> {
        self.write_back_all()?;
        self.slots.fill(EMPTY_SLOT);
        (self.cached_lo, self.cached_hi) = (u64::MAX, 0);
        self.streams = [u64::MAX; STREAMS];
        Ok(())
    }

    /// Flushes everything and returns the device. On failure the stream comes back
    /// with the error, its dirty blocks still cached.
    pub fn into_inner(mut self) -> Result<D, IntoInnerError<D>> {
        match self.flush_all() {
            Ok(()) => Ok(self.dev),
            Err(error) => Err(IntoInnerError {
                stream: Box::new(self),
                error,
            }),
        }
    }

    /// Writes back every dirty block (in block order, contiguous runs as one
    /// request) and flushes the device.
    pub fn flush_all(&mut self) -> Result<(), StreamError> {
        self.write_back_all()?;
        if !self.dev.is_read_only() {
            self.dev.flush()?;
        }
        Ok(())
    }

    /// Records an access to `count` blocks from `lba`; true if it continues one
    /// of the recent streams.
    fn note_access(&mut self, lba: u64, count: u64) -> bool {
        let next = lba.saturating_add(count);
        if let Some(k) = self.streams.iter().position(|&n| n == lba) {
            self.streams[k] = next;
            return true;
        }
        if self.streams.contains(&next) {
            return false;
        }
        self.streams[self.stream_victim] = next;
        self.stream_victim = (self.stream_victim + 1) % STREAMS;
        false
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn set_range(&self, lba: u64) -> core::ops::Range<usize> {
        let set = match self.set_mask {
            Some(m) => (lba & m) as usize,
            None => (lba % self.cfg.sets as u64) as usize,
        };
        set * self.cfg.ways..(set + 1) * self.cfg.ways
    }

    fn find(&self, lba: u64) -> Option<usize> {
        let r = self.set_range(lba);
        let start = r.start;
        self.slots[r]
            .iter()
            .position(|s| s.valid && s.lba == lba)
            .map(|k| start + k)
    }

    /// Calls `f(stream, slot, k)` for every cached block of the `count` blocks
    /// from `lba` (block `lba + k` in `slot`): by a look in each block's set
    /// when the range is short, by one scan of every slot otherwise. fatfs
    /// writes a file a cluster at a time; scanning all 512 slots for each
    /// cluster cost more than the data's own copy under TCG.
    fn for_each_cached(
        &mut self,
        lba: u64,
        count: u64,
        mut f: impl FnMut(&mut Self, usize, usize),
    ) {
        let end = lba.saturating_add(count);
        if end <= self.cached_lo || lba >= self.cached_hi {
            return;
        }
        if count.saturating_mul(self.cfg.ways as u64) < self.slots.len() as u64 {
            for b in lba..end {
                if let Some(i) = self.find(b) {
                    f(self, i, (b - lba) as usize);
                }
            }
        } else {
            for i in 0..self.slots.len() {
                let s = self.slots[i];
                if s.valid && s.lba >= lba && s.lba < end {
                    f(self, i, (s.lba - lba) as usize);
                }
            }
        }
    }

    /// The fast path of small accesses (fatfs's 4-byte FAT entries, 32-byte
    /// directory entries): when `len` bytes at `pos` are part of one cached
    /// block (less than all of it) and no pending combined run covers that
    /// block, its slot and the offset in it, with the hit counted and the
    /// slot's LRU stamp renewed as the general path's `get_block` does (the
    /// caller notes the access, as it does too). The general path would find
    /// nothing to settle: the pending run is excluded here, and a cached block
    /// is never one an open borrowed write recorded (recording drops the
    /// cached copy, and nothing installs it again while the write is open).
    /// `None` sends the access the general way.
    #[inline]
    fn small_hit(&mut self, pos: u64, len: usize) -> Option<(usize, usize)> {
        let off = (pos & (self.bs as u64 - 1)) as usize;
        if len == 0 || len >= self.bs || len > self.bs - off {
            return None;
        }
        let lba = pos >> self.shift;
        let n = (self.pending.len() >> self.shift) as u64;
        if n > 0 && lba >= self.pending_lba && lba < self.pending_lba + n {
            return None;
        }
        let is = |s: &Self, j: usize| s.slots[j].valid && s.slots[j].lba == lba;
        let i = if is(self, self.recent[0]) {
            self.recent[0]
        } else if is(self, self.recent[1]) {
            self.recent.swap(0, 1);
            self.recent[0]
        } else {
            let i = self.find(lba)?;
            self.recent = [i, self.recent[0]];
            i
        };
        debug_assert!(self.check_borrowed(lba, 1).is_ok());
        self.stats.hits += 1;
        self.slots[i].used = self.tick();
        Some((i, off))
    }

    fn slot_data(&self, i: usize) -> &[u8] {
        &self.data[i * self.bs..(i + 1) * self.bs]
    }

    fn slot_data_mut(&mut self, i: usize) -> &mut [u8] {
        let bs = self.bs;
        &mut self.data[i * bs..(i + 1) * bs]
    }

    /// Writes back slot `i` if dirty, together with the dirty cached blocks
    /// directly before and after it (up to [`WRITE_BACK_RUN`] blocks) in one
    /// request, so sequential small writes leave the cache as large requests.
    fn write_back(&mut self, i: usize) -> Result<(), StreamError> {
        if !(self.slots[i].valid && self.slots[i].dirty) {
            return Ok(());
        }
        let lba = self.slots[i].lba;
        let dirty_at = |s: &Self, b: u64| s.find(b).filter(|&j| s.slots[j].dirty);
        let mut first = lba;
        let mut run = 1;
        while run < WRITE_BACK_RUN && first > 0 && dirty_at(self, first - 1).is_some() {
            first -= 1;
            run += 1;
        }
        while run < WRITE_BACK_RUN && dirty_at(self, first + run as u64).is_some() {
            run += 1;
        }
        let bs = self.bs;
        let mut members = [i; WRITE_BACK_RUN];
        for (k, m) in members[..run].iter_mut().enumerate() {
            match dirty_at(self, first + k as u64) {
                Some(j) => *m = j,
                // Cannot happen (nothing changed since the scan); stay safe.
                None => run = 1,
            }
        }
        self.stats.device_writes += 1;
        if run == 1 {
            self.dev
                .write_blocks(Lba::new(lba), &self.data[i * bs..(i + 1) * bs])?;
            self.slots[i].dirty = false;
            return Ok(());
        }
        let mut buf = core::mem::take(&mut self.wbuf);
        buf.clear();
        for &j in &members[..run] {
            buf.extend_from_slice(&self.data[j * bs..(j + 1) * bs]);
        }
        let res = self.dev.write_blocks(Lba::new(first), &buf);
        self.wbuf = buf;
        res?;
        for &j in &members[..run] {
            self.slots[j].dirty = false;
        }
        Ok(())
    }

    /// Picks a slot for `lba` in its set, writing back the victim if dirty. The
    /// returned slot is marked invalid until the caller fills it.
    fn victim(&mut self, lba: u64) -> Result<usize, StreamError> {
        let range = self.set_range(lba);
        let mut best = range.start;
        for i in range {
            if !self.slots[i].valid {
                best = i;
                break;
            }
            if self.slots[i].used < self.slots[best].used {
                best = i;
            }
        }
        self.write_back(best)?;
        self.slots[best].valid = false;
        Ok(best)
    }

    fn install(&mut self, i: usize, lba: u64, dirty: bool) {
        self.cached_lo = self.cached_lo.min(lba);
        self.cached_hi = self.cached_hi.max(lba + 1);
        let used = self.tick();
        self.slots[i] = Slot {
            lba,
            valid: true,
            dirty,
            used,
        };
    }

    /// The slot holding `lba`, reading it (and maybe read-ahead) on a miss.
    fn get_block(&mut self, lba: u64) -> Result<usize, StreamError> {
        if let Some(i) = self.find(lba) {
            self.stats.hits += 1;
            self.slots[i].used = self.tick();
            self.note_access(lba, 1);
            return Ok(i);
        }
        self.stats.misses += 1;
        let blocks_left = self.dev.block_count().saturating_sub(lba);
        let sequential = self.note_access(lba, 1);
        let mut n = if sequential {
            (self.cfg.readahead_blocks as u64).min(blocks_left) as usize
        } else {
            1
        };
        if n > 1 && self.check_borrowed(lba, n as u64).is_err() {
            // Read-ahead would cache device contents a borrowed write supersedes.
            n = 1;
        }
        self.settle(lba, n.max(1) as u64)?;
        if n <= 1 {
            let i = self.victim(lba)?;
            self.stats.device_reads += 1;
            let bs = self.bs;
            self.dev
                .read_blocks(Lba::new(lba), &mut self.data[i * bs..(i + 1) * bs])?;
            self.install(i, lba, false);
            return Ok(i);
        }
        // Read-ahead: one request for `n` blocks, then install the ones not cached
        // (a cached copy may be dirty and is newer than the device).
        let bs = self.bs;
        let mut scratch = core::mem::take(&mut self.scratch);
        self.stats.device_reads += 1;
        let res = self.dev.read_blocks(Lba::new(lba), &mut scratch[..n * bs]);
        if let Err(e) = res {
            self.scratch = scratch;
            return Err(e.into());
        }
        let mut first = None;
        let mut result = Ok(());
        for k in 0..n {
            let b = lba + k as u64;
            if self.find(b).is_some() {
                continue;
            }
            match self.victim(b) {
                Ok(i) => {
                    self.data[i * bs..(i + 1) * bs].copy_from_slice(&scratch[k * bs..(k + 1) * bs]);
                    self.install(i, b, false);
                    if k == 0 {
                        first = Some(i);
                    }
                }
                Err(e) => {
                    if k == 0 {
                        result = Err(e);
                    }
                    // A failed eviction leaves that set as it was; read-ahead is
                    // best effort beyond the requested block.
                    break;
                }
            }
        }
        self.scratch = scratch;
        result?;
        // The requested block was a miss, so k == 0 was installed.
        first.ok_or(StreamError::Device(BlockError::Io))
    }

    fn write_back_all(&mut self) -> Result<(), StreamError> {
        self.write_pending()?;
        let mut order: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].valid && self.slots[i].dirty)
            .collect();
        if order.is_empty() {
            return Ok(());
        }
        order.sort_unstable_by_key(|&i| self.slots[i].lba);
        let bs = self.bs;
        let mut run: Vec<u8> = Vec::new();
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len()
                && self.slots[order[end]].lba == self.slots[order[end - 1]].lba + 1
                && end - start < 256
            {
                end += 1;
            }
            let lba = Lba::new(self.slots[order[start]].lba);
            self.stats.device_writes += 1;
            if end - start == 1 {
                let i = order[start];
                self.dev
                    .write_blocks(lba, &self.data[i * bs..(i + 1) * bs])?;
            } else {
                run.clear();
                for &i in &order[start..end] {
                    run.extend_from_slice(&self.data[i * bs..(i + 1) * bs]);
                }
                self.dev.write_blocks(lba, &run)?;
            }
            for &i in &order[start..end] {
                self.slots[i].dirty = false;
            }
            start = end;
        }
        Ok(())
    }

    /// Reads at `pos` into `buf`, as far as the device end allows (0 bytes
    /// at or past it); the stream's position is neither used nor moved.
    pub fn read_at(&mut self, mut pos: u64, buf: &mut [u8]) -> Result<usize, StreamError> {
        if let Some((i, off)) = self.small_hit(pos, buf.len()) {
            copy_small(buf, &self.data[i * self.bs + off..][..buf.len()]);
            self.note_access(pos >> self.shift, 1);
            return Ok(buf.len());
        }
        let avail = self.size.saturating_sub(pos);
        let len = (buf.len() as u64).min(avail) as usize;
        let bs = self.bs as u64;
        let mut done = 0;
        while done < len {
            let lba = pos >> self.shift;
            let off = (pos & (bs - 1)) as usize;
            let rest = len - done;
            let whole = if off == 0 { rest >> self.shift } else { 0 };
            if whole >= self.cfg.bypass_blocks {
                let n = whole * self.bs;
                self.read_bypass(lba, &mut buf[done..done + n])?;
                done += n;
                pos += n as u64;
                continue;
            }
            self.settle(lba, 1)?;
            let i = self.get_block(lba)?;
            let take = (self.bs - off).min(rest);
            buf[done..done + take].copy_from_slice(&self.slot_data(i)[off..off + take]);
            done += take;
            pos += take as u64;
        }
        Ok(len)
    }

    fn read_bypass(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), StreamError> {
        let count = (buf.len() >> self.shift) as u64;
        self.settle(lba, count)?;
        self.stats.device_reads += 1;
        self.stats.bypass_bytes += buf.len() as u64;
        self.dev.read_blocks(Lba::new(lba), buf)?;
        // Dirty cached blocks are newer than the device: overlay them.
        let bs = self.bs;
        self.for_each_cached(lba, count, |st, i, k| {
            if st.slots[i].dirty {
                buf[k * bs..(k + 1) * bs].copy_from_slice(&st.data[i * bs..(i + 1) * bs]);
            }
        });
        self.note_access(lba, count);
        Ok(())
    }

    fn write_bypass(&mut self, lba: u64, buf: &[u8]) -> Result<(), StreamError> {
        let count = (buf.len() >> self.shift) as u64;
        self.check_borrowed(lba, count)?;
        let cap = self.cfg.write_combine_blocks * self.bs;
        let pending_end = self.pending_lba + (self.pending.len() >> self.shift) as u64;
        if cap > self.bs && buf.len() < cap {
            let continues = !self.pending.is_empty() && pending_end == lba;
            if !(continues && self.pending.len() + buf.len() <= cap) {
                self.write_pending()?;
                self.pending_lba = lba;
            }
            if self.pending.capacity() < cap {
                self.pending.reserve_exact(cap - self.pending.len());
            }
            self.pending.extend_from_slice(buf);
            self.stats.bypass_bytes += buf.len() as u64;
            // Cached copies of these blocks now hold what the device will.
            let bs = self.bs;
            self.for_each_cached(lba, count, |st, i, k| {
                st.data[i * bs..(i + 1) * bs].copy_from_slice(&buf[k * bs..(k + 1) * bs]);
                st.slots[i].dirty = false;
            });
            return Ok(());
        }
        self.settle(lba, count)?;
        self.stats.device_writes += 1;
        self.stats.bypass_bytes += buf.len() as u64;
        let res = self.dev.write_blocks(Lba::new(lba), buf);
        let bs = self.bs;
        let ok = res.is_ok();
        self.for_each_cached(lba, count, |st, i, k| {
            if ok {
                // The device now holds these bytes: the cached copy is clean.
                st.data[i * bs..(i + 1) * bs].copy_from_slice(&buf[k * bs..(k + 1) * bs]);
                st.slots[i].dirty = false;
            } else {
                // The range's device contents are unknown after a failed
                // write; the caller was told, and the old cached data is
                // superseded by the write it asked for.
                st.slots[i] = EMPTY_SLOT;
            }
        });
        res?;
        Ok(())
    }

    /// Writes `buf` at `pos`, as far as the device end allows (a write that
    /// starts at or past it is [`StreamError::EndOfDevice`]); the stream's
    /// position is neither used nor moved.
    pub fn write_at(&mut self, mut pos: u64, buf: &[u8]) -> Result<usize, StreamError> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.dev.is_read_only() {
            return Err(StreamError::Device(BlockError::ReadOnly));
        }
        if let Some((i, off)) = self.small_hit(pos, buf.len()) {
            copy_small(&mut self.data[i * self.bs + off..][..buf.len()], buf);
            self.slots[i].dirty = true;
            self.note_access(pos >> self.shift, 1);
            return Ok(buf.len());
        }
        if pos >= self.size {
            return Err(StreamError::EndOfDevice);
        }
        let len = (buf.len() as u64).min(self.size - pos) as usize;
        let bs = self.bs as u64;
        let mut done = 0;
        while done < len {
            let lba = pos >> self.shift;
            let off = (pos & (bs - 1)) as usize;
            let rest = len - done;
            let whole = if off == 0 { rest >> self.shift } else { 0 };
            if whole >= self.cfg.bypass_blocks {
                let n = whole * self.bs;
                let piece = &buf[done..done + n];
                if self.borrowed.is_none() || !self.record_borrowed(lba, piece)? {
                    self.write_bypass(lba, piece)?;
                }
                done += n;
                pos += n as u64;
                continue;
            }
            self.settle(lba, 1)?;
            let take = (self.bs - off).min(rest);
            let i = if take == self.bs {
                // A whole block: no need to read the old contents.
                match self.find(lba) {
                    Some(i) => i,
                    None => {
                        let i = self.victim(lba)?;
                        self.install(i, lba, false);
                        i
                    }
                }
            } else {
                self.get_block(lba)?
            };
            self.slot_data_mut(i)[off..off + take].copy_from_slice(&buf[done..done + take]);
            let used = self.tick();
            self.slots[i].dirty = true;
            self.slots[i].used = used;
            done += take;
            pos += take as u64;
        }
        Ok(len)
    }
}

impl<D: BlockDevice> ErrorType for BlockStream<D> {
    type Error = StreamError;
}

impl<D: BlockDevice> Read for BlockStream<D> {
    /// Fills as much of `buf` as the device holds from the current position; `Ok(0)`
    /// at the end of the device. On error the position is unchanged.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        let n = self.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<D: BlockDevice> Write for BlockStream<D> {
    /// Writes as much of `buf` as fits before the end of the device; a write that
    /// starts at the end is [`StreamError::EndOfDevice`]. On error the position is
    /// unchanged and the bytes already accepted are in the cache or on the device.
    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        let n = self.write_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }

    /// Writes back every dirty block and flushes the device.
    fn flush(&mut self) -> Result<(), StreamError> {
        self.flush_all()
    }
}

impl<D: BlockDevice> Seek for BlockStream<D> {
    /// Any position from 0 up is allowed; reads beyond the end return 0 bytes.
    fn seek(&mut self, pos: SeekFrom) -> Result<u64, StreamError> {
        let new = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let new = new.ok_or(StreamError::InvalidSeek)?;
        self.pos = new;
        Ok(new)
    }
}

/// `dst.copy_from_slice(src)`, with fatfs's 4-byte FAT entries copied
/// inline rather than through a `memcpy` call (also used by the FAT block
/// buffer, `fs/fatbuf.rs`).
#[inline(always)]
pub(crate) fn copy_small(dst: &mut [u8], src: &[u8]) {
    match (
        <&mut [u8; 4]>::try_from(&mut *dst),
        <&[u8; 4]>::try_from(src),
    ) {
        (Ok(d), Ok(s)) => *d = *s,
        _ => dst.copy_from_slice(src),
    }
}

mod borrowed;

#[cfg(test)]
mod tests;
