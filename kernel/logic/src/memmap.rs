//! The boot memory map: E820-style regions as the PVH start info lists
//! them, and the totals the kernel reports (RAM, usable, reserved space that
//! is not RAM).

/// E820-style region types as used by the PVH memory map.
pub const REGION_RAM: u32 = 1;

/// One physical memory region.
#[derive(Clone, Copy, Debug, Default)]
pub struct Region {
    pub start: u64,
    pub len: u64,
    pub kind: u32,
}

impl Region {
    /// Human name of the e820 type.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            1 => "usable",
            2 => "reserved",
            3 => "ACPI reclaimable",
            4 => "ACPI NVS",
            5 => "bad",
            _ => "other",
        }
    }
}

/// The memory map in totals (bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemorySummary {
    /// RAM: usable and ACPI (reclaimable, NVS) regions, and reserved regions
    /// below 1 MiB (the EBDA and BIOS area, RAM on every PC).
    pub ram: u64,
    /// Usable RAM (E820 type 1).
    pub usable: u64,
    /// Reserved address space above 1 MiB: MMIO windows (PCIe ECAM, the
    /// HyperTransport hole QEMU reserves below 1 TiB), firmware ROM. E820
    /// cannot tell reserved RAM from holes there, so none of it counts as RAM.
    pub not_ram: u64,
}

/// Totals of a memory map: the RAM a machine has, not the address space
/// its reserved entries span (512 MiB of RAM under QEMU q35 comes with a
/// 12 GiB reserved window).
pub fn memory_summary(regions: &[Region]) -> MemorySummary {
    let mut m = MemorySummary::default();
    for r in regions {
        match r.kind {
            REGION_RAM => {
                m.usable += r.len;
                m.ram += r.len;
            }
            3 | 4 => m.ram += r.len,
            _ if r.start + r.len <= 1 << 20 => m.ram += r.len,
            _ => m.not_ram += r.len,
        }
    }
    m
}
