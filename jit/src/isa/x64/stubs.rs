//! Out-of-line thunks the runtime installs: the lazy-compilation stub. A call to a
//! not-yet-compiled method lands here with its arguments in the SysV registers; the
//! stub saves them, asks the runtime for the code address, restores them and jumps
//! there, so the callee sees the original call (same return address, same args).

use super::enc;
use super::regs::{RAX, RDI, RSI};
use crate::masm::AluOp;
use crate::JitErrorKind;
use alloc::vec::Vec;

/// `stub: save args; rax = resolver(cookie); restore args; jmp rax`.
/// `resolver` is `extern "C" fn(cookie: u64) -> u64` (it may compile, and must
/// not return 0). rsp is 16-byte aligned at the inner call.
///
/// Encoded directly (one is made per callee, so it is on the compile path):
/// `push rdi, rsi, rdx, rcx, r8, r9; sub rsp, 136; movdqu [rsp+16*i], xmmi
/// (i = 0..8); mov rdi, cookie; mov rax, resolver; call rax; movdqu xmmi,
/// [rsp+16*i]; add rsp, 136; pop r9, r8, rcx, rdx, rsi, rdi; jmp rax`.
pub fn lazy_stub(cookie: u64, resolver: u64) -> Result<Vec<u8>, JitErrorKind> {
    Ok(lazy_stub_bytes(cookie, resolver).to_vec())
}

/// [`lazy_stub`] without the allocation (one is made per callee): a copy
/// of the compile-time template with the two immediates written in.
pub fn lazy_stub_bytes(cookie: u64, resolver: u64) -> [u8; LAZY_STUB_LEN] {
    let mut c = LAZY_STUB;
    c[LAZY_COOKIE..LAZY_COOKIE + 8].copy_from_slice(&cookie.to_le_bytes());
    c[LAZY_RESOLVER..LAZY_RESOLVER + 8].copy_from_slice(&resolver.to_le_bytes());
    c
}

/// Bytes of the lazy stub.
pub const LAZY_STUB_LEN: usize = 148;
/// Where the stub's `cookie` and `resolver` immediates go.
const LAZY_COOKIE: usize = 8 + 7 + 47 + 2;
const LAZY_RESOLVER: usize = LAZY_COOKIE + 8 + 2;
/// The lazy stub with zero immediates, assembled at compile time.
const LAZY_STUB: [u8; LAZY_STUB_LEN] = lazy_stub_template();

const fn lazy_stub_template() -> [u8; LAZY_STUB_LEN] {
    const fn put(c: &mut [u8; LAZY_STUB_LEN], at: usize, b: &[u8]) -> usize {
        let mut i = 0;
        while i < b.len() {
            c[at + i] = b[i];
            i += 1;
        }
        at + b.len()
    }
    // movdqu: F3 0F 6F (load) / 7F (store), ModR/M reg = xmm i, [rsp+disp8].
    const fn xmm_slots(c: &mut [u8; LAZY_STUB_LEN], mut at: usize, op: u8) -> usize {
        let mut i = 0u8;
        while i < 8 {
            at = put(c, at, &[0xF3, 0x0F, op]);
            at = if i == 0 {
                put(c, at, &[0x04, 0x24])
            } else {
                put(c, at, &[0x44 | i << 3, 0x24, 16 * i])
            };
            i += 1;
        }
        at
    }
    let mut c = [0u8; LAZY_STUB_LEN];
    // entry rsp ≡ 8 (mod 16); 6 pushes keep ≡ 8; 136 more bytes make it ≡ 0.
    let mut at = put(&mut c, 0, &[0x57, 0x56, 0x52, 0x51, 0x41, 0x50, 0x41, 0x51]);
    at = put(&mut c, at, &[0x48, 0x81, 0xEC, 136, 0, 0, 0]);
    at = xmm_slots(&mut c, at, 0x7F);
    at = put(&mut c, at, &[0x48, 0xBF]);
    assert!(at == LAZY_COOKIE);
    at += 8;
    at = put(&mut c, at, &[0x48, 0xB8]);
    assert!(at == LAZY_RESOLVER);
    at += 8;
    at = put(&mut c, at, &[0xFF, 0xD0]);
    at = xmm_slots(&mut c, at, 0x6F);
    at = put(&mut c, at, &[0x48, 0x81, 0xC4, 136, 0, 0, 0]);
    at = put(
        &mut c,
        at,
        &[0x41, 0x59, 0x41, 0x58, 0x59, 0x5A, 0x5E, 0x5F],
    );
    at = put(&mut c, at, &[0xFF, 0xE0]);
    assert!(at == LAZY_STUB_LEN);
    c
}

