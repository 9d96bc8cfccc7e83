//! The garbage collector end to end: a managed workload that allocates more
//! than 50 times the heap limit finishes with its data intact and the heap
//! under the limit; the heap shrinks once the live set is dropped; an object
//! held only through a host handle survives; a program that keeps everything
//! it allocates stops with a clean out-of-memory error, not a crash, and one
//! that catches `OutOfMemoryException` carries on once it lets go.
#![cfg(feature = "std")]

use std::process::Command;
use std::sync::Mutex;

use cil_compat::exec::{cli, Engine, RetVal};
use cil_compat::toolchain;
use cil_compat::types::{AsmId, TypeSystem};

/// Engines share the process-wide active-engine slot: one test at a time.
static ONE_ENGINE: Mutex<()> = Mutex::new(());

const LIMIT: usize = 4 << 20;

fn stress_dll() -> std::path::PathBuf {
    let src = toolchain::workspace_root()
        .join("cil-compat")
        .join("tests")
        .join("cs")
        .join("GcStress.cs");
    toolchain::build_library("GcStress", &[src], &[]).expect("build GcStress.cs")
}

fn engine_with_limit(limit: usize) -> (Box<Engine>, AsmId) {
    let corlib = toolchain::corlib().expect("corlib");
    let mut ts = TypeSystem::new();
    ts.load(std::fs::read(corlib).unwrap()).unwrap();
    let asm = ts.load(std::fs::read(stress_dll()).unwrap()).unwrap();
    let mut e = cli::engine(ts);
    e.ts.heap_mut().set_limit(limit);
    (e, asm)
}

fn call(e: &mut Engine, asm: AsmId, name: &str) -> u64 {
    let m = cli::find_method(&e.ts, asm, name).unwrap_or_else(|| panic!("no method {name}"));
    // SAFETY: the engine is active and `m` is static and parameterless.
    match unsafe { e.call_static0(m) }.unwrap_or_else(|err| panic!("{name}: {err}")) {
        RetVal::Int(v) => v,
        other => panic!("{name} returned {other:?}"),
    }
}

#[test]
fn workload_of_50x_the_limit_stays_under_the_limit() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    let (mut e, asm) = engine_with_limit(LIMIT);
    let verified = call(&mut e, asm, "GcStress.Work::RunDefault") as i64;
    let s = e.ts.heap().stats();
    println!("{}", cli::gc_stats_line(&e));
    println!(
        "pauses: {} collections, mean {:.3} ms, max {:.3} ms; allocated {:.1}x the limit",
        s.collections,
        s.total_pause_ns as f64 / 1e6 / s.collections.max(1) as f64,
        s.max_pause_ns as f64 / 1e6,
        s.total_allocated as f64 / LIMIT as f64
    );
    // 30,000 rounds over a ring of 200: every tree but the last 200 built is
    // checked when replaced.
    assert_eq!(verified, 30_000 - 200, "a live tree was corrupted");
    assert!(
        s.total_allocated >= 50 * LIMIT as u64,
        "the workload allocated only {} bytes",
        s.total_allocated
    );
    assert!(
        s.peak_reserved <= LIMIT,
        "heap peaked at {} bytes",
        s.peak_reserved
    );
    assert!(e.ts.heap().bytes_reserved() <= LIMIT);
    assert!(s.collections >= 50, "only {} collections", s.collections);

    // Drop the live set: a host-side collection (no managed frames) frees it
    // and returns the chunks.
    let before = e.ts.heap().bytes_reserved();
    call(&mut e, asm, "GcStress.Work::Release");
    // SAFETY: no managed code is running; nothing the host keeps is needed.
    let cycle = unsafe { e.collect() };
    let after = e.ts.heap().bytes_reserved();
    println!(
        "after release: {} KiB -> {} KiB reserved, {} objects freed",
        before / 1024,
        after / 1024,
        cycle.sweep.freed_objects
    );
    assert!(cycle.sweep.freed_objects > 5_000);
    assert!(
        after * 4 <= before,
        "heap did not shrink: {before} -> {after}"
    );
}

