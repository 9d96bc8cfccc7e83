//! One heap chunk: a block from the system allocator plus its object-start
//! bitmap (one bit per 8-byte granule). The bitmap is what makes the heap
//! walkable after objects are freed, and what answers "which object contains
//! this address" for conservative stack words and interior pointers.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::vec::Vec;
use core::ptr::NonNull;

use super::OBJ_ALIGN;

/// Alignment of chunk memory.
pub(super) const CHUNK_ALIGN: usize = 16;

pub(super) struct Chunk {
    pub(super) mem: NonNull<u8>,
    pub(super) size: usize,
    /// Bit g set: an allocated object starts at `mem + 8*g`.
    starts: Vec<u64>,
    /// Bytes of allocated objects in this chunk.
    pub(super) used_bytes: usize,
}

impl Chunk {
    /// A zeroed chunk of `size` bytes (a multiple of [`OBJ_ALIGN`]), or `None`
    /// when the system allocator refuses.
    pub(super) fn new(size: usize) -> Option<Chunk> {
        let layout = Layout::from_size_align(size, CHUNK_ALIGN).ok()?;
        if size == 0 {
            return None;
        }
        // Fallible all the way: in the kernel an allocation failure must be
        // an out-of-memory error, not an abort.
        let words = (size / OBJ_ALIGN).div_ceil(64);
        let mut starts = Vec::new();
        starts.try_reserve_exact(words).ok()?;
        starts.resize(words, 0u64);
        // SAFETY: the layout has a non-zero size (checked above).
        let p = unsafe { alloc_zeroed(layout) };
        let mem = NonNull::new(p)?;
        Some(Chunk {
            mem,
            size,
            starts,
            used_bytes: 0,
        })
    }

    pub(super) fn start(&self) -> usize {
        self.mem.as_ptr() as usize
    }

    pub(super) fn end(&self) -> usize {
        self.start() + self.size
    }

    pub(super) fn contains(&self, addr: usize) -> bool {
        addr >= self.start() && addr < self.end()
    }

    fn granule(&self, addr: usize) -> usize {
        (addr - self.start()) / OBJ_ALIGN
    }

    pub(super) fn set_start(&mut self, addr: usize) {
        let g = self.granule(addr);
        self.starts[g / 64] |= 1 << (g % 64);
    }

    pub(super) fn clear_start(&mut self, addr: usize) {
        let g = self.granule(addr);
        self.starts[g / 64] &= !(1 << (g % 64));
    }

    /// Whether an allocated object starts exactly at `addr` (inside this chunk).
    pub(super) fn is_start(&self, addr: usize) -> bool {
        if !addr.is_multiple_of(OBJ_ALIGN) {
            return false;
        }
        let g = self.granule(addr);
        self.starts[g / 64] & (1 << (g % 64)) != 0
    }

    /// The start of the last allocated object at or below `addr`.
    pub(super) fn start_at_or_before(&self, addr: usize) -> Option<usize> {
        let g = self.granule(addr);
        let mut w = g / 64;
        // Bits 0..=g%64 of the first word.
        let mut bits = self.starts[w] & (u64::MAX >> (63 - (g % 64)));
        loop {
            if bits != 0 {
                let b = 63 - bits.leading_zeros() as usize;
                return Some(self.start() + (w * 64 + b) * OBJ_ALIGN);
            }
            if w == 0 {
                return None;
            }
            w -= 1;
            bits = self.starts[w];
        }
    }

    /// Addresses of the allocated objects, in address order.
    pub(super) fn objects(&self) -> impl Iterator<Item = usize> + '_ {
        let base = self.start();
        self.starts.iter().enumerate().flat_map(move |(w, &word)| {
            let mut bits = word;
            core::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(base + (w * 64 + b) * OBJ_ALIGN)
            })
        })
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Ok(layout) = Layout::from_size_align(self.size, CHUNK_ALIGN) {
            // SAFETY: allocated in `Chunk::new` with exactly this layout, and
            // dropped once.
            unsafe { dealloc(self.mem.as_ptr(), layout) };
        }
    }
}
