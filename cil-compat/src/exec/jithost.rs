//! The JIT-EE interface over the loader's type system: tokens of the method's
//! assembly become layouts, signatures, addresses and helper entry points.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use jit::host::*;

use super::idmap::IdMap;
use super::{helpers, jit_type, this_type, Engine};
use crate::metadata::Token;
use crate::types::{
    ArrayMethodKind, AsmId, FieldId, MethodId, Resolved, TypeId, TypeKind, CCTOR_DONE,
    MT_CCTOR_STATE_OFFSET, MT_VTABLE_OFFSET,
};

/// Tag of field handles produced by `ldtoken`; `InitializeArray` (in
/// `helpers`, which owns the tag) decodes them.
pub use super::helpers::FIELD_HANDLE_TAG;
/// Tag of method handles produced by `ldtoken`.
pub const METHOD_HANDLE_TAG: u64 = 0x2000_0000_0000_0000;

/// Answers the JIT for one method of assembly `asm`.
pub struct EngineHost<'e> {
    pub e: &'e mut Engine,
    pub asm: AsmId,
    /// The method being compiled when it is generic code (a member of a generic
    /// type instance, or a generic method instance): its tokens then resolve in
    /// its type arguments' context, so each instantiation gets its own code.
    pub generic: Option<MethodId>,
    /// The method is a shared body (`shared.rs`): answers that would differ
    /// between the instantiations sharing it are refused, so the engine falls
    /// back to code per instantiation.
    pub shared: bool,
    /// Shared code taking its instantiation as a hidden argument: the local
    /// the prologue keeps it in (`JitHost::context_local`).
    pub context_local: Option<u16>,
    /// A call token shared code will reach through a run-time lookup
    /// (`shared_lookup` said so): the next `method` answer for it gives the
    /// signature and is not refused.
    pub lookup_call: Option<u32>,
    /// The same for a static field token (`LookupKind::StaticField`).
    pub lookup_field: Option<u32>,
}

/// The loader's error as the JIT's: its kind kept, its message as is.
fn s(e: crate::Error) -> HostError {
    let m = e.to_string();
    match e {
        crate::Error::Unresolved { .. } => HostError::Unresolved(m),
        crate::Error::TypeLoad { .. } => HostError::TypeLoad(m),
        crate::Error::Unsupported { .. } => HostError::Unsupported(m),
        crate::Error::Malformed { .. } => HostError::Invalid(m),
        _ => HostError::Other(m),
    }
}

impl From<crate::Error> for HostError {
    fn from(e: crate::Error) -> Self {
        s(e)
    }
}

