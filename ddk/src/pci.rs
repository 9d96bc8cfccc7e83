//! PCI addressing, configuration-space access, BAR decoding/sizing and the
//! capability-list walk (PCI Local Bus Specification 3.0 §6.1, §6.2.5, §6.7),
//! and [`PciDeviceInfo`], the platform's enumeration of one function as it
//! crosses the DDK ABI (`pci_device_info`).
//!
//! Config access is expressed as [`ConfigAccess`] (safe, width-aware, fallible).
//! [`crate::Platform`] implements it through the DDK ABI table and also
//! implements `pci_types::ConfigRegionAccess`; [`RegionAccess`] adapts any
//! `pci_types::ConfigRegionAccess` (a kernel's CF8/CFC or ECAM code) into a
//! [`ConfigAccess`].

use core::fmt;

use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

use crate::wire::{DdkError, Width};

/// Bus/Device/Function of a PCI function, segment 0.
///
/// `#[repr(C)]`, exactly 3 bytes: `bus`, `device`, `function` — the same
/// layout the managed DDK declares. Passed by value through the ABI, SysV puts
/// it in the low 24 bits of one integer register (see [`PciAddress::to_abi_u32`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(C)]
pub struct PciAddress {
    bus: u8,
    device: u8,
    function: u8,
}

const _: () = assert!(core::mem::size_of::<PciAddress>() == 3);
const _: () = assert!(core::mem::align_of::<PciAddress>() == 1);

impl PciAddress {
    /// `None` unless `device < 32` and `function < 8`.
    pub const fn try_new(bus: u8, device: u8, function: u8) -> Option<Self> {
        if device < 32 && function < 8 {
            Some(PciAddress {
                bus,
                device,
                function,
            })
        } else {
            None
        }
    }
    /// Masks `device` to 5 bits and `function` to 3 bits.
    pub const fn new_truncate(bus: u8, device: u8, function: u8) -> Self {
        PciAddress {
            bus,
            device: device & 0x1f,
            function: function & 0x7,
        }
    }
    pub const fn bus(self) -> u8 {
        self.bus
    }
    pub const fn device(self) -> u8 {
        self.device
    }
    pub const fn function(self) -> u8 {
        self.function
    }
    /// The value as it sits in a register when passed by value through the ABI:
    /// bus in bits 0..8, device in 8..16, function in 16..24.
    pub const fn to_abi_u32(self) -> u32 {
        self.bus as u32 | (self.device as u32) << 8 | (self.function as u32) << 16
    }
    /// Inverse of [`Self::to_abi_u32`]; `None` for out-of-range fields or bits above 24.
    pub const fn from_abi_u32(v: u32) -> Option<Self> {
        if v >> 24 != 0 {
            return None;
        }
        Self::try_new(v as u8, (v >> 8) as u8, (v >> 16) as u8)
    }
}

impl From<PciAddress> for pci_types::PciAddress {
    fn from(a: PciAddress) -> Self {
        pci_types::PciAddress::new(0, a.bus, a.device, a.function)
    }
}

