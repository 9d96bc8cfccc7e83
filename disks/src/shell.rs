//! Shell commands over a mounted volume: `ls`, `cat`, `write`, `rm`, `mkdir`,
//! `stat`, `df`, `cd`, `pwd`, `help`. Paths not starting with `/` are relative
//! to the working directory (`cd`; `.` and `..` work), kept by the caller
//! across lines ([`run_command_in`]). The kernel feeds lines and adds its own commands
//! (`devices`, `drivers`) when [`run_command`] says a line is not ours.
//!
//! Words are separated by blanks; `"..."` quotes a word with blanks (`\"` and
//! `\\` escape inside quotes). Output formats:
//!
//! ```text
//! ls [path]      d          - 2026-01-01 12:00:00  Documents/
//!                -       1234 2026-01-01 12:00:00  hello.txt
//! cat path       the file as text (at most 64 KiB; binary files as a hex preview)
//! write path text...   "wrote 12 bytes to /path"  (the words joined by blanks, plus \n)
//! rm path        "removed /path"      (files and empty directories)
//! mkdir path     "created /path"      (parents are created as needed)
//! stat path      name/short name/type/size/created/modified/attributes, one per line
//! df             "FAT32 \"LABEL\" id 1234ABCD: 63.9 MiB total, 20.1 MiB used, 43.8 MiB free (512 B clusters, 130812 total, 89000 free)"
//! ```
//!
//! Errors print one line `<command>: <message>` and return [`CommandStatus::Failed`].
//! `write`, `rm` and `mkdir` flush the cache to the device before they report;
//! the FSInfo sector and the clean flag are only updated by `Volume::unmount`,
//! so the kernel should unmount before it exits.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use ddk::BlockDevice;

use crate::fs::{FsError, Volume};
use crate::selftest::human_bytes;

/// What [`run_command`] did with a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandStatus {
    /// A blank line or comment.
    Empty,
    /// A command of ours that succeeded.
    Ok,
    /// A command of ours that failed (the message was printed).
    Failed,
    /// Not one of our commands: the caller may handle it (`devices`, `drivers`).
    NotMine,
}

/// Command names [`run_command`] handles.
pub const COMMANDS: &[&str] = &[
    "ls", "cat", "write", "rm", "mkdir", "stat", "df", "cd", "pwd", "help",
];

/// Largest `cat` output.
pub const CAT_LIMIT: usize = 64 * 1024;

/// Turns the bytes a serial console delivers into characters, so a line
/// editor can take non-ASCII input (`cat "/Ünïcödé dir/naïve café.txt"`)
/// instead of dropping every byte above 0x7f. Terminals send UTF-8; a
/// malformed sequence (a stray continuation byte, a lead byte cut off by
/// another lead or by ASCII, an overlong form, a surrogate) yields nothing and
/// decoding resumes at the next byte that can start a character.
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8Decoder {
    buf: [u8; 4],
    /// Bytes held in `buf`.
    len: u8,
    /// Bytes the pending character needs in all (0: none pending).
    need: u8,
}

impl Utf8Decoder {
    /// Feeds one byte; returns the character it completes, if any.
    pub fn push(&mut self, b: u8) -> Option<char> {
        let need = match b {
            0x00..=0x7f => 1,
            0x80..=0xbf => {
                if self.need == 0 {
                    return None; // continuation without a lead byte
                }
                self.buf[usize::from(self.len)] = b;
                self.len += 1;
                if self.len < self.need {
                    return None;
                }
                let done = core::str::from_utf8(&self.buf[..usize::from(self.len)])
                    .ok()
                    .and_then(|s| s.chars().next());
                self.need = 0;
                self.len = 0;
                return done;
            }
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            // 0xc0, 0xc1 and 0xf5.. never appear in UTF-8.
            _ => {
                self.need = 0;
                self.len = 0;
                return None;
            }
        };
        // A new character starts: whatever was pending was cut off.
        if need == 1 {
            self.need = 0;
            self.len = 0;
            return Some(char::from(b));
        }
        self.buf[0] = b;
        self.len = 1;
        self.need = need;
        None
    }

