//! Tests of the `cargo xtask` command line: the clap definition is
//! consistent, every subcommand answers `--help` with its usage and nothing
//! else, a bad option is a usage error (exit 2), and the kernel keys listed
//! by `--help` are the kernel's.

use super::*;
use clap::error::ErrorKind;

/// Every subcommand path, leaves and inner nodes: `["disk", "build"]`, ...
fn paths(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let mut p = prefix.to_vec();
        p.push(sub.get_name().to_string());
        out.push(p.clone());
        paths(sub, &p, out);
    }
}

fn all_paths() -> Vec<Vec<String>> {
    let mut out = Vec::new();
    paths(&Cli::command(), &[], &mut out);
    out
}

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("xtask").chain(args.iter().copied()))
}

#[test]
fn the_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn every_subcommand_has_help_that_does_nothing_else() {
    let paths = all_paths();
    // run, test, matrix, bench (boot, blk, jit, load, translation), disk
    // (build, empty, foreign, check, locate, diff), managed, fuzz, faults,
    // build, setup.
    assert_eq!(paths.len(), 21, "{paths:?}");
    for p in paths {
        let mut args: Vec<&str> = p.iter().map(String::as_str).collect();
        args.push("--help");
        let err = parse(&args).expect_err("--help stops parsing");
        assert_eq!(err.kind(), ErrorKind::DisplayHelp, "{p:?}");
        assert_eq!(err.exit_code(), 0, "{p:?}");
        let text = err.render().to_string();
        assert!(
            text.contains(&format!("Usage: cargo xtask {}", p.join(" "))),
            "{p:?}: {text}"
        );
    }
}

#[test]
fn a_bad_option_is_a_usage_error_with_a_hint() {
    for p in all_paths() {
        let mut args: Vec<&str> = p.iter().map(String::as_str).collect();
        args.push("--no-such-option");
        let err = parse(&args).expect_err("an unknown option is refused");
        assert_eq!(err.exit_code(), 2, "{p:?}");
        assert!(err.render().to_string().contains("--help"), "{p:?}");
    }
}

#[test]
fn options_parse_as_before() {
    let Cmd::Run(r) = parse(&[
        "run",
        "--driver",
        "native",
        "--disk",
        "a.img",
        "--disk",
        "b.img",
        "--legacy",
        "--timeout",
        "5",
        "--",
        "run=copytree",
        "log=debug",
    ])
    .unwrap()
    .command
    else {
        panic!("run")
    };
    assert_eq!(r.driver, Some(Driver::Native));
    assert_eq!(r.disks, [PathBuf::from("a.img"), PathBuf::from("b.img")]);
    assert!(r.legacy && !r.gdb);
    assert_eq!(r.timeout, Some(5));
    assert_eq!(r.kernel_args, ["run=copytree", "log=debug"]);
    assert!(parse(&["run", "--initrd", "x", "--no-module"]).is_err());
    assert!(parse(&["run", "--driver", "fast"]).is_err());
    assert!(parse(&["run", "--firmware", "ovmf"]).is_err());
    assert!(parse(&["test", "--host-only", "--only", "x"]).is_err());
    let Cmd::Bench(bench::Args::Blk(_)) = parse(&[
        "bench",
        "blk",
        "--driver",
        "managed,native",
        "--repeat",
        "1",
    ])
    .unwrap()
    .command
    else {
        panic!("bench blk")
    };
    assert!(parse(&["bench", "blk", "--repeat", "0"]).is_err());
    assert!(parse(&["bench", "blk", "--driver", "nope"]).is_err());
    let Cmd::Bench(bench::Args::Blk(b)) = parse(&["bench", "blk", "--driver", "linux"])
        .unwrap()
        .command
    else {
        panic!("bench blk --driver linux")
    };
    assert_eq!(format!("{b:?}").matches("Linux").count(), 1, "{b:?}");
    assert!(parse(&["disk", "check"]).is_err(), "IMAGE is required");
    assert!(parse(&["disk", "empty"]).is_err(), "--out is required");
    assert!(
        parse(&["disk", "locate", "x.img"]).is_err(),
        "BYTE is required"
    );
    assert!(
        parse(&["managed", "--at", "3"]).is_err(),
        "--at needs --fault"
    );
    assert!(parse(&["managed", "--fault", "nope"]).is_err());
    assert!(parse(&["managed", "--fault", "null-deref", "--at", "3"]).is_ok());
    assert!(parse(&["matrix", "--full", "--images", "small"]).is_err());
    assert!(parse(&["fuzz", "--time", "soon"]).is_err());
}

