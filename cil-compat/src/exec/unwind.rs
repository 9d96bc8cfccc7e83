//! Exception dispatch for JIT code (ECMA-335 §I.12.4.2): two passes over the
//! chain of JIT frames, as CoreCLR does. The first pass walks from the
//! throwing frame outwards and finds the handler, running filters on the way;
//! the second runs every `finally` and `fault` handler between the throw and
//! that handler, innermost first, then resumes in the catch handler with the
//! stack cut back to its method's fixed frame.
//!
//! Unwind information is the JIT's own: every JIT frame is rbp-based
//! (`[rbp]` = the caller's rbp, `[rbp+8]` = the return address, see
//! `jit::isa::x64::abi`), the engine's code map turns a return address into
//! (method, IL offset), and each compiled method carries its region table
//! (`jit::EhRegion`) and frame size. How handlers are entered is
//! `jit::codegen::exceptions`'s protocol; the four entry points below are
//! plain assembly, so this works the same in the kernel (`no_std`) and on the
//! host: no host unwinder, no landing pads.
//!
//! The walk stops at the first return address that is not JIT code (the
//! native caller that entered managed code, e.g. a guarded call): an
//! exception that gets that far is unhandled and becomes a runtime failure
//! (`Engine::on_fail`: a driver fault under hosting), with the throw point
//! as its location, exactly as runtime errors were reported before managed
//! code could catch them.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::arch::global_asm;
use core::fmt::Write;

use jit::host::FailCode;
use jit::{EhKind, EhRegion};

use super::{active, fail, Engine, Failure};
use crate::heap::OBJ_MT_OFFSET;
use crate::metadata::sig::Prim;
pub(crate) use crate::metadata::tables::Token;
use crate::types::{MethodId, MethodTable, TypeId};

global_asm!(
    r#"
    .text
    .balign 16
// JIT code calls these as `fn(a: u64, method: u64, il: u32) -> !` (throw:
// the exception; rethrow: the exception; fail: a FailCode). rbp is still the
// calling method's frame and [rsp] its return address: both go to dispatch.
    .global cil_eh_throw
cil_eh_throw:
    xor r9d, r9d
    jmp 2f
    .global cil_eh_rethrow
cil_eh_rethrow:
    mov r9d, 1
    jmp 2f
    .global cil_eh_fail
cil_eh_fail:
    mov r9d, 2
2:
    mov rcx, rbp
    mov r8, [rsp]
    jmp {dispatch}

    .balign 16
// u64 cil_eh_call(code /*rdi*/, frame rbp /*rsi*/, exception /*rdx*/):
// runs a filter, finally or fault block of the method whose frame is at
// rbp, on this stack; returns what the block leaves in rax.
    .global cil_eh_call
cil_eh_call:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    // entry rsp = 8 mod 16; six pushes keep it; 8 more make the call aligned.
    sub rsp, 8
    mov rax, rdx
    mov rbp, rsi
    call rdi
    add rsp, 8
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

    .balign 16
// u64 cil_catching_call(code /*rdi*/): calls `code`, a static void() method,
// on this stack, behind a boundary a managed exception cannot pass: returns
// 0 when the method returns; when an exception no handler inside it takes
// reaches the boundary, dispatch resumes at cil_catching_landing with rbp
// this frame's and the exception in rax, which is returned (`raise`).
    .global cil_catching_call
cil_catching_call:
    push rbp
    mov rbp, rsp
    push rbx
    push r12
    push r13
    push r14
    push r15
    // entry rsp = 8 mod 16; six pushes make it 0 mod 16 again after the sub.
    sub rsp, 8
    call rdi
    .global cil_catching_ret
cil_catching_ret:
    xor eax, eax
    .global cil_catching_landing
cil_catching_landing:
    lea rsp, [rbp - 40]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

    .balign 16
// noreturn cil_eh_resume(code /*rdi*/, rbp /*rsi*/, rsp /*rdx*/, exception /*rcx*/)
    .global cil_eh_resume
cil_eh_resume:
    mov rbp, rsi
    mov rsp, rdx
    mov rax, rcx
    cld
    jmp rdi
"#,
    dispatch = sym dispatch
);

