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
//!
//! Memory management: objects live in chunks (`chunk.rs`, each with an
//! object-start bitmap) and are carved from size-segregated free lists
//! (`free.rs`); the collector (`crate::gc`) marks, then [`Heap::sweep`]
//! (`sweep.rs`) frees unmarked objects, rebuilds the free lists and returns
//! empty chunks. Objects never move, so addresses handed to native code and DMA
//! stay valid for as long as the object is reachable or pinned by a handle.
//! The heap grows in chunks up to a *budget* (collect before growing past it)
//! and never past its *limit*; see [`Heap::with_limit`].

mod chunk;
mod free;
mod sweep;

use alloc::vec::Vec;
use core::ptr::NonNull;

use crate::error::{Error, Result};
use crate::layout::{
    MethodTableHead, MT_BASE_SIZE_OFFSET, MT_COMPONENT_SIZE_OFFSET, MT_FLAGS_OFFSET,
    MT_FLAG_ABSTRACT, MT_FLAG_ARRAY, MT_FLAG_GENERIC_DEF, MT_FLAG_INTERFACE, MT_FLAG_STRING,
};
use chunk::Chunk;
use free::{FreeLists, MIN_BLOCK};
pub use sweep::SweepResult;

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
/// Header bit: never freed (interned string literals). A pinned object's
/// referents are kept only if it is also a root (literals have none; objects
/// the host keeps hold a [`Handle`], which is a root).
pub const HEADER_PINNED: u64 = 2;
/// Alignment of every object.
pub const OBJ_ALIGN: usize = 8;

/// Size of an ordinary chunk; larger objects get a chunk of their own.
pub const CHUNK_SIZE: usize = 256 * 1024;
/// Default growth budget before the first collection.
pub const DEFAULT_INITIAL_BUDGET: usize = 4 * 1024 * 1024;
/// Default hard limit of a heap made by [`Heap::new`].
pub const DEFAULT_LIMIT: usize = 1 << 30;

/// A strong, pinning handle to an object, held by native code (the host,
/// the kernel, a DMA descriptor): a GC root until [`Heap::free_handle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle(pub u32);

/// Figures about the heap and its collections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Completed collections.
    pub collections: u64,
    /// Sum of collection pauses (ns, 0 without a clock).
    pub total_pause_ns: u64,
    /// Longest pause (ns).
    pub max_pause_ns: u64,
    /// Last pause (ns).
    pub last_pause_ns: u64,
    /// Bytes of objects that survived the last collection.
    pub live_after_last: usize,
    /// Bytes of objects allocated since the heap was made (cumulative).
    pub total_allocated: u64,
    /// Bytes freed by all collections.
    pub total_freed: u64,
    /// Most bytes ever reserved from the system at once.
    pub peak_reserved: usize,
    /// Chunks given back to the system by sweeps.
    pub chunks_released: u64,
}

/// The managed heap. Owns its chunks; see the module docs for the policy.
pub struct Heap {
    /// Sorted by address.
    chunks: Vec<Chunk>,
    free: FreeLists,
    bytes_allocated: usize,
    objects: usize,
    limit: usize,
    budget: usize,
    initial_budget: usize,
    overdraft: bool,
    /// Handle slots: `Some(target)` (0 for null) while allocated.
    handles: Vec<Option<usize>>,
    free_handles: Vec<u32>,
    stats: HeapStats,
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

fn oom(size: usize) -> Error {
    Error::OutOfMemory {
        requested: size as u64,
    }
}

impl Heap {
    /// An empty heap with the default limit ([`DEFAULT_LIMIT`]).
    pub fn new() -> Heap {
        Heap::with_limit(DEFAULT_LIMIT)
    }

    /// An empty heap that never reserves more than `limit` bytes of chunks.
    /// It grows to a budget (initially [`DEFAULT_INITIAL_BUDGET`] or `limit`,
    /// whichever is smaller) and then asks for a collection; after each
    /// collection the budget becomes twice the live data (at least the initial
    /// budget, at most the limit). An allocation that fails at the budget fails
    /// with [`Error::OutOfMemory`]: the owner collects and retries, then
    /// allows one chunk past the budget ([`Heap::allow_overdraft`]) and retries.
    pub fn with_limit(limit: usize) -> Heap {
        let initial = DEFAULT_INITIAL_BUDGET.min(limit);
        Heap {
            chunks: Vec::new(),
            free: FreeLists::new(),
            bytes_allocated: 0,
            objects: 0,
            limit,
            budget: initial,
            initial_budget: initial,
            overdraft: false,
            handles: Vec::new(),
            free_handles: Vec::new(),
            stats: HeapStats::default(),
        }
    }

