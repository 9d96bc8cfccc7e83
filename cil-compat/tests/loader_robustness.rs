//! Truncated and bit-flipped copies of every real assembly (corlib, C# corpora, IL)
//! must be rejected with an error or loaded — never a panic — and a type system
//! that saw failed loads must still load good assemblies afterwards.

mod common;

use cil_compat::fuzzing::{load_into, walk_reader};
use cil_compat::metadata::Assembly;
use cil_compat::types::TypeSystem;
use cil_compat::Error;

/// Deterministic xorshift64* generator (no external crates).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn with_corlib() -> TypeSystem {
    let mut ts = TypeSystem::new();
    ts.load(std::fs::read(common::corlib()).unwrap()).unwrap();
    ts
}

#[test]
fn truncated_assemblies_are_rejected_with_errors() {
    for path in common::all_assemblies() {
        let bytes = std::fs::read(&path).unwrap();
        let is_corlib = path.file_name().unwrap() == "mscorlib.dll";
        let mut ts = if is_corlib {
            TypeSystem::new()
        } else {
            with_corlib()
        };
        let step = (bytes.len() / 1500).max(1);
        let mut rejected = 0;
        let mut tried = 0;
        let mut cut = 0;
        while cut < bytes.len() {
            let t = &bytes[..cut];
            walk_reader(t);
            let parsed = Assembly::parse(t.to_vec());
            if !load_into(&mut ts, t) {
                rejected += 1;
            }
            tried += 1;
            // Anything cut before the metadata ends cannot even be parsed.
            if cut < bytes.len() / 4 {
                let e = parsed.expect_err("a quarter of an assembly parses");
                assert!(matches!(e, Error::Malformed { .. }), "{e}");
                assert!(
                    e.to_string().contains("offset"),
                    "error names the offset: {e}"
                );
            }
            cut += if cut < 2048 { 1 } else { step };
        }
        assert!(
            rejected > tried / 2,
            "{}: only {rejected}/{tried} truncations rejected",
            path.display()
        );
        eprintln!(
            "{}: {rejected}/{tried} truncated copies rejected",
            path.display()
        );
    }
}

#[test]
fn bit_flipped_assemblies_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for path in common::all_assemblies() {
        let bytes = std::fs::read(&path).unwrap();
        let is_corlib = path.file_name().unwrap() == "mscorlib.dll";
        let mut ts = if is_corlib {
            TypeSystem::new()
        } else {
            with_corlib()
        };
        let (mut loaded, mut rejected) = (0, 0);
        for _ in 0..400 {
            let mut m = bytes.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(m.len());
                m[i] ^= 1 << rng.below(8);
            }
            walk_reader(&m);
            if load_into(&mut ts, &m) {
                loaded += 1;
                // Keep the system small: start over after a successful load.
                ts = if is_corlib {
                    TypeSystem::new()
                } else {
                    with_corlib()
                };
            } else {
                rejected += 1;
            }
        }
        eprintln!(
            "{}: {loaded} flipped copies loaded, {rejected} rejected",
            path.display()
        );
    }
}

#[test]
fn flips_in_the_metadata_headers_are_reported_with_location() {
    let bytes = std::fs::read(common::layouts()).unwrap();
    let a = Assembly::parse(bytes.clone()).unwrap();
    let ts_off = a.md().layout().tables_stream.offset;
    // Mark an unknown table present in the #~ valid mask.
    let mut m = bytes.clone();
    m[ts_off + 8 + 6] |= 0x80;
    let e = Assembly::parse(m).unwrap_err();
    assert!(e.to_string().contains("valid mask"), "{e}");
    // Break the metadata signature.
    let root = a
        .md()
        .layout()
        .pe
        .rva_to_offset(a.md().layout().pe.cli.metadata.rva)
        .unwrap();
    let mut m = bytes.clone();
    m[root] = b'X';
    let e = Assembly::parse(m).unwrap_err().to_string();
    assert!(
        e.contains("BSJB") && e.contains(&format!("{root:#x}")),
        "{e}"
    );
    // A TypeDef row pointing at a missing base type: the error names the table.
    let mut m = bytes;
    let td = a.md().layout().tables[2];
    let row2 = td.offset + td.row_size as usize; // TypeDef row 2
    let ext = row2 + td.col_offset[3] as usize;
    m[ext] = 0xFD;
    m[ext + 1] = 0xFF;
    let mut ts = with_corlib();
    let e = ts.load(m).unwrap_err().to_string();
    assert!(
        e.contains("TypeDef") || e.contains("TypeRef") || e.contains("type"),
        "{e}"
    );
}

#[test]
fn type_system_survives_failed_loads() {
    let mut ts = with_corlib();
    let good = std::fs::read(common::layouts()).unwrap();
    let mut rng = Rng(42);
    for _ in 0..200 {
        let mut m = good.clone();
        let i = rng.below(m.len());
        m[i] = m[i].wrapping_add(1 + rng.below(255) as u8);
        if ts.load(m).is_ok() {
            ts = with_corlib();
        }
    }
    let a = ts.load(good).expect("clean load after many failures");
    assert_eq!(ts.assembly_name(a), "LoaderLayouts");
    let t = ts.find_type_by_full_name("LoaderTests.PciAddress").unwrap();
    assert_eq!(ts.value_layout(t).unwrap().size, 3);
}

#[test]
fn mono_class_library_reads_without_errors_when_installed() {
    // A large third-party assembly (csc-built) exercises tables mcs never emits.
    for p in [
        "/usr/lib/mono/4.5/mscorlib.dll",
        "/usr/lib/mono/4.5/System.dll",
    ] {
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        let a = Assembly::parse(bytes.clone()).unwrap_or_else(|e| panic!("{p}: {e}"));
        let md = a.md();
        assert!(md.row_count(cil_compat::metadata::TableId::TypeDef) > 100);
        let n = walk_reader(&bytes);
        assert!(n > 10_000, "{p}: only {n} items decoded");
    }
    // Mono's own corlib loads as our corlib: every type gets a MethodTable.
    if let Ok(bytes) = std::fs::read("/usr/lib/mono/4.5/mscorlib.dll") {
        let mut ts = TypeSystem::new();
        let a = ts
            .load(bytes)
            .unwrap_or_else(|e| panic!("mono mscorlib: {e}"));
        assert!(ts.types_of(a).len() > 2000);
        let guid = ts.find_type("System", "Guid").unwrap();
        assert_eq!(ts.value_layout(guid).unwrap().size, 16);
        let dt = ts.find_type("System", "DateTime").unwrap();
        assert_eq!(ts.value_layout(dt).unwrap().size, 8);
        let s = ts.find_type("System", "String").unwrap();
        assert_eq!(ts.mt(s).component_size, 2);
    }
}
