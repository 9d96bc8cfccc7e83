//! Host tests of `disks::copy`: a tree copied between two in-memory volumes
//! (nested directories, long and non-ASCII names, an empty file, a file of
//! several MiB) reads back identical after a remount and passes `fsck.fat`;
//! `verify_tree` catches a changed byte, a missing file, an extra file and a
//! changed kind; a copy refuses a non-empty destination and itself.

mod common;

use disks::build::build_image_bytes;
use disks::copy::{copy_tree, verify_tree, CopyError, CopySummary};
use disks::fs::{FsError, TimeSource, Timestamp, Volume};
use disks::mem::MemDisk;
use disks::ImageSpec;
use lamfat::{Seek as _, Write as _};

/// Files are written at 2024-03-04 05:06:08; the copy runs "later" (the
/// clock below), so preserved times are told apart from fresh ones.
const SOURCE: &str = r##"
image-size 40M
label COPYSRC
volume-id 0x5EC0FFEE
timestamp 2024-03-04 05:06:08
file /hello.txt text "Hello, world!\n"
file /empty.txt text ""
file "/a file name that is much longer than eight dot three allows.text" text "long\n"
file "/Unicode ünïcödé ñämé.txt" text "non-ASCII long name\n"
file /big.bin random 5M seed=77
file "/Documents/Projects/Kernel Work/Drivers/notes.md" text "# notes\n"
file "/Documents/Projects/Kernel Work/plan.bin" random 70000 seed=3
dir "/Documents/Empty Directory"
file /a/b/c/d/e/f/deep.txt text "six levels down\n"
file "/Many/entry number 01 with a long name.txt" random 64 seed=1
file "/Many/entry number 02 with a long name.txt" random 65 seed=2
file "/Many/entry number 03 with a long name.txt" random 66 seed=3
file "/Many/entry number 04 with a long name.txt" random 67 seed=4
file "/Many/entry number 05 with a long name.txt" random 68 seed=5
file "/Many/entry number 06 with a long name.txt" random 69 seed=6
file "/Many/entry number 07 with a long name.txt" random 70 seed=7
file "/Many/entry number 08 with a long name.txt" random 71 seed=8
"##;

/// An empty volume except for the builder's checksum file.
const EMPTY: &str = r#"
image-size 40M
label COPYDST
volume-id 0xD57D57D5
timestamp 2025-01-01 00:00:00
"#;

fn clock() -> Timestamp {
    Timestamp::new(2026, 11, 27, 22, 0, 0)
}

fn volume(manifest: &str) -> Volume<MemDisk> {
    let (img, _) = build_image_bytes(&ImageSpec::parse(manifest).unwrap()).unwrap();
    Volume::mount(MemDisk::from_vec(img), TimeSource::Clock(clock)).unwrap()
}

/// Source and destination with the source's `/` copied to `/copy`.
fn copied() -> (Volume<MemDisk>, Volume<MemDisk>, CopySummary) {
    let src = volume(SOURCE);
    let dst = volume(EMPTY);
    let mut log = String::new();
    let sum = copy_tree(&src, "/", &dst, "/copy", &mut log).unwrap_or_else(|e| panic!("{e}"));
    (src, dst, sum)
}

fn remount(v: Volume<MemDisk>) -> Volume<MemDisk> {
    let dev = v.unmount().unwrap();
    Volume::mount(dev, TimeSource::Clock(clock)).unwrap()
}

/// What `Volume::walk` sees below `path`: (files, dirs, bytes).
fn census(v: &Volume<MemDisk>, path: &str) -> CopySummary {
    let mut s = CopySummary::default();
    v.walk(path, &mut |_, md| {
        if md.is_dir {
            s.dirs += 1;
        } else {
            s.files += 1;
            s.bytes += md.size;
        }
        Ok(())
    })
    .unwrap();
    s
}

