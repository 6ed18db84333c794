//! The verifying sparse-registry server that cargo talks to.
//!
//! Every path starts with the pin's [`Mount`], `/{registry}/{pin}/`: cargo names its
//! caches after the replacement URL, so that URL is one per registry and per pin (see
//! [`crate::state::PinId`]). A request under any other prefix is refused (not a 404,
//! which cargo would take for an authenticated "no such crate"). Under the mount, routes
//! (all `GET`):
//!
//! * `config.json` — upstream `config.json` after it matched its signed entry, with `dl`
//!   pointing back at this proxy, under the mount.
//! * `dl/{crate}/{version}/download` — the upstream `.crate`, read whole (up to
//!   [`ProxySettings::max_crate_bytes`]) and sent only if its SHA-256 equals the `cksum` of
//!   the verified index line for that version.
//! * any other path — an index file by sparse path, sent only if it matched its signed
//!   entry (length and every listed hash, TUF §5.7.3) and every line names the crate
//!   asked for. A crate with no signed entry is `404` (cargo: "no matching package");
//!   `If-None-Match` with the signed SHA-256 as entity tag is answered `304` without
//!   touching the network.
//!
//! # The cold path: one round trip per file, not two
//!
//! An index file (or `config.json`) the proxy has neither in memory nor in its cache
//! needs two answers from upstream: the hashed bin that lists it (TUF §5.6.7, fetched by
//! the lookup unless already trusted) and the file itself. The file's URL is known from
//! the request, so its fetch ([`EarlyFetch`]) starts at the same time as the lookup
//! instead of after it; its body is read under the index file cap until the lookup
//! gives the signed length, then under that. The bytes are only *used* after the lookup
//! returned the signed entry, and they go through the same check as any other fetch
//! (length and every listed hash) before they are served or cached; when the lookup
//! fails or finds no such crate, they are dropped unread (and reading stops). A file
//! the cache already holds, or a request with `If-None-Match` (cargo has a copy), is
//! not fetched early: a warm start costs the timestamp fetch alone.
//!
//! # How a refusal reaches the user
//!
//! Cargo's sparse client (`src/cargo/sources/registry/http_remote.rs`) treats 200, 304,
//! 401 and 404/410/451 specially and turns every other status into an `HttpNotSuccessful`
//! error, whose message is `failed to get successful HTTP response from `URL` (IP), got
//! CODE` followed by `body:` and the first 512 characters of the body. 5xx and 429 are
//! "spurious" and retried (with delays and warnings) before that. So a refusal is
//! [`REFUSAL_STATUS`] (403: a 4xx cargo does not special-case or retry) with a short
//! plain-text body naming the file, the check and what to do; the same text is printed
//! on the proxy's stderr, which `cargo tuf run` shares with cargo. A crate absent from
//! the signed metadata must stay a 404 — cargo probes absent names while resolving — so
//! that case is reported on stderr only.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tuf_core::index::{
    parse_index_file, CrateName, IndexError, IndexLimits, IndexLine, RegistryConfig,
};

use crate::fetch::{FetchError, Fetched, Fetcher};
use crate::state::Mount;
use crate::verifier::{ExpectedFile, Verifier, VerifyError};

/// The status of every refusal: a 4xx cargo shows the body of and does not retry.
pub const REFUSAL_STATUS: StatusCode = StatusCode::FORBIDDEN;

/// How the proxy reaches the registry, and its caps.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// The pin served, and where: requests outside `/{registry}/{pin}/` are refused.
    pub mount: Mount,
    /// Upstream sparse index base URL (`https://.../`, no `sparse+`), ending in `/`.
    pub upstream_index: String,
    /// Largest `.crate` accepted: cargo's own cap on a `.crate` body is 50 MiB
    /// (`crates.io`'s upload limit is 10 MiB by default).
    pub max_crate_bytes: u64,
    /// Caps on an index file, checked before parsing.
    pub index_limits: IndexLimits,
    /// Where verified index files are kept by sparse path (for offline use and
    /// `cargo tuf verify`); `None` keeps nothing.
    pub index_cache: Option<PathBuf>,
    /// Serve index files from `index_cache` only, and no `.crate` downloads.
    pub offline: bool,
    /// Also print refusals on stderr. Off under `cargo tuf run`, where cargo prints the
    /// refusal body itself and a second copy is noise. 404s (authenticated absence), whose
    /// body cargo never shows, are reported as [`ProxySettings::absences`] says.
    pub echo_refusals: bool,
    /// Where the line explaining a 404 for a crate absent from the signed metadata goes.
    pub absences: Absences,
    /// Log every request on stderr, not only refusals.
    pub verbose: bool,
}

