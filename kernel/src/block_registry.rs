//! The kernel's block-device registry: every block device bound at boot (the
//! driver manager's supervised devices, and any a driver registers through the
//! ABI's `block_register`), by id in registration order. A run takes a device
//! out for exclusive use ([`take`]) and puts it back ([`give_back`]) when it
//! is done, so a device is never mounted twice.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use ddk::BlockDevice;
use spin::Mutex;

/// A registered block device: its name, geometry, and the device itself
/// unless a run has taken it.
struct Registered {
    name: String,
    blocks: u64,
    block_size: usize,
    read_only: bool,
    device: Option<Box<dyn BlockDevice>>,
}

/// What the registry knows about one device, for listings.
#[derive(Clone, Debug)]
pub struct DeviceInfo {
    pub id: u32,
    pub name: String,
    pub blocks: u64,
    pub block_size: usize,
    pub read_only: bool,
    /// Taken by a run (e.g. mounted by the shell).
    pub in_use: bool,
}

/// A device taken out of the registry: hand it back with [`give_back`]`(id, …)`.
pub struct Taken {
    pub id: u32,
    pub name: String,
    pub device: Box<dyn BlockDevice>,
}

/// Lets the registry live in a `static`.
struct SingleCpu(Vec<Registered>);

// SAFETY: the kernel runs on one CPU with interrupts off and no threads, so a
// device (and any driver context pointer inside it) is never touched from two
// contexts at once; the Mutex only orders accesses within that one context.
unsafe impl Send for SingleCpu {}

static DEVICES: Mutex<SingleCpu> = Mutex::new(SingleCpu(Vec::new()));

/// Adds a block device to the registry; returns its id.
pub fn add(name: String, device: Box<dyn BlockDevice>) -> u32 {
    let mut devs = DEVICES.lock();
    devs.0.push(Registered {
        name,
        blocks: device.block_count(),
        block_size: device.block_size(),
        read_only: device.is_read_only(),
        device: Some(device),
    });
    (devs.0.len() - 1) as u32
}

/// Takes device `id` out of the registry for exclusive use by a run; `None`
/// if there is no such device or it is already taken.
pub fn take(id: u32) -> Option<Taken> {
    let mut devs = DEVICES.lock();
    let r = devs.0.get_mut(id as usize)?;
    Some(Taken {
        id,
        name: r.name.clone(),
        device: r.device.take()?,
    })
}

/// Puts a device taken with [`take`] back.
pub fn give_back(id: u32, device: Box<dyn BlockDevice>) {
    if let Some(r) = DEVICES.lock().0.get_mut(id as usize) {
        r.device = Some(device);
    }
}

/// Every registered device, in id order.
pub fn list() -> Vec<DeviceInfo> {
    DEVICES
        .lock()
        .0
        .iter()
        .enumerate()
        .map(|(i, r)| DeviceInfo {
            id: i as u32,
            name: r.name.clone(),
            blocks: r.blocks,
            block_size: r.block_size,
            read_only: r.read_only,
            in_use: r.device.is_none(),
        })
        .collect()
}
