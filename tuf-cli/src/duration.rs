//! Durations (`7d`, `12h`, `1d12h`, `30m`, `2w`) and expiry times (a duration from now,
//! or an RFC 3339 time).

use anyhow::{bail, Context as _};
use chrono::{DateTime, TimeDelta, Utc};

/// Parse a duration: one or more `<number><unit>` groups, unit one of `w d h m s`.
pub fn parse_duration(text: &str) -> anyhow::Result<TimeDelta> {
    let hint = || format!("{text:?} is not a duration: write e.g. 7d, 12h, 1d12h, 30m or 2w");
    let mut total = TimeDelta::zero();
    let mut digits = String::new();
    for ch in text.trim().chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let n: i64 = digits.parse().with_context(hint)?;
        digits.clear();
        let part = match ch {
            'w' => TimeDelta::try_weeks(n),
            'd' => TimeDelta::try_days(n),
            'h' => TimeDelta::try_hours(n),
            'm' => TimeDelta::try_minutes(n),
            's' => TimeDelta::try_seconds(n),
            _ => None,
        };
        total = part
            .and_then(|p| total.checked_add(&p))
            .with_context(hint)?;
    }
    if !digits.is_empty() || total <= TimeDelta::zero() {
        bail!(hint());
    }
    Ok(total)
}

/// Parse an expiry: a duration from `now`, or an RFC 3339 time, which must be after `now`.
pub fn parse_expiry(text: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        let time = time.with_timezone(&Utc);
        if time <= now {
            bail!("expiry {text} is in the past; give a future time or a duration like 365d");
        }
        return Ok(time);
    }
    let delta = parse_duration(text).with_context(|| {
        format!("{text:?} is neither a duration (365d, 12h) nor an RFC 3339 time (2030-01-01T00:00:00Z)")
    })?;
    now.checked_add_signed(delta)
        .with_context(|| format!("expiry {text} from now is out of range"))
}

/// A duration written back in the largest exact unit (`7d`, `36h`).
pub fn format_duration(delta: TimeDelta) -> String {
    let secs = delta.num_seconds();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d").unwrap(), TimeDelta::days(7));
        assert_eq!(parse_duration("12h").unwrap(), TimeDelta::hours(12));
        assert_eq!(parse_duration("1d12h").unwrap(), TimeDelta::hours(36));
        assert_eq!(parse_duration("2w").unwrap(), TimeDelta::days(14));
        for bad in ["", "7", "d", "7x", "0d", "-1d", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(TimeDelta::hours(36)), "36h");
        assert_eq!(format_duration(TimeDelta::days(7)), "7d");
    }

    #[test]
    fn expiries() {
        let now = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_expiry("1d", now).unwrap().to_rfc3339(),
            "2025-01-02T00:00:00+00:00"
        );
        assert_eq!(
            parse_expiry("2030-01-01T00:00:00Z", now)
                .unwrap()
                .to_rfc3339(),
            "2030-01-01T00:00:00+00:00"
        );
        assert!(parse_expiry("2020-01-01T00:00:00Z", now).is_err());
        assert!(parse_expiry("soon", now).is_err());
    }
}
