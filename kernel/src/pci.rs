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
//! BAR decoding and sizing use the DDK's `PciDevice::probe`.

use alloc::vec::Vec;

use ddk::abi::{DdkError, Width};
use ddk::pci::{check_config_offset, Bar, ConfigAccess, PciAddress, PciDevice};
use spin::{Mutex, Once};

use crate::arch::x86_64::cpu::{inb, inl, inw, outb, outl, outw};

const CONFIG_ADDRESS: u16 = 0xcf8;
const CONFIG_DATA: u16 = 0xcfc;

/// Config mechanism #1. Serialised by a lock: the address/data port pair is
/// shared state. Narrow accesses use the byte/word data ports (0xCFC + offset
/// within the dword) rather than read-modify-write of the dword, so RW1C
/// status bits are never written back by accident.
pub struct LegacyConfig {
    lock: Mutex<()>,
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
};
static DEVICES: Once<Vec<PciDevice>> = Once::new();

/// Width-aware config access for everything in the kernel (and the DDK
/// platform implementation).
pub fn config() -> &'static LegacyConfig {
    &LEGACY
}

/// Enumerates the PCI hierarchy once and returns every function found.
pub fn devices() -> &'static [PciDevice] {
    DEVICES.call_once(|| {
        let mut found = Vec::new();
        let mut visited = [false; 256];
        scan_bus(0, &mut found, &mut visited);
        found
    })
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
            found.push(d);
            if let Some(sec) = secondary.filter(|&s| s != 0) {
                scan_bus(sec, found, visited);
            }
        }
    }
}

/// Probes one function: header fields, and for virtio functions (the ones
/// drivers bind) decoded and sized BARs.
///
/// Sizing needs the command register's decode bits off while a BAR holds
/// all-ones, and under QEMU every decode toggle rebuilds the guest memory map
/// (~1 ms under TCG). So decoding is switched off once per function, all BARs
/// are sized, and it is restored once ([`size_bars`]), instead of once per
/// BAR. Other functions get their header only; the shell's `devices` sizes
/// their BARs on demand with [`probe_full`].
fn probe(address: PciAddress) -> Option<PciDevice> {
    let mut d = probe_header(address)?;
    if d.vendor_id == 0x1af4 {
        d.bars = size_bars(address, d.header_type);
    }
    Some(d)
}

fn probe_header(address: PciAddress) -> Option<PciDevice> {
    let id = LEGACY.read_u32(address, 0).ok()?;
    let vendor_id = id as u16;
    if vendor_id == 0xffff || vendor_id == 0 {
        return None;
    }
    let class = LEGACY.read_u32(address, 0x08).ok()?;
    let ht = LEGACY.read_u8(address, 0x0e).ok()?;
    let sub = if ht & 0x7f == 0 {
        LEGACY.read_u32(address, 0x2c).ok()?
    } else {
        0
    };
    let irq = LEGACY.read_u16(address, 0x3c).ok()?;
    Some(PciDevice {
        address,
        vendor_id,
        device_id: (id >> 16) as u16,
        revision: class as u8,
        class: (class >> 24) as u8,
        subclass: (class >> 16) as u8,
        prog_if: (class >> 8) as u8,
        header_type: ht & 0x7f,
        multifunction: ht & 0x80 != 0,
        subsystem_vendor_id: sub as u16,
        subsystem_id: (sub >> 16) as u16,
        interrupt_line: irq as u8,
        interrupt_pin: (irq >> 8) as u8,
        bars: [None; 6],
    })
}

/// Full probe of one function, BARs decoded and sized.
pub fn probe_full(address: PciAddress) -> Option<PciDevice> {
    let mut d = probe_header(address)?;
    d.bars = size_bars(address, d.header_type);
    Some(d)
}

/// Decodes and sizes every BAR of a function (PCI 3.0 §6.2.5.1: write
/// all-ones, read back, restore), with I/O and memory decoding off for the
/// whole pass. The upper half of a 64-bit BAR is `None`.
fn size_bars(a: PciAddress, header_type: u8) -> [Option<Bar>; 6] {
    let mut bars = [None; 6];
    let slots = ddk::pci::bar_slots(header_type);
    if slots == 0 {
        return bars;
    }
    let Ok(cmd) = LEGACY.read_u16(a, 0x04) else {
        return bars;
    };
    let _ = LEGACY.write_u16(a, 0x04, cmd & !0x3);
    let mut i = 0;
    while i < slots {
        let off = 0x10 + 4 * i as u16;
        let (bar, used) = size_one(a, off, i + 1 < slots);
        bars[i] = bar;
        i += used;
    }
    let _ = LEGACY.write_u16(a, 0x04, cmd);
    bars
}

fn probe_mask(a: PciAddress, off: u16) -> (u32, u32) {
    let orig = LEGACY.read_u32(a, off).unwrap_or(0);
    let _ = LEGACY.write_u32(a, off, 0xffff_ffff);
    let mask = LEGACY.read_u32(a, off).unwrap_or(0);
    let _ = LEGACY.write_u32(a, off, orig);
    (orig, mask)
}

fn size_one(a: PciAddress, off: u16, has_next: bool) -> (Option<Bar>, usize) {
    let (orig, mask) = probe_mask(a, off);
    if orig & 1 == 1 {
        let size = (!(mask & !3)).wrapping_add(1) & 0xffff;
        if mask & !3 == 0 || size == 0 {
            return (None, 1);
        }
        return (
            Some(Bar::Io {
                port: (orig & !3) as u16,
                size: size as u16,
            }),
            1,
        );
    }
    let prefetchable = orig & 0x8 != 0;
    if (orig >> 1) & 3 == 2 && has_next {
        let (orig_hi, mask_hi) = probe_mask(a, off + 4);
        let mask64 = u64::from(mask_hi) << 32 | u64::from(mask & !0xf);
        if mask64 == 0 {
            return (None, 2);
        }
        let size = (!mask64).wrapping_add(1);
        let address = u64::from(orig_hi) << 32 | u64::from(orig & !0xf);
        return (
            Some(Bar::Memory64 {
                address,
                size,
                prefetchable,
            }),
            2,
        );
    }
    if mask & !0xf == 0 {
        return (None, 1);
    }
    let size = (!(mask & !0xf)).wrapping_add(1);
    (
        Some(Bar::Memory32 {
            address: orig & !0xf,
            size,
            prefetchable,
        }),
        1,
    )
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
