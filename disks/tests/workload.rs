//! Host tests of the matrix workload (`disks::workload`): on the default image
//! two runs give the same transcript and the same bytes and leave a volume
//! `fsck.fat -n` accepts; a nearly full volume and a read-only device turn
//! refusals into transcript lines and still reach `END`; the hook between
//! phases runs where the kernel swaps drivers.

mod common;

use disks::build::build_image_bytes;
use disks::mem::MemDisk;
use disks::workload::{self, Phase, Summary, WorkloadError};
use disks::{ImageSpec, DEFAULT_MANIFEST};

fn default_image() -> Vec<u8> {
    build_image_bytes(&ImageSpec::parse(DEFAULT_MANIFEST).unwrap())
        .unwrap()
        .0
}

/// Runs the workload on a copy of `image`; returns the transcript, the
/// counters and the resulting bytes.
fn run_on(disk: MemDisk) -> (String, Summary, Vec<u8>) {
    let mut out = String::new();
    let o = workload::run(disk, workload::time_source(), &mut out, &mut |_| Ok(()));
    let summary = o
        .result
        .unwrap_or_else(|e| panic!("workload stopped: {e}\n{out}"));
    (out, summary, o.device.expect("device back").into_vec())
}

fn assert_transcript_shape(t: &str) {
    for l in t.lines() {
        assert!(
            l.starts_with("workload: "),
            "line without the prefix: {l:?}"
        );
    }
    assert_eq!(t.lines().last(), Some("workload: END"), "{t}");
    assert!(!t.contains("MISMATCH"), "{t}");
}

#[test]
fn default_image_gives_the_same_transcript_and_bytes_twice() {
    let img = default_image();
    let (t1, s1, out1) = run_on(MemDisk::from_vec(img.clone()));
    let (t2, s2, out2) = run_on(MemDisk::from_vec(img.clone()));
    assert_eq!(t1, t2);
    assert_eq!(s1, s2);
    assert!(out1 == out2, "the two runs left different images");
    assert_ne!(out1, img, "the workload wrote nothing");
    assert_transcript_shape(&t1);
    assert_eq!(s1.mismatches, 0);
    for want in [
        "workload: phase verify",
        "workload: file /hello.txt: 14 B, sha256 ",
        "workload: write /WORKLOAD/large.bin (5247201 B): ok",
        "workload: truncate /WORKLOAD/large.bin to 1048593 B: ok",
        "workload: rename /WORKLOAD/sub -> /WORKLOAD/Subdirectory Renamed: ok",
        "workload:   /WORKLOAD/Subdirectory Renamed/moved.txt: 1000 B, sha256 ",
        "workload: rename /WORKLOAD/small.txt -> /WORKLOAD/log.txt: error: /WORKLOAD/log.txt: already exists",
        "a directory can only be renamed within its parent",
        "workload: remove /WORKLOAD/doomed dir: error: /WORKLOAD/doomed dir: directory not empty",
        "workload: remove-all /WORKLOAD/doomed dir: ok",
        "workload: truncate /WORKLOAD/small.txt to 1000000 B: error:",
        "workload: flush: ok",
        "workload: remount: ok",
        "workload: file /WORKLOAD/Subdirectory Renamed/nested.bin: 600 B, sha256 ",
        ", modified 2026-03-14 15:09:26",
        "workload:   /WORKLOAD/doomed.txt: absent",
        "workload: checked ",
        " removed paths: 0 mismatches",
    ] {
        assert!(t1.contains(want), "transcript lacks {want:?}:\n{t1}");
    }
    common::assert_fsck_clean(&out1, "workload-default.img");
    // Run again on its own result: the previous work directory goes first.
    let (t3, s3, out3) = run_on(MemDisk::from_vec(out1));
    assert_transcript_shape(&t3);
    assert!(t3.contains("workload: remove-all /WORKLOAD: ok"), "{t3}");
    assert_eq!(s3.mismatches, 0);
    common::assert_fsck_clean(&out3, "workload-default-again.img");
}