impl From<pci_types::PciAddress> for PciAddress {
    /// The segment is dropped: the DDK addresses segment 0 only.
    fn from(a: pci_types::PciAddress) -> Self {
        PciAddress::new_truncate(a.bus(), a.device(), a.function())
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

impl fmt::Debug for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Type-0 header register offsets (PCI 3.0 §6.1).
pub mod reg {
    pub const VENDOR_ID: u16 = 0x00;
    pub const DEVICE_ID: u16 = 0x02;
    pub const COMMAND: u16 = 0x04;
    pub const STATUS: u16 = 0x06;
    pub const REVISION: u16 = 0x08;
    pub const PROG_IF: u16 = 0x09;
    pub const SUBCLASS: u16 = 0x0a;
    pub const CLASS: u16 = 0x0b;
    pub const HEADER_TYPE: u16 = 0x0e;
    pub const BAR0: u16 = 0x10;
    pub const SUBSYSTEM_VENDOR_ID: u16 = 0x2c;
    pub const SUBSYSTEM_ID: u16 = 0x2e;
    pub const CAPABILITIES_PTR: u16 = 0x34;
    pub const INTERRUPT_LINE: u16 = 0x3c;
    pub const INTERRUPT_PIN: u16 = 0x3d;
}

/// Command register bits (PCI 3.0 §6.2.2).
pub mod command {
    pub const IO_SPACE: u16 = 1 << 0;
    pub const MEMORY_SPACE: u16 = 1 << 1;
    pub const BUS_MASTER: u16 = 1 << 2;
    pub const INTX_DISABLE: u16 = 1 << 10;
}

/// Status register bit: a capability list is present.
pub const STATUS_CAP_LIST: u16 = 1 << 4;

/// Capability ids the DDK names (PCI 3.0 Appendix H).
pub mod cap_id {
    pub const MSI: u8 = 0x05;
    pub const VENDOR_SPECIFIC: u8 = 0x09;
    pub const PCIE: u8 = 0x10;
    pub const MSIX: u8 = 0x11;
}

/// Safe, width-aware access to PCI configuration space (offsets 0..256).
pub trait ConfigAccess {
    /// Reads `width` (1, 2 or 4 bytes) at `offset`, which must be naturally aligned.
    fn config_read(&self, addr: PciAddress, offset: u16, width: Width) -> Result<u32, DdkError>;
    /// Writes `width` bytes at `offset`, which must be naturally aligned.
    fn config_write(
        &self,
        addr: PciAddress,
        offset: u16,
        width: Width,
        value: u32,
    ) -> Result<(), DdkError>;

    fn read_u8(&self, addr: PciAddress, offset: u16) -> Result<u8, DdkError> {
        self.config_read(addr, offset, Width::U8).map(|v| v as u8)
    }
    fn read_u16(&self, addr: PciAddress, offset: u16) -> Result<u16, DdkError> {
        self.config_read(addr, offset, Width::U16).map(|v| v as u16)
    }
    fn read_u32(&self, addr: PciAddress, offset: u16) -> Result<u32, DdkError> {
        self.config_read(addr, offset, Width::U32)
    }
    fn write_u8(&self, addr: PciAddress, offset: u16, v: u8) -> Result<(), DdkError> {
        self.config_write(addr, offset, Width::U8, v as u32)
    }
    fn write_u16(&self, addr: PciAddress, offset: u16, v: u16) -> Result<(), DdkError> {
        self.config_write(addr, offset, Width::U16, v as u32)
    }
    fn write_u32(&self, addr: PciAddress, offset: u16, v: u32) -> Result<(), DdkError> {
        self.config_write(addr, offset, Width::U32, v)
    }
}

/// Checks a config-space offset/width pair: inside 256 bytes, naturally aligned.
pub fn check_config_offset(offset: u16, width: Width) -> Result<(), DdkError> {
    let w = width.bytes() as u16;
    if width == Width::U64 || offset as u32 + w as u32 > 256 {
        return Err(DdkError::OutOfBounds);
    }
    if !offset.is_multiple_of(w) {
        return Err(DdkError::Misaligned);
    }
    Ok(())
}

/// Adapts a `pci_types::ConfigRegionAccess` (dword-only) into [`ConfigAccess`].
/// Narrow writes are read-modify-write of the containing dword, except that
/// writes to the command register leave the RW1C status half zero.
pub struct RegionAccess<A>(A);

impl<A: pci_types::ConfigRegionAccess> RegionAccess<A> {
    /// # Safety
    /// Every dword offset below 256 of every `PciAddress` passed later must be
    /// valid for `A`'s reads and writes (true for CF8/CFC on x86, where absent
    /// functions read as all-ones).
    pub unsafe fn new(access: A) -> Self {
        RegionAccess(access)
    }
}

impl<A: pci_types::ConfigRegionAccess> ConfigAccess for RegionAccess<A> {
    fn config_read(&self, addr: PciAddress, offset: u16, width: Width) -> Result<u32, DdkError> {
        check_config_offset(offset, width)?;
        // SAFETY: `new`'s contract covers every aligned offset below 256.
        let dword = unsafe { self.0.read(addr.into(), offset & !3) };
        let shift = (offset & 3) * 8;
        Ok(match width {
            Width::U8 => (dword >> shift) & 0xff,
            Width::U16 => (dword >> shift) & 0xffff,
            _ => dword,
        })
    }
    fn config_write(
        &self,
        addr: PciAddress,
        offset: u16,
        width: Width,
        value: u32,
    ) -> Result<(), DdkError> {
        check_config_offset(offset, width)?;
        let aligned = offset & !3;
        let new = if width == Width::U32 {
            value
        } else {
            // SAFETY: as in `config_read`.
            let mut old = unsafe { self.0.read(addr.into(), aligned) };
            if aligned == reg::COMMAND {
                // Writing back set status bits would clear them (RW1C).
                old &= 0x0000_ffff;
            }
            let shift = (offset & 3) * 8;
            let mask = if width == Width::U8 { 0xff } else { 0xffff } << shift;
            (old & !mask) | ((value << shift) & mask)
        };
        // SAFETY: as in `config_read`.
        unsafe { self.0.write(addr.into(), aligned, new) };
        Ok(())
    }
}

/// A decoded Base Address Register (PCI 3.0 §6.2.5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bar {
    Memory32 {
        address: u32,
        size: u32,
        prefetchable: bool,
    },
    Memory64 {
        address: u64,
        size: u64,
        prefetchable: bool,
    },
    Io {
        port: u16,
        size: u16,
    },
}

impl Bar {
    /// Base address (a port number for I/O BARs).
    pub fn address(&self) -> u64 {
        match *self {
            Bar::Memory32 { address, .. } => address as u64,
            Bar::Memory64 { address, .. } => address,
            Bar::Io { port, .. } => port as u64,
        }
    }
    /// Decoded size in bytes.
    pub fn size(&self) -> u64 {
        match *self {
            Bar::Memory32 { size, .. } => size as u64,
            Bar::Memory64 { size, .. } => size,
            Bar::Io { size, .. } => size as u64,
        }
    }
    pub fn is_io(&self) -> bool {
        matches!(self, Bar::Io { .. })
    }
}

/// Number of BAR slots in a header of the given type (0: endpoint, 1: bridge).
pub fn bar_slots(header_type: u8) -> usize {
    match header_type & 0x7f {
        0 => 6,
        1 => 2,
        _ => 0,
    }
}

/// Decodes and sizes BAR `index` alone (PCI 3.0 §6.2.5.1: write all-ones,
/// read back, restore). Memory and I/O decoding are switched off while the
/// BAR holds all-ones (a half-written BAR must not decode on top of RAM or
/// another device) and restored afterwards. Returns the BAR (or `None` if the
/// slot is unimplemented) and how many slots it used (2 for a 64-bit BAR).
///
/// A platform sizes every BAR once, at enumeration, with [`size_bars`]; this
/// single-BAR form is only `bar_map`'s fallback for a platform that did not.
pub fn size_bar(
    access: &(impl ConfigAccess + ?Sized),
    addr: PciAddress,
    index: usize,
) -> Result<(Option<Bar>, usize), DdkError> {
    if index >= 6 {
        return Err(DdkError::InvalidArgument);
    }
    with_decoding_off(access, addr, || size_bar_decode_off(access, addr, index))
}

/// Decodes and sizes every BAR of a function (PCI 3.0 §6.2.5.1), with memory
/// and I/O decoding off for the whole pass: one command-register write to
/// switch it off and one to restore it per function, none at all when it is
/// already off (under QEMU each decode toggle rebuilds the guest memory map,
/// ~1 ms under TCG). The upper half of a 64-bit BAR is `None`.
pub fn size_bars(
    access: &(impl ConfigAccess + ?Sized),
    addr: PciAddress,
    header_type: u8,
) -> Result<[Option<Bar>; 6], DdkError> {
    if bar_slots(header_type) == 0 {
        return Ok([None; 6]);
    }
    with_decoding_off(access, addr, || {
        size_bars_in_place(access, addr, header_type)
    })
}

/// [`size_bars`] without touching the command register.
fn size_bars_in_place(
    access: &(impl ConfigAccess + ?Sized),
    addr: PciAddress,
    header_type: u8,
) -> Result<[Option<Bar>; 6], DdkError> {
    let mut bars = [None; 6];
    let slots = bar_slots(header_type);
    let mut i = 0;
    while i < slots {
        // A 64-bit BAR in the last slot has no upper half: unimplemented.
        let (bar, used) = match size_bar_decode_off(access, addr, i) {
            Err(DdkError::InvalidArgument) if i + 1 == slots => (None, 1),
            r => r?,
        };
        bars[i] = bar;
        i += used;
    }
    Ok(bars)
}

/// Runs `f` with the function's memory and I/O decoding off, restoring the
/// command register afterwards even when `f` failed half-way. Writes nothing
/// when decoding is already off.
fn with_decoding_off<R>(
    access: &(impl ConfigAccess + ?Sized),
    addr: PciAddress,
    f: impl FnOnce() -> Result<R, DdkError>,
) -> Result<R, DdkError> {
    let decode = command::IO_SPACE | command::MEMORY_SPACE;
    let cmd = access.read_u16(addr, reg::COMMAND)?;
    if cmd & decode == 0 {
        return f();
    }
    access.write_u16(addr, reg::COMMAND, cmd & !decode)?;
    let result = f();
    let restore = access.write_u16(addr, reg::COMMAND, cmd);
    let r = result?;
    restore?;
    Ok(r)
}

/// Decodes BAR `index` from its live register(s) with a size already known
/// (from an earlier [`size_bar`], e.g. the platform's enumeration), without
/// writing anything: no decode toggle, no all-ones probe. `Ok(None)` when the
/// register does not fit that size (an unimplemented slot, a size that is not
/// a power of two or below the type's minimum, an address not aligned to the
/// size): the caller then sizes the BAR itself.
pub fn decode_bar_with_size(
    access: &(impl ConfigAccess + ?Sized),
    addr: PciAddress,
    index: usize,
    size: u64,
) -> Result<Option<Bar>, DdkError> {
    if index >= 6 {
        return Err(DdkError::InvalidArgument);
    }
    let off = reg::BAR0 + 4 * index as u16;
    let lo = access.read_u32(addr, off)?;
    if !size.is_power_of_two() {
        return Ok(None);
    }
    if lo & 1 == 1 {
        let port = lo & !3;
        if !(4..=256).contains(&size)
            || port == 0
            || port > 0xffff
            || !(port as u64).is_multiple_of(size)
        {
            return Ok(None);
        }
        return Ok(Some(Bar::Io {
            port: port as u16,
            size: size as u16,
        }));
    }
    let prefetchable = lo & 8 != 0;
    let bar = match (lo >> 1) & 3 {
        0 => {
            if size > 1 << 31 {
                return Ok(None);
            }
            Bar::Memory32 {
                address: lo & !0xf,
                size: size as u32,
                prefetchable,
            }
        }
        2 if index < 5 => {
            let hi = access.read_u32(addr, off + 4)?;
            Bar::Memory64 {
                address: (hi as u64) << 32 | (lo & !0xf) as u64,
                size,
                prefetchable,
            }
        }
        _ => return Ok(None),
    };
    if size < 16 || bar.address() == 0 || !bar.address().is_multiple_of(size) {
        return Ok(None);
    }
    Ok(Some(bar))
}

/// Sizes BAR `index` with decoding already off (see [`with_decoding_off`]).
fn size_bar_decode_off(
    access: &(impl ConfigAccess + ?Sized),
    addr: PciAddress,
    index: usize,
) -> Result<(Option<Bar>, usize), DdkError> {
    let off = reg::BAR0 + 4 * index as u16;
    let orig = access.read_u32(addr, off)?;
    if orig & 1 == 1 {
        access.write_u32(addr, off, 0xffff_ffff)?;
        let rb = access.read_u32(addr, off)?;
        access.write_u32(addr, off, orig)?;
        let size = (!(rb & !3)).wrapping_add(1) & 0xffff;
        if rb & !3 == 0 || size == 0 {
            return Ok((None, 1));
        }
        let port = orig & !3;
        if port > 0xffff {
            return Err(DdkError::Unsupported);
        }
        return Ok((
            Some(Bar::Io {
                port: port as u16,
                size: size as u16,
            }),
            1,
        ));
    }
    let prefetchable = orig & 8 != 0;
    let is64 = (orig >> 1) & 3 == 2;
    if is64 {
        if index == 5 {
            return Err(DdkError::InvalidArgument);
        }
        let orig_hi = access.read_u32(addr, off + 4)?;
        access.write_u32(addr, off, 0xffff_ffff)?;
        access.write_u32(addr, off + 4, 0xffff_ffff)?;
        let lo = access.read_u32(addr, off)?;
        let hi = access.read_u32(addr, off + 4)?;
        access.write_u32(addr, off, orig)?;
        access.write_u32(addr, off + 4, orig_hi)?;
        let mask = (hi as u64) << 32 | (lo & !0xf) as u64;
        if mask == 0 {
            return Ok((None, 2));
        }
        let size = (!mask).wrapping_add(1);
        Ok((
            Some(Bar::Memory64 {
                address: (orig_hi as u64) << 32 | (orig & !0xf) as u64,
                size,
                prefetchable,
            }),
            2,
        ))
    } else {
        access.write_u32(addr, off, 0xffff_ffff)?;
        let rb = access.read_u32(addr, off)?;
        access.write_u32(addr, off, orig)?;
        let mask = rb & !0xf;
        if mask == 0 {
            return Ok((None, 1));
        }
        Ok((
            Some(Bar::Memory32 {
                address: orig & !0xf,
                size: (!mask).wrapping_add(1),
                prefetchable,
            }),
            1,
        ))
    }
}

/// One entry of the capability list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    /// Config-space offset of the capability header.
    pub offset: u8,
    /// Capability id (see [`cap_id`]).
    pub id: u8,
}