/// The default `.crate` cap: 50 MiB, cargo's own limit on a `.crate` body.
pub const DEFAULT_MAX_CRATE_BYTES: u64 = 50 * 1024 * 1024;

/// What the proxy does with the line it writes when it answers 404 for a crate the
/// signed metadata does not list (an authenticated absence). Cargo probes names that do
/// not exist while resolving (a dependency dropped from the manifest but still locked,
/// `-`/`_` spellings), so most such 404s are normal and the line is noise unless cargo
/// then fails.
#[derive(Debug, Clone)]
pub enum Absences {
    /// Print it on stderr at once (`cargo tuf proxy`, whose log is the only place it can
    /// appear; and `-v`).
    Print,
    /// Keep it in the log; `cargo tuf run` prints the log only when cargo fails.
    Collect(AbsenceLog),
}

/// The absence lines of one run, each kept once, in the order first seen.
#[derive(Debug, Clone, Default)]
pub struct AbsenceLog(Arc<Mutex<Vec<String>>>);

impl AbsenceLog {
    /// Most lines kept: one per absent crate cargo asked for, which a project bounds; the
    /// cap keeps a pathological resolve (or a loop) from growing the log without end.
    pub const MAX_LINES: usize = 1000;

    fn push(&self, line: String) {
        let mut lines = lock(&self.0);
        if lines.len() < Self::MAX_LINES && !lines.contains(&line) {
            lines.push(line);
        }
    }

    /// The lines kept so far.
    pub fn lines(&self) -> Vec<String> {
        lock(&self.0).clone()
    }
}

/// The proxy's shared state.
#[derive(Debug)]
pub struct Proxy {
    verifier: Arc<dyn Verifier>,
    fetcher: Fetcher,
    settings: ProxySettings,
    public_base: String,
    config: Mutex<Option<Arc<UpstreamConfig>>>,
    index_memo: Mutex<HashMap<String, Arc<VerifiedIndex>>>,
}

/// The verified upstream `config.json`.
#[derive(Debug)]
struct UpstreamConfig {
    /// The signed entry it matched.
    entry: ExpectedFile,
    /// The upstream download template (`dl`).
    dl: String,
    /// What cargo gets: the same JSON with `dl` pointing at the proxy.
    rewritten: Bytes,
}

/// An index file that matched its signed entry and parsed.
#[derive(Debug)]
struct VerifiedIndex {
    /// The signed entry it matched.
    entry: ExpectedFile,
    bytes: Bytes,
    lines: Vec<IndexLine>,
}

/// A response, before it becomes a hyper one.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    etag: Option<String>,
    content_type: &'static str,
    body: Bytes,
}

/// Why the proxy refused a file: what it was, which check failed, the detail and what to
/// do. Its text ([`std::fmt::Display`], one line) is the body cargo shows.
#[derive(Debug, thiserror::Error)]
#[error("cargo-tuf refused {subject}: {check} check failed: {detail}. What to do: {advice}.")]
pub struct Refusal {
    status: StatusCode,
    subject: String,
    check: &'static str,
    detail: String,
    advice: String,
}

impl Refusal {
    fn new(subject: impl Into<String>, check: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status: REFUSAL_STATUS,
            subject: subject.into(),
            check,
            detail: detail.into(),
            advice: "do not bypass cargo-tuf; report this to the registry operators".to_owned(),
        }
    }

    fn advice(mut self, advice: impl Into<String>) -> Self {
        self.advice = advice.into();
        self
    }

    /// Name the registry after the subject (`gamma-0.2.0.crate in registry `second``).
    fn in_registry(mut self, registry: &str) -> Self {
        self.subject = format!("{} in registry `{registry}`", self.subject);
        self
    }

    fn from_verify(subject: impl Into<String>, error: &VerifyError) -> Self {
        Self::new(subject, "signed metadata", error.to_string()).advice(error.advice())
    }

    /// What was refused (`the index file of crate `serde``).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The check that failed (`signed metadata`, `JSON`, `sha256`, ...).
    pub fn check(&self) -> &'static str {
        self.check
    }

    /// The body cargo shows: the refusal and a newline.
    fn text(&self) -> String {
        format!("{self}\n")
    }
}

/// Why an upstream `config.json` cannot be served ([`rewrite_config`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not a `config.json` the publisher would sign ([`RegistryConfig::parse`]).
    #[error("{source} (code {})", .source.code())]
    Invalid {
        /// The check that failed.
        source: IndexError,
    },
    /// The rewritten members could not be written as JSON.
    #[error("writing the rewritten config.json: {source}")]
    Write {
        /// serde_json's error.
        source: serde_json::Error,
    },
}

