//! `run=bench-blk`: in-kernel block benchmarks over the bound device. Prints
//! figures, asserts nothing. Lines: `bench: <name> <value> <unit>`.
//!
//! MB/s is 10^6 bytes per second. The request counts are fixed, not timed,
//! and the Linux peer (`ci/peers/blkbench.c`) issues the very same requests:
//! both print a `bench-config:` line the host compares before it sets their
//! figures side by side.
//!
//! - `blk-seq-read`: 1 MiB reads, sequential, over the first min(64 MiB, disk),
//!   `SEQ_PASSES` passes; `blk-seq-read-best` and `-p50` are the fastest and
//!   the median single read of those (MB/s).
//! - `blk-seq-write`: the same 1 MiB chunks written back with the bytes just
//!   read (the image's content is preserved; the reads are not timed), a
//!   flush after each pass, `SEQ_PASSES` passes.
//! - `blk-rand-read-4k-qd1`: `RAND_OPS` 4 KiB reads at 4 KiB-aligned offsets
//!   over the whole device drawn from xorshift64 (fixed seed), one at a time;
//!   `blk-rand-read-4k-best` and `-p50` are the fastest and the median
//!   request latency (us).
//! - `blk-seq-read-cpu-busy`, `blk-rand-read-4k-qd1-cpu-busy`: the share of
//!   TSC time of those loops the CPU was not halted in an interrupt wait
//!   (`completion=irq`; 100 % when polling), in percent.
//! - `blk-rand-read-4k-qd4`, `-qd16`, `-qd32`: the same reads handed to the
//!   driver `QUEUE_DEPTHS` at a time (`BlockDevice::read_many`), each batch
//!   waited for whole (IOPS).
//! - `fat-file-read`: the largest file of the mounted volume read through
//!   fatfs (its extents, in 1 MiB pieces through the cached stream).
//! - `fat-file-write`: a file of the same size written through the file
//!   system in 1 MiB calls (`Volume::create_writer`: lamfat creates the file
//!   and gives it its first cluster; the volume takes the clusters each call
//!   needs, sends the data from the caller's buffer, one request per
//!   contiguous run, and updates the directory entry), the volume flushed (FAT, directory
//!   entry, device flush: timed, as blk-seq-write's flushes are), then removed
//!   (`cargo xtask bench blk` boots on `disks/manifests/bench.manifest`: 4 KiB
//!   clusters, a 64 MiB file).

use alloc::vec;

use ddk::block::{BlockDevice, Lba, ReadRequest};

use crate::time;

// Keep equal to ci/peers/blkbench.c (the host compares the config lines).
const CHUNK: usize = 1 << 20;
const SEQ_SPAN: u64 = 64 << 20;
const SEQ_PASSES: u32 = 16;
const RAND_SIZE: u64 = 4096;
const RAND_OPS: u32 = 8192;
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;
/// Queue depths of the batched random reads (after the QD1 loop).
const QUEUE_DEPTHS: [usize; 3] = [4, 16, 32];

/// 10^6 bytes per second.
fn mb_per_s(bytes: u64, ns: u64) -> f64 {
    if ns == 0 {
        return 0.0;
    }
    bytes as f64 / 1e6 / (ns as f64 / 1e9)
}

/// The smallest and the median of `samples` (0 for none).
fn best_and_median(samples: &mut [u64]) -> (u64, u64) {
    samples.sort_unstable();
    match samples.first() {
        Some(&b) => (b, samples[samples.len() / 2]),
        None => (0, 0),
    }
}

/// The fraction of TSC time from `since` (a `(tsc, halted ticks)` pair from
/// [`busy_mark`]) to now that the CPU was not halted in an interrupt wait,
/// in percent (100 when polling: the CPU spins the whole time).
fn busy_pct(since: (u64, u64)) -> f64 {
    let (tsc, halted) = busy_mark();
    let wall = tsc.wrapping_sub(since.0).max(1);
    let h = halted.wrapping_sub(since.1).min(wall);
    (wall - h) as f64 * 100.0 / wall as f64
}

fn busy_mark() -> (u64, u64) {
    (
        crate::arch::x86_64::cpu::rdtsc(),
        crate::irq::halted_ticks(),
    )
}

/// Prints one benchmark line.
pub fn report(name: &str, value: f64, unit: &str) {
    crate::rawln!("bench: {} {:.1} {}", name, value, unit);
}

