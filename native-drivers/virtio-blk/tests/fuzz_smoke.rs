//! Replays the device-chaos fuzz target (`virtio_blk::fuzzing::fuzz_one`) on
//! seeded random inputs for a bounded number of iterations: the
//! libFuzzer-free stand-in for `cargo xtask fuzz --target device_chaos`. Set
//! `DEVICE_FUZZ_ITERS` to run longer.

use virtio_blk::fuzzing::{fuzz_one, Outcome};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn a_lying_device_never_panics_hangs_or_corrupts() {
    let iters: usize = std::env::var("DEVICE_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let mut rng = Rng(0xC4A0_5DE7_1CE0_2026);
    let (mut refused, mut used) = (0, 0);
    for _ in 0..iters {
        let len = (rng.next() % 600) as usize;
        let input: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        match fuzz_one(&input) {
            Outcome::Refused => refused += 1,
            Outcome::Used => used += 1,
        }
    }
    eprintln!("{iters} lying devices: {refused} refused at bring-up, {used} bound and used");
    assert!(used > iters / 10, "the replay must get past bring-up");
}

/// A device that offers VIRTIO_BLK_F_BLK_SIZE with a 2048-byte blk_size
/// (lies the fuzzer found): LBAs then count 2048-byte blocks, and a
/// 512-byte buffer is refused, not read (it was once reported as
/// corruption by a harness that counted 512-byte LBAs).
#[test]
fn a_device_with_a_larger_block_size_is_addressed_in_its_blocks() {
    let input = [
        47u8, 58, 0, 109, 73, 73, 34, 73, 47, 73, 214, 73, 73, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 38,
    ];
    assert_eq!(fuzz_one(&input), Outcome::Used);
}

/// A device that reports a read OK without having moved its data (its
/// used length covers the status byte only: lies the fuzzer found, after a
/// segment limit it lied about too). The driver must not return the
/// buffer's old bytes as data (§2.7.8).
#[test]
fn a_read_reported_ok_but_written_short_is_refused() {
    let input = [
        81u8, 81, 81, 255, 245, 255, 0, 0, 59, 0, 0, 91, 0, 255, 255, 61, 81, 81, 113, 81, 3, 0,
        81, 10, 0, 0, 0,
    ];
    assert_eq!(fuzz_one(&input), Outcome::Used);
}

/// A device that comes back from a reset (after a timeout it caused) with
/// another block size: the driver must not adopt it under its user, whose
/// LBAs count the old blocks; the device is disabled instead.
#[test]
fn a_device_that_changes_its_block_size_across_a_reset_is_disabled() {
    let input = [
        81u8, 81, 81, 255, 255, 25, 0, 8, 0, 0, 0, 0, 0, 255, 255, 61, 81, 81, 1, 0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(fuzz_one(&input), Outcome::Used);
}

#[test]
fn an_honest_device_is_used() {
    // Modern, flush, no chaos bytes.
    assert_eq!(fuzz_one(&[8 | 0x80]), Outcome::Used);
    // Legacy.
    assert_eq!(fuzz_one(&[1 | 8 | 0x80]), Outcome::Used);
}
