//! The loader's multi-dimensional array methods (ECMA-335 §II.14.2): MemberRefs
//! to `.ctor`/`Get`/`Set`/`Address` on `T[,…]` TypeSpecs resolve to methods the
//! loader creates once per array type; malformed ones (wrong arity, wrong element
//! or index types, unknown names) are resolution errors, never panics.

mod common;

use cil_compat::heap::mdarray_data_offset;
use cil_compat::metadata::sig::Prim;
use cil_compat::toolchain;
use cil_compat::types::{ArrayMethodKind, TypeKind, TypeSystem};
use common::*;

fn load() -> (TypeSystem, cil_compat::types::AsmId) {
    let il = toolchain::build_il("MdArrayRefs", &tests_dir().join("il/MdArrayRefs.il"))
        .expect("ilasm MdArrayRefs.il");
    let mut ts = TypeSystem::new();
    for p in [corlib(), il.clone()] {
        let id = ts.load(std::fs::read(&p).unwrap()).expect("load");
        if p == il {
            return (ts, id);
        }
    }
    unreachable!()
}

#[test]
fn well_formed_array_member_refs_resolve_to_runtime_methods() {
    let (mut ts, a) = load();
    let good = method(&ts, "MdRefs", "Good");
    let mut toks = tokens_of(&ts, good, 0x73);
    toks.extend(tokens_of(&ts, good, 0x28));
    let mut kinds = Vec::new();
    for t in toks {
        let m = ts.resolve_method(a, t).expect("resolves");
        let (k, rank, elem) = ts.array_method_kind(m).expect("an array method");
        assert_eq!(ts.info(ts.method(m).owner).kind, TypeKind::Array);
        kinds.push((k, rank, ts.type_name(elem)));
        // Resolving again finds the same method.
        assert_eq!(ts.resolve_method(a, t).unwrap(), m);
    }
    kinds.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(kinds.len(), 5);
    assert!(kinds.contains(&(ArrayMethodKind::Ctor, 2, "System.Int32".into())));
    assert!(kinds.contains(&(ArrayMethodKind::Ctor, 2, "System.Int64".into())));
    assert!(kinds.contains(&(ArrayMethodKind::Get, 2, "System.Int32".into())));
    assert!(kinds.contains(&(ArrayMethodKind::Set, 3, "System.String".into())));
    assert!(kinds.contains(&(ArrayMethodKind::Address, 2, "System.Double".into())));
}

#[test]
fn malformed_array_member_refs_are_errors() {
    let (mut ts, a) = load();
    let bad = method(&ts, "MdRefs", "Bad");
    let mut toks = tokens_of(&ts, bad, 0x28);
    toks.extend(tokens_of(&ts, bad, 0x73));
    assert_eq!(toks.len(), 6);
    for t in toks {
        assert!(ts.resolve_method(a, t).is_err(), "{t:?} should not resolve");
    }
}

#[test]
fn md_array_layout_and_allocation() {
    let (mut ts, _) = load();
    let i4 = ts.prim(Prim::I4).unwrap();
    let t = ts.md_array_of(i4, 3).unwrap();
    assert_eq!(ts.mt(t).rank, 3);
    assert_eq!(ts.mt(t).base_size as usize, mdarray_data_offset(3));
    assert_eq!(ts.mt(t).component_size, 4);
    assert!(ts.md_array_of(i4, 0).is_err());
    assert!(ts.md_array_of(i4, 33).is_err());
    let obj = ts.alloc_md_array(i4, &[2, 3, 4]).unwrap();
    // SAFETY: a fresh int32[,,]: total count at +16, lengths from +24.
    let (total, l2) = unsafe { (*((obj + 16) as *const u64), *((obj + 40) as *const u64)) };
    assert_eq!((total, l2), (24, 4));
}
