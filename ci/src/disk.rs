//! `cargo xtask disk …` and the default image every boot without `--disk`
//! gets: built from `disks/manifests/default.manifest` by the deterministic
//! builder in the `disks` crate, and checked with `fsck.fat -n`.

use crate::{artifacts, setup};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn default_manifest() -> PathBuf {
    artifacts::workspace_root().join("disks/manifests/default.manifest")
}

pub fn default_image() -> PathBuf {
    artifacts::disks_dir().join("default.img")
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

/// `fsck.fat -n` on an image; the error carries fsck's output.
pub fn fsck(image: &Path) -> Result<(), String> {
    let fsck = setup::find("fsck.fat").ok_or("fsck.fat not found (package dosfstools)")?;
    let out = Command::new(fsck)
        .arg("-n")
        .arg(image)
        .output()
        .map_err(|e| format!("fsck.fat: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "fsck.fat -n {} reports problems ({}):\n{}{}",
            image.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A private copy of the default image for one boot that writes to it.
pub fn scratch_copy(name: &str) -> Result<PathBuf, String> {
    let src = default_image();
    ensure_image(&default_manifest(), &src)?;
    let dst = artifacts::disks_dir().join(format!("scratch-{name}.img"));
    std::fs::copy(&src, &dst)
        .map_err(|e| format!("copying {} to {}: {e}", src.display(), dst.display()))?;
    Ok(dst)
}

pub fn main(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("build") => {
            let mut manifest = default_manifest();
            let mut out = default_image();
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--manifest" => manifest = it.next().ok_or("--manifest needs a path")?.into(),
                    "--out" => out = it.next().ok_or("--out needs a path")?.into(),
                    other => return Err(format!("disk build: unknown option '{other}'")),
                }
            }
            setup::ensure()?;
            build(&manifest, &out)?;
            fsck(&out)?;
            println!("{}: fsck.fat -n clean", out.display());
            Ok(())
        }
        Some("check") => {
            let image = args.get(1).ok_or("disk check needs an image path")?;
            setup::ensure()?;
            fsck(Path::new(image))?;
            println!("{image}: fsck.fat -n clean");
            Ok(())
        }
        _ => Err(
            "usage: cargo xtask disk build [--manifest PATH] [--out PATH] | disk check IMAGE"
                .into(),
        ),
    }
}
