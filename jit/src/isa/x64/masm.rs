//! `MacroAssembler` for x86-64: each trait method lowers to one or a few
//! instructions of `asm.rs`; the prologue is assembled last, once the frame size
//! and the callee-saved registers in use are known (see `abi.rs`).

use super::asm::Assembler;
use super::enc;
use super::regs::*;
use crate::masm::*;
use crate::JitErrorKind;
use alloc::vec::Vec;

/// The x86-64 macro assembler.
pub struct X64Masm {
    pub(crate) asm: Assembler,
    /// Marks just after each `call_entry`'s rel32 (patched in `finish`).
    entry_calls: Vec<usize>,
    /// Marks at the start of each `epilogue_slot` (written in `finish`).
    epilogue_slots: Vec<usize>,
    /// `MacroAssembler::frame_low` so far.
    fp_low: Option<i32>,
}

/// Bytes an epilogue may take: the larger of the two forms, a restore of
/// every callee-saved register (`mov r64, [rbp+disp8]`, 4 bytes each; the
/// save slots are within 128 bytes of rbp) then `mov rsp, rbp; pop rbp;
/// ret`, and `lea rsp, [rbp+disp8]`, five pops (9 bytes), `pop rbp; ret`.
const EPILOGUE_SLOT: usize = 4 * super::regs::CALLEE_SAVED.len() + 5;

/// How a frame is built and torn down.
///
/// Pushed, when the registers to save are the first k of `CALLEE_SAVED`
/// (their slots are then rbp-8 .. rbp-8k, where pushes put them):
/// `push rbp; mov rbp, rsp; push` each; the rest of the frame by one more
/// `push rax` (8 bytes) or `sub rsp, rest`. Its epilogue pops them back;
/// when nothing moved rsp for good and the rest is at most 8 bytes, rsp is
/// already where the pops start (a `pop r11` drops the padding), otherwise
/// `lea rsp, [rbp-8k]` first. A frame that changes rsp only by pushes and
/// pops is what the processors' stack engines track best: on the AMD EPYC
/// hosts of these machines, a recursive fib(30) with `sub rsp` in the
/// prologue and `mov rsp, rbp` in the epilogue took 7.4-9.5 ms, with pushes
/// and pops alone 5.0-7.1 ms (the same body; pushes with `sub rsp` and
/// `lea rsp` still 7.9-8.5 ms).
///
/// Moved, otherwise: `push rbp; mov rbp, rsp; sub rsp, frame; mov [rbp+off],
/// saved`, and restores, `mov rsp, rbp; pop rbp; ret`. Not `leave`: on the
/// Xeons these machines also run, a recursive fib(30) whose returns end in
/// `leave; ret` took 6.8 ms, with `mov rsp, rbp; pop rbp; ret` 4.2-5.3 ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FrameForm {
    Pushed {
        /// Bytes below the pushed registers.
        rest: u32,
        /// Whether epilogues reset rsp from rbp before the pops.
        reset: bool,
    },
    Moved,
}

fn frame_form(frame: &FrameInfo) -> FrameForm {
    let k = frame.saved.len();
    let prefix = frame
        .saved
        .iter()
        .enumerate()
        .all(|(i, &(r, off))| r == CALLEE_SAVED[i] && off == super::abi::save_slot(i));
    let pushed = 8 * k as u32;
    if !prefix || frame.frame_size < pushed {
        return FrameForm::Moved;
    }
    let rest = frame.frame_size - pushed;
    FrameForm::Pushed {
        rest,
        reset: frame.sp_moved || rest > 8,
    }
}

/// `push r64` / `pop r64`.
fn push_pop(out: &mut Vec<u8>, r: Gpr, pop: bool) {
    if r.0 >= 8 {
        out.push(0x41);
    }
    out.push(if pop { 0x58 } else { 0x50 } + (r.0 & 7));
}

