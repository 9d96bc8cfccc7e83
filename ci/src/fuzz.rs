//! `cargo xtask fuzz [--time SECS]`: a bounded cargo-fuzz (libFuzzer) run of
//! the ECMA-335 reader, seeded with every assembly the build produced.
//! cargo-fuzz wants nightly for its sanitizer flags; `RUSTC_BOOTSTRAP=1` lets
//! the pinned stable toolchain accept them.

use crate::{artifacts, managed, setup};
use std::process::Command;

const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// `cargo xtask fuzz [--time SECS]`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// How long libFuzzer runs
    #[arg(long = "time", value_name = "SECS", default_value_t = 600)]
    secs: u64,
}

pub fn main(args: Args) -> Result<(), String> {
    let secs = args.secs;
    setup::ensure()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let have_fuzz = Command::new(&cargo)
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_fuzz {
        eprintln!("xtask: installing cargo-fuzz {CARGO_FUZZ_VERSION}");
        let ok = Command::new(&cargo)
            .args([
                "install",
                "--locked",
                "cargo-fuzz",
                "--version",
                CARGO_FUZZ_VERSION,
            ])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err("cargo install cargo-fuzz failed".into());
        }
    }
    // Seeds: the corlib, the managed DDK and driver, and whatever test
    // assemblies earlier test runs left in target/managed.
    let seeds = artifacts::target_dir().join("fuzz-corpus/reader");
    std::fs::create_dir_all(&seeds).map_err(|e| format!("{}: {e}", seeds.display()))?;
    let mut dlls = managed::build_all()?;
    if let Ok(dir) = std::fs::read_dir(cil_compat::toolchain::managed_dir()) {
        dlls.extend(
            dir.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "dll")),
        );
    }
    for dll in &dlls {
        if let Some(name) = dll.file_name() {
            let _ = std::fs::copy(dll, seeds.join(name));
        }
    }
    let fuzz_dir = artifacts::workspace_root().join("cil-compat/fuzz");
    println!(
        "fuzzing the CIL reader for {secs} s ({} seed assemblies)",
        dlls.len()
    );
    let status = Command::new(&cargo)
        .current_dir(&fuzz_dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", artifacts::target_dir().join("fuzz"))
        .args(["fuzz", "run", "reader"])
        .arg(&seeds)
        .args([
            "--",
            &format!("-max_total_time={secs}"),
            "-max_len=131072",
            "-print_final_stats=1",
        ])
        .status()
        .map_err(|e| format!("cargo fuzz: {e}"))?;
    if status.success() {
        println!("fuzz: no crash in {secs} s");
        Ok(())
    } else {
        Err(format!("fuzzing found a crash ({status}); the input is under cil-compat/fuzz/artifacts/reader/"))
    }
}
