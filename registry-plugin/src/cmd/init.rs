//! `cargo tuf init`: pin a registry's trust.

use std::fs;
use std::path::PathBuf;

use anyhow::{bail, Context};
use tuf_core::metadata::{RoleType, SignedMetadata};
use tuf_core::{verify, Limits};

use crate::state::{
    cargo_home, normalise_base_url, normalise_index_url, write_atomic, PinnedRegistry, RegistryDir,
    RegistryName,
};

/// Pin a registry: its name, sparse index URL, TUF metadata URL and trusted root.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Registry name: `crates-io`, or the name the project uses in `[registries]`.
    #[arg(long, default_value = "crates-io")]
    pub registry: String,
    /// The sparse index URL, exactly as cargo knows the registry
    /// (`sparse+https://index.crates.io/` for crates.io).
    #[arg(long)]
    pub index_url: String,
    /// Base URL of the registry's TUF metadata.
    #[arg(long)]
    pub metadata_url: String,
    /// The trusted root metadata file, obtained out of band from the registry operators.
    #[arg(long)]
    pub root: PathBuf,
    /// Loopback port for `cargo tuf run`'s proxy; 0 picks a free port each run (cargo then
    /// cannot reuse its caches between runs). Default: a fixed port derived from the name.
    #[arg(long)]
    pub port: Option<u16>,
    /// Replace an existing pin of this registry.
    #[arg(long)]
    pub force: bool,
}

/// Run `cargo tuf init`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let name = RegistryName::parse(&args.registry)?;
    let index_url = normalise_index_url(&args.index_url)?;
    let metadata_url = normalise_base_url(&args.metadata_url)?;
    let root_bytes = fs::read(&args.root)
        .with_context(|| format!("while reading the root file {}", args.root.display()))?;
    let limits = Limits::default();
    let root = SignedMetadata::parse(&root_bytes, RoleType::Root, &limits)
        .and_then(|meta| verify::verify_root_self_signed(&meta, &limits))
        .with_context(|| {
            format!(
                "{} is not a root metadata file signed by its own root keys",
                args.root.display()
            )
        })?;

    let home = cargo_home()?;
    let dir = RegistryDir::new(&home, &name);
    let pinned = PinnedRegistry {
        port: args.port.unwrap_or_else(|| default_port(&name)),
        name,
        index_url,
        metadata_url,
    };
    dir.migrate_legacy_root()
        .with_context(|| format!("while moving the trusted root in {}", dir.path().display()))?;
    if dir.registry_file().exists() && !args.force {
        let existing = dir.load()?;
        if existing != pinned || fs::read(dir.root_file()).ok().as_deref() != Some(&root_bytes[..])
        {
            bail!(
                "registry `{}` is already pinned in {}; pass --force to replace the pin",
                pinned.name,
                dir.path().display()
            );
        }
    }
    // A new pin starts a new chain of trust: drop metadata verified under the old one.
    let metadata_dir = dir.metadata_dir();
    if metadata_dir.exists() {
        fs::remove_dir_all(&metadata_dir)
            .with_context(|| format!("while removing {}", metadata_dir.display()))?;
    }
    write_atomic(&dir.root_file(), &root_bytes)
        .with_context(|| format!("while writing {}", dir.root_file().display()))?;
    let json = serde_json::to_vec_pretty(&pinned)?;
    write_atomic(&dir.registry_file(), &json)
        .with_context(|| format!("while writing {}", dir.registry_file().display()))?;

    let root_role = root.role_keys(RoleType::Root);
    tuf_fs::outln!(
        "Pinned registry `{}` in {}",
        pinned.name,
        dir.path().display()
    )?;
    tuf_fs::outln!("  index:    {}", pinned.index_url)?;
    tuf_fs::outln!("  metadata: {}", pinned.metadata_url)?;
    tuf_fs::outln!(
        "  root:     version {}, expires {}, {} of {} root keys must sign",
        root.version,
        root.expires,
        root_role.map_or(0, |r| r.threshold.get()),
        root_role.map_or(0, |r| r.keyids.len()),
    )?;
    if root.expires.is_expired_at(chrono::Utc::now()) {
        tuf_fs::outln!("  warning:  this root has expired; a newer one must be published for updates to verify")?;
    }
    tuf_fs::outln!("  proxy:    127.0.0.1:{}", pinned.port)?;
    tuf_fs::outln!("Now build through it: cargo tuf run -- build")?;
    Ok(())
}

/// A fixed port per registry name in 21000..=29999: outside the ephemeral ranges of
/// Linux (32768+), macOS and Windows (49152+), so it is rarely taken.
fn default_port(name: &RegistryName) -> u16 {
    let digest = tuf_core::hash::sha256(name.as_str().as_bytes());
    let n = u16::from_be_bytes([digest[0], digest[1]]);
    21000 + n % 9000
}
