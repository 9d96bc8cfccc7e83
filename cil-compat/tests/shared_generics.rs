//! Shared generic code (`exec/shared.rs`, `types/canon.rs`), proved shared:
//! the corpus family `SharedGenerics.cs` runs in-process twice, with sharing
//! on and off. With it on, `SGCell<string>.Get` and `SGCell<object>.Get` run
//! one compiled body (`SGCell<__Canon>.Get`), value-type instantiations keep
//! code of their own, methods needing the exact type (`newarr T`, a static of
//! `SGCell<T>`) fall back to code per instantiation, fewer methods and code
//! bytes are compiled, and every result is the same as without sharing. The
//! results themselves are checked against mono by `jit_corpus`.
#![cfg(feature = "std")]

mod common;

use std::sync::Mutex;

use common::family;

use cil_compat::exec::{cli, Engine, RetVal};
use cil_compat::metadata::sig::Prim;
use cil_compat::toolchain;
use cil_compat::types::{MethodId, TypeId, TypeSystem};

/// Engines share the process-wide active-engine slot: one test at a time.
static ONE_ENGINE: Mutex<()> = Mutex::new(());

fn instance(e: &mut Engine, def: &str, args: &[TypeId]) -> TypeId {
    let d =
        e.ts.find_type("Corpus", def)
            .unwrap_or_else(|| panic!("no Corpus.{def}"));
    e.ts.generic_instance(d, args.to_vec()).unwrap()
}

fn method_of(e: &Engine, t: TypeId, name: &str) -> MethodId {
    e.ts.find_method(t, name)
        .unwrap_or_else(|| panic!("no {}::{name}", e.ts.type_name(t)))
}

