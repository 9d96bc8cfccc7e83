//! Batches of reads through the managed virtio-blk driver (`Batch.cs`,
//! `Ddk.BlockDevices.ReadMany`, `ManagedBlockDevice::read_many`), JIT-compiled
//! by our engine against ddk::testing's virtio-blk device model: a batch reads
//! the bytes single reads do, keeps its reads in flight together (one
//! notification), reports each request's status, and survives a device that
//! fails one request or breaks the protocol with a clear error and no hang.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use cil_compat::exec::cli;
use cil_compat::hosting::driver::SharedRuntime;
use cil_compat::hosting::{ManagedDriver, Runtime};
use cil_compat::toolchain;
use ddk::abi::BlockReadRequest;
use ddk::testing::{self, BlkOptions, Fault, VirtioBlkDevice};
use ddk::{BlockDevice, BlockError, Lba, PciAddress, ReadRequest};

const ADDR: PciAddress = PciAddress::new_truncate(0, 3, 0);
const SECTORS: usize = 4096;
const TIMEOUT_NS: u64 = 50_000_000;

fn image() -> Vec<u8> {
    (0..SECTORS * 512)
        .map(|i| (i * 7 + i / 512 * 13) as u8)
        .collect()
}

/// One engine may be active per process (runtime helpers find it through a
/// global): the tests take turns.
static ENGINE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Harness {
    rt: SharedRuntime,
    // Dropped after the engine.
    _turn: std::sync::MutexGuard<'static, ()>,
    up: extern "C" fn(u32, u64) -> i64,
    read_into: extern "C" fn(u64, *mut u8, u64) -> i64,
    read_many: extern "C" fn(*mut BlockReadRequest, u32) -> i64,
    queue_state: extern "C" fn() -> i64,
    recoveries: extern "C" fn() -> i64,
    down: extern "C" fn() -> i64,
}

fn harness() -> Harness {
    let turn = ENGINE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let corlib = toolchain::corlib().expect("build corlib");
    let (ddk_dll, drv) = common::ddk_and_driver();
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
    let rt = Rc::new(RefCell::new(rt));
    let code = |name: &str| -> u64 {
        rt.borrow_mut()
            .compile("Harness", name)
            .unwrap_or_else(|err| panic!("JIT Harness::{name}: {err}"))
    };
    macro_rules! f {
        ($name:literal, $sig:ty) => {
            // SAFETY: JIT code of a static method whose parameters and result
            // are the integers/pointers of `$sig`; the managed convention for
            // such methods is SysV.
            unsafe { std::mem::transmute::<u64, $sig>(code($name)) }
        };
    }
    type F0 = extern "C" fn() -> i64;
    Harness {
        up: f!("Up", extern "C" fn(u32, u64) -> i64),
        read_into: f!("ReadInto", extern "C" fn(u64, *mut u8, u64) -> i64),
        read_many: f!("ReadMany", extern "C" fn(*mut BlockReadRequest, u32) -> i64),
        queue_state: f!("QueueState", F0),
        recoveries: f!("Recoveries", F0),
        down: f!("Down", F0),
        rt,
        _turn: turn,
    }
}

fn device(h: &Harness, opts: BlkOptions, interrupts: bool) -> VirtioBlkDevice {
    testing::reset();
    testing::settings(|s| {
        s.echo_logs = false;
        s.interrupts = interrupts;
    });
    let dev = VirtioBlkDevice::new(image(), opts);
    dev.install(ADDR);
    if interrupts {
        dev.defer_completions();
    }
    assert_eq!(
        (h.up)(ADDR.to_abi_u32(), TIMEOUT_NS),
        SECTORS as i64,
        "driver up"
    );
    dev
}

/// `(lba, blocks)` reads and their buffers.
struct Batch {
    spans: Vec<(u64, usize)>,
    bufs: Vec<Vec<u8>>,
}

impl Batch {
    fn new(spans: &[(u64, usize)]) -> Batch {
        Batch {
            spans: spans.to_vec(),
            bufs: spans.iter().map(|&(_, n)| vec![0xEE; n * 512]).collect(),
        }
    }

