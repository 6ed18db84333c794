//! What `tuf publish` and `tuf refresh` print when they succeed: a line for people on
//! stderr (not with `-q`), more with `-v`, or with `--json` one object on stdout for
//! monitoring. The JSON schema is documented in `docs/operator.md`; its naming follows
//! `tuf status --json` (`roles[].role`, `roles[].expires`, `exit_code`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use tuf_repo::publish::{PublishKind, PublishReport};

use crate::exit::Code;
use crate::ui::Ui;

/// `"nothing to do"`: what a refresh that re-signed nothing reports, in words and JSON.
pub const NOTHING_TO_DO: &str = "nothing to do";

/// The `--json` output of `tuf publish` and `tuf refresh`.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    /// `publish` or `refresh`.
    pub command: &'static str,
    /// Repository directory.
    pub repository: String,
    /// `first`, `full`, `incremental` (publish) or `refresh`.
    pub kind: &'static str,
    /// `published`, `refreshed` or `nothing to do`.
    pub result: &'static str,
    /// Index files looked at.
    pub files_seen: usize,
    /// Index files hashed (the others were known from the manifest).
    pub files_hashed: usize,
    /// Files under the index that are not index files, so not signed.
    pub files_skipped: &'a [String],
    /// Changed index files that were not signed (each keeps the version signed before),
    /// and why; non-empty means exit code 6.
    pub files_refused: Vec<Refused>,
    /// Bins signed.
    pub bins_signed: usize,
    /// Roles signed by this run (`bins`, `snapshot`, `timestamp`; `root`/`targets` when
    /// this run first wrote them).
    pub roles_signed: &'a [&'static str],
    /// Metadata files written.
    pub metadata_written: usize,
    /// Hash-named target copies written (linked ones included).
    pub copies_written: usize,
    /// Of those, hard links to their index files (`--link-copies`).
    pub copies_linked: usize,
    /// Index files found rewritten in place while linked (`--link-copies`): their
    /// earlier copies no longer match what was signed.
    pub modified_in_place: &'a [String],
    /// Retired files deleted after their grace period, and stale temporary files deleted
    /// (see `prune`).
    pub pruned: usize,
    /// Snapshot version now published.
    pub snapshot_version: u64,
    /// Timestamp version now published.
    pub timestamp_version: u64,
    /// Expiry of each published role (for `bins`: the earliest, a lower bound).
    pub roles: Vec<RoleExpiry>,
    /// The earliest expiry of the online roles (timestamp, snapshot, bins): the next
    /// refresh is due before then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earliest_expiry: Option<String>,
    /// The exit code: 0, or 6 when `files_refused` is not empty (a failure prints an
    /// error on stderr, not this object).
    pub exit_code: u8,
}

/// A changed index file that was not signed.
#[derive(Debug, Serialize)]
pub struct Refused {
    /// Its index path.
    pub path: String,
    /// Why, as a stable code: `symlink`, `not-regular-file`, or the verifier's check
    /// (`line-not-json`, `line-wrong-crate`, `config-not-json`, ...).
    pub code: &'static str,
    /// Why, in words.
    pub reason: String,
}

/// One role's expiry.
#[derive(Debug, Serialize)]
pub struct RoleExpiry {
    /// `root`, `targets`, `bins`, `snapshot` or `timestamp`.
    pub role: &'static str,
    /// RFC 3339, UTC.
    pub expires: String,
}

/// Print the result of a publish or of a refresh (`within`: its `--within` window).
pub fn print(
    repository: &std::path::Path,
    report: &PublishReport,
    within: Option<&str>,
    json: bool,
    ui: &Ui,
) -> anyhow::Result<Code> {
    let summary = summarize(repository, report);
    let code = if report.refused.is_empty() {
        Code::Ok
    } else {
        Code::FilesRefused
    };
    if json {
        tuf_fs::outln!("{}", serde_json::to_string_pretty(&summary)?)?;
    } else {
        ui.info(human(&summary, report.kind, within));
        ui.detail(format!(
            "{} target copies written ({} as links), {} retired or stale file(s) pruned, \
             {:.1?} waiting for the disk",
            report.copies_written, report.copies_linked, report.pruned, report.sync_wait
        ));
        for role in &summary.roles {
            ui.detail(format!("  {:<9} expires {}", role.role, role.expires));
        }
    }
    if !report.modified_in_place.is_empty() {
        ui.warn(format!(
            "{} index file(s) changed while their copy was a hard link to them, so the \
             registry rewrote them in place (or something else links to them): the copies \
             linked before no longer hold the bytes signed for them, and clients fetching \
             those fail until they update. Their new copies were written, not linked. \
             --link-copies needs a registry that replaces index files by rename; publish \
             without it otherwise: {}",
            report.modified_in_place.len(),
            report.modified_in_place.join(", ")
        ));
    }
    if !report.skipped.is_empty() {
        ui.warn(format!(
            "{} file(s) under the index are not index files and were not signed: {}",
            report.skipped.len(),
            report.skipped.join(", ")
        ));
    }
    if !report.refused.is_empty() {
        let each: Vec<String> = report
            .refused
            .iter()
            .map(|r| format!("{} ({}: {})", r.path, r.refusal.code(), r.refusal))
            .collect();
        ui.warn(format!(
            "{} changed index file(s) were refused and not signed; each keeps the version \
             signed before (a new one stays unpublished) until the registry fixes it and \
             it is published again (exit code 6): {}",
            report.refused.len(),
            each.join("; ")
        ));
    }
    Ok(code)
}

