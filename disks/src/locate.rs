//! "Which file owns this byte?" for FAT32 images (host only): the test
//! matrix compares a disk image before and after a workload byte for byte, and
//! a difference at byte 0x3c48000 means nothing until it reads
//! `data cluster 7012, file "/Documents/big file.bin" at offset 1048576`.
//!
//! Everything is parsed here, read-only, from the raw bytes (Microsoft FAT
//! specification: "BPB" for the boot sector, "FSInfo", "FAT" for the cluster
//! chains, "Directory" and "Long File Name" for the tree), not through lamfat:
//! an image a faulty driver wrote is exactly what this must describe, so
//! damage below the boot sector is tolerated and reported, never a panic.
//! Only a boot sector that does not describe a FAT32 volume, or an image
//! shorter than the volume it describes, is an `Err`.
//!
//! Ownership comes from walking the tree from the root directory: every
//! directory's and file's cluster chain is followed through FAT #1, each
//! cluster credited to the first owner that reaches it. Damage found on the
//! way (a chain that leaves the volume, runs into a free cluster or into
//! another owner's clusters, a directory loop) ends that walk and is listed in
//! [`Locator::problems`].

use std::fmt;
use std::string::{String, ToString};
use std::vec::Vec;

/// Which part of the volume a byte is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Region {
    /// Sector 0: the boot sector with the BPB.
    BootSector,
    /// The backup boot sector (BPB field `BkBootSec`, usually sector 6).
    BackupBootSector,
    /// The FSInfo sector (BPB field `FSInfo`, usually sector 1).
    FsInfo,
    /// The backup FSInfo sector (right after the backup boot sector).
    BackupFsInfo,
    /// Any other sector of the reserved area.
    Reserved,
    /// A copy of the FAT; `copy` counts from 1 (FAT #1 is the one in use).
    Fat {
        /// 1 for the first FAT, 2 for the second.
        copy: u8,
    },
    /// The data area (clusters from 2 on).
    Data,
    /// Inside the image but after the last sector the boot sector describes.
    PastVolume,
}

/// What owns a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerKind {
    /// A file of `size` bytes (its directory entry's size).
    File {
        /// Size from the directory entry.
        size: u64,
    },
    /// A directory (the root included).
    Directory,
}

/// Where a byte of an image is, and what it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Location {
    /// The byte offset asked about.
    pub byte: u64,
    /// Its 512-byte sector (the unit of virtio-blk requests).
    pub sector: u64,
    /// Which part of the volume it is in.
    pub region: Region,
    /// In [`Region::Data`]: the cluster holding the byte (`None` in the few
    /// sectors after the last whole cluster). In [`Region::Fat`]: the cluster
    /// whose FAT entry holds the byte.
    pub cluster: Option<u32>,
    /// Absolute path of the file or directory owning `cluster` (`/` for the
    /// root directory), found by walking the tree.
    pub owner: Option<String>,
    /// Whether the owner is a file or a directory.
    pub owner_kind: Option<OwnerKind>,
    /// In [`Region::Data`]: the byte's offset within the owner's data (for a
    /// directory, within its chain of entries).
    pub offset_in_owner: Option<u64>,
    /// FAT #1's entry for `cluster` (28 bits): 0 free, ≥ 0x0FFFFFF8 end of
    /// chain, 0x0FFFFFF7 bad, else the next cluster.
    pub fat_entry: Option<u32>,
    /// For the boot and FSInfo sectors: the field the byte belongs to.
    pub field: Option<&'static str>,
}

/// A FAT32 image parsed once, for locating many bytes.
#[derive(Clone, Debug)]
pub struct Locator<'a> {
    image: &'a [u8],
    bpb: Bpb,
    /// Per cluster: index into `owners`, or [`NOBODY`].
    owner_of: Vec<u32>,
    /// Per cluster: its position in the owner's chain.
    position: Vec<u32>,
    owners: Vec<(String, OwnerKind)>,
    problems: Vec<String>,
}

