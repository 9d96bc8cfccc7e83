//! A block device whose driver may be replaced under it: when the serving
//! driver fails (`BlockError::DriverFailed`, a contained fault), the
//! supervisor binds the fallback driver to the same function and re-issues the
//! request that failed, so the file system above sees no error.
//!
//! Re-issuing is safe because every block request is idempotent: a read
//! fills the same buffer again; a write the failed driver may have partly
//! performed is written again in full; a flush flushes again. Requests that
//! completed before the failure were acknowledged and stay done.

use alloc::boxed::Box;
use alloc::string::String;

use ddk::{BlockDevice, BlockError, Lba};

/// Binds a replacement driver for the same device; returns it and its name.
pub type Fallback = Box<dyn FnMut() -> Result<(Box<dyn BlockDevice>, &'static str), String>>;

/// See the module documentation.
pub struct Supervised {
    current: Box<dyn BlockDevice>,
    driver: &'static str,
    fallback: Option<Fallback>,
    /// What the device was called, for the log.
    label: String,
    replacements: u32,
}

impl Supervised {
    /// `current` served by `driver`; `fallback` (if any) is tried once, on
    /// the first driver failure.
    pub fn new(
        label: String,
        current: Box<dyn BlockDevice>,
        driver: &'static str,
        fallback: Option<Fallback>,
    ) -> Supervised {
        Supervised {
            current,
            driver,
            fallback,
            label,
            replacements: 0,
        }
    }

    /// The driver serving the device now.
    pub fn driver(&self) -> &'static str {
        self.driver
    }

    /// How many times the driver was replaced.
    pub fn replacements(&self) -> u32 {
        self.replacements
    }

    /// Replaces the failed driver; `Err` keeps the failure.
    fn replace(&mut self, what: &str) -> Result<(), BlockError> {
        let Some(mut fallback) = self.fallback.take() else {
            log::error!(
                "supervisor: {}: {} failed and there is no fallback: the device is failed",
                self.label,
                self.driver
            );
            return Err(BlockError::DriverFailed);
        };
        match fallback() {
            Ok((dev, name)) => {
                if dev.block_size() != self.current.block_size()
                    || dev.block_count() != self.current.block_count()
                {
                    log::error!(
                        "supervisor: {}: {} sees a different geometry ({} x {} B, was {} x {} B): not used",
                        self.label,
                        name,
                        dev.block_count(),
                        dev.block_size(),
                        self.current.block_count(),
                        self.current.block_size()
                    );
                    return Err(BlockError::DriverFailed);
                }
                log::warn!(
                    "supervisor: {}: {} replaced by {}; re-issuing the {}",
                    self.label,
                    self.driver,
                    name,
                    what
                );
                self.current = dev;
                self.driver = name;
                self.replacements += 1;
                Ok(())
            }
            Err(e) => {
                log::error!(
                    "supervisor: {}: fallback after {} failed: {}",
                    self.label,
                    self.driver,
                    e
                );
                Err(BlockError::DriverFailed)
            }
        }
    }

    fn supervise(
        &mut self,
        what: impl Fn() -> String,
        mut op: impl FnMut(&mut dyn BlockDevice) -> Result<(), BlockError>,
    ) -> Result<(), BlockError> {
        match op(&mut *self.current) {
            Err(BlockError::DriverFailed) => {
                self.replace(&what())?;
                op(&mut *self.current)
            }
            r => r,
        }
    }
}

impl BlockDevice for Supervised {
    fn block_size(&self) -> usize {
        self.current.block_size()
    }
    fn block_count(&self) -> u64 {
        self.current.block_count()
    }
    fn is_read_only(&self) -> bool {
        self.current.is_read_only()
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        let n = buf.len();
        self.supervise(
            || alloc::format!("read of {n} bytes at LBA {}", lba.as_u64()),
            |d| d.read_blocks(lba, buf),
        )
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        self.supervise(
            || alloc::format!("write of {} bytes at LBA {}", buf.len(), lba.as_u64()),
            |d| d.write_blocks(lba, buf),
        )
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        self.supervise(|| String::from("flush"), |d| d.flush())
    }
}
