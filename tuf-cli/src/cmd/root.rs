//! `tuf root rotate` stages root N+1 from the trusted root N; `tuf root commit` publishes
//! the staged root once it meets the thresholds of root N and of itself (TUF §5.3.4).

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use tuf_core::metadata::{
    sign_role, versioned_file_name, Expires, KeyId, RoleType, Root, SignedMetadata, Threshold,
    TIMESTAMP_FILE,
};
use tuf_core::trusted::{check_expiry, Mode, TrustedState};
use tuf_core::verify::Verified;
use tuf_core::Limits;
use tuf_repo::publish::Repository;
use tuf_repo::published::{check_next_root_version, root_chain};

use crate::cmd::init::{read_keys, threshold};
use crate::cmd::targets::{self, TargetsChange};
use crate::duration::parse_expiry;
use crate::exit::{err, usage, Code};
use crate::files::{self, Access, Existing};
use crate::keys::read_public_key;
use crate::layout::{Keyholders, Repo};
use crate::signers::Signers;
use crate::ui::Ui;
use crate::{metadata_file, review};

const TOP_LEVEL: [&str; 4] = ["root", "targets", "snapshot", "timestamp"];

/// Arguments of `tuf root rotate`.
#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// Repository directory.
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
    /// Add a key to a role: `root=dave.pub.json` (repeatable).
    #[arg(long = "add-key", value_name = "ROLE=PUB.json")]
    pub add_keys: Vec<String>,
    /// Remove a key from a role, by key id or public key file: `root=carol.pub.json`.
    #[arg(long = "remove-key", value_name = "ROLE=KEYID|PUB.json")]
    pub remove_keys: Vec<String>,
    /// Set a role's threshold: `root=3` (repeatable).
    #[arg(long = "threshold", value_name = "ROLE=N")]
    pub thresholds: Vec<String>,
    /// Expiry of the new root: a duration (365d) or an RFC 3339 time [default: policy].
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Replace the online key of timestamp and snapshot with this one (after a compromise,
    /// or routinely). The bins' key lives in targets: targets N+1 delegating the bins to
    /// this key is staged too, for the targets key holders to sign.
    #[arg(long, value_name = "PUB.json")]
    pub online_key: Option<PathBuf>,
    /// Discard a root already staged (and its signatures) and stage a new one; likewise a
    /// staged targets when this rotation stages one.
    #[arg(long)]
    pub replace: bool,
}

/// Arguments of `tuf root commit`.
#[derive(Debug, clap::Args)]
pub struct CommitArgs {
    /// Repository directory.
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
}