const NOBODY: u32 = u32::MAX;
/// Smallest FAT entry value that marks the end of a chain.
const END_OF_CHAIN: u32 = 0x0FFF_FFF8;
const BAD_CLUSTER: u32 = 0x0FFF_FFF7;

/// The boot-sector facts the locator needs, all in bytes except counts.
#[derive(Clone, Copy, Debug)]
struct Bpb {
    bytes_per_sector: u64,
    reserved_bytes: u64,
    fat_bytes: u64,
    data_offset: u64,
    cluster_bytes: u64,
    /// Data clusters (numbered 2..clusters + 2).
    clusters: u32,
    volume_bytes: u64,
    root_cluster: u32,
    fsinfo_sector: Option<u64>,
    backup_boot_sector: Option<u64>,
}

fn le16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn le32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

impl Bpb {
    fn parse(image: &[u8]) -> Result<Bpb, String> {
        if image.len() < 512 {
            return Err(format!(
                "{} bytes is less than one boot sector",
                image.len()
            ));
        }
        let b = &image[..512];
        if b[510] != 0x55 || b[511] != 0xAA {
            return Err("sector 0 has no boot signature 55 AA: not a FAT volume".into());
        }
        let bps = le16(b, 11);
        let spc = b[13];
        let reserved = le16(b, 14);
        let fats = b[16];
        let total = match le16(b, 19) {
            0 => u64::from(le32(b, 32)),
            n => u64::from(n),
        };
        let fat_sectors = u64::from(le32(b, 36));
        if !matches!(bps, 512 | 1024 | 2048 | 4096) {
            return Err(format!("bytes per sector {bps} is not 512..4096"));
        }
        if spc == 0 || !spc.is_power_of_two() {
            return Err(format!("sectors per cluster {spc} is not a power of two"));
        }
        if reserved == 0 || fats == 0 || fats > 4 {
            return Err(format!(
                "{reserved} reserved sectors and {fats} FATs make no FAT volume"
            ));
        }
        if le16(b, 22) != 0 || le16(b, 17) != 0 || fat_sectors == 0 {
            return Err("not a FAT32 volume (FAT12/16 layout)".into());
        }
        let bps = u64::from(bps);
        let volume_bytes = total * bps;
        if volume_bytes > image.len() as u64 {
            return Err(format!(
                "image truncated: the boot sector describes {volume_bytes} bytes, the image has {}",
                image.len()
            ));
        }
        let meta = u64::from(reserved) + u64::from(fats) * fat_sectors;
        if meta >= total {
            return Err("the FATs are larger than the volume".into());
        }
        let clusters = (total - meta) / u64::from(spc);
        if !(65525..=0x0FFF_FFF5).contains(&clusters) {
            return Err(format!("{clusters} clusters is not a FAT32 volume"));
        }
        if fat_sectors * bps / 4 < clusters + 2 {
            return Err("the FAT is too small for the number of clusters".into());
        }
        let root_cluster = le32(b, 44);
        if root_cluster < 2 || u64::from(root_cluster) >= clusters + 2 {
            return Err(format!(
                "root directory cluster {root_cluster} is outside the volume"
            ));
        }
        let in_reserved = |s: u16| (s != 0 && s < reserved).then_some(u64::from(s));
        Ok(Bpb {
            bytes_per_sector: bps,
            reserved_bytes: u64::from(reserved) * bps,
            fat_bytes: fat_sectors * bps,
            data_offset: meta * bps,
            cluster_bytes: u64::from(spc) * bps,
            clusters: clusters as u32,
            volume_bytes,
            root_cluster,
            fsinfo_sector: in_reserved(le16(b, 48)),
            backup_boot_sector: in_reserved(le16(b, 50)),
        })
    }

    fn cluster_offset(&self, c: u32) -> u64 {
        self.data_offset + u64::from(c - 2) * self.cluster_bytes
    }

    fn is_data_cluster(&self, c: u32) -> bool {
        c >= 2 && u64::from(c) < u64::from(self.clusters) + 2
    }
}

