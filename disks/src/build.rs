//! The deterministic FAT32 image builder (host only): formats FAT32 explicitly
//! (fixed volume id, label and layout), writes every directory and file of an
//! [`ImageSpec`] in manifest order with a fixed-time clock, and stores the
//! checksum file. Same manifest → same bytes: nothing depends on the host's
//! clock, locale or file system, and the image is assembled in memory through
//! the same `BlockStream` + lamfat stack the kernel mounts with.

use std::collections::BTreeSet;
use std::path::Path;
use std::string::{String, ToString};
use std::sync::Arc;
use std::vec::Vec;

use crate::stream::BlockStream;
use sha2::{Digest, Sha256};
use spin::Mutex;

use crate::content::Content;
use crate::fs::{FatIo, FsError, TimeSource, Volume};
use crate::manifest::{format_checksums, ChecksumEntry, Entry, FileSpec, FillSpec, ImageSpec};
use crate::mem::MemDisk;

/// Why a build failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// Formatting or writing the volume failed (e.g. the image is too small).
    Fs(FsError),
    /// Reading or writing a file failed.
    Io(std::io::Error),
    /// The manifest does not parse.
    Manifest(crate::manifest::ManifestError),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Fs(FsError::NoSpace) => {
                f.write_str("image-size too small for the manifest's files")
            }
            BuildError::Fs(e) => write!(f, "{e}"),
            BuildError::Io(e) => write!(f, "{e}"),
            BuildError::Manifest(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BuildError {}

impl From<FsError> for BuildError {
    fn from(e: FsError) -> Self {
        BuildError::Fs(e)
    }
}

/// What a build produced.
#[derive(Clone, Debug)]
pub struct BuildReport {
    /// Files written (the checksum file not included).
    pub files: usize,
    /// Directories in the image (explicit and implied).
    pub dirs: usize,
    /// Bytes of file content (the checksum file not included).
    pub content_bytes: u64,
    /// Image size in bytes.
    pub image_size: u64,
    /// Bytes per cluster.
    pub cluster_size: u32,
    /// Data clusters.
    pub total_clusters: u32,
    /// Free clusters after the build.
    pub free_clusters: u32,
    /// SHA-256 of the whole image.
    pub image_sha256: [u8; 32],
    /// What went into the checksum file.
    pub checksums: Vec<ChecksumEntry>,
}

/// Reads and parses a manifest file.
pub fn load_spec(path: &Path) -> Result<ImageSpec, BuildError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        BuildError::Io(std::io::Error::new(
            e.kind(),
            std::format!("reading {}: {e}", path.display()),
        ))
    })?;
    ImageSpec::parse(&text).map_err(BuildError::Manifest)
}

/// Mounts the image file at `path` in memory (never writing it back) and
/// verifies it against its checksum file, as the self-test's
/// `verify-manifest` step does; returns that step's detail text.
pub fn verify_image_file(path: &Path, checksum_path: &str) -> Result<String, BuildError> {
    let bytes = std::fs::read(path).map_err(|e| {
        BuildError::Io(std::io::Error::new(
            e.kind(),
            std::format!("reading {}: {e}", path.display()),
        ))
    })?;
    let vol = Volume::mount(
        MemDisk::from_vec(bytes).read_only(),
        TimeSource::Fixed(crate::fs::Timestamp::new(1980, 1, 1, 0, 0, 0)),
    )
    .map_err(FsError::from)?;
    crate::selftest::verify_volume(&vol, checksum_path)
        .map_err(|e| BuildError::Fs(FsError::Corrupt(std::format!("verification failed: {e}"))))
}

/// Builds the image described by `spec` into `out` (created or replaced).
pub fn build_image(spec: &ImageSpec, out: &Path) -> Result<BuildReport, BuildError> {
    let (bytes, report) = build_image_bytes(spec)?;
    std::fs::write(out, bytes).map_err(BuildError::Io)?;
    Ok(report)
}

