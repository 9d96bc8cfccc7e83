//! The managed heap: objects, arrays and strings in bump-allocated chunks, in a shape
//! a precise, non-moving mark/sweep collector can later take over (every object is
//! walkable: header word, MethodTable pointer, size derivable from the MethodTable).
//!
//! Object layout (all offsets from the object reference, which is 8-byte aligned):
//!
//! ```text
//!  class instance                 SZ array (T[])                  string
//!  +0  header word (GC/flags)     +0  header word                 +0  header word
//!  +8  MethodTable*               +8  MethodTable* (T[])          +8  MethodTable* (String)
//!  +16 first instance field       +16 length (u64, elements)      +16 length (i32, UTF-16 units)
//!  ... fields in layout order     +24 element 0                   +20 chars[0..length]
//!                                 +24 + i*component_size          +20 + 2*length  NUL (u16)
//! ```
//!
//! Multi-dimensional arrays (`T[,]`, rank r): +16 total element count (u64),
//! +24 the r lengths (u64 each), then the r lower bounds (i64 each, zero), then the
//! elements from [`mdarray_data_offset`]`(r)` in row-major order.
//!
//! Header word: bit 0 = mark ([`HEADER_MARK`]), bit 1 = pinned/immortal
//! ([`HEADER_PINNED`]); bits 2..63 reserved (hash code, lock). Value types have no
//! header: their fields start at offset 0 and a boxed value's fields start at +16.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::vec::Vec;
use core::ptr::NonNull;

use crate::error::{Error, Result};
use crate::types::{
    MethodTable, MT_FLAG_ABSTRACT, MT_FLAG_ARRAY, MT_FLAG_GENERIC_DEF, MT_FLAG_INTERFACE,
    MT_FLAG_STRING,
};

/// Offset of the header word.
pub const OBJ_HEADER_OFFSET: usize = 0;
/// Offset of the MethodTable pointer.
pub const OBJ_MT_OFFSET: usize = 8;
/// Size of the object header (header word + MethodTable pointer); the first
/// instance field of a class, and a boxed value, start here.
pub const OBJ_HEADER_SIZE: usize = 16;
/// Offset of an SZ array's element count (u64).
pub const ARRAY_LENGTH_OFFSET: usize = 16;
/// Offset of an SZ array's first element.
pub const ARRAY_DATA_OFFSET: usize = 24;
/// Offset of a string's length (i32, UTF-16 code units).
pub const STRING_LENGTH_OFFSET: usize = 16;
/// Offset of a string's first UTF-16 code unit.
pub const STRING_CHARS_OFFSET: usize = 20;
/// Offset of a multi-dimensional array's per-dimension lengths.
pub const MDARRAY_LENGTHS_OFFSET: usize = 24;

/// Offset of the first element of a multi-dimensional array of rank `rank`.
pub const fn mdarray_data_offset(rank: usize) -> usize {
    MDARRAY_LENGTHS_OFFSET + 16 * rank
}

/// Header bit: marked by the collector.
pub const HEADER_MARK: u64 = 1;
/// Header bit: never collected (string literals, statics roots).
pub const HEADER_PINNED: u64 = 2;
/// Alignment of every object.
pub const OBJ_ALIGN: usize = 8;

const CHUNK_SIZE: usize = 256 * 1024;

struct Chunk {
    mem: NonNull<u8>,
    size: usize,
    used: usize,
}

/// The managed heap. Owns its chunks; objects live until the heap is dropped (no
/// collector yet — [`Heap::for_each_object`] is the walk a collector would use).
pub struct Heap {
    chunks: Vec<Chunk>,
    bytes_allocated: usize,
    objects: usize,
    limit: usize,
}

// SAFETY: the heap exclusively owns its chunk memory; no aliasing references escape
// except raw addresses, which safe code cannot dereference.
unsafe impl Send for Heap {}

impl Default for Heap {
    fn default() -> Self {
        Heap::new()
    }
}

fn round_up(n: usize, a: usize) -> Option<usize> {
    n.checked_add(a - 1).map(|x| x & !(a - 1))
}

impl Heap {
    /// An empty heap without a size limit.
    pub fn new() -> Heap {
        Heap {
            chunks: Vec::new(),
            bytes_allocated: 0,
            objects: 0,
            limit: usize::MAX,
        }
    }

