//! Shared generic code: the instantiations of a generic method or of a
//! generic type's method over reference types run one compiled body, that of
//! the canonical method (`types/canon.rs`: `List<string>.Add` and
//! `List<object>.Add` both run `List<__Canon>.Add`, `First<string>` and
//! `First<object>` both `First<__Canon>`). ECMA-335 does not prescribe it;
//! the shape is CoreCLR's shared generics.
//!
//! A shared body is compiled with the canonical method's tokens. Layouts do
//! not differ between the instantiations sharing it (a reference is a
//! reference), so field offsets, element sizes and virtual slots are
//! answered as usual. What does differ is found at run time from the
//! body's *generic context*:
//! - an instance method of a generic class (not itself generic) has `this`
//!   (no hidden argument): the lookup finds the exact instance of the
//!   body's generic type among `this`'s type and its bases;
//! - every other shared body — a generic method instance (static or
//!   instance, of a class or a struct), a static method of a generic type
//!   (`.cctor` included), an instance method of a generic struct — takes a
//!   *hidden instantiation argument* (`TypeSystem::shared_by_context`): the
//!   exact method's number (CoreCLR passes a method descriptor or a
//!   MethodTable as its "instantiating argument"; here the number names the
//!   dictionary, and the tokens resolve in the exact method). Every exact
//!   method running such a body gets an
//!   *instantiating stub* as its entry (`compile_shared`:
//!   `mov r10, exact; mov r11, body; jmp r11`, `jit::isa::x64::stubs`), so
//!   every way of calling it — direct calls through cells and lazy stubs,
//!   vtable slots and unboxing stubs, interface and generic-virtual
//!   dispatch, `ldftn` and delegates, `call_static0`/`cilrun --invoke-all` —
//!   reaches the body with the context in `Abi::CONTEXT` (r10, SysV's
//!   static chain register: no argument, caller-saved), and the body's
//!   prologue keeps it in a native-int local past the IL's
//!   (`JitHost::context_local`). It is a number, not a GC reference: stack
//!   maps do not report it. A caller in non-shared code calls the exact
//!   method's entry (the stub holds the constant); shared code reaches an
//!   exact callee of this kind through a lookup of its code (the stub),
//!   never the canonical body directly (`shared_callee` refuses it).
//!
//! The JIT asks `JitHost::shared_lookup` (answered in `jithost.rs`), which
//! numbers the token in the body's *dictionary layout* (`Sharing::layouts`:
//! key → (kind, token)), and emits `Helper::GenericLookup(this, body, key)`
//! or `Helper::GenericLookupContext(context, body, key)`
//! (`jit/src/codegen/generic_lookup.rs`). The helpers (`generic_lookup`,
//! `generic_lookup_context` below) answer from the exact instantiation's
//! *dictionary* (`Sharing::dicts`: one array of handles per body and exact
//! type or exact method, filled lazily by resolving the token in the exact
//! method). Lookup kinds: the
//! MethodTable of a type (`castclass`, `isinst`, `unbox.any` of a reference
//! `T`; `box` of a value type mentioning `__Canon`), of its array
//! (`newarr`), of a constructor's class (`newobj`), the
//! exact interface or generic virtual method of a `callvirt` (then called
//! through `Helper::InterfaceLookup`), and the code of an exact callee (a
//! static method, a generic method instance, a method of another generic
//! type that is not shared itself). The handles are MethodTable pointers,
//! type and method numbers, code and static-field addresses;
//! none is a GC reference. The frames,
//! stack maps and exception tables are those of any method, and unwinding
//! (stack traces, fault reports) names the canonical method; stubs only
//! jump, so they are never on the stack.
//!
//! Static fields of such a type are looked up too (their exact address,
//! and the exact class for `Helper::ClassInit`, called before each access).
//!
//! What the host still refuses in shared mode — `ldtoken` of a type
//! mentioning `__Canon`, `unbox` of a value type mentioning it (and any
//! `Nullable<T>` of one), `newobj` of a delegate type mentioning it,
//! `ldftn` of a method that cannot be shared or takes a hidden context, a
//! catch clause naming such a type, a `this`-context body that stores to
//! `this` or takes its address — makes the
//! canonical method "not shareable": each instantiation then gets its own
//! specialised code, as before, so sharing never changes what runs.
//! Generic virtual methods are shared too: dispatch
//! (`Helper::InterfaceLookup`) instantiates the receiver's override and
//! answers its entry, the instantiating stub.
//!
//! A non-virtual call from shared code to a method of a type mentioning
//! `__Canon` (`this.Grow()` in `List<__Canon>.Add`) calls that method's
//! canonical form directly when it is itself shared through `this`: the
//! callee is compiled first (`shared_callee`); when it cannot be (not
//! shareable, taking a hidden context, or mutually recursive with a body
//! being compiled), the call goes through a lookup of the exact callee
//! instead.

