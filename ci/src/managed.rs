//! The managed side of the build: our corlib, the managed DDK and the managed
//! drivers, compiled from C# with mcs into `target/managed/` (skipped when the
//! outputs are newer than their sources; see `cil_compat::toolchain`), and the
//! boot module that carries them to the kernel: `target/managed/managed.cpio`, a
//! `cil_compat::bundle` archive of the assemblies in load order.
//!
//! Fault-injection variants of the driver (`FaultInjection.cs`, compiled only with
//! `-define:FAULT_INJECT`; all fault at request N except `corrupt-write`, which
//! silently corrupts one byte of that write) are built on demand into
//! `target/managed/faulty-<kind>-<n>/`, each with its own bundle
//! `target/managed/faulty-<kind>-<n>.cpio` (same corlib and DDK).

use cil_compat::toolchain;
use std::path::{Path, PathBuf};

/// Entry names in the bundle, in load order: the kernel loads them in this order
/// and binds each one's references to those before it.
pub const BUNDLE_ORDER: [&str; 3] = ["mscorlib.dll", "Ddk.dll", "VirtioBlk.dll"];

fn err(e: cil_compat::error::Error) -> String {
    e.to_string()
}

/// The managed assemblies in load order (corlib, DDK, drivers).
pub fn build_all() -> Result<Vec<PathBuf>, String> {
    let src = toolchain::managed_src_dir();
    let mut out = vec![toolchain::corlib().map_err(err)?];
    let ddk_dir = src.join("ddk");
    if ddk_dir.is_dir() {
        let ddk =
            toolchain::build_library("Ddk", &toolchain::cs_files(&ddk_dir).map_err(err)?, &[])
                .map_err(err)?;
        out.push(ddk.clone());
        let driver_dir = src.join("drivers/virtio-blk");
        if driver_dir.is_dir() {
            let sources = toolchain::cs_files(&driver_dir).map_err(err)?;
            out.push(toolchain::build_library("VirtioBlk", &sources, &[ddk]).map_err(err)?);
        }
    }
    Ok(out)
}

/// corlib and DDK, built if needed: what every bundle, faulty or not, shares.
fn corlib_and_ddk() -> Result<[PathBuf; 2], String> {
    let all = build_all()?;
    match &all[..] {
        [corlib, ddk, ..] => Ok([corlib.clone(), ddk.clone()]),
        _ => Err("the managed DDK sources (cil-compat/managed/ddk) are missing".into()),
    }
}

/// The default boot module, `target/managed/managed.cpio` (mscorlib.dll, Ddk.dll,
/// VirtioBlk.dll), building the assemblies and the archive when out of date.
pub fn bundle() -> Result<PathBuf, String> {
    let dlls = build_all()?;
    if dlls.len() != BUNDLE_ORDER.len() {
        return Err(format!(
            "the bundle needs {} but only {} were built",
            BUNDLE_ORDER.join(", "),
            dlls.len()
        ));
    }
    let out = toolchain::managed_dir().join("managed.cpio");
    write_bundle(&dlls, &out)?;
    Ok(out)
}

/// The boot module of `run=gc-stress`, `target/managed/gc-stress.cpio`:
/// corlib and `GcStress.dll`, the collector's stress program
/// (`cil-compat/tests/cs/GcStress.cs`, the host test's workload), built when
/// out of date.
pub fn gc_stress_bundle() -> Result<PathBuf, String> {
    let corlib = toolchain::corlib().map_err(err)?;
    let managed = toolchain::managed_src_dir();
    let src = managed
        .parent()
        .unwrap_or(&managed)
        .join("tests/cs/GcStress.cs");
    let dll = toolchain::build_library("GcStress", &[src], &[]).map_err(err)?;
    let out = toolchain::managed_dir().join("gc-stress.cpio");
    write_bundle(&[corlib, dll], &out)?;
    Ok(out)
}

/// Writes `dlls` (named by their file names, in this order) as a bundle to
/// `out`, unless `out` is newer than all of them. Written beside `out` and
/// renamed, so a reader never sees a half-written module.
pub fn write_bundle(dlls: &[PathBuf], out: &Path) -> Result<(), String> {
    if toolchain::up_to_date(out, dlls) {
        return Ok(());
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for p in dlls {
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: no usable file name", p.display()))?;
        let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        files.push((name.to_string(), bytes));
    }
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let bytes = cil_compat::bundle::write(&entries);
    write_atomically(out, &bytes)
}

/// Writes `bytes` to a private file next to `path`, then renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // Unique per process and call: tests build bundles from several threads.
    static UNIQUE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = UNIQUE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".part-{}-{n}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })
}

