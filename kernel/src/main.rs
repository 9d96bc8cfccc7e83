//! The kernel binary: PVH entry → console → CPU tables → boot info → command
//! line → memory → the selected run (see `runs/`). Boot contract with the
//! xtask runner: the first serial line is `kernel: booting`, the last is
//! `kernel: verdict PASS` or `kernel: verdict FAIL: <reason>`, and QEMU exits
//! with 33 (pass) or 35 (fail) through isa-debug-exit.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

extern crate alloc;

mod arch;
mod block_registry;
mod bootinfo;
use kernel_logic::cmdline;
mod drivers;
mod exceptions;
mod exit;
mod fault;
mod irq;
mod lineedit;
mod managed;
mod mem;
mod pci;
mod platform;
mod rtc;
mod runs;
mod serial;
mod time;

use arch::x86_64::{cpu, gdt, idt};
use log::info;

/// Entered from the PVH trampoline with the physical address of
/// `hvm_start_info` (the boot `ebx`), on the boot stack, interrupts off.
#[unsafe(no_mangle)]
extern "C" fn kernel_entry(start_info: u32) -> ! {
    time::mark_boot();
    serial::init();
    rawln!("kernel: booting");
    cpu::enable_sse();
    cpu::mask_legacy_pics();
    gdt::init();
    idt::init(on_exception);
    // Before `mem::init` builds tables with bit 63 (NX) set; the boot
    // identity map sets none, so NXE can go on while it is live. WP makes
    // read-only mappings bind ring 0 (W^X, see mem/paging.rs).
    cpu::enable_nx();
    cpu::enable_write_protect();
    serial::init_logger(log::LevelFilter::Info);
    let hz = time::calibrate();

    let boot = match bootinfo::parse(u64::from(start_info), mem::paging::phys_to_virt) {
        Ok(b) => b,
        Err(e) => exit::fail(format_args!("boot: {e}")),
    };
    let cfg = match cmdline::parse(boot.cmdline()) {
        Ok(c) => c,
        Err(e) => {
            log::error!("{e}");
            exit::fail(format_args!("{e}"))
        }
    };
    log::set_max_level(cfg.log);
    info!(
        "kernel: TSC {} MHz (calibrated against PIT channel 2)",
        hz / 1_000_000
    );
    let heap = match mem::init(boot) {
        Ok(h) => h,
        Err(e) => exit::fail(format_args!("memory: {e}")),
    };
    info!(
        "kernel: memory up: direct map at 0x{:x}, heap {} MiB",
        mem::paging::PHYS_OFFSET,
        heap >> 20
    );
    runs::dispatch(&cfg)
}

/// The CPU exception policy: a fault inside a managed driver's guarded call
/// resumes the guard's recovery point (`managed::recover`); anything else is
/// reported and stops the kernel. Kept here, at the root, so that `arch`
/// (which calls it) needs neither `fault` nor `managed`.
fn on_exception(frame: &mut idt::ExceptionFrame) {
    if managed::recover(frame) {
        return;
    }
    fault::report_exception(frame)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    fault::report_panic(info)
}
