//! `MacroAssembler` for x86-64: each trait method lowers to one or a few
//! instructions of `asm.rs`; the prologue is assembled last, once the frame size
//! and the callee-saved registers in use are known (see `abi.rs`).

use super::asm::{mem, r32, r64, r8l, sized, x, Assembler};
use super::regs::*;
use crate::masm::*;
use alloc::vec::Vec;
use iced_x86::code_asm::*;

/// The x86-64 macro assembler.
pub struct X64Masm {
    pub(crate) asm: Assembler,
}

impl X64Masm {
    pub fn new() -> MResult<Self> {
        Ok(X64Masm {
            asm: Assembler::new()?,
        })
    }
}

macro_rules! sz {
    ($self:ident, $size:expr, $d:expr, |$r:ident| $e:expr) => {{
        let r = match $size {
            OperandSize::S64 => {
                let $r = r64($d);
                $e
            }
            _ => {
                let $r = r32($d);
                $e
            }
        };
        $self.asm.emitted(r)
    }};
}

impl MacroAssembler for X64Masm {
    fn new_label(&mut self) -> Label {
        Label(self.asm.create_label())
    }
    fn bind(&mut self, label: Label) -> MResult {
        self.asm.bind(label.0)
    }
    fn jmp(&mut self, label: Label) -> MResult {
        let l = self.asm.label(label.0);
        let r = self.asm.a.jmp(l);
        self.asm.emitted(r)
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
        let r = self.asm.a.mov(r64(dst), imm);
        self.asm.emitted(r)?;
        Ok(m)
    }
    fn load(&mut self, dst: Gpr, src: Address, size: OperandSize) -> MResult {
        self.asm.mov_rm(dst, src, size)
    }
    fn load_ext(&mut self, dst: Gpr, src: Address, ext: Extend) -> MResult {
        let m = mem(src);
        let r = match ext {
            Extend::I8 => self.asm.a.movsx(r32(dst), byte_ptr(m)),
            Extend::U8 => self.asm.a.movzx(r32(dst), byte_ptr(m)),
            Extend::I16 => self.asm.a.movsx(r32(dst), word_ptr(m)),
            Extend::U16 => self.asm.a.movzx(r32(dst), word_ptr(m)),
            Extend::I32 => self.asm.a.movsxd(r64(dst), dword_ptr(m)),
            Extend::U32 => self.asm.a.mov(r32(dst), dword_ptr(m)),
        };
        self.asm.emitted(r)
    }
    fn store(&mut self, dst: Address, src: Gpr, size: OperandSize) -> MResult {
        self.asm.mov_mr(dst, src, size)
    }
    fn store_imm(&mut self, dst: Address, imm: i32, size: OperandSize) -> MResult {
        self.asm.mov_mi(dst, imm, size)
    }
    fn lea(&mut self, dst: Gpr, src: Address) -> MResult {
        let r = self.asm.a.lea(r64(dst), mem(src));
        self.asm.emitted(r)
    }
    fn alu_rr(&mut self, op: AluOp, dst: Gpr, src: Gpr, size: OperandSize) -> MResult {
        let a = &mut self.asm.a;
        let r = match size {
            OperandSize::S64 => {
                let (d, s) = (r64(dst), r64(src));
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
                let (d, s) = (r32(dst), r32(src));
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
        };
        self.asm.emitted(r)
    }
    fn alu_ri(&mut self, op: AluOp, dst: Gpr, imm: i32, size: OperandSize) -> MResult {
        let a = &mut self.asm.a;
        let r = match size {
            OperandSize::S64 => {
                let d = r64(dst);
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
                let d = r32(dst);
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
        };
        self.asm.emitted(r)
    }
    fn alu_mi(&mut self, op: AluOp, dst: Address, imm: i32, size: OperandSize) -> MResult {
        let a = &mut self.asm.a;
        let m = sized(dst, size);
        let r = match op {
            AluOp::Add => a.add(m, imm),
            AluOp::Sub => a.sub(m, imm),
            AluOp::And => a.and(m, imm),
            AluOp::Or => a.or(m, imm),
            AluOp::Xor => a.xor(m, imm),
            AluOp::Cmp => a.cmp(m, imm),
            AluOp::Test => a.test(m, imm),
        };
        self.asm.emitted(r)
    }
    fn imul_rr(&mut self, dst: Gpr, src: Gpr, size: OperandSize) -> MResult {
        let a = &mut self.asm.a;
        let r = match size {
            OperandSize::S64 => a.imul_2(r64(dst), r64(src)),
            _ => a.imul_2(r32(dst), r32(src)),
        };
        self.asm.emitted(r)
    }
    fn imul_rri(&mut self, dst: Gpr, src: Gpr, imm: i32, size: OperandSize) -> MResult {
        let a = &mut self.asm.a;
        let r = match size {
            OperandSize::S64 => a.imul_3(r64(dst), r64(src), imm),
            _ => a.imul_3(r32(dst), r32(src), imm),
        };
        self.asm.emitted(r)
    }
    fn muldiv(&mut self, kind: MulDivKind, src: Gpr, size: OperandSize) -> MResult {
        let a = &mut self.asm.a;
        let r = match (kind, size) {
            (MulDivKind::SDiv, OperandSize::S64) => a.idiv(r64(src)),
            (MulDivKind::SDiv, _) => a.idiv(r32(src)),
            (MulDivKind::UDiv, OperandSize::S64) => a.div(r64(src)),
            (MulDivKind::UDiv, _) => a.div(r32(src)),
            (MulDivKind::UMul, OperandSize::S64) => a.mul(r64(src)),
            (MulDivKind::UMul, _) => a.mul(r32(src)),
        };
        self.asm.emitted(r)
    }
    fn sign_extend_rax(&mut self, size: OperandSize) -> MResult {
        let r = match size {
            OperandSize::S64 => self.asm.a.cqo(),
            _ => self.asm.a.cdq(),
        };
        self.asm.emitted(r)
    }
    fn shift_cl(&mut self, kind: ShiftKind, dst: Gpr, size: OperandSize) -> MResult {
        let a = &mut self.asm.a;
        sz!(self, size, dst, |d| match kind {
            ShiftKind::Shl => a.shl(d, cl),
            ShiftKind::Sar => a.sar(d, cl),
            ShiftKind::Shr => a.shr(d, cl),
        })
    }
    fn shift_ri(&mut self, kind: ShiftKind, dst: Gpr, amount: u8, size: OperandSize) -> MResult {
        let a = &mut self.asm.a;
        let n = amount as i32;
        sz!(self, size, dst, |d| match kind {
            ShiftKind::Shl => a.shl(d, n),
            ShiftKind::Sar => a.sar(d, n),
            ShiftKind::Shr => a.shr(d, n),
        })
    }
    fn neg(&mut self, dst: Gpr, size: OperandSize) -> MResult {
        let a = &mut self.asm.a;
        sz!(self, size, dst, |d| a.neg(d))
    }
    fn not(&mut self, dst: Gpr, size: OperandSize) -> MResult {
        let a = &mut self.asm.a;
        sz!(self, size, dst, |d| a.not(d))
    }
    fn extend(&mut self, dst: Gpr, src: Gpr, ext: Extend) -> MResult {
        let a = &mut self.asm.a;
        let r = match ext {
            Extend::I8 => a.movsx(r32(dst), r8l(src)),
            Extend::U8 => a.movzx(r32(dst), r8l(src)),
            Extend::I16 => a.movsx(r32(dst), super::asm::r16(src)),
            Extend::U16 => a.movzx(r32(dst), super::asm::r16(src)),
            Extend::I32 => a.movsxd(r64(dst), r32(src)),
            Extend::U32 => a.mov(r32(dst), r32(src)),
        };
        self.asm.emitted(r)
    }
    fn setcc(&mut self, cond: Cond, dst: Gpr) -> MResult {
        self.asm.setcc_r(cond, dst)?;
        let r = self.asm.a.movzx(r32(dst), r8l(dst));
        self.asm.emitted(r)
    }
    fn call_reg(&mut self, target: Gpr) -> MResult {
        let r = self.asm.a.call(r64(target));
        self.asm.emitted(r)
    }
    fn call_mem(&mut self, target: Address) -> MResult {
        let r = self.asm.a.call(qword_ptr(mem(target)));
        self.asm.emitted(r)
    }
    fn rep_movsb(&mut self) -> MResult {
        let r = self.asm.a.rep().movsb();
        self.asm.emitted(r)
    }
    fn rep_stosb(&mut self) -> MResult {
        let r = self.asm.a.rep().stosb();
        self.asm.emitted(r)
    }
    fn epilogue(&mut self, saved: &[(Gpr, i32)]) -> MResult {
        for &(reg, off) in saved {
            self.asm
                .mov_rm(reg, Address::offset(RBP, off), OperandSize::S64)?;
        }
        let r = self.asm.a.leave();
        self.asm.emitted(r)?;
        let r = self.asm.a.ret();
        self.asm.emitted(r)
    }
    fn fload(&mut self, dst: Xmm, src: Address, single: bool) -> MResult {
        let a = &mut self.asm.a;
        let r = if single {
            a.cvtss2sd(x(dst), dword_ptr(mem(src)))
        } else {
            a.movsd_2(x(dst), qword_ptr(mem(src)))
        };
        self.asm.emitted(r)
    }
    fn fstore(&mut self, dst: Address, src: Xmm, single: bool) -> MResult {
        if single {
            let r = self.asm.a.cvtsd2ss(x(XMM_SCRATCH), x(src));
            self.asm.emitted(r)?;
            let r = self.asm.a.movss(dword_ptr(mem(dst)), x(XMM_SCRATCH));
            self.asm.emitted(r)
        } else {
            let r = self.asm.a.movsd_2(qword_ptr(mem(dst)), x(src));
            self.asm.emitted(r)
        }
    }
    fn fmov(&mut self, dst: Xmm, src: Xmm) -> MResult {
        if dst == src {
            return Ok(());
        }
        let r = self.asm.a.movapd(x(dst), x(src));
        self.asm.emitted(r)
    }
    fn fop(&mut self, op: FloatOp, dst: Xmm, src: Xmm) -> MResult {
        let a = &mut self.asm.a;
        let r = match op {
            FloatOp::Add => a.addsd(x(dst), x(src)),
            FloatOp::Sub => a.subsd(x(dst), x(src)),
            FloatOp::Mul => a.mulsd(x(dst), x(src)),
            FloatOp::Div => a.divsd(x(dst), x(src)),
        };
        self.asm.emitted(r)
    }
    fn fcmp(&mut self, a: Xmm, b: Xmm) -> MResult {
        let r = self.asm.a.ucomisd(x(a), x(b));
        self.asm.emitted(r)
    }
    fn cvt_i2f(&mut self, dst: Xmm, src: Gpr, size: OperandSize) -> MResult {
        // Clear the destination first: cvtsi2sd merges into the upper lanes.
        let r = self.asm.a.xorpd(x(dst), x(dst));
        self.asm.emitted(r)?;
        let r = match size {
            OperandSize::S64 => self.asm.a.cvtsi2sd(x(dst), r64(src)),
            _ => self.asm.a.cvtsi2sd(x(dst), r32(src)),
        };
        self.asm.emitted(r)
    }
    fn cvt_f2i(&mut self, dst: Gpr, src: Xmm, size: OperandSize) -> MResult {
        let r = match size {
            OperandSize::S64 => self.asm.a.cvttsd2si(r64(dst), x(src)),
            _ => self.asm.a.cvttsd2si(r32(dst), x(src)),
        };
        self.asm.emitted(r)
    }
    fn fround_single(&mut self, v: Xmm) -> MResult {
        let r = self.asm.a.cvtsd2ss(x(v), x(v));
        self.asm.emitted(r)?;
        let r = self.asm.a.cvtss2sd(x(v), x(v));
        self.asm.emitted(r)
    }
    fn movq_xr(&mut self, dst: Xmm, src: Gpr) -> MResult {
        let r = self.asm.a.movq(x(dst), r64(src));
        self.asm.emitted(r)
    }
    fn movq_rx(&mut self, dst: Gpr, src: Xmm) -> MResult {
        let r = self.asm.a.movq(r64(dst), x(src));
        self.asm.emitted(r)
    }
    fn fxor(&mut self, dst: Xmm, src: Xmm) -> MResult {
        let r = self.asm.a.xorpd(x(dst), x(src));
        self.asm.emitted(r)
    }
    fn narrow_to_single(&mut self, v: Xmm) -> MResult {
        let r = self.asm.a.cvtsd2ss(x(v), x(v));
        self.asm.emitted(r)
    }
    fn widen_from_single(&mut self, v: Xmm) -> MResult {
        let r = self.asm.a.cvtss2sd(x(v), x(v));
        self.asm.emitted(r)
    }
    fn fstore_raw(&mut self, dst: Address, src: Xmm, single: bool) -> MResult {
        let r = if single {
            self.asm.a.movss(dword_ptr(mem(dst)), x(src))
        } else {
            self.asm.a.movsd_2(qword_ptr(mem(dst)), x(src))
        };
        self.asm.emitted(r)
    }

    fn finish(mut self, frame: &FrameInfo) -> MResult<Assembled> {
        let (body, body_marks) = self.asm.assemble()?;
        // The body is position independent (relative branches, absolute calls
        // through registers), so the prologue is simply prepended.
        let mut p = Assembler::new()?;
        let r = p.a.push(rbp);
        p.emitted(r)?;
        let r = p.a.mov(rbp, rsp);
        p.emitted(r)?;
        if frame.frame_size > 0 {
            let r = p.a.sub(rsp, frame.frame_size as i32);
            p.emitted(r)?;
        }
        for &(reg, off) in &frame.saved {
            p.mov_mr(Address::offset(RBP, off), reg, OperandSize::S64)?;
        }
        let (mut code, _) = p.assemble()?;
        let base = code.len() as u32;
        code.extend_from_slice(&body);
        let mark_offsets: Vec<u32> = body_marks.iter().map(|m| m + base).collect();
        Ok(Assembled { code, mark_offsets })
    }
}
