//! Value types of odd sizes (3, 5, 12, 24, 40 bytes): locals, fields on values,
//! pointers and objects, by-value arguments and results, arrays of structs in both
//! the `ldelema + ldobj/stobj` (mcs) and `ldelem/stelem <T>` forms, instance
//! methods on value types. Seed bugs 1–5 live here.
mod common;
use common::*;
use jit::decoder::op;
use jit::host::{FieldInfo, JitType as T};

/// A struct layout with `n` fields of type `ft`, packed.
struct Shape {
    ty: T,
    field_ty: T,
    fields: Vec<u32>, // field tokens
}

const TY_TOK: u32 = 0x0200_0001;

fn shape(h: &mut FakeHost, size: u32) -> Shape {
    let (field_ty, n) = match size {
        3 => (T::U1, 3),
        5 => (T::U1, 5),
        12 => (T::I4, 3),
        // Powers of two above 8: element addresses scale by a shift.
        16 => (T::I4, 4),
        24 => (T::I8, 3),
        32 => (T::I8, 4),
        40 => (T::I8, 5),
        _ => unreachable!(),
    };
    let align = field_ty.size();
    let ty = struct_ty(size, align);
    let mut fields = Vec::new();
    for k in 0..n {
        let tok = 0x0400_0001 + k;
        h.fields.insert(
            tok,
            FieldInfo {
                ty: field_ty,
                offset: k * field_ty.size(),
                static_addr: None,
                class_init: None,
            },
        );
        fields.push(tok);
    }
    h.types.insert(TY_TOK, struct_info(ty));
    Shape {
        ty,
        field_ty,
        fields,
    }
}

const SIZES: [u32; 7] = [3, 5, 12, 16, 24, 32, 40];

fn fill_local(mut il: Il, s: &Shape, local: u16, base: i32) -> Il {
    for (k, f) in s.fields.iter().enumerate() {
        il = il.ldloca(local).i4(base + k as i32 + 1);
        if s.field_ty == T::I8 {
            il = il.op(op::CONV_I8);
        }
        il = il.tok(op::STFLD, *f);
    }
    il
}

/// Sums the fields of the struct value produced by `load` (an int32 result).
fn sum_fields(mut il: Il, s: &Shape, load: impl Fn(Il) -> Il) -> Il {
    il = il.i4(0);
    for f in &s.fields {
        il = load(il).tok(op::LDFLD, *f);
        if s.field_ty == T::I8 {
            il = il.op(op::CONV_I4);
        }
        il = il.op(op::ADD);
    }
    il
}

fn expected(s: &Shape, base: i32) -> i32 {
    (0..s.fields.len() as i32).map(|k| base + k + 1).sum()
}

#[test]
fn seed_bug5_ldfld_on_struct_value_from_ldloc() {
    for size in SIZES {
        let mut h = FakeHost::new();
        let s = shape(&mut h, size);
        let il = fill_local(Il::new(), &s, 0, 0);
        // ldloc s; ldfld f — the value, not an address.
        let il = sum_fields(il, &s, |il| il.ldloc(0)).ret().build();
        h.def(1, def("T::m", &[], &[s.ty], T::I4, il));
        let f = build(&mut h, 1);
        assert_eq!(call_i(f, &[]) as i32, expected(&s, 0), "size {size}");
    }
}

#[test]
fn ldfld_through_pointer_and_from_copied_value() {
    for size in SIZES {
        let mut h = FakeHost::new();
        let s = shape(&mut h, size);
        // s1 filled; s2 = s1 (ldloc/stloc copy); modify s1; read s2 through ldloca.
        let mut il = fill_local(Il::new(), &s, 0, 10).ldloc(0).stloc(1);
        il = fill_local(il, &s, 0, 50);
        let il = sum_fields(il, &s, |il| il.ldloca(1)).ret().build();
        h.def(1, def("T::m", &[], &[s.ty, s.ty], T::I4, il));
        let f = build(&mut h, 1);
        assert_eq!(call_i(f, &[]) as i32, expected(&s, 10), "size {size}");
    }
}

