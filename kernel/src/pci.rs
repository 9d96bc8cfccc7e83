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
//! Resource assignment for what firmware left empty (BARs at 0, bridge
//! windows, bus numbers) is `kernel_logic::pci_assign`'s.

use alloc::vec::Vec;

use core::sync::atomic::{AtomicU32, Ordering};
use ddk::abi::{DdkError, Width};

use ddk::pci::{
    check_config_offset, command, reg, ConfigAccess, PciAddress, PciDevice, PciDeviceInfo,
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
        let _ = scan_bus(0, &mut found, &mut visited);
        kernel_logic::pci_assign::assign_unassigned(
            &LEGACY,
            &mut found,
            crate::bootinfo::get().regions(),
        );
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

/// Scans `bus` and the buses behind its bridges; returns the highest bus
/// number in that subtree. A bridge firmware left unnumbered (secondary bus
/// 0) gets the next free number, its primary bus, and a subordinate bus
/// that covers what was found behind it (PCI-PCI Bridge Spec 1.2 §3.2.5.3).
fn scan_bus(bus: u8, found: &mut Vec<PciDevice>, visited: &mut [bool; 256]) -> u8 {
    if core::mem::replace(&mut visited[bus as usize], true) {
        return bus;
    }
    let mut highest = bus;
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
            let address = d.address;
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
            match secondary {
                Some(0) => {
                    let Some(free) = visited
                        .iter()
                        .rposition(|&v| v)
                        .and_then(|b| u8::try_from(b + 1).ok())
                    else {
                        log::warn!("pci: bridge {address}: no bus number left; not scanned");
                        continue;
                    };
                    let _ = LEGACY.write_u8(address, 0x18, bus);
                    let _ = LEGACY.write_u8(address, 0x19, free);
                    let _ = LEGACY.write_u8(address, 0x1a, 0xff);
                    let sub = scan_bus(free, found, visited);
                    let _ = LEGACY.write_u8(address, 0x1a, sub);
                    log::info!(
                        "pci: bridge {address} numbered: primary {bus:02x}, secondary {free:02x}, subordinate {sub:02x}"
                    );
                    highest = highest.max(sub);
                }
                Some(sec) => highest = highest.max(scan_bus(sec, found, visited)),
                None => {}
            }
        }
    }
    highest
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
