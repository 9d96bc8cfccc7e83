//! Host tests of the test matrix's golden images (`disks/manifests/*.manifest`
//! other than the default) and of the byte locator the matrix's difference
//! report uses: each image builds, is `fsck.fat -n` clean and verifies against
//! its own checksum file; the small one builds to the same bytes twice; the
//! fragmented, nearly full and large ones have the shape their manifests
//! promise; and the locator names the files that own known bytes.

mod common;

use disks::build::build_image_bytes;
use disks::fs::{FsError, TimeSource, Timestamp, Volume};
use disks::locate::{differences, first_difference, locate, Locator, OwnerKind, Region};
use disks::mem::MemDisk;
use disks::{ImageSpec, DEFAULT_MANIFEST, GOLDEN_MANIFESTS};

fn spec(name: &str) -> ImageSpec {
    let text = GOLDEN_MANIFESTS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no golden manifest {name}"))
        .1;
    ImageSpec::parse(text).unwrap()
}

fn mount(bytes: Vec<u8>) -> Volume<MemDisk> {
    Volume::mount(
        MemDisk::from_vec(bytes),
        TimeSource::Fixed(Timestamp::new(2026, 6, 1, 0, 0, 0)),
    )
    .unwrap()
}

/// Builds, fsck-checks and verifies one golden image; returns its bytes.
fn build_checked(name: &str) -> Vec<u8> {
    let spec = spec(name);
    let t = std::time::Instant::now();
    let (bytes, report) = build_image_bytes(&spec).unwrap_or_else(|e| panic!("{name}: {e}"));
    println!(
        "{name}: {} MiB, {} files, {} dirs, {} clusters of {} B, {} free, built in {:.2?}",
        bytes.len() >> 20,
        report.files,
        report.dirs,
        report.total_clusters,
        report.cluster_size,
        report.free_clusters,
        t.elapsed()
    );
    let path = common::temp_path(&format!("{name}.img"));
    std::fs::write(&path, &bytes).unwrap();
    let (clean, out) = common::fsck(&path);
    let _ = std::fs::remove_file(&path);
    assert!(clean, "fsck.fat -n {name}:\n{out}");
    let vol = mount(bytes.clone());
    disks::selftest::verify_volume(&vol, &spec.checksum_path)
        .unwrap_or_else(|e| panic!("{name}: verification: {e}"));
    bytes
}

#[test]
fn small_image_is_deterministic_and_clean() {
    let spec = spec("small");
    let a = build_checked("small");
    let (b, _) = build_image_bytes(&spec).unwrap();
    assert_eq!(first_difference(&a, &b), None, "two builds differ");
    assert_eq!(a.len(), 33 << 20);
    let loc = Locator::new(&a).unwrap();
    assert_eq!(loc.cluster_bytes(), 512);
    assert!(loc.problems().is_empty(), "{:?}", loc.problems());
}

#[test]
fn fragmented_image_fragments_the_big_file() {
    let bytes = build_checked("fragmented");
    let vol = mount(bytes);
    let runs = |path: &str| {
        let mut f = vol.open_file(path).unwrap();
        let (mut runs, mut next) = (0, None);
        for e in f.extents() {
            let e = e.unwrap();
            if Some(e.offset) != next {
                runs += 1;
            }
            next = Some(e.offset + 512);
        }
        runs
    };
    let big = runs("/Fragmented/big interleaved 16 MiB.bin");
    assert!(big >= 4000, "the big file has only {big} fragments");
    assert!(runs("/Stripes/stripe-2.bin") >= 2000);
    assert_eq!(runs("/contiguous-4MiB.bin"), 1);
}

#[test]
fn nearly_full_image_leaves_256_kib_and_refuses_more() {
    let spec = spec("nearly-full");
    let bytes = build_checked("nearly-full");
    // Count free clusters in FAT #1 ourselves rather than trust FSInfo.
    let loc = Locator::new(&bytes).unwrap();
    let free = (2..loc.clusters() + 2)
        .filter(|&c| loc.fat_entry(c) == Some(0))
        .count() as u64;
    assert_eq!(free * loc.cluster_bytes(), 256 << 10);
    let vol = mount(bytes);
    assert_eq!(vol.info().unwrap().free_bytes(), 256 << 10);
    let fill = spec.fill.as_ref().unwrap();
    assert!(vol.metadata(&fill.path).unwrap().size > 30 << 20);
    // 200 KiB fit; another 100 KiB do not.
    vol.write_file("/fits.bin", &[1; 200 << 10]).unwrap();
    assert_eq!(
        vol.write_file("/too-much.bin", &[2; 100 << 10]),
        Err(FsError::NoSpace)
    );
}

