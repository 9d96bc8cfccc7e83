//! The DDK's typed API against its own fakes, entirely through the ABI
//! table: PCI probing and BAR sizing, the bounded capability walk, region
//! bounds, DMA ownership, translation, logging and the table header check.

use ddk::abi::{self, DdkAbi, Width};
use ddk::pci::{self, cap_id, command, ConfigAccess, RegionAccess};
use ddk::testing::{self, BlkOptions, FakeBackend, VirtioBlkDevice};
use ddk::{Bar, DdkError, Dma, Hal, PciAddress, PciDevice, Platform};

const MODERN: PciAddress = PciAddress::new_truncate(0, 3, 0);
const LEGACY: PciAddress = PciAddress::new_truncate(0, 4, 0);

fn bus() -> Platform {
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    VirtioBlkDevice::new(vec![0; 1 << 20], BlkOptions::default()).install(MODERN);
    VirtioBlkDevice::new(
        vec![0; 1 << 20],
        BlkOptions {
            legacy: true,
            ..BlkOptions::default()
        },
    )
    .install(LEGACY);
    testing::platform()
}

#[test]
fn probe_reads_ids_and_sizes_bars_without_disturbing_them() {
    let p = bus();
    let d = PciDevice::probe(&p, MODERN).unwrap().unwrap();
    assert_eq!(
        (d.vendor_id, d.device_id, d.class, d.subclass),
        (0x1af4, 0x1042, 1, 0)
    );
    assert_eq!(
        d.bars[4],
        Some(Bar::Memory64 {
            address: 0xfe00_0000,
            size: 0x4000,
            prefetchable: true
        })
    );
    assert_eq!(d.bars[5], None, "upper half of the 64-bit BAR");
    assert_eq!(d.bars[0], None);
    // Sizing restored the BAR and left decoding as it was.
    assert_eq!(
        p.pci_read32(MODERN, pci::reg::BAR0 + 16).unwrap() & !0xf,
        0xfe00_0000
    );
    assert_eq!(
        d.command(&p).unwrap() & (command::MEMORY_SPACE | command::IO_SPACE),
        0
    );

    let l = PciDevice::probe(&p, LEGACY).unwrap().unwrap();
    assert_eq!(l.device_id, 0x1001);
    assert_eq!(l.subsystem_id, 2);
    assert_eq!(
        l.bars[0],
        Some(Bar::Io {
            port: 0xc040,
            size: 0x40
        })
    );

    assert_eq!(
        PciDevice::probe(&p, PciAddress::new_truncate(0, 9, 0)).unwrap(),
        None
    );
    let mut found = Vec::new();
    pci::scan(&p, |d| found.push(d.address)).unwrap();
    assert_eq!(found, vec![MODERN, LEGACY]);
}

