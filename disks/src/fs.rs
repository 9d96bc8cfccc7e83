//! The fatfs glue: a FAT32 volume mounted with lamfat (rust-fatfs 0.4) over a
//! cached [`BlockStream`] on any [`BlockDevice`], a time hook for timestamps, and
//! errors with clear messages.
//!
//! lamfat has its own I/O traits; [`FatIo`] bridges the embedded-io stream to them.
//! The stream sits behind an `Arc<spin::Mutex<_>>` shared by lamfat and the
//! [`Volume`], so the volume can flush the cache and, on unmount, hand the device
//! back (lamfat's `FileSystem` never returns its storage).
//!
//! Before lamfat sees a volume, [`Volume::mount`] checks it itself (`fs/check.rs`; FAT32 layout
//! per the Microsoft FAT specification, "BPB", "FAT" and "Directory" sections):
//! the boot sector against the device size, every FAT entry, and every
//! directory entry's first cluster, walking the tree with loop detection. lamfat
//! does unchecked cluster arithmetic, so a truncated, zeroed or garbage image
//! must be an error here, not a panic (or a write to the wrong sector) there.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::cp437::Cp437;
use crate::stream::{BlockStream, CacheStats, StreamError};
use ddk::{BlockDevice, BlockError};
use embedded_io::{Read as _, Seek as _, Write as _};
use lamfat::{FileAttributes, Seek as _, Write as _};
use sha2::{Digest, Sha256};
use spin::Mutex;

mod chain;
mod check;
mod direct;
mod extend;
mod fatbuf;
mod io;
mod write;

use check::{check_boot_sector, check_fat, scan_dirs, scan_fat};

pub use direct::FileWriter;
pub use io::{DiskIoError, FatIo};

/// lamfat's file system over our stream.
pub type Fs<D> = lamfat::FileSystem<FatIo<D>, FatClock, Cp437>;
/// A directory of a mounted volume.
pub type FatDir<'a, D> = lamfat::Dir<'a, FatIo<D>, FatClock, Cp437>;
/// An open file of a mounted volume.
pub type FatFile<'a, D> = lamfat::File<'a, FatIo<D>, FatClock, Cp437>;
/// A directory entry of a mounted volume.
pub type FatEntry<'a, D> = lamfat::DirEntry<'a, FatIo<D>, FatClock, Cp437>;

pub use crate::timestamp::{FatClock, TimeSource, Timestamp};

/// Everything that can go wrong on a volume, with a message a user can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsError {
    /// The device or cache failed.
    Io(StreamError),
    /// The volume is not a usable FAT32 file system; the text says why.
    Corrupt(String),
    /// The path does not exist.
    NotFound(String),
    /// The path already exists.
    AlreadyExists(String),
    /// A directory was expected.
    NotADirectory(String),
    /// A file was expected.
    IsADirectory(String),
    /// `rm` of a directory with entries.
    DirectoryNotEmpty(String),
    /// No free cluster left.
    NoSpace,
    /// A name FAT cannot store (length or characters).
    InvalidName(String),
    /// Some other refusal from the file system (bad argument).
    InvalidInput(String),
    /// A file ended before its recorded size.
    UnexpectedEof,
    /// The operation needs a name, and the path is the root directory.
    IsRoot(String),
    /// The path climbs above the root with `..`.
    AboveRoot(String),
}

impl FsError {
    pub(crate) fn from_fat(e: lamfat::Error<DiskIoError>, path: &str) -> FsError {
        use lamfat::Error as E;
        match e {
            E::Io(DiskIoError::Stream(s)) => FsError::Io(s),
            E::Io(DiskIoError::UnexpectedEof) | E::UnexpectedEof => FsError::UnexpectedEof,
            E::Io(DiskIoError::WriteZero) | E::WriteZero => FsError::Io(StreamError::EndOfDevice),
            E::NotFound => FsError::NotFound(path.to_string()),
            E::AlreadyExists => FsError::AlreadyExists(path.to_string()),
            E::DirectoryIsNotEmpty => FsError::DirectoryNotEmpty(path.to_string()),
            E::CorruptedFileSystem => FsError::Corrupt(
                "lamfat found an inconsistent boot sector, FSInfo or directory".to_string(),
            ),
            E::NotEnoughSpace => FsError::NoSpace,
            E::InvalidFileNameLength | E::UnsupportedFileNameCharacter => {
                FsError::InvalidName(path.to_string())
            }
            E::InvalidInput => FsError::InvalidInput(path.to_string()),
            _ => FsError::InvalidInput(path.to_string()),
        }
    }

