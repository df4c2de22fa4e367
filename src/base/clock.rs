//! Timestamps and dates on the wire and in the database.
//!
//! Instants are stored as microseconds since the Unix epoch (UTC). On the wire they are RFC 3339:
//! input may carry any offset but must carry one; output is UTC with `Z`.

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

/// Microseconds since the Unix epoch, UTC.
pub type Micros = i64;

pub fn system_now() -> Micros {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(elapsed) => i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX),
        // A clock set before 1970 is broken; the writer's monotonic step still orders writes.
        Err(_) => 0,
    }
}

fn to_datetime(micros: Micros) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2026-05-17T15:04:05.123456Z`: always six fractional digits, as server-set timestamps promise.
pub fn format_micros(micros: Micros) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    to_datetime(micros).format(format).unwrap_or_default()
}

/// A client-given instant in UTC: `2026-05-17T15:00:00Z`, with six fractional digits only when
/// the instant has a fractional second.
pub fn format_instant(micros: Micros) -> String {
    if micros.rem_euclid(1_000_000) == 0 {
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        to_datetime(micros).format(format).unwrap_or_default()
    } else {
        format_micros(micros)
    }
}

/// Parses an RFC 3339 timestamp that carries its offset. Fractions finer than a microsecond are
/// truncated, since instants are kept to the microsecond.
pub fn parse_instant(text: &str) -> Result<Micros, &'static str> {
    const MESSAGE: &str = "must be an RFC 3339 timestamp with an offset, e.g. 2026-05-17T10:00:00-05:00";
    let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| MESSAGE)?;
    let utc = parsed.to_offset(UtcOffset::UTC);
    if !(1..=9999).contains(&utc.year()) {
        return Err("must be between years 0001 and 9999 in UTC");
    }
    i64::try_from(utc.unix_timestamp_nanos() / 1_000).map_err(|_| MESSAGE)
}

/// Parses a `YYYY-MM-DD` calendar date and returns it in that canonical form.
pub fn parse_date(text: &str) -> Result<String, &'static str> {
    let format = format_description!("[year]-[month]-[day]");
    match Date::parse(text, format) {
        Ok(date) if text.len() == 10 => Ok(date.format(format).unwrap_or_default()),
        _ => Err("must be a calendar date in the form YYYY-MM-DD"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_with_any_offset_come_back_in_utc() {
        let micros = parse_instant("2026-05-17T10:00:00-05:00").unwrap_or_default();
        assert_eq!(format_instant(micros), "2026-05-17T15:00:00Z");
        let micros = parse_instant("2026-05-17T15:04:05.1234567+00:00").unwrap_or_default();
        assert_eq!(format_instant(micros), "2026-05-17T15:04:05.123456Z");
        assert_eq!(format_micros(micros), "2026-05-17T15:04:05.123456Z");
    }

    #[test]
    fn instants_without_offset_and_bad_dates_are_rejected() {
        assert!(parse_instant("2026-05-17T10:00:00").is_err());
        assert!(parse_instant("2026-05-17").is_err());
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("2026-2-03").is_err());
        assert_eq!(parse_date("2026-02-03"), Ok("2026-02-03".to_owned()));
    }
}