    /// Runs the batch through `Harness.ReadMany`: its result and every
    /// request's status.
    fn run(&mut self, h: &Harness) -> (i64, Vec<Result<(), BlockError>>) {
        let mut reqs: Vec<BlockReadRequest> = self
            .spans
            .iter()
            .zip(self.bufs.iter_mut())
            .map(|(&(lba, _), b)| BlockReadRequest {
                lba,
                buf: b.as_mut_ptr(),
                len: b.len() as u64,
                status: 0xdead,
                reserved: 0,
            })
            .collect();
        let r = (h.read_many)(reqs.as_mut_ptr(), reqs.len() as u32);
        (r, reqs.iter().map(BlockReadRequest::result).collect())
    }

    /// Whether request `i` holds the image's bytes.
    fn holds(&self, i: usize, img: &[u8]) -> bool {
        let (lba, n) = self.spans[i];
        let at = lba as usize * 512;
        self.bufs[i] == img[at..at + n * 512]
    }
}

/// Pseudo-random 4 KiB-aligned spans over the disk.
fn random_spans(n: usize, blocks: usize, seed: u64) -> Vec<(u64, usize)> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let slots = (SECTORS / 8) as u64 - 1;
            ((x >> 33) % slots * 8, blocks)
        })
        .collect()
}

#[test]
fn a_batch_reads_what_single_reads_do_and_keeps_its_reads_in_flight() {
    let h = harness();
    let img = image();
    for (legacy, interrupts) in [(false, false), (true, false), (false, true), (true, true)] {
        let what = format!("legacy={legacy} irq={interrupts}");
        let dev = device(
            &h,
            BlkOptions {
                legacy,
                ..BlkOptions::default()
            },
            interrupts,
        );
        for qd in [1usize, 4, 16, 32] {
            let spans = random_spans(qd, 8, qd as u64 + legacy as u64);
            let mut b = Batch::new(&spans);
            let before = dev.stats();
            let (r, st) = b.run(&h);
            let after = dev.stats();
            assert_eq!(r, 0, "{what} qd {qd}: {st:?}");
            assert!(st.iter().all(Result::is_ok), "{what} qd {qd}: {st:?}");
            assert_eq!(after.requests - before.requests, qd as u64);
            assert_eq!(
                after.notifies - before.notifies,
                1,
                "{what} qd {qd}: the batch is published, then one kick"
            );
            // The same reads one at a time.
            for (i, &(lba, n)) in spans.iter().enumerate() {
                let mut one = vec![0u8; n * 512];
                assert_eq!((h.read_into)(lba, one.as_mut_ptr(), one.len() as u64), 0);
                assert_eq!(b.bufs[i], one, "{what} qd {qd} request {i}");
                assert!(b.holds(i, &img), "{what} qd {qd} request {i}");
            }
            assert_eq!((h.queue_state)() & 0xffff, 0, "nothing left in flight");
        }
        assert!(
            dev.violations().is_empty(),
            "{what}: {:?}",
            dev.violations()
        );
        assert!(dev.stats().segments_in_caller_buffers > 0, "zero-copy");
        assert_eq!((h.down)(), 0);
    }
}

#[test]
fn mixed_sizes_and_batches_larger_than_the_queue() {
    let h = harness();
    let img = image();
    // A 16-entry queue holds five 3-descriptor chains at a time.
    let dev = device(
        &h,
        BlkOptions {
            queue_size: 16,
            ..BlkOptions::default()
        },
        false,
    );
    assert_eq!((h.queue_state)() >> 16, 16);
    let spans: Vec<(u64, usize)> = (0..40u64)
        .map(|i| (i * 97 % 4000, [1usize, 8, 3, 64, 16][i as usize % 5]))
        .collect();
    let mut b = Batch::new(&spans);
    let before = dev.stats();
    let (r, st) = b.run(&h);
    assert_eq!(r, 0, "{st:?}");
    for (i, span) in spans.iter().enumerate() {
        assert!(b.holds(i, &img), "request {i} {span:?}");
    }
    let notifies = dev.stats().notifies - before.notifies;
    assert!(
        (8..40).contains(&notifies),
        "40 reads in rounds of what the ring holds: {notifies} kicks"
    );
    assert_eq!((h.queue_state)() & 0xffff, 0);
    (h.down)();

    // More than the driver's 64 slots on the default queue, and reads that
    // cannot be one chain (seg_max 2 × size_max 1024 holds 2 KiB): those go
    // through the single-request path, split, between the batched ones.
    for opts in [
        BlkOptions::default(),
        BlkOptions {
            seg_max: Some(2),
            size_max: Some(1024),
            ..BlkOptions::default()
        },
    ] {
        let dev = device(&h, opts.clone(), false);
        let spans: Vec<(u64, usize)> = (0..100u64)
            .map(|i| (i * 37 % 4000, [8usize, 1, 2, 4][i as usize % 4]))
            .collect();
        let mut b = Batch::new(&spans);
        let (r, st) = b.run(&h);
        assert_eq!(r, 0, "{opts:?}: {st:?}");
        for i in 0..spans.len() {
            assert!(b.holds(i, &img), "{opts:?}: request {i}");
        }
        assert!(dev.violations().is_empty(), "{:?}", dev.violations());
        (h.down)();
    }

    // Without address translation every read goes through the bounce buffer,
    // one at a time: still the right bytes.
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    testing::memory(|m| m.translate_enabled = false);
    let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
    dev.install(ADDR);
    assert_eq!((h.up)(ADDR.to_abi_u32(), TIMEOUT_NS), SECTORS as i64);
    let mut b = Batch::new(&random_spans(12, 8, 7));
    assert_eq!(b.run(&h).0, 0);
    assert!((0..12).all(|i| b.holds(i, &img)));
    assert_eq!(dev.stats().segments_in_caller_buffers, 0);
    assert_eq!((h.down)(), 0);
}

