//! Modern virtio PCI transport (virtio 1.2 §4.1.4): find the common,
//! notify, ISR and device configuration structures through vendor-specific
//! PCI capabilities, map the BARs they live in, and drive the common
//! configuration registers (§4.1.4.3) and notifications (§4.1.4.4).
#![forbid(unsafe_code)]

use ddk::abi::DdkError;
use ddk::pci::{cap_id, ConfigAccess, PciDevice};
use ddk::virtio::{cfg_type, common, SplitRingLayout, COMMON_CFG_MIN_LEN};
use ddk::{PhysAddr, Platform, Region};

use super::{InitError, Transport};

/// Registers of a modern virtio PCI function.
#[derive(Debug)]
pub struct ModernTransport {
    common: Region,
    notify: Region,
    notify_off_multiplier: u32,
    isr: Option<Region>,
    device: Region,
    /// Byte offset inside `notify` for queue 0, set by `activate_queue`.
    queue0_notify: Option<u64>,
    /// The whole BARs the windows above lie in, released on drop.
    _bars: MappedBars,
}

/// The BARs a transport mapped (their handles, 0 = not mapped), unmapped
/// when it goes (after the device was reset by its owner) or when probing
/// fails halfway, so a driver that is unbound and bound again does not leave
/// a dead mapping behind per bind.
#[derive(Debug)]
struct MappedBars {
    platform: Platform,
    handles: [u64; 6],
}

impl Drop for MappedBars {
    fn drop(&mut self) {
        for h in self.handles.into_iter().filter(|&h| h != 0) {
            // A handle the platform no longer knows is already gone.
            let _ = self.platform.unmap_bar(h);
        }
    }
}

/// One `virtio_pci_cap` as read from config space.
#[derive(Clone, Copy, Debug)]
struct CapInfo {
    bar: u8,
    offset: u32,
    length: u32,
    cap_off: u8,
}

impl ModernTransport {
    /// Walks the capability list. `Ok(None)` if there is no virtio common
    /// configuration capability at all (a legacy-only device).
    pub fn probe(
        platform: Platform,
        dev: &PciDevice,
    ) -> Result<Option<ModernTransport>, InitError> {
        let a = dev.address;
        let mut found: [Option<CapInfo>; 5] = [None; 5];
        for cap in dev.capabilities(&platform) {
            if cap.id != cap_id::VENDOR_SPECIFIC {
                continue;
            }
            let off = cap.offset as u16;
            let cap_len = platform.read_u8(a, off + 2)?;
            let ty = platform.read_u8(a, off + 3)?;
            let bar = platform.read_u8(a, off + 4)?;
            if cap_len < 16 || !(cfg_type::COMMON..=cfg_type::DEVICE).contains(&ty) {
                continue;
            }
            // §4.1.4: ignore structures in reserved BARs; the first usable one of each type wins.
            if bar > 5 || !matches!(dev.bars[bar as usize], Some(b) if !b.is_io()) {
                continue;
            }
            if ty == cfg_type::NOTIFY && cap_len < 20 {
                continue;
            }
            let slot = &mut found[ty as usize];
            if slot.is_none() {
                *slot = Some(CapInfo {
                    bar,
                    offset: platform.read_u32(a, off + 8)?,
                    length: platform.read_u32(a, off + 12)?,
                    cap_off: cap.offset,
                });
            }
        }
        let Some(common_cap) = found[cfg_type::COMMON as usize] else {
            return Ok(None);
        };
        let notify_cap = found[cfg_type::NOTIFY as usize].ok_or(InitError::Device(
            "modern device without a notify capability",
        ))?;
        let device_cap = found[cfg_type::DEVICE as usize].ok_or(InitError::Device(
            "modern device without a device-config capability",
        ))?;
        if (common_cap.length as usize) < COMMON_CFG_MIN_LEN {
            return Err(InitError::Device(
                "common configuration capability is too short",
            ));
        }
        let multiplier = platform.read_u32(a, notify_cap.cap_off as u16 + 16)?;

        let mut bars = MappedBars {
            platform,
            handles: [0; 6],
        };
        let mut whole: [Option<Region>; 6] = [None; 6];
        let mut window = |c: CapInfo| -> Result<Region, InitError> {
            let region = match whole[c.bar as usize] {
                Some(r) => r,
                None => {
                    let r = platform.map_bar(a, c.bar)?;
                    whole[c.bar as usize] = Some(r);
                    bars.handles[c.bar as usize] = r.handle();
                    r
                }
            };
            region
                .subregion(c.offset as u64, c.length as u64)
                .map_err(|_| InitError::Device("virtio capability points outside its BAR"))
        };
        let common = window(common_cap)?;
        let notify = window(notify_cap)?;
        let device = window(device_cap)?;
        let isr = match found[cfg_type::ISR as usize] {
            Some(c) => Some(window(c)?),
            None => None,
        };
        Ok(Some(ModernTransport {
            common,
            notify,
            notify_off_multiplier: multiplier,
            isr,
            device,
            queue0_notify: None,
            _bars: bars,
        }))
    }