#[test]
fn structs_by_value_in_and_out() {
    for size in SIZES {
        let mut h = FakeHost::new();
        let s = shape(&mut h, size);
        // callee(int a, S x, int b, S y): modifies x (its copy), returns sum(x)+sum(y)+a*b
        let mut callee = Il::new();
        callee = callee.ldarga(1).i4(100);
        if s.field_ty == T::I8 {
            callee = callee.op(op::CONV_I8);
        }
        callee = callee.tok(op::STFLD, s.fields[0]);
        let callee = sum_fields(callee, &s, |il| il.ldarg(1));
        let callee = sum_fields(callee, &s, |il| il.ldarg(3))
            .op(op::ADD)
            .ldarg(0)
            .ldarg(2)
            .op(op::MUL)
            .op(op::ADD)
            .ret()
            .build();
        h.def(
            2,
            def("T::callee", &[T::I4, s.ty, T::I4, s.ty], &[], T::I4, callee),
        );
        // make(int base) returns S by value
        let make = fill_local(Il::new(), &s, 0, 0);
        let make = make.ldloc(0).ret().build();
        h.def(3, def("T::make", &[T::I4], &[s.ty], s.ty, make));
        // caller: s0 = make(); s1 filled base 20; r = callee(3, s0, 4, s1); return r*1000 + sum(s0) (unchanged)
        let caller = fill_local(Il::new(), &s, 1, 20)
            .i4(0)
            .tok(op::CALL, 3)
            .stloc(0)
            .i4(3)
            .ldloc(0)
            .i4(4)
            .ldloc(1)
            .tok(op::CALL, 2)
            .i4(1000)
            .op(op::MUL);
        let caller = sum_fields(caller, &s, |il| il.ldloc(0))
            .op(op::ADD)
            .ret()
            .build();
        h.def(1, def("T::caller", &[], &[s.ty, s.ty], T::I4, caller));
        let f = build(&mut h, 1);
        let first = match s.field_ty {
            T::U1 => 100,
            _ => 100,
        };
        let sum_x = expected(&s, 0) - 1 + first;
        let want = (sum_x + expected(&s, 20) + 12) * 1000 + expected(&s, 0);
        assert_eq!(call_i(f, &[]) as i32, want, "size {size}");
    }
}

#[test]
fn seed_bug1_arrays_of_structs_both_forms() {
    for size in SIZES {
        for mcs_form in [true, false] {
            let mut h = FakeHost::new();
            let s = shape(&mut h, size);
            // arr = new S[7]; for i in 0..7: tmp.f0 = i+1 (others base); arr[i] = tmp; sum arr[i].f_last
            let last = *s.fields.last().unwrap();
            let store = |il: Il| {
                if mcs_form {
                    il.ldloc(0)
                        .ldloc(1)
                        .tok(op::LDELEMA, TY_TOK)
                        .ldloc(2)
                        .tok(op::STOBJ, TY_TOK)
                } else {
                    il.ldloc(0).ldloc(1).ldloc(2).tok(op::STELEM, TY_TOK)
                }
            };
            let load = |il: Il| {
                if mcs_form {
                    il.ldloc(0)
                        .ldloc(1)
                        .tok(op::LDELEMA, TY_TOK)
                        .tok(op::LDOBJ, TY_TOK)
                } else {
                    il.ldloc(0).ldloc(1).tok(op::LDELEM, TY_TOK)
                }
            };
            let conv = |il: Il| {
                if s.field_ty == T::I8 {
                    il.op(op::CONV_I8)
                } else {
                    il
                }
            };
            let conv4 = |il: Il| {
                if s.field_ty == T::I8 {
                    il.op(op::CONV_I4)
                } else {
                    il
                }
            };
            let mut il = Il::new()
                .i4(7)
                .tok(op::NEWARR, TY_TOK)
                .stloc(0)
                .i4(0)
                .stloc(1)
                .label("fill");
            il = conv(il.ldloca(2).ldloc(1).i4(1).op(op::ADD)).tok(op::STFLD, last);
            il = store(il)
                .ldloc(1)
                .i4(1)
                .op(op::ADD)
                .stloc(1)
                .ldloc(1)
                .i4(7)
                .br(op::BLT, "fill");
            il = il.i4(0).stloc(3).i4(0).stloc(1).label("sum").ldloc(3);
            il = conv4(load(il).tok(op::LDFLD, last)).op(op::ADD).stloc(3);
            il = il
                .ldloc(1)
                .i4(1)
                .op(op::ADD)
                .stloc(1)
                .ldloc(1)
                .i4(7)
                .br(op::BLT, "sum");
            il = il
                .ldloc(0)
                .op(op::LDLEN)
                .op(op::CONV_I4)
                .i4(1000)
                .op(op::MUL)
                .ldloc(3)
                .op(op::ADD)
                .ret();
            h.def(
                1,
                def(
                    "T::m",
                    &[],
                    &[T::Obj, T::I4, s.ty, T::I4],
                    T::I4,
                    il.build(),
                ),
            );
            let f = build(&mut h, 1);
            assert_eq!(
                call_i(f, &[]) as i32,
                7000 + 28,
                "size {size} mcs_form {mcs_form}"
            );
        }
    }
}