impl EngineHost<'_> {
    /// Whether shared code is asking about `t`, a type that stands for a
    /// different exact type in each instantiation running the code.
    fn varies(&self, t: TypeId) -> bool {
        self.shared && self.e.ts.mentions_canon(t)
    }

    /// The refusal of an answer shared code cannot use.
    /// Whether shared code must reach method `m` (of a call of `kind`)
    /// through a run-time lookup: it differs per instantiation, and it is
    /// neither dispatched through the receiver's vtable nor shared code
    /// itself (then it is called directly, `shared_callee`).
    fn call_lookup_needed(&mut self, m: MethodId, kind: LookupKind) -> bool {
        if !self.e.ts.method_mentions_canon(m) {
            return false;
        }
        let d = self.e.ts.method(m);
        let owner = d.owner;
        let owner_kind = self.e.ts.info(owner).kind;
        let value_owner = self.e.ts.info(owner).is_value_type();
        let gvm = d.generic_method_def.is_some() && d.flags & 0x20 == 0;
        // What `call_info` answers with an interface dispatch.
        let dispatched =
            d.is_virtual() && !value_owner && (gvm || owner_kind == TypeKind::Interface);
        let managed = d.rva != 0 && !d.is_internal_call() && d.pinvoke.is_none();
        match kind {
            LookupKind::InterfaceCall => dispatched && d.unresolved.is_none(),
            LookupKind::Call { virt } => {
                if virt && d.is_virtual() && !value_owner {
                    // Vtable dispatch needs nothing; interface dispatch was
                    // asked for as `InterfaceCall`.
                    return false;
                }
                managed && d.unresolved.is_none() && self.e.shared_callee(m).is_err()
            }
            _ => false,
        }
    }

    fn not_shareable(&self, what: &str, t: TypeId) -> HostError {
        HostError::Unsupported(format!(
            "shared generic code: {what} of {} needs the exact instantiation",
            self.e.ts.type_name(t)
        ))
    }

    fn rtype(&mut self, tok: Token) -> Result<TypeId, HostError> {
        match self.generic {
            Some(m) => self.e.ts.resolve_type_in(m, tok),
            None => self.e.ts.resolve_type(self.asm, tok),
        }
        .map_err(s)
    }

    fn rmethod(&mut self, tok: Token) -> Result<MethodId, HostError> {
        match self.generic {
            Some(m) => self.e.ts.resolve_method_in(m, tok),
            None => self.e.ts.resolve_method(self.asm, tok),
        }
        .map_err(s)
    }

    fn rfield(&mut self, tok: Token) -> Result<FieldId, HostError> {
        match self.generic {
            Some(m) => self.e.ts.resolve_field_in(m, tok),
            None => self.e.ts.resolve_field(self.asm, tok),
        }
        .map_err(s)
    }

    fn sig_of(&self, m: MethodId) -> Result<MethodSig, HostError> {
        let ts = &self.e.ts;
        let d = ts.method(m);
        let mut params = jit::host::Params::with_capacity(d.sig.params.len());
        for p in &d.sig.params {
            params.push(jit_type(ts, *p)?);
        }
        let native = d.is_internal_call() || d.pinvoke.is_some();
        Ok(MethodSig {
            has_this: d.sig.has_this,
            this_type: this_type(ts, d.owner),
            params,
            ret: jit_type(ts, d.sig.ret)?,
            conv: if native {
                CallConv::Native
            } else {
                CallConv::Managed
            },
        })
    }

    fn type_info_of(&mut self, t: TypeId) -> Result<TypeInfo, HostError> {
        if let Some(ti) = self.e.type_infos.get(t.0) {
            return Ok(*ti);
        }
        let ti = self.type_info_uncached(t)?;
        self.e.type_infos.insert(t.0, ti);
        Ok(ti)
    }

    fn type_info_uncached(&mut self, t: TypeId) -> Result<TypeInfo, HostError> {
        let ty = jit_type(&self.e.ts, t)?;
        let is_value_type = self.e.ts.info(t).is_value_type();
        let handle = self.e.ts.mt_address(t) as u64;
        let arr = self.e.ts.array_of(t).map_err(s)?;
        Ok(TypeInfo {
            ty,
            is_value_type,
            handle,
            array_handle: self.e.ts.mt_address(arr) as u64,
        })
    }

    fn call_info(&mut self, m: MethodId, virt: bool) -> Result<CallInfo, HostError> {
        if let Some(e) = &self.e.ts.method(m).unresolved {
            return Err(s((**e).clone()).with_message(format!("{}: {e}", self.e.method_name(m))));
        }
        let sig = self.sig_of(m)?;
        if let Some((kind, rank, elem)) = self.e.ts.array_method_kind(m) {
            return self.md_array_call_info(m, sig, kind, rank, elem);
        }
        let owner = self.e.ts.method(m).owner;
        if virt && self.e.ts.method(m).is_virtual() {
            // A virtual method's slot comes with its owner's vtable (the
            // interface helper reads an interface method's at run time).
            self.e.ts.complete(owner).map_err(s)?;
        }
        let d = self.e.ts.method(m);
        let owner_kind = self.e.ts.info(owner).kind;
        let native = d.is_internal_call() || d.pinvoke.is_some();
        let delegate_ctor = !native && d.rva == 0 && d.name == ".ctor" && self.e.is_delegate(owner);
        if delegate_ctor {
            let mut sig = sig;
            sig.conv = CallConv::Native;
            let target = CallTarget::Direct(helpers::delegate_ctor as *const () as u64);
            return Ok(CallInfo {
                sig,
                target,
                callee: m.0 as u64,
                owner: None,
            });
        }
        let target = if native {
            // The name is only built here: formatting it per call site was a
            // measurable share of compile time.
            let name = self.e.method_name(m);
            CallTarget::Direct(
                self.e
                    .native(&name)
                    .ok_or_else(|| format!("{name}: internal call not bound"))?,
            )
        } else if virt && d.is_virtual() && !self.e.ts.info(owner).is_value_type() {
            match (owner_kind, d.slot) {
                // A generic virtual method instance has no slot of its own: the
                // interface-lookup helper finds the receiver's override.
                _ if d.generic_method_def.is_some() && d.flags & 0x20 == 0 => {
                    CallTarget::Interface {
                        iface: m.0 as u64,
                        slot: 0,
                    }
                }
                (TypeKind::Interface, _) => CallTarget::Interface {
                    iface: m.0 as u64,
                    slot: 0,
                },
                (_, Some(slot)) => CallTarget::VirtualIndirect {
                    vtable_ptr_offset: MT_VTABLE_OFFSET as i32,
                    slot_offset: 8 * slot as i32,
                },
                _ => CallTarget::Indirect(self.e.cell(m)?),
            }
        } else {
            CallTarget::Indirect(self.e.cell(m)?)
        };
        Ok(CallInfo {
            sig,
            target,
            callee: m.0 as u64,
            owner: None,
        })
    }
}

