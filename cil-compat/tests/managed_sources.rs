//! The managed DDK (`managed/ddk`, assembly `Ddk`) and the managed virtio-blk driver
//! (`managed/drivers/virtio-blk`, assembly `VirtioBlk`) compile with mcs against our
//! corlib, load with the loader, resolve every token their method bodies use, lay out
//! the device-visible structs exactly as the Rust DDK does (ECMA-335 §II.10.7), and
//! import exactly the DDK ABI entries by name with matching signatures.

use std::path::PathBuf;

use cil_compat::metadata::sig::Prim;
use cil_compat::metadata::{ConstantRow, TableId, Token, US_TOKEN_KIND};
use cil_compat::toolchain;
use cil_compat::types::{AsmId, MethodId, TypeId, TypeKind, TypeSystem};
use ddk::abi::{AbiKind, ENTRIES};

use cil_compat::hosting::imports::{abi_kind, RUNTIME_SERVICES};

fn sources(dir: &str) -> Vec<PathBuf> {
    let d = toolchain::managed_src_dir().join(dir);
    let v = toolchain::cs_files(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    assert!(!v.is_empty(), "no C# sources in {}", d.display());
    v
}

/// Builds `Ddk.dll` and `VirtioBlk.dll` (file names = assembly names, which is how
/// references bind) and returns (corlib, ddk, driver).
fn build() -> (PathBuf, PathBuf, PathBuf) {
    let corlib = toolchain::corlib().expect("build corlib");
    let ddk = toolchain::build_library("Ddk", &sources("ddk"), &[]).expect("mcs: managed DDK");
    let drv = toolchain::build_library(
        "VirtioBlk",
        &sources("drivers/virtio-blk"),
        std::slice::from_ref(&ddk),
    )
    .expect("mcs: managed virtio-blk");
    (corlib, ddk, drv)
}

struct Loaded {
    ts: TypeSystem,
    ddk: AsmId,
    drv: AsmId,
}

fn load() -> Loaded {
    let (corlib, ddk, drv) = build();
    let mut ts = TypeSystem::new();
    let mut ids = Vec::new();
    for p in [&corlib, &ddk, &drv] {
        let bytes = std::fs::read(p).unwrap();
        ids.push(
            ts.load(bytes)
                .unwrap_or_else(|e| panic!("load {}: {e}", p.display())),
        );
    }
    assert_eq!(ts.assembly_name(ids[1]), "Ddk");
    assert_eq!(ts.assembly_name(ids[2]), "VirtioBlk");
    Loaded {
        ts,
        ddk: ids[1],
        drv: ids[2],
    }
}

fn ty(ts: &TypeSystem, full: &str) -> TypeId {
    ts.find_type_by_full_name(full)
        .unwrap_or_else(|| panic!("type {full} not found"))
}

fn size(ts: &TypeSystem, full: &str) -> u32 {
    ts.value_layout(ty(ts, full))
        .unwrap_or_else(|e| panic!("{full}: {e}"))
        .size
}

fn offset(ts: &TypeSystem, full: &str, field: &str) -> usize {
    let f = ts
        .find_field(ty(ts, full), field)
        .unwrap_or_else(|| panic!("{full}::{field} not found"));
    ts.field(f).offset as usize
}

fn component_size(ts: &mut TypeSystem, full: &str) -> u32 {
    let t = ty(ts, full);
    let at = ts.array_of(t).unwrap();
    ts.mt(at).component_size
}

/// Operand size of each CIL opcode and whether the operand is a metadata token
/// (ECMA-335 Partition III). `None` for an opcode this table does not know.
fn operand(code: &[u8], i: usize) -> Option<(usize, usize, bool)> {
    let op = *code.get(i)?;
    if op == 0xFE {
        let op2 = *code.get(i + 1)?;
        let (n, tok) = match op2 {
            0x06 | 0x07 | 0x15 | 0x16 | 0x1C => (4, true),
            0x09..=0x0E => (2, false),
            0x12 | 0x19 => (1, false),
            0x00..=0x05 | 0x0F | 0x11 | 0x13 | 0x14 | 0x17 | 0x18 | 0x1A | 0x1D | 0x1E => {
                (0, false)
            }
            _ => return None,
        };
        return Some((2, n, tok));
    }
    let (n, tok) = match op {
        0x0E..=0x13 | 0x1F | 0x2B..=0x37 | 0xDE => (1, false),
        0x20 | 0x22 | 0x38..=0x44 | 0xDD => (4, false),
        0x21 | 0x23 => (8, false),
        0x45 => {
            let count = u32::from_le_bytes(code.get(i + 1..i + 5)?.try_into().ok()?) as usize;
            (4 + 4 * count, false)
        }
        0x27..=0x29
        | 0x6F..=0x75
        | 0x79
        | 0x7B..=0x81
        | 0x8C
        | 0x8D
        | 0x8F
        | 0xA3..=0xA5
        | 0xC2
        | 0xC6
        | 0xD0 => (4, true),
        _ => (0, false),
    };
    Some((1, n, tok))
}

/// Resolves every token operand in every method body of `asm`; returns how many.
fn resolve_all_body_tokens(ts: &mut TypeSystem, asm: AsmId) -> usize {
    let methods: Vec<MethodId> = ts
        .types_of(asm)
        .to_vec()
        .into_iter()
        .flat_map(|t| ts.info(t).methods.clone())
        .collect();
    let mut resolved = 0;
    for m in methods {
        let name = format!(
            "{}::{}",
            ts.type_name(ts.method(m).owner),
            ts.method(m).name
        );
        let Some(body) = ts.method_body(m).unwrap_or_else(|e| panic!("{name}: {e}")) else {
            continue;
        };
        let code = body.code.to_vec();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < code.len() {
            let (oplen, n, tok) =
                operand(&code, i).unwrap_or_else(|| panic!("{name}: unknown opcode at IL_{i:04x}"));
            if tok {
                let raw = u32::from_le_bytes(code[i + oplen..i + oplen + 4].try_into().unwrap());
                tokens.push((i, Token(raw)));
            }
            i += oplen + n;
        }
        assert_eq!(i, code.len(), "{name}: IL ends inside an instruction");
        for (at, tok) in tokens {
            let r = if tok.kind() == US_TOKEN_KIND {
                ts.string_literal(asm, tok).map(|_| ())
            } else {
                ts.resolve_token(asm, tok).map(|_| ())
            };
            r.unwrap_or_else(|e| panic!("{name} IL_{at:04x}: token {tok}: {e}"));
            resolved += 1;
        }
    }
    resolved
}

#[test]
fn ddk_and_driver_compile_load_and_resolve_every_reference() {
    let mut l = load();
    // Every TypeRef and MemberRef of both assemblies (what crosses assemblies).
    for asm in [l.ddk, l.drv] {
        for table in [TableId::TypeRef, TableId::MemberRef, TableId::TypeSpec] {
            let rows = l.ts.metadata(asm).unwrap().row_count(table);
            for row in 1..=rows {
                let tok = Token::new(table, row);
                l.ts.resolve_token(asm, tok).unwrap_or_else(|e| {
                    panic!("{}: {table:?} row {row}: {e}", l.ts.assembly_name(asm))
                });
            }
        }
    }
    let ddk_tokens = resolve_all_body_tokens(&mut l.ts, l.ddk);
    let drv_tokens = resolve_all_body_tokens(&mut l.ts, l.drv);
    assert!(ddk_tokens > 100, "Ddk bodies use {ddk_tokens} tokens");
    assert!(drv_tokens > 300, "VirtioBlk bodies use {drv_tokens} tokens");
    // The driver's entry points exist with the shapes the runtime calls.
    let driver = ty(&l.ts, "VirtioBlk.Driver");
    let bdf = l.ts.find_method(driver, "ProbeBdf").expect("ProbeBdf");
    let d = l.ts.method(bdf);
    assert!(d.is_static());
    assert_eq!(d.sig.params.len(), 1);
    assert_eq!(
        l.ts.info(d.sig.params[0]).kind,
        TypeKind::Primitive(Prim::U4)
    );
    assert_eq!(l.ts.info(d.sig.ret).kind, TypeKind::Primitive(Prim::U4));
    // The device is an IBlockDevice (interface dispatch from the ABI callbacks).
    let dev = ty(&l.ts, "VirtioBlk.VirtioBlkDevice");
    let iface = ty(&l.ts, "Ddk.IBlockDevice");
    assert!(
        l.ts.info(dev).interfaces.iter().any(|m| m.iface == iface),
        "VirtioBlkDevice implements Ddk.IBlockDevice"
    );
    for t in ["VirtioBlk.ModernTransport", "VirtioBlk.LegacyTransport"] {
        assert_eq!(
            l.ts.info(ty(&l.ts, t)).parent,
            Some(ty(&l.ts, "VirtioBlk.VirtioTransport"))
        );
    }
}

#[test]
fn device_visible_structs_have_the_rust_layouts() {
    use core::mem::{offset_of, size_of};
    use ddk::virtio::{VirtioBlkReqHeader, VirtqDesc, VirtqUsedElem};
    let mut l = load();
    let ts = &mut l.ts;

    // Seed bug: PciAddress is 3 bytes in managed code too (Pack = 1, no rounding).
    assert_eq!(size(ts, "Ddk.PciAddress"), 3);
    assert_eq!(
        size(ts, "Ddk.PciAddress") as usize,
        size_of::<ddk::PciAddress>()
    );
    assert_eq!(
        [
            offset(ts, "Ddk.PciAddress", "Bus"),
            offset(ts, "Ddk.PciAddress", "Device"),
            offset(ts, "Ddk.PciAddress", "Function"),
        ],
        [0, 1, 2]
    );

    assert_eq!(size(ts, "VirtioBlk.VirtqDesc"), 16);
    assert_eq!(
        size(ts, "VirtioBlk.VirtqDesc") as usize,
        size_of::<VirtqDesc>()
    );
    assert_eq!(
        [
            offset(ts, "VirtioBlk.VirtqDesc", "Addr"),
            offset(ts, "VirtioBlk.VirtqDesc", "Len"),
            offset(ts, "VirtioBlk.VirtqDesc", "Flags"),
            offset(ts, "VirtioBlk.VirtqDesc", "Next"),
        ],
        [
            offset_of!(VirtqDesc, addr),
            offset_of!(VirtqDesc, len),
            offset_of!(VirtqDesc, flags),
            offset_of!(VirtqDesc, next),
        ]
    );
    assert_eq!(offset(ts, "VirtioBlk.VirtqDesc", "Next"), 14);

    assert_eq!(size(ts, "VirtioBlk.VirtqUsedElem"), 8);
    assert_eq!(
        size(ts, "VirtioBlk.VirtqUsedElem") as usize,
        size_of::<VirtqUsedElem>()
    );
    assert_eq!(
        offset(ts, "VirtioBlk.VirtqUsedElem", "Len"),
        offset_of!(VirtqUsedElem, len)
    );

    assert_eq!(size(ts, "VirtioBlk.VirtioBlkReqHeader"), 16);
    assert_eq!(
        size(ts, "VirtioBlk.VirtioBlkReqHeader") as usize,
        size_of::<VirtioBlkReqHeader>()
    );
    assert_eq!(
        offset(ts, "VirtioBlk.VirtioBlkReqHeader", "Sector"),
        offset_of!(VirtioBlkReqHeader, sector)
    );

    // BlockDeviceDesc crosses the ABI by pointer: every field where Rust has it.
    use ddk::abi::BlockDeviceDesc as D;
    assert_eq!(size(ts, "Ddk.BlockDeviceDesc") as usize, size_of::<D>());
    for (cs, rust) in [
        ("Size", offset_of!(D, size)),
        ("BlockSize", offset_of!(D, block_size)),
        ("BlockCount", offset_of!(D, block_count)),
        ("ReadOnly", offset_of!(D, read_only)),
        ("Reserved", offset_of!(D, reserved)),
        ("Name", offset_of!(D, name)),
        ("NameLength", offset_of!(D, name_len)),
        ("Context", offset_of!(D, ctx)),
        ("Read", offset_of!(D, read)),
        ("Write", offset_of!(D, write)),
        ("Flush", offset_of!(D, flush)),
    ] {
        assert_eq!(
            offset(ts, "Ddk.BlockDeviceDesc", cs),
            rust,
            "BlockDeviceDesc.{cs}"
        );
    }
    // BlockRequest crosses by pointer too (`BlockDevices.ReadMany`).
    use ddk::abi::BlockReadRequest as R;
    assert_eq!(size(ts, "Ddk.BlockRequest") as usize, size_of::<R>());
    for (cs, rust) in [
        ("Lba", offset_of!(R, lba)),
        ("Buffer", offset_of!(R, buf)),
        ("Length", offset_of!(R, len)),
        ("Status", offset_of!(R, status)),
        ("Reserved", offset_of!(R, reserved)),
    ] {
        assert_eq!(
            offset(ts, "Ddk.BlockRequest", cs),
            rust,
            "BlockRequest.{cs}"
        );
    }

    // PciDeviceInfo crosses the ABI by pointer (`pci_device_info`): every field
    // where Rust has it, the BARs as six 24-byte PciBarInfo, the caps as bytes.
    use ddk::pci::{PciBarInfo as B, PciDeviceInfo as I};
    assert_eq!(size(ts, "Ddk.PciBarInfo") as usize, size_of::<B>());
    for (cs, rust) in [
        ("Kind", offset_of!(B, kind)),
        ("Flags", offset_of!(B, flags)),
        ("Address", offset_of!(B, address)),
        ("Size", offset_of!(B, size)),
    ] {
        assert_eq!(offset(ts, "Ddk.PciBarInfo", cs), rust, "PciBarInfo.{cs}");
    }
    assert_eq!(size(ts, "Ddk.PciDeviceInfo"), 264);
    assert_eq!(size(ts, "Ddk.PciDeviceInfo") as usize, size_of::<I>());
    let bar = |i: usize| offset_of!(I, bars) + i * size_of::<B>();
    for (cs, rust) in [
        ("Size", offset_of!(I, size)),
        ("VendorId", offset_of!(I, vendor_id)),
        ("DeviceId", offset_of!(I, device_id)),
        ("SubsystemVendorId", offset_of!(I, subsystem_vendor_id)),
        ("SubsystemId", offset_of!(I, subsystem_id)),
        ("Class", offset_of!(I, class)),
        ("Subclass", offset_of!(I, subclass)),
        ("ProgIf", offset_of!(I, prog_if)),
        ("Revision", offset_of!(I, revision)),
        ("HeaderType", offset_of!(I, header_type)),
        ("InterruptLine", offset_of!(I, interrupt_line)),
        ("InterruptPin", offset_of!(I, interrupt_pin)),
        ("Reserved", offset_of!(I, reserved)),
        ("CapCount", offset_of!(I, cap_count)),
        ("Bar0", bar(0)),
        ("Bar1", bar(1)),
        ("Bar2", bar(2)),
        ("Bar3", bar(3)),
        ("Bar4", bar(4)),
        ("Bar5", bar(5)),
        ("Caps", offset_of!(I, caps)),
    ] {
        assert_eq!(
            offset(ts, "Ddk.PciDeviceInfo", cs),
            rust,
            "PciDeviceInfo.{cs}"
        );
    }
    assert_eq!(
        size_of::<I>() - offset_of!(I, caps),
        2 * ddk::pci::MAX_CAPABILITIES,
        "Caps is 48 (id, offset) byte pairs, up to the end"
    );

    // Seed bug 1: arrays of structs are sized by the element, not by a pointer.
    assert_eq!(component_size(ts, "VirtioBlk.VirtqDesc"), 16);
    assert_eq!(component_size(ts, "VirtioBlk.VirtqUsedElem"), 8);
    assert_eq!(component_size(ts, "VirtioBlk.VirtioBlkReqHeader"), 16);
    assert_eq!(component_size(ts, "Ddk.PciAddress"), 3);
    assert_eq!(component_size(ts, "Ddk.Bar"), size(ts, "Ddk.Bar"));
    assert_eq!(
        size(ts, "Ddk.Bar"),
        32,
        "kind + address + size + prefetchable"
    );
    assert_eq!(component_size(ts, "VirtioBlk.Segment"), 16);
    assert_eq!(
        component_size(ts, "VirtioBlk.CapInfo"),
        size(ts, "VirtioBlk.CapInfo")
    );
    // Value types that carry a reference keep it where the GC can find it.
    let ir = ts.value_layout(ty(ts, "VirtioBlk.InitResult")).unwrap();
    assert_eq!((ir.size, ir.gc_refs.clone()), (16, vec![8]));
    // Seed bug 3: class fields sit after the object header, struct fields from 0.
    assert!(offset(ts, "Ddk.PciDevice", "Address") >= 8);
    assert_eq!(offset(ts, "Ddk.MmioRegion", "_handle"), 0);
}

#[test]
fn abi_imports_bind_by_name_to_every_ddk_entry_with_matching_signatures() {
    let l = load();
    let ts = &l.ts;
    let abi = ty(ts, "Ddk.Abi");
    let mut seen = Vec::new();
    for &m in &ts.info(abi).methods {
        let d = ts.method(m);
        assert!(
            d.is_internal_call(),
            "Ddk.Abi::{} is not an InternalCall",
            d.name
        );
        assert!(
            d.is_static() && !d.sig.has_this,
            "Ddk.Abi::{} must be static",
            d.name
        );
        let e = ddk::abi::entry(&d.name)
            .unwrap_or_else(|| panic!("Ddk.Abi::{} names no ddk::abi entry", d.name));
        assert_eq!(
            d.sig.params.len(),
            e.params.len(),
            "Ddk.Abi::{} parameter count",
            d.name
        );
        let kinds: Vec<Option<AbiKind>> = d.sig.params.iter().map(|p| abi_kind(ts, *p)).collect();
        let want: Vec<Option<AbiKind>> = e.params.iter().map(|k| Some(*k)).collect();
        assert_eq!(kinds, want, "Ddk.Abi::{} parameter kinds", d.name);
        assert_eq!(
            abi_kind(ts, d.sig.ret),
            Some(e.ret),
            "Ddk.Abi::{} result",
            d.name
        );
        seen.push(d.name.clone());
    }
    seen.sort();
    let mut all: Vec<String> = ENTRIES.iter().map(|e| e.name.to_string()).collect();
    all.sort();
    assert_eq!(seen, all, "Ddk.Abi imports every entry exactly once");

    // Everything else without IL is either a documented runtime service, an
    // abstract/interface method, or a delegate's runtime-implemented method.
    for asm in [l.ddk, l.drv] {
        for &t in ts.types_of(asm) {
            if t == abi {
                continue;
            }
            for &m in &ts.info(t).methods {
                let d = ts.method(m);
                let owner = ts.type_name(d.owner);
                if d.rva != 0 || d.is_abstract() {
                    continue;
                }
                let runtime_impl = d.impl_flags & 0x3 == 0x3;
                let parent = ts.info(t).parent.map(|p| ts.type_name(p));
                if runtime_impl && parent.as_deref() == Some("System.MulticastDelegate") {
                    continue;
                }
                assert!(
                    d.is_internal_call()
                        && owner == "Ddk.Runtime"
                        && RUNTIME_SERVICES.contains(&d.name.as_str()),
                    "{owner}::{} has no body and is not a documented runtime service",
                    d.name
                );
            }
        }
    }
}

/// The numeric value of an enum member (its Constant row).
fn enum_values(ts: &TypeSystem, full: &str) -> Vec<(String, u32)> {
    let t = ty(ts, full);
    let mut out = Vec::new();
    for &f in &ts.info(t).fields {
        let fd = ts.field(f);
        if !fd.is_literal() {
            continue;
        }
        let md = ts.metadata(fd.asm).unwrap();
        let rows = md.row_count(TableId::Constant);
        let v = (1..=rows)
            .map(|r| md.row::<ConstantRow>(r).unwrap())
            .find(|c| Token(c.parent) == fd.token)
            .map(|c| {
                let b = md.blob(c.value).unwrap();
                u32::from_le_bytes(b[..4].try_into().unwrap())
            })
            .unwrap_or_else(|| panic!("{full}.{} has no constant", fd.name));
        out.push((fd.name.clone(), v));
    }
    out
}

#[test]
fn managed_error_codes_are_the_abi_codes() {
    let l = load();
    let ddk_errors = enum_values(&l.ts, "Ddk.DdkError");
    assert_eq!(ddk_errors.len(), 9, "None + the 8 DdkError variants");
    for (name, v) in &ddk_errors {
        if name == "None" {
            assert_eq!(*v, ddk::abi::STATUS_OK);
            continue;
        }
        let rust = ddk::abi::DdkError::from_u32(*v)
            .unwrap_or_else(|| panic!("Ddk.DdkError.{name} = {v} is no ddk::abi::DdkError"));
        assert_eq!(&format!("{rust:?}"), name, "code {v}");
    }
    let block_errors = enum_values(&l.ts, "Ddk.BlockError");
    assert_eq!(block_errors.len(), 11, "None + the 10 BlockError variants");
    for (name, v) in &block_errors {
        if name == "None" {
            assert_eq!(*v, 0);
            continue;
        }
        let rust = ddk::BlockError::from_u32(*v)
            .unwrap_or_else(|| panic!("Ddk.BlockError.{name} = {v} is no ddk::BlockError"));
        assert_eq!(&format!("{rust:?}"), name, "code {v}");
    }
    for (name, v) in enum_values(&l.ts, "Ddk.LogLevel") {
        let rust = ddk::abi::LogLevel::from_u32(v);
        assert_eq!(format!("{rust:?}"), name, "log level {v}");
    }
}

#[test]
fn managed_abi_version_is_the_ddk_abi_version() {
    let l = load();
    assert_eq!(
        enum_values(&l.ts, "Ddk.Abi"),
        vec![(String::from("Version"), ddk::abi::DDK_ABI_VERSION)]
    );
}

// ------------------------------------------------------------------------------
// The driver running: JIT-compiled by our engine, its `Ddk.Abi` imports bound to
// ddk::testing's fake platform table, against the virtio-blk device model.

mod jit_run {
    use super::*;
    use cil_compat::exec::cli;
    use cil_compat::hosting::driver::SharedRuntime;
    use cil_compat::hosting::{ManagedDriver, Runtime};
    use ddk::testing::{self, BlkOptions, Fault, VirtioBlkDevice};
    use ddk::virtio::features;
    use ddk::PciAddress;
    use std::cell::RefCell;
    use std::rc::Rc;

    const ADDR: PciAddress = PciAddress::new_truncate(0, 3, 0);
    const SECTORS: usize = 4096;
    const TIMEOUT_NS: u64 = 50_000_000;

    fn image() -> Vec<u8> {
        (0..SECTORS * 512)
            .map(|i| (i * 7 + i / 512 * 13) as u8)
            .collect()
    }

    /// The harness's checksum.
    fn sum(b: &[u8]) -> i64 {
        b.iter()
            .fold(0i64, |s, &x| s.wrapping_mul(31).wrapping_add(x as i64))
    }

    fn pattern(len: usize, seed: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + seed) as u8).collect()
    }

    /// The harness's entry points as native function pointers (all-integer
    /// signatures, so the managed convention is SysV).
    /// One engine may be active per process (runtime helpers find it through a
    /// global): the JIT tests take turns.
    static ENGINE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    struct Harness {
        rt: SharedRuntime,
        // Dropped after the engine.
        _turn: std::sync::MutexGuard<'static, ()>,
        up: extern "C" fn(u32, u64) -> i64,
        read_sum: extern "C" fn(u64, i32) -> i64,
        write_pattern: extern "C" fn(u64, i32, i32) -> i64,
        read_into: extern "C" fn(u64, *mut u8, u64) -> i64,
        write_from: extern "C" fn(u64, *const u8, u64) -> i64,
        flush: extern "C" fn() -> i64,
        info: extern "C" fn() -> i64,
        features: extern "C" fn() -> i64,
        recoveries: extern "C" fn() -> i64,
        read_only: extern "C" fn() -> i64,
        down: extern "C" fn() -> i64,
        probe_bdf: extern "C" fn(u32) -> u32,
        last_device_id: extern "C" fn() -> u32,
    }

    fn harness() -> Harness {
        let turn = ENGINE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let (corlib, ddk_dll, drv) = build();
        let h = toolchain::build_library(
            "VirtioBlkHarness",
            &[toolchain::managed_src_dir().join("drivers/virtio-blk/tests/Harness.cs")],
            &[ddk_dll.clone(), drv.clone()],
        )
        .expect("mcs: harness");
        let files = cil_compat::host::read_assemblies(&[&corlib, &ddk_dll, &drv, &h]).unwrap();
        let named = cil_compat::host::as_named(&files);
        // SAFETY: the fake platform table upholds the ABI contracts; the
        // ENGINE_LOCK turn guarantees no other engine is active.
        let rt =
            unsafe { Runtime::new(&named, Box::new(cli::MmapMemory::new()), &testing::FAKE_ABI) }
                .expect("hosting: load and bind");
        assert_eq!(rt.bound.abi_imports, ENTRIES.len());
        assert_eq!(rt.bound.runtime_services, RUNTIME_SERVICES.len());
        let rt = Rc::new(RefCell::new(rt));
        let code = |ty: &str, name: &str| -> u64 {
            rt.borrow_mut()
                .compile(ty, name)
                .unwrap_or_else(|err| panic!("JIT {ty}::{name}: {err}"))
        };
        macro_rules! f {
            ($ty:literal, $name:literal, $sig:ty) => {
                // SAFETY: JIT code of a static method whose parameters and result
                // are the integers/pointers of `$sig`; the managed convention for
                // such methods is SysV.
                unsafe { std::mem::transmute::<u64, $sig>(code($ty, $name)) }
            };
        }
        type F0 = extern "C" fn() -> i64;
        Harness {
            up: f!("Harness", "Up", extern "C" fn(u32, u64) -> i64),
            read_sum: f!("Harness", "ReadSum", extern "C" fn(u64, i32) -> i64),
            write_pattern: f!(
                "Harness",
                "WritePattern",
                extern "C" fn(u64, i32, i32) -> i64
            ),
            read_into: f!(
                "Harness",
                "ReadInto",
                extern "C" fn(u64, *mut u8, u64) -> i64
            ),
            write_from: f!(
                "Harness",
                "WriteFrom",
                extern "C" fn(u64, *const u8, u64) -> i64
            ),
            flush: f!("Harness", "Flush", F0),
            info: f!("Harness", "Info", F0),
            features: f!("Harness", "Features", F0),
            recoveries: f!("Harness", "Recoveries", F0),
            read_only: f!("Harness", "ReadOnly", F0),
            down: f!("Harness", "Down", F0),
            probe_bdf: f!("VirtioBlk.Driver", "ProbeBdf", extern "C" fn(u32) -> u32),
            last_device_id: f!(
                "VirtioBlk.Driver",
                "get_LastDeviceId",
                extern "C" fn() -> u32
            ),
            rt,
            _turn: turn,
        }
    }

    fn device(h: &Harness, opts: BlkOptions) -> VirtioBlkDevice {
        testing::reset();
        testing::settings(|s| s.echo_logs = false);
        let dev = VirtioBlkDevice::new(image(), opts);
        dev.install(ADDR);
        assert_eq!(
            (h.up)(ADDR.to_abi_u32(), TIMEOUT_NS),
            SECTORS as i64,
            "driver up"
        );
        dev
    }

    fn round_trip(h: &Harness, dev: &VirtioBlkDevice) {
        let img = image();
        assert_eq!((h.read_sum)(5, 1), sum(&img[5 * 512..6 * 512]));
        assert_eq!((h.read_sum)(1000, 64), sum(&img[1000 * 512..1064 * 512]));
        assert_eq!((h.write_pattern)(200, 24, 3), 0);
        let data = pattern(24 * 512, 3);
        assert_eq!(
            &dev.image()[200 * 512..224 * 512],
            &data[..],
            "write reached the disk"
        );
        assert_eq!((h.read_sum)(200, 24), sum(&data));
        assert_eq!(
            &dev.image()[199 * 512..200 * 512],
            &img[199 * 512..200 * 512]
        );
        assert_eq!(
            &dev.image()[224 * 512..225 * 512],
            &img[224 * 512..225 * 512]
        );
        // Caller memory through IBlockDevice (the path the ABI callbacks take).
        let mut buf = vec![0u8; 8 * 512];
        assert_eq!((h.read_into)(300, buf.as_mut_ptr(), buf.len() as u64), 0);
        assert_eq!(&buf[..], &img[300 * 512..308 * 512]);
        let out = pattern(3 * 512, 11);
        assert_eq!((h.write_from)(400, out.as_ptr(), out.len() as u64), 0);
        assert_eq!(&dev.image()[400 * 512..403 * 512], &out[..]);
        assert_eq!((h.flush)(), 0);
        assert!(dev.violations().is_empty(), "{:?}", dev.violations());
    }

    #[test]
    fn managed_driver_runs_through_the_jit_against_the_device_model() {
        let h = harness();

        // Modern: data both ways, the same feature subset the native driver takes.
        let dev = device(&h, BlkOptions::default());
        round_trip(&h, &dev);
        let info = (h.info)();
        assert_eq!(
            (info >> 40, (info >> 16) & 0xffff, info & 0xffff),
            (0, 128, 126)
        );
        let f = (h.features)() as u64;
        assert_eq!(f, dev.stats().driver_features);
        let want = features::VERSION_1
            | features::BLK_FLUSH
            | features::BLK_SEG_MAX
            | features::BLK_BLK_SIZE;
        assert_eq!(f & want, want);
        assert_eq!(
            f & (features::EVENT_IDX | features::INDIRECT_DESC | features::BLK_RO),
            0
        );
        assert_eq!(dev.stats().flushes, 1);
        assert!(
            dev.stats().segments_in_caller_buffers > 0,
            "zero-copy into managed arrays"
        );
        // Requests the driver refuses before the device sees them.
        let mut odd = vec![0u8; 100];
        assert_eq!((h.read_into)(0, odd.as_mut_ptr(), 100), -5, "BadBuffer");
        assert_eq!((h.read_sum)(SECTORS as u64 - 1, 2), -4, "OutOfRange");
        let logs = testing::logs();
        assert!(
            logs.iter()
                .any(|(_, l)| l.starts_with("virtio-blk 00:03.0: modern transport, 4096 sectors")),
            "{logs:?}"
        );
        assert_eq!((h.down)(), 0);
        assert_eq!(dev.status(), 0, "Shutdown resets the device");

        // Legacy (I/O BAR0, 32 feature bits, fixed queue size).
        let dev = device(
            &h,
            BlkOptions {
                legacy: true,
                ..BlkOptions::default()
            },
        );
        round_trip(&h, &dev);
        assert_eq!((h.info)() >> 40, 1);
        assert_eq!((h.features)() as u64 & features::VERSION_1, 0);
        (h.down)();

        // No address translation (bounce buffer) and no clock (spin-bounded wait);
        // shutting down gives every DMA block back.
        testing::reset();
        testing::settings(|s| {
            s.echo_logs = false;
            s.clock = false;
        });
        testing::memory(|m| m.translate_enabled = false);
        let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
        dev.install(ADDR);
        assert_eq!((h.up)(ADDR.to_abi_u32(), TIMEOUT_NS), SECTORS as i64);
        round_trip(&h, &dev);
        assert_eq!(dev.stats().segments_in_caller_buffers, 0);
        assert!(dev.stats().segments_in_dma_alloc > 0, "bounce buffer used");
        assert_eq!((h.down)(), 0);
        assert_eq!(
            testing::memory(|m| (m.outstanding(), m.bad_frees())),
            (0, 0)
        );

        // Device-reported errors map to BlockError codes; protocol violations and
        // timeouts reset and re-initialise the device, which then works again.
        let dev = device(
            &h,
            BlkOptions {
                seg_max: Some(2),
                size_max: Some(1024),
                ..BlkOptions::default()
            },
        );
        let img = image();
        for (fault, code, recovers) in [
            (Fault::IoErr, -1, false),
            (Fault::Unsupp, -2, false),
            (Fault::BogusUsedId, -7, true),
            (Fault::StaleUsedId, -7, true),
            (Fault::BogusUsedLen, -7, true),
            (Fault::BadStatusByte, -7, true),
            (Fault::NeverComplete, -6, true),
        ] {
            let before = (h.recoveries)();
            dev.inject(fault);
            assert_eq!((h.read_sum)(7, 2), code, "{fault:?}");
            assert_eq!(
                (h.recoveries)() - before,
                recovers as i64,
                "{fault:?} recovery"
            );
            assert_eq!(
                (h.read_sum)(7, 2),
                sum(&img[7 * 512..9 * 512]),
                "after {fault:?}"
            );
        }
        // seg_max 2 / size_max 1024: a 64-block transfer is split, still correct.
        assert_eq!((h.read_sum)(1000, 64), sum(&img[1000 * 512..1064 * 512]));
        assert!(dev.stats().max_segments <= 2 && dev.stats().max_segment_len <= 1024);
        (h.down)();

        // Read-only devices refuse writes and flushes before the device sees them.
        let dev = device(
            &h,
            BlkOptions {
                read_only: true,
                ..BlkOptions::default()
            },
        );
        assert_eq!((h.read_only)(), 1);
        let writes = dev.stats().writes;
        assert_eq!((h.write_pattern)(10, 1, 0), -3, "ReadOnly");
        assert_eq!((h.flush)(), -3, "ReadOnly");
        assert_eq!(dev.stats().writes, writes);
        assert_eq!((h.read_sum)(10, 1), sum(&img[10 * 512..11 * 512]));
        (h.down)();
    }

    /// The managed probe reads the platform's enumeration (`pci_device_info`):
    /// bringing a device up writes no BAR register and never switches decoding
    /// off, on either transport.
    #[test]
    fn managed_driver_brings_a_device_up_without_sizing_bars() {
        let h = harness();
        for legacy in [false, true] {
            testing::reset();
            testing::settings(|s| s.echo_logs = false);
            let dev = VirtioBlkDevice::new(
                image(),
                BlkOptions {
                    legacy,
                    ..BlkOptions::default()
                },
            );
            dev.install(ADDR);
            testing::clear_config_writes();
            assert_eq!((h.up)(ADDR.to_abi_u32(), TIMEOUT_NS), SECTORS as i64);
            let img = image();
            assert_eq!((h.read_sum)(5, 1), sum(&img[5 * 512..6 * 512]));
            let writes = testing::config_writes();
            assert!(!writes.is_empty(), "decode and bus-master enables are seen");
            assert_eq!(
                writes.iter().filter(|w| w.hits_bar()).count(),
                0,
                "legacy={legacy}: BAR writes {writes:?}"
            );
            assert_eq!(
                writes.iter().filter(|w| w.turns_decoding_off()).count(),
                0,
                "legacy={legacy}: decode toggles {writes:?}"
            );
            assert_eq!((h.down)(), 0);
        }
    }

    /// With interrupts offered (`completion=irq`) the managed driver sets one
    /// up (MSI-X entry 0 modern, INTx legacy), waits on it (the device model
    /// completes only when the platform waits), moves the right bytes, and
    /// releases it on shutdown.
    #[test]
    fn managed_driver_completes_by_interrupt_on_both_transports() {
        let h = harness();
        for legacy in [false, true] {
            testing::reset();
            testing::settings(|s| {
                s.echo_logs = false;
                s.interrupts = true;
            });
            let dev = VirtioBlkDevice::new(
                image(),
                BlkOptions {
                    legacy,
                    ..BlkOptions::default()
                },
            );
            dev.install(ADDR);
            dev.defer_completions();
            assert_eq!((h.up)(ADDR.to_abi_u32(), TIMEOUT_NS), SECTORS as i64);
            assert_eq!(
                testing::irq_stats().0,
                1,
                "legacy={legacy}: one interrupt set up"
            );
            round_trip(&h, &dev);
            let (_, waits, fired) = testing::irq_stats();
            assert!(
                fired >= 5 && waits >= fired,
                "legacy={legacy}: {waits} waits, {fired} fired"
            );
            assert_eq!((h.down)(), 0);
            assert_eq!(
                testing::irq_stats().0,
                0,
                "legacy={legacy}: released by Shutdown"
            );
        }
    }

    /// The managed driver with a garbage collection before every allocation
    /// (on both transports, interrupts and polling): whatever the driver keeps
    /// (queues, request state, DMA bookkeeping) must be reachable from its
    /// statics or frames, or data and device state would go wrong here.
    #[test]
    fn managed_driver_runs_with_a_collection_before_every_allocation() {
        let h = harness();
        h.rt.borrow_mut().engine.gc.stress = 1;
        for (legacy, interrupts) in [(false, false), (true, true)] {
            // SAFETY: the harness keeps no object references across these
            // calls: it passes and gets back integers and native buffers.
            unsafe {
                cil_compat::exec::gc::with_managed_stack(|| {
                    testing::reset();
                    testing::settings(|s| {
                        s.echo_logs = false;
                        s.interrupts = interrupts;
                    });
                    let dev = VirtioBlkDevice::new(
                        image(),
                        BlkOptions {
                            legacy,
                            ..BlkOptions::default()
                        },
                    );
                    dev.install(ADDR);
                    assert_eq!((h.up)(ADDR.to_abi_u32(), TIMEOUT_NS), SECTORS as i64);
                    for _ in 0..3 {
                        round_trip(&h, &dev);
                    }
                    assert_eq!((h.down)(), 0);
                })
            };
        }
        let stats = h.rt.borrow().engine.ts.heap().stats();
        println!("{}", cli::gc_stats_line(&h.rt.borrow().engine));
        assert!(stats.collections >= 20, "{stats:?}");
    }

    /// The same driver bound and served through the hosting layer, as the
    /// kernel does, with collections enabled in hosted calls (`GcState::hosted`,
    /// off by default) and one before every allocation.
    #[test]
    fn hosted_driver_serves_requests_with_collections_in_hosted_calls() {
        use ddk::{BlockDevice, Lba};
        let h = harness();
        {
            let mut rt = h.rt.borrow_mut();
            rt.engine.gc.hosted = true;
            rt.engine.gc.stress = 1;
        }
        testing::reset();
        testing::settings(|s| s.echo_logs = false);
        let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
        dev.install(ADDR);
        let drivers = h.rt.borrow().drivers();
        let md = ManagedDriver::new(&h.rt, drivers[0].clone()).expect("entry points");
        let p = testing::platform();
        let pci = ddk::pci::PciDevice::probe(&p, ADDR).unwrap().unwrap();
        let mut blk = ddk::driver::Driver::bind(&md, p, &pci).expect("bind");
        let after_bind = h.rt.borrow().engine.ts.heap().stats().collections;
        let img = image();
        let mut buf = vec![0u8; 16 * 512];
        for round in 0..4u64 {
            blk.read_blocks(Lba::new(100 + round), &mut buf).unwrap();
            assert_eq!(&buf[..], &img[(100 + round as usize) * 512..][..16 * 512]);
            let data = pattern(4 * 512, round as usize);
            blk.write_blocks(Lba::new(50 + 8 * round), &data).unwrap();
            assert_eq!(
                &dev.image()[(50 + 8 * round as usize) * 512..][..4 * 512],
                &data[..]
            );
        }
        blk.flush().unwrap();
        assert!(dev.violations().is_empty(), "{:?}", dev.violations());
        let stats = h.rt.borrow().engine.ts.heap().stats();
        println!("{}", cli::gc_stats_line(&h.rt.borrow().engine));
        assert!(after_bind > 0, "collections ran during bind");
        assert!(stats.collections >= after_bind, "{stats:?}");
    }

    #[test]
    fn managed_driver_registers_through_block_register_and_serves_the_platform() {
        use ddk::{BlockDevice, BlockError, Lba};
        let h = harness();
        testing::reset();
        testing::settings(|s| s.echo_logs = false);
        let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
        dev.install(ADDR);

        // Nothing at 00:04.0: NoDevice, and nothing registered.
        let empty = PciAddress::new_truncate(0, 4, 0);
        assert_eq!(
            (h.probe_bdf)(empty.to_abi_u32()),
            ddk::DdkError::NoDevice as u32
        );
        assert_eq!(
            (h.probe_bdf)(0x0100_0000),
            ddk::DdkError::InvalidArgument as u32
        );

        assert_eq!((h.probe_bdf)(ADDR.to_abi_u32()), 0, "{:?}", testing::logs());
        let markers = testing::markers();
        let at = markers.iter().rposition(|&m| m == 0x4D42_0001).unwrap();
        assert!(
            markers[at..].starts_with(&[0x4D42_0001, 0x4D42_0002, 0x4D42_0003, 0x4D42_0004]),
            "{markers:x?}"
        );
        // ProbeBdf called directly (no hosting instance) registers with the
        // platform, as before hosting existed.
        let id = (h.last_device_id)();
        let (name, _) = testing::take_block_device(id).expect("registered block device");
        assert_eq!(name, "virtio-blk-managed 00:03.0");

        // Through the hosting layer, as the kernel binds it: a `Driver`.
        let drivers = h.rt.borrow().drivers();
        assert_eq!(drivers.len(), 1, "{drivers:?}");
        assert_eq!(drivers[0].name, "virtio-blk-managed");
        let md = ManagedDriver::new(&h.rt, drivers[0].clone()).expect("entry points");
        let p = testing::platform();
        let pci = ddk::pci::PciDevice::probe(&p, ADDR).unwrap().unwrap();
        assert!(ddk::driver::Driver::probe(&md, &pci));
        let other = ddk::pci::PciDevice {
            device_id: 0x1000,
            ..pci.clone()
        };
        assert!(!ddk::driver::Driver::probe(&md, &other), "a virtio-net id");
        let mut blk = ddk::driver::Driver::bind(&md, p, &pci).expect("bind");
        assert!(
            testing::take_block_device(id + 1).is_none(),
            "registration captured by hosting"
        );
        assert_eq!(
            (blk.block_size(), blk.block_count(), blk.is_read_only()),
            (512, SECTORS as u64, false)
        );

        // The platform calls back into JIT code through the descriptor.
        let img = image();
        let mut buf = vec![0u8; 16 * 512];
        blk.read_blocks(Lba::new(100), &mut buf).unwrap();
        assert_eq!(&buf[..], &img[100 * 512..116 * 512]);
        let data = pattern(4 * 512, 5);
        blk.write_blocks(Lba::new(50), &data).unwrap();
        assert_eq!(&dev.image()[50 * 512..54 * 512], &data[..]);
        blk.flush().unwrap();
        dev.inject(Fault::IoErr);
        assert_eq!(
            blk.read_blocks(Lba::new(1), &mut buf[..512]),
            Err(BlockError::Io)
        );
        assert_eq!(
            blk.read_blocks(Lba::new(SECTORS as u64), &mut buf[..512]),
            Err(BlockError::OutOfRange)
        );
        assert!(dev.violations().is_empty(), "{:?}", dev.violations());
    }
}
