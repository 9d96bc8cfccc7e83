//! CIL instruction decoder (ECMA-335 Partition III §1.2 encoding, §III.2–4 opcodes):
//! one-byte opcodes, the 0xFE two-byte page, inline operands and branch targets.

use alloc::vec::Vec;

/// Kind of inline operand following an opcode (ECMA-335 §III.1.2 / §VI.C.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperandKind {
    None,
    I8,
    U8,
    U16,
    I32,
    I64,
    R4,
    R8,
    Token,
    Br8,
    Br32,
    Switch,
}

macro_rules! opcodes {
    ($($name:ident = $code:expr, $text:expr, $kind:ident;)*) => {
        /// Opcode numbers: one-byte opcodes as-is, two-byte ones as `0xFE00 | second`.
        pub mod op {
            $(#[allow(missing_docs)] pub const $name: u16 = $code;)*
        }
        /// Mnemonic and operand kind of an opcode number.
        pub fn info(code: u16) -> Option<(&'static str, OperandKind)> {
            match code {
                $(op::$name => Some(($text, OperandKind::$kind)),)*
                _ => None,
            }
        }
    };
}

opcodes! {
    NOP = 0x00, "nop", None; BREAK = 0x01, "break", None;
    LDARG_0 = 0x02, "ldarg.0", None; LDARG_1 = 0x03, "ldarg.1", None;
    LDARG_2 = 0x04, "ldarg.2", None; LDARG_3 = 0x05, "ldarg.3", None;
    LDLOC_0 = 0x06, "ldloc.0", None; LDLOC_1 = 0x07, "ldloc.1", None;
    LDLOC_2 = 0x08, "ldloc.2", None; LDLOC_3 = 0x09, "ldloc.3", None;
    STLOC_0 = 0x0A, "stloc.0", None; STLOC_1 = 0x0B, "stloc.1", None;
    STLOC_2 = 0x0C, "stloc.2", None; STLOC_3 = 0x0D, "stloc.3", None;
    LDARG_S = 0x0E, "ldarg.s", U8; LDARGA_S = 0x0F, "ldarga.s", U8; STARG_S = 0x10, "starg.s", U8;
    LDLOC_S = 0x11, "ldloc.s", U8; LDLOCA_S = 0x12, "ldloca.s", U8; STLOC_S = 0x13, "stloc.s", U8;
    LDNULL = 0x14, "ldnull", None; LDC_I4_M1 = 0x15, "ldc.i4.m1", None;
    LDC_I4_0 = 0x16, "ldc.i4.0", None; LDC_I4_1 = 0x17, "ldc.i4.1", None;
    LDC_I4_2 = 0x18, "ldc.i4.2", None; LDC_I4_3 = 0x19, "ldc.i4.3", None;
    LDC_I4_4 = 0x1A, "ldc.i4.4", None; LDC_I4_5 = 0x1B, "ldc.i4.5", None;
    LDC_I4_6 = 0x1C, "ldc.i4.6", None; LDC_I4_7 = 0x1D, "ldc.i4.7", None;
    LDC_I4_8 = 0x1E, "ldc.i4.8", None; LDC_I4_S = 0x1F, "ldc.i4.s", I8;
    LDC_I4 = 0x20, "ldc.i4", I32; LDC_I8 = 0x21, "ldc.i8", I64;
    LDC_R4 = 0x22, "ldc.r4", R4; LDC_R8 = 0x23, "ldc.r8", R8;
    DUP = 0x25, "dup", None; POP = 0x26, "pop", None; JMP = 0x27, "jmp", Token;
    CALL = 0x28, "call", Token; CALLI = 0x29, "calli", Token; RET = 0x2A, "ret", None;
    BR_S = 0x2B, "br.s", Br8; BRFALSE_S = 0x2C, "brfalse.s", Br8; BRTRUE_S = 0x2D, "brtrue.s", Br8;
    BEQ_S = 0x2E, "beq.s", Br8; BGE_S = 0x2F, "bge.s", Br8; BGT_S = 0x30, "bgt.s", Br8;
    BLE_S = 0x31, "ble.s", Br8; BLT_S = 0x32, "blt.s", Br8; BNE_UN_S = 0x33, "bne.un.s", Br8;
    BGE_UN_S = 0x34, "bge.un.s", Br8; BGT_UN_S = 0x35, "bgt.un.s", Br8;
    BLE_UN_S = 0x36, "ble.un.s", Br8; BLT_UN_S = 0x37, "blt.un.s", Br8;
    BR = 0x38, "br", Br32; BRFALSE = 0x39, "brfalse", Br32; BRTRUE = 0x3A, "brtrue", Br32;
    BEQ = 0x3B, "beq", Br32; BGE = 0x3C, "bge", Br32; BGT = 0x3D, "bgt", Br32;
    BLE = 0x3E, "ble", Br32; BLT = 0x3F, "blt", Br32; BNE_UN = 0x40, "bne.un", Br32;
    BGE_UN = 0x41, "bge.un", Br32; BGT_UN = 0x42, "bgt.un", Br32;
    BLE_UN = 0x43, "ble.un", Br32; BLT_UN = 0x44, "blt.un", Br32;
    SWITCH = 0x45, "switch", Switch;
    LDIND_I1 = 0x46, "ldind.i1", None; LDIND_U1 = 0x47, "ldind.u1", None;
    LDIND_I2 = 0x48, "ldind.i2", None; LDIND_U2 = 0x49, "ldind.u2", None;
    LDIND_I4 = 0x4A, "ldind.i4", None; LDIND_U4 = 0x4B, "ldind.u4", None;
    LDIND_I8 = 0x4C, "ldind.i8", None; LDIND_I = 0x4D, "ldind.i", None;
    LDIND_R4 = 0x4E, "ldind.r4", None; LDIND_R8 = 0x4F, "ldind.r8", None;
    LDIND_REF = 0x50, "ldind.ref", None; STIND_REF = 0x51, "stind.ref", None;
    STIND_I1 = 0x52, "stind.i1", None; STIND_I2 = 0x53, "stind.i2", None;
    STIND_I4 = 0x54, "stind.i4", None; STIND_I8 = 0x55, "stind.i8", None;
    STIND_R4 = 0x56, "stind.r4", None; STIND_R8 = 0x57, "stind.r8", None;
    ADD = 0x58, "add", None; SUB = 0x59, "sub", None; MUL = 0x5A, "mul", None;
    DIV = 0x5B, "div", None; DIV_UN = 0x5C, "div.un", None; REM = 0x5D, "rem", None;
    REM_UN = 0x5E, "rem.un", None; AND = 0x5F, "and", None; OR = 0x60, "or", None;
    XOR = 0x61, "xor", None; SHL = 0x62, "shl", None; SHR = 0x63, "shr", None;
    SHR_UN = 0x64, "shr.un", None; NEG = 0x65, "neg", None; NOT = 0x66, "not", None;
    CONV_I1 = 0x67, "conv.i1", None; CONV_I2 = 0x68, "conv.i2", None;
    CONV_I4 = 0x69, "conv.i4", None; CONV_I8 = 0x6A, "conv.i8", None;
    CONV_R4 = 0x6B, "conv.r4", None; CONV_R8 = 0x6C, "conv.r8", None;
    CONV_U4 = 0x6D, "conv.u4", None; CONV_U8 = 0x6E, "conv.u8", None;
    CALLVIRT = 0x6F, "callvirt", Token; CPOBJ = 0x70, "cpobj", Token; LDOBJ = 0x71, "ldobj", Token;
    LDSTR = 0x72, "ldstr", Token; NEWOBJ = 0x73, "newobj", Token;
    CASTCLASS = 0x74, "castclass", Token; ISINST = 0x75, "isinst", Token;
    CONV_R_UN = 0x76, "conv.r.un", None; UNBOX = 0x79, "unbox", Token; THROW = 0x7A, "throw", None;
    LDFLD = 0x7B, "ldfld", Token; LDFLDA = 0x7C, "ldflda", Token; STFLD = 0x7D, "stfld", Token;
    LDSFLD = 0x7E, "ldsfld", Token; LDSFLDA = 0x7F, "ldsflda", Token; STSFLD = 0x80, "stsfld", Token;
    STOBJ = 0x81, "stobj", Token;
    CONV_OVF_I1_UN = 0x82, "conv.ovf.i1.un", None; CONV_OVF_I2_UN = 0x83, "conv.ovf.i2.un", None;
    CONV_OVF_I4_UN = 0x84, "conv.ovf.i4.un", None; CONV_OVF_I8_UN = 0x85, "conv.ovf.i8.un", None;
    CONV_OVF_U1_UN = 0x86, "conv.ovf.u1.un", None; CONV_OVF_U2_UN = 0x87, "conv.ovf.u2.un", None;
    CONV_OVF_U4_UN = 0x88, "conv.ovf.u4.un", None; CONV_OVF_U8_UN = 0x89, "conv.ovf.u8.un", None;
    CONV_OVF_I_UN = 0x8A, "conv.ovf.i.un", None; CONV_OVF_U_UN = 0x8B, "conv.ovf.u.un", None;
    BOX = 0x8C, "box", Token; NEWARR = 0x8D, "newarr", Token; LDLEN = 0x8E, "ldlen", None;
    LDELEMA = 0x8F, "ldelema", Token;
    LDELEM_I1 = 0x90, "ldelem.i1", None; LDELEM_U1 = 0x91, "ldelem.u1", None;
    LDELEM_I2 = 0x92, "ldelem.i2", None; LDELEM_U2 = 0x93, "ldelem.u2", None;
    LDELEM_I4 = 0x94, "ldelem.i4", None; LDELEM_U4 = 0x95, "ldelem.u4", None;
    LDELEM_I8 = 0x96, "ldelem.i8", None; LDELEM_I = 0x97, "ldelem.i", None;
    LDELEM_R4 = 0x98, "ldelem.r4", None; LDELEM_R8 = 0x99, "ldelem.r8", None;
    LDELEM_REF = 0x9A, "ldelem.ref", None; STELEM_I = 0x9B, "stelem.i", None;
    STELEM_I1 = 0x9C, "stelem.i1", None; STELEM_I2 = 0x9D, "stelem.i2", None;
    STELEM_I4 = 0x9E, "stelem.i4", None; STELEM_I8 = 0x9F, "stelem.i8", None;
    STELEM_R4 = 0xA0, "stelem.r4", None; STELEM_R8 = 0xA1, "stelem.r8", None;
    STELEM_REF = 0xA2, "stelem.ref", None; LDELEM = 0xA3, "ldelem", Token;
    STELEM = 0xA4, "stelem", Token; UNBOX_ANY = 0xA5, "unbox.any", Token;
    CONV_OVF_I1 = 0xB3, "conv.ovf.i1", None; CONV_OVF_U1 = 0xB4, "conv.ovf.u1", None;
    CONV_OVF_I2 = 0xB5, "conv.ovf.i2", None; CONV_OVF_U2 = 0xB6, "conv.ovf.u2", None;
    CONV_OVF_I4 = 0xB7, "conv.ovf.i4", None; CONV_OVF_U4 = 0xB8, "conv.ovf.u4", None;
    CONV_OVF_I8 = 0xB9, "conv.ovf.i8", None; CONV_OVF_U8 = 0xBA, "conv.ovf.u8", None;
    REFANYVAL = 0xC2, "refanyval", Token; CKFINITE = 0xC3, "ckfinite", None;
    MKREFANY = 0xC6, "mkrefany", Token; LDTOKEN = 0xD0, "ldtoken", Token;
    CONV_U2 = 0xD1, "conv.u2", None; CONV_U1 = 0xD2, "conv.u1", None; CONV_I = 0xD3, "conv.i", None;
    CONV_OVF_I = 0xD4, "conv.ovf.i", None; CONV_OVF_U = 0xD5, "conv.ovf.u", None;
    ADD_OVF = 0xD6, "add.ovf", None; ADD_OVF_UN = 0xD7, "add.ovf.un", None;
    MUL_OVF = 0xD8, "mul.ovf", None; MUL_OVF_UN = 0xD9, "mul.ovf.un", None;
    SUB_OVF = 0xDA, "sub.ovf", None; SUB_OVF_UN = 0xDB, "sub.ovf.un", None;
    ENDFINALLY = 0xDC, "endfinally", None; LEAVE = 0xDD, "leave", Br32; LEAVE_S = 0xDE, "leave.s", Br8;
    STIND_I = 0xDF, "stind.i", None; CONV_U = 0xE0, "conv.u", None;
    ARGLIST = 0xFE00, "arglist", None; CEQ = 0xFE01, "ceq", None; CGT = 0xFE02, "cgt", None;
    CGT_UN = 0xFE03, "cgt.un", None; CLT = 0xFE04, "clt", None; CLT_UN = 0xFE05, "clt.un", None;
    LDFTN = 0xFE06, "ldftn", Token; LDVIRTFTN = 0xFE07, "ldvirtftn", Token;
    LDARG = 0xFE09, "ldarg", U16; LDARGA = 0xFE0A, "ldarga", U16; STARG = 0xFE0B, "starg", U16;
    LDLOC = 0xFE0C, "ldloc", U16; LDLOCA = 0xFE0D, "ldloca", U16; STLOC = 0xFE0E, "stloc", U16;
    LOCALLOC = 0xFE0F, "localloc", None; ENDFILTER = 0xFE11, "endfilter", None;
    UNALIGNED = 0xFE12, "unaligned.", U8; VOLATILE = 0xFE13, "volatile.", None;
    TAIL = 0xFE14, "tail.", None; INITOBJ = 0xFE15, "initobj", Token;
    CONSTRAINED = 0xFE16, "constrained.", Token; CPBLK = 0xFE17, "cpblk", None;
    INITBLK = 0xFE18, "initblk", None; NO = 0xFE19, "no.", U8; RETHROW = 0xFE1A, "rethrow", None;
    SIZEOF = 0xFE1C, "sizeof", Token; REFANYTYPE = 0xFE1D, "refanytype", None;
    READONLY = 0xFE1E, "readonly.", None;
}

/// A decoded inline operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    None,
    Int(i64),
    Float(f64),
    Token(u32),
    /// Absolute IL offset of a branch target.
    Target(u32),
    /// Absolute IL offsets of the `switch` targets.
    Switch(Vec<u32>),
}

