//! Internal calls behind `Object.GetType` and `System.Type` (the runtime type of
//! an object, a type's reflection name, assignability), `ValueType.Equals` and
//! `GetHashCode` (a boxed value's bytes) and `Console` output.
//! None of them allocate: a name is written into a `char[]` the corlib passes.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{active, fail::die_kind, Engine};
use crate::heap::{
    ARRAY_DATA_OFFSET, ARRAY_LENGTH_OFFSET, OBJ_HEADER_SIZE, OBJ_MT_OFFSET, STRING_CHARS_OFFSET,
    STRING_LENGTH_OFFSET,
};
use crate::types::{MethodTable, TypeId, TypeKind, TypeSystem};

fn engine<'a>() -> &'a mut Engine {
    // SAFETY: internal calls run on the engine's thread, from JIT code it runs.
    unsafe { active() }
}

fn type_of_mt(mt: u64) -> TypeId {
    // SAFETY: mt is a MethodTable address from the loader: the MT word of a live
    // object, or a handle `ldtoken`/`GetType` produced.
    TypeId(unsafe { (*(mt as *const MethodTable)).type_id })
}

/// `Object.GetTypeHandle()`: the MethodTable address of `this`.
extern "C" fn object_type(obj: u64) -> u64 {
    if obj == 0 {
        die_kind(engine(), "null-reference")
    }
    // SAFETY: obj is a live object: its MethodTable pointer is at OBJ_MT_OFFSET.
    unsafe { *((obj as usize + OBJ_MT_OFFSET) as *const u64) }
}

/// The name .NET's reflection gives `t`: `Name` (`Int32`, `List`1`, `Int32[,]`)
/// or, with `full`, `FullName`/`ToString` (`System.Int32`, `Outer+Inner`,
/// `System.Collections.Generic.List`1[System.Int32]`).
fn reflection_name(ts: &TypeSystem, t: TypeId, full: bool) -> String {
    let i = ts.info(t);
    if let Some(e) = i.element {
        let suffix = match i.kind {
            TypeKind::SzArray => String::from("[]"),
            TypeKind::Array => format!("[{}]", ",".repeat(ts.mt(t).rank.max(1) as usize - 1)),
            TypeKind::Ptr => String::from("*"),
            TypeKind::ByRef => String::from("&"),
            _ => String::new(),
        };
        return reflection_name(ts, e, full) + &suffix;
    }
    if let Some(def) = i.generic_def {
        let name = reflection_name(ts, def, full);
        if !full {
            return name;
        }
        let args: Vec<String> = i
            .type_args
            .iter()
            .map(|a| reflection_name(ts, *a, true))
            .collect();
        return format!("{name}[{}]", args.join(","));
    }
    match (full, i.enclosing) {
        (false, _) => i.name.clone(),
        (true, Some(outer)) => format!("{}+{}", reflection_name(ts, outer, true), i.name),
        (true, None) => i.full_name(),
    }
}

/// `Type.GetNameInternal(handle, full, buf)`: writes the name into `buf` (a
/// `char[]`) and returns its length, or minus the length when `buf` is shorter.
extern "C" fn type_name(mt: u64, full: u32, buf: u64) -> i32 {
    let e = engine();
    if mt == 0 {
        die_kind(e, "null-reference")
    }
    let name: Vec<u16> = reflection_name(&e.ts, type_of_mt(mt), full & 0xff != 0)
        .encode_utf16()
        .collect();
    let n = name.len() as i32;
    if buf == 0 {
        return -n;
    }
    // SAFETY: buf is a live char[]: its length is at ARRAY_LENGTH_OFFSET.
    let cap = unsafe { *((buf as usize + ARRAY_LENGTH_OFFSET) as *const u64) } as usize;
    if cap < name.len() {
        return -n;
    }
    // SAFETY: the array has cap >= name.len() UTF-16 elements from ARRAY_DATA_OFFSET.
    unsafe {
        core::ptr::copy_nonoverlapping(
            name.as_ptr(),
            (buf as usize + ARRAY_DATA_OFFSET) as *mut u16,
            name.len(),
        )
    };
    n
}

/// `Type.IsAssignableInternal(to, from)`: a value of `from` may be stored in a
/// location of `to` (the rule `castclass` applies).
extern "C" fn assignable(to: u64, from: u64) -> u32 {
    if to == 0 || from == 0 {
        return 0;
    }
    let e = engine();
    (to == from || e.ts.is_assignable(type_of_mt(from), type_of_mt(to))) as u32
}

/// The value bytes of a boxed value type (`None` for a null or non-value object).
fn boxed_bytes<'a>(e: &Engine, obj: u64) -> Option<(u64, &'a [u8])> {
    if obj == 0 {
        return None;
    }
    // SAFETY: obj is a live object: its MethodTable pointer is at OBJ_MT_OFFSET.
    let mt = unsafe { *((obj as usize + OBJ_MT_OFFSET) as *const u64) };
    let i = e.ts.info(type_of_mt(mt));
    if !i.is_value_type() {
        return None;
    }
    // SAFETY: a boxed value of this type holds `size` bytes after the header.
    let bytes = unsafe {
        core::slice::from_raw_parts(
            (obj as usize + OBJ_HEADER_SIZE) as *const u8,
            i.size as usize,
        )
    };
    Some((mt, bytes))
}

/// `ValueType.BitwiseEquals(a, b)`: both boxes of one value type holding the
/// same bytes (references compare by identity).
extern "C" fn value_equals(a: u64, b: u64) -> u32 {
    let e = engine();
    match (boxed_bytes(e, a), boxed_bytes(e, b)) {
        (Some((ma, x)), Some((mb, y))) => (ma == mb && x == y) as u32,
        _ => 0,
    }
}

/// `ValueType.BitwiseHash(a)`: a hash of a boxed value's bytes (equal for
/// [`value_equals`] values).
extern "C" fn value_hash(a: u64) -> i32 {
    let Some((_, bytes)) = boxed_bytes(engine(), a) else {
        return 0;
    };
    bytes.chunks(4).fold(0u32, |h, c| {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        h.rotate_left(5) ^ u32::from_le_bytes(w)
    }) as i32
}

/// `Console.WriteInternal(s)`: the host's standard output, or the kernel log.
extern "C" fn console_write(s: u64) {
    if s == 0 {
        return;
    }
    // SAFETY: s is a live string: its length (int32) is at STRING_LENGTH_OFFSET
    // and its UTF-16 chars follow from STRING_CHARS_OFFSET.
    let chars = unsafe {
        let n = *((s as usize + STRING_LENGTH_OFFSET) as *const i32) as usize;
        core::slice::from_raw_parts((s as usize + STRING_CHARS_OFFSET) as *const u16, n)
    };
    let text = String::from_utf16_lossy(chars);
    #[cfg(feature = "std")]
    {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    #[cfg(not(feature = "std"))]
    log::info!("{}", text.trim_end_matches('\n'));
}

/// `(name, address)` of every internal call in this file (none collects).
pub(crate) fn natives() -> [(&'static str, u64); 6] {
    [
        (
            "System.ValueType::BitwiseEquals",
            value_equals as *const () as u64,
        ),
        (
            "System.ValueType::BitwiseHash",
            value_hash as *const () as u64,
        ),
        (
            "System.Object::GetTypeHandle",
            object_type as *const () as u64,
        ),
        (
            "System.Type::GetNameInternal",
            type_name as *const () as u64,
        ),
        (
            "System.Type::IsAssignableInternal",
            assignable as *const () as u64,
        ),
        (
            "System.Console::WriteInternal",
            console_write as *const () as u64,
        ),
    ]
}
