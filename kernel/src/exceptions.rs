//! What a CPU exception is, in words: vector mnemonics and names (SDM vol.
//! 3A §6.15) and the cause of a page fault from its error code (§4.7). Used by
//! the kernel's fault report (`fault.rs`) and by the managed runtime's driver
//! fault reports (`managed.rs`); it names only `arch` and `mem`, so neither
//! user has to reach into the other.

use crate::arch::x86_64::boot;
use crate::mem::code;

const NAMES: [(&str, &str); 32] = [
    ("#DE", "Divide Error"),
    ("#DB", "Debug"),
    ("NMI", "Non-Maskable Interrupt"),
    ("#BP", "Breakpoint"),
    ("#OF", "Overflow"),
    ("#BR", "BOUND Range Exceeded"),
    ("#UD", "Invalid Opcode"),
    ("#NM", "Device Not Available"),
    ("#DF", "Double Fault"),
    ("#CSO", "Coprocessor Segment Overrun"),
    ("#TS", "Invalid TSS"),
    ("#NP", "Segment Not Present"),
    ("#SS", "Stack-Segment Fault"),
    ("#GP", "General Protection"),
    ("#PF", "Page Fault"),
    ("#15", "Reserved"),
    ("#MF", "x87 Floating-Point Error"),
    ("#AC", "Alignment Check"),
    ("#MC", "Machine Check"),
    ("#XM", "SIMD Floating-Point"),
    ("#VE", "Virtualization Exception"),
    ("#CP", "Control Protection"),
    ("#22", "Reserved"),
    ("#23", "Reserved"),
    ("#24", "Reserved"),
    ("#25", "Reserved"),
    ("#26", "Reserved"),
    ("#27", "Reserved"),
    ("#HV", "Hypervisor Injection"),
    ("#VC", "VMM Communication"),
    ("#SX", "Security Exception"),
    ("#31", "Reserved"),
];

/// Mnemonic and name of exception `vector` (e.g. `#PF`, `Page Fault`).
pub fn name(vector: u64) -> (&'static str, &'static str) {
    NAMES
        .get(vector as usize)
        .copied()
        .unwrap_or(("#??", "Unknown"))
}

/// Mnemonic of exception `vector` (e.g. `#PF`).
pub fn mnemonic(vector: u64) -> &'static str {
    NAMES.get(vector as usize).map_or("#??", |n| n.0)
}

/// #PF error-code bits (SDM vol. 3A §4.7, Figure 4-12).
mod pf {
    /// 0: the page was not present; 1: a protection violation.
    pub const P: u64 = 1 << 0;
    /// 1: the access was a write.
    pub const W: u64 = 1 << 1;
    /// 1: the access was made in user mode (CPL 3).
    pub const U: u64 = 1 << 2;
    /// 1: a reserved bit was set in a paging-structure entry.
    pub const RSVD: u64 = 1 << 3;
    /// 1: the access was an instruction fetch.
    pub const ID: u64 = 1 << 4;
    /// 1: protection-key violation.
    pub const PK: u64 = 1 << 5;
    /// 1: shadow-stack access.
    pub const SS: u64 = 1 << 6;
}

/// One-line explanation of a page fault from its error code (SDM vol. 3A
/// §4.7) and the faulting address, naming the guard or protection that
/// caught it: the null guard (CR2 below 4096), the boot stack's guard page,
/// the JIT code window (never writable: W^X), NX on data.
pub fn page_fault_cause(error_code: u64, cr2: u64) -> &'static str {
    use pf::*;
    let present = error_code & P != 0;
    let null = cr2 < 4096;
    let stack_guard = cr2 & !0xfff == boot::stack_guard_page();
    let jit = code::contains(cr2);
    if error_code & RSVD != 0 {
        return "reserved bit set in a paging-structure entry (corrupt page tables, or NX used without EFER.NXE)";
    }
    if error_code & PK != 0 {
        return "protection-key violation";
    }
    if error_code & SS != 0 {
        return "shadow-stack access violation";
    }
    if error_code & U != 0 {
        return if present {
            "user-mode access to a supervisor page"
        } else {
            "user-mode access to a not-present page"
        };
    }
    match (error_code & ID != 0, error_code & W != 0, present) {
        (true, _, true) if jit => "instruction fetch refused inside the JIT code window",
        (true, _, true) => "instruction fetch from a non-executable page (NX)",
        (true, _, false) if null => {
            "instruction fetch from a not-present page (null guard: call through a null pointer)"
        }
        (true, _, false) => "instruction fetch from a not-present page",
        (false, true, true) if jit => {
            "write to a present read-only page (JIT code is never writable: W^X)"
        }
        (false, true, true) if is_kernel_text(cr2) => {
            "write to a present read-only page (kernel .text: W^X)"
        }
        (false, true, true) => "write to a present read-only page",
        (false, true, false) if null => "write to a not-present page (null guard)",
        (false, true, false) if stack_guard => {
            "write to a not-present page (boot stack guard page: stack overflow)"
        }
        (false, true, false) => "write to a not-present page",
        // A supervisor read of a present page faults only for SMAP or a
        // protection key (SDM vol. 3A §4.6); neither is enabled here.
        (false, false, true) => "read of a present page refused (SMAP?)",
        (false, false, false) if null => "read of a not-present page (null guard)",
        (false, false, false) if stack_guard => {
            "read of a not-present page (boot stack guard page: stack overflow)"
        }
        (false, false, false) => "read of a not-present page",
    }
}

fn is_kernel_text(addr: u64) -> bool {
    let (start, end) = boot::image_sections().text;
    (start..end).contains(&addr)
}