/// One decoded instruction.
#[derive(Clone, Debug, PartialEq)]
pub struct Instr {
    pub offset: u32,
    /// Offset of the next instruction (fall-through).
    pub next: u32,
    pub opcode: u16,
    pub operand: Operand,
}

/// Why decoding failed, with the IL offset of the bad instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    UnknownOpcode { offset: u32, opcode: u16 },
    Truncated { offset: u32 },
    BadTarget { offset: u32, target: i64 },
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::UnknownOpcode { opcode, .. } => write!(f, "unknown opcode 0x{opcode:x}"),
            DecodeError::Truncated { .. } => write!(f, "truncated instruction"),
            DecodeError::BadTarget { target, .. } => {
                write!(
                    f,
                    "branch target {target} is outside the method or inside an instruction"
                )
            }
        }
    }
}

impl DecodeError {
    /// IL offset the error refers to.
    pub fn offset(&self) -> u32 {
        match self {
            DecodeError::UnknownOpcode { offset, .. }
            | DecodeError::Truncated { offset }
            | DecodeError::BadTarget { offset, .. } => *offset,
        }
    }
}

fn take<const N: usize>(il: &[u8], pos: &mut usize, start: u32) -> Result<[u8; N], DecodeError> {
    let bytes = il
        .get(*pos..*pos + N)
        .ok_or(DecodeError::Truncated { offset: start })?;
    *pos += N;
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    Ok(out)
}

