//! CMOS real-time clock (MC146818 as emulated by QEMU and PC chipsets):
//! registers 0x00 s, 0x02 min, 0x04 h, 0x07 day, 0x08 month, 0x09 year,
//! 0x32 century (ACPI FADT default); status A bit 7 = update in progress,
//! status B bit 2 = binary (else BCD), bit 1 = 24-hour (else 12-hour, PM in
//! bit 7 of the hour). Used for FAT timestamps.

use crate::arch::x86_64::cpu::{inb, outb};

/// A wall-clock time as the RTC reports it (no time zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl core::fmt::Display for DateTime {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

fn read_reg(reg: u8) -> u8 {
    // SAFETY: CMOS index/data ports; bit 7 of the index keeps NMI masked.
    // Reading clock registers has no side effects.
    unsafe {
        outb(0x70, 0x80 | reg);
        inb(0x71)
    }
}

fn update_in_progress() -> bool {
    read_reg(0x0a) & 0x80 != 0
}

fn raw() -> [u8; 7] {
    [
        read_reg(0x00),
        read_reg(0x02),
        read_reg(0x04),
        read_reg(0x07),
        read_reg(0x08),
        read_reg(0x09),
        read_reg(0x32),
    ]
}

fn bcd(v: u8) -> u8 {
    (v & 0x0f) + (v >> 4) * 10
}

/// Reads the RTC: waits out an update in progress, reads until two
/// consecutive reads agree (bounded), then decodes BCD/12-hour formats.
/// `None` if the values are out of range (no RTC, or garbage).
pub fn now() -> Option<DateTime> {
    let mut prev = [0xff; 7];
    for _ in 0..16 {
        let mut spins = 0;
        while update_in_progress() && spins < 100_000 {
            spins += 1;
        }
        let cur = raw();
        if cur == prev {
            break;
        }
        prev = cur;
    }
    let status_b = read_reg(0x0b);
    let [s, m, h, d, mo, y, c] = prev;
    let binary = status_b & 0x04 != 0;
    let conv = |v: u8| if binary { v } else { bcd(v) };
    let pm = h & 0x80 != 0;
    let mut hour = conv(h & 0x7f);
    if status_b & 0x02 == 0 {
        // 12-hour clock: 12 AM is 0, 12 PM is 12.
        hour %= 12;
        if pm {
            hour += 12;
        }
    }
    let century = match conv(c) {
        19..=30 => u16::from(conv(c)),
        _ => 20,
    };
    let dt = DateTime {
        year: century * 100 + u16::from(conv(y)),
        month: conv(mo),
        day: conv(d),
        hour,
        minute: conv(m),
        second: conv(s),
    };
    let valid = (1..=12).contains(&dt.month)
        && (1..=31).contains(&dt.day)
        && dt.hour < 24
        && dt.minute < 60
        && dt.second < 61;
    valid.then_some(dt)
}
