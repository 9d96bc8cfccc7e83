//! The execution engine: JIT-compiles methods of a loaded [`TypeSystem`] on first
//! call (through lazy stubs), answers the JIT's questions ([`jithost`]), and
//! provides the runtime helpers JIT code calls ([`helpers`]).
//!
//! Calls between managed methods go through one patchable cell per method (the
//! `CallTarget::Indirect` form): the cell first holds the method's lazy stub, then
//! its compiled code. Vtable slots get stubs when a type's first object is made.
//!
//! Runtime errors and `throw` become managed exceptions dispatched by
//! [`unwind`]; one that no handler takes reaches [`Engine::on_fail`]. The host
//! decides what that does (the `cilrun --invoke-all` child process prints a
//! line and exits; the kernel reports and stops the driver).

mod arrays;
#[cfg(feature = "std")]
pub mod cli;
pub mod csnames;
pub mod error;
mod fail;
pub mod gc;
pub mod helper_table;
pub mod helpers;
mod idmap;
pub mod jithost;
mod math;
mod natives;
mod null_fault;
mod reflect;
mod shared;
mod stackroots;
mod transitions;
pub mod unwind;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicPtr, Ordering};

use jit::host::{JitType, StructLayout};
use jit::{CompiledMethod, MethodInput};

use crate::metadata::sig::Prim;
use crate::types::{MethodId, TypeId, TypeKind, TypeSystem};
use idmap::IdMap;

pub use error::EngineError;

/// Where the platform asks whether a null-page fault is a `NullReferenceException`
/// a managed handler takes (see `null_fault`).
pub use null_fault::null_fault_resume;

/// Where compiled code goes: executable memory supplied by the host (mmap on
/// Linux, W^X pages in the kernel).
pub trait CodeMemory {
    /// Copies `code` into executable memory and returns its address
    /// (16-aligned); [`EngineError::CodeSpace`] when there is no room.
    fn install(&mut self, code: &[u8]) -> Result<u64, EngineError>;
}

/// A runtime error as JIT code reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Error kind as printed after `! ` (`null-reference`, `overflow`, …).
    pub kind: String,
    /// `Ns.Type::Method` where it happened (empty if unknown).
    pub method: String,
    pub il_offset: u32,
    /// Frame pointer of the failing JIT frame (the start of a stack walk),
    /// 0 when unknown.
    pub rbp: u64,
}

/// Counters of the compiler's work.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub methods: u64,
    pub il_bytes: u64,
    pub code_bytes: u64,
    /// Time spent compiling (JIT and install), when the engine has a clock.
    pub compile_ns: u64,
    /// Methods that run another method's shared body instead of code of
    /// their own (`shared.rs`); not counted in `methods`.
    pub shared_methods: u64,
    /// Of those, the ones entered through an instantiating stub (their
    /// shared code takes the exact method as a hidden argument).
    pub instantiating_stubs: u64,
}

/// A compiled method with what `--disasm` needs.
///
/// What a running method needs is kept: where its code is, its frame, its IL
/// map (fault reports), exception regions and stack maps. The machine code
/// itself lives only in code memory ([`Engine::code_bytes`]), and its IL in
/// the assembly: a second copy of each per method made the compile of a
/// large assembly touch a fresh page every few methods.
pub struct Compiled {
    pub addr: u64,
    /// Bytes of machine code at `addr`.
    pub len: u32,
    pub frame_size: u32,
    /// (IL offset, code offset) for every reachable instruction, ascending.
    pub il_map: Vec<(u32, u32)>,
    pub eh: Vec<jit::EhRegion>,
    pub stack_maps: jit::gcmap::StackMaps,
}

