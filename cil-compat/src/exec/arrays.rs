//! Arrays at run time: the allocator JIT code calls for `newobj T[,…]::.ctor`
//! (`Helper::NewMdArray`) and the internal calls behind the corlib's
//! `System.Array` and `System.Buffer` (`managed/corlib/Array.cs`): dimensions,
//! element reads and writes by flat (row-major) index with boxing, copy, clear,
//! reverse, byte copies and `CreateInstance`.
//!
//! The C# side validates arguments (nulls, ranges, ranks) and throws the
//! exceptions .NET documents; these functions report the conditions only they
//! can see (element type mismatches) as status codes the C# turns into
//! exceptions. Every array, vector or multi-dimensional, holds its total element
//! count as a u64 at `ARRAY_LENGTH_OFFSET` and its elements from its
//! MethodTable's `base_size` on, each `component_size` bytes.

use alloc::vec::Vec;

use super::fail::die_kind;
use super::{active, Engine};
use crate::heap::{ARRAY_LENGTH_OFFSET, MDARRAY_LENGTHS_OFFSET, OBJ_HEADER_SIZE, OBJ_MT_OFFSET};
use crate::metadata::sig::Prim;
use crate::types::{MethodTable, TypeId, TypeKind, MT_FLAG_ARRAY};

/// What an internal call needs to know about one array object.
struct View {
    obj: usize,
    elem: TypeId,
    /// 0 for a vector (`T[]`), else the rank of a `T[,…]`.
    md_rank: usize,
    len: usize,
    comp: usize,
    data: usize,
}

impl View {
    fn at(&self, i: usize) -> *mut u8 {
        (self.data + i * self.comp) as *mut u8
    }
    fn elem_is_value(&self, e: &Engine) -> bool {
        e.ts.info(self.elem).is_value_type()
    }
}

fn engine<'a>() -> &'a mut Engine {
    // SAFETY: internal calls and helpers run on the engine's thread, from JIT
    // code it runs; no other reference to the engine is live across the call.
    unsafe { active() }
}

fn type_of_obj(obj: usize) -> TypeId {
    // SAFETY: obj is a live, non-null object: its MethodTable pointer (written
    // by the heap, pointing into the type system) is at OBJ_MT_OFFSET.
    TypeId(unsafe { (**((obj + OBJ_MT_OFFSET) as *const *const MethodTable)).type_id })
}

fn view(e: &Engine, arr: u64) -> View {
    if arr == 0 {
        die_kind(e, "null-reference")
    }
    let obj = arr as usize;
    // SAFETY: as in `type_of_obj`.
    let mt = unsafe { &**((obj + OBJ_MT_OFFSET) as *const *const MethodTable) };
    let t = TypeId(mt.type_id);
    let info = e.ts.info(t);
    let Some(elem) = info.element.filter(|_| mt.flags & MT_FLAG_ARRAY != 0) else {
        die_kind(e, "invalid-cast")
    };
    // SAFETY: a live array holds its total element count at ARRAY_LENGTH_OFFSET.
    let len = unsafe { *((obj + ARRAY_LENGTH_OFFSET) as *const u64) } as usize;
    View {
        obj,
        elem,
        md_rank: if info.kind == TypeKind::Array {
            mt.rank as usize
        } else {
            0
        },
        len,
        comp: mt.component_size as usize,
        data: obj + mt.base_size as usize,
    }
}

/// Whether `[i, i + n)` lies inside the array (the C# checked it; this keeps
/// the raw copies below sound even if it did not).
fn check_range(e: &Engine, v: &View, i: i32, n: i32) -> (usize, usize) {
    let ok = i >= 0
        && n >= 0
        && (i as usize)
            .checked_add(n as usize)
            .is_some_and(|end| end <= v.len);
    if !ok {
        die_kind(e, "index-out-of-range")
    }
    (i as usize, n as usize)
}