/// How a fault-injection build of the driver faults. Mirrors `enum FaultKind` in
/// `cil-compat/managed/drivers/virtio-blk/FaultInjection.cs` (same numbers; a
/// test reads the C# and compares).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Reads a field through a null object reference.
    NullDeref = 1,
    /// Stores one past the end of an array.
    IndexOutOfRange = 2,
    /// Integer division by a zero known only at run time.
    DivideByZero = 3,
    /// `castclass` to a class the object is not.
    InvalidCast = 4,
    /// A store through the non-canonical address 0x8000_0000_0000_0000 (#GP).
    WildPointer = 5,
    /// Unbounded recursion.
    StackOverflow = 6,
    /// Calls a method whose IL the JIT refuses (`stackalloc` in a method
    /// with an exception handler): compiled lazily, so the refusal happens
    /// at that request.
    JitRejected = 7,
    /// A store through a raw null pointer (plus a small offset): a page
    /// fault on the kernel's unmapped page 0, inside JIT code.
    NullPointer = 8,
    /// Not a fault: a write at request N reaches the disk with its first
    /// byte inverted (the caller's buffer untouched), and completes normally.
    /// A deliberately broken driver for tests that compare disks.
    CorruptWrite = 9,
    /// Throws a managed exception the driver catches (after a `finally`
    /// ran), then one (`NotSupportedException`) nothing in the driver
    /// catches: it escapes the driver's entry point.
    Throw = 10,
}

impl FaultKind {
    pub const ALL: [FaultKind; 10] = [
        FaultKind::NullDeref,
        FaultKind::IndexOutOfRange,
        FaultKind::DivideByZero,
        FaultKind::InvalidCast,
        FaultKind::WildPointer,
        FaultKind::StackOverflow,
        FaultKind::JitRejected,
        FaultKind::NullPointer,
        FaultKind::CorruptWrite,
        FaultKind::Throw,
    ];

    /// The name in paths and on the command line: `null-deref`, ...
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::NullDeref => "null-deref",
            FaultKind::IndexOutOfRange => "index-out-of-range",
            FaultKind::DivideByZero => "divide-by-zero",
            FaultKind::InvalidCast => "invalid-cast",
            FaultKind::WildPointer => "wild-pointer",
            FaultKind::StackOverflow => "stack-overflow",
            FaultKind::JitRejected => "jit-rejected",
            FaultKind::NullPointer => "null-pointer",
            FaultKind::CorruptWrite => "corrupt-write",
            FaultKind::Throw => "throw",
        }
    }

    /// The C# enum member's name.
    pub fn cs_name(self) -> &'static str {
        match self {
            FaultKind::NullDeref => "NullDeref",
            FaultKind::IndexOutOfRange => "IndexOutOfRange",
            FaultKind::DivideByZero => "DivideByZero",
            FaultKind::InvalidCast => "InvalidCast",
            FaultKind::WildPointer => "WildPointer",
            FaultKind::StackOverflow => "StackOverflow",
            FaultKind::JitRejected => "JitRejected",
            FaultKind::NullPointer => "NullPointer",
            FaultKind::CorruptWrite => "CorruptWrite",
            FaultKind::Throw => "Throw",
        }
    }

    /// The value `FaultConfig.Kind` gets.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// Accepts the path name (`null-deref`) or the C# name (`NullDeref`), in any case.
    pub fn parse(s: &str) -> Option<FaultKind> {
        FaultKind::ALL
            .into_iter()
            .find(|k| s.eq_ignore_ascii_case(k.name()) || s.eq_ignore_ascii_case(k.cs_name()))
    }
}

/// The generated `FaultConfig.cs` of a variant.
pub fn fault_config_source(kind: FaultKind, at_request: u32) -> String {
    format!(
        "//! Generated by `cargo xtask` (ci/src/managed.rs) for the fault-injection build\n\
         //! {}-{at_request}: fault with {} at block request {at_request}.\n\
         static class FaultConfig {{ public const int AtRequest = {at_request}; public const int Kind = {}; }}\n",
        kind.name(),
        kind.cs_name(),
        kind.code()
    )
}

/// `target/managed/faulty-<kind>-<n>`: where a variant's VirtioBlk.dll goes.
pub fn faulty_dir(kind: FaultKind, at_request: u32) -> PathBuf {
    toolchain::managed_dir().join(format!("faulty-{}-{at_request}", kind.name()))
}

fn check_at(at_request: u32) -> Result<(), String> {
    // FaultConfig.AtRequest is an int and requests count from 1.
    if at_request == 0 || at_request > i32::MAX as u32 {
        return Err(format!(
            "--at {at_request}: requests are numbered from 1 to {}",
            i32::MAX
        ));
    }
    Ok(())
}

