//! Null checks the compiler omits (`codegen/nonnull.rs`) are only those a
//! check on every path already made: a slot stored to, a branch that skips
//! the first check, a loop whose back edge stores null, or a loop entered
//! on an unchecked way (past the check, or from beyond the loop), still
//! gets its `NullReferenceException` (fail code 1) rather than a wild
//! access; a loop that never stores a checked slot keeps the check's fact.
mod common;
use common::*;
use jit::decoder::op;
use jit::host::JitType as T;

/// A fake `int[]` of `n` zeroes (MT, length, elements: `common::LAYOUT`).
fn array(n: usize) -> Vec<u64> {
    let mut v = vec![0u64, n as u64];
    v.resize(2 + n.div_ceil(2), 0);
    v
}

/// `a[0]` on the stack's array, result dropped.
fn touch(il: Il) -> Il {
    il.op(op::LDC_I4_0).op(op::LDELEM_I4).op(op::POP)
}

#[test]
fn a_local_stored_after_its_check_is_checked_again() {
    // int[] l = a; l[0]; l = b; return l[0];
    let il = touch(Il::new().ldarg(0).stloc(0).ldloc(0))
        .ldarg(1)
        .stloc(0)
        .ldloc(0)
        .op(op::LDC_I4_0)
        .op(op::LDELEM_I4)
        .ret()
        .build();
    let f = jit1(&[T::Obj, T::Obj], &[T::Obj], T::I4, il);
    let a = array(1);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, p])), Ok(0));
    assert_eq!(in_child(move || call_i(f, &[p, 0])), Err(1));
}

#[test]
fn a_path_that_skipped_the_check_keeps_it_at_the_merge() {
    // if (c != 0) { a[0]; goto join; } goto join; join: return a[0];
    // (the checked path reaches the join first).
    let il = touch(Il::new().ldarg(1).br(op::BRFALSE, "skip").ldarg(0))
        .br(op::BR, "join")
        .label("skip")
        .br(op::BR, "join")
        .label("join")
        .ldarg(0)
        .op(op::LDC_I4_0)
        .op(op::LDELEM_I4)
        .ret()
        .build();
    let f = jit1(&[T::Obj, T::I4], &[], T::I4, il);
    assert_eq!(in_child(move || call_i(f, &[0, 0])), Err(1));
    assert_eq!(in_child(move || call_i(f, &[0, 1])), Err(1));
    let a = array(1);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, 0])), Ok(0));
}

#[test]
fn a_loop_head_knows_nothing_its_back_edge_did_not_keep() {
    // a[0]; do { a[0]; a = b; } while (--n != 0); return 0;
    let il = touch(touch(Il::new().ldarg(0)).label("head").ldarg(0))
        .ldarg(1)
        .starg(0)
        .ldarg(2)
        .op(op::LDC_I4_1)
        .op(op::SUB)
        .starg(2)
        .ldarg(2)
        .br(op::BRTRUE, "head")
        .op(op::LDC_I4_0)
        .ret()
        .build();
    let f = jit1(&[T::Obj, T::Obj, T::I4], &[], T::I4, il);
    let a = array(1);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, p, 3])), Ok(0));
    assert_eq!(in_child(move || call_i(f, &[p, 0, 1])), Ok(0));
    assert_eq!(in_child(move || call_i(f, &[p, 0, 2])), Err(1));
}

/// The loop the tests below enter in different ways:
/// `head: a[0]; <entry>: if (--n != 0) goto head; return 0;`, `a` never
/// stored in it, entered at its head or at its condition (`entry`, as
/// `mcs` lays loops out).
fn countdown(il: Il, entry: &'static str) -> Il {
    touch(il.label("head").ldarg(0))
        .label(entry)
        .ldarg(1)
        .op(op::LDC_I4_1)
        .op(op::SUB)
        .op(op::DUP)
        .starg(1)
        .br(op::BRTRUE, "head")
        .op(op::LDC_I4_0)
        .ret()
}

/// `a[0]; goto cond; head: ...`: every way in checked `a`, so the head
/// keeps the fact (`tests/disas/nonnull_loop_keeps.txt` shows the head
/// without the check).
#[test]
fn a_loop_keeps_what_every_way_in_checked_for_slots_it_never_stores() {
    let il = countdown(touch(Il::new().ldarg(0)).br(op::BR, "cond"), "cond").build();
    let f = jit1(&[T::Obj, T::I4], &[], T::I4, il);
    let a = array(1);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, 5])), Ok(0));
    assert_eq!(in_child(move || call_i(f, &[0, 5])), Err(1));
}

/// `if (c != 0) goto skip; a[0]; skip: goto cond; head: ...`: one way into
/// the loop skips the check before it, so the head checks again.
#[test]
fn a_loop_entered_on_an_unchecked_way_checks_at_its_head() {
    let pre = touch(Il::new().ldarg(2).br(op::BRTRUE, "skip").ldarg(0))
        .label("skip")
        .br(op::BR, "cond");
    let f = jit1(
        &[T::Obj, T::I4, T::I4],
        &[],
        T::I4,
        countdown(pre, "cond").build(),
    );
    // Skipping the first check, the loop's first pass must still throw.
    assert_eq!(in_child(move || call_i(f, &[0, 3, 1])), Err(1));
    let a = array(1);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, 3, 1])), Ok(0));
}

/// `if (c != 0) goto late; a[0]; head: ...; mid: ...; late: goto mid;`: a
/// branch from beyond the loop into its middle is a way in the head's
/// recorded facts cannot see, so the loop keeps nothing.
#[test]
fn a_loop_entered_from_beyond_it_keeps_nothing() {
    let pre = touch(Il::new().ldarg(2).br(op::BRTRUE, "late").ldarg(0));
    let il = countdown(pre, "mid")
        .label("late")
        .br(op::BR, "mid")
        .build();
    let f = jit1(&[T::Obj, T::I4, T::I4], &[], T::I4, il);
    // late → mid → head with a null `a` never checked: the head throws.
    assert_checked_on_every_way_in(f);
}

/// For `f(a, n, c)` made of `countdown`: a null `a` throws when `c` takes
/// the branching way in, and a real array passes by either way.
fn assert_checked_on_every_way_in(f: u64) {
    assert_eq!(in_child(move || call_i(f, &[0, 3, 1])), Err(1));
    let a = array(1);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, 3, 1])), Ok(0));
    assert_eq!(in_child(move || call_i(f, &[p, 3, 0])), Ok(0));
}

/// `if (c != 0) goto cond; a[0]; head: ...`: two ways in, one falling into
/// the head after a check, one branching past it to the condition; the
/// head meets both.
#[test]
fn a_loop_head_meets_every_way_into_its_range() {
    let pre = touch(Il::new().ldarg(2).br(op::BRTRUE, "cond").ldarg(0));
    let f = jit1(
        &[T::Obj, T::I4, T::I4],
        &[],
        T::I4,
        countdown(pre, "cond").build(),
    );
    assert_checked_on_every_way_in(f);
}
