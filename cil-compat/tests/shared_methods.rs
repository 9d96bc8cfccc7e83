//! Shared generic code taking its instantiation as a hidden argument
//! (`exec/shared.rs`, `types/canon.rs`), proved shared: the corpus family
//! `SharedMethods.cs` runs in-process with sharing on and off, with the same
//! results; generic methods (generic virtual ones included), static methods
//! of generic classes and methods of generic structs over reference types
//! run one compiled body per canonical form, each exact method entered
//! through an instantiating stub, while value-type instantiations keep code
//! of their own. The results themselves are checked against mono by
//! `jit_corpus` (and under GC stress by `gc_stress`).
#![cfg(feature = "std")]

mod common;

use std::sync::Mutex;

use common::family;

use cil_compat::exec::Engine;
use cil_compat::metadata::sig::Prim;
use cil_compat::types::{MethodId, TypeId};

/// Engines share the process-wide active-engine slot: one test at a time.
static ONE_ENGINE: Mutex<()> = Mutex::new(());

fn ty(e: &mut Engine, name: &str, args: &[TypeId]) -> TypeId {
    let d =
        e.ts.find_type("Corpus", name)
            .unwrap_or_else(|| panic!("no Corpus.{name}"));
    if args.is_empty() {
        d
    } else {
        e.ts.generic_instance(d, args.to_vec()).unwrap()
    }
}

fn method_of(e: &Engine, t: TypeId, name: &str) -> MethodId {
    e.ts.find_method(t, name)
        .unwrap_or_else(|| panic!("no {}::{name}", e.ts.type_name(t)))
}

/// Generic method `name` of `t` instantiated over `args`.
fn generic(e: &mut Engine, t: TypeId, name: &str, args: &[TypeId]) -> MethodId {
    let def = method_of(e, t, name);
    e.ts.method_instance(def, args.to_vec()).unwrap()
}

/// `m` runs shared code (its canonical form's), compiled now if need be.
fn assert_shared(e: &mut Engine, m: MethodId) -> MethodId {
    e.compile(m).unwrap();
    let c = e.ts.shared_form(m).unwrap().expect("a shared form");
    assert!(
        e.shared_with(m) == Some(c),
        "{} not shared: {:?}",
        e.method_name(m),
        e.shared_refusal(c)
    );
    c
}

#[test]
fn hidden_context_sharing_keeps_results() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    let (mut off, asm) = family::engine("SharedMethods", false);
    let plain = family::run(&mut off, asm, "SharedMethods", 40);
    let before = off.stats;
    drop(off);
    let (mut e, asm) = family::engine("SharedMethods", true);
    let shared = family::run(&mut e, asm, "SharedMethods", 40);
    let after = e.stats;
    assert_eq!(plain, shared, "results differ with shared generics");
    println!(
        "SharedMethods family: {} methods / {} code bytes compiled without sharing, \
         {} methods / {} code bytes with it ({} methods ran shared code, {} through \
         instantiating stubs)",
        before.methods,
        before.code_bytes,
        after.methods,
        after.code_bytes,
        after.shared_methods,
        after.instantiating_stubs
    );
    assert_eq!(before.instantiating_stubs, 0);
    assert!(after.instantiating_stubs >= 20, "{after:?}");
    assert!(after.methods < before.methods, "{before:?} vs {after:?}");
}

/// N reference instantiations of a generic method, of a static method of a
/// generic class and of a struct's method: one compiled body each, N stubs.
#[test]
fn reference_instantiations_compile_one_body() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    let (mut e, _asm) = family::engine("SharedMethods", true);
    let string = e.ts.prim(Prim::String).unwrap();
    let object = e.ts.prim(Prim::Object).unwrap();
    let int = e.ts.prim(Prim::I4).unwrap();
    let key = ty(&mut e, "SMKey", &[]);
    let cell_int = ty(&mut e, "SMCell`1", &[int]);
    let cell_str = ty(&mut e, "SMCell`1", &[string]);
    let refs = [string, object, key, cell_int, cell_str];
    let util = ty(&mut e, "SMUtil", &[]);

    // `Id<T>` calls nothing: exactly one body for five instantiations.
    let n0 = e.stats.methods;
    let ids: Vec<MethodId> = refs
        .iter()
        .map(|&a| generic(&mut e, util, "Id", &[a]))
        .collect();
    let mut entries: Vec<u64> = ids.iter().map(|&m| e.compile(m).unwrap()).collect();
    assert_eq!(e.stats.methods - n0, 1, "Id<T> over 5 reference types");
    let canon = e.shared_with(ids[0]).expect("Id<string> shared");
    assert!(e.is_shared_body(canon));
    assert!(ids.iter().all(|&m| e.shared_with(m) == Some(canon)));
    assert!(ids.iter().all(|&m| e.compiled(m).is_none()));
    // Each exact method has an entry of its own (its stub), none the body's.
    let body = e.compile(canon).unwrap();
    entries.sort_unstable();
    entries.dedup();
    assert_eq!(entries.len(), refs.len());
    assert!(!entries.contains(&body));
    // A value-type instantiation keeps its own code.
    let id_int = generic(&mut e, util, "Id", &[int]);
    e.compile(id_int).unwrap();
    assert_eq!(e.shared_with(id_int), None);
    assert!(e.compiled(id_int).is_some());

    // `SMCache<T>.Get` (a static of the exact class): one body.
    let n0 = e.stats.methods;
    let gets: Vec<MethodId> = refs
        .iter()
        .map(|&a| {
            let t = ty(&mut e, "SMCache`1", &[a]);
            method_of(&e, t, "Get")
        })
        .collect();
    let canon = assert_shared(&mut e, gets[0]);
    for &m in &gets[1..] {
        assert_eq!(assert_shared(&mut e, m), canon);
    }
    assert_eq!(
        e.stats.methods - n0,
        1,
        "SMCache<T>.Get over 5 reference types"
    );

    // `SMPair<T>.GetA` (a struct's instance method): one body.
    let n0 = e.stats.methods;
    let pair_gets: Vec<MethodId> = refs
        .iter()
        .map(|&a| {
            let t = ty(&mut e, "SMPair`1", &[a]);
            method_of(&e, t, "GetA")
        })
        .collect();
    for &m in &pair_gets {
        assert_shared(&mut e, m);
    }
    assert_eq!(
        e.stats.methods - n0,
        1,
        "SMPair<T>.GetA over 5 reference types"
    );
}