/// Locates `byte` in `image` (a whole FAT32 volume, boot sector at 0).
/// Parses the image each call; use [`Locator`] for many bytes.
pub fn locate(image: &[u8], byte: u64) -> Result<Location, String> {
    Locator::new(image)?.locate(byte)
}

/// The first offset where `a` and `b` differ; when one is a prefix of the
/// other, the shorter one's length; `None` when they are equal.
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<u64> {
    const CHUNK: usize = 4096;
    let common = a.len().min(b.len());
    // Whole chunks compare as slices (memcmp); only the differing one is scanned.
    let mut at = 0;
    while at < common {
        let end = (at + CHUNK).min(common);
        if a[at..end] != b[at..end] {
            let i = a[at..end]
                .iter()
                .zip(&b[at..end])
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            return Some((at + i) as u64);
        }
        at = end;
    }
    (a.len() != b.len()).then_some(common as u64)
}

/// The differing byte ranges of `a` and `b`, in order, at most `limit` of them
/// (a length difference is the last range). Ranges closer than `merge` bytes
/// are reported as one, so a rewritten sector is one range, not dozens.
pub fn differences(a: &[u8], b: &[u8], merge: u64, limit: usize) -> Vec<std::ops::Range<u64>> {
    let mut out: Vec<std::ops::Range<u64>> = Vec::new();
    let mut from = 0usize;
    let common = a.len().min(b.len());
    while out.len() <= limit {
        let Some(start) = first_difference(&a[from..common], &b[from..common]) else {
            break;
        };
        let start = from + start as usize;
        let end = start
            + a[start..common]
                .iter()
                .zip(&b[start..common])
                .position(|(x, y)| x == y)
                .unwrap_or(common - start);
        match out.last_mut() {
            Some(last) if start as u64 - last.end < merge => last.end = end as u64,
            _ => out.push(start as u64..end as u64),
        }
        from = end;
    }
    if a.len() != b.len() {
        let tail = common as u64..a.len().max(b.len()) as u64;
        match out.last_mut() {
            Some(last) if tail.start - last.end < merge => last.end = tail.end,
            _ => out.push(tail),
        }
    }
    out.truncate(limit);
    out
}