#[test]
fn seed_bug2_3_instance_method_on_value_type() {
    for size in SIZES {
        let mut h = FakeHost::new();
        let s = shape(&mut h, size);
        let last = *s.fields.last().unwrap();
        // S::Bump(this S&, int k): this.last += k; returns this.f0
        let conv = |il: Il| {
            if s.field_ty == T::I8 {
                il.op(op::CONV_I8)
            } else {
                il
            }
        };
        let mut bump = Il::new().ldarg(0).ldarg(0).tok(op::LDFLD, last);
        bump = conv(bump.ldarg(1))
            .op(op::ADD)
            .tok(op::STFLD, last)
            .ldarg(0)
            .tok(op::LDFLD, s.fields[0]);
        if s.field_ty == T::I8 {
            bump = bump.op(op::CONV_I4);
        }
        let mut d = def(
            "S::Bump",
            &[T::ByRef, T::I4],
            &[],
            T::I4,
            bump.ret().build(),
        );
        d.has_this = true;
        d.this_type = T::ByRef;
        h.def(2, d);
        let il = fill_local(Il::new(), &s, 0, 0)
            .ldloca(0)
            .i4(40)
            .tok(op::CALL, 2)
            .op(op::POP)
            .ldloc(0)
            .tok(op::LDFLD, last);
        let il = if s.field_ty == T::I8 {
            il.op(op::CONV_I4)
        } else {
            il
        };
        h.def(1, def("T::m", &[], &[s.ty], T::I4, il.ret().build()));
        let f = build(&mut h, 1);
        assert_eq!(
            call_i(f, &[]) as i32,
            s.fields.len() as i32 + 40,
            "size {size}"
        );
    }
}

#[test]
fn protonos_dup_initobj_keeps_stack_depth() {
    let mut h = FakeHost::new();
    let s = shape(&mut h, 12);
    let il = fill_local(Il::new(), &s, 0, 5)
        .ldloca(0)
        .op(op::DUP)
        .tok(op::INITOBJ, TY_TOK)
        .i4(9)
        .tok(op::STFLD, s.fields[0]);
    let il = sum_fields(il, &s, |il| il.ldloc(0)).ret().build();
    h.def(1, def("T::m", &[], &[s.ty], T::I4, il));
    let f = build(&mut h, 1);
    assert_eq!(call_i(f, &[]) as i32, 9);
}

