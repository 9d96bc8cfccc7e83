//! DMA: physical addresses, the [`Hal`] a driver allocates device-visible
//! memory through, and the RAII [`Dma`] buffer that frees itself on drop.
//! Modelled on rcore-os/virtio-drivers' `Hal`, but with `&self` methods so the
//! one implementation, [`crate::Platform`], can carry its ABI table.

use core::fmt;
use core::ptr::NonNull;

use crate::wire::DdkError;

/// A physical (bus) address as a device sees it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct PhysAddr(u64);

impl PhysAddr {
    pub const fn new(addr: u64) -> Self {
        PhysAddr(addr)
    }
    pub const fn as_u64(self) -> u64 {
        self.0
    }
    /// `self + n`, or `None` on overflow.
    pub const fn checked_add(self, n: u64) -> Option<PhysAddr> {
        match self.0.checked_add(n) {
            Some(v) => Some(PhysAddr(v)),
            None => None,
        }
    }
}

impl fmt::Debug for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhysAddr({:#x})", self.0)
    }
}

/// Device-visible memory services.
///
/// # Implementation safety
/// - `dma_alloc` returns memory that is zeroed, physically contiguous over
///   `size` bytes, aligned to `align` (virtually and physically), exclusively
///   owned by the caller until `dma_free`, and that the device reaches at
///   the returned physical address (coherently: x86 needs no cache flushes).
/// - `virt_to_phys` returns the device address of `virt` and a contiguous
///   length no larger than is really contiguous (and ≤ `len`).
pub unsafe trait Hal: Clone {
    fn dma_alloc(&self, size: usize, align: usize) -> Result<(PhysAddr, NonNull<u8>), DdkError>;

    /// # Safety
    /// `(phys, virt, size)` is exactly what one earlier `dma_alloc` of this
    /// HAL returned, it has not been freed, and neither the CPU nor the device
    /// will touch it again.
    unsafe fn dma_free(
        &self,
        phys: PhysAddr,
        virt: NonNull<u8>,
        size: usize,
    ) -> Result<(), DdkError>;

    /// Translates caller memory for zero-copy DMA. `Unsupported` when the
    /// platform cannot (drivers then bounce through [`Dma`] buffers).
    fn virt_to_phys(&self, virt: *const u8, len: usize) -> Result<(PhysAddr, usize), DdkError> {
        let _ = (virt, len);
        Err(DdkError::Unsupported)
    }
}

/// An owned, zeroed, physically contiguous DMA buffer, freed on drop.
pub struct Dma<H: Hal> {
    hal: H,
    phys: PhysAddr,
    virt: NonNull<u8>,
    size: usize,
}

impl<H: Hal> Dma<H> {
    /// Allocates `size` bytes (rounded up to whole 4 KiB pages) aligned to
    /// `align` (a power of two; at least 4096).
    pub fn new(hal: H, size: usize, align: usize) -> Result<Self, DdkError> {
        if size == 0 || !align.is_power_of_two() {
            return Err(DdkError::InvalidArgument);
        }
        let size = size
            .checked_next_multiple_of(4096)
            .ok_or(DdkError::NoMemory)?;
        let align = align.max(4096);
        let (phys, virt) = hal.dma_alloc(size, align)?;
        Ok(Dma {
            hal,
            phys,
            virt,
            size,
        })
    }
    pub fn phys_addr(&self) -> PhysAddr {
        self.phys
    }
    pub fn as_ptr(&self) -> *mut u8 {
        self.virt.as_ptr()
    }
    pub fn len(&self) -> usize {
        self.size
    }
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
    /// Device address of byte `offset`, if inside the buffer.
    pub fn phys_at(&self, offset: usize) -> Option<PhysAddr> {
        (offset < self.size).then(|| PhysAddr::new(self.phys.as_u64() + offset as u64))
    }
    /// Copies `src` into the buffer at `offset` (bounds-checked). Only call
    /// while the device is not writing that range.
    pub fn write_bytes(&mut self, offset: usize, src: &[u8]) -> Result<(), DdkError> {
        let end = offset.checked_add(src.len()).ok_or(DdkError::OutOfBounds)?;
        if end > self.size {
            return Err(DdkError::OutOfBounds);
        }
        // SAFETY: [offset, end) is inside our allocation, which we own; `src`
        // is a distinct Rust slice, so the ranges do not overlap.
        unsafe {
            core::ptr::copy_nonoverlapping(src.as_ptr(), self.virt.as_ptr().add(offset), src.len())
        };
        Ok(())
    }
    /// Copies from the buffer at `offset` into `dst` (bounds-checked).
    pub fn read_bytes(&self, offset: usize, dst: &mut [u8]) -> Result<(), DdkError> {
        let end = offset.checked_add(dst.len()).ok_or(DdkError::OutOfBounds)?;
        if end > self.size {
            return Err(DdkError::OutOfBounds);
        }
        // SAFETY: as in `write_bytes`, reading instead.
        unsafe {
            core::ptr::copy_nonoverlapping(
                self.virt.as_ptr().add(offset),
                dst.as_mut_ptr(),
                dst.len(),
            )
        };
        Ok(())
    }
}

// SAFETY: a `Dma` owns its block exclusively (like a `Box`), so handing it
// to another thread moves that ownership; the HAL itself must be `Send`.
unsafe impl<H: Hal + Send> Send for Dma<H> {}

impl<H: Hal> Drop for Dma<H> {
    fn drop(&mut self) {
        // SAFETY: the triple came from `dma_alloc` in `new` and is freed once,
        // here; owners of a `Dma` stop the device before dropping it.
        let _ = unsafe { self.hal.dma_free(self.phys, self.virt, self.size) };
    }
}

impl<H: Hal> fmt::Debug for Dma<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dma")
            .field("phys", &self.phys)
            .field("virt", &self.virt)
            .field("size", &self.size)
            .finish()
    }
}
