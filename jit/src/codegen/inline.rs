//! Inlining of trivial accessors at `call`/`callvirt` sites: a callee whose
//! body is its arguments loaded once each, in order, then a few field
//! accesses, constants, non-throwing integer operations and compares, then
//! `ret` (property getters and setters, `IntPtr.ToInt64`, `x == 0` tests).
//!
//! Such a body finds its arguments already on the caller's evaluation stack
//! in the order its `ldarg`s would push them, so inlining lowers the middle
//! instructions against that stack with the code generator's own lowering
//! (`memory.rs`, `arith.rs`), and no call, prologue, epilogue or spill is
//! emitted. Which bodies qualify (all must hold):
//!
//! - the host answers [`JitHost::inline_body`] for the token (cil-compat:
//!   managed, non-native, not a constructor, no locals, no exception
//!   clauses, IL of at most [`MAX_IL`] bytes parsed by [`parse_body`], field
//!   facts resolved in the callee's module and generic context), and the
//!   call goes to code through `CallTarget::Indirect` (never virtual or
//!   interface dispatch, never a shared-code run-time lookup);
//! - every argument is an int32, int64, native int, object reference or
//!   managed pointer whose stack type equals the caller's value (no small
//!   integers, which a call would narrow, no floats, no value types);
//! - a small simulation of the stack types ([`check_body`]) accepts the body
//!   and ends with the return type, so lowering cannot fail half-way (no
//!   code already emitted has to be taken back);
//! - for `callvirt` on an object `this` (§III.4.2 null-checks `this`), the
//!   body's first instruction dereferences `this`, so that check happens
//!   there anyway.
//!
//! Inlined code makes no call and allocates nothing: no safepoint, no stack
//! map. A fault inside it (a null `this` in `ldfld`/`stfld`/`ldflda`) is
//! reported at the CALLER method and the IL offset of its call instruction,
//! since all its machine code belongs to that instruction in the IL map,
//! where a call would have reported the callee at its own offset
//! (`tests/disas/inline_getter_setter.txt` pins the throw helper's IL
//! offset argument to the `callvirt`'s).

use super::stack::StackTy;
use super::{BinOp, CmpKind, CodeGen, ConvTo, R};
use crate::decoder::op;
use crate::host::{
    CallConv, CallInfo, CallTarget, FieldInfo, HostError, InlineBody, InlineOp, JitHost, JitType,
};
use crate::masm::MacroAssembler;
use crate::JitErrorKind;

/// Largest callee IL body considered (bytes, `ret` included).
pub const MAX_IL: usize = 16;
/// Most arguments (`this` included) an inlined callee may take.
pub const MAX_ARGS: usize = 4;
/// Deepest evaluation stack an inlined body may use above the caller's.
const MAX_DEPTH: usize = 4;

