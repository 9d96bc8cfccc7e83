//! Bounds checks a method need not repeat: `a[i]` again, with `a` and `i`
//! the same unchanged argument or local slots as a check that passed on
//! every path here (ECMA-335 §III.4.7 `ldelem` and its kin raise
//! `IndexOutOfRangeException` for `i >= a.Length`; an array's length never
//! changes, so once the check of an unchanged pair passed, the next one
//! cannot fail).
//!
//! The same forward dataflow as the null checks `nonnull.rs` omits, in the
//! one pass the compiler makes: facts flow along fall-through and are met
//! (intersected) at branch targets over the branches recorded so far; a loop
//! head starts with nothing known; `starg`/`stloc` drop the pairs naming
//! their slot. Only slots whose address is never taken appear as
//! `Loc::Arg`/`Loc::Local` (the others are read through memory), and methods
//! with exception handlers record nothing.
//!
//! An index is the slot itself, or the slot widened by the `conv.u` or
//! `conv.i` just before the access (what mcs emits for a `uint` index). The
//! three are different keys: for a negative `int`, the zero-extended and the
//! sign-extended index are different numbers.

use super::stack::Loc;
use super::CodeGen;
use crate::host::JitHost;
use crate::masm::{Gpr, MacroAssembler};

/// How the index slot's value became the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Widen {
    /// As it is (an `int` sign-extended, a native int).
    None = 0,
    /// `conv.u` of an `int` slot: zero-extended.
    ConvU = 1,
    /// `conv.i` of an `int` slot: sign-extended.
    ConvI = 2,
}

/// Pairs remembered at most: a method rarely indexes more distinct pairs
/// between two stores, and a short array is met and searched quickly.
const MAX: usize = 6;

/// `(array slot, index slot, widening)` keys whose check passed on every
/// path here. `Copy`, so one sits at each label without allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    keys: [u64; MAX],
    len: u8,
}

/// What is known where control merges: one entry per branch target, parallel
/// to the code generator's labels. `None`: no branch recorded yet.
pub type AtLabels = alloc::vec::Vec<Option<Checked>>;

/// A slot as 17 bits: arguments above locals.
fn slot(l: Loc) -> Option<u64> {
    match l {
        Loc::Local(n) => Some(n as u64),
        Loc::Arg(n) => Some(1 << 16 | n as u64),
        _ => None,
    }
}

impl Checked {
    /// Nothing known.
    pub const NONE: Checked = Checked {
        keys: [0; MAX],
        len: 0,
    };

    /// The key of an access to array `arr` at index `idx` (widened by `w`),
    /// when both are argument or local slots.
    pub fn key(arr: Loc, idx: Loc, w: Widen) -> Option<u64> {
        Some(slot(arr)? << 19 | slot(idx)? << 2 | w as u64)
    }

    fn keys(&self) -> &[u64] {
        &self.keys[..self.len as usize]
    }

    /// Whether the check of `key` passed on every path here.
    pub fn knows(&self, key: u64) -> bool {
        self.keys().contains(&key)
    }

    /// The check of `key` was just made (and passed, where code goes on).
    pub fn learn(&mut self, key: u64) {
        if (self.len as usize) < MAX && !self.knows(key) {
            self.keys[self.len as usize] = key;
            self.len += 1;
        }
    }

    /// `l` was stored to: keys naming it (as array or index) no longer hold.
    pub fn forget(&mut self, l: Loc) {
        let Some(s) = slot(l) else { return };
        let mut kept = Checked::NONE;
        for &k in self.keys() {
            if k >> 19 != s && (k >> 2) & 0x1_ffff != s {
                kept.learn(k);
            }
        }
        *self = kept;
    }

    /// What holds on both of two paths.
    pub fn meet(self, o: Checked) -> Checked {
        let mut both = Checked::NONE;
        for &k in self.keys() {
            if o.knows(k) {
                both.learn(k);
            }
        }
        both
    }
}

impl<H: JitHost, M: MacroAssembler> CodeGen<'_, H, M> {
    /// The key of an access to the array at `arr` with the index at `idx`:
    /// `None` when either is not a slot, or in a method with handlers.
    pub(super) fn bounds_key(&self, arr: Loc, idx: Loc) -> Option<u64> {
        if self.eh.is_some() {
            return None;
        }
        let (idx, w) = match (idx, self.conv_index) {
            // The widening `conv` was the instruction just before this one
            // and its register is the index: the slot, widened.
            (Loc::Reg(r), Some((at, cr, s, w))) if at == self.prev_cur && cr == r => (s, w),
            _ => (idx, Widen::None),
        };
        Checked::key(arr, idx, w)
    }

    /// A `conv` of the `int` at `from` left `to` widened by `w` in `r`.
    pub(super) fn note_widened_index(&mut self, from: Loc, r: Gpr, w: Widen) {
        self.conv_index = slot(from).map(|_| (self.cur, r, from, w));
    }

    /// A branch (or fall-through) to label `k` leaves with what is known now.
    pub(super) fn bounds_branch(&mut self, k: usize) {
        let now = self.bounds;
        if let Some(s) = self.bounds_at.get_mut(k) {
            *s = Some(s.map_or(now, |s| s.meet(now)));
        }
    }

    /// Label `k` is bound: what holds on every path recorded into it.
    pub(super) fn bounds_bind(&mut self, k: usize) {
        self.bounds = self
            .bounds_at
            .get(k)
            .copied()
            .flatten()
            .unwrap_or(Checked::NONE);
        self.conv_index = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learn_forget_meet() {
        let mut c = Checked::NONE;
        let k = Checked::key(Loc::Local(2), Loc::Arg(1), Widen::None).unwrap();
        let ku = Checked::key(Loc::Local(2), Loc::Arg(1), Widen::ConvU).unwrap();
        assert_ne!(k, ku, "the widening is part of the key");
        assert!(Checked::key(Loc::Reg(Gpr(3)), Loc::Arg(1), Widen::None).is_none());
        assert!(Checked::key(Loc::Local(2), Loc::Const(4), Widen::None).is_none());
        assert_ne!(
            Checked::key(Loc::Local(1), Loc::Local(2), Widen::None),
            Checked::key(Loc::Arg(1), Loc::Local(2), Widen::None)
        );
        c.learn(k);
        assert!(c.knows(k) && !c.knows(ku));
        c.forget(Loc::Local(5));
        c.forget(Loc::Arg(2));
        assert!(c.knows(k));
        c.forget(Loc::Arg(1));
        assert!(!c.knows(k));
        c.learn(k);
        c.forget(Loc::Local(2));
        assert!(!c.knows(k));
        c.learn(k);
        c.learn(ku);
        let mut d = Checked::NONE;
        d.learn(ku);
        let m = c.meet(d);
        assert!(m.knows(ku) && !m.knows(k));
        assert_eq!(c.meet(Checked::NONE), Checked::NONE);
        for n in 0..20 {
            c.learn(Checked::key(Loc::Local(n), Loc::Local(n + 1), Widen::None).unwrap());
        }
        assert!(!c.knows(Checked::key(Loc::Local(19), Loc::Local(20), Widen::None).unwrap()));
    }
}
