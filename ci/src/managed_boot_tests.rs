//! QEMU boot tests of the managed (C#) virtio-blk driver in the kernel: the
//! self-test on both transports, `driver=auto` choosing it, the boot module
//! missing or damaged, and faults injected into the driver (runtime errors and
//! CPU exceptions) contained: reported with the managed method, the device
//! released, and under `auto` the native driver takes over and the self-test
//! still passes with a clean image (`fsck.fat -n` after every disk boot).

use std::time::Duration;

use crate::boot_tests::{Case, Corruption, Expect, Image, Module};
use crate::managed::FaultKind;
use crate::qemu::Transport;

fn on(transport: Transport, case: Case) -> Case {
    Case {
        disk: Some(transport),
        ..case
    }
}

fn with(module: Module, case: Case) -> Case {
    Case { module, ..case }
}

/// The contained-fault expectations every injected fault shares.
macro_rules! contained {
    ($($extra:literal),* $(,)?) => {
        Expect::Pass(&[
            "bound to virtio-blk-managed",
            "virtio-blk: FAULT_INJECT: faulting at request",
            "managed: FAULT in virtio-blk-managed on 00:01.0 during",
            "contained: bus mastering off",
            "DMA block(s)",
            "drivers: 00:01.0: falling back to the native driver",
            "bound to virtio-blk-native",
            "virtio-blk-managed replaced by virtio-blk-native; re-issuing the",
            "selftest: verify-after-remount ok",
            "selftest: PASS",
            $($extra),*
        ])
    };
}

