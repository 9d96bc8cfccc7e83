//! The manifest's `tree` directive: a seeded generator that expands one line
//! into thousands of directories and files, so a big test image needs no
//! thousand-line manifest. The expansion is a pure function of the directive's
//! arguments (SplitMix64 from [`crate::content`], no floats, no host state), so
//! every build of the same manifest yields the same entries in the same order.
//!
//! # Expansion
//!
//! `tree <base> files=<n> depth=<d> fanout=<k> size=<min>..<max> seed=<s> [dirs=<m>]`
//!
//! One generator `g = SplitMix64(s)` drives everything, in this order:
//!
//! 1. Directories. `<base>` is directory 0 (depth 0). Directories 1..=d form a
//!    chain `<base>/…/…` so the tree always reaches depth `d`. Each further
//!    directory, up to `m` in all (default `max(d, ⌈n / 16⌉)`, 0 when `d = 0`;
//!    `<base>` not counted), is the child of a directory drawn with `g` among those of depth
//!    `< d` that have fewer than `k` children.
//! 2. Files. Each of the `n` files goes into a directory drawn with `g` among
//!    all directories (`<base>` included); its size is drawn log-uniformly (a
//!    bit length uniform in `bits(min)..=bits(max)`, then a size uniform in
//!    that bit length's range, clamped to `min..=max`), and its content is
//!    `random <size> seed=<next g output>`.
//! 3. Names are drawn with `g` as each directory or file is made (see
//!    [`name`]): 8.3 upper-case names, lower-case short names, and long names
//!    of words joined by blanks, `_`, `-` or `.`, many with non-ASCII letters
//!    (Latin, Greek, Cyrillic, CJK), never as the first character (lamfat 0.4.3
//!    cannot make a short name for those). Every name ends in a serial number
//!    unique within the tree (plus an extension), so no two collide, not even
//!    case-insensitively.
//!
//! Entries come out as directories (parents first) followed by files, in
//! creation order; files are therefore written into directories in a shuffled
//! order, and directory clusters interleave with file data as on a used disk.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::content::{Content, SplitMix64};

/// The arguments of one `tree` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeSpec {
    /// Absolute path of the directory the tree grows in.
    pub base: String,
    /// Number of files.
    pub files: u32,
    /// Number of directories below `base` (`base` not counted).
    pub dirs: u32,
    /// Deepest level below `base` (the chain guarantees it is reached).
    pub depth: u32,
    /// Most subdirectories any generated directory gets.
    pub fanout: u32,
    /// Smallest file size.
    pub min_size: u64,
    /// Largest file size.
    pub max_size: u64,
    /// Generator seed.
    pub seed: u64,
}

/// One generated entry (paths absolute).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeEntry {
    /// A directory.
    Dir(String),
    /// A file with its content.
    File(String, Content),
}

/// Most files one `tree` may make (keeps a typo from building for an hour).
pub const MAX_TREE_FILES: u32 = 200_000;
/// Deepest `depth=` allowed (the kernel's tree walk stops at 64 levels).
pub const MAX_TREE_DEPTH: u32 = 40;

/// Largest number of directories a tree of `depth` levels with `fanout`
/// children each can hold (saturating).
pub fn capacity(depth: u32, fanout: u32) -> u64 {
    let mut level = 1u64;
    let mut total = 0u64;
    for _ in 0..depth {
        level = level.saturating_mul(u64::from(fanout));
        total = total.saturating_add(level);
    }
    total
}

impl TreeSpec {
    /// The default directory count for `files` files at `depth` levels.
    pub fn default_dirs(files: u32, depth: u32) -> u32 {
        if depth == 0 {
            return 0;
        }
        depth.max(files.div_ceil(16))
    }

