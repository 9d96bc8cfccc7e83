//! Instruction-set backends (x86-64 only).
pub mod x64;
