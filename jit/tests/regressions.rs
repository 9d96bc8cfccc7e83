//! Named regressions for the seed's bugs and the later ProtonOS bugs (DESIGN.md).
//! Seed bugs 1, 2/3 and 5 are in `structs.rs` (`seed_bug*`), the RSP, 5th-arg and
//! native-bool ones in `calls.rs` (`protonos_*`); the rest are here.
mod common;
use common::*;
use jit::decoder::op;
use jit::host::{CallConv, CallInfo, CallTarget, FieldInfo, JitType as T, MethodSig, TypeInfo};

#[test]
fn seed_bug4_struct_locals_of_any_size_do_not_overlap() {
    // Locals: a 40-byte struct between two int64s; filling the struct must not
    // touch its neighbours, and large frames still return correctly.
    let s40 = struct_ty(40, 8);
    let mut h = FakeHost::new();
    h.types.insert(9, struct_info(s40));
    let il = Il::new()
        .i8(0x1111)
        .stloc(0)
        .i8(0x2222)
        .stloc(2)
        .ldloca(1)
        .i4(0x5A)
        .i4(40)
        .op(op::INITBLK)
        .ldloc(0)
        .ldloc(2)
        .op(op::ADD)
        .ldloca(1)
        .op(op::LDIND_I8)
        .op(op::ADD)
        .ret()
        .build();
    h.def(1, def("T::m", &[], &[T::I8, s40, T::I8], T::I8, il));
    let f = build(&mut h, 1);
    assert_eq!(call_i(f, &[]), 0x3333 + 0x5A5A_5A5A_5A5A_5A5A);
}

#[test]
fn protonos_shr_un_and_conv_u_keep_upper_bits() {
    let f = jit1(
        &[T::I8],
        &[],
        T::I8,
        Il::new().ldarg(0).i4(4).op(op::SHR_UN).ret().build(),
    );
    assert_eq!(call_i(f, &[-16]), (-16i64 as u64 >> 4) as i64);
    let f = jit1(
        &[T::I],
        &[],
        T::I8,
        Il::new()
            .ldarg(0)
            .op(op::CONV_U)
            .op(op::CONV_U8)
            .ret()
            .build(),
    );
    assert_eq!(call_i(f, &[0x1234_5678_9ABC_DEF0]), 0x1234_5678_9ABC_DEF0);
    let f = jit1(
        &[T::I8],
        &[],
        T::I8,
        Il::new().ldarg(0).i4(32).op(op::SHR_UN).ret().build(),
    );
    assert_eq!(call_i(f, &[0x7FFF_FFFF_0000_0000]), 0x7FFF_FFFF);
}

#[test]
fn protonos_bool_return_after_callvirt() {
    // A virtual method returning bool; the caller branches on it directly.
    let mut h = FakeHost::new();
    let mt = new_mt(24, 0, 0);
    let mut v = def(
        "C::IsBig",
        &[T::Obj, T::I4],
        &[],
        T::Bool,
        Il::new().ldarg(1).i4(10).op(op::CGT).ret().build(),
    );
    v.has_this = true;
    let cell = h.def(10, v);
    let sig = MethodSig {
        has_this: true,
        this_type: T::Obj,
        params: vec![T::I4].into(),
        ret: T::Bool,
        conv: CallConv::Managed,
    };
    h.methods.insert(
        20,
        CallInfo {
            sig,
            target: CallTarget::Virtual {
                slot_offset: VTABLE_OFFSET,
            },
            callee: 20,
            owner: None,
        },
    );
    let mut c = def(".ctor", &[T::Obj], &[], T::Void, Il::new().ret().build());
    c.has_this = true;
    h.def(30, c);
    let mut ci = h.methods[&30].clone();
    ci.owner = Some(TypeInfo {
        ty: T::Obj,
        is_value_type: false,
        handle: mt,
        array_handle: 0,
    });
    h.methods.insert(30, ci);
    let il = Il::new()
        .tok(op::NEWOBJ, 30)
        .ldarg(0)
        .tok(op::CALLVIRT, 20)
        .br(op::BRFALSE, "no")
        .i4(1)
        .ret()
        .label("no")
        .i4(2)
        .ret()
        .build();
    h.def(1, def("T::m", &[T::I4], &[], T::I4, il));
    let f = build(&mut h, 1);
    // SAFETY: fill the fake vtable with the compiled virtual method.
    unsafe { (*(mt as *mut FakeMt)).vtable[0] = *(cell as *const u64) };
    assert_eq!(call_i(f, &[50]), 1);
    assert_eq!(call_i(f, &[5]), 2);
}