/// A freshly formatted, empty FAT32 volume of `image_size` bytes in memory
/// (fixed volume id and label), mounted with `time` as its clock. The
/// manifest builder fills it from a spec; `cargo xtask disk build --from
/// DIR` from a host directory.
pub fn format_volume(
    image_size: u64,
    cluster_size: u32,
    label: &str,
    volume_id: u32,
    time: TimeSource,
) -> Result<Volume<MemDisk>, BuildError> {
    let stream = BlockStream::new(MemDisk::zeroed(image_size)).map_err(FsError::Io)?;
    let shared = Arc::new(Mutex::new(stream));
    {
        let mut io = FatIo::new(shared.clone(), 0..0);
        let mut l = [b' '; 11];
        let n = label.len().min(11);
        l[..n].copy_from_slice(&label.as_bytes()[..n]);
        let opts = lamfat::FormatVolumeOptions::new()
            .fat_type(lamfat::FatType::Fat32)
            .bytes_per_cluster(cluster_size)
            .total_sectors((image_size / 512) as u32)
            .volume_id(volume_id)
            .volume_label(l);
        lamfat::format_volume(&mut io, opts).map_err(|e| match e {
            lamfat::Error::InvalidInput => FsError::InvalidInput(std::format!(
                "lamfat refused to format {image_size} bytes as FAT32 with {cluster_size}-byte clusters"
            )),
            lamfat::Error::Io(crate::fs::DiskIoError::Stream(s)) => FsError::Io(s),
            _ => FsError::Corrupt("formatting failed".into()),
        })?;
    }
    let stream = Arc::try_unwrap(shared)
        .map_err(|_| FsError::Corrupt("formatter kept the disk".into()))?
        .into_inner();
    Ok(Volume::mount_stream(stream, time).map_err(FsError::from)?)
}

/// Builds the image described by `spec` in memory.
pub fn build_image_bytes(spec: &ImageSpec) -> Result<(Vec<u8>, BuildReport), BuildError> {
    let vol = format_volume(
        spec.image_size,
        spec.cluster_size,
        &spec.label,
        spec.volume_id,
        TimeSource::Fixed(spec.timestamp),
    )?;

    let mut dirs: BTreeSet<String> = BTreeSet::new();
    let mut note_dirs = |path: &str, include_self: bool| {
        let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        let upto = if include_self {
            comps.len()
        } else {
            comps.len().saturating_sub(1)
        };
        for i in 1..=upto {
            dirs.insert(std::format!("/{}", comps[..i].join("/")).to_lowercase());
        }
    };

    let mut checksums = Vec::new();
    let mut done_groups: Vec<&str> = Vec::new();
    let mut buf = std::vec![0u8; 64 * 1024];
    for entry in &spec.entries {
        match entry {
            Entry::Dir { path } => {
                vol.create_dir_all(path)?;
                note_dirs(path, true);
            }
            Entry::File(f) => {
                if let Some(g) = &f.group {
                    if done_groups.contains(&g.as_str()) {
                        continue;
                    }
                    done_groups.push(g);
                    let members: Vec<&FileSpec> = spec
                        .files()
                        .filter(|m| m.group.as_deref() == Some(g.as_str()))
                        .collect();
                    for m in &members {
                        note_dirs(&m.path, false);
                    }
                    write_group(&vol, &members, &mut buf)?;
                } else {
                    note_dirs(&f.path, false);
                    write_group(&vol, &[f], &mut buf)?;
                }
            }
        }
    }
    // Checksums in manifest order, computed from the spec, not read back.
    for f in spec.files() {
        checksums.push(checksum_of(&f.path, &f.content, &mut buf));
    }
    note_dirs(&spec.checksum_path, false);
    if let Some(parent) = spec.checksum_path.rsplit_once('/').map(|(p, _)| p) {
        if !parent.is_empty() {
            vol.create_dir_all(parent)?;
        }
    }
    let mut fill_bytes = 0;
    if let Some(fill) = &spec.fill {
        note_dirs(&fill.path, false);
        let f = write_fill(&vol, spec, fill, &checksums, &mut buf)?;
        fill_bytes = f.content.len();
        checksums.push(checksum_of(&f.path, &f.content, &mut buf));
    }
    vol.write_file(&spec.checksum_path, format_checksums(&checksums).as_bytes())?;

    let info = vol.info()?;
    let disk = vol.unmount()?;
    let bytes = disk.into_vec();
    let report = BuildReport {
        files: checksums.len(),
        dirs: dirs.len(),
        content_bytes: spec.content_bytes() + fill_bytes,
        image_size: bytes.len() as u64,
        cluster_size: info.cluster_size,
        total_clusters: info.total_clusters,
        free_clusters: info.free_clusters,
        image_sha256: Sha256::digest(&bytes).into(),
        checksums,
    };
    Ok((bytes, report))
}