/// Walks the capability list. Bounded: at most 48 entries (the most that fit
/// in 192 bytes), pointers below 0x40 end the walk, a repeated offset ends it
/// (a loop), and the bottom two pointer bits are masked as PCI 3.0 §6.7 says.
pub struct CapabilityIter<'a, A: ?Sized> {
    access: &'a A,
    addr: PciAddress,
    next: u8,
    steps: u32,
    seen: [u64; 4],
    /// Set when the walk stopped on a malformed list rather than at its end.
    pub malformed: bool,
}

impl<A: ConfigAccess + ?Sized> Iterator for CapabilityIter<'_, A> {
    type Item = Capability;
    fn next(&mut self) -> Option<Capability> {
        let off = self.next & !3;
        if off == 0 {
            return None;
        }
        let bit = off as usize;
        if off < 0x40 || self.steps >= 48 || self.seen[bit / 64] & (1 << (bit % 64)) != 0 {
            self.malformed = true;
            self.next = 0;
            return None;
        }
        self.seen[bit / 64] |= 1 << (bit % 64);
        self.steps += 1;
        let Ok(hdr) = self.access.read_u16(self.addr, off as u16) else {
            self.malformed = true;
            self.next = 0;
            return None;
        };
        self.next = (hdr >> 8) as u8;
        Some(Capability {
            offset: off,
            id: hdr as u8,
        })
    }
}

