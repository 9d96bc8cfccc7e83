//! The profiling harness behind `fat-file-read`/`fat-file-write` on the host:
//! a 64 MiB file read through `Volume::stream_file` and one written through
//! a `Volume::create_writer` writer in 1 MiB calls, on an in-memory image with 4 KiB
//! clusters (the shape of `disks/manifests/bench.manifest`).
//!
//! The test checks the bytes and prints host time; to count instructions per
//! cluster, run it under callgrind and collect only the timed functions:
//!
//! ```text
//! cargo test --release -p disks --test fat_profile --no-run
//! valgrind --tool=callgrind --toggle-collect='fat_profile::timed_*' \
//!     target/release/deps/fat_profile-HASH --exact fat_file_read_and_write
//! ```
//! (divide by 16,384 clusters; `FAT_PROFILE_MIB` changes the size). It also
//! prints the device requests each part made, with their mean size.

mod common;

use common::Counting;
use disks::build::build_image_bytes;
use disks::fs::Volume;
use disks::mem::MemDisk;
use disks::{ImageSpec, TimeSource, Timestamp};

/// (reads, their bytes), (writes, their bytes) so far.
fn counts(d: &Counting) -> ((u64, u64), (u64, u64)) {
    ((d.reads, d.read_bytes), (d.writes, d.write_bytes))
}

/// Requests since `before` (reads, writes), as "N reads (mean KiB), M writes (mean KiB)".
fn requests(v: &Volume<Counting>, before: ((u64, u64), (u64, u64))) -> String {
    let (r, w) = v.with_device(counts);
    let (r, w) = (
        (r.0 - before.0 .0, r.1 - before.0 .1),
        (w.0 - before.1 .0, w.1 - before.1 .1),
    );
    let kib = |(n, b): (u64, u64)| {
        if n == 0 {
            0.0
        } else {
            b as f64 / n as f64 / 1024.0
        }
    };
    format!(
        "{} reads ({:.1} KiB mean), {} writes ({:.1} KiB mean)",
        r.0,
        kib(r),
        w.0,
        kib(w)
    )
}

const MANIFEST: &str = r#"
image-size   320MiB
cluster-size 4K
label        PROFILE
volume-id    0x20261207
timestamp    2026-12-07 00:00:00
file /big.bin random 64M seed=0xB16
"#;

fn clock() -> Timestamp {
    Timestamp::new(2026, 12, 7, 1, 0, 0)
}

fn mib() -> usize {
    std::env::var("FAT_PROFILE_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

#[inline(never)]
fn timed_read(v: &Volume<Counting>, buf: &mut [u8]) -> (u64, u64) {
    let mut sum = 0u64;
    let n = v
        .stream_file("/big.bin", buf, &mut |b| {
            sum = sum.wrapping_add(b[0] as u64)
        })
        .unwrap();
    (n, sum)
}

#[inline(never)]
fn timed_write(v: &Volume<Counting>, chunk: &[u8], size: usize) {
    let mut w = v.create_writer("/out.bin").unwrap();
    assert!(w.past_lamfat());
    for _ in 0..size / chunk.len() {
        w.write(chunk).unwrap();
    }
    drop(w);
    v.flush().unwrap();
}

#[test]
fn fat_file_read_and_write() {
    let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let dev = Counting::new(MemDisk::from_vec(img));
    let v = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mark = v.with_device(counts);
    let t0 = std::time::Instant::now();
    let (n, _) = timed_read(&v, &mut buf);
    let read = t0.elapsed();
    assert_eq!(n, 64 << 20);
    eprintln!("fat-file-read requests: {}", requests(&v, mark));

    let size = mib() << 20;
    let chunk: Vec<u8> = (0..1usize << 20)
        .map(|i| (i as u8).wrapping_mul(31) ^ (i >> 12) as u8)
        .collect();
    let mark = v.with_device(counts);
    let t0 = std::time::Instant::now();
    timed_write(&v, &chunk, size);
    let write = t0.elapsed();
    eprintln!("fat-file-write requests: {}", requests(&v, mark));
    eprintln!(
        "host: fat-file-read 64 MiB {:.2} ms, fat-file-write {} MiB {:.2} ms",
        read.as_secs_f64() * 1e3,
        mib(),
        write.as_secs_f64() * 1e3
    );
    let back = v.read_file("/out.bin").unwrap();
    assert_eq!(back.len(), size);
    assert!(back.chunks(chunk.len()).all(|c| c == &chunk[..]));
    v.unmount().unwrap();
}