#[test]
fn protonos_32_byte_struct_field_store_does_not_overrun() {
    // A class with [int guard0][32-byte struct][int guard1]: storing the struct
    // field must write exactly 32 bytes (the ProtonOS 32-byte field bug).
    for size in [3u32, 5, 12, 24, 32, 40] {
        let mut h = FakeHost::new();
        let sty = struct_ty(size, 1);
        h.types.insert(TY_TOK, struct_info(sty));
        let obj_mt = new_mt(8 + 8 + 48 + 8, 0, 0);
        let obj_ty = jit::host::TypeInfo {
            ty: T::Obj,
            is_value_type: false,
            handle: obj_mt,
            array_handle: 0,
        };
        h.types.insert(0x0200_0002, obj_ty);
        let g0 = 0x0400_0010;
        let sf = 0x0400_0011;
        let g1 = 0x0400_0012;
        h.fields.insert(
            g0,
            FieldInfo {
                ty: T::I4,
                offset: 8,
                static_addr: None,
                class_init: None,
            },
        );
        h.fields.insert(
            sf,
            FieldInfo {
                ty: sty,
                offset: 16,
                static_addr: None,
                class_init: None,
            },
        );
        h.fields.insert(
            g1,
            FieldInfo {
                ty: T::I4,
                offset: 16 + size,
                static_addr: None,
                class_init: None,
            },
        );
        // ctor-less object: newobj needs a ctor; use a trivial one.
        let mut ctor = def(".ctor", &[T::Obj], &[], T::Void, Il::new().ret().build());
        ctor.has_this = true;
        h.def(5, ctor);
        let mut ci = h.methods[&5].clone();
        ci.owner = Some(obj_ty);
        h.methods.insert(5, ci);
        // o.g0 = 0x11111111; o.g1 = 0x22222222; local s = bytes all 0xFF via initblk; o.sf = s;
        let il = Il::new()
            .tok(op::NEWOBJ, 5)
            .stloc(0)
            .ldloc(0)
            .i4(0x1111_1111)
            .tok(op::STFLD, g0)
            .ldloc(0)
            .i4(0x2222_2222)
            .tok(op::STFLD, g1)
            .ldloca(1)
            .i4(0xFF)
            .i4(size as i32)
            .op(op::INITBLK)
            .ldloc(0)
            .ldloc(1)
            .tok(op::STFLD, sf)
            .ldloc(0)
            .tok(op::LDFLD, g0)
            .ldloc(0)
            .tok(op::LDFLD, g1)
            .op(op::XOR)
            .ret()
            .build();
        h.def(1, def("T::m", &[], &[T::Obj, sty], T::I4, il));
        let f = build(&mut h, 1);
        assert_eq!(
            call_i(f, &[]) as i32,
            0x1111_1111 ^ 0x2222_2222,
            "size {size}"
        );
    }
}

#[test]
fn newobj_value_type_and_struct_in_struct() {
    let mut h = FakeHost::new();
    let s = shape(&mut h, 24);
    // S::.ctor(this S&, long a): this.f0 = a; this.f2 = a * 2
    let ctor = Il::new()
        .ldarg(0)
        .ldarg(1)
        .tok(op::STFLD, s.fields[0])
        .ldarg(0)
        .ldarg(1)
        .i4(2)
        .op(op::CONV_I8)
        .op(op::MUL)
        .tok(op::STFLD, s.fields[2])
        .ret()
        .build();
    let mut d = def("S::.ctor", &[T::ByRef, T::I8], &[], T::Void, ctor);
    d.has_this = true;
    d.this_type = T::ByRef;
    h.def(2, d);
    let mut ci = h.methods[&2].clone();
    ci.owner = Some(struct_info(s.ty));
    h.methods.insert(2, ci);
    let il = Il::new()
        .i8(21)
        .tok(op::NEWOBJ, 2)
        .stloc(0)
        .ldloc(0)
        .tok(op::LDFLD, s.fields[2])
        .ldloc(0)
        .tok(op::LDFLD, s.fields[1])
        .op(op::ADD)
        .ldloc(0)
        .tok(op::LDFLD, s.fields[0])
        .op(op::ADD)
        .op(op::CONV_I4)
        .ret()
        .build();
    h.def(1, def("T::m", &[], &[s.ty], T::I4, il));
    let f = build(&mut h, 1);
    assert_eq!(call_i(f, &[]) as i32, 63);
}

#[test]
fn sizeof_cpobj_initobj() {
    for size in SIZES {
        let mut h = FakeHost::new();
        let s = shape(&mut h, size);
        let il = fill_local(Il::new(), &s, 0, 3)
            .ldloca(1)
            .ldloca(0)
            .tok(op::CPOBJ, TY_TOK)
            .ldloca(0)
            .tok(op::INITOBJ, TY_TOK);
        let il = sum_fields(il, &s, |il| il.ldloc(1));
        let il = sum_fields(il, &s, |il| il.ldloc(0))
            .op(op::ADD)
            .tok(op::SIZEOF, TY_TOK)
            .i4(1000)
            .op(op::MUL)
            .op(op::ADD)
            .ret()
            .build();
        h.def(1, def("T::m", &[], &[s.ty, s.ty], T::I4, il));
        let f = build(&mut h, 1);
        assert_eq!(
            call_i(f, &[]) as i32,
            size as i32 * 1000 + expected(&s, 3),
            "size {size}"
        );
    }
}
