//! `cargo xtask bench jit`: the three JIT kernels (fib(30), a sieve to 10^7
//! over `byte[]`, CRC32 over 16 MiB) through our JIT, as native Rust, and
//! under mono, side by side with ratios; plus compile throughput over the
//! corlib and the conformance corpus. Figures only, no assertions.

use cil_compat::exec::cli;
use cil_compat::toolchain;
use cil_compat::types::TypeSystem;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[path = "../../jit/tests/corpus/bench/native.rs"]
mod native;

/// Mono 6.8's JIT compile speed on this machine (DESIGN.md).
const PEER_MONO_US_PER_METHOD: f64 = 30.0;
const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Native Rust twins: (C# method name, median ms, result).
fn native_figures() -> Vec<(&'static str, f64, i64)> {
    native::KERNELS
        .iter()
        .map(|&(name, f)| {
            let mut result = f(); // warm-up, like the JIT's compile-first run
            let times = (0..RUNS)
                .map(|_| {
                    let t = Instant::now();
                    result = f();
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            (name, median(times), result)
        })
        .collect()
}

/// `mono Bench.exe` (built with mono's own corlib and `-d:MONO_MAIN`):
/// kernel -> median ms. `None` when mono is not installed.
fn mono_figures(bench_cs: &Path) -> Result<Option<Vec<(String, f64)>>, String> {
    let (Some(mcs), Some(mono)) = (crate::setup::find("mcs"), crate::setup::find("mono")) else {
        return Ok(None);
    };
    let dir = toolchain::managed_dir().join("mono-bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let exe = dir.join("Bench.exe");
    let out = Command::new(mcs)
        .args(["-optimize+", "-d:MONO_MAIN", "-nologo"])
        .arg(format!("-out:{}", exe.display()))
        .arg(bench_cs)
        .output()
        .map_err(|e| format!("mcs: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "mcs Bench.cs failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    let out = Command::new(mono)
        .arg(&exe)
        .output()
        .map_err(|e| format!("mono: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "mono Bench.exe failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // Lines: `fib30  result=832040 median_ms=3.21 cpu_ms=3.00`.
    let text = String::from_utf8_lossy(&out.stdout);
    let figures = text
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?;
            let ms = w.find_map(|t| t.strip_prefix("median_ms="))?.parse().ok()?;
            let kernel = match name {
                "fib30" => "BenchFib30",
                "sieve" => "BenchSieve",
                "crc32" => "BenchCrc32",
                _ => return None,
            };
            Some((kernel.to_string(), ms))
        })
        .collect();
    Ok(Some(figures))
}

pub fn run() -> Result<(), String> {
    let err = |e: cil_compat::error::Error| e.to_string();
    let root = toolchain::workspace_root();
    let bench_cs = root.join("jit/tests/corpus/bench/Bench.cs");
    let corlib = toolchain::corlib().map_err(err)?;
    let bench =
        toolchain::build_library("jit_bench", std::slice::from_ref(&bench_cs), &[]).map_err(err)?;
    let corpus_src = toolchain::cs_files(&root.join("jit/tests/corpus")).map_err(err)?;
    let corpus = toolchain::build_library("jit_corpus_all", &corpus_src, &[]).map_err(err)?;

    let mut ts = TypeSystem::new();
    let dirs = vec![toolchain::managed_dir()];
    let b = cil_compat::host::load_with_deps(&mut ts, &bench, &dirs).map_err(err)?;
    let c = cil_compat::host::load_with_deps(&mut ts, &corpus, &dirs).map_err(err)?;
    let lib = ts
        .corlib()
        .ok_or_else(|| format!("{} did not load as the corlib", corlib.display()))?;
    let mut engine = cli::engine(ts);
    let (fig, kernels) = cli::bench_jit(&mut engine, &[lib, c], Some(b), RUNS);

    let native = native_figures();
    let mono = mono_figures(&bench_cs)?;

    println!("bench jit (host, median of {RUNS} runs after a warm-up; ratio = ours / theirs, lower is better)");
    println!(
        "  {:<12} {:>14} {:>10} {:>10} {:>10} {:>11} {:>11}",
        "kernel", "result", "JIT ms", "Rust ms", "mono ms", "JIT/Rust", "JIT/mono"
    );
    for (name, result, secs) in &kernels {
        let jit_ms = secs * 1e3;
        let (rust_ms, rust_result) = native
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, ms, r)| (*ms, *r))
            .unwrap_or((f64::NAN, 0));
        let mono_ms = mono
            .as_ref()
            .and_then(|m| m.iter().find(|(n, _)| n == name).map(|(_, ms)| *ms))
            .unwrap_or(f64::NAN);
        let agree = if result.trim_start_matches("= ") == rust_result.to_string() {
            ""
        } else {
            "  (result differs from Rust!)"
        };
        println!(
            "  {:<12} {:>14} {:>10.2} {:>10.2} {:>10.2} {:>10.2}x {:>10.2}x{agree}",
            name,
            result.trim_start_matches("= "),
            jit_ms,
            rust_ms,
            mono_ms,
            jit_ms / rust_ms,
            jit_ms / mono_ms
        );
    }
    if mono.is_none() {
        println!("  (mono not installed: no mono column)");
    }
    println!(
        "  compile: {} methods ({} rejected), {} IL bytes -> {} code bytes in {:.1} ms",
        fig.methods,
        fig.failed,
        fig.il_bytes,
        fig.code_bytes,
        fig.seconds * 1e3
    );
    println!(
        "           {:.0} methods/s, {:.0} IL bytes/s, {:.1} us/method vs mono ~{PEER_MONO_US_PER_METHOD:.0} us/method: {:.1}x faster",
        fig.methods_per_s(),
        fig.il_bytes_per_s(),
        fig.us_per_method(),
        PEER_MONO_US_PER_METHOD / fig.us_per_method()
    );
    Ok(())
}
