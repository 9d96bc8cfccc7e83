//! Baseline CIL → x86-64 compiler: IL decoder → validating visitor over a typed
//! abstract stack → CodeGen → MacroAssembler → x86-64 backend.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
