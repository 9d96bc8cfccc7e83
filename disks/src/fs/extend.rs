//! Extending a file's cluster chain ahead of lamfat, for
//! [`Volume::write_to_file`](super::Volume::write_to_file): the clusters a
//! write will need are allocated and linked here, in the held FAT blocks
//! (`fatbuf.rs`), so that lamfat, writing cluster by cluster, finds each next
//! cluster already in the chain and allocates nothing.
//!
//! lamfat allocating a cluster costs it a free-cluster search, two entry
//! reads and four entry writes (two entries, both FATs), each through its
//! byte-stream layers: over half of what a 4 KiB cluster written costs.
//! Following an existing chain costs it one entry read.
//!
//! [`find_free`], [`link`] and [`unlink`] also serve the writer that works
//! past lamfat altogether (`direct.rs`).
//!
//! What stays true:
//! - Clusters are taken only for bytes the caller is about to write, so after
//!   a successful write the chain is exactly as long as lamfat would have made
//!   it (`write_to_file` cuts the chain back at the file's position if lamfat's
//!   write fails).
//! - New clusters are marked end-of-chain before the chain is linked to them,
//!   and each entry keeps its reserved top four bits, as lamfat does; every
//!   entry goes to each FAT lamfat writes (both when mirroring).
//! - lamfat's own free-cluster count does not see these clusters: the count
//!   of them ([`FatBlocks::taken`](super::fatbuf::FatBlocks::taken)) is
//!   subtracted from what [`Volume::info`](super::Volume::info) reports and
//!   from what lamfat writes into FSInfo (`io.rs`). lamfat is made to count
//!   its free clusters before the first one is taken, so its count never
//!   includes them.
//! - The chain's end is remembered between calls (a 64 MiB file written in
//!   1 MiB calls must not walk its chain 64 times) and trusted only while
//!   lamfat has written no FAT entry since.

use alloc::vec::Vec;
use core::cell::Cell;

use ddk::BlockDevice;

use spin::Mutex;

use super::chain::Chains;
use super::fatbuf::FatBlocks;
use super::{corrupt, FatFile, FsError, Volume};
use crate::stream::BlockStream;

/// The last cluster of a chain and the chain's length, as measured when
/// lamfat had made `lamfat_writes` FAT writes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tail {
    first: u32,
    last: u32,
    clusters: u64,
    lamfat_writes: u64,
}

/// What the volume remembers for extending chains.
#[derive(Debug, Default)]
pub(super) struct Extender {
    tail: Cell<Option<Tail>>,
    /// lamfat has been made to count its free clusters.
    counted: Cell<bool>,
}

/// Entry values: end of chain, and the mask of the cluster number.
const EOC: u32 = 0x0FFF_FFFF;
const MASK: u32 = 0x0FFF_FFFF;

impl<D: BlockDevice> Volume<D> {
    /// Makes the chain of `f` long enough for `end` bytes (the position after
    /// the coming write), allocating and linking the clusters it lacks past
    /// lamfat. Does nothing for a file without a first cluster, a volume
    /// whose layout `chain.rs` cannot name, or when the volume is full (lamfat
    /// then allocates, and reports no space, itself).
    pub(super) fn extend_chain(&self, f: &mut FatFile<'_, D>, end: u64) -> Result<(), FsError> {
        let Some(chains) = self.chains else {
            return Ok(());
        };
        let first = match f.extents().next() {
            Some(Ok(e)) => chains.cluster_at(e.offset)?,
            _ => return Ok(()),
        };
        let need = end.div_ceil(chains.cluster_bytes);
        let mut fat = self.fat.lock();
        if !fat.whole_blocks() {
            return Ok(());
        }
        let (mut last, mut have) = match self.extender.tail.get() {
            Some(t) if t.first == first && t.lamfat_writes == fat.lamfat_writes() => {
                (t.last, t.clusters)
            }
            _ => {
                let read = chains.fat_offset;
                let mut c = first;
                let mut n = 1u64;
                loop {
                    let e = fat.entry(&self.stream, read + u64::from(c) * 4)? & MASK;
                    if e >= 0x0FFF_FFF8 {
                        break;
                    }
                    if !(2..chains.clusters + 2).contains(&u64::from(e)) || n > chains.clusters {
                        return Err(corrupt(alloc::format!(
                            "cluster chain from {first} is broken or loops at cluster {c} ({e:#x})"
                        )));
                    }
                    c = e;
                    n += 1;
                }
                (c, n)
            }
        };
        if have < need {
            drop(fat);
            self.count_free_once()?;
            fat = self.fat.lock();
            let want = (need - have) as usize;
            let found = find_free(&mut fat, &self.stream, &chains, u64::from(last), want)?;
            if let Some(&(end, _)) = found.last() {
                link(&mut fat, &self.stream, &chains, Some(last), &found)?;
                have += found.len() as u64;
                last = end;
            }
        }
        self.extender.tail.set(Some(Tail {
            first,
            last,
            clusters: have,
            lamfat_writes: fat.lamfat_writes(),
        }));
        Ok(())
    }
}

