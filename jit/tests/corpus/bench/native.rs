//! Native Rust twins of the JIT benchmark kernels in `Bench.cs` (issue 5,
//! `cargo xtask bench jit`): the same algorithms, data and results, so JIT, native and
//! mono figures compare like with like. Include it with
//! `#[path = ".../jit/tests/corpus/bench/native.rs"] mod native;`.
#![allow(dead_code)]

use std::hint::black_box;

/// Sieve limit: primes <= 10,000,000 (664,579 of them).
pub const SIEVE_LIMIT: usize = 10_000_000;
/// CRC input size: 16 MiB.
pub const CRC_BYTES: usize = 16 * 1024 * 1024;

/// Recursive Fibonacci, as `Kernels.Fib`.
pub fn fib(n: i32) -> i32 {
    if n < 2 {
        n
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

/// Number of primes <= `limit`, over a byte array, as `Kernels.Sieve`.
pub fn sieve(limit: usize) -> i32 {
    let mut composite = vec![0u8; limit + 1];
    let mut count = 0;
    for i in 2..=limit {
        if composite[i] != 0 {
            continue;
        }
        count += 1;
        if i * i > limit {
            continue;
        }
        let mut j = i * i;
        while j <= limit {
            composite[j] = 1;
            j += i;
        }
    }
    count
}

/// `n` bytes of the LCG x = x * 1664525 + 1013904223 (x0 = 1), top byte each step.
pub fn make_data(n: usize) -> Vec<u8> {
    let mut x: u32 = 1;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

/// Table-driven CRC-32 (IEEE, reflected 0xEDB88320), as `Kernels.Crc32`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc = table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc ^ 0xFFFF_FFFF
}

/// `Kernels.BenchFib30`: 832040.
pub fn bench_fib30() -> i32 {
    fib(black_box(30))
}

/// `Kernels.BenchSieve`: 664579.
pub fn bench_sieve() -> i32 {
    sieve(black_box(SIEVE_LIMIT))
}

/// `Kernels.BenchCrc32`: data generation plus CRC, like the C# kernel.
pub fn bench_crc32() -> u32 {
    crc32(&make_data(black_box(CRC_BYTES)))
}

/// A kernel: the name of its C# method and its Rust twin.
pub type Kernel = (&'static str, fn() -> i64);

/// The three kernels by the names the C# methods carry, for table-driven callers.
pub const KERNELS: [Kernel; 3] = [
    ("BenchFib30", || i64::from(bench_fib30())),
    ("BenchSieve", || i64::from(bench_sieve())),
    ("BenchCrc32", || i64::from(bench_crc32())),
];
