//! Shared fuzzing entry points: walk everything the reader can decode from arbitrary
//! bytes (tables, heaps, signatures, method bodies), load the bytes into a type
//! system, and compile arbitrary method bodies with the JIT ([`JitBodies`]). Used
//! by the cargo-fuzz targets (`cil-compat/fuzz`) and by the bounded mutation tests
//! `tests/fuzz_smoke.rs`. Any panic here is a bug.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::exec::{CodeMemory, Engine, EngineError};
use crate::metadata::sig::{self, SigReader};
use crate::metadata::{
    Assembly, Col, FieldRow, MemberRefRow, MethodDefRow, MethodSpecRow, PropertyRow,
    StandAloneSigRow, TableId, TypeSpecRow, TABLE_COUNT,
};
use crate::types::{MethodId, TypeSystem};

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

/// Third fuzz body: arbitrary method bodies through the JIT, compiled in the
/// context of a real corlib method (its signature, locals, assembly and
/// tokens), so valid and invalid IL meet the code generator and the engine's
/// token resolution alike. Nothing compiled here is run.
///
/// An input is `[method: u16 LE][clauses: u8][clause × 11 bytes][IL …]`:
/// the method index (modulo the number of corlib methods whose own body
/// compiles), the number of exception clauses (low 4 bits), each clause as
/// kind (`% 4`: catch, filter, finally, fault), try start and length,
/// handler start and length, and a 16-bit extra (catch: the row of a TypeDef
/// token; filter: the filter's IL offset), all u16 LE; the rest is the body.
/// [`JitBodies::seeds`] encodes every real body this way, so the fuzzer
/// starts from valid IL and mutates it into invalid IL.
pub struct JitBodies {
    engine: Engine,
    /// The corlib methods whose real bodies compile, with those bodies.
    methods: Vec<(MethodId, Vec<u8>, Vec<jit::EhClause>)>,
    /// Bodies left out because they do not compile on their own: those of
    /// open generic types and methods (the engine compiles instantiations).
    skipped: Vec<String>,
}

/// Bytes of one encoded clause.
const CLAUSE_BYTES: usize = 11;

/// Code memory for [`JitBodies`]: hands out addresses in a range nothing
/// maps and keeps nothing (the code is never run).
struct Discard {
    next: u64,
}

impl CodeMemory for Discard {
    fn install(&mut self, code: &[u8]) -> Result<u64, EngineError> {
        let at = self.next;
        self.next = at
            .checked_add((code.len() as u64).next_multiple_of(16).max(16))
            .ok_or(EngineError::CodeSpace("discard memory exhausted".into()))?;
        Ok(at)
    }
}

impl JitBodies {
    /// Loads `corlib` and finds the methods whose own body compiles. `None`
    /// if the corlib does not load.
    pub fn new(corlib: &[u8]) -> Option<JitBodies> {
        let mut ts = TypeSystem::new();
        let asm = ts.load(corlib.into()).ok()?;
        let mut engine = Engine::new(
            ts,
            Box::new(Discard {
                next: 0x5a00_0000_0000,
            }),
        );
        let mut candidates = Vec::new();
        for &t in engine.ts.types_of(asm) {
            for &m in &engine.ts.info(t).methods {
                if let Ok(Some(b)) = engine.ts.method_body(m) {
                    candidates.push((m, b.code.to_vec(), crate::exec::eh_clauses(&b.eh)));
                }
            }
        }
        let (mut methods, mut skipped) = (Vec::new(), Vec::new());
        for (m, il, eh) in candidates {
            match engine.compile_detached(m, &il, eh.clone()) {
                Ok(_) => methods.push((m, il, eh)),
                Err(e) => skipped.push(e.to_string()),
            }
        }
        Some(JitBodies {
            engine,
            methods,
            skipped,
        })
    }

    /// How many corlib methods the inputs choose from.
    pub fn method_count(&self) -> usize {
        self.methods.len()
    }

    /// Why the corlib bodies left out do not compile on their own.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// Every real body, encoded as an input (the fuzzer's seeds).
    pub fn seeds(&self) -> Vec<Vec<u8>> {
        self.methods
            .iter()
            .enumerate()
            .map(|(i, (_, il, eh))| encode(i as u16, eh, il))
            .collect()
    }

    /// Compiles the body `data` describes: the code length or the JIT's
    /// error (rendered, so formatting is exercised too); `None` when `data`
    /// is too short to name a method or there are no methods.
    pub fn run(&mut self, data: &[u8]) -> Option<Result<usize, String>> {
        if self.methods.is_empty() || data.len() < 3 {
            return None;
        }
        let m =
            self.methods[u16::from_le_bytes([data[0], data[1]]) as usize % self.methods.len()].0;
        let n = (data[2] & 0x0f) as usize;
        let mut rest = &data[3..];
        let mut eh = Vec::with_capacity(n);
        for _ in 0..n {
            let Some((c, tail)) = rest.split_first_chunk::<CLAUSE_BYTES>() else {
                break;
            };
            eh.push(decode_clause(c));
            rest = tail;
        }
        Some(
            self.engine
                .compile_detached(m, rest, eh)
                .map_err(|e| e.to_string()),
        )
    }
}

fn decode_clause(c: &[u8; CLAUSE_BYTES]) -> jit::EhClause {
    let w = |i: usize| u16::from_le_bytes([c[1 + 2 * i], c[2 + 2 * i]]) as u32;
    let (try_start, try_len, h_start, h_len, extra) = (w(0), w(1), w(2), w(3), w(4));
    jit::EhClause {
        kind: match c[0] % 4 {
            0 => jit::EhKind::Catch(0x0200_0000 | extra),
            1 => jit::EhKind::Filter(extra),
            2 => jit::EhKind::Finally,
            _ => jit::EhKind::Fault,
        },
        try_start,
        try_end: try_start + try_len,
        handler_start: h_start,
        handler_end: h_start + h_len,
    }
}

/// The input that makes [`JitBodies::run`] compile `il` with `eh` as method
/// `index` (clauses past 15, or with offsets past 16 bits, are dropped).
fn encode(index: u16, eh: &[jit::EhClause], il: &[u8]) -> Vec<u8> {
    let fits = |c: &&jit::EhClause| {
        c.try_end.max(c.handler_end) <= u16::MAX as u32
            && match c.kind {
                jit::EhKind::Catch(t) => {
                    t & 0xff00_0000 == 0x0200_0000 && t & 0x00ff_ffff <= 0xffff
                }
                jit::EhKind::Filter(f) => f <= 0xffff,
                _ => true,
            }
    };
    let kept: Vec<&jit::EhClause> = eh.iter().filter(fits).take(15).collect();
    let mut out = Vec::with_capacity(3 + kept.len() * CLAUSE_BYTES + il.len());
    out.extend_from_slice(&index.to_le_bytes());
    out.push(kept.len() as u8);
    for c in kept {
        let (kind, extra) = match c.kind {
            jit::EhKind::Catch(t) => (0u8, t & 0xffff),
            jit::EhKind::Filter(f) => (1, f),
            jit::EhKind::Finally => (2, 0),
            jit::EhKind::Fault => (3, 0),
        };
        out.push(kind);
        for v in [
            c.try_start,
            c.try_end - c.try_start,
            c.handler_start,
            c.handler_end - c.handler_start,
            extra,
        ] {
            out.extend_from_slice(&(v as u16).to_le_bytes());
        }
    }
    out.extend_from_slice(il);
    out
}
