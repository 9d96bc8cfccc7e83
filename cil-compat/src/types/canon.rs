//! Canonical forms of generic instantiations, for shared generic code. ECMA-335
//! leaves code sharing to the implementation (§II.9.4 only says instantiations
//! are distinct types); this follows CoreCLR's shape: every reference-type
//! argument of an instantiation is replaced by one placeholder class,
//! `System.__Canon`, value-type arguments stay exact, and the methods of the
//! resulting canonical type (`List<__Canon>`, `Map<__Canon,int>`) are what a
//! shared body is compiled as. The execution engine (`exec/shared.rs`) decides
//! which code may actually be shared; this file only names the forms.

use super::*;

impl TypeSystem {
    /// `System.__Canon`: a class deriving from `System.Object` that stands for
    /// every reference-type argument in a canonical instantiation. It is made
    /// on first use, fully staged (no members, Object's layout); no object is
    /// ever allocated with it.
    pub fn canon_type(&mut self) -> Result<TypeId> {
        if let Some(t) = self.canon {
            return Ok(t);
        }
        let object = self.prim(Prim::Object)?;
        self.ensure(object, ST_ALL, 0)?;
        let mut ti = load::new_info("System".into(), "__Canon".into(), TypeKind::Class);
        let oi = self.info(object);
        ti.parent = Some(object);
        ti.size = oi.size;
        ti.align = oi.align;
        // Nothing to stage: no metadata row stands behind it.
        ti.state = ST_ALL;
        let base_size = self.mt(object).base_size;
        let parent = self.mt_address(object);
        let t = self.push_type(ti);
        let mt = &mut self.types[t.0 as usize];
        mt.base_size = base_size;
        mt.parent = parent;
        self.canon = Some(t);
        Ok(t)
    }

    /// Whether `t` is or contains `System.__Canon` (as a type argument or an
    /// element type): a type only shared code names, which stands for a
    /// different exact type in each instantiation that runs the code.
    pub fn mentions_canon(&self, t: TypeId) -> bool {
        match self.canon {
            Some(c) => self.mentions(t, c, 0),
            None => false,
        }
    }

    fn mentions(&self, t: TypeId, c: TypeId, depth: u32) -> bool {
        if t == c || depth > MAX_DEPTH {
            return true;
        }
        let i = self.info(t);
        i.element.is_some_and(|e| self.mentions(e, c, depth + 1))
            || i.type_args.iter().any(|a| self.mentions(*a, c, depth + 1))
    }

    /// Whether method `m`'s owner or method type arguments mention
    /// `System.__Canon` ([`Self::mentions_canon`]).
    pub fn method_mentions_canon(&self, m: MethodId) -> bool {
        let d = self.method(m);
        self.mentions_canon(d.owner) || d.method_args.iter().any(|a| self.mentions_canon(*a))
    }

    /// The canonical method whose body `m` may share, or `None` when `m` is
    /// not a candidate: today an instance method with an IL body of a generic
    /// class instance with at least one reference-type argument (not a
    /// generic method instance, not a member of a value type or interface).
    /// Shared code of such a method finds its exact type through `this`.
    /// A canonical method is its own shared form.
    pub fn shared_form(&mut self, m: MethodId) -> Result<Option<MethodId>> {
        let d = self.method(m);
        if d.is_static()
            || !d.sig.has_this
            || !d.method_args.is_empty()
            || d.generic_method_def.is_some()
            || d.rva == 0
            || d.is_internal_call()
            || d.pinvoke.is_some()
            || d.unresolved.is_some()
        {
            return Ok(None);
        }
        let (owner, token) = (d.owner, d.token);
        let oi = self.info(owner);
        let Some(def) = oi.generic_def else {
            return Ok(None);
        };
        if oi.kind != TypeKind::Class {
            return Ok(None);
        }
        let Some(index) = oi.methods.iter().position(|x| *x == m) else {
            return Ok(None);
        };
        let args = oi.type_args.clone();
        let canon = self.canon_type()?;
        let mut any = false;
        let mut cargs = Vec::with_capacity(args.len());
        for a in args {
            if self.info(a).is_reference() {
                any = true;
                cargs.push(canon);
            } else {
                cargs.push(a);
            }
        }
        if !any {
            return Ok(None);
        }
        let ct = self.generic_instance(def, cargs)?;
        self.ensure(ct, ST_ALL, 0)?;
        self.finish_pending()?;
        Ok(self
            .info(ct)
            .methods
            .get(index)
            .copied()
            .filter(|c| self.method(*c).token == token))
    }
}
