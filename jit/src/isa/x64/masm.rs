//! `MacroAssembler` for x86-64: each trait method lowers to one or a few
//! instructions of `asm.rs`; the prologue is assembled last, once the frame size
//! and the callee-saved registers in use are known (see `abi.rs`).

use super::asm::Assembler;
use super::enc;
use super::regs::*;
use crate::masm::*;
use alloc::vec::Vec;

/// The x86-64 macro assembler.
pub struct X64Masm {
    pub(crate) asm: Assembler,
    /// Marks just after each `call_entry`'s rel32 (patched in `finish`).
    entry_calls: Vec<usize>,
}

impl X64Masm {
    pub fn new() -> MResult<Self> {
        Ok(X64Masm {
            asm: Assembler::new()?,
            entry_calls: Vec::new(),
        })
    }

    /// A macro assembler with buffers sized for `il_len` bytes of IL.
    pub fn with_capacity(il_len: usize) -> MResult<Self> {
        Ok(X64Masm {
            asm: Assembler::with_capacity(il_len)?,
            entry_calls: Vec::new(),
        })
    }
}

/// The `/digit` of the shift group (C1/D1/D3).
fn shift_ext(kind: ShiftKind) -> u8 {
    match kind {
        ShiftKind::Shl => 4,
        ShiftKind::Shr => 5,
        ShiftKind::Sar => 7,
    }
}

/// `prefix [REX] 0F op /r`, register to register (SSE2; `reg`/`rm` are register
/// numbers, xmm or general purpose as the instruction defines).
fn sse_rr(b: &mut Vec<u8>, prefix: u8, w: bool, op: u8, reg: u8, rm: u8) {
    b.push(prefix);
    enc::op_rr(b, w, &[0x0F, op], reg, Gpr(rm));
}

/// `prefix [REX] 0F op /r` with a memory operand.
fn sse_rm(b: &mut Vec<u8>, prefix: u8, w: bool, op: u8, reg: u8, m: Address) -> MResult {
    b.push(prefix);
    enc::op_rm(b, w, false, &[0x0F, op], reg, m)
}

