//! The type system, loading: an assembly added to the set (identity, table
//! indexes with their cross-reference checks, type records), undone when a
//! load fails.

use super::*;

impl TypeSystem {
    // ---------------------------------------------------------------- loading

    /// Loads an assembly. Referenced assemblies must be loaded first (corlib first).
    /// On error nothing of the assembly remains loaded.
    pub fn load(&mut self, bytes: Vec<u8>) -> Result<AsmId> {
        let asm = Assembly::parse(bytes)?;
        let marks = (
            self.asms.len(),
            self.types.len(),
            self.methods.len(),
            self.fields.len(),
            self.corlib,
            self.prims,
            self.well_known,
        );
        let r = self.load_inner(asm);
        if r.is_err() {
            self.asms.truncate(marks.0);
            self.types.truncate(marks.1);
            self.methods.truncate(marks.2);
            self.fields.truncate(marks.3);
            self.corlib = marks.4;
            self.prims = marks.5;
            self.well_known = marks.6;
            let n = marks.1 as u32;
            self.constructed.retain(|_, v| v.0 < n);
            for a in &mut self.asms {
                for t in &mut a.typespecs {
                    if t.is_some_and(|t| t.0 >= n) {
                        *t = None;
                    }
                }
            }
            self.by_mt_addr.retain(|(_, v)| v.0 < n);
            let nm = marks.2 as u32;
            self.method_insts.retain(|(g, _), v| g.0 < nm && v.0 < nm);
            self.pending = self.types.len();
        }
        r
    }

    pub(super) fn load_inner(&mut self, asm: Assembly) -> Result<AsmId> {
        let id = AsmId(self.asms.len() as u32);
        let info = index_assembly(asm)?;
        if self.find_assembly(&info.name).is_some() {
            return Err(Error::Unsupported {
                what: "loading an assembly twice",
                detail: info.name,
            });
        }
        let ntypes;
        {
            let md = info.asm.md();
            ntypes = md.row_count(TableId::TypeDef);
        }
        self.asms.push(info);
        // Create a placeholder MethodTable for every TypeDef.
        for rid in 1..=ntypes {
            let (ns, name, attrs, gp) = {
                let a = &self.asms[id.0 as usize];
                let md = a.asm.md();
                let r: TypeDefRow = md.row(rid)?;
                (
                    md.string(r.namespace)?.to_string(),
                    md.string(r.name)?.to_string(),
                    r.flags,
                    at(&a.generic_counts, rid).copied().unwrap_or(0),
                )
            };
            let mut ti = new_info(ns, name, TypeKind::Class);
            ti.asm = Some(id);
            ti.token = Token::new(TableId::TypeDef, rid);
            ti.attrs = attrs;
            ti.generic_params = gp;
            let t = self.push_type(ti);
            self.asms[id.0 as usize].typedefs.push(t);
        }
        // Nesting.
        let enc: Vec<(u32, u32)> = self.asms[id.0 as usize]
            .enclosing
            .iter()
            .zip(1u32..)
            .filter(|(e, _)| **e != 0)
            .map(|(e, n)| (n, *e))
            .collect();
        for (n, e) in enc {
            let a = &self.asms[id.0 as usize];
            let (Some(nt), Some(et)) = (
                a.typedefs.get((n as usize).wrapping_sub(1)).copied(),
                a.typedefs.get((e as usize).wrapping_sub(1)).copied(),
            ) else {
                return Err(Error::in_row(
                    "NestedClass row names a missing TypeDef",
                    TableId::NestedClass,
                    0,
                    0,
                ));
            };
            self.types[nt.0 as usize].info.enclosing = Some(et);
            let ns = self.info(et).namespace.clone();
            self.types[nt.0 as usize].info.namespace = ns;
        }
        // The corlib: the assembly defining System.Object without a base type.
        if self.corlib.is_none() {
            if let Some(obj) = self.lookup_def(id, "System", "Object") {
                let md = self.asms[id.0 as usize].asm.md();
                let r: TypeDefRow = md.row(self.info(obj).token.row())?;
                if Token(r.extends).is_null() {
                    self.corlib = Some(id);
                    for p in Prim::ALL {
                        if let Some(t) = self.lookup_def(id, "System", p.corlib_name()) {
                            self.prims[p as usize] = Some(t);
                        }
                    }
                    self.well_known = WellKnown {
                        value_type: self.lookup_def(id, "System", "ValueType"),
                        enum_: self.lookup_def(id, "System", "Enum"),
                        array: self.lookup_def(id, "System", "Array"),
                        vector_ifaces: vector_ifaces::VECTOR_INTERFACES
                            .map(|n| self.lookup_def(id, "System.Collections.Generic", n)),
                    };
                    for p in [Prim::Object, Prim::String, Prim::Void, Prim::I4] {
                        self.prim(p)?;
                    }
                }
            }
        }
        if self.corlib.is_none() {
            return Err(Error::Unresolved {
                what: "corlib (load mscorlib before other assemblies)",
                name: "System.Object".into(),
            });
        }
        for t in self.asms[id.0 as usize].typedefs.clone() {
            self.ensure(t, ST_ALL, 0)?;
        }
        self.finish_pending()?;
        Ok(id)
    }

