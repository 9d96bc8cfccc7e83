//! The storage runs: `selftest`, `copytree`, `shell`, `swaptest`, `workload`,
//! `workload-swap` and `bench-blk`, over the block devices the driver manager
//! bound, with FAT timestamps from the RTC (the workload runs: from a fixed
//! time, so every run writes the same bytes).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use core::fmt;

use disks::fs::{TimeSource, Timestamp, Volume};
use disks::shell::CommandStatus;

use super::bench;
use crate::arch::x86_64::cpu::rdtsc;
use crate::block_registry::{self, Taken};
use crate::lineedit::{self, Editor, Line};
use crate::{drivers, rtc, serial, time};

/// `core::fmt::Write` to the serial console, no prefix.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        serial::write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Fallback when the RTC reads as garbage.
const EPOCH: Timestamp = Timestamp::new(2000, 1, 1, 0, 0, 0);

/// How long one RTC reading serves as the time of file operations.
///
/// lamfat asks for the time on every `File::write` call, and it writes one
/// cluster per call: a 64 MiB file is 16,384 calls. Reading the RTC is ~17
/// port reads (each a VM exit, or an emulated I/O access under TCG); doing
/// that per cluster cost more than the data's own copy. FAT keeps modification
/// times to 2 s, so a reading up to 100 ms old changes no stored timestamp
/// but the rare one at a 2 s boundary, and never makes time go backwards.
const RTC_REUSE_MS: u64 = 100;

/// The last RTC reading and the TSC value when it was taken. The age is
/// compared in TSC ticks: `time::now_ns` divides in 128 bits, per cluster.
static RTC_CACHE: spin::Mutex<Option<(u64, Timestamp)>> = spin::Mutex::new(None);

/// The RTC's time, read again when the last reading is older than
/// [`RTC_REUSE_MS`] (or the TSC is not calibrated yet).
fn rtc_timestamp() -> Timestamp {
    let now = rdtsc();
    let reuse = time::tsc_hz() / 1000 * RTC_REUSE_MS;
    let Some(mut cache) = RTC_CACHE.try_lock() else {
        // Only reentrancy could hold it (an interrupt handler writing a file):
        // read the clock directly rather than wait.
        return rtc_read();
    };
    if let Some((at, ts)) = *cache {
        if now >= at && now - at < reuse {
            return ts;
        }
    }
    let ts = rtc_read();
    *cache = Some((now, ts));
    ts
}

fn rtc_read() -> Timestamp {
    match rtc::now() {
        Some(t) => {
            let ts = Timestamp::new(t.year, t.month, t.day, t.hour, t.minute, t.second);
            if ts.is_valid() {
                ts
            } else {
                EPOCH
            }
        }
        None => EPOCH,
    }
}

/// FAT timestamps from the CMOS RTC.
pub fn time_source() -> TimeSource {
    TimeSource::Clock(rtc_timestamp)
}

type Dev = Box<dyn ddk::BlockDevice>;

fn first_device() -> Result<Taken, String> {
    let devs = block_registry::list();
    let Some(first) = devs.first() else {
        return Err(String::from(
            "no block device bound (attach a virtio-blk disk)",
        ));
    };
    block_registry::take(first.id).ok_or_else(|| String::from("block device busy"))
}

/// `run=selftest`: the disks crate's self-test on every bound device.
pub fn selftest() -> ! {
    let devs = block_registry::list();
    if devs.is_empty() {
        crate::exit::fail(format_args!(
            "selftest: no block device bound (attach a virtio-blk disk)"
        ));
    }
    let mut failed = 0;
    for d in devs {
        let Some(Taken {
            id,
            name,
            device: dev,
        }) = block_registry::take(d.id)
        else {
            continue;
        };
        log::info!(
            "selftest: device {} ({}), RTC {}",
            name,
            id,
            rtc_timestamp()
        );
        let out = disks::selftest::run(dev, time_source(), &mut Console);
        if !out.passed {
            failed += 1;
        }
        if let Some(dev) = out.device {
            block_registry::give_back(id, dev);
        }
    }
    if failed == 0 {
        crate::exit::pass()
    }
    crate::exit::fail(format_args!("selftest failed on {} device(s)", failed))
}

