//! The type system, staging: a type brought up in order (parent, members,
//! layout, vtable and interface map, statics) into its [`MethodTable`].

use super::*;

impl TypeSystem {
    // ------------------------------------------------------------------ stages

    pub(super) fn stage_parent(&mut self, t: TypeId, depth: u32) -> Result<()> {
        let i = self.info(t);
        let kind_in = i.kind;
        if let Some(e) = i.element {
            // Arrays derive from System.Array; pointers and byrefs have no parent.
            let parent = match kind_in {
                TypeKind::SzArray | TypeKind::Array => Some(self.corlib_type("System", "Array")?),
                _ => None,
            };
            self.ensure(e, ST_PARENT, depth + 1)?;
            if let Some(p) = parent {
                self.ensure(p, ST_PARENT, depth + 1)?;
            }
            let eaddr = self.mt_address(e);
            let paddr = parent.map(|p| self.mt_address(p)).unwrap_or(0);
            let m = &mut self.types[t.0 as usize];
            m.info.parent = parent;
            m.element = eaddr;
            m.parent = paddr;
            if matches!(kind_in, TypeKind::SzArray | TypeKind::Array) {
                m.flags |= MT_FLAG_ARRAY;
            }
            return Ok(());
        }
        let Some(a) = i.asm else {
            return Ok(()); // FnPtr / generic parameters
        };
        let def = i.generic_def.unwrap_or(t);
        let ctx = i.type_args.clone();
        let (extends, attrs) = {
            let drow = self.info(def).token.row();
            let md = self.metadata(a)?;
            let r: TypeDefRow = md.row(drow)?;
            (Token(r.extends), r.flags)
        };
        let parent = if extends.is_null() {
            None
        } else {
            let p = self.resolve_type_ctx(a, extends, &ctx, depth + 1)?;
            self.ensure(p, ST_PARENT, depth + 1)?;
            Some(p)
        };
        let corlib = self.corlib == Some(a);
        let value_type = self.corlib_type("System", "ValueType").ok();
        let enum_t = self.corlib_type("System", "Enum").ok();
        let mut kind = if attrs & 0x20 != 0 {
            TypeKind::Interface
        } else if parent.is_some() && parent == enum_t {
            TypeKind::Enum
        } else if parent.is_some() && parent == value_type && Some(def) != enum_t {
            TypeKind::ValueType
        } else {
            TypeKind::Class
        };
        let (ns, name) = (&self.info(def).namespace, &self.info(def).name);
        if corlib && ns == "System" {
            if name == "String" {
                kind = TypeKind::String;
            } else if kind == TypeKind::ValueType {
                if let Some(p) = Prim::ALL.iter().find(|p| {
                    p.corlib_name() == name
                        && !matches!(p, Prim::String | Prim::Object | Prim::TypedByRef)
                }) {
                    kind = TypeKind::Primitive(*p);
                }
            }
        }
        let paddr = parent.map(|p| self.mt_address(p)).unwrap_or(0);
        let m = &mut self.types[t.0 as usize];
        m.info.parent = parent;
        m.info.kind = kind;
        m.parent = paddr;
        m.flags |= match kind {
            TypeKind::Interface => MT_FLAG_INTERFACE,
            TypeKind::Enum => MT_FLAG_VALUE_TYPE | MT_FLAG_ENUM,
            TypeKind::ValueType => MT_FLAG_VALUE_TYPE,
            TypeKind::Primitive(_) => MT_FLAG_VALUE_TYPE | MT_FLAG_PRIMITIVE,
            TypeKind::String => MT_FLAG_STRING,
            _ => 0,
        };
        if attrs & 0x80 != 0 {
            m.flags |= MT_FLAG_ABSTRACT;
        }
        if attrs & 0x0010_0000 != 0 {
            m.flags |= MT_FLAG_BEFOREFIELDINIT;
        }
        if m.info.generic_params > 0 && m.info.type_args.is_empty() {
            m.flags |= MT_FLAG_GENERIC_DEF;
        }
        Ok(())
    }

    /// Makes `ty` ready to be stored in a location: its kind, and for value types
    /// their layout (reference types need no layout to be referenced).
    pub(super) fn ensure_storable(&mut self, ty: TypeId, depth: u32) -> Result<()> {
        self.ensure(ty, ST_PARENT, depth + 1)?;
        if self.info(ty).is_value_type() {
            self.ensure(ty, ST_PARENT | ST_MEMBERS | ST_LAYOUT, depth + 1)?;
        }
        Ok(())
    }