/// Run `tuf root rotate`.
pub fn run_rotate(args: &RotateArgs, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    let policy = repo.policy()?;
    let now = Utc::now();
    let chain = published_chain(&repo, now, Mode::Strict)?.ok_or_else(|| {
        usage(format!(
            "no root is published in {} yet: a rotation starts from the trusted root. \
             Sign and `tuf root commit` the staged root v1 first",
            repo.metadata_dir().display()
        ))
    })?;
    let staged_path = repo.staged(RoleType::Root);
    if staged_path.exists() && !args.replace {
        return Err(usage(format!(
            "a root is already staged at {}: sign and commit it, or pass --replace to \
             discard it and its signatures",
            staged_path.display()
        )));
    }
    let trusted: &Root = chain.root();
    let mut names = repo.keyholders()?;
    let mut root = trusted.clone();
    root.version = root.version.next()?;
    let expires_text = args.expires.as_deref().unwrap_or(&policy.expiry.root);
    root.expires =
        Expires::from_time(parse_expiry(expires_text, now).map_err(|e| usage(format!("{e:#}")))?);

    for spec in &args.add_keys {
        let (role, path) = role_and_value(spec, "--add-key")?;
        let keys = read_keys("--add-key", &[PathBuf::from(path)], &mut names)?;
        for (id, key) in keys {
            let role_keys = root.roles.get_mut(role).context("checked role name")?;
            if role_keys.keyids.contains(&id) {
                return Err(usage(format!(
                    "--add-key {spec}: key {id} is already a {role} key"
                )));
            }
            role_keys.keyids.push(id.clone());
            root.keys.insert(id, key);
        }
    }
    for spec in &args.remove_keys {
        let (role, value) = role_and_value(spec, "--remove-key")?;
        let id = match KeyId::parse(value) {
            Ok(id) => id,
            Err(_) => {
                read_public_key(std::path::Path::new(value))
                    .with_context(|| format!("--remove-key {spec}"))?
                    .0
            }
        };
        let role_keys = root.roles.get_mut(role).context("checked role name")?;
        let before = role_keys.keyids.len();
        role_keys.keyids.retain(|k| *k != id);
        if role_keys.keyids.len() == before {
            return Err(usage(format!(
                "--remove-key {spec}: key {id} is not a {role} key"
            )));
        }
    }
    let mut targets_change = None;
    if let Some(path) = &args.online_key {
        let (id, key) = read_keys("--online-key", std::slice::from_ref(path), &mut names)?
            .pop()
            .context("one key read")?;
        // The bins' key is named in targets, not root: stage targets N+1 delegating the
        // bins to the new key too, so the key holders sign both in one ceremony and
        // `tuf publish` commits both together.
        targets_change = Some(TargetsChange {
            bin_key: Some((id.clone(), key.clone())),
            layout: None,
        });
        for role in ["snapshot", "timestamp"] {
            let role_keys = root
                .roles
                .get_mut(role)
                .context("parsed root has every role")?;
            role_keys.keyids = vec![id.clone()];
            role_keys.threshold = Threshold::new(1)?;
        }
        root.keys.insert(id, key);
    }
    for spec in &args.thresholds {
        let (role, value) = role_and_value(spec, "--threshold")?;
        let n: u64 = value
            .parse()
            .map_err(|_| usage(format!("--threshold {spec}: {value:?} is not a number")))?;
        let role_keys = root.roles.get_mut(role).context("checked role name")?;
        role_keys.threshold = threshold(role, n, distinct(&role_keys.keyids))?;
    }
    for role in TOP_LEVEL {
        let role_keys = root.roles.get(role).context("parsed root has every role")?;
        threshold(role, role_keys.threshold.get(), distinct(&role_keys.keyids))?;
    }
    let offline: BTreeSet<&KeyId> = ["root", "targets"]
        .iter()
        .filter_map(|r| root.roles.get(*r))
        .flat_map(|r| r.keyids.iter())
        .collect();
    for role in ["snapshot", "timestamp"] {
        let role_keys = root.roles.get(role).context("parsed root has every role")?;
        if let Some(id) = role_keys.keyids.iter().find(|id| offline.contains(id)) {
            return Err(usage(format!(
                "key {id} would be both an online ({role}) key and a root or targets key; \
                 keep offline keys off servers"
            )));
        }
    }
    // Keys no role uses any more are dropped from `keys`.
    let used: BTreeSet<KeyId> = root
        .roles
        .values()
        .flat_map(|r| r.keyids.iter().cloned())
        .collect();
    root.keys.retain(|id, _| used.contains(id));

    // New targets keys cannot verify the published targets (TUF §5.6.3 checks targets
    // against the newest root): stage it again, unchanged, for the new keys to sign,
    // unless a targets is staged already (it is counted against this root).
    let staged_targets = repo.staged(RoleType::Targets);
    let targets_keys_changed = root.roles.get("targets") != trusted.roles.get("targets");
    let keep_staged_targets = targets_change.is_none()
        && targets_keys_changed
        && staged_targets.exists()
        && !args.replace;
    if targets_change.is_none() && targets_keys_changed && !keep_staged_targets {
        targets_change = Some(TargetsChange::default());
    }
    let prepared_targets = match &targets_change {
        Some(change) => Some(targets::prepare(&repo, change, None, args.replace)?),
        None => None,
    };

    let staged =
        SignedMetadata::parse(&sign_role(&root, &[])?, RoleType::Root, &Limits::default())?;
    files::create_dir(&repo.staged_dir())?;
    metadata_file::write(&staged_path, &staged, Existing::Replace)?;
    repo.save_keyholders(&names)?;
    if !ui.is_quiet() {
        tuf_fs::out!(
            "{}",
            review::describe(&staged, &staged_path, Some(trusted), &names)?
        )?;
    }
    ui.info(format!(
        "staged root v{} at {}; it needs {} signature(s) from root v{}'s keys and {} from its own",
        root.version,
        staged_path.display(),
        trusted
            .role_keys(RoleType::Root)
            .map_or(0, |r| r.threshold.get()),
        trusted.version,
        root.role_keys(RoleType::Root)
            .map_or(0, |r| r.threshold.get()),
    ));
    if keep_staged_targets {
        ui.info(format!(
            "the targets keys change: the targets already staged at {} is counted against \
             root v{}'s targets keys from now on (`tuf status` shows who must sign it)",
            staged_targets.display(),
            root.version
        ));
    }
    if let Some(prepared) = &prepared_targets {
        targets::write(&repo, prepared, &names, ui)?;
        ui.info(
            "publish both with `tuf publish` once both are signed: it commits them together \
             and re-signs the online roles",
        );
    }
    Ok(Code::Ok)
}

