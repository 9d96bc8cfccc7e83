//! lamfat's storage over our block stream: [`FatIo`] bridges the embedded-io
//! [`BlockStream`] (shared with the [`super::Volume`]) to lamfat's own I/O
//! traits, and [`DiskIoError`] is the error lamfat sees.

use alloc::sync::Arc;
use core::fmt;
use core::ops::Range;

use crate::stream::{BlockStream, StreamError};
use ddk::{BlockDevice, BlockError};
use embedded_io::Write as _;
use spin::Mutex;

use super::fatbuf::FatBlocks;

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

/// lamfat's storage: the shared cached stream, lamfat's position in it, and
/// the FAT blocks lamfat is working in.
///
/// The position is kept here, not in the stream: lamfat seeks before nearly
/// every access (a cluster written costs it about ten seeks and eight 4-byte
/// FAT accesses), and a seek that only sets a number needs no lock. Each read
/// or write takes the lock once and goes to the stream's positional
/// `read_at`/`write_at`.
///
/// lamfat reads about four 4-byte FAT entries per cluster it writes or
/// follows, and writes four. Accesses inside one block of the FAT region
/// (`fat`, given by the mount) go to [`FatBlocks`] (`fatbuf.rs`), a
/// write-back buffer of a few FAT blocks shared with the [`super::Volume`]:
/// they cost a copy, not a stream call, and a block reaches the stream when
/// the buffer needs its slot or on write-back (the volume's flush, unmount
/// and chain walks, and this storage's drop).
pub struct FatIo<D: BlockDevice> {
    stream: Arc<Mutex<BlockStream<D>>>,
    pos: u64,
    /// The stream's length (the device's size), for `SeekFrom::End`.
    len: u64,
    /// Byte range of the FATs (empty: nothing is buffered).
    fat: Range<u64>,
    /// The blocks of `fat` that may be held: first and bytes.
    holdable: (u64, u64),
    /// The stream's block size.
    bs: u64,
    /// The device refuses writes: so does the buffer, at once.
    read_only: bool,
    /// Byte offset of FSInfo's free cluster count (`u64::MAX`: none): lamfat
    /// writes its count there on unmount, less the clusters the volume
    /// allocated past it ([`FatBlocks::taken`]), and its next-free hint after
    /// it, replaced by the volume's when the volume allocated last.
    free_count_at: u64,
    blocks: Arc<Mutex<FatBlocks>>,
}

impl<D: BlockDevice> FatIo<D> {
    /// lamfat's storage over `stream`, at position 0; small accesses within
    /// `fat` (the FATs' byte range, or empty) go through a write-back buffer
    /// of FAT blocks.
    pub(crate) fn new(stream: Arc<Mutex<BlockStream<D>>>, fat: Range<u64>) -> Self {
        let (len, bs, read_only) = {
            let s = stream.lock();
            (s.len(), s.block_size(), s.device().is_read_only())
        };
        FatIo {
            stream,
            pos: 0,
            len,
            blocks: Arc::new(Mutex::new(FatBlocks::new(fat.clone(), bs))),
            holdable: FatBlocks::holdable(&fat, bs as u64),
            fat,
            bs: bs as u64,
            read_only,
            free_count_at: u64::MAX,
        }
    }

    /// Where FSInfo's free cluster count lies, if the volume has one.
    pub(crate) fn set_free_count_at(&mut self, at: Option<u64>) {
        self.free_count_at = at.unwrap_or(u64::MAX);
    }

    /// The FAT block buffer, for the volume (chain walks, flush, unmount).
    pub(crate) fn blocks(&self) -> Arc<Mutex<FatBlocks>> {
        self.blocks.clone()
    }

    /// The block of the FATs that holds `len` bytes at the position, if any.
    #[inline(always)]
    fn fat_block(&self, len: usize) -> Option<u64> {
        FatBlocks::block_of(self.holdable, self.bs, self.pos, len)
    }
}

impl<D: BlockDevice> lamfat::IoBase for FatIo<D> {
    type Error = DiskIoError;
}

