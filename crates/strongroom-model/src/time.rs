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

    /// Reads an RFC 3339 date-time (`2026-12-03T09:37:34Z`, with optional fractional
    /// seconds, which are dropped, and `Z` or a `±HH:MM` offset), as Graph and ARM accept
    /// them; `None` for anything else, including impossible dates.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let (date, time) = text.split_once(['T', 't'])?;
        let [year, month, day] = fields::<3>(date, '-', &[4, 2, 2])?;
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        let (clock, offset_seconds) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
            (clock, 0)
        } else {
            let split = time.rfind(['+', '-'])?;
            let (clock, offset) = time.split_at(split);
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let [hours, minutes] = fields::<2>(&offset[1..], ':', &[2, 2])?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            (clock, sign * (hours * 3600 + minutes * 60))
        };
        let clock = match clock.split_once('.') {
            Some((whole, fraction))
                if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) =>
            {
                whole
            }
            Some(_) => return None,
            None => clock,
        };
        let [hour, minute, second] = fields::<3>(clock, ':', &[2, 2, 2])?;
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let local = days_from_civil(year, month, day) * Self::SECONDS_PER_DAY
            + hour * 3600
            + minute * 60
            + second;
        Some(Self(local - offset_seconds))
    }
}

/// `N` fields of exactly the given digit counts, separated by `separator`.
fn fields<const N: usize>(text: &str, separator: char, digits: &[usize; N]) -> Option<[i64; N]> {
    let mut out = [0_i64; N];
    let mut parts = text.split(separator);
    for (slot, &width) in out.iter_mut().zip(digits) {
        let part = parts.next()?;
        if part.len() != width || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// Days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) to days since 1970-01-01, proleptic Gregorian (H. Hinnant's
/// `days_from_civil`); the inverse of [`civil_from_days`].
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
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

    /// Moves the offset up to `offset_seconds` if it is behind (another node's clock moved
    /// further); never back.
    pub fn catch_up_to(&self, offset_seconds: i64) {
        self.offset_seconds
            .fetch_max(offset_seconds, Ordering::SeqCst);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_reads_what_it_writes_and_what_graph_sends() {
        for seconds in [0, 951_782_400, 1_796_292_954, -86_401] {
            let time = UnixTime(seconds);
            assert_eq!(UnixTime::parse_rfc3339(&time.rfc3339()), Some(time));
        }
        let parse = UnixTime::parse_rfc3339;
        assert_eq!(parse("2000-02-29T00:00:00Z"), Some(UnixTime(951_782_400)));
        assert_eq!(
            parse("2000-02-29T01:30:00.1234567+01:30"),
            Some(UnixTime(951_782_400))
        );
        assert_eq!(
            parse("2000-02-28T23:00:00-01:00"),
            Some(UnixTime(951_782_400))
        );
        for refused in [
            "",
            "2000-02-29",
            "2001-02-29T00:00:00Z",
            "2000-13-01T00:00:00Z",
            "2000-01-01T24:00:00Z",
            "2000-01-01T00:00:00",
            "2000-01-01T00:00Z",
            "2000-01-01T00:00:00.Z",
            "2000-01-01T00:00:00+0100",
            "+2000-01-01T00:00:00Z",
        ] {
            assert_eq!(parse(refused), None, "{refused:?}");
        }
    }
}
