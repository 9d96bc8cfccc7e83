//! A write-back buffer of FAT blocks between lamfat and the block stream:
//! [`FatBlocks`] keeps the few FAT blocks lamfat is working in, serves its
//! 4-byte FAT reads and writes from them, and writes a block to the stream
//! only when another block needs its place or when asked ([`FatBlocks::write_back`]).
//!
//! lamfat allocating one cluster reads about four FAT entries and writes four
//! (the new end of chain and the link to it, each in both FATs); through the
//! stream each write cost a lock, a positional write and a cache look-up.
//! Here they are copies into a block already at hand, and 128 clusters' worth
//! of entries (one 512-byte block per FAT copy) reach the stream as two
//! whole-block writes.
//!
//! What stays true:
//! - Only whole blocks inside the FAT region are held, so no access outside
//!   the FATs ever touches a held block.
//! - Everything that reads the FAT past [`super::FatIo`] (the volume's chain
//!   walker, `fs/chain.rs`) calls [`FatBlocks::write_back`] first, and so
//!   do [`super::Volume::flush`], [`super::Volume::unmount`] and the
//!   `FatIo`'s drop; a [`super::FatIo`] access that overlaps the FATs
//!   without being inside one held block writes back (and, for a write,
//!   drops) the held blocks first.
//! - A block whose write-back failed stays held and dirty, and the error
//!   goes to the caller: nothing is dropped silently. The next write-back
//!   tries again.
//! - lamfat writes every FAT entry to each FAT copy in turn, so the copies
//!   stay equal once written back; the slots hold the blocks of both copies
//!   side by side (four slots: a chain crossing a block boundary touches two
//!   blocks of each copy).

use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use crate::stream::{copy_small, BlockStream, StreamError};
use ddk::BlockDevice;

/// Blocks held at once.
const SLOTS: usize = 4;

/// No block (an impossible, unaligned offset).
const NONE: u64 = u64::MAX;

/// The held FAT blocks. Shared (behind a lock) by the [`super::FatIo`] that
/// lamfat writes through and the [`super::Volume`] that reads chains and
/// flushes.
pub struct FatBlocks {
    /// Byte range of the FATs (all copies); blocks wholly inside it are held.
    fat: Range<u64>,
    /// Block size (the stream's), a power of two.
    bs: u64,
    /// Byte offset of the block each slot holds, [`NONE`] for none.
    at: [u64; SLOTS],
    dirty: [bool; SLOTS],
    /// LRU stamps: larger is more recent.
    used: [u64; SLOTS],
    clock: u64,
    /// The slot used last and the one before it (lamfat alternates between
    /// the two FAT copies), looked at first.
    last: usize,
    prev: usize,
    /// `SLOTS * bs` bytes; slot `i` owns `data[i*bs..(i+1)*bs]`.
    data: Vec<u8>,
    /// Counts lamfat's FAT writes: a chain the volume measured is still as
    /// it was while this has not moved (`extend.rs`).
    lamfat_writes: u64,
    /// Clusters the volume allocated past lamfat (`extend.rs`): lamfat's
    /// free count is that much too high, and its FSInfo write is corrected.
    taken: u32,
    /// One past the last cluster taken past lamfat (0: none), and lamfat's
    /// FAT write count then: FSInfo's next-free hint, while lamfat has not
    /// written the FAT since (as lamfat's own hint follows its last
    /// allocation).
    hint: u32,
    hint_writes: u64,
}

impl FatBlocks {
    /// A buffer for the FATs in `fat` (empty: nothing is ever held) on a
    /// stream of `bs`-byte blocks.
    pub(crate) fn new(fat: Range<u64>, bs: usize) -> Self {
        FatBlocks {
            fat,
            bs: bs as u64,
            at: [NONE; SLOTS],
            dirty: [false; SLOTS],
            used: [0; SLOTS],
            clock: 0,
            last: 0,
            prev: 1,
            data: vec![0; SLOTS * bs],
            lamfat_writes: 0,
            taken: 0,
            hint: 0,
            hint_writes: 0,
        }
    }

    /// The blocks that may be held, as `(first, bytes)`: the whole blocks
    /// inside the FATs `fat` on a stream of `bs`-byte blocks.
    pub(crate) fn holdable(fat: &Range<u64>, bs: u64) -> (u64, u64) {
        let first = fat.start.next_multiple_of(bs);
        let end = fat.end & !(bs - 1);
        (first, end.saturating_sub(first))
    }

    /// The byte offset of the block holding all `len` bytes at `pos`, if
    /// that block may be held (`holdable`, from [`FatBlocks::holdable`]; `bs`
    /// is the block size).
    #[inline(always)]
    pub(crate) fn block_of(holdable: (u64, u64), bs: u64, pos: u64, len: usize) -> Option<u64> {
        let at = pos & !(bs - 1);
        let inside = at.wrapping_sub(holdable.0) < holdable.1 && (pos - at) + len as u64 <= bs;
        inside.then_some(at)
    }

