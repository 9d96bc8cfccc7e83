//! Host fakes behind the `testing` feature: a fake PCI bus, fake DMA memory
//! and a virtio-blk device model, all reached through the real DDK ABI table
//! ([`FAKE_ABI`], built by [`crate::abi::table`] like the kernel's), so any
//! driver — native now, managed (JIT code calling the same entries) later —
//! runs against them unchanged.
//!
//! State is per thread (Rust runs tests on parallel threads): call
//! [`reset`] at the start of a test, install devices, take [`platform`].
//! The clock is virtual: every `time_ns` call advances it by
//! [`Settings::tick_ns`], so bounded waits end deterministically and fast.

pub mod memory;
pub mod pci;
pub mod virtio_blk;

use std::cell::RefCell;
use std::ptr::NonNull;

use crate::abi::{
    self, Backend, BlockDeviceDesc, DdkAbi, DdkError, ForeignBlockDevice, LogLevel, Width,
};
use crate::pci::{ConfigAccess, PciAddress, PciDevice, PciDeviceInfo};
use crate::platform::Platform;

pub use memory::{FakeMemory, MemKind};
pub use pci::{FakeBarKind, FakeConfigSpace};
pub use virtio_blk::{Backing, BlkOptions, BlkStats, Fault, VirtioBlkDevice, POLL_STRETCH};

/// The behaviour behind a fake function's BARs.
pub trait DeviceModel {
    /// A read of `width` at `offset` in BAR `bar` (memory or I/O).
    fn bar_read(&mut self, bar: u8, offset: u64, width: Width, mem: &mut FakeMemory) -> u64;
    /// A write; the device may process DMA synchronously here.
    fn bar_write(&mut self, bar: u8, offset: u64, width: Width, value: u64, mem: &mut FakeMemory);
    /// Whether the device raised an interrupt since the last call (what a
    /// platform's `irq_wait` reports as fired); the device may finish work
    /// in `mem` first. Devices without interrupts: never.
    fn take_interrupt(&mut self, mem: &mut FakeMemory) -> bool {
        let _ = mem;
        false
    }
    /// The device's own work between driver calls, as a device that polls
    /// its rings does it (an iothread): called on every clock read, which is
    /// what a driver waiting for a completion does now and then. Default:
    /// nothing.
    fn poll(&mut self, mem: &mut FakeMemory) {
        let _ = mem;
    }
}

struct Function {
    addr: PciAddress,
    config: FakeConfigSpace,
    model: Box<dyn DeviceModel>,
    /// The fake platform's enumeration of this function (what
    /// `pci_device_info` answers), taken when it was added.
    info: PciDeviceInfo,
}

/// One config-space write a driver made through the ABI (`pci_write*`,
/// `bar_map`, `pci_enable_bus_master`), with the register's value before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigWrite {
    pub addr: PciAddress,
    pub offset: u16,
    pub width: Width,
    pub value: u32,
    pub before: u32,
}

impl ConfigWrite {
    /// Whether the write touched a BAR register (0x10..0x28, PCI 3.0
    /// §6.2.5.1): what BAR sizing does.
    pub fn hits_bar(&self) -> bool {
        let (start, end) = (self.offset, self.offset + self.width.bytes() as u16);
        start < crate::pci::reg::BAR0 + 24 && end > crate::pci::reg::BAR0
    }
    /// Whether the write switched memory or I/O decoding off in the command
    /// register (the first half of a sizing toggle).
    pub fn turns_decoding_off(&self) -> bool {
        let decode = (crate::pci::command::IO_SPACE | crate::pci::command::MEMORY_SPACE) as u32;
        // Only writes covering the command register's low byte.
        if self.offset > crate::pci::reg::COMMAND
            || self.offset + (self.width.bytes() as u16) <= crate::pci::reg::COMMAND
        {
            return false;
        }
        let shift = 8 * (crate::pci::reg::COMMAND - self.offset) as u32;
        let (old, new) = (
            (self.before >> shift) & decode,
            (self.value >> shift) & decode,
        );
        old & !new != 0
    }
}

/// [`ConfigAccess`] straight on a fake config space: the fake platform's
/// own enumeration, which sizes BARs with the DDK's code like the kernel.
struct Direct<'a>(RefCell<&'a mut FakeConfigSpace>);

