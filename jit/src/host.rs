//! The JIT-EE interface: everything the compiler needs to know about the runtime,
//! asked through one narrow, data-oriented trait (`JitHost`). The JIT knows nothing
//! about metadata tables; the host turns tokens (ECMA-335 §II.22, §III.1.9) into
//! layouts, signatures, addresses and helper entry points.

use alloc::string::String;

/// The type of a local, argument, field, array element or return value, as the
/// JIT needs it (ECMA-335 §I.8.2.2 built-in types, collapsed to storage shapes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JitType {
    /// No value (only as a return type).
    Void,
    Bool,
    Char,
    I1,
    U1,
    I2,
    U2,
    I4,
    U4,
    I8,
    U8,
    /// `native int`
    I,
    /// `native unsigned int`
    U,
    R4,
    R8,
    /// Object reference (class, array, string, boxed value, interface).
    Obj,
    /// Managed pointer `T&`.
    ByRef,
    /// Unmanaged pointer `T*` (tracked as native int).
    Ptr,
    /// A value type that is not a primitive.
    Struct(StructLayout),
}

/// Size, alignment and identity of a value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StructLayout {
    /// Instance size in bytes (ClassLayout sizes kept: a 3-byte struct is 3).
    pub size: u32,
    /// Alignment in bytes (1, 2, 4 or 8).
    pub align: u32,
    /// The runtime type handle (MethodTable pointer) of the value type.
    pub handle: u64,
}

impl JitType {
    /// Bytes this type occupies in a field, array element or local.
    pub fn size(&self) -> u32 {
        match self {
            JitType::Void => 0,
            JitType::Bool | JitType::I1 | JitType::U1 => 1,
            JitType::Char | JitType::I2 | JitType::U2 => 2,
            JitType::I4 | JitType::U4 | JitType::R4 => 4,
            JitType::Struct(s) => s.size,
            _ => 8,
        }
    }
    /// Whether this is a non-primitive value type.
    pub fn is_struct(&self) -> bool {
        matches!(self, JitType::Struct(_))
    }
}

/// Calling convention of a call target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallConv {
    /// JIT-to-JIT convention (see `isa::x64::abi`): SysV registers, value types
    /// passed by hidden pointer to a caller-owned copy and returned through a
    /// hidden return-buffer pointer.
    Managed,
    /// Plain SysV x86-64 (the DDK ABI and host helpers): value types up to 16 bytes
    /// travel in integer registers; no floats are expected but SSE args work.
    Native,
}

/// A signature's parameter types, inline up to four (a call's `CallInfo` is
/// cloned from the runtime's cache at every call site).
pub type Params = smallvec::SmallVec<[JitType; 4]>;

/// A method signature with `this` made explicit.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodSig {
    /// `this` is passed first; its type is `this_type`.
    pub has_this: bool,
    /// `Obj` for classes, `ByRef` for value types.
    pub this_type: JitType,
    pub params: Params,
    pub ret: JitType,
    pub conv: CallConv,
}

/// How a call reaches its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallTarget {
    /// Call this absolute address (compiled code, a lazy-compile stub, a native
    /// function). Recorded in `CompiledMethod::call_sites` so the host may repoint it.
    Direct(u64),
    /// Call through the 8-byte code pointer stored at this address (a patchable cell).
    Indirect(u64),
    /// Virtual dispatch: load the MethodTable from the object, then the code pointer
    /// at this byte offset from the MethodTable.
    Virtual { slot_offset: i32 },
    /// Virtual dispatch through an out-of-line slot array: load the MethodTable,
    /// then the slot-array pointer at `vtable_ptr_offset`, then the code pointer at
    /// `slot_offset` in that array.
    VirtualIndirect {
        vtable_ptr_offset: i32,
        slot_offset: i32,
    },
    /// Interface dispatch through `Helper::InterfaceLookup(obj, iface, slot)`.
    Interface { iface: u64, slot: u32 },
    /// A method the VES provides on a multi-dimensional array type (ECMA-335
    /// §II.14.2: `.ctor`, `Get`, `Set`, `Address`): the JIT lowers it inline
    /// (`codegen/md_arrays.rs`); only `call`/`callvirt`/`newobj` may use it.
    MdArray(MdArrayMethod),
}

/// Which runtime-provided method of an array type (ECMA-335 §II.14.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdArrayOp {
    /// `.ctor(int32 × rank)` (lengths) or `.ctor(int32 × 2·rank)` (lower bound,
    /// length pairs): `newobj` calls `Helper::NewMdArray`.
    Ctor,
    /// `T Get(int32 × rank)`.
    Get,
    /// `void Set(int32 × rank, T)`.
    Set,
    /// `T& Address(int32 × rank)`.
    Address,
}

