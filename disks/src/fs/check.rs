//! The checks [`Volume::mount`](super::Volume::mount) runs before lamfat
//! sees a volume (FAT32 layout per the Microsoft FAT specification, "BPB",
//! "FAT" and "Directory" sections): the boot sector against the device size,
//! every FAT entry, and every directory entry's first cluster, walking the
//! tree with loop detection.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use crate::stream::BlockStream;
use ddk::BlockDevice;
use embedded_io::{Read as _, Seek as _};

use super::{corrupt, read_exact_at, FsError, MAX_DIR_ENTRIES};

/// Boot-sector facts [`Volume::mount`] checks before lamfat sees the volume.
#[derive(Clone, Copy, Debug)]
pub(super) struct Bpb {
    fat_offset: u64,
    /// Byte offset of cluster 2.
    data_offset: u64,
    cluster_bytes: u64,
    media: u8,
    root_cluster: u32,
    clusters: u64,
    /// Byte offset of the FAT lamfat reads: the active one when mirroring
    /// is off (extended flags bit 7), else the first; `None` when the
    /// active FAT named is not one of the volume's.
    read_fat_offset: Option<u64>,
    /// Bytes per FAT, number of FATs, and whether lamfat writes every FAT
    /// (mirroring on: extended flags bit 7 clear).
    fat_bytes: u64,
    fats: u8,
    mirrored: bool,
    /// Byte offset of the FSInfo sector (0: none).
    fsinfo: u64,
}

impl Bpb {
    /// The byte range of the FATs (all copies).
    pub(super) fn fat_range(&self) -> core::ops::Range<u64> {
        self.fat_offset..self.data_offset
    }

    /// Where chains and data lie, for reading chains without lamfat
    /// (`chain.rs`); `None` when lamfat's FAT is not one of the volume's.
    pub(super) fn chains(&self) -> Option<super::chain::Chains> {
        let fat_offset = self.read_fat_offset?;
        let write_fats = if self.mirrored {
            [
                Some(self.fat_offset),
                (self.fats > 1).then_some(self.fat_offset + self.fat_bytes),
            ]
        } else {
            [Some(fat_offset), None]
        };
        Some(super::chain::Chains {
            fat_offset,
            data_offset: self.data_offset,
            cluster_bytes: self.cluster_bytes,
            clusters: self.clusters,
            write_fats,
            root_cluster: self.root_cluster,
        })
    }

    /// Byte offset of the FSInfo sector's free cluster count (`None`: the
    /// volume names no FSInfo sector inside its reserved area).
    pub(super) fn free_count_at(&self) -> Option<u64> {
        (self.fsinfo != 0).then_some(self.fsinfo + 488)
    }
}

fn le16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn le32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

