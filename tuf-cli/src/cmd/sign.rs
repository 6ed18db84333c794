//! `tuf sign`: add a key holder's signature to a staged root or targets.
//!
//! * In place: `tuf sign --repo REPO --role root --key alice.pem`.
//! * Air-gapped: `tuf sign --file root.json --key alice.pem --detached alice.sig.json` on
//!   a copy of the staged file, then the operator runs
//!   `tuf sign --repo REPO --role root --merge alice.sig.json`.
//!
//! The `signed` part is never reformatted: signatures are made over its canonical bytes as
//! read, and the file is rewritten only after checking those bytes read back unchanged. A
//! detached signature names the SHA-256 of the bytes it covers; merging it into any other
//! file is refused.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::ArgGroup;
use tuf_core::crypto::Signer;
use tuf_core::metadata::{RoleType, Root, Signature, SignedMetadata};

use crate::exit::{err, usage, Code};
use crate::files::{self, Access, Existing};
use crate::keys::{self, PassphraseArgs, PinArgs};
use crate::layout::{Keyholders, Repo};
use crate::signers::Signers;
use crate::ui::Ui;
use crate::{metadata_file, review};

pub use tuf_cli::detached::{DetachedSignature, DETACHED_TYPE};

/// Roles a key holder signs offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OfflineRole {
    /// `staged/root.json`.
    Root,
    /// `staged/targets.json`.
    Targets,
}

impl OfflineRole {
    fn role_type(self) -> RoleType {
        match self {
            Self::Root => RoleType::Root,
            Self::Targets => RoleType::Targets,
        }
    }
}

/// Arguments of `tuf sign`.
#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("what").required(true).args(["repo", "file"])))]
pub struct Args {
    /// Repository whose staged role to sign (with --role).
    #[arg(long, value_name = "REPO", requires = "role")]
    pub repo: Option<PathBuf>,
    /// The staged role in REPO: `root` (staged/root.json) or `targets`
    /// (staged/targets.json).
    // The values are in the line above: listing them with their own help would switch
    // `--help` to clap's long layout, unlike every other command's.
    #[arg(long, value_enum, requires = "repo", hide_possible_values = true)]
    pub role: Option<OfflineRole>,
    /// A metadata file to sign instead of a repository's staged role (e.g. a copy of
    /// `staged/root.json` on an air-gapped machine).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Private key to sign with: a key file, or a key on a hardware token named by a
    /// PKCS#11 URI (`pkcs11:token=LABEL;object=LABEL?module-path=MODULE.so`).
    #[arg(long, value_name = "PRIVATE.pem|pkcs11:URI")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    #[command(flatten)]
    pub pin: PinArgs,
    /// Leave the file unchanged and write the signature to OUT (refused if OUT exists).
    #[arg(long, value_name = "OUT.sig.json", requires = "key")]
    pub detached: Option<PathBuf>,
    /// Merge detached signature files made with --detached (repeatable).
    #[arg(long, value_name = "SIG.json", conflicts_with_all = ["key", "detached"])]
    pub merge: Vec<PathBuf>,
    /// Refuse unless the SHA-256 of the signed bytes is HEX (the hash the operator
    /// announced through another channel).
    #[arg(long, value_name = "HEX")]
    pub expect_sha256: Option<String>,
    /// With --file: the root the signing authority comes from, i.e. the current trusted
    /// root (for a root rotation) or the root that lists the targets keys (for targets).
    #[arg(long, value_name = "ROOT.json", conflicts_with = "repo")]
    pub trusted_root: Option<PathBuf>,
    /// Show what would be signed, and stop.
    #[arg(long)]
    pub dry_run: bool,
}