/// The facts the JIT needs to lower a multi-dimensional array method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MdArrayMethod {
    pub op: MdArrayOp,
    /// Array rank (1..=32).
    pub rank: u32,
    /// The element type as stored (`Obj` for references: `Set` then checks
    /// array covariance through `Helper::ArrayStoreCheck`).
    pub elem: JitType,
    /// MethodTable of the array type (for `.ctor`).
    pub handle: u64,
    /// Byte offset of the per-dimension lengths (u64 each, dimension 0 first);
    /// the lower bounds (i64 each) follow them.
    pub lengths_offset: i32,
    /// Byte offset of element `[lb0, lb1, …]`; elements are stored row-major.
    pub data_offset: i32,
}

/// The answer for a `call`, `callvirt`, `newobj`, `ldftn`, `ldvirtftn` token.
#[derive(Clone, Debug, PartialEq)]
pub struct CallInfo {
    pub sig: MethodSig,
    pub target: CallTarget,
    /// Identifies the callee in call-site records (e.g. a method handle).
    pub callee: u64,
    /// For `newobj`: the type being constructed.
    pub owner: Option<TypeInfo>,
}

/// What to do with `this` for a `constrained. T callvirt M` (ECMA-335 §III.2.1).
#[derive(Clone, Debug, PartialEq)]
pub enum Constrained {
    /// T is a reference type: dereference the managed pointer and call normally.
    DerefThis,
    /// T is a value type implementing M itself: pass the managed pointer directly to
    /// this (non-virtual) call.
    Direct(alloc::boxed::Box<CallInfo>),
    /// T is a value type not implementing M: box `*this` as T and call virtually.
    BoxThis(TypeInfo),
}

/// The answer for a field token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FieldInfo {
    pub ty: JitType,
    /// Byte offset from the object start (after the header for classes) or from the
    /// start of the value for value types.
    pub offset: u32,
    /// For static fields: the address of the storage.
    pub static_addr: Option<u64>,
    /// For statics of a type whose `.cctor` has not run yet.
    pub class_init: Option<ClassInit>,
}

/// One instruction of a callee body the JIT may inline at a call site
/// (`codegen/inline.rs` says which bodies qualify and how they are lowered).
/// Field facts are resolved in the callee's own module and generic context.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InlineOp {
    /// `ldfld` of an instance field.
    Ldfld(FieldInfo),
    /// `ldflda` of an instance field.
    Ldflda(FieldInfo),
    /// `stfld` of an instance field.
    Stfld(FieldInfo),
    LdcI4(i32),
    LdcI8(i64),
    /// An operand-less one-byte opcode (`decoder::op`) among the
    /// non-throwing arithmetic and conversions `codegen/inline.rs` accepts.
    Simple(u16),
}

/// The instructions between a callee's leading `ldarg`s (every argument once,
/// in order) and its `ret`: what inlining lowers against the caller's stack.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct InlineBody {
    pub ops: smallvec::SmallVec<[InlineOp; 4]>,
}

/// A run-once class constructor trigger: if the byte at `flag_addr` is nonzero
/// (pending or running), call `Helper::ClassInit(handle)`, which runs the `.cctor`
/// unless it is already running on this thread and clears the flag when done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassInit {
    pub flag_addr: u64,
    pub handle: u64,
}

/// The answer for a type token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TypeInfo {
    /// The type as a value on the stack (`Obj` for reference types).
    pub ty: JitType,
    pub is_value_type: bool,
    /// MethodTable pointer (what objects of this type carry at offset 0).
    pub handle: u64,
    /// MethodTable of the single-dimension array `T[]` (for `newarr`).
    pub array_handle: u64,
}

/// A `Nullable<T>` instantiation (see [`JitHost::nullable`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NullableInfo {
    /// Byte offset of the `bool hasValue` field.
    pub has_value_offset: u32,
    /// Byte offset of the `T value` field.
    pub value_offset: u32,
    /// `T`.
    pub value: TypeInfo,
    /// `T`'s alternative unbox identity (see [`JitHost::unbox_key`]).
    pub unbox_key: Option<(i32, u32)>,
}

/// Object layout facts of the host's managed heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectLayout {
    /// Byte offset of the MethodTable pointer in every object.
    pub method_table_offset: i32,
    /// Byte offset of the element count (a 32-bit value) in arrays.
    pub array_length_offset: i32,
    /// Byte offset of element 0 in arrays.
    pub array_data_offset: i32,
    /// Byte offset of the value inside a boxed value type.
    pub box_data_offset: i32,
}

