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

/// A pinned registry opened for checking lockfile packages against its signed index:
/// what `cargo tuf verify` and `cargo tuf provenance` share, so a `.crate` is used only
/// after its SHA-256 matched the `cksum` of the verified index line.
pub struct SignedRegistry {
    proxy: Proxy,
    /// The lockfile `source` ids that name this registry.
    sources: Vec<String>,
    /// Where cargo keeps this registry's `.crate` files.
    cache_dirs: Vec<PathBuf>,
}

impl std::fmt::Debug for SignedRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedRegistry")
            .field("sources", &self.sources)
            .field("cache_dirs", &self.cache_dirs)
            .finish_non_exhaustive()
    }
}

/// A lockfile package whose version the signed index lists.
#[derive(Debug, Clone)]
pub struct SignedPackage {
    /// `name version`, for messages.
    pub id: String,
    /// The crate name.
    pub name: CrateName,
    /// The version.
    pub version: semver::Version,
    /// The `cksum` of the verified index line, hex.
    pub cksum: String,
}

/// A cached `.crate` of a [`SignedPackage`], and whether it matches the signed cksum.
#[derive(Debug)]
pub struct CachedCrate {
    /// The file.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its SHA-256, hex.
    pub sha256: String,
}

impl SignedRegistry {
    /// Open the pinned registry `verify` names (or the only one), with the proxy's
    /// default settings (index files are read through the same verifying code).
    pub fn open(verify: &VerifyArgs) -> anyhow::Result<Self> {
        let proxy_args = super::ProxyArgs::default();
        let opened = verify.open(&proxy_args)?;
        let settings = verify.proxy_settings(&opened, &proxy_args);
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
            // Never served: only `signed_index_lines` and `verified_crate` are used.
            "",
        );
        Ok(Self {
            proxy,
            sources,
            cache_dirs,
        })
    }

    /// Whether `package` comes from this registry (its lockfile `source`).
    pub fn serves(&self, package: &LockedPackage) -> bool {
        package
            .source
            .as_ref()
            .is_some_and(|s| self.sources.iter().any(|want| s == want))
    }

    /// The signed index line of `package`: its name and version checked, the version
    /// found in the verified index file. The error is the problem, for the report.
    pub fn signed(&self, package: &LockedPackage) -> Result<SignedPackage, PackageProblem> {
        let id = format!("{} {}", package.name, package.version);
        let (name, version) = match (
            CrateName::parse(&package.name),
            semver::Version::parse(&package.version),
        ) {
            (Ok(name), Ok(version)) => (name, version),
            (Err(source), _) => return Err(PackageProblem::BadName { id, source }),
            (_, Err(source)) => return Err(PackageProblem::BadVersion { id, source }),
        };
        let lines = match self.proxy.signed_index_lines(&name) {
            Ok(Some(lines)) => lines,
            Ok(None) => return Err(PackageProblem::NotInRegistry { id, name }),
            Err(refusal) => {
                return Err(PackageProblem::Refused {
                    id,
                    refusal: Box::new(refusal),
                })
            }
        };
        let Some(line) = lines.iter().find(|l| l.vers == version) else {
            return Err(PackageProblem::NoSuchVersion { id, name, version });
        };
        Ok(SignedPackage {
            id,
            cksum: line.cksum.to_hex(),
            name,
            version,
        })
    }

    /// Every cached `.crate` of `package` in cargo's cache, with its SHA-256 (which the
    /// caller compares with [`SignedPackage::cksum`]).
    pub fn cached(&self, package: &SignedPackage) -> Vec<CachedCrate> {
        let mut found = Vec::new();
        for dir in &self.cache_dirs {
            let path = dir.join(format!("{}-{}.crate", package.name, package.version));
            let Ok(bytes) = fs::read(&path) else { continue };
            let sha256 = hex::encode(tuf_core::hash::sha256(&bytes));
            found.push(CachedCrate {
                path,
                bytes,
                sha256,
            });
        }
        found
    }

    /// The bytes of `package`'s `.crate` whose SHA-256 equals the signed cksum: from
    /// cargo's cache when a cached file matches, else (when `download`) fetched through
    /// the proxy's verifying path. A cached file that does not match is never used;
    /// the error says so.
    pub fn verified_crate(
        &self,
        package: &SignedPackage,
        download: bool,
    ) -> Result<(Vec<u8>, CrateOrigin), PackageProblem> {
        let mut mismatched = Vec::new();
        for file in self.cached(package) {
            if file.sha256 == package.cksum {
                return Ok((file.bytes, CrateOrigin::Cache(file.path)));
            }
            mismatched.push((file.path, file.sha256));
        }
        if !mismatched.is_empty() {
            return Err(PackageProblem::CachedMismatch {
                id: package.id.clone(),
                cksum: package.cksum.clone(),
                files: mismatched,
            });
        }
        if !download {
            return Err(PackageProblem::NotCached {
                id: package.id.clone(),
            });
        }
        self.proxy
            .verified_crate(&package.name, &package.version)
            .map(|bytes| (bytes, CrateOrigin::Download))
            .map_err(|refusal| PackageProblem::Refused {
                id: package.id.clone(),
                refusal: Box::new(refusal),
            })
    }
}

