//! Host tests of the mounted-volume API the kernel uses: shell commands and
//! their output, a device that fails mid-way, a read-only device, and the
//! fatfs read path's device-request figures.

mod common;

use ddk::{BlockDevice, BlockError, Lba};
use disks::build::build_image_bytes;
use disks::fs::{FsError, TimeSource, Timestamp, Volume};
use disks::mem::MemDisk;
use disks::shell::{run_command, CommandStatus};
use disks::{selftest, ImageSpec, DEFAULT_MANIFEST};

const SMALL: &str = r#"
image-size 34M
label SHELLTEST
volume-id 0xABCDEF01
timestamp 2025-06-01 08:30:00
file /hello.txt text "Hello, world!\n"
file "/Some Dir/Nested/long file name.txt" text "nested\n"
file /bin.dat random 4K seed=9
file /big.bin random 300K seed=10
"#;

fn clock() -> Timestamp {
    Timestamp::new(2026, 11, 27, 22, 0, 0)
}

fn small_volume() -> Volume<MemDisk> {
    let spec = ImageSpec::parse(SMALL).unwrap();
    let (img, _) = build_image_bytes(&spec).unwrap();
    Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap()
}

fn sh(vol: &Volume<MemDisk>, line: &str) -> (CommandStatus, String) {
    let mut out = String::new();
    let st = run_command(vol, line, &mut out).unwrap();
    (st, out)
}

#[test]
fn shell_commands_work_and_persist() {
    let vol = small_volume();
    let (st, out) = sh(&vol, "ls");
    assert_eq!(st, CommandStatus::Ok);
    assert!(
        out.contains("-         14 2025-06-01 08:30:00  hello.txt\n"),
        "{out}"
    );
    assert!(
        out.contains("d          - 2025-06-01 08:30:00  Some Dir/\n"),
        "{out}"
    );
    assert!(out.contains("MANIFEST.SHA"), "{out}");

    assert_eq!(
        sh(&vol, "cat /hello.txt"),
        (CommandStatus::Ok, "Hello, world!\n".into())
    );
    let (st, out) = sh(&vol, "cat \"/some dir/nested/LONG FILE NAME.txt\"");
    assert_eq!((st, out.as_str()), (CommandStatus::Ok, "nested\n"));
    let (st, out) = sh(&vol, "cat /bin.dat");
    assert_eq!(st, CommandStatus::Ok);
    assert!(
        out.starts_with("/bin.dat: binary file, 4096 bytes"),
        "{out}"
    );

    let (st, out) = sh(&vol, "mkdir \"/New Dir/Sub Dir\"");
    assert_eq!(
        (st, out.as_str()),
        (CommandStatus::Ok, "created /New Dir/Sub Dir\n")
    );
    let (st, out) = sh(
        &vol,
        "write \"/New Dir/Sub Dir/a note.txt\" some   words here",
    );
    assert_eq!(st, CommandStatus::Ok);
    assert_eq!(out, "wrote 16 bytes to /New Dir/Sub Dir/a note.txt\n");
    let (_, out) = sh(&vol, "cat \"/New Dir/Sub Dir/a note.txt\"");
    assert_eq!(out, "some words here\n");

    let (st, out) = sh(&vol, "stat \"/New Dir/Sub Dir/a note.txt\"");
    assert_eq!(st, CommandStatus::Ok);
    assert!(out.contains("name: a note.txt\n"), "{out}");
    assert!(out.contains("type: file\nsize: 16\n"), "{out}");
    assert!(out.contains("modified: 2026-11-27 22:00:00\n"), "{out}");

    let (st, out) = sh(&vol, "df");
    assert_eq!(st, CommandStatus::Ok);
    assert!(
        out.starts_with("FAT32 \"SHELLTEST\" id ABCDEF01: "),
        "{out}"
    );

    // Errors are one clear line, and the status says so.
    let (st, out) = sh(&vol, "rm \"/New Dir\"");
    assert_eq!(
        (st, out.as_str()),
        (CommandStatus::Failed, "rm: /New Dir: directory not empty\n")
    );
    let (st, out) = sh(&vol, "cat /nope.txt");
    assert_eq!(
        (st, out.as_str()),
        (
            CommandStatus::Failed,
            "cat: /nope.txt: no such file or directory\n"
        )
    );
    let (st, out) = sh(&vol, "cat");
    assert_eq!(
        (st, out.as_str()),
        (CommandStatus::Failed, "cat: usage: cat path\n")
    );
    let (st, out) = sh(&vol, "mkdir /hello.txt");
    assert_eq!(
        (st, out.as_str()),
        (CommandStatus::Failed, "mkdir: /hello.txt: already exists\n")
    );
    let (st, out) = sh(&vol, "write /Ünicode-first.txt x");
    assert_eq!(st, CommandStatus::Failed, "{out}");
    let (st, _) = sh(&vol, "ls \"/unterminated");
    assert_eq!(st, CommandStatus::Failed);

    // Not ours: the kernel handles these.
    assert_eq!(sh(&vol, "devices").0, CommandStatus::NotMine);
    assert_eq!(sh(&vol, "drivers").0, CommandStatus::NotMine);
    assert_eq!(sh(&vol, "   ").0, CommandStatus::Empty);

    assert_eq!(
        sh(&vol, "rm \"/New Dir/Sub Dir/a note.txt\"").0,
        CommandStatus::Ok
    );
    assert_eq!(sh(&vol, "rm \"/New Dir/Sub Dir\"").0, CommandStatus::Ok);
    assert_eq!(sh(&vol, "write /kept.txt still here").0, CommandStatus::Ok);
    // `write` flushed: a copy of the device taken now (as if the machine died)
    // already holds the file.
    let snapshot = vol.with_device(|d| d.clone());
    let crashed = Volume::mount(snapshot, TimeSource::Clock(clock)).unwrap();
    assert_eq!(crashed.read_file("/kept.txt").unwrap(), b"still here\n");
    drop(crashed);

    // Everything survives an unmount, and the image is fsck-clean.
    let dev = vol.unmount().unwrap();
    let path = common::temp_path("shell.img");
    std::fs::write(&path, dev.as_slice()).unwrap();
    let (clean, out) = common::fsck(&path);
    assert!(clean, "fsck.fat -n after shell commands:\n{out}");
    let vol = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
    assert_eq!(vol.read_file("/kept.txt").unwrap(), b"still here\n");
    assert!(vol.list_dir("/New Dir").unwrap().is_empty());
    let _ = std::fs::remove_file(&path);
}

