//! A deterministic file-system workload whose transcript and resulting image
//! depend only on the image it starts from: `cargo xtask matrix` runs it with
//! every driver and transport on private copies of one image and demands
//! identical transcripts and byte-identical images. So everything here is
//! fixed: contents come from fixed seeds ([`Content::Random`]), timestamps
//! from [`TIME`] through [`TimeSource::Fixed`], and nothing printed may depend
//! on the driver (no timings, no device or driver names).
//!
//! Phases, in order ([`Phase::ALL`]): `verify` (the whole tree with sizes and
//! SHA-256), `create` (directories; empty, small, multi-cluster and
//! multi-MiB files; a directory of 30 long names), `modify` (overwrite,
//! in-place patch, append, truncate, write after truncate), `rename-delete`
//! (rename in place and across directories, a directory rename, delete,
//! mkdir/rmdir, refusals), `flush`, `remount` (unmount, mount: done by
//! [`run`], or by a caller driving [`Workload::phase`] itself), and
//! `verify-after` (the whole tree again, then every file the workload wrote
//! checked against what it should hold).
//!
//! A refused operation (no space, a read-only device, a refusal the workload
//! asks for on purpose) is a transcript line, never a panic or an abort: the
//! workload then reads back what the file really holds, prints it, and goes on
//! from there, so a nearly full or read-only volume still gives a
//! deterministic transcript. Only a failed mount or unmount, or a failing
//! output, ends the run early ([`WorkloadError`]).
//!
//! Transcript, one fact per line, every line starting with `workload: `:
//!
//! ```text
//! workload: phase verify
//! workload: volume FAT32 "DDKTEST", id 20261127, 129046 clusters of 512 B, 62761 free
//! workload: file /README.TXT: 96 B, sha256 03fc5fc6…dabed4, modified 2026-01-01 12:00:00
//! workload: dir /Documents, modified 2026-01-01 12:00:00
//! workload: tree: 19 dirs, 50 files, 33915076 B
//! workload: phase create
//! workload: /WORKLOAD: absent
//! workload: mkdir /WORKLOAD: ok
//! workload: write /WORKLOAD/large.bin (5247201 B): ok
//! workload:   /WORKLOAD/large.bin: 5247201 B, sha256 e1381…c7f98
//! workload: rename /WORKLOAD/small.txt -> /WORKLOAD/log.txt: error: /WORKLOAD/log.txt: already exists
//! workload:   /WORKLOAD/log.txt: now 754 B, sha256 18c75…3db0b   <- after an error: what is there
//! workload:   /X: MISMATCH: 42 B, sha256 …; expected 43 B, sha256 …
//! workload: remount: ok
//! workload: checked 37 files and 9 removed paths: 0 mismatches
//! workload: summary: 77 operations, 7 errors, 0 mismatches
//! workload: END
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

use ddk::BlockDevice;
use lamfat::Write as _;
use sha2::{Digest, Sha256};

use crate::content::Content;
use crate::fs::{FsError, TimeSource, Timestamp, Volume};
use crate::manifest::hex;

/// Where the workload writes.
pub const WORK_DIR: &str = "/WORKLOAD";

/// The time every timestamp the workload causes carries.
pub const TIME: Timestamp = Timestamp::new(2026, 3, 14, 15, 9, 26);

/// The time source runs must mount with ([`TIME`], fixed).
pub const fn time_source() -> TimeSource {
    TimeSource::Fixed(TIME)
}

/// The workload's phases, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The whole tree: sizes, SHA-256, timestamps.
    Verify,
    /// Directories and files of every size class.
    Create,
    /// Overwrite, patch in place, append, truncate.
    Modify,
    /// Renames, deletes, mkdir/rmdir.
    RenameDelete,
    /// Every cached block written back.
    Flush,
    /// Unmount and mount again (by the caller of [`Workload::phase`]).
    Remount,
    /// The whole tree again, then the workload's files against the model.
    VerifyAfter,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 7] = [
        Phase::Verify,
        Phase::Create,
        Phase::Modify,
        Phase::RenameDelete,
        Phase::Flush,
        Phase::Remount,
        Phase::VerifyAfter,
    ];

    /// The name in the transcript.
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Verify => "verify",
            Phase::Create => "create",
            Phase::Modify => "modify",
            Phase::RenameDelete => "rename-delete",
            Phase::Flush => "flush",
            Phase::Remount => "remount",
            Phase::VerifyAfter => "verify-after",
        }
    }
}

