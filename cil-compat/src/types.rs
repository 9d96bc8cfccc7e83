//! The type system: assemblies loaded together (corlib, managed DDK, driver), token
//! resolution across them (TypeRef/MemberRef/TypeSpec, nested types, generic
//! instances), and a runtime descriptor — a [`MethodTable`] — for every type: field
//! layout (ECMA-335 Partition II §10.7 sequential/explicit, `.pack`, ClassLayout
//! sizes), vtable slots with newslot/override and MethodImpl (§10.3), interface maps
//! (§12.2), static storage with `.cctor`/`beforefieldinit` state (§10.5.3), FieldRVA
//! initial data (§16.3.2), array types of any element type, and `#US` literals.
//!
//! This file holds the identities, descriptors and accessors; the phases add
//! to `impl TypeSystem` in `types/`: `load` (assemblies in, table indexes),
//! `resolve` (tokens and signatures to types and methods), `stages` (a type
//! brought up to its MethodTable), `queries` (what the JIT asks) and `canon`
//! (the canonical forms shared generic code is compiled as).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::cmp::Ordering as CmpOrdering;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::heap::{self, Heap};
use crate::layout::MethodTableHead;
use crate::metadata::body::MethodBody;
use crate::metadata::sig::{self, Prim, TypeSig};
use crate::metadata::*;

mod canon;
mod forward;
mod gvm;
mod load;
mod md_array;
mod name;
mod queries;
mod resolve;
mod stages;
mod vector_ifaces;
pub use md_array::ArrayMethodKind;
pub use name::Name;

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

pub use crate::layout::{
    MT_BASE_SIZE_OFFSET, MT_CCTOR_STATE_OFFSET, MT_COMPONENT_SIZE_OFFSET, MT_ELEMENT_OFFSET,
    MT_FLAGS_OFFSET, MT_FLAG_ABSTRACT, MT_FLAG_ARRAY, MT_FLAG_BEFOREFIELDINIT, MT_FLAG_ELEM_IS_REF,
    MT_FLAG_ENUM, MT_FLAG_GENERIC_DEF, MT_FLAG_HAS_CCTOR, MT_FLAG_HAS_GC_REFS, MT_FLAG_INTERFACE,
    MT_FLAG_PRIMITIVE, MT_FLAG_STRING, MT_FLAG_VALUE_TYPE, MT_PARENT_OFFSET, MT_STATICS_OFFSET,
    MT_TYPE_ID_OFFSET, MT_UNBOX_KEY_OFFSET, MT_VTABLE_LEN_OFFSET, MT_VTABLE_OFFSET,
};

/// `cctor_state`: nothing to run (no `.cctor`, or it has completed).
pub const CCTOR_DONE: u32 = 0;
/// `cctor_state`: the `.cctor` must run before first access.
pub const CCTOR_PENDING: u32 = 1;
/// `cctor_state`: the `.cctor` is running (recursive accesses proceed, §II.10.5.3.3).
pub const CCTOR_RUNNING: u32 = 2;
/// `cctor_state`: the `.cctor` threw; every access raises the
/// `TypeInitializationException` recorded for the type (§II.10.5.3.3).
pub const CCTOR_FAILED: u32 = 3;

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
    /// `CCTOR_DONE` / `CCTOR_PENDING` / `CCTOR_RUNNING` / `CCTOR_FAILED`.
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

// SAFETY: `MethodTable` is `#[repr(C)]`; the assertions below pin `flags`,
// `base_size` and `component_size` (all `u32`) at the offsets the heap reads,
// and method tables live in the type system, which owns the heap and so
// outlives every object.
unsafe impl MethodTableHead for MethodTable {
    fn flags(&self) -> u32 {
        self.flags
    }
    fn base_size(&self) -> u32 {
        self.base_size
    }
    fn component_size(&self) -> u32 {
        self.component_size
    }
    fn rank(&self) -> u32 {
        self.rank
    }
    fn type_name(&self) -> String {
        self.info.full_name()
    }
}

