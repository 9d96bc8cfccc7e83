//! Size-segregated free lists over the free blocks of the heap's chunks.
//!
//! A free block stores its link and size in its own first two words (every
//! block is at least [`MIN_BLOCK`] bytes). Sizes up to [`SMALL_MAX`] have one
//! exact-size list per 8-byte step (pop the head: O(1)); larger sizes have one
//! list per power of two, searched first-fit. The lists are rebuilt from
//! scratch by every sweep (`sweep.rs`), which also coalesces neighbours.

/// Smallest free block (link word + size word), and smallest object.
pub(super) const MIN_BLOCK: usize = 16;
/// Largest size with an exact-size list.
const SMALL_MAX: usize = 512;
const SMALL_CLASSES: usize = SMALL_MAX / 8 + 1;
const CLASSES: usize = SMALL_CLASSES + 56;

/// The list a block of `size` bytes belongs to.
fn class(size: usize) -> usize {
    if size <= SMALL_MAX {
        size / 8
    } else {
        // 513..=1023 -> SMALL_CLASSES, then one class per power of two.
        (SMALL_CLASSES + size.ilog2() as usize - 9).min(CLASSES - 1)
    }
}

pub(super) struct FreeLists {
    heads: [usize; CLASSES],
    /// Bytes in all free blocks.
    pub(super) bytes: usize,
}

impl FreeLists {
    pub(super) fn new() -> FreeLists {
        FreeLists {
            heads: [0; CLASSES],
            bytes: 0,
        }
    }

    pub(super) fn clear(&mut self) {
        self.heads = [0; CLASSES];
        self.bytes = 0;
    }

    /// Adds the block `[addr, addr + size)`.
    ///
    /// # Safety
    /// The block must be unused heap memory, 8-aligned, `size >= MIN_BLOCK`,
    /// and not already on a list.
    pub(super) unsafe fn push(&mut self, addr: usize, size: usize) {
        debug_assert!(size >= MIN_BLOCK && addr.is_multiple_of(8));
        let c = class(size);
        // SAFETY: the caller hands over at least 16 writable, aligned bytes.
        unsafe {
            (addr as *mut usize).write(self.heads[c]);
            ((addr + 8) as *mut usize).write(size);
        }
        self.heads[c] = addr;
        self.bytes += size;
    }

    /// Removes a block of at least `size` bytes: `(address, block size)`.
    pub(super) fn take(&mut self, size: usize) -> Option<(usize, usize)> {
        let c = class(size);
        if size > SMALL_MAX {
            // First fit within the size's own power-of-two class.
            let mut prev: *mut usize = &mut self.heads[c];
            // SAFETY: every list node is a free block whose first two words
            // (link, size) were written by `push`; `prev` is either the head
            // slot or the link word of the previous node.
            unsafe {
                while *prev != 0 {
                    let b = *prev;
                    let bsize = *((b + 8) as *const usize);
                    if bsize >= size {
                        *prev = *(b as *const usize);
                        self.bytes -= bsize;
                        return Some((b, bsize));
                    }
                    prev = b as *mut usize;
                }
            }
        } else if let Some(b) = self.pop(c) {
            return Some(b);
        }
        // Any block of a larger class fits.
        (c + 1..CLASSES).find_map(|k| self.pop(k))
    }

    fn pop(&mut self, c: usize) -> Option<(usize, usize)> {
        let b = self.heads[c];
        if b == 0 {
            return None;
        }
        // SAFETY: `b` is a free block written by `push`.
        let (next, size) = unsafe { (*(b as *const usize), *((b + 8) as *const usize)) };
        self.heads[c] = next;
        self.bytes -= size;
        Some((b, size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_monotonic_and_exact_for_small_sizes() {
        assert_eq!(class(16), 2);
        assert_eq!(class(512), 64);
        assert_eq!(class(513), SMALL_CLASSES);
        assert_eq!(class(1024), SMALL_CLASSES + 1);
        let mut last = 0;
        for s in (16..100_000).step_by(8) {
            assert!(class(s) >= last);
            last = class(s);
        }
    }

    #[test]
    fn take_prefers_exact_then_larger_blocks() {
        let mut mem = alloc::vec![0u64; 1024];
        let base = mem.as_mut_ptr() as usize;
        let mut f = FreeLists::new();
        // SAFETY: disjoint 8-aligned blocks of `mem`, each >= 16 bytes.
        unsafe {
            f.push(base, 32);
            f.push(base + 64, 48);
            f.push(base + 1024, 2048);
        }
        assert_eq!(f.bytes, 32 + 48 + 2048);
        assert_eq!(f.take(48), Some((base + 64, 48)));
        assert_eq!(f.take(24), Some((base, 32)), "next larger small class");
        assert_eq!(f.take(600), Some((base + 1024, 2048)));
        assert_eq!(f.take(16), None);
        assert_eq!(f.bytes, 0);
    }
}
