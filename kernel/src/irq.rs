//! Device interrupts for the DDK's `irq_*` entries: MSI-X table programming
//! (PCI 3.0 §6.8.2) to a vector of the local APIC, per-vector arrival
//! counts, and the bounded halting wait (`sti; hlt` with the check made with
//! interrupts off, the local APIC timer bounding each halt). Also counts TSC
//! time spent halted, for the CPU-busy figure of `bench blk`.
//!
//! INTx goes through the IOAPIC (82093AA datasheet §3.2.4), level-triggered
//! and active-low; the handler masks the pin and the next wait unmasks it,
//! after the driver acknowledged the device (virtio ISR read). The GSI is
//! QEMU q35's fixed ICH9 routing for functions on bus 0: INT[A-D] of slot s
//! to PIRQ[E-H] `(s + pin) % 4 + 4`, PIRQ n to GSI 16 + n (QEMU
//! `ich9_cc_init`; firmware's interrupt line is an 8259 IRQ, of no use in
//! APIC mode). Other machines or buses are refused and the driver polls.
//!
//! `completion=poll` (the default) refuses `irq_setup` with `Unsupported`, so
//! drivers poll.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use ddk::abi::{DdkError, Width, IRQ_SOURCE_INTX};
use ddk::pci::{ConfigAccess, PciAddress};

use crate::arch::x86_64::{apic, cpu};

/// First vector handed to devices; [`SLOTS`] of them follow.
const FIRST_VECTOR: u8 = 0x30;
const SLOTS: usize = 32;
const MSIX_CAP: u8 = 0x11;

static ENABLED: AtomicBool = AtomicBool::new(false);
static COUNTS: [AtomicU32; SLOTS] = [const { AtomicU32::new(0) }; SLOTS];
static SPURIOUS: AtomicU64 = AtomicU64::new(0);
static DELIVERED: AtomicU64 = AtomicU64::new(0);
static WAITS: AtomicU64 = AtomicU64::new(0);
static TIMED_OUT: AtomicU64 = AtomicU64::new(0);
static HALTED_TICKS: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Copy)]
enum Slot {
    Msix {
        addr: PciAddress,
        cap: u16,
        /// Virtual address of the programmed MSI-X table entry.
        entry: u64,
    },
    Intx {
        gsi: u32,
    },
}

const IOAPIC_PHYS: u64 = 0xfec0_0000;
/// Virtual address of the IOAPIC's registers; 0 until first used.
static IOAPIC: AtomicU64 = AtomicU64::new(0);
/// GSI of each INTx slot (u32::MAX: none), read by the handler.
static INTX_GSI: [AtomicU32; SLOTS] = [const { AtomicU32::new(u32::MAX) }; SLOTS];

fn ioapic_write(reg: u32, v: u32) {
    let b = IOAPIC.load(Ordering::Relaxed);
    // SAFETY: `b` maps the IOAPIC's index (0x00) and window (0x10) registers
    // uncached (`ioapic_map`); interrupts are off, so no handler interleaves
    // an index/data pair with ours.
    unsafe {
        (b as *mut u32).write_volatile(reg);
        ((b + 0x10) as *mut u32).write_volatile(v);
    }
}

fn ioapic_read(reg: u32) -> u32 {
    let b = IOAPIC.load(Ordering::Relaxed);
    // SAFETY: as in `ioapic_write`.
    unsafe {
        (b as *mut u32).write_volatile(reg);
        ((b + 0x10) as *const u32).read_volatile()
    }
}

fn ioapic_map() -> Result<(), DdkError> {
    if IOAPIC.load(Ordering::Relaxed) == 0 {
        let v = crate::mem::paging::map_mmio(x86_64::PhysAddr::new(IOAPIC_PHYS), 0x20)
            .map_err(|_| DdkError::NoMemory)?;
        IOAPIC.store(v.as_u64(), Ordering::Relaxed);
    }
    Ok(())
}

