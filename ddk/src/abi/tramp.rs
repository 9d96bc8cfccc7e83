//! The `extern "C"` face of a [`Backend`]: one trampoline per DDK ABI entry
//! that checks its arguments (null pointers, alignment, config-space bounds,
//! BAR decoding, I/O BAR handles), calls the backend and encodes the result as
//! a status. [`super::table`] assembles them into a [`super::DdkAbi`].

use super::*;

fn code(r: Result<(), DdkError>) -> u32 {
    match r {
        Ok(()) => STATUS_OK,
        Err(e) => e as u32,
    }
}

/// # Safety
/// `out` is null or valid for a write of `T`.
unsafe fn put<T>(out: *mut T, r: Result<T, DdkError>) -> u32 {
    if out.is_null() {
        return DdkError::InvalidArgument as u32;
    }
    match r {
        Ok(v) => {
            // SAFETY: non-null and valid for writes per this fn's contract;
            // managed callers may hand unaligned locals, hence unaligned.
            unsafe { out.write_unaligned(v) };
            STATUS_OK
        }
        Err(e) => e as u32,
    }
}

fn addr_ok(a: PciAddress) -> Result<PciAddress, DdkError> {
    PciAddress::from_abi_u32(a.to_abi_u32()).ok_or(DdkError::InvalidArgument)
}

fn cfg_read<B: Backend>(a: PciAddress, off: u16, w: Width) -> Result<u32, DdkError> {
    BackendConfig::<B>(Default::default()).config_read(addr_ok(a)?, off, w)
}
fn cfg_write<B: Backend>(a: PciAddress, off: u16, w: Width, v: u32) -> Result<(), DdkError> {
    BackendConfig::<B>(Default::default()).config_write(addr_ok(a)?, off, w, v)
}

pub unsafe extern "C" fn log<B: Backend>(level: u32, msg: *const u8, len: usize) {
    let text = if msg.is_null() || len == 0 {
        ""
    } else {
        // SAFETY: the entry's contract: `msg` points to `len` readable bytes.
        let bytes = unsafe { core::slice::from_raw_parts(msg, len) };
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            // Keep what is valid rather than dropping the message.
            Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
        }
    };
    B::log(LogLevel::from_u32(level), text);
}
pub unsafe extern "C" fn debug_marker<B: Backend>(code: u32) {
    B::debug_marker(code)
}
pub unsafe extern "C" fn time_ns<B: Backend>(out: *mut u64) -> u32 {
    // SAFETY: caller passes null or a writable u64.
    unsafe { put(out, B::time_ns().ok_or(DdkError::Unsupported)) }
}
pub unsafe extern "C" fn pci_read8<B: Backend>(a: PciAddress, off: u16, out: *mut u8) -> u32 {
    // SAFETY: caller passes null or a writable u8.
    unsafe { put(out, cfg_read::<B>(a, off, Width::U8).map(|v| v as u8)) }
}
pub unsafe extern "C" fn pci_read16<B: Backend>(a: PciAddress, off: u16, out: *mut u16) -> u32 {
    // SAFETY: caller passes null or a writable u16.
    unsafe { put(out, cfg_read::<B>(a, off, Width::U16).map(|v| v as u16)) }
}
pub unsafe extern "C" fn pci_read32<B: Backend>(a: PciAddress, off: u16, out: *mut u32) -> u32 {
    // SAFETY: caller passes null or a writable u32.
    unsafe { put(out, cfg_read::<B>(a, off, Width::U32)) }
}
pub unsafe extern "C" fn pci_write8<B: Backend>(a: PciAddress, off: u16, v: u8) -> u32 {
    code(cfg_write::<B>(a, off, Width::U8, v as u32))
}
pub unsafe extern "C" fn pci_write16<B: Backend>(a: PciAddress, off: u16, v: u16) -> u32 {
    code(cfg_write::<B>(a, off, Width::U16, v as u32))
}
pub unsafe extern "C" fn pci_write32<B: Backend>(a: PciAddress, off: u16, v: u32) -> u32 {
    code(cfg_write::<B>(a, off, Width::U32, v))
}
pub unsafe extern "C" fn pci_enable_bus_master<B: Backend>(a: PciAddress) -> u32 {
    code((|| {
        let cmd = cfg_read::<B>(a, pci::reg::COMMAND, Width::U16)? as u16;
        cfg_write::<B>(
            a,
            pci::reg::COMMAND,
            Width::U16,
            (cmd | pci::command::BUS_MASTER) as u32,
        )
    })())
}

