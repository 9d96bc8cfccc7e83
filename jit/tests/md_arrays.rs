//! Multi-dimensional array methods (`CallTarget::MdArray`, ECMA-335 §II.14.2)
//! lowered inline: `Get`/`Set`/`Address` over a hand-built array with lengths and
//! lower bounds, per-dimension bounds checks, struct and float elements, and the
//! errors bad IL gets (an array method reached by `ldftn`, a short stack).
mod common;
use common::*;
use jit::decoder::op;
use jit::host::{
    CallConv, CallInfo, CallTarget, JitType as T, MdArrayMethod, MdArrayOp, MethodSig,
};

const LENGTHS: i32 = 24;

/// A fake `T[d0, d1]` (8-byte words): header, MT, total, lengths, lower bounds,
/// then the elements (row-major, `elem` bytes each).
fn array(d: [u64; 2], lb: [i64; 2], elem: usize) -> Vec<u64> {
    let total = d[0] * d[1];
    let mut v = vec![0u64, 0, total, d[0], d[1], lb[0] as u64, lb[1] as u64];
    v.resize(7 + (total as usize * elem).div_ceil(8), 0);
    v
}

fn data(rank: u32) -> i32 {
    LENGTHS + 16 * rank as i32
}

fn md(op: MdArrayOp, elem: T) -> MdArrayMethod {
    MdArrayMethod {
        op,
        rank: 2,
        elem,
        handle: 0,
        lengths_offset: LENGTHS,
        data_offset: data(2),
    }
}

fn method(h: &mut FakeHost, tok: u32, op: MdArrayOp, elem: T) {
    let (params, ret) = match op {
        MdArrayOp::Get => (vec![T::I4, T::I4], elem),
        MdArrayOp::Set => (vec![T::I4, T::I4, elem], T::Void),
        MdArrayOp::Address => (vec![T::I4, T::I4], T::ByRef),
        MdArrayOp::Ctor => (vec![T::I4, T::I4], T::Void),
    };
    h.methods.insert(
        tok,
        CallInfo {
            sig: MethodSig {
                has_this: true,
                this_type: T::Obj,
                params: params.into(),
                ret,
                conv: CallConv::Managed,
            },
            target: CallTarget::MdArray(md(op, elem)),
            callee: tok as u64,
            owner: None,
        },
    );
}

/// m(arr, i, j) = arr.Get(i, j) for int32 elements.
fn getter() -> u64 {
    let mut h = FakeHost::new();
    method(&mut h, 10, MdArrayOp::Get, T::I4);
    let il = Il::new().ldarg(0).ldarg(1).ldarg(2).tok(op::CALL, 10).ret();
    h.def(
        1,
        def("T::get", &[T::Obj, T::I4, T::I4], &[], T::I4, il.build()),
    );
    build(&mut h, 1)
}

#[test]
fn get_reads_row_major_with_lower_bounds() {
    let f = getter();
    let mut a = array([3, 4], [0, 0], 4);
    let p = a.as_mut_ptr() as *mut u8;
    for k in 0..12usize {
        // SAFETY: the element area holds 12 int32 values from data(2).
        unsafe { *(p.add(data(2) as usize + 4 * k) as *mut i32) = k as i32 * 10 };
    }
    let arr = a.as_ptr() as i64;
    assert_eq!(call_i(f, &[arr, 2, 3]) as i32, 110);
    assert_eq!(call_i(f, &[arr, 1, 0]) as i32, 40);
    let mut b = array([2, 2], [5, -1], 4);
    let q = b.as_mut_ptr() as *mut u8;
    // SAFETY: element [1, 0] (relative) of the 2x2 int32 array.
    unsafe { *(q.add(data(2) as usize + 8) as *mut i32) = 77 };
    assert_eq!(call_i(f, &[b.as_ptr() as i64, 6, -1]) as i32, 77);
}

#[test]
fn each_dimension_is_bounds_checked() {
    let f = getter();
    let a = array([2, 3], [0, 0], 4);
    let arr = a.as_ptr() as i64;
    // IndexOutOfRange is fail code 2; [0, 3] must not wrap into row 1.
    for (i, j) in [(2, 0), (0, 3), (-1, 0), (0, -1), (i32::MIN as i64, 0)] {
        assert_eq!(
            in_child(move || call_i(f, &[arr, i, j])),
            Err(2),
            "[{i}, {j}]"
        );
    }
    let b = array([2, 2], [5, 0], 4);
    let arr = b.as_ptr() as i64;
    assert_eq!(in_child(move || call_i(f, &[arr, 4, 0])), Err(2));
    assert_eq!(in_child(move || call_i(f, &[arr, 7, 0])), Err(2));
    // A null array is a NullReferenceException (code 1).
    assert_eq!(in_child(move || call_i(f, &[0, 0, 0])), Err(1));
}

