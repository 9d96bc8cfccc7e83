//! Which locals the prologue must zero.
//!
//! ECMA-335 §II.24.4.4 (`localsinit`, which `mcs` always sets) and
//! §III.1.8.1.1 make every local start at zero, and the collector reads
//! reference locals at every call, so the prologue used to zero them all.
//! A scalar local the method always stores before it loads can never show
//! that zero, so zeroing it is work without effect: on the managed driver's
//! request path it was about a dozen stores per call. This is a forward
//! "definitely assigned" dataflow over the IL's basic blocks (the
//! definite-assignment rule of C# itself, recomputed on the IL): a local
//! needs zeroing if some load of it can be reached on a path with no store
//! before it.
//!
//! The same dataflow, over every local whose address is not taken
//! ([`read_before_store`]), tells the register allocator which locals are
//! live from the entry (`assign_registers` in `lib.rs`).
//!
//! Only plain integer and floating-point locals are candidates for skipping
//! the zeroing. References,
//! managed and native pointers (which the collector may read) and structs
//! are always zeroed, as are locals whose address is taken, and every local
//! of a method with exception clauses (handlers are entered from anywhere in
//! their `try`). Locals beyond the first 64 candidates are zeroed too.

use crate::codegen::stack::StackTy;
use crate::decoder::{op, Instr, Operand};
use crate::host::JitType;
use alloc::vec::Vec;
use smallvec::SmallVec;

/// Sets `zero[k]` for every local `k` of `locals` the prologue must zero
/// (see the module docs); `read_early` is what [`read_before_store`]
/// computed for the same method (over the scalar locals, or over all).
pub(crate) fn must_zero(locals: &[JitType], read_early: &[bool], zero: &mut Vec<bool>) {
    zero.clear();
    zero.extend(
        locals
            .iter()
            .zip(read_early)
            .map(|(t, &early)| !is_scalar(t) || early),
    );
}

/// Integers and floats on the evaluation stack: no native ints or pointers
/// (possibly references to the collector), no references, no structs.
fn is_scalar(t: &JitType) -> bool {
    matches!(
        StackTy::of(t),
        Some(StackTy::I32 | StackTy::I64 | StackTy::F | StackTy::F32)
    )
}

/// Sets `early[k]` for every local `k` some load of which can be reached on
/// a path with no store to it before (so it may show its initial zero): the
/// definitely-assigned dataflow of the module docs, over every local whose
/// address is not taken (`taken[k]`), or only the scalar ones (what
/// [`must_zero`] looks at) if `only_scalars`. The others, locals past the
/// first 64 candidates, and every local of a method with exception clauses,
/// count as read early. Besides zeroing, this tells the register allocator
/// which locals are live from the method's entry.
pub(crate) fn read_before_store(
    locals: &[JitType],
    taken: &[bool],
    has_eh: bool,
    instrs: &[Instr],
    only_scalars: bool,
    early: &mut Vec<bool>,
) {
    early.clear();
    early.resize(locals.len(), true);
    if has_eh || instrs.is_empty() {
        return;
    }
    // Each candidate local's bit, by local number (0: not a candidate).
    let mut bits: SmallVec<[u64; 16]> = SmallVec::from_elem(0, locals.len());
    let mut next = 0u32;
    for (k, b) in bits.iter_mut().enumerate() {
        if next == 64 {
            break;
        }
        if (!only_scalars || is_scalar(&locals[k])) && !taken.get(k).copied().unwrap_or(true) {
            *b = 1u64 << next;
            next += 1;
        }
    }
    if next == 0 {
        return;
    }
    let bit_of = |local: u16| bits.get(local as usize).copied().unwrap_or(0);
    let unassigned = if instrs.iter().all(|i| flow(i) == Flow::Next) {
        // Straight-line code (most small methods): program order is
        // execution order.
        scan(instrs, 0, &bit_of)
    } else {
        dataflow(instrs, &bit_of)
    };
    for (e, b) in early.iter_mut().zip(&bits) {
        if *b != 0 {
            *e = unassigned & b != 0;
        }
    }
}

/// The locals (as bits) of `instrs` loaded while not yet stored, starting
/// with `assigned`.
fn scan(instrs: &[Instr], mut assigned: u64, bit_of: &impl Fn(u16) -> u64) -> u64 {
    let mut unassigned = 0;
    for i in instrs {
        match access(i) {
            Some((k, true)) => assigned |= bit_of(k),
            Some((k, false)) => unassigned |= bit_of(k) & !assigned,
            None => {}
        }
    }
    unassigned
}

