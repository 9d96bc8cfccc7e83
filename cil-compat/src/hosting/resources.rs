//! What each managed driver instance owns on the platform side (DMA blocks,
//! BAR mappings, interrupts, its block-device registration), so a failed instance can be
//! stopped and everything it held given back.
//!
//! The managed imports of `dma_alloc`, `dma_free`, `bar_map`, `bar_unmap`,
//! `irq_setup`, `irq_release` and `block_register` are bound to the shims below instead of the platform's
//! entries. A shim forwards to the platform and records the result against the
//! instance whose guarded call is running ([`super::guard::current_instance`]).
//! Calls made outside any guarded call (host tests driving the code directly)
//! are forwarded untracked, and `block_register` then reaches the platform.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicPtr, Ordering};

use ddk::abi::{BlockDeviceDesc, DdkAbi, DdkError, STATUS_OK};
use ddk::pci::PciAddress;
use spin::Mutex;

use super::{guard, virtio_watch};

/// PCI command register and its bus-master bit (PCI 3.0 §6.2.2).
const PCI_COMMAND: u16 = 0x04;
const COMMAND_BUS_MASTER: u16 = 1 << 2;

/// One driver instance's holdings.
#[derive(Debug, Default)]
pub struct Holdings {
    /// The PCI function the instance drives.
    pub device: Option<PciAddress>,
    /// `(virt, phys, size)` of every live `dma_alloc` block.
    pub dma: Vec<(u64, u64, u64)>,
    /// Live `bar_map` handles.
    pub bars: Vec<u64>,
    /// Live `irq_setup` handles.
    pub irqs: Vec<u64>,
    /// The device the instance registered, if it did.
    pub registration: Option<BlockDeviceDesc>,
    /// What the DMA guard follows of the device's queues.
    pub virtio: virtio_watch::VirtioWatch,
}

/// What [`release`] gave back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Released {
    pub dma_blocks: usize,
    pub dma_bytes: u64,
    pub bar_mappings: usize,
    /// Interrupts torn down (MSI-X entry masked / IOAPIC pin masked).
    pub irqs: usize,
    /// Bus mastering switched off (the device can no longer DMA).
    pub bus_master_off: bool,
}

struct Table {
    next: u32,
    /// By id, in creation order: a handful of instances at most, and `with`
    /// runs several times per request, so a scan rather than a map.
    live: Vec<(u32, Holdings)>,
}

// SAFETY: the descriptors inside hold a managed driver's context word and
// code addresses, which are plain values to this table: it never dereferences
// or calls them, it only hands them back to the binding code.
unsafe impl Send for Table {}

static TABLE: Mutex<Table> = Mutex::new(Table {
    next: 1,
    live: Vec::new(),
});

/// The platform's table the shims forward to.
static PLATFORM: AtomicPtr<DdkAbi> = AtomicPtr::new(core::ptr::null_mut());

/// Sets the platform table the shims forward to.
pub fn set_platform(abi: &'static DdkAbi) {
    PLATFORM.store(abi as *const DdkAbi as *mut DdkAbi, Ordering::SeqCst);
}

pub(crate) fn platform() -> Option<&'static DdkAbi> {
    let p = PLATFORM.load(Ordering::SeqCst);
    // SAFETY: only ever set from a `&'static DdkAbi`.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// A new instance for `device`; its id is what guarded calls run under.
pub fn new_instance(device: PciAddress) -> u32 {
    let mut t = TABLE.lock();
    let id = t.next;
    t.next += 1;
    t.live.push((
        id,
        Holdings {
            device: Some(device),
            ..Holdings::default()
        },
    ));
    id
}

/// Runs `f` on the holdings of `id` (if it is live).
pub fn with<R>(id: u32, f: impl FnOnce(&mut Holdings) -> R) -> Option<R> {
    let mut t = TABLE.lock();
    t.live.iter_mut().find(|(i, _)| *i == id).map(|(_, h)| f(h))
}

fn record(f: impl FnOnce(&mut Holdings)) {
    if let Some(id) = guard::current_instance() {
        with(id, f);
    }
}

