//! Baseline CIL → x86-64 compiler: IL decoder → validating visitor over a typed
//! abstract stack → CodeGen → MacroAssembler → x86-64 backend (the shape of
//! wasmtime's Winch). ECMA-335 Partition III is the instruction reference.
//!
//! Entry point: [`compile`]. The runtime answers questions through
//! [`host::JitHost`]; the output is position-independent machine code plus the
//! list of patchable call sites ([`CompiledMethod`]). Also public:
//! [`isa::x64::stubs`] (lazy-compilation and unboxing thunks), [`disasm`]
//! (IL/x86-64 listings) and [`decoder`] (opcode table).
//!
//! What the generated code assumes is documented in `isa::x64::abi` (frame,
//! managed and native conventions) and `host` (object layout, helpers,
//! failure codes). Register use: the most used scalar locals/arguments live in
//! rbx/r12–r15 for the whole method; evaluation-stack values use a pool of the
//! remaining registers and are spilled to per-depth frame homes at branches,
//! merge points and (for caller-saved registers) calls.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

extern crate alloc;

pub mod codegen;
pub mod decoder;
pub mod disasm;
pub mod gcmap;
pub mod host;
mod init_locals;
pub mod isa;
pub mod masm;
pub mod scratch;
pub mod visitor;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use codegen::nonnull::NonNull;
use codegen::Recycled;
use core::fmt;
pub use scratch::Scratch;
use smallvec::SmallVec;

use codegen::CodeGen;
use decoder::{op, Operand};
use host::{Helper, JitHost, JitType};
use isa::x64::masm::X64Masm;

/// What the JIT needs to know about the method being compiled.
#[derive(Clone, Debug)]
pub struct MethodInput<'a> {
    /// Display name for errors (`Namespace.Type::Method`).
    pub name: &'a str,
    /// Runtime handle passed to the `Fail` helper.
    pub handle: u64,
    pub il: &'a [u8],
    /// Argument types, `this` first for instance methods (`ByRef` on value types).
    pub args: Vec<JitType>,
    pub locals: Vec<JitType>,
    pub ret: JitType,
    /// `localsinit`: also zero `localloc` blocks (locals are always zeroed).
    pub init_locals: bool,
    /// Exception-handling clauses (§II.25.4.6), innermost first as in the
    /// metadata; empty for most methods.
    pub eh: Vec<EhClause>,
}

/// What an exception-handling clause's handler is (§II.25.4.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EhKind {
    /// `catch` of a class: the metadata token (the runtime resolves it while
    /// searching for a handler; the JIT never needs the type).
    Catch(u32),
    /// A filter block starting at this IL offset (it ends where the handler starts).
    Filter(u32),
    Finally,
    Fault,
}

/// One exception-handling clause with IL ranges `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EhClause {
    pub kind: EhKind,
    pub try_start: u32,
    pub try_end: u32,
    pub handler_start: u32,
    pub handler_end: u32,
}

impl EhClause {
    /// Whether the protected block holds IL offset `il`.
    pub fn try_contains(&self, il: u32) -> bool {
        self.try_start <= il && il < self.try_end
    }
    /// Whether the handler (or, for a filter clause, the filter block) holds `il`.
    pub fn handler_contains(&self, il: u32) -> bool {
        let start = match self.kind {
            EhKind::Filter(f) => f.min(self.handler_start),
            _ => self.handler_start,
        };
        start <= il && il < self.handler_end
    }
}

/// A clause as compiled: where its parts landed in the machine code, and the
/// frame slot holding the exception object its catch or filter handler is
/// working on. This is the JIT's own unwind information: together with
/// [`CompiledMethod::frame_size`] it tells the runtime how to enter a handler
/// (see `codegen::exceptions` for the protocol).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EhRegion {
    pub clause: EhClause,
    /// Code offsets `[start, end)` of the protected block.
    pub try_native: (u32, u32),
    /// Code offsets `[start, end)` of the handler; `start` is its entry.
    pub handler_native: (u32, u32),
    /// Entry of the filter block (filter clauses).
    pub filter_native: Option<u32>,
    /// rbp-relative slot of the exception object (catch and filter clauses).
    pub exception_slot: Option<i32>,
}