impl MacroAssembler for X64Masm {
    fn new_label(&mut self) -> Label {
        Label(self.asm.create_label())
    }
    fn bind(&mut self, label: Label) -> MResult {
        self.asm.bind(label.0)
    }
    fn jmp(&mut self, label: Label) -> MResult {
        self.asm.jmp(label.0)
    }
    fn jcc(&mut self, cond: Cond, label: Label) -> MResult {
        self.asm.jcc(cond, label.0)
    }
    fn mark(&mut self) -> MResult<usize> {
        Ok(self.asm.mark())
    }
    fn mov_rr(&mut self, dst: Gpr, src: Gpr, size: OperandSize) -> MResult {
        if dst == src && size == OperandSize::S64 {
            return Ok(());
        }
        self.asm.mov_rr(dst, src, size)
    }
    fn mov_ri(&mut self, dst: Gpr, imm: i64, size: OperandSize) -> MResult {
        self.asm.mov_ri(dst, imm, size)
    }
    fn mov_ri64_patchable(&mut self, dst: Gpr, imm: u64) -> MResult<usize> {
        let m = self.asm.mark();
        enc::mov_r64_imm64(&mut self.asm.buf, dst, imm);
        Ok(m)
    }
    fn load(&mut self, dst: Gpr, src: Address, size: OperandSize) -> MResult {
        self.asm.mov_rm(dst, src, size)
    }
    fn load_ext(&mut self, dst: Gpr, src: Address, ext: Extend) -> MResult {
        let (w, op): (bool, &[u8]) = match ext {
            Extend::I8 => (false, &[0x0F, 0xBE]),
            Extend::U8 => (false, &[0x0F, 0xB6]),
            Extend::I16 => (false, &[0x0F, 0xBF]),
            Extend::U16 => (false, &[0x0F, 0xB7]),
            Extend::I32 => (true, &[0x63]),
            Extend::U32 => (false, &[0x8B]),
        };
        enc::op_rm(&mut self.asm.buf, w, false, op, dst.0, src)
    }
    fn store(&mut self, dst: Address, src: Gpr, size: OperandSize) -> MResult {
        self.asm.mov_mr(dst, src, size)
    }
    fn store_imm(&mut self, dst: Address, imm: i32, size: OperandSize) -> MResult {
        self.asm.mov_mi(dst, imm, size)
    }
    fn lea(&mut self, dst: Gpr, src: Address) -> MResult {
        enc::op_rm(&mut self.asm.buf, true, false, &[0x8D], dst.0, src)
    }
    fn alu_rr(&mut self, op: AluOp, dst: Gpr, src: Gpr, size: OperandSize) -> MResult {
        let w = size == OperandSize::S64;
        enc::op_rr(&mut self.asm.buf, w, &[enc::alu_codes(op).1], src.0, dst);
        Ok(())
    }
    fn alu_ri(&mut self, op: AluOp, dst: Gpr, imm: i32, size: OperandSize) -> MResult {
        enc::alu_ri(&mut self.asm.buf, op, size == OperandSize::S64, dst, imm);
        Ok(())
    }
    fn alu_mi(&mut self, op: AluOp, dst: Address, imm: i32, size: OperandSize) -> MResult {
        let b = &mut self.asm.buf;
        let (ext, _) = enc::alu_codes(op);
        let w = size == OperandSize::S64;
        if size == OperandSize::S16 {
            b.push(0x66);
        }
        let fits8 = imm as i8 as i32 == imm;
        match (op, size) {
            (AluOp::Test, OperandSize::S8) => {
                enc::op_rm(b, false, false, &[0xF6], 0, dst)?;
                enc::imm8(b, imm)
            }
            (AluOp::Test, OperandSize::S16) => {
                enc::op_rm(b, false, false, &[0xF7], 0, dst)?;
                enc::imm16(b, imm)
            }
            (AluOp::Test, _) => {
                enc::op_rm(b, w, false, &[0xF7], 0, dst)?;
                b.extend_from_slice(&imm.to_le_bytes());
                Ok(())
            }
            (_, OperandSize::S8) => {
                enc::op_rm(b, false, false, &[0x80], ext, dst)?;
                enc::imm8(b, imm)
            }
            _ if fits8 => {
                enc::op_rm(b, w, false, &[0x83], ext, dst)?;
                b.push(imm as u8);
                Ok(())
            }
            (_, OperandSize::S16) => {
                enc::op_rm(b, false, false, &[0x81], ext, dst)?;
                enc::imm16(b, imm)
            }
            _ => {
                enc::op_rm(b, w, false, &[0x81], ext, dst)?;
                b.extend_from_slice(&imm.to_le_bytes());
                Ok(())
            }
        }
    }
    fn imul_rr(&mut self, dst: Gpr, src: Gpr, size: OperandSize) -> MResult {
        let w = size == OperandSize::S64;
        enc::op_rr(&mut self.asm.buf, w, &[0x0F, 0xAF], dst.0, src);
        Ok(())
    }
    fn imul_rri(&mut self, dst: Gpr, src: Gpr, imm: i32, size: OperandSize) -> MResult {
        let w = size == OperandSize::S64;
        let b = &mut self.asm.buf;
        if imm as i8 as i32 == imm {
            enc::op_rr(b, w, &[0x6B], dst.0, src);
            b.push(imm as u8);
        } else {
            enc::op_rr(b, w, &[0x69], dst.0, src);
            b.extend_from_slice(&imm.to_le_bytes());
        }
        Ok(())
    }
    fn muldiv(&mut self, kind: MulDivKind, src: Gpr, size: OperandSize) -> MResult {
        let ext = match kind {
            MulDivKind::SDiv => 7,
            MulDivKind::UDiv => 6,
            MulDivKind::UMul => 4,
        };
        enc::op_rr(
            &mut self.asm.buf,
            size == OperandSize::S64,
            &[0xF7],
            ext,
            src,
        );
        Ok(())
    }
    fn sign_extend_rax(&mut self, size: OperandSize) -> MResult {
        match size {
            OperandSize::S64 => self.asm.buf.extend_from_slice(&[0x48, 0x99]),
            _ => self.asm.buf.push(0x99),
        }
        Ok(())
    }
    fn shift_cl(&mut self, kind: ShiftKind, dst: Gpr, size: OperandSize) -> MResult {
        let w = size == OperandSize::S64;
        enc::op_rr(&mut self.asm.buf, w, &[0xD3], shift_ext(kind), dst);
        Ok(())
    }
    fn shift_ri(&mut self, kind: ShiftKind, dst: Gpr, amount: u8, size: OperandSize) -> MResult {
        let w = size == OperandSize::S64;
        let b = &mut self.asm.buf;
        if amount == 1 {
            enc::op_rr(b, w, &[0xD1], shift_ext(kind), dst);
        } else {
            enc::op_rr(b, w, &[0xC1], shift_ext(kind), dst);
            b.push(amount);
        }
        Ok(())
    }
    fn neg(&mut self, dst: Gpr, size: OperandSize) -> MResult {
        enc::op_rr(&mut self.asm.buf, size == OperandSize::S64, &[0xF7], 3, dst);
        Ok(())
    }
    fn not(&mut self, dst: Gpr, size: OperandSize) -> MResult {
        enc::op_rr(&mut self.asm.buf, size == OperandSize::S64, &[0xF7], 2, dst);
        Ok(())
    }
    fn extend(&mut self, dst: Gpr, src: Gpr, ext: Extend) -> MResult {
        let b = &mut self.asm.buf;
        let byte = (4..8).contains(&src.0);
        match ext {
            Extend::I8 => enc::op_rr_f(b, false, byte, &[0x0F, 0xBE], dst.0, src),
            Extend::U8 => enc::op_rr_f(b, false, byte, &[0x0F, 0xB6], dst.0, src),
            Extend::I16 => enc::op_rr(b, false, &[0x0F, 0xBF], dst.0, src),
            Extend::U16 => enc::op_rr(b, false, &[0x0F, 0xB7], dst.0, src),
            Extend::I32 => enc::op_rr(b, true, &[0x63], dst.0, src),
            Extend::U32 => enc::op_rr(b, false, &[0x89], src.0, dst),
        }
        Ok(())
    }
    fn setcc(&mut self, cond: Cond, dst: Gpr) -> MResult {
        self.asm.setcc_r(cond, dst)?;
        let force = (4..8).contains(&dst.0);
        enc::op_rr_f(&mut self.asm.buf, false, force, &[0x0F, 0xB6], dst.0, dst);
        Ok(())
    }
    fn call_reg(&mut self, target: Gpr) -> MResult {
        enc::op_rr(&mut self.asm.buf, false, &[0xFF], 2, target);
        Ok(())
    }
    fn call_label(&mut self, label: Label) -> MResult {
        self.asm.call_label(label.0)
    }
    fn call_entry(&mut self) -> MResult {
        // E8 rel32, the displacement filled in by `finish` once the prologue's
        // length (hence the body's distance from the entry) is known.
        self.asm.buf.extend_from_slice(&[0xE8, 0, 0, 0, 0]);
        let m = self.asm.mark();
        self.entry_calls.push(m);
        Ok(())
    }
    fn ret(&mut self) -> MResult {
        self.asm.buf.push(0xC3);
        Ok(())
    }
    fn call_mem(&mut self, target: Address) -> MResult {
        enc::op_rm(&mut self.asm.buf, false, false, &[0xFF], 2, target)
    }
    fn rep_movsb(&mut self) -> MResult {
        self.asm.buf.extend_from_slice(&[0xF3, 0xA4]);
        Ok(())
    }
    fn rep_stosb(&mut self) -> MResult {
        self.asm.buf.extend_from_slice(&[0xF3, 0xAA]);
        Ok(())
    }
    fn epilogue(&mut self, saved: &[(Gpr, i32)]) -> MResult {
        for &(reg, off) in saved {
            self.asm
                .mov_rm(reg, Address::offset(RBP, off), OperandSize::S64)?;
        }
        // leave; ret
        self.asm.buf.extend_from_slice(&[0xC9, 0xC3]);
        Ok(())
    }
    fn fload(&mut self, dst: Xmm, src: Address, single: bool) -> MResult {
        if single {
            sse_rm(&mut self.asm.buf, 0xF3, false, 0x5A, dst.0, src)
        } else {
            sse_rm(&mut self.asm.buf, 0xF2, false, 0x10, dst.0, src)
        }
    }
    fn fstore(&mut self, dst: Address, src: Xmm, single: bool) -> MResult {
        if single {
            sse_rr(&mut self.asm.buf, 0xF2, false, 0x5A, XMM_SCRATCH.0, src.0);
            sse_rm(&mut self.asm.buf, 0xF3, false, 0x11, XMM_SCRATCH.0, dst)
        } else {
            sse_rm(&mut self.asm.buf, 0xF2, false, 0x11, src.0, dst)
        }
    }
    fn fmov(&mut self, dst: Xmm, src: Xmm) -> MResult {
        if dst == src {
            return Ok(());
        }
        sse_rr(&mut self.asm.buf, 0x66, false, 0x28, dst.0, src.0);
        Ok(())
    }
    fn fop(&mut self, op: FloatOp, dst: Xmm, src: Xmm) -> MResult {
        let opc = match op {
            FloatOp::Add => 0x58,
            FloatOp::Sub => 0x5C,
            FloatOp::Mul => 0x59,
            FloatOp::Div => 0x5E,
        };
        sse_rr(&mut self.asm.buf, 0xF2, false, opc, dst.0, src.0);
        Ok(())
    }
    fn fcmp(&mut self, a: Xmm, b: Xmm) -> MResult {
        sse_rr(&mut self.asm.buf, 0x66, false, 0x2E, a.0, b.0);
        Ok(())
    }
    fn cvt_i2f(&mut self, dst: Xmm, src: Gpr, size: OperandSize) -> MResult {
        // Clear the destination first: cvtsi2sd merges into the upper lanes.
        sse_rr(&mut self.asm.buf, 0x66, false, 0x57, dst.0, dst.0);
        let w = size == OperandSize::S64;
        sse_rr(&mut self.asm.buf, 0xF2, w, 0x2A, dst.0, src.0);
        Ok(())
    }
    fn cvt_i2f_single(&mut self, dst: Xmm, src: Gpr, size: OperandSize) -> MResult {
        sse_rr(&mut self.asm.buf, 0x66, false, 0x57, dst.0, dst.0);
        let w = size == OperandSize::S64;
        sse_rr(&mut self.asm.buf, 0xF3, w, 0x2A, dst.0, src.0);
        sse_rr(&mut self.asm.buf, 0xF3, false, 0x5A, dst.0, dst.0);
        Ok(())
    }
    fn cvt_f2i(&mut self, dst: Gpr, src: Xmm, size: OperandSize) -> MResult {
        let w = size == OperandSize::S64;
        sse_rr(&mut self.asm.buf, 0xF2, w, 0x2C, dst.0, src.0);
        Ok(())
    }
    fn fround_single(&mut self, v: Xmm) -> MResult {
        sse_rr(&mut self.asm.buf, 0xF2, false, 0x5A, v.0, v.0);
        sse_rr(&mut self.asm.buf, 0xF3, false, 0x5A, v.0, v.0);
        Ok(())
    }
    fn movq_xr(&mut self, dst: Xmm, src: Gpr) -> MResult {
        sse_rr(&mut self.asm.buf, 0x66, true, 0x6E, dst.0, src.0);
        Ok(())
    }
    fn movq_rx(&mut self, dst: Gpr, src: Xmm) -> MResult {
        sse_rr(&mut self.asm.buf, 0x66, true, 0x7E, src.0, dst.0);
        Ok(())
    }
    fn fxor(&mut self, dst: Xmm, src: Xmm) -> MResult {
        sse_rr(&mut self.asm.buf, 0x66, false, 0x57, dst.0, src.0);
        Ok(())
    }
    fn narrow_to_single(&mut self, v: Xmm) -> MResult {
        sse_rr(&mut self.asm.buf, 0xF2, false, 0x5A, v.0, v.0);
        Ok(())
    }
    fn widen_from_single(&mut self, v: Xmm) -> MResult {
        sse_rr(&mut self.asm.buf, 0xF3, false, 0x5A, v.0, v.0);
        Ok(())
    }
    fn fstore_raw(&mut self, dst: Address, src: Xmm, single: bool) -> MResult {
        let prefix = if single { 0xF3 } else { 0xF2 };
        sse_rm(&mut self.asm.buf, prefix, false, 0x11, src.0, dst)
    }

