//! Direct x86-64 encoding of the common instruction forms (Intel SDM Vol. 2,
//! §2.1–2.2: REX prefix, ModR/M, SIB, displacements). Each helper appends one
//! instruction to a byte buffer, choosing exactly the encoding iced-x86's
//! `CodeAssembler` chooses for the same instruction (tests below compare).

use super::regs::Gpr;
use crate::masm::Address;
use crate::masm::Cond;
use crate::JitErrorKind;
use alloc::vec::Vec;

/// The condition-code nibble of `jcc`/`setcc`/`cmovcc`.
#[inline]
pub fn cc(c: Cond) -> u8 {
    match c {
        Cond::O => 0x0,
        Cond::B => 0x2,
        Cond::Ae => 0x3,
        Cond::E => 0x4,
        Cond::Ne => 0x5,
        Cond::Be => 0x6,
        Cond::A => 0x7,
        Cond::S => 0x8,
        Cond::P => 0xA,
        Cond::Np => 0xB,
        Cond::L => 0xC,
        Cond::Ge => 0xD,
        Cond::Le => 0xE,
        Cond::G => 0xF,
    }
}

/// A REX prefix when needed: 64-bit operand size (`w`), an extended register in
/// the ModR/M reg field, SIB index or ModR/M rm/SIB base, or `force` (byte
/// registers spl/bpl/sil/dil).
#[inline]
pub fn rex(b: &mut Vec<u8>, w: bool, reg: u8, index: u8, base: u8, force: bool) {
    let v =
        0x40 | (w as u8) << 3 | ((reg >> 3) & 1) << 2 | ((index >> 3) & 1) << 1 | ((base >> 3) & 1);
    if v != 0x40 || force {
        b.push(v);
    }
}

/// One instruction's bytes gathered on the stack, then appended to the code
/// buffer with one fixed-size copy: pushing byte by byte checked the
/// buffer's capacity for every byte, and `extend_from_slice` of a short
/// slice calls `memcpy`; these encoders run for most instructions.
struct Inst {
    b: [u8; 16],
    n: usize,
}

impl Inst {
    #[inline(always)]
    fn new() -> Self {
        Inst { b: [0; 16], n: 0 }
    }

    /// Appends a byte (an x86-64 instruction is at most 15).
    #[inline(always)]
    fn push(&mut self, x: u8) {
        self.b[self.n] = x;
        self.n += 1;
    }

    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        for &x in bytes {
            self.push(x);
        }
    }

    /// [`rex`] into the instruction.
    #[inline(always)]
    fn rex(&mut self, w: bool, reg: u8, index: u8, base: u8, force: bool) {
        let v = 0x40
            | (w as u8) << 3
            | ((reg >> 3) & 1) << 2
            | ((index >> 3) & 1) << 1
            | ((base >> 3) & 1);
        if v != 0x40 || force {
            self.push(v);
        }
    }

    /// Appends the instruction to `out`: all 16 bytes copied (a fixed-size
    /// move, no `memcpy` call), the unused tail cut off again.
    #[inline(always)]
    fn flush(&self, out: &mut Vec<u8>) {
        let len = out.len() + self.n;
        out.extend_from_slice(&self.b);
        out.truncate(len);
    }
}

/// `opcode /r` with a register operand in rm (ModR/M mod = 11).
#[inline]
pub fn op_rr(b: &mut Vec<u8>, w: bool, opcode: &[u8], reg: u8, rm: Gpr) {
    op_rr_f(b, w, false, opcode, reg, rm)
}

/// `op_rr` that can force a REX prefix (byte registers).
#[inline]
pub fn op_rr_f(b: &mut Vec<u8>, w: bool, force: bool, opcode: &[u8], reg: u8, rm: Gpr) {
    let mut i = Inst::new();
    i.rex(w, reg, 0, rm.0, force);
    i.put(opcode);
    i.push(0xC0 | (reg & 7) << 3 | (rm.0 & 7));
    i.flush(b);
}

