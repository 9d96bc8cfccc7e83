//! Load benchmark (`std` feature), called by `cargo xtask bench load`: times loading
//! assemblies into a fresh [`TypeSystem`] and reports µs per assembly and the heap
//! bytes the loader used. Prints nothing and asserts nothing; the caller prints.

use std::path::PathBuf;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::types::TypeSystem;

/// One measured assembly.
#[derive(Debug, Clone)]
pub struct LoadFigure {
    /// Assembly name.
    pub name: String,
    /// File size in bytes.
    pub file_bytes: usize,
    /// Median load time over the iterations, in microseconds.
    pub micros: f64,
    /// Types the assembly defines.
    pub types: usize,
}

/// Result of [`bench_load`].
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Per assembly, in load order.
    pub assemblies: Vec<LoadFigure>,
    /// Bytes of static storage and MethodTable data are not on the managed heap;
    /// this is what the managed heap holds after loading (string literals interned
    /// during the run), plus the bytes it reserved.
    pub heap_bytes_allocated: usize,
    /// Bytes the managed heap reserved from the allocator.
    pub heap_bytes_reserved: usize,
    /// Approximate loader memory: file bytes plus MethodTables, methods and fields.
    pub loader_bytes_estimate: usize,
}

/// Loads `paths` (in dependency order: corlib, DDK, driver) `iterations` times into
/// fresh type systems and reports the median time per assembly. Also interns every
/// `#US` literal once so the heap figure reflects a loaded driver.
pub fn bench_load(paths: &[PathBuf], iterations: usize) -> Result<LoadReport> {
    let files: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| {
            std::fs::read(p).map_err(|e| Error::Toolchain(format!("read {}: {e}", p.display())))
        })
        .collect::<Result<_>>()?;
    let iterations = iterations.max(1);
    let mut times = vec![Vec::with_capacity(iterations); files.len()];
    let mut last = None;
    for _ in 0..iterations {
        let mut ts = TypeSystem::new();
        for (k, f) in files.iter().enumerate() {
            let t0 = Instant::now();
            ts.load(f.clone())?;
            times[k].push(t0.elapsed().as_secs_f64() * 1e6);
        }
        last = Some(ts);
    }
    let mut ts = last.ok_or_else(|| Error::Toolchain("no iterations".into()))?;
    // Intern every user string, as running the driver would.
    for a in ts.assemblies().collect::<Vec<_>>() {
        let md = ts.metadata(a)?;
        let us = md.layout().user_strings;
        let mut offs = Vec::new();
        let mut off = 1u32;
        while (off as usize) < us.size {
            let len = match md.user_string_entry_len(off) {
                Some(l) => l,
                None => break,
            };
            offs.push(off);
            off += len;
        }
        for o in offs {
            let _ = ts.string_literal(a, crate::metadata::Token(0x7000_0000 | o));
        }
    }
    let mut assemblies = Vec::new();
    for (k, a) in ts.assemblies().enumerate() {
        let mut v = times[k].clone();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        assemblies.push(LoadFigure {
            name: ts.assembly_name(a).to_string(),
            file_bytes: files[k].len(),
            micros: v[v.len() / 2],
            types: ts.types_of(a).len(),
        });
    }
    let loader_bytes_estimate = files.iter().map(|f| f.len()).sum::<usize>()
        + ts.type_count() * std::mem::size_of::<crate::types::MethodTable>()
        + ts.method_count() * std::mem::size_of::<crate::types::MethodDesc>();
    Ok(LoadReport {
        assemblies,
        heap_bytes_allocated: ts.heap().bytes_allocated(),
        heap_bytes_reserved: ts.heap().bytes_reserved(),
        loader_bytes_estimate,
    })
}
