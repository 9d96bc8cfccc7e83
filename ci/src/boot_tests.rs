//! QEMU boot tests: what only a real boot can show. Each case boots the kernel
//! with a timeout and checks the verdict and the serial console; a failure
//! prints the QEMU command line and the serial tail.

use crate::disk;
use crate::qemu::{self, Boot, Outcome, RunResult, Transport};
use std::path::Path;
use std::time::{Duration, Instant};

/// What a boot case expects.
pub enum Expect {
    /// Exit 33 with `kernel: verdict PASS`, and these serial substrings.
    Pass(&'static [&'static str]),
    /// Exit 35 (kernel-reported failure), and these serial substrings.
    Fail(&'static [&'static str]),
    /// The kernel hangs: our timeout must kill it and call it a failure.
    Hang,
}

pub struct Case {
    pub name: &'static str,
    pub cmdline: &'static str,
    pub timeout: Duration,
    pub expect: Expect,
    /// A private copy of the default image on this transport; after the
    /// boot, `fsck.fat -n` must find it clean.
    pub disk: Option<Transport>,
    /// Typed into the serial console (scripted shell sessions).
    pub input: Option<&'static str>,
    /// Passed as the PVH boot module (`-initrd`).
    pub module: Option<&'static [u8]>,
    /// Boot through SeaBIOS (which assigns PCI BARs) instead of qboot
    /// (where the kernel assigns them): both paths stay tested.
    pub seabios: bool,
    /// How the disk copy is presented or damaged before the boot.
    pub disk_mode: DiskMode,
}

/// Bad input for the storage stack: the kernel must refuse it with a clear
/// error and must not write a single byte to the image.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DiskMode {
    Writable,
    /// `readonly=on`: the device offers VIRTIO_BLK_F_RO.
    ReadOnly,
    /// The FAT boot sector zeroed.
    ZeroedBootSector,
}

