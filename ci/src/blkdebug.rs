//! Device errors from QEMU itself: boots whose first disk sits on QEMU's
//! `blkdebug` block driver, which fails chosen requests with EIO
//! (<https://qemu-project.gitlab.io/qemu/devel/blkdebug.html>: rules of
//! `[inject-error]` with an `event`, `errno`, `sector`, `once`). The raw
//! format driver raises `read_aio` / `write_aio` on its child for every
//! read and write, and the block layer `flush_to_disk` for every flush, so
//! the layering is raw over blkdebug over the image file. The virtio-blk
//! device runs with `werror=report,rerror=report`: the guest gets
//! `VIRTIO_BLK_S_IOERR` instead of QEMU pausing the VM.
//!
//! Each case boots the shell with a script under one driver and checks:
//! - the error reaches the user as an I/O error naming the file
//!   (`cat: /hello.txt: I/O error: block device error: device I/O error`);
//! - it is the device's error, not the driver's: no restart, no fallback;
//! - the volume stays usable: later commands work, and what they wrote is on
//!   the disk (read back from the image on the host);
//! - nothing else on the volume changed: `fsck.fat -n` is clean and every
//!   byte that differs from the image before the boot belongs to a file the
//!   script wrote, its directory, the FAT or FSInfo (`disks::locate`).

use crate::disk;
use crate::qemu::{self, Boot, Transport};
use disks::locate::{Locator, Region};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Which request fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Every read of `/hello.txt`'s sector fails (a bad sector).
    Read,
    /// The first write to the sector the next new file gets fails once.
    Write,
    /// The first flush fails once.
    Flush,
}

impl Op {
    pub const ALL: [Op; 3] = [Op::Read, Op::Write, Op::Flush];

    fn name(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Write => "write",
            Op::Flush => "flush",
        }
    }
}

/// One boot: the failing request, the driver, the transport.
pub struct Case {
    pub op: Op,
    pub driver: &'static str,
    pub transport: Transport,
}

impl Case {
    pub fn name(&self) -> String {
        let t = match self.transport {
            Transport::Modern => "modern",
            Transport::Legacy => "legacy",
        };
        format!("blkdebug-{}-{}-{t}", self.op.name(), self.driver)
    }
}

/// The cases `cargo xtask test` runs: every operation under both drivers
/// (modern transport), and a read error on the legacy transport.
pub fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    for op in Op::ALL {
        for driver in ["native", "managed"] {
            v.push(Case {
                op,
                driver,
                transport: Transport::Modern,
            });
        }
    }
    for driver in ["native", "managed"] {
        v.push(Case {
            op: Op::Read,
            driver,
            transport: Transport::Legacy,
        });
    }
    v
}

/// Sector (512 B) of the first byte of data cluster `c`.
fn sector_of(loc: &Locator<'_>, c: u32) -> Result<u64, String> {
    loc.cluster_offset(c)
        .map(|b| b / 512)
        .ok_or_else(|| format!("cluster {c} is outside the volume"))
}

/// The cluster the next allocation takes: lamfat starts at FSInfo's
/// next-free hint (FAT32 spec, FSInfo `FSI_Nxt_Free`) and takes the first
/// free cluster from there.
fn next_free_cluster(image: &[u8], loc: &Locator<'_>) -> Result<u32, String> {
    let le16 = |o: usize| u16::from_le_bytes([image[o], image[o + 1]]);
    let fsinfo = usize::from(le16(48)) * 512;
    let hint = u32::from_le_bytes(
        image[fsinfo + 492..fsinfo + 496]
            .try_into()
            .map_err(|_| "short FSInfo")?,
    );
    let start = if hint < 2 || hint >= loc.clusters() + 2 {
        2
    } else {
        hint
    };
    (start..loc.clusters() + 2)
        .chain(2..start)
        .find(|&c| loc.fat_entry(c) == Some(0))
        .ok_or_else(|| "the image has no free cluster".into())
}

/// The blkdebug rules for `op` on `image`, and what the script types.
fn plan(op: Op, image: &[u8]) -> Result<(String, &'static str, Vec<&'static str>), String> {
    let loc = Locator::new(image)?;
    let rule = |event: &str, sector: Option<u64>, once: bool| {
        let mut r = format!("[inject-error]\nevent = \"{event}\"\nerrno = \"5\"\n");
        if let Some(s) = sector {
            r.push_str(&format!("sector = \"{s}\"\n"));
        }
        r.push_str(&format!("once = \"{}\"\n", if once { "on" } else { "off" }));
        r
    };
    Ok(match op {
        Op::Read => {
            let c = loc
                .first_cluster_of("/hello.txt")
                .ok_or("the default image has no /hello.txt")?;
            (
                rule("read_aio", Some(sector_of(&loc, c)?), false),
                "cat /hello.txt\ncat /lower.txt\nwrite /after.txt still usable\ncat /after.txt\ncat /hello.txt\nexit\n",
                vec![
                    "cat: /hello.txt: I/O error: block device error: device I/O error",
                    "=lower case 8.3 name",
                    "wrote 13 bytes to /after.txt",
                    "=still usable",
                ],
            )
        }
        Op::Write => {
            let c = next_free_cluster(image, &loc)?;
            (
                rule("write_aio", Some(sector_of(&loc, c)?), true),
                "write /new.txt first write\nwrite /after.txt still usable\ncat /new.txt\ncat /after.txt\nexit\n",
                // What /new.txt holds afterwards is not promised: its
                // write-back failed and was reported.
                vec![
                    "write: /new.txt: flush: I/O error: block device error: device I/O error",
                    "wrote 13 bytes to /after.txt",
                    "=still usable",
                ],
            )
        }
        Op::Flush => (
            rule("flush_to_disk", None, true),
            "write /new.txt first write\nwrite /after.txt still usable\ncat /new.txt\ncat /after.txt\nexit\n",
            vec![
                "write: /new.txt: flush: I/O error: block device error: device I/O error",
                "wrote 13 bytes to /after.txt",
                "=first write",
                "=still usable",
            ],
        ),
    })
}

