//! Bad IL is an `Err` naming the method and IL offset — never a panic. Includes a
//! deterministic random-bytes sweep over the decoder and code generator.
mod common;
use common::*;
use jit::decoder::op;
use jit::host::JitType as T;
use jit::{compile, JitErrorKind, MethodInput};

fn try_compile(args: &[T], locals: &[T], ret: T, il: &[u8]) -> Result<(), jit::JitError> {
    let mut h = FakeHost::new();
    let m = MethodInput {
        name: "Bad::m",
        handle: 1,
        il,
        args: args.to_vec(),
        locals: locals.to_vec(),
        ret,
        init_locals: true,
        eh: vec![],
    };
    compile(&mut h, &m).map(|_| ())
}

#[test]
fn errors_name_method_and_offset() {
    // add with one operand at IL_0001
    let e = try_compile(
        &[T::I4],
        &[],
        T::I4,
        &Il::new().ldarg(0).op(op::ADD).ret().build(),
    )
    .unwrap_err();
    assert_eq!(e.method, "Bad::m");
    assert_eq!(e.il_offset, 4);
    assert_eq!(e.kind, JitErrorKind::StackUnderflow);
    assert!(e.to_string().contains("Bad::m at IL_0004"), "{e}");
}

#[test]
fn a_token_the_host_cannot_resolve_is_a_typed_host_error_at_its_offset() {
    // nop; call <unknown>: the host's Unresolved reaches the caller as is,
    // with the message in the error text.
    let e = try_compile(
        &[],
        &[],
        T::Void,
        &Il::new()
            .op(op::NOP)
            .tok(op::CALL, 0x0a00_0042)
            .ret()
            .build(),
    )
    .unwrap_err();
    assert_eq!(e.il_offset, 1);
    match &e.kind {
        JitErrorKind::Host(jit::host::HostError::Unresolved(m)) => {
            assert!(m.contains("0x0a000042"), "{m}")
        }
        k => panic!("expected an unresolved token, got {k:?}"),
    }
    assert!(
        e.to_string().contains("unknown method token 0x0a000042"),
        "{e}"
    );
}

#[test]
fn specific_rejections() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0xA6], "unknown opcode 0xa6"),         // unassigned opcode
        (vec![0x20, 1, 2], "truncated instruction"), // truncated ldc.i4
        (vec![0x2B, 0x7F, 0x2A], "branch target"),   // branch out of the method
        (vec![0x16], "falls off the end"),           // ldc.i4.0 then nothing
        (Il::new().ldarg(5).ret().build(), "no argument 5"),
        (Il::new().ldloc(3).ret().build(), "no local 3"),
        (
            Il::new().r8(1.0).i4(1).op(op::ADD).ret().build(),
            "type mismatch",
        ),
        (Il::new().i4(1).i4(2).ret().build(), "not empty at ret"),
        (
            Il::new().tok(op::CALL, 0x0A00_0001).ret().build(),
            "unknown method token",
        ),
        (
            Il::new().tok(op::LDFLD, 0x0400_0009).ret().build(),
            "unknown field token",
        ),
        (
            Il::new().op(op::ENDFINALLY).build(),
            "endfinally outside a handler",
        ),
        (
            Il::new().op(op::RETHROW).build(),
            "rethrow outside a catch handler",
        ),
        (
            Il::new()
                .i4(1)
                .br(op::BRTRUE, "x")
                .i8(1)
                .op(op::CONV_I4)
                .label("x")
                .ret()
                .build(),
            "stack shapes differ",
        ),
    ];
    for (il, want) in cases {
        let e = try_compile(&[T::I4], &[T::I4], T::I4, &il).unwrap_err();
        assert!(
            e.to_string().contains(want),
            "{il:02x?}: got `{e}`, want `{want}`"
        );
    }
}

#[test]
fn bad_eh_clauses_are_errors_not_miscompiled() {
    // IL_0000 ldc.i4 0; IL_0005 pop; IL_0006 ldc.i4 1; IL_000b ret
    let il = Il::new().i4(0).op(op::POP).i4(1).ret().build();
    let clause = |try_start, try_end, handler_start, handler_end| jit::EhClause {
        kind: jit::EhKind::Finally,
        try_start,
        try_end,
        handler_start,
        handler_end,
    };
    for (c, what) in [
        (clause(0, 3, 3, 4), "not on an instruction boundary"),
        (clause(0, 0, 1, 2), "empty"),
        (clause(0, 6, 5, 11), "overlaps"),
        (clause(0, 5, 5, 99), "not on an instruction boundary"),
    ] {
        let mut h = FakeHost::new();
        let m = MethodInput {
            name: "Eh::m",
            handle: 1,
            il: &il,
            args: vec![],
            locals: vec![],
            ret: T::I4,
            init_locals: true,
            eh: vec![c],
        };
        let e = compile(&mut h, &m).unwrap_err();
        assert!(e.to_string().contains(what), "{c:?}: {e}");
    }
}

