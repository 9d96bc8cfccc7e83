//! CIL compatibility layer: ECMA-335 reader, type system, managed heap, and the
//! binding of managed imports to the DDK ABI.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

extern crate alloc;
