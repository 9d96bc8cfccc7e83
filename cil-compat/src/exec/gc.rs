//! The engine's side of garbage collection: when a collection may run, where
//! its stack roots are, allocation with collect-and-retry, and the
//! `System.GC` internal calls.
//!
//! Safepoints. Managed code runs on one thread and is never preempted
//! (single vCPU in the kernel; interrupts do not run managed code), so the
//! only places a collection can start are runtime calls: every allocation is
//! a helper call (`newobj`, `newarr`, `box`, strings, exceptions) and
//! `GC.Collect()` is an internal call. A loop that does not allocate cannot
//! be interrupted by a collection, so back-edge polls are not needed. At a
//! call the JIT has spilled every value held in a caller-saved register to
//! its frame (`CodeGenContext::spill_regs`); values in callee-saved registers
//! (register-allocated locals, long-lived stack entries) are either still in
//! those registers, captured by [`Engine::collect`] before it scans, or were
//! saved by a callee's prologue on the stack, which is scanned.
//!
//! Stack roots are found conservatively (see `crate::gc`): the words from
//! the collector's own frame up to the anchor of the outermost managed entry
//! ([`Engine::call_static0`] records it). Rust frames in between (a helper
//! holding a freshly made exception object, say) are covered too. When no
//! entry is recorded (managed code entered by other means), automatic
//! collections do not run: the heap grows past its budget instead (up to its limit), and
//! `GC.Collect()` is a no-op, since the stack could not be scanned.

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{active, Engine};
use crate::error::Result;
use crate::gc::{self, Cycle, ExtraRoots};
use crate::types::TypeSystem;

/// Address just above the frames of the outermost managed entry (0: none
/// recorded, so the stack cannot be scanned). One machine stack runs managed
/// code (single-threaded runtime, one active engine at a time), so this is a
/// plain global, like the active engine itself.
static STACK_TOP: AtomicUsize = AtomicUsize::new(0);

fn stack_top() -> usize {
    STACK_TOP.load(Ordering::Relaxed)
}

/// Collector state kept by the engine.
#[derive(Debug, Default)]
pub struct GcState {
    /// Automatic collections when the heap reaches its budget (default on).
    pub disabled: bool,
    /// Collect during calls the hosting layer makes into managed drivers
    /// (`hosting::driver`); off by default: the kernel's managed drivers do
    /// not collect yet (their heap grows as before). Host tests turn it on
    /// to run the managed virtio-blk driver under collections.
    pub hosted: bool,
    /// The last collection's figures.
    pub last: Cycle,
    /// Stress mode: also collect before every `stress`-th allocation made
    /// through the engine (0 = off). Shakes out missing roots: an object the
    /// collector cannot see is freed (and poisoned in debug builds) at once.
    pub stress: u32,
    stress_count: u32,
}

/// Restores the previous stack anchor when a managed entry returns (or a
/// runtime failure unwinds through it on the host).
pub(crate) struct EntryGuard {
    saved: usize,
}

impl Drop for EntryGuard {
    fn drop(&mut self) {
        STACK_TOP.store(self.saved, Ordering::Relaxed);
    }
}

/// Records `anchor` (the address of a local of the entering function) as
/// the top of the managed stack unless an outer entry already did.
pub(crate) fn enter_managed(anchor: usize) -> EntryGuard {
    let saved = stack_top();
    if saved == 0 {
        STACK_TOP.store(anchor, Ordering::Relaxed);
    }
    EntryGuard { saved }
}

/// Runs `f`, which calls JIT code of the active engine directly (through a
/// function pointer, not [`Engine::call_static0`]), with collections able to
/// run inside it: the managed frames `f` creates are below this function's.
///
/// # Safety
/// Objects the caller keeps across `f` must be held by handles or reachable
/// from statics: only the stack below this call is scanned.
pub unsafe fn with_managed_stack<R>(f: impl FnOnce() -> R) -> R {
    let anchor = 0u64;
    let _entry = enter_managed(core::hint::black_box(&anchor) as *const u64 as usize);
    f()
}

impl Engine {
    /// Whether managed code may collect now: only when the stack it runs
    /// on can be scanned.
    fn can_collect_from_managed(&self) -> bool {
        stack_top() != 0
    }

