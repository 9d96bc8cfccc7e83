//! Local APIC in xAPIC (MMIO) mode (SDM vol. 3A §10.4): software enable with
//! a spurious vector, EOI, and the one-shot timer the interrupt wait uses to
//! bound a `hlt` (§10.5.4), calibrated against the TSC. Stub entry points
//! for vectors 32..=255 live here too; they call the handler given to
//! [`init`] (the kernel's `irq::entry`). The caller maps the register page
//! and knows the TSC rate: `arch` reaches no module above it.
//! (QEMU 7.2's TCG has no x2APIC, hence MMIO.)

use core::arch::global_asm;
use core::sync::atomic::{AtomicU64, Ordering};

use super::cpu::{cpuid, rdmsr, rdtsc};

const IA32_APIC_BASE: u32 = 0x1b;
const REG_ID: u64 = 0x20;
const REG_TPR: u64 = 0x80;
const REG_EOI: u64 = 0xb0;
const REG_SVR: u64 = 0xf0;
const REG_LVT_TIMER: u64 = 0x320;
const REG_TIMER_INIT: u64 = 0x380;
const REG_TIMER_CUR: u64 = 0x390;
const REG_TIMER_DIV: u64 = 0x3e0;
const LVT_MASKED: u32 = 1 << 16;

/// Vector of the local APIC timer (wakes a bounded `hlt`).
pub const TIMER_VECTOR: u8 = 0x20;
/// Spurious-interrupt vector (needs no EOI, §10.9).
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// Virtual address of the register page; 0 until [`init`] succeeded.
static BASE: AtomicU64 = AtomicU64::new(0);
/// Timer counts per millisecond (divide by 16).
static TIMER_PER_MS: AtomicU64 = AtomicU64::new(0);

fn read(reg: u64) -> u32 {
    let b = BASE.load(Ordering::Relaxed);
    // SAFETY: `b` is the uncached mapping of the APIC page made by `init`;
    // every `reg` used is an architectural 32-bit register inside it.
    unsafe { ((b + reg) as *const u32).read_volatile() }
}

fn write(reg: u64, v: u32) {
    let b = BASE.load(Ordering::Relaxed);
    // SAFETY: as in `read`.
    unsafe { ((b + reg) as *mut u32).write_volatile(v) }
}

/// The handler of vectors 32..=255, set by [`init`].
static HANDLER: spin::Once<fn(u8)> = spin::Once::new();

/// Maps and software-enables the local APIC, masks its timer and calibrates
/// it against the TSC (`tsc_hz` ticks per second). `map_page` maps the
/// register page's physical address uncached and returns its virtual
/// address; `handler` runs for every interrupt vector 32..=255.
pub fn init(
    map_page: impl FnOnce(u64) -> Result<u64, &'static str>,
    tsc_hz: u64,
    handler: fn(u8),
) -> Result<(), &'static str> {
    if cpuid(1).3 & (1 << 9) == 0 {
        return Err("CPU has no local APIC");
    }
    // SAFETY: IA32_APIC_BASE exists on every CPU with an APIC (checked).
    let msr = unsafe { rdmsr(IA32_APIC_BASE) };
    if msr & (1 << 11) == 0 {
        return Err("local APIC disabled in IA32_APIC_BASE");
    }
    let phys = msr & 0x000f_ffff_f000;
    let virt = map_page(phys)?;
    HANDLER.call_once(|| handler);
    BASE.store(virt, Ordering::Relaxed);
    write(REG_TPR, 0);
    write(REG_SVR, 0x100 | u32::from(SPURIOUS_VECTOR));
    write(REG_LVT_TIMER, LVT_MASKED | u32::from(TIMER_VECTOR));
    write(REG_TIMER_DIV, 0b0011); // divide by 16
                                  // Count down from the top for ~2 ms of TSC time.
    let hz = tsc_hz.max(1);
    write(REG_TIMER_INIT, u32::MAX);
    let t0 = rdtsc();
    while rdtsc().wrapping_sub(t0) < hz / 500 {}
    let elapsed = u64::from(u32::MAX - read(REG_TIMER_CUR));
    write(REG_TIMER_INIT, 0);
    TIMER_PER_MS.store((elapsed / 2).max(1), Ordering::Relaxed);
    Ok(())
}

/// This CPU's APIC id (the MSI destination, §10.11.1).
pub fn id() -> u8 {
    (read(REG_ID) >> 24) as u8
}

/// Signals end of interrupt.
pub fn eoi() {
    write(REG_EOI, 0);
}

/// Fires [`TIMER_VECTOR`] once, about `ns` from now (at least one count).
pub fn arm_timer(ns: u64) {
    let per_ms = TIMER_PER_MS.load(Ordering::Relaxed);
    let count = (u128::from(ns) * u128::from(per_ms) / 1_000_000).clamp(1, u128::from(u32::MAX));
    write(REG_LVT_TIMER, u32::from(TIMER_VECTOR));
    write(REG_TIMER_INIT, count as u32);
}

/// Stops the timer.
pub fn disarm_timer() {
    write(REG_TIMER_INIT, 0);
    write(REG_LVT_TIMER, LVT_MASKED | u32::from(TIMER_VECTOR));
}

// Vectors 32..=255: push the vector, save the caller-saved registers and
// call `irq_entry(vector)`. Interrupts are only ever enabled inside
// `irq::wait`'s `sti; hlt`, so no SSE state or kernel lock is live here.
// On entry RSP ≡ 8 (mod 16) after the CPU's 5-qword frame; the vector and 9
// registers make it 0 again after `sub rsp, 8`.
global_asm!(
    r#"
    .section .text.irq, "ax"
irq_common:
    push rax
    push rcx
    push rdx
    push rsi
    push rdi
    push r8
    push r9
    push r10
    push r11
    mov rdi, [rsp + 72]
    sub rsp, 8
    cld
    call irq_entry
    add rsp, 8
    pop r11
    pop r10
    pop r9
    pop r8
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rax
    add rsp, 8
    iretq

    .altmacro
    .macro irq_stub v
irq_stub_\v:
    push \v
    jmp irq_common
    .endm
    .set i, 32
    .rept 224
    irq_stub %i
    .set i, i + 1
    .endr

    .macro irq_ref v
    .quad irq_stub_\v
    .endm
    .section .rodata.irq, "a"
    .balign 8
    .global irq_stub_table
irq_stub_table:
    .set i, 32
    .rept 224
    irq_ref %i
    .set i, i + 1
    .endr
    .noaltmacro
    "#
);

unsafe extern "C" {
    static irq_stub_table: [u64; 224];
}

/// Entry point of vector `v` (32..=255).
pub fn stub(v: u8) -> u64 {
    // SAFETY: immutable data emitted by the asm above.
    unsafe { irq_stub_table[usize::from(v) - 32] }
}

#[unsafe(no_mangle)]
extern "C" fn irq_entry(vector: u64) {
    // No handler yet means no vector can have been raised: interrupts come
    // only from sources routed after `init`.
    if let Some(handler) = HANDLER.get() {
        handler(vector as u8);
    }
}