pub fn basic_cases() -> Vec<Case> {
    let t = Duration::from_secs(30);
    vec![
        Case {
            name: "hello",
            cmdline: "run=hello",
            timeout: t,
            expect: Expect::Pass(&["kernel: booting", "run=hello", "memory map"]),
            disk: None,
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "hello-seabios",
            cmdline: "run=hello",
            timeout: t,
            expect: Expect::Pass(&["kernel: booting", "memory map"]),
            disk: None,
            input: None,
            module: None,
            seabios: true,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "boot-module",
            cmdline: "run=hello",
            timeout: t,
            // 4-byte magic + 996 bytes: the kernel finds it through PVH
            // `modlist_paddr` and reports size and first bytes.
            expect: Expect::Pass(&[
                "boot module at 0x",
                "1000 bytes, first bytes [44, 44, 4b, 21, 00, 01, 02, 03,",
            ]),
            disk: None,
            input: None,
            module: Some(&MODULE),
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "null-deref",
            cmdline: "run=fault-null",
            timeout: t,
            expect: Expect::Fail(&[
                "!!! EXCEPTION 0x0E #PF Page Fault",
                "CR2: 0x0000000000000000",
                "RIP: 0x",
                "backtrace:",
                "kernel: verdict FAIL",
            ]),
            disk: None,
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "invalid-opcode",
            cmdline: "run=fault-ud",
            timeout: t,
            expect: Expect::Fail(&["!!! EXCEPTION 0x06 #UD", "kernel: verdict FAIL"]),
            disk: None,
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "panic",
            cmdline: "run=fault-panic",
            timeout: t,
            expect: Expect::Fail(&["panicked at", "deliberate panic", "kernel: verdict FAIL"]),
            disk: None,
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "unknown-cmdline-key",
            cmdline: "run=hello drvier=native",
            timeout: t,
            expect: Expect::Fail(&["unknown key 'drvier'", "kernel: verdict FAIL"]),
            disk: None,
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "bad-driver-value",
            cmdline: "driver=fastest",
            timeout: t,
            expect: Expect::Fail(&["kernel: verdict FAIL"]),
            disk: None,
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "hang-is-killed",
            cmdline: "run=fault-hang",
            timeout: Duration::from_secs(8),
            expect: Expect::Hang,
            disk: None,
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
    ]
}

/// The boot-module test's payload: `DDK!` then 0, 1, 2, ... (mod 256).
static MODULE: [u8; 1000] = {
    let mut m = [0u8; 1000];
    m[0] = b'D';
    m[1] = b'D';
    m[2] = b'K';
    m[3] = b'!';
    let mut i = 4;
    while i < m.len() {
        m[i] = (i - 4) as u8;
        i += 1;
    }
    m
};

/// Boots with a virtio-blk disk: the native driver's self-test on both
/// transports, each followed by `fsck.fat -n` of the image it wrote.
pub fn disk_cases() -> Vec<Case> {
    let t = Duration::from_secs(180);
    let selftest: &[&str] = &[
        "selftest: verify-manifest ok",
        "selftest: verify-after-remount ok",
        "selftest: PASS",
    ];
    vec![
        Case {
            name: "selftest-native-modern",
            cmdline: "driver=native run=selftest",
            timeout: t,
            expect: Expect::Pass(selftest),
            disk: Some(Transport::Modern),
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "selftest-native-legacy",
            cmdline: "driver=native run=selftest",
            timeout: t,
            expect: Expect::Pass(selftest),
            disk: Some(Transport::Legacy),
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "selftest-seabios-modern",
            cmdline: "driver=native run=selftest",
            timeout: t,
            expect: Expect::Pass(selftest),
            disk: Some(Transport::Modern),
            input: None,
            module: None,
            seabios: true,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "selftest-seabios-legacy",
            cmdline: "driver=native run=selftest",
            timeout: t,
            expect: Expect::Pass(selftest),
            disk: Some(Transport::Legacy),
            input: None,
            module: None,
            seabios: true,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "selftest-auto-modern",
            cmdline: "driver=auto run=selftest",
            timeout: t,
            expect: Expect::Pass(&["virtio-blk-native", "selftest: PASS"]),
            disk: Some(Transport::Modern),
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
        Case {
            // Until the managed driver is wired into the kernel, asking for it
            // must fail loudly, never fall back to the native driver.
            name: "managed-refused-not-faked",
            cmdline: "driver=managed run=selftest",
            timeout: t,
            expect: Expect::Fail(&["managed driver not available yet", "kernel: verdict FAIL"]),
            disk: Some(Transport::Modern),
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
        },
        Case {
            name: "corrupt-image-refused",
            cmdline: "driver=native run=selftest",
            timeout: t,
            expect: Expect::Fail(&[
                "selftest: mount FAILED: corrupt or unsupported volume",
                "kernel: verdict FAIL",
            ]),
            disk: Some(Transport::Modern),
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::ZeroedBootSector,
        },
        Case {
            name: "read-only-disk",
            cmdline: "driver=native run=selftest",
            timeout: t,
            expect: Expect::Fail(&[
                "blocks of 512 B, read-only",
                "selftest: verify-manifest ok",
                "selftest: mkdir FAILED",
                "device is read-only",
                "kernel: verdict FAIL",
            ]),
            disk: Some(Transport::Modern),
            input: None,
            module: None,
            seabios: false,
            disk_mode: DiskMode::ReadOnly,
        },
        Case {
            name: "shell-scripted",
            cmdline: "driver=native run=shell",
            timeout: t,
            expect: Expect::Pass(&[
                "Hello, world!",
                "wrote 22 bytes to /notes/today.txt",
                "from the serial shell",
                "removed /hello.txt",
                "hello.txt: no such file",
                "FAT32 \"DDKTEST\"",
                "1af4:1042",
                "virtio-blk-native",
            ]),
            disk: Some(Transport::Modern),
            module: None,
            seabios: false,
            disk_mode: DiskMode::Writable,
            input: Some(
                "cat /hello.txt\nmkdir /notes\nwrite /notes/today.txt from the serial shell\n\
                 cat /notes/today.txt\nrm /hello.txt\ncat /hello.txt\nls /notes\ndf\ndevices\ndrivers\nexit\n",
            ),
        },
    ]
}

/// Checks one finished boot against its expectation.
pub fn check(expect: &Expect, r: &RunResult) -> Result<(), String> {
    let missing = |wanted: &[&str]| -> Option<String> {
        wanted
            .iter()
            .find(|w| !r.serial.contains(**w))
            .map(|w| format!("serial console lacks {w:?}"))
    };
    match expect {
        Expect::Pass(wanted) => {
            if !r.passed() {
                return Err(r.failure_report("expected the kernel to pass"));
            }
            if let Some(m) = missing(wanted) {
                return Err(r.failure_report(&m));
            }
        }
        Expect::Fail(wanted) => {
            if r.outcome != Outcome::Fail {
                return Err(r.failure_report("expected a kernel-reported failure (exit 35)"));
            }
            if r.passed() {
                return Err(r.failure_report("a failing run must never read as success"));
            }
            if let Some(m) = missing(wanted) {
                return Err(r.failure_report(&m));
            }
        }
        Expect::Hang => {
            if r.outcome != Outcome::TimedOut || r.passed() {
                return Err(r.failure_report("expected the hang to be killed by the timeout"));
            }
        }
    }
    Ok(())
}

/// Runs cases in order; returns how many failed.
pub fn run_cases(kernel: &Path, cases: &[Case]) -> usize {
    let mut failed = 0;
    for case in cases {
        let started = Instant::now();
        let verdict = run_case(kernel, case);
        let secs = started.elapsed().as_secs_f64();
        match verdict {
            Ok(()) => println!("qemu test {:<28} ok ({secs:.1} s)", case.name),
            Err(e) => {
                failed += 1;
                println!("qemu test {:<28} FAILED ({secs:.1} s)\n{e}", case.name);
            }
        }
    }
    failed
}

fn run_case(kernel: &Path, case: &Case) -> Result<(), String> {
    let scratch = match case.disk {
        Some(transport) => Some((disk::scratch_copy(case.name)?, transport)),
        None => None,
    };
    if let (Some((path, _)), DiskMode::ZeroedBootSector) = (&scratch, case.disk_mode) {
        zero_boot_sector(path)?;
    }
    // Refused input must leave the image exactly as it was.
    let before = match (&scratch, case.disk_mode) {
        (Some((path, _)), DiskMode::ReadOnly | DiskMode::ZeroedBootSector) => {
            Some(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        _ => None,
    };
    let initrd = match case.module {
        Some(bytes) => {
            let path = crate::artifacts::disks_dir().join(format!("module-{}.bin", case.name));
            std::fs::create_dir_all(crate::artifacts::disks_dir()).map_err(|e| e.to_string())?;
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            Some(path)
        }
        None => None,
    };
    let boot = Boot {
        firmware: if case.seabios {
            qemu::Firmware::SeaBios
        } else {
            qemu::Firmware::preferred()
        },
        kernel: kernel.to_path_buf(),
        cmdline: case.cmdline.to_string(),
        initrd,
        disks: scratch
            .iter()
            .map(|(path, transport)| qemu::Disk {
                path: path.clone(),
                transport: *transport,
                read_only: case.disk_mode == DiskMode::ReadOnly,
            })
            .collect(),
        timeout: case.timeout,
        gdb: false,
        stream: false,
        interactive: false,
        input: case.input.map(|s| s.as_bytes().to_vec()),
    };
    let r = qemu::run(&boot)?;
    check(&case.expect, &r)?;
    if let Some((path, _)) = &scratch {
        if let Some(before) = before {
            let after = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            if after != before {
                return Err(r.failure_report("the kernel changed an image it had to refuse"));
            }
        }
        if case.disk_mode != DiskMode::ZeroedBootSector {
            disk::fsck(path).map_err(|e| format!("after the boot: {e}"))?;
        }
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

fn zero_boot_sector(path: &Path) -> Result<(), String> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.seek(SeekFrom::Start(0))
        .and_then(|_| f.write_all(&[0u8; 512]))
        .map_err(|e| format!("{}: {e}", path.display()))
}
