//! The head of a method table as generated code and the heap read it: the
//! `MT_FLAG_*` bits, the `MT_*_OFFSET` field offsets of the `#[repr(C)]`
//! [`crate::types::MethodTable`], and [`MethodTableHead`], what the heap needs
//! of a method table to allocate and walk objects. A leaf below both the heap
//! and the type system (which re-exports the constants and implements the
//! trait), so the heap does not reach up into `types`.

use alloc::string::String;

/// MethodTable flag: instances are value types (size = `TypeInfo::size`).
pub const MT_FLAG_VALUE_TYPE: u32 = 1 << 0;
/// MethodTable flag: interface.
pub const MT_FLAG_INTERFACE: u32 = 1 << 1;
/// MethodTable flag: array type (`component_size` valid, length at +16).
pub const MT_FLAG_ARRAY: u32 = 1 << 2;
/// MethodTable flag: System.String.
pub const MT_FLAG_STRING: u32 = 1 << 3;
/// MethodTable flag: instances (or elements) contain object references.
pub const MT_FLAG_HAS_GC_REFS: u32 = 1 << 4;
/// MethodTable flag: enum.
pub const MT_FLAG_ENUM: u32 = 1 << 5;
/// MethodTable flag: primitive (System.Int32 etc.).
pub const MT_FLAG_PRIMITIVE: u32 = 1 << 6;
/// MethodTable flag: abstract class.
pub const MT_FLAG_ABSTRACT: u32 = 1 << 7;
/// MethodTable flag: open generic type — a definition, or a type built over generic
/// parameters (`G<!0>`, `!0[]`); it has no layout and cannot be instantiated.
pub const MT_FLAG_GENERIC_DEF: u32 = 1 << 8;
/// MethodTable flag: the type has a `.cctor`.
pub const MT_FLAG_HAS_CCTOR: u32 = 1 << 9;
/// MethodTable flag: `beforefieldinit`.
pub const MT_FLAG_BEFOREFIELDINIT: u32 = 1 << 10;
/// MethodTable flag: array elements are object references.
pub const MT_FLAG_ELEM_IS_REF: u32 = 1 << 11;

/// Offset of [`crate::types::MethodTable::flags`].
pub const MT_FLAGS_OFFSET: usize = 0;
/// Offset of [`crate::types::MethodTable::base_size`].
pub const MT_BASE_SIZE_OFFSET: usize = 4;
/// Offset of [`crate::types::MethodTable::component_size`].
pub const MT_COMPONENT_SIZE_OFFSET: usize = 8;
/// Offset of [`crate::types::MethodTable::type_id`].
pub const MT_TYPE_ID_OFFSET: usize = 12;
/// Offset of [`crate::types::MethodTable::parent`].
pub const MT_PARENT_OFFSET: usize = 16;
/// Offset of [`crate::types::MethodTable::element`].
pub const MT_ELEMENT_OFFSET: usize = 24;
/// Offset of [`crate::types::MethodTable::vtable`] (address of slot 0; slot i at `vtable + 8*i`).
pub const MT_VTABLE_OFFSET: usize = 32;
/// Offset of [`crate::types::MethodTable::vtable_len`].
pub const MT_VTABLE_LEN_OFFSET: usize = 40;
/// Offset of [`crate::types::MethodTable::cctor_state`].
pub const MT_CCTOR_STATE_OFFSET: usize = 48;
/// Offset of [`crate::types::MethodTable::statics`].
pub const MT_STATICS_OFFSET: usize = 56;
/// Offset of `MethodTable::unbox_key` (u32).
pub const MT_UNBOX_KEY_OFFSET: usize = 52;

/// What the heap needs of a method table: the fields of its `#[repr(C)]`
/// head and a name for error messages.
///
/// # Implementation safety
///
/// `Self` is `#[repr(C)]` with `flags`, `base_size` and `component_size`
/// stored as `u32` at [`MT_FLAGS_OFFSET`], [`MT_BASE_SIZE_OFFSET`] and
/// [`MT_COMPONENT_SIZE_OFFSET`], holding what the methods return: the heap
/// stores the address of `self` in each object it allocates and reads those
/// fields back through it (object sizes while sweeping). It must also outlive
/// every object that points at it.
pub unsafe trait MethodTableHead {
    /// `MT_FLAG_*`.
    fn flags(&self) -> u32;
    /// Allocation size of an instance, or of an empty array or string.
    fn base_size(&self) -> u32;
    /// Size of one array element (0 for non-arrays).
    fn component_size(&self) -> u32;
    /// Array rank (1 for SZ arrays, 0 for non-arrays).
    fn rank(&self) -> u32;
    /// The type's full name (for errors).
    fn type_name(&self) -> String;
}