fn map<B: Backend>(a: PciAddress, bar: u32) -> Result<(u64, u64), DdkError> {
    let a = addr_ok(a)?;
    let acc = BackendConfig::<B>(Default::default());
    let ht = acc.read_u8(a, pci::reg::HEADER_TYPE)?;
    if bar as usize >= pci::bar_slots(ht) {
        return Err(DdkError::InvalidArgument);
    }
    // What the platform's enumeration already knows spares a re-sizing
    // (two decode toggles); a register that no longer fits it is sized.
    let known = match B::bar_size(a, bar as u8) {
        Some(size) => pci::decode_bar_with_size(&acc, a, bar as usize, size)?,
        None => None,
    };
    let decoded = match known {
        Some(b) => b,
        None => {
            // Visible in the platform's log: with an enumeration that
            // sized every BAR this never happens at bind time.
            B::log(
                LogLevel::Info,
                &alloc::format!(
                    "ddk: bar_map {a} BAR{bar}: size unknown to the platform, sizing it"
                ),
            );
            pci::size_bar(&acc, a, bar as usize)?
                .0
                .ok_or(DdkError::NoDevice)?
        }
    };
    // Switch decoding on only if it is off: writing the command register
    // can make the host re-map every BAR of the function.
    let enable = |bit: u16| -> Result<(), DdkError> {
        let cmd = acc.read_u16(a, pci::reg::COMMAND)?;
        if cmd & bit != bit {
            acc.write_u16(a, pci::reg::COMMAND, cmd | bit)?;
        }
        Ok(())
    };
    match decoded {
        pci::Bar::Io { port, size } => {
            enable(pci::command::IO_SPACE)?;
            Ok((
                IO_HANDLE_TAG | (port as u64) << 16 | size as u64,
                size as u64,
            ))
        }
        mem => {
            enable(pci::command::MEMORY_SPACE)?;
            let h = B::map_bar(a, bar as u8, mem.address(), mem.size())?;
            if h & IO_HANDLE_TAG != 0 {
                return Err(DdkError::Failed);
            }
            Ok((h, mem.size()))
        }
    }
}

pub unsafe extern "C" fn bar_map<B: Backend>(
    a: PciAddress,
    bar: u32,
    out_handle: *mut u64,
    out_len: *mut u64,
) -> u32 {
    if out_handle.is_null() || out_len.is_null() {
        return DdkError::InvalidArgument as u32;
    }
    match map::<B>(a, bar) {
        Ok((h, len)) => {
            // SAFETY: both non-null and writable per the entry's contract.
            unsafe {
                out_handle.write_unaligned(h);
                out_len.write_unaligned(len);
            }
            STATUS_OK
        }
        Err(e) => e as u32,
    }
}
pub unsafe extern "C" fn bar_unmap<B: Backend>(handle: u64) -> u32 {
    if handle & IO_HANDLE_TAG != 0 {
        return STATUS_OK;
    }
    code(B::unmap_bar(handle))
}

/// An I/O handle's (port, size).
fn io_parts(handle: u64) -> (u16, u16) {
    ((handle >> 16) as u16, handle as u16)
}

