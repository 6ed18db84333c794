//! The repository directory: where staged and published metadata, the policy and the
//! key-holder names live (documented for operators in `docs/operator.md`).
//!
//! ```text
//! REPO/
//!   policy.json          repository policy: bins, expiry periods, consistent snapshots
//!   keyholders.json      key id -> holder name, for status messages (not trusted data)
//!   staged/root.json     root being prepared (v1 by `init`, N+1 by `root rotate`)
//!   staged/targets.json  top-level targets being prepared (v1 by `init`, N+1 by
//!                        `targets stage|rebin` or by `root rotate` when keys change)
//!   metadata/            published metadata, served as the TUF metadata URL:
//!     N.root.json        every root version ever published (kept forever)
//!     N.targets.json, N.<bin>.json, N.snapshot.json, timestamp.json   (by `tuf publish`)
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use tuf_core::metadata::{versioned_file_name, RoleType, Root};

use crate::files::{self, Access, Existing};
use crate::metadata_file;
use tuf_repo::publish::Repository;

pub use tuf_cli::policy::{Keyholders, Policy};

/// File name of the policy.
pub const POLICY_FILE: &str = "policy.json";
/// File name of the key-holder names.
pub const KEYHOLDERS_FILE: &str = "keyholders.json";
/// Directory of staged (unpublished) metadata.
pub const STAGED_DIR: &str = "staged";
/// Directory of published metadata.
pub const METADATA_DIR: &str = "metadata";

/// A repository directory.
#[derive(Debug, Clone)]
pub struct Repo {
    dir: PathBuf,
}

impl Repo {
    /// The repository at `dir`, which need not exist yet (for `init`).
    pub fn at(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// An existing repository: `dir/policy.json` must exist.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let repo = Self::at(dir);
        if !repo.policy_path().is_file() {
            bail!(
                "{} is not a tuf repository (no {POLICY_FILE}); create one with `tuf init {}`",
                dir.display(),
                dir.display()
            );
        }
        Ok(repo)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `REPO/policy.json`.
    pub fn policy_path(&self) -> PathBuf {
        self.dir.join(POLICY_FILE)
    }

    /// `REPO/keyholders.json`.
    pub fn keyholders_path(&self) -> PathBuf {
        self.dir.join(KEYHOLDERS_FILE)
    }

    /// `REPO/staged`.
    pub fn staged_dir(&self) -> PathBuf {
        self.dir.join(STAGED_DIR)
    }

    /// `REPO/staged/ROLE.json`.
    pub fn staged(&self, role: RoleType) -> PathBuf {
        self.staged_dir().join(format!("{role}.json"))
    }

    /// `REPO/metadata`.
    pub fn metadata_dir(&self) -> PathBuf {
        self.dir.join(METADATA_DIR)
    }

    /// The policy.
    pub fn policy(&self) -> anyhow::Result<Policy> {
        let path = self.policy_path();
        let bytes = files::read(&path)?;
        Policy::parse(&bytes).with_context(|| format!("in {}", path.display()))
    }

    /// Key-holder names (empty when the file is absent).
    pub fn keyholders(&self) -> anyhow::Result<Keyholders> {
        let path = self.keyholders_path();
        if !path.exists() {
            return Ok(Keyholders::default());
        }
        let bytes = files::read(&path)?;
        tuf_cli::policy::parse_keyholders(&bytes).with_context(|| {
            format!(
                "{} is not a map of key id to name; fix or delete it",
                path.display()
            )
        })
    }

    /// Save key-holder names.
    pub fn save_keyholders(&self, names: &Keyholders) -> anyhow::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(names)?;
        bytes.push(b'\n');
        files::write_atomic(
            &self.keyholders_path(),
            &bytes,
            Access::Public,
            Existing::Replace,
        )
    }

    /// The newest published root: the root a client trusts now, which a staged rotation
    /// must also satisfy. Found by [`Repository::published_root`], as the publisher finds
    /// it: counting up from `metadata/1.root.json` (TUF §5.3).
    pub fn trusted_root(&self) -> anyhow::Result<Option<Published<Root>>> {
        let Some((version, bytes)) = Repository::new(PathBuf::new(), &self.dir)
            .published_root()
            .context("while looking for the published root")?
        else {
            return Ok(None);
        };
        let path = self
            .metadata_dir()
            .join(versioned_file_name(version, "root"));
        let meta = metadata_file::parse(&bytes, Some(RoleType::Root))
            .with_context(|| format!("{} is not valid TUF metadata", path.display()))?;
        let root = metadata_file::typed_root(&meta, &path)?;
        Ok(Some(Published { role: root }))
    }
}

/// A published metadata file, typed without verifying it: for pre-checks and messages
/// only (what is trusted comes from the root chain, `cmd::root::published_chain`).
#[derive(Debug, Clone)]
pub struct Published<T> {
    /// The typed `signed` part.
    pub role: T,
}