/// Where `run=copytree` puts the copy of the first device's root.
const COPY_DIR: &str = "/copy-of-vda";

/// `run=copytree`: copies the whole of the first block device's volume into
/// `/copy-of-vda` on the second, flushes, re-mounts the second (so what is
/// checked comes from the disk, not from the cache) and verifies the copy
/// against the original by listing, size and SHA-256.
pub fn copytree() -> ! {
    match copy_first_to_second() {
        Ok(()) => crate::exit::pass(),
        Err(e) => {
            crate::rawln!("copytree: FAILED: {e}");
            crate::exit::fail(format_args!("copytree: {e}"))
        }
    }
}

fn copy_first_to_second() -> Result<(), String> {
    let devs = block_registry::list();
    let [a, b, ..] = &devs[..] else {
        return Err(format!(
            "needs two block devices (source vda, destination vdb), found {} \
             (boot with two disks: cargo xtask run --disk A --disk B)",
            devs.len()
        ));
    };
    let take = |id| block_registry::take(id).ok_or(format!("block device {id} busy"));
    let (a, b) = (a.id, b.id);
    let Taken {
        name: src_name,
        device: src_dev,
        ..
    } = take(a)?;
    let Taken {
        name: dst_name,
        device: dst_dev,
        ..
    } = take(b)?;
    let mount = |name: &str, dev| {
        Volume::mount(dev, time_source()).map_err(|e| format!("mounting {name}: {}", e.error))
    };
    let src = mount(&src_name, src_dev)?;
    let dst = mount(&dst_name, dst_dev)?;
    // A previous run's copy would make the destination non-empty; the run
    // owns this directory, so it starts afresh.
    if dst.metadata(COPY_DIR).is_ok() {
        log::info!("copytree: removing the previous {dst_name}:{COPY_DIR}");
        dst.remove_all(COPY_DIR)
            .map_err(|e| format!("removing {dst_name}:{COPY_DIR}: {e}"))?;
    }
    let t0 = crate::time::now_us();
    let copied = disks::copy::copy_tree(&src, "/", &dst, COPY_DIR, &mut Console)
        .map_err(|e| format!("copying {src_name} to {dst_name}: {e}"))?;
    dst.flush()
        .map_err(|e| format!("flushing {dst_name}: {e}"))?;
    let t1 = crate::time::now_us();
    crate::rawln!(
        "copytree: copied {} files, {} directories, {} bytes from {src_name} to {dst_name}:{COPY_DIR}",
        copied.files,
        copied.dirs,
        copied.bytes
    );
    let dst_dev = dst
        .unmount()
        .map_err(|e| format!("unmounting {dst_name}: {e}"))?;
    let dst = mount(&dst_name, dst_dev)?;
    let verified = disks::copy::verify_tree(&src, "/", &dst, COPY_DIR, &mut Console)
        .map_err(|e| format!("verifying {dst_name}:{COPY_DIR} against {src_name}: {e}"))?;
    if verified != copied {
        return Err(format!(
            "verification covered {verified:?}, the copy {copied:?}"
        ));
    }
    crate::rawln!("copytree: verified {} files", verified.files);
    log::info!(
        "copytree: copy took {} ms, verification {} ms",
        (t1 - t0) / 1000,
        (crate::time::now_us() - t1) / 1000
    );
    // Unmount both so each image is left clean for fsck.fat.
    for (id, name, vol) in [(a, &src_name, src), (b, &dst_name, dst)] {
        let dev = vol
            .unmount()
            .map_err(|e| format!("unmounting {name}: {e}"))?;
        block_registry::give_back(id, dev);
    }
    Ok(())
}