    fn finish(mut self, frame: &FrameInfo) -> MResult<Assembled> {
        let (body, body_marks) = self.asm.assemble()?;
        // The body is position independent (relative branches, absolute calls
        // through registers), so the prologue is simply prepended:
        // push rbp; mov rbp, rsp; sub rsp, frame; mov [rbp+off], saved.
        let mut code = Vec::with_capacity(body.len() + 16 + 8 * frame.saved.len());
        code.extend_from_slice(&[0x55, 0x48, 0x89, 0xE5]);
        if frame.frame_size > 0 {
            enc::alu_ri(&mut code, AluOp::Sub, true, RSP, frame.frame_size as i32);
        }
        for &(reg, off) in &frame.saved {
            enc::op_rm(
                &mut code,
                true,
                false,
                &[0x89],
                reg.0,
                Address::offset(RBP, off),
            )?;
        }
        let base = code.len() as u32;
        code.extend_from_slice(&body);
        for &m in &self.entry_calls {
            // The mark is the return address; the entry is offset 0.
            let end = body_marks
                .get(m)
                .map(|e| (e + base) as usize)
                .filter(|e| *e >= 5 && *e <= code.len() && code[*e - 5] == 0xE8)
                .ok_or_else(|| crate::JitErrorKind::Internal("self call mark lost".into()))?;
            let rel = -(end as i64) as i32;
            code[end - 4..end].copy_from_slice(&rel.to_le_bytes());
        }
        let mark_offsets: Vec<u32> = body_marks.iter().map(|m| m + base).collect();
        Ok(Assembled { code, mark_offsets })
    }
}

