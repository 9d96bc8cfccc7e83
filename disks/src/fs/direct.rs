//! Writing a new file front to back past lamfat: [`FileWriter`], from
//! [`Volume::create_writer`].
//!
//! lamfat writes one cluster per `File::write` call, and each costs it a
//! chain step, a clock reading, a directory-entry update and a trip through
//! its storage: ~840 instructions per 4 KiB cluster even with the chain
//! linked ahead (`extend.rs`), a 64 MiB file's worth of guest time under
//! QEMU/TCG. Here lamfat creates the file (directory entry, long name) and
//! the writer does the rest itself: each call takes the free clusters it
//! needs (`extend.rs`'s [`find_free`]/[`link`], counted past lamfat as
//! there), sends the bytes from the caller's buffer as one request per
//! contiguous run (a borrowed write, `stream/borrowed.rs`), then sets the
//! directory entry's first cluster, size and modification time the way
//! lamfat's `DirEntryEditor` would (FAT specification, "Directory
//! Structure": bytes 20-21 and 26-27 the first cluster, 22-25 the time,
//! 28-31 the size).
//!
//! What stays true:
//! - The entry changes only after every byte of a call reached the device;
//!   if the data write fails, the clusters it took are freed again and the
//!   chain ends where it did, so the file keeps what earlier calls wrote,
//!   no more (an empty file's first cluster is lamfat's: it allocates it,
//!   so that a new chain starts where lamfat's would, and writes its bytes).
//! - Not enough free clusters for a call is [`FsError::NoSpace`] with
//!   nothing taken (lamfat would write what fits first).
//! - The image is the one lamfat's own writes give (allocation order, both
//!   FATs, FSInfo, entry): `tests/write_path.rs` compares them byte for byte.
//! - The directory entry is found by its short name in the parent's
//!   clusters (unique within a directory); a volume whose layout `chain.rs`
//!   cannot name, or an entry not found, falls back to lamfat's
//!   `File::write` through [`Volume::write_to_file`].
//!
//! Only one writer (or lamfat `File`) may work on a file at a time, as with
//! lamfat's files.

use alloc::string::String;
use alloc::vec::Vec;

use ddk::BlockDevice;
use lamfat::TimeProvider as _;

use super::chain::Chains;
use super::extend::{find_free, link, unlink};
use super::{corrupt, find_in, join, path_components, FatFile, FsError, Volume};

/// A file being written front to back (see the module documentation).
pub struct FileWriter<'a, D: BlockDevice> {
    vol: &'a Volume<D>,
    path: String,
    how: How<'a, D>,
}

enum How<'a, D: BlockDevice> {
    /// Through lamfat ([`Volume::write_to_file`]).
    Lamfat(FatFile<'a, D>),
    /// Past lamfat.
    Direct(Direct),
}

/// A file written past lamfat: where its entry is, its chain's ends, its size.
struct Direct {
    chains: Chains,
    /// Byte offset of the 32-byte short entry on the volume.
    entry_at: u64,
    /// First and last cluster (`None`: no cluster yet, size 0).
    ends: Option<(u32, u32)>,
    size: u64,
}

/// Directory entries a directory may have, in bytes.
const MAX_DIR_BYTES: u64 = super::MAX_DIR_ENTRIES as u64 * 32;

/// lamfat's largest file.
const MAX_FILE_SIZE: u64 = u32::MAX as u64;

