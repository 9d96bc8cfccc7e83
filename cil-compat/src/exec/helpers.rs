//! Runtime helpers called by JIT code (plain SysV, see `jit::host::Helper`) and the
//! corlib's internal calls. Each finds the active engine through `super::active`.

use alloc::format;
use core::sync::atomic::{AtomicU64, Ordering};

use super::fail::die;
use super::{active, Engine, EngineError};
use crate::heap::{ARRAY_LENGTH_OFFSET, OBJ_MT_OFFSET, STRING_LENGTH_OFFSET};
use crate::metadata::sig::Prim;
use crate::types::{FieldId, MethodId, MethodTable, TypeId, TypeKind};

/// Tag of field handles produced by `ldtoken` (for `InitializeArray`).
pub const FIELD_HANDLE_TAG: u64 = 0x4000_0000_0000_0000;

fn type_of_mt(mt: u64) -> TypeId {
    // SAFETY: mt is a MethodTable address produced by the loader (JIT code only
    // passes handles it got from the host, or the MT word of a live object).
    TypeId(unsafe { (*(mt as *const MethodTable)).type_id })
}

/// The MethodTable word of object `obj`.
///
/// # Safety
/// `obj` is a live, non-null object.
unsafe fn mt_of(obj: u64) -> u64 {
    // SAFETY: the caller's contract: every object has its MT word there.
    unsafe { *((obj as usize + OBJ_MT_OFFSET) as *const u64) }
}

/// The dispatch cell at `cell`: two words, MethodTable and code.
///
/// # Safety
/// `cell` is the address `Engine::dispatch_cell` gave the JIT for the site
/// calling: two aligned words the engine keeps as long as the code.
unsafe fn site_cell<'a>(cell: u64) -> &'a [AtomicU64; 2] {
    // SAFETY: the caller's contract.
    unsafe { &*(cell as *const [AtomicU64; 2]) }
}

fn oom(e: &Engine) -> ! {
    die(e, "out-of-memory".into(), u64::MAX, 0)
}

/// An allocation of `new_object`/`new_array` (entered through their
/// transitions, `exec::transitions`) failed after a collection: a catchable
/// `System.OutOfMemoryException` when one can still be made (a failed large
/// request usually leaves room for it), else a runtime failure.
fn alloc_failed(e: &Engine) -> ! {
    (e.raise_oom)(e);
    oom(e)
}

/// Brings `t` to what its instances need (`Engine::ensure_vtable`: its
/// load levels, then a stub per vtable slot). When that fails (a load error
/// of a constructed type, completed at this first use; no code space for
/// stubs) the program stops with why, rather than going on with an object
/// whose vtable was never filled.
pub(crate) fn ready_for_instances(e: &mut Engine, t: TypeId) {
    if let Err(err) = e.ensure_vtable(t) {
        let name = e.ts.type_name(t);
        die(
            e,
            format!("cannot make an instance of {name}: {err}"),
            u64::MAX,
            0,
        )
    }
}

pub(crate) extern "C" fn new_object(mt: u64) -> u64 {
    // SAFETY: called from JIT code of the active engine.
    let e = unsafe { active() };
    let t = type_of_mt(mt);
    ready_for_instances(e, t);
    match e.alloc_with(|ts| ts.alloc_object(t)) {
        Ok(o) => o as u64,
        Err(_) => alloc_failed(e),
    }
}

pub(crate) extern "C" fn new_array(array_mt: u64, len: i64) -> u64 {
    // SAFETY: as above.
    let e = unsafe { active() };
    let t = type_of_mt(array_mt);
    let Some(elem) = e.ts.info(t).element else {
        oom(e)
    };
    ready_for_instances(e, t);
    match e.alloc_with(|ts| ts.alloc_array(elem, len as usize)) {
        Ok(o) => o as u64,
        Err(_) => alloc_failed(e),
    }
}

pub(super) extern "C" fn is_instance(obj: u64, mt: u64) -> u64 {
    if obj == 0 {
        return 0;
    }
    // SAFETY: as above.
    let e = unsafe { active() };
    // SAFETY: obj is a live object.
    let omt = unsafe { mt_of(obj) };
    let (from, to) = (type_of_mt(omt), type_of_mt(mt));
    if omt == mt || e.ts.is_assignable(from, to) || nullable_of(e, to) == Some(from) {
        obj
    } else {
        0
    }
}

