//! Tests of the manifest parser (`disks::manifest`).
use super::*;

const SMALL: &str = r#"
# a comment
image-size 40M
label "TEST VOL"
volume-id 0xC0FFEE
timestamp 2024-02-29 23:59:58
dir "/A Long Directory/Nested"
file "/A Long Directory/Nested/héllo wörld.txt" text "line\n\u{1F600}\x41"   # trailing comment
file /r.bin random 10K seed=7 group=g chunk=1K
file /z.bin zero 0
"#;

#[test]
fn parses_every_field() {
    let s = ImageSpec::parse(SMALL).unwrap();
    assert_eq!(s.image_size, 40 << 20);
    assert_eq!(s.cluster_size, 512);
    assert_eq!(s.label, "TEST VOL");
    assert_eq!(s.volume_id, 0xC0FFEE);
    assert_eq!(s.timestamp, Timestamp::new(2024, 2, 29, 23, 59, 58));
    assert_eq!(s.checksum_path, "/MANIFEST.SHA");
    assert_eq!(s.entries.len(), 4);
    let files: Vec<_> = s.files().collect();
    assert_eq!(files[0].path, "/A Long Directory/Nested/héllo wörld.txt");
    assert_eq!(
        files[0].content,
        Content::Bytes("line\n😀A".as_bytes().to_vec())
    );
    assert_eq!(
        files[1].content,
        Content::Random {
            size: 10240,
            seed: 7
        }
    );
    assert_eq!(files[1].group.as_deref(), Some("g"));
    assert_eq!(files[1].chunk, 1024);
    assert_eq!(files[2].content, Content::Zero { size: 0 });
}

