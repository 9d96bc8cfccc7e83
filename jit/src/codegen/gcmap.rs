//! `CodeGen`, stack maps: what the collector must see at each call the method
//! makes (see `crate::gcmap` for the format and what each kind promises).
//! Recording a map emits no code: it reads the value stack, the register set
//! and the frame layout as they are right after the call instruction.

use super::stack::{Loc, StackTy};
use super::{CodeGen, R};
use crate::gcmap::{reg_bit, GcKind, GcSlot, Safepoint, StackMaps};
use crate::host::{JitHost, JitType};
use crate::masm::*;
use crate::JitErrorKind;
use alloc::vec::Vec;

/// A call site being recorded: (mark after the call, first slot, slot
/// count, registers).
pub type SiteMark = (usize, u32, u32, u8);

/// Maps being built: sites hold marks until the code is assembled.
#[derive(Default)]
pub struct GcMapBuilder {
    pub frame: Vec<GcSlot>,
    /// Register locals and arguments of reference type.
    pub frame_regs: u8,
    /// (mark after the call, first slot, slot count, registers).
    pub sites: Vec<SiteMark>,
    pub slots: Vec<GcSlot>,
}

impl GcMapBuilder {
    /// The finished maps, return addresses resolved from marks.
    /// The builder's site and slot buffers go back to `keep` for the next
    /// method; the maps get exact-size copies (kept for the method's life).
    pub fn resolve(
        self,
        mark_offsets: &[u32],
        saved_regs: u8,
        keep: (&mut Vec<SiteMark>, &mut Vec<GcSlot>),
    ) -> StackMaps {
        // Exact sizes: both are kept for the method's lifetime.
        let plain = self
            .sites
            .iter()
            .filter(|s| s.2 == 0 && s.3 == self.frame_regs)
            .count();
        let mut sites = Vec::with_capacity(self.sites.len() - plain);
        let mut frame_only = Vec::with_capacity(plain);
        for &(mk, first, count, regs) in &self.sites {
            let ret_offset = mark_offsets[mk];
            if count == 0 && regs == self.frame_regs {
                frame_only.push(ret_offset);
            } else {
                sites.push(Safepoint {
                    ret_offset,
                    first,
                    count,
                    regs,
                });
            }
        }
        sites.sort_by_key(|s| s.ret_offset);
        frame_only.sort_unstable();
        let slots = self.slots.as_slice().to_vec();
        *keep.0 = self.sites;
        *keep.1 = self.slots;
        StackMaps {
            frame: self.frame,
            frame_regs: self.frame_regs,
            sites,
            frame_only,
            slots,
            saved_regs,
        }
    }
}

/// Reports the references a value of type `ty` stored at `off` holds.
fn push_typed<H: JitHost>(host: &H, out: &mut Vec<GcSlot>, off: i32, ty: &StackTy) {
    match ty {
        StackTy::Obj => out.push(GcSlot {
            offset: off,
            kind: GcKind::Ref,
        }),
        StackTy::ByRef => out.push(GcSlot {
            offset: off,
            kind: GcKind::Interior,
        }),
        StackTy::Value(s) => match host.gc_ref_offsets(s.handle) {
            Some(refs) => out.extend(refs.iter().map(|r| GcSlot {
                offset: off + *r as i32,
                kind: GcKind::Ref,
            })),
            // Layout unknown to the host: every word may be a reference.
            None => push_maybe(out, off, off + ((s.size as i32 + 7) & !7)),
        },
        _ => {}
    }
}

/// Every 8-byte word of `[lo, hi)` as a maybe-reference.
fn push_maybe(out: &mut Vec<GcSlot>, lo: i32, hi: i32) {
    let mut o = lo;
    while o + 8 <= hi {
        out.push(GcSlot {
            offset: o,
            kind: GcKind::Maybe,
        });
        o += 8;
    }
}

fn is_ref(t: &JitType) -> bool {
    matches!(t, JitType::Obj | JitType::ByRef)
}

