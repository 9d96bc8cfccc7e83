//! A virtio-blk device that polls its available ring and asks for no
//! notifications (VIRTQ_USED_F_NO_NOTIFY, virtio 1.2 §2.7.10), as QEMU's
//! virtio-blk does when an iothread serves it: both drivers, the managed one
//! hosted as the kernel hosts it (DMA guard on), read and write many more
//! requests than the queue holds, one at a time and in batches, and get the
//! device's bytes. The managed driver kicks after every publication so that
//! the DMA guard sees each one; the guard checks it and then drops the
//! notification the device did not ask for.
//!
//! Before the guard learnt this, it refused the first kick after the device
//! had taken more than a queue's worth of requests without one ("available
//! index moved by 590, more than the queue's 256 entries"), and the managed
//! driver failed on QEMU with `-object iothread`.

mod common;

use cil_compat::hosting::driver::SharedRuntime;
use cil_compat::hosting::ManagedDriver;
use ddk::driver::Driver;
use ddk::testing::{self, BlkOptions, VirtioBlkDevice};
use ddk::{BlockDevice, Lba, PciAddress, ReadRequest};

const ADDR: PciAddress = PciAddress::new_truncate(0, 3, 0);
const SECTORS: usize = 8192;
const PAGE: usize = 4096;
/// Requests per pass: several times the queue.
const REQUESTS: usize = 700;

/// One engine may be active per process: tests take turns.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn image() -> Vec<u8> {
    (0..SECTORS * 512)
        .map(|i| (i * 11 + i / 512 * 3) as u8)
        .collect()
}

fn runtime() -> SharedRuntime {
    common::hosted_runtime()
}

/// A fresh fake platform with one polling virtio-blk function (queue of
/// 128, so `REQUESTS` wraps the ring several times).
fn polling_device() -> VirtioBlkDevice {
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    let dev = VirtioBlkDevice::new(image(), BlkOptions::default());
    dev.poll_rings();
    dev.install(ADDR);
    dev
}

fn bind(rt: Option<&SharedRuntime>) -> Box<dyn BlockDevice> {
    let p = testing::platform();
    let pci = ddk::pci::PciDevice::probe(&p, ADDR).unwrap().unwrap();
    match rt {
        None => virtio_blk::VirtioBlkDriver::default()
            .bind(p, &pci)
            .expect("native bind"),
        Some(rt) => {
            let drivers = rt.borrow().drivers();
            let md = ManagedDriver::new(rt, drivers[0].clone()).expect("entry points");
            md.bind(p, &pci).expect("managed bind")
        }
    }
}

fn lbas(n: usize, seed: u64) -> Vec<u64> {
    common::random_4k_lbas(n, SECTORS, seed)
}

/// Single reads, batches of 32, then single writes read back: every byte as
/// the device holds it. Returns the requests the device served.
fn exercise(dev: &mut dyn BlockDevice, model: &VirtioBlkDevice) -> u64 {
    let mut buf = vec![0u8; PAGE];
    for &lba in &lbas(REQUESTS, 0x9e37_79b9_7f4a_7c15) {
        dev.read_blocks(Lba::new(lba), &mut buf)
            .unwrap_or_else(|e| panic!("read at LBA {lba}: {e:?}"));
        let img = model.image();
        let at = lba as usize * 512;
        assert!(buf == img[at..at + PAGE], "read at LBA {lba}: wrong bytes");
    }
    let mut bufs = vec![0u8; 32 * PAGE];
    for batch in lbas(REQUESTS, 0x1234_5678_9abc_def1).chunks(32) {
        let mut reqs: Vec<ReadRequest<'_>> = bufs
            .chunks_mut(PAGE)
            .zip(batch)
            .map(|(buf, &lba)| ReadRequest {
                lba: Lba::new(lba),
                buf,
            })
            .collect();
        dev.read_many(&mut reqs).expect("batch");
        let img = model.image();
        for (b, &lba) in bufs.chunks(PAGE).zip(batch) {
            let at = lba as usize * 512;
            assert!(
                b == &img[at..at + PAGE],
                "batched read at LBA {lba}: wrong bytes"
            );
        }
    }
    for (i, &lba) in lbas(REQUESTS / 2, 0x0dd_ba11).iter().enumerate() {
        let data: Vec<u8> = (0..PAGE).map(|k| (k + i) as u8 ^ 0x5a).collect();
        dev.write_blocks(Lba::new(lba), &data)
            .unwrap_or_else(|e| panic!("write at LBA {lba}: {e:?}"));
        let at = lba as usize * 512;
        assert!(
            model.image()[at..at + PAGE] == data[..],
            "write at LBA {lba}"
        );
    }
    model.stats().requests
}

#[test]
fn the_managed_driver_serves_a_device_that_polls_its_ring() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let rt = runtime();
    let model = polling_device();
    let mut dev = bind(Some(&rt));
    let served = exercise(&mut *dev, &model);
    assert!(served >= 2 * REQUESTS as u64, "{served} requests served");
    // The guard checked every kick and forwarded only those the device
    // wanted: one per pause of its polling (and maybe the first request's,
    // before it first polled).
    let notified = model.stats().notifies;
    let pauses = served / testing::POLL_STRETCH as u64;
    assert!(
        notified <= pauses + 2,
        "{notified} notifications reached the device, which paused its polling {pauses} times"
    );
    assert!(model.violations().is_empty(), "{:?}", model.violations());
    drop(dev);
}

#[test]
fn the_native_driver_serves_a_device_that_polls_its_ring() {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let model = polling_device();
    let mut dev = bind(None);
    let served = exercise(&mut *dev, &model);
    assert!(served >= 2 * REQUESTS as u64, "{served} requests served");
    assert!(model.violations().is_empty(), "{:?}", model.violations());
}
