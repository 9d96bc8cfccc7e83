//! Integer arithmetic, bitwise, shifts, comparisons and conversions (ECMA-335
//! §III.3), checked against Rust's definition of the same operation on edge values.
#![allow(clippy::type_complexity)]
mod common;
use common::*;
use jit::decoder::op;
use jit::host::JitType as T;

const I32S: [i32; 10] = [
    0,
    1,
    -1,
    2,
    7,
    -7,
    i32::MAX,
    i32::MIN,
    0x1234_5678,
    -0x0F0F_0F0F,
];
const I64S: [i64; 10] = [
    0,
    1,
    -1,
    3,
    -9,
    i64::MAX,
    i64::MIN,
    0x1234_5678_9ABC_DEF0,
    1 << 32,
    -(1 << 40),
];

/// Runs `a OP b` for int32 both with arguments (registers) and constants (folding
/// and immediate forms), returning Ok(value) or Err(fail code).
fn run32(opc: u16, a: i32, b: i32) -> [Result<i64, i32>; 3] {
    let args = Il::new().ldarg(0).ldarg(1).op(opc).ret().build();
    let f = jit1(&[T::I4, T::I4], &[], T::I4, args);
    let imm = Il::new().ldarg(0).i4(b).op(opc).ret().build();
    let g = jit1(&[T::I4], &[], T::I4, imm);
    let consts = Il::new().i4(a).i4(b).op(opc).ret().build();
    let h = jit1(&[], &[], T::I4, consts);
    [
        in_child(move || call_i(f, &[a as i64, b as i64]) as i32 as i64),
        in_child(move || call_i(g, &[a as i64]) as i32 as i64),
        in_child(move || call_i(h, &[]) as i32 as i64),
    ]
}

fn run64(opc: u16, a: i64, b: i64) -> [Result<i64, i32>; 2] {
    let args = Il::new().ldarg(0).ldarg(1).op(opc).ret().build();
    let f = jit1(&[T::I8, T::I8], &[], T::I8, args);
    let consts = Il::new().i8(a).i8(b).op(opc).ret().build();
    let h = jit1(&[], &[], T::I8, consts);
    [
        in_child(move || call_i(f, &[a, b])),
        in_child(move || call_i(h, &[])),
    ]
}

const DIVZERO: i32 = 3;
const OVERFLOW: i32 = 4;

fn ref32(opc: u16, a: i32, b: i32) -> Result<i64, i32> {
    let r = match opc {
        op::ADD => a.wrapping_add(b),
        op::SUB => a.wrapping_sub(b),
        op::MUL => a.wrapping_mul(b),
        op::AND => a & b,
        op::OR => a | b,
        op::XOR => a ^ b,
        op::SHL => a.wrapping_shl(b as u32),
        op::SHR => a.wrapping_shr(b as u32),
        op::SHR_UN => (a as u32).wrapping_shr(b as u32) as i32,
        op::DIV | op::REM if b == 0 => return Err(DIVZERO),
        op::DIV | op::REM if b == -1 && a == i32::MIN => return Err(OVERFLOW),
        op::DIV => a / b,
        op::REM => a % b,
        op::DIV_UN | op::REM_UN if b == 0 => return Err(DIVZERO),
        op::DIV_UN => ((a as u32) / (b as u32)) as i32,
        op::REM_UN => ((a as u32) % (b as u32)) as i32,
        op::ADD_OVF => a.checked_add(b).ok_or(OVERFLOW)?,
        op::SUB_OVF => a.checked_sub(b).ok_or(OVERFLOW)?,
        op::MUL_OVF => a.checked_mul(b).ok_or(OVERFLOW)?,
        op::ADD_OVF_UN => (a as u32).checked_add(b as u32).ok_or(OVERFLOW)? as i32,
        op::SUB_OVF_UN => (a as u32).checked_sub(b as u32).ok_or(OVERFLOW)? as i32,
        op::MUL_OVF_UN => (a as u32).checked_mul(b as u32).ok_or(OVERFLOW)? as i32,
        op::CEQ => (a == b) as i32,
        op::CGT => (a > b) as i32,
        op::CLT => (a < b) as i32,
        op::CGT_UN => ((a as u32) > (b as u32)) as i32,
        op::CLT_UN => ((a as u32) < (b as u32)) as i32,
        _ => unreachable!(),
    };
    Ok(r as i64)
}

