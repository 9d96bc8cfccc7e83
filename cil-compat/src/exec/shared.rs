//! Shared generic code: the instantiations of a generic class over reference
//! types run one compiled body, that of the canonical method
//! (`types/canon.rs`: `List<string>.Add` and `List<object>.Add` both run
//! `List<__Canon>.Add`). ECMA-335 does not prescribe it; the shape is
//! CoreCLR's, without its runtime lookups so far.
//!
//! A shared body is compiled with the canonical method's tokens, and the JIT
//! host (`jithost.rs`, in shared mode) refuses every answer that would differ
//! between the instantiations sharing it: a type handle of a type mentioning
//! `__Canon` (`newobj`, `newarr`, `castclass`, `isinst`, `unbox`, `ldtoken`),
//! a static field of such a type, an interface or generic-method call on one.
//! Layouts never differ (a reference is a reference), so field offsets,
//! element sizes and virtual slots are answered. A refusal makes the
//! canonical method "not shareable" and each instantiation then gets its own
//! specialised code, as before: sharing only ever saves code, it never
//! changes what runs. Shared code therefore needs no generic context today
//! (no hidden argument, no dictionary): its frames, stack maps and exception
//! tables are those of any method, and unwinding names the canonical method.
//!
//! A non-virtual call from shared code to a method of a type mentioning
//! `__Canon` (`this.Grow()` in `List<__Canon>.Add`) calls that method's
//! canonical form directly, which is only right if that too is shared: the
//! callee is compiled first (`shared_callee`), and a refusal there refuses the
//! caller. Mutual recursion between canonical methods is refused
//! conservatively; a method calling itself is fine.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::idmap::IdMap;
use super::{Compiled, Engine};
use crate::metadata::body::EhKind;
use crate::metadata::Token;
use crate::types::MethodId;

/// Nesting of shared compiles started from a shared compile (callees first).
const MAX_NESTED: usize = 16;

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
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing {
            in_progress: Vec::new(),
            refused: IdMap::new(),
            shared_with: IdMap::new(),
            off: false,
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
    pub(super) fn compile_shared(&mut self, m: MethodId) -> Result<Option<u64>, String> {
        if self.sharing.off {
            return Ok(None);
        }
        let canonical = self.ts.method_mentions_canon(m);
        let form = match self.ts.shared_form(m) {
            Ok(f) => f,
            Err(e) if canonical => return Err(format!("{}: {e}", self.method_name(m))),
            Err(_) => None,
        };
        let Some(c) = form else {
            return if canonical {
                Err(format!(
                    "{}: shared code without a shared form",
                    self.method_name(m)
                ))
            } else {
                Ok(None)
            };
        };
        match self.shared_body(c) {
            Ok(addr) => {
                if c != m {
                    self.publish(m, addr);
                    self.sharing.shared_with.insert(m.0, c.0);
                    self.stats.shared_methods += 1;
                }
                Ok(Some(addr))
            }
            Err(e) if canonical => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// The code of canonical method `c`, compiled as shared code on first
    /// need; Err says why it cannot be shared.
    fn shared_body(&mut self, c: MethodId) -> Result<u64, String> {
        let entry = self.ts.method(c).entry.load(Ordering::Acquire);
        if entry != 0 {
            return Ok(entry as u64);
        }
        if let Some(why) = self.sharing.refused.get(c.0) {
            return Err(why.clone());
        }
        if self.sharing.in_progress.contains(&c) || self.sharing.in_progress.len() >= MAX_NESTED {
            // Not remembered: the answer depends on what else is in progress.
            return Err(format!(
                "{}: shared compiles nested too deeply or recursively",
                self.method_name(c)
            ));
        }
        if let Err(why) = self.shared_catch_types(c) {
            self.sharing.refused.insert(c.0, why.clone());
            return Err(why);
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
            self.sharing.refused.insert(c.0, why.clone());
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

    /// Lets shared code call `m` (a method of a type mentioning `__Canon`)
    /// through `m`'s call cell: Ok once `m` runs shared code, Err (the caller
    /// is then refused) when it cannot.
    pub(super) fn shared_callee(&mut self, m: MethodId) -> Result<(), String> {
        let Some(c) = self.ts.shared_form(m).map_err(|e| e.to_string())? else {
            return Err(format!(
                "{}: a callee without shared code",
                self.method_name(m)
            ));
        };
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
