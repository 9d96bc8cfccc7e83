//! A CPU fault on the null page raised by JIT code becomes a managed
//! `NullReferenceException` (ECMA-335 §III.1.5 lists it for every access
//! through a null reference; the JIT null-checks object accesses itself, so
//! what lands here is a raw pointer into page 0, e.g. `*(int*)null`).
//!
//! The platform's fault handler (the kernel's #PF handler through
//! `hosting::guard::trap`, a host SIGSEGV handler) asks [`null_fault_resume`]
//! whether to redirect the interrupted context. It says yes only when a
//! handler may take the exception: a catch clause for NullReferenceException
//! or one of its bases, or a filter, on the chain of JIT frames. Otherwise
//! the fault is contained exactly as before (a CPU fault report), so an
//! uncaught fault looks the same as it always did. The redirected context
//! runs `cil_eh_fault` on the interrupted stack (below the faulting frame's
//! rsp), which dispatches the exception as if the faulting instruction had
//! thrown it.

use core::arch::global_asm;

use jit::EhKind;

use super::unwind::{self, Token};
use super::{active, try_active, Engine};
use crate::types::MethodId;

global_asm!(
    r#"
    .text
    .balign 16
// noreturn cil_eh_fault(faulting rip /*rdi*/); rbp is the faulting frame's.
    .global cil_eh_fault
cil_eh_fault:
    mov rsi, rbp
    jmp {raise}
"#,
    raise = sym raise_null_fault
);

unsafe extern "C" {
    fn cil_eh_fault();
}

/// Faults below this address are null dereferences (the unmapped page 0).
const NULL_PAGE: u64 = 4096;
/// Bytes left untouched below the interrupted rsp (more than any red zone).
const SKIP: u64 = 256;

/// For a page fault at `fault_address` with the interrupted `rip`, `rsp`
/// and `rbp`: `Some((rip, rsp, rdi))` to load into the interrupted context
/// when the fault should become a catchable NullReferenceException.
pub fn null_fault_resume(
    fault_address: u64,
    rip: u64,
    rsp: u64,
    rbp: u64,
) -> Option<(u64, u64, u64)> {
    if fault_address >= NULL_PAGE {
        return None;
    }
    // SAFETY: the faulting code is stopped; nothing else uses the engine.
    let e = unsafe { try_active() }?;
    let (m, _, Some(il)) = e.locate(rip)? else {
        return None;
    };
    if !may_catch_null_reference(m, il, rbp) {
        return None;
    }
    // A call-shaped stack: 16-aligned, then a (fake) return address slot.
    let new_rsp = ((rsp - SKIP) & !15) - 8;
    Some((cil_eh_fault as *const () as u64, new_rsp, rip))
}

/// Whether some frame on the chain has a filter, or a catch clause of
/// NullReferenceException or a base, whose protected block holds its IL.
fn may_catch_null_reference(m: MethodId, il: u32, rbp: u64) -> bool {
    // SAFETY: as in `null_fault_resume`; resolving a catch type may lay the
    // type out, which only touches the engine's own tables.
    let e: &mut Engine = unsafe { active() };
    let Some(nre) = e.ts.find_type("System", "NullReferenceException") else {
        return false;
    };
    for (method, il, _) in unwind::walk_from(e, m, il, rbp) {
        let Some(c) = e.compiled(method) else {
            continue;
        };
        let clauses: alloc::vec::Vec<_> = c.eh.iter().map(|r| r.clause).collect();
        for c in clauses {
            if !c.try_contains(il) {
                continue;
            }
            match c.kind {
                EhKind::Filter(_) => return true,
                EhKind::Catch(tok) => {
                    if let Ok(t) = e.ts.resolve_type_in(method, Token(tok)) {
                        if e.ts.is_assignable(nre, t) {
                            return true;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    false
}

extern "C" fn raise_null_fault(rip: u64, rbp: u64) -> ! {
    // SAFETY: entered through `cil_eh_fault` in place of the faulting JIT
    // instruction of the active engine.
    let e = unsafe { active() };
    let Some((m, _, Some(il))) = e.locate(rip) else {
        super::fail::die(e, "null-reference".into(), u64::MAX, 0)
    };
    let Some(exc) = unwind::new_exception("NullReferenceException") else {
        super::fail::die(e, "null-reference".into(), m.0 as u64, il)
    };
    unwind::raise(exc, m, il, rbp, true)
}
