//! The transition trampolines: the entries JIT code calls instead of the
//! runtime functions that may collect. Each links a record into the chain
//! headed by `stackroots::TRANSITION` and clears the callee-saved registers
//! before calling its target; the record layout is the one the stack walk
//! reads (`stackroots`, `record_reg`, `RECORD_BELOW`). Kept apart from the
//! walk so the modules whose functions are wrapped (`helpers`, `arrays`,
//! `gc`, `natives`) and the collector that walks the records are both below
//! this one.

use core::arch::global_asm;

/// Zeroes the 4 KiB below the trampoline's frame (rdi and rcx
/// kept): the dead frames there (a managed callee that just returned, the
/// runtime functions of earlier calls) are where the collector's own Rust
/// frames will be, and those are scanned conservatively. Explicit
/// collections (`GC.Collect`, `GC.GetTotalMemory(true)`) do this so that
/// stale words of dead frames are not mistaken for roots.
macro_rules! scrub {
    () => {
        "mov r10, rdi
        mov r11, rcx
        lea rdi, [rsp - 4096]
        mov ecx, 512
        xor eax, eax
        cld
        rep stosq
        mov rdi, r10
        mov rcx, r11"
    };
}

/// Defines `$tramp`, an entry for JIT code that calls `$target` (a SysV
/// function of at most six integer arguments: none may travel on the stack,
/// which the trampoline moves) inside a transition record.
macro_rules! transition {
    ($tramp:ident, $target:path) => {
        transition!($tramp, $target, "");
    };
    ($tramp:ident, $target:path, $scrub:expr) => {
        global_asm!(
            ".text",
            ".balign 16",
            concat!(".global ", stringify!($tramp)),
            concat!(stringify!($tramp), ":"),
            "push rbp",
            "mov rbp, rsp",
            "push qword ptr [rip + {head}]",
            "push rbx",
            "push r12",
            "push r13",
            "push r14",
            "push r15",
            "mov qword ptr [rip + {head}], rbp",
            "xor ebx, ebx",
            "xor r12d, r12d",
            "xor r13d, r13d",
            "xor r14d, r14d",
            "xor r15d, r15d",
            $scrub,
            // entry rsp = 8 mod 16; seven pushes make it 0 mod 16 at the call.
            "call {target}",
            "mov rbx, [rbp - 16]",
            "mov r12, [rbp - 24]",
            "mov r13, [rbp - 32]",
            "mov r14, [rbp - 40]",
            "mov r15, [rbp - 48]",
            "mov r10, [rbp - 8]",
            "mov qword ptr [rip + {head}], r10",
            "leave",
            "ret",
            head = sym super::stackroots::TRANSITION,
            target = sym $target,
        );
        unsafe extern "C" {
            fn $tramp();
        }
    };
}

transition!(cil_gc_new_object, super::helpers::new_object);
transition!(cil_gc_new_array, super::helpers::new_array);
transition!(cil_gc_new_md_array, super::arrays::new_md_array);
transition!(cil_gc_class_init, super::helpers::class_init);
transition!(
    cil_gc_fast_allocate_string,
    super::helpers::fast_allocate_string
);
transition!(cil_gc_memberwise_clone, super::natives::memberwise_clone);
transition!(cil_gc_get_flat, super::arrays::get_flat);
transition!(cil_gc_array_copy, super::arrays::copy);
transition!(cil_gc_create_instance, super::arrays::create_instance);
transition!(cil_gc_collect, super::gc::gc_collect, scrub!());
transition!(cil_gc_total_memory, super::gc::gc_total_memory, scrub!());

/// The trampolines JIT code calls instead of the functions they wrap.
pub(crate) mod entries {
    pub fn new_object() -> u64 {
        super::cil_gc_new_object as *const () as u64
    }
    pub fn new_array() -> u64 {
        super::cil_gc_new_array as *const () as u64
    }
    pub fn new_md_array() -> u64 {
        super::cil_gc_new_md_array as *const () as u64
    }
    pub fn class_init() -> u64 {
        super::cil_gc_class_init as *const () as u64
    }
    pub fn fast_allocate_string() -> u64 {
        super::cil_gc_fast_allocate_string as *const () as u64
    }
    pub fn memberwise_clone() -> u64 {
        super::cil_gc_memberwise_clone as *const () as u64
    }
    pub fn get_flat() -> u64 {
        super::cil_gc_get_flat as *const () as u64
    }
    pub fn array_copy() -> u64 {
        super::cil_gc_array_copy as *const () as u64
    }
    pub fn create_instance() -> u64 {
        super::cil_gc_create_instance as *const () as u64
    }
    pub fn gc_collect() -> u64 {
        super::cil_gc_collect as *const () as u64
    }
    pub fn gc_total_memory() -> u64 {
        super::cil_gc_total_memory as *const () as u64
    }
}

/// `(name, address)` of the internal calls entered through a trampoline:
/// they allocate or collect.
pub(crate) fn natives() -> [(&'static str, u64); 7] {
    [
        (
            "System.String::FastAllocateString",
            entries::fast_allocate_string(),
        ),
        (
            "System.Object::MemberwiseClone",
            entries::memberwise_clone(),
        ),
        ("System.Array::GetValueFlat", entries::get_flat()),
        ("System.Array::CopyInternal", entries::array_copy()),
        (
            "System.Array::CreateInstanceInternal",
            entries::create_instance(),
        ),
        ("System.GC::Collect", entries::gc_collect()),
        ("System.GC::GetTotalMemory", entries::gc_total_memory()),
    ]
}
