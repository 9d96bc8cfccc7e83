//! PCI enumeration for the kernel (PCI Local Bus Spec 3.0 §3.2.2.3.2, the
//! configuration mechanism #1 at ports 0xCF8/0xCFC).
//!
//! Why mechanism #1 and not q35's ECAM window: it needs no ACPI (MCFG) parsing
//! and no assumption about where firmware put PCIEXBAR, it is the same on i440fx
//! and q35, and the first 256 bytes of config space are all virtio needs (its
//! capabilities live there). Every access is one `outl` + one `in*` pair.
//!
//! The scan starts at bus 0 and follows PCI-to-PCI bridges to their secondary
//! buses instead of probing all 256 buses (8192 slots cost ~10 ms under TCG).
//!
//! Header probing and BAR sizing are the DDK's ([`PciDevice::probe`],
//! `ddk::pci::size_bars`, PCI 3.0 §6.2.5.1), run here through
//! [`LegacyConfig`]: every BAR of every function is sized exactly once, at
//! enumeration, with memory/I/O decoding switched off at most once per
//! function (each toggle rebuilds QEMU's memory map, ~1 ms under TCG; none
//! at all under qboot, which leaves decoding off). The results are stored:
//! [`devices`] for the driver manager, [`device_info`] (with the capability
//! list, §6.7) for the DDK's `pci_device_info` entry, and [`bar_size`] for
//! `bar_map`, so no driver and no mapping sizes a BAR again.
//!
//! Resource assignment (PCI 3.0 §6.2.5.1): SeaBIOS assigns every BAR and
//! enables decoding; minimal firmware (QEMU's qboot) leaves BARs at 0 with
//! decoding off, as Linux expects to do it itself. So on bus 0 a BAR whose
//! address is 0 gets a naturally aligned range — memory (32- and 64-bit)
//! from the 32-bit PCI hole 0xC000_0000–0xFEBF_FFFF (above q35's RAM and
//! ECAM window, below the IOAPIC), I/O from 0xC000–0xFFFF — avoiding
//! everything the firmware already assigned; then that function's memory/I/O
//! decoding is enabled (bus mastering stays the driver's call).
//! Firmware-assigned BARs are left where they are. Devices behind bridges
//! would also need the bridge windows programmed; that is not done (q35's
//! root-complex devices sit on bus 0).

use alloc::vec::Vec;

use core::sync::atomic::{AtomicU32, Ordering};
use ddk::abi::{DdkError, Width};

use ddk::pci::{
    check_config_offset, command, reg, Bar, ConfigAccess, PciAddress, PciDevice, PciDeviceInfo,
};
use spin::{Mutex, Once};

use crate::arch::x86_64::cpu::{inb, inl, inw, outb, outl, outw};

const CONFIG_ADDRESS: u16 = 0xcf8;
const CONFIG_DATA: u16 = 0xcfc;

/// Config mechanism #1. Serialised by a lock: the address/data port pair is
/// shared state. Narrow accesses use the byte/word data ports (0xCFC + offset
/// within the dword) rather than read-modify-write of the dword, so RW1C
/// status bits are never written back by accident.
///
/// It also counts the writes BAR sizing makes (to a BAR register, and
/// switching decoding off), so the boot log can show that nothing sizes a
/// BAR after enumeration.
pub struct LegacyConfig {
    lock: Mutex<()>,
    bar_writes: AtomicU32,
    decode_off: AtomicU32,
}

impl LegacyConfig {
    const fn address(addr: PciAddress, offset: u16) -> u32 {
        0x8000_0000
            | (addr.bus() as u32) << 16
            | (addr.device() as u32 & 0x1f) << 11
            | (addr.function() as u32 & 7) << 8
            | (offset as u32 & 0xfc)
    }
}

impl ConfigAccess for LegacyConfig {
    fn config_read(&self, addr: PciAddress, offset: u16, width: Width) -> Result<u32, DdkError> {
        check_config_offset(offset, width)?;
        let _g = self.lock.lock();
        let port = CONFIG_DATA + (offset & 3);
        // SAFETY: CF8/CFC are the host bridge's config ports, owned by this
        // type; the offset was checked (aligned, below 256).
        unsafe {
            outl(CONFIG_ADDRESS, Self::address(addr, offset));
            Ok(match width {
                Width::U8 => u32::from(inb(port)),
                Width::U16 => u32::from(inw(port)),
                _ => inl(port),
            })
        }
    }