    pub(super) fn corlib_type(&self, ns: &str, name: &str) -> Result<TypeId> {
        let known = match (ns, name) {
            ("System", "ValueType") => self.well_known.value_type,
            ("System", "Enum") => self.well_known.enum_,
            ("System", "Array") => self.well_known.array,
            _ => None,
        };
        if let Some(t) = known {
            return Ok(t);
        }
        let c = self.corlib.ok_or_else(|| Error::Unresolved {
            what: "corlib",
            name: "mscorlib".into(),
        })?;
        self.lookup_def(c, ns, name)
            .ok_or_else(|| Error::Unresolved {
                what: "corlib type",
                name: format!("{ns}.{name}"),
            })
    }

    pub(super) fn stage_members(&mut self, t: TypeId, depth: u32) -> Result<()> {
        // A type's member signatures never take the method type arguments of
        // whatever method is being compiled when the type is first needed.
        let saved = core::mem::take(&mut self.mctx);
        let r = self.stage_members_in(t, depth);
        self.mctx = saved;
        r
    }

    fn stage_members_in(&mut self, t: TypeId, depth: u32) -> Result<()> {
        let i = self.info(t);
        let Some(a) = i.asm else { return Ok(()) };
        if i.element.is_some() {
            return Ok(());
        }
        let def = i.generic_def.unwrap_or(t);
        let ctx = i.type_args.clone();
        let inst = i.generic_def.is_some();
        let drow = self.info(def).token.row();
        let (field_rows, method_rows) = {
            let md = self.metadata(a)?;
            (
                md.list(TableId::TypeDef, drow, 4, TableId::Field)?,
                md.list(TableId::TypeDef, drow, 5, TableId::MethodDef)?,
            )
        };
        // An instance of a definition whose members are staged: its members
        // are the definition's with the type arguments substituted, no
        // signature parsed or resolved again.
        let def_info = self.info(def);
        if inst
            && def_info.state & ST_MEMBERS != 0
            && def_info.fields.len() == field_rows.len()
            && def_info.methods.len() == method_rows.len()
        {
            return self.stage_members_of_instance(t, def, &ctx, depth);
        }
        let octx = self.open_ctx(def)?;
        let mut fields = Vec::new();
        for fr in field_rows {
            let (flags, name, fsig, rva) = {
                let ai = &self.asms[a.0 as usize];
                let md = ai.asm.md();
                let r: FieldRow = md.row(fr)?;
                let s = sig::parse_field(md.blob(r.signature)?)
                    .map_err(|e| e.at_row(TableId::Field, fr))?;
                let rva = match at(&ai.field_rva, fr).copied().flatten() {
                    Some(rva) => Some(
                        md.layout()
                            .pe
                            .rva_to_offset(rva)
                            .map_err(|e| e.at_row(TableId::FieldRva, fr))?,
                    ),
                    None => None,
                };
                (r.flags as u16, Name::from(md.string(r.name)?), s, rva)
            };
            let ty = self.resolve_sig(a, &fsig, &ctx, depth + 1)?;
            let f = FieldId(self.fields.len() as u32);
            self.fields.push(FieldDesc {
                owner: t,
                asm: a,
                token: Token::new(TableId::Field, fr),
                name,
                flags,
                ty,
                offset: 0,
                rva_data: rva.map(|o| (o, 0)),
            });
            if !inst {
                if let Some(s) = self.asms[a.0 as usize]
                    .fields
                    .get_mut((fr as usize).wrapping_sub(1))
                {
                    *s = Some(f);
                }
            }
            fields.push(f);
        }
        let mut methods = Vec::new();
        let mut cctor = None;
        for mr in method_rows {
            let (r, name, msig, pinvoke) = {
                let ai = &self.asms[a.0 as usize];
                let md = ai.asm.md();
                let r: MethodDefRow = md.row(mr)?;
                let s = sig::parse_method(md.blob(r.signature)?)
                    .map_err(|e| e.at_row(TableId::MethodDef, mr))?;
                (
                    r,
                    Name::from(md.string(r.name)?),
                    s,
                    at(&ai.impl_map, mr).cloned().flatten(),
                )
            };
            let resolved = self.method_sig(a, &msig, &ctx, depth + 1).and_then(|s| {
                let s = Arc::new(s);
                if inst {
                    Ok((Arc::new(self.method_sig(a, &msig, &octx, depth + 1)?), s))
                } else {
                    Ok((s.clone(), s))
                }
            });
            let (open_sig, sig_, unresolved) = match resolved {
                Ok((o, s)) => (o, s, None),
                // A member nobody may ever call must not sink the whole assembly.
                Err(e @ (Error::Unresolved { .. } | Error::TypeLoad { .. })) => {
                    let p = Arc::new(self.placeholder_sig(
                        msig.has_this,
                        msig.generic_params,
                        msig.call_conv,
                    )?);
                    (p.clone(), p, Some(Box::new(e)))
                }
                Err(e) => return Err(e),
            };
            let m = MethodId(self.methods.len() as u32);
            if name == ".cctor" && r.flags & 0x10 != 0 {
                cctor = Some(m);
            }
            self.methods.push(MethodDesc {
                owner: t,
                asm: a,
                token: Token::new(TableId::MethodDef, mr),
                name,
                flags: r.flags as u16,
                impl_flags: r.impl_flags as u16,
                rva: r.rva,
                sig: sig_,
                open_sig,
                slot: None,
                pinvoke: pinvoke.map(Box::new),
                entry: AtomicUsize::new(0),
                method_args: Vec::new(),
                generic_method_def: None,
                unresolved,
            });
            if !inst {
                if let Some(s) = self.asms[a.0 as usize]
                    .methods
                    .get_mut((mr as usize).wrapping_sub(1))
                {
                    *s = Some(m);
                }
            }
            methods.push(m);
        }
        let mut ifaces = Vec::new();
        let itoks = at(&self.asms[a.0 as usize].interface_impls, drow)
            .cloned()
            .unwrap_or_default();
        for it in itoks {
            let i = self.resolve_type_ctx(a, it, &ctx, depth + 1)?;
            ifaces.push(i);
        }
        self.set_members(t, fields, methods, cctor, ifaces, drow, a);
        Ok(())
    }

