//! `MacroAssembler` for x86-64: each trait method lowers to one or a few
//! instructions of `asm.rs`; the prologue is assembled last, once the frame size
//! and the callee-saved registers in use are known (see `abi.rs`).

use super::asm::{mem, r32, r64, r8l, sized, x, Assembler};
use super::enc;
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
        let force = (4..8).contains(&dst.0);
        enc::op_rr_f(&mut self.asm.buf, false, force, &[0x0F, 0xB6], dst.0, dst);
        Ok(())
    }
    fn call_reg(&mut self, target: Gpr) -> MResult {
        enc::op_rr(&mut self.asm.buf, false, &[0xFF], 2, target);
        Ok(())
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
        // leave; ret
        self.asm.buf.extend_from_slice(&[0xC9, 0xC3]);
        Ok(())
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
        let mark_offsets: Vec<u32> = body_marks.iter().map(|m| m + base).collect();
        Ok(Assembled { code, mark_offsets })
    }
}

#[cfg(test)]
mod tests {
    //! The directly encoded forms must be byte for byte what iced-x86 assembles.
    use super::*;
    use iced_x86::code_asm::CodeAssembler;

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
                            OperandSize::S16 => a.mov(word_ptr(mm), super::super::asm::r16(r)),
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
}