/// Why compilation failed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum JitErrorKind {
    Decode(decoder::DecodeError),
    InvalidOpcode(u16),
    StackUnderflow,
    /// Stack shapes disagree at this branch target.
    StackMismatch(u32),
    TypeMismatch(&'static str),
    BadLocal(u32),
    BadArg(u32),
    FallsOffEnd,
    Unsupported(&'static str),
    /// The host could not resolve a token.
    Host(crate::host::HostError),
    /// A broken invariant inside the JIT; a literal where possible (it is
    /// built on hot paths' error branches, which must not allocate).
    Internal(Cow<'static, str>),
}

impl fmt::Display for JitErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JitErrorKind::Decode(d) => write!(f, "bad IL: {d}"),
            JitErrorKind::InvalidOpcode(o) => write!(f, "invalid opcode 0x{o:x}"),
            JitErrorKind::StackUnderflow => write!(f, "evaluation stack underflow"),
            JitErrorKind::StackMismatch(t) => {
                write!(f, "stack shapes differ at branch target IL_{t:04x}")
            }
            JitErrorKind::TypeMismatch(m) => write!(f, "type mismatch: {m}"),
            JitErrorKind::BadLocal(n) => write!(f, "no local {n}"),
            JitErrorKind::BadArg(n) => write!(f, "no argument {n}"),
            JitErrorKind::FallsOffEnd => write!(f, "control falls off the end of the method"),
            JitErrorKind::Unsupported(m) => write!(f, "unsupported: {m}"),
            JitErrorKind::Host(m) => write!(f, "{m}"),
            JitErrorKind::Internal(m) => write!(f, "internal: {m}"),
        }
    }
}

/// A compilation error naming the method and IL offset.
#[derive(Clone, Debug, PartialEq)]
pub struct JitError {
    pub method: String,
    pub il_offset: u32,
    pub kind: JitErrorKind,
}

impl fmt::Display for JitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at IL_{:04x}: {}",
            self.method, self.il_offset, self.kind
        )
    }
}

/// What a patchable call site calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallSiteKind {
    /// A method (the host's callee id): the imm64 is its code or stub address.
    Method(u64),
    /// A method called through a cell: the imm64 is the cell address.
    Cell(u64),
    Helper(Helper),
}

/// A `mov rax, imm64` feeding a call; the host may rewrite the 8 bytes at `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallSite {
    pub offset: u32,
    pub kind: CallSiteKind,
    pub target: u64,
}

/// A compiled method: position-independent code (relative branches, absolute
/// call targets in registers) that may be copied anywhere executable.
#[derive(Clone, Debug)]
pub struct CompiledMethod {
    pub code: Vec<u8>,
    pub call_sites: Vec<CallSite>,
    /// (IL offset, code offset) for every reachable instruction, ascending.
    pub il_map: Vec<(u32, u32)>,
    pub frame_size: u32,
    /// The exception-handling regions, in clause order (innermost first).
    pub eh: Vec<EhRegion>,
    /// Where object references are at each call (`gcmap`).
    pub stack_maps: gcmap::StackMaps,
}

impl CallSite {
    /// Rewrites this call site's target inside `code`.
    pub fn patch(&self, code: &mut [u8], target: u64) {
        let o = self.offset as usize;
        if let Some(b) = code.get_mut(o..o + 8) {
            b.copy_from_slice(&target.to_le_bytes());
        }
    }
}

