//! Memory management: frame allocator, page tables (direct map, MMIO, null
//! guard) and the kernel heap.

pub mod frames;
pub mod heap;
pub mod paging;

use crate::bootinfo::BootInfo;

/// Brings up frames → page tables → heap. Returns the heap size.
pub fn init(info: &BootInfo) -> Result<u64, &'static str> {
    let (kstart, kend) = crate::arch::x86_64::boot::kernel_image();
    let mut reserved = [(kstart, kend), (0, 0)];
    if let Some((p, len)) = info.module_range() {
        reserved[1] = (p, p + len);
    }
    frames::init(info.regions(), &reserved);
    paging::init(info.regions()).map_err(|_| "building the kernel page tables failed")?;
    let (total, _) = frames::stats();
    // A quarter of RAM, between 8 and 128 MiB.
    heap::init((total / 4).clamp(8 << 20, 128 << 20))
}