fn region_read<B: Backend>(handle: u64, off: u64, w: Width) -> Result<u64, DdkError> {
    if !off.is_multiple_of(w.bytes() as u64) {
        return Err(DdkError::Misaligned);
    }
    if handle & IO_HANDLE_TAG != 0 {
        let (port, size) = io_parts(handle);
        if w == Width::U64 {
            return Err(DdkError::Unsupported);
        }
        if off
            .checked_add(w.bytes() as u64)
            .is_none_or(|end| end > size as u64)
        {
            return Err(DdkError::OutOfBounds);
        }
        return B::port_read(port.wrapping_add(off as u16), w).map(|v| v as u64);
    }
    B::mmio_read(handle, off, w)
}
fn region_write<B: Backend>(handle: u64, off: u64, w: Width, v: u64) -> Result<(), DdkError> {
    if !off.is_multiple_of(w.bytes() as u64) {
        return Err(DdkError::Misaligned);
    }
    if handle & IO_HANDLE_TAG != 0 {
        let (port, size) = io_parts(handle);
        if w == Width::U64 {
            return Err(DdkError::Unsupported);
        }
        if off
            .checked_add(w.bytes() as u64)
            .is_none_or(|end| end > size as u64)
        {
            return Err(DdkError::OutOfBounds);
        }
        return B::port_write(port.wrapping_add(off as u16), w, v as u32);
    }
    B::mmio_write(handle, off, w, v)
}