/// Keeps the most used scalar locals and arguments (integers of any width,
/// references, pointers; never address-taken) in callee-saved registers for
/// the whole method, so loops do not carry their variables through memory.
/// A use inside a loop (between a backward branch and its target) counts
/// twice, inside two nested loops four times: a tie-breaker towards the
/// variables loops touch (measured on the managed driver's request path,
/// `cil-compat/tests/request_cost.rs`, a heavier weight cost more than it
/// won: it takes `this` out of its register for loops that run once).
/// A register holding a 1- or 2-byte variable holds it normalised (sign- or
/// zero-extended to 32 bits, as `ldloc` of its frame slot would load it):
/// every store to it extends (`store_to_reg`), and so does the prologue for
/// an argument (the ABI leaves a small argument's upper bits unspecified).
/// `taken` are the address-taken flags (locals, arguments); the choices go
/// into `regs` (locals, arguments), which start all `None`; `loops` are the
/// IL ranges [head, backward branch] the pre-scan found.
///
/// `extra` are caller-saved registers a leaf method may also use (`leaf_regs`):
/// they go first to integer and pointer variables (no save and restore
/// needed), never to references (a stack map names callee-saved registers
/// only), and never to arguments (the argument registers are still being
/// read when the prologue fills them).
///
/// Once every register has a variable, a further local may share one with
/// locals whose live ranges its own does not meet ([`live_range`]), and of
/// the same kind (integer or pointer; object reference; managed pointer),
/// so a stack map that names the register is right whichever of them it
/// holds. Arguments never share (they are live from the entry).
/// The live ranges are worked out only when a local is first left without a
/// register (few methods have that many variables). `read_early` is filled
/// (`init_locals::read_before_store`): for every local when there are more
/// candidates than registers, else for the scalar ones only.
fn assign_registers(
    m: &MethodInput<'_>,
    instrs: &[decoder::Instr],
    (local_taken, arg_taken): (&[bool], &[bool]),
    (lr, ar): (&mut [Option<masm::Gpr>], &mut [Option<masm::Gpr>]),
    extra: &[masm::Gpr],
    loops: &[(u32, u32)],
    read_early: &mut Vec<bool>,
) {
    let mut lc: SmallVec<[u32; 16]> = smallvec::smallvec![0u32; m.locals.len()];
    let mut ac: SmallVec<[u32; 16]> = smallvec::smallvec![0u32; m.args.len()];
    for i in instrs {
        let n = match i.operand {
            Operand::Int(n) => n as usize,
            _ => 0,
        };
        let (counts, idx) = match i.opcode {
            op::LDLOC_0..=op::LDLOC_3 => (&mut lc, (i.opcode - op::LDLOC_0) as usize),
            op::STLOC_0..=op::STLOC_3 => (&mut lc, (i.opcode - op::STLOC_0) as usize),
            op::LDLOC_S | op::LDLOC | op::STLOC_S | op::STLOC => (&mut lc, n),
            op::LDARG_0..=op::LDARG_3 => (&mut ac, (i.opcode - op::LDARG_0) as usize),
            op::LDARG_S | op::LDARG | op::STARG_S | op::STARG => (&mut ac, n),
            _ => continue,
        };
        let depth = loops
            .iter()
            .filter(|(h, e)| (*h..=*e).contains(&i.offset))
            .count()
            .min(2);
        if let Some(c) = counts.get_mut(idx) {
            *c = c.saturating_add(1 << depth);
        }
    }
    let eligible = |t: &JitType| {
        matches!(
            t,
            JitType::I1
                | JitType::U1
                | JitType::Bool
                | JitType::I2
                | JitType::U2
                | JitType::Char
                | JitType::I4
                | JitType::U4
                | JitType::I8
                | JitType::U8
                | JitType::I
                | JitType::U
                | JitType::Obj
                | JitType::ByRef
                | JitType::Ptr
        )
    };
    let mut cands: SmallVec<[(u32, bool, usize); 16]> = SmallVec::new();
    for (k, c) in lc.iter().enumerate() {
        if *c >= 2 && !local_taken[k] && eligible(&m.locals[k]) {
            cands.push((*c, true, k));
        }
    }
    for (k, c) in ac.iter().enumerate() {
        if *c >= 2 && !arg_taken[k] && eligible(&m.args[k]) {
            cands.push((*c, false, k));
        }
    }
    cands.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(&b.2)));
    // Which locals may be read before a store: the scalar ones for zeroing
    // (`init_locals::must_zero`), every one when some will want to share.
    let short = cands.len() > isa::x64::regs::CALLEE_SAVED.len() + extra.len();
    init_locals::read_before_store(&m.locals, local_taken, false, instrs, !short, read_early);
    let mut saved = isa::x64::regs::CALLEE_SAVED.iter().copied();
    let mut extra = extra.iter().copied();
    // Registers handed out: the kind of variable they hold and the locals
    // in them (`None`: an argument's, never shared).
    type Given = (masm::Gpr, u8, Option<SmallVec<[u16; 4]>>);
    let mut given: SmallVec<[Given; 8]> = SmallVec::new();
    let mut ranges: Option<SmallVec<[(u32, u32); 16]>> = None;
    for (_, is_local, k) in cands {
        let ty = if is_local { &m.locals[k] } else { &m.args[k] };
        let kind = match ty {
            JitType::Obj => 1u8,
            JitType::ByRef => 2,
            _ => 0,
        };
        let reg = match is_local && kind == 0 {
            true => extra.next().or_else(|| saved.next()),
            false => saved.next(),
        };
        if let Some(reg) = reg {
            given.push((reg, kind, is_local.then(|| smallvec::smallvec![k as u16])));
            match is_local {
                true => lr[k] = Some(reg),
                false => ar[k] = Some(reg),
            }
            continue;
        }
        if !is_local {
            continue;
        }
        let r = ranges.get_or_insert_with(|| live_ranges(m, instrs, loops, read_early));
        let (lo, hi) = r[k];
        let apart = |ls: &[u16]| {
            ls.iter().all(|&j| {
                let (a, b) = r[j as usize];
                hi < a || b < lo
            })
        };
        let fits = |g: &Given| g.1 == kind && g.2.as_deref().is_some_and(apart);
        if let Some(g) = given.iter_mut().find(|g| fits(g)) {
            if let Some(ls) = g.2.as_mut() {
                ls.push(k as u16);
            }
            lr[k] = Some(g.0);
        }
    }
}

