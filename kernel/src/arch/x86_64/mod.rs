//! Everything architecture-specific for x86_64; the only place in the kernel
//! with inline assembly.

pub mod apic;
pub mod boot;
pub mod cpu;
pub mod gdt;
pub mod idt;
mod mem;
