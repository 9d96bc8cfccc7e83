//! The native driver against the DDK's virtio-blk device model (modern and
//! legacy), through the fake platform's ABI table: data round trips, request
//! splitting, zero-copy vs bounce, flush, read-only, and injected faults.

use ddk::driver::{find_driver, Driver};
use ddk::testing::{self, BlkOptions, Fault, VirtioBlkDevice};
use ddk::virtio::features;
use ddk::{BlockDevice, BlockError, Lba, PciAddress};
use virtio_blk::{Config, VirtioBlk, VirtioBlkDriver};

const ADDR: PciAddress = PciAddress::new_truncate(0, 3, 0);
const SECTORS: usize = 4096; // 2 MiB

fn image() -> Vec<u8> {
    (0..SECTORS * 512)
        .map(|i| (i * 7 + i / 512 * 13) as u8)
        .collect()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Compares byte buffers, reporting only the first differing offset.
macro_rules! assert_bytes {
    ($a:expr, $b:expr) => {
        assert_bytes!($a, $b, "")
    };
    ($a:expr, $b:expr, $($msg:tt)*) => {{
        let (a, b): (&[u8], &[u8]) = (&$a[..], &$b[..]);
        assert_eq!(first_mismatch(a, b), None, "byte buffers differ: {}", format!($($msg)*));
    }};
}

/// Index of the first differing byte (keeps failure output short).
fn first_mismatch(a: &[u8], b: &[u8]) -> Option<usize> {
    if a.len() != b.len() {
        return Some(a.len().min(b.len()));
    }
    a.iter().zip(b).position(|(x, y)| x != y)
}

fn test_config() -> Config {
    Config {
        timeout_ns: 50_000_000,
        ..Config::default()
    }
}

fn setup(opts: BlkOptions) -> (VirtioBlkDevice, VirtioBlk) {
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    let dev = VirtioBlkDevice::new(image(), opts);
    dev.install(ADDR);
    let p = testing::platform();
    let pci = p.pci_device(ADDR).expect("device on the fake bus");
    let blk = VirtioBlk::new(p, pci, test_config()).expect("driver binds");
    (dev, blk)
}

fn legacy() -> BlkOptions {
    BlkOptions {
        legacy: true,
        ..BlkOptions::default()
    }
}

fn round_trip(dev: &VirtioBlkDevice, blk: &mut VirtioBlk) {
    let img = image();
    let mut one = vec![0u8; 512];
    blk.read_blocks(Lba::new(5), &mut one).unwrap();
    assert_bytes!(one, img[5 * 512..6 * 512]);

    let mut many = vec![0u8; 64 * 512];
    blk.read_blocks(Lba::new(1000), &mut many).unwrap();
    assert_bytes!(many, img[1000 * 512..1064 * 512]);

    let data = pattern(24 * 512, 3);
    blk.write_blocks(Lba::new(200), &data).unwrap();
    assert_bytes!(
        dev.image()[200 * 512..224 * 512],
        data[..],
        "write reached the disk"
    );
    let mut back = vec![0u8; data.len()];
    blk.read_blocks(Lba::new(200), &mut back).unwrap();
    assert_bytes!(back, data);
    // Neighbours untouched.
    assert_bytes!(dev.image()[199 * 512..200 * 512], img[199 * 512..200 * 512]);
    assert_bytes!(dev.image()[224 * 512..225 * 512], img[224 * 512..225 * 512]);
    assert!(dev.violations().is_empty(), "{:?}", dev.violations());
}

#[test]
fn modern_round_trips_and_negotiates_only_known_offered_features() {
    let (dev, mut blk) = setup(BlkOptions::default());
    assert!(!blk.info().legacy);
    assert_eq!(blk.block_size(), 512);
    assert_eq!(blk.block_count(), SECTORS as u64);
    round_trip(&dev, &mut blk);
    let f = dev.stats().driver_features;
    assert_eq!(f & features::VERSION_1, features::VERSION_1);
    assert_eq!(
        f & (features::BLK_FLUSH | features::BLK_SEG_MAX | features::BLK_BLK_SIZE),
        features::BLK_FLUSH | features::BLK_SEG_MAX | features::BLK_BLK_SIZE
    );
    assert_eq!(
        f & (features::EVENT_IDX | features::INDIRECT_DESC | features::BLK_TOPOLOGY),
        0,
        "offered but unknown"
    );
    assert_eq!(
        f & (features::BLK_RO | features::BLK_SIZE_MAX),
        0,
        "not offered"
    );
}

#[test]
fn legacy_round_trips() {
    let (dev, mut blk) = setup(legacy());
    assert!(blk.info().legacy);
    assert_eq!(blk.info().queue_size, 128);
    round_trip(&dev, &mut blk);
    assert_eq!(dev.stats().driver_features & features::VERSION_1, 0);
}

#[test]
fn transitional_devices_use_the_modern_interface() {
    let (dev, mut blk) = setup(BlkOptions {
        transitional: true,
        ..BlkOptions::default()
    });
    assert_eq!(blk.pci().device_id, 0x1001);
    assert!(
        !blk.info().legacy,
        "modern capabilities win over the I/O BAR"
    );
    round_trip(&dev, &mut blk);
    assert_eq!(
        dev.stats().driver_features & features::VERSION_1,
        features::VERSION_1
    );
}

#[test]
fn fast_path_reads_straight_into_the_caller_buffer() {
    let (dev, mut blk) = setup(BlkOptions::default());
    let mut buf = vec![0u8; 256 * 1024];
    blk.read_blocks(Lba::new(0), &mut buf).unwrap();
    assert_bytes!(buf, image()[..buf.len()]);
    let s = dev.stats();
    assert_eq!(
        s.segments_in_dma_alloc, 0,
        "no bounce buffer on the fast path"
    );
    assert!(s.segments_in_caller_buffers >= 64, "{s:?}");
}

#[test]
fn bounces_when_the_platform_cannot_translate() {
    for opts in [BlkOptions::default(), legacy()] {
        let (dev, mut blk) = setup(opts);
        testing::memory(|m| m.translate_enabled = false);
        round_trip(&dev, &mut blk);
        let mut big = vec![0u8; 300 * 1024];
        blk.read_blocks(Lba::new(7), &mut big).unwrap();
        let want = &dev.image()[7 * 512..7 * 512 + big.len()];
        assert_eq!(first_mismatch(&big, want), None);
        let s = dev.stats();
        assert_eq!(s.segments_in_caller_buffers, 0);
        assert!(s.segments_in_dma_alloc > 0);
    }
}

#[test]
fn requests_are_split_to_honour_seg_max_and_size_max() {
    for legacy in [false, true] {
        let (dev, mut blk) = setup(BlkOptions {
            legacy,
            seg_max: Some(3),
            size_max: Some(1024),
            ..BlkOptions::default()
        });
        assert_eq!(blk.info().max_segments, 3);
        assert_eq!(blk.info().max_segment_len, 1024);
        let mut buf = vec![0u8; 1 << 20];
        blk.read_blocks(Lba::new(100), &mut buf).unwrap();
        assert_bytes!(buf, image()[100 * 512..100 * 512 + buf.len()]);
        let data = pattern(100 * 1024, 9);
        blk.write_blocks(Lba::new(3000), &data).unwrap();
        assert_bytes!(dev.image()[3000 * 512..3000 * 512 + data.len()], data[..]);
        let s = dev.stats();
        assert!(s.max_segments <= 3 && s.max_segment_len <= 1024, "{s:?}");
        assert!(s.requests >= (1 << 20) / 3072, "{s:?}");
        assert!(dev.violations().is_empty(), "{:?}", dev.violations());
        // The same through the bounce path.
        testing::memory(|m| m.translate_enabled = false);
        let mut again = vec![0u8; 64 * 1024];
        blk.read_blocks(Lba::new(3000), &mut again).unwrap();
        assert_bytes!(again, data[..again.len()]);
        assert!(dev.violations().is_empty(), "{:?}", dev.violations());
    }
}

#[test]
fn unaligned_caller_buffers_work_both_ways() {
    let (dev, mut blk) = setup(BlkOptions {
        seg_max: Some(2),
        ..BlkOptions::default()
    });
    let img = image();
    for shift in [1usize, 3, 511, 4095] {
        let mut backing = vec![0u8; shift + 20 * 512];
        let buf = &mut backing[shift..];
        blk.read_blocks(Lba::new(40), buf).unwrap();
        assert_bytes!(buf[..], img[40 * 512..60 * 512], "shift {shift}");
        let data = pattern(20 * 512, shift as u8);
        let mut wbacking = vec![0u8; shift + data.len()];
        wbacking[shift..].copy_from_slice(&data);
        blk.write_blocks(Lba::new(500), &wbacking[shift..]).unwrap();
        assert_bytes!(dev.image()[500 * 512..520 * 512], data[..], "shift {shift}");
    }
    assert!(dev.violations().is_empty(), "{:?}", dev.violations());
}

#[test]
fn larger_blk_size_changes_the_lba_unit() {
    let (dev, mut blk) = setup(BlkOptions {
        blk_size: Some(4096),
        ..BlkOptions::default()
    });
    assert_eq!(blk.block_size(), 4096);
    assert_eq!(blk.block_count(), (SECTORS / 8) as u64);
    let mut b = vec![0u8; 4096];
    blk.read_blocks(Lba::new(3), &mut b).unwrap();
    assert_bytes!(b, dev.image()[3 * 4096..4 * 4096]);
    assert_eq!(
        blk.read_blocks(Lba::new(0), &mut b[..512]),
        Err(BlockError::BadBuffer)
    );
}

#[test]
fn flush_with_and_without_the_feature() {
    let (dev, mut blk) = setup(BlkOptions::default());
    assert!(blk.has_flush());
    blk.flush().unwrap();
    assert_eq!(dev.stats().flushes, 1);

    let (dev, mut blk) = setup(BlkOptions {
        flush: false,
        ..BlkOptions::default()
    });
    assert!(!blk.has_flush());
    assert_eq!(
        blk.flush(),
        Ok(()),
        "write-through device: nothing to flush"
    );
    assert_eq!(
        dev.stats().requests,
        0,
        "no FLUSH request sent without the feature"
    );
}

#[test]
fn read_only_devices_refuse_writes_and_flushes() {
    for legacy in [false, true] {
        let (dev, mut blk) = setup(BlkOptions {
            legacy,
            read_only: true,
            ..BlkOptions::default()
        });
        assert!(blk.is_read_only());
        assert_eq!(
            blk.write_blocks(Lba::new(0), &[0u8; 512]),
            Err(BlockError::ReadOnly)
        );
        assert_eq!(blk.flush(), Err(BlockError::ReadOnly));
        let mut b = vec![0u8; 512];
        blk.read_blocks(Lba::new(1), &mut b).unwrap();
        assert_bytes!(b, image()[512..1024]);
        assert_eq!(dev.stats().writes, 0);
        assert_bytes!(dev.image(), image());
    }
}

#[test]
fn bad_requests_are_refused_before_reaching_the_device() {
    let (dev, mut blk) = setup(BlkOptions::default());
    let mut b = vec![0u8; 1024];
    assert_eq!(
        blk.read_blocks(Lba::new(SECTORS as u64 - 1), &mut b),
        Err(BlockError::OutOfRange)
    );
    assert_eq!(
        blk.read_blocks(Lba::new(u64::MAX), &mut b),
        Err(BlockError::OutOfRange)
    );
    assert_eq!(
        blk.read_blocks(Lba::new(0), &mut b[..100]),
        Err(BlockError::BadBuffer)
    );
    assert_eq!(
        blk.read_blocks(Lba::new(0), &mut []),
        Err(BlockError::BadBuffer)
    );
    assert_eq!(dev.stats().requests, 0);
    blk.read_blocks(Lba::new(SECTORS as u64 - 2), &mut b)
        .unwrap();
}

#[test]
fn ioerr_and_unsupp_map_to_errors_and_leave_the_device_usable() {
    for opts in [BlkOptions::default(), legacy()] {
        let (dev, mut blk) = setup(opts);
        let mut b = vec![0u8; 512];
        dev.inject(Fault::IoErr);
        assert_eq!(blk.read_blocks(Lba::new(0), &mut b), Err(BlockError::Io));
        dev.inject(Fault::IoErr);
        assert_eq!(
            blk.write_blocks(Lba::new(0), &pattern(512, 1)),
            Err(BlockError::Io)
        );
        assert_bytes!(dev.image(), image(), "failed write changed nothing");
        dev.inject(Fault::Unsupp);
        assert_eq!(blk.flush(), Err(BlockError::Unsupported));
        assert_eq!(blk.recoveries(), 0, "status errors need no reset");
        round_trip(&dev, &mut blk);
    }
}

#[test]
fn protocol_violations_are_detected_and_recovered_from() {
    for fault in [
        Fault::BogusUsedId,
        Fault::StaleUsedId,
        Fault::BogusUsedLen,
        Fault::BadStatusByte,
        Fault::ShortOk,
    ] {
        for opts in [BlkOptions::default(), legacy()] {
            let (dev, mut blk) = setup(opts);
            dev.inject(fault);
            let mut b = vec![0u8; 4096];
            assert_eq!(
                blk.read_blocks(Lba::new(8), &mut b),
                Err(BlockError::DeviceMisbehaved),
                "{fault:?}"
            );
            assert_eq!(blk.recoveries(), 1);
            assert!(blk.is_ready());
            assert!(dev.stats().resets >= 2, "init reset + recovery reset");
            round_trip(&dev, &mut blk);
        }
    }
}

#[test]
fn a_device_that_never_completes_times_out_and_is_reset() {
    for opts in [BlkOptions::default(), legacy()] {
        let (dev, mut blk) = setup(opts);
        dev.inject(Fault::NeverComplete);
        let mut b = vec![0u8; 8192];
        assert_eq!(
            blk.read_blocks(Lba::new(0), &mut b),
            Err(BlockError::Timeout)
        );
        assert!(blk.is_ready(), "re-initialised after the reset");
        round_trip(&dev, &mut blk);
    }
}

/// A device that comes back from the reset with another capacity: the
/// volume above addresses blocks by the old geometry, so the driver keeps
/// reporting it and disables the device (the managed twin is in
/// `cil-compat/tests/managed_sources/jit_run.rs`).
#[test]
fn a_device_whose_capacity_changes_across_a_reset_is_disabled() {
    for opts in [BlkOptions::default(), legacy()] {
        let (dev, mut blk) = setup(opts);
        let count = blk.block_count();
        dev.set_capacity(count / 2);
        dev.inject(Fault::NeverComplete);
        let mut b = vec![0u8; 4096];
        assert_eq!(
            blk.read_blocks(Lba::new(0), &mut b),
            Err(BlockError::Timeout)
        );
        assert_eq!(blk.recoveries(), 1);
        assert!(!blk.is_ready(), "disabled, not re-initialised");
        assert_eq!(blk.block_count(), count, "geometry kept");
        assert_eq!(
            blk.read_blocks(Lba::new(0), &mut b),
            Err(BlockError::NotReady)
        );
        assert!(
            testing::logs()
                .iter()
                .any(|(_, l)| l.contains("came back from the reset with 2048 sectors")),
            "the driver said why: {:?}",
            testing::logs()
        );
    }
}

#[test]
fn without_a_clock_the_wait_is_bounded_by_spins() {
    testing::reset();
    testing::settings(|s| {
        s.clock = false;
        s.echo_logs = false;
    });
    let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
    dev.install(ADDR);
    let p = testing::platform();
    let pci = p.pci_device(ADDR).unwrap();
    let mut blk = VirtioBlk::new(
        p,
        pci,
        Config {
            spin_budget: 10_000,
            ..Config::default()
        },
    )
    .unwrap();
    dev.inject(Fault::NeverComplete);
    let mut b = vec![0u8; 512];
    assert_eq!(
        blk.write_blocks(Lba::new(0), &b.clone()),
        Err(BlockError::Timeout)
    );
    blk.read_blocks(Lba::new(0), &mut b).unwrap();
    assert_bytes!(b, image()[..512]);
}

#[test]
fn many_faults_in_a_row_never_panic_and_data_stays_right() {
    let (dev, mut blk) = setup(BlkOptions {
        seg_max: Some(4),
        ..BlkOptions::default()
    });
    let faults = [
        Fault::IoErr,
        Fault::BogusUsedId,
        Fault::NeverComplete,
        Fault::Unsupp,
        Fault::BogusUsedLen,
        Fault::StaleUsedId,
        Fault::BadStatusByte,
    ];
    for (i, f) in faults.iter().cycle().take(30).enumerate() {
        dev.inject(*f);
        let mut b = vec![0u8; 16 * 512];
        assert!(
            blk.read_blocks(Lba::new(i as u64), &mut b).is_err(),
            "{f:?}"
        );
        // A multi-request transfer afterwards is intact.
        let data = pattern(40 * 512, i as u8);
        blk.write_blocks(Lba::new(1000 + i as u64 * 40), &data)
            .unwrap();
        let mut back = vec![0u8; data.len()];
        blk.read_blocks(Lba::new(1000 + i as u64 * 40), &mut back)
            .unwrap();
        assert_bytes!(back, data);
    }
    assert!(dev.violations().is_empty(), "{:?}", dev.violations());
}

#[test]
fn dropping_the_driver_resets_the_device_frees_dma_and_unmaps_its_bars() {
    let (dev, mut blk) = setup(BlkOptions::default());
    assert!(testing::live_bar_mappings() >= 1);
    testing::memory(|m| m.translate_enabled = false);
    let mut b = vec![0u8; 512];
    blk.read_blocks(Lba::new(0), &mut b).unwrap();
    assert!(
        testing::memory(|m| m.outstanding()) >= 3,
        "ring, request block, bounce buffer"
    );
    drop(blk);
    assert_eq!(dev.status(), 0);
    assert_eq!(testing::live_bar_mappings(), 0);
    assert_eq!(testing::memory(|m| m.outstanding()), 0);
    assert_eq!(testing::memory(|m| m.bad_frees()), 0);
}

#[test]
fn driver_matching_and_registration_through_the_abi() {
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
    dev.install(ADDR);
    let legacy_dev = VirtioBlkDevice::new(image(), legacy());
    let laddr = PciAddress::new_truncate(0, 4, 0);
    legacy_dev.install(laddr);
    let p = testing::platform();
    let drv = VirtioBlkDriver::default();
    let drivers: [&dyn Driver; 1] = [&drv];

    let pci = p.pci_device(ADDR).unwrap();
    let chosen = find_driver(&drivers, &pci).expect("modern virtio-blk matches");
    assert_eq!(chosen.name(), "virtio-blk-native");
    let boxed = chosen.bind(p, &pci).unwrap();

    // A transitional id with a non-block subsystem id is not ours.
    testing::config_space(laddr, |c| c.set_u16(ddk::pci::reg::SUBSYSTEM_ID, 1)).unwrap();
    let lpci = p.pci_device(laddr).unwrap();
    assert!(find_driver(&drivers, &lpci).is_none());

    // Register through the ABI entry managed drivers use, then do I/O
    // through the C callbacks the platform would call.
    let id = p.register_block_device("vda", boxed).unwrap();
    let (name, mut foreign) = testing::take_block_device(id).unwrap();
    assert_eq!(name, "vda");
    assert_eq!(foreign.block_count(), SECTORS as u64);
    let data = pattern(8 * 512, 77);
    foreign.write_blocks(Lba::new(64), &data).unwrap();
    let mut back = vec![0u8; data.len()];
    foreign.read_blocks(Lba::new(64), &mut back).unwrap();
    assert_bytes!(back, data);
    assert_eq!(
        foreign.read_blocks(Lba::new(0), &mut back[..3]),
        Err(BlockError::BadBuffer)
    );
    foreign.flush().unwrap();
    assert_bytes!(dev.image()[64 * 512..72 * 512], data[..]);
}

/// The driver is handed the platform's enumeration and maps BARs with the
/// sizes it holds: bringing a device up writes no BAR register and never
/// switches decoding off (each toggle costs ~1 ms under QEMU TCG).
#[test]
fn binding_sizes_no_bar_and_toggles_no_decoding() {
    for opts in [BlkOptions::default(), legacy()] {
        testing::reset();
        testing::settings(|s| s.echo_logs = false);
        let dev = VirtioBlkDevice::new(image(), opts);
        dev.install(ADDR);
        let p = testing::platform();
        testing::clear_config_writes();
        let drv = VirtioBlkDriver::default();
        let pci = p.pci_device(ADDR).unwrap();
        let mut blk = drv.bind(p, &pci).expect("driver binds");
        let mut b = vec![0u8; 512];
        blk.read_blocks(Lba::new(3), &mut b).unwrap();
        let writes = testing::config_writes();
        assert!(!writes.is_empty(), "decode and bus-master enables are seen");
        assert_eq!(
            writes.iter().filter(|w| w.hits_bar()).count(),
            0,
            "BAR writes: {writes:?}"
        );
        assert_eq!(
            writes.iter().filter(|w| w.turns_decoding_off()).count(),
            0,
            "decode toggles: {writes:?}"
        );
    }
}

#[test]
fn file_backed_image() {
    let path = std::env::temp_dir().join(format!("ddk-virtio-blk-{}.img", std::process::id()));
    std::fs::write(&path, image()).unwrap();
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    let dev = VirtioBlkDevice::open(&path, BlkOptions::default()).unwrap();
    dev.install(ADDR);
    let p = testing::platform();
    let pci = p.pci_device(ADDR).unwrap();
    let mut blk = VirtioBlk::new(p, pci, test_config()).unwrap();
    let data = pattern(4096, 5);
    blk.write_blocks(Lba::new(10), &data).unwrap();
    blk.flush().unwrap();
    drop(blk);
    let on_disk = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_bytes!(on_disk[10 * 512..10 * 512 + 4096], data[..]);
    assert_bytes!(on_disk[..10 * 512], image()[..10 * 512]);
}

/// Splits transfers of 16 KiB and more into pieces of at least 8 KiB, four
/// in flight at once.
fn batch_config() -> Config {
    Config {
        max_in_flight: 4,
        split_min: 8 * 1024,
        ..test_config()
    }
}

fn setup_batched(opts: BlkOptions) -> (VirtioBlkDevice, VirtioBlk) {
    let (dev, blk) = setup(opts);
    let p = testing::platform();
    let pci = blk.pci().clone();
    drop(blk);
    let blk = VirtioBlk::new(p, pci, batch_config()).expect("driver binds");
    (dev, blk)
}

#[test]
fn large_transfers_keep_several_requests_in_flight() {
    for opts in [BlkOptions::default(), legacy()] {
        let (dev, mut blk) = setup_batched(opts);
        let before = dev.stats();
        let mut buf = vec![0u8; 64 * 1024];
        blk.read_blocks(Lba::new(10), &mut buf).unwrap();
        assert_bytes!(buf, image()[10 * 512..10 * 512 + buf.len()]);
        let after = dev.stats();
        assert_eq!(after.requests - before.requests, 4, "64 KiB in four pieces");
        assert_eq!(
            after.notifies - before.notifies,
            1,
            "one notification a batch"
        );
        let data = pattern(48 * 1024, 4);
        blk.write_blocks(Lba::new(700), &data).unwrap();
        assert_bytes!(dev.image()[700 * 512..700 * 512 + data.len()], data[..]);
        // Below twice the minimum piece: one request.
        let before = dev.stats().requests;
        blk.read_blocks(Lba::new(3), &mut buf[..12 * 1024]).unwrap();
        assert_eq!(dev.stats().requests - before, 1);
        // The first piece never completes: the other three were published
        // before the driver started waiting, then the reset takes them all back.
        dev.inject(Fault::NeverComplete);
        let before = dev.stats().requests;
        assert_eq!(
            blk.read_blocks(Lba::new(0), &mut buf),
            Err(BlockError::Timeout)
        );
        assert_eq!(dev.stats().requests - before, 4);
        assert_eq!(blk.recoveries(), 1);
        round_trip(&dev, &mut blk);
        blk.read_blocks(Lba::new(10), &mut buf).unwrap();
        assert_bytes!(buf, image()[10 * 512..10 * 512 + buf.len()]);
        assert!(dev.violations().is_empty(), "{:?}", dev.violations());
    }
}

#[test]
fn a_status_error_in_one_piece_fails_the_whole_transfer_after_the_batch_is_back() {
    for opts in [BlkOptions::default(), legacy()] {
        let (dev, mut blk) = setup_batched(opts);
        let mut buf = vec![0u8; 64 * 1024];
        dev.inject(Fault::IoErr);
        let before = dev.stats().requests;
        assert_eq!(blk.read_blocks(Lba::new(0), &mut buf), Err(BlockError::Io));
        assert_eq!(dev.stats().requests - before, 4, "every piece was sent");
        assert_eq!(blk.recoveries(), 0, "a status error needs no reset");
        // Two failing pieces: the earlier one's error is reported.
        dev.inject(Fault::Unsupp);
        dev.inject(Fault::IoErr);
        assert_eq!(
            blk.write_blocks(Lba::new(0), &pattern(buf.len(), 1)),
            Err(BlockError::Unsupported)
        );
        assert_eq!(blk.recoveries(), 0);
        // Nothing is left in flight: the next transfers are whole and right.
        blk.read_blocks(Lba::new(100), &mut buf).unwrap();
        assert_bytes!(buf, dev.image()[100 * 512..100 * 512 + buf.len()]);
        round_trip(&dev, &mut blk);
        assert!(dev.violations().is_empty(), "{:?}", dev.violations());
    }
}

#[test]
fn a_protocol_violation_in_one_piece_fails_the_whole_transfer_and_resets() {
    for fault in [
        Fault::BogusUsedId,
        Fault::StaleUsedId,
        Fault::BogusUsedLen,
        Fault::BadStatusByte,
    ] {
        for opts in [BlkOptions::default(), legacy()] {
            let (dev, mut blk) = setup_batched(opts);
            dev.inject(fault);
            let data = pattern(64 * 1024, 7);
            assert_eq!(
                blk.write_blocks(Lba::new(300), &data),
                Err(BlockError::DeviceMisbehaved),
                "{fault:?}"
            );
            assert_eq!(blk.recoveries(), 1, "{fault:?}");
            assert!(blk.is_ready());
            // The device is usable, and whole transfers go through again.
            blk.write_blocks(Lba::new(300), &data).unwrap();
            let mut back = vec![0u8; data.len()];
            blk.read_blocks(Lba::new(300), &mut back).unwrap();
            assert_bytes!(back, data, "{fault:?}");
            round_trip(&dev, &mut blk);
        }
    }
}

#[test]
fn read_many_keeps_a_batch_in_flight_and_fills_every_buffer() {
    for legacy in [false, true] {
        let (dev, mut blk) = setup(BlkOptions {
            legacy,
            ..BlkOptions::default()
        });
        let lbas: Vec<u64> = (0..40u64)
            .map(|i| (i * 97 + 5) % (SECTORS as u64 - 8))
            .collect();
        let mut bufs = vec![vec![0u8; 4096]; lbas.len()];
        let before = dev.stats();
        let mut reqs: Vec<ddk::ReadRequest<'_>> = lbas
            .iter()
            .zip(bufs.iter_mut())
            .map(|(&lba, buf)| ddk::ReadRequest {
                lba: Lba::new(lba),
                buf: &mut buf[..],
            })
            .collect();
        blk.read_many(&mut reqs).unwrap();
        drop(reqs);
        for (lba, buf) in lbas.iter().zip(&bufs) {
            let at = *lba as usize * 512;
            assert_bytes!(buf, image()[at..at + 4096], "read at LBA {lba}");
        }
        let s = dev.stats();
        assert_eq!(s.reads - before.reads, 40, "{s:?}");
        // Published as batches, not one notification per request.
        assert!(s.notifies - before.notifies < 40, "{s:?}");
        assert!(dev.violations().is_empty(), "{:?}", dev.violations());

        // Through the bounce path (one request at a time): the same bytes.
        testing::memory(|m| m.translate_enabled = false);
        let mut again = vec![vec![0u8; 4096]; 3];
        let mut reqs: Vec<ddk::ReadRequest<'_>> = again
            .iter_mut()
            .zip(&lbas)
            .map(|(buf, &lba)| ddk::ReadRequest {
                lba: Lba::new(lba),
                buf: &mut buf[..],
            })
            .collect();
        blk.read_many(&mut reqs).unwrap();
        drop(reqs);
        assert_eq!(again[..], bufs[..3]);
        testing::memory(|m| m.translate_enabled = true);

        // A request past the end fails the batch before anything is sent.
        let before = dev.stats();
        let mut one = vec![0u8; 4096];
        let mut past = vec![0u8; 4096];
        let mut reqs = [
            ddk::ReadRequest {
                lba: Lba::new(0),
                buf: &mut one[..],
            },
            ddk::ReadRequest {
                lba: Lba::new(SECTORS as u64 - 1),
                buf: &mut past[..],
            },
        ];
        assert_eq!(blk.read_many(&mut reqs), Err(BlockError::OutOfRange));
        assert_eq!(dev.stats().requests, before.requests);
    }
}

/// The platform offers interrupts (`completion=irq`): the driver sets them
/// up (MSI-X entry 0 on modern, INTx on legacy), waits on them, and still
/// moves the right bytes; dropping it releases the interrupt.
#[test]
fn interrupt_completion_round_trips_on_both_transports_and_releases_the_irq() {
    for legacy in [false, true] {
        testing::reset();
        testing::settings(|s| {
            s.echo_logs = false;
            s.interrupts = true;
        });
        let dev = VirtioBlkDevice::new(
            image(),
            BlkOptions {
                legacy,
                ..BlkOptions::default()
            },
        );
        dev.install(ADDR);
        dev.defer_completions();
        let p = testing::platform();
        let pci = p.pci_device(ADDR).unwrap();
        let mut blk = VirtioBlk::new(p, pci, test_config()).expect("driver binds");
        assert_eq!(testing::irq_stats().0, 1, "one interrupt set up");
        let data = pattern(64 * 512, 9);
        blk.write_blocks(Lba::new(100), &data).unwrap();
        let mut back = vec![0u8; data.len()];
        blk.read_blocks(Lba::new(100), &mut back).unwrap();
        assert_bytes!(back, data, "legacy={legacy}");
        let (_, waits, fired) = testing::irq_stats();
        assert!(
            waits >= 2 && fired >= 2,
            "legacy={legacy}: {waits} waits, {fired} fired"
        );
        assert!(dev.violations().is_empty(), "{:?}", dev.violations());
        drop(blk);
        assert_eq!(testing::irq_stats().0, 0, "released on drop");
    }
}

/// Interrupts that never arrive: each request ends in a timeout error and a
/// device reset (the watchdog semantics of polling), never a hang.
#[test]
fn lost_interrupts_end_in_a_timeout_not_a_hang() {
    testing::reset();
    testing::settings(|s| {
        s.echo_logs = false;
        s.interrupts = true;
        s.lose_interrupts = true;
    });
    let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
    dev.install(ADDR);
    let p = testing::platform();
    let pci = p.pci_device(ADDR).unwrap();
    let mut blk = VirtioBlk::new(p, pci, test_config()).unwrap();
    // The fake device completes synchronously on the kick: the driver finds
    // the completion on its first poll without waiting. Hold it back.
    dev.inject(Fault::NeverComplete);
    let mut b = vec![0u8; 512];
    assert_eq!(
        blk.read_blocks(Lba::new(0), &mut b),
        Err(BlockError::Timeout)
    );
    assert!(testing::irq_stats().1 >= 1, "it waited on the interrupt");
    // Without stalls it recovers and works (the completion is polled first).
    blk.read_blocks(Lba::new(0), &mut b).unwrap();
}
