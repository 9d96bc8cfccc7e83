//! What a guarded call ran into: a managed runtime error, a CPU exception,
//! or a refusal by the hosting layer. A leaf below both [`super::guard`],
//! which catches traps, and [`super::report`], which describes them.

use alloc::string::String;

use crate::exec::Failure;

/// How a guarded call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trap {
    /// A managed runtime error (null reference, index out of range, …).
    Managed {
        failure: Failure,
        /// Frame pointer where the runtime noticed it (start of the stack walk).
        rbp: u64,
        rsp: u64,
    },
    /// A CPU exception while the managed code (or a platform call it made) ran.
    Cpu(CpuTrap),
    /// The hosting layer refused what the driver asked of the platform (the
    /// DMA guard, [`super::dma_guard`]).
    Refused {
        what: String,
        /// Frame pointer and stack pointer of the refusing shim (the stack
        /// walk starts there and reaches the managed caller).
        rbp: u64,
        rsp: u64,
    },
}

/// What a fault handler knows about a CPU exception.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuTrap {
    pub vector: u8,
    /// `#PF`, `#GP`, … (the platform's name for the vector).
    pub mnemonic: &'static str,
    pub error_code: u64,
    pub rip: u64,
    pub rsp: u64,
    pub rbp: u64,
    /// CR2 for page faults.
    pub fault_address: Option<u64>,
    /// The platform's reading of the fault (e.g. "write to a read-only page").
    pub cause: String,
}
