//! float32/float64 with SSE2: arithmetic, comparisons incl. NaN, conversions both
//! ways, float32 rounding, ckfinite.
#![allow(clippy::neg_cmp_op_on_partial_ord)]
#![allow(clippy::type_complexity)]
mod common;
use common::*;
use jit::decoder::op;
use jit::host::JitType as T;

const VALS: [f64; 9] = [
    0.0,
    -0.0,
    1.5,
    -2.25,
    1e300,
    -1e-300,
    f64::NAN,
    f64::INFINITY,
    3.0,
];

#[test]
fn binary_ops() {
    for (opc, f) in [
        (op::ADD, (|a, b| a + b) as fn(f64, f64) -> f64),
        (op::SUB, |a, b| a - b),
        (op::MUL, |a, b| a * b),
        (op::DIV, |a, b| a / b),
        (op::REM, |a, b| a % b),
    ] {
        let g = jit1(
            &[T::R8, T::R8],
            &[],
            T::R8,
            Il::new().ldarg(0).ldarg(1).op(opc).ret().build(),
        );
        for a in VALS {
            for b in VALS {
                let (want, got) = (f(a, b), call_f(g, &[a, b]));
                assert!(
                    want.to_bits() == got.to_bits() || (want.is_nan() && got.is_nan()),
                    "{a} {b}"
                );
            }
        }
    }
}

#[test]
fn comparisons_with_nan() {
    let cases: [(u16, fn(f64, f64) -> bool); 5] = [
        (op::CEQ, |a, b| a == b),
        (op::CGT, |a, b| a > b),
        (op::CLT, |a, b| a < b),
        (op::CGT_UN, |a, b| !(a <= b)),
        (op::CLT_UN, |a, b| !(a >= b)),
    ];
    for (opc, f) in cases {
        let g = jit1(
            &[T::R8, T::R8],
            &[],
            T::I4,
            Il::new().ldarg(0).ldarg(1).op(opc).ret().build(),
        );
        for a in VALS {
            for b in VALS {
                // SAFETY: g takes two doubles and returns int32.
                let h: extern "C" fn(f64, f64) -> i32 = unsafe { std::mem::transmute(g) };
                assert_eq!(
                    h(a, b),
                    f(a, b) as i32,
                    "{} {a} {b}",
                    jit::decoder::mnemonic(opc)
                );
            }
        }
    }
    let branches: [(u16, fn(f64, f64) -> bool); 10] = [
        (op::BEQ, |a, b| a == b),
        (op::BNE_UN, |a, b| a != b),
        (op::BGE, |a, b| a >= b),
        (op::BGT, |a, b| a > b),
        (op::BLE, |a, b| a <= b),
        (op::BLT, |a, b| a < b),
        (op::BGE_UN, |a, b| !(a < b)),
        (op::BGT_UN, |a, b| !(a <= b)),
        (op::BLE_UN, |a, b| !(a > b)),
        (op::BLT_UN, |a, b| !(a >= b)),
    ];
    for (opc, f) in branches {
        let il = Il::new()
            .ldarg(0)
            .ldarg(1)
            .br(opc, "y")
            .i4(0)
            .ret()
            .label("y")
            .i4(1)
            .ret()
            .build();
        let g = jit1(&[T::R8, T::R8], &[], T::I4, il);
        // SAFETY: as above.
        let h: extern "C" fn(f64, f64) -> i32 = unsafe { std::mem::transmute(g) };
        for a in VALS {
            for b in VALS {
                assert_eq!(
                    h(a, b),
                    f(a, b) as i32,
                    "{} {a} {b}",
                    jit::decoder::mnemonic(opc)
                );
            }
        }
    }
}