/// `Helper::NewMdArray`: `newobj T[,…]::.ctor` with `n` arguments (see
/// `jit::host::Helper::NewMdArray`).
pub(crate) extern "C" fn new_md_array(array_mt: u64, args: *const i64, n: u64) -> u64 {
    let e = engine();
    // SAFETY: array_mt is the handle of a multi-dimensional array type the host
    // gave the JIT (a MethodTable of this type system).
    let t = TypeId(unsafe { (*(array_mt as *const MethodTable)).type_id });
    let rank = e.ts.mt(t).rank as usize;
    let Some(elem) = e.ts.info(t).element else {
        die_kind(e, "invalid-cast")
    };
    let n = n as usize;
    if rank == 0 || (n != rank && n != 2 * rank) {
        die_kind(e, "exception System.ArgumentException")
    }
    // SAFETY: the JIT stored `n` sign-extended int32 arguments at `args` (a frame
    // temp of 8·n bytes) just before the call.
    let args = unsafe { core::slice::from_raw_parts(args, n) };
    let pairs = n == 2 * rank;
    let (mut lengths, mut lower) = (Vec::with_capacity(rank), Vec::with_capacity(rank));
    for k in 0..rank {
        let (lb, len) = if pairs {
            (args[2 * k], args[2 * k + 1])
        } else {
            (0, args[k])
        };
        if len < 0 {
            die_kind(e, "overflow")
        }
        lengths.push(len as u64);
        lower.push(lb);
    }
    alloc_md(e, t, elem, &lengths, &lower) as u64
}

/// A zeroed `elem[…]` of type `t` with these lengths and lower bounds.
fn alloc_md(e: &mut Engine, t: TypeId, elem: TypeId, lengths: &[u64], lower: &[i64]) -> usize {
    super::helpers::ready_for_instances(e, t);
    let Ok(obj) = e.alloc_with(|ts| ts.alloc_md_array(elem, lengths)) else {
        // Entered through a transition (`new T[,]`, `Array.CreateInstance`): a
        // catchable OutOfMemoryException, as for vectors (`helpers::alloc_failed`).
        (e.raise_oom)(e);
        die_kind(e, "out-of-memory")
    };
    let rank = lengths.len();
    for (k, lb) in lower.iter().enumerate() {
        // SAFETY: the object was just allocated with base_size =
        // mdarray_data_offset(rank): rank lengths, then rank lower bounds.
        unsafe { *((obj + MDARRAY_LENGTHS_OFFSET + 8 * (rank + k)) as *mut i64) = *lb };
    }
    obj
}

/// `Array.GetRankInternal()`.
extern "C" fn rank(arr: u64) -> i32 {
    let v = view(engine(), arr);
    v.md_rank.max(1) as i32
}

/// `Array.GetDimInternal(dim, lower)`: the length or lower bound of dimension
/// `dim` (checked against the rank by the caller; out of range gives -1).
extern "C" fn dim(arr: u64, d: i32, lower: i32) -> i32 {
    let lower = lower != 0;
    let v = view(engine(), arr);
    if v.md_rank == 0 {
        return match (d, lower) {
            (0, false) => v.len.min(i32::MAX as usize) as i32,
            (0, true) => 0,
            _ => -1,
        };
    }
    if d < 0 || d as usize >= v.md_rank {
        return -1;
    }
    let at = MDARRAY_LENGTHS_OFFSET + 8 * (d as usize + if lower { v.md_rank } else { 0 });
    // SAFETY: a multi-dimensional array of rank md_rank holds its lengths and
    // lower bounds (8 bytes each) from MDARRAY_LENGTHS_OFFSET.
    unsafe { *((v.obj + at) as *const i64) as i32 }
}

/// A boxed copy of element `i` (or the reference itself).
fn read_boxed(e: &mut Engine, v: &View, i: usize) -> u64 {
    if !v.elem_is_value(e) {
        // SAFETY: i < len (checked by callers); reference elements are 8 bytes.
        return unsafe { *(v.at(i) as *const u64) };
    }
    super::helpers::ready_for_instances(e, v.elem);
    let elem = v.elem;
    let Ok(b) = e.alloc_with(|ts| ts.alloc_object(elem)) else {
        die_kind(e, "out-of-memory")
    };
    // SAFETY: the box of elem holds comp bytes of value at OBJ_HEADER_SIZE; the
    // element is in bounds; the new box cannot overlap the array.
    unsafe { core::ptr::copy_nonoverlapping(v.at(i), (b + OBJ_HEADER_SIZE) as *mut u8, v.comp) };
    b as u64
}

/// Stores object `val` into element `i`: 0 done, 1 the object's type does not
/// fit the element type (InvalidCastException).
fn write_boxed(e: &mut Engine, v: &View, i: usize, val: u64) -> i32 {
    if !v.elem_is_value(e) {
        if val != 0 && !e.ts.is_assignable(type_of_obj(val as usize), v.elem) {
            return 1;
        }
        // SAFETY: i < len; reference elements are 8-byte slots.
        unsafe { *(v.at(i) as *mut u64) = val };
        return 0;
    }
    if val == 0 {
        // SAFETY: element i is in bounds (comp bytes).
        unsafe { core::ptr::write_bytes(v.at(i), 0, v.comp) };
        return 0;
    }
    let from = type_of_obj(val as usize);
    let fits = from == v.elem
        || (e.ts.mt(from).unbox_key != 0 && e.ts.mt(from).unbox_key == e.ts.mt(v.elem).unbox_key);
    if !fits {
        return 1;
    }
    // SAFETY: val is a box of a type with the element's layout (same type, or
    // an enum and its underlying primitive): comp bytes at OBJ_HEADER_SIZE.
    unsafe {
        core::ptr::copy_nonoverlapping(
            (val as usize + OBJ_HEADER_SIZE) as *const u8,
            v.at(i),
            v.comp,
        )
    };
    0
}

