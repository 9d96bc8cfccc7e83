//! The kernel's own 4-level page tables (SDM vol. 3A §4.5), replacing the boot
//! trampoline's 4 GiB identity map:
//!
//! | virtual range                       | maps                                   | access |
//! |-------------------------------------|----------------------------------------|--------|
//! | `0x0` page                           | nothing: the null guard                | - |
//! | kernel `.text` (1 MiB ..)            | itself, 4 KiB pages                    | R X |
//! | kernel `.rodata`                     | itself, 4 KiB pages                    | R, NX |
//! | kernel `.data`/`.bss`                | itself, 4 KiB pages; boot-stack guard page left out | RW, NX |
//! | `PHYS_OFFSET + p` (PML4 slot 256)    | physical `p`, all RAM regions, 2 MiB pages, write-back | RW, NX |
//! | `CODE_BASE ..` (PML4 slot 320)       | JIT code (`mem::code`), 4 KiB pages, 64 MiB window | R X |
//! | `MMIO_BASE ..` (PML4 slot 384)       | MMIO on request, 4 KiB pages, PCD\|PWT (uncached) | RW, NX |
//!
//! Everything else in the lower half is unmapped, so a stray low pointer faults.
//!
//! W^X: no leaf entry is both writable and executable. The only executable
//! mappings are kernel `.text` and the JIT window; both are read-only, and
//! their frames are written (if ever) through the direct map's RW + NX alias.
//! NX (bit 63) needs EFER.NXE, switched on by `cpu::enable_nx` before these
//! tables exist; CR0.WP makes read-only bind ring 0 too (SDM vol. 3A §4.6).
//! Intermediate entries are always present + writable + executable: access is
//! the intersection over all levels (§4.6.1), so leaves alone decide.

use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;
use x86_64::{PhysAddr, VirtAddr};

use super::frames;
use crate::arch::x86_64::boot;
use crate::arch::x86_64::cpu::{self, cr3, invlpg, write_cr3};
use crate::bootinfo::Region;

pub use super::direct_map::{phys_to_virt, PHYS_OFFSET};
/// Base of the uncached MMIO window.
pub const MMIO_BASE: u64 = 0xffff_c000_0000_0000;
const MMIO_WINDOW: u64 = 64 << 30;
/// Base of the JIT code window (PML4 slot 320), see `mem::code`.
pub const CODE_BASE: u64 = 0xffff_a000_0000_0000;
/// Size of the JIT code window.
pub const CODE_WINDOW: u64 = 64 << 20;

use kernel_logic::paging::{
    indices, walk, Mapping, ADDR_MASK, HUGE, PAGE_2M, PAGE_4K, PCD, PRESENT, PWT, WRITABLE, XD,
};

static MMIO_NEXT: Mutex<u64> = Mutex::new(MMIO_BASE);
/// [`XD`] when EFER.NXE is on, else 0: with NXE off bit 63 is reserved and
/// setting it would make every access through the entry fault (RSVD).
static NX: AtomicU64 = AtomicU64::new(0);

fn nx() -> u64 {
    NX.load(Ordering::Relaxed)
}

/// Why a mapping request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    OutOfFrames,
    WindowFull,
    BadRange,
}

impl core::fmt::Display for MapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MapError::OutOfFrames => "out of physical frames for page tables",
            MapError::WindowFull => "MMIO window exhausted",
            MapError::BadRange => "empty or overflowing physical range",
        })
    }
}

fn table(phys: u64) -> *mut u64 {
    phys_to_virt(phys) as *mut u64
}

/// Returns the next-level table under `entry_index` of `table_phys`, creating it.
fn next_table(table_phys: u64, index: usize) -> Result<u64, MapError> {
    let slot = table(table_phys).wrapping_add(index);
    // SAFETY: `table_phys` is a live page table reached through the current map.
    let entry = unsafe { slot.read_volatile() };
    if entry & PRESENT != 0 {
        return Ok(entry & ADDR_MASK);
    }
    let new = frames::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
    // SAFETY: as above; the new table is zeroed, so it maps nothing yet.
    unsafe { slot.write_volatile(new | PRESENT | WRITABLE) };
    Ok(new)
}

fn map_4k(pml4: u64, virt: u64, phys: u64, flags: u64) -> Result<(), MapError> {
    let [i4, i3, i2, i1] = indices(virt);
    let pdpt = next_table(pml4, i4)?;
    let pd = next_table(pdpt, i3)?;
    let pt = next_table(pd, i2)?;
    // SAFETY: `pt` is a page table we own, reachable through the current map.
    unsafe { table(pt).add(i1).write_volatile(phys | flags | PRESENT) };
    Ok(())
}

fn map_2m(pml4: u64, virt: u64, phys: u64, flags: u64) -> Result<(), MapError> {
    let [i4, i3, i2, _] = indices(virt);
    let pdpt = next_table(pml4, i4)?;
    let pd = next_table(pdpt, i3)?;
    // SAFETY: `pd` is a page directory we own, reachable through the current map.
    unsafe {
        table(pd)
            .add(i2)
            .write_volatile(phys | flags | PRESENT | HUGE)
    };
    Ok(())
}

