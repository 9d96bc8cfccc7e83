//! x86-64 code buffer (Intel SDM Vol. 2, ch. 2–4): every form the macro
//! assembler uses is encoded directly into the buffer by `enc.rs`, byte for
//! byte what iced-x86 produces for it (unit tests in `masm.rs` compare). In
//! unit tests iced's `CodeAssembler` is available through `iced()` as the
//! reference, one instruction at a time, encoded after the direct bytes; the
//! JIT itself never needs iced-x86 (it is a dev-dependency and, for listings,
//! behind the `disassembly` feature).
//! Methods are named by operand form (`mov_rr`, `mov_rm`, `add_ri`, ...).

use super::enc;
use super::regs::Gpr;
#[cfg(test)]
use super::regs::Xmm;
use crate::masm::Address;
use crate::masm::{reuse, CodeBuffers};
use crate::masm::{Cond, OperandSize};
use crate::JitErrorKind;
use alloc::format;
use alloc::vec::Vec;
#[cfg(test)]
use iced_x86::code_asm::*;
#[cfg(test)]
use iced_x86::Encoder;

#[cfg(test)]
const G64: [AsmRegister64; 16] = [
    rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15,
];
#[cfg(test)]
const G32: [AsmRegister32; 16] = [
    eax, ecx, edx, ebx, esp, ebp, esi, edi, r8d, r9d, r10d, r11d, r12d, r13d, r14d, r15d,
];
#[cfg(test)]
const G16: [AsmRegister16; 16] = [
    ax, cx, dx, bx, sp, bp, si, di, r8w, r9w, r10w, r11w, r12w, r13w, r14w, r15w,
];
#[cfg(test)]
const G8: [AsmRegister8; 16] = [
    al, cl, dl, bl, spl, bpl, sil, dil, r8b, r9b, r10b, r11b, r12b, r13b, r14b, r15b,
];
#[cfg(test)]
const XMMS: [AsmRegisterXmm; 16] = [
    xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14,
    xmm15,
];

#[cfg(test)]
pub(crate) fn r64(r: Gpr) -> AsmRegister64 {
    G64[r.0 as usize & 15]
}
#[cfg(test)]
pub(crate) fn r32(r: Gpr) -> AsmRegister32 {
    G32[r.0 as usize & 15]
}
#[cfg(test)]
pub(crate) fn r16(r: Gpr) -> AsmRegister16 {
    G16[r.0 as usize & 15]
}
#[cfg(test)]
pub(crate) fn r8l(r: Gpr) -> AsmRegister8 {
    G8[r.0 as usize & 15]
}
#[cfg(test)]
pub(crate) fn x(r: Xmm) -> AsmRegisterXmm {
    XMMS[r.0 as usize & 15]
}
#[cfg(test)]
pub(crate) fn mem(a: Address) -> AsmMemoryOperand {
    match a.index {
        None => r64(a.base) + a.disp,
        Some((i, s)) => r64(a.base) + r64(i) * (s as u32) + a.disp,
    }
}
#[cfg(test)]
pub(crate) fn sized(a: Address, size: OperandSize) -> AsmMemoryOperand {
    match size {
        OperandSize::S8 => byte_ptr(mem(a)),
        OperandSize::S16 => word_ptr(mem(a)),
        OperandSize::S32 => dword_ptr(mem(a)),
        OperandSize::S64 => qword_ptr(mem(a)),
    }
}

#[cfg(test)]
pub(crate) fn err(e: IcedError) -> JitErrorKind {
    JitErrorKind::Internal(format!("assembler: {e}").into())
}

/// A code buffer with label and mark bookkeeping. Instructions are encoded as
/// they are emitted; label branches are rel32 and patched by `assemble`.
pub struct Assembler {
    /// Scratch iced assembler and encoder (tests only: the reference the
    /// direct encodings are compared with; created on first use); whatever
    /// the assembler holds is encoded into `buf` by `emitted`.
    #[cfg(test)]
    iced: Option<alloc::boxed::Box<(CodeAssembler, Encoder)>>,
    pub(crate) buf: Vec<u8>,
    /// Byte offset of each label (`u32::MAX` while unbound).
    labels: Vec<u32>,
    /// (position of a rel32, label id).
    fixups: Vec<(u32, u32)>,
    /// Marks: byte offsets of instructions of interest.
    pub(crate) marks: Vec<u32>,
}

