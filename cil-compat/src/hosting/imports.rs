//! Binding managed imports: every InternalCall of `Ddk.Abi` to the DDK ABI
//! entry of the same name (signatures checked against `ddk::abi::ENTRIES`),
//! the `Ddk.Runtime` services to the runtime's helpers, and a check that no
//! other InternalCall outside the corlib is left without an implementation.
//!
//! Parameter mapping (managed → [`AbiKind`]): `byte`/`ushort`/`uint`/`ulong`
//! → U8/U16/U32/U64, `UIntPtr` → Usize, any pointer or `out`/`ref` → Ptr,
//! `Ddk.PciAddress` by value → PciAddress (one INTEGER register, SysV §3.2.3).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use ddk::abi::{AbiKind, DdkAbi, ENTRIES};

use super::{dma_guard, resources, HostError};
use crate::exec::Engine;
use crate::metadata::sig::Prim;
use crate::types::{TypeId, TypeKind, TypeSystem};

/// The class whose InternalCalls are the DDK ABI imports.
pub const ABI_CLASS: &str = "Ddk.Abi";
/// The class whose InternalCalls are runtime services.
pub const RUNTIME_CLASS: &str = "Ddk.Runtime";

/// Runtime services (`Ddk.Runtime::<name>`) and their implementations.
fn runtime_service(name: &str) -> Option<u64> {
    Some(match name {
        "MemoryBarrier" => memory_barrier as *const () as u64,
        "FunctionPointer" => function_pointer as *const () as u64,
        _ => return None,
    })
}

/// The names of the runtime services this runtime provides.
pub const RUNTIME_SERVICES: &[&str] = &["MemoryBarrier", "FunctionPointer"];

/// A full fence: virtio 1.2 §2.7.13.4 orders publishing `avail.idx` before
/// reading `used.flags`/notification suppression.
extern "C" fn memory_barrier() {
    core::sync::atomic::fence(Ordering::SeqCst)
}

/// Offsets of `Delegate.m_target` / `m_method` (0 = unknown).
static DELEGATE_TARGET: AtomicU64 = AtomicU64::new(0);
static DELEGATE_METHOD: AtomicU64 = AtomicU64::new(0);

/// The `ldftn` value a delegate over a static method was built from, which
/// native code can call directly (all-integer signatures: managed = SysV);
/// 0 for null or for a delegate with a target.
extern "C" fn function_pointer(delegate: u64) -> u64 {
    let (t, m) = (
        DELEGATE_TARGET.load(Ordering::Relaxed),
        DELEGATE_METHOD.load(Ordering::Relaxed),
    );
    if delegate == 0 || t == 0 || m == 0 {
        return 0;
    }
    // SAFETY: `delegate` is a live delegate object passed by JIT code; both
    // offsets are fields of System.Delegate, inside the object.
    unsafe {
        if ((delegate + t) as *const u64).read() != 0 {
            return 0;
        }
        ((delegate + m) as *const u64).read()
    }
}

/// The [`AbiKind`] a managed parameter type crosses the ABI as, if any.
pub fn abi_kind(ts: &TypeSystem, t: TypeId) -> Option<AbiKind> {
    let i = ts.info(t);
    Some(match i.kind {
        TypeKind::Primitive(Prim::Void) => AbiKind::Void,
        TypeKind::Primitive(Prim::U1) => AbiKind::U8,
        TypeKind::Primitive(Prim::U2) => AbiKind::U16,
        TypeKind::Primitive(Prim::U4) => AbiKind::U32,
        TypeKind::Primitive(Prim::U8) => AbiKind::U64,
        TypeKind::Primitive(Prim::U) => AbiKind::Usize,
        TypeKind::Ptr | TypeKind::ByRef => AbiKind::Ptr,
        TypeKind::ValueType if ts.type_name(t) == "Ddk.PciAddress" => AbiKind::PciAddress,
        _ if ts.type_name(t) == "System.Void" => AbiKind::Void,
        _ => return None,
    })
}

fn kind_name(ts: &TypeSystem, t: TypeId) -> String {
    match abi_kind(ts, t) {
        Some(k) => format!("{k:?}"),
        None => ts.type_name(t),
    }
}

/// What binding did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bound {
    pub abi_imports: usize,
    pub runtime_services: usize,
}

