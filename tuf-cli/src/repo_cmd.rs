//! `tuf x-repo ...`: hidden, unstable commands over [`tuf_repo::publish`] for tests,
//! benchmarks and demos, until the operator verbs (`tuf init`, `tuf publish`, ...) land.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{TimeDelta, Utc};
use tuf_core::crypto::Signer;
use tuf_core::repo::{offline::RepoKeys, BinStyle, Policy};
use tuf_core::Limits;

use crate::keys::KeyDir;
use tuf_repo::publish::{self, Changes, OnlineKeys, PublishOptions, Repository};
use tuf_repo::verify::{self, TargetCheck};

/// `tuf x-repo`.
#[derive(Debug, clap::Subcommand)]
pub enum RepoCmd {
    /// Create keys (if missing) and version 1 of root and targets.
    Init {
        /// Repository directory.
        #[arg(long)]
        repo: PathBuf,
        /// Key directory (root.pem, targets.pem, online.pem: unencrypted PKCS#8 PEM, 0600).
        #[arg(long)]
        keys: PathBuf,
        /// Bins are 2^bit_length.
        #[arg(long, default_value_t = tuf_core::repo::DEFAULT_BIT_LENGTH)]
        bit_length: u8,
        /// How targets delegates to the bins: succinct or hash-prefixes.
        #[arg(long, default_value = "succinct")]
        bin_style: BinStyle,
    },
    /// Publish the index.
    Publish {
        /// Index directory.
        #[arg(long)]
        index: PathBuf,
        /// Repository directory.
        #[arg(long)]
        repo: PathBuf,
        /// Key directory (only online.pem is read).
        #[arg(long)]
        keys: PathBuf,
        /// Index paths that changed (repeatable); without any, the index is scanned.
        #[arg(long)]
        changed: Vec<String>,
        /// Do not write hash-named target copies.
        #[arg(long)]
        no_copies: bool,
        /// Hard-link target copies to their index files (see `tuf publish --help`).
        #[arg(long, conflicts_with = "no_copies")]
        link_copies: bool,
        /// Test hook: fail after this many write steps.
        #[arg(long, hide = true)]
        fail_after: Option<usize>,
    },
    /// Re-sign online roles expiring within the window.
    Refresh {
        /// Index directory.
        #[arg(long)]
        index: PathBuf,
        /// Repository directory.
        #[arg(long)]
        repo: PathBuf,
        /// Key directory (only online.pem is read).
        #[arg(long)]
        keys: PathBuf,
        /// Window in hours.
        #[arg(long, default_value_t = 24)]
        window_hours: i64,
    },
    /// Verify the repository from a trusted root.
    Verify {
        /// Index directory.
        #[arg(long)]
        index: PathBuf,
        /// Repository directory.
        #[arg(long)]
        repo: PathBuf,
        /// Trusted root file.
        #[arg(long)]
        root: PathBuf,
        /// Check target bytes: copies, index or none.
        #[arg(long, default_value = "copies")]
        targets: String,
    },
}

/// Run a `tuf x-repo` command.
pub fn run(cmd: RepoCmd) -> anyhow::Result<()> {
    match cmd {
        RepoCmd::Init {
            repo,
            keys,
            bit_length,
            bin_style,
        } => {
            let keys = KeyDir::open_or_generate(&keys).context("while loading keys")?;
            let policy = Policy {
                bit_length,
                bin_style,
                ..Policy::default()
            };
            let root: [&dyn Signer; 1] = [keys.root.as_ref()];
            let targets: [&dyn Signer; 1] = [keys.targets.as_ref()];
            let online: [&dyn Signer; 1] = [keys.online.as_ref()];
            let repo_keys = RepoKeys {
                root: &root,
                targets: &targets,
                snapshot: &online,
                timestamp: &online,
                bins: &online,
            };
            Repository::new(PathBuf::new(), repo)
                .init(&policy, &repo_keys, Utc::now())
                .context("while initialising the repository")?;
        }
        RepoCmd::Publish {
            index,
            repo,
            keys,
            changed,
            no_copies,
            link_copies,
            fail_after,
        } => {
            let online = KeyDir::open_online(&keys).context("while loading the online key")?;
            let mut options = PublishOptions::new(Utc::now());
            options.target_copies = !no_copies;
            options.link_copies = link_copies;
            options.fail_after_writes = fail_after;
            let changes = if changed.is_empty() {
                Changes::Scan
            } else {
                Changes::Paths(changed)
            };
            let report = publish::publish(
                &Repository::new(index, repo),
                &OnlineKeys::single(online),
                &changes,
                &options,
            )
            .context("while publishing")?;
            tuf_fs::outln!("{report:?}")?;
        }
        RepoCmd::Refresh {
            index,
            repo,
            keys,
            window_hours,
        } => {
            let online = KeyDir::open_online(&keys).context("while loading the online key")?;
            let report = publish::refresh(
                &Repository::new(index, repo),
                &OnlineKeys::single(online),
                TimeDelta::hours(window_hours),
                &PublishOptions::new(Utc::now()),
            )
            .context("while refreshing")?;
            tuf_fs::outln!("{report:?}")?;
        }
        RepoCmd::Verify {
            index,
            repo,
            root,
            targets,
        } => {
            let check = match targets.as_str() {
                "copies" => TargetCheck::Copies,
                "index" => TargetCheck::Index,
                "none" => TargetCheck::None,
                other => anyhow::bail!("--targets must be copies, index or none, not {other:?}"),
            };
            let trusted = std::fs::read(&root)
                .with_context(|| format!("while reading {}", root.display()))?;
            let report = verify::verify_repository(
                &Repository::new(index, repo),
                &trusted,
                Utc::now(),
                check,
                &Limits::default(),
            )
            .context("while verifying")?;
            tuf_fs::outln!("{report:?}")?;
        }
    }
    Ok(())
}