fn summarize<'a>(repository: &std::path::Path, report: &'a PublishReport) -> Summary<'a> {
    let command = match report.kind {
        PublishKind::Refresh => "refresh",
        _ => "publish",
    };
    let kind = match report.kind {
        PublishKind::First => "first",
        PublishKind::Full => "full",
        PublishKind::Incremental => "incremental",
        PublishKind::Refresh => "refresh",
    };
    let result = match report.kind {
        PublishKind::Refresh if report.metadata_written == 0 => NOTHING_TO_DO,
        PublishKind::Refresh => "refreshed",
        _ => "published",
    };
    let mut roles = Vec::new();
    if let Some(e) = &report.expires {
        roles.push(RoleExpiry::new("root", e.root));
        roles.push(RoleExpiry::new("targets", e.targets));
        if let Some(bins) = e.bins {
            roles.push(RoleExpiry::new("bins", bins));
        }
        roles.push(RoleExpiry::new("snapshot", e.snapshot));
        roles.push(RoleExpiry::new("timestamp", e.timestamp));
    }
    Summary {
        command,
        repository: repository.display().to_string(),
        kind,
        result,
        files_seen: report.files_seen,
        files_hashed: report.files_hashed,
        files_skipped: &report.skipped,
        files_refused: report
            .refused
            .iter()
            .map(|r| Refused {
                path: r.path.as_str().to_owned(),
                code: r.refusal.code(),
                reason: r.refusal.to_string(),
            })
            .collect(),
        bins_signed: report.bins_signed,
        roles_signed: &report.roles_signed,
        metadata_written: report.metadata_written,
        copies_written: report.copies_written,
        copies_linked: report.copies_linked,
        modified_in_place: &report.modified_in_place,
        pruned: report.pruned,
        snapshot_version: report.snapshot_version,
        timestamp_version: report.timestamp_version,
        roles,
        earliest_expiry: report.expires.map(|e| rfc3339(e.earliest_online())),
        exit_code: if report.refused.is_empty() {
            Code::Ok as u8
        } else {
            Code::FilesRefused as u8
        },
    }
}

fn human(s: &Summary<'_>, kind: PublishKind, within: Option<&str>) -> String {
    let earliest = s
        .earliest_expiry
        .as_ref()
        .map_or_else(String::new, |e| format!("; next expiry {e}"));
    match s.result {
        NOTHING_TO_DO => format!(
            "{NOTHING_TO_DO}: no online role expires within {}{earliest}",
            within.unwrap_or("the window")
        ),
        "refreshed" => format!(
            "refreshed {}: {} bin(s) re-signed, {} metadata file(s) written; snapshot v{}, \
             timestamp v{}{earliest}",
            s.roles_signed.join(", "),
            s.bins_signed,
            s.metadata_written,
            s.snapshot_version,
            s.timestamp_version
        ),
        _ => format!(
            "published ({kind:?}): {} index file(s) seen, {} hashed, {} bin(s) signed, {} \
             metadata file(s) written; snapshot v{}, timestamp v{}{earliest}",
            s.files_seen,
            s.files_hashed,
            s.bins_signed,
            s.metadata_written,
            s.snapshot_version,
            s.timestamp_version
        ),
    }
}

impl RoleExpiry {
    fn new(role: &'static str, expires: DateTime<Utc>) -> Self {
        Self {
            role,
            expires: rfc3339(expires),
        }
    }
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}
