//! The type system, resolution: tokens (TypeRef, TypeSpec, MemberRef,
//! MethodSpec) and signatures resolved to types and methods across the
//! loaded assemblies, generic instances constructed on the way.

use super::load::new_info;
use super::*;

impl TypeSystem {
    // ------------------------------------------------------- type resolution

    pub(super) fn resolve_type_ctx(
        &mut self,
        a: AsmId,
        tok: Token,
        ctx: &[TypeId],
        depth: u32,
    ) -> Result<TypeId> {
        if depth > MAX_DEPTH {
            return Err(Error::malformed("type reference chain too deep", 0));
        }
        let ai = self
            .asms
            .get(a.0 as usize)
            .ok_or_else(|| Error::Unresolved {
                what: "assembly id",
                name: format!("{}", a.0),
            })?;
        match tok.table() {
            Some(TableId::TypeDef) => ai
                .typedefs
                .get((tok.row() as usize).wrapping_sub(1))
                .copied()
                .ok_or(Error::in_row(
                    "TypeDef token out of range",
                    TableId::TypeDef,
                    tok.row(),
                    0,
                )),
            Some(TableId::TypeRef) => {
                if let Some(Some(t)) = ai.typerefs.get((tok.row() as usize).wrapping_sub(1)) {
                    return Ok(*t);
                }
                let t = self.resolve_typeref(a, tok.row(), depth)?;
                if let Some(slot) = self.asms[a.0 as usize]
                    .typerefs
                    .get_mut((tok.row() as usize).wrapping_sub(1))
                {
                    *slot = Some(t);
                }
                Ok(t)
            }
            Some(TableId::TypeSpec) => {
                let slot = (tok.row() as usize).wrapping_sub(1);
                let plain = ctx.is_empty() && self.mctx.is_empty();
                if plain {
                    if let Some(Some(t)) = ai.typespecs.get(slot) {
                        return Ok(*t);
                    }
                }
                let md = ai.asm.md();
                let r: TypeSpecRow = md.row(tok.row())?;
                let s = sig::parse_type_spec(md.blob(r.signature)?)
                    .map_err(|e| e.at_row(TableId::TypeSpec, tok.row()))?;
                let t = self.resolve_sig(a, &s, ctx, depth + 1)?;
                if plain {
                    if let Some(c) = self.asms[a.0 as usize].typespecs.get_mut(slot) {
                        *c = Some(t);
                    }
                }
                Ok(t)
            }
            _ => Err(Error::Unresolved {
                what: "type token",
                name: format!("{tok}"),
            }),
        }
    }

    pub(super) fn resolve_typeref(&mut self, a: AsmId, rid: u32, depth: u32) -> Result<TypeId> {
        let (scope, ns, name) = {
            let md = self.asms[a.0 as usize].asm.md();
            let r: TypeRefRow = md.row(rid)?;
            (
                Token(r.scope),
                md.string(r.namespace)?.to_string(),
                md.string(r.name)?.to_string(),
            )
        };
        let not_found = |asm: &str| Error::Unresolved {
            what: "type",
            name: if ns.is_empty() {
                format!("{name} in assembly {asm}")
            } else {
                format!("{ns}.{name} in assembly {asm}")
            },
        };
        match scope.table() {
            Some(TableId::AssemblyRef) => {
                let aname = {
                    let md = self.asms[a.0 as usize].asm.md();
                    let r: AssemblyRefRow = md.row(scope.row())?;
                    md.string(r.name)?.to_string()
                };
                let target = match self.find_assembly(&aname) {
                    Some(t) => t,
                    None if CORLIB_NAMES.contains(&aname.as_str()) => {
                        self.corlib.ok_or_else(|| not_found(&aname))?
                    }
                    None => {
                        return Err(Error::Unresolved {
                            what: "assembly (load it first)",
                            name: aname,
                        })
                    }
                };
                match self.lookup_def(target, &ns, &name) {
                    Some(t) => Ok(t),
                    None => self
                        .forwarded_type(target, &ns, &name)?
                        .ok_or_else(|| not_found(&aname)),
                }
            }
            Some(TableId::TypeRef) => {
                let outer = self.resolve_type_ctx(a, scope, &[], depth + 1)?;
                let (oa, orid) = {
                    let i = self.info(outer);
                    (i.asm.ok_or_else(|| not_found("?"))?, i.token.row())
                };
                let ai = &self.asms[oa.0 as usize];
                let rid = ai
                    .nested
                    .get(&(orid, name.clone()))
                    .ok_or_else(|| not_found(&ai.name))?;
                ai.typedefs
                    .get((*rid as usize).wrapping_sub(1))
                    .copied()
                    .ok_or_else(|| not_found("?"))
            }
            _ => {
                // Module, ModuleRef or null scope: this assembly.
                let n = self.asms[a.0 as usize].name.clone();
                self.lookup_def(a, &ns, &name).ok_or_else(|| not_found(&n))
            }
        }
    }

