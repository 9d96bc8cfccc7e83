//! Signature blobs (ECMA-335 Partition II §23.2): method, field, property, local
//! variable, type spec and method-spec (generic instantiation) signatures. Nesting is
//! bounded so hostile blobs cannot exhaust the stack.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::tables::{TableId, Token};
use crate::bytes::Cursor;
use crate::error::{Error, Result};

/// Element type codes (§II.23.1.16).
#[allow(missing_docs)]
pub mod et {
    pub const END: u8 = 0x00;
    pub const VOID: u8 = 0x01;
    pub const BOOLEAN: u8 = 0x02;
    pub const CHAR: u8 = 0x03;
    pub const I1: u8 = 0x04;
    pub const U1: u8 = 0x05;
    pub const I2: u8 = 0x06;
    pub const U2: u8 = 0x07;
    pub const I4: u8 = 0x08;
    pub const U4: u8 = 0x09;
    pub const I8: u8 = 0x0a;
    pub const U8: u8 = 0x0b;
    pub const R4: u8 = 0x0c;
    pub const R8: u8 = 0x0d;
    pub const STRING: u8 = 0x0e;
    pub const PTR: u8 = 0x0f;
    pub const BYREF: u8 = 0x10;
    pub const VALUETYPE: u8 = 0x11;
    pub const CLASS: u8 = 0x12;
    pub const VAR: u8 = 0x13;
    pub const ARRAY: u8 = 0x14;
    pub const GENERICINST: u8 = 0x15;
    pub const TYPEDBYREF: u8 = 0x16;
    pub const I: u8 = 0x18;
    pub const U: u8 = 0x19;
    pub const FNPTR: u8 = 0x1b;
    pub const OBJECT: u8 = 0x1c;
    pub const SZARRAY: u8 = 0x1d;
    pub const MVAR: u8 = 0x1e;
    pub const CMOD_REQD: u8 = 0x1f;
    pub const CMOD_OPT: u8 = 0x20;
    pub const SENTINEL: u8 = 0x41;
    pub const PINNED: u8 = 0x45;
}

/// Primitive element types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Prim {
    Void,
    Boolean,
    Char,
    I1,
    U1,
    I2,
    U2,
    I4,
    U4,
    I8,
    U8,
    R4,
    R8,
    I,
    U,
    String,
    Object,
    TypedByRef,
}

impl Prim {
    /// The corlib type name (`System.X`).
    pub fn corlib_name(self) -> &'static str {
        match self {
            Prim::Void => "Void",
            Prim::Boolean => "Boolean",
            Prim::Char => "Char",
            Prim::I1 => "SByte",
            Prim::U1 => "Byte",
            Prim::I2 => "Int16",
            Prim::U2 => "UInt16",
            Prim::I4 => "Int32",
            Prim::U4 => "UInt32",
            Prim::I8 => "Int64",
            Prim::U8 => "UInt64",
            Prim::R4 => "Single",
            Prim::R8 => "Double",
            Prim::I => "IntPtr",
            Prim::U => "UIntPtr",
            Prim::String => "String",
            Prim::Object => "Object",
            Prim::TypedByRef => "TypedReference",
        }
    }

    /// Size in bytes of a value of this type in a field or array slot.
    pub fn size(self) -> u32 {
        match self {
            Prim::Void => 0,
            Prim::Boolean | Prim::I1 | Prim::U1 => 1,
            Prim::Char | Prim::I2 | Prim::U2 => 2,
            Prim::I4 | Prim::U4 | Prim::R4 => 4,
            Prim::I8 | Prim::U8 | Prim::R8 | Prim::I | Prim::U | Prim::String | Prim::Object => 8,
            Prim::TypedByRef => 16,
        }
    }

    /// All primitives, in element-type order.
    pub const ALL: [Prim; 18] = [
        Prim::Void,
        Prim::Boolean,
        Prim::Char,
        Prim::I1,
        Prim::U1,
        Prim::I2,
        Prim::U2,
        Prim::I4,
        Prim::U4,
        Prim::I8,
        Prim::U8,
        Prim::R4,
        Prim::R8,
        Prim::I,
        Prim::U,
        Prim::String,
        Prim::Object,
        Prim::TypedByRef,
    ];
}