/// Wraps a device; after `budget` requests every request fails with `Io`.
struct Flaky<D> {
    inner: D,
    budget: u64,
}

impl<D: BlockDevice> Flaky<D> {
    fn spend(&mut self) -> Result<(), BlockError> {
        if self.budget == 0 {
            return Err(BlockError::Io);
        }
        self.budget -= 1;
        Ok(())
    }
}

impl<D: BlockDevice> BlockDevice for Flaky<D> {
    fn block_size(&self) -> usize {
        self.inner.block_size()
    }
    fn block_count(&self) -> u64 {
        self.inner.block_count()
    }
    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        self.spend()?;
        self.inner.read_blocks(lba, buf)
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        self.spend()?;
        self.inner.write_blocks(lba, buf)
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        self.spend()?;
        self.inner.flush()
    }
}

#[test]
fn device_failing_mid_selftest_fails_the_verdict_without_panicking() {
    let spec = ImageSpec::parse(DEFAULT_MANIFEST).unwrap();
    let (img, _) = build_image_bytes(&spec).unwrap();
    // How many requests a clean run makes, then fail at points spread over it.
    let mut log = String::new();
    let clean = selftest::run(
        Flaky {
            inner: MemDisk::from_vec(img.clone()),
            budget: u64::MAX,
        },
        TimeSource::Clock(clock),
        &mut log,
    );
    assert!(clean.passed, "{log}");
    let total = u64::MAX - clean.device.unwrap().budget;
    println!("a clean selftest run makes {total} device requests");
    for budget in [
        0,
        2,
        total / 100,
        total / 10,
        total * 3 / 10,
        total * 6 / 10,
        total * 9 / 10,
        total - 1,
    ] {
        let dev = Flaky {
            inner: MemDisk::from_vec(img.clone()),
            budget,
        };
        let mut log = String::new();
        let o = selftest::run(dev, TimeSource::Clock(clock), &mut log);
        assert!(
            !o.passed,
            "budget {budget}: passed on a failing device:\n{log}"
        );
        assert!(
            log.contains("FAILED: I/O error: block device error: device I/O error"),
            "budget {budget}:\n{log}"
        );
        assert!(
            log.lines().last().unwrap().starts_with("selftest: FAIL ("),
            "{log}"
        );
    }
}

