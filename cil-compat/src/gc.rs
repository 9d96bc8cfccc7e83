//! The mark phase of the managed heap's non-moving mark-sweep collector.
//!
//! Precise for the heap: an object's references are found from its
//! MethodTable (`TypeInfo::gc_refs` for classes and boxed values, every
//! element of a reference array, the `gc_refs` of each element of an array of
//! structs), and for the roots the runtime keeps (reference fields of every
//! type's statics, including those inside static structs; interned string
//! literals; handles). Stack roots come in two forms (`exec::stackroots`
//! finds them): the words the JIT's stack maps point at in JIT frames, and
//! ranges of the machine stack that are not JIT frames (runtime frames
//! between managed code and the collector), scanned conservatively as Mono's
//! SGen does. Either way a word keeps an object alive only if it points into
//! an allocated object (its start, or an interior pointer such as a managed
//! pointer to a field or element): stack maps may over-report ("maybe"
//! slots), never under-report. Objects never move, so a conservative root is
//! always safe: it can only retain garbage, never invalidate a reference. See
//! `exec::gc` for why calls are the only safepoints.
//!
//! Marking uses an explicit stack (no recursion), so deep linked structures
//! cannot overflow the native stack.

use alloc::vec::Vec;

use crate::heap::{
    Heap, SweepResult, ARRAY_LENGTH_OFFSET, HEADER_MARK, OBJ_HEADER_SIZE, OBJ_MT_OFFSET,
};
use crate::types::{
    MethodTable, TypeId, TypeSystem, MT_FLAG_ARRAY, MT_FLAG_ELEM_IS_REF, MT_FLAG_HAS_GC_REFS,
};

/// Roots beyond those the type system and heap know themselves.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExtraRoots<'a> {
    /// A range of machine words `[lo, hi)` scanned conservatively (the part
    /// of the stack where managed frames may be, plus saved registers).
    pub stack: Option<(usize, usize)>,
    /// More ranges scanned conservatively (the non-JIT parts of the stack).
    pub stack_ranges: &'a [(usize, usize)],
    /// Words read from stack-map slots: each keeps the object it points into
    /// alive, if any.
    pub stack_words: &'a [usize],
    /// Exact object references the caller holds.
    pub objects: &'a [usize],
}

/// What a collection found and freed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cycle {
    /// Objects marked reachable.
    pub marked: usize,
    /// Stack words that pointed into the heap and kept an object alive.
    pub stack_roots: usize,
    /// Of those, words found through stack maps.
    pub precise_roots: usize,
    /// Bytes of stack scanned conservatively.
    pub conservative_bytes: usize,
    /// JIT frames walked with their stack maps (filled in by the engine).
    pub jit_frames: usize,
    /// JIT frames without a map at their return address (a JIT bug; scanned
    /// conservatively).
    pub unmapped_frames: usize,
    /// Stack-map reference slots holding a heap address that is not an
    /// object (a JIT typing bug; the word was still treated as interior).
    pub bad_ref_slots: usize,
    /// The sweep's result.
    pub sweep: SweepResult,
}

struct Marker<'a> {
    heap: &'a Heap,
    ts: &'a TypeSystem,
    gray: Vec<usize>,
    marked: usize,
}