/// The engine. Only one may be active at a time (helpers find it through a global).
pub struct Engine {
    pub ts: TypeSystem,
    mem: Box<dyn CodeMemory>,
    // Keyed by MethodId number (`IdMap`): cells, stubs, waiting_slots,
    // unboxing, compiled; type_infos by TypeId number.
    cells: IdMap<*mut u64>,
    stubs: IdMap<u64>,
    /// Lazy stub address -> its method (to call a method directly when only
    /// its `ldftn` value, possibly a stub, is known).
    stub_owner: BTreeMap<u64, u32>,
    /// Vtable slots (type, index) holding a method's lazy stub: patched to
    /// its code once compiled, so virtual calls stop going through the stub.
    waiting_slots: IdMap<Vec<(TypeId, usize)>>,
    /// Interface dispatch answers: (MethodTable, interface method, code or
    /// stub, target method or `IFACE_FINAL` once the address is the final
    /// answer), see `helpers::interface_lookup`.
    pub(crate) iface_cache: Box<[(u64, u64, u64, u32)]>,
    /// Dispatch cells of interface call sites and `isinst`/`castclass`
    /// sites (`dispatch_cell`), in chunks that never move, and how many of
    /// the last chunk are given out.
    dispatch_cells: Vec<Box<[[core::sync::atomic::AtomicU64; 2]]>>,
    dispatch_used: usize,
    /// Types whose `.cctor` threw, with a handle on the exception each
    /// access raises (`run_cctor`).
    type_init_failures: Vec<(TypeId, crate::heap::Handle)>,
    unboxing: IdMap<u64>,
    /// Owner type of the method being compiled (for synthesized delegate IL).
    pub(crate) invoke_owner: Option<TypeId>,
    /// Compiled records, dense; `compiled_at` numbers them by MethodId.
    compiled: Vec<Compiled>,
    compiled_at: IdMap<u32>,
    /// The IL of the method being compiled (a reused buffer).
    jit_il: Vec<u8>,
    /// Native entries by `Ns.Type::Method`, sorted by name (a few dozen,
    /// bound once: a sorted vector, not another `BTreeMap` instantiation).
    natives: Vec<(String, u64)>,
    /// What the JIT was told about a call token: (assembly, token, virtual).
    /// The answers never change once given (callees are reached through
    /// cells, stubs and vtables), and many call sites share tokens.
    /// Indexed by [`call_info_slot`] (assembly, token table, virtual), then
    /// by the token's row.
    /// Boxed: the maps are indexed by token row, so they grow, and a
    /// `CallInfo` is large to move.
    pub(crate) call_infos: Vec<IdMap<Box<jit::host::CallInfo>>>,
    /// Whether a callee may be inlined, and its body if so
    /// (`jit::codegen::inline`), by method id: decided once per callee.
    pub(crate) inline_bodies: IdMap<Option<Box<jit::host::InlineBody>>>,
    /// The JIT's buffers, reused from one compile to the next (`None`
    /// while a compile has them out).
    jit_scratch: Option<Box<jit::Scratch>>,
    /// The compiled method's argument and local types (reused buffers).
    jit_args: Vec<jit::host::JitType>,
    jit_locals: Vec<jit::host::JitType>,
    /// Type facts for the JIT by type id (stable once the type is laid out).
    pub(crate) type_infos: IdMap<jit::host::TypeInfo>,
    /// Called on a runtime error; must not return.
    pub on_fail: fn(&Failure) -> !,
    /// Throws `System.OutOfMemoryException` into the JIT code whose
    /// allocation failed (`unwind::raise_out_of_memory`, passed in so the
    /// allocation helpers need not reach up to the unwinder); returns when
    /// it cannot, and the helper then fails as a runtime error.
    pub(crate) raise_oom: fn(&Engine),
    pub stats: Stats,
    /// Monotonic nanoseconds, if the host has a clock (times compilation).
    pub clock: Option<fn() -> u64>,
    /// Garbage collector state (see [`gc`]).
    pub gc: gc::GcState,
    /// Shared generic code (see [`shared`]).
    sharing: shared::Sharing,
}

/// A type system error with no method to name.
fn load_error(error: crate::Error) -> EngineError {
    EngineError::Load {
        method: None,
        error,
    }
}

/// Where [`Engine::call_infos`] keeps the answer for a call token of assembly
/// `asm`: a (slot, row) pair for the three tables a call names a method with
/// (MethodDef, MemberRef, MethodSpec; ECMA-335 §III.3.19), `None` for any
/// other token (not cached: answered afresh each time, as the answers never
/// change). Dense per-row tables rather than a `BTreeMap` keyed by the tuple.
pub(crate) fn call_info_slot(asm: u32, token: u32, virt: bool) -> Option<(usize, u32)> {
    let table = match token >> 24 {
        0x06 => 0,
        0x0a => 1,
        0x2b => 2,
        _ => return None,
    };
    Some((
        (asm as usize * 3 + table) * 2 + virt as usize,
        token & 0x00ff_ffff,
    ))
}

static ACTIVE: AtomicPtr<Engine> = AtomicPtr::new(core::ptr::null_mut());

fn default_fail(f: &Failure) -> ! {
    panic!(
        "managed runtime error {} in {} at IL_{:04x}",
        f.kind, f.method, f.il_offset
    )
}

impl Engine {
    /// Creates the engine over a loaded type system. Call [`Engine::activate`] once
    /// the engine is at its final address (e.g. boxed) before running code.
    pub fn new(ts: TypeSystem, mem: Box<dyn CodeMemory>) -> Engine {
        let mut e = Engine {
            ts,
            mem,
            cells: IdMap::new(),
            stubs: IdMap::new(),
            stub_owner: BTreeMap::new(),
            waiting_slots: IdMap::new(),
            iface_cache: alloc::vec![(0, 0, 0, 0); 1 << helpers::IFACE_CACHE_BITS]
                .into_boxed_slice(),
            dispatch_cells: Vec::new(),
            dispatch_used: 0,
            type_init_failures: Vec::new(),
            unboxing: IdMap::new(),
            invoke_owner: None,
            compiled: Vec::new(),
            compiled_at: IdMap::new(),
            jit_il: Vec::new(),
            natives: Vec::new(),
            call_infos: Vec::new(),
            inline_bodies: IdMap::new(),
            jit_scratch: Some(Box::default()),
            jit_args: Vec::new(),
            jit_locals: Vec::new(),
            type_infos: IdMap::new(),
            on_fail: default_fail,
            raise_oom: unwind::raise_out_of_memory,
            stats: Stats::default(),
            clock: None,
            gc: gc::GcState::default(),
            sharing: shared::Sharing::default(),
        };
        helper_table::register_natives(&mut e);
        e
    }

    /// Makes this engine the one runtime helpers use.
    pub fn activate(self: &mut Box<Self>) {
        ACTIVE.store(&mut **self as *mut Engine, Ordering::SeqCst);
    }

