//! libFuzzer target: a small FAT32 volume damaged as the input says, mounted,
//! used and remounted (`disks::fuzzing::fuzz_one`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    disks::fuzzing::fuzz_one(data);
});
