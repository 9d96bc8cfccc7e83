//! Precise stack roots: the walk over JIT frames that reads the JIT's stack
//! maps (`jit::gcmap`), and the transitions that let the collector find those
//! frames from inside the runtime.
//!
//! Transitions. JIT code reaches a collection only through a runtime call.
//! The calls that may collect (allocation helpers, `ClassInit`, the
//! `System.GC` internal calls, and the internal calls that allocate: string
//! allocation, `MemberwiseClone`, `Array` boxing reads, copies and
//! `CreateInstance`) are entered through a small assembly trampoline
//! (`super::transitions`) that links a record into a chain headed by
//! [`TRANSITION`] and hands the runtime clean callee-saved registers. Other
//! runtime calls have no record (exception dispatch, which makes exception
//! objects; imports bound by the hosting layer, whose arguments may travel
//! on the stack): a collection inside one scans everything below the
//! nearest record conservatively, the JIT frames that called it included.
//!
//! ```text
//!   [t + 8]   return address into JIT code   (A)
//!   [t]       the JIT frame's rbp            <- t (the record, the trampoline's rbp)
//!   [t - 8]   previous record (0: none)
//!   [t - 16]  rbx, r12, r13, r14, r15 of the JIT frame, then cleared to 0
//!   .. [t - 48]   before the runtime function is called
//! ```
//!
//! So the runtime's Rust frames never hold a JIT register value: what JIT
//! code kept in a callee-saved register is at a known address for the walk.
//!
//! The walk ([`walk`]), from the collector's frame (`lo`) to the anchor of
//! the outermost managed entry (`top`), innermost first:
//! - everything below the innermost record is Rust (the collector, the
//!   helper) and is scanned conservatively;
//! - from a record, the rbp chain is followed while return addresses are in
//!   JIT code: each frame's fixed part `[rbp - frame_size, rbp + 16)` is
//!   covered by its stack map at that return address (frame slots, site
//!   slots, callee-saved registers found where the deeper frames saved them);
//!   the words between frames (outgoing arguments, `localloc` blocks, the
//!   runtime frames of a `filter`/`finally` call during exception dispatch)
//!   are scanned conservatively;
//! - when a return address leads back into Rust (a runtime function that
//!   called managed code), the words up to the next record are scanned
//!   conservatively, and the callee-saved registers the Rust caller had,
//!   saved by the JIT prologues above it, are treated as conservative words.
//!
//! Anything the walk cannot vouch for (no record: a collection entered from
//! a runtime call without a trampoline; a record or frame pointer out of
//! order) is scanned conservatively, which is always safe with a non-moving
//! heap. A JIT return address without a stack map is a JIT bug: debug builds
//! panic; release builds scan that frame conservatively. So is a slot the map
//! calls a reference that holds a heap address other than an object's start
//! (debug builds panic; release builds treat it as an interior pointer).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::Engine;
use jit::gcmap::{GcKind, StackMaps};

/// Head of the chain of transition records (0: none). One machine stack runs
/// managed code, as for the managed-entry anchor in `exec::gc`.
pub(super) static TRANSITION: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn transition_head() -> usize {
    TRANSITION.load(Ordering::Relaxed)
}
pub(crate) fn set_transition_head(v: usize) {
    TRANSITION.store(v, Ordering::Relaxed)
}

/// Offset of the saved callee-saved register `i` (`CALLEE_SAVED` order) from
/// a transition record.
const fn record_reg(i: usize) -> usize {
    16 + 8 * i
}
/// Bytes of a trampoline's frame below its record.
const RECORD_BELOW: usize = 48;

/// What the walk found.
#[derive(Debug, Default)]
pub(crate) struct StackRoots {
    /// Ranges `[lo, hi)` to scan conservatively.
    pub ranges: Vec<(usize, usize)>,
    /// Words read from map slots and registers: each is marked if it points
    /// into an object (stack maps report locations, the heap validates).
    pub words: Vec<usize>,
    /// JIT frames covered by stack maps.
    pub jit_frames: usize,
    /// JIT frames whose return address had no map (scanned conservatively).
    pub unmapped: usize,
    /// Reference slots holding a heap address that is not an object start.
    pub bad_refs: usize,
}

fn read(a: usize) -> usize {
    // SAFETY: callers pass 8-aligned addresses inside [lo, top), the live
    // stack of this thread between the collector and the managed entry.
    unsafe { (a as *const usize).read_volatile() }
}

