//! A managed driver as the driver manager sees every driver: a
//! `ddk::driver::Driver` whose `bind` yields a `BlockDevice`.
//!
//! Entry-class convention (the C# side is `managed/drivers/*/Driver.cs`): a
//! class named `Driver` in a driver assembly with
//! - `const string Name` — the driver's name (e.g. `virtio-blk-managed`);
//! - `static bool Matches(ushort vendor, ushort device, ushort subsystem)`;
//! - `static uint ProbeBdf(uint bdf)` — brings the function up and registers
//!   its block device through the ABI's `block_register`; 0 or a `DdkError`.
//!
//! Both signatures are all integers, so the managed convention is plain SysV
//! and the compiled code is called directly, under a recovery point
//! ([`super::guard`]). `block_register` is captured per instance
//! ([`super::resources`]); the registration becomes a [`ManagedBlockDevice`],
//! whose every request is again a guarded call. A failure at any point is
//! contained: reported, the device quiesced and its resources released, and
//! the error returned (`BindError::DriverFault`, `BlockError::DriverFailed`).
//!
//! Batches (`BlockDevice::read_many`) go to `Ddk.BlockDevices::ReadMany(ctx,
//! requests, count)`, found by name and compiled on the first batch: one
//! guarded call for the whole batch, the requests as
//! [`ddk::abi::BlockReadRequest`]s. A DDK assembly without it leaves the
//! trait's one-at-a-time default.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use ddk::abi::{BlockReadRequest, DdkError, ForeignBlockDevice};
use ddk::driver::{BindError, Driver, PciMatch};
use ddk::pci::{PciAddress, PciDevice};
use ddk::{BlockDevice, BlockError, Lba, Platform};

use super::dma_guard;
use super::guard::{self, Failed};
use super::resources::{self, Released};
use super::{HostError, Runtime};
use crate::exec::Engine;
use crate::metadata::sig::Prim;
use crate::metadata::{ConstantRow, TableId, Token};
use crate::types::{MethodId, TypeId, TypeKind, TypeSystem};

/// A managed driver entry class found in the loaded set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverEntry {
    /// `Ns.Driver`.
    pub class: String,
    /// The `Name` constant (or the assembly name when it has none).
    pub name: String,
    pub assembly: String,
}

fn prim(ts: &TypeSystem, t: TypeId) -> Option<Prim> {
    match ts.info(t).kind {
        TypeKind::Primitive(p) => Some(p),
        _ => None,
    }
}

fn has_static(ts: &TypeSystem, t: TypeId, name: &str, params: &[Prim], ret: Prim) -> bool {
    ts.info(t).methods.iter().any(|&m| {
        let d = ts.method(m);
        d.name == name
            && d.is_static()
            && d.sig.params.len() == params.len()
            && d.sig
                .params
                .iter()
                .zip(params)
                .all(|(p, w)| prim(ts, *p) == Some(*w))
            && prim(ts, d.sig.ret) == Some(ret)
    })
}

