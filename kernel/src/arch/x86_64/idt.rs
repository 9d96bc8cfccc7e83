//! IDT with a handler for every CPU exception, vectors 0..=31 (SDM vol. 3A §6.3,
//! §6.15). Stable Rust has no `extern "x86-interrupt"`, so each vector gets a
//! small asm stub that pushes a dummy error code where the CPU pushes none,
//! then the vector number, then all general registers, and calls
//! [`exception_entry`] with a pointer to the saved [`ExceptionFrame`], which
//! hands it to the [`ExceptionHandler`] given to [`init`]: the handler either
//! stops the kernel or rewrites the frame so `iretq` resumes a contained
//! driver failure's recovery point. The policy is the caller's (`main.rs`):
//! `arch` never reaches up into the kernel's fault reporting or the managed
//! runtime. Vectors 32..=255 go to the interrupt stubs in `apic.rs`.

use core::arch::global_asm;
use core::mem::size_of;

use x86_64::instructions::segmentation::{Segment, CS};
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;
use x86_64::VirtAddr;

use super::gdt::{DOUBLE_FAULT_IST_INDEX, PAGE_FAULT_IST_INDEX};

/// Registers saved by the stubs, lowest address first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ExceptionFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

global_asm!(
    r#"
    .section .text.exc, "ax"
exc_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    cld
    call exception_entry
    // exception_entry returned: the fault was contained and the frame
    // rewritten to resume elsewhere (see `ExceptionHandler`).
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    iretq
    "#
);

global_asm!(
    r#"
    .section .text.exc, "ax"
    .irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
exc_stub_\v:
    push 0
    push \v
    jmp exc_common
    .endr
    .irp v, 8,10,11,12,13,14,17,21,29,30
exc_stub_\v:
    push \v
    jmp exc_common
    .endr

    .section .rodata.exc, "a"
    .balign 8
    .global exc_stub_table
exc_stub_table:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad exc_stub_\v
    .endr
    "#
);

unsafe extern "C" {
    static exc_stub_table: [u64; 32];
}

/// One 16-byte 64-bit interrupt gate (SDM vol. 3A Figure 6-8).
#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

impl Gate {
    const MISSING: Gate = Gate {
        offset_low: 0,
        selector: 0,
        ist: 0,
        type_attr: 0,
        offset_mid: 0,
        offset_high: 0,
        reserved: 0,
    };

    fn interrupt_gate(handler: u64, selector: u16, ist: u8) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector,
            ist,
            // present, DPL 0, 64-bit interrupt gate (IF cleared on entry)
            type_attr: 0x8e,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

#[repr(C, align(16))]
struct Idt([Gate; 256]);

static IDT: spin::Once<Idt> = spin::Once::new();

/// What runs on every CPU exception, with the saved registers. Returns only
/// when the fault was contained and the frame now resumes elsewhere; to stop
/// the kernel it must not return.
pub type ExceptionHandler = fn(&mut ExceptionFrame);

static HANDLER: spin::Once<ExceptionHandler> = spin::Once::new();

/// Fills vectors 0..=31, sets `handler` as the exception handler and loads
/// the IDT. Must run after [`super::gdt::init`].
pub fn init(handler: ExceptionHandler) {
    HANDLER.call_once(|| handler);
    let cs = CS::get_reg().0;
    let idt = IDT.call_once(|| {
        let mut idt = Idt([Gate::MISSING; 256]);
        for (v, gate) in idt.0.iter_mut().take(32).enumerate() {
            // #DF and #PF run on their own stacks: a #PF raised by a stack
            // overflow (managed code running into the guard page) must not
            // need the exhausted stack to be delivered.
            let ist = match v {
                8 => DOUBLE_FAULT_IST_INDEX as u8 + 1,
                14 => PAGE_FAULT_IST_INDEX as u8 + 1,
                _ => 0,
            };
            // SAFETY: `exc_stub_table` is immutable data emitted by the asm above.
            let stub = unsafe { exc_stub_table[v] };
            *gate = Gate::interrupt_gate(stub, cs, ist);
        }
        // Device, timer and spurious vectors (see `apic.rs`, `crate::irq`).
        for v in 32..=255u8 {
            idt.0[usize::from(v)] = Gate::interrupt_gate(super::apic::stub(v), cs, 0);
        }
        idt
    });
    let ptr = DescriptorTablePointer {
        limit: (size_of::<Idt>() - 1) as u16,
        base: VirtAddr::new(idt as *const Idt as u64),
    };
    // SAFETY: the IDT is 'static, its gates point at the stubs above with the
    // kernel code selector that `gdt::init` just loaded.
    unsafe { lidt(&ptr) };
}

/// Called by `exc_common` with the saved registers. Returns only when the
/// handler contained the fault (a driver's guarded call failed) and `frame`
/// now resumes its recovery point.
#[unsafe(no_mangle)]
extern "C" fn exception_entry(frame: &mut ExceptionFrame) {
    match HANDLER.get() {
        Some(handler) => handler(frame),
        // Unreachable: `init` sets the handler before loading the IDT.
        None => super::cpu::halt_forever(),
    }
}