pub fn cases() -> Vec<Case> {
    let t = Duration::from_secs(180);
    let selftest_managed = Expect::Pass(&[
        "managed: loaded mscorlib (mscorlib.dll,",
        "managed: loaded Ddk (Ddk.dll,",
        "managed: loaded VirtioBlk (VirtioBlk.dll,",
        "managed: bound 34 DDK ABI imports and 2 runtime services",
        "bound to virtio-blk-managed",
        "managed: JIT compiled",
        "selftest: verify-manifest ok",
        "selftest: verify-after-remount ok",
        "selftest: batch-read ok",
        "selftest: PASS",
    ]);
    let managed = "driver=managed run=selftest";
    let auto = "driver=auto run=selftest";
    // Injected faults with restarts off: the first fault hands the device to
    // the native driver (restarts have their own cases below).
    let auto_no_restart = "driver=auto run=selftest restart=0";
    vec![
        on(Transport::Modern, Case::new("selftest-managed-modern", managed, t, selftest_managed)),
        on(Transport::Legacy, Case::new("selftest-managed-legacy", managed, t, selftest_managed)),
        // Served by an iothread, the device polls its ring and asks for no
        // notifications: the driver still kicks after every publication so
        // the DMA guard checks each one, and the guard drops the kicks the
        // device did not ask for. Before, the guard refused the first kick
        // after a queue's worth of unnotified requests and the driver failed.
        on(
            Transport::Modern,
            Case {
                iothread: true,
                ..Case::new("selftest-managed-iothread", managed, t, selftest_managed)
            },
        ),
        on(
            Transport::Modern,
            Case::new(
                "selftest-auto-prefers-managed",
                auto,
                t,
                Expect::Pass(&["bound to virtio-blk-managed", "selftest: PASS"]),
            ),
        ),
        // The collector at boot: the GcStress program under a 4 MiB heap
        // limit allocates more than 50x that, its live trees intact.
        with(
            Module::GcStress,
            Case::new(
                "gc-stress-at-boot",
                "driver=native run=gc-stress",
                t,
                Expect::Pass(&[
                    "gc-stress: 29800 trees verified",
                    "x the 4096 KiB limit",
                    "collections, pause mean",
                ]),
            ),
        ),
        // A GcStress boot without its module says how to get one.
        with(
            Module::None,
            Case::new(
                "gc-stress-without-module-fails",
                "driver=native run=gc-stress",
                t,
                Expect::Fail(&["gc-stress: no boot module (boot with --initrd"]),
            ),
        ),
        // No boot module: auto falls back (saying why); managed refuses.
        with(
            Module::None,
            on(
                Transport::Modern,
                Case::new(
                    "auto-without-module-is-native",
                    auto,
                    t,
                    Expect::Pass(&[
                        "auto: managed driver unavailable: no boot module",
                        "bound to virtio-blk-native",
                        "selftest: PASS",
                    ]),
                ),
            ),
        ),
        with(
            Module::None,
            on(
                Transport::Modern,
                Case::new(
                    "managed-without-module-fails",
                    managed,
                    t,
                    Expect::Fail(&[
                        "managed driver unavailable: no boot module",
                        "kernel: verdict FAIL",
                    ]),
                ),
            ),
        ),
        // A damaged boot module is named and refused, never half-loaded.
        with(
            Module::Corrupt(Corruption::Truncated),
            on(
                Transport::Modern,
                Case::new(
                    "module-truncated",
                    managed,
                    t,
                    Expect::Fail(&["managed driver unavailable: boot module: truncated: entry", "kernel: verdict FAIL"]),
                ),
            ),
        ),
        with(
            Module::Corrupt(Corruption::BadChecksum),
            on(
                Transport::Modern,
                Case::new(
                    "module-bad-checksum",
                    managed,
                    t,
                    Expect::Fail(&[
                        "boot module: checksum mismatch in 'VirtioBlk.dll'",
                        "kernel: verdict FAIL",
                    ]),
                ),
            ),
        ),
        with(
            Module::Corrupt(Corruption::Garbage),
            on(
                Transport::Modern,
                Case::new(
                    "module-garbage",
                    managed,
                    t,
                    Expect::Fail(&["boot module: not a cpio archive", "kernel: verdict FAIL"]),
                ),
            ),
        ),
        with(
            Module::Corrupt(Corruption::MalformedAssembly),
            on(
                Transport::Modern,
                Case::new(
                    "module-malformed-assembly",
                    managed,
                    t,
                    Expect::Fail(&["managed driver unavailable: load VirtioBlk.dll: ", "kernel: verdict FAIL"]),
                ),
            ),
        ),
        with(
            Module::Corrupt(Corruption::BadChecksum),
            on(
                Transport::Modern,
                Case::new(
                    "auto-with-bad-module-is-native",
                    auto,
                    t,
                    Expect::Pass(&[
                        "boot module: checksum mismatch in 'VirtioBlk.dll'",
                        "binding the native driver",
                        "selftest: PASS",
                    ]),
                ),
            ),
        ),
        // Faults injected at the n-th request, during a self-test that
        // writes and verifies: contained, then the native driver finishes.
        with(
            Module::Faulty(FaultKind::NullDeref, 700),
            on(
                Transport::Modern,
                Case::new(
                    "fault-null-deref-falls-back",
                    auto_no_restart,
                    t,
                    contained!(
                        "managed runtime error: null-reference",
                        "at VirtioBlk.FaultInjection::BeforeRequest IL_",
                        "at VirtioBlk.VirtioBlkDevice::"
                    ),
                ),
            ),
        ),
        with(
            Module::Faulty(FaultKind::IndexOutOfRange, 1500),
            on(
                Transport::Legacy,
                Case::new(
                    "fault-index-falls-back-legacy",
                    auto_no_restart,
                    t,
                    contained!("managed runtime error: index-out-of-range"),
                ),
            ),
        ),
        with(
            Module::Faulty(FaultKind::DivideByZero, 2600),
            on(
                Transport::Modern,
                Case::new(
                    "fault-divide-falls-back",
                    auto_no_restart,
                    t,
                    contained!("managed runtime error: divide-by-zero"),
                ),
            ),
        ),
        with(
            Module::Faulty(FaultKind::InvalidCast, 40),
            on(
                Transport::Modern,
                Case::new(
                    "fault-cast-falls-back",
                    auto_no_restart,
                    t,
                    contained!("managed runtime error: invalid-cast"),
                ),
            ),
        ),
        with(
            Module::Faulty(FaultKind::WildPointer, 1100),
            on(
                Transport::Modern,
                Case::new(
                    "fault-gp-falls-back",
                    auto_no_restart,
                    t,
                    contained!("CPU exception #GP (vector 13", "at VirtioBlk.FaultInjection::BeforeRequest IL_"),
                ),
            ),
        ),
        with(
            Module::Faulty(FaultKind::StackOverflow, 300),
            on(
                Transport::Modern,
                Case::new(
                    "fault-stack-overflow-falls-back",
                    auto_no_restart,
                    t,
                    contained!(
                        "CPU exception #PF (vector 14",
                        "stack exhausted",
                        "at VirtioBlk.FaultInjection::Recurse IL_"
                    ),
                ),
            ),
        ),
        with(
            Module::Faulty(FaultKind::NullPointer, 1800),
            on(
                Transport::Modern,
                Case::new(
                    "fault-null-pointer-pf-falls-back",
                    auto_no_restart,
                    t,
                    contained!(
                        "CPU exception #PF (vector 14, error code 0x2)",
                        "address 0x10: write to a not-present page (null guard)",
                        "at VirtioBlk.FaultInjection::BeforeRequest IL_"
                    ),
                ),
            ),
        ),
        // Managed exceptions: a #PF on the null guard caught as a
        // NullReferenceException, one caught in the driver (the finally on
        // its way runs first), then one nothing catches, which escapes the entry
        // point and is contained like a CPU fault.
        with(
            Module::Faulty(FaultKind::Throw, 1200),
            on(
                Transport::Modern,
                Case::new(
                    "fault-throw-falls-back",
                    auto_no_restart,
                    t,
                    contained!(
                        "virtio-blk: FAULT_INJECT: caught NullReferenceException from a null-page fault",
                        "virtio-blk: FAULT_INJECT: finally ran on the way out",
                        "virtio-blk: FAULT_INJECT: caught; throwing NotSupportedException",
                        "managed runtime error: exception System.NotSupportedException",
                        "at VirtioBlk.FaultInjection::Thrower IL_",
                        "at VirtioBlk.FaultInjection::BeforeRequest IL_"
                    ),
                ),
            ),
        ),
        // IL the JIT refuses, met lazily at a request: named (method and
        // assembly) and contained like a fault.
        with(
            Module::Faulty(FaultKind::JitRejected, 900),
            on(
                Transport::Modern,
                Case::new(
                    "jit-rejected-falls-back",
                    auto_no_restart,
                    t,
                    contained!(
                        "managed runtime error: jit-error VirtioBlk.FaultInjection::Guarded (assembly VirtioBlk) at IL_",
                        "exception"
                    ),
                ),
            ),
        ),
        // Under driver=managed there is no fallback: the device is failed,
        // the same report is printed, and nothing corrupt reaches the disk.
        with(
            Module::Faulty(FaultKind::NullDeref, 700),
            on(
                Transport::Modern,
                Case::new(
                    "fault-under-managed-fails-device",
                    "driver=managed run=selftest restart=0",
                    t,
                    Expect::Fail(&[
                        "managed: FAULT in virtio-blk-managed on 00:01.0 during",
                        "contained: bus mastering off",
                        "no replacement for virtio-blk-managed: driver=managed: 0 restart(s) used, no fallback: the device is failed",
                        "the device's driver failed and was stopped",
                        "kernel: verdict FAIL",
                    ]),
                ),
            ),
        ),
        // Two disks, one driver each: the native driver's volume copied to the
        // managed driver's and verified file by file.
        Case {
            second_disk: Some(Transport::Modern),
            ..on(
                Transport::Modern,
                Case::new(
                    "two-disks-native-and-managed",
                    "driver=native,managed run=copytree",
                    t,
                    Expect::Pass(&[
                        "00:01.0 1af4:1042 (modern) bound to virtio-blk-native",
                        "00:02.0 1af4:1042 (modern) bound to virtio-blk-managed",
                        "copytree: copied 50 files, 19 directories, 33915076 bytes from vda to vdb:/copy-of-vda",
                        "copytree: verified 50 files",
                    ]),
                ),
            )
        },
        // The other way round, on the legacy transport.
        Case {
            second_disk: Some(Transport::Legacy),
            ..on(
                Transport::Legacy,
                Case::new(
                    "two-disks-managed-and-native-legacy",
                    "driver=managed,native run=copytree",
                    t,
                    Expect::Pass(&[
                        "(legacy) bound to virtio-blk-managed",
                        "(legacy) bound to virtio-blk-native",
                        "copytree: verified 50 files",
                    ]),
                ),
            )
        },
        // A volume written by other tools (mkfs.fat, mtools: long, nested and
        // non-ASCII names), listed and read through the managed driver.
        Case {
            image: Image::Foreign,
            input: Some(
                "ls /\nls \"/Long Directory Name/Nested Folder\"\n\
                 cat \"/Long Directory Name/Nested Folder/deep file with spaces.txt\"\n\
                 ls \"/Ünïcödé dir\"\ncat \"/Ünïcödé dir/naïve café.txt\"\nstat /big/blob.bin\n\
                 ls /many\ncat \"/many/file-07 with a long name.txt\"\nexit\n",
            ),
            ..on(
                Transport::Modern,
                Case::new(
                    "shell-managed-foreign-image",
                    "driver=managed run=shell",
                    t,
                    Expect::Pass(&[
                        "bound to virtio-blk-managed",
                        "README.TXT",
                        "Long Directory Name/",
                        "deep file with spaces.txt",
                        "written by mtools into a nested long-named folder",
                        "naïve café.txt",
                        "non-ASCII long names",
                        "size: 3145728",
                        "file-29 with a long name.txt",
                        "small file number 07",
                    ]),
                ),
            )
        },
        // Restart before fallback: a fresh instance of the managed driver on
        // the same device, the failed request re-issued on it.
        with(
            Module::Faulty(FaultKind::IndexOutOfRange, 2500),
            on(
                Transport::Modern,
                Case::new(
                    "fault-restart-keeps-managed",
                    "driver=managed run=selftest restart=1",
                    t,
                    Expect::Pass(&[
                        "managed runtime error: index-out-of-range",
                        "restarting the managed driver (attempt 1 of 1, after 1000 us of backoff)",
                        "managed driver restarted in",
                        "virtio-blk-managed replaced by virtio-blk-managed; re-issuing the",
                        "selftest: verify-after-remount ok",
                        "selftest: PASS",
                    ]),
                ),
            ),
        ),
        // The default policy (restart=2): two restarts, each faulting again at
        // its own 700th request, then the native driver. Each fault hits a
        // different request, so each restart waits the first backoff step.
        with(
            Module::Faulty(FaultKind::NullDeref, 700),
            on(
                Transport::Legacy,
                Case::new(
                    "fault-restarts-then-native",
                    auto,
                    t,
                    Expect::Pass(&[
                        "restarting the managed driver (attempt 1 of 2, after 1000 us of backoff)",
                        "restarting the managed driver (attempt 2 of 2, after 1000 us of backoff)",
                        "falling back to the native driver",
                        "virtio-blk-managed replaced by virtio-blk-native; re-issuing the",
                        "selftest: PASS",
                    ]),
                ),
            ),
        ),
        // Live replacement under a mounted volume: files written, the driver
        // swapped (managed: a fresh load and JIT from the boot module), every
        // file verified after each swap, more written, remounted, verified.
        on(
            Transport::Modern,
            Case::new(
                "swap-native-managed-native",
                "driver=native run=swaptest",
                t,
                Expect::Pass(&[
                    "swaptest: swap vda: virtio-blk-native -> virtio-blk-managed in",
                    "load+JIT",
                    "swaptest: verify on managed ok",
                    "swaptest: write on managed ok",
                    "managed: virtio-blk-managed unbound from 00:01.0",
                    "swaptest: swap vda: virtio-blk-managed -> virtio-blk-native in",
                    "swaptest: verify after remount ok",
                    "swaptest: PASS",
                ]),
            ),
        ),
        on(
            Transport::Legacy,
            Case::new(
                "swap-managed-native-managed-legacy",
                "driver=managed run=swaptest",
                t,
                Expect::Pass(&[
                    "swaptest: swap vda: virtio-blk-managed -> virtio-blk-native in",
                    "swaptest: swap vda: virtio-blk-native -> virtio-blk-managed in",
                    "swaptest: PASS",
                ]),
            ),
        ),
        Case {
            input: Some(
                "cat /hello.txt\nrebind vda managed\ncat /hello.txt\nwrite /after.txt written after the swap\n\
                 rebind vda native\ncat /after.txt\nrebind vda floppy\nrebind vdz native\ndrivers\nexit\n",
            ),
            ..on(
                Transport::Modern,
                Case::new(
                    "shell-rebind",
                    "driver=native run=shell",
                    t,
                    Expect::Pass(&[
                        "rebind: vda: virtio-blk-native -> virtio-blk-managed in",
                        "wrote 23 bytes to /after.txt",
                        "rebind: vda: virtio-blk-managed -> virtio-blk-native in",
                        "written after the swap",
                        "rebind: 'floppy' is not a driver kind (native or managed)",
                        "rebind: no block device 'vdz' bound by the driver manager",
                        "virtio-blk-managed (managed, VirtioBlk from the boot module, 0 contained fault(s))",
                        "bound (rebound from virtio-blk-managed)",
                    ]),
                ),
            )
        },
        // The shell on the managed driver: both drivers listed, the binding shown.
        Case {
            input: Some("cat /hello.txt\nls /\ndrivers\nexit\n"),
            ..on(
                Transport::Modern,
                Case::new(
                    "shell-managed",
                    "driver=managed run=shell",
                    t,
                    Expect::Pass(&[
                        "Hello, world!",
                        "virtio-blk-native (native)",
                        "virtio-blk-managed (managed, VirtioBlk from the boot module, 0 contained fault(s))",
                        "managed virtio-blk-managed",
                    ]),
                ),
            )
        },
        // The matrix workload on the managed driver: every phase runs, the
        // remount included, and the image it leaves is fsck-clean (every
        // disk case is fsck'd). `cargo xtask matrix` compares transcripts and
        // images across drivers; this only checks the run itself.
        on(
            Transport::Modern,
            Case::new(
                "workload-managed",
                "driver=managed run=workload",
                t,
                Expect::Pass(&[
                    "bound to virtio-blk-managed",
                    "workload: phase verify",
                    "workload: write /WORKLOAD/large.bin (5247201 B): ok",
                    "workload: remount: ok",
                    "workload: phase verify-after",
                    "workload: summary: 77 operations, 7 errors, 0 mismatches",
                    "workload: END",
                ]),
            ),
        ),
    ]
}
