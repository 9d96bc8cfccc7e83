//! Guarded calls into managed code: a recovery point the runtime and the
//! platform's fault handlers return to when a driver fails.
//!
//! Managed exceptions unwind only through JIT frames (`exec::unwind`); one
//! that reaches the native caller, or a CPU fault no managed handler takes,
//! must not take that caller down. [`call`] saves the caller's callee-saved registers, stack
//! pointer and return address (SysV AMD64 ABI §3.2.1: rbx, rbp, r12–r15 and rsp
//! are all a callee must preserve) in a [`Recovery`] record, then runs the
//! managed entry point. If the callee returns, so does [`call`]. If it fails,
//! whoever notices resumes the record instead of returning:
//! - a managed runtime error (`Engine::on_fail`) calls [`fail`], which jumps;
//! - a CPU exception in the kernel, or a signal on the host, asks
//!   [`trap`] for a [`ResumeAt`] and rewrites the interrupted context with it
//!   (`iretq` / `sigreturn` then land in `cil_guard_resume`).
//!
//! Either way execution continues after the `call` instruction of
//! [`call`]'s caller-side frame with the registers the caller had, and [`call`]
//! returns `Err` with what happened. Everything the managed code allocated
//! stays where it is (the heap never moves); what it owned on the device side
//! is released by [`super::resources`].
//!
//! Single CPU, no preemption: the chain of active recovery records is a plain
//! static. Records nest (a guarded call made while another runs); the
//! innermost one is resumed.

use alloc::boxed::Box;
use alloc::string::String;
use core::arch::global_asm;
use core::cell::UnsafeCell;

use super::report::FaultReport;
pub use super::trap::{CpuTrap, Trap};
use crate::exec::Failure;

/// Saved caller context; field order is fixed by the assembly below.
#[repr(C)]
#[derive(Debug, Default)]
pub struct Recovery {
    rbx: u64,
    rbp: u64,
    r12: u64,
    r13: u64,
    r14: u64,
    r15: u64,
    /// rsp as it is after `call` returns (the return address popped).
    rsp: u64,
    /// Where `call` returns to.
    rip: u64,
}

global_asm!(
    r#"
    .text
    .balign 16
    .global cil_guard_enter
// u128 cil_guard_enter(Recovery *rec /*rdi*/, u64 (*f)(u64) /*rsi*/, u64 arg /*rdx*/)
// returns (rax = f's result, rdx = 0), or (rax = 0, rdx = 1) when resumed.
cil_guard_enter:
    mov [rdi + 0], rbx
    mov [rdi + 8], rbp
    mov [rdi + 16], r12
    mov [rdi + 24], r13
    mov [rdi + 32], r14
    mov [rdi + 40], r15
    lea rax, [rsp + 8]
    mov [rdi + 48], rax
    mov rax, [rsp]
    mov [rdi + 56], rax
    // rsp is 8 mod 16 here; the callee must see it 16-aligned before its call.
    sub rsp, 8
    mov rdi, rdx
    call rsi
    add rsp, 8
    xor edx, edx
    ret

    .balign 16
    .global cil_guard_resume
// noreturn cil_guard_resume(const Recovery *rec /*rdi*/)
cil_guard_resume:
    mov rbx, [rdi + 0]
    mov rbp, [rdi + 8]
    mov r12, [rdi + 16]
    mov r13, [rdi + 24]
    mov r14, [rdi + 32]
    mov r15, [rdi + 40]
    mov rsp, [rdi + 48]
    cld
    xor eax, eax
    mov edx, 1
    jmp qword ptr [rdi + 56]
"#
);

unsafe extern "C" {
    fn cil_guard_enter(rec: *mut Recovery, f: extern "C" fn(u64) -> u64, arg: u64) -> u128;
    fn cil_guard_resume(rec: *const Recovery) -> !;
}

/// Where a rewritten context continues: set `rip`, `rsp` and `rdi` (first
/// argument) of the interrupted context to these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumeAt {
    pub rip: u64,
    pub rsp: u64,
    pub rdi: u64,
}

/// A guarded call that failed: what happened, and the report made while the
/// failed frames were still on the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    pub trap: Trap,
    pub report: FaultReport,
}

struct Frame {
    rec: Recovery,
    /// Who runs under this record (a [`super::resources`] instance id).
    instance: u32,
    /// Stack top of the guarded region: no managed frame lies above it.
    stack_top: u64,
    failed: Option<Failed>,
}

