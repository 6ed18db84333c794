//! `tuf targets stage` and `tuf targets rebin`: stage top-level targets N+1 from the
//! published targets N, for the targets key holders to sign (`tuf sign`) and `tuf publish`
//! to commit.
//!
//! * `stage` re-stages the targets as it is (new version and expiry), optionally with a new
//!   online key for the hashed bins (`--bin-key`): after a root rotation that replaced the
//!   targets keys (the published targets no longer meets the new root's threshold and must
//!   be signed by the new keys), after an online key rotation, or to renew its expiry.
//!   `tuf root rotate` calls it itself when it changes the targets or online keys.
//! * `rebin` stages the targets with another number of hashed bins (TAP 15 `bit_length`,
//!   and optionally another `name_prefix`). `policy.json` follows when the targets is
//!   committed; the publish that commits it signs every bin of the new layout.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::Utc;
use tuf_core::crypto::PublicKey;
use tuf_core::metadata::{
    sign_role, versioned_file_name, Expires, KeyId, RoleType, SignedMetadata, SuccinctRoles,
    Targets, Threshold,
};
use tuf_core::Limits;

use crate::cmd::init::read_keys;
use crate::duration::parse_expiry;
use crate::exit::{usage, Code};
use crate::files::{self, Existing};
use crate::layout::{Keyholders, Repo};
use crate::ui::Ui;
use crate::{metadata_file, review};

/// Arguments of `tuf targets stage`.
#[derive(Debug, clap::Args)]
pub struct StageArgs {
    /// Repository directory.
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
    /// Delegate the hashed bins to this online key instead (after an online key rotation:
    /// the same key as `tuf root rotate --online-key`).
    #[arg(long, value_name = "PUB.json")]
    pub bin_key: Option<PathBuf>,
    #[command(flatten)]
    pub staging: StagingArgs,
}

/// Arguments of `tuf targets rebin`.
#[derive(Debug, clap::Args)]
pub struct RebinArgs {
    /// Repository directory.
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
    /// New number of hash bits choosing a bin: 2^N bins.
    #[arg(long, value_name = "N")]
    pub bit_length: u8,
    /// New bin name prefix [default: the current one].
    #[arg(long, value_name = "PREFIX")]
    pub bin_prefix: Option<String>,
    #[command(flatten)]
    pub staging: StagingArgs,
}

/// The options of `tuf targets stage` and `tuf targets rebin` for the targets N+1 they
/// stage: its expiry, and whether it replaces a targets already staged.
#[derive(Debug, clap::Args)]
pub struct StagingArgs {
    /// Expiry of the new targets: a duration (365d) or an RFC 3339 time [default: policy].
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Discard a targets already staged (and its signatures) and stage a new one.
    #[arg(long)]
    pub replace: bool,
}

impl StagingArgs {
    /// [`prepare`] targets N+1 with `change`, as these options say.
    fn prepare(&self, repo: &Repo, change: &TargetsChange) -> anyhow::Result<Prepared> {
        prepare(repo, change, self.expires.as_deref(), self.replace)
    }
}

/// What to change in the targets being staged, besides version and expiry.
#[derive(Debug, Clone, Default)]
pub struct TargetsChange {
    /// A new online key for the hashed bins (replacing all bin keys, threshold 1).
    pub bin_key: Option<(KeyId, PublicKey)>,
    /// A new bin layout: `bit_length` and `name_prefix`.
    pub layout: Option<(u8, String)>,
}

/// A targets ready to be written to `staged/targets.json`.
#[derive(Debug)]
pub struct Prepared {
    meta: SignedMetadata,
    version: u64,
    summary: Vec<String>,
}

/// Run `tuf targets stage`.
pub fn run_stage(args: &StageArgs, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    let mut names = repo.keyholders()?;
    let mut change = TargetsChange::default();
    if let Some(path) = &args.bin_key {
        change.bin_key = read_keys("--bin-key", std::slice::from_ref(path), &mut names)?.pop();
    }
    let prepared = args.staging.prepare(&repo, &change)?;
    repo.save_keyholders(&names)?;
    write(&repo, &prepared, &names, ui)?;
    Ok(Code::Ok)
}