fn checksum_of(path: &str, content: &Content, buf: &mut [u8]) -> ChecksumEntry {
    let mut h = Sha256::new();
    let mut r = content.reader();
    loop {
        let n = r.fill(buf);
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    ChecksumEntry {
        path: path.to_string(),
        size: content.len(),
        sha256: h.finalize().into(),
    }
}

/// Writes the `fill` file so that `fill.free` bytes (whole clusters) stay free
/// once the checksum file is written; returns the file as written.
///
/// Every allocation the rest of the build still makes is done or measured
/// first: the fill file's and the checksum file's directory entries are
/// created empty (either may need a new directory cluster), then the free
/// count is read, and the checksum file's final length is computed from its
/// lines (a digest is always 64 hex digits; only the fill size's digit count
/// varies, hence the fixpoint loop).
fn write_fill(
    vol: &Volume<MemDisk>,
    spec: &ImageSpec,
    fill: &FillSpec,
    checksums: &[ChecksumEntry],
    buf: &mut [u8],
) -> Result<FileSpec, BuildError> {
    drop(vol.create_file(&spec.checksum_path)?);
    if let Some((parent, _)) = fill.path.rsplit_once('/') {
        if !parent.is_empty() {
            vol.create_dir_all(parent)?;
        }
    }
    drop(vol.create_file(&fill.path)?);
    let info = vol.info()?;
    let cluster = u64::from(info.cluster_size);
    let free = u64::from(info.free_clusters);
    let keep = fill.free.div_ceil(cluster);
    let checksum_clusters = |fill_size: u64| {
        let mut lines = checksums.to_vec();
        lines.push(ChecksumEntry {
            path: fill.path.clone(),
            size: fill_size,
            sha256: [0; 32],
        });
        (format_checksums(&lines).len() as u64).div_ceil(cluster)
    };
    let available = |fill_size: u64| free.checked_sub(keep + checksum_clusters(fill_size));
    let mut size = available(0).unwrap_or(0) * cluster;
    for _ in 0..4 {
        let next = available(size).unwrap_or(0) * cluster;
        if next == size {
            break;
        }
        size = next.min(size);
    }
    let size = size.min(u64::from(u32::MAX));
    if available(size).is_none_or(|a| a * cluster < size) {
        return Err(BuildError::Fs(FsError::InvalidInput(std::format!(
            "fill {}: only {} bytes are free before it, fewer than free={} leaves room for",
            fill.path,
            free * cluster,
            fill.free
        ))));
    }
    let file = FileSpec {
        path: fill.path.clone(),
        content: Content::Random {
            size,
            seed: fill.seed,
        },
        group: None,
        chunk: 4096,
    };
    write_group(vol, &[&file], buf)?;
    Ok(file)
}

/// Writes the files of one group round-robin, `chunk` bytes of each per turn,
/// so their clusters interleave; a single file is just written.
fn write_group(
    vol: &Volume<MemDisk>,
    members: &[&FileSpec],
    buf: &mut [u8],
) -> Result<(), BuildError> {
    for m in members {
        if let Some((parent, _)) = m.path.rsplit_once('/') {
            if !parent.is_empty() {
                vol.create_dir_all(parent)?;
            }
        }
    }
    let mut files = Vec::new();
    for m in members {
        files.push((vol.create_file(&m.path)?, m.content.reader(), m));
    }
    loop {
        let mut progressed = false;
        for (file, reader, m) in files.iter_mut() {
            // A lone file is written straight through; group members take turns
            // of `chunk` bytes each.
            let mut turn = if members.len() == 1 {
                u64::MAX
            } else {
                m.chunk
            };
            while turn > 0 {
                let want = (turn.min(buf.len() as u64)) as usize;
                let n = reader.fill(&mut buf[..want]);
                if n == 0 {
                    break;
                }
                progressed = true;
                turn -= n as u64;
                lamfat::Write::write_all(file, &buf[..n]).map_err(|e| fat_err(e, &m.path))?;
            }
        }
        if !progressed {
            break;
        }
    }
    for (mut file, _, m) in files {
        lamfat::Write::flush(&mut file).map_err(|e| fat_err(e, &m.path))?;
    }
    Ok(())
}

fn fat_err(e: lamfat::Error<crate::fs::DiskIoError>, path: &str) -> BuildError {
    BuildError::Fs(match e {
        lamfat::Error::NotEnoughSpace => FsError::NoSpace,
        lamfat::Error::Io(crate::fs::DiskIoError::Stream(s)) => FsError::Io(s),
        other => FsError::InvalidInput(std::format!("{path}: {other}")),
    })
}
