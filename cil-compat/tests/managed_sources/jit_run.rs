//! The managed virtio-blk driver running: JIT-compiled by our engine, its
//! `Ddk.Abi` imports bound to ddk::testing's fake platform table, against the
//! virtio-blk device model.

use super::*;
use cil_compat::exec::cli;
use cil_compat::hosting::driver::SharedRuntime;
use cil_compat::hosting::{ManagedDriver, Runtime};
use ddk::testing::{self, BlkOptions, Fault, VirtioBlkDevice};
use ddk::virtio::features;
use ddk::PciAddress;
use std::cell::RefCell;
use std::rc::Rc;

const ADDR: PciAddress = PciAddress::new_truncate(0, 3, 0);
const SECTORS: usize = 4096;
const TIMEOUT_NS: u64 = 50_000_000;

fn image() -> Vec<u8> {
    (0..SECTORS * 512)
        .map(|i| (i * 7 + i / 512 * 13) as u8)
        .collect()
}

/// The harness's checksum.
fn sum(b: &[u8]) -> i64 {
    b.iter()
        .fold(0i64, |s, &x| s.wrapping_mul(31).wrapping_add(x as i64))
}

fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + seed) as u8).collect()
}

/// The harness's entry points as native function pointers (all-integer
/// signatures, so the managed convention is SysV).
/// One engine may be active per process (runtime helpers find it through a
/// global): the JIT tests take turns.
static ENGINE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Harness {
    rt: SharedRuntime,
    // Dropped after the engine.
    _turn: std::sync::MutexGuard<'static, ()>,
    up: extern "C" fn(u32, u64) -> i64,
    read_sum: extern "C" fn(u64, i32) -> i64,
    write_pattern: extern "C" fn(u64, i32, i32) -> i64,
    read_into: extern "C" fn(u64, *mut u8, u64) -> i64,
    write_from: extern "C" fn(u64, *const u8, u64) -> i64,
    flush: extern "C" fn() -> i64,
    info: extern "C" fn() -> i64,
    features: extern "C" fn() -> i64,
    recoveries: extern "C" fn() -> i64,
    block_count: extern "C" fn() -> i64,
    read_only: extern "C" fn() -> i64,
    down: extern "C" fn() -> i64,
    probe_bdf: extern "C" fn(u32) -> u32,
    last_device_id: extern "C" fn() -> u32,
}

fn harness() -> Harness {
    let turn = ENGINE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let (corlib, ddk_dll, drv) = build();
    let h = toolchain::build_library(
        "VirtioBlkHarness",
        &[toolchain::managed_src_dir().join("drivers/virtio-blk/tests/Harness.cs")],
        &[ddk_dll.clone(), drv.clone()],
    )
    .expect("mcs: harness");
    let files = cil_compat::host::read_assemblies(&[&corlib, &ddk_dll, &drv, &h]).unwrap();
    let named = cil_compat::host::as_named(&files);
    // SAFETY: the fake platform table upholds the ABI contracts; the
    // ENGINE_LOCK turn guarantees no other engine is active.
    let rt = unsafe { Runtime::new(&named, Box::new(cli::MmapMemory::new()), &testing::FAKE_ABI) }
        .expect("hosting: load and bind");
    assert_eq!(rt.bound.abi_imports, ENTRIES.len());
    assert_eq!(rt.bound.runtime_services, RUNTIME_SERVICES.len());
    let rt = Rc::new(RefCell::new(rt));
    let code = |ty: &str, name: &str| -> u64 {
        rt.borrow_mut()
            .compile(ty, name)
            .unwrap_or_else(|err| panic!("JIT {ty}::{name}: {err}"))
    };
    macro_rules! f {
        ($ty:literal, $name:literal, $sig:ty) => {
            // SAFETY: JIT code of a static method whose parameters and result
            // are the integers/pointers of `$sig`; the managed convention for
            // such methods is SysV.
            unsafe { std::mem::transmute::<u64, $sig>(code($ty, $name)) }
        };
    }
    type F0 = extern "C" fn() -> i64;
    Harness {
        up: f!("Harness", "Up", extern "C" fn(u32, u64) -> i64),
        read_sum: f!("Harness", "ReadSum", extern "C" fn(u64, i32) -> i64),
        write_pattern: f!(
            "Harness",
            "WritePattern",
            extern "C" fn(u64, i32, i32) -> i64
        ),
        read_into: f!(
            "Harness",
            "ReadInto",
            extern "C" fn(u64, *mut u8, u64) -> i64
        ),
        write_from: f!(
            "Harness",
            "WriteFrom",
            extern "C" fn(u64, *const u8, u64) -> i64
        ),
        flush: f!("Harness", "Flush", F0),
        info: f!("Harness", "Info", F0),
        features: f!("Harness", "Features", F0),
        recoveries: f!("Harness", "Recoveries", F0),
        block_count: f!("Harness", "BlockCount", F0),
        read_only: f!("Harness", "ReadOnly", F0),
        down: f!("Harness", "Down", F0),
        probe_bdf: f!("VirtioBlk.Driver", "ProbeBdf", extern "C" fn(u32) -> u32),
        last_device_id: f!(
            "VirtioBlk.Driver",
            "get_LastDeviceId",
            extern "C" fn() -> u32
        ),
        rt,
        _turn: turn,
    }
}

