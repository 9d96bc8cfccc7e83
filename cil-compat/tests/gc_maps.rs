//! Precise stack roots end to end (`jit::gcmap`, `exec::stackroots`): an
//! object reachable only from a reference local, a spilled evaluation-stack
//! entry, a struct local's reference field or a callee-saved register up the
//! call chain survives forced collections intact; and objects whose only
//! traces are stale words in dead stack slots are collected, which the
//! conservative scan (kept as `GcState::conservative_stack`) cannot promise.
#![cfg(feature = "std")]

use std::sync::Mutex;

use cil_compat::exec::{cli, Engine, RetVal};
use cil_compat::toolchain;
use cil_compat::types::{AsmId, TypeSystem};

/// Engines share the process-wide active-engine slot: one test at a time.
static ONE_ENGINE: Mutex<()> = Mutex::new(());

fn engine(conservative: bool) -> (Box<Engine>, AsmId) {
    let src = toolchain::workspace_root()
        .join("cil-compat")
        .join("tests")
        .join("cs")
        .join("GcMaps.cs");
    let dll = toolchain::build_library("GcMaps", &[src], &[]).expect("build GcMaps.cs");
    let corlib = toolchain::corlib().expect("corlib");
    let mut ts = TypeSystem::new();
    ts.load(std::fs::read(corlib).unwrap()).unwrap();
    let asm = ts.load(std::fs::read(dll).unwrap()).unwrap();
    let mut e = cli::engine(ts);
    e.gc.conservative_stack = conservative;
    (e, asm)
}

fn call(e: &mut Engine, asm: AsmId, name: &str) -> i64 {
    let m = cli::find_method(&e.ts, asm, name).unwrap_or_else(|| panic!("no method {name}"));
    // SAFETY: the engine is active and `m` is static and parameterless.
    match unsafe { e.call_static0(m) }.unwrap_or_else(|err| panic!("{name}: {err}")) {
        RetVal::Int(v) => v as i64,
        other => panic!("{name} returned {other:?}"),
    }
}

/// Runs a scenario with precise roots; it must see its object intact, and
/// the collections must have walked JIT frames with their maps.
fn survives(name: &str) {
    survives_with(name, 0)
}

fn survives_with(name: &str, stress: u32) {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    let (mut e, asm) = engine(false);
    e.gc.stress = stress;
    let r = call(&mut e, asm, &format!("GcMaps.Scenarios::{name}")) as i32;
    println!("{name}: {}", cli::gc_stats_line(&e));
    assert_eq!(r, 1, "{name}: the object was freed or overwritten");
    let t = e.gc.totals;
    assert!(t.jit_frames > 0, "{name}: no JIT frame was walked by map");
    assert!(t.precise_roots > 0, "{name}: no root came from a stack map");
    assert_eq!(t.unmapped_frames, 0);
    assert_eq!(t.bad_ref_slots, 0);
}

#[test]
fn an_object_only_in_a_reference_local_survives() {
    survives("RefLocal");
}

#[test]
fn an_object_only_in_a_frame_local_survives() {
    survives("FrameLocal");
}

#[test]
fn objects_only_on_the_evaluation_stack_across_a_call_survive() {
    survives("Spilled");
}

#[test]
fn an_object_only_in_a_struct_locals_field_survives() {
    survives("StructField");
}

#[test]
fn an_object_only_in_a_callee_saved_register_up_the_chain_survives() {
    survives("Register");
}

#[test]
fn objects_survive_internal_calls_that_allocate_under_stress() {
    survives_with("Natives", 1);
}

#[test]
fn stale_references_in_dead_slots_do_not_keep_garbage() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    const ARRAYS: i64 = 7 * (1 << 18);
    let (mut e, asm) = engine(true);
    let conservative = call(&mut e, asm, "GcMaps.Scenarios::Dead");
    drop(e);
    let (mut e, asm) = engine(false);
    let precise = call(&mut e, asm, "GcMaps.Scenarios::Dead");
    println!(
        "live after GC.GetTotalMemory(true): conservative {conservative} B, precise {precise} B"
    );
    assert!(conservative >= 0 && precise >= 0);
    // The scenario is one where stale words do retain garbage when scanned
    // conservatively...
    assert!(
        conservative >= ARRAYS / 7,
        "conservative scanning retained only {conservative} bytes: the scenario shows nothing"
    );
    // ...and precise roots let every array go.
    assert!(
        precise < ARRAYS / 7,
        "precise roots retained {precise} bytes (conservative: {conservative})"
    );
}