/// `run=shell`: a prompt over serial with the disks crate's commands plus
/// `devices`, `drivers`, `help` and `exit`.
pub fn shell() -> ! {
    let mut vol: Option<(u32, Volume<Dev>)> = None;
    match first_device() {
        Ok(Taken {
            id,
            name,
            device: dev,
        }) => match Volume::mount(dev, time_source()) {
            Ok(v) => {
                log::info!("shell: mounted {} (block device {})", name, id);
                vol = Some((id, v));
            }
            Err(e) => {
                log::error!("shell: {}: {}", name, e.error);
                if let Some(d) = e.device {
                    block_registry::give_back(id, d);
                }
            }
        },
        Err(e) => log::warn!("shell: {e}; file commands unavailable"),
    }
    crate::rawln!("kernel shell: type 'help' for commands, 'exit' to quit");
    let mut ed = Editor::default();
    let mut c = Console;
    // The working directory `cd` changes; relative paths resolve against it.
    let mut cwd = String::from("/");
    loop {
        let line = match lineedit::read_line(&mut ed, "> ") {
            Line::Text(t) => t,
            Line::Interrupted => continue,
            // End of input (Ctrl-D, or `cargo xtask run` saw its piped
            // stdin end): the session ends as with `exit`.
            Line::Eof => {
                crate::rawln!("exit (end of input)");
                String::from("exit")
            }
        };
        let word = line.split_whitespace().next().unwrap_or("");
        match word {
            "exit" => break,
            "devices" => {
                let _ = drivers::print_devices(&mut c);
                continue;
            }
            "drivers" => {
                let _ = drivers::print_drivers(&mut c);
                continue;
            }
            "rebind" => {
                let args: alloc::vec::Vec<&str> = line.split_whitespace().skip(1).collect();
                match args[..] {
                    [dev, to] => match drivers::rebind(dev, to) {
                        Ok(summary) => crate::rawln!("rebind: {summary}"),
                        Err(e) => crate::rawln!("rebind: {e}"),
                    },
                    _ => crate::rawln!("usage: rebind vdX native|managed"),
                }
                continue;
            }
            _ => {}
        }
        let status = match &vol {
            Some((_, v)) => disks::shell::run_command_in(v, &mut cwd, &line, &mut c)
                .unwrap_or(CommandStatus::Failed),
            None if word.is_empty() => CommandStatus::Empty,
            None if disks::shell::COMMANDS.contains(&word) && word != "help" => {
                crate::rawln!("{word}: no volume mounted");
                CommandStatus::Failed
            }
            None => CommandStatus::NotMine,
        };
        if word == "help" || status == CommandStatus::NotMine {
            if status == CommandStatus::NotMine && word != "help" {
                crate::rawln!("{word}: unknown command");
            }
            crate::rawln!("kernel commands: devices, drivers, rebind vdX native|managed, exit");
            if vol.is_none() && word == "help" {
                crate::rawln!("file commands: (no volume mounted)");
            }
        }
    }
    if let Some((id, v)) = vol {
        match v.unmount() {
            Ok(d) => block_registry::give_back(id, d),
            Err(e) => crate::exit::fail(format_args!("shell: unmount failed: {e}")),
        }
    }
    crate::exit::pass()
}