#[test]
fn reference_instantiations_share_one_body_and_value_ones_do_not() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    let (mut off, asm) = family::engine("SharedGenerics", false);
    let plain = family::run(&mut off, asm, "SharedGenerics", 30);
    let before = off.stats;
    drop(off);

    let (mut e, asm) = family::engine("SharedGenerics", true);
    let shared = family::run(&mut e, asm, "SharedGenerics", 30);
    let after = e.stats;
    assert_eq!(plain, shared, "results differ with shared generics");
    println!(
        "SharedGenerics family: {} methods / {} code bytes compiled without sharing, \
         {} methods / {} code bytes with it ({} methods ran shared code)",
        before.methods, before.code_bytes, after.methods, after.code_bytes, after.shared_methods
    );
    assert_eq!(before.shared_methods, 0);
    assert!(after.shared_methods >= 10, "{after:?}");
    assert!(after.methods < before.methods, "{before:?} vs {after:?}");
    assert!(
        after.code_bytes < before.code_bytes,
        "{before:?} vs {after:?}"
    );

    let string = e.ts.prim(Prim::String).unwrap();
    let object = e.ts.prim(Prim::Object).unwrap();
    let int = e.ts.prim(Prim::I4).unwrap();
    let cs = instance(&mut e, "SGCell`1", &[string]);
    let co = instance(&mut e, "SGCell`1", &[object]);
    let ci = instance(&mut e, "SGCell`1", &[int]);

    // One body for both reference instantiations, compiled as the canonical
    // method; the exact methods have no code of their own.
    let (gs, go, gi) = (
        method_of(&e, cs, "Get"),
        method_of(&e, co, "Get"),
        method_of(&e, ci, "Get"),
    );
    let canon = e
        .shared_with(gs)
        .expect("SGCell<string>.Get runs shared code");
    assert_eq!(e.shared_with(go), Some(canon));
    assert!(e
        .ts
        .type_name(e.ts.method(canon).owner)
        .contains("System.__Canon"));
    assert!(e.is_shared_body(canon));
    assert!(e.compiled(gs).is_none() && e.compiled(go).is_none());
    let (a, b, c) = (
        e.compile(gs).unwrap(),
        e.compile(go).unwrap(),
        e.compile(canon).unwrap(),
    );
    assert!(a == b && b == c, "{a:#x} {b:#x} {c:#x}");

    // A value-type instantiation keeps its own, specialised code.
    assert_eq!(e.shared_with(gi), None);
    assert!(e.compiled(gi).is_some());
    assert_ne!(e.compile(gi).unwrap(), a);

    // Shared: `this`'s fields, its own shared methods, and the exact types
    // looked up at run time through `this` (`newarr T`, `castclass T`,
    // `isinst T`), and calls whose exact callee is looked up the same way
    // (`EvenDepth` and `OddDepth` call each other: neither can be compiled
    // first, so each calls the other's exact method through a lookup;
    // `Clone`'s `newobj SGCell<T>` looks up the class), and the static
    // `Made` of the exact `SGCell<T>` (`MadeSoFar`, the constructor).
    for name in [
        "Swap",
        "IsNull",
        "Describe",
        "AsObject",
        "Many",
        "Cast",
        "Is",
        "EvenDepth",
        "Clone",
        "MadeSoFar",
        ".ctor",
    ] {
        let m = method_of(&e, cs, name);
        e.compile(m).unwrap();
        let c = e.ts.shared_form(m).unwrap().expect("a shared form");
        assert!(
            e.shared_with(m) == Some(c),
            "SGCell<string>.{name} not shared: {:?}",
            e.shared_refusal(c)
        );
    }
    // A catch clause naming a type of the instantiation (`catch
    // (SGErr<T>)`): the unwinder resolves it in the method it finds, so each
    // reference instantiation has code of its own.
    for name in ["CatchOwn", "CatchGiven"] {
        let (ms, mo) = (method_of(&e, cs, name), method_of(&e, co, name));
        assert_eq!(e.shared_with(ms), None, "SGCell<string>.{name} shared");
        let (xs, xo) = (e.compile(ms).unwrap(), e.compile(mo).unwrap());
        assert_ne!(xs, xo, "SGCell.{name}: one body for two instantiations");
    }
    // Mixed instantiations share over their reference positions only.
    let pair_si = instance(&mut e, "SGPair`2", &[string, int]);
    let pair_oi = instance(&mut e, "SGPair`2", &[object, int]);
    let pair_is = instance(&mut e, "SGPair`2", &[int, string]);
    let k1 = method_of(&e, pair_si, "GetKey");
    let k2 = method_of(&e, pair_oi, "GetKey");
    let k3 = method_of(&e, pair_is, "GetKey");
    assert_eq!(e.compile(k1).unwrap(), e.compile(k2).unwrap());
    assert_ne!(e.compile(k1).unwrap(), e.compile(k3).unwrap());
    assert!(
        e.shared_with(k3).is_some(),
        "SGPair<int,string>.GetKey not shared"
    );
    // `newobj` of a type of the instantiation, looked up through `this`:
    // `Flip` makes an `SGPair<V,K>`, whose constructor is shared too.
    let f1 = method_of(&e, pair_si, "Flip");
    let f2 = method_of(&e, pair_oi, "Flip");
    assert_eq!(e.compile(f1).unwrap(), e.compile(f2).unwrap());
    // Calls looked up as exact code: a static method of `SGCell<T>`, a
    // generic method instance over `T`, `EqualityComparer<T>.Default`; a
    // constrained interface call on `T`; a generic virtual call over `T`.
    for (ty, args, name) in [
        ("SGCell`1", vec![string], "EchoViaStatic"),
        ("SGCell`1", vec![string], "ViaGenericMethod"),
        ("SGCell`1", vec![string], "SameAs"),
        ("SGPicker`1", vec![string], "Choose"),
    ] {
        let t = instance(&mut e, ty, &args);
        let m = method_of(&e, t, name);
        e.compile(m).unwrap();
        let c = e.ts.shared_form(m).unwrap().expect("a shared form");
        assert!(
            e.shared_with(m) == Some(c),
            "{ty}.{name} not shared: {:?}",
            e.shared_refusal(c)
        );
    }
    // An interface call over `T`: the exact interface method is looked up.
    let holder = instance(&mut e, "SGHolder`1", &[string]);
    let pull = method_of(&e, holder, "Pull");
    e.compile(pull).unwrap();
    assert!(
        e.shared_with(pull).is_some(),
        "SGHolder<string>.Pull not shared"
    );
}

