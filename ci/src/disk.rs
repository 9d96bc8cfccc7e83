//! `cargo xtask disk …` and the default image every boot without `--disk`
//! gets: built from `disks/manifests/default.manifest` by the deterministic
//! builder in the `disks` crate, and checked with `fsck.fat -n`.
//!
//! Two more kinds of image come from other tools, so the kernel is not only
//! ever tested against volumes its own FAT library wrote:
//! - [`empty_image`]: a fresh FAT32 volume from `mkfs.fat -F 32` (the
//!   destination of `run=copytree`);
//! - [`foreign_image`]: `mkfs.fat` plus mtools (`mmd`, `mcopy`), whose long-name
//!   and short-name generation, directory layout and cluster allocation are
//!   theirs, not lamfat's.

// `fsck` lives in the leaf module `fsck.rs` (the image builder in
// `disk_from` checks its output with it too); callers keep `disk::fsck`.
pub use crate::fsck::fsck;
use crate::{artifacts, setup};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn default_manifest() -> PathBuf {
    artifacts::workspace_root().join("disks/manifests/default.manifest")
}

pub fn default_image() -> PathBuf {
    artifacts::disks_dir().join("default.img")
}

/// Where `disk build --manifest M` writes without `--out`: the image named
/// after the manifest, `target/disks/NAME.img` for `NAME.manifest`, so one
/// manifest never replaces another's image (default.manifest: default.img).
pub fn image_for(manifest: &Path) -> PathBuf {
    let stem = manifest
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into());
    artifacts::disks_dir().join(format!("{stem}.img"))
}

fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Builds `out` from `manifest` unless it is newer than both the manifest and
/// this runner (which links the builder).
pub fn ensure_image(manifest: &Path, out: &Path) -> Result<(), String> {
    let exe = std::env::current_exe().ok();
    let inputs = [Some(manifest.to_path_buf()), exe];
    if let Some(built) = mtime(out) {
        let fresh = inputs
            .iter()
            .flatten()
            .all(|i| mtime(i).is_some_and(|t| t <= built));
        if fresh {
            return Ok(());
        }
    }
    build(manifest, out)
}

