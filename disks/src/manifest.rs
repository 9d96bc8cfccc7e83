//! The image manifest (what the builder puts in a FAT32 image) and the checksum
//! file stored inside every image.
//!
//! # Image manifest (`*.manifest`, UTF-8 text)
//!
//! One directive per line; `#` starts a comment (outside quotes); blank lines are
//! ignored. Tokens are separated by blanks; a token with blanks or `#` is written in
//! double quotes, with the escapes `\n \t \r \0 \\ \" \xNN \u{XXXX}`. Sizes are
//! integers with an optional binary suffix: `B`, `K`/`KiB`, `M`/`MiB`, `G`/`GiB`.
//! Numbers may be decimal or `0x` hex.
//!
//! Header directives (each at most once, any order):
//!
//! | directive | meaning | default |
//! |---|---|---|
//! | `image-size <size>` | total image bytes (multiple of 512) | required |
//! | `cluster-size <size>` | bytes per cluster, power of two 512..=32K | largest that still gives FAT32 (≥ 65525 clusters) |
//! | `label <text>` | volume label, ≤ 11 of `A-Z 0-9 _ - space` | `NO NAME` |
//! | `volume-id <number>` | 32-bit volume serial | `0x12345678` |
//! | `timestamp <YYYY-MM-DD> <HH:MM:SS>` | every created/modified/accessed time | `2000-01-01 00:00:00` |
//! | `checksums <path>` | where the checksum file goes | `/MANIFEST.SHA` |
//!
//! Entries, written in file order (parent directories are created as needed):
//!
//! ```text
//! dir  <path>
//! file <path> text <string>            [options]
//! file <path> zero <size>              [options]
//! file <path> random <size> seed=<n>   [options]
//! ```
//!
//! Options: `group=<name>` and `chunk=<size>` (default 4K). Files of one group
//! are written together when the group's first member is reached, round-robin,
//! `chunk` bytes of each file per turn, so their clusters interleave (fragmented
//! files). Paths are absolute (`/a/b`), components separated by `/`, any Unicode
//! except `"*/:<>?\|`, control characters and characters outside the Basic
//! Multilingual Plane, at most 255 bytes of UTF-8 each, not starting with a
//! non-ASCII character (lamfat 0.4.3 cannot create those three); two
//! entries may not name the same path (case-insensitively, as FAT does).
//!
//! Generated trees (any number, each expanded in place, in file order):
//!
//! ```text
//! tree <dir> files=<n> depth=<d> fanout=<k> size=<min>..<max> seed=<s> [dirs=<m>]
//! ```
//!
//! `<dir>` (declared by the tree: not to be declared again) gets `m`
//! subdirectories (default `max(d, ⌈n/16⌉)`, none for `depth=0`) at most `d` levels deep and with at
//! most `k` subdirectories each, one chain of them reaching depth `d`, and `n`
//! files of pseudo-random content, sizes log-uniform in `min..=max`, spread over
//! `<dir>` and its subdirectories; names mix 8.3 names, lower-case short names
//! and long names with non-ASCII letters (never first). The same arguments give
//! the same entries on every build; [`crate::tree`] documents the expansion.
//! The generated entries are ordinary `dir` and `file … random` entries: the
//! uniqueness rules above apply to them too.
//!
//! Filling the volume (at most once):
//!
//! ```text
//! fill <path> free=<size> seed=<n>
//! ```
//!
//! A file of pseudo-random content written after every other entry and before
//! the checksum file, sized at build time so that exactly `free` bytes (rounded
//! up to whole clusters) stay free once the checksum file is written: a nearly
//! full volume without computing cluster counts by hand. The file is listed in
//! the checksum file like any other.
//!
//! # Checksum file (`/MANIFEST.SHA`)
//!
//! ```text
//! # sha256 size path (disks checksum manifest v1)
//! <64 lowercase hex> <size in bytes> <absolute path, may contain spaces>
//! ```
//!
//! One line per file in manifest order (the checksum file itself excluded).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::content::Content;
use crate::fs::Timestamp;
use crate::tree::{TreeEntry, TreeSpec};

/// A manifest that does not parse, with its 1-based line number (0: whole file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// 1-based line, or 0 for errors about the whole manifest.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "manifest: {}", self.message)
        } else {
            write!(f, "manifest line {}: {}", self.line, self.message)
        }
    }
}