/// `Helper::IsInstanceCached`: as [`is_instance`] (`obj` is not null); a
/// yes also goes into the `isinst`/`castclass` site's cell (its first word:
/// the MethodTable that passed), which the JIT code compares first. The
/// answer for a (MethodTable, type) pair never changes.
pub(super) extern "C" fn is_instance_cached(obj: u64, mt: u64, cell: u64) -> u64 {
    let r = is_instance(obj, mt);
    if r != 0 && cell != 0 {
        // SAFETY: obj is a live, non-null object (it passed the check).
        let omt = unsafe { mt_of(obj) };
        // SAFETY: the JIT passes the cell `dispatch_cell` gave this site.
        let cell = unsafe { site_cell(cell) };
        cell[0].store(omt, Ordering::Release);
    }
    r
}

/// `T` when `t` is `System.Nullable<T>`: `isinst`/`castclass` to `T?` test the
/// boxed value against `T` (a null `T?` boxes to null), ECMA-335 §III.4.6.
fn nullable_of(e: &Engine, t: TypeId) -> Option<TypeId> {
    let i = e.ts.info(t);
    let d = e.ts.info(i.generic_def?);
    (d.name == "Nullable`1" && d.namespace == "System")
        .then(|| i.type_args.first().copied())
        .flatten()
}

pub(super) extern "C" fn array_store_check(arr: u64, obj: u64) -> u64 {
    if arr == 0 || obj == 0 {
        return 1;
    }
    // SAFETY: as above.
    let e = unsafe { active() };
    // SAFETY: arr and obj are live objects.
    let (amt, omt) = unsafe { (mt_of(arr), mt_of(obj)) };
    let Some(elem) = e.ts.info(type_of_mt(amt)).element else {
        return 1;
    };
    e.ts.is_assignable(type_of_mt(omt), elem) as u64
}

pub(crate) extern "C" fn class_init(handle: u64) {
    // SAFETY: as above.
    let e = unsafe { active() };
    let t = TypeId(handle as u32);
    match e.run_cctor(t) {
        Ok(()) => {}
        // The .cctor threw (now or before): its TypeInitializationException,
        // at the access that needed the type.
        Err(EngineError::TypeInit(name)) => {
            if let Some(exc) = e.type_init_failure(t) {
                super::unwind::raise_at_caller(e, exc);
            }
            die(
                e,
                format!("exception System.TypeInitializationException ({name})"),
                u64::MAX,
                0,
            )
        }
        Err(m) => die(e, format!("type-initializer {m}"), u64::MAX, 0),
    }
}

pub(super) extern "C" fn interface_lookup(obj: u64, iface_method: u64, _slot: u32) -> u64 {
    interface_code(obj, iface_method).0
}

/// `Helper::InterfaceLookupCached`: as [`interface_lookup`], and a final
/// answer also goes into the call site's dispatch cell
/// ([`super::Engine::dispatch_cell`]), which the JIT code compares the
/// receiver's MethodTable with before it calls this again.
pub(super) extern "C" fn interface_lookup_cached(
    obj: u64,
    iface_method: u64,
    _slot: u32,
    cell: u64,
) -> u64 {
    let (code, fin) = interface_code(obj, iface_method);
    if fin && cell != 0 {
        // SAFETY: obj is a live, non-null object (the JIT null-checked it).
        let omt = unsafe { mt_of(obj) };
        // SAFETY: the JIT passes the cell `dispatch_cell` gave this site.
        let cell = unsafe { site_cell(cell) };
        // The code before the MethodTable: a reader that matches the
        // MethodTable reads a code address stored before it (x86 keeps both
        // stores, and both loads, in order; Release/Acquire says so anywhere).
        cell[1].store(code, Ordering::Release);
        cell[0].store(omt, Ordering::Release);
    }
    code
}

