//! The hosting layer on the host, as the kernel uses it: imports that name no
//! ABI entry or differ in signature fail the load naming the method; a
//! managed driver that faults (runtime error or CPU fault) during bind or
//! during a request is contained with a report naming the managed method and
//! IL offset, its device resources are released, and a supervised block
//! device re-issues the failed request on the fallback driver so its user
//! sees no error and no data is lost.

mod common;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Mutex;

use cil_compat::exec::cli::MmapMemory;
use cil_compat::hosting::supervise::Supervised;
use cil_compat::hosting::{host_signals, HostError, ManagedDriver, Runtime, Trap};
use cil_compat::toolchain;
use ddk::driver::{BindError, Driver};
use ddk::pci::{PciAddress, PciDevice};
use ddk::testing;
use ddk::{BlockDevice, BlockError, Lba};

/// One engine may be active per process: tests take turns.
static TURN: Mutex<()> = Mutex::new(());

const BS: usize = 512;
const BLOCKS: u64 = 64;

/// Builds `Ddk.dll` (shared) and an assembly `name` from `source`.
fn build(name: &str, source: &str) -> Vec<(String, Vec<u8>)> {
    let ddk = common::ddk();
    let dir = std::env::temp_dir().join(format!("cil-hosting-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cs: PathBuf = dir.join(format!("{name}.cs"));
    std::fs::write(&cs, source).unwrap();
    let dll = toolchain::build_library(name, &[cs], std::slice::from_ref(&ddk))
        .unwrap_or_else(|e| panic!("mcs {name}: {e}"));
    let corlib = toolchain::corlib().unwrap();
    cil_compat::host::read_assemblies(&[&corlib, &ddk, &dll]).unwrap()
}

fn runtime(files: &[(String, Vec<u8>)]) -> Result<Runtime, HostError> {
    let named = cil_compat::host::as_named(files);
    testing::reset();
    testing::settings(|s| s.echo_logs = false);
    // SAFETY: the fake table upholds the ABI contracts; TURN is held.
    unsafe { Runtime::new(&named, Box::new(MmapMemory::new()), &testing::FAKE_ABI) }
}

const HEADER: &str = "using System; using System.Runtime.CompilerServices; using Ddk;\n";

#[test]
fn an_import_naming_no_abi_entry_fails_the_load_naming_it() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    // A second `Ddk.Abi` class would clash with the DDK's; the binder looks
    // at every class of that name, so put it in its own assembly.
    let files = build(
        "BadImport",
        &format!(
            "{HEADER}namespace Ddk {{ public static class Abi {{
                [MethodImpl(MethodImplOptions.InternalCall)] public static extern uint frobnicate(uint x);
            }} }}"
        ),
    );
    let err = runtime(&files).err().expect("load must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("Ddk.Abi::frobnicate") && msg.contains("names no DDK ABI entry"),
        "{msg}"
    );
}

#[test]
fn an_import_with_another_signature_fails_the_load_naming_it() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let files = build(
        "BadSignature",
        &format!(
            "{HEADER}namespace Ddk {{ public static class Abi {{
                [MethodImpl(MethodImplOptions.InternalCall)] public static extern uint time_ns(uint wrong);
            }} }}"
        ),
    );
    let msg = runtime(&files).err().expect("load must fail").to_string();
    assert!(
        msg.contains("Ddk.Abi::time_ns") && msg.contains("signature (U32) -> U32"),
        "{msg}"
    );
}

#[test]
fn an_unknown_runtime_service_or_internal_call_fails_the_load() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let files = build(
        "BadService",
        &format!(
            "{HEADER}namespace Ddk {{ public static class Runtime {{
                [MethodImpl(MethodImplOptions.InternalCall)] public static extern void Teleport();
            }} }}"
        ),
    );
    let msg = runtime(&files).err().expect("load must fail").to_string();
    assert!(
        msg.contains("Ddk.Runtime::Teleport") && msg.contains("no runtime service"),
        "{msg}"
    );
    let files = build(
        "BadInternal",
        &format!(
            "{HEADER}namespace X {{ public static class Y {{
                [MethodImpl(MethodImplOptions.InternalCall)] public static extern void Z();
            }} }}"
        ),
    );
    let msg = runtime(&files).err().expect("load must fail").to_string();
    assert!(
        msg.contains("X.Y::Z") && msg.contains("does not implement"),
        "{msg}"
    );
}