    pub(super) fn resolve_sig(
        &mut self,
        a: AsmId,
        s: &TypeSig,
        ctx: &[TypeId],
        depth: u32,
    ) -> Result<TypeId> {
        if depth > MAX_DEPTH {
            return Err(Error::malformed("type signature too deep", 0));
        }
        match s {
            TypeSig::Prim(p) => self.prim(*p),
            TypeSig::Class(t) | TypeSig::ValueType(t) => {
                self.resolve_type_ctx(a, *t, ctx, depth + 1)
            }
            TypeSig::Ptr(e) => {
                let e = self.resolve_sig(a, e, ctx, depth + 1)?;
                self.constructed_type(Key::Ptr(e))
            }
            TypeSig::ByRef(e) => {
                let e = self.resolve_sig(a, e, ctx, depth + 1)?;
                self.constructed_type(Key::ByRef(e))
            }
            TypeSig::SzArray(e) => {
                let e = self.resolve_sig(a, e, ctx, depth + 1)?;
                self.constructed_type(Key::SzArray(e))
            }
            TypeSig::Array { elem, rank, .. } => {
                let e = self.resolve_sig(a, elem, ctx, depth + 1)?;
                self.constructed_type(Key::Array(e, *rank))
            }
            TypeSig::FnPtr(_) => self.constructed_type(Key::FnPtr),
            TypeSig::Var(n) => match ctx.get(*n as usize) {
                Some(t) => Ok(*t),
                None => self.constructed_type(Key::Param(false, *n)),
            },
            TypeSig::MVar(n) => match self.mctx.get(*n as usize) {
                Some(t) => Ok(*t),
                None => self.constructed_type(Key::Param(true, *n)),
            },
            TypeSig::GenericInst { def, args, .. } => {
                let d = self.resolve_type_ctx(a, *def, ctx, depth + 1)?;
                let mut targs = TypeArgs::with_capacity(args.len());
                for x in args {
                    targs.push(self.resolve_sig(a, x, ctx, depth + 1)?);
                }
                if self.info(d).generic_params as usize != targs.len() {
                    return Err(tl(&self.type_name(d), "generic argument count mismatch"));
                }
                self.constructed_type(Key::Inst(d, targs))
            }
        }
    }

    /// `t` with the type generic parameters (`!n`) replaced by `ctx`; method
    /// generic parameters (`!!n`) stay open. For a type resolved from a
    /// signature with the open parameters, this is the type the same
    /// signature resolves to with `ctx` (`resolve_sig`): the same keys, hence
    /// the same constructed types.
    pub(super) fn subst(&mut self, t: TypeId, ctx: &[TypeId], depth: u32) -> Result<TypeId> {
        if self.mt(t).flags & MT_FLAG_GENERIC_DEF == 0 {
            return Ok(t);
        }
        if depth > MAX_DEPTH {
            return Err(Error::malformed("type signature too deep", 0));
        }
        let i = self.info(t);
        let (kind, elem, def) = (i.kind, i.element, i.generic_def);
        let key = match (kind, elem, def) {
            (
                TypeKind::GenericParam {
                    method: false,
                    index,
                },
                _,
                _,
            ) => {
                return Ok(ctx.get(index as usize).copied().unwrap_or(t));
            }
            (TypeKind::SzArray, Some(e), _) => Key::SzArray(self.subst(e, ctx, depth + 1)?),
            (TypeKind::Array, Some(e), _) => {
                let rank = self.mt(t).rank;
                Key::Array(self.subst(e, ctx, depth + 1)?, rank)
            }
            (TypeKind::Ptr, Some(e), _) => Key::Ptr(self.subst(e, ctx, depth + 1)?),
            (TypeKind::ByRef, Some(e), _) => Key::ByRef(self.subst(e, ctx, depth + 1)?),
            (_, _, Some(d)) => {
                let args = TypeArgs::from_slice(&self.info(t).type_args);
                let mut targs = TypeArgs::with_capacity(args.len());
                for x in args {
                    targs.push(self.subst(x, ctx, depth + 1)?);
                }
                Key::Inst(d, targs)
            }
            // Method parameters, generic definitions named bare.
            _ => return Ok(t),
        };
        self.constructed_type(key)
    }