unsafe extern "C" {
    fn cil_eh_throw();
    fn cil_eh_rethrow();
    fn cil_eh_fail();
    fn cil_eh_call(code: u64, rbp: u64, exception: u64) -> u64;
    fn cil_eh_resume(code: u64, rbp: u64, rsp: u64, exception: u64) -> !;
    fn cil_catching_call(code: u64) -> u64;
    fn cil_catching_ret();
    fn cil_catching_landing();
}

/// Calls the static `void()` method compiled at `code` behind a catch-all
/// boundary: 0 when it returns, else the exception that left it unhandled
/// (its `finally` and `fault` handlers have run). Unlike a plain call from
/// Rust, where such an exception ends as a runtime failure (`raise`).
///
/// # Safety
/// `code` is compiled code of the active engine taking no arguments and
/// returning nothing.
pub(crate) unsafe fn call_catching(code: u64) -> u64 {
    // SAFETY: the caller's contract; the assembly saves and restores every
    // callee-saved register whichever way it returns.
    unsafe { cil_catching_call(code) }
}

/// If the outermost JIT frame of `frames` was called by `cil_catching_call`,
/// that boundary's frame pointer.
fn catching_boundary(frames: &[Frame]) -> Option<u64> {
    let last = frames.last()?;
    // SAFETY: `last.rbp` is the frame pointer of a live JIT frame (`walk`):
    // its first two words are the caller's rbp and the return address.
    let (caller_rbp, ret) = unsafe {
        (
            (last.rbp as *const u64).read(),
            ((last.rbp + 8) as *const u64).read(),
        )
    };
    (ret == cil_catching_ret as *const () as u64).then_some(caller_rbp)
}

/// A `System.TypeInitializationException` for type `t` wrapping `inner`
/// (its constructor run), or `None` if the corlib has none or it cannot be
/// made. `inner` lives on this stack meanwhile, which the collector scans
/// conservatively.
pub(crate) fn type_initialization_exception(e: &mut Engine, t: TypeId, inner: u64) -> Option<u64> {
    let inner = core::hint::black_box(inner);
    let tie = e.ts.find_type("System", "TypeInitializationException")?;
    e.ensure_vtable(tie).ok()?;
    let ctor = e.ts.info(tie).methods.iter().copied().find(|m| {
        let d = e.ts.method(*m);
        d.name == ".ctor" && d.sig.has_this && d.sig.params.len() == 2
    })?;
    let code = e.compile(ctor).ok()?;
    let name = e.ts.type_name(t);
    let name = core::hint::black_box(new_string(e, &name)?);
    let obj = e.alloc_with(|ts| ts.alloc_object(tie)).ok()? as u64;
    // SAFETY: compiled code of the instance constructor
    // `TypeInitializationException(string, Exception)`.
    let f: extern "C" fn(u64, u64, u64) = unsafe { core::mem::transmute(code as usize) };
    f(obj, name, inner);
    Some(obj)
}

/// Throws `exc` at the JIT code that called the helper running now, which
/// was entered through a transition (`exec::transitions`, as
/// `raise_out_of_memory` explains); returns if there is none.
pub(crate) fn raise_at_caller(e: &Engine, exc: u64) {
    let t = super::gc::transition_head();
    if t == 0 {
        return;
    }
    // SAFETY: `t` is the innermost live transition record, the one of the
    // trampoline that entered the running helper (the callers, the
    // allocation helpers and `helpers::class_init`, are all entered through
    // one): [t] the JIT frame's rbp, [t + 8] the return address into JIT
    // code, [t - 8] the previous record (`exec::stackroots`).
    let (rbp, ret, prev) = unsafe {
        (
            *(t as *const u64),
            *((t + 8) as *const u64),
            *((t - 8) as *const usize),
        )
    };
    // The call instruction itself (a return address may already be the
    // next IL instruction's first byte).
    let Some((method, _, il)) = e.locate(ret.wrapping_sub(1)) else {
        return;
    };
    // Dispatch abandons the helper's frames: unlink its record first.
    super::gc::set_transition_head(prev);
    raise(exc, method, il.unwrap_or(0), rbp, true)
}

/// Entry of the `Throw` helper.
pub fn throw_entry() -> u64 {
    cil_eh_throw as *const () as u64
}
/// Entry of the `Rethrow` helper.
pub fn rethrow_entry() -> u64 {
    cil_eh_rethrow as *const () as u64
}
/// Entry of the `Fail` helper.
pub fn fail_entry() -> u64 {
    cil_eh_fail as *const () as u64
}