/// Builds the kernel tables and switches CR3 to them. Runs once, early, while
/// the boot identity map still covers every frame the allocator hands out,
/// and after `cpu::enable_nx` (whose outcome decides whether NX is used).
pub fn init(regions: &[Region]) -> Result<(), MapError> {
    if cpu::nx_enabled() {
        NX.store(XD, Ordering::Relaxed);
    }
    let pml4 = frames::alloc_zeroed().ok_or(MapError::OutOfFrames)?;
    let (kstart, kend) = boot::kernel_image();
    let sec = boot::image_sections();
    // The linker script makes the three parts tile the image; if it ever
    // stops doing so, refuse rather than leave a page with guessed rights.
    if sec.text.0 != kstart
        || sec.text.1 != sec.rodata.0
        || sec.rodata.1 != sec.data.0
        || sec.data.1 != kend
        || [sec.text.1, sec.rodata.1]
            .iter()
            .any(|a| !a.is_multiple_of(PAGE_4K))
    {
        return Err(MapError::BadRange);
    }
    let guard = boot::stack_guard_page();
    let mut va = kstart;
    while va < kend {
        let flags = if va < sec.text.1 {
            0
        } else if va < sec.rodata.1 {
            nx()
        } else {
            WRITABLE | nx()
        };
        if va != guard {
            map_4k(pml4, va, va, flags)?;
        }
        va += PAGE_4K;
    }
    for r in regions.iter().filter(|r| matches!(r.kind, 1 | 3 | 4)) {
        let mut p = r.start & !(PAGE_2M - 1);
        let end = r.start + r.len;
        while p < end {
            map_2m(pml4, PHYS_OFFSET + p, p, WRITABLE | nx())?;
            p += PAGE_2M;
        }
    }
    // SAFETY: the new tables map the kernel image (code, data, the boot stack
    // we run on) at the same addresses, and the direct map covers all RAM that
    // `phys_to_virt` will be asked about once it switches right below.
    unsafe { write_cr3(pml4) };
    super::direct_map::switch_on();
    Ok(())
}

/// Maps one 4 KiB frame at `virt` inside the JIT code window, present +
/// executable + read-only (never writable: the frame is filled through its
/// direct-map alias). For `mem::code` only.
pub(super) fn map_code_page(virt: u64, phys: u64) -> Result<(), MapError> {
    if !(CODE_BASE..CODE_BASE + CODE_WINDOW).contains(&virt) || !virt.is_multiple_of(PAGE_4K) {
        return Err(MapError::BadRange);
    }
    map_4k(cr3(), virt, phys, 0)?;
    // The entry was not present before, and not-present entries are never
    // cached (SDM vol. 3A §4.10.2.2, §4.10.3), but dropping any stale translation
    // costs one instruction.
    invlpg(virt);
    Ok(())
}

/// Maps `len` bytes of MMIO at physical `phys` uncached (PCD|PWT) and returns
/// the virtual address corresponding to `phys`.
pub fn map_mmio(phys: PhysAddr, len: u64) -> Result<VirtAddr, MapError> {
    let phys = phys.as_u64();
    if len == 0 || phys.checked_add(len).is_none() {
        return Err(MapError::BadRange);
    }
    let first = phys & !(PAGE_4K - 1);
    let last = (phys + len - 1) & !(PAGE_4K - 1);
    let pages = (last - first) / PAGE_4K + 1;
    let mut next = MMIO_NEXT.lock();
    let base = *next;
    if base + pages * PAGE_4K > MMIO_BASE + MMIO_WINDOW {
        return Err(MapError::WindowFull);
    }
    let pml4 = cr3();
    for i in 0..pages {
        let va = base + i * PAGE_4K;
        map_4k(pml4, va, first + i * PAGE_4K, WRITABLE | PCD | PWT | nx())?;
        invlpg(va);
    }
    // One unmapped page between mappings catches overruns.
    *next = base + (pages + 1) * PAGE_4K;
    Ok(VirtAddr::new(base + (phys - first)))
}

/// The active tables' mapping of `virt` (`kernel_logic::paging::walk`).
fn lookup(virt: u64) -> Option<Mapping> {
    walk(cr3(), virt, nx() != 0, |t, idx| {
        // SAFETY: the walk reads only CR3's table and tables named by present
        // entries of the active hierarchy, all reachable through the direct
        // map; `idx` < 512 stays inside the 4 KiB table.
        unsafe { table(t).add(idx).read_volatile() }
    })
}

/// The physical address `virt` maps to, `None` if unmapped or not canonical.
pub fn translate(virt: u64) -> Option<u64> {
    lookup(virt).map(|m| m.phys)
}

/// True if `virt` is mapped with caching disabled (PCD and PWT set).
pub fn is_uncached(virt: u64) -> bool {
    lookup(virt).is_some_and(|m| m.uncached)
}

/// Effective rights of a mapped address: the intersection over the walk
/// (SDM vol. 3A §4.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub writable: bool,
    pub executable: bool,
}

/// The rights the active tables give `virt`, `None` if unmapped. Used to
/// check the W^X layout at boot and to explain page faults.
pub fn access(virt: u64) -> Option<Access> {
    lookup(virt).map(|m| Access {
        writable: m.writable,
        executable: m.executable,
    })
}
