//! Page-table arithmetic (`kernel_logic::paging`) on the host: indices, and
//! the walk over tables kept in a map with 4 KiB, 2 MiB and 1 GiB leaves,
//! rights intersected over the levels, NX honoured only with EFER.NXE, and
//! unmapped or non-canonical addresses refused.

use std::collections::HashMap;

use kernel_logic::paging::*;

/// Tables by physical address, 512 entries each.
#[derive(Default)]
struct Tables(HashMap<u64, Vec<u64>>);

impl Tables {
    fn set(&mut self, table: u64, idx: usize, e: u64) {
        self.0.entry(table).or_insert_with(|| vec![0; 512])[idx] = e;
    }
    fn entry(&self, table: u64, idx: usize) -> u64 {
        let t = self
            .0
            .get(&table)
            .unwrap_or_else(|| panic!("walk read a table that is not one: {table:#x}"));
        t[idx]
    }
}

const ROOT: u64 = 0x1000;
const RW: u64 = PRESENT | WRITABLE;

/// The kernel's layout in miniature: the direct map at PML4 slot 256 with a
/// 1 GiB and a 2 MiB leaf, read-only executable text at 1 MiB in 4 KiB pages,
/// an uncached MMIO page with NX, and the null page unmapped.
fn tables() -> Tables {
    let mut t = Tables::default();
    // Lower half: PML4[0] -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000.
    t.set(ROOT, 0, 0x2000 | RW);
    t.set(0x2000, 0, 0x3000 | RW);
    t.set(0x3000, 0, 0x4000 | RW);
    t.set(0x4000, 256, 0x10_0000 | PRESENT); // 1 MiB: text, R X
    t.set(0x4000, 257, 0x10_1000 | PRESENT | XD); // rodata, R NX
    t.set(0x4000, 258, 0xfeb0_0000 | RW | PCD | PWT | XD); // MMIO
                                                           // A 2 MiB leaf at 2 MiB virtual -> 0x4000_0000 physical.
    t.set(0x3000, 1, 0x4000_0000 | RW | HUGE | XD);
    // Higher half: PML4[256] -> PDPT 0x5000, slot 0 a 1 GiB leaf at 0.
    t.set(ROOT, 256, 0x5000 | RW);
    t.set(0x5000, 0, RW | HUGE | XD);
    // A read-only intermediate level above a writable leaf: the walk ANDs.
    t.set(0x5000, 1, 0x6000 | PRESENT);
    t.set(0x6000, 0, 0x7000 | RW);
    t.set(0x7000, 5, 0x12_3000 | RW);
    t
}

fn w(t: &Tables, virt: u64, nx: bool) -> Option<Mapping> {
    walk(ROOT, virt, nx, |tab, i| t.entry(tab, i))
}

#[test]
fn indices_split_an_address_into_nine_bit_fields() {
    assert_eq!(indices(0xffff_8000_0000_0000), [256, 0, 0, 0]);
    assert_eq!(indices(0xffff_a000_0020_3000), [320, 0, 1, 3]);
    assert_eq!(indices(0x0000_7fff_ffff_ffff), [255, 511, 511, 511]);
    assert!(is_canonical(0xffff_8000_0000_0000) && is_canonical(0x7fff_ffff_ffff));
    assert!(!is_canonical(0x0000_8000_0000_0000) && !is_canonical(0xfff0_0000_0000_0000));
}

#[test]
fn leaves_of_every_size_translate_with_their_offset() {
    let t = tables();
    let text = w(&t, 0x10_0123, true).unwrap();
    assert_eq!((text.phys, text.page), (0x10_0123, PAGE_4K));
    assert!(!text.writable && text.executable && !text.uncached);
    let big = w(&t, 0x2f_fff8, true).unwrap();
    assert_eq!((big.phys, big.page), (0x4000_0000 + 0xf_fff8, PAGE_2M));
    assert!(big.writable && !big.executable);
    let gib = w(&t, 0xffff_8000_3456_7890, true).unwrap();
    assert_eq!((gib.phys, gib.page), (0x3456_7890, PAGE_1G));
    let mmio = w(&t, 0x10_2008, true).unwrap();
    assert_eq!(mmio.phys, 0xfeb0_0008);
    assert!(mmio.uncached && mmio.writable && !mmio.executable);
}

#[test]
fn rights_are_the_intersection_and_nx_needs_nxe() {
    let t = tables();
    let m = w(&t, 0xffff_8000_4000_5000, true).unwrap();
    assert_eq!(m.phys, 0x12_3000);
    assert!(
        !m.writable,
        "a read-only PDPT entry makes the leaf read-only"
    );
    assert!(w(&t, 0x10_1000, true).is_some_and(|m| !m.executable));
    assert!(
        w(&t, 0x10_1000, false).is_some_and(|m| m.executable),
        "bit 63 means nothing with EFER.NXE off"
    );
}

#[test]
fn unmapped_and_non_canonical_addresses_have_no_mapping() {
    let t = tables();
    assert_eq!(w(&t, 0, true), None, "the null page");
    assert_eq!(w(&t, 0x10_3000, true), None, "an empty PT slot");
    assert_eq!(
        w(&t, 0xffff_8080_0000_0000, true),
        None,
        "an empty PML4 slot"
    );
    // Not canonical: refused before reading any table (the fake would panic
    // on the non-table it would otherwise read first).
    assert_eq!(
        walk(0xdead_0000, 0x0000_8000_0000_0000, true, |tab, i| t
            .entry(tab, i)),
        None
    );
}