/// A type in a signature (§II.23.2.12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeSig {
    /// A primitive or `string`/`object`.
    Prim(Prim),
    /// `class T` (TypeDef/TypeRef/TypeSpec token).
    Class(Token),
    /// `valuetype T`.
    ValueType(Token),
    /// Unmanaged pointer `T*`.
    Ptr(Box<TypeSig>),
    /// Managed pointer `T&`.
    ByRef(Box<TypeSig>),
    /// Single-dimensional zero-based array `T[]`.
    SzArray(Box<TypeSig>),
    /// General array with shape (§II.23.2.13).
    Array {
        /// Element type.
        elem: Box<TypeSig>,
        /// Rank.
        rank: u32,
        /// Declared sizes.
        sizes: Vec<u32>,
        /// Declared lower bounds.
        lo_bounds: Vec<i32>,
    },
    /// `GENERICINST (CLASS|VALUETYPE) T <args>`.
    GenericInst {
        /// True for `valuetype`.
        value_type: bool,
        /// The generic type definition (TypeDef or TypeRef token).
        def: Token,
        /// Type arguments.
        args: Vec<TypeSig>,
    },
    /// Type generic parameter `!n`.
    Var(u32),
    /// Method generic parameter `!!n`.
    MVar(u32),
    /// Function pointer.
    FnPtr(Box<MethodSig>),
}

/// A method signature (§II.23.2.1–§II.23.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodSig {
    /// `HASTHIS`: an instance method.
    pub has_this: bool,
    /// `EXPLICITTHIS`: `this` is listed among the parameters.
    pub explicit_this: bool,
    /// Calling convention (low 4 bits: 0 default, 5 vararg, 1–4 unmanaged).
    pub call_conv: u8,
    /// Number of generic parameters of a generic method.
    pub generic_params: u32,
    /// Return type (`Prim(Void)` for none).
    pub ret: TypeSig,
    /// Parameter types (excluding `this`).
    pub params: Vec<TypeSig>,
    /// Index in `params` where vararg extra arguments start (call sites only).
    pub sentinel: Option<usize>,
}

/// A local variable (§II.23.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    /// Type (may be `ByRef`).
    pub ty: TypeSig,
    /// `pinned`.
    pub pinned: bool,
}

/// Maximum nesting depth of a type signature.
pub const MAX_DEPTH: u32 = 64;
/// Maximum parameters, locals or generic arguments accepted in one signature.
pub const MAX_ITEMS: u32 = 0xFFFF;

/// A signature reader over one blob.
pub struct SigReader<'a> {
    c: Cursor<'a>,
}

impl<'a> SigReader<'a> {
    /// Reads signatures from `blob`.
    pub fn new(blob: &'a [u8]) -> Self {
        SigReader {
            c: Cursor::new(blob, 0),
        }
    }

    fn count(&mut self, what: &'static str) -> Result<u32> {
        let n = self.c.compressed_u32(what)?;
        if n > MAX_ITEMS || n as usize > self.c.remaining().saturating_add(1) * 2 {
            return Err(self.c.err(what));
        }
        Ok(n)
    }

    /// A TypeDefOrRefOrSpecEncoded token (§II.23.2.8).
    pub fn type_def_or_ref(&mut self) -> Result<Token> {
        let v = self.c.compressed_u32("TypeDefOrRefOrSpecEncoded")?;
        let t = match v & 3 {
            0 => TableId::TypeDef,
            1 => TableId::TypeRef,
            2 => TableId::TypeSpec,
            _ => return Err(self.c.err("TypeDefOrRefOrSpecEncoded tag")),
        };
        Ok(Token::new(t, v >> 2))
    }

    fn skip_mods(&mut self) -> Result<()> {
        while let Ok(b) = self.c.peek("custom modifier") {
            if b == et::CMOD_OPT || b == et::CMOD_REQD {
                self.c.u8("custom modifier")?;
                self.type_def_or_ref()?;
            } else {
                break;
            }
        }
        Ok(())
    }

    /// One type (§II.23.2.12), custom modifiers skipped.
    pub fn ty(&mut self) -> Result<TypeSig> {
        self.ty_depth(0)
    }

