//! `tuf status`: for each staged and published role, its version, expiry, and the
//! signatures present vs. needed under every authority it answers to (a staged root
//! rotation: the trusted root and itself), with the keys still missing.
//!
//! Exit code: 0 all good, 3 a threshold is not met, 4 something expires within its
//! warning window (or has expired), 1 a published file could not be read. The report is
//! printed in every case.
//!
//! The warning window is per role unless `--warn-within` sets one for all (see
//! [`Windows::per_role`]): a status check must be silent on a healthy repository, whose
//! timestamp never has more than its one day left, so one window for every role either
//! cries wolf on every run or warns about a ceremony too late.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use tuf_core::metadata::{versioned_file_name, Expires, Role, RoleType, Root, TIMESTAMP_FILE};
use tuf_core::trusted::{Mode, TrustedState};
use tuf_core::verify::Verified;
use tuf_repo::published::check_next_root_version;

use crate::duration::{format_duration, parse_duration};
use crate::exit::{usage, Code};
use crate::files;
use crate::layout::{Keyholders, Repo};
use crate::metadata_file;
use crate::signers::{Signers, ThresholdCount};
use crate::ui::Ui;

/// Arguments of `tuf status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Repository directory.
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
    /// Print the report as JSON (for monitoring).
    #[arg(long)]
    pub json: bool,
    /// Warn about roles that expire within this duration, one window for every role.
    /// Default: per role: root and targets (re-signed in a ceremony) 30d, or a quarter
    /// of their policy expiry if that is shorter; timestamp, snapshot and bins (re-signed
    /// by `tuf refresh`, 6h before they expire) 3h, or a quarter of their policy expiry
    /// if that is shorter.
    #[arg(long, value_name = "DURATION")]
    pub warn_within: Option<String>,
}

/// How close to its expiry a role is flagged.
#[derive(Debug, Clone)]
pub enum Windows {
    /// `--warn-within`: one window for every role, as the user wrote it.
    Uniform {
        /// The window.
        window: TimeDelta,
        /// As written on the command line (`2d`).
        written: String,
    },
    /// The default: a window per role (see [`Windows::per_role`]).
    PerRole {
        /// root, targets (staged or published).
        ceremony: TimeDelta,
        /// targets' bins.
        bins: TimeDelta,
        /// snapshot.
        snapshot: TimeDelta,
        /// timestamp.
        timestamp: TimeDelta,
        /// root, if its policy period is shorter than the others'.
        root: TimeDelta,
    },
}

/// How far ahead a ceremony role (root, targets) is flagged by default: time to schedule
/// the key holders.
const CEREMONY_WINDOW: TimeDelta = TimeDelta::days(30);
/// How far ahead an online role (timestamp, snapshot, bins) is flagged by default.
/// `tuf refresh` re-signs these 6h before they expire (its default `--within`); with the
/// hourly cron the operator guide shows, a healthy repository never has less than about
/// 5h left, so 3h left means the refresh has missed several runs: a human must look, and
/// there are still hours before clients refuse the repository.
const ONLINE_WINDOW: TimeDelta = TimeDelta::hours(3);

impl Windows {
    /// The default windows for a repository with `policy`: for each role, the smaller
    /// of its kind's window and a quarter of the role's expiry period in the policy (a
    /// repository signed for short periods is not flagged all the time). An expiry the
    /// policy does not parse keeps the kind's window.
    pub fn per_role(policy: &tuf_cli::policy::ExpiryPolicy) -> Self {
        let window = |period: &str, cap: TimeDelta| {
            parse_duration(period)
                .ok()
                .and_then(|p| p.checked_div(4))
                .map_or(cap, |quarter| quarter.min(cap))
        };
        Self::PerRole {
            ceremony: window(&policy.targets, CEREMONY_WINDOW),
            root: window(&policy.root, CEREMONY_WINDOW),
            bins: window(&policy.bins, ONLINE_WINDOW),
            snapshot: window(&policy.snapshot, ONLINE_WINDOW),
            timestamp: window(&policy.timestamp, ONLINE_WINDOW),
        }
    }

