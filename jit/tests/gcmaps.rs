//! Stack maps (`jit::gcmap`) as compiled, without running the code: the
//! frame part lists reference args and locals by kind, a call's site part
//! lists the value-stack entries live across it, and what an instruction
//! popped but may still use (the struct `box` keeps in its home across
//! `NewObject`) is reported as maybe-slots.
mod common;
use common::*;
use jit::decoder::op;
use jit::gcmap::{GcKind, GcSlot, StackMaps};
use jit::host::JitType as T;
use jit::{compile, CompiledMethod, MethodInput};

fn build(h: &mut FakeHost, il: &[u8], args: Vec<T>, locals: Vec<T>, ret: T) -> CompiledMethod {
    let m = MethodInput {
        name: "GcMaps::M",
        handle: 0x5000_0000,
        il,
        args,
        locals,
        ret,
        init_locals: true,
        eh: vec![],
    };
    compile(h, &m).unwrap_or_else(|e| panic!("{e}"))
}

fn kind_at(slots: &[GcSlot], off: i32) -> Option<GcKind> {
    slots.iter().find(|s| s.offset == off).map(|s| s.kind)
}

#[test]
fn frame_part_lists_reference_args_and_locals_by_kind() {
    let mut h = FakeHost::default();
    let arr = prim_type(T::I4);
    h.types.insert(0x0200_0001, arr);
    // newarr int32[1]; pop; ret — one call, nothing on the stack across it.
    let il = Il::new()
        .op(op::LDC_I4_1)
        .tok(op::NEWARR, 0x0200_0001)
        .op(op::POP)
        .ret()
        .build();
    let s24 = struct_ty(24, 8);
    let c = build(
        &mut h,
        &il,
        vec![T::Obj, T::I4, T::ByRef],
        vec![T::Obj, T::I8, s24],
        T::Void,
    );
    let maps = &c.stack_maps;
    // Unused locals and args stay in their frame homes (no register locals).
    assert_eq!(maps.frame_regs, 0);
    let kinds: Vec<GcKind> = maps.frame.iter().map(|s| s.kind).collect();
    // arg 0 (Ref), arg 2 (Interior), local 0 (Ref), the struct's three words
    // (Maybe: the fake host does not know its layout); nothing for ints.
    assert_eq!(
        kinds.iter().filter(|k| **k == GcKind::Ref).count(),
        2,
        "{maps:?}"
    );
    assert_eq!(kinds.iter().filter(|k| **k == GcKind::Interior).count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == GcKind::Maybe).count(), 3);
    assert!(maps.call_sites() > 0);
    // The overflow failure stub's call has nothing of its own.
    assert!(!maps.frame_only.is_empty(), "{maps:?}");
    let text = StackMaps::describe(&maps.frame, maps.frame_regs);
    assert!(text.contains("[rbp-0x"), "{text}");
}

#[test]
fn a_reference_live_across_a_call_is_in_the_site_part() {
    let mut h = FakeHost::default();
    h.types.insert(0x0200_0001, prim_type(T::I4));
    // newarr twice: the first array is on the stack across the second
    // allocation; then pop both.
    let il = Il::new()
        .op(op::LDC_I4_1)
        .tok(op::NEWARR, 0x0200_0001)
        .op(op::LDC_I4_2)
        .tok(op::NEWARR, 0x0200_0001)
        .op(op::POP)
        .op(op::POP)
        .ret()
        .build();
    let c = build(&mut h, &il, vec![], vec![], T::Void);
    let maps = &c.stack_maps;
    // Two allocation sites plus the overflow failure stubs; the second
    // allocation has the first array live, in a home or a register.
    let live: Vec<_> = maps
        .sites
        .iter()
        .filter(|s| s.regs != 0 || maps.site_slots(s).iter().any(|g| g.kind == GcKind::Ref))
        .collect();
    assert_eq!(live.len(), 1, "{maps:?}");
}

#[test]
fn box_keeps_the_popped_struct_as_maybe_slots_across_new_object() {
    let mut h = FakeHost::default();
    let s24 = struct_ty(24, 8);
    h.types.insert(0x0200_0002, struct_info(s24));
    // ldloc.0 (a 24-byte struct); box; pop; ret
    let il = Il::new()
        .op(op::LDLOC_0)
        .tok(op::BOX, 0x0200_0002)
        .op(op::POP)
        .ret()
        .build();
    let c = build(&mut h, &il, vec![], vec![s24], T::Void);
    let maps = &c.stack_maps;
    let site = maps
        .sites
        .iter()
        .find(|s| s.count > 0)
        .unwrap_or_else(|| panic!("no site with slots: {maps:?}"));
    let slots = maps.site_slots(site);
    // The struct's home (three words below the evaluation-stack base) is
    // reported, as maybe-references, although the stack no longer lists it.
    let maybes = slots.iter().filter(|s| s.kind == GcKind::Maybe).count();
    assert!(maybes >= 3, "{slots:?}");
    let lowest = slots.iter().map(|s| s.offset).min().unwrap();
    assert_eq!(kind_at(slots, lowest), Some(GcKind::Maybe));
}

#[test]
fn a_self_recursive_call_is_direct_and_has_a_stack_map() {
    // M(obj) { M(arg0); } with M's own handle as the callee: the JIT calls
    // its entry directly (E8 rel32 to offset 0), and that return address is
    // a safepoint like any other call's.
    let mut h = FakeHost::default();
    let handle = 0x5000_0000;
    let cell = Box::leak(Box::new(0u64)) as *const u64 as u64;
    h.methods.insert(
        0x0600_0001,
        jit::host::CallInfo {
            sig: jit::host::MethodSig {
                has_this: false,
                this_type: T::Obj,
                params: vec![T::Obj].into(),
                ret: T::Void,
                conv: jit::host::CallConv::Managed,
            },
            target: jit::host::CallTarget::Indirect(cell),
            callee: handle,
            owner: None,
        },
    );
    let il = Il::new()
        .op(op::LDARG_0)
        .tok(op::CALL, 0x0600_0001)
        .ret()
        .build();
    let c = build(&mut h, &il, vec![T::Obj], vec![], T::Void);
    let e8 = (0..c.code.len().saturating_sub(4))
        .find(|&i| {
            c.code[i] == 0xE8
                && (i as i64
                    + 5
                    + i32::from_le_bytes(c.code[i + 1..i + 5].try_into().unwrap()) as i64)
                    == 0
        })
        .unwrap_or_else(|| panic!("no call to the entry in {:02x?}", c.code));
    let ret = (e8 + 5) as u32;
    assert!(
        c.stack_maps.at(ret).is_some(),
        "no stack map at the self call's return {ret:#x}"
    );
}
