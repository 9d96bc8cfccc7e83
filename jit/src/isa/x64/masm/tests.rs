//! The directly encoded forms must be byte for byte what iced-x86 assembles.
use super::super::asm::{mem, r16, r32, r64, r8l, sized, x};
use super::*;
use iced_x86::code_asm::*;

fn ours(f: impl FnOnce(&mut X64Masm)) -> Vec<u8> {
    let mut m = X64Masm::new().unwrap();
    f(&mut m);
    m.asm.assemble().unwrap().0
}

fn iced(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    a.set_prefer_short_branch(false);
    f(&mut a).unwrap();
    a.assemble(0).unwrap()
}

fn gprs() -> impl Iterator<Item = Gpr> {
    (0..16).map(Gpr)
}

fn addresses() -> Vec<Address> {
    let disps = [0, 1, -1, 127, -128, 128, -129, 0x1234_5678, i32::MIN];
    let mut v = Vec::new();
    for b in gprs() {
        for &d in &disps {
            v.push(Address::offset(b, d));
        }
        for i in gprs().filter(|i| *i != RSP) {
            for s in [1u8, 2, 4, 8] {
                v.push(Address::indexed(b, i, s, if s == 2 { 0 } else { 40 }));
            }
        }
    }
    v
}

const SIZES: [OperandSize; 4] = [
    OperandSize::S8,
    OperandSize::S16,
    OperandSize::S32,
    OperandSize::S64,
];

#[test]
fn moves_match_iced() {
    for d in gprs() {
        for s in gprs() {
            assert_eq!(
                ours(|m| m.asm.mov_rr(d, s, OperandSize::S64).unwrap()),
                iced(|a| a.mov(r64(d), r64(s)))
            );
            assert_eq!(
                ours(|m| m.mov_rr(d, s, OperandSize::S32).unwrap()),
                iced(|a| a.mov(r32(d), r32(s)))
            );
        }
        for imm in [
            0i64,
            1,
            -1,
            0x7fff_ffff,
            0xffff_ffff,
            -0x8000_0000,
            1 << 40,
            i64::MIN,
        ] {
            for size in [OperandSize::S32, OperandSize::S64] {
                let reference = if size != OperandSize::S64 || (0..=u32::MAX as i64).contains(&imm)
                {
                    if imm == 0 {
                        iced(|a| a.xor(r32(d), r32(d)))
                    } else {
                        iced(|a| a.mov(r32(d), imm as u32))
                    }
                } else if imm as i32 as i64 == imm {
                    iced(|a| {
                        a.add_instruction(iced_x86::Instruction::with2(
                            iced_x86::Code::Mov_rm64_imm32,
                            iced_x86::Register::from(r64(d)),
                            imm as i32,
                        )?)
                    })
                } else {
                    iced(|a| a.mov(r64(d), imm))
                };
                assert_eq!(
                    ours(|m| m.mov_ri(d, imm, size).unwrap()),
                    reference,
                    "{d:?} {imm}"
                );
            }
        }
        assert_eq!(
            ours(|m| {
                m.mov_ri64_patchable(d, 0x1122_3344_5566_7788).unwrap();
            }),
            iced(|a| a.mov(r64(d), 0x1122_3344_5566_7788u64))
        );
        assert_eq!(ours(|m| m.call_reg(d).unwrap()), iced(|a| a.call(r64(d))));
        for c in [
            Cond::E,
            Cond::Ne,
            Cond::L,
            Cond::Le,
            Cond::G,
            Cond::Ge,
            Cond::B,
            Cond::Be,
            Cond::A,
            Cond::Ae,
            Cond::O,
            Cond::S,
            Cond::P,
            Cond::Np,
        ] {
            let mut want = ours(|m| m.asm.setcc_r(c, d).unwrap());
            want.clear();
            let mut a = CodeAssembler::new(64).unwrap();
            let r = match c {
                Cond::E => a.sete(r8l(d)),
                Cond::Ne => a.setne(r8l(d)),
                Cond::L => a.setl(r8l(d)),
                Cond::Le => a.setle(r8l(d)),
                Cond::G => a.setg(r8l(d)),
                Cond::Ge => a.setge(r8l(d)),
                Cond::B => a.setb(r8l(d)),
                Cond::Be => a.setbe(r8l(d)),
                Cond::A => a.seta(r8l(d)),
                Cond::Ae => a.setae(r8l(d)),
                Cond::O => a.seto(r8l(d)),
                Cond::S => a.sets(r8l(d)),
                Cond::P => a.setp(r8l(d)),
                Cond::Np => a.setnp(r8l(d)),
            };
            r.unwrap();
            a.movzx(r32(d), r8l(d)).unwrap();
            want.extend(a.assemble(0).unwrap());
            assert_eq!(ours(|m| m.setcc(c, d).unwrap()), want, "{c:?} {d:?}");
            // A forward and a backward branch.
            let got = ours(|m| {
                let l = m.new_label();
                let back = m.new_label();
                m.bind(back).unwrap();
                m.jcc(c, l).unwrap();
                m.jmp(back).unwrap();
                m.jmp(l).unwrap();
                m.bind(l).unwrap();
                m.call_reg(d).unwrap();
            });
            // iced's block encoder would shorten these; the reference is
            // each rel32 form encoded on its own at its address.
            use iced_x86::Code as C;
            let code = match c {
                Cond::E => C::Je_rel32_64,
                Cond::Ne => C::Jne_rel32_64,
                Cond::L => C::Jl_rel32_64,
                Cond::Le => C::Jle_rel32_64,
                Cond::G => C::Jg_rel32_64,
                Cond::Ge => C::Jge_rel32_64,
                Cond::B => C::Jb_rel32_64,
                Cond::Be => C::Jbe_rel32_64,
                Cond::A => C::Ja_rel32_64,
                Cond::Ae => C::Jae_rel32_64,
                Cond::O => C::Jo_rel32_64,
                Cond::S => C::Js_rel32_64,
                Cond::P => C::Jp_rel32_64,
                Cond::Np => C::Jnp_rel32_64,
            };
            let mut e = iced_x86::Encoder::new(64);
            let ins = [
                (iced_x86::Instruction::with_branch(code, 16).unwrap(), 0),
                (
                    iced_x86::Instruction::with_branch(C::Jmp_rel32_64, 0).unwrap(),
                    6,
                ),
                (
                    iced_x86::Instruction::with_branch(C::Jmp_rel32_64, 16).unwrap(),
                    11,
                ),
            ];
            for (i, ip) in ins {
                e.encode(&i, ip).unwrap();
            }
            let mut want = e.take_buffer();
            want.extend(iced(|a| a.call(r64(d))));
            assert_eq!(got, want, "{c:?}");
        }
    }
}

