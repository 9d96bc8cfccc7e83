//! `cargo xtask`: the host runner. Builds the kernel and its inputs, boots
//! QEMU, runs the host and boot test suites, benchmarks, and builds disks.
//! Setup (QEMU, mono, dosfstools, the Rust target) happens on first use.

#![forbid(unsafe_code)]

mod artifacts;
mod bench;
mod bench_blk;
mod bench_boot;
mod bench_jit;
mod bench_lines;
mod bench_tcg;
mod blkdebug;
mod boot_tests;
mod chart;
#[cfg(test)]
mod cli_tests;
mod disk;
mod disk_from;
mod faults;
mod fsck;
mod fuzz;
mod irq_boot_tests;
mod machine_boot_tests;
mod managed;
mod managed_boot_tests;
mod matrix;
mod peers;
mod qemu;
mod setup;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The kernel command line's keys and their values, shown by `cargo xtask
/// --help` (kernel/logic/src/cmdline.rs and kernel/src/runs/mod.rs are the truth; a
/// test checks every run name there is listed here).
const KERNEL_KEYS: &str = "\
Kernel command line (after `--` in `cargo xtask run`): whitespace-separated
key=value tokens; an unknown key, a bad value or a repeated key stops the boot.
  driver=native|managed|auto   virtio-blk driver (default auto: the managed
                               driver from the boot module, else native);
                               a comma list (driver=managed,native) assigns
                               drivers to the functions in PCI order
  run=NAME                     what the kernel does (default hello):
                               hello, selftest, copytree, shell, bench-blk,
                               swaptest, workload, workload-swap, gc-stress,
                               fault-null, fault-panic, fault-hang, fault-ud,
                               fault-stack, fault-wx-write, fault-nx-exec
  log=error|warn|info|debug|trace
                               log level (default info)
  restart=0..10000             restarts of a faulted managed driver before
                               giving up or falling back (default 2)
  completion=poll|irq          how drivers wait for a request (default poll:
                               spin on the used ring, lowest latency under
                               TCG; irq: halt until the device's MSI-X or
                               INTx interrupt, bounded by the same timeout)
";

/// `cargo xtask`: build, boot under QEMU, test, benchmark, build disks.
#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Host runner: build the kernel, boot it under QEMU, test, benchmark, build disks",
    after_help = KERNEL_KEYS,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Build the kernel, boot it under QEMU and stream the serial console;
    /// the exit status is the kernel's verdict
    #[command(after_help = KERNEL_KEYS)]
    Run(RunArgs),
    /// Host tests of every crate, then the QEMU boot tests and the driver matrix
    Test(TestArgs),
    /// Both drivers on byte-identical copies of golden images, the same
    /// workload: equal transcripts, identical images, fsck clean
    Matrix(matrix::Args),
    /// Benchmarks (they print figures, never assert)
    #[command(subcommand)]
    Bench(bench::Args),
    /// Build, check, locate and compare FAT32 disk images
    #[command(subcommand)]
    Disk(disk::Args),
    /// Compile corlib, the managed DDK and drivers (mcs) and pack the boot module
    Managed(managed::Args),
    /// Bounded libFuzzer runs: the CIL reader, the loader over our corlib, the FAT layer on damaged images, the native driver against a lying device
    Fuzz(fuzz::Args),
    /// Fault-injection campaign: boots of the workload under the managed
    /// campaign driver, which faults again and again; a table per fault kind
    Faults(faults::Args),
    /// Build the kernel only and print its path
    Build,
    /// Install missing system packages and the Rust target
    Setup,
}

/// `driver=` values the `--driver` flag takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Driver {
    Native,
    Managed,
    Auto,
}

impl Driver {
    pub fn name(self) -> &'static str {
        match self {
            Driver::Native => "native",
            Driver::Managed => "managed",
            Driver::Auto => "auto",
        }
    }
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The virtio-blk driver (the kernel's driver= key; give one or the other).
    /// Default: auto
    #[arg(long, value_enum)]
    driver: Option<Driver>,
    /// A disk image, used and written as it is: each is one virtio-blk device,
    /// in PCI order (vda, vdb, ...). Without one, a scratch copy of
    /// target/disks/default.img (built from disks/manifests/default.manifest),
    /// deleted after the run
    #[arg(long = "disk", value_name = "PATH")]
    disks: Vec<PathBuf>,
    /// The legacy (virtio 0.9) transport instead of the modern one
    #[arg(long)]
    legacy: bool,
    /// Make QEMU wait for GDB on localhost:1234
    #[arg(long)]
    gdb: bool,
    /// Boot module instead of target/managed/managed.cpio (built first)
    #[arg(long, value_name = "FILE", conflicts_with = "no_module")]
    initrd: Option<PathBuf>,
    /// Boot without a module (no managed assemblies)
    #[arg(long)]
    no_module: bool,
    /// QEMU firmware (default: qboot when installed)
    #[arg(long, value_parser = ["qboot", "seabios"])]
    firmware: Option<String>,
    /// Kill QEMU after SECS (default 120; an hour for run=shell and --gdb)
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Guest RAM (QEMU -m): 512M (default), 4G, 8G, ...
    #[arg(long, value_name = "SIZE", default_value = qemu::DEFAULT_MEMORY)]
    memory: String,
    /// Put the disks behind a PCI-to-PCI bridge (QEMU pci-bridge) instead of
    /// on the root bus
    #[arg(long)]
    bridge: bool,
    /// Serve the disks from a QEMU iothread (the device polls its rings and
    /// asks for no notifications while it does)
    #[arg(long)]
    iothread: bool,
    /// Kernel command line tokens (key=value; see below)
    #[arg(last = true, value_name = "KERNEL ARGS")]
    kernel_args: Vec<String>,
}

