//! `box` and `unbox.any` of `Nullable<T>` (ECMA-335 §I.8.2.4, §III.4.1,
//! §III.4.33): a nullable without a value boxes to null and one with a value to
//! a boxed `T`; unboxing null gives an empty nullable and a boxed `T` a full one.

use super::stack::StackTy;
use super::{CodeGen, R};
use crate::host::{FailCode, Helper, JitHost, NullableInfo};
use crate::masm::Address;
use crate::masm::*;
use crate::{CallSiteKind, JitErrorKind};

impl<H: JitHost, M: MacroAssembler> CodeGen<'_, H, M> {
    /// `box Nullable<T>`: null when `hasValue` is false, else a boxed `T`.
    pub(super) fn box_nullable(&mut self, n: &NullableInfo) -> R {
        self.ctx.spill_regs()?;
        let i = self
            .ctx
            .stack
            .len()
            .checked_sub(1)
            .ok_or(JitErrorKind::StackUnderflow)?;
        if !matches!(self.ctx.stack.vals[i].ty, StackTy::Value(_)) {
            return Err(JitErrorKind::TypeMismatch(
                "box of a nullable needs its value",
            ));
        }
        // The value in its own home, and the result slot below it.
        self.ctx.spill_at(i)?;
        let tmp = self.ctx.stack.temp(8);
        let v = self.ctx.pop()?;
        let done = self.m().new_label();
        let (ret, scratch) = (M::Abi::RET, M::Abi::SCRATCH);
        let result = Self::frame_slot(tmp);
        self.m().mov_ri(ret, 0, OperandSize::S64)?;
        self.m().store(result, ret, OperandSize::S64)?;
        let has_value = Self::frame_slot(v.home + n.has_value_offset as i32);
        self.m().load_ext(scratch, has_value, Extend::U8)?;
        self.m()
            .alu_rr(AluOp::Test, scratch, scratch, OperandSize::S32)?;
        self.m().jcc(Cond::E, done)?;
        self.m()
            .mov_ri(M::Abi::ARG_GPRS[0], n.value.handle as i64, OperandSize::S64)?;
        let h = self.host.helper(Helper::NewObject);
        self.call_abs(h, CallSiteKind::Helper(Helper::NewObject))?;
        self.m().store(result, ret, OperandSize::S64)?;
        let off = self.layout.box_data_offset;
        self.ctx.copy_mem(
            Address::offset(ret, off),
            Self::frame_slot(v.home + n.value_offset as i32),
            n.value.ty.size(),
        )?;
        self.m().bind(done)?;
        self.m().load(ret, result, OperandSize::S64)?;
        self.push_rax(StackTy::Obj)
    }

    /// `unbox.any Nullable<T>`: an empty nullable for null, else the boxed `T`'s
    /// value (which must be a `T`, or an enum/primitive of the same kind).
    pub(super) fn unbox_nullable(&mut self, n: &NullableInfo, layout_ty: StackTy) -> R {
        let StackTy::Value(layout) = layout_ty else {
            return Err(JitErrorKind::TypeMismatch("nullable is not a value type"));
        };
        self.ctx.spill_regs()?;
        let v = self.ctx.pop()?;
        if v.ty != StackTy::Obj {
            return Err(JitErrorKind::TypeMismatch("unbox needs an object"));
        }
        // The object in the second result register (copying uses the scratch).
        let (obj, mt, want) = (M::Abi::RET2, M::Abi::SCRATCH, M::Abi::RET);
        self.ctx.load_to_gpr(&v, obj)?;
        self.ctx.free(&v);
        let tmp = self.ctx.stack.temp(layout.size);
        self.ctx.zero_mem(Self::frame_slot(tmp), layout.size)?;
        let done = self.m().new_label();
        self.m().alu_rr(AluOp::Test, obj, obj, OperandSize::S64)?;
        self.m().jcc(Cond::E, done)?;
        let mt_off = self.layout.method_table_offset;
        self.m()
            .load(mt, Address::offset(obj, mt_off), OperandSize::S64)?;
        self.m()
            .mov_ri(want, n.value.handle as i64, OperandSize::S64)?;
        self.m().alu_rr(AluOp::Cmp, mt, want, OperandSize::S64)?;
        match n.unbox_key {
            Some((off, key)) => {
                let ok = self.m().new_label();
                self.m().jcc(Cond::E, ok)?;
                self.m().alu_mi(
                    AluOp::Cmp,
                    Address::offset(mt, off),
                    key as i32,
                    OperandSize::S32,
                )?;
                self.fail_if(Cond::Ne, FailCode::InvalidCast)?;
                self.m().bind(ok)?;
            }
            None => self.fail_if(Cond::Ne, FailCode::InvalidCast)?,
        }
        let one = M::Abi::SCRATCH;
        self.m().mov_ri(one, 1, OperandSize::S64)?;
        let has_value = Self::frame_slot(tmp + n.has_value_offset as i32);
        self.m().store(has_value, one, OperandSize::S8)?;
        let off = self.layout.box_data_offset;
        self.ctx.copy_mem(
            Self::frame_slot(tmp + n.value_offset as i32),
            Address::offset(obj, off),
            n.value.ty.size(),
        )?;
        self.m().bind(done)?;
        let nv = self.ctx.stack.push(layout_ty, super::stack::Loc::Home);
        self.ctx.copy_mem(
            Self::frame_slot(nv.home),
            Self::frame_slot(tmp),
            layout.size,
        )
    }
}
