//! The type system: assemblies loaded together (corlib, managed DDK, driver), token
//! resolution across them (TypeRef/MemberRef/TypeSpec, nested types, generic
//! instances), and a runtime descriptor — a [`MethodTable`] — for every type: field
//! layout (ECMA-335 Partition II §10.7 sequential/explicit, `.pack`, ClassLayout
//! sizes), vtable slots with newslot/override and MethodImpl (§10.3), interface maps
//! (§12.2), static storage with `.cctor`/`beforefieldinit` state (§10.5.3), FieldRVA
//! initial data (§16.3.2), array types of any element type, and `#US` literals.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::cmp::Ordering as CmpOrdering;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::heap::{self, Heap};
use crate::metadata::body::MethodBody;
use crate::metadata::sig::{self, Prim, TypeSig};
use crate::metadata::*;

mod forward;
mod gvm;
mod md_array;
mod vector_ifaces;
pub use md_array::ArrayMethodKind;

/// An assembly loaded into a [`TypeSystem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AsmId(pub u32);
/// A type (index of its [`MethodTable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(pub u32);
/// A method (index of its [`MethodDesc`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MethodId(pub u32);
/// A field (index of its [`FieldDesc`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldId(pub u32);

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

/// Offset of [`MethodTable::flags`].
pub const MT_FLAGS_OFFSET: usize = 0;
/// Offset of [`MethodTable::base_size`].
pub const MT_BASE_SIZE_OFFSET: usize = 4;
/// Offset of [`MethodTable::component_size`].
pub const MT_COMPONENT_SIZE_OFFSET: usize = 8;
/// Offset of [`MethodTable::type_id`].
pub const MT_TYPE_ID_OFFSET: usize = 12;
/// Offset of [`MethodTable::parent`].
pub const MT_PARENT_OFFSET: usize = 16;
/// Offset of [`MethodTable::element`].
pub const MT_ELEMENT_OFFSET: usize = 24;
/// Offset of [`MethodTable::vtable`] (address of slot 0; slot i at `vtable + 8*i`).
pub const MT_VTABLE_OFFSET: usize = 32;
/// Offset of [`MethodTable::vtable_len`].
pub const MT_VTABLE_LEN_OFFSET: usize = 40;
/// Offset of [`MethodTable::cctor_state`].
pub const MT_CCTOR_STATE_OFFSET: usize = 48;
/// Offset of [`MethodTable::statics`].
pub const MT_STATICS_OFFSET: usize = 56;
/// Offset of `MethodTable::unbox_key` (u32).
pub const MT_UNBOX_KEY_OFFSET: usize = 52;

/// `cctor_state`: nothing to run (no `.cctor`, or it has completed).
pub const CCTOR_DONE: u32 = 0;
/// `cctor_state`: the `.cctor` must run before first access.
pub const CCTOR_PENDING: u32 = 1;
/// `cctor_state`: the `.cctor` is running (recursive accesses proceed, §II.10.5.3.3).
pub const CCTOR_RUNNING: u32 = 2;

/// The runtime descriptor of a type. The `#[repr(C)]` head is read by generated
/// code at the `MT_*_OFFSET` offsets; [`TypeInfo`] is the loader's view.
#[repr(C)]
pub struct MethodTable {
    /// `MT_FLAG_*`.
    pub flags: u32,
    /// Allocation size of an instance including the object header (classes, boxed
    /// values), or of an empty array/string (the fixed part before the elements).
    pub base_size: u32,
    /// Size of one array element (0 for non-arrays). Seed bug 1: for a struct
    /// element type this is the struct's size.
    pub component_size: u32,
    /// This type's [`TypeId`].
    pub type_id: u32,
    /// Address of the parent MethodTable, or 0.
    pub parent: usize,
    /// Address of the element MethodTable (arrays, pointers, byrefs), or 0.
    pub element: usize,
    /// Address of vtable slot 0: `vtable_len` words holding code addresses (0 until
    /// the execution engine installs a stub or compiled code).
    pub vtable: usize,
    /// Number of vtable slots.
    pub vtable_len: u32,
    /// Array rank (1 for SZ arrays, 0 for non-arrays).
    pub rank: u32,
    /// `CCTOR_DONE` / `CCTOR_PENDING` / `CCTOR_RUNNING`.
    pub cctor_state: AtomicU32,
    /// What a boxed value of this type unboxes as: `Prim as u32 + 1` of a
    /// primitive or of an enum's underlying type, else 0. `unbox` accepts a boxed
    /// enum as its underlying primitive and vice versa (ECMA-335 §III.4.32 and
    /// §I.8.7; mono compares the element classes the same way).
    pub unbox_key: u32,
    /// Address of the static field storage block, or 0.
    pub statics: usize,
    /// Loader-side description.
    pub info: TypeInfo,
}

/// What kind of type a MethodTable describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    /// Reference type (class, including System.Object).
    Class,
    /// Value type (struct).
    ValueType,
    /// Enum (a value type with one instance field `value__`).
    Enum,
    /// Interface.
    Interface,
    /// Corlib primitive (System.Int32, …); `Prim::String`/`Object` are not used here.
    Primitive(Prim),
    /// System.String.
    String,
    /// `T[]`.
    SzArray,
    /// `T[,…]` with rank.
    Array,
    /// `T*`.
    Ptr,
    /// `T&`.
    ByRef,
    /// Function pointer.
    FnPtr,
    /// Generic parameter of an open type (`!n`) or method (`!!n`).
    GenericParam {
        /// True for a method parameter.
        method: bool,
        /// Parameter number.
        index: u32,
    },
}

/// An interface implemented by a class and the vtable slot of each of its methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceMap {
    /// The interface.
    pub iface: TypeId,
    /// For interface method `i` (its `MethodDesc::slot`), the class vtable slot that
    /// implements it (`None` only in abstract classes).
    pub slots: Vec<Option<u32>>,
}

const ST_PARENT: u8 = 1;
const ST_MEMBERS: u8 = 2;
const ST_LAYOUT: u8 = 4;
const ST_VTABLE: u8 = 8;
const ST_STATICS: u8 = 16;
const ST_ALL: u8 = 31;

/// The loader's view of a type.
pub struct TypeInfo {
    /// Namespace (of the outermost enclosing type for nested types).
    pub namespace: String,
    /// Simple name (for constructed types, e.g. `Int32[]`).
    pub name: String,
    /// Defining assembly (for constructed types: of the generic definition/element).
    pub asm: Option<AsmId>,
    /// TypeDef token, or null for constructed types.
    pub token: Token,
    /// Kind.
    pub kind: TypeKind,
    /// TypeAttributes (§II.23.1.15).
    pub attrs: u32,
    /// Base type.
    pub parent: Option<TypeId>,
    /// Enclosing type of a nested type.
    pub enclosing: Option<TypeId>,
    /// Element type of arrays, pointers and byrefs.
    pub element: Option<TypeId>,
    /// Generic definition of an instantiation.
    pub generic_def: Option<TypeId>,
    /// Type arguments of an instantiation.
    pub type_args: Vec<TypeId>,
    /// Number of generic parameters of a definition.
    pub generic_params: u32,
    /// Value types: size of the value. Reference types: end of instance data measured
    /// from the object reference (header included).
    pub size: u32,
    /// Alignment of the value (value types) or of the instance data (classes).
    pub align: u32,
    /// Offsets of object references: from the value start (value types) or from the
    /// object reference (classes).
    pub gc_refs: Vec<u32>,
    /// Fields declared by this type (instance and static), declaration order.
    pub fields: Vec<FieldId>,
    /// Methods declared by this type, declaration order.
    pub methods: Vec<MethodId>,
    /// Vtable: slot → implementing method.
    pub vslots: Vec<MethodId>,
    /// Interfaces implemented (including inherited ones) with their slot maps.
    pub interfaces: Vec<InterfaceMap>,
    /// Interfaces named directly (InterfaceImpl rows).
    pub declared_interfaces: Vec<TypeId>,
    /// The type initializer.
    pub cctor: Option<MethodId>,
    /// ClassLayout packing size (0 = default).
    pub packing: u16,
    /// ClassLayout class size (0 = none).
    pub class_size: u32,
    /// Bytes of static storage.
    pub statics_size: u32,
    /// Offsets of object references inside the static block (GC roots).
    pub static_gc_refs: Vec<u32>,
    statics_block: Box<[u64]>,
    slots: Box<[AtomicUsize]>,
    state: u8,
    busy: u8,
    nest: u8,
}

impl TypeInfo {
    /// `Namespace.Name` (nested types as `Namespace.Outer/Inner` when known).
    pub fn full_name(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}.{}", self.namespace, self.name)
        }
    }

    /// True for value types (structs, enums, primitives).
    pub fn is_value_type(&self) -> bool {
        matches!(
            self.kind,
            TypeKind::ValueType | TypeKind::Enum | TypeKind::Primitive(_)
        )
    }

    /// True if a location of this type holds an object reference.
    pub fn is_reference(&self) -> bool {
        matches!(
            self.kind,
            TypeKind::Class
                | TypeKind::Interface
                | TypeKind::String
                | TypeKind::SzArray
                | TypeKind::Array
        )
    }

    /// The vtable slot words (code addresses) of this type.
    pub fn vtable_slots(&self) -> &[AtomicUsize] {
        &self.slots
    }
}

/// A resolved method signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sig {
    /// Instance method (`this` is an extra first argument; seed bug 2).
    pub has_this: bool,
    /// Return type (System.Void for none).
    pub ret: TypeId,
    /// Parameter types, without `this`.
    pub params: Vec<TypeId>,
    /// Generic parameter count of a generic method.
    pub generic_params: u32,
    /// Calling convention (low 4 bits of the signature's first byte).
    pub call_conv: u8,
}

/// A method.
pub struct MethodDesc {
    /// Declaring type (an instantiation for members of generic instances).
    pub owner: TypeId,
    /// Defining assembly.
    pub asm: AsmId,
    /// MethodDef token.
    pub token: Token,
    /// Name.
    pub name: String,
    /// MethodAttributes (§II.23.1.10).
    pub flags: u16,
    /// MethodImplAttributes (§II.23.1.11).
    pub impl_flags: u16,
    /// RVA of the body (0 for none).
    pub rva: u32,
    /// Signature with the owner's type arguments substituted.
    pub sig: Sig,
    /// Signature as declared (generic parameters left open), used to bind MemberRefs.
    pub open_sig: Sig,
    /// Vtable slot (virtual methods; for interface methods the index within the
    /// interface).
    pub slot: Option<u32>,
    /// P/Invoke import `(module, entry)` from ImplMap.
    pub pinvoke: Option<(String, String)>,
    /// Code address once compiled (0 = not yet); maintained by the execution engine.
    pub entry: AtomicUsize,
    /// Method type arguments of a generic method instance (MethodSpec), else empty.
    pub method_args: Vec<TypeId>,
    /// The generic method definition this instance was made from.
    pub generic_method_def: Option<MethodId>,
    /// Why the signature could not be resolved (a type missing from a referenced
    /// assembly, say `System.IAsyncResult` for a delegate's `BeginInvoke`). The
    /// assembly still loads; `sig` is then a placeholder, and compiling or calling
    /// the method fails with this error.
    pub unresolved: Option<Error>,
}

impl MethodDesc {
    /// `static`.
    pub fn is_static(&self) -> bool {
        self.flags & 0x10 != 0
    }
    /// `virtual`.
    pub fn is_virtual(&self) -> bool {
        self.flags & 0x40 != 0
    }
    /// `abstract`.
    pub fn is_abstract(&self) -> bool {
        self.flags & 0x400 != 0
    }
    /// `[MethodImpl(InternalCall)]` (impl flag 0x1000).
    pub fn is_internal_call(&self) -> bool {
        self.impl_flags & 0x1000 != 0
    }
}

/// A field.
pub struct FieldDesc {
    /// Declaring type.
    pub owner: TypeId,
    /// Defining assembly.
    pub asm: AsmId,
    /// Field token.
    pub token: Token,
    /// Name.
    pub name: String,
    /// FieldAttributes (§II.23.1.5).
    pub flags: u16,
    /// Field type.
    pub ty: TypeId,
    /// Instance fields: offset from the object reference (classes) or from the value
    /// start (value types). Static fields: offset in the static block.
    pub offset: u32,
    /// FieldRVA initial data: (file offset, length).
    pub rva_data: Option<(usize, usize)>,
}

impl FieldDesc {
    /// `static`.
    pub fn is_static(&self) -> bool {
        self.flags & 0x10 != 0
    }
    /// `literal` (a compile-time constant without storage).
    pub fn is_literal(&self) -> bool {
        self.flags & 0x40 != 0
    }
}