/// Parses a callee body for inlining: `nargs` leading `ldarg`s (0, 1, …,
/// `nargs - 1`), then field operations, constants and the operand-less
/// opcodes [`simple_op`] accepts, then `ret` as the last byte. `field`
/// resolves a field token in the callee's context; it answers `None` for a
/// field that may not be inlined (a static, a value-type field). `Ok(None)`:
/// the body does not qualify.
pub fn parse_body(
    il: &[u8],
    nargs: usize,
    mut field: impl FnMut(u32) -> Result<Option<FieldInfo>, HostError>,
) -> Result<Option<InlineBody>, HostError> {
    if il.len() > MAX_IL || nargs > MAX_ARGS || il.last() != Some(&(op::RET as u8)) {
        return Ok(None);
    }
    let code = &il[..il.len() - 1];
    let mut at = 0;
    for n in 0..nargs {
        let ok = match code.get(at).map(|&b| b as u16) {
            Some(c @ op::LDARG_0..=op::LDARG_3) => {
                at += 1;
                (c - op::LDARG_0) as usize == n
            }
            Some(op::LDARG_S) => {
                at += 2;
                code.get(at - 1).map(|&b| b as usize) == Some(n)
            }
            _ => false,
        };
        if !ok {
            return Ok(None);
        }
    }
    let mut body = InlineBody::default();
    while at < code.len() {
        // The compares are the only two-byte opcodes accepted (0xFE 0x01..0x05).
        let (c, wide) = match code[at] {
            0xFE => match code.get(at + 1) {
                Some(&b) => (0xFE00 | b as u16, 1),
                None => return Ok(None),
            },
            b => (b as u16, 0),
        };
        let rest = &code[at + 1 + wide..];
        let imm = |n: usize| -> Option<u64> {
            let b = rest.get(..n)?;
            Some(b.iter().rev().fold(0u64, |a, &x| (a << 8) | x as u64))
        };
        let (inst, len) = match c {
            op::NOP => {
                at += 1;
                continue;
            }
            op::LDFLD | op::LDFLDA | op::STFLD => {
                let Some(tok) = imm(4) else { return Ok(None) };
                let Some(f) = field(tok as u32)? else {
                    return Ok(None);
                };
                if f.static_addr.is_some() || f.class_init.is_some() || f.ty.is_struct() {
                    return Ok(None);
                }
                let i = match c {
                    op::LDFLD => InlineOp::Ldfld(f),
                    op::LDFLDA => InlineOp::Ldflda(f),
                    _ => InlineOp::Stfld(f),
                };
                (i, 5)
            }
            op::LDC_I4_M1..=op::LDC_I4_8 => (InlineOp::LdcI4(c as i32 - op::LDC_I4_0 as i32), 1),
            op::LDC_I4_S => match imm(1) {
                Some(v) => (InlineOp::LdcI4(v as u8 as i8 as i32), 2),
                None => return Ok(None),
            },
            op::LDC_I4 => match imm(4) {
                Some(v) => (InlineOp::LdcI4(v as u32 as i32), 5),
                None => return Ok(None),
            },
            op::LDC_I8 => match imm(8) {
                Some(v) => (InlineOp::LdcI8(v as i64), 9),
                None => return Ok(None),
            },
            c if simple_op(c).is_some() => (InlineOp::Simple(c), 1 + wide),
            _ => return Ok(None),
        };
        body.ops.push(inst);
        at += len;
    }
    Ok(Some(body))
}

/// What an operand-less opcode does, for the ones inlining accepts: the
/// non-throwing integer arithmetic, conversions and compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simple {
    Bin(BinOp),
    Shift(BinOp),
    Neg,
    Not,
    Conv(ConvTo),
    Cmp(CmpKind),
}

/// The [`Simple`] meaning of `c`, if inlining accepts it.
pub fn simple_op(c: u16) -> Option<Simple> {
    use Simple::*;
    Some(match c {
        op::ADD => Bin(BinOp::Add),
        op::SUB => Bin(BinOp::Sub),
        op::MUL => Bin(BinOp::Mul),
        op::AND => Bin(BinOp::And),
        op::OR => Bin(BinOp::Or),
        op::XOR => Bin(BinOp::Xor),
        op::SHL => Shift(BinOp::Shl),
        op::SHR => Shift(BinOp::Shr),
        op::SHR_UN => Shift(BinOp::ShrUn),
        op::NEG => Neg,
        op::NOT => Not,
        op::CONV_I1 => Conv(ConvTo::I1),
        op::CONV_U1 => Conv(ConvTo::U1),
        op::CONV_I2 => Conv(ConvTo::I2),
        op::CONV_U2 => Conv(ConvTo::U2),
        op::CONV_I4 => Conv(ConvTo::I4),
        op::CONV_U4 => Conv(ConvTo::U4),
        op::CONV_I8 => Conv(ConvTo::I8),
        op::CONV_U8 => Conv(ConvTo::U8),
        op::CONV_I => Conv(ConvTo::I),
        op::CONV_U => Conv(ConvTo::U),
        op::CEQ => Cmp(CmpKind::Eq),
        op::CGT => Cmp(CmpKind::Gt),
        op::CGT_UN => Cmp(CmpKind::GtUn),
        op::CLT => Cmp(CmpKind::Lt),
        op::CLT_UN => Cmp(CmpKind::LtUn),
        _ => return None,
    })
}

/// The stack type of an argument or return value inlining handles: the
/// integer, reference and pointer types, never a small integer (a call
/// narrows those), a float or a value type.
fn plain(t: &JitType) -> Option<StackTy> {
    match t {
        JitType::I4 | JitType::U4 => Some(StackTy::I32),
        JitType::I8 | JitType::U8 => Some(StackTy::I64),
        JitType::I | JitType::U | JitType::Ptr => Some(StackTy::NInt),
        JitType::Obj => Some(StackTy::Obj),
        JitType::ByRef => Some(StackTy::ByRef),
        _ => None,
    }
}

