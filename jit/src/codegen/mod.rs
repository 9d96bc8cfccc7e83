//! `CodeGen`: lowers each CIL instruction (ECMA-335 Partition III) over the typed
//! abstract stack to `MacroAssembler` calls. Control flow follows §III.1.7.5: at
//! every branch and branch target the stack is spilled to its per-depth homes, so
//! all paths agree on where each stack slot lives.

pub mod context;
pub mod exceptions;
mod md_arrays;
mod nullable;
pub mod stack;

use crate::host::*;
use crate::isa::x64::abi::{self, ArgClass, ArgLoc};
use crate::isa::x64::regs::*;
use crate::masm::*;
use crate::{CallSiteKind, JitErrorKind};
use alloc::vec::Vec;
use context::{frame, CodeGenContext};
use stack::{Loc, StackTy, Val};

type R<T = ()> = Result<T, JitErrorKind>;

/// Binary arithmetic and bitwise operations (§III.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    DivUn,
    Rem,
    RemUn,
    And,
    Or,
    Xor,
    Shl,
    Shr,
    ShrUn,
    AddOvf,
    AddOvfUn,
    SubOvf,
    SubOvfUn,
    MulOvf,
    MulOvfUn,
}

/// Comparison kinds shared by `ceq`/`cgt`/`clt` and the conditional branches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpKind {
    Eq,
    NeUn,
    Ge,
    Gt,
    Le,
    Lt,
    GeUn,
    GtUn,
    LeUn,
    LtUn,
}

/// Targets of the `conv` family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvTo {
    I1,
    U1,
    I2,
    U2,
    I4,
    U4,
    I8,
    U8,
    I,
    U,
    R4,
    R8,
    RUn,
}

/// How `this` reaches a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ThisArg {
    FromStack,
    /// A frame slot holding the object pointer (`newobj` of a class).
    Slot(i32),
    /// The frame address of a value (`newobj` of a value type).
    Addr(i32),
}

#[derive(Clone, Copy, Debug)]
enum Src {
    Val(Val),
    Slot(i32),
    Addr(i32),
}

/// What `CodeGen::finish` hands back: the assembler, frame, frame size, saved
/// registers, call sites (mark, kind, target) and IL marks (IL offset, mark).
pub type Finished<M> = (
    M,
    abi::Frame,
    u32,
    Vec<(Gpr, i32)>,
    Vec<(usize, CallSiteKind, u64)>,
    Vec<(u32, usize)>,
    exceptions::EhMarks,
);

/// Per-method code generator.
pub struct CodeGen<'h, H: JitHost, M: MacroAssembler> {
    pub ctx: CodeGenContext<M>,
    pub host: &'h mut H,
    layout: ObjectLayout,
    method_handle: u64,
    ret: JitType,
    init_locals: bool,
    /// Branch targets (IL offset, label), sorted by offset; `states` runs
    /// parallel to it (the stack shape first recorded for that target). Sorted
    /// vectors rather than maps: two maps per method were a dozen allocations
    /// and their B-tree code, cold and re-translated by TCG at boot.
    labels: Vec<(u32, Label)>,
    states: Vec<Option<Vec<StackTy>>>,
    pub reachable: bool,
    ret_label: Label,
    fails: Vec<(Label, FailCode, u32)>,
    pub call_sites: Vec<(usize, CallSiteKind, u64)>,
    pub il_marks: Vec<(u32, usize)>,
    pub cur: u32,
    constrained: Option<u32>,
    /// The instruction being visited is the last one (a `ret` there falls into
    /// the epilogue without a jump).
    pub at_end: bool,
    /// Exception-handling state (methods with clauses only).
    eh: Option<alloc::boxed::Box<exceptions::EhState>>,
}

fn fits_i32(c: i64) -> bool {
    c >= i32::MIN as i64 && c <= i32::MAX as i64
}