    /// Stores what `stage_members` found in `t`'s record.
    #[allow(clippy::too_many_arguments)]
    fn set_members(
        &mut self,
        t: TypeId,
        fields: Vec<FieldId>,
        methods: Vec<MethodId>,
        cctor: Option<MethodId>,
        ifaces: Vec<TypeId>,
        drow: u32,
        a: AsmId,
    ) {
        let (pack, csize) = at(&self.asms[a.0 as usize].class_layout, drow)
            .copied()
            .flatten()
            .unwrap_or((0, 0));
        let m = &mut self.types[t.0 as usize];
        m.info.fields = fields;
        m.info.methods = methods;
        m.info.cctor = cctor;
        m.info.declared_interfaces = ifaces;
        m.info.packing = pack;
        m.info.class_size = csize;
        if cctor.is_some() {
            m.flags |= MT_FLAG_HAS_CCTOR;
            m.cctor_state.store(CCTOR_PENDING, Ordering::Relaxed);
        }
    }

    /// `stage_members` for an instance `t` of `def` (members staged) with
    /// type arguments `ctx`: each field and method copied from the
    /// definition's, types substituted ([`TypeSystem::subst`]); the same
    /// records the signature path gives.
    fn stage_members_of_instance(
        &mut self,
        t: TypeId,
        def: TypeId,
        ctx: &[TypeId],
        depth: u32,
    ) -> Result<()> {
        let a = self
            .info(def)
            .asm
            .ok_or_else(|| tl(&self.type_name(def), "no assembly"))?;
        let drow = self.info(def).token.row();
        let def_fields = self.info(def).fields.clone();
        let mut fields = Vec::with_capacity(def_fields.len());
        for df in def_fields {
            let d = &self.fields[df.0 as usize];
            let (token, name, flags, open_ty, rva) =
                (d.token, d.name.clone(), d.flags, d.ty, d.rva_data);
            let ty = self.subst(open_ty, ctx, depth + 1)?;
            let f = FieldId(self.fields.len() as u32);
            self.fields.push(FieldDesc {
                owner: t,
                asm: a,
                token,
                name,
                flags,
                ty,
                offset: 0,
                rva_data: rva.map(|(o, _)| (o, 0)),
            });
            fields.push(f);
        }
        let def_methods = self.info(def).methods.clone();
        let mut methods = Vec::with_capacity(def_methods.len());
        let mut cctor = None;
        for dm in def_methods {
            let d = &self.methods[dm.0 as usize];
            let (token, name, flags, impl_flags, rva, pinvoke, unresolved) = (
                d.token,
                d.name.clone(),
                d.flags,
                d.impl_flags,
                d.rva,
                d.pinvoke.clone(),
                d.unresolved.clone(),
            );
            let open_sig = d.open_sig.clone();
            let (open_sig, sig_, unresolved) = if unresolved.is_some() {
                // The definition's placeholder: nothing to substitute.
                (open_sig.clone(), open_sig, unresolved)
            } else {
                match self.subst_sig_shared(&open_sig, ctx, depth + 1) {
                    Ok(s) => (open_sig, s, None),
                    // As on the signature path: a member nobody may ever
                    // call must not sink the type; both signatures become
                    // the placeholder.
                    Err(e @ (Error::Unresolved { .. } | Error::TypeLoad { .. })) => {
                        let p = Arc::new(self.placeholder_sig(
                            open_sig.has_this,
                            open_sig.generic_params,
                            open_sig.call_conv,
                        )?);
                        (p.clone(), p, Some(Box::new(e)))
                    }
                    Err(e) => return Err(e),
                }
            };
            let m = MethodId(self.methods.len() as u32);
            if name == ".cctor" && flags & 0x10 != 0 {
                cctor = Some(m);
            }
            self.methods.push(MethodDesc {
                owner: t,
                asm: a,
                token,
                name,
                flags,
                impl_flags,
                rva,
                sig: sig_,
                open_sig,
                slot: None,
                pinvoke,
                entry: AtomicUsize::new(0),
                method_args: Vec::new(),
                generic_method_def: None,
                unresolved,
            });
            methods.push(m);
        }
        let def_ifaces = self.info(def).declared_interfaces.clone();
        let mut ifaces = Vec::with_capacity(def_ifaces.len());
        for it in def_ifaces {
            ifaces.push(self.subst(it, ctx, depth + 1)?);
        }
        self.set_members(t, fields, methods, cctor, ifaces, drow, a);
        Ok(())
    }