/// [`live_range`] of every local (`read_early` covering every local).
fn live_ranges(
    m: &MethodInput<'_>,
    instrs: &[decoder::Instr],
    loops: &[(u32, u32)],
    read_early: &[bool],
) -> SmallVec<[(u32, u32); 16]> {
    let mut r: SmallVec<[(u32, u32); 16]> = smallvec::smallvec![(u32::MAX, 0); m.locals.len()];
    for i in instrs {
        let Some((n, _)) = init_locals::access(i) else {
            continue;
        };
        if let Some(x) = r.get_mut(n as usize) {
            *x = (x.0.min(i.offset), x.1.max(i.offset));
        }
    }
    for (k, x) in r.iter_mut().enumerate() {
        *x = live_range(*x, read_early[k], loops);
    }
    r
}

/// The IL range over which a local may hold a value still to be read, from
/// `(first, last)`, the offsets of its first and last access: from the
/// first (the entry when it may be read before any store, `read_early`) to
/// the last, widened to the whole of every loop it meets,
/// until no loop meets it only in part.
///
/// Why this holds whatever the control flow: a value stored at offset `d`
/// and loaded at `u` travels along a path from `d` to `u`; to leave the
/// range and come back, that path must take a backward branch from above
/// the range, or to below it, and the loop that branch closes meets the
/// range, so the range contains it. `loops` must hold every backward branch
/// (`br`, conditional branches, `switch` targets); methods with exception
/// clauses, whose handlers are entered from anywhere, get no registers.
fn live_range((mut lo, mut hi): (u32, u32), read_early: bool, loops: &[(u32, u32)]) -> (u32, u32) {
    if read_early {
        lo = 0;
    }
    if lo > hi {
        return (0, 0);
    }
    loop {
        let mut changed = false;
        for &(h, e) in loops {
            if h <= hi && lo <= e && (h < lo || e > hi) {
                lo = lo.min(h);
                hi = hi.max(e);
                changed = true;
            }
        }
        if !changed {
            return (lo, hi);
        }
    }
}

/// Whether a method may keep variables in caller-saved registers: it has no
/// exception clauses and no instruction that compiles to a call that returns
/// (calls, allocations, type checks, static fields and their class
/// initialisation, string and token loads, array stores with a type check).
/// What this scan cannot see (a helper some other instruction needs on some
/// operand types) makes the code generator refuse the leaf compile at its
/// safepoint, and the method is compiled again without (`compile_decoded`).
fn leaf_candidate(m: &MethodInput<'_>, instrs: &[decoder::Instr]) -> bool {
    m.eh.is_empty()
        && !instrs.iter().any(|i| {
            matches!(
                i.opcode,
                op::CALL
                    | op::CALLVIRT
                    | op::CALLI
                    | op::JMP
                    | op::NEWOBJ
                    | op::NEWARR
                    | op::BOX
                    | op::UNBOX
                    | op::UNBOX_ANY
                    | op::CASTCLASS
                    | op::ISINST
                    | op::LDSFLD
                    | op::LDSFLDA
                    | op::STSFLD
                    | op::LDSTR
                    | op::LDTOKEN
                    | op::LDFTN
                    | op::LDVIRTFTN
                    | op::LOCALLOC
                    | op::MKREFANY
                    | op::STELEM_REF
                    | op::STELEM
            )
        })
}

