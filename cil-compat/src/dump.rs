//! Text dump of what the loader sees (used by `cilrun --dump` and tests): per
//! assembly, every type with its size, alignment, MethodTable facts, field offsets,
//! vtable and interface maps, and every method with its signature and IL size.

use alloc::format;
use alloc::string::String;
use core::fmt::Write;

use crate::types::{AsmId, MethodId, TypeId, TypeKind, TypeSystem};

/// `ret name(params)` for a method.
pub fn method_signature(ts: &TypeSystem, m: MethodId) -> String {
    let d = ts.method(m);
    let mut s = format!("{} {}(", ts.type_name(d.sig.ret), d.name);
    for (i, p) in d.sig.params.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&ts.type_name(*p));
    }
    s.push(')');
    s
}

fn kind_word(k: TypeKind) -> &'static str {
    match k {
        TypeKind::Class => "class",
        TypeKind::ValueType => "struct",
        TypeKind::Enum => "enum",
        TypeKind::Interface => "interface",
        TypeKind::Primitive(_) => "primitive",
        TypeKind::String => "string",
        TypeKind::SzArray | TypeKind::Array => "array",
        TypeKind::Ptr => "pointer",
        TypeKind::ByRef => "byref",
        TypeKind::FnPtr => "fnptr",
        TypeKind::GenericParam { .. } => "generic-param",
    }
}

/// Dumps one type.
pub fn dump_type(ts: &TypeSystem, t: TypeId, out: &mut String) {
    let i = ts.info(t);
    let mt = ts.mt(t);
    let _ = write!(out, "{} {}", kind_word(i.kind), ts.type_name(t));
    if let Some(p) = i.parent {
        let _ = write!(out, " : {}", ts.type_name(p));
    }
    let _ = writeln!(
        out,
        "  size={} align={} base_size={} component_size={} vtable={} flags={:#x}",
        i.size, i.align, mt.base_size, mt.component_size, mt.vtable_len, mt.flags
    );
    if !ts.is_complete(t) {
        // Load levels (`TypeSystem::complete`): nothing has needed them yet.
        let _ = writeln!(out, "  (vtable, interface maps and statics not built yet)");
    }
    if !i.gc_refs.is_empty() {
        let _ = writeln!(out, "  gc_refs {:?}", i.gc_refs);
    }
    for f in &i.fields {
        let d = ts.field(*f);
        let kind = if d.is_literal() {
            "const"
        } else if d.is_static() {
            "static"
        } else {
            "field"
        };
        let _ = write!(out, "  {kind} {} {}", ts.type_name(d.ty), d.name);
        if !d.is_literal() {
            let _ = write!(out, " @{}", d.offset);
        }
        if let Some((_, len)) = d.rva_data {
            let _ = write!(out, " rva_data={len}");
        }
        out.push('\n');
    }
    for (s, m) in i.vslots.iter().enumerate() {
        let d = ts.method(*m);
        let _ = writeln!(out, "  vtable[{s}] = {}::{}", ts.type_name(d.owner), d.name);
    }
    for im in &i.interfaces {
        let _ = writeln!(
            out,
            "  implements {} slots {:?}",
            ts.type_name(im.iface),
            im.slots
        );
    }
    for m in &i.methods {
        let d = ts.method(*m);
        let _ = write!(out, "  method {}", method_signature(ts, *m));
        if d.is_static() {
            out.push_str(" static");
        }
        if d.is_virtual() {
            out.push_str(" virtual");
        }
        if d.is_abstract() {
            out.push_str(" abstract");
        }
        if d.is_internal_call() {
            out.push_str(" internalcall");
        }
        if let Some(s) = d.slot {
            let _ = write!(out, " slot={s}");
        }
        match ts.method_body(*m) {
            Ok(Some(b)) => {
                let _ = write!(out, " il={}", b.code.len());
            }
            Ok(None) => {}
            Err(e) => {
                let _ = write!(out, " il=<{e}>");
            }
        }
        out.push('\n');
    }
}

/// Dumps an assembly: its name and every type it defines.
pub fn dump_assembly(ts: &TypeSystem, a: AsmId, out: &mut String) {
    let _ = writeln!(
        out,
        "assembly {} ({} types)",
        ts.assembly_name(a),
        ts.types_of(a).len()
    );
    for t in ts.types_of(a) {
        dump_type(ts, *t, out);
    }
}

/// Dumps constructed types (arrays, pointers, generic instances) created so far.
pub fn dump_constructed(ts: &TypeSystem, out: &mut String) {
    let _ = writeln!(out, "constructed types");
    for t in ts.types() {
        let i = ts.info(t);
        if i.token.0 == 0 && (i.element.is_some() || i.generic_def.is_some()) {
            dump_type(ts, t, out);
        }
    }
}