/// The prologue for `frame`.
fn encode_prologue(out: &mut Vec<u8>, frame: &FrameInfo) -> MResult {
    out.extend_from_slice(&[0x55, 0x48, 0x89, 0xE5]);
    match frame_form(frame) {
        FrameForm::Pushed { rest, .. } => {
            for &(r, _) in &frame.saved {
                push_pop(out, r, false);
            }
            if rest == 8 {
                push_pop(out, RAX, false);
            } else if rest > 0 {
                enc::alu_ri(out, AluOp::Sub, true, RSP, rest as i32);
            }
        }
        FrameForm::Moved => {
            if frame.frame_size > 0 {
                enc::alu_ri(out, AluOp::Sub, true, RSP, frame.frame_size as i32);
            }
            for &(reg, off) in &frame.saved {
                enc::op_rm(out, true, false, &[0x89], reg.0, Address::offset(RBP, off))?;
            }
        }
    }
    Ok(())
}

/// The epilogue for `frame`: restores, frame teardown, `ret`.
fn encode_epilogue(out: &mut Vec<u8>, frame: &FrameInfo) -> MResult {
    match frame_form(frame) {
        FrameForm::Pushed { rest, reset } => {
            if reset {
                let below = -(8 * frame.saved.len() as i32);
                enc::op_rm(
                    out,
                    true,
                    false,
                    &[0x8D],
                    RSP.0,
                    Address::offset(RBP, below),
                )?;
            } else if rest == 8 {
                push_pop(out, R11, true);
            }
            for &(r, _) in frame.saved.iter().rev() {
                push_pop(out, r, true);
            }
            out.extend_from_slice(&[0x5D, 0xC3]);
        }
        FrameForm::Moved => {
            for &(reg, off) in &frame.saved {
                enc::op_rm(out, true, false, &[0x8B], reg.0, Address::offset(RBP, off))?;
            }
            out.extend_from_slice(&[0x48, 0x89, 0xEC, 0x5D, 0xC3]);
        }
    }
    Ok(())
}

impl X64Masm {
    /// Records a memory operand for `frame_low`.
    fn note(&mut self, a: &Address) {
        let by_index = a.index.is_some_and(|(i, _)| i == RBP);
        if a.base == RBP || by_index {
            self.fp_low = match (self.fp_low, a.index) {
                (Some(low), None) => Some(low.min(a.disp)),
                _ => None,
            };
        }
    }

    pub fn new() -> MResult<Self> {
        Ok(X64Masm {
            asm: Assembler::new()?,
            entry_calls: Vec::new(),
            epilogue_slots: Vec::new(),
            fp_low: Some(0),
        })
    }

    /// A macro assembler for `il_len` bytes of IL on reused buffers.
    pub fn with_buffers(b: &mut CodeBuffers, il_len: usize) -> Self {
        X64Masm {
            asm: Assembler::with_buffers(b, il_len),
            entry_calls: Vec::new(),
            epilogue_slots: Vec::new(),
            fp_low: Some(0),
        }
    }

    /// `MacroAssembler::finish`, handing the buffers back to `keep` for the
    /// next method (the returned code and mark offsets are the caller's).
    pub fn finish_recycling(
        mut self,
        frame: &FrameInfo,
        keep: &mut CodeBuffers,
    ) -> MResult<Assembled> {
        let (body, body_marks) = self.asm.assemble()?;
        // The body is position independent (relative branches, absolute calls
        // through registers), so the prologue is simply prepended.
        let mut code = reuse(&mut keep.out, body.len() + 16 + 8 * frame.saved.len());
        encode_prologue(&mut code, frame)?;
        let base = code.len() as u32;
        let mut body = body;
        if !self.epilogue_slots.is_empty() {
            let mut e = Vec::with_capacity(EPILOGUE_SLOT);
            encode_epilogue(&mut e, frame)?;
            if e.len() > EPILOGUE_SLOT {
                return Err(crate::JitErrorKind::Internal(
                    "epilogue larger than its slot".into(),
                ));
            }
            for &m in &self.epilogue_slots {
                let at = body_marks.get(m).map(|&o| o as usize);
                let slot = at
                    .and_then(|o| body.get_mut(o..o + EPILOGUE_SLOT))
                    .ok_or_else(|| {
                        crate::JitErrorKind::Internal("epilogue slot mark lost".into())
                    })?;
                // The bytes after the `ret` stay int3: never reached.
                slot[..e.len()].copy_from_slice(&e);
            }
        }
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
        let mut mark_offsets = reuse(&mut keep.mark_offsets, body_marks.len());
        mark_offsets.extend(body_marks.iter().map(|m| m + base));
        keep.buf = body;
        keep.marks = body_marks;
        self.asm.recycle(keep);
        Ok(Assembled { code, mark_offsets })
    }