/// Run `tuf root commit`: publish the staged root on its own, now.
pub fn run_commit(args: &CommitArgs, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    if forget_if_published(&repo, ui)? {
        return Ok(Code::Ok);
    }
    let checked = check_staged(&repo, false, Utc::now(), ui)?;
    files::create_dir(&repo.metadata_dir())?;
    let published = repo.metadata_dir().join(checked.file_name());
    files::write_atomic(&published, &checked.bytes, Access::Public, Existing::Refuse)?;
    staged_published(&repo, &checked, ui)?;
    Ok(Code::Ok)
}

/// A staged root that passed every check of [`check_staged`]: the next root, signed by
/// enough keys, consistent with the policy and the published targets.
#[derive(Debug, Clone)]
pub struct CheckedRoot {
    /// Its version.
    pub version: u64,
    /// The file to publish as `metadata/N.root.json`: the staged root as its key holders
    /// signed it.
    pub bytes: Vec<u8>,
    /// The version of the published root it follows, `None` for version 1.
    pub follows: Option<u64>,
}

impl CheckedRoot {
    /// `N.root.json`.
    pub fn file_name(&self) -> String {
        versioned_file_name(self.version, "root")
    }
}

/// If the staged root is already published byte for byte (a publish that wrote it was
/// stopped before it removed the staged copy), remove the staged copy and say so; returns
/// whether it did. A rerun then goes on as if the earlier run had finished.
pub fn forget_if_published(repo: &Repo, ui: &Ui) -> anyhow::Result<bool> {
    let staged_path = repo.staged(RoleType::Root);
    if !staged_path.exists() {
        return Ok(false);
    }
    let staged = metadata_file::load(&staged_path, Some(RoleType::Root))?;
    let root = metadata_file::typed_root(&staged, &staged_path)?;
    let published_path = repo
        .metadata_dir()
        .join(versioned_file_name(root.version.get(), "root"));
    if !published_path.exists() {
        return Ok(false);
    }
    if files::read(&published_path)? != metadata_file::file_bytes(&staged, &published_path)? {
        return Ok(false);
    }
    files::remove(&staged_path)?;
    ui.info(format!(
        "the staged root v{} is already published as {}; removed the staged copy",
        root.version,
        published_path.display()
    ));
    Ok(true)
}

/// After the checked root was published: remove the staged copy and tell the operator.
pub fn staged_published(repo: &Repo, checked: &CheckedRoot, ui: &Ui) -> anyhow::Result<()> {
    files::remove(&repo.staged(RoleType::Root))?;
    ui.info(format!(
        "published root v{} as {}",
        checked.version,
        repo.metadata_dir().join(checked.file_name()).display()
    ));
    if let Some(old) = checked.follows {
        ui.info(format!(
            "clients that trust root v{old} move to it on their next update"
        ));
    }
    Ok(())
}

