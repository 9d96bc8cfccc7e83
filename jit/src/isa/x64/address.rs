//! x86-64 memory operands: `[base + index*scale + disp]`.

use super::regs::Gpr;

/// A memory address the assembler can encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address {
    pub base: Gpr,
    pub index: Option<(Gpr, u8)>,
    pub disp: i32,
}

impl Address {
    /// `[base + disp]`
    pub fn offset(base: Gpr, disp: i32) -> Self {
        Address {
            base,
            index: None,
            disp,
        }
    }
    /// `[base + index*scale + disp]`
    pub fn indexed(base: Gpr, index: Gpr, scale: u8, disp: i32) -> Self {
        Address {
            base,
            index: Some((index, scale)),
            disp,
        }
    }
    /// The same address `delta` bytes further.
    pub fn plus(self, delta: i32) -> Self {
        Address {
            disp: self.disp.wrapping_add(delta),
            ..self
        }
    }
}
