//! GDT and TSS (SDM vol. 3A §3.4.5, §7.7): flat 64-bit code/data segments and a
//! TSS whose IST1 stack catches double faults even when the kernel stack is gone.

use spin::Once;
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

/// IST slot (1-based in the TSS, 0-based index here) used by #DF.
pub const DOUBLE_FAULT_IST_INDEX: u16 = 0;
/// IST slot used by #PF, so a page fault from a stack overflow is delivered
/// on a good stack (and can be contained when a driver caused it).
pub const PAGE_FAULT_IST_INDEX: u16 = 1;

const IST_STACK_SIZE: usize = 32 * 1024;

#[repr(C, align(16))]
struct IstStack([u8; IST_STACK_SIZE]);

static mut DOUBLE_FAULT_STACK: IstStack = IstStack([0; IST_STACK_SIZE]);
static mut PAGE_FAULT_STACK: IstStack = IstStack([0; IST_STACK_SIZE]);

static TSS: Once<TaskStateSegment> = Once::new();
static GDT: Once<(
    GlobalDescriptorTable,
    SegmentSelector,
    SegmentSelector,
    SegmentSelector,
)> = Once::new();

/// Loads the kernel GDT, reloads the segment registers and the task register.
pub fn init() {
    let tss = TSS.call_once(|| {
        let mut tss = TaskStateSegment::new();
        let base = &raw const DOUBLE_FAULT_STACK as u64;
        tss.interrupt_stack_table[DOUBLE_FAULT_IST_INDEX as usize] =
            VirtAddr::new(base + IST_STACK_SIZE as u64);
        let base = &raw const PAGE_FAULT_STACK as u64;
        tss.interrupt_stack_table[PAGE_FAULT_IST_INDEX as usize] =
            VirtAddr::new(base + IST_STACK_SIZE as u64);
        tss
    });
    let (gdt, code, data, tss_sel) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        let tss_sel = gdt.append(Descriptor::tss_segment(tss));
        (gdt, code, data, tss_sel)
    });
    gdt.load();
    // SAFETY: the selectors index the GDT just loaded, whose descriptors are
    // valid flat 64-bit segments and an available TSS.
    unsafe {
        CS::set_reg(*code);
        DS::set_reg(*data);
        ES::set_reg(*data);
        SS::set_reg(*data);
        load_tss(*tss_sel);
    }
}
