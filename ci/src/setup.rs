//! First-run setup: makes sure the system tools the project needs exist (QEMU,
//! mono/mcs, dosfstools, mtools, cpio, gcc, the Rust target), installing them with apt-get
//! when running as root, otherwise stopping with the exact command to run.

use std::process::Command;

/// A tool we call, and the Debian package that provides it.
struct Tool {
    command: &'static str,
    package: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool {
        command: "qemu-system-x86_64",
        package: "qemu-system-x86",
    },
    Tool {
        command: "mcs",
        package: "mono-mcs",
    },
    Tool {
        command: "ilasm",
        package: "mono-devel",
    },
    Tool {
        command: "mono",
        package: "mono-runtime",
    },
    Tool {
        command: "monodis",
        package: "mono-utils",
    },
    Tool {
        command: "mkfs.fat",
        package: "dosfstools",
    },
    Tool {
        command: "fsck.fat",
        package: "dosfstools",
    },
    // Only for the FAT32 image written by other tools (disk::foreign_image).
    Tool {
        command: "mmd",
        package: "mtools",
    },
    Tool {
        command: "mcopy",
        package: "mtools",
    },
    // Only for the interop test of the boot-module archive (cil-compat bundle):
    // GNU cpio is the format's reference writer.
    Tool {
        command: "cpio",
        package: "cpio",
    },
    // Only for the Linux peer of `bench` (ci/src/peers/linux.rs): its
    // benchmark program is C, linked statically against glibc.
    Tool {
        command: "gcc",
        package: "gcc",
    },
    // An absolute path is looked up as it is: the static C library.
    Tool {
        command: "/usr/lib/x86_64-linux-gnu/libc.a",
        package: "libc6-dev",
    },
];

const RUST_TARGET: &str = "x86_64-unknown-none";

/// Whether `command` is on PATH (or in the sbin directories apt installs to).
pub fn have(command: &str) -> bool {
    find(command).is_some()
}

/// Full path of `command`, searching PATH and the sbin directories (which a
/// non-login root shell may lack).
pub fn find(command: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = ["/usr/sbin", "/sbin", "/usr/local/sbin"].map(std::path::PathBuf::from);
    std::env::split_paths(&path)
        .chain(extra)
        .map(|dir| dir.join(command))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Ensures every system tool and the Rust target are present.
pub fn ensure() -> Result<(), String> {
    let mut missing: Vec<&str> = TOOLS
        .iter()
        .filter(|t| !have(t.command))
        .map(|t| t.package)
        .collect();
    missing.dedup();
    if !missing.is_empty() {
        let list = missing.join(" ");
        if !is_root() {
            return Err(format!(
                "missing system packages: {list}\n  run: sudo apt-get update && sudo apt-get install -y {list}"
            ));
        }
        eprintln!("xtask: installing {list} (apt-get)");
        let ok = Command::new("apt-get")
            .args(["update", "-qq"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return Err("apt-get update failed".into());
        }
        let status = Command::new("apt-get")
            .args(["install", "-y", "-qq"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("apt-get: {e}"))?;
        if !status.success() {
            return Err(format!("apt-get install {list} failed ({status})"));
        }
        let still: Vec<&str> = TOOLS
            .iter()
            .filter(|t| !have(t.command))
            .map(|t| t.command)
            .collect();
        if !still.is_empty() {
            return Err(format!("still missing after install: {}", still.join(", ")));
        }
    }
    ensure_rust_target()
}

fn ensure_rust_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == RUST_TARGET)
        });
    match installed {
        Ok(true) => Ok(()),
        Ok(false) => {
            eprintln!("xtask: adding Rust target {RUST_TARGET}");
            let status = Command::new("rustup")
                .args(["target", "add", RUST_TARGET])
                .status()
                .map_err(|e| format!("rustup: {e}"))?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("rustup target add {RUST_TARGET} failed"))
            }
        }
        // No rustup: trust the toolchain (the kernel build will say if the
        // target is missing).
        Err(_) => Ok(()),
    }
}
