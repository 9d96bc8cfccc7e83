//! x86-64 register file as the JIT sees it: numbering, the allocatable pools and
//! the scratch registers codegen may clobber between values (SysV AMD64 ABI §3.2.1).

pub use crate::masm::{Gpr, Xmm};

pub const RAX: Gpr = Gpr(0);
pub const RCX: Gpr = Gpr(1);
pub const RDX: Gpr = Gpr(2);
pub const RBX: Gpr = Gpr(3);
pub const RSP: Gpr = Gpr(4);
pub const RBP: Gpr = Gpr(5);
pub const RSI: Gpr = Gpr(6);
pub const RDI: Gpr = Gpr(7);
pub const R8: Gpr = Gpr(8);
pub const R9: Gpr = Gpr(9);
pub const R10: Gpr = Gpr(10);
pub const R11: Gpr = Gpr(11);
pub const R12: Gpr = Gpr(12);
pub const R13: Gpr = Gpr(13);
pub const R14: Gpr = Gpr(14);
pub const R15: Gpr = Gpr(15);

/// SysV integer argument registers, in order.
pub const ARG_GPRS: [Gpr; 6] = [RDI, RSI, RDX, RCX, R8, R9];
/// Callee-saved registers the JIT may allocate (saved in the prologue when used).
pub const CALLEE_SAVED: [Gpr; 5] = [RBX, R12, R13, R14, R15];
/// Caller-saved registers a method without calls may keep variables in
/// (`jit::assign_registers`); while they hold variables they leave `POOL`.
pub const LEAF_EXTRA: [Gpr; 3] = [R8, R9, R10];
/// Registers values may live in, caller-saved first. rax, rcx, rdx and r11 are
/// never allocated: they are the fixed scratch registers of division, shifts,
/// calls and copies, so those sequences never have to move live values.
pub const POOL: [Gpr; 10] = [RSI, RDI, R8, R9, R10, RBX, R12, R13, R14, R15];
/// SSE registers values may live in (xmm0 carries args/results, xmm15 is scratch).
pub const XMM_POOL: [Xmm; 14] = [
    Xmm(1),
    Xmm(2),
    Xmm(3),
    Xmm(4),
    Xmm(5),
    Xmm(6),
    Xmm(7),
    Xmm(8),
    Xmm(9),
    Xmm(10),
    Xmm(11),
    Xmm(12),
    Xmm(13),
    Xmm(14),
];
pub const XMM0: Xmm = Xmm(0);
pub const XMM_SCRATCH: Xmm = Xmm(15);
