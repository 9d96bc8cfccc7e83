//! The boot-module archive: the managed assemblies (corlib, managed DDK, drivers)
//! packed into one cpio archive in the "newc with CRC" format (magic `070702`,
//! what GNU `cpio -o -H crc` writes), handed to the kernel as the PVH boot module.
//!
//! Layout of one entry (all numbers 8 ASCII hex digits):
//!
//! ```text
//! 0   magic "070702"          6 bytes
//! 6   ino mode uid gid nlink mtime filesize
//!     devmajor devminor rdevmajor rdevminor namesize check   13 x 8 bytes
//! 110 name, NUL-terminated (namesize counts the NUL), zero-padded so that
//!     header + name is a multiple of 4
//!     data (filesize bytes), zero-padded to a multiple of 4
//! ```
//!
//! `check` is the 32-bit wrapping sum of the data bytes (not a real CRC, despite
//! the format's name). The archive ends with an entry named `TRAILER!!!`; GNU cpio
//! then pads to 512 bytes, which the reader ignores.
//!
//! The module comes from outside the kernel (the boot loader hands over whatever it
//! was given), so the reader treats it as untrusted: every header field is checked,
//! every length is bounded by the buffer before it is used, and a missing trailer
//! is an error, so a truncated module is always detected, never half-loaded.
#![forbid(unsafe_code)]

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The "newc with CRC" magic.
pub const MAGIC: &[u8; 6] = b"070702";
/// Header size in bytes (magic + 13 fields of 8 hex digits).
pub const HEADER_LEN: usize = 110;
/// Name of the entry that ends an archive.
pub const TRAILER: &str = "TRAILER!!!";
/// Longest name accepted (including the NUL): PATH_MAX. Anything longer is a
/// corrupt header, not a real name.
pub const MAX_NAME: usize = 4096;

/// The 13 numeric fields, in header order (names as in cpio(5)).
const FIELDS: [&str; 13] = [
    "c_ino",
    "c_mode",
    "c_uid",
    "c_gid",
    "c_nlink",
    "c_mtime",
    "c_filesize",
    "c_devmajor",
    "c_devminor",
    "c_rdevmajor",
    "c_rdevminor",
    "c_namesize",
    "c_check",
];
const F_MODE: usize = 1;
const F_NLINK: usize = 4;
const F_FILESIZE: usize = 6;
const F_NAMESIZE: usize = 11;
const F_CHECK: usize = 12;

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;

/// One regular file of the archive, borrowed from the module's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The path as stored, without a leading `./`.
    pub name: &'a str,
    pub data: &'a [u8],
}

/// Which part of an entry did not fit in the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// The 110-byte header.
    Header,
    /// The name (and its padding) of the entry whose header is at `at`.
    Name,
    /// The data (and its padding) of this entry.
    Data(String),
}