    /// Whether `len` bytes at `pos` overlap the FATs `fat` at all.
    #[inline]
    pub(crate) fn overlaps(fat: &Range<u64>, pos: u64, len: usize) -> bool {
        pos < fat.end && pos.saturating_add(len as u64) > fat.start
    }

    /// Whether the FATs start and end on block boundaries, so that every
    /// FAT entry lies in a block that may be held.
    pub(crate) fn whole_blocks(&self) -> bool {
        self.fat.start.is_multiple_of(self.bs) && self.fat.end.is_multiple_of(self.bs)
    }

    /// Dirty blocks held (not yet written to the stream).
    pub fn dirty_blocks(&self) -> usize {
        self.dirty.iter().filter(|&&d| d).count()
    }

    /// The slot holding the block at `at`: the one used last, looked at
    /// inline, else [`FatBlocks::switch`].
    #[inline(always)]
    fn slot<D: BlockDevice>(
        &mut self,
        stream: &spin::Mutex<BlockStream<D>>,
        at: u64,
    ) -> Result<usize, StreamError> {
        if self.at[self.last] == at {
            return Ok(self.last);
        }
        if self.at[self.prev] == at {
            core::mem::swap(&mut self.last, &mut self.prev);
            return Ok(self.last);
        }
        self.switch(stream, at)
    }

    /// The slot holding the block at `at` when it is neither of the two used
    /// last, loading it from `stream` (after writing back the least recently
    /// used slot) when it is not held. LRU stamps change only here: the two
    /// slots used last are the most recent ones by definition.
    #[inline(never)]
    fn switch<D: BlockDevice>(
        &mut self,
        stream: &spin::Mutex<BlockStream<D>>,
        at: u64,
    ) -> Result<usize, StreamError> {
        self.clock += 2;
        self.used[self.prev] = self.clock - 1;
        self.used[self.last] = self.clock;
        let i = match self.at.iter().position(|&a| a == at) {
            Some(i) => i,
            None => {
                let mut v = 0;
                for k in 1..SLOTS {
                    if self.used[k] < self.used[v] {
                        v = k;
                    }
                }
                let mut s = stream.lock();
                self.write_slot(&mut s, v)?;
                let bs = self.bs as usize;
                let got = s.read_at(at, &mut self.data[v * bs..(v + 1) * bs]);
                if got != Ok(bs) {
                    self.at[v] = NONE;
                    return Err(got.err().unwrap_or(StreamError::EndOfDevice));
                }
                self.at[v] = at;
                v
            }
        };
        self.clock += 1;
        self.used[i] = self.clock;
        if i != self.last {
            self.prev = self.last;
            self.last = i;
        }
        Ok(i)
    }

    /// Reads `buf` at `pos`, which lies in the block at `at` (one
    /// [`FatBlocks::block_of`] names).
    #[inline]
    pub(crate) fn read<D: BlockDevice>(
        &mut self,
        stream: &spin::Mutex<BlockStream<D>>,
        at: u64,
        pos: u64,
        buf: &mut [u8],
    ) -> Result<(), StreamError> {
        let i = self.slot(stream, at)?;
        let off = i * self.bs as usize + (pos - at) as usize;
        copy_small(buf, &self.data[off..off + buf.len()]);
        Ok(())
    }

    /// Writes `buf` at `pos`, which lies in the block at `at` (one
    /// [`FatBlocks::block_of`] names), into the held block; the stream sees
    /// it on write-back.
    #[inline]
    pub(crate) fn write<D: BlockDevice>(
        &mut self,
        stream: &spin::Mutex<BlockStream<D>>,
        at: u64,
        pos: u64,
        buf: &[u8],
    ) -> Result<(), StreamError> {
        let i = self.slot(stream, at)?;
        let off = i * self.bs as usize + (pos - at) as usize;
        copy_small(&mut self.data[off..off + buf.len()], buf);
        self.dirty[i] = true;
        self.lamfat_writes += 1;
        Ok(())
    }

    /// How many FAT writes lamfat has made (through the buffer or not).
    pub(crate) fn lamfat_writes(&self) -> u64 {
        self.lamfat_writes
    }

    /// Clusters allocated past lamfat so far.
    pub(crate) fn taken(&self) -> u32 {
        self.taken
    }

    /// Notes `n` clusters allocated past lamfat, the last of them `last`.
    pub(crate) fn take(&mut self, n: u32, last: u32) {
        self.taken = self.taken.saturating_add(n);
        self.hint = last.wrapping_add(1);
        self.hint_writes = self.lamfat_writes;
    }

