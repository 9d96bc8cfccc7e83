//! PCI resource assignment (`kernel_logic::pci_assign`) over a fake config
//! space on the host, laid out as QEMU q35 under qboot leaves it: the MCH
//! with its PCIe ECAM window enabled, functions whose BARs are all zero, and
//! a PCI-to-PCI bridge with a device behind it. Every BAR gets a naturally
//! aligned place in the window between RAM and the IOAPIC, nothing overlaps
//! or touches the ECAM window or a reserved region, the bridge's windows hold
//! its device's BARs, and decoding is switched on.

use std::cell::RefCell;
use std::collections::BTreeMap;

use ddk::pci::{command, scan, ConfigAccess, PciAddress, PciDevice};
use ddk::testing::pci::{FakeBarKind, FakeConfigSpace};
use ddk::wire::{DdkError, Width};
use kernel_logic::memmap::{Region, REGION_RAM};
use kernel_logic::pci_assign::{assign_unassigned, mem_window};

/// A function: an endpoint with hardware-like write masks, or a bridge
/// header whose window and bus registers are plain storage.
enum Func {
    Endpoint(Box<FakeConfigSpace>),
    Bridge(Box<[u8; 256]>),
}

#[derive(Default)]
struct Bus(RefCell<BTreeMap<PciAddress, Func>>);

impl ConfigAccess for Bus {
    fn config_read(&self, a: PciAddress, off: u16, w: Width) -> Result<u32, DdkError> {
        Ok(match self.0.borrow().get(&a) {
            None => u32::MAX >> (32 - 8 * w.bytes().min(4) as u32),
            Some(Func::Endpoint(c)) => c.read(off, w),
            Some(Func::Bridge(b)) => (0..w.bytes().min(4))
                .map(|i| (b[off as usize + i] as u32) << (8 * i))
                .sum(),
        })
    }
    fn config_write(&self, a: PciAddress, off: u16, w: Width, v: u32) -> Result<(), DdkError> {
        match self.0.borrow_mut().get_mut(&a) {
            None => {}
            Some(Func::Endpoint(c)) => c.write(off, w, v),
            Some(Func::Bridge(b)) => {
                for i in 0..w.bytes().min(4) {
                    if off as usize + i >= 4 {
                        b[off as usize + i] = (v >> (8 * i)) as u8;
                    }
                }
            }
        }
        Ok(())
    }
}

fn addr(bus: u8, dev: u8) -> PciAddress {
    PciAddress::new_truncate(bus, dev, 0)
}