fn device(h: &Harness, opts: BlkOptions) -> VirtioBlkDevice {
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    let dev = VirtioBlkDevice::new(image(), opts);
    dev.install(ADDR);
    assert_eq!(
        (h.up)(ADDR.to_abi_u32(), TIMEOUT_NS),
        SECTORS as i64,
        "driver up"
    );
    dev
}

fn round_trip(h: &Harness, dev: &VirtioBlkDevice) {
    let img = image();
    assert_eq!((h.read_sum)(5, 1), sum(&img[5 * 512..6 * 512]));
    assert_eq!((h.read_sum)(1000, 64), sum(&img[1000 * 512..1064 * 512]));
    assert_eq!((h.write_pattern)(200, 24, 3), 0);
    let data = pattern(24 * 512, 3);
    assert_eq!(
        &dev.image()[200 * 512..224 * 512],
        &data[..],
        "write reached the disk"
    );
    assert_eq!((h.read_sum)(200, 24), sum(&data));
    assert_eq!(
        &dev.image()[199 * 512..200 * 512],
        &img[199 * 512..200 * 512]
    );
    assert_eq!(
        &dev.image()[224 * 512..225 * 512],
        &img[224 * 512..225 * 512]
    );
    // Caller memory through IBlockDevice (the path the ABI callbacks take).
    let mut buf = vec![0u8; 8 * 512];
    assert_eq!((h.read_into)(300, buf.as_mut_ptr(), buf.len() as u64), 0);
    assert_eq!(&buf[..], &img[300 * 512..308 * 512]);
    let out = pattern(3 * 512, 11);
    assert_eq!((h.write_from)(400, out.as_ptr(), out.len() as u64), 0);
    assert_eq!(&dev.image()[400 * 512..403 * 512], &out[..]);
    assert_eq!((h.flush)(), 0);
    assert!(dev.violations().is_empty(), "{:?}", dev.violations());
}