/// `Array.GetValueFlat(i)`.
pub(super) extern "C" fn get_flat(arr: u64, i: i32) -> u64 {
    let e = engine();
    let v = view(e, arr);
    let (i, _) = check_range(e, &v, i, 1);
    read_boxed(e, &v, i)
}

/// `Array.SetValueFlat(value, i)`: 0, or 1 for a value of the wrong type.
extern "C" fn set_flat(arr: u64, val: u64, i: i32) -> i32 {
    let e = engine();
    let v = view(e, arr);
    let (i, _) = check_range(e, &v, i, 1);
    write_boxed(e, &v, i, val)
}

/// `Array.CopyInternal(src, si, dst, di, n)`: 0 copied; 1 the element types are
/// incompatible (ArrayTypeMismatchException); 2 an element could not be cast to
/// the destination's element type (InvalidCastException; the elements before it
/// were copied, as in .NET).
pub(super) extern "C" fn copy(src: u64, si: i32, dst: u64, di: i32, n: i32) -> i32 {
    let e = engine();
    let (s, d) = (view(e, src), view(e, dst));
    let (si, n) = check_range(e, &s, si, n);
    let (di, _) = check_range(e, &d, di, n as i32);
    let (sv, dv) = (s.elem_is_value(e), d.elem_is_value(e));
    let same = s.elem == d.elem
        || (sv && dv && s.comp == d.comp && {
            let (a, b) = (e.ts.mt(s.elem).unbox_key, e.ts.mt(d.elem).unbox_key);
            a != 0 && a == b
        });
    if same || (!sv && !dv && e.ts.is_assignable(s.elem, d.elem)) {
        // SAFETY: both ranges are in bounds (check_range) and elements have the
        // same size; `copy` is a memmove, so a copy within one array is fine.
        unsafe { core::ptr::copy(s.at(si), d.at(di), n * s.comp) };
        return 0;
    }
    match (sv, dv) {
        (false, false) => {
            // Down-casting copy: each element must fit; order matters if the
            // arrays are the same object, so go in the safe direction.
            let order: Vec<usize> = if s.obj == d.obj && si < di {
                (0..n).rev().collect()
            } else {
                (0..n).collect()
            };
            for k in order {
                // SAFETY: in bounds; reference slots.
                let o = unsafe { *(s.at(si + k) as *const u64) };
                if write_boxed(e, &d, di + k, o) != 0 {
                    return 2;
                }
            }
            0
        }
        (true, false) => {
            // Boxing copy (int[] into object[]): the element type must fit.
            if !e.ts.is_assignable(s.elem, d.elem) {
                return 1;
            }
            for k in 0..n {
                let b = read_boxed(e, &s, si + k);
                // SAFETY: in bounds; reference slot.
                unsafe { *(d.at(di + k) as *mut u64) = b };
            }
            0
        }
        (false, true) => {
            // Unboxing copy (object[] into int[]): each element must be a boxed
            // value of the element type (null is an InvalidCastException).
            for k in 0..n {
                // SAFETY: in bounds; reference slot.
                let o = unsafe { *(s.at(si + k) as *const u64) };
                if o == 0 || write_boxed(e, &d, di + k, o) != 0 {
                    return 2;
                }
            }
            0
        }
        (true, true) => {
            let (Some(from), Some(to)) = (prim_of(e, s.elem), prim_of(e, d.elem)) else {
                return 1;
            };
            if !widens(from, to) {
                return 1;
            }
            let order: Vec<usize> = if s.obj == d.obj && si < di {
                (0..n).rev().collect()
            } else {
                (0..n).collect()
            };
            for k in order {
                // SAFETY: both elements are in bounds and hold the primitive
                // types read and written (sizes from the same Prim).
                unsafe { write_prim(d.at(di + k), to, read_prim(s.at(si + k), from)) };
            }
            0
        }
    }
}