pub unsafe extern "C" fn mmio_read8<B: Backend>(h: u64, off: u64, out: *mut u8) -> u32 {
    // SAFETY: caller passes null or a writable u8.
    unsafe { put(out, region_read::<B>(h, off, Width::U8).map(|v| v as u8)) }
}
pub unsafe extern "C" fn mmio_read16<B: Backend>(h: u64, off: u64, out: *mut u16) -> u32 {
    // SAFETY: caller passes null or a writable u16.
    unsafe { put(out, region_read::<B>(h, off, Width::U16).map(|v| v as u16)) }
}
pub unsafe extern "C" fn mmio_read32<B: Backend>(h: u64, off: u64, out: *mut u32) -> u32 {
    // SAFETY: caller passes null or a writable u32.
    unsafe { put(out, region_read::<B>(h, off, Width::U32).map(|v| v as u32)) }
}
pub unsafe extern "C" fn mmio_read64<B: Backend>(h: u64, off: u64, out: *mut u64) -> u32 {
    // SAFETY: caller passes null or a writable u64.
    unsafe { put(out, region_read::<B>(h, off, Width::U64)) }
}
pub unsafe extern "C" fn mmio_write8<B: Backend>(h: u64, off: u64, v: u8) -> u32 {
    code(region_write::<B>(h, off, Width::U8, v as u64))
}
pub unsafe extern "C" fn mmio_write16<B: Backend>(h: u64, off: u64, v: u16) -> u32 {
    code(region_write::<B>(h, off, Width::U16, v as u64))
}
pub unsafe extern "C" fn mmio_write32<B: Backend>(h: u64, off: u64, v: u32) -> u32 {
    code(region_write::<B>(h, off, Width::U32, v as u64))
}
pub unsafe extern "C" fn mmio_write64<B: Backend>(h: u64, off: u64, v: u64) -> u32 {
    code(region_write::<B>(h, off, Width::U64, v))
}
pub unsafe extern "C" fn port_read8<B: Backend>(port: u16, out: *mut u8) -> u32 {
    // SAFETY: caller passes null or a writable u8.
    unsafe { put(out, B::port_read(port, Width::U8).map(|v| v as u8)) }
}
pub unsafe extern "C" fn port_read16<B: Backend>(port: u16, out: *mut u16) -> u32 {
    // SAFETY: caller passes null or a writable u16.
    unsafe { put(out, B::port_read(port, Width::U16).map(|v| v as u16)) }
}
pub unsafe extern "C" fn port_read32<B: Backend>(port: u16, out: *mut u32) -> u32 {
    // SAFETY: caller passes null or a writable u32.
    unsafe { put(out, B::port_read(port, Width::U32)) }
}
pub unsafe extern "C" fn port_write8<B: Backend>(port: u16, v: u8) -> u32 {
    code(B::port_write(port, Width::U8, v as u32))
}
pub unsafe extern "C" fn port_write16<B: Backend>(port: u16, v: u16) -> u32 {
    code(B::port_write(port, Width::U16, v as u32))
}
pub unsafe extern "C" fn port_write32<B: Backend>(port: u16, v: u32) -> u32 {
    code(B::port_write(port, Width::U32, v))
}
pub unsafe extern "C" fn dma_alloc<B: Backend>(
    size: u64,
    align: u64,
    out_phys: *mut u64,
    out_virt: *mut *mut u8,
) -> u32 {
    if out_phys.is_null() || out_virt.is_null() {
        return DdkError::InvalidArgument as u32;
    }
    if size == 0 || size > isize::MAX as u64 || !align.is_power_of_two() || align > 1 << 30 {
        return DdkError::InvalidArgument as u32;
    }
    match B::dma_alloc(size as usize, align as usize) {
        Ok((phys, virt)) => {
            // SAFETY: both non-null and writable per the entry's contract.
            unsafe {
                out_phys.write_unaligned(phys);
                out_virt.write_unaligned(virt.as_ptr());
            }
            STATUS_OK
        }
        Err(e) => e as u32,
    }
}
pub unsafe extern "C" fn dma_free<B: Backend>(virt: *mut u8, phys: u64, size: u64) -> u32 {
    let Some(v) = NonNull::new(virt) else {
        return DdkError::InvalidArgument as u32;
    };
    // SAFETY: the entry's contract is the backend's contract.
    code(unsafe { B::dma_free(v, phys, size as usize) })
}
pub unsafe extern "C" fn virt_to_phys<B: Backend>(
    virt: *const u8,
    len: usize,
    out_phys: *mut u64,
    out_contiguous: *mut usize,
) -> u32 {
    if out_phys.is_null() || out_contiguous.is_null() || virt.is_null() || len == 0 {
        return DdkError::InvalidArgument as u32;
    }
    match B::virt_to_phys(virt as usize, len) {
        Ok((phys, contiguous)) => {
            // SAFETY: both non-null and writable per the entry's contract.
            unsafe {
                out_phys.write_unaligned(phys);
                out_contiguous.write_unaligned(contiguous.min(len));
            }
            STATUS_OK
        }
        Err(e) => e as u32,
    }
}
pub unsafe extern "C" fn block_register<B: Backend>(
    desc: *const BlockDeviceDesc,
    out_id: *mut u32,
) -> u32 {
    if desc.is_null() || out_id.is_null() {
        return DdkError::InvalidArgument as u32;
    }
    // SAFETY: non-null, and the entry's contract says it points to a
    // descriptor; read unaligned in case a managed caller packed it.
    let d = unsafe { desc.read_unaligned() };
    if (d.size as usize) < core::mem::size_of::<BlockDeviceDesc>() {
        return DdkError::InvalidArgument as u32;
    }
    // SAFETY: the entry's contract is the backend's contract.
    let r = unsafe { B::block_register(&d) };
    // SAFETY: out_id non-null and writable per the entry's contract.
    unsafe { put(out_id, r) }
}
pub unsafe extern "C" fn pci_device_info<B: Backend>(
    a: PciAddress,
    out: *mut PciDeviceInfo,
) -> u32 {
    let r = addr_ok(a).and_then(B::device_info).map(|mut info| {
        // The producer's size, whatever the backend put there.
        info.size = core::mem::size_of::<PciDeviceInfo>() as u32;
        info
    });
    // SAFETY: caller passes null or a writable PciDeviceInfo (unaligned
    // is fine: managed callers may pass any local).
    unsafe { put(out, r) }
}
pub unsafe extern "C" fn irq_setup<B: Backend>(a: PciAddress, source: u32, out: *mut u64) -> u32 {
    if out.is_null() {
        return DdkError::InvalidArgument as u32;
    }
    let r = addr_ok(a).and_then(|a| B::irq_setup(a, source));
    // SAFETY: caller passes a writable u64 (checked non-null above).
    unsafe { put(out, r) }
}
pub unsafe extern "C" fn irq_wait<B: Backend>(handle: u64, timeout_ns: u64, out: *mut u32) -> u32 {
    if out.is_null() {
        return DdkError::InvalidArgument as u32;
    }
    // SAFETY: caller passes a writable u32 (checked non-null above).
    unsafe { put(out, B::irq_wait(handle, timeout_ns).map(u32::from)) }
}
pub unsafe extern "C" fn irq_release<B: Backend>(handle: u64) -> u32 {
    code(B::irq_release(handle))
}
