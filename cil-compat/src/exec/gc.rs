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
//! Stack roots are found from the JIT's stack maps (`jit::gcmap`,
//! walked by [`super::stackroots`]): between the collector's own frame and
//! the anchor of the outermost managed entry ([`Engine::call_static0`] and
//! [`with_managed_stack`] record it; hosted driver calls use the latter when
//! [`GcState::hosted`] is set), every JIT frame is reached through the
//! transition record of the runtime call that may collect and the rbp chain,
//! and only the slots and callee-saved registers its map lists at that
//! return address are roots. Everything else on that stretch of stack (the
//! runtime's Rust frames, such as a helper holding a fresh exception object,
//! outgoing-argument areas, and any part the walk cannot vouch for) is still
//! scanned conservatively, which a non-moving heap makes safe. When no entry
//! is recorded (managed code entered by other means), automatic collections
//! do not run: the heap grows past its budget instead (up to its limit), and
//! `GC.Collect()` is a no-op, since the stack could not be scanned.
//!
//! What the maps must cover, and how: operands a lowering has already popped
//! from its value stack but still uses after the call (`box` keeps the popped
//! struct in its home across the `NewObject` helper) and per-instruction
//! temporaries are reported as maybe-slots; struct temporaries and locals by
//! their type's reference offsets; callee-saved registers through the saves
//! of the frames (and the transition record) below. A maybe-slot that holds
//! no reference costs nothing: every reported word is validated against the
//! heap as conservative words are. [`GcState::conservative_stack`] (cilrun:
//! `CILRUN_GC_CONSERVATIVE=1`) scans the whole stack conservatively instead,
//! as before stack maps. The corpus run with a collection before every
//! allocation (`CILRUN_GC_STRESS=1`, `tests/gc_stress.rs`) and
//! `tests/gc_maps.rs` are the checks that nothing is missed.

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
    /// Scan the whole managed stack conservatively instead of walking JIT
    /// frames with their stack maps (the collector before stack maps; kept
    /// to compare against and as a fallback switch).
    pub conservative_stack: bool,
    /// Stack-scan figures summed over every collection.
    pub totals: StackTotals,
}

/// Stack-scan figures summed over collections.
#[derive(Clone, Copy, Debug, Default)]
pub struct StackTotals {
    /// JIT frames covered by their stack maps.
    pub jit_frames: u64,
    /// Words from stack maps that kept an object alive.
    pub precise_roots: u64,
    /// Bytes of stack scanned conservatively.
    pub conservative_bytes: u64,
    /// JIT frames without a map (scanned conservatively; a JIT bug).
    pub unmapped_frames: u64,
    /// Map slots typed as references holding non-objects (a JIT bug).
    pub bad_ref_slots: u64,
}

/// Restores the previous stack anchor when a managed entry returns (or a
/// runtime failure unwinds through it on the host).
pub(crate) struct EntryGuard {
    saved: usize,
    transitions: usize,
}

impl Drop for EntryGuard {
    fn drop(&mut self) {
        STACK_TOP.store(self.saved, Ordering::Relaxed);
        set_transition_head(self.transitions);
    }
}

pub(crate) use super::stackroots::{set_transition_head, transition_head};

/// Records `anchor` (the address of a local of the entering function) as
/// the top of the managed stack unless an outer entry already did.
pub(crate) fn enter_managed(anchor: usize) -> EntryGuard {
    let saved = stack_top();
    if saved == 0 {
        STACK_TOP.store(anchor, Ordering::Relaxed);
    }
    EntryGuard {
        saved,
        transitions: transition_head(),
    }
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
        // Every frame that called into the runtime is above this one: JIT
        // frames through their stack maps, the rest conservatively.
        let walk = if top > lo && !self.gc.conservative_stack {
            super::stackroots::walk(self, lo, top)
        } else {
            super::stackroots::StackRoots {
                ranges: (top > lo).then_some((lo, top)).into_iter().collect(),
                ..Default::default()
            }
        };
        let cycle = gc::collect(
            &mut self.ts,
            ExtraRoots {
                stack: None,
                stack_ranges: &walk.ranges,
                stack_words: &walk.words,
                objects: &[],
            },
        );
        let cycle = Cycle {
            jit_frames: walk.jit_frames,
            unmapped_frames: walk.unmapped,
            bad_ref_slots: walk.bad_refs,
            ..cycle
        };
        let t1 = self.clock.map(|c| c()).unwrap_or(0);
        self.ts.heap_mut().record_pause(t1.saturating_sub(t0));
        self.gc.last = cycle;
        let t = &mut self.gc.totals;
        t.jit_frames += cycle.jit_frames as u64;
        t.precise_roots += cycle.precise_roots as u64;
        t.conservative_bytes += cycle.conservative_bytes as u64;
        t.unmapped_frames += cycle.unmapped_frames as u64;
        t.bad_ref_slots += cycle.bad_ref_slots as u64;
        cycle
    }
}

/// `System.GC::Collect()`.
pub(super) extern "C" fn gc_collect() {
    // SAFETY: internal calls run on the engine's thread, from its JIT code.
    let e = unsafe { active() };
    if e.can_collect_from_managed() {
        e.collect_now();
    }
}

/// `System.GC::GetTotalMemory(bool forceFullCollection)`: bytes held by
/// allocated objects.
pub(super) extern "C" fn gc_total_memory(force: u8) -> i64 {
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
        super::fail::die_kind(e, "exception System.InvalidOperationException")
    }
    crate::heap::Handle((h - 1) as u32)
}

extern "C" fn gchandle_alloc(obj: u64, _kind: i32) -> u64 {
    // SAFETY: as above.
    let e = unsafe { active() };
    match e.ts.heap_mut().alloc_handle(obj as usize) {
        Ok(h) => h.0 as u64 + 1,
        Err(_) => super::fail::die_kind(e, "exception System.ArgumentException"),
    }
}

extern "C" fn gchandle_get(h: u64) -> u64 {
    // SAFETY: as above.
    let e = unsafe { active() };
    let h = handle_of(e, h);
    match e.ts.heap().handle_target(h) {
        Some(o) => o as u64,
        None => super::fail::die_kind(e, "exception System.InvalidOperationException"),
    }
}

extern "C" fn gchandle_set(h: u64, obj: u64) {
    // SAFETY: as above.
    let e = unsafe { active() };
    let h = handle_of(e, h);
    if e.ts.heap_mut().set_handle_target(h, obj as usize).is_err() {
        super::fail::die_kind(e, "exception System.InvalidOperationException")
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
        super::fail::die_kind(e, "exception System.InvalidOperationException")
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

/// The internal calls of `System.GC` and `GCHandle`, except `Collect` and
/// `GetTotalMemory`, bound to their trampolines (`transitions::natives`).
pub(crate) fn natives() -> [(&'static str, u64); 7] {
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