    /// The device error at the root of this error, if any.
    pub fn block_error(&self) -> Option<BlockError> {
        match self {
            FsError::Io(s) => s.block_error(),
            _ => None,
        }
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsError::Io(e) => write!(f, "I/O error: {e}"),
            FsError::Corrupt(why) => write!(f, "corrupt or unsupported volume: {why}"),
            FsError::NotFound(p) => write!(f, "{p}: no such file or directory"),
            FsError::AlreadyExists(p) => write!(f, "{p}: already exists"),
            FsError::NotADirectory(p) => write!(f, "{p}: not a directory"),
            FsError::IsADirectory(p) => write!(f, "{p}: is a directory"),
            FsError::DirectoryNotEmpty(p) => write!(f, "{p}: directory not empty"),
            FsError::NoSpace => f.write_str("no space left on the volume"),
            FsError::InvalidName(p) => write!(
                f,
                "{p}: name too long, has characters FAT cannot store, or starts with a non-ASCII character"
            ),
            FsError::InvalidInput(p) => write!(f, "{p}: invalid request"),
            FsError::UnexpectedEof => f.write_str("file shorter than its directory entry says"),
            FsError::IsRoot(p) => write!(f, "{p}: not possible on the root directory"),
            FsError::AboveRoot(p) => write!(f, "{p}: path goes above the root directory"),
        }
    }
}

impl core::error::Error for FsError {}

impl From<StreamError> for FsError {
    fn from(e: StreamError) -> Self {
        FsError::Io(e)
    }
}

/// A failed mount: why, and the device back.
pub struct MountError<D> {
    /// Why the mount failed.
    pub error: FsError,
    /// The device (mounting writes nothing); `None` only if giving it back
    /// failed (its flush failed, or the block size was unusable for a cache).
    pub device: Option<D>,
}

impl<D> fmt::Debug for MountError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MountError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<D> fmt::Display for MountError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mount failed: {}", self.error)
    }
}

impl<D> From<MountError<D>> for FsError {
    fn from(e: MountError<D>) -> Self {
        e.error
    }
}

/// What `df` shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeInfo {
    /// Volume label from the boot sector.
    pub label: String,
    /// Volume serial.
    pub volume_id: u32,
    /// Bytes per cluster.
    pub cluster_size: u32,
    /// Data clusters.
    pub total_clusters: u32,
    /// Free clusters.
    pub free_clusters: u32,
}

impl VolumeInfo {
    /// Data area size in bytes.
    pub fn total_bytes(&self) -> u64 {
        u64::from(self.total_clusters) * u64::from(self.cluster_size)
    }
    /// Free bytes.
    pub fn free_bytes(&self) -> u64 {
        u64::from(self.free_clusters) * u64::from(self.cluster_size)
    }
}

/// What `stat` shows about one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// Long name (or short name when there is none); `/` for the root.
    pub name: String,
    /// 8.3 name as stored.
    pub short_name: String,
    /// Directory or file.
    pub is_dir: bool,
    /// Bytes (0 for directories).
    pub size: u64,
    /// Creation time.
    pub created: Timestamp,
    /// Last modification time.
    pub modified: Timestamp,
    /// FAT attribute bits (read-only 0x01, hidden 0x02, system 0x04, dir 0x10,
    /// archive 0x20).
    pub attributes: u8,
}

