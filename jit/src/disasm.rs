//! Listings: x86-64 disassembly (iced-x86 Intel syntax) interleaved with the IL
//! it came from, for `cilrun --disasm` and the golden tests. The x86-64 side
//! needs the `disassembly` feature (iced-x86); without it, which the kernel
//! builds, machine code is listed as raw bytes.

use crate::decoder::{decode_all, mnemonic, Operand};
use crate::{CompiledMethod, EhKind};
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
#[cfg(feature = "disassembly")]
use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};

/// Disassembles `code` as if loaded at address 0.
#[cfg(feature = "disassembly")]
pub fn x86_lines(code: &[u8]) -> alloc::vec::Vec<(u32, String)> {
    let mut d = Decoder::with_ip(64, code, 0, DecoderOptions::NONE);
    let mut f = IntelFormatter::new();
    f.options_mut().set_hex_prefix("0x");
    f.options_mut().set_hex_suffix("");
    f.options_mut().set_uppercase_hex(false);
    f.options_mut().set_space_after_operand_separator(true);
    let mut out = alloc::vec::Vec::new();
    while d.can_decode() {
        let ip = d.ip() as u32;
        let ins = d.decode();
        let mut s = String::new();
        f.format(&ins, &mut s);
        out.push((ip, s));
    }
    out
}

/// The lowest rbp-relative offset any instruction of `code` addresses
/// memory at (0 when none is below rbp), decoding it all; an error names an
/// instruction that indexes memory from rbp (no bound). For checking that a
/// compiled frame covers every slot its code touches.
#[cfg(feature = "disassembly")]
pub fn lowest_frame_offset(code: &[u8]) -> Result<i32, String> {
    use iced_x86::{OpKind, Register};
    let mut d = Decoder::with_ip(64, code, 0, DecoderOptions::NONE);
    let mut low = 0i32;
    while d.can_decode() {
        let ins = d.decode();
        let memory = (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Memory);
        if !memory {
            continue;
        }
        if ins.memory_index() == Register::RBP
            || (ins.memory_base() == Register::RBP && ins.memory_index() != Register::None)
        {
            return Err(format!(
                "{:#x}: {:?} indexes the frame",
                ins.ip(),
                ins.code()
            ));
        }
        if ins.memory_base() == Register::RBP {
            low = low.min(ins.memory_displacement64() as i64 as i32);
        }
    }
    Ok(low)
}

/// `code` as raw bytes, 16 to a line (the `disassembly` feature is off).
#[cfg(not(feature = "disassembly"))]
pub fn x86_lines(code: &[u8]) -> alloc::vec::Vec<(u32, String)> {
    code.chunks(16)
        .enumerate()
        .map(|(i, chunk)| {
            let mut s = String::from("db");
            for (j, b) in chunk.iter().enumerate() {
                let _ = write!(s, "{} 0x{b:02x}", if j == 0 { "" } else { "," });
            }
            ((i * 16) as u32, s)
        })
        .collect()
}

/// Names a metadata token for a listing (`Ns.Type::Method` for a call
/// target), or `None` to show the token in hex.
pub type TokenNames<'a> = &'a dyn Fn(u32) -> Option<String>;

/// One IL instruction as text: `callvirt Ns.Type::Method`, `ldc.i4 5`.
fn il_text(i: &crate::decoder::Instr, names: TokenNames<'_>) -> String {
    let opnd = match &i.operand {
        Operand::None => String::new(),
        Operand::Int(v) => format!(" {v}"),
        Operand::Float(v) => format!(" {v}"),
        Operand::Token(t) => match names(*t) {
            Some(n) => format!(" {n}"),
            None => format!(" 0x{t:08x}"),
        },
        Operand::Target(t) => format!(" IL_{t:04x}"),
        Operand::Switch(ts) => format!(" ({} targets)", ts.len()),
    };
    format!("{}{}", mnemonic(i.opcode), opnd)
}

/// The IL of a method alone (one it could not compile), with `stopped`
/// marked: the offset where compilation stopped.
pub fn il_listing(il: &[u8], names: TokenNames<'_>, stopped: Option<u32>) -> String {
    let mut out = String::new();
    match decode_all(il) {
        Ok(instrs) => {
            for i in &instrs {
                let mark = if Some(i.offset) == stopped {
                    "   <-- compilation stopped here"
                } else {
                    ""
                };
                let _ = writeln!(out, "IL_{:04x}: {}{mark}", i.offset, il_text(i, names));
            }
        }
        Err(e) => {
            let _ = writeln!(out, "; IL does not decode: {e:?}");
        }
    }
    out
}

