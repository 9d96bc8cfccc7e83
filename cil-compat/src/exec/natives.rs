//! Internal calls of the corlib beyond the runtime core (`helpers.rs`):
//! `System.Threading.Interlocked`'s atomic read-modify-write operations and
//! `Object.MemberwiseClone`.
//! Each takes a managed pointer (`ref T`) to the location; the JIT passes it as a
//! plain address (SysV), and a null one is the NullReferenceException mono raises.

use core::sync::atomic::{AtomicI32, AtomicI64, AtomicU64, Ordering::SeqCst};

use super::{active, fail::die_kind, Engine};
use crate::heap::{
    ARRAY_DATA_OFFSET, ARRAY_LENGTH_OFFSET, MDARRAY_LENGTHS_OFFSET, OBJ_HEADER_SIZE, OBJ_MT_OFFSET,
};
use crate::types::{MethodTable, TypeId, TypeKind};

fn null() -> ! {
    // SAFETY: internal calls run on the engine's thread, from JIT code it runs.
    let e: &Engine = unsafe { active() };
    die_kind(e, "null-reference")
}

fn i32_at<'a>(p: *mut i32) -> &'a AtomicI32 {
    if p.is_null() {
        null()
    }
    // SAFETY: a non-null managed pointer to an int32 location (a field, array
    // element, static or local), naturally aligned by the loader's layout and the
    // JIT's frame; managed code accesses it only through such pointers.
    unsafe { AtomicI32::from_ptr(p) }
}

fn i64_at<'a>(p: *mut i64) -> &'a AtomicI64 {
    if p.is_null() {
        null()
    }
    // SAFETY: as in `i32_at`, for an 8-byte aligned int64 location.
    unsafe { AtomicI64::from_ptr(p) }
}

fn ref_at<'a>(p: *mut u64) -> &'a AtomicU64 {
    if p.is_null() {
        null()
    }
    // SAFETY: as in `i32_at`, for an object reference slot (8 bytes, aligned).
    unsafe { AtomicU64::from_ptr(p) }
}

extern "C" fn exchange_add32(p: *mut i32, v: i32) -> i32 {
    i32_at(p).fetch_add(v, SeqCst)
}
extern "C" fn exchange_add64(p: *mut i64, v: i64) -> i64 {
    i64_at(p).fetch_add(v, SeqCst)
}
extern "C" fn exchange32(p: *mut i32, v: i32) -> i32 {
    i32_at(p).swap(v, SeqCst)
}
extern "C" fn exchange64(p: *mut i64, v: i64) -> i64 {
    i64_at(p).swap(v, SeqCst)
}
extern "C" fn compare_exchange32(p: *mut i32, v: i32, cmp: i32) -> i32 {
    match i32_at(p).compare_exchange(cmp, v, SeqCst, SeqCst) {
        Ok(old) | Err(old) => old,
    }
}
extern "C" fn compare_exchange64(p: *mut i64, v: i64, cmp: i64) -> i64 {
    match i64_at(p).compare_exchange(cmp, v, SeqCst, SeqCst) {
        Ok(old) | Err(old) => old,
    }
}
extern "C" fn exchange_object(p: *mut u64, v: u64) -> u64 {
    ref_at(p).swap(v, SeqCst)
}
extern "C" fn compare_exchange_object(p: *mut u64, v: u64, cmp: u64) -> u64 {
    match ref_at(p).compare_exchange(cmp, v, SeqCst, SeqCst) {
        Ok(old) | Err(old) => old,
    }
}