impl core::error::Error for ManifestError {}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ManifestError> {
    Err(ManifestError {
        line,
        message: message.into(),
    })
}

/// One entry of the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A directory.
    Dir {
        /// Absolute path.
        path: String,
    },
    /// A file.
    File(FileSpec),
}

/// A file of the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    /// Absolute path.
    pub path: String,
    /// Its bytes.
    pub content: Content,
    /// Interleave group, for fragmented files.
    pub group: Option<String>,
    /// Bytes written per round-robin turn within the group.
    pub chunk: u64,
}

/// The `fill` directive: a file that takes all but `free` bytes of the volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillSpec {
    /// Absolute path.
    pub path: String,
    /// Bytes to leave free (rounded up to whole clusters by the builder).
    pub free: u64,
    /// Seed of its pseudo-random content.
    pub seed: u64,
}

/// A parsed image manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSpec {
    /// Volume label (≤ 11 bytes).
    pub label: String,
    /// Volume serial number.
    pub volume_id: u32,
    /// Time stamped on everything.
    pub timestamp: Timestamp,
    /// Image size in bytes.
    pub image_size: u64,
    /// Cluster size in bytes.
    pub cluster_size: u32,
    /// Absolute path of the checksum file.
    pub checksum_path: String,
    /// Directories and files, in manifest order (trees expanded).
    pub entries: Vec<Entry>,
    /// The file that fills the volume, written after `entries`.
    pub fill: Option<FillSpec>,
}

/// Clusters a FAT32 volume of `image_size` bytes gets with `cluster_size`-byte
/// clusters (512-byte sectors, 32 reserved sectors, two FATs), as formatters
/// compute it.
pub fn fat32_clusters(image_size: u64, cluster_size: u32) -> u64 {
    let sectors = image_size / 512;
    let spc = u64::from(cluster_size / 512).max(1);
    let reserved = 32;
    let data_guess = sectors.saturating_sub(reserved);
    // Sectors per FAT such that every cluster has a 4-byte entry (plus 2 reserved).
    let mut fat = (data_guess / spc + 2).div_ceil(128);
    loop {
        let clusters = sectors.saturating_sub(reserved + 2 * fat) / spc;
        let need = (clusters + 2).div_ceil(128);
        if need <= fat {
            return clusters;
        }
        fat = need;
    }
}

/// Minimum cluster count of a FAT32 volume.
pub const FAT32_MIN_CLUSTERS: u64 = 65525;

