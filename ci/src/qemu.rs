//! Boots the kernel under QEMU (TCG) with a hard timeout, streams or captures
//! the serial console, and turns QEMU's exit status into a verdict.
//!
//! Exit protocol (agreed with `kernel/`): the kernel writes 0x10 (pass) or
//! 0x11 (fail) to `isa-debug-exit` at port 0xf4; QEMU then exits with
//! `(v << 1) | 1`, i.e. 33 or 35. A triple fault with `-no-reboot` exits 0,
//! and a hang is killed by the timeout: neither can ever read as success.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const EXIT_PASS: i32 = 33;
pub const EXIT_FAIL: i32 = 35;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Modern,
    Legacy,
}

#[derive(Clone, Debug)]
pub struct Disk {
    pub path: PathBuf,
    pub transport: Transport,
    pub read_only: bool,
}

/// QEMU's minimal firmware. It reaches a PVH kernel's first instruction
/// about 3x sooner than SeaBIOS; unlike SeaBIOS it leaves PCI BARs
/// unassigned, which the kernel then assigns itself.
pub const QBOOT: &str = "/usr/share/qemu/qboot.rom";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firmware {
    Qboot,
    /// QEMU's default BIOS.
    SeaBios,
}

impl Firmware {
    /// qboot when QEMU ships it (Debian: qemu-system-data), else SeaBIOS.
    pub fn preferred() -> Firmware {
        if Path::new(QBOOT).is_file() {
            Firmware::Qboot
        } else {
            Firmware::SeaBios
        }
    }

