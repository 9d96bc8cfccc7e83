//! `CodeGenContext`: the value stack, the register allocator and the frame,
//! plus the moves between them (materialise, spill, typed loads/stores, block
//! copies). Winch's `codegen/context.rs` plays the same role.

use super::stack::{Loc, StackTy, Val, ValueStack};
use crate::host::JitType;
use crate::masm::*;
use crate::JitErrorKind;
use alloc::vec::Vec;

/// Values, registers and frame of the method being compiled.
pub struct CodeGenContext<M: MacroAssembler> {
    pub masm: M,
    pub stack: ValueStack,
    pub regs: RegSet,
    pub frame: Frame,
    pub arg_types: Vec<JitType>,
    pub local_types: Vec<JitType>,
    /// Locals/args whose address is taken somewhere: never cached lazily.
    pub local_addr_taken: Vec<bool>,
    pub arg_addr_taken: Vec<bool>,
    /// Callee-saved registers ever allocated (bit mask by register number).
    pub used_callee_saved: u16,
    /// Locals and arguments kept in a callee-saved register for the whole method.
    pub local_regs: Vec<Option<Gpr>>,
    pub arg_regs: Vec<Option<Gpr>>,
}

/// Size of a stored integer of stack type `ty` in its home.
pub fn home_size(ty: StackTy) -> OperandSize {
    if ty == StackTy::I32 {
        OperandSize::S32
    } else {
        OperandSize::S64
    }
}

type R<T = ()> = Result<T, JitErrorKind>;

impl<M: MacroAssembler> CodeGenContext<M> {
    /// The frame slot at `off` from the frame pointer (`Frame` offsets).
    pub(crate) fn frame_slot(off: i32) -> Address {
        Address::offset(M::Abi::FP, off)
    }

    // ---- registers -------------------------------------------------------

    /// A free pool register, spilling the oldest register value if none is free.
    pub fn alloc_gpr(&mut self) -> R<Gpr> {
        loop {
            if let Some(r) = self.regs.take_gpr() {
                if M::Abi::CALLEE_SAVED.contains(&r) {
                    self.used_callee_saved |= 1 << r.0;
                }
                return Ok(r);
            }
            let i = self
                .stack
                .vals
                .iter()
                .position(|v| matches!(v.loc, Loc::Reg(_)))
                .ok_or_else(|| JitErrorKind::Internal("out of registers".into()))?;
            self.spill_at(i)?;
        }
    }

    pub fn alloc_xmm(&mut self) -> R<Xmm> {
        loop {
            if let Some(r) = self.regs.take_xmm() {
                return Ok(r);
            }
            let i = self
                .stack
                .vals
                .iter()
                .position(|v| matches!(v.loc, Loc::Xmm(_)))
                .ok_or_else(|| JitErrorKind::Internal("out of xmm registers".into()))?;
            self.spill_at(i)?;
        }
    }

    /// Releases whatever register a popped value held.
    pub fn free(&mut self, v: &Val) {
        match v.loc {
            Loc::Reg(r) => self.regs.free_gpr(r),
            Loc::Xmm(x) => self.regs.free_xmm(x),
            _ => {}
        }
    }

    pub fn free_xmm_of(&mut self, x: Xmm) {
        self.regs.free_xmm(x);
    }

    pub fn free_gpr(&mut self, r: Gpr) {
        self.regs.free_gpr(r);
    }

    // ---- stack -----------------------------------------------------------

    pub fn pop(&mut self) -> R<Val> {
        self.stack.pop().ok_or(JitErrorKind::StackUnderflow)
    }

    pub fn push_reg(&mut self, ty: StackTy, r: Gpr) {
        self.stack.push(ty, Loc::Reg(r));
    }

    pub fn push_xmm(&mut self, x: Xmm) {
        self.stack.push(StackTy::F, Loc::Xmm(x));
    }

