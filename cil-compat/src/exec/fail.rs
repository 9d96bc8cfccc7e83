//! Runtime failures no managed handler takes: the report handed to
//! [`Engine::on_fail`] (a driver fault under hosting, a `!` line in cilrun),
//! and the CLI error kind of each [`FailCode`]. Below the helpers and the
//! exception dispatch, which both end here.

use alloc::string::String;

use jit::host::FailCode;

use super::{Engine, Failure};
use crate::types::MethodId;

/// Reports a runtime failure that no managed handler takes.
pub(crate) fn die(e: &Engine, kind: String, method: u64, il: u32) -> ! {
    let name = if method == u64::MAX {
        String::new()
    } else {
        e.method_name(MethodId(method as u32))
    };
    (e.on_fail)(&Failure {
        kind,
        method: name,
        il_offset: il,
        rbp: 0,
    })
}

/// The CLI error kind for a `FailCode`.
pub fn fail_kind(code: u32) -> &'static str {
    match FailCode::from_u32(code) {
        Some(FailCode::NullReference) => "null-reference",
        Some(FailCode::IndexOutOfRange) => "index-out-of-range",
        Some(FailCode::DivideByZero) => "divide-by-zero",
        Some(FailCode::Overflow) | Some(FailCode::NotFinite) => "overflow",
        Some(FailCode::InvalidCast) => "invalid-cast",
        Some(FailCode::ArrayTypeMismatch) => "array-type-mismatch",
        _ => "arithmetic",
    }
}

/// Reports a runtime error of `kind` raised by an internal call.
pub(crate) fn die_kind(e: &Engine, kind: &str) -> ! {
    die(e, kind.into(), u64::MAX, 0)
}