    /// Checks the numbers; the message is for the manifest error.
    pub fn validate(&self) -> Result<(), String> {
        if self.files > MAX_TREE_FILES {
            return Err(format!(
                "files={} is more than {MAX_TREE_FILES}",
                self.files
            ));
        }
        if self.depth > MAX_TREE_DEPTH {
            return Err(format!(
                "depth={} is more than {MAX_TREE_DEPTH}",
                self.depth
            ));
        }
        if self.depth > 0 && self.fanout == 0 {
            return Err("fanout=0 leaves no room for subdirectories".into());
        }
        if self.dirs < self.depth {
            return Err(format!(
                "dirs={} cannot reach depth={}",
                self.dirs, self.depth
            ));
        }
        if u64::from(self.dirs) > capacity(self.depth, self.fanout) {
            return Err(format!(
                "dirs={} do not fit in depth={} with fanout={} (at most {})",
                self.dirs,
                self.depth,
                self.fanout,
                capacity(self.depth, self.fanout)
            ));
        }
        if self.min_size > self.max_size {
            return Err(format!(
                "size={}..{}: the minimum is above the maximum",
                self.min_size, self.max_size
            ));
        }
        if self.max_size > u64::from(u32::MAX) {
            return Err("size: files are limited to 4 GiB - 1 on FAT".into());
        }
        Ok(())
    }

    /// The entries this directive stands for (see the module documentation).
    /// Call [`TreeSpec::validate`] first; an invalid spec expands to fewer
    /// entries than asked rather than panicking.
    pub fn expand(&self) -> Vec<TreeEntry> {
        let mut g = SplitMix64::new(self.seed);
        let mut serial = 0u32;
        let base = self.base.trim_end_matches('/');
        // (path, depth, children)
        let mut dirs: Vec<(String, u32, u32)> = Vec::with_capacity(self.dirs as usize + 1);
        dirs.push((String::from(base), 0, 0));
        // Indices into `dirs` that may still take a child, in creation order.
        let mut open: Vec<usize> = Vec::new();
        let mut out = Vec::with_capacity((self.dirs + self.files) as usize);

        let add_dir = |parent: usize,
                       dirs: &mut Vec<(String, u32, u32)>,
                       open: &mut Vec<usize>,
                       g: &mut SplitMix64,
                       serial: &mut u32,
                       out: &mut Vec<TreeEntry>| {
            *serial += 1;
            let path = format!("{}/{}", dirs[parent].0, name(g, *serial, true));
            let depth = dirs[parent].1 + 1;
            dirs[parent].2 += 1;
            if dirs[parent].2 >= self.fanout {
                open.retain(|&i| i != parent);
            }
            dirs.push((path.clone(), depth, 0));
            if depth < self.depth && self.fanout > 0 {
                open.push(dirs.len() - 1);
            }
            out.push(TreeEntry::Dir(path));
        };

        if self.depth > 0 && self.fanout > 0 {
            open.push(0);
        }
        // The chain to full depth first.
        for level in 0..self.depth.min(self.dirs) {
            let parent = dirs.len() - 1;
            debug_assert_eq!(dirs[parent].1, level);
            add_dir(parent, &mut dirs, &mut open, &mut g, &mut serial, &mut out);
        }
        while dirs.len() <= self.dirs as usize && !open.is_empty() {
            let parent = open[pick(&mut g, open.len())];
            add_dir(parent, &mut dirs, &mut open, &mut g, &mut serial, &mut out);
        }
        for _ in 0..self.files {
            let d = pick(&mut g, dirs.len());
            let size = draw_size(&mut g, self.min_size, self.max_size);
            serial += 1;
            let path = format!("{}/{}", dirs[d].0, name(&mut g, serial, false));
            let seed = g.next_u64();
            out.push(TreeEntry::File(path, Content::Random { size, seed }));
        }
        out
    }
}

/// A uniform index below `n` (`n > 0`); the modulo bias is irrelevant here.
fn pick(g: &mut SplitMix64, n: usize) -> usize {
    (g.next_u64() % n as u64) as usize
}

/// Number of significant bits (0 for 0).
fn bits(v: u64) -> u32 {
    64 - v.leading_zeros()
}

/// A size in `min..=max`, log-uniform: small files are common, big ones rare,
/// as on a real disk.
fn draw_size(g: &mut SplitMix64, min: u64, max: u64) -> u64 {
    let (lo_bits, hi_bits) = (bits(min), bits(max));
    let b = lo_bits + (g.next_u64() % u64::from(hi_bits - lo_bits + 1)) as u32;
    let (lo, hi) = match b {
        0 => (0, 0),
        b => (1u64 << (b - 1), (1u64 << (b - 1)).saturating_mul(2) - 1),
    };
    let (lo, hi) = (lo.max(min), hi.min(max));
    lo + g.next_u64() % (hi - lo + 1)
}

