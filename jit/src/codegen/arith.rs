//! `CodeGen`, arithmetic: binary and unary operators (with constant folding
//! and the `.ovf` checks), comparisons, and conversions between integer and
//! floating-point types (ECMA-335 §III.3, `conv.*`, `ckfinite`).

use super::*;

impl<H: JitHost, M: MacroAssembler> CodeGen<'_, H, M> {
    // ---- arithmetic -----------------------------------------------------------

    pub(super) fn binary_type(op: BinOp, a: StackTy, b: StackTy) -> R<StackTy> {
        use StackTy::*;
        let int_only = matches!(
            op,
            BinOp::And | BinOp::Or | BinOp::Xor | BinOp::DivUn | BinOp::RemUn
        );
        let ovf = matches!(
            op,
            BinOp::AddOvf
                | BinOp::AddOvfUn
                | BinOp::SubOvf
                | BinOp::SubOvfUn
                | BinOp::MulOvf
                | BinOp::MulOvfUn
        );
        if matches!(op, BinOp::Shl | BinOp::Shr | BinOp::ShrUn) {
            return match (a, b) {
                (I32 | I64 | NInt, I32 | NInt) => Ok(a),
                _ => Err(JitErrorKind::TypeMismatch("shift operands")),
            };
        }
        Ok(match (a, b) {
            (I32, I32) => I32,
            (I64, I64) | (I64, I32) | (I32, I64) => I64,
            (NInt, I32) | (I32, NInt) | (NInt, NInt) => NInt,
            (F32, F32) if !int_only && !ovf => F32,
            (F | F32, F | F32) if !int_only && !ovf => F,
            (ByRef, I32 | NInt)
                if matches!(
                    op,
                    BinOp::Add | BinOp::Sub | BinOp::AddOvfUn | BinOp::SubOvfUn
                ) =>
            {
                ByRef
            }
            (I32 | NInt, ByRef) if matches!(op, BinOp::Add | BinOp::AddOvfUn) => ByRef,
            (ByRef, ByRef) if matches!(op, BinOp::Sub | BinOp::SubOvfUn) => NInt,
            _ => return Err(JitErrorKind::TypeMismatch("binary operand types")),
        })
    }

    pub fn binop(&mut self, op: BinOp) -> R {
        let b = self.ctx.pop()?;
        let a = self.ctx.pop()?;
        let ty = Self::binary_type(op, a.ty, b.ty)?;
        if ty.is_float() {
            return self.float_binop(op, a, b, ty);
        }
        // Constant folding keeps `ldc; ldc; op` sequences free.
        if let (Loc::Const(x), Loc::Const(y)) = (a.loc, b.loc) {
            if let Some(c) = fold(op, ty, x, y) {
                self.ctx.stack.push(ty, Loc::Const(c));
                return Ok(());
            }
        }
        let size = if ty == StackTy::I32 {
            OperandSize::S32
        } else {
            OperandSize::S64
        };
        let wide = size == OperandSize::S64;
        if self.update_in_place(op, &a, &b, ty, size)?
            || self.compute_into_local(op, &a, &b, ty, size)?
        {
            return Ok(());
        }
        let unsigned = matches!(
            op,
            BinOp::DivUn | BinOp::RemUn | BinOp::AddOvfUn | BinOp::SubOvfUn | BinOp::MulOvfUn
        );
        match op {
            BinOp::Div | BinOp::DivUn | BinOp::Rem | BinOp::RemUn => {
                return self.divrem(op, a, b, ty, size)
            }
            BinOp::Shl | BinOp::Shr | BinOp::ShrUn => return self.shift(op, a, b),
            BinOp::MulOvfUn => {
                let ra = self.widen(&a, wide, true)?;
                let rb = self.widen_b(&b, wide, true)?;
                let overflow = self.fail_label(FailCode::Overflow)?;
                self.m().umul_checked(ra, rb, size, overflow)?;
                self.free_b(&b, rb);
                self.ctx.push_reg(ty, ra);
                return Ok(());
            }
            _ => {}
        }
        let ra = self.widen(&a, wide, unsigned)?;
        let alu = match op {
            BinOp::Add | BinOp::AddOvf | BinOp::AddOvfUn => Some(AluOp::Add),
            BinOp::Sub | BinOp::SubOvf | BinOp::SubOvfUn => Some(AluOp::Sub),
            BinOp::And => Some(AluOp::And),
            BinOp::Or => Some(AluOp::Or),
            BinOp::Xor => Some(AluOp::Xor),
            _ => None,
        };
        let imm = match b.loc {
            Loc::Const(c) if fits_i32(c) => Some(c as i32),
            _ => None,
        };
        match (alu, imm) {
            (Some(alu), Some(c)) => self.m().alu_ri(alu, ra, c, size)?,
            // A product by a power of two (a `sizeof`-scaled index) is a
            // shift; only the unchecked `mul`, whose flags nothing reads.
            (None, Some(c)) if op == BinOp::Mul && c > 0 && c.count_ones() == 1 => {
                if c > 1 {
                    self.m()
                        .shift_ri(ShiftKind::Shl, ra, c.trailing_zeros() as u8, size)?
                }
            }
            (None, Some(c)) => self.m().imul_rri(ra, ra, c, size)?,
            (alu, None) => {
                let rb = self.widen_b(&b, wide, unsigned)?;
                match alu {
                    Some(alu) => self.m().alu_rr(alu, ra, rb, size)?,
                    None => self.m().imul_rr(ra, rb, size)?,
                }
                self.free_b(&b, rb);
            }
        }
        match op {
            BinOp::AddOvf | BinOp::SubOvf | BinOp::MulOvf => {
                self.fail_if(Cond::O, FailCode::Overflow)?
            }
            BinOp::AddOvfUn | BinOp::SubOvfUn => self.fail_if(Cond::B, FailCode::Overflow)?,
            _ => {}
        }
        self.ctx.push_reg(ty, ra);
        Ok(())
    }

    /// `x = x op b` on a local kept in a register, as one instruction on
    /// that register: the left operand is the local itself (a lazy `ldloc`,
    /// so its register holds its current value), the next instruction stores
    /// the result back into it and is no branch target, the operation is an
    /// add, subtract or bitwise one without overflow check, and the local's
    /// stack type is the result's (`int32`, `int64`, `native int`; no small
    /// integers, which would need normalising, no references). The result
    /// is pushed as the local itself, so that `stloc` finds nothing to
    /// store. The checks are `store_target`'s, which, as `stloc` would,
    /// drops the facts known about the old value and here materialises the
    /// lazy copies of it still on the stack first. Returns whether it
    /// applied (nothing emitted otherwise).
    fn update_in_place(
        &mut self,
        op: BinOp,
        a: &Val,
        b: &Val,
        ty: StackTy,
        size: OperandSize,
    ) -> R<bool> {
        let Some(alu) = plain_alu(op) else {
            return Ok(false);
        };
        if !matches!(ty, StackTy::I32 | StackTy::I64 | StackTy::NInt) {
            return Ok(false);
        }
        let Some((x, _)) = self.next_stloc else {
            return Ok(false);
        };
        if a.loc != Loc::Local(x) {
            return Ok(false);
        }
        let Some((x, reg)) = self.store_target(ty, None, true)? else {
            return Ok(false);
        };
        // `b` is read in the same instruction that changes the register:
        // it may be the local too.
        self.apply_alu(alu, reg, b, size)?;
        self.push_stored(x, ty);
        Ok(true)
    }

    /// `z = a op b` computed straight into the register of `z`, the local
    /// the next instruction stores to (`store_target`), for the operations
    /// `update_in_place` takes, when neither operand is read from that
    /// register (`a` as `z` itself is `update_in_place`'s case): `a` is
    /// moved there (an `int32` sign-extended for a 64-bit result, §III.1.5)
    /// and `b` applied to it. Returns whether it applied.
    fn compute_into_local(
        &mut self,
        op: BinOp,
        a: &Val,
        b: &Val,
        ty: StackTy,
        size: OperandSize,
    ) -> R<bool> {
        let Some(alu) = plain_alu(op) else {
            return Ok(false);
        };
        if !matches!(ty, StackTy::I32 | StackTy::I64 | StackTy::NInt) {
            return Ok(false);
        }
        let Some((x, _)) = self.next_stloc else {
            return Ok(false);
        };
        let Some(target) = self.ctx.local_regs.get(x as usize).copied().flatten() else {
            return Ok(false);
        };
        if self.ctx.reads_reg(a, target) || self.ctx.reads_reg(b, target) {
            return Ok(false);
        }
        let Some((z, rz)) = self.store_target(ty, None, false)? else {
            return Ok(false);
        };
        let wide = size == OperandSize::S64;
        self.ctx.load_to_gpr(a, rz)?;
        if wide && a.ty == StackTy::I32 && !self.ctx.zero_extended_small(a) {
            self.m().extend(rz, rz, Extend::I32)?;
        }
        self.ctx.free(a);
        self.apply_alu(alu, rz, b, size)?;
        self.push_stored(z, ty);
        Ok(true)
    }

    /// `reg = reg alu b`, `b` an immediate when it fits, else in a register
    /// (an `int32` sign-extended for a 64-bit operation, §III.1.5).
    fn apply_alu(&mut self, alu: AluOp, reg: Gpr, b: &Val, size: OperandSize) -> R {
        match b.loc {
            Loc::Const(c) if fits_i32(c) => self.m().alu_ri(alu, reg, c as i32, size),
            _ => {
                let rb = self.widen_b(b, size == OperandSize::S64, false)?;
                self.m().alu_rr(alu, reg, rb, size)?;
                self.free_b(b, rb);
                Ok(())
            }
        }
    }

    /// Left operand in an owned register, widened to 64 bits when needed.
    pub(super) fn widen(&mut self, v: &Val, wide: bool, unsigned: bool) -> R<Gpr> {
        if wide {
            self.ctx.into_gpr64(v, unsigned)
        } else {
            self.ctx.into_gpr(v)
        }
    }

    /// Right operand: constants go to the scratch register (never allocated), others to a register.
    pub(super) fn widen_b(&mut self, v: &Val, wide: bool, unsigned: bool) -> R<Gpr> {
        if let Loc::Const(c) = v.loc {
            let c = if v.ty == StackTy::I32 && unsigned && wide {
                c as u32 as i64
            } else {
                c
            };
            self.m().mov_ri(
                M::Abi::SCRATCH,
                c,
                if wide {
                    OperandSize::S64
                } else {
                    OperandSize::S32
                },
            )?;
            return Ok(M::Abi::SCRATCH);
        }
        if !(wide && v.ty == StackTy::I32) {
            return self.ctx.read_gpr(v);
        }
        self.widen(v, wide, unsigned)
    }

    pub(super) fn free_b(&mut self, _v: &Val, r: Gpr) {
        self.ctx.free_gpr(r);
    }

    pub(super) fn divrem(
        &mut self,
        op: BinOp,
        a: Val,
        b: Val,
        ty: StackTy,
        size: OperandSize,
    ) -> R {
        let wide = size == OperandSize::S64;
        let unsigned = matches!(op, BinOp::DivUn | BinOp::RemUn);
        let ra = self.widen(&a, wide, unsigned)?;
        let rb = self.widen_b(&b, wide, unsigned)?;
        self.m().alu_rr(AluOp::Test, rb, rb, size)?;
        self.fail_if(Cond::E, FailCode::DivideByZero)?;
        let kind = match op {
            BinOp::Div => DivKind::SDiv,
            BinOp::DivUn => DivKind::UDiv,
            BinOp::Rem => DivKind::SRem,
            _ => DivKind::URem,
        };
        // MIN / -1 overflows (the CLI raises OverflowException).
        let overflow = if unsigned {
            None
        } else {
            Some(self.fail_label(FailCode::Overflow)?)
        };
        self.m().div(kind, ra, rb, size, overflow)?;
        self.free_b(&b, rb);
        self.ctx.push_reg(ty, ra);
        Ok(())
    }

    pub(super) fn shift(&mut self, op: BinOp, a: Val, b: Val) -> R {
        let size = context::home_size(a.ty);
        let kind = match op {
            BinOp::Shl => ShiftKind::Shl,
            BinOp::Shr => ShiftKind::Sar,
            _ => ShiftKind::Shr,
        };
        let ra = self.ctx.into_gpr(&a)?;
        if let Loc::Const(c) = b.loc {
            let mask = if size == OperandSize::S64 { 63 } else { 31 };
            self.m().shift_ri(kind, ra, (c & mask) as u8, size)?;
        } else {
            let count = M::SHIFT_COUNT;
            self.ctx.load_to_gpr(&b, count)?;
            self.ctx.free(&b);
            self.m().shift(kind, ra, count, size)?;
        }
        self.ctx.push_reg(a.ty, ra);
        Ok(())
    }

    /// Float arithmetic in double precision; a float32 result (`ty` is `F32`) is
    /// rounded to single. For + - * / of float32 operands that equals the single
    /// precision operation: double has more than 2·24+2 bits, so double rounding
    /// is innocuous (Figueroa, "When is double rounding innocuous?", 1995); `%` is
    /// exact either way.
    pub(super) fn float_binop(&mut self, op: BinOp, a: Val, b: Val, ty: StackTy) -> R {
        if matches!(op, BinOp::Rem) {
            self.ctx.stack.push(a.ty, a.loc);
            self.ctx.stack.push(b.ty, b.loc);
            // Re-push and spill so the helper call cannot clobber live values.
            self.ctx.spill_regs()?;
            let b = self.ctx.pop()?;
            let a = self.ctx.pop()?;
            // Every value is spilled: the float registers are free.
            let xa = self.ctx.val_to_xmm(&a, M::Abi::FLOAT_RET)?;
            self.m().movq_rx(M::Abi::ARG_GPRS[0], xa)?;
            let xb = self.ctx.val_to_xmm(&b, M::Abi::XMM_POOL[0])?;
            self.m().movq_rx(M::Abi::ARG_GPRS[1], xb)?;
            let h = self.host.helper(Helper::FRem);
            self.call_abs(h, CallSiteKind::Helper(Helper::FRem))?;
            let x = self.ctx.alloc_xmm()?;
            self.m().movq_xr(x, M::Abi::RET)?;
            self.ctx.push_xmm_ty(x, ty);
            return Ok(());
        }
        let xa = self.ctx.into_xmm(&a)?;
        let xb = self.ctx.val_to_xmm(&b, M::Abi::FLOAT_SCRATCH)?;
        let fop = match op {
            BinOp::Add => FloatOp::Add,
            BinOp::Sub => FloatOp::Sub,
            BinOp::Mul => FloatOp::Mul,
            BinOp::Div => FloatOp::Div,
            _ => return Err(JitErrorKind::TypeMismatch("float operation")),
        };
        self.m().fop(fop, xa, xb)?;
        if ty == StackTy::F32 {
            self.m().fround_single(xa)?;
        }
        self.ctx.free(&b);
        self.ctx.push_xmm_ty(xa, ty);
        Ok(())
    }

    pub fn neg(&mut self) -> R {
        let v = self.ctx.pop()?;
        match v.ty {
            StackTy::F | StackTy::F32 => {
                let x = self.ctx.into_xmm(&v)?;
                // Flip the sign bit (the bits of -0.0).
                let sign = self.float_scratch_const(-0.0)?;
                self.m().fxor(x, sign)?;
                self.ctx.push_xmm_ty(x, v.ty);
            }
            StackTy::I32 | StackTy::I64 | StackTy::NInt => {
                if let Loc::Const(c) = v.loc {
                    let r = if v.ty == StackTy::I32 {
                        (c as i32).wrapping_neg() as i64
                    } else {
                        c.wrapping_neg()
                    };
                    self.ctx.stack.push(v.ty, Loc::Const(r));
                    return Ok(());
                }
                let r = self.ctx.into_gpr(&v)?;
                self.m().neg(r, context::home_size(v.ty))?;
                self.ctx.push_reg(v.ty, r);
            }
            _ => return Err(JitErrorKind::TypeMismatch("neg operand")),
        }
        Ok(())
    }

    pub fn not(&mut self) -> R {
        let v = self.ctx.pop()?;
        if !matches!(v.ty, StackTy::I32 | StackTy::I64 | StackTy::NInt) {
            return Err(JitErrorKind::TypeMismatch("not operand"));
        }
        if let Loc::Const(c) = v.loc {
            let r = if v.ty == StackTy::I32 {
                !(c as i32) as i64
            } else {
                !c
            };
            self.ctx.stack.push(v.ty, Loc::Const(r));
            return Ok(());
        }
        let r = self.ctx.into_gpr(&v)?;
        self.m().not(r, context::home_size(v.ty))?;
        self.ctx.push_reg(v.ty, r);
        Ok(())
    }

    // ---- comparisons ----------------------------------------------------------

    /// Puts both operands in registers (or b as an imm32 constant) with a common width.
    pub(super) fn int_cmp_operands(
        &mut self,
        a: &Val,
        b: &Val,
        read_only: bool,
    ) -> R<(Gpr, Option<Gpr>, OperandSize)> {
        use StackTy::*;
        let size = match (a.ty, b.ty) {
            (I32, I32) => OperandSize::S32,
            (x, y) if x.is_gpr() && y.is_gpr() => OperandSize::S64,
            _ => return Err(JitErrorKind::TypeMismatch("comparison operands")),
        };
        let wide = size == OperandSize::S64;
        let ra = if read_only && !(wide && a.ty == I32) {
            self.ctx.read_gpr(a)?
        } else {
            self.widen(a, wide, false)?
        };
        if let Loc::Const(c) = b.loc {
            if fits_i32(c) {
                return Ok((ra, None, size));
            }
        }
        let rb = if !(wide && b.ty == I32) {
            self.ctx.read_gpr(b)?
        } else {
            self.widen(b, wide, false)?
        };
        Ok((ra, Some(rb), size))
    }

    pub fn cmp(&mut self, kind: CmpKind) -> R {
        let b = self.ctx.pop()?;
        let a = self.ctx.pop()?;
        if a.ty.is_float() || b.ty.is_float() {
            return self.push_fcmp(a, b, kind);
        }
        let (ra, rb, size) = self.int_cmp_operands(&a, &b, false)?;
        match (rb, b.loc) {
            (Some(rb), _) => {
                self.m().alu_rr(AluOp::Cmp, ra, rb, size)?;
                self.ctx.free_gpr(rb);
            }
            (None, Loc::Const(c)) => self.m().alu_ri(AluOp::Cmp, ra, c as i32, size)?,
            _ => return Err(JitErrorKind::Internal("compare operand".into())),
        }
        self.m().setcc(int_cond(kind), ra)?;
        self.ctx.push_reg(StackTy::I32, ra);
        Ok(())
    }

    pub(super) fn push_fcmp(&mut self, a: Val, b: Val, kind: CmpKind) -> R {
        if !a.ty.is_float() || !b.ty.is_float() {
            return Err(JitErrorKind::TypeMismatch(
                "comparing a float with a non-float",
            ));
        }
        let xa = self.ctx.into_xmm(&a)?;
        let xb = self.ctx.val_to_xmm(&b, M::Abi::FLOAT_SCRATCH)?;
        let r = self.ctx.alloc_gpr()?;
        let (swap, cond) = match kind {
            CmpKind::Gt => (false, Cond::A),
            CmpKind::Ge => (false, Cond::Ae),
            CmpKind::Lt => (true, Cond::A),
            CmpKind::Le => (true, Cond::Ae),
            CmpKind::GtUn => (true, Cond::B),
            CmpKind::GeUn => (true, Cond::Be),
            CmpKind::LtUn => (false, Cond::B),
            CmpKind::LeUn => (false, Cond::Be),
            CmpKind::Eq | CmpKind::NeUn => (false, Cond::E),
        };
        if swap {
            self.m().fcmp(xb, xa)?;
        } else {
            self.m().fcmp(xa, xb)?;
        }
        self.m().setcc(cond, r)?;
        if matches!(kind, CmpKind::Eq | CmpKind::NeUn) {
            self.m().setcc(Cond::Np, M::Abi::SCRATCH)?;
            self.m()
                .alu_rr(AluOp::And, r, M::Abi::SCRATCH, OperandSize::S32)?;
            if kind == CmpKind::NeUn {
                self.m().alu_ri(AluOp::Xor, r, 1, OperandSize::S32)?;
            }
        }
        self.ctx.free(&a);
        self.ctx.free_xmm_of(xa);
        self.ctx.free(&b);
        self.ctx.push_reg(StackTy::I32, r);
        Ok(())
    }

    // ---- conversions ------------------------------------------------------------

    pub fn conv(&mut self, to: ConvTo, ovf: bool, un: bool) -> R {
        let v = self.ctx.pop()?;
        match v.ty {
            StackTy::F | StackTy::F32 => return self.conv_from_float(v, to, ovf),
            StackTy::Value(_) => return Err(JitErrorKind::TypeMismatch("conv of a value type")),
            _ => {}
        }
        if matches!(to, ConvTo::R4 | ConvTo::R8 | ConvTo::RUn) {
            return self.conv_to_float(v, to, un);
        }
        let res_ty = match to {
            ConvTo::I8 | ConvTo::U8 => StackTy::I64,
            ConvTo::I | ConvTo::U => StackTy::NInt,
            _ => StackTy::I32,
        };
        // Source as a full 64-bit value in the interpretation the op asks for.
        let src_unsigned = un;
        if let Loc::Const(c) = v.loc {
            if !ovf && matches!(to, ConvTo::I8 | ConvTo::U8 | ConvTo::I | ConvTo::U) {
                // Widening a constant: sign- or zero-extended now, not in code.
                let zero = src_unsigned || matches!(to, ConvTo::U8 | ConvTo::U);
                let r = match (v.ty, zero) {
                    (StackTy::I32, true) => c as u32 as i64,
                    (StackTy::I32, false) => c as i32 as i64,
                    _ => c,
                };
                self.ctx.stack.push(res_ty, Loc::Const(r));
                return Ok(());
            }
            let c64 = if v.ty == StackTy::I32 && src_unsigned {
                c as u32 as i64
            } else {
                c
            };
            if let Some(r) = conv_const(c64, to, ovf, src_unsigned) {
                self.ctx.stack.push(res_ty, Loc::Const(r));
                return Ok(());
            }
        }
        // A narrowing to a small integer stored next into a register local
        // of that kind: extended straight into the local's register.
        let small = match to {
            ConvTo::I1 => Some(Extend::I8),
            ConvTo::U1 => Some(Extend::U8),
            ConvTo::I2 => Some(Extend::I16),
            ConvTo::U2 => Some(Extend::U16),
            _ => None,
        };
        if let (Some(ext), false) = (small, ovf) {
            if let Some((z, rz)) = self.store_target(StackTy::I32, Some(ext), false)? {
                // A variable is read in its register; anything else comes
                // in a register this owns (freed after).
                let owned = self.ctx.home_reg(&v).is_none();
                let r = self.ctx.read_gpr(&v)?;
                self.m().extend(rz, r, ext)?;
                if owned {
                    self.ctx.free_gpr(r);
                }
                self.push_stored(z, StackTy::I32);
                return Ok(());
            }
        }
        let r = self.ctx.into_gpr(&v)?;
        // Narrowing without a range check reads only the low 32 bits or
        // fewer, whatever the upper half holds.
        let narrow = !ovf && !matches!(to, ConvTo::I8 | ConvTo::U8 | ConvTo::I | ConvTo::U);
        if v.ty == StackTy::I32 && !narrow {
            let zero = src_unsigned || (!ovf && matches!(to, ConvTo::U8 | ConvTo::U));
            // A 32-bit load or move into a fresh register (`into_gpr` of a
            // variable, a spilled value or a constant) has zeroed the upper half.
            let fresh32 = matches!(
                v.loc,
                Loc::Local(_) | Loc::Arg(_) | Loc::Home | Loc::Const(_)
            );
            // An unsigned 1- or 2-byte variable arrives zero-extended to 64
            // bits, which is also its sign extension.
            let extended = (zero && fresh32) || self.ctx.zero_extended_small(&v);
            if !extended {
                self.m()
                    .extend(r, r, if zero { Extend::U32 } else { Extend::I32 })?;
            }
        }
        if ovf {
            self.check_int_range(r, to, src_unsigned)?;
        }
        match to {
            ConvTo::I1 => self.m().extend(r, r, Extend::I8)?,
            ConvTo::U1 => self.m().extend(r, r, Extend::U8)?,
            ConvTo::I2 => self.m().extend(r, r, Extend::I16)?,
            ConvTo::U2 => self.m().extend(r, r, Extend::U16)?,
            _ => {}
        }
        // An `int` slot widened to a native int: most likely an array index
        // (mcs's `uint` index), which `bounds` then knows by its slot.
        if !ovf && v.ty == StackTy::I32 {
            match to {
                ConvTo::U => self.note_widened_index(v.loc, r, bounds::Widen::ConvU),
                ConvTo::I => self.note_widened_index(v.loc, r, bounds::Widen::ConvI),
                _ => {}
            }
        }
        self.ctx.push_reg(res_ty, r);
        Ok(())
    }

    /// Fails with Overflow unless the 64-bit value in `r` fits `to`.
    pub(super) fn check_int_range(&mut self, r: Gpr, to: ConvTo, src_unsigned: bool) -> R {
        let signed_narrow = match to {
            ConvTo::I1 => Some((Extend::I8, 127)),
            ConvTo::I2 => Some((Extend::I16, 32767)),
            ConvTo::I4 => Some((Extend::I32, i32::MAX)),
            _ => None,
        };
        let unsigned_narrow = match to {
            ConvTo::U1 => Some(Extend::U8),
            ConvTo::U2 => Some(Extend::U16),
            ConvTo::U4 => Some(Extend::U32),
            _ => None,
        };
        if let Some((ext, max)) = signed_narrow {
            if src_unsigned {
                self.m().alu_ri(AluOp::Cmp, r, max, OperandSize::S64)?;
                self.fail_if(Cond::A, FailCode::Overflow)?;
            } else {
                self.m().extend(M::Abi::SCRATCH, r, ext)?;
                if ext != Extend::I32 {
                    self.m()
                        .extend(M::Abi::SCRATCH, M::Abi::SCRATCH, Extend::I32)?;
                }
                self.m()
                    .alu_rr(AluOp::Cmp, M::Abi::SCRATCH, r, OperandSize::S64)?;
                self.fail_if(Cond::Ne, FailCode::Overflow)?;
            }
        } else if let Some(ext) = unsigned_narrow {
            self.m().extend(M::Abi::SCRATCH, r, ext)?;
            self.m()
                .alu_rr(AluOp::Cmp, M::Abi::SCRATCH, r, OperandSize::S64)?;
            self.fail_if(Cond::Ne, FailCode::Overflow)?;
        } else {
            let signed_target = matches!(to, ConvTo::I8 | ConvTo::I);
            if signed_target == src_unsigned {
                // u64 → i64 or i64 → u64: the sign bit must be clear.
                self.m().alu_rr(AluOp::Test, r, r, OperandSize::S64)?;
                self.fail_if(Cond::S, FailCode::Overflow)?;
            }
        }
        Ok(())
    }

    pub(super) fn conv_to_float(&mut self, v: Val, to: ConvTo, un: bool) -> R {
        let x = self.ctx.alloc_xmm()?;
        let unsigned = un || to == ConvTo::RUn;
        let r = self.ctx.into_gpr(&v)?;
        if v.ty == StackTy::I32 {
            if unsigned {
                self.m().extend(r, r, Extend::U32)?;
                self.m().cvt_i2f(x, r, OperandSize::S64)?;
            } else {
                self.m().cvt_i2f(x, r, OperandSize::S32)?;
            }
        } else if unsigned {
            let (big, done) = (self.m().new_label(), self.m().new_label());
            self.m().alu_rr(AluOp::Test, r, r, OperandSize::S64)?;
            self.m().jcc(Cond::S, big)?;
            self.m().cvt_i2f(x, r, OperandSize::S64)?;
            self.m().jmp(done)?;
            self.m().bind(big)?;
            self.m().mov_rr(M::Abi::SCRATCH, r, OperandSize::S64)?;
            self.m()
                .shift_ri(ShiftKind::Shr, M::Abi::SCRATCH, 1, OperandSize::S64)?;
            self.m().alu_ri(AluOp::And, r, 1, OperandSize::S64)?;
            self.m()
                .alu_rr(AluOp::Or, M::Abi::SCRATCH, r, OperandSize::S64)?;
            self.m().cvt_i2f(x, M::Abi::SCRATCH, OperandSize::S64)?;
            self.m().fop(FloatOp::Add, x, x)?;
            self.m().bind(done)?;
        } else if to == ConvTo::R4 {
            // One rounding, straight to single (via double would round twice).
            self.m().cvt_i2f_single(x, r, OperandSize::S64)?;
            self.ctx.free_gpr(r);
            self.ctx.push_xmm_ty(x, StackTy::F32);
            return Ok(());
        } else {
            self.m().cvt_i2f(x, r, OperandSize::S64)?;
        }
        self.ctx.free_gpr(r);
        if to == ConvTo::R4 {
            self.m().fround_single(x)?;
            self.ctx.push_xmm_ty(x, StackTy::F32);
        } else {
            self.ctx.push_xmm(x);
        }
        Ok(())
    }

    pub(super) fn conv_from_float(&mut self, v: Val, to: ConvTo, ovf: bool) -> R {
        let x = self.ctx.into_xmm(&v)?;
        match to {
            ConvTo::R8 => {
                self.ctx.push_xmm(x);
                return Ok(());
            }
            ConvTo::R4 => {
                if v.ty != StackTy::F32 {
                    self.m().fround_single(x)?;
                }
                self.ctx.push_xmm_ty(x, StackTy::F32);
                return Ok(());
            }
            ConvTo::RUn => {
                self.ctx.push_xmm(x);
                return Ok(());
            }
            _ => {}
        }
        let r = self.ctx.alloc_gpr()?;
        let res_ty = match to {
            ConvTo::I8 | ConvTo::U8 => StackTy::I64,
            ConvTo::I | ConvTo::U => StackTy::NInt,
            _ => StackTy::I32,
        };
        if matches!(to, ConvTo::U8 | ConvTo::U) {
            if ovf {
                // x <= -1.0 or NaN, or x >= 2^64: overflow.
                let c = self.float_scratch_const(-1.0)?;
                self.m().fcmp(x, c)?;
                self.fail_if(Cond::Be, FailCode::Overflow)?;
                let c = self.float_scratch_const(18446744073709551616.0f64)?;
                self.m().fcmp(x, c)?;
                self.fail_if(Cond::Ae, FailCode::Overflow)?;
            }
            let (big, done) = (self.m().new_label(), self.m().new_label());
            let c = self.float_scratch_const(9223372036854775808.0f64)?;
            self.m().fcmp(x, c)?;
            self.m().jcc(Cond::Ae, big)?;
            self.m().cvt_f2i(r, x, OperandSize::S64)?;
            self.m().jmp(done)?;
            self.m().bind(big)?;
            self.m().fop(FloatOp::Sub, x, c)?;
            self.m().cvt_f2i(r, x, OperandSize::S64)?;
            self.m()
                .mov_ri(M::Abi::SCRATCH, i64::MIN, OperandSize::S64)?;
            self.m()
                .alu_rr(AluOp::Xor, r, M::Abi::SCRATCH, OperandSize::S64)?;
            self.m().bind(done)?;
        } else {
            self.m().cvt_f2i(r, x, OperandSize::S64)?;
            if ovf {
                // cvttsd2si yields 0x8000_0000_0000_0000 for NaN and out of range;
                // that value is only legitimate for exactly -2^63.
                let ok = self.m().new_label();
                self.m()
                    .mov_ri(M::Abi::SCRATCH, i64::MIN, OperandSize::S64)?;
                self.m()
                    .alu_rr(AluOp::Cmp, r, M::Abi::SCRATCH, OperandSize::S64)?;
                self.m().jcc(Cond::Ne, ok)?;
                let c = self.float_scratch_const(-9223372036854775808.0)?;
                self.m().fcmp(x, c)?;
                self.fail_if(Cond::Ne, FailCode::Overflow)?;
                self.fail_if(Cond::P, FailCode::Overflow)?;
                self.m().bind(ok)?;
                self.check_int_range(r, to, false)?;
            }
            match to {
                ConvTo::I1 => self.m().extend(r, r, Extend::I8)?,
                ConvTo::U1 => self.m().extend(r, r, Extend::U8)?,
                ConvTo::I2 => self.m().extend(r, r, Extend::I16)?,
                ConvTo::U2 => self.m().extend(r, r, Extend::U16)?,
                _ => {}
            }
        }
        self.ctx.free_xmm_of(x);
        self.ctx.push_reg(res_ty, r);
        Ok(())
    }

    /// Loads the double `f` into the float scratch register (through the
    /// integer one) and returns that register.
    fn float_scratch_const(&mut self, f: f64) -> R<Xmm> {
        let (t, x) = (M::Abi::SCRATCH, M::Abi::FLOAT_SCRATCH);
        self.m().mov_ri(t, f.to_bits() as i64, OperandSize::S64)?;
        self.m().movq_xr(x, t)?;
        Ok(x)
    }

    pub fn ckfinite(&mut self) -> R {
        let v = self.ctx.pop()?;
        let x = self.ctx.into_xmm(&v)?;
        // NaN and the infinities have every exponent bit set.
        let (bits, exp) = (M::Abi::SCRATCH, M::Abi::RET);
        self.m().movq_rx(bits, x)?;
        self.m()
            .mov_ri(exp, 0x7FF0_0000_0000_0000u64 as i64, OperandSize::S64)?;
        self.m().alu_rr(AluOp::And, bits, exp, OperandSize::S64)?;
        self.m().alu_rr(AluOp::Cmp, bits, exp, OperandSize::S64)?;
        self.fail_if(Cond::E, FailCode::NotFinite)?;
        self.ctx.push_xmm(x);
        Ok(())
    }
}

/// The ALU operation of an add, subtract or bitwise `op` without overflow
/// check (the operations lowered into a local's register).
fn plain_alu(op: BinOp) -> Option<AluOp> {
    match op {
        BinOp::Add => Some(AluOp::Add),
        BinOp::Sub => Some(AluOp::Sub),
        BinOp::And => Some(AluOp::And),
        BinOp::Or => Some(AluOp::Or),
        BinOp::Xor => Some(AluOp::Xor),
        _ => None,
    }
}