    /// A macro assembler with buffers sized for `il_len` bytes of IL.
    pub fn with_capacity(il_len: usize) -> MResult<Self> {
        Ok(X64Masm {
            asm: Assembler::with_capacity(il_len)?,
            entry_calls: Vec::new(),
            epilogue_slots: Vec::new(),
            fp_low: Some(0),
        })
    }
}

/// Operations on `rdx:rax` with one explicit operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MulDivKind {
    /// Signed divide (`idiv`).
    SDiv,
    /// Unsigned divide (`div`).
    UDiv,
    /// Unsigned widening multiply (`mul`), sets CF/OF on overflow.
    UMul,
}

/// The instructions with fixed registers that the trait's ops are built from.
impl X64Masm {
    pub(crate) fn muldiv(&mut self, kind: MulDivKind, src: Gpr, size: OperandSize) -> MResult {
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
    pub(crate) fn sign_extend_rax(&mut self, size: OperandSize) -> MResult {
        match size {
            OperandSize::S64 => self.asm.buf.extend_from_slice(&[0x48, 0x99]),
            _ => self.asm.buf.push(0x99),
        }
        Ok(())
    }
    pub(crate) fn shift_cl(&mut self, kind: ShiftKind, dst: Gpr, size: OperandSize) -> MResult {
        let w = size == OperandSize::S64;
        enc::op_rr(&mut self.asm.buf, w, &[0xD3], shift_ext(kind), dst);
        Ok(())
    }
    pub(crate) fn rep_movsb(&mut self) -> MResult {
        self.asm.buf.extend_from_slice(&[0xF3, 0xA4]);
        Ok(())
    }
    pub(crate) fn rep_stosb(&mut self) -> MResult {
        self.asm.buf.extend_from_slice(&[0xF3, 0xAA]);
        Ok(())
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
    type Abi = super::abi::X64Abi;

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
        self.note(&src);
        self.asm.mov_rm(dst, src, size)
    }
    fn load_ext(&mut self, dst: Gpr, src: Address, ext: Extend) -> MResult {
        self.note(&src);
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
        self.note(&dst);
        self.asm.mov_mr(dst, src, size)
    }
    fn store_imm(&mut self, dst: Address, imm: i32, size: OperandSize) -> MResult {
        self.note(&dst);
        self.asm.mov_mi(dst, imm, size)
    }
    fn lea(&mut self, dst: Gpr, src: Address) -> MResult {
        self.note(&src);
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
        self.note(&dst);
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
    fn div(
        &mut self,
        kind: DivKind,
        dst: Gpr,
        divisor: Gpr,
        size: OperandSize,
        overflow: Option<Label>,
    ) -> MResult {
        // rdx:rax / divisor: quotient in rax, remainder in rdx.
        self.mov_rr(RAX, dst, OperandSize::S64)?;
        if kind.signed() {
            let overflow = overflow.ok_or_else(|| {
                JitErrorKind::Internal("signed division without an overflow label".into())
            })?;
            let ok = self.new_label();
            self.alu_ri(AluOp::Cmp, divisor, -1, size)?;
            self.jcc(Cond::Ne, ok)?;
            let min = if size == OperandSize::S64 {
                i64::MIN
            } else {
                i32::MIN as i64
            };
            self.mov_ri(RDX, min, size)?;
            self.alu_rr(AluOp::Cmp, RAX, RDX, size)?;
            self.jcc(Cond::E, overflow)?;
            self.bind(ok)?;
            self.sign_extend_rax(size)?;
            self.muldiv(MulDivKind::SDiv, divisor, size)?;
        } else {
            self.mov_ri(RDX, 0, OperandSize::S32)?;
            self.muldiv(MulDivKind::UDiv, divisor, size)?;
        }
        let res = match kind {
            DivKind::SDiv | DivKind::UDiv => RAX,
            DivKind::SRem | DivKind::URem => RDX,
        };
        self.mov_rr(dst, res, OperandSize::S64)
    }
    fn umul_checked(&mut self, dst: Gpr, src: Gpr, size: OperandSize, overflow: Label) -> MResult {
        self.mov_rr(RAX, dst, OperandSize::S64)?;
        self.muldiv(MulDivKind::UMul, src, size)?;
        self.jcc(Cond::O, overflow)?;
        self.mov_rr(dst, RAX, OperandSize::S64)
    }
    const SHIFT_COUNT: Gpr = RCX;
    fn shift(&mut self, kind: ShiftKind, dst: Gpr, count: Gpr, size: OperandSize) -> MResult {
        if count != RCX {
            self.mov_rr(RCX, count, OperandSize::S64)?;
        }
        self.shift_cl(kind, dst, size)
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
        self.note(&target);
        enc::op_rm(&mut self.asm.buf, false, false, &[0xFF], 2, target)
    }
    fn call_patchable(&mut self, target: u64) -> MResult<usize> {
        let mk = self.mov_ri64_patchable(RAX, target)?;
        self.call_reg(RAX)?;
        Ok(mk)
    }
    fn call_cell_patchable(&mut self, cell: u64) -> MResult<usize> {
        let mk = self.mov_ri64_patchable(RAX, cell)?;
        self.call_mem(Address::offset(RAX, 0))?;
        Ok(mk)
    }
    const BLOCK: BlockRegs = BlockRegs {
        dst: RDI,
        src: RSI,
        len: RCX,
        fill: RAX,
    };
    fn copy_bytes(&mut self) -> MResult {
        self.rep_movsb()
    }
    fn fill_bytes(&mut self) -> MResult {
        self.rep_stosb()
    }
    fn epilogue(&mut self, frame: &FrameInfo) -> MResult {
        encode_epilogue(&mut self.asm.buf, frame)
    }
    fn epilogue_slot(&mut self) -> MResult {
        let m = self.asm.mark();
        self.epilogue_slots.push(m);
        self.asm.buf.extend_from_slice(&[0xCC; EPILOGUE_SLOT]);
        Ok(())
    }
    fn fload(&mut self, dst: Xmm, src: Address, single: bool) -> MResult {
        self.note(&src);
        if single {
            sse_rm(&mut self.asm.buf, 0xF3, false, 0x5A, dst.0, src)
        } else {
            sse_rm(&mut self.asm.buf, 0xF2, false, 0x10, dst.0, src)
        }
    }
    fn fstore(&mut self, dst: Address, src: Xmm, single: bool) -> MResult {
        self.note(&dst);
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
        self.note(&dst);
        let prefix = if single { 0xF3 } else { 0xF2 };
        sse_rm(&mut self.asm.buf, prefix, false, 0x11, src.0, dst)
    }

    fn frame_low(&self) -> Option<i32> {
        self.fp_low
    }

    fn finish(self, frame: &FrameInfo) -> MResult<Assembled> {
        self.finish_recycling(frame, &mut CodeBuffers::default())
    }
}

#[cfg(test)]
mod tests;
