//! `CodeGen`, shared generic code: the instructions of a body that several
//! instantiations run (ECMA-335 leaves sharing to the implementation; the
//! shape is CoreCLR's "shared generics over `__Canon`") and that need the
//! exact type of the running instantiation — `newarr T`, `castclass T`,
//! `isinst T`, `unbox.any T` of a reference `T`, `newobj G<T>` — get its
//! handle at run time from `Helper::GenericLookup(this, method, key)`; the
//! host numbers the handles (`JitHost::shared_lookup`) and finds the
//! instantiation from `this`'s MethodTable. The generic context is `this`
//! itself, or — in a generic method or a static method of a generic type —
//! a hidden context the caller's instantiating stub leaves in `Abi::CONTEXT`
//! and the prologue keeps in a native-int local (`JitHost::context_local`,
//! then `Helper::GenericLookupContext`): stack maps and unwinding see an
//! ordinary method. Each lowering here is its instruction's
//! usual one with the immediate handle replaced by the looked-up one.

use super::*;

impl<H: JitHost, M: MacroAssembler> CodeGen<'_, H, M> {
    /// The key of a run-time lookup for `tok`, when the method is shared code
    /// and the handle differs per instantiation.
    pub(super) fn shared_lookup(&mut self, tok: u32, kind: LookupKind) -> R<Option<u32>> {
        self.host.shared_lookup(tok, kind).map_err(Self::host_err)
    }

    /// Pushes (as a native int) the handle `key` of the running
    /// instantiation: found through `this`, or through the hidden generic
    /// context when the method has one (`JitHost::context_local`).
    fn push_generic_handle(&mut self, key: u32) -> R {
        self.ctx.spill_regs()?;
        let args = <M::Abi as Abi>::ARG_GPRS;
        let helper = match self.context_local {
            Some(n) => {
                self.ldloc(n)?;
                let cx = self.ctx.pop()?;
                self.ctx.load_to_gpr(&cx, args[0])?;
                self.ctx.free(&cx);
                Helper::GenericLookupContext
            }
            None => {
                // `this` wherever the method keeps it (its home, or a register).
                self.ldarg(0)?;
                let this = self.ctx.pop()?;
                if this.ty != StackTy::Obj {
                    return Err(JitErrorKind::TypeMismatch("shared code without `this`"));
                }
                self.ctx.load_to_gpr(&this, args[0])?;
                self.ctx.free(&this);
                self.null_check(args[0])?;
                Helper::GenericLookup
            }
        };
        let method = self.method_handle as i64;
        self.m().mov_ri(args[1], method, OperandSize::S64)?;
        self.m().mov_ri(args[2], key as i64, OperandSize::S32)?;
        let h = self.host.helper(helper);
        self.call_abs(h, CallSiteKind::Helper(helper))?;
        self.push_rax(StackTy::NInt)
    }

    /// `newarr` of a type that differs per instantiation.
    pub(super) fn newarr_shared(&mut self, key: u32) -> R {
        self.push_generic_handle(key)?;
        self.ctx.spill_regs()?;
        let handle = self.ctx.pop()?;
        let len = self.ctx.pop()?;
        if !matches!(len.ty, StackTy::I32 | StackTy::NInt) {
            return Err(JitErrorKind::TypeMismatch("newarr length"));
        }
        let args = <M::Abi as Abi>::ARG_GPRS;
        self.ctx.load_to_gpr(&len, args[1])?;
        if len.ty == StackTy::I32 {
            self.m().extend(args[1], args[1], Extend::I32)?;
        }
        self.m()
            .alu_rr(AluOp::Test, args[1], args[1], OperandSize::S64)?;
        self.fail_if(Cond::S, FailCode::Overflow)?;
        self.ctx.load_to_gpr(&handle, args[0])?;
        self.ctx.free(&len);
        self.ctx.free(&handle);
        let h = self.host.helper(Helper::NewArray);
        self.call_abs(h, CallSiteKind::Helper(Helper::NewArray))?;
        self.push_rax(StackTy::Obj)
    }

    /// `castclass` (`throw`) or `isinst` of a type that differs per
    /// instantiation.
    pub(super) fn castclass_shared(&mut self, key: u32, throw: bool) -> R {
        if self.ctx.stack.peek(0).map(|v| v.ty) != Some(StackTy::Obj) {
            return Err(JitErrorKind::TypeMismatch(
                "isinst/castclass needs an object",
            ));
        }
        self.push_generic_handle(key)?;
        self.ctx.spill_regs()?;
        let handle = self.ctx.pop()?;
        let v = self.ctx.pop()?;
        let args = <M::Abi as Abi>::ARG_GPRS;
        self.ctx.load_to_gpr(&v, args[0])?;
        self.ctx.load_to_gpr(&handle, args[1])?;
        self.ctx.free(&handle);
        let h = self.host.helper(Helper::IsInstance);
        self.call_abs(h, CallSiteKind::Helper(Helper::IsInstance))?;
        self.push_rax(StackTy::Obj)?;
        if throw {
            // Null passes; anything else the helper answered null for fails.
            let Some(Loc::Reg(r)) = self.ctx.stack.peek(0).map(|t| t.loc) else {
                return Err(JitErrorKind::TypeMismatch("castclass result"));
            };
            let ok = self.m().new_label();
            self.m().alu_rr(AluOp::Test, r, r, OperandSize::S64)?;
            self.m().jcc(Cond::Ne, ok)?;
            // The popped operand's home stays intact for this instruction.
            let t = self.ctx.alloc_gpr()?;
            self.ctx.load_to_gpr(&v, t)?;
            self.m().alu_rr(AluOp::Test, t, t, OperandSize::S64)?;
            self.ctx.free_gpr(t);
            self.fail_if(Cond::Ne, FailCode::InvalidCast)?;
            self.m().bind(ok)?;
        }
        // Held until here: the cast's failure test reads it after the call.
        self.ctx.free(&v);
        Ok(())
    }

    /// A call whose exact target differs per instantiation: the looked-up
    /// handle is the callee's code address, or (`dispatch`) the exact
    /// interface or generic virtual method, whose code `Helper::
    /// InterfaceLookup` finds for the receiver; either way the call then
    /// goes through that address, as `calli` does.
    pub(super) fn call_shared(
        &mut self,
        ci: &CallInfo,
        key: u32,
        dispatch: bool,
        check_this: bool,
    ) -> R {
        let n = ci.sig.params.len() + ci.sig.has_this as usize;
        if self.ctx.stack.len() < n {
            return Err(JitErrorKind::StackUnderflow);
        }
        self.push_generic_handle(key)?;
        if dispatch {
            if !ci.sig.has_this {
                return Err(JitErrorKind::TypeMismatch("interface call without this"));
            }
            self.ctx.spill_regs()?;
            let method = self.ctx.pop()?;
            let receiver = self.ctx.stack.vals[self.ctx.stack.len() - n];
            let args = <M::Abi as Abi>::ARG_GPRS;
            self.ctx.load_to_gpr(&receiver, args[0])?;
            self.null_check(args[0])?;
            self.ctx.load_to_gpr(&method, args[1])?;
            self.ctx.free(&method);
            self.m().mov_ri(args[2], 0, OperandSize::S32)?;
            let h = self.host.helper(Helper::InterfaceLookup);
            self.call_abs(h, CallSiteKind::Helper(Helper::InterfaceLookup))?;
            self.push_rax(StackTy::NInt)?;
        }
        self.emit_call(
            &through(ci),
            ThisArg::FromStack,
            check_this && !dispatch,
            true,
        )
    }

    /// `newobj` of a value type that differs per instantiation: laid out as
    /// any (its layout is the same in every instantiation), its exact
    /// constructor looked up and called on the frame temporary.
    pub(super) fn newobj_value_shared(&mut self, ci: &CallInfo, owner: &TypeInfo, key: u32) -> R {
        self.ctx.spill_regs()?;
        // Pushed before the temporary, which must lie below it.
        self.push_generic_handle(key)?;
        let size = owner.ty.size();
        let tmp = self.ctx.stack.temp(size);
        self.ctx.zero_mem(Self::frame_slot(tmp), size)?;
        self.emit_call(&through(ci), ThisArg::Addr(tmp), false, true)?;
        let sty = StackTy::of(&owner.ty).ok_or(JitErrorKind::TypeMismatch("newobj of void"))?;
        if let StackTy::Value(_) = sty {
            let v = self.ctx.stack.push(sty, Loc::Home);
            self.ctx
                .copy_mem(Self::frame_slot(v.home), Self::frame_slot(tmp), size)
        } else {
            self.ctx.push_from_mem(Self::frame_slot(tmp), &owner.ty)
        }
    }

    /// The address of static field `tok` (lookup `key`) of the running
    /// instantiation, in a register, its class constructor run first (the
    /// helper returns at once when it has run): the field's facts and the
    /// address as a popped stack entry.
    fn shared_static_addr(&mut self, tok: u32, key: u32) -> R<(FieldInfo, Gpr)> {
        let init = self.shared_lookup(tok, LookupKind::StaticClass)?;
        let f = self.field(tok)?;
        let args = <M::Abi as Abi>::ARG_GPRS;
        if let Some(k) = init {
            self.push_generic_handle(k)?;
            self.ctx.spill_regs()?;
            let class = self.ctx.pop()?;
            self.ctx.load_to_gpr(&class, args[0])?;
            self.ctx.free(&class);
            let h = self.host.helper(Helper::ClassInit);
            self.call_abs(h, CallSiteKind::Helper(Helper::ClassInit))?;
        }
        self.push_generic_handle(key)?;
        let addr = self.ctx.pop()?;
        let Loc::Reg(r) = addr.loc else {
            return Err(JitErrorKind::TypeMismatch("static field address"));
        };
        Ok((f, r))
    }

    /// `ldsfld` (`address`: `ldsflda`) of a static field that differs per
    /// instantiation.
    pub(super) fn ldsfld_shared(&mut self, tok: u32, key: u32, address: bool) -> R {
        let (f, r) = self.shared_static_addr(tok, key)?;
        if address {
            self.ctx.push_reg(StackTy::ByRef, r);
            return Ok(());
        }
        self.ctx.push_from_mem(Address::offset(r, 0), &f.ty)?;
        self.ctx.free_gpr(r);
        Ok(())
    }

    /// `stsfld` of a static field that differs per instantiation: the value
    /// stays on the stack (and in the stack maps) across the lookups.
    pub(super) fn stsfld_shared(&mut self, tok: u32, key: u32) -> R {
        let (f, r) = self.shared_static_addr(tok, key)?;
        let v = self.ctx.pop()?;
        check_store(&f.ty, &v.ty)?;
        self.ctx.store_val(Address::offset(r, 0), &f.ty, &v)?;
        self.ctx.free(&v);
        self.ctx.free_gpr(r);
        Ok(())
    }

    /// `box` of a value type that differs per instantiation (its layout does
    /// not; never a `Nullable<T>`, which the host does not look up).
    pub(super) fn box_shared(&mut self, ty: JitType, key: u32) -> R {
        self.push_generic_handle(key)?;
        self.ctx.spill_regs()?;
        let handle = self.ctx.pop()?;
        let v = self.ctx.pop()?;
        check_store(&ty, &v.ty)?;
        let args = <M::Abi as Abi>::ARG_GPRS;
        self.ctx.load_to_gpr(&handle, args[0])?;
        self.ctx.free(&handle);
        let h = self.host.helper(Helper::NewObject);
        self.call_abs(h, CallSiteKind::Helper(Helper::NewObject))?;
        self.push_rax(StackTy::Obj)?;
        let Some(Loc::Reg(r)) = self.ctx.stack.peek(0).map(|t| t.loc) else {
            return Err(JitErrorKind::TypeMismatch("box result"));
        };
        let off = self.layout.box_data_offset;
        // The popped value's home stays intact for this instruction.
        self.ctx.store_val(Address::offset(r, off), &ty, &v)?;
        self.ctx.free(&v);
        Ok(())
    }

    /// `newobj` of a class that differs per instantiation: the object is
    /// allocated with the looked-up handle, then `ci`'s constructor runs as
    /// for any `newobj` — itself shared code, or (`ctor_key`) the exact
    /// constructor looked up too.
    pub(super) fn newobj_shared(&mut self, ci: &CallInfo, key: u32, ctor_key: Option<u32>) -> R {
        // The constructor's address goes on the stack first: the object's
        // frame temporary must lie below every entry pushed.
        if let Some(k) = ctor_key {
            self.push_generic_handle(k)?;
        }
        self.push_generic_handle(key)?;
        self.ctx.spill_regs()?;
        let handle = self.ctx.pop()?;
        let args = <M::Abi as Abi>::ARG_GPRS;
        self.ctx.load_to_gpr(&handle, args[0])?;
        self.ctx.free(&handle);
        let h = self.host.helper(Helper::NewObject);
        self.call_abs(h, CallSiteKind::Helper(Helper::NewObject))?;
        let tmp = self.ctx.stack.temp(8);
        self.push_rax(StackTy::Obj)?;
        let obj = self.ctx.pop()?;
        let Loc::Reg(r) = obj.loc else {
            return Err(JitErrorKind::TypeMismatch("newobj result"));
        };
        self.m().store(Self::frame_slot(tmp), r, OperandSize::S64)?;
        self.ctx.free(&obj);
        match ctor_key {
            Some(_) => self.emit_call(&through(ci), ThisArg::Slot(tmp), false, true)?,
            None => self.emit_call(ci, ThisArg::Slot(tmp), false, false)?,
        }
        let r = self.ctx.alloc_gpr()?;
        self.m().load(r, Self::frame_slot(tmp), OperandSize::S64)?;
        self.ctx.push_reg(StackTy::Obj, r);
        Ok(())
    }
}

/// `ci` called through the code address on top of the stack, as `calli`.
fn through(ci: &CallInfo) -> CallInfo {
    CallInfo {
        sig: ci.sig.clone(),
        target: CallTarget::Direct(0),
        callee: 0,
        owner: None,
    }
}
