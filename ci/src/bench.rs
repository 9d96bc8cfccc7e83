//! `cargo xtask bench …`: benchmarks that print figures and ratios against
//! peers measured in the same run (`peers`). They report; they never assert.

use crate::{artifacts, setup};

/// `cargo xtask bench …`.
#[derive(clap::Subcommand, Debug)]
pub enum Args {
    /// QEMU start -> first serial line, and -> verdict; then, interleaved,
    /// -> FAT volume mounted with the native and the managed driver and ->
    /// /dev/vda ready under Linux 6.1; chart target/bench/boot.svg
    Boot,
    /// Block figures of native, managed and Linux 6.1 booted interleaved
    /// under the same QEMU and -drive, medians; chart target/bench/blk.svg
    Blk(BlkArgs),
    /// fib/sieve/CRC32 through our JIT vs native Rust vs mono; compile throughput
    Jit,
    /// Load corlib + managed DDK + driver: us per assembly, heap bytes
    Load,
    /// Guest code QEMU's TCG translates in a native and a managed boot, per
    /// crate and function (deterministic; translation dominates the managed
    /// boot under TCG)
    Translation,
}

#[derive(clap::Args, Debug)]
pub struct BlkArgs {
    /// Peers to measure, a comma list (linux: Linux 6.1 with our C benchmark;
    /// native-irq/managed-irq: our drivers with completion=irq, the others poll)
    #[arg(
        long = "driver",
        value_name = "D[,D...]",
        value_delimiter = ',',
        default_value = "native,managed,native-irq,managed-irq,linux",
        value_enum
    )]
    drivers: Vec<crate::bench_blk::Peer>,
    /// Boots per peer
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// The legacy (virtio 0.9) transport
    #[arg(long)]
    legacy: bool,
    /// Serve the disk from a QEMU iothread, for every peer alike (the
    /// device then polls its ring)
    #[arg(long)]
    iothread: bool,
}

pub fn main(args: Args) -> Result<(), String> {
    // Host-side benchmarks measure our own code: never time a debug build.
    // Re-run this runner optimised (`cargo xtask` itself is a dev build).
    if cfg!(debug_assertions) && matches!(args, Args::Load | Args::Jit) {
        return rerun_release();
    }
    match args {
        Args::Boot => crate::bench_boot::run(),
        Args::Blk(a) => crate::bench_blk::run(&crate::bench_blk::Options {
            peers: a.drivers,
            repeat: a.repeat as usize,
            legacy: a.legacy,
            iothread: a.iothread,
        }),
        Args::Load => load(),
        Args::Translation => crate::bench_tcg::run(),
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
