//! The runs selectable with `run=<name>` on the command line. Each ends the
//! kernel with a verdict (or, for `fault-hang`, never ends). [`dispatch`] is
//! the one entry; the storage runs are in `storage.rs`, the block benchmarks
//! `bench-blk` uses in `bench.rs`, the managed collector at boot in
//! `gc_stress.rs`; `hello` and the `fault-*` runs are here.

mod bench;
mod gc_stress;
mod storage;

use log::info;

use crate::arch::x86_64::cpu;
use crate::bootinfo;
use crate::mem::{frames, heap, paging};
use kernel_logic::cmdline::Config;

/// Every run name the kernel knows, for error messages and `help`.
pub const RUNS: &[&str] = &[
    "hello",
    "selftest",
    "copytree",
    "shell",
    "bench-blk",
    "swaptest",
    "workload",
    "workload-swap",
    "gc-stress",
    "fault-null",
    "fault-panic",
    "fault-hang",
    "fault-ud",
    "fault-stack",
    "fault-wx-write",
    "fault-nx-exec",
];

/// Executes the selected run. Unknown names fail with a clear message.
/// Every run but the `fault-*` ones and `gc-stress` (which must own the only
/// managed engine) first enumerates PCI and binds drivers.
pub fn dispatch(cfg: &Config<'_>) -> ! {
    if !RUNS.contains(&cfg.run) {
        log::error!("run: unknown run '{}' (known: {})", cfg.run, Joined(RUNS));
        crate::exit::fail(format_args!("unknown run '{}'", cfg.run))
    }
    if cfg.irq {
        crate::irq::enable();
    }
    if !cfg.run.starts_with("fault-") && cfg.run != "gc-stress" {
        let t0 = crate::time::now_us();
        let n = crate::pci::devices().len();
        let (bar_writes, decode_off) = crate::pci::sizing_writes();
        info!(
            "pci: {} functions found in {} us (config mechanism #1; BARs sized once: {} BAR-register writes, {} decode-off toggles)",
            n,
            crate::time::now_us() - t0,
            bar_writes,
            decode_off
        );
        match crate::drivers::bind_all(cfg.driver, cfg.restart) {
            Ok(bound) => info!(
                "drivers: {} virtio-blk device(s) bound (driver={}) at {} us since boot",
                bound,
                cfg.driver.as_str(),
                crate::time::now_us()
            ),
            Err(e) => {
                log::error!("drivers: {e}");
                crate::exit::fail(format_args!("{e}"))
            }
        }
    }
    match cfg.run {
        "hello" => hello(cfg),
        "selftest" => storage::selftest(),
        "copytree" => storage::copytree(),
        "shell" => storage::shell(),
        "bench-blk" => storage::bench_blk(),
        "swaptest" => storage::swaptest(),
        "workload" => storage::workload(false),
        "workload-swap" => storage::workload(true),
        "gc-stress" => gc_stress::run(),
        "fault-null" => fault_null(),
        "fault-panic" => panic!("deliberate panic"),
        "fault-hang" => {
            info!("run: fault-hang: spinning forever with interrupts off");
            cpu::spin_forever()
        }
        "fault-stack" => {
            info!("run: fault-stack: recursing into the boot stack's guard page");
            let depth = recurse(core::hint::black_box(0));
            crate::exit::fail(format_args!(
                "recursion returned at depth {depth} without faulting"
            ))
        }
        "fault-wx-write" => fault_wx_write(),
        "fault-nx-exec" => fault_nx_exec(),
        "fault-ud" => {
            info!("run: fault-ud: executing ud2");
            cpu::ud2()
        }
        other => {
            log::error!("run: unknown run '{}' (known: {})", other, Joined(RUNS));
            crate::exit::fail(format_args!("unknown run '{}'", other))
        }
    }
}

struct Joined<'a>(&'a [&'a str]);

impl core::fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}

fn hello(cfg: &Config<'_>) -> ! {
    let boot = bootinfo::get();
    info!("hello: command line: \"{}\"", boot.cmdline());
    info!("hello: driver={} run={}", cfg.driver.as_str(), cfg.run);
    info!("hello: memory map ({}):", boot.memmap_source);
    for r in boot.regions() {
        info!(
            "hello:   0x{:012x}-0x{:012x} {:>10} KiB {}",
            r.start,
            r.start + r.len,
            r.len / 1024,
            r.kind_name()
        );
    }
    let m = bootinfo::memory_summary(boot.regions());
    info!(
        "hello: memory: RAM {} KiB ({} MiB): usable {} KiB, firmware and ACPI {} KiB; \
         reserved address space that is not RAM (MMIO windows, holes) {} KiB",
        m.ram / 1024,
        m.ram >> 20,
        m.usable / 1024,
        (m.ram - m.usable) / 1024,
        m.not_ram / 1024
    );
    let (managed, allocated) = frames::stats();
    info!(
        "hello: frame allocator manages {} MiB, {} KiB allocated",
        managed >> 20,
        allocated / 1024
    );
    match (boot.module_range(), bootinfo::module()) {
        (Some((p, len)), Some(m)) => {
            let head = &m[..m.len().min(16)];
            info!(
                "hello: boot module at 0x{:x}, {} bytes, first bytes {:02x?}",
                p, len, head
            );
        }
        _ => info!("hello: no boot module"),
    }
    if boot.module_count > 1 {
        log::warn!(
            "hello: {} boot modules passed; only the first is used",
            boot.module_count
        );
    }
    info!("hello: ACPI RSDP at 0x{:x}", boot.rsdp);
    info!("hello: heap {} MiB", heap::size() >> 20);
    hpet_probe();
    match crate::rtc::now() {
        Some(t) => info!("hello: RTC {}", t),
        None => log::warn!("hello: RTC unreadable"),
    }
    let mut listing = alloc::string::String::new();
    let _ = crate::drivers::print_devices(&mut listing);
    let _ = crate::drivers::print_drivers(&mut listing);
    for line in listing.lines() {
        info!("hello: {}", line);
    }
    let v = alloc::vec![7u8; 1 << 20];
    let sum: u64 = v.iter().map(|&b| u64::from(b)).sum();
    if sum != 7 << 20 {
        crate::exit::fail(format_args!(
            "heap self-check: sum {} != {}",
            sum,
            7u64 << 20
        ));
    }
    info!("hello: heap self-check ok (1 MiB vector)");
    match crate::platform::self_check() {
        Ok(summary) => info!("hello: DDK platform self-check ok: {}", summary),
        Err(e) => crate::exit::fail(format_args!("DDK platform self-check: {e}")),
    }
    crate::exit::pass()
}