#[test]
fn managed_driver_runs_through_the_jit_against_the_device_model() {
    let h = harness();

    // Modern: data both ways, the same feature subset the native driver takes.
    let dev = device(&h, BlkOptions::default());
    round_trip(&h, &dev);
    let info = (h.info)();
    assert_eq!(
        (info >> 40, (info >> 16) & 0xffff, info & 0xffff),
        (0, 128, 126)
    );
    let f = (h.features)() as u64;
    assert_eq!(f, dev.stats().driver_features);
    let want =
        features::VERSION_1 | features::BLK_FLUSH | features::BLK_SEG_MAX | features::BLK_BLK_SIZE;
    assert_eq!(f & want, want);
    assert_eq!(
        f & (features::EVENT_IDX | features::INDIRECT_DESC | features::BLK_RO),
        0
    );
    assert_eq!(dev.stats().flushes, 1);
    assert!(
        dev.stats().segments_in_caller_buffers > 0,
        "zero-copy into managed arrays"
    );
    // Requests the driver refuses before the device sees them.
    let mut odd = vec![0u8; 100];
    assert_eq!((h.read_into)(0, odd.as_mut_ptr(), 100), -5, "BadBuffer");
    assert_eq!((h.read_sum)(SECTORS as u64 - 1, 2), -4, "OutOfRange");
    let logs = testing::logs();
    assert!(
        logs.iter()
            .any(|(_, l)| l.starts_with("virtio-blk 00:03.0: modern transport, 4096 sectors")),
        "{logs:?}"
    );
    assert_eq!((h.down)(), 0);
    assert_eq!(dev.status(), 0, "Shutdown resets the device");

    // Legacy (I/O BAR0, 32 feature bits, fixed queue size).
    let dev = device(
        &h,
        BlkOptions {
            legacy: true,
            ..BlkOptions::default()
        },
    );
    round_trip(&h, &dev);
    assert_eq!((h.info)() >> 40, 1);
    assert_eq!((h.features)() as u64 & features::VERSION_1, 0);
    (h.down)();

    // No address translation (bounce buffer) and no clock (spin-bounded wait);
    // shutting down gives every DMA block back.
    testing::reset();
    testing::settings(|s| {
        s.echo_logs = false;
        s.clock = false;
    });
    testing::memory(|m| m.translate_enabled = false);
    let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
    dev.install(ADDR);
    assert_eq!((h.up)(ADDR.to_abi_u32(), TIMEOUT_NS), SECTORS as i64);
    round_trip(&h, &dev);
    assert_eq!(dev.stats().segments_in_caller_buffers, 0);
    assert!(dev.stats().segments_in_dma_alloc > 0, "bounce buffer used");
    assert_eq!((h.down)(), 0);
    assert_eq!(
        testing::memory(|m| (m.outstanding(), m.bad_frees())),
        (0, 0)
    );

    // Device-reported errors map to BlockError codes; protocol violations and
    // timeouts reset and re-initialise the device, which then works again.
    let split = BlkOptions {
        seg_max: Some(2),
        size_max: Some(1024),
        ..BlkOptions::default()
    };
    let dev = device(&h, split.clone());
    let img = image();
    for (fault, code, recovers) in [
        (Fault::IoErr, -1, false),
        (Fault::Unsupp, -2, false),
        (Fault::BogusUsedId, -7, true),
        (Fault::StaleUsedId, -7, true),
        (Fault::BogusUsedLen, -7, true),
        (Fault::BadStatusByte, -7, true),
        (Fault::ShortOk, -7, true),
        (Fault::NeverComplete, -6, true),
    ] {
        let before = (h.recoveries)();
        dev.inject(fault);
        assert_eq!((h.read_sum)(7, 2), code, "{fault:?}");
        assert_eq!(
            (h.recoveries)() - before,
            recovers as i64,
            "{fault:?} recovery"
        );
        assert_eq!(
            (h.read_sum)(7, 2),
            sum(&img[7 * 512..9 * 512]),
            "after {fault:?}"
        );
    }
    // A device that comes back from the reset with another capacity: the
    // volume above addresses blocks by the old geometry, so the driver keeps
    // reporting it and disables the device rather than serve the new one.
    let before = (h.recoveries)();
    dev.set_capacity(SECTORS as u64 / 2);
    dev.inject(Fault::NeverComplete);
    assert_eq!((h.read_sum)(7, 2), -6, "the timeout that resets the device");
    assert_eq!((h.recoveries)() - before, 1);
    assert_eq!((h.block_count)(), SECTORS as i64, "geometry kept");
    assert_eq!(
        (h.read_sum)(7, 2),
        -9,
        "NotReady after the geometry changed"
    );
    assert!(
        testing::logs()
            .iter()
            .any(|(_, l)| l.contains("came back from the reset with another capacity")),
        "the driver said why: {:?}",
        testing::logs()
    );
    (h.down)();
    let dev = device(&h, split);
    // seg_max 2 / size_max 1024: a 64-block transfer is split, still correct.
    assert_eq!((h.read_sum)(1000, 64), sum(&img[1000 * 512..1064 * 512]));
    assert!(dev.stats().max_segments <= 2 && dev.stats().max_segment_len <= 1024);
    (h.down)();

    // Read-only devices refuse writes and flushes before the device sees them.
    let dev = device(
        &h,
        BlkOptions {
            read_only: true,
            ..BlkOptions::default()
        },
    );
    assert_eq!((h.read_only)(), 1);
    let writes = dev.stats().writes;
    assert_eq!((h.write_pattern)(10, 1, 0), -3, "ReadOnly");
    assert_eq!((h.flush)(), -3, "ReadOnly");
    assert_eq!(dev.stats().writes, writes);
    assert_eq!((h.read_sum)(10, 1), sum(&img[10 * 512..11 * 512]));
    (h.down)();
}