pub fn build(manifest: &Path, out: &Path) -> Result<(), String> {
    let text =
        std::fs::read_to_string(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let spec = disks::manifest::ImageSpec::parse(&text)
        .map_err(|e| format!("{}: {e}", manifest.display()))?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // Build next to the target and rename, so an interrupted build never
    // leaves a half-written image that looks fresh.
    let tmp = out.with_extension("img.part");
    let started = std::time::Instant::now();
    let report = disks::build::build_image(&spec, &tmp)
        .map_err(|e| format!("building {}: {e}", out.display()))?;
    std::fs::rename(&tmp, out).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!(
        "xtask: built {} ({} files, {} dirs, {:.1} MiB of content) in {:.2} s",
        out.display(),
        report.files,
        report.dirs,
        report.content_bytes as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A private copy of the default image for one boot that writes to it.
pub fn scratch_copy(name: &str) -> Result<PathBuf, String> {
    scratch_copy_of(&default_manifest(), name)
}

/// A scratch copy of the image built from `manifest` (built first if stale).
pub fn scratch_copy_of(manifest: &Path, name: &str) -> Result<PathBuf, String> {
    let src = image_for(manifest);
    ensure_image(manifest, &src)?;
    let dst = artifacts::disks_dir().join(format!("scratch-{name}.img"));
    std::fs::copy(&src, &dst)
        .map_err(|e| format!("copying {} to {}: {e}", src.display(), dst.display()))?;
    Ok(dst)
}

/// Runs `cmd`; the error names it and carries its output.
fn run_tool(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Creates `path` as a `mib` MiB file formatted by `mkfs.fat -F 32` with
/// label `label`: sector 0 is the boot sector (no partition table), the
/// volume id and times fixed (`--invariant`), so the same arguments give the
/// same bytes.
fn mkfs(path: &Path, mib: u32, label: &str) -> Result<(), String> {
    let mkfs = setup::find("mkfs.fat").ok_or("mkfs.fat not found (package dosfstools)")?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let _ = std::fs::remove_file(path);
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.set_len(u64::from(mib) << 20)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    drop(file);
    run_tool(
        Command::new(mkfs)
            .args(["-F", "32", "-n", label, "--invariant", "--mbr=n"])
            .arg(path),
    )
}

/// Smallest FAT32 image the kernel mounts: FAT32 needs 65525 clusters, and
/// mkfs.fat's smallest cluster is 512 bytes.
pub const MIN_EMPTY_MIB: u32 = 33;

/// A fresh, empty FAT32 image of `mib` MiB at `path` (`mkfs.fat -F 32`,
/// label `EMPTY`), checked with `fsck.fat -n`. Built next to `path` and
/// renamed, so an interrupted run never leaves a half-formatted image.
pub fn empty_image(path: &Path, mib: u32) -> Result<(), String> {
    if !(MIN_EMPTY_MIB..=32 * 1024).contains(&mib) {
        return Err(format!(
            "an empty FAT32 image must be {MIN_EMPTY_MIB} MiB to 32 GiB, not {mib} MiB"
        ));
    }
    let tmp = path.with_extension("img.part");
    mkfs(&tmp, mib, "EMPTY")?;
    fsck(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// What [`foreign_image`] writes: (path, content). Directories are made with
/// `mmd` first, in the order their files appear.
pub fn foreign_files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "/README.TXT".into(),
            b"hello from dosfstools and mtools\n".to_vec(),
        ),
        (
            "/Long Directory Name/Nested Folder/deep file with spaces.txt".into(),
            b"written by mtools into a nested long-named folder\n".to_vec(),
        ),
        (
            "/\u{dc}n\u{ef}c\u{f6}d\u{e9} dir/na\u{ef}ve caf\u{e9}.txt".into(),
            b"non-ASCII long names\n".to_vec(),
        ),
        ("/big/blob.bin".into(), foreign_blob()),
    ];
    for n in 1..=30 {
        files.push((
            format!("/many/file-{n:02} with a long name.txt"),
            format!("small file number {n:02}\n").into_bytes(),
        ));
    }
    files
}

/// `/big/blob.bin` of the foreign image: 3 MiB of the disks crate's seeded
/// pseudo-random stream (SplitMix64, seed 0xF0E1), the same on every build.
pub fn foreign_blob() -> Vec<u8> {
    disks::content::Content::Random {
        size: 3 << 20,
        seed: 0xF0E1,
    }
    .to_vec()
}

/// 2026-01-01 12:00:00 UTC: the time of every entry in [`foreign_image`].
pub const FOREIGN_EPOCH: u64 = 1_767_268_800;

/// A 64 MiB FAT32 image at `path` written by other tools than ours:
/// `mkfs.fat -F 32 -n FOREIGN`, then mtools (`mmd`, `mcopy -i IMAGE`) for the
/// directories and files of [`foreign_files`]: an 8.3 name, long names with
/// blanks nested two deep, non-ASCII long names (`Ünïcödé dir/naïve café.txt`),
/// a 3 MiB file and 30 long-named files in one directory. Checked afterwards
/// with `fsck.fat -n` and by reading every file back through the `disks`
/// crate's own mount, so a tool that stored a name or byte differently is
/// caught here rather than in a boot.
pub fn foreign_image(path: &Path) -> Result<(), String> {
    let mmd = setup::find("mmd").ok_or("mmd not found (package mtools)")?;
    let mcopy = setup::find("mcopy").ok_or("mcopy not found (package mtools)")?;
    let tmp = path.with_extension("img.part");
    mkfs(&tmp, 64, "FOREIGN")?;
    let files = foreign_files();
    // The contents go through host files: mcopy copies files, not bytes.
    let stage = artifacts::disks_dir().join(format!("foreign-stage-{}", std::process::id()));
    std::fs::create_dir_all(&stage).map_err(|e| format!("{}: {e}", stage.display()))?;
    let result = (|| {
        // mtools takes names in the locale's charset and stores long names as
        // UTF-16; a C locale would mangle the non-ASCII ones. MTOOLS_SKIP_CHECK
        // accepts an image whose geometry fields mtools finds odd. With
        // SOURCE_DATE_EPOCH (read in UTC) every entry gets FOREIGN_TIME, so
        // the image, and what `ls` prints of it, is the same on every build.
        let tool = |exe: &Path| {
            let mut c = Command::new(exe);
            c.env("MTOOLS_SKIP_CHECK", "1")
                .env("LC_ALL", "C.UTF-8")
                .env("TZ", "UTC")
                .env("SOURCE_DATE_EPOCH", FOREIGN_EPOCH.to_string())
                .arg("-i")
                .arg(&tmp);
            c
        };
        let mut made: Vec<String> = Vec::new();
        for (i, (name, data)) in files.iter().enumerate() {
            let comps: Vec<&str> = name.trim_start_matches('/').split('/').collect();
            for depth in 1..comps.len() {
                let dir = format!("/{}", comps[..depth].join("/"));
                if !made.contains(&dir) {
                    run_tool(tool(&mmd).arg(format!("::{dir}")))?;
                    made.push(dir);
                }
            }
            let local = stage.join(format!("{i}.bin"));
            std::fs::write(&local, data).map_err(|e| format!("{}: {e}", local.display()))?;
            run_tool(tool(&mcopy).arg(&local).arg(format!("::{name}")))?;
        }
        Ok::<(), String>(())
    })();
    let _ = std::fs::remove_dir_all(&stage);
    result?;
    fsck(&tmp)?;
    check_image_files(&tmp, &files)?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Mounts `image` with the `disks` crate (as the kernel does) and compares
/// every file of `files` byte for byte, names matched exactly as listed.
fn check_image_files(image: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    use disks::fs::{TimeSource, Timestamp, Volume};
    let bytes = std::fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
    let time = TimeSource::Fixed(Timestamp::new(2026, 1, 1, 0, 0, 0));
    let vol = Volume::mount(disks::mem::MemDisk::from_vec(bytes).read_only(), time)
        .map_err(|e| format!("{}: mounting: {}", image.display(), e.error))?;
    for (name, want) in files {
        let (parent, leaf) = name.rsplit_once('/').unwrap_or(("", name));
        let listed = vol
            .list_dir(if parent.is_empty() { "/" } else { parent })
            .map_err(|e| format!("{}: {e}", image.display()))?;
        if !listed.iter().any(|m| m.name == leaf) {
            return Err(format!(
                "{}: {name} is not listed under its exact name (found: {:?})",
                image.display(),
                listed.iter().map(|m| &m.name).collect::<Vec<_>>()
            ));
        }
        let got = vol
            .read_file(name)
            .map_err(|e| format!("{}: {e}", image.display()))?;
        if &got != want {
            return Err(format!(
                "{}: {name} holds {} bytes that differ from the {} written",
                image.display(),
                got.len(),
                want.len()
            ));
        }
    }
    Ok(())
}

/// Prints where `a` and `b` differ: up to `limit` ranges (bytes closer than a
/// sector merged), each located in `b` (the image after the workload), or
/// "identical". Differences are not an error: the caller decides.
pub fn diff(a: &Path, b: &Path, limit: usize) -> Result<(), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let (x, y) = (read(a)?, read(b)?);
    let ranges = disks::locate::differences(&x, &y, 512, limit);
    if ranges.is_empty() {
        println!("{} and {} are identical", a.display(), b.display());
        return Ok(());
    }
    let loc = disks::locate::Locator::new(&y).map_err(|e| format!("{}: {e}", b.display()))?;
    for r in &ranges {
        let at = match loc.locate(r.start) {
            Ok(l) => l.to_string(),
            Err(e) => e,
        };
        println!("{} bytes differ from here: {at}", r.end - r.start);
    }
    if ranges.len() == limit {
        println!("(first {limit} ranges only; --limit N for more)");
    }
    Ok(())
}

/// `cargo xtask disk …`.
#[derive(clap::Subcommand, Debug)]
pub enum Args {
    /// Build a deterministic FAT32 image from a manifest and fsck it
    Build {
        /// The manifest (default disks/manifests/default.manifest)
        #[arg(long, value_name = "PATH")]
        manifest: Option<PathBuf>,
        /// Instead of a manifest, a host directory: its files, names,
        /// nesting and modification times (default out: target/disks/DIR.img)
        #[arg(long, value_name = "DIR", conflicts_with = "manifest")]
        from: Option<PathBuf>,
        /// The image to write (default target/disks/NAME.img for NAME.manifest)
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// A fresh, empty FAT32 image (mkfs.fat -F 32), fsck-checked
    Empty {
        /// The image to write
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// Its size in MiB (at least 33)
        #[arg(long, value_name = "N", default_value_t = 64)]
        size_mib: u32,
    },
    /// A FAT32 image written by dosfstools and mtools (long, nested and
    /// non-ASCII names, a 3 MiB file), read back through the disks crate
    Foreign {
        /// The image to write (default target/disks/foreign.img)
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// fsck.fat -n an image
    Check {
        /// The image
        image: PathBuf,
    },
    /// Locate byte offsets of an image: sector, region, cluster, owning file
    Locate {
        /// The image
        image: PathBuf,
        /// Byte offsets (decimal or 0x hex)
        #[arg(required = true, value_name = "BYTE")]
        offsets: Vec<String>,
    },
    /// The byte ranges where two images differ, each located in B
    Diff {
        /// The first image
        a: PathBuf,
        /// The second image
        b: PathBuf,
        /// How many ranges to show
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: usize,
    },
}

pub fn main(args: Args) -> Result<(), String> {
    match args {
        Args::Build {
            from: Some(dir),
            out,
            ..
        } => {
            let out = out.unwrap_or_else(|| image_for(&dir.with_extension("manifest")));
            setup::ensure()?;
            let (files, dirs, bytes) = crate::disk_from::build_from_dir(&dir, &out)?;
            fsck(&out)?;
            println!(
                "{}: {files} files, {dirs} directories, {bytes} bytes from {}, fsck.fat -n clean",
                out.display(),
                dir.display()
            );
            Ok(())
        }
        Args::Build { manifest, out, .. } => {
            let manifest = manifest.unwrap_or_else(default_manifest);
            let out = out.unwrap_or_else(|| image_for(&manifest));
            setup::ensure()?;
            build(&manifest, &out)?;
            fsck(&out)?;
            println!("{}: fsck.fat -n clean", out.display());
            Ok(())
        }
        Args::Empty { out, size_mib } => {
            setup::ensure()?;
            empty_image(&out, size_mib)?;
            println!(
                "{}: empty FAT32, {size_mib} MiB, fsck.fat -n clean",
                out.display()
            );
            Ok(())
        }
        Args::Foreign { out } => {
            let out = out.unwrap_or_else(|| artifacts::disks_dir().join("foreign.img"));
            setup::ensure()?;
            foreign_image(&out)?;
            println!(
                "{}: written by mkfs.fat and mtools, fsck.fat -n clean, every file read back",
                out.display()
            );
            Ok(())
        }
        Args::Locate { image, offsets } => {
            let name = image.display();
            let bytes = std::fs::read(&image).map_err(|e| format!("{name}: {e}"))?;
            let loc = disks::locate::Locator::new(&bytes).map_err(|e| format!("{name}: {e}"))?;
            for p in loc.problems() {
                println!("{name}: damage: {p}");
            }
            for o in offsets {
                let byte = disks::manifest::parse_number(&o)
                    .ok_or_else(|| format!("'{o}' is not a byte offset (decimal or 0x hex)"))?;
                println!("{}", loc.locate(byte)?);
            }
            Ok(())
        }
        Args::Diff { a, b, limit } => diff(&a, &b, limit),
        Args::Check { image } => {
            setup::ensure()?;
            fsck(&image)?;
            println!("{}: fsck.fat -n clean", image.display());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use disks::fs::{TimeSource, Timestamp, Volume};
    use disks::mem::MemDisk;
    use disks::shell::{run_command, CommandStatus};

    /// The shell session the foreign-image boot test types, run on the host
    /// against the same image: what the kernel must print, line for line.
    #[test]
    fn each_manifest_builds_to_its_own_image() {
        assert_eq!(image_for(&default_manifest()), default_image());
        let small = image_for(Path::new("disks/manifests/small.manifest"));
        assert_eq!(small, artifacts::disks_dir().join("small.img"));
        assert_ne!(image_for(Path::new("/tmp/mine.manifest")), default_image());
    }

    #[test]
    fn the_shell_lists_and_reads_the_foreign_image() {
        if !setup::have("mcopy") || !setup::have("mkfs.fat") {
            panic!("mtools or dosfstools missing: run `cargo xtask setup`");
        }
        let img = std::env::temp_dir().join(format!("xtask-foreign-{}.img", std::process::id()));
        foreign_image(&img).unwrap();
        let bytes = std::fs::read(&img).unwrap();
        let _ = std::fs::remove_file(&img);
        let time = TimeSource::Fixed(Timestamp::new(2026, 2, 2, 0, 0, 0));
        let vol = Volume::mount(MemDisk::from_vec(bytes), time).unwrap();
        let sh = |line: &str| {
            let mut out = String::new();
            assert_eq!(
                run_command(&vol, line, &mut out).unwrap(),
                CommandStatus::Ok,
                "{line}: {out}"
            );
            out
        };
        assert_eq!(
            sh("ls /"),
            "-         33 2026-01-01 12:00:00  README.TXT\n\
             d          - 2026-01-01 12:00:00  Long Directory Name/\n\
             d          - 2026-01-01 12:00:00  \u{dc}n\u{ef}c\u{f6}d\u{e9} dir/\n\
             d          - 2026-01-01 12:00:00  big/\n\
             d          - 2026-01-01 12:00:00  many/\n"
        );
        assert_eq!(sh("cat /README.TXT"), "hello from dosfstools and mtools\n");
        assert_eq!(
            sh(r#"ls "/Long Directory Name/Nested Folder""#),
            "-         50 2026-01-01 12:00:00  deep file with spaces.txt\n"
        );
        assert_eq!(
            sh(r#"cat "/Long Directory Name/Nested Folder/deep file with spaces.txt""#),
            "written by mtools into a nested long-named folder\n"
        );
        assert_eq!(
            sh("ls \"/\u{dc}n\u{ef}c\u{f6}d\u{e9} dir\""),
            "-         21 2026-01-01 12:00:00  na\u{ef}ve caf\u{e9}.txt\n"
        );
        assert_eq!(
            sh("cat \"/\u{dc}n\u{ef}c\u{f6}d\u{e9} dir/na\u{ef}ve caf\u{e9}.txt\""),
            "non-ASCII long names\n"
        );
        // FAT matches names case-insensitively, non-ASCII letters included.
        assert_eq!(
            sh("cat \"/\u{fc}N\u{cf}C\u{d6}D\u{c9} DIR/NA\u{cf}VE CAF\u{c9}.TXT\""),
            "non-ASCII long names\n"
        );
        let stat = sh("stat /big/blob.bin");
        assert!(stat.contains("type: file\nsize: 3145728\n"), "{stat}");
        assert_eq!(vol.read_file("/big/blob.bin").unwrap(), foreign_blob());
        let many = sh("ls /many");
        assert_eq!(many.lines().count(), 30, "{many}");
        assert!(
            many.contains("-         21 2026-01-01 12:00:00  file-30 with a long name.txt\n"),
            "{many}"
        );
    }
}
