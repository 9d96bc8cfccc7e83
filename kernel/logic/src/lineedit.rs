//! A small line editor for the shell on a byte stream (the serial console):
//! printable characters (UTF-8, so non-ASCII file names can be typed) are
//! echoed, Backspace/DEL erases a character, Ctrl-U kills the line, Ctrl-C
//! abandons it, Ctrl-D on an empty line ends input, CR or LF ends it (a CR LF
//! pair counts once). Escape sequences (arrow keys) are swallowed rather
//! than inserted. The editor is fed one byte at a time and echoes through a
//! callback, so the kernel drives it from the UART and the host tests from
//! a byte string.

use alloc::string::String;

use disks::shell::Utf8Decoder;

/// What reading a line produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line (without the terminator).
    Text(String),
    /// Ctrl-C: the user abandoned the line.
    Interrupted,
    /// Ctrl-D on an empty line: end of input.
    Eof,
}

/// The longest line kept, in bytes; further characters are dropped.
pub const MAX_LINE: usize = 1024;

/// Line reader state: the line being edited, a pending CR (to fold CR LF,
/// also across lines), an escape sequence being skipped, a partial UTF-8
/// character.
#[derive(Default)]
pub struct Editor {
    line: String,
    last_was_cr: bool,
    escape: u8,
    utf8: Utf8Decoder,
}

impl Editor {
    /// Starts a new line (what was typed so far is dropped).
    pub fn start(&mut self) {
        self.line.clear();
        self.escape = 0;
        self.utf8.reset();
    }

    /// Feeds one input byte; `echo` receives what the terminal should show.
    /// Returns the line when `b` ends it; the editor is then ready for the
    /// next one.
    pub fn feed(&mut self, b: u8, echo: &mut dyn FnMut(&[u8])) -> Option<Line> {
        let was_cr = core::mem::replace(&mut self.last_was_cr, b == b'\r');
        if self.escape > 0 {
            // ESC [ X or ESC [ n ~: drop until the final byte.
            self.escape = if self.escape == 1 && b == b'[' {
                2
            } else if (0x40..=0x7e).contains(&b) {
                0
            } else {
                self.escape
            };
            return None;
        }
        // Bytes above 0x7f are parts of UTF-8 characters; the rest are
        // ASCII and handled (and validated) one by one below.
        if b >= 0x80 {
            match self.utf8.push(b) {
                Some(c) if !c.is_control() && self.line.len() + c.len_utf8() <= MAX_LINE => {
                    self.line.push(c);
                    let mut enc = [0u8; 4];
                    echo(c.encode_utf8(&mut enc).as_bytes());
                }
                _ => {}
            }
            return None;
        }
        self.utf8.reset();
        match b {
            b'\n' if was_cr => None,
            b'\r' | b'\n' => {
                echo(b"\n");
                let line = core::mem::take(&mut self.line);
                self.start();
                Some(Line::Text(line))
            }
            0x03 => {
                echo(b"^C\n");
                self.start();
                Some(Line::Interrupted)
            }
            0x04 if self.line.is_empty() => Some(Line::Eof),
            // One column per character: what a terminal shows for all but
            // double-width (CJK) characters.
            0x08 | 0x7f if self.line.pop().is_some() => {
                echo(b"\x08 \x08");
                None
            }
            0x15 => {
                for _ in self.line.chars() {
                    echo(b"\x08 \x08");
                }
                self.line.clear();
                None
            }
            0x1b => {
                self.escape = 1;
                None
            }
            0x20..=0x7e if self.line.len() < MAX_LINE => {
                self.line.push(b as char);
                echo(&[b]);
                None
            }
            _ => None,
        }
    }
}
