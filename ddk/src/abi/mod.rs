//! The DDK ABI: one versioned `#[repr(C)]` table of `extern "C"` (SysV x86-64)
//! entries between a platform and every driver, native or managed.
//!
//! - The table ([`DdkAbi`]) and its by-name index ([`ENTRIES`]) come from one
//!   macro invocation below, so the names the JIT's import binder looks up and
//!   the fields native code calls cannot drift apart.
//! - Every fallible entry returns a `u32` status: `0` ([`STATUS_OK`]) or a
//!   [`DdkError`] code. Results come back through out-pointers. No floats cross.
//! - A platform does not write these `extern "C"` functions by hand: it
//!   implements the safe [`Backend`] trait and gets a complete table from
//!   [`table`]; argument checking (null pointers, alignment, config-space
//!   bounds, BAR decoding, I/O BAR handles) happens here, once, for every
//!   platform. See [`crate::platform`] for what a platform must provide.
//!
//! `PciAddress` is passed by value: a 3-byte `#[repr(C)]` struct, which SysV
//! classifies INTEGER, i.e. the low 24 bits of one register
//! ([`PciAddress::to_abi_u32`]).

use core::ffi::c_void;
use core::ptr::NonNull;

use crate::block::{BlockDevice, BlockError, Lba};
use crate::pci::{self, check_config_offset, ConfigAccess, PciAddress, PciDeviceInfo};

/// Version of the table layout; bumped on any incompatible change.
pub const DDK_ABI_VERSION: u32 = 3;
/// `"DDK\0"` little-endian.
pub const DDK_ABI_MAGIC: u32 = 0x004b_4444;
/// `irq_setup` source for the function's legacy INTx pin (PCI 3.0 §6.2.4);
/// any smaller value names an MSI-X table entry (PCI 3.0 §6.8.2).
pub const IRQ_SOURCE_INTX: u32 = 0xffff_ffff;

// The status codes and access widths sit in the leaf module `wire`, below
// `pci` and `mmio`, which use them too; the ABI keeps its public names.
pub use crate::wire::{DdkError, Width, IO_HANDLE_TAG, STATUS_OK};

/// Log levels on the wire (same order as the `log` crate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl LogLevel {
    /// Unknown levels are treated as `Info`.
    pub const fn from_u32(v: u32) -> LogLevel {
        match v {
            1 => Self::Error,
            2 => Self::Warn,
            4 => Self::Debug,
            5 => Self::Trace,
            _ => Self::Info,
        }
    }
}

/// Table header: checked by [`crate::Platform::new`] and by the managed loader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct AbiHeader {
    pub magic: u32,
    pub version: u32,
    /// `size_of::<DdkAbi>()` of the producer.
    pub size: u32,
    pub entry_count: u32,
}

/// The machine type of an entry parameter or result, for the import binder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum AbiKind {
    Void,
    U8,
    U16,
    U32,
    U64,
    /// `usize` (64-bit on x86-64).
    Usize,
    /// Any pointer.
    Ptr,
    /// [`PciAddress`] by value (3 bytes, one INTEGER register).
    PciAddress,
}

/// Maps a Rust parameter type to its [`AbiKind`].
pub trait AbiType {
    const KIND: AbiKind;
}
macro_rules! abi_kind {
    ($($t:ty => $k:ident),*) => { $(impl AbiType for $t { const KIND: AbiKind = AbiKind::$k; })* };
}
abi_kind!(() => Void, u8 => U8, u16 => U16, u32 => U32, u64 => U64, usize => Usize, PciAddress => PciAddress);
impl<T: ?Sized> AbiType for *mut T {
    const KIND: AbiKind = AbiKind::Ptr;
}
impl<T: ?Sized> AbiType for *const T {
    const KIND: AbiKind = AbiKind::Ptr;
}

/// One named entry: where its function pointer sits and what it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbiEntry {
    /// Stable name (the field name), what managed imports bind to.
    pub name: &'static str,
    /// Byte offset of the function pointer inside [`DdkAbi`].
    pub offset: usize,
    pub params: &'static [AbiKind],
    pub ret: AbiKind,
}

/// Looks an entry up by name.
pub fn entry(name: &str) -> Option<&'static AbiEntry> {
    ENTRIES.iter().find(|e| e.name == name)
}

