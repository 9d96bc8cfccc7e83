//! The values every layer of the DDK shares and the ABI carries: the status
//! codes ([`DdkError`], [`STATUS_OK`]), access widths ([`Width`]) and the
//! I/O-port handle tag. A leaf: it names no other module of the crate, so
//! `abi`, `pci`, `mmio`, `dma` and `platform` all build on it without
//! reaching into each other. `ddk::abi` re-exports everything here under its
//! historical names.

/// Status value for success.
pub const STATUS_OK: u32 = 0;
/// Bit 63 of a region handle marks an I/O-port BAR (handled by the DDK itself);
/// memory handles a [`crate::abi::Backend`] returns must leave it clear.
pub const IO_HANDLE_TAG: u64 = 1 << 63;

/// Errors that cross the ABI. `0` is success and therefore not a variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
#[non_exhaustive]
pub enum DdkError {
    /// A null pointer, an out-of-range index, a malformed `PciAddress`.
    InvalidArgument = 1,
    /// An access past the end of a region or config space.
    OutOfBounds = 2,
    /// An offset not naturally aligned for the access width.
    Misaligned = 3,
    /// No function at that address, or an unimplemented BAR.
    NoDevice = 4,
    /// Out of memory (DMA pages, mapping slots).
    NoMemory = 5,
    /// The platform does not offer this service (e.g. `virt_to_phys`).
    Unsupported = 6,
    /// An unknown or already-released handle.
    BadHandle = 7,
    /// The platform failed for another reason (logged by the platform).
    Failed = 8,
}

impl DdkError {
    pub const fn from_u32(code: u32) -> Option<DdkError> {
        Some(match code {
            1 => Self::InvalidArgument,
            2 => Self::OutOfBounds,
            3 => Self::Misaligned,
            4 => Self::NoDevice,
            5 => Self::NoMemory,
            6 => Self::Unsupported,
            7 => Self::BadHandle,
            8 => Self::Failed,
            _ => return None,
        })
    }
    /// A status from the wire; unknown non-zero codes become `Failed`.
    pub fn check(status: u32) -> Result<(), DdkError> {
        if status == STATUS_OK {
            Ok(())
        } else {
            Err(Self::from_u32(status).unwrap_or(DdkError::Failed))
        }
    }
}

impl core::fmt::Display for DdkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::InvalidArgument => "invalid argument",
            Self::OutOfBounds => "access out of bounds",
            Self::Misaligned => "misaligned access",
            Self::NoDevice => "no such device or BAR",
            Self::NoMemory => "out of memory",
            Self::Unsupported => "not supported by this platform",
            Self::BadHandle => "unknown handle",
            Self::Failed => "platform failure",
        })
    }
}

/// Access width in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Width {
    U8 = 1,
    U16 = 2,
    U32 = 4,
    U64 = 8,
}

impl Width {
    pub const fn bytes(self) -> usize {
        self as usize
    }
}