#[test]
fn device_info_is_the_platforms_enumeration_and_costs_no_config_write() {
    let p = bus();
    testing::clear_config_writes();
    let info = p.device_info(MODERN).unwrap();
    assert_eq!(
        info.size as usize,
        core::mem::size_of::<pci::PciDeviceInfo>()
    );
    let probed = PciDevice::probe(&p, MODERN).unwrap().unwrap();
    testing::clear_config_writes();
    let d = p.pci_device(MODERN).unwrap();
    assert_eq!(d, probed, "the same device as a full probe");
    assert_eq!(info.bars[4].kind, pci::bar_kind::MEMORY64);
    assert_eq!(info.bars[4].flags, pci::bar_flags::PREFETCHABLE);
    assert_eq!(
        (info.bars[4].address, info.bars[4].size),
        (0xfe00_0000, 0x4000)
    );
    assert_eq!(info.bars[5], pci::PciBarInfo::default(), "upper half");
    let walked: Vec<(u8, u8)> = d.capabilities(&p).map(|c| (c.id, c.offset)).collect();
    let listed: Vec<(u8, u8)> = info
        .capabilities()
        .iter()
        .map(|c| (c.id, c.offset))
        .collect();
    assert_eq!(listed, walked);
    assert_eq!(info.cap_count, 6);

    let l = p.device_info(LEGACY).unwrap();
    assert_eq!((l.device_id, l.subsystem_id, l.cap_count), (0x1001, 2, 0));
    assert_eq!(
        (l.bars[0].kind, l.bars[0].address, l.bars[0].size),
        (pci::bar_kind::IO, 0xc040, 0x40)
    );
    assert_eq!(
        testing::config_writes(),
        vec![],
        "reading the enumeration writes nothing"
    );

    assert_eq!(
        p.device_info(PciAddress::new_truncate(0, 9, 0)),
        Err(DdkError::NoDevice)
    );
    // A test that changes a device changes what the platform enumerated.
    testing::config_space(LEGACY, |c| c.set_u16(pci::reg::SUBSYSTEM_ID, 7)).unwrap();
    assert_eq!(p.pci_device(LEGACY).unwrap().subsystem_id, 7);
    testing::config_space(LEGACY, |c| c.set_u16(pci::reg::VENDOR_ID, 0xffff)).unwrap();
    assert_eq!(p.device_info(LEGACY), Err(DdkError::NoDevice));
}

#[test]
fn bar_map_on_the_fakes_uses_the_enumerated_size_without_sizing() {
    let p = bus();
    testing::clear_config_writes();
    let r = p.map_bar(MODERN, 4).unwrap();
    assert_eq!(r.len(), 0x4000);
    let io = p.map_bar(LEGACY, 0).unwrap();
    assert_eq!(io.len(), 0x40);
    let writes = testing::config_writes();
    assert!(!writes.iter().any(|w| w.hits_bar()), "{writes:?}");
    assert!(!writes.iter().any(|w| w.turns_decoding_off()), "{writes:?}");
    // Decoding was off after enumeration: one write each switches it on.
    assert_eq!(writes.len(), 2, "{writes:?}");

    // Sizing itself is what the counters see.
    testing::clear_config_writes();
    pci::size_bar(&p, MODERN, 4).unwrap();
    let writes = testing::config_writes();
    assert_eq!(
        writes.iter().filter(|w| w.hits_bar()).count(),
        4,
        "all-ones and restore, both halves"
    );
    assert_eq!(writes.iter().filter(|w| w.turns_decoding_off()).count(), 1);
}

#[test]
fn size_bars_toggles_decoding_once_per_function() {
    let p = bus();
    let d = p.pci_device(MODERN).unwrap();
    d.enable_memory_decode(&p).unwrap();
    d.enable_io_decode(&p).unwrap();
    testing::clear_config_writes();
    let bars = pci::size_bars(&p, MODERN, 0).unwrap();
    assert_eq!(bars, d.bars);
    let writes = testing::config_writes();
    let command: Vec<_> = writes
        .iter()
        .filter(|w| w.offset == pci::reg::COMMAND)
        .collect();
    assert_eq!(command.len(), 2, "off once, restored once: {command:?}");
    assert_eq!(d.command(&p).unwrap() & 3, 3, "restored");
    // With decoding already off, sizing writes no command register at all.
    p.pci_write16(MODERN, pci::reg::COMMAND, 0).unwrap();
    testing::clear_config_writes();
    assert_eq!(pci::size_bars(&p, MODERN, 0).unwrap(), d.bars);
    assert!(testing::config_writes()
        .iter()
        .all(|w| w.offset != pci::reg::COMMAND));
}