#[test]
fn memory_forms_match_iced() {
    for addr in addresses() {
        let mm = mem(addr);
        for r in [RAX, RCX, RSP, RBP, RSI, RDI, R8, R12, R13, R15] {
            for size in SIZES {
                assert_eq!(
                    ours(|m| m.load(r, addr, size).unwrap()),
                    iced(|a| match size {
                        OperandSize::S64 => a.mov(r64(r), qword_ptr(mm)),
                        OperandSize::S32 => a.mov(r32(r), dword_ptr(mm)),
                        OperandSize::S16 => a.movzx(r32(r), word_ptr(mm)),
                        OperandSize::S8 => a.movzx(r32(r), byte_ptr(mm)),
                    }),
                    "load {r:?} {addr:?} {size:?}"
                );
                assert_eq!(
                    ours(|m| m.store(addr, r, size).unwrap()),
                    iced(|a| match size {
                        OperandSize::S64 => a.mov(qword_ptr(mm), r64(r)),
                        OperandSize::S32 => a.mov(dword_ptr(mm), r32(r)),
                        OperandSize::S16 => a.mov(word_ptr(mm), r16(r)),
                        OperandSize::S8 => a.mov(byte_ptr(mm), r8l(r)),
                    }),
                    "store {r:?} {addr:?} {size:?}"
                );
            }
            assert_eq!(
                ours(|m| m.lea(r, addr).unwrap()),
                iced(|a| a.lea(r64(r), mm))
            );
            for (ext, want) in [
                (Extend::I8, iced(|a| a.movsx(r32(r), byte_ptr(mm)))),
                (Extend::U8, iced(|a| a.movzx(r32(r), byte_ptr(mm)))),
                (Extend::I16, iced(|a| a.movsx(r32(r), word_ptr(mm)))),
                (Extend::U16, iced(|a| a.movzx(r32(r), word_ptr(mm)))),
                (Extend::I32, iced(|a| a.movsxd(r64(r), dword_ptr(mm)))),
                (Extend::U32, iced(|a| a.mov(r32(r), dword_ptr(mm)))),
            ] {
                assert_eq!(ours(|m| m.load_ext(r, addr, ext).unwrap()), want, "{ext:?}");
            }
        }
        for imm in [0, -1, 0x1234_5678] {
            for size in SIZES {
                if imm > 0x7f && size.bytes() < 4 {
                    continue;
                }
                assert_eq!(
                    ours(|m| m.store_imm(addr, imm, size).unwrap()),
                    iced(|a| a.mov(sized(addr, size), imm)),
                    "store_imm {addr:?} {size:?}"
                );
            }
        }
    }
}

