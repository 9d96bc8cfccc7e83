//! The FAT blocks lamfat's storage holds back (`disks/src/fs/fatbuf.rs`) as
//! the volume sees them: chains read past lamfat see held entries, a flush
//! leaves both FAT copies equal and fsck-clean on the device, and a device
//! that fails the write-back makes the flush fail without losing anything.

use ddk::{BlockDevice, BlockError};
use disks::build::build_image_bytes;
use disks::fs::Volume;
use disks::mem::{FailingDisk, MemDisk};
use disks::{ImageSpec, TimeSource, Timestamp};
use lamfat::Write as _;

mod common;

const MANIFEST: &str = r#"
image-size   320MiB
cluster-size 4K
label        FATBUF
volume-id    0x20261207
timestamp    2026-12-07 03:00:00
file /small.txt text "small\n"
"#;

fn clock() -> Timestamp {
    Timestamp::new(2026, 12, 7, 3, 30, 0)
}

fn image() -> Vec<u8> {
    build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap())
        .unwrap()
        .0
}

fn body(k: usize, n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 13 + k * 7 + i / 4096) as u8).collect()
}

/// Two files written a cluster at a time in turn (their chains interleave,
/// so every link is a FAT entry worth checking), through lamfat's own
/// `write_all`, with no flush.
fn write_interleaved<D: BlockDevice>(v: &Volume<D>, clusters: usize) -> [Vec<u8>; 2] {
    let want = [body(1, clusters * 4096 + 100), body(2, clusters * 4096 + 7)];
    let mut a = v.create_file("/a.bin").unwrap();
    let mut b = v.create_file("/b.bin").unwrap();
    for k in 0..=clusters {
        let r = k * 4096..((k + 1) * 4096).min(want[0].len());
        a.write_all(&want[0][r]).unwrap();
        let r = k * 4096..((k + 1) * 4096).min(want[1].len());
        b.write_all(&want[1][r]).unwrap();
    }
    want
}

/// Byte ranges of FAT 1 and FAT 2, from the boot sector.
fn fats(img: &[u8]) -> [std::ops::Range<usize>; 2] {
    let le16 = |o: usize| u16::from_le_bytes([img[o], img[o + 1]]) as usize;
    let le32 = |o: usize| u32::from_le_bytes([img[o], img[o + 1], img[o + 2], img[o + 3]]) as usize;
    let bps = le16(11);
    let start = le16(14) * bps;
    let size = le32(36) * bps;
    assert_eq!(img[16], 2, "two FATs");
    [start..start + size, start + size..start + 2 * size]
}

/// A snapshot of the device as fsck.fat sees it after a flush without an
/// unmount: the dirty flag lamfat set while writing cleared and FSInfo's
/// free count (rewritten only on unmount) marked unknown, as a crash right
/// after the flush would leave it, less those two notes.
fn fsck_snapshot(mut img: Vec<u8>, name: &str) {
    img[0x41] &= !1;
    let le16 = |o: usize| u16::from_le_bytes([img[o], img[o + 1]]) as usize;
    let fsinfo = le16(48) * le16(11);
    img[fsinfo + 488..fsinfo + 496].copy_from_slice(&[0xFF; 8]);
    let path = common::temp_path(name);
    std::fs::write(&path, &img).unwrap();
    let (clean, out) = common::fsck(&path);
    let _ = std::fs::remove_file(&path);
    assert!(clean, "fsck.fat -n:\n{out}");
}

