//! The FAT layer under fuzzing (`std` feature): a small FAT32 image built from
//! a manifest, damaged as the fuzz input says (bytes and cluster numbers in its
//! boot sector, FSInfo, FATs and directory clusters; blocks that fail to read
//! or write), then mounted and used the way the shell and the self-test use a
//! volume: walk, read every file, create, append, rename, remove, remount.
//!
//! What must hold, whatever the damage: no panic and no hang (every loop in
//! `fs.rs` is bounded; libFuzzer's `-timeout` catches the rest), and when the
//! damage is confined to the FATs, no write lands in a file the workload did
//! not touch and the damage does not reach (checked against the undamaged
//! image's cluster owners, [`crate::locate::Locator`]). [`fuzz_one`] is the
//! entry point of the cargo-fuzz target (`disks/fuzz`) and of the bounded
//! replay in `tests/fuzz_smoke.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::string::String;
use std::sync::OnceLock;
use std::vec::Vec;

use ddk::{BlockDevice, BlockError, Lba};

use crate::build::build_image_bytes;
use crate::locate::{Locator, Region};
use crate::{ImageSpec, TimeSource, Timestamp, Volume};

/// The image every input damages: the smallest FAT32 volume, a few nested
/// directories (one spanning several clusters), long and non-ASCII names,
/// files of zero, one, two and many clusters.
pub const MANIFEST: &str = r#"
image-size   33MiB
cluster-size 512
label        FUZZ
volume-id    0x20261206
timestamp    2026-12-06 08:00:00
file /README.TXT text "fuzz base image\n"
file /empty.txt text ""
file "/Not first - Ünïcödé naïve café.txt" text "non-ASCII long name\n"
file /one.bin random 512 seed=1
file /two.bin random 513 seed=2
file /big.bin random 40000 seed=3
dir  "/Docs/Empty Folder"
file "/Docs/Sub Folder/deeper/report 2026.bin" random 3000 seed=4
file /Docs/notes.md text "notes\n"
tree /many files=40 depth=2 fanout=3 size=0..700 seed=5
"#;

const BLOCK: usize = 512;

/// The undamaged image and what the fuzzer aims at in it.
pub struct Base {
    pub image: Vec<u8>,
    /// Byte ranges worth damaging: reserved area, both FATs, every
    /// directory cluster.
    targets: Vec<(u64, u64)>,
    /// Where FAT #1 and FAT #2 lie (for the "FAT damage only" check).
    fats: Vec<(u64, u64)>,
}

/// The base image, built once per process.
pub fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let spec = ImageSpec::parse(MANIFEST).expect("fuzz manifest parses");
        let (image, _) = build_image_bytes(&spec).expect("fuzz image builds");
        let loc = Locator::new(&image).expect("fuzz image is FAT32");
        let mut targets = Vec::new();
        let mut fats = Vec::new();
        // Reserved area and FATs: everything before cluster 2.
        let data_start = loc.cluster_offset(2).expect("cluster 2");
        targets.push((0, data_start));
        for sector in 0..data_start / BLOCK as u64 {
            if let Ok(l) = loc.locate(sector * BLOCK as u64) {
                if matches!(l.region, Region::Fat { .. }) {
                    match fats.last_mut() {
                        Some((_, end)) if *end == sector * BLOCK as u64 => *end += BLOCK as u64,
                        _ => fats.push((sector * BLOCK as u64, (sector + 1) * BLOCK as u64)),
                    }
                }
            }
        }
        for c in 2..loc.clusters() + 2 {
            if let Some((_, crate::locate::OwnerKind::Directory)) = loc.owner_of(c) {
                let off = loc.cluster_offset(c).expect("data cluster");
                targets.push((off, off + loc.cluster_bytes()));
            }
        }
        Base {
            image,
            targets,
            fats,
        }
    })
}

/// A copy-on-write view of the base image with failing blocks.
struct Overlay {
    base: &'static [u8],
    blocks: BTreeMap<u64, Box<[u8; BLOCK]>>,
    fail_read: BTreeSet<u64>,
    fail_write: BTreeSet<u64>,
}

