//! x86-64 encoding through iced-x86's `CodeAssembler` (Intel SDM Vol. 2).
//! Methods are named by operand form (`mov_rr`, `mov_rm`, `add_ri`, ...); this is
//! the only file that names iced types.

use super::address::Address;
use super::regs::{Gpr, Xmm};
use crate::masm::{Cond, OperandSize};
use crate::JitErrorKind;
use alloc::format;
use alloc::vec::Vec;
use iced_x86::code_asm::*;
use iced_x86::{Code, Encoder, OpKind};

const G64: [AsmRegister64; 16] = [
    rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15,
];
const G32: [AsmRegister32; 16] = [
    eax, ecx, edx, ebx, esp, ebp, esi, edi, r8d, r9d, r10d, r11d, r12d, r13d, r14d, r15d,
];
const G16: [AsmRegister16; 16] = [
    ax, cx, dx, bx, sp, bp, si, di, r8w, r9w, r10w, r11w, r12w, r13w, r14w, r15w,
];
const G8: [AsmRegister8; 16] = [
    al, cl, dl, bl, spl, bpl, sil, dil, r8b, r9b, r10b, r11b, r12b, r13b, r14b, r15b,
];
const XMMS: [AsmRegisterXmm; 16] = [
    xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14,
    xmm15,
];

pub(crate) fn r64(r: Gpr) -> AsmRegister64 {
    G64[r.0 as usize & 15]
}
pub(crate) fn r32(r: Gpr) -> AsmRegister32 {
    G32[r.0 as usize & 15]
}
pub(crate) fn r16(r: Gpr) -> AsmRegister16 {
    G16[r.0 as usize & 15]
}
pub(crate) fn r8l(r: Gpr) -> AsmRegister8 {
    G8[r.0 as usize & 15]
}
pub(crate) fn x(r: Xmm) -> AsmRegisterXmm {
    XMMS[r.0 as usize & 15]
}
pub(crate) fn mem(a: Address) -> AsmMemoryOperand {
    match a.index {
        None => r64(a.base) + a.disp,
        Some((i, s)) => r64(a.base) + r64(i) * (s as u32) + a.disp,
    }
}
pub(crate) fn sized(a: Address, size: OperandSize) -> AsmMemoryOperand {
    match size {
        OperandSize::S8 => byte_ptr(mem(a)),
        OperandSize::S16 => word_ptr(mem(a)),
        OperandSize::S32 => dword_ptr(mem(a)),
        OperandSize::S64 => qword_ptr(mem(a)),
    }
}

pub(crate) fn err(e: IcedError) -> JitErrorKind {
    JitErrorKind::Internal(format!("assembler: {e}"))
}

/// Wraps the iced assembler with label and mark bookkeeping.
pub struct Assembler {
    pub(crate) a: CodeAssembler,
    labels: Vec<CodeLabel>,
    /// A label was bound and no instruction followed yet.
    label_pending: bool,
    /// Marks: instruction indexes of interest.
    pub(crate) marks: Vec<usize>,
}

impl Assembler {
    pub fn new() -> Result<Self, JitErrorKind> {
        let mut a = CodeAssembler::new(64).map_err(err)?;
        // All label branches in the rel32 form: `assemble` then needs no branch
        // relaxation and encodes in one pass.
        a.set_prefer_short_branch(false);
        Ok(Assembler {
            a,
            labels: Vec::new(),
            label_pending: false,
            marks: Vec::new(),
        })
    }

    /// Called after every emitted instruction.
    #[inline]
    pub(crate) fn emitted(&mut self, r: Result<(), IcedError>) -> Result<(), JitErrorKind> {
        self.label_pending = false;
        r.map_err(err)
    }

    pub fn create_label(&mut self) -> u32 {
        let l = self.a.create_label();
        self.labels.push(l);
        (self.labels.len() - 1) as u32
    }

    pub fn bind(&mut self, id: u32) -> Result<(), JitErrorKind> {
        if self.label_pending {
            // iced allows one label per instruction: give the previous one a
            // zero-length instruction of its own.
            let r = self.a.zero_bytes();
            self.emitted(r)?;
        }
        let l = self
            .labels
            .get_mut(id as usize)
            .ok_or_else(|| JitErrorKind::Internal(format!("unknown label {id}")))?;
        self.a.set_label(l).map_err(err)?;
        self.label_pending = true;
        Ok(())
    }

    pub fn label(&self, id: u32) -> CodeLabel {
        self.labels[id as usize]
    }

    /// Position of the next instruction as a mark index.
    pub fn mark(&mut self) -> usize {
        self.marks.push(self.a.instructions().len());
        self.marks.len() - 1
    }

    pub fn jcc(&mut self, c: Cond, id: u32) -> Result<(), JitErrorKind> {
        let l = self.label(id);
        let r = match c {
            Cond::E => self.a.je(l),
            Cond::Ne => self.a.jne(l),
            Cond::L => self.a.jl(l),
            Cond::Le => self.a.jle(l),
            Cond::G => self.a.jg(l),
            Cond::Ge => self.a.jge(l),
            Cond::B => self.a.jb(l),
            Cond::Be => self.a.jbe(l),
            Cond::A => self.a.ja(l),
            Cond::Ae => self.a.jae(l),
            Cond::O => self.a.jo(l),
            Cond::S => self.a.js(l),
            Cond::P => self.a.jp(l),
            Cond::Np => self.a.jnp(l),
        };
        self.emitted(r)
    }