/// The primitive type of a primitive element type (enums are not widened).
fn prim_of(e: &Engine, t: TypeId) -> Option<Prim> {
    match e.ts.info(t).kind {
        TypeKind::Primitive(p) => Some(p),
        _ => None,
    }
}

/// Whether `Array.Copy` converts `from` elements to `to` elements: the
/// widening conversions .NET allows between primitives.
fn widens(from: Prim, to: Prim) -> bool {
    use Prim::*;
    let ok: &[Prim] = match from {
        U1 => &[Char, U2, I2, U4, I4, U8, I8, R4, R8],
        I1 => &[I2, I4, I8, R4, R8],
        U2 | Char => &[U2, Char, U4, I4, U8, I8, R4, R8],
        I2 => &[I4, I8, R4, R8],
        U4 => &[U8, I8, R4, R8],
        I4 => &[I8, R4, R8],
        U8 | I8 => &[R4, R8],
        R4 => &[R8],
        _ => &[],
    };
    ok.contains(&to)
}

/// A primitive value read for widening.
#[derive(Clone, Copy)]
enum Num {
    I(i64),
    U(u64),
    F(f64),
}

/// # Safety
/// `p` points at a readable value of primitive type `t`.
unsafe fn read_prim(p: *const u8, t: Prim) -> Num {
    use Prim::*;
    // SAFETY: the caller guarantees p holds a `t`; unaligned reads need no
    // alignment (elements are naturally aligned anyway).
    unsafe {
        match t {
            I1 => Num::I(p.cast::<i8>().read_unaligned() as i64),
            U1 | Boolean => Num::U(p.read() as u64),
            I2 => Num::I(p.cast::<i16>().read_unaligned() as i64),
            U2 | Char => Num::U(p.cast::<u16>().read_unaligned() as u64),
            I4 => Num::I(p.cast::<i32>().read_unaligned() as i64),
            U4 => Num::U(p.cast::<u32>().read_unaligned() as u64),
            I8 | I => Num::I(p.cast::<i64>().read_unaligned()),
            U8 | U => Num::U(p.cast::<u64>().read_unaligned()),
            R4 => Num::F(p.cast::<f32>().read_unaligned() as f64),
            _ => Num::F(p.cast::<f64>().read_unaligned()),
        }
    }
}

/// # Safety
/// `p` points at a writable location of primitive type `t`.
unsafe fn write_prim(p: *mut u8, t: Prim, v: Num) {
    use Prim::*;
    let (i, f) = match v {
        Num::I(x) => (x, x as f64),
        Num::U(x) => (x as i64, x as f64),
        Num::F(x) => (x as i64, x),
    };
    // SAFETY: the caller guarantees p is a `t` slot; truncating `as` casts
    // only drop bits the widening check proved zero.
    unsafe {
        match t {
            I1 | U1 | Boolean => p.write(i as u8),
            I2 | U2 | Char => p.cast::<u16>().write_unaligned(i as u16),
            I4 | U4 => p.cast::<u32>().write_unaligned(i as u32),
            // Straight to f32 (through f64 would round twice for 64-bit ints).
            R4 => p.cast::<f32>().write_unaligned(match v {
                Num::I(x) => x as f32,
                Num::U(x) => x as f32,
                Num::F(x) => x as f32,
            }),
            R8 => p.cast::<f64>().write_unaligned(f),
            _ => p.cast::<u64>().write_unaligned(i as u64),
        }
    }
}

/// `Array.ClearInternal(a, i, n)`: zeroes `n` elements from flat index `i`.
extern "C" fn clear(arr: u64, i: i32, n: i32) {
    let e = engine();
    let v = view(e, arr);
    let (i, n) = check_range(e, &v, i, n);
    // SAFETY: the range is in bounds.
    unsafe { core::ptr::write_bytes(v.at(i), 0, n * v.comp) };
}

/// `Array.ReverseInternal(a, i, n)`: reverses `n` elements from flat index `i`.
extern "C" fn reverse(arr: u64, i: i32, n: i32) {
    let e = engine();
    let v = view(e, arr);
    let (i, n) = check_range(e, &v, i, n);
    let (mut lo, mut hi) = (i, i + n);
    while lo + 1 < hi {
        hi -= 1;
        // SAFETY: lo < hi, both in bounds: two distinct elements of comp bytes.
        unsafe { core::ptr::swap_nonoverlapping(v.at(lo), v.at(hi), v.comp) };
        lo += 1;
    }
}