impl Proxy {
    /// A proxy listening on `origin` (`http://127.0.0.1:PORT`, no trailing `/`), serving
    /// `settings.mount` at [`Proxy::public_url`].
    pub fn new(
        verifier: Arc<dyn Verifier>,
        fetcher: Fetcher,
        settings: ProxySettings,
        origin: &str,
    ) -> Self {
        let public_base = format!("{origin}{}", settings.mount.path());
        Self {
            verifier,
            fetcher,
            settings,
            public_base,
            config: Mutex::new(None),
            index_memo: Mutex::new(HashMap::new()),
        }
    }

    /// The URL cargo is to use for the pinned registry: `{origin}/{registry}/{pin}/`.
    pub fn public_url(&self) -> &str {
        &self.public_base
    }

    /// The verified lines of `name`'s index file, as the proxy would serve it;
    /// `Ok(None)` when the signed metadata has no such crate; the [`Refusal`] the proxy
    /// would answer with otherwise.
    pub fn signed_index_lines(&self, name: &CrateName) -> Result<Option<Vec<IndexLine>>, Refusal> {
        let subject = format!("the index file of crate `{name}`");
        let entry = self
            .verifier
            .index_entry(name)
            .map_err(|e| Refusal::from_verify(subject, &e))?;
        let Some(entry) = entry else {
            return Ok(None);
        };
        let index = self.verified_index(name, &entry, None)?;
        Ok(Some(index.lines.clone()))
    }

    /// The `.crate` of `name` `version`, downloaded and checked exactly as the proxy
    /// checks it for cargo (its SHA-256 equals the `cksum` of the verified index line,
    /// size capped); the error is the proxy's refusal.
    pub fn verified_crate(
        &self,
        name: &CrateName,
        version: &semver::Version,
    ) -> Result<Vec<u8>, Refusal> {
        self.serve_crate(&format!("{name}/{version}/download"))
            .map(|reply| reply.body.to_vec())
    }

    /// The pin this proxy serves.
    pub fn mount(&self) -> &Mount {
        &self.settings.mount
    }