/// The value of a `const string` field (UTF-16LE blob of its Constant row).
fn const_string(ts: &TypeSystem, t: TypeId, field: &str) -> Option<String> {
    let f = ts.find_field(t, field)?;
    let fd = ts.field(f);
    if !fd.is_literal() {
        return None;
    }
    let md = ts.metadata(fd.asm).ok()?;
    let row = (1..=md.row_count(TableId::Constant))
        .filter_map(|r| md.row::<ConstantRow>(r).ok())
        .find(|c| Token(c.parent) == fd.token)?;
    let blob = md.blob(row.value).ok()?;
    let units: Vec<u16> = blob
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// Every driver entry class outside the corlib.
pub fn discover(ts: &TypeSystem) -> Vec<DriverEntry> {
    let mut out = Vec::new();
    for asm in ts.assemblies() {
        if Some(asm) == ts.corlib() {
            continue;
        }
        for &t in ts.types_of(asm) {
            if ts.info(t).name != "Driver"
                || !has_static(ts, t, "ProbeBdf", &[Prim::U4], Prim::U4)
                || !has_static(
                    ts,
                    t,
                    "Matches",
                    &[Prim::U2, Prim::U2, Prim::U2],
                    Prim::Boolean,
                )
            {
                continue;
            }
            let assembly = String::from(ts.assembly_name(asm));
            out.push(DriverEntry {
                class: ts.type_name(t),
                name: const_string(ts, t, "Name").unwrap_or_else(|| assembly.clone()),
                assembly,
            });
        }
    }
    out
}

/// A contained failure, kept for the `drivers` listing and for tests.
#[derive(Clone, Debug)]
pub struct FaultRecord {
    pub device: PciAddress,
    pub driver: &'static str,
    /// What the driver was doing (`bind`, `read 8 blocks at LBA 2048`, …).
    pub during: String,
    pub failed: Failed,
    pub released: Released,
}

/// The shared runtime handle drivers and their devices keep.
pub type SharedRuntime = Rc<RefCell<Runtime>>;

/// Fault records of every managed driver (for `drivers` and tests).
pub type FaultLog = Rc<RefCell<Vec<FaultRecord>>>;

/// A managed driver behind `ddk::driver::Driver`.
pub struct ManagedDriver {
    name: &'static str,
    entry: DriverEntry,
    matches: extern "C" fn(u16, u16, u16) -> u8,
    probe_bdf: extern "C" fn(u32) -> u32,
    /// `Ddk.BlockDevices::Unregister(IntPtr)`, if the DDK has it: a clean
    /// unbind. Compiled only when a device is unbound, not at boot.
    unregister: Option<MethodId>,
    /// `Ddk.BlockDevices::Forget`: frees a failed device's registry slot.
    forget: Option<MethodId>,
    /// `Ddk.BlockDevices::ReadMany`: batches, compiled on the first one.
    read_many: Option<MethodId>,
    /// The engine this driver's code belongs to (activated around each call).
    engine: *mut Engine,
    faults: FaultLog,
}

/// Runs `f` under a recovery point with `engine` as the active engine.
///
/// # Safety
/// As for [`guard::run`]; `engine` must be live.
unsafe fn run_on<F: FnOnce() -> u64>(
    engine: *mut Engine,
    instance: u32,
    f: F,
) -> Result<u64, Box<Failed>> {
    // SAFETY: the caller keeps `engine` alive; the previous engine is put
    // back whether the call returned or failed (a failure resumes here too).
    unsafe {
        let prev = crate::exec::swap_active(engine);
        // Collections inside the call only when the engine opted in (see
        // `GcState::hosted`): the hosting layer keeps no object references
        // of its own (registrations are slot numbers, buffers are native).
        let r = if (*engine).gc.hosted {
            crate::exec::gc::with_managed_stack(|| guard::run(instance, f))
        } else {
            guard::run(instance, f)
        };
        crate::exec::swap_active(prev);
        r
    }
}

impl ManagedDriver {
    /// Compiles the entry points of `entry` in `rt`.
    pub fn new(rt: &SharedRuntime, entry: DriverEntry) -> Result<ManagedDriver, HostError> {
        let mut r = rt.borrow_mut();
        let matches = r.compile(&entry.class, "Matches")?;
        let probe = r.compile(&entry.class, "ProbeBdf")?;
        let ts = &r.engine.ts;
        let unregister = ts
            .find_type_by_full_name("Ddk.BlockDevices")
            .and_then(|t| ts.find_method(t, "Unregister"));
        let forget = ts
            .find_type_by_full_name("Ddk.BlockDevices")
            .and_then(|t| ts.find_method(t, "Forget"));
        let read_many = ts
            .find_type_by_full_name("Ddk.BlockDevices")
            .and_then(|t| ts.find_method(t, "ReadMany"));
        let engine = r.engine.as_ptr();
        // The driver manager keeps drivers for the life of the platform.
        let name: &'static str = Box::leak(entry.name.clone().into_boxed_str());
        // SAFETY: compiled code of a static method whose parameters and
        // result are the integers of this signature; for such methods the
        // managed convention is SysV (see `jit::isa::x64::abi`).
        let matches =
            unsafe { core::mem::transmute::<u64, extern "C" fn(u16, u16, u16) -> u8>(matches) };
        // SAFETY: as above.
        let probe_bdf = unsafe { core::mem::transmute::<u64, extern "C" fn(u32) -> u32>(probe) };
        Ok(ManagedDriver {
            name,
            entry,
            matches,
            probe_bdf,
            unregister,
            forget,
            read_many,
            engine,
            faults: Rc::new(RefCell::new(Vec::new())),
        })
    }

    pub fn entry(&self) -> &DriverEntry {
        &self.entry
    }

    /// Contained failures so far (bind and requests of every device).
    pub fn faults(&self) -> FaultLog {
        self.faults.clone()
    }

    fn contain(&self, instance: u32, device: PciAddress, during: String, failed: Failed) {
        let released = resources::release(instance);
        log_fault(self.name, device, &during, &failed, &released);
        self.faults.borrow_mut().push(FaultRecord {
            device,
            driver: self.name,
            during,
            failed,
            released,
        });
    }
}

/// Logs a contained failure, one line per fact (the boot log is read by people
/// and by xtask).
pub fn log_fault(driver: &str, device: PciAddress, during: &str, f: &Failed, r: &Released) {
    log::error!(
        "managed: FAULT in {} on {} during {}: {}",
        driver,
        device,
        during,
        f.report.what
    );
    if f.report.frames.is_empty() {
        log::error!("managed:   (no managed frame found)");
    }
    // Recursion shows up as runs of one frame: one line per run.
    let frames = &f.report.frames;
    let mut i = 0;
    while i < frames.len() {
        let run = frames[i..].iter().take_while(|x| **x == frames[i]).count();
        if run > 1 {
            log::error!("managed:   {} (x{run})", frames[i]);
        } else {
            log::error!("managed:   {}", frames[i]);
        }
        i += run;
    }
    log::error!(
        "managed: {} contained: bus mastering {}, {} DMA block(s) ({} bytes) freed, {} BAR mapping(s) released, driver unbound",
        device,
        if r.bus_master_off { "off" } else { "NOT switched off" },
        r.dma_blocks,
        r.dma_bytes,
        r.bar_mappings
    );
}

impl Driver for ManagedDriver {
    fn name(&self) -> &'static str {
        self.name
    }

    /// Matching is the managed `Matches`; the table is empty.
    fn id_table(&self) -> &'static [PciMatch] {
        &[]
    }

    fn probe(&self, dev: &PciDevice) -> bool {
        let f = self.matches;
        let (v, d, s) = (dev.vendor_id, dev.device_id, dev.subsystem_id);
        // SAFETY: compiled code of `Matches`; it holds nothing a failure
        // abandons; the engine lives as long as the driver.
        match unsafe { run_on(self.engine, 0, || u64::from(f(v, d, s))) } {
            Ok(r) => r as u8 != 0,
            Err(failed) => {
                log_fault(
                    self.name,
                    dev.address,
                    "Matches",
                    &failed,
                    &Released::default(),
                );
                false
            }
        }
    }

    fn bind(
        &self,
        _platform: Platform,
        dev: &PciDevice,
    ) -> Result<Box<dyn BlockDevice>, BindError> {
        let instance = resources::new_instance(dev.address);
        let f = self.probe_bdf;
        let bdf = dev.address.to_abi_u32();
        // SAFETY: compiled code of `ProbeBdf`; a failure abandons only its
        // frames; the engine lives as long as the driver.
        let r = unsafe { run_on(self.engine, instance, || u64::from(f(bdf))) };
        match r {
            Ok(0) => {}
            Ok(code) => {
                resources::release(instance);
                return Err(BindError::Platform(
                    DdkError::from_u32(code as u32).unwrap_or(DdkError::Failed),
                ));
            }
            Err(failed) => {
                self.contain(instance, dev.address, String::from("bind"), *failed);
                return Err(BindError::DriverFault);
            }
        }
        let desc = resources::with(instance, |h| h.registration).flatten();
        let Some(desc) = desc else {
            resources::release(instance);
            return Err(BindError::Unsupported(
                "the managed driver registered no block device",
            ));
        };
        // SAFETY: the callbacks are compiled managed code (or lazy stubs) of
        // the registering driver, valid while the engine lives (forever), and
        // `ctx` is its registry slot number, not a pointer.
        let inner = unsafe { ForeignBlockDevice::new(desc) }.map_err(BindError::Platform)?;
        Ok(Box::new(ManagedBlockDevice {
            inner,
            instance,
            device: dev.address,
            driver: self.name,
            faults: self.faults.clone(),
            failed: false,
            engine: self.engine,
            unregister: self.unregister,
            forget: self.forget,
            read_many: self.read_many.map(ReadMany::Method),
            batch: Vec::new(),
        }))
    }
}

