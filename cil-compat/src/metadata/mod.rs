//! ECMA-335 metadata reader: the metadata root (Partition II §24.2.1), stream headers
//! (§24.2.2), the `#Strings`, `#US`, `#Blob` and `#GUID` heaps (§24.2.3–§24.2.5) and
//! the `#~`/`#-` tables stream (§24.2.6). Never panics on any input.

pub mod body;
pub mod pe;
pub mod sig;
pub mod tables;

use alloc::string::String;
use alloc::vec::Vec;

pub use pe::{CliHeader, PeImage};
pub use tables::{
    AssemblyRefRow, AssemblyRow, ClassLayoutRow, ConstantRow, CustomAttributeRow, ExportedTypeRow,
    FieldLayoutRow, FieldRow, FieldRvaRow, GenericParamRow, ImplMapRow, InterfaceImplRow,
    MemberRefRow, MethodDefRow, MethodImplRow, MethodSemanticsRow, MethodSpecRow, ModuleRefRow,
    ModuleRow, NestedClassRow, ParamRow, PropertyMapRow, PropertyRow, StandAloneSigRow, TypeDefRow,
    TypeRefRow, TypeSpecRow,
};
pub use tables::{Coded, Col, Row, TableId, Token, TABLE_COUNT, US_TOKEN_KIND};

use crate::bytes::{slice, u32_at, Cursor};
use crate::error::{Error, Result};
use tables::{schema, MAX_COLS};

/// Location of a stream inside the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamLoc {
    /// File offset.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
}

/// Geometry of one table inside the tables stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableInfo {
    /// Number of rows.
    pub rows: u32,
    /// Bytes per row.
    pub row_size: u32,
    /// File offset of row 1.
    pub offset: usize,
    /// Byte offset of each column within a row.
    pub col_offset: [u8; MAX_COLS],
    /// Width (2 or 4) of each column.
    pub col_width: [u8; MAX_COLS],
}

/// Everything learned from parsing the headers: offsets only, no borrowed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The PE container.
    pub pe: PeImage,
    /// Metadata version string (e.g. `v4.0.30319`).
    pub version: String,
    /// `#Strings`.
    pub strings: StreamLoc,
    /// `#US`.
    pub user_strings: StreamLoc,
    /// `#Blob`.
    pub blobs: StreamLoc,
    /// `#GUID`.
    pub guids: StreamLoc,
    /// `#~` or `#-`.
    pub tables_stream: StreamLoc,
    /// True for the uncompressed `#-` form (may use Ptr tables).
    pub uncompressed: bool,
    /// Tables stream major/minor version.
    pub tables_version: (u8, u8),
    /// Per-table geometry, indexed by table number.
    pub tables: [TableInfo; TABLE_COUNT],
    /// Heap index widths: strings, guid, blob.
    pub wide_heaps: (bool, bool, bool),
    /// The whole `#Strings` heap is valid UTF-8 (checked once at parse), so
    /// every NUL-terminated entry in it is too: entries need no re-check.
    pub strings_utf8: bool,
}

/// A parsed assembly that owns its bytes.
#[derive(Debug, Clone)]
pub struct Assembly {
    bytes: Vec<u8>,
    layout: Layout,
}

impl Assembly {
    /// Parses `bytes` (a whole PE file).
    pub fn parse(bytes: Vec<u8>) -> Result<Assembly> {
        let layout = Layout::parse(&bytes)?;
        Ok(Assembly { bytes, layout })
    }
    /// A borrowed view for reading.
    pub fn md(&self) -> Metadata<'_> {
        Metadata {
            data: &self.bytes,
            l: &self.layout,
        }
    }
    /// The raw file bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

fn stream_name_ok(n: &[u8]) -> bool {
    !n.is_empty() && n.iter().all(|&b| (0x20..0x7f).contains(&b))
}

