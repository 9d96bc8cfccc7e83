//! The metadata tables of the `#~`/`#-` stream (ECMA-335 Partition II §22, §24.2.6):
//! table ids, column schemas, coded indexes with their 2/4-byte widths, and typed rows.

use crate::error::Error;

pub use crate::table_id::{TableId, TABLE_COUNT};

/// Coded index kinds (§II.24.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Coded {
    TypeDefOrRef,
    HasConstant,
    HasCustomAttribute,
    HasFieldMarshal,
    HasDeclSecurity,
    MemberRefParent,
    HasSemantics,
    MethodDefOrRef,
    MemberForwarded,
    Implementation,
    CustomAttributeType,
    ResolutionScope,
    TypeOrMethodDef,
}

use TableId as T;

impl Coded {
    /// Tables addressed by the tag values, in tag order (`None` = unused tag).
    pub fn tables(self) -> &'static [Option<TableId>] {
        match self {
            Coded::TypeDefOrRef => &[Some(T::TypeDef), Some(T::TypeRef), Some(T::TypeSpec)],
            Coded::HasConstant => &[Some(T::Field), Some(T::Param), Some(T::Property)],
            Coded::HasCustomAttribute => &[
                Some(T::MethodDef),
                Some(T::Field),
                Some(T::TypeRef),
                Some(T::TypeDef),
                Some(T::Param),
                Some(T::InterfaceImpl),
                Some(T::MemberRef),
                Some(T::Module),
                Some(T::DeclSecurity),
                Some(T::Property),
                Some(T::Event),
                Some(T::StandAloneSig),
                Some(T::ModuleRef),
                Some(T::TypeSpec),
                Some(T::Assembly),
                Some(T::AssemblyRef),
                Some(T::File),
                Some(T::ExportedType),
                Some(T::ManifestResource),
                Some(T::GenericParam),
                Some(T::GenericParamConstraint),
                Some(T::MethodSpec),
            ],
            Coded::HasFieldMarshal => &[Some(T::Field), Some(T::Param)],
            Coded::HasDeclSecurity => &[Some(T::TypeDef), Some(T::MethodDef), Some(T::Assembly)],
            Coded::MemberRefParent => &[
                Some(T::TypeDef),
                Some(T::TypeRef),
                Some(T::ModuleRef),
                Some(T::MethodDef),
                Some(T::TypeSpec),
            ],
            Coded::HasSemantics => &[Some(T::Event), Some(T::Property)],
            Coded::MethodDefOrRef => &[Some(T::MethodDef), Some(T::MemberRef)],
            Coded::MemberForwarded => &[Some(T::Field), Some(T::MethodDef)],
            Coded::Implementation => &[Some(T::File), Some(T::AssemblyRef), Some(T::ExportedType)],
            Coded::CustomAttributeType => {
                &[None, None, Some(T::MethodDef), Some(T::MemberRef), None]
            }
            Coded::ResolutionScope => &[
                Some(T::Module),
                Some(T::ModuleRef),
                Some(T::AssemblyRef),
                Some(T::TypeRef),
            ],
            Coded::TypeOrMethodDef => &[Some(T::TypeDef), Some(T::MethodDef)],
        }
    }

    /// Number of tag bits.
    pub fn tag_bits(self) -> u32 {
        let n = self.tables().len() as u32;
        32 - (n - 1).leading_zeros()
    }

    /// Decodes a raw coded index into a token (`table << 24 | row`); a zero row
    /// is a null reference and is returned as the token of row 0 of the table.
    pub fn decode(self, raw: u32) -> Option<Token> {
        let bits = self.tag_bits();
        let tag = (raw & ((1 << bits) - 1)) as usize;
        let row = raw >> bits;
        let table = (*self.tables().get(tag)?)?;
        Some(Token::new(table, row))
    }
}

/// A metadata token: table number in the high byte, 1-based row below (§II.22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Token(pub u32);

impl Token {
    /// Token of `row` in `table`.
    pub fn new(table: TableId, row: u32) -> Token {
        Token(((table as u32) << 24) | (row & 0x00FF_FFFF))
    }
    /// The table, if the high byte names one (0x70 = `#US` is not a table).
    pub fn table(self) -> Option<TableId> {
        TableId::from_u8((self.0 >> 24) as u8)
    }
    /// High byte.
    pub fn kind(self) -> u8 {
        (self.0 >> 24) as u8
    }
    /// 1-based row (or heap offset for `#US` tokens).
    pub fn row(self) -> u32 {
        self.0 & 0x00FF_FFFF
    }
    /// True for a null reference (row 0).
    pub fn is_null(self) -> bool {
        self.row() == 0
    }
}

