//! `cargo tuf verify`: check a `Cargo.lock`, and cargo's cached `.crate` files, against
//! the signed index.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;
use tuf_core::index::CrateName;

use super::VerifyArgs;
use crate::proxy::Proxy;

/// Check every registry package of a lockfile against the signed index.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Registry and verification options.
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// The lockfile to check.
    #[arg(long, default_value = "Cargo.lock")]
    pub lockfile: PathBuf,
}

/// The part of a `Cargo.lock` that `cargo tuf verify` reads.
#[derive(Debug, Deserialize)]
pub struct Lockfile {
    /// `[[package]]` entries.
    #[serde(default)]
    pub package: Vec<LockedPackage>,
}

/// One `[[package]]` of a lockfile.
#[derive(Debug, Deserialize)]
pub struct LockedPackage {
    /// Crate name (checked with [`CrateName::parse`] before use).
    pub name: String,
    /// Version (checked with `semver` before use).
    pub version: String,
    /// Source id (`registry+...`, `sparse+...`); absent for path dependencies.
    pub source: Option<String>,
    /// SHA-256 of the `.crate`, hex.
    pub checksum: Option<String>,
}

impl Lockfile {
    /// Parse the text of a `Cargo.lock`.
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

/// The source id cargo writes in lockfiles for crates.io, whatever protocol reaches it.
const CRATES_IO_SOURCE: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// Run `cargo tuf verify`; returns the number of problems found.
pub fn run(args: &Args) -> anyhow::Result<usize> {
    let text = fs::read_to_string(&args.lockfile)
        .with_context(|| format!("while reading {}", args.lockfile.display()))?;
    let lockfile = Lockfile::parse(&text)
        .with_context(|| format!("while parsing {}", args.lockfile.display()))?;
    let proxy_args = super::ProxyArgs::default();
    let opened = args.verify.open(&proxy_args)?;
    let settings = args.verify.proxy_settings(&opened, &proxy_args);
    let sources: Vec<String> = if opened.pinned.name.is_crates_io() {
        vec![CRATES_IO_SOURCE.to_owned(), opened.pinned.index_url.clone()]
    } else {
        vec![opened.pinned.index_url.clone()]
    };
    let cache_dirs = crate_cache_dirs(&opened.cargo_home, opened.pinned.upstream_index_url());
    let proxy = Proxy::new(
        opened.verifier.clone(),
        opened.fetcher.clone(),
        settings,
        // Never served: only `signed_index_lines` is used.
        "",
    );

    let mut problems = Vec::new();
    let (mut packages, mut crate_files) = (0usize, 0usize);
    for package in &lockfile.package {
        if !package
            .source
            .as_ref()
            .is_some_and(|s| sources.iter().any(|want| s == want))
        {
            continue;
        }
        packages += 1;
        let id = format!("{} {}", package.name, package.version);
        let (name, version) = match (
            CrateName::parse(&package.name),
            semver::Version::parse(&package.version),
        ) {
            (Ok(name), Ok(version)) => (name, version),
            (Err(e), _) => {
                problems.push(format!("{id}: bad crate name: {e}"));
                continue;
            }
            (_, Err(e)) => {
                problems.push(format!("{id}: bad version: {e}"));
                continue;
            }
        };
        let lines = match proxy.signed_index_lines(&name) {
            Ok(Some(lines)) => lines,
            Ok(None) => {
                problems.push(format!(
                    "{id}: crate `{name}` is not in the registry's signed metadata"
                ));
                continue;
            }
            Err(refusal) => {
                problems.push(format!("{id}: {refusal}"));
                continue;
            }
        };
        let Some(line) = lines.iter().find(|l| l.vers == version) else {
            problems.push(format!(
                "{id}: the signed index of `{name}` has no version {version}"
            ));
            continue;
        };
        let signed = line.cksum.to_hex();
        match &package.checksum {
            Some(locked) if *locked == signed => {}
            Some(locked) => problems.push(format!(
                "{id}: Cargo.lock checksum {locked} differs from the signed cksum {signed}"
            )),
            None => problems.push(format!(
                "{id}: Cargo.lock has no checksum; the signed cksum is {signed}"
            )),
        }
        for dir in &cache_dirs {
            let file = dir.join(format!("{}-{}.crate", package.name, package.version));
            let Ok(bytes) = fs::read(&file) else { continue };
            crate_files += 1;
            let found = hex::encode(tuf_core::hash::sha256(&bytes));
            if found != signed {
                problems.push(format!(
                    "{id}: cached {} has sha256 {found}, the signed cksum is {signed}",
                    file.display()
                ));
            }
        }
    }
    for problem in &problems {
        tuf_fs::outln!("MISMATCH {problem}")?;
    }
    tuf_fs::outln!(
        "cargo-tuf verify: {packages} registry package(s) in {}, {crate_files} cached .crate \
         file(s), {} problem(s)",
        args.lockfile.display(),
        problems.len()
    )?;
    Ok(problems.len())
}

/// The directories of `$CARGO_HOME/registry/cache` that may hold this registry's crates:
/// the registry's own host (cargo without the proxy) and loopback (through the proxy).
fn crate_cache_dirs(cargo_home: &Path, upstream: &str) -> Vec<PathBuf> {
    let host = upstream
        .split_once("://")
        .map_or(upstream, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let Ok(entries) = fs::read_dir(cargo_home.join("registry").join("cache")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with("127.0.0.1-")
                || (!host.is_empty() && name.starts_with(&format!("{host}-")))
        })
        .map(|entry| entry.path())
        .collect();
    dirs.sort();
    dirs
}
