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
        self.m().mov_ri(M::Abi::RET, 0, OperandSize::S64)?;
        self.m()
            .store(Self::frame_slot(tmp), M::Abi::RET, OperandSize::S64)?;
        self.m().load_ext(
            M::Abi::SCRATCH,
            Self::frame_slot(v.home + n.has_value_offset as i32),
            Extend::U8,
        )?;
        self.m().alu_rr(
            AluOp::Test,
            M::Abi::SCRATCH,
            M::Abi::SCRATCH,
            OperandSize::S32,
        )?;
        self.m().jcc(Cond::E, done)?;
        self.m()
            .mov_ri(M::Abi::ARG_GPRS[0], n.value.handle as i64, OperandSize::S64)?;
        let h = self.host.helper(Helper::NewObject);
        self.call_abs(h, CallSiteKind::Helper(Helper::NewObject))?;
        self.m()
            .store(Self::frame_slot(tmp), M::Abi::RET, OperandSize::S64)?;
        let off = self.layout.box_data_offset;
        self.ctx.copy_mem(
            Address::offset(M::Abi::RET, off),
            Self::frame_slot(v.home + n.value_offset as i32),
            n.value.ty.size(),
        )?;
        self.m().bind(done)?;
        self.m()
            .load(M::Abi::RET, Self::frame_slot(tmp), OperandSize::S64)?;
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
        self.ctx.load_to_gpr(&v, M::Abi::RET2)?;
        self.ctx.free(&v);
        let tmp = self.ctx.stack.temp(layout.size);
        self.ctx.zero_mem(Self::frame_slot(tmp), layout.size)?;
        let done = self.m().new_label();
        self.m()
            .alu_rr(AluOp::Test, M::Abi::RET2, M::Abi::RET2, OperandSize::S64)?;
        self.m().jcc(Cond::E, done)?;
        let mt_off = self.layout.method_table_offset;
        self.m().load(
            M::Abi::SCRATCH,
            Address::offset(M::Abi::RET2, mt_off),
            OperandSize::S64,
        )?;
        self.m()
            .mov_ri(M::Abi::RET, n.value.handle as i64, OperandSize::S64)?;
        self.m()
            .alu_rr(AluOp::Cmp, M::Abi::SCRATCH, M::Abi::RET, OperandSize::S64)?;
        match n.unbox_key {
            Some((off, key)) => {
                let ok = self.m().new_label();
                self.m().jcc(Cond::E, ok)?;
                self.m().alu_mi(
                    AluOp::Cmp,
                    Address::offset(M::Abi::SCRATCH, off),
                    key as i32,
                    OperandSize::S32,
                )?;
                self.fail_if(Cond::Ne, FailCode::InvalidCast)?;
                self.m().bind(ok)?;
            }
            None => self.fail_if(Cond::Ne, FailCode::InvalidCast)?,
        }
        self.m().mov_ri(M::Abi::SCRATCH, 1, OperandSize::S64)?;
        self.m().store(
            Self::frame_slot(tmp + n.has_value_offset as i32),
            M::Abi::SCRATCH,
            OperandSize::S8,
        )?;
        let off = self.layout.box_data_offset;
        self.ctx.copy_mem(
            Self::frame_slot(tmp + n.value_offset as i32),
            Address::offset(M::Abi::RET2, off),
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
