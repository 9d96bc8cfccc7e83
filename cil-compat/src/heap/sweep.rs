//! The sweep phase: frees every allocated object the mark phase (`crate::gc`)
//! left unmarked, clears the marks of the survivors, rebuilds the free lists
//! from the gaps between survivors (so neighbouring free blocks coalesce) and
//! returns chunks with no survivor to the system allocator.

use alloc::vec::Vec;

use super::free::MIN_BLOCK;
use super::{object_size, Heap, HEADER_MARK, HEADER_PINNED, OBJ_ALIGN};

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepResult {
    /// Objects freed.
    pub freed_objects: usize,
    /// Bytes freed.
    pub freed_bytes: usize,
    /// Bytes of surviving objects.
    pub live_bytes: usize,
    /// Chunks returned to the system.
    pub chunks_released: usize,
}

/// Byte written over freed memory in debug builds, so a dangling reference
/// reads an obviously bad MethodTable instead of stale data.
#[cfg(debug_assertions)]
const POISON: u8 = 0xDB;

impl Heap {
    /// Frees unmarked, unpinned objects and clears the marks of the others.
    /// Call only after a complete mark phase: an object that is reachable but
    /// unmarked is freed.
    pub fn sweep(&mut self) -> SweepResult {
        let mut r = SweepResult::default();
        self.free.clear();
        let mut gaps: Vec<(usize, usize)> = Vec::new();
        let mut keep = Vec::with_capacity(self.chunks.len());
        for mut c in core::mem::take(&mut self.chunks) {
            let mut cursor = c.start();
            let mut live = 0usize;
            let first_gap = gaps.len();
            let objs: Vec<usize> = c.objects().collect();
            for obj in objs {
                let size = object_size(obj);
                // SAFETY: `obj` is an allocated object of this chunk; its
                // header word is ours to read and write.
                let header = unsafe { &mut *(obj as *mut u64) };
                if *header & (HEADER_MARK | HEADER_PINNED) != 0 {
                    *header &= !HEADER_MARK;
                    if obj > cursor {
                        gaps.push((cursor, obj - cursor));
                    }
                    cursor = obj + size;
                    live += size;
                } else {
                    c.clear_start(obj);
                    r.freed_objects += 1;
                    r.freed_bytes += size;
                }
            }
            if live == 0 {
                // Nothing survived: give the chunk back (its Drop frees it).
                gaps.truncate(first_gap);
                r.chunks_released += 1;
                continue;
            }
            if c.end() > cursor {
                gaps.push((cursor, c.end() - cursor));
            }
            c.used_bytes = live;
            r.live_bytes += live;
            keep.push(c);
        }
        self.chunks = keep;
        for (addr, size) in gaps {
            debug_assert!(addr.is_multiple_of(OBJ_ALIGN));
            #[cfg(debug_assertions)]
            // SAFETY: a gap between survivors of a kept chunk: unused memory.
            unsafe {
                core::ptr::write_bytes(addr as *mut u8, POISON, size)
            };
            if size >= MIN_BLOCK {
                // SAFETY: as above; gaps are disjoint and 8-aligned.
                unsafe { self.free.push(addr, size) };
            }
        }
        self.bytes_allocated = r.live_bytes;
        self.objects -= r.freed_objects;
        self.stats.live_after_last = r.live_bytes;
        self.stats.total_freed += r.freed_bytes as u64;
        self.stats.chunks_released += r.chunks_released as u64;
        self.budget = (2 * r.live_bytes)
            .max(self.initial_budget)
            .max(self.bytes_reserved())
            .min(self.limit);
        r
    }
}
