//! Writing a file's data through fatfs without copying it into the cache:
//! [`Volume::write_to_file`] opens a borrowed write on the block stream
//! (`crate::stream`, `borrowed.rs`) around lamfat's `write_all`.
//!
//! lamfat writes one cluster per call; the clusters the call needs beyond
//! the file's chain are allocated and linked first, past lamfat
//! (`extend.rs`), so lamfat only follows the chain (it still gives an empty
//! file its first cluster and keeps the directory entry). The stream records
//! where in the caller's buffer each whole cluster's bytes are and, when
//! `write_all` returns, writes them to the device straight from the buffer,
//! each contiguous stretch of clusters as one request. The bytes on the image
//! are the same as through `write_all` alone (FAT, FSInfo and directory entry
//! included, `tests/write_path.rs`); only fewer copies and requests, and
//! less work per cluster, get them there.

use ddk::BlockDevice;
use lamfat::{Seek as _, Write as _};

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
        let res = self.write_extended(f, buf, path);
        let end = self.stream.lock().end_borrowed(buf);
        res?;
        end?;
        Ok(())
    }

    /// `f.write_all(buf)` with the file's chain extended first
    /// (`extend.rs`): lamfat gives an empty file its first cluster, then
    /// finds every further one already linked. If lamfat's write fails, the
    /// chain is cut back at the file's position (best effort) so that no
    /// cluster lies past its size.
    fn write_extended(
        &self,
        f: &mut FatFile<'_, D>,
        buf: &[u8],
        path: &str,
    ) -> Result<(), FsError> {
        let fat_err = |e| FsError::from_fat(e, path);
        let cluster = u64::from(self.fs.cluster_size());
        let mut done = 0;
        if self.chains.is_none() || (buf.len() as u64) <= cluster {
            return f.write_all(buf).map_err(fat_err);
        }
        let pos = f.seek(lamfat::SeekFrom::Current(0)).map_err(fat_err)?;
        if f.extents().next().is_none() {
            // No first cluster yet: lamfat allocates it (and records it in
            // the directory entry) with the first cluster's bytes.
            done = (cluster - pos % cluster) as usize;
            f.write_all(&buf[..done]).map_err(fat_err)?;
        }
        let end = pos + buf.len() as u64;
        self.extend_chain(f, end)?;
        let res = f.write_all(&buf[done..]).map_err(fat_err);
        if res.is_err() {
            if let Err(e) = f.truncate() {
                log::warn!("disks: {path}: cutting the chain back after a failed write: {e:?}");
            }
        }
        res
    }
}