/// Decodes one instruction at `pos`.
pub fn decode_one(il: &[u8], pos: usize) -> Result<Instr, DecodeError> {
    let start = pos as u32;
    let mut p = pos;
    let b = *il.get(p).ok_or(DecodeError::Truncated { offset: start })?;
    p += 1;
    let opcode = if b == 0xFE {
        let b2 = *il.get(p).ok_or(DecodeError::Truncated { offset: start })?;
        p += 1;
        0xFE00 | b2 as u16
    } else {
        b as u16
    };
    let (_, kind) = info(opcode).ok_or(DecodeError::UnknownOpcode {
        offset: start,
        opcode,
    })?;
    let target = |base: usize, rel: i64| -> Result<u32, DecodeError> {
        let t = base as i64 + rel;
        if t < 0 || t >= il.len() as i64 {
            Err(DecodeError::BadTarget {
                offset: start,
                target: t,
            })
        } else {
            Ok(t as u32)
        }
    };
    let operand = match kind {
        OperandKind::None => Operand::None,
        OperandKind::I8 => Operand::Int(take::<1>(il, &mut p, start)?[0] as i8 as i64),
        OperandKind::U8 => Operand::Int(take::<1>(il, &mut p, start)?[0] as i64),
        OperandKind::U16 => Operand::Int(u16::from_le_bytes(take(il, &mut p, start)?) as i64),
        OperandKind::I32 => Operand::Int(i32::from_le_bytes(take(il, &mut p, start)?) as i64),
        OperandKind::I64 => Operand::Int(i64::from_le_bytes(take(il, &mut p, start)?)),
        OperandKind::R4 => Operand::Float(f32::from_le_bytes(take(il, &mut p, start)?) as f64),
        OperandKind::R8 => Operand::Float(f64::from_le_bytes(take(il, &mut p, start)?)),
        OperandKind::Token => Operand::Token(u32::from_le_bytes(take(il, &mut p, start)?)),
        OperandKind::Br8 => {
            let rel = take::<1>(il, &mut p, start)?[0] as i8 as i64;
            Operand::Target(target(p, rel)?)
        }
        OperandKind::Br32 => {
            let rel = i32::from_le_bytes(take(il, &mut p, start)?) as i64;
            Operand::Target(target(p, rel)?)
        }
        OperandKind::Switch => {
            let n = u32::from_le_bytes(take(il, &mut p, start)?) as usize;
            if n > (il.len() - p) / 4 {
                return Err(DecodeError::Truncated { offset: start });
            }
            let base = p + 4 * n;
            let mut targets = Vec::with_capacity(n);
            for _ in 0..n {
                let rel = i32::from_le_bytes(take(il, &mut p, start)?) as i64;
                targets.push(target(base, rel)?);
            }
            Operand::Switch(targets)
        }
    };
    Ok(Instr {
        offset: start,
        next: p as u32,
        opcode,
        operand,
    })
}