/// Size, alignment and GC layout of a location holding a value of some type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueLayout {
    /// Bytes (8 for references).
    pub size: u32,
    /// Alignment.
    pub align: u32,
    /// True for value types.
    pub is_value_type: bool,
    /// Offsets of object references within the location.
    pub gc_refs: Vec<u32>,
}

/// What a token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// A type.
    Type(TypeId),
    /// A method.
    Method(MethodId),
    /// A field.
    Field(FieldId),
}

/// A `(namespace, name)` key for [`AsmInfo::by_name`] that owned and borrowed
/// pairs share, so a lookup (hundreds per load, each once two fresh `String`s)
/// allocates nothing: the map borrows its `(String, String)` keys as `dyn NamePair`.
trait NamePair {
    fn ns(&self) -> &str;
    fn name(&self) -> &str;
}

impl NamePair for (String, String) {
    fn ns(&self) -> &str {
        &self.0
    }
    fn name(&self) -> &str {
        &self.1
    }
}

impl NamePair for (&str, &str) {
    fn ns(&self) -> &str {
        self.0
    }
    fn name(&self) -> &str {
        self.1
    }
}

impl<'a> Borrow<dyn NamePair + 'a> for (String, String) {
    fn borrow(&self) -> &(dyn NamePair + 'a) {
        self
    }
}

// The same order as the tuple's own `Ord` (namespace, then name), as `Borrow` requires.
impl Ord for dyn NamePair + '_ {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (self.ns(), self.name()).cmp(&(other.ns(), other.name()))
    }
}

impl PartialOrd for dyn NamePair + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for dyn NamePair + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}

impl Eq for dyn NamePair + '_ {}

struct AsmInfo {
    name: String,
    asm: Assembly,
    typedefs: Vec<TypeId>,
    methods: Vec<Option<MethodId>>,
    fields: Vec<Option<FieldId>>,
    typerefs: Vec<Option<TypeId>>,
    /// Top-level TypeDefs by (namespace, name); searched through `dyn NamePair`.
    by_name: BTreeMap<(String, String), u32>,
    nested: BTreeMap<(u32, String), u32>,
    // Side tables indexed by RID - 1 (read with `at`) of the TypeDef table
    // (enclosing, class_layout, method_impls, interface_impls, generic_counts),
    // the Field table (field_layout, field_rva) or the MethodDef table
    // (impl_map). Dense vectors, not maps: each map type was a separate
    // BTreeMap instantiation, code that TCG translates at every boot.
    /// Enclosing TypeDef RID of a nested type, 0 for a top-level one.
    enclosing: Vec<u32>,
    class_layout: Vec<Option<(u16, u32)>>,
    field_layout: Vec<Option<u32>>,
    field_rva: Vec<Option<u32>>,
    method_impls: Vec<Vec<(Token, Token)>>,
    interface_impls: Vec<Vec<Token>>,
    generic_counts: Vec<u32>,
    impl_map: Vec<Option<(String, String)>>,
    method_owner: Vec<u32>,
    field_owner: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    SzArray(TypeId),
    Array(TypeId, u32),
    Ptr(TypeId),
    ByRef(TypeId),
    FnPtr,
    Param(bool, u32),
    Inst(TypeId, Vec<TypeId>),
}

/// Corlib types the loader asks for by name again and again (filled when the
/// corlib is identified; `None` = not defined there, or no corlib yet).
#[derive(Clone, Copy, Default)]
struct WellKnown {
    value_type: Option<TypeId>,
    enum_: Option<TypeId>,
    array: Option<TypeId>,
    /// The generic interfaces of vectors (`types/vector_ifaces.rs`).
    vector_ifaces: [Option<TypeId>; vector_ifaces::VECTOR_INTERFACES.len()],
}

/// Assemblies, types, methods, fields and the managed heap, loaded together.
pub struct TypeSystem {
    asms: Vec<AsmInfo>,
    // Boxed: objects and generated code hold MethodTable addresses, which must not
    // move when the vector grows.
    #[allow(clippy::vec_box)]
    types: Vec<Box<MethodTable>>,
    methods: Vec<MethodDesc>,
    fields: Vec<FieldDesc>,
    constructed: BTreeMap<Key, TypeId>,
    /// Corlib primitive types, indexed by `Prim as usize` (a lookup per
    /// primitive in every signature resolved: a table, not a map).
    prims: [Option<TypeId>; Prim::ALL.len()],
    /// `System.ValueType`, `System.Enum` and `System.Array` of the corlib,
    /// looked up once: laying out each type asks for them.
    well_known: WellKnown,
    corlib: Option<AsmId>,
    heap: Heap,
    literals: BTreeMap<Vec<u16>, usize>,
    pending: usize,
    nesting: u32,
    mctx: Vec<TypeId>,
    method_insts: BTreeMap<(MethodId, Vec<TypeId>), MethodId>,
    /// MethodTable address -> type, sorted by address: a vector, not a map,
    /// since types are added in (mostly) ascending address order and a
    /// `BTreeMap` instantiation is code TCG must translate at boot.
    by_mt_addr: Vec<(usize, TypeId)>,
}

const MAX_DEPTH: u32 = 64;
/// Maximum simultaneous `ensure` recursion (keeps hostile metadata off the stack).
const MAX_NESTING: u32 = 48;
/// Maximum nesting of constructed types (`G<G<G<…>>>`, `T[][]…`).
const MAX_CONSTRUCTED_NEST: u8 = 24;

/// Row `rid` (1-based) of a per-row side table.
fn at<V>(rows: &[V], rid: u32) -> Option<&V> {
    rows.get((rid as usize).wrapping_sub(1))
}

/// Row `rid` of a per-row side table, mutably; `None` for a RID outside the
/// table, which no lookup (always by a row of that table) could ever find.
fn at_mut<V>(rows: &mut [V], rid: u32) -> Option<&mut V> {
    rows.get_mut((rid as usize).wrapping_sub(1))
}

fn align_up(n: u32, a: u32) -> Option<u32> {
    let a = a.max(1);
    n.checked_add(a - 1).map(|x| x / a * a)
}

fn tl(ty: &str, reason: impl Into<String>) -> Error {
    Error::TypeLoad {
        ty: ty.to_string(),
        reason: reason.into(),
    }
}

/// Assembly names that mean "the corlib" whatever toolchain produced the reference.
const CORLIB_NAMES: [&str; 4] = [
    "mscorlib",
    "System.Runtime",
    "netstandard",
    "System.Private.CoreLib",
];

impl Default for TypeSystem {
    fn default() -> Self {
        TypeSystem::new()
    }
}

impl TypeSystem {
    /// An empty type system with its own heap.
    pub fn new() -> TypeSystem {
        TypeSystem {
            asms: Vec::new(),
            types: Vec::new(),
            methods: Vec::new(),
            fields: Vec::new(),
            constructed: BTreeMap::new(),
            prims: [None; Prim::ALL.len()],
            well_known: WellKnown::default(),
            corlib: None,
            heap: Heap::new(),
            literals: BTreeMap::new(),
            pending: 0,
            nesting: 0,
            mctx: Vec::new(),
            method_insts: BTreeMap::new(),
            by_mt_addr: Vec::new(),
        }
    }

    // ---------------------------------------------------------------- accessors