#[test]
fn large_and_4k_images_build_clean() {
    let large = spec("large");
    let files = large.files().count();
    assert!(files >= 3000, "{files} files");
    let depth = large
        .files()
        .map(|f| f.path.matches('/').count() - 1)
        .max()
        .unwrap();
    assert!(depth >= 10, "deepest file is {depth} directories down");
    assert!(large.files().filter(|f| !f.path.is_ascii()).count() > 500);
    assert!(large.image_size >= 256 << 20);
    drop(build_checked("large"));

    let four_k = spec("clusters-4k");
    assert_eq!(four_k.cluster_size, 4096);
    let bytes = build_checked("clusters-4k");
    let loc = Locator::new(&bytes).unwrap();
    assert_eq!(loc.cluster_bytes(), 4096);
    assert!(loc.clusters() >= 65525);
}

// --- the locator on the default image -------------------------------------------

fn default_image() -> (ImageSpec, Vec<u8>) {
    let spec = ImageSpec::parse(DEFAULT_MANIFEST).unwrap();
    let (bytes, _) = build_image_bytes(&spec).unwrap();
    (spec, bytes)
}

#[test]
fn locator_names_the_owner_of_file_bytes() {
    let (spec, img) = default_image();
    let loc = Locator::new(&img).unwrap();
    assert!(loc.problems().is_empty(), "{:?}", loc.problems());
    let vol = mount(img.clone());
    for path in [
        "/sizes/1MiB.bin",
        "/Unicode ünïcödé ñämé — ελληνικά 日本語.txt",
        "/Documents/Projects/Kernel Work/Drivers/virtio/blk/queue.bin",
        "/Fragmented/interleaved B.bin",
    ] {
        let size = vol.metadata(path).unwrap().size;
        let want = spec
            .files()
            .find(|f| f.path == path)
            .unwrap()
            .content
            .to_vec();
        // lamfat's extents give each cluster's byte offset independently of
        // the locator's own chain walk.
        let mut f = vol.open_file(path).unwrap();
        let extents: Vec<_> = f.extents().map(|e| e.unwrap()).collect();
        for at in [0, size / 2, size - 1] {
            let e = &extents[(at / 512) as usize];
            let byte = e.offset + at % 512;
            assert_eq!(img[byte as usize], want[at as usize], "{path} byte {at}");
            let l = locate(&img, byte).unwrap();
            assert_eq!(l.region, Region::Data);
            assert_eq!(l.owner.as_deref(), Some(path));
            assert_eq!(l.owner_kind, Some(OwnerKind::File { size }));
            assert_eq!(l.offset_in_owner, Some(at), "{path}");
            assert_eq!(l.sector, byte / 512);
            let text = l.to_string();
            assert!(
                text.contains(&format!("file \"{path}\" at offset {at}")),
                "{text}"
            );
        }
    }
    // A directory's cluster, and the root's.
    let c = loc.first_cluster_of("/Documents/Projects").unwrap();
    let l = loc.locate(loc.cluster_offset(c).unwrap() + 64).unwrap();
    assert_eq!(l.owner_kind, Some(OwnerKind::Directory));
    assert!(
        l.to_string()
            .ends_with("directory \"/Documents/Projects\" at offset 64 (entry 2)"),
        "{l}"
    );
    let root = loc.first_cluster_of("/").unwrap();
    assert_eq!(
        loc.locate(loc.cluster_offset(root).unwrap())
            .unwrap()
            .owner
            .as_deref(),
        Some("/")
    );
    // Slack after the end of a 511-byte file in its only cluster.
    let c = loc.first_cluster_of("/sector-511.bin").unwrap();
    let l = loc.locate(loc.cluster_offset(c).unwrap() + 511).unwrap();
    assert!(
        l.to_string()
            .ends_with("at offset 511 (slack after its last byte, size 511)"),
        "{l}"
    );
}