/// What the DDK knows about one PCI function, read once at probe time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciDevice {
    pub address: PciAddress,
    pub vendor_id: u16,
    pub device_id: u16,
    pub revision: u8,
    pub class: u8,
    pub subclass: u8,
    pub prog_if: u8,
    /// Header layout (0 endpoint, 1 PCI bridge, 2 CardBus), multifunction bit cleared.
    pub header_type: u8,
    pub multifunction: bool,
    pub subsystem_vendor_id: u16,
    pub subsystem_id: u16,
    pub interrupt_line: u8,
    pub interrupt_pin: u8,
    /// Decoded and sized BARs; the upper half of a 64-bit BAR is `None`.
    pub bars: [Option<Bar>; 6],
}

impl PciDevice {
    /// Reads the header and sizes the BARs ([`size_bars`]: one decode toggle
    /// per function at most). `Ok(None)` when no function answers.
    ///
    /// This is enumeration, the platform's job: drivers get the platform's
    /// result from [`crate::Platform::pci_device`] instead, which never
    /// writes config space.
    pub fn probe(
        access: &(impl ConfigAccess + ?Sized),
        address: PciAddress,
    ) -> Result<Option<PciDevice>, DdkError> {
        let Some(mut d) = Self::probe_header(access, address)? else {
            return Ok(None);
        };
        d.bars = if d.class == 0x06 && d.subclass == 0x00 {
            // Host bridges may not like their decoding switched off (Linux's
            // quirk_mmio_always_on); their BARs, if any, are sized in place.
            size_bars_in_place(access, address, d.header_type)?
        } else {
            size_bars(access, address, d.header_type)?
        };
        Ok(Some(d))
    }

