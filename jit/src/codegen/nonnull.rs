//! Null checks a method need not repeat: which arguments and locals are
//! known not to be null at the instruction being lowered, because every path
//! to it checked them since they were last stored (ECMA-335 §III.4 names
//! the `NullReferenceException` each of `ldfld`, `stfld`, `ldelem`, `ldlen`
//! and `callvirt` raises; once a check of an unchanged slot passed, the next
//! one of the same slot cannot fail).
//!
//! A forward dataflow done in the one pass the compiler makes: facts flow
//! along fall-through and are met (intersected) at branch targets over the
//! branches recorded so far. A target some later instruction branches back
//! to (a loop head), whose back edges are not seen yet, starts with what
//! holds on every way into the loop's IL range `[head, last backward
//! branch]` recorded so far (the fall-through into the head, and branches
//! from before it to the head or to labels inside the range, as `mcs`
//! enters a loop at its condition), kept only for the slots no instruction
//! in the range stores, and only when no branch from beyond the range
//! enters it ([`NonNull::unstored`], computed by `jit::loop_heads`). Why
//! that holds: a path reaching the head last entered the range by one of
//! those ways, checked there, and since then stayed inside the range, where
//! those slots keep their value. `starg`/`stloc` forget their slot. Only
//! slots whose address is never taken are tracked (the others are read
//! through memory, never as `Loc::Arg`/`Loc::Local`), and methods with
//! exception handlers track nothing (a handler or a `finally` may run
//! between a check and a use).
//! A check removed this way is one whose IL offset the fault report would
//! never have named: the earlier check on every path throws first.

use super::stack::Loc;
use super::{CodeGen, R};
use crate::host::JitHost;
use crate::masm::{Gpr, MacroAssembler};

/// Slots known not to be null: bit `n` for argument (local) `n < 64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NonNull {
    args: u64,
    locals: u64,
}

impl NonNull {
    /// Nothing known.
    pub const NONE: NonNull = NonNull { args: 0, locals: 0 };

    /// What holds on both of two paths.
    pub fn meet(self, o: NonNull) -> NonNull {
        NonNull {
            args: self.args & o.args,
            locals: self.locals & o.locals,
        }
    }

    fn bit(n: u16) -> u64 {
        if n < 64 {
            1 << n
        } else {
            0
        }
    }

    /// Every slot but the stored ones (bit `n` of `stored_args`,
    /// `stored_locals`): what a loop that stores only those keeps from its
    /// entries.
    pub fn unstored(stored_args: u64, stored_locals: u64) -> NonNull {
        NonNull {
            args: !stored_args,
            locals: !stored_locals,
        }
    }

    /// The bit of slot `n` (none for `n >= 64`, which are never tracked).
    pub fn slot_bit(n: u16) -> u64 {
        Self::bit(n)
    }

    /// Whether the value at `loc` is known not to be null.
    pub fn knows(&self, loc: Loc) -> bool {
        match loc {
            Loc::Arg(n) => self.args & Self::bit(n) != 0,
            Loc::Local(n) => self.locals & Self::bit(n) != 0,
            _ => false,
        }
    }

    /// The value at `loc` was just checked.
    pub fn learn(&mut self, loc: Loc) {
        match loc {
            Loc::Arg(n) => self.args |= Self::bit(n),
            Loc::Local(n) => self.locals |= Self::bit(n),
            _ => {}
        }
    }

    /// Argument `n` was stored to.
    pub fn forget_arg(&mut self, n: u16) {
        self.args &= !Self::bit(n);
    }

    /// Local `n` was stored to.
    pub fn forget_local(&mut self, n: u16) {
        self.locals &= !Self::bit(n);
    }
}

/// What is known where control merges: one entry per branch target, parallel
/// to the code generator's labels. `None`: no branch recorded yet.
pub type AtLabels = alloc::vec::Vec<Option<NonNull>>;

impl<H: JitHost, M: MacroAssembler> CodeGen<'_, H, M> {
    /// A null check of the value in `r`, which came from `loc`; omitted when
    /// `loc` was already checked on every path here.
    pub(super) fn null_check_of(&mut self, r: Gpr, loc: Loc) -> R {
        if self.nonnull.knows(loc) {
            return Ok(());
        }
        self.null_check(r)?;
        if self.eh.is_none() {
            self.nonnull.learn(loc);
        }
        Ok(())
    }

    /// Marks the branch target at IL offset `target` as one a later
    /// instruction branches back to, the last such at IL offset `end`: no
    /// bounds check is known passed there (`bounds.rs`), and no slot known
    /// not null but what `keep` lets through from the ways into the range
    /// (see the module comment; `NonNull::NONE` keeps nothing).
    pub fn mark_loop_head(&mut self, target: u32, end: u32, keep: NonNull) {
        if let Some(k) = self.label_index(target) {
            self.loop_heads.push((k, end, keep));
            if let Some(s) = self.bounds_at.get_mut(k) {
                *s = Some(super::bounds::Checked::NONE);
            }
        }
    }

    /// A branch (or fall-through) to label `k` leaves with what is known now.
    pub(super) fn nonnull_branch(&mut self, k: usize) {
        let now = self.nonnull;
        if let Some(s) = self.nonnull_at.get_mut(k) {
            *s = Some(s.map_or(now, |s| s.meet(now)));
        }
    }

    /// Label `k` is bound: what holds on every path recorded into it; for
    /// a loop head, on every way recorded into its range, for the slots the
    /// loop keeps.
    pub(super) fn nonnull_bind(&mut self, k: usize) {
        let at = |j: usize| self.nonnull_at.get(j).copied().flatten();
        self.nonnull = match self.loop_heads.iter().find(|h| h.0 == k) {
            Some(&(_, end, keep)) => {
                let mut entries = None::<NonNull>;
                for j in k..self.labels.len() {
                    if self.labels[j].0 > end {
                        break;
                    }
                    if let Some(f) = at(j) {
                        entries = Some(entries.map_or(f, |e| e.meet(f)));
                    }
                }
                entries.map_or(NonNull::NONE, |e| e.meet(keep))
            }
            None => at(k).unwrap_or(NonNull::NONE),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learn_meet_forget() {
        let mut a = NonNull::NONE;
        a.learn(Loc::Arg(0));
        a.learn(Loc::Local(3));
        a.learn(Loc::Reg(Gpr(1)));
        assert!(a.knows(Loc::Arg(0)) && a.knows(Loc::Local(3)));
        assert!(!a.knows(Loc::Arg(3)) && !a.knows(Loc::Local(0)));
        assert!(!a.knows(Loc::Reg(Gpr(1))));
        let mut b = NonNull::NONE;
        b.learn(Loc::Arg(0));
        let m = a.meet(b);
        assert!(m.knows(Loc::Arg(0)) && !m.knows(Loc::Local(3)));
        a.forget_arg(0);
        a.forget_local(3);
        assert_eq!(a, NonNull::NONE);
    }

    #[test]
    fn slots_past_64_are_never_known() {
        let mut a = NonNull::NONE;
        a.learn(Loc::Arg(64));
        a.learn(Loc::Local(200));
        assert_eq!(a, NonNull::NONE);
        assert!(!a.knows(Loc::Arg(64)));
    }
}
