//! Host tests of the whole stack on real images: build the default image, check
//! it with `fsck.fat -n`, mount it through an in-memory device and the cached
//! stream, run the self-test, check again; determinism; corrupt images.

mod common;

use std::time::Instant;

use disks::build::{build_image, build_image_bytes};
use disks::fs::{MountError, TimeSource, Timestamp, Volume};
use disks::mem::MemDisk;
use disks::{selftest, ImageSpec, DEFAULT_MANIFEST};

fn default_spec() -> ImageSpec {
    ImageSpec::parse(DEFAULT_MANIFEST).expect("default manifest parses")
}

fn clock() -> Timestamp {
    Timestamp::new(2026, 11, 27, 21, 30, 0)
}

#[test]
fn default_image_is_fsck_clean_and_passes_the_selftest_twice() {
    let spec = default_spec();
    let path = common::temp_path("default.img");
    let t = Instant::now();
    let report = build_image(&spec, &path).expect("build");
    println!(
        "built default image in {:.2?}: {} files, {} dirs, {} content bytes, {} clusters of {} B, {} free",
        t.elapsed(),
        report.files,
        report.dirs,
        report.content_bytes,
        report.total_clusters,
        report.cluster_size,
        report.free_clusters
    );
    assert_eq!(report.image_size, spec.image_size);
    assert!(report.total_clusters >= 65525, "not FAT32-sized");
    let (clean, out) = common::fsck(&path);
    assert!(clean, "fsck.fat -n on the fresh image:\n{out}");

    let bytes = std::fs::read(&path).unwrap();
    let mut log = String::new();
    let t = Instant::now();
    let outcome = selftest::run(MemDisk::from_vec(bytes), TimeSource::Clock(clock), &mut log);
    println!("host selftest took {:.2?}:\n{log}", t.elapsed());
    assert!(outcome.passed, "selftest failed:\n{log}");
    assert!(log.contains("selftest: verify-manifest ok ("), "{log}");
    assert!(
        log.lines().last().unwrap().starts_with("selftest: PASS ("),
        "{log}"
    );
    let dev = outcome.device.expect("device back after the selftest");

    std::fs::write(&path, dev.as_slice()).unwrap();
    let (clean, out) = common::fsck(&path);
    assert!(clean, "fsck.fat -n after the selftest:\n{out}");

    // The new state persisted, with the kernel's clock on it; and a second run
    // on the same image passes too (it clears its previous work directory).
    let vol = Volume::mount(dev, TimeSource::Clock(clock)).unwrap();
    let long = "/SELFTEST.TMP/Nested Level One/Second Level - ünïcode/Third level dir/A Long File Name, Mixed Case, with spaces and ünïcode ✓ (more than 8.3).txt";
    assert_eq!(
        vol.read_file(long).unwrap(),
        b"a long name in a nested directory\n"
    );
    let md = vol.metadata("/selftest.tmp/hello.txt").unwrap();
    assert_eq!(md.modified, clock());
    assert_eq!(
        vol.read_file("/SELFTEST.TMP/hello.txt").unwrap(),
        b"overwritten\n"
    );
    let dev = vol.unmount().unwrap();
    let mut log2 = String::new();
    let outcome = selftest::run(dev, TimeSource::Clock(clock), &mut log2);
    assert!(outcome.passed, "second selftest run failed:\n{log2}");
    assert!(
        log2.contains("selftest: prepare ok (removed a previous run's work directory)"),
        "{log2}"
    );
    std::fs::write(&path, outcome.device.unwrap().as_slice()).unwrap();
    let (clean, out) = common::fsck(&path);
    assert!(clean, "fsck.fat -n after the second selftest:\n{out}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn same_manifest_gives_the_same_bytes() {
    let spec = default_spec();
    let (a, ra) = build_image_bytes(&spec).unwrap();
    let (b, rb) = build_image_bytes(&spec).unwrap();
    assert_eq!(ra.image_sha256, rb.image_sha256);
    assert!(a == b, "two builds of the same manifest differ");
    // And a different volume id is a different image (the id is really used).
    let mut other = spec.clone();
    other.volume_id ^= 1;
    let (c, _) = build_image_bytes(&other).unwrap();
    assert!(a != c);
}

#[test]
fn image_contents_match_the_manifest() {
    let spec = default_spec();
    let (bytes, report) = build_image_bytes(&spec).unwrap();
    let vol = Volume::mount(MemDisk::from_vec(bytes), TimeSource::Fixed(spec.timestamp)).unwrap();
    let info = vol.info().unwrap();
    assert_eq!(info.label, "DDKTEST");
    assert_eq!(info.volume_id, 0x2026_1127);
    // Every file reads back as generated, and stamps carry the fixed time.
    for f in spec.files() {
        assert_eq!(
            vol.read_file(&f.path).unwrap(),
            f.content.to_vec(),
            "{}",
            f.path
        );
        let md = vol.metadata(&f.path).unwrap();
        assert_eq!(md.modified, spec.timestamp, "{}", f.path);
        assert_eq!(
            md.name,
            f.path.rsplit('/').next().unwrap(),
            "long name kept"
        );
    }
    let sums = vol.read_file("/MANIFEST.SHA").unwrap();
    assert_eq!(
        disks::manifest::parse_checksums(std::str::from_utf8(&sums).unwrap()).unwrap(),
        report.checksums
    );
    assert_eq!(report.checksums.len(), spec.files().count());
    // The explicitly empty directory exists and is empty.
    assert!(vol
        .list_dir("/Documents/Empty Directory")
        .unwrap()
        .is_empty());
}

/// Number of contiguous runs of a file's clusters.
fn runs(vol: &Volume<MemDisk>, path: &str) -> usize {
    let mut f = vol.open_file(path).unwrap();
    let mut runs = 0;
    let mut next = None;
    for e in f.extents() {
        let e = e.unwrap();
        if Some(e.offset) != next {
            runs += 1;
        }
        next = Some(e.offset + u64::from(vol.info().unwrap().cluster_size));
    }
    runs
}

#[test]
fn grouped_files_are_fragmented_and_others_contiguous() {
    let spec = default_spec();
    let (bytes, _) = build_image_bytes(&spec).unwrap();
    let vol = Volume::mount(MemDisk::from_vec(bytes), TimeSource::Fixed(spec.timestamp)).unwrap();
    let a = runs(&vol, "/Fragmented/interleaved A.bin");
    let c = runs(&vol, "/Fragmented/interleaved C.bin");
    assert!(a > 100, "interleaved A has only {a} runs");
    assert!(c > 100, "interleaved C has only {c} runs");
    assert_eq!(
        runs(&vol, "/bench/BIG16M.BIN"),
        1,
        "the bench file should be contiguous"
    );
}

fn expect_mount_error(bytes: Vec<u8>, needle: &str) {
    match Volume::mount(MemDisk::from_vec(bytes), TimeSource::Fixed(clock())) {
        Ok(_) => panic!("a corrupt image mounted"),
        Err(MountError { error, device }) => {
            let msg = error.to_string();
            assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
            assert!(device.is_some(), "device not given back");
        }
    }
}

fn small_image() -> Vec<u8> {
    let spec = ImageSpec::parse(
        "image-size 34M\nlabel SMALL\nfile /a.txt text \"a\"\nfile /d/b.bin random 100K seed=1\n",
    )
    .unwrap();
    build_image_bytes(&spec).unwrap().0
}

#[test]
fn truncated_image_is_an_error() {
    let mut img = small_image();
    img.truncate(img.len() / 2);
    expect_mount_error(img, "image truncated");
}

#[test]
fn zeroed_boot_sector_is_an_error() {
    let mut img = small_image();
    img[..512].fill(0);
    expect_mount_error(img, "no boot sector signature");
    // A boot sector that is signed but otherwise garbage.
    let mut img = small_image();
    img[11..90].fill(0xFF);
    expect_mount_error(img, "corrupt");
}

#[test]
fn garbage_fat_is_an_error_and_the_selftest_fails_cleanly() {
    let mut img = small_image();
    let reserved = u16::from_le_bytes([img[14], img[15]]) as usize;
    let fat_bytes = u32::from_le_bytes([img[36], img[37], img[38], img[39]]) as usize * 512;
    let mut x = 0x1234_5678_9abc_def0u64;
    for b in &mut img[reserved * 512..reserved * 512 + fat_bytes] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    expect_mount_error(img.clone(), "garbage FAT");
    let mut log = String::new();
    let o = selftest::run(MemDisk::from_vec(img), TimeSource::Fixed(clock()), &mut log);
    assert!(!o.passed);
    assert!(log.contains("selftest: mount FAILED: corrupt"), "{log}");
    assert!(
        log.lines().last().unwrap().starts_with("selftest: FAIL ("),
        "{log}"
    );
}

#[test]
fn corrupt_directory_entries_give_errors_not_panics() {
    // Keep the boot sector and FAT, scribble over the data area: walking and
    // reading must end in errors or wrong data, never a panic or a hang.
    let clean = small_image();
    for seed in 1..=6u64 {
        let mut img = clean.clone();
        let reserved = u16::from_le_bytes([img[14], img[15]]) as usize;
        let fat_bytes = u32::from_le_bytes([img[36], img[37], img[38], img[39]]) as usize * 512;
        let data = reserved * 512 + 2 * fat_bytes;
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for b in &mut img[data..data + 4096] {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        let mut log = String::new();
        let o = selftest::run(MemDisk::from_vec(img), TimeSource::Fixed(clock()), &mut log);
        assert!(
            !o.passed,
            "selftest passed on a scribbled root directory:\n{log}"
        );
    }
}

#[test]
fn host_verification_catches_a_changed_byte_and_bad_manifests() {
    let spec = ImageSpec::parse(
        "image-size 34M\nlabel V\nfile /hello.txt text \"Hello, verification!\\n\"\nfile /r.bin random 10K seed=5\n",
    )
    .unwrap();
    let path = common::temp_path("verify.img");
    build_image(&spec, &path).unwrap();
    let ok = disks::build::verify_image_file(&path, "/MANIFEST.SHA").unwrap();
    assert_eq!(ok, "2 files, 10.0 KiB, 0 extra");

    let mut bytes = std::fs::read(&path).unwrap();
    let needle = b"Hello, verification!\n";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("file data in the image");
    bytes[at] = b'J';
    std::fs::write(&path, &bytes).unwrap();
    let e = disks::build::verify_image_file(&path, "/MANIFEST.SHA")
        .unwrap_err()
        .to_string();
    assert!(e.contains("/hello.txt: sha256"), "{e}");
    let _ = std::fs::remove_file(&path);

    let m = common::temp_path("bad.manifest");
    std::fs::write(&m, "image-size 34M\nfile /x text\n").unwrap();
    let e = disks::build::load_spec(&m).unwrap_err().to_string();
    assert_eq!(e, "manifest line 2: expected `file <path> text <string>`");
    let e = disks::build::load_spec(&common::temp_path("missing.manifest"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("reading "), "{e}");
    let ok = disks::build::load_spec(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/manifests/default.manifest"
    )))
    .unwrap();
    assert_eq!(ok, default_spec());
}

/// Byte offsets of the FAT and cluster 2 in a built image.
fn layout(img: &[u8]) -> (usize, usize) {
    let reserved = u16::from_le_bytes([img[14], img[15]]) as usize;
    let fat_bytes = u32::from_le_bytes([img[36], img[37], img[38], img[39]]) as usize * 512;
    (reserved * 512, reserved * 512 + 2 * fat_bytes)
}

/// Offset of the 32-byte directory entry with this 8.3 name.
fn entry_offset(img: &[u8], short: &[u8; 11]) -> usize {
    let (_, data) = layout(img);
    (data..img.len())
        .step_by(32)
        .find(|&o| &img[o..o + 11] == short)
        .expect("entry in the image")
}

fn set_first_cluster(img: &mut [u8], entry: usize, c: u32) {
    img[entry + 20..entry + 22].copy_from_slice(&((c >> 16) as u16).to_le_bytes());
    img[entry + 26..entry + 28].copy_from_slice(&(c as u16).to_le_bytes());
}

fn first_cluster(img: &[u8], entry: usize) -> u32 {
    (u32::from(u16::from_le_bytes([img[entry + 20], img[entry + 21]])) << 16)
        | u32::from(u16::from_le_bytes([img[entry + 26], img[entry + 27]]))
}

#[test]
fn entries_pointing_outside_the_volume_are_errors() {
    // lamfat would compute cluster - 2 and panic (debug) or hit the FAT (release).
    for bad in [1u32, 0x0FFF_FFF0, 0x00FF_FFFF] {
        let mut img = small_image();
        let e = entry_offset(&img, b"A       TXT");
        set_first_cluster(&mut img, e, bad);
        expect_mount_error(img, "first cluster");
    }
}

#[test]
fn fat_entries_pointing_outside_the_volume_are_errors() {
    let mut img = small_image();
    let e = entry_offset(&img, b"B       BIN");
    let c = first_cluster(&img, e) as usize;
    let (fat, _) = layout(&img);
    img[fat + 4 * c..fat + 4 * c + 4].copy_from_slice(&1u32.to_le_bytes());
    expect_mount_error(img, &format!("FAT entry {c} is 0x1"));
}

#[test]
fn directory_loops_are_errors_not_hangs() {
    // A directory whose cluster chain points back at itself.
    let mut img = small_image();
    let e = entry_offset(&img, b"D          ");
    let c = first_cluster(&img, e) as usize;
    let (fat, data) = layout(&img);
    img[fat + 4 * c..fat + 4 * c + 4].copy_from_slice(&(c as u32).to_le_bytes());
    // No end marker in the cluster, so a reader must follow the chain.
    let cl = data + (c - 2) * 512;
    for o in (cl..cl + 512).step_by(32) {
        if img[o] == 0 {
            img[o] = 0xE5;
        }
    }
    expect_mount_error(img, "never ends");
    // A subdirectory that is the root again.
    let mut img = small_image();
    let e = entry_offset(&img, b"D          ");
    set_first_cluster(&mut img, e, 2);
    expect_mount_error(img, "used twice");
}

#[test]
fn entries_with_data_but_no_cluster_are_errors() {
    for name in [b"A       TXT", b"D          "] {
        let mut img = small_image();
        let e = entry_offset(&img, name);
        set_first_cluster(&mut img, e, 0);
        expect_mount_error(img, "has data but no first cluster");
    }
}
