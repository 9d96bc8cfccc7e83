//! Register access to a mapped BAR: a bounds-checked [`Region`] (memory or
//! I/O ports, both through the ABI's `mmio_*` entries) and typed register
//! descriptors [`ReadOnly`], [`WriteOnly`], [`ReadWrite`].
//!
//! Every access is checked twice: here against the window the driver holds,
//! and by the platform against the whole mapping (managed drivers reach the
//! ABI without this layer).
//!
//! [`Platform::map_bar`] and [`Platform::unmap_bar`] are defined here, beside
//! the [`Region`] they hand out: `platform` stays below `mmio` and never
//! names it.

use core::marker::PhantomData;

use crate::pci::PciAddress;
use crate::platform::Platform;
use crate::wire::{DdkError, Width};

/// A window of a mapped BAR. Cheap to copy; sub-windows share the mapping.
/// The mapping lives until [`Region::unmap`] (drivers keep theirs for life).
#[derive(Clone, Copy, Debug)]
pub struct Region {
    platform: Platform,
    handle: u64,
    base: u64,
    len: u64,
}

/// A value a register can hold.
pub trait RegValue: Copy + sealed::Sealed {
    const WIDTH: Width;
    fn from_u64(v: u64) -> Self;
    fn to_u64(self) -> u64;
}
mod sealed {
    pub trait Sealed {}
}
macro_rules! reg_value {
    ($($t:ty => $w:ident),*) => {$(
        impl sealed::Sealed for $t {}
        impl RegValue for $t {
            const WIDTH: Width = Width::$w;
            fn from_u64(v: u64) -> Self { v as $t }
            fn to_u64(self) -> u64 { self as u64 }
        }
    )*};
}
reg_value!(u8 => U8, u16 => U16, u32 => U32, u64 => U64);

impl Region {
    /// Wraps a handle from the ABI's `bar_map` covering `len` bytes.
    pub fn from_handle(platform: Platform, handle: u64, len: u64) -> Region {
        Region {
            platform,
            handle,
            base: 0,
            len,
        }
    }
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn handle(&self) -> u64 {
        self.handle
    }
    /// Whether accesses are port I/O (an I/O BAR).
    pub fn is_io(&self) -> bool {
        self.handle & crate::wire::IO_HANDLE_TAG != 0
    }
    /// A sub-window `[offset, offset + len)`; `OutOfBounds` if it does not fit.
    pub fn subregion(&self, offset: u64, len: u64) -> Result<Region, DdkError> {
        let end = offset.checked_add(len).ok_or(DdkError::OutOfBounds)?;
        if end > self.len {
            return Err(DdkError::OutOfBounds);
        }
        Ok(Region {
            base: self.base + offset,
            len,
            ..*self
        })
    }
    fn check(&self, offset: usize, w: Width) -> Result<u64, DdkError> {
        let end = (offset as u64)
            .checked_add(w.bytes() as u64)
            .ok_or(DdkError::OutOfBounds)?;
        if end > self.len {
            return Err(DdkError::OutOfBounds);
        }
        Ok(self.base + offset as u64)
    }
    /// Reads a register of type `T` at `offset` (volatile, via the platform).
    pub fn read<T: RegValue>(&self, offset: usize) -> Result<T, DdkError> {
        let off = self.check(offset, T::WIDTH)?;
        self.platform
            .region_read(self.handle, off, T::WIDTH)
            .map(T::from_u64)
    }
    pub fn write<T: RegValue>(&self, offset: usize, value: T) -> Result<(), DdkError> {
        let off = self.check(offset, T::WIDTH)?;
        self.platform
            .region_write(self.handle, off, T::WIDTH, value.to_u64())
    }
    pub fn read_u8(&self, offset: usize) -> Result<u8, DdkError> {
        self.read(offset)
    }
    pub fn read_u16(&self, offset: usize) -> Result<u16, DdkError> {
        self.read(offset)
    }
    pub fn read_u32(&self, offset: usize) -> Result<u32, DdkError> {
        self.read(offset)
    }
    pub fn read_u64(&self, offset: usize) -> Result<u64, DdkError> {
        self.read(offset)
    }
    pub fn write_u8(&self, offset: usize, v: u8) -> Result<(), DdkError> {
        self.write(offset, v)
    }
    pub fn write_u16(&self, offset: usize, v: u16) -> Result<(), DdkError> {
        self.write(offset, v)
    }
    pub fn write_u32(&self, offset: usize, v: u32) -> Result<(), DdkError> {
        self.write(offset, v)
    }
    pub fn write_u64(&self, offset: usize, v: u64) -> Result<(), DdkError> {
        self.write(offset, v)
    }
    /// Releases the whole mapping (all windows of it become invalid).
    pub fn unmap(self) -> Result<(), DdkError> {
        self.platform.unmap_bar(self.handle)
    }
}

