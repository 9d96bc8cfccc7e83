//! CIL compatibility layer: ECMA-335 reader, type system, managed heap, and the
//! binding of managed imports to the DDK ABI.
//!
//! [`bundle`] reads and writes the boot-module archive (cpio) that carries the
//! assemblies to the kernel.
//!
//! Layers, bottom up: [`bytes`] (checked reads) → [`metadata`] (PE/COFF, metadata
//! root, heaps, tables, signatures, method bodies) → [`types`] (assemblies loaded
//! together, MethodTables, field layout, vtables, statics) → [`heap`] (objects,
//! arrays, strings). [`dump`] renders what the loader sees. Host-only parts (`std`
//! feature): `toolchain` (mcs/ilasm), `host` (loading files with their
//! references) and `bench`.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

extern crate alloc;

pub mod bundle;
pub mod bytes;
pub mod dump;
pub mod error;
pub mod exec;
pub mod fuzzing;
pub mod gc;
pub mod heap;
pub mod hosting;
pub mod layout;
pub mod metadata;
pub mod table_id;
pub mod types;

#[cfg(feature = "std")]
pub mod bench;
#[cfg(feature = "std")]
pub mod host;
#[cfg(feature = "std")]
pub mod toolchain;

pub use error::{Error, Result};
