//! `tuf init`: stage root version 1 and top-level targets version 1 of a new repository
//! and write its policy. Nothing is signed here; key holders sign with `tuf sign`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::Utc;
use tuf_core::crypto::PublicKey;
use tuf_core::metadata::{
    sign_role, Delegations, Expires, KeyId, RoleKeys, RoleType, Root, SignedMetadata,
    SuccinctRoles, Targets, Threshold, Version,
};
use tuf_core::repo::BinStyle;
use tuf_core::Limits;

use crate::duration::{format_duration, parse_duration, parse_expiry};
use crate::exit::{usage, Code};
use crate::files::{self, Access, Existing};
use crate::keys::{holder_name, read_public_key};
use crate::layout::{Keyholders, Policy, Repo};
use crate::ui::Ui;
use crate::{metadata_file, review};

/// Arguments of `tuf init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Repository directory (created if missing; refused if already initialised).
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
    /// A root key holder's public key (repeat for each holder).
    #[arg(long = "root-key", value_name = "PUB.json", required = true)]
    pub root_keys: Vec<PathBuf>,
    /// Root signatures needed (use 2 or more in real use).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub root_threshold: u64,
    /// A targets key holder's public key (repeat for each holder).
    #[arg(long = "targets-key", value_name = "PUB.json", required = true)]
    pub targets_keys: Vec<PathBuf>,
    /// Targets signatures needed.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub targets_threshold: u64,
    /// The online key's public key: signs timestamp, snapshot and the hashed bins.
    #[arg(long, value_name = "PUB.json")]
    pub online_key: PathBuf,
    /// Root expiry: a duration (365d) or an RFC 3339 time [default: policy, 365d].
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Targets expiry: a duration or an RFC 3339 time [default: policy, 365d].
    #[arg(long, value_name = "WHEN")]
    pub targets_expires: Option<String>,
    /// Number of hash bits choosing a bin: 2^N bins.
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub bit_length: u8,
    /// Bin role names are PREFIX-<hex>.
    #[arg(long, value_name = "PREFIX", default_value = "crates-bin")]
    pub bin_prefix: String,
    /// How targets delegates to the bins: succinct (TAP 15; this project's client,
    /// python-tuf) or hash-prefixes (one classic role per bin with path_hash_prefixes, for
    /// clients without TAP 15 such as tough; a larger targets.json). Same bins either way.
    #[arg(long, value_name = "STYLE", default_value = "succinct")]
    pub bin_style: BinStyle,
    /// How long each bin signature lasts.
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub bins_expiry: String,
    /// How long each snapshot signature lasts.
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub snapshot_expiry: String,
    /// How long each timestamp signature lasts.
    #[arg(long, value_name = "DURATION", default_value = "1d")]
    pub timestamp_expiry: String,
}