/// Run `tuf targets rebin`.
pub fn run_rebin(args: &RebinArgs, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    let names = repo.keyholders()?;
    let max_bits = Limits::default().max_succinct_bit_length;
    if !(1..=max_bits).contains(&args.bit_length) {
        return Err(usage(format!(
            "--bit-length {}: it must be 1..={max_bits} (2 to 2^{max_bits} bins)",
            args.bit_length
        )));
    }
    let current = published_targets(&repo)?
        .and_then(|(_, t)| t.delegations.and_then(|d| d.hashed_bins().ok()))
        .ok_or_else(|| {
            usage(format!(
                "{} has no published targets delegating to hashed bins to re-bin; publish \
                 first",
                repo.dir().display()
            ))
        })?;
    let prefix = args
        .bin_prefix
        .clone()
        .unwrap_or_else(|| current.name_prefix.clone());
    if prefix.is_empty() {
        return Err(usage("--bin-prefix is empty"));
    }
    if current.bit_length == args.bit_length && current.name_prefix == prefix {
        return Err(usage(format!(
            "the published targets already has {} bins named {prefix}-*: nothing to change",
            current.bin_count()
        )));
    }
    let change = TargetsChange {
        bin_key: None,
        layout: Some((args.bit_length, prefix)),
    };
    let prepared = args.staging.prepare(&repo, &change)?;
    write(&repo, &prepared, &names, ui)?;
    ui.info(
        "policy.json takes the new bins when `tuf publish` commits this targets; that \
         publish signs every bin of the new layout",
    );
    Ok(Code::Ok)
}

/// Build targets N+1 from the newest published targets N (or, before the first publish,
/// from the staged targets, keeping its version), with `change`, expiring at `expires` (or
/// after the policy's period). Refuses when a targets is staged already, unless `replace`.
/// Nothing is written.
pub fn prepare(
    repo: &Repo,
    change: &TargetsChange,
    expires: Option<&str>,
    replace: bool,
) -> anyhow::Result<Prepared> {
    let policy = repo.policy()?;
    let staged_path = repo.staged(RoleType::Targets);
    let published = published_targets(repo)?;
    if staged_path.exists() && !replace {
        // Before the first publish, an unsigned staged targets (v1 from `tuf init`) is
        // only the starting point: re-staging it loses nothing.
        let unsigned_first = published.is_none()
            && metadata_file::load(&staged_path, Some(RoleType::Targets))?
                .signatures()
                .is_empty();
        if !unsigned_first {
            return Err(usage(format!(
                "a targets is already staged at {}: sign and publish it, or pass --replace \
                 to discard it and its signatures",
                staged_path.display()
            )));
        }
    }
    let (mut targets, version) = match published {
        Some((version, targets)) => (targets, version.checked_add(1).context("version")?),
        None if staged_path.exists() => {
            let staged = metadata_file::load(&staged_path, Some(RoleType::Targets))?;
            let targets = metadata_file::typed_targets(&staged, &staged_path)?;
            let version = targets.version.get();
            (targets, version)
        }
        None => {
            return Err(usage(format!(
                "{} has no targets, published or staged; run `tuf init`",
                repo.dir().display()
            )))
        }
    };
    let now = Utc::now();
    let expires_text = expires.unwrap_or(&policy.expiry.targets);
    targets.version = tuf_core::metadata::Version::new(version)?;
    targets.expires =
        Expires::from_time(parse_expiry(expires_text, now).map_err(|e| usage(format!("{e:#}")))?);
    let mut summary = Vec::new();
    let delegations = targets
        .delegations
        .as_mut()
        .context("the targets delegates nothing; this repository layout needs hashed bins")?;
    let bins = delegations
        .succinct_roles
        .as_mut()
        .context("the targets does not delegate to succinct hashed bins")?;
    if let Some((id, key)) = &change.bin_key {
        let old: BTreeSet<KeyId> = bins.keyids.iter().cloned().collect();
        if old.len() == 1 && old.contains(id) {
            summary.push(format!("bins keep key {id}"));
        } else {
            summary.push(format!("bins: key {id} replaces the old bin key(s)"));
        }
        bins.keyids = vec![id.clone()];
        bins.threshold = Threshold::new(1)?;
        // Keys nothing delegates to any more are dropped.
        let used: BTreeSet<KeyId> = delegations
            .roles
            .iter()
            .flatten()
            .flat_map(|r| r.keyids.iter().cloned())
            .chain(std::iter::once(id.clone()))
            .collect();
        delegations.keys.retain(|k, _| used.contains(k));
        delegations.keys.insert(id.clone(), key.clone());
    }
    if let Some((bit_length, prefix)) = &change.layout {
        let before = bins.bin_count();
        let rebinned = SuccinctRoles {
            bit_length: *bit_length,
            name_prefix: prefix.clone(),
            ..bins.clone()
        };
        summary.push(format!(
            "bins: {before} -> {} ({}-* -> {}-*)",
            rebinned.bin_count(),
            bins.name_prefix,
            prefix
        ));
        *bins = rebinned;
    }
    let meta = SignedMetadata::parse(
        &sign_role(&targets, &[])?,
        RoleType::Targets,
        &Limits::default(),
    )?;
    Ok(Prepared {
        meta,
        version,
        summary,
    })
}

