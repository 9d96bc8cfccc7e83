//! Chains extended ahead of lamfat by `Volume::write_to_file`
//! (`disks/src/fs/extend.rs`): through holes in the free space, up to a full
//! volume, and across other files' writes, the files read back, `df` counts
//! what the FAT says, and the unmounted image (FSInfo included) is
//! fsck-clean.

use disks::build::build_image_bytes;
use disks::fs::{FsError, Volume};
use disks::mem::MemDisk;
use disks::{ImageSpec, TimeSource, Timestamp};

mod common;

fn clock() -> Timestamp {
    Timestamp::new(2026, 12, 7, 4, 0, 0)
}

fn body(k: usize, n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + k * 11 + i / 512) as u8).collect()
}

/// Free clusters as the FAT says (entries 2.. that are 0), from the image.
fn free_in_fat(img: &[u8]) -> u32 {
    let le16 = |o: usize| u16::from_le_bytes([img[o], img[o + 1]]) as usize;
    let le32 = |o: usize| u32::from_le_bytes([img[o], img[o + 1], img[o + 2], img[o + 3]]);
    let bps = le16(11);
    let spc = img[13] as usize;
    let fat = le16(14) * bps;
    let fat_sectors = le32(36) as usize;
    let total = le32(32) as usize;
    let clusters = (total - le16(14) - 2 * fat_sectors) / spc;
    (2..clusters + 2)
        .filter(|&c| le32(fat + c * 4) & 0x0FFF_FFFF == 0)
        .count() as u32
}

/// Free space full of holes (every third small file removed): a large
/// file written in 1 MiB calls fills them, and another file written in
/// between (lamfat allocating, so the remembered chain end is stale) does
/// not confuse the extension.
#[test]
fn extended_chains_fill_holes_and_keep_counts_right() {
    let spec = "image-size 320MiB\ncluster-size 4K\nlabel HOLES\nvolume-id 0x1207\n\
                timestamp 2026-12-07 04:00:00\n";
    let (img, _) = build_image_bytes(&ImageSpec::parse(spec).unwrap()).unwrap();
    let v = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    for k in 0..60 {
        v.write_file(&format!("/s{k}.bin"), &body(k, 3 * 4096 + 5))
            .unwrap();
    }
    for k in (0..60).step_by(3) {
        v.remove(&format!("/s{k}.bin")).unwrap();
    }
    let big = body(99, 5 << 20);
    let mut f = v.create_file("/big.bin").unwrap();
    for (i, chunk) in big.chunks(1 << 20).enumerate() {
        v.write_to_file(&mut f, chunk, "/big.bin").unwrap();
        if i == 2 {
            // Another file grows through lamfat between two calls.
            v.append_file("/s1.bin", &body(7, 9000)).unwrap();
        }
    }
    drop(f);
    assert!(v.read_file("/big.bin").unwrap() == big);
    let mut s1 = body(1, 3 * 4096 + 5);
    s1.extend(body(7, 9000));
    assert!(v.read_file("/s1.bin").unwrap() == s1);
    let df = v.info().unwrap().free_clusters;
    let img = v.unmount().unwrap().into_vec();
    assert_eq!(df, free_in_fat(&img), "df against the FAT");
    common::assert_fsck_clean(&img, "extend-holes.img");
    let again = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    assert!(again.read_file("/big.bin").unwrap() == big);
    assert_eq!(
        again.info().unwrap().free_clusters,
        df,
        "FSInfo after unmount"
    );
}

/// A write larger than the free space takes every free cluster, fails with
/// `NoSpace`, and leaves a file whose size matches its chain: fsck-clean,
/// `df` at 0, and the bytes that fit read back.
#[test]
fn a_write_past_the_free_space_fails_cleanly() {
    let spec = "image-size 34M\ncluster-size 512\nlabel FULL\nvolume-id 0x1207\n\
                timestamp 2026-12-07 04:00:00\n";
    let (img, _) = build_image_bytes(&ImageSpec::parse(spec).unwrap()).unwrap();
    let v = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    let free = v.info().unwrap().free_bytes() as usize;
    let data = body(5, free + (3 << 20));
    let mut f = v.create_file("/fill.bin").unwrap();
    let mut res = Ok(());
    for chunk in data.chunks(1 << 20) {
        res = v.write_to_file(&mut f, chunk, "/fill.bin");
        if res.is_err() {
            break;
        }
    }
    drop(f);
    assert!(matches!(res, Err(FsError::NoSpace)), "{res:?}");
    assert_eq!(v.info().unwrap().free_clusters, 0);
    let got = v.read_file("/fill.bin").unwrap();
    assert_eq!(got.len(), free);
    assert!(got[..] == data[..free]);
    let img = v.unmount().unwrap().into_vec();
    assert_eq!(free_in_fat(&img), 0);
    common::assert_fsck_clean(&img, "extend-full.img");
}

/// A MemDisk the test keeps a handle on, to look at after the volume is gone.
struct Shared(std::sync::Arc<std::sync::Mutex<MemDisk>>);

impl ddk::BlockDevice for Shared {
    fn block_size(&self) -> usize {
        self.0.lock().unwrap().block_size()
    }
    fn block_count(&self) -> u64 {
        self.0.lock().unwrap().block_count()
    }
    fn is_read_only(&self) -> bool {
        false
    }
    fn read_blocks(&mut self, lba: ddk::Lba, buf: &mut [u8]) -> Result<(), ddk::BlockError> {
        self.0.lock().unwrap().read_blocks(lba, buf)
    }
    fn write_blocks(&mut self, lba: ddk::Lba, buf: &[u8]) -> Result<(), ddk::BlockError> {
        self.0.lock().unwrap().write_blocks(lba, buf)
    }
    fn flush(&mut self) -> Result<(), ddk::BlockError> {
        Ok(())
    }
}

/// A volume dropped without an unmount: lamfat's own drop writes FSInfo
/// (through the storage, which corrects the count for the clusters taken
/// past lamfat) and the storage's drop writes the held FAT blocks back, so
/// the image is fsck-clean.
#[test]
fn a_volume_dropped_without_unmount_leaves_fsinfo_right() {
    let spec = "image-size 320MiB\ncluster-size 4K\nlabel DROPPED\nvolume-id 0x1207\n\
                timestamp 2026-12-07 04:00:00\n";
    let (img, _) = build_image_bytes(&ImageSpec::parse(spec).unwrap()).unwrap();
    let disk = std::sync::Arc::new(std::sync::Mutex::new(MemDisk::from_vec(img)));
    let v = Volume::mount(Shared(disk.clone()), TimeSource::Clock(clock)).unwrap();
    let data = body(3, 3 << 20);
    v.write_file("/dropped.bin", &data).unwrap();
    let df = v.info().unwrap().free_clusters;
    drop(v);
    let img = disk.lock().unwrap().as_slice().to_vec();
    assert_eq!(free_in_fat(&img), df);
    common::assert_fsck_clean(&img, "extend-dropped.img");
    let again = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    assert!(again.read_file("/dropped.bin").unwrap() == data);
    assert_eq!(again.info().unwrap().free_clusters, df);
}
