//! The block-device contract every storage driver implements, and the
//! `#[repr(u32)]` error codes that cross the DDK ABI unchanged.

use core::fmt;

/// A logical block address, counted in the device's own block size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Lba(u64);

impl Lba {
    pub const fn new(block: u64) -> Self {
        Lba(block)
    }
    pub const fn as_u64(self) -> u64 {
        self.0
    }
    /// `self + n`, or `None` on overflow.
    pub const fn checked_add(self, n: u64) -> Option<Lba> {
        match self.0.checked_add(n) {
            Some(v) => Some(Lba(v)),
            None => None,
        }
    }
}

/// Errors a block device reports. The discriminants are ABI: managed drivers
/// see the same numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
#[non_exhaustive]
pub enum BlockError {
    /// The device reported an I/O error (virtio-blk `VIRTIO_BLK_S_IOERR`).
    Io = 1,
    /// The device does not support the request (`VIRTIO_BLK_S_UNSUPP`).
    Unsupported = 2,
    /// A write or flush on a read-only device.
    ReadOnly = 3,
    /// The request runs past the last block.
    OutOfRange = 4,
    /// The buffer is not a whole number of blocks, or is empty.
    BadBuffer = 5,
    /// The device did not answer within the bounded wait.
    Timeout = 6,
    /// The device broke the protocol (bad used-ring id or length, ...).
    DeviceMisbehaved = 7,
    /// Out of DMA memory or descriptors.
    NoMemory = 8,
    /// The device is not ready (not initialised, or reset after a fault).
    NotReady = 9,
    /// The driver serving the device failed and was stopped (a contained
    /// fault); nothing reached the device for this request.
    DriverFailed = 10,
}

impl BlockError {
    /// The ABI code back into an error; unknown codes are `None`.
    pub const fn from_u32(code: u32) -> Option<Self> {
        Some(match code {
            1 => Self::Io,
            2 => Self::Unsupported,
            3 => Self::ReadOnly,
            4 => Self::OutOfRange,
            5 => Self::BadBuffer,
            6 => Self::Timeout,
            7 => Self::DeviceMisbehaved,
            8 => Self::NoMemory,
            9 => Self::NotReady,
            10 => Self::DriverFailed,
            _ => return None,
        })
    }
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Io => "device I/O error",
            Self::Unsupported => "request not supported by the device",
            Self::ReadOnly => "device is read-only",
            Self::OutOfRange => "request beyond the end of the device",
            Self::BadBuffer => "buffer is not a whole number of blocks",
            Self::Timeout => "device did not complete the request in time",
            Self::DeviceMisbehaved => "device violated the protocol",
            Self::NoMemory => "out of DMA memory or descriptors",
            Self::NotReady => "device not ready",
            Self::DriverFailed => "the device's driver failed and was stopped",
        })
    }
}

/// A device of fixed-size blocks. Buffers are whole blocks; `lba` counts
/// blocks of `block_size()` bytes.
pub trait BlockDevice {
    /// Bytes per block (512 for virtio-blk unless `BLK_SIZE` says otherwise).
    fn block_size(&self) -> usize;
    /// Number of blocks on the device.
    fn block_count(&self) -> u64;
    /// Whether writes and flushes are refused.
    fn is_read_only(&self) -> bool;
    /// Reads `buf.len() / block_size()` blocks starting at `lba`.
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError>;
    /// Writes `buf.len() / block_size()` blocks starting at `lba`.
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError>;
    /// Makes every completed write durable.
    fn flush(&mut self) -> Result<(), BlockError>;
    /// Reads every request of `reqs`. A driver that can overrides this to
    /// keep them all in flight at once (a queue depth of `reqs.len()`); the
    /// default reads them one after another. On error the first error is
    /// returned and which buffers were filled is unspecified.
    fn read_many(&mut self, reqs: &mut [ReadRequest<'_>]) -> Result<(), BlockError> {
        for r in reqs.iter_mut() {
            self.read_blocks(r.lba, r.buf)?;
        }
        Ok(())
    }
}

/// One read of a batch ([`BlockDevice::read_many`]): `buf.len() /
/// block_size()` blocks from `lba`.
pub struct ReadRequest<'a> {
    pub lba: Lba,
    pub buf: &'a mut [u8],
}

impl<T: BlockDevice + ?Sized> BlockDevice for alloc::boxed::Box<T> {
    fn block_size(&self) -> usize {
        (**self).block_size()
    }
    fn block_count(&self) -> u64 {
        (**self).block_count()
    }
    fn is_read_only(&self) -> bool {
        (**self).is_read_only()
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        (**self).read_blocks(lba, buf)
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        (**self).write_blocks(lba, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        (**self).flush()
    }
    fn read_many(&mut self, reqs: &mut [ReadRequest<'_>]) -> Result<(), BlockError> {
        (**self).read_many(reqs)
    }
}
