//! QEMU boot tests: what only a real boot can show. Each case boots the kernel
//! with a timeout and checks the verdict and the serial console; a failure
//! prints the QEMU command line and the serial tail.

use crate::disk;
use crate::managed::{self, FaultKind};
use crate::qemu::{self, Boot, Outcome, RunResult, Transport};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a boot case expects.
#[derive(Clone, Copy)]
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
    pub module: Module,
    /// Boot through SeaBIOS (which assigns PCI BARs) instead of qboot
    /// (where the kernel assigns them): both paths stay tested.
    pub seabios: bool,
    /// How the disk copy is presented or damaged before the boot.
    pub disk_mode: DiskMode,
    /// What the first disk holds.
    pub image: Image,
    /// A second disk (a fresh, empty FAT32 image) on this transport; fsck'd
    /// after the boot too.
    pub second_disk: Option<Transport>,
    /// Guest RAM (`-m`).
    pub memory: &'static str,
    /// The disks sit behind a PCI-to-PCI bridge.
    pub bridge: bool,
    /// The disks are served by a QEMU iothread (a device that polls).
    pub iothread: bool,
}

/// The content of a case's first disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Image {
    /// The default manifest's deterministic image (`disks/`).
    Default,
    /// An image written by other tools: mkfs.fat and mtools (`disk::foreign_image`).
    Foreign,
}

impl Case {
    /// A diskless qboot boot with nothing typed and the managed bundle as its
    /// boot module (as `cargo xtask run` boots); cases override the rest with
    /// struct-update syntax.
    pub(crate) const fn new(
        name: &'static str,
        cmdline: &'static str,
        timeout: Duration,
        expect: Expect,
    ) -> Case {
        Case {
            name,
            cmdline,
            timeout,
            expect,
            disk: None,
            input: None,
            module: Module::Default,
            seabios: false,
            disk_mode: DiskMode::Writable,
            image: Image::Default,
            second_disk: None,
            memory: qemu::DEFAULT_MEMORY,
            bridge: false,
            iothread: false,
        }
    }
}

/// The PVH boot module (`-initrd`) a case boots with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Module {
    /// No module at all.
    None,
    /// The managed bundle `target/managed/managed.cpio` (mscorlib, Ddk,
    /// VirtioBlk), built when out of date: what `cargo xtask run` passes.
    Default,
    /// These bytes, as they are.
    Bytes(&'static [u8]),
    /// The bundle of the driver variant that faults with this kind at this
    /// block request (1-based), `target/managed/faulty-<kind>-<n>.cpio`.
    Faulty(FaultKind, u32),
    /// The default bundle, damaged.
    Corrupt(Corruption),
    /// `target/managed/gc-stress.cpio`: corlib and the GcStress program.
    GcStress,
}

/// Deterministic damage to the default bundle: the kernel must refuse each with
/// a clear error, never crash or half-load it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// The bundle cut in half (inside an entry's data).
    Truncated,
    /// One data byte in the middle of VirtioBlk.dll inverted (XOR 0xff), the
    /// stored checksum left as it was.
    BadChecksum,
    /// Pseudo-random bytes (fixed seed) as long as the bundle.
    Garbage,
    /// A valid archive (checksums right) whose VirtioBlk.dll is the first half of
    /// the real PE file.
    MalformedAssembly,
}

impl Module {
    /// The file to hand QEMU as `-initrd` for case `case`, built or written now.
    pub fn initrd(&self, case: &str) -> Result<Option<PathBuf>, String> {
        let write = |bytes: &[u8]| -> Result<Option<PathBuf>, String> {
            let path = crate::artifacts::disks_dir().join(format!("module-{case}.bin"));
            managed::write_atomically(&path, bytes)?;
            Ok(Some(path))
        };
        match *self {
            Module::None => Ok(None),
            Module::Default => managed::bundle().map(Some),
            Module::Bytes(bytes) => write(bytes),
            Module::Faulty(kind, at) => managed::faulty_bundle(kind, at).map(Some),
            Module::GcStress => managed::gc_stress_bundle().map(Some),
            Module::Corrupt(c) => {
                let path = managed::bundle()?;
                let bundle =
                    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                write(&corrupt(&bundle, c)?)
            }
        }
    }
}

