//! A `Vec<u8>`-backed [`BlockDevice`]: the builder formats images in memory with
//! it, and host tests mount images through it. [`FailingDisk`] wraps one so
//! that tests can make its writes fail on demand.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

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

/// Turns a [`FailingDisk`]'s failures on and off; clones share one switch.
#[derive(Clone, Debug, Default)]
pub struct FailSwitch(Arc<AtomicBool>);

impl FailSwitch {
    /// From now on the disk's writes fail (`true`) or work (`false`).
    pub fn set(&self, failing: bool) {
        self.0.store(failing, Ordering::Relaxed);
    }

    /// Whether the disk's writes fail now.
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A [`MemDisk`] whose writes fail with [`BlockError::Io`] while its
/// [`FailSwitch`] is on (nothing of a failed write reaches the bytes), and
/// whose flushes fail too when built with `flush_fails`. Reads always work.
#[derive(Debug)]
pub struct FailingDisk {
    inner: MemDisk,
    switch: FailSwitch,
    flush_fails: bool,
}

impl FailingDisk {
    /// `inner`, its switch off; `flush_fails`: flushes fail while it is on.
    pub fn new(inner: MemDisk, flush_fails: bool) -> Self {
        FailingDisk {
            inner,
            switch: FailSwitch::default(),
            flush_fails,
        }
    }

    /// The switch (a clone shares it).
    pub fn switch(&self) -> FailSwitch {
        self.switch.clone()
    }

    /// The disk under the wrapper.
    pub fn inner(&self) -> &MemDisk {
        &self.inner
    }

    /// The disk under the wrapper, owned.
    pub fn into_inner(self) -> MemDisk {
        self.inner
    }
}

impl BlockDevice for FailingDisk {
    fn block_size(&self) -> usize {
        self.inner.block_size()
    }
    fn block_count(&self) -> u64 {
        self.inner.block_count()
    }
    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        self.inner.read_blocks(lba, buf)
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        if self.switch.is_on() {
            return Err(BlockError::Io);
        }
        self.inner.write_blocks(lba, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        if self.flush_fails && self.switch.is_on() {
            return Err(BlockError::Io);
        }
        self.inner.flush()
    }
}