    /// Serve connections from `listener` until `shutdown` resolves (this pin alone).
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        Arc::new(Routes::new(vec![self]))
            .serve(vec![listener], shutdown)
            .await;
    }

    /// Answer one request (blocking: verification and upstream fetches happen here).
    fn respond(&self, path: &str, if_none_match: Option<&str>) -> Reply {
        let result = match Mount::split(path) {
            Some((registry, pin, rest)) if self.settings.mount.is(registry, pin) => {
                // With several registries behind one proxy, say whose file it was.
                self.route(rest, if_none_match).map_err(|refusal| {
                    refusal.in_registry(&self.settings.mount.registry.to_string())
                })
            }
            _ => Err(self.outside_mount(path)),
        };
        match result {
            Ok(reply) => {
                if self.settings.verbose {
                    eprintln!("cargo-tuf: {} {path}", reply.status.as_u16());
                }
                reply
            }
            Err(refusal) => {
                let text = refusal.text();
                if self.settings.echo_refusals || self.settings.verbose {
                    eprint!("{text}");
                }
                text_reply(refusal.status, text)
            }
        }
    }

    /// A request under this proxy's mount; `rest` is the path after it.
    fn route(&self, rest: &str, if_none_match: Option<&str>) -> Result<Reply, Refusal> {
        if rest == "config.json" {
            self.serve_config()
        } else if let Some(download) = rest.strip_prefix("dl/") {
            self.serve_crate(download)
        } else {
            self.serve_index(rest, if_none_match)
        }
    }

    /// A request outside the mount: for another registry, an earlier pin of this one
    /// (replaced by `cargo tuf init --force`), or a URL without the prefix.
    fn outside_mount(&self, path: &str) -> Refusal {
        let mount = &self.settings.mount;
        Refusal::new(
            format!("`{path}`"),
            "registry prefix",
            format!(
                "this proxy serves registry `{}` (pin {}) under {} only",
                mount.registry,
                mount.pin.as_str(),
                mount.path()
            ),
        )
        .advice(
            "give cargo the URL `cargo tuf run` passes or `cargo tuf proxy` prints; a pin \
             replaced with `cargo tuf init --force` has a new URL",
        )
    }

    fn serve_config(&self) -> Result<Reply, Refusal> {
        let early = if lock(&self.config).is_none() {
            self.start_early_fetch("config.json", None)
        } else {
            None
        };
        let config = self.upstream_config(early)?;
        Ok(Reply {
            status: StatusCode::OK,
            etag: None,
            content_type: "application/json",
            body: config.rewritten.clone(),
        })
    }

    fn serve_index(
        &self,
        sparse_path: &str,
        if_none_match: Option<&str>,
    ) -> Result<Reply, Refusal> {
        let Ok(name) = CrateName::from_sparse_path(sparse_path) else {
            // Not a path any crate name this verifier accepts maps to; cargo only asks for
            // such paths when probing, and "not found" is the right answer.
            self.report_absence(format!(
                "cargo-tuf: `{sparse_path}` is not the sparse index path of a crate name \
                 cargo-tuf accepts (registry `{}`): answering 404 (not found)",
                self.settings.mount.registry
            ));
            return Ok(not_found());
        };
        let sparse_path = name.sparse_path();
        let early = if lock(&self.index_memo).contains_key(&sparse_path) {
            None
        } else {
            self.start_early_fetch(&sparse_path, if_none_match)
        };
        // On every return before `verified_index`, `early` is dropped: its bytes unused.
        let entry = self
            .verifier
            .index_entry(&name)
            .map_err(|e| Refusal::from_verify(format!("the index file of crate `{name}`"), &e))?;
        let Some(entry) = entry else {
            self.report_absence(format!(
                "cargo-tuf: crate `{name}` is not in the registry's signed metadata \
                 (registry `{}`, an authenticated absence): answering 404, whatever the \
                 upstream server has",
                self.settings.mount.registry
            ));
            return Ok(not_found());
        };
        let etag = entry.etag();
        if if_none_match.is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag)) {
            return Ok(Reply {
                status: StatusCode::NOT_MODIFIED,
                etag: Some(etag),
                content_type: "text/plain",
                body: Bytes::new(),
            });
        }
        let index = self.verified_index(&name, &entry, early)?;
        Ok(Reply {
            status: StatusCode::OK,
            etag: Some(etag),
            content_type: "text/plain",
            body: index.bytes.clone(),
        })
    }

    /// Print or keep `line`, the explanation of a 404, as [`ProxySettings::absences`] says.
    fn report_absence(&self, line: String) {
        match &self.settings.absences {
            Absences::Collect(log) if !self.settings.verbose => log.push(line),
            Absences::Collect(_) | Absences::Print => eprintln!("{line}"),
        }
    }

    fn serve_crate(&self, rest: &str) -> Result<Reply, Refusal> {
        let mut parts = rest.split('/');
        let (Some(crate_part), Some(version_part), Some("download"), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::new(
                format!("the download `dl/{rest}`"),
                "download path",
                "expected dl/{crate}/{version}/download under the registry prefix",
            ));
        };
        let subject = format!("the download of `{crate_part}` version `{version_part}`");
        let name = CrateName::parse(crate_part)
            .map_err(|e| Refusal::new(subject.clone(), "crate name", e.to_string()))?;
        let version = semver::Version::parse(version_part)
            .map_err(|e| Refusal::new(subject.clone(), "version", e.to_string()))?;
        let subject = format!("{name}-{version}.crate");
        let entry = self
            .verifier
            .index_entry(&name)
            .map_err(|e| Refusal::from_verify(subject.clone(), &e))?
            .ok_or_else(|| {
                Refusal::new(
                    subject.clone(),
                    "signed index",
                    format!("crate `{name}` is not in the registry's signed metadata"),
                )
            })?;
        let index = self.verified_index(&name, &entry, None)?;
        let line = index
            .lines
            .iter()
            .find(|line| line.vers == version)
            .ok_or_else(|| {
                Refusal::new(
                    subject.clone(),
                    "signed index",
                    format!("the verified index file of `{name}` has no version {version}"),
                )
            })?;
        if self.settings.offline {
            return Err(
                Refusal::new(subject, "offline", "downloads are off in offline mode")
                    .advice("run online once so cargo caches this crate"),
            );
        }
        let config = self.upstream_config(None)?;
        let url = expand_dl(&config.dl, line);
        let bytes = match self.fetcher.get_crate(&url, self.settings.max_crate_bytes) {
            Ok(Fetched::Found(bytes)) => bytes,
            Ok(Fetched::NotFound) => {
                return Err(Refusal::new(subject, "download", format!("{url} answered 404"))
                    .advice("the registry lists this version but does not serve it; retry later or report it to the registry operators"))
            }
            Err(FetchError::TooLarge { limit }) => {
                return Err(Refusal::new(
                    subject,
                    "size cap",
                    format!("{url} sent more than {limit} bytes"),
                ))
            }
            Err(e) => {
                return Err(Refusal::new(subject, "download", format!("{url}: {e}"))
                    .advice("check the network and retry"))
            }
        };
        let found = tuf_core::hash::sha256(&bytes);
        if &found != line.cksum.as_bytes() {
            return Err(Refusal::new(
                subject,
                "cksum",
                format!(
                    "sha256 of the download is {}, the signed index line says {}",
                    hex::encode(found),
                    line.cksum.to_hex()
                ),
            ));
        }
        if self.settings.verbose {
            eprintln!("cargo-tuf: {subject}: sha256 matches the signed cksum");
        }
        Ok(Reply {
            status: StatusCode::OK,
            etag: None,
            content_type: "application/octet-stream",
            body: Bytes::from(bytes),
        })
    }

    /// The verified upstream `config.json` (fetched again when its signed entry changes),
    /// using the bytes of `early` if it is this file's fetch already under way.
    fn upstream_config(&self, early: Option<EarlyFetch>) -> Result<Arc<UpstreamConfig>, Refusal> {
        let subject = "config.json";
        let entry = self
            .verifier
            .config_entry()
            .map_err(|e| Refusal::from_verify(subject, &e))?;
        if let Some(config) = lock(&self.config).as_ref() {
            if config.entry == entry {
                return Ok(Arc::clone(config));
            }
        }
        let bytes = self.target_bytes(subject, "config.json", &entry, early)?;
        let (dl, rewritten) = rewrite_config(&bytes, &self.public_base)
            .map_err(|e| Refusal::new(subject, "JSON", e.to_string()))?;
        let config = Arc::new(UpstreamConfig {
            entry,
            dl,
            rewritten: Bytes::from(rewritten),
        });
        *lock(&self.config) = Some(Arc::clone(&config));
        Ok(config)
    }

    /// The index file of `name`, matched against `entry` and parsed: from memory, from the
    /// verified-file cache, or from upstream (the bytes of `early`, its fetch already
    /// under way, if given).
    fn verified_index(
        &self,
        name: &CrateName,
        entry: &ExpectedFile,
        early: Option<EarlyFetch>,
    ) -> Result<Arc<VerifiedIndex>, Refusal> {
        let sparse_path = name.sparse_path();
        if let Some(index) = lock(&self.index_memo).get(&sparse_path) {
            if index.entry == *entry {
                return Ok(Arc::clone(index));
            }
        }
        let subject = format!("the index file of crate `{name}` ({sparse_path})");
        let bytes = self.target_bytes(&subject, &sparse_path, entry, early)?;
        // The rules `tuf publish` checks before signing an index file
        // (`tuf_core::index::check_index_target`), so a file it signed is served.
        let lines = parse_index_file(name, &bytes, &self.settings.index_limits).map_err(|e| {
            Refusal::new(
                subject.clone(),
                "index content",
                format!("{e} (code {})", e.code()),
            )
        })?;
        let index = Arc::new(VerifiedIndex {
            entry: entry.clone(),
            bytes: Bytes::from(bytes),
            lines,
        });
        lock(&self.index_memo).insert(sparse_path, Arc::clone(&index));
        Ok(index)
    }

    /// The bytes of index target `path` (an index file or `config.json`) matching
    /// `entry`: the verified copy in the cache if it still matches, else fetched from
    /// upstream (by `early` when given), checked, and cached. A cached file is only served
    /// again after it matches the current signed entry.
    fn target_bytes(
        &self,
        subject: &str,
        path: &str,
        entry: &ExpectedFile,
        early: Option<EarlyFetch>,
    ) -> Result<Vec<u8>, Refusal> {
        let cache_file = self
            .settings
            .index_cache
            .as_ref()
            .map(|dir| cache_path(dir, path));
        let cached = cache_file
            .as_ref()
            .and_then(|file| std::fs::read(file).ok())
            .filter(|bytes| entry.check(bytes).is_ok());
        if let Some(bytes) = cached {
            return Ok(bytes);
        }
        if self.settings.offline {
            return Err(Refusal::new(
                subject,
                "offline",
                "no verified copy of this file is cached",
            )
            .advice("run once online (without --offline)"));
        }
        let bytes = match early {
            Some(early) => self.finish_early_fetch(subject, path, entry, early)?,
            None => self.fetch_target(subject, path, entry)?,
        };
        // Only bytes that passed `check_fetched` get here: nothing unverified is cached.
        if let Some(file) = &cache_file {
            if let Err(e) = write_cache(file, &bytes) {
                eprintln!(
                    "cargo-tuf: warning: could not cache {}: {e}",
                    file.display()
                );
            }
        }
        Ok(bytes)
    }

    /// Fetch `path` from the upstream index, at most the signed length, and check it.
    fn fetch_target(
        &self,
        subject: &str,
        path: &str,
        entry: &ExpectedFile,
    ) -> Result<Vec<u8>, Refusal> {
        let url = self.upstream_url(path);
        let fetched = self.fetcher.get(&url, entry.length());
        check_fetched(subject, &url, fetched, entry)
    }

    /// Start fetching index target `path` from upstream before its signed entry is known
    /// (see the module docs), unless the file is cached here (it is checked against the
    /// entry first, and is usually current), cargo holds a copy (`If-None-Match`), or the
    /// proxy is offline. `None` also when no thread can be started: the caller then
    /// fetches after the lookup, as without it.
    fn start_early_fetch(&self, path: &str, if_none_match: Option<&str>) -> Option<EarlyFetch> {
        if self.settings.offline || if_none_match.is_some() {
            return None;
        }
        let cached = self
            .settings
            .index_cache
            .as_ref()
            .map(|dir| cache_path(dir, path));
        if cached.is_some_and(|file| file.exists()) {
            return None;
        }
        // No index file the proxy serves is longer than this: `parse_index_file` refuses
        // one that is. It is lowered to the signed length as soon as the lookup has it.
        let initial_cap = self.settings.index_limits.max_file_bytes;
        let cap = Arc::new(AtomicU64::new(initial_cap));
        let url = self.upstream_url(path);
        let (sender, result) = mpsc::sync_channel(1);
        let fetcher = self.fetcher.clone();
        let thread_cap = Arc::clone(&cap);
        let thread_url = url.clone();
        std::thread::Builder::new()
            .name("cargo-tuf-fetch".to_owned())
            .spawn(move || {
                let fetched = fetcher.get_with_cap(&thread_url, &thread_cap);
                // The receiver is gone when the bytes are not wanted: drop them.
                let _ = sender.send(fetched);
            })
            .ok()?;
        Some(EarlyFetch {
            url,
            cap,
            initial_cap,
            result,
        })
    }

    /// The bytes of `early`, checked against `entry` like those of [`Proxy::fetch_target`].
    fn finish_early_fetch(
        &self,
        subject: &str,
        path: &str,
        entry: &ExpectedFile,
        early: EarlyFetch,
    ) -> Result<Vec<u8>, Refusal> {
        let signed_length = entry.length();
        if signed_length >= early.initial_cap {
            // The early fetch stops past `initial_cap`, which may be short of the signed
            // length: fetch under the signed length, as without it. (Such a file is
            // refused as an index file anyway; `config.json` is never this long.)
            drop(early);
            return self.fetch_target(subject, path, entry);
        }
        // TUF §5.7.3: from now on at most the signed length (plus one byte) is read.
        early.cap.fetch_min(signed_length, Ordering::AcqRel);
        let too_large = || {
            Err(FetchError::TooLarge {
                limit: signed_length,
            })
        };
        let fetched = match early.result.recv() {
            // A body longer than a cap at or above the signed length, or one read whole
            // before the cap came down, is longer than the signed length: the same
            // refusal as a fetch capped at it, whichever won the race.
            Ok(Err(FetchError::TooLarge { .. })) => too_large(),
            Ok(Ok(Fetched::Found(bytes)))
                if u64::try_from(bytes.len()).map_or(true, |found| found > signed_length) =>
            {
                too_large()
            }
            Ok(fetched) => fetched,
            // The fetching thread ended without an answer (it panicked): fetch again.
            Err(mpsc::RecvError) => return self.fetch_target(subject, path, entry),
        };
        check_fetched(subject, &early.url, fetched, entry)
    }

    /// The upstream URL of index target `path`.
    fn upstream_url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.upstream_index)
    }
}

