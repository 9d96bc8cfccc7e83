//! First light: trivial methods through the whole pipeline.
mod common;
use common::*;
use jit::decoder::op;
use jit::host::JitType as T;

#[test]
fn add_two_args() {
    let il = Il::new().ldarg(0).ldarg(1).op(op::ADD).ret().build();
    let f = jit1(&[T::I4, T::I4], &[], T::I4, il);
    assert_eq!(call_i(f, &[40, 2]) as i32, 42);
}

#[test]
fn loop_sum() {
    // int s = 0; for (int i = 0; i < n; i++) s += i; return s;
    let il = Il::new()
        .i4(0)
        .stloc(0)
        .i4(0)
        .stloc(1)
        .br(op::BR, "cond")
        .label("body")
        .ldloc(0)
        .ldloc(1)
        .op(op::ADD)
        .stloc(0)
        .ldloc(1)
        .i4(1)
        .op(op::ADD)
        .stloc(1)
        .label("cond")
        .ldloc(1)
        .ldarg(0)
        .br(op::BLT, "body")
        .ldloc(0)
        .ret()
        .build();
    let f = jit1(&[T::I4], &[T::I4, T::I4], T::I4, il);
    assert_eq!(call_i(f, &[100]), 4950);
}