    /// Forgets a partly received character (the line was abandoned).
    pub fn reset(&mut self) {
        *self = Utf8Decoder::default();
    }
}

/// Splits a command line into words (blanks separate, `"..."` quotes).
pub fn split_words(line: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut w = String::new();
        if c == '"' {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("unterminated quote"),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(e @ ('"' | '\\')) => w.push(e),
                        Some(o) => {
                            w.push('\\');
                            w.push(o);
                        }
                        None => return Err("unterminated quote"),
                    },
                    Some(o) => w.push(o),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                w.push(c);
                chars.next();
            }
        }
        words.push(w);
    }
    Ok(words)
}

/// Runs one command line against `vol`, printing to `out`.
pub fn run_command<D: BlockDevice>(
    vol: &Volume<D>,
    line: &str,
    out: &mut dyn fmt::Write,
) -> Result<CommandStatus, fmt::Error> {
    run_command_in(vol, &mut String::from("/"), line, out)
}

/// `path` made absolute against the working directory `cwd`, with `.` and
/// `..` resolved (`..` of the root is the root).
pub fn resolve(cwd: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let base = if path.starts_with('/') { "" } else { cwd };
    for c in base.split('/').chain(path.split('/')) {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = String::new();
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Runs one line with `cwd` as the working directory (`cd` changes it).
pub fn run_command_in<D: BlockDevice>(
    vol: &Volume<D>,
    cwd: &mut String,
    line: &str,
    out: &mut dyn fmt::Write,
) -> Result<CommandStatus, fmt::Error> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(CommandStatus::Empty);
    }
    let words = match split_words(line) {
        Ok(w) => w,
        Err(e) => {
            writeln!(out, "shell: {e}")?;
            return Ok(CommandStatus::Failed);
        }
    };
    let cmd = words[0].as_str();
    if !COMMANDS.contains(&cmd) {
        return Ok(CommandStatus::NotMine);
    }
    let kind = String::from(cmd);
    let mut words = words;
    if !matches!(kind.as_str(), "df" | "help" | "pwd") {
        match words.get_mut(1) {
            Some(p) => *p = resolve(cwd, p),
            None if kind == "ls" => words.push(cwd.clone()),
            None if kind == "cd" => words.push("/".into()),
            None => {}
        }
    }
    let cmd = words[0].as_str();
    let args = &words[1..];
    let r = match cmd {
        "pwd" => Ok(writeln!(out, "{cwd}")),
        "cd" => one_path(args, "cd [path]").and_then(|p| {
            if !vol.metadata(p)?.is_dir {
                return Err(FsError::NotADirectory(p.into()).into());
            }
            *cwd = String::from(p);
            Ok(Ok(()))
        }),
        "ls" => ls(vol, args, out),
        "cat" => cat(vol, args, out),
        "write" => write(vol, args, out),
        "rm" => one_path(args, "rm path").and_then(|p| {
            vol.remove(p).map_err(on(p))?;
            vol.flush().map_err(on(p))?;
            Ok(writeln!(out, "removed {p}"))
        }),
        "mkdir" => one_path(args, "mkdir path").and_then(|p| {
            if vol.metadata(p).is_ok() {
                return Err(FsError::AlreadyExists(p.into()).into());
            }
            vol.create_dir_all(p).map_err(on(p))?;
            vol.flush().map_err(on(p))?;
            Ok(writeln!(out, "created {p}"))
        }),
        "stat" => stat(vol, args, out),
        "df" => df(vol, out),
        _ => help(out),
    };
    match r {
        Ok(res) => {
            res?;
            Ok(CommandStatus::Ok)
        }
        Err(e) => {
            writeln!(out, "{cmd}: {e}")?;
            Ok(CommandStatus::Failed)
        }
    }
}

/// A command error: a file-system error, one on a named file (device
/// errors carry no path of their own), or bad usage.
enum CmdError {
    Fs(FsError),
    On(String, FsError),
    Usage(&'static str),
}

/// `e` with the file it happened on, when `e` does not name it already
/// (device errors: `cat: /a.txt: I/O error: ...`).
fn on(path: &str) -> impl Fn(FsError) -> CmdError + '_ {
    move |e| match e {
        FsError::Io(_) | FsError::UnexpectedEof => CmdError::On(path.into(), e),
        e => CmdError::Fs(e),
    }
}

