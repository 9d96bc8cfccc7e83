//! What one block request costs each driver, native and managed (through
//! the hosting layer, as the kernel binds it), against ddk::testing's
//! virtio-blk model: the platform calls per request (device register
//! accesses, which are traps under a hypervisor, address translations,
//! clock reads), checked; and, for profiling, the same request loops run
//! alone so a tool such as callgrind counts their instructions:
//!
//! ```text
//! REQUEST_COST=managed-qd32 valgrind --tool=callgrind --collect-atstart=no \
//!     target/release/deps/request_cost-<hash> --ignored --exact profile_one_loop
//! ```
//!
//! The harness switches callgrind's collection on for the measured loop
//! only (after a warm-up that compiles the managed code) and off again
//! around every call into the device model, so what is counted is the
//! driver side: driver, hosting layer, DDK ABI and the fake platform's
//! entries, not the device's work.
//!
//! `REQUEST_COST` names the driver (`native`, `managed`) and the loop
//! (`qd1`: 4 KiB random reads one at a time; `qd4`, `qd32`: the same in
//! batches of 4 or 32 through `read_many`; `seq-read`, `seq-write`: 1 MiB requests;
//! `refused`: a 100-byte read the driver refuses before the device sees it,
//! the call path alone, as the kernel's `blk-refused-call` measures it).

mod common;

use cil_compat::hosting::driver::SharedRuntime;
use cil_compat::hosting::ManagedDriver;
use ddk::abi::Width;
use ddk::driver::Driver;
use ddk::testing::{self, BlkOptions, CallCounts, DeviceModel, FakeMemory, VirtioBlkDevice};
use ddk::{BlockDevice, Lba, PciAddress, ReadRequest};

const ADDR: PciAddress = PciAddress::new_truncate(0, 3, 0);
/// 16 MiB of disk.
const SECTORS: usize = 32 * 1024;
const PAGE: usize = 4096;
const MIB: usize = 1 << 20;

/// One engine may be active per process: tests take turns.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn runtime() -> SharedRuntime {
    common::hosted_runtime()
}

/// Valgrind's client request `CALLGRIND_TOGGLE_COLLECT` (callgrind.h:
/// `VG_USERREQ_TOOL_BASE('C','T') + 2`); outside valgrind the sequence
/// leaves every register as it was and does nothing.
fn toggle_collect() {
    let args: [u64; 6] = [0x4354_0002, 0, 0, 0, 0, 0];
    // SAFETY: valgrind's "special instruction" preamble (four rotations of
    // rdi by 128 bits in all, then `xchg rbx, rbx`): rdi and rbx end as they
    // were; valgrind reads the six words at rax and writes its answer to rdx.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3", "rol rdi, 13", "rol rdi, 61", "rol rdi, 51", "xchg rbx, rbx",
            in("rax") args.as_ptr(),
            inout("rdx") 0u64 => _,
            inout("rdi") 0u64 => _,
        );
    }
}