use super::EngineError;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use jit::host::LookupKind;

use super::idmap::IdMap;
use super::{Compiled, Engine};
use crate::heap::OBJ_MT_OFFSET;
use crate::metadata::body::EhKind;
use crate::metadata::Token;
use crate::types::{MethodId, TypeId};

/// Nesting of shared compiles started from a shared compile (callees first).
const MAX_NESTED: usize = 16;

/// log2 of the entries of the lookup cache (`Sharing::recent`).
const RECENT_BITS: u32 = 8;

/// The engine's shared-code state.
pub(super) struct Sharing {
    /// Canonical methods being compiled as shared code, innermost last.
    in_progress: Vec<MethodId>,
    /// Canonical methods whose body cannot be shared, and why (their
    /// instantiations get code of their own).
    refused: IdMap<String>,
    /// Exact method → the canonical method whose body it runs.
    shared_with: IdMap<u32>,
    /// Every instantiation gets its own code (for comparisons and tests).
    off: bool,
    /// Per canonical method, what its run-time lookups name: the key the
    /// JIT passes to `Helper::GenericLookup` indexes this (kind, token).
    layouts: IdMap<Vec<(LookupKind, u32)>>,
    /// The dictionaries: per (canonical method, exact owner type), the
    /// handles looked up so far by key (0: not yet), filled lazily.
    dicts: BTreeMap<(u32, u32), Vec<u64>>,
    /// A direct-mapped cache in front of the dictionaries: (`this`'s
    /// MethodTable, body, key, handle). Answers never change, and a loop in
    /// shared code asks the same few again and again.
    recent: Box<[(usize, u32, u32, u64)]>,
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing {
            in_progress: Vec::new(),
            refused: IdMap::new(),
            shared_with: IdMap::new(),
            off: false,
            layouts: IdMap::new(),
            dicts: BTreeMap::new(),
            recent: alloc::vec![(0, 0, 0, 0); 1 << RECENT_BITS].into_boxed_slice(),
        }
    }
}

impl Sharing {
    /// Whether `m` is the shared body being compiled now (the JIT host then
    /// answers in shared mode).
    pub(super) fn compiling(&self, m: MethodId) -> bool {
        self.in_progress.last() == Some(&m)
    }
}

