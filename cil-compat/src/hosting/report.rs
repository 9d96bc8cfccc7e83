//! Fault reports: what failed, in which managed method, at which IL offset,
//! and the managed call stack, reconstructed from the JIT's frame-pointer
//! chain (every JIT frame keeps `[rbp]` = caller's rbp and `[rbp+8]` = return
//! address, see `jit::isa::x64::abi`) and its IL maps.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::trap::Trap;
use crate::exec::Engine;

/// One managed frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// `Ns.Type::Method`.
    pub method: String,
    pub il_offset: Option<u32>,
    /// Offset into the method's machine code (None when only the IL is known).
    pub native_offset: Option<u32>,
}

/// A contained driver failure, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultReport {
    /// One line: the kind of failure and the machine facts.
    pub what: String,
    /// Innermost first.
    pub frames: Vec<Frame>,
    /// True for a CPU exception, false for a managed runtime error.
    pub cpu: bool,
}

impl FaultReport {
    /// The innermost managed frame, if any was found.
    pub fn top(&self) -> Option<&Frame> {
        self.frames.first()
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}", self.method)?;
        match self.il_offset {
            Some(il) => write!(f, " IL_{il:04x}")?,
            None => write!(f, " IL_????")?,
        }
        if let Some(n) = self.native_offset {
            write!(f, " (+0x{n:x})")?;
        }
        Ok(())
    }
}

impl fmt::Display for FaultReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.what)?;
        if self.frames.is_empty() {
            write!(f, "\n  (no managed frame found)")?;
        }
        for fr in &self.frames {
            write!(f, "\n  {fr}")?;
        }
        Ok(())
    }
}

const MAX_FRAMES: usize = 64;

/// Return addresses of JIT frames on the chain from `rbp`, staying inside
/// `[lo, hi)` (the stack of the guarded call): every word read is checked to
/// lie there first, so a corrupt chain ends the walk instead of faulting.
fn walk(e: &Engine, mut rbp: u64, lo: u64, hi: u64) -> Vec<Frame> {
    let mut out = Vec::new();
    while out.len() < MAX_FRAMES {
        if rbp < lo || rbp.saturating_add(16) > hi || !rbp.is_multiple_of(8) {
            break;
        }
        // SAFETY: [rbp, rbp+16) lies inside the live stack region [lo, hi)
        // of the current thread (checked above), mapped and readable.
        let (next, ret) = unsafe { ((rbp as *const u64).read(), ((rbp + 8) as *const u64).read()) };
        if let Some((m, off, il)) = e.locate(ret.wrapping_sub(1)) {
            out.push(Frame {
                method: e.method_name(m),
                il_offset: il,
                native_offset: Some(off),
            });
        }
        if next <= rbp {
            break;
        }
        rbp = next;
    }
    out
}

/// A report without an engine to consult (no managed frames).
pub fn bare(trap: &Trap) -> FaultReport {
    match trap {
        Trap::Managed { failure, .. } => FaultReport {
            what: format!("managed runtime error: {}", failure.kind),
            frames: Vec::new(),
            cpu: false,
        },
        Trap::Cpu(c) => FaultReport {
            what: format!("CPU exception {} at RIP 0x{:x}", c.mnemonic, c.rip),
            frames: Vec::new(),
            cpu: true,
        },
        Trap::Refused { what, .. } => FaultReport {
            what: what.clone(),
            frames: Vec::new(),
            cpu: false,
        },
    }
}

/// Builds the report for `trap`; `stack_top` bounds the walk (the guarded
/// call's frame).
pub fn build(e: &Engine, trap: &Trap, stack_top: u64) -> FaultReport {
    match trap {
        Trap::Managed { failure, rbp, rsp } => {
            let mut frames = Vec::new();
            if !failure.method.is_empty() {
                frames.push(Frame {
                    method: failure.method.clone(),
                    il_offset: Some(failure.il_offset),
                    native_offset: None,
                });
            }
            let mut walked = walk(e, *rbp, *rsp, stack_top);
            // The first JIT frame on the chain is the failing method itself
            // (it called the runtime helper that reported the failure).
            if !frames.is_empty() && walked.first().map(|f| &f.method) == Some(&failure.method) {
                walked.remove(0);
            }
            frames.extend(walked);
            FaultReport {
                what: format!("managed runtime error: {}", failure.kind),
                frames,
                cpu: false,
            }
        }
        Trap::Cpu(c) => {
            let mut frames = Vec::new();
            let mut what = format!(
                "CPU exception {} (vector {}, error code 0x{:x}) at RIP 0x{:x}",
                c.mnemonic, c.vector, c.error_code, c.rip
            );
            if let Some(a) = c.fault_address {
                what.push_str(&format!(", address 0x{a:x}"));
            }
            if !c.cause.is_empty() {
                what.push_str(&format!(": {}", c.cause));
            }
            match e.locate(c.rip) {
                Some((m, off, il)) => frames.push(Frame {
                    method: e.method_name(m),
                    il_offset: il,
                    native_offset: Some(off),
                }),
                None => what.push_str(" (in platform code called by the driver)"),
            }
            frames.extend(walk(e, c.rbp, c.rsp, stack_top));
            FaultReport {
                what,
                frames,
                cpu: true,
            }
        }
        Trap::Refused { what, rbp, rsp } => FaultReport {
            what: what.clone(),
            frames: walk(e, *rbp, *rsp, stack_top),
            cpu: false,
        },
    }
}
