//! Shared helpers for the loader tests: build the corlib and the test corpora with
//! mcs/ilasm (into target/managed, skipped when up to date) and load them.
#![allow(dead_code)]

pub mod family;

use std::path::{Path, PathBuf};

use cil_compat::metadata::Token;
use cil_compat::toolchain;
use cil_compat::types::{AsmId, FieldId, MethodId, TypeId, TypeSystem};

pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

pub fn corlib() -> PathBuf {
    toolchain::corlib().expect("build corlib")
}

pub fn layouts() -> PathBuf {
    toolchain::build_library("LoaderLayouts", &[tests_dir().join("cs/Layouts.cs")], &[])
        .expect("build Layouts.cs")
}

pub fn dependent() -> PathBuf {
    let l = layouts();
    // The reference is by assembly name: keep the file name equal to it.
    toolchain::build_library(
        "LoaderDependent",
        &[tests_dir().join("cs/Dependent.cs")],
        &[l],
    )
    .expect("build Dependent.cs")
}

pub fn value_arrays() -> PathBuf {
    toolchain::build_il("ValueArrays", &tests_dir().join("il/ValueArrays.il"))
        .expect("ilasm ValueArrays.il")
}

/// All real assemblies the tests use, in dependency order.
pub fn all_assemblies() -> Vec<PathBuf> {
    vec![corlib(), layouts(), dependent(), value_arrays()]
}

pub struct Loaded {
    pub ts: TypeSystem,
    pub corlib: AsmId,
    pub layouts: AsmId,
    pub dependent: AsmId,
    pub il: AsmId,
}

pub fn load_all() -> Loaded {
    let paths = all_assemblies();
    let mut ts = TypeSystem::new();
    let mut ids = Vec::new();
    for p in &paths {
        let bytes = std::fs::read(p).unwrap();
        ids.push(
            ts.load(bytes)
                .unwrap_or_else(|e| panic!("load {}: {e}", p.display())),
        );
    }
    Loaded {
        ts,
        corlib: ids[0],
        layouts: ids[1],
        dependent: ids[2],
        il: ids[3],
    }
}

pub fn ty(ts: &TypeSystem, full: &str) -> TypeId {
    ts.find_type_by_full_name(full)
        .unwrap_or_else(|| panic!("type {full} not found"))
}

pub fn field(ts: &TypeSystem, t: &str, f: &str) -> FieldId {
    let tid = ty(ts, t);
    ts.find_field(tid, f)
        .unwrap_or_else(|| panic!("field {t}::{f} not found"))
}

pub fn offset(ts: &TypeSystem, t: &str, f: &str) -> u32 {
    ts.field(field(ts, t, f)).offset
}

pub fn method(ts: &TypeSystem, t: &str, m: &str) -> MethodId {
    let tid = ty(ts, t);
    ts.find_method(tid, m)
        .unwrap_or_else(|| panic!("method {t}::{m} not found"))
}

/// Operand tokens of every occurrence of `opcode` (one-byte opcodes with a 4-byte
/// token operand) in a method's IL. A small decoder that knows operand sizes.
pub fn tokens_of(ts: &TypeSystem, m: MethodId, opcode: u8) -> Vec<Token> {
    let body = ts.method_body(m).unwrap().expect("method has a body");
    let code = body.code;
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < code.len() {
        let op = code[i];
        i += 1;
        let operand = match op {
            0xFE => {
                let op2 = code[i];
                i += 1;
                match op2 {
                    0x06 | 0x07 | 0x15 | 0x16 | 0x1C | 0x1D => 4, // ldftn ldvirtftn initobj constrained sizeof
                    0x09..=0x0E => 2,
                    0x12 | 0x19 => 1,
                    _ => 0,
                }
            }
            0x0E..=0x13 | 0x1F | 0x2B..=0x37 | 0xDE => 1,
            0x20
            | 0x22
            | 0x28..=0x29
            | 0x38..=0x44
            | 0x6F..=0x75
            | 0x79
            | 0x7B..=0x81
            | 0x8C..=0x8D
            | 0x8F
            | 0xA3..=0xA5
            | 0xC2
            | 0xC6
            | 0xD0
            | 0xDD => 4,
            0x21 | 0x23 => 8,
            0x45 => {
                let n = u32::from_le_bytes(code[i..i + 4].try_into().unwrap()) as usize;
                4 + 4 * n
            }
            _ => 0,
        };
        if op == opcode && operand == 4 {
            out.push(Token(u32::from_le_bytes(
                code[i..i + 4].try_into().unwrap(),
            )));
        }
        i += operand;
    }
    out
}

/// The managed DDK, `Ddk.dll`, compiled (skipped when up to date).
pub fn ddk() -> PathBuf {
    let src = toolchain::managed_src_dir().join("ddk");
    toolchain::build_library("Ddk", &toolchain::cs_files(&src).unwrap(), &[]).expect("mcs: Ddk")
}

/// corlib, the managed DDK and the virtio-blk driver loaded and bound to
/// the fake platform's ABI table, as the kernel hosts them (collections may
/// run inside driver calls). The caller holds its test file's engine turn:
/// one engine may be active per process.
pub fn hosted_runtime() -> cil_compat::hosting::driver::SharedRuntime {
    let corlib = toolchain::corlib().expect("build corlib");
    let (ddk_dll, drv) = ddk_and_driver();
    let files = cil_compat::host::read_assemblies(&[&corlib, &ddk_dll, &drv]).unwrap();
    let named = cil_compat::host::as_named(&files);
    // SAFETY: the fake platform table upholds the ABI contracts; the caller
    // guarantees no other engine is active.
    let mut rt = unsafe {
        cil_compat::hosting::Runtime::new(
            &named,
            Box::new(cil_compat::exec::cli::MmapMemory::new()),
            &ddk::testing::FAKE_ABI,
        )
    }
    .expect("hosting: load and bind");
    rt.engine.gc.hosted = true;
    std::rc::Rc::new(std::cell::RefCell::new(rt))
}

/// `n` 4 KiB-aligned LBAs (512-byte blocks) on a disk of `sectors`, drawn
/// from xorshift64 started at `seed`, as the kernel's benchmark draws them.
pub fn random_4k_lbas(n: usize, sectors: usize, seed: u64) -> Vec<u64> {
    let mut x = seed;
    let slots = (sectors / 8) as u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % slots * 8
        })
        .collect()
}

/// The managed DDK and the managed virtio-blk driver, compiled.
pub fn ddk_and_driver() -> (PathBuf, PathBuf) {
    let ddk = ddk();
    let src = toolchain::managed_src_dir().join("drivers/virtio-blk");
    let drv = toolchain::build_library(
        "VirtioBlk",
        &toolchain::cs_files(&src).unwrap(),
        std::slice::from_ref(&ddk),
    )
    .expect("mcs: VirtioBlk");
    (ddk, drv)
}