impl Layout {
    /// Parses PE headers, the metadata root, stream headers and table geometry.
    pub fn parse(data: &[u8]) -> Result<Layout> {
        let pe = PeImage::parse(data)?;
        let md_rva = pe.cli.metadata.rva;
        let md_size = pe.cli.metadata.size as usize;
        let root = pe.at_rva(data, md_rva, md_size, "metadata root")?;
        let root_off = pe.rva_to_offset(md_rva)?;
        let mut c = Cursor::new(root, root_off);
        if c.u32("metadata signature")? != 0x424A_5342 {
            return Err(Error::malformed(
                "metadata signature (expected BSJB)",
                root_off,
            ));
        }
        c.skip(8, "metadata root versions")?;
        let vlen = c.u32("metadata version length")? as usize;
        if vlen > 255 {
            return Err(c.err("metadata version length (> 255)"));
        }
        let vbytes = c.bytes(vlen, "metadata version string")?;
        let vend = vbytes.iter().position(|&b| b == 0).unwrap_or(vlen);
        let version = String::from_utf8_lossy(&vbytes[..vend]).into_owned();
        c.align(4, "metadata version padding")?;
        c.u16("metadata flags")?;
        let nstreams = c.u16("metadata stream count")?;
        let mut strings = None;
        let mut user_strings = None;
        let mut blobs = None;
        let mut guids = None;
        let mut tables_stream = None;
        let mut uncompressed = false;
        for _ in 0..nstreams {
            let hdr_off = c.offset();
            let off = c.u32("stream offset")? as usize;
            let size = c.u32("stream size")? as usize;
            let start = c.pos();
            let mut name_len = None;
            for i in 0..32 {
                if c.u8("stream name")? == 0 {
                    name_len = Some(i);
                    break;
                }
            }
            let name_len = name_len.ok_or(Error::malformed(
                "stream name (no NUL within 32 bytes)",
                hdr_off,
            ))?;
            let name = &root[start..start + name_len];
            c.align(4, "stream name padding")?;
            if !stream_name_ok(name) {
                return Err(Error::malformed("stream name", hdr_off));
            }
            // Stream must lie within the metadata block.
            slice(root, off, size, "stream extent")
                .map_err(|_| Error::malformed("stream extent outside metadata", hdr_off))?;
            let loc = Some(StreamLoc {
                offset: root_off + off,
                size,
            });
            match name {
                b"#Strings" => strings = loc,
                b"#US" => user_strings = loc,
                b"#Blob" => blobs = loc,
                b"#GUID" => guids = loc,
                b"#~" => tables_stream = loc,
                b"#-" => {
                    tables_stream = loc;
                    uncompressed = true;
                }
                _ => {}
            }
        }
        let tables_stream =
            tables_stream.ok_or(Error::malformed("metadata (no #~ stream)", root_off))?;
        let mut l = Layout {
            pe,
            version,
            strings: strings.unwrap_or_default(),
            user_strings: user_strings.unwrap_or_default(),
            blobs: blobs.unwrap_or_default(),
            guids: guids.unwrap_or_default(),
            tables_stream,
            uncompressed,
            tables_version: (0, 0),
            tables: [TableInfo::default(); TABLE_COUNT],
            wide_heaps: (false, false, false),
            strings_utf8: false,
        };
        l.strings_utf8 = data
            .get(l.strings.offset..l.strings.offset.saturating_add(l.strings.size))
            .is_some_and(|h| core::str::from_utf8(h).is_ok());
        l.parse_tables(data)?;
        Ok(l)
    }

