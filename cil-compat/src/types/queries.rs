//! The type system, JIT queries: what the JIT-EE interface asks of loaded types
//! and methods (signatures, locals, bodies, field and method lookups by token).

use super::*;

impl TypeSystem {
    // ------------------------------------------------------------- JIT queries

    /// Size, alignment and GC layout of a location (field, local, argument, array
    /// element) holding a value of type `t`: 8 bytes for references and pointers.
    pub fn value_layout(&self, t: TypeId) -> Result<ValueLayout> {
        let mt = self.try_mt(t)?;
        let i = &mt.info;
        if mt.flags & MT_FLAG_GENERIC_DEF != 0 && i.is_value_type() {
            return Err(tl(
                &self.type_name(t),
                "open generic type has no layout (instantiate it)",
            ));
        }
        if i.is_value_type() {
            if i.state & ST_LAYOUT == 0 {
                return Err(tl(
                    &self.type_name(t),
                    "layout not computed (open generic or load failed)",
                ));
            }
            return Ok(ValueLayout {
                size: i.size,
                align: i.align,
                is_value_type: true,
                gc_refs: i.gc_refs.clone(),
            });
        }
        match i.kind {
            TypeKind::GenericParam { .. } => Err(tl(
                &self.type_name(t),
                "open generic parameter has no layout",
            )),
            _ => Ok(ValueLayout {
                size: 8,
                align: 8,
                is_value_type: false,
                gc_refs: if i.is_reference() {
                    vec![0]
                } else {
                    Vec::new()
                },
            }),
        }
    }