    /// Reads the header only (reads, no writes); `bars` are all `None`.
    /// `Ok(None)` when no function answers.
    pub fn probe_header(
        access: &(impl ConfigAccess + ?Sized),
        address: PciAddress,
    ) -> Result<Option<PciDevice>, DdkError> {
        let id = access.read_u32(address, reg::VENDOR_ID)?;
        let vendor_id = id as u16;
        if vendor_id == 0xffff || vendor_id == 0 {
            return Ok(None);
        }
        let class = access.read_u32(address, reg::REVISION)?;
        let ht = access.read_u8(address, reg::HEADER_TYPE)?;
        let header_type = ht & 0x7f;
        // Subsystem ids exist in type-0 headers only (bridges have other
        // registers there, PCI-to-PCI Bridge 1.2 §3.2).
        let sub = if header_type == 0 {
            access.read_u32(address, reg::SUBSYSTEM_VENDOR_ID)?
        } else {
            0
        };
        let irq = access.read_u16(address, reg::INTERRUPT_LINE)?;
        Ok(Some(PciDevice {
            address,
            vendor_id,
            device_id: (id >> 16) as u16,
            revision: class as u8,
            class: (class >> 24) as u8,
            subclass: (class >> 16) as u8,
            prog_if: (class >> 8) as u8,
            header_type,
            multifunction: ht & 0x80 != 0,
            subsystem_vendor_id: sub as u16,
            subsystem_id: (sub >> 16) as u16,
            interrupt_line: irq as u8,
            interrupt_pin: (irq >> 8) as u8,
            bars: [None; 6],
        }))
    }