    fn parse_tables(&mut self, data: &[u8]) -> Result<()> {
        let ts = slice(
            data,
            self.tables_stream.offset,
            self.tables_stream.size,
            "#~ stream",
        )?;
        let mut c = Cursor::new(ts, self.tables_stream.offset);
        c.u32("#~ reserved")?;
        let major = c.u8("#~ major version")?;
        let minor = c.u8("#~ minor version")?;
        self.tables_version = (major, minor);
        let heap_sizes = c.u8("#~ heap sizes")?;
        c.u8("#~ reserved")?;
        let valid = c.u64("#~ valid mask")?;
        c.u64("#~ sorted mask")?;
        if valid >> TABLE_COUNT != 0 {
            return Err(Error::malformed(
                "#~ valid mask (unknown table present)",
                self.tables_stream.offset + 8,
            ));
        }
        for t in 0..TABLE_COUNT {
            if valid & (1 << t) != 0 {
                let rows = c.u32("#~ row count")?;
                if rows > 0x00FF_FFFF {
                    return Err(Error::malformed("#~ row count (> 2^24)", c.offset() - 4));
                }
                self.tables[t].rows = rows;
            }
        }
        if heap_sizes & 0x40 != 0 {
            c.u32("#~ extra data")?;
        }
        self.wide_heaps = (
            heap_sizes & 1 != 0,
            heap_sizes & 2 != 0,
            heap_sizes & 4 != 0,
        );
        let mut pos = c.offset();
        let end = self.tables_stream.offset + self.tables_stream.size;
        for t in 0..TABLE_COUNT {
            let id = TableId::from_u8(t as u8).ok_or(Error::malformed("table id", pos))?;
            let mut info = self.tables[t];
            let mut o = 0u32;
            for (i, col) in schema(id).iter().enumerate() {
                let w = self.col_width(*col);
                info.col_offset[i] = o as u8;
                info.col_width[i] = w;
                o += w as u32;
            }
            info.row_size = o;
            info.offset = pos;
            let bytes = (info.rows as usize)
                .checked_mul(o as usize)
                .ok_or(Error::in_row("table size", id, 0, pos))?;
            pos = pos
                .checked_add(bytes)
                .ok_or(Error::in_row("table size", id, 0, pos))?;
            if pos > end {
                return Err(Error::in_row(
                    "table extends past #~ stream",
                    id,
                    0,
                    info.offset,
                ));
            }
            self.tables[t] = info;
        }
        Ok(())
    }

    fn rows(&self, t: TableId) -> u32 {
        self.tables[t as usize].rows
    }

    fn col_width(&self, col: Col) -> u8 {
        match col {
            Col::U16 => 2,
            Col::U32 => 4,
            Col::Str => wide(self.wide_heaps.0),
            Col::Guid => wide(self.wide_heaps.1),
            Col::Blob => wide(self.wide_heaps.2),
            Col::Tbl(t) => wide(self.rows(t) > 0xFFFF),
            Col::Coded(k) => {
                let limit = 1u32 << (16 - k.tag_bits());
                let max = k
                    .tables()
                    .iter()
                    .flatten()
                    .map(|t| self.rows(*t))
                    .max()
                    .unwrap_or(0);
                wide(max >= limit)
            }
        }
    }
}

fn wide(b: bool) -> u8 {
    if b {
        4
    } else {
        2
    }
}

/// A borrowed view over an assembly's bytes and parsed layout.
#[derive(Debug, Clone, Copy)]
pub struct Metadata<'a> {
    data: &'a [u8],
    l: &'a Layout,
}

impl<'a> Metadata<'a> {
    /// A view over `data` described by `layout` (from [`Layout::parse`] of the same bytes).
    pub fn new(data: &'a [u8], layout: &'a Layout) -> Self {
        Metadata { data, l: layout }
    }

