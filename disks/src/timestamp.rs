//! Timestamps for FAT entries: a calendar time with FAT's range and
//! resolution, and where a mounted volume takes its times from (a fixed time
//! for deterministic images, or a clock such as the kernel's RTC).

use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;

/// A calendar time as FAT stores it (1980..=2107, 2-second resolution on disk).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// 1980..=2107.
    pub year: u16,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59.
    pub second: u8,
}

impl Timestamp {
    /// A timestamp; out-of-range fields are clamped when it is stored.
    pub const fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Self {
        Timestamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
        }
    }

    /// Whether every field is in FAT's range and the day exists in that month.
    pub fn is_valid(&self) -> bool {
        let y = self.year;
        let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        (1980..=2107).contains(&self.year)
            && (1..=days).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }

    /// Parses `YYYY-MM-DD` and `HH:MM:SS`; `None` unless valid.
    pub fn parse(date: &str, time: &str) -> Option<Timestamp> {
        let d: Vec<&str> = date.split('-').collect();
        let t: Vec<&str> = time.split(':').collect();
        if d.len() != 3 || t.len() != 3 {
            return None;
        }
        let ts = Timestamp::new(
            d[0].parse().ok()?,
            d[1].parse().ok()?,
            d[2].parse().ok()?,
            t[0].parse().ok()?,
            t[1].parse().ok()?,
            t[2].parse().ok()?,
        );
        ts.is_valid().then_some(ts)
    }

    fn clamped(&self) -> Timestamp {
        if self.is_valid() {
            return *self;
        }
        Timestamp::new(
            self.year.clamp(1980, 2107),
            self.month.clamp(1, 12),
            self.day.clamp(1, 28),
            self.hour.min(23),
            self.minute.min(59),
            self.second.min(59),
        )
    }

    pub(crate) fn to_fat(self) -> lamfat::DateTime {
        let t = self.clamped();
        lamfat::DateTime::new(
            lamfat::Date::new(t.year, t.month.into(), t.day.into()),
            lamfat::Time::new(t.hour.into(), t.minute.into(), t.second.into(), 0),
        )
    }

    pub(crate) fn from_fat(dt: lamfat::DateTime) -> Timestamp {
        Timestamp::new(
            dt.date.year,
            dt.date.month as u8,
            dt.date.day as u8,
            dt.time.hour as u8,
            dt.time.min as u8,
            dt.time.sec as u8,
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Where file timestamps come from: a fixed time (deterministic images) or a
/// clock the kernel supplies (its RTC).
#[derive(Clone, Copy, Debug)]
pub enum TimeSource {
    /// Always this time.
    Fixed(Timestamp),
    /// Ask this function on every create/modify.
    Clock(fn() -> Timestamp),
}

impl lamfat::TimeProvider for TimeSource {
    fn get_current_date(&self) -> lamfat::Date {
        self.get_current_date_time().date
    }

    fn get_current_date_time(&self) -> lamfat::DateTime {
        match self {
            TimeSource::Fixed(t) => t.to_fat(),
            TimeSource::Clock(f) => f().to_fat(),
        }
    }
}

/// lamfat's time provider on a mounted volume: a [`TimeSource`] and its last
/// reading, converted. lamfat asks for the time on every `File::write`, one
/// cluster each (16,384 times for a 64 MiB file in 4 KiB clusters), and the
/// kernel's clock hands back the same reading for up to 100 ms: the
/// conversion (clamping, lamfat's range checks) is done once per distinct
/// reading, not per cluster.
#[derive(Debug)]
pub struct FatClock {
    source: TimeSource,
    last: Cell<Option<(Timestamp, lamfat::DateTime)>>,
}

impl FatClock {
    /// Times from `source`.
    pub fn new(source: TimeSource) -> Self {
        FatClock {
            source,
            last: Cell::new(None),
        }
    }
}

impl lamfat::TimeProvider for FatClock {
    fn get_current_date(&self) -> lamfat::Date {
        self.get_current_date_time().date
    }

    fn get_current_date_time(&self) -> lamfat::DateTime {
        let now = match self.source {
            TimeSource::Fixed(t) => t,
            TimeSource::Clock(f) => f(),
        };
        match self.last.get() {
            Some((t, dt)) if t == now => dt,
            _ => {
                let dt = now.to_fat();
                self.last.set(Some((now, dt)));
                dt
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicU8, Ordering};
    use lamfat::TimeProvider as _;

    static SECOND: AtomicU8 = AtomicU8::new(10);

    fn ticking() -> Timestamp {
        Timestamp::new(2026, 12, 7, 5, 0, SECOND.load(Ordering::Relaxed))
    }

    /// The converted reading is reused only while the clock says the same:
    /// a new reading is converted, an old one seen again is too.
    #[test]
    fn fat_clock_follows_its_source() {
        let clock = FatClock::new(TimeSource::Clock(ticking));
        let a = clock.get_current_date_time();
        assert_eq!(a, ticking().to_fat());
        assert_eq!(clock.get_current_date_time(), a);
        SECOND.store(20, Ordering::Relaxed);
        let b = clock.get_current_date_time();
        assert_eq!(b, ticking().to_fat());
        assert_ne!(a, b);
        assert_eq!(clock.get_current_date().day, 7);
        SECOND.store(10, Ordering::Relaxed);
        assert_eq!(clock.get_current_date_time(), a);
        let fixed = FatClock::new(TimeSource::Fixed(Timestamp::new(1970, 1, 1, 0, 0, 0)));
        assert_eq!(fixed.get_current_date_time().date.year, 1980, "clamped");
    }
}
