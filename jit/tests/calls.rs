//! Calls: many arguments (stack-passed), mixed float/int, recursion, virtual and
//! interface dispatch, calli/ldftn, native (DDK-style) callees, RSP alignment and
//! callee-saved registers across JIT code.
mod common;
use common::*;
use jit::decoder::op;
use jit::host::{CallConv, CallInfo, CallTarget, JitType as T, MethodSig, TypeInfo};

#[test]
fn many_int_args_go_to_the_stack() {
    for n in [1usize, 5, 6, 7, 9, 12] {
        let mut h = FakeHost::new();
        // callee: sum(a_i * (i+1))
        let mut c = Il::new().i8(0);
        for i in 0..n {
            c = c.ldarg(i as u16).i8(i as i64 + 1).op(op::MUL).op(op::ADD);
        }
        h.def(
            2,
            def("T::callee", &vec![T::I8; n], &[], T::I8, c.ret().build()),
        );
        let mut il = Il::new();
        for i in 0..n {
            il = il.ldarg(0).i8(i as i64 * 1000).op(op::ADD);
        }
        h.def(
            1,
            def(
                "T::m",
                &[T::I8],
                &[],
                T::I8,
                il.tok(op::CALL, 2).ret().build(),
            ),
        );
        let f = build(&mut h, 1);
        let x = 7i64;
        let want: i64 = (0..n as i64).map(|i| (x + i * 1000) * (i + 1)).sum();
        assert_eq!(call_i(f, &[x]), want, "{n} args");
    }
}

#[test]
fn mixed_float_and_int_args_beyond_registers() {
    let mut h = FakeHost::new();
    // callee(i0, f0, i1, f1, ... 8 ints and 10 doubles interleaved; 2 float32s)
    let mut types = Vec::new();
    for k in 0..10 {
        types.push(T::R8);
        if k < 8 {
            types.push(T::I4);
        }
    }
    types.push(T::R4);
    types.push(T::R4);
    let mut c = Il::new().r8(0.0);
    for (i, t) in types.iter().enumerate() {
        c = c.ldarg(i as u16);
        if *t == T::I4 {
            c = c.op(op::CONV_R8);
        }
        c = c.r8((i + 1) as f64).op(op::MUL).op(op::ADD);
    }
    h.def(2, def("T::callee", &types, &[], T::R8, c.ret().build()));
    let mut il = Il::new();
    for (i, t) in types.iter().enumerate() {
        il = match t {
            T::I4 => il.i4(i as i32 + 1),
            T::R4 => il.r4(i as f32 + 0.5),
            _ => il.r8(i as f64 + 0.25),
        };
    }
    h.def(
        1,
        def("T::m", &[], &[], T::R8, il.tok(op::CALL, 2).ret().build()),
    );
    let f = build(&mut h, 1);
    let want: f64 = types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let v = match t {
                T::I4 => (i + 1) as f64,
                T::R4 => i as f64 + 0.5,
                _ => i as f64 + 0.25,
            };
            v * (i + 1) as f64
        })
        .sum();
    assert_eq!(call_f(f, &[]), want);
}

fn fib_il() -> Vec<u8> {
    Il::new()
        .ldarg(0)
        .i4(2)
        .br(op::BGE, "rec")
        .ldarg(0)
        .ret()
        .label("rec")
        .ldarg(0)
        .i4(1)
        .op(op::SUB)
        .tok(op::CALL, 1)
        .ldarg(0)
        .i4(2)
        .op(op::SUB)
        .tok(op::CALL, 1)
        .op(op::ADD)
        .ret()
        .build()
}

#[test]
fn recursion_fib() {
    let mut h = FakeHost::new();
    h.def(1, def("T::fib", &[T::I4], &[], T::I4, fib_il()));
    let f = build(&mut h, 1);
    let fib = |n: i64| {
        let (mut a, mut b) = (0i64, 1i64);
        for _ in 0..n {
            (a, b) = (b, a + b);
        }
        a
    };
    for n in [0, 1, 2, 10, 20, 25] {
        assert_eq!(call_i(f, &[n]), fib(n));
    }
}

