//! `tuf publish`, `tuf refresh` and `tuf verify`: the operator verbs over the publish
//! engine ([`tuf_cli::publish`]) and the verifier ([`tuf_cli::verify`]), on the layout of
//! [`crate::layout`]. Only the online key is loaded; root and targets are published as
//! their key holders signed them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{TimeDelta, Utc};
use tuf_cli::publish::{self, Changes, OnlineKeys, PublishOptions, Repository};
use tuf_cli::verify::{RepoView, TargetCheck};
use tuf_core::metadata::RoleType;
use tuf_core::repo::Expiries;
use tuf_core::Limits;

use crate::cmd::{root, status};
use crate::duration::parse_duration;
use crate::exit::{err, usage, Code};
use crate::fsutil::{self, Access, Existing};
use crate::keys::{FileKeySource, KeySource as _, PassphraseArgs};
use crate::layout::{self, Repo};
use crate::meta;
use crate::ui::Ui;

/// Arguments of `tuf publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Repository directory.
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
    /// The registry's sparse index directory (what is signed).
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// The online private key (timestamp, snapshot, bins): a PKCS#8 PEM file from
    /// `tuf key generate`, encrypted or not.
    #[arg(long, value_name = "KEY.pem")]
    pub online_key: PathBuf,
    /// Passphrase source for an encrypted online key.
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Index paths that changed (repeatable; from a registry's publish hook). Without any,
    /// the whole index is scanned and only files whose length or mtime changed are hashed.
    #[arg(long, value_name = "INDEX_PATH")]
    pub changed: Vec<String>,
    /// Do not write hash-named target copies under `REPO/targets/`.
    #[arg(long)]
    pub no_copies: bool,
}

/// Arguments of `tuf refresh`.
#[derive(Debug, clap::Args)]
pub struct RefreshArgs {
    /// Repository directory.
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
    /// The online private key (PKCS#8 PEM, encrypted or not).
    #[arg(long, value_name = "KEY.pem")]
    pub online_key: PathBuf,
    /// Passphrase source for an encrypted online key.
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Re-sign online roles that expire within this duration (run from cron more often
    /// than this; with the default 1d timestamp expiry, hourly with 6h is typical).
    #[arg(long, value_name = "DURATION", default_value = "6h")]
    pub within: String,
}

/// Arguments of `tuf verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The root the client trusts (e.g. a copy of `1.root.json` obtained out of band).
    #[arg(long, value_name = "TRUSTED_ROOT.json")]
    pub root: PathBuf,
    /// The published metadata directory (`REPO/metadata`).
    #[arg(value_name = "METADATA_DIR")]
    pub metadata: PathBuf,
    /// Also check every signed index file's bytes in this index directory. Without it,
    /// the hash-named copies under `REPO/targets/` are checked if that directory exists.
    #[arg(long, value_name = "DIR")]
    pub index: Option<PathBuf>,
}