/// `opcode /r` with a memory operand.
#[inline]
pub fn op_rm(
    b: &mut Vec<u8>,
    w: bool,
    force: bool,
    opcode: &[u8],
    reg: u8,
    m: Address,
) -> Result<(), JitErrorKind> {
    let base = m.base.0 & 15;
    let index = m.index.map_or(0, |(i, _)| i.0 & 15);
    let mut ins = Inst::new();
    ins.rex(w, reg, index, base, force);
    ins.put(opcode);
    let disp = m.disp;
    // mod: no displacement unless the base is rbp/r13 (that encoding means
    // rip-relative or disp32-only), else disp8 when it fits, else disp32.
    let md: u8 = if disp == 0 && base & 7 != 5 {
        0
    } else if disp as i8 as i32 == disp {
        1
    } else {
        2
    };
    let r = (reg & 7) << 3;
    match m.index {
        None if base & 7 != 4 => ins.push(md << 6 | r | (base & 7)),
        None => {
            ins.push(md << 6 | r | 4);
            ins.push(0x24);
        }
        Some((i, scale)) => {
            if i.0 & 15 == 4 {
                return Err(JitErrorKind::Internal("rsp as an index register".into()));
            }
            let ss = match scale {
                1 => 0,
                2 => 1,
                4 => 2,
                8 => 3,
                _ => {
                    return Err(JitErrorKind::Internal(
                        alloc::format!("scale {scale}").into(),
                    ))
                }
            };
            ins.push(md << 6 | r | 4);
            ins.push(ss << 6 | (index & 7) << 3 | (base & 7));
        }
    }
    match md {
        1 => ins.push(disp as i8 as u8),
        2 => ins.put(&disp.to_le_bytes()),
        _ => {}
    }
    ins.flush(b);
    Ok(())
}

/// `setcc r8`.
#[inline]
pub fn setcc(b: &mut Vec<u8>, c: Cond, d: Gpr) {
    op_rr_f(b, false, (4..8).contains(&d.0), &[0x0F, 0x90 | cc(c)], 0, d);
}

/// `mov r64, imm64` (the 10-byte form; the immediate is at byte +2).
#[inline]
pub fn mov_r64_imm64(b: &mut Vec<u8>, d: Gpr, imm: u64) {
    rex(b, true, 0, 0, d.0, false);
    b.push(0xB8 + (d.0 & 7));
    b.extend_from_slice(&imm.to_le_bytes());
}

/// The ALU opcode extension (`/digit` of 0x81/0x83) and the base of the
/// `op r/m, r` opcode.
#[inline]
pub fn alu_codes(op: crate::masm::AluOp) -> (u8, u8) {
    use crate::masm::AluOp;
    match op {
        AluOp::Add => (0, 0x01),
        AluOp::Or => (1, 0x09),
        AluOp::And => (4, 0x21),
        AluOp::Sub => (5, 0x29),
        AluOp::Xor => (6, 0x31),
        AluOp::Cmp => (7, 0x39),
        AluOp::Test => (0, 0x85),
    }
}

/// `op r, imm32` as iced chooses it: the short rax/eax form whenever the
/// register is rax, else the sign-extended imm8 form when it fits (`test` has
/// none), else imm32.
#[inline]
pub fn alu_ri(b: &mut Vec<u8>, op: crate::masm::AluOp, w: bool, d: Gpr, imm: i32) {
    use crate::masm::AluOp;
    let (ext, rr) = alu_codes(op);
    if op == AluOp::Test {
        if d.0 == 0 {
            rex(b, w, 0, 0, 0, false);
            b.push(0xA9);
        } else {
            op_rr(b, w, &[0xF7], 0, d);
        }
        b.extend_from_slice(&imm.to_le_bytes());
    } else if d.0 == 0 {
        rex(b, w, 0, 0, 0, false);
        b.push(rr + 4);
        b.extend_from_slice(&imm.to_le_bytes());
    } else if imm as i8 as i32 == imm {
        op_rr(b, w, &[0x83], ext, d);
        b.push(imm as i8 as u8);
    } else {
        op_rr(b, w, &[0x81], ext, d);
        b.extend_from_slice(&imm.to_le_bytes());
    }
}

/// An 8-bit immediate given as i32, accepted in -128..=255 like iced-x86.
#[inline]
pub fn imm8(b: &mut Vec<u8>, imm: i32) -> Result<(), JitErrorKind> {
    if !(-128..=255).contains(&imm) {
        return Err(JitErrorKind::Internal(
            alloc::format!("imm8 out of range: {imm}").into(),
        ));
    }
    b.push(imm as u8);
    Ok(())
}

/// A 16-bit immediate given as i32, accepted in -32768..=65535 like iced-x86.
#[inline]
pub fn imm16(b: &mut Vec<u8>, imm: i32) -> Result<(), JitErrorKind> {
    if !(-32768..=65535).contains(&imm) {
        return Err(JitErrorKind::Internal(
            alloc::format!("imm16 out of range: {imm}").into(),
        ));
    }
    b.extend_from_slice(&(imm as u16).to_le_bytes());
    Ok(())
}
