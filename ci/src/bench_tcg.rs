//! `cargo xtask bench translation`: how much guest code QEMU's TCG translates
//! during a boot, per crate and per function, native beside managed.
//!
//! Under TCG every block of guest code is translated the first time it runs,
//! and on these machines that first run costs more than the work itself: it
//! is most of what the managed driver adds to the boot (`bench boot`). This
//! boots `run=hello` once per driver with `-d in_asm`, counts the translated
//! guest instructions in the log, and attributes each to the kernel symbol
//! that holds it (ELF symbol table, demangled) or to the JIT window (the
//! managed driver's own compiled code, found from the boot log). A deterministic
//! figure, unlike the boot time: it moves only when the code that runs does.

use crate::{artifacts, qemu, setup};
use object::{Object, ObjectSymbol, SymbolKind};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Rows in the per-function table.
const TOP: usize = 40;

pub fn run() -> Result<(), String> {
    setup::ensure()?;
    let kernel = artifacts::build_kernel()?;
    let bundle = crate::managed::bundle()?;
    let image = crate::disk::default_image();
    crate::disk::ensure_image(&crate::disk::default_manifest(), &image)?;
    let symbols = Symbols::read(&kernel)?;
    let dir = artifacts::target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut profiles = Vec::new();
    for driver in ["native", "managed"] {
        let log = dir.join(format!("translation-{driver}.log"));
        let _ = std::fs::remove_file(&log);
        let r = qemu::run(&qemu::Boot {
            initrd: Some(bundle.clone()),
            disks: vec![crate::bench_boot::disk(&image)],
            translation_log: Some(log.clone()),
            ..qemu::Boot::new(
                &kernel,
                format!("driver={driver} run=hello"),
                Duration::from_secs(120),
            )
        })?;
        if !r.passed() {
            return Err(r.failure_report("translation profile: the kernel did not pass"));
        }
        let text = std::fs::read_to_string(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        profiles.push(Profile::of(&text, &symbols, jit_window(&r.serial)));
    }
    print(&profiles[0], &profiles[1]);
    Ok(())
}

/// The JIT window `[start, end)` from the kernel's `mem:` line.
fn jit_window(serial: &str) -> Option<(u64, u64)> {
    let line = serial.lines().find(|l| l.contains("JIT window 0x"))?;
    let rest = line.split("JIT window 0x").nth(1)?;
    let hex: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    let start = u64::from_str_radix(&hex, 16).ok()?;
    let mib: u64 = rest
        .split('(')
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((start, start + (mib << 20)))
}

/// Function symbols of the kernel ELF, sorted by address.
struct Symbols(Vec<(u64, u64, String)>);

impl Symbols {
    fn read(kernel: &Path) -> Result<Symbols, String> {
        let data = std::fs::read(kernel).map_err(|e| format!("{}: {e}", kernel.display()))?;
        let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", kernel.display()))?;
        let mut v: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.address() != 0)
            .filter_map(|s| {
                let name = s.name().ok()?;
                Some((s.address(), s.size().max(1), demangle(name)))
            })
            .collect();
        v.sort_by_key(|s| s.0);
        Ok(Symbols(v))
    }

    fn lookup(&self, addr: u64) -> Option<&str> {
        let i = self.0.partition_point(|s| s.0 <= addr).checked_sub(1)?;
        let (start, size, name) = &self.0[i];
        (addr < start + size).then_some(name.as_str())
    }
}

/// `name` demangled, without the trailing hash.
fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// The crate a demangled path belongs to: its first path segment, looking
/// through `<impl ...>` wrappers; for `<T as Trait>` where `T` is no path
/// (a primitive, a generic parameter), the trait's crate.
fn crate_of(name: &str) -> &str {
    fn first_segment(s: &str) -> (&str, &str) {
        let s = s.trim_start_matches(['<', '&', '*']);
        let s = s.strip_prefix("impl ").unwrap_or(s);
        let s = s.strip_prefix("mut ").unwrap_or(s);
        let s = s.trim_start_matches(['<', '&', '*']);
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        (&s[..end], &s[end..])
    }
    let (seg, rest) = first_segment(name);
    if !rest.starts_with("::") {
        if let Some(t) = rest.split_once(" as ").map(|(_, t)| t) {
            let (trait_seg, trait_rest) = first_segment(t);
            if trait_rest.starts_with("::") {
                return trait_seg;
            }
        }
    }
    if seg.is_empty() {
        name
    } else {
        seg
    }
}

/// Translated guest instructions of one boot.
struct Profile {
    blocks: u64,
    insns: u64,
    by_crate: BTreeMap<String, u64>,
    by_function: BTreeMap<String, u64>,
}

const JIT_CODE: &str = "(JIT output: the managed driver's compiled code)";
const OTHER: &str = "(no symbol: firmware, trampolines)";

