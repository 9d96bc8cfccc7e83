//! x86-64 4-level page-table arithmetic (SDM vol. 3A §4.5): entry bits, the
//! table indices of an address, and the walk that translates an address and
//! gathers its effective rights (the intersection over every level,
//! §4.6.1). The walk reads entries through a callback, so the kernel walks
//! its live tables (`kernel/src/mem/paging.rs`) and the host tests a map.

pub const PRESENT: u64 = 1 << 0;
pub const WRITABLE: u64 = 1 << 1;
pub const PWT: u64 = 1 << 3;
pub const PCD: u64 = 1 << 4;
/// Page size: a 1 GiB (PDPT) or 2 MiB (PD) leaf.
pub const HUGE: u64 = 1 << 7;
/// Execute-disable; only meaningful with EFER.NXE (otherwise reserved).
pub const XD: u64 = 1 << 63;
/// The physical address bits of an entry.
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
pub const PAGE_4K: u64 = 4096;
pub const PAGE_2M: u64 = 2 << 20;
pub const PAGE_1G: u64 = 1 << 30;

/// The PML4, PDPT, PD and PT indices of `virt`.
pub fn indices(virt: u64) -> [usize; 4] {
    [
        ((virt >> 39) & 511) as usize,
        ((virt >> 30) & 511) as usize,
        ((virt >> 21) & 511) as usize,
        ((virt >> 12) & 511) as usize,
    ]
}

/// Whether `virt` is canonical (bits 63..47 all equal); others fault before
/// any table is read.
pub fn is_canonical(virt: u64) -> bool {
    let top = virt >> 47;
    top == 0 || top == 0x1ffff
}

/// Where a mapped address leads and what it may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The physical address `virt` translates to.
    pub phys: u64,
    /// The size of the leaf page (4 KiB, 2 MiB or 1 GiB).
    pub page: u64,
    /// Writable at every level.
    pub writable: bool,
    /// Not execute-disabled at any level (always true with `nx` off).
    pub executable: bool,
    /// The leaf has caching disabled (PCD and PWT both set).
    pub uncached: bool,
}

/// Walks the tables under `root` (a PML4's physical address) for `virt`;
/// `entry(table, index)` reads entry `index` of the table at physical
/// address `table` (only tables reached through present entries, and
/// `root`, are read). `nx`: EFER.NXE is on, so bit 63 means execute-disable.
/// `None` when `virt` is not canonical or not mapped.
pub fn walk(root: u64, virt: u64, nx: bool, entry: impl Fn(u64, usize) -> u64) -> Option<Mapping> {
    if !is_canonical(virt) {
        return None;
    }
    let mut t = root;
    let (mut writable, mut executable) = (true, true);
    for (level, idx) in indices(virt).into_iter().enumerate() {
        let e = entry(t, idx);
        if e & PRESENT == 0 {
            return None;
        }
        writable &= e & WRITABLE != 0;
        executable &= !nx || e & XD == 0;
        let page = match level {
            1 if e & HUGE != 0 => PAGE_1G,
            2 if e & HUGE != 0 => PAGE_2M,
            3 => PAGE_4K,
            _ => {
                t = e & ADDR_MASK;
                continue;
            }
        };
        return Some(Mapping {
            phys: (e & ADDR_MASK & !(page - 1)) + (virt & (page - 1)),
            page,
            writable,
            executable,
            uncached: e & (PCD | PWT) == PCD | PWT,
        });
    }
    None
}