/// Runtime helpers JIT code calls (all plain SysV).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Helper {
    /// `fn(mt: u64) -> *mut u8`: a zeroed object of that type.
    NewObject,
    /// `fn(array_mt: u64, len: i64) -> *mut u8`: a zeroed array (len >= 0 checked).
    NewArray,
    /// `fn(code: u32, method: u64, il_offset: u32) -> !`: a CLI runtime error.
    Fail,
    /// `fn(obj: *mut u8, mt: u64) -> *mut u8`: obj if it is an instance of mt, else null.
    IsInstance,
    /// `fn(handle: u64)`: run a class constructor once.
    ClassInit,
    /// `fn(obj: *mut u8, iface: u64, slot: u32) -> u64`: code address.
    InterfaceLookup,
    /// `fn(a: u64, b: u64) -> u64`: `rem` (fmod) of two doubles passed and
    /// returned as their bits in integer registers (so a soft-float host, like a
    /// kernel built for x86_64-unknown-none, reads them where they are).
    FRem,
    /// `fn(array: *mut u8, value: *mut u8) -> u64`: nonzero if `value` may be
    /// stored in the reference array `array` (covariance check of `stelem.ref`).
    ArrayStoreCheck,
    /// `fn(exception: *mut u8, method: u64, il_offset: u32) -> !`: `throw`.
    /// The runtime finds the handler walking the rbp chain from its caller.
    Throw,
    /// `fn(exception: *mut u8, method: u64, il_offset: u32) -> !`: `rethrow`
    /// (the exception keeps the stack trace of its first throw).
    Rethrow,
    /// `fn(array_mt: u64, args: *const i64, n: u64) -> *mut u8`: a zeroed
    /// multi-dimensional array; `args` holds the `.ctor`'s `n` int32 arguments
    /// sign-extended (rank lengths, or rank (lower bound, length) pairs).
    NewMdArray,
    /// `fn(this: *mut u8, method: u64, key: u32) -> u64`: in shared generic
    /// code, the handle numbered `key` by [`JitHost::shared_lookup`] for the
    /// exact instantiation `this` belongs to (`method` is the shared body's
    /// handle). Never collects.
    GenericLookup,
    /// `fn(context: u64, method: u64, key: u32) -> u64`: the same, in shared
    /// code that receives its instantiation as a hidden argument
    /// ([`JitHost::context_local`]): `context` is that argument. Never
    /// collects.
    GenericLookupContext,
    /// `fn(obj: *mut u8, iface: u64, slot: u32, cell: *mut [u64; 2]) -> u64`:
    /// code address, as `InterfaceLookup`; when that answer is final for the
    /// receiver's MethodTable (it will never change), the helper also
    /// stores it in the call site's dispatch cell ([`JitHost::dispatch_cell`]):
    /// the code address at `cell + 8` first, then the MethodTable at `cell`.
    InterfaceLookupCached,
    /// `fn(obj: *mut u8, mt: u64, cell: *mut [u64; 2]) -> *mut u8`: as
    /// `IsInstance` (`obj` is not null); when the answer is yes, the helper
    /// also stores the object's MethodTable in the first word of the `isinst`
    /// or `castclass` site's cell ([`JitHost::dispatch_cell`]), which the JIT
    /// code compares before it calls this again.
    IsInstanceCached,
}

/// What a shared generic body needs of the exact instantiation running it
/// (see [`JitHost::shared_lookup`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LookupKind {
    /// The MethodTable of a type token (`castclass`, `isinst`, `unbox.any`
    /// of a reference type).
    TypeHandle,
    /// The MethodTable of the array of a type token (`newarr`).
    ArrayHandle,
    /// The MethodTable of the class a constructor token belongs to (`newobj`).
    NewObjOwner,
    /// A `callvirt` of an interface method, or of a generic virtual method,
    /// whose exact method differs per instantiation: the key yields the
    /// exact method's handle, which the JIT passes to
    /// `Helper::InterfaceLookup` with the receiver, then calls the code
    /// address it answers. Asked before [`JitHost::method`] for the same
    /// token, which then answers the call's signature.
    InterfaceCall,
    /// A `call` (`virt` false) or `callvirt` whose exact callee differs per
    /// instantiation and is not dispatched through the receiver: the key
    /// yields the exact callee's code address (or lazy stub), which the JIT
    /// calls like `calli`. Asked before [`JitHost::method`] for the token.
    Call { virt: bool },
    /// A static field of a type that differs per instantiation: the key
    /// yields the exact field's address. Asked before [`JitHost::field`] for
    /// the token, which then answers its type (and no address).
    StaticField,
    /// The class whose static field `StaticField` looks up, when it has a
    /// class constructor: the key yields the handle `Helper::ClassInit`
    /// takes, which the JIT calls before every access (it returns at once
    /// once the constructor has run).
    StaticClass,
}

