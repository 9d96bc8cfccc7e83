//! The kernel heap: a `talc` allocator over one physically contiguous run of
//! frames, reached through the direct map, with a front of per-size free
//! lists for small blocks. It is the global allocator.
//!
//! Why the front: the managed runtime's loader and JIT make tens of thousands
//! of small allocations at boot, and under QEMU TCG talc's bin search cost
//! about a fifth of the managed driver's start-up (measured by TB counts,
//! `-d exec`). Small blocks (≤ 256 bytes, alignment ≤ 16) come from 4 KiB
//! slabs carved into one size class and go back to that class's list on free:
//! a pop or a push. Slabs are never returned to talc; the classes only hold
//! what was once in use at the same time.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::null_mut;

use talc::{ErrOnOom, Span, Talc, Talck};

use super::frames;
use super::paging::phys_to_virt;

/// Block sizes of the small classes (multiples of 16, so every block of a
/// 16-aligned slab is 16-aligned).
const CLASSES: [usize; 8] = [16, 32, 48, 64, 96, 128, 192, 256];
const SLAB: usize = 4096;
const SMALL_ALIGN: usize = 16;

/// Class index by size in 16-byte steps (`(size + 15) / 16`), so the hot
/// path is one table load.
const CLASS_BY_STEP: [u8; 17] = {
    let mut t = [0u8; 17];
    let mut step = 0;
    while step < 17 {
        let size = step * 16;
        let mut c = 0;
        while CLASSES[c] < size {
            c += 1;
        }
        t[step] = c as u8;
        step += 1;
    }
    t
};

/// The class of a request, if it is small.
#[inline]
fn class_of(layout: Layout) -> Option<usize> {
    if layout.align() > SMALL_ALIGN || layout.size() > CLASSES[CLASSES.len() - 1] {
        return None;
    }
    Some(CLASS_BY_STEP[layout.size().div_ceil(16)] as usize)
}

/// Heads of the free lists; a free block's first word links the next.
struct Front {
    free: [*mut u8; CLASSES.len()],
}

// SAFETY: the pointers are blocks owned by this allocator; the Mutex below
// serialises every access (one CPU, but exception handlers may allocate).
unsafe impl Send for Front {}

struct KernelHeap {
    talc: Talck<spin::Mutex<()>, ErrOnOom>,
    front: spin::Mutex<Front>,
}

impl KernelHeap {
    /// Carves a new slab of class `c` and returns one block of it (the rest
    /// goes on the list).
    fn refill(&self, front: &mut Front, c: usize) -> *mut u8 {
        let size = CLASSES[c];
        // SAFETY: a valid, non-zero layout.
        let slab = unsafe {
            self.talc
                .alloc(Layout::from_size_align_unchecked(SLAB, SMALL_ALIGN))
        };
        if slab.is_null() {
            return null_mut();
        }
        let n = SLAB / size;
        // Blocks 1..n onto the list (block 0 is the caller's).
        for i in (1..n).rev() {
            // SAFETY: `i * size + 8 <= SLAB`: inside the slab we own; blocks
            // are 16-aligned, so the link word is aligned.
            unsafe {
                let b = slab.add(i * size);
                (b as *mut *mut u8).write(front.free[c]);
                front.free[c] = b;
            }
        }
        slab
    }
}

// SAFETY: small blocks are whole, distinct, class-sized pieces of slabs that
// talc gave us and never sees again; a block is on a free list only while
// nobody owns it. Everything else is talc's (a sound GlobalAlloc).
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class_of(layout) {
            Some(c) => {
                let mut f = self.front.lock();
                let b = f.free[c];
                if b.is_null() {
                    return self.refill(&mut f, c);
                }
                // SAFETY: a free block's first word is its link.
                f.free[c] = unsafe { (b as *const *mut u8).read() };
                b
            }
            // SAFETY: forwarded contract.
            None => unsafe { self.talc.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class_of(layout) {
            Some(c) => {
                let mut f = self.front.lock();
                // SAFETY: the caller gives back a block of this class it owned.
                unsafe { (ptr as *mut *mut u8).write(f.free[c]) };
                f.free[c] = ptr;
            }
            // SAFETY: forwarded contract.
            None => unsafe { self.talc.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `new_size` is non-zero and fits isize (the caller's contract).
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class_of(layout), class_of(new)) {
            // Same class: the block already fits.
            (Some(a), Some(b)) if a == b => ptr,
            // SAFETY: forwarded contract (talc on both sides).
            (None, None) => unsafe { self.talc.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: a fresh block of the new layout, the old one's
                // live bytes copied, then the old one freed.
                unsafe {
                    let n = self.alloc(new);
                    if !n.is_null() {
                        core::ptr::copy_nonoverlapping(ptr, n, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    n
                }
            }
        }
    }
}

#[global_allocator]
static ALLOCATOR: KernelHeap = KernelHeap {
    talc: Talc::new(ErrOnOom).lock(),
    front: spin::Mutex::new(Front {
        free: [null_mut(); CLASSES.len()],
    }),
};

static HEAP_SIZE: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Takes `bytes` (rounded to 2 MiB) from the frame allocator and hands them to
/// talc. Returns the heap size.
pub fn init(bytes: u64) -> Result<u64, &'static str> {
    let bytes = (bytes + (2 << 20) - 1) & !((2 << 20) - 1);
    let pages = bytes / frames::FRAME_SIZE;
    let phys = frames::alloc_contiguous(pages, 512).ok_or("not enough memory for the heap")?;
    let base = phys_to_virt(phys) as *mut u8;
    // SAFETY: the run is freshly allocated, exclusively ours, mapped read-write
    // by the direct map, and never returned to the frame allocator.
    unsafe {
        ALLOCATOR
            .talc
            .lock()
            .claim(Span::from_base_size(base, bytes as usize))
            .map_err(|()| "talc refused the heap span")?;
    }
    HEAP_SIZE.store(bytes, core::sync::atomic::Ordering::Relaxed);
    Ok(bytes)
}

/// Heap size in bytes.
pub fn size() -> u64 {
    HEAP_SIZE.load(core::sync::atomic::Ordering::Relaxed)
}