/// After a run of the family, what is shared and what is not.
#[test]
fn what_runs_shared_code() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    let (mut e, asm) = family::engine("SharedMethods", true);
    family::run(&mut e, asm, "SharedMethods", 40);
    let string = e.ts.prim(Prim::String).unwrap();
    let object = e.ts.prim(Prim::Object).unwrap();
    let int = e.ts.prim(Prim::I4).unwrap();
    let key = ty(&mut e, "SMKey", &[]);
    let util = ty(&mut e, "SMUtil", &[]);
    // Generic methods over references: lookups of `T`, `T[]`, `List<T>`,
    // of exact callees (recursion, mutual recursion, `F<List<T>>`), of
    // constrained calls, and `newobj SMCell<T>`.
    for (name, args) in [
        ("First", vec![string]),
        ("Deflt", vec![object]),
        ("CastTo", vec![string]),
        ("IsT", vec![string]),
        ("AsT", vec![string]),
        ("Make", vec![string]),
        ("Two", vec![string]),
        ("Wrap", vec![string]),
        ("FirstOfWrapped", vec![string]),
        ("Nest", vec![string]),
        ("Depth", vec![string]),
        ("Grow", vec![string]),
        ("Even", vec![string]),
        ("Odd", vec![object]),
        ("Max", vec![key]),
        ("Name", vec![string]),
        ("CountNonNull", vec![string]),
        ("Churn", vec![string]),
        ("Cell", vec![string]),
        ("ReadStatic", vec![object]),
        ("Throws", vec![string]),
    ] {
        let m = generic(&mut e, util, name, &args);
        assert_shared(&mut e, m);
    }
    // Mixed instantiations share over their reference positions only.
    let k1 = generic(&mut e, util, "Key", &[string, int]);
    let k2 = generic(&mut e, util, "Key", &[object, int]);
    let k3 = generic(&mut e, util, "Key", &[int, string]);
    let c1 = assert_shared(&mut e, k1);
    assert_eq!(assert_shared(&mut e, k2), c1);
    assert_ne!(assert_shared(&mut e, k3), c1);
    // Instance generic methods of a generic class, over a reference or a
    // value owner.
    let cell_str = ty(&mut e, "SMCell`1", &[string]);
    let cell_int = ty(&mut e, "SMCell`1", &[int]);
    for (t, name) in [
        (cell_str, "Put"),
        (cell_str, "Keep"),
        (cell_int, "Keep"),
        (cell_str, "IsU"),
        (cell_int, "Pair"),
        (cell_str, "With"),
        (cell_str, "Zip"),
    ] {
        let m = generic(&mut e, t, name, &[string]);
        assert_shared(&mut e, m);
    }
    // A generic virtual method, and its override (reached by dispatch).
    let visit = generic(&mut e, cell_str, "Visit", &[string]);
    assert_shared(&mut e, visit);
    let cell2 = ty(&mut e, "SMCell2`1", &[string]);
    let visit2 = generic(&mut e, cell2, "Visit", &[object]);
    assert_shared(&mut e, visit2);
    for (t, arg) in [("SMMaker", string), ("SMMaker2", key)] {
        let t = ty(&mut e, t, &[]);
        let m = generic(&mut e, t, "Many", &[arg]);
        assert_shared(&mut e, m);
    }
    let via = generic(&mut e, util, "ViaMaker", &[string]);
    assert_shared(&mut e, via);
    // Static methods (and fields, and class constructors) of generic
    // classes, a generic method of one, and a generic struct's methods.
    for (def, arg, name) in [
        ("SMCell`1", string, "Make"),
        ("SMCell`1", string, "Unwrap"),
        ("SMCache`1", string, "Put"),
        ("SMCache`1", string, "Hits"),
        ("SMCache`1", string, "All"),
        ("SMCache`1", object, "PutMany"),
        ("SMInit`1", string, "Touch"),
        ("SMPair`1", string, "GetA"),
        ("SMPair`1", string, "IsT"),
        ("SMPair`1", string, "Arr"),
        ("SMPair`1", string, "Of"),
        ("SMPair`1", string, "ToString"),
    ] {
        let t = ty(&mut e, def, &[arg]);
        let m = method_of(&e, t, name);
        assert_shared(&mut e, m);
    }
    let cache_obj = ty(&mut e, "SMCache`1", &[object]);
    let conv = generic(&mut e, cache_obj, "Convert", &[string]);
    assert_shared(&mut e, conv);
}