/// Why a module is not a usable archive. Every variant says where.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleError {
    /// Zero bytes.
    Empty,
    /// The 6 bytes at `at` are not `070702`.
    BadMagic {
        found: [u8; 6],
        at: usize,
    },
    /// A header field is not 8 hex digits.
    BadField {
        field: &'static str,
        text: [u8; 8],
        at: usize,
    },
    /// `c_namesize` is 0 or larger than [`MAX_NAME`].
    BadNameSize {
        size: u32,
        at: usize,
    },
    /// The name's last byte is not NUL, or it has a NUL inside.
    NameNotTerminated {
        at: usize,
    },
    NameNotUtf8 {
        at: usize,
    },
    /// A file whose name is empty (or just `./`).
    EmptyName {
        at: usize,
    },
    /// `piece` needs `needed` bytes at byte `at`; the module has only `len`.
    Truncated {
        piece: Piece,
        needed: usize,
        at: usize,
        len: usize,
    },
    Checksum {
        name: String,
        stored: u32,
        computed: u32,
    },
    /// The entries end exactly at the end of the module, but none was the trailer.
    NoTrailer,
    Duplicate {
        name: String,
    },
    /// Neither a regular file nor a directory (symlink, device, fifo...).
    NotRegular {
        name: String,
        mode: u32,
    },
    /// newc stores a hard-linked file's data only with its last link; an earlier
    /// link would read as an empty file, so links are refused.
    HardLink {
        name: String,
        nlink: u32,
    },
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::Empty => write!(f, "empty"),
            BundleError::BadMagic { found, at: 0 } => {
                write!(f, "not a cpio archive (bad magic \"{}\" at byte 0", found.escape_ascii())?;
                if found == b"070701" {
                    write!(f, ": newc without checksums, write it with cpio -H crc")?;
                }
                write!(f, ")")
            }
            BundleError::BadMagic { found, at } => write!(
                f,
                "corrupt archive (bad magic \"{}\" at byte {at}, where an entry should start)",
                found.escape_ascii()
            ),
            BundleError::BadField { field, text, at } => write!(
                f,
                "corrupt archive (header field {field} \"{}\" at byte {at} is not 8 hex digits)",
                text.escape_ascii()
            ),
            BundleError::BadNameSize { size, at } => write!(
                f,
                "corrupt archive (name size {size} in the header at byte {at}, allowed 1..={MAX_NAME})"
            ),
            BundleError::NameNotTerminated { at } => write!(
                f,
                "corrupt archive (name at byte {at} is not NUL-terminated)"
            ),
            BundleError::NameNotUtf8 { at } => write!(f, "entry name at byte {at} is not UTF-8"),
            BundleError::EmptyName { at } => write!(f, "entry at byte {at} has an empty name"),
            BundleError::Truncated {
                piece,
                needed,
                at,
                len,
            } => {
                write!(f, "truncated: ")?;
                match piece {
                    Piece::Header => write!(f, "entry header")?,
                    Piece::Name => write!(f, "entry name")?,
                    Piece::Data(name) => write!(f, "entry '{name}'")?,
                }
                write!(f, " needs {needed} bytes at byte {at}, module has {len}")
            }
            BundleError::Checksum {
                name,
                stored,
                computed,
            } => write!(
                f,
                "checksum mismatch in '{name}' (stored 0x{stored:08x}, computed 0x{computed:08x})"
            ),
            BundleError::NoTrailer => write!(f, "no {TRAILER} entry (truncated?)"),
            BundleError::Duplicate { name } => write!(f, "duplicate entry '{name}'"),
            BundleError::NotRegular { name, mode } => write!(
                f,
                "entry '{name}' is not a regular file or directory (mode 0o{mode:o})"
            ),
            BundleError::HardLink { name, nlink } => write!(
                f,
                "entry '{name}' is a hard link (nlink {nlink}); archive plain copies"
            ),
        }
    }
}

impl core::error::Error for BundleError {}

/// The 32-bit wrapping sum of `data`: the newc-CRC "checksum".
pub fn checksum(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |s, &b| s.wrapping_add(u32::from(b)))
}

fn pad4(n: usize) -> usize {
    n.wrapping_add(3) & !3
}

/// `bytes[at..at + needed]`, or the truncation error naming `piece`.
fn take(bytes: &[u8], at: usize, needed: usize, piece: Piece) -> Result<&[u8], BundleError> {
    at.checked_add(needed)
        .and_then(|end| bytes.get(at..end))
        .ok_or(BundleError::Truncated {
            piece,
            needed,
            at,
            len: bytes.len(),
        })
}

fn hex_field(header: &[u8], index: usize, at: usize) -> Result<u32, BundleError> {
    let start = 6 + index * 8;
    let mut text = [0u8; 8];
    text.copy_from_slice(&header[start..start + 8]);
    let mut v = 0u32;
    for &c in &text {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => {
                return Err(BundleError::BadField {
                    field: FIELDS[index],
                    text,
                    at: at + start,
                })
            }
        };
        // 8 digits always fit in a u32.
        v = (v << 4) | u32::from(d);
    }
    Ok(v)
}