/// A block device served by a managed driver instance.
pub struct ManagedBlockDevice {
    inner: ForeignBlockDevice,
    instance: u32,
    device: PciAddress,
    driver: &'static str,
    faults: FaultLog,
    failed: bool,
    engine: *mut Engine,
    unregister: Option<MethodId>,
    /// `Ddk.BlockDevices::Forget`: frees a failed device's registry slot.
    forget: Option<MethodId>,
    read_many: Option<ReadMany>,
    /// `read_many`'s request table, reused from batch to batch (empty between calls).
    batch: Vec<BlockReadRequest>,
}

/// `static uint ReadMany(IntPtr ctx, BlockRequest* requests, uint count)`.
type ReadManyFn = extern "C" fn(u64, *mut BlockReadRequest, u32) -> u32;

/// The batch entry: not compiled yet, or its code.
#[derive(Clone, Copy)]
enum ReadMany {
    Method(MethodId),
    Compiled(ReadManyFn),
}

/// Dropping a healthy device unbinds its driver cleanly: the driver's own
/// `Unregister` (it resets the device and frees its memory), then whatever
/// the instance still holds goes back (bus mastering off, mappings, DMA).
/// A failed device was released when it failed.
impl Drop for ManagedBlockDevice {
    fn drop(&mut self) {
        if self.failed {
            return;
        }
        if let Some(m) = self.unregister {
            // SAFETY: the engine lives as long as its drivers' devices, and
            // no JIT code of it runs now (we are not inside a guarded call).
            match unsafe { (*self.engine).compile(m) } {
                Ok(addr) => {
                    // SAFETY: compiled `static uint Unregister(IntPtr)`: all
                    // integers, so the managed convention is SysV.
                    let unregister =
                        unsafe { core::mem::transmute::<u64, extern "C" fn(u64) -> u32>(addr) };
                    let ctx = self.inner.desc().ctx as u64;
                    // SAFETY: called with the context this device registered;
                    // a failure is contained.
                    match unsafe {
                        run_on(self.engine, self.instance, || u64::from(unregister(ctx)))
                    } {
                        Ok(0) => {}
                        Ok(code) => log::warn!(
                            "managed: {} on {}: Unregister returned {}",
                            self.driver,
                            self.device,
                            code
                        ),
                        Err(failed) => log_fault(
                            self.driver,
                            self.device,
                            "unbind",
                            &failed,
                            &Released::default(),
                        ),
                    }
                }
                Err(e) => log::warn!("managed: {}: Unregister: {e}", self.driver),
            }
        }
        let r = resources::release(self.instance);
        log::info!(
            "managed: {} unbound from {} ({} DMA block(s) and {} BAR mapping(s) still held were released)",
            self.driver,
            self.device,
            r.dma_blocks,
            r.bar_mappings
        );
    }
}