    pub(super) fn push_type(&mut self, info: TypeInfo) -> TypeId {
        let id = TypeId(self.types.len() as u32);
        self.types.push(Box::new(MethodTable {
            flags: 0,
            base_size: 0,
            component_size: 0,
            type_id: id.0,
            parent: 0,
            element: 0,
            vtable: 0,
            vtable_len: 0,
            rank: 0,
            cctor_state: AtomicU32::new(CCTOR_DONE),
            unbox_key: 0,
            statics: 0,
            info,
        }));
        let addr = self.mt_address(id);
        match self.by_mt_addr.binary_search_by_key(&addr, |e| e.0) {
            Ok(i) => self.by_mt_addr[i].1 = id,
            Err(i) => self.by_mt_addr.insert(i, (addr, id)),
        }
        id
    }

    pub(super) fn lookup_def(&self, a: AsmId, ns: &str, name: &str) -> Option<TypeId> {
        let ai = self.asms.get(a.0 as usize)?;
        let rid = ai.by_name.get(&(ns, name) as &dyn NamePair)?;
        ai.typedefs.get((*rid as usize).wrapping_sub(1)).copied()
    }

    /// Brings every type created since the last call to the eager stages
    /// (`ST_EAGER`); the rest waits for [`TypeSystem::complete`].
    pub(super) fn finish_pending(&mut self) -> Result<()> {
        while self.pending < self.types.len() {
            let t = TypeId(self.pending as u32);
            self.pending += 1;
            self.ensure(t, ST_EAGER, 0)?;
        }
        Ok(())
    }

    /// Brings `t` to full readiness: its vtable (and so the slot of every
    /// virtual method it declares), interface maps and static storage, and
    /// those of its parents and interfaces. Whoever reads one of those of a
    /// type calls this first: the engine before it fills a vtable
    /// (`Engine::ensure_vtable`, which every allocation and type handle goes
    /// through), the JIT host before it reads a method's slot, the queries
    /// that read these parts (`static_field_address`, `interface_slot`,
    /// `vtable_method`, `is_assignable`), the type initializer's runner.
    /// Assemblies' own type
    /// definitions are complete from their load; constructed types are not.
    /// A failure here is the type's load error, reported at its first use.
    pub fn complete(&mut self, t: TypeId) -> Result<()> {
        if self.is_complete(t) {
            return Ok(());
        }
        self.ensure(t, ST_ALL, 0)?;
        self.finish_pending()
    }

    /// Whether `t` went through [`TypeSystem::complete`] (or was complete
    /// from its load).
    pub fn is_complete(&self, t: TypeId) -> bool {
        self.info(t).state & ST_ALL == ST_ALL
    }

