//! The native driver against a device that answers with arbitrary values
//! (feature `fuzzing`, host only): the DDK's virtio-blk device model in chaos
//! mode ([`ddk::testing::VirtioBlkDevice::chaos`]) lies in register reads
//! (sizes, features, status, config fields) and in completions (used ids,
//! lengths, status bytes, used index, requests never completed), as the fuzz
//! input decides. What must hold: no panic, no hang (every wait is bounded),
//! and no silent corruption: a read that returns `Ok` returned the image's
//! bytes, a write that returned `Ok` is in the image. (The model's protocol
//! checks are asserted only for an honest device: once it lies about its
//! queue size or features, what it would call a violation is the lie's.) [`fuzz_one`] is the body of the
//! cargo-fuzz target (`native-drivers/virtio-blk/fuzz`) and of the bounded
//! replay in `tests/fuzz_smoke.rs`.

extern crate std;

use alloc::vec;
use alloc::vec::Vec;

use ddk::testing::{self, BlkOptions, VirtioBlkDevice};
use ddk::{BlockDevice, BlockError, Lba, PciAddress};

use crate::{Config, VirtioBlk};

const ADDR: PciAddress = PciAddress::new_truncate(0, 3, 0);
const SECTORS: usize = 1024;

fn image() -> Vec<u8> {
    (0..SECTORS * 512)
        .map(|i| (i * 7 + i / 512 * 13) as u8)
        .collect()
}

/// How far one input got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Bring-up refused the device (with an error).
    Refused,
    /// Bound; every request ran (each `Ok` checked, or an error).
    Used,
}

/// The device's shape from the input's first byte.
fn options(b: u8) -> BlkOptions {
    BlkOptions {
        legacy: b & 1 != 0,
        transitional: b & 2 != 0,
        read_only: b & 4 != 0,
        flush: b & 8 != 0,
        seg_max: if b & 16 != 0 {
            Some(u32::from(b >> 5) + 1)
        } else {
            None
        },
        size_max: if b & 32 != 0 { Some(4096) } else { None },
        queue_size: [4, 16, 128, 256][usize::from(b >> 6)],
        ..BlkOptions::default()
    }
}

/// One input: the first byte shapes the device, the rest is its chaos.
pub fn fuzz_one(data: &[u8]) -> Outcome {
    let (shape, chaos) = data.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    let dev = VirtioBlkDevice::new(image(), options(shape));
    dev.install(ADDR);
    dev.chaos(chaos);
    let p = testing::platform();
    let Ok(pci) = p.pci_device(ADDR) else {
        return Outcome::Refused;
    };
    let config = Config {
        timeout_ns: 2_000_000,
        spin_budget: 20_000,
        reset_spins: 2_000,
        ..Config::default()
    };
    let honest = chaos.is_empty();
    let Ok(mut blk) = VirtioBlk::new(p, pci, config) else {
        assert!(!honest, "an honest device was refused");
        return Outcome::Refused;
    };
    // LBAs count the driver's blocks: 512 bytes, or the device's blk_size
    // when it offers one (§5.2.4; a lying device may offer any it likes,
    // the protocol's sectors stay 512 bytes).
    let (bs, count) = (blk.block_size(), blk.block_count());
    let mut buf = vec![0u8; 64 * 512];
    for (lba, n) in [(0u64, 1usize), (100, 16), (3, 64), (SECTORS as u64 - 2, 2)] {
        let b = &mut buf[..n * 512];
        if blk.read_blocks(Lba::new(lba), b).is_ok() {
            let truth = dev.image();
            let at = lba as usize * bs;
            assert!(
                b.len().is_multiple_of(bs) && truth.get(at..at + b.len()) == Some(&b[..]),
                "read of {} bytes at LBA {lba} (blocks of {bs} B) returned Ok with bytes that are not the image's",
                b.len()
            );
        }
    }
    let data: Vec<u8> = (0..8 * 512).map(|i| (i * 31 + 5) as u8).collect();
    if blk.write_blocks(Lba::new(200), &data).is_ok() {
        let truth = dev.image();
        let at = 200 * bs;
        assert!(
            data.len().is_multiple_of(bs) && truth.get(at..at + data.len()) == Some(&data[..]),
            "write of {} bytes at LBA 200 (blocks of {bs} B) returned Ok but the image does not hold them",
            data.len()
        );
    }
    let _ = blk.flush();
    // A reset never changes the geometry the caller addresses blocks by.
    assert_eq!(
        (blk.block_size(), blk.block_count()),
        (bs, count),
        "the device's geometry changed under its user"
    );
    // Past the end (as the driver understood the capacity) never succeeds:
    // out of range, or not ready once an earlier lie made it reset.
    let past = blk.block_count();
    let mut one = vec![0u8; bs];
    let r = blk.read_blocks(Lba::new(past), &mut one);
    assert!(
        matches!(r, Err(BlockError::OutOfRange | BlockError::NotReady)),
        "a read past the end: {r:?}"
    );
    drop(blk);
    if honest {
        let v = dev.violations();
        assert!(v.is_empty(), "driver protocol violations: {v:?}");
    }
    Outcome::Used
}