    /// An empty heap that refuses to grow beyond `limit` bytes of objects.
    pub fn with_limit(limit: usize) -> Heap {
        let mut h = Heap::new();
        h.limit = limit;
        h
    }

    /// Bytes handed out to objects (including headers and padding).
    pub fn bytes_allocated(&self) -> usize {
        self.bytes_allocated
    }

    /// Bytes reserved from the system allocator.
    pub fn bytes_reserved(&self) -> usize {
        self.chunks.iter().map(|c| c.size).sum()
    }

    /// Number of objects allocated.
    pub fn object_count(&self) -> usize {
        self.objects
    }

    /// Allocates `size` zeroed bytes, 8-byte aligned.
    fn alloc_raw(&mut self, size: usize) -> Result<NonNull<u8>> {
        let size = round_up(size.max(OBJ_HEADER_SIZE), OBJ_ALIGN).ok_or(Error::OutOfMemory {
            requested: size as u64,
        })?;
        if self.bytes_allocated.saturating_add(size) > self.limit {
            return Err(Error::OutOfMemory {
                requested: size as u64,
            });
        }
        let fits = self
            .chunks
            .last()
            .map(|c| c.size - c.used >= size)
            .unwrap_or(false);
        if !fits {
            let csize = size.max(CHUNK_SIZE);
            let layout = Layout::from_size_align(csize, 16).map_err(|_| Error::OutOfMemory {
                requested: size as u64,
            })?;
            // SAFETY: layout has non-zero size (>= OBJ_HEADER_SIZE).
            let p = unsafe { alloc_zeroed(layout) };
            let mem = NonNull::new(p).ok_or(Error::OutOfMemory {
                requested: csize as u64,
            })?;
            self.chunks.push(Chunk {
                mem,
                size: csize,
                used: 0,
            });
        }
        let c = self.chunks.last_mut().ok_or(Error::OutOfMemory {
            requested: size as u64,
        })?;
        // SAFETY: used + size <= c.size, so the result stays inside the chunk.
        let p = unsafe { c.mem.as_ptr().add(c.used) };
        c.used += size;
        self.bytes_allocated += size;
        self.objects += 1;
        // The chunk pointer is non-null and offset within the allocation.
        NonNull::new(p).ok_or(Error::OutOfMemory {
            requested: size as u64,
        })
    }

    fn init(p: NonNull<u8>, mt: &MethodTable) {
        // SAFETY: `p` points to at least OBJ_HEADER_SIZE zeroed, 8-aligned bytes owned
        // by this heap; we write the MT pointer word at +8.
        unsafe {
            (p.as_ptr().add(OBJ_MT_OFFSET) as *mut usize).write(mt as *const MethodTable as usize)
        };
    }

    /// Allocates an instance of a class (or a boxed value type) described by `mt`.
    /// Returns the object address (see the layout diagram).
    pub fn alloc_object(&mut self, mt: &MethodTable) -> Result<usize> {
        if mt.flags & (MT_FLAG_ARRAY | MT_FLAG_STRING) != 0 {
            return Err(Error::TypeLoad {
                ty: mt.info.full_name(),
                reason: "alloc_object on an array or string type".into(),
            });
        }
        if mt.flags & (MT_FLAG_INTERFACE | MT_FLAG_ABSTRACT | MT_FLAG_GENERIC_DEF) != 0 {
            return Err(Error::TypeLoad {
                ty: mt.info.full_name(),
                reason: "cannot instantiate an interface, abstract class or open generic type"
                    .into(),
            });
        }
        let p = self.alloc_raw(mt.base_size as usize)?;
        Self::init(p, mt);
        Ok(p.as_ptr() as usize)
    }

    /// Allocates an SZ array of `len` elements of the array type `mt`.
    pub fn alloc_array(&mut self, mt: &MethodTable, len: usize) -> Result<usize> {
        if mt.flags & MT_FLAG_ARRAY == 0 {
            return Err(Error::TypeLoad {
                ty: mt.info.full_name(),
                reason: "alloc_array on a non-array type".into(),
            });
        }
        let size = len
            .checked_mul(mt.component_size as usize)
            .and_then(|b| b.checked_add(mt.base_size as usize))
            .ok_or(Error::OutOfMemory {
                requested: u64::MAX,
            })?;
        let p = self.alloc_raw(size)?;
        Self::init(p, mt);
        // SAFETY: the allocation is at least ARRAY_DATA_OFFSET bytes (base_size).
        unsafe { (p.as_ptr().add(ARRAY_LENGTH_OFFSET) as *mut u64).write(len as u64) };
        Ok(p.as_ptr() as usize)
    }

