//! `cargo xtask bench …`: benchmarks that print figures and ratios against the
//! peers measured on this machine (DESIGN.md). They report; they never assert.

use crate::{artifacts, qemu, setup};
use std::time::Duration;

/// First serial line of the PVH path as measured when the boot path was
/// chosen (DESIGN.md).
const PEER_BOOT_FIRST_LINE_MS: f64 = 60.0;
/// Linux 6.1: QEMU start -> /dev/vda ready.
const PEER_LINUX_READY_MS: f64 = 1800.0;

pub fn main(args: &[String]) -> Result<(), String> {
    // Host-side benchmarks measure our own code: never time a debug build.
    // Re-run this runner optimised (`cargo xtask` itself is a dev build).
    if cfg!(debug_assertions) && matches!(args.first().map(String::as_str), Some("load" | "jit")) {
        return rerun_release(args);
    }
    match args.first().map(String::as_str) {
        Some("boot") => boot(),
        Some("blk") => blk(&args[1..]),
        Some("load") => load(),
        Some("jit") => {
            setup::ensure()?;
            crate::bench_jit::run()
        }
        Some(other) => Err(format!(
            "bench: unknown benchmark '{other}' (have: boot, blk, load, jit)"
        )),
        None => Err("bench: which one? (boot, blk, load, jit)".into()),
    }
}

fn rerun_release(args: &[String]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(artifacts::workspace_root())
        .args(["run", "--quiet", "--release", "-p", "xtask", "--", "bench"])
        .args(args)
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
                kernel: kernel.clone(),
                cmdline: "driver=native run=hello".into(),
                initrd: None,
                disks: vec![qemu::Disk {
                    path: image.clone(),
                    transport: qemu::Transport::Modern,
                    read_only: true,
                }],
                timeout: Duration::from_secs(30),
                gdb: false,
                stream: false,
                interactive: false,
                input: None,
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

fn blk(args: &[String]) -> Result<(), String> {
    let legacy = args.iter().any(|a| a == "--legacy");
    let driver = args
        .iter()
        .position(|a| a == "--driver")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "native".into());
    setup::ensure()?;
    let kernel = artifacts::build_kernel()?;
    let image = crate::disk::scratch_copy("bench-blk")?;
    let r = qemu::run(&qemu::Boot {
        firmware: qemu::Firmware::preferred(),
        kernel,
        cmdline: format!("driver={driver} run=bench-blk"),
        initrd: None,
        disks: vec![qemu::Disk {
            path: image.clone(),
            transport: if legacy {
                qemu::Transport::Legacy
            } else {
                qemu::Transport::Modern
            },
            read_only: false,
        }],
        timeout: Duration::from_secs(600),
        gdb: false,
        stream: false,
        interactive: false,
        input: None,
    })?;
    let _ = std::fs::remove_file(&image);
    if !r.passed() {
        return Err(r.failure_report("bench-blk: the kernel did not pass"));
    }
    let figures = parse_bench_lines(&r.serial);
    if figures.is_empty() {
        return Err(r.failure_report("bench-blk: the kernel printed no `bench:` lines"));
    }
    println!(
        "bench blk (driver={driver}, {} transport, QEMU TCG, in-kernel)",
        if legacy { "legacy" } else { "modern" }
    );
    for (name, value, unit) in figures {
        let peer = match name.as_str() {
            "blk-rand-read-4k-qd1" => Some(("Linux 6.1", PEER_LINUX_RAND_READ_IOPS)),
            "blk-seq-read" => Some(("Linux 6.1", PEER_LINUX_SEQ_READ_MBS)),
            "blk-seq-write" => Some(("Linux 6.1", PEER_LINUX_SEQ_WRITE_MBS)),
            _ => None,
        };
        match peer {
            Some((who, p)) => println!(
                "  {name:<24} {value:>10.1} {unit:<5} vs {who} {p:>8.0} {unit:<5} = {:.2}x",
                value / p
            ),
            None => println!("  {name:<24} {value:>10.1} {unit}"),
        }
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