/// `Object.MemberwiseClone`: a new object of the same type with the same field
/// values (a shallow copy; arrays copy their elements).
pub(super) extern "C" fn memberwise_clone(obj: u64) -> u64 {
    // SAFETY: internal calls run on the engine's thread, from JIT code it runs.
    let e: &mut Engine = unsafe { active() };
    if obj == 0 {
        die_kind(e, "null-reference")
    }
    // SAFETY: obj is a live object (the JIT null-checked `this`): its MethodTable
    // pointer is at OBJ_MT_OFFSET.
    let mt = unsafe { *((obj as usize + OBJ_MT_OFFSET) as *const u64) } as *const MethodTable;
    // SAFETY: the MethodTable of a live object belongs to the type system.
    let (t, base, comp) = unsafe { (TypeId((*mt).type_id), (*mt).base_size, (*mt).component_size) };
    let elem = e.ts.info(t).element;
    let kind = e.ts.info(t).kind;
    let (copy, r) = if let (Some(el), TypeKind::SzArray) = (elem, kind) {
        // SAFETY: a live array holds its length at ARRAY_LENGTH_OFFSET.
        let len = unsafe { *((obj as usize + ARRAY_LENGTH_OFFSET) as *const u64) } as usize;
        let r = e.alloc_with(|ts| ts.alloc_array(el, len));
        ((ARRAY_DATA_OFFSET, len * comp as usize), r)
    } else if let (Some(el), TypeKind::Array) = (elem, kind) {
        // A multi-dimensional array: same lengths, then the bounds and the
        // elements are copied (everything after the total count).
        let rank = e.ts.mt(t).rank as usize;
        // SAFETY: a live T[,…] holds its total count at ARRAY_LENGTH_OFFSET and
        // rank lengths from MDARRAY_LENGTHS_OFFSET.
        let (len, lengths) = unsafe {
            let p = (obj as usize + MDARRAY_LENGTHS_OFFSET) as *const u64;
            (
                *((obj as usize + ARRAY_LENGTH_OFFSET) as *const u64) as usize,
                core::slice::from_raw_parts(p, rank).to_vec(),
            )
        };
        let r = e.alloc_with(|ts| ts.alloc_md_array(el, &lengths));
        (
            (
                MDARRAY_LENGTHS_OFFSET,
                base as usize - MDARRAY_LENGTHS_OFFSET + len * comp as usize,
            ),
            r,
        )
    } else if elem.is_some() || kind == TypeKind::String {
        die_kind(e, "exception System.NotSupportedException")
    } else {
        super::helpers::ready_for_instances(e, t);
        let r = e.alloc_with(|ts| ts.alloc_object(t));
        (
            (
                OBJ_HEADER_SIZE,
                (base as usize).saturating_sub(OBJ_HEADER_SIZE),
            ),
            r,
        )
    };
    let Ok(new) = r else {
        die_kind(e, "out-of-memory")
    };
    // SAFETY: both objects have the same type (and length): `copy.1` bytes from
    // `copy.0` are inside each; the new one was just allocated, so they differ.
    unsafe {
        core::ptr::copy_nonoverlapping(
            (obj as usize + copy.0) as *const u8,
            (new + copy.0) as *mut u8,
            copy.1,
        )
    };
    new as u64
}

/// `(name, address)` of every internal call in this file, except those that
/// may collect: they are bound to their trampolines (`transitions::natives`).
pub(crate) fn natives() -> [(&'static str, u64); 10] {
    [
        (
            "System.Threading.Interlocked::CompareExchange",
            compare_exchange_object as *const () as u64,
        ),
        (
            "System.Threading.Interlocked::Exchange",
            exchange_object as *const () as u64,
        ),
        (
            "System.Threading.Interlocked::ExchangeAdd32",
            exchange_add32 as *const () as u64,
        ),
        (
            "System.Threading.Interlocked::ExchangeAdd64",
            exchange_add64 as *const () as u64,
        ),
        (
            "System.Threading.Interlocked::Exchange32",
            exchange32 as *const () as u64,
        ),
        (
            "System.Threading.Interlocked::Exchange64",
            exchange64 as *const () as u64,
        ),
        (
            "System.Threading.Interlocked::CompareExchange32",
            compare_exchange32 as *const () as u64,
        ),
        (
            "System.Threading.Interlocked::CompareExchange64",
            compare_exchange64 as *const () as u64,
        ),
        (
            "System.Threading.Interlocked::ExchangeObject",
            exchange_object as *const () as u64,
        ),
        (
            "System.Threading.Interlocked::CompareExchangeObject",
            compare_exchange_object as *const () as u64,
        ),
    ]
}
