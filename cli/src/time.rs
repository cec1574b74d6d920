//! Times as people read them: RFC 3339 in UTC, and short durations.

/// Unix seconds as an RFC 3339 UTC time (Howard Hinnant's civil-from-days).
pub fn utc(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or(i64::MAX / 2);
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A duration in the largest units that keep it exact to the second:
/// "40 s", "2 min", "2 min 5 s", "1 h 30 min".
pub fn duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let parts: Vec<String> = [(h, "h"), (m, "min"), (s, "s")]
        .into_iter()
        .filter(|&(n, _)| n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    if parts.is_empty() {
        "0 s".to_owned()
    } else {
        parts.join(" ")
    }
}

/// "locked for 40 s, until 2026-11-23T22:10:05Z".
pub fn locked(until: u64, now: u64) -> String {
    format!(
        "locked for {}, until {}",
        duration(until.saturating_sub(now)),
        utc(until)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(super::utc(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn durations() {
        assert_eq!(super::duration(40), "40 s");
        assert_eq!(super::duration(120), "2 min");
        assert_eq!(super::duration(125), "2 min 5 s");
        assert_eq!(super::duration(5_400), "1 h 30 min");
        assert_eq!(super::duration(0), "0 s");
        assert_eq!(
            super::locked(1_700_000_040, 1_700_000_000),
            "locked for 40 s, until 2023-11-14T22:14:00Z"
        );
    }
}