/// Parses a whole archive: its regular files in archive order. Directories are
/// skipped, a leading `./` is stripped from names, anything after the trailer
/// (block padding) is ignored.
pub fn parse(bytes: &[u8]) -> Result<Vec<Entry<'_>>, BundleError> {
    if bytes.is_empty() {
        return Err(BundleError::Empty);
    }
    let mut entries: Vec<Entry<'_>> = Vec::new();
    let mut at = 0usize;
    loop {
        if at == bytes.len() {
            return Err(BundleError::NoTrailer);
        }
        // Check what there is of the magic before the length, so a short
        // non-archive reads as "not a cpio archive" and a cut archive as truncated.
        let magic_len = (bytes.len() - at).min(MAGIC.len());
        if bytes[at..at + magic_len] != MAGIC[..magic_len] {
            let mut found = [0u8; 6];
            found[..magic_len].copy_from_slice(&bytes[at..at + magic_len]);
            return Err(BundleError::BadMagic { found, at });
        }
        let header = take(bytes, at, HEADER_LEN, Piece::Header)?;
        let mut field = [0u32; 13];
        for (i, v) in field.iter_mut().enumerate() {
            *v = hex_field(header, i, at)?;
        }
        let name_size = field[F_NAMESIZE];
        if name_size == 0 || name_size as usize > MAX_NAME {
            return Err(BundleError::BadNameSize {
                size: name_size,
                at,
            });
        }
        let name_at = at + HEADER_LEN;
        let name_padded = pad4(HEADER_LEN + name_size as usize) - HEADER_LEN;
        let raw_name = &take(bytes, name_at, name_padded, Piece::Name)?[..name_size as usize];
        let (last, stem) = raw_name.split_last().expect("name_size >= 1");
        if *last != 0 || stem.contains(&0) {
            return Err(BundleError::NameNotTerminated { at: name_at });
        }
        let full_name =
            core::str::from_utf8(stem).map_err(|_| BundleError::NameNotUtf8 { at: name_at })?;
        let data_at = name_at + name_padded;
        let size = field[F_FILESIZE] as usize;
        let data_piece = Piece::Data(String::from(full_name));
        let data = &take(bytes, data_at, pad4(size), data_piece)?[..size];
        let computed = checksum(data);
        if computed != field[F_CHECK] {
            return Err(BundleError::Checksum {
                name: String::from(full_name),
                stored: field[F_CHECK],
                computed,
            });
        }
        if full_name == TRAILER {
            return Ok(entries);
        }
        at = data_at + pad4(size);
        let mode = field[F_MODE];
        match mode & S_IFMT {
            S_IFDIR => continue,
            S_IFREG => {}
            _ => {
                return Err(BundleError::NotRegular {
                    name: String::from(full_name),
                    mode,
                })
            }
        }
        if field[F_NLINK] > 1 {
            return Err(BundleError::HardLink {
                name: String::from(full_name),
                nlink: field[F_NLINK],
            });
        }
        let name = full_name.strip_prefix("./").unwrap_or(full_name);
        if name.is_empty() {
            return Err(BundleError::EmptyName { at: name_at });
        }
        if entries.iter().any(|e| e.name == name) {
            return Err(BundleError::Duplicate {
                name: String::from(name),
            });
        }
        entries.push(Entry { name, data });
    }
}