impl<'h, H: JitHost, M: MacroAssembler> CodeGen<'h, H, M> {
    /// Sets up the frame; `targets` are all branch targets found by the decoder.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        host: &'h mut H,
        masm: M,
        input: &crate::MethodInput,
        targets: &[u32],
        local_addr_taken: Vec<bool>,
        arg_addr_taken: Vec<bool>,
        local_regs: Vec<Option<Gpr>>,
        arg_regs: Vec<Option<Gpr>>,
    ) -> Self {
        let frame = abi::Frame::new(&input.args, &input.locals, &input.ret);
        let layout = host.object_layout();
        let mut ctx = CodeGenContext {
            masm,
            stack: stack::ValueStack::new(frame.eval_base),
            regs: RegSet::all(),
            frame,
            arg_types: input.args.clone(),
            local_types: input.locals.clone(),
            local_addr_taken,
            arg_addr_taken,
            used_callee_saved: 0,
            local_regs,
            arg_regs,
        };
        for r in ctx
            .local_regs
            .iter()
            .chain(ctx.arg_regs.iter())
            .flatten()
            .copied()
            .collect::<Vec<_>>()
        {
            ctx.regs.reserve(r);
            ctx.used_callee_saved |= 1 << r.0;
        }
        let eh = (!input.eh.is_empty()).then(|| {
            // Handlers are resumed with whatever deeper frames left in the
            // callee-saved registers: save them all (see `exceptions`).
            for r in CALLEE_SAVED {
                ctx.used_callee_saved |= 1 << r.0;
            }
            alloc::boxed::Box::new(exceptions::EhState::new(input))
        });
        let mut sorted = targets.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let labels: Vec<(u32, Label)> = sorted
            .into_iter()
            .map(|t| (t, ctx.masm.new_label()))
            .collect();
        let states = alloc::vec![None; labels.len()];
        let ret_label = ctx.masm.new_label();
        CodeGen {
            ctx,
            host,
            layout,
            method_handle: input.handle,
            ret: input.ret,
            init_locals: input.init_locals,
            labels,
            states,
            reachable: true,
            ret_label,
            fails: Vec::new(),
            call_sites: Vec::new(),
            il_marks: Vec::with_capacity(input.il.len() / 2 + 1),
            cur: 0,
            constrained: None,
            at_end: false,
            eh,
        }
    }

    fn m(&mut self) -> &mut M {
        &mut self.ctx.masm
    }

    fn host_err(e: alloc::string::String) -> JitErrorKind {
        JitErrorKind::Host(e)
    }

    /// Prologue part that depends only on the signature: home register args,
    /// zero the locals.
    pub fn emit_entry(&mut self) -> R {
        let f = self.ctx.frame.clone();
        let mut gi = 0;
        if let Some(rb) = f.retbuf {
            self.m().store(frame(rb), ARG_GPRS[0], OperandSize::S64)?;
            gi = 1;
        }
        let _ = gi;
        for (i, loc) in f.arg_locs.iter().enumerate() {
            let home = match f.args[i] {
                abi::ArgHome::Direct(o) | abi::ArgHome::Indirect(o) => o,
            };
            if let Some(reg) = self.ctx.arg_regs.get(i).copied().flatten() {
                match *loc {
                    ArgLoc::Gpr(r) => self.m().mov_rr(reg, r, OperandSize::S64)?,
                    _ => self.m().load(reg, frame(home), OperandSize::S64)?,
                }
                continue;
            }
            match *loc {
                ArgLoc::Gpr(r) => self.m().store(frame(home), r, OperandSize::S64)?,
                ArgLoc::Xmm(x) => {
                    let single = self.ctx.arg_types[i] == JitType::R4;
                    self.m().fstore_raw(frame(home), x, single)?
                }
                _ => {}
            }
        }
        if f.locals_hi > f.locals_lo {
            self.ctx
                .zero_mem(frame(f.locals_lo), (f.locals_hi - f.locals_lo) as u32)?;
        }
        for r in self.ctx.local_regs.clone().into_iter().flatten() {
            self.m().mov_ri(r, 0, OperandSize::S32)?;
        }
        Ok(())
    }

    // ---- control flow -------------------------------------------------------

    /// Called before each instruction: binds labels and restores merge states.
    pub fn begin_instruction(&mut self, offset: u32) -> R<bool> {
        self.cur = offset;
        self.ctx.stack.end_instruction();
        if self.eh.is_some() && self.eh_begin(offset)? {
            return Ok(true);
        }
        if let Some(k) = self.label_index(offset) {
            let label = self.labels[k].1;
            if self.reachable {
                self.ctx.spill_all()?;
                self.record_state(offset)?;
                if let Some(tys) = &self.states[k] {
                    for (v, t) in self.ctx.stack.vals.iter_mut().zip(tys) {
                        v.ty = *t;
                    }
                }
            } else {
                let tys = self.states[k].clone().unwrap_or_default();
                let reserved = self.ctx.regs.reserved;
                self.ctx.regs = RegSet::all();
                for i in 0..16u8 {
                    if reserved & (1 << i) != 0 {
                        self.ctx.regs.reserve(Gpr(i));
                    }
                }
                self.ctx.stack.reset_to(&tys);
            }
            self.m().bind(label)?;
            self.reachable = true;
        }
        if self.reachable {
            let mk = self.m().mark()?;
            self.il_marks.push((offset, mk));
        }
        Ok(self.reachable)
    }

    fn label_index(&self, target: u32) -> Option<usize> {
        self.labels.binary_search_by_key(&target, |&(t, _)| t).ok()
    }

    fn record_state(&mut self, target: u32) -> R {
        // Every branch target has a label (both come from the same pre-scan).
        let k = self
            .label_index(target)
            .ok_or(JitErrorKind::Internal("missing label".into()))?;
        let tys = self.ctx.stack.types();
        match &mut self.states[k] {
            Some(prev) => {
                if prev.len() != tys.len() || prev.iter().zip(&tys).any(|(a, b)| !a.merges_with(b))
                {
                    return Err(JitErrorKind::StackMismatch(target));
                }
                for (p, t) in prev.iter_mut().zip(&tys) {
                    *p = p.merge(t);
                }
            }
            None => {
                self.states[k] = Some(tys);
            }
        }
        Ok(())
    }

    fn label_for(&mut self, target: u32) -> R<Label> {
        self.label_index(target)
            .map(|k| self.labels[k].1)
            .ok_or(JitErrorKind::Internal("missing label".into()))
    }

    pub fn br(&mut self, target: u32) -> R {
        self.ctx.spill_all()?;
        self.record_state(target)?;
        let l = self.label_for(target)?;
        self.m().jmp(l)?;
        self.reachable = false;
        Ok(())
    }

    /// `leave`: empties the stack, runs the `finally` handlers it exits and
    /// branches.
    pub fn leave(&mut self, target: u32) -> R {
        while let Ok(v) = self.ctx.pop() {
            self.ctx.free(&v);
        }
        self.eh_leave(target)?;
        self.br(target)
    }

    pub fn brbool(&mut self, target: u32, when_true: bool) -> R {
        let v = self.ctx.pop()?;
        if v.ty.is_float() || matches!(v.ty, StackTy::Value(_)) {
            return Err(JitErrorKind::TypeMismatch(
                "brtrue/brfalse needs an integer or reference",
            ));
        }
        let r = self.ctx.into_gpr(&v)?;
        self.ctx.free_gpr(r);
        self.ctx.spill_all()?;
        self.record_state(target)?;
        let size = context::home_size(v.ty);
        self.m().alu_rr(AluOp::Test, r, r, size)?;
        let l = self.label_for(target)?;
        self.m().jcc(if when_true { Cond::Ne } else { Cond::E }, l)
    }

    pub fn brcmp(&mut self, target: u32, kind: CmpKind) -> R {
        let b = self.ctx.pop()?;
        let a = self.ctx.pop()?;
        if a.ty.is_float() || b.ty.is_float() {
            self.push_fcmp(a, b, kind)?;
            return self.brbool(target, true);
        }
        let (ra, rb, size) = self.int_cmp_operands(&a, &b, true)?;
        self.ctx.free_gpr(ra);
        if let Some(r) = rb {
            self.ctx.free_gpr(r);
        }
        self.ctx.spill_all()?;
        self.record_state(target)?;
        match (rb, b.loc) {
            (Some(rb), _) => self.m().alu_rr(AluOp::Cmp, ra, rb, size)?,
            (None, Loc::Const(c)) => self.m().alu_ri(AluOp::Cmp, ra, c as i32, size)?,
            _ => return Err(JitErrorKind::Internal("compare operand".into())),
        }
        let l = self.label_for(target)?;
        self.m().jcc(int_cond(kind), l)
    }

    pub fn switch(&mut self, targets: &[u32]) -> R {
        let v = self.ctx.pop()?;
        if v.ty != StackTy::I32 && v.ty != StackTy::NInt {
            return Err(JitErrorKind::TypeMismatch("switch needs int32"));
        }
        let r = self.ctx.into_gpr(&v)?;
        self.ctx.free_gpr(r);
        self.ctx.spill_all()?;
        for (i, t) in targets.iter().enumerate() {
            self.record_state(*t)?;
            let l = self.label_for(*t)?;
            self.m().alu_ri(AluOp::Cmp, r, i as i32, OperandSize::S32)?;
            self.m().jcc(Cond::E, l)?;
        }
        Ok(())
    }

    pub fn ret(&mut self) -> R {
        match self.ret {
            JitType::Void => {}
            JitType::Struct(s) => {
                let v = self.ctx.pop()?;
                if !matches!(v.ty, StackTy::Value(_)) {
                    return Err(JitErrorKind::TypeMismatch("returning a non-struct"));
                }
                let rb = self
                    .ctx
                    .frame
                    .retbuf
                    .ok_or(JitErrorKind::Internal("no retbuf".into()))?;
                self.m().load(RDX, frame(rb), OperandSize::S64)?;
                let src = self.ctx.struct_addr(&v, RAX)?;
                self.ctx.copy_mem(Address::offset(RDX, 0), src, s.size)?;
                self.m().mov_rr(RAX, RDX, OperandSize::S64)?;
                self.ctx.free(&v);
            }
            JitType::R4 | JitType::R8 => {
                let v = self.ctx.pop()?;
                if !v.ty.is_float() {
                    return Err(JitErrorKind::TypeMismatch("returning a non-float"));
                }
                let x = self.ctx.val_to_xmm(&v, XMM0)?;
                self.m().fmov(XMM0, x)?;
                if self.ret == JitType::R4 {
                    self.m().narrow_to_single(XMM0)?;
                }
                self.ctx.free(&v);
            }
            _ => {
                let v = self.ctx.pop()?;
                if !v.ty.is_gpr() {
                    return Err(JitErrorKind::TypeMismatch("returning a non-integer"));
                }
                self.ctx.load_to_gpr(&v, RAX)?;
                if v.ty == StackTy::I32
                    && matches!(self.ret, JitType::I8 | JitType::U8 | JitType::I)
                {
                    self.m().extend(RAX, RAX, Extend::I32)?;
                }
                self.ctx.free(&v);
            }
        }
        if !self.ctx.stack.is_empty() {
            return Err(JitErrorKind::TypeMismatch(
                "evaluation stack not empty at ret",
            ));
        }
        if !self.at_end {
            let l = self.ret_label;
            self.m().jmp(l)?;
        }
        self.reachable = false;
        Ok(())
    }

    /// Emits the epilogue and the out-of-line failure calls.
    pub fn finish(mut self) -> R<Finished<M>> {
        if self.reachable {
            // Falling off the end is invalid IL (§III.1.7.5).
            return Err(JitErrorKind::FallsOffEnd);
        }
        let mut saved = Vec::new();
        for (i, r) in CALLEE_SAVED.iter().enumerate() {
            if self.ctx.used_callee_saved & (1 << r.0) != 0 {
                saved.push((*r, abi::save_slot(i)));
            }
        }
        let eh = self.eh_finish()?;
        let l = self.ret_label;
        self.m().bind(l)?;
        self.m().epilogue(&saved)?;
        let fail = self.host.helper(Helper::Fail);
        let fails = core::mem::take(&mut self.fails);
        for (label, code, il) in fails {
            self.m().bind(label)?;
            self.m().mov_ri(RDI, code as u32 as i64, OperandSize::S32)?;
            let h = self.method_handle as i64;
            self.m().mov_ri(RSI, h, OperandSize::S64)?;
            self.m().mov_ri(RDX, il as i64, OperandSize::S32)?;
            let mk = self.m().mov_ri64_patchable(RAX, fail)?;
            self.call_sites
                .push((mk, CallSiteKind::Helper(Helper::Fail), fail));
            self.m().call_reg(RAX)?;
        }
        let used = (-self.ctx.frame.eval_base) as u32 + self.ctx.stack.max_bytes();
        let frame_size = (used + 15) & !15;
        Ok((
            self.ctx.masm,
            self.ctx.frame,
            frame_size,
            saved,
            self.call_sites,
            self.il_marks,
            eh,
        ))
    }

    fn fail_label(&mut self, code: FailCode) -> R<Label> {
        let cur = self.cur;
        if let Some((l, _, _)) = self
            .fails
            .iter()
            .find(|(_, c, il)| *c == code && *il == cur)
        {
            return Ok(*l);
        }
        let l = self.m().new_label();
        self.fails.push((l, code, cur));
        Ok(l)
    }

    fn fail_if(&mut self, cond: Cond, code: FailCode) -> R {
        let l = self.fail_label(code)?;
        self.m().jcc(cond, l)
    }

    fn null_check(&mut self, r: Gpr) -> R {
        self.m().alu_rr(AluOp::Test, r, r, OperandSize::S64)?;
        self.fail_if(Cond::E, FailCode::NullReference)
    }

    pub fn throw(&mut self) -> R {
        self.ctx.spill_regs()?;
        let v = self.ctx.pop()?;
        if v.ty != StackTy::Obj {
            return Err(JitErrorKind::TypeMismatch("throw needs an object"));
        }
        self.ctx.load_to_gpr(&v, RDI)?;
        let h = self.method_handle as i64;
        self.m().mov_ri(RSI, h, OperandSize::S64)?;
        let cur = self.cur as i64;
        self.m().mov_ri(RDX, cur, OperandSize::S32)?;
        let t = self.host.helper(Helper::Throw);
        self.call_abs(t, CallSiteKind::Helper(Helper::Throw))?;
        self.reachable = false;
        Ok(())
    }

    // ---- loads and stores of args/locals -----------------------------------

    pub fn ldarg(&mut self, n: u16) -> R {
        let t = self.ctx.arg_type(n)?;
        let sty = StackTy::of(&t).ok_or(JitErrorKind::BadArg(n as u32))?;
        if self
            .ctx
            .arg_addr_taken
            .get(n as usize)
            .copied()
            .unwrap_or(false)
        {
            let a = self.ctx.arg_addr(n, RDX)?;
            return self.ctx.push_from_mem(a, &t);
        }
        self.ctx.stack.push(sty, Loc::Arg(n));
        Ok(())
    }

    pub fn ldloc(&mut self, n: u16) -> R {
        let t = self.ctx.local_type(n)?;
        let sty = StackTy::of(&t).ok_or(JitErrorKind::BadLocal(n as u32))?;
        if self
            .ctx
            .local_addr_taken
            .get(n as usize)
            .copied()
            .unwrap_or(false)
        {
            let a = self.ctx.local_addr(n)?;
            return self.ctx.push_from_mem(a, &t);
        }
        self.ctx.stack.push(sty, Loc::Local(n));
        Ok(())
    }

    pub fn stloc(&mut self, n: u16) -> R {
        let t = self.ctx.local_type(n)?;
        let v = self.ctx.pop()?;
        check_store(&t, &v.ty)?;
        if v.loc == Loc::Local(n) {
            return Ok(());
        }
        self.ctx.spill_local_refs(Some(n), None)?;
        if let Some(reg) = self.ctx.local_regs.get(n as usize).copied().flatten() {
            self.ctx.store_to_reg(reg, &t, &v)?;
            self.ctx.free(&v);
            return Ok(());
        }
        let a = self.ctx.local_addr(n)?;
        self.ctx.store_val(a, &t, &v)?;
        self.ctx.free(&v);
        Ok(())
    }

    pub fn starg(&mut self, n: u16) -> R {
        let t = self.ctx.arg_type(n)?;
        let v = self.ctx.pop()?;
        check_store(&t, &v.ty)?;
        if v.loc == Loc::Arg(n) {
            return Ok(());
        }
        self.ctx.spill_local_refs(None, Some(n))?;
        if let Some(reg) = self.ctx.arg_regs.get(n as usize).copied().flatten() {
            self.ctx.store_to_reg(reg, &t, &v)?;
            self.ctx.free(&v);
            return Ok(());
        }
        let a = self.ctx.arg_addr(n, RDX)?;
        self.ctx.store_val(a, &t, &v)?;
        self.ctx.free(&v);
        Ok(())
    }

    pub fn ldloca(&mut self, n: u16) -> R {
        let a = self.ctx.local_addr(n)?;
        let r = self.ctx.alloc_gpr()?;
        self.m().lea(r, a)?;
        self.ctx.push_reg(StackTy::ByRef, r);
        Ok(())
    }

    pub fn ldarga(&mut self, n: u16) -> R {
        let r = self.ctx.alloc_gpr()?;
        let a = self.ctx.arg_addr(n, r)?;
        self.m().lea(r, a)?;
        self.ctx.push_reg(StackTy::ByRef, r);
        Ok(())
    }

    pub fn ldc_i4(&mut self, v: i32) {
        self.ctx.stack.push(StackTy::I32, Loc::Const(v as i64));
    }
    pub fn ldc_i8(&mut self, v: i64) {
        self.ctx.stack.push(StackTy::I64, Loc::Const(v));
    }
    /// `ldc.r8`, or `ldc.r4` when `single` (the value is then a float32).
    pub fn ldc_r(&mut self, v: f64, single: bool) {
        let ty = if single { StackTy::F32 } else { StackTy::F };
        self.ctx.stack.push(ty, Loc::ConstF(v));
    }
    pub fn ldnull(&mut self) {
        self.ctx.stack.push(StackTy::Obj, Loc::Const(0));
    }

    pub fn dup(&mut self) -> R {
        let v = *self.ctx.stack.peek(0).ok_or(JitErrorKind::StackUnderflow)?;
        match (v.ty, v.loc) {
            (StackTy::Value(s), _) => {
                let src = self.ctx.struct_addr(&v, RAX)?;
                let n = self.ctx.stack.push(v.ty, Loc::Home);
                self.ctx.copy_mem(frame(n.home), src, s.size)?;
            }
            (StackTy::F | StackTy::F32, Loc::Xmm(_) | Loc::Home) => {
                let x = self.ctx.alloc_xmm()?;
                let v = *self.ctx.stack.peek(0).ok_or(JitErrorKind::StackUnderflow)?;
                let got = self.ctx.val_to_xmm(&v, x)?;
                self.m().fmov(x, got)?;
                self.ctx.push_xmm_ty(x, v.ty);
            }
            (_, Loc::Reg(_)) | (_, Loc::Home) => {
                let r = self.ctx.alloc_gpr()?;
                let v = *self.ctx.stack.peek(0).ok_or(JitErrorKind::StackUnderflow)?;
                self.ctx.load_to_gpr(&v, r)?;
                self.ctx.push_reg(v.ty, r);
            }
            (ty, loc) => {
                self.ctx.stack.push(ty, loc);
            }
        }
        Ok(())
    }

    pub fn pop(&mut self) -> R {
        let v = self.ctx.pop()?;
        self.ctx.free(&v);
        Ok(())
    }

    // ---- arithmetic -----------------------------------------------------------

    fn binary_type(op: BinOp, a: StackTy, b: StackTy) -> R<StackTy> {
        use StackTy::*;
        let int_only = matches!(
            op,
            BinOp::And | BinOp::Or | BinOp::Xor | BinOp::DivUn | BinOp::RemUn
        );
        let ovf = matches!(
            op,
            BinOp::AddOvf
                | BinOp::AddOvfUn
                | BinOp::SubOvf
                | BinOp::SubOvfUn
                | BinOp::MulOvf
                | BinOp::MulOvfUn
        );
        if matches!(op, BinOp::Shl | BinOp::Shr | BinOp::ShrUn) {
            return match (a, b) {
                (I32 | I64 | NInt, I32 | NInt) => Ok(a),
                _ => Err(JitErrorKind::TypeMismatch("shift operands")),
            };
        }
        Ok(match (a, b) {
            (I32, I32) => I32,
            (I64, I64) | (I64, I32) | (I32, I64) => I64,
            (NInt, I32) | (I32, NInt) | (NInt, NInt) => NInt,
            (F32, F32) if !int_only && !ovf => F32,
            (F | F32, F | F32) if !int_only && !ovf => F,
            (ByRef, I32 | NInt)
                if matches!(
                    op,
                    BinOp::Add | BinOp::Sub | BinOp::AddOvfUn | BinOp::SubOvfUn
                ) =>
            {
                ByRef
            }
            (I32 | NInt, ByRef) if matches!(op, BinOp::Add | BinOp::AddOvfUn) => ByRef,
            (ByRef, ByRef) if matches!(op, BinOp::Sub | BinOp::SubOvfUn) => NInt,
            _ => return Err(JitErrorKind::TypeMismatch("binary operand types")),
        })
    }

    pub fn binop(&mut self, op: BinOp) -> R {
        let b = self.ctx.pop()?;
        let a = self.ctx.pop()?;
        let ty = Self::binary_type(op, a.ty, b.ty)?;
        if ty.is_float() {
            return self.float_binop(op, a, b, ty);
        }
        // Constant folding keeps `ldc; ldc; op` sequences free.
        if let (Loc::Const(x), Loc::Const(y)) = (a.loc, b.loc) {
            if let Some(c) = fold(op, ty, x, y) {
                self.ctx.stack.push(ty, Loc::Const(c));
                return Ok(());
            }
        }
        let size = if ty == StackTy::I32 {
            OperandSize::S32
        } else {
            OperandSize::S64
        };
        let wide = size == OperandSize::S64;
        let unsigned = matches!(
            op,
            BinOp::DivUn | BinOp::RemUn | BinOp::AddOvfUn | BinOp::SubOvfUn | BinOp::MulOvfUn
        );
        match op {
            BinOp::Div | BinOp::DivUn | BinOp::Rem | BinOp::RemUn => {
                return self.divrem(op, a, b, ty, size)
            }
            BinOp::Shl | BinOp::Shr | BinOp::ShrUn => return self.shift(op, a, b),
            BinOp::MulOvfUn => {
                let ra = self.widen(&a, wide, true)?;
                let rb = self.widen_b(&b, wide, true)?;
                self.m().mov_rr(RAX, ra, OperandSize::S64)?;
                self.m().muldiv(MulDivKind::UMul, rb, size)?;
                self.fail_if(Cond::O, FailCode::Overflow)?;
                self.m().mov_rr(ra, RAX, OperandSize::S64)?;
                self.free_b(&b, rb);
                self.ctx.push_reg(ty, ra);
                return Ok(());
            }
            _ => {}
        }
        let ra = self.widen(&a, wide, unsigned)?;
        let alu = match op {
            BinOp::Add | BinOp::AddOvf | BinOp::AddOvfUn => Some(AluOp::Add),
            BinOp::Sub | BinOp::SubOvf | BinOp::SubOvfUn => Some(AluOp::Sub),
            BinOp::And => Some(AluOp::And),
            BinOp::Or => Some(AluOp::Or),
            BinOp::Xor => Some(AluOp::Xor),
            _ => None,
        };
        let imm = match b.loc {
            Loc::Const(c) if fits_i32(c) => Some(c as i32),
            _ => None,
        };
        match (alu, imm) {
            (Some(alu), Some(c)) => self.m().alu_ri(alu, ra, c, size)?,
            (None, Some(c)) => self.m().imul_rri(ra, ra, c, size)?,
            (alu, None) => {
                let rb = self.widen_b(&b, wide, unsigned)?;
                match alu {
                    Some(alu) => self.m().alu_rr(alu, ra, rb, size)?,
                    None => self.m().imul_rr(ra, rb, size)?,
                }
                self.free_b(&b, rb);
            }
        }
        match op {
            BinOp::AddOvf | BinOp::SubOvf | BinOp::MulOvf => {
                self.fail_if(Cond::O, FailCode::Overflow)?
            }
            BinOp::AddOvfUn | BinOp::SubOvfUn => self.fail_if(Cond::B, FailCode::Overflow)?,
            _ => {}
        }
        self.ctx.push_reg(ty, ra);
        Ok(())
    }

    /// Left operand in an owned register, widened to 64 bits when needed.
    fn widen(&mut self, v: &Val, wide: bool, unsigned: bool) -> R<Gpr> {
        if wide {
            self.ctx.into_gpr64(v, unsigned)
        } else {
            self.ctx.into_gpr(v)
        }
    }

    /// Right operand: constants go to r11 (never allocated), others to a register.
    fn widen_b(&mut self, v: &Val, wide: bool, unsigned: bool) -> R<Gpr> {
        if let Loc::Const(c) = v.loc {
            let c = if v.ty == StackTy::I32 && unsigned && wide {
                c as u32 as i64
            } else {
                c
            };
            self.m().mov_ri(
                R11,
                c,
                if wide {
                    OperandSize::S64
                } else {
                    OperandSize::S32
                },
            )?;
            return Ok(R11);
        }
        if !(wide && v.ty == StackTy::I32) {
            return self.ctx.read_gpr(v);
        }
        self.widen(v, wide, unsigned)
    }

    fn free_b(&mut self, _v: &Val, r: Gpr) {
        self.ctx.free_gpr(r);
    }

    fn divrem(&mut self, op: BinOp, a: Val, b: Val, ty: StackTy, size: OperandSize) -> R {
        let wide = size == OperandSize::S64;
        let unsigned = matches!(op, BinOp::DivUn | BinOp::RemUn);
        let ra = self.widen(&a, wide, unsigned)?;
        let rb = self.widen_b(&b, wide, unsigned)?;
        self.m().alu_rr(AluOp::Test, rb, rb, size)?;
        self.fail_if(Cond::E, FailCode::DivideByZero)?;
        self.m().mov_rr(RAX, ra, OperandSize::S64)?;
        if unsigned {
            self.m().mov_ri(RDX, 0, OperandSize::S32)?;
            self.m().muldiv(MulDivKind::UDiv, rb, size)?;
        } else {
            // MIN / -1 overflows (the CLI raises OverflowException; x86 would fault).
            let ok = self.m().new_label();
            self.m().alu_ri(AluOp::Cmp, rb, -1, size)?;
            self.m().jcc(Cond::Ne, ok)?;
            let min = if wide { i64::MIN } else { i32::MIN as i64 };
            self.m().mov_ri(RDX, min, size)?;
            self.m().alu_rr(AluOp::Cmp, RAX, RDX, size)?;
            self.fail_if(Cond::E, FailCode::Overflow)?;
            self.m().bind(ok)?;
            self.m().sign_extend_rax(size)?;
            self.m().muldiv(MulDivKind::SDiv, rb, size)?;
        }
        let res = if matches!(op, BinOp::Div | BinOp::DivUn) {
            RAX
        } else {
            RDX
        };
        self.m().mov_rr(ra, res, OperandSize::S64)?;
        self.free_b(&b, rb);
        self.ctx.push_reg(ty, ra);
        Ok(())
    }

    fn shift(&mut self, op: BinOp, a: Val, b: Val) -> R {
        let size = context::home_size(a.ty);
        let kind = match op {
            BinOp::Shl => ShiftKind::Shl,
            BinOp::Shr => ShiftKind::Sar,
            _ => ShiftKind::Shr,
        };
        let ra = self.ctx.into_gpr(&a)?;
        if let Loc::Const(c) = b.loc {
            let mask = if size == OperandSize::S64 { 63 } else { 31 };
            self.m().shift_ri(kind, ra, (c & mask) as u8, size)?;
        } else {
            self.ctx.load_to_gpr(&b, RCX)?;
            self.ctx.free(&b);
            self.m().shift_cl(kind, ra, size)?;
        }
        self.ctx.push_reg(a.ty, ra);
        Ok(())
    }

    /// Float arithmetic in double precision; a float32 result (`ty` is `F32`) is
    /// rounded to single. For + - * / of float32 operands that equals the single
    /// precision operation: double has more than 2·24+2 bits, so double rounding
    /// is innocuous (Figueroa, "When is double rounding innocuous?", 1995); `%` is
    /// exact either way.
    fn float_binop(&mut self, op: BinOp, a: Val, b: Val, ty: StackTy) -> R {
        if matches!(op, BinOp::Rem) {
            self.ctx.stack.push(a.ty, a.loc);
            self.ctx.stack.push(b.ty, b.loc);
            // Re-push and spill so the helper call cannot clobber live values.
            self.ctx.spill_regs()?;
            let b = self.ctx.pop()?;
            let a = self.ctx.pop()?;
            let xa = self.ctx.val_to_xmm(&a, XMM0)?;
            self.m().movq_rx(RDI, xa)?;
            let xb = self.ctx.val_to_xmm(&b, Xmm(1))?;
            self.m().movq_rx(RSI, xb)?;
            let h = self.host.helper(Helper::FRem);
            self.call_abs(h, CallSiteKind::Helper(Helper::FRem))?;
            let x = self.ctx.alloc_xmm()?;
            self.m().movq_xr(x, RAX)?;
            self.ctx.push_xmm_ty(x, ty);
            return Ok(());
        }
        let xa = self.ctx.into_xmm(&a)?;
        let xb = self.ctx.val_to_xmm(&b, XMM_SCRATCH)?;
        let fop = match op {
            BinOp::Add => FloatOp::Add,
            BinOp::Sub => FloatOp::Sub,
            BinOp::Mul => FloatOp::Mul,
            BinOp::Div => FloatOp::Div,
            _ => return Err(JitErrorKind::TypeMismatch("float operation")),
        };
        self.m().fop(fop, xa, xb)?;
        if ty == StackTy::F32 {
            self.m().fround_single(xa)?;
        }
        self.ctx.free(&b);
        self.ctx.push_xmm_ty(xa, ty);
        Ok(())
    }

    pub fn neg(&mut self) -> R {
        let v = self.ctx.pop()?;
        match v.ty {
            StackTy::F | StackTy::F32 => {
                let x = self.ctx.into_xmm(&v)?;
                self.m().mov_ri(R11, i64::MIN, OperandSize::S64)?;
                self.m().movq_xr(XMM_SCRATCH, R11)?;
                self.m().fxor(x, XMM_SCRATCH)?;
                self.ctx.push_xmm_ty(x, v.ty);
            }
            StackTy::I32 | StackTy::I64 | StackTy::NInt => {
                if let Loc::Const(c) = v.loc {
                    let r = if v.ty == StackTy::I32 {
                        (c as i32).wrapping_neg() as i64
                    } else {
                        c.wrapping_neg()
                    };
                    self.ctx.stack.push(v.ty, Loc::Const(r));
                    return Ok(());
                }
                let r = self.ctx.into_gpr(&v)?;
                self.m().neg(r, context::home_size(v.ty))?;
                self.ctx.push_reg(v.ty, r);
            }
            _ => return Err(JitErrorKind::TypeMismatch("neg operand")),
        }
        Ok(())
    }

    pub fn not(&mut self) -> R {
        let v = self.ctx.pop()?;
        if !matches!(v.ty, StackTy::I32 | StackTy::I64 | StackTy::NInt) {
            return Err(JitErrorKind::TypeMismatch("not operand"));
        }
        if let Loc::Const(c) = v.loc {
            let r = if v.ty == StackTy::I32 {
                !(c as i32) as i64
            } else {
                !c
            };
            self.ctx.stack.push(v.ty, Loc::Const(r));
            return Ok(());
        }
        let r = self.ctx.into_gpr(&v)?;
        self.m().not(r, context::home_size(v.ty))?;
        self.ctx.push_reg(v.ty, r);
        Ok(())
    }

    // ---- comparisons ----------------------------------------------------------

    /// Puts both operands in registers (or b as an imm32 constant) with a common width.
    fn int_cmp_operands(
        &mut self,
        a: &Val,
        b: &Val,
        read_only: bool,
    ) -> R<(Gpr, Option<Gpr>, OperandSize)> {
        use StackTy::*;
        let size = match (a.ty, b.ty) {
            (I32, I32) => OperandSize::S32,
            (x, y) if x.is_gpr() && y.is_gpr() => OperandSize::S64,
            _ => return Err(JitErrorKind::TypeMismatch("comparison operands")),
        };
        let wide = size == OperandSize::S64;
        let ra = if read_only && !(wide && a.ty == I32) {
            self.ctx.read_gpr(a)?
        } else {
            self.widen(a, wide, false)?
        };
        if let Loc::Const(c) = b.loc {
            if fits_i32(c) {
                return Ok((ra, None, size));
            }
        }
        let rb = if !(wide && b.ty == I32) {
            self.ctx.read_gpr(b)?
        } else {
            self.widen(b, wide, false)?
        };
        Ok((ra, Some(rb), size))
    }

    pub fn cmp(&mut self, kind: CmpKind) -> R {
        let b = self.ctx.pop()?;
        let a = self.ctx.pop()?;
        if a.ty.is_float() || b.ty.is_float() {
            return self.push_fcmp(a, b, kind);
        }
        let (ra, rb, size) = self.int_cmp_operands(&a, &b, false)?;
        match (rb, b.loc) {
            (Some(rb), _) => {
                self.m().alu_rr(AluOp::Cmp, ra, rb, size)?;
                self.ctx.free_gpr(rb);
            }
            (None, Loc::Const(c)) => self.m().alu_ri(AluOp::Cmp, ra, c as i32, size)?,
            _ => return Err(JitErrorKind::Internal("compare operand".into())),
        }
        self.m().setcc(int_cond(kind), ra)?;
        self.ctx.push_reg(StackTy::I32, ra);
        Ok(())
    }

    fn push_fcmp(&mut self, a: Val, b: Val, kind: CmpKind) -> R {
        if !a.ty.is_float() || !b.ty.is_float() {
            return Err(JitErrorKind::TypeMismatch(
                "comparing a float with a non-float",
            ));
        }
        let xa = self.ctx.into_xmm(&a)?;
        let xb = self.ctx.val_to_xmm(&b, XMM_SCRATCH)?;
        let r = self.ctx.alloc_gpr()?;
        let (swap, cond) = match kind {
            CmpKind::Gt => (false, Cond::A),
            CmpKind::Ge => (false, Cond::Ae),
            CmpKind::Lt => (true, Cond::A),
            CmpKind::Le => (true, Cond::Ae),
            CmpKind::GtUn => (true, Cond::B),
            CmpKind::GeUn => (true, Cond::Be),
            CmpKind::LtUn => (false, Cond::B),
            CmpKind::LeUn => (false, Cond::Be),
            CmpKind::Eq | CmpKind::NeUn => (false, Cond::E),
        };
        if swap {
            self.m().fcmp(xb, xa)?;
        } else {
            self.m().fcmp(xa, xb)?;
        }
        self.m().setcc(cond, r)?;
        if matches!(kind, CmpKind::Eq | CmpKind::NeUn) {
            self.m().setcc(Cond::Np, R11)?;
            self.m().alu_rr(AluOp::And, r, R11, OperandSize::S32)?;
            if kind == CmpKind::NeUn {
                self.m().alu_ri(AluOp::Xor, r, 1, OperandSize::S32)?;
            }
        }
        self.ctx.free(&a);
        self.ctx.free_xmm_of(xa);
        self.ctx.free(&b);
        self.ctx.push_reg(StackTy::I32, r);
        Ok(())
    }

    // ---- conversions ------------------------------------------------------------

    pub fn conv(&mut self, to: ConvTo, ovf: bool, un: bool) -> R {
        let v = self.ctx.pop()?;
        match v.ty {
            StackTy::F | StackTy::F32 => return self.conv_from_float(v, to, ovf),
            StackTy::Value(_) => return Err(JitErrorKind::TypeMismatch("conv of a value type")),
            _ => {}
        }
        if matches!(to, ConvTo::R4 | ConvTo::R8 | ConvTo::RUn) {
            return self.conv_to_float(v, to, un);
        }
        let res_ty = match to {
            ConvTo::I8 | ConvTo::U8 => StackTy::I64,
            ConvTo::I | ConvTo::U => StackTy::NInt,
            _ => StackTy::I32,
        };
        // Source as a full 64-bit value in the interpretation the op asks for.
        let src_unsigned = un;
        if let Loc::Const(c) = v.loc {
            let c64 = if v.ty == StackTy::I32 && src_unsigned {
                c as u32 as i64
            } else {
                c
            };
            if let Some(r) = conv_const(c64, to, ovf, src_unsigned) {
                self.ctx.stack.push(res_ty, Loc::Const(r));
                return Ok(());
            }
        }
        let r = self.ctx.into_gpr(&v)?;
        if v.ty == StackTy::I32 {
            let zero = src_unsigned || (!ovf && matches!(to, ConvTo::U8 | ConvTo::U));
            self.m()
                .extend(r, r, if zero { Extend::U32 } else { Extend::I32 })?;
        }
        if ovf {
            self.check_int_range(r, to, src_unsigned)?;
        }
        match to {
            ConvTo::I1 => self.m().extend(r, r, Extend::I8)?,
            ConvTo::U1 => self.m().extend(r, r, Extend::U8)?,
            ConvTo::I2 => self.m().extend(r, r, Extend::I16)?,
            ConvTo::U2 => self.m().extend(r, r, Extend::U16)?,
            _ => {}
        }
        self.ctx.push_reg(res_ty, r);
        Ok(())
    }

    /// Fails with Overflow unless the 64-bit value in `r` fits `to`.
    fn check_int_range(&mut self, r: Gpr, to: ConvTo, src_unsigned: bool) -> R {
        let signed_narrow = match to {
            ConvTo::I1 => Some((Extend::I8, 127)),
            ConvTo::I2 => Some((Extend::I16, 32767)),
            ConvTo::I4 => Some((Extend::I32, i32::MAX)),
            _ => None,
        };
        let unsigned_narrow = match to {
            ConvTo::U1 => Some(Extend::U8),
            ConvTo::U2 => Some(Extend::U16),
            ConvTo::U4 => Some(Extend::U32),
            _ => None,
        };
        if let Some((ext, max)) = signed_narrow {
            if src_unsigned {
                self.m().alu_ri(AluOp::Cmp, r, max, OperandSize::S64)?;
                self.fail_if(Cond::A, FailCode::Overflow)?;
            } else {
                self.m().extend(R11, r, ext)?;
                if ext != Extend::I32 {
                    self.m().extend(R11, R11, Extend::I32)?;
                }
                self.m().alu_rr(AluOp::Cmp, R11, r, OperandSize::S64)?;
                self.fail_if(Cond::Ne, FailCode::Overflow)?;
            }
        } else if let Some(ext) = unsigned_narrow {
            self.m().extend(R11, r, ext)?;
            self.m().alu_rr(AluOp::Cmp, R11, r, OperandSize::S64)?;
            self.fail_if(Cond::Ne, FailCode::Overflow)?;
        } else {
            let signed_target = matches!(to, ConvTo::I8 | ConvTo::I);
            if signed_target == src_unsigned {
                // u64 → i64 or i64 → u64: the sign bit must be clear.
                self.m().alu_rr(AluOp::Test, r, r, OperandSize::S64)?;
                self.fail_if(Cond::S, FailCode::Overflow)?;
            }
        }
        Ok(())
    }

    fn conv_to_float(&mut self, v: Val, to: ConvTo, un: bool) -> R {
        let x = self.ctx.alloc_xmm()?;
        let unsigned = un || to == ConvTo::RUn;
        let r = self.ctx.into_gpr(&v)?;
        if v.ty == StackTy::I32 {
            if unsigned {
                self.m().extend(r, r, Extend::U32)?;
                self.m().cvt_i2f(x, r, OperandSize::S64)?;
            } else {
                self.m().cvt_i2f(x, r, OperandSize::S32)?;
            }
        } else if unsigned {
            let (big, done) = (self.m().new_label(), self.m().new_label());
            self.m().alu_rr(AluOp::Test, r, r, OperandSize::S64)?;
            self.m().jcc(Cond::S, big)?;
            self.m().cvt_i2f(x, r, OperandSize::S64)?;
            self.m().jmp(done)?;
            self.m().bind(big)?;
            self.m().mov_rr(R11, r, OperandSize::S64)?;
            self.m()
                .shift_ri(ShiftKind::Shr, R11, 1, OperandSize::S64)?;
            self.m().alu_ri(AluOp::And, r, 1, OperandSize::S64)?;
            self.m().alu_rr(AluOp::Or, R11, r, OperandSize::S64)?;
            self.m().cvt_i2f(x, R11, OperandSize::S64)?;
            self.m().fop(FloatOp::Add, x, x)?;
            self.m().bind(done)?;
        } else if to == ConvTo::R4 {
            // One rounding, straight to single (via double would round twice).
            self.m().cvt_i2f_single(x, r, OperandSize::S64)?;
            self.ctx.free_gpr(r);
            self.ctx.push_xmm_ty(x, StackTy::F32);
            return Ok(());
        } else {
            self.m().cvt_i2f(x, r, OperandSize::S64)?;
        }
        self.ctx.free_gpr(r);
        if to == ConvTo::R4 {
            self.m().fround_single(x)?;
            self.ctx.push_xmm_ty(x, StackTy::F32);
        } else {
            self.ctx.push_xmm(x);
        }
        Ok(())
    }

    fn conv_from_float(&mut self, v: Val, to: ConvTo, ovf: bool) -> R {
        let x = self.ctx.into_xmm(&v)?;
        match to {
            ConvTo::R8 => {
                self.ctx.push_xmm(x);
                return Ok(());
            }
            ConvTo::R4 => {
                if v.ty != StackTy::F32 {
                    self.m().fround_single(x)?;
                }
                self.ctx.push_xmm_ty(x, StackTy::F32);
                return Ok(());
            }
            ConvTo::RUn => {
                self.ctx.push_xmm(x);
                return Ok(());
            }
            _ => {}
        }
        let r = self.ctx.alloc_gpr()?;
        let res_ty = match to {
            ConvTo::I8 | ConvTo::U8 => StackTy::I64,
            ConvTo::I | ConvTo::U => StackTy::NInt,
            _ => StackTy::I32,
        };
        if matches!(to, ConvTo::U8 | ConvTo::U) {
            if ovf {
                // x <= -1.0 or NaN, or x >= 2^64: overflow.
                self.m()
                    .mov_ri(R11, (-1.0f64).to_bits() as i64, OperandSize::S64)?;
                self.m().movq_xr(XMM_SCRATCH, R11)?;
                self.m().fcmp(x, XMM_SCRATCH)?;
                self.fail_if(Cond::Be, FailCode::Overflow)?;
                self.m().mov_ri(
                    R11,
                    18446744073709551616.0f64.to_bits() as i64,
                    OperandSize::S64,
                )?;
                self.m().movq_xr(XMM_SCRATCH, R11)?;
                self.m().fcmp(x, XMM_SCRATCH)?;
                self.fail_if(Cond::Ae, FailCode::Overflow)?;
            }
            let (big, done) = (self.m().new_label(), self.m().new_label());
            self.m().mov_ri(
                R11,
                9223372036854775808.0f64.to_bits() as i64,
                OperandSize::S64,
            )?;
            self.m().movq_xr(XMM_SCRATCH, R11)?;
            self.m().fcmp(x, XMM_SCRATCH)?;
            self.m().jcc(Cond::Ae, big)?;
            self.m().cvt_f2i(r, x, OperandSize::S64)?;
            self.m().jmp(done)?;
            self.m().bind(big)?;
            self.m().fop(FloatOp::Sub, x, XMM_SCRATCH)?;
            self.m().cvt_f2i(r, x, OperandSize::S64)?;
            self.m().mov_ri(R11, i64::MIN, OperandSize::S64)?;
            self.m().alu_rr(AluOp::Xor, r, R11, OperandSize::S64)?;
            self.m().bind(done)?;
        } else {
            self.m().cvt_f2i(r, x, OperandSize::S64)?;
            if ovf {
                // cvttsd2si yields 0x8000_0000_0000_0000 for NaN and out of range;
                // that value is only legitimate for exactly -2^63.
                let ok = self.m().new_label();
                self.m().mov_ri(R11, i64::MIN, OperandSize::S64)?;
                self.m().alu_rr(AluOp::Cmp, r, R11, OperandSize::S64)?;
                self.m().jcc(Cond::Ne, ok)?;
                self.m().mov_ri(
                    R11,
                    (-9223372036854775808.0f64).to_bits() as i64,
                    OperandSize::S64,
                )?;
                self.m().movq_xr(XMM_SCRATCH, R11)?;
                self.m().fcmp(x, XMM_SCRATCH)?;
                self.fail_if(Cond::Ne, FailCode::Overflow)?;
                self.fail_if(Cond::P, FailCode::Overflow)?;
                self.m().bind(ok)?;
                self.check_int_range(r, to, false)?;
            }
            match to {
                ConvTo::I1 => self.m().extend(r, r, Extend::I8)?,
                ConvTo::U1 => self.m().extend(r, r, Extend::U8)?,
                ConvTo::I2 => self.m().extend(r, r, Extend::I16)?,
                ConvTo::U2 => self.m().extend(r, r, Extend::U16)?,
                _ => {}
            }
        }
        self.ctx.free_xmm_of(x);
        self.ctx.push_reg(res_ty, r);
        Ok(())
    }

    pub fn ckfinite(&mut self) -> R {
        let v = self.ctx.pop()?;
        let x = self.ctx.into_xmm(&v)?;
        self.m().movq_rx(R11, x)?;
        self.m()
            .mov_ri(RAX, 0x7FF0_0000_0000_0000u64 as i64, OperandSize::S64)?;
        self.m().alu_rr(AluOp::And, R11, RAX, OperandSize::S64)?;
        self.m().alu_rr(AluOp::Cmp, R11, RAX, OperandSize::S64)?;
        self.fail_if(Cond::E, FailCode::NotFinite)?;
        self.ctx.push_xmm(x);
        Ok(())
    }

    // ---- indirect access, fields, statics -------------------------------------------

    fn pop_pointer(&mut self, allow_obj: bool) -> R<(Gpr, StackTy)> {
        self.pop_pointer_as(allow_obj, false)
    }

    /// `owned`: the caller writes the register (else a register local may be used in place).
    fn pop_pointer_as(&mut self, allow_obj: bool, owned: bool) -> R<(Gpr, StackTy)> {
        let v = self.ctx.pop()?;
        match v.ty {
            StackTy::ByRef | StackTy::NInt => {}
            StackTy::Obj if allow_obj => {}
            StackTy::I32 => {
                // Unverifiable but legal: an int32 address, zero-extended.
                let r = self.ctx.into_gpr(&v)?;
                self.m().extend(r, r, Extend::U32)?;
                return Ok((r, StackTy::NInt));
            }
            _ => return Err(JitErrorKind::TypeMismatch("expected an address")),
        }
        let r = if owned {
            self.ctx.into_gpr(&v)?
        } else {
            self.ctx.read_gpr(&v)?
        };
        if v.ty == StackTy::Obj {
            self.null_check(r)?;
        }
        Ok((r, v.ty))
    }

    pub fn ldind(&mut self, ty: JitType) -> R {
        let (r, _) = self.pop_pointer(false)?;
        self.ctx.free_gpr(r);
        self.ctx.push_from_mem(Address::offset(r, 0), &ty)
    }

    pub fn stind(&mut self, ty: JitType) -> R {
        let v = self.ctx.pop()?;
        check_store(&ty, &v.ty)?;
        let (r, _) = self.pop_pointer(false)?;
        self.ctx.store_val(Address::offset(r, 0), &ty, &v)?;
        self.ctx.free_gpr(r);
        self.ctx.free(&v);
        Ok(())
    }

    fn type_info(&mut self, tok: u32) -> R<TypeInfo> {
        self.host.type_info(tok).map_err(Self::host_err)
    }

    pub fn ldobj(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        self.ldind(t.ty)
    }
    pub fn stobj(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        self.stind(t.ty)
    }
    pub fn cpobj(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        let (rs, _) = self.pop_pointer(false)?;
        let (rd, _) = self.pop_pointer(false)?;
        self.ctx
            .copy_mem(Address::offset(rd, 0), Address::offset(rs, 0), t.ty.size())?;
        self.ctx.free_gpr(rs);
        self.ctx.free_gpr(rd);
        Ok(())
    }
    pub fn initobj(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        let (r, _) = self.pop_pointer(false)?;
        self.ctx.zero_mem(Address::offset(r, 0), t.ty.size())?;
        self.ctx.free_gpr(r);
        Ok(())
    }
    pub fn sizeof(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        self.ldc_i4(t.ty.size() as i32);
        Ok(())
    }

    fn field(&mut self, tok: u32) -> R<FieldInfo> {
        self.host.field(tok).map_err(Self::host_err)
    }

    pub fn ldfld(&mut self, tok: u32) -> R {
        let f = self.field(tok)?;
        if f.static_addr.is_some() {
            let v = self.ctx.pop()?;
            self.ctx.free(&v);
            return self.ldsfld(tok);
        }
        let off = f.offset as i32;
        let v = *self.ctx.stack.peek(0).ok_or(JitErrorKind::StackUnderflow)?;
        if let StackTy::Value(s) = v.ty {
            // Seed bug 5: a struct *value* on the stack — read the field out of the
            // value itself, never treat its bytes as an address.
            if off as u32 + f.ty.size() > s.size {
                return Err(JitErrorKind::TypeMismatch("field outside the value type"));
            }
            // Reserve the value's extent so the copy's temp cannot overlap it.
            self.ctx.stack.temp(v.ty.slot_size());
            self.ctx.pop()?;
            let a = self.ctx.struct_addr(&v, RDX)?;
            return self.ctx.push_from_mem(a.plus(off), &f.ty);
        }
        let (r, _) = self.pop_pointer(true)?;
        self.ctx.free_gpr(r);
        self.ctx.push_from_mem(Address::offset(r, off), &f.ty)
    }

    pub fn ldflda(&mut self, tok: u32) -> R {
        let f = self.field(tok)?;
        if f.static_addr.is_some() {
            let v = self.ctx.pop()?;
            self.ctx.free(&v);
            return self.ldsflda(tok);
        }
        let (r, _) = self.pop_pointer_as(true, true)?;
        self.m().lea(r, Address::offset(r, f.offset as i32))?;
        self.ctx.push_reg(StackTy::ByRef, r);
        Ok(())
    }

    pub fn stfld(&mut self, tok: u32) -> R {
        let f = self.field(tok)?;
        let v = self.ctx.pop()?;
        check_store(&f.ty, &v.ty)?;
        if f.static_addr.is_some() {
            let o = self.ctx.pop()?;
            self.ctx.free(&o);
            self.ctx.stack.push(v.ty, v.loc);
            return self.stsfld(tok);
        }
        let (r, _) = self.pop_pointer(true)?;
        self.ctx
            .store_val(Address::offset(r, f.offset as i32), &f.ty, &v)?;
        self.ctx.free_gpr(r);
        self.ctx.free(&v);
        Ok(())
    }

    /// Address of a static in rdx, after the class-init check.
    fn static_addr(&mut self, f: &FieldInfo) -> R<Address> {
        let addr = f
            .static_addr
            .ok_or(JitErrorKind::TypeMismatch("not a static field"))?;
        if let Some(ci) = f.class_init {
            self.ctx.spill_regs()?;
            let done = self.m().new_label();
            self.m()
                .mov_ri(R11, ci.flag_addr as i64, OperandSize::S64)?;
            self.m()
                .alu_mi(AluOp::Cmp, Address::offset(R11, 0), 0, OperandSize::S8)?;
            self.m().jcc(Cond::E, done)?;
            self.m().mov_ri(RDI, ci.handle as i64, OperandSize::S64)?;
            let h = self.host.helper(Helper::ClassInit);
            self.call_abs(h, CallSiteKind::Helper(Helper::ClassInit))?;
            self.m().bind(done)?;
        }
        self.m().mov_ri(RDX, addr as i64, OperandSize::S64)?;
        Ok(Address::offset(RDX, 0))
    }

    pub fn ldsfld(&mut self, tok: u32) -> R {
        let f = self.field(tok)?;
        let a = self.static_addr(&f)?;
        self.ctx.push_from_mem(a, &f.ty)
    }

    pub fn ldsflda(&mut self, tok: u32) -> R {
        let f = self.field(tok)?;
        let a = self.static_addr(&f)?;
        let r = self.ctx.alloc_gpr()?;
        self.m().lea(r, a)?;
        self.ctx.push_reg(StackTy::ByRef, r);
        Ok(())
    }

    pub fn stsfld(&mut self, tok: u32) -> R {
        let f = self.field(tok)?;
        if f.class_init.is_some() {
            self.ctx.spill_regs()?;
        }
        let v = self.ctx.pop()?;
        check_store(&f.ty, &v.ty)?;
        let a = self.static_addr(&f)?;
        self.ctx.store_val(a, &f.ty, &v)?;
        self.ctx.free(&v);
        Ok(())
    }

    // ---- arrays -------------------------------------------------------------------

    /// Pops index and array; returns the element address (bounds and null checked).
    fn elem_addr(&mut self, elem_size: u32) -> R<(Address, Gpr, Option<Gpr>)> {
        self.elem_addr_as(elem_size, false)
    }

    fn elem_addr_as(&mut self, elem_size: u32, owned_base: bool) -> R<(Address, Gpr, Option<Gpr>)> {
        let idx = self.ctx.pop()?;
        let arr = self.ctx.pop()?;
        if arr.ty != StackTy::Obj || !matches!(idx.ty, StackTy::I32 | StackTy::NInt) {
            return Err(JitErrorKind::TypeMismatch("array element access operands"));
        }
        let ra = if owned_base {
            self.ctx.into_gpr(&arr)?
        } else {
            self.ctx.read_gpr(&arr)?
        };
        self.null_check(ra)?;
        let len = Address::offset(ra, self.layout.array_length_offset);
        let data = self.layout.array_data_offset;
        if let Loc::Const(c) = idx.loc {
            let off = c
                .checked_mul(elem_size as i64)
                .and_then(|o| o.checked_add(data as i64));
            if let Some(off) = off.filter(|o| c >= 0 && fits_i32(*o) && c <= i32::MAX as i64) {
                self.m()
                    .alu_mi(AluOp::Cmp, len, c as i32, OperandSize::S32)?;
                self.fail_if(Cond::Be, FailCode::IndexOutOfRange)?;
                return Ok((Address::offset(ra, off as i32), ra, None));
            }
        }
        let ri = self.ctx.into_gpr64(&idx, false)?;
        self.m().load(R11, len, OperandSize::S32)?;
        self.m().alu_rr(AluOp::Cmp, ri, R11, OperandSize::S64)?;
        self.fail_if(Cond::Ae, FailCode::IndexOutOfRange)?;
        let addr = match elem_size {
            1 | 2 | 4 | 8 => Address::indexed(ra, ri, elem_size as u8, data),
            n => {
                self.m().imul_rri(ri, ri, n as i32, OperandSize::S64)?;
                Address::indexed(ra, ri, 1, data)
            }
        };
        Ok((addr, ra, Some(ri)))
    }

    fn free_elem(&mut self, ra: Gpr, ri: Option<Gpr>) {
        self.ctx.free_gpr(ra);
        if let Some(ri) = ri {
            self.ctx.free_gpr(ri);
        }
    }

    pub fn ldelem(&mut self, ty: JitType) -> R {
        let (addr, ra, ri) = self.elem_addr(ty.size())?;
        self.free_elem(ra, ri);
        self.ctx.push_from_mem(addr, &ty)
    }

    pub fn ldelem_tok(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        self.ldelem(t.ty)
    }

    pub fn stelem(&mut self, ty: JitType) -> R {
        if ty == JitType::Obj
            && !matches!(self.ctx.stack.peek(0).map(|v| v.loc), Some(Loc::Const(0)))
        {
            // Array covariance (§III.4.26): the stored object must fit the array's
            // element type. The helper call needs every live value in its home.
            self.ctx.spill_regs()?;
            let n = self.ctx.stack.len();
            if n < 3 {
                return Err(JitErrorKind::StackUnderflow);
            }
            let (arr, val) = (self.ctx.stack.vals[n - 3], self.ctx.stack.vals[n - 1]);
            self.ctx.load_to_gpr(&arr, RDI)?;
            self.ctx.load_to_gpr(&val, RSI)?;
            let h = self.host.helper(Helper::ArrayStoreCheck);
            self.call_abs(h, CallSiteKind::Helper(Helper::ArrayStoreCheck))?;
            self.m().alu_rr(AluOp::Test, RAX, RAX, OperandSize::S64)?;
            self.fail_if(Cond::E, FailCode::ArrayTypeMismatch)?;
        }
        let v = self.ctx.pop()?;
        check_store(&ty, &v.ty)?;
        let (addr, ra, ri) = self.elem_addr(ty.size())?;
        self.ctx.store_val(addr, &ty, &v)?;
        self.free_elem(ra, ri);
        self.ctx.free(&v);
        Ok(())
    }

    pub fn stelem_tok(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        self.stelem(t.ty)
    }

    pub fn ldelema(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        let (addr, ra, ri) = self.elem_addr_as(t.ty.size(), true)?;
        self.m().lea(ra, addr)?;
        if let Some(ri) = ri {
            self.ctx.free_gpr(ri);
        }
        self.ctx.push_reg(StackTy::ByRef, ra);
        Ok(())
    }

    pub fn ldlen(&mut self) -> R {
        let v = self.ctx.pop()?;
        if v.ty != StackTy::Obj {
            return Err(JitErrorKind::TypeMismatch("ldlen needs an array"));
        }
        let r = self.ctx.into_gpr(&v)?;
        self.null_check(r)?;
        let off = self.layout.array_length_offset;
        self.m()
            .load(r, Address::offset(r, off), OperandSize::S32)?;
        self.ctx.push_reg(StackTy::NInt, r);
        Ok(())
    }

    pub fn newarr(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        self.ctx.spill_regs()?;
        let len = self.ctx.pop()?;
        if !matches!(len.ty, StackTy::I32 | StackTy::NInt) {
            return Err(JitErrorKind::TypeMismatch("newarr length"));
        }
        self.ctx.load_to_gpr(&len, RSI)?;
        if len.ty == StackTy::I32 {
            self.m().extend(RSI, RSI, Extend::I32)?;
        }
        self.m().alu_rr(AluOp::Test, RSI, RSI, OperandSize::S64)?;
        self.fail_if(Cond::S, FailCode::Overflow)?;
        self.m()
            .mov_ri(RDI, t.array_handle as i64, OperandSize::S64)?;
        let h = self.host.helper(Helper::NewArray);
        self.call_abs(h, CallSiteKind::Helper(Helper::NewArray))?;
        self.push_rax(StackTy::Obj)
    }

    fn push_rax(&mut self, ty: StackTy) -> R {
        let r = self.ctx.alloc_gpr_long_lived()?;
        self.m().mov_rr(r, RAX, OperandSize::S64)?;
        self.ctx.push_reg(ty, r);
        Ok(())
    }

    // ---- objects ------------------------------------------------------------------------

    pub fn ldstr(&mut self, tok: u32) -> R {
        let a = self.host.string_literal(tok).map_err(Self::host_err)?;
        self.ctx.stack.push(StackTy::Obj, Loc::Const(a as i64));
        Ok(())
    }

    pub fn ldtoken(&mut self, tok: u32) -> R {
        let h = self.host.token_handle(tok).map_err(Self::host_err)?;
        let ty = StackTy::Value(StructLayout {
            size: 8,
            align: 8,
            handle: 0,
        });
        let v = self.ctx.stack.push(ty, Loc::Home);
        self.m().mov_ri(R11, h as i64, OperandSize::S64)?;
        self.m().store(frame(v.home), R11, OperandSize::S64)
    }

    pub fn box_(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        if !t.is_value_type {
            return Ok(());
        }
        if let Some(n) = self.host.nullable(tok).map_err(Self::host_err)? {
            return self.box_nullable(&n);
        }
        self.ctx.spill_regs()?;
        let v = self.ctx.pop()?;
        check_store(&t.ty, &v.ty)?;
        self.m().mov_ri(RDI, t.handle as i64, OperandSize::S64)?;
        let h = self.host.helper(Helper::NewObject);
        self.call_abs(h, CallSiteKind::Helper(Helper::NewObject))?;
        self.m().mov_rr(RDX, RAX, OperandSize::S64)?;
        let off = self.layout.box_data_offset;
        self.ctx.store_val(Address::offset(RDX, off), &t.ty, &v)?;
        let r = self.ctx.alloc_gpr()?;
        self.m().mov_rr(r, RDX, OperandSize::S64)?;
        self.ctx.push_reg(StackTy::Obj, r);
        Ok(())
    }

    pub fn unbox(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        let v = self.ctx.pop()?;
        if v.ty != StackTy::Obj {
            return Err(JitErrorKind::TypeMismatch("unbox needs an object"));
        }
        let r = self.ctx.into_gpr(&v)?;
        self.null_check(r)?;
        let lo_method_table_offset = self.layout.method_table_offset;
        self.m().load(
            R11,
            Address::offset(r, lo_method_table_offset),
            OperandSize::S64,
        )?;
        self.m().mov_ri(RAX, t.handle as i64, OperandSize::S64)?;
        self.m().alu_rr(AluOp::Cmp, R11, RAX, OperandSize::S64)?;
        match self.host.unbox_key(tok).map_err(Self::host_err)? {
            Some((off, key)) => {
                let ok = self.m().new_label();
                self.m().jcc(Cond::E, ok)?;
                self.m().alu_mi(
                    AluOp::Cmp,
                    Address::offset(R11, off),
                    key as i32,
                    OperandSize::S32,
                )?;
                self.fail_if(Cond::Ne, FailCode::InvalidCast)?;
                self.m().bind(ok)?;
            }
            None => self.fail_if(Cond::Ne, FailCode::InvalidCast)?,
        }
        let lo_box_data_offset = self.layout.box_data_offset;
        self.m().lea(r, Address::offset(r, lo_box_data_offset))?;
        self.ctx.push_reg(StackTy::ByRef, r);
        Ok(())
    }

    pub fn unbox_any(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        if !t.is_value_type {
            return self.castclass(tok, true);
        }
        if let Some(n) = self.host.nullable(tok).map_err(Self::host_err)? {
            let ty = StackTy::of(&t.ty).ok_or(JitErrorKind::TypeMismatch("unbox.any of void"))?;
            return self.unbox_nullable(&n, ty);
        }
        self.unbox(tok)?;
        self.ldind(t.ty)
    }

    pub fn castclass(&mut self, tok: u32, throw: bool) -> R {
        let t = self.type_info(tok)?;
        self.ctx.spill_regs()?;
        let v = self.ctx.pop()?;
        if v.ty != StackTy::Obj {
            return Err(JitErrorKind::TypeMismatch(
                "isinst/castclass needs an object",
            ));
        }
        self.ctx.load_to_gpr(&v, RDI)?;
        self.m().mov_ri(RSI, t.handle as i64, OperandSize::S64)?;
        let h = self.host.helper(Helper::IsInstance);
        self.call_abs(h, CallSiteKind::Helper(Helper::IsInstance))?;
        if throw {
            let ok = self.m().new_label();
            self.m().alu_rr(AluOp::Test, RAX, RAX, OperandSize::S64)?;
            self.m().jcc(Cond::Ne, ok)?;
            self.ctx.load_to_gpr(&v, R11)?;
            self.m().alu_rr(AluOp::Test, R11, R11, OperandSize::S64)?;
            self.fail_if(Cond::Ne, FailCode::InvalidCast)?;
            self.m().bind(ok)?;
        }
        self.push_rax(StackTy::Obj)
    }

    pub fn localloc(&mut self) -> R {
        self.ctx.spill_regs()?;
        let v = self.ctx.pop()?;
        let r = self.ctx.into_gpr64(&v, true)?;
        self.m().alu_ri(AluOp::Add, r, 15, OperandSize::S64)?;
        self.m().alu_ri(AluOp::And, r, -16, OperandSize::S64)?;
        self.m().alu_rr(AluOp::Sub, RSP, r, OperandSize::S64)?;
        if self.init_locals {
            self.m().mov_rr(RCX, r, OperandSize::S64)?;
            self.m().mov_rr(RDI, RSP, OperandSize::S64)?;
            self.m().mov_ri(RAX, 0, OperandSize::S32)?;
            self.m().rep_stosb()?;
        }
        self.ctx.free_gpr(r);
        let d = self.ctx.alloc_gpr()?;
        self.m().mov_rr(d, RSP, OperandSize::S64)?;
        self.ctx.push_reg(StackTy::NInt, d);
        Ok(())
    }

    pub fn cpblk(&mut self, init: bool) -> R {
        self.ctx.spill_regs()?;
        let size = self.ctx.pop()?;
        let src = self.ctx.pop()?;
        let dst = self.ctx.pop()?;
        self.ctx.load_to_gpr(&dst, RDI)?;
        if init {
            self.ctx.load_to_gpr(&src, RAX)?;
        } else {
            self.ctx.load_to_gpr(&src, RSI)?;
        }
        self.ctx.load_to_gpr(&size, RCX)?;
        self.m().extend(RCX, RCX, Extend::U32)?;
        if init {
            self.m().rep_stosb()
        } else {
            self.m().rep_movsb()
        }
    }

    // ---- calls ------------------------------------------------------------------------------

    fn call_abs(&mut self, addr: u64, kind: CallSiteKind) -> R {
        let mk = self.m().mov_ri64_patchable(RAX, addr)?;
        self.call_sites.push((mk, kind, addr));
        self.m().call_reg(RAX)
    }

    pub fn set_constrained(&mut self, tok: u32) {
        self.constrained = Some(tok);
    }

    pub fn call(&mut self, tok: u32, virt: bool) -> R {
        if let Some(ty_tok) = self.constrained.take() {
            return self.constrained_call(ty_tok, tok);
        }
        let ci = self.host.method(tok, virt).map_err(Self::host_err)?;
        if let CallTarget::MdArray(a) = ci.target {
            return self.md_array_call(&a);
        }
        // callvirt on a non-virtual method still null-checks `this` (§III.4.2).
        let check = virt && ci.sig.has_this && ci.sig.this_type == JitType::Obj;
        self.emit_call(&ci, ThisArg::FromStack, check, false)
    }

    fn constrained_call(&mut self, ty_tok: u32, m_tok: u32) -> R {
        let c = self
            .host
            .constrained(ty_tok, m_tok)
            .map_err(Self::host_err)?;
        let ci = self.host.method(m_tok, true).map_err(Self::host_err)?;
        let this_idx = self
            .ctx
            .stack
            .len()
            .checked_sub(ci.sig.params.len() + 1)
            .ok_or(JitErrorKind::StackUnderflow)?;
        match c {
            Constrained::Direct(direct) => {
                return self.emit_call(&direct, ThisArg::FromStack, false, false)
            }
            Constrained::DerefThis => {
                let v = self.ctx.stack.vals[this_idx];
                let r = self.ctx.into_gpr(&v)?;
                self.m().load(r, Address::offset(r, 0), OperandSize::S64)?;
                self.ctx.stack.vals[this_idx].loc = Loc::Reg(r);
                self.ctx.stack.vals[this_idx].ty = StackTy::Obj;
            }
            Constrained::BoxThis(t) => {
                self.ctx.spill_regs()?;
                let v = self.ctx.stack.vals[this_idx];
                self.m().mov_ri(RDI, t.handle as i64, OperandSize::S64)?;
                let h = self.host.helper(Helper::NewObject);
                self.call_abs(h, CallSiteKind::Helper(Helper::NewObject))?;
                self.ctx.load_to_gpr(&v, RDX)?;
                let off = self.layout.box_data_offset;
                self.ctx.copy_mem(
                    Address::offset(RAX, off),
                    Address::offset(RDX, 0),
                    t.ty.size(),
                )?;
                self.m().store(frame(v.home), RAX, OperandSize::S64)?;
                self.ctx.free(&v);
                self.ctx.stack.vals[this_idx].loc = Loc::Home;
                self.ctx.stack.vals[this_idx].ty = StackTy::Obj;
            }
        }
        let check = ci.sig.has_this;
        self.emit_call(&ci, ThisArg::FromStack, check, false)
    }

    pub fn calli(&mut self, tok: u32) -> R {
        let sig = self.host.signature(tok).map_err(Self::host_err)?;
        let ci = CallInfo {
            sig,
            target: CallTarget::Direct(0),
            callee: 0,
            owner: None,
        };
        self.emit_call(&ci, ThisArg::FromStack, false, true)
    }

    pub fn newobj(&mut self, tok: u32) -> R {
        let ci = self.host.method(tok, false).map_err(Self::host_err)?;
        if let CallTarget::MdArray(a) = ci.target {
            return self.md_array_new(&a, ci.sig.params.len());
        }
        let owner = ci.owner.ok_or(JitErrorKind::Host(
            "newobj: constructor without owner type".into(),
        ))?;
        self.ctx.spill_regs()?;
        if owner.is_value_type {
            let size = owner.ty.size();
            let tmp = self.ctx.stack.temp(size);
            self.ctx.zero_mem(frame(tmp), size)?;
            self.emit_call(&ci, ThisArg::Addr(tmp), false, false)?;
            let sty = StackTy::of(&owner.ty).ok_or(JitErrorKind::TypeMismatch("newobj of void"))?;
            if let StackTy::Value(_) = sty {
                let v = self.ctx.stack.push(sty, Loc::Home);
                self.ctx.copy_mem(frame(v.home), frame(tmp), size)?;
            } else {
                return self.ctx.push_from_mem(frame(tmp), &owner.ty);
            }
        } else {
            self.m()
                .mov_ri(RDI, owner.handle as i64, OperandSize::S64)?;
            let h = self.host.helper(Helper::NewObject);
            self.call_abs(h, CallSiteKind::Helper(Helper::NewObject))?;
            let tmp = self.ctx.stack.temp(8);
            self.m().store(frame(tmp), RAX, OperandSize::S64)?;
            self.emit_call(&ci, ThisArg::Slot(tmp), false, false)?;
            let r = self.ctx.alloc_gpr()?;
            self.m().load(r, frame(tmp), OperandSize::S64)?;
            self.ctx.push_reg(StackTy::Obj, r);
        }
        Ok(())
    }

    pub fn ldftn(&mut self, tok: u32, virt: bool) -> R {
        let ci = self.host.method(tok, virt).map_err(Self::host_err)?;
        if let (true, CallTarget::Interface { iface, slot }) = (virt, ci.target) {
            self.ctx.spill_regs()?;
            let v = self.ctx.pop()?;
            self.ctx.load_to_gpr(&v, RDI)?;
            self.null_check(RDI)?;
            self.m().mov_ri(RSI, iface as i64, OperandSize::S64)?;
            self.m().mov_ri(RDX, slot as i64, OperandSize::S32)?;
            let h = self.host.helper(Helper::InterfaceLookup);
            self.call_abs(h, CallSiteKind::Helper(Helper::InterfaceLookup))?;
            return self.push_rax(StackTy::NInt);
        }
        if virt {
            let v = self.ctx.pop()?;
            let r = self.ctx.into_gpr(&v)?;
            self.null_check(r)?;
            match ci.target {
                CallTarget::Virtual { slot_offset } => {
                    let lo_method_table_offset = self.layout.method_table_offset;
                    self.m().load(
                        r,
                        Address::offset(r, lo_method_table_offset),
                        OperandSize::S64,
                    )?;
                    self.m()
                        .load(r, Address::offset(r, slot_offset), OperandSize::S64)?;
                    self.ctx.push_reg(StackTy::NInt, r);
                    return Ok(());
                }
                CallTarget::VirtualIndirect {
                    vtable_ptr_offset,
                    slot_offset,
                } => {
                    let lo = self.layout.method_table_offset;
                    self.m().load(r, Address::offset(r, lo), OperandSize::S64)?;
                    self.m()
                        .load(r, Address::offset(r, vtable_ptr_offset), OperandSize::S64)?;
                    self.m()
                        .load(r, Address::offset(r, slot_offset), OperandSize::S64)?;
                    self.ctx.push_reg(StackTy::NInt, r);
                    return Ok(());
                }
                _ => self.ctx.free_gpr(r),
            }
        }
        match ci.target {
            CallTarget::Direct(a) => {
                self.ctx.stack.push(StackTy::NInt, Loc::Const(a as i64));
                Ok(())
            }
            CallTarget::Indirect(cell) => {
                let r = self.ctx.alloc_gpr()?;
                self.m().mov_ri(r, cell as i64, OperandSize::S64)?;
                self.m().load(r, Address::offset(r, 0), OperandSize::S64)?;
                self.ctx.push_reg(StackTy::NInt, r);
                Ok(())
            }
            _ => Err(JitErrorKind::Unsupported("ldftn of a virtual slot")),
        }
    }

    /// The call sequence (see `isa::x64::abi` for the convention).
    fn emit_call(&mut self, ci: &CallInfo, this: ThisArg, null_check_this: bool, calli: bool) -> R {
        if let CallTarget::MdArray(_) = ci.target {
            return Err(JitErrorKind::Unsupported(
                "array method reached other than by call or newobj",
            ));
        }
        let sig = &ci.sig;
        let conv = sig.conv;
        let stack_this = sig.has_this && this == ThisArg::FromStack;
        let n = sig.params.len() + stack_this as usize;
        let extra = calli as usize;
        let len = self.ctx.stack.len();
        if len < n + extra {
            return Err(JitErrorKind::StackUnderflow);
        }
        let first = len - n - extra;
        // Value-type arguments travel as pointers to copies: make every struct
        // argument live in its own home (a lazily-cached local would alias).
        for i in first..first + n {
            if matches!(self.ctx.stack.vals[i].ty, StackTy::Value(_)) {
                self.ctx.spill_at(i)?;
            }
        }
        // Caller-saved registers die at the call: spill their values, except
        // integer arguments, which move straight into their argument registers
        // (not for interface dispatch: its lookup call comes first).
        let keep = !matches!(ci.target, CallTarget::Interface { .. });
        for i in 0..len {
            let is_arg = i >= first && i < first + n;
            match self.ctx.stack.vals[i].loc {
                Loc::Reg(r) if CALLEE_SAVED.contains(&r) => {}
                Loc::Reg(_) if is_arg && keep => {}
                Loc::Reg(_) | Loc::Xmm(_) => self.ctx.spill_at(i)?,
                _ => {}
            }
        }
        let vals: Vec<Val> = self.ctx.stack.vals[first..first + n].to_vec();
        let ftn = if calli {
            Some(self.ctx.stack.vals[len - 1])
        } else {
            None
        };

        let mut entries: Vec<(JitType, Src)> = Vec::with_capacity(n + 1);
        let struct_ret = sig.ret.is_struct();
        let ret_tmp = if struct_ret {
            Some(self.ctx.stack.temp(sig.ret.size().max(16)))
        } else {
            None
        };
        if struct_ret && conv == CallConv::Managed {
            entries.push((JitType::ByRef, Src::Addr(ret_tmp.unwrap_or(0))));
        }
        let this_entry = entries.len();
        if sig.has_this {
            match this {
                ThisArg::FromStack => {
                    let v = vals[0];
                    if !matches!(v.ty, StackTy::Obj | StackTy::ByRef | StackTy::NInt) {
                        return Err(JitErrorKind::TypeMismatch(
                            "`this` must be a reference or pointer",
                        ));
                    }
                    entries.push((sig.this_type, Src::Val(v)));
                }
                ThisArg::Slot(o) => entries.push((JitType::Obj, Src::Slot(o))),
                ThisArg::Addr(o) => entries.push((JitType::ByRef, Src::Addr(o))),
            }
        }
        for (i, p) in sig.params.iter().enumerate() {
            let v = vals[i + stack_this as usize];
            check_store(p, &v.ty)?;
            entries.push((*p, Src::Val(v)));
        }

        // Interface dispatch: find the code address before loading arguments.
        let code_tmp = if let CallTarget::Interface { iface, slot } = ci.target {
            let (_, src) = entries
                .get(this_entry)
                .copied()
                .ok_or(JitErrorKind::TypeMismatch("interface call without this"))?;
            self.load_src(&JitType::Obj, &src, RDI, conv)?;
            self.null_check(RDI)?;
            self.m().mov_ri(RSI, iface as i64, OperandSize::S64)?;
            self.m().mov_ri(RDX, slot as i64, OperandSize::S32)?;
            let h = self.host.helper(Helper::InterfaceLookup);
            self.call_abs(h, CallSiteKind::Helper(Helper::InterfaceLookup))?;
            let t = self.ctx.stack.temp(8);
            self.m().store(frame(t), RAX, OperandSize::S64)?;
            Some(t)
        } else {
            None
        };

        let classes: Vec<ArgClass> = entries
            .iter()
            .map(|(t, _)| abi::classify(t, conv))
            .collect();
        let lay = abi::layout(&classes);
        if conv == CallConv::Native && entries.iter().any(|(t, _)| t.size() > 16 && t.is_struct()) {
            return Err(JitErrorKind::Unsupported(
                "native call with a struct larger than 16 bytes",
            ));
        }
        if lay.stack_bytes > 0 {
            self.m()
                .alu_ri(AluOp::Sub, RSP, lay.stack_bytes as i32, OperandSize::S64)?;
        }
        for (i, (t, src)) in entries.iter().enumerate() {
            match lay.args[i] {
                ArgLoc::Stack(o) => {
                    if classes[i] == ArgClass::Float {
                        let Src::Val(v) = src else {
                            return Err(JitErrorKind::Internal("float src".into()));
                        };
                        let x = self.ctx.val_to_xmm(v, XMM_SCRATCH)?;
                        self.m()
                            .fstore(Address::offset(RSP, o as i32), x, *t == JitType::R4)?;
                    } else {
                        self.load_src(t, src, R11, conv)?;
                        self.m()
                            .store(Address::offset(RSP, o as i32), R11, OperandSize::S64)?;
                    }
                }
                ArgLoc::Stack2(o) => {
                    let Src::Val(v) = src else {
                        return Err(JitErrorKind::Internal("pair src".into()));
                    };
                    self.ctx
                        .copy_mem(Address::offset(RSP, o as i32), frame(v.home), 16)?;
                }
                _ => {}
            }
        }
        let mut this_reg = None;
        // Register-to-register argument moves first, as one parallel move.
        let mut moves: Vec<(Gpr, Gpr)> = Vec::new();
        let mut moved = alloc::vec![false; entries.len()];
        for (i, (t, src)) in entries.iter().enumerate() {
            if let (ArgLoc::Gpr(dst), Src::Val(v)) = (lay.args[i], src) {
                if let (Loc::Reg(r), false) = (v.loc, t.is_struct()) {
                    moves.push((dst, r));
                    moved[i] = true;
                }
            }
        }
        self.parallel_move(moves)?;
        for (i, (t, src)) in entries.iter().enumerate() {
            match lay.args[i] {
                ArgLoc::Gpr(r) => {
                    if moved[i] {
                        if let Src::Val(v) = src {
                            self.extend_arg(t, v, r)?;
                        }
                    } else {
                        self.load_src(t, src, r, conv)?;
                    }
                    if i == this_entry && sig.has_this {
                        this_reg = Some(r);
                    }
                }
                ArgLoc::Gpr2(r1, r2) => {
                    let Src::Val(v) = src else {
                        return Err(JitErrorKind::Internal("pair src".into()));
                    };
                    self.m().load(r1, frame(v.home), OperandSize::S64)?;
                    self.m().load(r2, frame(v.home + 8), OperandSize::S64)?;
                }
                ArgLoc::Xmm(x) => {
                    let Src::Val(v) = src else {
                        return Err(JitErrorKind::Internal("float src".into()));
                    };
                    let got = self.ctx.val_to_xmm(v, x)?;
                    self.m().fmov(x, got)?;
                    if *t == JitType::R4 {
                        self.m().narrow_to_single(x)?;
                    }
                }
                _ => {}
            }
        }
        if null_check_this {
            let r = this_reg.ok_or(JitErrorKind::Internal("this not in a register".into()))?;
            self.null_check(r)?;
        }
        match (ftn, ci.target) {
            (Some(f), _) => {
                self.ctx.load_to_gpr(&f, RAX)?;
                self.m().call_reg(RAX)?;
            }
            (None, CallTarget::Direct(a)) => self.call_abs(a, CallSiteKind::Method(ci.callee))?,
            (None, CallTarget::Indirect(cell)) => {
                let mk = self.m().mov_ri64_patchable(RAX, cell)?;
                self.call_sites
                    .push((mk, CallSiteKind::Cell(ci.callee), cell));
                self.m().call_mem(Address::offset(RAX, 0))?;
            }
            (None, CallTarget::Virtual { slot_offset }) => {
                let r = this_reg.ok_or(JitErrorKind::TypeMismatch("virtual call without this"))?;
                let lo_method_table_offset = self.layout.method_table_offset;
                self.m().load(
                    RAX,
                    Address::offset(r, lo_method_table_offset),
                    OperandSize::S64,
                )?;
                self.m().call_mem(Address::offset(RAX, slot_offset))?;
            }
            (
                None,
                CallTarget::VirtualIndirect {
                    vtable_ptr_offset,
                    slot_offset,
                },
            ) => {
                let r = this_reg.ok_or(JitErrorKind::TypeMismatch("virtual call without this"))?;
                let lo_mt = self.layout.method_table_offset;
                self.m()
                    .load(RAX, Address::offset(r, lo_mt), OperandSize::S64)?;
                self.m().load(
                    RAX,
                    Address::offset(RAX, vtable_ptr_offset),
                    OperandSize::S64,
                )?;
                self.m().call_mem(Address::offset(RAX, slot_offset))?;
            }
            (None, CallTarget::Interface { .. }) => {
                self.m()
                    .load(RAX, frame(code_tmp.unwrap_or(0)), OperandSize::S64)?;
                self.m().call_reg(RAX)?;
            }
            (None, CallTarget::MdArray(_)) => {
                return Err(JitErrorKind::Unsupported("array method called indirectly"))
            }
        }
        if lay.stack_bytes > 0 {
            self.m()
                .alu_ri(AluOp::Add, RSP, lay.stack_bytes as i32, OperandSize::S64)?;
        }
        for _ in 0..n + extra {
            let v = self.ctx.pop()?;
            self.ctx.free(&v);
        }
        self.push_result(&sig.ret, conv, ret_tmp)
    }

    /// Emits register moves `dst <- src` that may overlap (cycles go through r11).
    fn parallel_move(&mut self, mut moves: Vec<(Gpr, Gpr)>) -> R {
        moves.retain(|(d, s)| d != s);
        while !moves.is_empty() {
            let free = moves
                .iter()
                .position(|(d, _)| !moves.iter().any(|(_, s)| s == d));
            match free {
                Some(k) => {
                    let (d, s) = moves.remove(k);
                    self.m().mov_rr(d, s, OperandSize::S64)?;
                }
                None => {
                    // A cycle: park one destination's current value in r11.
                    let d = moves[0].0;
                    self.m().mov_rr(R11, d, OperandSize::S64)?;
                    for m in moves.iter_mut() {
                        if m.1 == d {
                            m.1 = R11;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Widens an int32 argument in `dst` to a 64-bit parameter type.
    fn extend_arg(&mut self, t: &JitType, v: &Val, dst: Gpr) -> R {
        if v.ty == StackTy::I32 {
            match t {
                JitType::I8 | JitType::I | JitType::Ptr => {
                    self.m().extend(dst, dst, Extend::I32)?
                }
                JitType::U8 | JitType::U => self.m().extend(dst, dst, Extend::U32)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn load_src(&mut self, t: &JitType, src: &Src, dst: Gpr, conv: CallConv) -> R {
        match src {
            Src::Slot(o) => self.m().load(dst, frame(*o), OperandSize::S64),
            Src::Addr(o) => self.m().lea(dst, frame(*o)),
            Src::Val(v) => {
                if t.is_struct() {
                    if conv == CallConv::Managed {
                        self.m().lea(dst, frame(v.home))
                    } else {
                        self.m().load(dst, frame(v.home), OperandSize::S64)
                    }
                } else {
                    self.ctx.load_to_gpr(v, dst)?;
                    if v.ty == StackTy::I32 {
                        match t {
                            JitType::I8 | JitType::I | JitType::Ptr => {
                                self.m().extend(dst, dst, Extend::I32)?
                            }
                            JitType::U8 | JitType::U => self.m().extend(dst, dst, Extend::U32)?,
                            _ => {}
                        }
                    }
                    Ok(())
                }
            }
        }
    }

    fn push_result(&mut self, ret: &JitType, conv: CallConv, ret_tmp: Option<i32>) -> R {
        match ret {
            JitType::Void => Ok(()),
            JitType::Struct(s) => {
                let tmp = ret_tmp.unwrap_or(0);
                if conv == CallConv::Native {
                    self.m().store(frame(tmp), RAX, OperandSize::S64)?;
                    self.m().store(frame(tmp + 8), RDX, OperandSize::S64)?;
                }
                let v = self.ctx.stack.push(StackTy::Value(*s), Loc::Home);
                self.ctx.copy_mem(frame(v.home), frame(tmp), s.size)
            }
            JitType::R4 | JitType::R8 => {
                let ty = if *ret == JitType::R4 {
                    self.m().widen_from_single(XMM0)?;
                    StackTy::F32
                } else {
                    StackTy::F
                };
                let x = self.ctx.alloc_xmm()?;
                self.m().fmov(x, XMM0)?;
                self.ctx.push_xmm_ty(x, ty);
                Ok(())
            }
            t => {
                // SysV leaves bits above a narrow return value undefined: re-extend.
                match t {
                    JitType::Bool | JitType::U1 => self.m().extend(RAX, RAX, Extend::U8)?,
                    JitType::I1 => self.m().extend(RAX, RAX, Extend::I8)?,
                    JitType::I2 => self.m().extend(RAX, RAX, Extend::I16)?,
                    JitType::U2 | JitType::Char => self.m().extend(RAX, RAX, Extend::U16)?,
                    _ => {}
                }
                let sty = StackTy::of(t).ok_or(JitErrorKind::Internal("void".into()))?;
                self.push_rax(sty)
            }
        }
    }
}

fn int_cond(k: CmpKind) -> Cond {
    match k {
        CmpKind::Eq => Cond::E,
        CmpKind::NeUn => Cond::Ne,
        CmpKind::Ge => Cond::Ge,
        CmpKind::Gt => Cond::G,
        CmpKind::Le => Cond::Le,
        CmpKind::Lt => Cond::L,
        CmpKind::GeUn => Cond::Ae,
        CmpKind::GtUn => Cond::A,
        CmpKind::LeUn => Cond::Be,
        CmpKind::LtUn => Cond::B,
    }
}

/// Whether a value of stack type `v` may be stored into a location of type `t`.
pub(super) fn check_store(t: &JitType, v: &StackTy) -> R {
    let ok = match (t, v) {
        (JitType::Struct(s), StackTy::Value(l)) => s.size == l.size,
        (JitType::Struct(_), _) | (_, StackTy::Value(_)) => false,
        (JitType::R4 | JitType::R8, StackTy::F | StackTy::F32) => true,
        (JitType::R4 | JitType::R8, _) | (_, StackTy::F | StackTy::F32) => false,
        (JitType::Void, _) => false,
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(JitErrorKind::TypeMismatch(
            "stored value does not match the location type",
        ))
    }
}

/// Folds an integer operation on constants (None when it must trap or is not folded).
fn fold(op: BinOp, ty: StackTy, x: i64, y: i64) -> Option<i64> {
    if ty == StackTy::I32 {
        let (a, b) = (x as i32, y as i32);
        let r = match op {
            BinOp::Add => a.wrapping_add(b),
            BinOp::Sub => a.wrapping_sub(b),
            BinOp::Mul => a.wrapping_mul(b),
            BinOp::And => a & b,
            BinOp::Or => a | b,
            BinOp::Xor => a ^ b,
            BinOp::Shl => a.wrapping_shl(b as u32),
            BinOp::Shr => a.wrapping_shr(b as u32),
            BinOp::ShrUn => ((a as u32).wrapping_shr(b as u32)) as i32,
            _ => return None,
        };
        Some(r as i64)
    } else if matches!(ty, StackTy::I64 | StackTy::NInt) {
        Some(match op {
            BinOp::Add => x.wrapping_add(y),
            BinOp::Sub => x.wrapping_sub(y),
            BinOp::Mul => x.wrapping_mul(y),
            BinOp::And => x & y,
            BinOp::Or => x | y,
            BinOp::Xor => x ^ y,
            BinOp::Shl => x.wrapping_shl(y as u32),
            BinOp::Shr => x.wrapping_shr(y as u32),
            BinOp::ShrUn => ((x as u64).wrapping_shr(y as u32)) as i64,
            _ => return None,
        })
    } else {
        None
    }
}

/// Folds a conversion of a constant (None: emit code, e.g. for overflow traps).
fn conv_const(c: i64, to: ConvTo, ovf: bool, _un: bool) -> Option<i64> {
    if ovf {
        return None;
    }
    Some(match to {
        ConvTo::I1 => c as i8 as i64,
        ConvTo::U1 => c as u8 as i64,
        ConvTo::I2 => c as i16 as i64,
        ConvTo::U2 => c as u16 as i64,
        ConvTo::I4 | ConvTo::U4 => c as i32 as i64,
        _ => return None,
    })
}
