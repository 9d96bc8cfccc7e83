//! Legacy virtio PCI transport (virtio 1.2 §4.1.4.8 and the legacy notes of
//! §2.7.2): registers in I/O BAR0 of a transitional device (1af4:1001), one
//! contiguous ring given by 4096-byte page number, fixed queue size, 32
//! feature bits and no FEATURES_OK step. Port I/O goes through the same DDK
//! region API as MMIO.
#![forbid(unsafe_code)]

use ddk::abi::DdkError;
use ddk::pci::PciDevice;
use ddk::virtio::{legacy, SplitRingLayout};
use ddk::{PhysAddr, Platform, Region};

use super::{InitError, Transport};

/// Registers of a legacy virtio PCI function (I/O BAR0, no MSI-X).
#[derive(Debug)]
pub struct LegacyTransport {
    io: Region,
}

impl LegacyTransport {
    /// Maps BAR0, which must be an I/O BAR large enough for the blk config.
    pub fn probe(platform: Platform, dev: &PciDevice) -> Result<LegacyTransport, InitError> {
        match dev.bars[0] {
            Some(b) if b.is_io() => {}
            _ => {
                return Err(InitError::Unsupported(
                    "legacy virtio device without an I/O BAR0",
                ))
            }
        }
        let io = platform.map_bar(dev.address, 0)?;
        if !io.is_io() || io.len() < legacy::DEVICE_CONFIG as u64 + 24 {
            let _ = io.unmap();
            return Err(InitError::Device("legacy I/O BAR0 is too small"));
        }
        Ok(LegacyTransport { io })
    }
}

impl Drop for LegacyTransport {
    /// Releases BAR0 once the owner has reset the device (see `VirtioBlk`'s
    /// `Drop`); a handle the platform no longer knows is already gone.
    fn drop(&mut self) {
        let _ = self.io.unmap();
    }
}

impl Transport for LegacyTransport {
    fn is_legacy(&self) -> bool {
        true
    }
    fn device_features(&self) -> Result<u64, DdkError> {
        legacy::DEVICE_FEATURES.read(&self.io).map(u64::from)
    }
    fn set_driver_features(&self, f: u64) -> Result<(), DdkError> {
        legacy::DRIVER_FEATURES.write(&self.io, f as u32)
    }
    fn status(&self) -> Result<u8, DdkError> {
        legacy::DEVICE_STATUS.read(&self.io)
    }
    fn set_status(&self, s: u8) -> Result<(), DdkError> {
        legacy::DEVICE_STATUS.write(&self.io, s)
    }
    fn max_queue_size(&self, q: u16) -> Result<u16, DdkError> {
        legacy::QUEUE_SELECT.write(&self.io, q)?;
        legacy::QUEUE_SIZE.read(&self.io)
    }
    fn activate_queue(
        &mut self,
        q: u16,
        size: u16,
        ring: PhysAddr,
        l: &SplitRingLayout,
    ) -> Result<(), InitError> {
        legacy::QUEUE_SELECT.write(&self.io, q)?;
        if legacy::QUEUE_SIZE.read(&self.io)? != size || l.size != size {
            return Err(InitError::Device(
                "legacy queue size is fixed by the device",
            ));
        }
        let addr = ring.as_u64();
        let pfn = addr >> legacy::PAGE_SHIFT;
        if !addr.is_multiple_of(legacy::QUEUE_ALIGN as u64) || pfn > u32::MAX as u64 {
            return Err(InitError::Unsupported(
                "legacy ring must be page-aligned below 2^44",
            ));
        }
        legacy::QUEUE_ADDRESS.write(&self.io, pfn as u32)?;
        Ok(())
    }
    fn notify(&self, q: u16) -> Result<(), DdkError> {
        legacy::QUEUE_NOTIFY.write(&self.io, q)
    }
    fn ack_interrupt(&self) -> Result<u8, DdkError> {
        legacy::ISR_STATUS.read(&self.io)
    }
    fn config_read_u8(&self, o: usize) -> Result<u8, DdkError> {
        self.io.read_u8(legacy::DEVICE_CONFIG + o)
    }
    fn config_read_u32(&self, o: usize) -> Result<u32, DdkError> {
        self.io.read_u32(legacy::DEVICE_CONFIG + o)
    }
}