    pub(super) fn stage_layout(&mut self, t: TypeId, depth: u32) -> Result<()> {
        let kind = self.info(t).kind;
        match kind {
            TypeKind::Ptr | TypeKind::ByRef | TypeKind::FnPtr | TypeKind::GenericParam { .. } => {
                let m = &mut self.types[t.0 as usize];
                m.info.size = 8;
                m.info.align = 8;
                return Ok(());
            }
            TypeKind::SzArray | TypeKind::Array => {
                let e = self
                    .info(t)
                    .element
                    .ok_or_else(|| tl(&self.type_name(t), "array without element type"))?;
                self.ensure_storable(e, depth)?;
                let el = self.value_layout(e)?;
                let rank = self.mt(t).rank;
                let base = if kind == TypeKind::SzArray {
                    heap::ARRAY_DATA_OFFSET as u32
                } else {
                    // Multi-dimensional: count, then rank lengths and lower bounds.
                    heap::mdarray_data_offset(rank as usize) as u32
                };
                let is_ref = !el.is_value_type;
                let m = &mut self.types[t.0 as usize];
                m.component_size = el.size;
                m.base_size = base;
                m.info.size = base;
                m.info.align = 8;
                if !el.gc_refs.is_empty() {
                    m.flags |= MT_FLAG_HAS_GC_REFS;
                }
                if is_ref && !el.gc_refs.is_empty() {
                    m.flags |= MT_FLAG_ELEM_IS_REF;
                }
                return Ok(());
            }
            _ => {}
        }
        let parent = self.info(t).parent;
        if let Some(p) = parent {
            self.ensure(p, ST_PARENT | ST_MEMBERS | ST_LAYOUT, depth + 1)?;
        }
        let is_vt = self.info(t).is_value_type();
        let attrs = self.info(t).attrs;
        let explicit = attrs & 0x18 == 0x10;
        let pack = match self.info(t).packing {
            0 => 8,
            p if p.is_power_of_two() && p <= 128 => p as u32,
            _ => {
                return Err(tl(
                    &self.type_name(t),
                    "ClassLayout packing size is not a power of two",
                ))
            }
        };
        let class_size = self.info(t).class_size;
        let (start, mut align) = match (is_vt, parent) {
            (true, _) => (0u32, 1u32),
            (false, Some(p)) => (
                self.info(p).size.max(heap::OBJ_HEADER_SIZE as u32),
                self.info(p).align.max(1),
            ),
            (false, None) => (heap::OBJ_HEADER_SIZE as u32, 8),
        };
        let mut gc_refs = match (is_vt, parent) {
            (false, Some(p)) => self.info(p).gc_refs.clone(),
            _ => Vec::new(),
        };
        let mut end = start;
        let (asm, fields) = (self.info(t).asm, self.info(t).fields.clone());
        for f in fields {
            let (ty, fl, tok) = {
                let d = self.field(f);
                (d.ty, d.flags, d.token)
            };
            if fl & 0x10 != 0 {
                continue; // static
            }
            if let TypeKind::Primitive(p) = kind {
                // System.Int32 { int m_value; } — the field is the value itself.
                let m = &mut self.fields[f.0 as usize];
                m.offset = 0;
                end = p.size();
                align = p.size().max(1);
                continue;
            }
            self.ensure_storable(ty, depth).map_err(|e| match e {
                Error::TypeLoad { reason, .. } if reason.starts_with("circular") => tl(
                    &self.type_name(t),
                    format!(
                        "field `{}` makes the type contain itself",
                        self.field(f).name
                    ),
                ),
                e => e,
            })?;
            let fl_ = self.value_layout(ty)?;
            let falign = fl_.align.min(pack).max(1);
            let off = if explicit {
                let ai = &self.asms[asm.map(|a| a.0).unwrap_or(0) as usize];
                let o = at(&ai.field_layout, tok.row())
                    .copied()
                    .flatten()
                    .ok_or_else(|| {
                        tl(
                            &self.type_name(t),
                            format!(
                                "explicit layout without FieldOffset for `{}`",
                                self.field(f).name
                            ),
                        )
                    })?;
                if !fl_.gc_refs.is_empty() && (o % 8 != 0) {
                    return Err(tl(
                        &self.type_name(t),
                        format!(
                            "object reference field `{}` at misaligned offset {o}",
                            self.field(f).name
                        ),
                    ));
                }
                start
                    .checked_add(o)
                    .ok_or_else(|| tl(&self.type_name(t), "field offset overflow"))?
            } else {
                align_up(end, falign).ok_or_else(|| tl(&self.type_name(t), "size overflow"))?
            };
            let fend = off
                .checked_add(fl_.size)
                .ok_or_else(|| tl(&self.type_name(t), "size overflow"))?;
            end = end.max(fend);
            align = align.max(falign);
            for r in &fl_.gc_refs {
                gc_refs.push(off + r);
            }
            self.fields[f.0 as usize].offset = off;
        }
        let mut size;
        if let TypeKind::Primitive(_) = kind {
            size = end;
        } else if is_vt {
            size = if end == 0 {
                1
            } else {
                align_up(end, align).ok_or_else(|| tl(&self.type_name(t), "size overflow"))?
            };
            if class_size > 0 {
                size = size.max(class_size);
                if class_size >= end && !explicit {
                    // An explicit Size wins over alignment padding (PciAddress: 3).
                    size = class_size.max(end);
                }
            }
        } else {
            size = end;
            if class_size > 0 {
                size = size.max(start + class_size);
            }
            size = align_up(size, align).ok_or_else(|| tl(&self.type_name(t), "size overflow"))?;
        }
        if kind == TypeKind::String {
            // The string layout is a runtime contract (heap.rs diagram).
            let ok = self
                .info(t)
                .fields
                .iter()
                .filter(|f| !self.field(**f).is_static())
                .map(|f| self.field(*f).offset)
                .eq([
                    heap::STRING_LENGTH_OFFSET as u32,
                    heap::STRING_CHARS_OFFSET as u32,
                ]);
            if !ok
                && self
                    .info(t)
                    .fields
                    .iter()
                    .any(|f| !self.field(*f).is_static())
            {
                return Err(tl(
                    &self.type_name(t),
                    "System.String must declare `int m_length; char m_firstChar;`",
                ));
            }
        }
        let base_size = match kind {
            TypeKind::String => heap::STRING_CHARS_OFFSET as u32 + 2,
            TypeKind::Interface => 0,
            _ if is_vt => align_up(heap::OBJ_HEADER_SIZE as u32 + size, 8)
                .ok_or_else(|| tl(&self.type_name(t), "size overflow"))?,
            _ => align_up(size, 8).ok_or_else(|| tl(&self.type_name(t), "size overflow"))?,
        };
        let m = &mut self.types[t.0 as usize];
        m.info.size = size;
        m.info.align = align;
        m.info.gc_refs = gc_refs;
        if !m.info.gc_refs.is_empty() {
            m.flags |= MT_FLAG_HAS_GC_REFS;
        }
        m.base_size = base_size;
        if kind == TypeKind::String {
            m.component_size = 2;
        }
        Ok(())
    }

