//! libFuzzer target: arbitrary method bodies (valid IL mutated into invalid
//! IL, with exception clauses) compiled by the JIT in the context of a real
//! corlib method (`cil_compat::fuzzing::JitBodies`; corlib read once from
//! `$CIL_FUZZ_CORLIB`, default `target/managed/mscorlib.dll`). The JIT must
//! compile or refuse each one; a panic is a bug.
#![no_main]

use std::cell::RefCell;

use cil_compat::fuzzing::JitBodies;
use libfuzzer_sys::fuzz_target;

thread_local! {
    // The engine holds raw pointers (call cells), so it stays on the one
    // thread libFuzzer runs inputs on.
    static BODIES: RefCell<JitBodies> = RefCell::new({
        let p = std::env::var("CIL_FUZZ_CORLIB").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/managed/mscorlib.dll").to_string()
        });
        let corlib = std::fs::read(&p)
            .unwrap_or_else(|e| panic!("read corlib {p}: {e} (build it with cargo test first)"));
        JitBodies::new(&corlib).unwrap_or_else(|| panic!("{p} does not load as a corlib"))
    });
}

fuzz_target!(|data: &[u8]| {
    BODIES.with(|b| {
        let _ = b.borrow_mut().run(data);
    });
});
