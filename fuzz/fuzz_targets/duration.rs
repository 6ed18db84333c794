//! Durations (`1d12h`) and expiries (a duration or an RFC 3339 time) from policy.json
//! and the command line: never panic; a parsed duration is positive and its written form
//! parses back to the same duration.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use tuf_cli::duration::{format_duration, parse_duration, parse_expiry};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = parse_duration(text) {
        assert!(d > chrono::TimeDelta::zero());
        let written = format_duration(d);
        assert_eq!(
            parse_duration(&written).expect("parses back"),
            d,
            "{written}"
        );
    }
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
    if let Ok(t) = parse_expiry(text, now) {
        assert!(t > now);
    }
});
