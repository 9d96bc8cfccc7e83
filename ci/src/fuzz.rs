//! `cargo xtask fuzz [--time SECS] [--target NAME]`: bounded cargo-fuzz
//! (libFuzzer) runs, one per target, each for SECS seconds, with the
//! executions and coverage libFuzzer reports. Targets: the ECMA-335 reader
//! (`reader`, seeded with every assembly the build produced), the loader on
//! top of our corlib (`load_with_corlib`), the JIT on method bodies (`jit_body`:
//! every corlib body as a seed, mutated into invalid IL and wild exception
//! clauses; `cil_compat::fuzzing::JitBodies`), the FAT layer on damaged images
//! (`fat_volume`, `disks/fuzz`), and the native virtio-blk driver against a
//! device answering arbitrary values (`device_chaos`,
//! `native-drivers/virtio-blk/fuzz`). cargo-fuzz wants nightly for its sanitizer
//! flags; `RUSTC_BOOTSTRAP=1` lets the pinned stable toolchain accept them.

use crate::{artifacts, managed, setup};
use std::path::PathBuf;
use std::process::Command;

const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// A fuzz target: its name, the cargo-fuzz crate (relative to the workspace
/// root) and what seeds it.
struct Target {
    name: &'static str,
    dir: &'static str,
    seeds: Seeds,
}

/// Where a target's first inputs come from.
#[derive(Clone, Copy, PartialEq)]
enum Seeds {
    /// The empty input (the undamaged image, the honest device).
    Empty,
    /// Every assembly the build produced.
    Assemblies,
    /// Every corlib method body, encoded for `JitBodies`.
    CorlibBodies,
}

const TARGETS: &[Target] = &[
    Target {
        name: "reader",
        dir: "cil-compat/fuzz",
        seeds: Seeds::Assemblies,
    },
    Target {
        name: "load_with_corlib",
        dir: "cil-compat/fuzz",
        seeds: Seeds::Assemblies,
    },
    Target {
        name: "jit_body",
        dir: "cil-compat/fuzz",
        seeds: Seeds::CorlibBodies,
    },
    Target {
        name: "fat_volume",
        dir: "disks/fuzz",
        seeds: Seeds::Empty,
    },
    Target {
        name: "device_chaos",
        dir: "native-drivers/virtio-blk/fuzz",
        seeds: Seeds::Empty,
    },
];

/// `cargo xtask fuzz [--time SECS] [--target NAME]`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// How long libFuzzer runs, per target
    #[arg(long = "time", value_name = "SECS", default_value_t = 120)]
    secs: u64,
    /// Only this target (default: every one)
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(TARGETS.iter().map(|t| t.name)))]
    target: Option<String>,
}

pub fn main(args: Args) -> Result<(), String> {
    let secs = args.secs;
    let targets: Vec<&Target> = match &args.target {
        Some(n) => TARGETS.iter().filter(|t| t.name == n).collect(),
        None => TARGETS.iter().collect(),
    };
    setup::ensure()?;
    ensure_cargo_fuzz()?;
    let mut summary = Vec::new();
    for t in targets {
        summary.push(run(t, secs)?);
    }
    println!("fuzz summary ({secs} s per target):");
    for line in &summary {
        println!("  {line}");
    }
    Ok(())
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let have_fuzz = Command::new(cargo())
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if have_fuzz {
        return Ok(());
    }
    eprintln!("xtask: installing cargo-fuzz {CARGO_FUZZ_VERSION}");
    let ok = Command::new(cargo())
        .args([
            "install",
            "--locked",
            "cargo-fuzz",
            "--version",
            CARGO_FUZZ_VERSION,
        ])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(())
    } else {
        Err("cargo install cargo-fuzz failed".into())
    }
}

/// The seed directory of a target, filled as [`Seeds`] says.
fn seeds(t: &Target) -> Result<PathBuf, String> {
    let dir = artifacts::target_dir().join("fuzz-corpus").join(t.name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    match t.seeds {
        Seeds::Empty => {}
        Seeds::Assemblies => {
            let mut dlls = managed::build_all()?;
            if let Ok(d) = std::fs::read_dir(cil_compat::toolchain::managed_dir()) {
                dlls.extend(
                    d.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "dll")),
                );
            }
            for dll in &dlls {
                if let Some(name) = dll.file_name() {
                    let _ = std::fs::copy(dll, dir.join(name));
                }
            }
        }
        Seeds::CorlibBodies => {
            let corlib = corlib_bytes()?;
            let bodies = cil_compat::fuzzing::JitBodies::new(&corlib)
                .ok_or("our corlib does not load: cannot seed jit_body")?;
            for (i, seed) in bodies.seeds().iter().enumerate() {
                let p = dir.join(format!("corlib-body-{i:04}"));
                std::fs::write(&p, seed).map_err(|e| format!("{}: {e}", p.display()))?;
            }
        }
    }
    Ok(dir)
}

/// Our corlib, built if needed (the targets that load one read the same file
/// through `CIL_FUZZ_CORLIB`).
fn corlib_path() -> Result<PathBuf, String> {
    managed::build_all()?
        .into_iter()
        .next()
        .ok_or_else(|| "no corlib was built".to_string())
}

fn corlib_bytes() -> Result<Vec<u8>, String> {
    let p = corlib_path()?;
    std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))
}

/// One bounded run; the summary line names the executions and coverage.
fn run(t: &Target, secs: u64) -> Result<String, String> {
    let corpus = seeds(t)?;
    let dir = artifacts::workspace_root().join(t.dir);
    let log = artifacts::target_dir().join(format!("fuzz-{}.log", t.name));
    println!("fuzzing {} for {secs} s (log {})", t.name, log.display());
    let out = Command::new(cargo())
        .current_dir(&dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", artifacts::target_dir().join("fuzz"))
        .env("CIL_FUZZ_CORLIB", corlib_path()?)
        .args(["fuzz", "run", t.name])
        .arg(&corpus)
        .args([
            "--",
            &format!("-max_total_time={secs}"),
            "-max_len=131072",
            "-timeout=20",
            "-print_final_stats=1",
        ])
        .output()
        .map_err(|e| format!("cargo fuzz: {e}"))?;
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let _ = std::fs::write(&log, &text);
    let stat = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().trim_start_matches(':').trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    let execs = stat("stat::number_of_executed_units");
    let per_sec = stat("stat::average_exec_per_sec");
    let cov = text
        .lines()
        .rev()
        .find_map(|l| {
            l.split_once(" cov: ")
                .map(|(_, r)| r.split_whitespace().next().unwrap_or("?").to_string())
        })
        .unwrap_or_else(|| "?".into());
    if out.status.success() {
        Ok(format!(
            "{:<17} no crash: {execs} executions ({per_sec}/s), coverage {cov} edges",
            t.name
        ))
    } else {
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!(
            "fuzzing {} found a crash or failed to build ({}); the input is under {}/artifacts/{}/, full log {}:\n{}",
            t.name,
            out.status,
            t.dir,
            t.name,
            log.display(),
            tail.join("\n")
        ))
    }
}
