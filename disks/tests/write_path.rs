//! Writing a large file through fatfs: the data leaves the block stream as
//! large device requests (write combining), not one request per cluster.

use disks::build::build_image_bytes;
use disks::fs::Volume;
use disks::mem::MemDisk;
use disks::{ImageSpec, TimeSource, Timestamp};
use lamfat::Write as _;

mod common;

use common::Counting;

const MANIFEST: &str = r#"
image-size   320MiB
cluster-size 4K
label        WRITES
volume-id    0x20261206
timestamp    2026-12-06 08:00:00
file /small.txt text "small\n"
"#;

fn clock() -> Timestamp {
    Timestamp::new(2026, 12, 6, 10, 0, 0)
}

#[test]
fn a_large_file_is_written_in_large_requests() {
    let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let dev = Counting::new(MemDisk::from_vec(img));
    let v = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
    const SIZE: usize = 64 << 20;
    let chunk: Vec<u8> = (0..1usize << 20)
        .map(|i| (i as u8).wrapping_mul(31))
        .collect();
    let (w0, r0) = v.with_device(|d| (d.writes, d.reads));
    let t0 = std::time::Instant::now();
    {
        let mut f = v.create_file("/out.bin").unwrap();
        for _ in 0..SIZE / chunk.len() {
            f.write_all(&chunk).unwrap();
        }
        f.flush().unwrap();
    }
    v.flush().unwrap();
    let took = t0.elapsed();
    let (w1, r1, bytes) = v.with_device(|d| (d.writes, d.reads, d.write_bytes));
    eprintln!(
        "64 MiB through fatfs: {} write requests ({} bytes), {} reads, {:.1} ms on the host",
        w1 - w0,
        bytes,
        r1 - r0,
        took.as_secs_f64() * 1e3
    );
    let back = v.read_file("/out.bin").unwrap();
    assert_eq!(back.len(), SIZE);
    assert!(back.chunks(chunk.len()).all(|c| c == &chunk[..]));
    // 64 data requests of 1 MiB, plus FAT sectors, FSInfo and the directory
    // entry: far from the 16,384 of one request per cluster.
    assert!(w1 - w0 <= 64 + 256, "{} write requests", w1 - w0);
}

/// The same 64 MiB through `Volume::write_to_file` (borrowed writes) and
/// through lamfat's `write_all` alone, each on a fresh image, written as 1 MiB
/// calls, unmounted: the images are byte for byte the same (the allocation,
/// FAT, FSInfo and directory entry are lamfat's either way), fsck.fat finds
/// nothing, and the borrowed path sends the data in 1 MiB requests without
/// copying it into the cache.
#[test]
fn write_to_file_writes_the_same_image_in_large_requests() {
    const SIZE: usize = 64 << 20;
    let chunk: Vec<u8> = (0..1usize << 20)
        .map(|i| (i as u8).wrapping_mul(31) ^ (i >> 12) as u8)
        .collect();
    let run = |borrowed: bool| -> (Vec<u8>, u64) {
        let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
        let dev = Counting::new(MemDisk::from_vec(img));
        let v = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
        // An unaligned head first: the file's first cluster is partly
        // written through the cache, the rest from the caller's buffer.
        v.write_file("/out.bin", &chunk[..1000]).unwrap();
        let w0 = v.with_device(|d| d.writes);
        let t0 = std::time::Instant::now();
        {
            let mut f = v.open_file("/out.bin").unwrap();
            lamfat::Seek::seek(&mut f, lamfat::SeekFrom::End(0)).unwrap();
            for _ in 0..SIZE / chunk.len() {
                if borrowed {
                    v.write_to_file(&mut f, &chunk, "/out.bin").unwrap();
                } else {
                    f.write_all(&chunk).unwrap();
                }
            }
        }
        v.flush().unwrap();
        let took = t0.elapsed();
        let w = v.with_device(|d| d.writes) - w0;
        let back = v.read_file("/out.bin").unwrap();
        assert_eq!(back.len(), SIZE + 1000);
        assert_eq!(&back[..1000], &chunk[..1000]);
        assert!(back[1000..].chunks(chunk.len()).all(|c| c == &chunk[..]));
        eprintln!(
            "64 MiB, borrowed={borrowed}: {w} write requests, {:.1} ms on the host",
            took.as_secs_f64() * 1e3
        );
        (v.unmount().unwrap().inner.into_vec(), w)
    };
    let (plain, _) = run(false);
    let (fast, writes) = run(true);
    assert!(plain == fast, "the borrowed path wrote a different image");
    // The 1000-byte head leaves each 1 MiB call unaligned to clusters, so a
    // call's data is two runs (before and after a cluster boundary) at most
    // one cluster apart: still about one request per MiB, plus metadata.
    assert!(writes <= 2 * 64 + 256, "{writes} write requests");
    let path = common::temp_path("write-to-file.img");
    std::fs::write(&path, &fast).unwrap();
    let (clean, out) = common::fsck(&path);
    let _ = std::fs::remove_file(&path);
    assert!(clean, "fsck.fat -n:\n{out}");
}

/// Clusters freed and allocated again while lamfat's FAT reads come from
/// `FatIo`'s copy of the last FAT block: every file reads back, a fresh
/// mount (no copy) reads the same, and fsck.fat finds the FAT, FSInfo and
/// directories clean.
#[test]
fn freed_and_reused_clusters_leave_a_clean_fat() {
    let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let v = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    let body = |k: usize, n: usize| -> Vec<u8> { (0..n).map(|i| (i * 7 + k) as u8).collect() };
    let mut want = std::collections::BTreeMap::new();
    for round in 0..6usize {
        for k in 0..12usize {
            let path = format!("/f{k}.bin");
            let n = 3000 + 4096 * ((k * 5 + round * 3) % 9);
            if (k + round) % 3 == 0 {
                v.remove(&path).ok();
                want.remove(&path);
            } else {
                v.append_file(&path, &body(k + round, n)).unwrap();
                want.entry(path)
                    .or_insert_with(Vec::new)
                    .extend(body(k + round, n));
            }
        }
    }
    for (path, data) in &want {
        assert!(&v.read_file(path).unwrap() == data, "{path}");
    }
    let img = v.unmount().unwrap().into_vec();
    let again = Volume::mount(MemDisk::from_vec(img.clone()), TimeSource::Clock(clock)).unwrap();
    for (path, data) in &want {
        assert!(
            &again.read_file(path).unwrap() == data,
            "{path} after a remount"
        );
    }
    let path = common::temp_path("reused-clusters.img");
    std::fs::write(&path, &img).unwrap();
    let (clean, out) = common::fsck(&path);
    let _ = std::fs::remove_file(&path);
    assert!(clean, "fsck.fat -n:\n{out}");
}