/// The managed probe reads the platform's enumeration (`pci_device_info`):
/// bringing a device up writes no BAR register and never switches decoding
/// off, on either transport.
#[test]
fn managed_driver_brings_a_device_up_without_sizing_bars() {
    let h = harness();
    for legacy in [false, true] {
        testing::reset();
        testing::settings(|s| s.echo_logs = false);
        let dev = VirtioBlkDevice::new(
            image(),
            BlkOptions {
                legacy,
                ..BlkOptions::default()
            },
        );
        dev.install(ADDR);
        testing::clear_config_writes();
        assert_eq!((h.up)(ADDR.to_abi_u32(), TIMEOUT_NS), SECTORS as i64);
        let img = image();
        assert_eq!((h.read_sum)(5, 1), sum(&img[5 * 512..6 * 512]));
        let writes = testing::config_writes();
        assert!(!writes.is_empty(), "decode and bus-master enables are seen");
        assert_eq!(
            writes.iter().filter(|w| w.hits_bar()).count(),
            0,
            "legacy={legacy}: BAR writes {writes:?}"
        );
        assert_eq!(
            writes.iter().filter(|w| w.turns_decoding_off()).count(),
            0,
            "legacy={legacy}: decode toggles {writes:?}"
        );
        assert_eq!((h.down)(), 0);
    }
}

/// With interrupts offered (`completion=irq`) the managed driver sets one
/// up (MSI-X entry 0 modern, INTx legacy), waits on it (the device model
/// completes only when the platform waits), moves the right bytes, and
/// releases it on shutdown.
#[test]
fn managed_driver_completes_by_interrupt_on_both_transports() {
    let h = harness();
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
        assert_eq!((h.up)(ADDR.to_abi_u32(), TIMEOUT_NS), SECTORS as i64);
        assert_eq!(
            testing::irq_stats().0,
            1,
            "legacy={legacy}: one interrupt set up"
        );
        round_trip(&h, &dev);
        let (_, waits, fired) = testing::irq_stats();
        assert!(
            fired >= 5 && waits >= fired,
            "legacy={legacy}: {waits} waits, {fired} fired"
        );
        assert_eq!((h.down)(), 0);
        assert_eq!(
            testing::irq_stats().0,
            0,
            "legacy={legacy}: released by Shutdown"
        );
    }
}

/// The managed driver with a garbage collection before every allocation
/// (on both transports, interrupts and polling): whatever the driver keeps
/// (queues, request state, DMA bookkeeping) must be reachable from its
/// statics or frames, or data and device state would go wrong here.
#[test]
fn managed_driver_runs_with_a_collection_before_every_allocation() {
    let h = harness();
    h.rt.borrow_mut().engine.gc.stress = 1;
    for (legacy, interrupts) in [(false, false), (true, true)] {
        // SAFETY: the harness keeps no object references across these
        // calls: it passes and gets back integers and native buffers.
        unsafe {
            cil_compat::exec::gc::with_managed_stack(|| {
                testing::reset();
                testing::settings(|s| {
                    s.echo_logs = false;
                    s.interrupts = interrupts;
                });
                let dev = VirtioBlkDevice::new(
                    image(),
                    BlkOptions {
                        legacy,
                        ..BlkOptions::default()
                    },
                );
                dev.install(ADDR);
                assert_eq!((h.up)(ADDR.to_abi_u32(), TIMEOUT_NS), SECTORS as i64);
                for _ in 0..3 {
                    round_trip(&h, &dev);
                }
                assert_eq!((h.down)(), 0);
            })
        };
    }
    let stats = h.rt.borrow().engine.ts.heap().stats();
    println!("{}", cli::gc_stats_line(&h.rt.borrow().engine));
    assert!(stats.collections >= 20, "{stats:?}");
}