/// Builds (when out of date) the driver with `-define:FAULT_INJECT` and a
/// generated `FaultConfig.cs`; returns the three assemblies in load order (the
/// shared corlib and DDK, then the variant's VirtioBlk.dll).
pub fn faulty_build(kind: FaultKind, at_request: u32) -> Result<[PathBuf; 3], String> {
    check_at(at_request)?;
    let [corlib, ddk] = corlib_and_ddk()?;
    let dir = faulty_dir(kind, at_request);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // Rewritten only when it changes, so its mtime keeps the build skippable.
    let config = dir.join("FaultConfig.cs");
    let text = fault_config_source(kind, at_request);
    if std::fs::read_to_string(&config).ok().as_deref() != Some(text.as_str()) {
        write_atomically(&config, text.as_bytes())?;
    }
    let mut sources = toolchain::cs_files(&toolchain::managed_src_dir().join("drivers/virtio-blk"))
        .map_err(err)?;
    sources.push(config);
    let driver = dir.join("VirtioBlk.dll");
    toolchain::compile_cs(
        &sources,
        &driver,
        &toolchain::CsOptions {
            references: vec![corlib.clone(), ddk.clone()],
            extra: vec!["-define:FAULT_INJECT".into()],
            ..toolchain::CsOptions::default()
        },
    )
    .map_err(err)?;
    Ok([corlib, ddk, driver])
}

/// The boot module of a fault-injection variant,
/// `target/managed/faulty-<kind>-<n>.cpio`, built when out of date.
pub fn faulty_bundle(kind: FaultKind, at_request: u32) -> Result<PathBuf, String> {
    let dlls = faulty_build(kind, at_request)?;
    let out = toolchain::managed_dir().join(format!("faulty-{}-{at_request}.cpio", kind.name()));
    write_bundle(&dlls, &out)?;
    Ok(out)
}

/// `cargo xtask managed [--fault KIND [--at N]]`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Build the driver variant that faults on purpose (or, corrupt-write,
    /// corrupts one written byte) and print its boot module's path. KIND:
    /// null-deref, index-out-of-range, divide-by-zero, invalid-cast,
    /// wild-pointer, stack-overflow, jit-rejected, null-pointer, throw,
    /// corrupt-write
    #[arg(long, value_name = "KIND", value_parser = parse_fault)]
    fault: Option<FaultKind>,
    /// The block request at which it faults (default 1)
    #[arg(long, value_name = "N", requires = "fault")]
    at: Option<u32>,
    /// Build the boot module of `run=gc-stress` (corlib and the GcStress
    /// program) and print its path
    #[arg(long, conflicts_with = "fault")]
    gc_stress: bool,
}

fn parse_fault(v: &str) -> Result<FaultKind, String> {
    FaultKind::parse(v).ok_or_else(|| {
        let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
        format!("'{v}' is not one of {}", names.join(", "))
    })
}

