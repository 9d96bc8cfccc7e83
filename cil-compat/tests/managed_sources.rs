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
        out.push((fd.name.to_string(), v));
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

#[path = "managed_sources/jit_run.rs"]
mod jit_run;