#[derive(Args, Debug)]
struct TestArgs {
    /// Only the host tests
    #[arg(long, conflicts_with_all = ["qemu_only", "only"])]
    host_only: bool,
    /// Only the QEMU boot tests and the matrix
    #[arg(long)]
    qemu_only: bool,
    /// Only the boot tests whose name contains NAME
    #[arg(long, value_name = "NAME")]
    only: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Run(a) => cmd_run(a),
        Cmd::Test(a) => cmd_test(a),
        Cmd::Bench(a) => bench::main(a),
        Cmd::Build => setup::ensure()
            .and_then(|_| artifacts::build_kernel())
            .map(|p| {
                println!("{}", p.display());
            }),
        Cmd::Setup => setup::ensure(),
        Cmd::Disk(a) => disk::main(a),
        Cmd::Managed(a) => managed::main(a),
        Cmd::Fuzz(a) => fuzz::main(a),
        Cmd::Matrix(a) => matrix::main(a),
        Cmd::Faults(a) => faults::main(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Exits with clap's usage-error status (2) and its hint, for a usage error
/// found after parsing; `path` names the subcommand (`["disk", "build"]`).
pub fn usage_error(path: &[&str], msg: impl std::fmt::Display) -> ! {
    let mut cmd = Cli::command();
    cmd.build();
    let mut cur = &mut cmd;
    for name in path {
        cur = cur
            .find_subcommand_mut(name)
            .expect("usage_error names a real subcommand");
    }
    cur.error(clap::error::ErrorKind::ArgumentConflict, msg)
        .exit()
}

/// The kernel command line of `run`: the `--driver` flag or the `driver=`
/// key, one source of truth (the same driver from both is accepted once;
/// different ones are a usage error). Neither: `driver=auto`.
fn kernel_cmdline(driver: Option<Driver>, kernel_args: &[String]) -> Result<Vec<String>, String> {
    let keyed: Vec<&str> = kernel_args
        .iter()
        .filter_map(|a| a.strip_prefix("driver="))
        .collect();
    let mut cmdline = Vec::new();
    match (driver, keyed.as_slice()) {
        (None, []) => cmdline.push("driver=auto".to_string()),
        (Some(d), []) => cmdline.push(format!("driver={}", d.name())),
        (None, [_, ..]) => {}
        (Some(d), [k]) if *k == d.name() => {}
        (Some(d), [k, ..]) => {
            return Err(format!(
                "--driver {} and the kernel key driver={k} disagree: give one of them",
                d.name()
            ))
        }
    }
    cmdline.extend(kernel_args.iter().cloned());
    Ok(cmdline)
}

fn cmd_run(a: RunArgs) -> Result<(), String> {
    let cmdline =
        kernel_cmdline(a.driver, &a.kernel_args).unwrap_or_else(|e| usage_error(&["run"], e));
    if let Err(e) = qemu::check_memory(&a.memory) {
        usage_error(&["run"], e)
    }
    let firmware = match a.firmware.as_deref() {
        Some(f) => qemu::Firmware::parse(f).expect("clap checked the value"),
        None => qemu::Firmware::preferred(),
    };
    let disk_paths = a.disks;
    // Before the (long) first build: a wrong path is reported at once.
    for p in disk_paths.iter().chain(&a.initrd) {
        qemu::check_file(p)?;
    }
    setup::ensure()?;
    let kernel = artifacts::build_kernel()?;
    // Every boot carries the managed assemblies unless told otherwise, so
    // `--driver managed` (and `auto`'s preference for it) just works.
    let initrd = match (a.initrd, a.no_module) {
        (Some(file), _) => Some(file),
        (None, true) => None,
        (None, false) => Some(managed::bundle()?),
    };
    let transport = if a.legacy {
        qemu::Transport::Legacy
    } else {
        qemu::Transport::Modern
    };
    // Without --disk the boot gets a scratch copy of the default image, so
    // the default image stays what its manifest says however often runs
    // write to their disk; --disk means that image itself.
    let (disk_paths, scratch) = boot_disks(disk_paths)?;
    // One image attached twice would be two devices writing one file behind
    // each other's caches (QEMU's lock refuses it too, less clearly).
    for (i, p) in disk_paths.iter().enumerate() {
        if disk_paths[..i].iter().any(|q| same_file(p, q)) {
            return Err(format!("--disk {} is given twice", p.display()));
        }
    }
    let disks = disk_paths
        .into_iter()
        .map(|path| qemu::Disk {
            path,
            transport,
            read_only: false,
        })
        .collect();
    let interactive = cmdline.iter().any(|a| a == "run=shell");
    // Every boot has a timeout; an interactive shell gets an hour.
    let secs = a
        .timeout
        .unwrap_or(if interactive || a.gdb { 3600 } else { 120 });
    let boot = qemu::Boot {
        firmware,
        kernel,
        cmdline: cmdline.join(" "),
        initrd,
        disks,
        timeout: Duration::from_secs(secs),
        gdb: a.gdb,
        stream: true,
        interactive,
        input_after: None,
        input: None,
        memory: a.memory,
        bridge: a.bridge,
        iothread: a.iothread,
        blkdebug: None,
        translation_log: None,
    };
    let r = qemu::run(&boot);
    if let Some(copy) = scratch {
        let _ = std::fs::remove_file(copy);
    }
    let r = r?;
    if r.passed() {
        Ok(())
    } else {
        Err(format!(
            "kernel run failed: {} (command: {})",
            r.describe(),
            r.command_line
        ))
    }
}

fn cmd_test(a: TestArgs) -> Result<(), String> {
    let only = a.only;
    let host = !a.qemu_only && only.is_none();
    let qemu = !a.host_only;
    setup::ensure()?;
    let mut failures = Vec::new();
    if host {
        println!("== no_std crates for x86_64-unknown-none");
        if let Err(e) = artifacts::build_no_std() {
            failures.push(e);
        }
        println!("== host tests");
        if let Err(e) = artifacts::host_tests(&[]) {
            failures.push(e);
        }
    }
    if qemu {
        println!("== QEMU boot tests");
        let kernel = artifacts::build_kernel()?;
        let mut cases = boot_tests::basic_cases();
        cases.extend(boot_tests::disk_cases());
        cases.extend(managed_boot_tests::cases());
        cases.extend(machine_boot_tests::cases());
        cases.extend(irq_boot_tests::cases());
        let mut device_errors = blkdebug::cases();
        if let Some(p) = &only {
            cases.retain(|c| c.name.contains(p.as_str()));
            device_errors.retain(|c| c.name().contains(p.as_str()));
            if cases.is_empty() && device_errors.is_empty() {
                return Err(format!("test: no boot test name contains '{p}'"));
            }
        }
        let failed =
            boot_tests::run_cases(&kernel, &cases) + blkdebug::run_cases(&kernel, &device_errors);
        if failed > 0 {
            failures.push(format!("{failed} QEMU boot test(s) failed"));
        }
        if only.is_none() {
            println!(
                "== driver matrix (every image: {})",
                matrix::ALL_IMAGES.join(", ")
            );
            match matrix::run(&matrix::Plan {
                images: matrix::ALL_IMAGES.iter().map(|s| s.to_string()).collect(),
                transports: vec![qemu::Transport::Modern, qemu::Transport::Legacy],
                extras: true,
                managed_module: None,
            }) {
                Ok(out) => {
                    print!("{}", out.table());
                    if !out.passed() {
                        failures.push(format!(
                            "the driver matrix differs:\n{}",
                            out.problems.join("\n")
                        ));
                    }
                }
                Err(e) => failures.push(format!("driver matrix: {e}")),
            }
            println!("== fault-injection campaign (bounded: every kind, one boot each, alternating transports)");
            match faults::run(&faults::bounded()) {
                Ok(rows) => {
                    print!("{}", faults::table(&rows));
                    if !faults::passed(&rows) {
                        failures.push("the fault-injection campaign missed its target".into());
                    }
                }
                Err(e) => failures.push(format!("fault-injection campaign: {e}")),
            }
            match matrix::broken_driver_is_caught() {
                Ok(report) => println!(
                    "matrix: a managed driver that corrupts one written byte is caught:\n{report}"
                ),
                Err(e) => failures.push(format!("broken-driver check: {e}")),
            }
        }
    }
    if failures.is_empty() {
        println!("== all tests passed");
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// The images a run boots with: the `--disk` images themselves, or (none
/// given) a fresh scratch copy of the default image, also returned as the
/// file to delete after the run.
fn boot_disks(given: Vec<PathBuf>) -> Result<(Vec<PathBuf>, Option<PathBuf>), String> {
    if !given.is_empty() {
        return Ok((given, None));
    }
    let copy = disk::scratch_copy(&format!("run-{}", std::process::id()))?;
    Ok((vec![copy.clone()], Some(copy)))
}

/// Whether two paths name one file (after resolving links and `..`).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