/// Boots `case` and checks it; `Ok` carries a one-line summary.
pub fn run(kernel: &Path, case: &Case) -> Result<String, String> {
    let name = case.name();
    let scratch = disk::scratch_copy(&name)?;
    let before = read(&scratch)?;
    let (rules, script, wanted) = plan(case.op, &before)?;
    let rules_path: PathBuf = crate::artifacts::disks_dir().join(format!("{name}.rules"));
    std::fs::write(&rules_path, &rules).map_err(|e| format!("{}: {e}", rules_path.display()))?;
    let boot = Boot {
        initrd: Some(crate::managed::bundle()?),
        disks: vec![qemu::Disk {
            path: scratch.clone(),
            transport: case.transport,
            read_only: false,
        }],
        blkdebug: Some(rules_path.clone()),
        input: Some(script.as_bytes().to_vec()),
        // Typed once the shell is up, not while the kernel boots.
        input_after: Some("kernel shell:"),
        ..Boot::new(
            kernel,
            format!("driver={} run=shell", case.driver),
            Duration::from_secs(90),
        )
    };
    let r = qemu::run(&boot)?;
    if !r.passed() {
        return Err(r.failure_report("expected the shell to exit normally"));
    }
    let seen = |w: &str| match w.strip_prefix('=') {
        Some(line) => r.serial.lines().any(|l| l.trim_end() == line),
        None => r.serial.contains(w),
    };
    if let Some(w) = wanted.iter().find(|w| !seen(w)) {
        return Err(r.failure_report(&format!("serial console lacks {w:?}")));
    }
    let driver = format!("bound to virtio-blk-{}", case.driver);
    if !r.serial.contains(&driver) {
        return Err(r.failure_report(&format!("serial console lacks {driver:?}")));
    }
    for bad in [
        "restarting the managed driver",
        "falling back",
        "replaced by",
        "contained fault",
    ] {
        if r.serial.contains(bad) {
            return Err(r.failure_report(&format!(
                "a device error was treated as a driver fault ({bad:?})"
            )));
        }
    }
    disk::fsck(&scratch).map_err(|e| format!("after the boot: {e}"))?;
    let after = read(&scratch)?;
    let changed = only_expected_changes(&before, &after)?;
    on_disk(&after, "/after.txt", b"still usable\n")?;
    if case.op == Op::Read {
        on_disk(&after, "/hello.txt", b"Hello, world!\n")?;
    }
    let _ = std::fs::remove_file(&scratch);
    let _ = std::fs::remove_file(&rules_path);
    Ok(format!(
        "error reported, no driver fault, fsck clean, {changed} changed range(s) all in the files written"
    ))
}

/// `path` on the image holds `want` (read on the host, not through the
/// kernel's cache).
fn on_disk(image: &[u8], path: &str, want: &[u8]) -> Result<(), String> {
    let vol = disks::fs::Volume::mount(
        disks::mem::MemDisk::from_vec(image.to_vec()),
        disks::workload::time_source(),
    )
    .map_err(|e| format!("mounting the image after the boot: {e}"))?;
    let got = vol
        .read_file(path)
        .map_err(|e| format!("{path} on the disk after the boot: {e}"))?;
    if got != want {
        return Err(format!(
            "{path} on the disk after the boot holds {:?}, not {:?}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want)
        ));
    }
    Ok(())
}

fn read(p: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// Every range where `after` differs from `before` lies in the FAT, FSInfo,
/// the root directory or the files the scripts write. Returns their count.
fn only_expected_changes(before: &[u8], after: &[u8]) -> Result<usize, String> {
    const WRITTEN: [&str; 3] = ["/", "/new.txt", "/after.txt"];
    let ranges = disks::locate::differences(before, after, 512, usize::MAX);
    let loc = Locator::new(after)?;
    if let Some(p) = loc.problems().first() {
        return Err(format!("the volume is damaged after the boot: {p}"));
    }
    for r in &ranges {
        // Each differing 512-byte sector, located (a range may span several).
        let mut at = r.start;
        while at < r.end {
            let l = loc.locate(at)?;
            let ok = match l.region {
                Region::Fat { .. } | Region::FsInfo | Region::BackupFsInfo => true,
                Region::Data => l.owner.as_deref().is_some_and(|o| WRITTEN.contains(&o)),
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "byte {at} changed outside what the script wrote: {l}"
                ));
            }
            at = (at / 512 + 1) * 512;
        }
    }
    Ok(ranges.len())
}

/// Runs `cases`, printing one line each; returns how many failed.
pub fn run_cases(kernel: &Path, cases: &[Case]) -> usize {
    let mut failed = 0;
    for case in cases {
        let t = Instant::now();
        match run(kernel, case) {
            Ok(summary) => println!(
                "qemu test {:<28} ok ({:.1} s): {summary}",
                case.name(),
                t.elapsed().as_secs_f64()
            ),
            Err(e) => {
                failed += 1;
                println!(
                    "qemu test {:<28} FAILED ({:.1} s)\n{e}",
                    case.name(),
                    t.elapsed().as_secs_f64()
                );
            }
        }
    }
    failed
}