fn ioapic_mask(gsi: u32, masked: bool) {
    let reg = 0x10 + 2 * gsi;
    let low = ioapic_read(reg);
    ioapic_write(
        reg,
        if masked {
            low | 1 << 16
        } else {
            low & !(1 << 16)
        },
    );
}

/// The GSI of `addr`'s INTx pin on QEMU q35, if this is q35 and bus 0.
fn q35_gsi(addr: PciAddress) -> Option<u32> {
    let host = crate::pci::device_info(PciAddress::new_truncate(0, 0, 0))?;
    if (host.vendor_id, host.device_id) != (0x8086, 0x29c0) || addr.bus() != 0 {
        return None;
    }
    let pin = crate::pci::device_info(addr)?.interrupt_pin;
    if !(1..=4).contains(&pin) {
        return None;
    }
    let pirq = (u32::from(addr.device()) + u32::from(pin) - 1) % 4 + 4;
    Some(16 + pirq)
}

fn setup_intx(addr: PciAddress) -> Result<u64, DdkError> {
    let Some(gsi) = q35_gsi(addr) else {
        log::info!(
            "irq: {addr}: INTx routing known only for q35 bus 0 functions; the driver polls"
        );
        return Err(DdkError::Unsupported);
    };
    ioapic_map()?;
    let entries = (ioapic_read(1) >> 16 & 0xff) + 1;
    if gsi >= entries {
        log::warn!("irq: {addr}: GSI {gsi} beyond the IOAPIC's {entries} pins; the driver polls");
        return Err(DdkError::Unsupported);
    }
    let mut slots = TABLE.lock();
    if slots
        .iter()
        .flatten()
        .any(|s| matches!(s, Slot::Intx { gsi: g } if *g == gsi))
    {
        log::info!("irq: {addr}: GSI {gsi} already taken by another function; the driver polls");
        return Err(DdkError::Unsupported);
    }
    let i = slots
        .iter()
        .position(|s| s.is_none())
        .ok_or(DdkError::NoMemory)?;
    let vector = u32::from(FIRST_VECTOR) + i as u32;
    COUNTS[i].store(0, Ordering::Relaxed);
    INTX_GSI[i].store(gsi, Ordering::Relaxed);
    // Destination this APIC (physical mode), fixed delivery, level, active low.
    ioapic_write(0x11 + 2 * gsi, u32::from(apic::id()) << 24);
    ioapic_write(0x10 + 2 * gsi, vector | 1 << 15 | 1 << 13);
    let c = cfg();
    let cmd = c.config_read(addr, 4, Width::U16)?;
    c.config_write(addr, 4, Width::U16, cmd & !0x400)?;
    slots[i] = Some(Slot::Intx { gsi });
    log::info!("irq: {addr} INTx (GSI {gsi}) -> vector 0x{vector:x}");
    Ok(i as u64 + 1)
}

static TABLE: spin::Mutex<[Option<Slot>; SLOTS]> = spin::Mutex::new([None; SLOTS]);

/// Switches interrupt completion on (`completion=irq`): brings up the local
/// APIC. On failure logs why and leaves drivers polling.
pub fn enable() {
    let map_page = |phys| {
        crate::mem::paging::map_mmio(x86_64::PhysAddr::new(phys), 0x1000)
            .map(|v| v.as_u64())
            .map_err(|_| "cannot map the local APIC page")
    };
    match apic::init(map_page, crate::time::tsc_hz(), entry) {
        Ok(()) => {
            ENABLED.store(true, Ordering::Relaxed);
            log::info!(
                "irq: local APIC {} up; drivers complete by interrupt",
                apic::id()
            );
        }
        Err(e) => log::warn!("irq: {e}; drivers poll"),
    }
}

/// True when `completion=irq` is in effect.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// TSC ticks spent halted in [`wait`] since boot.
pub fn halted_ticks() -> u64 {
    HALTED_TICKS.load(Ordering::Relaxed)
}

