//! The kernel's implementation of the DDK platform ([`ddk::abi::Backend`]):
//! PCI config through mechanism #1, the PCI enumeration's stored results
//! (`pci_device_info`, BAR sizes for `bar_map`), BARs mapped uncached through
//! `mem::paging::map_mmio`, port I/O, DMA memory from the frame allocator
//! (physically contiguous, zeroed, reached through the direct map), address
//! translation with the live page tables, and block-device registration
//! (into `block_registry`).
//!
//! [`ABI`] is the one table both native drivers (through `ddk::Platform`) and
//! managed drivers (through the JIT's import binder) call.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::ptr::NonNull;

use ddk::abi::{self, BlockDeviceDesc, DdkAbi, DdkError, ForeignBlockDevice, LogLevel, Width};
use ddk::pci::{ConfigAccess, PciAddress, PciDeviceInfo};
use spin::Mutex;

use crate::arch::x86_64::cpu;
use crate::mem::{frames, paging};

/// The kernel's DDK ABI table.
pub static ABI: DdkAbi = abi::table::<Kernel>();

/// Marker type carrying the [`abi::Backend`] implementation.
pub struct Kernel;

#[derive(Clone, Copy)]
struct MmioRegion {
    phys: u64,
    virt: u64,
    len: u64,
    live: bool,
}

/// Mapped regions; handle = index + 1 (0 is never a valid handle).
static REGIONS: Mutex<Vec<MmioRegion>> = Mutex::new(Vec::new());

/// One live BAR mapping: `len` bytes at `phys`, mapped uncached at `virt`.
pub struct MmioMapping {
    pub phys: u64,
    pub virt: u64,
    pub len: u64,
}

/// The live MMIO mappings, for `drivers`.
pub fn mmio_mappings() -> Vec<MmioMapping> {
    REGIONS
        .lock()
        .iter()
        .filter(|r| r.live)
        .map(|r| MmioMapping {
            phys: r.phys,
            virt: r.virt,
            len: r.len,
        })
        .collect()
}

fn region(handle: u64, offset: u64, width: Width) -> Result<u64, DdkError> {
    let regions = REGIONS.lock();
    let r = handle
        .checked_sub(1)
        .and_then(|i| regions.get(i as usize))
        .filter(|r| r.live)
        .ok_or(DdkError::BadHandle)?;
    let end = offset
        .checked_add(width.bytes() as u64)
        .ok_or(DdkError::OutOfBounds)?;
    if end > r.len {
        return Err(DdkError::OutOfBounds);
    }
    Ok(r.virt + offset)
}

// SAFETY: DMA blocks come from the frame allocator (contiguous, zeroed before
// return, exclusively ours, direct-mapped); virt_to_phys walks the live page
// tables and only reports contiguity it has checked page by page; MMIO
// accesses are bounds-checked against the mapping made for that handle, and
// handles are small indices (bit 63 clear).
unsafe impl abi::Backend for Kernel {
    fn log(level: LogLevel, msg: &str) {
        let level = match level {
            LogLevel::Error => log::Level::Error,
            LogLevel::Warn => log::Level::Warn,
            LogLevel::Info => log::Level::Info,
            LogLevel::Debug => log::Level::Debug,
            LogLevel::Trace => log::Level::Trace,
        };
        log::log!(level, "{}", msg);
    }

    fn debug_marker(code: u32) {
        log::debug!("ddk: marker 0x{:x} at {} ns", code, crate::time::now_ns());
    }

    fn time_ns() -> Option<u64> {
        Some(crate::time::now_ns())
    }

    fn irq_setup(addr: PciAddress, source: u32) -> Result<u64, DdkError> {
        crate::irq::setup(addr, source)
    }

    fn irq_wait(handle: u64, timeout_ns: u64) -> Result<bool, DdkError> {
        crate::irq::wait(handle, timeout_ns)
    }

    fn irq_release(handle: u64) -> Result<(), DdkError> {
        crate::irq::release(handle)
    }

    fn pci_read(addr: PciAddress, offset: u16, width: Width) -> Result<u32, DdkError> {
        crate::pci::config().config_read(addr, offset, width)
    }

    fn pci_write(addr: PciAddress, offset: u16, width: Width, value: u32) -> Result<(), DdkError> {
        crate::pci::config().config_write(addr, offset, width, value)
    }

    fn device_info(addr: PciAddress) -> Result<PciDeviceInfo, DdkError> {
        crate::pci::device_info(addr)
            .copied()
            .ok_or(DdkError::NoDevice)
    }

    /// From the enumeration, which sized every BAR once: `bar_map` decodes
    /// the live register with it and never sizes again.
    fn bar_size(addr: PciAddress, bar: u8) -> Option<u64> {
        crate::pci::bar_size(addr, bar)
    }