    /// The window for `role` (`root`, `targets`, `snapshot`, `timestamp`, `bins`).
    pub fn of(&self, role: &str) -> TimeDelta {
        match self {
            Self::Uniform { window, .. } => *window,
            Self::PerRole {
                ceremony,
                bins,
                snapshot,
                timestamp,
                root,
            } => match role {
                "root" => *root,
                "snapshot" => *snapshot,
                "timestamp" => *timestamp,
                "bins" => *bins,
                _ => *ceremony,
            },
        }
    }

    /// For the report's header: `2d`, or `root 30d, targets 30d, ...`.
    fn describe(&self) -> String {
        match self {
            Self::Uniform { written, .. } => written.clone(),
            Self::PerRole { .. } => ["root", "targets", "snapshot", "timestamp", "bins"]
                .iter()
                .map(|role| format!("{role} {}", format_duration(self.of(role))))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The whole report (the `--json` output).
#[derive(Debug, Serialize)]
pub struct Report {
    /// Repository directory.
    pub repository: String,
    /// When the check ran.
    pub checked_at: String,
    /// The warning window as given by `--warn-within` (`2d`), or `per role` (each role's
    /// is in `roles[].warn_within`).
    pub warn_within: String,
    /// The warning window of `--warn-within`, in seconds; absent for the per-role default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn_within_seconds: Option<i64>,
    /// The windows in words, for the human report.
    #[serde(skip)]
    pub windows_described: String,
    /// One entry per role file looked at.
    pub roles: Vec<RoleReport>,
    /// Every threshold of every role met.
    pub thresholds_met: bool,
    /// Some role expires within the window or has expired.
    pub expiring: bool,
    /// Some published file could not be read or parsed.
    pub errors: bool,
    /// The exit code this report gives.
    pub exit_code: u8,
}

/// One role file.
#[derive(Debug, Serialize)]
pub struct RoleReport {
    /// `root`, `targets`, `snapshot`, `timestamp`, or `bins` (all bins together).
    pub role: String,
    /// `staged` or `published`.
    pub state: &'static str,
    /// File path (for bins: the metadata directory).
    pub file: String,
    /// Version (for bins: the highest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Expiry (for bins: the earliest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// `ok`, `expiring` or `expired`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry: Option<&'static str>,
    /// The warning window applied to this role (`3h`, `30d`).
    pub warn_within: String,
    /// SHA-256 of the signed bytes (what a key holder compares before signing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_sha256: Option<String>,
    /// Signatures counted under each authority.
    pub thresholds: Vec<ThresholdCount>,
    /// Every authority's threshold met.
    pub threshold_met: bool,
    /// Something else the reader should know.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why the file could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Run `tuf status`.
pub fn run(args: &Args, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    let windows = match &args.warn_within {
        Some(written) => Windows::Uniform {
            window: parse_duration(written).map_err(|e| usage(format!("{e:#}")))?,
            written: written.clone(),
        },
        None => Windows::per_role(&repo.policy()?.expiry),
    };
    let now = Utc::now();
    let report = build(&repo, now, &windows)?;
    if args.json {
        tuf_fs::outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        // Where `tuf publish` writes: a forgotten store would publish where no client
        // reads.
        let target =
            crate::cmd::store::resolve(&crate::cmd::store::StoreArgs::default(), repo.dir())?;
        if let Some(target) = target {
            tuf_fs::outln!(
                "publishes to {} (from {}); the online roles there are not read by status",
                target.url,
                target.from
            )?;
        }
        // Release feeds (docs/feeds.md): the operator's setting, not what is published.
        let feeds = tuf_repo::feeds::enabled(&repo.dir().join("state"))?;
        tuf_fs::outln!(
            "release feeds: {} (`tuf feeds on|off`)",
            if feeds { "on" } else { "off" }
        )?;
        tuf_fs::out!("{}", human(&report))?;
    }
    let code = code_of(&report);
    if code != Code::Ok && !args.json {
        ui.detail(format!("exit code {}", code as u8));
    }
    Ok(code)
}

fn code_of(report: &Report) -> Code {
    if report.errors {
        Code::Failure
    } else if !report.thresholds_met {
        Code::Threshold
    } else if report.expiring {
        Code::Expiring
    } else {
        Code::Ok
    }
}

/// Build the report.
pub fn build(repo: &Repo, now: DateTime<Utc>, windows: &Windows) -> anyhow::Result<Report> {
    let names = repo.keyholders()?;
    // The published roots as a client walks them, from 1.root.json: a staged root answers
    // to the newest, and the published roles below are checked from it.
    let chain = crate::cmd::root::published_chain(repo, now, Mode::Diagnostic);
    let trusted: Option<Verified<Root>> = chain
        .as_ref()
        .ok()
        .and_then(Option::as_ref)
        .map(|c| c.root().clone());
    let ctx = Ctx {
        now,
        windows,
        names: &names,
    };
    let mut roles = Vec::new();

    // Staged root: answers to the trusted root (if older) and to itself.
    let staged_root_path = repo.staged(RoleType::Root);
    let mut staged_root: Option<Root> = None;
    if staged_root_path.exists() {
        let staged = metadata_file::load(&staged_root_path, Some(RoleType::Root))?;
        let root = metadata_file::typed_root(&staged, &staged_root_path)?;
        let mut authorities = Vec::new();
        let mut notes = Vec::new();
        if let Some(old) = &trusted {
            if old.version < root.version {
                authorities.push(Signers::from_root(
                    old,
                    RoleType::Root,
                    format!("root v{} (trusted)", old.version),
                )?);
                if check_next_root_version(Some(old.version.get()), root.version.get()).is_err() {
                    notes.push(format!(
                        "staged root is v{} but the trusted root is v{}: it must be v{}",
                        root.version,
                        old.version,
                        old.version.get().saturating_add(1)
                    ));
                }
            } else {
                notes.push(format!(
                    "staged root v{} is not newer than published root v{}: nothing to publish",
                    root.version, old.version
                ));
            }
        }
        authorities.push(Signers::from_root(
            &root,
            RoleType::Root,
            format!("root v{} (itself)", root.version),
        )?);
        let mut entry = ctx.entry(
            "root",
            "staged",
            &staged_root_path,
            &root,
            &staged,
            &authorities,
        );
        entry.signed_sha256 = Some(metadata_file::signed_sha256(&staged));
        entry.notes.extend(notes);
        roles.push(entry);
        staged_root = Some(root);
    }

    // Staged targets: answers to the root that will be in force when it is published.
    let staged_targets_path = repo.staged(RoleType::Targets);
    if staged_targets_path.exists() {
        let staged = metadata_file::load(&staged_targets_path, Some(RoleType::Targets))?;
        let targets = metadata_file::typed_targets(&staged, &staged_targets_path)?;
        let governing = staged_root.as_ref().or(trusted.as_deref());
        let authorities = match governing {
            Some(root) => vec![Signers::from_root(
                root,
                RoleType::Targets,
                format!("root v{}", root.version),
            )?],
            None => Vec::new(),
        };
        let mut entry = ctx.entry(
            "targets",
            "staged",
            &staged_targets_path,
            &targets,
            &staged,
            &authorities,
        );
        entry.signed_sha256 = Some(metadata_file::signed_sha256(&staged));
        if let Some((_, published)) = crate::cmd::targets::published_targets(repo)? {
            entry.notes.extend(crate::cmd::targets::delegation_changes(
                &published, &targets, &names,
            ));
        }
        roles.push(entry);
    }

    // Published roles, as a client reaches them: the root chain from 1.root.json, then
    // the online roles under the newest root.
    match chain {
        Ok(Some(mut chain)) => {
            let version = chain.root().version.get();
            let path = repo
                .metadata_dir()
                .join(versioned_file_name(version, "root"));
            // Already taken by the chain's steps: counted against its own keys.
            let taken = |_: &mut TrustedState, _: &[u8]| Ok(());
            let root = (RoleType::Root, path.as_path());
            if ctx.published(&mut roles, &mut chain, root, taken, |c| Some(c.root())) {
                published_chain(repo, &mut chain, &ctx, &mut roles);
            }
        }
        Ok(None) => {}
        Err(e) => roles.push(ctx.failed("root", &repo.metadata_dir(), &e)),
    }
    if roles.is_empty() {
        anyhow::bail!(
            "{} has nothing staged and nothing published; run `tuf init`",
            repo.dir().display()
        );
    }

    let thresholds_met = roles.iter().all(|r| r.threshold_met);
    let expiring = roles
        .iter()
        .any(|r| matches!(r.expiry, Some("expiring" | "expired")));
    let errors = roles.iter().any(|r| r.error.is_some());
    let mut report = Report {
        repository: repo.dir().display().to_string(),
        checked_at: Expires::from_time(now).to_string(),
        warn_within: match windows {
            Windows::Uniform { written, .. } => written.clone(),
            Windows::PerRole { .. } => "per role".to_owned(),
        },
        warn_within_seconds: match windows {
            Windows::Uniform { window, .. } => Some(window.num_seconds()),
            Windows::PerRole { .. } => None,
        },
        windows_described: windows.describe(),
        roles,
        thresholds_met,
        expiring,
        errors,
        exit_code: 0,
    };
    report.exit_code = code_of(&report) as u8;
    Ok(report)
}

struct Ctx<'a> {
    now: DateTime<Utc>,
    windows: &'a Windows,
    names: &'a Keyholders,
}

impl Ctx<'_> {
    fn expiry(&self, role: &str, expires: &Expires) -> &'static str {
        if expires.is_expired_at(self.now) {
            "expired"
        } else if expires.time() - self.now <= self.windows.of(role) {
            "expiring"
        } else {
            "ok"
        }
    }

    fn entry<T: Role>(
        &self,
        role: &str,
        state: &'static str,
        path: &Path,
        typed: &T,
        signed: &tuf_core::metadata::SignedMetadata,
        authorities: &[Signers],
    ) -> RoleReport {
        let thresholds: Vec<ThresholdCount> = authorities
            .iter()
            .map(|a| a.count(signed, self.names))
            .collect();
        let mut notes = Vec::new();
        if authorities.is_empty() {
            notes.push("no root to count signatures against".to_owned());
        }
        RoleReport {
            role: role.to_owned(),
            state,
            file: path.display().to_string(),
            version: Some(typed.version().get()),
            expires: Some(typed.expires().to_string()),
            expiry: Some(self.expiry(role, typed.expires())),
            warn_within: format_duration(self.windows.of(role)),
            signed_sha256: None,
            threshold_met: !thresholds.is_empty() && thresholds.iter().all(|t| t.met),
            thresholds,
            notes,
            error: None,
        }
    }

    /// Published top-level role `role` at `path` through its client step `step`: its
    /// entry, counted against the root's keys for it, or why the step refused it.
    /// Whether the walk goes on.
    fn published<T: Role>(
        &self,
        roles: &mut Vec<RoleReport>,
        trusted: &mut TrustedState,
        (role, path): (RoleType, &Path),
        step: impl FnOnce(&mut TrustedState, &[u8]) -> Result<(), tuf_core::Error>,
        taken: impl FnOnce(&TrustedState) -> Option<&Verified<T>>,
    ) -> bool {
        let entry = files::read(path).and_then(|bytes| {
            let meta = metadata_file::parse(&bytes, Some(role))?;
            step(trusted, &bytes)?;
            let root = trusted.root();
            let label = format!("root v{}", root.version);
            let authorities = [Signers::from_root(root, role, label)?];
            let typed = taken(trusted).context("the step keeps what it took")?;
            Ok(self.entry(
                role.as_str(),
                "published",
                path,
                &**typed,
                &meta,
                &authorities,
            ))
        });
        let went_on = entry.is_ok();
        roles.push(entry.unwrap_or_else(|e| self.failed(role.as_str(), path, &e)));
        went_on
    }

    fn failed(&self, role: &str, path: &Path, error: &anyhow::Error) -> RoleReport {
        RoleReport {
            role: role.to_owned(),
            state: "published",
            file: path.display().to_string(),
            version: None,
            expires: None,
            expiry: None,
            warn_within: format_duration(self.windows.of(role)),
            signed_sha256: None,
            thresholds: Vec::new(),
            threshold_met: false,
            notes: Vec::new(),
            error: Some(format!("{error:#}")),
        }
    }
}

/// The published chain, walked by the client's steps ([`TrustedState`] in diagnostic
/// mode, from the root chain `trusted`): timestamp -> snapshot -> targets -> bins, each
/// also counted against its delegator for the report. A file the steps refuse is
/// reported with why, and the chain stops there (nothing below it is vouched for); an
/// expired one is reported as expired and the walk goes on.
fn published_chain(
    repo: &Repo,
    trusted: &mut TrustedState,
    ctx: &Ctx<'_>,
    roles: &mut Vec<RoleReport>,
) {
    let dir = repo.metadata_dir();
    let timestamp_path = dir.join(TIMESTAMP_FILE);
    if !timestamp_path.exists() {
        return;
    }
    let consistent = trusted.root().consistent_snapshot();
    let versioned = |name: &str, version: u64| {
        dir.join(if consistent {
            versioned_file_name(version, name)
        } else {
            format!("{name}.json")
        })
    };
    let now = ctx.now;
    let role = (RoleType::Timestamp, timestamp_path.as_path());
    let step = |t: &mut TrustedState, b: &[u8]| t.update_timestamp(b, now).map(|_| ());
    if !ctx.published(roles, trusted, role, step, TrustedState::timestamp) {
        return;
    }
    let Some(version) = trusted.snapshot_meta().map(|m| m.version.get()) else {
        return;
    };
    let path = versioned("snapshot", version);
    let step = |t: &mut TrustedState, b: &[u8]| t.update_snapshot(b, now);
    if !ctx.published(
        roles,
        trusted,
        (RoleType::Snapshot, &path),
        step,
        TrustedState::snapshot,
    ) {
        return;
    }
    let Some(version) = trusted.role_meta("targets").map(|m| m.version.get()) else {
        return;
    };
    let path = versioned("targets", version);
    let step = |t: &mut TrustedState, b: &[u8]| t.update_targets(b, now).map(|_| ());
    if !ctx.published(
        roles,
        trusted,
        (RoleType::Targets, &path),
        step,
        TrustedState::targets,
    ) {
        return;
    }
    if let Some(bins) = bins_report(trusted, ctx, &versioned, &dir) {
        roles.push(bins);
    }
}

/// All hashed bins as one entry: the earliest expiry, the highest version, every bin
/// whose signatures fall short and every bin refused otherwise (each checked by
/// [`TrustedState::check_delegated`]).
fn bins_report(
    trusted: &TrustedState,
    ctx: &Ctx<'_>,
    versioned: &dyn Fn(&str, u64) -> PathBuf,
    dir: &Path,
) -> Option<RoleReport> {
    let delegations = trusted.targets()?.delegations.as_ref()?;
    // Either form of the bins (succinct_roles or classic path_hash_prefixes roles).
    let bins = &delegations.hashed_bins().ok()?;
    let mut earliest: Option<Expires> = None;
    let mut highest = 0;
    let mut short = Vec::new();
    let mut errors = Vec::new();
    let mut count = 0u64;
    for name in bins.bin_names() {
        count += 1;
        let Some(version) = trusted.role_meta(&name).map(|m| m.version.get()) else {
            errors.push(format!("{name}: not in the snapshot"));
            continue;
        };
        let path = versioned(&name, version);
        let checked = files::read(&path).and_then(|bytes| {
            Ok(trusted.check_delegated(RoleType::Targets.as_str(), &name, &bytes, ctx.now)?)
        });
        let bin = match checked {
            Ok((bin, _)) => bin,
            // Below threshold is exit 3, any other refusal exit 1.
            Err(e) => {
                match e.downcast_ref::<tuf_core::Error>() {
                    Some(tuf_core::Error::Threshold { .. }) => short.push(name),
                    _ => errors.push(format!("{name}: {e:#}")),
                }
                continue;
            }
        };
        highest = highest.max(version);
        if earliest
            .as_ref()
            .map_or(true, |e| bin.expires.time() < e.time())
        {
            earliest = Some(bin.expires.clone());
        }
    }
    let mut notes = vec![format!("{count} bins")];
    if !short.is_empty() {
        notes.push(format!(
            "{} bin(s) below threshold: {}",
            short.len(),
            first(&short, 10).join(", ")
        ));
    }
    Some(RoleReport {
        role: "bins".to_owned(),
        state: "published",
        file: dir.display().to_string(),
        version: Some(highest),
        expiry: earliest.as_ref().map(|e| ctx.expiry("bins", e)),
        warn_within: format_duration(ctx.windows.of("bins")),
        expires: earliest.map(|e| e.to_string()),
        signed_sha256: None,
        thresholds: Vec::new(),
        threshold_met: short.is_empty() && errors.is_empty(),
        notes,
        error: (!errors.is_empty()).then(|| {
            format!(
                "{} bin file(s) refused: {}",
                errors.len(),
                first(&errors, 5).join("; ")
            )
        }),
    })
}

fn first(items: &[String], n: usize) -> &[String] {
    items.get(..n).unwrap_or(items)
}

/// The report for a person.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "repository {} (checked {}, warning window {})",
        report.repository, report.checked_at, report.windows_described
    );
    for role in &report.roles {
        let _ = write!(out, "\n{} {}", role.state, role.role);
        if let Some(v) = role.version {
            let _ = write!(out, " v{v}");
        }
        let _ = writeln!(out, " ({})", role.file);
        if let (Some(expires), Some(state)) = (&role.expires, role.expiry) {
            let flag = match state {
                "expired" => "  <-- EXPIRED",
                "expiring" => "  <-- expires soon",
                _ => "",
            };
            let _ = writeln!(out, "  expires {expires}{flag}");
        }
        if let Some(sha) = &role.signed_sha256 {
            let _ = writeln!(out, "  sha256 of signed bytes {sha}");
        }
        for t in &role.thresholds {
            let _ = writeln!(
                out,
                "  under {}: {} of {} signature(s) - {}",
                t.authority,
                t.signed.len(),
                t.threshold,
                if t.met {
                    "threshold met"
                } else {
                    "THRESHOLD NOT MET"
                }
            );
            if !t.met {
                for key in &t.missing {
                    let _ = writeln!(out, "    missing: {key}");
                }
            }
        }
        for note in &role.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        if let Some(error) = &role.error {
            let _ = writeln!(out, "  ERROR: {error}");
        }
    }
    let verdict = match code_of(report) {
        Code::Ok => "all thresholds met, nothing expiring".to_owned(),
        Code::Threshold => "some thresholds are NOT met (exit 3)".to_owned(),
        Code::Expiring => "thresholds met; something expires soon (exit 4)".to_owned(),
        _ => "some published files could not be checked (exit 1)".to_owned(),
    };
    let _ = writeln!(out, "\n{verdict}");
    out
}