    /// Notes `n` clusters taken past lamfat given back (a write that failed
    /// after they were linked, `direct.rs`).
    pub(crate) fn untake(&mut self, n: u32) {
        self.taken = self.taken.saturating_sub(n);
    }

    /// The next-free hint FSInfo should get instead of lamfat's, if the
    /// last allocation was one past lamfat.
    pub(crate) fn hint(&self) -> Option<u32> {
        (self.hint != 0 && self.hint_writes == self.lamfat_writes).then_some(self.hint)
    }

    /// The 32-bit FAT entry at byte `pos` (inside the FATs, 4-aligned).
    pub(crate) fn entry<D: BlockDevice>(
        &mut self,
        stream: &spin::Mutex<BlockStream<D>>,
        pos: u64,
    ) -> Result<u32, StreamError> {
        let at = pos & !(self.bs - 1);
        let mut b = [0u8; 4];
        self.read(stream, at, pos, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Sets the 32-bit FAT entry at byte `pos` (inside the FATs, 4-aligned)
    /// to `value`; not counted as lamfat's.
    pub(crate) fn set_entry<D: BlockDevice>(
        &mut self,
        stream: &spin::Mutex<BlockStream<D>>,
        pos: u64,
        value: u32,
    ) -> Result<(), StreamError> {
        let at = pos & !(self.bs - 1);
        let i = self.slot(stream, at)?;
        let off = i * self.bs as usize + (pos - at) as usize;
        self.data[off..off + 4].copy_from_slice(&value.to_le_bytes());
        self.dirty[i] = true;
        Ok(())
    }

    /// The block size: FAT blocks are held whole.
    pub(crate) fn block_size(&self) -> u64 {
        self.bs
    }

    /// The held block at `at` (a block-aligned offset inside the FATs),
    /// loaded if need be, to read many entries at once.
    #[inline]
    pub(crate) fn block<D: BlockDevice>(
        &mut self,
        stream: &spin::Mutex<BlockStream<D>>,
        at: u64,
    ) -> Result<&[u8], StreamError> {
        let i = self.slot(stream, at)?;
        let bs = self.bs as usize;
        Ok(&self.data[i * bs..(i + 1) * bs])
    }

    /// As [`FatBlocks::block`], to write: the block is marked dirty (the
    /// writes are not counted as lamfat's).
    #[inline]
    pub(crate) fn block_mut<D: BlockDevice>(
        &mut self,
        stream: &spin::Mutex<BlockStream<D>>,
        at: u64,
    ) -> Result<&mut [u8], StreamError> {
        let i = self.slot(stream, at)?;
        self.dirty[i] = true;
        let bs = self.bs as usize;
        Ok(&mut self.data[i * bs..(i + 1) * bs])
    }

    /// Writes slot `i` to the stream if dirty; it stays held, clean.
    fn write_slot<D: BlockDevice>(
        &mut self,
        s: &mut BlockStream<D>,
        i: usize,
    ) -> Result<(), StreamError> {
        if !self.dirty[i] {
            return Ok(());
        }
        let bs = self.bs as usize;
        s.write_at(self.at[i], &self.data[i * bs..(i + 1) * bs])?;
        self.dirty[i] = false;
        Ok(())
    }

    /// Writes every dirty held block to the stream (in block order), each
    /// staying held, clean. Every block is tried even after one fails; the
    /// first error is returned and the failed blocks stay dirty.
    pub fn write_back<D: BlockDevice>(
        &mut self,
        s: &mut BlockStream<D>,
    ) -> Result<(), StreamError> {
        let mut order: [usize; SLOTS] = core::array::from_fn(|i| i);
        order.sort_unstable_by_key(|&i| self.at[i]);
        let mut first = Ok(());
        for i in order {
            if let Err(e) = self.write_slot(s, i) {
                first = first.and(Err(e));
            }
        }
        first
    }

    /// Before an access to `len` bytes at `pos` that goes to the stream
    /// itself: writes back every dirty held block if the access overlaps the
    /// FATs, and for a write (`drop`) stops holding the blocks it overlaps
    /// (the stream will have newer bytes there).
    pub(crate) fn before_stream_access<D: BlockDevice>(
        &mut self,
        s: &mut BlockStream<D>,
        pos: u64,
        len: usize,
        drop: bool,
    ) -> Result<(), StreamError> {
        if !Self::overlaps(&self.fat, pos, len) {
            return Ok(());
        }
        self.write_back(s)?;
        if drop {
            self.lamfat_writes += 1;
            let end = pos.saturating_add(len as u64);
            for i in 0..SLOTS {
                if self.at[i] != NONE && self.at[i] < end && pos < self.at[i] + self.bs {
                    self.at[i] = NONE;
                }
            }
        }
        Ok(())
    }
}
