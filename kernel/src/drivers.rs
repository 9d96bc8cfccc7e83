//! The driver manager: for every virtio-blk PCI function (1af4:1042 modern,
//! 1af4:1001 legacy/transitional) it binds the driver the command line asks
//! for (`driver=native|managed|auto`, or a comma list in PCI order) and
//! registers the resulting block device with the platform. Native and managed
//! drivers are both `ddk::driver::Driver`s and register the same way.
//!
//! `auto` binds the managed driver when the boot module provides one and
//! falls back to the native driver when it is absent or when loading, JIT or
//! bind fails. A managed driver that faults later is first restarted on its
//! device (`restart=N` times, with backoff), then under `auto` replaced by the
//! native driver; the failed request is re-issued each time (see
//! `cil_compat::hosting::supervise`). `managed` never falls back: once the
//! restarts are used up the device is failed, with the same report.

use alloc::boxed::Box;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use cil_compat::hosting::supervise::{Attempt, Fallback, Supervised};
use ddk::driver::Driver;
use ddk::pci::PciDevice;
use ddk::{BlockDevice, BlockError, Lba, Platform};
use spin::Mutex;

use crate::{block_registry, platform};
use kernel_logic::cmdline::{DriverChoice, DriverPlan};

/// Vendor/device ids of virtio-blk functions.
pub const VIRTIO_VENDOR: u16 = 0x1af4;
pub const VIRTIO_BLK_MODERN: u16 = 0x1042;
pub const VIRTIO_BLK_LEGACY: u16 = 0x1001;

/// What happened to one device.
pub struct Binding {
    pub device: PciDevice,
    /// What the command line asked for this device.
    pub choice: DriverChoice,
    /// Driver name, if one is bound.
    pub driver: Option<&'static str>,
    /// Block device id in the platform registry.
    pub block_id: Option<u32>,
    /// `bound`, or why not.
    pub status: String,
}

static BINDINGS: Mutex<Vec<Binding>> = Mutex::new(Vec::new());

/// The block device the platform registry holds for a bound function: a
/// handle on its supervisor, which the driver manager keeps too, so the
/// driver can be replaced under a mounted volume (`rebind`).
struct SharedDevice(Rc<RefCell<Supervised>>);

