//! Small CPU primitives: port I/O, TSC, control registers, MSRs, SSE enable,
//! the no-execute and write-protect switches, halting (Intel SDM vol. 3A §2.5
//! control registers, §2.2.1 EFER, §4.1.1 paging modes and control bits, §13.1
//! enabling SSE).

use core::arch::asm;

/// Writes a byte to an I/O port.
///
/// # Safety
/// The port write must not break memory safety (e.g. reprogram a DMA engine).
#[inline]
pub unsafe fn outb(port: u16, value: u8) {
    // SAFETY: the caller vouches for the side effects of this port.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    }
}

/// Reads a byte from an I/O port.
///
/// # Safety
/// See [`outb`]; reads can have side effects too.
#[inline]
pub unsafe fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: the caller vouches for the side effects of this port.
    unsafe {
        asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    v
}

/// Writes a 16-bit word to an I/O port.
///
/// # Safety
/// See [`outb`].
#[inline]
pub unsafe fn outw(port: u16, value: u16) {
    // SAFETY: the caller vouches for the side effects of this port.
    unsafe {
        asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags))
    }
}

/// Reads a 16-bit word from an I/O port.
///
/// # Safety
/// See [`outb`].
#[inline]
pub unsafe fn inw(port: u16) -> u16 {
    let v: u16;
    // SAFETY: the caller vouches for the side effects of this port.
    unsafe {
        asm!("in ax, dx", out("ax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    v
}

/// Writes a 32-bit word to an I/O port.
///
/// # Safety
/// See [`outb`].
#[inline]
pub unsafe fn outl(port: u16, value: u32) {
    // SAFETY: the caller vouches for the side effects of this port.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags))
    }
}

/// Reads a 32-bit word from an I/O port.
///
/// # Safety
/// See [`outb`].
#[inline]
pub unsafe fn inl(port: u16) -> u32 {
    let v: u32;
    // SAFETY: the caller vouches for the side effects of this port.
    unsafe {
        asm!("in eax, dx", out("eax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    v
}

/// Reads the time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    let lo: u32;
    let hi: u32;
    // SAFETY: RDTSC has no memory effects; CR4.TSD is clear in ring 0 anyway.
    unsafe { asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// CR2: the linear address of the last page fault.
#[inline]
pub fn cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// CR3: physical address of the active PML4 (flags masked off).
#[inline]
pub fn cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v & 0x000f_ffff_ffff_f000
}

/// Loads CR3, switching address space and flushing non-global TLB entries.
///
/// # Safety
/// `pml4_phys` must be a valid PML4 that maps the running code, stack and all
/// data the kernel touches afterwards.
#[inline]
pub unsafe fn write_cr3(pml4_phys: u64) {
    // SAFETY: the caller guarantees the new tables keep the kernel mapped.
    unsafe { asm!("mov cr3, {}", in(reg) pml4_phys, options(nostack, preserves_flags)) }
}

/// Invalidates one TLB entry.
#[inline]
pub fn invlpg(addr: u64) {
    // SAFETY: dropping a TLB entry is always safe; it is refetched from the tables.
    unsafe { asm!("invlpg [{}]", in(reg) addr, options(nostack, preserves_flags)) }
}

/// Current frame pointer (RBP), for backtraces.
#[inline(always)]
pub fn frame_pointer() -> u64 {
    let v: u64;
    // SAFETY: reading a register has no side effects.
    unsafe { asm!("mov {}, rbp", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// Enables SSE/SSE2 for code that uses it (JIT output): CR0.EM=0, CR0.MP=1,
/// CR4.OSFXSR=1, CR4.OSXMMEXCPT=1 (SDM vol. 3A §13.1.3), then a clean FPU state.
pub fn enable_sse() {
    // SAFETY: only the FPU/SSE control bits change; the kernel itself is
    // soft-float so nothing depends on the previous values.
    unsafe {
        asm!(
            "mov {t}, cr0",
            "and {t}, ~(1 << 2)",
            "or {t}, (1 << 1)",
            "mov cr0, {t}",
            "mov {t}, cr4",
            "or {t}, (3 << 9)",
            "mov cr4, {t}",
            "fninit",
            t = out(reg) _,
            options(nostack)
        )
    }
}

/// IA32_EFER (SDM vol. 3A §2.2.1, vol. 4 MSR index 0xC000_0080).
const IA32_EFER: u32 = 0xc000_0080;
/// EFER.NXE, bit 11: makes bit 63 of paging entries mean "execute disable";
/// without it that bit is reserved and setting it raises #PF with RSVD=1
/// (SDM vol. 3A §4.5, §4.6).
const EFER_NXE: u64 = 1 << 11;

/// Reads a model-specific register.
///
/// # Safety
/// `msr` must exist on this CPU (RDMSR of an unknown index raises #GP).
#[inline]
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: the caller guarantees the MSR exists; RDMSR has no memory effects.
    unsafe {
        asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Writes a model-specific register.
///
/// # Safety
/// `msr` must exist and `value` must be valid for it; MSRs can change how the
/// CPU translates and executes everything, so the caller vouches for the effect.
#[inline]
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: the caller vouches for the MSR and the value's effect.
    unsafe {
        asm!(
            "wrmsr",
            in("ecx") msr,
            in("eax") value as u32,
            in("edx") (value >> 32) as u32,
            options(nostack, preserves_flags)
        )
    }
}

/// CPUID leaf `leaf`, subleaf 0: `(eax, ebx, ecx, edx)`.
#[inline]
pub fn cpuid(leaf: u32) -> (u32, u32, u32, u32) {
    // The intrinsic saves RBX (which LLVM reserves) around CPUID.
    let r = core::arch::x86_64::__cpuid_count(leaf, 0);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// Switches EFER.NXE on if the CPU has the XD/NX feature (CPUID
/// 0x8000_0001:EDX bit 20, SDM vol. 2A CPUID). Must run before any paging
/// entry sets bit 63; the boot identity map sets none, so calling it while
/// that map is live is fine. Returns whether no-execute is now in force.
pub fn enable_nx() -> bool {
    let (max_ext, _, _, _) = cpuid(0x8000_0000);
    if max_ext < 0x8000_0001 || cpuid(0x8000_0001).3 & (1 << 20) == 0 {
        return false;
    }
    // SAFETY: EFER exists on every CPU in long mode (LME lives in it); setting
    // NXE only gives bit 63 of paging entries a meaning, and no live entry
    // has that bit set yet.
    unsafe { wrmsr(IA32_EFER, rdmsr(IA32_EFER) | EFER_NXE) };
    nx_enabled()
}

/// True if EFER.NXE is set (bit 63 of paging entries means execute-disable).
pub fn nx_enabled() -> bool {
    // SAFETY: EFER exists in long mode; reading it has no side effects.
    unsafe { rdmsr(IA32_EFER) & EFER_NXE != 0 }
}

/// Sets CR0.WP (bit 16). With WP clear, ring 0 may write to read-only pages
/// (SDM vol. 3A §2.5, §4.6.1), so neither read-only `.text` nor the read-only
/// JIT code window would stop a kernel write.
pub fn enable_write_protect() {
    // SAFETY: setting WP only makes writes to read-only pages fault; every
    // mapping the kernel writes through is mapped writable.
    unsafe {
        asm!(
            "mov {t}, cr0",
            "or {t}, (1 << 16)",
            "mov cr0, {t}",
            t = out(reg) _,
            options(nostack)
        )
    }
}

/// True if CR0.WP is set.
pub fn write_protect_enabled() -> bool {
    let v: u64;
    // SAFETY: reading CR0 has no side effects.
    unsafe { asm!("mov {}, cr0", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v & (1 << 16) != 0
}

/// Serializes instruction execution (CPUID is serializing, SDM vol. 3A §8.3
/// "Serializing Instructions"): after code was written through another linear
/// address (the JIT's RW alias), no stale prefetched bytes may be executed
/// (SDM vol. 3A §8.1.3 "Handling Self- and Cross-Modifying Code").
#[inline]
pub fn serialize() {
    let _ = cpuid(0);
}

/// Masks every line of both 8259 PICs. The kernel runs with interrupts off,
/// but the PICs' power-on vectors (8..15) overlap CPU exceptions, so an
/// accidental `sti` must not turn a timer tick into a "double fault".
pub fn mask_legacy_pics() {
    // SAFETY: writing the interrupt mask registers (OCW1) of the master and
    // slave PIC only blocks IRQ delivery.
    unsafe {
        outb(0x21, 0xff);
        outb(0xa1, 0xff);
    }
}

/// Disables interrupts.
#[inline]
pub fn cli() {
    // SAFETY: masking interrupts cannot break memory safety.
    unsafe { asm!("cli", options(nomem, nostack)) }
}

/// Halts until an interrupt with interrupts enabled for exactly that window:
/// `sti` delays recognition by one instruction, so an interrupt already
/// pending (or arriving after the caller's check, made with interrupts off)
/// wakes the `hlt` instead of being lost (SDM vol. 2B "STI"). Interrupts
/// are off again on return.
#[inline]
pub fn sti_hlt_cli() {
    // SAFETY: the interrupt handlers (`apic.rs`) save what they clobber and
    // touch only atomics; interrupts are off again before returning.
    unsafe { asm!("sti", "hlt", "cli", options(nomem, nostack)) }
}

/// Stops the CPU for good: interrupts off, `hlt` forever.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: with interrupts off `hlt` just parks the CPU.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) }
    }
}

/// Spins forever with interrupts off without halting (the `fault-hang` run:
/// only an external timeout ends it).
pub fn spin_forever() -> ! {
    cli();
    loop {
        core::hint::spin_loop();
    }
}

/// Executes `ud2` (the `fault-ud` run).
pub fn ud2() -> ! {
    // SAFETY: raises #UD, which the IDT handles by reporting and exiting.
    unsafe { asm!("ud2", options(noreturn)) }
}