/// Two classes with a virtual method in slot 0 and an interface.
fn classes(h: &mut FakeHost) -> (u64, u64) {
    let base = new_mt(16, 0, 0);
    let derived = new_mt(16, 0, base);
    // Base::V(this) => 1 ; Derived::V(this) => 2 ; both: I::M(this, int x) => x*10 + id
    let mut b = def(
        "Base::V",
        &[T::Obj],
        &[],
        T::I4,
        Il::new().i4(1).ret().build(),
    );
    b.has_this = true;
    let cb = h.def(10, b);
    let mut d = def(
        "Derived::V",
        &[T::Obj],
        &[],
        T::I4,
        Il::new().i4(2).ret().build(),
    );
    d.has_this = true;
    let cd = h.def(11, d);
    for (tok, id) in [(12u32, 1), (13, 2)] {
        let mut m = def(
            "I::M",
            &[T::Obj, T::I4],
            &[],
            T::I4,
            Il::new()
                .ldarg(1)
                .i4(10)
                .op(op::MUL)
                .i4(id)
                .op(op::ADD)
                .ret()
                .build(),
        );
        m.has_this = true;
        h.def(tok, m);
    }
    let cells12 = match h.methods[&12].target {
        CallTarget::Indirect(c) => c,
        _ => 0,
    };
    let cells13 = match h.methods[&13].target {
        CallTarget::Indirect(c) => c,
        _ => 0,
    };
    let iface = new_mt(0, 0, 0);
    impl_interface(base, iface, vec![cells12]);
    impl_interface(derived, iface, vec![cells13]);
    // Virtual call token 20 → slot 0; interface call token 21.
    let vsig = MethodSig {
        has_this: true,
        this_type: T::Obj,
        params: vec![].into(),
        ret: T::I4,
        conv: CallConv::Managed,
    };
    h.methods.insert(
        20,
        CallInfo {
            sig: vsig,
            target: CallTarget::Virtual {
                slot_offset: VTABLE_OFFSET,
            },
            callee: 20,
            owner: None,
        },
    );
    let isig = MethodSig {
        has_this: true,
        this_type: T::Obj,
        params: vec![T::I4].into(),
        ret: T::I4,
        conv: CallConv::Managed,
    };
    h.methods.insert(
        21,
        CallInfo {
            sig: isig,
            target: CallTarget::Interface { iface, slot: 0 },
            callee: 21,
            owner: None,
        },
    );
    // Constructors (no-ops) with owners.
    for (tok, mt) in [(30u32, base), (31, derived)] {
        let mut c = def(".ctor", &[T::Obj], &[], T::Void, Il::new().ret().build());
        c.has_this = true;
        h.def(tok, c);
        let mut ci = h.methods[&tok].clone();
        ci.owner = Some(TypeInfo {
            ty: T::Obj,
            is_value_type: false,
            handle: mt,
            array_handle: 0,
        });
        h.methods.insert(tok, ci);
    }
    h.types.insert(
        40,
        TypeInfo {
            ty: T::Obj,
            is_value_type: false,
            handle: base,
            array_handle: 0,
        },
    );
    h.types.insert(
        41,
        TypeInfo {
            ty: T::Obj,
            is_value_type: false,
            handle: derived,
            array_handle: 0,
        },
    );
    (cb, cd)
}

fn fill_vtables(h: &FakeHost) {
    for (tok, mt_tok) in [(10u32, 30u32), (11, 31)] {
        let cell = match h.methods[&tok].target {
            CallTarget::Indirect(c) => c,
            _ => 0,
        };
        let mt = h.methods[&mt_tok].owner.unwrap().handle;
        // SAFETY: test-owned FakeMt and filled cell.
        unsafe { (*(mt as *mut FakeMt)).vtable[0] = *(cell as *const u64) };
    }
}

#[test]
fn virtual_and_interface_dispatch() {
    let mut h = FakeHost::new();
    classes(&mut h);
    // r = new Base().V() * 100 + new Derived().V() * 10 + ((I)new Derived()).M(4) * 1000
    let il = Il::new()
        .tok(op::NEWOBJ, 30)
        .tok(op::CALLVIRT, 20)
        .i4(100)
        .op(op::MUL)
        .tok(op::NEWOBJ, 31)
        .tok(op::CALLVIRT, 20)
        .i4(10)
        .op(op::MUL)
        .op(op::ADD)
        .tok(op::NEWOBJ, 31)
        .i4(4)
        .tok(op::CALLVIRT, 21)
        .i4(1000)
        .op(op::MUL)
        .op(op::ADD)
        .ret()
        .build();
    h.def(1, def("T::m", &[], &[], T::I4, il));
    let built = h.build().unwrap();
    fill_vtables(&h);
    assert_eq!(call_i(built[&1].0, &[]) as i32, 100 + 20 + 42_000);
}

