//! Arrays of every element kind, bounds/null checks, strings, statics with
//! class constructors, localloc, cpblk/initblk, indirect loads and stores.
mod common;
use common::*;
use jit::decoder::op;
use jit::host::{ClassInit, FieldInfo, JitType as T};

fn elem_ops(t: T) -> (u16, u16) {
    match t {
        T::I1 => (op::LDELEM_I1, op::STELEM_I1),
        T::U1 => (op::LDELEM_U1, op::STELEM_I1),
        T::I2 => (op::LDELEM_I2, op::STELEM_I2),
        T::U2 => (op::LDELEM_U2, op::STELEM_I2),
        T::I4 => (op::LDELEM_I4, op::STELEM_I4),
        T::U4 => (op::LDELEM_U4, op::STELEM_I4),
        T::I8 => (op::LDELEM_I8, op::STELEM_I8),
        T::I => (op::LDELEM_I, op::STELEM_I),
        _ => unreachable!(),
    }
}

#[test]
fn primitive_arrays_store_load_with_extension() {
    for t in [T::I1, T::U1, T::I2, T::U2, T::I4, T::U4, T::I8, T::I] {
        for generic in [false, true] {
            let mut h = FakeHost::new();
            h.types.insert(9, prim_type(t));
            let (ld, st) = elem_ops(t);
            let wide = matches!(t, T::I8 | T::I);
            // a = new T[n]; a[i] = v - i for all i; return a[k] (as int64)
            let mut il = Il::new()
                .ldarg(0)
                .tok(op::NEWARR, 9)
                .stloc(0)
                .i4(0)
                .stloc(1)
                .label("l")
                .ldloc(0)
                .ldloc(1)
                .ldarg(1)
                .ldloc(1);
            il = if wide {
                il.op(op::CONV_I8).op(op::SUB)
            } else {
                il.op(op::CONV_I8).op(op::SUB).op(op::CONV_I4)
            };
            il = if generic {
                il.tok(op::STELEM, 9)
            } else {
                il.op(st)
            };
            il = il
                .ldloc(1)
                .i4(1)
                .op(op::ADD)
                .stloc(1)
                .ldloc(1)
                .ldarg(0)
                .br(op::BLT, "l")
                .ldloc(0)
                .ldarg(2);
            il = if generic {
                il.tok(op::LDELEM, 9)
            } else {
                il.op(ld)
            };
            if !wide {
                il = il.op(if matches!(t, T::U4) {
                    op::CONV_U8
                } else {
                    op::CONV_I8
                });
            }
            h.def(
                1,
                def(
                    "T::m",
                    &[T::I4, T::I8, T::I4],
                    &[T::Obj, T::I4],
                    T::I8,
                    il.ret().build(),
                ),
            );
            let f = build(&mut h, 1);
            for v in [0i64, 300, -300, 0x1_0000_0005, -1] {
                for k in [0i64, 3, 9] {
                    let x = v - k;
                    let want = match t {
                        T::I1 => x as i8 as i64,
                        T::U1 => x as u8 as i64,
                        T::I2 => x as i16 as i64,
                        T::U2 => x as u16 as i64,
                        T::I4 => x as i32 as i64,
                        T::U4 => x as u32 as i64,
                        _ => x,
                    };
                    assert_eq!(
                        call_i(f, &[10, v, k]),
                        want,
                        "{t:?} v={v} k={k} generic={generic}"
                    );
                }
            }
        }
    }
}

