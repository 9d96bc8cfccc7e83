//! PE/COFF container of a CLI assembly (ECMA-335 Partition II §25): DOS stub, PE
//! signature, COFF header, optional header data directories, section table, RVA
//! mapping, and the CLI header (§II.25.3.3).

use alloc::vec::Vec;

use crate::bytes::{slice, u16_at, u32_at};
use crate::error::{Error, Result};

/// One section header (§II.25.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// Section name, NUL padded.
    pub name: [u8; 8],
    /// Size in memory.
    pub virtual_size: u32,
    /// RVA of the first byte.
    pub virtual_address: u32,
    /// Size of the raw data in the file.
    pub raw_size: u32,
    /// File offset of the raw data.
    pub raw_ptr: u32,
}

/// An RVA + size pair (a data directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataDir {
    /// Relative virtual address.
    pub rva: u32,
    /// Size in bytes.
    pub size: u32,
}

/// The CLI header (§II.25.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CliHeader {
    /// Runtime major version (2).
    pub major_runtime_version: u16,
    /// Runtime minor version.
    pub minor_runtime_version: u16,
    /// Metadata root location.
    pub metadata: DataDir,
    /// `COMIMAGE_FLAGS_*`.
    pub flags: u32,
    /// Entry point token (MethodDef) or 0.
    pub entry_point_token: u32,
    /// Managed resources.
    pub resources: DataDir,
    /// Strong name signature.
    pub strong_name_signature: DataDir,
}

/// The parsed PE container (offsets only; the bytes stay with the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeImage {
    /// True for PE32+ (64-bit optional header).
    pub pe32_plus: bool,
    /// COFF machine field.
    pub machine: u16,
    /// Sections in file order.
    pub sections: Vec<Section>,
    /// The CLI header.
    pub cli: CliHeader,
}

const MAX_SECTIONS: usize = 96;

impl PeImage {
    /// Parses the PE headers and the CLI header of `data`.
    pub fn parse(data: &[u8]) -> Result<PeImage> {
        if slice(data, 0, 2, "DOS header")? != b"MZ" {
            return Err(Error::NotAssembly("not a PE file: no MZ signature"));
        }
        let pe = u32_at(data, 0x3C, "e_lfanew")? as usize;
        if slice(data, pe, 4, "PE signature")? != b"PE\0\0" {
            return Err(Error::malformed("PE signature (expected PE\\0\\0)", pe));
        }
        let coff = pe
            .checked_add(4)
            .ok_or(Error::malformed("COFF header", pe))?;
        let machine = u16_at(data, coff, "COFF machine")?;
        let nsections = u16_at(data, coff + 2, "COFF section count")? as usize;
        let opt_size = u16_at(data, coff + 16, "COFF optional header size")? as usize;
        let opt = coff + 20;
        let magic = u16_at(data, opt, "optional header magic")?;
        let pe32_plus = match magic {
            0x10B => false,
            0x20B => true,
            _ => return Err(Error::malformed("optional header magic (0x10b/0x20b)", opt)),
        };
        let (ndirs_off, dirs_off) = if pe32_plus { (108, 112) } else { (92, 96) };
        let ndirs = u32_at(data, opt + ndirs_off, "NumberOfRvaAndSizes")? as usize;
        if ndirs <= 14 {
            return Err(Error::NotAssembly(
                "a native PE file: no CLI header directory",
            ));
        }
        let cli_dir_off = opt + dirs_off + 14 * 8;
        if cli_dir_off + 8 > opt + opt_size {
            return Err(Error::malformed(
                "CLI header directory outside optional header",
                cli_dir_off,
            ));
        }
        let cli_dir = DataDir {
            rva: u32_at(data, cli_dir_off, "CLI header RVA")?,
            size: u32_at(data, cli_dir_off + 4, "CLI header size")?,
        };
        if nsections == 0 || nsections > MAX_SECTIONS {
            return Err(Error::malformed("section count", coff + 2));
        }
        let sec_table = opt
            .checked_add(opt_size)
            .ok_or(Error::malformed("section table", opt))?;
        let mut sections = Vec::with_capacity(nsections);
        for i in 0..nsections {
            let off = sec_table + i * 40;
            let s = slice(data, off, 40, "section header")?;
            let mut name = [0u8; 8];
            name.copy_from_slice(&s[..8]);
            let (raw_size, raw_ptr) = (u32_at(s, 16, "section")?, u32_at(s, 20, "section")?);
            // A section whose file data runs past the end is a truncated
            // file, even when the part still present holds the metadata.
            if (raw_ptr as usize).saturating_add(raw_size as usize) > data.len() {
                return Err(Error::malformed(
                    "section data past the end of the file (truncated?)",
                    off + 16,
                ));
            }
            sections.push(Section {
                name,
                virtual_size: u32_at(s, 8, "section")?,
                virtual_address: u32_at(s, 12, "section")?,
                raw_size,
                raw_ptr,
            });
        }
        let mut img = PeImage {
            pe32_plus,
            machine,
            sections,
            cli: CliHeader::default(),
        };
        if cli_dir.rva == 0 && cli_dir.size == 0 {
            return Err(Error::NotAssembly("a native PE file: no CLI header"));
        }
        if cli_dir.size < 72 {
            return Err(Error::malformed("CLI header size (< 72)", cli_dir_off));
        }
        let h = img.at_rva(data, cli_dir.rva, 72, "CLI header")?;
        let h_off = img.rva_to_offset(cli_dir.rva)?;
        let cb = u32_at(h, 0, "CLI header cb")?;
        if cb < 72 {
            return Err(Error::malformed("CLI header cb (< 72)", h_off));
        }
        let dir = |o: usize| -> Result<DataDir> {
            Ok(DataDir {
                rva: u32_at(h, o, "CLI header")?,
                size: u32_at(h, o + 4, "CLI header")?,
            })
        };
        img.cli = CliHeader {
            major_runtime_version: u16_at(h, 4, "CLI header")?,
            minor_runtime_version: u16_at(h, 6, "CLI header")?,
            metadata: dir(8)?,
            flags: u32_at(h, 16, "CLI header")?,
            entry_point_token: u32_at(h, 20, "CLI header")?,
            resources: dir(24)?,
            strong_name_signature: dir(32)?,
        };
        Ok(img)
    }