impl<'a> Locator<'a> {
    /// Parses the boot sector and walks the whole tree. `Err` when the boot
    /// sector is not FAT32 or the image is shorter than the volume.
    pub fn new(image: &'a [u8]) -> Result<Locator<'a>, String> {
        let bpb = Bpb::parse(image)?;
        let n = bpb.clusters as usize + 2;
        let mut loc = Locator {
            image,
            bpb,
            owner_of: vec![NOBODY; n],
            position: vec![0; n],
            owners: Vec::new(),
            problems: Vec::new(),
        };
        loc.walk_tree();
        Ok(loc)
    }

    /// Damage found while walking the tree (empty for a healthy volume).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Data clusters of the volume.
    pub fn clusters(&self) -> u32 {
        self.bpb.clusters
    }

    /// Bytes per cluster.
    pub fn cluster_bytes(&self) -> u64 {
        self.bpb.cluster_bytes
    }

    /// Byte offset of data cluster `c` (≥ 2), or `None` outside the volume.
    pub fn cluster_offset(&self, c: u32) -> Option<u64> {
        self.bpb
            .is_data_cluster(c)
            .then(|| self.bpb.cluster_offset(c))
    }

    /// FAT #1's entry for `c`, or `None` past the FAT.
    pub fn fat_entry(&self, c: u32) -> Option<u32> {
        let off = self.bpb.reserved_bytes + u64::from(c) * 4;
        if u64::from(c) * 4 + 4 > self.bpb.fat_bytes {
            return None;
        }
        Some(le32(self.image, off as usize) & 0x0FFF_FFFF)
    }

    /// The path and kind owning data cluster `c`, if the walk reached it.
    pub fn owner_of(&self, c: u32) -> Option<(&str, OwnerKind)> {
        let i = *self.owner_of.get(c as usize)?;
        self.owners.get(i as usize).map(|(p, k)| (p.as_str(), *k))
    }

    /// The first cluster of the file or directory at `path` (exact spelling
    /// as walked, `/` for the root), if the walk found it and it has data.
    pub fn first_cluster_of(&self, path: &str) -> Option<u32> {
        let i = self.owners.iter().position(|(p, _)| p == path)? as u32;
        (2..self.bpb.clusters + 2)
            .find(|&c| self.owner_of[c as usize] == i && self.position[c as usize] == 0)
    }

    /// Where `byte` is.
    pub fn locate(&self, byte: u64) -> Result<Location, String> {
        let len = self.image.len() as u64;
        if byte >= len {
            return Err(format!(
                "byte {byte:#x} is past the end of the image ({len} bytes)"
            ));
        }
        let b = &self.bpb;
        let mut loc = Location {
            byte,
            sector: byte / 512,
            region: Region::PastVolume,
            cluster: None,
            owner: None,
            owner_kind: None,
            offset_in_owner: None,
            fat_entry: None,
            field: None,
        };
        let fs_sector = byte / b.bytes_per_sector;
        let in_sector = (byte % b.bytes_per_sector) as usize;
        if byte < b.reserved_bytes {
            let backup = b.backup_boot_sector;
            (loc.region, loc.field) = if fs_sector == 0 {
                (Region::BootSector, Some(boot_field(in_sector)))
            } else if Some(fs_sector) == b.fsinfo_sector {
                (Region::FsInfo, Some(fsinfo_field(in_sector)))
            } else if Some(fs_sector) == backup {
                (Region::BackupBootSector, Some(boot_field(in_sector)))
            } else if backup.is_some_and(|s| fs_sector == s + 1) && b.fsinfo_sector.is_some() {
                (Region::BackupFsInfo, Some(fsinfo_field(in_sector)))
            } else {
                (Region::Reserved, None)
            };
        } else if byte < b.data_offset {
            let rel = byte - b.reserved_bytes;
            let copy = rel / b.fat_bytes;
            loc.region = Region::Fat {
                copy: copy as u8 + 1,
            };
            let entry = ((rel % b.fat_bytes) / 4) as u32;
            loc.cluster = Some(entry);
            loc.fat_entry = self.fat_entry(entry);
            self.fill_owner(&mut loc, entry, None);
        } else if byte < b.volume_bytes {
            loc.region = Region::Data;
            let c = (byte - b.data_offset) / b.cluster_bytes + 2;
            if c < u64::from(b.clusters) + 2 {
                let c = c as u32;
                loc.cluster = Some(c);
                loc.fat_entry = self.fat_entry(c);
                let within = (byte - b.data_offset) % b.cluster_bytes;
                self.fill_owner(&mut loc, c, Some(within));
            }
        }
        Ok(loc)
    }

    fn fill_owner(&self, loc: &mut Location, c: u32, within: Option<u64>) {
        if let Some((path, kind)) = self.owner_of(c) {
            loc.owner = Some(path.to_string());
            loc.owner_kind = Some(kind);
            loc.offset_in_owner =
                within.map(|w| u64::from(self.position[c as usize]) * self.bpb.cluster_bytes + w);
        }
    }

    fn walk_tree(&mut self) {
        let root = self.bpb.root_cluster;
        let mut todo = vec![(root, "/".to_string())];
        while let Some((first, path)) = todo.pop() {
            let id = self.owners.len() as u32;
            self.owners.push((path.clone(), OwnerKind::Directory));
            let chain = self.claim_chain(first, id, &path);
            self.read_directory(&chain, &path, &mut todo);
        }
    }

    /// Credits the chain from `first` to owner `id`; returns its clusters.
    fn claim_chain(&mut self, first: u32, id: u32, path: &str) -> Vec<u32> {
        let mut chain = Vec::new();
        let mut c = first;
        loop {
            if !self.bpb.is_data_cluster(c) {
                self.problems.push(format!(
                    "{path}: chain reaches cluster {c:#x}, outside the volume"
                ));
                break;
            }
            let prev = self.owner_of[c as usize];
            if prev != NOBODY {
                let other = &self.owners[prev as usize].0;
                self.problems.push(if prev == id {
                    format!("{path}: cluster chain loops at cluster {c}")
                } else {
                    format!("{path}: cluster {c} is also in the chain of {other} (cross-linked)")
                });
                break;
            }
            self.owner_of[c as usize] = id;
            self.position[c as usize] = chain.len() as u32;
            chain.push(c);
            let next = self.fat_entry(c).unwrap_or(0);
            if next >= END_OF_CHAIN {
                break;
            }
            if next == 0 || next == BAD_CLUSTER {
                self.problems.push(format!(
                    "{path}: cluster {c} is followed by {} in the FAT",
                    if next == 0 {
                        "a free entry"
                    } else {
                        "a bad-cluster mark"
                    }
                ));
                break;
            }
            c = next;
        }
        chain
    }

    /// Reads the entries of a directory whose clusters are `chain`, claims
    /// the files' chains and queues the subdirectories.
    fn read_directory(&mut self, chain: &[u32], path: &str, todo: &mut Vec<(u32, String)>) {
        let mut lfn = LongName::default();
        let cluster_bytes = self.bpb.cluster_bytes as usize;
        for &c in chain {
            let off = self.bpb.cluster_offset(c) as usize;
            let data = &self.image[off..off + cluster_bytes];
            for e in data.chunks_exact(32) {
                match e[0] {
                    0 => return,
                    0xE5 => {
                        lfn = LongName::default();
                        continue;
                    }
                    _ => {}
                }
                let attr = e[11];
                if attr & 0x3F == 0x0F {
                    lfn.push(e);
                    continue;
                }
                let long = std::mem::take(&mut lfn).finish(&e[..11]);
                if attr & 0x08 != 0 || e[0] == b'.' {
                    continue; // volume label, `.`, `..`
                }
                let name = long.unwrap_or_else(|| short_name(e));
                let child = if path == "/" {
                    format!("/{name}")
                } else {
                    format!("{path}/{name}")
                };
                let first = (u32::from(le16(e, 20)) << 16) | u32::from(le16(e, 26));
                let size = u64::from(le32(e, 28));
                if attr & 0x10 != 0 {
                    if first == 0 {
                        self.problems
                            .push(format!("{child}/: directory without a cluster"));
                    } else {
                        todo.push((first, child));
                    }
                } else {
                    let id = self.owners.len() as u32;
                    self.owners.push((child.clone(), OwnerKind::File { size }));
                    if first != 0 {
                        self.claim_chain(first, id, &child);
                    } else if size != 0 {
                        self.problems
                            .push(format!("{child}: {size} bytes but no first cluster"));
                    }
                }
            }
        }
    }
}

/// Long-name parts collected before their short entry (FAT spec, "Long File
/// Name" section): the last part comes first, flagged 0x40, then the others
/// in descending order, each carrying the short name's checksum.
#[derive(Default)]
struct LongName {
    units: Vec<u16>,
    expect: u8,
    checksum: u8,
    broken: bool,
}

impl LongName {
    fn push(&mut self, e: &[u8]) {
        let seq = e[0] & 0x3F;
        if e[0] & 0x40 != 0 {
            *self = LongName {
                units: vec![0xFFFF; usize::from(seq) * 13],
                expect: seq,
                checksum: e[13],
                broken: seq == 0,
            };
        } else if self.expect == 0 {
            self.broken = true;
        }
        if self.broken || seq != self.expect || e[13] != self.checksum {
            self.broken = true;
            return;
        }
        let base = (usize::from(seq) - 1) * 13;
        for (i, o) in [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]
            .iter()
            .enumerate()
        {
            self.units[base + i] = le16(e, *o);
        }
        self.expect -= 1;
    }

