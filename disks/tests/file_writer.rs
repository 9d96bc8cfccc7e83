//! `Volume::create_writer` (`disks/src/fs/direct.rs`): files written past
//! lamfat give the image lamfat's own writes give, byte for byte, in large
//! requests; a failing device loses nothing already written; a full volume
//! takes nothing.

use disks::build::build_image_bytes;
use disks::fs::{FsError, Volume};
use disks::mem::{FailingDisk, MemDisk};
use disks::{ImageSpec, TimeSource, Timestamp};
use lamfat::Write as _;

mod common;

use common::Counting;

const MANIFEST: &str = r#"
image-size   320MiB
cluster-size 4K
label        WRITER
volume-id    0x20261207
timestamp    2026-12-07 05:00:00
file /small.txt text "small\n"
file /sub/a.txt text "a\n"
"#;

fn clock() -> Timestamp {
    Timestamp::new(2026, 12, 7, 6, 0, 0)
}

fn image() -> Vec<u8> {
    build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap())
        .unwrap()
        .0
}

/// Pieces of awkward sizes: a head shorter than a cluster, whole MiBs
/// unaligned to clusters after it, an odd tail, an empty piece.
fn pieces(seed: u8) -> Vec<Vec<u8>> {
    let sizes = [1000usize, 1 << 20, 1 << 20, 0, 3 << 20, 4096, 5000, 1 << 20];
    sizes
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            (0..n)
                .map(|i| (i as u8).wrapping_mul(31) ^ (i >> 12) as u8 ^ k as u8 ^ seed)
                .collect()
        })
        .collect()
}

/// Two files (one in a subdirectory, with a long name; another file
/// created in between so that their clusters interleave with lamfat's
/// allocation of the directory entry) written with a writer and with
/// lamfat's `write_all`: the same image after unmount, fsck-clean, every
/// byte read back, and the writer's data in about one request per MiB.
#[test]
fn a_writer_gives_lamfat_s_image_in_large_requests() {
    let files = ["/sub/A Long Output Name.bin", "/out.bin"];
    let run = |direct: bool| -> (Vec<u8>, u64) {
        let dev = Counting::new(MemDisk::from_vec(image()));
        let v = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
        let w0 = v.with_device(|d| d.writes);
        for (k, path) in files.iter().enumerate() {
            if direct {
                let mut w = v.create_writer(path).unwrap();
                assert!(w.past_lamfat());
                for p in pieces(k as u8) {
                    w.write(&p).unwrap();
                }
                assert_eq!(
                    w.len(),
                    pieces(k as u8).iter().map(|p| p.len() as u64).sum()
                );
            } else {
                let mut f = v.create_file(path).unwrap();
                for p in pieces(k as u8) {
                    f.write_all(&p).unwrap();
                }
            }
            v.write_file(&format!("/between{k}.txt"), b"between\n")
                .unwrap();
        }
        v.flush().unwrap();
        let writes = v.with_device(|d| d.writes) - w0;
        for (k, path) in files.iter().enumerate() {
            assert!(
                v.read_file(path).unwrap() == pieces(k as u8).concat(),
                "{path}"
            );
        }
        (v.unmount().unwrap().inner.into_vec(), writes)
    };
    let (plain, _) = run(false);
    let (direct, writes) = run(true);
    assert!(plain == direct, "the writer wrote a different image");
    // 2 × 7.1 MiB of data, each call one or two runs, plus metadata.
    assert!(writes <= 2 * 16 + 64, "{writes} write requests");
    common::assert_fsck_clean(&direct, "file-writer.img");
}

/// A device failing under a write: the call fails, the file keeps what
/// earlier calls wrote (size, bytes), the clusters the call took are free
/// again, and once the device works the image is clean and complete.
#[test]
fn a_failed_write_loses_nothing_already_written() {
    let dev = FailingDisk::new(MemDisk::from_vec(image()), false);
    let fail = dev.switch();
    let v = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
    let mut w = v.create_writer("/f.bin").unwrap();
    let good = pieces(1);
    for p in &good[..3] {
        w.write(p).unwrap();
    }
    let want = good[..3].concat();
    let free = v.info().unwrap().free_clusters;
    fail.set(true);
    let e = w.write(&good[4]).unwrap_err();
    assert_eq!(e.block_error(), Some(ddk::BlockError::Io), "{e}");
    fail.set(false);
    assert_eq!(w.len(), want.len() as u64);
    assert_eq!(v.info().unwrap().free_clusters, free);
    assert!(v.read_file("/f.bin").unwrap() == want);
    // Writing goes on where it stood.
    w.write(&good[5]).unwrap();
    drop(w);
    let want = [want, good[5].clone()].concat();
    v.flush().unwrap();
    let img = v.unmount().unwrap().into_inner().into_vec();
    common::assert_fsck_clean(&img, "file-writer-failed.img");
    let again = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    assert!(again.read_file("/f.bin").unwrap() == want);
}

/// More than the free space: `NoSpace`, nothing taken, the file as it was.
#[test]
fn a_write_past_the_free_space_takes_nothing() {
    let v = Volume::mount(MemDisk::from_vec(image()), TimeSource::Clock(clock)).unwrap();
    let mut w = v.create_writer("/big.bin").unwrap();
    w.write(&[7u8; 10_000]).unwrap();
    let free = v.info().unwrap().free_bytes();
    let too_much = vec![1u8; free as usize + 4096];
    assert_eq!(w.write(&too_much), Err(FsError::NoSpace));
    assert_eq!(v.info().unwrap().free_bytes(), free);
    assert_eq!(w.len(), 10_000);
    drop(w);
    assert!(v.read_file("/big.bin").unwrap() == vec![7u8; 10_000]);
    let img = v.unmount().unwrap().into_vec();
    common::assert_fsck_clean(&img, "file-writer-full.img");
}

/// A writer on an existing file replaces it (lamfat frees the old chain):
/// the same image as lamfat's create-and-write, fsck-clean.
#[test]
fn a_writer_replaces_an_existing_file_as_lamfat_does() {
    let run = |direct: bool| -> Vec<u8> {
        let v = Volume::mount(MemDisk::from_vec(image()), TimeSource::Clock(clock)).unwrap();
        v.write_file("/sub/old.bin", &pieces(3).concat()).unwrap();
        v.write_file("/later.txt", b"later\n").unwrap();
        let new = &pieces(4)[..3];
        if direct {
            let mut w = v.create_writer("/sub/old.bin").unwrap();
            assert!(w.past_lamfat());
            for p in new {
                w.write(p).unwrap();
            }
        } else {
            let mut f = v.create_file("/sub/old.bin").unwrap();
            for p in new {
                f.write_all(p).unwrap();
            }
        }
        assert!(v.read_file("/sub/old.bin").unwrap() == new.concat());
        v.unmount().unwrap().into_vec()
    };
    let (plain, direct) = (run(false), run(true));
    assert!(plain == direct, "the writer wrote a different image");
    common::assert_fsck_clean(&direct, "file-writer-replace.img");
}