/// Decodes a whole method body; every branch target must start an instruction.
pub fn decode_all(il: &[u8]) -> Result<Vec<Instr>, DecodeError> {
    let mut out = Vec::new();
    decode_into(il, &mut out, &mut Vec::new())?;
    Ok(out)
}

/// `decode_all` into `out`, with `starts` as scratch (both reused buffers;
/// emptied first).
pub fn decode_into(
    il: &[u8],
    out: &mut Vec<Instr>,
    starts: &mut Vec<u32>,
) -> Result<(), DecodeError> {
    out.clear();
    out.reserve(il.len() / 2 + 1);
    let mut pos = 0;
    while pos < il.len() {
        let ins = decode_one(il, pos)?;
        pos = ins.next as usize;
        out.push(ins);
    }
    starts.clear();
    starts.extend(out.iter().map(|i| i.offset));
    for ins in out.iter() {
        let check = |t: u32| {
            if starts.binary_search(&t).is_ok() {
                Ok(())
            } else {
                Err(DecodeError::BadTarget {
                    offset: ins.offset,
                    target: t as i64,
                })
            }
        };
        match &ins.operand {
            Operand::Target(t) => check(*t)?,
            Operand::Switch(ts) => ts.iter().try_for_each(|t| check(*t))?,
            _ => {}
        }
    }
    Ok(())
}

/// Mnemonic of an opcode (for disassembly listings).
pub fn mnemonic(opcode: u16) -> &'static str {
    info(opcode).map(|(n, _)| n).unwrap_or("???")
}