/// q35 under qboot with 512 MiB: RAM to 0x2000_0000, ECAM reserved at
/// 0xB000_0000 (256 MiB), the BIOS area reserved.
fn q35_regions() -> Vec<Region> {
    vec![
        Region {
            start: 0,
            len: 0x9fc00,
            kind: REGION_RAM,
        },
        Region {
            start: 0xf0000,
            len: 0x10000,
            kind: 2,
        },
        Region {
            start: 0x10_0000,
            len: 0x1ff0_0000,
            kind: REGION_RAM,
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
    ]
}

fn machine() -> Bus {
    let bus = Bus::default();
    let mut m = bus.0.borrow_mut();
    // MCH: PCIEXBAR at 0x60 = 0xE000_0000 | 256 MiB | enabled (a different
    // base from the memory map's reservation, so both must be avoided).
    let mut mch = FakeConfigSpace::new(0x8086, 0x29c0, 0x06, 0x00, 0);
    mch.set_u32(0x60, 0xe000_0001);
    m.insert(addr(0, 0), Func::Endpoint(Box::new(mch)));
    // virtio-blk (modern): BAR1 4 KiB MMIO, BAR4 16 KiB 64-bit prefetchable.
    let mut blk = FakeConfigSpace::new(0x1af4, 0x1042, 0x01, 0x00, 0);
    blk.set_bar(1, FakeBarKind::Memory32, 0x1000, 0);
    blk.set_bar(4, FakeBarKind::Memory64 { prefetchable: true }, 0x4000, 0);
    m.insert(addr(0, 1), Func::Endpoint(Box::new(blk)));
    // An I/O BAR (AHCI-like) and a 1 MiB one.
    let mut sata = FakeConfigSpace::new(0x8086, 0x2922, 0x01, 0x06, 1);
    sata.set_bar(4, FakeBarKind::Io, 0x20, 0);
    sata.set_bar(5, FakeBarKind::Memory32, 0x10_0000, 0);
    m.insert(addr(0, 0x1f), Func::Endpoint(Box::new(sata)));
    // pci-bridge at 00:02.0, secondary bus 1 (numbered by firmware).
    let mut br = [0u8; 256];
    br[0..4].copy_from_slice(&[0x36, 0x1b, 0x01, 0x00]); // 1b36:0001
    br[0x0a] = 0x04; // subclass: PCI-PCI bridge
    br[0x0b] = 0x06; // class: bridge
    br[0x0e] = 0x01; // header type 1
    br[0x18] = 0;
    br[0x19] = 1;
    br[0x1a] = 1;
    m.insert(addr(0, 2), Func::Bridge(Box::new(br)));
    // Behind it: a device with 8 KiB MMIO and 64 bytes of I/O.
    let mut nic = FakeConfigSpace::new(0x1af4, 0x1000, 0x02, 0x00, 0);
    nic.set_bar(0, FakeBarKind::Io, 0x40, 0);
    nic.set_bar(1, FakeBarKind::Memory32, 0x2000, 0);
    m.insert(addr(1, 3), Func::Endpoint(Box::new(nic)));
    drop(m);
    bus
}

fn found(bus: &Bus) -> Vec<PciDevice> {
    let mut v = Vec::new();
    scan(bus, |d| v.push(d)).unwrap();
    v
}

#[test]
fn the_memory_window_starts_above_ram_and_lists_reserved_ranges() {
    let (w, avoid) = mem_window(&q35_regions());
    assert_eq!((w.start, w.end), (0x2000_0000, 0xfec0_0000));
    assert_eq!(
        avoid.len(),
        1,
        "only the ECAM reservation lies in the window"
    );
    assert_eq!((avoid[0].start, avoid[0].end), (0xb000_0000, 0xc000_0000));
}

#[test]
fn every_unassigned_bar_is_placed_aligned_apart_and_decoding() {
    let bus = machine();
    let mut devs = found(&bus);
    assert_eq!(devs.len(), 5);
    assign_unassigned(&bus, &mut devs, &q35_regions());
    // What the registers say now, read back through a fresh scan.
    let after = found(&bus);
    let mut mem: Vec<(u64, u64)> = Vec::new();
    let mut io: Vec<(u64, u64)> = Vec::new();
    for d in after.iter().filter(|d| d.class != 0x06) {
        for b in d.bars.iter().flatten() {
            let (a, s) = (b.address(), b.size());
            assert!(a != 0, "{} BAR left at 0", d.address);
            assert_eq!(
                a % s,
                0,
                "{} BAR at {a:#x} not aligned to {s:#x}",
                d.address
            );
            if b.is_io() {
                assert!((0xc000..0x1_0000).contains(&a), "I/O BAR at {a:#x}");
                io.push((a, a + s));
            } else {
                assert!(a >= 0x2000_0000 && a + s <= 0xfec0_0000, "BAR at {a:#x}");
                for (lo, hi) in [(0xb000_0000u64, 0xc000_0000u64), (0xe000_0000, 0xf000_0000)] {
                    assert!(a + s <= lo || a >= hi, "BAR at {a:#x} inside ECAM {lo:#x}");
                }
                mem.push((a, a + s));
            }
        }
        let want = command::MEMORY_SPACE
            | if d.bars.iter().flatten().any(|b| b.is_io()) {
                command::IO_SPACE
            } else {
                0
            };
        let cmd = bus.read_u16(d.address, 0x04).unwrap();
        assert_eq!(
            cmd & want,
            want,
            "{} decoding not enabled: {cmd:#x}",
            d.address
        );
    }
    for v in [&mut mem, &mut io] {
        v.sort();
        for p in v.windows(2) {
            assert!(p[0].1 <= p[1].0, "overlap {:x?} {:x?}", p[0], p[1]);
        }
    }
    // The bridge forwards a memory and an I/O window holding its device's BARs.
    let br = addr(0, 2);
    let mb = (bus.read_u16(br, 0x20).unwrap() as u64 & 0xfff0) << 16;
    let ml = ((bus.read_u16(br, 0x22).unwrap() as u64 & 0xfff0) << 16) | 0xf_ffff;
    let ib = (bus.read_u8(br, 0x1c).unwrap() as u64 & 0xf0) << 8;
    let il = ((bus.read_u8(br, 0x1d).unwrap() as u64 & 0xf0) << 8) | 0xfff;
    assert!(
        mb >= 0x2000_0000 && ml < 0xfec0_0000,
        "bridge window {mb:#x}-{ml:#x}"
    );
    assert!(
        ib >= 0xc000 && il <= 0xffff,
        "bridge I/O window {ib:#x}-{il:#x}"
    );
    // No BAR on bus 0 inside the bridge's windows.
    for d in after.iter().filter(|d| d.address.bus() == 0) {
        for b in d.bars.iter().flatten() {
            let (lo, hi) = if b.is_io() { (ib, il) } else { (mb, ml) };
            let (a, e) = (b.address(), b.address() + b.size() - 1);
            assert!(
                e < lo || a > hi,
                "{} BAR {a:#x} inside the bridge window",
                d.address
            );
        }
    }
    let nic = after.iter().find(|d| d.address == addr(1, 3)).unwrap();
    for b in nic.bars.iter().flatten() {
        let (lo, hi) = if b.is_io() { (ib, il) } else { (mb, ml) };
        assert!(
            b.address() >= lo && b.address() + b.size() - 1 <= hi,
            "BAR {:#x} outside the bridge window {lo:#x}-{hi:#x}",
            b.address()
        );
    }
    let cmd = bus.read_u16(br, 0x04).unwrap();
    assert_eq!(
        cmd & (command::BUS_MASTER | command::MEMORY_SPACE | command::IO_SPACE),
        command::BUS_MASTER | command::MEMORY_SPACE | command::IO_SPACE
    );
}

#[test]
fn firmware_assignments_are_left_alone() {
    let bus = Bus::default();
    let mut blk = FakeConfigSpace::new(0x1af4, 0x1042, 0x01, 0x00, 0);
    blk.set_bar(1, FakeBarKind::Memory32, 0x1000, 0xfebd_1000);
    bus.0
        .borrow_mut()
        .insert(addr(0, 1), Func::Endpoint(Box::new(blk)));
    let mut devs = found(&bus);
    assign_unassigned(&bus, &mut devs, &q35_regions());
    assert_eq!(found(&bus)[0].bars[1].unwrap().address(), 0xfebd_1000);
}