    fn ty_depth(&mut self, depth: u32) -> Result<TypeSig> {
        if depth > MAX_DEPTH {
            return Err(self.c.err("type signature (nested too deeply)"));
        }
        self.skip_mods()?;
        let b = self.c.u8("element type")?;
        let p = |p| Ok(TypeSig::Prim(p));
        match b {
            et::VOID => p(Prim::Void),
            et::BOOLEAN => p(Prim::Boolean),
            et::CHAR => p(Prim::Char),
            et::I1 => p(Prim::I1),
            et::U1 => p(Prim::U1),
            et::I2 => p(Prim::I2),
            et::U2 => p(Prim::U2),
            et::I4 => p(Prim::I4),
            et::U4 => p(Prim::U4),
            et::I8 => p(Prim::I8),
            et::U8 => p(Prim::U8),
            et::R4 => p(Prim::R4),
            et::R8 => p(Prim::R8),
            et::I => p(Prim::I),
            et::U => p(Prim::U),
            et::STRING => p(Prim::String),
            et::OBJECT => p(Prim::Object),
            et::TYPEDBYREF => p(Prim::TypedByRef),
            et::CLASS => Ok(TypeSig::Class(self.type_def_or_ref()?)),
            et::VALUETYPE => Ok(TypeSig::ValueType(self.type_def_or_ref()?)),
            et::PTR => Ok(TypeSig::Ptr(Box::new(self.ty_depth(depth + 1)?))),
            et::BYREF => Ok(TypeSig::ByRef(Box::new(self.ty_depth(depth + 1)?))),
            et::SZARRAY => Ok(TypeSig::SzArray(Box::new(self.ty_depth(depth + 1)?))),
            et::PINNED => self.ty_depth(depth + 1),
            et::ARRAY => {
                let elem = Box::new(self.ty_depth(depth + 1)?);
                let rank = self.c.compressed_u32("array rank")?;
                if rank == 0 || rank > 32 {
                    return Err(self.c.err("array rank (1..=32)"));
                }
                let n = self.count("array size count")?;
                let mut sizes = Vec::new();
                for _ in 0..n {
                    sizes.push(self.c.compressed_u32("array size")?);
                }
                let n = self.count("array bound count")?;
                let mut lo_bounds = Vec::new();
                for _ in 0..n {
                    lo_bounds.push(self.c.compressed_i32("array lower bound")?);
                }
                Ok(TypeSig::Array {
                    elem,
                    rank,
                    sizes,
                    lo_bounds,
                })
            }
            et::GENERICINST => {
                let k = self.c.u8("generic instance kind")?;
                let value_type = match k {
                    et::CLASS => false,
                    et::VALUETYPE => true,
                    _ => return Err(self.c.err("generic instance kind (CLASS/VALUETYPE)")),
                };
                let def = self.type_def_or_ref()?;
                let n = self.count("generic argument count")?;
                if n == 0 {
                    return Err(self.c.err("generic argument count (0)"));
                }
                let mut args = Vec::new();
                for _ in 0..n {
                    args.push(self.ty_depth(depth + 1)?);
                }
                Ok(TypeSig::GenericInst {
                    value_type,
                    def,
                    args,
                })
            }
            et::VAR => Ok(TypeSig::Var(
                self.c.compressed_u32("generic parameter number")?,
            )),
            et::MVAR => Ok(TypeSig::MVar(
                self.c.compressed_u32("generic parameter number")?,
            )),
            et::FNPTR => Ok(TypeSig::FnPtr(Box::new(self.method_depth(depth + 1)?))),
            _ => Err(Error::malformed(
                "element type",
                self.c.offset().saturating_sub(1),
            )),
        }
    }

    /// A method definition/reference signature.
    pub fn method(&mut self) -> Result<MethodSig> {
        self.method_depth(0)
    }

    fn method_depth(&mut self, depth: u32) -> Result<MethodSig> {
        let b = self.c.u8("method signature calling convention")?;
        if b & 0x0F > 5 {
            return Err(self.c.err("method signature calling convention"));
        }
        let generic_params = if b & 0x10 != 0 {
            self.c.compressed_u32("generic parameter count")?
        } else {
            0
        };
        let n = self.count("parameter count")?;
        let ret = self.ty_depth(depth + 1)?;
        let mut params = Vec::with_capacity(n as usize);
        let mut sentinel = None;
        for _ in 0..n {
            if self.c.peek("parameter")? == et::SENTINEL {
                self.c.u8("sentinel")?;
                sentinel = Some(params.len());
            }
            params.push(self.ty_depth(depth + 1)?);
        }
        Ok(MethodSig {
            has_this: b & 0x20 != 0,
            explicit_this: b & 0x40 != 0,
            call_conv: b & 0x0F,
            generic_params,
            ret,
            params,
            sentinel,
        })
    }

    /// A field signature (§II.23.2.4).
    pub fn field(&mut self) -> Result<TypeSig> {
        if self.c.u8("field signature")? & 0x0F != 0x06 {
            return Err(Error::malformed("field signature (expected 0x06)", 0));
        }
        self.ty()
    }

    /// A property signature (§II.23.2.5): (has_this, type, index parameters).
    pub fn property(&mut self) -> Result<(bool, TypeSig, Vec<TypeSig>)> {
        let b = self.c.u8("property signature")?;
        if b & 0x0F != 0x08 {
            return Err(Error::malformed("property signature (expected 0x08)", 0));
        }
        let n = self.count("property parameter count")?;
        let ty = self.ty()?;
        let mut ps = Vec::new();
        for _ in 0..n {
            ps.push(self.ty()?);
        }
        Ok((b & 0x20 != 0, ty, ps))
    }