fn is_int(t: StackTy) -> bool {
    matches!(t, StackTy::I32 | StackTy::I64 | StackTy::NInt)
}

/// Simulates `body` over argument stack types `args` (`this` first): true
/// when every instruction gets operands its lowering accepts, `this_first`
/// (when asked) holds — the first instruction dereferences `args[0]` — and
/// the body leaves exactly a value of `ret` (nothing for `Void`; a small
/// integer only from a last `ldfld` of a field of that very type, which the
/// load already normalises, or a last compare).
pub fn check_body(body: &InlineBody, args: &[StackTy], ret: &JitType, this_first: bool) -> bool {
    let mut st: smallvec::SmallVec<[StackTy; 8]> = args.iter().copied().collect();
    if this_first {
        let derefs = match body.ops.first() {
            Some(InlineOp::Ldfld(_) | InlineOp::Ldflda(_)) => args.len() == 1,
            Some(InlineOp::Stfld(_)) => args.len() == 2,
            _ => false,
        };
        if !derefs {
            return false;
        }
    }
    let ptr = |t: StackTy| matches!(t, StackTy::Obj | StackTy::ByRef);
    for o in &body.ops {
        let ok = match *o {
            InlineOp::Ldfld(f) => match (st.pop(), plain(&f.ty).or(StackTy::of(&f.ty))) {
                (Some(p), Some(t)) if ptr(p) && (is_int(t) || ptr(t)) => {
                    st.push(t);
                    true
                }
                _ => false,
            },
            InlineOp::Ldflda(_) => match st.pop() {
                Some(p) if ptr(p) => {
                    st.push(StackTy::ByRef);
                    true
                }
                _ => false,
            },
            InlineOp::Stfld(f) => match (st.pop(), st.pop()) {
                (Some(v), Some(p)) => {
                    ptr(p)
                        && (is_int(v) || ptr(v))
                        && super::check_store(&f.ty, &v).is_ok()
                        && !f.ty.is_struct()
                }
                _ => false,
            },
            InlineOp::LdcI4(_) => {
                st.push(StackTy::I32);
                true
            }
            InlineOp::LdcI8(_) => {
                st.push(StackTy::I64);
                true
            }
            InlineOp::Simple(c) => match simple_op(c) {
                Some(s @ (Simple::Bin(_) | Simple::Cmp(_))) => match (st.pop(), st.pop()) {
                    (Some(b), Some(a)) if is_int(a) && is_int(b) => {
                        let t = match (a, b) {
                            _ if a == b => Some(a),
                            (StackTy::I32, StackTy::NInt) | (StackTy::NInt, StackTy::I32) => {
                                Some(StackTy::NInt)
                            }
                            _ => None,
                        };
                        let t = match s {
                            Simple::Cmp(_) => t.map(|_| StackTy::I32),
                            _ => t,
                        };
                        t.map(|t| st.push(t)).is_some()
                    }
                    _ => false,
                },
                Some(Simple::Shift(_)) => match (st.pop(), st.pop()) {
                    (Some(n), Some(a))
                        if is_int(a) && matches!(n, StackTy::I32 | StackTy::NInt) =>
                    {
                        st.push(a);
                        true
                    }
                    _ => false,
                },
                Some(Simple::Neg | Simple::Not) => st.last().is_some_and(|&t| is_int(t)),
                Some(Simple::Conv(to)) => match st.pop() {
                    Some(a) if is_int(a) => {
                        st.push(match to {
                            ConvTo::I8 | ConvTo::U8 => StackTy::I64,
                            ConvTo::I | ConvTo::U => StackTy::NInt,
                            _ => StackTy::I32,
                        });
                        true
                    }
                    _ => false,
                },
                None => false,
            },
        };
        if !ok || st.len() > args.len().max(1) + MAX_DEPTH {
            return false;
        }
    }
    match ret {
        JitType::Void => st.is_empty(),
        JitType::Bool | JitType::Char | JitType::I1 | JitType::U1 | JitType::I2 | JitType::U2 => {
            // A compare's 0 or 1 fits every small type.
            let normalised = match body.ops.last() {
                Some(InlineOp::Ldfld(f)) => f.ty == *ret,
                Some(InlineOp::Simple(c)) => matches!(simple_op(*c), Some(Simple::Cmp(_))),
                _ => false,
            };
            st.len() == 1 && st[0] == StackTy::I32 && normalised
        }
        t => st.len() == 1 && plain(t) == Some(st[0]),
    }
}