impl ConfigAccess for Direct<'_> {
    fn config_read(&self, _: PciAddress, offset: u16, width: Width) -> Result<u32, DdkError> {
        crate::pci::check_config_offset(offset, width)?;
        Ok(self.0.borrow().read(offset, width))
    }
    fn config_write(
        &self,
        _: PciAddress,
        offset: u16,
        width: Width,
        value: u32,
    ) -> Result<(), DdkError> {
        crate::pci::check_config_offset(offset, width)?;
        self.0.borrow_mut().write(offset, width, value);
        Ok(())
    }
}

/// Enumerates one function as a platform's PCI scan would: header, BARs
/// sized once (PCI 3.0 §6.2.5.1), capability list (§6.7).
fn enumerate(addr: PciAddress, config: &mut FakeConfigSpace) -> PciDeviceInfo {
    let access = Direct(RefCell::new(config));
    match PciDevice::probe(&access, addr) {
        Ok(Some(d)) => PciDeviceInfo::collect(&access, &d),
        // A function whose vendor id a test zeroed: enumerated as absent.
        _ => PciDeviceInfo::default(),
    }
}

struct Mapping {
    func: usize,
    bar: u8,
    len: u64,
}

/// Knobs of the fake platform.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Whether `time_ns` works.
    pub clock: bool,
    /// Virtual nanoseconds added per `time_ns` call.
    pub tick_ns: u64,
    /// Also print log lines to stderr (shown for failing tests).
    pub echo_logs: bool,
    /// `irq_setup` succeeds (as under `completion=irq`); else `Unsupported`.
    pub interrupts: bool,
    /// Interrupts never arrive: every `irq_wait` runs into its timeout
    /// (the virtual clock advances by it).
    pub lose_interrupts: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            clock: true,
            tick_ns: 100_000,
            echo_logs: true,
            interrupts: false,
            lose_interrupts: false,
        }
    }
}

#[derive(Default)]
struct Context {
    functions: Vec<Function>,
    mappings: Vec<Option<Mapping>>,
    memory: FakeMemory,
    clock: u64,
    settings: Settings,
    logs: Vec<(LogLevel, String)>,
    markers: Vec<u32>,
    config_writes: Vec<ConfigWrite>,
    block_devices: Vec<(String, Option<ForeignBlockDevice>)>,
    /// `irq_setup` handles (index + 1): the function index, `None` once released.
    irqs: Vec<Option<usize>>,
    irq_waits: u64,
    irq_fired: u64,
    calls: CallCounts,
}

/// How often drivers reached the platform's costly entries: under a
/// hypervisor every device register access is a trap to the device model,
/// so these are what a request costs beyond its instructions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub mmio_reads: u64,
    pub mmio_writes: u64,
    pub port_reads: u64,
    pub port_writes: u64,
    pub virt_to_phys: u64,
    pub time_ns: u64,
    pub irq_waits: u64,
}

impl CallCounts {
    /// Device register accesses (MMIO and port I/O, reads and writes).
    pub fn register_accesses(&self) -> u64 {
        self.mmio_reads + self.mmio_writes + self.port_reads + self.port_writes
    }
}

impl core::ops::Sub for CallCounts {
    type Output = CallCounts;
    fn sub(self, o: CallCounts) -> CallCounts {
        CallCounts {
            mmio_reads: self.mmio_reads - o.mmio_reads,
            mmio_writes: self.mmio_writes - o.mmio_writes,
            port_reads: self.port_reads - o.port_reads,
            port_writes: self.port_writes - o.port_writes,
            virt_to_phys: self.virt_to_phys - o.virt_to_phys,
            time_ns: self.time_ns - o.time_ns,
            irq_waits: self.irq_waits - o.irq_waits,
        }
    }
}

thread_local! {
    static CTX: RefCell<Context> = RefCell::new(Context::default());
}

fn with<R>(f: impl FnOnce(&mut Context) -> R) -> R {
    CTX.with(|c| f(&mut c.borrow_mut()))
}

/// `(live irq_setup handles, irq_wait calls, waits that saw the interrupt)`.
pub fn irq_stats() -> (usize, u64, u64) {
    with(|c| (c.irqs.iter().flatten().count(), c.irq_waits, c.irq_fired))
}

