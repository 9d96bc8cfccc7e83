//! Type forwarders (ECMA-335 §II.22.14 ExportedType, `.class extern forwarder`):
//! an assembly may say that a type it used to define now lives in another
//! assembly; a TypeRef into the first binds to the definition in the second.

use alloc::string::ToString;

use super::{AsmId, TypeId, TypeSystem, CORLIB_NAMES};
use crate::error::Result;
use crate::metadata::{AssemblyRefRow, ExportedTypeRow, TableId, Token};

/// `TypeAttributes.Forwarder` (§II.23.1.15).
const FORWARDER: u32 = 0x0020_0000;

/// Forwarding chains longer than this are refused (a cycle, or hostile input).
const MAX_HOPS: u32 = 8;

impl TypeSystem {
    /// The type `ns.name` that assembly `target` forwards elsewhere, following
    /// forwarders through the assemblies they name (which must be loaded).
    pub(super) fn forwarded_type(
        &self,
        target: AsmId,
        ns: &str,
        name: &str,
    ) -> Result<Option<TypeId>> {
        let mut asm = target;
        for _ in 0..MAX_HOPS {
            let Some(next) = self.forwarder_target(asm, ns, name)? else {
                return Ok(None);
            };
            if let Some(t) = self.lookup_def(next, ns, name) {
                return Ok(Some(t));
            }
            asm = next;
        }
        Ok(None)
    }

    /// The loaded assembly that `asm`'s ExportedType row for `ns.name` forwards to.
    fn forwarder_target(&self, asm: AsmId, ns: &str, name: &str) -> Result<Option<AsmId>> {
        let md = self.asms[asm.0 as usize].asm.md();
        for rid in 1..=md.row_count(TableId::ExportedType) {
            let r: ExportedTypeRow = md.row(rid)?;
            if r.flags & FORWARDER == 0
                || md.string(r.name)? != name
                || md.string(r.namespace)? != ns
            {
                continue;
            }
            let imp = Token(r.implementation);
            if imp.table() != Some(TableId::AssemblyRef) {
                continue;
            }
            let ar: AssemblyRefRow = md.row(imp.row())?;
            let aname = md.string(ar.name)?.to_string();
            return Ok(match self.find_assembly(&aname) {
                Some(a) => Some(a),
                None if CORLIB_NAMES.contains(&aname.as_str()) => self.corlib,
                None => None,
            });
        }
        Ok(None)
    }
}