impl ManagedBlockDevice {
    /// The hosting instance serving this device.
    pub fn instance(&self) -> u32 {
        self.instance
    }

    /// Whether the driver failed and was stopped.
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// After a failure: frees the device's slot in the managed registry
    /// (`Ddk.BlockDevices::Forget`, which runs no driver code), so restarted
    /// instances of the driver can register again however often it fails.
    fn forget_slot(&mut self) {
        let Some(m) = self.forget else { return };
        // SAFETY: the engine outlives its drivers' devices; no JIT code of
        // it is running (the failed call has been abandoned).
        let addr = match unsafe { (*self.engine).compile(m) } {
            Ok(a) => a,
            Err(e) => {
                log::warn!("managed: {}: Forget: {e}", self.driver);
                return;
            }
        };
        // SAFETY: compiled `static uint Forget(IntPtr)`: integers only, so
        // the managed convention is SysV.
        let forget = unsafe { core::mem::transmute::<u64, extern "C" fn(u64) -> u32>(addr) };
        let ctx = self.inner.desc().ctx as u64;
        // SAFETY: called with the context this device registered; a failure
        // is contained.
        if let Err(f) = unsafe { run_on(self.engine, self.instance, || u64::from(forget(ctx))) } {
            log::warn!("managed: {}: Forget failed: {}", self.driver, f.report.what);
        }
    }

