//! Fake device-visible memory: DMA allocations from the host heap and
//! translations of caller buffers, each given a *fake* physical address so
//! a driver that hands the device a virtual address (or a stale one) is
//! caught instead of silently working.
//!
//! Physical address scheme (documented so tests can reason about it):
//! - `dma_alloc` blocks get addresses from a bump counter starting at
//!   [`DMA_PHYS_BASE`] (256 MiB), aligned as asked, with a 4 KiB gap between
//!   blocks. They stay below 2^44, so legacy virtio's 32-bit page number fits.
//! - `virt_to_phys` reports at most up to the next 4 KiB boundary as
//!   contiguous, like a paged kernel, and gives each translated page a fresh
//!   address from [`TRANSLATE_PHYS_BASE`] (1 TiB) upwards, never adjacent to
//!   the previous one, so multi-page buffers really become several segments.
//! - Nothing else is reachable: the device model resolves every descriptor
//!   address through [`FakeMemory::resolve`], and anything outside these
//!   ranges is a recorded violation.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;

use crate::wire::DdkError;

/// First fake physical address handed out by `dma_alloc`.
pub const DMA_PHYS_BASE: u64 = 0x1000_0000;
/// First fake physical address handed out by `virt_to_phys`.
pub const TRANSLATE_PHYS_BASE: u64 = 0x100_0000_0000;
const PAGE: u64 = 4096;

/// Which kind of mapping a physical address resolved through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemKind {
    /// A `dma_alloc` block (rings, headers, bounce buffers).
    DmaAlloc,
    /// A caller buffer reached through `virt_to_phys` (zero-copy).
    Translated,
}

#[derive(Debug)]
struct Mapping {
    phys: u64,
    len: u64,
    virt: *mut u8,
    kind: MemKind,
    layout: Option<Layout>,
}

/// The fake physical address space of one test context.
#[derive(Debug)]
pub struct FakeMemory {
    maps: Vec<Mapping>,
    next_dma: u64,
    next_translate: u64,
    /// Whether `virt_to_phys` works (off: drivers must bounce).
    pub translate_enabled: bool,
    /// Make the next `n` allocations fail with `NoMemory`.
    pub fail_allocs: u32,
    allocs: u64,
    frees: u64,
    bad_frees: u64,
}

impl Default for FakeMemory {
    fn default() -> Self {
        FakeMemory {
            maps: Vec::new(),
            next_dma: DMA_PHYS_BASE,
            next_translate: TRANSLATE_PHYS_BASE,
            translate_enabled: true,
            fail_allocs: 0,
            allocs: 0,
            frees: 0,
            bad_frees: 0,
        }
    }
}

impl FakeMemory {
    pub fn alloc(&mut self, size: usize, align: usize) -> Result<(u64, NonNull<u8>), DdkError> {
        if self.fail_allocs > 0 {
            self.fail_allocs -= 1;
            return Err(DdkError::NoMemory);
        }
        let align = align.max(PAGE as usize);
        let layout = Layout::from_size_align(size, align).map_err(|_| DdkError::InvalidArgument)?;
        // SAFETY: size is non-zero (checked by the ABI layer) and the layout valid.
        let virt = NonNull::new(unsafe { alloc_zeroed(layout) }).ok_or(DdkError::NoMemory)?;
        let phys = self.next_dma.next_multiple_of(align as u64);
        self.next_dma = (phys + size as u64).next_multiple_of(PAGE) + PAGE;
        self.maps.push(Mapping {
            phys,
            len: size as u64,
            virt: virt.as_ptr(),
            kind: MemKind::DmaAlloc,
            layout: Some(layout),
        });
        self.allocs += 1;
        Ok((phys, virt))
    }

    pub fn free(&mut self, virt: NonNull<u8>, phys: u64, size: usize) -> Result<(), DdkError> {
        let pos = self.maps.iter().position(|m| {
            m.kind == MemKind::DmaAlloc
                && m.virt == virt.as_ptr()
                && m.phys == phys
                && m.len == size as u64
        });
        let Some(pos) = pos else {
            self.bad_frees += 1;
            return Err(DdkError::InvalidArgument);
        };
        let m = self.maps.swap_remove(pos);
        // SAFETY: `m` was allocated in `alloc` with exactly this layout and is
        // removed from the table, so it is freed once.
        unsafe { dealloc(m.virt, m.layout.expect("DMA mappings carry their layout")) };
        self.frees += 1;
        Ok(())
    }

    pub fn translate(&mut self, virt: usize, len: usize) -> Result<(u64, usize), DdkError> {
        if !self.translate_enabled {
            return Err(DdkError::Unsupported);
        }
        let in_page = virt as u64 % PAGE;
        let contiguous = ((PAGE - in_page) as usize).min(len);
        let phys = self.next_translate + in_page;
        self.next_translate += 2 * PAGE;
        // Bound the table: old translations of long tests are dropped first.
        if self.maps.len() > 200_000 {
            let mut n = 0;
            self.maps.retain(|m| {
                n += 1;
                m.kind == MemKind::DmaAlloc || n > 100_000
            });
        }
        self.maps.push(Mapping {
            phys: phys - in_page,
            len: PAGE,
            virt: (virt - in_page as usize) as *mut u8,
            kind: MemKind::Translated,
            layout: None,
        });
        Ok((phys, contiguous))
    }

    /// Host pointer for `[phys, phys + len)` if it lies inside one mapping.
    pub fn resolve(&self, phys: u64, len: u64) -> Option<(*mut u8, MemKind)> {
        let end = phys.checked_add(len)?;
        self.maps.iter().rev().find_map(|m| {
            (phys >= m.phys && end <= m.phys + m.len)
                // SAFETY-free arithmetic: wrapping_add only forms an address.
                .then(|| (m.virt.wrapping_add((phys - m.phys) as usize), m.kind))
        })
    }

    /// Copies device-visible memory out; `false` if unmapped.
    pub fn read(&self, phys: u64, out: &mut [u8]) -> bool {
        match self.resolve(phys, out.len() as u64) {
            Some((p, _)) => {
                // SAFETY: `resolve` proved the range lies inside a live mapping
                // (a DMA block we own, or a caller buffer the driver lent us).
                unsafe { std::ptr::copy(p, out.as_mut_ptr(), out.len()) };
                true
            }
            None => false,
        }
    }

    /// Copies into device-visible memory; `false` if unmapped.
    pub fn write(&self, phys: u64, data: &[u8]) -> bool {
        match self.resolve(phys, data.len() as u64) {
            Some((p, _)) => {
                // SAFETY: as in `read`.
                unsafe { std::ptr::copy(data.as_ptr(), p, data.len()) };
                true
            }
            None => false,
        }
    }

    pub fn read_u16(&self, phys: u64) -> Option<u16> {
        let mut b = [0; 2];
        self.read(phys, &mut b).then(|| u16::from_le_bytes(b))
    }
    pub fn write_u16(&self, phys: u64, v: u16) -> bool {
        self.write(phys, &v.to_le_bytes())
    }

    /// DMA blocks allocated and not yet freed.
    pub fn outstanding(&self) -> u64 {
        self.allocs - self.frees
    }
    /// Frees that named no live allocation.
    pub fn bad_frees(&self) -> u64 {
        self.bad_frees
    }
}

impl Drop for FakeMemory {
    fn drop(&mut self) {
        for m in self.maps.drain(..) {
            if let Some(layout) = m.layout {
                // SAFETY: still-live DMA blocks (leaked by a test) were
                // allocated with this layout; the context is going away.
                unsafe { dealloc(m.virt, layout) };
            }
        }
    }
}