#[test]
fn capability_walk_lists_entries_and_survives_a_loop() {
    let p = bus();
    let d = PciDevice::probe(&p, MODERN).unwrap().unwrap();
    let ids: Vec<u8> = d.capabilities(&p).map(|c| c.id).collect();
    assert_eq!(ids, [cap_id::MSIX, 9, 9, 9, 9, 9]);
    assert_eq!(d.find_capability(&p, cap_id::MSI), None);

    // Point the last capability back at the first: the walk must end.
    let caps: Vec<_> = d.capabilities(&p).collect();
    let last = caps.last().unwrap().offset;
    testing::config_space(MODERN, |c| c.set_u8(last as u16 + 1, caps[0].offset)).unwrap();
    let mut it = d.capabilities(&p);
    let n = it.by_ref().count();
    assert_eq!(n, caps.len());
    assert!(it.malformed);

    // A pointer into the header is malformed too.
    testing::config_space(MODERN, |c| c.set_u8(last as u16 + 1, 0x10)).unwrap();
    let mut it = d.capabilities(&p);
    assert_eq!(it.by_ref().count(), caps.len());
    assert!(it.malformed);
}

#[test]
fn command_helpers_set_bits() {
    let p = bus();
    let d = PciDevice::probe(&p, MODERN).unwrap().unwrap();
    d.enable_memory_decode(&p).unwrap();
    d.enable_bus_master(&p).unwrap();
    assert_eq!(
        d.command(&p).unwrap() & 0x7,
        command::MEMORY_SPACE | command::BUS_MASTER
    );
    d.enable_io_decode(&p).unwrap();
    assert_eq!(d.command(&p).unwrap() & 0x7, 0x7);
}

#[test]
fn regions_are_bounds_checked() {
    let p = bus();
    let r = p.map_bar(MODERN, 4).unwrap();
    assert_eq!(r.len(), 0x4000);
    assert!(!r.is_io());
    // Common cfg device_feature_select is read-write; its read reflects the write.
    r.write_u32(0, 1).unwrap();
    assert_eq!(r.read_u32(0).unwrap(), 1);
    assert_eq!(r.read_u32(0x4000), Err(DdkError::OutOfBounds));
    assert_eq!(r.read_u64(0x3ffc), Err(DdkError::OutOfBounds));
    assert_eq!(r.read_u32(2), Err(DdkError::Misaligned));
    let w = r.subregion(0x2000, 0x48).unwrap();
    assert_eq!(w.read_u8(0x48), Err(DdkError::OutOfBounds));
    assert!(r.subregion(0x3000, 0x2000).is_err());
    // Straight through the table, as managed code would call it.
    let mut v = 0u32;
    // SAFETY: `v` is a live out-parameter; the handle is bogus on purpose.
    assert_eq!(
        unsafe { (testing::FAKE_ABI.mmio_read32)(999, 0, &mut v) },
        DdkError::BadHandle as u32
    );
    // SAFETY: a null out-pointer must be rejected, not written.
    let st = unsafe { (testing::FAKE_ABI.mmio_read32)(r.handle(), 0, std::ptr::null_mut()) };
    assert_eq!(st, DdkError::InvalidArgument as u32);
    r.unmap().unwrap();
    assert_eq!(r.read_u32(0), Err(DdkError::BadHandle));

    let io = p.map_bar(LEGACY, 0).unwrap();
    assert!(io.is_io());
    assert_eq!(
        io.read_u8(0x12).unwrap(),
        0,
        "device status through port I/O"
    );
    assert_eq!(io.read_u32(0x40), Err(DdkError::OutOfBounds));
    assert_eq!(io.read_u64(0), Err(DdkError::Unsupported));
    assert_eq!(p.map_bar(LEGACY, 1).err(), Some(DdkError::NoDevice));
    assert_eq!(p.map_bar(LEGACY, 6).err(), Some(DdkError::InvalidArgument));
}