/// Run `tuf sign`.
pub fn run(args: &Args, ui: &Ui) -> anyhow::Result<Code> {
    if args.key.is_none() && args.merge.is_empty() && !args.dry_run {
        return Err(usage(
            "nothing to do: give --key PRIVATE.pem to sign, --merge SIG.json to merge a \
             detached signature, or --dry-run to look",
        ));
    }
    let target = Target::resolve(args)?;
    let mut staged = metadata_file::load(&target.path, target.role)?;
    let version = version_of(&staged);
    let authorities = target.authorities(&staged)?;
    if authorities.is_empty() {
        ui.warn(format!(
            "cannot tell which keys may sign this {}: give --trusted-root ROOT.json to check",
            staged.role_type()
        ));
    }

    if !ui.is_quiet() {
        tuf_fs::out!(
            "{}",
            review::describe(
                &staged,
                &target.path,
                target.previous_root.as_ref(),
                &target.names
            )?
        )?;
    }
    let sha256 = metadata_file::signed_sha256(&staged);
    if let Some(expected) = &args.expect_sha256 {
        if !expected.eq_ignore_ascii_case(&sha256) {
            return Err(err(
                Code::Failure,
                format!(
                    "{} has signed-bytes sha256 {sha256}, not the {expected} you expected: \
                     this is not the file you meant to sign. Nothing was signed; ask the \
                     operator for the right file",
                    target.path.display()
                ),
            ));
        }
    }
    if args.dry_run {
        ui.info("dry run: nothing signed");
        return Ok(Code::Ok);
    }

    if !args.merge.is_empty() {
        let mut changed = false;
        for sig_path in &args.merge {
            let signature = read_detached(sig_path, &staged, version, &sha256)?;
            check_detached(sig_path, &signature, &staged, &authorities)?;
            // The same signature merged twice (a file handed back twice) changes
            // nothing; say so rather than `merged` again.
            if staged.signatures().contains(&signature) {
                ui.info(format!(
                    "the signature of key {} from {} is already present; nothing to merge",
                    signature.keyid,
                    sig_path.display()
                ));
                continue;
            }
            ui.info(format!(
                "merged the signature of key {} from {}",
                signature.keyid,
                sig_path.display()
            ));
            staged.add_detached_signature(signature);
            changed = true;
        }
        if changed {
            metadata_file::write(&target.path, &staged, Existing::Replace)?;
        }
    } else if let Some(key_path) = &args.key {
        let source = keys::key_source(key_path, &args.passphrase, &args.pin)?;
        let signer = source.signer()?;
        check_authorised(signer.as_ref(), &source.describe(), &staged, &authorities)?;
        match &args.detached {
            Some(out) => {
                write_detached(out, signer.as_ref(), &staged, version, &sha256)?;
                ui.info(format!(
                    "wrote a detached signature by key {} to {} ({} v{version}, sha256 {sha256}); \
                     hand it back to the operator",
                    signer.key_id(),
                    out.display(),
                    staged.role_type()
                ));
                return Ok(Code::Ok);
            }
            None => {
                staged.add_signature(signer.as_ref())?;
                metadata_file::write(&target.path, &staged, Existing::Replace)?;
                ui.info(format!(
                    "signed {} with key {}",
                    target.path.display(),
                    signer.key_id()
                ));
            }
        }
    }
    for authority in &authorities {
        let count = authority.count(&staged, &target.names);
        ui.info(format!(
            "{}: {} of {} signature(s) under {}{}",
            staged.role_type(),
            count.signed.len(),
            count.threshold,
            count.authority,
            if count.met { " - threshold met" } else { "" }
        ));
    }
    Ok(Code::Ok)
}

/// What is being signed and who may sign it.
struct Target {
    path: PathBuf,
    role: Option<RoleType>,
    repo: Option<Repo>,
    previous_root: Option<Root>,
    names: Keyholders,
}

impl Target {
    fn resolve(args: &Args) -> anyhow::Result<Self> {
        if let (Some(dir), Some(role)) = (&args.repo, args.role) {
            let repo = Repo::open(dir)?;
            let path = repo.staged(role.role_type());
            if !path.exists() {
                return Err(usage(format!(
                    "nothing staged: {} does not exist (stage it with `tuf init` or `tuf root rotate`)",
                    path.display()
                )));
            }
            let previous_root = repo.trusted_root()?.map(|p| p.role);
            let names = repo.keyholders()?;
            return Ok(Self {
                path,
                role: Some(role.role_type()),
                repo: Some(repo),
                previous_root,
                names,
            });
        }
        let path = args
            .file
            .clone()
            .ok_or_else(|| usage("give --repo REPO --role ROLE, or --file FILE"))?;
        let previous_root = match &args.trusted_root {
            Some(root_path) => {
                let meta = metadata_file::load(root_path, Some(RoleType::Root))?;
                Some(metadata_file::typed_root(&meta, root_path)?)
            }
            None => None,
        };
        let names = names_beside(&path);
        Ok(Self {
            path,
            role: None,
            repo: None,
            previous_root,
            names,
        })
    }

    /// The authorities whose thresholds this file must meet.
    fn authorities(&self, staged: &SignedMetadata) -> anyhow::Result<Vec<Signers>> {
        let mut out = Vec::new();
        match staged.role_type() {
            RoleType::Root => {
                let root = metadata_file::typed_root(staged, &self.path)?;
                if let Some(old) = &self.previous_root {
                    if old.version < root.version {
                        out.push(Signers::from_root(
                            old,
                            RoleType::Root,
                            format!("root v{} (trusted)", old.version),
                        )?);
                    }
                }
                out.push(Signers::from_root(
                    &root,
                    RoleType::Root,
                    format!("root v{} (itself)", root.version),
                )?);
            }
            RoleType::Targets => {
                // The root that will be in force when these targets are published: a
                // staged root if there is one, else the trusted root.
                let staged_root = match &self.repo {
                    Some(repo) if repo.staged(RoleType::Root).exists() => {
                        let path = repo.staged(RoleType::Root);
                        let meta = metadata_file::load(&path, Some(RoleType::Root))?;
                        Some(metadata_file::typed_root(&meta, &path)?)
                    }
                    _ => None,
                };
                if let Some(root) = staged_root.as_ref().or(self.previous_root.as_ref()) {
                    out.push(Signers::from_root(
                        root,
                        RoleType::Targets,
                        format!("root v{}", root.version),
                    )?);
                }
            }
            other => {
                return Err(usage(format!(
                    "{} is {other} metadata, which the online key signs at publish time; \
                     `tuf sign` signs root and targets",
                    self.path.display()
                )))
            }
        }
        Ok(out)
    }
}

