//! The managed toolchain on the host (`std` feature): locates `mcs`/`ilasm`, compiles
//! C# sources and IL files into `<workspace>/target/managed/…`, and skips the work
//! when the output is newer than every input. Used by `cargo xtask` and by tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

use crate::error::{Error, Result};

/// The workspace root (parent of this crate's manifest directory).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

/// `<workspace>/target/managed`: where every managed build output goes.
pub fn managed_dir() -> PathBuf {
    workspace_root().join("target").join("managed")
}

/// `<workspace>/cil-compat/managed`: the managed sources (corlib, DDK, drivers).
pub fn managed_src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("managed")
}

/// Finds an executable on `PATH`; the error names the Debian package to install.
pub fn find_tool(name: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    let pkg = match name {
        "mcs" => "mono-mcs",
        "ilasm" | "monodis" => "mono-devel (or mono-utils)",
        "mono" => "mono-runtime",
        _ => "the package providing it",
    };
    Err(Error::Toolchain(format!(
        "`{name}` not found on PATH; install the Debian package {pkg} (apt-get install {})",
        pkg.split(' ').next().unwrap_or(pkg)
    )))
}

/// Output kind of a C# compilation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `-target:library`.
    Library,
    /// `-target:exe`.
    Exe,
}

/// Options for [`compile_cs`].
#[derive(Debug, Clone)]
pub struct CsOptions {
    /// Library or executable.
    pub target: Target,
    /// Pass `-unsafe`.
    pub allow_unsafe: bool,
    /// Pass `-nostdlib` (compile against our corlib, given in `references`).
    pub nostdlib: bool,
    /// Assemblies passed with `-r:`.
    pub references: Vec<PathBuf>,
    /// Extra mcs arguments (e.g. `-define:X`, `-optimize+`).
    pub extra: Vec<String>,
}

impl Default for CsOptions {
    fn default() -> Self {
        CsOptions {
            target: Target::Library,
            allow_unsafe: true,
            nostdlib: true,
            references: Vec::new(),
            extra: Vec::new(),
        }
    }
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// True if `out` exists and is newer than every file in `inputs`.
pub fn up_to_date(out: &Path, inputs: &[PathBuf]) -> bool {
    let Some(o) = mtime(out) else { return false };
    inputs.iter().all(|i| mtime(i).is_some_and(|t| t <= o))
}

static UNIQUE: AtomicU32 = AtomicU32::new(0);

/// Runs a tool into a private scratch directory and moves `file_name` to `out`
/// atomically, so concurrent builds of the same output never see a partial file.
fn build_into(out: &Path, run: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = out
        .parent()
        .ok_or_else(|| Error::Toolchain(format!("bad output path {}", out.display())))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Toolchain(format!("create {}: {e}", dir.display())))?;
    let scratch = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        UNIQUE.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| Error::Toolchain(format!("create {}: {e}", scratch.display())))?;
    let name = out
        .file_name()
        .ok_or_else(|| Error::Toolchain("output has no file name".into()))?;
    let tmp_out = scratch.join(name);
    let r = run(&tmp_out).and_then(|_| {
        std::fs::rename(&tmp_out, out)
            .map_err(|e| Error::Toolchain(format!("rename to {}: {e}", out.display())))
    });
    let _ = std::fs::remove_dir_all(&scratch);
    r
}

fn run_tool(mut cmd: Command, what: &str) -> Result<()> {
    let o = cmd
        .output()
        .map_err(|e| Error::Toolchain(format!("cannot run {what}: {e}")))?;
    if !o.status.success() {
        return Err(Error::Toolchain(format!(
            "{what} failed ({}):\n{}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )));
    }
    Ok(())
}

/// Compiles C# `sources` into `out` with mcs unless `out` is newer than the sources
/// and references. Returns true if mcs ran.
pub fn compile_cs(sources: &[PathBuf], out: &Path, opts: &CsOptions) -> Result<bool> {
    let mut inputs: Vec<PathBuf> = sources.to_vec();
    inputs.extend(opts.references.iter().cloned());
    if up_to_date(out, &inputs) {
        return Ok(false);
    }
    let mcs = find_tool("mcs")?;
    build_into(out, |tmp| {
        let mut c = Command::new(&mcs);
        c.arg(match opts.target {
            Target::Library => "-target:library",
            Target::Exe => "-target:exe",
        });
        if opts.nostdlib {
            c.arg("-nostdlib");
        }
        if opts.allow_unsafe {
            c.arg("-unsafe");
        }
        c.arg("-nologo")
            .arg("-debug-")
            .arg(format!("-out:{}", tmp.display()));
        for r in &opts.references {
            c.arg(format!("-r:{}", r.display()));
        }
        c.args(&opts.extra);
        c.args(sources);
        run_tool(c, &format!("mcs -> {}", out.display()))
    })?;
    Ok(true)
}

/// Assembles an IL file into a DLL with ilasm unless `out` is up to date. Returns
/// true if ilasm ran.
pub fn assemble_il(il: &Path, out: &Path) -> Result<bool> {
    if up_to_date(out, &[il.to_path_buf()]) {
        return Ok(false);
    }
    let ilasm = find_tool("ilasm")?;
    build_into(out, |tmp| {
        let mut c = Command::new(&ilasm);
        c.arg("-dll")
            .arg("-quiet")
            .arg(format!("-output:{}", tmp.display()))
            .arg(il);
        run_tool(c, &format!("ilasm {} -> {}", il.display(), out.display()))
    })?;
    Ok(true)
}

/// All `*.cs` files directly in `dir`, sorted.
pub fn cs_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| Error::Toolchain(format!("read {}: {e}", dir.display())))?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cs"))
        .collect();
    v.sort();
    Ok(v)
}

/// Builds our corlib (`cil-compat/managed/corlib/*.cs`) into `out_dir/mscorlib.dll`
/// and returns that path.
pub fn build_corlib(out_dir: &Path) -> Result<PathBuf> {
    let out = out_dir.join("mscorlib.dll");
    let sources = cs_files(&managed_src_dir().join("corlib"))?;
    compile_cs(&sources, &out, &CsOptions::default())?;
    Ok(out)
}

/// The corlib at its standard place, `target/managed/mscorlib.dll`.
pub fn corlib() -> Result<PathBuf> {
    build_corlib(&managed_dir())
}

/// Compiles C# `sources` against our corlib (plus `refs`) into
/// `target/managed/<name>.dll`; returns the path.
pub fn build_library(name: &str, sources: &[PathBuf], refs: &[PathBuf]) -> Result<PathBuf> {
    let corlib = corlib()?;
    let mut references = vec![corlib];
    references.extend(refs.iter().cloned());
    let out = managed_dir().join(format!("{name}.dll"));
    compile_cs(
        sources,
        &out,
        &CsOptions {
            references,
            ..CsOptions::default()
        },
    )?;
    Ok(out)
}

/// Assembles `il` into `target/managed/<name>.dll`; returns the path.
pub fn build_il(name: &str, il: &Path) -> Result<PathBuf> {
    let out = managed_dir().join(format!("{name}.dll"));
    assemble_il(il, &out)?;
    Ok(out)
}