const ASCII_WORDS: &[&str] = &[
    "report", "Notes", "draft", "IMG", "backup", "data", "Final", "log", "config", "Budget",
    "photo", "summary", "Project", "invoice", "test", "archive", "readme", "Chapter", "scan",
    "music", "Kernel", "queue", "virtio", "sector",
];

/// Words with non-ASCII letters; never the first word of a name.
const WIDE_WORDS: &[&str] = &[
    "café",
    "naïve",
    "Ünïcödé",
    "größe",
    "smörgåsbord",
    "piñata",
    "façade",
    "crème brûlée",
    "ελληνικά",
    "日本語",
    "данные",
    "résumé",
    "Ærøskøbing",
    "fjörður",
    "żółw",
    "čaj",
    "ñandú",
    "中文",
    "한국어",
    "€uro",
    "Straße",
    "Zürich",
];

const EXTENSIONS: &[&str] = &[
    ".txt", ".bin", ".dat", ".jpg", ".tar.gz", ".md", "", ".log", ".RAW",
];
const SEPARATORS: &[&str] = &[" ", " ", "_", "-", "."];

/// A generated name ending in `serial` (which keeps it unique).
///
/// Files: one in ten is an upper-case 8.3 name (`F0000042.BIN`, no long-name
/// entries at all), one in ten a lower-case short name (`f00042.txt`, which
/// needs a long-name entry for its case), one in ten a long name of 100 to 200
/// UTF-8 bytes, the rest 1 to 4 words and the serial. Directories: one in
/// five 8.3 (`D0000042`), the rest 1 to 3 words and the serial, at most
/// about 60 bytes, so deep paths stay well under 4 KiB. Lengths are counted
/// in UTF-8 bytes because lamfat 0.4.3 limits names to 255 of those (not to
/// 255 UTF-16 units, as FAT itself does).
pub fn name(g: &mut SplitMix64, serial: u32, dir: bool) -> String {
    let style = g.next_u64() % 10;
    if dir {
        if style < 2 {
            return format!("D{serial:07}");
        }
        let words = 1 + g.next_u64() % 3;
        return format!("{} {serial}", words_joined(g, words, 60));
    }
    match style {
        0 => format!("F{serial:07}.BIN"),
        1 => format!("f{serial:05}.txt"),
        2 => {
            let target = 100 + (g.next_u64() % 101) as usize;
            format!("{} {serial}.dat", words_joined(g, 64, target))
        }
        _ => {
            let words = 1 + g.next_u64() % 4;
            let ext = EXTENSIONS[pick(g, EXTENSIONS.len())];
            format!("{} {serial}{ext}", words_joined(g, words, 80))
        }
    }
}