    /// [`TypeSystem::complete`] for `t` and every type an assignability
    /// check involving `t` may read (`is_assignable`: parents, interface maps,
    /// array element types, the type arguments variance compares), to the
    /// end of that closure. Run-time casts call it on both sides first, so
    /// `is_assignable`, which only reads, never meets a type whose interface
    /// maps were not built. Once done for a type, a flag makes it free.
    pub fn complete_deep(&mut self, t: TypeId) -> Result<()> {
        if self.info(t).state & ST_DEEP != 0 {
            return Ok(());
        }
        let mut work = alloc::vec![t];
        let mut marked = Vec::new();
        let r = self.complete_closure(&mut work, &mut marked);
        if r.is_err() {
            // A type of the closure failed: none of it counts as done.
            for u in marked {
                self.types[u.0 as usize].info.state &= !ST_DEEP;
            }
        }
        r
    }

    fn complete_closure(&mut self, work: &mut Vec<TypeId>, marked: &mut Vec<TypeId>) -> Result<()> {
        while let Some(u) = work.pop() {
            if self.info(u).state & ST_DEEP != 0 {
                continue;
            }
            self.complete(u)?;
            // Marked before its neighbours are done: the walk's visited set
            // (generic types refer back to themselves: `A : IEquatable<A>`).
            self.types[u.0 as usize].info.state |= ST_DEEP;
            marked.push(u);
            let i = self.info(u);
            work.extend(i.parent);
            work.extend(i.element);
            work.extend(i.type_args.iter().copied());
            work.extend(i.interfaces.iter().map(|m| m.iface));
        }
        Ok(())
    }

    pub(super) fn ensure(&mut self, t: TypeId, want: u8, depth: u32) -> Result<()> {
        if self.info(t).state & want == want {
            return Ok(());
        }
        // Bound the whole recursion, not just one chain: generic instantiation can
        // restart a chain (`class G<T> : G<G<T>>`).
        if self.nesting >= MAX_NESTING {
            return Err(tl(
                &self.type_name(t),
                "type dependencies nested too deeply",
            ));
        }
        self.nesting += 1;
        let r = self.ensure_inner(t, want, depth);
        self.nesting -= 1;
        r
    }

    pub(super) fn ensure_inner(&mut self, t: TypeId, want: u8, depth: u32) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(tl(
                &self.type_name(t),
                "type dependencies nested too deeply",
            ));
        }
        for stage in [ST_PARENT, ST_MEMBERS, ST_LAYOUT, ST_VTABLE, ST_STATICS] {
            if want & stage == 0 || self.info(t).state & stage != 0 {
                continue;
            }
            // Open generic definitions and generic parameters have no layout.
            let open = (self.info(t).generic_params > 0 && self.info(t).type_args.is_empty())
                || self.mt(t).flags & MT_FLAG_GENERIC_DEF != 0;
            if open && stage != ST_PARENT && stage != ST_MEMBERS && stage != ST_VTABLE {
                self.types[t.0 as usize].info.state |= stage;
                continue;
            }
            if self.info(t).busy & stage != 0 {
                return Err(tl(
                    &self.type_name(t),
                    "circular type dependency (e.g. a struct containing itself)",
                ));
            }
            self.types[t.0 as usize].info.busy |= stage;
            let r = match stage {
                ST_PARENT => self.stage_parent(t, depth),
                ST_MEMBERS => self.stage_members(t, depth),
                ST_LAYOUT => self.stage_layout(t, depth),
                ST_VTABLE => self.stage_vtable(t, depth),
                _ => self.stage_statics(t, depth),
            };
            self.types[t.0 as usize].info.busy &= !stage;
            r?;
            self.types[t.0 as usize].info.state |= stage;
            if stage == ST_LAYOUT {
                let key = self.underlying_prim(t).map_or(0, |p| p as u32 + 1);
                self.types[t.0 as usize].unbox_key = key;
            }
        }
        Ok(())
    }
}