impl ImageSpec {
    /// Parses a manifest (see the module documentation for the format).
    pub fn parse(text: &str) -> Result<ImageSpec, ManifestError> {
        let mut label = None;
        let mut volume_id = None;
        let mut timestamp = None;
        let mut image_size = None;
        let mut cluster_size = None;
        let mut checksum_path = None;
        let mut entries = Vec::new();
        let mut seen = Seen::default();
        let mut fill: Option<FillSpec> = None;

        for (idx, raw) in text.lines().enumerate() {
            let ln = idx + 1;
            let toks = tokenize(raw).map_err(|m| ManifestError {
                line: ln,
                message: m,
            })?;
            let Some(first) = toks.first() else {
                continue;
            };
            let args = &toks[1..];
            let once = |slot: bool, name: &str| {
                if slot {
                    err(ln, format!("`{name}` given twice"))
                } else {
                    Ok(())
                }
            };
            match first.as_str() {
                "image-size" => {
                    once(image_size.is_some(), "image-size")?;
                    let v = one_arg(ln, args, "image-size <size>")?;
                    let s = parse_size(v).ok_or_else(|| bad(ln, "size", v))?;
                    if s == 0 || s % 512 != 0 {
                        return err(
                            ln,
                            format!("image-size {s} is not a positive multiple of 512"),
                        );
                    }
                    if s / 512 > u64::from(u32::MAX) {
                        return err(ln, "image-size too large for FAT32");
                    }
                    image_size = Some(s);
                }
                "cluster-size" => {
                    once(cluster_size.is_some(), "cluster-size")?;
                    let v = one_arg(ln, args, "cluster-size <size>")?;
                    let s = parse_size(v).ok_or_else(|| bad(ln, "size", v))?;
                    if !(512..=32768).contains(&s) || !s.is_power_of_two() {
                        return err(
                            ln,
                            format!("cluster-size {s} must be a power of two from 512 to 32K"),
                        );
                    }
                    cluster_size = Some(s as u32);
                }
                "label" => {
                    once(label.is_some(), "label")?;
                    let v = one_arg(ln, args, "label <text>")?;
                    if v.is_empty()
                        || v.len() > 11
                        || !v.bytes().all(|b| {
                            b.is_ascii_uppercase() || b.is_ascii_digit() || b"_- ".contains(&b)
                        })
                    {
                        return err(ln, format!("label {v:?}: 1 to 11 of A-Z 0-9 _ - space"));
                    }
                    label = Some(v.clone());
                }
                "volume-id" => {
                    once(volume_id.is_some(), "volume-id")?;
                    let v = one_arg(ln, args, "volume-id <number>")?;
                    let n = parse_number(v).ok_or_else(|| bad(ln, "number", v))?;
                    volume_id = Some(u32::try_from(n).map_err(|_| bad(ln, "32-bit volume id", v))?);
                }
                "timestamp" => {
                    once(timestamp.is_some(), "timestamp")?;
                    if args.len() != 2 {
                        return err(ln, "expected `timestamp YYYY-MM-DD HH:MM:SS`");
                    }
                    timestamp = Some(Timestamp::parse(&args[0], &args[1]).ok_or_else(|| {
                        bad(
                            ln,
                            "timestamp (1980..2107, valid date and time)",
                            &format!("{} {}", args[0], args[1]),
                        )
                    })?);
                }
                "checksums" => {
                    once(checksum_path.is_some(), "checksums")?;
                    let v = one_arg(ln, args, "checksums <path>")?;
                    checksum_path = Some(check_path(ln, v)?);
                }
                "dir" => {
                    let v = one_arg(ln, args, "dir <path>")?;
                    let path = check_path(ln, v)?;
                    add_seen(&mut seen, &path, ln)?;
                    entries.push(Entry::Dir { path });
                }
                "file" => {
                    if args.len() < 2 {
                        return err(ln, "expected `file <path> text|zero|random ...`");
                    }
                    let path = check_path(ln, &args[0])?;
                    add_seen(&mut seen, &path, ln)?;
                    let (content, rest) = match args[1].as_str() {
                        "text" => {
                            let Some(t) = args.get(2) else {
                                return err(ln, "expected `file <path> text <string>`");
                            };
                            (Content::Bytes(t.as_bytes().to_vec()), &args[3..])
                        }
                        "zero" => {
                            let Some(v) = args.get(2) else {
                                return err(ln, "expected `file <path> zero <size>`");
                            };
                            let size = parse_size(v).ok_or_else(|| bad(ln, "size", v))?;
                            (Content::Zero { size }, &args[3..])
                        }
                        "random" => {
                            let Some(v) = args.get(2) else {
                                return err(ln, "expected `file <path> random <size> seed=<n>`");
                            };
                            let size = parse_size(v).ok_or_else(|| bad(ln, "size", v))?;
                            let mut seed = None;
                            for o in &args[3..] {
                                if let Some(s) = o.strip_prefix("seed=") {
                                    seed = Some(parse_number(s).ok_or_else(|| bad(ln, "seed", s))?);
                                }
                            }
                            let Some(seed) = seed else {
                                return err(ln, "random content needs seed=<n>");
                            };
                            (Content::Random { size, seed }, &args[3..])
                        }
                        other => {
                            return err(
                                ln,
                                format!("unknown content kind `{other}` (text, zero, random)"),
                            )
                        }
                    };
                    if content.len() > u64::from(u32::MAX) {
                        return err(ln, "file larger than FAT's 4 GiB - 1 limit");
                    }
                    let mut group = None;
                    let mut chunk = 4096;
                    for o in rest {
                        if let Some(g) = o.strip_prefix("group=") {
                            if g.is_empty() {
                                return err(ln, "empty group name");
                            }
                            group = Some(g.to_string());
                        } else if let Some(c) = o.strip_prefix("chunk=") {
                            chunk = parse_size(c).ok_or_else(|| bad(ln, "chunk size", c))?;
                            if chunk == 0 {
                                return err(ln, "chunk=0");
                            }
                        } else if o.starts_with("seed=")
                            && matches!(content, Content::Random { .. })
                        {
                        } else {
                            return err(
                                ln,
                                format!("unknown option `{o}` (group=, chunk=, seed=)"),
                            );
                        }
                    }
                    entries.push(Entry::File(FileSpec {
                        path,
                        content,
                        group,
                        chunk,
                    }));
                }
                "tree" => {
                    let tree = parse_tree(ln, args)?;
                    add_seen(&mut seen, &tree.base, ln)?;
                    entries.push(Entry::Dir {
                        path: tree.base.clone(),
                    });
                    for e in tree.expand() {
                        match e {
                            TreeEntry::Dir(path) => {
                                let path = check_path(ln, &path)?;
                                add_seen(&mut seen, &path, ln)?;
                                entries.push(Entry::Dir { path });
                            }
                            TreeEntry::File(path, content) => {
                                let path = check_path(ln, &path)?;
                                add_seen(&mut seen, &path, ln)?;
                                entries.push(Entry::File(FileSpec {
                                    path,
                                    content,
                                    group: None,
                                    chunk: 4096,
                                }));
                            }
                        }
                    }
                }
                "fill" => {
                    once(fill.is_some(), "fill")?;
                    let usage = "expected `fill <path> free=<size> seed=<n>`";
                    let [p, a, b] = args else {
                        return err(ln, usage);
                    };
                    let path = check_path(ln, p)?;
                    add_seen(&mut seen, &path, ln)?;
                    let (mut free, mut seed) = (None, None);
                    for o in [a, b] {
                        if let Some(v) = o.strip_prefix("free=") {
                            free = Some(parse_size(v).ok_or_else(|| bad(ln, "size", v))?);
                        } else if let Some(v) = o.strip_prefix("seed=") {
                            seed = Some(parse_number(v).ok_or_else(|| bad(ln, "seed", v))?);
                        }
                    }
                    let (Some(free), Some(seed)) = (free, seed) else {
                        return err(ln, usage);
                    };
                    fill = Some(FillSpec { path, free, seed });
                }
                other => return err(ln, format!("unknown directive `{other}`")),
            }
        }

        let Some(image_size) = image_size else {
            return err(0, "missing `image-size`");
        };
        let cluster_size = match cluster_size {
            Some(c) => c,
            None => {
                let mut best = None;
                let mut c = 512u32;
                while c <= 32768 {
                    if fat32_clusters(image_size, c) >= FAT32_MIN_CLUSTERS {
                        best = Some(c);
                    }
                    c *= 2;
                }
                match best {
                    Some(c) => c,
                    None => return err(0, format!("image-size {image_size} is too small for FAT32 even with 512-byte clusters (needs ≥ 65525 clusters, about 33 MiB)")),
                }
            }
        };
        let clusters = fat32_clusters(image_size, cluster_size);
        if clusters < FAT32_MIN_CLUSTERS {
            return err(0, format!(
                "{image_size} bytes with {cluster_size}-byte clusters gives {clusters} clusters; FAT32 needs at least {FAT32_MIN_CLUSTERS}: use smaller clusters or a bigger image"
            ));
        }
        let checksum_path = checksum_path.unwrap_or_else(|| "/MANIFEST.SHA".to_string());
        if let Some((_, l)) = seen.get(&checksum_path.to_lowercase()) {
            return err(
                *l,
                format!("{checksum_path} is reserved for the checksum file"),
            );
        }
        // A file may not be the parent of another entry. Paths sort right after
        // their parent's "<parent>/" prefix, so one range lookup per file does.
        let file_paths = entries
            .iter()
            .filter_map(|e| match e {
                Entry::File(f) => Some(&f.path),
                Entry::Dir { .. } => None,
            })
            .chain(fill.as_ref().map(|f| &f.path));
        for path in file_paths {
            let prefix = format!("{}/", path.to_lowercase());
            if let Some((k, (p, l))) = seen.range(prefix.clone()..).next() {
                if k.starts_with(&prefix) {
                    return err(*l, format!("{p} is inside the file {path}"));
                }
            }
        }
        Ok(ImageSpec {
            label: label.unwrap_or_else(|| "NO NAME".to_string()),
            volume_id: volume_id.unwrap_or(0x1234_5678),
            timestamp: timestamp.unwrap_or(Timestamp::new(2000, 1, 1, 0, 0, 0)),
            image_size,
            cluster_size,
            checksum_path,
            entries,
            fill,
        })
    }