#[test]
fn float_arrays() {
    let mut h = FakeHost::new();
    h.types.insert(9, prim_type(T::R4));
    h.types.insert(8, prim_type(T::R8));
    let il = Il::new()
        .i4(4)
        .tok(op::NEWARR, 9)
        .stloc(0)
        .i4(4)
        .tok(op::NEWARR, 8)
        .stloc(1)
        .ldloc(0)
        .i4(2)
        .r8(1.5)
        .op(op::STELEM_R4)
        .ldloc(1)
        .i4(3)
        .r8(0.1)
        .op(op::STELEM_R8)
        .ldloc(0)
        .i4(2)
        .op(op::LDELEM_R4)
        .ldloc(1)
        .i4(3)
        .op(op::LDELEM_R8)
        .op(op::ADD)
        .ret()
        .build();
    h.def(1, def("T::m", &[], &[T::Obj, T::Obj], T::R8, il));
    let f = build(&mut h, 1);
    assert_eq!(call_f(f, &[]), 1.5 + 0.1);
}

#[test]
fn bounds_and_null_checks() {
    let mut h = FakeHost::new();
    h.types.insert(9, prim_type(T::I4));
    let il = Il::new()
        .i4(5)
        .tok(op::NEWARR, 9)
        .ldarg(0)
        .op(op::LDELEM_I4)
        .ret()
        .build();
    h.def(1, def("T::get", &[T::I4], &[], T::I4, il));
    let il = Il::new()
        .i4(5)
        .tok(op::NEWARR, 9)
        .i4(5)
        .op(op::LDELEM_I4)
        .ret()
        .build();
    h.def(2, def("T::getconst", &[], &[], T::I4, il));
    let il = Il::new()
        .op(op::LDNULL)
        .op(op::LDLEN)
        .op(op::CONV_I4)
        .ret()
        .build();
    h.def(3, def("T::nulllen", &[], &[], T::I4, il));
    let il = Il::new()
        .ldarg(0)
        .tok(op::NEWARR, 9)
        .op(op::LDLEN)
        .op(op::CONV_I4)
        .ret()
        .build();
    h.def(4, def("T::newlen", &[T::I4], &[], T::I4, il));
    let built = h.build().unwrap();
    let (get, getc, nl, newlen) = (built[&1].0, built[&2].0, built[&3].0, built[&4].0);
    assert_eq!(in_child(move || call_i(get, &[4])), Ok(0));
    assert_eq!(in_child(move || call_i(get, &[5])), Err(2));
    assert_eq!(in_child(move || call_i(get, &[-1])), Err(2));
    assert_eq!(in_child(move || call_i(getc, &[])), Err(2));
    assert_eq!(in_child(move || call_i(nl, &[])), Err(1));
    assert_eq!(in_child(move || call_i(newlen, &[0]) as i32 as i64), Ok(0));
    assert_eq!(in_child(move || call_i(newlen, &[-1])), Err(4));
}

#[test]
fn statics_run_the_class_constructor_once() {
    let mut h = FakeHost::new();
    let storage = Box::leak(Box::new([0i64; 4])).as_mut_ptr() as u64;
    // .cctor: S = S + 5 (runs once); m(): S += 1; return S
    let f = 0x0400_0001;
    let rec = Box::leak(Box::new(CctorRec { flag: 1, cell: 0 }));
    let cell = h.def(
        2,
        def(
            ".cctor",
            &[],
            &[],
            T::Void,
            Il::new()
                .tok(op::LDSFLD, 0x0400_0002)
                .i8(5)
                .op(op::ADD)
                .tok(op::STSFLD, 0x0400_0002)
                .ret()
                .build(),
        ),
    );
    rec.cell = cell;
    let rec_addr = rec as *mut CctorRec as u64;
    h.fields.insert(
        f,
        FieldInfo {
            ty: T::I8,
            offset: 0,
            static_addr: Some(storage),
            class_init: Some(ClassInit {
                flag_addr: rec_addr,
                handle: rec_addr,
            }),
        },
    );
    h.fields.insert(
        0x0400_0002,
        FieldInfo {
            ty: T::I8,
            offset: 0,
            static_addr: Some(storage),
            class_init: None,
        },
    );
    let il = Il::new()
        .tok(op::LDSFLD, f)
        .i8(1)
        .op(op::ADD)
        .tok(op::STSFLD, f)
        .tok(op::LDSFLD, f)
        .ret()
        .build();
    h.def(1, def("T::m", &[], &[], T::I8, il));
    let m = build(&mut h, 1);
    assert_eq!(call_i(m, &[]), 6);
    assert_eq!(call_i(m, &[]), 7);
}