fn fault_null() -> ! {
    info!("run: fault-null: reading through a null pointer");
    let p: *const u64 = core::ptr::null();
    // SAFETY: deliberately unsound: page 0 is unmapped, so this read faults
    // and the #PF handler ends the run; the value is never used.
    let v = unsafe { core::ptr::read_volatile(p) };
    crate::exit::fail(format_args!(
        "null read returned 0x{:x} instead of faulting",
        v
    ))
}

/// `mov eax, 42; ret`: the smallest function that proves code ran.
const RETURN_42: [u8; 6] = [0xb8, 42, 0, 0, 0, 0xc3];

/// Installs [`RETURN_42`] in the JIT code window, calls it (the window
/// executes), then writes to it: W^X makes that a #PF.
fn fault_wx_write() -> ! {
    let addr = match crate::mem::code::install(&RETURN_42) {
        Ok(a) => a,
        Err(e) => crate::exit::fail(format_args!("code::install: {e}")),
    };
    // SAFETY: `addr` holds RETURN_42, a complete SysV function taking nothing,
    // touching only eax and returning with `ret`; the window maps it RX.
    let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(addr as *const u8) };
    let v = f();
    let (used, mapped) = crate::mem::code::stats();
    info!(
        "run: fault-wx-write: JIT code at 0x{:x} returned {} ({} bytes used, {} KiB mapped)",
        addr,
        v,
        used,
        mapped >> 10
    );
    if v != 42 {
        crate::exit::fail(format_args!("JIT code returned {v}, not 42"));
    }
    info!(
        "run: fault-wx-write: writing a byte to the JIT code at 0x{:x}",
        addr
    );
    // SAFETY: deliberately unsound: the window is mapped read-only, so this
    // write faults (W^X) and the #PF handler ends the run.
    unsafe { core::ptr::write_volatile(addr as *mut u8, 0xcc) };
    crate::exit::fail(format_args!(
        "write to JIT code at 0x{addr:x} succeeded: the code window is writable"
    ))
}

/// Copies [`RETURN_42`] into a heap buffer and calls it: the heap lives in
/// the NX direct map, so the fetch faults.
fn fault_nx_exec() -> ! {
    let buf = alloc::vec::Vec::from(RETURN_42);
    let addr = buf.as_ptr() as u64;
    info!(
        "run: fault-nx-exec: calling code copied to the heap at 0x{:x}",
        addr
    );
    // SAFETY: deliberately unsound: the heap is mapped NX, so the call's
    // instruction fetch faults and the #PF handler ends the run.
    let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(buf.as_ptr()) };
    let v = core::hint::black_box(f)();
    crate::exit::fail(format_args!(
        "heap code at 0x{addr:x} ran and returned {v}: the heap is executable"
    ))
}

/// Shows that `map_mmio` really enters an uncached mapping: maps the HPET
/// register block (q35 has one at 0xfed0_0000) and reads its capabilities.
fn hpet_probe() {
    const HPET: u64 = 0xfed0_0000;
    match paging::map_mmio(x86_64::PhysAddr::new(HPET), 0x400) {
        Ok(va) => {
            let va = va.as_u64();
            // SAFETY: `va` maps the HPET's 1 KiB register block uncached; the
            // capabilities register at offset 0 is read-only.
            let caps = unsafe { core::ptr::read_volatile(va as *const u64) };
            info!(
                "hello: MMIO map 0x{:x} -> 0x{:x} (uncached: {}), HPET caps 0x{:016x} vendor {:04x}",
                HPET,
                va,
                paging::is_uncached(va),
                caps,
                (caps >> 16) & 0xffff
            );
        }
        Err(e) => log::warn!("hello: map_mmio failed: {}", e),
    }
}

/// Unbounded recursion with a 1 KiB frame: runs into the unmapped guard page
/// below the boot stack. The #PF cannot push its frame there, so the CPU
/// raises #DF, which runs on its own IST stack and reports.
#[inline(never)]
fn recurse(n: u64) -> u64 {
    let mut pad = [0u8; 1024];
    core::hint::black_box(&mut pad);
    if n == u64::MAX {
        return n;
    }
    recurse(core::hint::black_box(n + 1)) + u64::from(pad[0])
}