    pub(super) fn stage_vtable(&mut self, t: TypeId, depth: u32) -> Result<()> {
        let i = self.info(t);
        let parent = i.parent;
        let kind = i.kind;
        let abstract_ = i.attrs & 0x80 != 0 || kind == TypeKind::Interface;
        if let Some(p) = parent {
            self.ensure(p, ST_PARENT | ST_MEMBERS | ST_VTABLE, depth + 1)?;
        }
        let mut slots: Vec<MethodId> = match parent {
            Some(p) if kind != TypeKind::Interface => self.info(p).vslots.clone(),
            _ => Vec::new(),
        };
        let methods = self.info(t).methods.clone();
        for m in &methods {
            let d = self.method(*m);
            if !d.is_virtual() {
                continue;
            }
            let newslot = d.flags & 0x100 != 0;
            let mut slot = None;
            if !newslot && kind != TypeKind::Interface {
                for (s, cand) in slots.iter().enumerate().rev() {
                    let c = self.method(*cand);
                    if c.name == d.name && c.sig == d.sig {
                        slot = Some(s as u32);
                        break;
                    }
                }
            }
            let s = match slot {
                Some(s) => {
                    slots[s as usize] = *m;
                    s
                }
                None => {
                    slots.push(*m);
                    (slots.len() - 1) as u32
                }
            };
            self.methods[m.0 as usize].slot = Some(s);
        }
        // MethodImpl overrides of class methods (interface ones are mapped below).
        let impls = self.method_impls(t)?;
        for (body, decl) in &impls {
            let dd = self.method(*decl);
            if self.info(dd.owner).kind == TypeKind::Interface {
                continue;
            }
            if let Some(s) = dd.slot {
                if let Some(x) = slots.get_mut(s as usize) {
                    *x = *body;
                }
            }
        }
        // Interfaces: inherited maps, then declared interfaces and their bases.
        let mut maps: Vec<InterfaceMap> = match parent {
            Some(p) => self.info(p).interfaces.clone(),
            None => Vec::new(),
        };
        let mut todo = self.info(t).declared_interfaces.clone();
        let mut seen = Vec::new();
        while let Some(it) = todo.pop() {
            if seen.contains(&it) {
                continue;
            }
            seen.push(it);
            if it == t {
                return Err(tl(&self.type_name(t), "interface inherits itself"));
            }
            self.ensure(it, ST_PARENT | ST_MEMBERS | ST_VTABLE, depth + 1)?;
            if self.info(it).kind != TypeKind::Interface {
                return Err(tl(
                    &self.type_name(t),
                    format!(
                        "implements `{}`, which is not an interface",
                        self.type_name(it)
                    ),
                ));
            }
            todo.extend(self.info(it).declared_interfaces.iter().copied());
            if kind == TypeKind::Interface {
                maps.push(InterfaceMap {
                    iface: it,
                    slots: Vec::new(),
                });
                continue;
            }
            let imethods = self.info(it).vslots.clone();
            let inherited = maps.iter().position(|m| m.iface == it);
            let mut map = Vec::with_capacity(imethods.len());
            for (k, im) in imethods.iter().enumerate() {
                let imd = self.method(*im);
                let mut found = impls
                    .iter()
                    .find(|(_, d)| d == im)
                    .and_then(|(b, _)| self.method(*b).slot);
                if found.is_none() {
                    found = slots
                        .iter()
                        .enumerate()
                        .rev()
                        .find(|(_, c)| {
                            let c = self.method(**c);
                            c.name == imd.name && c.sig == imd.sig && c.flags & 0x7 == 0x6
                        })
                        .map(|(s, _)| s as u32);
                }
                if found.is_none() {
                    found = inherited.and_then(|p| maps[p].slots.get(k).copied().flatten());
                }
                if found.is_none() && !abstract_ {
                    return Err(tl(
                        &self.type_name(t),
                        format!("does not implement `{}::{}`", self.type_name(it), imd.name),
                    ));
                }
                map.push(found);
            }
            match inherited {
                Some(p) => maps[p].slots = map,
                None => maps.push(InterfaceMap {
                    iface: it,
                    slots: map,
                }),
            }
        }
        let words: Box<[AtomicUsize]> = slots.iter().map(|_| AtomicUsize::new(0)).collect();
        let m = &mut self.types[t.0 as usize];
        m.vtable_len = words.len() as u32;
        m.vtable = words.as_ptr() as usize;
        m.info.slots = words;
        m.info.vslots = slots;
        m.info.interfaces = maps;
        Ok(())
    }

