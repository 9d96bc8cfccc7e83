//! The heap and collector below the engine: sweep frees exactly the unmarked
//! objects and clears marks, freed memory is reused through the free lists,
//! empty chunks go back to the system (the heap shrinks), the limit holds,
//! and the mark phase traces from handles, literals and conservative stack
//! words (including interior pointers) through arrays of references.
#![cfg(feature = "std")]

use cil_compat::gc::{self, ExtraRoots};
use cil_compat::heap::{Heap, ARRAY_DATA_OFFSET, CHUNK_SIZE, HEADER_MARK};
use cil_compat::metadata::sig::Prim;
use cil_compat::types::{TypeId, TypeSystem};
use cil_compat::{toolchain, Error};

fn corlib_ts() -> TypeSystem {
    let mut ts = TypeSystem::new();
    ts.load(std::fs::read(toolchain::corlib().expect("corlib")).unwrap())
        .unwrap();
    ts
}

fn int32(ts: &TypeSystem) -> TypeId {
    ts.prim(Prim::I4).unwrap()
}

fn write_ref(ts: &mut TypeSystem, arr: usize, i: usize, v: usize) {
    ts.heap_mut()
        .write_bytes(arr, ARRAY_DATA_OFFSET + 8 * i, &(v as u64).to_le_bytes())
        .unwrap();
}

#[test]
fn sweep_frees_unmarked_objects_and_reuses_their_memory() {
    let mut ts = corlib_ts();
    let i4 = int32(&ts);
    let objs: Vec<usize> = (0..1000).map(|_| ts.alloc_array(i4, 4).unwrap()).collect();
    for o in objs.iter().step_by(2) {
        ts.heap_mut().set_header_bits(*o, HEADER_MARK).unwrap();
    }
    let size = ts.heap().bytes_allocated() / 1000;
    let r = ts.heap_mut().sweep();
    assert_eq!(r.freed_objects, 500);
    assert_eq!(r.freed_bytes, 500 * size);
    assert_eq!(ts.heap().object_count(), 500);
    for (i, o) in objs.iter().enumerate() {
        assert_eq!(ts.heap().is_object(*o), i % 2 == 0, "object {i}");
    }
    // A new object of the same size lands in a freed slot, zeroed.
    let n = ts.alloc_array(i4, 4).unwrap();
    assert!(objs.iter().skip(1).step_by(2).any(|o| *o == n));
    assert_eq!(
        ts.heap().read_bytes(n, ARRAY_DATA_OFFSET, 16).unwrap(),
        [0; 16]
    );
    // Marks were cleared: the next sweep without marking frees everything.
    let r = ts.heap_mut().sweep();
    assert_eq!(r.freed_objects, 501);
    assert_eq!(ts.heap().object_count(), 0);
}

#[test]
fn neighbouring_free_objects_coalesce_into_one_block() {
    let mut ts = corlib_ts();
    let i4 = int32(&ts);
    let small: Vec<usize> = (0..64).map(|_| ts.alloc_array(i4, 2).unwrap()).collect();
    let keep = ts.alloc_array(i4, 2).unwrap();
    ts.heap_mut().set_header_bits(keep, HEADER_MARK).unwrap();
    ts.heap_mut().sweep();
    // 64 small objects in a row became one block: a 1 KiB object fits where
    // they were (the first freed address), not in fresh memory.
    let big = ts.alloc_array(i4, 200).unwrap();
    assert_eq!(big, small[0]);
}

#[test]
fn empty_chunks_are_returned_so_the_heap_shrinks() {
    let mut ts = corlib_ts();
    let i4 = int32(&ts);
    let mut last = 0;
    while ts.heap().bytes_reserved() < 4 * CHUNK_SIZE {
        last = ts.alloc_array(i4, 1000).unwrap();
    }
    ts.heap_mut().set_header_bits(last, HEADER_MARK).unwrap();
    let before = ts.heap().bytes_reserved();
    let r = ts.heap_mut().sweep();
    assert!(r.chunks_released >= 3, "{r:?}");
    assert_eq!(
        ts.heap().bytes_reserved(),
        CHUNK_SIZE,
        "one chunk holds the survivor"
    );
    assert!(before >= 4 * CHUNK_SIZE);
    assert!(ts.heap().is_object(last));
    // A large object has a chunk of its own, returned when it dies.
    let big = ts.alloc_array(i4, CHUNK_SIZE).unwrap();
    assert!(ts.heap().bytes_reserved() >= CHUNK_SIZE * 5);
    ts.heap_mut().sweep();
    assert!(!ts.heap().is_object(big));
    // Nothing lives: the large chunk went back, one ordinary chunk stays as
    // a spare.
    assert_eq!(ts.heap().bytes_reserved(), CHUNK_SIZE);
}