#[test]
fn protonos_64bit_mmio_store_is_one_instruction() {
    // A 64-bit MMIO register write must be a single 8-byte store (hosts reject
    // split or byte-wise accesses to some device registers).
    let mut h = FakeHost::new();
    let il = Il::new().ldarg(0).ldarg(1).op(op::STIND_I8).ret().build();
    h.def(
        1,
        def("Mmio::Write64", &[T::I, T::I8], &[], T::Void, il.clone()),
    );
    let built = h.build().unwrap();
    let (addr, c) = &built[&1];
    let lines = jit::disasm::x86_lines(&c.code);
    let stores: Vec<_> = lines
        .iter()
        .filter(|(_, s)| s.starts_with("mov [r") && !s.contains("rbp"))
        .collect();
    assert_eq!(stores.len(), 1, "{lines:?}");
    assert!(
        !stores[0].1.contains("dword") && !stores[0].1.contains("byte"),
        "{:?}",
        stores[0]
    );
    let reg = Box::leak(Box::new(0u64));
    call_i(*addr, &[reg as *mut u64 as i64, 0x0123_4567_89AB_CDEF]);
    assert_eq!(*reg, 0x0123_4567_89AB_CDEF);
}

#[test]
fn seed_bug3_value_type_fields_start_at_zero_class_fields_after_header() {
    // The JIT uses the offsets the host gives: a struct field at 0 read through a
    // managed pointer and a class field after a 16-byte header read through a ref.
    let mut h = FakeHost::new();
    let s = struct_ty(8, 4);
    h.fields.insert(
        1,
        FieldInfo {
            ty: T::I4,
            offset: 0,
            static_addr: None,
            class_init: None,
        },
    );
    h.fields.insert(
        2,
        FieldInfo {
            ty: T::I4,
            offset: 16,
            static_addr: None,
            class_init: None,
        },
    );
    let mt = new_mt(24, 0, 0);
    let obj = Box::leak(Box::new([0u64, mt, 77])).as_mut_ptr() as i64;
    let il = Il::new()
        .ldloca(0)
        .i4(5)
        .tok(op::STFLD, 1)
        .ldloca(0)
        .tok(op::LDFLD, 1)
        .ldarg(0)
        .tok(op::LDFLD, 2)
        .op(op::ADD)
        .ret()
        .build();
    h.def(1, def("T::m", &[T::Obj], &[s], T::I4, il));
    let f = build(&mut h, 1);
    assert_eq!(call_i(f, &[obj]), 82);
}

#[test]
fn register_allocated_locals_start_zeroed_and_survive_calls() {
    // i and s are hot enough to live in callee-saved registers; they must start at
    // zero (localsinit) and keep their values across a call.
    let mut h = FakeHost::new();
    h.def(
        2,
        def(
            "T::id",
            &[T::I4],
            &[],
            T::I4,
            Il::new().ldarg(0).ret().build(),
        ),
    );
    let il = Il::new()
        .label("top")
        .ldloc(1)
        .ldloc(0)
        .tok(op::CALL, 2)
        .op(op::ADD)
        .stloc(1)
        .ldloc(0)
        .i4(1)
        .op(op::ADD)
        .stloc(0)
        .ldloc(0)
        .ldarg(0)
        .br(op::BLT, "top")
        .ldloc(1)
        .ret()
        .build();
    h.def(1, def("T::m", &[T::I4], &[T::I4, T::I4], T::I4, il));
    let f = build(&mut h, 1);
    assert_eq!(call_i(f, &[10]), 45);
}