/// Why the workload stopped early (everything else is a transcript line).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkloadError {
    /// The first mount failed.
    Mount(FsError),
    /// Unmounting failed (in the remount, or at the end).
    Unmount(FsError),
    /// Mounting again after the unmount failed.
    Remount(FsError),
    /// The caller's hook between phases refused to go on.
    Hook { after: Phase, message: String },
    /// The transcript could not be written.
    Output,
}

impl fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkloadError::Mount(e) => write!(f, "mount: {e}"),
            WorkloadError::Unmount(e) => write!(f, "unmount: {e}"),
            WorkloadError::Remount(e) => write!(f, "mount after unmount: {e}"),
            WorkloadError::Hook { after, message } => {
                write!(f, "after phase {}: {message}", after.name())
            }
            WorkloadError::Output => f.write_str("writing the transcript failed"),
        }
    }
}

impl From<fmt::Error> for WorkloadError {
    fn from(_: fmt::Error) -> Self {
        WorkloadError::Output
    }
}

/// Counters of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Operations attempted (writes, renames, deletes, ...).
    pub operations: u32,
    /// Operations refused (on purpose, or by a full or read-only volume).
    pub errors: u32,
    /// Files whose contents differed from what the workload wrote.
    pub mismatches: u32,
    /// Files in the last tree listing.
    pub files: u32,
    /// Directories in the last tree listing.
    pub dirs: u32,
    /// Bytes in the last tree listing.
    pub bytes: u64,
}

/// What [`run`] returns: the result and, whenever it survived, the device.
pub struct Outcome<D> {
    pub result: Result<Summary, WorkloadError>,
    /// The device back (unmounted), unless an unmount or mount lost it.
    pub device: Option<D>,
}

/// The workload's state between phases: what every file it wrote should hold.
pub struct Workload {
    /// Path (as the workload spells it) to expected contents.
    model: BTreeMap<String, Vec<u8>>,
    /// Paths the workload deleted (or renamed away); they must stay absent.
    gone: Vec<String>,
    summary: Summary,
    buf: Vec<u8>,
}

impl Default for Workload {
    fn default() -> Self {
        Self::new()
    }
}

fn w(name: &str) -> String {
    format!("{WORK_DIR}/{name}")
}

fn random(size: u64, seed: u64) -> Vec<u8> {
    Content::Random { size, seed }.to_vec()
}

/// Text of `len` bytes: numbered lines, so a shifted or torn write is visible
/// in a hex dump.
fn text(tag: &str, len: usize) -> Vec<u8> {
    let mut s = String::new();
    let mut n = 0;
    while s.len() < len {
        let _ = writeln!(
            s,
            "{tag} line {n:04}: the quick brown fox jumps over the lazy dog"
        );
        n += 1;
    }
    s.truncate(len);
    s.into_bytes()
}

impl Workload {
    /// A workload before its first phase.
    pub fn new() -> Self {
        Workload {
            model: BTreeMap::new(),
            gone: Vec::new(),
            summary: Summary::default(),
            // Odd-sized so reads straddle cluster and sector boundaries.
            buf: vec![0u8; 40_000],
        }
    }

