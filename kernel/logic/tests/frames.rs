//! The frame allocator's bookkeeping (`kernel_logic::frames`) on the host,
//! with the free list's links in a map: frames come only from RAM above
//! 1 MiB outside the reserved ranges, never twice while held, aligned as
//! asked; frames skipped for alignment and freed runs are reused; running
//! out is `None`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use kernel_logic::frames::{FrameAllocator, FrameLinks, FRAME_SIZE};
use kernel_logic::memmap::{Region, REGION_RAM};

#[derive(Default)]
struct Links(RefCell<BTreeMap<u64, u64>>);

impl FrameLinks for Links {
    fn next(&self, frame: u64) -> u64 {
        *self
            .0
            .borrow()
            .get(&frame)
            .expect("a link read from a frame not on the free list")
    }
    fn set_next(&self, frame: u64, next: u64) {
        self.0.borrow_mut().insert(frame, next);
    }
}

const MIB: u64 = 1 << 20;

fn regions() -> Vec<Region> {
    vec![
        Region {
            start: 0,
            len: 0x9fc00,
            kind: REGION_RAM,
        },
        Region {
            start: 0xf0000,
            len: 0x10000,
            kind: 2,
        },
        // 1 MiB .. 9 MiB of RAM, listed out of order, with an odd tail.
        Region {
            start: 5 * MIB,
            len: 4 * MIB + 100,
            kind: REGION_RAM,
        },
        Region {
            start: MIB,
            len: 4 * MIB,
            kind: REGION_RAM,
        },
    ]
}

/// The kernel image at 1 MiB .. 2 MiB + 1 byte, a module at 6 MiB.
const RESERVED: [(u64, u64); 2] = [(MIB, 2 * MIB + 1), (6 * MIB, 6 * MIB + 8192)];

fn allowed(f: u64) -> bool {
    f.is_multiple_of(FRAME_SIZE)
        && f >= MIB
        && f + FRAME_SIZE <= 9 * MIB
        && RESERVED.iter().all(|&(s, e)| {
            f + FRAME_SIZE <= s & !(FRAME_SIZE - 1) || f >= e.next_multiple_of(FRAME_SIZE)
        })
}

#[test]
fn every_frame_is_usable_ram_and_given_once_until_exhausted() {
    let links = Links::default();
    let mut a = FrameAllocator::new();
    a.init(&regions(), &RESERVED);
    let (total, used) = a.stats();
    // 8 MiB of RAM above 1 MiB, minus 1 MiB + 1 page of image and 2 pages of module.
    assert_eq!(total, 8 * MIB - (MIB + FRAME_SIZE) - 2 * FRAME_SIZE);
    assert_eq!(used, 0);
    let mut held = BTreeSet::new();
    while let Some(f) = a.alloc(&links) {
        assert!(allowed(f), "frame {f:#x} is not free RAM");
        assert!(held.insert(f), "frame {f:#x} given twice");
    }
    assert_eq!(held.len() as u64 * FRAME_SIZE, total);
    assert_eq!(a.stats().1, total);
    assert_eq!(a.alloc_contiguous(&links, 2, 1), None);
}

#[test]
fn aligned_runs_skipped_frames_and_freed_runs_are_reused() {
    let links = Links::default();
    let mut a = FrameAllocator::new();
    a.init(&regions(), &RESERVED);
    let one = a.alloc(&links).unwrap();
    assert_eq!(
        one,
        2 * MIB + FRAME_SIZE,
        "first free frame after the image"
    );
    // A 2 MiB-aligned run of 16 frames skips to 4 MiB; the frames in
    // between go to the free list rather than being lost.
    let run = a.alloc_contiguous(&links, 16, 512).unwrap();
    assert!(run.is_multiple_of(2 * MIB));
    assert_eq!(run, 4 * MIB);
    let skipped = (run - one - FRAME_SIZE) / FRAME_SIZE;
    let mut again = BTreeSet::new();
    for _ in 0..skipped {
        let f = a.alloc(&links).unwrap();
        assert!(
            f > one && f < run,
            "{f:#x} should come from the skipped frames"
        );
        again.insert(f);
    }
    assert_eq!(again.len() as u64, skipped);
    // A freed run comes back for a request it fits, aligned, remainder kept.
    a.free_contiguous(&links, run, 16);
    let (_, before) = a.stats();
    let r1 = a.alloc_contiguous(&links, 8, 8).unwrap();
    assert_eq!(r1, run);
    let r2 = a.alloc_contiguous(&links, 8, 8).unwrap();
    assert_eq!(r2, run + 8 * FRAME_SIZE);
    assert_eq!(a.stats().1, before + 16 * FRAME_SIZE);
    // Bad requests.
    assert_eq!(a.alloc_contiguous(&links, 0, 1), None);
    assert_eq!(a.alloc_contiguous(&links, 1, 3), None);
    assert_eq!(a.alloc_contiguous(&links, u64::MAX / 2, 1), None);
}

#[test]
fn single_freed_frames_go_round_the_free_list() {
    let links = Links::default();
    let mut a = FrameAllocator::new();
    a.init(&regions(), &RESERVED);
    let f = a.alloc(&links).unwrap();
    let g = a.alloc(&links).unwrap();
    a.free_contiguous(&links, f, 1);
    a.free_contiguous(&links, g, 1);
    assert_eq!(a.alloc(&links), Some(g), "last freed, first reused");
    assert_eq!(a.alloc_contiguous(&links, 1, 1), Some(f));
    assert_eq!(a.stats().1, 2 * FRAME_SIZE);
}