/// Records `trap` on `frame` with its report. Runs before the resume, while
/// the abandoned frames are still intact below the failure point.
///
/// # Safety
/// `frame` is the innermost live frame.
unsafe fn record(frame: *mut Frame, trap: Trap) {
    // SAFETY: JIT code is stopped (we are its failure path), so nothing uses
    // the engine meanwhile; `frame` is live (caller's contract).
    unsafe {
        let report = match crate::exec::try_active() {
            Some(e) => super::report::build(e, &trap, (*frame).stack_top),
            None => super::report::bare(&trap),
        };
        (*frame).failed = Some(Failed { trap, report });
    }
}

#[cfg(not(any(test, feature = "std")))]
struct Chain(UnsafeCell<alloc::vec::Vec<*mut Frame>>);

// SAFETY: single CPU and no preemption (see the module header); the chain is
// only touched by guarded calls and by fault handlers that interrupt them.
#[cfg(not(any(test, feature = "std")))]
unsafe impl Sync for Chain {}

#[cfg(not(any(test, feature = "std")))]
static CHAIN: Chain = Chain(UnsafeCell::new(alloc::vec::Vec::new()));

#[cfg(not(any(test, feature = "std")))]
fn chain() -> &'static mut alloc::vec::Vec<*mut Frame> {
    // SAFETY: see `Chain`: one context at a time touches it.
    unsafe { &mut *CHAIN.0.get() }
}

// On a host, each thread (a test, a cilrun child) has its own chain: a signal
// handler runs on the thread it interrupts.
#[cfg(any(test, feature = "std"))]
std::thread_local! {
    static CHAIN: UnsafeCell<alloc::vec::Vec<*mut Frame>> = const { UnsafeCell::new(alloc::vec::Vec::new()) };
}

#[cfg(any(test, feature = "std"))]
fn chain() -> &'static mut alloc::vec::Vec<*mut Frame> {
    // SAFETY: the cell lives as long as its thread and only that thread (or a
    // signal handler interrupting it, never concurrently) touches it.
    CHAIN.with(|c| unsafe { &mut *c.get() })
}

/// Whether a guarded call is running.
pub fn active() -> bool {
    !chain().is_empty()
}

/// The instance the innermost guarded call runs for, if any.
pub fn current_instance() -> Option<u32> {
    // SAFETY: frames in the chain live on the stacks of running `call`s.
    chain().last().map(|f| unsafe { (**f).instance })
}

/// Runs `f(arg)` under a recovery point for `instance`.
///
/// # Safety
/// `f` must be callable as SysV `extern "C" fn(u64) -> u64` (compiled managed
/// code with such a signature, or a Rust function). Code `f` runs must not
/// hold Rust locks or owned values whose destructors matter when it fails: a
/// failure abandons its frames without running drops.
pub unsafe fn call(
    instance: u32,
    f: extern "C" fn(u64) -> u64,
    arg: u64,
) -> Result<u64, Box<Failed>> {
    let mut frame = Frame {
        rec: Recovery::default(),
        instance,
        stack_top: 0,
        failed: None,
    };
    frame.stack_top = &frame as *const Frame as u64;
    let p: *mut Frame = &mut frame;
    chain().push(p);
    // A failure abandons frames without unwinding: restore the collector's
    // record of runtime transitions as it was (`exec::gc`).
    let transitions = crate::exec::gc::transition_head();
    // SAFETY: `p` points to our own live frame; `f` is callable (contract).
    // A resume restores exactly the registers the SysV ABI says survive a call.
    let r = unsafe { cil_guard_enter(&raw mut (*p).rec, f, arg) };
    crate::exec::gc::set_transition_head(transitions);
    // Pop our frame (and anything a failure abandoned above it).
    let c = chain();
    while let Some(top) = c.pop() {
        if top == p {
            break;
        }
    }
    if (r >> 64) as u64 == 0 {
        return Ok(r as u64);
    }
    // SAFETY: our frame; the failure path stored the failure before resuming.
    Err(Box::new(unsafe { (*p).failed.take() }.unwrap_or_else(
        || {
            let trap = Trap::Managed {
                failure: Failure {
                    kind: String::from("unknown"),
                    method: String::new(),
                    il_offset: 0,
                    rbp: 0,
                },
                rbp: 0,
                rsp: 0,
            };
            Failed {
                report: super::report::bare(&trap),
                trap,
            }
        },
    )))
}

