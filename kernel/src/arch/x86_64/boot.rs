//! PVH entry (Xen PVH ABI, `arch-x86/hvm/start_info.h`): the ELF note that makes
//! QEMU `-kernel` jump to us in 32-bit protected mode, and the trampoline into
//! long mode.
//!
//! QEMU enters `pvh_start32` with paging off, flat 32-bit segments and `ebx` =
//! physical address of `hvm_start_info`. The trampoline zeroes `.bss` (QEMU
//! does not), builds a 4 GiB identity map from 2 MiB pages (1 GiB pages are
//! absent on the default TCG CPU), enables PAE + long mode + paging, and far
//! jumps to 64-bit code with `push 0x08; push eax; retf` (an `ljmp` encoding
//! issue with the LLVM assembler is avoided that way). The Rust side replaces
//! this early map with its own tables as soon as memory is known.

use core::arch::global_asm;

/// Size of the boot stack (in `.bss`, with an unmapped guard page below it once
/// the kernel's own page tables are live).
pub const BOOT_STACK_SIZE: usize = 256 * 1024;

global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .balign 4
    .long pvh_start32
    .balign 4

    .section .rodata.boot, "a"
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
boot_gdt_end:
    .balign 16
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    .section .bss.boot, "aw", @nobits
    .balign 4096
    .global boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4096 * 4
    .global boot_stack_guard
boot_stack_guard:
    .skip 4096
    .global boot_stack_bottom
boot_stack_bottom:
    .skip {stack_size}
    .global boot_stack_top
boot_stack_top:

    .section .text.boot, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    mov esi, ebx

    mov edi, offset __bss_start
    mov ecx, offset __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb

    mov eax, offset boot_pdpt
    or eax, 3
    mov dword ptr [boot_pml4], eax

    mov eax, offset boot_pd
    or eax, 3
    mov dword ptr [boot_pdpt], eax
    add eax, 4096
    mov dword ptr [boot_pdpt + 8], eax
    add eax, 4096
    mov dword ptr [boot_pdpt + 16], eax
    add eax, 4096
    mov dword ptr [boot_pdpt + 24], eax

    mov edi, offset boot_pd
    mov eax, 0x83
    mov ecx, 2048
2:
    mov dword ptr [edi], eax
    add eax, 0x200000
    add edi, 8
    dec ecx
    jnz 2b

    mov eax, cr4
    or eax, 0x20
    mov cr4, eax

    mov eax, offset boot_pml4
    mov cr3, eax

    mov ecx, 0xC0000080
    rdmsr
    or eax, 0x100
    wrmsr

    mov eax, cr0
    or eax, 0x80000001
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    push 0x08
    mov eax, offset pvh_start64
    push eax
    retf

    .code64
pvh_start64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    lea rsp, [rip + boot_stack_top]
    xor ebp, ebp
    mov edi, esi
    call kernel_entry
3:
    cli
    hlt
    jmp 3b
    "#,
    stack_size = const BOOT_STACK_SIZE,
);

unsafe extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __data_end: u8;
    static boot_stack_guard: u8;
}

/// Page-aligned parts of the kernel image that need different protection,
/// from the linker script's boundary symbols (`kernel/linker.ld`). Each is a
/// `(start, end)` range, end exclusive; together they cover the whole image.
#[derive(Debug, Clone, Copy)]
pub struct ImageSections {
    /// `.text`: read + execute.
    pub text: (u64, u64),
    /// `.note.Xen`, `.rodata`, relro: read-only.
    pub rodata: (u64, u64),
    /// `.data`, `.bss` (stacks, boot page tables): read-write.
    pub data: (u64, u64),
}

/// The kernel image's text / rodata / data boundaries.
pub fn image_sections() -> ImageSections {
    // `black_box`: the compiler assumes distinct statics have distinct
    // addresses and would fold `__text_end == __rodata_start` to false, but
    // these are boundary symbols that the linker script makes coincide.
    let a = |p: *const u8| core::hint::black_box(p as u64);
    ImageSections {
        text: (a(&raw const __text_start), a(&raw const __text_end)),
        rodata: (a(&raw const __rodata_start), a(&raw const __rodata_end)),
        data: (a(&raw const __data_start), a(&raw const __data_end)),
    }
}

/// Physical (= virtual) range of the loaded kernel image, `.bss` included.
pub fn kernel_image() -> (u64, u64) {
    (
        &raw const __kernel_start as u64,
        &raw const __kernel_end as u64,
    )
}

/// Address of the boot stack's guard page (left unmapped by the kernel tables).
pub fn stack_guard_page() -> u64 {
    &raw const boot_stack_guard as u64
}