    /// `s` with the type generic parameters replaced by `ctx` ([`Self::subst`]):
    /// the same `Arc` back when the substitution changes no type (members
    /// that do not mention the owner's parameters), so instances allocate
    /// nothing for them.
    pub(super) fn subst_sig_shared(
        &mut self,
        s: &Arc<Sig>,
        ctx: &[TypeId],
        depth: u32,
    ) -> Result<Arc<Sig>> {
        let ret = self.subst(s.ret, ctx, depth)?;
        let mut params: Option<Vec<TypeId>> = None;
        for (i, &p) in s.params.iter().enumerate() {
            let q = self.subst(p, ctx, depth)?;
            match &mut params {
                Some(v) => v.push(q),
                None if q != p => {
                    let mut v = Vec::with_capacity(s.params.len());
                    v.extend_from_slice(&s.params[..i]);
                    v.push(q);
                    params = Some(v);
                }
                None => {}
            }
        }
        if ret == s.ret && params.is_none() {
            return Ok(s.clone());
        }
        Ok(Arc::new(Sig {
            has_this: s.has_this,
            ret,
            params: params.unwrap_or_else(|| s.params.clone()),
            generic_params: s.generic_params,
            call_conv: s.call_conv,
        }))
    }

    pub(super) fn constructed_type(&mut self, key: Key) -> Result<TypeId> {
        let hk = (key.fingerprint(), key);
        if let Some(t) = self.constructed.get(&hk) {
            return Ok(*t);
        }
        let (h, key) = hk;
        let (kind, elem, name) = match &key {
            Key::SzArray(e) => (TypeKind::SzArray, Some(*e), String::new()),
            Key::Array(e, _) => (TypeKind::Array, Some(*e), String::new()),
            Key::Ptr(e) => (TypeKind::Ptr, Some(*e), String::new()),
            Key::ByRef(e) => (TypeKind::ByRef, Some(*e), String::new()),
            Key::FnPtr => (TypeKind::FnPtr, None, "method*".to_string()),
            Key::Param(m, i) => (
                TypeKind::GenericParam {
                    method: *m,
                    index: *i,
                },
                None,
                format!("{}{}", if *m { "!!" } else { "!" }, i),
            ),
            Key::Inst(d, _) => (TypeKind::Class, None, self.info(*d).name.clone()),
        };
        let nest = match &key {
            Key::SzArray(e) | Key::Array(e, _) | Key::Ptr(e) | Key::ByRef(e) => self.info(*e).nest,
            Key::Inst(_, args) => args.iter().map(|a| self.info(*a).nest).max().unwrap_or(0),
            _ => 0,
        }
        .saturating_add(1);
        if nest > MAX_CONSTRUCTED_NEST {
            return Err(tl(
                &name,
                "constructed type nested too deeply (infinite generic expansion?)",
            ));
        }
        let open = match &key {
            Key::Param(..) => true,
            Key::SzArray(e) | Key::Array(e, _) | Key::Ptr(e) | Key::ByRef(e) => {
                self.mt(*e).flags & MT_FLAG_GENERIC_DEF != 0
            }
            Key::Inst(_, args) => args
                .iter()
                .any(|a| self.mt(*a).flags & MT_FLAG_GENERIC_DEF != 0),
            Key::FnPtr => false,
        };
        let mut ti = new_info(String::new(), name, kind);
        ti.nest = nest;
        ti.element = elem;
        if let Key::Inst(d, args) = &key {
            let di = self.info(*d);
            ti.namespace = di.namespace.clone();
            ti.asm = di.asm;
            ti.attrs = di.attrs;
            ti.enclosing = di.enclosing;
            ti.generic_params = di.generic_params;
            ti.generic_def = Some(*d);
            ti.type_args = args.to_vec();
        } else if let Some(e) = elem {
            ti.asm = self.info(e).asm;
            ti.namespace = self.info(e).namespace.clone();
        }
        if !matches!(key, Key::Inst(..)) {
            ti.state = 0;
        }
        let t = self.push_type(ti);
        if open {
            self.types[t.0 as usize].flags |= MT_FLAG_GENERIC_DEF;
        }
        if let Key::Array(_, r) = key {
            self.types[t.0 as usize].rank = r;
        } else if let Key::SzArray(_) = key {
            self.types[t.0 as usize].rank = 1;
        }
        self.constructed.insert((h, key), t);
        self.ensure(t, ST_PARENT, 0)?;
        Ok(t)
    }