fn ref64(opc: u16, a: i64, b: i64) -> Result<i64, i32> {
    Ok(match opc {
        op::ADD => a.wrapping_add(b),
        op::SUB => a.wrapping_sub(b),
        op::MUL => a.wrapping_mul(b),
        op::AND => a & b,
        op::OR => a | b,
        op::XOR => a ^ b,
        op::DIV | op::REM if b == 0 => return Err(DIVZERO),
        op::DIV | op::REM if b == -1 && a == i64::MIN => return Err(OVERFLOW),
        op::DIV => a / b,
        op::REM => a % b,
        op::DIV_UN | op::REM_UN if b == 0 => return Err(DIVZERO),
        op::DIV_UN => ((a as u64) / (b as u64)) as i64,
        op::REM_UN => ((a as u64) % (b as u64)) as i64,
        op::ADD_OVF => a.checked_add(b).ok_or(OVERFLOW)?,
        op::SUB_OVF => a.checked_sub(b).ok_or(OVERFLOW)?,
        op::MUL_OVF => a.checked_mul(b).ok_or(OVERFLOW)?,
        op::ADD_OVF_UN => (a as u64).checked_add(b as u64).ok_or(OVERFLOW)? as i64,
        op::SUB_OVF_UN => (a as u64).checked_sub(b as u64).ok_or(OVERFLOW)? as i64,
        op::MUL_OVF_UN => (a as u64).checked_mul(b as u64).ok_or(OVERFLOW)? as i64,
        _ => unreachable!(),
    })
}

const BINOPS: [u16; 19] = [
    op::ADD,
    op::SUB,
    op::MUL,
    op::AND,
    op::OR,
    op::XOR,
    op::DIV,
    op::REM,
    op::DIV_UN,
    op::REM_UN,
    op::ADD_OVF,
    op::SUB_OVF,
    op::MUL_OVF,
    op::ADD_OVF_UN,
    op::SUB_OVF_UN,
    op::MUL_OVF_UN,
    op::SHL,
    op::SHR,
    op::SHR_UN,
];

