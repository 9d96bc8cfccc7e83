//! Driver Development Kit: types and traits shared by every driver, native or
//! managed, and by the kernel that implements the platform side. No asm, no
//! kernel dependency; host-testable.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

extern crate alloc;

pub mod block;

pub use block::{BlockDevice, BlockError, Lba};