/// An interface call site with a dispatch cell calls the lookup helper only
/// when the receiver's type differs from the one the cell holds, and calls
/// the right implementation either way.
#[test]
fn interface_calls_through_a_dispatch_cell() {
    use std::sync::atomic::Ordering::SeqCst;
    let mut h = FakeHost::new();
    h.dispatch_cells = true;
    classes(&mut h);
    // static int m(object a, object b, int n):
    //   s = 0; for (i = 0; i < n; i++) s += ((I)a).M(i) + ((I)b).M(1); return s
    let il = Il::new()
        .i4(0)
        .stloc(0)
        .i4(0)
        .stloc(1)
        .br(op::BR, "cond")
        .label("body")
        .ldloc(0)
        .ldarg(0)
        .ldloc(1)
        .tok(op::CALLVIRT, 21)
        .op(op::ADD)
        .ldarg(1)
        .i4(1)
        .tok(op::CALLVIRT, 21)
        .op(op::ADD)
        .stloc(0)
        .ldloc(1)
        .i4(1)
        .op(op::ADD)
        .stloc(1)
        .label("cond")
        .ldloc(1)
        .ldarg(2)
        .br(op::BLT, "body")
        .ldloc(0)
        .ret()
        .build();
    h.def(
        1,
        def("T::m", &[T::Obj, T::Obj, T::I4], &[T::I4, T::I4], T::I4, il),
    );
    let built = h.build().unwrap();
    fill_vtables(&h);
    let base_mt = h.methods[&30].owner.unwrap().handle;
    let derived_mt = h.methods[&31].owner.unwrap().handle;
    let obj = |mt: u64| Box::leak(Box::new([mt, 0u64])).as_ptr() as u64;
    let (base, derived) = (obj(base_mt), obj(derived_mt));
    // I::M(x) is x*10+1 on Base, x*10+2 on Derived.
    let expect =
        |a_id: i64, b_id: i64, n: i64| (0..n).map(|i| i * 10 + a_id + 10 + b_id).sum::<i64>();
    let f = built[&1].0;
    let before = CACHED_LOOKUPS.load(SeqCst);
    assert_eq!(
        call_i(f, &[base as i64, derived as i64, 50]),
        expect(1, 2, 50)
    );
    // One lookup per call site: each site then sees the type its cell holds.
    assert_eq!(CACHED_LOOKUPS.load(SeqCst) - before, 2);
    // The sites swap receiver types: each misses once more, then hits.
    assert_eq!(
        call_i(f, &[derived as i64, base as i64, 50]),
        expect(2, 1, 50)
    );
    assert_eq!(CACHED_LOOKUPS.load(SeqCst) - before, 4);
}

#[test]
fn callvirt_on_null_is_a_null_reference_error() {
    let mut h = FakeHost::new();
    classes(&mut h);
    let il = Il::new().op(op::LDNULL).tok(op::CALLVIRT, 20).ret().build();
    h.def(1, def("T::m", &[], &[], T::I4, il));
    let built = h.build().unwrap();
    fill_vtables(&h);
    let f = built[&1].0;
    assert_eq!(in_child(move || call_i(f, &[])), Err(1));
}

#[test]
fn isinst_castclass_box_unbox() {
    let mut h = FakeHost::new();
    classes(&mut h);
    let int_ti = prim_type(T::I4);
    h.types.insert(50, int_ti);
    // isinst Derived on a Base → null; on a Derived → same object.
    let il = Il::new()
        .tok(op::NEWOBJ, 30)
        .tok(op::ISINST, 41)
        .op(op::LDNULL)
        .op(op::CEQ) // 1
        .tok(op::NEWOBJ, 31)
        .tok(op::ISINST, 40)
        .op(op::LDNULL)
        .op(op::CGT_UN)
        .op(op::ADD) // +1
        .i4(77)
        .tok(op::BOX, 50)
        .tok(op::UNBOX_ANY, 50)
        .op(op::ADD) // +77
        .ret()
        .build();
    h.def(1, def("T::m", &[], &[], T::I4, il));
    let bad = Il::new()
        .tok(op::NEWOBJ, 30)
        .tok(op::CASTCLASS, 41)
        .op(op::POP)
        .i4(0)
        .ret()
        .build();
    h.def(2, def("T::bad", &[], &[], T::I4, bad));
    let unbox_bad = Il::new()
        .tok(op::NEWOBJ, 30)
        .tok(op::UNBOX_ANY, 50)
        .ret()
        .build();
    h.def(3, def("T::unboxbad", &[], &[], T::I4, unbox_bad));
    let built = h.build().unwrap();
    assert_eq!(call_i(built[&1].0, &[]) as i32, 79);
    let (b, u) = (built[&2].0, built[&3].0);
    assert_eq!(in_child(move || call_i(b, &[])), Err(5));
    assert_eq!(in_child(move || call_i(u, &[])), Err(5));
}