impl Profile {
    /// Reads a `-d in_asm` log: an `IN:` line opens each translated block,
    /// then one `0x<address>:  <instruction>` line per guest instruction.
    fn of(log: &str, symbols: &Symbols, jit: Option<(u64, u64)>) -> Profile {
        let mut p = Profile {
            blocks: 0,
            insns: 0,
            by_crate: BTreeMap::new(),
            by_function: BTreeMap::new(),
        };
        for line in log.lines() {
            if line.starts_with("IN:") {
                p.blocks += 1;
                continue;
            }
            let Some(hex) = line.strip_prefix("0x").and_then(|l| l.split(':').next()) else {
                continue;
            };
            let Ok(addr) = u64::from_str_radix(hex.trim(), 16) else {
                continue;
            };
            p.insns += 1;
            let (krate, function) = if jit.is_some_and(|(s, e)| (s..e).contains(&addr)) {
                (JIT_CODE, JIT_CODE)
            } else if let Some(name) = symbols.lookup(addr) {
                (crate_of(name), name)
            } else {
                (OTHER, OTHER)
            };
            *p.by_crate.entry(krate.to_string()).or_default() += 1;
            *p.by_function.entry(function.to_string()).or_default() += 1;
        }
        p
    }
}

fn print(native: &Profile, managed: &Profile) {
    println!("bench translation: guest code QEMU TCG translated during one `run=hello` boot (-d in_asm), by the kernel's symbols");
    println!(
        "  blocks translated:       native {:>7}, managed {:>7}",
        native.blocks, managed.blocks
    );
    println!(
        "  instructions translated: native {:>7}, managed {:>7} ({:.2}x)",
        native.insns,
        managed.insns,
        managed.insns as f64 / native.insns.max(1) as f64
    );
    println!("  per crate (managed minus native first):");
    let mut crates: Vec<(&String, u64, u64)> = managed
        .by_crate
        .keys()
        .chain(native.by_crate.keys())
        .map(|k| {
            let n = native.by_crate.get(k).copied().unwrap_or(0);
            let m = managed.by_crate.get(k).copied().unwrap_or(0);
            (k, n, m)
        })
        .collect();
    crates.sort_by_key(|&(k, n, m)| (std::cmp::Reverse(m as i64 - n as i64), k.clone()));
    crates.dedup_by_key(|c| c.0);
    println!("    {:>8} {:>8} {:>8}  crate", "native", "managed", "diff");
    for (k, n, m) in crates {
        println!("    {n:>8} {m:>8} {:>+8}  {k}", m as i64 - n as i64);
    }
    println!("  the {TOP} functions with the most translated instructions, managed boot:");
    let mut funcs: Vec<(&String, &u64)> = managed.by_function.iter().collect();
    funcs.sort_by_key(|&(k, n)| (std::cmp::Reverse(*n), k.clone()));
    for (k, n) in funcs.into_iter().take(TOP) {
        let shown: String = k.chars().take(110).collect();
        println!("    {n:>7}  {shown}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_of_demangled_paths() {
        assert_eq!(crate_of("jit::compile"), "jit");
        assert_eq!(
            crate_of("<cil_compat::exec::jithost::EngineHost as jit::host::JitHost>::method"),
            "cil_compat"
        );
        assert_eq!(
            crate_of("<impl cil_compat::types::TypeSystem>::ensure"),
            "cil_compat"
        );
        assert_eq!(crate_of("kernel_entry"), "kernel_entry");
        assert_eq!(crate_of("<u64 as core::fmt::Display>::fmt"), "core");
        assert_eq!(crate_of("<&T as core::fmt::Debug>::fmt"), "core");
    }

    #[test]
    fn the_jit_window_comes_from_the_boot_log() {
        let log = "[ 0.0] INFO  mem: W^X on: text RX, JIT window 0xffffa00000000000 (64 MiB, RX, written via the NX direct map)";
        assert_eq!(
            jit_window(log),
            Some((0xffff_a000_0000_0000, 0xffff_a000_0400_0000))
        );
        assert_eq!(jit_window("no such line"), None);
    }

    #[test]
    fn a_log_is_counted_per_block_and_instruction() {
        let symbols = Symbols(vec![(0x1000, 0x100, "jit::compile".into())]);
        let log = "IN: \n0x00001000:  push rbp\n0x00001001:  mov rbp, rsp\n\nIN: \n0x00005000:  ret\n0x00002000:  nop\n";
        let p = Profile::of(log, &symbols, Some((0x5000, 0x6000)));
        assert_eq!((p.blocks, p.insns), (2, 4));
        assert_eq!(p.by_crate["jit"], 2);
        assert_eq!(p.by_function[JIT_CODE], 1);
        assert_eq!(p.by_function[OTHER], 1);
    }
}