/// Up to `count` words joined by random separators, stopping before `limit`
/// UTF-8 bytes; the first word is always ASCII.
fn words_joined(g: &mut SplitMix64, count: u64, limit: usize) -> String {
    let mut s = String::from(ASCII_WORDS[pick(g, ASCII_WORDS.len())]);
    for _ in 1..count {
        let w = if g.next_u64() % 5 < 2 {
            WIDE_WORDS[pick(g, WIDE_WORDS.len())]
        } else {
            ASCII_WORDS[pick(g, ASCII_WORDS.len())]
        };
        let sep = SEPARATORS[pick(g, SEPARATORS.len())];
        if s.len() + sep.len() + w.len() > limit {
            break;
        }
        s.push_str(sep);
        s.push_str(w);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(files: u32, depth: u32, fanout: u32, seed: u64) -> TreeSpec {
        TreeSpec {
            base: "/t".into(),
            files,
            dirs: TreeSpec::default_dirs(files, depth),
            depth,
            fanout,
            min_size: 0,
            max_size: 100_000,
            seed,
        }
    }

    fn depth_of(path: &str) -> usize {
        path.matches('/').count() - 1
    }

    #[test]
    fn same_input_gives_the_same_entries() {
        let s = spec(500, 6, 4, 42);
        assert_eq!(s.expand(), s.expand());
        let other = TreeSpec {
            seed: 43,
            ..s.clone()
        };
        assert_ne!(s.expand(), other.expand());
    }

    #[test]
    fn counts_depth_and_fanout_are_as_asked() {
        let s = spec(3000, 12, 5, 7);
        s.validate().unwrap();
        let e = s.expand();
        let dirs: Vec<&String> = e
            .iter()
            .filter_map(|e| match e {
                TreeEntry::Dir(p) => Some(p),
                _ => None,
            })
            .collect();
        let files = e
            .iter()
            .filter(|e| matches!(e, TreeEntry::File(..)))
            .count();
        assert_eq!(files, 3000);
        assert_eq!(dirs.len() as u32, s.dirs);
        assert_eq!(dirs.iter().map(|d| depth_of(d)).max(), Some(12));
        // No directory has more than `fanout` subdirectories, and parents come
        // before their children.
        for (i, d) in dirs.iter().enumerate() {
            let kids = dirs
                .iter()
                .filter(|c| c.rsplit_once('/').unwrap().0 == d.as_str())
                .count();
            assert!(kids <= 5, "{d} has {kids} subdirectories");
            let parent = d.rsplit_once('/').unwrap().0;
            assert!(parent == "/t" || dirs[..i].iter().any(|p| p.as_str() == parent));
        }
        for e in &e {
            if let TreeEntry::File(p, c) = e {
                assert!(c.len() <= 100_000);
                let parent = p.rsplit_once('/').unwrap().0;
                assert!(parent == "/t" || dirs.iter().any(|d| d.as_str() == parent));
            }
        }
    }

    #[test]
    fn names_are_valid_varied_and_unique() {
        let e = spec(2000, 5, 6, 99).expand();
        let mut seen = alloc::collections::BTreeSet::new();
        let (mut wide, mut short, mut long) = (0, 0, 0);
        for e in &e {
            let p = match e {
                TreeEntry::Dir(p) | TreeEntry::File(p, _) => p,
            };
            let leaf = p.rsplit('/').next().unwrap();
            assert!(leaf.starts_with(|c: char| c.is_ascii()), "{leaf}");
            assert!(!leaf.ends_with(' ') && !leaf.ends_with('.'), "{leaf}");
            assert!(leaf.len() <= 255, "{leaf}");
            assert!(
                !leaf
                    .chars()
                    .any(|c| c.is_control() || "\"*:<>?\\|/".contains(c)),
                "{leaf}"
            );
            assert!(seen.insert(p.to_lowercase()), "duplicate {p}");
            wide += usize::from(!leaf.is_ascii());
            short += usize::from(leaf.len() <= 12 && leaf.is_ascii());
            long += usize::from(leaf.len() >= 100);
        }
        assert!(wide > 200, "only {wide} non-ASCII names");
        assert!(short > 100, "only {short} short names");
        assert!(long > 50, "only {long} long names");
    }

    #[test]
    fn sizes_stay_in_range_and_spread_over_magnitudes() {
        let mut g = SplitMix64::new(1);
        let sizes: Vec<u64> = (0..5000).map(|_| draw_size(&mut g, 100, 1 << 20)).collect();
        assert!(sizes.iter().all(|s| (100..=1 << 20).contains(s)));
        assert!(sizes.iter().filter(|&&s| s < 1024).count() > 500);
        assert!(sizes.iter().filter(|&&s| s > 256 << 10).count() > 200);
        assert_eq!(draw_size(&mut g, 0, 0), 0);
        assert_eq!(draw_size(&mut g, 7, 7), 7);
    }

    #[test]
    fn impossible_shapes_are_refused() {
        let mut s = spec(10, 3, 2, 1);
        s.dirs = 15; // 2 + 4 + 8 = 14 fit
        assert!(s.validate().unwrap_err().contains("do not fit"));
        s.dirs = 14;
        s.validate().unwrap();
        assert_eq!(s.expand().len(), 24);
        s.dirs = 2;
        assert!(s.validate().unwrap_err().contains("cannot reach"));
        let flat = TreeSpec {
            depth: 0,
            fanout: 0,
            dirs: 0,
            ..spec(5, 0, 0, 1)
        };
        flat.validate().unwrap();
        assert!(flat
            .expand()
            .iter()
            .all(|e| matches!(e, TreeEntry::File(p, _) if depth_of(p) == 1)));
    }
}
