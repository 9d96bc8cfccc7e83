//! Multi-dimensional arrays (ECMA-335 §I.8.9.1, §II.14.2): the methods the VES
//! provides on every array type `T[,…]`, lowered inline.
//! - `newobj T[,]::.ctor(int32, int32)` (or the lower-bound/length form) stores
//!   its arguments in a frame temp and calls `Helper::NewMdArray`;
//! - `Get`, `Set` and `Address` compute the element address row-major from the
//!   lengths and lower bounds the array carries, checking each index against its
//!   dimension (`IndexOutOfRangeException`), then load, store (with the array
//!   covariance check for references) or push the address.
//!
//! Register use: every live value is spilled first, so the ABI's argument
//! registers are free: the first holds the array (it is also the store check's
//! first argument), the second the flat index, the fourth the current index,
//! the third the element address; the scratch register a length or bound.
//! The result register is the scratch of argument loads and never relied on.

use super::stack::{Loc, StackTy};
use super::{CodeGen, R};
use crate::host::{FailCode, Helper, JitHost, JitType, MdArrayMethod, MdArrayOp};
use crate::masm::Address;
use crate::masm::*;
use crate::{CallSiteKind, JitErrorKind};

impl<H: JitHost, M: MacroAssembler> CodeGen<'_, H, M> {
    /// `call`/`callvirt` of `Get`, `Set` or `Address` on a multi-dimensional array.
    pub(super) fn md_array_call(&mut self, a: &MdArrayMethod) -> R {
        if a.rank == 0 || a.rank > 32 {
            return Err(JitErrorKind::Host(crate::host::HostError::Invalid(
                "array rank must be 1..=32".into(),
            )));
        }
        let rank = a.rank as usize;
        let extra = (a.op == MdArrayOp::Set) as usize;
        let n = self.ctx.stack.len();
        let base = n
            .checked_sub(rank + 1 + extra)
            .ok_or(JitErrorKind::StackUnderflow)?;
        if self.ctx.stack.vals[base].ty != StackTy::Obj {
            return Err(JitErrorKind::TypeMismatch("array method on a non-object"));
        }
        for i in base + 1..base + 1 + rank {
            if !matches!(self.ctx.stack.vals[i].ty, StackTy::I32 | StackTy::NInt) {
                return Err(JitErrorKind::TypeMismatch("array index must be int32"));
            }
        }
        if a.op == MdArrayOp::Set {
            super::check_store(&a.elem, &self.ctx.stack.vals[n - 1].ty)?;
        }
        self.ctx.spill_regs()?;
        // See the module comment: everything is spilled, these are free.
        let [arr_reg, flat, elem_reg, idx_reg] = [0, 1, 2, 3].map(|i| M::Abi::ARG_GPRS[i]);
        let scratch = M::Abi::SCRATCH;
        let arr = self.ctx.stack.vals[base];
        self.ctx.load_to_gpr(&arr, arr_reg)?;
        self.null_check(arr_reg)?;
        if a.op == MdArrayOp::Set
            && a.elem == JitType::Obj
            && !matches!(self.ctx.stack.vals[n - 1].loc, Loc::Const(0))
        {
            // Array covariance (§III.4.26), as for `stelem.ref`.
            let val = self.ctx.stack.vals[n - 1];
            self.ctx.load_to_gpr(&val, M::Abi::ARG_GPRS[1])?;
            let h = self.host.helper(Helper::ArrayStoreCheck);
            self.call_abs(h, CallSiteKind::Helper(Helper::ArrayStoreCheck))?;
            let ret = M::Abi::RET;
            self.m().alu_rr(AluOp::Test, ret, ret, OperandSize::S64)?;
            self.fail_if(Cond::E, FailCode::ArrayTypeMismatch)?;
            self.ctx.load_to_gpr(&arr, arr_reg)?;
        }
        // flat = Σ (index_k - lower_k) · Π lengths after k, each index checked.
        self.m().mov_ri(flat, 0, OperandSize::S64)?;
        for k in 0..rank {
            let idx = self.ctx.stack.vals[base + 1 + k];
            self.ctx.load_to_gpr(&idx, idx_reg)?;
            if idx.ty == StackTy::I32 {
                self.m().extend(idx_reg, idx_reg, Extend::I32)?;
            }
            let len_at = a.lengths_offset + 8 * k as i32;
            let lb_at = a.lengths_offset + 8 * (rank + k) as i32;
            self.m()
                .load(scratch, Address::offset(arr_reg, lb_at), OperandSize::S64)?;
            self.m()
                .alu_rr(AluOp::Sub, idx_reg, scratch, OperandSize::S64)?;
            self.m()
                .load(scratch, Address::offset(arr_reg, len_at), OperandSize::S64)?;
            self.m()
                .alu_rr(AluOp::Cmp, idx_reg, scratch, OperandSize::S64)?;
            self.fail_if(Cond::Ae, FailCode::IndexOutOfRange)?;
            if k > 0 {
                self.m().imul_rr(flat, scratch, OperandSize::S64)?;
            }
            self.m()
                .alu_rr(AluOp::Add, flat, idx_reg, OperandSize::S64)?;
        }
        let size = a.elem.size();
        let addr = match size {
            1 | 2 | 4 | 8 => Address::indexed(arr_reg, flat, size as u8, a.data_offset),
            _ => {
                let s = i32::try_from(size)
                    .map_err(|_| JitErrorKind::Unsupported("array element too large"))?;
                self.m().imul_rri(flat, flat, s, OperandSize::S64)?;
                Address::indexed(arr_reg, flat, 1, a.data_offset)
            }
        };
        self.m().lea(elem_reg, addr)?;
        let elem_at = Address::offset(elem_reg, 0);
        match a.op {
            MdArrayOp::Get => {
                self.pop_n(rank + 1)?;
                self.ctx.push_from_mem(elem_at, &a.elem)
            }
            MdArrayOp::Set => {
                let v = self.ctx.pop()?;
                self.ctx.store_val(elem_at, &a.elem, &v)?;
                self.ctx.free(&v);
                self.pop_n(rank + 1)
            }
            MdArrayOp::Address => {
                self.pop_n(rank + 1)?;
                let r = self.ctx.alloc_gpr()?;
                self.m().mov_rr(r, elem_reg, OperandSize::S64)?;
                self.ctx.push_reg(StackTy::ByRef, r);
                Ok(())
            }
            MdArrayOp::Ctor => Err(JitErrorKind::TypeMismatch(
                "array constructor called without newobj",
            )),
        }
    }

    /// `newobj` of an array type's `.ctor`: `nargs` int32 arguments (rank lengths
    /// or rank lower-bound/length pairs; the helper validates them).
    pub(super) fn md_array_new(&mut self, a: &MdArrayMethod, nargs: usize) -> R {
        if a.op != MdArrayOp::Ctor || nargs == 0 || nargs > 64 {
            return Err(JitErrorKind::TypeMismatch("newobj of an array needs .ctor"));
        }
        let n = self.ctx.stack.len();
        let first = n.checked_sub(nargs).ok_or(JitErrorKind::StackUnderflow)?;
        self.ctx.spill_regs()?;
        let tmp = self.ctx.stack.temp(8 * nargs as u32);
        for k in 0..nargs {
            let v = self.ctx.stack.vals[first + k];
            if !matches!(v.ty, StackTy::I32 | StackTy::NInt) {
                return Err(JitErrorKind::TypeMismatch("array length must be int32"));
            }
            let scratch = M::Abi::SCRATCH;
            self.ctx.load_to_gpr(&v, scratch)?;
            if v.ty == StackTy::I32 {
                self.m().extend(scratch, scratch, Extend::I32)?;
            }
            // A negative length is an OverflowException (as for newarr); with
            // (lower bound, length) pairs only every second argument is one.
            if nargs == a.rank as usize || k % 2 == 1 {
                self.m()
                    .alu_rr(AluOp::Test, scratch, scratch, OperandSize::S64)?;
                self.fail_if(Cond::S, FailCode::Overflow)?;
            }
            self.m().store(
                Self::frame_slot(tmp + 8 * k as i32),
                scratch,
                OperandSize::S64,
            )?;
        }
        self.pop_n(nargs)?;
        let args = M::Abi::ARG_GPRS;
        self.m()
            .mov_ri(args[0], a.handle as i64, OperandSize::S64)?;
        self.m().lea(args[1], Self::frame_slot(tmp))?;
        self.m().mov_ri(args[2], nargs as i64, OperandSize::S64)?;
        let h = self.host.helper(Helper::NewMdArray);
        self.call_abs(h, CallSiteKind::Helper(Helper::NewMdArray))?;
        self.push_rax(StackTy::Obj)
    }

    fn pop_n(&mut self, n: usize) -> R {
        for _ in 0..n {
            let v = self.ctx.pop()?;
            self.ctx.free(&v);
        }
        Ok(())
    }
}