pub fn main(args: Args) -> Result<(), String> {
    let (fault, at) = (args.fault, args.at);
    crate::setup::ensure()?;
    if args.gc_stress {
        println!("{}", gc_stress_bundle()?.display());
        return Ok(());
    }
    match (fault, at) {
        // Just the path, so `cargo xtask run --initrd "$(cargo xtask managed ...)"` works.
        (Some(kind), at) => println!("{}", faulty_bundle(kind, at.unwrap_or(1))?.display()),
        (None, Some(_)) => return Err("--at goes with --fault".into()),
        (None, None) => {
            for p in build_all()? {
                println!("{}", p.display());
            }
            println!("{}", bundle()?.display());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mcs_available() -> bool {
        if toolchain::find_tool("mcs").is_ok() {
            return true;
        }
        assert!(
            std::env::var_os("XTASK_REQUIRE_TOOLS").is_none(),
            "mcs is required here"
        );
        println!("note: mcs not installed; skipping");
        false
    }

    #[test]
    fn fault_kinds_mirror_the_csharp_enum() {
        let path = toolchain::managed_src_dir().join("drivers/virtio-blk/FaultInjection.cs");
        let text = std::fs::read_to_string(&path).unwrap();
        let body = text
            .split("public enum FaultKind")
            .nth(1)
            .and_then(|t| t.split('}').next())
            .expect("FaultInjection.cs declares enum FaultKind");
        let members: Vec<(String, u32)> = body
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("//") && l.contains('='))
            .map(|l| {
                let (name, value) = l.trim_end_matches(',').split_once('=').unwrap();
                (name.trim().to_string(), value.trim().parse().unwrap())
            })
            .collect();
        let ours: Vec<(String, u32)> = FaultKind::ALL
            .iter()
            .map(|k| (k.cs_name().to_string(), k.code()))
            .collect();
        assert_eq!(members, ours);
        for k in FaultKind::ALL {
            assert_eq!(FaultKind::parse(k.name()), Some(k));
            assert_eq!(FaultKind::parse(&k.cs_name().to_lowercase()), Some(k));
        }
        assert_eq!(FaultKind::parse("segfault"), None);
        assert_eq!(
            fault_config_source(FaultKind::WildPointer, 3).lines().last(),
            Some("static class FaultConfig { public const int AtRequest = 3; public const int Kind = 5; }")
        );
        assert!(check_at(0).is_err());
    }

    /// Type names an assembly defines, as our loader sees it (after loading its
    /// references from `lib`).
    fn load(dll: &Path, lib: &Path) -> (cil_compat::types::TypeSystem, cil_compat::types::AsmId) {
        let mut ts = cil_compat::types::TypeSystem::new();
        let asm = cil_compat::host::load_with_deps(&mut ts, dll, &[lib.to_path_buf()])
            .unwrap_or_else(|e| panic!("{}: {e}", dll.display()));
        (ts, asm)
    }

    fn type_names(
        ts: &cil_compat::types::TypeSystem,
        asm: cil_compat::types::AsmId,
    ) -> Vec<String> {
        ts.types_of(asm)
            .iter()
            .map(|t| ts.info(*t).full_name())
            .collect()
    }

    /// Every variant compiles with mcs, loads with our loader, dumps without an
    /// error, and its fault code JIT-compiles; the normal build has none of it;
    /// bundles hold the assemblies in load order.
    #[test]
    fn variants_build_load_and_stay_out_of_normal_builds() {
        if !mcs_available() {
            return;
        }
        let lib = toolchain::managed_dir();
        let normal = bundle().unwrap();
        let bytes = std::fs::read(&normal).unwrap();
        let entries = cil_compat::bundle::parse(&bytes).unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.name).collect();
        assert_eq!(names, BUNDLE_ORDER);
        let (ts, asm) = load(&lib.join("VirtioBlk.dll"), &lib);
        let normal_types = type_names(&ts, asm);
        assert!(normal_types
            .iter()
            .any(|t| t == "VirtioBlk.VirtioBlkDevice"));
        for absent in [
            "VirtioBlk.FaultInjection",
            "VirtioBlk.FaultKind",
            "FaultConfig",
        ] {
            assert!(
                !normal_types.iter().any(|t| t == absent),
                "{absent} in the normal build"
            );
        }
        let device = ts
            .types_of(asm)
            .iter()
            .find(|t| ts.info(**t).full_name() == "VirtioBlk.VirtioBlkDevice")
            .unwrap();
        let normal_fields = ts.info(*device).fields.len();

        for kind in FaultKind::ALL {
            let at = 2;
            let path = faulty_bundle(kind, at).unwrap();
            assert_eq!(path, lib.join(format!("faulty-{}-2.cpio", kind.name())));
            let bytes = std::fs::read(&path).unwrap();
            let entries = cil_compat::bundle::parse(&bytes).unwrap();
            let names: Vec<&str> = entries.iter().map(|e| e.name).collect();
            assert_eq!(names, BUNDLE_ORDER);
            // Same corlib and DDK as the default bundle, a different driver.
            let default = std::fs::read(&normal).unwrap();
            let default = cil_compat::bundle::parse(&default).unwrap();
            assert_eq!(entries[0], default[0]);
            assert_eq!(entries[1], default[1]);
            assert_ne!(entries[2].data, default[2].data);

            let dll = faulty_dir(kind, at).join("VirtioBlk.dll");
            let (ts, asm) = load(&dll, &lib);
            let types = type_names(&ts, asm);
            for present in [
                "VirtioBlk.FaultInjection",
                "VirtioBlk.FaultKind",
                "FaultConfig",
            ] {
                assert!(
                    types.iter().any(|t| t == present),
                    "{present} missing in {kind:?}"
                );
            }
            let device = ts
                .types_of(asm)
                .iter()
                .find(|t| ts.info(**t).full_name() == "VirtioBlk.VirtioBlkDevice")
                .unwrap();
            assert_eq!(
                ts.info(*device).fields.len(),
                normal_fields + 1,
                "the request counter"
            );
            let mut dump = String::new();
            cil_compat::dump::dump_assembly(&ts, asm, &mut dump);
            assert!(
                !dump.contains("=<"),
                "{kind:?}: dump reports an error:\n{dump}"
            );
            let mut engine = cil_compat::exec::cli::engine(ts);
            for m in [
                "VirtioBlk.FaultInjection::BeforeRequest",
                "VirtioBlk.FaultInjection::Corrupt",
                "VirtioBlk.VirtioBlkDevice::Flush",
                "VirtioBlk.VirtioBlkDevice::TransferCorrupted",
            ] {
                let (text, failed) = cil_compat::exec::cli::disasm(&mut engine, asm, m)
                    .unwrap_or_else(|e| panic!("{kind:?}: JIT of {m}: {e}"));
                assert!(failed.is_empty(), "{kind:?}: JIT of {m}:\n{text}");
            }
        }
    }
}