/// Byte offset of entry `name`'s data in `bundle`, and its length.
fn entry_span(bundle: &[u8], name: &str) -> Result<(usize, usize), String> {
    let entries = cil_compat::bundle::parse(bundle).map_err(|e| format!("the bundle: {e}"))?;
    let e = entries
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| format!("the bundle has no {name}"))?;
    // The entry borrows from `bundle`, so the pointer difference is its offset.
    Ok((
        e.data.as_ptr() as usize - bundle.as_ptr() as usize,
        e.data.len(),
    ))
}

/// `bundle` (a valid archive holding VirtioBlk.dll) damaged as `how` says. The
/// same input always gives the same output.
pub fn corrupt(bundle: &[u8], how: Corruption) -> Result<Vec<u8>, String> {
    match how {
        Corruption::Truncated => Ok(bundle[..bundle.len() / 2].to_vec()),
        Corruption::BadChecksum => {
            let (at, len) = entry_span(bundle, "VirtioBlk.dll")?;
            if len == 0 {
                return Err("VirtioBlk.dll is empty: no byte to flip".into());
            }
            let mut out = bundle.to_vec();
            out[at + len / 2] ^= 0xff;
            Ok(out)
        }
        Corruption::Garbage => {
            // xorshift64 with a fixed seed.
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            Ok((0..bundle.len().max(512))
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect())
        }
        Corruption::MalformedAssembly => {
            let entries =
                cil_compat::bundle::parse(bundle).map_err(|e| format!("the bundle: {e}"))?;
            if !entries.iter().any(|e| e.name == "VirtioBlk.dll") {
                return Err("the bundle has no VirtioBlk.dll".into());
            }
            let files: Vec<(&str, Vec<u8>)> = entries
                .iter()
                .map(|e| {
                    let data = if e.name == "VirtioBlk.dll" {
                        malformed_pe(e.data)
                    } else {
                        e.data.to_vec()
                    };
                    (e.name, data)
                })
                .collect();
            let list: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (*n, d.as_slice())).collect();
            Ok(cil_compat::bundle::write(&list))
        }
    }
}

