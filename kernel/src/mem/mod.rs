//! Memory management: frame allocator, page tables (direct map, MMIO, null
//! guard, W^X protection of the kernel image), the kernel heap and the JIT
//! code region.

pub mod code;
mod direct_map;
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
    let heap = heap::init((total / 4).clamp(8 << 20, 128 << 20))?;
    check_wx()?;
    Ok(heap)
}

/// Reads the rights back from the live tables at one address of each kind
/// and logs the W^X summary; a wrong layout stops the boot rather than run
/// unprotected while claiming otherwise.
fn check_wx() -> Result<(), &'static str> {
    use crate::arch::x86_64::{boot, cpu};
    let sec = boot::image_sections();
    let nx = cpu::nx_enabled();
    let heap_probe = alloc::boxed::Box::new(0u64);
    let heap_va = &*heap_probe as *const u64 as u64;
    let rw = |va: u64| paging::access(va).map(|a| (a.writable, a.executable));
    let checks = [
        ("kernel .text", sec.text.0, (false, true)),
        ("kernel .rodata", sec.rodata.0, (false, !nx)),
        ("kernel .data", sec.data.0, (true, !nx)),
        ("heap (direct map)", heap_va, (true, !nx)),
    ];
    for (what, va, want) in checks {
        if rw(va) != Some(want) {
            log::error!(
                "mem: {} at 0x{:x} has rights {:?}, want (writable, executable) = {:?}",
                what,
                va,
                rw(va),
                want
            );
            return Err("kernel mappings break W^X");
        }
    }
    if !cpu::write_protect_enabled() {
        return Err("CR0.WP is off: read-only pages would not stop kernel writes");
    }
    if nx {
        log::info!(
            "mem: W^X on: text RX, rodata R, data/bss/stacks RW+NX, direct map and MMIO NX, JIT window 0x{:x} ({} MiB, RX, written via the NX direct map)",
            paging::CODE_BASE,
            paging::CODE_WINDOW >> 20
        );
    } else {
        log::warn!(
            "mem: W^X partial: CPU lacks NX; text and JIT window read-only, data executable; JIT window 0x{:x}",
            paging::CODE_BASE
        );
    }
    Ok(())
}