#[test]
fn config_access_is_checked() {
    let p = bus();
    assert_eq!(p.pci_read32(MODERN, 0x100), Err(DdkError::OutOfBounds));
    assert_eq!(p.pci_read16(MODERN, 0x3), Err(DdkError::Misaligned));
    assert_eq!(
        p.config_read(MODERN, 0, Width::U64),
        Err(DdkError::InvalidArgument)
    );
    // Read-only ids stay read-only.
    p.pci_write16(MODERN, 0, 0x1234).unwrap();
    assert_eq!(p.pci_read16(MODERN, 0).unwrap(), 0x1af4);
    // The pci_types adapter sees the same space.
    // SAFETY: every offset below 256 of the fake bus is readable and writable.
    let ra = unsafe { RegionAccess::new(p) };
    assert_eq!(ra.read_u16(MODERN, 2).unwrap(), 0x1042);
    ra.write_u8(MODERN, pci::reg::COMMAND, command::BUS_MASTER as u8)
        .unwrap();
    assert_eq!(
        p.pci_read16(MODERN, pci::reg::COMMAND).unwrap(),
        command::BUS_MASTER
    );
}

#[test]
fn dma_is_zeroed_aligned_and_freed_once() {
    let p = bus();
    {
        let d = Dma::new(p, 10_000, 1 << 16).unwrap();
        assert_eq!(d.len(), 12_288);
        assert_eq!(d.phys_addr().as_u64() % (1 << 16), 0);
        assert_eq!(d.as_ptr() as usize % (1 << 16), 0);
        let mut buf = vec![1u8; d.len()];
        d.read_bytes(0, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        assert_eq!(
            d.read_bytes(12_000, &mut buf[..1000]),
            Err(DdkError::OutOfBounds)
        );
        assert_eq!(testing::memory(|m| m.outstanding()), 1);
    }
    assert_eq!(testing::memory(|m| m.outstanding()), 0);
    let (phys, virt) = p.dma_alloc(4096, 4096).unwrap();
    // SAFETY: a wrong size must be refused without touching memory.
    assert_eq!(
        unsafe { p.dma_free(phys, virt, 8192) },
        Err(DdkError::InvalidArgument)
    );
    // SAFETY: the exact triple just allocated; nothing else uses it.
    unsafe { p.dma_free(phys, virt, 4096) }.unwrap();
    testing::memory(|m| m.fail_allocs = 1);
    assert_eq!(Dma::new(p, 4096, 4096).err(), Some(DdkError::NoMemory));
}

#[test]
fn translation_reports_page_contiguity() {
    let p = bus();
    let buf = vec![0u8; 3 * 4096];
    let start = buf.as_ptr();
    let (_, contig) = p.virt_to_phys(start, buf.len()).unwrap();
    assert_eq!(contig, 4096 - start as usize % 4096);
    let (a, _) = p.virt_to_phys(start, 1).unwrap();
    let (b, _) = p.virt_to_phys(start, 1).unwrap();
    assert_ne!(
        a, b,
        "fake pages are never reused, so stale addresses stand out"
    );
    testing::memory(|m| m.translate_enabled = false);
    assert_eq!(p.virt_to_phys(start, 1).err(), Some(DdkError::Unsupported));
}

#[test]
fn log_marker_and_clock_reach_the_platform() {
    let p = bus();
    p.log(abi::LogLevel::Warn, "hello");
    // SAFETY: pointer and length describe a live byte array.
    unsafe { (p.abi().log)(9, b"ok\xff".as_ptr(), 3) };
    let logs = testing::logs();
    assert_eq!(logs[0], (abi::LogLevel::Warn, "hello".to_string()));
    assert_eq!(
        logs[1],
        (abi::LogLevel::Info, "ok".to_string()),
        "invalid UTF-8 tail dropped"
    );
    p.debug_marker(0xbeef);
    assert_eq!(testing::markers(), [0xbeef]);
    let t0 = p.time_ns().unwrap();
    assert!(p.time_ns().unwrap() > t0);
    testing::settings(|s| s.clock = false);
    assert_eq!(p.time_ns(), None);
}

static BAD_VERSION: DdkAbi = {
    let mut t = abi::table::<FakeBackend>();
    t.header.version = 99;
    t
};

#[test]
fn platform_checks_the_table_header() {
    // SAFETY: the table's entries are sound; only its header is wrong.
    assert_eq!(
        unsafe { Platform::new(&BAD_VERSION) }.err(),
        Some(DdkError::Unsupported)
    );
    assert_eq!(testing::FAKE_ABI.header, abi::AbiHeader::CURRENT);
    assert_eq!(
        abi::AbiHeader::CURRENT.entry_count as usize,
        abi::ENTRIES.len()
    );
}

/// Binds entries the way the JIT's import binder will: by name, through
/// `ENTRIES[i].offset` into the raw table, with `PciAddress` passed as the
/// integer `to_abi_u32()` (SysV puts the 3-byte struct in one register).
#[cfg(target_arch = "x86_64")]
#[test]
fn entries_bind_by_name_with_the_address_as_an_integer() {
    use abi::AbiKind;
    let _p = bus();
    let base = &testing::FAKE_ABI as *const DdkAbi as *const u8;
    let lookup = |name: &str| -> usize {
        let e = abi::entry(name).expect("entry exists");
        // SAFETY: `offset` is inside the table (checked by abi's unit test)
        // and points at a function pointer.
        unsafe { *(base.add(e.offset) as *const usize) }
    };
    assert_eq!(
        abi::entry("pci_read16").unwrap().params,
        [AbiKind::PciAddress, AbiKind::U16, AbiKind::Ptr]
    );
    type Read16 = unsafe extern "C" fn(u32, u16, *mut u16) -> u32;
    type Read8 = unsafe extern "C" fn(u32, u16, *mut u8) -> u32;
    // SAFETY: the entries have exactly these machine signatures (a 3-byte
    // INTEGER-class struct travels like a u32 in the same register).
    let (read16, read8): (Read16, Read8) = unsafe {
        (
            std::mem::transmute::<usize, Read16>(lookup("pci_read16")),
            std::mem::transmute::<usize, Read8>(lookup("pci_read8")),
        )
    };
    let mut v = 0u16;
    // SAFETY: `v` is a live out-parameter.
    assert_eq!(unsafe { read16(LEGACY.to_abi_u32(), 2, &mut v) }, 0);
    assert_eq!(v, 0x1001);
    let mut b = 0u8;
    // SAFETY: `b` is a live out-parameter.
    assert_eq!(
        unsafe { read8(MODERN.to_abi_u32(), pci::reg::CLASS, &mut b) },
        0
    );
    assert_eq!(b, 1);
    // A device number of 32 does not exist: the DDK refuses it.
    // SAFETY: `v` is a live out-parameter.
    let st = unsafe { read16(0x00_20_00, 0, &mut v) };
    assert_eq!(st, DdkError::InvalidArgument as u32);
}

#[test]
fn a_host_bridge_is_sized_without_switching_its_decoding_off() {
    struct Inert;
    impl testing::DeviceModel for Inert {
        fn bar_read(&mut self, _: u8, _: u64, _: Width, _: &mut testing::FakeMemory) -> u64 {
            0
        }
        fn bar_write(&mut self, _: u8, _: u64, _: Width, _: u64, _: &mut testing::FakeMemory) {}
    }
    let p = bus();
    let host = PciAddress::new_truncate(0, 0, 0);
    let mut c = testing::FakeConfigSpace::new(0x8086, 0x29c0, 0x06, 0x00, 0);
    c.set_bar(0, testing::FakeBarKind::Memory32, 0x1000, 0xfed0_0000);
    c.set_u16(pci::reg::COMMAND, command::MEMORY_SPACE | command::IO_SPACE);
    testing::add_function(host, c, Box::new(Inert));
    testing::clear_config_writes();
    let d = PciDevice::probe(&p, host).unwrap().unwrap();
    assert_eq!(
        d.bars[0].map(|b| (b.address(), b.size())),
        Some((0xfed0_0000, 0x1000))
    );
    let writes = testing::config_writes();
    assert!(
        writes.iter().all(|w| w.offset != pci::reg::COMMAND),
        "{writes:?}"
    );
    assert_eq!(p.pci_device(host).unwrap(), d, "enumerated alike");
}