/// `isinst`/`castclass` sites with a dispatch cell call the type-check
/// helper until an object passes, and then not again for objects of that
/// type; failures and other types still ask, null never does.
#[test]
fn type_checks_through_a_dispatch_cell() {
    use std::sync::atomic::Ordering::SeqCst;
    let mut h = FakeHost::new();
    h.dispatch_cells = true;
    classes(&mut h);
    // static int m(object a, int n): s = 0; for (i = 0; i < n; i++) {
    //   if (a isinst Base) s += 1; if ((Base)a castclass ok) s += 10 } return s
    let il = |tok: u32| {
        Il::new()
            .i4(0)
            .stloc(0)
            .i4(0)
            .stloc(1)
            .br(op::BR, "cond")
            .label("body")
            .ldarg(0)
            .tok(op::ISINST, tok)
            .op(op::LDNULL)
            .op(op::CGT_UN)
            .ldloc(0)
            .op(op::ADD)
            .stloc(0)
            .ldarg(0)
            .tok(op::CASTCLASS, tok)
            .op(op::POP)
            .ldloc(0)
            .i4(10)
            .op(op::ADD)
            .stloc(0)
            .ldloc(1)
            .i4(1)
            .op(op::ADD)
            .stloc(1)
            .label("cond")
            .ldloc(1)
            .ldarg(1)
            .br(op::BLT, "body")
            .ldloc(0)
            .ret()
            .build()
    };
    let sig = |il| def("T::m", &[T::Obj, T::I4], &[T::I4, T::I4], T::I4, il);
    h.def(1, sig(il(40))); // as Base
    h.def(2, sig(il(41))); // as Derived
    let built = h.build().unwrap();
    fill_vtables(&h);
    let base_mt = h.methods[&30].owner.unwrap().handle;
    let derived_mt = h.methods[&31].owner.unwrap().handle;
    let obj = |mt: u64| Box::leak(Box::new([mt, 0u64])).as_ptr() as u64;
    let (base, derived) = (obj(base_mt), obj(derived_mt));
    let (as_base, as_derived) = (built[&1].0, built[&2].0);
    let checks = || CACHED_TYPE_CHECKS.load(SeqCst);
    let before = checks();
    // A Derived is a Base: the two sites ask once each, then hit.
    assert_eq!(call_i(as_base, &[derived as i64, 40]), 40 * 11);
    assert_eq!(checks() - before, 2);
    // A Base passes too: each site asks once more (the cell keeps one type).
    assert_eq!(call_i(as_base, &[base as i64, 40]), 40 * 11);
    assert_eq!(checks() - before, 4);
    // Null: isinst null, castclass passes; no helper call.
    assert_eq!(call_i(as_base, &[0, 40]), 40 * 10);
    assert_eq!(checks() - before, 4);
    // A failed check is never cached: castclass still throws
    // InvalidCastException (in a child, exit code 5), and an isinst alone
    // asks on every iteration.
    let b = base as i64;
    assert_eq!(in_child(move || call_i(as_derived, &[b, 3])), Err(5));
    assert_eq!(call_i(as_derived, &[derived as i64, 5]), 5 * 11);
    let isinst_only = Il::new()
        .ldarg(0)
        .tok(op::ISINST, 41)
        .op(op::LDNULL)
        .op(op::CGT_UN)
        .ret()
        .build();
    let mut h2 = FakeHost::new();
    h2.dispatch_cells = true;
    classes(&mut h2);
    h2.def(3, def("T::is", &[T::Obj], &[], T::I4, isinst_only));
    let is_derived = h2.build().unwrap()[&3].0;
    let before = checks();
    for _ in 0..3 {
        assert_eq!(call_i(is_derived, &[base as i64]), 0);
    }
    assert_eq!(checks() - before, 3);
}

