//! `copy_tree` and `verify_tree` stream: copying and verifying a 16 MiB file
//! must not allocate anywhere near 16 MiB. The kernel heap is smaller than the
//! disks it copies between, so reading a whole file into memory is a bug.
//!
//! This binary holds one test only: its counting allocator sees every
//! allocation of the process, and a second test running alongside would
//! blur the peak.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use disks::build::build_image_bytes;
use disks::copy::{copy_tree, verify_tree};
use disks::fs::{TimeSource, Timestamp, Volume};
use disks::mem::MemDisk;
use disks::ImageSpec;

/// The system allocator, counting live bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters have no effect on the memory returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `layout` are passed on as they are.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout` (above).
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const BIG: u64 = 16 << 20;

#[test]
fn copying_a_big_file_allocates_a_bounded_amount() {
    let time = TimeSource::Fixed(Timestamp::new(2026, 1, 1, 0, 0, 0));
    let src_spec = format!("image-size 40M\nfile /big.bin random {BIG} seed=16\n");
    let (img, _) = build_image_bytes(&ImageSpec::parse(&src_spec).unwrap()).unwrap();
    let src = Volume::mount(MemDisk::from_vec(img), time).unwrap();
    let (img, _) = build_image_bytes(&ImageSpec::parse("image-size 40M\n").unwrap()).unwrap();
    let dst = Volume::mount(MemDisk::from_vec(img), time).unwrap();

    // Everything allocated so far (two 40 MiB disks, their caches) stays; the
    // copy's own working set is measured from here.
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut log = String::new();
    let sum = copy_tree(&src, "/", &dst, "/copy", &mut log).unwrap();
    let copy_peak = PEAK.load(Ordering::Relaxed) - base;
    assert_eq!(sum.files, 2, "{sum:?}"); // big.bin and /MANIFEST.SHA
    assert!(sum.bytes > BIG);

    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let checked = verify_tree(&src, "/", &dst, "/copy", &mut log).unwrap();
    let verify_peak = PEAK.load(Ordering::Relaxed) - base;
    assert_eq!(checked, sum);

    let limit = 2 << 20;
    assert!(
        copy_peak < limit && verify_peak < limit,
        "copy peaked at {copy_peak} bytes, verify at {verify_peak} bytes above the start (limit {limit}) for a {BIG}-byte file"
    );
}
