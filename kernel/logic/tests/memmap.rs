//! The boot memory map's totals (`kernel_logic::memmap`): RAM is what the
//! machine has, not the address space its reserved entries span.

use kernel_logic::memmap::{memory_summary, MemorySummary, Region, REGION_RAM};

#[test]
fn q35_with_512_mib_has_512_mib_of_ram_not_12_gib() {
    // The map QEMU q35 hands a PVH kernel with -m 512M (as the boot log shows).
    let regions = [
        Region {
            start: 0,
            len: 0x9fc00,
            kind: REGION_RAM,
        },
        Region {
            start: 0x9fc00,
            len: 0x400,
            kind: 2,
        },
        Region {
            start: 0xd0000,
            len: 0x20000,
            kind: 4,
        },
        Region {
            start: 0xf0000,
            len: 0x10000,
            kind: 2,
        },
        Region {
            start: 0xb000_0000,
            len: 0x1000_0000,
            kind: 2,
        },
        Region {
            start: 0xfd_0000_0000,
            len: 0x3_0000_0000,
            kind: 2,
        },
        Region {
            start: 0x10_0000,
            len: 0x1ff0_0000,
            kind: REGION_RAM,
        },
    ];
    let m = memory_summary(&regions);
    assert_eq!(
        m,
        MemorySummary {
            ram: 0x9fc00 + 0x400 + 0x20000 + 0x10000 + 0x1ff0_0000,
            usable: 0x9fc00 + 0x1ff0_0000,
            not_ram: 0x1000_0000 + 0x3_0000_0000,
        }
    );
    assert_eq!(
        m.ram >> 20,
        511,
        "RAM in MiB (the top of the EBDA page is not listed)"
    );
    assert_eq!(regions[2].kind_name(), "ACPI NVS");
    assert_eq!(regions[0].kind_name(), "usable");
}
