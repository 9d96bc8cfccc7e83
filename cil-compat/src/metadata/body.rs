//! Method bodies (ECMA-335 Partition II §25.4): tiny and fat headers, the locals
//! signature token, and small/fat exception-handling sections.

use alloc::vec::Vec;

use super::tables::Token;
use crate::bytes::Cursor;
use crate::error::{Error, Result};

/// Kind of an exception-handling clause (§II.25.4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EhKind {
    /// `catch` with a class token.
    Catch(Token),
    /// `filter` starting at this IL offset.
    Filter(u32),
    /// `finally`.
    Finally,
    /// `fault`.
    Fault,
}

/// One exception-handling clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EhClause {
    /// Kind.
    pub kind: EhKind,
    /// Start of the protected block (IL offset).
    pub try_offset: u32,
    /// Length of the protected block.
    pub try_length: u32,
    /// Start of the handler.
    pub handler_offset: u32,
    /// Length of the handler.
    pub handler_length: u32,
}

/// A decoded method body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodBody<'a> {
    /// Maximum evaluation stack depth (8 for tiny headers).
    pub max_stack: u16,
    /// `CorILMethod_InitLocals`.
    pub init_locals: bool,
    /// StandAloneSig token of the locals, or null.
    pub local_var_sig: Token,
    /// The IL bytes.
    pub code: &'a [u8],
    /// Exception-handling clauses.
    pub eh: Vec<EhClause>,
    /// Header size in bytes (1 or 12).
    pub header_size: u8,
}

const MAX_CLAUSES: usize = 0x10000;

impl<'a> MethodBody<'a> {
    /// Parses a body starting at `data[0]`; `base` is its file offset for errors.
    pub fn parse(data: &'a [u8], base: usize) -> Result<MethodBody<'a>> {
        let mut c = Cursor::new(data, base);
        let first = c.u8("method header")?;
        match first & 3 {
            2 => {
                let len = (first >> 2) as usize;
                let code = c.bytes(len, "tiny method body code")?;
                Ok(MethodBody {
                    max_stack: 8,
                    init_locals: false,
                    local_var_sig: Token(0),
                    code,
                    eh: Vec::new(),
                    header_size: 1,
                })
            }
            3 => {
                let second = c.u8("fat method header")?;
                let flags = u16::from_le_bytes([first, second]);
                let size = (flags >> 12) as usize;
                if size != 3 {
                    return Err(Error::malformed(
                        "fat method header size (expected 3 dwords)",
                        base,
                    ));
                }
                let max_stack = c.u16("fat header max stack")?;
                let code_size = c.u32("fat header code size")? as usize;
                let local_var_sig = Token(c.u32("fat header locals token")?);
                if !local_var_sig.is_null() && local_var_sig.kind() != 0x11 {
                    return Err(Error::malformed(
                        "locals signature token (expected StandAloneSig)",
                        base + 8,
                    ));
                }
                let code = c.bytes(code_size, "fat method body code")?;
                let mut eh = Vec::new();
                let mut more = flags & 0x8 != 0;
                while more {
                    c.align(4, "method data section alignment")?;
                    let kind = c.u8("method data section kind")?;
                    more = kind & 0x80 != 0;
                    let fat = kind & 0x40 != 0;
                    if kind & 0x3F != 0x01 {
                        return Err(c.err("method data section kind (expected EHTable)"));
                    }
                    if fat {
                        let b = c.bytes(3, "fat EH section size")?;
                        let size = b[0] as usize | (b[1] as usize) << 8 | (b[2] as usize) << 16;
                        let n = size.saturating_sub(4) / 24;
                        if size < 4 || !(size - 4).is_multiple_of(24) {
                            return Err(c.err("fat EH section size"));
                        }
                        for _ in 0..n {
                            let flags = c.u32("EH clause flags")?;
                            let try_offset = c.u32("EH clause")?;
                            let try_length = c.u32("EH clause")?;
                            let handler_offset = c.u32("EH clause")?;
                            let handler_length = c.u32("EH clause")?;
                            let extra = c.u32("EH clause")?;
                            eh.push(clause(
                                flags,
                                try_offset,
                                try_length,
                                handler_offset,
                                handler_length,
                                extra,
                                &c,
                            )?);
                            if eh.len() > MAX_CLAUSES {
                                return Err(c.err("EH clause count"));
                            }
                        }
                    } else {
                        let size = c.u8("small EH section size")? as usize;
                        c.skip(2, "small EH section reserved")?;
                        if size < 4 || !(size - 4).is_multiple_of(12) {
                            return Err(c.err("small EH section size"));
                        }
                        for _ in 0..(size - 4) / 12 {
                            let flags = c.u16("EH clause flags")? as u32;
                            let try_offset = c.u16("EH clause")? as u32;
                            let try_length = c.u8("EH clause")? as u32;
                            let handler_offset = c.u16("EH clause")? as u32;
                            let handler_length = c.u8("EH clause")? as u32;
                            let extra = c.u32("EH clause")?;
                            eh.push(clause(
                                flags,
                                try_offset,
                                try_length,
                                handler_offset,
                                handler_length,
                                extra,
                                &c,
                            )?);
                        }
                    }
                }
                for e in &eh {
                    let ok = (e.try_offset as usize)
                        .checked_add(e.try_length as usize)
                        .is_some_and(|x| x <= code.len())
                        && (e.handler_offset as usize)
                            .checked_add(e.handler_length as usize)
                            .is_some_and(|x| x <= code.len());
                    if !ok {
                        return Err(Error::malformed(
                            "EH clause range outside method code",
                            base,
                        ));
                    }
                }
                Ok(MethodBody {
                    max_stack,
                    init_locals: flags & 0x10 != 0,
                    local_var_sig,
                    code,
                    eh,
                    header_size: 12,
                })
            }
            _ => Err(Error::malformed(
                "method header format (tiny=2, fat=3)",
                base,
            )),
        }
    }
}

fn clause(
    flags: u32,
    to: u32,
    tl: u32,
    ho: u32,
    hl: u32,
    extra: u32,
    c: &Cursor<'_>,
) -> Result<EhClause> {
    let kind = match flags & 7 {
        0 => EhKind::Catch(Token(extra)),
        1 => EhKind::Filter(extra),
        2 => EhKind::Finally,
        4 => EhKind::Fault,
        _ => return Err(c.err("EH clause flags")),
    };
    Ok(EhClause {
        kind,
        try_offset: to,
        try_length: tl,
        handler_offset: ho,
        handler_length: hl,
    })
}
