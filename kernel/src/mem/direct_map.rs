//! Where physical memory is reached: under the boot trampoline's identity
//! map a physical address is its own virtual address; once `paging::init`
//! has loaded the kernel's tables, physical `p` is at [`PHYS_OFFSET`]` + p`
//! (PML4 slot 256, see `paging.rs`). A leaf of `mem`: the frame allocator,
//! the heap, the JIT code region and the page tables all translate through
//! it, and it needs none of them.

use core::sync::atomic::{AtomicU64, Ordering};

/// Base of the direct map of physical memory.
pub const PHYS_OFFSET: u64 = 0xffff_8000_0000_0000;

/// Offset added to a physical address to reach it: 0 under the boot identity
/// map, [`PHYS_OFFSET`] once the kernel tables are live.
static OFFSET: AtomicU64 = AtomicU64::new(0);

/// Virtual address through which physical address `phys` is reachable.
#[inline]
pub fn phys_to_virt(phys: u64) -> u64 {
    phys + OFFSET.load(Ordering::Relaxed)
}

/// Switches [`phys_to_virt`] to the direct map; `paging::init` calls it right
/// after loading tables that map all RAM there.
pub(super) fn switch_on() {
    OFFSET.store(PHYS_OFFSET, Ordering::Relaxed);
}