    /// The parsed layout.
    pub fn layout(&self) -> &'a Layout {
        self.l
    }

    /// The whole file.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Number of rows in `t`.
    pub fn row_count(&self, t: TableId) -> u32 {
        self.l.tables[t as usize].rows
    }

    /// Raw value of column `col` of row `row` (1-based) of `t`.
    pub fn raw(&self, t: TableId, row: u32, col: usize) -> Result<u32> {
        let info = &self.l.tables[t as usize];
        if row == 0 || row > info.rows {
            return Err(Error::in_row("row index out of range", t, row, info.offset));
        }
        if col >= schema(t).len() {
            return Err(Error::in_row("column index", t, row, info.offset));
        }
        let off = info.offset
            + (row as usize - 1) * info.row_size as usize
            + info.col_offset[col] as usize;
        let w = info.col_width[col];
        let b = slice(self.data, off, w as usize, "table row").map_err(|e| e.at_row(t, row))?;
        Ok(if w == 2 {
            u16::from_le_bytes([b[0], b[1]]) as u32
        } else {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        })
    }

    /// A typed row. Coded indexes come back as [`Token`] values (`.0`).
    pub fn row<R: Row>(&self, row: u32) -> Result<R> {
        let t = R::TABLE;
        let sch = schema(t);
        let mut c = [0u32; MAX_COLS];
        for (i, col) in sch.iter().enumerate() {
            let v = self.raw(t, row, i)?;
            c[i] = match col {
                Col::Coded(k) => {
                    k.decode(v)
                        .ok_or_else(|| tables::bad_coded(t, row, self.row_offset(t, row)))?
                        .0
                }
                Col::Tbl(target) => {
                    // Simple indexes may point one past the end (list terminators).
                    if v > self.row_count(*target) + 1 {
                        return Err(Error::in_row(
                            "table index out of range",
                            t,
                            row,
                            self.row_offset(t, row),
                        ));
                    }
                    v
                }
                _ => v,
            };
        }
        Ok(R::from_cols(&c))
    }

    /// File offset of a row (for error messages).
    pub fn row_offset(&self, t: TableId, row: u32) -> usize {
        let info = &self.l.tables[t as usize];
        info.offset
            .saturating_add((row.saturating_sub(1) as usize).saturating_mul(info.row_size as usize))
    }

    /// The `#Strings` entry at `off` (UTF-8, NUL-terminated).
    pub fn string(&self, off: u32) -> Result<&'a str> {
        let s = &self.l.strings;
        let heap = slice(self.data, s.offset, s.size, "#Strings heap")?;
        let rest = heap.get(off as usize..).ok_or(Error::malformed(
            "#Strings index out of range",
            s.offset + off as usize,
        ))?;
        let end = rest.iter().position(|&b| b == 0).ok_or(Error::malformed(
            "#Strings entry (no NUL)",
            s.offset + off as usize,
        ))?;
        let bytes = &rest[..end];
        // A run that starts on a character boundary (a continuation byte,
        // 0b10xx_xxxx, never starts a character) and ends before a NUL (a
        // one-byte character) of a heap that is valid UTF-8 as a whole is
        // itself valid UTF-8.
        if self.l.strings_utf8 && bytes.first().is_none_or(|&b| b & 0xC0 != 0x80) {
            // SAFETY: see above; `strings_utf8` was checked on this very heap.
            let s = unsafe { core::str::from_utf8_unchecked(bytes) };
            return Ok(s);
        }
        core::str::from_utf8(bytes)
            .map_err(|_| Error::malformed("#Strings entry (bad UTF-8)", s.offset + off as usize))
    }

    /// The `#Blob` entry at `off` (without its length prefix).
    pub fn blob(&self, off: u32) -> Result<&'a [u8]> {
        let s = &self.l.blobs;
        let heap = slice(self.data, s.offset, s.size, "#Blob heap")?;
        let rest = heap.get(off as usize..).ok_or(Error::malformed(
            "#Blob index out of range",
            s.offset + off as usize,
        ))?;
        let mut c = Cursor::new(rest, s.offset + off as usize);
        let len = c.compressed_u32("#Blob length")? as usize;
        c.bytes(len, "#Blob entry")
    }

    /// The `#GUID` entry with 1-based index `idx` (0 = none).
    pub fn guid(&self, idx: u32) -> Result<Option<[u8; 16]>> {
        if idx == 0 {
            return Ok(None);
        }
        let s = &self.l.guids;
        let heap = slice(self.data, s.offset, s.size, "#GUID heap")?;
        let b = slice(heap, (idx as usize - 1) * 16, 16, "#GUID index")
            .map_err(|_| Error::malformed("#GUID index out of range", s.offset))?;
        let mut g = [0u8; 16];
        g.copy_from_slice(b);
        Ok(Some(g))
    }

    /// The `#US` string at `off` as UTF-16 code units (§II.24.2.4).
    pub fn user_string(&self, off: u32) -> Result<Vec<u16>> {
        let s = &self.l.user_strings;
        let heap = slice(self.data, s.offset, s.size, "#US heap")?;
        let rest = heap.get(off as usize..).ok_or(Error::malformed(
            "#US index out of range",
            s.offset + off as usize,
        ))?;
        let mut c = Cursor::new(rest, s.offset + off as usize);
        let len = c.compressed_u32("#US length")? as usize;
        let bytes = c.bytes(len, "#US entry")?;
        // An odd length carries the trailing "has special chars" byte.
        let chars = &bytes[..len & !1];
        Ok(chars
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect())
    }

    /// Total size (length prefix + data) of the `#US` entry at `off`, for walking
    /// the heap entry by entry.
    pub fn user_string_entry_len(&self, off: u32) -> Option<u32> {
        let s = &self.l.user_strings;
        let heap = slice(self.data, s.offset, s.size, "#US heap").ok()?;
        let rest = heap.get(off as usize..)?;
        let mut c = Cursor::new(rest, 0);
        let len = c.compressed_u32("#US length").ok()?;
        let total = (c.pos() as u32).checked_add(len)?;
        (total as usize <= rest.len() && total > 0).then_some(total)
    }

    /// `len` bytes at `rva`.
    pub fn at_rva(&self, rva: u32, len: usize, what: &'static str) -> Result<&'a [u8]> {
        self.l.pe.at_rva(self.data, rva, len, what)
    }

    /// Bytes from `rva` to the end of its section.
    pub fn from_rva(&self, rva: u32, what: &'static str) -> Result<&'a [u8]> {
        self.l.pe.from_rva(self.data, rva, what)
    }

    /// Rows `[start, end)` of the list column `col` of `owner` row `row`, pointing into
    /// `target` (§II.22: a list runs to the next row's start or the end of the table).
    /// With a `#-` Ptr table, the returned row numbers are already mapped through it.
    pub fn list(&self, owner: TableId, row: u32, col: usize, target: TableId) -> Result<Vec<u32>> {
        let start = self.raw(owner, row, col)?;
        let end = if row < self.row_count(owner) {
            self.raw(owner, row + 1, col)?
        } else {
            self.row_count(self.ptr_table(target).unwrap_or(target)) + 1
        };
        let limit = self.row_count(self.ptr_table(target).unwrap_or(target)) + 1;
        if start == 0 || start > end || end > limit {
            return Err(Error::in_row(
                "member list range",
                owner,
                row,
                self.row_offset(owner, row),
            ));
        }
        let mut out = Vec::with_capacity((end - start) as usize);
        for i in start..end {
            match self.ptr_table(target) {
                Some(p) => {
                    let v = self.raw(p, i, 0)?;
                    if v == 0 || v > self.row_count(target) {
                        return Err(Error::in_row(
                            "Ptr table entry out of range",
                            p,
                            i,
                            self.row_offset(p, i),
                        ));
                    }
                    out.push(v)
                }
                None => out.push(i),
            }
        }
        Ok(out)
    }

    fn ptr_table(&self, target: TableId) -> Option<TableId> {
        let p = match target {
            TableId::Field => TableId::FieldPtr,
            TableId::MethodDef => TableId::MethodPtr,
            TableId::Param => TableId::ParamPtr,
            TableId::Event => TableId::EventPtr,
            TableId::Property => TableId::PropertyPtr,
            _ => return None,
        };
        (self.row_count(p) > 0).then_some(p)
    }

    /// Parses the method body at `rva` (§II.25.4).
    pub fn method_body(&self, rva: u32) -> Result<body::MethodBody<'a>> {
        let off = self.l.pe.rva_to_offset(rva)?;
        let bytes = self.from_rva(rva, "method body")?;
        body::MethodBody::parse(bytes, off)
    }

    /// The assembly name from the Assembly table, if any.
    pub fn assembly_name(&self) -> Result<Option<&'a str>> {
        if self.row_count(TableId::Assembly) == 0 {
            return Ok(None);
        }
        let a: AssemblyRow = self.row(1)?;
        self.string(a.name).map(Some)
    }

    /// Rows of `t` whose column `col` equals `key` (the column must be a sorted key;
    /// falls back to a scan when the table is not sorted).
    pub fn find_rows(&self, t: TableId, col: usize, key: u32) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        for r in 1..=self.row_count(t) {
            if self.raw(t, r, col)? == key {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Reads a 4-byte little-endian value at file offset `off`.
    pub fn u32_at(&self, off: usize) -> Result<u32> {
        u32_at(self.data, off, "u32")
    }
}