extern "C" fn native_bool(x: i64) -> u64 {
    // A native callee that only sets al: upper bits are garbage (the ProtonOS
    // "bool return lost after callvirt" bug).
    0xDEAD_BEEF_0000_0000 | (x > 10) as u64
}

// At a call with rsp ≡ 0 (mod 16), the callee sees rsp ≡ 8 after the return
// address push: this probe returns 0 exactly then.
std::arch::global_asm!(
    ".globl jit_test_rsp_probe",
    "jit_test_rsp_probe:",
    "mov rax, rsp",
    "and rax, 15",
    "xor rax, 8",
    "ret"
);
extern "C" {
    fn jit_test_rsp_probe() -> u64;
}

extern "C" fn native_sum7(a: i64, b: i64, c: i64, d: i64, e: i64, f: i64, g: i64) -> i64 {
    a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g
}

fn native(h: &mut FakeHost, tok: u32, addr: u64, params: Vec<T>, ret: T) {
    let sig = MethodSig {
        has_this: false,
        this_type: T::Obj,
        params: params.into(),
        ret,
        conv: CallConv::Native,
    };
    h.methods.insert(
        tok,
        CallInfo {
            sig,
            target: CallTarget::Direct(addr),
            callee: tok as u64,
            owner: None,
        },
    );
}

#[test]
fn protonos_bool_return_from_native_is_normalised() {
    let mut h = FakeHost::new();
    native(
        &mut h,
        2,
        native_bool as *const () as u64,
        vec![T::I8],
        T::Bool,
    );
    let il = Il::new()
        .ldarg(0)
        .tok(op::CALL, 2)
        .br(op::BRTRUE, "t")
        .i4(0)
        .ret()
        .label("t")
        .i4(1)
        .ret()
        .build();
    h.def(1, def("T::m", &[T::I8], &[], T::I4, il));
    let f = build(&mut h, 1);
    assert_eq!(call_i(f, &[3]), 0);
    assert_eq!(call_i(f, &[30]), 1);
    let mut h = FakeHost::new();
    native(
        &mut h,
        2,
        native_bool as *const () as u64,
        vec![T::I8],
        T::Bool,
    );
    h.def(
        1,
        def(
            "T::m",
            &[T::I8],
            &[],
            T::I4,
            Il::new().ldarg(0).tok(op::CALL, 2).ret().build(),
        ),
    );
    let f = build(&mut h, 1);
    assert_eq!(
        call_i(f, &[3]),
        0,
        "upper garbage must not leak into the int32"
    );
}

#[test]
fn protonos_rsp_aligned_at_every_call() {
    // Calls at different stack depths, with 0, 1 and 3 stack-passed arguments.
    let mut h = FakeHost::new();
    native(
        &mut h,
        2,
        jit_test_rsp_probe as *const () as u64,
        vec![],
        T::I8,
    );
    native(
        &mut h,
        3,
        native_sum7 as *const () as u64,
        vec![T::I8; 7],
        T::I8,
    );
    let mut il = Il::new().tok(op::CALL, 2);
    for k in 0..5 {
        il = il.i8(k).tok(op::CALL, 2).op(op::ADD).op(op::ADD);
    }
    for k in 0..7 {
        il = il.i8(k + 1);
    }
    il = il.tok(op::CALL, 3).i8(1000).op(op::MUL).op(op::ADD);
    h.def(1, def("T::m", &[], &[], T::I8, il.ret().build()));
    let f = build(&mut h, 1);
    let sum7: i64 = (1..=7).map(|k| k * k).sum();
    let r = call_i(f, &[]);
    assert_eq!(
        r % 1000,
        10,
        "some call saw a misaligned rsp (probe sum {})",
        r % 1000 - 10
    );
    assert_eq!(r / 1000, sum7);
}