pub(super) fn new_info(namespace: String, name: String, kind: TypeKind) -> TypeInfo {
    TypeInfo {
        namespace,
        name,
        asm: None,
        token: Token(0),
        kind,
        attrs: 0,
        parent: None,
        enclosing: None,
        element: None,
        generic_def: None,
        type_args: Vec::new(),
        generic_params: 0,
        size: 0,
        align: 1,
        gc_refs: Vec::new(),
        fields: Vec::new(),
        methods: Vec::new(),
        vslots: Vec::new(),
        interfaces: Vec::new(),
        declared_interfaces: Vec::new(),
        cctor: None,
        packing: 0,
        class_size: 0,
        statics_size: 0,
        static_gc_refs: Vec::new(),
        statics_block: Box::new([]),
        slots: Box::new([]),
        state: 0,
        busy: 0,
        nest: 0,
    }
}

/// Reads the tables the type system needs into maps, validating cross references.
pub(super) fn index_assembly(asm: Assembly) -> Result<AsmInfo> {
    // The assembly moves in first and the tables are read through the field: a
    // copy of the file for the index to own would cost a memcpy of the whole image.
    let mut info = AsmInfo {
        name: String::new(),
        asm,
        typedefs: Vec::new(),
        methods: Vec::new(),
        fields: Vec::new(),
        typerefs: Vec::new(),
        typespecs: Vec::new(),
        by_name: BTreeMap::new(),
        nested: BTreeMap::new(),
        enclosing: Vec::new(),
        class_layout: Vec::new(),
        field_layout: Vec::new(),
        field_rva: Vec::new(),
        method_impls: Vec::new(),
        interface_impls: Vec::new(),
        generic_counts: Vec::new(),
        impl_map: Vec::new(),
        method_owner: Vec::new(),
        field_owner: Vec::new(),
    };
    index_tables(&mut info)?;
    Ok(info)
}