/// Wraps the model of the function at `addr` in `wrap`'s (a profiler's
/// harness leaves the device's own work out of its counts this way).
pub fn wrap_model(
    addr: PciAddress,
    wrap: impl FnOnce(Box<dyn DeviceModel>) -> Box<dyn DeviceModel>,
) {
    /// Stands in for the model while it is being wrapped.
    struct Absent;
    impl DeviceModel for Absent {
        fn bar_read(&mut self, _: u8, _: u64, _: Width, _: &mut FakeMemory) -> u64 {
            0
        }
        fn bar_write(&mut self, _: u8, _: u64, _: Width, _: u64, _: &mut FakeMemory) {}
    }
    with(|c| {
        if let Some(i) = function_index(c, addr) {
            let f = &mut c.functions[i];
            let inner = std::mem::replace(&mut f.model, Box::new(Absent));
            f.model = wrap(inner);
        }
    })
}

/// The platform calls counted since [`reset`].
pub fn call_counts() -> CallCounts {
    with(|c| CallCounts {
        irq_waits: c.irq_waits,
        ..c.calls
    })
}

/// Starts a fresh fake platform for this thread (drops devices, memory, logs).
pub fn reset() {
    let old = CTX.with(|c| c.replace(Context::default()));
    drop(old);
}

/// The fake platform's ABI table.
pub static FAKE_ABI: DdkAbi = abi::table::<FakeBackend>();

/// A [`Platform`] over [`FAKE_ABI`].
pub fn platform() -> Platform {
    // SAFETY: FAKE_ABI is built by `abi::table` from `FakeBackend`, whose
    // implementation upholds `Backend`'s contract.
    unsafe { Platform::new(&FAKE_ABI) }.expect("FAKE_ABI has a valid header")
}

/// Adds a function to the fake bus (replacing one at the same address) and
/// enumerates it, as a platform's scan would: its BARs are sized here, once,
/// and `pci_device_info` answers from this enumeration afterwards.
pub fn add_function(addr: PciAddress, mut config: FakeConfigSpace, model: Box<dyn DeviceModel>) {
    let info = enumerate(addr, &mut config);
    with(|c| {
        c.functions.retain(|f| f.addr != addr);
        c.functions.push(Function {
            addr,
            config,
            model,
            info,
        });
    })
}

/// Reads or changes this thread's settings.
pub fn settings<R>(f: impl FnOnce(&mut Settings) -> R) -> R {
    with(|c| f(&mut c.settings))
}

/// Access to the fake memory (e.g. `translate_enabled`, `outstanding()`).
pub fn memory<R>(f: impl FnOnce(&mut FakeMemory) -> R) -> R {
    with(|c| f(&mut c.memory))
}

/// Raw access to a function's config space (to inspect or break it). The
/// function is enumerated again afterwards (a test's change is a different
/// device, not a driver's doing), so `pci_device_info` sees the change.
pub fn config_space<R>(addr: PciAddress, f: impl FnOnce(&mut FakeConfigSpace) -> R) -> Option<R> {
    with(|c| {
        c.functions.iter_mut().find(|x| x.addr == addr).map(|x| {
            let r = f(&mut x.config);
            x.info = enumerate(addr, &mut x.config);
            r
        })
    })
}

/// Every config write drivers made through the ABI since [`reset`] (or the
/// last [`clear_config_writes`]), in order. The fake platform's own
/// enumeration is not in it.
/// BAR mappings made through `map_bar` and not yet unmapped.
pub fn live_bar_mappings() -> usize {
    with(|c| c.mappings.iter().filter(|m| m.is_some()).count())
}

pub fn config_writes() -> Vec<ConfigWrite> {
    with(|c| c.config_writes.clone())
}

/// Forgets the recorded config writes.
pub fn clear_config_writes() {
    with(|c| c.config_writes.clear())
}

/// Log lines received through the ABI.
pub fn logs() -> Vec<(LogLevel, String)> {
    with(|c| c.logs.clone())
}

/// Debug markers received through the ABI.
pub fn markers() -> Vec<u32> {
    with(|c| c.markers.clone())
}

/// Takes a registered block device out (name and device) by its id.
pub fn take_block_device(id: u32) -> Option<(String, ForeignBlockDevice)> {
    with(|c| {
        let (name, dev) = c.block_devices.get_mut(id as usize)?;
        Some((name.clone(), dev.take()?))
    })
}

/// The fake platform behind [`FAKE_ABI`].
pub struct FakeBackend;

