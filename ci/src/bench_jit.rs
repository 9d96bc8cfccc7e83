//! `cargo xtask bench jit`: the three JIT kernels (fib(30), a sieve to 10^7
//! over `byte[]`, CRC32 over 16 MiB) through our JIT, as native Rust, and
//! under mono, side by side with ratios; plus compile throughput over the
//! corlib and the conformance corpus, ours and mono's, both measured in this
//! run (ours: the median of `COMPILE_PASSES` passes, each on a fresh engine
//! that loads every type it needs during the pass; mono's: the marginal cost
//! of its repeated `--compile-all` passes). Both sides' C# is compiled with
//! `mcs -optimize+`. Figures only, no assertions.

use cil_compat::exec::cli;
use cil_compat::toolchain;
use cil_compat::types::TypeSystem;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[cfg(test)]
mod tests {
    #[test]
    fn mono_stats_compiled_methods() {
        let stats = "JIT statistics\nHazardous pointers                  : 0\nCompiled methods                    : 1015\nMethods from AOT                    : 57\n";
        assert_eq!(super::compiled_methods(stats), Some(1015));
        assert_eq!(super::compiled_methods("Compiled methods: many"), None);
        assert_eq!(super::compiled_methods(""), None);
    }
}

#[path = "../../jit/tests/corpus/bench/native.rs"]
mod native;

const RUNS: usize = 5;
/// Compile passes over the corpus, each on a fresh engine (median reported).
const COMPILE_PASSES: usize = 5;
/// `mono --compile-all=N` passes of the long run of the compile benchmark.
const MONO_PASSES: u32 = 11;

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

