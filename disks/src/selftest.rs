//! The file-system self-test the kernel runs with `run=selftest`: mount, walk,
//! verify every file against the stored checksum file, then create, overwrite,
//! append and delete (including a multi-MiB file and a long-named file in a new
//! nested directory), flush, re-mount, verify everything again, and unmount so the
//! image is left clean for `fsck.fat -n`.
//!
//! Output, one line per step through a `core::fmt::Write`:
//!
//! ```text
//! selftest: <step> ok (<details>)
//! selftest: <step> FAILED: <error>
//! selftest: PASS (15/15 steps ok)        <- or: selftest: FAIL (2 of 15 steps failed)
//! ```
//!
//! Steps, in order: `mount`, `walk`, `verify-manifest`, `prepare`, `mkdir`,
//! `create`, `write-large`, `overwrite`, `append`, `delete`, `flush`, `remount`,
//! `verify-after-remount`, `unmount`, `batch-read` (scattered 4 KiB reads
//! through `BlockDevice::read_many`, the drivers' queue-depth path, must equal
//! the same reads one at a time; last, so the block requests before it are
//! numbered as they always were). If `mount`, `remount` or `unmount` fails
//! the later steps cannot run and are reported as `skipped`.
//!
//! Everything the test writes lives under [`WORK_DIR`]; a previous run's work
//! directory is removed first (`prepare`), so the test can run again on the same
//! image. Files outside the checksum file are counted as `extra`, not failures.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use ddk::{BlockDevice, Lba, ReadRequest};
use lamfat::{Seek as _, Write as _};
use sha2::{Digest, Sha256};

use crate::content::Content;
use crate::fs::{FsError, TimeSource, Volume};
use crate::manifest::{hex, parse_checksums, ChecksumEntry};

/// Where the self-test writes.
pub const WORK_DIR: &str = "/SELFTEST.TMP";
/// Default checksum file location.
pub const CHECKSUM_PATH: &str = "/MANIFEST.SHA";

/// Knobs of the self-test.
#[derive(Clone, Debug)]
pub struct SelftestOptions {
    /// Path of the checksum file in the image.
    pub checksum_path: String,
    /// Size of the large file written (`write-large`).
    pub large_file_bytes: u64,
}

impl Default for SelftestOptions {
    /// `/MANIFEST.SHA`, a 4 MiB large file.
    fn default() -> Self {
        SelftestOptions {
            checksum_path: CHECKSUM_PATH.to_string(),
            large_file_bytes: 4 << 20,
        }
    }
}

/// The result of a run.
pub struct SelftestOutcome<D> {
    /// Every step passed.
    pub passed: bool,
    /// Steps reported (skipped ones included).
    pub steps: usize,
    /// Steps that failed or were skipped.
    pub failures: usize,
    /// The device back, unless mounting (or the final unmount) lost it.
    pub device: Option<D>,
}

/// Runs the self-test with default options.
pub fn run<D: BlockDevice>(
    dev: D,
    time: TimeSource,
    out: &mut dyn fmt::Write,
) -> SelftestOutcome<D> {
    run_with(dev, time, &SelftestOptions::default(), out)
}

/// What a file the test wrote must contain: generated content, with byte
/// patches applied and bytes appended.
struct Expected {
    path: String,
    base: Content,
    patches: Vec<(u64, Vec<u8>)>,
    appended: Vec<u8>,
}

impl Expected {
    fn new(path: String, base: Content) -> Self {
        Expected {
            path,
            base,
            patches: Vec::new(),
            appended: Vec::new(),
        }
    }

    fn len(&self) -> u64 {
        self.base.len() + self.appended.len() as u64
    }

    /// SHA-256 of the expected bytes, generated in `buf`-sized pieces.
    fn sha256(&self, buf: &mut [u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        let mut r = self.base.reader();
        let mut pos = 0u64;
        loop {
            let n = r.fill(buf);
            if n == 0 {
                break;
            }
            for (off, bytes) in &self.patches {
                let (ps, pe) = (*off, *off + bytes.len() as u64);
                let (cs, ce) = (pos, pos + n as u64);
                let (s, e) = (ps.max(cs), pe.min(ce));
                if s < e {
                    buf[(s - cs) as usize..(e - cs) as usize]
                        .copy_from_slice(&bytes[(s - ps) as usize..(e - ps) as usize]);
                }
            }
            h.update(&buf[..n]);
            pos += n as u64;
        }
        h.update(&self.appended);
        h.finalize().into()
    }
}

struct Run<'o> {
    out: &'o mut dyn fmt::Write,
    steps: usize,
    failures: usize,
}

