//! [`Platform`]: the typed Rust face of the DDK ABI table, which native
//! drivers use, and the recipe for a platform to provide that table.
//!
//! # How a platform implements the DDK
//!
//! Implement [`crate::abi::Backend`] on a zero-sized type (state in statics),
//! then build the table and hand it to drivers:
//!
//! ```ignore
//! struct Kernel;
//! unsafe impl ddk::abi::Backend for Kernel { /* … */ }
//! static DDK: ddk::DdkAbi = ddk::abi::table::<Kernel>();
//! let platform = unsafe { ddk::Platform::new(&DDK) }?;   // native drivers
//! // managed drivers: the JIT binds imports to `&DDK` + ENTRIES[i].offset
//! ```
//!
//! What the backend must provide (the DDK does argument checking, BAR
//! decoding, command-register bits and I/O-BAR handles itself; it sizes a
//! BAR only for a backend whose enumeration does not know the size):
//! - **Config access** — `pci_read`/`pci_write` of 1, 2 or 4 bytes at an
//!   aligned offset < 256 (CF8/CFC: use the byte/word data ports, do not
//!   read-modify-write the dword, or RW1C status bits get cleared).
//!   [`crate::pci::RegionAccess`] adapts an existing `pci_types` accessor.
//! - **BAR mapping** — `map_bar(addr, bar, phys, len)`: map the physical
//!   range uncached (PCD|PWT, NX) into the page tables, remember
//!   `(virt, len)` under a handle (< 2^63), and in `mmio_read`/`mmio_write`
//!   bounds-check `offset + width <= len` and do one volatile access of
//!   exactly that width (`read_volatile`/`write_volatile`). `unmap_bar`
//!   forgets the handle.
//! - **Enumeration** — `device_info(addr)`: what the platform's PCI scan
//!   found at `addr` ([`crate::pci::PciDeviceInfo`]: header fields, BARs
//!   sized once at enumeration with [`crate::pci::PciDevice::probe`], the
//!   capability list from [`crate::pci::PciDeviceInfo::collect`]), from
//!   memory, without touching the device; `NoDevice` for an address not
//!   enumerated. `bar_size` answers from it by default, so `bar_map` never
//!   sizes a BAR again.
//! - **Port I/O** — `port_read`/`port_write` of 1, 2 or 4 bytes (`in`/`out`).
//! - **DMA** — `dma_alloc(size, align)`: zeroed, physically contiguous
//!   frames (size is a multiple of 4096, align ≥ 4096), returning `(phys,
//!   virt)`; `dma_free` gets the same triple back. Legacy virtio needs the
//!   queue below 2^44 (a 32-bit page number).
//! - **virt↔phys** — `virt_to_phys(virt, len)` → `(phys, contiguous)` so
//!   drivers can DMA straight into caller buffers: walk the page tables, report
//!   how many bytes from `virt` stay physically contiguous. Return
//!   `Unsupported` if that is not possible; drivers then bounce-copy.
//! - **Time** — `time_ns()`: a monotonic nanosecond clock (TSC/HPET/PIT).
//!   Without one (`None`), drivers bound their waits by spin counts instead.
//! - **Log / debug marker** — write to serial; the marker may be a port write.
//! - **Block registration** — optional: wrap the descriptor in
//!   [`crate::abi::ForeignBlockDevice`] and hand it to the driver manager.

use alloc::boxed::Box;
use core::ffi::c_void;
use core::ptr::NonNull;

use crate::abi::{
    BlockDeviceDesc, DdkAbi, DdkError, LogLevel, Width, DDK_ABI_MAGIC, DDK_ABI_VERSION,
};
use crate::block::{BlockDevice, BlockError, Lba};
use crate::dma::{Hal, PhysAddr};
use crate::pci::{ConfigAccess, PciAddress, PciDevice, PciDeviceInfo};

/// The DDK as native drivers see it: a checked reference to the ABI table.
#[derive(Clone, Copy)]
pub struct Platform {
    abi: &'static DdkAbi,
}

impl core::fmt::Debug for Platform {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Platform")
            .field("abi", &(self.abi as *const DdkAbi))
            .finish()
    }
}