/// The most frames one dispatch walks (deeper chains are treated as unhandled).
const MAX_FRAMES: usize = 4096;

/// One JIT frame on the chain.
#[derive(Clone, Copy, Debug)]
struct Frame {
    method: MethodId,
    /// IL offset of the instruction that was executing (the throw, or the call).
    il: u32,
    rbp: u64,
}

/// The chain of JIT frames from the throwing one outwards.
pub(crate) fn walk_from(
    e: &Engine,
    method: MethodId,
    il: u32,
    rbp: u64,
) -> Vec<(MethodId, u32, u64)> {
    walk(e, Frame { method, il, rbp })
        .into_iter()
        .map(|f| (f.method, f.il, f.rbp))
        .collect()
}

fn walk(e: &Engine, first: Frame) -> Vec<Frame> {
    let mut out = alloc::vec![first];
    let mut rbp = first.rbp;
    while out.len() < MAX_FRAMES {
        if rbp == 0 || !rbp.is_multiple_of(8) {
            break;
        }
        // SAFETY: rbp is the frame pointer of a live JIT frame (the first
        // comes from JIT code itself, each next one was checked to be called
        // from JIT code below), whose first two words are the saved rbp and
        // the return address.
        let (next, ret) = unsafe { ((rbp as *const u64).read(), ((rbp + 8) as *const u64).read()) };
        let Some((m, _, Some(il))) = e.locate(ret.wrapping_sub(1)) else {
            break;
        };
        if next <= rbp {
            break;
        }
        out.push(Frame {
            method: m,
            il,
            rbp: next,
        });
        rbp = next;
    }
    out
}

pub(crate) fn type_of_obj(obj: u64) -> TypeId {
    // SAFETY: obj is a live, non-null object: its MethodTable pointer is at
    // OBJ_MT_OFFSET, and MethodTables come from the loader.
    unsafe {
        let mt = *((obj as usize + OBJ_MT_OFFSET) as *const u64);
        TypeId((*(mt as *const MethodTable)).type_id)
    }
}

/// The failure kind an unhandled exception is reported as (the names runtime
/// errors had before managed code could catch them).
fn kind_of(e: &Engine, exc: u64) -> String {
    let name = e.ts.type_name(type_of_obj(exc));
    match name.as_str() {
        "System.NullReferenceException" => "null-reference".into(),
        "System.IndexOutOfRangeException" => "index-out-of-range".into(),
        "System.DivideByZeroException" => "divide-by-zero".into(),
        "System.OverflowException" => "overflow".into(),
        "System.InvalidCastException" => "invalid-cast".into(),
        "System.ArithmeticException" => "arithmetic".into(),
        "System.OutOfMemoryException" => "out-of-memory".into(),
        "System.ArrayTypeMismatchException" => "array-type-mismatch".into(),
        _ => format!("exception {name}"),
    }
}

/// The corlib exception type a runtime error raises.
fn exception_type(code: u32) -> &'static str {
    match FailCode::from_u32(code) {
        Some(FailCode::NullReference) => "NullReferenceException",
        Some(FailCode::IndexOutOfRange) => "IndexOutOfRangeException",
        Some(FailCode::DivideByZero) => "DivideByZeroException",
        // ckfinite: mono (and so our corpus) raise OverflowException.
        Some(FailCode::Overflow) | Some(FailCode::NotFinite) => "OverflowException",
        Some(FailCode::InvalidCast) => "InvalidCastException",
        Some(FailCode::ArrayTypeMismatch) => "ArrayTypeMismatchException",
        _ => "ArithmeticException",
    }
}

/// A new `System.<name>` made by its parameterless constructor, or `None`
/// when the corlib lacks it (then the error stays a plain runtime failure).
pub(crate) fn new_exception(name: &str) -> Option<u64> {
    // SAFETY: called from a helper JIT code of the active engine called.
    let e = unsafe { active() };
    let t = e.ts.find_type("System", name)?;
    e.ensure_vtable(t).ok()?;
    let ctor = e.ts.info(t).methods.iter().copied().find(|m| {
        let d = e.ts.method(*m);
        d.name == ".ctor" && d.sig.params.is_empty() && d.sig.has_this
    })?;
    let obj = e.alloc_with(|ts| ts.alloc_object(t)).ok()? as u64;
    let code = e.compile(ctor).ok()?;
    // SAFETY: compiled code of an instance constructor taking only `this`.
    let f: extern "C" fn(u64) = unsafe { core::mem::transmute(code as usize) };
    f(obj);
    Some(obj)
}