    /// The counters so far.
    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// Runs one phase on `vol`. [`Phase::Remount`] needs the volume itself,
    /// which this cannot take: here it only prints its line, and the caller
    /// unmounts and mounts around it (as [`run`] does).
    pub fn phase<D: BlockDevice>(
        &mut self,
        phase: Phase,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
    ) -> Result<(), WorkloadError> {
        line(out, format_args!("phase {}", phase.name()))?;
        match phase {
            Phase::Verify => self.listing(vol, out),
            Phase::Create => self.create(vol, out),
            Phase::Modify => self.modify(vol, out),
            Phase::RenameDelete => self.rename_delete(vol, out),
            Phase::Flush => {
                self.summary.operations += 1;
                match vol.flush() {
                    Ok(()) => line(out, format_args!("flush: ok")),
                    Err(e) => self.refused(out, "flush", &e),
                }
            }
            Phase::Remount => Ok(()),
            Phase::VerifyAfter => {
                self.listing(vol, out)?;
                self.check_model(vol, out)
            }
        }
    }

    /// Prints the closing lines: the summary and `END`.
    pub fn finish(&self, out: &mut dyn fmt::Write) -> Result<(), WorkloadError> {
        let s = &self.summary;
        line(
            out,
            format_args!(
                "summary: {} operations, {} errors, {} mismatches",
                s.operations, s.errors, s.mismatches
            ),
        )?;
        line(out, format_args!("END"))
    }

    fn refused(
        &mut self,
        out: &mut dyn fmt::Write,
        what: &str,
        e: &FsError,
    ) -> Result<(), WorkloadError> {
        self.summary.errors += 1;
        line(out, format_args!("{what}: error: {e}"))
    }

