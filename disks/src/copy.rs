//! Copying a directory tree from one mounted FAT32 volume to another, and
//! checking the copy: the kernel's `run=copytree` (vda → vdb) and anything
//! else that moves files between two [`Volume`]s.
//!
//! - [`copy_tree`] recreates every directory and file below a source directory
//!   inside a destination directory. File data moves in [`CHUNK`]-sized pieces
//!   through one buffer, so a file of any size costs [`CHUNK`] bytes of heap,
//!   never its own size (the kernel heap is far smaller than a disk).
//! - [`verify_tree`] re-reads both trees from the volumes (not from anything
//!   the copy remembered) and compares, directory by directory, the listings
//!   (names and kinds), then every file's size and SHA-256.
//!
//! The two volumes may sit on different kinds of device (`S`, `D`): the kernel
//! copies between two `Box<dyn BlockDevice>`s, host tests between `MemDisk`s.
//!
//! What is copied: names (long names as they are), the directory structure,
//! file contents, and files' created/modified times. Attribute bits (read-only,
//! hidden, system) and directory times are not: lamfat offers no way to set
//! them. Names that start with a non-ASCII character cannot be created (see
//! [`FsError::InvalidName`]; lamfat 0.4.3's short-name generator would
//! panic), so a source holding one fails with an error naming it.
//!
//! Progress goes to a `core::fmt::Write`, one line per directory:
//!
//! ```text
//! copy: /Documents/Projects -> /copy-of-vda/Documents/Projects (2 files, 3000 bytes)
//! verify: /Documents/Projects = /copy-of-vda/Documents/Projects (2 files, 3000 bytes)
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use ddk::BlockDevice;
use lamfat::{Read as _, Write as _};

use crate::fs::{path_components, FsError, Metadata, Volume};
use crate::manifest::hex;

/// Bytes moved per read/write (and per hash update in [`verify_tree`]).
/// 64 KiB keeps requests large enough for the device to stream while staying
/// small next to the kernel heap.
pub const CHUNK: usize = 64 * 1024;

/// Deepest directory nesting followed; deeper means a loop in a corrupt tree
/// (the same bound as [`Volume::walk`]).
pub const MAX_DEPTH: usize = 64;

/// What a copy (or a verification) covered. The top directories themselves
/// are not counted: `dirs` counts the directories below them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopySummary {
    /// Regular files.
    pub files: u64,
    /// Directories below the top directory.
    pub dirs: u64,
    /// Bytes of file content.
    pub bytes: u64,
}

/// Why a copy or verification stopped. Every variant names the path it is
/// about; file-system errors keep their own message as the cause.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CopyError {
    /// Listing, opening or reading the source failed.
    Source {
        /// Path on the source volume.
        path: String,
        /// The cause.
        error: FsError,
    },
    /// Creating, writing or (when verifying) reading the destination failed.
    Destination {
        /// Path on the destination volume.
        path: String,
        /// The cause.
        error: FsError,
    },
    /// The destination exists and is a non-empty directory or a file: a copy
    /// never merges into or overwrites what is already there.
    DestinationExists(String),
    /// Source and destination are the same volume and the destination lies
    /// inside the source tree: the copy would copy itself without end.
    IntoItself {
        /// The source directory.
        source: String,
        /// The destination directory inside it.
        destination: String,
    },
    /// Nested deeper than [`MAX_DEPTH`] (a directory loop in a corrupt tree).
    TooDeep(String),
    /// [`verify_tree`] found the trees different.
    Mismatch {
        /// Path on the source volume.
        source: String,
        /// The corresponding path on the destination volume.
        destination: String,
        /// What differs.
        detail: String,
    },
}