impl From<FsError> for CmdError {
    fn from(e: FsError) -> Self {
        CmdError::Fs(e)
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::Fs(e) => write!(f, "{e}"),
            CmdError::On(path, e) => write!(f, "{path}: {e}"),
            CmdError::Usage(u) => write!(f, "usage: {u}"),
        }
    }
}

/// Result of a command: the output write's result inside the command's result.
type CmdResult = Result<fmt::Result, CmdError>;

fn one_path<'a>(args: &'a [String], usage: &'static str) -> Result<&'a str, CmdError> {
    match args {
        [p] => Ok(p.as_str()),
        _ => Err(CmdError::Usage(usage)),
    }
}

fn ls<D: BlockDevice>(vol: &Volume<D>, args: &[String], out: &mut dyn fmt::Write) -> CmdResult {
    let path = match args {
        [] => "/",
        [p] => p.as_str(),
        _ => return Err(CmdError::Usage("ls [path]")),
    };
    let md = vol.metadata(path)?;
    let entries = if md.is_dir {
        vol.list_dir(path)?
    } else {
        alloc::vec![md]
    };
    for e in &entries {
        let r = if e.is_dir {
            writeln!(out, "d {:>10} {}  {}/", "-", e.modified, e.name)
        } else {
            writeln!(out, "- {:>10} {}  {}", e.size, e.modified, e.name)
        };
        if r.is_err() {
            return Ok(r);
        }
    }
    Ok(Ok(()))
}

