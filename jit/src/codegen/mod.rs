//! `CodeGen`: lowers each CIL instruction (ECMA-335 Partition III) over the typed
//! abstract stack to `MacroAssembler` calls. Control flow follows §III.1.7.5: at
//! every branch and branch target the stack is spilled to its per-depth homes, so
//! all paths agree on where each stack slot lives.
//!
//! Split by phase, as Winch splits its code generator: this file holds the
//! state, the prologue/epilogue, control flow, failures and locals; `arith`
//! (operators, comparisons, conversions), `memory` (indirect access, fields,
//! statics, arrays, objects) and `calls` (every call form and its argument
//! moves) add to the same `impl`.

mod arith;
mod bounds;
mod calls;
pub mod context;
pub mod exceptions;
pub mod gcmap;
mod generic_lookup;
pub mod inline;
mod md_arrays;
mod memory;
pub(crate) mod nonnull;
mod nullable;
pub mod stack;

use crate::host::*;
use crate::masm::*;
use crate::{CallSiteKind, JitErrorKind};
use alloc::vec::Vec;
use context::{CodeGenContext, RegSet};
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

/// What `CodeGen::finish` hands back: the assembler, frame size, saved
/// registers, call sites (mark, kind, target) and IL marks (IL offset, mark).
/// Not the frame layout: nobody needed it, and it is large to move.
pub type Finished<M> = (
    M,
    FrameInfo,
    Vec<(usize, CallSiteKind, u64)>,
    Vec<(u32, usize)>,
    exceptions::EhMarks,
    gcmap::GcMapBuilder,
);

/// The code generator's buffers, handed back after each method so the next
/// one reuses them (see `crate::scratch`).
#[derive(Default)]
pub struct Recycled {
    pub(crate) vals: Vec<Val>,
    pub(crate) labels: Vec<(u32, Label)>,
    pub(crate) fails: Vec<(Label, FailCode, u32)>,
    pub(crate) call_sites: Vec<(usize, CallSiteKind, u64)>,
    pub(crate) il_marks: Vec<(u32, usize)>,
    pub(crate) gc_sites: Vec<gcmap::SiteMark>,
    /// Stack-map slots as they are recorded; each method's are copied out
    /// once, at their final length (`GcMapBuilder::resolve`).
    pub(crate) gc_slots: Vec<crate::gcmap::GcSlot>,
    pub(crate) arg_types: Vec<JitType>,
    pub(crate) local_types: Vec<JitType>,
    pub(crate) local_taken: Vec<bool>,
    pub(crate) arg_taken: Vec<bool>,
    pub(crate) local_regs: Vec<Option<Gpr>>,
    pub(crate) arg_regs: Vec<Option<Gpr>>,
    /// The locals the prologue zeroes (`init_locals::must_zero`), set before
    /// each compile.
    pub(crate) zero_locals: Vec<bool>,
    /// The locals that may be loaded before a store
    /// (`init_locals::read_before_store`).
    pub(crate) read_early: Vec<bool>,
    /// Frame ranges the prologue zeroes.
    pub(crate) zero_ranges: Vec<(i32, i32)>,
    /// What is known not to be null at each label (`nonnull`).
    pub(crate) nonnull_at: nonnull::AtLabels,
    /// Which bounds checks passed on every path to each label (`bounds`).
    pub(crate) bounds_at: bounds::AtLabels,
}

