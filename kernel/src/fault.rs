//! Reporting CPU exceptions and panics: one block on the serial console, a
//! frame-pointer backtrace, then the FAIL verdict (SDM vol. 3A §6.15 lists the
//! vectors).
//!
//! Block format (xtask greps it):
//! ```text
//! !!! EXCEPTION 0x0E #PF Page Fault
//!     error code: 0x0000000000000002
//!     CR2: 0x0000000000000000            (page faults only)
//!     cause: read of a not-present page (null guard)   (page faults only)
//!     RIP: 0x…  RSP: 0x…  RFLAGS: 0x…
//!     RAX: 0x… RBX: 0x… RCX: 0x… RDX: 0x…
//!     RSI: 0x… RDI: 0x… RBP: 0x… RSP: 0x…
//!     R8:  0x… R9:  0x… R10: 0x… R11: 0x…
//!     R12: 0x… R13: 0x… R14: 0x… R15: 0x…
//!     backtrace:
//!       #0 0x…
//! ```

use core::sync::atomic::{AtomicU32, Ordering};

use crate::arch::x86_64::cpu;
use crate::arch::x86_64::idt::ExceptionFrame;
use crate::exceptions;
use crate::mem::paging;

static DEPTH: AtomicU32 = AtomicU32::new(0);

/// Reports a CPU exception and ends the run with FAIL.
pub fn report_exception(f: &ExceptionFrame) -> ! {
    let cr2 = cpu::cr2();
    if DEPTH.fetch_add(1, Ordering::SeqCst) > 0 {
        // A fault while reporting: print the bare minimum and leave.
        // SAFETY: the interrupted reporter never resumes.
        unsafe { crate::serial::force_unlock() };
        crate::rawln!(
            "!!! nested EXCEPTION 0x{:02X} at RIP 0x{:016x}",
            f.vector,
            f.rip
        );
        crate::exit::fail(format_args!(
            "nested exception {}",
            exceptions::mnemonic(f.vector)
        ));
    }
    // SAFETY: single CPU with interrupts off: whoever held the console lock was
    // interrupted by this fault and never resumes.
    unsafe { crate::serial::force_unlock() };
    let (mn, name) = exceptions::name(f.vector);
    crate::rawln!("!!! EXCEPTION 0x{:02X} {} {}", f.vector, mn, name);
    crate::rawln!("    error code: 0x{:016x}", f.error_code);
    if f.vector == 14 {
        crate::rawln!("    CR2: 0x{:016x}", cr2);
        crate::rawln!(
            "    cause: {}",
            exceptions::page_fault_cause(f.error_code, cr2)
        );
    }
    crate::rawln!(
        "    RIP: 0x{:016x}  RSP: 0x{:016x}  RFLAGS: 0x{:016x}",
        f.rip,
        f.rsp,
        f.rflags
    );
    crate::rawln!(
        "    RAX: 0x{:016x} RBX: 0x{:016x} RCX: 0x{:016x} RDX: 0x{:016x}",
        f.rax,
        f.rbx,
        f.rcx,
        f.rdx
    );
    crate::rawln!(
        "    RSI: 0x{:016x} RDI: 0x{:016x} RBP: 0x{:016x} RSP: 0x{:016x}",
        f.rsi,
        f.rdi,
        f.rbp,
        f.rsp
    );
    crate::rawln!(
        "    R8:  0x{:016x} R9:  0x{:016x} R10: 0x{:016x} R11: 0x{:016x}",
        f.r8,
        f.r9,
        f.r10,
        f.r11
    );
    crate::rawln!(
        "    R12: 0x{:016x} R13: 0x{:016x} R14: 0x{:016x} R15: 0x{:016x}",
        f.r12,
        f.r13,
        f.r14,
        f.r15
    );
    print_backtrace(Some(f.rip), f.rbp);
    if f.vector == 14 {
        crate::exit::fail(format_args!(
            "exception {} {} at RIP 0x{:x} (CR2 0x{:x})",
            mn, name, f.rip, cr2
        ))
    }
    crate::exit::fail(format_args!(
        "exception {} {} at RIP 0x{:x}",
        mn, name, f.rip
    ))
}

/// Prints `backtrace:` and `#n 0x…` lines: `first` (the faulting RIP), then the
/// return addresses found by walking saved frame pointers from `rbp`. The walk
/// stops at a null, misaligned, non-canonical or unmapped frame pointer, at a
/// frame that does not move up the stack, or after 32 frames.
pub fn print_backtrace(first: Option<u64>, mut rbp: u64) {
    crate::rawln!("    backtrace:");
    let mut depth = 0;
    if let Some(rip) = first {
        crate::rawln!("      #0 0x{:016x}", rip);
        depth = 1;
    }
    while depth < 32 {
        if rbp == 0 || !rbp.is_multiple_of(8) {
            break;
        }
        if paging::translate(rbp).is_none() || paging::translate(rbp + 8).is_none() {
            break;
        }
        // SAFETY: both words were just checked to be mapped and aligned.
        let (next, ret) = unsafe { ((rbp as *const u64).read(), ((rbp + 8) as *const u64).read()) };
        if ret == 0 {
            break;
        }
        crate::rawln!("      #{} 0x{:016x}", depth, ret);
        depth += 1;
        if next <= rbp {
            break;
        }
        rbp = next;
    }
}

/// The panic path: `panicked at FILE:LINE:COL: MESSAGE`, a backtrace, FAIL.
pub fn report_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    cpu::cli();
    if DEPTH.fetch_add(1, Ordering::SeqCst) > 0 {
        // SAFETY: the interrupted reporter never resumes.
        unsafe { crate::serial::force_unlock() };
        crate::exit::fail(format_args!("panic while reporting a fault"));
    }
    // SAFETY: single CPU; the panicking code never resumes.
    unsafe { crate::serial::force_unlock() };
    match info.location() {
        Some(l) => crate::rawln!(
            "panicked at {}:{}:{}: {}",
            l.file(),
            l.line(),
            l.column(),
            info.message()
        ),
        None => crate::rawln!("panicked at <unknown>: {}", info.message()),
    }
    print_backtrace(None, cpu::frame_pointer());
    crate::exit::fail(format_args!("panic: {}", info.message()))
}
