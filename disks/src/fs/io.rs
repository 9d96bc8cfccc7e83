//! lamfat's storage over our block stream: [`FatIo`] bridges the embedded-io
//! [`BlockStream`] (shared with the [`super::Volume`]) to lamfat's own I/O
//! traits, and [`DiskIoError`] is the error lamfat sees.

use alloc::sync::Arc;
use core::fmt;

use crate::stream::{BlockStream, StreamError};
use ddk::BlockDevice;
use embedded_io::Write as _;
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

/// lamfat's storage: the shared cached stream, and lamfat's position in it.
///
/// The position is kept here, not in the stream: lamfat seeks before nearly
/// every access (a cluster written costs it about ten seeks and eight 4-byte
/// FAT accesses), and a seek that only sets a number needs no lock. Each read
/// or write takes the lock once and goes to the stream's positional
/// `read_at`/`write_at`.
pub struct FatIo<D: BlockDevice> {
    stream: Arc<Mutex<BlockStream<D>>>,
    pos: u64,
    /// The stream's length (the device's size), for `SeekFrom::End`.
    len: u64,
}

impl<D: BlockDevice> FatIo<D> {
    /// lamfat's storage over `stream`, at position 0.
    pub(crate) fn new(stream: Arc<Mutex<BlockStream<D>>>) -> Self {
        let len = stream.lock().len();
        FatIo {
            stream,
            pos: 0,
            len,
        }
    }
}

impl<D: BlockDevice> lamfat::IoBase for FatIo<D> {
    type Error = DiskIoError;
}

impl<D: BlockDevice> lamfat::Read for FatIo<D> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DiskIoError> {
        let n = self
            .stream
            .lock()
            .read_at(self.pos, buf)
            .map_err(DiskIoError::Stream)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<D: BlockDevice> lamfat::Write for FatIo<D> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, DiskIoError> {
        match self.stream.lock().write_at(self.pos, buf) {
            Ok(n) => {
                self.pos += n as u64;
                Ok(n)
            }
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
    /// As the stream's own seek: any position from 0 up.
    fn seek(&mut self, pos: lamfat::SeekFrom) -> Result<u64, DiskIoError> {
        let new = match pos {
            lamfat::SeekFrom::Start(n) => Some(n),
            lamfat::SeekFrom::End(d) => self.len.checked_add_signed(d),
            lamfat::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or(DiskIoError::Stream(StreamError::InvalidSeek))?;
        Ok(self.pos)
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