impl core::fmt::Display for Token {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

/// Token high byte of user-string (`#US`) tokens used by `ldstr`.
pub const US_TOKEN_KIND: u8 = 0x70;

/// Column kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    /// 2-byte constant.
    U16,
    /// 4-byte constant.
    U32,
    /// `#Strings` heap index.
    Str,
    /// `#GUID` heap index.
    Guid,
    /// `#Blob` heap index.
    Blob,
    /// Simple index into a table.
    Tbl(TableId),
    /// Coded index.
    Coded(Coded),
}

use Col::*;

/// Column schema of every table (§II.22.2–§II.22.39).
pub fn schema(t: TableId) -> &'static [Col] {
    match t {
        T::Module => &[U16, Str, Guid, Guid, Guid],
        T::TypeRef => &[Coded(self::Coded::ResolutionScope), Str, Str],
        T::TypeDef => &[
            U32,
            Str,
            Str,
            Coded(self::Coded::TypeDefOrRef),
            Tbl(T::Field),
            Tbl(T::MethodDef),
        ],
        T::FieldPtr => &[Tbl(T::Field)],
        T::Field => &[U16, Str, Blob],
        T::MethodPtr => &[Tbl(T::MethodDef)],
        T::MethodDef => &[U32, U16, U16, Str, Blob, Tbl(T::Param)],
        T::ParamPtr => &[Tbl(T::Param)],
        T::Param => &[U16, U16, Str],
        T::InterfaceImpl => &[Tbl(T::TypeDef), Coded(self::Coded::TypeDefOrRef)],
        T::MemberRef => &[Coded(self::Coded::MemberRefParent), Str, Blob],
        T::Constant => &[U16, Coded(self::Coded::HasConstant), Blob],
        T::CustomAttribute => &[
            Coded(self::Coded::HasCustomAttribute),
            Coded(self::Coded::CustomAttributeType),
            Blob,
        ],
        T::FieldMarshal => &[Coded(self::Coded::HasFieldMarshal), Blob],
        T::DeclSecurity => &[U16, Coded(self::Coded::HasDeclSecurity), Blob],
        T::ClassLayout => &[U16, U32, Tbl(T::TypeDef)],
        T::FieldLayout => &[U32, Tbl(T::Field)],
        T::StandAloneSig => &[Blob],
        T::EventMap => &[Tbl(T::TypeDef), Tbl(T::Event)],
        T::EventPtr => &[Tbl(T::Event)],
        T::Event => &[U16, Str, Coded(self::Coded::TypeDefOrRef)],
        T::PropertyMap => &[Tbl(T::TypeDef), Tbl(T::Property)],
        T::PropertyPtr => &[Tbl(T::Property)],
        T::Property => &[U16, Str, Blob],
        T::MethodSemantics => &[U16, Tbl(T::MethodDef), Coded(self::Coded::HasSemantics)],
        T::MethodImpl => &[
            Tbl(T::TypeDef),
            Coded(self::Coded::MethodDefOrRef),
            Coded(self::Coded::MethodDefOrRef),
        ],
        T::ModuleRef => &[Str],
        T::TypeSpec => &[Blob],
        T::ImplMap => &[
            U16,
            Coded(self::Coded::MemberForwarded),
            Str,
            Tbl(T::ModuleRef),
        ],
        T::FieldRva => &[U32, Tbl(T::Field)],
        T::EncLog => &[U32, U32],
        T::EncMap => &[U32],
        T::Assembly => &[U32, U16, U16, U16, U16, U32, Blob, Str, Str],
        T::AssemblyProcessor => &[U32],
        T::AssemblyOs => &[U32, U32, U32],
        T::AssemblyRef => &[U16, U16, U16, U16, U32, Blob, Str, Str, Blob],
        T::AssemblyRefProcessor => &[U32, Tbl(T::AssemblyRef)],
        T::AssemblyRefOs => &[U32, U32, U32, Tbl(T::AssemblyRef)],
        T::File => &[U32, Str, Blob],
        T::ExportedType => &[U32, U32, Str, Str, Coded(self::Coded::Implementation)],
        T::ManifestResource => &[U32, U32, Str, Coded(self::Coded::Implementation)],
        T::NestedClass => &[Tbl(T::TypeDef), Tbl(T::TypeDef)],
        T::GenericParam => &[U16, U16, Coded(self::Coded::TypeOrMethodDef), Str],
        T::MethodSpec => &[Coded(self::Coded::MethodDefOrRef), Blob],
        T::GenericParamConstraint => &[Tbl(T::GenericParam), Coded(self::Coded::TypeDefOrRef)],
    }
}