impl EngineHost<'_> {
    /// A runtime method of a multi-dimensional array type (§II.14.2), which the
    /// JIT lowers inline.
    fn md_array_call_info(
        &mut self,
        m: MethodId,
        sig: MethodSig,
        kind: ArrayMethodKind,
        rank: u32,
        elem: TypeId,
    ) -> Result<CallInfo, HostError> {
        let owner = self.e.ts.method(m).owner;
        let op = match kind {
            ArrayMethodKind::Ctor => MdArrayOp::Ctor,
            ArrayMethodKind::Get => MdArrayOp::Get,
            ArrayMethodKind::Set => MdArrayOp::Set,
            ArrayMethodKind::Address => MdArrayOp::Address,
        };
        let a = MdArrayMethod {
            op,
            rank,
            elem: jit_type(&self.e.ts, elem)?,
            handle: self.e.ts.mt_address(owner) as u64,
            lengths_offset: crate::heap::MDARRAY_LENGTHS_OFFSET as i32,
            data_offset: crate::heap::mdarray_data_offset(rank as usize) as i32,
        };
        Ok(CallInfo {
            sig,
            target: CallTarget::MdArray(a),
            callee: m.0 as u64,
            owner: None,
        })
    }

    /// The JIT type of a signature element (stand-alone signatures of `calli`).
    fn sig_type(&mut self, t: &crate::metadata::sig::TypeSig) -> Result<JitType, HostError> {
        use crate::metadata::sig::TypeSig as S;
        Ok(match t {
            S::Prim(p) => {
                let id = self.e.ts.prim(*p).map_err(s)?;
                jit_type(&self.e.ts, id)?
            }
            S::Class(_) | S::SzArray(_) | S::Array { .. } => JitType::Obj,
            S::GenericInst {
                value_type: false, ..
            } => JitType::Obj,
            S::ValueType(tok) => {
                let id = self.rtype(*tok)?;
                jit_type(&self.e.ts, id)?
            }
            S::Ptr(_) | S::FnPtr(_) => JitType::Ptr,
            S::ByRef(_) => JitType::ByRef,
            _ => return Err("calli: generic signature elements are not supported".into()),
        })
    }
}

