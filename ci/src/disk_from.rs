//! `cargo xtask disk build --from DIR`: a FAT32 image holding a host
//! directory's files, the way people bring their own files to the kernel.
//! Names (long and non-ASCII, through lamfat's long-name entries), nesting,
//! contents and modification times are kept; the volume is formatted and
//! filled by the `disks` crate, like the manifest images.

use disks::fs::{TimeSource, Timestamp};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The time the volume's clock reports: set to each entry's host
/// modification time just before the entry is written.
static NOW: Mutex<Timestamp> = Mutex::new(Timestamp::new(1980, 1, 1, 0, 0, 0));

fn now() -> Timestamp {
    *NOW.lock().unwrap()
}

fn set_now(t: Timestamp) {
    *NOW.lock().unwrap() = t;
}

/// A host time as a FAT time (UTC; FAT keeps 1980..2107, whole seconds
/// rounded down to even ones by the format).
pub fn fat_time(t: SystemTime) -> Timestamp {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(_) => 0,
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    if year < 1980 {
        return Timestamp::new(1980, 1, 1, 0, 0, 0);
    }
    if year > 2107 {
        return Timestamp::new(2107, 12, 31, 23, 59, 58);
    }
    Timestamp::new(
        year as u16,
        month,
        day,
        (rem / 3600) as u8,
        (rem / 60 % 60) as u8,
        (rem % 60) as u8,
    )
}

/// One entry found under the directory, with its volume path.
struct Item {
    host: PathBuf,
    path: String,
    is_dir: bool,
    size: u64,
    modified: Timestamp,
}

/// Walks `dir` (sorted by name at each level, so the same tree gives the
/// same image layout). Refuses what FAT cannot hold, naming the file.
fn walk(dir: &Path, vol_dir: &str, out: &mut Vec<Item>) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let host = e.path();
        let name = e
            .file_name()
            .into_string()
            .map_err(|n| format!("{}: the name {n:?} is not UTF-8", dir.display()))?;
        if let Some(c) = name
            .chars()
            .find(|c| "\\:*?\"<>|".contains(*c) || u32::from(*c) < 0x20)
        {
            return Err(format!(
                "{}: FAT names cannot contain {c:?}",
                host.display()
            ));
        }
        let meta =
            std::fs::symlink_metadata(&host).map_err(|e| format!("{}: {e}", host.display()))?;
        let path = format!("{vol_dir}/{name}");
        let modified = fat_time(meta.modified().unwrap_or(UNIX_EPOCH));
        if meta.is_dir() {
            out.push(Item {
                host: host.clone(),
                path: path.clone(),
                is_dir: true,
                size: 0,
                modified,
            });
            walk(&host, &path, out)?;
        } else if meta.is_file() {
            if meta.len() > u64::from(u32::MAX) {
                return Err(format!(
                    "{}: larger than FAT's 4 GiB file limit",
                    host.display()
                ));
            }
            out.push(Item {
                host,
                path,
                is_dir: false,
                size: meta.len(),
                modified,
            });
        } else {
            return Err(format!(
                "{}: not a regular file or directory (symlinks and devices are not copied)",
                host.display()
            ));
        }
    }
    Ok(())
}

/// The image size for `content` bytes in `entries` entries: room for the
/// data in 4 KiB clusters plus a quarter, at least 64 MiB, whole MiB.
fn image_size(content: u64, entries: u64) -> u64 {
    let need = content + entries * 4096;
    let size = (need + need / 4 + (16 << 20)).max(64 << 20);
    size.div_ceil(1 << 20) << 20
}