/// 34 MiB with 512-byte clusters, 29 MiB already used: the 5 MiB file does
/// not fit; once truncated, it leaves room for the rest.
const NEARLY_FULL: &str = r#"
image-size 34M
cluster-size 512
label FULL
volume-id 0x0F0F0F0F
timestamp 2025-01-01 00:00:00
file /filler.bin random 29M seed=1
file /hello.txt text "still here\n"
"#;

#[test]
fn nearly_full_volume_prints_no_space_and_goes_on() {
    let img = build_image_bytes(&ImageSpec::parse(NEARLY_FULL).unwrap())
        .unwrap()
        .0;
    let (t1, s1, out1) = run_on(MemDisk::from_vec(img.clone()));
    let (t2, _, out2) = run_on(MemDisk::from_vec(img));
    assert_eq!(t1, t2);
    assert!(out1 == out2, "the two runs left different images");
    assert_transcript_shape(&t1);
    assert!(t1.contains(": error: no space left on the volume"), "{t1}");
    // What a refused write left behind is printed, and later checks agree.
    assert!(t1.contains(": now "), "{t1}");
    if std::env::var_os("WORKLOAD_PRINT").is_some() {
        println!("{t1}");
    }
    assert!(s1.errors > 0 && s1.mismatches == 0, "{s1:?}");
    common::assert_fsck_clean(&out1, "workload-full.img");
}

#[test]
fn read_only_device_refuses_every_write_and_still_verifies() {
    let img = default_image();
    let (t, s, out) = run_on(MemDisk::from_vec(img.clone()).read_only());
    assert!(out == img, "a read-only device changed");
    assert_transcript_shape(&t);
    // Nothing but the flush of a clean cache and the remount succeeds.
    for l in t.lines().filter(|l| l.ends_with(": ok")) {
        assert!(
            l == "workload: flush: ok" || l == "workload: remount: ok",
            "{l}"
        );
    }
    // Every write the device itself sees is refused with the block layer's
    // words, the same for every driver; the rest fail for want of a parent.
    let refused = "error: I/O error: block device error: device is read-only";
    assert!(
        t.contains(&format!("workload: mkdir /WORKLOAD: {refused}\n")),
        "{t}"
    );
    assert!(
        t.contains(
            "workload: mkdir /WORKLOAD/small.txt: error: /WORKLOAD: no such file or directory"
        ),
        "{t}"
    );
    assert!(t.contains("workload: tree: "), "{t}");
    assert_eq!(s.mismatches, 0);
    assert!(s.errors > 10, "{s:?}");
}

#[test]
fn the_hook_runs_after_every_phase_and_can_stop_the_run() {
    let img = default_image();
    let mut seen = Vec::new();
    let mut out = String::new();
    let o = workload::run(
        MemDisk::from_vec(img.clone()),
        workload::time_source(),
        &mut out,
        &mut |p| {
            seen.push(p);
            Ok(())
        },
    );
    assert!(o.result.is_ok());
    assert_eq!(seen, Phase::ALL);

    let mut out = String::new();
    let o = workload::run(
        MemDisk::from_vec(img),
        workload::time_source(),
        &mut out,
        &mut |p| match p {
            Phase::Create => Err("swap failed".into()),
            _ => Ok(()),
        },
    );
    assert_eq!(
        o.result.unwrap_err(),
        WorkloadError::Hook {
            after: Phase::Create,
            message: "swap failed".into()
        }
    );
    assert!(o.device.is_some(), "the device comes back");
    assert!(!out.contains("workload: END"));
}

#[test]
fn an_unformatted_device_is_a_mount_error_with_the_device_back() {
    let mut out = String::new();
    let o = workload::run(
        MemDisk::zeroed(1 << 20),
        workload::time_source(),
        &mut out,
        &mut |_| Ok(()),
    );
    assert!(matches!(o.result, Err(WorkloadError::Mount(_))));
    assert!(o.device.is_some());
    assert!(out.is_empty(), "{out}");
}