pub(super) fn check_boot_sector<D: BlockDevice>(s: &mut BlockStream<D>) -> Result<Bpb, FsError> {
    let dev_size = s.len();
    if dev_size < 512 {
        return Err(corrupt(alloc::format!(
            "device has {dev_size} bytes, less than one boot sector"
        )));
    }
    let mut b = [0u8; 512];
    s.seek(embedded_io::SeekFrom::Start(0))?;
    s.read_exact(&mut b).map_err(|e| match e {
        embedded_io::ReadExactError::Other(e) => FsError::Io(e),
        embedded_io::ReadExactError::UnexpectedEof => FsError::UnexpectedEof,
    })?;
    if b[510] != 0x55 || b[511] != 0xAA {
        return Err(corrupt(
            "no boot sector signature 55 AA (zeroed or not a FAT volume)",
        ));
    }
    let bps = le16(&b, 11);
    let spc = b[13];
    let reserved = le16(&b, 14);
    let fats = b[16];
    let root_entries = le16(&b, 17);
    let total16 = le16(&b, 19);
    let media = b[21];
    let fat16_size = le16(&b, 22);
    let total32 = le32(&b, 32);
    let fat32_size = le32(&b, 36);
    let ext_flags = le16(&b, 40);
    let root_cluster = le32(&b, 44);
    let fsinfo_sector = le16(&b, 48);
    if !matches!(bps, 512 | 1024 | 2048 | 4096) {
        return Err(corrupt(alloc::format!(
            "bytes per sector {bps} is not 512..4096"
        )));
    }
    if spc == 0 || !spc.is_power_of_two() {
        return Err(corrupt(alloc::format!(
            "sectors per cluster {spc} is not a power of two"
        )));
    }
    if reserved == 0 || !(1..=2).contains(&fats) {
        return Err(corrupt(alloc::format!(
            "{reserved} reserved sectors and {fats} FATs make no FAT volume"
        )));
    }
    if fat16_size != 0 || root_entries != 0 || fat32_size == 0 {
        return Err(corrupt(
            "not a FAT32 volume (FAT12/FAT16 are not supported)",
        ));
    }
    let total = if total16 != 0 {
        u64::from(total16)
    } else {
        u64::from(total32)
    };
    let bps64 = u64::from(bps);
    if total * bps64 > dev_size {
        return Err(corrupt(alloc::format!(
            "image truncated: the boot sector describes {} bytes, the device has {dev_size}",
            total * bps64
        )));
    }
    let meta = u64::from(reserved) + u64::from(fats) * u64::from(fat32_size);
    if meta >= total {
        return Err(corrupt("FATs are larger than the volume"));
    }
    let clusters = (total - meta) / u64::from(spc);
    if clusters < 65525 {
        return Err(corrupt(alloc::format!(
            "{clusters} clusters is too few for FAT32 (needs 65525)"
        )));
    }
    if u64::from(fat32_size) * bps64 / 4 < clusters + 2 {
        return Err(corrupt("FAT too small for the number of clusters"));
    }
    if root_cluster < 2 || u64::from(root_cluster) >= clusters + 2 {
        return Err(corrupt(alloc::format!(
            "root directory cluster {root_cluster} out of range"
        )));
    }
    let active = if ext_flags & 0x80 == 0 {
        0
    } else {
        ext_flags & 0x0F
    };
    let read_fat_offset = (u8::try_from(active).is_ok_and(|a| a < fats))
        .then(|| (u64::from(reserved) + u64::from(active) * u64::from(fat32_size)) * bps64);
    Ok(Bpb {
        read_fat_offset,
        fat_bytes: u64::from(fat32_size) * bps64,
        fats,
        mirrored: ext_flags & 0x80 == 0,
        fsinfo: if (1..reserved).contains(&fsinfo_sector) {
            u64::from(fsinfo_sector) * bps64
        } else {
            0
        },
        fat_offset: u64::from(reserved) * bps64,
        data_offset: meta * bps64,
        cluster_bytes: u64::from(spc) * bps64,
        media,
        root_cluster,
        clusters,
    })
}

fn read_fat_entry<D: BlockDevice>(
    s: &mut BlockStream<D>,
    bpb: &Bpb,
    cluster: u32,
) -> Result<u32, FsError> {
    let mut e = [0u8; 4];
    s.seek(embedded_io::SeekFrom::Start(
        bpb.fat_offset + u64::from(cluster) * 4,
    ))?;
    s.read_exact(&mut e).map_err(|e| match e {
        embedded_io::ReadExactError::Other(e) => FsError::Io(e),
        embedded_io::ReadExactError::UnexpectedEof => FsError::UnexpectedEof,
    })?;
    Ok(u32::from_le_bytes(e) & 0x0FFF_FFFF)
}

pub(super) fn check_fat<D: BlockDevice>(s: &mut BlockStream<D>, bpb: &Bpb) -> Result<(), FsError> {
    let fat0 = read_fat_entry(s, bpb, 0)?;
    let fat1 = read_fat_entry(s, bpb, 1)?;
    if fat0 & 0xFF != u32::from(bpb.media) || fat0 & 0x0FFF_FF00 != 0x0FFF_FF00 {
        return Err(corrupt(alloc::format!(
            "FAT entry 0 is {fat0:#x}, not the media marker {:#x} (garbage FAT?)",
            0x0FFF_FF00 | u32::from(bpb.media)
        )));
    }
    // Bits 27/26 are the clean/no-error flags; the rest must be end-of-chain.
    if fat1 & 0x03FF_FFF8 != 0x03FF_FFF8 {
        return Err(corrupt(alloc::format!(
            "FAT entry 1 is {fat1:#x}, not an end-of-chain marker (garbage FAT?)"
        )));
    }
    let root = read_fat_entry(s, bpb, bpb.root_cluster)?;
    let valid_next = root >= 0x0FFF_FFF8 || (root >= 2 && u64::from(root) < bpb.clusters + 2);
    if !valid_next {
        return Err(corrupt(alloc::format!(
            "root directory chain is broken (FAT[{}] = {root:#x})",
            bpb.root_cluster
        )));
    }
    Ok(())
}

