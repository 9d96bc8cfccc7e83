//! Driver matching and binding: PCI id tables, the [`Driver`] description
//! (probe → bind → a [`BlockDevice`]), and the helper a driver manager uses
//! to pick a driver for a device.

use alloc::boxed::Box;
use core::fmt;

use crate::block::{BlockDevice, BlockError};
use crate::pci::PciDevice;
use crate::platform::Platform;
use crate::wire::DdkError;

/// One id-table row. `None` fields match anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciMatch {
    pub vendor: Option<u16>,
    pub device: Option<u16>,
    /// (class, subclass)
    pub class: Option<(u8, u8)>,
}

impl PciMatch {
    /// Matches exactly `vendor:device`.
    pub const fn id(vendor: u16, device: u16) -> Self {
        PciMatch {
            vendor: Some(vendor),
            device: Some(device),
            class: None,
        }
    }
    /// Matches every function of a class/subclass.
    pub const fn class(class: u8, subclass: u8) -> Self {
        PciMatch {
            vendor: None,
            device: None,
            class: Some((class, subclass)),
        }
    }
    pub fn matches(&self, d: &PciDevice) -> bool {
        self.vendor.is_none_or(|v| v == d.vendor_id)
            && self.device.is_none_or(|v| v == d.device_id)
            && self.class.is_none_or(|c| c == (d.class, d.subclass))
    }
}

/// Why binding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BindError {
    /// A platform service failed.
    Platform(DdkError),
    /// The device is not one this driver can drive (with the reason).
    Unsupported(&'static str),
    /// The device answered but violated its specification (with what).
    Device(&'static str),
    /// A block-level failure during bring-up.
    Block(BlockError),
    /// The driver faulted during bring-up (a contained CPU exception or
    /// managed runtime error; the platform logged the report).
    DriverFault,
}

impl From<DdkError> for BindError {
    fn from(e: DdkError) -> Self {
        BindError::Platform(e)
    }
}
impl From<BlockError> for BindError {
    fn from(e: BlockError) -> Self {
        BindError::Block(e)
    }
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindError::Platform(e) => write!(f, "platform: {e}"),
            BindError::Unsupported(why) => write!(f, "unsupported device: {why}"),
            BindError::Device(why) => write!(f, "device error: {why}"),
            BindError::Block(e) => write!(f, "block: {e}"),
            BindError::DriverFault => write!(f, "the driver faulted (see the fault report)"),
        }
    }
}

/// A driver as the driver manager sees it.
pub trait Driver {
    /// Short unique name, e.g. `"virtio-blk-native"`.
    fn name(&self) -> &'static str;
    /// Devices this driver may take.
    fn id_table(&self) -> &'static [PciMatch];
    /// Whether to try `bind` (default: any id-table row matches).
    fn probe(&self, dev: &PciDevice) -> bool {
        self.id_table().iter().any(|m| m.matches(dev))
    }
    /// Brings the device up.
    fn bind(&self, platform: Platform, dev: &PciDevice) -> Result<Box<dyn BlockDevice>, BindError>;
}

/// The first driver whose `probe` accepts `dev`.
pub fn find_driver<'a>(drivers: &[&'a dyn Driver], dev: &PciDevice) -> Option<&'a dyn Driver> {
    drivers.iter().copied().find(|d| d.probe(dev))
}

/// The driver called `name` if it accepts `dev` (for a `driver=` choice).
pub fn find_driver_by_name<'a>(
    drivers: &[&'a dyn Driver],
    name: &str,
    dev: &PciDevice,
) -> Option<&'a dyn Driver> {
    drivers
        .iter()
        .copied()
        .find(|d| d.name() == name && d.probe(dev))
}
