//! The physical frame allocator's bookkeeping: 4 KiB frames carved from the
//! usable regions of the boot memory map, minus everything reserved (the
//! first MiB, the kernel image, the boot module). Bump allocation per region
//! plus a free list threaded through freed frames (each holds the address of
//! the next in its first word: [`FrameLinks`]). Contiguous runs for DMA and
//! the heap come from the bump cursor; freed runs are kept in a small table
//! and reused (first fit, aligned start, remainder kept).
//!
//! The kernel keeps one [`FrameAllocator`] in a static and stores the links
//! through its direct map (`kernel/src/mem/frames.rs`); the host tests keep
//! them in a map.

use crate::memmap::{Region, REGION_RAM};

pub const FRAME_SIZE: u64 = 4096;
const MAX_RANGES: usize = 128;
const MAX_RUNS: usize = 64;

/// Where a free frame's link to the next free frame lives.
pub trait FrameLinks {
    /// The link stored in free frame `frame`.
    fn next(&self, frame: u64) -> u64;
    /// Stores `next` in free frame `frame`.
    fn set_next(&self, frame: u64, next: u64);
}

#[derive(Clone, Copy, Default)]
struct Range {
    start: u64,
    end: u64,
}

/// The allocator's state. The [`FrameLinks`] passed to a call must be the
/// same every time: the free list lives in it.
pub struct FrameAllocator {
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

impl Default for FrameAllocator {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameAllocator {
    /// An allocator managing nothing (until [`FrameAllocator::init`]).
    pub const fn new() -> Self {
        FrameAllocator {
            ranges: [Range { start: 0, end: 0 }; MAX_RANGES],
            count: 0,
            current: 0,
            cursor: 0,
            free_head: 0,
            runs: [(0, 0); MAX_RUNS],
            run_count: 0,
            total: 0,
            allocated: 0,
        }
    }

    /// Manages the RAM regions of `regions` above 1 MiB, excluding
    /// `reserved` ranges (`(start, end)` physical, end exclusive).
    pub fn init(&mut self, regions: &[Region], reserved: &[(u64, u64)]) {
        *self = FrameAllocator::new();
        for r in regions.iter().filter(|r| r.kind == REGION_RAM) {
            // Keep below 1 MiB out: BIOS data, EBDA, option ROM leftovers.
            let start = align_up(r.start.max(0x10_0000), FRAME_SIZE);
            let end = r.start.saturating_add(r.len) & !(FRAME_SIZE - 1);
            if start >= end {
                continue;
            }
            self.add_minus_reserved(Range { start, end }, reserved);
        }
        let n = self.count;
        self.ranges[..n].sort_unstable_by_key(|r| r.start);
        self.total = self.ranges[..n].iter().map(|r| r.end - r.start).sum();
        self.current = 0;
        self.cursor = if self.count > 0 {
            self.ranges[0].start
        } else {
            0
        };
    }

    fn add_minus_reserved(&mut self, r: Range, reserved: &[(u64, u64)]) {
        for &(rs, re) in reserved {
            let (rs, re) = (rs & !(FRAME_SIZE - 1), align_up(re, FRAME_SIZE));
            if rs < r.end && re > r.start {
                if rs > r.start {
                    self.add_minus_reserved(
                        Range {
                            start: r.start,
                            end: rs,
                        },
                        reserved,
                    );
                }
                if re < r.end {
                    self.add_minus_reserved(
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
        if self.count < MAX_RANGES {
            self.ranges[self.count] = r;
            self.count += 1;
        }
    }

    /// One 4 KiB frame (contents undefined).
    pub fn alloc(&mut self, links: &impl FrameLinks) -> Option<u64> {
        if self.free_head != 0 {
            let frame = self.free_head;
            self.free_head = links.next(frame);
            self.allocated += FRAME_SIZE;
            return Some(frame);
        }
        self.bump(links, 1, 1)
    }

    /// `pages` physically contiguous frames aligned to `align_pages` frames
    /// (a power of two).
    pub fn alloc_contiguous(
        &mut self,
        links: &impl FrameLinks,
        pages: u64,
        align_pages: u64,
    ) -> Option<u64> {
        if pages == 0 || !align_pages.is_power_of_two() {
            return None;
        }
        if let Some(start) = self.reuse_run(pages, align_pages) {
            self.allocated += pages * FRAME_SIZE;
            return Some(start);
        }
        if pages == 1 && self.free_head != 0 {
            return self.alloc(links);
        }
        self.bump(links, pages, align_pages)
    }

    /// Takes `pages` from a freed run whose start is suitably aligned; the
    /// rest of the run stays in the table.
    fn reuse_run(&mut self, pages: u64, align_pages: u64) -> Option<u64> {
        let align = align_pages * FRAME_SIZE;
        let i = (0..self.run_count).find(|&i| {
            let (start, n) = self.runs[i];
            n >= pages && start % align == 0
        })?;
        let (start, n) = self.runs[i];
        if n == pages {
            self.run_count -= 1;
            self.runs[i] = self.runs[self.run_count];
        } else {
            self.runs[i] = (start + pages * FRAME_SIZE, n - pages);
        }
        Some(start)
    }

    fn bump(&mut self, links: &impl FrameLinks, pages: u64, align_pages: u64) -> Option<u64> {
        let size = pages.checked_mul(FRAME_SIZE)?;
        let align = align_pages.checked_mul(FRAME_SIZE)?;
        while self.current < self.count {
            let start = align_up(self.cursor, align);
            let range = self.ranges[self.current];
            if start.checked_add(size).is_some_and(|e| e <= range.end) {
                // Frames skipped for alignment go to the free list, not lost.
                let mut skipped = self.cursor;
                while skipped < start {
                    self.push_free(links, skipped);
                    skipped += FRAME_SIZE;
                }
                self.cursor = start + size;
                self.allocated += size;
                return Some(start);
            }
            self.current += 1;
            if self.current < self.count {
                self.cursor = self.ranges[self.current].start;
            }
        }
        None
    }

    fn push_free(&mut self, links: &impl FrameLinks, frame: u64) {
        links.set_next(frame, self.free_head);
        self.free_head = frame;
    }

    /// Returns a run that [`FrameAllocator::alloc_contiguous`] (or, for one
    /// page, `alloc`) gave out with the same `pages` and that is no longer used.
    pub fn free_contiguous(&mut self, links: &impl FrameLinks, start: u64, pages: u64) {
        if pages > 1 && self.run_count < MAX_RUNS {
            self.runs[self.run_count] = (start, pages);
            self.run_count += 1;
        } else {
            for i in 0..pages {
                self.push_free(links, start + i * FRAME_SIZE);
            }
        }
        self.allocated -= pages * FRAME_SIZE;
    }

    /// (bytes managed, bytes allocated).
    pub fn stats(&self) -> (u64, u64) {
        (self.total, self.allocated)
    }
}

const fn align_up(v: u64, a: u64) -> u64 {
    (v + a - 1) & !(a - 1)
}