    /// The device a platform described in a [`PciDeviceInfo`] (what
    /// `pci_device_info` returned for `address`).
    pub fn from_info(address: PciAddress, info: &PciDeviceInfo) -> PciDevice {
        PciDevice {
            address,
            vendor_id: info.vendor_id,
            device_id: info.device_id,
            revision: info.revision,
            class: info.class,
            subclass: info.subclass,
            prog_if: info.prog_if,
            header_type: info.header_type & 0x7f,
            multifunction: info.header_type & 0x80 != 0,
            subsystem_vendor_id: info.subsystem_vendor_id,
            subsystem_id: info.subsystem_id,
            interrupt_line: info.interrupt_line,
            interrupt_pin: info.interrupt_pin,
            bars: info.bars.map(|b| b.to_bar()),
        }
    }

    /// The capability list (empty when the status register says there is none).
    pub fn capabilities<'a, A: ConfigAccess + ?Sized>(
        &self,
        access: &'a A,
    ) -> CapabilityIter<'a, A> {
        let has = access
            .read_u16(self.address, reg::STATUS)
            .map(|s| s & STATUS_CAP_LIST != 0)
            .unwrap_or(false);
        let first = if has {
            access
                .read_u8(self.address, reg::CAPABILITIES_PTR)
                .unwrap_or(0)
        } else {
            0
        };
        CapabilityIter {
            access,
            addr: self.address,
            next: first,
            steps: 0,
            seen: [0; 4],
            malformed: false,
        }
    }

    /// Offset of the first capability with `id`.
    pub fn find_capability(&self, access: &(impl ConfigAccess + ?Sized), id: u8) -> Option<u8> {
        self.capabilities(access)
            .find(|c| c.id == id)
            .map(|c| c.offset)
    }

    pub fn command(&self, access: &(impl ConfigAccess + ?Sized)) -> Result<u16, DdkError> {
        access.read_u16(self.address, reg::COMMAND)
    }

    /// Sets `bits` in the command register, leaving the others as they are.
    pub fn set_command_bits(
        &self,
        access: &(impl ConfigAccess + ?Sized),
        bits: u16,
    ) -> Result<(), DdkError> {
        let cmd = self.command(access)?;
        if cmd & bits != bits {
            access.write_u16(self.address, reg::COMMAND, cmd | bits)?;
        }
        Ok(())
    }

    pub fn enable_memory_decode(
        &self,
        access: &(impl ConfigAccess + ?Sized),
    ) -> Result<(), DdkError> {
        self.set_command_bits(access, command::MEMORY_SPACE)
    }
    pub fn enable_io_decode(&self, access: &(impl ConfigAccess + ?Sized)) -> Result<(), DdkError> {
        self.set_command_bits(access, command::IO_SPACE)
    }
    /// Lets the function master the bus (needed before it can DMA).
    pub fn enable_bus_master(&self, access: &(impl ConfigAccess + ?Sized)) -> Result<(), DdkError> {
        self.set_command_bits(access, command::BUS_MASTER)
    }
}

/// [`PciBarInfo::kind`] values.
pub mod bar_kind {
    pub const NONE: u32 = 0;
    pub const MEMORY32: u32 = 1;
    pub const MEMORY64: u32 = 2;
    pub const IO: u32 = 3;
}

/// [`PciBarInfo::flags`] bits.
pub mod bar_flags {
    /// A prefetchable memory BAR (PCI 3.0 §6.2.5.1, bit 3 of the register).
    pub const PREFETCHABLE: u32 = 1 << 0;
}

