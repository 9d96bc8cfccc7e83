//! libFuzzer target: arbitrary bytes through the PE/metadata reader, every
//! signature and method body, and a load into a fresh type system (as a corlib).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cil_compat::fuzzing::fuzz_one(data);
});