impl<H: JitHost, M: MacroAssembler> CodeGen<'_, H, M> {
    /// Inlines the call `tok` (already resolved to `ci`) if its callee
    /// qualifies (see the module doc); `check`: `callvirt` must null-check
    /// an object `this`. False: nothing was emitted, make the call.
    pub(super) fn try_inline(&mut self, tok: u32, ci: &CallInfo, check: bool) -> R<bool> {
        if !matches!(ci.target, CallTarget::Indirect(_)) || ci.sig.conv != CallConv::Managed {
            return Ok(false);
        }
        let sig = &ci.sig;
        let nargs = sig.has_this as usize + sig.params.len();
        if nargs > MAX_ARGS || self.ctx.stack.len() < nargs {
            return Ok(false);
        }
        let mut args: smallvec::SmallVec<[StackTy; MAX_ARGS]> = smallvec::SmallVec::new();
        let this = sig.has_this.then_some(&sig.this_type);
        for (i, t) in this.into_iter().chain(sig.params.iter()).enumerate() {
            let Some(want) = plain(t) else {
                return Ok(false);
            };
            let have = self.ctx.stack.peek(nargs - 1 - i).map(|v| v.ty);
            if have != Some(want) {
                return Ok(false);
            }
            args.push(want);
        }
        if !matches!(sig.ret, JitType::Void) && StackTy::of(&sig.ret).is_none() {
            return Ok(false);
        }
        let Some(body) = self
            .host
            .inline_body(tok, ci.callee)
            .map_err(Self::host_err)?
        else {
            return Ok(false);
        };
        if !check_body(&body, &args, &sig.ret, check) {
            return Ok(false);
        }
        for o in &body.ops {
            match *o {
                InlineOp::Ldfld(f) => self.ldfld_instance(&f)?,
                InlineOp::Ldflda(f) => self.ldflda_instance(&f)?,
                InlineOp::Stfld(f) => self.stfld_instance(&f)?,
                InlineOp::LdcI4(v) => self.ldc_i4(v),
                InlineOp::LdcI8(v) => self.ldc_i8(v),
                InlineOp::Simple(c) => match simple_op(c) {
                    Some(Simple::Bin(b) | Simple::Shift(b)) => self.binop(b)?,
                    Some(Simple::Neg) => self.neg()?,
                    Some(Simple::Not) => self.not()?,
                    Some(Simple::Conv(to)) => self.conv(to, false, false)?,
                    Some(Simple::Cmp(k)) => self.cmp(k)?,
                    None => return Err(JitErrorKind::InvalidOpcode(c)),
                },
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn int_field(tok: u32) -> Result<Option<FieldInfo>, HostError> {
        Ok(Some(FieldInfo {
            ty: if tok & 1 == 0 {
                JitType::I4
            } else {
                JitType::U1
            },
            offset: 16,
            static_addr: None,
            class_init: None,
        }))
    }

    fn parse(il: &[u8], nargs: usize) -> Option<InlineBody> {
        parse_body(il, nargs, int_field).unwrap()
    }

    #[test]
    fn getter_and_setter_parse() {
        let get = parse(&[0x02, 0x7B, 2, 0, 0, 4, 0x2A], 1).unwrap();
        assert!(matches!(get.ops[..], [InlineOp::Ldfld(f)] if f.ty == JitType::I4));
        let set = parse(&[0x02, 0x03, 0x7D, 2, 0, 0, 4, 0x2A], 2).unwrap();
        assert!(matches!(set.ops[..], [InlineOp::Stfld(_)]));
        // ldarg.s 1 is the same argument as ldarg.1; constants and ops follow.
        let b = parse(&[0x02, 0x0E, 1, 0x1F, 0xFF, 0x58, 0x2A], 2).unwrap();
        assert_eq!(b.ops[..], [InlineOp::LdcI4(-1), InlineOp::Simple(op::ADD)]);
    }

    #[test]
    fn bodies_that_do_not_load_every_argument_in_order_are_refused() {
        // `this` skipped, arguments swapped, an argument loaded twice.
        assert!(parse(&[0x03, 0x2A], 2).is_none());
        assert!(parse(&[0x03, 0x02, 0x7D, 2, 0, 0, 4, 0x2A], 2).is_none());
        assert!(parse(&[0x02, 0x02, 0x58, 0x2A], 1).is_none());
        // A branch, a call, a throwing division, a missing `ret`, too long.
        assert!(parse(&[0x02, 0x2B, 0x00, 0x2A], 1).is_none());
        assert!(parse(&[0x02, 0x28, 1, 0, 0, 6, 0x2A], 1).is_none());
        assert!(parse(&[0x02, 0x03, 0x5B, 0x2A], 2).is_none());
        assert!(parse(&[0x02, 0x7B, 2, 0, 0, 4], 1).is_none());
        assert!(parse(&[0x02; 17], 1).is_none());
        // A truncated token.
        assert!(parse(&[0x02, 0x7B, 2, 0, 0x2A], 1).is_none());
    }

    #[test]
    fn static_and_struct_fields_are_refused() {
        let stat = |_| {
            Ok(Some(FieldInfo {
                ty: JitType::I4,
                offset: 0,
                static_addr: Some(0x1000),
                class_init: None,
            }))
        };
        assert!(parse_body(&[0x02, 0x7B, 2, 0, 0, 4, 0x2A], 1, stat)
            .unwrap()
            .is_none());
        let refused = |_| Ok(None);
        assert!(parse_body(&[0x02, 0x7B, 2, 0, 0, 4, 0x2A], 1, refused)
            .unwrap()
            .is_none());
    }

    #[test]
    fn check_body_types_the_stack() {
        let get = parse(&[0x02, 0x7B, 2, 0, 0, 4, 0x2A], 1).unwrap();
        assert!(check_body(&get, &[StackTy::Obj], &JitType::I4, true));
        assert!(check_body(&get, &[StackTy::ByRef], &JitType::I4, false));
        // Wrong return type, `this` an int.
        assert!(!check_body(&get, &[StackTy::Obj], &JitType::I8, true));
        assert!(!check_body(&get, &[StackTy::I32], &JitType::I4, false));
        // A small return type only from a field of exactly that type.
        let get_u1 = parse(&[0x02, 0x7B, 3, 0, 0, 4, 0x2A], 1).unwrap();
        assert!(check_body(&get_u1, &[StackTy::Obj], &JitType::U1, true));
        assert!(!check_body(&get, &[StackTy::Obj], &JitType::U1, true));
        // int64 + int32 is not valid IL.
        let add = parse(
            &[
                0x02, 0x7B, 2, 0, 0, 4, 0x21, 1, 0, 0, 0, 0, 0, 0, 0, 0x58, 0x2A,
            ],
            1,
        );
        assert!(add.is_none(), "longer than MAX_IL");
        let add = InlineBody {
            ops: [InlineOp::LdcI8(1), InlineOp::Simple(op::ADD)]
                .into_iter()
                .collect(),
        };
        assert!(!check_body(&add, &[StackTy::I32], &JitType::I8, false));
        assert!(check_body(&add, &[StackTy::I64], &JitType::I8, false));
    }

    #[test]
    fn compares_make_bools() {
        // bool IsOk { get { return code == 0; } }: ldfld, ldc.i4.0, ceq.
        let is_ok = parse(&[0x02, 0x7B, 2, 0, 0, 4, 0x16, 0xFE, 0x01, 0x2A], 1).unwrap();
        assert_eq!(is_ok.ops.len(), 3);
        assert!(check_body(&is_ok, &[StackTy::ByRef], &JitType::Bool, false));
        // A lone 0xFE at the end, an unaccepted two-byte opcode (ldarg).
        assert!(parse(&[0x02, 0xFE, 0x2A], 1).is_none());
        assert!(parse(&[0x02, 0xFE, 0x09, 0, 0, 0x2A], 1).is_none());
    }

    #[test]
    fn callvirt_needs_this_dereferenced_first() {
        // `this.x = v` dereferences `this` first; `v + 1` then `this.x = …`
        // with a constant first does not.
        let set = parse(&[0x02, 0x03, 0x7D, 2, 0, 0, 4, 0x2A], 2).unwrap();
        let args = vec![StackTy::Obj, StackTy::I32];
        assert!(check_body(&set, &args, &JitType::Void, true));
        let inc = parse(&[0x02, 0x03, 0x17, 0x58, 0x7D, 2, 0, 0, 4, 0x2A], 2).unwrap();
        assert!(check_body(&inc, &args, &JitType::Void, false));
        assert!(!check_body(&inc, &args, &JitType::Void, true));
    }
}
