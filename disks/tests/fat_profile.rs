//! The profiling harness behind `fat-file-read`/`fat-file-write` on the host:
//! a 64 MiB file read through `Volume::stream_file` and one written through
//! `Volume::write_to_file` in 1 MiB calls, on an in-memory image with 4 KiB
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
//! (divide by 16,384 clusters; `FAT_PROFILE_MIB` changes the size).

use disks::build::build_image_bytes;
use disks::fs::Volume;
use disks::mem::MemDisk;
use disks::{ImageSpec, TimeSource, Timestamp};

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
fn timed_read(v: &Volume<MemDisk>, buf: &mut [u8]) -> (u64, u64) {
    let mut sum = 0u64;
    let n = v
        .stream_file("/big.bin", buf, &mut |b| {
            sum = sum.wrapping_add(b[0] as u64)
        })
        .unwrap();
    (n, sum)
}

#[inline(never)]
fn timed_write(v: &Volume<MemDisk>, chunk: &[u8], size: usize) {
    let mut f = v.create_file("/out.bin").unwrap();
    for _ in 0..size / chunk.len() {
        v.write_to_file(&mut f, chunk, "/out.bin").unwrap();
    }
    drop(f);
    v.flush().unwrap();
}

#[test]
fn fat_file_read_and_write() {
    let (img, _) = build_image_bytes(&ImageSpec::parse(MANIFEST).unwrap()).unwrap();
    let v = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let t0 = std::time::Instant::now();
    let (n, _) = timed_read(&v, &mut buf);
    let read = t0.elapsed();
    assert_eq!(n, 64 << 20);

    let size = mib() << 20;
    let chunk: Vec<u8> = (0..1usize << 20)
        .map(|i| (i as u8).wrapping_mul(31) ^ (i >> 12) as u8)
        .collect();
    let t0 = std::time::Instant::now();
    timed_write(&v, &chunk, size);
    let write = t0.elapsed();
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