/// Every FAT entry must be free, bad, end-of-chain, or name a cluster of the
/// volume. lamfat computes `(cluster - 2) * sectors_per_cluster` without
/// checks, so a stray 1 or an out-of-range value would make it panic (debug
/// builds) or read and write the wrong sectors (release builds).
pub(super) fn scan_fat<D: BlockDevice>(s: &mut BlockStream<D>, bpb: &Bpb) -> Result<(), FsError> {
    let end = bpb.clusters + 2;
    let mut buf = vec![0u8; 64 * 1024];
    let mut idx = 0u64;
    while idx < end {
        let n = ((end - idx) as usize * 4).min(buf.len());
        read_exact_at(s, bpb.fat_offset + idx * 4, &mut buf[..n])?;
        for (k, e) in buf[..n].chunks_exact(4).enumerate() {
            let c = idx + k as u64;
            let v = u64::from(u32::from_le_bytes([e[0], e[1], e[2], e[3]]) & 0x0FFF_FFFF);
            if c >= 2 && !(v == 0 || (2..end).contains(&v) || v >= 0x0FFF_FFF7) {
                return Err(corrupt(alloc::format!(
                    "FAT entry {c} is {v:#x}, outside the volume's {} clusters",
                    bpb.clusters
                )));
            }
        }
        idx += (n / 4) as u64;
    }
    Ok(())
}

/// Walks every directory (raw, before lamfat does) and checks that each entry's
/// first cluster lies in the volume and that directories end: a loop in a
/// directory's chain or in the tree is an error instead of a hang. Runs after
/// [`scan_fat`], so chains only hold valid cluster numbers.
pub(super) fn scan_dirs<D: BlockDevice>(s: &mut BlockStream<D>, bpb: &Bpb) -> Result<(), FsError> {
    let end = bpb.clusters + 2;
    let max_chain = (MAX_DIR_ENTRIES as u64 * 32).div_ceil(bpb.cluster_bytes);
    let mut buf = vec![0u8; bpb.cluster_bytes as usize];
    let mut visited: Vec<u32> = vec![bpb.root_cluster];
    let mut todo: Vec<(u32, String)> = vec![(bpb.root_cluster, String::new())];
    while let Some((first, path)) = todo.pop() {
        let mut cluster = first;
        let mut chain = 0u64;
        'chain: loop {
            chain += 1;
            if chain > max_chain {
                return Err(corrupt(alloc::format!(
                    "directory {path}/ never ends (cluster chain loop?)"
                )));
            }
            let off = bpb.data_offset + u64::from(cluster - 2) * bpb.cluster_bytes;
            read_exact_at(s, off, &mut buf)?;
            for e in buf.chunks_exact(32) {
                match e[0] {
                    0 => break 'chain,
                    0xE5 => continue,
                    _ => {}
                }
                let attr = e[11];
                if attr & 0x3F == 0x0F || attr & 0x08 != 0 || e[0] == b'.' {
                    continue; // long-name part, volume label, `.` or `..`
                }
                let fc = (u32::from(le16(e, 20)) << 16) | u32::from(le16(e, 26));
                let name = String::from_utf8_lossy(&e[..11]).trim_end().to_string();
                let here = alloc::format!("{path}/{name}");
                if fc == 1 || u64::from(fc) >= end {
                    return Err(corrupt(alloc::format!(
                        "{here}: first cluster {fc} outside the volume"
                    )));
                }
                let size = le32(e, 28);
                if fc == 0 && (attr & 0x10 != 0 || size != 0) {
                    return Err(corrupt(alloc::format!(
                        "{here}: has data but no first cluster"
                    )));
                }
                if attr & 0x10 != 0 {
                    if visited.contains(&fc) {
                        return Err(corrupt(alloc::format!(
                            "{here}: directory cluster {fc} is used twice (loop in the tree?)"
                        )));
                    }
                    if visited.len() >= MAX_DIRS {
                        return Err(corrupt("more than 100000 directories"));
                    }
                    visited.push(fc);
                    todo.push((fc, here));
                }
            }
            let next = read_fat_entry(s, bpb, cluster)?;
            if !(2..0x0FFF_FFF7).contains(&next) {
                break;
            }
            cluster = next;
        }
    }
    Ok(())
}

/// Most directories [`scan_dirs`] follows.
const MAX_DIRS: usize = 100_000;