    /// Sets the budget the heap grows to before it asks for a collection.
    pub fn set_initial_budget(&mut self, bytes: usize) {
        self.initial_budget = bytes.min(self.limit);
        self.budget = self.budget.max(self.initial_budget).min(self.limit);
    }

    /// Changes the hard limit on reserved bytes (chunks already reserved stay).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        self.initial_budget = self.initial_budget.min(limit);
        self.budget = self.budget.min(limit);
    }

    /// The hard limit on reserved bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The current growth budget.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Lets the next chunk be reserved past the budget (never past the
    /// limit): for an allocation a collection could not make room for, or
    /// made where no collection can run. The budget then includes that
    /// chunk, so collections resume as the heap fills further.
    pub fn allow_overdraft(&mut self) {
        self.overdraft = true;
    }

    /// Bytes held by allocated objects (live, or dead but not yet swept),
    /// including headers and padding.
    pub fn bytes_allocated(&self) -> usize {
        self.bytes_allocated
    }

    /// Bytes reserved from the system allocator.
    pub fn bytes_reserved(&self) -> usize {
        self.chunks.iter().map(|c| c.size).sum()
    }

    /// Bytes on the free lists.
    pub fn bytes_free(&self) -> usize {
        self.free.bytes
    }

    /// Number of allocated objects.
    pub fn object_count(&self) -> usize {
        self.objects
    }

    /// Figures about allocation and collections.
    pub fn stats(&self) -> HeapStats {
        self.stats
    }

    /// Records a finished collection's pause (called by the collector).
    pub fn record_pause(&mut self, ns: u64) {
        self.stats.collections += 1;
        self.stats.total_pause_ns += ns;
        self.stats.max_pause_ns = self.stats.max_pause_ns.max(ns);
        self.stats.last_pause_ns = ns;
    }

    // ------------------------------------------------------------- handles

    /// Pins `obj` (an object of this heap, or 0) with a strong handle.
    pub fn alloc_handle(&mut self, obj: usize) -> Result<Handle> {
        if obj != 0 && !self.is_object(obj) {
            return Err(Error::malformed("handle to a non-object", obj));
        }
        if let Some(i) = self.free_handles.pop() {
            self.handles[i as usize] = Some(obj);
            return Ok(Handle(i));
        }
        let i = u32::try_from(self.handles.len()).map_err(|_| oom(0))?;
        self.handles.push(Some(obj));
        Ok(Handle(i))
    }

    /// Points an allocated handle at another object (or 0).
    pub fn set_handle_target(&mut self, h: Handle, obj: usize) -> Result<()> {
        if obj != 0 && !self.is_object(obj) {
            return Err(Error::malformed("handle to a non-object", obj));
        }
        match self.handles.get_mut(h.0 as usize) {
            Some(slot @ Some(_)) => {
                *slot = Some(obj);
                Ok(())
            }
            _ => Err(Error::malformed("freed or unknown handle", h.0 as usize)),
        }
    }

    /// Releases a handle; the object is collectable again once unreachable.
    /// Freeing a freed handle does nothing.
    pub fn free_handle(&mut self, h: Handle) {
        if let Some(slot) = self.handles.get_mut(h.0 as usize) {
            if slot.take().is_some() {
                self.free_handles.push(h.0);
            }
        }
    }

    /// The object a handle pins (`None` for a freed or unknown handle).
    pub fn handle_target(&self, h: Handle) -> Option<usize> {
        self.handles.get(h.0 as usize).copied().flatten()
    }

