//! Native virtio-blk driver (virtio 1.2 §5.2) over the DDK: modern (§4.1.4)
//! and legacy (§4.1.4.8) PCI transports, a split virtqueue (§2.7) with a
//! trusted descriptor shadow, zero-copy requests into caller buffers, and a
//! bounded, recoverable wait.
//!
//! The driver never sizes a BAR: it works from the [`PciDevice`] the platform
//! hands it (its enumeration, `Platform::pci_device`) and maps BARs with
//! `bar_map`, which uses the sizes enumeration found (PCI 3.0 §6.2.5.1).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

extern crate alloc;

pub mod device;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod queue;
pub mod transport;

use alloc::boxed::Box;

use ddk::driver::{BindError, Driver, PciMatch};
use ddk::pci::PciDevice;
use ddk::virtio::{
    VIRTIO_BLK_MODERN_ID, VIRTIO_BLK_TRANSITIONAL_ID, VIRTIO_DEVICE_TYPE_BLOCK, VIRTIO_VENDOR_ID,
};
use ddk::{BlockDevice, Platform};

pub use device::{Config, DeviceInfo, VirtioBlk, SUPPORTED_FEATURES};
pub use transport::{InitError, SomeTransport, Transport};

/// PCI ids this driver takes: transitional (1af4:1001) and modern (1af4:1042).
pub static ID_TABLE: [PciMatch; 2] = [
    PciMatch::id(VIRTIO_VENDOR_ID, VIRTIO_BLK_TRANSITIONAL_ID),
    PciMatch::id(VIRTIO_VENDOR_ID, VIRTIO_BLK_MODERN_ID),
];

/// The driver as the driver manager sees it.
#[derive(Clone, Debug, Default)]
pub struct VirtioBlkDriver {
    pub config: Config,
}

impl Driver for VirtioBlkDriver {
    fn name(&self) -> &'static str {
        "virtio-blk-native"
    }
    fn id_table(&self) -> &'static [PciMatch] {
        &ID_TABLE
    }
    fn probe(&self, dev: &PciDevice) -> bool {
        if !ID_TABLE.iter().any(|m| m.matches(dev)) {
            return false;
        }
        // Transitional ids are shared by all device types: the subsystem id
        // names the type (§4.1.2.1). Modern ids encode it themselves.
        dev.device_id != VIRTIO_BLK_TRANSITIONAL_ID || dev.subsystem_id == VIRTIO_DEVICE_TYPE_BLOCK
    }
    fn bind(&self, platform: Platform, dev: &PciDevice) -> Result<Box<dyn BlockDevice>, BindError> {
        Ok(Box::new(VirtioBlk::new(
            platform,
            dev.clone(),
            self.config.clone(),
        )?))
    }
}

// A bound device can move to whichever thread the kernel runs storage on.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<VirtioBlk>();
};