    /// The managed heap.
    pub fn heap(&self) -> &Heap {
        &self.heap
    }
    /// The managed heap, mutably.
    pub fn heap_mut(&mut self) -> &mut Heap {
        &mut self.heap
    }
    /// Loaded assemblies.
    pub fn assemblies(&self) -> impl Iterator<Item = AsmId> {
        (0..self.asms.len() as u32).map(AsmId)
    }
    /// Name of an assembly.
    pub fn assembly_name(&self, a: AsmId) -> &str {
        self.asms
            .get(a.0 as usize)
            .map(|x| x.name.as_str())
            .unwrap_or("?")
    }
    /// Metadata of an assembly.
    pub fn metadata(&self, a: AsmId) -> Result<Metadata<'_>> {
        self.asms
            .get(a.0 as usize)
            .map(|x| x.asm.md())
            .ok_or_else(|| Error::Unresolved {
                what: "assembly id",
                name: format!("{}", a.0),
            })
    }
    /// Assembly by name.
    pub fn find_assembly(&self, name: &str) -> Option<AsmId> {
        self.asms
            .iter()
            .position(|a| a.name == name)
            .map(|i| AsmId(i as u32))
    }
    /// The corlib, once loaded.
    pub fn corlib(&self) -> Option<AsmId> {
        self.corlib
    }
    /// Number of types.
    pub fn type_count(&self) -> usize {
        self.types.len()
    }
    /// All types.
    pub fn types(&self) -> impl Iterator<Item = TypeId> {
        (0..self.types.len() as u32).map(TypeId)
    }
    /// Types defined by an assembly (TypeDef order).
    pub fn types_of(&self, a: AsmId) -> &[TypeId] {
        self.asms
            .get(a.0 as usize)
            .map(|x| x.typedefs.as_slice())
            .unwrap_or(&[])
    }
    /// The MethodTable of a type. Its address is stable for the life of `self`.
    pub fn mt(&self, t: TypeId) -> &MethodTable {
        &self.types[t.0 as usize]
    }
    /// The MethodTable of a type, or an error for an unknown id.
    pub fn try_mt(&self, t: TypeId) -> Result<&MethodTable> {
        self.types
            .get(t.0 as usize)
            .map(|b| &**b)
            .ok_or_else(|| Error::Unresolved {
                what: "type id",
                name: format!("{}", t.0),
            })
    }
    /// Address of a type's MethodTable (what objects store at +8).
    pub fn mt_address(&self, t: TypeId) -> usize {
        self.mt(t) as *const MethodTable as usize
    }
    /// The type whose MethodTable is at `addr`, if any.
    pub fn type_of_mt(&self, addr: usize) -> Option<TypeId> {
        let i = self.by_mt_addr.binary_search_by_key(&addr, |e| e.0).ok()?;
        Some(self.by_mt_addr[i].1)
    }
    /// Loader view of a type.
    pub fn info(&self, t: TypeId) -> &TypeInfo {
        &self.types[t.0 as usize].info
    }
    /// A method.
    pub fn method(&self, m: MethodId) -> &MethodDesc {
        &self.methods[m.0 as usize]
    }
    /// A field.
    pub fn field(&self, f: FieldId) -> &FieldDesc {
        &self.fields[f.0 as usize]
    }
    /// Number of methods.
    pub fn method_count(&self) -> usize {
        self.methods.len()
    }
    /// The corlib type of a primitive.
    pub fn prim(&self, p: Prim) -> Result<TypeId> {
        self.prims[p as usize].ok_or_else(|| Error::Unresolved {
            what: "corlib type (load mscorlib first)",
            name: format!("System.{}", p.corlib_name()),
        })
    }
    /// `Namespace.Name` (nested: `Namespace.Outer/Inner`) of a type.
    pub fn type_name(&self, t: TypeId) -> String {
        let i = self.info(t);
        match (i.kind, i.element) {
            (TypeKind::SzArray, Some(e)) => return format!("{}[]", self.type_name(e)),
            (TypeKind::Array, Some(e)) => {
                return format!(
                    "{}[{}]",
                    self.type_name(e),
                    ",".repeat(self.mt(t).rank.saturating_sub(1) as usize)
                )
            }
            (TypeKind::Ptr, Some(e)) => return format!("{}*", self.type_name(e)),
            (TypeKind::ByRef, Some(e)) => return format!("{}&", self.type_name(e)),
            _ => {}
        }
        let mut base = match i.enclosing {
            Some(e) => format!("{}/{}", self.type_name(e), i.name),
            None => i.full_name(),
        };
        if let Some(d) = i.generic_def {
            base = self.type_name(d);
            base.push('<');
            for (k, a) in i.type_args.iter().enumerate() {
                if k > 0 {
                    base.push(',');
                }
                base.push_str(&self.type_name(*a));
            }
            base.push('>');
        }
        base
    }
    /// A type by namespace and name in any loaded assembly (corlib first).
    pub fn find_type(&self, namespace: &str, name: &str) -> Option<TypeId> {
        let key: &dyn NamePair = &(namespace, name);
        for a in &self.asms {
            if let Some(r) = a.by_name.get(key) {
                return a.typedefs.get((*r as usize).wrapping_sub(1)).copied();
            }
        }
        None
    }
    /// A type by `Namespace.Name` (nested types as `Outer/Inner`).
    pub fn find_type_by_full_name(&self, full: &str) -> Option<TypeId> {
        self.types()
            .find(|t| self.info(*t).token.0 != 0 && self.def_name_is(*t, full))
    }

    /// `self.type_name(t) == full` for a TypeDef, without building the name: the
    /// search above visits every loaded type.
    fn def_name_is(&self, t: TypeId, full: &str) -> bool {
        let i = self.info(t);
        match i.enclosing {
            // `Outer/Inner`: the enclosing chain is a forest (checked at load).
            Some(e) => full
                .strip_suffix(i.name.as_str())
                .and_then(|rest| rest.strip_suffix('/'))
                .is_some_and(|outer| self.def_name_is(e, outer)),
            None if i.namespace.is_empty() => full == i.name,
            None => full
                .strip_suffix(i.name.as_str())
                .and_then(|rest| rest.strip_suffix('.'))
                .is_some_and(|ns| ns == i.namespace),
        }
    }
    /// A method of `t` (declared) by name.
    pub fn find_method(&self, t: TypeId, name: &str) -> Option<MethodId> {
        self.info(t)
            .methods
            .iter()
            .copied()
            .find(|m| self.method(*m).name == name)
    }
    /// A field of `t` or its bases by name.
    pub fn find_field(&self, t: TypeId, name: &str) -> Option<FieldId> {
        let mut cur = Some(t);
        while let Some(c) = cur {
            if let Some(f) = self
                .info(c)
                .fields
                .iter()
                .copied()
                .find(|f| self.field(*f).name == name)
            {
                return Some(f);
            }
            cur = self.info(c).parent;
        }
        None
    }

    // ------------------------------------------------------------- JIT queries

    /// Size, alignment and GC layout of a location (field, local, argument, array
    /// element) holding a value of type `t`: 8 bytes for references and pointers.
    pub fn value_layout(&self, t: TypeId) -> Result<ValueLayout> {
        let mt = self.try_mt(t)?;
        let i = &mt.info;
        if mt.flags & MT_FLAG_GENERIC_DEF != 0 && i.is_value_type() {
            return Err(tl(
                &self.type_name(t),
                "open generic type has no layout (instantiate it)",
            ));
        }
        if i.is_value_type() {
            if i.state & ST_LAYOUT == 0 {
                return Err(tl(
                    &self.type_name(t),
                    "layout not computed (open generic or load failed)",
                ));
            }
            return Ok(ValueLayout {
                size: i.size,
                align: i.align,
                is_value_type: true,
                gc_refs: i.gc_refs.clone(),
            });
        }
        match i.kind {
            TypeKind::GenericParam { .. } => Err(tl(
                &self.type_name(t),
                "open generic parameter has no layout",
            )),
            _ => Ok(ValueLayout {
                size: 8,
                align: 8,
                is_value_type: false,
                gc_refs: if i.is_reference() {
                    vec![0]
                } else {
                    Vec::new()
                },
            }),
        }
    }

    /// The primitive a value of type `t` is on the evaluation stack: the primitive
    /// itself, or an enum's underlying type.
    pub fn underlying_prim(&self, t: TypeId) -> Option<Prim> {
        let i = &self.types.get(t.0 as usize)?.info;
        match i.kind {
            TypeKind::Primitive(p) => Some(p),
            TypeKind::Enum => {
                let f = i.fields.iter().find(|f| !self.field(**f).is_static())?;
                match self.info(self.field(*f).ty).kind {
                    TypeKind::Primitive(p) => Some(p),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// True if a value of type `from` may be stored where `to` is expected (the
    /// `castclass`/`isinst` test, §III.4.3): same type, a base class, an implemented
    /// interface, an array whose reference elements are assignable (covariance), or
    /// a generic collection interface of a vector (`types/vector_ifaces.rs`).
    pub fn is_assignable(&self, from: TypeId, to: TypeId) -> bool {
        if from == to {
            return true;
        }
        let (Some(fm), Some(tm)) = (
            self.types.get(from.0 as usize),
            self.types.get(to.0 as usize),
        ) else {
            return false;
        };
        let (fi, ti) = (&fm.info, &tm.info);
        if matches!(fi.kind, TypeKind::SzArray | TypeKind::Array) && fi.kind == ti.kind {
            if let (Some(fe), Some(te)) = (fi.element, ti.element) {
                let reference = self.info(fe).is_reference() && self.info(te).is_reference();
                if fm.rank == tm.rank && (fe == te || (reference && self.is_assignable(fe, te))) {
                    return true;
                }
            }
        }
        let mut cur = Some(from);
        let mut guard = 0;
        while let Some(c) = cur {
            if c == to {
                return true;
            }
            if ti.kind == TypeKind::Interface
                && self.info(c).interfaces.iter().any(|m| m.iface == to)
            {
                return true;
            }
            cur = self.info(c).parent;
            guard += 1;
            if guard > 1024 {
                break;
            }
        }
        ti.kind == TypeKind::Interface && self.vector_implements(from, to)
    }

    /// Offset and type of a field (instance: see [`FieldDesc::offset`]).
    pub fn field_offset(&self, f: FieldId) -> (u32, TypeId) {
        let d = self.field(f);
        (d.offset, d.ty)
    }

    /// Address of a static field's storage.
    pub fn static_field_address(&self, f: FieldId) -> Result<usize> {
        let d = self.field(f);
        if !d.is_static() || d.is_literal() {
            return Err(Error::Unresolved {
                what: "static field storage",
                name: d.name.clone(),
            });
        }
        let mt = self.mt(d.owner);
        if mt.statics == 0 {
            return Err(tl(&self.type_name(d.owner), "static storage not allocated"));
        }
        Ok(mt.statics + d.offset as usize)
    }

    /// FieldRVA initial data of a field (for `RuntimeHelpers.InitializeArray`).
    pub fn field_rva_data(&self, f: FieldId) -> Option<&[u8]> {
        let d = self.field(f);
        let (off, len) = d.rva_data?;
        self.asms
            .get(d.asm.0 as usize)?
            .asm
            .bytes()
            .get(off..off + len)
    }

    /// The vtable slot of `iface_method` (a method of an interface) in class `t`.
    pub fn interface_slot(&self, t: TypeId, iface_method: MethodId) -> Result<u32> {
        let m = self.method(iface_method);
        let idx = m.slot.ok_or_else(|| Error::Unresolved {
            what: "interface method slot",
            name: m.name.clone(),
        })?;
        self.info(t)
            .interfaces
            .iter()
            .find(|im| im.iface == m.owner)
            .and_then(|im| im.slots.get(idx as usize).copied().flatten())
            .ok_or_else(|| Error::Unresolved {
                what: "interface implementation",
                name: format!(
                    "{}::{} in {}",
                    self.type_name(m.owner),
                    m.name,
                    self.type_name(t)
                ),
            })
    }

    /// The method a class's vtable slot runs.
    pub fn vtable_method(&self, t: TypeId, slot: u32) -> Option<MethodId> {
        self.info(t).vslots.get(slot as usize).copied()
    }

    /// The method body (None for abstract, InternalCall, runtime or P/Invoke methods).
    pub fn method_body(&self, m: MethodId) -> Result<Option<MethodBody<'_>>> {
        let d = self.method(m);
        if d.rva == 0 {
            return Ok(None);
        }
        self.metadata(d.asm)?.method_body(d.rva).map(Some)
    }

    /// Local variable types of a method (from its body's locals signature).
    pub fn method_locals(&mut self, m: MethodId) -> Result<Vec<TypeId>> {
        let (asm, owner, tok) = {
            let d = self.method(m);
            let body = match self.method_body(m)? {
                Some(b) => b,
                None => return Ok(Vec::new()),
            };
            (d.asm, d.owner, body.local_var_sig)
        };
        if tok.is_null() {
            return Ok(Vec::new());
        }
        let md = self.metadata(asm)?;
        let row: StandAloneSigRow = md.row(tok.row())?;
        let locals = sig::parse_locals(md.blob(row.signature)?)
            .map_err(|e| e.at_row(TableId::StandAloneSig, tok.row()))?;
        let _ = (asm, owner);
        self.in_method(m, |s, a, ctx| {
            let mut out = Vec::new();
            for l in &locals {
                out.push(s.resolve_sig(a, &l.ty, ctx, 0)?);
            }
            Ok(out)
        })
    }

    /// The SZ array type `elem[]`, created on first use.
    pub fn array_of(&mut self, elem: TypeId) -> Result<TypeId> {
        let t = self.constructed_type(Key::SzArray(elem))?;
        self.finish_pending()?;
        Ok(t)
    }

    /// The instance `def<args…>` of generic type definition `def`, created on
    /// first use.
    pub fn generic_instance(&mut self, def: TypeId, args: Vec<TypeId>) -> Result<TypeId> {
        let d = self.info(def);
        if d.generic_params as usize != args.len() || !d.type_args.is_empty() {
            return Err(tl(&self.type_name(def), "generic argument count mismatch"));
        }
        let t = self.constructed_type(Key::Inst(def, args))?;
        self.finish_pending()?;
        Ok(t)
    }

    /// The multi-dimensional array type `elem[,…]` of `rank` (1..=32).
    pub fn md_array_of(&mut self, elem: TypeId, rank: u32) -> Result<TypeId> {
        if rank == 0 || rank > 32 {
            return Err(tl(&self.type_name(elem), "array rank must be 1..=32"));
        }
        let t = self.constructed_type(Key::Array(elem, rank))?;
        self.finish_pending()?;
        Ok(t)
    }

    /// Allocates `elem[lengths[0], lengths[1], …]` (zero lower bounds).
    pub fn alloc_md_array(&mut self, elem: TypeId, lengths: &[u64]) -> Result<usize> {
        let at = self.md_array_of(elem, lengths.len() as u32)?;
        let mt: &MethodTable = &self.types[at.0 as usize];
        self.heap.alloc_md_array(mt, lengths)
    }

    /// Resolves a type token (TypeDef/TypeRef/TypeSpec) of assembly `a`.
    pub fn resolve_type(&mut self, a: AsmId, tok: Token) -> Result<TypeId> {
        let t = self.resolve_type_ctx(a, tok, &[], 0)?;
        self.finish_pending()?;
        Ok(t)
    }

    /// Resolves a method token (MethodDef/MemberRef) of assembly `a`.
    pub fn resolve_method(&mut self, a: AsmId, tok: Token) -> Result<MethodId> {
        let m = self.resolve_method_inner(a, tok, &[])?;
        self.finish_pending()?;
        Ok(m)
    }

    /// Resolves a field token (Field/MemberRef) of assembly `a`.
    pub fn resolve_field(&mut self, a: AsmId, tok: Token) -> Result<FieldId> {
        let f = self.resolve_field_inner(a, tok, &[])?;
        self.finish_pending()?;
        Ok(f)
    }

    /// Resolves any token (`ldtoken`).
    pub fn resolve_token(&mut self, a: AsmId, tok: Token) -> Result<Resolved> {
        match tok.table() {
            Some(TableId::TypeDef | TableId::TypeRef | TableId::TypeSpec) => {
                self.resolve_type(a, tok).map(Resolved::Type)
            }
            Some(TableId::MethodDef | TableId::MethodSpec) => {
                self.resolve_method(a, tok).map(Resolved::Method)
            }
            Some(TableId::Field) => self.resolve_field(a, tok).map(Resolved::Field),
            Some(TableId::MemberRef) => {
                let md = self.metadata(a)?;
                let r: MemberRefRow = md.row(tok.row())?;
                if sig::is_field_sig(md.blob(r.signature)?) {
                    self.resolve_field(a, tok).map(Resolved::Field)
                } else {
                    self.resolve_method(a, tok).map(Resolved::Method)
                }
            }
            _ => Err(Error::Unresolved {
                what: "token",
                name: format!("{tok}"),
            }),
        }
    }

    /// Runs `f` with the generic context of method `m` (its owner's type arguments
    /// and its own method arguments), so tokens in generic code bind to instances.
    fn in_method<R>(
        &mut self,
        m: MethodId,
        f: impl FnOnce(&mut Self, AsmId, &[TypeId]) -> Result<R>,
    ) -> Result<R> {
        let (a, owner, margs) = {
            let d = self
                .methods
                .get(m.0 as usize)
                .ok_or_else(|| Error::Unresolved {
                    what: "method id",
                    name: format!("{}", m.0),
                })?;
            (d.asm, d.owner, d.method_args.clone())
        };
        let ctx = self.info(owner).type_args.clone();
        let saved = core::mem::replace(&mut self.mctx, margs);
        let r = f(self, a, &ctx);
        self.mctx = saved;
        let r = r?;
        self.finish_pending()?;
        Ok(r)
    }

    /// Resolves a type token used in the body of method `m` (generic-aware).
    pub fn resolve_type_in(&mut self, m: MethodId, tok: Token) -> Result<TypeId> {
        self.in_method(m, |s, a, ctx| s.resolve_type_ctx(a, tok, ctx, 0))
    }

    /// Resolves a method token (MethodDef/MemberRef/MethodSpec) used in the body of `m`.
    pub fn resolve_method_in(&mut self, m: MethodId, tok: Token) -> Result<MethodId> {
        self.in_method(m, |s, a, ctx| s.resolve_method_inner(a, tok, ctx))
    }

    /// Resolves a field token used in the body of `m`.
    pub fn resolve_field_in(&mut self, m: MethodId, tok: Token) -> Result<FieldId> {
        self.in_method(m, |s, a, ctx| s.resolve_field_inner(a, tok, ctx))
    }

    /// Resolves any token (`ldtoken`) used in the body of `m`.
    pub fn resolve_token_in(&mut self, m: MethodId, tok: Token) -> Result<Resolved> {
        match tok.table() {
            Some(TableId::TypeDef | TableId::TypeRef | TableId::TypeSpec) => {
                self.resolve_type_in(m, tok).map(Resolved::Type)
            }
            Some(TableId::MethodDef | TableId::MethodSpec) => {
                self.resolve_method_in(m, tok).map(Resolved::Method)
            }
            Some(TableId::Field) => self.resolve_field_in(m, tok).map(Resolved::Field),
            Some(TableId::MemberRef) => {
                let a = self.method(m).asm;
                let md = self.metadata(a)?;
                let r: MemberRefRow = md.row(tok.row())?;
                if sig::is_field_sig(md.blob(r.signature)?) {
                    self.resolve_field_in(m, tok).map(Resolved::Field)
                } else {
                    self.resolve_method_in(m, tok).map(Resolved::Method)
                }
            }
            _ => Err(Error::Unresolved {
                what: "token",
                name: format!("{tok}"),
            }),
        }
    }

    /// The interned string object for a `#US` token (`ldstr`), allocated on first use.
    pub fn string_literal(&mut self, a: AsmId, tok: Token) -> Result<usize> {
        if tok.kind() != US_TOKEN_KIND {
            return Err(Error::Unresolved {
                what: "user string token",
                name: format!("{tok}"),
            });
        }
        let chars = self.metadata(a)?.user_string(tok.row())?;
        self.intern(chars)
    }

    /// The interned string object with these contents.
    pub fn intern(&mut self, chars: Vec<u16>) -> Result<usize> {
        if let Some(o) = self.literals.get(&chars) {
            return Ok(*o);
        }
        let st = self.prim(Prim::String)?;
        let mt: &MethodTable = &self.types[st.0 as usize];
        // Literals are made while compiling, where no collection can run: past
        // the budget, grow (the next sweep sets the budget again).
        let o = match self.heap.alloc_string(mt, &chars) {
            Ok(o) => o,
            Err(Error::OutOfMemory { .. }) => {
                self.heap.allow_overdraft();
                self.heap.alloc_string(mt, &chars)?
            }
            Err(e) => return Err(e),
        };
        self.heap.set_header_bits(o, heap::HEADER_PINNED)?;
        self.literals.insert(chars, o);
        Ok(o)
    }

    /// The interned string objects (`ldstr` literals): GC roots.
    pub fn literal_objects(&self) -> impl Iterator<Item = usize> + '_ {
        self.literals.values().copied()
    }

    /// Allocates a fresh (not interned) string with these UTF-16 contents.
    pub fn alloc_string(&mut self, chars: &[u16]) -> Result<usize> {
        let st = self.prim(Prim::String)?;
        let mt: &MethodTable = &self.types[st.0 as usize];
        self.heap.alloc_string(mt, chars)
    }

    /// Allocates an instance of class `t` (or a boxed value of value type `t`).
    pub fn alloc_object(&mut self, t: TypeId) -> Result<usize> {
        let mt: &MethodTable = &self.types[t.0 as usize];
        self.heap.alloc_object(mt)
    }

    /// Allocates `elem[len]`.
    pub fn alloc_array(&mut self, elem: TypeId, len: usize) -> Result<usize> {
        let at = self.array_of(elem)?;
        let mt: &MethodTable = &self.types[at.0 as usize];
        self.heap.alloc_array(mt, len)
    }

    // ---------------------------------------------------------------- loading

    /// Loads an assembly. Referenced assemblies must be loaded first (corlib first).
    /// On error nothing of the assembly remains loaded.
    pub fn load(&mut self, bytes: Vec<u8>) -> Result<AsmId> {
        let asm = Assembly::parse(bytes)?;
        let marks = (
            self.asms.len(),
            self.types.len(),
            self.methods.len(),
            self.fields.len(),
            self.corlib,
            self.prims,
            self.well_known,
        );
        let r = self.load_inner(asm);
        if r.is_err() {
            self.asms.truncate(marks.0);
            self.types.truncate(marks.1);
            self.methods.truncate(marks.2);
            self.fields.truncate(marks.3);
            self.corlib = marks.4;
            self.prims = marks.5;
            self.well_known = marks.6;
            let n = marks.1 as u32;
            self.constructed.retain(|_, v| v.0 < n);
            self.by_mt_addr.retain(|(_, v)| v.0 < n);
            let nm = marks.2 as u32;
            self.method_insts.retain(|(g, _), v| g.0 < nm && v.0 < nm);
            self.pending = self.types.len();
        }
        r
    }

    fn load_inner(&mut self, asm: Assembly) -> Result<AsmId> {
        let id = AsmId(self.asms.len() as u32);
        let info = index_assembly(asm)?;
        if self.find_assembly(&info.name).is_some() {
            return Err(Error::Unsupported {
                what: "loading an assembly twice",
                detail: info.name,
            });
        }
        let ntypes;
        {
            let md = info.asm.md();
            ntypes = md.row_count(TableId::TypeDef);
        }
        self.asms.push(info);
        // Create a placeholder MethodTable for every TypeDef.
        for rid in 1..=ntypes {
            let (ns, name, attrs, gp) = {
                let a = &self.asms[id.0 as usize];
                let md = a.asm.md();
                let r: TypeDefRow = md.row(rid)?;
                (
                    md.string(r.namespace)?.to_string(),
                    md.string(r.name)?.to_string(),
                    r.flags,
                    at(&a.generic_counts, rid).copied().unwrap_or(0),
                )
            };
            let mut ti = new_info(ns, name, TypeKind::Class);
            ti.asm = Some(id);
            ti.token = Token::new(TableId::TypeDef, rid);
            ti.attrs = attrs;
            ti.generic_params = gp;
            let t = self.push_type(ti);
            self.asms[id.0 as usize].typedefs.push(t);
        }
        // Nesting.
        let enc: Vec<(u32, u32)> = self.asms[id.0 as usize]
            .enclosing
            .iter()
            .zip(1u32..)
            .filter(|(e, _)| **e != 0)
            .map(|(e, n)| (n, *e))
            .collect();
        for (n, e) in enc {
            let a = &self.asms[id.0 as usize];
            let (Some(nt), Some(et)) = (
                a.typedefs.get((n as usize).wrapping_sub(1)).copied(),
                a.typedefs.get((e as usize).wrapping_sub(1)).copied(),
            ) else {
                return Err(Error::in_row(
                    "NestedClass row names a missing TypeDef",
                    TableId::NestedClass,
                    0,
                    0,
                ));
            };
            self.types[nt.0 as usize].info.enclosing = Some(et);
            let ns = self.info(et).namespace.clone();
            self.types[nt.0 as usize].info.namespace = ns;
        }
        // The corlib: the assembly defining System.Object without a base type.
        if self.corlib.is_none() {
            if let Some(obj) = self.lookup_def(id, "System", "Object") {
                let md = self.asms[id.0 as usize].asm.md();
                let r: TypeDefRow = md.row(self.info(obj).token.row())?;
                if Token(r.extends).is_null() {
                    self.corlib = Some(id);
                    for p in Prim::ALL {
                        if let Some(t) = self.lookup_def(id, "System", p.corlib_name()) {
                            self.prims[p as usize] = Some(t);
                        }
                    }
                    self.well_known = WellKnown {
                        value_type: self.lookup_def(id, "System", "ValueType"),
                        enum_: self.lookup_def(id, "System", "Enum"),
                        array: self.lookup_def(id, "System", "Array"),
                        vector_ifaces: vector_ifaces::VECTOR_INTERFACES
                            .map(|n| self.lookup_def(id, "System.Collections.Generic", n)),
                    };
                    for p in [Prim::Object, Prim::String, Prim::Void, Prim::I4] {
                        self.prim(p)?;
                    }
                }
            }
        }
        if self.corlib.is_none() {
            return Err(Error::Unresolved {
                what: "corlib (load mscorlib before other assemblies)",
                name: "System.Object".into(),
            });
        }
        for t in self.asms[id.0 as usize].typedefs.clone() {
            self.ensure(t, ST_ALL, 0)?;
        }
        self.finish_pending()?;
        Ok(id)
    }

    fn push_type(&mut self, info: TypeInfo) -> TypeId {
        let id = TypeId(self.types.len() as u32);
        self.types.push(Box::new(MethodTable {
            flags: 0,
            base_size: 0,
            component_size: 0,
            type_id: id.0,
            parent: 0,
            element: 0,
            vtable: 0,
            vtable_len: 0,
            rank: 0,
            cctor_state: AtomicU32::new(CCTOR_DONE),
            unbox_key: 0,
            statics: 0,
            info,
        }));
        let addr = self.mt_address(id);
        match self.by_mt_addr.binary_search_by_key(&addr, |e| e.0) {
            Ok(i) => self.by_mt_addr[i].1 = id,
            Err(i) => self.by_mt_addr.insert(i, (addr, id)),
        }
        id
    }

    fn lookup_def(&self, a: AsmId, ns: &str, name: &str) -> Option<TypeId> {
        let ai = self.asms.get(a.0 as usize)?;
        let rid = ai.by_name.get(&(ns, name) as &dyn NamePair)?;
        ai.typedefs.get((*rid as usize).wrapping_sub(1)).copied()
    }

    /// Brings every type created since the last call to full readiness.
    fn finish_pending(&mut self) -> Result<()> {
        while self.pending < self.types.len() {
            let t = TypeId(self.pending as u32);
            self.pending += 1;
            self.ensure(t, ST_ALL, 0)?;
        }
        Ok(())
    }

    fn ensure(&mut self, t: TypeId, want: u8, depth: u32) -> Result<()> {
        if self.info(t).state & want == want {
            return Ok(());
        }
        // Bound the whole recursion, not just one chain: generic instantiation can
        // restart a chain (`class G<T> : G<G<T>>`).
        if self.nesting >= MAX_NESTING {
            return Err(tl(
                &self.type_name(t),
                "type dependencies nested too deeply",
            ));
        }
        self.nesting += 1;
        let r = self.ensure_inner(t, want, depth);
        self.nesting -= 1;
        r
    }

    fn ensure_inner(&mut self, t: TypeId, want: u8, depth: u32) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(tl(
                &self.type_name(t),
                "type dependencies nested too deeply",
            ));
        }
        for stage in [ST_PARENT, ST_MEMBERS, ST_LAYOUT, ST_VTABLE, ST_STATICS] {
            if want & stage == 0 || self.info(t).state & stage != 0 {
                continue;
            }
            // Open generic definitions and generic parameters have no layout.
            let open = (self.info(t).generic_params > 0 && self.info(t).type_args.is_empty())
                || self.mt(t).flags & MT_FLAG_GENERIC_DEF != 0;
            if open && stage != ST_PARENT && stage != ST_MEMBERS && stage != ST_VTABLE {
                self.types[t.0 as usize].info.state |= stage;
                continue;
            }
            if self.info(t).busy & stage != 0 {
                return Err(tl(
                    &self.type_name(t),
                    "circular type dependency (e.g. a struct containing itself)",
                ));
            }
            self.types[t.0 as usize].info.busy |= stage;
            let r = match stage {
                ST_PARENT => self.stage_parent(t, depth),
                ST_MEMBERS => self.stage_members(t, depth),
                ST_LAYOUT => self.stage_layout(t, depth),
                ST_VTABLE => self.stage_vtable(t, depth),
                _ => self.stage_statics(t, depth),
            };
            self.types[t.0 as usize].info.busy &= !stage;
            r?;
            self.types[t.0 as usize].info.state |= stage;
            if stage == ST_LAYOUT {
                let key = self.underlying_prim(t).map_or(0, |p| p as u32 + 1);
                self.types[t.0 as usize].unbox_key = key;
            }
        }
        Ok(())
    }

    // ------------------------------------------------------- type resolution

    fn resolve_type_ctx(
        &mut self,
        a: AsmId,
        tok: Token,
        ctx: &[TypeId],
        depth: u32,
    ) -> Result<TypeId> {
        if depth > MAX_DEPTH {
            return Err(Error::malformed("type reference chain too deep", 0));
        }
        let ai = self
            .asms
            .get(a.0 as usize)
            .ok_or_else(|| Error::Unresolved {
                what: "assembly id",
                name: format!("{}", a.0),
            })?;
        match tok.table() {
            Some(TableId::TypeDef) => ai
                .typedefs
                .get((tok.row() as usize).wrapping_sub(1))
                .copied()
                .ok_or(Error::in_row(
                    "TypeDef token out of range",
                    TableId::TypeDef,
                    tok.row(),
                    0,
                )),
            Some(TableId::TypeRef) => {
                if let Some(Some(t)) = ai.typerefs.get((tok.row() as usize).wrapping_sub(1)) {
                    return Ok(*t);
                }
                let t = self.resolve_typeref(a, tok.row(), depth)?;
                if let Some(slot) = self.asms[a.0 as usize]
                    .typerefs
                    .get_mut((tok.row() as usize).wrapping_sub(1))
                {
                    *slot = Some(t);
                }
                Ok(t)
            }
            Some(TableId::TypeSpec) => {
                let md = ai.asm.md();
                let r: TypeSpecRow = md.row(tok.row())?;
                let s = sig::parse_type_spec(md.blob(r.signature)?)
                    .map_err(|e| e.at_row(TableId::TypeSpec, tok.row()))?;
                self.resolve_sig(a, &s, ctx, depth + 1)
            }
            _ => Err(Error::Unresolved {
                what: "type token",
                name: format!("{tok}"),
            }),
        }
    }

    fn resolve_typeref(&mut self, a: AsmId, rid: u32, depth: u32) -> Result<TypeId> {
        let (scope, ns, name) = {
            let md = self.asms[a.0 as usize].asm.md();
            let r: TypeRefRow = md.row(rid)?;
            (
                Token(r.scope),
                md.string(r.namespace)?.to_string(),
                md.string(r.name)?.to_string(),
            )
        };
        let not_found = |asm: &str| Error::Unresolved {
            what: "type",
            name: if ns.is_empty() {
                format!("{name} in assembly {asm}")
            } else {
                format!("{ns}.{name} in assembly {asm}")
            },
        };
        match scope.table() {
            Some(TableId::AssemblyRef) => {
                let aname = {
                    let md = self.asms[a.0 as usize].asm.md();
                    let r: AssemblyRefRow = md.row(scope.row())?;
                    md.string(r.name)?.to_string()
                };
                let target = match self.find_assembly(&aname) {
                    Some(t) => t,
                    None if CORLIB_NAMES.contains(&aname.as_str()) => {
                        self.corlib.ok_or_else(|| not_found(&aname))?
                    }
                    None => {
                        return Err(Error::Unresolved {
                            what: "assembly (load it first)",
                            name: aname,
                        })
                    }
                };
                match self.lookup_def(target, &ns, &name) {
                    Some(t) => Ok(t),
                    None => self
                        .forwarded_type(target, &ns, &name)?
                        .ok_or_else(|| not_found(&aname)),
                }
            }
            Some(TableId::TypeRef) => {
                let outer = self.resolve_type_ctx(a, scope, &[], depth + 1)?;
                let (oa, orid) = {
                    let i = self.info(outer);
                    (i.asm.ok_or_else(|| not_found("?"))?, i.token.row())
                };
                let ai = &self.asms[oa.0 as usize];
                let rid = ai
                    .nested
                    .get(&(orid, name.clone()))
                    .ok_or_else(|| not_found(&ai.name))?;
                ai.typedefs
                    .get((*rid as usize).wrapping_sub(1))
                    .copied()
                    .ok_or_else(|| not_found("?"))
            }
            _ => {
                // Module, ModuleRef or null scope: this assembly.
                let n = self.asms[a.0 as usize].name.clone();
                self.lookup_def(a, &ns, &name).ok_or_else(|| not_found(&n))
            }
        }
    }

    fn resolve_sig(&mut self, a: AsmId, s: &TypeSig, ctx: &[TypeId], depth: u32) -> Result<TypeId> {
        if depth > MAX_DEPTH {
            return Err(Error::malformed("type signature too deep", 0));
        }
        match s {
            TypeSig::Prim(p) => self.prim(*p),
            TypeSig::Class(t) | TypeSig::ValueType(t) => {
                self.resolve_type_ctx(a, *t, ctx, depth + 1)
            }
            TypeSig::Ptr(e) => {
                let e = self.resolve_sig(a, e, ctx, depth + 1)?;
                self.constructed_type(Key::Ptr(e))
            }
            TypeSig::ByRef(e) => {
                let e = self.resolve_sig(a, e, ctx, depth + 1)?;
                self.constructed_type(Key::ByRef(e))
            }
            TypeSig::SzArray(e) => {
                let e = self.resolve_sig(a, e, ctx, depth + 1)?;
                self.constructed_type(Key::SzArray(e))
            }
            TypeSig::Array { elem, rank, .. } => {
                let e = self.resolve_sig(a, elem, ctx, depth + 1)?;
                self.constructed_type(Key::Array(e, *rank))
            }
            TypeSig::FnPtr(_) => self.constructed_type(Key::FnPtr),
            TypeSig::Var(n) => match ctx.get(*n as usize) {
                Some(t) => Ok(*t),
                None => self.constructed_type(Key::Param(false, *n)),
            },
            TypeSig::MVar(n) => match self.mctx.get(*n as usize) {
                Some(t) => Ok(*t),
                None => self.constructed_type(Key::Param(true, *n)),
            },
            TypeSig::GenericInst { def, args, .. } => {
                let d = self.resolve_type_ctx(a, *def, ctx, depth + 1)?;
                let mut targs = Vec::new();
                for x in args {
                    targs.push(self.resolve_sig(a, x, ctx, depth + 1)?);
                }
                if self.info(d).generic_params as usize != targs.len() {
                    return Err(tl(&self.type_name(d), "generic argument count mismatch"));
                }
                self.constructed_type(Key::Inst(d, targs))
            }
        }
    }

    fn constructed_type(&mut self, key: Key) -> Result<TypeId> {
        if let Some(t) = self.constructed.get(&key) {
            return Ok(*t);
        }
        let (kind, elem, name) = match &key {
            Key::SzArray(e) => (TypeKind::SzArray, Some(*e), String::new()),
            Key::Array(e, _) => (TypeKind::Array, Some(*e), String::new()),
            Key::Ptr(e) => (TypeKind::Ptr, Some(*e), String::new()),
            Key::ByRef(e) => (TypeKind::ByRef, Some(*e), String::new()),
            Key::FnPtr => (TypeKind::FnPtr, None, "method*".to_string()),
            Key::Param(m, i) => (
                TypeKind::GenericParam {
                    method: *m,
                    index: *i,
                },
                None,
                format!("{}{}", if *m { "!!" } else { "!" }, i),
            ),
            Key::Inst(d, _) => (TypeKind::Class, None, self.info(*d).name.clone()),
        };
        let nest = match &key {
            Key::SzArray(e) | Key::Array(e, _) | Key::Ptr(e) | Key::ByRef(e) => self.info(*e).nest,
            Key::Inst(_, args) => args.iter().map(|a| self.info(*a).nest).max().unwrap_or(0),
            _ => 0,
        }
        .saturating_add(1);
        if nest > MAX_CONSTRUCTED_NEST {
            return Err(tl(
                &name,
                "constructed type nested too deeply (infinite generic expansion?)",
            ));
        }
        let open = match &key {
            Key::Param(..) => true,
            Key::SzArray(e) | Key::Array(e, _) | Key::Ptr(e) | Key::ByRef(e) => {
                self.mt(*e).flags & MT_FLAG_GENERIC_DEF != 0
            }
            Key::Inst(_, args) => args
                .iter()
                .any(|a| self.mt(*a).flags & MT_FLAG_GENERIC_DEF != 0),
            Key::FnPtr => false,
        };
        let mut ti = new_info(String::new(), name, kind);
        ti.nest = nest;
        ti.element = elem;
        if let Key::Inst(d, args) = &key {
            let di = self.info(*d);
            ti.namespace = di.namespace.clone();
            ti.asm = di.asm;
            ti.attrs = di.attrs;
            ti.enclosing = di.enclosing;
            ti.generic_params = di.generic_params;
            ti.generic_def = Some(*d);
            ti.type_args = args.clone();
        } else if let Some(e) = elem {
            ti.asm = self.info(e).asm;
            ti.namespace = self.info(e).namespace.clone();
        }
        if !matches!(key, Key::Inst(..)) {
            ti.state = 0;
        }
        let t = self.push_type(ti);
        if open {
            self.types[t.0 as usize].flags |= MT_FLAG_GENERIC_DEF;
        }
        if let Key::Array(_, r) = key {
            self.types[t.0 as usize].rank = r;
        } else if let Key::SzArray(_) = key {
            self.types[t.0 as usize].rank = 1;
        }
        self.constructed.insert(key, t);
        self.ensure(t, ST_PARENT, 0)?;
        Ok(t)
    }

    fn method_sig(
        &mut self,
        a: AsmId,
        s: &sig::MethodSig,
        ctx: &[TypeId],
        depth: u32,
    ) -> Result<Sig> {
        let ret = self.resolve_sig(a, &s.ret, ctx, depth + 1)?;
        let mut params = Vec::with_capacity(s.params.len());
        for p in &s.params {
            params.push(self.resolve_sig(a, p, ctx, depth + 1)?);
        }
        Ok(Sig {
            has_this: s.has_this,
            ret,
            params,
            generic_params: s.generic_params,
            call_conv: s.call_conv,
        })
    }

    /// The stand-in signature of a method whose types do not resolve: its shape
    /// (instance, generic arity, convention) with no parameters and a void return.
    fn placeholder_sig(&self, s: &sig::MethodSig) -> Result<Sig> {
        Ok(Sig {
            has_this: s.has_this,
            ret: self.prim(Prim::Void)?,
            params: Vec::new(),
            generic_params: s.generic_params,
            call_conv: s.call_conv,
        })
    }

    fn open_ctx(&mut self, def: TypeId) -> Result<Vec<TypeId>> {
        let n = self.info(def).generic_params;
        (0..n)
            .map(|i| self.constructed_type(Key::Param(false, i)))
            .collect()
    }

    fn resolve_method_inner(&mut self, a: AsmId, tok: Token, ctx: &[TypeId]) -> Result<MethodId> {
        match tok.table() {
            Some(TableId::MethodDef) => {
                self.ensure_def_owner(a, tok, true)?;
                let ai = self
                    .asms
                    .get(a.0 as usize)
                    .ok_or_else(|| Error::Unresolved {
                        what: "assembly",
                        name: String::new(),
                    })?;
                let m = ai
                    .methods
                    .get((tok.row() as usize).wrapping_sub(1))
                    .copied()
                    .flatten()
                    .ok_or(Error::in_row(
                        "MethodDef token",
                        TableId::MethodDef,
                        tok.row(),
                        0,
                    ))?;
                let owner = self.method(m).owner;
                match self.instance_for(owner, ctx)? {
                    Some(inst) => Ok(self
                        .info(inst)
                        .methods
                        .iter()
                        .copied()
                        .find(|x| self.method(*x).token == tok)
                        .unwrap_or(m)),
                    None => Ok(m),
                }
            }
            Some(TableId::MemberRef) => {
                let (class, name, blob) = {
                    let md = self.metadata(a)?;
                    let r: MemberRefRow = md.row(tok.row())?;
                    (
                        Token(r.class),
                        md.string(r.name)?.to_string(),
                        md.blob(r.signature)?.to_vec(),
                    )
                };
                let msig = sig::parse_method(&blob)
                    .map_err(|e| e.at_row(TableId::MemberRef, tok.row()))?;
                if class.table() == Some(TableId::MethodDef) {
                    return self.resolve_method_inner(a, class, ctx);
                }
                let owner = self.member_ref_owner(a, class, &name, ctx)?;
                self.ensure(owner, ST_MEMBERS, 0)?;
                let def = self.info(owner).generic_def.unwrap_or(owner);
                let octx = self.open_ctx(def)?;
                let want = self.method_sig(a, &msig, &octx, 0)?;
                let mut cur = Some(owner);
                while let Some(c) = cur {
                    self.ensure(c, ST_MEMBERS, 0)?;
                    for m in self.info(c).methods.clone() {
                        let d = self.method(m);
                        if d.name == name && d.open_sig == want {
                            return Ok(m);
                        }
                    }
                    cur = self.info(c).parent;
                }
                if let Some(m) = self.array_runtime_method(owner, &name, &want)? {
                    return Ok(m);
                }
                Err(Error::Unresolved {
                    what: "method",
                    name: format!("{}::{}", self.type_name(owner), name),
                })
            }
            Some(TableId::MethodSpec) => self.method_spec(a, tok, ctx),
            _ => Err(Error::Unresolved {
                what: "method token",
                name: format!("{tok}"),
            }),
        }
    }

    /// The instance `owner<ctx>` when `owner` is a generic definition taking
    /// `ctx.len()` arguments (a Field/MethodDef token used inside generic code).
    fn instance_for(&mut self, owner: TypeId, ctx: &[TypeId]) -> Result<Option<TypeId>> {
        let i = self.info(owner);
        if ctx.is_empty() || i.generic_def.is_some() || i.generic_params as usize != ctx.len() {
            return Ok(None);
        }
        let inst = self.constructed_type(Key::Inst(owner, ctx.to_vec()))?;
        self.ensure(inst, ST_PARENT | ST_MEMBERS, 0)?;
        Ok(Some(inst))
    }

    /// A generic method instance (MethodSpec, §II.22.29): the method's signature
    /// re-resolved with the method type arguments.
    fn method_spec(&mut self, a: AsmId, tok: Token, ctx: &[TypeId]) -> Result<MethodId> {
        let (mtok, inst_blob) = {
            let md = self.metadata(a)?;
            let r: MethodSpecRow = md.row(tok.row())?;
            (Token(r.method), md.blob(r.instantiation)?.to_vec())
        };
        let generic = self.resolve_method_inner(a, mtok, ctx)?;
        let args_sig = sig::parse_method_spec(&inst_blob)
            .map_err(|e| e.at_row(TableId::MethodSpec, tok.row()))?;
        let mut args = Vec::with_capacity(args_sig.len());
        for s in &args_sig {
            args.push(self.resolve_sig(a, s, ctx, 0)?);
        }
        if self.method(generic).sig.generic_params as usize != args.len() {
            return Err(Error::Unresolved {
                what: "generic method instantiation (argument count)",
                name: self.method(generic).name.clone(),
            });
        }
        self.instantiate_method(generic, args)
    }

    /// Creates the members of the TypeDef owning a MethodDef/Field row if needed.
    fn ensure_def_owner(&mut self, a: AsmId, tok: Token, method: bool) -> Result<()> {
        let Some(ai) = self.asms.get(a.0 as usize) else {
            return Ok(());
        };
        let owners = if method {
            &ai.method_owner
        } else {
            &ai.field_owner
        };
        let Some(&o) = owners.get((tok.row() as usize).wrapping_sub(1)) else {
            return Ok(());
        };
        if let Some(&t) = ai.typedefs.get((o as usize).wrapping_sub(1)) {
            self.ensure(t, ST_PARENT | ST_MEMBERS, 0)?;
        }
        Ok(())
    }

    fn member_ref_owner(
        &mut self,
        a: AsmId,
        class: Token,
        name: &str,
        ctx: &[TypeId],
    ) -> Result<TypeId> {
        match class.table() {
            Some(TableId::TypeDef | TableId::TypeRef | TableId::TypeSpec) => {
                self.resolve_type_ctx(a, class, ctx, 0)
            }
            Some(TableId::ModuleRef) => {
                self.lookup_def(a, "", "<Module>")
                    .ok_or_else(|| Error::Unresolved {
                        what: "global member",
                        name: name.to_string(),
                    })
            }
            _ => Err(Error::Unresolved {
                what: "member reference parent",
                name: name.to_string(),
            }),
        }
    }

    fn resolve_field_inner(&mut self, a: AsmId, tok: Token, ctx: &[TypeId]) -> Result<FieldId> {
        match tok.table() {
            Some(TableId::Field) => {
                self.ensure_def_owner(a, tok, false)?;
                let ai = self
                    .asms
                    .get(a.0 as usize)
                    .ok_or_else(|| Error::Unresolved {
                        what: "assembly",
                        name: String::new(),
                    })?;
                let f = ai
                    .fields
                    .get((tok.row() as usize).wrapping_sub(1))
                    .copied()
                    .flatten()
                    .ok_or(Error::in_row("Field token", TableId::Field, tok.row(), 0))?;
                // Inside a generic type, a FieldDef names the field of the instance.
                let owner = self.field(f).owner;
                match self.instance_for(owner, ctx)? {
                    Some(inst) => Ok(self
                        .info(inst)
                        .fields
                        .iter()
                        .copied()
                        .find(|x| self.field(*x).token == tok)
                        .unwrap_or(f)),
                    None => Ok(f),
                }
            }
            Some(TableId::MemberRef) => {
                let (class, name) = {
                    let md = self.metadata(a)?;
                    let r: MemberRefRow = md.row(tok.row())?;
                    (Token(r.class), md.string(r.name)?.to_string())
                };
                let owner = self.member_ref_owner(a, class, &name, ctx)?;
                self.ensure(owner, ST_MEMBERS, 0)?;
                self.find_field(owner, &name)
                    .ok_or_else(|| Error::Unresolved {
                        what: "field",
                        name: format!("{}::{}", self.type_name(owner), name),
                    })
            }
            _ => Err(Error::Unresolved {
                what: "field token",
                name: format!("{tok}"),
            }),
        }
    }

    // ------------------------------------------------------------------ stages

    fn stage_parent(&mut self, t: TypeId, depth: u32) -> Result<()> {
        let i = self.info(t);
        let kind_in = i.kind;
        if let Some(e) = i.element {
            // Arrays derive from System.Array; pointers and byrefs have no parent.
            let parent = match kind_in {
                TypeKind::SzArray | TypeKind::Array => Some(self.corlib_type("System", "Array")?),
                _ => None,
            };
            self.ensure(e, ST_PARENT, depth + 1)?;
            if let Some(p) = parent {
                self.ensure(p, ST_PARENT, depth + 1)?;
            }
            let eaddr = self.mt_address(e);
            let paddr = parent.map(|p| self.mt_address(p)).unwrap_or(0);
            let m = &mut self.types[t.0 as usize];
            m.info.parent = parent;
            m.element = eaddr;
            m.parent = paddr;
            if matches!(kind_in, TypeKind::SzArray | TypeKind::Array) {
                m.flags |= MT_FLAG_ARRAY;
            }
            return Ok(());
        }
        let Some(a) = i.asm else {
            return Ok(()); // FnPtr / generic parameters
        };
        let def = i.generic_def.unwrap_or(t);
        let ctx = i.type_args.clone();
        let (extends, attrs) = {
            let drow = self.info(def).token.row();
            let md = self.metadata(a)?;
            let r: TypeDefRow = md.row(drow)?;
            (Token(r.extends), r.flags)
        };
        let parent = if extends.is_null() {
            None
        } else {
            let p = self.resolve_type_ctx(a, extends, &ctx, depth + 1)?;
            self.ensure(p, ST_PARENT, depth + 1)?;
            Some(p)
        };
        let corlib = self.corlib == Some(a);
        let value_type = self.corlib_type("System", "ValueType").ok();
        let enum_t = self.corlib_type("System", "Enum").ok();
        let mut kind = if attrs & 0x20 != 0 {
            TypeKind::Interface
        } else if parent.is_some() && parent == enum_t {
            TypeKind::Enum
        } else if parent.is_some() && parent == value_type && Some(def) != enum_t {
            TypeKind::ValueType
        } else {
            TypeKind::Class
        };
        let (ns, name) = (&self.info(def).namespace, &self.info(def).name);
        if corlib && ns == "System" {
            if name == "String" {
                kind = TypeKind::String;
            } else if kind == TypeKind::ValueType {
                if let Some(p) = Prim::ALL.iter().find(|p| {
                    p.corlib_name() == name
                        && !matches!(p, Prim::String | Prim::Object | Prim::TypedByRef)
                }) {
                    kind = TypeKind::Primitive(*p);
                }
            }
        }
        let paddr = parent.map(|p| self.mt_address(p)).unwrap_or(0);
        let m = &mut self.types[t.0 as usize];
        m.info.parent = parent;
        m.info.kind = kind;
        m.parent = paddr;
        m.flags |= match kind {
            TypeKind::Interface => MT_FLAG_INTERFACE,
            TypeKind::Enum => MT_FLAG_VALUE_TYPE | MT_FLAG_ENUM,
            TypeKind::ValueType => MT_FLAG_VALUE_TYPE,
            TypeKind::Primitive(_) => MT_FLAG_VALUE_TYPE | MT_FLAG_PRIMITIVE,
            TypeKind::String => MT_FLAG_STRING,
            _ => 0,
        };
        if attrs & 0x80 != 0 {
            m.flags |= MT_FLAG_ABSTRACT;
        }
        if attrs & 0x0010_0000 != 0 {
            m.flags |= MT_FLAG_BEFOREFIELDINIT;
        }
        if m.info.generic_params > 0 && m.info.type_args.is_empty() {
            m.flags |= MT_FLAG_GENERIC_DEF;
        }
        Ok(())
    }

    /// Makes `ty` ready to be stored in a location: its kind, and for value types
    /// their layout (reference types need no layout to be referenced).
    fn ensure_storable(&mut self, ty: TypeId, depth: u32) -> Result<()> {
        self.ensure(ty, ST_PARENT, depth + 1)?;
        if self.info(ty).is_value_type() {
            self.ensure(ty, ST_PARENT | ST_MEMBERS | ST_LAYOUT, depth + 1)?;
        }
        Ok(())
    }

    fn corlib_type(&self, ns: &str, name: &str) -> Result<TypeId> {
        let known = match (ns, name) {
            ("System", "ValueType") => self.well_known.value_type,
            ("System", "Enum") => self.well_known.enum_,
            ("System", "Array") => self.well_known.array,
            _ => None,
        };
        if let Some(t) = known {
            return Ok(t);
        }
        let c = self.corlib.ok_or_else(|| Error::Unresolved {
            what: "corlib",
            name: "mscorlib".into(),
        })?;
        self.lookup_def(c, ns, name)
            .ok_or_else(|| Error::Unresolved {
                what: "corlib type",
                name: format!("{ns}.{name}"),
            })
    }

    fn stage_members(&mut self, t: TypeId, depth: u32) -> Result<()> {
        let i = self.info(t);
        let Some(a) = i.asm else { return Ok(()) };
        if i.element.is_some() {
            return Ok(());
        }
        let def = i.generic_def.unwrap_or(t);
        let ctx = i.type_args.clone();
        let inst = i.generic_def.is_some();
        let drow = self.info(def).token.row();
        let octx = self.open_ctx(def)?;
        let (field_rows, method_rows) = {
            let md = self.metadata(a)?;
            (
                md.list(TableId::TypeDef, drow, 4, TableId::Field)?,
                md.list(TableId::TypeDef, drow, 5, TableId::MethodDef)?,
            )
        };
        let mut fields = Vec::new();
        for fr in field_rows {
            let (flags, name, fsig, rva) = {
                let ai = &self.asms[a.0 as usize];
                let md = ai.asm.md();
                let r: FieldRow = md.row(fr)?;
                let s = sig::parse_field(md.blob(r.signature)?)
                    .map_err(|e| e.at_row(TableId::Field, fr))?;
                let rva = match at(&ai.field_rva, fr).copied().flatten() {
                    Some(rva) => Some(
                        md.layout()
                            .pe
                            .rva_to_offset(rva)
                            .map_err(|e| e.at_row(TableId::FieldRva, fr))?,
                    ),
                    None => None,
                };
                (r.flags as u16, md.string(r.name)?.to_string(), s, rva)
            };
            let ty = self.resolve_sig(a, &fsig, &ctx, depth + 1)?;
            let f = FieldId(self.fields.len() as u32);
            self.fields.push(FieldDesc {
                owner: t,
                asm: a,
                token: Token::new(TableId::Field, fr),
                name,
                flags,
                ty,
                offset: 0,
                rva_data: rva.map(|o| (o, 0)),
            });
            if !inst {
                if let Some(s) = self.asms[a.0 as usize]
                    .fields
                    .get_mut((fr as usize).wrapping_sub(1))
                {
                    *s = Some(f);
                }
            }
            fields.push(f);
        }
        let mut methods = Vec::new();
        let mut cctor = None;
        for mr in method_rows {
            let (r, name, msig, pinvoke) = {
                let ai = &self.asms[a.0 as usize];
                let md = ai.asm.md();
                let r: MethodDefRow = md.row(mr)?;
                let s = sig::parse_method(md.blob(r.signature)?)
                    .map_err(|e| e.at_row(TableId::MethodDef, mr))?;
                (
                    r,
                    md.string(r.name)?.to_string(),
                    s,
                    at(&ai.impl_map, mr).cloned().flatten(),
                )
            };
            let resolved = self.method_sig(a, &msig, &ctx, depth + 1).and_then(|s| {
                if inst {
                    Ok((self.method_sig(a, &msig, &octx, depth + 1)?, s))
                } else {
                    Ok((s.clone(), s))
                }
            });
            let (open_sig, sig_, unresolved) = match resolved {
                Ok((o, s)) => (o, s, None),
                // A member nobody may ever call must not sink the whole assembly.
                Err(e @ (Error::Unresolved { .. } | Error::TypeLoad { .. })) => {
                    let p = self.placeholder_sig(&msig)?;
                    (p.clone(), p, Some(e))
                }
                Err(e) => return Err(e),
            };
            let m = MethodId(self.methods.len() as u32);
            if name == ".cctor" && r.flags & 0x10 != 0 {
                cctor = Some(m);
            }
            self.methods.push(MethodDesc {
                owner: t,
                asm: a,
                token: Token::new(TableId::MethodDef, mr),
                name,
                flags: r.flags as u16,
                impl_flags: r.impl_flags as u16,
                rva: r.rva,
                sig: sig_,
                open_sig,
                slot: None,
                pinvoke,
                entry: AtomicUsize::new(0),
                method_args: Vec::new(),
                generic_method_def: None,
                unresolved,
            });
            if !inst {
                if let Some(s) = self.asms[a.0 as usize]
                    .methods
                    .get_mut((mr as usize).wrapping_sub(1))
                {
                    *s = Some(m);
                }
            }
            methods.push(m);
        }
        let mut ifaces = Vec::new();
        let itoks = at(&self.asms[a.0 as usize].interface_impls, drow)
            .cloned()
            .unwrap_or_default();
        for it in itoks {
            let i = self.resolve_type_ctx(a, it, &ctx, depth + 1)?;
            ifaces.push(i);
        }
        let (pack, csize) = at(&self.asms[a.0 as usize].class_layout, drow)
            .copied()
            .flatten()
            .unwrap_or((0, 0));
        let m = &mut self.types[t.0 as usize];
        m.info.fields = fields;
        m.info.methods = methods;
        m.info.cctor = cctor;
        m.info.declared_interfaces = ifaces;
        m.info.packing = pack;
        m.info.class_size = csize;
        if cctor.is_some() {
            m.flags |= MT_FLAG_HAS_CCTOR;
            m.cctor_state.store(CCTOR_PENDING, Ordering::Relaxed);
        }
        Ok(())
    }

    fn stage_layout(&mut self, t: TypeId, depth: u32) -> Result<()> {
        let kind = self.info(t).kind;
        match kind {
            TypeKind::Ptr | TypeKind::ByRef | TypeKind::FnPtr | TypeKind::GenericParam { .. } => {
                let m = &mut self.types[t.0 as usize];
                m.info.size = 8;
                m.info.align = 8;
                return Ok(());
            }
            TypeKind::SzArray | TypeKind::Array => {
                let e = self
                    .info(t)
                    .element
                    .ok_or_else(|| tl(&self.type_name(t), "array without element type"))?;
                self.ensure_storable(e, depth)?;
                let el = self.value_layout(e)?;
                let rank = self.mt(t).rank;
                let base = if kind == TypeKind::SzArray {
                    heap::ARRAY_DATA_OFFSET as u32
                } else {
                    // Multi-dimensional: count, then rank lengths and lower bounds.
                    heap::mdarray_data_offset(rank as usize) as u32
                };
                let is_ref = !el.is_value_type;
                let m = &mut self.types[t.0 as usize];
                m.component_size = el.size;
                m.base_size = base;
                m.info.size = base;
                m.info.align = 8;
                if !el.gc_refs.is_empty() {
                    m.flags |= MT_FLAG_HAS_GC_REFS;
                }
                if is_ref && !el.gc_refs.is_empty() {
                    m.flags |= MT_FLAG_ELEM_IS_REF;
                }
                return Ok(());
            }
            _ => {}
        }
        let parent = self.info(t).parent;
        if let Some(p) = parent {
            self.ensure(p, ST_PARENT | ST_MEMBERS | ST_LAYOUT, depth + 1)?;
        }
        let is_vt = self.info(t).is_value_type();
        let attrs = self.info(t).attrs;
        let explicit = attrs & 0x18 == 0x10;
        let pack = match self.info(t).packing {
            0 => 8,
            p if p.is_power_of_two() && p <= 128 => p as u32,
            _ => {
                return Err(tl(
                    &self.type_name(t),
                    "ClassLayout packing size is not a power of two",
                ))
            }
        };
        let class_size = self.info(t).class_size;
        let (start, mut align) = match (is_vt, parent) {
            (true, _) => (0u32, 1u32),
            (false, Some(p)) => (
                self.info(p).size.max(heap::OBJ_HEADER_SIZE as u32),
                self.info(p).align.max(1),
            ),
            (false, None) => (heap::OBJ_HEADER_SIZE as u32, 8),
        };
        let mut gc_refs = match (is_vt, parent) {
            (false, Some(p)) => self.info(p).gc_refs.clone(),
            _ => Vec::new(),
        };
        let mut end = start;
        let (asm, fields) = (self.info(t).asm, self.info(t).fields.clone());
        for f in fields {
            let (ty, fl, tok) = {
                let d = self.field(f);
                (d.ty, d.flags, d.token)
            };
            if fl & 0x10 != 0 {
                continue; // static
            }
            if let TypeKind::Primitive(p) = kind {
                // System.Int32 { int m_value; } — the field is the value itself.
                let m = &mut self.fields[f.0 as usize];
                m.offset = 0;
                end = p.size();
                align = p.size().max(1);
                continue;
            }
            self.ensure_storable(ty, depth).map_err(|e| match e {
                Error::TypeLoad { reason, .. } if reason.starts_with("circular") => tl(
                    &self.type_name(t),
                    format!(
                        "field `{}` makes the type contain itself",
                        self.field(f).name
                    ),
                ),
                e => e,
            })?;
            let fl_ = self.value_layout(ty)?;
            let falign = fl_.align.min(pack).max(1);
            let off = if explicit {
                let ai = &self.asms[asm.map(|a| a.0).unwrap_or(0) as usize];
                let o = at(&ai.field_layout, tok.row())
                    .copied()
                    .flatten()
                    .ok_or_else(|| {
                        tl(
                            &self.type_name(t),
                            format!(
                                "explicit layout without FieldOffset for `{}`",
                                self.field(f).name
                            ),
                        )
                    })?;
                if !fl_.gc_refs.is_empty() && (o % 8 != 0) {
                    return Err(tl(
                        &self.type_name(t),
                        format!(
                            "object reference field `{}` at misaligned offset {o}",
                            self.field(f).name
                        ),
                    ));
                }
                start
                    .checked_add(o)
                    .ok_or_else(|| tl(&self.type_name(t), "field offset overflow"))?
            } else {
                align_up(end, falign).ok_or_else(|| tl(&self.type_name(t), "size overflow"))?
            };
            let fend = off
                .checked_add(fl_.size)
                .ok_or_else(|| tl(&self.type_name(t), "size overflow"))?;
            end = end.max(fend);
            align = align.max(falign);
            for r in &fl_.gc_refs {
                gc_refs.push(off + r);
            }
            self.fields[f.0 as usize].offset = off;
        }
        let mut size;
        if let TypeKind::Primitive(_) = kind {
            size = end;
        } else if is_vt {
            size = if end == 0 {
                1
            } else {
                align_up(end, align).ok_or_else(|| tl(&self.type_name(t), "size overflow"))?
            };
            if class_size > 0 {
                size = size.max(class_size);
                if class_size >= end && !explicit {
                    // An explicit Size wins over alignment padding (PciAddress: 3).
                    size = class_size.max(end);
                }
            }
        } else {
            size = end;
            if class_size > 0 {
                size = size.max(start + class_size);
            }
            size = align_up(size, align).ok_or_else(|| tl(&self.type_name(t), "size overflow"))?;
        }
        if kind == TypeKind::String {
            // The string layout is a runtime contract (heap.rs diagram).
            let ok = self
                .info(t)
                .fields
                .iter()
                .filter(|f| !self.field(**f).is_static())
                .map(|f| self.field(*f).offset)
                .eq([
                    heap::STRING_LENGTH_OFFSET as u32,
                    heap::STRING_CHARS_OFFSET as u32,
                ]);
            if !ok
                && self
                    .info(t)
                    .fields
                    .iter()
                    .any(|f| !self.field(*f).is_static())
            {
                return Err(tl(
                    &self.type_name(t),
                    "System.String must declare `int m_length; char m_firstChar;`",
                ));
            }
        }
        let base_size = match kind {
            TypeKind::String => heap::STRING_CHARS_OFFSET as u32 + 2,
            TypeKind::Interface => 0,
            _ if is_vt => align_up(heap::OBJ_HEADER_SIZE as u32 + size, 8)
                .ok_or_else(|| tl(&self.type_name(t), "size overflow"))?,
            _ => align_up(size, 8).ok_or_else(|| tl(&self.type_name(t), "size overflow"))?,
        };
        let m = &mut self.types[t.0 as usize];
        m.info.size = size;
        m.info.align = align;
        m.info.gc_refs = gc_refs;
        if !m.info.gc_refs.is_empty() {
            m.flags |= MT_FLAG_HAS_GC_REFS;
        }
        m.base_size = base_size;
        if kind == TypeKind::String {
            m.component_size = 2;
        }
        Ok(())
    }

    fn stage_vtable(&mut self, t: TypeId, depth: u32) -> Result<()> {
        let i = self.info(t);
        let parent = i.parent;
        let kind = i.kind;
        let abstract_ = i.attrs & 0x80 != 0 || kind == TypeKind::Interface;
        if let Some(p) = parent {
            self.ensure(p, ST_PARENT | ST_MEMBERS | ST_VTABLE, depth + 1)?;
        }
        let mut slots: Vec<MethodId> = match parent {
            Some(p) if kind != TypeKind::Interface => self.info(p).vslots.clone(),
            _ => Vec::new(),
        };
        let methods = self.info(t).methods.clone();
        for m in &methods {
            let d = self.method(*m);
            if !d.is_virtual() {
                continue;
            }
            let newslot = d.flags & 0x100 != 0;
            let mut slot = None;
            if !newslot && kind != TypeKind::Interface {
                for (s, cand) in slots.iter().enumerate().rev() {
                    let c = self.method(*cand);
                    if c.name == d.name && c.sig == d.sig {
                        slot = Some(s as u32);
                        break;
                    }
                }
            }
            let s = match slot {
                Some(s) => {
                    slots[s as usize] = *m;
                    s
                }
                None => {
                    slots.push(*m);
                    (slots.len() - 1) as u32
                }
            };
            self.methods[m.0 as usize].slot = Some(s);
        }
        // MethodImpl overrides of class methods (interface ones are mapped below).
        let impls = self.method_impls(t)?;
        for (body, decl) in &impls {
            let dd = self.method(*decl);
            if self.info(dd.owner).kind == TypeKind::Interface {
                continue;
            }
            if let Some(s) = dd.slot {
                if let Some(x) = slots.get_mut(s as usize) {
                    *x = *body;
                }
            }
        }
        // Interfaces: inherited maps, then declared interfaces and their bases.
        let mut maps: Vec<InterfaceMap> = match parent {
            Some(p) => self.info(p).interfaces.clone(),
            None => Vec::new(),
        };
        let mut todo = self.info(t).declared_interfaces.clone();
        let mut seen = Vec::new();
        while let Some(it) = todo.pop() {
            if seen.contains(&it) {
                continue;
            }
            seen.push(it);
            if it == t {
                return Err(tl(&self.type_name(t), "interface inherits itself"));
            }
            self.ensure(it, ST_PARENT | ST_MEMBERS | ST_VTABLE, depth + 1)?;
            if self.info(it).kind != TypeKind::Interface {
                return Err(tl(
                    &self.type_name(t),
                    format!(
                        "implements `{}`, which is not an interface",
                        self.type_name(it)
                    ),
                ));
            }
            todo.extend(self.info(it).declared_interfaces.iter().copied());
            if kind == TypeKind::Interface {
                maps.push(InterfaceMap {
                    iface: it,
                    slots: Vec::new(),
                });
                continue;
            }
            let imethods = self.info(it).vslots.clone();
            let inherited = maps.iter().position(|m| m.iface == it);
            let mut map = Vec::with_capacity(imethods.len());
            for (k, im) in imethods.iter().enumerate() {
                let imd = self.method(*im);
                let mut found = impls
                    .iter()
                    .find(|(_, d)| d == im)
                    .and_then(|(b, _)| self.method(*b).slot);
                if found.is_none() {
                    found = slots
                        .iter()
                        .enumerate()
                        .rev()
                        .find(|(_, c)| {
                            let c = self.method(**c);
                            c.name == imd.name && c.sig == imd.sig && c.flags & 0x7 == 0x6
                        })
                        .map(|(s, _)| s as u32);
                }
                if found.is_none() {
                    found = inherited.and_then(|p| maps[p].slots.get(k).copied().flatten());
                }
                if found.is_none() && !abstract_ {
                    return Err(tl(
                        &self.type_name(t),
                        format!("does not implement `{}::{}`", self.type_name(it), imd.name),
                    ));
                }
                map.push(found);
            }
            match inherited {
                Some(p) => maps[p].slots = map,
                None => maps.push(InterfaceMap {
                    iface: it,
                    slots: map,
                }),
            }
        }
        let words: Box<[AtomicUsize]> = slots.iter().map(|_| AtomicUsize::new(0)).collect();
        let m = &mut self.types[t.0 as usize];
        m.vtable_len = words.len() as u32;
        m.vtable = words.as_ptr() as usize;
        m.info.slots = words;
        m.info.vslots = slots;
        m.info.interfaces = maps;
        Ok(())
    }

    fn method_impls(&mut self, t: TypeId) -> Result<Vec<(MethodId, MethodId)>> {
        let i = self.info(t);
        let Some(a) = i.asm else {
            return Ok(Vec::new());
        };
        if i.element.is_some() {
            return Ok(Vec::new());
        }
        let def = i.generic_def.unwrap_or(t);
        let ctx = i.type_args.clone();
        let inst_methods = i.methods.clone();
        let drow = self.info(def).token.row();
        let rows = at(&self.asms[a.0 as usize].method_impls, drow)
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::new();
        for (b, d) in rows {
            let mut body = self.resolve_method_inner(a, b, &ctx)?;
            if def != t {
                // The row names the definition's method; use this instance's copy.
                let tok = self.method(body).token;
                if let Some(m) = inst_methods
                    .iter()
                    .copied()
                    .find(|m| self.method(*m).token == tok)
                {
                    body = m;
                }
            }
            let decl = self.resolve_method_inner(a, d, &ctx)?;
            out.push((body, decl));
        }
        Ok(out)
    }

    fn stage_statics(&mut self, t: TypeId, depth: u32) -> Result<()> {
        let mut end = 0u32;
        let mut refs = Vec::new();
        let mut inits: Vec<(u32, usize, usize)> = Vec::new();
        for f in self.info(t).fields.clone() {
            let d = self.field(f);
            if !d.is_static() || d.is_literal() {
                continue;
            }
            let (ty, rva) = (d.ty, d.rva_data);
            self.ensure_storable(ty, depth)?;
            let l = self.value_layout(ty)?;
            let off = align_up(end, l.align.min(8))
                .ok_or_else(|| tl(&self.type_name(t), "static size overflow"))?;
            end = off
                .checked_add(l.size)
                .ok_or_else(|| tl(&self.type_name(t), "static size overflow"))?;
            refs.extend(l.gc_refs.iter().map(|r| off + r));
            self.fields[f.0 as usize].offset = off;
            if let Some((foff, _)) = rva {
                self.fields[f.0 as usize].rva_data = Some((foff, l.size as usize));
                inits.push((off, foff, l.size as usize));
            }
        }
        if end == 0 {
            return Ok(());
        }
        let words = (end as usize).div_ceil(8);
        let mut block: Box<[u64]> = vec![0u64; words].into_boxed_slice();
        if let Some(a) = self.info(t).asm {
            let bytes = self.asms[a.0 as usize].asm.bytes();
            for (off, foff, len) in inits {
                let src = crate::bytes::slice(bytes, foff, len, "FieldRVA data")
                    .map_err(|_| tl(&self.type_name(t), "FieldRVA data outside the file"))?;
                for (k, b) in src.iter().enumerate() {
                    let p = off as usize + k;
                    block[p / 8] |= (*b as u64) << ((p % 8) * 8);
                }
            }
        }
        let m = &mut self.types[t.0 as usize];
        m.statics = block.as_ptr() as usize;
        m.info.statics_size = end;
        m.info.static_gc_refs = refs;
        m.info.statics_block = block;
        Ok(())
    }

    /// Marks a type's `.cctor` as running / done (called by the execution engine).
    pub fn set_cctor_state(&self, t: TypeId, state: u32) {
        self.mt(t).cctor_state.store(state, Ordering::Release);
    }
}