    /// The files, in manifest order.
    pub fn files(&self) -> impl Iterator<Item = &FileSpec> {
        self.entries.iter().filter_map(|e| match e {
            Entry::File(f) => Some(f),
            Entry::Dir { .. } => None,
        })
    }

    /// Total bytes of file content.
    pub fn content_bytes(&self) -> u64 {
        self.files().map(|f| f.content.len()).sum()
    }
}

/// Declared paths: lower-cased path → (path as written, line). A map, not a
/// list: a `tree` declares thousands of paths, and each must be checked
/// against all others.
type Seen = BTreeMap<String, (String, usize)>;

fn add_seen(seen: &mut Seen, path: &str, ln: usize) -> Result<(), ManifestError> {
    let key = path.to_lowercase();
    if let Some((_, l)) = seen.get(&key) {
        return err(ln, format!("{path} already declared on line {l}"));
    }
    seen.insert(key, (path.to_string(), ln));
    Ok(())
}

/// `tree <dir> files=<n> depth=<d> fanout=<k> size=<min>..<max> seed=<s> [dirs=<m>]`.
fn parse_tree(ln: usize, args: &[String]) -> Result<TreeSpec, ManifestError> {
    let usage =
        "expected `tree <dir> files=<n> depth=<d> fanout=<k> size=<min>..<max> seed=<s> [dirs=<m>]`";
    let Some((base, opts)) = args.split_first() else {
        return err(ln, usage);
    };
    let base = check_path(ln, base)?;
    let (mut files, mut depth, mut fanout, mut size, mut seed, mut dirs) =
        (None, None, None, None, None, None);
    for o in opts {
        let Some((k, v)) = o.split_once('=') else {
            return err(ln, format!("tree: option `{o}` is not key=value"));
        };
        let num = || -> Result<u32, ManifestError> {
            parse_number(v)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad(ln, k, v))
        };
        match k {
            "files" => files = Some(num()?),
            "depth" => depth = Some(num()?),
            "fanout" => fanout = Some(num()?),
            "dirs" => dirs = Some(num()?),
            "seed" => seed = Some(parse_number(v).ok_or_else(|| bad(ln, "seed", v))?),
            "size" => {
                let r = v
                    .split_once("..")
                    .and_then(|(a, b)| Some((parse_size(a)?, parse_size(b)?)));
                size = Some(r.ok_or_else(|| bad(ln, "size range <min>..<max>", v))?);
            }
            _ => {
                return err(
                    ln,
                    format!("tree: unknown option `{k}` (files, depth, fanout, size, seed, dirs)"),
                )
            }
        }
    }
    let (Some(files), Some(depth), Some(fanout), Some((min_size, max_size)), Some(seed)) =
        (files, depth, fanout, size, seed)
    else {
        return err(ln, usage);
    };
    let tree = TreeSpec {
        base,
        files,
        dirs: dirs.unwrap_or_else(|| TreeSpec::default_dirs(files, depth)),
        depth,
        fanout,
        min_size,
        max_size,
        seed,
    };
    tree.validate().map_err(|m| ManifestError {
        line: ln,
        message: format!("tree: {m}"),
    })?;
    Ok(tree)
}

