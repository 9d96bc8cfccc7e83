//! The host's equivalent of the kernel's exception path (`std` feature,
//! Linux x86-64): SIGSEGV, SIGBUS, SIGFPE and SIGILL raised while a guarded
//! call runs become contained failures, exactly as #PF, #GP, #DE and #UD do in
//! the kernel. The handler rewrites the interrupted context (`ucontext_t`)
//! so that `sigreturn` resumes the guarded call's recovery point.
//!
//! A signal outside any guarded call restores the default action and
//! returns, so the faulting instruction runs again and the process dies as
//! it would have without us.

use alloc::string::String;

use super::guard::{self, CpuTrap};

/// Installs the handlers (idempotent).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL] {
            // SAFETY: a plain sigaction with an SA_SIGINFO handler that only
            // touches the interrupted thread's own state.
            unsafe {
                let mut sa: libc::sigaction = core::mem::zeroed();
                sa.sa_sigaction = handler as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, core::ptr::null_mut());
            }
        }
    });
}

/// The kernel's vector for a signal (so reports read the same on both).
fn vector(sig: i32) -> (u8, &'static str) {
    match sig {
        libc::SIGFPE => (0, "#DE"),
        libc::SIGILL => (6, "#UD"),
        libc::SIGBUS => (13, "#GP"),
        _ => (14, "#PF"),
    }
}

extern "C" fn handler(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    if !guard::active() {
        // SAFETY: back to the default action; the instruction faults again.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
        return;
    }
    // SAFETY: the kernel passes a valid ucontext_t and siginfo_t to an
    // SA_SIGINFO handler; we only read and rewrite this thread's registers.
    unsafe {
        let uc = &mut *(ctx as *mut libc::ucontext_t);
        let g = &mut uc.uc_mcontext.gregs;
        let (v, mnemonic) = vector(sig);
        let addr = (*info).si_addr() as u64;
        let trap = CpuTrap {
            vector: v,
            mnemonic,
            error_code: g[libc::REG_ERR as usize] as u64,
            rip: g[libc::REG_RIP as usize] as u64,
            rsp: g[libc::REG_RSP as usize] as u64,
            rbp: g[libc::REG_RBP as usize] as u64,
            fault_address: matches!(sig, libc::SIGSEGV | libc::SIGBUS).then_some(addr),
            cause: String::from(match sig {
                libc::SIGSEGV if addr < 4096 => "access to the null page (SIGSEGV)",
                libc::SIGSEGV => "access to an unmapped or protected address (SIGSEGV)",
                libc::SIGBUS => "bus error (SIGBUS; a non-canonical address on x86-64)",
                libc::SIGFPE => "arithmetic fault (SIGFPE)",
                _ => "invalid instruction (SIGILL)",
            }),
        };
        if let Some(at) = guard::trap(trap) {
            g[libc::REG_RIP as usize] = at.rip as i64;
            g[libc::REG_RSP as usize] = at.rsp as i64;
            g[libc::REG_RDI as usize] = at.rdi as i64;
        }
    }
}
