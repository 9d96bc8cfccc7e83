//! The shell's line editor on the serial console: `kernel_logic::lineedit`
//! fed from the UART, echoing to it.

pub use kernel_logic::lineedit::{Editor, Line};

use crate::serial;

/// Shows `prompt` and blocks (polling the UART) until `ed` has a line.
pub fn read_line(ed: &mut Editor, prompt: &str) -> Line {
    serial::write_bytes(prompt.as_bytes());
    ed.start();
    loop {
        let Some(b) = serial::try_read_byte() else {
            core::hint::spin_loop();
            continue;
        };
        if let Some(line) = ed.feed(b, &mut |out| serial::write_bytes(out)) {
            return line;
        }
    }
}
