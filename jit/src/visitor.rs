//! The visitor: one arm per CIL opcode (ECMA-335 Partition III), each a call into
//! `CodeGen`. Operands were validated by the decoder; operand *types* are
//! validated by `CodeGen` against the typed stack before any code is emitted.

use crate::codegen::{BinOp, CmpKind, CodeGen, ConvTo};
use crate::decoder::{op, Instr, Operand};
use crate::host::{JitHost, JitType};
use crate::masm::MacroAssembler;
use crate::JitErrorKind;

type R = Result<(), JitErrorKind>;

fn int(i: &Instr) -> Result<i64, JitErrorKind> {
    match i.operand {
        Operand::Int(v) => Ok(v),
        _ => Err(JitErrorKind::Internal("operand kind".into())),
    }
}
fn tok(i: &Instr) -> Result<u32, JitErrorKind> {
    match i.operand {
        Operand::Token(t) => Ok(t),
        _ => Err(JitErrorKind::Internal("operand kind".into())),
    }
}
fn target(i: &Instr) -> Result<u32, JitErrorKind> {
    match i.operand {
        Operand::Target(t) => Ok(t),
        _ => Err(JitErrorKind::Internal("operand kind".into())),
    }
}

/// Visits one instruction.
pub fn visit<H: JitHost, M: MacroAssembler>(g: &mut CodeGen<'_, H, M>, i: &Instr) -> R {
    use JitType as T;
    let c = i.opcode;
    match c {
        op::NOP | op::BREAK | op::VOLATILE | op::TAIL | op::READONLY | op::UNALIGNED | op::NO => {
            Ok(())
        }
        op::LDARG_0..=op::LDARG_3 => g.ldarg(c - op::LDARG_0),
        op::LDLOC_0..=op::LDLOC_3 => g.ldloc(c - op::LDLOC_0),
        op::STLOC_0..=op::STLOC_3 => g.stloc(c - op::STLOC_0),
        op::LDARG_S | op::LDARG => g.ldarg(int(i)? as u16),
        op::LDARGA_S | op::LDARGA => g.ldarga(int(i)? as u16),
        op::STARG_S | op::STARG => g.starg(int(i)? as u16),
        op::LDLOC_S | op::LDLOC => g.ldloc(int(i)? as u16),
        op::LDLOCA_S | op::LDLOCA => g.ldloca(int(i)? as u16),
        op::STLOC_S | op::STLOC => g.stloc(int(i)? as u16),
        op::LDNULL => {
            g.ldnull();
            Ok(())
        }
        op::LDC_I4_M1..=op::LDC_I4_8 => {
            g.ldc_i4(c as i32 - op::LDC_I4_0 as i32);
            Ok(())
        }
        op::LDC_I4_S | op::LDC_I4 => {
            g.ldc_i4(int(i)? as i32);
            Ok(())
        }
        op::LDC_I8 => {
            g.ldc_i8(int(i)?);
            Ok(())
        }
        op::LDC_R4 | op::LDC_R8 => match i.operand {
            Operand::Float(f) => {
                g.ldc_r(f, i.opcode == op::LDC_R4);
                Ok(())
            }
            _ => Err(JitErrorKind::Internal("operand kind".into())),
        },
        op::DUP => g.dup(),
        op::POP => g.pop(),
        op::CALL => g.call(tok(i)?, false),
        op::CALLVIRT => g.call(tok(i)?, true),
        op::CALLI => g.calli(tok(i)?),
        op::RET => g.ret(),
        op::BR_S | op::BR => g.br(target(i)?),
        op::LEAVE | op::LEAVE_S => g.leave(target(i)?),
        op::BRFALSE_S | op::BRFALSE => g.brbool(target(i)?, false),
        op::BRTRUE_S | op::BRTRUE => g.brbool(target(i)?, true),
        op::BEQ_S | op::BEQ => g.brcmp(target(i)?, CmpKind::Eq),
        op::BGE_S | op::BGE => g.brcmp(target(i)?, CmpKind::Ge),
        op::BGT_S | op::BGT => g.brcmp(target(i)?, CmpKind::Gt),
        op::BLE_S | op::BLE => g.brcmp(target(i)?, CmpKind::Le),
        op::BLT_S | op::BLT => g.brcmp(target(i)?, CmpKind::Lt),
        op::BNE_UN_S | op::BNE_UN => g.brcmp(target(i)?, CmpKind::NeUn),
        op::BGE_UN_S | op::BGE_UN => g.brcmp(target(i)?, CmpKind::GeUn),
        op::BGT_UN_S | op::BGT_UN => g.brcmp(target(i)?, CmpKind::GtUn),
        op::BLE_UN_S | op::BLE_UN => g.brcmp(target(i)?, CmpKind::LeUn),
        op::BLT_UN_S | op::BLT_UN => g.brcmp(target(i)?, CmpKind::LtUn),
        op::SWITCH => match &i.operand {
            Operand::Switch(ts) => g.switch(ts),
            _ => Err(JitErrorKind::Internal("operand kind".into())),
        },
        op::LDIND_I1 => g.ldind(T::I1),
        op::LDIND_U1 => g.ldind(T::U1),
        op::LDIND_I2 => g.ldind(T::I2),
        op::LDIND_U2 => g.ldind(T::U2),
        op::LDIND_I4 => g.ldind(T::I4),
        op::LDIND_U4 => g.ldind(T::U4),
        op::LDIND_I8 => g.ldind(T::I8),
        op::LDIND_I => g.ldind(T::I),
        op::LDIND_R4 => g.ldind(T::R4),
        op::LDIND_R8 => g.ldind(T::R8),
        op::LDIND_REF => g.ldind(T::Obj),
        op::STIND_REF => g.stind(T::Obj),
        op::STIND_I1 => g.stind(T::I1),
        op::STIND_I2 => g.stind(T::I2),
        op::STIND_I4 => g.stind(T::I4),
        op::STIND_I8 => g.stind(T::I8),
        op::STIND_R4 => g.stind(T::R4),
        op::STIND_R8 => g.stind(T::R8),
        op::STIND_I => g.stind(T::I),
        op::ADD => g.binop(BinOp::Add),
        op::SUB => g.binop(BinOp::Sub),
        op::MUL => g.binop(BinOp::Mul),
        op::DIV => g.binop(BinOp::Div),
        op::DIV_UN => g.binop(BinOp::DivUn),
        op::REM => g.binop(BinOp::Rem),
        op::REM_UN => g.binop(BinOp::RemUn),
        op::AND => g.binop(BinOp::And),
        op::OR => g.binop(BinOp::Or),
        op::XOR => g.binop(BinOp::Xor),
        op::SHL => g.binop(BinOp::Shl),
        op::SHR => g.binop(BinOp::Shr),
        op::SHR_UN => g.binop(BinOp::ShrUn),
        op::ADD_OVF => g.binop(BinOp::AddOvf),
        op::ADD_OVF_UN => g.binop(BinOp::AddOvfUn),
        op::SUB_OVF => g.binop(BinOp::SubOvf),
        op::SUB_OVF_UN => g.binop(BinOp::SubOvfUn),
        op::MUL_OVF => g.binop(BinOp::MulOvf),
        op::MUL_OVF_UN => g.binop(BinOp::MulOvfUn),
        op::NEG => g.neg(),
        op::NOT => g.not(),
        op::CONV_I1 => g.conv(ConvTo::I1, false, false),
        op::CONV_I2 => g.conv(ConvTo::I2, false, false),
        op::CONV_I4 => g.conv(ConvTo::I4, false, false),
        op::CONV_I8 => g.conv(ConvTo::I8, false, false),
        op::CONV_R4 => g.conv(ConvTo::R4, false, false),
        op::CONV_R8 => g.conv(ConvTo::R8, false, false),
        op::CONV_U4 => g.conv(ConvTo::U4, false, false),
        op::CONV_U8 => g.conv(ConvTo::U8, false, false),
        op::CONV_U2 => g.conv(ConvTo::U2, false, false),
        op::CONV_U1 => g.conv(ConvTo::U1, false, false),
        op::CONV_I => g.conv(ConvTo::I, false, false),
        op::CONV_U => g.conv(ConvTo::U, false, false),
        op::CONV_R_UN => g.conv(ConvTo::RUn, false, true),
        op::CONV_OVF_I1 => g.conv(ConvTo::I1, true, false),
        op::CONV_OVF_U1 => g.conv(ConvTo::U1, true, false),
        op::CONV_OVF_I2 => g.conv(ConvTo::I2, true, false),
        op::CONV_OVF_U2 => g.conv(ConvTo::U2, true, false),
        op::CONV_OVF_I4 => g.conv(ConvTo::I4, true, false),
        op::CONV_OVF_U4 => g.conv(ConvTo::U4, true, false),
        op::CONV_OVF_I8 => g.conv(ConvTo::I8, true, false),
        op::CONV_OVF_U8 => g.conv(ConvTo::U8, true, false),
        op::CONV_OVF_I => g.conv(ConvTo::I, true, false),
        op::CONV_OVF_U => g.conv(ConvTo::U, true, false),
        op::CONV_OVF_I1_UN => g.conv(ConvTo::I1, true, true),
        op::CONV_OVF_I2_UN => g.conv(ConvTo::I2, true, true),
        op::CONV_OVF_I4_UN => g.conv(ConvTo::I4, true, true),
        op::CONV_OVF_I8_UN => g.conv(ConvTo::I8, true, true),
        op::CONV_OVF_U1_UN => g.conv(ConvTo::U1, true, true),
        op::CONV_OVF_U2_UN => g.conv(ConvTo::U2, true, true),
        op::CONV_OVF_U4_UN => g.conv(ConvTo::U4, true, true),
        op::CONV_OVF_U8_UN => g.conv(ConvTo::U8, true, true),
        op::CONV_OVF_I_UN => g.conv(ConvTo::I, true, true),
        op::CONV_OVF_U_UN => g.conv(ConvTo::U, true, true),
        op::CKFINITE => g.ckfinite(),
        op::CEQ => g.cmp(CmpKind::Eq),
        op::CGT => g.cmp(CmpKind::Gt),
        op::CGT_UN => g.cmp(CmpKind::GtUn),
        op::CLT => g.cmp(CmpKind::Lt),
        op::CLT_UN => g.cmp(CmpKind::LtUn),
        op::CPOBJ => g.cpobj(tok(i)?),
        op::LDOBJ => g.ldobj(tok(i)?),
        op::STOBJ => g.stobj(tok(i)?),
        op::INITOBJ => g.initobj(tok(i)?),
        op::SIZEOF => g.sizeof(tok(i)?),
        op::CPBLK => g.cpblk(false),
        op::INITBLK => g.cpblk(true),
        op::LDSTR => g.ldstr(tok(i)?),
        op::NEWOBJ => g.newobj(tok(i)?),
        op::CASTCLASS => g.castclass(tok(i)?, true),
        op::ISINST => g.castclass(tok(i)?, false),
        op::BOX => g.box_(tok(i)?),
        op::UNBOX => g.unbox(tok(i)?),
        op::UNBOX_ANY => g.unbox_any(tok(i)?),
        op::THROW => g.throw(),
        op::LDFLD => g.ldfld(tok(i)?),
        op::LDFLDA => g.ldflda(tok(i)?),
        op::STFLD => g.stfld(tok(i)?),
        op::LDSFLD => g.ldsfld(tok(i)?),
        op::LDSFLDA => g.ldsflda(tok(i)?),
        op::STSFLD => g.stsfld(tok(i)?),
        op::NEWARR => g.newarr(tok(i)?),
        op::LDLEN => g.ldlen(),
        op::LDELEMA => g.ldelema(tok(i)?),
        op::LDELEM_I1 => g.ldelem(T::I1),
        op::LDELEM_U1 => g.ldelem(T::U1),
        op::LDELEM_I2 => g.ldelem(T::I2),
        op::LDELEM_U2 => g.ldelem(T::U2),
        op::LDELEM_I4 => g.ldelem(T::I4),
        op::LDELEM_U4 => g.ldelem(T::U4),
        op::LDELEM_I8 => g.ldelem(T::I8),
        op::LDELEM_I => g.ldelem(T::I),
        op::LDELEM_R4 => g.ldelem(T::R4),
        op::LDELEM_R8 => g.ldelem(T::R8),
        op::LDELEM_REF => g.ldelem(T::Obj),
        op::LDELEM => g.ldelem_tok(tok(i)?),
        op::STELEM_I => g.stelem(T::I),
        op::STELEM_I1 => g.stelem(T::I1),
        op::STELEM_I2 => g.stelem(T::I2),
        op::STELEM_I4 => g.stelem(T::I4),
        op::STELEM_I8 => g.stelem(T::I8),
        op::STELEM_R4 => g.stelem(T::R4),
        op::STELEM_R8 => g.stelem(T::R8),
        op::STELEM_REF => g.stelem(T::Obj),
        op::STELEM => g.stelem_tok(tok(i)?),
        op::LDTOKEN => g.ldtoken(tok(i)?),
        op::LDFTN => g.ldftn(tok(i)?, false),
        op::LDVIRTFTN => g.ldftn(tok(i)?, true),
        op::LOCALLOC => g.localloc(),
        op::CONSTRAINED => {
            g.set_constrained(tok(i)?);
            Ok(())
        }
        op::ENDFINALLY => g.endfinally(),
        op::ENDFILTER => g.endfilter(),
        op::RETHROW => g.rethrow(),
        op::JMP => Err(JitErrorKind::Unsupported("jmp")),
        op::ARGLIST | op::MKREFANY | op::REFANYVAL | op::REFANYTYPE => {
            Err(JitErrorKind::Unsupported("typed references and varargs"))
        }
        other => Err(JitErrorKind::InvalidOpcode(other)),
    }
}