/// Several pinned registries served by one process: a request goes to the [`Proxy`]
/// whose [`Mount`] its path starts with, so each registry keeps its own verifier, fetcher
/// and settings. Every listener serves every mount (a request names its mount in its
/// path); `cargo tuf run` gives each pin a listener on its own pinned port, so each
/// registry keeps the URL, and cargo's caches, it has when used alone.
#[derive(Debug)]
pub struct Routes {
    proxies: Vec<Arc<Proxy>>,
}

impl Routes {
    /// Route to `proxies`, one per mount (a second proxy for one mount is never reached).
    pub fn new(proxies: Vec<Arc<Proxy>>) -> Self {
        Self { proxies }
    }

    /// Serve connections from every one of `listeners` until `shutdown` resolves.
    pub async fn serve(
        self: Arc<Self>,
        listeners: Vec<tokio::net::TcpListener>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut accepting = Vec::new();
        for listener in listeners {
            let routes = Arc::clone(&self);
            let mut stopped = stopped.clone();
            accepting.push(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            tokio::spawn(Arc::clone(&routes).connection(stream));
                        }
                        _ = stopped.changed() => break,
                    }
                }
            }));
        }
        shutdown.await;
        let _ = stop.send(true);
        for task in accepting {
            let _ = task.await;
        }
    }

    async fn connection(self: Arc<Self>, stream: tokio::net::TcpStream) {
        let service = hyper::service::service_fn(move |request| {
            let routes = Arc::clone(&self);
            async move { Ok::<_, Infallible>(routes.handle(request).await) }
        });
        // A connection error (cargo hung up) concerns that connection only.
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await;
    }

    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let if_none_match = request
            .headers()
            .get(IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let routes = Arc::clone(&self);
        let reply = if method == Method::GET || method == Method::HEAD {
            tokio::task::spawn_blocking(move || routes.respond(&path, if_none_match.as_deref()))
                .await
                .unwrap_or_else(|e| {
                    text_reply(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("cargo-tuf: internal error: {e}\n"),
                    )
                })
        } else {
            text_reply(
                StatusCode::METHOD_NOT_ALLOWED,
                "cargo-tuf: only GET\n".into(),
            )
        };
        let mut response = Response::new(Full::new(if method == Method::HEAD {
            Bytes::new()
        } else {
            reply.body
        }));
        *response.status_mut() = reply.status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
        if let Some(etag) = reply.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            response.headers_mut().insert(ETAG, etag);
        }
        response
    }

    /// Answer one request by the mount its path names (blocking, like [`Proxy::respond`]).
    fn respond(&self, path: &str, if_none_match: Option<&str>) -> Reply {
        let mounted = Mount::split(path).and_then(|(registry, pin, _)| {
            self.proxies
                .iter()
                .find(|proxy| proxy.settings.mount.is(registry, pin))
        });
        match (mounted, self.proxies.as_slice()) {
            (Some(proxy), _) => proxy.respond(path, if_none_match),
            // One pin: its own refusal, naming it.
            (None, [only]) => only.respond(path, if_none_match),
            (None, proxies) => {
                let served: Vec<String> = proxies
                    .iter()
                    .map(|proxy| {
                        let mount = &proxy.settings.mount;
                        format!("`{}` under {}", mount.registry, mount.path())
                    })
                    .collect();
                let refusal = Refusal::new(
                    format!("`{path}`"),
                    "registry prefix",
                    format!("this proxy serves {} only", served.join(", ")),
                )
                .advice(
                    "give cargo the URLs `cargo tuf run` passes or `cargo tuf proxy` prints; \
                     a pin replaced with `cargo tuf init --force` has a new URL",
                );
                let text = refusal.text();
                if proxies
                    .iter()
                    .any(|p| p.settings.echo_refusals || p.settings.verbose)
                {
                    eprint!("{text}");
                }
                text_reply(refusal.status, text)
            }
        }
    }
}