/// `stream_file` follows chains in the FAT itself; lamfat's storage still
/// holds the FAT blocks it just changed, and the chain walk sees them.
#[test]
fn chains_read_past_lamfat_see_held_fat_entries() {
    let v = Volume::mount(MemDisk::from_vec(image()), TimeSource::Clock(clock)).unwrap();
    let want = write_interleaved(&v, 300);
    assert!(v.dirty_fat_blocks() > 0, "the FAT blocks are held");
    assert!(v.read_file("/a.bin").unwrap() == want[0]);
    assert!(v.read_file("/b.bin").unwrap() == want[1]);
    // The sink may change the FAT while a chain is followed.
    let mut buf = vec![0u8; 8192];
    let mut got = Vec::new();
    let mut grew = false;
    v.stream_file("/a.bin", &mut buf, &mut |b| {
        got.extend_from_slice(b);
        if !grew {
            grew = true;
            v.append_file("/b.bin", &body(3, 5 * 4096)).unwrap();
        }
    })
    .unwrap();
    assert!(got == want[0]);
    let mut b = want[1].clone();
    b.extend(body(3, 5 * 4096));
    assert!(v.read_file("/b.bin").unwrap() == b);
    let img = v.unmount().unwrap().into_vec();
    let again = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    assert!(again.read_file("/a.bin").unwrap() == want[0]);
    assert!(again.read_file("/b.bin").unwrap() == b);
}

/// After `Volume::flush` (no unmount) the device holds every FAT entry in
/// both copies, equal byte for byte, and passes fsck.fat; nothing is held.
#[test]
fn a_flush_leaves_both_fats_equal_and_clean_on_the_device() {
    let v = Volume::mount(MemDisk::from_vec(image()), TimeSource::Clock(clock)).unwrap();
    let want = write_interleaved(&v, 400);
    v.remove("/small.txt").unwrap();
    assert!(v.dirty_fat_blocks() > 0);
    v.flush().unwrap();
    assert_eq!(v.dirty_fat_blocks(), 0);
    let img = v.with_device(|d| d.as_slice().to_vec());
    let [f1, f2] = fats(&img);
    assert!(img[f1] == img[f2], "FAT 1 and FAT 2 differ after a flush");
    fsck_snapshot(img.clone(), "fatbuf-flushed.img");
    // The snapshot mounts and reads back.
    let snap = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    assert!(snap.read_file("/a.bin").unwrap() == want[0]);
    assert!(snap.read_file("/b.bin").unwrap() == want[1]);
    let img = v.unmount().unwrap().into_vec();
    let [f1, f2] = fats(&img);
    assert!(img[f1] == img[f2]);
    let path = common::temp_path("fatbuf-unmounted.img");
    std::fs::write(&path, &img).unwrap();
    let (clean, out) = common::fsck(&path);
    let _ = std::fs::remove_file(&path);
    assert!(clean, "fsck.fat -n:\n{out}");
}

/// A device that fails writes makes the flush fail (the held FAT blocks and
/// the cache keep what was not written); once it works again, a flush and
/// an unmount leave a clean image with every change. (The data goes first,
/// with a good flush: a combined data run that fails is dropped with its
/// error, by design of the stream.)
#[test]
fn a_failing_device_fails_the_flush_and_loses_nothing() {
    let dev = FailingDisk::new(MemDisk::from_vec(image()), true);
    let fail = dev.switch();
    let v = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
    let want = write_interleaved(&v, 200);
    v.flush().unwrap();
    // FAT-only changes: a chain freed, another cut short.
    v.remove("/b.bin").unwrap();
    v.truncate_file("/a.bin", 10 * 4096).unwrap();
    assert!(v.dirty_fat_blocks() > 0);
    fail.set(true);
    let e = v.flush().unwrap_err();
    assert_eq!(e.block_error(), Some(BlockError::Io), "{e}");
    assert!(v.read_file("/a.bin").unwrap() == want[0][..10 * 4096]);
    fail.set(false);
    v.flush().unwrap();
    assert_eq!(v.dirty_fat_blocks(), 0);
    let img = v.unmount().unwrap().into_inner().into_vec();
    let [f1, f2] = fats(&img);
    assert!(img[f1] == img[f2]);
    let path = common::temp_path("fatbuf-failing.img");
    std::fs::write(&path, &img).unwrap();
    let (clean, out) = common::fsck(&path);
    let _ = std::fs::remove_file(&path);
    assert!(clean, "fsck.fat -n:\n{out}");
    let again = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    assert!(again.read_file("/a.bin").unwrap() == want[0][..10 * 4096]);
    assert!(matches!(
        again.read_file("/b.bin"),
        Err(disks::fs::FsError::NotFound(_))
    ));
}