impl Metadata {
    fn from_entry<D: BlockDevice>(e: &FatEntry<'_, D>) -> Metadata {
        Metadata {
            name: e.file_name(),
            short_name: e.short_file_name(),
            is_dir: e.is_dir(),
            size: if e.is_dir() { 0 } else { e.len() },
            created: Timestamp::from_fat(e.created()),
            modified: Timestamp::from_fat(e.modified()),
            attributes: e.attributes().bits(),
        }
    }
}

/// Splits a path into components: `/` separated, empty and `.` components
/// dropped, `..` resolved lexically. Relative paths are taken from the root.
pub fn path_components(path: &str) -> Result<Vec<&str>, FsError> {
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if out.pop().is_none() {
                    return Err(FsError::AboveRoot(path.to_string()));
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn join(comps: &[&str]) -> String {
    let mut s = String::new();
    for c in comps {
        s.push('/');
        s.push_str(c);
    }
    if s.is_empty() {
        s.push('/');
    }
    s
}

fn name_eq(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_uppercase)
        .eq(b.chars().flat_map(char::to_uppercase))
}

/// Most entries a FAT directory can have (65536 × 32 bytes); walking more means
/// a cluster-chain loop.
pub const MAX_DIR_ENTRIES: usize = 65536;

fn corrupt(s: impl Into<String>) -> FsError {
    FsError::Corrupt(s.into())
}

fn read_exact_at<D: BlockDevice>(
    s: &mut BlockStream<D>,
    pos: u64,
    buf: &mut [u8],
) -> Result<(), FsError> {
    s.seek(embedded_io::SeekFrom::Start(pos))?;
    s.read_exact(buf).map_err(|e| match e {
        embedded_io::ReadExactError::Other(e) => FsError::Io(e),
        embedded_io::ReadExactError::UnexpectedEof => FsError::UnexpectedEof,
    })
}

/// A mounted FAT32 volume.
pub struct Volume<D: BlockDevice> {
    fs: Fs<D>,
    stream: Arc<Mutex<BlockStream<D>>>,
    /// The FAT blocks lamfat's storage holds (`fs/fatbuf.rs`): written back
    /// before the volume reads chains itself, flushes or unmounts.
    fat: Arc<Mutex<fatbuf::FatBlocks>>,
    /// Where chains and data lie, for [`Volume::stream_file`] (`fs/chain.rs`).
    chains: Option<chain::Chains>,
    /// Chains extended ahead of lamfat's writes (`fs/extend.rs`).
    extender: extend::Extender,
    /// The time lamfat's clock gives, for entries written past it
    /// (`fs/direct.rs`).
    clock: FatClock,
}

impl<D: BlockDevice> Volume<D> {
    /// Mounts the FAT32 volume on `dev` with a default-shaped cache.
    pub fn mount(dev: D, time: TimeSource) -> Result<Self, MountError<D>> {
        let bs = dev.block_size();
        if bs == 0 || !bs.is_power_of_two() || bs > 65536 {
            return Err(MountError {
                error: FsError::Io(StreamError::BadBlockSize(bs)),
                device: Some(dev),
            });
        }
        match BlockStream::new(dev) {
            Ok(s) => Self::mount_stream(s, time),
            Err(e) => Err(MountError {
                error: FsError::Io(e),
                device: None,
            }),
        }
    }

    /// Mounts the FAT32 volume behind an existing stream (any cache shape).
    pub fn mount_stream(
        mut stream: BlockStream<D>,
        time: TimeSource,
    ) -> Result<Self, MountError<D>> {
        let checked = check_boot_sector(&mut stream).and_then(|bpb| {
            check_fat(&mut stream, &bpb)?;
            scan_fat(&mut stream, &bpb)?;
            scan_dirs(&mut stream, &bpb)?;
            Ok((bpb.chains(), bpb.fat_range(), bpb.free_count_at()))
        });
        let pos = stream.seek(embedded_io::SeekFrom::Start(0));
        let (chains, fat, free_count_at) =
            match checked.and_then(|c| pos.map(|_| c).map_err(FsError::Io)) {
                Ok(c) => c,
                Err(error) => return Err(Self::give_back(Arc::new(Mutex::new(stream)), error)),
            };
        let shared = Arc::new(Mutex::new(stream));
        let mut io = FatIo::new(shared.clone(), fat);
        io.set_free_count_at(free_count_at);
        let fat = io.blocks();
        let opts = lamfat::FsOptions::new()
            .time_provider(FatClock::new(time))
            .oem_cp_converter(Cp437)
            .update_accessed_date(false);
        match lamfat::FileSystem::new(io, opts) {
            Ok(fs) => {
                if fs.fat_type() != lamfat::FatType::Fat32 {
                    drop(fs);
                    return Err(Self::give_back(
                        shared,
                        corrupt("not a FAT32 volume (FAT12/FAT16 are not supported)"),
                    ));
                }
                Ok(Volume {
                    fs,
                    stream: shared,
                    fat,
                    chains,
                    extender: extend::Extender::default(),
                    clock: FatClock::new(time),
                })
            }
            Err(e) => Err(Self::give_back(shared, FsError::from_fat(e, "/"))),
        }
    }

    fn give_back(shared: Arc<Mutex<BlockStream<D>>>, error: FsError) -> MountError<D> {
        match Arc::try_unwrap(shared) {
            Ok(m) => MountError {
                error,
                device: m.into_inner().into_inner().ok(),
            },
            // lamfat drops its storage when it fails, so this does not happen.
            Err(_) => MountError {
                error,
                device: None,
            },
        }
    }

    /// lamfat's file system, for anything this wrapper does not cover.
    pub fn fs(&self) -> &Fs<D> {
        &self.fs
    }

    /// The root directory.
    pub fn root(&self) -> FatDir<'_, D> {
        self.fs.root_dir()
    }

    /// Label, id and space figures.
    pub fn info(&self) -> Result<VolumeInfo, FsError> {
        let st = self.fs.stats().map_err(|e| FsError::from_fat(e, "/"))?;
        // lamfat's count misses the clusters taken past it (`fs/extend.rs`).
        let taken = self.fat.lock().taken();
        Ok(VolumeInfo {
            label: self.fs.volume_label(),
            volume_id: self.fs.volume_id(),
            cluster_size: st.cluster_size(),
            total_clusters: st.total_clusters(),
            free_clusters: st.free_clusters().saturating_sub(taken),
        })
    }

    /// Runs `f` on the device under the cache (for queries: what it holds may
    /// lag the cache until [`Volume::flush`]).
    pub fn with_device<R>(&self, f: impl FnOnce(&D) -> R) -> R {
        f(self.stream.lock().device())
    }

    /// Cache counters of the stream under the file system.
    pub fn cache_stats(&self) -> CacheStats {
        self.stream.lock().stats()
    }

    /// Writes every cached block back (the FAT blocks lamfat's storage holds
    /// first, into the cache) and flushes the device. The FSInfo free count
    /// and the clean flag are only rewritten on [`Volume::unmount`].
    pub fn flush(&self) -> Result<(), FsError> {
        let mut fat = self.fat.lock();
        let mut s = self.stream.lock();
        fat.write_back(&mut s)?;
        s.flush()?;
        Ok(())
    }

    /// FAT blocks lamfat changed that are held in its storage's buffer
    /// (`fs/fatbuf.rs`), not yet in the cache: 0 after [`Volume::flush`].
    pub fn dirty_fat_blocks(&self) -> usize {
        self.fat.lock().dirty_blocks()
    }

    /// Moves the FAT blocks held in lamfat's storage into the cache, so that
    /// the stream shows every FAT entry lamfat has written.
    fn sync_fat(&self) -> Result<(), FsError> {
        let mut fat = self.fat.lock();
        if fat.dirty_blocks() > 0 {
            fat.write_back(&mut self.stream.lock())?;
        }
        Ok(())
    }

    /// Unmounts (FSInfo, clean flag), flushes, and returns the device.
    pub fn unmount(self) -> Result<D, FsError> {
        // The held FAT blocks first, where a failure can be reported (the
        // storage's drop only logs).
        self.sync_fat()?;
        let Volume { fs, stream, .. } = self;
        fs.unmount().map_err(|e| FsError::from_fat(e, "/"))?;
        let m =
            Arc::try_unwrap(stream).map_err(|_| corrupt("stream still shared after unmount"))?;
        m.into_inner()
            .into_inner()
            .map_err(|e| FsError::Io(e.error))
    }

    /// The directory at `path`.
    pub fn open_dir(&self, path: &str) -> Result<FatDir<'_, D>, FsError> {
        let comps = path_components(path)?;
        let mut dir = self.root();
        for (i, c) in comps.iter().enumerate() {
            let e = find_in(&dir, c).map_err(|e| ctx(e, &comps[..=i]))?;
            match e {
                Some(e) if e.is_dir() => dir = e.to_dir(),
                Some(_) => return Err(FsError::NotADirectory(join(&comps[..=i]))),
                None => return Err(FsError::NotFound(join(&comps[..=i]))),
            }
        }
        Ok(dir)
    }

    /// Splits `path` into its parent directory and last name.
    fn parent_of<'p>(&self, path: &'p str) -> Result<(FatDir<'_, D>, Vec<&'p str>), FsError> {
        let comps = path_components(path)?;
        if comps.is_empty() {
            return Err(FsError::IsRoot(path.to_string()));
        }
        let parent = self.open_dir(&join(&comps[..comps.len() - 1]))?;
        Ok((parent, comps))
    }

    /// Metadata of `path` (the root included).
    pub fn metadata(&self, path: &str) -> Result<Metadata, FsError> {
        let comps = path_components(path)?;
        if comps.is_empty() {
            return Ok(Metadata {
                name: "/".to_string(),
                short_name: String::new(),
                is_dir: true,
                size: 0,
                created: Timestamp::new(1980, 1, 1, 0, 0, 0),
                modified: Timestamp::new(1980, 1, 1, 0, 0, 0),
                attributes: FileAttributes::DIRECTORY.bits(),
            });
        }
        let (parent, comps) = self.parent_of(path)?;
        let name = comps[comps.len() - 1];
        match find_in(&parent, name).map_err(|e| ctx(e, &comps))? {
            Some(e) => Ok(Metadata::from_entry(&e)),
            None => Err(FsError::NotFound(join(&comps))),
        }
    }

    /// Entries of the directory at `path`, without `.` and `..`, in disk order.
    pub fn list_dir(&self, path: &str) -> Result<Vec<Metadata>, FsError> {
        let dir = self.open_dir(path)?;
        let mut out = Vec::new();
        for e in dir.iter() {
            let e = e.map_err(|e| FsError::from_fat(e, path))?;
            let name = e.file_name();
            if name == "." || name == ".." {
                continue;
            }
            out.push(Metadata::from_entry(&e));
            if out.len() > MAX_DIR_ENTRIES {
                return Err(corrupt(alloc::format!(
                    "{path}: directory never ends (cluster loop?)"
                )));
            }
        }
        Ok(out)
    }

    /// Opens the file at `path` for reading and writing, positioned at 0.
    pub fn open_file(&self, path: &str) -> Result<FatFile<'_, D>, FsError> {
        Ok(self.file_entry(path)?.to_file())
    }

    /// The directory entry of the file at `path`.
    fn file_entry(&self, path: &str) -> Result<FatEntry<'_, D>, FsError> {
        let (parent, comps) = self.parent_of(path)?;
        let name = comps[comps.len() - 1];
        match find_in(&parent, name).map_err(|e| ctx(e, &comps))? {
            Some(e) if e.is_dir() => Err(FsError::IsADirectory(join(&comps))),
            Some(e) => Ok(e),
            None => Err(FsError::NotFound(join(&comps))),
        }
    }

    /// Creates (or truncates) the file at `path`; its parent must exist.
    pub fn create_file(&self, path: &str) -> Result<FatFile<'_, D>, FsError> {
        let (parent, comps) = self.parent_of(path)?;
        let name = comps[comps.len() - 1];
        if let Some(e) = find_in(&parent, name).map_err(|e| ctx(e, &comps))? {
            if e.is_dir() {
                return Err(FsError::IsADirectory(join(&comps)));
            }
        }
        check_new_name(name, &comps)?;
        let mut f = parent
            .create_file(name)
            .map_err(|e| FsError::from_fat(e, &join(&comps)))?;
        f.truncate()
            .map_err(|e| FsError::from_fat(e, &join(&comps)))?;
        Ok(f)
    }

    /// The whole file at `path`.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let size = self.metadata(path)?.size as usize;
        let mut out = Vec::with_capacity(size);
        let mut buf = vec![0u8; size.clamp(512, 1 << 20)];
        self.stream_file(path, &mut buf, &mut |b| out.extend_from_slice(b))?;
        if out.len() != size {
            return Err(FsError::UnexpectedEof);
        }
        Ok(out)
    }

    /// SHA-256 and length of the file at `path`, read in `buf`-sized pieces.
    pub fn sha256_file(&self, path: &str, buf: &mut [u8]) -> Result<([u8; 32], u64), FsError> {
        let mut h = Sha256::new();
        let total = self.stream_file(path, buf, &mut |b| h.update(b))?;
        Ok((h.finalize().into(), total))
    }

    /// Reads the file at `path` front to back in pieces of up to `buf`'s
    /// size, handing each to `sink`; returns the byte count (less than the
    /// file's size when its cluster chain ends early).
    ///
    /// lamfat reads one cluster per call; here the file's extents (its
    /// cluster chain, bounded by its size) are merged into contiguous runs
    /// and each run is read from the cached stream in `buf`-sized requests,
    /// so a contiguous file costs one device request per `buf` whatever the
    /// cluster size (the stream stays coherent with its dirty blocks). The
    /// chain is read from the FAT directly (`fs/chain.rs`: the same runs as
    /// lamfat's `File::extents`, without a locked 4-byte read per cluster).
    pub fn stream_file(
        &self,
        path: &str,
        buf: &mut [u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<u64, FsError> {
        let entry = self.file_entry(path)?;
        let mut f = entry.to_file();
        if buf.is_empty() {
            return Ok(0);
        }
        let Some(chains) = self.chains else {
            return self.stream_extents(&mut f, path, buf, sink);
        };
        // lamfat's first extent is the first cluster's (no FAT read).
        let Some(first) = f.extents().next() else {
            return Ok(0);
        };
        let first = first.map_err(|e| FsError::from_fat(e, path))?;
        let first = chains.cluster_at(first.offset)?;
        let mut read_fat = |at: u64, bytes: &mut [u8]| -> Result<usize, FsError> {
            // Every FAT entry lamfat wrote (the sink may use the volume too).
            self.sync_fat()?;
            Ok(self.stream.lock().read_at(at, bytes)?)
        };
        chains.runs(&mut read_fat, first, entry.len(), path, &mut |at, len| {
            self.read_run(at, len, buf, sink).map(|_| ())
        })
    }

    /// [`Volume::stream_file`] through lamfat's `File::extents`: for a
    /// volume whose FAT lamfat reads is not one `fs/chain.rs` can name.
    fn stream_extents(
        &self,
        f: &mut FatFile<'_, D>,
        path: &str,
        buf: &mut [u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<u64, FsError> {
        let mut total = 0u64;
        let mut run: Option<(u64, u64)> = None;
        for ext in f.extents() {
            let ext = ext.map_err(|e| FsError::from_fat(e, path))?;
            // Past the size every extent is empty (the chain may go on, or
            // loop): the size bounds the walk.
            if ext.size == 0 {
                break;
            }
            let size = u64::from(ext.size);
            run = match run {
                Some((at, len)) if at + len == ext.offset => Some((at, len + size)),
                Some((at, len)) => {
                    total += self.read_run(at, len, buf, sink)?;
                    Some((ext.offset, size))
                }
                None => Some((ext.offset, size)),
            };
        }
        if let Some((at, len)) = run {
            total += self.read_run(at, len, buf, sink)?;
        }
        Ok(total)
    }

    /// `len` bytes of the volume from byte `at`, in `buf`-sized reads.
    fn read_run(
        &self,
        mut at: u64,
        len: u64,
        buf: &mut [u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<u64, FsError> {
        let end = at + len;
        while at < end {
            let n = ((end - at) as usize).min(buf.len());
            read_exact_at(&mut self.stream.lock(), at, &mut buf[..n])?;
            sink(&buf[..n]);
            at += n as u64;
        }
        Ok(len)
    }

    /// Creates or replaces the file at `path` with `data`.
    pub fn write_file(&self, path: &str, data: &[u8]) -> Result<(), FsError> {
        self.create_writer(path)?.write(data)
    }

    /// Appends `data` to the file at `path`, creating it if missing.
    pub fn append_file(&self, path: &str, data: &[u8]) -> Result<(), FsError> {
        let mut f = match self.open_file(path) {
            Ok(f) => f,
            Err(FsError::NotFound(_)) => self.create_file(path)?,
            Err(e) => return Err(e),
        };
        f.seek(lamfat::SeekFrom::End(0))
            .map_err(|e| FsError::from_fat(e, path))?;
        self.write_to_file(&mut f, data, path)?;
        f.flush().map_err(|e| FsError::from_fat(e, path))?;
        Ok(())
    }

    /// Creates the directory at `path`; its parent must exist.
    pub fn create_dir(&self, path: &str) -> Result<(), FsError> {
        let (parent, comps) = self.parent_of(path)?;
        let name = comps[comps.len() - 1];
        if find_in(&parent, name)
            .map_err(|e| ctx(e, &comps))?
            .is_some()
        {
            return Err(FsError::AlreadyExists(join(&comps)));
        }
        check_new_name(name, &comps)?;
        parent
            .create_dir(name)
            .map_err(|e| FsError::from_fat(e, &join(&comps)))?;
        Ok(())
    }

    /// Creates the directory at `path` and any missing parents.
    pub fn create_dir_all(&self, path: &str) -> Result<(), FsError> {
        let comps = path_components(path)?;
        let mut dir = self.root();
        for (i, c) in comps.iter().enumerate() {
            dir = match find_in(&dir, c).map_err(|e| ctx(e, &comps[..=i]))? {
                Some(e) if e.is_dir() => e.to_dir(),
                Some(_) => return Err(FsError::NotADirectory(join(&comps[..=i]))),
                None => {
                    check_new_name(c, &comps[..=i])?;
                    dir.create_dir(c)
                        .map_err(|e| FsError::from_fat(e, &join(&comps[..=i])))?
                }
            };
        }
        Ok(())
    }

    /// Removes the file or empty directory at `path`.
    pub fn remove(&self, path: &str) -> Result<(), FsError> {
        let (parent, comps) = self.parent_of(path)?;
        let name = comps[comps.len() - 1];
        parent
            .remove(name)
            .map_err(|e| FsError::from_fat(e, &join(&comps)))
    }

    /// Renames the file or directory at `from` to `to`; `to`'s parent must
    /// exist and `to` must not. A file may move to another directory; a
    /// directory is only renamed within its parent, because lamfat does not
    /// rewrite a moved directory's `..` entry (fsck.fat would report it).
    pub fn rename(&self, from: &str, to: &str) -> Result<(), FsError> {
        let (src_dir, src) = self.parent_of(from)?;
        let (dst_dir, dst) = self.parent_of(to)?;
        let (src_name, dst_name) = (src[src.len() - 1], dst[dst.len() - 1]);
        let entry = find_in(&src_dir, src_name)
            .map_err(|e| ctx(e, &src))?
            .ok_or_else(|| FsError::NotFound(join(&src)))?;
        let same_parent = name_eq(&join(&src[..src.len() - 1]), &join(&dst[..dst.len() - 1]));
        if entry.is_dir() && !same_parent {
            return Err(FsError::InvalidInput(alloc::format!(
                "{}: a directory can only be renamed within its parent",
                join(&src)
            )));
        }
        if find_in(&dst_dir, dst_name)
            .map_err(|e| ctx(e, &dst))?
            .is_some()
        {
            return Err(FsError::AlreadyExists(join(&dst)));
        }
        check_new_name(dst_name, &dst)?;
        src_dir
            .rename(src_name, &dst_dir, dst_name)
            .map_err(|e| FsError::from_fat(e, &join(&src)))
    }

    /// Cuts the file at `path` down to `len` bytes (freeing the clusters past
    /// it); `len` beyond the file's size is refused, not a hole.
    pub fn truncate_file(&self, path: &str, len: u64) -> Result<(), FsError> {
        let size = self.metadata(path)?.size;
        if len > size {
            return Err(FsError::InvalidInput(alloc::format!(
                "{path}: truncating {size} bytes to {len} would extend the file"
            )));
        }
        let mut f = self.open_file(path)?;
        f.seek(lamfat::SeekFrom::Start(len))
            .map_err(|e| FsError::from_fat(e, path))?;
        f.truncate().map_err(|e| FsError::from_fat(e, path))?;
        f.flush().map_err(|e| FsError::from_fat(e, path))?;
        Ok(())
    }

    /// Removes `path` and, for a directory, everything below it.
    pub fn remove_all(&self, path: &str) -> Result<(), FsError> {
        let md = self.metadata(path)?;
        if md.is_dir {
            let base = join(&path_components(path)?);
            for child in self.list_dir(&base)? {
                self.remove_all(&alloc::format!("{base}/{}", child.name))?;
            }
        }
        self.remove(path)
    }

    /// Visits every entry below `path` depth-first (directories before their
    /// contents), passing the absolute path and metadata.
    pub fn walk(
        &self,
        path: &str,
        visit: &mut dyn FnMut(&str, &Metadata) -> Result<(), FsError>,
    ) -> Result<(), FsError> {
        self.walk_depth(&join(&path_components(path)?), visit, 0)
    }

    fn walk_depth(
        &self,
        base: &str,
        visit: &mut dyn FnMut(&str, &Metadata) -> Result<(), FsError>,
        depth: usize,
    ) -> Result<(), FsError> {
        if depth > 64 {
            return Err(corrupt(alloc::format!(
                "{base}: directories nested deeper than 64 (loop?)"
            )));
        }
        for md in self.list_dir(base)? {
            let p = if base == "/" {
                alloc::format!("/{}", md.name)
            } else {
                alloc::format!("{base}/{}", md.name)
            };
            visit(&p, &md)?;
            if md.is_dir {
                self.walk_depth(&p, visit, depth + 1)?;
            }
        }
        Ok(())
    }
}

/// Adds path context to errors that lack it.
fn ctx(e: FsError, comps: &[&str]) -> FsError {
    match e {
        FsError::InvalidInput(p) if p.is_empty() => FsError::InvalidInput(join(comps)),
        e => e,
    }
}

/// lamfat 0.4.3's short-name generator slices `name[1..]`, which panics when
/// the first character is not ASCII; such names are refused up front. Names
/// longer than FAT's 255 UTF-16 units are refused here too.
fn check_new_name(name: &str, comps: &[&str]) -> Result<(), FsError> {
    if !name.starts_with(|c: char| c.is_ascii()) || name.encode_utf16().count() > 255 {
        return Err(FsError::InvalidName(join(comps)));
    }
    Ok(())
}

/// The entry named `name` in `dir` (case-insensitive, long or short name).
fn find_in<'a, D: BlockDevice>(
    dir: &FatDir<'a, D>,
    name: &str,
) -> Result<Option<FatEntry<'a, D>>, FsError> {
    for (n, e) in dir.iter().enumerate() {
        let e = e.map_err(|e| FsError::from_fat(e, ""))?;
        if name_eq(&e.file_name(), name) || name_eq(&e.short_file_name(), name) {
            return Ok(Some(e));
        }
        if n > MAX_DIR_ENTRIES {
            return Err(corrupt("directory never ends (cluster loop?)"));
        }
    }
    Ok(None)
}