#[test]
fn the_driver_comes_from_the_flag_or_the_key() {
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        kernel_cmdline(None, &args(&["run=hello"])).unwrap(),
        ["driver=auto", "run=hello"]
    );
    assert_eq!(
        kernel_cmdline(Some(Driver::Native), &args(&[])).unwrap(),
        ["driver=native"]
    );
    // The README's `cargo xtask run -- driver=managed`: the key alone.
    assert_eq!(
        kernel_cmdline(None, &args(&["driver=managed"])).unwrap(),
        ["driver=managed"]
    );
    assert_eq!(
        kernel_cmdline(Some(Driver::Managed), &args(&["driver=managed"])).unwrap(),
        ["driver=managed"]
    );
    let e = kernel_cmdline(Some(Driver::Native), &args(&["driver=managed"])).unwrap_err();
    assert!(
        e.contains("--driver native") && e.contains("driver=managed"),
        "{e}"
    );
}

/// The kernel's own lists, read from its source: `--help` must name every
/// key `cmdline::parse` accepts and every run `runs::RUNS` has.
#[test]
fn help_lists_the_kernels_keys_and_runs() {
    let root = artifacts::workspace_root();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let cmdline = read("kernel/logic/src/cmdline.rs");
    let parse_fn = &cmdline[cmdline.find("pub fn parse").unwrap()..];
    let keys: Vec<&str> = parse_fn
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix('"')?
                .split_once("\" =>")
                .map(|(k, _)| k)
        })
        .filter(|k| !k.contains('"'))
        .collect();
    for want in ["driver", "run", "log", "restart"] {
        assert!(keys.contains(&want), "{keys:?}");
    }
    for k in keys
        .iter()
        .filter(|k| ["driver", "run", "log", "restart"].contains(k))
    {
        assert!(KERNEL_KEYS.contains(&format!("{k}=")), "help lacks {k}=");
    }
    let runs = read("kernel/src/runs/mod.rs");
    let list = runs
        .split("pub const RUNS: &[&str] = &[")
        .nth(1)
        .and_then(|r| r.split("];").next())
        .unwrap();
    let names: Vec<&str> = list
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
        .collect();
    assert!(names.len() >= 10, "{names:?}");
    for n in names {
        assert!(
            KERNEL_KEYS
                .split(|c: char| c == ',' || c.is_whitespace())
                .any(|w| w == n),
            "`cargo xtask --help` does not list run={n}"
        );
    }
    for level in ["error", "warn", "info", "debug", "trace"] {
        assert!(KERNEL_KEYS.contains(level));
    }
}

/// A run without --disk boots a copy, so writes never reach the default
/// image; with --disk, the image itself.
#[test]
fn runs_write_to_a_scratch_copy_unless_given_a_disk() {
    let (disks, scratch) = boot_disks(Vec::new()).unwrap();
    let copy = scratch.expect("a scratch copy");
    assert_eq!(disks, std::slice::from_ref(&copy));
    assert_ne!(copy, disk::default_image());
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(disk::default_image()).unwrap()
    );
    std::fs::remove_file(&copy).unwrap();
    let mine = PathBuf::from("mine.img");
    let (disks, scratch) = boot_disks(vec![mine.clone()]).unwrap();
    assert_eq!(disks, [mine]);
    assert!(scratch.is_none());
}

/// `managed --help` names every fault kind the runner can build.
#[test]
fn managed_help_lists_every_fault_kind() {
    let err = parse(&["managed", "--help"]).unwrap_err();
    let text = err.render().to_string().replace(char::is_whitespace, "");
    for k in managed::FaultKind::ALL {
        assert!(text.contains(k.name()), "{} missing:\n{text}", k.name());
    }
}

/// `cargo xtask` is not run with `--quiet`: a first use compiles the runner
/// for a minute or more, and cargo's progress must show.
#[test]
fn the_alias_shows_the_first_build() {
    let config =
        std::fs::read_to_string(artifacts::workspace_root().join(".cargo/config.toml")).unwrap();
    let alias = config
        .lines()
        .find(|l| l.trim_start().starts_with("xtask ="))
        .expect("the xtask alias");
    assert!(alias.contains("--package xtask"), "{alias}");
    assert!(!alias.contains("--quiet"), "{alias}");
}