impl fmt::Display for CopyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyError::Source { path, error } => write!(f, "source {path}: {}", Cause(path, error)),
            CopyError::Destination { path, error } => {
                write!(f, "destination {path}: {}", Cause(path, error))
            }
            CopyError::DestinationExists(p) => write!(
                f,
                "destination {p} already exists and is not an empty directory"
            ),
            CopyError::IntoItself {
                source,
                destination,
            } => write!(
                f,
                "destination {destination} lies inside source {source} on the same volume"
            ),
            CopyError::TooDeep(p) => write!(
                f,
                "source {p}: directories nested deeper than {MAX_DEPTH} (loop?)"
            ),
            CopyError::Mismatch {
                source,
                destination,
                detail,
            } => write!(f, "{source} and {destination} differ: {detail}"),
        }
    }
}

impl core::error::Error for CopyError {}

/// A file-system error as the cause after its path: most [`FsError`]s begin
/// with the path already, which would otherwise be printed twice.
struct Cause<'a>(&'a str, &'a FsError);

impl fmt::Display for Cause<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = self.1.to_string();
        let cause = msg
            .strip_prefix(self.0)
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(&msg);
        f.write_str(cause)
    }
}

fn src_err(path: &str) -> impl FnOnce(FsError) -> CopyError + '_ {
    move |error| CopyError::Source {
        path: path.to_string(),
        error,
    }
}

fn dst_err(path: &str) -> impl FnOnce(FsError) -> CopyError + '_ {
    move |error| CopyError::Destination {
        path: path.to_string(),
        error,
    }
}

/// `path` in canonical form (`/a/b`, `/` for the root).
fn canonical(path: &str) -> Result<String, FsError> {
    let mut s = String::new();
    for c in path_components(path)? {
        s.push('/');
        s.push_str(c);
    }
    if s.is_empty() {
        s.push('/');
    }
    Ok(s)
}

fn child(base: &str, name: &str) -> String {
    if base == "/" {
        format!("/{name}")
    } else {
        format!("{base}/{name}")
    }
}

/// Whether `inner` is `outer` or below it (canonical paths, FAT's
/// case-insensitive names).
fn is_within(inner: &str, outer: &str) -> bool {
    let upper = |s: &str| s.chars().flat_map(char::to_uppercase).collect::<String>();
    let (i, o) = (upper(inner), upper(outer));
    o == "/" || i == o || i.starts_with(&format!("{o}/"))
}

/// Copies every file and directory below `src_dir` on `src` into `dst_dir`
/// on `dst`, which is created (with its parents) unless it already exists as
/// an empty directory. Files are streamed in [`CHUNK`]-sized pieces. Nothing
/// is flushed: call [`Volume::flush`] (or unmount) on `dst` afterwards.
///
/// On error the destination holds whatever was copied up to then.
pub fn copy_tree<S: BlockDevice, D: BlockDevice>(
    src: &Volume<S>,
    src_dir: &str,
    dst: &Volume<D>,
    dst_dir: &str,
    out: &mut dyn fmt::Write,
) -> Result<CopySummary, CopyError> {
    let src_dir = canonical(src_dir).map_err(src_err(src_dir))?;
    let dst_dir = canonical(dst_dir).map_err(dst_err(dst_dir))?;
    let md = src.metadata(&src_dir).map_err(src_err(&src_dir))?;
    if !md.is_dir {
        return Err(CopyError::Source {
            error: FsError::NotADirectory(src_dir.clone()),
            path: src_dir,
        });
    }
    // Two `Volume`s at one address are one volume (the types may differ only
    // in name): refuse to copy a tree into itself.
    let same = core::ptr::eq(
        (src as *const Volume<S>).cast::<u8>(),
        (dst as *const Volume<D>).cast::<u8>(),
    );
    if same && is_within(&dst_dir, &src_dir) {
        return Err(CopyError::IntoItself {
            source: src_dir,
            destination: dst_dir,
        });
    }
    match dst.metadata(&dst_dir) {
        Ok(m) if m.is_dir => {
            let empty = dst
                .list_dir(&dst_dir)
                .map_err(dst_err(&dst_dir))?
                .is_empty();
            if !empty {
                return Err(CopyError::DestinationExists(dst_dir));
            }
        }
        Ok(_) => return Err(CopyError::DestinationExists(dst_dir)),
        Err(FsError::NotFound(_)) => dst.create_dir_all(&dst_dir).map_err(dst_err(&dst_dir))?,
        Err(e) => return Err(dst_err(&dst_dir)(e)),
    }
    let mut buf = vec![0u8; CHUNK];
    let mut sum = CopySummary::default();
    copy_dir(src, &src_dir, dst, &dst_dir, &mut buf, &mut sum, out, 0)?;
    Ok(sum)
}