#[test]
fn a_missing_or_malformed_assembly_is_named() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let mut files = build(
        "Lonely",
        &format!(
            "{HEADER}namespace L {{ public static class C {{ public static Ddk.Status S; }} }}"
        ),
    );
    files.remove(1); // Ddk.dll, which Lonely references
    let msg = runtime(&files).err().expect("load must fail").to_string();
    assert!(
        msg.contains("Lonely.dll references assembly 'Ddk'"),
        "{msg}"
    );
    let mut files = build(
        "Lonely",
        &format!(
            "{HEADER}namespace L {{ public static class C {{ public static Ddk.Status S; }} }}"
        ),
    );
    let n = files[2].1.len();
    files[2].1.truncate(n / 3);
    let msg = runtime(&files).err().expect("load must fail").to_string();
    assert!(msg.starts_with("load Lonely.dll: "), "{msg}");
}

/// A managed "driver" over a RAM disk that fails in the chosen way at its
/// n-th request; `ProbeBdf(function f)` picks the failure kind `f`.
const FAULTY: &str = r#"
namespace Faulty
{
    public unsafe class RamDisk : IBlockDevice
    {
        readonly byte[] _data = new byte[512 * 64];
        readonly int _kind;
        readonly int _failAt;
        int _requests;
        static int[] s_small = new int[2];
        static object s_null;
        public static int s_caught;

        public RamDisk(int kind, int failAt) { _kind = kind; _failAt = failAt; }
        public uint BlockSize { get { return 512; } }
        public ulong BlockCount { get { return 64; } }
        public bool IsReadOnly { get { return false; } }

        void MaybeFail()
        {
            _requests++;
            if (_requests != _failAt) return;
            Fail(_kind, _requests);
        }

        public static void Fail(int kind, int n)
        {
            if (kind == 1) { s_small[n + 10] = 1; }
            if (kind == 2) { byte* p = (byte*)(ulong)(n - n); *p = 1; }
            if (kind == 3) { int z = n - n; s_small[0] = 10 / z; }
            if (kind == 4) { s_small[0] = s_null.GetHashCode(); }
            if (kind == 5) { object o = "x"; s_small[0] = ((int[])o).Length; }
            if (kind == 6) { throw new System.InvalidOperationException("thrown by the driver"); }
            if (kind == 7)
            {
                // Caught inside the driver: nothing escapes, nothing fails.
                try { byte* p = (byte*)(ulong)(n - n); *p = 1; }
                catch (System.NullReferenceException) { s_caught++; }
                try { int z = n - n; s_small[0] = 10 / z; }
                catch (System.DivideByZeroException) { s_caught++; }
                finally { s_caught += 10; }
            }
        }

        public BlockError Read(ulong lba, byte* buffer, ulong length)
        {
            MaybeFail();
            for (ulong i = 0; i < length; i++) buffer[i] = _data[(int)(lba * 512 + i)];
            return BlockError.None;
        }

        public BlockError Write(ulong lba, byte* buffer, ulong length)
        {
            MaybeFail();
            for (ulong i = 0; i < length; i++) _data[(int)(lba * 512 + i)] = buffer[i];
            return BlockError.None;
        }

        public BlockError Flush() { MaybeFail(); return BlockError.None; }
    }

    public static class Driver
    {
        public const string Name = "faulty-ramdisk";
        public static bool Matches(ushort vendor, ushort device, ushort subsystem) { return vendor == 0x1234; }

        /// bdf = bus | device << 8 | function << 16: function = kind, device = fail-at
        /// (0: fail during the probe itself).
        public static uint ProbeBdf(uint bdf)
        {
            int kind = (int)(bdf >> 16);
            int failAt = (int)((bdf >> 8) & 0xff);
            if (failAt == 0) { RamDisk.Fail(kind, 0); return 8; }
            uint id;
            Status s = BlockDevices.Register(new RamDisk(kind, failAt), "ramdisk", out id);
            return s.Code;
        }
    }
}
"#;