/// Builds `out` from the files under `dir`; returns (files, dirs, bytes).
pub fn build_from_dir(dir: &Path, out: &Path) -> Result<(usize, usize, u64), String> {
    let meta = std::fs::metadata(dir).map_err(|e| format!("--from {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("--from {}: not a directory", dir.display()));
    }
    let mut items = Vec::new();
    walk(dir, "", &mut items)?;
    let content: u64 = items.iter().map(|i| i.size).sum();
    let size = image_size(content, items.len() as u64);
    // 512-byte clusters keep a small volume FAT32 (>= 65525 clusters);
    // past 256 MiB, 4 KiB clusters.
    let cluster = if size <= 256 << 20 { 512 } else { 4096 };
    let vol = disks::build::format_volume(
        size,
        cluster,
        "HOSTDIR",
        0x2026_0001,
        TimeSource::Clock(now),
    )
    .map_err(|e| format!("formatting: {e}"))?;
    let (mut files, mut dirs) = (0, 0);
    for i in &items {
        set_now(i.modified);
        if i.is_dir {
            vol.create_dir(&i.path).map_err(|e| e.to_string())?;
            dirs += 1;
        } else {
            let data = std::fs::read(&i.host).map_err(|e| format!("{}: {e}", i.host.display()))?;
            vol.write_file(&i.path, &data).map_err(|e| e.to_string())?;
            files += 1;
        }
    }
    let disk = vol.unmount().map_err(|e| format!("unmount: {e}"))?;
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let tmp = out.with_extension("img.part");
    std::fs::write(&tmp, disk.into_vec()).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, out).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok((files, dirs, content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use disks::fs::Volume;
    use disks::mem::MemDisk;

    #[test]
    fn host_times_become_fat_times() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        assert_eq!(fat_time(t), Timestamp::new(2023, 11, 14, 22, 13, 20));
        assert_eq!(fat_time(UNIX_EPOCH), Timestamp::new(1980, 1, 1, 0, 0, 0));
    }

    /// A tree with long, non-ASCII and nested names and set times becomes an
    /// fsck-clean image whose files, names and times read back unchanged.
    #[test]
    fn a_host_directory_becomes_a_clean_image() {
        let root = std::env::temp_dir().join(format!("xtask-from-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let src = root.join("src");
        let deep = src.join("Projects/Kernel Work/l'été");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(src.join("README.TXT"), "hello\n").unwrap();
        std::fs::write(deep.join("naïve café — 日本語.txt"), "unicode\n").unwrap();
        let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(
            src.join("a file name longer than eight dot three.bin"),
            &big,
        )
        .unwrap();
        let when = UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        std::fs::File::options()
            .write(true)
            .open(src.join("README.TXT"))
            .unwrap()
            .set_modified(when)
            .unwrap();
        let out = root.join("out.img");
        let (files, dirs, bytes) = build_from_dir(&src, &out).unwrap();
        assert_eq!((files, dirs, bytes), (3, 3, 6 + 8 + 300_000));
        crate::fsck::fsck(&out).unwrap();
        let vol = Volume::mount(
            MemDisk::from_vec(std::fs::read(&out).unwrap()),
            TimeSource::Fixed(Timestamp::new(2000, 1, 1, 0, 0, 0)),
        )
        .unwrap();
        assert_eq!(vol.read_file("/README.TXT").unwrap(), b"hello\n");
        assert_eq!(
            vol.read_file("/Projects/Kernel Work/l'été/naïve café — 日本語.txt")
                .unwrap(),
            b"unicode\n"
        );
        assert_eq!(
            vol.read_file("/a file name longer than eight dot three.bin")
                .unwrap(),
            big
        );
        let m = vol.metadata("/README.TXT").unwrap();
        assert_eq!(m.modified, fat_time(when));
        let names: Vec<String> = vol
            .list_dir("/Projects/Kernel Work")
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, ["l'été"]);
        // lamfat 0.4.3 cannot write a long name that starts with a non-ASCII
        // character: refused with the path, not mangled.
        std::fs::write(src.join("été.txt"), "x").unwrap();
        let e = build_from_dir(&src, &out).unwrap_err();
        assert!(e.contains("/été.txt") && e.contains("non-ASCII"), "{e}");
        std::fs::remove_file(src.join("été.txt")).unwrap();
        // A file FAT cannot name is refused with its path.
        std::fs::write(src.join("a:b"), "x").unwrap();
        let e = build_from_dir(&src, &out).unwrap_err();
        assert!(e.contains("a:b") && e.contains("cannot contain"), "{e}");
        let e = build_from_dir(&src.join("README.TXT"), &out).unwrap_err();
        assert!(e.contains("not a directory"), "{e}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