fn push_entry(out: &mut Vec<u8>, ino: u32, mode: u32, name: &str, data: &[u8]) {
    let size = u32::try_from(data.len()).expect("a cpio newc entry holds at most 4 GiB - 1");
    let fields: [u32; 13] = [
        ino,
        mode,
        0, // uid
        0, // gid
        1, // nlink
        0, // mtime: zero, so equal inputs give byte-identical archives
        size,
        0,
        0,
        0,
        0,
        name.len() as u32 + 1,
        checksum(data),
    ];
    out.extend_from_slice(MAGIC);
    for v in fields {
        // GNU cpio writes upper-case hex; so do we, for byte-identical diffs.
        for shift in (0..8).rev() {
            out.push(b"0123456789ABCDEF"[((v >> (shift * 4)) & 0xf) as usize]);
        }
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.resize(pad4(out.len()), 0);
    out.extend_from_slice(data);
    out.resize(pad4(out.len()), 0);
}

/// Writes `entries` (name, data) as regular files (mode 0644, mtime 0), in order,
/// then the trailer. Deterministic: equal inputs give equal bytes.
///
/// Panics if a name is empty, longer than [`MAX_NAME`] - 1, contains a NUL, or
/// is the trailer's name, or if a file is 4 GiB or larger: those are bugs in the
/// caller, which builds the list itself.
pub fn write(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (name, data)) in entries.iter().enumerate() {
        assert!(
            !name.is_empty() && name.len() < MAX_NAME && !name.contains('\0') && *name != TRAILER,
            "bundle::write: bad entry name {name:?}"
        );
        push_entry(&mut out, i as u32 + 1, S_IFREG | 0o644, name, data);
    }
    push_entry(&mut out, 0, 0, TRAILER, &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec;

    /// Where entry `i`'s data starts in `bytes`.
    fn data_offset(bytes: &[u8], i: usize) -> usize {
        parse(bytes).unwrap()[i].data.as_ptr() as usize - bytes.as_ptr() as usize
    }

    fn sample() -> Vec<u8> {
        write(&[
            ("mscorlib.dll", b"corlib bytes"),
            ("Ddk.dll", b"ddk!"),
            ("VirtioBlk.dll", &[0xffu8; 7]),
        ])
    }

    #[test]
    fn round_trip() {
        let dll: Vec<u8> = (0..5000u32).map(|i| (i * 7 + 3) as u8).collect();
        let files: [(&str, &[u8]); 4] = [
            ("mscorlib.dll", &dll),
            ("Ddk.dll", b"x"),
            ("empty", b""),
            ("dir/VirtioBlk.dll", b"four"),
        ];
        let bytes = write(&files);
        assert_eq!(bytes.len() % 4, 0);
        let back = parse(&bytes).unwrap();
        let back: Vec<(&str, &[u8])> = back.iter().map(|e| (e.name, e.data)).collect();
        assert_eq!(back, files);
        assert_eq!(write(&files), bytes, "deterministic");
        assert_eq!(parse(&write(&[])).unwrap(), vec![]);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample();
        for len in 0..bytes.len() {
            let e = parse(&bytes[..len]).expect_err("a truncated archive must not parse");
            assert!(
                matches!(
                    e,
                    BundleError::Empty | BundleError::Truncated { .. } | BundleError::NoTrailer
                ),
                "cut at {len}: {e}"
            );
        }
        // "mscorlib.dll" + NUL = 13 bytes: header + name padded to 124, where the
        // data starts; 12 bytes of data end the entry at 136.
        assert_eq!(data_offset(&bytes, 0), 124);
        let cut = 124 + 5;
        assert_eq!(
            parse(&bytes[..cut]).unwrap_err().to_string(),
            format!("truncated: entry 'mscorlib.dll' needs 12 bytes at byte 124, module has {cut}")
        );
        assert_eq!(
            parse(&bytes[..120]).unwrap_err().to_string(),
            "truncated: entry name needs 14 bytes at byte 110, module has 120"
        );
        // Cut exactly between entries: no trailer.
        assert_eq!(parse(&bytes[..136]).unwrap_err(), BundleError::NoTrailer);
        assert_eq!(
            BundleError::NoTrailer.to_string(),
            "no TRAILER!!! entry (truncated?)"
        );
    }

    #[test]
    fn flipped_data_byte_is_a_checksum_error_naming_the_entry() {
        let mut bytes = sample();
        let off = data_offset(&bytes, 2);
        bytes[off + 3] ^= 0x01;
        let e = parse(&bytes).unwrap_err();
        assert_eq!(
            e.to_string(),
            "checksum mismatch in 'VirtioBlk.dll' (stored 0x000006f9, computed 0x000006f8)"
        );
    }

    #[test]
    fn garbage_and_other_formats_are_refused() {
        assert_eq!(parse(&[]).unwrap_err().to_string(), "empty");
        assert_eq!(
            parse(b"MZ\x90\x00\x03\x00\x00\x00")
                .unwrap_err()
                .to_string(),
            "not a cpio archive (bad magic \"MZ\\x90\\x00\\x03\\x00\" at byte 0)"
        );
        assert_eq!(
            parse(b"07").unwrap_err().to_string(),
            "truncated: entry header needs 110 bytes at byte 0, module has 2"
        );
        let mut newc = sample();
        newc[5] = b'1';
        assert!(parse(&newc)
            .unwrap_err()
            .to_string()
            .contains("newc without checksums"));
        // Deterministic noise, and noise behind a valid magic.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut noise = vec![0u8; 4096];
        for b in noise.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        assert!(matches!(
            parse(&noise),
            Err(BundleError::BadMagic { at: 0, .. })
        ));
        noise[..6].copy_from_slice(MAGIC);
        assert!(matches!(
            parse(&noise),
            Err(BundleError::BadField {
                field: "c_ino",
                at: 6,
                ..
            })
        ));
        for seed in 0..2000usize {
            let mut b = sample();
            let i = (seed * 7919) % b.len();
            b[i] = b[i].wrapping_add(1 + (seed % 255) as u8);
            let _ = parse(&b); // must not panic
        }
    }

    #[test]
    fn header_fields_are_checked() {
        let good = sample();
        let field_at = |i: usize| 6 + i * 8;
        let mut b = good.clone();
        b[field_at(F_FILESIZE) + 3] = b'g';
        assert_eq!(
            parse(&b).unwrap_err().to_string(),
            "corrupt archive (header field c_filesize \"000g000C\" at byte 54 is not 8 hex digits)"
        );
        let mut b = good.clone();
        b[field_at(F_NAMESIZE)..field_at(F_NAMESIZE) + 8].copy_from_slice(b"00000000");
        assert!(matches!(
            parse(&b),
            Err(BundleError::BadNameSize { size: 0, at: 0 })
        ));
        let mut b = good.clone();
        b[field_at(F_NAMESIZE)..field_at(F_NAMESIZE) + 8].copy_from_slice(b"FFFFFFFF");
        assert!(matches!(parse(&b), Err(BundleError::BadNameSize { .. })));
        let mut b = good.clone();
        b[field_at(F_FILESIZE)..field_at(F_FILESIZE) + 8].copy_from_slice(b"7FFFFFFF");
        assert!(matches!(
            parse(&b),
            Err(BundleError::Truncated {
                piece: Piece::Data(_),
                needed: 0x8000_0000,
                ..
            })
        ));
        let mut b = good.clone();
        b[HEADER_LEN + 12] = b'x'; // the NUL after "mscorlib.dll"
        assert_eq!(
            parse(&b).unwrap_err(),
            BundleError::NameNotTerminated { at: 110 }
        );
        let mut b = good.clone();
        b[HEADER_LEN] = 0xff;
        assert_eq!(parse(&b).unwrap_err(), BundleError::NameNotUtf8 { at: 110 });
        let mut b = good.clone();
        b[field_at(F_MODE)..field_at(F_MODE) + 8].copy_from_slice(b"0000A1FF");
        assert_eq!(
            parse(&b).unwrap_err().to_string(),
            "entry 'mscorlib.dll' is not a regular file or directory (mode 0o120777)"
        );
        let mut b = good.clone();
        b[field_at(F_NLINK)..field_at(F_NLINK) + 8].copy_from_slice(b"00000002");
        assert!(matches!(
            parse(&b),
            Err(BundleError::HardLink { nlink: 2, .. })
        ));
        // Entry 2 ("Ddk.dll") starts right after entry 1.
        let mut b = good;
        b[136] = b'X';
        assert_eq!(
            parse(&b).unwrap_err().to_string(),
            "corrupt archive (bad magic \"X70702\" at byte 136, where an entry should start)"
        );
    }

    #[test]
    fn names_directories_and_duplicates() {
        let mut b = Vec::new();
        push_entry(&mut b, 1, S_IFDIR | 0o755, ".", &[]);
        push_entry(&mut b, 2, S_IFREG | 0o644, "./Ddk.dll", b"ddk");
        push_entry(&mut b, 3, S_IFDIR | 0o755, "sub", &[]);
        push_entry(&mut b, 0, 0, TRAILER, &[]);
        b.extend_from_slice(&[0u8; 300]); // block padding after the trailer
        let e = parse(&b).unwrap();
        assert_eq!(
            e,
            vec![Entry {
                name: "Ddk.dll",
                data: b"ddk"
            }]
        );

        let dup = write(&[("Ddk.dll", b"1"), ("./Ddk.dll", b"2")]);
        assert_eq!(
            parse(&dup).unwrap_err().to_string(),
            "duplicate entry 'Ddk.dll'"
        );
        let mut b = Vec::new();
        push_entry(&mut b, 1, S_IFREG | 0o644, "./", b"");
        push_entry(&mut b, 0, 0, TRAILER, &[]);
        assert!(matches!(parse(&b), Err(BundleError::EmptyName { at: 110 })));
    }

    /// An archive written by GNU cpio (the format's reference writer) parses.
    #[cfg(feature = "std")]
    #[test]
    fn reads_what_gnu_cpio_writes() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let have = Command::new("cpio")
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !have {
            assert!(
                std::env::var_os("XTASK_REQUIRE_TOOLS").is_none(),
                "cpio is required here (apt-get install cpio)"
            );
            std::println!("note: `cpio` not installed; skipping the GNU cpio interop test");
            return;
        }
        let dir = std::env::temp_dir().join(format!("bundle-cpio-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let big: Vec<u8> = (0..70_001u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.join("mscorlib.dll"), &big).unwrap();
        std::fs::write(dir.join("Ddk.dll"), b"odd").unwrap();
        std::fs::write(dir.join("sub/VirtioBlk.dll"), b"").unwrap();
        let mut child = Command::new("cpio")
            .args(["-o", "-H", "crc", "--quiet"])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"./mscorlib.dll\n./Ddk.dll\nsub\nsub/VirtioBlk.dll\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(out.status.success());
        let bytes = out.stdout;
        assert_eq!(bytes.len() % 512, 0, "GNU cpio pads to blocks");
        let e = parse(&bytes).unwrap();
        let got: Vec<(&str, usize)> = e.iter().map(|e| (e.name, e.data.len())).collect();
        assert_eq!(
            got,
            vec![
                ("mscorlib.dll", 70_001),
                ("Ddk.dll", 3),
                ("sub/VirtioBlk.dll", 0)
            ]
        );
        assert_eq!(e[0].data, &big[..]);
        assert_eq!(e[1].data, b"odd");
    }
}