fn device(kind: u8, fail_at: u8) -> PciDevice {
    PciDevice {
        address: PciAddress::new_truncate(0, fail_at, kind),
        vendor_id: 0x1234,
        device_id: 0x1,
        revision: 0,
        class: 1,
        subclass: 0,
        prog_if: 0,
        header_type: 0,
        multifunction: kind != 0,
        subsystem_vendor_id: 0,
        subsystem_id: 0,
        interrupt_line: 0,
        interrupt_pin: 0,
        bars: [None; 6],
    }
}

/// An in-memory block device: the "native" fallback.
struct Ram(Rc<RefCell<Vec<u8>>>);

impl BlockDevice for Ram {
    fn block_size(&self) -> usize {
        BS
    }
    fn block_count(&self) -> u64 {
        BLOCKS
    }
    fn is_read_only(&self) -> bool {
        false
    }
    fn read_blocks(&mut self, lba: Lba, buf: &mut [u8]) -> Result<(), BlockError> {
        let o = lba.as_u64() as usize * BS;
        buf.copy_from_slice(&self.0.borrow()[o..o + buf.len()]);
        Ok(())
    }
    fn write_blocks(&mut self, lba: Lba, buf: &[u8]) -> Result<(), BlockError> {
        let o = lba.as_u64() as usize * BS;
        self.0.borrow_mut()[o..o + buf.len()].copy_from_slice(buf);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), BlockError> {
        Ok(())
    }
}

const KINDS: [(u8, &str, bool); 6] = [
    (1, "managed runtime error: index-out-of-range", false),
    (2, "CPU exception #PF", true),
    (3, "divide", false),
    (4, "managed runtime error: null-reference", false),
    (5, "managed runtime error: invalid-cast", false),
    (
        6,
        "managed runtime error: exception System.InvalidOperationException",
        false,
    ),
];

fn faulty_driver() -> (Rc<RefCell<Runtime>>, ManagedDriver) {
    host_signals::install();
    let files = build("Faulty", &format!("{HEADER}{FAULTY}"));
    let rt = Rc::new(RefCell::new(runtime(&files).expect("load")));
    let entries = rt.borrow().drivers();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].name, "faulty-ramdisk");
    let d = ManagedDriver::new(&rt, entries[0].clone()).expect("entry points");
    (rt, d)
}

#[test]
fn a_fault_during_bind_is_contained_and_reported_with_the_managed_method() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let (_rt, d) = faulty_driver();
    for (kind, what, cpu) in KINDS {
        let dev = device(kind, 0);
        assert!(d.probe(&dev));
        let r = d.bind(testing::platform(), &dev);
        assert_eq!(r.err(), Some(BindError::DriverFault), "kind {kind}");
        let faults = d.faults();
        let f = faults.borrow();
        let last = f.last().expect("a fault record");
        assert_eq!(last.during, "bind");
        assert!(
            last.failed.report.what.contains(what),
            "{kind}: {}",
            last.failed.report
        );
        assert_eq!(
            matches!(last.failed.trap, Trap::Cpu(_)),
            cpu,
            "{}",
            last.failed.report
        );
        let top = last.failed.report.top().expect("a managed frame");
        assert_eq!(top.method, "Faulty.RamDisk::Fail", "{}", last.failed.report);
        assert!(top.il_offset.is_some());
        let methods: Vec<&str> = last
            .failed
            .report
            .frames
            .iter()
            .map(|f| f.method.as_str())
            .collect();
        assert!(
            methods.contains(&"Faulty.Driver::ProbeBdf"),
            "{}",
            last.failed.report
        );
    }
    // The runtime still works after five contained faults.
    let mut blk = d
        .bind(testing::platform(), &device(1, 200))
        .expect("a healthy bind");
    let mut buf = vec![0u8; BS];
    blk.read_blocks(Lba::new(3), &mut buf).unwrap();
}