    /// The long name, if complete and made for this short name.
    fn finish(self, short: &[u8]) -> Option<String> {
        if self.broken || self.units.is_empty() || self.expect != 0 {
            return None;
        }
        let sum = short
            .iter()
            .fold(0u8, |s, &b| s.rotate_right(1).wrapping_add(b));
        if sum != self.checksum {
            return None;
        }
        let end = self
            .units
            .iter()
            .position(|&u| u == 0)
            .unwrap_or(self.units.len());
        let units: Vec<u16> = self.units[..end]
            .iter()
            .copied()
            .filter(|&u| u != 0xFFFF)
            .collect();
        Some(String::from_utf16_lossy(&units))
    }
}

/// The 8.3 name of an entry, with the NT lower-case flags applied.
fn short_name(e: &[u8]) -> String {
    let part = |bytes: &[u8], lower: bool| -> String {
        bytes
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                let b = if i == 0 && b == 0x05 { 0xE5 } else { b };
                let c = char::from(b);
                if lower {
                    c.to_ascii_lowercase()
                } else {
                    c
                }
            })
            .collect::<String>()
            .trim_end()
            .to_string()
    };
    let base = part(&e[..8], e[12] & 0x08 != 0);
    let ext = part(&e[8..11], e[12] & 0x10 != 0);
    if ext.is_empty() {
        base
    } else {
        format!("{base}.{ext}")
    }
}

