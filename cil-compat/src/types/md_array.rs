//! The methods the VES provides on multi-dimensional array types (ECMA-335
//! §II.14.2, §I.8.9.1): for `T[,…]` of rank `r`, `.ctor(int32 × r)` (lengths),
//! `.ctor(int32 × 2r)` (lower bound, length pairs), `T Get(int32 × r)`,
//! `void Set(int32 × r, T)` and `T& Address(int32 × r)`. Compilers reference
//! them through MemberRefs whose parent is the array TypeSpec; no metadata
//! defines them, so the loader creates a `MethodDesc` (without a body) the first
//! time one is referenced, and the execution engine lowers calls to it.

use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::AtomicUsize;

use super::{Key, MethodDesc, MethodId, Sig, TypeId, TypeKind, TypeSystem};
use crate::error::Result;
use crate::metadata::sig::Prim;
use crate::metadata::Token;

/// `MethodImplAttributes.Runtime` (§II.23.1.11): the VES provides the body.
pub const IMPL_RUNTIME: u16 = 0x0003;

/// Which runtime array method a name denotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrayMethodKind {
    /// `.ctor`.
    Ctor,
    /// `Get`.
    Get,
    /// `Set`.
    Set,
    /// `Address`.
    Address,
}

impl ArrayMethodKind {
    fn of(name: &str) -> Option<ArrayMethodKind> {
        Some(match name {
            ".ctor" => ArrayMethodKind::Ctor,
            "Get" => ArrayMethodKind::Get,
            "Set" => ArrayMethodKind::Set,
            "Address" => ArrayMethodKind::Address,
            _ => return None,
        })
    }
}

impl TypeSystem {
    /// If `owner` is a multi-dimensional array type and `name` with signature
    /// `want` is one of its runtime methods, that method (created on first use,
    /// then found among the type's methods). `None`: no such method (the caller
    /// reports the MemberRef as unresolved).
    pub(super) fn array_runtime_method(
        &mut self,
        owner: TypeId,
        name: &str,
        want: &Sig,
    ) -> Result<Option<MethodId>> {
        if self.info(owner).kind != TypeKind::Array {
            return Ok(None);
        }
        let Some(kind) = ArrayMethodKind::of(name) else {
            return Ok(None);
        };
        let Some(elem) = self.info(owner).element else {
            return Ok(None);
        };
        let rank = self.mt(owner).rank as usize;
        let int32 = self.prim(Prim::I4)?;
        let void = self.prim(Prim::Void)?;
        if !want.has_this || want.generic_params != 0 {
            return Ok(None);
        }
        let (indices, ret, value) = match kind {
            ArrayMethodKind::Ctor => {
                if want.params.len() != rank && want.params.len() != 2 * rank {
                    return Ok(None);
                }
                (want.params.len(), void, None)
            }
            ArrayMethodKind::Get => (rank, elem, None),
            ArrayMethodKind::Set => (rank, void, Some(elem)),
            ArrayMethodKind::Address => (rank, self.constructed_type(Key::ByRef(elem))?, None),
        };
        let mut params = Vec::with_capacity(indices + value.is_some() as usize);
        params.resize(indices, int32);
        params.extend(value);
        if want.params.len() != params.len()
            || want.params[..indices].iter().any(|p| *p != int32)
            || !self.same_or_open(want.ret, ret)
            || value.is_some_and(|v| !self.same_or_open(want.params[indices], v))
        {
            return Ok(None);
        }
        let sig = Sig {
            has_this: true,
            ret,
            params,
            generic_params: 0,
            call_conv: want.call_conv,
        };
        // Found when created before (the open signature is the one asked for).
        for m in &self.info(owner).methods {
            let d = self.method(*m);
            if d.name == name && *d.sig == sig {
                return Ok(Some(*m));
            }
        }
        // public hidebysig, plus specialname rtspecialname for the constructor.
        let flags = 0x0006
            | 0x0080
            | if kind == ArrayMethodKind::Ctor {
                0x1800
            } else {
                0
            };
        let asm = self.info(owner).asm.or(self.corlib).ok_or_else(|| {
            crate::error::Error::Unresolved {
                what: "corlib type (load mscorlib first)",
                name: "System.Array".to_string(),
            }
        })?;
        let m = MethodId(self.methods.len() as u32);
        let sig = Arc::new(sig);
        self.methods.push(MethodDesc {
            owner,
            asm,
            token: Token(0),
            name: name.into(),
            flags,
            impl_flags: IMPL_RUNTIME,
            rva: 0,
            sig: sig.clone(),
            open_sig: sig,
            slot: None,
            pinvoke: None,
            entry: AtomicUsize::new(0),
            method_args: Vec::new(),
            generic_method_def: None,
            unresolved: None,
        });
        self.types[owner.0 as usize].info.methods.push(m);
        Ok(Some(m))
    }

    /// `got` is `expected`, or a generic parameter standing for it (a MemberRef
    /// signature in generic code names the element type as `!0`/`!!0`).
    fn same_or_open(&self, got: TypeId, expected: TypeId) -> bool {
        got == expected
            || matches!(self.info(got).kind, TypeKind::GenericParam { .. })
            || (self.info(got).kind == TypeKind::ByRef
                && self.info(expected).kind == TypeKind::ByRef
                && self
                    .info(got)
                    .element
                    .is_some_and(|g| matches!(self.info(g).kind, TypeKind::GenericParam { .. })))
    }

    /// The runtime array method `m` is, if it is one: its kind and the array
    /// type's rank and element type.
    pub fn array_method_kind(&self, m: MethodId) -> Option<(ArrayMethodKind, u32, TypeId)> {
        let d = self.method(m);
        if d.impl_flags != IMPL_RUNTIME || d.rva != 0 {
            return None;
        }
        let i = self.info(d.owner);
        if i.kind != TypeKind::Array {
            return None;
        }
        Some((
            ArrayMethodKind::of(&d.name)?,
            self.mt(d.owner).rank,
            i.element?,
        ))
    }
}
