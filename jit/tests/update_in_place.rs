//! `x = x op y` on a local kept in a register, lowered as one instruction on
//! that register (`update_in_place` in `jit/src/codegen/arith.rs`), and a
//! load stored straight into a local's register (`push_loaded` in
//! `jit/src/codegen/memory.rs`). These methods are built so that an update
//! or load that forgets a copy of the old value still on the evaluation
//! stack, extends an `int32` operand wrongly, or loads a small integer with
//! another extension than its local keeps, gives a wrong answer (each
//! checked by breaking the lowering on purpose); the others pin the operand
//! kinds and a `stloc` that is a branch target. The listings in
//! `tests/disas/` show the single instructions themselves.

mod common;

use common::*;
use jit::decoder::op;
use jit::host::JitType as T;

fn run(args: &[T], locals: &[T], ret: T, il: Vec<u8>, a: &[i64]) -> i64 {
    call_i(jit1(args, locals, ret, il), a)
}

/// The old value of `x` is still on the stack (a lazy `ldloc`) when `x` is
/// updated: the update must save it first.
#[test]
fn a_copy_of_the_old_value_on_the_stack_keeps_the_old_value() {
    // x = a; push x; x = x + 5; return old x * 1000 + x
    let il = Il::new()
        .ldarg(0)
        .stloc(0)
        .ldloc(0)
        .ldloc(0)
        .i4(5)
        .op(op::ADD)
        .stloc(0)
        .i4(1000)
        .op(op::MUL)
        .ldloc(0)
        .op(op::ADD)
        .ret()
        .build();
    for a in [0i64, 7, -3, 100_000] {
        let got = run(&[T::I4], &[T::I4], T::I4, il.clone(), &[a]) as i32 as i64;
        assert_eq!(got, a * 1000 + a + 5, "a = {a}");
    }
}

/// `x = x - x`, `x = x + x`, `x = x ^ y`, `x = x & y`, `x = x | y` in a loop,
/// the right operand a local too (in a register or in the frame).
#[test]
fn every_operation_and_operand_kind_agrees_with_plain_arithmetic() {
    // locals: 0 = x, 1 = y, 2 = i; x = a, y = b; 6 rounds of the updates
    let il = Il::new()
        .ldarg(0)
        .stloc(0)
        .ldarg(1)
        .stloc(1)
        .i4(0)
        .stloc(2)
        .label("top")
        .ldloc(0)
        .ldloc(0)
        .op(op::ADD)
        .stloc(0) // x += x
        .ldloc(0)
        .ldloc(1)
        .op(op::XOR)
        .stloc(0) // x ^= y
        .ldloc(0)
        .i4(0x0fff_ffff)
        .op(op::AND)
        .stloc(0) // x &= 0x0fffffff
        .ldloc(0)
        .ldloc(2)
        .op(op::OR)
        .stloc(0) // x |= i
        .ldloc(0)
        .ldloc(1)
        .op(op::SUB)
        .stloc(0) // x -= y
        .next_round(2, 6, "top")
        .ldloc(0)
        .ldloc(0)
        .op(op::SUB)
        .stloc(1) // y = x - x (another local: the plain path)
        .ldloc(0)
        .ldloc(1)
        .op(op::ADD)
        .ret()
        .build();
    for (a, b) in [(1i32, 2i32), (-7, 123_456), (i32::MAX, -1), (0, 0)] {
        let (mut x, y) = (a, b);
        for i in 0..6 {
            x = x.wrapping_add(x);
            x ^= y;
            x &= 0x0fff_ffff;
            x |= i;
            x = x.wrapping_sub(y);
        }
        let got = run(
            &[T::I4, T::I4],
            &[T::I4; 3],
            T::I4,
            il.clone(),
            &[a as i64, b as i64],
        );
        assert_eq!(got as i32, x, "a = {a}, b = {b}");
    }
}

