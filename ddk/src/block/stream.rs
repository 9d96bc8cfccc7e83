//! Cached embedded-io stream over a `BlockDevice` (owned by the disks/fs work; placeholder).
