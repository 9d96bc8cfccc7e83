//! libFuzzer target: arbitrary method bodies (valid IL mutated into invalid
//! IL, with exception clauses) compiled by the JIT in the context of a real
//! corlib method (`cil_compat::fuzzing::JitBodies`; corlib read once from
//! `$CIL_FUZZ_CORLIB`, default `target/managed/mscorlib.dll`). The JIT must
//! compile or refuse each one; a panic is a bug.
#![no_main]

use std::sync::Mutex;

use cil_compat::fuzzing::JitBodies;
use libfuzzer_sys::fuzz_target;

/// The engine, kept in a global rather than a `thread_local!`: LeakSanitizer
/// does not scan Rust's lazy TLS slots, so the engine's call cells (leaked
/// `Box<u64>`s the generated code points at, reachable from the engine)
/// were reported as direct leaks.
struct Bodies(JitBodies);

// SAFETY: the engine holds raw pointers (call cells, code) that only it
// dereferences; the mutex serialises every use, and libFuzzer runs inputs on
// one thread anyway, so no pointer is used from two threads at once.
unsafe impl Send for Bodies {}

static BODIES: Mutex<Option<Bodies>> = Mutex::new(None);

fn load() -> Bodies {
    let p = std::env::var("CIL_FUZZ_CORLIB").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/managed/mscorlib.dll"
        )
        .to_string()
    });
    let corlib = std::fs::read(&p)
        .unwrap_or_else(|e| panic!("read corlib {p}: {e} (build it with cargo test first)"));
    Bodies(JitBodies::new(&corlib).unwrap_or_else(|| panic!("{p} does not load as a corlib")))
}

fuzz_target!(|data: &[u8]| {
    let mut g = BODIES.lock().unwrap_or_else(|e| e.into_inner());
    let _ = g.get_or_insert_with(load).0.run(data);
});
