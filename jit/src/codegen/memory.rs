//! `CodeGen`, memory: indirect loads and stores, fields and statics, arrays
//! (element access, `newarr`, `ldlen`), and objects (`box`/`unbox`,
//! `castclass`/`isinst`, `ldstr`, `ldtoken`, `localloc`, block copies).

use super::*;

impl<H: JitHost, M: MacroAssembler> CodeGen<'_, H, M> {
    // ---- indirect access, fields, statics -------------------------------------------

    pub(super) fn pop_pointer(&mut self, allow_obj: bool) -> R<(Gpr, StackTy)> {
        self.pop_pointer_as(allow_obj, false)
    }

    /// `owned`: the caller writes the register (else a register local may be used in place).
    pub(super) fn pop_pointer_as(&mut self, allow_obj: bool, owned: bool) -> R<(Gpr, StackTy)> {
        let v = self.ctx.pop()?;
        match v.ty {
            StackTy::ByRef | StackTy::NInt => {}
            StackTy::Obj if allow_obj => {}
            StackTy::I32 => {
                // Unverifiable but legal: an int32 address, zero-extended.
                let r = self.ctx.into_gpr(&v)?;
                self.m().extend(r, r, Extend::U32)?;
                return Ok((r, StackTy::NInt));
            }
            _ => return Err(JitErrorKind::TypeMismatch("expected an address")),
        }
        let r = if owned {
            self.ctx.into_gpr(&v)?
        } else {
            self.ctx.read_gpr(&v)?
        };
        if v.ty == StackTy::Obj {
            self.null_check_of(r, v.loc)?;
        }
        Ok((r, v.ty))
    }

    /// Pushes the integer or reference of type `ty` at `addr`, loaded
    /// straight into the register of the local that the next instruction
    /// stores it to when [`CodeGen::store_target`] allows (the load's own
    /// extension is then the one the local keeps). Otherwise an ordinary
    /// load.
    pub(super) fn push_loaded(&mut self, addr: Address, ty: &JitType) -> R {
        let sty = match (ty, StackTy::of(ty)) {
            (JitType::R4 | JitType::R8 | JitType::Struct(_), _) | (_, None) => None,
            (_, sty) => sty,
        };
        if let Some(sty) = sty {
            if let Some((x, reg)) = self.store_target(sty, context::small_int_extend(ty), false)? {
                self.ctx.load_int(reg, addr, ty)?;
                self.push_stored(x, sty);
                return Ok(());
            }
        }
        self.ctx.push_from_mem(addr, ty)
    }

    pub fn ldind(&mut self, ty: JitType) -> R {
        let (r, _) = self.pop_pointer(false)?;
        self.ctx.free_gpr(r);
        self.push_loaded(Address::offset(r, 0), &ty)
    }

    pub fn stind(&mut self, ty: JitType) -> R {
        let v = self.ctx.pop()?;
        check_store(&ty, &v.ty)?;
        let (r, _) = self.pop_pointer(false)?;
        self.ctx.store_val(Address::offset(r, 0), &ty, &v)?;
        self.ctx.free_gpr(r);
        self.ctx.free(&v);
        Ok(())
    }

    pub(super) fn type_info(&mut self, tok: u32) -> R<TypeInfo> {
        self.host.type_info(tok).map_err(Self::host_err)
    }

    /// A type token whose handles this instruction does not use (see
    /// `JitHost::type_shape`).
    pub(super) fn type_shape(&mut self, tok: u32) -> R<TypeInfo> {
        self.host.type_shape(tok).map_err(Self::host_err)
    }

    pub fn ldobj(&mut self, tok: u32) -> R {
        let t = self.type_shape(tok)?;
        self.ldind(t.ty)
    }
    pub fn stobj(&mut self, tok: u32) -> R {
        let t = self.type_shape(tok)?;
        self.stind(t.ty)
    }
    pub fn cpobj(&mut self, tok: u32) -> R {
        let t = self.type_shape(tok)?;
        let (rs, _) = self.pop_pointer(false)?;
        let (rd, _) = self.pop_pointer(false)?;
        self.ctx
            .copy_mem(Address::offset(rd, 0), Address::offset(rs, 0), t.ty.size())?;
        self.ctx.free_gpr(rs);
        self.ctx.free_gpr(rd);
        Ok(())
    }
    pub fn initobj(&mut self, tok: u32) -> R {
        let t = self.type_shape(tok)?;
        let (r, _) = self.pop_pointer(false)?;
        self.ctx.zero_mem(Address::offset(r, 0), t.ty.size())?;
        self.ctx.free_gpr(r);
        Ok(())
    }
    pub fn sizeof(&mut self, tok: u32) -> R {
        let t = self.type_shape(tok)?;
        self.ldc_i4(t.ty.size() as i32);
        Ok(())
    }

    pub(super) fn field(&mut self, tok: u32) -> R<FieldInfo> {
        self.host.field(tok).map_err(Self::host_err)
    }

    pub fn ldfld(&mut self, tok: u32) -> R {
        let f = self.field(tok)?;
        if f.static_addr.is_some() {
            let v = self.ctx.pop()?;
            self.ctx.free(&v);
            return self.ldsfld(tok);
        }
        self.ldfld_instance(&f)
    }

    /// `ldfld` of the instance field `f` (also inlined bodies, `inline.rs`).
    pub(super) fn ldfld_instance(&mut self, f: &FieldInfo) -> R {
        let off = f.offset as i32;
        let v = *self.ctx.stack.peek(0).ok_or(JitErrorKind::StackUnderflow)?;
        if let StackTy::Value(s) = v.ty {
            // Seed bug 5: a struct *value* on the stack — read the field out of the
            // value itself, never treat its bytes as an address.
            if off as u32 + f.ty.size() > s.size {
                return Err(JitErrorKind::TypeMismatch("field outside the value type"));
            }
            // Reserve the value's extent so the copy's temp cannot overlap it.
            self.ctx.stack.temp(v.ty.slot_size());
            self.ctx.pop()?;
            let a = self.ctx.struct_addr(&v, M::Abi::RET2)?;
            return self.ctx.push_from_mem(a.plus(off), &f.ty);
        }
        let (r, _) = self.pop_pointer(true)?;
        self.ctx.free_gpr(r);
        self.push_loaded(Address::offset(r, off), &f.ty)
    }

    pub fn ldflda(&mut self, tok: u32) -> R {
        let f = self.field(tok)?;
        if f.static_addr.is_some() {
            let v = self.ctx.pop()?;
            self.ctx.free(&v);
            return self.ldsflda(tok);
        }
        self.ldflda_instance(&f)
    }

    /// `ldflda` of the instance field `f`.
    pub(super) fn ldflda_instance(&mut self, f: &FieldInfo) -> R {
        let (r, _) = self.pop_pointer_as(true, true)?;
        self.m().lea(r, Address::offset(r, f.offset as i32))?;
        self.ctx.push_reg(StackTy::ByRef, r);
        Ok(())
    }

    pub fn stfld(&mut self, tok: u32) -> R {
        let f = self.field(tok)?;
        if f.static_addr.is_some() {
            let v = self.ctx.pop()?;
            check_store(&f.ty, &v.ty)?;
            let o = self.ctx.pop()?;
            self.ctx.free(&o);
            self.ctx.stack.push(v.ty, v.loc);
            return self.stsfld(tok);
        }
        self.stfld_instance(&f)
    }

    /// `stfld` of the instance field `f`.
    pub(super) fn stfld_instance(&mut self, f: &FieldInfo) -> R {
        let v = self.ctx.pop()?;
        check_store(&f.ty, &v.ty)?;
        let (r, _) = self.pop_pointer(true)?;
        self.ctx
            .store_val(Address::offset(r, f.offset as i32), &f.ty, &v)?;
        self.ctx.free_gpr(r);
        self.ctx.free(&v);
        Ok(())
    }

    /// Address of a static in `Abi::RET2`, after the class-init check.
    pub(super) fn static_addr(&mut self, f: &FieldInfo) -> R<Address> {
        let addr = f
            .static_addr
            .ok_or(JitErrorKind::TypeMismatch("not a static field"))?;
        if let Some(ci) = f.class_init {
            self.ctx.spill_regs()?;
            let done = self.m().new_label();
            self.m()
                .mov_ri(M::Abi::SCRATCH, ci.flag_addr as i64, OperandSize::S64)?;
            self.m().alu_mi(
                AluOp::Cmp,
                Address::offset(M::Abi::SCRATCH, 0),
                0,
                OperandSize::S8,
            )?;
            self.m().jcc(Cond::E, done)?;
            self.m()
                .mov_ri(M::Abi::ARG_GPRS[0], ci.handle as i64, OperandSize::S64)?;
            let h = self.host.helper(Helper::ClassInit);
            self.call_abs(h, CallSiteKind::Helper(Helper::ClassInit))?;
            self.m().bind(done)?;
        }
        self.m()
            .mov_ri(M::Abi::RET2, addr as i64, OperandSize::S64)?;
        Ok(Address::offset(M::Abi::RET2, 0))
    }

    pub fn ldsfld(&mut self, tok: u32) -> R {
        if let Some(key) = self.shared_lookup(tok, LookupKind::StaticField)? {
            return self.ldsfld_shared(tok, key, false);
        }
        let f = self.field(tok)?;
        let a = self.static_addr(&f)?;
        self.push_loaded(a, &f.ty)
    }

    pub fn ldsflda(&mut self, tok: u32) -> R {
        if let Some(key) = self.shared_lookup(tok, LookupKind::StaticField)? {
            return self.ldsfld_shared(tok, key, true);
        }
        let f = self.field(tok)?;
        let a = self.static_addr(&f)?;
        let r = self.ctx.alloc_gpr()?;
        self.m().lea(r, a)?;
        self.ctx.push_reg(StackTy::ByRef, r);
        Ok(())
    }

    pub fn stsfld(&mut self, tok: u32) -> R {
        if let Some(key) = self.shared_lookup(tok, LookupKind::StaticField)? {
            return self.stsfld_shared(tok, key);
        }
        let f = self.field(tok)?;
        if f.class_init.is_some() {
            self.ctx.spill_regs()?;
        }
        let v = self.ctx.pop()?;
        check_store(&f.ty, &v.ty)?;
        let a = self.static_addr(&f)?;
        self.ctx.store_val(a, &f.ty, &v)?;
        self.ctx.free(&v);
        Ok(())
    }

    // ---- arrays -------------------------------------------------------------------

    /// Pops index and array; returns the element address (bounds and null checked).
    pub(super) fn elem_addr(&mut self, elem_size: u32) -> R<(Address, Gpr, Option<Gpr>)> {
        self.elem_addr_as(elem_size, false)
    }

    pub(super) fn elem_addr_as(
        &mut self,
        elem_size: u32,
        owned_base: bool,
    ) -> R<(Address, Gpr, Option<Gpr>)> {
        let idx = self.ctx.pop()?;
        let arr = self.ctx.pop()?;
        if arr.ty != StackTy::Obj || !matches!(idx.ty, StackTy::I32 | StackTy::NInt) {
            return Err(JitErrorKind::TypeMismatch("array element access operands"));
        }
        let ra = if owned_base {
            self.ctx.into_gpr(&arr)?
        } else {
            self.ctx.read_gpr(&arr)?
        };
        self.null_check_of(ra, arr.loc)?;
        let len = Address::offset(ra, self.layout.array_length_offset);
        let data = self.layout.array_data_offset;
        if let Loc::Const(c) = idx.loc {
            let off = c
                .checked_mul(elem_size as i64)
                .and_then(|o| o.checked_add(data as i64));
            if let Some(off) = off.filter(|o| c >= 0 && fits_i32(*o) && c <= i32::MAX as i64) {
                self.m()
                    .alu_mi(AluOp::Cmp, len, c as i32, OperandSize::S32)?;
                self.fail_if(Cond::Be, FailCode::IndexOutOfRange)?;
                return Ok((Address::offset(ra, off as i32), ra, None));
            }
        }
        let ri = self.ctx.into_gpr64(&idx, false)?;
        let key = self.bounds_key(arr.loc, idx.loc);
        if !key.is_some_and(|k| self.bounds.knows(k)) {
            self.m().load(M::Abi::SCRATCH, len, OperandSize::S32)?;
            self.m()
                .alu_rr(AluOp::Cmp, ri, M::Abi::SCRATCH, OperandSize::S64)?;
            self.fail_if(Cond::Ae, FailCode::IndexOutOfRange)?;
            if let Some(k) = key {
                self.bounds.learn(k);
            }
        }
        let addr = match elem_size {
            1 | 2 | 4 | 8 => Address::indexed(ra, ri, elem_size as u8, data),
            // A larger power of two: a shift, and the addressing mode's x8.
            n if n.is_power_of_two() => {
                let by = (n.trailing_zeros() - 3) as u8;
                self.m()
                    .shift_ri(ShiftKind::Shl, ri, by, OperandSize::S64)?;
                Address::indexed(ra, ri, 8, data)
            }
            n => {
                self.m().imul_rri(ri, ri, n as i32, OperandSize::S64)?;
                Address::indexed(ra, ri, 1, data)
            }
        };
        Ok((addr, ra, Some(ri)))
    }

    pub(super) fn free_elem(&mut self, ra: Gpr, ri: Option<Gpr>) {
        self.ctx.free_gpr(ra);
        if let Some(ri) = ri {
            self.ctx.free_gpr(ri);
        }
    }

    pub fn ldelem(&mut self, ty: JitType) -> R {
        let (addr, ra, ri) = self.elem_addr(ty.size())?;
        self.free_elem(ra, ri);
        self.push_loaded(addr, &ty)
    }

    pub fn ldelem_tok(&mut self, tok: u32) -> R {
        let t = self.type_shape(tok)?;
        self.ldelem(t.ty)
    }

    pub fn stelem(&mut self, ty: JitType) -> R {
        if ty == JitType::Obj
            && !matches!(self.ctx.stack.peek(0).map(|v| v.loc), Some(Loc::Const(0)))
        {
            // Array covariance (§III.4.26): the stored object must fit the array's
            // element type. The helper call needs every live value in its home.
            self.ctx.spill_regs()?;
            let n = self.ctx.stack.len();
            if n < 3 {
                return Err(JitErrorKind::StackUnderflow);
            }
            let (arr, val) = (self.ctx.stack.vals[n - 3], self.ctx.stack.vals[n - 1]);
            self.ctx.load_to_gpr(&arr, M::Abi::ARG_GPRS[0])?;
            self.ctx.load_to_gpr(&val, M::Abi::ARG_GPRS[1])?;
            let h = self.host.helper(Helper::ArrayStoreCheck);
            self.call_abs(h, CallSiteKind::Helper(Helper::ArrayStoreCheck))?;
            self.m()
                .alu_rr(AluOp::Test, M::Abi::RET, M::Abi::RET, OperandSize::S64)?;
            self.fail_if(Cond::E, FailCode::ArrayTypeMismatch)?;
        }
        let v = self.ctx.pop()?;
        check_store(&ty, &v.ty)?;
        let (addr, ra, ri) = self.elem_addr(ty.size())?;
        self.ctx.store_val(addr, &ty, &v)?;
        self.free_elem(ra, ri);
        self.ctx.free(&v);
        Ok(())
    }

    pub fn stelem_tok(&mut self, tok: u32) -> R {
        let t = self.type_shape(tok)?;
        self.stelem(t.ty)
    }

    pub fn ldelema(&mut self, tok: u32) -> R {
        let t = self.type_shape(tok)?;
        // `readonly. ldelema` (how C# compilers load `a[i]` of a generic `T`
        // for a call on it) may not be stored through: no check (§III.2.3).
        if !t.is_value_type
            && !self.readonly_prefix
            && self.shared_lookup(tok, LookupKind::TypeHandle)?.is_none()
        {
            self.ldelema_exact_check(tok)?;
        }
        let (addr, ra, ri) = self.elem_addr_as(t.ty.size(), true)?;
        self.m().lea(ra, addr)?;
        if let Some(ri) = ri {
            self.ctx.free_gpr(ri);
        }
        self.ctx.push_reg(StackTy::ByRef, ra);
        Ok(())
    }

    /// `ldelema T` of a reference type T: the array must be exactly a `T[]` (a
    /// covariant `Derived[]` seen as `T[]` would let a `T` be stored through the
    /// address), else ArrayTypeMismatchException (ECMA-335 §III.4.9). A null
    /// array is left to the element access.
    fn ldelema_exact_check(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        if t.array_handle == 0 {
            return Ok(());
        }
        let n = self.ctx.stack.vals.len();
        if n < 2 {
            return Err(JitErrorKind::StackUnderflow);
        }
        let arr = self.ctx.stack.vals[n - 2];
        let s = M::Abi::SCRATCH;
        self.ctx.load_to_gpr(&arr, s)?;
        let done = self.m().new_label();
        self.m().alu_rr(AluOp::Test, s, s, OperandSize::S64)?;
        self.m().jcc(Cond::E, done)?;
        let mt = self.layout.method_table_offset;
        self.m().load(s, Address::offset(s, mt), OperandSize::S64)?;
        let r = self.ctx.alloc_gpr()?;
        self.m()
            .mov_ri(r, t.array_handle as i64, OperandSize::S64)?;
        self.m().alu_rr(AluOp::Cmp, s, r, OperandSize::S64)?;
        self.ctx.free_gpr(r);
        self.fail_if(Cond::Ne, FailCode::ArrayTypeMismatch)?;
        self.m().bind(done)
    }

    pub fn ldlen(&mut self) -> R {
        let v = self.ctx.pop()?;
        if v.ty != StackTy::Obj {
            return Err(JitErrorKind::TypeMismatch("ldlen needs an array"));
        }
        let r = self.ctx.into_gpr(&v)?;
        self.null_check_of(r, v.loc)?;
        let off = self.layout.array_length_offset;
        self.m()
            .load(r, Address::offset(r, off), OperandSize::S32)?;
        self.ctx.push_reg(StackTy::NInt, r);
        Ok(())
    }

    pub fn newarr(&mut self, tok: u32) -> R {
        if let Some(key) = self.shared_lookup(tok, LookupKind::ArrayHandle)? {
            return self.newarr_shared(key);
        }
        let t = self.type_info(tok)?;
        self.ctx.spill_regs()?;
        let len = self.ctx.pop()?;
        if !matches!(len.ty, StackTy::I32 | StackTy::NInt) {
            return Err(JitErrorKind::TypeMismatch("newarr length"));
        }
        // NewArray(array type handle, length).
        let [handle_arg, len_arg] = [M::Abi::ARG_GPRS[0], M::Abi::ARG_GPRS[1]];
        self.ctx.load_to_gpr(&len, len_arg)?;
        if len.ty == StackTy::I32 {
            self.m().extend(len_arg, len_arg, Extend::I32)?;
        }
        self.m()
            .alu_rr(AluOp::Test, len_arg, len_arg, OperandSize::S64)?;
        self.fail_if(Cond::S, FailCode::Overflow)?;
        self.m()
            .mov_ri(handle_arg, t.array_handle as i64, OperandSize::S64)?;
        let h = self.host.helper(Helper::NewArray);
        self.call_abs(h, CallSiteKind::Helper(Helper::NewArray))?;
        self.push_rax(StackTy::Obj)
    }

    /// Pushes a helper's result, found in the ABI's result register
    /// (`Abi::RET`; the name is kept for the helper-call code in flight).
    pub(super) fn push_rax(&mut self, ty: StackTy) -> R {
        // A result the next instruction consumes (or stores) cannot live
        // across another call: a caller-saved register, which the method need
        // not save, serves. Otherwise a callee-saved one, as it probably will.
        let r = if self.next_op.is_some_and(consumes_at_once) {
            self.ctx.alloc_gpr()?
        } else {
            self.ctx.alloc_gpr_long_lived()?
        };
        self.m().mov_rr(r, M::Abi::RET, OperandSize::S64)?;
        self.ctx.push_reg(ty, r);
        Ok(())
    }

    // ---- objects ------------------------------------------------------------------------

    pub fn ldstr(&mut self, tok: u32) -> R {
        let a = self.host.string_literal(tok).map_err(Self::host_err)?;
        self.ctx.stack.push(StackTy::Obj, Loc::Const(a as i64));
        Ok(())
    }

    pub fn ldtoken(&mut self, tok: u32) -> R {
        let h = self.host.token_handle(tok).map_err(Self::host_err)?;
        let ty = StackTy::Value(StructLayout {
            size: 8,
            align: 8,
            handle: 0,
        });
        let v = self.ctx.stack.push(ty, Loc::Home);
        self.m()
            .mov_ri(M::Abi::SCRATCH, h as i64, OperandSize::S64)?;
        self.m()
            .store(Self::frame_slot(v.home), M::Abi::SCRATCH, OperandSize::S64)
    }

    pub fn box_(&mut self, tok: u32) -> R {
        let shape = self.type_shape(tok)?;
        if !shape.is_value_type {
            return Ok(());
        }
        if let Some(key) = self.shared_lookup(tok, LookupKind::TypeHandle)? {
            return self.box_shared(shape.ty, key);
        }
        let t = self.type_info(tok)?;
        if let Some(n) = self.host.nullable(tok).map_err(Self::host_err)? {
            return self.box_nullable(&n);
        }
        self.ctx.spill_regs()?;
        let v = self.ctx.pop()?;
        check_store(&t.ty, &v.ty)?;
        self.m()
            .mov_ri(M::Abi::ARG_GPRS[0], t.handle as i64, OperandSize::S64)?;
        let h = self.host.helper(Helper::NewObject);
        self.call_abs(h, CallSiteKind::Helper(Helper::NewObject))?;
        // The new box moves out of the result register, which storing the
        // value may use as address scratch.
        let obj = M::Abi::RET2;
        self.m().mov_rr(obj, M::Abi::RET, OperandSize::S64)?;
        let off = self.layout.box_data_offset;
        self.ctx.store_val(Address::offset(obj, off), &t.ty, &v)?;
        let r = self.ctx.alloc_gpr()?;
        self.m().mov_rr(r, obj, OperandSize::S64)?;
        self.ctx.push_reg(StackTy::Obj, r);
        Ok(())
    }

    pub fn unbox(&mut self, tok: u32) -> R {
        let t = self.type_info(tok)?;
        let v = self.ctx.pop()?;
        if v.ty != StackTy::Obj {
            return Err(JitErrorKind::TypeMismatch("unbox needs an object"));
        }
        let r = self.ctx.into_gpr(&v)?;
        self.null_check(r)?;
        let lo_method_table_offset = self.layout.method_table_offset;
        let (mt, want) = (M::Abi::SCRATCH, M::Abi::RET);
        self.m().load(
            mt,
            Address::offset(r, lo_method_table_offset),
            OperandSize::S64,
        )?;
        self.m().mov_ri(want, t.handle as i64, OperandSize::S64)?;
        self.m().alu_rr(AluOp::Cmp, mt, want, OperandSize::S64)?;
        match self.host.unbox_key(tok).map_err(Self::host_err)? {
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
        let lo_box_data_offset = self.layout.box_data_offset;
        self.m().lea(r, Address::offset(r, lo_box_data_offset))?;
        self.ctx.push_reg(StackTy::ByRef, r);
        Ok(())
    }

    pub fn unbox_any(&mut self, tok: u32) -> R {
        if !self.type_shape(tok)?.is_value_type {
            return self.castclass(tok, true);
        }
        let t = self.type_info(tok)?;
        if let Some(n) = self.host.nullable(tok).map_err(Self::host_err)? {
            let ty = StackTy::of(&t.ty).ok_or(JitErrorKind::TypeMismatch("unbox.any of void"))?;
            return self.unbox_nullable(&n, ty);
        }
        self.unbox(tok)?;
        self.ldind(t.ty)
    }

    pub fn castclass(&mut self, tok: u32, throw: bool) -> R {
        if let Some(key) = self.shared_lookup(tok, LookupKind::TypeHandle)? {
            return self.castclass_shared(key, throw);
        }
        let t = self.type_info(tok)?;
        self.ctx.spill_regs()?;
        let v = self.ctx.pop()?;
        if v.ty != StackTy::Obj {
            return Err(JitErrorKind::TypeMismatch(
                "isinst/castclass needs an object",
            ));
        }
        self.ctx.load_to_gpr(&v, M::Abi::ARG_GPRS[0])?;
        self.m()
            .mov_ri(M::Abi::ARG_GPRS[1], t.handle as i64, OperandSize::S64)?;
        self.is_instance()?;
        if throw {
            let ok = self.m().new_label();
            self.m()
                .alu_rr(AluOp::Test, M::Abi::RET, M::Abi::RET, OperandSize::S64)?;
            self.m().jcc(Cond::Ne, ok)?;
            self.ctx.load_to_gpr(&v, M::Abi::SCRATCH)?;
            self.m().alu_rr(
                AluOp::Test,
                M::Abi::SCRATCH,
                M::Abi::SCRATCH,
                OperandSize::S64,
            )?;
            self.fail_if(Cond::Ne, FailCode::InvalidCast)?;
            self.m().bind(ok)?;
        }
        self.push_rax(StackTy::Obj)
    }

    /// `isinst` of the object in the first argument register against the
    /// MethodTable (a compile-time constant) in the second: the object or
    /// null in `Abi::RET`; clobbers the argument registers, as a call does.
    ///
    /// With a dispatch cell from the host, the type check caches its last
    /// success: null answers null, an object whose MethodTable the cell holds
    /// answers itself, and only another one calls `Helper::IsInstanceCached`
    /// (which fills the cell when it answers yes).
    fn is_instance(&mut self) -> R {
        let [obj, _, cell_reg, t1, t2] = [
            M::Abi::ARG_GPRS[0],
            M::Abi::ARG_GPRS[1],
            M::Abi::ARG_GPRS[2],
            M::Abi::ARG_GPRS[3],
            M::Abi::ARG_GPRS[4],
        ];
        let Some(cell) = self.host.dispatch_cell() else {
            let h = self.host.helper(Helper::IsInstance);
            return self.call_abs(h, CallSiteKind::Helper(Helper::IsInstance));
        };
        let done = self.m().new_label();
        self.m().mov_rr(M::Abi::RET, obj, OperandSize::S64)?;
        self.m().alu_rr(AluOp::Test, obj, obj, OperandSize::S64)?;
        self.m().jcc(Cond::E, done)?;
        self.compare_with_cell(obj, cell, cell_reg, [t1, t2])?;
        self.m().jcc(Cond::E, done)?;
        let h = self.host.helper(Helper::IsInstanceCached);
        self.call_abs(h, CallSiteKind::Helper(Helper::IsInstanceCached))?;
        self.m().bind(done)
    }

    pub fn localloc(&mut self) -> R {
        self.ctx.spill_regs()?;
        let v = self.ctx.pop()?;
        let r = self.ctx.into_gpr64(&v, true)?;
        self.m().alu_ri(AluOp::Add, r, 15, OperandSize::S64)?;
        self.m().alu_ri(AluOp::And, r, -16, OperandSize::S64)?;
        let sp = M::Abi::SP;
        self.m().alu_rr(AluOp::Sub, sp, r, OperandSize::S64)?;
        self.sp_moved = true;
        if self.init_locals {
            let block = M::BLOCK;
            self.m().mov_rr(block.len, r, OperandSize::S64)?;
            self.m().mov_rr(block.dst, sp, OperandSize::S64)?;
            self.m().mov_ri(block.fill, 0, OperandSize::S32)?;
            self.m().fill_bytes()?;
        }
        self.ctx.free_gpr(r);
        let d = self.ctx.alloc_gpr()?;
        self.m().mov_rr(d, M::Abi::SP, OperandSize::S64)?;
        self.ctx.push_reg(StackTy::NInt, d);
        Ok(())
    }

    pub fn cpblk(&mut self, init: bool) -> R {
        self.ctx.spill_regs()?;
        let size = self.ctx.pop()?;
        let src = self.ctx.pop()?;
        let dst = self.ctx.pop()?;
        let block = M::BLOCK;
        self.ctx.load_to_gpr(&dst, block.dst)?;
        if init {
            self.ctx.load_to_gpr(&src, block.fill)?;
        } else {
            self.ctx.load_to_gpr(&src, block.src)?;
        }
        self.ctx.load_to_gpr(&size, block.len)?;
        self.m().extend(block.len, block.len, Extend::U32)?;
        if init {
            self.m().fill_bytes()
        } else {
            self.m().copy_bytes()
        }
    }
}

/// Whether an instruction with this opcode pops the value on top of the stack
/// without calling anything first (it may still push a result, which is a new
/// value): stores, returns, arithmetic, comparisons, conditional branches,
/// field and indirect loads.
fn consumes_at_once(op: u16) -> bool {
    use crate::decoder::op;
    matches!(
        op,
        op::STLOC_0..=op::STLOC_3
            | op::STLOC_S
            | op::STLOC
            | op::STARG_S
            | op::STARG
            | op::RET
            | op::POP
            | op::ADD..=op::NOT
            | op::CONV_I1..=op::CONV_I8
            | op::CONV_U4
            | op::CONV_U8
            | op::CONV_U2
            | op::CONV_U1
            | op::CONV_I
            | op::CONV_U
            | op::CEQ..=op::CLT_UN
            | op::BRFALSE_S
            | op::BRTRUE_S
            | op::BRFALSE
            | op::BRTRUE
            | op::BEQ_S..=op::BLT_UN_S
            | op::BEQ..=op::BLT_UN
            | op::LDFLD
            | op::LDLEN
            | op::LDIND_I1..=op::LDIND_I
    )
}