impl Platform {
    /// Checks the table header (magic, version, size) and wraps it.
    ///
    /// # Safety
    /// Every entry of `abi` must behave as documented on [`DdkAbi`] (tables
    /// built with [`crate::abi::table`] from a sound `Backend` do).
    pub unsafe fn new(abi: &'static DdkAbi) -> Result<Platform, DdkError> {
        let h = abi.header;
        if h.magic != DDK_ABI_MAGIC
            || h.version != DDK_ABI_VERSION
            || (h.size as usize) < core::mem::size_of::<DdkAbi>()
        {
            return Err(DdkError::Unsupported);
        }
        Ok(Platform { abi })
    }

    /// The raw table (what managed imports bind to).
    pub fn abi(&self) -> &'static DdkAbi {
        self.abi
    }

    pub fn log(&self, level: LogLevel, msg: &str) {
        // SAFETY: `msg` is valid for `len` bytes for the duration of the call.
        unsafe { (self.abi.log)(level as u32, msg.as_ptr(), msg.len()) }
    }

    pub fn debug_marker(&self, code: u32) {
        // SAFETY: no pointers cross.
        unsafe { (self.abi.debug_marker)(code) }
    }

    /// Monotonic nanoseconds, or `None` without a clock.
    pub fn time_ns(&self) -> Option<u64> {
        let mut t = 0u64;
        // SAFETY: `t` is a live, writable u64.
        let s = unsafe { (self.abi.time_ns)(&mut t) };
        DdkError::check(s).ok().map(|()| t)
    }

    pub fn pci_read8(&self, a: PciAddress, off: u16) -> Result<u8, DdkError> {
        let mut v = 0;
        // SAFETY: `v` is a live, writable out-parameter.
        DdkError::check(unsafe { (self.abi.pci_read8)(a, off, &mut v) }).map(|()| v)
    }
    pub fn pci_read16(&self, a: PciAddress, off: u16) -> Result<u16, DdkError> {
        let mut v = 0;
        // SAFETY: `v` is a live, writable out-parameter.
        DdkError::check(unsafe { (self.abi.pci_read16)(a, off, &mut v) }).map(|()| v)
    }
    pub fn pci_read32(&self, a: PciAddress, off: u16) -> Result<u32, DdkError> {
        let mut v = 0;
        // SAFETY: `v` is a live, writable out-parameter.
        DdkError::check(unsafe { (self.abi.pci_read32)(a, off, &mut v) }).map(|()| v)
    }
    pub fn pci_write8(&self, a: PciAddress, off: u16, v: u8) -> Result<(), DdkError> {
        // SAFETY: no pointers cross.
        DdkError::check(unsafe { (self.abi.pci_write8)(a, off, v) })
    }
    pub fn pci_write16(&self, a: PciAddress, off: u16, v: u16) -> Result<(), DdkError> {
        // SAFETY: no pointers cross.
        DdkError::check(unsafe { (self.abi.pci_write16)(a, off, v) })
    }
    pub fn pci_write32(&self, a: PciAddress, off: u16, v: u32) -> Result<(), DdkError> {
        // SAFETY: no pointers cross.
        DdkError::check(unsafe { (self.abi.pci_write32)(a, off, v) })
    }
    /// What the platform's enumeration knows about `a` (the `pci_device_info`
    /// entry): ids, class, BARs as sized at enumeration, capability list.
    /// `Err(NoDevice)` for an address the platform did not enumerate.
    pub fn device_info(&self, a: PciAddress) -> Result<PciDeviceInfo, DdkError> {
        let mut info = PciDeviceInfo::default();
        // SAFETY: `info` is a live, writable PciDeviceInfo.
        DdkError::check(unsafe { (self.abi.pci_device_info)(a, &mut info) })?;
        Ok(info)
    }

    /// Routes an interrupt of `a` (an MSI-X table entry, or
    /// [`crate::abi::IRQ_SOURCE_INTX`]); `Err(Unsupported)` means: poll.
    pub fn irq_setup(&self, a: PciAddress, source: u32) -> Result<u64, DdkError> {
        let mut h = 0u64;
        // SAFETY: `h` is a live, writable u64.
        DdkError::check(unsafe { (self.abi.irq_setup)(a, source, &mut h) })?;
        Ok(h)
    }
    /// Halts until `handle`'s interrupt or `timeout_ns`; `Ok(true)` if it came.
    pub fn irq_wait(&self, handle: u64, timeout_ns: u64) -> Result<bool, DdkError> {
        let mut fired = 0u32;
        // SAFETY: `fired` is a live, writable u32.
        DdkError::check(unsafe { (self.abi.irq_wait)(handle, timeout_ns, &mut fired) })?;
        Ok(fired != 0)
    }
    /// Tears down an [`Self::irq_setup`].
    pub fn irq_release(&self, handle: u64) -> Result<(), DdkError> {
        // SAFETY: no pointers cross.
        DdkError::check(unsafe { (self.abi.irq_release)(handle) })
    }

    /// The [`PciDevice`] at `a` as the platform enumerated it: what a driver
    /// is handed, built from [`Self::device_info`] with no config access.
    pub fn pci_device(&self, a: PciAddress) -> Result<PciDevice, DdkError> {
        self.device_info(a).map(|i| PciDevice::from_info(a, &i))
    }

    pub fn enable_bus_master(&self, a: PciAddress) -> Result<(), DdkError> {
        // SAFETY: no pointers cross.
        DdkError::check(unsafe { (self.abi.pci_enable_bus_master)(a) })
    }

    /// Raw port read (1, 2 or 4 bytes). Drivers normally use an I/O
    /// [`crate::mmio::Region`].
    pub fn port_read(&self, port: u16, w: Width) -> Result<u32, DdkError> {
        match w {
            Width::U8 => {
                let mut v = 0u8;
                // SAFETY: the out-parameter is a live local.
                DdkError::check(unsafe { (self.abi.port_read8)(port, &mut v) }).map(|()| v as u32)
            }
            Width::U16 => {
                let mut v = 0u16;
                // SAFETY: the out-parameter is a live local.
                DdkError::check(unsafe { (self.abi.port_read16)(port, &mut v) }).map(|()| v as u32)
            }
            Width::U32 => {
                let mut v = 0u32;
                // SAFETY: the out-parameter is a live local.
                DdkError::check(unsafe { (self.abi.port_read32)(port, &mut v) }).map(|()| v)
            }
            Width::U64 => Err(DdkError::Unsupported),
        }
    }
    pub fn port_write(&self, port: u16, w: Width, v: u32) -> Result<(), DdkError> {
        // SAFETY: no pointers cross.
        DdkError::check(unsafe {
            match w {
                Width::U8 => (self.abi.port_write8)(port, v as u8),
                Width::U16 => (self.abi.port_write16)(port, v as u16),
                Width::U32 => (self.abi.port_write32)(port, v),
                Width::U64 => return Err(DdkError::Unsupported),
            }
        })
    }

    /// Hands a native block device to the platform through the ABI (the same
    /// `block_register` entry managed drivers use). The device lives forever.
    pub fn register_block_device(
        &self,
        name: &str,
        dev: Box<dyn BlockDevice>,
    ) -> Result<u32, DdkError> {
        let block_size = u32::try_from(dev.block_size()).map_err(|_| DdkError::InvalidArgument)?;
        let desc = BlockDeviceDesc {
            size: core::mem::size_of::<BlockDeviceDesc>() as u32,
            block_size,
            block_count: dev.block_count(),
            read_only: dev.is_read_only() as u32,
            reserved: 0,
            name: name.as_ptr(),
            name_len: name.len(),
            ctx: Box::into_raw(Box::new(dev)) as *mut c_void,
            read: boxed_read,
            write: boxed_write,
            flush: boxed_flush,
        };
        let mut id = 0u32;
        // SAFETY: `desc` is live for the call (the platform copies the name);
        // ctx is a leaked Box the callbacks below understand.
        let r = DdkError::check(unsafe { (self.abi.block_register)(&desc, &mut id) });
        if r.is_err() {
            // SAFETY: registration failed, so nobody else holds ctx: reclaim it.
            drop(unsafe { Box::from_raw(desc.ctx as *mut Box<dyn BlockDevice>) });
        }
        r.map(|()| id)
    }
}

