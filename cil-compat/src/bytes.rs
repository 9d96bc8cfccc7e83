//! Bounds-checked little-endian reading: every access is checked, every failure is an
//! [`Error::Malformed`] naming what was read and at which offset. Also the compressed
//! integers of ECMA-335 Partition II §23.2.

use crate::error::{Error, Result};

/// `data[off..off + len]`, or an error naming `what`.
pub fn slice<'a>(data: &'a [u8], off: usize, len: usize, what: &'static str) -> Result<&'a [u8]> {
    let end = off.checked_add(len).ok_or(Error::malformed(what, off))?;
    data.get(off..end).ok_or(Error::malformed(what, off))
}

/// `data[off..]`, or an error naming `what`.
pub fn tail<'a>(data: &'a [u8], off: usize, what: &'static str) -> Result<&'a [u8]> {
    data.get(off..).ok_or(Error::malformed(what, off))
}

/// Little-endian u16 at `off`.
pub fn u16_at(data: &[u8], off: usize, what: &'static str) -> Result<u16> {
    let s = slice(data, off, 2, what)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

/// Little-endian u32 at `off`.
pub fn u32_at(data: &[u8], off: usize, what: &'static str) -> Result<u32> {
    let s = slice(data, off, 4, what)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Little-endian u64 at `off`.
pub fn u64_at(data: &[u8], off: usize, what: &'static str) -> Result<u64> {
    let lo = u32_at(data, off, what)? as u64;
    let hi = u32_at(
        data,
        off.checked_add(4).ok_or(Error::malformed(what, off))?,
        what,
    )? as u64;
    Ok(lo | (hi << 32))
}

/// A forward cursor over a byte slice; `base` is added to reported offsets so errors
/// point into the whole file.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`, which begins at file offset `base`.
    pub fn new(data: &'a [u8], base: usize) -> Self {
        Cursor { data, pos: 0, base }
    }

    /// Current position relative to the start of the slice.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// File offset of the current position (for error messages).
    pub fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// True when nothing is left.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// An error at the current position.
    pub fn err(&self, what: &'static str) -> Error {
        Error::malformed(what, self.offset())
    }

    /// Takes `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        let s = slice(self.data, self.pos, n, what).map_err(|_| self.err(what))?;
        self.pos += n;
        Ok(s)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize, what: &'static str) -> Result<()> {
        self.bytes(n, what).map(|_| ())
    }

    /// Moves to absolute position `pos` within the slice.
    pub fn seek(&mut self, pos: usize, what: &'static str) -> Result<()> {
        if pos > self.data.len() {
            return Err(Error::malformed(what, self.base.saturating_add(pos)));
        }
        self.pos = pos;
        Ok(())
    }

    /// Advances to the next multiple of `n` (relative to the slice start).
    pub fn align(&mut self, n: usize, what: &'static str) -> Result<()> {
        let rem = self.pos % n;
        if rem != 0 {
            self.skip(n - rem, what)?;
        }
        Ok(())
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.bytes(1, what)?[0])
    }

    /// Little-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// Little-endian u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Little-endian u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64> {
        let lo = self.u32(what)? as u64;
        let hi = self.u32(what)? as u64;
        Ok(lo | (hi << 32))
    }

    /// A 2- or 4-byte index (ECMA-335 §II.24.2.6).
    pub fn index(&mut self, wide: bool, what: &'static str) -> Result<u32> {
        if wide {
            self.u32(what)
        } else {
            self.u16(what).map(u32::from)
        }
    }

    /// Peeks the next byte without consuming it.
    pub fn peek(&self, what: &'static str) -> Result<u8> {
        self.data.get(self.pos).copied().ok_or(self.err(what))
    }

    /// A compressed unsigned integer (§II.23.2).
    pub fn compressed_u32(&mut self, what: &'static str) -> Result<u32> {
        let b0 = self.u8(what)? as u32;
        if b0 & 0x80 == 0 {
            Ok(b0)
        } else if b0 & 0xC0 == 0x80 {
            let b1 = self.u8(what)? as u32;
            Ok(((b0 & 0x3F) << 8) | b1)
        } else if b0 & 0xE0 == 0xC0 {
            let b = self.bytes(3, what)?;
            Ok(((b0 & 0x1F) << 24) | ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32)
        } else {
            Err(Error::malformed(what, self.offset().saturating_sub(1)))
        }
    }

    /// A compressed signed integer (§II.23.2: rotated sign bit).
    pub fn compressed_i32(&mut self, what: &'static str) -> Result<i32> {
        let first = self.peek(what)?;
        let u = self.compressed_u32(what)?;
        let neg = u & 1 != 0;
        let mag = (u >> 1) as i32;
        let bias: i32 = if first & 0x80 == 0 {
            0x40
        } else if first & 0xC0 == 0x80 {
            0x2000
        } else {
            0x1000_0000
        };
        Ok(if neg { mag - bias } else { mag })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(b: &[u8]) -> u32 {
        Cursor::new(b, 0).compressed_u32("t").unwrap()
    }
    fn i(b: &[u8]) -> i32 {
        Cursor::new(b, 0).compressed_i32("t").unwrap()
    }

    #[test]
    fn compressed_unsigned_examples_from_ecma_335_ii_23_2() {
        assert_eq!(u(&[0x03]), 0x03);
        assert_eq!(u(&[0x7F]), 0x7F);
        assert_eq!(u(&[0x80, 0x80]), 0x80);
        assert_eq!(u(&[0xAE, 0x57]), 0x2E57);
        assert_eq!(u(&[0xBF, 0xFF]), 0x3FFF);
        assert_eq!(u(&[0xC0, 0x00, 0x40, 0x00]), 0x4000);
        assert_eq!(u(&[0xDF, 0xFF, 0xFF, 0xFF]), 0x1FFF_FFFF);
    }

    #[test]
    fn compressed_signed_examples_from_ecma_335_ii_23_2() {
        assert_eq!(i(&[0x06]), 3);
        assert_eq!(i(&[0x7B]), -3);
        assert_eq!(i(&[0x80, 0x80]), 64);
        assert_eq!(i(&[0x01]), -64);
        assert_eq!(i(&[0xC0, 0x00, 0x40, 0x00]), 8192);
        assert_eq!(i(&[0x80, 0x01]), -8192);
        assert_eq!(i(&[0xDF, 0xFF, 0xFF, 0xFE]), 268_435_455);
        assert_eq!(i(&[0xC0, 0x00, 0x00, 0x01]), -268_435_456);
    }

    #[test]
    fn reads_past_the_end_are_errors_naming_the_offset() {
        let e = Cursor::new(&[0xC0, 0x00], 0x100)
            .compressed_u32("blob length")
            .unwrap_err();
        assert_eq!(e.to_string(), "malformed blob length at offset 0x101");
        assert!(Cursor::new(&[0xE0], 0).compressed_u32("x").is_err());
        assert!(u32_at(&[1, 2, 3], 0, "x").is_err());
        assert!(slice(&[1, 2, 3], usize::MAX, 2, "x").is_err());
    }
}
