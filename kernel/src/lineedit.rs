//! A small line editor over the serial console for the shell: printable
//! characters (UTF-8, so non-ASCII file names can be typed) are echoed,
//! Backspace/DEL erases a character, Ctrl-U kills the line, Ctrl-C abandons
//! it, CR or LF ends it (a CR LF pair counts once). Escape sequences (arrow
//! keys) are swallowed rather than inserted.

use alloc::string::String;

use disks::shell::Utf8Decoder;

use crate::serial;

/// What reading a line produced.
pub enum Line {
    /// A complete line (without the terminator).
    Text(String),
    /// Ctrl-C: the user abandoned the line.
    Interrupted,
    /// Ctrl-D on an empty line: end of input.
    Eof,
}

/// Line reader state (remembers a pending CR to fold CR LF).
#[derive(Default)]
pub struct Editor {
    last_was_cr: bool,
    utf8: Utf8Decoder,
}

const MAX_LINE: usize = 1024;

impl Editor {
    /// Blocks (polling the UART) until a line is complete.
    pub fn read_line(&mut self, prompt: &str) -> Line {
        serial::write_bytes(prompt.as_bytes());
        let mut line = String::new();
        let mut escape = 0u8;
        self.utf8.reset();
        loop {
            let Some(b) = serial::try_read_byte() else {
                core::hint::spin_loop();
                continue;
            };
            let was_cr = core::mem::replace(&mut self.last_was_cr, b == b'\r');
            if escape > 0 {
                // ESC [ X or ESC [ n ~: drop until the final byte.
                escape = if escape == 1 && b == b'[' {
                    2
                } else if (0x40..=0x7e).contains(&b) {
                    0
                } else {
                    escape
                };
                continue;
            }
            // Bytes above 0x7f are parts of UTF-8 characters; the rest are
            // ASCII and handled (and validated) one by one below.
            if b >= 0x80 {
                match self.utf8.push(b) {
                    Some(c) if !c.is_control() && line.len() + c.len_utf8() <= MAX_LINE => {
                        line.push(c);
                        let mut enc = [0u8; 4];
                        serial::write_bytes(c.encode_utf8(&mut enc).as_bytes());
                    }
                    _ => {}
                }
                continue;
            }
            self.utf8.reset();
            match b {
                b'\n' if was_cr => continue,
                b'\r' | b'\n' => {
                    serial::write_bytes(b"\n");
                    return Line::Text(line);
                }
                0x03 => {
                    serial::write_bytes(b"^C\n");
                    return Line::Interrupted;
                }
                0x04 if line.is_empty() => return Line::Eof,
                // One column per character: what a terminal shows for all
                // but double-width (CJK) characters.
                0x08 | 0x7f if line.pop().is_some() => serial::write_bytes(b"\x08 \x08"),
                0x15 => {
                    for _ in line.chars() {
                        serial::write_bytes(b"\x08 \x08");
                    }
                    line.clear();
                }
                0x1b => escape = 1,
                0x20..=0x7e if line.len() < MAX_LINE => {
                    line.push(b as char);
                    serial::write_bytes(&[b]);
                }
                _ => {}
            }
        }
    }
}
