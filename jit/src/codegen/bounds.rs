//! Bounds checks a basic block need not repeat: `a[i]` again, with `a` and `i`
//! the same unchanged argument or local slots as a check that passed earlier
//! in the block (ECMA-335 §III.4.7 `ldelem` and its kin raise
//! `IndexOutOfRangeException` for `i >= a.Length`; an array's length never
//! changes, so once the check of an unchanged pair passed, the next one
//! cannot fail).
//!
//! Block-local and conservative: the set empties at every label (a branch
//! target, where paths merge) and `starg`/`stloc` drop the pairs naming their
//! slot. Only slots whose address is never taken appear as `Loc::Arg`/
//! `Loc::Local` (the others are read through memory), and methods with
//! exception handlers record nothing, as for the null checks `nonnull.rs`
//! omits. Fall-through after a conditional branch keeps the set: that code
//! is reached from this block alone unless it is a label.

use super::stack::Loc;

/// Pairs remembered at most: a block rarely indexes more distinct pairs, and
/// a short list is searched faster than anything else.
const MAX: usize = 8;

/// `(array slot, index slot)` pairs checked since the last label.
#[derive(Clone, Debug, Default)]
pub struct Checked(smallvec::SmallVec<[(Loc, Loc); MAX]>);

impl Checked {
    /// The key of an access whose array and index are `arr` and `idx`, when
    /// both are argument or local slots.
    pub fn key(arr: Loc, idx: Loc) -> Option<(Loc, Loc)> {
        let slot = |l: Loc| matches!(l, Loc::Arg(_) | Loc::Local(_));
        (slot(arr) && slot(idx)).then_some((arr, idx))
    }

    /// Whether the check of `key` passed since the last label.
    pub fn knows(&self, key: (Loc, Loc)) -> bool {
        self.0.contains(&key)
    }

    /// The check of `key` was just made (and passed, where code goes on).
    pub fn learn(&mut self, key: (Loc, Loc)) {
        if self.0.len() < MAX && !self.knows(key) {
            self.0.push(key);
        }
    }

    /// `slot` was stored to: pairs naming it no longer hold.
    pub fn forget(&mut self, slot: Loc) {
        self.0.retain(|(a, i)| *a != slot && *i != slot);
    }

    /// A label: paths merge, nothing is known.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::masm::Gpr;

    #[test]
    fn learn_forget_clear() {
        let mut c = Checked::default();
        let k = Checked::key(Loc::Local(2), Loc::Arg(1)).unwrap();
        assert!(Checked::key(Loc::Reg(Gpr(3)), Loc::Arg(1)).is_none());
        assert!(Checked::key(Loc::Local(2), Loc::Const(4)).is_none());
        assert!(!c.knows(k));
        c.learn(k);
        assert!(c.knows(k));
        c.forget(Loc::Local(5));
        assert!(c.knows(k));
        c.forget(Loc::Arg(1));
        assert!(!c.knows(k));
        c.learn(k);
        c.forget(Loc::Local(2));
        assert!(!c.knows(k));
        c.learn(k);
        c.clear();
        assert!(!c.knows(k));
        for n in 0..20 {
            c.learn((Loc::Local(n), Loc::Local(n + 1)));
        }
        assert!(!c.knows((Loc::Local(19), Loc::Local(20))), "bounded");
    }
}
