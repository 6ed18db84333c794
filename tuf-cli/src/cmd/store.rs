//! `tuf store set|show|unset`: where a repository is published, when that is object
//! storage; and the `--store` / `--s3-endpoint` options of `publish`, `refresh` and
//! `status` that read it.
//!
//! The store URL is remembered in `REPO/store.json`, not only given as a flag: a flag
//! forgotten once would publish to the local directory, which no client reads. A flag
//! overrides the file (`--store local` publishes locally whatever the file says).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use tuf_repo::remote::Index;
use tuf_repo::store::{Location, Store, StoreConfig, StoreUrl};

use crate::exit::usage;
use crate::files::{self, Access, Existing};
use crate::layout::Repo;
use crate::ui::Ui;

/// The file in the repository directory that names its store.
pub const STORE_FILE: &str = "store.json";

/// `--store` and `--s3-endpoint`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StoreArgs {
    /// Where the repository is published: `s3://bucket/prefix`, `gs://…`, `az://…`, or
    /// `local` (the repository directory itself). Overrides `REPO/store.json` (`tuf store
    /// set`). Credentials and region come from the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `GOOGLE_APPLICATION_CREDENTIALS`,
    /// `AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY`, ...).
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// An S3-compatible server (`http://127.0.0.1:9000`) for `s3://` URLs of the store and
    /// the index. Overrides the one in `REPO/store.json`.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
}

/// `REPO/store.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s3_endpoint: Option<String>,
    /// `Cache-Control: max-age` of `timestamp.json`, in seconds (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timestamp_max_age_secs: Option<u64>,
}

/// Where a repository publishes, and why.
#[derive(Debug, Clone)]
pub struct Target {
    /// The store URL (no credentials).
    pub url: StoreUrl,
    /// The S3-compatible endpoint, if any.
    pub s3_endpoint: Option<String>,
    /// How long a CDN may serve `timestamp.json` (`tuf store set --timestamp-max-age`);
    /// `None`: the store's default, 60 s.
    pub timestamp_max_age: Option<Duration>,
    /// `--store`, or the file.
    pub from: String,
}

/// Arguments of `tuf store set`.
#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// Repository directory.
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
    /// `s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`.
    #[arg(value_name = "URL")]
    pub url: String,
    /// An S3-compatible server for `s3://` URLs.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// `Cache-Control: max-age` of `timestamp.json` (`30m`, `1h`; default 1m, `0m` for
    /// none): how long a CDN may serve an older one, so the longest a client waits to see
    /// a publish. Must be well below the timestamp's expiry (policy `expiry.timestamp`).
    #[arg(long, value_name = "DURATION")]
    pub timestamp_max_age: Option<String>,
}

/// Arguments of `tuf store show` and `tuf store unset`.
#[derive(Debug, clap::Args)]
pub struct RepoArgs {
    /// Repository directory.
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
}

/// Run `tuf store set`.
pub fn run_set(args: &SetArgs, ui: &Ui) -> anyhow::Result<crate::exit::Code> {
    let repo = Repo::open(&args.repo)?;
    let url = store_url(&args.url, "URL")?;
    let timestamp_max_age_secs = match &args.timestamp_max_age {
        Some(given) => Some(max_age_secs(given, &repo)?),
        None => None,
    };
    let file = StoreFile {
        url: url.to_string(),
        s3_endpoint: args.s3_endpoint.clone(),
        timestamp_max_age_secs,
    };
    let path = repo.dir().join(STORE_FILE);
    let mut bytes = serde_json::to_vec_pretty(&file)?;
    bytes.push(b'\n');
    files::write_atomic(&path, &bytes, Access::Public, Existing::Replace)?;
    ui.info(format!(
        "{} publishes to {url}{}; `tuf publish`, `tuf refresh` and `tuf status` use it",
        repo.dir().display(),
        endpoint_note(args.s3_endpoint.as_deref())
    ));
    Ok(crate::exit::Code::Ok)
}

/// Run `tuf store show`.
pub fn run_show(args: &RepoArgs, _ui: &Ui) -> anyhow::Result<crate::exit::Code> {
    let repo = Repo::open(&args.repo)?;
    match resolve(&StoreArgs::default(), repo.dir())? {
        Some(target) => tuf_fs::outln!(
            "{}{} (timestamp.json max-age {} s)",
            target.url,
            endpoint_note(target.s3_endpoint.as_deref()),
            config(&target).timestamp_max_age.as_secs()
        )?,
        None => tuf_fs::outln!("local ({})", repo.dir().display())?,
    }
    Ok(crate::exit::Code::Ok)
}

