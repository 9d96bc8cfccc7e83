//! Monotonic time from the TSC, calibrated once against PIT channel 2
//! (Intel 8254 datasheet, mode 0 "interrupt on terminal count"; the gate and
//! OUT2 are bits 0 and 5 of port 0x61, as on every PC since the AT).
//!
//! The kernel records the TSC at entry; `now_us()` is microseconds since then.
//! Calibration counts TSC ticks during 10 ms of PIT time (11932 PIT ticks at
//! 1.193182 MHz). Under QEMU TCG the TSC follows the host clock and the PIT the
//! virtual clock, so the figure is the guest-visible rate either way. Without a
//! PIT (loop guard trips) a 1 GHz rate is assumed and a warning is logged.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::x86_64::cpu::{inb, outb, rdtsc};

static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
/// TSC ticks per second; 0 until calibrated (then `now_us` reads 0).
static TSC_HZ: AtomicU64 = AtomicU64::new(0);

const PIT_HZ: u64 = 1_193_182;
const CALIBRATION_TICKS: u64 = 11_932;

/// Records the TSC value that timestamps count from. Call first thing.
pub fn mark_boot() {
    TSC_AT_BOOT.store(rdtsc(), Ordering::Relaxed);
}

/// TSC value at kernel entry.
pub fn boot_tsc() -> u64 {
    TSC_AT_BOOT.load(Ordering::Relaxed)
}

/// Calibrates the TSC against PIT channel 2; returns the rate in Hz.
pub fn calibrate() -> u64 {
    // SAFETY: ports 0x42/0x43/0x61 are the PIT and the system control port;
    // channel 2 only drives the (disabled) speaker, so nothing else is affected.
    let (ticks, ok) = unsafe {
        let ctrl = inb(0x61);
        outb(0x61, (ctrl & !0x02) | 0x01);
        // channel 2, lobyte/hibyte, mode 0, binary
        outb(0x43, 0b1011_0000);
        outb(0x42, (CALIBRATION_TICKS & 0xff) as u8);
        outb(0x42, (CALIBRATION_TICKS >> 8) as u8);
        let t0 = rdtsc();
        let mut guard = 0u32;
        let mut ok = true;
        while inb(0x61) & 0x20 == 0 {
            guard += 1;
            if guard > 50_000_000 {
                ok = false;
                break;
            }
        }
        let t1 = rdtsc();
        outb(0x61, ctrl);
        (t1.wrapping_sub(t0), ok)
    };
    let hz = if ok && ticks > 0 {
        ticks * PIT_HZ / CALIBRATION_TICKS
    } else {
        1_000_000_000
    };
    TSC_HZ.store(hz, Ordering::Relaxed);
    if !ok {
        log::warn!("time: PIT did not answer; assuming a 1 GHz TSC");
    }
    hz
}

/// TSC rate in Hz (0 before calibration).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Converts a TSC delta to nanoseconds.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    let hz = tsc_hz();
    if hz == 0 {
        return 0;
    }
    (u128::from(ticks) * 1_000_000_000 / u128::from(hz)) as u64
}

/// Microseconds since kernel entry.
pub fn now_us() -> u64 {
    ticks_to_ns(rdtsc().wrapping_sub(boot_tsc())) / 1000
}

/// Nanoseconds since kernel entry.
pub fn now_ns() -> u64 {
    ticks_to_ns(rdtsc().wrapping_sub(boot_tsc()))
}

/// A point in time after which a bounded wait gives up.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(u64);

impl Deadline {
    /// A deadline `us` microseconds from now.
    pub fn after_us(us: u64) -> Deadline {
        let hz = tsc_hz().max(1);
        Deadline(rdtsc().saturating_add((u128::from(us) * u128::from(hz) / 1_000_000) as u64))
    }

    /// True once the deadline has passed.
    pub fn expired(self) -> bool {
        rdtsc() >= self.0
    }
}