/// Compiles one method.
pub fn compile<H: JitHost>(host: &mut H, m: &MethodInput<'_>) -> Result<CompiledMethod, JitError> {
    compile_with(&mut Scratch::default(), host, m)
}

/// `compile` on buffers kept in `scratch` from earlier compiles (a runtime
/// keeps one and passes it to every compile: see `scratch`).
pub fn compile_with<H: JitHost>(
    scratch: &mut Scratch,
    host: &mut H,
    m: &MethodInput<'_>,
) -> Result<CompiledMethod, JitError> {
    let wrap = |il_offset: u32, kind: JitErrorKind| JitError {
        method: m.name.into(),
        il_offset,
        kind,
    };
    let mut instrs = core::mem::take(&mut scratch.instrs); // decode_into empties it
    decoder::decode_into(m.il, &mut instrs, &mut scratch.starts)
        .map_err(|e| wrap(e.offset(), JitErrorKind::Decode(e)))?;
    let leaf = leaf_candidate(m, &instrs);
    let mut out = compile_decoded(scratch, host, m, &instrs, &wrap, leaf);
    if leaf && out.is_err() {
        // The leaf compile met a call after all (or anything else went
        // wrong): the ordinary compile gives the code, or the real error.
        out = compile_decoded(scratch, host, m, &instrs, &wrap, false);
    }
    scratch.instrs = instrs;
    out
}

/// Each loop head once, with the IL offset of the last backward branch to
/// it and the slots its loop keeps known not null from the ways into its
/// range (`codegen::nonnull`): every argument and local that no instruction
/// in `[head, end]` stores, unless a branch from beyond `end` enters the
/// range (then none). More than 64 backward branches: none kept (the
/// matching is per loop).
fn loop_heads(
    instrs: &[decoder::Instr],
    loops: &[(u32, u32)],
) -> SmallVec<[(u32, u32, NonNull); 8]> {
    if loops.len() > 64 {
        return loops.iter().map(|&(h, e)| (h, e, NonNull::NONE)).collect();
    }
    let mut heads: SmallVec<[(u32, u32, NonNull); 8]> = SmallVec::new();
    for &(h, e) in loops {
        match heads.iter_mut().find(|x| x.0 == h) {
            Some(x) => x.1 = x.1.max(e),
            None => heads.push((h, e, NonNull::NONE)),
        }
    }
    if heads.is_empty() {
        return heads;
    }
    // One pass for the stores (argument?, slot bit) and branches (source,
    // target) the loops are then matched against.
    let mut stores: SmallVec<[(u32, bool, u64); 16]> = SmallVec::new();
    let mut branches: SmallVec<[(u32, u32); 16]> = SmallVec::new();
    for i in instrs {
        if let Some((n, _)) = stloc_target(i) {
            stores.push((i.offset, false, NonNull::slot_bit(n)));
        }
        match (i.opcode, &i.operand) {
            (op::STARG_S | op::STARG, Operand::Int(n)) => {
                let bit = u16::try_from(*n).map_or(0, NonNull::slot_bit);
                stores.push((i.offset, true, bit));
            }
            (_, Operand::Target(t)) => branches.push((i.offset, *t)),
            (_, Operand::Switch(ts)) => branches.extend(ts.iter().map(|&t| (i.offset, t))),
            _ => {}
        }
    }
    for x in heads.iter_mut() {
        let (h, e) = (x.0, x.1);
        if branches
            .iter()
            .any(|&(from, t)| from > e && t > h && t <= e)
        {
            continue;
        }
        let (mut args, mut locals) = (0u64, 0u64);
        for &(_, arg, bit) in stores.iter().filter(|s| (h..=e).contains(&s.0)) {
            match arg {
                true => args |= bit,
                false => locals |= bit,
            }
        }
        x.2 = NonNull::unstored(args, locals);
    }
    heads
}

