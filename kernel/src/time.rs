//! Monotonic time from the TSC, calibrated once against PIT channel 2
//! (Intel 8254 datasheet, mode 0 "interrupt on terminal count"; the gate and
//! OUT2 are bits 0 and 5 of port 0x61, as on every PC since the AT).
//!
//! The kernel records the TSC at entry; `now_us()` is microseconds since then.
//! Calibration compares TSC and PIT channel-2 counts read in tight pairs over
//! at least 5 ms of PIT time (5966 ticks at 1.193182 MHz); see [`calibrate`].
//! Under QEMU TCG the TSC follows the host TSC and the PIT the virtual clock,
//! so the figure is the guest-visible rate. Without a PIT (loop guard trips)
//! a 1 GHz rate is assumed and a warning is logged.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::x86_64::cpu::{inb, outb, rdtsc};

static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
/// TSC ticks per second; 0 until calibrated (then `now_us` reads 0).
static TSC_HZ: AtomicU64 = AtomicU64::new(0);

const PIT_HZ: u64 = 1_193_182;
const CALIBRATION_TICKS: u64 = 5_966;

/// Records the TSC value that timestamps count from. Call first thing.
pub fn mark_boot() {
    TSC_AT_BOOT.store(rdtsc(), Ordering::Relaxed);
}

/// TSC value at kernel entry.
pub fn boot_tsc() -> u64 {
    TSC_AT_BOOT.load(Ordering::Relaxed)
}

/// Calibrates the TSC against PIT channel 2; returns the rate in Hz.
///
/// Channel 2 counts down from 0xffff in mode 0; the kernel reads (TSC, PIT
/// count) pairs with the counter-latch command, each pair bracketed by two
/// TSC reads and retried unless both lie within ~50 µs of TSC time. The
/// rate is the TSC delta over the PIT delta between the first pair and the
/// first one at least 5 ms of PIT time later. Pairing matters on a loaded
/// host: if the vCPU is descheduled for milliseconds (common with many QEMUs
/// on two cores), "wait for OUT2, then read the TSC" overshoots by that much,
/// while a pair is only off if the preemption lands inside the pair, and
/// such pairs are rejected.
pub fn calibrate() -> u64 {
    let hz = measure().unwrap_or(0);
    let hz = if hz == 0 { 1_000_000_000 } else { hz };
    TSC_HZ.store(hz, Ordering::Relaxed);
    if hz == 1_000_000_000 {
        log::warn!("time: PIT calibration failed; assuming a 1 GHz TSC");
    }
    hz
}

fn measure() -> Option<u64> {
    // SAFETY: ports 0x42/0x43/0x61 are the PIT and the system control port;
    // channel 2 only drives the (disabled) speaker, so nothing else is affected.
    unsafe {
        let ctrl = inb(0x61);
        outb(0x61, (ctrl & !0x02) | 0x01);
        // channel 2, lobyte/hibyte, mode 0, binary, count 0xffff (~55 ms)
        outb(0x43, 0b1011_0000);
        outb(0x42, 0xff);
        outb(0x42, 0xff);
        let result = (|| {
            let (t0, c0) = pit_pair()?;
            for _ in 0..1_000_000 {
                let (t1, c1) = pit_pair()?;
                let elapsed = u64::from(c0.wrapping_sub(c1));
                if c1 > c0 {
                    return None;
                }
                if elapsed >= CALIBRATION_TICKS {
                    return Some(t1.wrapping_sub(t0) * PIT_HZ / elapsed);
                }
            }
            None
        })();
        outb(0x61, ctrl);
        result
    }
}

/// One (TSC midpoint, channel-2 count) pair read close together.
///
/// # Safety
/// Channel 2 must be counting (see `measure`).
unsafe fn pit_pair() -> Option<(u64, u16)> {
    for _ in 0..100 {
        let a = rdtsc();
        // SAFETY: latch channel 2's count, then read it low byte first.
        let (lo, hi) = unsafe {
            outb(0x43, 0b1000_0000);
            (inb(0x42), inb(0x42))
        };
        let b = rdtsc();
        if b.wrapping_sub(a) < 100_000 {
            return Some((a / 2 + b / 2, u16::from(hi) << 8 | u16::from(lo)));
        }
    }
    None
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