/// [`scan`] over the control-flow graph: the definitely-assigned set at each
/// block's entry is the intersection over the paths reaching it.
fn dataflow(instrs: &[Instr], bit_of: &impl Fn(u16) -> u64) -> u64 {
    let index_of = |offset: u32| instrs.binary_search_by_key(&offset, |i| i.offset).ok();
    // Block leaders: the entry, branch targets, and what follows a branch.
    let mut leader: SmallVec<[bool; 64]> = SmallVec::from_elem(false, instrs.len());
    leader[0] = true;
    for (n, i) in instrs.iter().enumerate() {
        let f = flow(i);
        if f != Flow::Next {
            if let Some(l) = leader.get_mut(n + 1) {
                *l = true;
            }
        }
        for t in targets(i) {
            if let Some(k) = index_of(*t) {
                leader[k] = true;
            }
        }
    }
    let starts: SmallVec<[usize; 16]> = (0..instrs.len()).filter(|&n| leader[n]).collect();
    let block_of = |n: usize| starts.partition_point(|&s| s <= n) - 1;
    let end_of = |b: usize| starts.get(b + 1).copied().unwrap_or(instrs.len());
    // Entry states: `None` until some path reaches the block.
    let mut entry: SmallVec<[Option<u64>; 16]> = SmallVec::from_elem(None, starts.len());
    entry[0] = Some(0);
    let mut changed = true;
    while changed {
        changed = false;
        for b in 0..starts.len() {
            let Some(mut s) = entry[b] else {
                continue;
            };
            let (from, to) = (starts[b], end_of(b));
            for i in &instrs[from..to] {
                if let Some((k, true)) = access(i) {
                    s |= bit_of(k);
                }
            }
            let last = &instrs[to - 1];
            let mut succ = |n: usize| {
                let t = block_of(n);
                let merged = entry[t].map_or(s, |e| e & s);
                if entry[t] != Some(merged) {
                    entry[t] = Some(merged);
                    changed = true;
                }
            };
            if matches!(flow(last), Flow::Next | Flow::Branch) && to < instrs.len() {
                succ(to);
            }
            for t in targets(last) {
                if let Some(k) = index_of(*t) {
                    succ(k);
                }
            }
        }
    }
    let mut unassigned = 0;
    for b in 0..starts.len() {
        if let Some(s) = entry[b] {
            unassigned |= scan(&instrs[starts[b]..end_of(b)], s, bit_of);
        }
    }
    unassigned
}

/// How control leaves an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    /// Falls through to the next instruction only.
    Next,
    /// To its targets and the next instruction (conditional branch, switch).
    Branch,
    /// To its targets only (`br`, `leave`).
    Jump,
    /// Nowhere in this method (`ret`, `throw`, ...).
    Stop,
}

fn flow(i: &Instr) -> Flow {
    match i.opcode {
        op::BR | op::BR_S | op::LEAVE | op::LEAVE_S => Flow::Jump,
        op::RET | op::THROW | op::RETHROW | op::JMP | op::ENDFINALLY | op::ENDFILTER => Flow::Stop,
        _ => match i.operand {
            Operand::Target(_) | Operand::Switch(_) => Flow::Branch,
            _ => Flow::Next,
        },
    }
}

fn targets(i: &Instr) -> &[u32] {
    match &i.operand {
        Operand::Target(t) => core::slice::from_ref(t),
        Operand::Switch(ts) => ts,
        _ => &[],
    }
}

