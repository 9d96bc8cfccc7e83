//! Shared generic code with a hidden generic context
//! (`JitHost::context_local`), as compiled: the prologue keeps `Abi::CONTEXT`
//! (r10) in the context local, run-time lookups call
//! `Helper::GenericLookupContext` (not `GenericLookup`, which needs `this`),
//! and the context local, a native int, is no GC slot. Without a context
//! local nothing of this is emitted.
mod common;
use common::*;
use jit::decoder::op;
use jit::gcmap::GcKind;
use jit::host::{Helper, JitType as T, LookupKind};
use jit::{compile, CallSiteKind, CompiledMethod, MethodInput};

const ELEM: u32 = 0x0200_0001;

/// `static object M() { return new T[1]; }` with locals an object and a
/// native int; when `shared`, `T` is looked up at run time (key 0), and when
/// `context`, the native int is the hidden context local.
fn compile_m(shared: bool, context: bool) -> Result<CompiledMethod, jit::JitError> {
    let mut h = FakeHost::default();
    h.types.insert(ELEM, prim_type(T::Obj));
    if shared {
        h.lookups.insert((ELEM, LookupKind::ArrayHandle), 0);
    }
    if context {
        h.context_local = Some(1);
    }
    let il = Il::new()
        .op(op::LDC_I4_1)
        .tok(op::NEWARR, ELEM)
        .ret()
        .build();
    let m = MethodInput {
        name: "M::M",
        handle: 0x5000_0000,
        il: &il,
        args: vec![],
        locals: vec![T::Obj, T::I],
        ret: T::Obj,
        init_locals: true,
        eh: vec![],
    };
    compile(&mut h, &m)
}

/// Whether `code` stores r10 to a frame slot: `mov [rbp+disp], r10`
/// (REX.WR 89 /r with rbp as base).
fn stores_r10(code: &[u8]) -> bool {
    code.windows(3)
        .any(|w| w[0] == 0x4C && w[1] == 0x89 && (w[2] == 0x55 || w[2] == 0x95))
}

#[test]
fn hidden_context_is_kept_and_passed_to_lookups() {
    let c = compile_m(true, true).unwrap_or_else(|e| panic!("{e}"));
    assert!(stores_r10(&c.code), "prologue does not keep r10");
    let helpers: Vec<Helper> = c
        .call_sites
        .iter()
        .filter_map(|s| match s.kind {
            CallSiteKind::Helper(h) => Some(h),
            _ => None,
        })
        .collect();
    assert!(
        helpers.contains(&Helper::GenericLookupContext),
        "{helpers:?}"
    );
    assert!(!helpers.contains(&Helper::GenericLookup), "{helpers:?}");
    // Only the object local is a reference slot; the context is no GC slot.
    let refs = c
        .stack_maps
        .frame
        .iter()
        .filter(|s| s.kind != GcKind::Interior)
        .count();
    assert_eq!(refs, 1, "{:?}", c.stack_maps);
}

#[test]
fn without_a_context_local_shared_code_needs_this() {
    // A static method has no `this` to find its instantiation through.
    assert!(compile_m(true, false).is_err());
    // And a method that is not shared emits neither.
    let c = compile_m(false, false).unwrap_or_else(|e| panic!("{e}"));
    assert!(!stores_r10(&c.code));
}
