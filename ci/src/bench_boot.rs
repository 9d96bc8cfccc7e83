//! `cargo xtask bench boot`: QEMU start → first serial line and → verdict per
//! firmware; then, interleaved in one run on the same QEMU, image and `-drive`,
//! QEMU start → FAT volume mounted with the native and with the managed
//! driver, and QEMU start → `/dev/vda` ready under Linux 6.1 (`peers::linux`).
//! Every end point is the host-clock arrival of a console line.

use crate::chart::{self, Chart, Metric, Stat};
use crate::peers::linux;
use crate::{artifacts, qemu, setup};
use std::time::Duration;

const RUNS: usize = 11;

pub fn run() -> Result<(), String> {
    setup::ensure()?;
    let kernel = artifacts::build_kernel()?;
    let image = crate::disk::default_image();
    crate::disk::ensure_image(&crate::disk::default_manifest(), &image)?;
    let mut firmwares = vec![qemu::Firmware::preferred()];
    if firmwares[0] != qemu::Firmware::SeaBios {
        firmwares.push(qemu::Firmware::SeaBios);
    }
    println!(
        "bench boot ({RUNS} boots each, QEMU TCG, run=hello with a virtio-blk disk bound, median [min-max])"
    );
    for firmware in firmwares {
        let (mut first, mut total) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let r = qemu::run(&qemu::Boot {
                firmware,
                disks: vec![disk(&image)],
                ..qemu::Boot::new(&kernel, "driver=native run=hello", Duration::from_secs(30))
            })?;
            if !r.passed() {
                return Err(r.failure_report("boot benchmark: the kernel did not pass"));
            }
            let fb = r.first_byte.ok_or("no serial output")?;
            first.push(fb.as_secs_f64() * 1e3);
            total.push(r.elapsed.as_secs_f64() * 1e3);
        }
        println!("  firmware {firmware:?}");
        println!("    QEMU start -> first serial line : {}", ms(&first));
        println!("    QEMU start -> verdict, disk bound: {}", ms(&total));
    }
    ready_times(&kernel, &image)
}

/// The benchmark disk: `image` on the modern transport, read-only.
pub(crate) fn disk(image: &std::path::Path) -> qemu::Disk {
    qemu::Disk {
        path: image.to_path_buf(),
        transport: qemu::Transport::Modern,
        read_only: true,
    }
}

fn ms(samples: &[f64]) -> String {
    match Stat::of(samples) {
        Some(s) => format!("{:8.1} ms [{:.1}-{:.1}]", s.median, s.min, s.max),
        None => "-".into(),
    }
}

/// The peers, in the order booted and shown.
const PEERS: [&str; 3] = ["native", "managed", "linux"];

/// QEMU start -> volume mounted (ours) / /dev/vda ready (Linux), interleaved.
fn ready_times(kernel: &std::path::Path, image: &std::path::Path) -> Result<(), String> {
    let bundle = crate::managed::bundle()?;
    let peer = linux::prepare()?;
    let mut t: [Vec<f64>; 3] = Default::default();
    let mut jit: Vec<f64> = Vec::new();
    for _ in 0..RUNS {
        for (i, name) in PEERS.iter().enumerate() {
            let timeout = Duration::from_secs(120);
            if *name == "linux" {
                let r = qemu::run(&linux::boot(
                    &peer,
                    linux::Mode::Boot,
                    vec![disk(image)],
                    timeout,
                ))?;
                let at = r
                    .arrival_of(linux::READY)
                    .filter(|_| r.outcome == qemu::Outcome::Pass)
                    .ok_or_else(|| {
                        r.failure_report("boot benchmark: Linux did not report /dev/vda ready")
                    })?;
                t[i].push(at.as_secs_f64() * 1e3);
                continue;
            }
            let r = qemu::run(&qemu::Boot {
                initrd: Some(bundle.clone()),
                disks: vec![disk(image)],
                input_after: Some("kernel shell:"),
                input: Some(b"exit\n".to_vec()),
                ..qemu::Boot::new(kernel, format!("driver={name} run=shell"), timeout)
            })?;
            if !r.passed() {
                return Err(r.failure_report("mount benchmark: the kernel did not pass"));
            }
            let at = r
                .arrival_of("shell: mounted")
                .ok_or_else(|| r.failure_report("no `shell: mounted` line"))?;
            t[i].push(at.as_secs_f64() * 1e3);
            if *name == "managed" {
                if let Some(us) = jit_us(&r.serial) {
                    jit.push(us / 1e3);
                }
            }
        }
    }
    let stats: Vec<Option<Stat>> = t.iter().map(|v| Stat::of(v)).collect();
    println!(
        "  QEMU start -> volume mounted (ours) / /dev/vda ready (Linux, {}), {RUNS} boots each, interleaved, same QEMU, image and -drive; console line arrival on the host clock",
        peer.package
    );
    println!("    native  driver: {}", ms(&t[0]));
    let jit_ms = Stat::of(&jit).map_or(0.0, |s| s.median);
    println!(
        "    managed driver: {} (JIT {jit_ms:.1} ms of it)",
        ms(&t[1])
    );
    println!("    linux         : {}", ms(&t[2]));
    if let [Some(n), Some(m), Some(l)] = stats[..] {
        println!(
            "    ratios of medians: managed/native {:.2}x, native/linux {:.2}x, managed/linux {:.2}x (lower is faster)",
            m.median / n.median,
            n.median / l.median,
            m.median / l.median
        );
    }
    let path = artifacts::target_dir().join("bench/boot.svg");
    chart::write_svg(
        &Chart {
            title: format!("bench boot: {RUNS} boots each, medians with min-max whiskers"),
            columns: PEERS.iter().map(|s| s.to_string()).collect(),
            metrics: vec![Metric {
                name: "QEMU start -> volume mounted / vda ready".into(),
                unit: "ms".into(),
                values: stats,
            }],
            curve: None,
        },
        &path,
    )?;
    println!("  chart: {}", path.display());
    Ok(())
}

/// The JIT time of a managed boot: `managed: JIT compiled ... in N us`.
fn jit_us(serial: &str) -> Option<f64> {
    let line = serial
        .lines()
        .find(|l| l.contains("managed: JIT compiled"))?;
    line.split(" in ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn jit_time_from_the_boot_log() {
        let log = "[    0.158218] INFO  managed: JIT compiled 129 methods (9538 IL bytes -> 54028 code bytes) in 72136 us\n";
        assert_eq!(super::jit_us(log), Some(72136.0));
        assert_eq!(super::jit_us("nothing"), None);
    }
}
