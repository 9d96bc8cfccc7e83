//! Writing a file's data through fatfs without copying it into the cache:
//! [`Volume::write_to_file`] opens a borrowed write on the block stream
//! (`crate::stream`, `borrowed.rs`) around lamfat's `write_all`.
//!
//! lamfat writes one cluster per call and does the allocation (FAT entries,
//! chain, FSInfo counters, directory entry) as always; the stream records
//! where in the caller's buffer each whole cluster's bytes are and, when
//! `write_all` returns, writes them to the device straight from the buffer,
//! each contiguous stretch of clusters as one request. The bytes on the image
//! are the same as through `write_all` alone; only fewer copies and requests
//! get them there.

use ddk::BlockDevice;
use lamfat::Write as _;

use super::{FatFile, FsError, Volume};

impl<D: BlockDevice> Volume<D> {
    /// Writes all of `buf` to `f` at its position, as `f.write_all(buf)`,
    /// with the file's whole clusters going to the device straight from `buf`
    /// before this returns (the FAT and directory entry stay cached until a
    /// flush, as with any write). Errors name `path`; a device error on the
    /// data is returned here, after every other cluster of `buf` was written.
    pub fn write_to_file(
        &self,
        f: &mut FatFile<'_, D>,
        buf: &[u8],
        path: &str,
    ) -> Result<(), FsError> {
        self.stream.lock().begin_borrowed(buf)?;
        let res = f.write_all(buf);
        let end = self.stream.lock().end_borrowed(buf);
        res.map_err(|e| FsError::from_fat(e, path))?;
        end?;
        Ok(())
    }
}