    pub(super) fn method_sig(
        &mut self,
        a: AsmId,
        s: &sig::MethodSig,
        ctx: &[TypeId],
        depth: u32,
    ) -> Result<Sig> {
        let ret = self.resolve_sig(a, &s.ret, ctx, depth + 1)?;
        let mut params = Vec::with_capacity(s.params.len());
        for p in &s.params {
            params.push(self.resolve_sig(a, p, ctx, depth + 1)?);
        }
        Ok(Sig {
            has_this: s.has_this,
            ret,
            params,
            generic_params: s.generic_params,
            call_conv: s.call_conv,
        })
    }

    /// The stand-in signature of a method whose types do not resolve: its shape
    /// (instance, generic arity, convention) with no parameters and a void return.
    pub(super) fn placeholder_sig(
        &self,
        has_this: bool,
        generic_params: u32,
        call_conv: u8,
    ) -> Result<Sig> {
        Ok(Sig {
            has_this,
            ret: self.prim(Prim::Void)?,
            params: Vec::new(),
            generic_params,
            call_conv,
        })
    }

    pub(super) fn open_ctx(&mut self, def: TypeId) -> Result<Vec<TypeId>> {
        let n = self.info(def).generic_params;
        (0..n)
            .map(|i| self.constructed_type(Key::Param(false, i)))
            .collect()
    }

    pub(super) fn resolve_method_inner(
        &mut self,
        a: AsmId,
        tok: Token,
        ctx: &[TypeId],
    ) -> Result<MethodId> {
        match tok.table() {
            Some(TableId::MethodDef) => {
                self.ensure_def_owner(a, tok, true)?;
                let ai = self
                    .asms
                    .get(a.0 as usize)
                    .ok_or_else(|| Error::Unresolved {
                        what: "assembly",
                        name: String::new(),
                    })?;
                let m = ai
                    .methods
                    .get((tok.row() as usize).wrapping_sub(1))
                    .copied()
                    .flatten()
                    .ok_or(Error::in_row(
                        "MethodDef token",
                        TableId::MethodDef,
                        tok.row(),
                        0,
                    ))?;
                let owner = self.method(m).owner;
                match self.instance_for(owner, ctx)? {
                    Some(inst) => Ok(self
                        .info(inst)
                        .methods
                        .iter()
                        .copied()
                        .find(|x| self.method(*x).token == tok)
                        .unwrap_or(m)),
                    None => Ok(m),
                }
            }
            Some(TableId::MemberRef) => {
                let (class, name, blob) = {
                    let md = self.metadata(a)?;
                    let r: MemberRefRow = md.row(tok.row())?;
                    (
                        Token(r.class),
                        md.string(r.name)?.to_string(),
                        md.blob(r.signature)?.to_vec(),
                    )
                };
                let msig = sig::parse_method(&blob)
                    .map_err(|e| e.at_row(TableId::MemberRef, tok.row()))?;
                if class.table() == Some(TableId::MethodDef) {
                    return self.resolve_method_inner(a, class, ctx);
                }
                let owner = self.member_ref_owner(a, class, &name, ctx)?;
                self.ensure(owner, ST_MEMBERS, 0)?;
                let def = self.info(owner).generic_def.unwrap_or(owner);
                let octx = self.open_ctx(def)?;
                let want = self.method_sig(a, &msig, &octx, 0)?;
                let mut cur = Some(owner);
                while let Some(c) = cur {
                    self.ensure(c, ST_MEMBERS, 0)?;
                    let found = self.info(c).methods.iter().copied().find(|&m| {
                        let d = self.method(m);
                        d.name == name && *d.open_sig == want
                    });
                    if let Some(m) = found {
                        return Ok(m);
                    }
                    cur = self.info(c).parent;
                }
                if let Some(m) = self.array_runtime_method(owner, &name, &want)? {
                    return Ok(m);
                }
                Err(Error::Unresolved {
                    what: "method",
                    name: format!("{}::{}", self.type_name(owner), name),
                })
            }
            Some(TableId::MethodSpec) => self.method_spec(a, tok, ctx),
            _ => Err(Error::Unresolved {
                what: "method token",
                name: format!("{tok}"),
            }),
        }
    }

    /// The instance `owner<ctx>` when `owner` is a generic definition taking
    /// `ctx.len()` arguments (a Field/MethodDef token used inside generic code).
    pub(super) fn instance_for(&mut self, owner: TypeId, ctx: &[TypeId]) -> Result<Option<TypeId>> {
        let i = self.info(owner);
        if ctx.is_empty() || i.generic_def.is_some() || i.generic_params as usize != ctx.len() {
            return Ok(None);
        }
        let inst = self.constructed_type(Key::Inst(owner, TypeArgs::from_slice(ctx)))?;
        self.ensure(inst, ST_PARENT | ST_MEMBERS, 0)?;
        Ok(Some(inst))
    }