fn block_code(r: Result<(), BlockError>) -> u32 {
    match r {
        Ok(()) => 0,
        Err(e) => e as u32,
    }
}

/// # Safety
/// `ctx` is a `*mut Box<dyn BlockDevice>` from `register_block_device`, used
/// by one caller at a time; `buf` is valid for `len` bytes of writes.
unsafe extern "C" fn boxed_read(ctx: *mut c_void, lba: u64, buf: *mut u8, len: usize) -> u32 {
    if buf.is_null() {
        return BlockError::BadBuffer as u32;
    }
    // SAFETY: per this fn's contract.
    let (dev, buf) = unsafe {
        (
            &mut *(ctx as *mut Box<dyn BlockDevice>),
            core::slice::from_raw_parts_mut(buf, len),
        )
    };
    block_code(dev.read_blocks(Lba::new(lba), buf))
}
/// # Safety
/// As `boxed_read`, with `buf` valid for `len` bytes of reads.
unsafe extern "C" fn boxed_write(ctx: *mut c_void, lba: u64, buf: *const u8, len: usize) -> u32 {
    if buf.is_null() {
        return BlockError::BadBuffer as u32;
    }
    // SAFETY: per this fn's contract.
    let (dev, buf) = unsafe {
        (
            &mut *(ctx as *mut Box<dyn BlockDevice>),
            core::slice::from_raw_parts(buf, len),
        )
    };
    block_code(dev.write_blocks(Lba::new(lba), buf))
}
/// # Safety
/// `ctx` as for `boxed_read`.
unsafe extern "C" fn boxed_flush(ctx: *mut c_void) -> u32 {
    // SAFETY: per this fn's contract.
    let dev = unsafe { &mut *(ctx as *mut Box<dyn BlockDevice>) };
    block_code(dev.flush())
}

