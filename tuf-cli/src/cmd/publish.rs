//! `tuf publish` and `tuf refresh`: the operator verbs over the publish engine
//! ([`tuf_repo::publish`]), on the layout of [`crate::layout`]. Only the online key is
//! loaded; root and targets are published as their key holders signed them. (`tuf verify`
//! is [`crate::cmd::verify`].)

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{TimeDelta, Utc};
use tuf_core::metadata::{parse_versioned_file_name, versioned_file_name, RoleType};
use tuf_core::repo::Expiries;
use tuf_repo::publish::{self, Changes, NewRoot, OnlineKeys, PublishOptions, Repository};
use tuf_repo::remote::{self, Index, RemoteRepository};

use crate::cmd::{root, status, store, summary, targets};
use crate::duration::parse_duration;
use crate::exit::{err, usage, Code};
use crate::files::{self, Access, Existing};
use crate::keys::{FileKeySource, KeySource as _, PassphraseArgs};
use crate::layout::{self, Repo};
use crate::metadata_file;
use crate::ui::Ui;

/// Arguments of `tuf publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Repository directory.
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
    /// The registry's sparse index (what is signed): a directory, or an object-store URL
    /// (`s3://bucket/index`) when the repository is published to object storage.
    #[arg(long, value_name = "DIR|URL")]
    pub index: String,
    /// Where to publish (default: `REPO/store.json`, else the repository directory).
    #[command(flatten)]
    pub store: store::StoreArgs,
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
    /// Make each target copy a hard link to its index file instead of a second copy of
    /// its bytes. Only if the registry replaces index files by rename, never rewriting one
    /// in place (docs/repository.md, "Linked copies"); both on one file system.
    #[arg(long, conflicts_with = "no_copies")]
    pub link_copies: bool,
    /// Print the result as one JSON object on stdout (schema in docs/operator.md).
    #[arg(long)]
    pub json: bool,
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
    /// Where the repository is published (default: `REPO/store.json`, else its directory).
    #[command(flatten)]
    pub store: store::StoreArgs,
    /// Print the result as one JSON object on stdout (schema in docs/operator.md).
    #[arg(long)]
    pub json: bool,
}

/// Run `tuf publish`.
pub fn run_publish(args: &PublishArgs, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    let policy = repo.policy()?;
    let now = Utc::now();
    let target = store::resolve(&args.store, repo.dir())?;
    let index = match &target {
        Some(target) => Some(store::index(&args.index, target.s3_endpoint.as_deref())?),
        None => None,
    };
    if target.is_some() && args.link_copies {
        return Err(usage(
            "--link-copies: a repository on object storage has no hard links; copies are \
             made server-side when the index is in the same bucket",
        ));
    }
    if target.is_none() && !Path::new(&args.index).is_dir() {
        return Err(usage(format!(
            "--index {}: not a directory; give the registry's sparse index directory (an \
             index on object storage needs the repository there too: `tuf store set`)",
            args.index
        )));
    }
    // A rerun after a publish that wrote the new root but stopped before removing the
    // staged copy goes on as if that publish had finished.
    root::forget_if_published(&repo, ui)?;
    refuse_unsigned_staged(&repo, now)?;
    let online = load_online(&args.online_key, &args.passphrase)?;
    // With nothing staged, the published root is read here (counting up from
    // 1.root.json, never listing `metadata/`, which holds every bin) for the checks and
    // messages below; the engine reads and verifies it again (a ~1 KB file).
    let root_staged = repo.staged(RoleType::Root).exists();
    let trusted = if root_staged {
        None
    } else {
        repo.trusted_root()?
    };
    // Before anything is committed: after an online key rotation the key must be the new
    // one, or the new root would be published with nothing signed under it. With nothing
    // staged there is nothing to commit, and the engine refuses a key that may not sign
    // before it signs anything (`tuf_core::repo::check_signers`); the check then runs only
    // to explain such a refusal (below), so the hook path does not list `metadata/` and
    // parse the targets once more than the engine does.
    let anything_staged = root_staged || repo.staged(RoleType::Targets).exists();
    if anything_staged {
        check_online_in_force(&repo, trusted.as_ref(), &args.online_key, &online)?;
    }

    // A staged root is checked now, as `tuf root commit` checks it (the targets answers
    // to it), but written by the publish, in its last batch just before `timestamp.json`:
    // a client looks for N+1.root.json first (TUF §5.3), and must not find it before a
    // timestamp signed under it. If the publish fails, it stays staged for a rerun.
    let new_root = if root_staged {
        Some(root::check_staged(&repo, true, now, ui)?)
    } else {
        None
    };
    // The online key was checked against the root in force above (staged or published).
    if trusted.is_none() && new_root.is_none() {
        return Err(err(
            Code::Threshold,
            format!(
                "no root is published in {}: sign the staged root and run `tuf root commit` \
                 (or `tuf publish`) once its threshold is met",
                repo.metadata_dir().display()
            ),
        ));
    }
    commit_staged_targets(&repo, now, ui)?;

    let mut options = PublishOptions::new(now);
    options.expiry = expiries(&policy)?;
    options.target_copies = !args.no_copies;
    options.link_copies = args.link_copies;
    options.progress = ui.progress();
    options.new_root = match &new_root {
        Some(checked) => Some(NewRoot::parse(checked.bytes.clone(), &options.limits)?),
        None => None,
    };
    let changes = if args.changed.is_empty() {
        Changes::Scan
    } else {
        Changes::Paths(args.changed.clone())
    };
    options.pause_after_uploads = test_pause()?;
    let published = match (&target, index) {
        (Some(target), Some(index)) => {
            let remote = RemoteRepository::new(repo.dir(), store::open(target)?, index);
            ui.detail(format!(
                "publishing to {} (from {})",
                target.url, target.from
            ));
            remote::publish(&remote, &online, &changes, &options)
        }
        _ => publish::publish(
            &Repository::new(&args.index, repo.dir()),
            &online,
            &changes,
            &options,
        ),
    };
    let where_to = target
        .as_ref()
        .map_or_else(|| repo.dir().display().to_string(), |t| t.url.to_string());
    let report = match published {
        Ok(report) => report,
        Err(e) => {
            if !anything_staged {
                // Name the key and the one expected (exit 5) if that is why it failed.
                check_online_in_force(&repo, trusted.as_ref(), &args.online_key, &online)?;
            }
            let kept = match &new_root {
                Some(checked) if !repo.metadata_dir().join(checked.file_name()).exists() => {
                    format!(
                        " (root v{} was not published and stays staged: rerun `tuf publish`)",
                        checked.version
                    )
                }
                _ => String::new(),
            };
            return Err(anyhow::Error::from(e))
                .with_context(|| format!("while publishing {where_to}{kept}"));
        }
    };
    if let Some(checked) = &new_root {
        root::staged_published(&repo, checked, ui)?;
    }
    summary::print(repo.dir(), &report, None, args.json, ui)
}

