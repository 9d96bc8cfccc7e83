//! Physical frame allocator: 4 KiB frames carved from the usable regions of the
//! boot memory map, minus everything reserved (the first MiB, the kernel
//! image, the boot module). Bump allocation per region plus a free list threaded
//! through freed frames (via the direct map). Contiguous runs for DMA and the
//! heap come from the bump cursor; freed runs are kept in a small table and
//! reused (first fit, aligned start, remainder kept).

use spin::Mutex;

use super::direct_map::phys_to_virt;
use crate::bootinfo::{Region, REGION_RAM};

pub const FRAME_SIZE: u64 = 4096;
const MAX_RANGES: usize = 128;

#[derive(Clone, Copy, Default)]
struct Range {
    start: u64,
    end: u64,
}

struct Frames {
    ranges: [Range; MAX_RANGES],
    count: usize,
    /// Index of the range the bump cursor is in.
    current: usize,
    /// Next never-allocated address in `ranges[current]`.
    cursor: u64,
    /// Physical address of the first freed frame (0 = empty list).
    free_head: u64,
    /// Freed contiguous runs `(start, pages)`, reused by `alloc_contiguous`
    /// (DMA blocks come and go; the bump cursor alone would leak them).
    runs: [(u64, u64); MAX_RUNS],
    run_count: usize,
    total: u64,
    allocated: u64,
}

const MAX_RUNS: usize = 64;

static FRAMES: Mutex<Frames> = Mutex::new(Frames {
    ranges: [Range { start: 0, end: 0 }; MAX_RANGES],
    count: 0,
    current: 0,
    cursor: 0,
    free_head: 0,
    runs: [(0, 0); MAX_RUNS],
    run_count: 0,
    total: 0,
    allocated: 0,
});

/// Builds the allocator from the memory map, excluding `reserved` ranges
/// (`(start, end)` physical, end exclusive).
pub fn init(regions: &[Region], reserved: &[(u64, u64)]) {
    let mut f = FRAMES.lock();
    for r in regions.iter().filter(|r| r.kind == REGION_RAM) {
        // Keep below 1 MiB out: BIOS data, EBDA, option ROM leftovers.
        let start = align_up(r.start.max(0x10_0000), FRAME_SIZE);
        let end = (r.start + r.len) & !(FRAME_SIZE - 1);
        if start >= end {
            continue;
        }
        add_minus_reserved(&mut f, Range { start, end }, reserved);
    }
    let n = f.count;
    f.ranges[..n].sort_unstable_by_key(|r| r.start);
    f.total = f.ranges[..n].iter().map(|r| r.end - r.start).sum();
    f.current = 0;
    f.cursor = if f.count > 0 { f.ranges[0].start } else { 0 };
}

fn add_minus_reserved(f: &mut Frames, r: Range, reserved: &[(u64, u64)]) {
    for &(rs, re) in reserved {
        let (rs, re) = (rs & !(FRAME_SIZE - 1), align_up(re, FRAME_SIZE));
        if rs < r.end && re > r.start {
            if rs > r.start {
                add_minus_reserved(
                    f,
                    Range {
                        start: r.start,
                        end: rs,
                    },
                    reserved,
                );
            }
            if re < r.end {
                add_minus_reserved(
                    f,
                    Range {
                        start: re,
                        end: r.end,
                    },
                    reserved,
                );
            }
            return;
        }
    }
    if f.count < MAX_RANGES {
        let i = f.count;
        f.ranges[i] = r;
        f.count += 1;
    }
}

const fn align_up(v: u64, a: u64) -> u64 {
    (v + a - 1) & !(a - 1)
}

/// Allocates one 4 KiB frame (contents undefined).
pub fn alloc() -> Option<u64> {
    let mut f = FRAMES.lock();
    if f.free_head != 0 {
        let frame = f.free_head;
        // SAFETY: freed frames hold the next pointer in their first word and
        // are covered by the direct map.
        f.free_head = unsafe { (phys_to_virt(frame) as *const u64).read() };
        f.allocated += FRAME_SIZE;
        return Some(frame);
    }
    bump(&mut f, 1, 1)
}

/// Allocates one zeroed frame.
pub fn alloc_zeroed() -> Option<u64> {
    let frame = alloc()?;
    // SAFETY: the frame was just allocated, is ours alone and is mapped.
    unsafe { core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, FRAME_SIZE as usize) };
    Some(frame)
}

/// Allocates `pages` physically contiguous frames aligned to `align_pages`
/// frames (a power of two).
pub fn alloc_contiguous(pages: u64, align_pages: u64) -> Option<u64> {
    if pages == 0 || !align_pages.is_power_of_two() {
        return None;
    }
    let mut f = FRAMES.lock();
    if let Some(start) = reuse_run(&mut f, pages, align_pages) {
        f.allocated += pages * FRAME_SIZE;
        return Some(start);
    }
    if pages == 1 && f.free_head != 0 {
        drop(f);
        return alloc();
    }
    bump(&mut f, pages, align_pages)
}

/// Takes `pages` from a freed run whose start is suitably aligned; the rest
/// of the run stays in the table.
fn reuse_run(f: &mut Frames, pages: u64, align_pages: u64) -> Option<u64> {
    let align = align_pages * FRAME_SIZE;
    let i = (0..f.run_count).find(|&i| {
        let (start, n) = f.runs[i];
        n >= pages && start % align == 0
    })?;
    let (start, n) = f.runs[i];
    if n == pages {
        f.run_count -= 1;
        f.runs[i] = f.runs[f.run_count];
    } else {
        f.runs[i] = (start + pages * FRAME_SIZE, n - pages);
    }
    Some(start)
}

fn bump(f: &mut Frames, pages: u64, align_pages: u64) -> Option<u64> {
    let size = pages * FRAME_SIZE;
    let align = align_pages * FRAME_SIZE;
    while f.current < f.count {
        let start = align_up(f.cursor, align);
        let range = f.ranges[f.current];
        if start + size <= range.end {
            // Frames skipped for alignment go to the free list, not lost.
            let mut skipped = f.cursor;
            while skipped < start {
                push_free(f, skipped);
                skipped += FRAME_SIZE;
            }
            f.cursor = start + size;
            f.allocated += size;
            return Some(start);
        }
        f.current += 1;
        if f.current < f.count {
            f.cursor = f.ranges[f.current].start;
        }
    }
    None
}

fn push_free(f: &mut Frames, frame: u64) {
    // SAFETY: the frame is free, ours and covered by the direct map.
    unsafe { (phys_to_virt(frame) as *mut u64).write(f.free_head) };
    f.free_head = frame;
}

/// Returns a contiguous run.
///
/// # Safety
/// The run must come from [`alloc_contiguous`] with the same `pages` and no
/// longer be used.
pub unsafe fn free_contiguous(start: u64, pages: u64) {
    let mut f = FRAMES.lock();
    if pages > 1 && f.run_count < MAX_RUNS {
        let i = f.run_count;
        f.runs[i] = (start, pages);
        f.run_count += 1;
    } else {
        for i in 0..pages {
            push_free(&mut f, start + i * FRAME_SIZE);
        }
    }
    f.allocated -= pages * FRAME_SIZE;
}

/// (bytes managed, bytes allocated).
pub fn stats() -> (u64, u64) {
    let f = FRAMES.lock();
    (f.total, f.allocated)
}
