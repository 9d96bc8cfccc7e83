//! Architecture support; x86_64 is the only target.
pub mod x86_64;