#[test]
fn protonos_fifth_arg_does_not_clobber_callee_saved() {
    // A method with enough live values to use rbx and r12–r15, called from a
    // trampoline that plants sentinels in them and checks them afterwards.
    let mut il = Il::new();
    for k in 0..12 {
        il = il.ldarg(0).i8(k).op(op::MUL).ldarg(4).op(op::ADD);
    }
    for _ in 0..11 {
        il = il.op(op::ADD);
    }
    // Five args: the 5th (r8) must not end up in a callee-saved register unsaved.
    let f = jit1(
        &[T::I8, T::I8, T::I8, T::I8, T::I8],
        &[],
        T::I8,
        il.ret().build(),
    );
    let (out, bad): (i64, u64);
    // SAFETY: calls the JIT function with SysV args; sentinels in callee-saved
    // registers are compared after the call; everything else is declared clobbered.
    unsafe {
        core::arch::asm!(
            "push rbx", "push r12", "push r13", "push r14", "push r15", "push rbp",
            "mov rbx, 0x1111", "mov r12, 0x2222", "mov r13, 0x3333", "mov r14, 0x4444", "mov r15, 0x5555",
            "mov rbp, 0x6666",
            "call rax",
            "xor rcx, rcx",
            "cmp rbx, 0x1111", "setne cl", "cmp r12, 0x2222", "setne dl", "or cl, dl",
            "cmp r13, 0x3333", "setne dl", "or cl, dl", "cmp r14, 0x4444", "setne dl", "or cl, dl",
            "cmp r15, 0x5555", "setne dl", "or cl, dl", "cmp rbp, 0x6666", "setne dl", "or cl, dl",
            "pop rbp", "pop r15", "pop r14", "pop r13", "pop r12", "pop rbx",
            inout("rax") f => out,
            in("rdi") 3i64, in("rsi") 0i64, in("rdx") 0i64, in("r8") 100i64,
            out("rcx") bad,
            out("r9") _, out("r10") _, out("r11") _,
            clobber_abi("sysv64"),
        );
    }
    assert_eq!(bad & 0xFF, 0, "a callee-saved register was clobbered");
    assert_eq!(out, (0..12).map(|k| 3 * k + 100).sum::<i64>());
}

#[test]
fn calli_and_ldftn() {
    let mut h = FakeHost::new();
    h.def(
        2,
        def(
            "T::twice",
            &[T::I4],
            &[],
            T::I4,
            Il::new().ldarg(0).i4(2).op(op::MUL).ret().build(),
        ),
    );
    h.sigs.insert(
        0x1100_0001,
        jit::host::MethodSig {
            has_this: false,
            this_type: T::Obj,
            params: vec![T::I4].into(),
            ret: T::I4,
            conv: CallConv::Managed,
        },
    );
    let il = Il::new()
        .ldarg(0)
        .tok(op::LDFTN, 2)
        .tok(op::CALLI, 0x1100_0001)
        .ret()
        .build();
    h.def(1, def("T::m", &[T::I4], &[], T::I4, il));
    let f = build(&mut h, 1);
    assert_eq!(call_i(f, &[21]), 42);
}

static LAZY_TARGET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static LAZY_CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

extern "C" fn lazy_resolver(cookie: u64) -> u64 {
    assert_eq!(cookie, 77);
    LAZY_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    LAZY_TARGET.load(std::sync::atomic::Ordering::SeqCst)
}