/// One BAR as the platform's enumeration decoded and sized it (PCI 3.0
/// §6.2.5.1). 24 bytes, `#[repr(C)]`, the layout of the managed
/// `Ddk.PciBarInfo`. The upper half of a 64-bit BAR and unimplemented slots
/// are all zero ([`bar_kind::NONE`]).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct PciBarInfo {
    /// A [`bar_kind`] value.
    pub kind: u32,
    /// [`bar_flags`] bits.
    pub flags: u32,
    /// Base address (a port number for I/O BARs); 0 if never assigned.
    pub address: u64,
    /// Size in bytes (a power of two).
    pub size: u64,
}

const _: () = assert!(core::mem::size_of::<PciBarInfo>() == 24);

impl PciBarInfo {
    pub const fn from_bar(bar: Option<Bar>) -> PciBarInfo {
        let (kind, flags, address, size) = match bar {
            None => (bar_kind::NONE, 0, 0, 0),
            Some(Bar::Memory32 {
                address,
                size,
                prefetchable,
            }) => (
                bar_kind::MEMORY32,
                if prefetchable {
                    bar_flags::PREFETCHABLE
                } else {
                    0
                },
                address as u64,
                size as u64,
            ),
            Some(Bar::Memory64 {
                address,
                size,
                prefetchable,
            }) => (
                bar_kind::MEMORY64,
                if prefetchable {
                    bar_flags::PREFETCHABLE
                } else {
                    0
                },
                address,
                size,
            ),
            Some(Bar::Io { port, size }) => (bar_kind::IO, 0, port as u64, size as u64),
        };
        PciBarInfo {
            kind,
            flags,
            address,
            size,
        }
    }

    /// The decoded BAR; `None` for an empty slot or an unknown kind.
    pub const fn to_bar(self) -> Option<Bar> {
        let prefetchable = self.flags & bar_flags::PREFETCHABLE != 0;
        Some(match self.kind {
            bar_kind::MEMORY32 => Bar::Memory32 {
                address: self.address as u32,
                size: self.size as u32,
                prefetchable,
            },
            bar_kind::MEMORY64 => Bar::Memory64 {
                address: self.address,
                size: self.size,
                prefetchable,
            },
            bar_kind::IO => Bar::Io {
                port: self.address as u16,
                size: self.size as u16,
            },
            _ => return None,
        })
    }
}

/// One capability-list entry (PCI 3.0 §6.7) in a [`PciDeviceInfo`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct PciCapInfo {
    /// Capability id (see [`cap_id`]).
    pub id: u8,
    /// Config-space offset of the capability header.
    pub offset: u8,
}

/// The most capabilities a list can hold: 192 bytes of device-specific
/// config space (0x40..0x100) over 4-byte-aligned headers (PCI 3.0 §6.7).
pub const MAX_CAPABILITIES: usize = 48;

/// What the platform's enumeration knows about one function, filled by the
/// `pci_device_info` ABI entry: the header fields, the six BARs decoded and
/// sized once at enumeration, and the capability list. Drivers read this
/// instead of sizing BARs themselves (which costs config writes and decode
/// toggles).
///
/// `#[repr(C)]`, 264 bytes, no padding, the layout of the managed
/// `Ddk.PciDeviceInfo`; `size` comes first so a later, longer version can be
/// told apart (the producer writes `size_of::<PciDeviceInfo>()`).
///
/// | offset | field |
/// |---|---|
/// | 0 | `size: u32` |
/// | 4 | `vendor_id: u16`, 6 `device_id: u16` |
/// | 8 | `subsystem_vendor_id: u16`, 10 `subsystem_id: u16` |
/// | 12 | `class`, 13 `subclass`, 14 `prog_if`, 15 `revision` (u8) |
/// | 16 | `header_type`, 17 `interrupt_line`, 18 `interrupt_pin`, 19 `reserved` (u8) |
/// | 20 | `cap_count: u32` |
/// | 24 | `bars: [PciBarInfo; 6]` (24 bytes each) |
/// | 168 | `caps: [PciCapInfo; 48]` (2 bytes each) |
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct PciDeviceInfo {
    /// `size_of::<PciDeviceInfo>()` of the producer (264 today).
    pub size: u32,
    pub vendor_id: u16,
    pub device_id: u16,
    pub subsystem_vendor_id: u16,
    pub subsystem_id: u16,
    pub class: u8,
    pub subclass: u8,
    pub prog_if: u8,
    pub revision: u8,
    /// The header-type register: layout in bits 0..7 (0 endpoint, 1 PCI
    /// bridge, 2 CardBus), bit 7 set for a multifunction device.
    pub header_type: u8,
    pub interrupt_line: u8,
    pub interrupt_pin: u8,
    pub reserved: u8,
    /// How many entries of `caps` are valid (at most [`MAX_CAPABILITIES`]).
    pub cap_count: u32,
    pub bars: [PciBarInfo; 6],
    /// The capability list in list order; entries past `cap_count` are zero.
    pub caps: [PciCapInfo; MAX_CAPABILITIES],
}

