//! Builds what a boot needs: the kernel ELF, the default disk image, and (when
//! the managed toolchain is in) the managed assemblies.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ci/ lives inside the workspace")
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                workspace_root().join(d)
            }
        }
        None => workspace_root().join("target"),
    }
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(workspace_root());
    c
}

/// `cargo build` of the kernel (release) for x86_64-unknown-none.
pub fn build_kernel() -> Result<PathBuf, String> {
    let elf = target_dir().join("x86_64-unknown-none/release/kernel");
    let args = kernel_build_args(!elf.is_file());
    if !elf.is_file() {
        eprintln!("xtask: first build of the kernel (release, fat LTO: a minute or two)");
    }
    let status = cargo()
        .args(args)
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if !status.success() {
        return Err("kernel build failed".into());
    }
    if elf.is_file() {
        Ok(elf)
    } else {
        Err(format!("kernel built but {} is missing", elf.display()))
    }
}

/// cargo's arguments for the kernel: quiet when a kernel was built before
/// (a rebuild is seconds), cargo's own progress on the first build.
fn kernel_build_args(first: bool) -> Vec<&'static str> {
    let mut a = vec!["build"];
    if !first {
        a.push("--quiet");
    }
    a.extend([
        "-p",
        "kernel",
        "--target",
        "x86_64-unknown-none",
        "--release",
    ]);
    a
}

#[cfg(test)]
#[test]
fn the_first_kernel_build_shows_progress() {
    assert!(!kernel_build_args(true).contains(&"--quiet"));
    assert!(kernel_build_args(false).contains(&"--quiet"));
}

/// The `no_std` crates the kernel links: built for the kernel's target on
/// their own (without the kernel) so a std dependency cannot creep in.
pub const NO_STD_CRATES: &[&str] = &[
    "ddk",
    "jit",
    "cil-compat",
    "virtio-blk",
    "disks",
    "kernel-logic",
];

/// `cargo build` of every `no_std` crate for x86_64-unknown-none.
pub fn build_no_std() -> Result<(), String> {
    let mut c = cargo();
    c.args([
        "build",
        "--quiet",
        "--release",
        "--target",
        "x86_64-unknown-none",
    ]);
    for p in NO_STD_CRATES {
        c.args(["-p", p]);
    }
    let status = c.status().map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the no_std crates ({}) do not build for x86_64-unknown-none",
            NO_STD_CRATES.join(", ")
        ))
    }
}

/// Runs the host test suite of every host-testable crate.
pub fn host_tests(extra: &[String]) -> Result<(), String> {
    let status = cargo()
        .args([
            "test",
            "--workspace",
            "--exclude",
            "kernel",
            "--all-features",
        ])
        .args(extra)
        // Setup installed mono, mcs and dosfstools: tests that compare
        // against them must not skip here.
        .env("XTASK_REQUIRE_TOOLS", "1")
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("host tests failed".into())
    }
}

pub fn disks_dir() -> PathBuf {
    target_dir().join("disks")
}