impl Assembler {
    pub fn new() -> Result<Self, JitErrorKind> {
        Self::with_capacity(32)
    }

    /// An assembler sized for a method of `il_len` IL bytes (growing the
    /// buffers instruction by instruction was a visible share of compile time).
    pub fn with_capacity(il_len: usize) -> Result<Self, JitErrorKind> {
        Ok(Assembler {
            #[cfg(test)]
            iced: None,
            buf: Vec::with_capacity(il_len * 8 + 64),
            labels: Vec::with_capacity(il_len / 8 + 4),
            fixups: Vec::with_capacity(il_len / 8 + 4),
            marks: Vec::with_capacity(il_len / 2 + 8),
        })
    }

    /// An assembler for a method of `il_len` IL bytes built on reused
    /// buffers (emptied here; grown to at least what `with_capacity` gives).
    pub fn with_buffers(b: &mut CodeBuffers, il_len: usize) -> Self {
        Assembler {
            #[cfg(test)]
            iced: None,
            buf: reuse(&mut b.buf, il_len * 8 + 64),
            labels: reuse(&mut b.labels, il_len / 8 + 4),
            fixups: reuse(&mut b.fixups, il_len / 8 + 4),
            marks: reuse(&mut b.marks, il_len / 2 + 8),
        }
    }

    /// Hands the label and fixup tables back for the next method.
    pub fn recycle(self, b: &mut CodeBuffers) {
        b.labels = self.labels;
        b.fixups = self.fixups;
    }

    /// The scratch iced assembler, the tests' reference (emit through it,
    /// then call `emitted`).
    #[cfg(test)]
    pub fn iced(&mut self) -> Result<&mut CodeAssembler, JitErrorKind> {
        if self.iced.is_none() {
            let a = CodeAssembler::new(64).map_err(err)?;
            let e = Encoder::try_new(64).map_err(err)?;
            self.iced = Some(alloc::boxed::Box::new((a, e)));
        }
        match self.iced.as_deref_mut() {
            Some((a, _)) => Ok(a),
            None => Err(JitErrorKind::Internal("no scratch assembler".into())),
        }
    }

    /// Called after every instruction emitted through `iced()`: encodes it at
    /// the end of the buffer.
    #[cfg(test)]
    pub fn emitted(&mut self, r: Result<(), IcedError>) -> Result<(), JitErrorKind> {
        r.map_err(err)?;
        let Some((a, enc)) = self.iced.as_deref_mut() else {
            return Ok(());
        };
        if a.instructions().is_empty() {
            return Ok(());
        }
        let mut ip = self.buf.len() as u64;
        enc.set_buffer(core::mem::take(&mut self.buf));
        let mut res = Ok(());
        for ins in a.instructions() {
            match enc.encode(ins, ip) {
                Ok(n) => ip += n as u64,
                Err(e) => {
                    res = Err(err(e));
                    break;
                }
            }
        }
        self.buf = enc.take_buffer();
        a.reset();
        res
    }

    pub fn create_label(&mut self) -> u32 {
        self.labels.push(u32::MAX);
        (self.labels.len() - 1) as u32
    }

    pub fn bind(&mut self, id: u32) -> Result<(), JitErrorKind> {
        let pos = self.buf.len() as u32;
        let l = self
            .labels
            .get_mut(id as usize)
            .ok_or_else(|| JitErrorKind::Internal(format!("unknown label {id}").into()))?;
        if *l != u32::MAX {
            return Err(JitErrorKind::Internal(
                format!("label {id} bound twice").into(),
            ));
        }
        *l = pos;
        Ok(())
    }

    /// Position of the next instruction as a mark index.
    pub fn mark(&mut self) -> usize {
        self.marks.push(self.buf.len() as u32);
        self.marks.len() - 1
    }

    fn branch(&mut self, id: u32) {
        self.fixups.push((self.buf.len() as u32, id));
        self.buf.extend_from_slice(&[0; 4]);
    }

    /// `jmp label` (rel32).
    pub fn jmp(&mut self, id: u32) -> Result<(), JitErrorKind> {
        self.buf.push(0xE9);
        self.branch(id);
        Ok(())
    }

    /// `call label` (rel32).
    pub fn call_label(&mut self, id: u32) -> Result<(), JitErrorKind> {
        self.buf.push(0xE8);
        self.branch(id);
        Ok(())
    }