    /// The engine's stable address (it lives in a `Box`), for [`swap_active`].
    pub fn as_ptr(self: &mut Box<Self>) -> *mut Engine {
        &mut **self as *mut Engine
    }

    /// Binds an InternalCall/P/Invoke method (`Ns.Type::Method`) to native code
    /// (plain SysV: the DDK ABI entries).
    pub fn bind_native(&mut self, name: &str, addr: u64) {
        match self.natives.binary_search_by(|(k, _)| k.as_str().cmp(name)) {
            Ok(i) => self.natives[i].1 = addr,
            Err(i) => self.natives.insert(i, (name.to_string(), addr)),
        }
    }

    pub(crate) fn native(&self, name: &str) -> Option<u64> {
        let i = self
            .natives
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()?;
        Some(self.natives[i].1)
    }

    /// `Ns.Type::Method`.
    pub fn method_name(&self, m: MethodId) -> String {
        let d = self.ts.method(m);
        format!("{}::{}", self.ts.type_name(d.owner), d.name)
    }

    /// A compile error about `m` with generic parameters named as in C#.
    fn cs_error(&self, m: MethodId, e: EngineError) -> EngineError {
        e.in_cs_terms(&|msg| csnames::in_cs_terms(&self.ts, m, msg))
    }

    /// The lazy stub of `m` (created on first request).
    pub fn stub(&mut self, m: MethodId) -> Result<u64, EngineError> {
        let entry = self.ts.method(m).entry.load(Ordering::Acquire);
        if entry != 0 {
            return Ok(entry as u64);
        }
        if let Some(s) = self.stubs.get(m.0) {
            return Ok(*s);
        }
        let code = jit::isa::x64::stubs::lazy_stub_bytes(
            m.0 as u64,
            helpers::compile_entry as *const () as u64,
        );
        let a = self.mem.install(&code)?;
        self.stubs.insert(m.0, a);
        self.stub_owner.insert(a, m.0);
        Ok(a)
    }

    /// What a vtable slot of (boxed) type `t` holds for `m`: its stub, or for a
    /// value type's own method an unboxing stub (`this` = the box + header size).
    pub fn vtable_entry(&mut self, t: TypeId, m: MethodId) -> Result<u64, EngineError> {
        let owner = self.ts.method(m).owner;
        if !(self.ts.info(t).is_value_type() && owner == t) {
            return self.stub(m);
        }
        if let Some(s) = self.unboxing.get(m.0) {
            return Ok(*s);
        }
        let cell = self.cell(m)?;
        let ret = self.ts.method(m).sig.ret;
        let struct_ret = matches!(jit_type(&self.ts, ret)?, JitType::Struct(_));
        let code = jit::isa::x64::stubs::unboxing_stub(
            crate::heap::OBJ_HEADER_SIZE as i32,
            struct_ret,
            cell,
        )
        .map_err(EngineError::Stub)?;
        let a = self.mem.install(&code)?;
        self.unboxing.insert(m.0, a);
        Ok(a)
    }

    /// The call cell of `m`: holds its stub, later its code.
    pub fn cell(&mut self, m: MethodId) -> Result<u64, EngineError> {
        if let Some(c) = self.cells.get(m.0) {
            return Ok(*c as u64);
        }
        let target = self.stub(m)?;
        let c = Box::leak(Box::new(target)) as *mut u64;
        self.cells.insert(m.0, c);
        Ok(c as u64)
    }

    /// Fills empty vtable slots of `t` with stubs of the methods they run.
    /// The type is brought to full readiness first (`TypeSystem::complete`):
    /// every allocation and type handle comes through here.
    pub fn ensure_vtable(&mut self, t: TypeId) -> Result<(), EngineError> {
        self.ts.complete(t).map_err(load_error)?;
        let n = self.ts.info(t).vtable_slots().len();
        for i in 0..n {
            if self.ts.info(t).vtable_slots()[i].load(Ordering::Relaxed) != 0 {
                continue;
            }
            if let Some(m) = self.ts.vtable_method(t, i as u32) {
                if self.ts.method(m).is_abstract() {
                    continue;
                }
                let s = self.vtable_entry(t, m)?;
                self.ts.info(t).vtable_slots()[i].store(s as usize, Ordering::Relaxed);
                if self.stubs.get(m.0) == Some(&s) {
                    self.waiting_slots
                        .get_or_insert_with(m.0, Vec::new)
                        .push((t, i));
                }
            }
        }
        Ok(())
    }

    /// The code address of `m`, compiling it if needed.
    pub fn compile(&mut self, m: MethodId) -> Result<u64, EngineError> {
        // O(1): every call through a lazy stub or an interface lookup asks.
        let entry = self.ts.method(m).entry.load(Ordering::Acquire);
        if entry != 0 {
            return Ok(entry as u64);
        }
        if let Some(addr) = self.compile_shared(m)? {
            return Ok(addr);
        }
        self.compile_own(m)
    }

