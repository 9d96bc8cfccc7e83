//! libFuzzer target: the native virtio-blk driver bound to a device model
//! that lies as the input says (`virtio_blk::fuzzing::fuzz_one`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    virtio_blk::fuzzing::fuzz_one(data);
});
