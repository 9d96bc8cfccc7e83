//! Exception handling in generated code (ECMA-335 §I.12.4.2 and the Partition
//! III `throw`, `rethrow`, `leave`, `endfinally`, `endfilter`).
//!
//! Handlers are compiled inline, in IL order, inside their method's body and
//! share its frame (its frame pointer), so they see its locals and arguments.
//! A method with
//! clauses keeps every local and argument in its frame (no register
//! assignment) and saves all five callee-saved registers in its prologue:
//! when the runtime resumes a catch handler, whatever deeper frames left in
//! those registers is dead, and the epilogue still restores the caller's.
//!
//! The protocol the runtime (`cil-compat`'s `exec::unwind`) follows, in the
//! ABI's roles (`masm::Abi`: FP, SP, RET; on x86-64 rbp, rsp, rax):
//! ```text
//!   catch handler / filter's handler   jump to handler entry with
//!                                      FP = the method's frame,
//!                                      SP = FP - frame_size, RET = exception
//!   filter block                       call filter entry with FP = frame,
//!                                      RET = exception, SP 16-aligned at the
//!                                      call; RET (32 bits) = the filter's verdict
//!   finally / fault handler            call handler entry with FP = frame,
//!                                      SP 16-aligned at the call
//! ```
//! `leave` calls the entry of each `finally` it exits, innermost first, then
//! jumps to its target. Called blocks (finally, fault, filter) start by
//! moving SP down 8 bytes so calls inside them see it 16-aligned, and `endfinally`
//! / `endfilter` undo it and `ret`. A catch or filter block stores the
//! exception in its clause's hidden local (the exception slot `rethrow`
//! reads) and starts with it as its only stack entry.

use super::context::RegSet;
use super::stack::StackTy;
use super::{CodeGen, R};
use crate::host::{Helper, JitHost, JitType};
use crate::masm::*;
use crate::{CallSiteKind, EhClause, EhKind, EhRegion, JitErrorKind, MethodInput};
use alloc::vec::Vec;

/// Per-method EH bookkeeping while the body is generated.
pub struct EhState {
    clauses: Vec<EhClause>,
    /// Index of the first hidden local (clause k's exception slot is local
    /// `first_slot + k`).
    first_slot: u16,
    /// Marks at every IL offset a clause names, in IL order.
    bounds: Vec<(u32, usize)>,
    /// IL offsets that need a bound mark (sorted, deduplicated).
    wanted: Vec<u32>,
}

/// Where each clause landed, as marks (resolved once the code is assembled).
#[derive(Default)]
pub struct EhMarks {
    clauses: Vec<EhClause>,
    slots: Vec<i32>,
    bounds: Vec<(u32, usize)>,
}

impl EhMarks {
    /// The region table in code offsets.
    pub fn resolve(&self, mark_offsets: &[u32]) -> Vec<EhRegion> {
        let at = |il: u32| -> u32 {
            match self.bounds.binary_search_by_key(&il, |b| b.0) {
                Ok(i) => mark_offsets.get(self.bounds[i].1).copied().unwrap_or(0),
                Err(_) => 0,
            }
        };
        self.clauses
            .iter()
            .zip(&self.slots)
            .map(|(c, &slot)| EhRegion {
                clause: *c,
                try_native: (at(c.try_start), at(c.try_end)),
                handler_native: (at(c.handler_start), at(c.handler_end)),
                filter_native: match c.kind {
                    EhKind::Filter(f) => Some(at(f)),
                    _ => None,
                },
                exception_slot: matches!(c.kind, EhKind::Catch(_) | EhKind::Filter(_))
                    .then_some(slot),
            })
            .collect()
    }
}

/// Checks the clauses against the IL: ranges inside the body, on instruction
/// boundaries, filters before their handlers (§II.25.4.6, §I.12.4.2.7).
pub fn validate(
    m: &MethodInput<'_>,
    instrs: &[crate::decoder::Instr],
) -> Result<(), (u32, JitErrorKind)> {
    let len = m.il.len() as u32;
    let boundary = |o: u32| o == len || instrs.binary_search_by_key(&o, |i| i.offset).is_ok();
    let bad = |o: u32, m: &'static str| Err((o, JitErrorKind::TypeMismatch(m)));
    if m.locals.len() + m.eh.len() > u16::MAX as usize {
        return bad(0, "too many locals and exception clauses");
    }
    for c in &m.eh {
        if c.try_start >= c.try_end || c.handler_start >= c.handler_end {
            return bad(c.try_start, "empty exception-handling block");
        }
        let mut offs = alloc::vec![c.try_start, c.try_end, c.handler_start, c.handler_end];
        if let EhKind::Filter(f) = c.kind {
            if f >= c.handler_start {
                return bad(f, "filter block does not precede its handler");
            }
            offs.push(f);
        }
        for o in offs {
            if o > len || !boundary(o) {
                return bad(
                    o,
                    "exception-handling clause not on an instruction boundary",
                );
            }
        }
        if c.handler_start < c.try_end && c.try_start < c.handler_end {
            return bad(c.handler_start, "handler overlaps its protected block");
        }
    }
    if let Some(i) = instrs
        .iter()
        .find(|i| i.opcode == crate::decoder::op::LOCALLOC)
    {
        return Err((
            i.offset,
            JitErrorKind::Unsupported("localloc in a method with exception handlers"),
        ));
    }
    Ok(())
}