    /// Compiles `m`'s own body (specialised for its exact instantiation, or
    /// the shared body when `m` is canonical) and publishes it.
    fn compile_own(&mut self, m: MethodId) -> Result<u64, EngineError> {
        // The display name is only formatted when something needs it (native
        // binding, error messages): doing it for every method cost ~5% of
        // compile time.
        let d = self.ts.method(m);
        if let Some(e) = &d.unresolved {
            return Err(EngineError::Load {
                method: Some(self.method_name(m)),
                error: (**e).clone(),
            });
        }
        if d.is_internal_call() || d.pinvoke.is_some() {
            let name = self.method_name(m);
            return self.native(&name).ok_or(EngineError::NotBound(name));
        }
        let body = self.ts.method_body(m).map_err(|error| EngineError::Load {
            method: Some(self.method_name(m)),
            error,
        })?;
        let mut il = core::mem::take(&mut self.jit_il);
        il.clear();
        let (init_locals, eh) = match body {
            Some(b) => {
                il.extend_from_slice(b.code);
                (b.init_locals, eh_clauses(&b.eh))
            }
            None => match self.synthesized_il(m) {
                Some(code) => {
                    il.extend_from_slice(&code);
                    (true, Vec::new())
                }
                None => return Err(EngineError::NoBody(self.method_name(m))),
            },
        };
        let t0 = self.clock.map(|c| c());
        let compiled = self.jit_method(m, &il, init_locals, eh);
        let il_len = il.len();
        self.jit_il = il;
        let code = compiled?;
        let addr = self.mem.install(&code.code)?;
        self.stats.methods += 1;
        self.stats.il_bytes += il_len as u64;
        self.stats.code_bytes += code.code.len() as u64;
        if let (Some(c), Some(t0)) = (self.clock, t0) {
            let ns = c().saturating_sub(t0);
            self.stats.compile_ns += ns;
            log::trace!(
                "jit: {}: {} IL bytes -> {} code bytes in {} us",
                self.method_name(m),
                il_len,
                code.code.len(),
                ns / 1000
            );
        }
        self.publish(m, addr);
        let CompiledMethod {
            code,
            call_sites,
            il_map,
            frame_size,
            eh,
            stack_maps,
        } = code;
        let len = code.len() as u32;
        // Installed, and no call site is repointed later: the buffers go
        // back to the JIT for the next method.
        if let Some(s) = &mut self.jit_scratch {
            s.reclaim(code, call_sites);
        }
        self.compiled_at.insert(m.0, self.compiled.len() as u32);
        self.compiled.push(Compiled {
            addr,
            len,
            frame_size,
            il_map,
            eh,
            stack_maps,
        });
        Ok(addr)
    }

    /// The IL the runtime supplies for a method without a body: a
    /// delegate's `Invoke`.
    fn synthesized_il(&self, m: MethodId) -> Option<Vec<u8>> {
        let d = self.ts.method(m);
        if !(self.is_delegate(d.owner) && d.name == "Invoke") {
            return None;
        }
        let (n, ret) = (d.sig.params.len(), d.sig.ret);
        let returns = Some(ret) != self.ts.prim(crate::metadata::sig::Prim::Void).ok();
        Some(delegate_invoke_il(n, returns))
    }

    /// The IL `m` was compiled from: its body, or what the runtime supplied.
    pub fn compiled_il(&self, m: MethodId) -> Vec<u8> {
        match self.ts.method_body(m) {
            Ok(Some(b)) => b.code.to_vec(),
            _ => self.synthesized_il(m).unwrap_or_default(),
        }
    }

    /// The machine code of a compiled record, read back from code memory.
    pub fn code_bytes(&self, c: &Compiled) -> &[u8] {
        // SAFETY: `install` copied `c.len` bytes to `c.addr` in code memory
        // this engine owns; code memory is readable (RX or RWX) and is never
        // unmapped or reused while the engine lives.
        unsafe { core::slice::from_raw_parts(c.addr as *const u8, c.len as usize) }
    }

    /// Makes `addr` the code of `m`: its call cell, its entry, and the vtable
    /// slots still holding its stub.
    fn publish(&mut self, m: MethodId, addr: u64) {
        if let Some(c) = self.cells.get(m.0) {
            // SAFETY: cells are leaked, 8-byte aligned u64s owned by the engine.
            unsafe { **c = addr };
        }
        self.ts
            .method(m)
            .entry
            .store(addr as usize, Ordering::Release);
        if let Some(slots) = self.waiting_slots.remove(m.0) {
            let stub = self.stubs.get(m.0).copied().unwrap_or(0) as usize;
            for (t, i) in slots {
                let slot = &self.ts.info(t).vtable_slots()[i];
                // Only a slot still holding the stub (nothing else writes them).
                let _ =
                    slot.compare_exchange(stub, addr as usize, Ordering::AcqRel, Ordering::Relaxed);
            }
        }
    }

    /// Compiles `il` (with clauses `eh`) as the body of `m` — its signature,
    /// locals and generic context — the way [`Engine::compile`] would, but
    /// installs nothing and records nothing: the machine code's length, or the
    /// error naming `m`. The JIT fuzzer (`fuzzing::JitBodies`) feeds it
    /// arbitrary bodies; the lazy stubs and cells it creates for callees are
    /// the ones a real compile would create.
    pub fn compile_detached(
        &mut self,
        m: MethodId,
        il: &[u8],
        eh: Vec<jit::EhClause>,
    ) -> Result<usize, EngineError> {
        if let Some(e) = &self.ts.method(m).unresolved {
            return Err(EngineError::Load {
                method: Some(self.method_name(m)),
                error: (**e).clone(),
            });
        }
        self.jit_method(m, il, true, eh).map(|c| c.code.len())
    }