#[test]
fn conversions() {
    for v in [
        0i64,
        1,
        -1,
        i32::MAX as i64,
        i32::MIN as i64,
        i64::MAX,
        i64::MIN,
        1 << 53,
        (1 << 53) + 1,
    ] {
        let g = jit1(
            &[T::I8],
            &[],
            T::R8,
            Il::new().ldarg(0).op(op::CONV_R8).ret().build(),
        );
        assert_eq!(call_i_f(g, v), v as f64);
        let g = jit1(
            &[T::I8],
            &[],
            T::R8,
            Il::new().ldarg(0).op(op::CONV_R4).ret().build(),
        );
        assert_eq!(call_i_f(g, v), v as f32 as f64);
        let g = jit1(
            &[T::I8],
            &[],
            T::R8,
            Il::new().ldarg(0).op(op::CONV_R_UN).ret().build(),
        );
        assert_eq!(call_i_f(g, v), v as u64 as f64, "conv.r.un {v}");
        let g = jit1(
            &[T::I4],
            &[],
            T::R8,
            Il::new().ldarg(0).op(op::CONV_R_UN).ret().build(),
        );
        assert_eq!(call_i_f(g, v), v as u32 as f64, "conv.r.un i4 {v}");
    }
    for x in [
        0.0f64,
        1.9,
        -1.9,
        2147483647.0,
        -2147483648.0,
        1e10,
        -1e10,
        9.3e18,
        1.8e19,
        255.5,
    ] {
        let g = jit1(
            &[T::R8],
            &[],
            T::I8,
            Il::new().ldarg(0).op(op::CONV_I8).ret().build(),
        );
        if x.abs() < 9.2e18 {
            assert_eq!(call_f_i(g, x), x as i64);
        }
        let g = jit1(
            &[T::R8],
            &[],
            T::I8,
            Il::new().ldarg(0).op(op::CONV_U8).ret().build(),
        );
        if (0.0..1.8e19).contains(&x) {
            assert_eq!(call_f_i(g, x) as u64, x as u64, "conv.u8 {x}");
        }
        let g = jit1(
            &[T::R8],
            &[],
            T::I4,
            Il::new().ldarg(0).op(op::CONV_OVF_I4).ret().build(),
        );
        let want = if x.trunc() >= i32::MIN as f64 && x.trunc() <= i32::MAX as f64 {
            Ok(x as i32 as i64)
        } else {
            Err(4)
        };
        assert_eq!(
            in_child(move || call_f_i(g, x) as i32 as i64),
            want,
            "conv.ovf.i4 {x}"
        );
        let g = jit1(
            &[T::R8],
            &[],
            T::I4,
            Il::new().ldarg(0).op(op::CONV_OVF_U1).ret().build(),
        );
        let want = if x.trunc() >= 0.0 && x.trunc() <= 255.0 {
            Ok(x as u8 as i64)
        } else {
            Err(4)
        };
        assert_eq!(
            in_child(move || call_f_i(g, x) as i32 as i64),
            want,
            "conv.ovf.u1 {x}"
        );
        let g = jit1(
            &[T::R8],
            &[],
            T::I8,
            Il::new().ldarg(0).op(op::CONV_OVF_U8).ret().build(),
        );
        let want = if x.trunc() >= 0.0 && x < 18446744073709551616.0 {
            Ok(x as u64 as i64)
        } else {
            Err(4)
        };
        assert_eq!(in_child(move || call_f_i(g, x)), want, "conv.ovf.u8 {x}");
    }
    let g = jit1(
        &[T::R8],
        &[],
        T::I4,
        Il::new().ldarg(0).op(op::CONV_OVF_I4).ret().build(),
    );
    assert_eq!(in_child(move || call_f_i(g, f64::NAN)), Err(4));
}

#[test]
fn float32_locals_round() {
    // float f = (float)x; return f * 3 (computed in double, rounded on store)
    let il = Il::new()
        .ldarg(0)
        .stloc(0)
        .ldloc(0)
        .r4(3.0)
        .op(op::MUL)
        .op(op::CONV_R4)
        .ret()
        .build();
    let g = jit1(&[T::R8], &[T::R4], T::R4, il);
    // SAFETY: g takes a double, returns float32 in xmm0.
    let h: extern "C" fn(f64) -> f32 = unsafe { std::mem::transmute(g) };
    for x in [0.1f64, 1.0 / 3.0, 16777217.0, -2.5] {
        assert_eq!(h(x), (x as f32) * 3.0);
    }
}

#[test]
fn ckfinite_and_neg() {
    let g = jit1(
        &[T::R8],
        &[],
        T::R8,
        Il::new()
            .ldarg(0)
            .op(op::CKFINITE)
            .op(op::NEG)
            .ret()
            .build(),
    );
    assert_eq!(call_f(g, &[2.0]), -2.0);
    assert_eq!(in_child(move || call_f(g, &[f64::INFINITY]) as i64), Err(7));
    assert_eq!(in_child(move || call_f(g, &[f64::NAN]) as i64), Err(7));
}

fn call_i_f(addr: u64, v: i64) -> f64 {
    // SAFETY: JIT function taking one integer, returning a double.
    let f: extern "C" fn(i64) -> f64 = unsafe { std::mem::transmute(addr) };
    f(v)
}
fn call_f_i(addr: u64, v: f64) -> i64 {
    // SAFETY: JIT function taking one double, returning an integer.
    let f: extern "C" fn(f64) -> i64 = unsafe { std::mem::transmute(addr) };
    f(v)
}