#[cfg(test)]
mod tests {
    //! The directly encoded forms must be byte for byte what iced-x86 assembles.
    use super::super::asm::{mem, r16, r32, r64, r8l, sized, x};
    use super::*;
    use iced_x86::code_asm::*;

    fn ours(f: impl FnOnce(&mut X64Masm)) -> Vec<u8> {
        let mut m = X64Masm::new().unwrap();
        f(&mut m);
        m.asm.assemble().unwrap().0
    }

    fn iced(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
        let mut a = CodeAssembler::new(64).unwrap();
        a.set_prefer_short_branch(false);
        f(&mut a).unwrap();
        a.assemble(0).unwrap()
    }

    fn gprs() -> impl Iterator<Item = Gpr> {
        (0..16).map(Gpr)
    }

    fn addresses() -> Vec<Address> {
        let disps = [0, 1, -1, 127, -128, 128, -129, 0x1234_5678, i32::MIN];
        let mut v = Vec::new();
        for b in gprs() {
            for &d in &disps {
                v.push(Address::offset(b, d));
            }
            for i in gprs().filter(|i| *i != RSP) {
                for s in [1u8, 2, 4, 8] {
                    v.push(Address::indexed(b, i, s, if s == 2 { 0 } else { 40 }));
                }
            }
        }
        v
    }

    const SIZES: [OperandSize; 4] = [
        OperandSize::S8,
        OperandSize::S16,
        OperandSize::S32,
        OperandSize::S64,
    ];