#[test]
fn copy_then_verify_after_remount() {
    let (src, dst, sum) = copied();
    // The source tree as the volume lists it, /MANIFEST.SHA included.
    assert_eq!(sum, census(&src, "/"));
    assert_eq!(sum.files, 17);
    assert!(sum.bytes > 5 << 20, "{sum:?}");
    assert_eq!(census(&dst, "/copy"), sum);

    let dst = remount(dst);
    let mut log = String::new();
    let checked = verify_tree(&src, "/", &dst, "/copy", &mut log).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked, sum);
    assert!(
        log.contains("verify: /Documents/Projects/Kernel Work = /copy/Documents/Projects/Kernel Work (1 files, 70000 bytes)\n"),
        "{log}"
    );

    // Spot checks through the ordinary read path, names matched exactly.
    assert_eq!(
        dst.read_file("/copy/Unicode ünïcödé ñämé.txt").unwrap(),
        b"non-ASCII long name\n"
    );
    assert_eq!(
        dst.read_file("/copy/a/b/c/d/e/f/deep.txt").unwrap(),
        b"six levels down\n"
    );
    let names: Vec<String> = dst
        .list_dir("/copy/Documents")
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(
        names,
        src.list_dir("/Documents")
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
    );
    let empty = dst.metadata("/copy/empty.txt").unwrap();
    assert_eq!((empty.is_dir, empty.size), (false, 0));
    assert!(dst
        .list_dir("/copy/Documents/Empty Directory")
        .unwrap()
        .is_empty());
    // File times come from the source, not from the clock at copy time.
    let big = dst.metadata("/copy/big.bin").unwrap();
    assert_eq!(big.modified, Timestamp::new(2024, 3, 4, 5, 6, 8));
    assert_eq!(big.created, src.metadata("/big.bin").unwrap().created);

    // The copy leaves a volume dosfstools calls clean.
    let img = common::temp_path("copy-dst.img");
    std::fs::write(&img, dst.unmount().unwrap().into_vec()).unwrap();
    let (clean, report) = common::fsck(&img);
    assert!(clean, "{report}");
}

#[test]
fn copy_of_a_subdirectory_into_an_existing_empty_one() {
    let src = volume(SOURCE);
    let dst = volume(EMPTY);
    dst.create_dir_all("/x/y").unwrap();
    let mut log = String::new();
    let sum = copy_tree(&src, "/Documents/Projects", &dst, "/x/y", &mut log).unwrap();
    assert_eq!(
        sum,
        CopySummary {
            files: 2,
            dirs: 2,
            bytes: 70000 + 8
        }
    );
    assert_eq!(
        log,
        "copy: /Documents/Projects -> /x/y (0 files, 0 bytes)\n\
         copy: /Documents/Projects/Kernel Work -> /x/y/Kernel Work (1 files, 70000 bytes)\n\
         copy: /Documents/Projects/Kernel Work/Drivers -> /x/y/Kernel Work/Drivers (1 files, 8 bytes)\n"
    );
    assert_eq!(
        verify_tree(&src, "/Documents/Projects", &dst, "/x/y", &mut log).unwrap(),
        sum
    );
}

fn verify_err(src: &Volume<MemDisk>, dst: &Volume<MemDisk>) -> CopyError {
    match verify_tree(src, "/", dst, "/copy", &mut String::new()) {
        Ok(s) => panic!("verify passed ({s:?}) on a damaged copy"),
        Err(e) => e,
    }
}

#[test]
fn verify_catches_a_changed_byte() {
    let (src, dst, _) = copied();
    // One byte deep inside the big file, the size unchanged.
    let mut f = dst.open_file("/copy/big.bin").unwrap();
    f.seek(lamfat::SeekFrom::Start(3 << 20)).unwrap();
    let old = dst.read_file("/copy/big.bin").unwrap()[3 << 20];
    f.write_all(&[old ^ 0x01]).unwrap();
    f.flush().unwrap();
    drop(f);
    let dst = remount(dst);
    let e = verify_err(&src, &dst);
    assert!(
        matches!(&e, CopyError::Mismatch { source, destination, detail }
            if source == "/big.bin" && destination == "/copy/big.bin" && detail.starts_with("contents differ: SHA-256 ")),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("/big.bin and /copy/big.bin differ: contents differ"),
        "{e}"
    );
}