/// Raw-device benchmarks. Errors end the run (the caller prints the verdict).
pub fn raw_device(dev: &mut dyn BlockDevice) -> Result<(), alloc::string::String> {
    let bs = dev.block_size() as u64;
    let size = dev.block_count() * bs;
    let span = (size.min(SEQ_SPAN) / CHUNK as u64) * CHUNK as u64;
    if span == 0 {
        return Err(alloc::format!(
            "device too small for 1 MiB requests ({} bytes)",
            size
        ));
    }
    let slots = size / RAND_SIZE;
    crate::rawln!(
        "bench-config: chunk {} seq-span {} seq-passes {} rand-size {} rand-ops {} rand-slots {} seed {:#x} qd {},{},{}",
        CHUNK,
        span,
        SEQ_PASSES,
        RAND_SIZE,
        RAND_OPS,
        slots,
        SEED,
        QUEUE_DEPTHS[0],
        QUEUE_DEPTHS[1],
        QUEUE_DEPTHS[2]
    );
    let mut buf = vec![0u8; CHUNK];

    let mut read_ns = 0;
    let mut read_bytes = 0;
    let mut per_read = alloc::vec::Vec::new();
    let busy0 = busy_mark();
    for _ in 0..SEQ_PASSES {
        let t0 = time::now_ns();
        let mut off = 0;
        while off < span {
            let t = time::now_ns();
            dev.read_blocks(Lba::new(off / bs), &mut buf)
                .map_err(|e| alloc::format!("seq read at byte {off}: {e}"))?;
            per_read.push(time::now_ns() - t);
            off += CHUNK as u64;
        }
        read_ns += time::now_ns() - t0;
        read_bytes += span;
    }
    report("blk-seq-read", mb_per_s(read_bytes, read_ns), "MB/s");
    report("blk-seq-read-cpu-busy", busy_pct(busy0), "%");
    // The fastest and the median single read: what the path costs when the
    // (shared, loaded) host lets it run, less noisy than the mean above.
    let (best, median) = best_and_median(&mut per_read);
    report("blk-seq-read-best", mb_per_s(CHUNK as u64, best), "MB/s");
    report("blk-seq-read-p50", mb_per_s(CHUNK as u64, median), "MB/s");

    if dev.is_read_only() {
        crate::rawln!("bench: blk-seq-write skipped (read-only device)");
    } else {
        let mut write_ns = 0;
        let mut write_bytes = 0;
        for _ in 0..SEQ_PASSES {
            let mut off = 0;
            while off < span {
                let lba = Lba::new(off / bs);
                dev.read_blocks(lba, &mut buf)
                    .map_err(|e| alloc::format!("read before write at byte {off}: {e}"))?;
                let t = time::now_ns();
                dev.write_blocks(lba, &buf)
                    .map_err(|e| alloc::format!("seq write at byte {off}: {e}"))?;
                write_ns += time::now_ns() - t;
                off += CHUNK as u64;
            }
            let t = time::now_ns();
            dev.flush().map_err(|e| alloc::format!("flush: {e}"))?;
            write_ns += time::now_ns() - t;
            write_bytes += span;
        }
        report("blk-seq-write", mb_per_s(write_bytes, write_ns), "MB/s");
    }

    // The driver's call path alone: a request it must refuse (not whole
    // blocks) before the device sees it.
    let mut odd = [0u8; 100];
    let calls = 20_000u64;
    let t = time::now_ns();
    for _ in 0..calls {
        let _ = dev.read_blocks(Lba::new(0), &mut odd);
    }
    report(
        "blk-refused-call",
        (time::now_ns() - t) as f64 / calls as f64,
        "ns",
    );

    let mut small = vec![0u8; RAND_SIZE as usize];
    let mut x: u64 = SEED;
    let mut ops = 0u64;
    let mut per_op = alloc::vec::Vec::new();
    let busy0 = busy_mark();
    let t0 = time::now_ns();
    for _ in 0..RAND_OPS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let off = (x % slots) * RAND_SIZE;
        let t = time::now_ns();
        dev.read_blocks(Lba::new(off / bs), &mut small)
            .map_err(|e| alloc::format!("random read at byte {off}: {e}"))?;
        per_op.push(time::now_ns() - t);
        ops += 1;
    }
    let ns = time::now_ns() - t0;
    report("blk-rand-read-4k-qd1", ops as f64 * 1e9 / ns as f64, "IOPS");
    report("blk-rand-read-4k-qd1-cpu-busy", busy_pct(busy0), "%");
    let (best, median) = best_and_median(&mut per_op);
    report("blk-rand-read-4k-best", best as f64 / 1e3, "us");
    report("blk-rand-read-4k-p50", median as f64 / 1e3, "us");

    // The same reads, `qd` at a time through `read_many`: each batch is
    // handed over whole and waited for whole.
    for qd in QUEUE_DEPTHS {
        let mut bufs = vec![0u8; qd * RAND_SIZE as usize];
        let mut x: u64 = SEED;
        let mut done = 0usize;
        let t0 = time::now_ns();
        while done < RAND_OPS as usize {
            let n = qd.min(RAND_OPS as usize - done);
            let mut reqs: alloc::vec::Vec<ReadRequest<'_>> = bufs
                .chunks_mut(RAND_SIZE as usize)
                .take(n)
                .map(|buf| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ReadRequest {
                        lba: Lba::new((x % slots) * RAND_SIZE / bs),
                        buf,
                    }
                })
                .collect();
            dev.read_many(&mut reqs)
                .map_err(|e| alloc::format!("random reads at QD{qd}: {e}"))?;
            done += n;
        }
        let ns = (time::now_ns() - t0).max(1);
        report(
            &alloc::format!("blk-rand-read-4k-qd{qd}"),
            RAND_OPS as f64 * 1e9 / ns as f64,
            "IOPS",
        );
    }
    Ok(())
}