    /// The JIT step of [`Engine::compile`]: the argument, local and return
    /// types of `m`, then `jit::compile` with this engine as the host.
    fn jit_method(
        &mut self,
        m: MethodId,
        il: &[u8],
        init_locals: bool,
        eh: Vec<jit::EhClause>,
    ) -> Result<CompiledMethod, EngineError> {
        let d = self.ts.method(m);
        let (asm, owner, has_this) = (d.asm, d.owner, d.sig.has_this);
        let (params, ret) = (d.sig.params.clone(), d.sig.ret);
        let locals = self
            .ts
            .method_locals(m)
            .map_err(|error| EngineError::Load {
                method: Some(self.method_name(m)),
                error,
            })?;
        let mut local_types = core::mem::take(&mut self.jit_locals);
        local_types.clear();
        let mut args = core::mem::take(&mut self.jit_args);
        args.clear();
        let sig_error = |what: &'static str, e: EngineError| {
            self.cs_error(
                m,
                EngineError::Signature {
                    method: self.method_name(m),
                    what,
                    error: Box::new(e),
                },
            )
        };
        for l in locals {
            local_types.push(jit_type(&self.ts, l).map_err(|e| sig_error("local", e))?);
        }
        if has_this {
            args.push(this_type(&self.ts, owner));
        }
        for p in params {
            args.push(jit_type(&self.ts, p).map_err(|e| sig_error("parameter", e))?);
        }
        let ret = jit_type(&self.ts, ret).map_err(|e| sig_error("return", e))?;
        // Shared code taking a hidden context keeps it in a local of its
        // own, past the IL's (`jit::host::JitHost::context_local`).
        let context_local =
            (self.sharing.compiling(m) && self.ts.shared_by_context(m)).then(|| {
                local_types.push(JitType::I);
                (local_types.len() - 1) as u16
            });
        let input = MethodInput {
            // Filled in below if compilation fails.
            name: "",
            handle: m.0 as u64,
            il,
            args,
            locals: local_types,
            ret,
            init_locals,
            eh,
        };
        self.invoke_owner = Some(owner);
        let code = {
            let d = self.ts.method(m);
            let generic = !d.method_args.is_empty() || !self.ts.info(owner).type_args.is_empty();
            let shared = self.sharing.compiling(m);
            let mut host = jithost::EngineHost {
                e: self,
                asm,
                generic: generic.then_some(m),
                shared,
                context_local,
                lookup_call: None,
                lookup_field: None,
            };
            // Taken out for the compile (the host borrows the engine); a
            // compile nested inside this one starts with a fresh scratch.
            // Boxed, so taking it out and putting it back moves a pointer,
            // not the scratch's inline buffers.
            let mut scratch = host.e.jit_scratch.take().unwrap_or_default();
            let out = jit::compile_with(&mut scratch, &mut host, &input);
            host.e.jit_scratch = Some(scratch);
            out
        };
        self.jit_args = input.args;
        self.jit_locals = input.locals;
        code.map_err(|mut err| {
            err.method = format!(
                "{} (assembly {})",
                self.method_name(m),
                self.ts.assembly_name(asm)
            );
            self.cs_error(m, EngineError::Jit(err))
        })
    }

    /// A fresh dispatch cell for an interface call site, or an `isinst` or
    /// `castclass` site, being compiled (`jit::host::JitHost::dispatch_cell`):
    /// two zeroed words, MethodTable and code, filled by
    /// `helpers::interface_lookup_cached` (or the MethodTable alone, by
    /// `helpers::is_instance_cached`). Cells come
    /// from chunks that never move and live as long as the engine, as the
    /// code that holds their addresses does.
    pub(crate) fn dispatch_cell(&mut self) -> u64 {
        const CHUNK: usize = 64;
        if self.dispatch_cells.is_empty() || self.dispatch_used == CHUNK {
            let chunk: Vec<[core::sync::atomic::AtomicU64; 2]> =
                (0..CHUNK).map(|_| Default::default()).collect();
            self.dispatch_cells.push(chunk.into_boxed_slice());
            self.dispatch_used = 0;
        }
        let chunk = self
            .dispatch_cells
            .last()
            .expect("a chunk was just ensured");
        let cell = &chunk[self.dispatch_used];
        self.dispatch_used += 1;
        cell.as_ptr() as u64
    }

    /// The compiled method whose code holds `addr`, the offset of `addr` in
    /// it, and the IL offset of the instruction there (from the JIT's IL map).
    pub fn locate(&self, addr: u64) -> Option<(MethodId, u32, Option<u32>)> {
        self.compiled_at.iter().find_map(|(m, &i)| {
            let c = &self.compiled[i as usize];
            let off = addr.checked_sub(c.addr)?;
            if off >= c.len as u64 {
                return None;
            }
            let off = off as u32;
            let il = c
                .il_map
                .iter()
                .take_while(|(_, code)| *code <= off)
                .last()
                .map(|(il, _)| *il);
            Some((MethodId(m), off, il))
        })
    }

    /// True for delegate types (runtime-implemented `.ctor`/`Invoke`, §II.14.6).
    pub fn is_delegate(&self, t: TypeId) -> bool {
        let mut cur = self.ts.info(t).parent;
        let mut depth = 0;
        while let Some(c) = cur {
            let n = self.ts.type_name(c);
            if n == "System.MulticastDelegate" || n == "System.Delegate" {
                return true;
            }
            depth += 1;
            if depth > 32 {
                break;
            }
            cur = self.ts.info(c).parent;
        }
        false
    }

    /// Offsets of `Delegate.m_target` and `Delegate.m_method`.
    /// Offset of `Delegate.m_prev` (the chain of a multicast delegate).
    pub fn delegate_prev_field(&self) -> Result<u32, EngineError> {
        let d = self
            .ts
            .find_type("System", "Delegate")
            .ok_or(EngineError::Corlib("corlib has no System.Delegate"))?;
        let p = self
            .ts
            .find_field(d, "m_prev")
            .ok_or(EngineError::Corlib("Delegate.m_prev missing"))?;
        Ok(self.ts.field_offset(p).0)
    }

    pub fn delegate_fields(&self) -> Result<(u32, u32), EngineError> {
        let d = self
            .ts
            .find_type("System", "Delegate")
            .ok_or(EngineError::Corlib("corlib has no System.Delegate"))?;
        let t = self
            .ts
            .find_field(d, "m_target")
            .ok_or(EngineError::Corlib("Delegate.m_target missing"))?;
        let m = self
            .ts
            .find_field(d, "m_method")
            .ok_or(EngineError::Corlib("Delegate.m_method missing"))?;
        Ok((self.ts.field_offset(t).0, self.ts.field_offset(m).0))
    }

    /// The code a native caller should call for `addr`, an `ldftn` value:
    /// a lazy stub's method is compiled and its code returned, anything else
    /// comes back as it is. Saves every call from native code (block-device
    /// callbacks) a trip through the stub and the resolver.
    pub fn direct_entry(&mut self, addr: u64) -> Result<u64, EngineError> {
        match self.stub_owner.get(&addr) {
            Some(&m) => self.compile(MethodId(m)),
            None => Ok(addr),
        }
    }

    /// Every compiled method: id, code address and length (a code map for
    /// profilers and debuggers).
    pub fn code_map(&self) -> Vec<(MethodId, u64, usize)> {
        self.compiled_at
            .iter()
            .map(|(m, &i)| {
                let c = &self.compiled[i as usize];
                (MethodId(m), c.addr, c.len as usize)
            })
            .collect()
    }

    /// Every compiled method's record.
    pub(crate) fn compiled_iter(&self) -> impl Iterator<Item = &Compiled> {
        self.compiled.iter()
    }

    /// A compiled method's record (after [`Engine::compile`]).
    pub fn compiled(&self, m: MethodId) -> Option<&Compiled> {
        let i = *self.compiled_at.get(m.0)?;
        self.compiled.get(i as usize)
    }

    /// Runs the `.cctor` of `t` once (ECMA-335 §II.10.5.3). An exception it
    /// does not catch is caught here (`unwind::call_catching`): the type is
    /// marked failed and `EngineError::TypeInit` returned, now and on every
    /// later access, with the `TypeInitializationException` that wraps the
    /// exception kept for the type (§II.10.5.3.3, [`Engine::type_init_failure`]).
    pub fn run_cctor(&mut self, t: TypeId) -> Result<(), EngineError> {
        use crate::types::{CCTOR_DONE, CCTOR_FAILED, CCTOR_PENDING, CCTOR_RUNNING};
        let st = self.ts.mt(t).cctor_state.load(Ordering::SeqCst);
        if st == CCTOR_FAILED {
            return Err(EngineError::TypeInit(self.ts.type_name(t)));
        }
        if st != CCTOR_PENDING {
            return Ok(());
        }
        // Its static storage, which the initializer writes.
        self.ts.complete(t).map_err(load_error)?;
        self.ts.set_cctor_state(t, CCTOR_RUNNING);
        if let Some(c) = self.ts.info(t).cctor {
            let addr = self.compile(c)?;
            // SAFETY: a compiled static void() method of this engine, which
            // is active (the caller runs managed code or is about to).
            let exc = unsafe { unwind::call_catching(addr) };
            if exc != 0 {
                // The wrapper if it can be made (else the exception itself),
                // held by a handle for as long as the engine lives.
                let failure = unwind::type_initialization_exception(self, t, exc).unwrap_or(exc);
                if let Ok(h) = self.ts.heap_mut().alloc_handle(failure as usize) {
                    self.type_init_failures.push((t, h));
                }
                self.ts.set_cctor_state(t, CCTOR_FAILED);
                return Err(EngineError::TypeInit(self.ts.type_name(t)));
            }
        }
        self.ts.set_cctor_state(t, CCTOR_DONE);
        Ok(())
    }

    /// The exception every access to `t` raises since its `.cctor` threw
    /// (a `System.TypeInitializationException` wrapping what it threw).
    pub fn type_init_failure(&self, t: TypeId) -> Option<u64> {
        let h = self.type_init_failures.iter().find(|(f, _)| *f == t)?.1;
        self.ts.heap().handle_target(h).map(|o| o as u64)
    }

    /// Calls a static parameterless method.
    ///
    /// # Safety
    /// The engine must be active, and `m` must be static with no parameters.
    pub unsafe fn call_static0(&mut self, m: MethodId) -> Result<RetVal, EngineError> {
        let d = self.ts.method(m);
        let (owner, ret) = (d.owner, d.sig.ret);
        let ret = jit_type(&self.ts, ret)?;
        // Managed frames (the cctor's, the method's) live below this local:
        // the collector scans the stack up to here.
        let anchor = 0u64;
        let _entry = gc::enter_managed(core::hint::black_box(&anchor) as *const u64 as usize);
        self.run_cctor(owner)?;
        let addr = self.compile(m)? as usize;
        // SAFETY (all arms): addr is compiled SysV code taking no arguments and
        // returning `ret` (the caller's contract).
        Ok(match ret {
            JitType::Void => {
                // SAFETY: addr is compiled SysV code for `m`, static, no parameters, returning `ret`.
                let f: extern "C" fn() = unsafe { core::mem::transmute(addr) };
                f();
                RetVal::Void
            }
            JitType::R4 => {
                // SAFETY: addr is compiled SysV code for `m`, static, no parameters, returning `ret`.
                let f: extern "C" fn() -> f32 = unsafe { core::mem::transmute(addr) };
                RetVal::F32(f())
            }
            JitType::R8 => {
                // SAFETY: addr is compiled SysV code for `m`, static, no parameters, returning `ret`.
                let f: extern "C" fn() -> f64 = unsafe { core::mem::transmute(addr) };
                RetVal::F64(f())
            }
            _ => {
                // SAFETY: addr is compiled SysV code for `m`, static, no parameters, returning `ret`.
                let f: extern "C" fn() -> u64 = unsafe { core::mem::transmute(addr) };
                RetVal::Int(f())
            }
        })
    }
}

