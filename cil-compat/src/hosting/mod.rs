//! Hosting managed drivers: the one `no_std` layer the kernel and the host
//! tests share. It loads a set of assemblies (corlib, managed DDK, drivers) in
//! dependency order, binds their imports to a DDK ABI table ([`imports`]),
//! offers each managed driver as a `ddk::driver::Driver` ([`driver`]), runs
//! every entry into managed code under a recovery point ([`guard`]), tracks
//! what each driver instance holds so a failed one can be stopped and its
//! device released ([`resources`]), explains failures ([`report`]), and
//! replaces a failed driver under a block device without its user noticing
//! ([`supervise`]).
//!
//! The platform supplies three things: the DDK ABI table, executable memory
//! ([`crate::exec::CodeMemory`], W^X pages in the kernel), and — for CPU
//! exceptions — a fault handler that calls [`guard::trap`].

pub mod dma_guard;
pub mod driver;
pub mod guard;
#[cfg(feature = "std")]
pub mod host_signals;
pub mod imports;
pub mod report;
pub mod resources;
pub mod supervise;
pub mod trap;
pub mod virtio_watch;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use ddk::abi::{DdkAbi, DdkError, STATUS_OK};

use crate::exec::{CodeMemory, Engine, Failure, Stats};
use crate::metadata::{Assembly, AssemblyRefRow, AssemblyRow, TableId};
use crate::types::TypeSystem;

pub use driver::{DriverEntry, ManagedBlockDevice, ManagedDriver};
pub use guard::ResumeAt;
pub use report::FaultReport;
pub use trap::{CpuTrap, Trap};

/// Why a managed runtime could not be set up or a driver not started.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostError {
    /// The platform's DDK ABI table was rejected (bad magic, version, size).
    Platform(DdkError),
    /// No assembly was given, or none of them is a corlib.
    NoCorlib,
    /// An assembly failed to parse or load.
    Load { assembly: String, error: String },
    /// An assembly references one that is not in the set.
    MissingReference { assembly: String, reference: String },
    /// An import could not be bound.
    Import {
        assembly: String,
        method: String,
        problem: String,
    },
    /// The JIT rejected a method (it names the method).
    Compile(String),
    /// A runtime service is missing from the corlib.
    Runtime(String),
    /// No type in the set looks like a managed driver entry class.
    NoDriver,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Platform(e) => write!(f, "DDK ABI table rejected: {e}"),
            HostError::NoCorlib => write!(f, "no corlib (mscorlib.dll) among the assemblies"),
            HostError::Load { assembly, error } => write!(f, "load {assembly}: {error}"),
            HostError::MissingReference {
                assembly,
                reference,
            } => write!(
                f,
                "{assembly} references assembly '{reference}', which is not in the set"
            ),
            HostError::Import {
                assembly,
                method,
                problem,
            } => write!(f, "import {method} (in {assembly}) {problem}"),
            HostError::Compile(e) => write!(f, "JIT: {e}"),
            HostError::Runtime(e) => write!(f, "runtime: {e}"),
            HostError::NoDriver => write!(
                f,
                "no managed driver entry class (a static class `Driver` with `bool Matches(ushort, ushort, ushort)` and `uint ProbeBdf(uint)`)"
            ),
        }
    }
}

/// One loaded assembly, for the boot log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedAssembly {
    /// The assembly's own name (Assembly table).
    pub name: String,
    /// Where it came from (file or archive entry name).
    pub source: String,
    pub bytes: usize,
    /// Load time in µs (0 when the platform has no clock).
    pub micros: u64,
}

/// Names referenced by an assembly's AssemblyRef table that must be loaded
/// first, and its own name.
fn identity(bytes: &[u8]) -> Result<(String, Vec<String>), crate::Error> {
    let a = Assembly::parse(bytes.to_vec())?;
    let md = a.md();
    let own = if md.row_count(TableId::Assembly) >= 1 {
        let r: AssemblyRow = md.row(1)?;
        md.string(r.name)?.to_string()
    } else {
        String::new()
    };
    let mut refs = Vec::new();
    for r in 1..=md.row_count(TableId::AssemblyRef) {
        let row: AssemblyRefRow = md.row(r)?;
        refs.push(md.string(row.name)?.to_string());
    }
    Ok((own, refs))
}

/// Names other toolchains use for the corlib (they bind to ours).
const CORLIB_ALIASES: &[&str] = &[
    "mscorlib",
    "System.Runtime",
    "netstandard",
    "System.Private.CoreLib",
];

/// A loaded, bound managed world: the engine, what was loaded and bound.
pub struct Runtime {
    pub engine: Box<Engine>,
    pub loaded: Vec<LoadedAssembly>,
    pub bound: imports::Bound,
    abi: &'static DdkAbi,
}