    fn config_write(
        &self,
        addr: PciAddress,
        offset: u16,
        width: Width,
        value: u32,
    ) -> Result<(), DdkError> {
        check_config_offset(offset, width)?;
        let end = offset + width.bytes() as u16;
        if offset < reg::BAR0 + 24 && end > reg::BAR0 {
            self.bar_writes.fetch_add(1, Ordering::Relaxed);
        }
        if offset <= reg::COMMAND && end > reg::COMMAND {
            let decode = u32::from(command::IO_SPACE | command::MEMORY_SPACE);
            let shift = 8 * u32::from(reg::COMMAND - offset);
            let old = self.config_read(addr, reg::COMMAND, Width::U16)? & decode;
            if old & !((value >> shift) & decode) != 0 {
                self.decode_off.fetch_add(1, Ordering::Relaxed);
            }
        }
        let _g = self.lock.lock();
        let port = CONFIG_DATA + (offset & 3);
        // SAFETY: as in `config_read`; what the write does to the device is
        // the caller's business (DDK drivers and the BAR sizing code).
        unsafe {
            outl(CONFIG_ADDRESS, Self::address(addr, offset));
            match width {
                Width::U8 => outb(port, value as u8),
                Width::U16 => outw(port, value as u16),
                _ => outl(port, value),
            }
        }
        Ok(())
    }
}

static LEGACY: LegacyConfig = LegacyConfig {
    lock: Mutex::new(()),
    bar_writes: AtomicU32::new(0),
    decode_off: AtomicU32::new(0),
};

/// What enumeration found, in scan order: the devices and, index for index,
/// their `pci_device_info` answers (filled after BAR assignment).
struct Enumeration {
    devices: Vec<PciDevice>,
    infos: Vec<PciDeviceInfo>,
}

static ENUMERATION: Once<Enumeration> = Once::new();

/// Width-aware config access for everything in the kernel (and the DDK
/// platform implementation).
pub fn config() -> &'static LegacyConfig {
    &LEGACY
}

/// `(BAR-register writes, decode-off writes)` made through [`config`] so
/// far: sizing a BAR costs both (PCI 3.0 §6.2.5.1).
pub fn sizing_writes() -> (u32, u32) {
    (
        LEGACY.bar_writes.load(Ordering::Relaxed),
        LEGACY.decode_off.load(Ordering::Relaxed),
    )
}

fn enumeration() -> &'static Enumeration {
    ENUMERATION.call_once(|| {
        let mut found = Vec::new();
        let mut visited = [false; 256];
        scan_bus(0, &mut found, &mut visited);
        assign_unassigned(&mut found);
        let infos = found
            .iter()
            .map(|d| PciDeviceInfo::collect(&LEGACY, d))
            .collect();
        Enumeration {
            devices: found,
            infos,
        }
    })
}

/// Enumerates the PCI hierarchy once and returns every function found, BARs
/// sized and (on bus 0) assigned.
pub fn devices() -> &'static [PciDevice] {
    &enumeration().devices
}

/// The enumeration of the function at `addr` (`pci_device_info`), if any.
pub fn device_info(addr: PciAddress) -> Option<&'static PciDeviceInfo> {
    let e = enumeration();
    let i = e.devices.iter().position(|d| d.address == addr)?;
    e.infos.get(i)
}

/// Size of BAR `bar` of `addr` as enumeration sized it.
pub fn bar_size(addr: PciAddress, bar: u8) -> Option<u64> {
    devices()
        .iter()
        .find(|d| d.address == addr)?
        .bars
        .get(bar as usize)
        .copied()
        .flatten()
        .map(|b| b.size())
}

fn scan_bus(bus: u8, found: &mut Vec<PciDevice>, visited: &mut [bool; 256]) {
    if core::mem::replace(&mut visited[bus as usize], true) {
        return;
    }
    for dev in 0..32u8 {
        let Some(d0) = probe(PciAddress::new_truncate(bus, dev, 0)) else {
            continue;
        };
        let functions = if d0.multifunction { 8 } else { 1 };
        let mut pending = Some(d0);
        for func in 0..functions {
            let d = match pending.take() {
                Some(d) => d,
                None => match probe(PciAddress::new_truncate(bus, dev, func)) {
                    Some(d) => d,
                    None => continue,
                },
            };
            // A PCI-to-PCI bridge (class 06/04, header type 1): recurse into
            // its secondary bus (config offset 0x19).
            let secondary = if d.header_type == 1 && d.class == 0x06 && d.subclass == 0x04 {
                LEGACY.read_u8(d.address, 0x19).ok()
            } else {
                None
            };
            log::debug!(
                "pci: {} {:04x}:{:04x} rev {} class {:02x}.{:02x}.{:02x} header type {}{}",
                d.address,
                d.vendor_id,
                d.device_id,
                d.revision,
                d.class,
                d.subclass,
                d.prog_if,
                d.header_type,
                if d.multifunction {
                    ", multifunction"
                } else {
                    ""
                }
            );
            found.push(d);
            if let Some(sec) = secondary.filter(|&s| s != 0) {
                scan_bus(sec, found, visited);
            }
        }
    }
}

