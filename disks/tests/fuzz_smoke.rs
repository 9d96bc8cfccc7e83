//! Replays the FAT fuzz target (`disks::fuzzing::fuzz_one`) on seeded random
//! inputs for a bounded number of iterations: the libFuzzer-free stand-in for
//! `cargo xtask fuzz` (target `fat_volume`). Set `FAT_FUZZ_ITERS` to run longer.

use disks::fuzzing::{fuzz_one, Outcome};

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
fn damaged_volumes_never_panic_and_fat_damage_stays_in_its_files() {
    let iters: usize = std::env::var("FAT_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut rng = Rng(0x5EED_FA7F_0022_1206);
    let mut counts = [0usize; 3];
    for _ in 0..iters {
        let len = (rng.next() % 96) as usize;
        let input: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        counts[fuzz_one(&input) as usize] += 1;
    }
    eprintln!(
        "{iters} damaged volumes: {} refused at mount, {} used but not remounted, {} used and remounted",
        counts[0], counts[1], counts[2]
    );
    // The replay must reach the workload, not only the mount checks.
    assert!(counts[2] > iters / 10, "{counts:?}");
}

#[test]
fn the_undamaged_image_survives_the_workload() {
    // No damage at all, then only the image's last block (past any data
    // the workload reaches) failing its writes: both run the whole exercise.
    assert_eq!(fuzz_one(&[]), Outcome::Used);
    assert_eq!(
        fuzz_one(&[1, 6, 0, 0, 0, 0, 0xFF, 0x07, 0x01, 0x00]),
        Outcome::Used
    );
}