/// The boot-sector field at byte `o` (FAT spec, "BPB" section).
fn boot_field(o: usize) -> &'static str {
    match o {
        0..=2 => "BS_jmpBoot",
        3..=10 => "BS_OEMName",
        11..=12 => "BPB_BytsPerSec",
        13 => "BPB_SecPerClus",
        14..=15 => "BPB_RsvdSecCnt",
        16 => "BPB_NumFATs",
        17..=18 => "BPB_RootEntCnt",
        19..=20 => "BPB_TotSec16",
        21 => "BPB_Media",
        22..=23 => "BPB_FATSz16",
        24..=25 => "BPB_SecPerTrk",
        26..=27 => "BPB_NumHeads",
        28..=31 => "BPB_HiddSec",
        32..=35 => "BPB_TotSec32",
        36..=39 => "BPB_FATSz32",
        40..=41 => "BPB_ExtFlags",
        42..=43 => "BPB_FSVer",
        44..=47 => "BPB_RootClus",
        48..=49 => "BPB_FSInfo",
        50..=51 => "BPB_BkBootSec",
        52..=63 => "BPB_Reserved",
        64 => "BS_DrvNum",
        65 => "BS_Reserved1",
        66 => "BS_BootSig",
        67..=70 => "BS_VolID",
        71..=81 => "BS_VolLab",
        82..=89 => "BS_FilSysType",
        90..=509 => "boot code",
        510..=511 => "signature 55 AA",
        _ => "past the signature",
    }
}