/// Check the staged root of `repo` as `tuf root commit` does before publishing it, at the
/// command's `now`, writing nothing; `publishing` when `tuf publish` publishes it with the
/// online roles signed under it (then no warning about the online roles lagging behind).
pub fn check_staged(
    repo: &Repo,
    publishing: bool,
    now: DateTime<Utc>,
    ui: &Ui,
) -> anyhow::Result<CheckedRoot> {
    let policy = repo.policy()?;
    let staged_path = repo.staged(RoleType::Root);
    if !staged_path.exists() {
        return Err(usage(format!(
            "no root is staged at {}; stage one with `tuf root rotate`",
            staged_path.display()
        )));
    }
    let staged = metadata_file::load(&staged_path, Some(RoleType::Root))?;
    // Read for the messages below; trusted only once the client's steps accept it.
    let unverified = metadata_file::typed_root(&staged, &staged_path)?;
    let mut chain = published_chain(repo, now, Mode::Strict)?;
    let trusted: Option<Verified<Root>> = chain.as_ref().map(|c| c.root().clone());
    let names = repo.keyholders()?;
    let published = repo
        .metadata_dir()
        .join(versioned_file_name(unverified.version.get(), "root"));
    let bytes = metadata_file::file_bytes(&staged, &published)?;
    let newest = trusted.as_ref().map(|t| t.version.get());
    if let Err(e) = check_next_root_version(newest, unverified.version.get()) {
        return Err(err(
            Code::Failure,
            format!(
                "staged root is v{} but the next root must be v{} ({e}): a client walks root \
                 versions one at a time. Re-stage it with `tuf root rotate --replace`",
                unverified.version,
                newest.map_or(1, |v| v.saturating_add(1)),
            ),
        ));
    }
    // TUF §5.2 for a first root, §5.3.4 and §5.3.5 after the newest: the client's steps.
    let verified = match &mut chain {
        Some(chain) => chain.update_root(&bytes, now).cloned(),
        None => TrustedState::new_from_root(&bytes, now).map(|state| state.root().clone()),
    };
    let root = verified
        .map_err(|e| not_signed_enough(&unverified, trusted.as_ref(), &staged, &names, &e))?;
    // TUF §5.3.10: a client refuses an expired final root.
    if let Err(e) = check_expiry("root", &*root, now) {
        return Err(err(
            Code::Failure,
            format!(
                "staged root v{} {e}; re-stage it with a later --expires",
                root.version
            ),
        ));
    }
    if root.consistent_snapshot() != policy.consistent_snapshot {
        return Err(err(
            Code::Failure,
            format!(
                "staged root says consistent_snapshot {} but {} says {}",
                root.consistent_snapshot(),
                repo.policy_path().display(),
                policy.consistent_snapshot
            ),
        ));
    }
    if trusted.is_some() {
        if check_published_targets(repo, &root, &names)? && !publishing {
            ui.warn(format!(
                "the published targets does not verify under root v{} until `tuf publish` \
                 commits the signed staged targets: clients refuse the repository until \
                 then. Run `tuf publish` now",
                root.version
            ));
        }
        // TUF §5.3.11, as the client's root step notes it.
        let online_rotated = chain
            .as_ref()
            .is_some_and(TrustedState::fast_forward_recovery_needed);
        if !publishing && online_rotated && repo.metadata_dir().join(TIMESTAMP_FILE).exists() {
            ui.warn(format!(
                "root v{} replaces the online (timestamp/snapshot) key: clients refuse the \
                 published timestamp from now on (TUF §5.3.11). Run `tuf publish` with the \
                 new online key now; it re-signs every bin, the snapshot and the timestamp",
                root.version
            ));
        }
    }
    Ok(CheckedRoot {
        version: root.version.get(),
        bytes,
        follows: newest,
    })
}

/// The published roots of `repo`, walked as a client walks them in `mode`
/// ([`tuf_repo::published::root_chain`]); `None` when nothing is published.
pub fn published_chain(
    repo: &Repo,
    now: DateTime<Utc>,
    mode: Mode,
) -> anyhow::Result<Option<TrustedState>> {
    let reader = Repository::new(PathBuf::new(), repo.dir()).reader();
    root_chain(&reader, now, &Limits::default(), mode)
        .context("while walking the published roots from 1.root.json")
}

