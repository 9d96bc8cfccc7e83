//! The JIT code region: where compiled (managed driver) code lives, under W^X.
//!
//! W^X ("write xor execute"): no page is ever writable and executable through
//! the same mapping, so a stray or hostile write can never plant instructions
//! the CPU will run, and a jump into data (heap, stacks, DMA buffers) faults
//! instead of executing it.
//!
//! The region is a dedicated virtual window, [`paging::CODE_BASE`] (PML4 slot
//! 320), [`paging::CODE_WINDOW`] bytes long. Frames are taken from
//! `mem::frames` in [`CHUNK`]-sized runs and mapped there present +
//! executable + read-only. The bytes are written through the same frames'
//! other mapping, the direct map (`PHYS_OFFSET + phys`), which is read-write
//! but NX. So the executable alias is never writable and the writable alias
//! is never executable (SDM vol. 3A §4.6: rights are per linear address).
//!
//! Allocation is a bump pointer: code is installed once and lives as long as
//! the kernel (no unmapping, so no TLB shootdown question either). A page's
//! mapping is entered before any byte of it is written and never changes.
//! After the copy, a serializing instruction covers the cross-modifying-code
//! rule (SDM vol. 3A §8.1.3): the CPU must not run bytes it prefetched before
//! they were written through the other alias.

use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;

use super::frames::{self, FRAME_SIZE};
use super::paging::{self, phys_to_virt, CODE_BASE, CODE_WINDOW};
use crate::arch::x86_64::cpu;

/// Frames are taken and mapped 64 KiB at a time.
pub const CHUNK: u64 = 64 << 10;
/// Start alignment of each installed blob (a cache-friendly call target).
const ALIGN: u64 = 16;

/// Why [`install`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeError {
    /// The code window is used up.
    Full,
    /// The frame allocator (or a page table) ran out of memory.
    OutOfMemory,
}

impl core::fmt::Display for CodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CodeError::Full => write!(f, "JIT code window full ({} MiB)", CODE_WINDOW >> 20),
            CodeError::OutOfMemory => f.write_str("out of memory for JIT code"),
        }
    }
}

/// Bump cursor: next free byte in the window (all bytes below are used).
static NEXT: Mutex<u64> = Mutex::new(CODE_BASE);
/// End of the mapped part of the window. An atomic rather than under the
/// lock, so the page-fault reporter can ask [`contains`] even when the fault
/// hit while [`install`] held the lock.
static MAPPED_END: AtomicU64 = AtomicU64::new(CODE_BASE);

/// Copies `code` into the window and returns the executable address of its
/// first byte (16-byte aligned). The code is never writable at that address.
/// Empty `code` reserves nothing and returns the current aligned cursor.
pub fn install(code: &[u8]) -> Result<u64, CodeError> {
    let mut next = NEXT.lock();
    let start = next.next_multiple_of(ALIGN);
    let end = start
        .checked_add(code.len() as u64)
        .filter(|&e| e <= CODE_BASE + CODE_WINDOW)
        .ok_or(CodeError::Full)?;
    let mut mapped = MAPPED_END.load(Ordering::Relaxed);
    while mapped < end {
        if mapped + CHUNK > CODE_BASE + CODE_WINDOW {
            return Err(CodeError::Full);
        }
        let pages = CHUNK / FRAME_SIZE;
        let phys = frames::alloc_contiguous(pages, 1).ok_or(CodeError::OutOfMemory)?;
        for i in 0..pages {
            if paging::map_code_page(mapped + i * FRAME_SIZE, phys + i * FRAME_SIZE).is_err() {
                // Page tables ran out of frames part-way: the pages mapped
                // so far stay mapped but unused (no unmapping in this
                // region); the chunk's frames are leaked with them.
                return Err(CodeError::OutOfMemory);
            }
        }
        mapped += CHUNK;
        MAPPED_END.store(mapped, Ordering::Release);
    }
    // Write through the direct-map alias, one page at a time: chunks are
    // physically contiguous inside but not with each other.
    let mut done = 0usize;
    while done < code.len() {
        let va = start + done as u64;
        let in_page = (FRAME_SIZE - va % FRAME_SIZE) as usize;
        let n = in_page.min(code.len() - done);
        let phys = paging::translate(va).ok_or(CodeError::OutOfMemory)?;
        // SAFETY: `va` lies in a page this function mapped above from frames
        // that belong to the code region alone; `phys_to_virt(phys)` is that
        // frame's RW direct-map alias, and bytes at or past the bump cursor
        // were never handed out, so nothing else reads or writes them.
        unsafe {
            core::ptr::copy_nonoverlapping(code[done..].as_ptr(), phys_to_virt(phys) as *mut u8, n)
        };
        done += n;
    }
    *next = end;
    cpu::serialize();
    Ok(start)
}

/// True if `addr` lies in a mapped (installed-code) page of the window.
pub fn contains(addr: u64) -> bool {
    (CODE_BASE..MAPPED_END.load(Ordering::Acquire)).contains(&addr)
}

/// `(bytes used, bytes mapped)` in the window; used includes the alignment
/// padding between installed blobs.
pub fn stats() -> (u64, u64) {
    let used = *NEXT.lock() - CODE_BASE;
    (used, MAPPED_END.load(Ordering::Acquire) - CODE_BASE)
}