    /// Allocates a multi-dimensional array (rank = `lengths.len()`, zero lower bounds).
    pub fn alloc_md_array(&mut self, mt: &MethodTable, lengths: &[u64]) -> Result<usize> {
        if mt.flags & MT_FLAG_ARRAY == 0 || mt.rank as usize != lengths.len() || lengths.is_empty()
        {
            return Err(Error::TypeLoad {
                ty: mt.info.full_name(),
                reason: "alloc_md_array: not an array type of this rank".into(),
            });
        }
        let total = lengths
            .iter()
            .try_fold(1u64, |acc, l| acc.checked_mul(*l))
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(Error::OutOfMemory {
                requested: u64::MAX,
            })?;
        let size = total
            .checked_mul(mt.component_size as usize)
            .and_then(|b| b.checked_add(mt.base_size as usize))
            .ok_or(Error::OutOfMemory {
                requested: u64::MAX,
            })?;
        let p = self.alloc_raw(size)?;
        Self::init(p, mt);
        // SAFETY: base_size = mdarray_data_offset(rank) (types.rs), so the count and
        // the rank lengths lie inside the allocation; all offsets are 8-aligned.
        unsafe {
            (p.as_ptr().add(ARRAY_LENGTH_OFFSET) as *mut u64).write(total as u64);
            let lens = p.as_ptr().add(MDARRAY_LENGTHS_OFFSET) as *mut u64;
            for (i, l) in lengths.iter().enumerate() {
                lens.add(i).write(*l);
            }
        }
        Ok(p.as_ptr() as usize)
    }

    /// Allocates a string with the given UTF-16 contents; `mt` is System.String's.
    pub fn alloc_string(&mut self, mt: &MethodTable, chars: &[u16]) -> Result<usize> {
        if mt.flags & MT_FLAG_STRING == 0 {
            return Err(Error::TypeLoad {
                ty: mt.info.full_name(),
                reason: "alloc_string with a non-string MethodTable".into(),
            });
        }
        let len = i32::try_from(chars.len()).map_err(|_| Error::OutOfMemory {
            requested: chars.len() as u64,
        })?;
        let size = chars
            .len()
            .checked_mul(2)
            .and_then(|b| b.checked_add(STRING_CHARS_OFFSET + 2))
            .ok_or(Error::OutOfMemory {
                requested: u64::MAX,
            })?;
        let p = self.alloc_raw(size)?;
        Self::init(p, mt);
        // SAFETY: the allocation holds STRING_CHARS_OFFSET + 2*len + 2 bytes; the chars
        // area is 4-aligned, so u16 writes are aligned.
        unsafe {
            (p.as_ptr().add(STRING_LENGTH_OFFSET) as *mut i32).write(len);
            let d = p.as_ptr().add(STRING_CHARS_OFFSET) as *mut u16;
            core::ptr::copy_nonoverlapping(chars.as_ptr(), d, chars.len());
        }
        Ok(p.as_ptr() as usize)
    }

    /// Sets header bits of an object owned by this heap.
    pub fn set_header_bits(&mut self, obj: usize, bits: u64) -> Result<()> {
        self.check(obj, OBJ_HEADER_SIZE)?;
        // SAFETY: `check` proved [obj, obj+16) lies in one of our chunks; aligned.
        unsafe { *(obj as *mut u64) |= bits };
        Ok(())
    }

    /// Errors unless `[addr, addr + len)` lies within the used part of one chunk.
    fn check(&self, addr: usize, len: usize) -> Result<()> {
        for c in &self.chunks {
            let start = c.mem.as_ptr() as usize;
            if addr >= start && addr.checked_add(len).is_some_and(|e| e <= start + c.used) {
                return Ok(());
            }
        }
        Err(Error::malformed(
            "object address outside the managed heap",
            addr,
        ))
    }

