//! The sweep phase: frees every allocated object the mark phase (`crate::gc`)
//! left unmarked, clears the marks of the survivors, rebuilds the free lists
//! from the gaps between survivors (so neighbouring free blocks coalesce) and
//! returns chunks with no survivor to the system allocator (keeping a few as
//! spares while the live data would justify them).

use alloc::vec::Vec;

use super::chunk::Chunk;
use super::free::MIN_BLOCK;
use super::{object_size, Heap, CHUNK_SIZE, HEADER_MARK, HEADER_PINNED, OBJ_ALIGN};

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

/// One chunk after the sweep's first pass.
struct Swept {
    chunk: Chunk,
    /// Bytes of surviving objects.
    live: usize,
    /// Free gaps between survivors: (start, length).
    gaps: Vec<(usize, usize)>,
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
        let mut swept: Vec<Swept> = Vec::new();
        for mut c in core::mem::take(&mut self.chunks) {
            let mut cursor = c.start();
            let mut live = 0usize;
            let mut gaps = Vec::new();
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
            if c.end() > cursor {
                gaps.push((cursor, c.end() - cursor));
            }
            c.used_bytes = live;
            r.live_bytes += live;
            swept.push(Swept {
                chunk: c,
                live,
                gaps,
            });
        }
        // Keep some empty ordinary chunks (the heap may reserve up to twice
        // the live data, at least one chunk) so the next cycle does not go
        // back to the system allocator at once; give the others back: the
        // heap shrinks.
        let target = (2 * r.live_bytes).max(CHUNK_SIZE);
        let occupied: usize = swept
            .iter()
            .filter(|s| s.live > 0)
            .map(|s| s.chunk.size)
            .sum();
        let mut spare = target.saturating_sub(occupied);
        for Swept {
            chunk: c,
            live,
            gaps,
        } in swept
        {
            if live == 0 {
                if c.size != CHUNK_SIZE || spare < CHUNK_SIZE {
                    // Its Drop frees it.
                    r.chunks_released += 1;
                    continue;
                }
                spare -= CHUNK_SIZE;
            }
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
            self.chunks.push(c);
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