#[test]
fn int32_binops_edge_values() {
    let mut n = 0;
    for opc in BINOPS {
        for a in I32S {
            for b in I32S {
                let b = if matches!(opc, op::SHL | op::SHR | op::SHR_UN) {
                    b & 31
                } else {
                    b
                };
                let want = ref32(opc, a, b);
                for (k, got) in run32(opc, a, b).into_iter().enumerate() {
                    assert_eq!(
                        got,
                        want,
                        "{} {a} {b} (form {k})",
                        jit::decoder::mnemonic(opc)
                    );
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, 19 * 100 * 3);
}

/// `mul` by a constant power of two is emitted as a shift: every power of
/// two an int32 or int64 immediate can hold, against the wrapping product,
/// next to the constants that are not powers of two (`imul` stays).
#[test]
fn mul_by_constant_powers_of_two() {
    let mut muls32: Vec<i32> = (0..31).map(|k| 1 << k).collect();
    muls32.extend([0, -1, -2, -16, i32::MIN, 3, 24, 0x7FFF_FFFF]);
    for c in muls32 {
        let f = jit1(
            &[T::I4],
            &[],
            T::I4,
            Il::new().ldarg(0).i4(c).op(op::MUL).ret().build(),
        );
        let g = jit1(
            &[T::I8],
            &[],
            T::I8,
            Il::new()
                .ldarg(0)
                .i4(c)
                .op(op::CONV_I8)
                .op(op::MUL)
                .ret()
                .build(),
        );
        for a in I32S {
            let got = in_child(move || call_i(f, &[a as i64]) as i32 as i64);
            assert_eq!(got, Ok(a.wrapping_mul(c) as i64), "int32 {a} * {c}");
        }
        for a in I64S {
            let got = in_child(move || call_i(g, &[a]));
            assert_eq!(got, Ok(a.wrapping_mul(c as i64)), "int64 {a} * {c}");
        }
    }
}

#[test]
fn int64_binops_edge_values() {
    for opc in &BINOPS[..16] {
        for a in I64S {
            for b in I64S {
                let want = ref64(*opc, a, b);
                for got in run64(*opc, a, b) {
                    assert_eq!(got, want, "{} {a} {b}", jit::decoder::mnemonic(*opc));
                }
            }
        }
    }
}

#[test]
fn int64_shifts_keep_upper_bits() {
    // The ProtonOS shr.un/conv.u bug: 64-bit shifts must operate on all 64 bits.
    for a in I64S {
        for s in [0i32, 1, 4, 31, 32, 33, 63] {
            for (opc, want) in [
                (op::SHL, a.wrapping_shl(s as u32)),
                (op::SHR, a.wrapping_shr(s as u32)),
                (op::SHR_UN, (a as u64).wrapping_shr(s as u32) as i64),
            ] {
                let il = Il::new().ldarg(0).ldarg(1).op(opc).ret().build();
                let f = jit1(&[T::I8, T::I4], &[], T::I8, il);
                assert_eq!(
                    call_i(f, &[a, s as i64]),
                    want,
                    "{a:#x} {} {s}",
                    jit::decoder::mnemonic(opc)
                );
            }
        }
    }
}

#[test]
fn comparisons_int32() {
    for opc in [op::CEQ, op::CGT, op::CLT, op::CGT_UN, op::CLT_UN] {
        for a in I32S {
            for b in I32S {
                let want = ref32(opc, a, b);
                for got in run32(opc, a, b) {
                    assert_eq!(got, want, "{} {a} {b}", jit::decoder::mnemonic(opc));
                }
            }
        }
    }
}

#[test]
fn comparisons_int64_and_branches() {
    let branches: [(u16, fn(i64, i64) -> bool); 10] = [
        (op::BEQ, |a, b| a == b),
        (op::BNE_UN, |a, b| a != b),
        (op::BGE, |a, b| a >= b),
        (op::BGT, |a, b| a > b),
        (op::BLE, |a, b| a <= b),
        (op::BLT, |a, b| a < b),
        (op::BGE_UN, |a, b| a as u64 >= b as u64),
        (op::BGT_UN, |a, b| a as u64 > b as u64),
        (op::BLE_UN, |a, b| a as u64 <= b as u64),
        (op::BLT_UN, |a, b| (a as u64) < b as u64),
    ];
    for (opc, f) in branches {
        let il = Il::new()
            .ldarg(0)
            .ldarg(1)
            .br(opc, "yes")
            .i4(0)
            .ret()
            .label("yes")
            .i4(1)
            .ret()
            .build();
        let g = jit1(&[T::I8, T::I8], &[], T::I4, il);
        let il32 = Il::new()
            .ldarg(0)
            .ldarg(1)
            .br(opc, "yes")
            .i4(0)
            .ret()
            .label("yes")
            .i4(1)
            .ret()
            .build();
        let g32 = jit1(&[T::I4, T::I4], &[], T::I4, il32);
        for a in I64S {
            for b in I64S {
                assert_eq!(
                    call_i(g, &[a, b]) as i32,
                    f(a, b) as i32,
                    "{} {a} {b}",
                    jit::decoder::mnemonic(opc)
                );
            }
        }
        for a in I32S {
            for b in I32S {
                let want = match opc {
                    op::BGE_UN | op::BGT_UN | op::BLE_UN | op::BLT_UN => {
                        f(a as u32 as i64, b as u32 as i64)
                    }
                    _ => f(a as i64, b as i64),
                };
                assert_eq!(call_i(g32, &[a as i64, b as i64]) as i32, want as i32);
            }
        }
    }
}

#[test]
fn neg_not() {
    for a in I32S {
        let f = jit1(
            &[T::I4],
            &[],
            T::I4,
            Il::new().ldarg(0).op(op::NEG).ret().build(),
        );
        assert_eq!(call_i(f, &[a as i64]) as i32, a.wrapping_neg());
        let f = jit1(
            &[T::I4],
            &[],
            T::I4,
            Il::new().ldarg(0).op(op::NOT).ret().build(),
        );
        assert_eq!(call_i(f, &[a as i64]) as i32, !a);
    }
    for a in I64S {
        let f = jit1(
            &[T::I8],
            &[],
            T::I8,
            Il::new().ldarg(0).op(op::NEG).ret().build(),
        );
        assert_eq!(call_i(f, &[a]), a.wrapping_neg());
        let f = jit1(
            &[T::I8],
            &[],
            T::I8,
            Il::new().ldarg(0).op(op::NOT).ret().build(),
        );
        assert_eq!(call_i(f, &[a]), !a);
    }
}

fn conv_ref(opc: u16, v: i64, src32: bool) -> Result<i64, i32> {
    // Source as the CLI sees it: int32 sources are sign-extended int32 values.
    let s = if src32 { v as i32 as i64 } else { v };
    let u = if src32 {
        v as i32 as u32 as u64
    } else {
        v as u64
    };
    let o = OVERFLOW;
    Ok(match opc {
        op::CONV_I1 => s as i8 as i64,
        op::CONV_U1 => s as u8 as i64,
        op::CONV_I2 => s as i16 as i64,
        op::CONV_U2 => s as u16 as i64,
        op::CONV_I4 | op::CONV_U4 => s as i32 as i64,
        op::CONV_I8 | op::CONV_I => s,
        op::CONV_U8 | op::CONV_U => u as i64,
        op::CONV_OVF_I1 => i8::try_from(s).map_err(|_| o)? as i64,
        op::CONV_OVF_U1 => u8::try_from(s).map_err(|_| o)? as i64,
        op::CONV_OVF_I2 => i16::try_from(s).map_err(|_| o)? as i64,
        op::CONV_OVF_U2 => u16::try_from(s).map_err(|_| o)? as i64,
        op::CONV_OVF_I4 => i32::try_from(s).map_err(|_| o)? as i64,
        op::CONV_OVF_U4 => u32::try_from(s).map_err(|_| o)? as i32 as i64,
        op::CONV_OVF_I8 | op::CONV_OVF_I => s,
        op::CONV_OVF_U8 | op::CONV_OVF_U => u64::try_from(s).map_err(|_| o)? as i64,
        op::CONV_OVF_I1_UN => i8::try_from(u).map_err(|_| o)? as i64,
        op::CONV_OVF_U1_UN => u8::try_from(u).map_err(|_| o)? as i64,
        op::CONV_OVF_I2_UN => i16::try_from(u).map_err(|_| o)? as i64,
        op::CONV_OVF_U2_UN => u16::try_from(u).map_err(|_| o)? as i64,
        op::CONV_OVF_I4_UN => i32::try_from(u).map_err(|_| o)? as i64,
        op::CONV_OVF_U4_UN => u32::try_from(u).map_err(|_| o)? as i32 as i64,
        op::CONV_OVF_I8_UN | op::CONV_OVF_I_UN => i64::try_from(u).map_err(|_| o)?,
        op::CONV_OVF_U8_UN | op::CONV_OVF_U_UN => u as i64,
        _ => unreachable!(),
    })
}

const CONVS: [u16; 32] = [
    op::CONV_I1,
    op::CONV_U1,
    op::CONV_I2,
    op::CONV_U2,
    op::CONV_I4,
    op::CONV_U4,
    op::CONV_I8,
    op::CONV_I,
    op::CONV_U8,
    op::CONV_U,
    op::CONV_OVF_I1,
    op::CONV_OVF_U1,
    op::CONV_OVF_I2,
    op::CONV_OVF_U2,
    op::CONV_OVF_I4,
    op::CONV_OVF_U4,
    op::CONV_OVF_I8,
    op::CONV_OVF_I,
    op::CONV_OVF_U8,
    op::CONV_OVF_U,
    op::CONV_OVF_I1_UN,
    op::CONV_OVF_U1_UN,
    op::CONV_OVF_I2_UN,
    op::CONV_OVF_U2_UN,
    op::CONV_OVF_I4_UN,
    op::CONV_OVF_U4_UN,
    op::CONV_OVF_I8_UN,
    op::CONV_OVF_I_UN,
    op::CONV_OVF_U8_UN,
    op::CONV_OVF_U_UN,
    op::CONV_I4,
    op::CONV_U8,
];

fn result_type(opc: u16) -> T {
    match opc {
        op::CONV_I8
        | op::CONV_U8
        | op::CONV_I
        | op::CONV_U
        | op::CONV_OVF_I8
        | op::CONV_OVF_I
        | op::CONV_OVF_U8
        | op::CONV_OVF_U
        | op::CONV_OVF_I8_UN
        | op::CONV_OVF_I_UN
        | op::CONV_OVF_U8_UN
        | op::CONV_OVF_U_UN => T::I8,
        _ => T::I4,
    }
}

#[test]
fn conversions_from_int32_and_int64() {
    let vals: [i64; 14] = [
        0,
        1,
        -1,
        127,
        128,
        -128,
        -129,
        255,
        256,
        65535,
        65536,
        i32::MAX as i64,
        i32::MIN as i64,
        0xFFFF_FFFF,
    ];
    for opc in CONVS {
        let rt = result_type(opc);
        let norm = |v: i64| if rt == T::I4 { v as i32 as i64 } else { v };
        for src32 in [true, false] {
            let st = if src32 { T::I4 } else { T::I8 };
            let f = jit1(&[st], &[], rt, Il::new().ldarg(0).op(opc).ret().build());
            for v in vals.iter().copied().chain(I64S) {
                let want = conv_ref(opc, v, src32).map(norm);
                let got = in_child(move || norm(call_i(f, &[v])));
                assert_eq!(
                    got,
                    want,
                    "{} of {v:#x} (src32={src32})",
                    jit::decoder::mnemonic(opc)
                );
            }
        }
    }
}

#[test]
fn deep_evaluation_stack() {
    // ((((a+1)*(a+2)) + ((a+3)*(a+4))) ... 24 live values at once: forces spills.
    let mut il = Il::new();
    for k in 0..24 {
        il = il.ldarg(0).i4(k).op(op::ADD);
    }
    for _ in 0..23 {
        il = il.op(op::XOR);
    }
    let f = jit1(&[T::I4], &[], T::I4, il.ret().build());
    for a in [0i32, 5, -77, 1 << 20] {
        let want = (0..24).map(|k| a.wrapping_add(k)).fold(0, |x, y| x ^ y);
        assert_eq!(call_i(f, &[a as i64]) as i32, want);
    }
}

#[test]
fn switch_dispatch() {
    let il = Il::new()
        .ldarg(0)
        .switch(&["a", "b", "c"])
        .i4(-1)
        .ret()
        .label("a")
        .i4(10)
        .ret()
        .label("b")
        .i4(20)
        .ret()
        .label("c")
        .i4(30)
        .ret()
        .build();
    let f = jit1(&[T::I4], &[], T::I4, il);
    for (x, want) in [(0, 10), (1, 20), (2, 30), (3, -1), (-1, -1), (100, -1)] {
        assert_eq!(call_i(f, &[x]) as i32, want);
    }
}

#[test]
fn native_int_and_pointer_arithmetic() {
    // conv.i of a negative int32 sign-extends; conv.u zero-extends (ProtonOS bug).
    let f = jit1(
        &[T::I4],
        &[],
        T::I,
        Il::new().ldarg(0).op(op::CONV_U).ret().build(),
    );
    assert_eq!(call_i(f, &[-1]), 0xFFFF_FFFF);
    let f = jit1(
        &[T::I4],
        &[],
        T::I,
        Il::new().ldarg(0).op(op::CONV_I).ret().build(),
    );
    assert_eq!(call_i(f, &[-1]), -1);
    // native int + int32 widens the int32 with its sign.
    let f = jit1(
        &[T::I, T::I4],
        &[],
        T::I,
        Il::new().ldarg(0).ldarg(1).op(op::ADD).ret().build(),
    );
    assert_eq!(call_i(f, &[1 << 40, -1]), (1 << 40) - 1);
}
