//! The driver manager: for every virtio-blk PCI function (1af4:1042 modern,
//! 1af4:1001 legacy/transitional) it binds the driver the command line asks
//! for (`driver=native|managed|auto`) and registers the resulting block
//! device with the platform. `auto` means native until a managed driver can
//! be loaded; `managed` is refused with a clear error for now.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use ddk::driver::Driver;
use ddk::pci::PciDevice;
use ddk::Platform;
use spin::Mutex;

use crate::cmdline::DriverChoice;
use crate::platform;

/// Vendor/device ids of virtio-blk functions.
pub const VIRTIO_VENDOR: u16 = 0x1af4;
pub const VIRTIO_BLK_MODERN: u16 = 0x1042;
pub const VIRTIO_BLK_LEGACY: u16 = 0x1001;

/// What happened to one device.
pub struct Binding {
    pub device: PciDevice,
    /// Driver name, if one is bound.
    pub driver: Option<&'static str>,
    /// Block device id in the platform registry.
    pub block_id: Option<u32>,
    /// `bound`, or why not.
    pub status: String,
}

static BINDINGS: Mutex<Vec<Binding>> = Mutex::new(Vec::new());

static VIRTIO_BLK: spin::Lazy<virtio_blk::VirtioBlkDriver> =
    spin::Lazy::new(virtio_blk::VirtioBlkDriver::default);

/// Native drivers compiled into the kernel.
fn native_drivers() -> [&'static dyn Driver; 1] {
    [&*VIRTIO_BLK]
}

/// Whether `d` is a virtio-blk function.
pub fn is_virtio_blk(d: &PciDevice) -> bool {
    d.vendor_id == VIRTIO_VENDOR && matches!(d.device_id, VIRTIO_BLK_MODERN | VIRTIO_BLK_LEGACY)
}

/// Transport name for a virtio-blk device id.
pub fn transport(d: &PciDevice) -> &'static str {
    match d.device_id {
        VIRTIO_BLK_MODERN => "modern",
        VIRTIO_BLK_LEGACY => "legacy",
        _ => "-",
    }
}

/// Binds every virtio-blk device. Returns the number bound; an error when the
/// configuration cannot be honoured (managed requested) or a bind failed.
pub fn bind_all(choice: DriverChoice) -> Result<usize, String> {
    if choice == DriverChoice::Managed {
        return Err(String::from(
            "driver=managed: managed driver not available yet (use driver=native or driver=auto)",
        ));
    }
    let mut bound = 0;
    let mut first_error = None;
    for dev in crate::pci::devices().iter().filter(|d| is_virtio_blk(d)) {
        // SAFETY: `platform::ABI` is the kernel's complete, 'static table.
        let platform = unsafe { Platform::new(&platform::ABI) }
            .map_err(|e| format!("DDK platform table rejected: {e}"))?;
        let drivers = native_drivers();
        let Some(driver) = ddk::driver::find_driver(&drivers, dev) else {
            record(dev, None, None, String::from("no native driver matches"));
            continue;
        };
        let t0 = crate::time::now_us();
        let sizing_before = crate::pci::sizing_writes();
        let bind = driver.bind(platform, dev);
        let sizing_after = crate::pci::sizing_writes();
        log::info!(
            "drivers: {} bind: {} BAR-register writes, {} decode-off toggles (BARs sized at enumeration only)",
            dev.address,
            sizing_after.0 - sizing_before.0,
            sizing_after.1 - sizing_before.1
        );
        match bind {
            Ok(blk) => {
                let name = format!("vd{}", (b'a' + bound as u8) as char);
                let (blocks, bs, ro) = (blk.block_count(), blk.block_size(), blk.is_read_only());
                let id = platform::add_block_device(name.clone(), blk);
                log::info!(
                    "drivers: {} {:04x}:{:04x} ({}) bound to {} as {} in {} us: {} blocks of {} B{}",
                    dev.address,
                    dev.vendor_id,
                    dev.device_id,
                    transport(dev),
                    driver.name(),
                    name,
                    crate::time::now_us() - t0,
                    blocks,
                    bs,
                    if ro { ", read-only" } else { "" }
                );
                record(dev, Some(driver.name()), Some(id), String::from("bound"));
                bound += 1;
            }
            Err(e) => {
                let msg = format!("{} failed to bind {}: {}", driver.name(), dev.address, e);
                log::error!("drivers: {msg}");
                record(dev, Some(driver.name()), None, format!("bind failed: {e}"));
                first_error.get_or_insert(msg);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(bound),
    }
}

fn record(dev: &PciDevice, driver: Option<&'static str>, block_id: Option<u32>, status: String) {
    BINDINGS.lock().push(Binding {
        device: dev.clone(),
        driver,
        block_id,
        status,
    });
}

/// Prints the `drivers` table.
pub fn print_drivers(out: &mut dyn core::fmt::Write) -> core::fmt::Result {
    let drivers = native_drivers();
    writeln!(out, "drivers available:")?;
    for d in drivers {
        writeln!(out, "  {} (native)", d.name())?;
    }
    writeln!(out, "bindings:")?;
    let b = BINDINGS.lock();
    if b.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for b in b.iter() {
        writeln!(
            out,
            "  {} {:04x}:{:04x} {:<6} {:<20} {}{}",
            b.device.address,
            b.device.vendor_id,
            b.device.device_id,
            transport(&b.device),
            b.driver.unwrap_or("-"),
            b.status,
            b.block_id
                .map(|i| format!(" (block device {i})"))
                .unwrap_or_default()
        )?;
    }
    writeln!(out, "MMIO mappings (uncached):")?;
    for (phys, virt, len) in platform::mmio_regions() {
        writeln!(out, "  phys 0x{phys:x} -> virt 0x{virt:x}, 0x{len:x} bytes")?;
    }
    writeln!(out, "block devices:")?;
    for (id, name, blocks, bs, ro, busy) in platform::block_devices() {
        writeln!(
            out,
            "  {id}: {name} {} blocks x {bs} B = {} MiB{}{}",
            blocks,
            (blocks * bs as u64) >> 20,
            if ro { " read-only" } else { "" },
            if busy { " (mounted)" } else { "" }
        )?;
    }
    Ok(())
}

/// Prints the `devices` table: every PCI function and its BARs as
/// enumeration sized them (nothing is probed again).
pub fn print_devices(out: &mut dyn core::fmt::Write) -> core::fmt::Result {
    for d in crate::pci::devices() {
        writeln!(
            out,
            "{} {:04x}:{:04x} class {:02x}/{:02x}/{:02x} {}",
            d.address,
            d.vendor_id,
            d.device_id,
            d.class,
            d.subclass,
            d.prog_if,
            crate::pci::class_name(d.class, d.subclass)
        )?;
        for (i, bar) in d.bars.iter().enumerate() {
            let Some(bar) = bar else { continue };
            let kind = match bar {
                ddk::Bar::Memory32 { prefetchable, .. } => {
                    if *prefetchable {
                        "mem32 pref"
                    } else {
                        "mem32"
                    }
                }
                ddk::Bar::Memory64 { prefetchable, .. } => {
                    if *prefetchable {
                        "mem64 pref"
                    } else {
                        "mem64"
                    }
                }
                ddk::Bar::Io { .. } => "io",
            };
            writeln!(
                out,
                "    BAR{i} {kind:<10} 0x{:x} size 0x{:x}",
                bar.address(),
                bar.size()
            )?;
        }
    }
    Ok(())
}
