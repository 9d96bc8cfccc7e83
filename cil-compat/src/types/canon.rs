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
    /// not a candidate. Candidates have an IL body and at least one
    /// reference-type argument, of their type or (a generic method instance)
    /// of their own:
    /// - an instance method of a generic class (not a generic method): its
    ///   shared code finds its exact type through `this`;
    /// - a generic method instance, static, instance or virtual (dispatch
    ///   instantiates the receiver's override, whose entry is then its
    ///   instantiating stub), of a class or struct, generic or not; a static
    ///   or instance method of a generic value type; a static method of a
    ///   generic class: its shared code gets its exact method as a hidden
    ///   argument ([`Self::shared_by_context`]).
    ///
    /// A canonical method is its own shared form.
    pub fn shared_form(&mut self, m: MethodId) -> Result<Option<MethodId>> {
        let d = self.method(m);
        let oi = self.info(d.owner);
        // Most methods: neither generic nor of a generic type.
        if (d.generic_method_def.is_none() && oi.generic_def.is_none())
            || !matches!(oi.kind, TypeKind::Class | TypeKind::ValueType)
            || d.rva == 0
            || d.is_internal_call()
            || d.pinvoke.is_some()
            || d.unresolved.is_some()
        {
            return Ok(None);
        }
        let (owner, token) = (d.owner, d.token);
        let (gdef, margs) = (d.generic_method_def, d.method_args.clone());
        let canon = self.canon_type()?;
        let mut any = false;
        let mut canonize = |ts: &Self, args: &[TypeId]| -> Vec<TypeId> {
            args.iter()
                .map(|&a| {
                    if ts.info(a).is_reference() {
                        any = true;
                        canon
                    } else {
                        a
                    }
                })
                .collect()
        };
        let cmargs = canonize(self, &margs);
        // The canonical owner, and where `m` (or its generic definition)
        // sits among its methods.
        let (cowner, which) = match self.info(owner).generic_def {
            Some(def) => {
                let targs = self.info(owner).type_args.clone();
                let cargs = canonize(self, &targs);
                let ct = self.generic_instance(def, cargs)?;
                (ct, gdef.unwrap_or(m))
            }
            None => (owner, gdef.unwrap_or(m)),
        };
        if !any {
            return Ok(None);
        }
        let Some(index) = self.info(owner).methods.iter().position(|x| *x == which) else {
            return Ok(None);
        };
        if cowner != owner {
            self.ensure(cowner, ST_ALL, 0)?;
            self.finish_pending()?;
        }
        let Some(cm) = self
            .info(cowner)
            .methods
            .get(index)
            .copied()
            .filter(|c| self.method(*c).token == token)
        else {
            return Ok(None);
        };
        let c = match gdef {
            Some(_) => self.instantiate_method(cm, cmargs)?,
            None => cm,
        };
        self.lay_out_signature(c)?;
        Ok(Some(c))
    }

    /// Lays out the value types of canonical method `c`'s signature
    /// (`KeyValuePair<__Canon,__Canon>`): no token of the shared body names
    /// them, so nothing else stages them before the JIT asks their size.
    fn lay_out_signature(&mut self, c: MethodId) -> Result<()> {
        let d = self.method(c);
        let n = d.sig.params.len();
        for i in 0..=n {
            let d = self.method(c);
            let t = if i == n { d.sig.ret } else { d.sig.params[i] };
            let ti = self.info(t);
            if ti.is_value_type() && ti.state & ST_LAYOUT == 0 && self.mentions_canon(t) {
                self.ensure(t, ST_ALL, 0)?;
                self.finish_pending()?;
            }
        }
        Ok(())
    }

    /// Whether the shared code of canonical method `c` takes its exact
    /// instantiation as a hidden argument (the exact method's number, left
    /// by an instantiating stub): every shared form but the instance
    /// methods of generic classes, which find theirs through `this`.
    pub fn shared_by_context(&self, c: MethodId) -> bool {
        let d = self.method(c);
        d.is_static()
            || !d.sig.has_this
            || !d.method_args.is_empty()
            || self.info(d.owner).is_value_type()
    }
}