    /// Pushes a float in `x` with its stack type (`F` or `F32`).
    pub fn push_xmm_ty(&mut self, x: Xmm, ty: StackTy) {
        self.stack.push(ty, Loc::Xmm(x));
    }

    /// Moves stack entry `i` into its home slot.
    pub fn spill_at(&mut self, i: usize) -> R {
        let v = self.stack.vals[i];
        if v.loc == Loc::Home {
            return Ok(());
        }
        self.materialize_into(&v, Self::frame_slot(v.home))?;
        self.free(&v);
        self.stack.vals[i].loc = Loc::Home;
        Ok(())
    }

    /// Spills values held in caller-saved registers (before calls: every
    /// caller-saved pool register is then free and may be clobbered).
    pub fn spill_regs(&mut self) -> R {
        for i in 0..self.stack.len() {
            match self.stack.vals[i].loc {
                // Callee-saved registers survive calls: values stay there.
                Loc::Reg(r) if M::Abi::CALLEE_SAVED.contains(&r) => {}
                Loc::Reg(_) | Loc::Xmm(_) => self.spill_at(i)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// A free callee-saved pool register if there is one (for values produced by
    /// calls, which are likely to live across the next call), else any.
    pub fn alloc_gpr_long_lived(&mut self) -> R<Gpr> {
        for &r in M::Abi::CALLEE_SAVED {
            if self.regs.gpr_free & (1 << r.0) != 0 && self.regs.reserved & (1 << r.0) == 0 {
                self.regs.gpr_free &= !(1 << r.0);
                self.used_callee_saved |= 1 << r.0;
                return Ok(r);
            }
        }
        self.alloc_gpr()
    }

    /// Spills everything (block boundaries: the canonical all-in-home state).
    pub fn spill_all(&mut self) -> R {
        for i in 0..self.stack.len() {
            self.spill_at(i)?;
        }
        Ok(())
    }

    /// Before overwriting local `n` (or arg): materialise lazy copies of it,
    /// and of the locals that share its register (`assign_registers` lets
    /// locals whose live ranges do not meet share one: a copy of one taken
    /// at its last load may still be on the stack when the next is stored).
    pub fn spill_local_refs(&mut self, local: Option<u16>, arg: Option<u16>) -> R {
        for i in 0..self.stack.len() {
            if self.refers_to(i, local, arg) {
                self.spill_at(i)?;
            }
        }
        Ok(())
    }

    /// Whether reading `v` reads register `r`: a value held there, or a
    /// variable kept there.
    pub fn reads_reg(&self, v: &Val, r: Gpr) -> bool {
        match v.loc {
            Loc::Reg(x) => x == r,
            _ => self.home_reg(v) == Some(r),
        }
    }

    /// Whether a lazy copy of `local` (or of a local sharing its register),
    /// or of `arg`, is on the evaluation stack.
    pub fn has_local_refs(&self, local: Option<u16>, arg: Option<u16>) -> bool {
        (0..self.stack.len()).any(|i| self.refers_to(i, local, arg))
    }

    /// Whether stack entry `i` is a lazy copy of `local` (or of a local
    /// sharing its register) or of `arg`: what a store to it must save first.
    fn refers_to(&self, i: usize, local: Option<u16>, arg: Option<u16>) -> bool {
        let reg_of = |n: u16| self.local_regs.get(n as usize).copied().flatten();
        match self.stack.vals[i].loc {
            Loc::Local(n) => {
                Some(n) == local || local.and_then(reg_of).is_some_and(|r| reg_of(n) == Some(r))
            }
            Loc::Arg(n) => Some(n) == arg,
            _ => false,
        }
    }

    // ---- addresses of locals and args -----------------------------------

    pub fn local_type(&self, n: u16) -> R<JitType> {
        self.local_types
            .get(n as usize)
            .copied()
            .ok_or(JitErrorKind::BadLocal(n as u32))
    }
    pub fn arg_type(&self, n: u16) -> R<JitType> {
        self.arg_types
            .get(n as usize)
            .copied()
            .ok_or(JitErrorKind::BadArg(n as u32))
    }
    pub fn local_addr(&self, n: u16) -> R<Address> {
        self.frame
            .locals
            .get(n as usize)
            .map(|o| Self::frame_slot(*o))
            .ok_or(JitErrorKind::BadLocal(n as u32))
    }
    /// Address of argument `n`'s value; for struct args, loads the pointer into
    /// `scratch` (which must not be the scratch register).
    pub fn arg_addr(&mut self, n: u16, scratch: Gpr) -> R<Address> {
        match self.frame.args.get(n as usize) {
            Some(ArgHome::Direct(o)) => Ok(Self::frame_slot(*o)),
            Some(ArgHome::Indirect(o)) => {
                let o = *o;
                self.masm
                    .load(scratch, Self::frame_slot(o), OperandSize::S64)?;
                Ok(Address::offset(scratch, 0))
            }
            None => Err(JitErrorKind::BadArg(n as u32)),
        }
    }

    /// Address of a value-type stack entry (not in a register).
    pub fn struct_addr(&mut self, v: &Val, scratch: Gpr) -> R<Address> {
        match v.loc {
            Loc::Local(n) => self.local_addr(n),
            Loc::Arg(n) => self.arg_addr(n, scratch),
            Loc::Home => Ok(Self::frame_slot(v.home)),
            _ => Err(JitErrorKind::Internal("struct value in a register".into())),
        }
    }

    // ---- typed memory access ---------------------------------------------

    /// Loads a value of `ty` from memory into `dst` (integer kinds).
    pub fn load_int(&mut self, dst: Gpr, addr: Address, ty: &JitType) -> R {
        match ty {
            JitType::I1 => self.masm.load_ext(dst, addr, Extend::I8),
            JitType::U1 | JitType::Bool => self.masm.load_ext(dst, addr, Extend::U8),
            JitType::I2 => self.masm.load_ext(dst, addr, Extend::I16),
            JitType::U2 | JitType::Char => self.masm.load_ext(dst, addr, Extend::U16),
            JitType::I4 | JitType::U4 => self.masm.load(dst, addr, OperandSize::S32),
            JitType::R4 | JitType::R8 | JitType::Struct(_) | JitType::Void => {
                Err(JitErrorKind::Internal("load_int on a non-integer".into()))
            }
            _ => self.masm.load(dst, addr, OperandSize::S64),
        }
    }

    /// Pushes the value of type `ty` stored at `addr`. `addr` may be based on
    /// the result register or the second one (used as address scratch), never
    /// the scratch register.
    pub fn push_from_mem(&mut self, addr: Address, ty: &JitType) -> R<()> {
        let sty = StackTy::of(ty).ok_or(JitErrorKind::TypeMismatch("load of void"))?;
        match ty {
            JitType::R4 | JitType::R8 => {
                let x = self.alloc_xmm()?;
                self.masm.fload(x, addr, *ty == JitType::R4)?;
                self.push_xmm_ty(x, sty);
            }
            JitType::Struct(s) => {
                // The address may point into the home of a value popped just
                // before; go through a temp so the copy never overlaps.
                let size = s.size;
                let tmp = self.stack.temp(size);
                self.copy_mem(Self::frame_slot(tmp), addr, size)?;
                let v = self.stack.push(sty, Loc::Home);
                self.copy_mem(Self::frame_slot(v.home), Self::frame_slot(tmp), size)?;
            }
            _ => {
                let r = self.alloc_gpr()?;
                self.load_int(r, addr, ty)?;
                self.push_reg(sty, r);
            }
        }
        Ok(())
    }

    /// Stores value `v` (already popped) to `addr` as type `ty`. `addr` must
    /// not be based on the scratch or the result register (both used here).
    pub fn store_val(&mut self, addr: Address, ty: &JitType, v: &Val) -> R {
        match ty {
            JitType::Struct(s) => {
                if !matches!(v.ty, StackTy::Value(_)) {
                    return Err(JitErrorKind::TypeMismatch(
                        "storing a non-struct into a struct",
                    ));
                }
                let src = self.struct_addr(v, M::Abi::RET)?;
                self.copy_mem(addr, src, s.size)?;
            }
            JitType::R4 | JitType::R8 => {
                let x = self.val_to_xmm(v, M::Abi::FLOAT_SCRATCH)?;
                self.masm.fstore(addr, x, *ty == JitType::R4)?;
            }
            _ => {
                let size = match ty.size() {
                    1 => OperandSize::S8,
                    2 => OperandSize::S16,
                    4 => OperandSize::S32,
                    _ => OperandSize::S64,
                };
                if let Loc::Const(c) = v.loc {
                    if c >= i32::MIN as i64 && c <= i32::MAX as i64 {
                        return self.masm.store_imm(addr, c as i32, size);
                    }
                }
                // A variable kept in a register is stored from it: the
                // register holds it normalised, and a store takes its low bytes.
                let r = match (v.loc, self.home_reg(v)) {
                    (Loc::Reg(r), _) | (_, Some(r)) => r,
                    _ => {
                        self.load_to_gpr(v, M::Abi::SCRATCH)?;
                        M::Abi::SCRATCH
                    }
                };
                // int32 stored into a 64-bit slot: sign-extend first.
                if size == OperandSize::S64 && v.ty == StackTy::I32 {
                    self.masm.extend(M::Abi::SCRATCH, r, Extend::I32)?;
                    return self.masm.store(addr, M::Abi::SCRATCH, size);
                }
                self.masm.store(addr, r, size)?;
            }
        }
        Ok(())
    }

    /// Writes the value of `v` into memory at `dst` in its stack representation
    /// (used for spilling to homes).
    fn materialize_into(&mut self, v: &Val, dst: Address) -> R {
        match (v.ty, v.loc) {
            (StackTy::Value(s), _) => {
                let src = self.struct_addr(v, M::Abi::RET)?;
                if src != dst {
                    self.copy_mem(dst, src, s.size)?;
                }
                Ok(())
            }
            (StackTy::F | StackTy::F32, _) => {
                let x = self.val_to_xmm(v, M::Abi::FLOAT_SCRATCH)?;
                self.masm.fstore(dst, x, false)
            }
            (ty, Loc::Const(c)) if c >= i32::MIN as i64 && c <= i32::MAX as i64 => {
                self.masm.store_imm(dst, c as i32, home_size(ty))
            }
            (ty, Loc::Reg(r)) => self.masm.store(dst, r, home_size(ty)),
            (ty, _) => {
                self.load_to_gpr(v, M::Abi::SCRATCH)?;
                self.masm.store(dst, M::Abi::SCRATCH, home_size(ty))
            }
        }
    }

    /// The register a local/argument value lives in, if it is register-allocated.
    pub fn home_reg(&self, v: &Val) -> Option<Gpr> {
        match v.loc {
            Loc::Local(n) => self.local_regs.get(n as usize).copied().flatten(),
            Loc::Arg(n) => self.arg_regs.get(n as usize).copied().flatten(),
            _ => None,
        }
    }

    /// A register holding the value for read-only use: a register-allocated
    /// local/argument is used in place (must not be written or freed as owned).
    pub fn read_gpr(&mut self, v: &Val) -> R<Gpr> {
        match self.home_reg(v) {
            Some(r) if v.ty.is_gpr() => Ok(r),
            _ => self.into_gpr(v),
        }
    }

    /// Stores `v` into the register of a register-allocated local/argument of `ty`.
    pub fn store_to_reg(&mut self, reg: Gpr, ty: &JitType, v: &Val) -> R {
        let wide = ty.size() == 8;
        if let Some(ext) = small_int_extend(ty) {
            // Normalised as a load of the frame slot would be (`assign_registers`).
            return match v.loc {
                Loc::Const(c) => self
                    .masm
                    .mov_ri(reg, normalise_small(c, ext), OperandSize::S32),
                Loc::Reg(r) => self.masm.extend(reg, r, ext),
                // A variable of the same type is normalised already, in its
                // register or by its load.
                _ if self.variable_type(v) == Some(ty) => self.load_to_gpr(v, reg),
                _ => match self.home_reg(v) {
                    Some(r) => self.masm.extend(reg, r, ext),
                    None => {
                        self.load_to_gpr(v, reg)?;
                        self.masm.extend(reg, reg, ext)
                    }
                },
            };
        }
        match v.loc {
            Loc::Const(c) => self.masm.mov_ri(
                reg,
                c,
                if wide {
                    OperandSize::S64
                } else {
                    OperandSize::S32
                },
            ),
            _ => {
                self.load_to_gpr(v, reg)?;
                if wide && v.ty == StackTy::I32 {
                    let ext = if matches!(ty, JitType::U8 | JitType::U) {
                        Extend::U32
                    } else {
                        Extend::I32
                    };
                    self.masm.extend(reg, reg, ext)?;
                }
                Ok(())
            }
        }
    }

    /// Loads an integer-like value into exactly `dst`.
    pub fn load_to_gpr(&mut self, v: &Val, dst: Gpr) -> R {
        if let Some(r) = self.home_reg(v) {
            let size = if v.ty == StackTy::I32 {
                OperandSize::S32
            } else {
                OperandSize::S64
            };
            return self.masm.mov_rr(dst, r, size);
        }
        match v.loc {
            Loc::Const(c) => {
                let size = if v.ty == StackTy::I32 {
                    OperandSize::S32
                } else {
                    OperandSize::S64
                };
                self.masm.mov_ri(dst, c, size)
            }
            Loc::Reg(r) => self.masm.mov_rr(dst, r, OperandSize::S64),
            Loc::Home => self
                .masm
                .load(dst, Self::frame_slot(v.home), home_size(v.ty)),
            Loc::Local(n) => {
                let t = self.local_type(n)?;
                let a = self.local_addr(n)?;
                self.load_int(dst, a, &t)
            }
            Loc::Arg(n) => {
                let t = self.arg_type(n)?;
                let a = self.arg_addr(n, M::Abi::RET)?;
                self.load_int(dst, a, &t)
            }
            Loc::ConstF(_) | Loc::Xmm(_) => {
                Err(JitErrorKind::TypeMismatch("float used as integer"))
            }
        }
    }

    /// The value in some register (allocating one unless it already is).
    pub fn into_gpr(&mut self, v: &Val) -> R<Gpr> {
        if !v.ty.is_gpr() {
            return Err(JitErrorKind::TypeMismatch(
                "expected an integer, reference or pointer",
            ));
        }
        if let Loc::Reg(r) = v.loc {
            return Ok(r);
        }
        let r = self.alloc_gpr()?;
        self.load_to_gpr(v, r)?;
        Ok(r)
    }

    /// The value widened to 64 bits in a register it owns (int32 sign- or
    /// zero-extended).
    pub fn into_gpr64(&mut self, v: &Val, unsigned: bool) -> R<Gpr> {
        let r = self.into_gpr(v)?;
        if v.ty == StackTy::I32 && !self.zero_extended_small(v) {
            self.masm
                .extend(r, r, if unsigned { Extend::U32 } else { Extend::I32 })?;
        }
        Ok(r)
    }

    /// Whether `v` is an unsigned 1- or 2-byte local or argument: `into_gpr`
    /// gives it zero-extended to 64 bits (a `movzx` from its slot, or a 32-bit
    /// move of its normalised register), which is also its sign extension.
    pub fn zero_extended_small(&self, v: &Val) -> bool {
        matches!(
            self.variable_type(v),
            Some(JitType::U1 | JitType::Bool | JitType::U2 | JitType::Char)
        )
    }

    /// The declared type of the local or argument `v` still stands for.
    fn variable_type(&self, v: &Val) -> Option<&JitType> {
        match v.loc {
            Loc::Local(n) => self.local_types.get(n as usize),
            Loc::Arg(n) => self.arg_types.get(n as usize),
            _ => None,
        }
    }

    /// Loads a float value into `dst` (or returns the register it is in).
    pub fn val_to_xmm(&mut self, v: &Val, dst: Xmm) -> R<Xmm> {
        match v.loc {
            Loc::Xmm(x) => Ok(x),
            Loc::ConstF(f) => {
                self.masm
                    .mov_ri(M::Abi::SCRATCH, f.to_bits() as i64, OperandSize::S64)?;
                self.masm.movq_xr(dst, M::Abi::SCRATCH)?;
                Ok(dst)
            }
            Loc::Home => {
                self.masm.fload(dst, Self::frame_slot(v.home), false)?;
                Ok(dst)
            }
            Loc::Local(n) => {
                let t = self.local_type(n)?;
                let a = self.local_addr(n)?;
                self.masm.fload(dst, a, t == JitType::R4)?;
                Ok(dst)
            }
            Loc::Arg(n) => {
                let t = self.arg_type(n)?;
                let a = self.arg_addr(n, M::Abi::RET)?;
                self.masm.fload(dst, a, t == JitType::R4)?;
                Ok(dst)
            }
            _ => Err(JitErrorKind::TypeMismatch("expected a float")),
        }
    }

    /// The float in an xmm register it owns.
    pub fn into_xmm(&mut self, v: &Val) -> R<Xmm> {
        if !v.ty.is_float() {
            return Err(JitErrorKind::TypeMismatch("expected a float"));
        }
        if let Loc::Xmm(x) = v.loc {
            return Ok(x);
        }
        let x = self.alloc_xmm()?;
        self.val_to_xmm(v, x)?;
        Ok(x)
    }

    // ---- block memory ------------------------------------------------------

    /// Copies `size` bytes through the scratch register (addresses must not
    /// use it). Overlapping
    /// frame ranges are handled like `memmove`.
    pub fn copy_mem(&mut self, dst: Address, src: Address, size: u32) -> R {
        if size > 64 * 1024 {
            return Err(JitErrorKind::Unsupported("value type larger than 64 KiB"));
        }
        // Up to 128 bytes (most value types) without a heap allocation.
        let mut chunks: smallvec::SmallVec<[(i32, OperandSize); 16]> = smallvec::SmallVec::new();
        let mut o = 0i32;
        let n = size as i32;
        while o < n {
            let (sz, step) = match n - o {
                r if r >= 8 => (OperandSize::S64, 8),
                r if r >= 4 => (OperandSize::S32, 4),
                r if r >= 2 => (OperandSize::S16, 2),
                _ => (OperandSize::S8, 1),
            };
            chunks.push((o, sz));
            o += step;
        }
        let backward = dst.base == src.base
            && dst.index.is_none()
            && src.index.is_none()
            && dst.disp > src.disp
            && dst.disp < src.disp + n;
        if backward {
            chunks.reverse();
        }
        for (o, sz) in chunks {
            self.masm.load(M::Abi::SCRATCH, src.plus(o), sz)?;
            self.masm.store(dst.plus(o), M::Abi::SCRATCH, sz)?;
        }
        Ok(())
    }

    /// Zeroes `size` bytes (address must not use the scratch register).
    pub fn zero_mem(&mut self, dst: Address, size: u32) -> R {
        self.masm.mov_ri(M::Abi::SCRATCH, 0, OperandSize::S32)?;
        self.store_zeros(dst, size)
    }

    /// Zeroes the frame ranges `[lo, hi)` (the prologue's locals), with one
    /// zeroed scratch register for all of them.
    pub fn zero_frame(&mut self, ranges: &[(i32, i32)]) -> R {
        if ranges.is_empty() {
            return Ok(());
        }
        self.masm.mov_ri(M::Abi::SCRATCH, 0, OperandSize::S32)?;
        for &(lo, hi) in ranges {
            self.store_zeros(Self::frame_slot(lo), (hi - lo) as u32)?;
        }
        Ok(())
    }

    /// Stores `size` zero bytes at `dst` from the (zeroed) scratch register.
    fn store_zeros(&mut self, dst: Address, size: u32) -> R {
        if size > 64 * 1024 {
            return Err(JitErrorKind::Unsupported("value type larger than 64 KiB"));
        }
        let mut o = 0i32;
        let n = size as i32;
        while o < n {
            let (sz, step) = match n - o {
                r if r >= 8 => (OperandSize::S64, 8),
                r if r >= 4 => (OperandSize::S32, 4),
                r if r >= 2 => (OperandSize::S16, 2),
                _ => (OperandSize::S8, 1),
            };
            self.masm.store(dst.plus(o), M::Abi::SCRATCH, sz)?;
            o += step;
        }
        Ok(())
    }
}

/// A free-set of registers as a bit mask, over the pools the ISA's ABI
/// allocates from (`Abi::GPR_POOL`, `Abi::XMM_POOL`).
#[derive(Clone, Copy, Debug, Default)]
pub struct RegSet {
    pub gpr_free: u16,
    pub xmm_free: u16,
    /// Registers holding locals/arguments for the whole method: never allocated.
    pub reserved: u16,
    pool: &'static [Gpr],
    xmm_pool: &'static [Xmm],
}

impl RegSet {
    /// Every pool register of `A` free.
    pub fn all<A: Abi>() -> Self {
        let mut s = RegSet {
            pool: A::GPR_POOL,
            xmm_pool: A::XMM_POOL,
            ..RegSet::default()
        };
        for r in s.pool {
            s.gpr_free |= 1 << r.0;
        }
        for x in s.xmm_pool {
            s.xmm_free |= 1 << x.0;
        }
        s
    }
    /// Takes the first free pool register.
    pub fn take_gpr(&mut self) -> Option<Gpr> {
        let r = self
            .pool
            .iter()
            .copied()
            .find(|r| self.gpr_free & (1 << r.0) != 0)?;
        self.gpr_free &= !(1 << r.0);
        Some(r)
    }
    pub fn take_xmm(&mut self) -> Option<Xmm> {
        let r = self
            .xmm_pool
            .iter()
            .copied()
            .find(|r| self.xmm_free & (1 << r.0) != 0)?;
        self.xmm_free &= !(1 << r.0);
        Some(r)
    }
    /// Removes `r` from allocation for the whole method.
    pub fn reserve(&mut self, r: Gpr) {
        self.reserved |= 1 << r.0;
        self.gpr_free &= !(1 << r.0);
    }
    pub fn free_gpr(&mut self, r: Gpr) {
        if self.pool.contains(&r) && self.reserved & (1 << r.0) == 0 {
            self.gpr_free |= 1 << r.0;
        }
    }
    pub fn free_xmm(&mut self, r: Xmm) {
        if self.xmm_pool.contains(&r) {
            self.xmm_free |= 1 << r.0;
        }
    }
}

/// The extension that normalises a 1- or 2-byte integer type in a register
/// (as its load from memory does: `load_int`), `None` for the others.
pub(crate) fn small_int_extend(ty: &JitType) -> Option<Extend> {
    match ty {
        JitType::I1 => Some(Extend::I8),
        JitType::U1 | JitType::Bool => Some(Extend::U8),
        JitType::I2 => Some(Extend::I16),
        JitType::U2 | JitType::Char => Some(Extend::U16),
        _ => None,
    }
}

/// `c` truncated to the width `ext` extends from and extended back.
fn normalise_small(c: i64, ext: Extend) -> i64 {
    match ext {
        Extend::I8 => c as i8 as i64,
        Extend::U8 => c as u8 as i64,
        Extend::I16 => c as i16 as i64,
        Extend::U16 => c as u16 as i64,
        Extend::I32 => c as i32 as i64,
        Extend::U32 => c as u32 as i64,
    }
}