    pub fn setcc_r(&mut self, c: Cond, d: Gpr) -> Result<(), JitErrorKind> {
        let d8 = r8l(d);
        let r = match c {
            Cond::E => self.a.sete(d8),
            Cond::Ne => self.a.setne(d8),
            Cond::L => self.a.setl(d8),
            Cond::Le => self.a.setle(d8),
            Cond::G => self.a.setg(d8),
            Cond::Ge => self.a.setge(d8),
            Cond::B => self.a.setb(d8),
            Cond::Be => self.a.setbe(d8),
            Cond::A => self.a.seta(d8),
            Cond::Ae => self.a.setae(d8),
            Cond::O => self.a.seto(d8),
            Cond::S => self.a.sets(d8),
            Cond::P => self.a.setp(d8),
            Cond::Np => self.a.setnp(d8),
        };
        self.emitted(r)
    }

    pub fn mov_rr(&mut self, d: Gpr, s: Gpr, size: OperandSize) -> Result<(), JitErrorKind> {
        let r = match size {
            OperandSize::S64 => self.a.mov(r64(d), r64(s)),
            _ => self.a.mov(r32(d), r32(s)),
        };
        self.emitted(r)
    }

    pub fn mov_ri(&mut self, d: Gpr, imm: i64, size: OperandSize) -> Result<(), JitErrorKind> {
        let r = if size != OperandSize::S64 || (imm >= 0 && imm <= u32::MAX as i64) {
            if imm == 0 {
                self.a.xor(r32(d), r32(d))
            } else {
                self.a.mov(r32(d), imm as u32)
            }
        } else if imm >= i32::MIN as i64 && imm <= i32::MAX as i64 {
            match iced_x86::Instruction::with2(
                iced_x86::Code::Mov_rm64_imm32,
                iced_x86::Register::from(r64(d)),
                imm as i32,
            ) {
                Ok(i) => self.a.add_instruction(i),
                Err(e) => Err(e),
            }
        } else {
            self.a.mov(r64(d), imm)
        };
        self.emitted(r)
    }

    pub fn mov_rm(&mut self, d: Gpr, m: Address, size: OperandSize) -> Result<(), JitErrorKind> {
        let r = match size {
            OperandSize::S64 => self.a.mov(r64(d), qword_ptr(mem(m))),
            OperandSize::S32 => self.a.mov(r32(d), dword_ptr(mem(m))),
            OperandSize::S16 => self.a.movzx(r32(d), word_ptr(mem(m))),
            OperandSize::S8 => self.a.movzx(r32(d), byte_ptr(mem(m))),
        };
        self.emitted(r)
    }

    pub fn mov_mr(&mut self, m: Address, s: Gpr, size: OperandSize) -> Result<(), JitErrorKind> {
        let r = match size {
            OperandSize::S64 => self.a.mov(qword_ptr(mem(m)), r64(s)),
            OperandSize::S32 => self.a.mov(dword_ptr(mem(m)), r32(s)),
            OperandSize::S16 => self.a.mov(word_ptr(mem(m)), r16(s)),
            OperandSize::S8 => self.a.mov(byte_ptr(mem(m)), r8l(s)),
        };
        self.emitted(r)
    }

    pub fn mov_mi(&mut self, m: Address, imm: i32, size: OperandSize) -> Result<(), JitErrorKind> {
        let r = self.a.mov(sized(m, size), imm);
        self.emitted(r)
    }

    /// Assembles everything emitted so far at address 0: one encoding pass, then
    /// the rel32 of every label branch is patched.
    pub fn assemble(&mut self) -> Result<(Vec<u8>, Vec<u32>), JitErrorKind> {
        if self.label_pending {
            let r = self.a.zero_bytes();
            self.emitted(r)?;
        }
        let instrs = self.a.instructions();
        let mut enc = Encoder::try_new(64).map_err(err)?;
        let mut offsets = Vec::with_capacity(instrs.len());
        let mut label_off = alloc::vec![u32::MAX; self.labels.len() + 2];
        let mut fixups: Vec<(usize, usize)> = Vec::new();
        let mut off = 0u64;
        for ins in instrs {
            let id = ins.ip() as usize;
            if id != 0 {
                if let Some(slot) = label_off.get_mut(id) {
                    *slot = off as u32;
                }
            }
            offsets.push(off as u32);
            if ins.code() == Code::Zero_bytes {
                continue;
            }
            let len = if ins.op0_kind() == OpKind::NearBranch64 {
                let target = ins.near_branch64() as usize;
                let mut b = *ins;
                b.set_near_branch64(off);
                let len = enc.encode(&b, off).map_err(err)?;
                fixups.push((off as usize + len - 4, target));
                len
            } else {
                enc.encode(ins, off).map_err(err)?
            };
            off += len as u64;
        }
        let mut code = enc.take_buffer();
        for (pos, id) in fixups {
            let t = *label_off
                .get(id)
                .filter(|t| **t != u32::MAX)
                .ok_or_else(|| JitErrorKind::Internal(format!("label {id} never bound")))?;
            let rel = t as i64 - (pos as i64 + 4);
            code[pos..pos + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
        let total = code.len() as u32;
        let marks = self
            .marks
            .iter()
            .map(|&i| offsets.get(i).copied().unwrap_or(total))
            .collect();
        Ok((code, marks))
    }
}