/// Holder names for `--file FILE`, so a key holder sees `39c1…e0 (online2)` as in a
/// repository: from a `keyholders.json` beside FILE (the operator's, copied with it), and
/// from the `NAME.pub.json` files beside it (named as `tuf init` names them). Names are
/// only shown, never trusted: the key ids are what a holder checks. Unreadable files are
/// skipped; this is a convenience.
fn names_beside(file: &Path) -> Keyholders {
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut names = std::fs::read(dir.join(crate::layout::KEYHOLDERS_FILE))
        .ok()
        .and_then(|bytes| tuf_cli::policy::parse_keyholders(&bytes).ok())
        .unwrap_or_default();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return names;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.to_string_lossy().ends_with(".pub.json") {
            continue;
        }
        if let Ok((id, _)) = keys::read_public_key(&path) {
            names.entry(id).or_insert_with(|| keys::holder_name(&path));
        }
    }
    names
}

fn version_of(meta: &SignedMetadata) -> u64 {
    meta.signed()
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

fn check_authorised(
    signer: &dyn Signer,
    what: &str,
    staged: &SignedMetadata,
    authorities: &[Signers],
) -> anyhow::Result<()> {
    if authorities.is_empty() || authorities.iter().any(|a| a.authorises(signer.key_id())) {
        return Ok(());
    }
    let labels: Vec<&str> = authorities.iter().map(|a| a.label.as_str()).collect();
    let hint = if staged.role_type() == RoleType::Root && authorities.len() == 1 {
        ". A key being rotated out still counts under the trusted root: with --file, \
         give it as --trusted-root ROOT.json"
    } else {
        ""
    };
    Err(err(
        Code::KeyRefused,
        format!(
            "{what} (key id {}) is not a {} key of {}: its signature would not count. \
             Nothing was signed; check you picked the right key{hint}",
            signer.key_id(),
            staged.role_type(),
            labels.join(" nor of ")
        ),
    ))
}

fn write_detached(
    out: &Path,
    signer: &dyn Signer,
    staged: &SignedMetadata,
    version: u64,
    sha256: &str,
) -> anyhow::Result<()> {
    let sig = signer.sign(staged.canonical_signed())?;
    let detached = DetachedSignature {
        type_tag: DETACHED_TYPE.to_owned(),
        role: staged.role_type().to_string(),
        version,
        signed_sha256: sha256.to_owned(),
        signature: Signature {
            keyid: signer.key_id().clone(),
            sig: hex::encode(sig),
            extra: Default::default(),
        },
    };
    let bytes = detached.to_file_bytes()?;
    files::write_atomic(out, &bytes, Access::Public, Existing::Refuse)
}

fn read_detached(
    path: &Path,
    staged: &SignedMetadata,
    version: u64,
    sha256: &str,
) -> anyhow::Result<Signature> {
    let bytes = files::read(path)?;
    let detached = DetachedSignature::parse(&bytes).with_context(|| {
        format!(
            "{} is not a detached signature file written by `tuf sign --detached`",
            path.display()
        )
    })?;
    if detached.type_tag != DETACHED_TYPE {
        return Err(err(
            Code::Failure,
            format!(
                "{} has _type {:?}, expected {DETACHED_TYPE:?}",
                path.display(),
                detached.type_tag
            ),
        ));
    }
    let role = staged.role_type().to_string();
    if detached.role != role
        || detached.version != version
        || !detached.signed_sha256.eq_ignore_ascii_case(sha256)
    {
        return Err(err(
            Code::Failure,
            format!(
                "{} signs {} v{} with signed-bytes sha256 {}, but the staged file is {role} \
                 v{version} with sha256 {sha256}: it was made for a different file. Nothing \
                 was merged; ask the holder to sign a fresh copy of the staged file",
                path.display(),
                detached.role,
                detached.version,
                detached.signed_sha256
            ),
        ));
    }
    Ok(detached.signature)
}

fn check_detached(
    path: &Path,
    signature: &Signature,
    staged: &SignedMetadata,
    authorities: &[Signers],
) -> anyhow::Result<()> {
    let Some(key) = authorities
        .iter()
        .filter(|a| a.authorises(&signature.keyid))
        .find_map(|a| a.keys.get(&signature.keyid))
    else {
        return Err(err(
            Code::KeyRefused,
            format!(
                "{}: key {} is not a {} key of the roots in force; nothing was merged",
                path.display(),
                signature.keyid,
                staged.role_type()
            ),
        ));
    };
    let valid = hex::decode(&signature.sig)
        .ok()
        .is_some_and(|sig| key.verify(staged.canonical_signed(), &sig).is_ok());
    if !valid {
        return Err(err(
            Code::Failure,
            format!(
                "{}: the signature of key {} does not verify over the staged bytes; \
                 nothing was merged",
                path.display(),
                signature.keyid
            ),
        ));
    }
    Ok(())
}