#[test]
fn an_error_fails_its_own_request_and_the_rest_are_read() {
    let h = harness();
    let img = image();
    let dev = device(&h, BlkOptions::default(), false);
    let spans = [
        (8u64, 8usize),
        (16, 8),
        (SECTORS as u64 - 4, 8),
        (24, 8),
        (32, 8),
        (40, 8),
    ];

    // IOERR on the third request the device sees (the fourth of the batch:
    // the third is refused by the driver, out of range), UNSUPP on the fifth.
    dev.inject(Fault::Pass);
    dev.inject(Fault::Pass);
    dev.inject(Fault::IoErr);
    dev.inject(Fault::Unsupp);
    let mut b = Batch::new(&spans);
    let (r, st) = b.run(&h);
    assert_eq!(
        st,
        [
            Ok(()),
            Ok(()),
            Err(BlockError::OutOfRange),
            Err(BlockError::Io),
            Err(BlockError::Unsupported),
            Ok(())
        ]
    );
    assert_eq!(
        r,
        -(BlockError::OutOfRange as i64),
        "the first error in order"
    );
    for i in [0, 1, 5] {
        assert!(b.holds(i, &img), "request {i}");
    }
    assert_eq!((h.recoveries)(), 0, "a status error is no reason to reset");
    assert_eq!((h.queue_state)() & 0xffff, 0);

    // Through the hosting layer the same batch is `Err(OutOfRange)`, the
    // device errors `Err(Io)`; the driver stays up.
    drop(dev);
    let mut blk = bind(&h);
    let dev = DEV.with(|d| d.borrow().clone().unwrap());
    dev.inject(Fault::Pass);
    dev.inject(Fault::IoErr);
    let mut bufs = vec![vec![0u8; 4096]; 4];
    let mut reqs: Vec<ReadRequest<'_>> = bufs
        .iter_mut()
        .enumerate()
        .map(|(i, b)| ReadRequest {
            lba: Lba::new(8 * i as u64),
            buf: b,
        })
        .collect();
    assert_eq!(blk.read_many(&mut reqs), Err(BlockError::Io));
    drop(reqs);
    assert_eq!(bufs[0], img[0..4096]);
    assert_eq!(bufs[2], img[16 * 512..16 * 512 + 4096]);
    let mut buf = vec![0u8; 4096];
    blk.read_blocks(Lba::new(8), &mut buf).unwrap();
    assert_eq!(buf, img[8 * 512..8 * 512 + 4096]);
}