/// The FSInfo field at byte `o` (FAT spec, "FSInfo" section).
fn fsinfo_field(o: usize) -> &'static str {
    match o {
        0..=3 => "FSI_LeadSig",
        4..=483 => "FSI_Reserved1",
        484..=487 => "FSI_StrucSig",
        488..=491 => "FSI_Free_Count",
        492..=495 => "FSI_Nxt_Free",
        496..=507 => "FSI_Reserved2",
        508..=511 => "FSI_TrailSig",
        _ => "past the trail signature",
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Region::BootSector => f.write_str("boot sector"),
            Region::BackupBootSector => f.write_str("backup boot sector"),
            Region::FsInfo => f.write_str("FSInfo"),
            Region::BackupFsInfo => f.write_str("backup FSInfo"),
            Region::Reserved => f.write_str("reserved sector"),
            Region::Fat { copy } => write!(f, "FAT #{copy}"),
            Region::Data => f.write_str("data"),
            Region::PastVolume => f.write_str("past the end of the volume"),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sector {} (byte {:#x}): {}",
            self.sector, self.byte, self.region
        )?;
        if let Some(field) = self.field {
            write!(f, ", {field}")?;
        }
        let owner = |f: &mut fmt::Formatter<'_>| match (&self.owner, self.owner_kind) {
            (Some(p), Some(OwnerKind::Directory)) => write!(f, "directory \"{p}\""),
            (Some(p), _) => write!(f, "file \"{p}\""),
            _ => Ok(()),
        };
        match (self.region, self.cluster) {
            (Region::Fat { .. }, Some(c)) => {
                write!(f, " entry for cluster {c}")?;
                if c < 2 {
                    return f.write_str(" (reserved entry: media and clean flags)");
                }
                if self.owner.is_some() {
                    f.write_str(", ")?;
                    owner(f)?;
                } else {
                    self.state(f)?;
                }
                Ok(())
            }
            (Region::Data, Some(c)) => {
                write!(f, " cluster {c}")?;
                if self.owner.is_none() {
                    return self.state(f);
                }
                f.write_str(", ")?;
                owner(f)?;
                if let Some(o) = self.offset_in_owner {
                    write!(f, " at offset {o}")?;
                    match self.owner_kind {
                        Some(OwnerKind::File { size }) if o >= size => {
                            write!(f, " (slack after its last byte, size {size})")?
                        }
                        Some(OwnerKind::Directory) => write!(f, " (entry {})", o / 32)?,
                        _ => {}
                    }
                }
                Ok(())
            }
            (Region::Data, None) => f.write_str(" area, after the last whole cluster"),
            _ => Ok(()),
        }
    }
}

impl Location {
    /// Why a cluster has no owner: free, past the last cluster, or lost.
    fn state(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fat_entry {
            Some(0) => f.write_str(" (free)"),
            None => f.write_str(" (past the FAT's last entry)"),
            Some(v) => write!(
                f,
                " (allocated, FAT entry {v:#x}, but no file or directory reaches it)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_finds_bytes_and_length_changes() {
        let a = vec![7u8; 10_000];
        let mut b = a.clone();
        assert_eq!(first_difference(&a, &b), None);
        b[8193] = 0;
        assert_eq!(first_difference(&a, &b), Some(8193));
        b[5] = 0;
        assert_eq!(first_difference(&a, &b), Some(5));
        assert_eq!(first_difference(&a, &a[..9000]), Some(9000));
        assert_eq!(first_difference(&[], &[1]), Some(0));
        assert_eq!(first_difference(&[], &[]), None);
    }

    #[test]
    fn differences_merge_nearby_bytes() {
        let a = vec![0u8; 4096];
        let mut b = a.clone();
        b[10] = 1;
        b[12] = 1;
        b[2000] = 1;
        b[2001] = 1;
        assert_eq!(differences(&a, &b, 1, 10), vec![10..11, 12..13, 2000..2002]);
        assert_eq!(differences(&a, &b, 512, 10), vec![10..13, 2000..2002]);
        assert_eq!(differences(&a, &b, 512, 1), vec![10..13]);
        assert_eq!(differences(&a, &a[..4000], 1, 10), vec![4000..4096]);
        assert!(differences(&a, &a, 1, 10).is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(locate(&[], 0).is_err());
        assert!(locate(&[0u8; 511], 0).is_err());
        assert!(locate(&[0u8; 4096], 0).unwrap_err().contains("55 AA"));
        let mut s = crate::content::SplitMix64::new(1);
        for _ in 0..200 {
            let mut img: Vec<u8> = (0..8192).map(|_| s.next_u64() as u8).collect();
            img[510] = 0x55;
            img[511] = 0xAA;
            let _ = locate(&img, 100);
        }
    }

    #[test]
    fn short_names_honour_the_case_flags() {
        let mut e = [b' '; 32];
        e[..8].copy_from_slice(b"README  ");
        e[8..11].copy_from_slice(b"TXT");
        e[12] = 0;
        assert_eq!(short_name(&e), "README.TXT");
        e[12] = 0x18;
        assert_eq!(short_name(&e), "readme.txt");
        e[8..11].copy_from_slice(b"   ");
        assert_eq!(short_name(&e), "readme");
    }
}