impl Recycled {
    /// A buffer of `n` copies of `v`, reusing `slot`'s allocation.
    pub(crate) fn filled<T: Copy>(slot: &mut Vec<T>, n: usize, v: T) -> Vec<T> {
        let mut out = reuse(slot, n);
        out.resize(n, v);
        out
    }
}

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
    /// The instruction being visited follows a `readonly.` prefix
    /// (§III.2.3): an `ldelema` then yields a controlled-mutability address
    /// and skips its exact-type check.
    pub readonly_prefix: bool,
    /// Variables live in caller-saved registers (`LEAF_EXTRA`): a call that
    /// returns would clobber them, so `safepoint` refuses one (the method is
    /// then compiled again without them).
    pub leaf: bool,
    /// The call being emitted never returns (`throw`): allowed in a leaf.
    noreturn_call: bool,
    /// The opcode of the instruction after the one being lowered (a call's
    /// result it consumes at once need not live in a callee-saved register).
    pub next_op: Option<u16>,
    /// When the instruction after the one being lowered is `stloc`: the
    /// local it stores and its IL offset (`arith::update_in_place`).
    pub next_stloc: Option<(u16, u32)>,
    /// Exception-handling state (methods with clauses only).
    eh: Option<alloc::boxed::Box<exceptions::EhState>>,
    /// Stack maps recorded at every call.
    pub gc: gcmap::GcMapBuilder,
    /// SP was moved for good (`localloc`): epilogues restore it from FP.
    sp_moved: bool,
    /// Shared code's hidden generic context local (`JitHost::context_local`).
    context_local: Option<u16>,
    /// Which locals the prologue zeroes, and the frame ranges that makes
    /// (from and back to `Recycled`).
    zero_locals: Vec<bool>,
    zero_ranges: Vec<(i32, i32)>,
    /// Arguments and locals known not to be null here, and at each label
    /// (parallel to `labels`): the null checks `nonnull` omits.
    nonnull: nonnull::NonNull,
    nonnull_at: nonnull::AtLabels,
    /// Loop heads: (label index, IL offset of the last backward branch to
    /// it, the slots the loop keeps known not null: `mark_loop_head`).
    loop_heads: smallvec::SmallVec<[(usize, u32, nonnull::NonNull); 4]>,
    /// `(array, index)` slot pairs whose bounds check passed on every path
    /// here, and at each label (parallel to `labels`): the checks
    /// `memory::elem_addr_as` omits (`bounds.rs`).
    bounds: bounds::Checked,
    bounds_at: bounds::AtLabels,
    /// The register a `conv.u`/`conv.i` of an `int` slot just left its
    /// result in: (the conv's IL offset, register, slot, widening).
    conv_index: Option<(u32, Gpr, Loc, bounds::Widen)>,
    /// IL offset of the instruction before `cur`.
    prev_cur: u32,
    /// Early returns given their own epilogue so far (`ret`).
    inline_epilogues: u32,
}

/// Early returns per method that get their own epilogue (each adds a slot of
/// up to 25 bytes); later ones jump to the shared epilogue.
const MAX_INLINE_EPILOGUES: u32 = 8;

fn fits_i32(c: i64) -> bool {
    c >= i32::MIN as i64 && c <= i32::MAX as i64
}