pub(super) fn index_tables(info: &mut AsmInfo) -> Result<()> {
    let md = info.asm.md();
    let name = md.assembly_name()?.unwrap_or("").to_string();
    info.name = if name.is_empty() {
        let m: ModuleRow = md.row(1)?;
        md.string(m.name)?.trim_end_matches(".dll").to_string()
    } else {
        name
    };
    let ntd = md.row_count(TableId::TypeDef);
    info.methods = vec![None; md.row_count(TableId::MethodDef) as usize];
    info.fields = vec![None; md.row_count(TableId::Field) as usize];
    info.typerefs = vec![None; md.row_count(TableId::TypeRef) as usize];
    info.typespecs = vec![None; md.row_count(TableId::TypeSpec) as usize];
    info.method_owner = vec![0; md.row_count(TableId::MethodDef) as usize];
    info.field_owner = vec![0; md.row_count(TableId::Field) as usize];
    let (nfield, nmethod) = (
        md.row_count(TableId::Field) as usize,
        md.row_count(TableId::MethodDef) as usize,
    );
    info.enclosing = vec![0; ntd as usize];
    info.class_layout = vec![None; ntd as usize];
    info.field_layout = vec![None; nfield];
    info.field_rva = vec![None; nfield];
    info.method_impls = vec![Vec::new(); ntd as usize];
    info.interface_impls = vec![Vec::new(); ntd as usize];
    info.generic_counts = vec![0; ntd as usize];
    info.impl_map = vec![None; nmethod];
    let check_td = |r: u32, t: TableId, row: u32| -> Result<()> {
        if r == 0 || r > ntd {
            Err(Error::in_row(
                "TypeDef index out of range",
                t,
                row,
                md.row_offset(t, row),
            ))
        } else {
            Ok(())
        }
    };
    for r in 1..=md.row_count(TableId::NestedClass) {
        let n: NestedClassRow = md.row(r)?;
        check_td(n.nested, TableId::NestedClass, r)?;
        check_td(n.enclosing, TableId::NestedClass, r)?;
        if n.nested == n.enclosing {
            return Err(Error::in_row(
                "type nested in itself",
                TableId::NestedClass,
                r,
                md.row_offset(TableId::NestedClass, r),
            ));
        }
        // Both RIDs were checked above.
        if let Some(e) = at_mut(&mut info.enclosing, n.nested) {
            *e = n.enclosing;
        }
    }
    // Nesting must be a forest: follow each chain at most `ntd` steps.
    for (n, _) in (1u32..)
        .zip(info.enclosing.iter())
        .filter(|(_, e)| **e != 0)
    {
        let mut cur = n;
        let mut steps = 0u32;
        while let Some(&e) = at(&info.enclosing, cur).filter(|e| **e != 0) {
            steps += 1;
            if steps > ntd {
                return Err(Error::in_row(
                    "NestedClass rows form a cycle",
                    TableId::NestedClass,
                    0,
                    md.row_offset(TableId::NestedClass, 1),
                ));
            }
            cur = e;
        }
    }
    for r in 1..=ntd {
        for m in md.list(TableId::TypeDef, r, 5, TableId::MethodDef)? {
            if let Some(o) = info.method_owner.get_mut((m as usize).wrapping_sub(1)) {
                *o = r;
            }
        }
        for f in md.list(TableId::TypeDef, r, 4, TableId::Field)? {
            if let Some(o) = info.field_owner.get_mut((f as usize).wrapping_sub(1)) {
                *o = r;
            }
        }
        let t: TypeDefRow = md.row(r)?;
        let nm = md.string(t.name)?.to_string();
        match at(&info.enclosing, r).copied().filter(|e| *e != 0) {
            Some(e) => {
                info.nested.insert((e, nm), r);
            }
            None => {
                info.by_name
                    .insert((md.string(t.namespace)?.to_string(), nm), r);
            }
        }
    }
    for r in 1..=md.row_count(TableId::ClassLayout) {
        let c: ClassLayoutRow = md.row(r)?;
        check_td(c.parent, TableId::ClassLayout, r)?;
        if let Some(l) = at_mut(&mut info.class_layout, c.parent) {
            *l = Some((c.packing_size as u16, c.class_size));
        }
    }
    for r in 1..=md.row_count(TableId::FieldLayout) {
        let c: FieldLayoutRow = md.row(r)?;
        if let Some(o) = at_mut(&mut info.field_layout, c.field) {
            *o = Some(c.offset);
        }
    }
    for r in 1..=md.row_count(TableId::FieldRva) {
        let c: FieldRvaRow = md.row(r)?;
        if let Some(o) = at_mut(&mut info.field_rva, c.field) {
            *o = Some(c.rva);
        }
    }
    for r in 1..=md.row_count(TableId::MethodImpl) {
        let c: MethodImplRow = md.row(r)?;
        check_td(c.class, TableId::MethodImpl, r)?;
        if let Some(v) = at_mut(&mut info.method_impls, c.class) {
            v.push((Token(c.body), Token(c.declaration)));
        }
    }
    for r in 1..=md.row_count(TableId::InterfaceImpl) {
        let c: InterfaceImplRow = md.row(r)?;
        check_td(c.class, TableId::InterfaceImpl, r)?;
        if let Some(v) = at_mut(&mut info.interface_impls, c.class) {
            v.push(Token(c.interface));
        }
    }
    for r in 1..=md.row_count(TableId::GenericParam) {
        let g: GenericParamRow = md.row(r)?;
        let owner = Token(g.owner);
        if owner.table() == Some(TableId::TypeDef) {
            if let Some(n) = at_mut(&mut info.generic_counts, owner.row()) {
                *n += 1;
            }
        }
    }
    for r in 1..=md.row_count(TableId::ImplMap) {
        let m: ImplMapRow = md.row(r)?;
        let member = Token(m.member);
        if member.table() == Some(TableId::MethodDef) {
            let module = if m.import_scope == 0 {
                String::new()
            } else {
                let mr: ModuleRefRow = md.row(m.import_scope)?;
                md.string(mr.name)?.to_string()
            };
            let name = md.string(m.import_name)?.to_string();
            if let Some(e) = at_mut(&mut info.impl_map, member.row()) {
                *e = Some((module, name));
            }
        }
    }
    Ok(())
}