    /// Runs one operation: `act` on the volume; if it succeeds, `update` on
    /// the model and every file in `touched` checked against it; if it fails,
    /// the error printed and the touched files' real state adopted.
    fn op<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
        what: &str,
        touched: &[&str],
        act: impl FnOnce(&Volume<D>) -> Result<(), FsError>,
        update: impl FnOnce(&mut BTreeMap<String, Vec<u8>>),
    ) -> Result<(), WorkloadError> {
        self.summary.operations += 1;
        match act(vol) {
            Ok(()) => {
                line(out, format_args!("{what}: ok"))?;
                update(&mut self.model);
                for p in touched {
                    self.check(vol, out, p)?;
                }
            }
            Err(e) => {
                self.refused(out, what, &e)?;
                for p in touched {
                    self.adopt(vol, out, p)?;
                }
            }
        }
        Ok(())
    }

    /// Size and SHA-256 of the file at `path` as the volume has it.
    fn actual(
        &mut self,
        vol: &Volume<impl BlockDevice>,
        path: &str,
    ) -> Result<(u64, [u8; 32]), FsError> {
        let (sha, len) = vol.sha256_file(path, &mut self.buf)?;
        Ok((len, sha))
    }

    /// Prints what `path` holds and whether that is what the model says.
    fn check<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
        path: &str,
    ) -> Result<(), WorkloadError> {
        let want = self.model.get(path).map(|b| {
            let sha: [u8; 32] = Sha256::digest(b).into();
            (b.len() as u64, sha)
        });
        let got = match vol.metadata(path) {
            Ok(md) if md.is_dir => return line(out, format_args!("  {path}: a directory")),
            Ok(_) => self.actual(vol, path).map(Some),
            Err(FsError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        };
        match (got, want) {
            (Ok(Some((len, sha))), Some(w)) if w == (len, sha) => {
                line(out, format_args!("  {path}: {len} B, sha256 {}", hex(&sha)))
            }
            (Ok(None), None) => line(out, format_args!("  {path}: absent")),
            (Ok(got), want) => {
                self.summary.mismatches += 1;
                line(
                    out,
                    format_args!(
                        "  {path}: MISMATCH: {}; expected {}",
                        State(got),
                        State(want)
                    ),
                )
            }
            (Err(e), _) => {
                self.summary.mismatches += 1;
                line(
                    out,
                    format_args!("  {path}: MISMATCH: reading it back: {e}"),
                )
            }
        }
    }

    /// After a refused operation nobody can say what `path` should hold: the
    /// model takes what it holds now, and the transcript shows it.
    fn adopt<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
        path: &str,
    ) -> Result<(), WorkloadError> {
        match vol.metadata(path) {
            Ok(md) if md.is_dir => line(out, format_args!("  {path}: a directory")),
            Ok(_) => match vol.read_file(path) {
                Ok(bytes) => {
                    let sha: [u8; 32] = Sha256::digest(&bytes).into();
                    let n = bytes.len();
                    self.model.insert(path.to_string(), bytes);
                    line(
                        out,
                        format_args!("  {path}: now {n} B, sha256 {}", hex(&sha)),
                    )
                }
                Err(e) => {
                    self.model.remove(path);
                    line(out, format_args!("  {path}: unreadable: {e}"))
                }
            },
            Err(FsError::NotFound(_)) => {
                self.model.remove(path);
                line(out, format_args!("  {path}: absent"))
            }
            Err(e) => {
                self.model.remove(path);
                line(out, format_args!("  {path}: unreadable: {e}"))
            }
        }
    }

    fn mkdir<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
        path: &str,
    ) -> Result<(), WorkloadError> {
        self.op(
            vol,
            out,
            &format!("mkdir {path}"),
            &[],
            |v| v.create_dir(path),
            |_| {},
        )
    }

    /// Creates or replaces `path` with `data`, written in 40 000-byte pieces
    /// so writes straddle sector and cluster boundaries.
    fn write<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
        path: &str,
        data: Vec<u8>,
    ) -> Result<(), WorkloadError> {
        let what = format!("write {path} ({} B)", data.len());
        self.op(
            vol,
            out,
            &what,
            &[path],
            |v| {
                let mut f = v.create_file(path)?;
                for piece in data.chunks(40_000) {
                    f.write_all(piece).map_err(|e| fat(e, path))?;
                }
                f.flush().map_err(|e| fat(e, path))
            },
            |m| {
                m.insert(path.to_string(), data.clone());
            },
        )
    }

    /// Writes `data` over the file at `path` from `offset` (inside the file).
    fn patch<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
        path: &str,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), WorkloadError> {
        let what = format!("patch {path} at {offset} ({} B)", data.len());
        self.op(
            vol,
            out,
            &what,
            &[path],
            |v| {
                let mut f = v.open_file(path)?;
                lamfat::Seek::seek(&mut f, lamfat::SeekFrom::Start(offset))
                    .map_err(|e| fat(e, path))?;
                f.write_all(&data).map_err(|e| fat(e, path))?;
                f.flush().map_err(|e| fat(e, path))
            },
            |m| {
                if let Some(b) = m.get_mut(path) {
                    let end = offset as usize + data.len();
                    if b.len() < end {
                        b.resize(end, 0);
                    }
                    b[offset as usize..end].copy_from_slice(&data);
                }
            },
        )
    }

    fn append<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
        path: &str,
        data: Vec<u8>,
    ) -> Result<(), WorkloadError> {
        let what = format!("append {path} ({} B)", data.len());
        self.op(
            vol,
            out,
            &what,
            &[path],
            |v| v.append_file(path, &data),
            |m| {
                m.entry(path.to_string())
                    .or_default()
                    .extend_from_slice(&data)
            },
        )
    }

    fn truncate<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
        path: &str,
        len: u64,
    ) -> Result<(), WorkloadError> {
        let what = format!("truncate {path} to {len} B");
        self.op(
            vol,
            out,
            &what,
            &[path],
            |v| v.truncate_file(path, len),
            |m| {
                if let Some(b) = m.get_mut(path) {
                    b.truncate(len as usize);
                }
            },
        )
    }

    /// Renames `from` to `to`; the model moves the file, or for a directory
    /// everything below it.
    fn rename<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
        from: &str,
        to: &str,
    ) -> Result<(), WorkloadError> {
        let what = format!("rename {from} -> {to}");
        let moved: Vec<String> = self
            .model
            .keys()
            .filter(|k| *k == from || k.starts_with(&format!("{from}/")))
            .cloned()
            .collect();
        let renamed: Vec<String> = moved
            .iter()
            .map(|k| format!("{to}{}", &k[from.len()..]))
            .collect();
        let mut touched: Vec<&str> = renamed.iter().map(String::as_str).collect();
        touched.push(from);
        let mut went = false;
        self.op(
            vol,
            out,
            &what,
            &touched,
            |v| v.rename(from, to),
            |m| {
                for (old, new) in moved.iter().zip(&renamed) {
                    if let Some(b) = m.remove(old) {
                        m.insert(new.clone(), b);
                    }
                }
                went = true;
            },
        )?;
        if went {
            self.gone.push(from.to_string());
        }
        Ok(())
    }

    /// Removes `path` (`all`: with everything below it).
    fn remove<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
        path: &str,
        all: bool,
    ) -> Result<(), WorkloadError> {
        let what = format!("{} {path}", if all { "remove-all" } else { "remove" });
        let below: Vec<String> = self
            .model
            .keys()
            .filter(|k| *k == path || k.starts_with(&format!("{path}/")))
            .cloned()
            .collect();
        let mut removed = false;
        self.op(
            vol,
            out,
            &what,
            &[path],
            |v| {
                if all {
                    v.remove_all(path)
                } else {
                    v.remove(path)
                }
            },
            |m| {
                for k in &below {
                    m.remove(k);
                }
                removed = true;
            },
        )?;
        if removed {
            self.gone.push(path.to_string());
        }
        Ok(())
    }

    /// The whole tree, depth-first in directory order, with sizes, SHA-256
    /// and modification times; then the volume's space figures.
    fn listing<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
    ) -> Result<(), WorkloadError> {
        match vol.info() {
            Ok(i) => line(
                out,
                format_args!(
                    "volume FAT32 \"{}\", id {:08X}, {} clusters of {} B, {} free",
                    i.label, i.volume_id, i.total_clusters, i.cluster_size, i.free_clusters
                ),
            )?,
            Err(e) => line(out, format_args!("volume: error: {e}"))?,
        }
        let mut entries = Vec::new();
        let walked = vol.walk("/", &mut |p, md| {
            entries.push((p.to_string(), md.clone()));
            Ok(())
        });
        let (mut files, mut dirs, mut bytes) = (0u32, 0u32, 0u64);
        for (p, md) in &entries {
            if md.is_dir {
                dirs += 1;
                line(out, format_args!("dir {p}, modified {}", md.modified))?;
                continue;
            }
            files += 1;
            match self.actual(vol, p) {
                Ok((len, sha)) => {
                    bytes += len;
                    let size_note = if len == md.size {
                        String::new()
                    } else {
                        format!(" (directory entry says {} B)", md.size)
                    };
                    line(
                        out,
                        format_args!(
                            "file {p}: {len} B{size_note}, sha256 {}, modified {}",
                            hex(&sha),
                            md.modified
                        ),
                    )?;
                }
                Err(e) => line(out, format_args!("file {p}: error: {e}"))?,
            }
        }
        if let Err(e) = walked {
            line(out, format_args!("tree: error: {e}"))?;
        }
        self.summary.files = files;
        self.summary.dirs = dirs;
        self.summary.bytes = bytes;
        line(
            out,
            format_args!("tree: {dirs} dirs, {files} files, {bytes} B"),
        )
    }

    fn create<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
    ) -> Result<(), WorkloadError> {
        // A previous run's directory (the same image booted twice) goes first,
        // so the rest behaves the same; on a fresh image there is none.
        match vol.metadata(WORK_DIR) {
            Ok(_) => self.remove(vol, out, WORK_DIR, true)?,
            Err(FsError::NotFound(_)) => line(out, format_args!("{WORK_DIR}: absent"))?,
            Err(e) => line(out, format_args!("{WORK_DIR}: error: {e}"))?,
        }
        self.gone.clear();
        for d in ["", "/sub", "/Many Files", "/doomed dir", "/Kept Directory"] {
            self.mkdir(vol, out, &format!("{WORK_DIR}{d}"))?;
        }
        self.write(vol, out, &w("empty.bin"), Vec::new())?;
        self.write(vol, out, &w("small.txt"), text("small", 214))?;
        self.write(vol, out, &w("multi.bin"), random(20_000, 1))?;
        // Several MiB: thousands of clusters, the cache's bypass path.
        self.write(vol, out, &w("large.bin"), random((5 << 20) + 4321, 2))?;
        self.write(vol, out, &w("sub/nested.bin"), random(70_000, 3))?;
        self.write(vol, out, &w("log.txt"), text("log", 100))?;
        self.write(vol, out, &w("to-rename.txt"), text("rename me", 300))?;
        self.write(vol, out, &w("moving.txt"), text("move me", 1000))?;
        self.write(vol, out, &w("doomed.txt"), text("doomed", 50))?;
        self.write(vol, out, &w("doomed dir/inside.bin"), random(3000, 4))?;
        self.write(vol, out, &w("Kept Directory/keep.txt"), text("keep", 10))?;
        // Long names take several directory entries each: the directory grows
        // over several clusters.
        for i in 0..30u64 {
            let p = w(&format!(
                "Many Files/file number {i:02} with a long name.txt"
            ));
            self.write(vol, out, &p, random(100 + 37 * i, 100 + i))?;
        }
        Ok(())
    }

    fn modify<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
    ) -> Result<(), WorkloadError> {
        // Overwrite: a whole small file replaced by a longer one ...
        self.write(vol, out, &w("small.txt"), text("overwritten", 1500))?;
        // ... and patches in place, across cluster boundaries.
        self.patch(vol, out, &w("multi.bin"), 9000, random(3000, 5))?;
        self.patch(
            vol,
            out,
            &w("large.bin"),
            (2 << 20) + 777,
            random(100_000, 6),
        )?;
        for i in 0..3 {
            let l = format!("appended line {i}: {}\n", "x".repeat(200 * i));
            self.append(vol, out, &w("log.txt"), l.into_bytes())?;
        }
        self.append(vol, out, &w("multi.bin"), random(10_000, 7))?;
        self.append(vol, out, &w("large.bin"), random(12_345, 8))?;
        self.truncate(vol, out, &w("large.bin"), (1 << 20) + 17)?;
        // At a multiple of every cluster size up to 4 KiB: the chain ends
        // exactly at a cluster boundary.
        self.truncate(vol, out, &w("multi.bin"), 4096)?;
        self.truncate(vol, out, &w("sub/nested.bin"), 0)?;
        // Written again after the truncation freed its chain.
        self.append(vol, out, &w("sub/nested.bin"), random(600, 9))?;
        // Extending by truncation is refused.
        self.truncate(vol, out, &w("small.txt"), 1_000_000)?;
        Ok(())
    }

    fn rename_delete<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
    ) -> Result<(), WorkloadError> {
        self.rename(
            vol,
            out,
            &w("to-rename.txt"),
            &w("Renamed, with a much longer name.txt"),
        )?;
        self.rename(vol, out, &w("moving.txt"), &w("sub/moved.txt"))?;
        self.rename(vol, out, &w("sub"), &w("Subdirectory Renamed"))?;
        // Refused on purpose: the target exists; a directory leaving its parent.
        self.rename(vol, out, &w("small.txt"), &w("log.txt"))?;
        self.rename(
            vol,
            out,
            &w("Kept Directory"),
            &w("Subdirectory Renamed/Kept"),
        )?;
        self.remove(vol, out, &w("doomed.txt"), false)?;
        // Not empty: refused; then with everything below it.
        self.remove(vol, out, &w("doomed dir"), false)?;
        self.remove(vol, out, &w("doomed dir"), true)?;
        for i in [5, 17, 29] {
            let p = w(&format!(
                "Many Files/file number {i:02} with a long name.txt"
            ));
            self.remove(vol, out, &p, false)?;
        }
        // Into the holes the deletions left.
        self.write(
            vol,
            out,
            &w("Many Files/late arrival.txt"),
            text("late", 700),
        )?;
        self.remove(vol, out, &w("no such file"), false)?;
        self.mkdir(vol, out, &w("tmpdir"))?;
        self.remove(vol, out, &w("tmpdir"), false)?;
        self.remove(vol, out, &w("Kept Directory"), false)?;
        self.mkdir(vol, out, &w("small.txt"))?;
        Ok(())
    }

    /// Every file the workload wrote against the model, and every path it
    /// removed still absent.
    fn check_model<D: BlockDevice>(
        &mut self,
        vol: &Volume<D>,
        out: &mut dyn fmt::Write,
    ) -> Result<(), WorkloadError> {
        let before = self.summary.mismatches;
        let paths: Vec<String> = self.model.keys().cloned().collect();
        for p in &paths {
            self.check(vol, out, p)?;
        }
        let gone = self.gone.clone();
        for p in &gone {
            if !self.model.contains_key(p) {
                self.check(vol, out, p)?;
            }
        }
        line(
            out,
            format_args!(
                "checked {} files and {} removed paths: {} mismatches",
                paths.len(),
                gone.len(),
                self.summary.mismatches - before
            ),
        )
    }
}

