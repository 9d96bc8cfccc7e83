//! PCI addressing, configuration-space access, BAR decoding/sizing and the
//! capability-list walk (PCI Local Bus Specification 3.0 §6.1, §6.2.5, §6.7).
//!
//! Config access is expressed as [`ConfigAccess`] (safe, width-aware, fallible).
//! [`crate::Platform`] implements it through the DDK ABI table and also
//! implements `pci_types::ConfigRegionAccess`; [`RegionAccess`] adapts any
//! `pci_types::ConfigRegionAccess` (a kernel's CF8/CFC or ECAM code) into a
//! [`ConfigAccess`].

use core::fmt;

use crate::abi::{DdkError, Width};

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

/// Decodes and sizes BAR `index` (PCI 3.0 §6.2.5.1: write all-ones, read back,
/// restore). Memory and I/O decoding are switched off while the BAR holds
/// all-ones and restored afterwards. Returns the BAR (or `None` if the slot is
/// unimplemented) and how many slots it used (2 for a 64-bit BAR).
pub fn size_bar(
    access: &(impl ConfigAccess + ?Sized),
    addr: PciAddress,
    index: usize,
) -> Result<(Option<Bar>, usize), DdkError> {
    if index >= 6 {
        return Err(DdkError::InvalidArgument);
    }
    let off = reg::BAR0 + 4 * index as u16;
    let orig = access.read_u32(addr, off)?;
    let cmd = access.read_u16(addr, reg::COMMAND)?;
    access.write_u16(
        addr,
        reg::COMMAND,
        cmd & !(command::IO_SPACE | command::MEMORY_SPACE),
    )?;
    let result = size_bar_decode_off(access, addr, index, off, orig);
    // Restore decoding even when sizing failed half-way.
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

fn size_bar_decode_off(
    access: &(impl ConfigAccess + ?Sized),
    addr: PciAddress,
    index: usize,
    off: u16,
    orig: u32,
) -> Result<(Option<Bar>, usize), DdkError> {
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
    /// Reads the header and sizes the BARs. `Ok(None)` when no function answers.
    pub fn probe(
        access: &(impl ConfigAccess + ?Sized),
        address: PciAddress,
    ) -> Result<Option<PciDevice>, DdkError> {
        let vendor_id = access.read_u16(address, reg::VENDOR_ID)?;
        if vendor_id == 0xffff || vendor_id == 0 {
            return Ok(None);
        }
        let ht = access.read_u8(address, reg::HEADER_TYPE)?;
        let header_type = ht & 0x7f;
        let mut bars = [None; 6];
        let slots = bar_slots(header_type);
        let mut i = 0;
        while i < slots {
            let (bar, used) = size_bar(access, address, i)?;
            bars[i] = bar;
            i += used;
        }
        let (sv, sid) = if header_type == 0 {
            (
                access.read_u16(address, reg::SUBSYSTEM_VENDOR_ID)?,
                access.read_u16(address, reg::SUBSYSTEM_ID)?,
            )
        } else {
            (0, 0)
        };
        Ok(Some(PciDevice {
            address,
            vendor_id,
            device_id: access.read_u16(address, reg::DEVICE_ID)?,
            revision: access.read_u8(address, reg::REVISION)?,
            class: access.read_u8(address, reg::CLASS)?,
            subclass: access.read_u8(address, reg::SUBCLASS)?,
            prog_if: access.read_u8(address, reg::PROG_IF)?,
            header_type,
            multifunction: ht & 0x80 != 0,
            subsystem_vendor_id: sv,
            subsystem_id: sid,
            interrupt_line: access.read_u8(address, reg::INTERRUPT_LINE)?,
            interrupt_pin: access.read_u8(address, reg::INTERRUPT_PIN)?,
            bars,
        }))
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