    fn map_bar(addr: PciAddress, bar: u8, phys: u64, len: u64) -> Result<u64, DdkError> {
        if len == 0 {
            return Err(DdkError::NoDevice);
        }
        let mut regions = REGIONS.lock();
        // The same BAR mapped again (one virtio capability per structure)
        // reuses the page-table entries made the first time.
        let virt = match regions.iter().find(|r| r.phys == phys && r.len == len) {
            Some(r) => r.virt,
            None => paging::map_mmio(x86_64::PhysAddr::new(phys), len)
                .map(|v| v.as_u64())
                .map_err(|e| {
                    log::error!(
                        "platform: mapping BAR{} of {} (0x{:x}+0x{:x}): {}",
                        bar,
                        addr,
                        phys,
                        len,
                        e
                    );
                    DdkError::NoMemory
                })?,
        };
        let r = MmioRegion {
            phys,
            virt,
            len,
            live: true,
        };
        let idx = match regions.iter().position(|r| !r.live) {
            Some(i) => {
                regions[i] = r;
                i
            }
            None => {
                regions.push(r);
                regions.len() - 1
            }
        };
        Ok(idx as u64 + 1)
    }

    fn unmap_bar(handle: u64) -> Result<(), DdkError> {
        let mut regions = REGIONS.lock();
        let r = handle
            .checked_sub(1)
            .and_then(|i| regions.get_mut(i as usize))
            .filter(|r| r.live)
            .ok_or(DdkError::BadHandle)?;
        // The page-table entries stay (the MMIO window is 64 GiB of address
        // space); the handle is what becomes invalid.
        r.live = false;
        Ok(())
    }

    fn mmio_read(handle: u64, offset: u64, width: Width) -> Result<u64, DdkError> {
        let va = region(handle, offset, width)?;
        // SAFETY: `va` lies inside an uncached mapping of the device's BAR,
        // bounds-checked above and aligned (checked by the DDK trampoline).
        unsafe {
            Ok(match width {
                Width::U8 => u64::from((va as *const u8).read_volatile()),
                Width::U16 => u64::from((va as *const u16).read_volatile()),
                Width::U32 => u64::from((va as *const u32).read_volatile()),
                Width::U64 => (va as *const u64).read_volatile(),
            })
        }
    }

    fn mmio_write(handle: u64, offset: u64, width: Width, value: u64) -> Result<(), DdkError> {
        let va = region(handle, offset, width)?;
        // SAFETY: as in `mmio_read`.
        unsafe {
            match width {
                Width::U8 => (va as *mut u8).write_volatile(value as u8),
                Width::U16 => (va as *mut u16).write_volatile(value as u16),
                Width::U32 => (va as *mut u32).write_volatile(value as u32),
                Width::U64 => (va as *mut u64).write_volatile(value),
            }
        }
        Ok(())
    }

    fn port_read(port: u16, width: Width) -> Result<u32, DdkError> {
        // SAFETY: drivers reach ports through their I/O BAR handles (bounds
        // checked by the DDK) or deliberately; port reads cannot touch memory.
        unsafe {
            match width {
                Width::U8 => Ok(u32::from(cpu::inb(port))),
                Width::U16 => Ok(u32::from(cpu::inw(port))),
                Width::U32 => Ok(cpu::inl(port)),
                Width::U64 => Err(DdkError::Unsupported),
            }
        }
    }

    fn port_write(port: u16, width: Width, value: u32) -> Result<(), DdkError> {
        // SAFETY: as in `port_read`.
        unsafe {
            match width {
                Width::U8 => cpu::outb(port, value as u8),
                Width::U16 => cpu::outw(port, value as u16),
                Width::U32 => cpu::outl(port, value),
                Width::U64 => return Err(DdkError::Unsupported),
            }
        }
        Ok(())
    }

    fn dma_alloc(size: usize, align: usize) -> Result<(u64, NonNull<u8>), DdkError> {
        let pages = (size as u64).div_ceil(frames::FRAME_SIZE);
        let align_pages = (align as u64 / frames::FRAME_SIZE).max(1);
        let phys = frames::alloc_contiguous(pages, align_pages).ok_or(DdkError::NoMemory)?;
        let virt = paging::phys_to_virt(phys) as *mut u8;
        // SAFETY: freshly allocated frames, direct-mapped, ours alone.
        unsafe { core::ptr::write_bytes(virt, 0, (pages * frames::FRAME_SIZE) as usize) };
        NonNull::new(virt)
            .map(|v| (phys, v))
            .ok_or(DdkError::Failed)
    }

    unsafe fn dma_free(virt: NonNull<u8>, phys: u64, size: usize) -> Result<(), DdkError> {
        if paging::phys_to_virt(phys) != virt.as_ptr() as u64
            || !phys.is_multiple_of(frames::FRAME_SIZE)
        {
            return Err(DdkError::InvalidArgument);
        }
        let pages = (size as u64).div_ceil(frames::FRAME_SIZE);
        // SAFETY: the caller returns exactly one dma_alloc block it no longer uses.
        unsafe { frames::free_contiguous(phys, pages) };
        Ok(())
    }