    /// A local variable signature (§II.23.2.6).
    pub fn locals(&mut self) -> Result<Vec<Local>> {
        if self.c.u8("locals signature")? != 0x07 {
            return Err(Error::malformed("locals signature (expected 0x07)", 0));
        }
        let n = self.count("local count")?;
        let mut out = Vec::with_capacity(n as usize);
        for _ in 0..n {
            self.skip_mods()?;
            let mut pinned = false;
            if self.c.peek("local")? == et::PINNED {
                self.c.u8("pinned")?;
                pinned = true;
                self.skip_mods()?;
            }
            out.push(Local {
                ty: self.ty()?,
                pinned,
            });
        }
        Ok(out)
    }

    /// A MethodSpec instantiation blob (§II.23.2.15).
    pub fn method_spec(&mut self) -> Result<Vec<TypeSig>> {
        if self.c.u8("method spec signature")? != 0x0A {
            return Err(Error::malformed("method spec signature (expected 0x0A)", 0));
        }
        let n = self.count("generic argument count")?;
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.ty()?);
        }
        Ok(out)
    }
}

/// Parses a method signature blob.
pub fn parse_method(blob: &[u8]) -> Result<MethodSig> {
    SigReader::new(blob).method()
}

/// Parses a field signature blob.
pub fn parse_field(blob: &[u8]) -> Result<TypeSig> {
    SigReader::new(blob).field()
}

/// Parses a TypeSpec blob (a single type).
pub fn parse_type_spec(blob: &[u8]) -> Result<TypeSig> {
    SigReader::new(blob).ty()
}

/// Parses a locals (StandAloneSig) blob.
pub fn parse_locals(blob: &[u8]) -> Result<Vec<Local>> {
    SigReader::new(blob).locals()
}

/// Parses a MethodSpec instantiation blob.
pub fn parse_method_spec(blob: &[u8]) -> Result<Vec<TypeSig>> {
    SigReader::new(blob).method_spec()
}

/// True if a MemberRef signature blob describes a field (first byte 0x06).
pub fn is_field_sig(blob: &[u8]) -> bool {
    blob.first().map(|b| b & 0x0F == 0x06).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_signature_with_generic_instance_and_byref() {
        // instance bool M(int32[], valuetype TypeRef#2&, class List<!0>)
        let blob = [
            0x20,
            3,
            et::BOOLEAN,
            et::SZARRAY,
            et::I4,
            et::BYREF,
            et::VALUETYPE,
            0x09,
            et::GENERICINST,
            et::CLASS,
            0x05,
            1,
            et::VAR,
            0,
        ];
        let m = parse_method(&blob).unwrap();
        assert!(m.has_this);
        assert_eq!(m.ret, TypeSig::Prim(Prim::Boolean));
        assert_eq!(
            m.params[0],
            TypeSig::SzArray(Box::new(TypeSig::Prim(Prim::I4)))
        );
        assert_eq!(
            m.params[1],
            TypeSig::ByRef(Box::new(TypeSig::ValueType(Token::new(
                TableId::TypeRef,
                2
            ))))
        );
        assert_eq!(
            m.params[2],
            TypeSig::GenericInst {
                value_type: false,
                def: Token::new(TableId::TypeRef, 1),
                args: alloc::vec![TypeSig::Var(0)]
            }
        );
    }

    #[test]
    fn locals_with_pinned_and_modifiers() {
        let blob = [
            0x07,
            2,
            et::PINNED,
            et::BYREF,
            et::U1,
            et::CMOD_OPT,
            0x05,
            et::I8,
        ];
        let l = parse_locals(&blob).unwrap();
        assert!(l[0].pinned);
        assert_eq!(l[1].ty, TypeSig::Prim(Prim::I8));
    }

    #[test]
    fn hostile_signatures_are_errors() {
        // Deep nesting: SZARRAY repeated beyond the limit.
        let mut deep = alloc::vec![0x06u8];
        deep.extend(core::iter::repeat_n(et::SZARRAY, 200));
        deep.push(et::I4);
        assert!(parse_field(&deep).is_err());
        // Parameter count larger than the blob.
        assert!(parse_method(&[0x00, 0x7F, et::VOID]).is_err());
        // Unknown element type.
        assert!(parse_type_spec(&[0x17]).is_err());
        assert!(parse_method(&[]).is_err());
        // Array rank 0.
        assert!(parse_type_spec(&[et::ARRAY, et::I4, 0, 0, 0]).is_err());
    }
}