impl ConfigAccess for Platform {
    fn config_read(&self, addr: PciAddress, offset: u16, width: Width) -> Result<u32, DdkError> {
        match width {
            Width::U8 => self.pci_read8(addr, offset).map(u32::from),
            Width::U16 => self.pci_read16(addr, offset).map(u32::from),
            Width::U32 => self.pci_read32(addr, offset),
            Width::U64 => Err(DdkError::InvalidArgument),
        }
    }
    fn config_write(
        &self,
        addr: PciAddress,
        offset: u16,
        width: Width,
        value: u32,
    ) -> Result<(), DdkError> {
        match width {
            Width::U8 => self.pci_write8(addr, offset, value as u8),
            Width::U16 => self.pci_write16(addr, offset, value as u16),
            Width::U32 => self.pci_write32(addr, offset, value),
            Width::U64 => Err(DdkError::InvalidArgument),
        }
    }
}

/// Lets `pci_types` header parsers run over the ABI. Failed reads yield
/// all-ones, as absent functions do on real hardware.
impl pci_types::ConfigRegionAccess for Platform {
    unsafe fn read(&self, address: pci_types::PciAddress, offset: u16) -> u32 {
        self.pci_read32(address.into(), offset).unwrap_or(u32::MAX)
    }
    unsafe fn write(&self, address: pci_types::PciAddress, offset: u16, value: u32) {
        let _ = self.pci_write32(address.into(), offset, value);
    }
}

// SAFETY: forwards to the ABI's DMA entries, whose contract is `Hal`'s.
unsafe impl Hal for Platform {
    fn dma_alloc(&self, size: usize, align: usize) -> Result<(PhysAddr, NonNull<u8>), DdkError> {
        let (mut phys, mut virt) = (0u64, core::ptr::null_mut());
        // SAFETY: both out-parameters are live locals.
        DdkError::check(unsafe {
            (self.abi.dma_alloc)(size as u64, align as u64, &mut phys, &mut virt)
        })?;
        let virt = NonNull::new(virt).ok_or(DdkError::Failed)?;
        Ok((PhysAddr::new(phys), virt))
    }
    unsafe fn dma_free(
        &self,
        phys: PhysAddr,
        virt: NonNull<u8>,
        size: usize,
    ) -> Result<(), DdkError> {
        // SAFETY: forwarded contract of `Hal::dma_free`.
        DdkError::check(unsafe { (self.abi.dma_free)(virt.as_ptr(), phys.as_u64(), size as u64) })
    }
    // The pointer is only translated by the platform, never dereferenced.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    fn virt_to_phys(&self, virt: *const u8, len: usize) -> Result<(PhysAddr, usize), DdkError> {
        let (mut phys, mut contig) = (0u64, 0usize);
        // SAFETY: out-parameters are live locals; `virt` is only translated, not dereferenced.
        DdkError::check(unsafe { (self.abi.virt_to_phys)(virt, len, &mut phys, &mut contig) })?;
        if contig == 0 || contig > len {
            return Err(DdkError::Failed);
        }
        Ok((PhysAddr::new(phys), contig))
    }
}