fn cat<D: BlockDevice>(vol: &Volume<D>, args: &[String], out: &mut dyn fmt::Write) -> CmdResult {
    let path = one_path(args, "cat path")?;
    let md = vol.metadata(path)?;
    if md.is_dir {
        return Err(FsError::IsADirectory(path.into()).into());
    }
    let mut f = vol.open_file(path)?;
    let want = (md.size as usize).min(CAT_LIMIT);
    let mut data = alloc::vec![0u8; want];
    let mut done = 0;
    while done < want {
        let n = lamfat::Read::read(&mut f, &mut data[done..])
            .map_err(|e| on(path)(FsError::from_fat(e, path)))?;
        if n == 0 {
            return Err(on(path)(FsError::UnexpectedEof));
        }
        done += n;
    }
    // A cut may split a UTF-8 sequence: only the cut itself may be invalid.
    let text = match core::str::from_utf8(&data) {
        Ok(t) => Some(t),
        Err(e) if e.error_len().is_none() => core::str::from_utf8(&data[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    let binary = text.is_none_or(|t| t.contains('\0'));
    let r = if binary {
        (|| {
            writeln!(out, "{path}: binary file, {} bytes; first bytes:", md.size)?;
            for (i, row) in data.chunks(16).take(4).enumerate() {
                write!(out, "{:08x} ", i * 16)?;
                for b in row {
                    write!(out, " {b:02x}")?;
                }
                writeln!(out)?;
            }
            Ok(())
        })()
    } else {
        (|| {
            let t = text.unwrap_or("");
            out.write_str(t)?;
            if !t.is_empty() && !t.ends_with('\n') {
                writeln!(out)?;
            }
            if md.size as usize > want {
                writeln!(
                    out,
                    "[... {} more bytes not shown]",
                    md.size as usize - want
                )?;
            }
            Ok(())
        })()
    };
    Ok(r)
}

fn write<D: BlockDevice>(vol: &Volume<D>, args: &[String], out: &mut dyn fmt::Write) -> CmdResult {
    let [path, words @ ..] = args else {
        return Err(CmdError::Usage("write path text..."));
    };
    let mut text = words.join(" ");
    text.push('\n');
    vol.write_file(path, text.as_bytes()).map_err(on(path))?;
    vol.flush().map_err(|e| match e {
        FsError::Io(_) => CmdError::On(format!("{path}: flush"), e),
        e => CmdError::Fs(e),
    })?;
    Ok(writeln!(out, "wrote {} bytes to {path}", text.len()))
}

fn stat<D: BlockDevice>(vol: &Volume<D>, args: &[String], out: &mut dyn fmt::Write) -> CmdResult {
    let path = one_path(args, "stat path")?;
    let md = vol.metadata(path)?;
    let r = (|| {
        writeln!(out, "name: {}", md.name)?;
        if !md.short_name.is_empty() {
            writeln!(out, "short name: {}", md.short_name)?;
        }
        writeln!(
            out,
            "type: {}",
            if md.is_dir { "directory" } else { "file" }
        )?;
        writeln!(out, "size: {}", md.size)?;
        writeln!(out, "created: {}", md.created)?;
        writeln!(out, "modified: {}", md.modified)?;
        let mut attrs = String::new();
        for (bit, name) in [
            (0x01, "read-only"),
            (0x02, "hidden"),
            (0x04, "system"),
            (0x10, "directory"),
            (0x20, "archive"),
        ] {
            if md.attributes & bit != 0 {
                if !attrs.is_empty() {
                    attrs.push_str(", ");
                }
                attrs.push_str(name);
            }
        }
        writeln!(out, "attributes: {:#04x} ({})", md.attributes, attrs)
    })();
    Ok(r)
}

fn df<D: BlockDevice>(vol: &Volume<D>, out: &mut dyn fmt::Write) -> CmdResult {
    let i = vol.info()?;
    Ok(writeln!(
        out,
        "FAT32 \"{}\" id {:08X}: {} total, {} used, {} free ({} B clusters, {} total, {} free)",
        i.label,
        i.volume_id,
        human_bytes(i.total_bytes()),
        human_bytes(i.total_bytes() - i.free_bytes()),
        human_bytes(i.free_bytes()),
        i.cluster_size,
        i.total_clusters,
        i.free_clusters
    ))
}

fn help(out: &mut dyn fmt::Write) -> CmdResult {
    Ok(out.write_str(
        "ls [path]           list a directory\n\
         cat path            print a file\n\
         write path text...  create or replace a file with the text\n\
         rm path             remove a file or empty directory\n\
         mkdir path          create a directory (and parents)\n\
         stat path           show an entry's details\n\
         df                  show volume space\n\
         cd [path]           change the working directory (default /)\n\
         pwd                 print the working directory\n",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> String {
        let mut d = Utf8Decoder::default();
        bytes.iter().filter_map(|&b| d.push(b)).collect()
    }

    #[test]
    fn utf8_input_decodes_to_the_typed_characters() {
        let line = "cat \"/\u{dc}n\u{ef}c\u{f6}d\u{e9} dir/na\u{ef}ve caf\u{e9}.txt\" \u{65e5}\u{672c} \u{1f600}";
        assert_eq!(decode(line.as_bytes()), line);
    }

    #[test]
    fn malformed_utf8_is_dropped_and_decoding_resumes() {
        // A stray continuation byte, a lead byte cut off by ASCII and by
        // another lead byte, an overlong '/', a surrogate, bytes UTF-8 never uses.
        let bytes = b"a\x80b\xc3c\xe2\xc3\xa9d\xc0\xafe\xed\xa0\x80f\xff\xf5g";
        assert_eq!(decode(bytes), "abc\u{e9}defg");
        let mut d = Utf8Decoder::default();
        assert_eq!(d.push(0xc3), None);
        d.reset();
        assert_eq!(d.push(0xa9), None);
    }

    #[test]
    fn quoted_non_ascii_paths_split_into_words() {
        let line = "ls \"/\u{dc}n\u{ef}c\u{f6}d\u{e9} dir\"";
        assert_eq!(
            split_words(line).unwrap(),
            ["ls", "/\u{dc}n\u{ef}c\u{f6}d\u{e9} dir"]
        );
        assert_eq!(
            split_words(r#"cat "/Long Directory Name/Nested Folder/deep file with spaces.txt""#)
                .unwrap(),
            [
                "cat",
                "/Long Directory Name/Nested Folder/deep file with spaces.txt"
            ]
        );
    }
}