impl<D: BlockDevice> Volume<D> {
    /// lamfat counts free clusters lazily (FSInfo may say "unknown"): has
    /// it count before the volume takes any cluster past it, so that its
    /// count never includes one.
    pub(super) fn count_free_once(&self) -> Result<(), FsError> {
        if !self.extender.counted.get() {
            self.fs.stats().map_err(|e| FsError::from_fat(e, "/"))?;
            self.extender.counted.set(true);
        }
        Ok(())
    }

    /// Forgets the remembered chain end (the volume changed a chain
    /// without lamfat).
    pub(super) fn forget_tail(&self) {
        self.extender.tail.set(None);
    }
}

/// Up to `want` free clusters with their old entries (for the reserved top
/// bits), found by scanning whole held blocks of the FAT lamfat reads, from
/// the cluster after `after` round to it. Changes nothing.
pub(super) fn find_free<D: BlockDevice>(
    fat: &mut FatBlocks,
    stream: &Mutex<BlockStream<D>>,
    chains: &Chains,
    after: u64,
    want: usize,
) -> Result<Vec<(u32, u32)>, FsError> {
    let total = chains.clusters + 2;
    let bs = fat.block_size();
    let mut found: Vec<(u32, u32)> = Vec::with_capacity(want.min(1 << 16));
    let mut c = after + 1;
    let mut looked = 0u64;
    while found.len() < want && looked < chains.clusters {
        if c >= total {
            c = 2;
        }
        let pos = chains.fat_offset + c * 4;
        let at = pos & !(bs - 1);
        let block = fat.block(stream, at)?;
        for e in block[(pos - at) as usize..].chunks_exact(4) {
            let e = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
            if e & MASK == 0 {
                found.push((c as u32, e));
            }
            c += 1;
            looked += 1;
            if found.len() == want || looked == chains.clusters || c == total {
                break;
            }
        }
    }
    Ok(found)
}

/// Makes `found` (from [`find_free`]) a chain, each cluster naming the next
/// and the last the end of chain, keeping their reserved top bits, in every
/// FAT lamfat writes; then links `tail` (a chain's last cluster, if any) to
/// it, and counts the clusters as taken past lamfat.
pub(super) fn link<D: BlockDevice>(
    fat: &mut FatBlocks,
    stream: &Mutex<BlockStream<D>>,
    chains: &Chains,
    tail: Option<u32>,
    found: &[(u32, u32)],
) -> Result<(), FsError> {
    let Some(&(end, _)) = found.last() else {
        return Ok(());
    };
    let bs = fat.block_size();
    let tail_old = match tail {
        Some(t) => Some(fat.entry(stream, chains.fat_offset + u64::from(t) * 4)?),
        None => None,
    };
    for copy in chains.write_fats.iter().flatten() {
        for (j, &(c, old)) in found.iter().enumerate() {
            let next = found.get(j + 1).map_or(EOC, |n| n.0);
            let pos = copy + u64::from(c) * 4;
            let at = pos & !(bs - 1);
            let k = (pos - at) as usize;
            fat.block_mut(stream, at)?[k..k + 4]
                .copy_from_slice(&((old & !MASK) | next).to_le_bytes());
        }
    }
    if let (Some(t), Some(old)) = (tail, tail_old) {
        for copy in chains.write_fats.iter().flatten() {
            let value = (old & !MASK) | found[0].0;
            fat.set_entry(stream, copy + u64::from(t) * 4, value)?;
        }
    }
    fat.take(found.len() as u32, end);
    Ok(())
}

/// Undoes [`link`]: `found` free again (reserved bits kept) in every FAT
/// lamfat writes, `tail` (if any) the end of its chain again, the clusters
/// no longer counted as taken. Best effort on every entry; the first error
/// is returned.
pub(super) fn unlink<D: BlockDevice>(
    fat: &mut FatBlocks,
    stream: &Mutex<BlockStream<D>>,
    chains: &Chains,
    tail: Option<u32>,
    found: &[(u32, u32)],
) -> Result<(), FsError> {
    let mut first: Result<(), FsError> = Ok(());
    let mut set = |fat: &mut FatBlocks, c: u32, value: u32| {
        for copy in chains.write_fats.iter().flatten() {
            let pos = copy + u64::from(c) * 4;
            let res = fat
                .entry(stream, pos)
                .and_then(|old| fat.set_entry(stream, pos, (old & !MASK) | value));
            if let Err(e) = res {
                if first.is_ok() {
                    first = Err(FsError::Io(e));
                }
            }
        }
    };
    if let Some(t) = tail {
        set(fat, t, EOC);
    }
    for &(c, _) in found {
        set(fat, c, 0);
    }
    fat.untake(found.len() as u32);
    first
}