#[test]
fn a_fault_during_a_request_falls_back_and_the_request_is_reissued() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let (_rt, d) = faulty_driver();
    for (kind, what, _) in KINDS {
        // Fails at its 5th request.
        let dev = device(kind, 5);
        let managed = d.bind(testing::platform(), &dev).expect("bind");
        let disk = Rc::new(RefCell::new(vec![0u8; BS * BLOCKS as usize]));
        let fallback_disk = disk.clone();
        let mut sup = Supervised::new(
            String::from("test"),
            managed,
            d.name(),
            Some(Box::new(move |_| {
                Ok((
                    Box::new(Ram(fallback_disk.clone())) as Box<dyn BlockDevice>,
                    "ram-native",
                ))
            })),
        );
        // Requests 1..4 reach the managed RAM disk; request 5 faults and is
        // re-issued on the fallback; later ones go to the fallback.
        let block = |n: u8| vec![n; BS];
        for n in 0..8u8 {
            sup.write_blocks(Lba::new(u64::from(n)), &block(n + 1))
                .unwrap_or_else(|e| panic!("kind {kind}: write {n}: {e}"));
        }
        assert_eq!(sup.driver(), "ram-native", "kind {kind}");
        assert_eq!(sup.replacements(), 1);
        // Writes 5..8 (the re-issued one included) are on the fallback disk.
        for n in 4..8u8 {
            let mut b = vec![0u8; BS];
            sup.read_blocks(Lba::new(u64::from(n)), &mut b).unwrap();
            assert_eq!(b, block(n + 1), "kind {kind}: block {n}");
        }
        sup.flush().unwrap();
        let faults = d.faults();
        let f = faults.borrow();
        let last = f.last().unwrap();
        assert_eq!(last.during, "write of 1 block(s) at LBA 4", "kind {kind}");
        assert!(
            last.failed.report.what.contains(what),
            "{}",
            last.failed.report
        );
        let methods: Vec<&str> = last
            .failed
            .report
            .frames
            .iter()
            .map(|f| f.method.as_str())
            .collect();
        assert!(
            methods.contains(&"Faulty.RamDisk::Write")
                && methods.contains(&"Ddk.BlockDevices::NativeWrite"),
            "{}",
            last.failed.report
        );
    }
}

/// A driver without `IBlockBatch` serves batches through
/// `Ddk.BlockDevices.ReadMany`'s one-at-a-time default; a fault in the middle
/// of a batch is contained like one in a single read, and the supervisor
/// re-issues the batch whole on the replacement.
#[test]
fn a_fault_mid_batch_is_contained_and_the_batch_reissued() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let (_rt, d) = faulty_driver();
    // Kind 1 (index out of range) at its 8th request: 4 writes, a batch of
    // two reads, then the second read of a batch of three.
    let managed = d.bind(testing::platform(), &device(1, 8)).expect("bind");
    let disk = Rc::new(RefCell::new(vec![0u8; BS * BLOCKS as usize]));
    for n in 0..4u8 {
        disk.borrow_mut()[n as usize * BS..(n as usize + 1) * BS].fill(n + 1);
    }
    let fallback_disk = disk.clone();
    let mut sup = Supervised::new(
        String::from("test"),
        managed,
        d.name(),
        Some(Box::new(move |_| {
            Ok((
                Box::new(Ram(fallback_disk.clone())) as Box<dyn BlockDevice>,
                "ram-native",
            ))
        })),
    );
    for n in 0..4u8 {
        sup.write_blocks(Lba::new(u64::from(n)), &vec![n + 1; BS])
            .unwrap_or_else(|e| panic!("write {n}: {e}"));
    }
    // Two reads in one batch before any fault: the default path works.
    let mut a = vec![0u8; BS];
    let mut b = vec![0u8; 2 * BS];
    let mut reqs = [
        ddk::ReadRequest {
            lba: Lba::new(3),
            buf: &mut a,
        },
        ddk::ReadRequest {
            lba: Lba::new(1),
            buf: &mut b,
        },
    ];
    sup.read_many(&mut reqs).unwrap();
    assert_eq!((a[0], b[0], b[BS]), (4, 2, 3));
    assert_eq!(sup.driver(), "faulty-ramdisk");
    // Request 8, the second read of this batch, faults; the batch is
    // re-issued whole on the fallback.
    let mut bufs = vec![vec![0u8; BS]; 3];
    let mut reqs: Vec<ddk::ReadRequest<'_>> = bufs
        .iter_mut()
        .enumerate()
        .map(|(i, buf)| ddk::ReadRequest {
            lba: Lba::new(i as u64),
            buf,
        })
        .collect();
    sup.read_many(&mut reqs).unwrap();
    drop(reqs);
    for (i, buf) in bufs.iter().enumerate() {
        assert_eq!(buf, &vec![i as u8 + 1; BS], "block {i}");
    }
    assert_eq!(sup.driver(), "ram-native");
    assert_eq!(sup.replacements(), 1);
    let faults = d.faults();
    let f = faults.borrow();
    let last = f.last().unwrap();
    assert_eq!(
        last.during,
        "batch of 3 read(s), 3 block(s), the first at LBA 0"
    );
    let methods: Vec<&str> = last
        .failed
        .report
        .frames
        .iter()
        .map(|f| f.method.as_str())
        .collect();
    assert!(
        methods.contains(&"Faulty.RamDisk::Read")
            && methods.contains(&"Ddk.BlockDevices::ReadMany"),
        "{}",
        last.failed.report
    );
}