/// Run `tuf publish`.
pub fn run_publish(args: &PublishArgs, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    let policy = repo.policy()?;
    let now = Utc::now();
    if !args.index.is_dir() {
        return Err(usage(format!(
            "--index {}: not a directory; give the registry's sparse index directory",
            args.index.display()
        )));
    }
    refuse_unsigned_staged(&repo, now)?;
    let online = load_online(&args.online_key, &args.passphrase)?;

    // Commit what the key holders signed: a staged root first (the targets answers to it).
    if repo.staged(RoleType::Root).exists() {
        root::run_commit(
            &root::CommitArgs {
                repo: args.repo.clone(),
            },
            ui,
        )?;
    }
    // Listing `metadata/` for the roots is O(bins): do it once.
    let Some(trusted) = repo.trusted_root()? else {
        return Err(err(
            Code::Threshold,
            format!(
                "no root is published in {}: sign the staged root and run `tuf root commit` \
                 (or `tuf publish`) once its threshold is met",
                repo.metadata_dir().display()
            ),
        ));
    };
    check_online_against(&repo, &trusted, &args.online_key, &online)?;
    commit_staged_targets(&repo, now, ui)?;

    let mut options = PublishOptions::new(now);
    options.expiry = expiries(&policy)?;
    options.target_copies = !args.no_copies;
    let changes = if args.changed.is_empty() {
        Changes::Scan
    } else {
        Changes::Paths(args.changed.clone())
    };
    let report = publish::publish(
        &Repository::new(&args.index, repo.dir()),
        &online,
        &changes,
        &options,
    )
    .with_context(|| format!("while publishing {}", repo.dir().display()))?;
    ui.info(format!(
        "published ({:?}): {} index file(s) seen, {} hashed, {} bin(s) signed, {} metadata \
         file(s) written; snapshot v{}, timestamp v{}",
        report.kind,
        report.files_seen,
        report.files_hashed,
        report.bins_signed,
        report.metadata_written,
        report.snapshot_version,
        report.timestamp_version
    ));
    if !report.skipped.is_empty() {
        ui.warn(format!(
            "{} file(s) under the index are not index files and were not signed: {}",
            report.skipped.len(),
            report.skipped.join(", ")
        ));
    }
    Ok(Code::Ok)
}

/// Run `tuf refresh`.
pub fn run_refresh(args: &RefreshArgs, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    let policy = repo.policy()?;
    let window = parse_duration(&args.within).map_err(|e| usage(format!("--within: {e:#}")))?;
    if !repo.metadata_dir().join("timestamp.json").exists() {
        return Err(err(
            Code::Failure,
            format!(
                "nothing published yet in {}: run `tuf publish` first",
                repo.metadata_dir().display()
            ),
        ));
    }
    let online = load_online(&args.online_key, &args.passphrase)?;
    check_online(&repo, &args.online_key, &online)?;
    let mut options = PublishOptions::new(Utc::now());
    options.expiry = expiries(&policy)?;
    // Refresh never reads the index.
    let report = publish::refresh(
        &Repository::new(PathBuf::new(), repo.dir()),
        &online,
        window,
        &options,
    )
    .with_context(|| format!("while refreshing {}", repo.dir().display()))?;
    if report.metadata_written == 0 {
        ui.info(format!(
            "nothing to do: no online role expires within {}",
            args.within
        ));
    } else {
        ui.info(format!(
            "refreshed: {} bin(s) re-signed, {} metadata file(s) written; snapshot v{}, \
             timestamp v{}",
            report.bins_signed,
            report.metadata_written,
            report.snapshot_version,
            report.timestamp_version
        ));
    }
    Ok(Code::Ok)
}