/// `run=swaptest`: live driver replacement under a mounted volume. Writes
/// files, swaps vda's driver native -> managed -> native (or the reverse,
/// from whatever it was bound with), verifying every file after each swap and
/// writing more in between through the file handles' volume, then remounts
/// and verifies everything once more. Prints each swap's time.
pub fn swaptest() -> ! {
    let Taken {
        id,
        name,
        device: dev,
    } = match first_device() {
        Ok(d) => d,
        Err(e) => crate::exit::fail(format_args!("swaptest: {e}")),
    };
    let vol = match Volume::mount(dev, time_source()) {
        Ok(v) => v,
        Err(e) => crate::exit::fail(format_args!("swaptest: mount {name}: {}", e.error)),
    };
    let first = drivers::bound_driver(&name).unwrap_or("?");
    let other = if first.contains("managed") {
        "native"
    } else {
        "managed"
    };
    let back = if other == "managed" {
        "native"
    } else {
        "managed"
    };
    let mut files: alloc::vec::Vec<(String, alloc::vec::Vec<u8>)> = alloc::vec::Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut write_batch = |vol: &Volume<Dev>,
                           phase: &str,
                           n: usize,
                           files: &mut alloc::vec::Vec<(String, alloc::vec::Vec<u8>)>|
     -> Result<(), String> {
        vol.create_dir_all(&alloc::format!("/swap/{phase}"))
            .map_err(|e| alloc::format!("mkdir: {e}"))?;
        for i in 0..n {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Sizes from a few bytes to ~300 KiB: small and multi-cluster files.
            let len = (seed % 300_000) as usize + i;
            let data: alloc::vec::Vec<u8> =
                (0..len).map(|k| (seed as usize + k * 31) as u8).collect();
            let path = alloc::format!("/swap/{phase}/file-{i:02}.bin");
            vol.write_file(&path, &data)
                .map_err(|e| alloc::format!("write {path}: {e}"))?;
            files.push((path, data));
        }
        // An append to a file written before the swap.
        if let Some((path, data)) = files.first_mut() {
            let more = alloc::format!("appended in phase {phase}\n");
            vol.append_file(path, more.as_bytes())
                .map_err(|e| alloc::format!("append {path}: {e}"))?;
            data.extend_from_slice(more.as_bytes());
        }
        Ok(())
    };
    let verify =
        |vol: &Volume<Dev>, files: &[(String, alloc::vec::Vec<u8>)]| -> Result<(), String> {
            for (path, data) in files {
                let got = vol
                    .read_file(path)
                    .map_err(|e| alloc::format!("read {path}: {e}"))?;
                if &got != data {
                    return Err(alloc::format!("{path}: content differs after the swap"));
                }
            }
            Ok(())
        };
    let step = |what: &str, r: Result<(), String>| match r {
        Ok(()) => crate::rawln!("swaptest: {what} ok"),
        Err(e) => crate::exit::fail(format_args!("swaptest: {what} FAILED: {e}")),
    };
    step(
        "write (before any swap)",
        write_batch(&vol, "a", 12, &mut files),
    );
    for (phase, to) in [("b", other), ("c", back)] {
        match drivers::rebind(&name, to) {
            Ok(summary) => crate::rawln!("swaptest: swap {summary}"),
            Err(e) => crate::exit::fail(format_args!("swaptest: swap to {to} FAILED: {e}")),
        }
        step(&alloc::format!("verify on {to}"), verify(&vol, &files));
        step(
            &alloc::format!("write on {to}"),
            write_batch(&vol, phase, 8, &mut files),
        );
    }
    step("flush", vol.flush().map_err(|e| alloc::format!("{e}")));
    let dev = match vol.unmount() {
        Ok(d) => d,
        Err(e) => crate::exit::fail(format_args!("swaptest: unmount FAILED: {e}")),
    };
    let vol = match Volume::mount(dev, time_source()) {
        Ok(v) => v,
        Err(e) => crate::exit::fail(format_args!("swaptest: remount FAILED: {}", e.error)),
    };
    step("verify after remount", verify(&vol, &files));
    crate::rawln!("swaptest: {} files verified across 2 swaps", files.len());
    match vol.unmount() {
        Ok(d) => block_registry::give_back(id, d),
        Err(e) => crate::exit::fail(format_args!("swaptest: unmount FAILED: {e}")),
    }
    crate::rawln!("swaptest: PASS");
    crate::exit::pass()
}