const _: () = {
    use core::mem::offset_of;
    assert!(offset_of!(MethodTable, flags) == MT_FLAGS_OFFSET);
    assert!(offset_of!(MethodTable, base_size) == MT_BASE_SIZE_OFFSET);
    assert!(offset_of!(MethodTable, component_size) == MT_COMPONENT_SIZE_OFFSET);
};

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
/// What every type gets when it is created (`finish_pending`): enough to
/// name it, lay out its values and fields and compile code that mentions
/// it. Its vtable, interface maps and static storage wait for the first use
/// that reads them ([`TypeSystem::complete`]), as a type loader's load
/// levels do (CoreCLR's `ClassLoadLevel`): most constructed types a program
/// mentions (generic instances in signatures, arrays of them) are never
/// instantiated, called virtually or initialised.
const ST_EAGER: u8 = ST_PARENT | ST_MEMBERS | ST_LAYOUT;
/// Set on a type once it and every type a cast involving it reads
/// (parents, interfaces, element and type arguments, transitively) are
/// complete ([`TypeSystem::complete_deep`]).
const ST_DEEP: u8 = 32;

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
    /// Name (shared with the definition's by every generic instance).
    pub name: Name,
    /// MethodAttributes (§II.23.1.10).
    pub flags: u16,
    /// MethodImplAttributes (§II.23.1.11).
    pub impl_flags: u16,
    /// RVA of the body (0 for none).
    pub rva: u32,
    /// Signature with the owner's type arguments substituted (shared with
    /// `open_sig`, and between instances, when substitution changes nothing).
    pub sig: Arc<Sig>,
    /// Signature as declared (generic parameters left open), used to bind
    /// MemberRefs; shared by the definition and every instance of its owner.
    pub open_sig: Arc<Sig>,
    /// Vtable slot (virtual methods; for interface methods the index within the
    /// interface).
    pub slot: Option<u32>,
    /// P/Invoke import `(module, entry)` from ImplMap.
    pub pinvoke: Option<Box<(String, String)>>,
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
    pub unresolved: Option<Box<Error>>,
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
    /// Name (shared with the definition's by every generic instance).
    pub name: Name,
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
    /// TypeSpec rows resolved outside any generic context (no type or
    /// method arguments), which always resolve the same: a TypeSpec is
    /// parsed and resolved again for every use otherwise.
    typespecs: Vec<Option<TypeId>>,
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
    /// A generic instance: definition and arguments (inline up to four, so
    /// looking an instance up allocates nothing).
    Inst(TypeId, TypeArgs),
}

/// Generic arguments of a constructed-type key.
type TypeArgs = smallvec::SmallVec<[TypeId; 4]>;

impl Key {
    /// A hash of the key, what `constructed` is ordered by first: the keys,
    /// most of them `Inst` (a vector compared element by element), made
    /// each lookup a dozen full key comparisons down the tree; with the hash
    /// in front each step is one `u64` comparison.
    fn fingerprint(&self) -> u64 {
        // FxHash's mixing step (rustc's hasher): fast, good enough for ids.
        fn mix(h: u64, x: u64) -> u64 {
            (h.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
        }
        match self {
            Key::SzArray(e) => mix(1, e.0 as u64),
            Key::Array(e, r) => mix(mix(2, e.0 as u64), *r as u64),
            Key::Ptr(e) => mix(3, e.0 as u64),
            Key::ByRef(e) => mix(4, e.0 as u64),
            Key::FnPtr => 5,
            Key::Param(m, i) => mix(mix(6, *m as u64), *i as u64),
            Key::Inst(d, args) => args
                .iter()
                .fold(mix(7, d.0 as u64), |h, a| mix(h, a.0 as u64)),
        }
    }
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
    /// Constructed types by (`Key::fingerprint`, key).
    constructed: BTreeMap<(u64, Key), TypeId>,
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
    /// `System.__Canon`, the placeholder of shared generic code (`canon.rs`),
    /// made on first use.
    canon: Option<TypeId>,
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
            canon: None,
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
}
