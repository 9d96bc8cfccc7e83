//! A corpus family run in-process with shared generic code on or off, for the
//! tests that prove sharing keeps results (`shared_generics.rs`,
//! `shared_methods.rs`).

use cil_compat::exec::{cli, Engine, RetVal};
use cil_compat::metadata::sig::Prim;
use cil_compat::toolchain;
use cil_compat::types::{AsmId, TypeSystem};

/// Methods of the families that stop with a runtime error (run by
/// `jit_corpus` in a child process, not here).
const FAILING: &[&str] = &["CastToTFails"];

/// An engine with the corlib and `jit/tests/corpus/{family}.cs` (plus
/// `Expect.cs`) loaded, sharing generic code or not.
pub fn engine(family: &str, sharing: bool) -> (Box<Engine>, AsmId) {
    let dir = toolchain::workspace_root()
        .join("jit")
        .join("tests")
        .join("corpus");
    let dll = toolchain::build_library(
        &format!("{family}Only"),
        &[dir.join(format!("{family}.cs")), dir.join("Expect.cs")],
        &[],
    )
    .unwrap_or_else(|e| panic!("build {family}.cs: {e}"));
    let corlib = toolchain::corlib().expect("corlib");
    let mut ts = TypeSystem::new();
    ts.load(std::fs::read(corlib).unwrap()).unwrap();
    let asm = ts.load(std::fs::read(dll).unwrap()).unwrap();
    let mut e = cli::engine(ts);
    e.set_shared_generics(sharing);
    (e, asm)
}

/// Runs every static parameterless method of `Corpus.{family}` (at least
/// `min` of them): (name, integer result, or None for a string, whose
/// address differs from run to run).
pub fn run(e: &mut Engine, asm: AsmId, family: &str, min: usize) -> Vec<(String, Option<u64>)> {
    let mut out = Vec::new();
    for m in cli::methods_matching(&e.ts, asm, &format!("Corpus.{family}::*")) {
        let d = e.ts.method(m);
        if !d.is_static() || !d.sig.params.is_empty() || FAILING.contains(&d.name.as_str()) {
            continue;
        }
        let name = e.method_name(m);
        let string = e.ts.prim(Prim::String).ok() == Some(d.sig.ret);
        // SAFETY: the engine is active and `m` is static and parameterless.
        let r = unsafe { e.call_static0(m) }.unwrap_or_else(|err| panic!("{name}: {err}"));
        let RetVal::Int(v) = r else {
            panic!("{name} returned {r:?}")
        };
        out.push((name, (!string).then_some(v)));
    }
    assert!(out.len() >= min, "only {} methods ran", out.len());
    out
}
