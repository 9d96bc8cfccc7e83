//! FAT32 disk images: the manifest format, the deterministic builder (host),
//! and the fatfs glue and self-test the kernel runs over a `BlockDevice`.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

extern crate alloc;