fn function_index(c: &Context, addr: PciAddress) -> Option<usize> {
    c.functions.iter().position(|f| f.addr == addr)
}

// SAFETY: DMA blocks come from the host allocator, zeroed, with the asked
// alignment; translations are only claimed within one host page; MMIO never
// touches host memory (it calls the device model); handles are small indices.
unsafe impl Backend for FakeBackend {
    fn log(level: LogLevel, msg: &str) {
        with(|c| {
            if c.settings.echo_logs {
                eprintln!("[ddk {level:?}] {msg}");
            }
            c.logs.push((level, msg.to_string()));
        })
    }
    fn debug_marker(code: u32) {
        with(|c| c.markers.push(code))
    }
    fn time_ns() -> Option<u64> {
        with(|c| {
            c.calls.time_ns += 1;
            for f in &mut c.functions {
                f.model.poll(&mut c.memory);
            }
            if !c.settings.clock {
                return None;
            }
            c.clock += c.settings.tick_ns;
            Some(c.clock)
        })
    }
    fn irq_setup(addr: PciAddress, source: u32) -> Result<u64, DdkError> {
        with(|c| {
            if !c.settings.interrupts {
                return Err(DdkError::Unsupported);
            }
            let f = function_index(c, addr).ok_or(DdkError::NoDevice)?;
            if source != abi::IRQ_SOURCE_INTX && source >= 2 {
                return Err(DdkError::InvalidArgument);
            }
            c.irqs.push(Some(f));
            Ok(c.irqs.len() as u64)
        })
    }
    fn irq_wait(handle: u64, timeout_ns: u64) -> Result<bool, DdkError> {
        with(|c| {
            let f = handle
                .checked_sub(1)
                .and_then(|i| c.irqs.get(i as usize).copied().flatten())
                .ok_or(DdkError::BadHandle)?;
            c.irq_waits += 1;
            let raised = c.functions[f].model.take_interrupt(&mut c.memory);
            let fired = raised && !c.settings.lose_interrupts;
            if fired {
                c.irq_fired += 1;
            } else {
                // Halted until the timeout.
                c.clock = c.clock.saturating_add(timeout_ns);
            }
            Ok(fired)
        })
    }
    fn irq_release(handle: u64) -> Result<(), DdkError> {
        with(|c| {
            let slot = handle
                .checked_sub(1)
                .and_then(|i| c.irqs.get_mut(i as usize))
                .filter(|s| s.is_some())
                .ok_or(DdkError::BadHandle)?;
            *slot = None;
            Ok(())
        })
    }
    fn pci_read(addr: PciAddress, offset: u16, width: Width) -> Result<u32, DdkError> {
        with(|c| {
            Ok(match function_index(c, addr) {
                Some(i) => c.functions[i].config.read(offset, width),
                None => u32::MAX >> (32 - 8 * width.bytes() as u32),
            })
        })
    }
    fn pci_write(addr: PciAddress, offset: u16, width: Width, value: u32) -> Result<(), DdkError> {
        with(|c| {
            if let Some(i) = function_index(c, addr) {
                let before = c.functions[i].config.read(offset, width);
                c.config_writes.push(ConfigWrite {
                    addr,
                    offset,
                    width,
                    value,
                    before,
                });
                c.functions[i].config.write(offset, width, value);
            }
            Ok(())
        })
    }
    fn device_info(addr: PciAddress) -> Result<PciDeviceInfo, DdkError> {
        with(|c| {
            let i = function_index(c, addr).ok_or(DdkError::NoDevice)?;
            let info = c.functions[i].info;
            if info.vendor_id == 0 {
                return Err(DdkError::NoDevice);
            }
            Ok(info)
        })
    }
    fn map_bar(addr: PciAddress, bar: u8, _phys: u64, len: u64) -> Result<u64, DdkError> {
        with(|c| {
            let func = function_index(c, addr).ok_or(DdkError::NoDevice)?;
            c.mappings.push(Some(Mapping { func, bar, len }));
            Ok(c.mappings.len() as u64)
        })
    }
    fn unmap_bar(handle: u64) -> Result<(), DdkError> {
        with(|c| {
            let slot = c
                .mappings
                .get_mut((handle as usize).wrapping_sub(1))
                .ok_or(DdkError::BadHandle)?;
            slot.take().map(|_| ()).ok_or(DdkError::BadHandle)
        })
    }
    fn mmio_read(handle: u64, offset: u64, width: Width) -> Result<u64, DdkError> {
        with(|c| {
            c.calls.mmio_reads += 1;
            let (func, bar) = mapping(c, handle, offset, width)?;
            let f = &mut c.functions[func];
            if f.config.command() & crate::pci::command::MEMORY_SPACE == 0 {
                // Decoding off: the read never reaches the device.
                return Ok(u64::MAX >> (64 - 8 * width.bytes() as u32));
            }
            Ok(f.model.bar_read(bar, offset, width, &mut c.memory))
        })
    }
    fn mmio_write(handle: u64, offset: u64, width: Width, value: u64) -> Result<(), DdkError> {
        with(|c| {
            c.calls.mmio_writes += 1;
            let (func, bar) = mapping(c, handle, offset, width)?;
            let f = &mut c.functions[func];
            if f.config.command() & crate::pci::command::MEMORY_SPACE != 0 {
                f.model.bar_write(bar, offset, width, value, &mut c.memory);
            }
            Ok(())
        })
    }
    fn port_read(port: u16, width: Width) -> Result<u32, DdkError> {
        with(|c| {
            c.calls.port_reads += 1;
            let all_ones = u32::MAX >> (32 - 8 * width.bytes() as u32);
            match io_target(c, port, width) {
                Some((i, bar, off)) => {
                    let f = &mut c.functions[i];
                    Ok(f.model.bar_read(bar, off, width, &mut c.memory) as u32)
                }
                None => Ok(all_ones),
            }
        })
    }
    fn port_write(port: u16, width: Width, value: u32) -> Result<(), DdkError> {
        with(|c| {
            c.calls.port_writes += 1;
            if let Some((i, bar, off)) = io_target(c, port, width) {
                let f = &mut c.functions[i];
                f.model
                    .bar_write(bar, off, width, value as u64, &mut c.memory);
            }
            Ok(())
        })
    }
    fn dma_alloc(size: usize, align: usize) -> Result<(u64, NonNull<u8>), DdkError> {
        with(|c| c.memory.alloc(size, align))
    }
    unsafe fn dma_free(virt: NonNull<u8>, phys: u64, size: usize) -> Result<(), DdkError> {
        with(|c| c.memory.free(virt, phys, size))
    }
    fn virt_to_phys(virt: usize, len: usize) -> Result<(u64, usize), DdkError> {
        with(|c| {
            c.calls.virt_to_phys += 1;
            c.memory.translate(virt, len)
        })
    }
    unsafe fn block_register(desc: &BlockDeviceDesc) -> Result<u32, DdkError> {
        let name = if desc.name.is_null() || desc.name_len == 0 {
            String::new()
        } else {
            // SAFETY: the ABI contract: `name` points to `name_len` bytes for
            // the duration of the call; we copy them.
            String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(desc.name, desc.name_len) })
                .into_owned()
        };
        // SAFETY: forwarded contract of `Backend::block_register`.
        let dev = unsafe { ForeignBlockDevice::new(*desc) }?;
        with(|c| {
            c.block_devices.push((name, Some(dev)));
            Ok(c.block_devices.len() as u32 - 1)
        })
    }
}

fn mapping(c: &Context, handle: u64, offset: u64, width: Width) -> Result<(usize, u8), DdkError> {
    let m = c
        .mappings
        .get((handle as usize).wrapping_sub(1))
        .and_then(|m| m.as_ref())
        .ok_or(DdkError::BadHandle)?;
    let end = offset
        .checked_add(width.bytes() as u64)
        .ok_or(DdkError::OutOfBounds)?;
    if end > m.len {
        return Err(DdkError::OutOfBounds);
    }
    Ok((m.func, m.bar))
}

/// Which function's I/O BAR decodes `port` (I/O decoding enabled).
fn io_target(c: &Context, port: u16, width: Width) -> Option<(usize, u8, u64)> {
    for (i, f) in c.functions.iter().enumerate() {
        if f.config.command() & crate::pci::command::IO_SPACE == 0 {
            continue;
        }
        for bar in 0..6 {
            if let Some((base, size, FakeBarKind::Io)) = f.config.bar(bar) {
                let p = port as u64;
                if p >= base && p + width.bytes() as u64 <= base + size {
                    return Some((i, bar as u8, p - base));
                }
            }
        }
    }
    None
}