impl Run<'_> {
    fn report(&mut self, step: &str, r: Result<String, String>) -> bool {
        self.steps += 1;
        // Output errors cannot be reported anywhere else; the verdict still counts.
        let _ = match &r {
            Ok(d) if d.is_empty() => writeln!(self.out, "selftest: {step} ok"),
            Ok(d) => writeln!(self.out, "selftest: {step} ok ({d})"),
            Err(e) => {
                self.failures += 1;
                writeln!(self.out, "selftest: {step} FAILED: {e}")
            }
        };
        r.is_ok()
    }

    fn skip(&mut self, steps: &[&str], why: &str) {
        for s in steps {
            self.steps += 1;
            self.failures += 1;
            let _ = writeln!(self.out, "selftest: {s} skipped ({why})");
        }
    }
}

/// `batch-read`: 16 scattered 4 KiB reads in one `read_many` (a driver with
/// a batch path keeps them in flight together) against the same reads one
/// at a time.
fn batch_read<D: BlockDevice>(dev: &mut D) -> Result<String, String> {
    const N: u64 = 16;
    const SPAN: usize = 4096;
    let bs = dev.block_size();
    if bs == 0 || !SPAN.is_multiple_of(bs) {
        return Ok(format!("not run: block size {bs}"));
    }
    let per = (SPAN / bs) as u64;
    let slots = dev.block_count() / per;
    if slots < N {
        return Ok(String::from("not run: device under 64 KiB"));
    }
    let lbas: Vec<Lba> = (0..N)
        .map(|i| Lba::new((i * 7919 + 3) % slots * per))
        .collect();
    let mut batch = vec![0u8; N as usize * SPAN];
    let mut reqs: Vec<ReadRequest<'_>> = batch
        .chunks_mut(SPAN)
        .zip(&lbas)
        .map(|(buf, &lba)| ReadRequest { lba, buf })
        .collect();
    // Device errors read as every other step's do.
    let io = |e: ddk::BlockError| FsError::Io(crate::stream::StreamError::Device(e));
    dev.read_many(&mut reqs)
        .map_err(|e| format!("{} (read_many)", io(e)))?;
    drop(reqs);
    let mut one = vec![0u8; SPAN];
    for (i, &lba) in lbas.iter().enumerate() {
        dev.read_blocks(lba, &mut one)
            .map_err(|e| format!("{} (read at LBA {})", io(e), lba.as_u64()))?;
        if one[..] != batch[i * SPAN..(i + 1) * SPAN] {
            return Err(format!(
                "batch read {i} (LBA {}) differs from the same read alone",
                lba.as_u64()
            ));
        }
    }
    Ok(format!("{N} x 4 KiB in one batch = single reads"))
}

/// Formats a byte count as `41.2 MiB`, `3.0 KiB`, `17 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut unit = 0;
    let mut scaled = n * 10 / 1024;
    while scaled >= 10 * 1024 && unit + 1 < UNITS.len() {
        scaled /= 1024;
        unit += 1;
    }
    format!("{}.{} {}", scaled / 10, scaled % 10, UNITS[unit])
}

