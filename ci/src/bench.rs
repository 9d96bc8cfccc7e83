//! `cargo xtask bench …`: benchmarks that print figures and ratios against the
//! peers measured on this machine (DESIGN.md). They report; they never assert.

use crate::{artifacts, qemu, setup};
use std::time::Duration;

/// First serial line of the PVH path as measured when the boot path was
/// chosen (DESIGN.md).
const PEER_BOOT_FIRST_LINE_MS: f64 = 60.0;
/// Linux 6.1: QEMU start -> /dev/vda ready.
const PEER_LINUX_READY_MS: f64 = 1800.0;

/// `cargo xtask bench …`.
#[derive(clap::Subcommand, Debug)]
pub enum Args {
    /// QEMU start -> first serial line, and -> verdict; then -> FAT volume
    /// mounted with the native and the managed driver
    Boot,
    /// In-kernel virtio-blk figures for each driver, interleaved boots, medians
    Blk(BlkArgs),
    /// fib/sieve/CRC32 through our JIT vs native Rust vs mono; compile throughput
    Jit,
    /// Load corlib + managed DDK + driver: us per assembly, heap bytes
    Load,
}

#[derive(clap::Args, Debug)]
pub struct BlkArgs {
    /// Drivers to measure, a comma list
    #[arg(
        long = "driver",
        value_name = "D[,D...]",
        value_delimiter = ',',
        default_value = "native,managed",
        value_enum
    )]
    drivers: Vec<crate::Driver>,
    /// Boots per driver
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// The legacy (virtio 0.9) transport
    #[arg(long)]
    legacy: bool,
}

pub fn main(args: Args) -> Result<(), String> {
    // Host-side benchmarks measure our own code: never time a debug build.
    // Re-run this runner optimised (`cargo xtask` itself is a dev build).
    if cfg!(debug_assertions) && matches!(args, Args::Load | Args::Jit) {
        return rerun_release();
    }
    match args {
        Args::Boot => boot(),
        Args::Blk(a) => blk(a),
        Args::Load => load(),
        Args::Jit => {
            setup::ensure()?;
            crate::bench_jit::run()
        }
    }
}

/// Runs this very command line again in a release build of the runner.
fn rerun_release() -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(artifacts::workspace_root())
        .args(["run", "--quiet", "--release", "-p", "xtask", "--"])
        .args(std::env::args_os().skip(1))
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("release benchmark run failed ({status})"))
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn boot() -> Result<(), String> {
    setup::ensure()?;
    let kernel = artifacts::build_kernel()?;
    let image = crate::disk::default_image();
    crate::disk::ensure_image(&crate::disk::default_manifest(), &image)?;
    let runs = 11;
    let mut firmwares = vec![qemu::Firmware::preferred()];
    if firmwares[0] != qemu::Firmware::SeaBios {
        firmwares.push(qemu::Firmware::SeaBios);
    }
    println!(
        "bench boot ({runs} boots each, QEMU TCG, run=hello with a virtio-blk disk bound, medians)"
    );
    for firmware in firmwares {
        let (mut first, mut total) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let r = qemu::run(&qemu::Boot {
                firmware,
                disks: vec![qemu::Disk {
                    path: image.clone(),
                    transport: qemu::Transport::Modern,
                    read_only: true,
                }],
                ..qemu::Boot::new(&kernel, "driver=native run=hello", Duration::from_secs(30))
            })?;
            if !r.passed() {
                return Err(r.failure_report("boot benchmark: the kernel did not pass"));
            }
            let fb = r.first_byte.ok_or("no serial output")?;
            first.push(fb.as_secs_f64() * 1e3);
            total.push(r.elapsed.as_secs_f64() * 1e3);
        }
        let (f, t) = (median(first.clone()), median(total));
        let fmin = first.iter().cloned().fold(f64::INFINITY, f64::min);
        println!("  firmware {firmware:?}");
        println!(
            "    QEMU start -> first serial line : {f:8.1} ms (min {fmin:.1})  vs {PEER_BOOT_FIRST_LINE_MS:.0} ms measured for PVH: {:.2}x",
            f / PEER_BOOT_FIRST_LINE_MS
        );
        println!(
            "    QEMU start -> verdict, disk bound: {t:8.1} ms  vs Linux start -> /dev/vda {PEER_LINUX_READY_MS:.0} ms: {:.2}x",
            t / PEER_LINUX_READY_MS
        );
    }
    mount_times(&kernel, runs)
}