/// The local an instruction loads (`false`) or stores (`true`).
pub(crate) fn access(i: &Instr) -> Option<(u16, bool)> {
    let n = |i: &Instr| match i.operand {
        Operand::Int(n) => u16::try_from(n).ok(),
        _ => None,
    };
    match i.opcode {
        op::LDLOC_0..=op::LDLOC_3 => Some((i.opcode - op::LDLOC_0, false)),
        op::STLOC_0..=op::STLOC_3 => Some((i.opcode - op::STLOC_0, true)),
        op::LDLOC_S | op::LDLOC => Some((n(i)?, false)),
        op::STLOC_S | op::STLOC => Some((n(i)?, true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoder::decode_all;
    use alloc::vec;

    /// `must_zero` for `il` over locals `locals`, of which `taken` have their
    /// address taken, in a method with handlers if `eh`.
    fn zeroed_with(locals: &[JitType], taken: &[bool], eh: bool, il: &[u8]) -> Vec<bool> {
        let instrs = decode_all(il).unwrap();
        let (mut early, mut out) = (Vec::new(), Vec::new());
        read_before_store(locals, taken, eh, &instrs, true, &mut early);
        must_zero(locals, &early, &mut out);
        out
    }

    /// `must_zero` for `il` over locals `locals` (none address-taken).
    fn zeroed(locals: &[JitType], il: &[u8]) -> Vec<bool> {
        zeroed_with(locals, &vec![false; locals.len()], false, il)
    }

    /// `read_before_store` for `il` over locals `locals` (none address-taken).
    fn read_early(locals: &[JitType], il: &[u8]) -> Vec<bool> {
        let instrs = decode_all(il).unwrap();
        let mut out = Vec::new();
        read_before_store(
            locals,
            &vec![false; locals.len()],
            false,
            &instrs,
            false,
            &mut out,
        );
        out
    }

    const I4: JitType = JitType::I4;

    #[test]
    fn stored_before_loaded_in_straight_line_code_is_not_zeroed() {
        // ldc.i4.1; stloc.0; ldloc.0; ldloc.1; add; ret
        let il = [0x17, 0x0A, 0x06, 0x07, 0x58, 0x2A];
        assert_eq!(zeroed(&[I4, I4], &il), [false, true]);
    }

    #[test]
    fn a_store_on_one_branch_only_leaves_the_local_zeroed() {
        // ldarg.0; brfalse.s L; ldc.i4.1; stloc.0; L: ldloc.0; ret
        let il = [0x02, 0x2C, 0x02, 0x17, 0x0A, 0x06, 0x2A];
        assert_eq!(zeroed(&[I4], &il), [true]);
        // ... and a store on both branches does not:
        // ldarg.0; brfalse.s E; ldc.i4.1; stloc.0; br.s J; E: ldc.i4.2; stloc.0; J: ldloc.0; ret
        let il = [
            0x02, 0x2C, 0x04, 0x17, 0x0A, 0x2B, 0x02, 0x18, 0x0A, 0x06, 0x2A,
        ];
        assert_eq!(zeroed(&[I4], &il), [false]);
    }

    #[test]
    fn a_load_reached_by_a_backward_branch_before_the_store_is_zeroed() {
        // br.s B; A: ldloc.0; ret; B: ldc.i4.1; brtrue.s A; ldc.i4.0; stloc.0; br.s A
        let il = [
            0x2B, 0x02, 0x06, 0x2A, 0x17, 0x2D, 0xFB, 0x16, 0x0A, 0x2B, 0xF7,
        ];
        assert_eq!(zeroed(&[I4], &il), [true]);
    }

    #[test]
    fn a_loop_counter_stored_before_the_loop_is_not_zeroed() {
        // ldc.i4.0; stloc.0; br.s C; B: ldloc.0; ldc.i4.1; add; stloc.0;
        // C: ldloc.0; ldc.i4.s 10; blt.s B; ldloc.0; ret
        let il = [
            0x16, 0x0A, 0x2B, 0x04, 0x06, 0x17, 0x58, 0x0A, 0x06, 0x1F, 0x0A, 0x32, 0xF7, 0x06,
            0x2A,
        ];
        assert_eq!(zeroed(&[I4], &il), [false]);
    }

    #[test]
    fn switch_targets_are_paths_too() {
        // ldarg.0; switch (L1); ldc.i4.1; stloc.0; L1: ldloc.0; ret
        let il = [
            0x02, 0x45, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x17, 0x0A, 0x06, 0x2A,
        ];
        assert_eq!(zeroed(&[I4], &il), [true]);
    }

    #[test]
    fn references_structs_taken_addresses_and_handlers_are_always_zeroed() {
        // ldnull; stloc.0; ldloc.0; pop; ldc.i4.1; stloc.1; ldloc.1; ret
        let il = [0x14, 0x0A, 0x06, 0x26, 0x17, 0x0B, 0x07, 0x2A];
        assert_eq!(zeroed(&[JitType::Obj, I4], &il), [true, false]);
        let locals = [JitType::Obj, I4];
        assert_eq!(
            zeroed_with(&locals, &[false, true], false, &il),
            [true, true]
        );
        assert_eq!(
            zeroed_with(&locals, &[false, false], true, &il),
            [true, true]
        );
        // ... though the reference is stored before it is loaded, which the
        // register allocator is told.
        assert_eq!(read_early(&locals, &il), [false, false]);
    }

    #[test]
    fn read_early_covers_every_kind_of_local() {
        // ldloc.0; pop; ldnull; stloc.0; ldloc.1; pop; ret
        let il = [0x06, 0x26, 0x14, 0x0A, 0x07, 0x26, 0x2A];
        let locals = [JitType::Obj, JitType::Ptr];
        assert_eq!(read_early(&locals, &il), [true, true]);
        // ldnull; stloc.0; ldloc.0; pop; ldc.i4.0; conv.u; stloc.1; ldloc.1; pop; ret
        let il = [0x14, 0x0A, 0x06, 0x26, 0x16, 0xE0, 0x0B, 0x07, 0x26, 0x2A];
        assert_eq!(read_early(&locals, &il), [false, false]);
    }
}