impl BlockDevice for SharedDevice {
    fn block_size(&self) -> usize {
        self.0.borrow().block_size()
    }
    fn block_count(&self) -> u64 {
        self.0.borrow().block_count()
    }
    fn is_read_only(&self) -> bool {
        self.0.borrow().is_read_only()
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        let r = self.0.borrow_mut().read_blocks(lba, buf);
        log::trace!(
            "blk: read lba {} +{} bytes: {:?}",
            lba.as_u64(),
            buf.len(),
            r
        );
        r
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        let r = self.0.borrow_mut().write_blocks(lba, buf);
        log::trace!(
            "blk: write lba {} +{} bytes: {:?}",
            lba.as_u64(),
            buf.len(),
            r
        );
        r
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        let r = self.0.borrow_mut().flush();
        log::trace!("blk: flush: {:?}", r);
        r
    }
    fn read_many(&mut self, reqs: &mut [ddk::ReadRequest<'_>]) -> Result<(), BlockError> {
        self.0.borrow_mut().read_many(reqs)
    }
}

/// A bound function's supervisor, by block-device name.
struct Supervisor {
    name: String,
    device: PciDevice,
    sup: Rc<RefCell<Supervised>>,
}

/// Lets the supervisors live in a `static`.
struct SingleCpu(Vec<Supervisor>);

// SAFETY: the kernel runs on one CPU with interrupts off and no threads; the
// Rc/RefCell handles are never touched from two contexts at once.
unsafe impl Send for SingleCpu {}

static SUPERVISORS: Mutex<SingleCpu> = Mutex::new(SingleCpu(Vec::new()));

/// `restart=` from the command line, for policies made after boot.
static RESTARTS: AtomicU32 = AtomicU32::new(kernel_logic::cmdline::DEFAULT_RESTARTS);

/// Recovery counts since boot: driver failures the recovery policy was
/// asked to handle, restarts that brought the managed driver back, native
/// fallbacks bound (the fault-injection campaign reads them from the log).
static RECOVERIES: AtomicU32 = AtomicU32::new(0);
static RESTARTED: AtomicU32 = AtomicU32::new(0);
static FELL_BACK: AtomicU32 = AtomicU32::new(0);

/// Logs the recovery counts since boot.
pub fn log_recovery_summary() {
    log::info!(
        "drivers: recovery summary: {} driver failure(s) handled, {} restart(s), {} native fallback(s)",
        RECOVERIES.load(Ordering::Relaxed),
        RESTARTED.load(Ordering::Relaxed),
        FELL_BACK.load(Ordering::Relaxed)
    );
}

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

fn platform() -> Result<Platform, String> {
    // SAFETY: `platform::ABI` is the kernel's complete, 'static table.
    unsafe { Platform::new(&platform::ABI) }
        .map_err(|e| format!("DDK platform table rejected: {e}"))
}

/// Binds `driver` to `dev`, logging the outcome with the bind time.
fn bind_one(driver: &dyn Driver, dev: &PciDevice) -> Result<Box<dyn BlockDevice>, String> {
    let t0 = crate::time::now_us();
    let sizing_before = crate::pci::sizing_writes();
    let bind = driver.bind(platform()?, dev);
    let sizing_after = crate::pci::sizing_writes();
    log::info!(
        "drivers: {} bind by {}: {} BAR-register writes, {} decode-off toggles (BARs sized at enumeration only)",
        dev.address,
        driver.name(),
        sizing_after.0 - sizing_before.0,
        sizing_after.1 - sizing_before.1
    );
    match bind {
        Ok(blk) => {
            log::info!(
                "drivers: {} {:04x}:{:04x} ({}) bound to {} in {} us: {} blocks of {} B{}",
                dev.address,
                dev.vendor_id,
                dev.device_id,
                transport(dev),
                driver.name(),
                crate::time::now_us() - t0,
                blk.block_count(),
                blk.block_size(),
                if blk.is_read_only() {
                    ", read-only"
                } else {
                    ""
                }
            );
            Ok(blk)
        }
        Err(e) => Err(format!(
            "{} failed to bind {}: {}",
            driver.name(),
            dev.address,
            e
        )),
    }
}

/// The native driver for `dev`, bound.
fn bind_native(dev: &PciDevice) -> Result<(Box<dyn BlockDevice>, &'static str), String> {
    let drivers = native_drivers();
    let driver = ddk::driver::find_driver(&drivers, dev)
        .ok_or_else(|| format!("no native driver matches {}", dev.address))?;
    bind_one(driver, dev).map(|b| (b, driver.name()))
}

/// The managed driver for `dev`, bound.
fn bind_managed(dev: &PciDevice) -> Result<(Box<dyn BlockDevice>, &'static str), String> {
    let m = crate::managed::get().map_err(|e| format!("managed driver unavailable: {e}"))?;
    let drivers: Vec<&dyn Driver> = m.drivers.iter().map(|d| *d as &dyn Driver).collect();
    let driver = ddk::driver::find_driver(&drivers, dev)
        .ok_or_else(|| format!("no managed driver matches {}", dev.address))?;
    let r = bind_one(driver, dev).map(|b| (b, driver.name()));
    crate::managed::log_jit_stats(m);
    r
}

/// The recovery policy for a managed-driven `dev`: on each driver failure,
/// restart the managed driver (a fresh instance on the same function) up to
/// `restarts` times, waiting 1 ms, 2 ms, 4 ms, ... first; then, under `auto`,
/// bind the native driver; under `managed`, give the device up.
fn recovery(dev: PciDevice, choice: DriverChoice, restarts: u32) -> Fallback {
    Box::new(move |attempt: Attempt| {
        let done = attempt.total;
        RECOVERIES.fetch_add(1, Ordering::Relaxed);
        let t0 = crate::time::now_us();
        let note = |status: String, driver: Option<&'static str>| {
            let mut b = BINDINGS.lock();
            if let Some(rec) = b.iter_mut().find(|r| r.device.address == dev.address) {
                rec.status = status;
                if driver.is_some() {
                    rec.driver = driver;
                }
            }
        };
        if done < restarts {
            // Backoff grows with failures of the same request (1, 2, 4 ...
            // 64 ms), not with faults spread over requests that recovered.
            let backoff_us = 1000u64 << attempt.in_request.min(6);
            let until = crate::time::Deadline::after_us(backoff_us);
            while !until.expired() {
                core::hint::spin_loop();
            }
            log::warn!(
                "drivers: {}: restarting the managed driver (attempt {} of {}, after {} us of backoff)",
                dev.address,
                done + 1,
                restarts,
                backoff_us
            );
            match bind_managed(&dev) {
                Ok((blk, name)) => {
                    RESTARTED.fetch_add(1, Ordering::Relaxed);
                    log::warn!(
                        "drivers: {}: managed driver restarted in {} us",
                        dev.address,
                        crate::time::now_us() - t0
                    );
                    note(
                        format!("bound (restarted {} time(s) after faults)", done + 1),
                        Some(name),
                    );
                    return Ok((blk, name));
                }
                Err(e) => log::error!("drivers: {}: restart failed: {e}", dev.address),
            }
        }
        if choice != DriverChoice::Auto {
            note(
                String::from("failed: the managed driver faulted and restarts are used up"),
                None,
            );
            return Err(format!(
                "driver=managed: {} restart(s) used, no fallback",
                restarts.min(done)
            ));
        }
        log::warn!(
            "drivers: {}: falling back to the native driver",
            dev.address
        );
        let r = bind_native(&dev);
        match &r {
            Ok((_, name)) => {
                FELL_BACK.fetch_add(1, Ordering::Relaxed);
                log::warn!(
                    "drivers: {}: native driver bound in {} us",
                    dev.address,
                    crate::time::now_us() - t0
                );
                note(
                    String::from("bound (native fallback after a managed driver fault)"),
                    Some(name),
                )
            }
            Err(e) => note(
                format!("failed: managed driver faulted, fallback: {e}"),
                None,
            ),
        }
        r
    })
}