/// Runs the self-test.
pub fn run_with<D: BlockDevice>(
    dev: D,
    time: TimeSource,
    opts: &SelftestOptions,
    out: &mut dyn fmt::Write,
) -> SelftestOutcome<D> {
    let mut run = Run {
        out,
        steps: 0,
        failures: 0,
    };
    let mut buf = vec![0u8; 64 * 1024];
    let after_mount = [
        "walk",
        "verify-manifest",
        "prepare",
        "mkdir",
        "create",
        "write-large",
        "overwrite",
        "append",
        "delete",
        "flush",
        "remount",
        "verify-after-remount",
        "unmount",
        "batch-read",
    ];

    let (vol, device) = match Volume::mount(dev, time) {
        Ok(v) => {
            let d = mount_details(&v);
            run.report("mount", d.map_err(|e| e.to_string()));
            (Some(v), None)
        }
        Err(e) => {
            run.report("mount", Err(e.error.to_string()));
            run.skip(&after_mount, "mount failed");
            (None, e.device)
        }
    };
    let Some(vol) = vol else {
        return finish(run, device);
    };

    // walk
    let mut files: Vec<(String, u64)> = Vec::new();
    let mut dirs = 0usize;
    let walked = vol.walk("/", &mut |p, md| {
        if md.is_dir {
            dirs += 1;
        } else {
            files.push((p.to_string(), md.size));
        }
        Ok(())
    });
    let total: u64 = files.iter().map(|f| f.1).sum();
    run.report(
        "walk",
        walked
            .map(|_| {
                format!(
                    "{} dirs, {} files, {}",
                    dirs,
                    files.len(),
                    human_bytes(total)
                )
            })
            .map_err(|e| e.to_string()),
    );

    // verify-manifest
    let manifest = load_manifest(&vol, &opts.checksum_path);
    let r = match &manifest {
        Ok(m) => verify_manifest(&vol, m, &files, &opts.checksum_path, &mut buf),
        Err(e) => Err(e.clone()),
    };
    run.report("verify-manifest", r);

    // The mutations. Each step's closure returns its detail text.
    let mut expected: Vec<Expected> = Vec::new();
    let mut gone: Vec<String> = Vec::new();
    let deep = format!("{WORK_DIR}/Nested Level One/Second Level - ünïcode/Third level dir");
    let long_name = format!(
        "{deep}/A Long File Name, Mixed Case, with spaces and ünïcode ✓ (more than 8.3).txt"
    );
    let hello = format!("{WORK_DIR}/hello.txt");
    let large = format!("{WORK_DIR}/Large File.bin");
    let log = format!("{WORK_DIR}/append log.txt");
    let doomed_dir = format!("{WORK_DIR}/Doomed Directory");
    let doomed = format!("{WORK_DIR}/doomed file.txt");

    let r = (|| -> Result<String, FsError> {
        match vol.metadata(WORK_DIR) {
            Ok(_) => {
                vol.remove_all(WORK_DIR)?;
                Ok("removed a previous run's work directory".to_string())
            }
            Err(FsError::NotFound(_)) => Ok(String::new()),
            Err(e) => Err(e),
        }
    })();
    run.report("prepare", r.map_err(|e| e.to_string()));

    let r = (|| -> Result<String, FsError> {
        vol.create_dir(WORK_DIR)?;
        vol.create_dir_all(&deep)?;
        vol.create_dir(&doomed_dir)?;
        for d in [WORK_DIR, deep.as_str(), doomed_dir.as_str()] {
            if !vol.metadata(d)?.is_dir {
                return Err(FsError::NotADirectory(d.to_string()));
            }
        }
        // Creating an existing directory must be refused, not duplicated.
        match vol.create_dir(&deep) {
            Err(FsError::AlreadyExists(_)) => {}
            other => {
                return Err(FsError::InvalidInput(format!(
                    "{deep}: second mkdir returned {other:?}"
                )))
            }
        }
        Ok(format!("{} levels deep", deep.matches('/').count()))
    })();
    run.report("mkdir", r.map_err(|e| e.to_string()));

    let r = (|| -> Result<String, FsError> {
        let mut n = 0;
        for (path, text) in [
            (hello.as_str(), "Hello from the self-test.\n".to_string()),
            (
                long_name.as_str(),
                "a long name in a nested directory\n".to_string(),
            ),
            (doomed.as_str(), "this file will be deleted\n".to_string()),
            (
                format!("{doomed_dir}/inside.txt").as_str(),
                "inside a directory that will be deleted\n".to_string(),
            ),
        ] {
            vol.write_file(path, text.as_bytes())?;
            check_bytes(&vol, path, text.as_bytes())?;
            n += 1;
        }
        vol.write_file(&format!("{WORK_DIR}/empty"), b"")?;
        check_bytes(&vol, &format!("{WORK_DIR}/empty"), b"")?;
        expected.push(Expected::new(
            hello.clone(),
            Content::Bytes(b"Hello from the self-test.\n".to_vec()),
        ));
        expected.push(Expected::new(
            long_name.clone(),
            Content::Bytes(b"a long name in a nested directory\n".to_vec()),
        ));
        expected.push(Expected::new(
            format!("{WORK_DIR}/empty"),
            Content::Bytes(Vec::new()),
        ));
        Ok(format!("{} files", n + 1))
    })();
    run.report("create", r.map_err(|e| e.to_string()));

    let r = (|| -> Result<String, FsError> {
        let content = Content::Random {
            size: opts.large_file_bytes,
            seed: 0x5E1F_7E57,
        };
        {
            let mut f = vol.create_file(&large)?;
            let mut rd = content.reader();
            // Odd-sized pieces so writes straddle cluster and sector boundaries.
            let piece = 40_000.min(buf.len());
            loop {
                let n = rd.fill(&mut buf[..piece]);
                if n == 0 {
                    break;
                }
                f.write_all(&buf[..n]).map_err(|e| fat(e, &large))?;
            }
            f.flush().map_err(|e| fat(e, &large))?;
        }
        let e = Expected::new(large.clone(), content);
        check_expected(&vol, &e, &mut buf)?;
        expected.push(e);
        Ok(human_bytes(opts.large_file_bytes))
    })();
    run.report("write-large", r.map_err(|e| e.to_string()));

    let r = (|| -> Result<String, FsError> {
        // Replace a whole file with shorter content (the tail must go) ...
        let new = b"overwritten\n";
        vol.write_file(&hello, new)?;
        let e = expected
            .iter_mut()
            .find(|e| e.path == hello)
            .ok_or_else(|| FsError::NotFound(hello.clone()))?;
        *e = Expected::new(hello.clone(), Content::Bytes(new.to_vec()));
        check_bytes(&vol, &hello, new)?;
        // ... and patch the middle of the large file in place, across clusters.
        let off = opts.large_file_bytes / 2 + 123;
        let patch: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8 ^ 0xA5).collect();
        if off + patch.len() as u64 <= opts.large_file_bytes {
            let mut f = vol.open_file(&large)?;
            f.seek(lamfat::SeekFrom::Start(off))
                .map_err(|e| fat(e, &large))?;
            f.write_all(&patch).map_err(|e| fat(e, &large))?;
            f.flush().map_err(|e| fat(e, &large))?;
            drop(f);
            if let Some(e) = expected.iter_mut().find(|e| e.path == large) {
                e.patches.push((off, patch));
                check_expected(&vol, e, &mut buf)?;
            }
        }
        Ok("2 files".to_string())
    })();
    run.report("overwrite", r.map_err(|e| e.to_string()));

    let r = (|| -> Result<String, FsError> {
        let mut log_e = Expected::new(log.clone(), Content::Bytes(Vec::new()));
        for i in 0..3 {
            let line = format!("append line {i}: {}\n", "x".repeat(300 * i));
            vol.append_file(&log, line.as_bytes())?;
            log_e.appended.extend_from_slice(line.as_bytes());
        }
        check_expected(&vol, &log_e, &mut buf)?;
        expected.push(log_e);
        let tail: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        vol.append_file(&large, &tail)?;
        if let Some(e) = expected.iter_mut().find(|e| e.path == large) {
            e.appended.extend_from_slice(&tail);
            check_expected(&vol, e, &mut buf)?;
        }
        Ok("2 files".to_string())
    })();
    run.report("append", r.map_err(|e| e.to_string()));

    let r = (|| -> Result<String, FsError> {
        vol.remove(&doomed)?;
        match vol.remove(&doomed_dir) {
            Err(FsError::DirectoryNotEmpty(_)) => {}
            other => {
                return Err(FsError::InvalidInput(format!(
                    "{doomed_dir}: removing a non-empty directory returned {other:?}"
                )))
            }
        }
        vol.remove_all(&doomed_dir)?;
        for p in [&doomed, &doomed_dir] {
            match vol.metadata(p) {
                Err(FsError::NotFound(_)) => gone.push(p.clone()),
                Ok(_) => {
                    return Err(FsError::AlreadyExists(format!(
                        "{p} (still there after rm)"
                    )))
                }
                Err(e) => return Err(e),
            }
        }
        Ok("1 file, 1 directory tree".to_string())
    })();
    run.report("delete", r.map_err(|e| e.to_string()));

    let r = vol.flush().map(|_| String::new());
    run.report("flush", r.map_err(|e| e.to_string()));

    let vol = match vol.unmount() {
        Err(e) => {
            run.report("remount", Err(format!("unmount: {e}")));
            run.skip(
                &["verify-after-remount", "unmount", "batch-read"],
                "remount failed",
            );
            return finish(run, None);
        }
        Ok(dev) => match Volume::mount(dev, time) {
            Ok(v) => {
                run.report("remount", Ok(String::new()));
                v
            }
            Err(e) => {
                run.report("remount", Err(e.error.to_string()));
                run.skip(
                    &["verify-after-remount", "unmount", "batch-read"],
                    "remount failed",
                );
                return finish(run, e.device);
            }
        },
    };

    let r = (|| -> Result<String, String> {
        let mut files: Vec<(String, u64)> = Vec::new();
        vol.walk("/", &mut |p, md| {
            if !md.is_dir {
                files.push((p.to_string(), md.size));
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        let m = manifest.clone()?;
        let mut detail = verify_manifest(&vol, &m, &files, &opts.checksum_path, &mut buf)?;
        for e in &expected {
            check_expected(&vol, e, &mut buf).map_err(|e| e.to_string())?;
        }
        for g in &gone {
            if vol.metadata(g).is_ok() {
                return Err(format!("{g}: deleted before the remount, back after it"));
            }
        }
        detail.push_str(&format!(", {} new files checked", expected.len()));
        Ok(detail)
    })();
    run.report("verify-after-remount", r);

    match vol.unmount() {
        Ok(mut dev) => {
            run.report("unmount", Ok(String::new()));
            run.report("batch-read", batch_read(&mut dev));
            finish(run, Some(dev))
        }
        Err(e) => {
            run.report("unmount", Err(e.to_string()));
            run.skip(&["batch-read"], "unmount failed");
            finish(run, None)
        }
    }
}

fn finish<D>(run: Run<'_>, device: Option<D>) -> SelftestOutcome<D> {
    let passed = run.failures == 0;
    let _ = if passed {
        writeln!(
            run.out,
            "selftest: PASS ({}/{} steps ok)",
            run.steps, run.steps
        )
    } else {
        writeln!(
            run.out,
            "selftest: FAIL ({} of {} steps failed)",
            run.failures, run.steps
        )
    };
    SelftestOutcome {
        passed,
        steps: run.steps,
        failures: run.failures,
        device,
    }
}

fn fat(e: lamfat::Error<crate::fs::DiskIoError>, path: &str) -> FsError {
    match e {
        lamfat::Error::NotEnoughSpace => FsError::NoSpace,
        lamfat::Error::Io(crate::fs::DiskIoError::Stream(s)) => FsError::Io(s),
        other => FsError::InvalidInput(format!("{path}: {other}")),
    }
}

fn mount_details<D: BlockDevice>(v: &Volume<D>) -> Result<String, FsError> {
    let i = v.info()?;
    Ok(format!(
        "FAT32 \"{}\", id {:08X}, {}, {} clusters of {} B, {} free",
        i.label,
        i.volume_id,
        human_bytes(i.total_bytes()),
        i.total_clusters,
        i.cluster_size,
        human_bytes(i.free_bytes())
    ))
}

/// Read-only check of a mounted volume against its checksum file: walks every
/// directory, verifies every listed file's size and SHA-256. On success returns
/// the detail text `"<n> files, <size>, <k> extra"` that `verify-manifest` prints.
pub fn verify_volume<D: BlockDevice>(
    vol: &Volume<D>,
    checksum_path: &str,
) -> Result<String, String> {
    let mut files: Vec<(String, u64)> = Vec::new();
    vol.walk("/", &mut |p, md| {
        if !md.is_dir {
            files.push((p.to_string(), md.size));
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    let m = load_manifest(vol, checksum_path)?;
    let mut buf = vec![0u8; 64 * 1024];
    verify_manifest(vol, &m, &files, checksum_path, &mut buf)
}

fn load_manifest<D: BlockDevice>(v: &Volume<D>, path: &str) -> Result<Vec<ChecksumEntry>, String> {
    let bytes = v.read_file(path).map_err(|e| e.to_string())?;
    let text = core::str::from_utf8(&bytes).map_err(|_| format!("{path} is not UTF-8"))?;
    let m = parse_checksums(text).map_err(|e| format!("{path}: {e}"))?;
    if m.is_empty() {
        return Err(format!("{path} lists no files"));
    }
    Ok(m)
}

fn verify_manifest<D: BlockDevice>(
    v: &Volume<D>,
    m: &[ChecksumEntry],
    walked: &[(String, u64)],
    checksum_path: &str,
    buf: &mut [u8],
) -> Result<String, String> {
    let mut bytes = 0;
    for e in m {
        let (sha, len) = v
            .sha256_file(&e.path, buf)
            .map_err(|err| format!("{}: {err}", e.path))?;
        if len != e.size {
            return Err(format!(
                "{}: {} bytes, manifest says {}",
                e.path, len, e.size
            ));
        }
        if sha != e.sha256 {
            return Err(format!(
                "{}: sha256 {} differs from the manifest's {}",
                e.path,
                hex(&sha),
                hex(&e.sha256)
            ));
        }
        bytes += len;
    }
    let lower = |s: &str| s.to_lowercase();
    let mut missing_from_walk = 0;
    for e in m {
        if !walked.iter().any(|(p, _)| lower(p) == lower(&e.path)) {
            missing_from_walk += 1;
        }
    }
    if missing_from_walk > 0 {
        return Err(format!(
            "{missing_from_walk} manifest files open by path but were not seen by the directory walk"
        ));
    }
    let work = lower(WORK_DIR);
    let extra = walked
        .iter()
        .filter(|(p, _)| {
            let lp = lower(p);
            lp != lower(checksum_path)
                && !lp.starts_with(&format!("{work}/"))
                && !m.iter().any(|e| lower(&e.path) == lp)
        })
        .count();
    Ok(format!(
        "{} files, {}, {} extra",
        m.len(),
        human_bytes(bytes),
        extra
    ))
}

fn check_bytes<D: BlockDevice>(v: &Volume<D>, path: &str, want: &[u8]) -> Result<(), FsError> {
    let got = v.read_file(path)?;
    if got != want {
        return Err(FsError::InvalidInput(format!(
            "{path}: read back {} bytes that differ from the {} written",
            got.len(),
            want.len()
        )));
    }
    Ok(())
}

fn check_expected<D: BlockDevice>(
    v: &Volume<D>,
    e: &Expected,
    buf: &mut [u8],
) -> Result<(), FsError> {
    let (sha, len) = v.sha256_file(&e.path, buf)?;
    if len != e.len() {
        return Err(FsError::InvalidInput(format!(
            "{}: {} bytes, expected {}",
            e.path,
            len,
            e.len()
        )));
    }
    if sha != e.sha256(buf) {
        return Err(FsError::InvalidInput(format!(
            "{}: contents differ from what was written",
            e.path
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_formats() {
        assert_eq!(human_bytes(17), "17 B");
        assert_eq!(human_bytes(3 * 1024), "3.0 KiB");
        assert_eq!(human_bytes(41 * 1024 * 1024 + 210 * 1024), "41.2 MiB");
    }

    #[test]
    fn expected_applies_patches_and_appends() {
        let base = Content::Random {
            size: 100_000,
            seed: 3,
        };
        let mut want = base.to_vec();
        let mut e = Expected::new("/x".into(), base);
        e.patches.push((70_000, vec![1, 2, 3]));
        want[70_000..70_003].copy_from_slice(&[1, 2, 3]);
        e.appended.extend_from_slice(b"tail");
        want.extend_from_slice(b"tail");
        let mut buf = vec![0u8; 4096];
        let got: [u8; 32] = Sha256::digest(&want).into();
        assert_eq!(e.sha256(&mut buf), got);
        assert_eq!(e.len(), want.len() as u64);
    }
}
