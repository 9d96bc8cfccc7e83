//! Driver Development Kit: types and traits shared by every driver, native or
//! managed, and by the kernel that implements the platform side. No asm, no
//! kernel dependency; host-testable.
//!
//! Layers, bottom up:
//! - [`wire`]: the status codes ([`DdkError`]) and access widths every layer
//!   and the ABI share; a leaf.
//! - [`abi`]: the versioned `#[repr(C)]` table of `extern "C"` entries
//!   ([`abi::DdkAbi`]) — the one contract between a platform (the kernel, or the
//!   host fakes in [`testing`]) and every driver. Managed drivers bind to its
//!   entries by name ([`abi::ENTRIES`]).
//! - [`platform`]: [`Platform`], the typed Rust face of that table, and the
//!   [`abi::Backend`] trait a platform implements to *produce* a table.
//! - [`pci`], [`mmio`], [`dma`]: typed PCI, register and DMA access on top.
//! - [`block`], [`driver`], [`virtio`]: the block contract (the cache over it
//!   lives with storage, in `disks`), driver matching and
//!   the virtio 1.2 wire structures.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

extern crate alloc;

pub mod abi;
pub mod block;
pub mod dma;
pub mod driver;
pub mod mmio;
pub mod pci;
pub mod platform;
pub mod virtio;
pub mod wire;

#[cfg(feature = "testing")]
pub mod testing;

pub use abi::{DdkAbi, DdkError};
pub use block::{BlockDevice, BlockError, Lba, ReadRequest};
pub use dma::{Dma, Hal, PhysAddr};
pub use mmio::{ReadOnly, ReadWrite, Region, WriteOnly};
pub use pci::{Bar, PciAddress, PciDevice};
pub use platform::Platform;
