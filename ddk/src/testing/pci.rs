//! Fake PCI configuration space (PCI 3.0 §6.1): 256 bytes with per-byte
//! write masks, so BAR sizing behaves like hardware (write all-ones, read
//! back the size mask), read-only ids stay read-only, and capability lists
//! can be built — or deliberately broken — byte by byte.

use crate::pci::{command, reg, STATUS_CAP_LIST};
use crate::wire::Width;

/// Kind of a fake BAR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FakeBarKind {
    Memory32,
    Memory64 { prefetchable: bool },
    Io,
}

/// Configuration space of one fake function.
#[derive(Clone, Debug)]
pub struct FakeConfigSpace {
    bytes: [u8; 256],
    wmask: [u8; 256],
    bars: [Option<(FakeBarKind, u64)>; 6],
    next_cap: u8,
    last_cap: u8,
}

impl FakeConfigSpace {
    /// A type-0 header with the given ids and class; command bits IO, MEM,
    /// bus master and INTx-disable writable; everything else read-only.
    pub fn new(vendor: u16, device: u16, class: u8, subclass: u8, prog_if: u8) -> Self {
        let mut c = FakeConfigSpace {
            bytes: [0; 256],
            wmask: [0; 256],
            bars: [None; 6],
            next_cap: 0x40,
            last_cap: 0,
        };
        c.set_u16(reg::VENDOR_ID, vendor);
        c.set_u16(reg::DEVICE_ID, device);
        c.set_u8(reg::CLASS, class);
        c.set_u8(reg::SUBCLASS, subclass);
        c.set_u8(reg::PROG_IF, prog_if);
        c.set_u8(reg::INTERRUPT_PIN, 1);
        let cmd_mask =
            command::IO_SPACE | command::MEMORY_SPACE | command::BUS_MASTER | command::INTX_DISABLE;
        c.wmask[4..6].copy_from_slice(&cmd_mask.to_le_bytes());
        c.wmask[reg::INTERRUPT_LINE as usize] = 0xff;
        c
    }

    /// Raw setters (no write mask): for building the header.
    pub fn set_u8(&mut self, off: u16, v: u8) {
        self.bytes[off as usize] = v;
    }
    pub fn set_u16(&mut self, off: u16, v: u16) {
        self.bytes[off as usize..off as usize + 2].copy_from_slice(&v.to_le_bytes());
    }
    pub fn set_u32(&mut self, off: u16, v: u32) {
        self.bytes[off as usize..off as usize + 4].copy_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&self) -> &[u8; 256] {
        &self.bytes
    }

    /// Declares BAR `index` with a power-of-two `size` at `address` (as
    /// firmware would have assigned it). A 64-bit BAR also takes `index + 1`.
    pub fn set_bar(&mut self, index: usize, kind: FakeBarKind, size: u64, address: u64) {
        assert!(size.is_power_of_two() && index < 6, "fake BAR setup");
        let off = reg::BAR0 as usize + 4 * index;
        let (low_bits, low_mask) = match kind {
            FakeBarKind::Io => (1u32, !(size as u32 - 1) & !3),
            FakeBarKind::Memory32 => (0, !(size as u32).wrapping_sub(1) & !0xf),
            FakeBarKind::Memory64 { prefetchable } => (
                4 | if prefetchable { 8 } else { 0 },
                !(size.wrapping_sub(1)) as u32 & !0xf,
            ),
        };
        let value = (address as u32 & !0xf & low_mask) | low_bits;
        self.set_u32(off as u16, value);
        self.wmask[off..off + 4].copy_from_slice(&low_mask.to_le_bytes());
        if let FakeBarKind::Memory64 { .. } = kind {
            self.set_u32(off as u16 + 4, (address >> 32) as u32);
            let hi_mask = (!(size.wrapping_sub(1)) >> 32) as u32;
            self.wmask[off + 4..off + 8].copy_from_slice(&hi_mask.to_le_bytes());
        }
        self.bars[index] = Some((kind, size));
    }

    /// Current (address, size, kind) of BAR `index`, as decoded from the registers.
    pub fn bar(&self, index: usize) -> Option<(u64, u64, FakeBarKind)> {
        let (kind, size) = self.bars.get(index).copied().flatten()?;
        let off = reg::BAR0 + 4 * index as u16;
        let lo = self.read(off, Width::U32);
        let addr = match kind {
            FakeBarKind::Io => (lo & !3) as u64,
            FakeBarKind::Memory32 => (lo & !0xf) as u64,
            FakeBarKind::Memory64 { .. } => {
                (self.read(off + 4, Width::U32) as u64) << 32 | (lo & !0xf) as u64
            }
        };
        Some((addr, size, kind))
    }

    /// Appends a capability with `id` and `body` (bytes after the 2-byte
    /// header) to the list; returns its offset.
    pub fn add_capability(&mut self, id: u8, body: &[u8]) -> u8 {
        let off = self.next_cap;
        assert!(
            off as usize + 2 + body.len() <= 256,
            "fake capability space full"
        );
        self.bytes[off as usize] = id;
        self.bytes[off as usize + 1] = 0;
        self.bytes[off as usize + 2..off as usize + 2 + body.len()].copy_from_slice(body);
        if self.last_cap == 0 {
            self.set_u8(reg::CAPABILITIES_PTR, off);
            let st = self.read(reg::STATUS, Width::U16) as u16 | STATUS_CAP_LIST;
            self.set_u16(reg::STATUS, st);
        } else {
            self.bytes[self.last_cap as usize + 1] = off;
        }
        self.last_cap = off;
        self.next_cap = (off as usize + 2 + body.len()).next_multiple_of(4) as u8;
        off
    }

    pub fn command(&self) -> u16 {
        self.read(reg::COMMAND, Width::U16) as u16
    }

    pub fn read(&self, off: u16, w: Width) -> u32 {
        let o = off as usize;
        let mut v = 0u32;
        for i in 0..w.bytes().min(4) {
            v |= (*self.bytes.get(o + i).unwrap_or(&0xff) as u32) << (8 * i);
        }
        v
    }

    /// A write through the write masks (what the driver's writes do).
    pub fn write(&mut self, off: u16, w: Width, value: u32) {
        let o = off as usize;
        for i in 0..w.bytes().min(4) {
            if o + i >= 256 {
                break;
            }
            let b = (value >> (8 * i)) as u8;
            let m = self.wmask[o + i];
            self.bytes[o + i] = (self.bytes[o + i] & !m) | (b & m);
        }
    }
}