const _: () = assert!(core::mem::size_of::<PciDeviceInfo>() == 264);
const _: () = assert!(core::mem::align_of::<PciDeviceInfo>() == 8);

impl Default for PciDeviceInfo {
    fn default() -> Self {
        PciDeviceInfo::new_zeroed()
    }
}

impl PciDeviceInfo {
    /// The info of an enumerated device: header fields and BARs from `dev`,
    /// the capability list walked (config reads only) through `access`.
    pub fn collect(access: &(impl ConfigAccess + ?Sized), dev: &PciDevice) -> PciDeviceInfo {
        let mut caps = [PciCapInfo::default(); MAX_CAPABILITIES];
        let mut n = 0;
        for c in dev.capabilities(access).take(MAX_CAPABILITIES) {
            caps[n] = PciCapInfo {
                id: c.id,
                offset: c.offset,
            };
            n += 1;
        }
        PciDeviceInfo {
            cap_count: n as u32,
            caps,
            ..PciDeviceInfo::from_device(dev)
        }
    }

    /// Header fields and BARs of `dev`, an empty capability list.
    pub fn from_device(dev: &PciDevice) -> PciDeviceInfo {
        PciDeviceInfo {
            size: core::mem::size_of::<PciDeviceInfo>() as u32,
            vendor_id: dev.vendor_id,
            device_id: dev.device_id,
            subsystem_vendor_id: dev.subsystem_vendor_id,
            subsystem_id: dev.subsystem_id,
            class: dev.class,
            subclass: dev.subclass,
            prog_if: dev.prog_if,
            revision: dev.revision,
            header_type: dev.header_type | if dev.multifunction { 0x80 } else { 0 },
            interrupt_line: dev.interrupt_line,
            interrupt_pin: dev.interrupt_pin,
            reserved: 0,
            cap_count: 0,
            bars: dev.bars.map(PciBarInfo::from_bar),
            caps: [PciCapInfo::default(); MAX_CAPABILITIES],
        }
    }

    /// The valid part of the capability list.
    pub fn capabilities(&self) -> &[PciCapInfo] {
        &self.caps[..(self.cap_count as usize).min(MAX_CAPABILITIES)]
    }
}

/// Brute-force scan of every bus/device/function (functions 1..8 only when
/// function 0 is multifunction). Calls `found` for each function that answers.
pub fn scan(
    access: &(impl ConfigAccess + ?Sized),
    mut found: impl FnMut(PciDevice),
) -> Result<(), DdkError> {
    for bus in 0..=255u8 {
        for dev in 0..32u8 {
            let a0 = PciAddress::new_truncate(bus, dev, 0);
            let Some(d0) = PciDevice::probe(access, a0)? else {
                continue;
            };
            let multi = d0.multifunction;
            found(d0);
            if multi {
                for f in 1..8u8 {
                    if let Some(d) =
                        PciDevice::probe(access, PciAddress::new_truncate(bus, dev, f))?
                    {
                        found(d);
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_layout_and_abi_encoding() {
        let a = PciAddress::try_new(0x12, 3, 5).unwrap();
        assert_eq!(a.to_abi_u32(), 0x05_03_12);
        assert_eq!(PciAddress::from_abi_u32(0x05_03_12), Some(a));
        assert_eq!(PciAddress::from_abi_u32(0x08_00_00), None);
        assert_eq!(PciAddress::try_new(0, 32, 0), None);
        assert_eq!(a.to_string(), "12:03.5");
        let pt: pci_types::PciAddress = a.into();
        assert_eq!(PciAddress::from(pt), a);
    }

    #[test]
    fn config_offset_checks() {
        assert_eq!(
            check_config_offset(0x3, Width::U16),
            Err(DdkError::Misaligned)
        );
        assert_eq!(
            check_config_offset(0xfa, Width::U32),
            Err(DdkError::Misaligned)
        );
        assert_eq!(
            check_config_offset(0x100, Width::U8),
            Err(DdkError::OutOfBounds)
        );
        assert_eq!(check_config_offset(0xfc, Width::U32), Ok(()));
    }
}