macro_rules! ddk_abi {
    ($( $(#[doc = $doc:literal])* $field:ident : fn($($arg:ident : $aty:ty),* $(,)?) -> $ret:ty; )*) => {
        /// The DDK ABI table. Every entry is `unsafe extern "C"` (SysV x86-64);
        /// statuses are `0` or a [`DdkError`] code.
        #[repr(C)]
        pub struct DdkAbi {
            pub header: AbiHeader,
            $( $(#[doc = $doc])* pub $field: unsafe extern "C" fn($($arg: $aty),*) -> $ret, )*
        }

        /// Every entry by name, in table order.
        pub const ENTRIES: &[AbiEntry] = &[ $( AbiEntry {
            name: stringify!($field),
            offset: core::mem::offset_of!(DdkAbi, $field),
            params: &[$(<$aty as AbiType>::KIND),*],
            ret: <$ret as AbiType>::KIND,
        }, )* ];
    };
}

ddk_abi! {
    /// Logs `len` bytes of UTF-8 at `msg` (`level`: 1 error … 5 trace).
    log: fn(level: u32, msg: *const u8, len: usize) -> ();
    /// A marker for tracing/benchmarks (e.g. a port write the host can see).
    debug_marker: fn(code: u32) -> ();
    /// Monotonic nanoseconds into `*out`; `Unsupported` without a clock.
    time_ns: fn(out: *mut u64) -> u32;
    /// Config-space reads; `offset` < 256 and naturally aligned.
    pci_read8: fn(addr: PciAddress, offset: u16, out: *mut u8) -> u32;
    pci_read16: fn(addr: PciAddress, offset: u16, out: *mut u16) -> u32;
    pci_read32: fn(addr: PciAddress, offset: u16, out: *mut u32) -> u32;
    /// Config-space writes; `offset` < 256 and naturally aligned.
    pci_write8: fn(addr: PciAddress, offset: u16, value: u8) -> u32;
    pci_write16: fn(addr: PciAddress, offset: u16, value: u16) -> u32;
    pci_write32: fn(addr: PciAddress, offset: u16, value: u32) -> u32;
    /// Sets the bus-master bit in the command register.
    pci_enable_bus_master: fn(addr: PciAddress) -> u32;
    /// Maps BAR `bar` (0..6), enabling memory or I/O decoding for it. Returns a
    /// region handle and the region length in bytes. I/O BARs get a handle too
    /// (bit 63 set); `mmio_*` on it performs port I/O.
    bar_map: fn(addr: PciAddress, bar: u32, out_handle: *mut u64, out_len: *mut u64) -> u32;
    /// Releases a handle from `bar_map`.
    bar_unmap: fn(handle: u64) -> u32;
    /// Volatile register reads at `offset` inside a mapped region (bounds-checked, aligned).
    mmio_read8: fn(handle: u64, offset: u64, out: *mut u8) -> u32;
    mmio_read16: fn(handle: u64, offset: u64, out: *mut u16) -> u32;
    mmio_read32: fn(handle: u64, offset: u64, out: *mut u32) -> u32;
    mmio_read64: fn(handle: u64, offset: u64, out: *mut u64) -> u32;
    /// Volatile register writes at `offset` inside a mapped region.
    mmio_write8: fn(handle: u64, offset: u64, value: u8) -> u32;
    mmio_write16: fn(handle: u64, offset: u64, value: u16) -> u32;
    mmio_write32: fn(handle: u64, offset: u64, value: u32) -> u32;
    mmio_write64: fn(handle: u64, offset: u64, value: u64) -> u32;
    /// Raw port I/O (x86 `in`/`out`).
    port_read8: fn(port: u16, out: *mut u8) -> u32;
    port_read16: fn(port: u16, out: *mut u16) -> u32;
    port_read32: fn(port: u16, out: *mut u32) -> u32;
    port_write8: fn(port: u16, value: u8) -> u32;
    port_write16: fn(port: u16, value: u16) -> u32;
    port_write32: fn(port: u16, value: u32) -> u32;
    /// Zeroed, physically contiguous memory of `size` bytes aligned to `align`
    /// (a power of two; at least 4096 is always honoured): physical and virtual address.
    dma_alloc: fn(size: u64, align: u64, out_phys: *mut u64, out_virt: *mut *mut u8) -> u32;
    /// Frees a `dma_alloc` block; the triple must be exactly what it returned.
    dma_free: fn(virt: *mut u8, phys: u64, size: u64) -> u32;
    /// Physical address of `virt` and how many bytes from there (≤ `len`) are
    /// physically contiguous. `Unsupported` when the platform cannot translate.
    virt_to_phys: fn(virt: *const u8, len: usize, out_phys: *mut u64, out_contiguous: *mut usize) -> u32;
    /// Registers a block device described by `*desc`; its id goes to `*out_id`.
    block_register: fn(desc: *const BlockDeviceDesc, out_id: *mut u32) -> u32;
    /// What the platform's enumeration knows about `addr` (ids, class,
    /// header type, interrupt line/pin, the six BARs sized once at
    /// enumeration, the capability list) into `*out`. `NoDevice` for an
    /// address the platform did not enumerate. Touches no config register.
    pci_device_info: fn(addr: PciAddress, out: *mut PciDeviceInfo) -> u32;
    /// Routes an interrupt of `addr` to the CPU: `source` is an MSI-X table
    /// entry (the platform maps the table BAR, programs and unmasks the entry
    /// and enables MSI-X) or [`IRQ_SOURCE_INTX`]. A handle goes to
    /// `*out_handle`. `Unsupported` when the platform completes by polling
    /// (`completion=poll`) or cannot route that source: the driver polls.
    irq_setup: fn(addr: PciAddress, source: u32, out_handle: *mut u64) -> u32;
    /// Halts until the interrupt of `handle` arrives or `timeout_ns` pass;
    /// `*out_fired` is 1 if it arrived (since the previous wait), else 0.
    /// For INTx the driver acknowledges the device (virtio ISR read) itself.
    irq_wait: fn(handle: u64, timeout_ns: u64, out_fired: *mut u32) -> u32;
    /// Tears down an `irq_setup` (masks the entry or pin, frees the vector).
    irq_release: fn(handle: u64) -> u32;
}

/// Number of entries in [`DdkAbi`].
pub const ENTRY_COUNT: usize = ENTRIES.len();

impl AbiHeader {
    pub const CURRENT: AbiHeader = AbiHeader {
        magic: DDK_ABI_MAGIC,
        version: DDK_ABI_VERSION,
        size: core::mem::size_of::<DdkAbi>() as u32,
        entry_count: ENTRY_COUNT as u32,
    };
}

/// A block device crossing the ABI: a context pointer and callbacks. Native
/// drivers get one built by [`crate::Platform::register_block_device`];
/// managed drivers fill it from JIT-compiled functions. Callbacks return `0`
/// or a [`BlockError`] code; `buf`/`len` are whole blocks.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct BlockDeviceDesc {
    /// `size_of::<BlockDeviceDesc>()` of the producer (72 today).
    pub size: u32,
    pub block_size: u32,
    pub block_count: u64,
    /// Non-zero: writes and flushes are refused.
    pub read_only: u32,
    pub reserved: u32,
    /// Name bytes (UTF-8); the platform copies them during registration.
    pub name: *const u8,
    pub name_len: usize,
    pub ctx: *mut c_void,
    pub read: unsafe extern "C" fn(ctx: *mut c_void, lba: u64, buf: *mut u8, len: usize) -> u32,
    pub write: unsafe extern "C" fn(ctx: *mut c_void, lba: u64, buf: *const u8, len: usize) -> u32,
    pub flush: unsafe extern "C" fn(ctx: *mut c_void) -> u32,
}

const _: () = assert!(core::mem::size_of::<BlockDeviceDesc>() == 72);

/// One read of a batch as it crosses into a managed driver
/// (`Ddk.BlockRequest`, `Ddk.BlockDevices.ReadMany(ctx, requests, count)`,
/// what [`BlockDevice::read_many`] becomes in the hosting layer): `len`
/// bytes (whole blocks) from `lba` into `buf`. The driver writes `status`:
/// `0` or the [`BlockError`] code of that request alone.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct BlockReadRequest {
    pub lba: u64,
    pub buf: *mut u8,
    pub len: u64,
    pub status: u32,
    pub reserved: u32,
}

const _: () = assert!(core::mem::size_of::<BlockReadRequest>() == 32);

impl BlockReadRequest {
    /// What `status` holds before the driver has answered: a request the
    /// driver left untouched reads as "not served".
    pub const NOT_SERVED: u32 = BlockError::NotReady as u32;

    /// The request's answer: `Ok`, or its error (an unknown code is the
    /// driver breaking the contract: `DeviceMisbehaved`).
    pub fn result(&self) -> Result<(), BlockError> {
        ForeignBlockDevice::status(self.status)
    }
}

/// A [`BlockDevice`] implemented by callbacks from a [`BlockDeviceDesc`]
/// (what a platform's `block_register` wraps a registration into).
#[derive(Debug)]
pub struct ForeignBlockDevice {
    desc: BlockDeviceDesc,
}

impl ForeignBlockDevice {
    /// # Safety
    /// `desc.ctx` and the callbacks must stay valid for as long as the result
    /// is used, and must uphold the callback contract on [`BlockDeviceDesc`].
    pub unsafe fn new(desc: BlockDeviceDesc) -> Result<Self, DdkError> {
        if (desc.size as usize) < core::mem::size_of::<BlockDeviceDesc>()
            || desc.block_size == 0
            || !desc.block_size.is_power_of_two()
        {
            return Err(DdkError::InvalidArgument);
        }
        Ok(ForeignBlockDevice { desc })
    }
    pub fn desc(&self) -> &BlockDeviceDesc {
        &self.desc
    }
    fn status(code: u32) -> Result<(), BlockError> {
        if code == 0 {
            Ok(())
        } else {
            Err(BlockError::from_u32(code).unwrap_or(BlockError::DeviceMisbehaved))
        }
    }
}

impl BlockDevice for ForeignBlockDevice {
    fn block_size(&self) -> usize {
        self.desc.block_size as usize
    }
    fn block_count(&self) -> u64 {
        self.desc.block_count
    }
    fn is_read_only(&self) -> bool {
        self.desc.read_only != 0
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        // SAFETY: `new`'s contract keeps ctx/callbacks valid; buf is a live
        // exclusive slice of `len` bytes.
        Self::status(unsafe {
            (self.desc.read)(self.desc.ctx, lba.as_u64(), buf.as_mut_ptr(), buf.len())
        })
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        // SAFETY: as in `read_blocks`; the callee only reads `buf`.
        Self::status(unsafe {
            (self.desc.write)(self.desc.ctx, lba.as_u64(), buf.as_ptr(), buf.len())
        })
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        // SAFETY: as in `read_blocks`.
        Self::status(unsafe { (self.desc.flush)(self.desc.ctx) })
    }
}

/// What a platform implements to get a [`DdkAbi`] from [`table`]. All methods
/// are associated functions: platform state lives in the platform's statics
/// (the kernel) or a thread-local (the host fakes). Arguments arrive checked:
/// addresses valid, config offsets in range and aligned, region offsets
/// aligned (bounds against the mapping are the backend's to check).
///
/// # Implementation safety
/// - `dma_alloc` returns zeroed, physically contiguous memory of at least
///   `size` bytes, aligned to `align`, not aliased by anything else, whose
///   physical address the device sees at `phys`.
/// - `virt_to_phys` returns the address a device must use to reach `virt`,
///   and never claims more contiguous bytes than are really contiguous.
/// - `mmio_read`/`mmio_write` touch only the mapped region of `handle`, and
///   reject offsets past its end; memory handles never have bit 63 set.
/// - `pci_write` may be asked to program BARs/command bits; that is the
///   caller's business, but it must never corrupt unrelated memory itself.
pub unsafe trait Backend: 'static {
    fn log(level: LogLevel, msg: &str);
    fn debug_marker(code: u32) {
        let _ = code;
    }
    /// Monotonic time in nanoseconds, if the platform has a clock.
    fn time_ns() -> Option<u64> {
        None
    }
    fn pci_read(addr: PciAddress, offset: u16, width: Width) -> Result<u32, DdkError>;
    fn pci_write(addr: PciAddress, offset: u16, width: Width, value: u32) -> Result<(), DdkError>;
    /// Maps `len` bytes of MMIO at `phys` (BAR `bar` of `addr`) uncached.
    fn map_bar(addr: PciAddress, bar: u8, phys: u64, len: u64) -> Result<u64, DdkError>;
    fn unmap_bar(handle: u64) -> Result<(), DdkError>;
    fn mmio_read(handle: u64, offset: u64, width: Width) -> Result<u64, DdkError>;
    fn mmio_write(handle: u64, offset: u64, width: Width, value: u64) -> Result<(), DdkError>;
    fn port_read(port: u16, width: Width) -> Result<u32, DdkError>;
    fn port_write(port: u16, width: Width, value: u32) -> Result<(), DdkError>;
    fn dma_alloc(size: usize, align: usize) -> Result<(u64, NonNull<u8>), DdkError>;
    /// # Safety
    /// The triple is exactly one `dma_alloc` returned and nothing uses it any more.
    unsafe fn dma_free(virt: NonNull<u8>, phys: u64, size: usize) -> Result<(), DdkError>;
    fn virt_to_phys(virt: usize, len: usize) -> Result<(u64, usize), DdkError> {
        let _ = (virt, len);
        Err(DdkError::Unsupported)
    }
    /// What the platform's enumeration found at `addr` (the `pci_device_info`
    /// entry): header fields, BARs as sized at enumeration (PCI 3.0
    /// §6.2.5.1), the capability list (§6.7). `Err(NoDevice)` for an address
    /// it did not enumerate. Must not touch the device: drivers call this
    /// instead of sizing BARs. The trampoline sets `size`.
    ///
    /// No default on purpose: every platform that hands devices to drivers
    /// has enumerated them, and a default could only fail at run time (every
    /// managed driver's probe with it) or size the BARs again, the very cost
    /// this entry exists to avoid. A missing implementation is a compile error.
    fn device_info(addr: PciAddress) -> Result<PciDeviceInfo, DdkError>;
    /// The size of BAR `bar` of `addr` as the platform's own enumeration
    /// sized it, if it knows (it must be the BAR's real size). `bar_map` then
    /// decodes the BAR's live register with it instead of sizing the BAR
    /// again: sizing switches decoding off and on, which under QEMU rebuilds
    /// the guest memory map (~1 ms per toggle under TCG). `None`: `bar_map`
    /// sizes the BAR itself. The default answers from [`Self::device_info`];
    /// a platform may answer more cheaply from its own records.
    fn bar_size(addr: PciAddress, bar: u8) -> Option<u64> {
        let info = Self::device_info(addr).ok()?;
        let b = info.bars.get(bar as usize)?;
        (b.kind != pci::bar_kind::NONE && b.size != 0).then_some(b.size)
    }
    /// Takes a registration (wrap it with [`ForeignBlockDevice::new`]).
    ///
    /// # Safety
    /// `desc` satisfies [`ForeignBlockDevice::new`]'s contract.
    unsafe fn block_register(desc: &BlockDeviceDesc) -> Result<u32, DdkError> {
        let _ = desc;
        Err(DdkError::Unsupported)
    }
    /// Routes `source` of `addr` (see the `irq_setup` entry); the default
    /// platform has no interrupts and drivers poll.
    fn irq_setup(addr: PciAddress, source: u32) -> Result<u64, DdkError> {
        let _ = (addr, source);
        Err(DdkError::Unsupported)
    }
    /// Waits for `handle`'s interrupt for at most `timeout_ns`; `Ok(true)`
    /// if it arrived.
    fn irq_wait(handle: u64, timeout_ns: u64) -> Result<bool, DdkError> {
        let _ = (handle, timeout_ns);
        Err(DdkError::BadHandle)
    }
    fn irq_release(handle: u64) -> Result<(), DdkError> {
        let _ = handle;
        Err(DdkError::BadHandle)
    }
}

/// Builds the table for a backend: `static ABI: DdkAbi = ddk::abi::table::<MyPlatform>();`
pub const fn table<B: Backend>() -> DdkAbi {
    DdkAbi {
        header: AbiHeader::CURRENT,
        log: tramp::log::<B>,
        debug_marker: tramp::debug_marker::<B>,
        time_ns: tramp::time_ns::<B>,
        pci_read8: tramp::pci_read8::<B>,
        pci_read16: tramp::pci_read16::<B>,
        pci_read32: tramp::pci_read32::<B>,
        pci_write8: tramp::pci_write8::<B>,
        pci_write16: tramp::pci_write16::<B>,
        pci_write32: tramp::pci_write32::<B>,
        pci_enable_bus_master: tramp::pci_enable_bus_master::<B>,
        bar_map: tramp::bar_map::<B>,
        bar_unmap: tramp::bar_unmap::<B>,
        mmio_read8: tramp::mmio_read8::<B>,
        mmio_read16: tramp::mmio_read16::<B>,
        mmio_read32: tramp::mmio_read32::<B>,
        mmio_read64: tramp::mmio_read64::<B>,
        mmio_write8: tramp::mmio_write8::<B>,
        mmio_write16: tramp::mmio_write16::<B>,
        mmio_write32: tramp::mmio_write32::<B>,
        mmio_write64: tramp::mmio_write64::<B>,
        port_read8: tramp::port_read8::<B>,
        port_read16: tramp::port_read16::<B>,
        port_read32: tramp::port_read32::<B>,
        port_write8: tramp::port_write8::<B>,
        port_write16: tramp::port_write16::<B>,
        port_write32: tramp::port_write32::<B>,
        dma_alloc: tramp::dma_alloc::<B>,
        dma_free: tramp::dma_free::<B>,
        virt_to_phys: tramp::virt_to_phys::<B>,
        block_register: tramp::block_register::<B>,
        pci_device_info: tramp::pci_device_info::<B>,
        irq_setup: tramp::irq_setup::<B>,
        irq_wait: tramp::irq_wait::<B>,
        irq_release: tramp::irq_release::<B>,
    }
}

/// Config access straight on a backend (what `bar_map` sizes BARs with).
struct BackendConfig<B>(core::marker::PhantomData<B>);

impl<B: Backend> ConfigAccess for BackendConfig<B> {
    fn config_read(&self, addr: PciAddress, offset: u16, width: Width) -> Result<u32, DdkError> {
        check_config_offset(offset, width)?;
        B::pci_read(addr, offset, width)
    }
    fn config_write(
        &self,
        addr: PciAddress,
        offset: u16,
        width: Width,
        value: u32,
    ) -> Result<(), DdkError> {
        check_config_offset(offset, width)?;
        B::pci_write(addr, offset, width, value)
    }
}

/// The `extern "C"` trampolines: check arguments, call the backend, encode.
mod tramp;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_cover_the_table_in_order_without_gaps() {
        let ptr = core::mem::size_of::<usize>();
        assert_eq!(ENTRIES[0].offset, core::mem::size_of::<AbiHeader>());
        for w in ENTRIES.windows(2) {
            assert_eq!(
                w[1].offset,
                w[0].offset + ptr,
                "{} follows {}",
                w[1].name,
                w[0].name
            );
        }
        let last = ENTRIES.last().unwrap();
        assert_eq!(last.offset + ptr, core::mem::size_of::<DdkAbi>());
        let mut names: alloc::vec::Vec<_> = ENTRIES.iter().map(|e| e.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ENTRY_COUNT);
    }

    #[test]
    fn entry_signatures_are_machine_readable() {
        let e = entry("pci_read16").unwrap();
        assert_eq!(e.params, &[AbiKind::PciAddress, AbiKind::U16, AbiKind::Ptr]);
        assert_eq!(e.ret, AbiKind::U32);
        assert_eq!(entry("log").unwrap().ret, AbiKind::Void);
        assert!(entry("no_such_entry").is_none());
    }

    #[test]
    fn error_codes_round_trip() {
        for code in 1..=8 {
            assert_eq!(DdkError::from_u32(code).unwrap() as u32, code);
        }
        assert_eq!(DdkError::check(0), Ok(()));
        assert_eq!(DdkError::check(999), Err(DdkError::Failed));
    }

    /// A one-function PCI bus for `bar_map`: BAR0 a 64-bit memory BAR of
    /// 16 KiB at 0xfe00_0000, BAR2 an I/O BAR of 64 ports at 0xc040; it
    /// answers the all-ones sizing probe and counts config writes.
    mod bar_bus {
        use super::*;
        use std::cell::RefCell;

        pub const ADDR: PciAddress = PciAddress::new_truncate(0, 1, 0);

        pub struct Bus {
            pub cfg: [u32; 64],
            pub writes: u32,
            pub command_writes: u32,
            pub known: Option<u64>,
            pub mapped: Option<(u64, u64)>,
        }

        std::thread_local! {
            pub static BUS: RefCell<Bus> = const { RefCell::new(Bus {
                cfg: [0; 64],
                writes: 0,
                command_writes: 0,
                known: None,
                mapped: None,
            }) };
        }

        pub fn reset(known: Option<u64>) {
            BUS.with(|b| {
                let mut b = b.borrow_mut();
                b.cfg = [0; 64];
                b.cfg[0] = 0x1042_1af4;
                b.cfg[1] = 0x0000_0006; // memory + bus master decoding on
                b.cfg[4] = 0xfe00_000c; // 64-bit, prefetchable
                b.cfg[5] = 0;
                b.cfg[6] = 0xc041;
                b.writes = 0;
                b.command_writes = 0;
                b.known = known;
                b.mapped = None;
            })
        }

        fn size_mask(dword: usize) -> Option<u32> {
            match dword {
                4 => Some(!(0x4000 - 1)),
                5 => Some(0xffff_ffff),
                6 => Some(!(0x40 - 1)),
                7..=9 => Some(0),
                _ => None,
            }
        }

        pub struct B;
        // SAFETY: touches nothing but the thread-local fake; no DMA, no MMIO.
        unsafe impl Backend for B {
            fn log(_: LogLevel, _: &str) {}
            fn pci_read(a: PciAddress, off: u16, w: Width) -> Result<u32, DdkError> {
                if a != ADDR {
                    return Ok(u32::MAX);
                }
                let d = BUS.with(|b| b.borrow().cfg[off as usize / 4]);
                let shift = (off % 4) * 8;
                Ok(match w {
                    Width::U8 => (d >> shift) & 0xff,
                    Width::U16 => (d >> shift) & 0xffff,
                    _ => d,
                })
            }
            fn pci_write(a: PciAddress, off: u16, w: Width, v: u32) -> Result<(), DdkError> {
                assert_eq!(a, ADDR);
                BUS.with(|b| {
                    let mut b = b.borrow_mut();
                    b.writes += 1;
                    let i = off as usize / 4;
                    if i == 1 {
                        b.command_writes += 1;
                    }
                    let shift = (off % 4) * 8;
                    let mask = match w {
                        Width::U8 => 0xffu32 << shift,
                        Width::U16 => 0xffffu32 << shift,
                        _ => u32::MAX,
                    };
                    let mut d = (b.cfg[i] & !mask) | ((v << shift) & mask);
                    if let Some(m) = size_mask(i) {
                        let low_bits = b.cfg[i] & if i == 6 { 3 } else { 0xf };
                        d = (d & m) | if i == 5 { 0 } else { low_bits };
                    }
                    b.cfg[i] = d;
                });
                Ok(())
            }
            fn bar_size(a: PciAddress, _bar: u8) -> Option<u64> {
                assert_eq!(a, ADDR);
                BUS.with(|b| b.borrow().known)
            }
            fn device_info(a: PciAddress) -> Result<PciDeviceInfo, DdkError> {
                if a != ADDR {
                    return Err(DdkError::NoDevice);
                }
                let mut info = PciDeviceInfo {
                    vendor_id: 0x1af4,
                    device_id: 0x1042,
                    ..PciDeviceInfo::default()
                };
                info.bars[0] = pci::PciBarInfo::from_bar(Some(pci::Bar::Memory64 {
                    address: 0xfe00_0000,
                    size: 0x4000,
                    prefetchable: true,
                }));
                info.cap_count = 1;
                info.caps[0] = pci::PciCapInfo {
                    id: 0x11,
                    offset: 0x40,
                };
                Ok(info)
            }
            fn map_bar(_: PciAddress, _: u8, phys: u64, len: u64) -> Result<u64, DdkError> {
                BUS.with(|b| b.borrow_mut().mapped = Some((phys, len)));
                Ok(1)
            }
            fn unmap_bar(_: u64) -> Result<(), DdkError> {
                Ok(())
            }
            fn mmio_read(_: u64, _: u64, _: Width) -> Result<u64, DdkError> {
                Err(DdkError::Unsupported)
            }
            fn mmio_write(_: u64, _: u64, _: Width, _: u64) -> Result<(), DdkError> {
                Err(DdkError::Unsupported)
            }
            fn port_read(_: u16, _: Width) -> Result<u32, DdkError> {
                Err(DdkError::Unsupported)
            }
            fn port_write(_: u16, _: Width, _: u32) -> Result<(), DdkError> {
                Err(DdkError::Unsupported)
            }
            fn dma_alloc(_: usize, _: usize) -> Result<(u64, NonNull<u8>), DdkError> {
                Err(DdkError::NoMemory)
            }
            unsafe fn dma_free(_: NonNull<u8>, _: u64, _: usize) -> Result<(), DdkError> {
                Err(DdkError::InvalidArgument)
            }
        }

        pub fn bar_map(bar: u32) -> Result<(u64, u64), DdkError> {
            let (mut h, mut len) = (0u64, 0u64);
            // SAFETY: both out-parameters are live locals.
            DdkError::check(unsafe { tramp::bar_map::<B>(ADDR, bar, &mut h, &mut len) })
                .map(|()| (h, len))
        }
        pub fn stats() -> (u32, u32, Option<(u64, u64)>) {
            BUS.with(|b| {
                let b = b.borrow();
                (b.writes, b.command_writes, b.mapped)
            })
        }
        pub fn cfg(i: usize) -> u32 {
            BUS.with(|b| b.borrow().cfg[i])
        }
    }

    #[test]
    fn bar_map_sizes_the_bar_when_the_platform_does_not_know_it() {
        bar_bus::reset(None);
        assert_eq!(bar_bus::bar_map(0), Ok((1, 0x4000)));
        let (writes, command_writes, mapped) = bar_bus::stats();
        assert_eq!(mapped, Some((0xfe00_0000, 0x4000)));
        assert_eq!(
            command_writes, 2,
            "decoding off for the probe, then back on"
        );
        assert!(writes > command_writes, "the all-ones probe");
        assert_eq!(bar_bus::cfg(1) & 0x7, 0x6, "decoding restored");
        assert_eq!(bar_bus::cfg(4), 0xfe00_000c, "BAR restored");
        let (h, len) = bar_bus::bar_map(2).unwrap();
        assert_eq!(len, 0x40);
        assert_ne!(h & IO_HANDLE_TAG, 0);
        assert_eq!(bar_bus::cfg(1) & 0x7, 0x7, "I/O decoding switched on");
    }

    #[test]
    fn bar_map_uses_the_size_the_platform_knows_without_touching_the_device() {
        bar_bus::reset(Some(0x4000));
        assert_eq!(bar_bus::bar_map(0), Ok((1, 0x4000)));
        assert_eq!(
            bar_bus::stats(),
            (0, 0, Some((0xfe00_0000, 0x4000))),
            "no config writes: no probe, decoding already on"
        );
        // A BAR moved since the scan is mapped where it is now.
        bar_bus::BUS.with(|b| b.borrow_mut().cfg[4] = 0xfd00_400c);
        assert_eq!(bar_bus::bar_map(0), Ok((1, 0x4000)));
        assert_eq!(bar_bus::stats().2, Some((0xfd00_4000, 0x4000)));
    }

    #[test]
    fn pci_device_info_fills_the_struct_and_checks_its_arguments() {
        let e = entry("pci_device_info").unwrap();
        assert_eq!(e.params, &[AbiKind::PciAddress, AbiKind::Ptr]);
        assert_eq!(e.ret, AbiKind::U32);
        assert_eq!(
            ENTRIES[ENTRY_COUNT - 4].name,
            "pci_device_info",
            "appended after the v2 entries"
        );
        assert_eq!(ENTRIES.last().unwrap().name, "irq_release");
        let mut info = PciDeviceInfo::default();
        // SAFETY: `info` is a live local.
        let st = unsafe { tramp::pci_device_info::<bar_bus::B>(bar_bus::ADDR, &mut info) };
        assert_eq!(st, STATUS_OK);
        assert_eq!(info.size, 264, "the producer's size");
        assert_eq!((info.vendor_id, info.device_id), (0x1af4, 0x1042));
        assert_eq!(info.bars[0].kind, pci::bar_kind::MEMORY64);
        assert_eq!(info.bars[0].flags, pci::bar_flags::PREFETCHABLE);
        assert_eq!(
            (info.bars[0].address, info.bars[0].size),
            (0xfe00_0000, 0x4000)
        );
        assert_eq!(
            info.capabilities(),
            &[pci::PciCapInfo {
                id: 0x11,
                offset: 0x40
            }]
        );
        let other = PciAddress::new_truncate(0, 2, 0);
        // SAFETY: as above.
        let st = unsafe { tramp::pci_device_info::<bar_bus::B>(other, &mut info) };
        assert_eq!(st, DdkError::NoDevice as u32);
        // SAFETY: a null out-pointer is refused before any write.
        let st =
            unsafe { tramp::pci_device_info::<bar_bus::B>(bar_bus::ADDR, core::ptr::null_mut()) };
        assert_eq!(st, DdkError::InvalidArgument as u32);
        // A malformed address (function 8) never reaches the backend.
        let bad: PciAddress = {
            let raw = [0u8, 1, 8];
            // SAFETY: PciAddress is three u8 fields, #[repr(C)]; any bytes are a value.
            unsafe { core::mem::transmute::<[u8; 3], PciAddress>(raw) }
        };
        // SAFETY: as above.
        let st = unsafe { tramp::pci_device_info::<bar_bus::B>(bad, &mut info) };
        assert_eq!(st, DdkError::InvalidArgument as u32);
    }

    #[test]
    fn bar_size_defaults_to_the_enumeration_in_device_info() {
        struct Only;
        // SAFETY: no memory is touched; every other service fails.
        unsafe impl Backend for Only {
            fn log(_: LogLevel, _: &str) {}
            fn pci_read(_: PciAddress, _: u16, _: Width) -> Result<u32, DdkError> {
                Err(DdkError::Unsupported)
            }
            fn pci_write(_: PciAddress, _: u16, _: Width, _: u32) -> Result<(), DdkError> {
                Err(DdkError::Unsupported)
            }
            fn device_info(a: PciAddress) -> Result<PciDeviceInfo, DdkError> {
                bar_bus::B::device_info(a)
            }
            fn map_bar(_: PciAddress, _: u8, _: u64, _: u64) -> Result<u64, DdkError> {
                Err(DdkError::Unsupported)
            }
            fn unmap_bar(_: u64) -> Result<(), DdkError> {
                Err(DdkError::Unsupported)
            }
            fn mmio_read(_: u64, _: u64, _: Width) -> Result<u64, DdkError> {
                Err(DdkError::Unsupported)
            }
            fn mmio_write(_: u64, _: u64, _: Width, _: u64) -> Result<(), DdkError> {
                Err(DdkError::Unsupported)
            }
            fn port_read(_: u16, _: Width) -> Result<u32, DdkError> {
                Err(DdkError::Unsupported)
            }
            fn port_write(_: u16, _: Width, _: u32) -> Result<(), DdkError> {
                Err(DdkError::Unsupported)
            }
            fn dma_alloc(_: usize, _: usize) -> Result<(u64, NonNull<u8>), DdkError> {
                Err(DdkError::NoMemory)
            }
            unsafe fn dma_free(_: NonNull<u8>, _: u64, _: usize) -> Result<(), DdkError> {
                Err(DdkError::InvalidArgument)
            }
        }
        assert_eq!(Only::bar_size(bar_bus::ADDR, 0), Some(0x4000));
        assert_eq!(Only::bar_size(bar_bus::ADDR, 1), None, "empty slot");
        assert_eq!(Only::bar_size(bar_bus::ADDR, 9), None);
        assert_eq!(Only::bar_size(PciAddress::new_truncate(0, 2, 0), 0), None);
    }

    #[test]
    fn bar_map_sizes_the_bar_when_the_known_size_does_not_fit_the_register() {
        // Not a power of two; larger than the address's alignment.
        for wrong in [0x3000, 0x1000_0000] {
            bar_bus::reset(Some(wrong));
            assert_eq!(bar_bus::bar_map(0), Ok((1, 0x4000)), "{wrong:#x}");
            assert_eq!(bar_bus::stats().1, 2, "sized after all");
        }
    }
}