/// `m` with one hidden object local per clause (the exception slots).
pub fn with_exception_slots<'a>(m: &MethodInput<'a>) -> MethodInput<'a> {
    let mut out = m.clone();
    out.locals
        .extend(core::iter::repeat_n(JitType::Obj, m.eh.len()));
    out
}

impl EhState {
    pub fn new(input: &MethodInput<'_>) -> EhState {
        let mut wanted = Vec::with_capacity(input.eh.len() * 5);
        for c in &input.eh {
            wanted.extend_from_slice(&[c.try_start, c.try_end, c.handler_start, c.handler_end]);
            if let EhKind::Filter(f) = c.kind {
                wanted.push(f);
            }
        }
        wanted.sort_unstable();
        wanted.dedup();
        EhState {
            first_slot: (input.locals.len() - input.eh.len()) as u16,
            clauses: input.eh.clone(),
            bounds: Vec::with_capacity(wanted.len()),
            wanted,
        }
    }
}

/// What kind of block starts at an IL offset.
enum Entry {
    /// A catch handler (of a catch or filter clause), or a filter block.
    WithException { slot: u16, called: bool },
    /// A finally or fault handler.
    Called,
}

impl<H: JitHost, M: MacroAssembler> CodeGen<'_, H, M> {
    /// Called first for every instruction of a method with clauses: records
    /// the code position of clause boundaries and enters handler blocks.
    /// Returns true when `offset` starts a handler (then everything
    /// `begin_instruction` does for a label and the IL mark are done here).
    pub(super) fn eh_begin(&mut self, offset: u32) -> R<bool> {
        let Some(eh) = self.eh.as_deref_mut() else {
            return Ok(false);
        };
        if eh.wanted.binary_search(&offset).is_ok() {
            let mk = self.ctx.masm.mark()?;
            let eh = self.eh.as_deref_mut().ok_or(internal())?;
            eh.bounds.push((offset, mk));
        }
        let eh = self.eh.as_deref().ok_or(internal())?;
        let mut entry = None;
        for (k, c) in eh.clauses.iter().enumerate() {
            let slot = eh.first_slot + k as u16;
            match c.kind {
                EhKind::Filter(f) if f == offset => {
                    entry = Some(Entry::WithException { slot, called: true })
                }
                EhKind::Catch(_) | EhKind::Filter(_) if c.handler_start == offset => {
                    entry = Some(Entry::WithException {
                        slot,
                        called: false,
                    })
                }
                EhKind::Finally | EhKind::Fault if c.handler_start == offset => {
                    entry = Some(Entry::Called)
                }
                _ => {}
            }
        }
        let Some(entry) = entry else {
            return Ok(false);
        };
        if self.reachable {
            return Err(JitErrorKind::TypeMismatch(
                "control falls into an exception handler",
            ));
        }
        // A fresh block: nothing in registers, only what the runtime passes.
        let reserved = self.ctx.regs.reserved;
        self.ctx.regs = RegSet::all::<M::Abi>();
        for i in 0..16u8 {
            if reserved & (1 << i) != 0 {
                self.ctx.regs.reserve(Gpr(i));
            }
        }
        self.ctx.stack.reset_to(&[]);
        let label = self.label_for(offset)?;
        self.m().bind(label)?;
        self.reachable = true;
        // The entry code belongs to the handler's first instruction.
        let mk = self.m().mark()?;
        self.il_marks.push((offset, mk));
        match entry {
            Entry::Called => self
                .m()
                .alu_ri(AluOp::Sub, M::Abi::SP, 8, OperandSize::S64)?,
            Entry::WithException { slot, called } => {
                if called {
                    self.m()
                        .alu_ri(AluOp::Sub, M::Abi::SP, 8, OperandSize::S64)?;
                }
                let a = self.ctx.local_addr(slot)?;
                self.m().store(a, M::Abi::RET, OperandSize::S64)?;
                self.ctx.stack.reset_to(&[StackTy::Obj]);
                let home = self.ctx.stack.vals[0].home;
                self.m()
                    .store(Self::frame_slot(home), M::Abi::RET, OperandSize::S64)?;
            }
        }
        Ok(true)
    }

    /// `leave target`: runs (calls) every `finally` whose protected block
    /// holds this instruction but not the target, innermost first.
    pub(super) fn eh_leave(&mut self, target: u32) -> R {
        let Some(eh) = self.eh.as_deref() else {
            return Ok(());
        };
        let cur = self.cur;
        let finallies: Vec<u32> = eh
            .clauses
            .iter()
            .filter(|c| c.kind == EhKind::Finally && c.try_contains(cur) && !c.try_contains(target))
            .map(|c| c.handler_start)
            .collect();
        for h in finallies {
            let l = self.label_for(h)?;
            self.m().call_label(l)?;
        }
        Ok(())
    }

    pub fn endfinally(&mut self) -> R {
        if self.eh.is_none() {
            return Err(JitErrorKind::TypeMismatch("endfinally outside a handler"));
        }
        while let Ok(v) = self.ctx.pop() {
            self.ctx.free(&v);
        }
        self.m()
            .alu_ri(AluOp::Add, M::Abi::SP, 8, OperandSize::S64)?;
        self.m().ret()?;
        self.reachable = false;
        Ok(())
    }

    pub fn endfilter(&mut self) -> R {
        if self.eh.is_none() {
            return Err(JitErrorKind::TypeMismatch("endfilter outside a filter"));
        }
        let v = self.ctx.pop()?;
        if !v.ty.is_gpr() || !self.ctx.stack.is_empty() {
            return Err(JitErrorKind::TypeMismatch("endfilter needs one int32"));
        }
        self.ctx.load_to_gpr(&v, M::Abi::RET)?;
        self.ctx.free(&v);
        self.m()
            .alu_ri(AluOp::Add, M::Abi::SP, 8, OperandSize::S64)?;
        self.m().ret()?;
        self.reachable = false;
        Ok(())
    }

    /// `rethrow`: throws the exception of the innermost catch handler holding
    /// this instruction again (its stack trace kept).
    pub fn rethrow(&mut self) -> R {
        let cur = self.cur;
        let slot = self.eh.as_deref().and_then(|eh| {
            eh.clauses
                .iter()
                .enumerate()
                .find(|(_, c)| {
                    matches!(c.kind, EhKind::Catch(_) | EhKind::Filter(_))
                        && c.handler_start <= cur
                        && cur < c.handler_end
                })
                .map(|(k, _)| eh.first_slot + k as u16)
        });
        let slot = slot.ok_or(JitErrorKind::TypeMismatch(
            "rethrow outside a catch handler",
        ))?;
        self.ctx.spill_regs()?;
        let a = self.ctx.local_addr(slot)?;
        self.m().load(M::Abi::ARG_GPRS[0], a, OperandSize::S64)?;
        let h = self.method_handle as i64;
        self.m().mov_ri(M::Abi::ARG_GPRS[1], h, OperandSize::S64)?;
        self.m()
            .mov_ri(M::Abi::ARG_GPRS[2], cur as i64, OperandSize::S32)?;
        let t = self.host.helper(Helper::Rethrow);
        self.call_abs(t, CallSiteKind::Helper(Helper::Rethrow))?;
        while let Ok(v) = self.ctx.pop() {
            self.ctx.free(&v);
        }
        self.reachable = false;
        Ok(())
    }

    /// Marks the end of the IL (a clause may end there) and hands the marks over.
    pub(super) fn eh_finish(&mut self) -> R<EhMarks> {
        let Some(mut eh) = self.eh.take() else {
            return Ok(EhMarks::default());
        };
        let mk = self.ctx.masm.mark()?;
        let end = eh.wanted.last().copied().unwrap_or(0);
        if eh.bounds.last().map(|b| b.0) != Some(end) {
            eh.bounds.push((end, mk));
        }
        let slots = (0..eh.clauses.len())
            .map(|k| {
                self.ctx
                    .frame
                    .locals
                    .get(eh.first_slot as usize + k)
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        Ok(EhMarks {
            clauses: eh.clauses,
            slots,
            bounds: eh.bounds,
        })
    }
}

fn internal() -> JitErrorKind {
    JitErrorKind::Internal("exception-handling state".into())
}