impl Overlay {
    fn block(&self, lba: u64) -> &[u8] {
        match self.blocks.get(&lba) {
            Some(b) => &b[..],
            None => &self.base[lba as usize * BLOCK..][..BLOCK],
        }
    }
    fn poke(&mut self, off: u64, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            let at = off + i as u64;
            let lba = at / BLOCK as u64;
            if lba as usize * BLOCK >= self.base.len() {
                return;
            }
            let base = self.base;
            let blk = self.blocks.entry(lba).or_insert_with(|| {
                Box::new(base[lba as usize * BLOCK..][..BLOCK].try_into().unwrap())
            });
            blk[(at % BLOCK as u64) as usize] = b;
        }
    }
    fn check(&self, lba: Lba, len: usize) -> Result<(u64, u64), BlockError> {
        if !len.is_multiple_of(BLOCK) {
            return Err(BlockError::BadBuffer);
        }
        let n = (len / BLOCK) as u64;
        let end = lba.as_u64().checked_add(n).ok_or(BlockError::OutOfRange)?;
        if end > self.block_count() {
            return Err(BlockError::OutOfRange);
        }
        Ok((lba.as_u64(), n))
    }
}

impl BlockDevice for Overlay {
    fn block_size(&self) -> usize {
        BLOCK
    }
    fn block_count(&self) -> u64 {
        (self.base.len() / BLOCK) as u64
    }
    fn is_read_only(&self) -> bool {
        false
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        let (first, n) = self.check(lba, buf.len())?;
        if self.fail_read.range(first..first + n).next().is_some() {
            return Err(BlockError::Io);
        }
        for (i, chunk) in buf.chunks_exact_mut(BLOCK).enumerate() {
            chunk.copy_from_slice(self.block(first + i as u64));
        }
        Ok(())
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        let (first, n) = self.check(lba, buf.len())?;
        if self.fail_write.range(first..first + n).next().is_some() {
            return Err(BlockError::Io);
        }
        for (i, chunk) in buf.chunks_exact(BLOCK).enumerate() {
            self.blocks
                .insert(first + i as u64, Box::new(chunk.try_into().unwrap()));
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
}

/// Reads the fuzz input front to back; past its end, zeros.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
}

/// Cluster numbers and FAT values that sit on edges.
fn interesting(clusters: u32, pick: u8) -> u32 {
    const FIXED: [u32; 8] = [
        0,
        1,
        2,
        3,
        0x0FFF_FFF7,
        0x0FFF_FFF8,
        0x0FFF_FFFF,
        0xFFFF_FFFF,
    ];
    match pick % 12 {
        p @ 0..=7 => FIXED[p as usize],
        8 => clusters,
        9 => clusters + 1,
        10 => clusters + 2,
        _ => u32::MAX / 2,
    }
}

/// What the input did, for the write check.
#[derive(Default)]
struct Damage {
    /// Only FAT bytes and failing blocks were damaged.
    fat_only: bool,
    /// FAT entries (cluster numbers) overwritten, and the values written.
    fat_clusters: Vec<u32>,
}

fn damage(ov: &mut Overlay, base: &Base, input: &mut Input<'_>) -> Damage {
    let mut d = Damage {
        fat_only: true,
        ..Damage::default()
    };
    let span: u64 = base.targets.iter().map(|(a, b)| b - a).sum();
    let blocks = (base.image.len() / BLOCK) as u64;
    let clusters = Locator::new(&base.image).map_or(0, |l| l.clusters());
    let steps = input.byte() % 17;
    for _ in 0..steps {
        let op = input.byte();
        let pos = u64::from(input.u32()) % span;
        // The `pos`-th targeted byte.
        let mut off = 0;
        let mut left = pos;
        for &(a, b) in &base.targets {
            if left < b - a {
                off = a + left;
                break;
            }
            left -= b - a;
        }
        match op % 8 {
            0..=2 => ov.poke(off, &[input.byte()]),
            3 | 4 => {
                let v = if op % 8 == 3 {
                    interesting(clusters, input.byte())
                } else {
                    input.u32()
                };
                ov.poke(off & !3, &v.to_le_bytes())
            }
            5 => {
                ov.fail_read.insert(u64::from(input.u32()) % blocks);
                continue;
            }
            6 => {
                ov.fail_write.insert(u64::from(input.u32()) % blocks);
                continue;
            }
            _ => {
                // A whole entry zeroed or filled.
                let fill = if input.byte() & 1 == 0 { 0 } else { 0xFF };
                ov.poke(off & !31, &[fill; 32]);
            }
        }
        match base.fats.iter().find(|(a, b)| (*a..*b).contains(&off)) {
            Some(&(a, _)) => d.fat_clusters.push(((off - a) / 4) as u32),
            None => d.fat_only = false,
        }
    }
    d
}

fn clock() -> Timestamp {
    Timestamp::new(2026, 12, 6, 9, 0, 0)
}

/// Uses a mounted volume as the shell and the self-test do; every error is
/// acceptable, a panic or a hang is not. Returns the paths it changed.
fn exercise(v: &Volume<Overlay>, input: &mut Input<'_>) -> Vec<String> {
    let mut paths = Vec::new();
    let _ = v.walk("/", &mut |p, md| {
        paths.push((p.to_string(), md.is_dir));
        Ok(())
    });
    let mut buf = vec![0u8; 4096];
    for (p, is_dir) in paths.iter().take(64) {
        if !is_dir {
            let _ = v.sha256_file(p, &mut buf);
        }
    }
    let _ = v.info();
    let mut touched = vec![String::from("/fuzz-new.bin"), String::from("/fuzz dir")];
    let data: Vec<u8> = (0..1500u32).map(|i| (i * 7 + 3) as u8).collect();
    let _ = v.write_file("/fuzz-new.bin", &data);
    let _ = v.create_dir("/fuzz dir");
    let _ = v.write_file("/fuzz dir/inner.txt", b"inner\n");
    let files: Vec<&String> = paths.iter().filter(|(_, d)| !d).map(|(p, _)| p).collect();
    if !files.is_empty() {
        let pick = files[input.byte() as usize % files.len()];
        let _ = v.append_file(pick, &data[..700]);
        touched.push(pick.clone());
        let gone = files[input.byte() as usize % files.len()];
        let _ = v.remove(gone);
        touched.push(gone.clone());
        let moved = files[input.byte() as usize % files.len()];
        let _ = v.rename(moved, "/renamed by fuzz.bin");
        touched.push(moved.clone());
        let cut = files[input.byte() as usize % files.len()];
        let _ = v.truncate_file(cut, u64::from(input.byte()) * 3);
        touched.push(cut.clone());
    }
    let _ = v.flush();
    touched
}

/// How far one input got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The damaged volume was refused at mount (with an error).
    Refused,
    /// Mounted and used, but not mounted again: the unmount's flush failed
    /// (a failing block) or the second mount refused what the first left.
    UsedNotRemounted,
    /// Mounted, used, unmounted and mounted again.
    Used,
}