/// A returned value, raw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RetVal {
    Void,
    /// rax as returned (narrow types are not re-extended).
    Int(u64),
    F32(f32),
    F64(f64),
}

/// The JIT's view of a body's clauses (ranges as `[start, end)`).
pub(crate) fn eh_clauses(eh: &[crate::metadata::body::EhClause]) -> Vec<jit::EhClause> {
    use crate::metadata::body::EhKind as K;
    eh.iter()
        .map(|c| jit::EhClause {
            kind: match c.kind {
                K::Catch(t) => jit::EhKind::Catch(t.0),
                K::Filter(f) => jit::EhKind::Filter(f),
                K::Finally => jit::EhKind::Finally,
                K::Fault => jit::EhKind::Fault,
            },
            try_start: c.try_offset,
            try_end: c.try_offset.saturating_add(c.try_length),
            handler_start: c.handler_offset,
            handler_end: c.handler_offset.saturating_add(c.handler_length),
        })
        .collect()
}

/// Synthetic tokens used by runtime-generated IL (never valid metadata tokens:
/// table 0x7E does not exist).
pub const SYN_DELEGATE_TARGET: u32 = 0x7E00_0001;
pub const SYN_DELEGATE_METHOD: u32 = 0x7E00_0002;
pub const SYN_INVOKE_INSTANCE_SIG: u32 = 0x7E00_0003;
pub const SYN_INVOKE_STATIC_SIG: u32 = 0x7E00_0004;
/// `Delegate.m_prev`: the rest of a multicast delegate's invocation list.
pub const SYN_DELEGATE_PREV: u32 = 0x7E00_0005;
/// The `Invoke` being compiled (a multicast delegate invokes its `m_prev` first).
pub const SYN_SELF_INVOKE: u32 = 0x7E00_0006;