/// Runs the closure `f` under a recovery point for `instance` (see [`call`]).
///
/// # Safety
/// As for [`call`]: what `f` runs must be safe to abandon midway.
pub unsafe fn run<F: FnOnce() -> u64>(instance: u32, f: F) -> Result<u64, Box<Failed>> {
    extern "C" fn trampoline<F: FnOnce() -> u64>(p: u64) -> u64 {
        // SAFETY: `p` is the `Option<F>` below, alive for the whole call.
        let slot = unsafe { &mut *(p as *mut Option<F>) };
        slot.take().map_or(0, |f| f())
    }
    let mut slot = Some(f);
    // SAFETY: the trampoline has the required signature; forwarded contract.
    unsafe {
        call(
            instance,
            trampoline::<F>,
            &mut slot as *mut Option<F> as u64,
        )
    }
}

/// Ends the innermost guarded call with `trap`; never returns. Returns
/// `false` (without jumping) when no guarded call is running.
pub fn fail(trap: Trap) -> bool {
    let Some(&top) = chain().last() else {
        return false;
    };
    // SAFETY: `top` is the live frame of a running `call`; resuming it
    // abandons every frame above it, which is what a failure means.
    unsafe {
        record(top, trap);
        cil_guard_resume(&raw const (*top).rec)
    }
}

/// For a CPU fault handler: records `t` on the innermost guarded call and says
/// where the interrupted context must continue (or, for a null-page fault a
/// managed handler may catch, where the NullReferenceException is raised). `None` when no guarded call is
/// running (the fault is the platform's own).
pub fn trap(t: CpuTrap) -> Option<ResumeAt> {
    let &top = chain().last()?;
    // A null-page fault in JIT code that a managed handler may catch is a
    // NullReferenceException thrown right there (see `exec::null_fault`).
    if let (14, Some(a)) = (t.vector, t.fault_address) {
        if let Some((rip, rsp, rdi)) = crate::exec::null_fault_resume(a, t.rip, t.rsp, t.rbp) {
            return Some(ResumeAt { rip, rsp, rdi });
        }
    }
    // SAFETY: as in `fail`; the handler resumes the record right after.
    unsafe {
        record(top, Trap::Cpu(t));
        Some(ResumeAt {
            rip: cil_guard_resume as *const () as u64,
            rsp: (*top).rec.rsp,
            rdi: &raw const (*top).rec as u64,
        })
    }
}

/// The caller's frame pointer (for stack walks that start in Rust code).
#[inline(always)]
pub fn frame_pointer() -> u64 {
    let rbp: u64;
    // SAFETY: reads a register, no memory access.
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags))
    };
    rbp
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> u64 {
    let rsp: u64;
    // SAFETY: reads a register, no memory access.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) rsp, options(nomem, nostack, preserves_flags))
    };
    rsp
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" fn add_one(x: u64) -> u64 {
        x + 1
    }

    extern "C" fn fails(x: u64) -> u64 {
        let t = Trap::Managed {
            failure: Failure {
                kind: String::from("test"),
                method: String::from("M"),
                il_offset: x as u32,
                rbp: 0,
            },
            rbp: 0,
            rsp: 0,
        };
        assert!(fail(t));
        unreachable!()
    }

    extern "C" fn nested(x: u64) -> u64 {
        // SAFETY: `fails` is a plain extern "C" fn(u64) -> u64.
        let inner = unsafe { call(2, fails, x) };
        assert!(matches!(
            inner.map_err(|f| f.trap),
            Err(Trap::Managed { .. })
        ));
        assert_eq!(current_instance(), Some(1));
        x * 10
    }

    #[test]
    fn returns_and_resumes_with_callee_saved_registers_intact() {
        // SAFETY: plain extern "C" fns.
        assert_eq!(unsafe { call(1, add_one, 41) }, Ok(42));
        let mut keep = [0u64; 4];
        for (i, k) in keep.iter_mut().enumerate() {
            *k = core::hint::black_box(i as u64 * 0x1111);
        }
        // SAFETY: as above.
        let r = unsafe { call(1, fails, 7) };
        match r.map_err(|f| f.trap) {
            Err(Trap::Managed { failure, .. }) => assert_eq!(failure.il_offset, 7),
            other => panic!("{other:?}"),
        }
        assert_eq!(keep, [0, 0x1111, 0x2222, 0x3333]);
        assert!(!active());
        // SAFETY: as above.
        assert_eq!(unsafe { call(1, nested, 3) }, Ok(30));
        assert!(!active());
        assert!(!fail(Trap::Cpu(CpuTrap {
            vector: 0,
            mnemonic: "#DE",
            error_code: 0,
            rip: 0,
            rsp: 0,
            rbp: 0,
            fault_address: None,
            cause: String::new(),
        })));
    }
}
