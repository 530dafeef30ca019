//! Time, injected: production reads `SystemClock`, tests move a `ManualClock`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds since the Unix epoch, the unit of every Key Vault timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    pub const SECONDS_PER_DAY: i64 = 86_400;

    pub fn seconds(self) -> i64 {
        self.0
    }

    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    pub fn plus_days(self, days: i64) -> Self {
        self.plus_seconds(days.saturating_mul(Self::SECONDS_PER_DAY))
    }

    /// The UTC calendar date and time: (year, month, day, hour, minute, second).
    pub fn civil(self) -> (i64, i64, i64, i64, i64, i64) {
        let days = self.0.div_euclid(Self::SECONDS_PER_DAY);
        let second_of_day = self.0.rem_euclid(Self::SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        (
            year,
            month,
            day,
            second_of_day / 3600,
            second_of_day % 3600 / 60,
            second_of_day % 60,
        )
    }

    /// RFC 3339 in UTC, as ARM writes times: `2026-12-03T09:37:34Z`.
    pub fn rfc3339(self) -> String {
        let (year, month, day, hour, minute, second) = self.civil();
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The one source of "now" for domain code.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UnixTime;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        #[allow(
            clippy::disallowed_methods,
            reason = "SystemClock is the one sanctioned reader of the system time"
        )]
        let now = std::time::SystemTime::now();
        let seconds = now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        UnixTime(seconds)
    }
}

/// A clock for tests and `--dev-clock`: the system time plus an offset that only grows.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    offset_seconds: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn advance_seconds(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn advance_days(&self, days: i64) {
        self.advance_seconds(days.saturating_mul(UnixTime::SECONDS_PER_DAY));
    }

    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::SeqCst)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        SystemClock.now().plus_seconds(self.offset_seconds())
    }
}

#[cfg(test)]
mod rfc3339_tests {
    use super::UnixTime;

    #[test]
    fn formats_utc_calendar_times() {
        assert_eq!(UnixTime(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(UnixTime(951_782_400).rfc3339(), "2000-02-29T00:00:00Z");
        assert_eq!(UnixTime(1_796_290_654).rfc3339(), "2026-12-03T09:37:34Z");
        assert_eq!(UnixTime(-1).rfc3339(), "1969-12-31T23:59:59Z");
    }
}