#[test]
fn compiled_code_names_the_shared_body() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    let (mut e, asm) = family::engine("SharedGenerics", true);
    family::run(&mut e, asm, "SharedGenerics", 30);
    let string = e.ts.prim(Prim::String).unwrap();
    let cs = instance(&mut e, "SGCell`1", &[string]);
    let get = method_of(&e, cs, "Get");
    let (record, canon) = e.compiled_code(get).expect("compiled");
    let canon = canon.expect("shared");
    assert!(record.len > 0 && !e.code_bytes(record).is_empty());
    assert!(e.method_name(canon).contains("__Canon"));
}

/// Corpus families that use generics, run in-process with sharing off and on:
/// the same results (integers and floats; strings are addresses), and the
/// compiled methods and code bytes each way (`--nocapture` prints them).
#[test]
fn corpus_generic_families_agree_and_compile_less_with_sharing() {
    const FAMILIES: &[&str] = &[
        "Generics",
        "SharedGenerics",
        "SharedMethods",
        "Collections",
        "CollectionsGeneric",
        "ArrayInterfaces",
        "Lambdas",
    ];
    let _one = ONE_ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    let dir = toolchain::workspace_root()
        .join("jit")
        .join("tests")
        .join("corpus");
    let sources = toolchain::cs_files(&dir).unwrap();
    let dll = toolchain::build_library("jit_corpus", &sources, &[]).unwrap();
    // Methods expected to return, with the attribute on their own line.
    let mut names = Vec::new();
    for f in FAMILIES {
        let src = std::fs::read_to_string(dir.join(format!("{f}.cs"))).unwrap();
        for line in src.lines().filter(|l| l.contains("[Expect(\"")) {
            let Some(at) = line.find("static ") else {
                continue;
            };
            let head = &line[at + 7..];
            let Some(name) = head[..head.find('(').unwrap_or(0)]
                .split_whitespace()
                .last()
            else {
                continue;
            };
            names.push(format!("Corpus.{f}::{name}"));
        }
    }
    assert!(names.len() > 150, "{} methods", names.len());
    let run = |sharing: bool| {
        let corlib = toolchain::corlib().expect("corlib");
        let mut ts = TypeSystem::new();
        ts.load(std::fs::read(&corlib).unwrap()).unwrap();
        let asm = ts.load(std::fs::read(&dll).unwrap()).unwrap();
        let mut e = cli::engine(ts);
        e.set_shared_generics(sharing);
        let mut out = Vec::new();
        for n in &names {
            let m = cli::find_method(&e.ts, asm, n).unwrap_or_else(|| panic!("no {n}"));
            let string = e.ts.prim(Prim::String).ok() == Some(e.ts.method(m).sig.ret);
            // SAFETY: the engine is active; corpus test methods are static
            // and parameterless.
            let r = unsafe { e.call_static0(m) }.unwrap_or_else(|err| panic!("{n}: {err}"));
            let v = match r {
                RetVal::Void => Some(0),
                RetVal::Int(v) => (!string).then_some(v),
                RetVal::F32(f) => Some(f.to_bits() as u64),
                RetVal::F64(f) => Some(f.to_bits()),
            };
            out.push((n.clone(), v));
        }
        // `SHOW_REFUSALS=1`: why each body that could not be shared was not.
        if std::env::var_os("SHOW_REFUSALS").is_some() {
            for i in 0..e.ts.method_count() {
                if let Some(r) = e.shared_refusal(MethodId(i as u32)) {
                    println!("REFUSED {r}");
                }
            }
        }
        (out, e.stats)
    };
    let (plain, before) = run(false);
    let (shared, after) = run(true);
    assert_eq!(plain, shared, "results differ with shared generics");
    println!(
        "{} methods of {FAMILIES:?}: without sharing {} methods compiled, {} code bytes; \
         with sharing {} methods, {} code bytes ({} methods ran shared code)",
        names.len(),
        before.methods,
        before.code_bytes,
        after.methods,
        after.code_bytes,
        after.shared_methods
    );
    // Code bytes are reported, not asserted: with two instantiations of a
    // type a shared body's lookups can outweigh the copy they save.
    assert!(after.methods < before.methods);
}
