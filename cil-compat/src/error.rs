//! Loader errors: every failure names what was being read and where (table, row,
//! byte offset), so malformed input is diagnosable (ECMA-335 Partition II §22–§25).

use alloc::string::String;
use core::fmt;

use crate::table_id::TableId;

/// Result alias used throughout the crate.
pub type Result<T> = core::result::Result<T, Error>;

/// Everything that can go wrong while reading or loading an assembly.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not follow the format: `what` was being read at byte `offset`
    /// of the file (or of the named stream/blob), in `table`/`row` when known.
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// Metadata table involved, if any.
        table: Option<TableId>,
        /// 1-based row in `table` (0 when not applicable).
        row: u32,
        /// Byte offset where the problem was found.
        offset: u64,
    },
    /// Valid ECMA-335 that this loader does not implement.
    Unsupported {
        /// The feature.
        what: &'static str,
        /// Where it was met (type or member name, token).
        detail: String,
    },
    /// A reference could not be bound to a definition.
    Unresolved {
        /// Kind of reference (type, method, field, assembly).
        what: &'static str,
        /// The name that was looked for.
        name: String,
    },
    /// A type could not be laid out or loaded.
    TypeLoad {
        /// Full type name.
        ty: String,
        /// Reason.
        reason: String,
    },
    /// The managed heap is out of memory or a size overflowed.
    OutOfMemory {
        /// Bytes requested.
        requested: u64,
    },
    /// The managed toolchain (mcs/ilasm) failed or is missing (host only).
    Toolchain(String),
    /// A well-formed file that is not a .NET assembly: `why` says what it is
    /// (not a PE file; a native PE without a CLI header, ECMA-335 II.25.3.3).
    NotAssembly(&'static str),
}

impl Error {
    /// Shorthand for a [`Error::Malformed`] outside any table.
    pub fn malformed(what: &'static str, offset: usize) -> Self {
        Error::Malformed {
            what,
            table: None,
            row: 0,
            offset: offset as u64,
        }
    }

    /// Shorthand for a [`Error::Malformed`] in a table row.
    pub fn in_row(what: &'static str, table: TableId, row: u32, offset: usize) -> Self {
        Error::Malformed {
            what,
            table: Some(table),
            row,
            offset: offset as u64,
        }
    }

    /// Adds table/row context to a malformed error that has none.
    pub fn at_row(self, t: TableId, r: u32) -> Self {
        match self {
            Error::Malformed {
                what,
                table: None,
                row: 0,
                offset,
            } => Error::Malformed {
                what,
                table: Some(t),
                row: r,
                offset,
            },
            e => e,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed {
                what,
                table,
                row,
                offset,
            } => {
                write!(f, "malformed {what}")?;
                if let Some(t) = table {
                    write!(f, " in table {t:?} row {row}")?;
                }
                write!(f, " at offset {offset:#x}")
            }
            Error::Unsupported { what, detail } => write!(f, "unsupported {what}: {detail}"),
            Error::Unresolved { what, name } => write!(f, "cannot resolve {what} `{name}`"),
            Error::TypeLoad { ty, reason } => write!(f, "cannot load type `{ty}`: {reason}"),
            Error::OutOfMemory { requested } => {
                write!(f, "managed heap exhausted ({requested} bytes requested)")
            }
            Error::Toolchain(m) => write!(f, "managed toolchain: {m}"),
            Error::NotAssembly(why) => write!(f, "not a .NET assembly ({why})"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
