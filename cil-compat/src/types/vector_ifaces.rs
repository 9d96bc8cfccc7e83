//! The generic collection interfaces of vectors (ECMA-335 Partition I §8.9.1,
//! Partition II §14.1): a zero-based single-dimensional array `T[]` implements
//! `IList<T>`, `ICollection<T>`, `IEnumerable<T>`, `IReadOnlyList<T>` and
//! `IReadOnlyCollection<T>`; with array-element compatibility (§I.8.7.1) it is
//! also each of them over any `U` that `T` is compatible with: a reference type
//! `T` is assignable to (`string[]` is an `IEnumerable<object>`), or the same
//! reduced integer type (`int[]` is an `IList<uint>`, `E[]` an `IList<int>` for
//! an enum `E` over `int`).
//!
//! No array MethodTable lists these interfaces: there would be one set per
//! element type and per covariant view, most never used. Instead the casting
//! helpers ask [`TypeSystem::vector_interface_arg`] when their ordinary answer is
//! no, and interface dispatch asks [`TypeSystem::vector_interface_target`] when
//! the receiver's interface maps have no slot. Both happen only on those slow
//! paths, at run time (dispatch answers are cached by the caller), so nothing
//! changes for other types or in the JIT. The implementation is the corlib's
//! `System.SZArrayMethods<U>` (`managed/corlib/ArrayInterfaces.cs`): static
//! methods named like the interface methods whose first parameter, `U[]`, sits
//! where an instance call passes `this`.

use alloc::format;
use alloc::vec;

use super::{TypeId, TypeKind, TypeSystem};
use crate::error::{Error, Result};
use crate::types::MethodId;

/// The generic interfaces of `T[]`, all in `System.Collections.Generic` (looked
/// up once, into `WellKnown::vector_ifaces`, when the corlib loads).
pub(super) const VECTOR_INTERFACES: [&str; 5] = [
    "IList`1",
    "ICollection`1",
    "IEnumerable`1",
    "IReadOnlyList`1",
    "IReadOnlyCollection`1",
];

/// The corlib class implementing them (namespace `System`).
const IMPLEMENTATION: &str = "SZArrayMethods`1";

impl TypeSystem {
    /// If `arr` is a vector and `iface` one of its generic interfaces over some
    /// type `U` (`IList<U>`, …): its element type and `U`. Whether the element
    /// converts to `U` is the caller's test (its own assignability recursion).
    pub fn vector_interface_arg(&self, arr: TypeId, iface: TypeId) -> Option<(TypeId, TypeId)> {
        let a = self.types.get(arr.0 as usize)?;
        if a.info.kind != TypeKind::SzArray {
            return None;
        }
        let elem = a.info.element?;
        let i = &self.types.get(iface.0 as usize)?.info;
        let known = self
            .well_known
            .vector_ifaces
            .contains(&Some(i.generic_def?));
        match (known, i.type_args.as_slice()) {
            (true, [u]) => Some((elem, *u)),
            _ => None,
        }
    }

    /// Whether vector `arr` is an instance of `iface` through its generic
    /// interfaces: the element type is array-element-compatible with the
    /// interface's argument (§I.8.7.1: the same, a reference assignable to it,
    /// or the same reduced integer type: `int[]` is an `IList<uint>`). Both
    /// closures must be complete (`complete_deep`; `is_assignable` sees to it).
    pub(crate) fn vector_implements(&self, arr: TypeId, iface: TypeId) -> bool {
        match self.vector_interface_arg(arr, iface) {
            Some((e, u)) => self.array_element_compatible(e, u),
            None => false,
        }
    }

    /// The method interface method `m` runs on vector `arr`: the method of the
    /// same name in `SZArrayMethods<U>`, `U` being the argument of `m`'s interface.
    pub fn vector_interface_target(&mut self, arr: TypeId, m: MethodId) -> Result<MethodId> {
        let (owner, name, params) = {
            let d = self.method(m);
            (d.owner, d.name.clone(), d.sig.params.len())
        };
        let not_found = |s: &Self| Error::Unresolved {
            what: "interface implementation",
            name: format!("{}::{} in {}", s.type_name(owner), name, s.type_name(arr)),
        };
        let Some((_, u)) = self.vector_interface_arg(arr, owner) else {
            return Err(not_found(self));
        };
        self.complete_deep(arr)?;
        self.complete_deep(owner)?;
        if !self.vector_implements(arr, owner) {
            return Err(not_found(self));
        }
        let def = self.corlib_type("System", IMPLEMENTATION)?;
        let inst = self.generic_instance(def, vec![u])?;
        self.info(inst)
            .methods
            .iter()
            .copied()
            .find(|c| {
                let c = self.method(*c);
                c.is_static() && c.name == name && c.sig.params.len() == params + 1
            })
            .ok_or_else(|| not_found(self))
    }
}