/// Run `tuf init`.
pub fn run(args: &Args, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::at(&args.repo);
    if repo.policy_path().exists() {
        return Err(usage(format!(
            "{} is already a tuf repository ({} exists); use `tuf root rotate` to change \
             keys, or choose an empty directory",
            args.repo.display(),
            repo.policy_path().display()
        )));
    }
    let now = Utc::now();
    let mut names = Keyholders::new();
    let root_keys = read_keys("--root-key", &args.root_keys, &mut names)?;
    let targets_keys = read_keys("--targets-key", &args.targets_keys, &mut names)?;
    let online = read_keys(
        "--online-key",
        std::slice::from_ref(&args.online_key),
        &mut names,
    )?;
    for (online_id, _) in &online {
        if root_keys
            .iter()
            .chain(&targets_keys)
            .any(|(id, _)| id == online_id)
        {
            return Err(usage(format!(
                "the online key {online_id} is also a root or targets key; an online key \
                 sits on a server, so it must not hold offline authority. Generate a \
                 separate online key"
            )));
        }
    }
    let root_threshold = threshold("root", args.root_threshold, root_keys.len())?;
    let targets_threshold = threshold("targets", args.targets_threshold, targets_keys.len())?;
    if args.root_threshold < 2 {
        ui.warn("root threshold is 1: one lost or stolen key decides the repository's trust; use 2 or more in real use");
    }

    let mut policy = Policy::default();
    policy.bins.bit_length = args.bit_length;
    policy.bins.name_prefix.clone_from(&args.bin_prefix);
    policy.bins.style = args.bin_style;
    for (field, text) in [
        (&mut policy.expiry.bins, &args.bins_expiry),
        (&mut policy.expiry.snapshot, &args.snapshot_expiry),
        (&mut policy.expiry.timestamp, &args.timestamp_expiry),
    ] {
        *field = format_duration(parse_duration(text).map_err(|e| usage(format!("{e:#}")))?);
    }
    let root_expires = expiry(&args.expires, &mut policy.expiry.root, now)?;
    let targets_expires = expiry(&args.targets_expires, &mut policy.expiry.targets, now)?;
    policy.check().map_err(|e| usage(format!("{e:#}")))?;

    let one = Version::new(1)?;
    let mut all_keys = BTreeMap::new();
    let mut roles = BTreeMap::new();
    let online_one = Threshold::new(1)?;
    for (role, keys, threshold) in [
        ("root", &root_keys, root_threshold),
        ("targets", &targets_keys, targets_threshold),
        ("snapshot", &online, online_one),
        ("timestamp", &online, online_one),
    ] {
        let ids: Vec<KeyId> = keys.iter().map(|(id, _)| id.clone()).collect();
        for (id, key) in keys {
            all_keys.insert(id.clone(), key.clone());
        }
        roles.insert(role.to_owned(), RoleKeys::new(ids, threshold));
    }
    let root = Root::new(
        one,
        root_expires,
        all_keys,
        roles,
        policy.consistent_snapshot,
    );
    let targets = bins_targets(&policy, &online, one, targets_expires)?;

    files::create_dir(&repo.staged_dir())?;
    let limits = Limits::default();
    let root_meta = SignedMetadata::parse(&sign_role(&root, &[])?, RoleType::Root, &limits)?;
    let targets_meta =
        SignedMetadata::parse(&sign_role(&targets, &[])?, RoleType::Targets, &limits)?;
    let root_path = repo.staged(RoleType::Root);
    let targets_path = repo.staged(RoleType::Targets);
    metadata_file::write(&root_path, &root_meta, Existing::Replace)?;
    metadata_file::write(&targets_path, &targets_meta, Existing::Replace)?;
    repo.save_keyholders(&names)?;
    // A new repository publishes signed release feeds (docs/feeds.md).
    tuf_repo::feeds::set_enabled(&repo.dir().join("state"), true)?;
    // The policy is written last: its presence marks the repository as initialised.
    files::write_atomic(
        &repo.policy_path(),
        &policy.to_file_bytes()?,
        Access::Public,
        Existing::Refuse,
    )?;

    if !ui.is_quiet() {
        tuf_fs::out!(
            "{}",
            review::describe(&root_meta, &root_path, None, &names)?
        )?;
        tuf_fs::out!(
            "{}",
            review::describe(&targets_meta, &targets_path, None, &names)?
        )?;
    }
    ui.info(format!(
        "staged root v1 and targets v1 in {}; policy in {}",
        repo.staged_dir().display(),
        repo.policy_path().display()
    ));
    ui.info(format!(
        "next: {} root key holder(s) and {} targets key holder(s) sign with `tuf sign`; \
         `tuf status {}` shows who is missing",
        root_threshold,
        targets_threshold,
        args.repo.display()
    ));
    Ok(Code::Ok)
}

/// Top-level targets with no targets of its own, delegating every path to the hashed
/// bins of `policy` (in its bin style), signed by the online key(s).
pub fn bins_targets(
    policy: &Policy,
    online: &[(KeyId, PublicKey)],
    version: Version,
    expires: Expires,
) -> anyhow::Result<Targets> {
    let bins = SuccinctRoles::new(
        online.iter().map(|(id, _)| id.clone()).collect(),
        Threshold::new(1)?,
        policy.bins.bit_length,
        &policy.bins.name_prefix,
    );
    let (roles, succinct_roles) = match policy.bins.style {
        BinStyle::Succinct => (None, Some(bins)),
        BinStyle::HashPrefixes => (Some(bins.to_delegated_roles()?), None),
    };
    let mut targets = Targets::new(version, expires);
    targets.delegations = Some(Delegations {
        keys: online.iter().cloned().collect(),
        roles,
        succinct_roles,
        extra: BTreeMap::new(),
    });
    Ok(targets)
}

/// Read public keys given by `flag`, refusing one given twice; records holder names.
pub fn read_keys(
    flag: &str,
    paths: &[PathBuf],
    names: &mut Keyholders,
) -> anyhow::Result<Vec<(KeyId, PublicKey)>> {
    let mut seen = BTreeSet::new();
    let mut keys = Vec::new();
    for path in paths {
        let (id, key) =
            read_public_key(path).with_context(|| format!("{flag} {}", path.display()))?;
        if !seen.insert(id.clone()) {
            return Err(usage(format!(
                "{flag} {}: key {id} is given twice",
                path.display()
            )));
        }
        names.insert(id.clone(), holder_name(path));
        keys.push((id, key));
    }
    Ok(keys)
}

/// A threshold in `1..=keys`.
pub fn threshold(role: &str, n: u64, keys: usize) -> anyhow::Result<Threshold> {
    let count = u64::try_from(keys).unwrap_or(u64::MAX);
    if n == 0 || n > count {
        return Err(usage(format!(
            "{role} threshold {n} is impossible with {keys} key(s): it must be 1..={keys}"
        )));
    }
    Ok(Threshold::new(n)?)
}

/// The expiry from `given` (or the policy period), updating the policy period when a
/// duration was given.
fn expiry(
    given: &Option<String>,
    period: &mut String,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<Expires> {
    let text = given.clone().unwrap_or_else(|| period.clone());
    let time = parse_expiry(&text, now).map_err(|e| usage(format!("{e:#}")))?;
    if let Ok(delta) = parse_duration(&text) {
        *period = format_duration(delta);
    }
    Ok(Expires::from_time(time))
}
