//! The kernel heap: a `talc` allocator over one physically contiguous run of
//! frames, reached through the direct map. It is the global allocator.

use talc::{ErrOnOom, Span, Talc, Talck};

use super::frames;
use super::paging::phys_to_virt;

#[global_allocator]
static ALLOCATOR: Talck<spin::Mutex<()>, ErrOnOom> = Talc::new(ErrOnOom).lock();

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
