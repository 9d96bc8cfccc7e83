//! Out-of-line thunks the runtime installs: the lazy-compilation stub. A call to a
//! not-yet-compiled method lands here with its arguments in the SysV registers; the
//! stub saves them, asks the runtime for the code address, restores them and jumps
//! there, so the callee sees the original call (same return address, same args).

use super::asm::{err, Assembler};
use crate::JitErrorKind;
use alloc::vec::Vec;
use iced_x86::code_asm::*;

/// `stub: save args; rax = resolver(cookie); restore args; jmp rax`.
/// `resolver` is `extern "C" fn(cookie: u64) -> u64` (it may compile, and must
/// not return 0). rsp is 16-byte aligned at the inner call.
pub fn lazy_stub(cookie: u64, resolver: u64) -> Result<Vec<u8>, JitErrorKind> {
    let mut a = Assembler::new()?;
    let x = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7];
    let c = &mut a.a;
    (|| -> Result<(), IcedError> {
        for r in [rdi, rsi, rdx, rcx, r8, r9] {
            c.push(r)?;
        }
        // entry rsp ≡ 8 (mod 16); 6 pushes keep ≡ 8; 136 more bytes make it ≡ 0.
        c.sub(rsp, 136)?;
        for (i, r) in x.iter().enumerate() {
            c.movdqu(xmmword_ptr(rsp + 16 * i as i32), *r)?;
        }
        c.mov(rdi, cookie)?;
        c.mov(rax, resolver)?;
        c.call(rax)?;
        for (i, r) in x.iter().enumerate() {
            c.movdqu(*r, xmmword_ptr(rsp + 16 * i as i32))?;
        }
        c.add(rsp, 136)?;
        for r in [r9, r8, rcx, rdx, rsi, rdi] {
            c.pop(r)?;
        }
        c.jmp(rax)?;
        Ok(())
    })()
    .map_err(err)?;
    Ok(a.assemble()?.0)
}

/// An unboxing stub for a value type's method reached through a boxed object's
/// vtable: moves `this` past the object header, then jumps through `cell`.
/// `this_in_rsi` when the method returns a value type through a hidden buffer
/// (then rdi holds the buffer and rsi `this`).
pub fn unboxing_stub(header: i32, this_in_rsi: bool, cell: u64) -> Result<Vec<u8>, JitErrorKind> {
    let mut a = Assembler::new()?;
    let c = &mut a.a;
    (|| -> Result<(), IcedError> {
        c.add(if this_in_rsi { rsi } else { rdi }, header)?;
        c.mov(rax, cell)?;
        c.jmp(qword_ptr(rax))?;
        Ok(())
    })()
    .map_err(err)?;
    Ok(a.assemble()?.0)
}