    /// A generic method instance (MethodSpec, §II.22.29): the method's signature
    /// re-resolved with the method type arguments.
    pub(super) fn method_spec(&mut self, a: AsmId, tok: Token, ctx: &[TypeId]) -> Result<MethodId> {
        let (mtok, inst_blob) = {
            let md = self.metadata(a)?;
            let r: MethodSpecRow = md.row(tok.row())?;
            (Token(r.method), md.blob(r.instantiation)?.to_vec())
        };
        let generic = self.resolve_method_inner(a, mtok, ctx)?;
        let args_sig = sig::parse_method_spec(&inst_blob)
            .map_err(|e| e.at_row(TableId::MethodSpec, tok.row()))?;
        let mut args = Vec::with_capacity(args_sig.len());
        for s in &args_sig {
            args.push(self.resolve_sig(a, s, ctx, 0)?);
        }
        if self.method(generic).sig.generic_params as usize != args.len() {
            return Err(Error::Unresolved {
                what: "generic method instantiation (argument count)",
                name: self.method(generic).name.to_string(),
            });
        }
        self.instantiate_method(generic, args)
    }

    /// Creates the members of the TypeDef owning a MethodDef/Field row if needed.
    pub(super) fn ensure_def_owner(&mut self, a: AsmId, tok: Token, method: bool) -> Result<()> {
        let Some(ai) = self.asms.get(a.0 as usize) else {
            return Ok(());
        };
        let owners = if method {
            &ai.method_owner
        } else {
            &ai.field_owner
        };
        let Some(&o) = owners.get((tok.row() as usize).wrapping_sub(1)) else {
            return Ok(());
        };
        if let Some(&t) = ai.typedefs.get((o as usize).wrapping_sub(1)) {
            self.ensure(t, ST_PARENT | ST_MEMBERS, 0)?;
        }
        Ok(())
    }

    pub(super) fn member_ref_owner(
        &mut self,
        a: AsmId,
        class: Token,
        name: &str,
        ctx: &[TypeId],
    ) -> Result<TypeId> {
        match class.table() {
            Some(TableId::TypeDef | TableId::TypeRef | TableId::TypeSpec) => {
                self.resolve_type_ctx(a, class, ctx, 0)
            }
            Some(TableId::ModuleRef) => {
                self.lookup_def(a, "", "<Module>")
                    .ok_or_else(|| Error::Unresolved {
                        what: "global member",
                        name: name.to_string(),
                    })
            }
            _ => Err(Error::Unresolved {
                what: "member reference parent",
                name: name.to_string(),
            }),
        }
    }

    pub(super) fn resolve_field_inner(
        &mut self,
        a: AsmId,
        tok: Token,
        ctx: &[TypeId],
    ) -> Result<FieldId> {
        match tok.table() {
            Some(TableId::Field) => {
                self.ensure_def_owner(a, tok, false)?;
                let ai = self
                    .asms
                    .get(a.0 as usize)
                    .ok_or_else(|| Error::Unresolved {
                        what: "assembly",
                        name: String::new(),
                    })?;
                let f = ai
                    .fields
                    .get((tok.row() as usize).wrapping_sub(1))
                    .copied()
                    .flatten()
                    .ok_or(Error::in_row("Field token", TableId::Field, tok.row(), 0))?;
                // Inside a generic type, a FieldDef names the field of the instance.
                let owner = self.field(f).owner;
                match self.instance_for(owner, ctx)? {
                    Some(inst) => Ok(self
                        .info(inst)
                        .fields
                        .iter()
                        .copied()
                        .find(|x| self.field(*x).token == tok)
                        .unwrap_or(f)),
                    None => Ok(f),
                }
            }
            Some(TableId::MemberRef) => {
                let (class, name) = {
                    let md = self.metadata(a)?;
                    let r: MemberRefRow = md.row(tok.row())?;
                    (Token(r.class), md.string(r.name)?.to_string())
                };
                let owner = self.member_ref_owner(a, class, &name, ctx)?;
                self.ensure(owner, ST_MEMBERS, 0)?;
                self.find_field(owner, &name)
                    .ok_or_else(|| Error::Unresolved {
                        what: "field",
                        name: format!("{}::{}", self.type_name(owner), name),
                    })
            }
            _ => Err(Error::Unresolved {
                what: "field token",
                name: format!("{tok}"),
            }),
        }
    }
}
