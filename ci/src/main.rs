//! `cargo xtask`: the host runner. Builds the kernel and its inputs, boots
//! QEMU, runs the host and boot test suites, benchmarks, and builds disks.
//! Setup (QEMU, mono, dosfstools, the Rust target) happens on first use.

#![forbid(unsafe_code)]

mod artifacts;
mod bench;
mod bench_jit;
mod boot_tests;
mod disk;
mod fuzz;
mod managed;
mod managed_boot_tests;
mod matrix;
mod qemu;
mod setup;

use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: cargo xtask <command>

  run [--driver native|managed|auto] [--disk PATH [--disk PATH]] [--legacy]
      [--gdb] [--initrd FILE | --no-module] [--firmware qboot|seabios]
      [--timeout SECS] [-- KERNEL ARGS...]
                  build the kernel, boot it under QEMU, stream the serial
                  console; exit status is the kernel's verdict. Each --disk
                  is a virtio-blk device, in PCI order (vda, vdb, ...);
                  without one, target/disks/default.img. The boot
                  module (-initrd) is the managed bundle
                  target/managed/managed.cpio (built first) unless --initrd
                  FILE replaces it or --no-module leaves it out
  test [--host-only | --qemu-only | --only NAME]
                  host tests of every crate, then QEMU boot tests
                  (--only: just the boot tests whose name contains NAME)
  matrix [--full | --images A,B] [--modern-only] [--broken-driver]
                  both drivers on byte-identical copies of golden images,
                  the same workload: equal transcripts, identical images,
                  fsck clean (default: a quick subset; --full: every image,
                  as `test` runs it)
  bench boot      QEMU start -> first serial line, and -> verdict
  bench blk [--driver D[,D...]] [--repeat N] [--legacy]
                  in-kernel virtio-blk figures vs Linux 6.1 under the same QEMU
  disk build [--manifest PATH] [--out PATH]
                  build a deterministic FAT32 image (default manifest
                  disks/manifests/default.manifest) and fsck it
  disk empty --out PATH [--size-mib N]
                  a fresh, empty FAT32 image (mkfs.fat -F 32; default 64 MiB)
  disk foreign [--out PATH]
                  a FAT32 image written by dosfstools and mtools (long,
                  nested and non-ASCII names, a 3 MiB file), default
                  target/disks/foreign.img
  disk check IMAGE
                  fsck.fat -n an image
  managed [--fault KIND [--at N]]
                  compile corlib, managed DDK and managed drivers (mcs) and
                  pack them into the boot module target/managed/managed.cpio;
                  with --fault, build the driver variant that faults at block
                  request N (default 1) and print its module's path. KIND:
                  null-deref, index-out-of-range, divide-by-zero,
                  invalid-cast, wild-pointer, stack-overflow
  bench jit       fib/sieve/CRC32 through our JIT vs native Rust vs mono;
                  compile throughput
  bench load      load corlib + managed DDK + driver: us per assembly, heap
  fuzz [--time SECS] [--target reader|load_with_corlib|fat_volume]
                  bounded libFuzzer runs (default: every target, 120 s
                  each): the CIL reader, the loader over our corlib, the
                  FAT layer on damaged images; prints executions
  build           build the kernel only
  setup           install missing system packages and the Rust target
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => cmd_run(&args[1..]),
        Some("test") => cmd_test(&args[1..]),
        Some("bench") => bench::main(&args[1..]),
        Some("build") => setup::ensure()
            .and_then(|_| artifacts::build_kernel())
            .map(|p| {
                println!("{}", p.display());
            }),
        Some("setup") => setup::ensure(),
        Some("disk") => disk::main(&args[1..]),
        Some("managed") => managed::main(&args[1..]),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some("matrix") => matrix::main(&args[1..]),
        Some("help") | Some("--help") | Some("-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command '{other}'\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn cmd_run(args: &[String]) -> Result<(), String> {
    let mut driver = "auto".to_string();
    let mut disk_paths: Vec<std::path::PathBuf> = Vec::new();
    let mut legacy = false;
    let mut gdb = false;
    let mut initrd: Option<std::path::PathBuf> = None;
    let mut no_module = false;
    let mut firmware = qemu::Firmware::preferred();
    let mut timeout: Option<u64> = None;
    let mut kernel_args: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--driver" => driver = value(&mut it, a)?,
            "--disk" => disk_paths.push(value(&mut it, a)?.into()),
            "--legacy" => legacy = true,
            "--gdb" => gdb = true,
            "--initrd" => initrd = Some(value(&mut it, a)?.into()),
            "--no-module" => no_module = true,
            "--firmware" => {
                let v = value(&mut it, a)?;
                firmware = qemu::Firmware::parse(&v)
                    .ok_or_else(|| format!("--firmware must be qboot or seabios, not '{v}'"))?;
            }
            "--timeout" => {
                let v = value(&mut it, a)?;
                timeout = Some(
                    v.parse()
                        .map_err(|_| format!("--timeout: '{v}' is not seconds"))?,
                )
            }
            "--" => {
                kernel_args.extend(it.by_ref().cloned());
            }
            other => return Err(format!("run: unknown option '{other}'\n{USAGE}")),
        }
    }
    if !["native", "managed", "auto"].contains(&driver.as_str()) {
        return Err(format!(
            "--driver must be native, managed or auto, not '{driver}'"
        ));
    }
    if no_module && initrd.is_some() {
        return Err("--initrd and --no-module exclude each other".into());
    }
    setup::ensure()?;
    let kernel = artifacts::build_kernel()?;
    // Every boot carries the managed assemblies unless told otherwise, so
    // `--driver managed` (and `auto`'s preference for it) just works.
    let initrd = match (initrd, no_module) {
        (Some(file), _) => Some(file),
        (None, true) => None,
        (None, false) => Some(managed::bundle()?),
    };
    let transport = if legacy {
        qemu::Transport::Legacy
    } else {
        qemu::Transport::Modern
    };
    if disk_paths.is_empty() {
        let image = disk::default_image();
        disk::ensure_image(&disk::default_manifest(), &image)?;
        disk_paths.push(image);
    }
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
    let mut cmdline = vec![format!("driver={driver}")];
    cmdline.extend(kernel_args);
    let interactive = cmdline.iter().any(|a| a == "run=shell");
    // Every boot has a timeout; an interactive shell gets an hour.
    let secs = timeout.unwrap_or(if interactive || gdb { 3600 } else { 120 });
    let boot = qemu::Boot {
        firmware,
        kernel,
        cmdline: cmdline.join(" "),
        initrd,
        disks,
        timeout: Duration::from_secs(secs),
        gdb,
        stream: true,
        interactive,
        input_after: None,
        input: None,
    };
    let r = qemu::run(&boot)?;
    if r.passed() {
        Ok(())
    } else {
        Err(format!(
            "kernel run failed: {} (command: {})",
            r.outcome.describe(),
            r.command_line
        ))
    }
}

fn cmd_test(args: &[String]) -> Result<(), String> {
    let (mut host, mut qemu) = (true, true);
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--host-only" => qemu = false,
            "--qemu-only" => host = false,
            "--only" => {
                only = Some(value(&mut it, a)?);
                host = false;
            }
            other => return Err(format!("test: unknown option '{other}'")),
        }
    }
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
        if let Some(p) = &only {
            cases.retain(|c| c.name.contains(p.as_str()));
            if cases.is_empty() {
                return Err(format!("test: no boot test name contains '{p}'"));
            }
        }
        let failed = boot_tests::run_cases(&kernel, &cases);
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

/// Whether two paths name one file (after resolving links and `..`).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn value(it: &mut std::slice::Iter<'_, String>, flag: &str) -> Result<String, String> {
    it.next()
        .cloned()
        .ok_or_else(|| format!("{flag} needs a value"))
}