#[test]
fn locator_describes_metadata_and_free_space() {
    let (_, img) = default_image();
    let loc = Locator::new(&img).unwrap();
    let l = loc.locate(0x43).unwrap();
    assert_eq!(l.region, Region::BootSector);
    assert_eq!(l.to_string(), "sector 0 (byte 0x43): boot sector, BS_VolID");
    let l = loc.locate(512 + 488).unwrap();
    assert_eq!(l.region, Region::FsInfo);
    assert!(l.to_string().ends_with("FSInfo, FSI_Free_Count"), "{l}");
    assert_eq!(
        loc.locate(6 * 512).unwrap().region,
        Region::BackupBootSector
    );
    assert_eq!(
        loc.locate(7 * 512 + 4).unwrap().region,
        Region::BackupFsInfo
    );
    assert_eq!(loc.locate(3 * 512).unwrap().region, Region::Reserved);

    // FAT #1's entry for the first cluster of a file names that file; the
    // same entry in FAT #2 too.
    let c = loc.first_cluster_of("/bench/BIG16M.BIN").unwrap();
    let reserved = u64::from(u16::from_le_bytes([img[14], img[15]])) * 512;
    let fat_bytes = u64::from(u32::from_le_bytes([img[36], img[37], img[38], img[39]])) * 512;
    let l = loc.locate(reserved + u64::from(c) * 4 + 1).unwrap();
    assert_eq!(l.region, Region::Fat { copy: 1 });
    assert_eq!(l.cluster, Some(c));
    assert_eq!(l.sector, (reserved + u64::from(c) * 4) / 512);
    assert_eq!(
        l.to_string(),
        format!(
            "sector {} (byte {:#x}): FAT #1 entry for cluster {c}, file \"/bench/BIG16M.BIN\"",
            l.sector, l.byte
        )
    );
    let l2 = loc.locate(reserved + fat_bytes + u64::from(c) * 4).unwrap();
    assert_eq!(l2.region, Region::Fat { copy: 2 });
    assert_eq!(l2.owner.as_deref(), Some("/bench/BIG16M.BIN"));
    assert!(loc
        .locate(reserved)
        .unwrap()
        .to_string()
        .ends_with("entry for cluster 0 (reserved entry: media and clean flags)"));

    // The last cluster is free on this image (it is half empty).
    let last = loc.clusters() + 1;
    assert_eq!(loc.fat_entry(last), Some(0));
    let l = loc.locate(loc.cluster_offset(last).unwrap() + 3).unwrap();
    assert_eq!(l.owner, None);
    assert!(
        l.to_string()
            .ends_with(&format!("data cluster {last} (free)")),
        "{l}"
    );
    let l = loc.locate(reserved + u64::from(last) * 4).unwrap();
    assert!(
        l.to_string()
            .ends_with(&format!("entry for cluster {last} (free)")),
        "{l}"
    );

    // Past the image: an error.
    assert!(loc
        .locate(img.len() as u64)
        .unwrap_err()
        .contains("past the end"));
}

#[test]
fn locator_reports_lost_clusters_and_tolerates_damage() {
    let (_, clean) = default_image();
    let loc = Locator::new(&clean).unwrap();
    let mut img = clean.clone();
    let last = loc.clusters() + 1;
    let reserved = u64::from(u16::from_le_bytes([img[14], img[15]])) * 512;
    let at = loc.cluster_offset(last).unwrap();
    // Mark the last cluster allocated though nothing reaches it.
    let e = (reserved + u64::from(last) * 4) as usize;
    img[e..e + 4].copy_from_slice(&0x0FFF_FFFFu32.to_le_bytes());
    let l = locate(&img, at).unwrap();
    assert!(
        l.to_string()
            .contains("allocated, FAT entry 0xfffffff, but no file or directory reaches it"),
        "{l}"
    );

    // Cross-link a file into another's chain: still located, damage listed.
    let c16 = loc.first_cluster_of("/bench/BIG16M.BIN").unwrap();
    let c1 = loc.first_cluster_of("/sizes/1MiB.bin").unwrap();
    let e = (reserved + u64::from(c1) * 4) as usize;
    img[e..e + 4].copy_from_slice(&c16.to_le_bytes());
    let damaged = Locator::new(&img).unwrap();
    assert!(
        damaged
            .problems()
            .iter()
            .any(|p| p.contains("cross-linked")),
        "{:?}",
        damaged.problems()
    );

    // Random bytes over the FAT and the first directory clusters never panic.
    let mut rng = disks::content::SplitMix64::new(77);
    let data = loc.cluster_offset(2).unwrap() as usize;
    for _ in 0..30 {
        let mut img = clean.clone();
        for _ in 0..2000 {
            let r = rng.next_u64() as usize;
            let i = if r.is_multiple_of(2) {
                reserved as usize + r % (data - reserved as usize)
            } else {
                data + r % (256 * 1024)
            };
            img[i] = (r >> 32) as u8;
        }
        if let Ok(l) = Locator::new(&img) {
            for b in [0, reserved, data as u64, img.len() as u64 - 1] {
                let _ = l.locate(b).map(|l| l.to_string());
            }
        }
    }
    // A boot sector that is not FAT32 is an error.
    let mut img = clean.clone();
    img[13] = 3;
    assert!(locate(&img, 0).unwrap_err().contains("sectors per cluster"));
    assert!(locate(&clean[..1 << 20], 0)
        .unwrap_err()
        .contains("truncated"));
}

#[test]
fn differences_of_two_builds_are_located() {
    let (spec, a) = default_image();
    let mut other = spec.clone();
    other.volume_id ^= 1;
    let (b, _) = build_image_bytes(&other).unwrap();
    let d = differences(&a, &b, 512, 10);
    // The volume id lives in the boot sector and its backup.
    assert_eq!(d, vec![67..68, 6 * 512 + 67..6 * 512 + 68]);
    let l = locate(&b, d[1].start).unwrap();
    assert_eq!(
        l.to_string(),
        "sector 6 (byte 0xc43): backup boot sector, BS_VolID"
    );
}
