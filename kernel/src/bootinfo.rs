//! The PVH `hvm_start_info` handed over in `ebx` (Xen public header
//! `arch-x86/hvm/start_info.h`, versions 0 and 1): command line, memory map,
//! boot modules (QEMU `-initrd` supplies one).
//!
//! Everything is copied into kernel statics while the early identity map is
//! live, so nothing here depends on the firmware's pages staying intact, except
//! the module bytes, which the frame allocator is told to leave alone.
//! When the start info has no memory map (version 0, or zero entries), the
//! CMOS memory-size registers QEMU and PC firmware fill in (0x34/0x35: 64 KiB
//! units above 16 MiB; 0x5b..0x5d: 64 KiB units above 4 GiB) are used instead.

use spin::Once;

use crate::arch::x86_64::cpu::{inb, outb};

const START_INFO_MAGIC: u32 = 0x336e_c578;
const MAX_REGIONS: usize = 128;
const MAX_CMDLINE: usize = 4096;

pub use kernel_logic::memmap::{memory_summary, Region, REGION_RAM};

#[repr(C)]
#[derive(Clone, Copy)]
struct StartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct ModlistEntry {
    paddr: u64,
    size: u64,
    cmdline_paddr: u64,
    reserved: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct MemmapEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

/// What the boot loader told us, copied.
pub struct BootInfo {
    cmdline: [u8; MAX_CMDLINE],
    cmdline_len: usize,
    regions: [Region; MAX_REGIONS],
    region_count: usize,
    /// `(paddr, size)` of the first boot module.
    module: Option<(u64, u64)>,
    /// Number of modules the loader passed (only the first is used).
    pub module_count: u32,
    /// Where the memory map came from.
    pub memmap_source: &'static str,
    pub rsdp: u64,
    /// The translation [`parse`] was given, kept for [`module`].
    phys_to_virt: fn(u64) -> u64,
}

impl BootInfo {
    /// The kernel command line, as passed with `-append`.
    pub fn cmdline(&self) -> &str {
        core::str::from_utf8(&self.cmdline[..self.cmdline_len]).unwrap_or("")
    }

    /// The physical memory map.
    pub fn regions(&self) -> &[Region] {
        &self.regions[..self.region_count]
    }

    /// Physical range of the boot module, if any.
    pub fn module_range(&self) -> Option<(u64, u64)> {
        self.module
    }
}

static BOOT: Once<BootInfo> = Once::new();

/// Reads `hvm_start_info` at `phys`, reaching physical memory through
/// `phys_to_virt` (the kernel's `mem::paging::phys_to_virt`: the identity
/// map at this point, the direct map once `mem::init` ran). Taking it as an
/// argument keeps `bootinfo` below `mem`, which consumes the memory map.
pub fn parse(phys: u64, phys_to_virt: fn(u64) -> u64) -> Result<&'static BootInfo, &'static str> {
    if phys == 0 {
        return Err("no hvm_start_info (ebx = 0): not booted through PVH?");
    }
    // SAFETY: the PVH loader passes a valid start_info pointer in ebx and the
    // early identity map covers the low 4 GiB where it lives.
    let si: StartInfo =
        unsafe { core::ptr::read_unaligned(phys_to_virt(phys) as *const StartInfo) };
    if si.magic != START_INFO_MAGIC {
        return Err("hvm_start_info has a bad magic");
    }
    let mut info = BootInfo {
        cmdline: [0; MAX_CMDLINE],
        cmdline_len: 0,
        regions: [Region::default(); MAX_REGIONS],
        region_count: 0,
        module: None,
        module_count: si.nr_modules,
        memmap_source: "hvm_start_info",
        rsdp: si.rsdp_paddr,
        phys_to_virt,
    };
    if si.cmdline_paddr != 0 {
        let base = phys_to_virt(si.cmdline_paddr) as *const u8;
        let mut n = 0;
        loop {
            if n == MAX_CMDLINE {
                return Err("command line longer than 4096 bytes (refusing to truncate it)");
            }
            // SAFETY: the loader's NUL-terminated string; bounded by MAX_CMDLINE.
            let b = unsafe { base.add(n).read() };
            if b == 0 {
                break;
            }
            info.cmdline[n] = b;
            n += 1;
        }
        info.cmdline_len = n;
        if core::str::from_utf8(&info.cmdline[..n]).is_err() {
            return Err("command line is not valid UTF-8");
        }
    }
    if si.nr_modules > 0 && si.modlist_paddr != 0 {
        // SAFETY: the loader says at least one modlist entry is at modlist_paddr.
        let m: ModlistEntry = unsafe {
            core::ptr::read_unaligned(phys_to_virt(si.modlist_paddr) as *const ModlistEntry)
        };
        if m.size > 0 {
            info.module = Some((m.paddr, m.size));
        }
    }
    if si.version >= 1 && si.memmap_paddr != 0 && si.memmap_entries > 0 {
        let n = (si.memmap_entries as usize).min(MAX_REGIONS);
        for i in 0..n {
            // SAFETY: `memmap_entries` entries follow `memmap_paddr`.
            let e: MemmapEntry = unsafe {
                core::ptr::read_unaligned(
                    (phys_to_virt(si.memmap_paddr) as *const MemmapEntry).add(i),
                )
            };
            info.regions[i] = Region {
                start: e.addr,
                len: e.size,
                kind: e.kind,
            };
        }
        info.region_count = n;
    } else {
        info.memmap_source = "CMOS (no memory map in hvm_start_info)";
        let (low, high) = cmos_memory();
        let mut n = 0;
        info.regions[n] = Region {
            start: 0,
            len: 0x9f000,
            kind: REGION_RAM,
        };
        n += 1;
        info.regions[n] = Region {
            start: 0x10_0000,
            len: low - 0x10_0000,
            kind: REGION_RAM,
        };
        n += 1;
        if high > 0 {
            info.regions[n] = Region {
                start: 1 << 32,
                len: high,
                kind: REGION_RAM,
            };
            n += 1;
        }
        info.region_count = n;
    }
    Ok(BOOT.call_once(|| info))
}

fn cmos_read(reg: u8) -> u8 {
    // SAFETY: CMOS index/data ports; reading NVRAM bytes has no side effects
    // (bit 7 of the index keeps NMIs disabled).
    unsafe {
        outb(0x70, 0x80 | reg);
        inb(0x71)
    }
}

/// (end of RAM below 4 GiB, bytes of RAM above 4 GiB) from CMOS.
fn cmos_memory() -> (u64, u64) {
    let above16m = (u64::from(cmos_read(0x35)) << 8 | u64::from(cmos_read(0x34))) << 16;
    let above4g = (u64::from(cmos_read(0x5d)) << 16
        | u64::from(cmos_read(0x5c)) << 8
        | u64::from(cmos_read(0x5b)))
        << 16;
    let low = (16 << 20) + above16m;
    (low, above4g)
}

/// The parsed boot information. Panics only if called before [`parse`].
pub fn get() -> &'static BootInfo {
    BOOT.get()
        .expect("bootinfo::parse runs first thing in kernel_entry")
}

/// The boot module (QEMU `-initrd`) as bytes, if one was passed.
pub fn module() -> Option<&'static [u8]> {
    let boot = BOOT.get()?;
    let (paddr, size) = boot.module?;
    // SAFETY: the module range is reserved in the frame allocator and covered
    // by the direct map; nothing writes to it.
    Some(unsafe {
        core::slice::from_raw_parts((boot.phys_to_virt)(paddr) as *const u8, size as usize)
    })
}
