//! The managed runtime in the kernel: reads the assemblies (corlib, managed
//! DDK, drivers) from the PVH boot module, hands them to `cil_compat`'s
//! hosting layer with the kernel's DDK ABI table and W^X code memory, and
//! turns a CPU exception in a driver's guarded call into a contained failure
//! (the exception handler calls [`recover`]).
//!
//! Everything here runs once, lazily, the first time the driver manager needs
//! a managed driver; a missing or bad module is an error string the driver
//! manager logs (and, under `driver=auto`, answers with the native driver).

use alloc::boxed::Box;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;

use cil_compat::exec::{CodeMemory, EngineError};
use cil_compat::hosting::driver::SharedRuntime;
use cil_compat::hosting::{guard, CpuTrap, ManagedDriver, Runtime};
use log::info;

use crate::arch::x86_64::idt::ExceptionFrame;
use crate::arch::x86_64::{boot, cpu};

/// JIT output goes to the W^X code region.
pub(crate) struct KernelCode;

impl CodeMemory for KernelCode {
    fn install(&mut self, code: &[u8]) -> Result<u64, EngineError> {
        crate::mem::code::install(code).map_err(|e| EngineError::CodeSpace(e.to_string()))
    }
}

/// The loaded runtime and its drivers.
pub struct Managed {
    pub runtime: SharedRuntime,
    pub drivers: Vec<&'static ManagedDriver>,
}

/// Lets the one-time state live in a static.
struct SingleCpu(Result<Managed, String>);

// SAFETY: the kernel runs on one CPU with interrupts off and no threads: the
// Rc/RefCell inside are never touched from two contexts at once.
unsafe impl Sync for SingleCpu {}
// SAFETY: as above.
unsafe impl Send for SingleCpu {}

static MANAGED: spin::Once<SingleCpu> = spin::Once::new();

/// The managed runtime, loaded on first use from the boot module.
pub fn get() -> Result<&'static Managed, &'static str> {
    match &MANAGED.call_once(|| SingleCpu(load())).0 {
        Ok(m) => Ok(m),
        Err(e) => Err(e.as_str()),
    }
}

/// Runtimes loaded after boot (`load_fresh`), in load order.
struct Fresh(Vec<&'static Managed>);

// SAFETY: as for `SingleCpu`: one CPU, no threads.
unsafe impl Send for Fresh {}

static FRESH: spin::Mutex<Fresh> = spin::Mutex::new(Fresh(Vec::new()));

/// The runtime if it was loaded (for listings; never loads it).
pub fn loaded() -> Option<&'static Managed> {
    MANAGED.get().and_then(|s| s.0.as_ref().ok())
}

/// Every runtime loaded so far: the boot-time one, then fresh loads.
pub fn loads() -> Vec<&'static Managed> {
    let mut v: Vec<&'static Managed> = loaded().into_iter().collect();
    v.extend(FRESH.lock().0.iter().copied());
    v
}

/// A fresh load of the assemblies from the boot module: a new engine with
/// its own JIT code, for a driver rebound while the machine runs. The first
/// load's runtime stays for the devices it serves.
pub fn load_fresh() -> Result<&'static Managed, String> {
    let m: &'static Managed = Box::leak(Box::new(load()?));
    FRESH.lock().0.push(m);
    Ok(m)
}

fn load() -> Result<Managed, String> {
    let Some(module) = crate::bootinfo::module() else {
        return Err(String::from(
            "no boot module: the managed assemblies come from the PVH boot module (QEMU -initrd)",
        ));
    };
    let t0 = crate::time::now_us();
    let assemblies = assemblies(module)?;
    info!(
        "managed: boot module {} bytes, {} assemblies, archive checked in {} us",
        module.len(),
        assemblies.len(),
        crate::time::now_us() - t0
    );
    // SAFETY: `platform::ABI` is the kernel's complete table, and this is the
    // only engine the kernel ever creates.
    let rt = unsafe { Runtime::new(&assemblies, Box::new(KernelCode), &crate::platform::ABI) }
        .map_err(|e| e.to_string())?;
    // Collections during driver calls too: the collector scans the stack up
    // to each hosted call's entry (`cil_compat::exec::gc`).
    let mut rt = rt;
    rt.engine.gc.hosted = true;
    for a in &rt.loaded {
        info!(
            "managed: loaded {} ({}, {} bytes) in {} us",
            a.name, a.source, a.bytes, a.micros
        );
    }
    info!(
        "managed: bound {} DDK ABI imports and {} runtime services",
        rt.bound.abi_imports, rt.bound.runtime_services
    );
    let entries = rt.drivers();
    let runtime: SharedRuntime = Rc::new(RefCell::new(rt));
    let mut drivers = Vec::new();
    for e in entries {
        let d = ManagedDriver::new(&runtime, e.clone())
            .map_err(|err| format!("driver {} ({}): {err}", e.name, e.assembly))?;
        info!(
            "managed: driver {} from {} ({})",
            e.name, e.assembly, e.class
        );
        drivers.push(&*Box::leak(Box::new(d)));
    }
    if drivers.is_empty() {
        return Err(cil_compat::hosting::HostError::NoDriver.to_string());
    }
    Ok(Managed { runtime, drivers })
}

