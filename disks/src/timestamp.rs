//! Timestamps for FAT entries: a calendar time with FAT's range and
//! resolution, and where a mounted volume takes its times from (a fixed time
//! for deterministic images, or a clock such as the kernel's RTC).

use alloc::vec::Vec;
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