/// The largest file of `vol` read through fatfs (`Volume::stream_file`: its
/// extents, in 1 MiB pieces), then a file of the same size written through
/// the file system in 1 MiB calls (`Volume::create_writer`), the volume flushed, timed,
/// and removed again (when the volume has room for it).
pub fn fat_file<D: BlockDevice>(vol: &disks::fs::Volume<D>) -> Result<(), alloc::string::String> {
    let mut best: Option<(alloc::string::String, u64)> = None;
    vol.walk("/", &mut |path, md| {
        if !md.is_dir && best.as_ref().is_none_or(|(_, s)| md.size > *s) {
            best = Some((alloc::string::String::from(path), md.size));
        }
        Ok(())
    })
    .map_err(|e| alloc::format!("walk: {e}"))?;
    let Some((path, size)) = best else {
        crate::rawln!("bench: fat-file-read skipped (no files)");
        return Ok(());
    };
    let mut buf = vec![0u8; 1 << 20];
    let t0 = time::now_ns();
    let total = vol
        .stream_file(&path, &mut buf, &mut |_| {})
        .map_err(|e| alloc::format!("read {path}: {e}"))?;
    let ns = time::now_ns() - t0;
    if total != size {
        return Err(alloc::format!(
            "{path}: read {total} bytes, directory says {size}"
        ));
    }
    log::info!("bench: fat-file-read used {} ({} bytes)", path, size);
    report("fat-file-read", mb_per_s(total, ns), "MB/s");

    let free = vol
        .info()
        .map_err(|e| alloc::format!("df: {e}"))?
        .free_bytes();
    if free < size + (1 << 20) {
        crate::rawln!("bench: fat-file-write skipped ({free} bytes free, {size} needed)");
        return Ok(());
    }
    const OUT: &str = "/fat-file-write.bin";
    for (i, b) in buf.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31);
    }
    let t0 = time::now_ns();
    let mut w = vol
        .create_writer(OUT)
        .map_err(|e| alloc::format!("create {OUT}: {e}"))?;
    if !w.past_lamfat() {
        log::warn!("bench: fat-file-write goes through lamfat's File (volume layout not known)");
    }
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        w.write(&buf[..n])
            .map_err(|e| alloc::format!("write {OUT}: {e}"))?;
        left -= n as u64;
    }
    drop(w);
    // The FAT and directory entry to the device and a device flush, as
    // blk-seq-write flushes after each pass.
    vol.flush().map_err(|e| alloc::format!("flush: {e}"))?;
    let ns = time::now_ns() - t0;
    vol.remove(OUT)
        .map_err(|e| alloc::format!("rm {OUT}: {e}"))?;
    vol.flush().map_err(|e| alloc::format!("flush: {e}"))?;
    report("fat-file-write", mb_per_s(size, ns), "MB/s");
    Ok(())
}