    #[test]
    fn moves_match_iced() {
        for d in gprs() {
            for s in gprs() {
                assert_eq!(
                    ours(|m| m.asm.mov_rr(d, s, OperandSize::S64).unwrap()),
                    iced(|a| a.mov(r64(d), r64(s)))
                );
                assert_eq!(
                    ours(|m| m.mov_rr(d, s, OperandSize::S32).unwrap()),
                    iced(|a| a.mov(r32(d), r32(s)))
                );
            }
            for imm in [
                0i64,
                1,
                -1,
                0x7fff_ffff,
                0xffff_ffff,
                -0x8000_0000,
                1 << 40,
                i64::MIN,
            ] {
                for size in [OperandSize::S32, OperandSize::S64] {
                    let reference =
                        if size != OperandSize::S64 || (0..=u32::MAX as i64).contains(&imm) {
                            if imm == 0 {
                                iced(|a| a.xor(r32(d), r32(d)))
                            } else {
                                iced(|a| a.mov(r32(d), imm as u32))
                            }
                        } else if imm as i32 as i64 == imm {
                            iced(|a| {
                                a.add_instruction(iced_x86::Instruction::with2(
                                    iced_x86::Code::Mov_rm64_imm32,
                                    iced_x86::Register::from(r64(d)),
                                    imm as i32,
                                )?)
                            })
                        } else {
                            iced(|a| a.mov(r64(d), imm))
                        };
                    assert_eq!(
                        ours(|m| m.mov_ri(d, imm, size).unwrap()),
                        reference,
                        "{d:?} {imm}"
                    );
                }
            }
            assert_eq!(
                ours(|m| {
                    m.mov_ri64_patchable(d, 0x1122_3344_5566_7788).unwrap();
                }),
                iced(|a| a.mov(r64(d), 0x1122_3344_5566_7788u64))
            );
            assert_eq!(ours(|m| m.call_reg(d).unwrap()), iced(|a| a.call(r64(d))));
            for c in [
                Cond::E,
                Cond::Ne,
                Cond::L,
                Cond::Le,
                Cond::G,
                Cond::Ge,
                Cond::B,
                Cond::Be,
                Cond::A,
                Cond::Ae,
                Cond::O,
                Cond::S,
                Cond::P,
                Cond::Np,
            ] {
                let mut want = ours(|m| m.asm.setcc_r(c, d).unwrap());
                want.clear();
                let mut a = CodeAssembler::new(64).unwrap();
                let r = match c {
                    Cond::E => a.sete(r8l(d)),
                    Cond::Ne => a.setne(r8l(d)),
                    Cond::L => a.setl(r8l(d)),
                    Cond::Le => a.setle(r8l(d)),
                    Cond::G => a.setg(r8l(d)),
                    Cond::Ge => a.setge(r8l(d)),
                    Cond::B => a.setb(r8l(d)),
                    Cond::Be => a.setbe(r8l(d)),
                    Cond::A => a.seta(r8l(d)),
                    Cond::Ae => a.setae(r8l(d)),
                    Cond::O => a.seto(r8l(d)),
                    Cond::S => a.sets(r8l(d)),
                    Cond::P => a.setp(r8l(d)),
                    Cond::Np => a.setnp(r8l(d)),
                };
                r.unwrap();
                a.movzx(r32(d), r8l(d)).unwrap();
                want.extend(a.assemble(0).unwrap());
                assert_eq!(ours(|m| m.setcc(c, d).unwrap()), want, "{c:?} {d:?}");
                // A forward and a backward branch.
                let got = ours(|m| {
                    let l = m.new_label();
                    let back = m.new_label();
                    m.bind(back).unwrap();
                    m.jcc(c, l).unwrap();
                    m.jmp(back).unwrap();
                    m.jmp(l).unwrap();
                    m.bind(l).unwrap();
                    m.call_reg(d).unwrap();
                });
                // iced's block encoder would shorten these; the reference is
                // each rel32 form encoded on its own at its address.
                use iced_x86::Code as C;
                let code = match c {
                    Cond::E => C::Je_rel32_64,
                    Cond::Ne => C::Jne_rel32_64,
                    Cond::L => C::Jl_rel32_64,
                    Cond::Le => C::Jle_rel32_64,
                    Cond::G => C::Jg_rel32_64,
                    Cond::Ge => C::Jge_rel32_64,
                    Cond::B => C::Jb_rel32_64,
                    Cond::Be => C::Jbe_rel32_64,
                    Cond::A => C::Ja_rel32_64,
                    Cond::Ae => C::Jae_rel32_64,
                    Cond::O => C::Jo_rel32_64,
                    Cond::S => C::Js_rel32_64,
                    Cond::P => C::Jp_rel32_64,
                    Cond::Np => C::Jnp_rel32_64,
                };
                let mut e = iced_x86::Encoder::new(64);
                let ins = [
                    (iced_x86::Instruction::with_branch(code, 16).unwrap(), 0),
                    (
                        iced_x86::Instruction::with_branch(C::Jmp_rel32_64, 0).unwrap(),
                        6,
                    ),
                    (
                        iced_x86::Instruction::with_branch(C::Jmp_rel32_64, 16).unwrap(),
                        11,
                    ),
                ];
                for (i, ip) in ins {
                    e.encode(&i, ip).unwrap();
                }
                let mut want = e.take_buffer();
                want.extend(iced(|a| a.call(r64(d))));
                assert_eq!(got, want, "{c:?}");
            }
        }
    }