/// Stops instance `id`: bus mastering off first (no DMA can reach memory
/// about to be freed; QEMU's virtio-pci also drops DRIVER_OK then), then
/// every BAR mapping and DMA block it still holds goes back to the platform.
/// The instance is forgotten; its registration must no longer be called.
pub fn release(id: u32) -> Released {
    let removed = {
        let mut t = TABLE.lock();
        let at = t.live.iter().position(|(i, _)| *i == id);
        at.map(|k| t.live.remove(k).1)
    };
    let Some(h) = removed else {
        return Released::default();
    };
    let mut out = Released::default();
    let Some(abi) = platform() else {
        return out;
    };
    if let Some(addr) = h.device {
        let mut cmd = 0u16;
        // SAFETY: table entries of a checked platform table; the out-pointer
        // is a valid local.
        unsafe {
            if (abi.pci_read16)(addr, PCI_COMMAND, &mut cmd) == STATUS_OK {
                out.bus_master_off =
                    (abi.pci_write16)(addr, PCI_COMMAND, cmd & !COMMAND_BUS_MASTER) == STATUS_OK;
            }
        }
    }
    for handle in h.irqs {
        // SAFETY: a handle irq_setup returned and nobody will use again.
        if unsafe { (abi.irq_release)(handle) } == STATUS_OK {
            out.irqs += 1;
        }
    }
    for handle in h.bars {
        // SAFETY: a handle bar_map returned and nobody will use again.
        if unsafe { (abi.bar_unmap)(handle) } == STATUS_OK {
            out.bar_mappings += 1;
        }
    }
    for (virt, phys, size) in h.dma {
        // SAFETY: exactly a triple dma_alloc returned; the device can no
        // longer reach it (bus mastering is off) and the driver is stopped.
        if unsafe { (abi.dma_free)(virt as *mut u8, phys, size) } == STATUS_OK {
            out.dma_blocks += 1;
            out.dma_bytes += size;
        }
    }
    out
}

// ------------------------------------------------------------------ shims

type ReadFn = unsafe extern "C" fn(*mut core::ffi::c_void, u64, *mut u8, usize) -> u32;
type WriteFn = unsafe extern "C" fn(*mut core::ffi::c_void, u64, *const u8, usize) -> u32;
type FlushFn = unsafe extern "C" fn(*mut core::ffi::c_void) -> u32;

fn forwarded() -> Result<&'static DdkAbi, u32> {
    platform().ok_or(DdkError::Failed as u32)
}

pub(crate) unsafe extern "C" fn dma_alloc(
    size: u64,
    align: u64,
    out_phys: *mut u64,
    out_virt: *mut *mut u8,
) -> u32 {
    let abi = match forwarded() {
        Ok(a) => a,
        Err(e) => return e,
    };
    // SAFETY: forwarded unchanged; the platform checks the out-pointers.
    let st = unsafe { (abi.dma_alloc)(size, align, out_phys, out_virt) };
    if st == STATUS_OK {
        // SAFETY: the platform just wrote both through the caller's pointers.
        let (phys, virt) = unsafe { (*out_phys, *out_virt as u64) };
        record(|h| {
            h.dma.push((virt, phys, size));
            h.virtio.dma_gen += 1;
        });
    }
    st
}

pub(crate) unsafe extern "C" fn dma_free(virt: *mut u8, phys: u64, size: u64) -> u32 {
    let abi = match forwarded() {
        Ok(a) => a,
        Err(e) => return e,
    };
    // SAFETY: forwarded unchanged; the platform validates the triple.
    let st = unsafe { (abi.dma_free)(virt, phys, size) };
    if st == STATUS_OK {
        record(|h| {
            h.dma.retain(|b| *b != (virt as u64, phys, size));
            h.virtio.dma_gen += 1;
        });
    }
    st
}

pub(crate) unsafe extern "C" fn bar_map(
    addr: PciAddress,
    bar: u32,
    out_handle: *mut u64,
    out_len: *mut u64,
) -> u32 {
    let abi = match forwarded() {
        Ok(a) => a,
        Err(e) => return e,
    };
    // SAFETY: forwarded unchanged.
    let st = unsafe { (abi.bar_map)(addr, bar, out_handle, out_len) };
    if st == STATUS_OK {
        // SAFETY: written by the platform through the caller's pointer.
        let handle = unsafe { *out_handle };
        record(|h| {
            h.bars.push(handle);
            virtio_watch::note_bar(&mut h.virtio, handle, bar);
        });
    }
    st
}

