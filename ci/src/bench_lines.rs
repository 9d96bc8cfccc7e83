//! The figures a benchmark run prints: `bench: <name> <value> <unit>` lines,
//! the same from our kernel (`kernel/src/runs/bench.rs`) and from the Linux
//! peer (`ci/peers/blkbench.c`). A leaf, shared by `bench_blk` and
//! `peers::linux`, which `bench` dispatches to.

/// One `bench: <name> <value> <unit>` line from the kernel.
pub fn parse_bench_lines(serial: &str) -> Vec<(String, f64, String)> {
    serial
        .lines()
        .filter_map(|l| {
            let mut w = l.trim().strip_prefix("bench: ")?.split_whitespace();
            let name = w.next()?.to_string();
            let value = w.next()?.parse().ok()?;
            let unit = w.next()?.to_string();
            Some((name, value, unit))
        })
        .collect()
}