    #[test]
    fn memory_forms_match_iced() {
        for addr in addresses() {
            let mm = mem(addr);
            for r in [RAX, RCX, RSP, RBP, RSI, RDI, R8, R12, R13, R15] {
                for size in SIZES {
                    assert_eq!(
                        ours(|m| m.load(r, addr, size).unwrap()),
                        iced(|a| match size {
                            OperandSize::S64 => a.mov(r64(r), qword_ptr(mm)),
                            OperandSize::S32 => a.mov(r32(r), dword_ptr(mm)),
                            OperandSize::S16 => a.movzx(r32(r), word_ptr(mm)),
                            OperandSize::S8 => a.movzx(r32(r), byte_ptr(mm)),
                        }),
                        "load {r:?} {addr:?} {size:?}"
                    );
                    assert_eq!(
                        ours(|m| m.store(addr, r, size).unwrap()),
                        iced(|a| match size {
                            OperandSize::S64 => a.mov(qword_ptr(mm), r64(r)),
                            OperandSize::S32 => a.mov(dword_ptr(mm), r32(r)),
                            OperandSize::S16 => a.mov(word_ptr(mm), r16(r)),
                            OperandSize::S8 => a.mov(byte_ptr(mm), r8l(r)),
                        }),
                        "store {r:?} {addr:?} {size:?}"
                    );
                }
                assert_eq!(
                    ours(|m| m.lea(r, addr).unwrap()),
                    iced(|a| a.lea(r64(r), mm))
                );
                for (ext, want) in [
                    (Extend::I8, iced(|a| a.movsx(r32(r), byte_ptr(mm)))),
                    (Extend::U8, iced(|a| a.movzx(r32(r), byte_ptr(mm)))),
                    (Extend::I16, iced(|a| a.movsx(r32(r), word_ptr(mm)))),
                    (Extend::U16, iced(|a| a.movzx(r32(r), word_ptr(mm)))),
                    (Extend::I32, iced(|a| a.movsxd(r64(r), dword_ptr(mm)))),
                    (Extend::U32, iced(|a| a.mov(r32(r), dword_ptr(mm)))),
                ] {
                    assert_eq!(ours(|m| m.load_ext(r, addr, ext).unwrap()), want, "{ext:?}");
                }
            }
            for imm in [0, -1, 0x1234_5678] {
                for size in SIZES {
                    if imm > 0x7f && size.bytes() < 4 {
                        continue;
                    }
                    assert_eq!(
                        ours(|m| m.store_imm(addr, imm, size).unwrap()),
                        iced(|a| a.mov(sized(addr, size), imm)),
                        "store_imm {addr:?} {size:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn alu_forms_match_iced() {
        let ops = [
            AluOp::Add,
            AluOp::Sub,
            AluOp::And,
            AluOp::Or,
            AluOp::Xor,
            AluOp::Cmp,
            AluOp::Test,
        ];
        for op in ops {
            for d in gprs() {
                for s in gprs() {
                    for size in [OperandSize::S32, OperandSize::S64] {
                        let want = iced(|a| match size {
                            OperandSize::S64 => {
                                let (d, s) = (r64(d), r64(s));
                                match op {
                                    AluOp::Add => a.add(d, s),
                                    AluOp::Sub => a.sub(d, s),
                                    AluOp::And => a.and(d, s),
                                    AluOp::Or => a.or(d, s),
                                    AluOp::Xor => a.xor(d, s),
                                    AluOp::Cmp => a.cmp(d, s),
                                    AluOp::Test => a.test(d, s),
                                }
                            }
                            _ => {
                                let (d, s) = (r32(d), r32(s));
                                match op {
                                    AluOp::Add => a.add(d, s),
                                    AluOp::Sub => a.sub(d, s),
                                    AluOp::And => a.and(d, s),
                                    AluOp::Or => a.or(d, s),
                                    AluOp::Xor => a.xor(d, s),
                                    AluOp::Cmp => a.cmp(d, s),
                                    AluOp::Test => a.test(d, s),
                                }
                            }
                        });
                        assert_eq!(ours(|m| m.alu_rr(op, d, s, size).unwrap()), want);
                    }
                }
                for imm in [0, 1, -1, 127, -128, 128, -129, 0x1234_5678, i32::MIN] {
                    for size in [OperandSize::S32, OperandSize::S64] {
                        let want = iced(|a| match size {
                            OperandSize::S64 => {
                                let d = r64(d);
                                match op {
                                    AluOp::Add => a.add(d, imm),
                                    AluOp::Sub => a.sub(d, imm),
                                    AluOp::And => a.and(d, imm),
                                    AluOp::Or => a.or(d, imm),
                                    AluOp::Xor => a.xor(d, imm),
                                    AluOp::Cmp => a.cmp(d, imm),
                                    AluOp::Test => a.test(d, imm),
                                }
                            }
                            _ => {
                                let d = r32(d);
                                match op {
                                    AluOp::Add => a.add(d, imm),
                                    AluOp::Sub => a.sub(d, imm),
                                    AluOp::And => a.and(d, imm),
                                    AluOp::Or => a.or(d, imm),
                                    AluOp::Xor => a.xor(d, imm),
                                    AluOp::Cmp => a.cmp(d, imm),
                                    AluOp::Test => a.test(d, imm),
                                }
                            }
                        });
                        assert_eq!(
                            ours(|m| m.alu_ri(op, d, imm, size).unwrap()),
                            want,
                            "{op:?} {d:?} {imm} {size:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_call_to_the_entry_lands_on_the_prologue_whatever_its_length() {
        for (frame_size, saved) in [(0u32, vec![]), (4096, vec![(RBX, -8), (R12, -16)])] {
            let mut m = X64Masm::new().unwrap();
            m.mov_rr(RAX, RBX, OperandSize::S64).unwrap();
            m.call_entry().unwrap();
            m.ret().unwrap();
            m.call_entry().unwrap();
            let code = m.finish(&FrameInfo { frame_size, saved }).unwrap().code;
            // Both calls end on E8 rel32 whose target is offset 0.
            // The second call ends the code; the first ends before `ret`.
            for end in [code.len() - 6, code.len()] {
                assert_eq!(code[end - 5], 0xE8, "{code:02x?}");
                let rel = i32::from_le_bytes(code[end - 4..end].try_into().unwrap());
                assert_eq!(end as i64 + rel as i64, 0, "{code:02x?}");
            }
        }
    }

    #[test]
    fn prologue_and_epilogue_match_iced() {
        let saved = [(RBX, -8), (R12, -16), (R15, -200)];
        for frame_size in [0u32, 16, 112, 128, 4096] {
            let frame = FrameInfo {
                frame_size,
                saved: saved.to_vec(),
            };
            let mut m = X64Masm::new().unwrap();
            m.epilogue(&saved).unwrap();
            let got = m.finish(&frame).unwrap().code;
            let want = iced(|a| {
                a.push(rbp)?;
                a.mov(rbp, rsp)?;
                if frame_size > 0 {
                    a.sub(rsp, frame_size as i32)?;
                }
                for &(r, off) in &saved {
                    a.mov(qword_ptr(rbp + off), r64(r))?;
                }
                for &(r, off) in &saved {
                    a.mov(r64(r), qword_ptr(rbp + off))?;
                }
                a.leave()?;
                a.ret()
            });
            assert_eq!(got, want, "frame {frame_size}");
        }
    }

    #[test]
    fn other_integer_forms_match_iced() {
        for d in gprs() {
            for s in gprs() {
                for size in [OperandSize::S32, OperandSize::S64] {
                    let q = size == OperandSize::S64;
                    assert_eq!(
                        ours(|m| m.imul_rr(d, s, size).unwrap()),
                        iced(|a| if q {
                            a.imul_2(r64(d), r64(s))
                        } else {
                            a.imul_2(r32(d), r32(s))
                        })
                    );
                    for imm in [3, -128, 1000] {
                        assert_eq!(
                            ours(|m| m.imul_rri(d, s, imm, size).unwrap()),
                            iced(|a| if q {
                                a.imul_3(r64(d), r64(s), imm)
                            } else {
                                a.imul_3(r32(d), r32(s), imm)
                            })
                        );
                    }
                }
                let ext_want = [
                    (Extend::I8, iced(|a| a.movsx(r32(d), r8l(s)))),
                    (Extend::U8, iced(|a| a.movzx(r32(d), r8l(s)))),
                    (Extend::I16, iced(|a| a.movsx(r32(d), r16(s)))),
                    (Extend::U16, iced(|a| a.movzx(r32(d), r16(s)))),
                    (Extend::I32, iced(|a| a.movsxd(r64(d), r32(s)))),
                    (Extend::U32, iced(|a| a.mov(r32(d), r32(s)))),
                ];
                for (ext, want) in ext_want {
                    assert_eq!(ours(|m| m.extend(d, s, ext).unwrap()), want, "{ext:?}");
                }
            }
            for size in [OperandSize::S32, OperandSize::S64] {
                let q = size == OperandSize::S64;
                for (kind, want) in [
                    (
                        MulDivKind::SDiv,
                        iced(|a| if q { a.idiv(r64(d)) } else { a.idiv(r32(d)) }),
                    ),
                    (
                        MulDivKind::UDiv,
                        iced(|a| if q { a.div(r64(d)) } else { a.div(r32(d)) }),
                    ),
                    (
                        MulDivKind::UMul,
                        iced(|a| if q { a.mul(r64(d)) } else { a.mul(r32(d)) }),
                    ),
                ] {
                    assert_eq!(ours(|m| m.muldiv(kind, d, size).unwrap()), want);
                }
                assert_eq!(
                    ours(|m| m.neg(d, size).unwrap()),
                    iced(|a| if q { a.neg(r64(d)) } else { a.neg(r32(d)) })
                );
                assert_eq!(
                    ours(|m| m.not(d, size).unwrap()),
                    iced(|a| if q { a.not(r64(d)) } else { a.not(r32(d)) })
                );
                for kind in [ShiftKind::Shl, ShiftKind::Sar, ShiftKind::Shr] {
                    let want = iced(|a| match (kind, q) {
                        (ShiftKind::Shl, true) => a.shl(r64(d), cl),
                        (ShiftKind::Shl, false) => a.shl(r32(d), cl),
                        (ShiftKind::Sar, true) => a.sar(r64(d), cl),
                        (ShiftKind::Sar, false) => a.sar(r32(d), cl),
                        (ShiftKind::Shr, true) => a.shr(r64(d), cl),
                        (ShiftKind::Shr, false) => a.shr(r32(d), cl),
                    });
                    assert_eq!(ours(|m| m.shift_cl(kind, d, size).unwrap()), want);
                    for n in [1u8, 2, 31, 63] {
                        let k = n as i32;
                        let want = iced(|a| match (kind, q) {
                            (ShiftKind::Shl, true) => a.shl(r64(d), k),
                            (ShiftKind::Shl, false) => a.shl(r32(d), k),
                            (ShiftKind::Sar, true) => a.sar(r64(d), k),
                            (ShiftKind::Sar, false) => a.sar(r32(d), k),
                            (ShiftKind::Shr, true) => a.shr(r64(d), k),
                            (ShiftKind::Shr, false) => a.shr(r32(d), k),
                        });
                        assert_eq!(ours(|m| m.shift_ri(kind, d, n, size).unwrap()), want);
                    }
                }
            }
        }
        assert_eq!(
            ours(|m| m.sign_extend_rax(OperandSize::S64).unwrap()),
            iced(|a| a.cqo())
        );
        assert_eq!(
            ours(|m| m.sign_extend_rax(OperandSize::S32).unwrap()),
            iced(|a| a.cdq())
        );
        assert_eq!(ours(|m| m.rep_movsb().unwrap()), iced(|a| a.rep().movsb()));
        assert_eq!(ours(|m| m.rep_stosb().unwrap()), iced(|a| a.rep().stosb()));
        let ops = [
            AluOp::Add,
            AluOp::Sub,
            AluOp::And,
            AluOp::Or,
            AluOp::Xor,
            AluOp::Cmp,
            AluOp::Test,
        ];
        for addr in [
            Address::offset(RAX, 0),
            Address::offset(R13, 8),
            Address::offset(RSP, -300),
            Address::indexed(R12, R9, 8, 16),
        ] {
            for op in ops {
                for size in SIZES {
                    for imm in [0, 1, -1, 127, 200, 1000, 0x12_3456] {
                        if (size == OperandSize::S8 && imm > 255)
                            || (size == OperandSize::S16 && imm > 0xffff)
                        {
                            continue;
                        }
                        let m = sized(addr, size);
                        let want = iced(|a| match op {
                            AluOp::Add => a.add(m, imm),
                            AluOp::Sub => a.sub(m, imm),
                            AluOp::And => a.and(m, imm),
                            AluOp::Or => a.or(m, imm),
                            AluOp::Xor => a.xor(m, imm),
                            AluOp::Cmp => a.cmp(m, imm),
                            AluOp::Test => a.test(m, imm),
                        });
                        assert_eq!(
                            ours(|mm| mm.alu_mi(op, addr, imm, size).unwrap()),
                            want,
                            "{op:?} {size:?} {imm}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn sse_forms_match_iced() {
        let xs = (0..16).map(Xmm);
        for d in xs.clone() {
            for s in xs.clone() {
                for (op, want) in [
                    (FloatOp::Add, iced(|a| a.addsd(x(d), x(s)))),
                    (FloatOp::Sub, iced(|a| a.subsd(x(d), x(s)))),
                    (FloatOp::Mul, iced(|a| a.mulsd(x(d), x(s)))),
                    (FloatOp::Div, iced(|a| a.divsd(x(d), x(s)))),
                ] {
                    assert_eq!(ours(|m| m.fop(op, d, s).unwrap()), want);
                }
                assert_eq!(
                    ours(|m| m.fcmp(d, s).unwrap()),
                    iced(|a| a.ucomisd(x(d), x(s)))
                );
                assert_eq!(
                    ours(|m| m.fxor(d, s).unwrap()),
                    iced(|a| a.xorpd(x(d), x(s)))
                );
                if d != s {
                    assert_eq!(
                        ours(|m| m.fmov(d, s).unwrap()),
                        iced(|a| a.movapd(x(d), x(s)))
                    );
                }
            }
            assert_eq!(
                ours(|m| m.fround_single(d).unwrap()),
                iced(|a| {
                    a.cvtsd2ss(x(d), x(d))?;
                    a.cvtss2sd(x(d), x(d))
                })
            );
            assert_eq!(
                ours(|m| m.narrow_to_single(d).unwrap()),
                iced(|a| a.cvtsd2ss(x(d), x(d)))
            );
            assert_eq!(
                ours(|m| m.widen_from_single(d).unwrap()),
                iced(|a| a.cvtss2sd(x(d), x(d)))
            );
            for g in gprs() {
                assert_eq!(
                    ours(|m| m.movq_xr(d, g).unwrap()),
                    iced(|a| a.movq(x(d), r64(g)))
                );
                assert_eq!(
                    ours(|m| m.movq_rx(g, d).unwrap()),
                    iced(|a| a.movq(r64(g), x(d)))
                );
                assert_eq!(
                    ours(|m| m.cvt_i2f(d, g, OperandSize::S64).unwrap()),
                    iced(|a| {
                        a.xorpd(x(d), x(d))?;
                        a.cvtsi2sd(x(d), r64(g))
                    })
                );
                assert_eq!(
                    ours(|m| m.cvt_i2f(d, g, OperandSize::S32).unwrap()),
                    iced(|a| {
                        a.xorpd(x(d), x(d))?;
                        a.cvtsi2sd(x(d), r32(g))
                    })
                );
                assert_eq!(
                    ours(|m| m.cvt_f2i(g, d, OperandSize::S64).unwrap()),
                    iced(|a| a.cvttsd2si(r64(g), x(d)))
                );
                assert_eq!(
                    ours(|m| m.cvt_f2i(g, d, OperandSize::S32).unwrap()),
                    iced(|a| a.cvttsd2si(r32(g), x(d)))
                );
            }
            for addr in [
                Address::offset(RAX, 0),
                Address::offset(R13, 8),
                Address::offset(RSP, -300),
                Address::indexed(R12, R9, 8, 16),
            ] {
                let mm = mem(addr);
                assert_eq!(
                    ours(|m| m.fload(d, addr, true).unwrap()),
                    iced(|a| a.cvtss2sd(x(d), dword_ptr(mm)))
                );
                assert_eq!(
                    ours(|m| m.fload(d, addr, false).unwrap()),
                    iced(|a| a.movsd_2(x(d), qword_ptr(mm)))
                );
                assert_eq!(
                    ours(|m| m.fstore(addr, d, true).unwrap()),
                    iced(|a| {
                        a.cvtsd2ss(x(XMM_SCRATCH), x(d))?;
                        a.movss(dword_ptr(mm), x(XMM_SCRATCH))
                    })
                );
                assert_eq!(
                    ours(|m| m.fstore(addr, d, false).unwrap()),
                    iced(|a| a.movsd_2(qword_ptr(mm), x(d)))
                );
                assert_eq!(
                    ours(|m| m.fstore_raw(addr, d, true).unwrap()),
                    iced(|a| a.movss(dword_ptr(mm), x(d)))
                );
                assert_eq!(
                    ours(|m| m.fstore_raw(addr, d, false).unwrap()),
                    iced(|a| a.movsd_2(qword_ptr(mm), x(d)))
                );
            }
        }
    }
}
