//! One module per subcommand, each with its `Args` and a `run()`.

pub mod init;
pub mod proxy;
pub mod run;
pub mod verify;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tuf_core::index::IndexLimits;
use tuf_core::Limits;

use crate::fetch::Fetcher;
use crate::proxy::{ProxySettings, DEFAULT_MAX_CRATE_BYTES};
use crate::state::{cargo_home, choose_registry, PinnedRegistry, RegistryDir};
use crate::updater_verifier::{Mode, UpdaterVerifier};

/// Options shared by the subcommands that verify (`run`, `proxy`, `verify`).
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The pinned registry to use (default: the only one pinned).
    #[arg(long)]
    pub registry: Option<String>,
    /// Use cached verified metadata only; never fetch metadata or index files. Allowed
    /// while the last online check is within --max-staleness-hours and nothing expired.
    #[arg(long)]
    pub offline: bool,
    /// Offline staleness bound: how old the last online check of the timestamp may be.
    #[arg(long, default_value_t = 24, value_name = "HOURS")]
    pub max_staleness_hours: u32,
}

/// Options of the proxy (`run`, `proxy`); `verify` runs no proxy for cargo, so its help
/// does not list them.
#[derive(Debug, Clone, clap::Args)]
pub struct ProxyArgs {
    /// Re-check the timestamp at most once per this many seconds.
    #[arg(long, default_value_t = DEFAULT_REFRESH_INTERVAL_SECS, value_name = "SECONDS")]
    pub refresh_interval: u64,
    /// Largest `.crate` accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_CRATE_BYTES, value_name = "BYTES")]
    pub max_crate_bytes: u64,
    /// Log every request, not only refusals.
    #[arg(long, short)]
    pub verbose: bool,
}

impl Default for ProxyArgs {
    /// The command line's defaults (for `verify`, which reads index files through the
    /// same verifying code once).
    fn default() -> Self {
        Self {
            refresh_interval: DEFAULT_REFRESH_INTERVAL_SECS,
            max_crate_bytes: DEFAULT_MAX_CRATE_BYTES,
            verbose: false,
        }
    }
}

/// `--refresh-interval`'s default: one timestamp fetch per 5 minutes of one proxy, so a
/// build of 300 crates costs one.
const DEFAULT_REFRESH_INTERVAL_SECS: u64 = 300;

/// A pinned registry opened for verification.
#[derive(Debug)]
pub struct Opened {
    /// Its state directory.
    pub dir: RegistryDir,
    /// What `init` pinned.
    pub pinned: PinnedRegistry,
    /// The verifier (`tuf-client`'s updater behind the proxy's `Verifier` trait).
    pub verifier: Arc<UpdaterVerifier>,
    /// The HTTP client for upstream files.
    pub fetcher: Fetcher,
    /// `$CARGO_HOME`.
    pub cargo_home: PathBuf,
}

impl VerifyArgs {
    /// Open the registry these options name. Call outside any async runtime.
    pub fn open(&self, proxy: &ProxyArgs) -> anyhow::Result<Opened> {
        let cargo_home = cargo_home()?;
        let dir = choose_registry(&cargo_home, self.registry.as_deref())?;
        let pinned = dir.load()?;
        let fetcher = Fetcher::new()?;
        let mode = if self.offline {
            Mode::Offline {
                max_staleness: chrono::Duration::hours(i64::from(self.max_staleness_hours)),
            }
        } else {
            Mode::Online {
                refresh_interval: Duration::from_secs(proxy.refresh_interval),
            }
        };
        let verifier =
            UpdaterVerifier::open(&dir, &pinned.metadata_url, mode, Limits::default())
                .with_context(|| format!("while opening the pinned registry `{}`", pinned.name))?;
        Ok(Opened {
            dir,
            pinned,
            verifier: Arc::new(verifier),
            fetcher,
            cargo_home,
        })
    }

    /// Proxy settings for `opened`.
    pub fn proxy_settings(&self, opened: &Opened, proxy: &ProxyArgs) -> ProxySettings {
        ProxySettings {
            mount: opened.pinned.mount(),
            upstream_index: opened.pinned.upstream_index_url().to_owned(),
            max_crate_bytes: proxy.max_crate_bytes,
            index_limits: IndexLimits::default(),
            index_cache: Some(opened.dir.index_dir()),
            offline: self.offline,
            echo_refusals: true,
            verbose: proxy.verbose,
        }
    }
}

