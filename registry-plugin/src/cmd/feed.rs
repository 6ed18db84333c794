//! `cargo tuf feed`: a crate's signed release feed, or the registry's recent updates,
//! fetched through the verified path and printed (docs/feeds.md).
//!
//! The feed is a TUF target like an index file: the trusted root, a fresh timestamp, the
//! snapshot, and the one bin its path hashes to are verified (TUF §5.3–§5.6, the proxy's
//! code), then its hash-named copy is downloaded under its signed length and checked
//! against its signed SHA-256 before a byte of it is parsed. A tampered copy, an expired
//! timestamp (a frozen feed) or metadata older than what this machine trusts (a rollback)
//! is refused with the verifier's message and a non-zero exit.
//!
//! Exit codes: 0 when the feed verified (also when `--since` leaves nothing to print:
//! for cron, nothing printed means nothing new); 1 on any refusal or error.

use anyhow::Context;
use chrono::{DateTime, Utc};
use tuf_core::feed::{self, FeedItem, UPDATES_PATH, UPDATES_RULE};
use tuf_core::index::CrateName;
use tuf_core::metadata::TargetPath;
use tuf_fs::outln;

use super::{ProxyArgs, VerifyArgs};
use crate::fetch::Fetched;
use crate::verifier::Verifier as _;

/// Show a crate's signed release feed, or the registry's recent updates.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The crate whose feed to show.
    #[arg(
        value_name = "CRATE",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub krate: Option<String>,
    /// The registry-wide feed of recent updates instead of one crate's.
    #[arg(long)]
    pub all: bool,
    /// Print the items as JSON (one array, newest first).
    #[arg(long)]
    pub json: bool,
    /// Only items after this: an RFC 3339 time, or a duration back from now (`90s`,
    /// `30m`, `1h`, `2d`). Items without a known time are left out.
    #[arg(long, value_name = "TIME|DURATION")]
    pub since: Option<String>,
    /// Base URL of the hash-named target copies. Default: the pinned metadata URL with
    /// its last `metadata/` replaced by `targets/` (the layout `tuf publish` writes).
    #[arg(long, value_name = "URL")]
    pub targets_url: Option<String>,
    /// Registry and verification options.
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// Run `cargo tuf feed`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, Utc::now()))
        .transpose()?;
    let path = match (&args.krate, args.all) {
        (_, true) => UPDATES_PATH.to_owned(),
        (Some(name), false) => feed::crate_feed_path(
            &CrateName::parse(name).with_context(|| format!("`{name}` is not a crate name"))?,
        ),
        (None, false) => anyhow::bail!("give a crate name or --all"),
    };
    let opened = args.verify.open(&ProxyArgs::default())?;
    let refused =
        |e: crate::verifier::VerifyError| anyhow::anyhow!("{e} ({}); {}", e.code(), e.advice());
    opened.verifier.refresh_if_stale().map_err(refused)?;
    let entry = opened
        .verifier
        .lookup(&path)
        .map_err(refused)?
        .with_context(|| {
            format!(
                "the registry signs no {path}: no such crate, or the registry publishes no feeds \
             (an authenticated absence)"
            )
        })?;
    let base = match &args.targets_url {
        Some(url) => with_slash(url),
        None => targets_url(&opened.pinned.metadata_url)?,
    };
    let target = TargetPath::parse(&path).context("feed path")?;
    let url = format!(
        "{base}{}",
        tuf_core::repo::target_copy_name(&target, &entry.sha256())
    );
    let bytes = match opened
        .fetcher
        .get(&url, entry.length())
        .with_context(|| format!("while fetching {url}"))?
    {
        Fetched::Found(bytes) => bytes,
        Fetched::NotFound => anyhow::bail!("{url}: not found (404), though {path} is signed"),
    };
    // Nothing of the body is read before its signed length and hash check out.
    entry.check(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{path} from {url} does not match its signed length and hash ({}): {e}; the \
             registry or a mirror served a tampered feed; do not trust it, report it to the \
             registry operators",
            e.code()
        )
    })?;
    let max_items = if args.all {
        UPDATES_RULE.max_items
    } else {
        feed::CRATE_RULE.max_items
    };
    let items: Vec<FeedItem> = feed::parse(&bytes, max_items)
        .with_context(|| format!("{path} verified but does not read as a feed"))?
        .into_iter()
        .filter(|item| since.map_or(true, |t| item.time.is_some_and(|time| time > t)))
        .collect();
    if args.json {
        let json: Vec<serde_json::Value> = items
            .iter()
            .map(|i| {
                serde_json::json!({
                    "time": i.time.map(|t| t.to_rfc3339()),
                    "kind": i.kind.as_str(),
                    "crate": i.krate,
                    "version": i.version,
                    "cksum": i.cksum,
                })
            })
            .collect();
        if since.is_none() || !json.is_empty() {
            outln!("{}", serde_json::Value::Array(json))?;
        }
        return Ok(());
    }
    for item in &items {
        let time = item.time.map_or_else(
            || "unknown time        ".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        );
        outln!(
            "{time}  {:<7}  {} {}  sha256:{}",
            item.kind.as_str(),
            item.krate,
            item.version,
            item.cksum
        )?;
    }
    Ok(())
}

/// `--since`: an RFC 3339 time, or `N` followed by `s`, `m`, `h` or `d` back from `now`.
fn parse_since(text: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let bad = || {
        anyhow::anyhow!(
            "--since {text:?}: expected an RFC 3339 time or a duration like 30m, 1h, 2d"
        )
    };
    let unit_at = text.len().checked_sub(1).ok_or_else(bad)?;
    let (number, unit) = (
        text.get(..unit_at).ok_or_else(bad)?,
        text.get(unit_at..).ok_or_else(bad)?,
    );
    let number: i64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => Some(number),
        "m" => number.checked_mul(60),
        "h" => number.checked_mul(3600),
        "d" => number.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(bad)?;
    chrono::TimeDelta::try_seconds(seconds)
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(bad)
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}

/// The targets URL beside a metadata URL ending in `metadata/`.
fn targets_url(metadata_url: &str) -> anyhow::Result<String> {
    let base = with_slash(metadata_url);
    match base.strip_suffix("metadata/") {
        Some(parent) => Ok(format!("{parent}targets/")),
        None => anyhow::bail!(
            "the pinned metadata URL {metadata_url} does not end in metadata/; give the \
             targets URL with --targets-url"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_time_or_a_duration() {
        let now = DateTime::parse_from_rfc3339("2026-01-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("1h", now).unwrap(),
            now - chrono::TimeDelta::hours(1)
        );
        assert_eq!(
            parse_since("2d", now).unwrap(),
            now - chrono::TimeDelta::days(2)
        );
        assert_eq!(
            parse_since("2026-01-01T23:00:00Z", now).unwrap(),
            now - chrono::TimeDelta::hours(1)
        );
        for bad in ["", "h", "1y", "-", "99999999999999999d"] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
        assert_eq!(
            targets_url("https://r/tuf/metadata/").unwrap(),
            "https://r/tuf/targets/"
        );
        assert!(targets_url("https://r/meta/").is_err());
    }
}
