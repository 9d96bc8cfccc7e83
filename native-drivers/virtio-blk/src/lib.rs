//! Native virtio-blk driver (virtio 1.2 §5.2) over the DDK.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
