//! Ending the run: one verdict line, then QEMU's `isa-debug-exit` device at
//! port 0xf4 (QEMU exits with `(value << 1) | 1`: 0x10 → 33 = PASS,
//! 0x11 → 35 = FAIL). If the write returns (no such device), the CPU parks in
//! `cli; hlt` and the runner's timeout ends it.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::x86_64::cpu::{halt_forever, outl};

const DEBUG_EXIT_PORT: u16 = 0xf4;
const CODE_PASS: u32 = 0x10;
const CODE_FAIL: u32 = 0x11;

static VERDICT_GIVEN: AtomicBool = AtomicBool::new(false);

fn leave(code: u32) -> ! {
    // SAFETY: isa-debug-exit terminates QEMU; on real hardware 0xf4 is unused.
    unsafe { outl(DEBUG_EXIT_PORT, code) };
    halt_forever()
}

/// Prints `kernel: verdict PASS` and exits QEMU with the success code.
pub fn pass() -> ! {
    crate::irq::log_summary();
    crate::managed::log_heap_summary();
    if !VERDICT_GIVEN.swap(true, Ordering::SeqCst) {
        crate::rawln!("kernel: verdict PASS");
    }
    leave(CODE_PASS)
}

/// Prints `kernel: verdict FAIL: <reason>` and exits with the failure code.
pub fn fail(reason: fmt::Arguments<'_>) -> ! {
    crate::irq::log_summary();
    crate::managed::log_heap_summary();
    if !VERDICT_GIVEN.swap(true, Ordering::SeqCst) {
        crate::rawln!("kernel: verdict FAIL: {}", reason);
    }
    leave(CODE_FAIL)
}