/// Compiled code by address, for return-address lookups during one walk.
struct CodeIndex<'a> {
    by_addr: Vec<(usize, usize, &'a StackMaps, u32)>,
}

impl<'a> CodeIndex<'a> {
    fn new(e: &'a Engine) -> Self {
        let mut by_addr: Vec<_> = e
            .compiled_iter()
            .map(|c| {
                (
                    c.addr as usize,
                    c.addr as usize + c.len as usize,
                    &c.stack_maps,
                    c.frame_size,
                )
            })
            .collect();
        by_addr.sort_unstable_by_key(|x| x.0);
        CodeIndex { by_addr }
    }

    /// The method whose code holds `ret`: (its maps, frame size, offset).
    fn find(&self, ret: usize) -> Option<(&'a StackMaps, u32, u32)> {
        let i = self
            .by_addr
            .partition_point(|x| x.0 <= ret)
            .checked_sub(1)?;
        let (start, end, maps, fs) = self.by_addr[i];
        (ret > start && ret <= end).then_some((maps, fs, (ret - start) as u32))
    }
}

/// Walks the stack `[lo, top)` as the module docs describe.
pub(crate) fn walk(e: &Engine, lo: usize, top: usize) -> StackRoots {
    let code = CodeIndex::new(e);
    let heap = e.ts.heap();
    let mut out = StackRoots::default();
    let mut cur = lo;
    let mut rec = transition_head();
    let ok = |a: usize, cur: usize| a >= cur && a.is_multiple_of(8) && a + 16 <= top;
    while rec != 0 {
        if !ok(rec, cur + RECORD_BELOW) {
            break;
        }
        let ret = read(rec + 8);
        let Some((mut maps, mut fs, mut off)) = code.find(ret) else {
            break;
        };
        out.ranges.push((cur, rec - RECORD_BELOW));
        // Where each callee-saved register of the current frame is now.
        let mut loc = [0usize; 5];
        for (i, l) in loc.iter_mut().enumerate() {
            *l = rec - record_reg(i);
        }
        let mut rbp = read(rec);
        let mut pc = ret;
        cur = rec + 16;
        let done = loop {
            if !ok(rbp, cur) || rbp - (fs as usize) < cur {
                break true;
            }
            out.ranges.push((cur, rbp - fs as usize));
            match maps.at(off) {
                Some(site) => {
                    out.jit_frames += 1;
                    for s in maps.frame.iter().chain(site.slots) {
                        let w = read(rbp.wrapping_add_signed(s.offset as isize));
                        if s.kind == GcKind::Ref && w != 0 && heap.in_heap(w) && !heap.is_object(w)
                        {
                            // A map that calls an interior or stale word a
                            // reference has its types wrong somewhere.
                            out.bad_refs += 1;
                            if cfg!(debug_assertions) {
                                panic!(
                                    "gc: stack map slot [rbp{:+#x}] at {pc:#x} is a reference \
                                     but holds {w:#x}, not an object",
                                    s.offset
                                );
                            }
                        }
                        out.words.push(w);
                    }
                    for (i, l) in loc.iter().enumerate() {
                        if site.regs & (1 << i) != 0 {
                            out.words.push(read(*l));
                        }
                    }
                }
                None => {
                    out.unmapped += 1;
                    if cfg!(debug_assertions) {
                        panic!(
                            "gc: no stack map at JIT return address {pc:#x} (code offset {off:#x})"
                        );
                    }
                    out.ranges.push((rbp - fs as usize, rbp + 16));
                    out.words.extend(loc.iter().map(|l| read(*l)));
                }
            }
            for (i, l) in loc.iter_mut().enumerate() {
                if maps.saved_regs & (1 << i) != 0 {
                    *l = rbp - 8 * (i + 1);
                }
            }
            let (next, caller_ret) = (read(rbp), read(rbp + 8));
            cur = rbp + 16;
            match code.find(caller_ret) {
                Some((m, f, o)) if next > rbp => {
                    (maps, fs, off) = (m, f, o);
                    (rbp, pc) = (next, caller_ret);
                }
                Some(_) => break true,
                // Back in Rust, which called managed code.
                None => break false,
            }
        };
        // The callee-saved registers of whatever runs above (a Rust caller,
        // or frames the walk gives up on) are where the last frames saved
        // them: treat them as conservative words.
        out.words.extend(loc.iter().map(|l| read(*l)));
        if done {
            break;
        }
        rec = read(rec - 8);
    }
    if top > cur {
        out.ranges.push((cur, top));
    }
    out
}
