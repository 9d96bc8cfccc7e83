//! x86-64 backend: the register names, encoding, the macro assembler (the
//! `masm::MacroAssembler` implementation) and the ABI.
pub mod abi;
pub mod asm;
pub(crate) mod enc;
pub mod masm;
pub mod regs;
pub mod stubs;