/// Run `tuf verify`.
pub fn run_verify(args: &VerifyArgs, ui: &Ui) -> anyhow::Result<Code> {
    let trusted = fsutil::read(&args.root)?;
    let metadata = &args.metadata;
    if !metadata.is_dir() {
        return Err(usage(format!(
            "{}: not a directory; give the published metadata directory (REPO/metadata)",
            metadata.display()
        )));
    }
    // The engine's layout: REPO/metadata and REPO/targets side by side.
    let repo_dir = if metadata
        .file_name()
        .is_some_and(|n| n == layout::METADATA_DIR)
    {
        metadata
            .parent()
            .map_or_else(PathBuf::new, Path::to_path_buf)
    } else if metadata.join(layout::METADATA_DIR).is_dir() {
        metadata.clone()
    } else {
        return Err(usage(format!(
            "{}: expected a directory named `{}` (REPO/metadata)",
            metadata.display(),
            layout::METADATA_DIR
        )));
    };
    let repository = Repository::new(args.index.clone().unwrap_or_default(), repo_dir.as_path());
    let check = match &args.index {
        Some(_) => TargetCheck::Index,
        None if repository.targets_dir().is_dir() => TargetCheck::Copies,
        None => TargetCheck::None,
    };
    let limits = Limits::default();
    let now = Utc::now();
    let view = match RepoView::load(&repository, &trusted, now, &limits) {
        Ok(view) => view,
        Err(e) => {
            return Err(err(
                Code::Failure,
                format!(
                    "{} does not verify from {}: {e}",
                    metadata.display(),
                    args.root.display()
                ),
            ))
        }
    };
    let mut problems = Vec::new();
    let mut bins = 0usize;
    let mut targets = 0usize;
    for bin in 0..view.bins().bin_count() {
        let Ok(bin) = u32::try_from(bin) else {
            continue;
        };
        bins += 1;
        match view.bin(bin) {
            Ok(listed) => {
                for (path, entry) in &listed.targets {
                    targets += 1;
                    if let Err(e) = view.check_target(path, entry, check) {
                        // The error names the path.
                        problems.push(e.to_string());
                    }
                }
            }
            Err(e) => problems.push(format!("bin {bin}: {e}")),
        }
    }
    if let Some(index) = &args.index {
        // Every index file must be signed: an unsigned one would be refused by clients.
        if let Ok((paths, _)) = tuf_cli::hashing::walk_index(index) {
            for path in paths {
                match view.target(path.as_str()) {
                    Ok(Some(_)) => {}
                    Ok(None) => problems.push(format!(
                        "{}: in the index but not signed (run `tuf publish`)",
                        path.as_str()
                    )),
                    Err(e) => problems.push(format!("{}: {e}", path.as_str())),
                }
            }
        }
    }
    let what = match check {
        TargetCheck::Index => "index files checked",
        TargetCheck::Copies => "target copies checked",
        TargetCheck::None => "targets listed (bytes not checked)",
    };
    if problems.is_empty() {
        ui.info(format!(
            "ok: root v{}, timestamp v{}, snapshot v{}, {bins} bin(s), {targets} {what}",
            view.root().version,
            view.timestamp().version,
            view.snapshot().version,
        ));
        return Ok(Code::Ok);
    }
    for problem in &problems {
        println!("{problem}");
    }
    Err(err(
        Code::Failure,
        format!(
            "{} problem(s) found in {} ({bins} bin(s), {targets} target(s) looked at); \
             see above",
            problems.len(),
            metadata.display()
        ),
    ))
}

/// Refuse (exit 3) while a staged root or targets lacks signatures, naming the keys.
fn refuse_unsigned_staged(repo: &Repo, now: chrono::DateTime<Utc>) -> anyhow::Result<()> {
    // Only staged roles can be refused here. With nothing staged (every publish but the
    // one after a ceremony) skip the status report: it also verifies the whole published
    // chain, every bin included, which would make each publish O(bins).
    if !repo.staged(RoleType::Root).exists() && !repo.staged(RoleType::Targets).exists() {
        return Ok(());
    }
    let report = status::build(repo, now, TimeDelta::zero())?;
    let mut gaps = Vec::new();
    for role in report.roles.iter().filter(|r| r.state == "staged") {
        if role.threshold_met {
            continue;
        }
        let version = role.version.map_or_else(String::new, |v| format!(" v{v}"));
        let mut parts = Vec::new();
        for count in role.thresholds.iter().filter(|c| !c.met) {
            let missing: Vec<String> = count.missing.iter().map(ToString::to_string).collect();
            parts.push(format!(
                "under {}: {} of {} signature(s), missing: {}",
                count.authority,
                count.signed.len(),
                count.threshold,
                missing.join(", ")
            ));
        }
        if parts.is_empty() {
            parts.extend(role.notes.iter().cloned());
        }
        gaps.push(format!(
            "staged {}{version} ({}): {}",
            role.role,
            role.file,
            parts.join("; ")
        ));
    }
    if gaps.is_empty() {
        return Ok(());
    }
    Err(err(
        Code::Threshold,
        format!(
            "not publishing: {}. Nothing was published; collect the signatures with `tuf sign`",
            gaps.join(". ")
        ),
    ))
}

