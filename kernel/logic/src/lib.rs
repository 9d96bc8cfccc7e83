//! The kernel's plain logic, kept out of the kernel binary so that it builds
//! and is tested on the host (`cargo test -p kernel-logic`) as well as for
//! `x86_64-unknown-none`: the command line, the boot memory map's regions and
//! totals, and PCI resource assignment over any `ddk::pci::ConfigAccess`
//! (the kernel passes its port-I/O accessor; the tests a fake config space).
//! Nothing here touches hardware, statics or the console.

#![no_std]

extern crate alloc;

pub mod cmdline;
pub mod memmap;
pub mod pci_assign;