    fn virt_to_phys(virt: usize, len: usize) -> Result<(u64, usize), DdkError> {
        translate_range(virt as u64, len)
    }

    unsafe fn block_register(desc: &BlockDeviceDesc) -> Result<u32, DdkError> {
        let name = if desc.name.is_null() || desc.name_len == 0 {
            String::from("block")
        } else {
            // SAFETY: the registration contract: `name` points to `name_len` bytes.
            let bytes = unsafe { core::slice::from_raw_parts(desc.name, desc.name_len.min(64)) };
            String::from_utf8_lossy(bytes).into_owned()
        };
        // SAFETY: forwarded contract of `Backend::block_register`.
        let dev = unsafe { ForeignBlockDevice::new(*desc)? };
        Ok(crate::block_registry::add(name, Box::new(dev)))
    }
}

/// Physical address of `virt` and how many of the next `len` bytes are
/// physically contiguous.
pub fn translate_range(virt: u64, len: usize) -> Result<(u64, usize), DdkError> {
    let start = paging::translate(virt).ok_or(DdkError::InvalidArgument)?;
    // Fast path: the direct map (heap, DMA blocks) is linear by construction.
    if virt >= paging::PHYS_OFFSET && start == virt - paging::PHYS_OFFSET && len > 0 {
        let last = virt + len as u64 - 1;
        if paging::translate(last) == Some(start + len as u64 - 1) {
            return Ok((start, len));
        }
    }
    let mut contiguous = (4096 - (virt & 4095)).min(len as u64);
    while contiguous < len as u64 {
        match paging::translate(virt + contiguous) {
            Some(p) if p == start + contiguous => contiguous = (contiguous + 4096).min(len as u64),
            _ => break,
        }
    }
    Ok((start, contiguous as usize))
}

/// Exercises the DMA and translation entries through the ABI table, as a
/// driver would: a freed block is reused, memory arrives zeroed, physical
/// addresses agree with the page tables, and a heap buffer is reported
/// physically contiguous. Returns a one-line summary.
pub fn self_check() -> Result<String, String> {
    let alloc = |size: u64| -> Result<(u64, *mut u8), String> {
        let (mut phys, mut virt) = (0u64, core::ptr::null_mut());
        // SAFETY: both out-pointers are valid locals.
        let st = unsafe { (ABI.dma_alloc)(size, 4096, &mut phys, &mut virt) };
        DdkError::check(st).map_err(|e| alloc::format!("dma_alloc({size}): {e}"))?;
        Ok((phys, virt))
    };
    let (p1, v1) = alloc(3 * 4096)?;
    // SAFETY: dma_alloc returned 3 pages at v1, ours until freed.
    let zeroed = unsafe { core::slice::from_raw_parts(v1, 3 * 4096) }
        .iter()
        .all(|&b| b == 0);
    if !zeroed {
        return Err(String::from("dma_alloc returned memory that is not zeroed"));
    }
    if paging::translate(v1 as u64) != Some(p1) {
        return Err(alloc::format!(
            "dma_alloc phys 0x{p1:x} disagrees with the page tables"
        ));
    }
    // SAFETY: dirtying our own block, then returning exactly what we got.
    let st = unsafe {
        v1.write_bytes(0xa5, 3 * 4096);
        (ABI.dma_free)(v1, p1, 3 * 4096)
    };
    DdkError::check(st).map_err(|e| alloc::format!("dma_free: {e}"))?;
    let (p2, v2) = alloc(3 * 4096)?;
    // SAFETY: as above, for the second block.
    let zeroed = unsafe { core::slice::from_raw_parts(v2, 3 * 4096) }
        .iter()
        .all(|&b| b == 0);
    // SAFETY: returning exactly the block we got.
    DdkError::check(unsafe { (ABI.dma_free)(v2, p2, 3 * 4096) })
        .map_err(|e| alloc::format!("dma_free: {e}"))?;
    if !zeroed {
        return Err(String::from("a reused DMA block was not zeroed"));
    }
    let buf = alloc::vec![0u8; 256 * 1024];
    let (mut phys, mut contiguous) = (0u64, 0usize);
    // SAFETY: valid buffer and out-pointers.
    let st = unsafe { (ABI.virt_to_phys)(buf.as_ptr(), buf.len(), &mut phys, &mut contiguous) };
    DdkError::check(st).map_err(|e| alloc::format!("virt_to_phys: {e}"))?;
    if contiguous != buf.len() {
        return Err(alloc::format!(
            "heap buffer reported contiguous for {contiguous} of {} bytes",
            buf.len()
        ));
    }
    Ok(alloc::format!(
        "DMA block 0x{p1:x} zeroed, freed and reused (0x{p2:x}{}), heap buffer 0x{:x} -> phys 0x{phys:x} contiguous",
        if p1 == p2 { ", same frames" } else { "" },
        buf.as_ptr() as u64
    ))
}