/// Move a signed `staged/targets.json` to `metadata/N.targets.json`, byte for byte.
fn commit_staged_targets(repo: &Repo, now: chrono::DateTime<Utc>, ui: &Ui) -> anyhow::Result<()> {
    let staged_path = repo.staged(RoleType::Targets);
    if !staged_path.exists() {
        return Ok(());
    }
    let bytes = fsutil::read(&staged_path)?;
    let staged = meta::parse(&bytes, Some(RoleType::Targets))
        .with_context(|| format!("in {}", staged_path.display()))?;
    let targets = meta::typed_targets(&staged, &staged_path)?;
    let version = targets.version.get();
    let newest = newest_published(&repo.metadata_dir(), "targets")?;
    if newest.is_some_and(|n| version <= n) {
        return Err(err(
            Code::Failure,
            format!(
                "staged targets is v{version} but v{} is already published; stage a newer \
                 version or delete {}",
                newest.unwrap_or(0),
                staged_path.display()
            ),
        ));
    }
    if targets.expires.is_expired_at(now) {
        return Err(err(
            Code::Failure,
            format!(
                "staged targets v{version} expired at {}; re-stage it",
                targets.expires
            ),
        ));
    }
    let published = repo.metadata_dir().join(format!("{version}.targets.json"));
    fsutil::write_atomic(&published, &bytes, Access::Public, Existing::Refuse)?;
    fsutil::remove(&staged_path)?;
    ui.info(format!(
        "committed staged targets v{version} as {}",
        published.display()
    ));
    Ok(())
}

fn newest_published(dir: &Path, role: &str) -> anyhow::Result<Option<u64>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    let suffix = format!(".{role}.json");
    let mut newest = None;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        if let Some(v) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.strip_suffix(&suffix))
            .and_then(|v| v.parse::<u64>().ok())
        {
            newest = newest.max(Some(v));
        }
    }
    Ok(newest)
}

fn load_online(path: &Path, passphrase: &PassphraseArgs) -> anyhow::Result<OnlineKeys> {
    let signer = FileKeySource::new(path.to_path_buf(), passphrase.clone()).signer()?;
    Ok(OnlineKeys::single(Arc::from(signer)))
}

/// Refuse (exit 5) a key that is not a timestamp key of the newest published root, before
/// the engine signs anything with it.
fn check_online(repo: &Repo, path: &Path, online: &OnlineKeys) -> anyhow::Result<()> {
    let Some(trusted) = repo.trusted_root()? else {
        return Ok(());
    };
    check_online_against(repo, &trusted, path, online)
}

/// [`check_online`] against the trusted root already loaded.
fn check_online_against(
    repo: &Repo,
    trusted: &layout::Published<tuf_core::metadata::Root>,
    path: &Path,
    online: &OnlineKeys,
) -> anyhow::Result<()> {
    let allowed = trusted
        .role
        .role_keys(RoleType::Timestamp)
        .map(|r| r.keyids.clone())
        .unwrap_or_default();
    for key in &online.timestamp {
        if !allowed.contains(key.key_id()) {
            let names = repo.keyholders()?;
            let expected: Vec<String> = allowed
                .iter()
                .map(|id| match names.get(id) {
                    Some(name) => format!("{id} ({name})"),
                    None => id.to_string(),
                })
                .collect();
            return Err(err(
                Code::KeyRefused,
                format!(
                    "{} holds key {}, which is not the online (timestamp) key of root v{}:                      expected {}. Nothing was signed",
                    path.display(),
                    key.key_id(),
                    trusted.role.version,
                    expected.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn expiries(policy: &layout::Policy) -> anyhow::Result<Expiries> {
    let e = &policy.expiry;
    Ok(Expiries {
        root: parse_duration(&e.root).context("policy expiry.root")?,
        targets: parse_duration(&e.targets).context("policy expiry.targets")?,
        bins: parse_duration(&e.bins).context("policy expiry.bins")?,
        snapshot: parse_duration(&e.snapshot).context("policy expiry.snapshot")?,
        timestamp: parse_duration(&e.timestamp).context("policy expiry.timestamp")?,
    })
}
