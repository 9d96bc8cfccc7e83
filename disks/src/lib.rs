//! FAT32 disk images: the manifest format, the deterministic builder (host),
//! and the fatfs glue, self-test and shell commands the kernel runs over any
//! `BlockDevice`.
//!
//! - [`manifest`]: the image description (`disks/manifests/*.manifest`) and the
//!   checksum file stored in every image (`/MANIFEST.SHA`).
//! - [`content`]: deterministic file contents (seeded pseudo-random bytes).
//! - [`fs`]: mounting a FAT32 volume with lamfat over a cached `BlockStream`.
//! - [`selftest`]: verify, mutate, re-mount, verify again.
//! - [`shell`]: `ls`, `cat`, `write`, `rm`, `mkdir`, `stat`, `df`.
//! - [`copy`]: copy a directory tree between two volumes and verify the copy.
//! - [`workload`]: the deterministic workload the driver matrix compares.
//! - [`mem`]: a `Vec`-backed `BlockDevice`.
//! - [`tree`]: the manifest's `tree` generator (thousands of entries from one line).
//! - `build` (feature `std`): the deterministic image builder.
//! - `fuzzing` (feature `std`): the FAT layer on damaged images, the entry
//!   point of the fuzz target `disks/fuzz` and of `tests/fuzz_smoke.rs`.
//! - `locate` (feature `std`): which region, cluster and file a byte of an
//!   image belongs to, and where two images first differ.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![forbid(unsafe_code)]

extern crate alloc;

#[cfg(feature = "std")]
pub mod build;
pub mod content;
pub mod copy;
pub mod cp437;
pub mod fs;
#[cfg(feature = "std")]
pub mod fuzzing;
#[cfg(feature = "std")]
pub mod locate;
pub mod manifest;
pub mod mem;
pub mod selftest;
pub mod shell;
pub mod stream;
pub mod timestamp;
pub mod tree;
pub mod workload;

pub use fs::{FsError, TimeSource, Timestamp, Volume};
pub use manifest::{ImageSpec, ManifestError};

/// The default image manifest (`disks/manifests/default.manifest`).
pub const DEFAULT_MANIFEST: &str = include_str!("../manifests/default.manifest");

/// Path of the default manifest, relative to the workspace root.
pub const DEFAULT_MANIFEST_PATH: &str = "disks/manifests/default.manifest";

/// The golden images of the test matrix (`cargo xtask matrix`): name and
/// manifest text (`disks/manifests/<name>.manifest`).
pub const GOLDEN_MANIFESTS: &[(&str, &str)] = &[
    ("small", include_str!("../manifests/small.manifest")),
    ("large", include_str!("../manifests/large.manifest")),
    (
        "fragmented",
        include_str!("../manifests/fragmented.manifest"),
    ),
    (
        "nearly-full",
        include_str!("../manifests/nearly-full.manifest"),
    ),
    (
        "clusters-4k",
        include_str!("../manifests/clusters-4k.manifest"),
    ),
];
