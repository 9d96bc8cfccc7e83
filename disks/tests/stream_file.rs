//! Reading a file through its extents: the bytes are the file's (contiguous
//! and fragmented files, any cluster size) and a contiguous file costs one
//! device request per buffer, not one per cluster as lamfat's own `read` does.

mod common;

use common::Counting;
use ddk::{BlockDevice, BlockError, Lba};
use disks::build::build_image_bytes;
use disks::fs::Volume;
use disks::mem::MemDisk;
use disks::{ImageSpec, TimeSource, Timestamp};
use lamfat::Read as _;

const MANIFEST: &str = r#"
image-size   72MiB
cluster-size 1024
label        EXTENTS
volume-id    0x20261206
timestamp    2026-12-06 08:00:00
file /big.bin random 8M seed=8
file /small.txt text "small\n"
"#;

fn clock() -> Timestamp {
    Timestamp::new(2026, 12, 6, 10, 0, 0)
}

fn reads(v: &Volume<Counting>) -> u64 {
    v.with_device(|d| d.reads)
}

#[test]
fn a_contiguous_file_is_read_in_buffer_sized_requests() {
    let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let truth = {
        let v = Volume::mount(MemDisk::from_vec(img.clone()), TimeSource::Clock(clock)).unwrap();
        let mut f = v.open_file("/big.bin").unwrap();
        let mut out = Vec::new();
        let mut b = vec![0u8; 4096];
        loop {
            let n = f.read(&mut b).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&b[..n]);
        }
        out
    };
    assert_eq!(truth.len(), 8 << 20);
    let dev = Counting::new(MemDisk::from_vec(img));
    let v = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
    let before = reads(&v);
    let mut buf = vec![0u8; 1 << 20];
    let mut got = Vec::new();
    let n = v
        .stream_file("/big.bin", &mut buf, &mut |b| got.extend_from_slice(b))
        .unwrap();
    let requests = reads(&v) - before;
    assert_eq!(n, 8 << 20);
    assert!(
        got == truth,
        "stream_file returned other bytes than lamfat's read"
    );
    // 8 data requests, plus the directory lookup and the FAT sectors the
    // chain walk reads (cached): far below the 8192 of one per cluster.
    assert!(
        requests <= 8 + 16,
        "{requests} device reads for 8 MiB in 1 MiB pieces"
    );
    assert_eq!(v.read_file("/small.txt").unwrap(), b"small\n");
}

#[test]
fn fragmented_files_read_back_exactly() {
    // Files interleaved by appends, so their chains alternate.
    let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let v = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    let pattern = |seed: u8, n: usize| -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed))
            .collect()
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..12 {
        let pa = pattern(3 + round, 5000 + 700 * round as usize);
        let pb = pattern(101 + round, 4096 * (1 + round as usize % 3));
        v.append_file("/a.bin", &pa).unwrap();
        v.append_file("/b.bin", &pb).unwrap();
        a.extend_from_slice(&pa);
        b.extend_from_slice(&pb);
    }
    for (path, want) in [("/a.bin", &a), ("/b.bin", &b)] {
        for piece in [512usize, 4096, 10_000, 1 << 20] {
            let mut buf = vec![0u8; piece];
            let mut got = Vec::new();
            v.stream_file(path, &mut buf, &mut |x| got.extend_from_slice(x))
                .unwrap();
            assert!(&got == want, "{path} read in {piece}-byte pieces differs");
        }
        assert!(&v.read_file(path).unwrap() == want);
    }
}

/// lamfat's own reading of `path`: `File::read` until it returns 0.
fn lamfat_read<D: BlockDevice>(v: &Volume<D>, path: &str) -> Vec<u8> {
    let mut f = v.open_file(path).unwrap();
    let (mut out, mut b) = (Vec::new(), vec![0u8; 65536]);
    loop {
        let n = f.read(&mut b).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[..n]);
    }
}

/// The clusters of `path`'s chain (lamfat's extents) and the byte offsets
/// of the two FATs in the image.
fn chain_and_fats(img: &[u8], path: &str) -> (Vec<u32>, [usize; 2]) {
    let le16 = |o: usize| u16::from_le_bytes([img[o], img[o + 1]]) as usize;
    let le32 = |o: usize| u32::from_le_bytes(img[o..o + 4].try_into().unwrap()) as usize;
    let (bps, spc, reserved, fat_sectors) = (le16(11), img[13] as usize, le16(14), le32(36));
    let fat0 = reserved * bps;
    let data = fat0 + 2 * fat_sectors * bps;
    let v = Volume::mount(MemDisk::from_vec(img.to_vec()), TimeSource::Clock(clock)).unwrap();
    let mut f = v.open_file(path).unwrap();
    let clusters = f
        .extents()
        .map(|e| ((e.unwrap().offset as usize - data) / (spc * bps) + 2) as u32)
        .collect();
    (clusters, [fat0, fat0 + fat_sectors * bps])
}