/// `Buffer.ByteLengthInternal(a)`: the array's size in bytes, or -1 when its
/// elements are not primitives.
extern "C" fn byte_length(arr: u64) -> i32 {
    let e = engine();
    let v = view(e, arr);
    if !matches!(e.ts.info(v.elem).kind, TypeKind::Primitive(_)) {
        return -1;
    }
    (v.len * v.comp).min(i32::MAX as usize) as i32
}

/// `Buffer.BlockCopyInternal(src, so, dst, do, n)`: `n` bytes (range checked in
/// C# against `ByteLength`; checked again here).
extern "C" fn block_copy(src: u64, so: i32, dst: u64, d_off: i32, n: i32) {
    let e = engine();
    let (s, d) = (view(e, src), view(e, dst));
    let fits = |v: &View, o: i32| o >= 0 && n >= 0 && (o as usize + n as usize) <= v.len * v.comp;
    if !fits(&s, so) || !fits(&d, d_off) {
        die_kind(e, "exception System.ArgumentException")
    }
    // SAFETY: both byte ranges lie inside the element data; memmove semantics.
    unsafe {
        core::ptr::copy(
            (s.data + so as usize) as *const u8,
            (d.data + d_off as usize) as *mut u8,
            n as usize,
        )
    };
}

/// `Array.CreateInstanceInternal(elementTypeHandle, lengths, lowerBounds)`: a
/// vector for rank 1 without lower bounds, else a multi-dimensional array.
/// Lengths are non-negative and the arrays the same size (checked in C#).
pub(super) extern "C" fn create_instance(elem_mt: u64, lengths: u64, lower: u64) -> u64 {
    let e = engine();
    if elem_mt == 0 {
        die_kind(e, "exception System.ArgumentNullException")
    }
    let Some(elem) = e.ts.type_of_mt(elem_mt as usize) else {
        die_kind(e, "exception System.ArgumentException")
    };
    let read = |a: u64| -> Vec<i64> {
        let v = view(e, a);
        (0..v.len)
            // SAFETY: int[] elements are 4 bytes, k < len.
            .map(|k| unsafe { *(v.at(k) as *const i32) } as i64)
            .collect()
    };
    let lens = read(lengths);
    let lbs = if lower == 0 {
        alloc::vec![0; lens.len()]
    } else {
        read(lower)
    };
    if lens.is_empty() || lens.len() > 32 || lbs.len() != lens.len() || lens.iter().any(|l| *l < 0)
    {
        die_kind(e, "exception System.ArgumentException")
    }
    if matches!(
        e.ts.info(elem).kind,
        TypeKind::ByRef | TypeKind::Ptr | TypeKind::GenericParam { .. }
    ) || e.ts.info(elem).name == "Void"
    {
        die_kind(e, "exception System.NotSupportedException")
    }
    if lens.len() == 1 && lbs[0] == 0 {
        let Ok(at) = e.ts.array_of(elem) else {
            die_kind(e, "exception System.NotSupportedException")
        };
        super::helpers::ready_for_instances(e, at);
        return match e.alloc_with(|ts| ts.alloc_array(elem, lens[0] as usize)) {
            Ok(o) => o as u64,
            Err(_) => {
                (e.raise_oom)(e);
                die_kind(e, "out-of-memory")
            }
        };
    }
    let Ok(t) = e.ts.md_array_of(elem, lens.len() as u32) else {
        die_kind(e, "exception System.NotSupportedException")
    };
    let lengths: Vec<u64> = lens.iter().map(|l| *l as u64).collect();
    alloc_md(e, t, elem, &lengths, &lbs) as u64
}

/// `Array.ElementTypeHandle()`: the element type's MethodTable address.
extern "C" fn element_handle(arr: u64) -> u64 {
    let e = engine();
    let v = view(e, arr);
    e.ts.mt_address(v.elem) as u64
}

/// `(name, address)` of every internal call in this file, except those that
/// may collect: they are bound to their trampolines (`transitions::natives`).
pub(crate) fn natives() -> [(&'static str, u64); 8] {
    [
        ("System.Array::GetRankInternal", rank as *const () as u64),
        ("System.Array::GetDimInternal", dim as *const () as u64),
        ("System.Array::SetValueFlat", set_flat as *const () as u64),
        ("System.Array::ClearInternal", clear as *const () as u64),
        ("System.Array::ReverseInternal", reverse as *const () as u64),
        (
            "System.Array::ElementTypeHandle",
            element_handle as *const () as u64,
        ),
        (
            "System.Buffer::ByteLengthInternal",
            byte_length as *const () as u64,
        ),
        (
            "System.Buffer::BlockCopyInternal",
            block_copy as *const () as u64,
        ),
    ]
}