impl Marker<'_> {
    /// Marks the object at `obj` if it is one of ours and unmarked.
    fn mark_exact(&mut self, obj: usize) {
        if obj != 0 && self.heap.is_object(obj) {
            self.mark(obj);
        }
    }

    /// Marks (and traces) the object `w` points into, if any.
    fn mark_interior(&mut self, w: usize) -> bool {
        if !self.heap.in_heap(w) {
            return false;
        }
        let Some(o) = self.heap.containing_object(w) else {
            return false;
        };
        self.mark(o);
        self.drain();
        true
    }

    fn mark(&mut self, obj: usize) {
        // SAFETY: `obj` is an allocated object of the heap (checked by the
        // callers): its header word is readable and writable.
        let header = unsafe { &mut *(obj as *mut u64) };
        if *header & HEADER_MARK != 0 {
            return;
        }
        *header |= HEADER_MARK;
        self.marked += 1;
        // SAFETY: as above; the MT word points at a live MethodTable.
        let mt = unsafe { &*(*((obj + OBJ_MT_OFFSET) as *const usize) as *const MethodTable) };
        if mt.flags & MT_FLAG_HAS_GC_REFS != 0 {
            self.gray.push(obj);
        }
    }

    /// Marks the references held in the fields/elements of `obj`.
    fn trace(&mut self, obj: usize) {
        // SAFETY: `obj` was marked, so it is an allocated object.
        let mt = unsafe { &*(*((obj + OBJ_MT_OFFSET) as *const usize) as *const MethodTable) };
        let read = |a: usize| -> usize {
            // SAFETY: `a` is a reference slot inside `obj`'s storage (an
            // offset from its layout), 8-aligned by the loader.
            unsafe { *(a as *const usize) }
        };
        if mt.flags & MT_FLAG_ARRAY != 0 {
            // SAFETY: arrays hold their total element count at +16.
            let len = unsafe { *((obj + ARRAY_LENGTH_OFFSET) as *const u64) } as usize;
            let data = obj + mt.base_size as usize;
            let comp = mt.component_size as usize;
            if mt.flags & MT_FLAG_ELEM_IS_REF != 0 {
                for i in 0..len {
                    let r = read(data + i * 8);
                    self.mark_exact(r);
                }
            } else if let Some(elem) = self.ts.info(TypeId(mt.type_id)).element {
                let refs = &self.ts.info(elem).gc_refs;
                for i in 0..len {
                    for off in refs {
                        let r = read(data + i * comp + *off as usize);
                        self.mark_exact(r);
                    }
                }
            }
        } else {
            // Boxed values: the value's offsets start after the header.
            let base = if mt.info.is_value_type() {
                OBJ_HEADER_SIZE
            } else {
                0
            };
            for off in &mt.info.gc_refs {
                let r = read(obj + base + *off as usize);
                self.mark_exact(r);
            }
        }
    }

    fn drain(&mut self) {
        while let Some(o) = self.gray.pop() {
            self.trace(o);
        }
    }
}

/// Marks everything reachable from the roots, then sweeps. Runs with the
/// world stopped: the caller is the only thread touching the heap, and no
/// managed code runs until it returns.
pub fn collect(ts: &mut TypeSystem, roots: ExtraRoots<'_>) -> Cycle {
    let mut cycle = Cycle::default();
    {
        let ts_ref: &TypeSystem = ts;
        let mut m = Marker {
            heap: ts_ref.heap(),
            ts: ts_ref,
            gray: Vec::new(),
            marked: 0,
        };
        // Statics of every type, including reference fields of static structs.
        for t in ts_ref.types() {
            let mt = ts_ref.mt(t);
            if mt.statics == 0 {
                continue;
            }
            for off in &mt.info.static_gc_refs {
                // SAFETY: `statics` is the type's static block and `off` a
                // reference slot inside it (laid out by the loader).
                let r = unsafe { *((mt.statics + *off as usize) as *const usize) };
                m.mark_exact(r);
                m.drain();
            }
        }
        for o in ts_ref.literal_objects() {
            m.mark_exact(o);
        }
        for o in ts_ref.heap().handle_targets() {
            m.mark_exact(o);
        }
        for &o in roots.objects {
            m.mark_exact(o);
        }
        m.drain();
        for (lo, hi) in roots.stack.iter().chain(roots.stack_ranges) {
            let mut a = (lo + 7) & !7;
            while a + 8 <= *hi {
                // SAFETY: [lo, hi) is live stack memory of this thread, given
                // by the caller; reads are aligned.
                let w = unsafe { (a as *const usize).read_volatile() };
                if m.mark_interior(w) {
                    cycle.stack_roots += 1;
                }
                a += 8;
            }
            cycle.conservative_bytes += hi.saturating_sub(*lo);
        }
        for &w in roots.stack_words {
            if m.mark_interior(w) {
                cycle.stack_roots += 1;
                cycle.precise_roots += 1;
            }
        }
        cycle.marked = m.marked;
    }
    cycle.sweep = ts.heap_mut().sweep();
    cycle
}