/// A `native int` local plus a negative `int32`: the `int32` is
/// sign-extended (§III.1.5), as in the plain lowering.
#[test]
fn an_int32_operand_of_a_native_int_update_is_sign_extended() {
    let il = Il::new()
        .ldarg(0)
        .stloc(0)
        .ldloc(0)
        .ldarg(1)
        .op(op::ADD)
        .stloc(0)
        .ldloc(0)
        .ldloc(0)
        .ldarg(1)
        .op(op::ADD)
        .stloc(0)
        .ldloc(0)
        .op(op::ADD)
        .ret()
        .build();
    for (p, d) in [(1i64 << 40, -1i32), (0, -5), (77, 3)] {
        let got = run(
            &[T::I, T::I4],
            &[T::I, T::I],
            T::I,
            il.clone(),
            &[p, d as i64],
        );
        let x1 = p + d as i64;
        assert_eq!(got, x1 + (x1 + d as i64), "p = {p}, d = {d}");
    }
}

/// The `stloc` is also a branch target, reached with another value on the
/// stack: each way in stores what it brings (the update is then lowered
/// the plain way).
#[test]
fn a_store_that_is_a_branch_target_still_stores_what_arrives() {
    // x = a; if (b != 0) push 100 else push x + 1; x = that; return x
    let il = Il::new()
        .ldarg(0)
        .stloc(0)
        .ldarg(1)
        .br(op::BRFALSE, "inc")
        .i4(100)
        .br(op::BR, "store")
        .label("inc")
        .ldloc(0)
        .i4(1)
        .op(op::ADD)
        .label("store")
        .stloc(0)
        .ldloc(0)
        .ldloc(0)
        .op(op::ADD)
        .ret()
        .build();
    for (a, b, want) in [(5i64, 0i64, 12i64), (5, 1, 200), (-9, 0, -16)] {
        let got = run(&[T::I4, T::I4], &[T::I4], T::I4, il.clone(), &[a, b]) as i32 as i64;
        assert_eq!(got, want, "a = {a}, b = {b}");
    }
}

/// `x = *p` loads straight into `x`'s register (`push_loaded` in
/// `jit/src/codegen/memory.rs`) only when no copy of the old `x` is still on
/// the stack: here one is, and must keep the old value.
#[test]
fn a_load_into_a_local_keeps_a_pending_copy_of_its_old_value() {
    // x = a; push x; x = *p; return old x * 1000 + x
    let il = Il::new()
        .ldarg(0)
        .stloc(0)
        .ldloc(0)
        .ldarg(1)
        .op(op::LDIND_I4)
        .stloc(0)
        .i4(1000)
        .op(op::MUL)
        .ldloc(0)
        .op(op::ADD)
        .ret()
        .build();
    let cell: i32 = 42;
    for a in [0i64, 7, -3] {
        let p = &cell as *const i32 as i64;
        let got = run(&[T::I4, T::I], &[T::I4], T::I4, il.clone(), &[a, p]) as i32 as i64;
        assert_eq!(got, a * 1000 + 42, "a = {a}");
    }
}

/// A 2-byte local keeps its value normalised in its register: a signed
/// 16-bit load (sign-extending) stored to an unsigned 16-bit local must be
/// zero-extended, and the same unsigned load may go straight in. The loop
/// makes the locals live long enough to get registers.
#[test]
fn a_small_integer_load_goes_straight_in_only_with_the_locals_extension() {
    // u = (ushort)*(short*)p; w = *(ushort*)p; return u * 2 + w (both 0xFFFF)
    let il = Il::new()
        .i4(0)
        .stloc(2)
        .label("top")
        .ldarg(0)
        .op(op::LDIND_I2)
        .stloc(0)
        .ldarg(0)
        .op(op::LDIND_U2)
        .stloc(1)
        .next_round(2, 3, "top")
        .ldloc(0)
        .i4(2)
        .op(op::MUL)
        .ldloc(1)
        .op(op::ADD)
        .ret()
        .build();
    let cell: u16 = 0xFFFF;
    let p = &cell as *const u16 as i64;
    let got = run(&[T::I], &[T::U2, T::U2, T::I4], T::I4, il, &[p]) as i32;
    assert_eq!(got, 0xFFFF * 3);
}

