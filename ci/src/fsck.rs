//! `fsck.fat -n` (dosfstools) on a FAT image: every image the runner builds
//! or a boot wrote is checked with it. A leaf: it needs only `setup` to find
//! the tool, so `disk` and `disk_from` both use it without using each other.

use std::path::Path;
use std::process::Command;

use crate::setup;

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