/// An upstream fetch of an index target started before its signed entry was known: its
/// outcome arrives on `result`. Dropping it lowers the cap to zero, so a body still
/// being read stops at the next read and its bytes are thrown away.
#[derive(Debug)]
struct EarlyFetch {
    url: String,
    /// The fetch's cap on body bytes, read before every read from the body.
    cap: Arc<AtomicU64>,
    /// The cap it started with.
    initial_cap: u64,
    result: mpsc::Receiver<Result<Fetched, FetchError>>,
}

impl Drop for EarlyFetch {
    fn drop(&mut self) {
        self.cap.store(0, Ordering::Release);
    }
}

/// The outcome of fetching `url` for index target `subject`, checked against its signed
/// `entry`: the length and every listed hash (TUF §5.7.3). Only bytes that pass are
/// returned, so only those are ever served or cached.
fn check_fetched(
    subject: &str,
    url: &str,
    fetched: Result<Fetched, FetchError>,
    entry: &ExpectedFile,
) -> Result<Vec<u8>, Refusal> {
    let bytes = match fetched {
        Ok(Fetched::Found(bytes)) => bytes,
        Ok(Fetched::NotFound) => {
            return Err(Refusal::new(
                subject,
                "upstream",
                format!("{url} answered 404, but the signed metadata lists this file"),
            )
            .advice("the registry is mid-update or a mirror is incomplete; retry later"))
        }
        Err(FetchError::TooLarge { limit }) => {
            return Err(Refusal::new(
                subject,
                "length",
                format!("{url} sent more than the {limit} bytes the signed metadata lists"),
            ))
        }
        Err(e) => {
            return Err(Refusal::new(subject, "upstream", format!("{url}: {e}"))
                .advice("check the network and retry"))
        }
    };
    entry
        .check(&bytes)
        .map_err(|e| Refusal::new(subject, "signed length and hashes", e.to_string()))?;
    Ok(bytes)
}

