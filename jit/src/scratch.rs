//! Buffers one compilation uses and the next one reuses: cleared between
//! methods, capacity kept. A compile then allocates little beyond its outputs
//! (code, call sites, IL map, stack maps), which matters twice: allocation was
//! a third of the host's compile time, and in the kernel every distinct
//! allocator path is translated by QEMU's TCG on first use.
//!
//! The caller owns the scratch (the runtime keeps one per engine) and passes
//! it to [`crate::compile_with`]; [`crate::compile`] uses a fresh one. A
//! compile that fails simply leaves some buffers behind empty; nothing in
//! here carries meaning from one method to the next.

use crate::codegen::Recycled;
use crate::decoder::Instr;
use crate::masm::CodeBuffers;
use crate::CallSite;
use alloc::vec::Vec;

/// Reusable per-compile buffers (see the module docs).
#[derive(Default)]
pub struct Scratch {
    pub(crate) instrs: Vec<Instr>,
    pub(crate) starts: Vec<u32>,
    pub(crate) targets: Vec<u32>,
    pub(crate) code: CodeBuffers,
    pub(crate) codegen: Recycled,
    /// `CompiledMethod::call_sites` of the next compile ([`Scratch::reclaim`]).
    pub(crate) call_sites: Vec<CallSite>,
}

impl Scratch {
    /// Takes back the outputs of a compile that the host has finished with —
    /// the machine code once copied into executable memory, the call sites
    /// once patched (or never needed) — so the next compile writes into them
    /// instead of allocating. Only the larger of a kept and a returned buffer
    /// stays.
    pub fn reclaim(&mut self, code: Vec<u8>, call_sites: Vec<CallSite>) {
        if code.capacity() > self.code.out.capacity() {
            self.code.out = code;
        }
        if call_sites.capacity() > self.call_sites.capacity() {
            self.call_sites = call_sites;
        }
    }
}