/// Throws `System.OutOfMemoryException` at the JIT code that called the
/// allocation helper running now, if the exception can be allocated (after a
/// failed large request there is usually room); returns if it cannot. The
/// helper was entered through a transition (`exec::transitions`), whose
/// record gives the JIT frame and return address; the record is unlinked
/// first, since dispatch abandons the helper's frames.
pub(crate) fn raise_out_of_memory(e: &Engine) {
    if super::gc::transition_head() == 0 {
        return;
    }
    let Some(exc) = new_exception("OutOfMemoryException") else {
        return;
    };
    raise_at_caller(e, exc)
}

/// A fresh (not interned) string object.
fn new_string(e: &mut Engine, s: &str) -> Option<u64> {
    let chars: Vec<u16> = s.encode_utf16().collect();
    let st = e.ts.prim(Prim::String).ok()?;
    e.ensure_vtable(st).ok()?;
    e.alloc_with(|ts| ts.alloc_string(&chars))
        .ok()
        .map(|o| o as u64)
}

/// Stores the managed stack trace (`Exception._stackTrace`), one
/// `   at Ns.Type::Method IL_xxxx` line per frame, innermost first.
fn set_stack_trace(e: &mut Engine, exc: u64, frames: &[Frame]) {
    let Some(ex) = e.ts.find_type("System", "Exception") else {
        return;
    };
    let Some(f) = e.ts.find_field(ex, "_stackTrace") else {
        return;
    };
    let off = e.ts.field_offset(f).0 as u64;
    let mut text = String::new();
    for (k, fr) in frames.iter().enumerate() {
        if k > 0 {
            text.push('\n');
        }
        let _ = write!(text, "   at {} IL_{:04x}", e.method_name(fr.method), fr.il);
    }
    if let Some(s) = new_string(e, &text) {
        // SAFETY: exc is a live System.Exception (or derived) object and
        // `off` the offset of its reference field `_stackTrace`.
        unsafe { *((exc + off) as *mut u64) = s };
    }
}

/// Kinds of dispatch entry (r9 in the assembly above; 0 is `throw`).
const RETHROW: u32 = 1;
const FAIL: u32 = 2;

/// Where a handler was found: frame index, clause index.
type Found = (usize, usize);

extern "C" fn dispatch(a: u64, method: u64, il: u32, rbp: u64, _ret: u64, kind: u32) -> ! {
    // SAFETY: entered from JIT code of the active engine (see the assembly).
    let e = unsafe { active() };
    let exc = match kind {
        FAIL => match new_exception(exception_type(a as u32)) {
            Some(x) => x,
            None => fail::die(e, fail::fail_kind(a as u32).into(), method, il),
        },
        _ if a == 0 => match new_exception("NullReferenceException") {
            Some(x) => x,
            None => fail::die(e, "null-reference".into(), method, il),
        },
        _ => a,
    };
    raise(exc, MethodId(method as u32), il, rbp, kind != RETHROW)
}

