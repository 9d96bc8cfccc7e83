//! Borrowed writes: whole blocks written from a buffer the caller still holds
//! are recorded, not copied, and reach the device from that buffer, as merged
//! runs, when the caller ends the write.
//!
//! fatfs (lamfat) writes a file one cluster per call: a 1 MiB `write` becomes
//! 256 writes of 4 KiB, each a slice of the caller's buffer. Combining them
//! (`write_bypass`) copies every byte into the pending run first; under QEMU/TCG
//! that copy and its bookkeeping cost as much as the device writes themselves.
//! Between [`BlockStream::begin_borrowed`] and [`BlockStream::end_borrowed`]
//! the stream instead notes, for each whole-block write of at least
//! [`CacheConfig::bypass_blocks`] blocks whose bytes lie inside the announced
//! buffer, where in that buffer they are; `end_borrowed` writes the notes
//! straight from the buffer (contiguous on the device and in the buffer: one
//! request, up to [`CacheConfig::write_combine_blocks`]). Which slice of the
//! buffer a write carries is found by comparing addresses; nothing is read
//! through a pointer, so no `unsafe` is involved.
//!
//! Coherence while a borrowed write is open: recording a run drops the cached
//! copies of its blocks (the run supersedes them) and first writes a pending
//! combined run that overlaps it; any other access to a recorded block (a read,
//! an unrecorded write, read-ahead) is refused with
//! [`StreamError::BorrowedBlocks`] rather than served stale, and read-ahead stops
//! short of recorded blocks. Recorded blocks reach the device in
//! `end_borrowed`, not in [`BlockStream::flush`]; a stream dropped with a
//! borrowed write open loses them, as it loses dirty blocks.
//!
//! Errors: `end_borrowed` writes every run even after one fails and returns
//! the first failure, so a bad range costs only its own bytes and the caller
//! hears of it in the same call.

use alloc::vec::Vec;

use super::{BlockDevice, BlockStream, Lba, StreamError, EMPTY_SLOT};

/// An open borrowed write: the caller's buffer (address and length) and the
/// runs recorded from it so far, in order.
pub(super) struct Borrowed {
    base: usize,
    len: usize,
    runs: Vec<Run>,
    /// Smallest and one past the largest recorded block: a quick filter.
    lo: u64,
    hi: u64,
}

/// `len` bytes at offset `off` of the borrowed buffer, for the blocks from `lba`.
#[derive(Clone, Copy, Debug)]
struct Run {
    lba: u64,
    off: usize,
    len: usize,
}

impl Borrowed {
    /// Whether `count` blocks from `lba` overlap a recorded run.
    pub(super) fn overlaps(&self, lba: u64, count: u64, shift: u32) -> bool {
        let end = lba.saturating_add(count);
        if end <= self.lo || lba >= self.hi {
            return false;
        }
        self.runs.iter().any(|r| {
            let r_end = r.lba + (r.len >> shift) as u64;
            lba < r_end && r.lba < end
        })
    }
}

impl<D: BlockDevice> BlockStream<D> {
    /// Opens a borrowed write over `src`: until [`BlockStream::end_borrowed`],
    /// whole-block writes of at least `bypass_blocks` blocks whose bytes lie in
    /// `src` are recorded instead of copied. Only one may be open;
    /// [`StreamError::BorrowedBlocks`] if one already is.
    pub fn begin_borrowed(&mut self, src: &[u8]) -> Result<(), StreamError> {
        if self.borrowed.is_some() {
            return Err(StreamError::BorrowedBlocks);
        }
        self.borrowed = Some(Borrowed {
            base: src.as_ptr() as usize,
            len: src.len(),
            runs: Vec::new(),
            lo: u64::MAX,
            hi: 0,
        });
        Ok(())
    }

    /// Ends the borrowed write over `src` (the same buffer `begin_borrowed`
    /// was given): writes every recorded run from it, each contiguous stretch
    /// as one request, all of them even if one fails, and returns the first
    /// failure. `Ok` when none is open. A different buffer is
    /// [`StreamError::BorrowedBlocks`] and the recorded runs are dropped (their
    /// bytes are not known).
    pub fn end_borrowed(&mut self, src: &[u8]) -> Result<(), StreamError> {
        let Some(b) = self.borrowed.take() else {
            return Ok(());
        };
        if b.base != src.as_ptr() as usize || b.len != src.len() {
            return Err(StreamError::BorrowedBlocks);
        }
        let mut first = None;
        for r in &b.runs {
            self.stats.device_writes += 1;
            let res = self
                .dev
                .write_blocks(Lba::new(r.lba), &src[r.off..r.off + r.len]);
            if let Err(e) = res {
                first.get_or_insert(e);
            }
        }
        match first {
            Some(e) => Err(StreamError::Device(e)),
            None => Ok(()),
        }
    }

    /// Records `buf`, whole blocks from `lba`, if a borrowed write is open and
    /// `buf` lies in its buffer; false (nothing done) otherwise.
    pub(super) fn record_borrowed(&mut self, lba: u64, buf: &[u8]) -> Result<bool, StreamError> {
        let addr = buf.as_ptr() as usize;
        let off = match &self.borrowed {
            Some(b) if addr >= b.base && addr + buf.len() <= b.base + b.len => addr - b.base,
            _ => return Ok(false),
        };
        let (bs, shift) = (self.bs, self.shift);
        let count = (buf.len() >> self.shift) as u64;
        // A pending combined run over these blocks is older: it goes first.
        let n = (self.pending.len() >> self.shift) as u64;
        if n > 0 && lba < self.pending_lba + n && self.pending_lba < lba + count {
            self.write_pending()?;
        }
        // The run supersedes cached copies, dirty or not.
        self.for_each_cached(lba, count, |st, i, _| st.slots[i] = EMPTY_SLOT);
        let cap = self.cfg.write_combine_blocks.max(1) * bs;
        self.stats.bypass_bytes += buf.len() as u64;
        let Some(b) = self.borrowed.as_mut() else {
            return Ok(false);
        };
        b.lo = b.lo.min(lba);
        b.hi = b.hi.max(lba + count);
        match b.runs.last_mut() {
            Some(last)
                if last.lba + (last.len >> shift) as u64 == lba
                    && last.off + last.len == off
                    && last.len + buf.len() <= cap =>
            {
                last.len += buf.len();
            }
            _ => b.runs.push(Run {
                lba,
                off,
                len: buf.len(),
            }),
        }
        Ok(true)
    }

    /// [`StreamError::BorrowedBlocks`] if `count` blocks from `lba` overlap
    /// a recorded run of the open borrowed write.
    pub(super) fn check_borrowed(&self, lba: u64, count: u64) -> Result<(), StreamError> {
        match &self.borrowed {
            Some(b) if b.overlaps(lba, count, self.shift) => Err(StreamError::BorrowedBlocks),
            _ => Ok(()),
        }
    }

    /// Blocks recorded by the open borrowed write, not yet on the device.
    pub(super) fn borrowed_blocks(&self) -> usize {
        self.borrowed
            .as_ref()
            .map_or(0, |b| b.runs.iter().map(|r| r.len >> self.shift).sum())
    }
}