/// Mono's JIT compile speed, measured: `mono --stats --compile-all=N` over
/// the conformance corpus (built against mono's own corlib, `-optimize+`)
/// with N = 1 and N = MONO_PASSES, three times each; the difference of the
/// median wall times over the difference of the `Compiled methods` counts
/// is the time per method without mono's start-up. `None` without mono.
fn mono_compile_us_per_method(
    corpus_src: &[std::path::PathBuf],
) -> Result<Option<(f64, u64)>, String> {
    let (Some(mcs), Some(mono)) = (crate::setup::find("mcs"), crate::setup::find("mono")) else {
        return Ok(None);
    };
    let dir = toolchain::managed_dir().join("mono-bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dll = dir.join("Corpus.dll");
    let out = Command::new(mcs)
        .args([
            "-optimize+",
            "-unsafe",
            "-target:library",
            "-nologo",
            "-nowarn:1718",
        ])
        .arg(format!("-out:{}", dll.display()))
        .args(corpus_src)
        .output()
        .map_err(|e| format!("mcs: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "mcs (corpus for mono) failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    let at = |passes: u32| -> Result<(f64, u64), String> {
        let mut times = Vec::new();
        let mut methods = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let out = Command::new(&mono)
                .arg("--stats")
                .arg(format!("--compile-all={passes}"))
                .arg(&dll)
                .output()
                .map_err(|e| format!("mono: {e}"))?;
            times.push(t.elapsed().as_secs_f64());
            if !out.status.success() {
                return Err(format!(
                    "mono --compile-all failed:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            methods = compiled_methods(&String::from_utf8_lossy(&out.stdout))
                .ok_or("mono --stats printed no `Compiled methods` line")?;
        }
        Ok((median(times), methods))
    };
    let (t1, m1) = at(1)?;
    let (tn, mn) = at(MONO_PASSES)?;
    if mn <= m1 {
        return Err(format!(
            "mono compiled {mn} methods in {MONO_PASSES} passes, {m1} in one"
        ));
    }
    Ok(Some(((tn - t1) * 1e6 / (mn - m1) as f64, mn - m1)))
}

/// `Compiled methods                    : 1015` from `mono --stats`.
fn compiled_methods(stats: &str) -> Option<u64> {
    stats
        .lines()
        .find_map(|l| l.trim().strip_prefix("Compiled methods"))?
        .trim_start()
        .strip_prefix(':')?
        .trim()
        .parse()
        .ok()
}

/// Builds `sources` against our corlib with `mcs -optimize+` (as mono's side).
fn build_optimized(
    name: &str,
    sources: &[std::path::PathBuf],
) -> Result<std::path::PathBuf, String> {
    let err = |e: cil_compat::error::Error| e.to_string();
    let corlib = toolchain::corlib().map_err(err)?;
    let out = toolchain::managed_dir().join(format!("{name}.dll"));
    toolchain::compile_cs(
        sources,
        &out,
        &toolchain::CsOptions {
            references: vec![corlib],
            extra: vec!["-optimize+".into(), "-nowarn:1718".into()],
            ..toolchain::CsOptions::default()
        },
    )
    .map_err(err)?;
    Ok(out)
}

pub fn run() -> Result<(), String> {
    let err = |e: cil_compat::error::Error| e.to_string();
    let root = toolchain::workspace_root();
    let bench_cs = root.join("jit/tests/corpus/bench/Bench.cs");
    let corlib = toolchain::corlib().map_err(err)?;
    let bench = build_optimized("jit_bench_opt", std::slice::from_ref(&bench_cs))?;
    let corpus_src = toolchain::cs_files(&root.join("jit/tests/corpus")).map_err(err)?;
    let corpus = build_optimized("jit_corpus_opt", &corpus_src)?;

    let dirs = vec![toolchain::managed_dir()];
    // A fresh engine per compile pass: each loads the assemblies (untimed)
    // and compiles everything, types of generic instances loaded on the way
    // included (timed). The first pass also runs in a cold process, so the
    // figure is the median of the passes, as mono's is the median of its
    // runs in a process that compiled the same methods before.
    let load = || -> Result<_, String> {
        let mut ts = TypeSystem::new();
        let b = cil_compat::host::load_with_deps(&mut ts, &bench, &dirs).map_err(err)?;
        let c = cil_compat::host::load_with_deps(&mut ts, &corpus, &dirs).map_err(err)?;
        let lib = ts
            .corlib()
            .ok_or_else(|| format!("{} did not load as the corlib", corlib.display()))?;
        Ok((cli::engine(ts), lib, b, c))
    };
    let mut pass_seconds = Vec::new();
    for _ in 1..COMPILE_PASSES {
        let (mut engine, lib, _, c) = load()?;
        pass_seconds.push(cli::compile_all(&mut engine, &[lib, c]).seconds);
    }
    let (mut engine, lib, b, c) = load()?;
    let (mut fig, kernels) = cli::bench_jit(&mut engine, &[lib, c], Some(b), RUNS);
    pass_seconds.push(fig.seconds);
    let cold_us = 1e6 * pass_seconds[0] / fig.methods.max(1) as f64;
    let (fastest, slowest) = pass_seconds
        .iter()
        .fold((f64::MAX, 0f64), |(lo, hi), &s| (lo.min(s), hi.max(s)));
    fig.seconds = median(pass_seconds);

    let native = native_figures();
    let mono = mono_figures(&bench_cs)?;
    let mono_compile = mono_compile_us_per_method(&corpus_src)?;

    println!("bench jit (host, median of {RUNS} runs after a warm-up, both sides built with mcs -optimize+; ratio = ours / theirs, lower is better)");
    println!(
        "  {:<12} {:>14} {:>10} {:>10} {:>10} {:>11} {:>11}",
        "kernel", "result", "JIT ms", "Rust ms", "mono ms", "JIT/Rust", "JIT/mono"
    );
    let mut metrics = Vec::new();
    // A single value as a chart statistic (no spread shown: the table prints medians).
    let one = |v: f64| {
        (v.is_finite()).then_some(crate::chart::Stat {
            median: v,
            min: v,
            max: v,
        })
    };
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
        metrics.push(crate::chart::Metric {
            name: name.clone(),
            unit: "ms".into(),
            values: vec![one(jit_ms), one(rust_ms), one(mono_ms)],
        });
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
        "           {:.0} methods/s, {:.0} IL bytes/s, {:.1} us/method (median of {COMPILE_PASSES} passes, each a fresh engine; fastest {:.1}, slowest {:.1}, the first, in a cold process, {:.1})",
        fig.methods_per_s(),
        fig.il_bytes_per_s(),
        fig.us_per_method(),
        1e6 * fastest / fig.methods.max(1) as f64,
        1e6 * slowest / fig.methods.max(1) as f64,
        cold_us,
    );
    match mono_compile {
        Some((us, methods)) => println!(
            "  mono:    {us:.1} us/method measured now (`mono --stats --compile-all`, the corpus, {methods} methods over {} extra passes, start-up subtracted): ours {:.2}x mono's time",
            MONO_PASSES - 1,
            fig.us_per_method() / us
        ),
        None => println!("  (mono not installed: no mono compile figure)"),
    }
    metrics.push(crate::chart::Metric {
        name: "JIT compile time per method".into(),
        unit: "us".into(),
        values: vec![
            one(fig.us_per_method()),
            None,
            mono_compile.and_then(|(us, _)| one(us)),
        ],
    });
    let path = crate::artifacts::target_dir().join("bench/jit.svg");
    crate::chart::write_svg(
        &crate::chart::Chart {
            title: format!("bench jit: median of {RUNS} runs (lower is better)"),
            columns: vec!["our JIT".into(), "Rust".into(), "mono".into()],
            metrics,
            curve: None,
        },
        &path,
    )?;
    println!("  chart: {}", path.display());
    Ok(())
}