/// The kernel's own timestamp (seconds since entry) of the first serial line
/// containing `needle` (`[    0.159691] INFO  ...`).
fn kernel_time_of(serial: &str, needle: &str) -> Option<f64> {
    let line = serial.lines().find(|l| l.contains(needle))?;
    let inner = line.trim_start().strip_prefix('[')?.split(']').next()?;
    inner.trim().parse().ok()
}

/// QEMU start -> FAT volume mounted, native and managed driver interleaved
/// in one invocation (same QEMU, same image, same options): first serial
/// byte (host clock; the kernel prints it at entry) plus the kernel's own
/// timestamp of its `shell: mounted` line.
fn mount_times(kernel: &std::path::Path, runs: usize) -> Result<(), String> {
    let image = crate::disk::default_image();
    let bundle = crate::managed::bundle()?;
    let mut t: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut jit: Vec<f64> = Vec::new();
    for _ in 0..runs {
        for (i, driver) in ["native", "managed"].iter().enumerate() {
            let r = qemu::run(&qemu::Boot {
                initrd: Some(bundle.clone()),
                disks: vec![qemu::Disk {
                    path: image.clone(),
                    transport: qemu::Transport::Modern,
                    read_only: true,
                }],
                input_after: Some("kernel shell:"),
                input: Some(b"exit\n".to_vec()),
                ..qemu::Boot::new(
                    kernel,
                    format!("driver={driver} run=shell"),
                    Duration::from_secs(60),
                )
            })?;
            if !r.passed() {
                return Err(r.failure_report("mount benchmark: the kernel did not pass"));
            }
            let first = r.first_byte.ok_or("no serial output")?.as_secs_f64() * 1e3;
            let mounted = kernel_time_of(&r.serial, "shell: mounted")
                .ok_or_else(|| r.failure_report("no `shell: mounted` line"))?;
            t[i].push(first + mounted * 1e3);
            if *driver == "managed" {
                if let Some(line) = r
                    .serial
                    .lines()
                    .find(|l| l.contains("managed: JIT compiled"))
                {
                    if let Some(us) = line
                        .split(" in ")
                        .nth(1)
                        .and_then(|x| x.split_whitespace().next())
                    {
                        jit.push(us.parse::<f64>().unwrap_or(0.0) / 1e3);
                    }
                }
            }
        }
    }
    let (n, m) = (median(t[0].clone()), median(t[1].clone()));
    println!("  QEMU start -> volume mounted ({runs} boots each, interleaved, medians)");
    println!("    native  driver: {n:8.1} ms");
    println!(
        "    managed driver: {m:8.1} ms (JIT {:.1} ms of it) = {:.2}x native",
        if jit.is_empty() { 0.0 } else { median(jit) },
        m / n
    );
    Ok(())
}

/// Linux 6.1's virtio-blk driver under the same QEMU (DESIGN.md).
const PEER_LINUX_RAND_READ_IOPS: f64 = 10_400.0;
const PEER_LINUX_SEQ_READ_MBS: f64 = 4_500.0;
const PEER_LINUX_SEQ_WRITE_MBS: f64 = 3_600.0;

/// One `bench: <name> <value> <unit>` line from the kernel.
fn parse_bench_lines(serial: &str) -> Vec<(String, f64, String)> {
    serial
        .lines()
        .filter_map(|l| {
            let mut w = l.trim().strip_prefix("bench: ")?.split_whitespace();
            let name = w.next()?.to_string();
            let value = w.next()?.parse().ok()?;
            let unit = w.next()?.to_string();
            Some((name, value, unit))
        })
        .collect()
}