/// The same driver bound and served through the hosting layer, as the
/// kernel does, with collections enabled in hosted calls (`GcState::hosted`,
/// off by default) and one before every allocation.
#[test]
fn hosted_driver_serves_requests_with_collections_in_hosted_calls() {
    use ddk::{BlockDevice, Lba};
    let h = harness();
    {
        let mut rt = h.rt.borrow_mut();
        rt.engine.gc.hosted = true;
        rt.engine.gc.stress = 1;
    }
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
    dev.install(ADDR);
    let drivers = h.rt.borrow().drivers();
    let md = ManagedDriver::new(&h.rt, drivers[0].clone()).expect("entry points");
    let p = testing::platform();
    let pci = ddk::pci::PciDevice::probe(&p, ADDR).unwrap().unwrap();
    let mut blk = ddk::driver::Driver::bind(&md, p, &pci).expect("bind");
    let after_bind = h.rt.borrow().engine.ts.heap().stats().collections;
    let img = image();
    let mut buf = vec![0u8; 16 * 512];
    for round in 0..4u64 {
        blk.read_blocks(Lba::new(100 + round), &mut buf).unwrap();
        assert_eq!(&buf[..], &img[(100 + round as usize) * 512..][..16 * 512]);
        let data = pattern(4 * 512, round as usize);
        blk.write_blocks(Lba::new(50 + 8 * round), &data).unwrap();
        assert_eq!(
            &dev.image()[(50 + 8 * round as usize) * 512..][..4 * 512],
            &data[..]
        );
    }
    blk.flush().unwrap();
    assert!(dev.violations().is_empty(), "{:?}", dev.violations());
    let stats = h.rt.borrow().engine.ts.heap().stats();
    println!("{}", cli::gc_stats_line(&h.rt.borrow().engine));
    assert!(after_bind > 0, "collections ran during bind");
    assert!(stats.collections >= after_bind, "{stats:?}");
}

#[test]
fn managed_driver_registers_through_block_register_and_serves_the_platform() {
    use ddk::{BlockDevice, BlockError, Lba};
    let h = harness();
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
    dev.install(ADDR);

    // Nothing at 00:04.0: NoDevice, and nothing registered.
    let empty = PciAddress::new_truncate(0, 4, 0);
    assert_eq!(
        (h.probe_bdf)(empty.to_abi_u32()),
        ddk::DdkError::NoDevice as u32
    );
    assert_eq!(
        (h.probe_bdf)(0x0100_0000),
        ddk::DdkError::InvalidArgument as u32
    );

    assert_eq!((h.probe_bdf)(ADDR.to_abi_u32()), 0, "{:?}", testing::logs());
    let markers = testing::markers();
    let at = markers.iter().rposition(|&m| m == 0x4D42_0001).unwrap();
    assert!(
        markers[at..].starts_with(&[0x4D42_0001, 0x4D42_0002, 0x4D42_0003, 0x4D42_0004]),
        "{markers:x?}"
    );
    // ProbeBdf called directly (no hosting instance) registers with the
    // platform, as before hosting existed.
    let id = (h.last_device_id)();
    let (name, _) = testing::take_block_device(id).expect("registered block device");
    assert_eq!(name, "virtio-blk-managed 00:03.0");

    // Through the hosting layer, as the kernel binds it: a `Driver`.
    let drivers = h.rt.borrow().drivers();
    assert_eq!(drivers.len(), 1, "{drivers:?}");
    assert_eq!(drivers[0].name, "virtio-blk-managed");
    let md = ManagedDriver::new(&h.rt, drivers[0].clone()).expect("entry points");
    let p = testing::platform();
    let pci = ddk::pci::PciDevice::probe(&p, ADDR).unwrap().unwrap();
    assert!(ddk::driver::Driver::probe(&md, &pci));
    let other = ddk::pci::PciDevice {
        device_id: 0x1000,
        ..pci.clone()
    };
    assert!(!ddk::driver::Driver::probe(&md, &other), "a virtio-net id");
    let mut blk = ddk::driver::Driver::bind(&md, p, &pci).expect("bind");
    assert!(
        testing::take_block_device(id + 1).is_none(),
        "registration captured by hosting"
    );
    assert_eq!(
        (blk.block_size(), blk.block_count(), blk.is_read_only()),
        (512, SECTORS as u64, false)
    );

    // The platform calls back into JIT code through the descriptor.
    let img = image();
    let mut buf = vec![0u8; 16 * 512];
    blk.read_blocks(Lba::new(100), &mut buf).unwrap();
    assert_eq!(&buf[..], &img[100 * 512..116 * 512]);
    let data = pattern(4 * 512, 5);
    blk.write_blocks(Lba::new(50), &data).unwrap();
    assert_eq!(&dev.image()[50 * 512..54 * 512], &data[..]);
    blk.flush().unwrap();
    dev.inject(Fault::IoErr);
    assert_eq!(
        blk.read_blocks(Lba::new(1), &mut buf[..512]),
        Err(BlockError::Io)
    );
    assert_eq!(
        blk.read_blocks(Lba::new(SECTORS as u64), &mut buf[..512]),
        Err(BlockError::OutOfRange)
    );
    assert!(dev.violations().is_empty(), "{:?}", dev.violations());
}