    /// Runs `alloc`; when the heap is at its budget, collects and retries,
    /// then lets the heap reserve one chunk past its budget (never past its
    /// limit) and retries once more.
    pub(crate) fn alloc_with(
        &mut self,
        mut alloc: impl FnMut(&mut TypeSystem) -> Result<usize>,
    ) -> Result<usize> {
        if self.gc.stress != 0 && stack_top() != 0 {
            self.gc.stress_count += 1;
            if self.gc.stress_count >= self.gc.stress {
                self.gc.stress_count = 0;
                self.collect_now();
            }
        }
        match alloc(&mut self.ts) {
            Ok(o) => return Ok(o),
            Err(crate::Error::OutOfMemory { .. }) => {}
            Err(e) => return Err(e),
        }
        if !self.gc.disabled && stack_top() != 0 {
            self.collect_now();
            if let Ok(o) = alloc(&mut self.ts) {
                return Ok(o);
            }
        }
        self.ts.heap_mut().allow_overdraft();
        alloc(&mut self.ts)
    }

    /// Collects garbage now, from the host (roots: statics, literals,
    /// handles, and the stack below [`Engine::call_static0`] if one is
    /// running).
    ///
    /// # Safety
    /// No frame of managed code entered other than through
    /// [`Engine::call_static0`] (e.g. through the hosting layer) may be on the
    /// stack: its references would not be seen, and what they refer to would
    /// be freed. Objects the host keeps across the call must be held by
    /// handles ([`crate::heap::Heap::alloc_handle`]).
    pub unsafe fn collect(&mut self) -> Cycle {
        self.collect_now()
    }

    /// Marks from every root and sweeps, timing the pause.
    #[inline(never)]
    fn collect_now(&mut self) -> Cycle {
        let t0 = self.clock.map(|c| c()).unwrap_or(0);
        let mut regs = [0usize; 6];
        // SAFETY: stores the callee-saved registers (which may hold object
        // references of the JIT frames that called into the runtime) into a
        // local array; reads registers only, writes only the array.
        unsafe {
            asm!(
                "mov [{p}], rbx",
                "mov [{p} + 8], r12",
                "mov [{p} + 16], r13",
                "mov [{p} + 24], r14",
                "mov [{p} + 32], r15",
                "mov [{p} + 40], rbp",
                p = in(reg) regs.as_mut_ptr(),
                options(nostack, preserves_flags),
            )
        };
        let regs = core::hint::black_box(&regs);
        let lo = regs.as_ptr() as usize;
        let top = stack_top();
        // Every frame that called into the runtime is above this one.
        let stack = (top > lo).then_some((lo, top));
        let cycle = gc::collect(
            &mut self.ts,
            ExtraRoots {
                stack,
                objects: &[],
            },
        );
        let t1 = self.clock.map(|c| c()).unwrap_or(0);
        self.ts.heap_mut().record_pause(t1.saturating_sub(t0));
        self.gc.last = cycle;
        cycle
    }
}

/// `System.GC::Collect()`.
extern "C" fn gc_collect() {
    // SAFETY: internal calls run on the engine's thread, from its JIT code.
    let e = unsafe { active() };
    if e.can_collect_from_managed() {
        e.collect_now();
    }
}

/// `System.GC::GetTotalMemory(bool forceFullCollection)`: bytes held by
/// allocated objects.
extern "C" fn gc_total_memory(force: u8) -> i64 {
    // SAFETY: as above.
    let e = unsafe { active() };
    if force != 0 && e.can_collect_from_managed() {
        e.collect_now();
    }
    e.ts.heap().bytes_allocated() as i64
}

/// `System.GC::CollectionCount(int generation)`.
extern "C" fn gc_collection_count(_generation: i32) -> i32 {
    // SAFETY: as above.
    let e = unsafe { active() };
    e.ts.heap().stats().collections.min(i32::MAX as u64) as i32
}

/// `System.GC::GetHeapReserved()` (ours): bytes reserved from the system.
extern "C" fn gc_heap_reserved() -> i64 {
    // SAFETY: as above.
    let e = unsafe { active() };
    e.ts.heap().bytes_reserved() as i64
}

/// The internal calls of `System.GC`.
pub(crate) fn natives() -> [(&'static str, u64); 4] {
    [
        ("System.GC::Collect", gc_collect as *const () as u64),
        (
            "System.GC::GetTotalMemory",
            gc_total_memory as *const () as u64,
        ),
        (
            "System.GC::CollectionCount",
            gc_collection_count as *const () as u64,
        ),
        (
            "System.GC::GetHeapReserved",
            gc_heap_reserved as *const () as u64,
        ),
    ]
}