/// The `--config` arguments that make cargo use the proxy at `proxy_url` in place of
/// `pinned`'s registry (source replacement; nothing in the user's files changes).
/// `proxy_url` is the pin's own URL ([`PinnedRegistry::proxy_url`],
/// `http://127.0.0.1:PORT/{registry}/{pin}/`): cargo keys its caches by it.
///
/// They also set `http.multiplexing = false`, without which cargo sends the proxy one
/// request at a time. With multiplexing on (cargo's default), cargo asks curl for HTTP/2
/// and sets `CURLOPT_PIPEWAIT` on every index and `.crate` request
/// (`try_old_curl_http2_pipewait!` in cargo's `src/cargo/util/network/mod.rs`, used by
/// `sources/registry/http_remote.rs` and `core/package.rs`). Over plain `http://` curl can
/// only reach HTTP/2 by an `Upgrade: h2c` request, so it adds that header to every
/// request; the proxy (hyper, HTTP/1.1) ignores it, and while such a request is
/// outstanding curl counts its connection as a pending upgrade ("Connection #0 is not open
/// enough, cannot reuse" / "Found pending candidate for reuse and CURLOPT_PIPEWAIT is
/// set", seen with cargo 1.95, curl 8.15). Every other transfer waits for it instead of
/// opening the second connection cargo allows (`set_max_host_connections(2)`), so 200
/// index files cost 200 sequential round trips through the proxy to the upstream. With
/// `http.multiplexing = false` cargo asks for HTTP/1.1, sends no `Upgrade`, and curl
/// uses both connections. The setting is process-wide for that cargo run; under `cargo
/// tuf run` the replaced registry's index and downloads all go to the proxy, so what it
/// gives up is HTTP/2 to other hosts (git dependencies, registries not behind the proxy).
/// Serving h2c upgrades in the proxy would lift the two-connection cap as well; hyper
/// has no server-side h2c upgrade, so that is left for later.
pub fn source_replacement_args(pinned: &PinnedRegistry, proxy_url: &str) -> Vec<String> {
    let quote = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let mut args = Vec::new();
    let mut config = |key: &str, value: &str| {
        args.push("--config".to_owned());
        args.push(format!("{key}={}", quote(value)));
    };
    if pinned.name.is_crates_io() {
        config("source.crates-io.replace-with", "cargo-tuf");
    } else {
        config("source.cargo-tuf-upstream.registry", &pinned.index_url);
        config("source.cargo-tuf-upstream.replace-with", "cargo-tuf");
    }
    config("source.cargo-tuf.registry", &format!("sparse+{proxy_url}"));
    // A boolean, so not quoted (see above for why).
    args.push("--config".to_owned());
    args.push("http.multiplexing=false".to_owned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::RegistryName;

    #[test]
    fn replacement_for_crates_io_and_named_registries() {
        let mut pinned = PinnedRegistry {
            name: RegistryName::parse("crates-io").unwrap(),
            index_url: "sparse+https://index.crates.io/".into(),
            metadata_url: "https://m/".into(),
            port: 0,
            pin: crate::state::PinId::parse("0123456789abcdef").unwrap(),
        };
        let url = pinned.proxy_url("http://127.0.0.1:9");
        assert_eq!(url, "http://127.0.0.1:9/crates-io/0123456789abcdef/");
        assert_eq!(
            source_replacement_args(&pinned, &url),
            [
                "--config",
                "source.crates-io.replace-with=\"cargo-tuf\"",
                "--config",
                "source.cargo-tuf.registry=\"sparse+http://127.0.0.1:9/crates-io/0123456789abcdef/\"",
                "--config",
                "http.multiplexing=false"
            ]
        );
        pinned.name = RegistryName::parse("private").unwrap();
        pinned.index_url = "sparse+https://reg.example/index/".into();
        let args = source_replacement_args(&pinned, &url);
        assert_eq!(
            args[1],
            "source.cargo-tuf-upstream.registry=\"sparse+https://reg.example/index/\""
        );
        assert_eq!(args.len(), 8);
    }
}
