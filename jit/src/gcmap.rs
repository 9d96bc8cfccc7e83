//! Stack maps: where object references live in a compiled method's frame at
//! each of its safepoints (every call it makes: helpers, allocations, managed
//! methods). The runtime's collector reads them to find stack roots
//! precisely instead of scanning JIT frames word by word.
//!
//! A map has two parts. The *frame* part holds for the whole method:
//! reference-typed arguments and locals (and the reference fields of struct
//! locals) in their rbp-relative homes, and the callee-saved registers the
//! method keeps reference-typed locals in. The *site* part is per call: the
//! value-stack entries live across the call in their homes or in
//! callee-saved registers, and, as [`GcKind::Maybe`], every word a lowering
//! may still use after the call although the value stack no longer lists it
//! (operands popped by the current instruction, such as the struct `box`
//! keeps in its home across `NewObject`, and per-instruction temporaries such
//! as the fresh object `newobj` keeps across its constructor call) and every
//! allocated callee-saved register no live entry explains.
//!
//! Storage: the frame part once per method; calls whose map is just the
//! frame part (three in four) as a sorted list of return offsets; the rest
//! as [`Safepoint`]s indexing a shared slot array (about 10 bytes per call
//! site over the JIT corpus).
//!
//! Every kind is *validated* by the collector (the word must point into an
//! allocated object, which it then marks): so over-reporting is safe, and the
//! kinds say what the JIT knows rather than how the collector must trust it.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::isa::x64::regs::{Gpr, CALLEE_SAVED};

/// What a reported slot or register holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcKind {
    /// An object reference (or null).
    Ref,
    /// A managed pointer: keeps the object containing its target alive.
    Interior,
    /// Possibly a reference or managed pointer, possibly not (a word of a
    /// popped operand or temporary): validated like a conservative root.
    Maybe,
}

/// One rbp-relative frame slot holding a reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcSlot {
    pub offset: i32,
    pub kind: GcKind,
}

/// The map of one call site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Safepoint {
    /// Code offset of the return address (the instruction after the call).
    pub ret_offset: u32,
    /// This site's slots: `StackMaps::slots[first..first + count]`.
    pub first: u32,
    pub count: u32,
    /// Callee-saved registers (bit i = `CALLEE_SAVED[i]`) that hold (or may
    /// hold) references at this site, including the frame's register locals.
    pub regs: u8,
}

/// Every stack map of a compiled method.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackMaps {
    /// Slots live at every safepoint (reference args and locals).
    pub frame: Vec<GcSlot>,
    /// Registers holding reference locals and arguments (part of every
    /// site's `regs`).
    pub frame_regs: u8,
    /// Call sites with a site part, ascending by `ret_offset`.
    pub sites: Vec<Safepoint>,
    /// Return offsets of the call sites where only the frame part applies
    /// (three in four calls: no slots, no registers of their own), ascending.
    pub frame_only: Vec<u32>,
    /// The site slots, concatenated.
    pub slots: Vec<GcSlot>,
    /// Callee-saved registers the prologue saves (bit i = `CALLEE_SAVED[i]`,
    /// saved at `[rbp - 8*(i+1)]`): where the caller's values of them are.
    pub saved_regs: u8,
}

/// The map at one call site: its own slots (the frame part applies too) and
/// every register holding a reference there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Site<'a> {
    pub slots: &'a [GcSlot],
    pub regs: u8,
}

/// Bit of a callee-saved register in [`Safepoint::regs`].
pub fn reg_bit(r: Gpr) -> u8 {
    CALLEE_SAVED
        .iter()
        .position(|c| *c == r)
        .map(|i| 1 << i)
        .unwrap_or(0)
}

/// Name of the i-th callee-saved register.
pub fn reg_name(i: usize) -> &'static str {
    ["rbx", "r12", "r13", "r14", "r15"]
        .get(i)
        .copied()
        .unwrap_or("?")
}

impl StackMaps {
    /// The map of the call whose return address is at `ret_offset` (None:
    /// no call returns there).
    pub fn at(&self, ret_offset: u32) -> Option<Site<'_>> {
        if let Ok(i) = self
            .sites
            .binary_search_by_key(&ret_offset, |s| s.ret_offset)
        {
            let s = &self.sites[i];
            return Some(Site {
                slots: self.site_slots(s),
                regs: s.regs,
            });
        }
        self.frame_only
            .binary_search(&ret_offset)
            .ok()
            .map(|_| Site {
                slots: &[],
                regs: self.frame_regs,
            })
    }

    /// The slots of `site` (not including the frame part).
    pub fn site_slots(&self, site: &Safepoint) -> &[GcSlot] {
        let a = site.first as usize;
        self.slots.get(a..a + site.count as usize).unwrap_or(&[])
    }

    /// Number of call sites.
    pub fn call_sites(&self) -> usize {
        self.sites.len() + self.frame_only.len()
    }

    /// Bytes the maps take (a figure for `--disasm` and the docs).
    pub fn size_bytes(&self) -> usize {
        (self.frame.len() + self.slots.len()) * core::mem::size_of::<GcSlot>()
            + self.sites.len() * core::mem::size_of::<Safepoint>()
            + self.frame_only.len() * 4
    }

    /// `[rbp-0x18], [rbp-0x20]&, [rbp-0x28]?, rbx`: `&` an interior pointer,
    /// `?` a maybe-reference; registers last.
    pub fn describe(slots: &[GcSlot], regs: u8) -> String {
        let mut s = String::new();
        for g in slots {
            if !s.is_empty() {
                s.push_str(", ");
            }
            let (sign, mag) = if g.offset < 0 {
                ('-', -(g.offset as i64))
            } else {
                ('+', g.offset as i64)
            };
            let _ = write!(s, "[rbp{sign}{mag:#x}]");
            match g.kind {
                GcKind::Ref => {}
                GcKind::Interior => s.push('&'),
                GcKind::Maybe => s.push('?'),
            }
        }
        for i in 0..CALLEE_SAVED.len() {
            if regs & (1 << i) != 0 {
                if !s.is_empty() {
                    s.push_str(", ");
                }
                s.push_str(reg_name(i));
            }
        }
        s
    }
}