/// Keep a verified index file (or `config.json`) in the index cache: atomically, but
/// without fsync. A cached copy is served only after it matches its signed entry again
/// ([`Proxy::target_bytes`]), so one that a crash left empty, cut short or old is fetched
/// again online and refused offline: a crash costs a download, never a check (issue #14;
/// durability is kept for the rollback baselines, in tuf-client's store).
fn write_cache(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    tuf_fs::AtomicWrite::new()
        .durability(tuf_fs::Durability::Never)
        .create_parents()
        .write(path, bytes)
}

/// Where the verified copy of index target `path` is cached: one file directly in `dir`,
/// its name the path percent-encoded (`se/rd/serde` → `se%2Frd%2Fserde`). Flat rather
/// than by sparse path: creating the two directories a cold sparse path needs was the
/// largest single CPU cost of a cold index file (issue #14: ~23% of the proxy's CPU on
/// a cold 10k-crate run, ext4 inode allocation for each new directory).
fn cache_path(dir: &std::path::Path, path: &str) -> PathBuf {
    dir.join(tuf_client::store::encode_name(path))
}

/// Read an upstream `config.json`; returns its `dl` and the file with `dl` pointing at
/// the proxy (`{public_base}dl`), every other member kept. The file is checked by
/// [`RegistryConfig::parse`], the check the publisher (`tuf publish`) makes before it
/// signs a `config.json`, so the two accept the same files.
pub fn rewrite_config(bytes: &[u8], public_base: &str) -> Result<(String, Vec<u8>), ConfigError> {
    let config = RegistryConfig::parse(bytes).map_err(|source| ConfigError::Invalid { source })?;
    let dl = config.dl().to_owned();
    let mut json = config.into_members();
    json.insert(
        "dl".to_owned(),
        serde_json::Value::String(format!("{public_base}dl")),
    );
    let rewritten = serde_json::to_vec(&json).map_err(|source| ConfigError::Write { source })?;
    Ok((dl, rewritten))
}