impl<'h, H: JitHost, M: MacroAssembler> CodeGen<'h, H, M> {
    /// Sets up the frame; `targets` are all branch targets found by the
    /// decoder, sorted and without duplicates; buffers come from `bufs`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        host: &'h mut H,
        masm: M,
        bufs: &mut Recycled,
        input: &crate::MethodInput,
        targets: &[u32],
        local_addr_taken: Vec<bool>,
        arg_addr_taken: Vec<bool>,
        local_regs: Vec<Option<Gpr>>,
        arg_regs: Vec<Option<Gpr>>,
    ) -> Self {
        let frame = M::Abi::frame(&input.args, &input.locals, &input.ret);
        let layout = host.object_layout();
        let mut ctx = CodeGenContext {
            masm,
            stack: stack::ValueStack::with_vec(frame.eval_base, reuse(&mut bufs.vals, 0)),
            regs: RegSet::all::<M::Abi>(),
            frame,
            arg_types: {
                let mut v = reuse(&mut bufs.arg_types, input.args.len());
                v.extend_from_slice(&input.args);
                v
            },
            local_types: {
                let mut v = reuse(&mut bufs.local_types, input.locals.len());
                v.extend_from_slice(&input.locals);
                v
            },
            local_addr_taken,
            arg_addr_taken,
            used_callee_saved: 0,
            local_regs,
            arg_regs,
        };
        for k in 0..ctx.local_regs.len() + ctx.arg_regs.len() {
            let r = match k.checked_sub(ctx.local_regs.len()) {
                None => ctx.local_regs[k],
                Some(a) => ctx.arg_regs[a],
            };
            if let Some(r) = r {
                ctx.regs.reserve(r);
                ctx.used_callee_saved |= 1 << r.0;
            }
        }
        let eh = (!input.eh.is_empty()).then(|| {
            // Handlers are resumed with whatever deeper frames left in the
            // callee-saved registers: save them all (see `exceptions`).
            for &r in M::Abi::CALLEE_SAVED {
                ctx.used_callee_saved |= 1 << r.0;
            }
            alloc::boxed::Box::new(exceptions::EhState::new(input))
        });
        debug_assert!(targets.windows(2).all(|w| w[0] < w[1]));
        let mut labels = reuse(&mut bufs.labels, targets.len());
        labels.extend(targets.iter().map(|&t| (t, ctx.masm.new_label())));
        let states = alloc::vec![None; labels.len()];
        let nonnull_at = Recycled::filled(&mut bufs.nonnull_at, labels.len(), None);
        let bounds_at = Recycled::filled(&mut bufs.bounds_at, labels.len(), None);
        let ret_label = ctx.masm.new_label();
        let context_local = host.context_local();
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
            fails: reuse(&mut bufs.fails, 0),
            call_sites: reuse(&mut bufs.call_sites, 0),
            il_marks: reuse(&mut bufs.il_marks, input.il.len() / 2 + 1),
            cur: 0,
            constrained: None,
            at_end: false,
            readonly_prefix: false,
            leaf: false,
            noreturn_call: false,
            next_op: None,
            next_stloc: None,
            eh,
            sp_moved: false,
            gc: gcmap::GcMapBuilder {
                sites: reuse(&mut bufs.gc_sites, 0),
                slots: reuse(&mut bufs.gc_slots, 0),
                ..Default::default()
            },
            context_local,
            zero_locals: core::mem::take(&mut bufs.zero_locals),
            zero_ranges: reuse(&mut bufs.zero_ranges, 0),
            nonnull: nonnull::NonNull::NONE,
            nonnull_at,
            loop_heads: smallvec::SmallVec::new(),
            bounds: bounds::Checked::NONE,
            bounds_at,
            conv_index: None,
            prev_cur: 0,
            inline_epilogues: 0,
        }
    }

    fn m(&mut self) -> &mut M {
        &mut self.ctx.masm
    }

    /// The frame slot at `off` from the frame pointer.
    pub(crate) fn frame_slot(off: i32) -> Address {
        CodeGenContext::<M>::frame_slot(off)
    }

    fn host_err(e: crate::host::HostError) -> JitErrorKind {
        JitErrorKind::Host(e)
    }

    /// Prologue part that depends only on the signature: home register args,
    /// zero the locals.
    pub fn emit_entry(&mut self) -> R {
        self.gc_frame_slots();
        if let Some(rb) = self.ctx.frame.retbuf {
            self.m()
                .store(Self::frame_slot(rb), M::Abi::ARG_GPRS[0], OperandSize::S64)?;
        }
        for i in 0..self.ctx.frame.arg_locs.len() {
            let loc = self.ctx.frame.arg_locs[i];
            let home = match self.ctx.frame.args[i] {
                ArgHome::Direct(o) | ArgHome::Indirect(o) => o,
            };
            if let Some(reg) = self.ctx.arg_regs.get(i).copied().flatten() {
                // A small integer is normalised on the way in (`assign_registers`).
                let small = context::small_int_extend(&self.ctx.arg_types[i]);
                match (loc, small) {
                    (ArgLoc::Gpr(r), Some(ext)) => self.m().extend(reg, r, ext)?,
                    (ArgLoc::Gpr(r), None) => self.m().mov_rr(reg, r, OperandSize::S64)?,
                    (_, Some(_)) => {
                        let t = self.ctx.arg_types[i];
                        self.ctx.load_int(reg, Self::frame_slot(home), &t)?
                    }
                    (_, None) => self
                        .m()
                        .load(reg, Self::frame_slot(home), OperandSize::S64)?,
                }
                continue;
            }
            match loc {
                ArgLoc::Gpr(r) => self
                    .m()
                    .store(Self::frame_slot(home), r, OperandSize::S64)?,
                ArgLoc::Xmm(x) => {
                    let single = self.ctx.arg_types[i] == JitType::R4;
                    self.m().fstore_raw(Self::frame_slot(home), x, single)?
                }
                _ => {}
            }
        }
        // Zero the locals that need it (`init_locals`): a local kept in a
        // register has no frame slot to zero. Adjacent slots make one range.
        let mut ranges = core::mem::take(&mut self.zero_ranges);
        for k in 0..self.ctx.frame.locals.len() {
            let zero = self.zero_locals.get(k).copied().unwrap_or(true);
            match self.ctx.local_regs.get(k).copied().flatten() {
                Some(r) if zero => self.m().mov_ri(r, 0, OperandSize::S32)?,
                Some(_) => {}
                None if zero => {
                    let lo = self.ctx.frame.locals[k];
                    let size = self.ctx.local_types[k].size().max(1) as i32;
                    let hi = lo + ((size + 7) & !7);
                    match ranges.last_mut() {
                        // Locals are laid out downwards, each below the last.
                        Some(last) if last.0 == hi => last.0 = lo,
                        _ => ranges.push((lo, hi)),
                    }
                }
                None => {}
            }
        }
        let zeroed = self.ctx.zero_frame(&ranges);
        self.zero_ranges = ranges;
        zeroed?;
        if let Some(n) = self.context_local {
            // Nothing above writes `CONTEXT`: the frame setup saves registers,
            // arguments move to callee-saved ones, zeroing uses `SCRATCH`.
            let a = self.ctx.local_addr(n)?;
            self.m().store(a, M::Abi::CONTEXT, OperandSize::S64)?;
        }
        Ok(())
    }

    // ---- control flow -------------------------------------------------------

    /// Called before each instruction: binds labels and restores merge states.
    pub fn begin_instruction(&mut self, offset: u32) -> R<bool> {
        self.prev_cur = self.cur;
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
                self.ctx.regs = RegSet::all::<M::Abi>();
                for i in 0..16u8 {
                    if reserved & (1 << i) != 0 {
                        self.ctx.regs.reserve(Gpr(i));
                    }
                }
                self.ctx.stack.reset_to(&tys);
            }
            self.nonnull_bind(k);
            self.bounds_bind(k);
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
        self.nonnull_branch(k);
        self.bounds_branch(k);
        let vals = &self.ctx.stack.vals;
        match &mut self.states[k] {
            Some(prev) => {
                if prev.len() != vals.len()
                    || prev.iter().zip(vals).any(|(a, b)| !a.merges_with(&b.ty))
                {
                    return Err(JitErrorKind::StackMismatch(target));
                }
                for (p, v) in prev.iter_mut().zip(vals) {
                    *p = p.merge(&v.ty);
                }
            }
            None => {
                self.states[k] = Some(self.ctx.stack.types());
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
                self.m()
                    .load(M::Abi::RET2, Self::frame_slot(rb), OperandSize::S64)?;
                let src = self.ctx.struct_addr(&v, M::Abi::RET)?;
                self.ctx
                    .copy_mem(Address::offset(M::Abi::RET2, 0), src, s.size)?;
                self.m()
                    .mov_rr(M::Abi::RET, M::Abi::RET2, OperandSize::S64)?;
                self.ctx.free(&v);
            }
            JitType::R4 | JitType::R8 => {
                let v = self.ctx.pop()?;
                if !v.ty.is_float() {
                    return Err(JitErrorKind::TypeMismatch("returning a non-float"));
                }
                let x = self.ctx.val_to_xmm(&v, M::Abi::FLOAT_RET)?;
                self.m().fmov(M::Abi::FLOAT_RET, x)?;
                if self.ret == JitType::R4 {
                    self.m().narrow_to_single(M::Abi::FLOAT_RET)?;
                }
                self.ctx.free(&v);
            }
            _ => {
                let v = self.ctx.pop()?;
                if !v.ty.is_gpr() {
                    return Err(JitErrorKind::TypeMismatch("returning a non-integer"));
                }
                self.ctx.load_to_gpr(&v, M::Abi::RET)?;
                if v.ty == StackTy::I32
                    && matches!(self.ret, JitType::I8 | JitType::U8 | JitType::I)
                {
                    self.m().extend(M::Abi::RET, M::Abi::RET, Extend::I32)?;
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
            // An early return gets its own epilogue (written when the
            // callee-saved set is known) rather than a jump to the shared
            // one, up to a bound on the code that adds; methods with
            // exception handlers keep the shared one.
            if self.eh.is_none() && self.inline_epilogues < MAX_INLINE_EPILOGUES {
                self.inline_epilogues += 1;
                self.m().epilogue_slot()?;
            } else {
                let l = self.ret_label;
                self.m().jmp(l)?;
            }
        }
        self.reachable = false;
        Ok(())
    }

    /// Emits the epilogue and the out-of-line failure calls; the buffers the
    /// caller does not receive go back to `bufs`.
    pub fn finish(mut self, bufs: &mut Recycled) -> R<Finished<M>> {
        if self.reachable {
            // Falling off the end is invalid IL (§III.1.7.5).
            return Err(JitErrorKind::FallsOffEnd);
        }
        let mut saved = SavedRegs::new();
        for (i, r) in M::Abi::CALLEE_SAVED.iter().enumerate() {
            if self.ctx.used_callee_saved & (1 << r.0) != 0 {
                saved.push((*r, M::Abi::save_slot(i)));
            }
        }
        let has_eh = self.eh.is_some();
        let eh = self.eh_finish()?;
        // The frame: what the layout set aside (save area, homes, locals,
        // the evaluation stack's deepest extent), or, for a method without
        // exception handlers, only down to the lowest slot the code or its
        // stack maps use (most register-only methods then need no more than
        // their pushed registers). Known here: what follows (the epilogue,
        // the failure calls, whose safepoints name no slot) adds none.
        let laid_out = (-self.ctx.frame.eval_base) as u32 + self.ctx.stack.max_bytes();
        let used = match self.ctx.masm.frame_low() {
            Some(low) if !has_eh => {
                let maps = self.gc.frame.iter().chain(&self.gc.slots);
                let low = maps
                    .map(|s| s.offset)
                    .chain(saved.iter().map(|&(_, off)| off))
                    .fold(low.min(0), i32::min);
                (-low) as u32
            }
            _ => laid_out,
        };
        let frame = FrameInfo {
            frame_size: (used + 15) & !15,
            saved,
            sp_moved: has_eh || self.sp_moved,
        };
        let slots_sized = self.gc.slots.len();
        let l = self.ret_label;
        self.m().bind(l)?;
        self.m().epilogue(&frame)?;
        let fail = self.host.helper(Helper::Fail);
        let fails = core::mem::take(&mut self.fails);
        for &(label, code, il) in &fails {
            self.m().bind(label)?;
            self.m()
                .mov_ri(M::Abi::ARG_GPRS[0], code as u32 as i64, OperandSize::S32)?;
            let h = self.method_handle as i64;
            self.m().mov_ri(M::Abi::ARG_GPRS[1], h, OperandSize::S64)?;
            self.m()
                .mov_ri(M::Abi::ARG_GPRS[2], il as i64, OperandSize::S32)?;
            let mk = self.m().call_patchable(fail)?;
            self.call_sites
                .push((mk, CallSiteKind::Helper(Helper::Fail), fail));
            self.safepoint_noreturn()?;
        }
        debug_assert_eq!(
            self.gc.slots.len(),
            slots_sized,
            "a slot after the frame was sized"
        );
        bufs.fails = fails;
        bufs.vals = self.ctx.stack.vals;
        bufs.labels = self.labels;
        bufs.arg_types = self.ctx.arg_types;
        bufs.local_types = self.ctx.local_types;
        bufs.local_taken = self.ctx.local_addr_taken;
        bufs.arg_taken = self.ctx.arg_addr_taken;
        bufs.local_regs = self.ctx.local_regs;
        bufs.arg_regs = self.ctx.arg_regs;
        bufs.zero_locals = self.zero_locals;
        bufs.zero_ranges = self.zero_ranges;
        bufs.nonnull_at = self.nonnull_at;
        bufs.bounds_at = self.bounds_at;
        Ok((
            self.ctx.masm,
            frame,
            self.call_sites,
            self.il_marks,
            eh,
            self.gc,
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
        self.ctx.load_to_gpr(&v, M::Abi::ARG_GPRS[0])?;
        let h = self.method_handle as i64;
        self.m().mov_ri(M::Abi::ARG_GPRS[1], h, OperandSize::S64)?;
        let cur = self.cur as i64;
        self.m()
            .mov_ri(M::Abi::ARG_GPRS[2], cur, OperandSize::S32)?;
        let t = self.host.helper(Helper::Throw);
        self.noreturn_call = true;
        let r = self.call_abs(t, CallSiteKind::Helper(Helper::Throw));
        self.noreturn_call = false;
        r?;
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
            let a = self.ctx.arg_addr(n, M::Abi::RET2)?;
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

    /// The local the next instruction stores the value being computed to,
    /// and its register, when that value may be computed straight into the
    /// register: the next instruction is an `stloc` that is no branch
    /// target, the local lives in a register, no lazy copy of it (or of a
    /// local sharing its register) is on the stack (with `spill`, such
    /// copies are materialised first instead), and the value is what
    /// the local keeps: with extension `ext`, a small integer local
    /// normalised the same way (`assign_registers`); without, a local that
    /// is no small integer and whose stack type is `sty`. The facts known
    /// about the local's old value are dropped, as `stloc` would; the
    /// caller then writes the register and calls [`CodeGen::push_stored`].
    pub(super) fn store_target(
        &mut self,
        sty: StackTy,
        ext: Option<Extend>,
        spill: bool,
    ) -> R<Option<(u16, Gpr)>> {
        let Some((x, at)) = self.next_stloc else {
            return Ok(None);
        };
        let Some(reg) = self.ctx.local_regs.get(x as usize).copied().flatten() else {
            return Ok(None);
        };
        if self.label_index(at).is_some() || (!spill && self.ctx.has_local_refs(Some(x), None)) {
            return Ok(None);
        }
        let t = self.ctx.local_type(x)?;
        let fits = match (context::small_int_extend(&t), ext) {
            (Some(a), Some(b)) => a == b,
            (None, None) => StackTy::of(&t) == Some(sty),
            _ => false,
        };
        if !fits {
            return Ok(None);
        }
        self.nonnull.forget_local(x);
        self.bounds.forget(Loc::Local(x));
        if spill {
            self.ctx.spill_local_refs(Some(x), None)?;
        }
        Ok(Some((x, reg)))
    }

    /// Pushes local `x`, just written in its register (`store_target`), as
    /// the value (of stack type `sty`) the next instruction stores, so that
    /// this `stloc` finds nothing to store.
    pub(super) fn push_stored(&mut self, x: u16, sty: StackTy) {
        self.ctx.stack.push(sty, Loc::Local(x));
    }

    pub fn stloc(&mut self, n: u16) -> R {
        let t = self.ctx.local_type(n)?;
        let v = self.ctx.pop()?;
        check_store(&t, &v.ty)?;
        if v.loc == Loc::Local(n) {
            return Ok(());
        }
        self.nonnull.forget_local(n);
        self.bounds.forget(Loc::Local(n));
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
        self.nonnull.forget_arg(n);
        self.bounds.forget(Loc::Arg(n));
        self.ctx.spill_local_refs(None, Some(n))?;
        if let Some(reg) = self.ctx.arg_regs.get(n as usize).copied().flatten() {
            self.ctx.store_to_reg(reg, &t, &v)?;
            self.ctx.free(&v);
            return Ok(());
        }
        let a = self.ctx.arg_addr(n, M::Abi::RET2)?;
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
                let src = self.ctx.struct_addr(&v, M::Abi::RET)?;
                let n = self.ctx.stack.push(v.ty, Loc::Home);
                self.ctx.copy_mem(Self::frame_slot(n.home), src, s.size)?;
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
