//! Following a file's cluster chain for [`Volume::stream_file`](super::Volume::stream_file)
//! by reading the FAT directly (never writing it): [`Chains`] knows where the
//! FAT lamfat reads and the data area lie, and [`Chains::runs`] turns a
//! file's chain into contiguous byte runs of the volume.
//!
//! lamfat's `File::extents` costs a seek and a 4-byte read through the
//! stream's lock for every cluster (on 4 KiB clusters, more guest time than
//! reading the data itself under QEMU/TCG). Here the FAT is read through the
//! same block stream, after the volume has moved the FAT blocks lamfat's
//! storage holds (`fatbuf.rs`) into it, so it sees every FAT entry lamfat has
//! written, cached or not, in 512-byte pieces, and the chain is followed in
//! a tight loop.
//! The result is the one lamfat's extents give: the file's size bounds the
//! walk (so a loop in the chain cannot hang it), a free, bad or end-of-chain
//! entry ends the chain early (the caller sees fewer bytes than the size),
//! and an entry naming no cluster of the volume is a clear
//! [`FsError::Corrupt`] where lamfat would compute a wrong offset.

use alloc::vec;

use super::{corrupt, FsError};

/// Reads the volume's bytes at an offset into a buffer, as the stream does,
/// with every FAT entry lamfat has written; returns the bytes read.
pub(super) type ReadFat<'a> = dyn FnMut(u64, &mut [u8]) -> Result<usize, FsError> + 'a;

/// FAT entries read at a time: 128 (one 512-byte piece).
const WINDOW: u64 = 128;

/// Where a FAT32 volume's chains and data lie (from the checked boot sector).
#[derive(Clone, Copy, Debug)]
pub(super) struct Chains {
    /// Byte offset of the FAT lamfat reads (the first, or the active one
    /// when mirroring is off).
    pub(super) fat_offset: u64,
    /// Byte offset of cluster 2.
    pub(super) data_offset: u64,
    pub(super) cluster_bytes: u64,
    /// Data clusters (valid cluster numbers are `2..clusters + 2`).
    pub(super) clusters: u64,
    /// Byte offsets of the FATs lamfat writes each entry to (both copies
    /// when mirroring, else the active one), for chains extended past
    /// lamfat (`extend.rs`).
    pub(super) write_fats: [Option<u64>; 2],
    /// The root directory's first cluster (`direct.rs` finds entries).
    pub(super) root_cluster: u32,
}

impl Chains {
    /// The cluster whose data starts at byte `offset` of the volume.
    pub(super) fn cluster_at(&self, offset: u64) -> Result<u32, FsError> {
        let rel = offset.checked_sub(self.data_offset);
        match rel {
            Some(r) if r % self.cluster_bytes == 0 && r / self.cluster_bytes < self.clusters => {
                Ok((r / self.cluster_bytes + 2) as u32)
            }
            _ => Err(corrupt(alloc::format!(
                "byte {offset} is not the start of a data cluster"
            ))),
        }
    }

    /// Calls `run(at, len)` for each contiguous stretch of the `size` bytes
    /// of the chain starting at cluster `first`, in file order (adjacent
    /// clusters merged); returns the bytes covered, less than `size` when the
    /// chain ends early. `read_fat(at, buf)` reads the volume's bytes at `at`
    /// as the stream does, with every FAT entry lamfat has written. `path`
    /// names the file in errors.
    pub(super) fn runs(
        &self,
        read_fat: &mut ReadFat<'_>,
        first: u32,
        size: u64,
        path: &str,
        run: &mut dyn FnMut(u64, u64) -> Result<(), FsError>,
    ) -> Result<u64, FsError> {
        let end = self.clusters + 2;
        let mut window = vec![0u8; (WINDOW * 4) as usize];
        // FAT entries `base..base + have` are in `window`.
        let (mut base, mut have) = (0u64, 0u64);
        let mut cluster = u64::from(first);
        if !(2..end).contains(&cluster) {
            return Err(corrupt(alloc::format!(
                "{path}: first cluster {first} outside the volume"
            )));
        }
        let mut left = size;
        let (mut at, mut len) = (0u64, 0u64);
        while left > 0 {
            let take = self.cluster_bytes.min(left);
            let here = self.data_offset + (cluster - 2) * self.cluster_bytes;
            if len > 0 && at + len == here {
                len += take;
            } else {
                if len > 0 {
                    run(at, len)?;
                    // The sink may have used the volume: read the FAT afresh.
                    have = 0;
                }
                (at, len) = (here, take);
            }
            left -= take;
            if left == 0 {
                break;
            }
            if cluster < base || cluster >= base + have {
                base = cluster - cluster % WINDOW;
                have = WINDOW.min(end - base);
                let bytes = &mut window[..(have * 4) as usize];
                let got = read_fat(self.fat_offset + base * 4, bytes)?;
                if got < bytes.len() {
                    return Err(FsError::UnexpectedEof);
                }
            }
            let k = ((cluster - base) * 4) as usize;
            let e = &window[k..k + 4];
            let next = u64::from(u32::from_le_bytes([e[0], e[1], e[2], e[3]]) & 0x0FFF_FFFF);
            if (2..end).contains(&next) {
                cluster = next;
            } else if next == 0 || next >= 0x0FFF_FFF7 {
                // Free, bad or end of chain: lamfat's chain ends here too.
                break;
            } else {
                return Err(corrupt(alloc::format!(
                    "{path}: FAT entry {cluster} is {next:#x}, outside the volume's {} clusters",
                    self.clusters
                )));
            }
        }
        if len > 0 {
            run(at, len)?;
        }
        Ok(size - left)
    }
}
