//! The peers `cargo xtask bench` measures us against live, in the same run:
//! Linux 6.1 under the same QEMU (`linux`); mono's JIT is measured by
//! `bench_jit`.

pub mod linux;
