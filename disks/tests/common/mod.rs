//! Helpers shared by the host integration tests: temp paths, `fsck.fat`, a
//! request-counting disk.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ddk::{BlockDevice, BlockError, Lba};
use disks::mem::MemDisk;

/// A MemDisk that counts device requests and the bytes they carry.
pub struct Counting {
    pub inner: MemDisk,
    pub reads: u64,
    pub read_bytes: u64,
    pub writes: u64,
    pub write_bytes: u64,
}

impl Counting {
    pub fn new(inner: MemDisk) -> Self {
        Counting {
            inner,
            reads: 0,
            read_bytes: 0,
            writes: 0,
            write_bytes: 0,
        }
    }
}

impl BlockDevice for Counting {
    fn block_size(&self) -> usize {
        self.inner.block_size()
    }
    fn block_count(&self) -> u64 {
        self.inner.block_count()
    }
    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        self.reads += 1;
        self.read_bytes += buf.len() as u64;
        self.inner.read_blocks(lba, buf)
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        self.writes += 1;
        self.write_bytes += buf.len() as u64;
        self.inner.write_blocks(lba, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        self.inner.flush()
    }
}

/// A fresh path in the system temp directory, unique per test and process.
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("disks-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Asserts that `fsck.fat -n` finds the image bytes `img` clean (written to
/// a temporary file `name` first, removed after).
pub fn assert_fsck_clean(img: &[u8], name: &str) {
    let path = temp_path(name);
    std::fs::write(&path, img).unwrap();
    let (clean, out) = fsck(&path);
    let _ = std::fs::remove_file(&path);
    assert!(clean, "fsck.fat -n {name}:\n{out}");
}

/// Runs `fsck.fat -n` on `image`; returns (clean, output). Fails the test with
/// the setup hint when dosfstools is missing.
pub fn fsck(image: &Path) -> (bool, String) {
    let candidates = ["fsck.fat", "/usr/sbin/fsck.fat", "/sbin/fsck.fat"];
    for c in candidates {
        match Command::new(c).arg("-n").arg(image).output() {
            Ok(out) => {
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                return (out.status.success(), text);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("running {c}: {e}"),
        }
    }
    panic!("fsck.fat not found: run `cargo xtask test`, which installs dosfstools");
}