impl Runtime {
    /// Loads `assemblies` (`(source name, bytes)`, any order: they are loaded
    /// in dependency order), binds every import to `abi` and activates the
    /// engine. Errors name the assembly or method at fault.
    ///
    /// # Safety
    /// `abi` must be a table whose entries uphold the DDK ABI contracts
    /// (JIT code will call them), and no other engine may be active.
    pub unsafe fn new(
        assemblies: &[(&str, &[u8])],
        mem: Box<dyn CodeMemory>,
        abi: &'static DdkAbi,
    ) -> Result<Runtime, HostError> {
        // SAFETY: forwarded contract.
        unsafe { ddk::Platform::new(abi) }.map_err(HostError::Platform)?;
        let clock = Clock(abi);
        let mut pending: Vec<(String, String, Vec<String>, &[u8])> = Vec::new();
        for (source, bytes) in assemblies {
            let (name, refs) = identity(bytes).map_err(|e| HostError::Load {
                assembly: String::from(*source),
                error: e.to_string(),
            })?;
            pending.push((String::from(*source), name, refs, bytes));
        }
        let mut ts = TypeSystem::new();
        let mut loaded: Vec<LoadedAssembly> = Vec::new();
        while !pending.is_empty() {
            let ready = pending.iter().position(|(_, name, refs, _)| {
                refs.iter().all(|r| {
                    r == name
                        || loaded.iter().any(|l| &l.name == r)
                        || (CORLIB_ALIASES.contains(&r.as_str()) && ts.corlib().is_some())
                })
            });
            let Some(i) = ready else {
                let (source, _, refs, _) = &pending[0];
                let missing = refs
                    .iter()
                    .find(|r| {
                        !loaded.iter().any(|l| &l.name == *r)
                            && !pending.iter().any(|p| &p.1 == *r)
                            && !CORLIB_ALIASES.contains(&r.as_str())
                    })
                    .cloned()
                    .unwrap_or_else(|| String::from("mscorlib (or a reference cycle)"));
                return Err(HostError::MissingReference {
                    assembly: source.clone(),
                    reference: missing,
                });
            };
            let (source, name, _, bytes) = pending.remove(i);
            let t0 = clock.us();
            ts.load(bytes.to_vec()).map_err(|e| HostError::Load {
                assembly: source.clone(),
                error: e.to_string(),
            })?;
            loaded.push(LoadedAssembly {
                name,
                source,
                bytes: bytes.len(),
                micros: clock.us().saturating_sub(t0),
            });
        }
        if ts.corlib().is_none() {
            return Err(HostError::NoCorlib);
        }
        let mut engine = Box::new(Engine::new(ts, mem));
        engine.on_fail = on_fail;
        resources::set_platform(abi);
        engine.clock = Some(platform_ns);
        engine.activate();
        let bound = imports::bind_all(&mut engine, abi)?;
        Ok(Runtime {
            engine,
            loaded,
            bound,
            abi,
        })
    }

    /// Monotonic µs from the platform's clock (0 without one).
    pub fn now_us(&self) -> u64 {
        Clock(self.abi).us()
    }

    /// The platform table the runtime is bound to.
    pub fn abi(&self) -> &'static DdkAbi {
        self.abi
    }

    /// The JIT's work so far (methods, IL bytes, code bytes).
    pub fn stats(&self) -> Stats {
        self.engine.stats
    }

    /// Compiles `Ns.Type::Method` and returns its code address.
    pub fn compile(&mut self, type_full_name: &str, method: &str) -> Result<u64, HostError> {
        let t = self
            .engine
            .ts
            .find_type_by_full_name(type_full_name)
            .ok_or_else(|| HostError::Compile(format!("no type {type_full_name}")))?;
        let m =
            self.engine.ts.find_method(t, method).ok_or_else(|| {
                HostError::Compile(format!("no method {type_full_name}::{method}"))
            })?;
        self.engine
            .compile(m)
            .map_err(|e| HostError::Compile(e.to_string()))
    }

    /// Every managed driver entry class in the loaded set.
    pub fn drivers(&self) -> Vec<DriverEntry> {
        driver::discover(&self.engine.ts)
    }
}

/// The platform clock through the ABI's `time_ns`.
struct Clock(&'static DdkAbi);

impl Clock {
    fn ns(&self) -> u64 {
        let mut ns = 0u64;
        // SAFETY: a checked platform table; the out-pointer is a valid local.
        if unsafe { (self.0.time_ns)(&mut ns) } == STATUS_OK {
            ns
        } else {
            0
        }
    }
    fn us(&self) -> u64 {
        self.ns() / 1000
    }
}

/// The platform clock for the engine (0 without one).
fn platform_ns() -> u64 {
    resources::platform().map_or(0, |abi| Clock(abi).ns())
}

/// `Engine::on_fail` under hosting: end the guarded call that is running.
fn on_fail(f: &Failure) -> ! {
    let rsp = guard::stack_pointer();
    let rbp = if f.rbp != 0 {
        f.rbp
    } else {
        guard::frame_pointer()
    };
    guard::fail(Trap::Managed {
        failure: f.clone(),
        rbp,
        rsp,
    });
    panic!(
        "managed runtime error {} in {} at IL_{:04x} outside any guarded call",
        f.kind, f.method, f.il_offset
    )
}
