//! x86-64 backend: registers, addresses, encoding, the macro assembler and the ABI.
pub mod abi;
pub mod address;
pub mod asm;
pub(crate) mod enc;
pub mod masm;
pub mod regs;
pub mod stubs;