#[test]
fn the_heap_never_reserves_past_its_limit() {
    let mut h = Heap::with_limit(1 << 20);
    assert!(h.budget() <= 1 << 20);
    let mut ts = corlib_ts();
    std::mem::swap(ts.heap_mut(), &mut h);
    let i4 = int32(&ts);
    let mut n = 0;
    loop {
        match ts.alloc_array(i4, 100) {
            Ok(_) => n += 1,
            Err(Error::OutOfMemory { .. }) => {
                // What the engine does after a collection that freed nothing.
                let before = ts.heap().bytes_reserved();
                ts.heap_mut().allow_overdraft();
                if ts.alloc_array(i4, 100).is_err() {
                    assert_eq!(ts.heap().bytes_reserved(), before);
                    break;
                }
                n += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(ts.heap().bytes_reserved() <= 1 << 20);
    assert!(n > 2000, "only {n} arrays fit in 1 MiB");
    assert!(matches!(
        ts.alloc_array(i4, 1 << 20),
        Err(Error::OutOfMemory { .. })
    ));
}

#[test]
fn marking_traces_from_handles_literals_and_stack_words() {
    let mut ts = corlib_ts();
    let obj = ts.prim(Prim::Object).unwrap();
    let i4 = int32(&ts);
    // A handle-held object[] whose elements are a string and an int[].
    let holder = ts.alloc_array(obj, 2).unwrap();
    let s = ts
        .alloc_string(&"held".encode_utf16().collect::<Vec<_>>())
        .unwrap();
    let ints = ts.alloc_array(i4, 3).unwrap();
    write_ref(&mut ts, holder, 0, s);
    write_ref(&mut ts, holder, 1, ints);
    ts.heap_mut().alloc_handle(holder).unwrap();
    // An int[] reachable only through an interior pointer on the "stack".
    let by_interior = ts.alloc_array(i4, 8).unwrap();
    // An object[] chain reachable only from an exact "stack" word.
    let chain = ts.alloc_array(obj, 1).unwrap();
    let tail = ts.alloc_array(i4, 1).unwrap();
    write_ref(&mut ts, chain, 0, tail);
    let literal = ts.intern("lit".encode_utf16().collect()).unwrap();
    let garbage: Vec<usize> = (0..100).map(|_| ts.alloc_array(i4, 5).unwrap()).collect();
    let stack = [by_interior + ARRAY_DATA_OFFSET + 12, 12345, chain, 0];
    let range = (stack.as_ptr() as usize, stack.as_ptr() as usize + 32);
    let c = gc::collect(
        &mut ts,
        ExtraRoots {
            stack: Some(range),
            ..ExtraRoots::default()
        },
    );
    std::hint::black_box(&stack);
    assert_eq!(c.stack_roots, 2);
    assert_eq!(c.sweep.freed_objects, 100);
    for o in [holder, s, ints, by_interior, chain, tail, literal] {
        assert!(ts.heap().is_object(o));
    }
    assert!(garbage.iter().all(|g| !ts.heap().is_object(*g)));
    assert_eq!(
        ts.heap().containing_object(by_interior + 30),
        Some(by_interior)
    );
    // Without the stack words, only the handle's graph and the literal stay.
    let c = gc::collect(&mut ts, ExtraRoots::default());
    assert_eq!(c.sweep.freed_objects, 3);
    assert!(ts.heap().is_object(ints) && ts.heap().is_object(literal));
}

#[test]
fn handles_hold_null_retarget_and_free_once() {
    let mut ts = corlib_ts();
    let i4 = int32(&ts);
    let a = ts.alloc_array(i4, 1).unwrap();
    let b = ts.alloc_array(i4, 1).unwrap();
    let h = ts.heap_mut().alloc_handle(0).unwrap();
    assert_eq!(ts.heap().handle_target(h), Some(0));
    ts.heap_mut().set_handle_target(h, a).unwrap();
    assert!(
        ts.heap_mut().alloc_handle(a + 8).is_err(),
        "not an object start"
    );
    gc::collect(&mut ts, ExtraRoots::default());
    assert!(ts.heap().is_object(a) && !ts.heap().is_object(b));
    ts.heap_mut().free_handle(h);
    ts.heap_mut().free_handle(h);
    assert_eq!(ts.heap().handle_target(h), None);
    assert!(ts.heap_mut().set_handle_target(h, 0).is_err());
    // The slot is reused, once.
    let h2 = ts.heap_mut().alloc_handle(0).unwrap();
    let h3 = ts.heap_mut().alloc_handle(0).unwrap();
    assert_eq!(h2, h);
    assert_ne!(h3, h);
    gc::collect(&mut ts, ExtraRoots::default());
    assert!(!ts.heap().is_object(a));
}
