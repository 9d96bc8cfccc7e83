//! `CodeGen`, calls: `call`/`callvirt` (constrained and virtual), `calli`,
//! `newobj`, `ldftn`/`ldvirtftn`, and the SysV argument and result moves
//! shared by all of them.

use super::*;
use smallvec::SmallVec;

impl<H: JitHost, M: MacroAssembler> CodeGen<'_, H, M> {
    // ---- calls ------------------------------------------------------------------------------

    pub(super) fn call_abs(&mut self, addr: u64, kind: CallSiteKind) -> R {
        let mk = self.m().call_patchable(addr)?;
        self.call_sites.push((mk, kind, addr));
        self.safepoint()
    }

    pub fn set_constrained(&mut self, tok: u32) {
        self.constrained = Some(tok);
    }

    pub fn call(&mut self, tok: u32, virt: bool) -> R {
        if let Some(ty_tok) = self.constrained.take() {
            return self.constrained_call(ty_tok, tok);
        }
        let lookup = match virt {
            true => self
                .shared_lookup(tok, LookupKind::InterfaceCall)?
                .map(|k| (k, true)),
            false => None,
        };
        let lookup = match lookup {
            Some(l) => Some(l),
            None => self
                .shared_lookup(tok, LookupKind::Call { virt })?
                .map(|k| (k, false)),
        };
        let ci = self.host.method(tok, virt).map_err(Self::host_err)?;
        if let CallTarget::MdArray(a) = ci.target {
            return self.md_array_call(&a);
        }
        // callvirt on a non-virtual method still null-checks `this` (§III.4.2).
        let check = virt && ci.sig.has_this && ci.sig.this_type == JitType::Obj;
        if let Some((key, dispatch)) = lookup {
            return self.call_shared(&ci, key, dispatch, check);
        }
        if self.try_inline(tok, &ci, check)? {
            return Ok(());
        }
        self.emit_call(&ci, ThisArg::FromStack, check, false)
    }

    pub(super) fn constrained_call(&mut self, ty_tok: u32, m_tok: u32) -> R {
        let c = self
            .host
            .constrained(ty_tok, m_tok)
            .map_err(Self::host_err)?;
        let lookup = match c {
            Constrained::DerefThis => self.shared_lookup(m_tok, LookupKind::InterfaceCall)?,
            _ => None,
        };
        let ci = self.host.method(m_tok, true).map_err(Self::host_err)?;
        let this_idx = self
            .ctx
            .stack
            .len()
            .checked_sub(ci.sig.params.len() + 1)
            .ok_or(JitErrorKind::StackUnderflow)?;
        match c {
            Constrained::Direct(direct) => {
                return self.emit_call(&direct, ThisArg::FromStack, false, false)
            }
            Constrained::DerefThis => {
                let v = self.ctx.stack.vals[this_idx];
                let r = self.ctx.into_gpr(&v)?;
                self.m().load(r, Address::offset(r, 0), OperandSize::S64)?;
                self.ctx.stack.vals[this_idx].loc = Loc::Reg(r);
                self.ctx.stack.vals[this_idx].ty = StackTy::Obj;
            }
            Constrained::BoxThis(t) => {
                self.ctx.spill_regs()?;
                let v = self.ctx.stack.vals[this_idx];
                self.m()
                    .mov_ri(M::Abi::ARG_GPRS[0], t.handle as i64, OperandSize::S64)?;
                let h = self.host.helper(Helper::NewObject);
                self.call_abs(h, CallSiteKind::Helper(Helper::NewObject))?;
                self.ctx.load_to_gpr(&v, M::Abi::RET2)?;
                let off = self.layout.box_data_offset;
                self.ctx.copy_mem(
                    Address::offset(M::Abi::RET, off),
                    Address::offset(M::Abi::RET2, 0),
                    t.ty.size(),
                )?;
                self.m()
                    .store(Self::frame_slot(v.home), M::Abi::RET, OperandSize::S64)?;
                self.ctx.free(&v);
                self.ctx.stack.vals[this_idx].loc = Loc::Home;
                self.ctx.stack.vals[this_idx].ty = StackTy::Obj;
            }
        }
        let check = ci.sig.has_this;
        if let Some(key) = lookup {
            return self.call_shared(&ci, key, true, check);
        }
        self.emit_call(&ci, ThisArg::FromStack, check, false)
    }

    pub fn calli(&mut self, tok: u32) -> R {
        let sig = self.host.signature(tok).map_err(Self::host_err)?;
        let ci = CallInfo {
            sig,
            target: CallTarget::Direct(0),
            callee: 0,
            owner: None,
        };
        self.emit_call(&ci, ThisArg::FromStack, false, true)
    }

    pub fn newobj(&mut self, tok: u32) -> R {
        let ctor_key = self.shared_lookup(tok, LookupKind::Call { virt: false })?;
        let ci = self.host.method(tok, false).map_err(Self::host_err)?;
        if let CallTarget::MdArray(a) = ci.target {
            return self.md_array_new(&a, ci.sig.params.len());
        }
        // A constructor the host stands in for with a static factory (the
        // object cannot exist before its final size is known: System.String):
        // call it with the arguments and push what it returns.
        if ci.owner.is_none() && !ci.sig.has_this && ctor_key.is_none() {
            return self.emit_call(&ci, ThisArg::FromStack, false, false);
        }
        match (ci.owner, ctor_key) {
            (Some(owner), Some(key)) if owner.is_value_type => {
                return self.newobj_value_shared(&ci, &owner, key)
            }
            (None, _) => {
                if let Some(key) = self.shared_lookup(tok, LookupKind::NewObjOwner)? {
                    return self.newobj_shared(&ci, key, ctor_key);
                }
            }
            _ => {}
        }
        let owner = ci
            .owner
            .ok_or(JitErrorKind::Host(crate::host::HostError::Invalid(
                "newobj: constructor without owner type".into(),
            )))?;
        self.ctx.spill_regs()?;
        if owner.is_value_type {
            let size = owner.ty.size();
            let tmp = self.ctx.stack.temp(size);
            self.ctx.zero_mem(Self::frame_slot(tmp), size)?;
            self.emit_call(&ci, ThisArg::Addr(tmp), false, false)?;
            let sty = StackTy::of(&owner.ty).ok_or(JitErrorKind::TypeMismatch("newobj of void"))?;
            if let StackTy::Value(_) = sty {
                let v = self.ctx.stack.push(sty, Loc::Home);
                self.ctx
                    .copy_mem(Self::frame_slot(v.home), Self::frame_slot(tmp), size)?;
            } else {
                return self.ctx.push_from_mem(Self::frame_slot(tmp), &owner.ty);
            }
        } else {
            self.m()
                .mov_ri(M::Abi::ARG_GPRS[0], owner.handle as i64, OperandSize::S64)?;
            let h = self.host.helper(Helper::NewObject);
            self.call_abs(h, CallSiteKind::Helper(Helper::NewObject))?;
            let tmp = self.ctx.stack.temp(8);
            self.m()
                .store(Self::frame_slot(tmp), M::Abi::RET, OperandSize::S64)?;
            self.emit_call(&ci, ThisArg::Slot(tmp), false, false)?;
            let r = self.ctx.alloc_gpr()?;
            self.m().load(r, Self::frame_slot(tmp), OperandSize::S64)?;
            self.ctx.push_reg(StackTy::Obj, r);
        }
        Ok(())
    }

    pub fn ldftn(&mut self, tok: u32, virt: bool) -> R {
        let ci = self.host.method(tok, virt).map_err(Self::host_err)?;
        if let (true, CallTarget::Interface { iface, slot }) = (virt, ci.target) {
            self.ctx.spill_regs()?;
            let v = self.ctx.pop()?;
            self.ctx.load_to_gpr(&v, M::Abi::ARG_GPRS[0])?;
            self.null_check(M::Abi::ARG_GPRS[0])?;
            self.m()
                .mov_ri(M::Abi::ARG_GPRS[1], iface as i64, OperandSize::S64)?;
            self.m()
                .mov_ri(M::Abi::ARG_GPRS[2], slot as i64, OperandSize::S32)?;
            let h = self.host.helper(Helper::InterfaceLookup);
            self.call_abs(h, CallSiteKind::Helper(Helper::InterfaceLookup))?;
            return self.push_rax(StackTy::NInt);
        }
        if virt {
            let v = self.ctx.pop()?;
            let r = self.ctx.into_gpr(&v)?;
            self.null_check(r)?;
            match ci.target {
                CallTarget::Virtual { slot_offset } => {
                    let lo_method_table_offset = self.layout.method_table_offset;
                    self.m().load(
                        r,
                        Address::offset(r, lo_method_table_offset),
                        OperandSize::S64,
                    )?;
                    self.m()
                        .load(r, Address::offset(r, slot_offset), OperandSize::S64)?;
                    self.ctx.push_reg(StackTy::NInt, r);
                    return Ok(());
                }
                CallTarget::VirtualIndirect {
                    vtable_ptr_offset,
                    slot_offset,
                } => {
                    let lo = self.layout.method_table_offset;
                    self.m().load(r, Address::offset(r, lo), OperandSize::S64)?;
                    self.m()
                        .load(r, Address::offset(r, vtable_ptr_offset), OperandSize::S64)?;
                    self.m()
                        .load(r, Address::offset(r, slot_offset), OperandSize::S64)?;
                    self.ctx.push_reg(StackTy::NInt, r);
                    return Ok(());
                }
                _ => self.ctx.free_gpr(r),
            }
        }
        match ci.target {
            CallTarget::Direct(a) => {
                self.ctx.stack.push(StackTy::NInt, Loc::Const(a as i64));
                Ok(())
            }
            CallTarget::Indirect(cell) => {
                let r = self.ctx.alloc_gpr()?;
                self.m().mov_ri(r, cell as i64, OperandSize::S64)?;
                self.m().load(r, Address::offset(r, 0), OperandSize::S64)?;
                self.ctx.push_reg(StackTy::NInt, r);
                Ok(())
            }
            _ => Err(JitErrorKind::Unsupported("ldftn of a virtual slot")),
        }
    }

    /// The code address of interface method `iface` (vtable slot `slot`) for
    /// the non-null receiver in the first argument register, left in
    /// `Abi::RET`; clobbers the argument registers, as a call does.
    ///
    /// With a dispatch cell from the host, a monomorphic inline cache (the
    /// shape of CoreCLR's virtual stub dispatch and of V8's inline caches):
    /// the receiver's MethodTable is compared with the one the cell holds,
    /// and on a match the cell's code address is the answer, with no call;
    /// otherwise `Helper::InterfaceLookupCached` answers and, once its answer
    /// is final, fills the cell. A call site that sees several receiver types
    /// keeps the last final one.
    fn interface_target(&mut self, iface: u64, slot: u32) -> R {
        let [obj, tmp, slot_reg, cell_reg] = [
            M::Abi::ARG_GPRS[0],
            M::Abi::ARG_GPRS[1],
            M::Abi::ARG_GPRS[2],
            M::Abi::ARG_GPRS[3],
        ];
        let Some(cell) = self.host.dispatch_cell() else {
            self.m().mov_ri(tmp, iface as i64, OperandSize::S64)?;
            self.m().mov_ri(slot_reg, slot as i64, OperandSize::S32)?;
            let h = self.host.helper(Helper::InterfaceLookup);
            return self.call_abs(h, CallSiteKind::Helper(Helper::InterfaceLookup));
        };
        let (miss, done) = (self.m().new_label(), self.m().new_label());
        self.compare_with_cell(obj, cell, cell_reg, [M::Abi::RET, tmp])?;
        self.m().jcc(Cond::Ne, miss)?;
        self.m()
            .load(M::Abi::RET, Address::offset(cell_reg, 8), OperandSize::S64)?;
        self.m().jmp(done)?;
        self.m().bind(miss)?;
        self.m().mov_ri(tmp, iface as i64, OperandSize::S64)?;
        self.m().mov_ri(slot_reg, slot as i64, OperandSize::S32)?;
        let h = self.host.helper(Helper::InterfaceLookupCached);
        self.call_abs(h, CallSiteKind::Helper(Helper::InterfaceLookupCached))?;
        self.m().bind(done)
    }

    /// Compares the MethodTable of the non-null object in `obj` with the
    /// first word of dispatch cell `cell` (`JitHost::dispatch_cell`), leaving
    /// the flags for a `jcc`, the cell's address in `cell_reg` and the
    /// MethodTable in `regs[0]` (`regs[1]` is clobbered). The test in front
    /// of interface calls (`interface_target`) and type checks
    /// (`memory.rs` `is_instance`).
    pub(super) fn compare_with_cell(
        &mut self,
        obj: Gpr,
        cell: u64,
        cell_reg: Gpr,
        [mt_reg, tmp]: [Gpr; 2],
    ) -> R {
        let mt = self.layout.method_table_offset;
        self.m().mov_ri(cell_reg, cell as i64, OperandSize::S64)?;
        self.m()
            .load(mt_reg, Address::offset(obj, mt), OperandSize::S64)?;
        self.m()
            .load(tmp, Address::offset(cell_reg, 0), OperandSize::S64)?;
        self.m().alu_rr(AluOp::Cmp, mt_reg, tmp, OperandSize::S64)
    }

    /// The call sequence (the convention is the ISA's `MacroAssembler::Abi`).
    pub(super) fn emit_call(
        &mut self,
        ci: &CallInfo,
        this: ThisArg,
        null_check_this: bool,
        calli: bool,
    ) -> R {
        if let CallTarget::MdArray(_) = ci.target {
            return Err(JitErrorKind::Unsupported(
                "array method reached other than by call or newobj",
            ));
        }
        let sig = &ci.sig;
        let conv = sig.conv;
        let stack_this = sig.has_this && this == ThisArg::FromStack;
        let n = sig.params.len() + stack_this as usize;
        let extra = calli as usize;
        let len = self.ctx.stack.len();
        if len < n + extra {
            return Err(JitErrorKind::StackUnderflow);
        }
        let first = len - n - extra;
        // Value-type arguments travel as pointers to copies: make every struct
        // argument live in its own home (a lazily-cached local would alias).
        for i in first..first + n {
            if matches!(self.ctx.stack.vals[i].ty, StackTy::Value(_)) {
                self.ctx.spill_at(i)?;
            }
        }
        // Caller-saved registers die at the call: spill their values, except
        // integer arguments, which move straight into their argument registers
        // (not for interface dispatch: its lookup call comes first).
        let keep = !matches!(ci.target, CallTarget::Interface { .. });
        for i in 0..len {
            let is_arg = i >= first && i < first + n;
            match self.ctx.stack.vals[i].loc {
                Loc::Reg(r) if M::Abi::CALLEE_SAVED.contains(&r) => {}
                Loc::Reg(_) if is_arg && keep => {}
                Loc::Reg(_) | Loc::Xmm(_) => self.ctx.spill_at(i)?,
                _ => {}
            }
        }
        let vals: SmallVec<[Val; 8]> = SmallVec::from_slice(&self.ctx.stack.vals[first..first + n]);
        let ftn = if calli {
            Some(self.ctx.stack.vals[len - 1])
        } else {
            None
        };

        let mut entries: SmallVec<[(JitType, Src); 8]> = SmallVec::with_capacity(n + 1);
        let struct_ret = sig.ret.is_struct();
        let ret_tmp = if struct_ret {
            Some(self.ctx.stack.temp(sig.ret.size().max(16)))
        } else {
            None
        };
        if struct_ret && conv == CallConv::Managed {
            entries.push((JitType::ByRef, Src::Addr(ret_tmp.unwrap_or(0))));
        }
        let this_entry = entries.len();
        if sig.has_this {
            match this {
                ThisArg::FromStack => {
                    let v = vals[0];
                    if !matches!(v.ty, StackTy::Obj | StackTy::ByRef | StackTy::NInt) {
                        return Err(JitErrorKind::TypeMismatch(
                            "`this` must be a reference or pointer",
                        ));
                    }
                    entries.push((sig.this_type, Src::Val(v)));
                }
                ThisArg::Slot(o) => entries.push((JitType::Obj, Src::Slot(o))),
                ThisArg::Addr(o) => entries.push((JitType::ByRef, Src::Addr(o))),
            }
        }
        for (i, p) in sig.params.iter().enumerate() {
            let v = vals[i + stack_this as usize];
            check_store(p, &v.ty)?;
            entries.push((*p, Src::Val(v)));
        }

        // Interface dispatch: find the code address before loading arguments.
        let code_tmp = if let CallTarget::Interface { iface, slot } = ci.target {
            let (_, src) = entries
                .get(this_entry)
                .copied()
                .ok_or(JitErrorKind::TypeMismatch("interface call without this"))?;
            self.load_src(&JitType::Obj, &src, M::Abi::ARG_GPRS[0], conv)?;
            self.null_check_of(M::Abi::ARG_GPRS[0], src_loc(&src))?;
            self.interface_target(iface, slot)?;
            let t = self.ctx.stack.temp(8);
            self.m()
                .store(Self::frame_slot(t), M::Abi::RET, OperandSize::S64)?;
            Some(t)
        } else {
            None
        };

        let classes: SmallVec<[ArgClass; 8]> = entries
            .iter()
            .map(|(t, _)| M::Abi::classify(t, conv))
            .collect();
        let lay = M::Abi::layout(&classes);
        if conv == CallConv::Native && entries.iter().any(|(t, _)| t.size() > 16 && t.is_struct()) {
            return Err(JitErrorKind::Unsupported(
                "native call with a struct larger than 16 bytes",
            ));
        }
        if lay.stack_bytes > 0 {
            self.m().alu_ri(
                AluOp::Sub,
                M::Abi::SP,
                lay.stack_bytes as i32,
                OperandSize::S64,
            )?;
        }
        for (i, (t, src)) in entries.iter().enumerate() {
            match lay.args[i] {
                ArgLoc::Stack(o) => {
                    if classes[i] == ArgClass::Float {
                        let Src::Val(v) = src else {
                            return Err(JitErrorKind::Internal("float src".into()));
                        };
                        let x = self.ctx.val_to_xmm(v, M::Abi::FLOAT_SCRATCH)?;
                        self.m().fstore(
                            Address::offset(M::Abi::SP, o as i32),
                            x,
                            *t == JitType::R4,
                        )?;
                    } else {
                        self.load_src(t, src, M::Abi::SCRATCH, conv)?;
                        self.m().store(
                            Address::offset(M::Abi::SP, o as i32),
                            M::Abi::SCRATCH,
                            OperandSize::S64,
                        )?;
                    }
                }
                ArgLoc::Stack2(o) => {
                    let Src::Val(v) = src else {
                        return Err(JitErrorKind::Internal("pair src".into()));
                    };
                    self.ctx.copy_mem(
                        Address::offset(M::Abi::SP, o as i32),
                        Self::frame_slot(v.home),
                        16,
                    )?;
                }
                _ => {}
            }
        }
        let mut this_reg = None;
        // Register-to-register argument moves first, as one parallel move.
        let mut moves: SmallVec<[(Gpr, Gpr); 8]> = SmallVec::new();
        let mut moved: SmallVec<[bool; 8]> = smallvec::smallvec![false; entries.len()];
        for (i, (t, src)) in entries.iter().enumerate() {
            if let (ArgLoc::Gpr(dst), Src::Val(v)) = (lay.args[i], src) {
                if let (Loc::Reg(r), false) = (v.loc, t.is_struct()) {
                    moves.push((dst, r));
                    moved[i] = true;
                }
            }
        }
        self.parallel_move(moves)?;
        for (i, (t, src)) in entries.iter().enumerate() {
            match lay.args[i] {
                ArgLoc::Gpr(r) => {
                    if moved[i] {
                        if let Src::Val(v) = src {
                            self.extend_arg(t, v, r)?;
                        }
                    } else {
                        self.load_src(t, src, r, conv)?;
                    }
                    if i == this_entry && sig.has_this {
                        this_reg = Some(r);
                    }
                }
                ArgLoc::Gpr2(r1, r2) => {
                    let Src::Val(v) = src else {
                        return Err(JitErrorKind::Internal("pair src".into()));
                    };
                    self.m()
                        .load(r1, Self::frame_slot(v.home), OperandSize::S64)?;
                    self.m()
                        .load(r2, Self::frame_slot(v.home + 8), OperandSize::S64)?;
                }
                ArgLoc::Xmm(x) => {
                    let Src::Val(v) = src else {
                        return Err(JitErrorKind::Internal("float src".into()));
                    };
                    let got = self.ctx.val_to_xmm(v, x)?;
                    self.m().fmov(x, got)?;
                    if *t == JitType::R4 {
                        self.m().narrow_to_single(x)?;
                    }
                }
                _ => {}
            }
        }
        if null_check_this {
            let r = this_reg.ok_or(JitErrorKind::Internal("this not in a register".into()))?;
            let loc = entries
                .get(this_entry)
                .map_or(Loc::Home, |(_, s)| src_loc(s));
            self.null_check_of(r, loc)?;
        }
        match (ftn, ci.target) {
            (Some(f), _) => {
                self.ctx.load_to_gpr(&f, M::Abi::RET)?;
                self.m().call_reg(M::Abi::RET)?;
                self.safepoint()?;
            }
            (None, CallTarget::Direct(a)) => self.call_abs(a, CallSiteKind::Method(ci.callee))?,
            // A method calling itself (recursion) calls its own entry
            // directly: no cell load, a rel32 the CPU predicts.
            (None, CallTarget::Indirect(_)) if ci.callee == self.method_handle => {
                self.m().call_entry()?;
                self.safepoint()?;
            }
            (None, CallTarget::Indirect(cell)) => {
                let mk = self.m().call_cell_patchable(cell)?;
                self.call_sites
                    .push((mk, CallSiteKind::Cell(ci.callee), cell));
                self.safepoint()?;
            }
            (None, CallTarget::Virtual { slot_offset }) => {
                let r = this_reg.ok_or(JitErrorKind::TypeMismatch("virtual call without this"))?;
                let lo_method_table_offset = self.layout.method_table_offset;
                self.m().load(
                    M::Abi::RET,
                    Address::offset(r, lo_method_table_offset),
                    OperandSize::S64,
                )?;
                self.m()
                    .call_mem(Address::offset(M::Abi::RET, slot_offset))?;
                self.safepoint()?;
            }
            (
                None,
                CallTarget::VirtualIndirect {
                    vtable_ptr_offset,
                    slot_offset,
                },
            ) => {
                let r = this_reg.ok_or(JitErrorKind::TypeMismatch("virtual call without this"))?;
                let lo_mt = self.layout.method_table_offset;
                self.m()
                    .load(M::Abi::RET, Address::offset(r, lo_mt), OperandSize::S64)?;
                self.m().load(
                    M::Abi::RET,
                    Address::offset(M::Abi::RET, vtable_ptr_offset),
                    OperandSize::S64,
                )?;
                self.m()
                    .call_mem(Address::offset(M::Abi::RET, slot_offset))?;
                self.safepoint()?;
            }
            (None, CallTarget::Interface { .. }) => {
                self.m().load(
                    M::Abi::RET,
                    Self::frame_slot(code_tmp.unwrap_or(0)),
                    OperandSize::S64,
                )?;
                self.m().call_reg(M::Abi::RET)?;
                self.safepoint()?;
            }
            (None, CallTarget::MdArray(_)) => {
                return Err(JitErrorKind::Unsupported("array method called indirectly"))
            }
        }
        if lay.stack_bytes > 0 {
            self.m().alu_ri(
                AluOp::Add,
                M::Abi::SP,
                lay.stack_bytes as i32,
                OperandSize::S64,
            )?;
        }
        for _ in 0..n + extra {
            let v = self.ctx.pop()?;
            self.ctx.free(&v);
        }
        self.push_result(&sig.ret, conv, ret_tmp)
    }

    /// Emits register moves `dst <- src` that may overlap (cycles go through the scratch register).
    pub(super) fn parallel_move(&mut self, mut moves: SmallVec<[(Gpr, Gpr); 8]>) -> R {
        moves.retain(|(d, s)| d != s);
        while !moves.is_empty() {
            let free = moves
                .iter()
                .position(|(d, _)| !moves.iter().any(|(_, s)| s == d));
            match free {
                Some(k) => {
                    let (d, s) = moves.remove(k);
                    self.m().mov_rr(d, s, OperandSize::S64)?;
                }
                None => {
                    // A cycle: park one destination's current value in the scratch register.
                    let d = moves[0].0;
                    self.m().mov_rr(M::Abi::SCRATCH, d, OperandSize::S64)?;
                    for m in moves.iter_mut() {
                        if m.1 == d {
                            m.1 = M::Abi::SCRATCH;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Widens an int32 argument in `dst` to a 64-bit parameter type.
    pub(super) fn extend_arg(&mut self, t: &JitType, v: &Val, dst: Gpr) -> R {
        if v.ty == StackTy::I32 {
            match t {
                JitType::I8 | JitType::I | JitType::Ptr => {
                    self.m().extend(dst, dst, Extend::I32)?
                }
                JitType::U8 | JitType::U => self.m().extend(dst, dst, Extend::U32)?,
                _ => {}
            }
        }
        Ok(())
    }

    pub(super) fn load_src(&mut self, t: &JitType, src: &Src, dst: Gpr, conv: CallConv) -> R {
        match src {
            Src::Slot(o) => self.m().load(dst, Self::frame_slot(*o), OperandSize::S64),
            Src::Addr(o) => self.m().lea(dst, Self::frame_slot(*o)),
            Src::Val(v) => {
                if t.is_struct() {
                    if conv == CallConv::Managed {
                        self.m().lea(dst, Self::frame_slot(v.home))
                    } else {
                        self.m()
                            .load(dst, Self::frame_slot(v.home), OperandSize::S64)
                    }
                } else {
                    self.ctx.load_to_gpr(v, dst)?;
                    if v.ty == StackTy::I32 {
                        match t {
                            JitType::I8 | JitType::I | JitType::Ptr => {
                                self.m().extend(dst, dst, Extend::I32)?
                            }
                            JitType::U8 | JitType::U => self.m().extend(dst, dst, Extend::U32)?,
                            _ => {}
                        }
                    }
                    Ok(())
                }
            }
        }
    }

    pub(super) fn push_result(&mut self, ret: &JitType, conv: CallConv, ret_tmp: Option<i32>) -> R {
        match ret {
            JitType::Void => Ok(()),
            JitType::Struct(s) => {
                let tmp = ret_tmp.unwrap_or(0);
                if conv == CallConv::Native {
                    self.m()
                        .store(Self::frame_slot(tmp), M::Abi::RET, OperandSize::S64)?;
                    self.m()
                        .store(Self::frame_slot(tmp + 8), M::Abi::RET2, OperandSize::S64)?;
                }
                let v = self.ctx.stack.push(StackTy::Value(*s), Loc::Home);
                self.ctx
                    .copy_mem(Self::frame_slot(v.home), Self::frame_slot(tmp), s.size)
            }
            JitType::R4 | JitType::R8 => {
                let ty = if *ret == JitType::R4 {
                    self.m().widen_from_single(M::Abi::FLOAT_RET)?;
                    StackTy::F32
                } else {
                    StackTy::F
                };
                let x = self.ctx.alloc_xmm()?;
                self.m().fmov(x, M::Abi::FLOAT_RET)?;
                self.ctx.push_xmm_ty(x, ty);
                Ok(())
            }
            t => {
                // SysV leaves bits above a narrow return value undefined: re-extend.
                match t {
                    JitType::Bool | JitType::U1 => {
                        self.m().extend(M::Abi::RET, M::Abi::RET, Extend::U8)?
                    }
                    JitType::I1 => self.m().extend(M::Abi::RET, M::Abi::RET, Extend::I8)?,
                    JitType::I2 => self.m().extend(M::Abi::RET, M::Abi::RET, Extend::I16)?,
                    JitType::U2 | JitType::Char => {
                        self.m().extend(M::Abi::RET, M::Abi::RET, Extend::U16)?
                    }
                    _ => {}
                }
                let sty = StackTy::of(t).ok_or(JitErrorKind::Internal("void".into()))?;
                self.push_rax(sty)
            }
        }
    }
}

/// Where a call argument's value came from, for `null_check_of`: the slot a
/// stack value still names, or nowhere known.
fn src_loc(s: &Src) -> Loc {
    match s {
        Src::Val(v) => v.loc,
        _ => Loc::Home,
    }
}