/// The address an ABI entry binds to: the hosting shim for entries that
/// create or release per-instance resources, else the platform's entry.
fn entry_address(abi: &'static DdkAbi, name: &str, offset: usize) -> u64 {
    match name {
        "dma_alloc" => resources::dma_alloc as *const () as u64,
        "dma_free" => resources::dma_free as *const () as u64,
        "bar_map" => resources::bar_map as *const () as u64,
        "bar_unmap" => resources::bar_unmap as *const () as u64,
        "irq_setup" => resources::irq_setup as *const () as u64,
        "irq_release" => resources::irq_release as *const () as u64,
        "block_register" => resources::block_register as *const () as u64,
        "virt_to_phys" => dma_guard::virt_to_phys as *const () as u64,
        "mmio_write8" => dma_guard::mmio_write8 as *const () as u64,
        "mmio_write16" => dma_guard::mmio_write16 as *const () as u64,
        "mmio_write32" => dma_guard::mmio_write32 as *const () as u64,
        "mmio_write64" => dma_guard::mmio_write64 as *const () as u64,
        _ => {
            let table = abi as *const DdkAbi as *const u8;
            // SAFETY: `offset` comes from ENTRIES, generated from the struct:
            // the offset of a function-pointer field inside `*abi`.
            unsafe { table.add(offset).cast::<u64>().read() }
        }
    }
}

/// Binds every import of every loaded assembly. Errors name the method.
pub fn bind_all(e: &mut Engine, abi: &'static DdkAbi) -> Result<Bound, HostError> {
    let (t, m) = e
        .delegate_fields()
        .map_err(|why| HostError::Runtime(format!("corlib: {why}")))?;
    DELEGATE_TARGET.store(u64::from(t), Ordering::Relaxed);
    DELEGATE_METHOD.store(u64::from(m), Ordering::Relaxed);
    resources::set_platform(abi);
    let corlib = e.ts.corlib();
    let mut bound = Bound::default();
    let mut binds: Vec<(String, u64)> = Vec::new();
    for asm in e.ts.assemblies().collect::<Vec<_>>() {
        for &t in e.ts.types_of(asm) {
            // Named only for types with imports: most have none, and the name is
            // built by formatting.
            let mut owner: Option<String> = None;
            for &m in &e.ts.info(t).methods {
                let d = e.ts.method(m);
                if !(d.is_internal_call() || d.pinvoke.is_some()) {
                    continue;
                }
                let owner = owner.get_or_insert_with(|| e.ts.type_name(t)).as_str();
                let full = format!("{owner}::{}", d.name);
                let import = |problem: String| HostError::Import {
                    assembly: String::from(e.ts.assembly_name(asm)),
                    method: full.clone(),
                    problem,
                };
                if owner == ABI_CLASS {
                    let en = ENTRIES
                        .iter()
                        .find(|en| en.name == d.name)
                        .ok_or_else(|| import(String::from("names no DDK ABI entry")))?;
                    if !d.is_static() || d.sig.has_this {
                        return Err(import(String::from("must be static")));
                    }
                    let have: Vec<Option<AbiKind>> =
                        d.sig.params.iter().map(|p| abi_kind(&e.ts, *p)).collect();
                    let want: Vec<Option<AbiKind>> = en.params.iter().map(|k| Some(*k)).collect();
                    let ret = abi_kind(&e.ts, d.sig.ret);
                    if have != want || ret != Some(en.ret) {
                        let have: Vec<String> =
                            d.sig.params.iter().map(|p| kind_name(&e.ts, *p)).collect();
                        return Err(import(format!(
                            "signature ({}) -> {} differs from the ABI entry's {:?} -> {:?}",
                            have.join(", "),
                            kind_name(&e.ts, d.sig.ret),
                            en.params,
                            en.ret
                        )));
                    }
                    binds.push((full, entry_address(abi, en.name, en.offset)));
                    bound.abi_imports += 1;
                } else if owner == RUNTIME_CLASS {
                    let addr = runtime_service(&d.name).ok_or_else(|| {
                        import(format!(
                            "is no runtime service (known: {})",
                            RUNTIME_SERVICES.join(", ")
                        ))
                    })?;
                    binds.push((full, addr));
                    bound.runtime_services += 1;
                } else if Some(asm) != corlib && e.native(&full).is_none() {
                    // Corlib internal calls this runtime lacks fail when first
                    // called (a contained failure); a driver's must not exist.
                    return Err(import(String::from(
                        "is an InternalCall/P/Invoke this runtime does not implement",
                    )));
                }
            }
        }
    }
    for (name, addr) in binds {
        e.bind_native(&name, addr);
    }
    Ok(bound)
}