#[test]
fn strings_are_constants() {
    let mut h = FakeHost::new();
    h.strings.insert(0x7000_0001, 0xABCD_0000);
    h.def(
        1,
        def(
            "T::m",
            &[],
            &[],
            T::I,
            Il::new().tok(op::LDSTR, 0x7000_0001).ret().build(),
        ),
    );
    let f = build(&mut h, 1);
    assert_eq!(call_i(f, &[]), 0xABCD_0000);
}

#[test]
fn indirect_loads_and_stores_all_widths() {
    // *(T*)p = v; return *(T*)p (through a local's address and through raw memory).
    let cases: [(u16, u16, T, i64); 7] = [
        (op::STIND_I1, op::LDIND_I1, T::I4, -5),
        (op::STIND_I1, op::LDIND_U1, T::I4, 251),
        (op::STIND_I2, op::LDIND_I2, T::I4, -30000),
        (op::STIND_I2, op::LDIND_U2, T::I4, 40000),
        (op::STIND_I4, op::LDIND_I4, T::I4, -7),
        (op::STIND_I8, op::LDIND_I8, T::I8, 0x1234_5678_9ABC_DEF0),
        (op::STIND_I, op::LDIND_I, T::I8, -2),
    ];
    for (st, ld, ty, v) in cases {
        let buf = Box::leak(Box::new([0u8; 16])).as_mut_ptr() as i64;
        let il = Il::new()
            .ldarg(0)
            .ldarg(1)
            .op(st)
            .ldarg(0)
            .op(ld)
            .ret()
            .build();
        let f = jit1(&[T::I, ty], &[], ty, il);
        let got = call_i(f, &[buf, v]);
        let got = if ty == T::I4 { got as i32 as i64 } else { got };
        let want = match ld {
            op::LDIND_I1 => v as i8 as i64,
            op::LDIND_U1 => v as u8 as i64,
            op::LDIND_I2 => v as i16 as i64,
            op::LDIND_U2 => v as u16 as i64,
            op::LDIND_I4 => v as i32 as i64,
            _ => v,
        };
        assert_eq!(got, want, "{}", jit::decoder::mnemonic(ld));
    }
}

#[test]
fn localloc_cpblk_initblk() {
    // p = localloc(n); initblk(p, 7, n); q = localloc(n); cpblk(q, p, n); sum q[i]
    let il = Il::new()
        .ldarg(0)
        .op(op::LOCALLOC)
        .stloc(0)
        .ldloc(0)
        .i4(7)
        .ldarg(0)
        .op(op::INITBLK)
        .ldarg(0)
        .op(op::LOCALLOC)
        .stloc(1)
        .ldloc(1)
        .ldloc(0)
        .ldarg(0)
        .op(op::CPBLK)
        .i4(0)
        .stloc(2)
        .i4(0)
        .stloc(3)
        .br(op::BR, "c")
        .label("b")
        .ldloc(2)
        .ldloc(1)
        .ldloc(3)
        .op(op::ADD)
        .op(op::LDIND_U1)
        .op(op::ADD)
        .stloc(2)
        .ldloc(3)
        .i4(1)
        .op(op::ADD)
        .stloc(3)
        .label("c")
        .ldloc(3)
        .ldarg(0)
        .br(op::BLT, "b")
        .ldloc(2)
        .ret()
        .build();
    let f = jit1(&[T::I4], &[T::I, T::I, T::I4, T::I4], T::I4, il);
    for n in [1i64, 15, 16, 100, 1000] {
        assert_eq!(call_i(f, &[n]) as i32 as i64, 7 * n);
    }
}
