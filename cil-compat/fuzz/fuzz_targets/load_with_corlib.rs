//! libFuzzer target: arbitrary bytes loaded as a second assembly on top of our
//! corlib (read once from `$CIL_FUZZ_CORLIB`, default `target/managed/mscorlib.dll`).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn corlib() -> &'static [u8] {
    static C: OnceLock<Vec<u8>> = OnceLock::new();
    C.get_or_init(|| {
        let p = std::env::var("CIL_FUZZ_CORLIB").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/managed/mscorlib.dll"
            )
            .to_string()
        });
        std::fs::read(&p)
            .unwrap_or_else(|e| panic!("read corlib {p}: {e} (build it with cargo test first)"))
    })
}

fuzz_target!(|data: &[u8]| {
    cil_compat::fuzzing::fuzz_with_corlib(corlib(), data);
});