/// An unboxing stub for a value type's method reached through a boxed object's
/// vtable: moves `this` past the object header, then jumps through `cell`.
/// `this_in_rsi` when the method returns a value type through a hidden buffer
/// (then rdi holds the buffer and rsi `this`).
pub fn unboxing_stub(header: i32, this_in_rsi: bool, cell: u64) -> Result<Vec<u8>, JitErrorKind> {
    // add rdi/rsi, header; mov rax, cell; jmp [rax]
    let mut c = Vec::with_capacity(24);
    let this = if this_in_rsi { RSI } else { RDI };
    enc::alu_ri(&mut c, AluOp::Add, true, this, header);
    enc::mov_r64_imm64(&mut c, RAX, cell);
    c.extend_from_slice(&[0xFF, 0x20]);
    Ok(c)
}

/// An instantiating stub: the entry of one exact instantiation of shared
/// generic code that has no `this` to find it through (a generic method, a
/// static method of a generic type). Leaves the hidden generic `context` in
/// `Abi::CONTEXT` (r10) and jumps to the shared `body`, every argument
/// register and the return address untouched:
/// `mov r10, context; mov r11, body; jmp r11`.
pub fn instantiating_stub(context: u64, body: u64) -> Vec<u8> {
    let mut c = Vec::with_capacity(23);
    enc::mov_r64_imm64(&mut c, super::regs::R10, context);
    enc::mov_r64_imm64(&mut c, super::regs::R11, body);
    c.extend_from_slice(&[0x41, 0xFF, 0xE3]);
    c
}

#[cfg(test)]
mod tests {
    use super::super::asm::Assembler;
    use super::*;
    use iced_x86::code_asm::*;

    /// The lazy stub as iced-x86 assembles it (the reference for the direct bytes).
    fn lazy_stub_iced(cookie: u64, resolver: u64) -> Vec<u8> {
        let mut a = Assembler::new().unwrap();
        let x = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7];
        let c = a.iced().unwrap();
        for r in [rdi, rsi, rdx, rcx, r8, r9] {
            c.push(r).unwrap();
        }
        c.sub(rsp, 136).unwrap();
        for (i, r) in x.iter().enumerate() {
            c.movdqu(xmmword_ptr(rsp + 16 * i as i32), *r).unwrap();
        }
        c.mov(rdi, cookie).unwrap();
        c.mov(rax, resolver).unwrap();
        c.call(rax).unwrap();
        for (i, r) in x.iter().enumerate() {
            c.movdqu(*r, xmmword_ptr(rsp + 16 * i as i32)).unwrap();
        }
        c.add(rsp, 136).unwrap();
        for r in [r9, r8, rcx, rdx, rsi, rdi] {
            c.pop(r).unwrap();
        }
        c.jmp(rax).unwrap();
        a.emitted(Ok(())).unwrap();
        a.assemble().unwrap().0
    }

    #[test]
    fn lazy_stub_matches_iced() {
        for (cookie, resolver) in [
            (1, 2),
            (0x1234_5678_9abc_def0, u64::MAX),
            (0, 0x7f00_0000_1000),
        ] {
            assert_eq!(
                lazy_stub(cookie, resolver).unwrap(),
                lazy_stub_iced(cookie, resolver)
            );
        }
    }

    #[test]
    fn unboxing_stub_matches_iced() {
        for (header, in_rsi, cell) in [(16, false, 0x1000u64), (8, true, u64::MAX), (200, false, 7)]
        {
            let mut a = Assembler::new().unwrap();
            let c = a.iced().unwrap();
            c.add(if in_rsi { rsi } else { rdi }, header).unwrap();
            c.mov(rax, cell).unwrap();
            c.jmp(qword_ptr(rax)).unwrap();
            let want = a.assemble().unwrap().0;
            assert_eq!(unboxing_stub(header, in_rsi, cell).unwrap(), want);
        }
    }

    #[test]
    fn instantiating_stub_matches_iced() {
        for (context, body) in [(1u64, 2u64), (0x1234, 0x7f00_0000_1000), (u64::MAX, 0)] {
            let mut a = Assembler::new().unwrap();
            let c = a.iced().unwrap();
            c.mov(r10, context).unwrap();
            c.mov(r11, body).unwrap();
            c.jmp(r11).unwrap();
            a.emitted(Ok(())).unwrap();
            let want = a.assemble().unwrap().0;
            assert_eq!(instantiating_stub(context, body), want);
        }
    }
}
