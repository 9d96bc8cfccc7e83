//! Host-side assembly loading (`std` feature): reads an assembly file and the
//! assemblies it references (looked up as `<name>.dll` in library directories and
//! next to the file), loading dependencies first so the corlib comes first.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::metadata::{Assembly, AssemblyRefRow, TableId};
use crate::types::{AsmId, TypeSystem};

/// Names of the assemblies `bytes` references (AssemblyRef table).
pub fn referenced_names(bytes: &[u8]) -> Result<Vec<String>> {
    let a = Assembly::parse(bytes.to_vec())?;
    let md = a.md();
    let mut v = Vec::new();
    for r in 1..=md.row_count(TableId::AssemblyRef) {
        let row: AssemblyRefRow = md.row(r)?;
        v.push(md.string(row.name)?.to_string());
    }
    Ok(v)
}

/// Finds `<name>.dll` in `dirs`.
pub fn find_assembly_file(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter()
        .map(|d| d.join(format!("{name}.dll")))
        .find(|p| p.is_file())
}

/// Loads `path` and, first, everything it references that is not yet loaded.
/// References to the corlib under other names (System.Runtime, netstandard) bind to
/// the loaded corlib.
pub fn load_with_deps(ts: &mut TypeSystem, path: &Path, lib_dirs: &[PathBuf]) -> Result<AsmId> {
    let mut dirs: Vec<PathBuf> = lib_dirs.to_vec();
    if let Some(p) = path.parent() {
        dirs.push(p.to_path_buf());
    }
    load_rec(ts, path, &dirs, 0)
}

fn load_rec(ts: &mut TypeSystem, path: &Path, dirs: &[PathBuf], depth: u32) -> Result<AsmId> {
    if depth > 32 {
        return Err(Error::Unsupported {
            what: "assembly reference chain deeper than 32",
            detail: path.display().to_string(),
        });
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Toolchain(format!("read {}: {e}", path.display())))?;
    for name in referenced_names(&bytes)? {
        if ts.find_assembly(&name).is_some() {
            continue;
        }
        let is_corlib_alias = [
            "mscorlib",
            "System.Runtime",
            "netstandard",
            "System.Private.CoreLib",
        ]
        .contains(&name.as_str());
        if is_corlib_alias && ts.corlib().is_some() {
            continue;
        }
        match find_assembly_file(&name, dirs) {
            Some(p) => {
                load_rec(ts, &p, dirs, depth + 1)?;
            }
            None => {
                return Err(Error::Unresolved {
                    what: "assembly file (use --lib DIR)",
                    name: format!("{name}.dll referenced by {}", path.display()),
                })
            }
        }
    }
    ts.load(bytes)
}

/// Reads assembly files as `(file name, bytes)`: what `hosting::Runtime::new`
/// takes (through [`as_named`]), the way the kernel has them from its boot
/// module.
pub fn read_assemblies(paths: &[&Path]) -> Result<Vec<(String, Vec<u8>)>> {
    paths
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            std::fs::read(p)
                .map(|b| (name, b))
                .map_err(|e| Error::Toolchain(format!("read {}: {e}", p.display())))
        })
        .collect()
}

/// Borrows [`read_assemblies`]' result as `hosting::Runtime::new` wants it.
pub fn as_named(files: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect()
}