#[test]
fn an_object_held_by_a_host_handle_survives_collections() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    let (mut e, asm) = engine_with_limit(LIMIT);
    let obj = call(&mut e, asm, "GcStress.Work::MakeHeld") as usize;
    let node = e.ts.find_type("GcStress", "Node").unwrap();
    let v_off = e.ts.field_offset(e.ts.find_field(node, "V").unwrap()).0 as usize;
    let l_off = e.ts.field_offset(e.ts.find_field(node, "L").unwrap()).0 as usize;
    let read = |e: &Engine, o: usize, off: usize| -> u64 {
        let b =
            e.ts.heap()
                .read_bytes(o, off, 8)
                .expect("object still allocated");
        u64::from_le_bytes(b.try_into().unwrap())
    };
    let h = e.ts.heap_mut().alloc_handle(obj).unwrap();
    assert_eq!(e.ts.heap().handle_target(h), Some(obj));
    let left = read(&e, obj, l_off) as usize;
    assert_eq!(call(&mut e, asm, "GcStress.Work::RunSmall"), 3000 - 200);
    // SAFETY: no managed code is running; the host's object has a handle.
    unsafe { e.collect() };
    assert!(e.ts.heap().stats().collections >= 2);
    assert!(e.ts.heap().is_object(obj) && e.ts.heap().is_object(left));
    assert_eq!(read(&e, obj, v_off) as u32, 77);
    assert_eq!(read(&e, left, v_off) as u32, 77 * 2 + 1);
    // Released: the next collection frees it (nothing else refers to it).
    e.ts.heap_mut().free_handle(h);
    // SAFETY: no managed code is running; the host wants `obj` gone.
    unsafe { e.collect() };
    assert!(!e.ts.heap().is_object(obj) && !e.ts.heap().is_object(left));
}

#[test]
fn keeping_everything_ends_in_a_clean_out_of_memory_error() {
    let dll = stress_dll();
    let o = Command::new(env!("CARGO_BIN_EXE_cilrun"))
        .arg(&dll)
        .args(["--invoke-all", "GcStress.Work::Hoard"])
        .env("CILRUN_HEAP_LIMIT", LIMIT.to_string())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("GcStress.Work::Hoard ! out-of-memory"),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn running_out_is_a_catchable_out_of_memory_exception() {
    let dll = stress_dll();
    for (method, want) in [
        ("GcStress.Work::HoardThenRecover", "= 1"),
        ("GcStress.Work::TooLargeIsCaught", "= 2"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_cilrun"))
            .arg(&dll)
            .args(["--invoke-all", method])
            .env("CILRUN_HEAP_LIMIT", LIMIT.to_string())
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains(&format!("{method} {want}")),
            "{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// Corpus families whose methods allocate little, each run twice through
/// `cilrun`: normally, and with a collection before every allocation
/// (`CILRUN_GC_STRESS=1`). A root the collector misses shows up as a
/// different result or a crash in the second run.
#[test]
fn corpus_families_agree_with_a_collection_before_every_allocation() {
    const FAMILIES: &[&str] = &[
        "Exceptions",
        "Delegates",
        "Lambdas",
        "Strings",
        "CollectionsGeneric",
        "Generics",
        "SharedGenerics",
        "SharedMethods",
        "Boxing",
        "Arrays",
        "Everyday",
        "Structs",
    ];
    let dir = toolchain::workspace_root()
        .join("jit")
        .join("tests")
        .join("corpus");
    let sources = toolchain::cs_files(&dir).unwrap();
    let dll = toolchain::build_library("jit_corpus", &sources, &[]).unwrap();
    let run = |pattern: &str, stress: bool| -> String {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cilrun"));
        c.arg(&dll).args(["--invoke-all", pattern]);
        if stress {
            c.env("CILRUN_GC_STRESS", "1");
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    let mut compared = 0;
    for f in FAMILIES {
        let pattern = format!("Corpus.{f}::*");
        let (normal, stressed) = (run(&pattern, false), run(&pattern, true));
        assert!(normal.lines().count() > 5, "{f}: {normal}");
        for (a, b) in normal.lines().zip(stressed.lines()) {
            assert_eq!(a, b, "family {f}: result changed under GC stress");
        }
        assert_eq!(normal.lines().count(), stressed.lines().count());
        compared += normal.lines().count();
    }
    println!("{compared} corpus methods agree under GC stress");
}