fn blk(args: BlkArgs) -> Result<(), String> {
    let legacy = args.legacy;
    let drivers: Vec<&str> = args.drivers.iter().map(|d| d.name()).collect();
    let repeat = args.repeat as usize;
    setup::ensure()?;
    let kernel = artifacts::build_kernel()?;
    let bundle = crate::managed::bundle()?;
    // figures[driver] = every (name, value, unit) of every run.
    let mut figures: Vec<Vec<(String, f64, String)>> = vec![Vec::new(); drivers.len()];
    // Interleaved (native, managed, native, ...): host load drifts over
    // minutes, and both drivers should see the same drift.
    for round in 0..repeat.max(1) {
        for (i, driver) in drivers.iter().enumerate() {
            let image = crate::disk::scratch_copy("bench-blk")?;
            let r = qemu::run(&qemu::Boot {
                initrd: Some(bundle.clone()),
                disks: vec![qemu::Disk {
                    path: image.clone(),
                    transport: if legacy {
                        qemu::Transport::Legacy
                    } else {
                        qemu::Transport::Modern
                    },
                    read_only: false,
                }],
                ..qemu::Boot::new(
                    &kernel,
                    format!("driver={driver} run=bench-blk"),
                    Duration::from_secs(600),
                )
            })?;
            let _ = std::fs::remove_file(&image);
            if !r.passed() {
                return Err(r.failure_report(&format!(
                    "bench-blk (driver={driver}): the kernel did not pass"
                )));
            }
            let f = parse_bench_lines(&r.serial);
            if f.is_empty() {
                return Err(r.failure_report("bench-blk: the kernel printed no `bench:` lines"));
            }
            eprintln!("  round {} driver={driver}: {} figures", round + 1, f.len());
            figures[i].extend(f);
        }
    }
    println!(
        "bench blk ({} transport, QEMU TCG, in-kernel, {} run(s) per driver interleaved, medians; MB/s = MiB/s here)",
        if legacy { "legacy" } else { "modern" },
        repeat.max(1)
    );
    let mut names: Vec<(String, String)> = Vec::new();
    for (n, _, u) in &figures[0] {
        if !names.iter().any(|(x, _)| x == n) {
            names.push((n.clone(), u.clone()));
        }
    }
    print!("  {:<24}", "figure");
    for d in &drivers {
        print!(" {d:>12}");
    }
    if drivers.len() == 2 {
        print!(
            " {:>9}",
            format!("{}/{}", &drivers[1][..1], &drivers[0][..1])
        );
    }
    println!();
    for (name, unit) in names {
        let meds: Vec<Option<f64>> = figures
            .iter()
            .map(|f| {
                let v: Vec<f64> = f
                    .iter()
                    .filter(|(n, ..)| *n == name)
                    .map(|(_, v, _)| *v)
                    .collect();
                (!v.is_empty()).then(|| median(v))
            })
            .collect();
        print!("  {:<24}", format!("{name} ({unit})"));
        for m in &meds {
            match m {
                Some(v) => print!(" {v:>12.1}"),
                None => print!(" {:>12}", "-"),
            }
        }
        if let [Some(a), Some(b)] = meds[..] {
            print!(" {:>8.2}x", b / a);
        }
        let peer = match name.as_str() {
            "blk-rand-read-4k-qd1" => Some(PEER_LINUX_RAND_READ_IOPS),
            "blk-seq-read" => Some(PEER_LINUX_SEQ_READ_MBS),
            "blk-seq-write" => Some(PEER_LINUX_SEQ_WRITE_MBS),
            _ => None,
        };
        if let (Some(p), Some(Some(first))) = (peer, meds.first()) {
            print!(
                "   (Linux 6.1, DESIGN.md figure not measured in this run: {p:.0}; {:.2}x)",
                first / p
            );
        }
        println!();
    }
    Ok(())
}

/// Loading the corlib, the managed DDK and the managed driver into a fresh
/// type system (host, release-independent: the loader is the same code the
/// kernel runs).
fn load() -> Result<(), String> {
    setup::ensure()?;
    let paths = crate::managed::build_all()?;
    let iterations = 50;
    let r = cil_compat::bench::bench_load(&paths, iterations).map_err(|e| e.to_string())?;
    println!(
        "bench load ({} assemblies, median of {iterations} loads into a fresh type system)",
        r.assemblies.len()
    );
    let mut total = 0.0;
    for a in &r.assemblies {
        total += a.micros;
        println!(
            "  {:<12} {:>8} bytes {:>5} types {:>10.1} us",
            a.name, a.file_bytes, a.types, a.micros
        );
    }
    println!("  total        {total:>10.1} us");
    println!(
        "  managed heap: {} bytes allocated, {} reserved; loader memory ~{} bytes",
        r.heap_bytes_allocated, r.heap_bytes_reserved, r.loader_bytes_estimate
    );
    Ok(())
}