#[test]
fn read_only_device_mounts_and_refuses_writes() {
    let spec = ImageSpec::parse(SMALL).unwrap();
    let (img, _) = build_image_bytes(&spec).unwrap();
    let vol = Volume::mount(MemDisk::from_vec(img).read_only(), TimeSource::Clock(clock)).unwrap();
    assert_eq!(vol.read_file("/hello.txt").unwrap(), b"Hello, world!\n");
    let e = vol.write_file("/new.txt", b"x").unwrap_err();
    assert_eq!(e.block_error(), Some(BlockError::ReadOnly), "{e}");
    assert_eq!(
        e.to_string(),
        "I/O error: block device error: device is read-only"
    );
    let mut out = String::new();
    assert_eq!(
        run_command(&vol, "mkdir /x", &mut out).unwrap(),
        CommandStatus::Failed
    );
    assert!(out.contains("read-only"), "{out}");
}

#[test]
fn fatfs_read_figures() {
    // Prints how many device requests a large-file read through fatfs costs;
    // the only assertion is that the bytes are right.
    let spec = ImageSpec::parse(DEFAULT_MANIFEST).unwrap();
    let (img, _) = build_image_bytes(&spec).unwrap();
    let vol = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    let before = vol.cache_stats();
    let t = std::time::Instant::now();
    let mut buf = vec![0u8; 1 << 20];
    let (sha, len) = vol.sha256_file("/bench/BIG16M.BIN", &mut buf).unwrap();
    let el = t.elapsed();
    let after = vol.cache_stats();
    let want = spec
        .files()
        .find(|f| f.path == "/bench/BIG16M.BIN")
        .unwrap();
    assert_eq!(len, want.content.len());
    let want_sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(want.content.to_vec()).into();
    assert_eq!(sha, want_sha);
    println!(
        "fatfs read of 16 MiB (host, MemDisk, incl. sha256): {:.2?}, {} device reads, {} cache hits, {} misses",
        el,
        after.device_reads - before.device_reads,
        after.hits - before.hits,
        after.misses - before.misses
    );
    let _ = FsError::NoSpace;
}