fn set_entry(img: &mut [u8], fat: usize, cluster: u32, value: u32) {
    let at = fat + cluster as usize * 4;
    img[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// The chain is read from the FAT directly (`fs/chain.rs`); on damaged
/// chains it gives what lamfat's own reading gives: a chain ending early
/// (end-of-chain or free entry) yields only its clusters, and a loop is
/// bounded by the file's size instead of hanging.
#[test]
fn a_chain_that_ends_early_or_loops_reads_as_lamfat_reads_it() {
    let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let (chain, fats) = chain_and_fats(&img, "/big.bin");
    assert_eq!(chain.len(), 8192);
    let cases: [(&str, u32, Option<usize>); 3] = [
        ("end of chain", 0x0FFF_FFFF, Some(101 << 10)),
        ("free", 0, Some(101 << 10)),
        ("loop", chain[0], None),
    ];
    for (what, value, short) in cases {
        let mut img = img.clone();
        for fat in fats {
            set_entry(&mut img, fat, chain[100], value);
        }
        let v = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
        let want = lamfat_read(&v, "/big.bin");
        let mut buf = vec![0u8; 1 << 20];
        let mut got = Vec::new();
        let n = v
            .stream_file("/big.bin", &mut buf, &mut |b| got.extend_from_slice(b))
            .unwrap();
        assert_eq!(n as usize, got.len(), "{what}");
        assert_eq!(got.len(), short.unwrap_or(8 << 20), "{what}");
        assert!(got == want, "{what}: other bytes than lamfat's read");
        if short.is_some() {
            assert!(
                matches!(
                    v.read_file("/big.bin"),
                    Err(disks::fs::FsError::UnexpectedEof)
                ),
                "{what}"
            );
        }
    }
}

/// With FAT mirroring off (extended flags bit 7) lamfat reads the active
/// FAT only; so does the chain walk.
#[test]
fn the_chain_is_read_from_the_fat_lamfat_reads() {
    let (mut img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let (chain, fats) = chain_and_fats(&img, "/big.bin");
    // FAT 0 says the file ends after its first cluster; FAT 1, the active
    // one, has the whole chain.
    set_entry(&mut img, fats[0], chain[0], 0x0FFF_FFFF);
    img[40..42].copy_from_slice(&0x0081u16.to_le_bytes());
    let v = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    let want = lamfat_read(&v, "/big.bin");
    assert_eq!(want.len(), 8 << 20);
    assert!(v.read_file("/big.bin").unwrap() == want);
}

/// A FAT entry naming no cluster of the volume, seen by the chain walk but
/// not by the mount's FAT scan (a device whose answers change, or damage the
/// scan missed): a clear error naming the file, not a panic or a read
/// elsewhere.
#[test]
fn a_chain_naming_no_cluster_is_a_clear_error() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    struct Damaging {
        inner: MemDisk,
        /// Damage reads shorter than the mount's 64 KiB FAT scan.
        on: Arc<AtomicBool>,
        /// Byte offset of the FAT entry to damage.
        at: u64,
    }
    impl BlockDevice for Damaging {
        fn block_size(&self) -> usize {
            self.inner.block_size()
        }
        fn block_count(&self) -> u64 {
            self.inner.block_count()
        }
        fn is_read_only(&self) -> bool {
            true
        }
        fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
            self.inner.read_blocks(lba, buf)?;
            let start = lba.as_u64() * 512;
            if self.on.load(Ordering::Relaxed)
                && buf.len() < 65536
                && (start..start + buf.len() as u64).contains(&self.at)
            {
                let k = (self.at - start) as usize;
                buf[k..k + 4].copy_from_slice(&1u32.to_le_bytes());
            }
            Ok(())
        }
        fn write_blocks(&mut self, _: Lba, _: &[u8]) -> Result<(), BlockError> {
            Err(BlockError::ReadOnly)
        }
        fn flush(&mut self) -> Result<(), BlockError> {
            Ok(())
        }
    }
    let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let (chain, fats) = chain_and_fats(&img, "/big.bin");
    let on = Arc::new(AtomicBool::new(true));
    let dev = Damaging {
        inner: MemDisk::from_vec(img),
        on: on.clone(),
        at: (fats[0] + chain[3000] as usize * 4) as u64,
    };
    let v = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    match v.stream_file("/big.bin", &mut buf, &mut |_| {}) {
        Err(disks::fs::FsError::Corrupt(m)) => {
            assert!(m.contains("/big.bin") && m.contains("0x1"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}
