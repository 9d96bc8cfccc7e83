//! Locals sharing a register (`assign_registers` in `jit/src/lib.rs`): once
//! every register holds a variable, a local whose live range meets none of
//! another's takes that one's register. These methods are built so that the
//! register file runs out and a wrong live range, or a lazy copy of a local
//! left on the evaluation stack when its register is reused, gives a wrong
//! answer.

mod common;

use common::*;
use jit::decoder::op;
use jit::host::JitType as T;

/// `F1..F8 = x + k` then `+= k`, read again only at the end: live across the
/// whole method, so they can share with nothing.
fn fillers(mut il: Il, first: u16, n: u16) -> Il {
    for k in first..first + n {
        il = il.ldarg(0).i4(k as i32).op(op::ADD).stloc(k);
    }
    for k in first..first + n {
        il = il.ldloc(k).i4(k as i32).op(op::ADD).stloc(k);
    }
    il
}

fn sum_fillers(mut il: Il, first: u16, n: u16) -> Il {
    for k in first..first + n {
        il = il.ldloc(k).op(op::ADD);
    }
    il
}

fn run(args: &[T], locals: &[T], il: Vec<u8>, x: i64) -> i64 {
    let mut h = FakeHost::new();
    h.def(1, def("T::m", args, locals, T::I4, il));
    let built = h.build().unwrap();
    call_i(built[&1].0, &[x]) as i32 as i64
}

/// Local 0 (`A`, the busiest) ends where local 9 (`B`) begins: they share a
/// register. `A`'s last load is still on the evaluation stack when `B` is
/// first stored: the store must first save that copy.
#[test]
fn a_copy_on_the_stack_survives_the_next_local_in_its_register() {
    let mut il = fillers(Il::new(), 1, 8);
    il = il.ldarg(0).i4(3).op(op::MUL).stloc(0);
    for _ in 0..3 {
        il = il.ldloc(0).i4(1).op(op::ADD).stloc(0);
    }
    il = il
        .ldloc(0) // A's last use: a lazy copy on the stack
        .i4(7)
        .stloc(9) // B = 7, in A's register
        .ldloc(9)
        .op(op::ADD)
        .stloc(9) // B = A + 7
        .ldloc(9);
    let il = sum_fillers(il, 1, 8).ret().build();
    for x in [0i64, 5, -40, 1 << 20] {
        let a = 3 * x + 3;
        let want = (a + 7) + (1..=8).map(|k| x + 2 * k).sum::<i64>();
        assert_eq!(run(&[T::I4], &[T::I4; 10], il.clone(), x), want, "x = {x}");
    }
}

/// Local 9 (`C`) is read at the top of a loop body before it is stored (its
/// first read sees the initial zero) and stored further down; local 10
/// (`D`) lives only below that, in the same body. Without the loop, their
/// ranges would not meet; with it, `C` carries its value around the back
/// edge across `D`'s accesses, so they must not share a register.
#[test]
fn a_value_carried_around_a_loop_keeps_its_register() {
    // locals: 0 = i, 1..=6 fillers, 7 = F (sum of C), 8 = G (sum of D), 9 = C, 10 = D
    let mut il = fillers(Il::new(), 1, 6);
    il = il
        .i4(0)
        .stloc(7)
        .i4(0)
        .stloc(8)
        .i4(0)
        .stloc(0)
        .br(op::BR, "cond");
    il = il
        .label("body")
        // C += 2; F += C
        .ldloc(9)
        .i4(2)
        .op(op::ADD)
        .stloc(9)
        .ldloc(7)
        .ldloc(9)
        .op(op::ADD)
        .stloc(7)
        // D = i * 5; G += D
        .ldloc(0)
        .i4(5)
        .op(op::MUL)
        .stloc(10)
        .ldloc(8)
        .ldloc(10)
        .op(op::ADD)
        .stloc(8)
        // i++
        .ldloc(0)
        .i4(1)
        .op(op::ADD)
        .stloc(0)
        .label("cond")
        .ldloc(0)
        .ldarg(0)
        .br(op::BLT, "body");
    il = il.ldloc(7).ldloc(8).op(op::ADD);
    let il = sum_fillers(il, 1, 6).ret().build();
    for n in [0i64, 1, 2, 7, 50] {
        let f: i64 = (1..=n).map(|k| 2 * k).sum();
        let g: i64 = (0..n).map(|i| 5 * i).sum();
        let want = f + g + (1..=6).map(|k| n + 2 * k).sum::<i64>();
        assert_eq!(run(&[T::I4], &[T::I4; 11], il.clone(), n), want, "n = {n}");
    }
}