/// Probes one function with the DDK's code: header fields and every BAR
/// decoded and sized (the only time they are).
fn probe(address: PciAddress) -> Option<PciDevice> {
    match PciDevice::probe(&LEGACY, address) {
        Ok(d) => d,
        Err(e) => {
            log::warn!("pci: {address}: probe failed: {e}");
            None
        }
    }
}

/// Memory window for BARs firmware left at 0: q35's 32-bit PCI hole above
/// the ECAM window (0xB000_0000–0xBFFF_FFFF), below the IOAPIC at 0xFEC0_0000.
const MEM_WINDOW: (u64, u64) = (0xc000_0000, 0xfec0_0000);
/// The same for chipsets whose RAM may reach 0xE000_0000 (i440fx).
const MEM_WINDOW_I440FX: (u64, u64) = (0xe000_0000, 0xfec0_0000);
/// I/O window (ports below 0xC000 are the legacy ISA/chipset ones).
const IO_WINDOW: (u64, u64) = (0xc000, 0x1_0000);

/// q35 host bridge (MCH) id and its PCIEXBAR register (ICH9/3 Series MCH
/// datasheet §5.1.9): bit 0 enable, bits 2:1 length, bits 35:28 base.
const Q35_MCH: (u16, u16) = (0x8086, 0x29c0);
const Q35_PCIEXBAR: u16 = 0x60;

/// A half-open address range `[start, end)` in memory or I/O space.
#[derive(Clone, Copy)]
struct Range {
    start: u64,
    end: u64,
}