    /// Copies `len` bytes at `obj + off` out of the heap (bounds-checked against the
    /// heap's chunks, so a bad address is an error, not undefined behaviour).
    pub fn read_bytes(&self, obj: usize, off: usize, len: usize) -> Result<Vec<u8>> {
        let a = obj
            .checked_add(off)
            .ok_or(Error::malformed("object offset", off))?;
        self.check(a, len)?;
        let mut v = alloc::vec![0u8; len];
        // SAFETY: the range is inside a live chunk (checked above).
        unsafe { core::ptr::copy_nonoverlapping(a as *const u8, v.as_mut_ptr(), len) };
        Ok(v)
    }

    /// Writes bytes at `obj + off` (bounds-checked like [`Heap::read_bytes`]).
    pub fn write_bytes(&mut self, obj: usize, off: usize, data: &[u8]) -> Result<()> {
        let a = obj
            .checked_add(off)
            .ok_or(Error::malformed("object offset", off))?;
        self.check(a, data.len())?;
        // SAFETY: the range is inside a live chunk (checked above).
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), a as *mut u8, data.len()) };
        Ok(())
    }

    /// The MethodTable address stored in an object.
    pub fn mt_of(&self, obj: usize) -> Result<usize> {
        let b = self.read_bytes(obj, OBJ_MT_OFFSET, 8)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as usize)
    }

    /// The element count of an array object.
    pub fn array_length(&self, obj: usize) -> Result<u64> {
        let b = self.read_bytes(obj, ARRAY_LENGTH_OFFSET, 8)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    }

    /// The UTF-16 contents of a string object.
    pub fn string_chars(&self, obj: usize) -> Result<Vec<u16>> {
        let b = self.read_bytes(obj, STRING_LENGTH_OFFSET, 4)?;
        let len = i32::from_le_bytes(b.try_into().unwrap_or([0; 4]));
        let len = usize::try_from(len).map_err(|_| Error::malformed("string length", obj))?;
        let raw = self.read_bytes(obj, STRING_CHARS_OFFSET, len * 2)?;
        Ok(raw
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect())
    }

    /// Calls `f(object address, MethodTable address)` for every object, in allocation
    /// order — the heap walk a sweeping collector needs. Object sizes come from the
    /// MethodTables, which must still be alive (they are owned by the type system).
    pub fn for_each_object(&self, mut f: impl FnMut(usize, usize)) {
        for c in &self.chunks {
            let start = c.mem.as_ptr() as usize;
            let mut off = 0usize;
            while off + OBJ_HEADER_SIZE <= c.used {
                let obj = start + off;
                // SAFETY: obj..obj+16 lies in the used part of the chunk; every object
                // starts with a header word and an MT pointer written at allocation.
                let mt = unsafe { *((obj + OBJ_MT_OFFSET) as *const usize) };
                if mt == 0 {
                    break;
                }
                // SAFETY: MT pointers written by this heap point at live MethodTables.
                let m = unsafe { &*(mt as *const MethodTable) };
                let size = if m.flags & MT_FLAG_STRING != 0 {
                    // SAFETY: string objects hold their i32 length at +16.
                    let len = unsafe { *((obj + STRING_LENGTH_OFFSET) as *const i32) } as usize;
                    STRING_CHARS_OFFSET + 2 * len + 2
                } else if m.flags & MT_FLAG_ARRAY != 0 && m.rank > 1 {
                    // SAFETY: multi-dimensional arrays hold their total count at +16.
                    let len = unsafe { *((obj + ARRAY_LENGTH_OFFSET) as *const u64) } as usize;
                    m.base_size as usize + len * m.component_size as usize
                } else if m.flags & MT_FLAG_ARRAY != 0 {
                    // SAFETY: array objects hold their u64 length at +16.
                    let len = unsafe { *((obj + ARRAY_LENGTH_OFFSET) as *const u64) } as usize;
                    m.base_size as usize + len * m.component_size as usize
                } else {
                    m.base_size as usize
                };
                f(obj, mt);
                off += round_up(size.max(OBJ_HEADER_SIZE), OBJ_ALIGN).unwrap_or(c.used);
            }
        }
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        for c in &self.chunks {
            if let Ok(layout) = Layout::from_size_align(c.size, 16) {
                // SAFETY: allocated in alloc_raw with exactly this layout.
                unsafe { dealloc(c.mem.as_ptr(), layout) };
            }
        }
    }
}