#[test]
fn verify_catches_a_missing_file() {
    let (src, dst, _) = copied();
    dst.remove("/copy/Many/entry number 05 with a long name.txt")
        .unwrap();
    let e = verify_err(&src, &dst);
    assert_eq!(
        e.to_string(),
        "/Many/entry number 05 with a long name.txt and /copy/Many/entry number 05 with a long name.txt differ: missing from the copy"
    );
}

#[test]
fn verify_catches_an_extra_file_a_changed_kind_and_a_changed_size() {
    let (src, dst, _) = copied();
    dst.write_file("/copy/a/b/stray.txt", b"x").unwrap();
    let e = verify_err(&src, &dst);
    assert!(
        e.to_string()
            .ends_with("/copy/a/b/stray.txt differ: in the copy but not in the source"),
        "{e}"
    );
    dst.remove("/copy/a/b/stray.txt").unwrap();

    dst.remove("/copy/empty.txt").unwrap();
    dst.create_dir("/copy/empty.txt").unwrap();
    let e = verify_err(&src, &dst);
    assert!(
        e.to_string()
            .ends_with("differ: a file in the source, a directory in the copy"),
        "{e}"
    );
    dst.remove("/copy/empty.txt").unwrap();
    dst.write_file("/copy/empty.txt", b"no longer empty")
        .unwrap();
    let e = verify_err(&src, &dst);
    assert!(
        e.to_string()
            .contains("/copy/empty.txt differ: sizes differ"),
        "{e}"
    );
}

#[test]
fn copy_refuses_a_non_empty_destination_and_itself() {
    let (src, dst, _) = copied();
    let e = copy_tree(&src, "/", &dst, "/copy", &mut String::new()).unwrap_err();
    assert_eq!(e, CopyError::DestinationExists("/copy".into()));
    let e = copy_tree(&src, "/", &dst, "/copy/hello.txt", &mut String::new()).unwrap_err();
    assert_eq!(e, CopyError::DestinationExists("/copy/hello.txt".into()));
    let e = copy_tree(
        &src,
        "/Documents",
        &src,
        "/documents/inner",
        &mut String::new(),
    )
    .unwrap_err();
    assert!(matches!(e, CopyError::IntoItself { .. }), "{e:?}");
    // Another directory of the same volume is fine.
    let sum = copy_tree(&src, "/a", &src, "/a-copy", &mut String::new()).unwrap();
    assert_eq!(
        verify_tree(&src, "/a", &src, "/a-copy", &mut String::new()).unwrap(),
        sum
    );

    let e = copy_tree(&src, "/nope", &dst, "/other", &mut String::new()).unwrap_err();
    assert_eq!(e.to_string(), "source /nope: no such file or directory");
    let e = copy_tree(&src, "/hello.txt", &dst, "/other", &mut String::new()).unwrap_err();
    assert_eq!(
        e,
        CopyError::Source {
            path: "/hello.txt".into(),
            error: FsError::NotADirectory("/hello.txt".into())
        }
    );
}

#[test]
fn a_full_destination_is_a_named_error() {
    let src = volume(SOURCE);
    // 34 MiB with 512-byte clusters holds about 33 MiB; fill it so that the
    // 5 MiB file cannot fit.
    let dst = volume(EMPTY);
    let free = dst.info().unwrap().free_bytes();
    let filler = vec![0u8; (free - (1 << 20)) as usize];
    dst.write_file("/filler.bin", &filler).unwrap();
    let e = copy_tree(&src, "/", &dst, "/copy", &mut String::new()).unwrap_err();
    assert_eq!(
        e,
        CopyError::Destination {
            path: "/copy/big.bin".into(),
            error: FsError::NoSpace
        }
    );
    assert_eq!(
        e.to_string(),
        "destination /copy/big.bin: no space left on the volume"
    );
}