/// The local an `stloc` stores, with the instruction's IL offset.
fn stloc_target(i: &decoder::Instr) -> Option<(u16, u32)> {
    let n = match (i.opcode, &i.operand) {
        (op::STLOC_0..=op::STLOC_3, _) => i.opcode - op::STLOC_0,
        (op::STLOC_S | op::STLOC, Operand::Int(n)) => u16::try_from(*n).ok()?,
        _ => return None,
    };
    Some((n, i.offset))
}

/// Whether `i` is a `br` to a `ret`, compiled as that `ret` itself: the
/// value returned then goes straight to the return register instead of
/// through the join point's stack slot (`c ? a : b` returned, as `mcs`
/// compiles it, stored and reloaded the result on every call). Only in
/// methods without exception clauses, where no region boundary can lie
/// between the two.
fn returns_in_place(m: &MethodInput<'_>, instrs: &[decoder::Instr], i: &decoder::Instr) -> bool {
    let (op::BR | op::BR_S, Operand::Target(t)) = (i.opcode, &i.operand) else {
        return false;
    };
    m.eh.is_empty()
        && instrs
            .binary_search_by_key(t, |x| x.offset)
            .is_ok_and(|k| instrs[k].opcode == op::RET)
}

fn compile_decoded<H: JitHost>(
    scratch: &mut Scratch,
    host: &mut H,
    m: &MethodInput<'_>,
    instrs: &[decoder::Instr],
    wrap: &dyn Fn(u32, JitErrorKind) -> JitError,
    leaf: bool,
) -> Result<CompiledMethod, JitError> {
    // A method with handlers gets hidden locals (one exception slot per
    // clause) and keeps every local in its frame: see `codegen::exceptions`.
    let with_slots;
    let m = if m.eh.is_empty() {
        m
    } else {
        codegen::exceptions::validate(m, instrs).map_err(|(il, k)| wrap(il, k))?;
        with_slots = codegen::exceptions::with_exception_slots(m);
        &with_slots
    };
    // Pre-scan: branch targets and address-taken locals/arguments.
    let mut targets = masm::reuse(&mut scratch.targets, 0);
    let bufs = &mut scratch.codegen;
    let mut local_taken = Recycled::filled(&mut bufs.local_taken, m.locals.len(), false);
    let mut arg_taken = Recycled::filled(&mut bufs.arg_taken, m.args.len(), false);
    // Loops as IL ranges [head, backward branch]: their heads are targets
    // branched to from at or after them (`codegen::nonnull`), the ranges
    // weigh uses (`assign_registers`).
    let mut loops: SmallVec<[(u32, u32); 8]> = SmallVec::new();
    for i in instrs {
        match &i.operand {
            // A `br` to a `ret` returns in place (below): no join point.
            Operand::Target(_) if returns_in_place(m, instrs, i) => {}
            Operand::Target(t) => {
                targets.push(*t);
                if *t <= i.offset {
                    loops.push((*t, i.offset));
                }
            }
            Operand::Switch(ts) => {
                targets.extend_from_slice(ts);
                loops.extend(
                    ts.iter()
                        .filter(|&&t| t <= i.offset)
                        .map(|&t| (t, i.offset)),
                );
            }
            _ => {}
        }
        if let Operand::Int(n) = i.operand {
            match i.opcode {
                op::LDLOCA_S | op::LDLOCA => {
                    if let Some(x) = local_taken.get_mut(n as usize) {
                        *x = true;
                    }
                }
                op::LDARGA_S | op::LDARGA => {
                    if let Some(x) = arg_taken.get_mut(n as usize) {
                        *x = true;
                    }
                }
                _ => {}
            }
        }
    }
    for c in &m.eh {
        targets.extend_from_slice(&[c.try_start, c.handler_start]);
        if let EhKind::Filter(f) = c.kind {
            targets.push(f);
        }
    }
    targets.sort_unstable();
    targets.dedup();
    let bufs = &mut scratch.codegen;
    let mut local_regs = Recycled::filled(&mut bufs.local_regs, m.locals.len(), None);
    let mut arg_regs = Recycled::filled(&mut bufs.arg_regs, m.args.len(), None);
    // A leaf method's variables may also live in r8 and r9 (and r10 unless it
    // carries a generic context there: `Abi::CONTEXT`, stored by the prologue
    // after the locals are zeroed). Nothing but calls writes them: they are
    // argument registers, never fixed scratch registers of an instruction.
    let leaf_regs: &[masm::Gpr] = match (leaf, host.context_local()) {
        (false, _) => &[],
        (true, None) => &isa::x64::regs::LEAF_EXTRA,
        (true, Some(_)) => &isa::x64::regs::LEAF_EXTRA[..2],
    };
    let mut read_early = core::mem::take(&mut scratch.codegen.read_early);
    // With handlers, every local counts as read early (zeroed, no registers).
    read_early.clear();
    read_early.resize(m.locals.len(), true);
    if m.eh.is_empty() {
        assign_registers(
            m,
            instrs,
            (&local_taken, &arg_taken),
            (&mut local_regs, &mut arg_regs),
            leaf_regs,
            &loops,
            &mut read_early,
        );
    }
    let leaf_used = local_regs.iter().flatten().any(|r| leaf_regs.contains(r));
    if let Some(n) = host.context_local() {
        // Kept in the frame (stored once by the prologue, read by lookups).
        if let Some(r) = local_regs.get_mut(n as usize) {
            *r = None;
        }
    }
    let mut zero = core::mem::take(&mut scratch.codegen.zero_locals);
    init_locals::must_zero(&m.locals, &read_early, &mut zero);
    scratch.codegen.zero_locals = zero;
    scratch.codegen.read_early = read_early;
    let masm = X64Masm::with_buffers(&mut scratch.code, m.il.len());
    let mut g = CodeGen::new(
        host,
        masm,
        &mut scratch.codegen,
        m,
        &targets,
        local_taken,
        arg_taken,
        local_regs,
        arg_regs,
    );
    scratch.targets = targets;
    g.leaf = leaf_used;
    for (head, end, keep) in loop_heads(instrs, &loops) {
        g.mark_loop_head(head, end, keep);
    }
    g.emit_entry().map_err(|k| wrap(0, k))?;
    let mut prefix = 0u16;
    for (k, i) in instrs.iter().enumerate() {
        let after = core::mem::replace(&mut prefix, i.opcode);
        g.next_op = instrs.get(k + 1).map(|n| n.opcode);
        g.next_stloc = instrs.get(k + 1).and_then(stloc_target);
        let live = g
            .begin_instruction(i.offset)
            .map_err(|k| wrap(i.offset, k))?;
        if !live {
            continue;
        }
        g.at_end = i.next as usize == m.il.len();
        g.readonly_prefix = after == op::READONLY;
        if returns_in_place(m, instrs, i) {
            g.ret().map_err(|k| wrap(i.offset, k))?;
            continue;
        }
        visitor::visit(&mut g, i).map_err(|k| wrap(i.offset, k))?;
    }
    let end = m.il.len() as u32;
    let (masm, frame, sites, marks, eh, gc) =
        g.finish(&mut scratch.codegen).map_err(|k| wrap(end, k))?;
    let saved_regs = codegen::gcmap::saved_mask::<isa::x64::abi::X64Abi>(&frame.saved);
    let frame_size = frame.frame_size;
    let asm = masm
        .finish_recycling(&frame, &mut scratch.code)
        .map_err(|k| wrap(end, k))?;
    let mut call_sites = masm::reuse(&mut scratch.call_sites, sites.len());
    call_sites.extend(sites.iter().map(|(mk, kind, target)| CallSite {
        offset: asm.mark_offsets[*mk] + 2,
        kind: *kind,
        target: *target,
    }));
    let il_map = marks
        .iter()
        .map(|(il, mk)| (*il, asm.mark_offsets[*mk]))
        .collect();
    let eh = eh.resolve(&asm.mark_offsets);
    let stack_maps = gc.resolve(
        &asm.mark_offsets,
        saved_regs,
        (&mut scratch.codegen.gc_sites, &mut scratch.codegen.gc_slots),
    );
    // Handed back as they are: the next compile empties what it takes.
    scratch.codegen.call_sites = sites;
    scratch.codegen.il_marks = marks;
    scratch.code.mark_offsets = asm.mark_offsets;
    Ok(CompiledMethod {
        code: asm.code,
        call_sites,
        il_map,
        frame_size,
        eh,
        stack_maps,
    })
}