pub(crate) unsafe extern "C" fn bar_unmap(handle: u64) -> u32 {
    let abi = match forwarded() {
        Ok(a) => a,
        Err(e) => return e,
    };
    // SAFETY: forwarded unchanged.
    let st = unsafe { (abi.bar_unmap)(handle) };
    if st == STATUS_OK {
        record(|h| {
            if let Some(i) = h.bars.iter().position(|&x| x == handle) {
                h.bars.swap_remove(i);
            }
            virtio_watch::forget_bar(&mut h.virtio, handle);
        });
    }
    st
}

pub(crate) unsafe extern "C" fn irq_setup(addr: PciAddress, source: u32, out: *mut u64) -> u32 {
    let abi = match forwarded() {
        Ok(a) => a,
        Err(e) => return e,
    };
    // SAFETY: forwarded unchanged.
    let st = unsafe { (abi.irq_setup)(addr, source, out) };
    if st == STATUS_OK {
        // SAFETY: written by the platform through the caller's pointer.
        let handle = unsafe { out.read_unaligned() };
        record(|h| h.irqs.push(handle));
    }
    st
}

pub(crate) unsafe extern "C" fn irq_release(handle: u64) -> u32 {
    let abi = match forwarded() {
        Ok(a) => a,
        Err(e) => return e,
    };
    // SAFETY: forwarded unchanged.
    let st = unsafe { (abi.irq_release)(handle) };
    if st == STATUS_OK {
        record(|h| {
            if let Some(i) = h.irqs.iter().position(|&x| x == handle) {
                h.irqs.swap_remove(i);
            }
        });
    }
    st
}

pub(crate) unsafe extern "C" fn block_register(
    desc: *const BlockDeviceDesc,
    out_id: *mut u32,
) -> u32 {
    let abi = match forwarded() {
        Ok(a) => a,
        Err(e) => return e,
    };
    let Some(id) = guard::current_instance() else {
        // SAFETY: forwarded unchanged (no hosting instance to capture it).
        return unsafe { (abi.block_register)(desc, out_id) };
    };
    if desc.is_null() || out_id.is_null() || !(desc as usize).is_multiple_of(8) {
        return DdkError::InvalidArgument as u32;
    }
    // SAFETY: non-null and aligned, checked above; the registration contract
    // says it points to a whole descriptor.
    let mut d = unsafe { desc.read() };
    if (d.size as usize) < core::mem::size_of::<BlockDeviceDesc>() {
        return DdkError::InvalidArgument as u32;
    }
    // The callbacks are `ldftn` values, often lazy stubs: call the code.
    // SAFETY: we run inside the managed driver's call (JIT code is the
    // caller), where runtime helpers use the active engine the same way.
    if let Some(e) = unsafe { crate::exec::try_active_mut() } {
        let mut direct = |f: u64| e.direct_entry(f).unwrap_or(f);
        // SAFETY: `direct_entry` returns the code of the very method the stub
        // stood for (same signature), or the address unchanged.
        unsafe {
            d.read = core::mem::transmute::<u64, ReadFn>(direct(d.read as usize as u64));
            d.write = core::mem::transmute::<u64, WriteFn>(direct(d.write as usize as u64));
            d.flush = core::mem::transmute::<u64, FlushFn>(direct(d.flush as usize as u64));
        }
    }
    let taken = with(id, |h| {
        if h.registration.is_some() {
            return false;
        }
        h.registration = Some(d);
        true
    });
    match taken {
        Some(true) => {
            // SAFETY: non-null out-pointer from the caller (checked above).
            unsafe { out_id.write_unaligned(id) };
            STATUS_OK
        }
        // One block device per instance.
        Some(false) => DdkError::Unsupported as u32,
        None => DdkError::BadHandle as u32,
    }
}