/// Error codes passed to `Helper::Fail`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailCode {
    NullReference = 1,
    IndexOutOfRange = 2,
    DivideByZero = 3,
    Overflow = 4,
    InvalidCast = 5,
    /// `throw` executed (not raised by JIT code any more: `throw` calls
    /// `Helper::Throw`; kept so codes stay stable).
    Thrown = 6,
    /// `ckfinite` on NaN or infinity.
    NotFinite = 7,
    /// `stelem.ref` of an incompatible object into a covariant array.
    ArrayTypeMismatch = 8,
}

impl FailCode {
    /// Decodes a code received by the `Fail` helper.
    pub fn from_u32(v: u32) -> Option<FailCode> {
        Some(match v {
            1 => FailCode::NullReference,
            2 => FailCode::IndexOutOfRange,
            3 => FailCode::DivideByZero,
            4 => FailCode::Overflow,
            5 => FailCode::InvalidCast,
            6 => FailCode::Thrown,
            7 => FailCode::NotFinite,
            8 => FailCode::ArrayTypeMismatch,
            _ => return None,
        })
    }
    /// The CLI exception this code stands for.
    pub fn name(self) -> &'static str {
        match self {
            FailCode::NullReference => "NullReferenceException",
            FailCode::IndexOutOfRange => "IndexOutOfRangeException",
            FailCode::DivideByZero => "DivideByZeroException",
            FailCode::Overflow => "OverflowException",
            FailCode::InvalidCast => "InvalidCastException",
            FailCode::Thrown => "exception thrown",
            FailCode::NotFinite => "ArithmeticException (not finite)",
            FailCode::ArrayTypeMismatch => "ArrayTypeMismatchException",
        }
    }
}

/// Why the runtime could not answer a [`JitHost`] query. The JIT reports it
/// as [`crate::JitErrorKind::Host`] at the IL offset of the instruction that
/// asked; `Display` is the runtime's message alone.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostError {
    /// The token names nothing the runtime can find: a type, method or
    /// field missing from the assemblies loaded, a row out of range.
    Unresolved(String),
    /// It names something that could not be loaded (its type is malformed,
    /// recursive, or depends on one that failed).
    TypeLoad(String),
    /// A form the runtime does not support.
    Unsupported(String),
    /// The IL asks for something the token cannot be (a field where a method
    /// is needed, a constructor without its type, an arity that does not fit).
    Invalid(String),
    /// Any other failure, as the runtime words it.
    Other(String),
}

impl HostError {
    /// The runtime's message.
    pub fn message(&self) -> &str {
        match self {
            HostError::Unresolved(m)
            | HostError::TypeLoad(m)
            | HostError::Unsupported(m)
            | HostError::Invalid(m)
            | HostError::Other(m) => m,
        }
    }
}

impl HostError {
    /// The same kind of error with another message (context added).
    pub fn with_message(&self, m: String) -> HostError {
        match self {
            HostError::Unresolved(_) => HostError::Unresolved(m),
            HostError::TypeLoad(_) => HostError::TypeLoad(m),
            HostError::Unsupported(_) => HostError::Unsupported(m),
            HostError::Invalid(_) => HostError::Invalid(m),
            HostError::Other(_) => HostError::Other(m),
        }
    }
}

impl core::fmt::Display for HostError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

/// A message without a finer kind.
impl From<String> for HostError {
    fn from(m: String) -> Self {
        HostError::Other(m)
    }
}

impl From<&str> for HostError {
    fn from(m: &str) -> Self {
        HostError::Other(m.into())
    }
}