/// Dispatches `exc`, thrown by `method` at `il` in the frame at `rbp`.
/// `fresh`: record the stack trace (not for `rethrow`).
pub(crate) fn raise(exc: u64, method: MethodId, il: u32, rbp: u64, fresh: bool) -> ! {
    // SAFETY: called while JIT code of the active engine is stopped in a
    // helper (re-fetched after anything that ran managed code).
    let e = unsafe { active() };
    let frames = walk(e, Frame { method, il, rbp });
    if fresh {
        set_stack_trace(e, exc, &frames);
    }
    let Some((fi, ci)) = first_pass(exc, &frames) else {
        if let Some(boundary) = catching_boundary(&frames) {
            // Every finally and fault handler up to the boundary, then back
            // to it with the exception (`cil_catching_call`'s frame: rbp and
            // the five saved registers below it, then 8 bytes of padding).
            second_pass(&frames, frames.len() - 1, usize::MAX);
            // SAFETY: `boundary` is the live frame of `cil_catching_call`,
            // whose landing restores its registers from that frame and
            // returns to its Rust caller; every frame below is abandoned,
            // their finally handlers having run.
            unsafe {
                cil_eh_resume(
                    cil_catching_landing as *const () as u64,
                    boundary,
                    boundary - 48,
                    exc,
                )
            }
        }
        // SAFETY: as above.
        let e = unsafe { active() };
        let kind = kind_of(e, exc);
        (e.on_fail)(&Failure {
            kind,
            method: e.method_name(method),
            il_offset: il,
            rbp,
        })
    };
    second_pass(&frames, fi, ci);
    // SAFETY: as above.
    let e = unsafe { active() };
    let f = frames[fi];
    let Some((addr, frame_size, r)) = region(e, f.method, ci) else {
        fail::die(
            e,
            "internal: lost exception region".into(),
            method.0 as u64,
            il,
        )
    };
    // SAFETY: resumes the catch handler's entry per the JIT's protocol: rbp
    // is the live frame of its method (every frame below it is abandoned,
    // their finally handlers having run), rsp its fixed depth.
    unsafe {
        cil_eh_resume(
            addr + r.handler_native.0 as u64,
            f.rbp,
            f.rbp - frame_size as u64,
            exc,
        )
    }
}

/// Code address, frame size and clause `ci` of compiled method `m`.
fn region(e: &Engine, m: MethodId, ci: usize) -> Option<(u64, u32, EhRegion)> {
    let c = e.compiled(m)?;
    Some((c.addr, c.frame_size, *c.eh.get(ci)?))
}

fn regions(e: &Engine, m: MethodId) -> (u64, Vec<EhRegion>) {
    match e.compiled(m) {
        Some(c) if !c.eh.is_empty() => (c.addr, c.eh.clone()),
        _ => (0, Vec::new()),
    }
}

/// Pass 1: the first catch clause (by type, §I.12.4.2.5) or filter that
/// accepts `exc`, frame by frame outwards, clauses in table order.
fn first_pass(exc: u64, frames: &[Frame]) -> Option<Found> {
    for (fi, f) in frames.iter().enumerate() {
        // SAFETY: as in `dispatch` (re-fetched after each filter ran).
        let e = unsafe { active() };
        let (addr, eh) = regions(e, f.method);
        for (ci, r) in eh.iter().enumerate() {
            if !r.clause.try_contains(f.il) {
                continue;
            }
            match r.clause.kind {
                EhKind::Catch(tok) => {
                    // SAFETY: as above.
                    let e = unsafe { active() };
                    let Ok(t) = e.ts.resolve_type_in(f.method, Token(tok)) else {
                        continue;
                    };
                    if e.ts.is_assignable(type_of_obj(exc), t) {
                        return Some((fi, ci));
                    }
                }
                EhKind::Filter(_) => {
                    let entry = addr + r.filter_native.unwrap_or(0) as u64;
                    // SAFETY: a filter block of the live frame at f.rbp, per
                    // the JIT's protocol (called with the exception in rax).
                    if unsafe { cil_eh_call(entry, f.rbp, exc) } as u32 != 0 {
                        return Some((fi, ci));
                    }
                }
                EhKind::Finally | EhKind::Fault => {}
            }
        }
    }
    None
}

/// Pass 2: every finally and fault handler between the throw and the catch
/// (clause `ci` of frame `fi`), innermost first.
fn second_pass(frames: &[Frame], fi: usize, ci: usize) {
    for (k, f) in frames.iter().enumerate().take(fi + 1) {
        // SAFETY: as in `dispatch`.
        let e = unsafe { active() };
        let (addr, eh) = regions(e, f.method);
        for (j, r) in eh.iter().enumerate() {
            if k == fi && j >= ci {
                break;
            }
            if matches!(r.clause.kind, EhKind::Finally | EhKind::Fault)
                && r.clause.try_contains(f.il)
            {
                // SAFETY: a finally/fault block of the live frame at f.rbp,
                // per the JIT's protocol.
                unsafe { cil_eh_call(addr + r.handler_native.0 as u64, f.rbp, 0) };
            }
        }
    }
}