thread_local! {
    /// Whether the measured loop runs (collection is on).
    static MEASURING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The device model with collection off while it works (when measuring).
struct Uncounted(Box<dyn DeviceModel>);

impl Uncounted {
    fn quiet<R>(f: impl FnOnce() -> R) -> R {
        let on = MEASURING.with(|m| m.get());
        if on {
            toggle_collect();
        }
        let r = f();
        if on {
            toggle_collect();
        }
        r
    }
}

impl DeviceModel for Uncounted {
    fn bar_read(&mut self, bar: u8, offset: u64, width: Width, mem: &mut FakeMemory) -> u64 {
        Self::quiet(|| self.0.bar_read(bar, offset, width, mem))
    }
    fn bar_write(&mut self, bar: u8, offset: u64, width: Width, value: u64, mem: &mut FakeMemory) {
        Self::quiet(|| self.0.bar_write(bar, offset, width, value, mem))
    }
    fn take_interrupt(&mut self, mem: &mut FakeMemory) -> bool {
        Self::quiet(|| self.0.take_interrupt(mem))
    }
    fn poll(&mut self, mem: &mut FakeMemory) {
        Self::quiet(|| self.0.poll(mem))
    }
}

/// A fresh fake platform with one virtio-blk function.
fn platform() -> VirtioBlkDevice {
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    let image: Vec<u8> = (0..SECTORS * 512)
        .map(|i| (i * 7 + i / 512) as u8)
        .collect();
    let dev = VirtioBlkDevice::new(image, BlkOptions::default());
    dev.install(ADDR);
    testing::wrap_model(ADDR, |m| Box::new(Uncounted(m)));
    dev
}

fn pci() -> ddk::pci::PciDevice {
    ddk::pci::PciDevice::probe(&testing::platform(), ADDR)
        .unwrap()
        .unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Native,
    Managed,
}

/// The driver bound to a fresh device. The runtime (managed) must outlive it.
fn bind(kind: Kind, rt: Option<&SharedRuntime>) -> Box<dyn BlockDevice> {
    let p = testing::platform();
    match kind {
        Kind::Native => virtio_blk::VirtioBlkDriver::default()
            .bind(p, &pci())
            .expect("native bind"),
        Kind::Managed => {
            let rt = rt.expect("a runtime");
            let drivers = rt.borrow().drivers();
            let md = ManagedDriver::new(rt, drivers[0].clone()).expect("entry points");
            // The driver object only hands out the device; the device keeps
            // what it needs (the engine lives in `rt`).
            md.bind(p, &pci()).expect("managed bind")
        }
    }
}

/// Page-aligned buffers (the kernel's are physically contiguous; the fake
/// platform translates one host page at a time).
struct Bufs {
    raw: Vec<u8>,
    at: usize,
}

impl Bufs {
    fn new(bytes: usize) -> Bufs {
        let raw = vec![0u8; bytes + PAGE];
        let at = raw.as_ptr().align_offset(PAGE);
        Bufs { raw, at }
    }
    fn get(&mut self) -> &mut [u8] {
        let n = self.raw.len() - PAGE;
        &mut self.raw[self.at..self.at + n]
    }
}

/// 4 KiB-aligned LBAs, the kernel benchmark's sequence.
fn lbas(n: usize) -> Vec<u64> {
    common::random_4k_lbas(n, SECTORS, 0x9e37_79b9_7f4a_7c15)
}

#[inline(never)]
fn measure_qd1(dev: &mut dyn BlockDevice, bufs: &mut Bufs, lbas: &[u64]) {
    let b = &mut bufs.get()[..PAGE];
    for &lba in lbas {
        dev.read_blocks(Lba::new(lba), b).expect("read");
    }
}

#[inline(never)]
fn measure_batches(dev: &mut dyn BlockDevice, bufs: &mut Bufs, lbas: &[u64], depth: usize) {
    let all = bufs.get();
    for batch in lbas.chunks(depth) {
        let mut reqs: Vec<ReadRequest<'_>> = all
            .chunks_mut(PAGE)
            .zip(batch)
            .map(|(buf, &lba)| ReadRequest {
                lba: Lba::new(lba),
                buf,
            })
            .collect();
        dev.read_many(&mut reqs).expect("batch");
    }
}

#[inline(never)]
fn measure_refused(dev: &mut dyn BlockDevice, count: usize) {
    let mut odd = [0u8; 100];
    for _ in 0..count {
        assert!(dev.read_blocks(Lba::new(0), &mut odd).is_err());
    }
}

#[inline(never)]
fn measure_seq(dev: &mut dyn BlockDevice, bufs: &mut Bufs, count: usize, write: bool) {
    let b = &mut bufs.get()[..MIB];
    for i in 0..count {
        let lba = Lba::new((i * MIB / 512) as u64 % (SECTORS as u64 - 2048));
        if write {
            dev.write_blocks(lba, b).expect("write");
        } else {
            dev.read_blocks(lba, b).expect("read");
        }
    }
}

/// The loops: name, requests, and how to run them.
fn run_loop(name: &str, dev: &mut dyn BlockDevice, requests: usize) {
    match name {
        "qd1" => measure_qd1(dev, &mut Bufs::new(PAGE), &lbas(requests)),
        "qd4" => measure_batches(dev, &mut Bufs::new(4 * PAGE), &lbas(requests), 4),
        "qd32" => measure_batches(dev, &mut Bufs::new(32 * PAGE), &lbas(requests), 32),
        "seq-read" => measure_seq(dev, &mut Bufs::new(MIB), requests, false),
        "seq-write" => measure_seq(dev, &mut Bufs::new(MIB), requests, true),
        "refused" => measure_refused(dev, requests),
        other => panic!("unknown loop {other}"),
    }
}

/// Platform calls of `requests` requests of loop `name` on a fresh device,
/// after a warm-up (the managed code compiles lazily).
fn calls(kind: Kind, rt: Option<&SharedRuntime>, name: &str, requests: usize) -> CallCounts {
    let _dev = platform();
    let mut blk = bind(kind, rt);
    run_loop(name, &mut *blk, 64.min(requests));
    let before = testing::call_counts();
    run_loop(name, &mut *blk, requests);
    testing::call_counts() - before
}

#[test]
fn managed_requests_make_no_more_platform_calls_than_native_ones() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    for (name, n) in [
        ("qd1", 256usize),
        ("qd4", 256),
        ("qd32", 256),
        ("seq-read", 8),
        ("seq-write", 8),
    ] {
        let native = calls(Kind::Native, None, name, n);
        let managed = calls(Kind::Managed, Some(&rt), name, n);
        eprintln!("{name}: {n} requests\n  native  {native:?}\n  managed {managed:?}");
        assert!(
            managed.register_accesses() <= native.register_accesses(),
            "{name}: managed {managed:?} vs native {native:?}"
        );
        assert!(
            managed.virt_to_phys <= native.virt_to_phys && managed.time_ns <= native.time_ns,
            "{name}: managed {managed:?} vs native {native:?}"
        );
    }
}