#[test]
fn a_misbehaving_device_fails_the_batch_clearly_and_the_driver_recovers() {
    let h = harness();
    let img = image();
    let dev = device(&h, BlkOptions::default(), false);
    let spans: Vec<(u64, usize)> = random_spans(8, 8, 3);
    for (fault, code) in [
        (Fault::BogusUsedId, BlockError::DeviceMisbehaved),
        (Fault::StaleUsedId, BlockError::DeviceMisbehaved),
        (Fault::RepeatUsedId, BlockError::DeviceMisbehaved),
        (Fault::BogusUsedLen, BlockError::DeviceMisbehaved),
        (Fault::BadStatusByte, BlockError::DeviceMisbehaved),
        (Fault::ShortOk, BlockError::DeviceMisbehaved),
        (Fault::NeverComplete, BlockError::Timeout),
    ] {
        let before = (h.recoveries)();
        // The fault hits the third request of the batch.
        dev.inject(Fault::Pass);
        dev.inject(Fault::Pass);
        dev.inject(fault);
        let mut b = Batch::new(&spans);
        let started = std::time::Instant::now();
        let (r, st) = b.run(&h);
        assert_eq!(r, -(code as i64), "{fault:?}: {st:?}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{fault:?}: bounded"
        );
        assert!(st.contains(&Err(code)), "{fault:?}: {st:?}");
        for (i, s) in st.iter().enumerate() {
            match s {
                Ok(()) => assert!(
                    b.holds(i, &img),
                    "{fault:?}: request {i} Ok but wrong bytes"
                ),
                Err(e) => assert_eq!(*e, code, "{fault:?}: request {i}"),
            }
        }
        assert_eq!((h.recoveries)() - before, 1, "{fault:?}: device reset");
        assert_eq!(
            (h.queue_state)() & 0xffff,
            0,
            "{fault:?}: nothing in flight"
        );
        // Reset and re-initialised: the next batch is whole.
        let mut again = Batch::new(&spans);
        let (r, st) = again.run(&h);
        assert_eq!(r, 0, "after {fault:?}: {st:?}");
        assert!(
            (0..spans.len()).all(|i| again.holds(i, &img)),
            "after {fault:?}"
        );
    }
    assert_eq!((h.down)(), 0);
}

thread_local! {
    static DEV: RefCell<Option<VirtioBlkDevice>> = const { RefCell::new(None) };
}

/// A fresh device bound through the hosting layer, as the kernel binds it.
fn bind(h: &Harness) -> Box<dyn BlockDevice> {
    (h.down)();
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
    dev.install(ADDR);
    DEV.with(|d| *d.borrow_mut() = Some(dev));
    let drivers = h.rt.borrow().drivers();
    let md = ManagedDriver::new(&h.rt, drivers[0].clone()).expect("entry points");
    let p = testing::platform();
    let pci = ddk::pci::PciDevice::probe(&p, ADDR).unwrap().unwrap();
    ddk::driver::Driver::bind(&md, p, &pci).expect("bind")
}

#[test]
fn read_many_through_the_hosting_layer_batches_and_a_hang_is_a_driver_failure() {
    let h = harness();
    let img = image();
    let mut blk = bind(&h);
    let dev = DEV.with(|d| d.borrow().clone().unwrap());
    let spans = random_spans(32, 8, 11);
    let mut bufs = vec![vec![0u8; 4096]; spans.len()];
    let before = dev.stats();
    let mut reqs: Vec<ReadRequest<'_>> = bufs
        .iter_mut()
        .zip(&spans)
        .map(|(b, &(lba, _))| ReadRequest {
            lba: Lba::new(lba),
            buf: b,
        })
        .collect();
    blk.read_many(&mut reqs).unwrap();
    drop(reqs);
    assert_eq!(
        dev.stats().notifies - before.notifies,
        1,
        "32 reads, one kick"
    );
    for (b, &(lba, _)) in bufs.iter().zip(&spans) {
        let at = lba as usize * 512;
        assert_eq!(b[..], img[at..at + 4096]);
    }
    assert!(blk.read_many(&mut []).is_ok());

    // A request the device never completes: the driver's bound expires
    // (DriverConfig's 5 s of the fake clock's virtual time, 10 ms a read
    // here) and the hosting watchdog stops the driver, as for a single read.
    testing::settings(|s| s.tick_ns = 10_000_000);
    dev.inject(Fault::NeverComplete);
    let mut bufs = vec![vec![0u8; 4096]; 4];
    let mut reqs: Vec<ReadRequest<'_>> = bufs
        .iter_mut()
        .enumerate()
        .map(|(i, b)| ReadRequest {
            lba: Lba::new(8 * i as u64),
            buf: b,
        })
        .collect();
    assert_eq!(blk.read_many(&mut reqs), Err(BlockError::DriverFailed));
    assert_eq!(blk.read_many(&mut reqs), Err(BlockError::DriverFailed));
    drop(reqs);
    let mut buf = vec![0u8; 512];
    assert_eq!(
        blk.read_blocks(Lba::new(0), &mut buf),
        Err(BlockError::DriverFailed)
    );
    assert!(
        testing::logs()
            .iter()
            .any(|(_, l)| l.contains("did not complete the request in time")),
        "the driver said why it reset: {:?}",
        testing::logs()
    );
}
