//! The managed virtio-blk driver, JIT-compiled, against a device that answers
//! with arbitrary values (the DDK device model's chaos mode: register reads
//! and completions lie as seeded random bytes decide), each call under a
//! recovery point as in the kernel. What must hold: no hang, nothing escapes
//! the guard, no `Ok` with bytes that are not the image's, and no driver
//! fault (a lying device must get an error, not crash the driver: faults are
//! counted and listed). The managed twin of
//! `native-drivers/virtio-blk/tests/fuzz_smoke.rs`; `MANAGED_CHAOS_ITERS`
//! runs longer.

use std::cell::RefCell;
use std::rc::Rc;

use cil_compat::exec::cli::MmapMemory;
use cil_compat::hosting::{guard, host_signals, Runtime};
use cil_compat::toolchain;
use ddk::abi::BlockReadRequest;
use ddk::testing::{self, BlkOptions, VirtioBlkDevice};
use ddk::PciAddress;

const ADDR: PciAddress = PciAddress::new_truncate(0, 3, 0);
const SECTORS: usize = 1024;

fn image() -> Vec<u8> {
    (0..SECTORS * 512)
        .map(|i| (i * 7 + i / 512 * 13) as u8)
        .collect()
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The device's shape from one byte (as `virtio_blk::fuzzing` does).
fn options(b: u8) -> BlkOptions {
    BlkOptions {
        legacy: b & 1 != 0,
        transitional: b & 2 != 0,
        read_only: b & 4 != 0,
        flush: b & 8 != 0,
        seg_max: if b & 16 != 0 {
            Some(u32::from(b >> 5) + 1)
        } else {
            None
        },
        size_max: if b & 32 != 0 { Some(4096) } else { None },
        queue_size: [4, 16, 128, 256][usize::from(b >> 6)],
        ..BlkOptions::default()
    }
}

type Up = extern "C" fn(u32, u64, u32) -> i64;
type Io = extern "C" fn(u64, *mut u8, u64) -> i64;
type F0 = extern "C" fn() -> i64;
type Many = extern "C" fn(*mut BlockReadRequest, u32) -> i64;

#[test]
fn a_lying_device_gets_errors_from_the_managed_driver_never_a_crash_or_bad_data() {
    host_signals::install();
    let src = toolchain::managed_src_dir();
    let ddk = toolchain::build_library("Ddk", &toolchain::cs_files(&src.join("ddk")).unwrap(), &[])
        .expect("mcs: Ddk");
    let drv = toolchain::build_library(
        "VirtioBlk",
        &toolchain::cs_files(&src.join("drivers/virtio-blk")).unwrap(),
        std::slice::from_ref(&ddk),
    )
    .expect("mcs: VirtioBlk");
    let harness = toolchain::build_library(
        "VirtioBlkHarness",
        &[src.join("drivers/virtio-blk/tests/Harness.cs")],
        &[ddk.clone(), drv.clone()],
    )
    .expect("mcs: harness");
    let corlib = toolchain::corlib().unwrap();
    let files = cil_compat::host::read_assemblies(&[&corlib, &ddk, &drv, &harness]).unwrap();
    let named = cil_compat::host::as_named(&files);
    testing::reset();
    // SAFETY: the fake table upholds the ABI contracts; this test binary
    // runs no other engine.
    let rt = unsafe { Runtime::new(&named, Box::new(MmapMemory::new()), &testing::FAKE_ABI) }
        .expect("load and bind");
    let rt = Rc::new(RefCell::new(rt));
    let code = |name: &str| -> u64 {
        rt.borrow_mut()
            .compile("Harness", name)
            .unwrap_or_else(|e| panic!("JIT Harness::{name}: {e}"))
    };
    // SAFETY (all six): JIT code of static methods with exactly these
    // integer/pointer signatures; the managed convention for them is SysV.
    let up: Up = unsafe { std::mem::transmute::<u64, Up>(code("UpWith")) };
    let read_into: Io = unsafe { std::mem::transmute::<u64, Io>(code("ReadInto")) };
    let write_from: Io = unsafe { std::mem::transmute::<u64, Io>(code("WriteFrom")) };
    let flush: F0 = unsafe { std::mem::transmute::<u64, F0>(code("Flush")) };
    let down: F0 = unsafe { std::mem::transmute::<u64, F0>(code("Down")) };
    let read_many: Many = unsafe { std::mem::transmute::<u64, Many>(code("ReadMany")) };
    let block_size: F0 = unsafe { std::mem::transmute::<u64, F0>(code("BlockSize")) };

    let iters: usize = std::env::var("MANAGED_CHAOS_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let mut rng = Rng(0x3A4A_9ED0_C4A0_5ED1);
    let (mut refused, mut used) = (0usize, 0usize);
    let mut faults: Vec<String> = Vec::new();
    let mut buf = vec![0u8; 64 * 512];
    for i in 0..iters {
        let shape = rng.next() as u8;
        let chaos: Vec<u8> = (0..rng.next() % 600).map(|_| rng.next() as u8).collect();
        testing::reset();
        testing::settings(|s| s.echo_logs = false);
        let dev = VirtioBlkDevice::new(image(), options(shape));
        dev.install(ADDR);
        dev.chaos(&chaos);
        let mut guarded = |what: &str, f: &mut dyn FnMut() -> i64| -> Option<i64> {
            // SAFETY: the closure only calls JIT code of the harness; a
            // failure abandons nothing but those frames.
            match unsafe { guard::run(1, || f() as u64) } {
                Ok(v) => Some(v as i64),
                Err(failed) => {
                    faults.push(format!("input {i} ({what}): {}", failed.report));
                    None
                }
            }
        };
        let Some(blocks) = guarded("bind", &mut || up(ADDR.to_abi_u32(), 2_000_000, 2_000)) else {
            continue;
        };
        if blocks < 0 {
            refused += 1;
            continue;
        }
        used += 1;
        // LBAs count the driver's blocks: 512 bytes, or the blk_size a
        // (possibly lying) device offers; the protocol's sectors stay 512.
        let Some(bs) = guarded("block size", &mut || block_size()).map(|b| b as usize) else {
            continue;
        };
        let truth = |dev: &VirtioBlkDevice, lba: u64, b: &[u8]| {
            let at = lba as usize * bs;
            b.len().is_multiple_of(bs) && dev.image().get(at..at + b.len()) == Some(b)
        };
        for (lba, n) in [(0u64, 1usize), (100, 16), (3, 64), (SECTORS as u64 - 2, 2)] {
            let b = &mut buf[..n * 512];
            let p = b.as_mut_ptr();
            if guarded("read", &mut || read_into(lba, p, (n * 512) as u64)) == Some(0) {
                assert!(
                    truth(&dev, lba, b),
                    "input {i}: read of {} bytes at LBA {lba} (blocks of {bs} B) returned Ok with bytes that are not the image's",
                    n * 512
                );
            }
        }
        // A batch (Batch.cs): every request the driver calls Ok holds the
        // image's bytes, whatever the device said about the others.
        let spans = [
            (8u64, 8usize),
            (900, 1),
            (40, 8),
            (SECTORS as u64 - 8, 8),
            (64, 3),
        ];
        let mut bufs: Vec<Vec<u8>> = spans.iter().map(|&(_, n)| vec![0xEE; n * 512]).collect();
        let mut reqs: Vec<BlockReadRequest> = spans
            .iter()
            .zip(bufs.iter_mut())
            .map(|(&(lba, _), b)| BlockReadRequest {
                lba,
                buf: b.as_mut_ptr(),
                len: b.len() as u64,
                status: 0xdead,
                reserved: 0,
            })
            .collect();
        let (p, n) = (reqs.as_mut_ptr(), reqs.len() as u32);
        if guarded("batch", &mut || read_many(p, n)).is_some() {
            for (k, r) in reqs.iter().enumerate() {
                if r.status == 0 {
                    assert!(
                        truth(&dev, spans[k].0, &bufs[k]),
                        "input {i}: batch read {k} Ok with bytes that are not the image's"
                    );
                }
            }
        }
        let mut data: Vec<u8> = (0..8 * 512).map(|k| (k * 31 + i) as u8).collect();
        let p = data.as_mut_ptr();
        if guarded("write", &mut || write_from(200, p, data.len() as u64)) == Some(0) {
            assert!(
                truth(&dev, 200, &data),
                "input {i}: write returned Ok but the image does not hold it"
            );
        }
        // A reset never changes the geometry the caller addresses blocks by.
        if let Some(now) = guarded("block size", &mut || block_size()) {
            assert_eq!(
                now as usize, bs,
                "input {i}: the block size changed under its user"
            );
        }
        guarded("flush", &mut || flush());
        guarded("down", &mut || down());
    }
    eprintln!(
        "{iters} lying devices: {refused} refused at bring-up, {used} bound and used, {} driver faults",
        faults.len()
    );
    assert!(used > iters / 10, "the replay must get past bring-up");
    assert!(
        faults.is_empty(),
        "driver faults on a lying device:\n{}",
        faults.join("\n")
    );
}
