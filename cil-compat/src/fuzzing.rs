//! Shared fuzzing entry points: walk everything the reader can decode from arbitrary
//! bytes (tables, heaps, signatures, method bodies) and load the bytes into a type
//! system. Used by the cargo-fuzz target (`cil-compat/fuzz`) and by the bounded
//! mutation test `tests/fuzz_smoke.rs`. Any panic here is a bug.

use alloc::string::String;

use crate::metadata::sig::{self, SigReader};
use crate::metadata::{
    Assembly, Col, FieldRow, MemberRefRow, MethodDefRow, MethodSpecRow, PropertyRow,
    StandAloneSigRow, TableId, TypeSpecRow, TABLE_COUNT,
};
use crate::types::TypeSystem;

/// Decodes everything decodable in `data`; returns how many items decoded cleanly.
pub fn walk_reader(data: &[u8]) -> usize {
    let Ok(asm) = Assembly::parse(data.into()) else {
        return 0;
    };
    let md = asm.md();
    let mut ok = 0usize;
    for t in 0..TABLE_COUNT as u8 {
        let Some(tid) = TableId::from_u8(t) else {
            continue;
        };
        let cols = crate::metadata::tables::schema(tid);
        for r in 1..=md.row_count(tid).min(4096) {
            for (c, col) in cols.iter().enumerate() {
                let Ok(v) = md.raw(tid, r, c) else { continue };
                ok += 1;
                let good = match col {
                    Col::Str => md.string(v).is_ok(),
                    Col::Blob => md.blob(v).is_ok(),
                    Col::Guid => md.guid(v).is_ok(),
                    Col::Coded(k) => k.decode(v).is_some(),
                    _ => true,
                };
                ok += good as usize;
            }
        }
    }
    let lim = |t| md.row_count(t).min(4096);
    for r in 1..=lim(TableId::Field) {
        if let Ok(row) = md.row::<FieldRow>(r) {
            ok += md.blob(row.signature).and_then(sig::parse_field).is_ok() as usize;
        }
    }
    for r in 1..=lim(TableId::MethodDef) {
        if let Ok(row) = md.row::<MethodDefRow>(r) {
            ok += md.blob(row.signature).and_then(sig::parse_method).is_ok() as usize;
            if row.rva != 0 {
                ok += md.method_body(row.rva).is_ok() as usize;
            }
        }
    }
    for r in 1..=lim(TableId::MemberRef) {
        if let Ok(row) = md.row::<MemberRefRow>(r) {
            if let Ok(b) = md.blob(row.signature) {
                ok += if sig::is_field_sig(b) {
                    sig::parse_field(b).is_ok()
                } else {
                    sig::parse_method(b).is_ok()
                } as usize;
            }
        }
    }
    for r in 1..=lim(TableId::TypeSpec) {
        if let Ok(row) = md.row::<TypeSpecRow>(r) {
            ok += md
                .blob(row.signature)
                .and_then(sig::parse_type_spec)
                .is_ok() as usize;
        }
    }
    for r in 1..=lim(TableId::StandAloneSig) {
        if let Ok(row) = md.row::<StandAloneSigRow>(r) {
            if let Ok(b) = md.blob(row.signature) {
                ok += (sig::parse_locals(b).is_ok() || sig::parse_method(b).is_ok()) as usize;
            }
        }
    }
    for r in 1..=lim(TableId::MethodSpec) {
        if let Ok(row) = md.row::<MethodSpecRow>(r) {
            ok += md
                .blob(row.instantiation)
                .and_then(sig::parse_method_spec)
                .is_ok() as usize;
        }
    }
    for r in 1..=lim(TableId::Property) {
        if let Ok(row) = md.row::<PropertyRow>(r) {
            if let Ok(b) = md.blob(row.ty) {
                ok += SigReader::new(b).property().is_ok() as usize;
            }
        }
    }
    let us = md.layout().user_strings;
    let mut off = 1u32;
    let mut n = 0;
    while (off as usize) < us.size && n < 4096 {
        let Some(len) = md.user_string_entry_len(off) else {
            break;
        };
        ok += md.user_string(off).is_ok() as usize;
        off = off.saturating_add(len);
        n += 1;
    }
    ok
}

/// Loads `data` into `ts` (which may already hold a corlib and other assemblies)
/// and, if that worked, renders the dump of everything loaded.
pub fn load_into(ts: &mut TypeSystem, data: &[u8]) -> bool {
    match ts.load(data.into()) {
        Ok(a) => {
            let mut out = String::new();
            crate::dump::dump_assembly(ts, a, &mut out);
            true
        }
        Err(e) => {
            // Rendering the error must not panic either.
            let _ = alloc::format!("{e}");
            false
        }
    }
}

/// The fuzz target body: reader walk plus a load as a corlib into a fresh system.
pub fn fuzz_one(data: &[u8]) {
    walk_reader(data);
    let mut ts = TypeSystem::new();
    load_into(&mut ts, data);
}

/// Second fuzz body: `corlib` (a known-good corlib image) is loaded first, then
/// `data` is loaded on top, exercising cross-assembly TypeRef/MemberRef binding.
pub fn fuzz_with_corlib(corlib: &[u8], data: &[u8]) {
    let mut ts = TypeSystem::new();
    if ts.load(corlib.into()).is_ok() {
        load_into(&mut ts, data);
    }
}