#[test]
fn odd_shell_input_is_refused_cleanly() {
    let vol = small_volume();
    let long = "n".repeat(300);
    let lines = [
        "write /a*b.txt x".to_string(),
        "write \"/a:b\" x".to_string(),
        "mkdir /".to_string(),
        "rm /".to_string(),
        "write / x".to_string(),
        "cat /".to_string(),
        "ls /hello.txt/x".to_string(),
        "write /../../x.txt x".to_string(),
        "write /hello.txt/inner x".to_string(),
        format!("write /{long} x"),
        format!("mkdir /{long}"),
        "write /trailing. x".to_string(),
        "write \"/ lead space\" x".to_string(),
        "stat /nope".to_string(),
        "ls /a/b/c/d".to_string(),
        "rm /nope".to_string(),
        "write /x\u{0}y z".to_string(),
        "cat \"/Some Dir\"".to_string(),
        "write \"/Some Dir\" x".to_string(),
    ];
    for l in &lines {
        let mut out = String::new();
        let st = run_command(&vol, l, &mut out).unwrap();
        assert!(
            matches!(st, CommandStatus::Failed | CommandStatus::Ok),
            "{l:?}: {st:?}"
        );
        if st == CommandStatus::Failed {
            assert_eq!(out.lines().count(), 1, "{l:?} printed {out:?}");
        }
    }
    // The volume is still consistent afterwards.
    let dev = vol.unmount().unwrap();
    let path = common::temp_path("odd.img");
    std::fs::write(&path, dev.as_slice()).unwrap();
    let (clean, out) = common::fsck(&path);
    assert!(clean, "fsck.fat -n after odd input:\n{out}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn volume_can_live_in_a_kernel_static() {
    fn assert_send<T: Send>() {}
    assert_send::<Volume<MemDisk>>();
}

/// A short name whose bytes above 0x7f were written in an OEM code page (as
/// DOS, mtools or Windows write them) lists as code page 437 text, not as
/// replacement characters.
#[test]
fn oem_short_names_read_as_code_page_437() {
    let spec = ImageSpec::parse(SMALL).unwrap();
    let (mut img, _) = build_image_bytes(&spec).unwrap();
    // /hello.txt has a short name entry only ("HELLO   TXT" with the
    // lower-case flags); make it "HÉLLO.TXT" in CP437 (0x90 = É).
    let at = img
        .windows(11)
        .position(|w| w == b"HELLO   TXT")
        .expect("the short name entry");
    img[at + 1] = 0x90;
    img[at + 12] = 0; // no lower-case flags: shown as stored
    let vol = Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap();
    let names: Vec<String> = vol
        .list_dir("/")
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert!(names.iter().any(|n| n == "H\u{c9}LLO.TXT"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains('\u{fffd}')), "{names:?}");
    assert_eq!(
        vol.read_file("/H\u{c9}LLO.TXT").unwrap(),
        b"Hello, world!\n"
    );
}

/// `cd` and `pwd`; relative paths, `.` and `..` resolve against the working
/// directory; `cd` to a file or a missing directory fails and keeps it.
#[test]
fn cd_and_relative_paths() {
    use disks::shell::{resolve, run_command_in};
    assert_eq!(resolve("/", "a/b"), "/a/b");
    assert_eq!(resolve("/a/b", "../c/./d"), "/a/c/d");
    assert_eq!(resolve("/a", "/x/../y"), "/y");
    assert_eq!(resolve("/", "../.."), "/");
    let vol = small_volume();
    let mut cwd = String::from("/");
    let mut sh = |line: &str| {
        let mut out = String::new();
        let st = run_command_in(&vol, &mut cwd, line, &mut out).unwrap();
        (st, out)
    };
    assert_eq!(sh("pwd"), (CommandStatus::Ok, "/\n".into()));
    assert_eq!(sh("cd \"Some Dir\"").0, CommandStatus::Ok);
    assert_eq!(sh("pwd").1, "/Some Dir\n");
    assert_eq!(sh("cd Nested").0, CommandStatus::Ok);
    assert_eq!(
        sh("cat \"long file name.txt\""),
        (CommandStatus::Ok, "nested\n".into())
    );
    let (st, out) = sh("ls");
    assert_eq!(st, CommandStatus::Ok);
    assert!(out.contains("long file name.txt"), "{out}");
    assert_eq!(sh("cat ../../hello.txt").1, "Hello, world!\n");
    assert_eq!(
        sh("write notes.txt relative write").1,
        "wrote 15 bytes to /Some Dir/Nested/notes.txt\n"
    );
    let (st, out) = sh("cd /hello.txt");
    assert_eq!(st, CommandStatus::Failed);
    assert!(out.contains("not a directory"), "{out}");
    let (st, _) = sh("cd nowhere");
    assert_eq!(st, CommandStatus::Failed);
    assert_eq!(sh("pwd").1, "/Some Dir/Nested\n");
    assert_eq!(sh("cd ..").0, CommandStatus::Ok);
    assert_eq!(sh("pwd").1, "/Some Dir\n");
    assert_eq!(sh("cd").0, CommandStatus::Ok);
    assert_eq!(sh("pwd").1, "/\n");
}
