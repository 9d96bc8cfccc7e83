//! The kernel's plain logic, kept out of the kernel binary so that it builds
//! and is tested on the host (`cargo test -p kernel-logic`) as well as for
//! `x86_64-unknown-none`: the command line, the boot memory map's regions and
//! totals, the physical frame allocator's bookkeeping, page-table arithmetic
//! and the walk, PCI resource assignment over any `ddk::pci::ConfigAccess`,
//! and the shell's line editor. Nothing here touches hardware, statics or the
//! console: the kernel passes what does (its config-space accessor, the
//! direct map for free-list links and table reads, the UART) and the tests
//! pass fakes.

#![no_std]

extern crate alloc;

pub mod cmdline;
pub mod frames;
pub mod lineedit;
pub mod memmap;
pub mod paging;
pub mod pci_assign;
