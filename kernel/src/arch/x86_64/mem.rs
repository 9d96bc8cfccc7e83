//! `memcpy`, `memmove`, `memset`, `memcmp` and `bcmp` for the kernel,
//! replacing `compiler_builtins`' versions (which are weak symbols on
//! `x86_64-unknown-none`).
//!
//! Why: those are built on `rep movsq`/`rep stosq` and a byte-compare loop.
//! Under QEMU TCG every iteration of a `rep`-prefixed string instruction is a
//! separate translation-block execution, so copying 8 bytes cost as much as
//! a whole block of ordinary code; profiling the managed driver's start-up
//! (`-d exec`) found memcpy/memset at a tenth of all executed blocks. Here the
//! bulk moves 32 bytes per loop iteration through four registers and only
//! the tail (< 32 bytes) uses `rep movsb`/`rep stosb`; `memcmp` compares
//! eight bytes at a time. On hardware these are fine too (no SSE in the
//! kernel, so 8-byte moves are the widest we have).
//!
//! Contract (SysV AMD64 ABI §3.2): arguments in rdi, rsi, rdx; result in
//! rax; rcx, rdx, rsi, rdi, r8–r11 are caller-saved; the direction flag is
//! clear on entry and exit.

use core::arch::global_asm;

global_asm!(
    r#"
    .text
    .balign 16
    .global memcpy
// void *memcpy(void *dst /*rdi*/, const void *src /*rsi*/, size_t n /*rdx*/)
memcpy:
    mov rax, rdi
    mov rcx, rdx
    shr rcx, 5
    jz 2f
1:
    mov r8, [rsi]
    mov r9, [rsi + 8]
    mov r10, [rsi + 16]
    mov r11, [rsi + 24]
    mov [rdi], r8
    mov [rdi + 8], r9
    mov [rdi + 16], r10
    mov [rdi + 24], r11
    add rsi, 32
    add rdi, 32
    dec rcx
    jnz 1b
2:
    mov rcx, rdx
    and rcx, 31
    rep movsb
    ret

    .balign 16
    .global memmove
// void *memmove(void *dst, const void *src, size_t n): forward unless dst
// lies inside (src, src + n), then backward, 32 bytes per step (all four
// loads before the stores, so overlap inside a step is harmless).
memmove:
    cmp rdi, rsi
    jbe memcpy
    lea r8, [rsi + rdx]
    cmp rdi, r8
    jae memcpy
    mov rax, rdi
    add rsi, rdx
    add rdi, rdx
    mov rcx, rdx
    shr rcx, 5
    jz 2f
1:
    sub rsi, 32
    sub rdi, 32
    mov r8, [rsi + 24]
    mov r9, [rsi + 16]
    mov r10, [rsi + 8]
    mov r11, [rsi]
    mov [rdi + 24], r8
    mov [rdi + 16], r9
    mov [rdi + 8], r10
    mov [rdi], r11
    dec rcx
    jnz 1b
2:
    mov rcx, rdx
    and rcx, 31
    jz 4f
3:
    dec rsi
    dec rdi
    mov r8b, [rsi]
    mov [rdi], r8b
    dec rcx
    jnz 3b
4:
    ret

    .balign 16
    .global memset
// void *memset(void *dst /*rdi*/, int c /*esi*/, size_t n /*rdx*/)
memset:
    mov r9, rdi
    movzx eax, sil
    movabs r8, 0x0101010101010101
    imul rax, r8
    mov rcx, rdx
    shr rcx, 5
    jz 2f
1:
    mov [rdi], rax
    mov [rdi + 8], rax
    mov [rdi + 16], rax
    mov [rdi + 24], rax
    add rdi, 32
    dec rcx
    jnz 1b
2:
    mov rcx, rdx
    and rcx, 31
    rep stosb
    mov rax, r9
    ret

    .balign 16
    .global memcmp
    .global bcmp
// int memcmp(const void *a /*rdi*/, const void *b /*rsi*/, size_t n /*rdx*/):
// eight bytes at a time while equal; the first differing chunk (or the
// tail) byte by byte, which gives the sign of the first differing byte.
memcmp:
bcmp:
    xor eax, eax
1:
    cmp rdx, 8
    jb 2f
    mov r8, [rdi]
    cmp r8, [rsi]
    jne 2f
    add rdi, 8
    add rsi, 8
    sub rdx, 8
    jmp 1b
2:
    test rdx, rdx
    jz 4f
3:
    movzx eax, byte ptr [rdi]
    movzx ecx, byte ptr [rsi]
    sub eax, ecx
    jnz 4f
    inc rdi
    inc rsi
    dec rdx
    jnz 3b
4:
    ret
"#
);