#[allow(clippy::too_many_arguments)]
fn copy_dir<S: BlockDevice, D: BlockDevice>(
    src: &Volume<S>,
    src_dir: &str,
    dst: &Volume<D>,
    dst_dir: &str,
    buf: &mut [u8],
    sum: &mut CopySummary,
    out: &mut dyn fmt::Write,
    depth: usize,
) -> Result<(), CopyError> {
    if depth > MAX_DEPTH {
        return Err(CopyError::TooDeep(src_dir.to_string()));
    }
    let entries = src.list_dir(src_dir).map_err(src_err(src_dir))?;
    // Files and (empty) subdirectories are created in the source's order, so
    // the copy lists like the original; the subdirectories are filled after.
    let (mut files, mut bytes) = (0u64, 0u64);
    for md in &entries {
        let s = child(src_dir, &md.name);
        let d = child(dst_dir, &md.name);
        if md.is_dir {
            dst.create_dir(&d).map_err(dst_err(&d))?;
            sum.dirs += 1;
        } else {
            bytes += copy_file(src, &s, md, dst, &d, buf)?;
            files += 1;
        }
    }
    sum.files += files;
    sum.bytes += bytes;
    // Progress is informative only: a console that fails to print must not
    // fail the copy, so write errors are ignored here and below.
    let _ = writeln!(
        out,
        "copy: {src_dir} -> {dst_dir} ({files} files, {bytes} bytes)"
    );
    for md in entries.iter().filter(|m| m.is_dir) {
        let s = child(src_dir, &md.name);
        let d = child(dst_dir, &md.name);
        copy_dir(src, &s, dst, &d, buf, sum, out, depth + 1)?;
    }
    Ok(())
}

/// Streams one file; returns its length. A file whose data ends before the
/// size in its directory entry is a source error, not a short copy.
fn copy_file<S: BlockDevice, D: BlockDevice>(
    src: &Volume<S>,
    src_path: &str,
    md: &Metadata,
    dst: &Volume<D>,
    dst_path: &str,
    buf: &mut [u8],
) -> Result<u64, CopyError> {
    let mut from = src.open_file(src_path).map_err(src_err(src_path))?;
    let mut to = dst.create_file(dst_path).map_err(dst_err(dst_path))?;
    let mut total = 0u64;
    while total < md.size {
        let want = buf.len().min((md.size - total) as usize);
        let n = from
            .read(&mut buf[..want])
            .map_err(|e| src_err(src_path)(fat_err(e, src_path)))?;
        if n == 0 {
            return Err(src_err(src_path)(FsError::UnexpectedEof));
        }
        // Whole clusters go to the device straight from `buf`.
        dst.write_to_file(&mut to, &buf[..n], dst_path)
            .map_err(dst_err(dst_path))?;
        total += n as u64;
    }
    // After the data: lamfat stamps "modified = now" on every write.
    to.set_created(md.created.to_fat());
    to.set_modified(md.modified.to_fat());
    to.flush()
        .map_err(|e| dst_err(dst_path)(fat_err(e, dst_path)))?;
    Ok(total)
}

fn fat_err(e: lamfat::Error<crate::fs::DiskIoError>, path: &str) -> FsError {
    FsError::from_fat(e, path)
}

/// Compares the tree below `src_dir` on `src` with the tree below `dst_dir`
/// on `dst`: each directory must list the same names with the same kinds
/// (file or directory), and each file must have the same size and SHA-256.
/// Everything is read from the volumes again, [`CHUNK`] bytes at a time.
/// The first difference is the error.
pub fn verify_tree<S: BlockDevice, D: BlockDevice>(
    src: &Volume<S>,
    src_dir: &str,
    dst: &Volume<D>,
    dst_dir: &str,
    out: &mut dyn fmt::Write,
) -> Result<CopySummary, CopyError> {
    let src_dir = canonical(src_dir).map_err(src_err(src_dir))?;
    let dst_dir = canonical(dst_dir).map_err(dst_err(dst_dir))?;
    let mut buf = vec![0u8; CHUNK];
    let mut sum = CopySummary::default();
    verify_dir(src, &src_dir, dst, &dst_dir, &mut buf, &mut sum, out, 0)?;
    Ok(sum)
}