    /// The compiled batch entry, compiled on first use; `None` when the DDK
    /// has none or it does not compile (batches then go one read at a time).
    fn read_many_entry(&mut self) -> Option<ReadManyFn> {
        let m = match self.read_many? {
            ReadMany::Compiled(f) => return Some(f),
            ReadMany::Method(m) => m,
        };
        // SAFETY: the engine outlives its drivers' devices; no JIT code of
        // it is running (we are not inside a guarded call).
        match unsafe { (*self.engine).compile(m) } {
            Ok(addr) => {
                // SAFETY: compiled `static uint ReadMany(IntPtr,
                // BlockRequest*, uint)`: integers and a pointer only, so the
                // managed convention is SysV.
                let f = unsafe { core::mem::transmute::<u64, ReadManyFn>(addr) };
                self.read_many = Some(ReadMany::Compiled(f));
                Some(f)
            }
            Err(e) => {
                log::warn!(
                    "managed: {}: ReadMany: {e}; batches go one read at a time",
                    self.driver
                );
                self.read_many = None;
                None
            }
        }
    }

    /// Runs one request under a recovery point.
    fn guarded(
        &mut self,
        during: impl FnOnce() -> String,
        op: impl FnOnce(&mut ForeignBlockDevice) -> Result<(), BlockError>,
    ) -> Result<(), BlockError> {
        if self.failed {
            return Err(BlockError::DriverFailed);
        }
        let inner: *mut ForeignBlockDevice = &mut self.inner;
        // SAFETY: the request runs managed code through the descriptor's
        // callbacks; a failure abandons only frames of that call (the
        // ForeignBlockDevice holds no lock or owned resource meanwhile).
        let r = unsafe {
            run_on(self.engine, self.instance, || {
                // SAFETY: `inner` is our own field, exclusively borrowed by
                // `&mut self` for the whole call.
                match op(&mut *inner) {
                    Ok(()) => 0,
                    Err(e) => e as u32 as u64,
                }
            })
        };
        match r {
            Ok(0) => Ok(()),
            // The watchdog: a request the driver did not see completed
            // within its bound (`BlockError::Timeout`, the driver's bounded
            // wait on the platform clock) is a driver failure, not an answer:
            // the driver is stopped like a faulted one (bus mastering off,
            // its memory freed) so the supervisor restarts or replaces it and
            // re-issues the request. Whether the driver lost the request or
            // the device hung, a fresh driver resets the device.
            Ok(code) if code == BlockError::Timeout as u64 => {
                self.failed = true;
                let released = resources::release(self.instance);
                log::error!(
                    "managed: WATCHDOG: {} on {}: {} not completed within the driver's bound; treated as a driver fault",
                    self.driver,
                    self.device,
                    during()
                );
                self.forget_slot();
                log::error!(
                    "managed: {} contained: bus mastering {}, {} DMA block(s) ({} bytes) freed, {} BAR mapping(s) released, driver unbound",
                    self.device,
                    if released.bus_master_off { "off" } else { "NOT switched off" },
                    released.dma_blocks,
                    released.dma_bytes,
                    released.bar_mappings
                );
                Err(BlockError::DriverFailed)
            }
            Ok(code) => {
                Err(BlockError::from_u32(code as u32).unwrap_or(BlockError::DeviceMisbehaved))
            }
            Err(failed) => {
                self.failed = true;
                let released = resources::release(self.instance);
                self.forget_slot();
                let during = during();
                log_fault(self.driver, self.device, &during, &failed, &released);
                self.faults.borrow_mut().push(FaultRecord {
                    device: self.device,
                    driver: self.driver,
                    during,
                    failed: *failed,
                    released,
                });
                Err(BlockError::DriverFailed)
            }
        }
    }
}