impl<D: BlockDevice> FatIo<D> {
    /// A read that is not inside one held FAT block.
    #[inline(never)]
    fn read_stream(&mut self, buf: &mut [u8]) -> Result<usize, DiskIoError> {
        let n = if FatBlocks::overlaps(&self.fat, self.pos, buf.len()) {
            let mut b = self.blocks.lock();
            let mut s = self.stream.lock();
            b.before_stream_access(&mut s, self.pos, buf.len(), false)
                .and_then(|_| s.read_at(self.pos, buf))
        } else {
            self.stream.lock().read_at(self.pos, buf)
        };
        let n = n.map_err(DiskIoError::Stream)?;
        self.pos += n as u64;
        Ok(n)
    }

    /// A write that is not inside one held FAT block.
    #[inline(never)]
    fn write_stream(&mut self, buf: &[u8]) -> Result<usize, DiskIoError> {
        let fsinfo = self.pos.wrapping_sub(self.free_count_at);
        let counted = self.free_count_at != u64::MAX;
        if let (true, 0 | 4, Ok(value)) = (counted, fsinfo, <[u8; 4]>::try_from(buf)) {
            // FSInfo's free count and next-free hint, as lamfat writes them
            // on unmount: corrected for the clusters taken past it.
            let value = u32::from_le_bytes(value);
            let b = self.blocks.lock();
            let fixed = match fsinfo {
                0 if b.taken() > 0 && value != u32::MAX => value.saturating_sub(b.taken()),
                4 => b.hint().unwrap_or(value),
                _ => value,
            };
            drop(b);
            return self.write_stream_as_is(&fixed.to_le_bytes());
        }
        self.write_stream_as_is(buf)
    }

    fn write_stream_as_is(&mut self, buf: &[u8]) -> Result<usize, DiskIoError> {
        let res = if FatBlocks::overlaps(&self.fat, self.pos, buf.len()) {
            let mut b = self.blocks.lock();
            let mut s = self.stream.lock();
            b.before_stream_access(&mut s, self.pos, buf.len(), true)
                .and_then(|_| s.write_at(self.pos, buf))
        } else {
            self.stream.lock().write_at(self.pos, buf)
        };
        match res {
            Ok(n) => {
                self.pos += n as u64;
                Ok(n)
            }
            Err(StreamError::EndOfDevice) => Err(DiskIoError::WriteZero),
            Err(e) => Err(DiskIoError::Stream(e)),
        }
    }
}

impl<D: BlockDevice> lamfat::Read for FatIo<D> {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, DiskIoError> {
        let Some(at) = self.fat_block(buf.len()) else {
            return self.read_stream(buf);
        };
        self.blocks
            .lock()
            .read(&self.stream, at, self.pos, buf)
            .map_err(DiskIoError::Stream)?;
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }
}