impl<H: JitHost, M: MacroAssembler> CodeGen<'_, H, M> {
    /// The frame part of the maps: arguments and locals, live for the whole
    /// method (no liveness analysis: a reference local keeps its object until
    /// the method returns or overwrites it).
    pub(super) fn gc_frame_slots(&mut self) {
        let f = &self.ctx.frame;
        let mut out = Vec::new();
        let mut regs = 0u8;
        if let Some(rb) = f.retbuf {
            // The return buffer may be a field of a heap object.
            out.push(GcSlot {
                offset: rb,
                kind: GcKind::Interior,
            });
        }
        for (i, t) in self.ctx.arg_types.iter().enumerate() {
            if let Some(r) = self.ctx.arg_regs.get(i).copied().flatten() {
                if is_ref(t) {
                    regs |= reg_bit(r);
                }
                continue;
            }
            match f.args.get(i) {
                // A pointer to a caller-owned copy: the caller reports it.
                Some(ArgHome::Indirect(o)) => out.push(GcSlot {
                    offset: *o,
                    kind: GcKind::Interior,
                }),
                Some(ArgHome::Direct(o)) => {
                    if let Some(ty) = StackTy::of(t) {
                        push_typed(&*self.host, &mut out, *o, &ty);
                    }
                }
                None => {}
            }
        }
        for (i, t) in self.ctx.local_types.iter().enumerate() {
            if let Some(r) = self.ctx.local_regs.get(i).copied().flatten() {
                if is_ref(t) {
                    regs |= reg_bit(r);
                }
                continue;
            }
            if let (Some(o), Some(ty)) = (f.locals.get(i), StackTy::of(t)) {
                push_typed(&*self.host, &mut out, *o, &ty);
            }
        }
        out.sort_by_key(|s| s.offset);
        self.gc.frame = out;
        self.gc.frame_regs = regs;
    }

    /// Records the map of the call just emitted (the current code position is
    /// its return address).
    pub(super) fn safepoint(&mut self) -> R {
        if self.leaf && !self.noreturn_call {
            return Err(JitErrorKind::Internal(
                "a call in a method compiled as a leaf".into(),
            ));
        }
        let mk = self.m().mark()?;
        let first = self.gc.slots.len();
        let mut out = core::mem::take(&mut self.gc.slots);
        let mut regs = self.gc.frame_regs;
        let mut nonref_regs = 0u8;
        for v in &self.ctx.stack.vals {
            match v.loc {
                // Native ints merge with references at control-flow joins
                // (`StackTy::merges_with`), and unmanaged pointers may be
                // derived from managed ones: possibly references.
                Loc::Home if v.ty == StackTy::NInt => out.push(GcSlot {
                    offset: v.home,
                    kind: GcKind::Maybe,
                }),
                Loc::Home => push_typed(&*self.host, &mut out, v.home, &v.ty),
                Loc::Reg(r) if M::Abi::CALLEE_SAVED.contains(&r) => {
                    if matches!(v.ty, StackTy::Obj | StackTy::ByRef | StackTy::NInt) {
                        regs |= reg_bit(r);
                    } else {
                        nonref_regs |= reg_bit(r);
                    }
                }
                _ => {}
            }
        }
        // Operands this instruction popped and temporaries it made may still
        // be used after the call.
        let (lo, hi) = self.ctx.stack.scratch_range();
        push_maybe(&mut out, lo, hi);
        // Allocated callee-saved registers no live entry or local explains
        // hold such operands too.
        let set = &self.ctx.regs;
        for &r in M::Abi::CALLEE_SAVED {
            let bit = 1u16 << r.0;
            if set.gpr_free & bit == 0 && set.reserved & bit == 0 && nonref_regs & reg_bit(r) == 0 {
                regs |= reg_bit(r);
            }
        }
        out[first..].sort_by_key(|s| s.offset);
        let count = (out.len() - first) as u32;
        self.gc.slots = out;
        self.gc.sites.push((mk, first as u32, count, regs));
        Ok(())
    }

    /// Records a call that never returns (only the frame part applies).
    pub(super) fn safepoint_noreturn(&mut self) -> R {
        let mk = self.m().mark()?;
        let first = self.gc.slots.len() as u32;
        self.gc.sites.push((mk, first, 0, self.gc.frame_regs));
        Ok(())
    }
}

/// Bit mask (by `Abi::CALLEE_SAVED` index) of the registers in `saved`.
pub fn saved_mask<A: Abi>(saved: &[(Gpr, i32)]) -> u8 {
    let mut m = 0;
    for (r, off) in saved {
        debug_assert_eq!(
            Some(*off),
            A::CALLEE_SAVED
                .iter()
                .position(|c| c == r)
                .map(A::save_slot)
        );
        m |= reg_bit(*r);
    }
    m
}
