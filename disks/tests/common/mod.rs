//! Helpers shared by the host integration tests: temp paths and `fsck.fat`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh path in the system temp directory, unique per test and process.
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("disks-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
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