impl<D: BlockDevice> lamfat::Write for FatIo<D> {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> Result<usize, DiskIoError> {
        let Some(at) = self.fat_block(buf.len()) else {
            return self.write_stream(buf);
        };
        if self.read_only {
            return Err(DiskIoError::Stream(StreamError::Device(
                BlockError::ReadOnly,
            )));
        }
        self.blocks
            .lock()
            .write(&self.stream, at, self.pos, buf)
            .map_err(DiskIoError::Stream)?;
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), DiskIoError> {
        // lamfat flushes on every file drop; writing the cache back that often
        // would defeat it. The volume flushes explicitly (Volume::flush/unmount),
        // and writes the FAT blocks back before it reads chains itself.
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
    /// push the FAT blocks and everything else cached to the device, best
    /// effort. Errors surface through [`super::Volume::unmount`], which writes
    /// the FAT blocks back and flushes before and after lamfat's unmount.
    fn drop(&mut self) {
        let mut b = self.blocks.lock();
        let mut s = self.stream.lock();
        if let Err(e) = b.write_back(&mut s).and_then(|_| s.flush()) {
            log::warn!("disks: flush on unmount failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::{FailingDisk, MemDisk};
    use crate::stream::CacheConfig;
    use lamfat::{Read as _, Seek as _, SeekFrom, Write as _};

    fn orig(i: u64) -> u8 {
        (i % 251) as u8
    }

    fn io(fat: Range<u64>) -> FatIo<MemDisk> {
        let data = (0..64 * 512).map(orig).collect();
        let s = BlockStream::new(MemDisk::from_vec(data)).unwrap();
        FatIo::new(Arc::new(Mutex::new(s)), fat)
    }

    fn read4<D: BlockDevice>(io: &mut FatIo<D>, at: u64) -> [u8; 4] {
        let mut b = [0u8; 4];
        io.seek(SeekFrom::Start(at)).unwrap();
        io.read_exact(&mut b).unwrap();
        b
    }

    fn write<D: BlockDevice>(io: &mut FatIo<D>, at: u64, b: &[u8]) -> Result<(), DiskIoError> {
        io.seek(SeekFrom::Start(at)).unwrap();
        io.write_all(b)
    }

    /// What the stream (not the buffer) holds at `at`.
    fn in_stream<D: BlockDevice>(io: &FatIo<D>, at: u64) -> [u8; 4] {
        let mut b = [0u8; 4];
        io.stream.lock().read_at(at, &mut b).unwrap();
        b
    }

    /// Small reads and writes in the FAT stay in the buffer: the next read
    /// sees a write, the stream does not until the write-back, which keeps
    /// the block held (clean).
    #[test]
    fn fat_writes_stay_in_the_buffer_until_written_back() {
        let mut io = io(1024..4096);
        let before = read4(&mut io, 1024 + 100);
        let stats = io.stream.lock().stats();
        assert_eq!(read4(&mut io, 1024 + 100), before);
        write(&mut io, 1024 + 104, &[1, 2, 3, 4]).unwrap();
        assert_eq!(read4(&mut io, 1024 + 104), [1, 2, 3, 4]);
        assert_eq!(io.stream.lock().stats(), stats, "no stream access");
        assert_eq!(
            in_stream(&io, 1024 + 104),
            [1128, 1129, 1130, 1131].map(orig)
        );
        assert_eq!(io.blocks.lock().dirty_blocks(), 1);
        io.blocks.lock().write_back(&mut io.stream.lock()).unwrap();
        assert_eq!(io.blocks.lock().dirty_blocks(), 0);
        assert_eq!(in_stream(&io, 1024 + 104), [1, 2, 3, 4]);
        assert_eq!(read4(&mut io, 1024 + 104), [1, 2, 3, 4]);
    }

    /// A write across a block edge goes to the stream after the held blocks
    /// are written back and dropped: nothing held hides it, nothing held is
    /// lost.
    #[test]
    fn an_access_across_blocks_sees_and_supersedes_the_buffer() {
        let mut io = io(1024..4096);
        write(&mut io, 1024 + 500, &[5, 5, 5, 5]).unwrap();
        write(&mut io, 1536 + 8, &[6, 6, 6, 6]).unwrap();
        // Across the edge of the first block.
        write(&mut io, 1024 + 510, &[9, 8, 7, 6]).unwrap();
        assert_eq!(io.blocks.lock().dirty_blocks(), 0);
        assert_eq!(read4(&mut io, 1024 + 500), [5, 5, 5, 5]);
        assert_eq!(read4(&mut io, 1024 + 508), [orig(1532), orig(1533), 9, 8]);
        assert_eq!(read4(&mut io, 1536), [7, 6, orig(1538), orig(1539)]);
        assert_eq!(read4(&mut io, 1536 + 8), [6, 6, 6, 6]);
        // A read across the edge sees held, dirty bytes.
        write(&mut io, 1536 + 510, &[1, 1]).unwrap();
        let mut b = [0u8; 4];
        io.seek(SeekFrom::Start(1536 + 510)).unwrap();
        io.read_exact(&mut b).unwrap();
        assert_eq!(b, [1, 1, orig(2048), orig(2049)]);
    }

    /// More blocks than slots: the least recently used one goes to the
    /// stream, and every byte reads back.
    #[test]
    fn evicted_blocks_reach_the_stream() {
        let mut io = io(1024..8192);
        for k in 0..10u8 {
            write(&mut io, 1024 + u64::from(k) * 512 + 4, &[k; 4]).unwrap();
        }
        assert!(io.blocks.lock().dirty_blocks() <= 4);
        assert_eq!(in_stream(&io, 1024 + 4), [0; 4]);
        for k in 0..10u8 {
            assert_eq!(read4(&mut io, 1024 + u64::from(k) * 512 + 4), [k; 4]);
        }
    }

    /// On a read-only device a FAT write is refused at once, as the stream
    /// would refuse it, and nothing is held dirty.
    #[test]
    fn a_read_only_device_refuses_fat_writes_at_once() {
        let s = BlockStream::new(MemDisk::zeroed(64 * 512).read_only()).unwrap();
        let mut io = FatIo::new(Arc::new(Mutex::new(s)), 1024..4096);
        read4(&mut io, 1100);
        let e = write(&mut io, 1100, &[1, 2, 3, 4]).unwrap_err();
        assert_eq!(
            e,
            DiskIoError::Stream(StreamError::Device(BlockError::ReadOnly))
        );
        assert_eq!(io.blocks.lock().dirty_blocks(), 0);
        assert_eq!(read4(&mut io, 1100), [0; 4]);
    }

    /// Outside the FAT nothing is held.
    #[test]
    fn nothing_held_outside_the_fat() {
        let mut io = io(1024..4096);
        write(&mut io, 8192, &[1, 2, 3, 4]).unwrap();
        assert_eq!(in_stream(&io, 8192), [1, 2, 3, 4]);
        let mut io2 = super::tests::io(0..0);
        write(&mut io2, 1024, &[1, 2, 3, 4]).unwrap();
        assert_eq!(in_stream(&io2, 1024), [1, 2, 3, 4]);
        assert_eq!(io2.blocks.lock().dirty_blocks(), 0);
    }

    /// A write-back that fails (the stream, one block big, must evict a
    /// dirty block to a failing device) is an error, the block stays held
    /// and dirty, and the next write-back, once the device works, gets every
    /// byte to the device.
    #[test]
    fn a_failed_write_back_is_an_error_and_loses_nothing() {
        let dev = FailingDisk::new(MemDisk::zeroed(64 * 512), false);
        let fail = dev.switch();
        let cfg = CacheConfig {
            sets: 1,
            ways: 1,
            readahead_blocks: 1,
            bypass_blocks: 8,
            write_combine_blocks: 1,
        };
        let s = BlockStream::with_config(dev, cfg).unwrap();
        let mut io = FatIo::new(Arc::new(Mutex::new(s)), 1024..4096);
        write(&mut io, 1024 + 8, &[1, 2, 3, 4]).unwrap();
        write(&mut io, 1536 + 8, &[5, 6, 7, 8]).unwrap();
        fail.set(true);
        let res = io.blocks.lock().write_back(&mut io.stream.lock());
        assert_eq!(res, Err(StreamError::Device(BlockError::Io)));
        assert!(io.blocks.lock().dirty_blocks() >= 1);
        assert_eq!(read4(&mut io, 1024 + 8), [1, 2, 3, 4]);
        assert_eq!(read4(&mut io, 1536 + 8), [5, 6, 7, 8]);
        fail.set(false);
        io.blocks.lock().write_back(&mut io.stream.lock()).unwrap();
        io.stream.lock().flush().unwrap();
        assert_eq!(io.blocks.lock().dirty_blocks(), 0);
        let s = io.stream.lock();
        let disk = s.device().inner().as_slice();
        assert_eq!(disk[1032..1036], [1, 2, 3, 4]);
        assert_eq!(disk[1544..1548], [5, 6, 7, 8]);
    }
}