/// IL and machine code side by side: each IL instruction followed by the
/// instructions generated for it.
pub fn listing(il: &[u8], m: &CompiledMethod) -> String {
    listing_with(il, m, &|_| None, false)
}

/// [`listing`] with tokens named by `names` and the stack maps: the frame
/// part after the prologue, each call's site part after the call
/// (`; gc: frame, [rbp-0x30]?, rbx`; see `crate::gcmap::StackMaps::describe`).
pub fn listing_named(il: &[u8], m: &CompiledMethod, names: TokenNames<'_>) -> String {
    listing_with(il, m, names, true)
}

/// The `; gc:` comment for the instruction that ends at `end`, if it is a call.
fn gc_note(m: &CompiledMethod, end: u32) -> String {
    let maps = &m.stack_maps;
    match maps.at(end) {
        Some(site) => {
            let own = site.regs & !frame_regs(m);
            let rest = crate::gcmap::StackMaps::describe(site.slots, own);
            if rest.is_empty() {
                "  ; gc: frame".into()
            } else {
                format!("  ; gc: frame, {rest}")
            }
        }
        None => String::new(),
    }
}

fn frame_regs(m: &CompiledMethod) -> u8 {
    m.stack_maps.frame_regs
}

fn listing_with(il: &[u8], m: &CompiledMethod, names: TokenNames<'_>, gc: bool) -> String {
    let mut out = String::new();
    let lines = x86_lines(&m.code);
    let end_of = |li: usize| -> u32 {
        lines
            .get(li + 1)
            .map(|l| l.0)
            .unwrap_or(m.code.len() as u32)
    };
    let note = |li: usize| -> String {
        if gc {
            gc_note(m, end_of(li))
        } else {
            String::new()
        }
    };
    let instrs = decode_all(il).unwrap_or_default();
    let mut li = 0;
    let first = m.il_map.first().map(|x| x.1).unwrap_or(m.code.len() as u32);
    let _ = writeln!(out, "; prologue");
    while li < lines.len() && lines[li].0 < first {
        let _ = writeln!(out, "    {:04x}  {}", lines[li].0, lines[li].1);
        li += 1;
    }
    if gc {
        let maps = &m.stack_maps;
        let fr = maps.frame_regs;
        let _ = writeln!(
            out,
            "; gc frame (live at every call): {}",
            match crate::gcmap::StackMaps::describe(&maps.frame, fr) {
                d if d.is_empty() => "-".into(),
                d => d,
            }
        );
    }
    for (k, (il_off, code_off)) in m.il_map.iter().enumerate() {
        let end = m.il_map.get(k + 1).map(|x| x.1).unwrap_or(u32::MAX);
        let text = instrs
            .iter()
            .find(|i| i.offset == *il_off)
            .map(|i| il_text(i, names))
            .unwrap_or_default();
        let _ = writeln!(out, "IL_{il_off:04x}: {text}");
        let _ = code_off;
        while li < lines.len() && lines[li].0 < end {
            let _ = writeln!(out, "    {:04x}  {}{}", lines[li].0, lines[li].1, note(li));
            li += 1;
        }
    }
    if gc && m.stack_maps.call_sites() > 0 {
        let _ = writeln!(
            out,
            "; stack maps: {} call sites, {} bytes",
            m.stack_maps.call_sites(),
            m.stack_maps.size_bytes()
        );
    }
    regions(&mut out, m);
    out
}

/// The region table (the JIT's unwind information), after the listing.
fn regions(out: &mut String, m: &CompiledMethod) {
    if m.eh.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "; exception-handling regions, innermost first (frame: rbp-based, {} bytes below rbp)",
        m.frame_size
    );
    for (k, r) in m.eh.iter().enumerate() {
        let c = &r.clause;
        let kind = match c.kind {
            EhKind::Catch(t) => format!("catch 0x{t:08x}"),
            EhKind::Filter(f) => {
                format!("filter IL_{f:04x} (0x{:04x})", r.filter_native.unwrap_or(0))
            }
            EhKind::Finally => "finally".into(),
            EhKind::Fault => "fault".into(),
        };
        let _ = write!(
            out,
            ";   {k}: {kind}: try IL_{:04x}..IL_{:04x} (0x{:04x}..0x{:04x}), handler IL_{:04x}..IL_{:04x} (0x{:04x}..0x{:04x})",
            c.try_start,
            c.try_end,
            r.try_native.0,
            r.try_native.1,
            c.handler_start,
            c.handler_end,
            r.handler_native.0,
            r.handler_native.1
        );
        match r.exception_slot {
            Some(s) => {
                let _ = writeln!(out, ", exception in [rbp-0x{:x}]", -s);
            }
            None => {
                let _ = writeln!(out);
            }
        }
    }
}