/// A directory's entries as (name, is_dir, size), sorted by name: the two
/// sides may list in different disk orders.
fn listing(entries: Vec<Metadata>) -> Vec<(String, bool, u64)> {
    let mut v: Vec<_> = entries
        .into_iter()
        .map(|m| (m.name, m.is_dir, m.size))
        .collect();
    v.sort();
    v
}

fn kind(is_dir: bool) -> &'static str {
    if is_dir {
        "directory"
    } else {
        "file"
    }
}

#[allow(clippy::too_many_arguments)]
fn verify_dir<S: BlockDevice, D: BlockDevice>(
    src: &Volume<S>,
    src_dir: &str,
    dst: &Volume<D>,
    dst_dir: &str,
    buf: &mut [u8],
    sum: &mut CopySummary,
    out: &mut dyn fmt::Write,
    depth: usize,
) -> Result<(), CopyError> {
    if depth > MAX_DEPTH {
        return Err(CopyError::TooDeep(src_dir.to_string()));
    }
    let a = listing(src.list_dir(src_dir).map_err(src_err(src_dir))?);
    let b = listing(dst.list_dir(dst_dir).map_err(dst_err(dst_dir))?);
    let mismatch = |name: &str, detail: String| CopyError::Mismatch {
        source: child(src_dir, name),
        destination: child(dst_dir, name),
        detail,
    };
    // Both sorted: walk them side by side, so a missing and an extra entry
    // are told apart.
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                if x.1 != y.1 {
                    return Err(mismatch(
                        &x.0,
                        format!("a {} in the source, a {} in the copy", kind(x.1), kind(y.1)),
                    ));
                }
                i += 1;
                j += 1;
            }
            (Some(x), y) if y.is_none_or(|y| x.0 < y.0) => {
                return Err(mismatch(&x.0, "missing from the copy".to_string()));
            }
            (_, Some(y)) => {
                return Err(mismatch(
                    &y.0,
                    "in the copy but not in the source".to_string(),
                ));
            }
            (_, None) => unreachable!("the loop condition keeps one side non-empty"),
        }
    }
    let (mut files, mut bytes) = (0u64, 0u64);
    for (name, _, size) in a.iter().filter(|e| !e.1) {
        let s = child(src_dir, name);
        let d = child(dst_dir, name);
        let (hs, ns) = src.sha256_file(&s, buf).map_err(src_err(&s))?;
        let (hd, nd) = dst.sha256_file(&d, buf).map_err(dst_err(&d))?;
        let dsize = b.iter().find(|e| &e.0 == name).map_or(0, |e| e.2);
        if ns != *size || nd != dsize || ns != nd {
            return Err(mismatch(
                name,
                format!(
                    "sizes differ: source {size} bytes in its entry, {ns} read; copy {dsize} in its entry, {nd} read"
                ),
            ));
        }
        if hs != hd {
            return Err(mismatch(
                name,
                format!(
                    "contents differ: SHA-256 {} in the source, {} in the copy",
                    hex(&hs),
                    hex(&hd)
                ),
            ));
        }
        files += 1;
        bytes += ns;
    }
    sum.files += files;
    sum.bytes += bytes;
    let _ = writeln!(
        out,
        "verify: {src_dir} = {dst_dir} ({files} files, {bytes} bytes)"
    );
    for (name, ..) in a.iter().filter(|e| e.1) {
        sum.dirs += 1;
        verify_dir(
            src,
            &child(src_dir, name),
            dst,
            &child(dst_dir, name),
            buf,
            sum,
            out,
            depth + 1,
        )?;
    }
    Ok(())
}