/// The first half of a PE file: it still starts with `MZ` and a PE signature
/// and looks like an assembly until its sections and metadata, which now run
/// past the end, are read (our loader: "malformed metadata root").
fn malformed_pe(pe: &[u8]) -> Vec<u8> {
    pe[..pe.len() / 2].to_vec()
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
        Case::new(
            "hello",
            "run=hello",
            t,
            // -m 512M: the RAM reported is 511.x MiB (the VGA hole and
            // option ROM area are not RAM), not the 12 GiB of reserved space.
            Expect::Pass(&[
                "kernel: booting",
                "run=hello",
                "memory map",
                " KiB (511 MiB): usable ",
            ]),
        ),
        // log=debug adds DEBUG lines (every PCI function found); log=trace
        // (a disk case below) adds TRACE lines too; info has neither.
        Case::new(
            "log-debug",
            "run=hello log=debug",
            t,
            Expect::Pass(&["DEBUG pci: 00:00.0 8086:29c0", "kernel: verdict PASS"]),
        ),
        Case {
            seabios: true,
            ..Case::new(
                "hello-seabios",
                "run=hello",
                t,
                Expect::Pass(&["kernel: booting", "memory map", " KiB (511 MiB): usable "]),
            )
        },
        // 4-byte magic + 996 bytes: the kernel finds it through PVH
        // `modlist_paddr` and reports size and first bytes.
        Case {
            module: Module::Bytes(&MODULE),
            ..Case::new(
                "boot-module",
                "run=hello",
                t,
                Expect::Pass(&[
                    "boot module at 0x",
                    "1000 bytes, first bytes [44, 44, 4b, 21, 00, 01, 02, 03,",
                ]),
            )
        },
        Case::new(
            "null-deref",
            "run=fault-null",
            t,
            Expect::Fail(&[
                "!!! EXCEPTION 0x0E #PF Page Fault",
                "CR2: 0x0000000000000000",
                "cause: read of a not-present page (null guard)",
                "RIP: 0x",
                "backtrace:",
                "kernel: verdict FAIL",
            ]),
        ),
        // W^X: JIT code installed in the code window runs (returns 42), and
        // a write to it faults because the window is never writable.
        Case::new(
            "wx-write-faults",
            "run=fault-wx-write",
            t,
            Expect::Fail(&[
                "mem: W^X on: text RX, rodata R, data/bss/stacks RW+NX",
                "run: fault-wx-write: JIT code at 0xffffa00000000000 returned 42",
                "!!! EXCEPTION 0x0E #PF Page Fault",
                "error code: 0x0000000000000003",
                "CR2: 0xffffa00000000000",
                "cause: write to a present read-only page (JIT code is never writable: W^X)",
                "kernel: verdict FAIL",
            ]),
        ),
        // NX: the same bytes copied to the heap (direct map) must not run.
        Case::new(
            "nx-exec-faults",
            "run=fault-nx-exec",
            t,
            Expect::Fail(&[
                "!!! EXCEPTION 0x0E #PF Page Fault",
                "error code: 0x0000000000000011",
                "CR2: 0xffff8",
                "cause: instruction fetch from a non-executable page (NX)",
                "kernel: verdict FAIL",
            ]),
        ),
        // #PF runs on its own IST stack, so running into the boot stack's
        // guard page is a clean, explained page fault (not a double fault).
        Case::new(
            "kernel-stack-overflow",
            "run=fault-stack",
            t,
            Expect::Fail(&[
                "!!! EXCEPTION 0x0E #PF Page Fault",
                "boot stack guard page: stack overflow",
                "kernel: verdict FAIL",
            ]),
        ),
        Case::new(
            "invalid-opcode",
            "run=fault-ud",
            t,
            Expect::Fail(&["!!! EXCEPTION 0x06 #UD", "kernel: verdict FAIL"]),
        ),
        Case::new(
            "panic",
            "run=fault-panic",
            t,
            Expect::Fail(&["panicked at", "deliberate panic", "kernel: verdict FAIL"]),
        ),
        Case::new(
            "unknown-cmdline-key",
            "run=hello drvier=native",
            t,
            Expect::Fail(&["unknown key 'drvier'", "kernel: verdict FAIL"]),
        ),
        Case::new(
            "bad-restart-value",
            "restart=20000",
            t,
            Expect::Fail(&[
                "bad value '20000' for key 'restart'",
                "kernel: verdict FAIL",
            ]),
        ),
        Case::new(
            "bad-driver-value",
            "driver=fastest",
            t,
            Expect::Fail(&["kernel: verdict FAIL"]),
        ),
        Case::new(
            "hang-is-killed",
            "run=fault-hang",
            Duration::from_secs(8),
            Expect::Hang,
        ),
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
    let native = "driver=native run=selftest";
    let selftest = Expect::Pass(&[
        "selftest: verify-manifest ok",
        "selftest: verify-after-remount ok",
        "selftest: batch-read ok",
        "selftest: PASS",
    ]);
    let on = |transport, case: Case| Case {
        disk: Some(transport),
        ..case
    };
    let seabios = |case: Case| Case {
        seabios: true,
        ..case
    };
    vec![
        on(Transport::Modern, Case::new("selftest-native-modern", native, t, selftest)),
        on(Transport::Legacy, Case::new("selftest-native-legacy", native, t, selftest)),
        seabios(on(Transport::Modern, Case::new("selftest-seabios-modern", native, t, selftest))),
        seabios(on(Transport::Legacy, Case::new("selftest-seabios-legacy", native, t, selftest))),
        Case {
            disk_mode: DiskMode::ZeroedBootSector,
            ..on(
                Transport::Modern,
                Case::new(
                    "corrupt-image-refused",
                    native,
                    t,
                    Expect::Fail(&[
                        "selftest: mount FAILED: corrupt or unsupported volume",
                        "kernel: verdict FAIL",
                    ]),
                ),
            )
        },
        Case {
            disk_mode: DiskMode::ReadOnly,
            ..on(
                Transport::Modern,
                Case::new(
                    "read-only-disk",
                    native,
                    t,
                    Expect::Fail(&[
                        "blocks of 512 B, read-only",
                        "selftest: verify-manifest ok",
                        "selftest: mkdir FAILED",
                        "device is read-only",
                        "kernel: verdict FAIL",
                    ]),
                ),
            )
        },
        Case {
            input: Some(
                "cat /hello.txt\nmkdir /notes\nwrite /notes/today.txt from the serial shell\n\
                 cat /notes/today.txt\nrm /hello.txt\ncat /hello.txt\nls /notes\ndf\ndevices\ndrivers\nexit\n",
            ),
            ..on(
                Transport::Modern,
                Case::new(
                    "shell-scripted",
                    "driver=native run=shell",
                    t,
                    Expect::Pass(&[
                        "Hello, world!",
                        "wrote 22 bytes to /notes/today.txt",
                        "from the serial shell",
                        "removed /hello.txt",
                        "hello.txt: no such file",
                        "FAT32 \"DDKTEST\"",
                        "1af4:1042",
                        "virtio-blk-native",
                    ]),
                ),
            )
        },
        // log=trace: TRACE lines (every block request) and DEBUG lines.
        Case {
            input: Some("cat /hello.txt\nexit\n"),
            ..on(
                Transport::Modern,
                Case::new(
                    "log-trace",
                    "driver=native run=shell log=trace",
                    t,
                    Expect::Pass(&[
                        "DEBUG pci: 00:00.0",
                        "TRACE blk: read lba 0 +",
                        "Hello, world!",
                        "kernel: verdict PASS",
                    ]),
                ),
            )
        },
        // A script without `exit` whose input just ends (Ctrl-D, what `cargo
        // xtask run` types when its piped stdin ends; the last line has no
        // newline): the session ends and passes. cd/pwd and relative paths;
        // UTF-8 typed at the prompt reaches the command.
        Case {
            input: Some(
                "cd \"/Documents/Projects/Kernel Work\"\npwd\ncat Drivers/README\n\
                 cd ../../..\npwd\nwrite café.txt typed in UTF-8\ncat /café.txt\ncat hello.txt\r\u{4}",
            ),
            ..on(
                Transport::Modern,
                Case::new(
                    "shell-end-of-input",
                    "driver=native run=shell",
                    t,
                    Expect::Pass(&[
                        "/Documents/Projects/Kernel Work\n",
                        "drivers go here",
                        "> pwd\n/\n",
                        "wrote 15 bytes to /café.txt",
                        "typed in UTF-8",
                        "Hello, world!",
                        "exit (end of input)",
                    ]),
                ),
            )
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
    let scratch = match (case.disk, case.image) {
        (Some(transport), Image::Default) => Some((disk::scratch_copy(case.name)?, transport)),
        (Some(transport), Image::Foreign) => {
            let p = crate::artifacts::disks_dir().join(format!("scratch-{}.img", case.name));
            disk::foreign_image(&p)?;
            Some((p, transport))
        }
        (None, _) => None,
    };
    let second = match case.second_disk {
        Some(transport) => {
            let p = crate::artifacts::disks_dir().join(format!("scratch-{}-2.img", case.name));
            disk::empty_image(&p, 64)?;
            Some((p, transport))
        }
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
    let initrd = case.module.initrd(case.name)?;
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
            .chain(second.iter())
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
        input_after: None,
        input: case.input.map(|s| s.as_bytes().to_vec()),
        memory: case.memory.to_string(),
        bridge: case.bridge,
        iothread: case.iothread,
        blkdebug: None,
        translation_log: None,
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
    if let Some((path, _)) = &second {
        disk::fsck(path).map_err(|e| format!("second disk, after the boot: {e}"))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use cil_compat::bundle::{self, BundleError};

    /// A bundle shaped like the real one (the real one needs mcs).
    fn sample() -> Vec<u8> {
        let corlib: Vec<u8> = (0..3000u32).map(|i| (i * 13) as u8).collect();
        let ddk: Vec<u8> = (0..2000u32).map(|i| (i * 7) as u8).collect();
        let driver: Vec<u8> = (0..2500u32).map(|i| (i * 3 + 1) as u8).collect();
        bundle::write(&[
            ("mscorlib.dll", &corlib),
            ("Ddk.dll", &ddk),
            ("VirtioBlk.dll", &driver),
        ])
    }

    #[test]
    fn corruptions_are_deterministic_and_refused_as_described() {
        let b = sample();
        for c in [
            Corruption::Truncated,
            Corruption::BadChecksum,
            Corruption::Garbage,
            Corruption::MalformedAssembly,
        ] {
            assert_eq!(corrupt(&b, c).unwrap(), corrupt(&b, c).unwrap(), "{c:?}");
            assert_ne!(corrupt(&b, c).unwrap(), b, "{c:?}");
        }

        let t = corrupt(&b, Corruption::Truncated).unwrap();
        assert_eq!(t.len(), b.len() / 2);
        let e = bundle::parse(&t).unwrap_err();
        assert!(matches!(e, BundleError::Truncated { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("truncated: entry 'Ddk.dll' needs 2000 bytes at byte "),
            "{e}"
        );

        let c = corrupt(&b, Corruption::BadChecksum).unwrap();
        assert_eq!(c.len(), b.len());
        assert_eq!(c.iter().zip(&b).filter(|(x, y)| x != y).count(), 1);
        let e = bundle::parse(&c).unwrap_err().to_string();
        assert!(
            e.starts_with("checksum mismatch in 'VirtioBlk.dll' (stored 0x"),
            "{e}"
        );

        let g = corrupt(&b, Corruption::Garbage).unwrap();
        assert_eq!(g.len(), b.len());
        let e = bundle::parse(&g).unwrap_err().to_string();
        assert!(e.starts_with("not a cpio archive (bad magic \""), "{e}");

        let m = corrupt(&b, Corruption::MalformedAssembly).unwrap();
        let (good, bad) = (bundle::parse(&b).unwrap(), bundle::parse(&m).unwrap());
        let names: Vec<&str> = bad.iter().map(|e| e.name).collect();
        assert_eq!(names, ["mscorlib.dll", "Ddk.dll", "VirtioBlk.dll"]);
        assert_eq!(bad[..2], good[..2]);
        assert_eq!(bad[2].data, &good[2].data[..1250]);

        // Without VirtioBlk.dll there is nothing to damage: say so.
        let no_driver = bundle::write(&[("mscorlib.dll", b"x")]);
        assert!(corrupt(&no_driver, Corruption::BadChecksum).is_err());
        assert!(corrupt(&no_driver, Corruption::MalformedAssembly).is_err());
    }

    /// On the real bundle: the malformed driver is refused by our loader, while
    /// the archive around it is fine.
    #[test]
    fn malformed_assembly_is_refused_by_our_loader() {
        if cil_compat::toolchain::find_tool("mcs").is_err() {
            assert!(
                std::env::var_os("XTASK_REQUIRE_TOOLS").is_none(),
                "mcs is required here"
            );
            println!("note: mcs not installed; skipping");
            return;
        }
        let real = std::fs::read(managed::bundle().unwrap()).unwrap();
        let m = corrupt(&real, Corruption::MalformedAssembly).unwrap();
        let entries = bundle::parse(&m).unwrap();
        let mut ts = cil_compat::types::TypeSystem::new();
        ts.load(entries[0].data.to_vec()).unwrap();
        ts.load(entries[1].data.to_vec()).unwrap();
        let e = ts
            .load(entries[2].data.to_vec())
            .expect_err("a half PE must not load");
        println!("refused: {e}");
        let e = bundle::parse(&corrupt(&real, Corruption::Truncated).unwrap()).unwrap_err();
        assert!(e.to_string().starts_with("truncated: entry '"), "{e}");
    }

    #[test]
    fn cases_boot_with_the_bundle_unless_they_say_otherwise() {
        let cases: Vec<Case> = basic_cases().into_iter().chain(disk_cases()).collect();
        for c in &cases {
            let want = if c.name == "boot-module" {
                Module::Bytes(&MODULE)
            } else {
                Module::Default
            };
            assert_eq!(c.module, want, "{}", c.name);
        }
    }
}