/// One fuzz input: damage, mount, use, remount, check the writes.
pub fn fuzz_one(data: &[u8]) -> Outcome {
    let base = base();
    let mut input = Input(data);
    let mut ov = Overlay {
        base: &base.image,
        blocks: BTreeMap::new(),
        fail_read: BTreeSet::new(),
        fail_write: BTreeSet::new(),
    };
    let d = damage(&mut ov, base, &mut input);
    let damaged: BTreeMap<u64, Box<[u8; BLOCK]>> = ov.blocks.clone();
    let time = TimeSource::Clock(clock);
    let (touched, ov) = match Volume::mount(ov, time) {
        Ok(v) => {
            let touched = exercise(&v, &mut input);
            match v.unmount() {
                Ok(dev) => (touched, dev),
                Err(_) => return Outcome::UsedNotRemounted,
            }
        }
        Err(_) => return Outcome::Refused,
    };
    // A second mount of what the first left must not panic either.
    let (ov, outcome) = match Volume::mount(ov, time) {
        Ok(v) => {
            let _ = v.walk("/", &mut |_, _| Ok(()));
            match v.unmount() {
                Ok(dev) => (dev, Outcome::Used),
                Err(_) => return Outcome::Used,
            }
        }
        Err(e) => match e.device {
            Some(dev) => (dev, Outcome::UsedNotRemounted),
            None => return Outcome::UsedNotRemounted,
        },
    };
    if d.fat_only {
        check_writes(base, &d, &damaged, &ov, &touched);
    }
    outcome
}

