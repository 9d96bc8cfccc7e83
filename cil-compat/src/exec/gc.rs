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
//! those registers, captured by the collector before it scans, or were
//! saved by a callee's prologue on the stack, which is scanned.
//!
//! Stack roots are found conservatively (see `crate::gc`): the words from
//! the collector's own frame up to the anchor of the outermost managed entry
//! ([`Engine::call_static0`] and [`with_managed_stack`] record it; hosted
//! driver calls use the latter when [`GcState::hosted`] is set). Rust frames
//! in between (a helper holding a freshly made exception object, say) are
//! covered too. When no entry is recorded (managed code entered by other
//! means), automatic collections do not run: the heap grows past its budget
//! instead (up to its limit), and `GC.Collect()` is a no-op, since the stack
//! could not be scanned.
//!
//! Why not precise stack maps from the JIT (yet): a map per call site would
//! have to list every live reference, including operands a lowering has
//! already popped from its value stack but still uses after the call (`box`
//! keeps the popped struct in its home across the `NewObject` helper, and
//! its fields may be references), struct temporaries holding references, and
//! the callee-saved registers of every frame up the chain; and the Rust
//! frames between JIT code and the collector (a helper holding a fresh
//! exception object) need scanning anyway. Conservative scanning of a
//! non-moving heap covers all of these by construction, at the price of
//! occasionally retaining an object a stale stack word points to. The
//! corpus run with a collection before every allocation (`CILRUN_GC_STRESS=1`,
//! `tests/gc_stress.rs`) is the check that nothing is missed.

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{active, Engine};
use crate::error::Result;
use crate::gc::{self, Cycle, ExtraRoots};
use crate::types::{MethodTable, TypeSystem, MT_FLAG_ARRAY, MT_FLAG_STRING};

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
    /// (`hosting::driver`); off by default. The kernel turns it on for its
    /// managed drivers; host tests run the managed virtio-blk driver both
    /// ways.
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

// `System.Runtime.InteropServices.GCHandle`: the managed face of the heap's
// handles. The managed value is the handle index + 1 (0 = not allocated).
// Objects never move, so every handle pins; weak handles are strong here.

fn handle_of(e: &Engine, h: u64) -> crate::heap::Handle {
    if h == 0 || h > u32::MAX as u64 {
        super::helpers::die_kind(e, "exception System.InvalidOperationException")
    }
    crate::heap::Handle((h - 1) as u32)
}

extern "C" fn gchandle_alloc(obj: u64, _kind: i32) -> u64 {
    // SAFETY: as above.
    let e = unsafe { active() };
    match e.ts.heap_mut().alloc_handle(obj as usize) {
        Ok(h) => h.0 as u64 + 1,
        Err(_) => super::helpers::die_kind(e, "exception System.ArgumentException"),
    }
}

extern "C" fn gchandle_get(h: u64) -> u64 {
    // SAFETY: as above.
    let e = unsafe { active() };
    let h = handle_of(e, h);
    match e.ts.heap().handle_target(h) {
        Some(o) => o as u64,
        None => super::helpers::die_kind(e, "exception System.InvalidOperationException"),
    }
}

extern "C" fn gchandle_set(h: u64, obj: u64) {
    // SAFETY: as above.
    let e = unsafe { active() };
    let h = handle_of(e, h);
    if e.ts.heap_mut().set_handle_target(h, obj as usize).is_err() {
        super::helpers::die_kind(e, "exception System.InvalidOperationException")
    }
}

extern "C" fn gchandle_free(h: u64) {
    // SAFETY: as above.
    let e = unsafe { active() };
    let h = handle_of(e, h);
    e.ts.heap_mut().free_handle(h);
}

/// Address of a pinned object's data: an array's first element, a string's
/// first character, a boxed value's or class instance's first field.
extern "C" fn gchandle_addr(h: u64) -> u64 {
    // SAFETY: as above.
    let e = unsafe { active() };
    let h = handle_of(e, h);
    let Some(obj) = e.ts.heap().handle_target(h) else {
        super::helpers::die_kind(e, "exception System.InvalidOperationException")
    };
    if obj == 0 {
        return 0;
    }
    // SAFETY: `obj` is a live object (handles hold objects of this heap):
    // its MT word points at a MethodTable of the type system.
    let mt =
        unsafe { &*(*((obj + crate::heap::OBJ_MT_OFFSET) as *const usize) as *const MethodTable) };
    let off = if mt.flags & MT_FLAG_STRING != 0 {
        crate::heap::STRING_CHARS_OFFSET
    } else if mt.flags & MT_FLAG_ARRAY != 0 {
        mt.base_size as usize
    } else {
        crate::heap::OBJ_HEADER_SIZE
    };
    (obj + off) as u64
}

/// The internal calls of `System.GC` and `GCHandle`.
pub(crate) fn natives() -> [(&'static str, u64); 9] {
    [
        (
            "System.Runtime.InteropServices.GCHandle::InternalAlloc",
            gchandle_alloc as *const () as u64,
        ),
        (
            "System.Runtime.InteropServices.GCHandle::InternalGet",
            gchandle_get as *const () as u64,
        ),
        (
            "System.Runtime.InteropServices.GCHandle::InternalSet",
            gchandle_set as *const () as u64,
        ),
        (
            "System.Runtime.InteropServices.GCHandle::InternalFree",
            gchandle_free as *const () as u64,
        ),
        (
            "System.Runtime.InteropServices.GCHandle::InternalAddrOfPinnedObject",
            gchandle_addr as *const () as u64,
        ),
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
