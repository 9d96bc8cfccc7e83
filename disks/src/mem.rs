//! A `Vec<u8>`-backed [`BlockDevice`]: the builder formats images in memory with
//! it, and host tests mount images through it.

use alloc::vec;
use alloc::vec::Vec;

use ddk::{BlockDevice, BlockError, Lba};

/// An in-memory disk of 512-byte (or any power-of-two) blocks.
#[derive(Clone, Debug)]
pub struct MemDisk {
    data: Vec<u8>,
    block_size: usize,
    read_only: bool,
}

impl MemDisk {
    /// A zeroed disk of `size` bytes, rounded down to whole 512-byte blocks.
    pub fn zeroed(size: u64) -> Self {
        let size = (size / 512 * 512) as usize;
        MemDisk {
            data: vec![0; size],
            block_size: 512,
            read_only: false,
        }
    }

    /// A disk holding `data` (a partial last block is dropped).
    pub fn from_vec(mut data: Vec<u8>) -> Self {
        data.truncate(data.len() / 512 * 512);
        MemDisk {
            data,
            block_size: 512,
            read_only: false,
        }
    }

    /// The same disk, refusing writes.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// The disk's bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.data
    }

    /// The disk's bytes, owned.
    pub fn into_vec(self) -> Vec<u8> {
        self.data
    }

    fn range(&self, lba: Lba, len: usize) -> Result<core::ops::Range<usize>, BlockError> {
        if len == 0 || !len.is_multiple_of(self.block_size) {
            return Err(BlockError::BadBuffer);
        }
        let start = usize::try_from(lba.as_u64())
            .ok()
            .and_then(|b| b.checked_mul(self.block_size))
            .ok_or(BlockError::OutOfRange)?;
        let end = start.checked_add(len).ok_or(BlockError::OutOfRange)?;
        if end > self.data.len() {
            return Err(BlockError::OutOfRange);
        }
        Ok(start..end)
    }
}

impl BlockDevice for MemDisk {
    fn block_size(&self) -> usize {
        self.block_size
    }
    fn block_count(&self) -> u64 {
        (self.data.len() / self.block_size) as u64
    }
    fn is_read_only(&self) -> bool {
        self.read_only
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        let r = self.range(lba, buf.len())?;
        buf.copy_from_slice(&self.data[r]);
        Ok(())
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        if self.read_only {
            return Err(BlockError::ReadOnly);
        }
        let r = self.range(lba, buf.len())?;
        self.data[r].copy_from_slice(buf);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        if self.read_only {
            return Err(BlockError::ReadOnly);
        }
        Ok(())
    }
}