/// The runtime side of the JIT-EE interface. Errors are [`HostError`]s; the
/// JIT wraps them with the method and IL offset.
pub trait JitHost {
    fn object_layout(&self) -> ObjectLayout;
    /// Address of a runtime helper.
    fn helper(&self, helper: Helper) -> u64;
    /// Resolve a method token for `call`/`callvirt`/`newobj`/`ldftn`/`ldvirtftn`.
    /// `virtual_call` is true for `callvirt`/`ldvirtftn`.
    fn method(&mut self, token: u32, virtual_call: bool) -> Result<CallInfo, HostError>;
    /// Resolve `constrained. type_token` + `callvirt method_token`.
    fn constrained(&mut self, type_token: u32, method_token: u32)
        -> Result<Constrained, HostError>;
    /// A stand-alone signature for `calli`.
    fn signature(&mut self, token: u32) -> Result<MethodSig, HostError>;
    fn field(&mut self, token: u32) -> Result<FieldInfo, HostError>;
    fn type_info(&mut self, token: u32) -> Result<TypeInfo, HostError>;
    /// A type token where only the type's storage shape is needed (`ty`,
    /// `is_value_type`: `ldobj`, `stobj`, `cpobj`, `initobj`, `sizeof`,
    /// `ldelem`, `stelem`, `ldelema`, and `box` until it knows the type is a
    /// value type). The handles in the answer may be those of a canonical
    /// stand-in when the method is shared generic code, so the JIT must not
    /// embed them; anything that needs the exact type asks [`Self::type_info`].
    fn type_shape(&mut self, token: u32) -> Result<TypeInfo, HostError> {
        self.type_info(token)
    }
    /// In shared generic code (one body run by several instantiations), a
    /// token whose handle differs per instantiation: the key the JIT passes
    /// to `Helper::GenericLookup` with the method's `this` to get the exact
    /// handle at run time. `None`: the handle is the same for every caller
    /// (or the code is not shared) and is asked for as usual.
    fn shared_lookup(&mut self, token: u32, kind: LookupKind) -> Result<Option<u32>, HostError> {
        let _ = (token, kind);
        Ok(None)
    }
    /// In shared generic code without a `this` to find the instantiation
    /// through (a generic method, a static method of a generic type), the
    /// local (past the IL's own) where the prologue keeps the hidden generic
    /// context, received in `Abi::CONTEXT`; its run-time lookups then call
    /// `Helper::GenericLookupContext` with it. A native-int local, no GC
    /// reference. `None`: no hidden context (every other method).
    fn context_local(&self) -> Option<u16> {
        None
    }
    /// A call site's monomorphic dispatch cache for interface calls: the
    /// address of two zeroed, writable, 8-aligned words (MethodTable, code
    /// address) that live as long as the code being compiled. The JIT
    /// compares the receiver's MethodTable with the first word and calls the
    /// second on a match; otherwise it calls `Helper::InterfaceLookupCached`,
    /// which fills the cell. `isinst` and `castclass` of a type known at
    /// compile time use one the same way: a MethodTable the cell holds
    /// passed the check (`Helper::IsInstanceCached`). `None` (the default):
    /// every interface call goes through `Helper::InterfaceLookup`, every
    /// check through `Helper::IsInstance`.
    fn dispatch_cell(&mut self) -> Option<u64> {
        None
    }
    /// The address of the (immortal) string object for a `#US` token.
    fn string_literal(&mut self, token: u32) -> Result<u64, HostError>;
    /// If the type token is `System.Nullable<T>`: where its fields are and what
    /// `T` is (`box`/`unbox.any` then follow the nullable rules).
    fn nullable(&mut self, token: u32) -> Result<Option<NullableInfo>, HostError> {
        let _ = token;
        Ok(None)
    }
    /// For `unbox` of a type token whose boxed values may also come from other
    /// types (an enum and its underlying primitive, ECMA-335 §III.4.32): the
    /// offset of a u32 in the MethodTable and the value it must hold. None: the
    /// MethodTable must be exactly the type's.
    fn unbox_key(&mut self, token: u32) -> Result<Option<(i32, u32)>, HostError> {
        let _ = token;
        Ok(None)
    }
    /// `ldtoken`: the handle value (pushed as an 8-byte value type).
    fn token_handle(&mut self, token: u32) -> Result<u64, HostError>;
    /// For a `call`/`callvirt` token whose target is managed code reached
    /// through `CallTarget::Indirect`: the callee's body when it is a trivial
    /// accessor the JIT may inline (`codegen::inline::parse_body` decides and
    /// builds it). `callee` is the [`CallInfo::callee`] the host gave for the
    /// token (so it need not resolve the token again). `None` (the
    /// default): always call.
    fn inline_body(&mut self, token: u32, callee: u64) -> Result<Option<InlineBody>, HostError> {
        let _ = (token, callee);
        Ok(None)
    }
    /// Byte offsets of the object references (and managed pointers) inside
    /// the value type whose `StructLayout::handle` is `handle`, for stack
    /// maps; `None` when unknown (every word of the value is then reported
    /// as a maybe-reference).
    fn gc_ref_offsets(&self, handle: u64) -> Option<&[u32]> {
        let _ = handle;
        None
    }
}
