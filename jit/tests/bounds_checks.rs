//! Bounds checks the compiler omits (`codegen/bounds.rs`) are only repeats
//! of a check of the same unchanged array and index slots made on every path
//! (the index as it is, or widened the same way): an index or array slot
//! stored to, a path into a join that skipped the check, an index widened
//! differently, or an index taken through its address, still gets its
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

#[test]
fn a_path_that_skipped_the_check_keeps_it_at_the_join() {
    // if (c != 0) a[i]; join: return a[i];
    let il = Il::new()
        .ldarg(2)
        .br(op::BRFALSE, "join")
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .op(op::POP)
        .label("join")
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .ret()
        .build();
    let f = jit1(&[T::Obj, T::I4, T::I4], &[], T::I4, il);
    let a = array(4);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, 2, 1])), Ok(2));
    assert_eq!(in_child(move || call_i(f, &[p, 2, 0])), Ok(2));
    assert_eq!(in_child(move || call_i(f, &[p, 4, 1])), Err(2));
    assert_eq!(in_child(move || call_i(f, &[p, 4, 0])), Err(2));
}

#[test]
fn a_check_on_the_only_path_to_a_label_holds_there() {
    // if (a[i] == 0) return 7; return a[i] + a[i];  (checked once)
    let il = Il::new()
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .br(op::BRTRUE, "go")
        .i4(7)
        .ret()
        .label("go")
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
    assert_eq!(in_child(move || call_i(f, &[p, 0])), Ok(7));
    assert_eq!(in_child(move || call_i(f, &[p, 3])), Ok(6));
    assert_eq!(in_child(move || call_i(f, &[p, 4])), Err(2));
    assert_eq!(in_child(move || call_i(f, &[p, -1])), Err(2));
}

#[test]
fn a_widened_index_is_checked_for_its_own_widening() {
    // a[(nuint)(uint)i] twice, then a[i]: the plain index is checked again;
    // a negative i fails at the first access either way.
    let il = Il::new()
        .ldarg(0)
        .ldarg(1)
        .op(op::CONV_U)
        .op(op::LDELEM_I4)
        .ldarg(0)
        .ldarg(1)
        .op(op::CONV_U)
        .op(op::LDELEM_I4)
        .op(op::ADD)
        .ldarg(0)
        .ldarg(1)
        .op(op::LDELEM_I4)
        .op(op::ADD)
        .ret()
        .build();
    let f = jit1(&[T::Obj, T::I4], &[], T::I4, il);
    let a = array(4);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, 3])), Ok(9));
    assert_eq!(in_child(move || call_i(f, &[p, 4])), Err(2));
    assert_eq!(in_child(move || call_i(f, &[p, -1])), Err(2));
}

#[test]
fn a_loop_checks_again_on_every_iteration() {
    // s = 0; k = 0; loop: s += a[k]; k++; if (k != n) goto loop; return s;
    // with n past the end: the access at k == len must fail.
    let il = Il::new()
        .op(op::LDC_I4_0)
        .stloc(0)
        .op(op::LDC_I4_0)
        .stloc(1)
        .label("loop")
        .ldloc(0)
        .ldarg(0)
        .ldloc(1)
        .op(op::LDELEM_I4)
        .op(op::ADD)
        .stloc(0)
        .ldloc(1)
        .op(op::LDC_I4_1)
        .op(op::ADD)
        .stloc(1)
        .ldloc(1)
        .ldarg(1)
        .br(op::BNE_UN, "loop")
        .ldloc(0)
        .ret()
        .build();
    let f = jit1(&[T::Obj, T::I4], &[T::I4, T::I4], T::I4, il);
    let a = array(4);
    let p = a.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[p, 4])), Ok(6));
    assert_eq!(in_child(move || call_i(f, &[p, 5])), Err(2));
}
