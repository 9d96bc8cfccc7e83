//! lamfat's storage over our block stream: [`FatIo`] bridges the embedded-io
//! [`BlockStream`] (shared with the [`super::Volume`]) to lamfat's own I/O
//! traits, and [`DiskIoError`] is the error lamfat sees.

use alloc::sync::Arc;
use core::fmt;

use ddk::block::stream::{BlockStream, StreamError};
use ddk::BlockDevice;
use embedded_io::{Read as _, Seek as _, Write as _};
use spin::Mutex;

/// The I/O error lamfat sees: a stream error, or one of the two conditions its
/// `IoError` trait must be able to create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskIoError {
    /// The stream (and so the device) failed.
    Stream(StreamError),
    /// A read hit the end of the device.
    UnexpectedEof,
    /// A write could not place any byte.
    WriteZero,
}

impl lamfat::IoError for DiskIoError {
    fn is_interrupted(&self) -> bool {
        false
    }
    fn new_unexpected_eof_error() -> Self {
        DiskIoError::UnexpectedEof
    }
    fn new_write_zero_error() -> Self {
        DiskIoError::WriteZero
    }
}

impl fmt::Display for DiskIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskIoError::Stream(e) => write!(f, "{e}"),
            DiskIoError::UnexpectedEof => f.write_str("read past the end of the device"),
            DiskIoError::WriteZero => f.write_str("write past the end of the device"),
        }
    }
}

/// lamfat's storage: the shared cached stream.
pub struct FatIo<D: BlockDevice> {
    pub(crate) stream: Arc<Mutex<BlockStream<D>>>,
}

impl<D: BlockDevice> lamfat::IoBase for FatIo<D> {
    type Error = DiskIoError;
}

impl<D: BlockDevice> lamfat::Read for FatIo<D> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DiskIoError> {
        self.stream.lock().read(buf).map_err(DiskIoError::Stream)
    }
}

impl<D: BlockDevice> lamfat::Write for FatIo<D> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, DiskIoError> {
        match self.stream.lock().write(buf) {
            Ok(n) => Ok(n),
            Err(StreamError::EndOfDevice) => Err(DiskIoError::WriteZero),
            Err(e) => Err(DiskIoError::Stream(e)),
        }
    }
    fn flush(&mut self) -> Result<(), DiskIoError> {
        // lamfat flushes on every file drop; writing the cache back that often
        // would defeat it. The volume flushes explicitly (Volume::flush/unmount).
        Ok(())
    }
}

impl<D: BlockDevice> lamfat::Seek for FatIo<D> {
    fn seek(&mut self, pos: lamfat::SeekFrom) -> Result<u64, DiskIoError> {
        let pos = match pos {
            lamfat::SeekFrom::Start(n) => embedded_io::SeekFrom::Start(n),
            lamfat::SeekFrom::End(n) => embedded_io::SeekFrom::End(n),
            lamfat::SeekFrom::Current(n) => embedded_io::SeekFrom::Current(n),
        };
        self.stream.lock().seek(pos).map_err(DiskIoError::Stream)
    }
}

impl<D: BlockDevice> Drop for FatIo<D> {
    /// lamfat drops its storage right after writing its final FSInfo on unmount;
    /// push that (and anything else cached) to the device, best effort. Errors
    /// surface through [`Volume::unmount`], which flushes again and reports.
    fn drop(&mut self) {
        if let Err(e) = self.stream.lock().flush() {
            log::warn!("disks: flush on unmount failed: {e}");
        }
    }
}
