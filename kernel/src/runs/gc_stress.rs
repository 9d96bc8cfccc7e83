//! `run=gc-stress`: the managed collector at boot. The boot module carries
//! corlib and the `GcStress` program (`cargo xtask managed --gc-stress`, the
//! workload `cil-compat/tests/gc_stress.rs` runs on the host); the kernel
//! runs `GcStress.Work::RunDefault` under a 4 MiB managed-heap limit and
//! passes when every tree it replaced verified, the program allocated at
//! least 50 times the limit, and the heap never held more than the limit.

use alloc::boxed::Box;
use alloc::string::{String, ToString};

use cil_compat::exec::RetVal;
use cil_compat::hosting::{guard, Runtime};
use log::info;

/// The managed heap's limit for the run (the host test's, too).
const LIMIT: usize = 4 << 20;
/// `RunDefault` replaces 30,000 trees in a ring of 200: all but the last
/// 200 are verified when replaced.
const VERIFIED: i64 = 30_000 - 200;

pub fn run() -> ! {
    match stress() {
        Ok(summary) => {
            info!("gc-stress: {summary}");
            crate::exit::pass()
        }
        Err(e) => {
            log::error!("gc-stress: {e}");
            crate::exit::fail(format_args!("gc-stress: {e}"))
        }
    }
}

fn stress() -> Result<String, String> {
    let module = crate::bootinfo::module().ok_or_else(|| {
        String::from("no boot module (boot with --initrd \"$(cargo xtask managed --gc-stress)\")")
    })?;
    let assemblies = crate::managed::assemblies(module)?;
    // SAFETY: `platform::ABI` is the kernel's complete table; this run binds
    // no drivers (`runs::dispatch` skips the driver manager for it), so this is the
    // only engine.
    let mut rt = unsafe {
        Runtime::new(
            &assemblies,
            Box::new(crate::managed::KernelCode),
            &crate::platform::ABI,
        )
    }
    .map_err(|e| e.to_string())?;
    let e = &mut rt.engine;
    let t = e.ts.find_type("GcStress", "Work").ok_or_else(|| {
        String::from("the boot module has no GcStress.Work (boot with --initrd \"$(cargo xtask managed --gc-stress)\")")
    })?;
    let m =
        e.ts.find_method(t, "RunDefault")
            .ok_or_else(|| String::from("GcStress.Work has no RunDefault"))?;
    e.ts.heap_mut().set_limit(LIMIT);
    let t0 = crate::time::now_us();
    let mut err = None;
    // SAFETY: `m` is static and parameterless (`int RunDefault()`), the
    // engine is active; a managed runtime error ends the guarded call and
    // is reported below instead of stopping the kernel.
    let r = unsafe {
        guard::run(0, || match e.call_static0(m) {
            Ok(RetVal::Int(v)) => v,
            Ok(other) => {
                err = Some(alloc::format!("RunDefault returned {other:?}"));
                0
            }
            Err(x) => {
                err = Some(alloc::string::ToString::to_string(&x));
                0
            }
        })
    };
    let micros = crate::time::now_us() - t0;
    let verified = match r {
        Ok(v) => v as i64,
        Err(f) => return Err(alloc::format!("RunDefault failed: {}", f.report.what)),
    };
    if let Some(x) = err {
        return Err(x);
    }
    let h = e.ts.heap();
    let s = h.stats();
    let summary = alloc::format!(
        "{} trees verified in {} ms; allocated {} KiB ({:.1}x the {} KiB limit), {} collections, pause mean {} us max {} us, heap peak {} KiB, now {} KiB",
        verified,
        micros / 1000,
        s.total_allocated / 1024,
        s.total_allocated as f64 / LIMIT as f64,
        LIMIT / 1024,
        s.collections,
        s.total_pause_ns / 1000 / s.collections.max(1),
        s.max_pause_ns / 1000,
        s.peak_reserved / 1024,
        h.bytes_reserved() / 1024,
    );
    if verified != VERIFIED {
        return Err(alloc::format!(
            "{verified} trees verified, {VERIFIED} expected (a live object was lost or corrupted): {summary}"
        ));
    }
    if s.total_allocated < 50 * LIMIT as u64 {
        return Err(alloc::format!(
            "allocated less than 50x the limit: {summary}"
        ));
    }
    if s.peak_reserved > LIMIT {
        return Err(alloc::format!("the heap grew past its limit: {summary}"));
    }
    Ok(summary)
}
