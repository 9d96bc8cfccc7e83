//! Generic method instances (MethodSpec, §II.22.29) and their virtual dispatch.
//! A generic virtual method (`virtual T Visit<T>(T x)`, or a generic method of an
//! interface) has no vtable slot per instantiation: the call site asks at run time
//! for the receiver's override of the generic definition, instantiated with the
//! call's method type arguments (§I.8.10.3, §III.4.2 callvirt).

use core::sync::atomic::AtomicUsize;

use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{MethodDefRow, MethodDesc, MethodId, TypeId, TypeKind, TypeSystem};
use crate::error::{Error, Result};
use crate::metadata::sig;
use crate::metadata::TableId;

impl TypeSystem {
    /// The instance of generic method definition `generic` with method type
    /// arguments `args` (made once, then shared).
    pub(super) fn instantiate_method(
        &mut self,
        generic: MethodId,
        args: Vec<TypeId>,
    ) -> Result<MethodId> {
        if let Some(m) = self.method_insts.get(&(generic, args.clone())) {
            return Ok(*m);
        }
        let (dasm, dtok, owner) = {
            let d = self.method(generic);
            (d.asm, d.token, d.owner)
        };
        let blob = {
            let md = self.metadata(dasm)?;
            let r: MethodDefRow = md.row(dtok.row())?;
            md.blob(r.signature)?.to_vec()
        };
        let msig =
            sig::parse_method(&blob).map_err(|e| e.at_row(TableId::MethodDef, dtok.row()))?;
        let tctx = self.info(owner).type_args.clone();
        let saved = core::mem::replace(&mut self.mctx, args.clone());
        let r = self.method_sig(dasm, &msig, &tctx, 0);
        self.mctx = saved;
        let sig_ = r?;
        let d = self.method(generic);
        let desc = MethodDesc {
            owner,
            asm: dasm,
            token: dtok,
            name: d.name.clone(),
            flags: d.flags,
            impl_flags: d.impl_flags,
            rva: d.rva,
            sig: Arc::new(sig_),
            open_sig: d.open_sig.clone(),
            slot: None,
            pinvoke: d.pinvoke.clone(),
            entry: AtomicUsize::new(0),
            method_args: args.clone(),
            generic_method_def: Some(generic),
            unresolved: None,
        };
        let m = MethodId(self.methods.len() as u32);
        self.methods.push(desc);
        self.method_insts.insert((generic, args), m);
        Ok(m)
    }

    /// The instance of generic method definition `generic` with method type
    /// arguments `args`, as a MethodSpec naming them resolves to (for hosts
    /// and tests that name instantiations without a token).
    pub fn method_instance(&mut self, generic: MethodId, args: Vec<TypeId>) -> Result<MethodId> {
        self.instantiate_method(generic, args)
    }

    /// The method a `callvirt` of generic method instance `m` runs on an object
    /// of type `t`: the override of `m`'s generic definition in `t`'s vtable (or
    /// `t`'s implementation of it, for an interface method), instantiated with
    /// `m`'s method type arguments.
    pub fn virtual_generic_target(&mut self, t: TypeId, m: MethodId) -> Result<MethodId> {
        let (def, args) = {
            let d = self.method(m);
            match d.generic_method_def {
                Some(g) => (g, d.method_args.clone()),
                None => return Ok(m),
            }
        };
        let owner = self.method(def).owner;
        // The receiver's type is complete (it has instances); the slot of
        // the definition comes with its owner's vtable.
        self.complete(t)?;
        self.complete(owner)?;
        let slot = if self.info(owner).kind == TypeKind::Interface {
            self.interface_slot(t, def)?
        } else {
            self.method(def).slot.ok_or_else(|| Error::Unresolved {
                what: "generic virtual method slot",
                name: self.method(def).name.to_string(),
            })?
        };
        let target = self
            .vtable_method(t, slot)
            .ok_or_else(|| Error::Unresolved {
                what: "generic virtual method override",
                name: self.method(def).name.to_string(),
            })?;
        if target == def {
            return Ok(m);
        }
        self.instantiate_method(target, args)
    }
}