/// The loop a profiler counts: collection on for it alone.
fn measured(name: &str, dev: &mut dyn BlockDevice, requests: usize) {
    MEASURING.with(|m| m.set(true));
    toggle_collect();
    run_loop(name, dev, requests);
    toggle_collect();
    MEASURING.with(|m| m.set(false));
}

/// One loop alone, for a profiler (see the file header); ignored by default.
#[test]
#[ignore]
fn profile_one_loop() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let what = std::env::var("REQUEST_COST").unwrap_or_else(|_| String::from("managed-qd1"));
    let (driver, name) = what.split_once('-').expect("driver-loop");
    let kind = match driver {
        "native" => Kind::Native,
        "managed" => Kind::Managed,
        other => panic!("unknown driver {other}"),
    };
    let requests: usize = std::env::var("REQUEST_COST_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if name.starts_with("seq") { 32 } else { 1024 });
    let rt = (kind == Kind::Managed).then(runtime);
    let _dev = platform();
    let mut blk = bind(kind, rt.as_ref());
    // Warm-up: lazy compilation, first-use allocations.
    run_loop(name, &mut *blk, requests);
    let before = testing::call_counts();
    measured(name, &mut *blk, requests);
    let c = testing::call_counts() - before;
    eprintln!("{what}: {requests} requests: {c:?}");
    // `REQUEST_COST_LOCATE="0x... 0x..."`: which managed methods hold these
    // code addresses (a profile of an earlier identical run names them only
    // by address).
    if let (Some(rt), Ok(addrs)) = (&rt, std::env::var("REQUEST_COST_LOCATE")) {
        let r = rt.borrow();
        for a in addrs.split_whitespace() {
            let Ok(addr) = u64::from_str_radix(a.trim_start_matches("0x"), 16) else {
                continue;
            };
            match r.engine.locate(addr) {
                Some((m, off, _)) => eprintln!("locate {a} {}+{off}", r.engine.method_name(m)),
                None => eprintln!("locate {a} ?"),
            }
        }
    }
}
