//! `cargo tuf provenance`: check that verified `.crate` files are what their source
//! repositories hold (see docs/provenance.md and the `tuf-provenance` crate).
//!
//! A `.crate` is used only after its SHA-256 matched the `cksum` of the verified index
//! line ([`SignedRegistry::verified_crate`], shared with `cargo tuf verify`).
//!
//! Exit codes: 0 no finding; 1 at least one mismatch or unreachable commit (or, with
//! `--strict`, a crate with no repository or no commit); 2 a usage error, or a crate
//! that could not be checked (not in the signed index, a cached `.crate` that does not
//! match, an unreadable `.crate`, an I/O error).

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use tuf_provenance::{
    check_archive, CrateArchive, Limits, NoRepository, Report, SourceRepository, Status,
};

use super::verify::{LockedPackage, Lockfile, SignedRegistry};
use super::VerifyArgs;

/// Exit code: no finding.
pub const EXIT_OK: u8 = 0;
/// Exit code: a mismatch or an unreachable commit (or, with `--strict`, an unchecked crate).
pub const EXIT_FINDING: u8 = 1;
/// Exit code: usage error, or a crate that could not be checked.
pub const EXIT_ERROR: u8 = 2;

/// Check crates against the commits of their source repositories.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Registry and verification options.
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// A crate name (with VERSION); or give --lockfile.
    #[arg(
        value_name = "NAME",
        required_unless_present = "lockfile",
        requires = "version"
    )]
    pub name: Option<String>,
    /// The crate's version.
    #[arg(value_name = "VERSION")]
    pub version: Option<String>,
    /// Check every package of this lockfile that comes from the registry.
    #[arg(long, conflicts_with = "name")]
    pub lockfile: Option<PathBuf>,
    /// Use a local clone for a crate: NAME=PATH (repeatable). Read in place, offline.
    #[arg(long = "repo-dir", value_name = "NAME=PATH")]
    pub repo_dir: Vec<String>,
    /// A TOML file of `name = "path"` lines, like --repo-dir (relative paths from the
    /// file's directory).
    #[arg(long = "repo-map", value_name = "FILE")]
    pub repo_map: Option<PathBuf>,
    /// Where clones are kept between runs. Default: $CARGO_HOME/tuf/provenance-clones.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Use cached clones as they are: no clone, no fetch.
    #[arg(long)]
    pub no_fetch: bool,
    /// Take `.crate` files only from cargo's cache (verified), never download them.
    #[arg(long)]
    pub no_download: bool,
    /// Print one JSON document instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Count crates with no repository or no commit as findings (exit 1).
    #[arg(long)]
    pub strict: bool,
    /// Longest clone or fetch of one repository, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub git_timeout: u64,
}

/// One crate that could not be checked.
#[derive(Debug, Serialize)]
struct Unchecked {
    /// `name version`.
    id: String,
    /// Why.
    error: String,
}

/// The JSON document of `--json`.
#[derive(Debug, Serialize)]
struct Output<'a> {
    crates: &'a [Report],
    errors: &'a [Unchecked],
    summary: BTreeMap<&'static str, usize>,
    exit_code: u8,
}

/// Run `cargo tuf provenance`; returns the exit code.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    match run_checked(args) {
        Ok(code) => Ok(code),
        Err(error) => {
            eprintln!("error: cargo-tuf provenance: {error:#}");
            Ok(EXIT_ERROR)
        }
    }
}

fn run_checked(args: &Args) -> anyhow::Result<u8> {
    let mapped = repo_dirs(args)?;
    let packages: Vec<LockedPackage> = match (&args.lockfile, &args.name, &args.version) {
        (Some(path), _, _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("while reading {}", path.display()))?;
            Lockfile::parse(&text)
                .with_context(|| format!("while parsing {}", path.display()))?
                .package
        }
        (None, Some(name), Some(version)) => vec![LockedPackage {
            name: name.clone(),
            version: version.clone(),
            source: None,
            checksum: None,
        }],
        _ => anyhow::bail!("give NAME VERSION, or --lockfile"),
    };
    let registry = SignedRegistry::open(&args.verify)?;
    let packages: Vec<&LockedPackage> = packages
        .iter()
        .filter(|p| args.lockfile.is_none() || registry.serves(p))
        .collect();
    let cache = match &args.cache {
        Some(dir) => dir.clone(),
        None => registry_plugin_cache()?,
    };
    let limits = Limits {
        max_network_time: std::time::Duration::from_secs(args.git_timeout),
        ..Limits::default()
    };
    let mut repos = Repositories::new(mapped, cache, args.no_fetch, limits.clone());

    let progress = progress_bar(packages.len());
    let (mut reports, mut errors) = (Vec::new(), Vec::new());
    for package in packages {
        progress.set_message(format!("{} {}", package.name, package.version));
        match check_one(&registry, &mut repos, package, args, &limits) {
            Ok(report) => reports.push(report),
            Err(error) => errors.push(Unchecked {
                id: format!("{} {}", package.name, package.version),
                error,
            }),
        }
        progress.inc(1);
    }
    progress.finish_and_clear();

    let summary = summarize(&reports, &errors);
    let findings = reports.iter().any(|r| {
        r.status.is_finding()
            || (args.strict && matches!(r.status, Status::NoRepository | Status::NoCommit))
    });
    let code = if !errors.is_empty() {
        EXIT_ERROR
    } else if findings {
        EXIT_FINDING
    } else {
        EXIT_OK
    };
    if args.json {
        let output = Output {
            crates: &reports,
            errors: &errors,
            summary,
            exit_code: code,
        };
        tuf_fs::outln!("{}", serde_json::to_string_pretty(&output)?)?;
        return Ok(code);
    }
    for report in &reports {
        tuf_fs::outln!("{}", report.one_line())?;
        if report.status == Status::Mismatch || report.status == Status::Unreachable {
            tuf_fs::out!("{}", report.details())?;
        }
    }
    for unchecked in &errors {
        tuf_fs::outln!("{}: error: {}", unchecked.id, unchecked.error)?;
    }
    let counts: Vec<String> = summary
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(label, n)| format!("{n} {label}"))
        .collect();
    tuf_fs::outln!(
        "cargo-tuf provenance: {} crate(s): {}",
        reports.len() + errors.len(),
        if counts.is_empty() {
            "none".to_owned()
        } else {
            counts.join(", ")
        }
    )?;
    Ok(code)
}