/// `run=workload` (`swap` false) and `run=workload-swap`: the disks crate's
/// deterministic workload on vda (`cargo xtask matrix` compares its transcript
/// and the resulting image across drivers and transports). With `swap`, vda's
/// driver is replaced live under the mounted volume after the `create` phase
/// (native -> managed when booted native) and back after `rename-delete`; the
/// swap lines carry no `workload: ` prefix, so the transcript stays the same
/// as `run=workload`'s. FAIL only when the workload cannot run (mount, unmount,
/// a failed swap): refusals and mismatches are transcript facts.
pub fn workload(swap: bool) -> ! {
    use disks::workload::Phase;
    let run = if swap { "workload-swap" } else { "workload" };
    let Taken {
        id,
        name,
        device: dev,
    } = match first_device() {
        Ok(d) => d,
        Err(e) => crate::exit::fail(format_args!("{run}: {e}")),
    };
    let first = drivers::bound_driver(&name).unwrap_or("?");
    let (other, back) = if first.contains("managed") {
        ("native", "managed")
    } else {
        ("managed", "native")
    };
    let mut swap_after = |phase: Phase| -> Result<(), String> {
        let to = match phase {
            Phase::Create if swap => other,
            Phase::RenameDelete if swap => back,
            _ => return Ok(()),
        };
        let summary = drivers::rebind(&name, to)?;
        crate::rawln!("swap: {summary}");
        Ok(())
    };
    let t0 = crate::time::now_us();
    let out = disks::workload::run(
        Counting::new(dev),
        disks::workload::time_source(),
        &mut Console,
        &mut swap_after,
    );
    let us = (crate::time::now_us() - t0).max(1);
    let (mut read, mut written) = (0, 0);
    if let Some(dev) = out.device {
        (read, written) = (dev.read, dev.written);
        block_registry::give_back(id, dev.inner);
    }
    match out.result {
        Ok(s) => {
            // A log line (timestamped, not a transcript line): timings differ
            // between drivers, the transcript must not. MB/s = 10^6 B/s.
            log::info!(
                "{run} run: {} operations ({} refused, {} mismatches) on {name} in {} ms, {read} B read, {written} B written, {:.1} MB/s",
                s.operations,
                s.errors,
                s.mismatches,
                us / 1000,
                (read + written) as f64 / us as f64
            );
            drivers::log_recovery_summary();
            crate::exit::pass()
        }
        Err(e) => crate::exit::fail(format_args!("{run}: {e}")),
    }
}

/// A block device that counts the bytes moved through it (workload figures).
struct Counting {
    inner: Dev,
    read: u64,
    written: u64,
}

impl Counting {
    fn new(inner: Dev) -> Counting {
        Counting {
            inner,
            read: 0,
            written: 0,
        }
    }
}

impl ddk::BlockDevice for Counting {
    fn block_size(&self) -> usize {
        self.inner.block_size()
    }
    fn block_count(&self) -> u64 {
        self.inner.block_count()
    }
    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }
    fn read_blocks(&mut self, lba: ddk::Lba, buf: &mut [u8]) -> Result<(), ddk::BlockError> {
        let r = self.inner.read_blocks(lba, buf);
        if r.is_ok() {
            self.read += buf.len() as u64;
        }
        r
    }
    fn write_blocks(&mut self, lba: ddk::Lba, buf: &[u8]) -> Result<(), ddk::BlockError> {
        let r = self.inner.write_blocks(lba, buf);
        if r.is_ok() {
            self.written += buf.len() as u64;
        }
        r
    }
    fn flush(&mut self) -> Result<(), ddk::BlockError> {
        self.inner.flush()
    }
    fn read_many(&mut self, reqs: &mut [ddk::ReadRequest<'_>]) -> Result<(), ddk::BlockError> {
        let r = self.inner.read_many(reqs);
        if r.is_ok() {
            self.read += reqs.iter().map(|q| q.buf.len() as u64).sum::<u64>();
        }
        r
    }
}

/// `run=bench-blk`: raw-device figures, then a large file through fatfs.
pub fn bench_blk() -> ! {
    let Taken {
        id,
        name,
        device: mut dev,
    } = match first_device() {
        Ok(d) => d,
        Err(e) => crate::exit::fail(format_args!("bench-blk: {e}")),
    };
    log::info!(
        "bench-blk: device {} ({} blocks of {} B)",
        name,
        dev.block_count(),
        dev.block_size()
    );
    if let Err(e) = bench::raw_device(&mut *dev) {
        crate::exit::fail(format_args!("bench-blk: {e}"));
    }
    let vol = match Volume::mount(dev, time_source()) {
        Ok(v) => v,
        Err(e) => crate::exit::fail(format_args!("bench-blk: {}", e.error)),
    };
    if let Err(e) = bench::fat_file(&vol) {
        crate::exit::fail(format_args!("bench-blk: {e}"));
    }
    match vol.unmount() {
        Ok(d) => block_registry::give_back(id, d),
        Err(e) => crate::exit::fail(format_args!("bench-blk: unmount: {e}")),
    }
    crate::exit::pass()
}