#[test]
fn exceptions_the_driver_catches_are_not_faults() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let (_rt, d) = faulty_driver();
    let before = d.faults().borrow().len();
    // Kind 7 at its 3rd request: a null-page fault and a division by zero,
    // both caught by the driver itself.
    let managed = d.bind(testing::platform(), &device(7, 3)).expect("bind");
    let mut sup = Supervised::new(String::from("test"), managed, d.name(), None);
    for n in 0..6u8 {
        sup.write_blocks(Lba::new(u64::from(n)), &vec![n; BS])
            .unwrap_or_else(|e| panic!("write {n}: {e}"));
    }
    for n in 0..6u8 {
        let mut b = vec![0u8; BS];
        sup.read_blocks(Lba::new(u64::from(n)), &mut b).unwrap();
        assert_eq!(b, vec![n; BS], "block {n}");
    }
    assert_eq!(sup.replacements(), 0);
    assert_eq!(d.faults().borrow().len(), before, "no fault recorded");
}

#[test]
fn without_a_fallback_the_device_stays_failed_and_says_so() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let (_rt, d) = faulty_driver();
    let managed = d.bind(testing::platform(), &device(1, 2)).expect("bind");
    let mut sup = Supervised::new(String::from("test"), managed, d.name(), None);
    let mut b = vec![0u8; BS];
    sup.read_blocks(Lba::new(0), &mut b).unwrap();
    assert_eq!(
        sup.read_blocks(Lba::new(0), &mut b),
        Err(BlockError::DriverFailed)
    );
    assert_eq!(sup.flush(), Err(BlockError::DriverFailed), "stays failed");
}

#[test]
fn dropping_a_device_unbinds_it_so_binds_never_run_out_of_slots() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let (_rt, d) = faulty_driver();
    // The managed registry has 16 slots: 40 bind/drop cycles need Unregister.
    for i in 0..40u8 {
        let mut blk = d
            .bind(testing::platform(), &device(1, 200))
            .unwrap_or_else(|e| panic!("bind {i}: {e}"));
        let mut buf = vec![0u8; BS];
        blk.read_blocks(Lba::new(1), &mut buf).unwrap();
    }
}

#[test]
fn two_engines_side_by_side_each_runs_its_own_code() {
    let _t = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let (_rt1, d1) = faulty_driver();
    let mut a = d1
        .bind(testing::platform(), &device(1, 200))
        .expect("bind on engine 1");
    // A fresh load of the same assemblies: a second engine, activated last.
    let (_rt2, d2) = faulty_driver();
    let mut b = d2
        .bind(testing::platform(), &device(1, 200))
        .expect("bind on engine 2");
    let data = vec![0x5au8; BS];
    let mut back = vec![0u8; BS];
    for _ in 0..3 {
        a.write_blocks(Lba::new(2), &data).unwrap();
        b.read_blocks(Lba::new(2), &mut back).unwrap();
        assert_eq!(back, vec![0u8; BS], "separate RAM disks");
        a.read_blocks(Lba::new(2), &mut back).unwrap();
        assert_eq!(back, data);
    }
    // A fault on engine 1's device is contained while engine 2 stays usable.
    let mut c = d1.bind(testing::platform(), &device(2, 1)).expect("bind");
    assert_eq!(
        c.read_blocks(Lba::new(0), &mut back),
        Err(BlockError::DriverFailed)
    );
    b.read_blocks(Lba::new(2), &mut back).unwrap();
}
