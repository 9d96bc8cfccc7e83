//! The `cargo xtask` binary's exit statuses for usage errors and `--help`,
//! run as a user runs it (nothing here builds or boots anything).

use std::process::Command;

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("the xtask binary runs")
}

#[test]
fn help_prints_usage_and_exits_0() {
    for args in [
        &["--help"][..],
        &["bench", "blk", "--help"],
        &["disk", "check", "--help"],
    ] {
        let out = xtask(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: cargo xtask"), "{args:?}: {text}");
    }
    let top = String::from_utf8_lossy(&xtask(&["--help"]).stdout).into_owned();
    assert!(
        top.contains("driver=native|managed|auto") && top.contains("log=error"),
        "{top}"
    );
}

#[test]
fn usage_errors_exit_2_with_a_hint() {
    for args in [
        &["bench", "blk", "--bogus"][..],
        &["run", "--driver", "native", "--", "driver=managed"],
        &["frobnicate"],
    ] {
        let out = xtask(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--help"), "{args:?}: {err}");
    }
    let out = xtask(&["run", "--driver", "native", "--", "driver=managed"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("disagree"), "{err}");
}

/// A wrong --disk or --initrd is reported at once, before any build, saying
/// what the path is.
#[test]
fn bad_paths_are_named_before_building() {
    let dir = std::env::temp_dir();
    let out = xtask(&["run", "--disk", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is a directory"), "{err}");
    let out = xtask(&["run", "--initrd", "/nonexistent/managed.cpio"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("/nonexistent/managed.cpio: No such file"),
        "{err}"
    );
}