impl<D: BlockDevice> Volume<D> {
    /// Creates (or truncates) the file at `path`, its parent must exist, for
    /// writing front to back with [`FileWriter::write`].
    pub fn create_writer(&self, path: &str) -> Result<FileWriter<'_, D>, FsError> {
        // lamfat makes the entry; dropping its file writes the entry out.
        drop(self.create_file(path)?);
        let path = join(&path_components(path)?);
        let how = match self.locate_entry(&path)? {
            Some(d) => How::Direct(d),
            None => How::Lamfat(self.open_file(&path)?),
        };
        Ok(FileWriter {
            vol: self,
            path,
            how,
        })
    }

    /// The empty file at `path` as a [`Direct`], if the volume's layout is
    /// known and its short entry is found in the parent's clusters.
    fn locate_entry(&self, path: &str) -> Result<Option<Direct>, FsError> {
        let Some(chains) = self.chains else {
            return Ok(None);
        };
        if !self.fat.lock().whole_blocks() {
            return Ok(None);
        }
        let comps = path_components(path)?;
        let mut dir = self.root();
        let mut cluster = chains.root_cluster;
        for (i, c) in comps.iter().enumerate() {
            let e = find_in(&dir, c)?.ok_or_else(|| FsError::NotFound(join(&comps[..=i])))?;
            let want = e.short_file_name_as_bytes().to_vec();
            let Some((at, raw)) = self.find_raw(&chains, cluster, &want, path)? else {
                return Ok(None);
            };
            let first = u32::from(u16::from_le_bytes([raw[26], raw[27]]))
                | u32::from(u16::from_le_bytes([raw[20], raw[21]])) << 16;
            if i + 1 == comps.len() {
                let size = u32::from_le_bytes([raw[28], raw[29], raw[30], raw[31]]);
                if size != 0 || first != 0 || e.is_dir() {
                    return Ok(None);
                }
                return Ok(Some(Direct {
                    chains,
                    entry_at: at,
                    ends: None,
                    size: 0,
                }));
            }
            if !e.is_dir() || !(2..chains.clusters + 2).contains(&u64::from(first)) {
                return Ok(None);
            }
            cluster = first;
            dir = e.to_dir();
        }
        Ok(None)
    }

    /// The byte offset and bytes of the short entry named `want` (as lamfat
    /// spells short names) in the directory whose first cluster is
    /// `cluster`; `None` if the directory ends without it.
    fn find_raw(
        &self,
        chains: &Chains,
        mut cluster: u32,
        want: &[u8],
        path: &str,
    ) -> Result<Option<(u64, [u8; 32])>, FsError> {
        let mut buf = alloc::vec![0u8; chains.cluster_bytes as usize];
        let mut seen = 0u64;
        loop {
            let at = chains.data_offset + u64::from(cluster - 2) * chains.cluster_bytes;
            super::read_exact_at(&mut self.stream.lock(), at, &mut buf)?;
            for (k, e) in buf.chunks_exact(32).enumerate() {
                match (e[0], e[11]) {
                    (0, _) => return Ok(None),
                    (0xE5, _) => continue,
                    (_, a) if a & 0x0F == 0x0F || a & 0x08 != 0 => continue,
                    _ => {}
                }
                if short_name(e) == want {
                    let mut raw = [0u8; 32];
                    raw.copy_from_slice(e);
                    return Ok(Some((at + k as u64 * 32, raw)));
                }
            }
            seen += chains.cluster_bytes;
            let next = self
                .fat
                .lock()
                .entry(&self.stream, chains.fat_offset + u64::from(cluster) * 4)?
                & 0x0FFF_FFFF;
            if next >= 0x0FFF_FFF8 {
                return Ok(None);
            }
            if !(2..chains.clusters + 2).contains(&u64::from(next)) || seen > MAX_DIR_BYTES {
                return Err(corrupt(alloc::format!(
                    "{path}: a directory's cluster chain is broken or loops"
                )));
            }
            cluster = next;
        }
    }
}

/// A raw 32-byte entry's short name as lamfat spells it (`NAME.EXT`,
/// padding dropped, a leading 0x05 meaning 0xE5).
fn short_name(e: &[u8]) -> Vec<u8> {
    let name = e[..8].iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    let ext = e[8..11]
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(0, |p| p + 1);
    let mut out = e[..name].to_vec();
    if ext > 0 {
        out.push(b'.');
        out.extend_from_slice(&e[8..8 + ext]);
    }
    if out.first() == Some(&0x05) {
        out[0] = 0xE5;
    }
    out
}