fn new_info(namespace: String, name: String, kind: TypeKind) -> TypeInfo {
    TypeInfo {
        namespace,
        name,
        asm: None,
        token: Token(0),
        kind,
        attrs: 0,
        parent: None,
        enclosing: None,
        element: None,
        generic_def: None,
        type_args: Vec::new(),
        generic_params: 0,
        size: 0,
        align: 1,
        gc_refs: Vec::new(),
        fields: Vec::new(),
        methods: Vec::new(),
        vslots: Vec::new(),
        interfaces: Vec::new(),
        declared_interfaces: Vec::new(),
        cctor: None,
        packing: 0,
        class_size: 0,
        statics_size: 0,
        static_gc_refs: Vec::new(),
        statics_block: Box::new([]),
        slots: Box::new([]),
        state: 0,
        busy: 0,
        nest: 0,
    }
}

/// Reads the tables the type system needs into maps, validating cross references.
fn index_assembly(asm: Assembly) -> Result<AsmInfo> {
    // The assembly moves in first and the tables are read through the field: a
    // copy of the file for the index to own would cost a memcpy of the whole image.
    let mut info = AsmInfo {
        name: String::new(),
        asm,
        typedefs: Vec::new(),
        methods: Vec::new(),
        fields: Vec::new(),
        typerefs: Vec::new(),
        by_name: BTreeMap::new(),
        nested: BTreeMap::new(),
        enclosing: Vec::new(),
        class_layout: Vec::new(),
        field_layout: Vec::new(),
        field_rva: Vec::new(),
        method_impls: Vec::new(),
        interface_impls: Vec::new(),
        generic_counts: Vec::new(),
        impl_map: Vec::new(),
        method_owner: Vec::new(),
        field_owner: Vec::new(),
    };
    index_tables(&mut info)?;
    Ok(info)
}

