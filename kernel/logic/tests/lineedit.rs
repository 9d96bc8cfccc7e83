//! The shell's line editor (`kernel_logic::lineedit`) fed byte strings as a
//! terminal sends them, with the echo checked.

use kernel_logic::lineedit::{Editor, Line, MAX_LINE};

/// Feeds `input`; returns the lines produced and everything echoed.
fn run(ed: &mut Editor, input: &[u8]) -> (Vec<Line>, Vec<u8>) {
    let mut echo = Vec::new();
    let mut lines = Vec::new();
    for &b in input {
        if let Some(l) = ed.feed(b, &mut |o| echo.extend_from_slice(o)) {
            lines.push(l);
        }
    }
    (lines, echo)
}

fn text(s: &str) -> Line {
    Line::Text(s.to_string())
}

#[test]
fn lines_end_at_cr_or_lf_and_a_cr_lf_pair_counts_once() {
    let mut ed = Editor::default();
    let (lines, echo) = run(&mut ed, b"ls /\r\ncat a\rpwd\n\n");
    assert_eq!(lines, [text("ls /"), text("cat a"), text("pwd"), text("")]);
    assert_eq!(echo, b"ls /\ncat a\npwd\n\n");
}

#[test]
fn editing_keys_erase_kill_and_abandon() {
    let mut ed = Editor::default();
    // "ls -l" (five characters) killed by Ctrl-U: five erasures.
    let (lines, echo) = run(&mut ed, b"lx\x7fs\x08s -l\x15cd\x03dir\r");
    assert_eq!(lines, [Line::Interrupted, text("dir")]);
    assert_eq!(
        echo,
        b"lx\x08 \x08s\x08 \x08s -l\x08 \x08\x08 \x08\x08 \x08\x08 \x08\x08 \x08cd^C\ndir\n"
    );
    // Backspace on an empty line echoes nothing; Ctrl-D only ends input there.
    let (lines, echo) = run(&mut ed, b"\x7fa\x04\x7f\x04");
    assert_eq!(lines, [Line::Eof]);
    assert_eq!(echo, b"a\x08 \x08");
}

#[test]
fn utf8_names_are_kept_and_escape_sequences_swallowed() {
    let mut ed = Editor::default();
    // "Grüße" with an arrow key (ESC [ A) and a Home key (ESC [ 1 ~) typed
    // in between; a stray continuation byte and a control char are dropped.
    let mut input = b"cat Gr".to_vec();
    input.extend_from_slice("ü".as_bytes());
    input.extend_from_slice(b"\x1b[A\x80\x01");
    input.extend_from_slice("ße".as_bytes());
    input.extend_from_slice(b"\x1b[1~\r");
    let (lines, echo) = run(&mut ed, &input);
    assert_eq!(lines, [text("cat Grüße")]);
    assert_eq!(echo, "cat Grüße\n".as_bytes());
    // Backspace erases a whole character, not a byte.
    let mut input = "é".as_bytes().to_vec();
    input.extend_from_slice(b"\x7fe\r");
    assert_eq!(run(&mut ed, &input).0, [text("e")]);
}

#[test]
fn a_line_stops_growing_at_the_limit() {
    let mut ed = Editor::default();
    let mut input = vec![b'x'; MAX_LINE + 10];
    input.push(b'\r');
    let (lines, echo) = run(&mut ed, &input);
    assert_eq!(lines, [text(&"x".repeat(MAX_LINE))]);
    assert_eq!(echo.len(), MAX_LINE + 1);
}