    /// The primitive a value of type `t` is on the evaluation stack: the primitive
    /// itself, or an enum's underlying type.
    pub fn underlying_prim(&self, t: TypeId) -> Option<Prim> {
        let i = &self.types.get(t.0 as usize)?.info;
        match i.kind {
            TypeKind::Primitive(p) => Some(p),
            TypeKind::Enum => {
                let f = i.fields.iter().find(|f| !self.field(**f).is_static())?;
                match self.info(self.field(*f).ty).kind {
                    TypeKind::Primitive(p) => Some(p),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// True if a value of type `from` may be stored where `to` is expected (the
    /// `castclass`/`isinst` test, §III.4.3): same type, a base class (System.Object
    /// for an interface too), an implemented interface, an array whose reference
    /// elements are assignable (covariance), or a generic collection interface of a
    /// vector (`types/vector_ifaces.rs`).
    ///
    /// Both types, and every type the answer may read (parents, interface
    /// maps, element types, the type arguments variance compares), are
    /// completed first (`TypeSystem::complete_deep`: load levels). A type
    /// that fails to complete is assignable to nothing.
    pub fn is_assignable(&mut self, from: TypeId, to: TypeId) -> bool {
        if from == to {
            return true;
        }
        if self.complete_deep(from).is_err() || self.complete_deep(to).is_err() {
            return false;
        }
        self.assignable_loaded(from, to)
    }

    /// [`TypeSystem::is_assignable`] between types whose closure is complete.
    fn assignable_loaded(&self, from: TypeId, to: TypeId) -> bool {
        if from == to {
            return true;
        }
        let (Some(fm), Some(tm)) = (
            self.types.get(from.0 as usize),
            self.types.get(to.0 as usize),
        ) else {
            return false;
        };
        let (fi, ti) = (&fm.info, &tm.info);
        if matches!(fi.kind, TypeKind::SzArray | TypeKind::Array) && fi.kind == ti.kind {
            if let (Some(fe), Some(te)) = (fi.element, ti.element) {
                if fm.rank == tm.rank && self.array_element_compatible(fe, te) {
                    return true;
                }
            }
        }
        // An interface has no base class, but whatever implements it is an object.
        if fi.kind == TypeKind::Interface
            && ti.kind == TypeKind::Class
            && ti.parent.is_none()
            && ti.name == "Object"
            && ti.namespace == "System"
        {
            return true;
        }
        let mut cur = Some(from);
        let mut guard = 0;
        while let Some(c) = cur {
            if c == to {
                return true;
            }
            if ti.kind == TypeKind::Interface
                && self.info(c).interfaces.iter().any(|m| m.iface == to)
            {
                return true;
            }
            cur = self.info(c).parent;
            guard += 1;
            if guard > 1024 {
                break;
            }
        }
        if ti.kind == TypeKind::Interface && self.vector_implements(from, to) {
            return true;
        }
        // Variance (`out T`/`in T` of a generic interface or delegate): `from`
        // itself, or an interface it implements, may be a variant instantiation.
        ti.generic_def.is_some()
            && (self.variant_assignable(from, to)
                || (ti.kind == TypeKind::Interface
                    && fi
                        .interfaces
                        .iter()
                        .any(|m| self.variant_assignable(m.iface, to))))
    }

    /// `from` and `to` instantiate one generic definition and each type argument
    /// pair is equal or, for a variant parameter, references assignable in its
    /// direction (ECMA-335 §II.9.5).
    fn variant_assignable(&self, from: TypeId, to: TypeId) -> bool {
        let (fi, ti) = (self.info(from), self.info(to));
        let Some(def) = ti.generic_def.filter(|d| fi.generic_def == Some(*d)) else {
            return false;
        };
        if fi.type_args.len() != ti.type_args.len() {
            return false;
        }
        fi.type_args
            .iter()
            .zip(&ti.type_args)
            .enumerate()
            .all(|(k, (&a, &b))| {
                if a == b {
                    return true;
                }
                let refs = self.info(a).is_reference() && self.info(b).is_reference();
                match self.param_variance(def, k) {
                    1 => refs && self.assignable_loaded(a, b),
                    2 => refs && self.assignable_loaded(b, a),
                    _ => false,
                }
            })
    }

    /// The vtable slot implementing `iface_method` in class `t` through a variant
    /// instantiation of its interface (`t` implements `ISink<object>`, the call
    /// is to `ISink<string>.Put`); the method's index is the same in every
    /// instantiation of one generic interface.
    pub fn variant_interface_slot(&mut self, t: TypeId, iface_method: MethodId) -> Option<u32> {
        let owner = self.method(iface_method).owner;
        self.complete_deep(t).ok()?;
        self.complete_deep(owner).ok()?;
        let m = self.method(iface_method);
        let idx = m.slot? as usize;
        self.info(t)
            .interfaces
            .iter()
            .filter(|im| self.variant_assignable(im.iface, m.owner))
            .find_map(|im| im.slots.get(idx).copied().flatten())
    }

    /// The variance bits (1 covariant, 2 contravariant) of type parameter `k` of
    /// generic definition `def`, from its GenericParam row.
    fn param_variance(&self, def: TypeId, k: usize) -> u32 {
        let d = self.info(def);
        let Some(md) = d.asm.and_then(|a| self.metadata(a).ok()) else {
            return 0;
        };
        (1..=md.row_count(crate::metadata::TableId::GenericParam))
            .filter_map(|r| md.row::<crate::metadata::GenericParamRow>(r).ok())
            .find(|g| g.owner == d.token.0 && g.number as usize == k)
            .map_or(0, |g| g.flags & 3)
    }

    /// Whether arrays of `t` may be used as arrays of `u` (ECMA-335 §I.8.7.1,
    /// array-element-compatible-with): the same type; both references with
    /// `t` assignable to `u` (array covariance); or the same reduced type,
    /// where an enum reduces to its underlying type and signed and unsigned
    /// integers of one width to one (`int[]` is a `uint[]`, an enum array an
    /// array of its underlying type, `long[]` an `IntPtr[]` on this 64-bit
    /// target). `bool` and `char` reduce only to themselves.
    /// Both closures must be complete (`is_assignable` sees to it).
    pub(crate) fn array_element_compatible(&self, t: TypeId, u: TypeId) -> bool {
        if t == u {
            return true;
        }
        let (Some(ti), Some(ui)) = (
            self.types.get(t.0 as usize).map(|m| &m.info),
            self.types.get(u.0 as usize).map(|m| &m.info),
        ) else {
            return false;
        };
        if ti.is_reference() && ui.is_reference() {
            return self.assignable_loaded(t, u);
        }
        if ti.is_reference() || ui.is_reference() {
            return false;
        }
        match (self.underlying_prim(t), self.underlying_prim(u)) {
            (Some(a), Some(b)) => reduced(a).is_some() && reduced(a) == reduced(b),
            _ => false,
        }
    }

    /// Offset and type of a field (instance: see [`FieldDesc::offset`]).
    pub fn field_offset(&self, f: FieldId) -> (u32, TypeId) {
        let d = self.field(f);
        (d.offset, d.ty)
    }

    /// Address of a static field's storage (its owner completed first: the
    /// storage is allocated with its load level).
    pub fn static_field_address(&mut self, f: FieldId) -> Result<usize> {
        let owner = self.field(f).owner;
        self.complete(owner)?;
        let d = self.field(f);
        if !d.is_static() || d.is_literal() {
            return Err(Error::Unresolved {
                what: "static field storage",
                name: d.name.to_string(),
            });
        }
        let mt = self.mt(d.owner);
        if mt.statics == 0 {
            return Err(tl(&self.type_name(d.owner), "static storage not allocated"));
        }
        Ok(mt.statics + d.offset as usize)
    }

    /// FieldRVA initial data of a field (for `RuntimeHelpers.InitializeArray`);
    /// its length is fixed when the owner is completed (`complete` first).
    pub fn field_rva_data(&self, f: FieldId) -> Option<&[u8]> {
        let d = self.field(f);
        let (off, len) = d.rva_data?;
        self.asms
            .get(d.asm.0 as usize)?
            .asm
            .bytes()
            .get(off..off + len)
    }

    /// The vtable slot of `iface_method` (a method of an interface) in class `t`.
    /// Both `t` and the interface are completed first (load levels).
    pub fn interface_slot(&mut self, t: TypeId, iface_method: MethodId) -> Result<u32> {
        let owner = self.method(iface_method).owner;
        self.complete(t)?;
        self.complete(owner)?;
        let m = self.method(iface_method);
        let idx = m.slot.ok_or_else(|| Error::Unresolved {
            what: "interface method slot",
            name: m.name.to_string(),
        })?;
        self.info(t)
            .interfaces
            .iter()
            .find(|im| im.iface == m.owner)
            .and_then(|im| im.slots.get(idx as usize).copied().flatten())
            .ok_or_else(|| Error::Unresolved {
                what: "interface implementation",
                name: format!(
                    "{}::{} in {}",
                    self.type_name(m.owner),
                    m.name,
                    self.type_name(t)
                ),
            })
    }

    /// The method a class's vtable slot runs (`t` completed first).
    pub fn vtable_method(&mut self, t: TypeId, slot: u32) -> Option<MethodId> {
        self.complete(t).ok()?;
        self.info(t).vslots.get(slot as usize).copied()
    }

    /// The method body (None for abstract, InternalCall, runtime or P/Invoke methods).
    pub fn method_body(&self, m: MethodId) -> Result<Option<MethodBody<'_>>> {
        let d = self.method(m);
        if d.rva == 0 {
            return Ok(None);
        }
        self.metadata(d.asm)?.method_body(d.rva).map(Some)
    }

    /// Local variable types of a method (from its body's locals signature).
    pub fn method_locals(&mut self, m: MethodId) -> Result<Vec<TypeId>> {
        let (asm, owner, tok) = {
            let d = self.method(m);
            let body = match self.method_body(m)? {
                Some(b) => b,
                None => return Ok(Vec::new()),
            };
            (d.asm, d.owner, body.local_var_sig)
        };
        if tok.is_null() {
            return Ok(Vec::new());
        }
        let md = self.metadata(asm)?;
        let row: StandAloneSigRow = md.row(tok.row())?;
        let locals = sig::parse_locals(md.blob(row.signature)?)
            .map_err(|e| e.at_row(TableId::StandAloneSig, tok.row()))?;
        let _ = (asm, owner);
        self.in_method(m, |s, a, ctx| {
            let mut out = Vec::new();
            for l in &locals {
                out.push(s.resolve_sig(a, &l.ty, ctx, 0)?);
            }
            Ok(out)
        })
    }

    /// The SZ array type `elem[]`, created on first use.
    pub fn array_of(&mut self, elem: TypeId) -> Result<TypeId> {
        let t = self.constructed_type(Key::SzArray(elem))?;
        self.finish_pending()?;
        Ok(t)
    }

    /// The instance `def<args…>` of generic type definition `def`, created on
    /// first use.
    pub fn generic_instance(&mut self, def: TypeId, args: Vec<TypeId>) -> Result<TypeId> {
        let d = self.info(def);
        if d.generic_params as usize != args.len() || !d.type_args.is_empty() {
            return Err(tl(&self.type_name(def), "generic argument count mismatch"));
        }
        let t = self.constructed_type(Key::Inst(def, TypeArgs::from_vec(args)))?;
        self.finish_pending()?;
        Ok(t)
    }

    /// The multi-dimensional array type `elem[,…]` of `rank` (1..=32).
    pub fn md_array_of(&mut self, elem: TypeId, rank: u32) -> Result<TypeId> {
        if rank == 0 || rank > 32 {
            return Err(tl(&self.type_name(elem), "array rank must be 1..=32"));
        }
        let t = self.constructed_type(Key::Array(elem, rank))?;
        self.finish_pending()?;
        Ok(t)
    }

    /// Allocates `elem[lengths[0], lengths[1], …]` (zero lower bounds).
    pub fn alloc_md_array(&mut self, elem: TypeId, lengths: &[u64]) -> Result<usize> {
        let at = self.md_array_of(elem, lengths.len() as u32)?;
        let mt: &MethodTable = &self.types[at.0 as usize];
        self.heap.alloc_md_array(mt, lengths)
    }

    /// Resolves a type token (TypeDef/TypeRef/TypeSpec) of assembly `a`.
    pub fn resolve_type(&mut self, a: AsmId, tok: Token) -> Result<TypeId> {
        let t = self.resolve_type_ctx(a, tok, &[], 0)?;
        self.finish_pending()?;
        Ok(t)
    }

    /// Resolves a method token (MethodDef/MemberRef) of assembly `a`.
    pub fn resolve_method(&mut self, a: AsmId, tok: Token) -> Result<MethodId> {
        let m = self.resolve_method_inner(a, tok, &[])?;
        self.finish_pending()?;
        Ok(m)
    }

    /// Resolves a field token (Field/MemberRef) of assembly `a`.
    pub fn resolve_field(&mut self, a: AsmId, tok: Token) -> Result<FieldId> {
        let f = self.resolve_field_inner(a, tok, &[])?;
        self.finish_pending()?;
        Ok(f)
    }

    /// Resolves any token (`ldtoken`).
    pub fn resolve_token(&mut self, a: AsmId, tok: Token) -> Result<Resolved> {
        match tok.table() {
            Some(TableId::TypeDef | TableId::TypeRef | TableId::TypeSpec) => {
                self.resolve_type(a, tok).map(Resolved::Type)
            }
            Some(TableId::MethodDef | TableId::MethodSpec) => {
                self.resolve_method(a, tok).map(Resolved::Method)
            }
            Some(TableId::Field) => self.resolve_field(a, tok).map(Resolved::Field),
            Some(TableId::MemberRef) => {
                let md = self.metadata(a)?;
                let r: MemberRefRow = md.row(tok.row())?;
                if sig::is_field_sig(md.blob(r.signature)?) {
                    self.resolve_field(a, tok).map(Resolved::Field)
                } else {
                    self.resolve_method(a, tok).map(Resolved::Method)
                }
            }
            _ => Err(Error::Unresolved {
                what: "token",
                name: format!("{tok}"),
            }),
        }
    }

    /// Runs `f` with the generic context of method `m` (its owner's type arguments
    /// and its own method arguments), so tokens in generic code bind to instances.
    pub(super) fn in_method<R>(
        &mut self,
        m: MethodId,
        f: impl FnOnce(&mut Self, AsmId, &[TypeId]) -> Result<R>,
    ) -> Result<R> {
        let (a, owner, margs) = {
            let d = self
                .methods
                .get(m.0 as usize)
                .ok_or_else(|| Error::Unresolved {
                    what: "method id",
                    name: format!("{}", m.0),
                })?;
            (d.asm, d.owner, d.method_args.clone())
        };
        let ctx = TypeArgs::from_slice(&self.info(owner).type_args);
        let saved = core::mem::replace(&mut self.mctx, margs);
        let r = f(self, a, &ctx);
        self.mctx = saved;
        let r = r?;
        self.finish_pending()?;
        Ok(r)
    }

    /// Resolves a type token used in the body of method `m` (generic-aware).
    pub fn resolve_type_in(&mut self, m: MethodId, tok: Token) -> Result<TypeId> {
        self.in_method(m, |s, a, ctx| s.resolve_type_ctx(a, tok, ctx, 0))
    }

    /// Resolves a method token (MethodDef/MemberRef/MethodSpec) used in the body of `m`.
    pub fn resolve_method_in(&mut self, m: MethodId, tok: Token) -> Result<MethodId> {
        self.in_method(m, |s, a, ctx| s.resolve_method_inner(a, tok, ctx))
    }

    /// Resolves a field token used in the body of `m`.
    pub fn resolve_field_in(&mut self, m: MethodId, tok: Token) -> Result<FieldId> {
        self.in_method(m, |s, a, ctx| s.resolve_field_inner(a, tok, ctx))
    }

    /// Resolves any token (`ldtoken`) used in the body of `m`.
    pub fn resolve_token_in(&mut self, m: MethodId, tok: Token) -> Result<Resolved> {
        match tok.table() {
            Some(TableId::TypeDef | TableId::TypeRef | TableId::TypeSpec) => {
                self.resolve_type_in(m, tok).map(Resolved::Type)
            }
            Some(TableId::MethodDef | TableId::MethodSpec) => {
                self.resolve_method_in(m, tok).map(Resolved::Method)
            }
            Some(TableId::Field) => self.resolve_field_in(m, tok).map(Resolved::Field),
            Some(TableId::MemberRef) => {
                let a = self.method(m).asm;
                let md = self.metadata(a)?;
                let r: MemberRefRow = md.row(tok.row())?;
                if sig::is_field_sig(md.blob(r.signature)?) {
                    self.resolve_field_in(m, tok).map(Resolved::Field)
                } else {
                    self.resolve_method_in(m, tok).map(Resolved::Method)
                }
            }
            _ => Err(Error::Unresolved {
                what: "token",
                name: format!("{tok}"),
            }),
        }
    }

    /// The interned string object for a `#US` token (`ldstr`), allocated on first use.
    pub fn string_literal(&mut self, a: AsmId, tok: Token) -> Result<usize> {
        if tok.kind() != US_TOKEN_KIND {
            return Err(Error::Unresolved {
                what: "user string token",
                name: format!("{tok}"),
            });
        }
        let chars = self.metadata(a)?.user_string(tok.row())?;
        self.intern(chars)
    }

    /// The interned string object with these contents.
    pub fn intern(&mut self, chars: Vec<u16>) -> Result<usize> {
        if let Some(o) = self.literals.get(&chars) {
            return Ok(*o);
        }
        let st = self.prim(Prim::String)?;
        let mt: &MethodTable = &self.types[st.0 as usize];
        // Literals are made while compiling, where no collection can run: past
        // the budget, grow (the next sweep sets the budget again).
        let o = match self.heap.alloc_string(mt, &chars) {
            Ok(o) => o,
            Err(Error::OutOfMemory { .. }) => {
                self.heap.allow_overdraft();
                self.heap.alloc_string(mt, &chars)?
            }
            Err(e) => return Err(e),
        };
        self.heap.set_header_bits(o, heap::HEADER_PINNED)?;
        self.literals.insert(chars, o);
        Ok(o)
    }

    /// The interned string objects (`ldstr` literals): GC roots.
    pub fn literal_objects(&self) -> impl Iterator<Item = usize> + '_ {
        self.literals.values().copied()
    }

    /// Allocates a fresh (not interned) string with these UTF-16 contents.
    pub fn alloc_string(&mut self, chars: &[u16]) -> Result<usize> {
        let st = self.prim(Prim::String)?;
        let mt: &MethodTable = &self.types[st.0 as usize];
        self.heap.alloc_string(mt, chars)
    }

    /// Allocates an instance of class `t` (or a boxed value of value type `t`).
    pub fn alloc_object(&mut self, t: TypeId) -> Result<usize> {
        let mt: &MethodTable = &self.types[t.0 as usize];
        self.heap.alloc_object(mt)
    }

    /// Allocates `elem[len]`.
    pub fn alloc_array(&mut self, elem: TypeId, len: usize) -> Result<usize> {
        let at = self.array_of(elem)?;
        let mt: &MethodTable = &self.types[at.0 as usize];
        self.heap.alloc_array(mt, len)
    }
}

/// The reduced type of an integer primitive (ECMA-335 §I.8.7): signed and
/// unsigned of one width are one. `None` for the others, which array-element
/// compatibility matches only by identity.
fn reduced(p: Prim) -> Option<u8> {
    match p {
        Prim::I1 | Prim::U1 => Some(1),
        Prim::I2 | Prim::U2 => Some(2),
        Prim::I4 | Prim::U4 => Some(4),
        // Native integers are 64-bit here: `long[]` is an `IntPtr[]` (as in
        // mono and .NET on 64-bit targets).
        Prim::I8 | Prim::U8 | Prim::I | Prim::U => Some(8),
        _ => None,
    }
}