#[test]
fn alu_forms_match_iced() {
    let ops = [
        AluOp::Add,
        AluOp::Sub,
        AluOp::And,
        AluOp::Or,
        AluOp::Xor,
        AluOp::Cmp,
        AluOp::Test,
    ];
    for op in ops {
        for d in gprs() {
            for s in gprs() {
                for size in [OperandSize::S32, OperandSize::S64] {
                    let want = iced(|a| match size {
                        OperandSize::S64 => {
                            let (d, s) = (r64(d), r64(s));
                            match op {
                                AluOp::Add => a.add(d, s),
                                AluOp::Sub => a.sub(d, s),
                                AluOp::And => a.and(d, s),
                                AluOp::Or => a.or(d, s),
                                AluOp::Xor => a.xor(d, s),
                                AluOp::Cmp => a.cmp(d, s),
                                AluOp::Test => a.test(d, s),
                            }
                        }
                        _ => {
                            let (d, s) = (r32(d), r32(s));
                            match op {
                                AluOp::Add => a.add(d, s),
                                AluOp::Sub => a.sub(d, s),
                                AluOp::And => a.and(d, s),
                                AluOp::Or => a.or(d, s),
                                AluOp::Xor => a.xor(d, s),
                                AluOp::Cmp => a.cmp(d, s),
                                AluOp::Test => a.test(d, s),
                            }
                        }
                    });
                    assert_eq!(ours(|m| m.alu_rr(op, d, s, size).unwrap()), want);
                }
            }
            for imm in [0, 1, -1, 127, -128, 128, -129, 0x1234_5678, i32::MIN] {
                for size in [OperandSize::S32, OperandSize::S64] {
                    let want = iced(|a| match size {
                        OperandSize::S64 => {
                            let d = r64(d);
                            match op {
                                AluOp::Add => a.add(d, imm),
                                AluOp::Sub => a.sub(d, imm),
                                AluOp::And => a.and(d, imm),
                                AluOp::Or => a.or(d, imm),
                                AluOp::Xor => a.xor(d, imm),
                                AluOp::Cmp => a.cmp(d, imm),
                                AluOp::Test => a.test(d, imm),
                            }
                        }
                        _ => {
                            let d = r32(d);
                            match op {
                                AluOp::Add => a.add(d, imm),
                                AluOp::Sub => a.sub(d, imm),
                                AluOp::And => a.and(d, imm),
                                AluOp::Or => a.or(d, imm),
                                AluOp::Xor => a.xor(d, imm),
                                AluOp::Cmp => a.cmp(d, imm),
                                AluOp::Test => a.test(d, imm),
                            }
                        }
                    });
                    assert_eq!(
                        ours(|m| m.alu_ri(op, d, imm, size).unwrap()),
                        want,
                        "{op:?} {d:?} {imm} {size:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_call_to_the_entry_lands_on_the_prologue_whatever_its_length() {
    for (frame_size, saved) in [
        (0u32, vec![]),
        (4096, vec![(RBX, -8), (R12, -16)]),
        (4096, vec![(R13, -24)]),
    ] {
        let mut m = X64Masm::new().unwrap();
        m.mov_rr(RAX, RBX, OperandSize::S64).unwrap();
        m.call_entry().unwrap();
        m.ret().unwrap();
        m.call_entry().unwrap();
        let code = m
            .finish(&FrameInfo {
                frame_size,
                saved: saved.into(),
                sp_moved: false,
            })
            .unwrap()
            .code;
        // Both calls end on E8 rel32 whose target is offset 0.
        // The second call ends the code; the first ends before `ret`.
        for end in [code.len() - 6, code.len()] {
            assert_eq!(code[end - 5], 0xE8, "{code:02x?}");
            let rel = i32::from_le_bytes(code[end - 4..end].try_into().unwrap());
            assert_eq!(end as i64 + rel as i64, 0, "{code:02x?}");
        }
    }
}

/// The first `k` callee-saved registers in their slots.
fn first_saved(k: usize) -> crate::masm::SavedRegs {
    CALLEE_SAVED[..k]
        .iter()
        .enumerate()
        .map(|(i, &r)| (r, super::super::abi::save_slot(i)))
        .collect()
}

/// What iced assembles for a frame, prologue and epilogue.
fn iced_frame(f: &FrameInfo) -> (Vec<u8>, Vec<u8>) {
    let k = f.saved.len() as u32;
    let prefix = f.saved[..] == first_saved(k as usize)[..] && f.frame_size >= 8 * k;
    let prologue = iced(|a| {
        a.push(rbp)?;
        a.mov(rbp, rsp)?;
        if prefix {
            for &(r, _) in &f.saved {
                a.push(r64(r))?;
            }
            match f.frame_size - 8 * k {
                0 => {}
                8 => a.push(rax)?,
                rest => a.sub(rsp, rest as i32)?,
            }
        } else {
            if f.frame_size > 0 {
                a.sub(rsp, f.frame_size as i32)?;
            }
            for &(r, off) in &f.saved {
                a.mov(qword_ptr(rbp + off), r64(r))?;
            }
        }
        Ok(())
    });
    let epilogue = iced(|a| {
        if prefix {
            let rest = f.frame_size - 8 * k;
            if f.sp_moved || rest > 8 {
                a.lea(rsp, qword_ptr(rbp - 8 * k as i32))?;
            } else if rest == 8 {
                a.pop(r11)?;
            }
            for &(r, _) in f.saved.iter().rev() {
                a.pop(r64(r))?;
            }
        } else {
            for &(r, off) in &f.saved {
                a.mov(r64(r), qword_ptr(rbp + off))?;
            }
            a.mov(rsp, rbp)?;
        }
        a.pop(rbp)?;
        a.ret()
    });
    (prologue, epilogue)
}

/// Frames of both forms: the first k registers pushed (with no rest, an
/// 8-byte rest, a larger one; SP moved or not), and sets that are not a
/// prefix of `CALLEE_SAVED` (moved into their slots).
fn frames() -> Vec<FrameInfo> {
    let mut v = Vec::new();
    for k in 0..=CALLEE_SAVED.len() {
        let pushed = 8 * k as u32;
        for rest in [0u32, 8, 16, 24, 112, 4096] {
            let size = (pushed + rest + 15) & !15;
            for sp_moved in [false, true] {
                v.push(FrameInfo {
                    frame_size: size,
                    saved: first_saved(k),
                    sp_moved,
                });
            }
        }
    }
    let odd: crate::masm::SavedRegs = [(RBX, -8), (R12, -16), (R15, -40)].into_iter().collect();
    for frame_size in [48u32, 128, 4096] {
        v.push(FrameInfo {
            frame_size,
            saved: odd.clone(),
            sp_moved: false,
        });
    }
    v.push(FrameInfo {
        frame_size: 48,
        saved: [(R13, -24)].into_iter().collect(),
        sp_moved: false,
    });
    v
}

#[test]
fn prologue_and_epilogue_match_iced() {
    for frame in frames() {
        // A slot, then the shared epilogue: both hold the same one.
        let mut m = X64Masm::new().unwrap();
        m.epilogue_slot().unwrap();
        m.epilogue(&frame).unwrap();
        let got = m.finish(&frame).unwrap().code;
        let (prologue, epilogue) = iced_frame(&frame);
        assert_eq!(&got[..prologue.len()], &prologue[..], "{frame:?}");
        let slot = &got[prologue.len()..prologue.len() + EPILOGUE_SLOT];
        assert_eq!(&slot[..epilogue.len()], &epilogue[..], "{frame:?}");
        assert!(
            slot[epilogue.len()..].iter().all(|&b| b == 0xCC),
            "int3 after the ret: {frame:?}"
        );
        assert_eq!(
            &got[prologue.len() + EPILOGUE_SLOT..],
            &epilogue[..],
            "{frame:?}"
        );
    }
}

#[test]
fn the_pushed_form_keeps_the_saves_where_the_moved_form_puts_them() {
    // The runtime finds callee-saved register i at rbp - 8(i+1) in every
    // frame (`exec::stackroots`), and resumes handlers at rbp - frame_size:
    // simulate each prologue's pushes and check both.
    for frame in frames() {
        let mut m = X64Masm::new().unwrap();
        m.epilogue_slot().unwrap();
        let code = m.finish(&frame).unwrap().code;
        // rsp relative to rbp after the prologue (`depth`), and where each
        // push went.
        let (mut depth, mut at, mut stored) = (0i32, 4usize, Vec::new());
        assert_eq!(&code[..4], &[0x55, 0x48, 0x89, 0xE5]);
        loop {
            let (rex, op) = match code[at] {
                0x41 => (8, code[at + 1]),
                b => (0, b),
            };
            if (0x50..0x58).contains(&op) {
                depth -= 8;
                stored.push((Gpr(rex + (op - 0x50)), depth));
                at += 1 + (rex / 8) as usize;
            } else if op == 0x48 && matches!(code[at + 1], 0x83 | 0x81) {
                let imm = if code[at + 1] == 0x83 {
                    code[at + 3] as i8 as i32
                } else {
                    i32::from_le_bytes(code[at + 3..at + 7].try_into().unwrap())
                };
                depth -= imm;
                break;
            } else {
                break;
            }
        }
        if frame_form(&frame) != FrameForm::Moved {
            assert_eq!(depth, -(frame.frame_size as i32), "{frame:?}");
            for &(r, off) in &frame.saved {
                assert!(stored.contains(&(r, off)), "{r:?} not at {off}: {frame:?}");
            }
        }
    }
}

#[test]
fn every_epilogue_fits_an_epilogue_slot() {
    // Inline epilogues assume disp8 save slots (4-byte restores).
    for frame in frames() {
        let mut e = Vec::new();
        encode_epilogue(&mut e, &frame).unwrap();
        assert!(e.len() <= EPILOGUE_SLOT, "{frame:?}");
    }
    let mut e = Vec::new();
    encode_epilogue(
        &mut e,
        &FrameInfo {
            frame_size: 4096,
            saved: [(R15, -40), (RBX, -8), (R12, -16), (R13, -24), (R14, -32)]
                .into_iter()
                .collect(),
            sp_moved: false,
        },
    )
    .unwrap();
    assert_eq!(e.len(), EPILOGUE_SLOT);
}

#[test]
fn other_integer_forms_match_iced() {
    for d in gprs() {
        for s in gprs() {
            for size in [OperandSize::S32, OperandSize::S64] {
                let q = size == OperandSize::S64;
                assert_eq!(
                    ours(|m| m.imul_rr(d, s, size).unwrap()),
                    iced(|a| if q {
                        a.imul_2(r64(d), r64(s))
                    } else {
                        a.imul_2(r32(d), r32(s))
                    })
                );
                for imm in [3, -128, 1000] {
                    assert_eq!(
                        ours(|m| m.imul_rri(d, s, imm, size).unwrap()),
                        iced(|a| if q {
                            a.imul_3(r64(d), r64(s), imm)
                        } else {
                            a.imul_3(r32(d), r32(s), imm)
                        })
                    );
                }
            }
            let ext_want = [
                (Extend::I8, iced(|a| a.movsx(r32(d), r8l(s)))),
                (Extend::U8, iced(|a| a.movzx(r32(d), r8l(s)))),
                (Extend::I16, iced(|a| a.movsx(r32(d), r16(s)))),
                (Extend::U16, iced(|a| a.movzx(r32(d), r16(s)))),
                (Extend::I32, iced(|a| a.movsxd(r64(d), r32(s)))),
                (Extend::U32, iced(|a| a.mov(r32(d), r32(s)))),
            ];
            for (ext, want) in ext_want {
                assert_eq!(ours(|m| m.extend(d, s, ext).unwrap()), want, "{ext:?}");
            }
        }
        for size in [OperandSize::S32, OperandSize::S64] {
            let q = size == OperandSize::S64;
            for (kind, want) in [
                (
                    MulDivKind::SDiv,
                    iced(|a| if q { a.idiv(r64(d)) } else { a.idiv(r32(d)) }),
                ),
                (
                    MulDivKind::UDiv,
                    iced(|a| if q { a.div(r64(d)) } else { a.div(r32(d)) }),
                ),
                (
                    MulDivKind::UMul,
                    iced(|a| if q { a.mul(r64(d)) } else { a.mul(r32(d)) }),
                ),
            ] {
                assert_eq!(ours(|m| m.muldiv(kind, d, size).unwrap()), want);
            }
            assert_eq!(
                ours(|m| m.neg(d, size).unwrap()),
                iced(|a| if q { a.neg(r64(d)) } else { a.neg(r32(d)) })
            );
            assert_eq!(
                ours(|m| m.not(d, size).unwrap()),
                iced(|a| if q { a.not(r64(d)) } else { a.not(r32(d)) })
            );
            for kind in [ShiftKind::Shl, ShiftKind::Sar, ShiftKind::Shr] {
                let want = iced(|a| match (kind, q) {
                    (ShiftKind::Shl, true) => a.shl(r64(d), cl),
                    (ShiftKind::Shl, false) => a.shl(r32(d), cl),
                    (ShiftKind::Sar, true) => a.sar(r64(d), cl),
                    (ShiftKind::Sar, false) => a.sar(r32(d), cl),
                    (ShiftKind::Shr, true) => a.shr(r64(d), cl),
                    (ShiftKind::Shr, false) => a.shr(r32(d), cl),
                });
                assert_eq!(ours(|m| m.shift_cl(kind, d, size).unwrap()), want);
                for n in [1u8, 2, 31, 63] {
                    let k = n as i32;
                    let want = iced(|a| match (kind, q) {
                        (ShiftKind::Shl, true) => a.shl(r64(d), k),
                        (ShiftKind::Shl, false) => a.shl(r32(d), k),
                        (ShiftKind::Sar, true) => a.sar(r64(d), k),
                        (ShiftKind::Sar, false) => a.sar(r32(d), k),
                        (ShiftKind::Shr, true) => a.shr(r64(d), k),
                        (ShiftKind::Shr, false) => a.shr(r32(d), k),
                    });
                    assert_eq!(ours(|m| m.shift_ri(kind, d, n, size).unwrap()), want);
                }
            }
        }
    }
    assert_eq!(
        ours(|m| m.sign_extend_rax(OperandSize::S64).unwrap()),
        iced(|a| a.cqo())
    );
    assert_eq!(
        ours(|m| m.sign_extend_rax(OperandSize::S32).unwrap()),
        iced(|a| a.cdq())
    );
    assert_eq!(ours(|m| m.rep_movsb().unwrap()), iced(|a| a.rep().movsb()));
    assert_eq!(ours(|m| m.rep_stosb().unwrap()), iced(|a| a.rep().stosb()));
    let ops = [
        AluOp::Add,
        AluOp::Sub,
        AluOp::And,
        AluOp::Or,
        AluOp::Xor,
        AluOp::Cmp,
        AluOp::Test,
    ];
    for addr in [
        Address::offset(RAX, 0),
        Address::offset(R13, 8),
        Address::offset(RSP, -300),
        Address::indexed(R12, R9, 8, 16),
    ] {
        for op in ops {
            for size in SIZES {
                for imm in [0, 1, -1, 127, 200, 1000, 0x12_3456] {
                    if (size == OperandSize::S8 && imm > 255)
                        || (size == OperandSize::S16 && imm > 0xffff)
                    {
                        continue;
                    }
                    let m = sized(addr, size);
                    let want = iced(|a| match op {
                        AluOp::Add => a.add(m, imm),
                        AluOp::Sub => a.sub(m, imm),
                        AluOp::And => a.and(m, imm),
                        AluOp::Or => a.or(m, imm),
                        AluOp::Xor => a.xor(m, imm),
                        AluOp::Cmp => a.cmp(m, imm),
                        AluOp::Test => a.test(m, imm),
                    });
                    assert_eq!(
                        ours(|mm| mm.alu_mi(op, addr, imm, size).unwrap()),
                        want,
                        "{op:?} {size:?} {imm}"
                    );
                }
            }
        }
    }
}

#[test]
fn sse_forms_match_iced() {
    let xs = (0..16).map(Xmm);
    for d in xs.clone() {
        for s in xs.clone() {
            for (op, want) in [
                (FloatOp::Add, iced(|a| a.addsd(x(d), x(s)))),
                (FloatOp::Sub, iced(|a| a.subsd(x(d), x(s)))),
                (FloatOp::Mul, iced(|a| a.mulsd(x(d), x(s)))),
                (FloatOp::Div, iced(|a| a.divsd(x(d), x(s)))),
            ] {
                assert_eq!(ours(|m| m.fop(op, d, s).unwrap()), want);
            }
            assert_eq!(
                ours(|m| m.fcmp(d, s).unwrap()),
                iced(|a| a.ucomisd(x(d), x(s)))
            );
            assert_eq!(
                ours(|m| m.fxor(d, s).unwrap()),
                iced(|a| a.xorpd(x(d), x(s)))
            );
            if d != s {
                assert_eq!(
                    ours(|m| m.fmov(d, s).unwrap()),
                    iced(|a| a.movapd(x(d), x(s)))
                );
            }
        }
        assert_eq!(
            ours(|m| m.fround_single(d).unwrap()),
            iced(|a| {
                a.cvtsd2ss(x(d), x(d))?;
                a.cvtss2sd(x(d), x(d))
            })
        );
        assert_eq!(
            ours(|m| m.narrow_to_single(d).unwrap()),
            iced(|a| a.cvtsd2ss(x(d), x(d)))
        );
        assert_eq!(
            ours(|m| m.widen_from_single(d).unwrap()),
            iced(|a| a.cvtss2sd(x(d), x(d)))
        );
        for g in gprs() {
            assert_eq!(
                ours(|m| m.movq_xr(d, g).unwrap()),
                iced(|a| a.movq(x(d), r64(g)))
            );
            assert_eq!(
                ours(|m| m.movq_rx(g, d).unwrap()),
                iced(|a| a.movq(r64(g), x(d)))
            );
            assert_eq!(
                ours(|m| m.cvt_i2f(d, g, OperandSize::S64).unwrap()),
                iced(|a| {
                    a.xorpd(x(d), x(d))?;
                    a.cvtsi2sd(x(d), r64(g))
                })
            );
            assert_eq!(
                ours(|m| m.cvt_i2f(d, g, OperandSize::S32).unwrap()),
                iced(|a| {
                    a.xorpd(x(d), x(d))?;
                    a.cvtsi2sd(x(d), r32(g))
                })
            );
            assert_eq!(
                ours(|m| m.cvt_f2i(g, d, OperandSize::S64).unwrap()),
                iced(|a| a.cvttsd2si(r64(g), x(d)))
            );
            assert_eq!(
                ours(|m| m.cvt_f2i(g, d, OperandSize::S32).unwrap()),
                iced(|a| a.cvttsd2si(r32(g), x(d)))
            );
        }
        for addr in [
            Address::offset(RAX, 0),
            Address::offset(R13, 8),
            Address::offset(RSP, -300),
            Address::indexed(R12, R9, 8, 16),
        ] {
            let mm = mem(addr);
            assert_eq!(
                ours(|m| m.fload(d, addr, true).unwrap()),
                iced(|a| a.cvtss2sd(x(d), dword_ptr(mm)))
            );
            assert_eq!(
                ours(|m| m.fload(d, addr, false).unwrap()),
                iced(|a| a.movsd_2(x(d), qword_ptr(mm)))
            );
            assert_eq!(
                ours(|m| m.fstore(addr, d, true).unwrap()),
                iced(|a| {
                    a.cvtsd2ss(x(XMM_SCRATCH), x(d))?;
                    a.movss(dword_ptr(mm), x(XMM_SCRATCH))
                })
            );
            assert_eq!(
                ours(|m| m.fstore(addr, d, false).unwrap()),
                iced(|a| a.movsd_2(qword_ptr(mm), x(d)))
            );
            assert_eq!(
                ours(|m| m.fstore_raw(addr, d, true).unwrap()),
                iced(|a| a.movss(dword_ptr(mm), x(d)))
            );
            assert_eq!(
                ours(|m| m.fstore_raw(addr, d, false).unwrap()),
                iced(|a| a.movsd_2(qword_ptr(mm), x(d)))
            );
        }
    }
}

#[test]
fn fixed_register_ops_pin_their_registers_inside() {
    for d in [RSI, R8, RBX] {
        for s in [RDI, R9, R11] {
            for size in [OperandSize::S32, OperandSize::S64] {
                let q = size == OperandSize::S64;
                // Unsigned: the dividend to rax, rdx cleared, the result back
                // from rax (quotient) or rdx (remainder).
                for (kind, res) in [(DivKind::UDiv, rax), (DivKind::URem, rdx)] {
                    let want = iced(|a| {
                        a.mov(rax, r64(d))?;
                        a.xor(edx, edx)?;
                        if q {
                            a.div(r64(s))?
                        } else {
                            a.div(r32(s))?
                        }
                        a.mov(r64(d), res)
                    });
                    assert_eq!(ours(|m| m.div(kind, d, s, size, None).unwrap()), want);
                }
                let want = iced(|a| {
                    a.mov(rax, r64(d))?;
                    if q {
                        a.mul(r64(s))?
                    } else {
                        a.mul(r32(s))?
                    }
                    a.jo(0x1_0000)?;
                    a.mov(r64(d), rax)
                });
                let got = ours(|m| {
                    let l = m.new_label();
                    m.umul_checked(d, s, size, l).unwrap();
                    m.bind(l).unwrap();
                });
                // Same instructions around the overflow branch.
                let (g, w) = (got.len(), want.len());
                assert_eq!(g, w);
                assert_eq!(got[..g - 9], want[..w - 9]);
                assert_eq!(got[g - 3..], want[w - 3..]);
            }
        }
    }
    // A signed division needs somewhere to send MIN / -1.
    assert!(X64Masm::new()
        .unwrap()
        .div(DivKind::SDiv, RSI, RDI, OperandSize::S64, None)
        .is_err());
    // The shift count: no move when it is already where the ISA wants it.
    assert_eq!(X64Masm::SHIFT_COUNT, RCX);
    assert_eq!(
        ours(|m| m.shift(ShiftKind::Shl, RSI, RCX, OperandSize::S64).unwrap()),
        iced(|a| a.shl(rsi, cl))
    );
    assert_eq!(
        ours(|m| m.shift(ShiftKind::Sar, RSI, RDI, OperandSize::S32).unwrap()),
        iced(|a| {
            a.mov(rcx, rdi)?;
            a.sar(esi, cl)
        })
    );
    let target = 0x1122_3344_5566_7788u64;
    assert_eq!(
        ours(|m| assert_eq!(m.call_patchable(target).unwrap(), 0)),
        iced(|a| {
            a.mov(rax, target)?;
            a.call(rax)
        })
    );
    assert_eq!(
        ours(|m| assert_eq!(m.call_cell_patchable(target).unwrap(), 0)),
        iced(|a| {
            a.mov(rax, target)?;
            a.call(qword_ptr(rax))
        })
    );
    let b = X64Masm::BLOCK;
    assert_eq!((b.dst, b.src, b.len, b.fill), (RDI, RSI, RCX, RAX));
    assert_eq!(ours(|m| m.copy_bytes().unwrap()), iced(|a| a.rep().movsb()));
    assert_eq!(ours(|m| m.fill_bytes().unwrap()), iced(|a| a.rep().stosb()));
}