impl Engine {
    /// Routes `m` to shared code when it may run it: `Some(address)` of the
    /// shared body (compiled on first need), `None` when `m` gets code of its
    /// own. A canonical method (one mentioning `__Canon`) has no code but
    /// the shared one: for it a refusal is an error.
    pub(super) fn compile_shared(&mut self, m: MethodId) -> Result<Option<u64>, EngineError> {
        if self.sharing.off {
            return Ok(None);
        }
        let canonical = self.ts.method_mentions_canon(m);
        let form = match self.ts.shared_form(m) {
            Ok(f) => f,
            Err(e) if canonical => {
                return Err(EngineError::Shared(format!("{}: {e}", self.method_name(m))))
            }
            Err(_) => None,
        };
        let Some(c) = form else {
            return if canonical {
                Err(EngineError::Shared(format!(
                    "{}: shared code without a shared form",
                    self.method_name(m)
                )))
            } else {
                Ok(None)
            };
        };
        match self.shared_body(c) {
            Ok(addr) => {
                if c == m {
                    return Ok(Some(addr));
                }
                // The exact method's entry: the body itself when it finds
                // its instantiation through `this`, else a stub passing it.
                let entry = if self.ts.shared_by_context(c) {
                    let stub = jit::isa::x64::stubs::instantiating_stub(m.0 as u64, addr);
                    self.stats.instantiating_stubs += 1;
                    self.mem.install(&stub)?
                } else {
                    addr
                };
                self.publish(m, entry);
                self.sharing.shared_with.insert(m.0, c.0);
                self.stats.shared_methods += 1;
                Ok(Some(entry))
            }
            Err(e) if canonical => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// The code of canonical method `c`, compiled as shared code on first
    /// need; Err says why it cannot be shared.
    fn shared_body(&mut self, c: MethodId) -> Result<u64, EngineError> {
        let entry = self.ts.method(c).entry.load(Ordering::Acquire);
        if entry != 0 {
            return Ok(entry as u64);
        }
        if let Some(why) = self.sharing.refused.get(c.0) {
            return Err(EngineError::Shared(why.clone()));
        }
        if self.sharing.in_progress.contains(&c) || self.sharing.in_progress.len() >= MAX_NESTED {
            // Not remembered: the answer depends on what else is in progress.
            return Err(EngineError::Shared(format!(
                "{}: shared compiles nested too deeply or recursively",
                self.method_name(c)
            )));
        }
        let by_context = self.ts.shared_by_context(c);
        if let Err(why) = self.shared_catch_types(c).and_then(|_| match by_context {
            true => Ok(()),
            false => self.shared_this_kept(c),
        }) {
            self.sharing.refused.insert(c.0, why.clone());
            return Err(EngineError::Shared(why));
        }
        self.sharing.in_progress.push(c);
        // A nested compile (a callee of the shared body being compiled) must
        // leave the outer compile's state as it found it.
        let saved = self.invoke_owner;
        let r = self.compile_own(c);
        self.invoke_owner = saved;
        self.sharing.in_progress.pop();
        if let Err(why) = &r {
            log::debug!("shared generics: {why}; instantiations get their own code");
            self.sharing.refused.insert(c.0, why.to_string());
        }
        r
    }

    /// Refuses a shared body whose catch clauses name a type mentioning
    /// `__Canon`: the unwinder resolves them in the canonical method.
    fn shared_catch_types(&mut self, c: MethodId) -> Result<(), String> {
        let tokens: Vec<u32> = match self.ts.method_body(c) {
            Ok(Some(b)) => {
                b.eh.iter()
                    .filter_map(|k| match k.kind {
                        EhKind::Catch(t) => Some(t.0),
                        _ => None,
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        for tok in tokens {
            let t = self
                .ts
                .resolve_type_in(c, Token(tok))
                .map_err(|e| e.to_string())?;
            if self.ts.mentions_canon(t) {
                return Err(format!(
                    "{}: a catch clause names a type of the instantiation",
                    self.method_name(c)
                ));
            }
        }
        Ok(())
    }

    /// Refuses a shared body that stores to `this` or takes its address:
    /// its run-time lookups read the instantiation from argument 0.
    fn shared_this_kept(&mut self, c: MethodId) -> Result<(), String> {
        let il = match self.ts.method_body(c) {
            Ok(Some(b)) => b.code.to_vec(),
            _ => return Ok(()),
        };
        let instrs = jit::decoder::decode_all(&il).map_err(|e| format!("{e:?}"))?;
        const LDARGA_S: u16 = 0x0F;
        const STARG_S: u16 = 0x10;
        const LDARGA: u16 = 0xFE0A;
        const STARG: u16 = 0xFE0B;
        let writes_this = instrs.iter().any(|i| {
            matches!(i.opcode, LDARGA_S | STARG_S | LDARGA | STARG)
                && i.operand == jit::decoder::Operand::Int(0)
        });
        if writes_this {
            return Err(format!(
                "{}: stores to `this` or takes its address",
                self.method_name(c)
            ));
        }
        Ok(())
    }

    /// The key of a run-time lookup of `token` (of `kind`) in shared body
    /// `c` (see `generic_lookup`).
    pub(super) fn lookup_key(&mut self, c: MethodId, kind: LookupKind, token: u32) -> u32 {
        let l = self.sharing.layouts.get_or_insert_with(c.0, Vec::new);
        match l.iter().position(|e| *e == (kind, token)) {
            Some(i) => i as u32,
            None => {
                l.push((kind, token));
                (l.len() - 1) as u32
            }
        }
    }

    /// The handle `key` of shared body `c` for the instantiation that
    /// object `this` belongs to: from the dictionary, or resolved in the
    /// exact method and remembered there.
    fn lookup_handle(&mut self, this: u64, c: MethodId, key: u32) -> Result<u64, String> {
        // SAFETY: `this` is a live, non-null object (the JIT null-checked
        // it): its MethodTable pointer is at `OBJ_MT_OFFSET`.
        let omt = unsafe { *((this as usize + OBJ_MT_OFFSET) as *const usize) };
        self.lookup_cached(omt, c, key)
    }

    /// The handle `key` of shared body `c` (one taking a hidden context) for
    /// `cx`, that context: the exact method's number.
    fn lookup_context(&mut self, cx: u64, c: MethodId, key: u32) -> Result<u64, String> {
        self.lookup_cached(cx as usize, c, key)
    }

    /// [`Self::lookup_handle`] or [`Self::lookup_context`] through the
    /// cache: `omt` is `this`'s MethodTable or the hidden context (which of
    /// the two is fixed per body `c`, which is part of the cache key).
    fn lookup_cached(&mut self, omt: usize, c: MethodId, key: u32) -> Result<u64, String> {
        let hash =
            (omt as u64 ^ ((c.0 as u64) << 20) ^ key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let slot = (hash >> (64 - RECENT_BITS)) as usize;
        let hit = self.sharing.recent[slot];
        if hit.0 == omt && hit.1 == c.0 && hit.2 == key && hit.3 != 0 {
            return Ok(hit.3);
        }
        let h = self.lookup_slow(omt, c, key)?;
        self.sharing.recent[slot] = (omt, c.0, key, h);
        Ok(h)
    }

    /// [`Self::lookup_handle`] past its cache: for an object whose
    /// MethodTable is `omt`.
    fn lookup_slow(&mut self, omt: usize, c: MethodId, key: u32) -> Result<u64, String> {
        // The dictionary's owner: the exact type (found through `this`), or
        // the exact method (the hidden context).
        let (exact, exact_method) = if self.ts.shared_by_context(c) {
            let m = u32::try_from(omt)
                .ok()
                .filter(|&m| (m as usize) < self.ts.method_count())
                .ok_or("no such generic context")?;
            (TypeId(m), Some(MethodId(m)))
        } else {
            let t = self.ts.type_of_mt(omt).ok_or("`this` is not an object")?;
            let owner = self.ts.method(c).owner;
            let def = self.ts.info(owner).generic_def.ok_or("not generic code")?;
            let exact = self
                .instance_of(t, def)
                .ok_or("`this` is not of the shared type")?;
            (exact, None)
        };
        if let Some(&h) = self
            .sharing
            .dicts
            .get(&(c.0, exact.0))
            .and_then(|d| d.get(key as usize))
        {
            if h != 0 {
                return Ok(h);
            }
        }
        let (kind, token) = *self
            .sharing
            .layouts
            .get(c.0)
            .and_then(|l| l.get(key as usize))
            .ok_or("no such generic lookup")?;
        let m = match exact_method {
            Some(m) => m,
            None => {
                let owner = self.ts.method(c).owner;
                let index = self
                    .ts
                    .info(owner)
                    .methods
                    .iter()
                    .position(|x| *x == c)
                    .ok_or("shared body without a place in its type")?;
                *self
                    .ts
                    .info(exact)
                    .methods
                    .get(index)
                    .ok_or("exact type without the method")?
            }
        };
        let e = |e: crate::Error| e.to_string();
        let h = match kind {
            LookupKind::TypeHandle | LookupKind::ArrayHandle => {
                let t = self.ts.resolve_type_in(m, Token(token)).map_err(e)?;
                // As `jithost::type_info` does for the handles it gives out.
                if !self.ts.info(t).is_value_type() {
                    self.ensure_vtable(t).map_err(|e| e.to_string())?;
                }
                if kind == LookupKind::ArrayHandle {
                    let a = self.ts.array_of(t).map_err(e)?;
                    self.ts.mt_address(a) as u64
                } else {
                    self.ts.mt_address(t) as u64
                }
            }
            LookupKind::NewObjOwner => {
                let ctor = self.ts.resolve_method_in(m, Token(token)).map_err(e)?;
                let o = self.ts.method(ctor).owner;
                self.ensure_vtable(o).map_err(|e| e.to_string())?;
                self.ts.mt_address(o) as u64
            }
            LookupKind::StaticField => {
                let f = self.ts.resolve_field_in(m, Token(token)).map_err(e)?;
                self.ts.static_field_address(f).map_err(e)? as u64
            }
            // `Helper::ClassInit` takes the type's number.
            LookupKind::StaticClass => {
                let f = self.ts.resolve_field_in(m, Token(token)).map_err(e)?;
                self.ts.field(f).owner.0 as u64
            }
            // `Helper::InterfaceLookup` takes the method's number.
            LookupKind::InterfaceCall => {
                self.ts.resolve_method_in(m, Token(token)).map_err(e)?.0 as u64
            }
            // Compiled now (it is about to be called), so the dictionary
            // holds its code rather than a stub every call would go through.
            LookupKind::Call { .. } => {
                let callee = self.ts.resolve_method_in(m, Token(token)).map_err(e)?;
                self.compile(callee).map_err(|e| e.to_string())?
            }
        };
        let n = self.sharing.layouts.get(c.0).map_or(0, |l| l.len());
        let d = self.sharing.dicts.entry((c.0, exact.0)).or_default();
        if d.len() < n {
            d.resize(n, 0);
        }
        d[key as usize] = h;
        Ok(h)
    }

    /// `t` or the nearest base type of it that is an instance of `def`.
    fn instance_of(&self, t: TypeId, def: TypeId) -> Option<TypeId> {
        let mut cur = Some(t);
        for _ in 0..64 {
            let x = cur?;
            if self.ts.info(x).generic_def == Some(def) {
                return Some(x);
            }
            cur = self.ts.info(x).parent;
        }
        None
    }

    /// Lets shared code call `m` (a method of a type mentioning `__Canon`)
    /// through `m`'s call cell: Ok once `m` runs shared code, Err (the caller
    /// is then refused) when it cannot.
    pub(super) fn shared_callee(&mut self, m: MethodId) -> Result<(), EngineError> {
        let Some(c) = self.ts.shared_form(m).map_err(|error| EngineError::Load {
            method: Some(self.method_name(m)),
            error,
        })?
        else {
            return Err(EngineError::Shared(format!(
                "{}: a callee without shared code",
                self.method_name(m)
            )));
        };
        if self.ts.shared_by_context(c) {
            // Its code needs the exact method as a hidden argument, which a
            // direct call to the canonical body would not pass.
            return Err(EngineError::Shared(format!(
                "{}: a callee whose shared code takes a hidden context",
                self.method_name(m)
            )));
        }
        if self.sharing.compiling(c) {
            return Ok(()); // it calls itself
        }
        self.compile(m).map(|_| ())
    }

    /// Turns sharing off (every instantiation then gets code of its own, as
    /// before shared generics) or back on, for methods compiled from now on.
    pub fn set_shared_generics(&mut self, on: bool) {
        self.sharing.off = !on;
    }

    /// Why canonical method `c`'s body could not be shared, once tried.
    pub fn shared_refusal(&self, c: MethodId) -> Option<&str> {
        self.sharing.refused.get(c.0).map(|s| s.as_str())
    }

    /// The canonical method whose shared body `m` runs, if it runs one.
    pub fn shared_with(&self, m: MethodId) -> Option<MethodId> {
        self.sharing.shared_with.get(m.0).map(|c| MethodId(*c))
    }

    /// Whether `m`'s compiled body is shared code (a canonical method).
    pub fn is_shared_body(&self, m: MethodId) -> bool {
        self.ts.method_mentions_canon(m) && self.compiled(m).is_some()
    }

    /// The compiled record of `m`, or of the shared body it runs, with the
    /// canonical method in the second case.
    pub fn compiled_code(&self, m: MethodId) -> Option<(&Compiled, Option<MethodId>)> {
        match self.shared_with(m) {
            Some(c) => self.compiled(c).map(|r| (r, Some(c))),
            None => self.compiled(m).map(|r| (r, None)),
        }
    }
}

/// `Helper::GenericLookupContext(context, method, key)`: the handle `key` of
/// shared body `method` for the instantiation whose hidden context (the
/// exact method's number) is `context`.
pub(super) extern "C" fn generic_lookup_context(context: u64, method: u64, key: u32) -> u64 {
    // SAFETY: JIT code started by the active engine is running (helpers are
    // only called from it).
    let e = unsafe { super::active() };
    match e.lookup_context(context, MethodId(method as u32), key) {
        Ok(h) => h,
        Err(msg) => super::fail::die(e, format!("jit-error {msg}"), method, 0),
    }
}

/// `Helper::GenericLookup(this, method, key)`: the handle `key` of shared
/// body `method` for the instantiation `this` belongs to.
pub(super) extern "C" fn generic_lookup(this: u64, method: u64, key: u32) -> u64 {
    // SAFETY: JIT code started by the active engine is running (helpers are
    // only called from it).
    let e = unsafe { super::active() };
    match e.lookup_handle(this, MethodId(method as u32), key) {
        Ok(h) => h,
        Err(msg) => super::fail::die(e, format!("jit-error {msg}"), method, 0),
    }
}