/// `(device interrupts delivered, waits, waits that timed out, spurious)`.
pub fn stats() -> (u64, u64, u64, u64) {
    (
        DELIVERED.load(Ordering::Relaxed),
        WAITS.load(Ordering::Relaxed),
        TIMED_OUT.load(Ordering::Relaxed),
        SPURIOUS.load(Ordering::Relaxed),
    )
}

/// Logs [`stats`] and the halted time (only under `completion=irq`).
pub fn log_summary() {
    if !enabled() {
        return;
    }
    let (delivered, waits, timed_out, spurious) = stats();
    log::info!(
        "irq: summary: {delivered} device interrupt(s), {waits} wait(s) ({timed_out} timed out), {spurious} spurious, {} ms halted",
        crate::time::ticks_to_ns(halted_ticks()) / 1_000_000
    );
}

/// Called from the vector stubs with interrupts off.
pub fn entry(vector: u8) {
    if vector == apic::SPURIOUS_VECTOR {
        SPURIOUS.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if let Some(i) = vector.checked_sub(FIRST_VECTOR).map(usize::from) {
        if i < SLOTS {
            // Level-triggered INTx stays asserted until the driver reads
            // the device's ISR: mask it until the next wait.
            let gsi = INTX_GSI[i].load(Ordering::Relaxed);
            if gsi != u32::MAX {
                ioapic_mask(gsi, true);
            }
            COUNTS[i].fetch_add(1, Ordering::Relaxed);
            DELIVERED.fetch_add(1, Ordering::Relaxed);
        }
    }
    apic::eoi();
}

fn cfg() -> &'static impl ConfigAccess {
    crate::pci::config()
}

fn find_cap(addr: PciAddress, id: u8) -> Option<u16> {
    let info = crate::pci::device_info(addr)?;
    info.capabilities()
        .iter()
        .find(|c| c.id == id)
        .map(|c| u16::from(c.offset))
}

/// Routes `source` of `addr` to a free vector; the handle is the slot + 1.
pub fn setup(addr: PciAddress, source: u32) -> Result<u64, DdkError> {
    if !enabled() {
        return Err(DdkError::Unsupported);
    }
    if source == IRQ_SOURCE_INTX {
        return setup_intx(addr);
    }
    let Some(cap) = find_cap(addr, MSIX_CAP) else {
        log::info!("irq: {addr} has no MSI-X capability; the driver polls");
        return Err(DdkError::Unsupported);
    };
    let c = cfg();
    let control = c.config_read(addr, cap + 2, Width::U16)?;
    let table_len = (control & 0x7ff) + 1;
    if source >= table_len {
        return Err(DdkError::InvalidArgument);
    }
    let table = c.config_read(addr, cap + 4, Width::U32)?;
    let bir = (table & 7) as u8;
    let bar = crate::pci::device_info(addr)
        .and_then(|i| i.bars.get(usize::from(bir)).copied())
        .filter(|b| {
            (b.kind == ddk::pci::bar_kind::MEMORY32 || b.kind == ddk::pci::bar_kind::MEMORY64)
                && b.address != 0
        });
    let Some(bar) = bar else {
        log::warn!(
            "irq: {addr}: MSI-X table in BAR{bir}, which is no memory BAR; the driver polls"
        );
        return Err(DdkError::Unsupported);
    };
    let off = u64::from(table & !7) + u64::from(source) * 16;
    if off + 16 > bar.size {
        log::warn!("irq: {addr}: MSI-X entry {source} lies outside BAR{bir}; the driver polls");
        return Err(DdkError::Unsupported);
    }
    let mut slots = TABLE.lock();
    let i = slots
        .iter()
        .position(|s| s.is_none())
        .ok_or(DdkError::NoMemory)?;
    let entry = crate::mem::paging::map_mmio(x86_64::PhysAddr::new(bar.address + off), 16)
        .map_err(|_| DdkError::NoMemory)?
        .as_u64();
    let vector = u32::from(FIRST_VECTOR) + i as u32;
    // SAFETY: `entry` maps the 16-byte MSI-X table entry `source` (inside
    // the BAR, checked above), uncached. Address: fixed delivery to this
    // APIC (§10.11.1); data: edge-triggered `vector`; then unmask.
    unsafe {
        let p = entry as *mut u32;
        p.add(3).write_volatile(1);
        p.write_volatile(0xfee0_0000 | (u32::from(apic::id()) << 12));
        p.add(1).write_volatile(0);
        p.add(2).write_volatile(vector);
        p.add(3).write_volatile(0);
    }
    COUNTS[i].store(0, Ordering::Relaxed);
    // MSI-X enable, function mask off (§6.8.2.3); INTx disable in COMMAND.
    c.config_write(addr, cap + 2, Width::U16, (control | 0x8000) & !0x4000)?;
    let cmd = c.config_read(addr, 4, Width::U16)?;
    c.config_write(addr, 4, Width::U16, cmd | 0x400)?;
    INTX_GSI[i].store(u32::MAX, Ordering::Relaxed);
    slots[i] = Some(Slot::Msix { addr, cap, entry });
    log::info!("irq: {addr} MSI-X entry {source} -> vector 0x{vector:x}");
    Ok(i as u64 + 1)
}