fn index_tables(info: &mut AsmInfo) -> Result<()> {
    let md = info.asm.md();
    let name = md.assembly_name()?.unwrap_or("").to_string();
    info.name = if name.is_empty() {
        let m: ModuleRow = md.row(1)?;
        md.string(m.name)?.trim_end_matches(".dll").to_string()
    } else {
        name
    };
    let ntd = md.row_count(TableId::TypeDef);
    info.methods = vec![None; md.row_count(TableId::MethodDef) as usize];
    info.fields = vec![None; md.row_count(TableId::Field) as usize];
    info.typerefs = vec![None; md.row_count(TableId::TypeRef) as usize];
    info.method_owner = vec![0; md.row_count(TableId::MethodDef) as usize];
    info.field_owner = vec![0; md.row_count(TableId::Field) as usize];
    let (nfield, nmethod) = (
        md.row_count(TableId::Field) as usize,
        md.row_count(TableId::MethodDef) as usize,
    );
    info.enclosing = vec![0; ntd as usize];
    info.class_layout = vec![None; ntd as usize];
    info.field_layout = vec![None; nfield];
    info.field_rva = vec![None; nfield];
    info.method_impls = vec![Vec::new(); ntd as usize];
    info.interface_impls = vec![Vec::new(); ntd as usize];
    info.generic_counts = vec![0; ntd as usize];
    info.impl_map = vec![None; nmethod];
    let check_td = |r: u32, t: TableId, row: u32| -> Result<()> {
        if r == 0 || r > ntd {
            Err(Error::in_row(
                "TypeDef index out of range",
                t,
                row,
                md.row_offset(t, row),
            ))
        } else {
            Ok(())
        }
    };
    for r in 1..=md.row_count(TableId::NestedClass) {
        let n: NestedClassRow = md.row(r)?;
        check_td(n.nested, TableId::NestedClass, r)?;
        check_td(n.enclosing, TableId::NestedClass, r)?;
        if n.nested == n.enclosing {
            return Err(Error::in_row(
                "type nested in itself",
                TableId::NestedClass,
                r,
                md.row_offset(TableId::NestedClass, r),
            ));
        }
        // Both RIDs were checked above.
        if let Some(e) = at_mut(&mut info.enclosing, n.nested) {
            *e = n.enclosing;
        }
    }
    // Nesting must be a forest: follow each chain at most `ntd` steps.
    for (n, _) in (1u32..)
        .zip(info.enclosing.iter())
        .filter(|(_, e)| **e != 0)
    {
        let mut cur = n;
        let mut steps = 0u32;
        while let Some(&e) = at(&info.enclosing, cur).filter(|e| **e != 0) {
            steps += 1;
            if steps > ntd {
                return Err(Error::in_row(
                    "NestedClass rows form a cycle",
                    TableId::NestedClass,
                    0,
                    md.row_offset(TableId::NestedClass, 1),
                ));
            }
            cur = e;
        }
    }
    for r in 1..=ntd {
        for m in md.list(TableId::TypeDef, r, 5, TableId::MethodDef)? {
            if let Some(o) = info.method_owner.get_mut((m as usize).wrapping_sub(1)) {
                *o = r;
            }
        }
        for f in md.list(TableId::TypeDef, r, 4, TableId::Field)? {
            if let Some(o) = info.field_owner.get_mut((f as usize).wrapping_sub(1)) {
                *o = r;
            }
        }
        let t: TypeDefRow = md.row(r)?;
        let nm = md.string(t.name)?.to_string();
        match at(&info.enclosing, r).copied().filter(|e| *e != 0) {
            Some(e) => {
                info.nested.insert((e, nm), r);
            }
            None => {
                info.by_name
                    .insert((md.string(t.namespace)?.to_string(), nm), r);
            }
        }
    }
    for r in 1..=md.row_count(TableId::ClassLayout) {
        let c: ClassLayoutRow = md.row(r)?;
        check_td(c.parent, TableId::ClassLayout, r)?;
        if let Some(l) = at_mut(&mut info.class_layout, c.parent) {
            *l = Some((c.packing_size as u16, c.class_size));
        }
    }
    for r in 1..=md.row_count(TableId::FieldLayout) {
        let c: FieldLayoutRow = md.row(r)?;
        if let Some(o) = at_mut(&mut info.field_layout, c.field) {
            *o = Some(c.offset);
        }
    }
    for r in 1..=md.row_count(TableId::FieldRva) {
        let c: FieldRvaRow = md.row(r)?;
        if let Some(o) = at_mut(&mut info.field_rva, c.field) {
            *o = Some(c.rva);
        }
    }
    for r in 1..=md.row_count(TableId::MethodImpl) {
        let c: MethodImplRow = md.row(r)?;
        check_td(c.class, TableId::MethodImpl, r)?;
        if let Some(v) = at_mut(&mut info.method_impls, c.class) {
            v.push((Token(c.body), Token(c.declaration)));
        }
    }
    for r in 1..=md.row_count(TableId::InterfaceImpl) {
        let c: InterfaceImplRow = md.row(r)?;
        check_td(c.class, TableId::InterfaceImpl, r)?;
        if let Some(v) = at_mut(&mut info.interface_impls, c.class) {
            v.push(Token(c.interface));
        }
    }
    for r in 1..=md.row_count(TableId::GenericParam) {
        let g: GenericParamRow = md.row(r)?;
        let owner = Token(g.owner);
        if owner.table() == Some(TableId::TypeDef) {
            if let Some(n) = at_mut(&mut info.generic_counts, owner.row()) {
                *n += 1;
            }
        }
    }
    for r in 1..=md.row_count(TableId::ImplMap) {
        let m: ImplMapRow = md.row(r)?;
        let member = Token(m.member);
        if member.table() == Some(TableId::MethodDef) {
            let module = if m.import_scope == 0 {
                String::new()
            } else {
                let mr: ModuleRefRow = md.row(m.import_scope)?;
                md.string(mr.name)?.to_string()
            };
            let name = md.string(m.import_name)?.to_string();
            if let Some(e) = at_mut(&mut info.impl_map, member.row()) {
                *e = Some((module, name));
            }
        }
    }
    Ok(())
}