#[test]
fn lazy_stub_preserves_int_and_float_args() {
    // callee(a..f: int64 in registers, x: double in xmm0, g: int64 on the stack)
    let mut c = Il::new().ldarg(0);
    for k in 1..6 {
        c = c.ldarg(k).i8(10).op(op::MUL).op(op::ADD);
    }
    let c = c
        .ldarg(6)
        .op(op::CONV_I8)
        .op(op::ADD)
        .ldarg(7)
        .op(op::ADD)
        .ret()
        .build();
    let params = [T::I8, T::I8, T::I8, T::I8, T::I8, T::I8, T::R8, T::I8];
    let callee = jit1(&params, &[], T::I8, c);
    LAZY_TARGET.store(callee, std::sync::atomic::Ordering::SeqCst);
    let stub = jit::isa::x64::stubs::lazy_stub(77, lazy_resolver as *const () as u64).unwrap();
    let stub = install(&stub);
    // The caller reaches the callee through the stub (as the runtime does before
    // the first compilation).
    let mut h = FakeHost::new();
    native(&mut h, 2, stub, params.to_vec(), T::I8);
    h.methods.get_mut(&2).unwrap().sig.conv = CallConv::Managed;
    let mut il = Il::new();
    for k in 1..=6 {
        il = il.i8(k);
    }
    il = il.r8(1000.0).i8(5000).tok(op::CALL, 2).ret();
    h.def(1, def("T::m", &[], &[], T::I8, il.build()));
    let f = build(&mut h, 1);
    let want = 1 + (2 + 3 + 4 + 5 + 6) * 10 + 1000 + 5000;
    assert_eq!(call_i(f, &[]), want);
    assert_eq!(call_i(f, &[]), want);
    assert_eq!(LAZY_CALLS.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn argument_registers_swapped_through_a_cycle() {
    // x lands in rsi and y in rdi (allocation order), but the call wants x in rdi
    // and y in rsi: a register cycle the parallel move must break.
    let mut h = FakeHost::new();
    h.def(
        2,
        def(
            "T::f",
            &[T::I4, T::I4, T::I4],
            &[],
            T::I4,
            Il::new()
                .ldarg(0)
                .i4(100)
                .op(op::MUL)
                .ldarg(1)
                .i4(10)
                .op(op::MUL)
                .op(op::ADD)
                .ldarg(2)
                .op(op::ADD)
                .ret()
                .build(),
        ),
    );
    let il = Il::new()
        .ldarg(0)
        .i4(1)
        .op(op::ADD)
        .ldarg(1)
        .i4(2)
        .op(op::ADD)
        .ldarg(2)
        .tok(op::CALL, 2)
        .ret()
        .build();
    h.def(1, def("T::m", &[T::I4, T::I4, T::I4], &[], T::I4, il));
    let f = build(&mut h, 1);
    assert_eq!(call_i(f, &[3, 5, 9]), 400 + 70 + 9);
    let listing = jit::disasm::x86_lines(&h.build().unwrap()[&1].1.code);
    assert!(
        listing.iter().any(|(_, s)| s.contains("r11")),
        "expected a cycle through r11: {listing:?}"
    );
}

#[test]
fn constrained_callvirt_all_three_forms() {
    use jit::host::{Constrained, FieldInfo};
    let mut h = FakeHost::new();
    classes(&mut h);
    // S { int x } with S::Get(this S&) => x + 1 (implements the call itself).
    let s = struct_ty(4, 4);
    h.fields.insert(
        0x0400_0001,
        FieldInfo {
            ty: T::I4,
            offset: 0,
            static_addr: None,
            class_init: None,
        },
    );
    let mut get = def(
        "S::Get",
        &[T::ByRef],
        &[],
        T::I4,
        Il::new()
            .ldarg(0)
            .tok(op::LDFLD, 0x0400_0001)
            .i4(1)
            .op(op::ADD)
            .ret()
            .build(),
    );
    get.has_this = true;
    get.this_type = T::ByRef;
    h.def(22, get);
    let s_info = struct_info(s);
    h.types.insert(50, s_info);
    h.constrained.insert(
        (50, 22),
        Constrained::Direct(Box::new(h.methods[&22].clone())),
    );
    // Reference type T: `this` is a managed pointer to the reference.
    h.constrained.insert((41, 20), Constrained::DerefThis);
    // S does not implement V: box it and dispatch virtually (slot 0 of S's box MT).
    h.constrained.insert((50, 20), Constrained::BoxThis(s_info));
    let il = Il::new()
        .tok(op::NEWOBJ, 31)
        .stloc(0)
        .ldloca(1)
        .i4(41)
        .tok(op::STFLD, 0x0400_0001)
        .ldloca(0)
        .tok(op::CONSTRAINED, 41)
        .tok(op::CALLVIRT, 20)
        .i4(100)
        .op(op::MUL) // Derived::V = 2
        .ldloca(1)
        .tok(op::CONSTRAINED, 50)
        .tok(op::CALLVIRT, 22)
        .op(op::ADD) // 42
        .ldloca(1)
        .tok(op::CONSTRAINED, 50)
        .tok(op::CALLVIRT, 20)
        .i4(1000)
        .op(op::MUL)
        .op(op::ADD) // Base::V = 1
        .ret()
        .build();
    h.def(1, def("T::m", &[], &[T::Obj, s], T::I4, il));
    let built = h.build().unwrap();
    fill_vtables(&h);
    let base_cell = match h.methods[&10].target {
        CallTarget::Indirect(c) => c,
        _ => 0,
    };
    // SAFETY: the struct's fake MT gets Base::V in slot 0.
    unsafe { (*(s_info.handle as *mut FakeMt)).vtable[0] = *(base_cell as *const u64) };
    assert_eq!(call_i(built[&1].0, &[]) as i32, 200 + 42 + 1000);
}