    pub fn parse(s: &str) -> Option<Firmware> {
        match s {
            "qboot" => Some(Firmware::Qboot),
            "seabios" => Some(Firmware::SeaBios),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Boot {
    pub firmware: Firmware,
    pub kernel: PathBuf,
    pub cmdline: String,
    pub initrd: Option<PathBuf>,
    pub disks: Vec<Disk>,
    pub timeout: Duration,
    pub gdb: bool,
    /// Echo the serial console to our stdout as it arrives.
    pub stream: bool,
    /// Hand our stdin to the serial console (interactive shell).
    pub interactive: bool,
    /// Bytes typed into the serial console at boot (scripted shell tests).
    pub input: Option<Vec<u8>>,
    /// Hold `input` back until the console shows this text (e.g. the shell's
    /// banner): typed-ahead input makes the kernel wait at boot to keep it,
    /// which a boot-time measurement must not include.
    pub input_after: Option<&'static str>,
    /// Guest RAM (`-m`), e.g. `512M` or `8G`.
    pub memory: String,
    /// Put the disks behind a PCI-to-PCI bridge (`pci-bridge` on the root
    /// bus, the virtio-blk devices on its secondary bus) instead of on bus 0.
    pub bridge: bool,
    /// Serve the disks from a QEMU iothread (`-object iothread`, the
    /// devices' `iothread=`): the device then polls its rings and asks for
    /// no notifications while it does (virtio 1.2 §2.7.10).
    pub iothread: bool,
    /// A QEMU blkdebug rules file for the first disk: its rules inject I/O
    /// errors (`blkdebug.rs`); the device reports them (`werror=report`,
    /// `rerror=report`) instead of stopping the VM.
    pub blkdebug: Option<PathBuf>,
    /// Log every block of guest code TCG translates to this file (`-d in_asm`;
    /// `bench translation` reads it).
    pub translation_log: Option<PathBuf>,
}

/// Guest RAM when nothing else is asked for.
pub const DEFAULT_MEMORY: &str = "512M";

/// Accepts what QEMU's `-m` takes in the form we use: a number with an
/// optional `M`/`G` suffix (`512M`, `4G`, `8192`), at least 64 MiB.
pub fn check_memory(size: &str) -> Result<(), String> {
    let (num, unit) = match size.strip_suffix(['G', 'g']) {
        Some(n) => (n, 1u64 << 30),
        None => (size.strip_suffix(['M', 'm']).unwrap_or(size), 1 << 20),
    };
    match num.parse::<u64>().ok().and_then(|n| n.checked_mul(unit)) {
        Some(bytes) if bytes >= 64 << 20 => Ok(()),
        _ => Err(format!(
            "--memory: '{size}' is not a RAM size of at least 64 MiB (say 512M, 4G)"
        )),
    }
}

impl Boot {
    /// A boot of `kernel` with `cmdline` under the preferred firmware, no boot
    /// module, no disk, nothing typed, not streamed; callers set the rest
    /// with struct-update syntax.
    pub fn new(kernel: &Path, cmdline: impl Into<String>, timeout: Duration) -> Boot {
        Boot {
            firmware: Firmware::preferred(),
            kernel: kernel.to_path_buf(),
            cmdline: cmdline.into(),
            initrd: None,
            disks: Vec::new(),
            timeout,
            gdb: false,
            stream: false,
            interactive: false,
            input: None,
            input_after: None,
            memory: DEFAULT_MEMORY.to_string(),
            bridge: false,
            iothread: false,
            blkdebug: None,
            translation_log: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// The kernel reported failure through isa-debug-exit.
    Fail,
    /// QEMU exited 0: a triple fault / reset under `-no-reboot`.
    TripleFault,
    TimedOut,
    /// Any other QEMU exit status (QEMU itself failed).
    Qemu(Option<i32>),
}

impl Outcome {
    pub fn describe(&self) -> String {
        match self {
            Outcome::Pass => "pass".into(),
            Outcome::Fail => "kernel reported failure".into(),
            Outcome::TripleFault => "QEMU exited 0 (triple fault or reset)".into(),
            Outcome::TimedOut => "timed out (killed)".into(),
            Outcome::Qemu(code) => format!("QEMU failed (exit status {code:?})"),
        }
    }
}

pub struct RunResult {
    pub outcome: Outcome,
    pub serial: String,
    pub command_line: String,
    pub elapsed: Duration,
    /// Time from spawning QEMU to the first byte on the serial console.
    pub first_byte: Option<Duration>,
    /// What QEMU itself wrote to stderr (also appended to `serial`).
    pub qemu_stderr: String,
    /// For each read from the console: the serial length after it and the
    /// time since QEMU was spawned (see [`RunResult::arrival_of`]).
    pub arrivals: Vec<(usize, Duration)>,
}

impl RunResult {
    /// Pass only if QEMU said so *and* the kernel printed its verdict line.
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Pass && self.serial.contains("kernel: verdict PASS")
    }

    /// When the first occurrence of `needle` had fully arrived on the console,
    /// measured from QEMU's spawn (host clock, so the same for any guest).
    pub fn arrival_of(&self, needle: &str) -> Option<Duration> {
        let end = self.serial.find(needle)? + needle.len();
        arrival_at(&self.arrivals, end)
    }

    /// The last `n` lines of the serial console.
    pub fn tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self.serial.lines().collect();
        let from = lines.len().saturating_sub(n);
        lines[from..].join("\n")
    }

    /// The outcome in words; when QEMU itself failed, with its own message
    /// (a missing file, an image locked by another QEMU, a bad option).
    pub fn describe(&self) -> String {
        let msg = self.qemu_stderr.trim();
        match self.outcome {
            Outcome::Qemu(_) if !msg.is_empty() => {
                format!("{}: {msg}", self.outcome.describe())
            }
            _ => self.outcome.describe(),
        }
    }

    /// The report printed when a boot did not go as expected.
    pub fn failure_report(&self, why: &str) -> String {
        format!(
            "{why}\n  outcome: {}\n  command: {}\n  serial tail:\n{}",
            self.describe(),
            self.command_line,
            indent(&self.tail(40), "    | ")
        )
    }
}

/// The time of the first read after which the console held `end` bytes.
fn arrival_at(arrivals: &[(usize, Duration)], end: usize) -> Option<Duration> {
    arrivals
        .iter()
        .find(|(len, _)| *len >= end)
        .map(|(_, t)| *t)
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// QEMU's `-drive` cache mode and AIO backend for every disk.
pub const DRIVE_CACHE: &str = "writeback";
pub const DRIVE_AIO: &str = "threads";

pub fn qemu_args(boot: &Boot) -> Vec<String> {
    let mut a: Vec<String> = [
        "-machine",
        "q35",
        "-cpu",
        "max",
        "-display",
        "none",
        "-vga",
        "none",
        "-nic",
        "none",
        "-serial",
        "stdio",
        "-monitor",
        "none",
        "-no-reboot",
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.push("-m".into());
    a.push(boot.memory.clone());
    if boot.firmware == Firmware::Qboot {
        a.push("-bios".into());
        a.push(QBOOT.into());
    }
    a.push("-kernel".into());
    a.push(boot.kernel.display().to_string());
    a.push("-append".into());
    a.push(boot.cmdline.clone());
    if let Some(initrd) = &boot.initrd {
        a.push("-initrd".into());
        a.push(initrd.display().to_string());
    }
    if boot.iothread && !boot.disks.is_empty() {
        a.push("-object".into());
        a.push("iothread,id=io0".into());
    }
    if boot.bridge && !boot.disks.is_empty() {
        a.push("-device".into());
        a.push("pci-bridge,id=br0,chassis_nr=1".into());
    }
    for (i, d) in boot.disks.iter().enumerate() {
        let ro = if d.read_only { ",readonly=on" } else { "" };
        a.push("-drive".into());
        match (&boot.blkdebug, i) {
            // blkdebug (QEMU's error injection) wraps the image file; the
            // injected errors do not depend on the cache mode.
            (Some(rules), 0) => a.push(format!(
                "driver=raw,file.driver=blkdebug,file.config={},file.image.filename={},if=none,id=d{i}{ro}",
                rules.display(),
                d.path.display()
            )),
            // Cache mode and AIO stated, not left to QEMU's defaults: every
            // peer (our drivers, Linux) is benchmarked on the same drive.
            _ => a.push(format!(
                "file={},if=none,id=d{i},format=raw,cache={DRIVE_CACHE},aio={DRIVE_AIO}{ro}",
                d.path.display()
            )),
        }
        let t = match d.transport {
            Transport::Modern => "disable-legacy=on,disable-modern=off",
            Transport::Legacy => "disable-legacy=off,disable-modern=on",
        };
        let mut dev = format!("virtio-blk-pci,drive=d{i},{t}");
        if boot.blkdebug.is_some() && i == 0 {
            dev.push_str(",werror=report,rerror=report");
        }
        if boot.bridge {
            dev.push_str(&format!(",bus=br0,addr={}", i + 1));
        }
        if boot.iothread {
            dev.push_str(",iothread=io0");
        }
        a.push("-device".into());
        a.push(dev);
    }
    if boot.gdb {
        a.extend(["-s".to_string(), "-S".to_string()]);
    }
    if let Some(log) = &boot.translation_log {
        a.extend([
            "-d".into(),
            "in_asm".into(),
            "-D".into(),
            log.display().to_string(),
        ]);
    }
    a
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_=.,/:".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

pub fn run(boot: &Boot) -> Result<RunResult, String> {
    check_file(&boot.kernel)?;
    for d in &boot.disks {
        check_file(&d.path)?;
    }
    if let Some(initrd) = &boot.initrd {
        check_file(initrd)?;
    }
    let args = qemu_args(boot);
    let command_line = std::iter::once("qemu-system-x86_64".to_string())
        .chain(args.iter().map(|a| shell_quote(a)))
        .collect::<Vec<_>>()
        .join(" ");
    if boot.gdb {
        eprintln!("xtask: QEMU waits for GDB on localhost:1234 (target remote :1234)");
    }
    // An interactive session fed from a pipe or a file (`... run=shell <
    // script`): QEMU never tells the guest that its stdin ended, so we copy
    // it and type Ctrl-D at its end, which ends the shell.
    let piped_console = boot.interactive && boot.input.is_none() && !std::io::stdin().is_terminal();
    let start = Instant::now();
    let mut child = Command::new("qemu-system-x86_64")
        .args(&args)
        .stdin(if boot.input.is_some() || piped_console {
            Stdio::piped()
        } else if boot.interactive {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;

    // Scripted input: written from a thread and kept open until QEMU exits,
    // so the console never sees a premature end of input.
    let serial = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = match (
        boot.input.clone(),
        boot.input.as_ref().and_then(|_| child.stdin.take()),
    ) {
        (Some(input), Some(mut stdin)) => {
            let (serial, after, timeout) = (Arc::clone(&serial), boot.input_after, boot.timeout);
            Some(std::thread::spawn(move || {
                if let Some(marker) = after {
                    let marker = marker.as_bytes();
                    while start.elapsed() < timeout
                        && !serial
                            .lock()
                            .unwrap()
                            .windows(marker.len())
                            .any(|w| w == marker)
                    {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
                let _ = stdin.write_all(&input);
                let _ = stdin.flush();
                stdin
            }))
        }
        _ => None,
    };
    if piped_console {
        if let Some(mut stdin) = child.stdin.take() {
            // Detached: it may wait on our stdin after QEMU is gone.
            std::thread::spawn(move || {
                let _ = forward_until_eof(&mut std::io::stdin().lock(), &mut stdin);
                // Keep QEMU's stdin open: its end is no signal to the guest.
                std::thread::sleep(Duration::MAX);
            });
        }
    }
    let first_byte = Arc::new(Mutex::new(None::<Duration>));
    let arrivals = Arc::new(Mutex::new(Vec::<(usize, Duration)>::new()));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = {
        let serial = Arc::clone(&serial);
        let first_byte = Arc::clone(&first_byte);
        let arrivals = Arc::clone(&arrivals);
        let stream = boot.stream;
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut fb = first_byte.lock().unwrap();
                        if fb.is_none() {
                            *fb = Some(start.elapsed());
                        }
                        drop(fb);
                        let mut serial = serial.lock().unwrap();
                        serial.extend_from_slice(&buf[..n]);
                        arrivals
                            .lock()
                            .unwrap()
                            .push((serial.len(), start.elapsed()));
                        drop(serial);
                        if stream {
                            let mut out = std::io::stdout().lock();
                            let _ = out.write_all(&buf[..n]);
                            let _ = out.flush();
                        }
                    }
                }
            }
        })
    };
    let mut stderr = child.stderr.take().expect("piped stderr");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| format!("waiting for qemu: {e}"))?
        {
            break Some(status);
        }
        if start.elapsed() >= boot.timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    if let Some(w) = writer {
        drop(w.join());
    }
    let _ = reader.join();
    let qemu_stderr = err_reader.join().unwrap_or_default();
    let mut serial = String::from_utf8_lossy(&serial.lock().unwrap()).into_owned();
    if !qemu_stderr.trim().is_empty() {
        serial.push_str("\n[qemu stderr] ");
        serial.push_str(qemu_stderr.trim());
    }
    let outcome = match status {
        None => Outcome::TimedOut,
        Some(s) => match s.code() {
            Some(EXIT_PASS) => Outcome::Pass,
            Some(EXIT_FAIL) => Outcome::Fail,
            Some(0) => Outcome::TripleFault,
            other => Outcome::Qemu(other),
        },
    };
    let first_byte = *first_byte.lock().unwrap();
    // Offsets are of the raw bytes; the lossy text differs only where the
    // console had invalid UTF-8 (it only grows there, so a lookup errs late).
    let arrivals = std::mem::take(&mut *arrivals.lock().unwrap());
    Ok(RunResult {
        outcome,
        serial,
        command_line,
        elapsed,
        first_byte,
        qemu_stderr,
        arrivals,
    })
}

/// What the console gets when the input stream ends: CR ends a last line
/// that has no newline, Ctrl-D on the empty line is the shell's end of input.
pub const END_OF_INPUT: &[u8] = b"\r\x04";

/// Copies `from` to `to` until `from` ends, then sends [`END_OF_INPUT`].
fn forward_until_eof(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                to.write_all(&buf[..n])?;
                to.flush()?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    to.write_all(END_OF_INPUT)?;
    to.flush()
}

/// The file exists and is a regular file; the error says what it is instead.
pub fn check_file(p: &Path) -> Result<(), String> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) if m.is_dir() => Err(format!(
            "{}: is a directory, not a file (to boot a directory's files, build an \
             image from it: cargo xtask disk build --from DIR --out IMAGE)",
            p.display()
        )),
        Ok(_) => Err(format!("{}: not a regular file", p.display())),
        Err(e) => Err(format!("{}: {e}", p.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(disks: Vec<Disk>) -> Boot {
        Boot {
            firmware: Firmware::SeaBios,
            kernel: "kernel.elf".into(),
            cmdline: "run=copytree".into(),
            initrd: None,
            disks,
            timeout: Duration::from_secs(1),
            gdb: false,
            stream: false,
            interactive: false,
            input_after: None,
            input: None,
            memory: DEFAULT_MEMORY.into(),
            bridge: false,
            iothread: false,
            blkdebug: None,
            translation_log: None,
        }
    }

    fn disk(path: &str, transport: Transport) -> Disk {
        Disk {
            path: path.into(),
            transport,
            read_only: false,
        }
    }

    /// Values following each `flag` in the argument list, in order.
    fn values<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
        args.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].as_str())
            .collect()
    }

    #[test]
    fn two_disks_get_distinct_ids_in_order() {
        let args = qemu_args(&boot(vec![
            disk("a.img", Transport::Modern),
            disk("b.img", Transport::Legacy),
        ]));
        assert_eq!(
            values(&args, "-drive"),
            [
                "file=a.img,if=none,id=d0,format=raw,cache=writeback,aio=threads",
                "file=b.img,if=none,id=d1,format=raw,cache=writeback,aio=threads"
            ]
        );
        // The virtio-blk devices follow the drives in order, so QEMU puts
        // them on consecutive PCI slots and the kernel names them vda, vdb.
        assert_eq!(
            values(&args, "-device")[1..],
            [
                "virtio-blk-pci,drive=d0,disable-legacy=on,disable-modern=off",
                "virtio-blk-pci,drive=d1,disable-legacy=off,disable-modern=on"
            ]
        );
    }

    #[test]
    fn piped_input_ends_with_ctrl_d() {
        let mut out = Vec::new();
        forward_until_eof(&mut &b"ls /\ncat /hello.txt"[..], &mut out).unwrap();
        assert_eq!(out, b"ls /\ncat /hello.txt\r\x04");
    }

    #[test]
    fn a_directory_or_a_missing_file_is_named_as_such() {
        let dir = std::env::temp_dir();
        let e = check_file(&dir).unwrap_err();
        assert!(e.contains("is a directory"), "{e}");
        let e = check_file(Path::new("/nonexistent/initrd.cpio")).unwrap_err();
        assert!(e.contains("No such file"), "{e}");
    }

    /// A second QEMU on an image another QEMU holds fails, and the report
    /// carries QEMU's own words about the lock, not just an exit status.
    #[test]
    fn qemus_own_message_is_reported() {
        let dir = std::env::temp_dir().join(format!("xtask-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let img = dir.join("locked.img");
        std::fs::write(&img, vec![0u8; 1 << 20]).unwrap();
        // The holder: paused (-S), no firmware run, the image open read-write.
        let mut holder = Command::new("qemu-system-x86_64")
            .args(["-S", "-display", "none", "-nic", "none", "-monitor", "none"])
            .args(["-serial", "none", "-drive"])
            .arg(format!("file={},if=none,id=d0,format=raw", img.display()))
            .args(["-device", "virtio-blk-pci,drive=d0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("qemu-system-x86_64 runs (cargo xtask setup installs it)");
        // Wait until the holder has locked the image: /proc/locks lists the
        // lock with the file's inode (`... 08:01:INODE start end`).
        use std::os::unix::fs::MetadataExt;
        let inode = format!(":{} ", std::fs::metadata(&img).unwrap().ino());
        let t0 = Instant::now();
        let locked = || std::fs::read_to_string("/proc/locks").is_ok_and(|l| l.contains(&inode));
        while !locked() && t0.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if !locked() {
            let _ = holder.kill();
            let _ = holder.wait();
            panic!("the holder QEMU never locked {}", img.display());
        }
        let mut b = boot(vec![disk(img.to_str().unwrap(), Transport::Modern)]);
        b.kernel = img.clone();
        b.timeout = Duration::from_secs(30);
        let r = run(&b);
        let _ = holder.kill();
        let _ = holder.wait();
        let _ = std::fs::remove_dir_all(&dir);
        let r = r.unwrap();
        assert!(matches!(r.outcome, Outcome::Qemu(_)), "{:?}", r.outcome);
        let d = r.describe();
        assert!(d.contains("lock"), "{d}");
    }

    #[test]
    fn a_line_arrives_with_the_read_that_completed_it() {
        let ms = Duration::from_millis;
        let arrivals = [(10, ms(5)), (25, ms(9)), (40, ms(30))];
        assert_eq!(arrival_at(&arrivals, 10), Some(ms(5)));
        assert_eq!(arrival_at(&arrivals, 11), Some(ms(9)));
        assert_eq!(arrival_at(&arrivals, 40), Some(ms(30)));
        assert_eq!(arrival_at(&arrivals, 41), None);
    }

    #[test]
    fn no_disk_means_no_virtio_device() {
        let args = qemu_args(&boot(Vec::new()));
        assert!(values(&args, "-drive").is_empty());
        assert!(!args.iter().any(|a| a.starts_with("virtio-blk")));
    }
}