/// Why a lockfile package could not be matched with the signed index, or its `.crate`
/// could not be had verified. Each message starts with the package's `name version`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageProblem {
    /// The lockfile's name is not a crate name.
    #[error("{id}: bad crate name: {source}")]
    BadName {
        /// `name version` as the lockfile has them.
        id: String,
        /// Why the name is refused.
        source: tuf_core::index::IndexError,
    },
    /// The lockfile's version is not semver.
    #[error("{id}: bad version: {source}")]
    BadVersion {
        /// `name version` as the lockfile has them.
        id: String,
        /// Why the version is refused.
        source: semver::Error,
    },
    /// The signed metadata lists no index file for the crate.
    #[error("{id}: crate `{name}` is not in the registry's signed metadata")]
    NotInRegistry {
        /// `name version`.
        id: String,
        /// The crate.
        name: CrateName,
    },
    /// The verified index file has no line of this version.
    #[error("{id}: the signed index of `{name}` has no version {version}")]
    NoSuchVersion {
        /// `name version`.
        id: String,
        /// The crate.
        name: CrateName,
        /// The version looked for.
        version: semver::Version,
    },
    /// The verifying code refused the index file or the downloaded `.crate`.
    #[error("{id}: {refusal}")]
    Refused {
        /// `name version`.
        id: String,
        /// The proxy's refusal (check, detail, advice).
        refusal: Box<crate::proxy::Refusal>,
    },
    /// Every `.crate` of it in cargo's cache differs from the signed cksum.
    #[error("{id}: {}", mismatches(files, cksum))]
    CachedMismatch {
        /// `name version`.
        id: String,
        /// The signed cksum, hex.
        cksum: String,
        /// Each cached file and its SHA-256, hex.
        files: Vec<(PathBuf, String)>,
    },
    /// No `.crate` in cargo's cache, and downloading was not allowed.
    #[error(
        "{id}: no .crate in cargo's cache (run `cargo tuf run -- fetch`, or drop --no-download)"
    )]
    NotCached {
        /// `name version`.
        id: String,
    },
}

fn mismatches(files: &[(PathBuf, String)], cksum: &str) -> String {
    files
        .iter()
        .map(|(path, sha256)| {
            format!(
                "cached {} has sha256 {sha256}, the signed cksum is {cksum}",
                path.display()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where a verified `.crate` came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrateOrigin {
    /// cargo's cache, this file.
    Cache(PathBuf),
    /// Downloaded through the verifying proxy code.
    Download,
}

/// Run `cargo tuf verify`; returns the number of problems found.
pub fn run(args: &Args) -> anyhow::Result<usize> {
    let text = fs::read_to_string(&args.lockfile)
        .with_context(|| format!("while reading {}", args.lockfile.display()))?;
    let lockfile = Lockfile::parse(&text)
        .with_context(|| format!("while parsing {}", args.lockfile.display()))?;
    let registry = SignedRegistry::open(&args.verify)?;

    let mut problems = Vec::new();
    let (mut packages, mut crate_files) = (0usize, 0usize);
    for package in &lockfile.package {
        if !registry.serves(package) {
            continue;
        }
        packages += 1;
        let signed = match registry.signed(package) {
            Ok(signed) => signed,
            Err(problem) => {
                problems.push(problem.to_string());
                continue;
            }
        };
        let id = &signed.id;
        match &package.checksum {
            Some(locked) if *locked == signed.cksum => {}
            Some(locked) => problems.push(format!(
                "{id}: Cargo.lock checksum {locked} differs from the signed cksum {}",
                signed.cksum
            )),
            None => problems.push(format!(
                "{id}: Cargo.lock has no checksum; the signed cksum is {}",
                signed.cksum
            )),
        }
        for file in registry.cached(&signed) {
            crate_files += 1;
            if file.sha256 != signed.cksum {
                problems.push(format!(
                    "{id}: cached {} has sha256 {}, the signed cksum is {}",
                    file.path.display(),
                    file.sha256,
                    signed.cksum
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
