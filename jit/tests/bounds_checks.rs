//! Bounds checks the compiler omits (`codegen/bounds.rs`) are only repeats,
//! in one basic block, of a check of the same unchanged array and index
//! slots: an index or array slot stored to, a label between the two
//! accesses, or an index taken through its address, still gets its
//! `IndexOutOfRangeException` (fail code 2) rather than a wild access.
mod common;
use common::*;
use jit::decoder::op;
use jit::host::JitType as T;

/// A fake `int[]` of `n` elements `0, 1, 2, …` (MT, length, elements:
/// `common::LAYOUT`).
fn array(n: usize) -> Vec<u64> {
    let mut v = vec![0u64, n as u64];
    v.resize(2 + n.div_ceil(2), 0);
    for i in 0..n {
        let word = 2 + i / 2;
        v[word] |= (i as u64) << (32 * (i % 2));
    }
    v
}

#[test]
fn a_repeated_access_in_one_block_reads_the_same_element() {
    // return a[i] + a[i];
    let il = Il::new()
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .op(op::ADD)
        .ret()
        .build();
    let f = jit1(&[T::Obj, T::I4], &[], T::I4, il);
    let a = array(4);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, 3])), Ok(6));
    assert_eq!(in_child(move || call_i(f, &[p, 4])), Err(2));
    assert_eq!(in_child(move || call_i(f, &[p, -1])), Err(2));
}

#[test]
fn an_index_stored_after_its_check_is_checked_again() {
    // int x = a[i]; i = i + 1; return x + a[i];
    let il = Il::new()
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .stloc(0)
        .ldarg(1)
        .op(op::LDC_I4_1)
        .op(op::ADD)
        .starg(1)
        .ldloc(0)
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .op(op::ADD)
        .ret()
        .build();
    let f = jit1(&[T::Obj, T::I4], &[T::I4], T::I4, il);
    let a = array(4);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, 2])), Ok(5));
    assert_eq!(in_child(move || call_i(f, &[p, 3])), Err(2));
}

#[test]
fn an_array_stored_after_its_check_is_checked_again() {
    // int[] l = a; int x = l[i]; l = b; return x + l[i];
    let il = Il::new()
        .ldarg(0)
        .stloc(0)
        .ldloc(0)
        .ldarg(2)
        .op(op::LDELEM_I4)
        .stloc(1)
        .ldarg(1)
        .stloc(0)
        .ldloc(1)
        .ldloc(0)
        .ldarg(2)
        .op(op::LDELEM_I4)
        .op(op::ADD)
        .ret()
        .build();
    let f = jit1(&[T::Obj, T::Obj, T::I4], &[T::Obj, T::I4], T::I4, il);
    let (big, small) = (array(8), array(2));
    let (pb, ps) = (big.as_ptr() as i64, small.as_ptr() as i64);
    assert_eq!(in_child(move || call_i(f, &[pb, pb, 5])), Ok(10));
    assert_eq!(in_child(move || call_i(f, &[pb, ps, 5])), Err(2));
}

#[test]
fn a_label_between_the_accesses_checks_again() {
    // a[i]; if (c == 0) i = 100; join: return a[i];  (the store is on
    // another block; the join must not trust the first check).
    let il = Il::new()
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .op(op::POP)
        .ldarg(2)
        .br(op::BRTRUE, "join")
        .i4(100)
        .starg(1)
        .label("join")
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .ret()
        .build();
    let f = jit1(&[T::Obj, T::I4, T::I4], &[], T::I4, il);
    let a = array(4);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, 1, 1])), Ok(1));
    assert_eq!(in_child(move || call_i(f, &[p, 1, 0])), Err(2));
}

#[test]
fn an_index_written_through_its_address_is_checked_again() {
    // int x = a[i]; *(&i) = 9; return x + a[i];
    let il = Il::new()
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .stloc(0)
        .ldarga(1)
        .i4(9)
        .op(op::STIND_I4)
        .ldloc(0)
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .op(op::ADD)
        .ret()
        .build();
    let f = jit1(&[T::Obj, T::I4], &[T::I4], T::I4, il);
    let a = array(4);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, 1])), Err(2));
    let b = array(10);
    let q = b.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[q, 1])), Ok(10));
}