/// IL of a delegate's `Invoke` with `n` parameters:
/// `m_target != null ? m_method(m_target, args…) : m_method(args…)` through `calli`.
fn delegate_invoke_il(n: usize, returns: bool) -> Vec<u8> {
    let mut il = Vec::new();
    let tok = |il: &mut Vec<u8>, op: u8, t: u32| {
        il.push(op);
        il.extend_from_slice(&t.to_le_bytes());
    };
    let ldarg = |il: &mut Vec<u8>, k: usize| {
        il.extend_from_slice(&[0xFE, 0x09]);
        il.extend_from_slice(&(k as u16).to_le_bytes());
    };
    // A combined delegate is a chain: `m_prev` holds the earlier entries of its
    // invocation list. Invoke them first (their result is dropped: a multicast
    // delegate returns its last target's result, ECMA-335 §II.14.6).
    ldarg(&mut il, 0);
    tok(&mut il, 0x7B, SYN_DELEGATE_PREV);
    il.push(0x39); // brfalse <single>
    let fix_prev = il.len();
    il.extend_from_slice(&[0; 4]);
    let after_prev = il.len();
    ldarg(&mut il, 0);
    tok(&mut il, 0x7B, SYN_DELEGATE_PREV);
    for k in 1..=n {
        ldarg(&mut il, k);
    }
    tok(&mut il, 0x28, SYN_SELF_INVOKE); // call
    if returns {
        il.push(0x26); // pop
    }
    let single = il.len();
    il[fix_prev..fix_prev + 4].copy_from_slice(&((single - after_prev) as i32).to_le_bytes());
    ldarg(&mut il, 0);
    tok(&mut il, 0x7B, SYN_DELEGATE_TARGET); // ldfld m_target
    il.push(0x39); // brfalse <static>
    let fix = il.len();
    il.extend_from_slice(&[0; 4]);
    let after_branch = il.len();
    ldarg(&mut il, 0);
    tok(&mut il, 0x7B, SYN_DELEGATE_TARGET);
    for k in 1..=n {
        ldarg(&mut il, k);
    }
    ldarg(&mut il, 0);
    tok(&mut il, 0x7B, SYN_DELEGATE_METHOD);
    tok(&mut il, 0x29, SYN_INVOKE_INSTANCE_SIG); // calli
    il.push(0x2A);
    let target = il.len();
    il[fix..fix + 4].copy_from_slice(&((target - after_branch) as i32).to_le_bytes());
    for k in 1..=n {
        ldarg(&mut il, k);
    }
    ldarg(&mut il, 0);
    tok(&mut il, 0x7B, SYN_DELEGATE_METHOD);
    tok(&mut il, 0x29, SYN_INVOKE_STATIC_SIG);
    il.push(0x2A);
    il
}