/// With only FAT damage, every block the workload changed is metadata, free
/// space, a directory, a file it touched, or a file whose chain the damage
/// reaches.
fn check_writes(
    base: &Base,
    d: &Damage,
    damaged: &BTreeMap<u64, Box<[u8; BLOCK]>>,
    ov: &Overlay,
    touched: &[String],
) {
    let loc = Locator::new(&base.image).expect("base image");
    let mut reached: BTreeSet<String> = BTreeSet::new();
    for &c in &d.fat_clusters {
        // The file whose entry was damaged, and the one owning the cluster
        // the damaged entry now points to (its chain continues there).
        if let Some((p, _)) = loc.owner_of(c) {
            reached.insert(p.to_string());
        }
        let off = base.fats[0].0 + u64::from(c) * 4;
        if base.fats[0].1 >= off + 4 {
            let v = u32::from_le_bytes(read_at(damaged, base, off)) & 0x0FFF_FFFF;
            if let Some((p, _)) = loc.owner_of(v) {
                reached.insert(p.to_string());
            }
        }
    }
    for (&lba, blk) in &ov.blocks {
        let before: &[u8] = match damaged.get(&lba) {
            Some(b) => &b[..],
            None => &base.image[lba as usize * BLOCK..][..BLOCK],
        };
        if before == &blk[..] {
            continue;
        }
        let l = loc.locate(lba * BLOCK as u64).expect("inside the image");
        if l.region != Region::Data {
            continue;
        }
        let (Some(owner), Some(kind)) = (l.owner.as_deref(), l.owner_kind) else {
            continue; // free space
        };
        if kind == crate::locate::OwnerKind::Directory {
            continue;
        }
        let ok = touched.iter().any(|t| t == owner) || reached.contains(owner);
        assert!(
            ok,
            "a write landed in {owner} (sector {lba}), which the workload did not touch and the FAT damage does not reach"
        );
    }
}

/// Four bytes at `off` (4-aligned) of the damaged image, before the
/// workload ran.
fn read_at(damaged: &BTreeMap<u64, Box<[u8; BLOCK]>>, base: &Base, off: u64) -> [u8; 4] {
    let lba = off / BLOCK as u64;
    let i = (off % BLOCK as u64) as usize;
    let blk: &[u8] = match damaged.get(&lba) {
        Some(b) => &b[..],
        None => &base.image[lba as usize * BLOCK..][..BLOCK],
    };
    [blk[i], blk[i + 1], blk[i + 2], blk[i + 3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlay_with_write_into(path: &str) -> (Overlay, u64) {
        let base = base();
        let loc = Locator::new(&base.image).unwrap();
        let c = loc.first_cluster_of(path).expect("file has data");
        let off = loc.cluster_offset(c).unwrap();
        let mut ov = Overlay {
            base: &base.image,
            blocks: BTreeMap::new(),
            fail_read: BTreeSet::new(),
            fail_write: BTreeSet::new(),
        };
        ov.poke(off, &[!base.image[off as usize]]);
        (ov, off)
    }

    #[test]
    #[should_panic(expected = "a write landed in /big.bin")]
    fn a_write_into_an_untouched_file_is_caught() {
        let (ov, _) = overlay_with_write_into("/big.bin");
        let d = Damage {
            fat_only: true,
            fat_clusters: Vec::new(),
        };
        check_writes(base(), &d, &BTreeMap::new(), &ov, &[]);
    }

    #[test]
    fn writes_into_touched_or_reached_files_pass() {
        let (ov, _) = overlay_with_write_into("/big.bin");
        let d = Damage {
            fat_only: true,
            fat_clusters: Vec::new(),
        };
        check_writes(base(), &d, &BTreeMap::new(), &ov, &["/big.bin".into()]);
        // Damage to the FAT entry of /big.bin's first cluster reaches it.
        let loc = Locator::new(&base().image).unwrap();
        let c = loc.first_cluster_of("/big.bin").unwrap();
        let d = Damage {
            fat_only: true,
            fat_clusters: vec![c],
        };
        check_writes(base(), &d, &BTreeMap::new(), &ov, &[]);
    }
}