impl Range {
    fn overlaps(&self, other: &Range) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Gives every bus-0 BAR the firmware left at address 0 a naturally aligned
/// range that overlaps nothing assigned, programs it and enables the
/// function's decoding. Functions whose BARs all came assigned are not
/// touched again.
fn assign_unassigned(found: &mut [PciDevice]) {
    let unassigned = |d: &PciDevice| {
        d.bars
            .iter()
            .flatten()
            .any(|b| b.address() == 0 && d.address.bus() == 0)
    };
    if !found.iter().any(unassigned) {
        return;
    }
    let mut used_mem: Vec<Range> = Vec::new();
    let mut used_io: Vec<Range> = Vec::new();
    // (device index, BAR index, size, is_io), in scan order.
    let mut pending: Vec<(usize, usize, u64, bool)> = Vec::new();
    for (di, d) in found.iter().enumerate() {
        for (bi, bar) in d.bars.iter().enumerate() {
            let Some(bar) = bar else { continue };
            let (addr, size) = (bar.address(), bar.size());
            if addr != 0 {
                let r = Range {
                    start: addr,
                    end: addr.saturating_add(size),
                };
                if bar.is_io() {
                    used_io.push(r);
                } else {
                    used_mem.push(r);
                }
            } else if d.address.bus() != 0 {
                log::warn!(
                    "pci: {} BAR{} unassigned behind a bridge; left as is",
                    d.address,
                    bi
                );
            } else {
                pending.push((di, bi, size, bar.is_io()));
            }
        }
    }
    if pending.is_empty() {
        return;
    }
    let mut mem_window = MEM_WINDOW;
    if let Some(host) = found
        .iter()
        .find(|d| d.address.bus() == 0 && d.class == 0x06 && d.subclass == 0x00)
    {
        if (host.vendor_id, host.device_id) == Q35_MCH {
            if let Some(ecam) = q35_ecam(host.address) {
                used_mem.push(ecam);
            }
        } else {
            mem_window = MEM_WINDOW_I440FX;
        }
    }
    // Largest first: with natural alignment this packs without holes.
    pending.sort_by_key(|p| core::cmp::Reverse(p.2));
    // Per device: decode bits to enable, and whether some BAR failed.
    let mut enable: Vec<(usize, u16, u16)> = Vec::new();
    for &(di, bi, size, is_io) in &pending {
        let (window, used) = if is_io {
            (IO_WINDOW, &mut used_io)
        } else {
            (mem_window, &mut used_mem)
        };
        let bit = if is_io {
            command::IO_SPACE
        } else {
            command::MEMORY_SPACE
        };
        let slot = match enable.iter().position(|e| e.0 == di) {
            Some(i) => i,
            None => {
                enable.push((di, 0, 0));
                enable.len() - 1
            }
        };
        let d = &mut found[di];
        let Some(start) = place(window, size, used) else {
            log::warn!(
                "pci: {} BAR{} ({}) does not fit the free {} window; left unassigned",
                d.address,
                bi,
                Size(size),
                if is_io { "I/O" } else { "memory" }
            );
            enable[slot].2 |= bit;
            continue;
        };
        used.push(Range {
            start,
            end: start + size,
        });
        let off = 0x10 + 4 * bi as u16;
        let kind = match d.bars[bi].as_mut() {
            Some(Bar::Memory32 { address, .. }) => {
                *address = start as u32;
                let _ = LEGACY.write_u32(d.address, off, start as u32);
                "32-bit"
            }
            Some(Bar::Memory64 { address, .. }) => {
                *address = start;
                let _ = LEGACY.write_u32(d.address, off, start as u32);
                let _ = LEGACY.write_u32(d.address, off + 4, (start >> 32) as u32);
                "64-bit"
            }
            Some(Bar::Io { port, .. }) => {
                *port = start as u16;
                let _ = LEGACY.write_u32(d.address, off, start as u32);
                "I/O"
            }
            None => continue,
        };
        log::info!(
            "pci: {} BAR{} assigned 0x{:x} ({}, {})",
            d.address,
            bi,
            start,
            Size(size),
            kind
        );
        enable[slot].1 |= bit;
    }
    for (di, bits, failed) in enable {
        let a = found[di].address;
        let bits = bits & !failed;
        if bits == 0 {
            continue;
        }
        if let Ok(cmd) = LEGACY.read_u16(a, 0x04) {
            let _ = LEGACY.write_u16(a, 0x04, cmd | bits);
        }
    }
}

/// Lowest naturally aligned `size`-byte range in `window` overlapping none
/// of `used`.
fn place(window: (u64, u64), size: u64, used: &[Range]) -> Option<u64> {
    if size == 0 || !size.is_power_of_two() {
        return None;
    }
    let align_up = |x: u64| x.checked_add(size - 1).map(|v| v & !(size - 1));
    let mut start = align_up(window.0)?;
    loop {
        let r = Range {
            start,
            end: start.checked_add(size)?,
        };
        if r.end > window.1 {
            return None;
        }
        match used.iter().filter(|u| u.overlaps(&r)).map(|u| u.end).max() {
            Some(end) => start = align_up(end)?,
            None => return Some(start),
        }
    }
}

/// The ECAM window q35's PCIEXBAR enables, if any.
fn q35_ecam(host: PciAddress) -> Option<Range> {
    let lo = LEGACY.read_u32(host, Q35_PCIEXBAR).ok()?;
    let hi = LEGACY.read_u32(host, Q35_PCIEXBAR + 4).ok()?;
    if lo & 1 == 0 {
        return None;
    }
    let len: u64 = match (lo >> 1) & 3 {
        0 => 256 << 20,
        1 => 128 << 20,
        2 => 64 << 20,
        _ => return None,
    };
    let base = (u64::from(hi & 0xf) << 32 | u64::from(lo)) & !(len - 1);
    Some(Range {
        start: base,
        end: base + len,
    })
}

/// A byte count in the largest binary unit that divides it (`16 KiB`).
struct Size(u64);

impl core::fmt::Display for Size {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let n = self.0;
        if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
            write!(f, "{} GiB", n >> 30)
        } else if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
            write!(f, "{} MiB", n >> 20)
        } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
            write!(f, "{} KiB", n >> 10)
        } else {
            write!(f, "{} B", n)
        }
    }
}

/// Human name for a class/subclass pair (the ones QEMU's q35 shows, mostly).
pub fn class_name(class: u8, subclass: u8) -> &'static str {
    match (class, subclass) {
        (0x01, 0x00) => "SCSI storage",
        (0x01, 0x01) => "IDE controller",
        (0x01, 0x06) => "SATA controller",
        (0x01, 0x08) => "NVM controller",
        (0x01, _) => "mass storage",
        (0x02, _) => "network controller",
        (0x03, _) => "display controller",
        (0x06, 0x00) => "host bridge",
        (0x06, 0x01) => "ISA bridge",
        (0x06, 0x04) => "PCI bridge",
        (0x06, _) => "bridge",
        (0x0c, 0x05) => "SMBus",
        (0x0c, 0x03) => "USB controller",
        (0x0c, _) => "serial bus controller",
        (0xff, _) => "unassigned class",
        _ => "device",
    }
}