#[test]
fn errors_name_the_line() {
    let cases = [
        ("image-size 40M\nfile /a text", 2, "text <string>"),
        ("image-size 40M\nfile /a random 1K", 2, "seed"),
        ("image-size 40M\nfile a text x", 2, "must start with /"),
        ("image-size 40M\nfile /a? text x", 2, "not allowed"),
        ("image-size 40M\nfile /a\u{1F600} text x", 2, "Basic Multilingual"),
        (
            "image-size 40M\nfile /a-\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9} text x",
            2,
            "255 bytes",
        ),
        (
            "image-size 40M\ntree /t files=10 depth=2 fanout=1 size=0..1K seed=1 dirs=3",
            2,
            "do not fit",
        ),
        ("image-size 40M\ntree /t files=10 depth=2 fanout=2 seed=1", 2, "expected `tree"),
        (
            "image-size 40M\ntree /t files=1 depth=1 fanout=1 size=9..1 seed=1",
            2,
            "above the maximum",
        ),
        (
            "image-size 40M\ntree /t files=1 depth=1 fanout=1 size=0..1 seed=1 colour=red",
            2,
            "unknown option",
        ),
        (
            "image-size 40M\ndir /t\ntree /t files=1 depth=0 fanout=0 size=0..1 seed=1",
            3,
            "already declared on line 2",
        ),
        ("image-size 40M\nfill /f free=1K", 2, "expected `fill"),
        (
            "image-size 40M\nfill /f free=1K seed=1\nfill /g free=1K seed=1",
            3,
            "given twice",
        ),
        (
            "image-size 40M\nfill /f free=1K seed=1\nfile /f/x text y",
            3,
            "inside the file /f",
        ),
        (
            "image-size 40M\nfile /a text x\nfile /A text y",
            3,
            "already declared on line 2",
        ),
        ("image-size 40M\nfrobnicate", 2, "unknown directive"),
        ("image-size 40M\nlabel lower", 2, "label"),
        ("image-size 40M\nfile /a text \"open", 2, "unterminated"),
        (
            "image-size 40M\ntimestamp 2024-02-30 00:00:00",
            2,
            "timestamp",
        ),
        ("image-size 40M\nfile /MANIFEST.SHA text x", 2, "reserved"),
        (
            "image-size 40M\nfile /a text x\ndir /a/b",
            3,
            "inside the file",
        ),
        ("image-size 64M\ncluster-size 1K", 0, "65525"),
        ("label X", 0, "missing `image-size`"),
    ];
    for (text, line, needle) in cases {
        let e = ImageSpec::parse(text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.to_string().contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn auto_cluster_size_is_largest_fat32_one() {
    let s = ImageSpec::parse("image-size 64M").unwrap();
    assert_eq!(s.cluster_size, 512);
    let s = ImageSpec::parse("image-size 300M").unwrap();
    assert_eq!(s.cluster_size, 4096);
    assert!(fat32_clusters(300 << 20, 4096) >= FAT32_MIN_CLUSTERS);
    assert!(fat32_clusters(300 << 20, 8192) < FAT32_MIN_CLUSTERS);
}

#[test]
fn checksum_file_round_trips() {
    let entries = alloc::vec![
        ChecksumEntry {
            path: "/a b/c.txt".into(),
            size: 5,
            sha256: [0xab; 32]
        },
        ChecksumEntry {
            path: "/z".into(),
            size: 0,
            sha256: [0; 32]
        },
    ];
    let text = format_checksums(&entries);
    assert!(text.starts_with(CHECKSUM_HEADER));
    assert_eq!(parse_checksums(&text).unwrap(), entries);
    assert!(parse_checksums("zz 1 /a").is_err());
}

#[test]
fn tree_expands_in_place_into_checked_entries() {
    let text = "image-size 40M\nfile /first text a\n\
                tree \"/T r\" files=300 depth=4 fanout=3 size=1..2K seed=5\n\
                file /last text z\n";
    let s = ImageSpec::parse(text).unwrap();
    assert_eq!(s, ImageSpec::parse(text).unwrap(), "deterministic");
    assert_eq!(s.files().count(), 302);
    assert_eq!(s.files().next().unwrap().path, "/first");
    assert_eq!(s.files().last().unwrap().path, "/last");
    assert_eq!(
        s.entries[1],
        Entry::Dir {
            path: "/T r".into()
        }
    );
    let dirs = s
        .entries
        .iter()
        .filter(|e| matches!(e, Entry::Dir { .. }))
        .count();
    assert_eq!(dirs, 1 + 300usize.div_ceil(16));
    let deepest = s.files().map(|f| f.path.matches('/').count()).max();
    assert!(deepest.unwrap() <= 6);
    assert!(s
        .files()
        .filter(|f| f.path.starts_with("/T r/"))
        .all(|f| matches!(f.content, Content::Random { size, .. } if (1..=2048).contains(&size))));
    // A second tree with the same seed elsewhere has the same shape and
    // names, which do not collide with the first's.
    let two = ImageSpec::parse(
        "image-size 40M\ntree /a files=50 depth=2 fanout=3 size=0..1K seed=1\n\
         tree /b files=50 depth=2 fanout=3 size=0..1K seed=1\n",
    )
    .unwrap();
    assert_eq!(two.files().count(), 100);
}

#[test]
fn fill_is_parsed_apart_from_the_entries() {
    let s =
        ImageSpec::parse("image-size 40M\nfill /fill/f.bin free=300K seed=0x11\nfile /a text b")
            .unwrap();
    assert_eq!(
        s.fill,
        Some(FillSpec {
            path: "/fill/f.bin".into(),
            free: 300 << 10,
            seed: 0x11
        })
    );
    assert_eq!(s.files().count(), 1);
}

#[test]
fn golden_manifests_parse() {
    for (name, text) in crate::GOLDEN_MANIFESTS {
        let s = ImageSpec::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(s.image_size >= 33 << 20, "{name}");
    }
}

#[test]
fn default_manifest_parses() {
    let s = ImageSpec::parse(crate::DEFAULT_MANIFEST).unwrap();
    assert!(s.files().any(|f| f.content.len() >= 16 << 20));
    assert!(s.files().filter(|f| f.group.is_some()).count() >= 2);
}