    /// Reads (and thereby clears) the ISR status byte, if the device has one.
    pub fn read_isr(&self) -> Result<u8, DdkError> {
        match &self.isr {
            Some(r) => r.read_u8(0),
            None => Err(DdkError::Unsupported),
        }
    }
}

impl Transport for ModernTransport {
    fn is_legacy(&self) -> bool {
        false
    }
    fn device_features(&self) -> Result<u64, DdkError> {
        common::DEVICE_FEATURE_SELECT.write(&self.common, 0)?;
        let lo = common::DEVICE_FEATURE.read(&self.common)?;
        common::DEVICE_FEATURE_SELECT.write(&self.common, 1)?;
        let hi = common::DEVICE_FEATURE.read(&self.common)?;
        Ok((hi as u64) << 32 | lo as u64)
    }
    fn set_driver_features(&self, f: u64) -> Result<(), DdkError> {
        common::DRIVER_FEATURE_SELECT.write(&self.common, 0)?;
        common::DRIVER_FEATURE.write(&self.common, f as u32)?;
        common::DRIVER_FEATURE_SELECT.write(&self.common, 1)?;
        common::DRIVER_FEATURE.write(&self.common, (f >> 32) as u32)
    }
    fn status(&self) -> Result<u8, DdkError> {
        common::DEVICE_STATUS.read(&self.common)
    }
    fn set_status(&self, s: u8) -> Result<(), DdkError> {
        common::DEVICE_STATUS.write(&self.common, s)
    }
    fn max_queue_size(&self, q: u16) -> Result<u16, DdkError> {
        common::QUEUE_SELECT.write(&self.common, q)?;
        common::QUEUE_SIZE.read(&self.common)
    }
    fn activate_queue(
        &mut self,
        q: u16,
        size: u16,
        ring: PhysAddr,
        l: &SplitRingLayout,
    ) -> Result<(), InitError> {
        let c = &self.common;
        common::QUEUE_SELECT.write(c, q)?;
        let max = common::QUEUE_SIZE.read(c)?;
        if size == 0 || size > max {
            return Err(InitError::Device("queue size out of the device's range"));
        }
        common::QUEUE_SIZE.write(c, size)?;
        let desc = ring.as_u64();
        let driver = desc + l.avail_offset as u64;
        let device = desc + l.used_offset as u64;
        // 64-bit fields as two 32-bit writes (§4.1.3.1): some hosts reject 64-bit MMIO.
        common::QUEUE_DESC_LO.write(c, desc as u32)?;
        common::QUEUE_DESC_HI.write(c, (desc >> 32) as u32)?;
        common::QUEUE_DRIVER_LO.write(c, driver as u32)?;
        common::QUEUE_DRIVER_HI.write(c, (driver >> 32) as u32)?;
        common::QUEUE_DEVICE_LO.write(c, device as u32)?;
        common::QUEUE_DEVICE_HI.write(c, (device >> 32) as u32)?;
        let notify_off = common::QUEUE_NOTIFY_OFF.read(c)? as u64;
        let byte_off = notify_off
            .checked_mul(self.notify_off_multiplier as u64)
            .filter(|o| o + 2 <= self.notify.len())
            .ok_or(InitError::Device(
                "queue notify address lies outside the notify region",
            ))?;
        if q == 0 {
            self.queue0_notify = Some(byte_off);
        }
        common::QUEUE_ENABLE.write(c, 1)?;
        Ok(())
    }
    fn set_queue_vector(&self, q: u16, v: u16) -> Result<bool, DdkError> {
        common::QUEUE_SELECT.write(&self.common, q)?;
        common::QUEUE_MSIX_VECTOR.write(&self.common, v)?;
        Ok(common::QUEUE_MSIX_VECTOR.read(&self.common)? == v)
    }
    fn notify(&self, q: u16) -> Result<(), DdkError> {
        if q != 0 {
            return Err(DdkError::InvalidArgument);
        }
        let off = self.queue0_notify.ok_or(DdkError::InvalidArgument)?;
        self.notify.write_u16(off as usize, q)
    }
    fn config_read_u8(&self, o: usize) -> Result<u8, DdkError> {
        self.device.read_u8(o)
    }
    fn config_read_u32(&self, o: usize) -> Result<u32, DdkError> {
        self.device.read_u32(o)
    }
    fn config_generation(&self) -> Result<u8, DdkError> {
        common::CONFIG_GENERATION.read(&self.common)
    }
}