    pub(super) fn method_impls(&mut self, t: TypeId) -> Result<Vec<(MethodId, MethodId)>> {
        let i = self.info(t);
        let Some(a) = i.asm else {
            return Ok(Vec::new());
        };
        if i.element.is_some() {
            return Ok(Vec::new());
        }
        let def = i.generic_def.unwrap_or(t);
        let ctx = i.type_args.clone();
        let inst_methods = i.methods.clone();
        let drow = self.info(def).token.row();
        let rows = at(&self.asms[a.0 as usize].method_impls, drow)
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::new();
        for (b, d) in rows {
            let mut body = self.resolve_method_inner(a, b, &ctx)?;
            if def != t {
                // The row names the definition's method; use this instance's copy.
                let tok = self.method(body).token;
                if let Some(m) = inst_methods
                    .iter()
                    .copied()
                    .find(|m| self.method(*m).token == tok)
                {
                    body = m;
                }
            }
            let decl = self.resolve_method_inner(a, d, &ctx)?;
            out.push((body, decl));
        }
        Ok(out)
    }

    pub(super) fn stage_statics(&mut self, t: TypeId, depth: u32) -> Result<()> {
        let mut end = 0u32;
        let mut refs = Vec::new();
        let mut inits: Vec<(u32, usize, usize)> = Vec::new();
        for f in self.info(t).fields.clone() {
            let d = self.field(f);
            if !d.is_static() || d.is_literal() {
                continue;
            }
            let (ty, rva) = (d.ty, d.rva_data);
            self.ensure_storable(ty, depth)?;
            let l = self.value_layout(ty)?;
            let off = align_up(end, l.align.min(8))
                .ok_or_else(|| tl(&self.type_name(t), "static size overflow"))?;
            end = off
                .checked_add(l.size)
                .ok_or_else(|| tl(&self.type_name(t), "static size overflow"))?;
            refs.extend(l.gc_refs.iter().map(|r| off + r));
            self.fields[f.0 as usize].offset = off;
            if let Some((foff, _)) = rva {
                self.fields[f.0 as usize].rva_data = Some((foff, l.size as usize));
                inits.push((off, foff, l.size as usize));
            }
        }
        if end == 0 {
            return Ok(());
        }
        let words = (end as usize).div_ceil(8);
        let mut block: Box<[u64]> = vec![0u64; words].into_boxed_slice();
        if let Some(a) = self.info(t).asm {
            let bytes = self.asms[a.0 as usize].asm.bytes();
            for (off, foff, len) in inits {
                let src = crate::bytes::slice(bytes, foff, len, "FieldRVA data")
                    .map_err(|_| tl(&self.type_name(t), "FieldRVA data outside the file"))?;
                for (k, b) in src.iter().enumerate() {
                    let p = off as usize + k;
                    block[p / 8] |= (*b as u64) << ((p % 8) * 8);
                }
            }
        }
        let m = &mut self.types[t.0 as usize];
        m.statics = block.as_ptr() as usize;
        m.info.statics_size = end;
        m.info.static_gc_refs = refs;
        m.info.statics_block = block;
        Ok(())
    }

    /// Marks a type's `.cctor` as running / done (called by the execution engine).
    pub fn set_cctor_state(&self, t: TypeId, state: u32) {
        self.mt(t).cctor_state.store(state, Ordering::Release);
    }
}