/// Run `tuf refresh`.
pub fn run_refresh(args: &RefreshArgs, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    let policy = repo.policy()?;
    let window = parse_duration(&args.within).map_err(|e| usage(format!("--within: {e:#}")))?;
    let target = store::resolve(&args.store, repo.dir())?;
    if target.is_none() && !repo.metadata_dir().join("timestamp.json").exists() {
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
    options.progress = ui.progress();
    // Refresh never reads the index.
    let report = match &target {
        Some(target) => {
            let remote = RemoteRepository::new(
                repo.dir(),
                store::open(target)?,
                Index::Local(PathBuf::new()),
            );
            remote::refresh(&remote, &online, window, &options)
                .with_context(|| format!("while refreshing {}", target.url))?
        }
        None => publish::refresh(
            &Repository::new(PathBuf::new(), repo.dir()),
            &online,
            window,
            &options,
        )
        .with_context(|| format!("while refreshing {}", repo.dir().display()))?,
    };
    summary::print(repo.dir(), &report, Some(&args.within), args.json, ui)
}

/// Refuse (exit 3) while a staged root or targets lacks signatures, naming the keys.
fn refuse_unsigned_staged(repo: &Repo, now: chrono::DateTime<Utc>) -> anyhow::Result<()> {
    // Only staged roles can be refused here. With nothing staged (every publish but the
    // one after a ceremony) skip the status report: it also verifies the whole published
    // chain, every bin included, which would make each publish O(bins).
    if !repo.staged(RoleType::Root).exists() && !repo.staged(RoleType::Targets).exists() {
        return Ok(());
    }
    // Only thresholds matter here, so no expiry window.
    let no_window = status::Windows::Uniform {
        window: TimeDelta::zero(),
        written: "0s".to_owned(),
    };
    let report = status::build(repo, now, &no_window)?;
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
    let bytes = files::read(&staged_path)?;
    let staged = metadata_file::parse(&bytes, Some(RoleType::Targets))
        .with_context(|| format!("in {}", staged_path.display()))?;
    let targets = metadata_file::typed_targets(&staged, &staged_path)?;
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
    if let Err(e) = tuf_core::trusted::check_expiry("targets", &targets, now) {
        return Err(err(Code::Failure, format!("staged {e}; re-stage it")));
    }
    let published = repo
        .metadata_dir()
        .join(versioned_file_name(version, "targets"));
    // Before the first publish `metadata/` does not exist yet (the root is written later).
    files::create_dir(&repo.metadata_dir())?;
    files::write_atomic(&published, &bytes, Access::Public, Existing::Refuse)?;
    files::remove(&staged_path)?;
    ui.info(format!(
        "committed staged targets v{version} as {}",
        published.display()
    ));
    follow_bins_in_policy(repo, &targets, ui)
}

/// After `tuf targets rebin`: the committed targets' hashed bins become `policy.json`'s,
/// so the policy describes the repository as published.
fn follow_bins_in_policy(
    repo: &Repo,
    targets: &tuf_core::metadata::Targets,
    ui: &Ui,
) -> anyhow::Result<()> {
    let Some(bins) = targets
        .delegations
        .as_ref()
        .and_then(|d| d.hashed_bins().ok())
    else {
        return Ok(());
    };
    let mut policy = repo.policy()?;
    if policy.bins.bit_length == bins.bit_length && policy.bins.name_prefix == bins.name_prefix {
        return Ok(());
    }
    policy.bins.bit_length = bins.bit_length;
    policy.bins.name_prefix.clone_from(&bins.name_prefix);
    files::write_atomic(
        &repo.policy_path(),
        &policy.to_file_bytes()?,
        Access::Public,
        Existing::Replace,
    )?;
    ui.info(format!(
        "{}: bins are now {} ({}-*), as the committed targets delegates",
        repo.policy_path().display(),
        bins.bin_count(),
        bins.name_prefix
    ));
    Ok(())
}

/// Refuse (exit 5) an online key that cannot sign what the next publish signs: it must be
/// a timestamp key of the root in force once the staged root (if any) is committed, and
/// a bin key of the targets in force once the staged targets (if any) is committed.
///
/// `published` is the newest published root, loaded by the caller; it is only consulted
/// when no root is staged.
fn check_online_in_force(
    repo: &Repo,
    published: Option<&layout::Published<tuf_core::metadata::Root>>,
    path: &Path,
    online: &OnlineKeys,
) -> anyhow::Result<()> {
    let staged_root = repo.staged(RoleType::Root);
    if staged_root.exists() {
        let staged = metadata_file::load(&staged_root, Some(RoleType::Root))?;
        let root = metadata_file::typed_root(&staged, &staged_root)?;
        check_online_key(repo, path, online, &root, "staged")?;
    } else if let Some(trusted) = published {
        check_online_key(repo, path, online, &trusted.role, "published")?;
    }
    let staged_targets = repo.staged(RoleType::Targets);
    let targets = if staged_targets.exists() {
        Some((
            staged_targets.clone(),
            metadata_file::load(&staged_targets, Some(RoleType::Targets))?,
        ))
    } else {
        targets::published_targets_meta(repo)?
    };
    let Some((targets_path, targets)) = targets else {
        return Ok(());
    };
    let allowed = targets::bin_keyids(&targets, &targets_path)?;
    for key in &online.bins {
        if !allowed.contains(key.key_id()) {
            return Err(err(
                Code::KeyRefused,
                format!(
                    "{} holds key {}, which is not the bins' key in {} (expected {}): after \
                     an online key rotation, stage targets with the new bin key (`tuf \
                     targets stage {} --bin-key NEW.pub.json`) and have it signed. Nothing \
                     was signed",
                    path.display(),
                    key.key_id(),
                    targets_path.display(),
                    allowed
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    repo.dir().display()
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn newest_published(dir: &Path, role: &str) -> anyhow::Result<Option<u64>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    let mut newest = None;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name();
        if let Some((v, _)) = name
            .to_str()
            .and_then(parse_versioned_file_name)
            .filter(|(_, r)| *r == role)
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
    check_online_key(repo, path, online, &trusted.role, "published")
}

/// Refuse (exit 5) a key that is not a timestamp key of `root`.
fn check_online_key(
    repo: &Repo,
    path: &Path,
    online: &OnlineKeys,
    root: &tuf_core::metadata::Root,
    which: &str,
) -> anyhow::Result<()> {
    let allowed = root
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
                    "{} holds key {}, which is not the online (timestamp) key of {which} \
                     root v{}: expected {}. Nothing was signed",
                    path.display(),
                    key.key_id(),
                    root.version,
                    expected.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// `TUF_TEST_PAUSE_AFTER_UPLOADS=N:MILLISECONDS`: a test's way to stop a publish to
/// object storage after N uploads (to kill it there); see
/// `PublishOptions::pause_after_uploads`.
fn test_pause() -> anyhow::Result<Option<(usize, std::time::Duration)>> {
    let Ok(value) = std::env::var("TUF_TEST_PAUSE_AFTER_UPLOADS") else {
        return Ok(None);
    };
    let parsed = value.split_once(':').and_then(|(n, ms)| {
        Some((
            n.parse::<usize>().ok()?,
            std::time::Duration::from_millis(ms.parse().ok()?),
        ))
    });
    parsed.map(Some).ok_or_else(|| {
        usage(format!(
            "TUF_TEST_PAUSE_AFTER_UPLOADS={value}: expected N:MS"
        ))
    })
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