/// Expand a cargo `dl` template for `line` (cargo book, "Registry Index", config.json):
/// `{crate}`, `{version}`, `{prefix}`, `{lowerprefix}`, `{sha256-checksum}`; a template
/// with none of them gets `/{crate}/{version}/download` appended.
pub fn expand_dl(template: &str, line: &IndexLine) -> String {
    const MARKERS: [&str; 5] = [
        "{crate}",
        "{version}",
        "{prefix}",
        "{lowerprefix}",
        "{sha256-checksum}",
    ];
    let name = line.name.as_str();
    let version = line.vers.to_string();
    if !MARKERS.iter().any(|m| template.contains(m)) {
        return format!("{template}/{name}/{version}/download");
    }
    let prefix = line.name.index_prefix();
    template
        .replace("{crate}", name)
        .replace("{version}", &version)
        .replace("{lowerprefix}", &prefix.to_ascii_lowercase())
        .replace("{prefix}", &prefix)
        .replace("{sha256-checksum}", &line.cksum.to_hex())
}

fn not_found() -> Reply {
    text_reply(StatusCode::NOT_FOUND, String::new())
}

fn text_reply(status: StatusCode, text: String) -> Reply {
    Reply {
        status,
        etag: None,
        content_type: "text/plain; charset=utf-8",
        body: Bytes::from(text),
    }
}

/// Lock, ignoring poisoning: the maps hold whole values swapped in one step.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tuf_core::index::Cksum;

    fn line(name: &str, vers: &str) -> IndexLine {
        IndexLine::new(
            CrateName::parse(name).unwrap(),
            semver::Version::parse(vers).unwrap(),
            Cksum::from_bytes([0xab; 32]),
        )
    }

    #[test]
    fn dl_templates_expand_like_cargo() {
        let serde = line("Serde", "1.0.0");
        assert_eq!(
            expand_dl("https://dl.example/api/v1/crates", &serde),
            "https://dl.example/api/v1/crates/Serde/1.0.0/download"
        );
        assert_eq!(
            expand_dl(
                "https://x/{prefix}/{lowerprefix}/{crate}-{version}.crate",
                &serde
            ),
            "https://x/Se/rd/se/rd/Serde-1.0.0.crate"
        );
        assert_eq!(
            expand_dl("https://x/{sha256-checksum}", &serde),
            format!("https://x/{}", "ab".repeat(32))
        );
        let short = |name: &str| {
            expand_dl(
                "https://x/{prefix}/{lowerprefix}/{crate}",
                &line(name, "1.0.0"),
            )
        };
        assert_eq!(short("a"), "https://x/1/1/a");
        assert_eq!(short("Ab"), "https://x/2/2/Ab");
        assert_eq!(short("Abc"), "https://x/3/A/3/a/Abc");
    }

    #[test]
    fn refusal_text_names_subject_check_and_advice() {
        let text = Refusal::new("foo-1.0.0.crate", "cksum", "sha256 differs")
            .advice("retry")
            .text();
        assert_eq!(
            text,
            "cargo-tuf refused foo-1.0.0.crate: cksum check failed: sha256 differs. What to do: retry.\n"
        );
    }
}