    /// File offset of `rva`, if some section's raw data holds it.
    pub fn rva_to_offset(&self, rva: u32) -> Result<usize> {
        for s in &self.sections {
            let extent = s.virtual_size.max(s.raw_size);
            if rva >= s.virtual_address && (rva - s.virtual_address) < extent {
                let delta = rva - s.virtual_address;
                if delta >= s.raw_size {
                    break;
                }
                return (s.raw_ptr as usize)
                    .checked_add(delta as usize)
                    .ok_or(Error::malformed("RVA", rva as usize));
            }
        }
        Err(Error::malformed(
            "RVA not inside any section's file data",
            rva as usize,
        ))
    }

    /// `len` bytes at `rva` (must lie within one section's file data).
    pub fn at_rva<'a>(
        &self,
        data: &'a [u8],
        rva: u32,
        len: usize,
        what: &'static str,
    ) -> Result<&'a [u8]> {
        let off = self
            .rva_to_offset(rva)
            .map_err(|_| Error::malformed(what, rva as usize))?;
        let avail = self.section_tail(rva);
        if len > avail {
            return Err(Error::malformed(what, off));
        }
        slice(data, off, len, what)
    }

    /// All bytes from `rva` to the end of its section's file data.
    pub fn from_rva<'a>(&self, data: &'a [u8], rva: u32, what: &'static str) -> Result<&'a [u8]> {
        let off = self
            .rva_to_offset(rva)
            .map_err(|_| Error::malformed(what, rva as usize))?;
        let len = self.section_tail(rva);
        let len = len.min(data.len().saturating_sub(off));
        slice(data, off, len, what)
    }

    fn section_tail(&self, rva: u32) -> usize {
        for s in &self.sections {
            if rva >= s.virtual_address && rva - s.virtual_address < s.raw_size {
                return (s.raw_size - (rva - s.virtual_address)) as usize;
            }
        }
        0
    }
}