/// The code an interface call of `iface_method` on `obj` (non-null) runs,
/// and whether that answer is final (it will never change: the target's
/// compiled code, or a value type's unboxing stub) rather than a lazy stub.
fn interface_code(obj: u64, iface_method: u64) -> (u64, bool) {
    // SAFETY: as above.
    let e = unsafe { active() };
    // SAFETY: obj is a live, non-null object (the JIT null-checked it).
    let omt = unsafe { mt_of(obj) };
    // A direct-mapped cache of (MethodTable, interface method) -> code: the
    // answer never changes, and a driver makes the same few interface calls
    // on every request.
    let key = (omt ^ iface_method.rotate_left(17)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let i = (key >> (64 - IFACE_CACHE_BITS)) as usize;
    let hit = e.iface_cache[i];
    let hit = if hit.0 == omt && hit.1 == iface_method && hit.2 != 0 {
        hit
    } else {
        let target = interface_target(e, omt, iface_method);
        match e.vtable_entry(type_of_mt(omt), target) {
            Ok(a) => {
                e.iface_cache[i] = (omt, iface_method, a, target.0);
                e.iface_cache[i]
            }
            Err(_) => oom(e),
        }
    };
    if hit.3 == IFACE_FINAL {
        return (hit.2, true);
    }
    // A value type's answer is its unboxing stub for good; a class's is
    // the target's stub until the target is compiled, then its code
    // (entries never change once set), kept as the final answer.
    if e.ts.info(type_of_mt(omt)).is_value_type() {
        e.iface_cache[i].3 = IFACE_FINAL;
        return (hit.2, true);
    }
    let entry = e.ts.method(MethodId(hit.3)).entry.load(Ordering::Acquire);
    if entry == 0 {
        return (hit.2, false);
    }
    e.iface_cache[i] = (omt, iface_method, entry as u64, IFACE_FINAL);
    (entry as u64, true)
}

/// The method an interface call of `iface_method` reaches on an object of
/// MethodTable `omt`; an invalid cast is a runtime error.
fn interface_target(e: &mut Engine, omt: u64, iface_method: u64) -> MethodId {
    let t = type_of_mt(omt);
    let m = MethodId(iface_method as u32);
    if e.ts.method(m).generic_method_def.is_some() {
        // A generic virtual method (class or interface): the receiver's
        // override, instantiated with the call's method type arguments.
        return match e.ts.virtual_generic_target(t, m) {
            Ok(target) => target,
            Err(_) => die(e, "invalid-cast".into(), u64::MAX, 0),
        };
    }
    match e.ts.interface_slot(t, m) {
        Ok(slot) => match e.ts.vtable_method(t, slot) {
            Some(target) => target,
            None => die(e, "invalid-cast".into(), u64::MAX, 0),
        },
        // A vector's generic collection interfaces have no slots: the
        // corlib's SZArrayMethods<U> implements them (types/vector_ifaces.rs).
        Err(_) if e.ts.info(t).kind == TypeKind::SzArray => {
            match e.ts.vector_interface_target(t, m) {
                Ok(target) => target,
                Err(_) => die(e, "invalid-cast".into(), u64::MAX, 0),
            }
        }
        // Through a variant interface (`ISink<object>` called as `ISink<string>`).
        Err(_) => match e
            .ts
            .variant_interface_slot(t, m)
            .and_then(|s| e.ts.vtable_method(t, s))
        {
            Some(target) => target,
            None => die(e, "invalid-cast".into(), u64::MAX, 0),
        },
    }
}

/// log2 of the interface-dispatch cache's size.
pub(crate) const IFACE_CACHE_BITS: u32 = 8;

/// The method-id field of an interface-cache entry whose address is the
/// final answer (no lookup of the target's compiled entry any more). No
/// method has this id: ids index the type system's method table.
const IFACE_FINAL: u32 = u32::MAX;

pub(super) extern "C" fn frem(a: u64, b: u64) -> u64 {
    libm_fmod(f64::from_bits(a), f64::from_bits(b)).to_bits()
}

/// `fmod` without libm: exact remainder by repeated scaled subtraction.
fn libm_fmod(x: f64, y: f64) -> f64 {
    if y == 0.0 || x.is_nan() || y.is_nan() || x.is_infinite() {
        return f64::NAN;
    }
    if y.is_infinite() {
        return x;
    }
    let (ax, ay) = (x.abs(), y.abs());
    if ax < ay {
        return x;
    }
    let mut r = ax;
    while r >= ay {
        let mut d = ay;
        // Largest ay * 2^k <= r (exact: scaling by powers of two).
        while d * 2.0 <= r {
            d *= 2.0;
        }
        r -= d;
    }
    if x < 0.0 {
        -r
    } else {
        r
    }
}

/// Called by lazy stubs: compiles (once) and returns the code address.
pub(crate) extern "C" fn compile_entry(method: u64) -> u64 {
    // SAFETY: as above.
    let e = unsafe { active() };
    match e.compile(MethodId(method as u32)) {
        Ok(a) => a,
        Err(msg) => die(e, format!("jit-error {msg}"), u64::MAX, 0),
    }
}

// ------------------------------------------------------------ internal calls

/// A delegate's runtime-implemented `.ctor(object target, IntPtr method)`.
pub(crate) extern "C" fn delegate_ctor(this: u64, target: u64, method: u64) {
    // SAFETY: as above.
    let e = unsafe { active() };
    let Ok((t, m)) = e.delegate_fields() else {
        die(e, "arithmetic".into(), u64::MAX, 0)
    };
    // One address per method, so delegates to it compare equal (Delegate.Remove,
    // `==`) whether they were made before or after it was compiled.
    let method = e.direct_entry(method).unwrap_or(method);
    let method = unboxing_entry(e, target, method).unwrap_or(method);
    // SAFETY: `this` is a freshly allocated delegate object containing both fields.
    unsafe {
        *((this as usize + t as usize) as *mut u64) = target;
        *((this as usize + m as usize) as *mut u64) = method;
    }
}

/// A delegate over a struct's own instance method closes over the boxed
/// struct (`Func<int> f = s.Method`): it must call the method's unboxing stub,
/// which passes the box's value as `this`, not the box itself.
fn unboxing_entry(e: &mut Engine, target: u64, code: u64) -> Option<u64> {
    if target == 0 {
        return None;
    }
    // SAFETY: target is a live object (the delegate's receiver).
    let t = type_of_mt(unsafe { mt_of(target) });
    if !e.ts.info(t).is_value_type() {
        return None;
    }
    let (m, ..) = e.code_map().into_iter().find(|c| c.1 == code)?;
    if e.ts.method(m).owner != t {
        return None;
    }
    e.vtable_entry(t, m).ok()
}

pub(crate) extern "C" fn fast_allocate_string(len: i32) -> u64 {
    // SAFETY: as above.
    let e = unsafe { active() };
    if len < 0 {
        die(e, "overflow".into(), u64::MAX, 0)
    }
    let chars = alloc::vec![b' ' as u16; len as usize];
    let Ok(st) = e.ts.prim(Prim::String) else {
        oom(e)
    };
    ready_for_instances(e, st);
    // A fresh string (interning would share it).
    match e.alloc_with(|ts| ts.alloc_string(&chars)) {
        Ok(o) => o as u64,
        Err(_) => oom(e),
    }
}

extern "C" fn string_length(s: u64) -> i32 {
    // SAFETY: s is a live string (the JIT null-checked `this` for callvirt).
    unsafe { *((s as usize + STRING_LENGTH_OFFSET) as *const i32) }
}

/// `System.Array::GetLengthInternal`: the element count every array (vector
/// or multi-dimensional) stores at `ARRAY_LENGTH_OFFSET`.
extern "C" fn array_length(arr: u64) -> i32 {
    // SAFETY: arr is a live array (the JIT null-checked `this` for the
    // instance call); vectors and multi-dimensional arrays both hold their
    // total element count as a u64 there.
    let n = unsafe { *((arr as usize + ARRAY_LENGTH_OFFSET) as *const u64) };
    // Allocation caps lengths far below i32::MAX; saturate rather than wrap.
    n.min(i32::MAX as u64) as i32
}

extern "C" fn initialize_array(arr: u64, field_handle: u64) {
    // SAFETY: as above.
    let e = unsafe { active() };
    if arr == 0 {
        die(e, "null-reference".into(), u64::MAX, 0)
    }
    if field_handle & FIELD_HANDLE_TAG == 0 {
        die(e, "arithmetic".into(), u64::MAX, 0)
    }
    let f = FieldId((field_handle & 0xFFFF_FFFF) as u32);
    // SAFETY: arr is a live array: length at ARRAY_LENGTH_OFFSET, MT at +8.
    let (len, mt) = unsafe {
        (
            *((arr as usize + ARRAY_LENGTH_OFFSET) as *const u64),
            mt_of(arr),
        )
    };
    // SAFETY: mt is the array's MethodTable; elements start at its base_size
    // (ARRAY_DATA_OFFSET for vectors, after the bounds for T[,…]).
    let (comp, data_at) = unsafe {
        let m = &*(mt as *const MethodTable);
        (m.component_size as u64, m.base_size as usize)
    };
    // The data's length is fixed with the owner's static storage.
    let owner = e.ts.field(f).owner;
    if e.ts.complete(owner).is_err() {
        die(e, "arithmetic".into(), u64::MAX, 0)
    }
    let Some(data) = e.ts.field_rva_data(f) else {
        die(e, "arithmetic".into(), u64::MAX, 0)
    };
    let n = (len * comp).min(data.len() as u64) as usize;
    // SAFETY: the array has len*comp bytes of element storage; n is no larger.
    unsafe {
        core::ptr::copy_nonoverlapping(data.as_ptr(), (arr as usize + data_at) as *mut u8, n)
    };
}

/// `(name, address)` of the internal calls in this file that do not collect.
pub(super) fn natives() -> [(&'static str, u64); 3] {
    [
        (
            "System.String::GetLengthInternal",
            string_length as *const () as u64,
        ),
        (
            "System.Array::GetLengthInternal",
            array_length as *const () as u64,
        ),
        (
            "System.Runtime.CompilerServices.RuntimeHelpers::InitializeArray",
            initialize_array as *const () as u64,
        ),
    ]
}
