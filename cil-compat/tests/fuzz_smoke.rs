//! Replays the fuzz target (`cil_compat::fuzzing::fuzz_one`) on random mutations of
//! the real assemblies for a bounded number of iterations — the libFuzzer-free
//! stand-in for `cargo +nightly fuzz run reader` (see cil-compat/fuzz/README.md).
//! Set `CIL_FUZZ_ITERS` to run longer.

mod common;

use cil_compat::fuzzing::fuzz_one;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation in the style of libFuzzer: flips, byte sets, interesting values,
/// block copies, inserts, erases and truncation.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    let n = data.len();
    if n == 0 {
        data.push(rng.next() as u8);
        return;
    }
    match rng.below(8) {
        0 => {
            let i = rng.below(n);
            data[i] ^= 1 << rng.below(8);
        }
        1 => {
            let i = rng.below(n);
            data[i] = rng.next() as u8;
        }
        2 => {
            let vals: [u32; 8] = [0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF];
            let v = vals[rng.below(vals.len())].to_le_bytes();
            let i = rng.below(n.saturating_sub(4).max(1));
            let w = 1 + rng.below(4);
            data[i..(i + w).min(n)].copy_from_slice(&v[..(i + w).min(n) - i]);
        }
        3 => {
            let len = 1 + rng.below(64.min(n));
            let src = rng.below(n - len + 1);
            let dst = rng.below(n - len + 1);
            let chunk = data[src..src + len].to_vec();
            data[dst..dst + len].copy_from_slice(&chunk);
        }
        4 => {
            let i = rng.below(n);
            let len = 1 + rng.below(16);
            for _ in 0..len {
                data.insert(i, rng.next() as u8);
            }
        }
        5 => {
            let i = rng.below(n);
            let len = (1 + rng.below(16)).min(n - i);
            data.drain(i..i + len);
        }
        6 => data.truncate(rng.below(n)),
        _ => {
            let i = rng.below(n);
            data[i] = data[i].wrapping_add(1 + rng.below(3) as u8);
        }
    }
}

#[test]
fn fuzz_target_survives_random_mutations() {
    let iters: usize = std::env::var("CIL_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let seeds: Vec<Vec<u8>> = common::all_assemblies()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D ^ iters as u64);
    let mut corpus = seeds.clone();
    for it in 0..iters {
        let mut d = corpus[rng.below(corpus.len())].clone();
        for _ in 0..1 + rng.below(6) {
            mutate(&mut rng, &mut d);
        }
        fuzz_one(&d);
        // Keep a few survivors to mutate further (crude corpus evolution).
        if it % 50 == 0 && corpus.len() < 64 {
            corpus.push(d);
        }
    }
    eprintln!("fuzz smoke: {iters} mutated inputs, no panic");
}

/// The JIT fuzz body (`cil_compat::fuzzing::JitBodies`, cargo-fuzz target
/// `jit_body`): every real corlib body, encoded as a seed, compiles through it
/// (so the target starts from valid IL), and random mutations of the seeds —
/// invalid IL, clauses with wild ranges, foreign tokens — compile or fail
/// with an error, never a panic. `CIL_FUZZ_ITERS` runs longer.
#[test]
fn jit_body_target_compiles_seeds_and_survives_mutations() {
    let iters: usize = std::env::var("CIL_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let corlib = std::fs::read(common::corlib()).unwrap();
    let mut f = cil_compat::fuzzing::JitBodies::new(&corlib).expect("corlib loads");
    let seeds = f.seeds();
    for e in f.skipped() {
        eprintln!("not a seed: {e}");
    }
    assert!(
        seeds.len() > 200,
        "only {} corlib bodies compile",
        seeds.len()
    );
    for (i, s) in seeds.iter().enumerate() {
        if let Some(Err(e)) = f.run(s) {
            panic!("seed {i} (a real corlib body) no longer compiles: {e}");
        }
    }
    let mut rng = Rng(0x0BAD_C0DE_1234_5678 ^ iters as u64);
    let (mut ok, mut refused) = (0usize, 0usize);
    for _ in 0..iters {
        let mut d = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut d);
        }
        match f.run(&d) {
            Some(Ok(_)) => ok += 1,
            Some(Err(_)) => refused += 1,
            None => {}
        }
    }
    eprintln!(
        "jit fuzz smoke: {} seeds compile; {iters} mutated bodies: {ok} compiled, {refused} refused, no panic",
        seeds.len()
    );
    assert!(
        ok > 0 && refused > 0,
        "mutations should yield both valid and invalid bodies ({ok} compiled, {refused} refused)"
    );
}
