//! Calling convention and frame layout of JIT-compiled methods (SysV AMD64 ABI
//! §3.2, with our managed rules for value types).
//!
//! ```text
//!          higher addresses
//!   +---------------------------+
//!   | incoming stack args       |  [rbp + 16 + 8*k]  (7th+ integer / 9th+ float arg)
//!   +---------------------------+
//!   | return address            |  [rbp + 8]
//!   +---------------------------+
//!   | caller's rbp              |  [rbp]          <- rbp
//!   +---------------------------+
//!   | callee-saved save area    |  [rbp - 8] .. [rbp - 40]: rbx, r12..r15,
//!   |                           |  stored only when the allocator used them
//!   +---------------------------+
//!   | homes of register args    |  8 bytes each (value, or pointer to a struct)
//!   | hidden return buffer ptr  |
//!   +---------------------------+
//!   | locals                    |  each 8-aligned, structs at full size,
//!   |                           |  zeroed in the prologue
//!   +---------------------------+
//!   | evaluation-stack homes    |  one home per stack depth, sized by the stack
//!   | + per-instruction temps   |  type (structs rounded up to 8)
//!   +---------------------------+  <- rsp (16-byte aligned after the prologue)
//!   | outgoing stack args       |  pushed by `sub rsp, 16*k` around each call,
//!   | localloc blocks           |  so rsp stays 16-byte aligned at every call
//!   +---------------------------+
//!          lower addresses
//! ```
//!
//! Offsets are laid out for all of it; the frame a method reserves ends at
//! the lowest slot its code (or a stack map) uses, rounded to 16 bytes (a
//! method with exception handlers reserves all of it). A method that keeps
//! everything in registers reserves only its saved registers, which its
//! prologue pushes (`masm.rs`, the pushed form).
//!
//! Arguments: integers, references, pointers in rdi, rsi, rdx, rcx, r8, r9 then
//! the stack; floats in xmm0–xmm7 then the stack (float32 travels as single
//! precision). Managed convention: a value type argument is passed as a pointer
//! to a caller-owned copy (the callee may modify it); a value type result is
//! written through a hidden pointer passed first (rdi) and returned in rax.
//! Native convention (DDK ABI, helpers): plain SysV — value types of up to 8
//! bytes in one integer register, 9–16 bytes in two, results in rax(:rdx).
//! Integer results narrower than 32 bits are re-extended by the caller, since
//! SysV leaves the upper bits of `al`/`ax` undefined (the "bool return" bug).

use super::regs::*;
use crate::host::{CallConv, JitType};
use crate::masm::Abi;
pub use crate::masm::{ArgClass, ArgHome, ArgLoc, CallLayout, Frame};

/// The x86-64 ABI as code generation sees it (`masm::Abi`).
pub struct X64Abi;

impl Abi for X64Abi {
    const ARG_GPRS: &'static [Gpr] = &ARG_GPRS;
    const RET: Gpr = RAX;
    const RET2: Gpr = RDX;
    const FLOAT_RET: Xmm = XMM0;
    const SP: Gpr = RSP;
    const FP: Gpr = RBP;
    const SCRATCH: Gpr = R11;
    const FLOAT_SCRATCH: Xmm = XMM_SCRATCH;
    // SysV's static chain register: no argument, caller-saved.
    const CONTEXT: Gpr = R10;
    const CALLEE_SAVED: &'static [Gpr] = &CALLEE_SAVED;
    const GPR_POOL: &'static [Gpr] = &POOL;
    const XMM_POOL: &'static [Xmm] = &XMM_POOL;
    fn classify(ty: &JitType, conv: CallConv) -> ArgClass {
        classify(ty, conv)
    }
    fn layout(classes: &[ArgClass]) -> CallLayout {
        layout(classes)
    }
    fn frame(args: &[JitType], locals: &[JitType], ret: &JitType) -> Frame {
        frame(args, locals, ret)
    }
    fn save_slot(i: usize) -> i32 {
        save_slot(i)
    }
}

/// rbp-relative slot where the i-th callee-saved register is saved.
pub fn save_slot(i: usize) -> i32 {
    -8 * (i as i32 + 1)
}
/// Bytes of the save area.
pub const SAVE_AREA: i32 = 40;

/// Classification of a parameter type under a convention.
pub fn classify(ty: &JitType, conv: CallConv) -> ArgClass {
    match ty {
        JitType::R4 | JitType::R8 => ArgClass::Float,
        JitType::Struct(s) if conv == CallConv::Native && s.size > 8 => ArgClass::IntPair,
        _ => ArgClass::Int,
    }
}

/// Assigns argument locations in order.
pub fn layout(classes: &[ArgClass]) -> CallLayout {
    let (mut gi, mut xi, mut st) = (0usize, 0usize, 0u32);
    let mut args = smallvec::SmallVec::with_capacity(classes.len());
    for c in classes {
        let loc = match c {
            ArgClass::Int if gi < 6 => {
                gi += 1;
                ArgLoc::Gpr(ARG_GPRS[gi - 1])
            }
            ArgClass::IntPair if gi + 1 < 6 => {
                gi += 2;
                ArgLoc::Gpr2(ARG_GPRS[gi - 2], ARG_GPRS[gi - 1])
            }
            ArgClass::Float if xi < 8 => {
                xi += 1;
                ArgLoc::Xmm(Xmm(xi as u8 - 1))
            }
            ArgClass::IntPair => {
                st += 16;
                ArgLoc::Stack2(st - 16)
            }
            _ => {
                st += 8;
                ArgLoc::Stack(st - 8)
            }
        };
        args.push(loc);
    }
    CallLayout {
        args,
        stack_bytes: (st + 15) & !15,
    }
}

fn round8(n: u32) -> i32 {
    ((n + 7) & !7) as i32
}

/// Lays out the frame of a managed-convention method.
pub fn frame(args: &[JitType], locals: &[JitType], ret: &JitType) -> Frame {
    let struct_ret = ret.is_struct();
    let mut classes: smallvec::SmallVec<[ArgClass; 8]> = smallvec::SmallVec::new();
    if struct_ret {
        classes.push(ArgClass::Int);
    }
    classes.extend(args.iter().map(|t| classify(t, CallConv::Managed)));
    let lay = layout(&classes);
    let mut off = -SAVE_AREA;
    let mut locs = lay.args.into_iter();
    let retbuf = if struct_ret {
        locs.next();
        off -= 8;
        Some(off)
    } else {
        None
    };
    let mut homes = smallvec::SmallVec::with_capacity(args.len());
    let mut arg_locs = smallvec::SmallVec::with_capacity(args.len());
    for t in args {
        let loc = locs.next().unwrap_or(ArgLoc::Stack(0));
        let slot = match loc {
            ArgLoc::Stack(s) | ArgLoc::Stack2(s) => 16 + s as i32,
            _ => {
                off -= 8;
                off
            }
        };
        arg_locs.push(loc);
        homes.push(if t.is_struct() {
            ArgHome::Indirect(slot)
        } else {
            ArgHome::Direct(slot)
        });
    }
    let locals_hi = off;
    let mut lofs = smallvec::SmallVec::with_capacity(locals.len());
    for t in locals {
        off -= round8(t.size().max(1));
        lofs.push(off);
    }
    Frame {
        args: homes,
        arg_locs,
        retbuf,
        locals: lofs,
        locals_lo: off,
        locals_hi,
        eval_base: off,
    }
}
