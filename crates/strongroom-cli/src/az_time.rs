//! Dates the way `az keyvault` reads and prints them.
//!
//! Input (`--expires`, `--not-before`): az's `datetime_type`, UTC only, one of
//! `2000-12-31T12:59:59Z`, `2000-12-31T12:59Z`, `2000-12-31T12Z` or `2000-12-31`; the wire
//! wants Unix seconds. Output: the SDK turns Unix seconds into a UTC `datetime` and az prints
//! its `isoformat()`, `2000-12-31T12:59:59+00:00`.

use strongroom_model::{days_from_civil, days_in_month};

const SECONDS_PER_DAY: i64 = 86_400;

/// Parses a `--expires` / `--not-before` value into Unix seconds (clap value parser).
pub(crate) fn parse(raw: &str) -> Result<i64, String> {
    parse_inner(raw)
        .ok_or_else(|| format!("Input '{raw}' not valid. Valid example: 2000-12-31T12:59:59Z"))
}

fn parse_inner(raw: &str) -> Option<i64> {
    let (date, time) = match raw.split_once('T') {
        Some((date, time)) => (date, Some(time.strip_suffix('Z')?)),
        None => (raw, None),
    };
    let mut date_parts = date.split('-');
    let year = number(date_parts.next()?, 4)?;
    let month = number(date_parts.next()?, 2)?;
    let day = number(date_parts.next()?, 2)?;
    if date_parts.next().is_some() || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut clock = [0_i64; 3];
    if let Some(time) = time {
        let parts: Vec<&str> = time.split(':').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        for (slot, part) in clock.iter_mut().zip(&parts) {
            *slot = number(part, 2)?;
        }
    }
    let [hour, minute, second] = clock;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second)
}

/// 1 to `max_digits` ASCII digits (strptime accepts fewer digits than the field width).
fn number(raw: &str, max_digits: usize) -> Option<i64> {
    if raw.is_empty() || raw.len() > max_digits || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// Unix seconds as Python's `datetime.isoformat()` of a UTC time: `2017-05-04T23:20:51+00:00`.
pub(crate) fn iso(seconds: i64) -> String {
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = strongroom_model::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    #[test]
    fn parses_what_az_accepts() {
        let parsed = [
            "2000-12-31T12:59:59Z",
            "2000-12-31T12:59Z",
            "2000-12-31T12Z",
            "2000-12-31",
            "2024-02-29",
            "1970-01-01T00:00:00Z",
            "2023-02-29",
            "2000-12-31T12:59:59",
            "2000-12-31T12:59:59+01:00",
            "2000-13-01",
            "2000-12-31T24Z",
            "31/12/2000",
        ]
        .map(|raw| format!("{raw} -> {:?}", parse(raw)))
        .join("\n");
        expect![[r#"
            2000-12-31T12:59:59Z -> Ok(978267599)
            2000-12-31T12:59Z -> Ok(978267540)
            2000-12-31T12Z -> Ok(978264000)
            2000-12-31 -> Ok(978220800)
            2024-02-29 -> Ok(1709164800)
            1970-01-01T00:00:00Z -> Ok(0)
            2023-02-29 -> Err("Input '2023-02-29' not valid. Valid example: 2000-12-31T12:59:59Z")
            2000-12-31T12:59:59 -> Err("Input '2000-12-31T12:59:59' not valid. Valid example: 2000-12-31T12:59:59Z")
            2000-12-31T12:59:59+01:00 -> Err("Input '2000-12-31T12:59:59+01:00' not valid. Valid example: 2000-12-31T12:59:59Z")
            2000-13-01 -> Err("Input '2000-13-01' not valid. Valid example: 2000-12-31T12:59:59Z")
            2000-12-31T24Z -> Err("Input '2000-12-31T24Z' not valid. Valid example: 2000-12-31T12:59:59Z")
            31/12/2000 -> Err("Input '31/12/2000' not valid. Valid example: 2000-12-31T12:59:59Z")"#]]
        .assert_eq(&parsed);
    }

    #[test]
    fn prints_isoformat_and_round_trips() {
        expect![[r#"2017-05-04T23:20:51+00:00 1969-12-31T23:59:59+00:00"#]].assert_eq(&format!(
            "{} {}",
            iso(1_493_940_051),
            iso(-1)
        ));
        for seconds in [0, 951_782_400, 1_709_164_800, 4_102_444_799] {
            assert_eq!(parse(&iso(seconds).replace("+00:00", "Z")), Ok(seconds));
        }
    }
}