/// Maximum columns in any table.
pub const MAX_COLS: usize = 9;

/// A typed row decoded from raw column values.
pub trait Row: Sized {
    /// The table this row type belongs to.
    const TABLE: TableId;
    /// Builds the row from column values (coded indexes already turned into tokens).
    fn from_cols(c: &[u32; MAX_COLS]) -> Self;
}

macro_rules! rows {
    ($($(#[$m:meta])* $name:ident = $t:ident { $($f:ident),* $(,)? })*) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        #[allow(missing_docs)]
        pub struct $name { $(pub $f: u32),* }
        impl Row for $name {
            const TABLE: TableId = TableId::$t;
            #[allow(unused_assignments)]
            fn from_cols(c: &[u32; MAX_COLS]) -> Self {
                let mut i = 0usize;
                $(let $f = c[i % MAX_COLS]; i += 1;)*
                $name { $($f),* }
            }
        }
    )*};
}

rows! {
    /// §II.22.30. Heap indexes are raw offsets; coded indexes are [`Token`] values.
    ModuleRow = Module { generation, name, mvid, enc_id, enc_base_id }
    /// §II.22.38 (`scope` is a ResolutionScope token).
    TypeRefRow = TypeRef { scope, name, namespace }
    /// §II.22.37 (`extends` is a TypeDefOrRef token; lists are 1-based row numbers).
    TypeDefRow = TypeDef { flags, name, namespace, extends, field_list, method_list }
    /// §II.22.15.
    FieldRow = Field { flags, name, signature }
    /// §II.22.26.
    MethodDefRow = MethodDef { rva, impl_flags, flags, name, signature, param_list }
    /// §II.22.33.
    ParamRow = Param { flags, sequence, name }
    /// §II.22.23.
    InterfaceImplRow = InterfaceImpl { class, interface }
    /// §II.22.25.
    MemberRefRow = MemberRef { class, name, signature }
    /// §II.22.9 (`ty` is the element type byte).
    ConstantRow = Constant { ty, parent, value }
    /// §II.22.10.
    CustomAttributeRow = CustomAttribute { parent, ty, value }
    /// §II.22.8.
    ClassLayoutRow = ClassLayout { packing_size, class_size, parent }
    /// §II.22.16.
    FieldLayoutRow = FieldLayout { offset, field }
    /// §II.22.36.
    StandAloneSigRow = StandAloneSig { signature }
    /// §II.22.35.
    PropertyMapRow = PropertyMap { parent, property_list }
    /// §II.22.34.
    PropertyRow = Property { flags, name, ty }
    /// §II.22.28.
    MethodSemanticsRow = MethodSemantics { semantics, method, association }
    /// §II.22.27.
    MethodImplRow = MethodImpl { class, body, declaration }
    /// §II.22.31.
    ModuleRefRow = ModuleRef { name }
    /// §II.22.39.
    TypeSpecRow = TypeSpec { signature }
    /// §II.22.22.
    ImplMapRow = ImplMap { flags, member, import_name, import_scope }
    /// §II.22.18.
    FieldRvaRow = FieldRva { rva, field }
    /// §II.22.2.
    AssemblyRow = Assembly { hash_alg, major, minor, build, revision, flags, public_key, name, culture }
    /// §II.22.5.
    AssemblyRefRow = AssemblyRef { major, minor, build, revision, flags, public_key_or_token, name, culture, hash_value }
    /// §II.22.32.
    NestedClassRow = NestedClass { nested, enclosing }
    /// §II.22.20.
    GenericParamRow = GenericParam { number, flags, owner, name }
    /// §II.22.29.
    MethodSpecRow = MethodSpec { method, instantiation }
    /// §II.22.14 (`implementation` is an Implementation token).
    ExportedTypeRow = ExportedType { flags, type_def_id, name, namespace, implementation }
}

/// Row decode failure for an unused coded-index tag.
pub(crate) fn bad_coded(t: TableId, row: u32, off: usize) -> Error {
    Error::in_row("coded index (unknown tag)", t, row, off)
}