/// `z = a op b` computed straight into `z`'s register (`compute_into_local`)
/// must not do so when `b` is `z` itself (`z = y - z`: the move of `y`
/// would overwrite `z` before the subtraction reads it), must keep a
/// pending copy of the old `z`, and sign-extends an `int32` `a` for a
/// `native int` result.
#[test]
fn a_result_computed_into_another_local_reads_its_operands_first() {
    // locals: 0 = y, 1 = z, 2 = i, 3 = w (native int), 4 = old z copy sum
    let il = Il::new()
        .ldarg(0)
        .stloc(0)
        .ldarg(1)
        .stloc(1)
        .i4(0)
        .stloc(2)
        .i4(0)
        .stloc(4)
        .label("top")
        .ldloc(0)
        .ldloc(1)
        .op(op::SUB)
        .stloc(1) // z = y - z
        .ldloc(4)
        .ldloc(1) // a pending copy of z ...
        .ldloc(0)
        .i4(3)
        .op(op::XOR)
        .stloc(1) // ... while z = y ^ 3
        .op(op::ADD)
        .stloc(4) // s += old z
        .next_round(2, 4, "top")
        .ldarg(2)
        .ldarg(3)
        .op(op::ADD)
        .stloc(3) // w = (int)c + (native int)d
        .ldloc(3)
        .ldloc(4)
        .op(op::CONV_I)
        .op(op::ADD)
        .ldloc(1)
        .op(op::CONV_I)
        .op(op::ADD)
        .ret()
        .build();
    for (y, z0, c, d) in [
        (10i32, 3i32, -2i32, 1i64 << 40),
        (-5, 7, -1, 0),
        (0, 0, 5, -9),
    ] {
        let (mut z, mut s) = (z0, 0i32);
        for _ in 0..4 {
            z = y.wrapping_sub(z);
            s = s.wrapping_add(z);
            z = y ^ 3;
        }
        let want = (c as i64 + d) + s as i64 + z as i64;
        let args = [y as i64, z0 as i64, c as i64, d];
        let got = run(
            &[T::I4, T::I4, T::I4, T::I],
            &[T::I4, T::I4, T::I4, T::I, T::I4],
            T::I,
            il.clone(),
            &args,
        );
        assert_eq!(got, want, "y = {y}, z = {z0}, c = {c}, d = {d}");
    }
}

/// `conv.u2`/`conv.i2` stored next to a 2-byte local: straight into its
/// register only with the local's own extension (a `short` value stored to
/// a `ushort` local is zero-extended there, as its frame slot would be).
#[test]
fn a_narrowing_goes_straight_into_a_local_only_with_its_extension() {
    // locals: 0 = u (ushort), 1 = s (short), 2 = i
    let il = Il::new()
        .i4(0)
        .stloc(2)
        .label("top")
        .ldarg(0)
        .op(op::CONV_I2)
        .stloc(0) // u = (ushort)(short)a
        .ldarg(0)
        .op(op::CONV_I2)
        .stloc(1) // s = (short)a
        .next_round(2, 3, "top")
        .ldloc(0)
        .i4(100_000)
        .op(op::MUL)
        .ldloc(1)
        .op(op::ADD)
        .ret()
        .build();
    for a in [-1i64, 0x1_8001, 7] {
        let (u, s) = (a as i16 as u16 as i64, a as i16 as i64);
        let got = run(&[T::I4], &[T::U2, T::I2, T::I4], T::I4, il.clone(), &[a]) as i32 as i64;
        assert_eq!(got, (u * 100_000 + s) as i32 as i64, "a = {a}");
    }
}