impl<D: BlockDevice> FileWriter<'_, D> {
    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        match &self.how {
            How::Direct(d) => d.size,
            How::Lamfat(f) => {
                let mut f = f.clone();
                lamfat::Seek::seek(&mut f, lamfat::SeekFrom::End(0)).unwrap_or(0)
            }
        }
    }

    /// Whether the writer works past lamfat (false: through lamfat's
    /// `File`, on a volume whose layout `chain.rs` cannot name).
    pub fn past_lamfat(&self) -> bool {
        matches!(self.how, How::Direct(_))
    }

    /// Whether nothing is written yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `buf` to the file: the data reaches the device from `buf`
    /// before this returns, the FAT and directory entry stay cached until a
    /// flush (as with any write). On error the file keeps what it had
    /// before the call (an empty file may keep the bytes of its first
    /// cluster, which lamfat writes).
    pub fn write(&mut self, mut buf: &[u8]) -> Result<(), FsError> {
        let vol = self.vol;
        let path = self.path.as_str();
        let d = match &mut self.how {
            How::Lamfat(f) => return vol.write_to_file(f, buf, path),
            How::Direct(d) => d,
        };
        if buf.is_empty() {
            return Ok(());
        }
        let end = d.size + buf.len() as u64;
        if end > MAX_FILE_SIZE {
            return Err(FsError::InvalidInput(alloc::format!(
                "{path}: a FAT file holds at most {MAX_FILE_SIZE} bytes"
            )));
        }
        let chains = d.chains;
        let cb = chains.cluster_bytes;
        if d.ends.is_none() {
            // lamfat gives the file its first cluster (where its own
            // allocation would put it) with the first cluster's bytes.
            let n = (cb as usize).min(buf.len());
            let mut f = vol.open_file(path)?;
            lamfat::Write::write_all(&mut f, &buf[..n]).map_err(|e| FsError::from_fat(e, path))?;
            drop(f);
            let mut e = [0u8; 32];
            super::read_exact_at(&mut vol.stream.lock(), d.entry_at, &mut e)?;
            let first = u32::from(u16::from_le_bytes([e[26], e[27]]))
                | u32::from(u16::from_le_bytes([e[20], e[21]])) << 16;
            chains.cluster_at(chains.data_offset + u64::from(first.max(2) - 2) * cb)?;
            d.ends = Some((first, first));
            d.size = n as u64;
            buf = &buf[n..];
            if buf.is_empty() {
                return Ok(());
            }
        }
        let Some((first, tail)) = d.ends else {
            return Ok(());
        };
        let want = (end.div_ceil(cb) - d.size.div_ceil(cb)) as usize;
        let mut found = Vec::new();
        if want > 0 {
            vol.count_free_once()?;
            let mut fat = vol.fat.lock();
            found = find_free(&mut fat, &vol.stream, &chains, u64::from(tail), want)?;
            if found.len() < want {
                return Err(FsError::NoSpace);
            }
            link(&mut fat, &vol.stream, &chains, Some(tail), &found)?;
            vol.forget_tail();
        }
        if let Err(e) = write_data(vol, &chains, d.size, buf, tail, &found) {
            let mut fat = vol.fat.lock();
            if let Err(u) = unlink(&mut fat, &vol.stream, &chains, Some(tail), &found) {
                log::warn!("disks: {path}: freeing clusters after a failed write: {u}");
            }
            return Err(e);
        }
        let last = found.last().map_or(tail, |&(c, _)| c);
        let now = vol.clock.get_current_date_time();
        let date = ((now.date.year - 1980) << 9) | (now.date.month << 5) | now.date.day;
        let time = (now.time.hour << 11) | (now.time.min << 5) | (now.time.sec / 2);
        let mut e = [0u8; 32];
        let mut s = vol.stream.lock();
        super::read_exact_at(&mut s, d.entry_at, &mut e)?;
        e[20..22].copy_from_slice(&((first >> 16) as u16).to_le_bytes());
        e[22..24].copy_from_slice(&time.to_le_bytes());
        e[24..26].copy_from_slice(&date.to_le_bytes());
        e[26..28].copy_from_slice(&(first as u16).to_le_bytes());
        e[28..32].copy_from_slice(&(end as u32).to_le_bytes());
        s.write_at(d.entry_at, &e)?;
        d.ends = Some((first, last));
        d.size = end;
        Ok(())
    }
}

/// `buf` to a file of `size` bytes from its end on: the rest of its last
/// cluster `tail`, then the clusters `found`, each contiguous stretch as
/// one borrowed run.
fn write_data<D: BlockDevice>(
    vol: &Volume<D>,
    c: &Chains,
    size: u64,
    buf: &[u8],
    tail: u32,
    found: &[(u32, u32)],
) -> Result<(), FsError> {
    let cb = c.cluster_bytes;
    let at = |cluster: u32| c.data_offset + u64::from(cluster - 2) * cb;
    let mut s = vol.stream.lock();
    s.begin_borrowed(buf)?;
    let mut res: Result<(), FsError> = Ok(());
    let mut done = 0usize;
    let used = size % cb;
    if used != 0 {
        let n = ((cb - used) as usize).min(buf.len());
        res = s
            .write_at(at(tail) + used, &buf[..n])
            .map(|_| ())
            .map_err(FsError::Io);
        done = n;
    }
    let mut k = 0;
    while res.is_ok() && k < found.len() {
        // The stretch of clusters contiguous on the volume from `k`.
        let mut j = k + 1;
        while j < found.len() && found[j].0 == found[j - 1].0 + 1 {
            j += 1;
        }
        let n = (((j - k) as u64 * cb) as usize).min(buf.len() - done);
        res = s
            .write_at(at(found[k].0), &buf[done..done + n])
            .map(|_| ())
            .map_err(FsError::Io);
        done += n;
        k = j;
    }
    let end = s.end_borrowed(buf);
    res?;
    end?;
    Ok(())
}