fn check_one(
    registry: &SignedRegistry,
    repos: &mut Repositories,
    package: &LockedPackage,
    args: &Args,
    limits: &Limits,
) -> Result<Report, String> {
    let signed = registry.signed(package).map_err(|e| e.to_string())?;
    let download = !args.no_download && !args.verify.offline;
    let (bytes, _origin) = registry
        .verified_crate(&signed, download)
        .map_err(|e| e.to_string())?;
    let archive = CrateArchive::from_bytes(&bytes, limits)
        .map_err(|e| format!("the verified .crate cannot be read: {e}"))?;
    let repository = repos.for_crate(&archive);
    check_archive(&archive, repository, limits).map_err(|e| e.to_string())
}

/// Opened repositories, by local path or URL, kept for the whole run (one lockfile
/// names the same repository for many crates).
struct Repositories {
    mapped: BTreeMap<String, PathBuf>,
    cache: PathBuf,
    no_fetch: bool,
    limits: Limits,
    opened: BTreeMap<String, Result<SourceRepository, String>>,
}

impl Repositories {
    fn new(
        mapped: BTreeMap<String, PathBuf>,
        cache: PathBuf,
        no_fetch: bool,
        limits: Limits,
    ) -> Self {
        Self {
            mapped,
            cache,
            no_fetch,
            limits,
            opened: BTreeMap::new(),
        }
    }

    fn for_crate(&mut self, archive: &CrateArchive) -> Result<&SourceRepository, NoRepository> {
        let key = match self.mapped.get(archive.name()) {
            Some(path) => {
                let key = format!("path:{}", path.display());
                if !self.opened.contains_key(&key) {
                    let opened = SourceRepository::open(path).map_err(|e| e.to_string());
                    self.opened.insert(key.clone(), opened);
                }
                key
            }
            None => {
                let Some(url) = archive.repository_url() else {
                    return Err(NoRepository::NotDeclared);
                };
                let key = format!("url:{url}");
                if !self.opened.contains_key(&key) {
                    let opened = SourceRepository::cached_clone(
                        url,
                        &self.cache,
                        self.no_fetch,
                        &self.limits,
                    )
                    .map_err(|e| e.to_string());
                    self.opened.insert(key.clone(), opened);
                }
                key
            }
        };
        match self.opened.get(&key) {
            Some(Ok(repo)) => Ok(repo),
            Some(Err(e)) => Err(NoRepository::Unavailable(e.clone())),
            None => Err(NoRepository::Unavailable("not opened".to_owned())),
        }
    }
}

/// `--repo-dir` and `--repo-map`, by crate name (`--repo-dir` wins).
fn repo_dirs(args: &Args) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let mut mapped = BTreeMap::new();
    if let Some(file) = &args.repo_map {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("while reading {}", file.display()))?;
        let table: toml::Table = toml::from_str(&text).with_context(|| {
            format!(
                "while parsing {} (expected name = \"path\" lines)",
                file.display()
            )
        })?;
        let base = file.parent().unwrap_or(Path::new("."));
        for (name, value) in table {
            let path = value.as_str().with_context(|| {
                format!(
                    "{}: the value of `{name}` is not a path string",
                    file.display()
                )
            })?;
            mapped.insert(name, base.join(path));
        }
    }
    for entry in &args.repo_dir {
        let (name, path) = entry
            .split_once('=')
            .with_context(|| format!("--repo-dir {entry:?}: expected NAME=PATH"))?;
        mapped.insert(name.to_owned(), PathBuf::from(path));
    }
    Ok(mapped)
}

fn registry_plugin_cache() -> anyhow::Result<PathBuf> {
    Ok(crate::state::cargo_home()?
        .join("tuf")
        .join("provenance-clones"))
}

fn summarize(reports: &[Report], errors: &[Unchecked]) -> BTreeMap<&'static str, usize> {
    let mut summary: BTreeMap<&'static str, usize> = [
        Status::Verified,
        Status::Inferred,
        Status::Mismatch,
        Status::NoRepository,
        Status::NoCommit,
        Status::Unreachable,
    ]
    .iter()
    .map(|s| (s.label(), 0))
    .collect();
    for report in reports {
        *summary.entry(report.status.label()).or_default() += 1;
    }
    summary.insert("error", errors.len());
    summary
}

/// A progress bar on stderr when it is a terminal and there is more than one crate.
fn progress_bar(total: usize) -> indicatif::ProgressBar {
    if total < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(u64::try_from(total).unwrap_or(u64::MAX)),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    bar
}