/// `N B, sha256 H`, or `absent`.
struct State(Option<(u64, [u8; 32])>);

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some((len, sha)) => write!(f, "{len} B, sha256 {}", hex(&sha)),
            None => f.write_str("absent"),
        }
    }
}

/// One transcript line, written with a single `write_str` so nothing the
/// kernel logs meanwhile can land inside it.
fn line(out: &mut dyn fmt::Write, args: fmt::Arguments<'_>) -> Result<(), WorkloadError> {
    let mut s = String::from("workload: ");
    s.write_fmt(args)?;
    s.push('\n');
    out.write_str(&s)?;
    Ok(())
}

fn fat(e: lamfat::Error<crate::fs::DiskIoError>, path: &str) -> FsError {
    FsError::from_fat(e, path)
}

/// Mounts `dev`, runs every phase (unmounting and mounting again for
/// [`Phase::Remount`]), unmounts, and prints the summary and `END`.
/// `after` runs after each phase with the volume mounted (the kernel swaps
/// drivers there); an `Err` from it ends the run. The device comes back
/// whenever an unmount did not lose it.
pub fn run<D: BlockDevice>(
    dev: D,
    time: TimeSource,
    out: &mut dyn fmt::Write,
    after: &mut dyn FnMut(Phase) -> Result<(), String>,
) -> Outcome<D> {
    let mut vol = match Volume::mount(dev, time) {
        Ok(v) => v,
        Err(e) => {
            return Outcome {
                result: Err(WorkloadError::Mount(e.error)),
                device: e.device,
            }
        }
    };
    let mut wl = Workload::new();
    for phase in Phase::ALL {
        let r = wl.phase(phase, &vol, out);
        if let Err(e) = r {
            return stop(vol, e);
        }
        if phase == Phase::Remount {
            let dev = match vol.unmount() {
                Ok(d) => d,
                Err(e) => {
                    return Outcome {
                        result: Err(WorkloadError::Unmount(e)),
                        device: None,
                    }
                }
            };
            vol = match Volume::mount(dev, time) {
                Ok(v) => v,
                Err(e) => {
                    return Outcome {
                        result: Err(WorkloadError::Remount(e.error)),
                        device: e.device,
                    }
                }
            };
            if let Err(e) = line(out, format_args!("remount: ok")) {
                return stop(vol, e);
            }
        }
        if let Err(message) = after(phase) {
            return stop(
                vol,
                WorkloadError::Hook {
                    after: phase,
                    message,
                },
            );
        }
    }
    let device = match vol.unmount() {
        Ok(d) => d,
        Err(e) => {
            return Outcome {
                result: Err(WorkloadError::Unmount(e)),
                device: None,
            }
        }
    };
    let result = wl.finish(out).map(|()| wl.summary());
    Outcome {
        result,
        device: Some(device),
    }
}

/// Ends a run early with `error`, unmounting so the device comes back.
fn stop<D: BlockDevice>(vol: Volume<D>, error: WorkloadError) -> Outcome<D> {
    Outcome {
        result: Err(error),
        device: vol.unmount().ok(),
    }
}