fn bad(ln: usize, what: &str, v: &str) -> ManifestError {
    ManifestError {
        line: ln,
        message: format!("invalid {what}: {v:?}"),
    }
}

fn one_arg<'a>(ln: usize, args: &'a [String], usage: &str) -> Result<&'a String, ManifestError> {
    match args {
        [a] => Ok(a),
        _ => err(ln, format!("expected `{usage}`")),
    }
}

/// Checks an absolute path and returns it normalised (no trailing `/`).
fn check_path(ln: usize, p: &str) -> Result<String, ManifestError> {
    if !p.starts_with('/') {
        return err(ln, format!("path {p:?} must start with /"));
    }
    let mut out = String::new();
    for comp in p.split('/').filter(|c| !c.is_empty()) {
        if comp == "." || comp == ".." {
            return err(ln, format!("path {p:?}: . and .. are not allowed"));
        }
        if let Some(c) = comp
            .chars()
            .find(|c| c.is_control() || "\"*:<>?\\|".contains(*c))
        {
            return err(
                ln,
                format!("path {p:?}: character {c:?} is not allowed in FAT names"),
            );
        }
        if comp.len() > 255 {
            // FAT allows 255 UTF-16 units; lamfat 0.4.3 counts UTF-8 bytes.
            return err(
                ln,
                format!("path {p:?}: a name is longer than 255 bytes of UTF-8"),
            );
        }
        if let Some(c) = comp.chars().find(|c| u32::from(*c) > 0xFFFF) {
            // lamfat 0.4.3 refuses characters that need a UTF-16 surrogate pair.
            return err(
                ln,
                format!("path {p:?}: character {c:?} is outside the Basic Multilingual Plane"),
            );
        }
        if !comp.starts_with(|c: char| c.is_ascii()) {
            // lamfat 0.4.3 panics generating a short name for such names.
            return err(
                ln,
                format!("path {p:?}: a name may not start with a non-ASCII character"),
            );
        }
        if comp.ends_with(' ') || comp.ends_with('.') {
            return err(
                ln,
                format!("path {p:?}: FAT drops trailing spaces and dots"),
            );
        }
        out.push('/');
        out.push_str(comp);
    }
    if out.is_empty() {
        return err(ln, "the root directory always exists");
    }
    Ok(out)
}

