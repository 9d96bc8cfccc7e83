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
    match args.first().map(String::as_str) {
        Some("boot") => boot(),
        Some(other) => Err(format!("bench: unknown benchmark '{other}' (have: boot)")),
        None => Err("bench: which one? (boot)".into()),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn boot() -> Result<(), String> {
    setup::ensure()?;
    let kernel = artifacts::build_kernel()?;
    let runs = 11;
    let (mut first, mut total) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let r = qemu::run(&qemu::Boot {
            kernel: kernel.clone(),
            cmdline: "run=hello".into(),
            initrd: None,
            disks: Vec::new(),
            timeout: Duration::from_secs(30),
            gdb: false,
            stream: false,
            interactive: false,
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
    println!("bench boot ({runs} boots, QEMU TCG, medians)");
    println!(
        "  QEMU start -> first serial line : {f:8.1} ms (min {fmin:.1})  vs {PEER_BOOT_FIRST_LINE_MS:.0} ms measured for PVH: {:.2}x",
        f / PEER_BOOT_FIRST_LINE_MS
    );
    println!(
        "  QEMU start -> verdict (run=hello): {t:8.1} ms  vs Linux start -> /dev/vda {PEER_LINUX_READY_MS:.0} ms: {:.2}x",
        t / PEER_LINUX_READY_MS
    );
    Ok(())
}