/// Why the staged root `unverified` was refused (`error`), with the signatures still
/// missing under each authority it answers to (exit 3).
fn not_signed_enough(
    unverified: &Root,
    trusted: Option<&Verified<Root>>,
    staged: &SignedMetadata,
    names: &Keyholders,
    error: &tuf_core::Error,
) -> anyhow::Error {
    let authorities = trusted
        .map(|old| (&**old, "trusted"))
        .into_iter()
        .chain([(unverified, "itself")])
        .filter_map(|(root, which)| {
            let label = format!("root v{} ({which})", root.version);
            Signers::from_root(root, RoleType::Root, label).ok()
        });
    let mut missing = Vec::new();
    for authority in authorities {
        let count = authority.count(staged, names);
        if !count.met {
            let keys: Vec<String> = count.missing.iter().map(ToString::to_string).collect();
            missing.push(format!(
                "under {}: {} of {} signature(s); {} more from: {}",
                count.authority,
                count.signed.len(),
                count.threshold,
                count
                    .threshold
                    .saturating_sub(u64::try_from(count.signed.len()).unwrap_or(0)),
                keys.join(", ")
            ));
        }
    }
    err(
        Code::Threshold,
        format!(
            "staged root v{} is not signed enough to publish ({error}). {}. Nothing was \
             published; collect the signatures with `tuf sign`",
            unverified.version,
            missing.join("; ")
        ),
    )
}

/// Refuse (exit 3) a root under which the published targets would not verify, unless a
/// staged targets signed by the new root's targets keys is there to replace it: a client
/// checks the targets against the newest root (TUF §5.6.3), so the repository would be
/// refused from the moment the root is published until a re-signed targets is. Returns
/// whether the staged targets is needed for that.
fn check_published_targets(repo: &Repo, root: &Root, names: &Keyholders) -> anyhow::Result<bool> {
    let Some((path, published)) = targets::published_targets_meta(repo)? else {
        return Ok(false);
    };
    let signers = Signers::from_root(root, RoleType::Targets, format!("root v{}", root.version))?;
    if signers.count(&published, names).met {
        return Ok(false);
    }
    let staged_path = repo.staged(RoleType::Targets);
    let staged_count = if staged_path.exists() {
        let staged = metadata_file::load(&staged_path, Some(RoleType::Targets))?;
        let count = signers.count(&staged, names);
        if count.met {
            return Ok(true);
        }
        Some(count)
    } else {
        None
    };
    let next = match staged_count {
        Some(count) => {
            let missing: Vec<String> = count.missing.iter().map(ToString::to_string).collect();
            format!(
                "the staged targets has {} of {} signature(s) from the new targets keys; \
                 missing: {}",
                count.signed.len(),
                count.threshold,
                missing.join(", ")
            )
        }
        None => format!(
            "stage it again with `tuf targets stage {}`",
            repo.dir().display()
        ),
    };
    Err(err(
        Code::Threshold,
        format!(
            "root v{} changes the targets keys, and the published targets {} is not signed \
             by them: clients would refuse the repository once this root is published. {next}; \
             then `tuf publish` commits root and targets together. Nothing was published",
            root.version,
            path.display()
        ),
    ))
}

fn role_and_value<'a>(spec: &'a str, flag: &str) -> anyhow::Result<(&'a str, &'a str)> {
    let (role, value) = spec.split_once('=').ok_or_else(|| {
        usage(format!(
            "{flag} {spec}: write ROLE=VALUE, e.g. root=dave.pub.json"
        ))
    })?;
    if !TOP_LEVEL.contains(&role) {
        return Err(usage(format!(
            "{flag} {spec}: role {role:?} is not one of {}",
            TOP_LEVEL.join(", ")
        )));
    }
    Ok((role, value))
}

fn distinct(ids: &[KeyId]) -> usize {
    ids.iter().collect::<BTreeSet<_>>().len()
}