impl EngineHost<'_> {
    /// A constructor of System.String stands for the corlib's static
    /// `String.Ctor` with the same parameters, which allocates the string at
    /// its final length and returns it (strings have no empty state a
    /// constructor could fill in; .NET redirects them the same way). `newobj`
    /// calls a static callee as a factory. `None` for any other method;
    /// an error when corlib declares no matching `Ctor`.
    fn string_factory(&self, m: MethodId) -> Result<Option<MethodId>, HostError> {
        let d = self.e.ts.method(m);
        if d.name != ".ctor" || self.e.ts.info(d.owner).kind != TypeKind::String {
            return Ok(None);
        }
        let ts = &self.e.ts;
        ts.info(d.owner)
            .methods
            .iter()
            .copied()
            .find(|&f| {
                let c = ts.method(f);
                c.name == "Ctor" && c.is_static() && c.sig.params == d.sig.params
            })
            .map(Some)
            .ok_or_else(|| {
                let params: Vec<_> = d
                    .sig
                    .params
                    .iter()
                    .map(|&p| super::csnames::type_name(ts, p))
                    .collect();
                HostError::from(format!(
                    "constructor string({0}) is not available: corlib's System.String has no static Ctor({0})",
                    params.join(", ")
                ))
            })
    }

    fn method_uncached(
        &mut self,
        token: u32,
        virt: bool,
        looked_up: bool,
    ) -> Result<CallInfo, HostError> {
        if token == super::SYN_SELF_INVOKE {
            let owner = self
                .e
                .invoke_owner
                .ok_or("synthetic call outside a delegate")?;
            let inv = self
                .e
                .ts
                .find_method(owner, "Invoke")
                .ok_or("delegate without Invoke")?;
            return self.call_info(inv, false);
        }
        let m = self.rmethod(Token(token))?;
        if let Some(factory) = self.string_factory(m)? {
            return self.call_info(factory, false);
        }
        let mut ci = self.call_info(m, virt)?;
        let owner = self.e.ts.method(m).owner;
        let varies = self.shared && self.e.ts.method_mentions_canon(m);
        if varies && !looked_up {
            match ci.target {
                // The receiver's own vtable holds its exact method.
                CallTarget::VirtualIndirect { .. } => {}
                CallTarget::Indirect(_) => self
                    .e
                    .shared_callee(m)
                    .map_err(|e| self.not_shareable(&format!("call ({e})"), owner))?,
                _ => return Err(self.not_shareable("call", owner)),
            }
        }
        // A constructor of a varying class keeps no owner: `newobj` then
        // looks the class up (`NewObjOwner`), or fails and the caller gets
        // its own code; a base-constructor `call` is an ordinary call. A
        // varying value type's `newobj` needs only its layout, the same in
        // every instantiation, when its constructor is looked up.
        if self.e.ts.method(m).name == ".ctor" {
            if !varies {
                self.e.ensure_vtable(owner)?;
                ci.owner = Some(self.type_info_of(owner)?);
            } else if looked_up && self.e.ts.info(owner).is_value_type() {
                ci.owner = Some(self.type_info_of(owner)?);
            }
        }
        Ok(ci)
    }
}

impl EngineHost<'_> {
    /// The inlinable body of method `m` (`jit::codegen::inline::parse_body`
    /// over its IL, fields resolved in `m`'s own module and generic
    /// context), or `None`; not cached.
    fn inline_body_uncached(&mut self, m: MethodId) -> Result<Option<InlineBody>, HostError> {
        let d = self.e.ts.method(m);
        // NoInlining 0x08, Synchronized 0x20 (§II.23.1.11); statics may
        // need their class constructor run first, constructors theirs.
        let refused = d.unresolved.is_some()
            || d.rva == 0
            || d.is_static()
            || d.is_internal_call()
            || d.pinvoke.is_some()
            || d.impl_flags & 0x28 != 0
            || d.name == ".ctor"
            || d.name == ".cctor";
        if refused {
            return Ok(None);
        }
        let (asm, nargs) = (d.asm, 1 + d.sig.params.len());
        let generic = !d.method_args.is_empty() || !self.e.ts.info(d.owner).type_args.is_empty();
        let mut il = [0u8; jit::codegen::inline::MAX_IL];
        let len = match self.e.ts.method_body(m).map_err(s)? {
            Some(b) if b.eh.is_empty() && b.local_var_sig.is_null() && b.code.len() <= il.len() => {
                il[..b.code.len()].copy_from_slice(b.code);
                b.code.len()
            }
            _ => return Ok(None),
        };
        // The shape first, with a stand-in for every field: most bodies fail
        // it, and resolving their field tokens would load types for nothing.
        let stand_in = FieldInfo {
            ty: JitType::I4,
            offset: 0,
            static_addr: None,
            class_init: None,
        };
        if jit::codegen::inline::parse_body(&il[..len], nargs, |_| Ok(Some(stand_in)))?.is_none() {
            return Ok(None);
        }
        let ts = &mut self.e.ts;
        jit::codegen::inline::parse_body(&il[..len], nargs, |tok| {
            let f = match generic {
                true => ts.resolve_field_in(m, Token(tok)),
                false => ts.resolve_field(asm, Token(tok)),
            }
            .map_err(s)?;
            if ts.field(f).is_static() {
                return Ok(None);
            }
            let (offset, ft) = ts.field_offset(f);
            Ok(Some(FieldInfo {
                ty: jit_type(ts, ft)?,
                offset,
                static_addr: None,
                class_init: None,
            }))
        })
    }
}