/// Run `tuf store unset`: publish to the repository directory again.
pub fn run_unset(args: &RepoArgs, ui: &Ui) -> anyhow::Result<crate::exit::Code> {
    let repo = Repo::open(&args.repo)?;
    let path = repo.dir().join(STORE_FILE);
    if path.exists() {
        files::remove(&path)?;
    }
    ui.info(format!(
        "{} publishes to its own directory",
        repo.dir().display()
    ));
    Ok(crate::exit::Code::Ok)
}

/// Where the repository in `dir` publishes: `--store` if given, else `REPO/store.json`,
/// else `None` (its own directory).
pub fn resolve(args: &StoreArgs, dir: &Path) -> anyhow::Result<Option<Target>> {
    if let Some(given) = &args.store {
        if given == "local" {
            return Ok(None);
        }
        return Ok(Some(Target {
            url: store_url(given, "--store")?,
            s3_endpoint: args.s3_endpoint.clone(),
            timestamp_max_age: None,
            from: "--store".to_owned(),
        }));
    }
    let path = dir.join(STORE_FILE);
    let Some(bytes) = tuf_repo::files::read_optional(&path)? else {
        return Ok(None);
    };
    let file: StoreFile = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{}: not a store file (`tuf store set` writes it)",
            path.display()
        )
    })?;
    Ok(Some(Target {
        url: store_url(&file.url, &path.display().to_string())?,
        s3_endpoint: args.s3_endpoint.clone().or(file.s3_endpoint),
        timestamp_max_age: file.timestamp_max_age_secs.map(Duration::from_secs),
        from: path.display().to_string(),
    }))
}

/// Open the store `target` names.
pub fn open(target: &Target) -> anyhow::Result<Arc<Store>> {
    Ok(Arc::new(Store::open(&target.url, &config(target))?))
}

/// The store configuration of `target`.
fn config(target: &Target) -> StoreConfig {
    let mut config = endpoint_config(target.s3_endpoint.as_deref());
    if let Some(max_age) = target.timestamp_max_age {
        config.timestamp_max_age = max_age;
    }
    config
}

fn endpoint_config(s3_endpoint: Option<&str>) -> StoreConfig {
    StoreConfig {
        s3_endpoint: s3_endpoint.map(str::to_owned),
        ..StoreConfig::default()
    }
}

/// Open `url` with `s3_endpoint`.
pub fn open_url(url: &StoreUrl, s3_endpoint: Option<&str>) -> anyhow::Result<Arc<Store>> {
    Ok(Arc::new(Store::open(url, &endpoint_config(s3_endpoint))?))
}

/// `--timestamp-max-age` in seconds, refused unless well below the policy's timestamp
/// expiry: an edge serving a timestamp for longer than it is valid would hand clients an
/// expired one (TUF §5.4.4 has them refuse it), so the repository would look down.
fn max_age_secs(given: &str, repo: &Repo) -> anyhow::Result<u64> {
    let max_age = crate::duration::parse_duration(given)
        .map_err(|e| usage(format!("--timestamp-max-age: {e}")))?;
    let expiry = crate::duration::parse_duration(&repo.policy()?.expiry.timestamp)?;
    if max_age.checked_mul(2).map_or(true, |twice| twice > expiry) {
        return Err(usage(format!(
            "--timestamp-max-age {given}: over half the timestamp's expiry ({}, policy \
             `expiry.timestamp`); a CDN could then serve an expired timestamp",
            repo.policy()?.expiry.timestamp
        )));
    }
    u64::try_from(max_age.num_seconds())
        .map_err(|_| usage(format!("--timestamp-max-age {given}: negative")))
}

/// The index given with `--index`: a directory, or an object-store URL.
pub fn index(given: &str, s3_endpoint: Option<&str>) -> anyhow::Result<Index> {
    match Location::parse(given)? {
        Location::Local(dir) => {
            if !dir.is_dir() {
                return Err(usage(format!(
                    "--index {}: not a directory; give the registry's sparse index directory \
                     or its object-store URL (s3://bucket/prefix)",
                    dir.display()
                )));
            }
            Ok(Index::Local(dir))
        }
        Location::Url(url) => Ok(Index::Store(open_url(&url, s3_endpoint)?)),
    }
}

fn store_url(given: &str, what: &str) -> anyhow::Result<StoreUrl> {
    match Location::parse(given)? {
        Location::Url(url) => Ok(url),
        Location::Local(_) => Err(usage(format!(
            "{what} {given}: not an object-store URL (s3://bucket/prefix, gs://…, az://…); a \
             repository on this machine is published to its own directory (`tuf store unset`)"
        ))),
    }
}

fn endpoint_note(endpoint: Option<&str>) -> String {
    endpoint.map_or_else(String::new, |e| format!(" at {e}"))
}