/// Parses `123`, `0x7B`.
pub fn parse_number(s: &str) -> Option<u64> {
    let s = s.replace('_', "");
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

/// Parses `4096`, `4K`, `4KiB`, `16M`, `16MiB`, `1G`, `512B`.
pub fn parse_size(s: &str) -> Option<u64> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.replace('_', "").parse().ok()?;
    let mul = match unit {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mul)
}

/// Splits a line into tokens: blanks separate, `"..."` quotes with escapes,
/// `#` outside quotes starts a comment.
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut toks = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        if c == '#' {
            break;
        }
        let mut tok = String::new();
        if c == '"' {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("unterminated string".to_string()),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some('n') => tok.push('\n'),
                        Some('t') => tok.push('\t'),
                        Some('r') => tok.push('\r'),
                        Some('0') => tok.push('\0'),
                        Some('\\') => tok.push('\\'),
                        Some('"') => tok.push('"'),
                        Some('x') => {
                            let h: String = chars.by_ref().take(2).collect();
                            let v = u8::from_str_radix(&h, 16)
                                .ok()
                                .filter(|v| *v < 0x80)
                                .ok_or_else(|| format!("bad escape \\x{h} (00..7F)"))?;
                            tok.push(char::from(v));
                        }
                        Some('u') => {
                            if chars.next() != Some('{') {
                                return Err("bad escape: expected \\u{XXXX}".to_string());
                            }
                            let h: String = chars.by_ref().take_while(|c| *c != '}').collect();
                            let c = u32::from_str_radix(&h, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| format!("bad escape \\u{{{h}}}"))?;
                            tok.push(c);
                        }
                        Some(o) => return Err(format!("unknown escape \\{o}")),
                        None => return Err("unterminated string".to_string()),
                    },
                    Some(o) => tok.push(o),
                }
            }
            if chars
                .peek()
                .is_some_and(|c| !c.is_whitespace() && *c != '#')
            {
                return Err("expected a blank after a quoted string".to_string());
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '#' {
                    break;
                }
                if c == '"' {
                    return Err("quote inside a bare word".to_string());
                }
                tok.push(c);
                chars.next();
            }
        }
        toks.push(tok);
    }
    Ok(toks)
}

/// One line of the checksum file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecksumEntry {
    /// Absolute path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the contents.
    pub sha256: [u8; 32],
}

/// First line of every checksum file.
pub const CHECKSUM_HEADER: &str = "# sha256 size path (disks checksum manifest v1)";

/// Renders the checksum file.
pub fn format_checksums(entries: &[ChecksumEntry]) -> String {
    let mut s = String::from(CHECKSUM_HEADER);
    s.push('\n');
    for e in entries {
        s.push_str(&hex(&e.sha256));
        s.push_str(&format!(" {} {}\n", e.size, e.path));
    }
    s
}

/// Parses the checksum file.
pub fn parse_checksums(text: &str) -> Result<Vec<ChecksumEntry>, ManifestError> {
    let mut out = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let ln = idx + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let (Some(h), Some(sz), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            return err(ln, "expected `<sha256> <size> <path>`");
        };
        let sha256 = unhex(h).ok_or_else(|| bad(ln, "sha256", h))?;
        let size = sz.parse().map_err(|_| bad(ln, "size", sz))?;
        if !path.starts_with('/') {
            return err(ln, format!("path {path:?} must start with /"));
        }
        out.push(ChecksumEntry {
            path: path.to_string(),
            size,
            sha256,
        });
    }
    Ok(out)
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests;