    pub fn jcc(&mut self, c: Cond, id: u32) -> Result<(), JitErrorKind> {
        self.buf.extend_from_slice(&[0x0F, 0x80 | enc::cc(c)]);
        self.branch(id);
        Ok(())
    }

    pub fn setcc_r(&mut self, c: Cond, d: Gpr) -> Result<(), JitErrorKind> {
        enc::setcc(&mut self.buf, c, d);
        Ok(())
    }

    pub fn mov_rr(&mut self, d: Gpr, s: Gpr, size: OperandSize) -> Result<(), JitErrorKind> {
        let w = size == OperandSize::S64;
        enc::op_rr(&mut self.buf, w, &[0x89], s.0, d);
        Ok(())
    }

    pub fn mov_ri(&mut self, d: Gpr, imm: i64, size: OperandSize) -> Result<(), JitErrorKind> {
        let b = &mut self.buf;
        if size != OperandSize::S64 || (imm >= 0 && imm <= u32::MAX as i64) {
            if imm == 0 {
                enc::op_rr(b, false, &[0x31], d.0, d);
            } else {
                enc::rex(b, false, 0, 0, d.0, false);
                b.push(0xB8 + (d.0 & 7));
                b.extend_from_slice(&(imm as u32).to_le_bytes());
            }
        } else if imm >= i32::MIN as i64 && imm <= i32::MAX as i64 {
            enc::op_rr(b, true, &[0xC7], 0, d);
            b.extend_from_slice(&(imm as i32).to_le_bytes());
        } else {
            enc::mov_r64_imm64(b, d, imm as u64);
        }
        Ok(())
    }

    pub fn mov_rm(&mut self, d: Gpr, m: Address, size: OperandSize) -> Result<(), JitErrorKind> {
        let (w, op): (bool, &[u8]) = match size {
            OperandSize::S64 => (true, &[0x8B]),
            OperandSize::S32 => (false, &[0x8B]),
            OperandSize::S16 => (false, &[0x0F, 0xB7]),
            OperandSize::S8 => (false, &[0x0F, 0xB6]),
        };
        enc::op_rm(&mut self.buf, w, false, op, d.0, m)
    }

    pub fn mov_mr(&mut self, m: Address, s: Gpr, size: OperandSize) -> Result<(), JitErrorKind> {
        let b = &mut self.buf;
        match size {
            OperandSize::S64 => enc::op_rm(b, true, false, &[0x89], s.0, m),
            OperandSize::S32 => enc::op_rm(b, false, false, &[0x89], s.0, m),
            OperandSize::S16 => {
                b.push(0x66);
                enc::op_rm(b, false, false, &[0x89], s.0, m)
            }
            OperandSize::S8 => enc::op_rm(b, false, (4..8).contains(&s.0), &[0x88], s.0, m),
        }
    }

    pub fn mov_mi(&mut self, m: Address, imm: i32, size: OperandSize) -> Result<(), JitErrorKind> {
        match size {
            OperandSize::S64 | OperandSize::S32 => {
                enc::op_rm(
                    &mut self.buf,
                    size == OperandSize::S64,
                    false,
                    &[0xC7],
                    0,
                    m,
                )?;
                self.buf.extend_from_slice(&imm.to_le_bytes());
                Ok(())
            }
            OperandSize::S16 => {
                self.buf.push(0x66);
                enc::op_rm(&mut self.buf, false, false, &[0xC7], 0, m)?;
                enc::imm16(&mut self.buf, imm)
            }
            OperandSize::S8 => {
                enc::op_rm(&mut self.buf, false, false, &[0xC6], 0, m)?;
                enc::imm8(&mut self.buf, imm)
            }
        }
    }

    /// Resolves the label branches and returns the code and the mark offsets.
    pub fn assemble(&mut self) -> Result<(Vec<u8>, Vec<u32>), JitErrorKind> {
        #[cfg(test)]
        self.emitted(Ok(()))?;
        for &(pos, id) in &self.fixups {
            let t = *self
                .labels
                .get(id as usize)
                .filter(|t| **t != u32::MAX)
                .ok_or_else(|| JitErrorKind::Internal(format!("label {id} never bound").into()))?;
            let rel = t as i64 - (pos as i64 + 4);
            let p = pos as usize;
            self.buf[p..p + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
        self.fixups.clear();
        Ok((
            core::mem::take(&mut self.buf),
            core::mem::take(&mut self.marks),
        ))
    }
}