#[test]
fn random_bytes_never_panic() {
    // xorshift; biased towards real opcodes so the code generator is exercised.
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut compiled = 0;
    for _ in 0..20_000 {
        let len = (next() % 24) as usize + 1;
        let mut il = Vec::with_capacity(len);
        for _ in 0..len {
            let r = next();
            il.push(match r % 4 {
                0 => 0x02 + (r >> 8) as u8 % 0x20, // ldarg/ldloc/stloc/ldc forms
                1 => 0x58 + (r >> 8) as u8 % 0x10, // arithmetic
                _ => (r >> 8) as u8,
            });
        }
        if try_compile(&[T::I4, T::I8, T::R8], &[T::I4, T::Obj], T::I4, &il).is_ok() {
            compiled += 1;
        }
    }
    assert!(compiled < 20_000);
}

/// A compile on a reused `Scratch` (what the runtime does) gives exactly what
/// a fresh compile gives: the same code and tables, or the same error. The
/// sweep builds stack-balanced methods (arithmetic on locals, forward
/// branches) and spoils some with a stray byte, so failures, which leave the
/// scratch half-taken, fall between successes.
#[test]
fn a_reused_scratch_compiles_like_a_fresh_one() {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    // One stack-neutral unit: `x = y op k` on the int locals 0 and 2 and
    // argument 0, or `x = (int)arg1`.
    let unit = |next: &mut dyn FnMut() -> u64| -> Vec<u8> {
        let r = next();
        if r.is_multiple_of(5) {
            return vec![0x03, 0x69, [0x0A, 0x0C][(r >> 8) as usize % 2]];
        }
        vec![
            [0x06, 0x08, 0x02][(r >> 8) as usize % 3],
            0x1F,
            (r >> 16) as u8,
            [0x58, 0x59, 0x5A, 0x5F, 0x60, 0x61][(r >> 24) as usize % 6],
            [0x0A, 0x0C][(r >> 32) as usize % 2],
        ]
    };
    let mut scratch = jit::Scratch::default();
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..3_000 {
        let mut il = Vec::new();
        for _ in 0..(next() % 12) + 1 {
            let r = next();
            if r.is_multiple_of(4) {
                // if (loc0 < k) skip the next unit
                let skipped = unit(&mut next);
                il.extend_from_slice(&[0x06, 0x1F, (r >> 8) as u8, 0x32, skipped.len() as u8]);
                il.extend_from_slice(&skipped);
            } else {
                il.extend(unit(&mut next));
            }
            if r.is_multiple_of(23) {
                il.push((r >> 40) as u8); // a stray byte: usually invalid
            }
        }
        il.extend_from_slice(&[0x06, 0x2A]); // return loc0
        let m = MethodInput {
            name: "Sweep::m",
            handle: 1,
            il: &il,
            args: vec![T::I4, T::I8, T::R8],
            locals: vec![T::I4, T::Obj, T::I4],
            ret: T::I4,
            init_locals: true,
            eh: vec![],
        };
        let fresh = compile(&mut FakeHost::new(), &m);
        let reused = jit::compile_with(&mut scratch, &mut FakeHost::new(), &m);
        match (&fresh, &reused) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.code, b.code, "code differs for IL {il:02x?}");
                assert_eq!(a.call_sites, b.call_sites);
                assert_eq!(a.il_map, b.il_map);
                assert_eq!(a.frame_size, b.frame_size);
                assert_eq!(a.stack_maps, b.stack_maps);
                ok += 1;
            }
            (Err(a), Err(b)) => {
                assert_eq!(a, b);
                failed += 1;
            }
            _ => panic!("fresh {fresh:?} and reused {reused:?} disagree for IL {il:02x?}"),
        }
    }
    assert!(ok > 500 && failed > 100, "{ok} compiled, {failed} failed");
}
