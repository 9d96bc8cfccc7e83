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

use core::cell::Cell;

use ddk::BlockDevice;

use super::fatbuf::FatBlocks;
use super::{corrupt, FatFile, FsError, Volume};

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
            if !self.extender.counted.get() {
                // lamfat counts free clusters lazily (FSInfo may say
                // "unknown"): have it count before any is taken here.
                drop(fat);
                self.fs.stats().map_err(|e| FsError::from_fat(e, "/"))?;
                self.extender.counted.set(true);
                fat = self.fat.lock();
            }
            let total = chains.clusters + 2;
            // Each entry keeps its reserved top bits and goes to every FAT
            // lamfat writes.
            let set = |fat: &mut FatBlocks, c: u64, old: u32, value: u32| -> Result<(), FsError> {
                for copy in chains.write_fats.iter().flatten() {
                    fat.set_entry(&self.stream, copy + c * 4, (old & !MASK) | value)?;
                }
                Ok(())
            };
            let tail = u64::from(last);
            let tail_old = fat.entry(&self.stream, chains.fat_offset + tail * 4)?;
            // The first new cluster, and the one found last (with its old
            // entry), which is linked to the next when that is found.
            let mut first_new = 0u64;
            let mut pending: Option<(u64, u32)> = None;
            let mut taken = 0u32;
            let mut c = tail + 1;
            let mut looked = 0u64;
            while have < need && looked < chains.clusters {
                if c >= total {
                    c = 2;
                }
                looked += 1;
                let e = fat.entry(&self.stream, chains.fat_offset + c * 4)?;
                if e & MASK == 0 {
                    match pending {
                        Some((p, old)) => set(&mut fat, p, old, c as u32)?,
                        None => first_new = c,
                    }
                    pending = Some((c, e));
                    taken += 1;
                    have += 1;
                }
                c += 1;
            }
            if let Some((p, old)) = pending {
                set(&mut fat, p, old, EOC)?;
                set(&mut fat, tail, tail_old, first_new as u32)?;
                fat.take(taken, p as u32);
                last = p as u32;
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