/// The `.dll` entries of the boot module `module` (checked archive), in
/// archive order; an error when it holds none.
pub(crate) fn assemblies(
    module: &'static [u8],
) -> Result<Vec<(&'static str, &'static [u8])>, String> {
    let entries = cil_compat::bundle::parse(module).map_err(|e| format!("boot module: {e}"))?;
    let dlls: Vec<(&str, &[u8])> = entries
        .iter()
        .filter(|e| e.name.ends_with(".dll"))
        .map(|e| (e.name, e.data))
        .collect();
    if dlls.is_empty() {
        return Err(String::from("boot module: no .dll entries"));
    }
    Ok(dlls)
}

/// Logs each loaded runtime's managed heap: collections, pauses, bytes (at
/// the verdict; skipped for a runtime in use, as when a fault ends the run).
pub fn log_heap_summary() {
    // `try_lock`: this runs on the way out, maybe from a fault taken while
    // a fresh load held the list.
    let mut all: Vec<&'static Managed> = loaded().into_iter().collect();
    if let Some(fresh) = FRESH.try_lock() {
        all.extend(fresh.0.iter().copied());
    }
    for (i, m) in all.into_iter().enumerate() {
        let Ok(rt) = m.runtime.try_borrow() else {
            continue;
        };
        let h = rt.engine.ts.heap();
        let s = h.stats();
        info!(
            "managed: heap of runtime {}: {} collections (pause total {} us, max {} us), {} KiB allocated, {} KiB live after the last, {} KiB held (peak {} KiB)",
            i,
            s.collections,
            s.total_pause_ns / 1000,
            s.max_pause_ns / 1000,
            s.total_allocated / 1024,
            s.live_after_last / 1024,
            h.bytes_reserved() / 1024,
            s.peak_reserved / 1024
        );
    }
}

/// Logs the JIT's work so far (after binding), and at `log=trace` the code
/// map (method, address, bytes) for profilers reading guest PCs.
pub fn log_jit_stats(m: &Managed) {
    let rt = m.runtime.borrow();
    if log::log_enabled!(log::Level::Trace) {
        for (method, addr, len) in rt.engine.code_map() {
            log::trace!(
                "managed: code 0x{:x} {} {}",
                addr,
                len,
                rt.engine.method_name(method)
            );
        }
    }
    let s = rt.stats();
    info!(
        "managed: JIT compiled {} methods ({} IL bytes -> {} code bytes) in {} us",
        s.methods,
        s.il_bytes,
        s.code_bytes,
        s.compile_ns / 1000
    );
}

/// Vectors a driver's code can raise that leave the CPU in a state we can
/// resume from (SDM vol. 3A §6.15): faults and traps, not #DF/#MC/NMI.
fn containable(vector: u64) -> bool {
    matches!(vector, 0 | 3 | 4 | 5 | 6 | 7 | 12 | 13 | 14 | 16 | 17 | 19)
}

/// Called by the exception handler: if a driver's guarded call is running,
/// records the fault and rewrites `f` to resume the call's recovery point.
pub fn recover(f: &mut ExceptionFrame) -> bool {
    if !guard::active() || !containable(f.vector) {
        return false;
    }
    // SAFETY: single CPU: whoever held the console lock was interrupted by
    // this fault and is being abandoned, so it will never unlock it.
    unsafe { crate::serial::force_unlock() };
    let cr2 = (f.vector == 14).then(cpu::cr2);
    let cause = match cr2 {
        Some(a) if a & !0xfff == boot::stack_guard_page() => {
            String::from("stack exhausted (the guard page below the kernel stack)")
        }
        Some(a) => String::from(crate::exceptions::page_fault_cause(f.error_code, a)),
        None => String::new(),
    };
    let trap = CpuTrap {
        vector: f.vector as u8,
        mnemonic: crate::exceptions::mnemonic(f.vector),
        error_code: f.error_code,
        rip: f.rip,
        rsp: f.rsp,
        rbp: f.rbp,
        fault_address: cr2,
        cause,
    };
    match guard::trap(trap) {
        Some(at) => {
            f.rip = at.rip;
            f.rsp = at.rsp;
            f.rdi = at.rdi;
            true
        }
        None => false,
    }
}