impl Platform {
    /// Maps BAR `bar` of `a` (enabling its decoding) as a [`Region`].
    pub fn map_bar(&self, a: PciAddress, bar: u8) -> Result<Region, DdkError> {
        let (mut h, mut len) = (0u64, 0u64);
        // SAFETY: both out-parameters are live and writable.
        DdkError::check(unsafe { (self.abi().bar_map)(a, bar as u32, &mut h, &mut len) })?;
        Ok(Region::from_handle(*self, h, len))
    }
    /// Releases a mapping made by [`Self::map_bar`] (every [`Region`] window
    /// of it becomes invalid).
    pub fn unmap_bar(&self, handle: u64) -> Result<(), DdkError> {
        // SAFETY: no pointers cross; the platform validates the handle.
        DdkError::check(unsafe { (self.abi().bar_unmap)(handle) })
    }

    fn region_read(&self, h: u64, off: u64, w: Width) -> Result<u64, DdkError> {
        // SAFETY (all four arms): the out-parameter is a live local.
        match w {
            Width::U8 => {
                let mut v = 0u8;
                // SAFETY: see above.
                DdkError::check(unsafe { (self.abi().mmio_read8)(h, off, &mut v) })
                    .map(|()| v as u64)
            }
            Width::U16 => {
                let mut v = 0u16;
                // SAFETY: see above.
                DdkError::check(unsafe { (self.abi().mmio_read16)(h, off, &mut v) })
                    .map(|()| v as u64)
            }
            Width::U32 => {
                let mut v = 0u32;
                // SAFETY: see above.
                DdkError::check(unsafe { (self.abi().mmio_read32)(h, off, &mut v) })
                    .map(|()| v as u64)
            }
            Width::U64 => {
                let mut v = 0u64;
                // SAFETY: see above.
                DdkError::check(unsafe { (self.abi().mmio_read64)(h, off, &mut v) }).map(|()| v)
            }
        }
    }
    fn region_write(&self, h: u64, off: u64, w: Width, v: u64) -> Result<(), DdkError> {
        // SAFETY: no pointers cross; the platform bounds-checks the handle/offset.
        DdkError::check(unsafe {
            match w {
                Width::U8 => (self.abi().mmio_write8)(h, off, v as u8),
                Width::U16 => (self.abi().mmio_write16)(h, off, v as u16),
                Width::U32 => (self.abi().mmio_write32)(h, off, v as u32),
                Width::U64 => (self.abi().mmio_write64)(h, off, v),
            }
        })
    }
}

/// A read-only register of type `T` at a fixed offset.
#[derive(Debug)]
pub struct ReadOnly<T>(usize, PhantomData<T>);
/// A write-only register of type `T` at a fixed offset.
#[derive(Debug)]
pub struct WriteOnly<T>(usize, PhantomData<T>);
/// A read-write register of type `T` at a fixed offset.
#[derive(Debug)]
pub struct ReadWrite<T>(usize, PhantomData<T>);

macro_rules! reg_common {
    ($($r:ident),*) => {$(
        impl<T> Clone for $r<T> { fn clone(&self) -> Self { *self } }
        impl<T> Copy for $r<T> {}
        impl<T: RegValue> $r<T> {
            pub const fn at(offset: usize) -> Self { $r(offset, PhantomData) }
            pub const fn offset(&self) -> usize { self.0 }
        }
    )*};
}
reg_common!(ReadOnly, WriteOnly, ReadWrite);

impl<T: RegValue> ReadOnly<T> {
    pub fn read(&self, r: &Region) -> Result<T, DdkError> {
        r.read(self.0)
    }
}
impl<T: RegValue> WriteOnly<T> {
    pub fn write(&self, r: &Region, v: T) -> Result<(), DdkError> {
        r.write(self.0, v)
    }
}
impl<T: RegValue> ReadWrite<T> {
    pub fn read(&self, r: &Region) -> Result<T, DdkError> {
        r.read(self.0)
    }
    pub fn write(&self, r: &Region, v: T) -> Result<(), DdkError> {
        r.write(self.0, v)
    }
    /// Read, transform, write back.
    pub fn modify(&self, r: &Region, f: impl FnOnce(T) -> T) -> Result<(), DdkError> {
        let v = self.read(r)?;
        self.write(r, f(v))
    }
}
