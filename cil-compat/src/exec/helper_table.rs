//! The helper address table: where JIT code calls for each `jit::host::Helper`,
//! and the binding of the corlib's internal calls. Calls that may collect or
//! unwind are reached through their entry trampolines (`transitions`,
//! `unwind`), the rest directly (`helpers`, `natives`, `math`, `arrays`, `shared`,
//! `gc`, `reflect`). Kept apart from those modules so they need not know the
//! trampolines that wrap them.

use jit::host::Helper;

use super::{arrays, gc, helpers, math, natives, reflect, transitions, unwind, Engine};

/// Address of a helper.
pub fn address(h: Helper) -> u64 {
    (match h {
        // Calls that may collect go through a transition (`transitions`).
        Helper::NewObject => return transitions::entries::new_object(),
        Helper::NewArray => return transitions::entries::new_array(),
        Helper::Fail => return unwind::fail_entry(),
        Helper::IsInstance => helpers::is_instance as *const (),
        Helper::IsInstanceCached => helpers::is_instance_cached as *const (),
        Helper::ClassInit => return transitions::entries::class_init(),
        Helper::InterfaceLookup => helpers::interface_lookup as *const (),
        Helper::InterfaceLookupCached => helpers::interface_lookup_cached as *const (),
        Helper::FRem => helpers::frem as *const (),
        Helper::Throw => return unwind::throw_entry(),
        Helper::Rethrow => return unwind::rethrow_entry(),
        Helper::ArrayStoreCheck => helpers::array_store_check as *const (),
        Helper::NewMdArray => return transitions::entries::new_md_array(),
        Helper::GenericLookup => super::shared::generic_lookup as *const (),
        Helper::GenericLookupContext => super::shared::generic_lookup_context as *const (),
        _ => return unwind::fail_entry(),
    }) as u64
}

/// Binds the corlib's internal calls.
pub(crate) fn register_natives(e: &mut Engine) {
    for (name, addr) in transitions::natives()
        .into_iter()
        .chain(helpers::natives())
        .chain(natives::natives())
        .chain(math::natives())
        .chain(arrays::natives())
        .chain(gc::natives())
        .chain(reflect::natives())
    {
        e.bind_native(name, addr);
    }
}
