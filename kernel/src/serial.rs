//! Serial console on COM1 (16550 UART via `uart_16550`) and the `log` backend.
//!
//! Line formats (the xtask runner greps them):
//! - log records: `[    0.012345] INFO  message` — seconds since kernel entry
//!   from the TSC (see `time.rs`), level left-aligned in 5 columns;
//! - raw lines (`kernel: booting`, `kernel: verdict …`, fault blocks, shell
//!   output) carry no prefix.
//!
//! Lines end in `\n` only.

use core::fmt::{self, Write};

use spin::Mutex;
use uart_16550::backend::PioBackend;
use uart_16550::{Config, Uart16550};

const COM1: u16 = 0x3f8;

static PORT: Mutex<Option<Uart16550<PioBackend>>> = Mutex::new(None);

/// Input that was already arriving before `init`: piped input reaches the
/// receiver as soon as QEMU starts, and the crate's `init` discards whatever
/// is waiting. If a byte is waiting at boot, input is read until the line has
/// been idle for 100 M TSC ticks (~40 ms; QEMU feeds one byte per main-loop turn), up to [`EARLY_RX_MAX`] bytes.
static EARLY_RX: Mutex<EarlyRx> = Mutex::new(EarlyRx {
    buf: [0; EARLY_RX_MAX],
    len: 0,
    pos: 0,
});
const EARLY_RX_MAX: usize = 4096;

struct EarlyRx {
    buf: [u8; EARLY_RX_MAX],
    len: usize,
    pos: usize,
}

fn stash_early_input() {
    use crate::arch::x86_64::cpu::{inb, rdtsc};
    let mut rx = EARLY_RX.lock();
    let mut last = rdtsc();
    while rx.len < EARLY_RX_MAX && rdtsc().wrapping_sub(last) < 100_000_000 {
        // SAFETY: reading COM1's line status and receive buffer only consumes
        // input, which is kept here.
        unsafe {
            if inb(COM1 + 5) & 1 != 0 {
                let i = rx.len;
                rx.buf[i] = inb(COM1);
                rx.len += 1;
                last = rdtsc();
            } else if rx.len == 0 {
                return;
            }
        }
    }
}

/// Initialises COM1 (115200 8N1, FIFO on). Falls back to silently dropping
/// output if no UART answers, so a headless machine still boots.
pub fn init() {
    stash_early_input();
    // SAFETY: COM1's eight registers at 0x3f8 belong to this driver alone.
    let Ok(mut uart) = (unsafe { Uart16550::new_port(COM1) }) else {
        return;
    };
    let config = Config {
        baud_rate: uart_16550::BaudRate::Baud115200,
        ..Config::DEFAULT
    };
    if uart.init(config).is_ok() {
        *PORT.lock() = Some(uart);
    }
}

struct Sink<'a>(&'a mut Uart16550<PioBackend>);

impl Write for Sink<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.send_bytes_exact(s.as_bytes());
        Ok(())
    }
}

/// Writes formatted text under one lock acquisition (lines never interleave).
pub fn write_fmt(args: fmt::Arguments<'_>) {
    if let Some(uart) = PORT.lock().as_mut() {
        let _ = Sink(uart).write_fmt(args);
    }
}

/// Writes raw bytes (shell echo).
pub fn write_bytes(bytes: &[u8]) {
    if let Some(uart) = PORT.lock().as_mut() {
        uart.send_bytes_exact(bytes);
    }
}

/// Reads one byte if one is waiting.
pub fn try_read_byte() -> Option<u8> {
    {
        let mut rx = EARLY_RX.lock();
        if rx.pos < rx.len {
            let b = rx.buf[rx.pos];
            rx.pos += 1;
            return Some(b);
        }
    }
    PORT.lock().as_mut().and_then(|u| u.try_receive_byte().ok())
}

/// Releases the console lock held by interrupted code, so the fault path can
/// print.
///
/// # Safety
/// Only for the fault/panic path: the interrupted holder never runs again
/// (single CPU, interrupts off, we exit afterwards).
pub unsafe fn force_unlock() {
    if PORT.is_locked() {
        // SAFETY: per the contract above, the holder is dead.
        unsafe { PORT.force_unlock() }
    }
}

/// Prints a raw line (no timestamp), e.g. `kernel: booting`.
#[macro_export]
macro_rules! rawln {
    () => { $crate::serial::write_fmt(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::serial::write_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Prints raw text (no newline).
#[macro_export]
macro_rules! rawprint {
    ($($arg:tt)*) => { $crate::serial::write_fmt(format_args!($($arg)*)) };
}

struct Logger;

static LOGGER: Logger = Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let us = crate::time::now_us();
        write_fmt(format_args!(
            "[{:5}.{:06}] {:<5} {}\n",
            us / 1_000_000,
            us % 1_000_000,
            record.level().as_str(),
            record.args()
        ));
    }

    fn flush(&self) {}
}

/// Installs the serial logger as the `log` backend.
pub fn init_logger(level: log::LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