fn slot_index(handle: u64) -> Result<usize, DdkError> {
    let i = handle.checked_sub(1).ok_or(DdkError::BadHandle)? as usize;
    if i < SLOTS && TABLE.lock()[i].is_some() {
        Ok(i)
    } else {
        Err(DdkError::BadHandle)
    }
}

/// Masks the entry, disables MSI-X on the function, frees the vector.
pub fn release(handle: u64) -> Result<(), DdkError> {
    let i = slot_index(handle)?;
    let Some(s) = TABLE.lock()[i].take() else {
        return Err(DdkError::BadHandle);
    };
    match s {
        Slot::Msix { addr, cap, entry } => {
            // SAFETY: `entry` is the live mapping made by `setup`; setting
            // the vector-control mask bit stops the entry.
            unsafe { (entry as *mut u32).add(3).write_volatile(1) };
            let c = cfg();
            if let Ok(control) = c.config_read(addr, cap + 2, Width::U16) {
                let _ = c.config_write(addr, cap + 2, Width::U16, control & !0x8000);
            }
        }
        Slot::Intx { gsi } => {
            ioapic_mask(gsi, true);
            INTX_GSI[i].store(u32::MAX, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// Waits until `handle`'s vector fired (since the last wait) or `timeout_ns`
/// passed. The check runs with interrupts off and the halt is `sti; hlt`, so
/// an interrupt arriving between them wakes the halt; the APIC timer bounds
/// each halt, so a device that never interrupts costs the timeout, no hang.
pub fn wait(handle: u64, timeout_ns: u64) -> Result<bool, DdkError> {
    let i = slot_index(handle)?;
    let hz = crate::time::tsc_hz().max(1);
    let ticks = (u128::from(timeout_ns) * u128::from(hz) / 1_000_000_000) as u64;
    let deadline = cpu::rdtsc().saturating_add(ticks);
    let gsi = INTX_GSI[i].load(Ordering::Relaxed);
    if gsi != u32::MAX {
        // The driver acknowledged the device since the last wait.
        ioapic_mask(gsi, false);
    }
    let fired = loop {
        if COUNTS[i].swap(0, Ordering::Relaxed) > 0 {
            break true;
        }
        let now = cpu::rdtsc();
        if now >= deadline {
            break false;
        }
        let left_ns = crate::time::ticks_to_ns(deadline - now);
        apic::arm_timer(left_ns.min(100_000_000));
        let t0 = cpu::rdtsc();
        cpu::sti_hlt_cli();
        HALTED_TICKS.fetch_add(cpu::rdtsc().wrapping_sub(t0), Ordering::Relaxed);
    };
    apic::disarm_timer();
    WAITS.fetch_add(1, Ordering::Relaxed);
    if !fired {
        TIMED_OUT.fetch_add(1, Ordering::Relaxed);
    }
    Ok(fired)
}