/// Binds every virtio-blk device as `plan` says. Returns the number bound;
/// an error when a requested driver could not be bound (with `auto`, only
/// when the native fallback failed too).
pub fn bind_all(plan: DriverPlan<'_>, restarts: u32) -> Result<usize, String> {
    RESTARTS.store(restarts, Ordering::Relaxed);
    let mut bound = 0;
    let mut first_error = None;
    let devices: Vec<PciDevice> = crate::pci::devices()
        .iter()
        .filter(|d| is_virtio_blk(d))
        .cloned()
        .collect();
    for (index, dev) in devices.iter().enumerate() {
        let choice = plan.choice(index);
        let result = match choice {
            DriverChoice::Native => bind_native(dev).map(|(b, n)| (b, n, None)),
            DriverChoice::Managed => bind_managed(dev)
                .map(|(b, n)| (b, n, Some(recovery(dev.clone(), choice, restarts)))),
            DriverChoice::Auto => match bind_managed(dev) {
                Ok((b, n)) => Ok((b, n, Some(recovery(dev.clone(), choice, restarts)))),
                Err(why) => {
                    log::warn!(
                        "drivers: {}: auto: {}; binding the native driver",
                        dev.address,
                        why
                    );
                    bind_native(dev).map(|(b, n)| (b, n, None))
                }
            },
        };
        match result {
            Ok((blk, driver, fallback)) => {
                let name = format!("vd{}", (b'a' + bound as u8) as char);
                let sup = Rc::new(RefCell::new(Supervised::new(
                    format!("{name} ({})", dev.address),
                    blk,
                    driver,
                    fallback,
                )));
                SUPERVISORS.lock().0.push(Supervisor {
                    name: name.clone(),
                    device: dev.clone(),
                    sup: sup.clone(),
                });
                let id = block_registry::add(name.clone(), Box::new(SharedDevice(sup)));
                log::info!(
                    "drivers: {} is {} (block device {id}, driver {driver})",
                    dev.address,
                    name
                );
                record(dev, choice, Some(driver), Some(id), String::from("bound"));
                bound += 1;
            }
            Err(e) => {
                log::error!("drivers: {e}");
                record(dev, choice, None, None, format!("failed: {e}"));
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(bound),
    }
}

/// The driver serving block device `name` now.
pub fn bound_driver(name: &str) -> Option<&'static str> {
    let s = SUPERVISORS.lock();
    s.0.iter()
        .find(|v| v.name == name)
        .map(|v| v.sup.borrow().driver())
}

/// Replaces the driver of block device `name` (`vda`, …) with `to`
/// (`native` or `managed`; for `managed`, a fresh load and JIT of the
/// assemblies from the boot module) while its volume stays mounted. Returns a
/// one-line summary with the time each step took.
pub fn rebind(name: &str, to: &str) -> Result<String, String> {
    let (dev, sup) = {
        let s = SUPERVISORS.lock();
        let v =
            s.0.iter()
                .find(|v| v.name == name)
                .ok_or_else(|| format!("no block device '{name}' bound by the driver manager"))?;
        (v.device.clone(), v.sup.clone())
    };
    let from = sup.borrow().driver();
    let mut load_us = 0u64;
    let r = match to {
        "native" => sup
            .borrow_mut()
            .rebind(crate::time::now_us, || bind_native(&dev), None),
        "managed" => {
            let restarts = RESTARTS.load(Ordering::Relaxed);
            let policy = recovery(dev.clone(), DriverChoice::Auto, restarts);
            sup.borrow_mut().rebind(
                crate::time::now_us,
                || {
                    let t = crate::time::now_us();
                    let m = crate::managed::load_fresh()?;
                    load_us = crate::time::now_us() - t;
                    let drivers: Vec<&dyn Driver> =
                        m.drivers.iter().map(|d| *d as &dyn Driver).collect();
                    let driver = ddk::driver::find_driver(&drivers, &dev)
                        .ok_or_else(|| format!("no managed driver matches {}", dev.address))?;
                    let r = bind_one(driver, &dev).map(|b| (b, driver.name()));
                    crate::managed::log_jit_stats(m);
                    r
                },
                Some(policy),
            )
        }
        other => {
            return Err(format!(
                "'{other}' is not a driver kind (native or managed)"
            ))
        }
    };
    let mut b = BINDINGS.lock();
    let rec = b.iter_mut().find(|r| r.device.address == dev.address);
    match r {
        Ok((flush, unbind, bind)) => {
            let now = sup.borrow().driver();
            if let Some(rec) = rec {
                rec.driver = Some(now);
                rec.status = format!("bound (rebound from {from})");
            }
            Ok(format!(
                "{name}: {from} -> {now} in {} us (flush {flush} us, unbind {unbind} us, {}bind {} us)",
                flush + unbind + bind,
                if to == "managed" {
                    format!("load+JIT {load_us} us + ")
                } else {
                    String::new()
                },
                bind.saturating_sub(load_us)
            ))
        }
        Err(e) => {
            if let Some(rec) = rec {
                rec.driver = None;
                rec.status = format!("failed: rebind to {to}: {e}");
            }
            Err(format!("{name}: rebind from {from} to {to} failed: {e} (the device has no driver now; rebind it again)"))
        }
    }
}

fn record(
    dev: &PciDevice,
    choice: DriverChoice,
    driver: Option<&'static str>,
    block_id: Option<u32>,
    status: String,
) {
    BINDINGS.lock().push(Binding {
        device: dev.clone(),
        choice,
        driver,
        block_id,
        status,
    });
}

/// Prints the `drivers` table.
pub fn print_drivers(out: &mut dyn core::fmt::Write) -> core::fmt::Result {
    writeln!(out, "drivers available:")?;
    for d in native_drivers() {
        writeln!(out, "  {} (native)", d.name())?;
    }
    let loads = crate::managed::loads();
    if loads.is_empty() {
        writeln!(out, "  (managed drivers: not loaded)")?;
    }
    for (i, m) in loads.iter().enumerate() {
        for d in &m.drivers {
            let e = d.entry();
            let faults = d.faults().borrow().len();
            writeln!(
                out,
                "  {} (managed, {} from the boot module{}, {} contained fault(s))",
                e.name,
                e.assembly,
                if i == 0 {
                    String::new()
                } else {
                    format!(", load #{}", i + 1)
                },
                faults
            )?;
        }
    }
    writeln!(out, "bindings:")?;
    let b = BINDINGS.lock();
    if b.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for b in b.iter() {
        writeln!(
            out,
            "  {} {:04x}:{:04x} {:<6} {:<7} {:<20} {}{}",
            b.device.address,
            b.device.vendor_id,
            b.device.device_id,
            transport(&b.device),
            b.choice.as_str(),
            b.driver.unwrap_or("-"),
            b.status,
            b.block_id
                .map(|i| format!(" (block device {i})"))
                .unwrap_or_default()
        )?;
    }
    writeln!(out, "MMIO mappings (uncached):")?;
    for platform::MmioMapping { phys, virt, len } in platform::mmio_mappings() {
        writeln!(out, "  phys 0x{phys:x} -> virt 0x{virt:x}, 0x{len:x} bytes")?;
    }
    writeln!(out, "block devices:")?;
    for d in block_registry::list() {
        writeln!(
            out,
            "  {}: {} {} blocks x {} B = {} MiB{}{}",
            d.id,
            d.name,
            d.blocks,
            d.block_size,
            (d.blocks * d.block_size as u64) >> 20,
            if d.read_only { " read-only" } else { "" },
            if d.in_use { " (mounted)" } else { "" }
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