#[test]
fn set_and_address_store_elements() {
    let mut h = FakeHost::new();
    method(&mut h, 11, MdArrayOp::Set, T::I8);
    method(&mut h, 12, MdArrayOp::Address, T::I8);
    let set = Il::new()
        .ldarg(0)
        .ldarg(1)
        .ldarg(2)
        .ldarg(3)
        .tok(op::CALL, 11)
        .ret();
    h.def(
        1,
        def(
            "T::set",
            &[T::Obj, T::I4, T::I4, T::I8],
            &[],
            T::Void,
            set.build(),
        ),
    );
    let addr = Il::new()
        .ldarg(0)
        .ldarg(1)
        .ldarg(2)
        .tok(op::CALL, 12)
        .i8(-5)
        .op(op::STIND_I8)
        .ret();
    h.def(
        2,
        def(
            "T::addr",
            &[T::Obj, T::I4, T::I4],
            &[],
            T::Void,
            addr.build(),
        ),
    );
    let built = h.build().expect("compile");
    let (fs, fa) = (built[&1].0, built[&2].0);
    let mut a = array([2, 3], [0, 0], 8);
    let arr = a.as_mut_ptr() as i64;
    call_i(fs, &[arr, 1, 2, 1 << 40]);
    call_i(fa, &[arr, 0, 1]);
    let at = |k: usize| a[7 + k] as i64;
    assert_eq!(at(5), 1 << 40);
    assert_eq!(at(1), -5);
    assert_eq!((0..6).filter(|k| at(*k) != 0).count(), 2);
    assert_eq!(in_child(move || call_i(fs, &[arr, 1, 3, 0])), Err(2));
}

#[test]
fn struct_and_double_elements() {
    let mut h = FakeHost::new();
    let st = struct_ty(12, 4);
    method(&mut h, 10, MdArrayOp::Get, st);
    method(&mut h, 11, MdArrayOp::Get, T::R8);
    // Read field at offset 8 of the 12-byte struct element.
    h.fields.insert(
        50,
        jit::host::FieldInfo {
            ty: T::I4,
            offset: 8,
            static_addr: None,
            class_init: None,
        },
    );
    let gs = Il::new()
        .ldarg(0)
        .ldarg(1)
        .ldarg(2)
        .tok(op::CALL, 10)
        .tok(op::LDFLD, 50)
        .ret();
    h.def(
        1,
        def("T::gs", &[T::Obj, T::I4, T::I4], &[], T::I4, gs.build()),
    );
    let gd = Il::new().ldarg(0).ldarg(1).ldarg(2).tok(op::CALL, 11).ret();
    h.def(
        2,
        def("T::gd", &[T::Obj, T::I4, T::I4], &[], T::R8, gd.build()),
    );
    let built = h.build().expect("compile");
    let mut a = array([2, 2], [0, 0], 12);
    let p = a.as_mut_ptr() as *mut u8;
    // SAFETY: element [1, 1] (index 3, 12 bytes each) field at +8.
    unsafe { *(p.add(data(2) as usize + 3 * 12 + 8) as *mut i32) = 31 };
    assert_eq!(call_i(built[&1].0, &[a.as_ptr() as i64, 1, 1]) as i32, 31);
    let mut d = array([2, 2], [0, 0], 8);
    d[7 + 2] = 2.5f64.to_bits();
    let f: extern "C" fn(i64, i32, i32) -> f64 =
        // SAFETY: built[&2] is JIT code with this SysV signature.
        unsafe { std::mem::transmute(built[&2].0) };
    assert_eq!(f(d.as_ptr() as i64, 1, 0), 2.5);
}

#[test]
fn bad_il_is_an_error_not_a_panic() {
    // ldftn of an array method.
    let mut h = FakeHost::new();
    method(&mut h, 10, MdArrayOp::Get, T::I4);
    let il = Il::new().tok(op::LDFTN, 10).op(op::POP).ret();
    h.def(1, def("T::ftn", &[], &[], T::Void, il.build()));
    assert!(h.build().is_err());
    // Too few indices on the stack.
    let mut h = FakeHost::new();
    method(&mut h, 10, MdArrayOp::Get, T::I4);
    let il = Il::new().ldarg(0).tok(op::CALL, 10).ret();
    h.def(1, def("T::short", &[T::Obj], &[], T::I4, il.build()));
    assert!(h.build().is_err());
    // A float index.
    let mut h = FakeHost::new();
    method(&mut h, 10, MdArrayOp::Get, T::I4);
    let il = Il::new().ldarg(0).r8(1.0).i4(0).tok(op::CALL, 10).ret();
    h.def(1, def("T::float", &[T::Obj], &[], T::I4, il.build()));
    assert!(h.build().is_err());
    // The constructor reached by call rather than newobj.
    let mut h = FakeHost::new();
    method(&mut h, 10, MdArrayOp::Ctor, T::I4);
    let il = Il::new().ldarg(0).i4(1).i4(1).tok(op::CALL, 10).ret();
    h.def(1, def("T::ctor", &[T::Obj], &[], T::Void, il.build()));
    assert!(h.build().is_err());
}
