//! The kernel's physical frame allocator: one `kernel_logic::frames`
//! allocator in a static (its bookkeeping, host-tested there), with the free
//! list's links stored in the freed frames themselves through the direct map.

use kernel_logic::frames::{FrameAllocator, FrameLinks};
use spin::Mutex;

use super::direct_map::phys_to_virt;
use crate::bootinfo::Region;

pub use kernel_logic::frames::FRAME_SIZE;

static FRAMES: Mutex<FrameAllocator> = Mutex::new(FrameAllocator::new());

/// Free-list links in the first word of each free frame, via the direct map.
struct InFrame;

impl FrameLinks for InFrame {
    fn next(&self, frame: u64) -> u64 {
        // SAFETY: the allocator reads links only of frames on its free list:
        // free RAM frames it owns (from the memory map, nothing reserved),
        // all covered by the direct map, holding the link it stored.
        unsafe { (phys_to_virt(frame) as *const u64).read() }
    }
    fn set_next(&self, frame: u64, next: u64) {
        // SAFETY: as above: `frame` is a free frame the allocator owns, so
        // nothing else reads or writes it.
        unsafe { (phys_to_virt(frame) as *mut u64).write(next) }
    }
}

/// Builds the allocator from the memory map, excluding `reserved` ranges
/// (`(start, end)` physical, end exclusive).
pub fn init(regions: &[Region], reserved: &[(u64, u64)]) {
    FRAMES.lock().init(regions, reserved);
}

/// Allocates one 4 KiB frame (contents undefined).
pub fn alloc() -> Option<u64> {
    FRAMES.lock().alloc(&InFrame)
}

/// Allocates one zeroed frame.
pub fn alloc_zeroed() -> Option<u64> {
    let frame = alloc()?;
    // SAFETY: the frame was just allocated, is ours alone and is mapped.
    unsafe { core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, FRAME_SIZE as usize) };
    Some(frame)
}

/// Allocates `pages` physically contiguous frames aligned to `align_pages`
/// frames (a power of two).
pub fn alloc_contiguous(pages: u64, align_pages: u64) -> Option<u64> {
    FRAMES.lock().alloc_contiguous(&InFrame, pages, align_pages)
}

/// Returns a contiguous run.
///
/// # Safety
/// The run must come from [`alloc_contiguous`] with the same `pages` and no
/// longer be used.
pub unsafe fn free_contiguous(start: u64, pages: u64) {
    FRAMES.lock().free_contiguous(&InFrame, start, pages);
}

/// (bytes managed, bytes allocated).
pub fn stats() -> (u64, u64) {
    FRAMES.lock().stats()
}