    /// Objects pinned by handles (GC roots).
    pub fn handle_targets(&self) -> impl Iterator<Item = usize> + '_ {
        self.handles.iter().filter_map(|o| o.filter(|&o| o != 0))
    }

    // ---------------------------------------------------------- allocation

    fn chunk_index(&self, addr: usize) -> Option<usize> {
        let i = self.chunks.partition_point(|c| c.start() <= addr);
        let i = i.checked_sub(1)?;
        self.chunks[i].contains(addr).then_some(i)
    }

    /// Reserves a new chunk able to hold `size` bytes, within the budget.
    fn grow(&mut self, size: usize) -> Result<()> {
        let csize = if size > CHUNK_SIZE / 2 {
            round_up(size, 4096).ok_or_else(|| oom(size))?
        } else {
            CHUNK_SIZE
        };
        let reserved = self.bytes_reserved();
        let want = reserved.saturating_add(csize);
        if want > self.limit || (want > self.budget && !self.overdraft) {
            return Err(oom(size));
        }
        self.overdraft = false;
        self.budget = self.budget.max(want);
        let c = Chunk::new(csize).ok_or_else(|| oom(csize))?;
        let (start, size) = (c.start(), c.size);
        let i = self.chunks.partition_point(|x| x.start() < start);
        self.chunks.insert(i, c);
        self.stats.peak_reserved = self.stats.peak_reserved.max(reserved + csize);
        // SAFETY: a fresh chunk: unused, 16-aligned, at least CHUNK_SIZE bytes.
        unsafe { self.free.push(start, size) };
        Ok(())
    }

    /// Allocates `size` zeroed bytes, 8-byte aligned, as an object start.
    fn alloc_raw(&mut self, size: usize) -> Result<NonNull<u8>> {
        let size = round_up(size.max(MIN_BLOCK), OBJ_ALIGN).ok_or_else(|| oom(size))?;
        let (addr, bsize) = match self.free.take(size) {
            Some(b) => b,
            None => {
                self.grow(size)?;
                self.free.take(size).ok_or_else(|| oom(size))?
            }
        };
        if bsize - size >= MIN_BLOCK {
            // SAFETY: the tail of a free block we own, 8-aligned, >= 16 bytes.
            unsafe { self.free.push(addr + size, bsize - size) };
        }
        // A tail of 8 bytes stays unused until the next sweep reclaims the gap.
        // SAFETY: [addr, addr + size) is a free block of one of our chunks.
        unsafe { core::ptr::write_bytes(addr as *mut u8, 0, size) };
        let ci = self.chunk_index(addr).ok_or_else(|| oom(size))?;
        self.chunks[ci].set_start(addr);
        self.chunks[ci].used_bytes += size;
        self.bytes_allocated += size;
        self.objects += 1;
        self.stats.total_allocated += size as u64;
        NonNull::new(addr as *mut u8).ok_or_else(|| oom(size))
    }

    fn init<M: MethodTableHead>(p: NonNull<u8>, mt: &M) {
        // SAFETY: `p` points to at least OBJ_HEADER_SIZE zeroed, 8-aligned bytes owned
        // by this heap; we write the MT pointer word at +8.
        unsafe { (p.as_ptr().add(OBJ_MT_OFFSET) as *mut usize).write(mt as *const M as usize) };
    }

    /// Allocates an instance of a class (or a boxed value type) described by `mt`.
    /// Returns the object address (see the layout diagram).
    pub fn alloc_object<M: MethodTableHead>(&mut self, mt: &M) -> Result<usize> {
        if mt.flags() & (MT_FLAG_ARRAY | MT_FLAG_STRING) != 0 {
            return Err(Error::TypeLoad {
                ty: mt.type_name(),
                reason: "alloc_object on an array or string type".into(),
            });
        }
        if mt.flags() & (MT_FLAG_INTERFACE | MT_FLAG_ABSTRACT | MT_FLAG_GENERIC_DEF) != 0 {
            return Err(Error::TypeLoad {
                ty: mt.type_name(),
                reason: "cannot instantiate an interface, abstract class or open generic type"
                    .into(),
            });
        }
        let p = self.alloc_raw(mt.base_size() as usize)?;
        Self::init(p, mt);
        Ok(p.as_ptr() as usize)
    }

    /// Allocates an SZ array of `len` elements of the array type `mt`.
    pub fn alloc_array<M: MethodTableHead>(&mut self, mt: &M, len: usize) -> Result<usize> {
        if mt.flags() & MT_FLAG_ARRAY == 0 {
            return Err(Error::TypeLoad {
                ty: mt.type_name(),
                reason: "alloc_array on a non-array type".into(),
            });
        }
        let p = self.alloc_raw(array_size(mt, len)?)?;
        Self::init(p, mt);
        // SAFETY: the allocation is at least ARRAY_DATA_OFFSET bytes (base_size).
        unsafe { (p.as_ptr().add(ARRAY_LENGTH_OFFSET) as *mut u64).write(len as u64) };
        Ok(p.as_ptr() as usize)
    }

    /// Allocates a multi-dimensional array (rank = `lengths.len()`, zero lower bounds).
    pub fn alloc_md_array<M: MethodTableHead>(&mut self, mt: &M, lengths: &[u64]) -> Result<usize> {
        if mt.flags() & MT_FLAG_ARRAY == 0
            || mt.rank() as usize != lengths.len()
            || lengths.is_empty()
        {
            return Err(Error::TypeLoad {
                ty: mt.type_name(),
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
        let p = self.alloc_raw(array_size(mt, total)?)?;
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
    pub fn alloc_string<M: MethodTableHead>(&mut self, mt: &M, chars: &[u16]) -> Result<usize> {
        if mt.flags() & MT_FLAG_STRING == 0 {
            return Err(Error::TypeLoad {
                ty: mt.type_name(),
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

    /// Errors unless `[addr, addr + len)` lies within one allocated object.
    fn check(&self, addr: usize, len: usize) -> Result<()> {
        if let Some(o) = self.containing_object(addr) {
            if addr
                .checked_add(len)
                .is_some_and(|e| e <= o + object_size(o))
            {
                return Ok(());
            }
        }
        Err(Error::malformed(
            "object address outside the managed heap",
            addr,
        ))
    }

    /// Whether `addr` is the start of an allocated object of this heap.
    pub fn is_object(&self, addr: usize) -> bool {
        self.chunk_index(addr)
            .is_some_and(|i| self.chunks[i].is_start(addr))
    }

    /// Whether `addr` lies inside one of the heap's chunks (cheap pre-filter
    /// for conservative roots).
    pub fn in_heap(&self, addr: usize) -> bool {
        self.chunk_index(addr).is_some()
    }

    /// The allocated object whose storage contains `addr` (an object
    /// reference or an interior pointer), if any.
    pub fn containing_object(&self, addr: usize) -> Option<usize> {
        let c = &self.chunks[self.chunk_index(addr)?];
        let o = c.start_at_or_before(addr)?;
        (addr < o + object_size(o)).then_some(o)
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

    /// Calls `f(object address, MethodTable address)` for every allocated
    /// object, in address order within each chunk.
    pub fn for_each_object(&self, mut f: impl FnMut(usize, usize)) {
        for c in &self.chunks {
            for obj in c.objects() {
                // SAFETY: every start bit marks an object whose MT word was
                // written at allocation.
                let mt = unsafe { *((obj + OBJ_MT_OFFSET) as *const usize) };
                f(obj, mt);
            }
        }
    }
}

/// The allocation size of the object at `obj` (rounded as allocated).
pub(crate) fn object_size(obj: usize) -> usize {
    // SAFETY: `obj` is an allocated object (callers check the start bitmap):
    // its MT word points at a live method table (owned by the type system,
    // which outlives the heap's objects) whose head holds the `u32` fields at
    // the `MT_*_OFFSET`s (the `MethodTableHead` contract), and its length
    // fields were written at allocation.
    let size = unsafe {
        let mt = *((obj + OBJ_MT_OFFSET) as *const usize);
        let flags = *((mt + MT_FLAGS_OFFSET) as *const u32);
        let base_size = *((mt + MT_BASE_SIZE_OFFSET) as *const u32) as usize;
        if flags & MT_FLAG_STRING != 0 {
            let len = *((obj + STRING_LENGTH_OFFSET) as *const i32) as usize;
            STRING_CHARS_OFFSET + 2 * len + 2
        } else if flags & MT_FLAG_ARRAY != 0 {
            let len = *((obj + ARRAY_LENGTH_OFFSET) as *const u64) as usize;
            let component_size = *((mt + MT_COMPONENT_SIZE_OFFSET) as *const u32) as usize;
            base_size + len * component_size
        } else {
            base_size
        }
    };
    round_up(size.max(MIN_BLOCK), OBJ_ALIGN).unwrap_or(usize::MAX)
}

/// Bytes of an array of type `mt` holding `count` elements (header, bounds
/// and elements); out of memory when that overflows.
fn array_size<M: MethodTableHead>(mt: &M, count: usize) -> Result<usize> {
    count
        .checked_mul(mt.component_size() as usize)
        .and_then(|b| b.checked_add(mt.base_size() as usize))
        .ok_or(Error::OutOfMemory {
            requested: u64::MAX,
        })
}