impl BlockDevice for ManagedBlockDevice {
    fn block_size(&self) -> usize {
        self.inner.block_size()
    }
    fn block_count(&self) -> u64 {
        self.inner.block_count()
    }
    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        let (n, bs) = (buf.len(), self.inner.block_size().max(1));
        dma_guard::lend(self.instance, [(buf.as_ptr() as u64, n as u64)]);
        let r = self.guarded(
            || alloc::format!("read of {} block(s) at LBA {}", n / bs, lba.as_u64()),
            |d| d.read_blocks(lba, buf),
        );
        dma_guard::lend(self.instance, core::iter::empty());
        r
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        let (n, bs) = (buf.len(), self.inner.block_size().max(1));
        dma_guard::lend(self.instance, [(buf.as_ptr() as u64, n as u64)]);
        let r = self.guarded(
            || alloc::format!("write of {} block(s) at LBA {}", n / bs, lba.as_u64()),
            |d| d.write_blocks(lba, buf),
        );
        dma_guard::lend(self.instance, core::iter::empty());
        r
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        self.guarded(|| String::from("flush"), |d| d.flush())
    }
    /// The whole batch is one guarded call of `Ddk.BlockDevices::ReadMany`:
    /// a fault or a timeout anywhere in it stops the driver like one in a
    /// single read (the supervisor re-issues the batch whole). The first
    /// error in request order is returned unless one stopped the batch.
    fn read_many(&mut self, reqs: &mut [ddk::ReadRequest<'_>]) -> Result<(), BlockError> {
        if reqs.is_empty() {
            return Ok(());
        }
        if self.failed {
            return Err(BlockError::DriverFailed);
        }
        let Some(f) = self.read_many_entry() else {
            for r in reqs.iter_mut() {
                self.read_blocks(r.lba, r.buf)?;
            }
            return Ok(());
        };
        let count = u32::try_from(reqs.len()).map_err(|_| BlockError::BadBuffer)?;
        let bs = self.inner.block_size().max(1);
        let blocks: usize = reqs.iter().map(|r| r.buf.len() / bs).sum();
        let first = reqs[0].lba.as_u64();
        // The request table is kept between batches (no allocation per batch).
        let mut descs = core::mem::take(&mut self.batch);
        descs.clear();
        descs.extend(reqs.iter_mut().map(|r| BlockReadRequest {
            lba: r.lba.as_u64(),
            buf: r.buf.as_mut_ptr(),
            len: r.buf.len() as u64,
            status: BlockReadRequest::NOT_SERVED,
            reserved: 0,
        }));
        dma_guard::lend(self.instance, descs.iter().map(|d| (d.buf as u64, d.len)));
        let r = self.guarded(
            || {
                alloc::format!(
                    "batch of {count} read(s), {blocks} block(s), the first at LBA {first}"
                )
            },
            |d| {
                let ctx = d.desc().ctx as u64;
                // The buffers are exclusive borrows held by `reqs` for the
                // whole call; the driver writes only within each `len`.
                match f(ctx, descs.as_mut_ptr(), count) {
                    0 => {}
                    code => {
                        return Err(
                            BlockError::from_u32(code).unwrap_or(BlockError::DeviceMisbehaved)
                        )
                    }
                }
                // The driver answered Ok: every request must say so too.
                descs.iter().try_for_each(BlockReadRequest::result)
            },
        );
        dma_guard::lend(self.instance, core::iter::empty());
        // No pointer into this batch's buffers outlives the call.
        descs.clear();
        self.batch = descs;
        r
    }
}