/// Write a prepared targets to `staged/targets.json` and describe it.
pub fn write(repo: &Repo, prepared: &Prepared, names: &Keyholders, ui: &Ui) -> anyhow::Result<()> {
    let path = repo.staged(RoleType::Targets);
    files::create_dir(&repo.staged_dir())?;
    metadata_file::write(&path, &prepared.meta, Existing::Replace)?;
    if !ui.is_quiet() {
        tuf_fs::out!("{}", review::describe(&prepared.meta, &path, None, names)?)?;
    }
    for line in &prepared.summary {
        ui.info(format!("  {line}"));
    }
    ui.info(format!(
        "staged targets v{} at {}; the targets key holders sign it with `tuf sign --role \
         targets` (it counts against the staged root if one is staged, else the published \
         root), then `tuf publish` commits it",
        prepared.version,
        path.display()
    ));
    Ok(())
}

/// The newest published `metadata/N.targets.json`, with N.
pub fn published_targets(repo: &Repo) -> anyhow::Result<Option<(u64, Targets)>> {
    let Some((path, meta)) = published_targets_meta(repo)? else {
        return Ok(None);
    };
    let targets = metadata_file::typed_targets(&meta, &path)?;
    Ok(Some((targets.version.get(), targets)))
}

/// The newest published `metadata/N.targets.json`: its path and envelope.
pub fn published_targets_meta(repo: &Repo) -> anyhow::Result<Option<(PathBuf, SignedMetadata)>> {
    let dir = repo.metadata_dir();
    let Some(version) = crate::cmd::publish::newest_published(&dir, "targets")? else {
        return Ok(None);
    };
    let path = dir.join(versioned_file_name(version, "targets"));
    let meta = metadata_file::load(&path, Some(RoleType::Targets))?;
    Ok(Some((path, meta)))
}

/// What a staged targets changes in the hashed-bin delegation from the published one, one
/// line each (for `tuf status`): the number of bins or their prefix, and the bin keys.
pub fn delegation_changes(
    published: &Targets,
    staged: &Targets,
    names: &Keyholders,
) -> Vec<String> {
    let bins = |t: &Targets| t.delegations.as_ref().and_then(|d| d.hashed_bins().ok());
    let (Some(old), Some(new)) = (bins(published), bins(staged)) else {
        return Vec::new();
    };
    let holder = |id: &KeyId| match names.get(id) {
        Some(name) => format!("{id} ({name})"),
        None => id.to_string(),
    };
    let mut changes = Vec::new();
    if (old.bit_length, &old.name_prefix) != (new.bit_length, &new.name_prefix) {
        changes.push(format!(
            "changes from published targets v{}: bins {} {}-* -> {} {}-*",
            published.version,
            old.bin_count(),
            old.name_prefix,
            new.bin_count(),
            new.name_prefix
        ));
    }
    let was: BTreeSet<&KeyId> = old.keyids.iter().collect();
    let now: BTreeSet<&KeyId> = new.keyids.iter().collect();
    for added in now.difference(&was) {
        changes.push(format!(
            "changes from published targets v{}: bin key + {}",
            published.version,
            holder(added)
        ));
    }
    for removed in was.difference(&now) {
        changes.push(format!(
            "changes from published targets v{}: bin key - {}",
            published.version,
            holder(removed)
        ));
    }
    changes
}

/// The bin keys of the targets `path` holds.
pub fn bin_keyids(meta: &SignedMetadata, path: &Path) -> anyhow::Result<Vec<KeyId>> {
    Ok(metadata_file::typed_targets(meta, path)?
        .delegations
        .and_then(|d| d.hashed_bins().ok())
        .map(|b| b.keyids)
        .unwrap_or_default())
}
