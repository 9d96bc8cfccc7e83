//! lamfat's storage over our block stream: [`FatIo`] bridges the embedded-io
//! [`BlockStream`] (shared with the [`super::Volume`]) to lamfat's own I/O
//! traits, and [`DiskIoError`] is the error lamfat sees.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

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
///
/// lamfat reads about four 4-byte FAT entries per cluster it writes or
/// follows. Reads in the FAT region (`fat`, given by the mount) are served
/// from a copy of the last FAT block read (`memo`) without the lock; the
/// copy stays equal to the stream's contents because after the mount only
/// this `FatIo` writes the FAT region (the volume itself only reads, and a
/// borrowed write carries file data, never FAT blocks), and every write here
/// updates the copy (a failed one drops it).
pub struct FatIo<D: BlockDevice> {
    stream: Arc<Mutex<BlockStream<D>>>,
    pos: u64,
    /// The stream's length (the device's size), for `SeekFrom::End`.
    len: u64,
    /// Byte range of the FATs (empty: no copy is kept).
    fat: Range<u64>,
    /// Byte offset of the block `memo` holds, `u64::MAX` for none.
    memo_at: u64,
    /// A copy of one block of the FAT region (the stream's block size).
    memo: Vec<u8>,
}

impl<D: BlockDevice> FatIo<D> {
    /// lamfat's storage over `stream`, at position 0; small reads within
    /// `fat` (the FATs' byte range, or empty) are served from a copy of the
    /// block last read there.
    pub(crate) fn new(stream: Arc<Mutex<BlockStream<D>>>, fat: Range<u64>) -> Self {
        let (len, bs) = {
            let s = stream.lock();
            (s.len(), s.block_size())
        };
        FatIo {
            stream,
            pos: 0,
            len,
            fat,
            memo_at: u64::MAX,
            memo: vec![0; bs],
        }
    }

    /// Copies what was just written (`buf` at `at`) into the FAT block copy
    /// where they overlap.
    fn update_memo(&mut self, at: u64, buf: &[u8]) {
        let bs = self.memo.len() as u64;
        if self.memo_at == u64::MAX {
            return;
        }
        let start = at.max(self.memo_at);
        let end = (at + buf.len() as u64).min(self.memo_at + bs);
        if start < end {
            let (m, b) = ((start - self.memo_at) as usize, (start - at) as usize);
            let n = (end - start) as usize;
            self.memo[m..m + n].copy_from_slice(&buf[b..b + n]);
        }
    }
}

impl<D: BlockDevice> lamfat::IoBase for FatIo<D> {
    type Error = DiskIoError;
}

impl<D: BlockDevice> lamfat::Read for FatIo<D> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DiskIoError> {
        let bs = self.memo.len() as u64;
        let off = self.pos.wrapping_sub(self.memo_at);
        if self.memo_at != u64::MAX && off < bs && buf.len() as u64 <= bs - off {
            let m = &self.memo[off as usize..off as usize + buf.len()];
            match (<&mut [u8; 4]>::try_from(&mut *buf), <&[u8; 4]>::try_from(m)) {
                (Ok(d), Ok(s)) => *d = *s,
                _ => buf.copy_from_slice(m),
            }
            self.pos += buf.len() as u64;
            return Ok(buf.len());
        }
        let mut s = self.stream.lock();
        let n = s.read_at(self.pos, buf).map_err(DiskIoError::Stream)?;
        // A small read in the FAT: keep its block for the next ones.
        let at = self.pos & !(bs - 1);
        if buf.len() < self.memo.len() && self.fat.contains(&self.pos) && at + bs <= self.fat.end {
            self.memo_at = match s.read_at(at, &mut self.memo) {
                Ok(got) if got == self.memo.len() => at,
                _ => u64::MAX,
            };
        }
        drop(s);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<D: BlockDevice> lamfat::Write for FatIo<D> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, DiskIoError> {
        let res = self.stream.lock().write_at(self.pos, buf);
        match res {
            Ok(n) => {
                self.update_memo(self.pos, &buf[..n]);
                self.pos += n as u64;
                Ok(n)
            }
            Err(e) => {
                // What reached the stream is not known: drop the copy.
                self.memo_at = u64::MAX;
                match e {
                    StreamError::EndOfDevice => Err(DiskIoError::WriteZero),
                    e => Err(DiskIoError::Stream(e)),
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::MemDisk;
    use lamfat::{Read as _, Seek as _, SeekFrom, Write as _};

    fn io(fat: Range<u64>) -> FatIo<MemDisk> {
        let data = (0..64 * 512).map(|i| (i % 251) as u8).collect();
        let s = BlockStream::new(MemDisk::from_vec(data)).unwrap();
        FatIo::new(Arc::new(Mutex::new(s)), fat)
    }

    fn read4(io: &mut FatIo<MemDisk>, at: u64) -> [u8; 4] {
        let mut b = [0u8; 4];
        io.seek(SeekFrom::Start(at)).unwrap();
        io.read_exact(&mut b).unwrap();
        b
    }

    /// Small reads in the FAT come from the block copy, and every write,
    /// inside the copy or across its edge, is seen by the next read.
    #[test]
    fn reads_from_the_fat_copy_see_every_write() {
        let mut io = io(1024..4096);
        let before = read4(&mut io, 1024 + 100);
        assert_eq!(io.memo_at, 1024);
        let reads = io.stream.lock().stats();
        assert_eq!(read4(&mut io, 1024 + 100), before);
        assert_eq!(io.stream.lock().stats(), reads, "served from the copy");
        io.seek(SeekFrom::Start(1024 + 104)).unwrap();
        io.write_all(&[1, 2, 3, 4]).unwrap();
        assert_eq!(read4(&mut io, 1024 + 104), [1, 2, 3, 4]);
        // Across the end of the copied block.
        io.seek(SeekFrom::Start(1024 + 510)).unwrap();
        io.write_all(&[9, 8, 7, 6]).unwrap();
        assert_eq!(read4(&mut io, 1024 + 508)[2..], [9, 8]);
        let orig = |i: u64| (i % 251) as u8;
        assert_eq!(read4(&mut io, 1536), [7, 6, orig(1538), orig(1539)]);
    }

    /// A refused write drops the copy (what reached the stream is unknown).
    #[test]
    fn a_failed_write_drops_the_copy() {
        let s = BlockStream::new(MemDisk::zeroed(64 * 512).read_only()).unwrap();
        let mut io = FatIo::new(Arc::new(Mutex::new(s)), 1024..4096);
        read4(&mut io, 1100);
        assert_eq!(io.memo_at, 1024);
        io.seek(SeekFrom::Start(1100)).unwrap();
        assert!(io.write(&[1, 2, 3, 4]).is_err());
        assert_eq!(io.memo_at, u64::MAX);
        assert_eq!(read4(&mut io, 1100), [0; 4]);
    }

    /// Outside the FAT range nothing is copied.
    #[test]
    fn no_copy_outside_the_fat() {
        let mut io = io(1024..4096);
        read4(&mut io, 8192);
        assert_eq!(io.memo_at, u64::MAX);
        let mut io2 = super::tests::io(0..0);
        read4(&mut io2, 1024);
        assert_eq!(io2.memo_at, u64::MAX);
    }
}