/// Helpers reach the active engine here.
///
/// # Safety
/// Only while JIT code started by the active engine runs (single-threaded).
pub(crate) unsafe fn active<'a>() -> &'a mut Engine {
    // SAFETY: set by `activate` to a boxed engine that outlives the code it runs.
    unsafe { &mut *ACTIVE.load(Ordering::SeqCst) }
}

/// Makes `e` the engine runtime helpers use and returns the previous one.
/// Several engines may exist (a driver reloaded from its assemblies runs on a
/// fresh one); whoever calls into JIT code activates that code's engine
/// first and restores the previous one after.
///
/// # Safety
/// `e` must be null or point to a live engine that stays alive while active.
pub unsafe fn swap_active(e: *mut Engine) -> *mut Engine {
    ACTIVE.swap(e, Ordering::SeqCst)
}

/// The active engine, if one is active (fault reporting reads it).
///
/// # Safety
/// As for [`active`]: nothing else may be using the engine mutably while the
/// result is used (fault handlers run while JIT code is stopped).
pub unsafe fn try_active<'a>() -> Option<&'a Engine> {
    let p = ACTIVE.load(Ordering::SeqCst);
    // SAFETY: set by `activate` to a boxed engine that outlives its code.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// The active engine for a runtime service that must compile (see
/// [`Engine::direct_entry`]); `None` when no engine is active.
///
/// # Safety
/// As for [`active`]: only from code JIT code of the active engine called.
pub unsafe fn try_active_mut<'a>() -> Option<&'a mut Engine> {
    let p = ACTIVE.load(Ordering::SeqCst);
    // SAFETY: set by `activate` to a boxed engine that outlives its code.
    (!p.is_null()).then(|| unsafe { &mut *p })
}

/// The JIT type of a location holding a `t`.
pub fn jit_type(ts: &TypeSystem, t: TypeId) -> Result<JitType, EngineError> {
    let info = ts.info(t);
    if ts.prim(Prim::Void).ok() == Some(t) {
        return Ok(JitType::Void);
    }
    Ok(match info.kind {
        TypeKind::Primitive(p) => prim_type(p),
        TypeKind::Enum => {
            let f = info
                .fields
                .iter()
                .copied()
                .find(|f| !ts.field(*f).is_static())
                .ok_or_else(|| EngineError::EnumWithoutValue(ts.type_name(t)))?;
            jit_type(ts, ts.field(f).ty)?
        }
        TypeKind::ValueType => {
            let l = ts.value_layout(t).map_err(|error| EngineError::Load {
                method: None,
                error,
            })?;
            JitType::Struct(StructLayout {
                size: l.size,
                align: l.align,
                handle: ts.mt_address(t) as u64,
            })
        }
        TypeKind::Class
        | TypeKind::Interface
        | TypeKind::String
        | TypeKind::SzArray
        | TypeKind::Array => JitType::Obj,
        TypeKind::Ptr | TypeKind::FnPtr => JitType::Ptr,
        TypeKind::ByRef => JitType::ByRef,
        TypeKind::GenericParam { .. } => {
            return Err(EngineError::OpenGeneric {
                name: ts.type_name(t),
                in_cs: None,
            })
        }
    })
}

fn prim_type(p: Prim) -> JitType {
    match p {
        Prim::Void => JitType::Void,
        Prim::Boolean => JitType::Bool,
        Prim::Char => JitType::Char,
        Prim::I1 => JitType::I1,
        Prim::U1 => JitType::U1,
        Prim::I2 => JitType::I2,
        Prim::U2 => JitType::U2,
        Prim::I4 => JitType::I4,
        Prim::U4 => JitType::U4,
        Prim::I8 => JitType::I8,
        Prim::U8 => JitType::U8,
        Prim::R4 => JitType::R4,
        Prim::R8 => JitType::R8,
        Prim::I => JitType::I,
        Prim::U => JitType::U,
        Prim::String | Prim::Object => JitType::Obj,
        Prim::TypedByRef => JitType::Struct(StructLayout {
            size: 16,
            align: 8,
            handle: 0,
        }),
    }
}

/// `this` of an instance method of `owner`: a managed pointer for value types.
pub fn this_type(ts: &TypeSystem, owner: TypeId) -> JitType {
    if ts.info(owner).is_value_type() {
        JitType::ByRef
    } else {
        JitType::Obj
    }
}