impl JitHost for EngineHost<'_> {
    fn inline_body(&mut self, token: u32, callee: u64) -> Result<Option<InlineBody>, HostError> {
        // MethodDef, MemberRef, MethodSpec: not the engine's synthetic tokens.
        // `callee` is the method `call_info` answered with (`m.0`): the token
        // is not resolved again (that was ~5% of compile time).
        if !matches!(token >> 24, 0x06 | 0x0A | 0x2B) || callee > u32::MAX as u64 {
            return Ok(None);
        }
        let m = MethodId(callee as u32);
        if self.shared && self.e.ts.method_mentions_canon(m) {
            return Ok(None);
        }
        if let Some(b) = self.e.inline_bodies.get(m.0) {
            return Ok(b.as_deref().cloned());
        }
        // A body that cannot be read or whose fields do not resolve is not
        // inlined: the call stays, and compiling the callee reports the
        // error under the callee's own name when it is first called.
        let b = self.inline_body_uncached(m).unwrap_or(None);
        self.e.inline_bodies.insert(m.0, b.clone().map(Box::new));
        Ok(b)
    }

    fn object_layout(&self) -> ObjectLayout {
        ObjectLayout {
            method_table_offset: crate::heap::OBJ_MT_OFFSET as i32,
            array_length_offset: crate::heap::ARRAY_LENGTH_OFFSET as i32,
            array_data_offset: crate::heap::ARRAY_DATA_OFFSET as i32,
            box_data_offset: crate::heap::OBJ_HEADER_SIZE as i32,
        }
    }

    fn helper(&self, h: Helper) -> u64 {
        super::helper_table::address(h)
    }

    fn method(&mut self, token: u32, virt: bool) -> Result<CallInfo, HostError> {
        let Some((slot, row)) =
            super::call_info_slot(self.asm.0, token, virt).filter(|_| self.generic.is_none())
        else {
            let looked_up = self.lookup_call.take() == Some(token);
            return self.method_uncached(token, virt, looked_up);
        };
        if let Some(ci) = self.e.call_infos.get(slot).and_then(|m| m.get(row)) {
            return Ok((**ci).clone());
        }
        let ci = self.method_uncached(token, virt, false)?;
        if self.e.call_infos.len() <= slot {
            self.e.call_infos.resize_with(slot + 1, IdMap::new);
        }
        self.e.call_infos[slot].insert(row, Box::new(ci.clone()));
        Ok(ci)
    }

    fn constrained(
        &mut self,
        type_token: u32,
        method_token: u32,
    ) -> Result<Constrained, HostError> {
        let t = self.rtype(Token(type_token))?;
        let m = self.rmethod(Token(method_token))?;
        if !self.e.ts.info(t).is_value_type() {
            return Ok(Constrained::DerefThis);
        }
        if self.varies(t) {
            return Err(self.not_shareable("constrained call", t));
        }
        // The value type's vtable and interface maps, and the slot of `m`.
        self.e.ts.complete(t).map_err(s)?;
        let owner = self.e.ts.method(m).owner;
        self.e.ts.complete(owner).map_err(s)?;
        let d = self.e.ts.method(m);
        let implementing = if !d.is_virtual() {
            Some(m)
        } else if self.e.ts.info(d.owner).kind == TypeKind::Interface {
            self.e
                .ts
                .interface_slot(t, m)
                .ok()
                .and_then(|slot| self.e.ts.vtable_method(t, slot))
        } else {
            d.slot.and_then(|slot| self.e.ts.vtable_method(t, slot))
        };
        match implementing {
            Some(im) if self.e.ts.method(im).owner == t => {
                Ok(Constrained::Direct(Box::new(self.call_info(im, false)?)))
            }
            _ => {
                self.e.ensure_vtable(t)?;
                Ok(Constrained::BoxThis(self.type_info_of(t)?))
            }
        }
    }

    fn signature(&mut self, token: u32) -> Result<MethodSig, HostError> {
        if token == super::SYN_INVOKE_INSTANCE_SIG || token == super::SYN_INVOKE_STATIC_SIG {
            let owner = self
                .e
                .invoke_owner
                .ok_or("synthetic signature outside a delegate")?;
            let inv = self
                .e
                .ts
                .find_method(owner, "Invoke")
                .ok_or("delegate without Invoke")?;
            let mut sig = self.sig_of(inv)?;
            sig.has_this = token == super::SYN_INVOKE_INSTANCE_SIG;
            sig.this_type = JitType::Obj;
            return Ok(sig);
        }
        let parsed = {
            let md = self.e.ts.metadata(self.asm).map_err(s)?;
            let row: crate::metadata::StandAloneSigRow = md.row(Token(token).row()).map_err(s)?;
            crate::metadata::sig::parse_method(md.blob(row.signature).map_err(s)?).map_err(s)?
        };
        let mut params = jit::host::Params::with_capacity(parsed.params.len());
        for p in &parsed.params {
            params.push(self.sig_type(p)?);
        }
        let ret = self.sig_type(&parsed.ret)?;
        // Low 4 bits 1–4: unmanaged C/stdcall/thiscall/fastcall (all SysV here).
        let native = (1..=4).contains(&(parsed.call_conv & 0xF));
        Ok(MethodSig {
            has_this: parsed.has_this && !parsed.explicit_this,
            this_type: JitType::Obj,
            params,
            ret,
            conv: if native {
                CallConv::Native
            } else {
                CallConv::Managed
            },
        })
    }

    fn field(&mut self, token: u32) -> Result<FieldInfo, HostError> {
        if token == super::SYN_DELEGATE_PREV {
            return Ok(FieldInfo {
                ty: JitType::Obj,
                offset: self.e.delegate_prev_field()?,
                static_addr: None,
                class_init: None,
            });
        }
        if token == super::SYN_DELEGATE_TARGET || token == super::SYN_DELEGATE_METHOD {
            let (t, m) = self.e.delegate_fields()?;
            let (ty, offset) = if token == super::SYN_DELEGATE_TARGET {
                (JitType::Obj, t)
            } else {
                (JitType::I, m)
            };
            return Ok(FieldInfo {
                ty,
                offset,
                static_addr: None,
                class_init: None,
            });
        }
        let f: FieldId = self.rfield(Token(token))?;
        let (offset, ft) = self.e.ts.field_offset(f);
        let ty = jit_type(&self.e.ts, ft)?;
        let d = self.e.ts.field(f);
        if !d.is_static() {
            return Ok(FieldInfo {
                ty,
                offset,
                static_addr: None,
                class_init: None,
            });
        }
        let owner = d.owner;
        if self.varies(owner) {
            if self.lookup_field.take() == Some(token) {
                // Its address is looked up at run time.
                return Ok(FieldInfo {
                    ty,
                    offset: 0,
                    static_addr: None,
                    class_init: None,
                });
            }
            return Err(self.not_shareable("static field", owner));
        }
        let addr = self.e.ts.static_field_address(f).map_err(s)? as u64;
        let mt = self.e.ts.mt(owner);
        let class_init = if mt.cctor_state.load(core::sync::atomic::Ordering::SeqCst) != CCTOR_DONE
        {
            Some(ClassInit {
                flag_addr: self.e.ts.mt_address(owner) as u64 + MT_CCTOR_STATE_OFFSET as u64,
                handle: owner.0 as u64,
            })
        } else {
            None
        };
        Ok(FieldInfo {
            ty,
            offset: 0,
            static_addr: Some(addr),
            class_init,
        })
    }

    fn type_info(&mut self, token: u32) -> Result<TypeInfo, HostError> {
        let t = self.rtype(Token(token))?;
        if self.varies(t) {
            return Err(self.not_shareable("type handle", t));
        }
        if !self.e.ts.info(t).is_value_type() {
            self.e.ensure_vtable(t)?;
        }
        self.type_info_of(t)
    }

    fn type_shape(&mut self, token: u32) -> Result<TypeInfo, HostError> {
        let t = self.rtype(Token(token))?;
        if !self.varies(t) {
            return self.type_info(token);
        }
        // Same size, alignment and reference map in every instantiation;
        // the handles are the canonical type's, which the JIT does not use
        // for these instructions.
        self.type_info_of(t)
    }

    fn context_local(&self) -> Option<u16> {
        self.context_local
    }

    fn shared_lookup(&mut self, token: u32, kind: LookupKind) -> Result<Option<u32>, HostError> {
        let (true, Some(c)) = (self.shared, self.generic) else {
            return Ok(None);
        };
        let varies = match kind {
            LookupKind::TypeHandle | LookupKind::ArrayHandle => {
                let t = self.rtype(Token(token))?;
                // A `Nullable<T>` boxes and unboxes by its own rules, which
                // need `T` at compile time.
                let nullable = self.e.ts.info(t).generic_def.is_some_and(|d| {
                    let d = self.e.ts.info(d);
                    d.namespace == "System" && d.name == "Nullable`1"
                });
                self.e.ts.mentions_canon(t) && !nullable
            }
            LookupKind::NewObjOwner => {
                let m = self.rmethod(Token(token))?;
                let owner = self.e.ts.method(m).owner;
                self.e.ts.method(m).name == ".ctor"
                    && !self.e.ts.info(owner).is_value_type()
                    && !self.e.is_delegate(owner)
                    && self.e.ts.mentions_canon(owner)
            }
            LookupKind::StaticField | LookupKind::StaticClass => {
                let f = self.rfield(Token(token))?;
                let d = self.e.ts.field(f);
                let owner = d.owner;
                let varying = d.is_static() && !d.is_literal() && self.e.ts.mentions_canon(owner);
                if kind == LookupKind::StaticField {
                    if varying {
                        self.lookup_field = Some(token);
                    }
                    varying
                } else {
                    varying && self.e.ts.info(owner).cctor.is_some()
                }
            }
            LookupKind::InterfaceCall | LookupKind::Call { .. } => {
                let m = self.rmethod(Token(token))?;
                let call = self.call_lookup_needed(m, kind);
                if call {
                    self.lookup_call = Some(token);
                }
                call
            }
        };
        Ok(varies.then(|| self.e.lookup_key(c, kind, token)))
    }

    fn nullable(&mut self, token: u32) -> Result<Option<NullableInfo>, HostError> {
        let t = self.rtype(Token(token))?;
        if self.varies(t) {
            return Err(self.not_shareable("Nullable", t));
        }
        let info = self.e.ts.info(t);
        let Some(def) = info.generic_def else {
            return Ok(None);
        };
        let d = self.e.ts.info(def);
        if d.namespace != "System" || d.name != "Nullable`1" || info.type_args.len() != 1 {
            return Ok(None);
        }
        let vt = info.type_args[0];
        let (Some(hv), Some(v)) = (
            self.e.ts.find_field(t, "hasValue"),
            self.e.ts.find_field(t, "value"),
        ) else {
            return Err("System.Nullable`1 without hasValue/value fields".into());
        };
        self.e.ensure_vtable(vt)?;
        let key = self.e.ts.mt(vt).unbox_key;
        Ok(Some(NullableInfo {
            has_value_offset: self.e.ts.field_offset(hv).0,
            value_offset: self.e.ts.field_offset(v).0,
            value: self.type_info_of(vt)?,
            unbox_key: (key != 0).then_some((crate::types::MT_UNBOX_KEY_OFFSET as i32, key)),
        }))
    }

    fn unbox_key(&mut self, token: u32) -> Result<Option<(i32, u32)>, HostError> {
        let t = self.rtype(Token(token))?;
        if self.varies(t) {
            return Err(self.not_shareable("unbox", t));
        }
        let key = self.e.ts.mt(t).unbox_key;
        Ok((key != 0).then_some((crate::types::MT_UNBOX_KEY_OFFSET as i32, key)))
    }

    fn dispatch_cell(&mut self) -> Option<u64> {
        Some(self.e.dispatch_cell())
    }

    fn string_literal(&mut self, token: u32) -> Result<u64, HostError> {
        // A literal is never allocated through `new_object`, which is where vtables
        // are filled: without this, `"y".ToString()` calls through an empty slot.
        let st = self
            .e
            .ts
            .prim(crate::metadata::sig::Prim::String)
            .map_err(s)?;
        self.e.ensure_vtable(st)?;
        self.e
            .ts
            .string_literal(self.asm, Token(token))
            .map(|a| a as u64)
            .map_err(s)
    }

    fn gc_ref_offsets(&self, handle: u64) -> Option<&[u32]> {
        if handle == 0 {
            return None;
        }
        // SAFETY: struct handles given to the JIT are MethodTable addresses
        // of laid-out value types (`StructLayout::handle`, from this host).
        // The type system owns them (boxed, never freed or moved while the
        // engine lives), and the slice returned borrows `self`, so nothing
        // can restage the type while the caller reads it.
        let mt = unsafe { &*(handle as *const crate::types::MethodTable) };
        // `gc_refs` lists object references only: a value holding a managed
        // pointer (a `ref` field) is reported word by word instead.
        if has_byref_field(&self.e.ts, crate::types::TypeId(mt.type_id), 0) {
            return None;
        }
        Some(&mt.info.gc_refs)
    }

    fn token_handle(&mut self, token: u32) -> Result<u64, HostError> {
        Ok(
            match match self.generic {
                Some(m) => self.e.ts.resolve_token_in(m, Token(token)),
                None => self.e.ts.resolve_token(self.asm, Token(token)),
            }
            .map_err(s)?
            {
                Resolved::Type(t) if self.varies(t) => return Err(self.not_shareable("ldtoken", t)),
                Resolved::Field(f) if self.varies(self.e.ts.field(f).owner) => {
                    return Err(self.not_shareable("ldtoken", self.e.ts.field(f).owner))
                }
                Resolved::Method(m) if self.shared && self.e.ts.method_mentions_canon(m) => {
                    return Err(self.not_shareable("ldtoken", self.e.ts.method(m).owner))
                }
                Resolved::Type(t) => self.e.ts.mt_address(t) as u64,
                Resolved::Field(f) => FIELD_HANDLE_TAG | f.0 as u64,
                Resolved::Method(m) => METHOD_HANDLE_TAG | m.0 as u64,
            },
        )
    }
}

/// Whether value type `t` holds a managed pointer in an instance field, its
/// own or a nested value's (unknown depth counts as yes).
fn has_byref_field(ts: &crate::types::TypeSystem, t: crate::types::TypeId, depth: u32) -> bool {
    if depth > 16 {
        return true;
    }
    ts.info(t).fields.iter().any(|f| {
        let d = ts.field(*f);
        if d.flags & 0x10 != 0 {
            return false; // static
        }
        let fi = ts.info(d.ty);
        fi.kind == TypeKind::ByRef
            || (fi.is_value_type() && d.ty != t && has_byref_field(ts, d.ty, depth + 1))
    })
}
