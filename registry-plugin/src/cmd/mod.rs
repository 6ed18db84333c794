//! One module per subcommand, each with its `Args` and a `run()`.

pub mod feed;
pub mod init;
pub mod provenance;
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
use crate::proxy::{Absences, Proxy, ProxySettings, DEFAULT_MAX_CRATE_BYTES};
use crate::state::{
    cargo_home, choose_registry, pinned_registries, PinnedRegistry, RegistryDir, RegistryName,
};
use crate::updater_verifier::{Mode, UpdaterVerifier};

/// Options shared by the subcommands that verify (`run`, `proxy`, `verify`).
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The pinned registry to use; `run` and `proxy` take it more than once. Default:
    /// every pinned registry for `run` and `proxy`, the only one pinned for `verify`.
    #[arg(long, value_name = "NAME")]
    pub registry: Vec<String>,
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
    /// Open the one registry these options name, or the only one pinned (`verify`).
    /// Call outside any async runtime.
    pub fn open(&self, proxy: &ProxyArgs) -> anyhow::Result<Opened> {
        let named = match self.registry.as_slice() {
            [] => None,
            [one] => Some(one.as_str()),
            [..] => anyhow::bail!("this command checks one registry: give --registry once"),
        };
        let cargo_home = cargo_home()?;
        let dir = choose_registry(&cargo_home, named)?;
        self.open_dir(proxy, cargo_home, dir)
    }

    /// Open every registry these options name (each once, in the order given), or every
    /// pinned registry when none is named (`run`, `proxy`): cargo asks only for those
    /// the project uses. Call outside any async runtime.
    pub fn open_all(&self, proxy: &ProxyArgs) -> anyhow::Result<Vec<Opened>> {
        let cargo_home = cargo_home()?;
        let names = if self.registry.is_empty() {
            let pinned = pinned_registries(&cargo_home)?;
            if pinned.is_empty() {
                anyhow::bail!(
                    "no registry is pinned under {}; run `cargo tuf init` first",
                    cargo_home.join("tuf").display()
                );
            }
            pinned
        } else {
            let mut names: Vec<RegistryName> = Vec::new();
            for name in &self.registry {
                let name = RegistryName::parse(name)?;
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            names
        };
        names
            .iter()
            .map(|name| {
                let dir = RegistryDir::new(&cargo_home, name);
                self.open_dir(proxy, cargo_home.clone(), dir)
                    .with_context(|| format!("while opening the pinned registry `{name}`"))
            })
            .collect()
    }

    fn open_dir(
        &self,
        proxy: &ProxyArgs,
        cargo_home: PathBuf,
        dir: RegistryDir,
    ) -> anyhow::Result<Opened> {
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
            absences: Absences::Print,
            verbose: proxy.verbose,
        }
    }

    /// One proxy per pin in `opened`, serving at the matching origin of `origins`
    /// ([`Bound::origins`]), each with [`VerifyArgs::proxy_settings`] as `adjust` leaves
    /// them (`run` collects absences and lets cargo print refusals; `proxy` does not).
    pub fn proxies(
        &self,
        opened: &[Opened],
        origins: &[String],
        proxy: &ProxyArgs,
        adjust: impl Fn(&mut ProxySettings),
    ) -> Vec<Arc<Proxy>> {
        opened
            .iter()
            .zip(origins)
            .map(|(each, origin)| {
                let mut settings = self.proxy_settings(each, proxy);
                adjust(&mut settings);
                Arc::new(Proxy::new(
                    each.verifier.clone(),
                    each.fetcher.clone(),
                    settings,
                    origin,
                ))
            })
            .collect()
    }
}

/// The loopback listeners of one proxy serving several pins, and each pin's origin.
#[derive(Debug)]
pub struct Bound {
    /// One listener per distinct address.
    pub listeners: Vec<std::net::TcpListener>,
    /// `http://127.0.0.1:PORT` for each pin, in the order given to [`bind_pins`].
    pub origins: Vec<String>,
}

/// Bind the proxy's listeners for `opened`: on `one` for all of them when given, else a
/// listener per pin on its pinned port (pins sharing a port share its listener; port 0
/// gets a free port). Cargo keys its caches by the replacement URL, port included, so
/// a listener per pin keeps every registry's URL, and its caches, what they are when
/// that registry is used alone. When `fall_back`, a taken port is replaced by a free
/// one with a warning (`run`); else it is an error (`proxy`, which keeps serving).
/// Call outside any async runtime; the listeners are non-blocking.
pub fn bind_pins(
    opened: &[Opened],
    one: Option<std::net::SocketAddr>,
    fall_back: bool,
) -> anyhow::Result<Bound> {
    let mut listeners: Vec<std::net::TcpListener> = Vec::new();
    // The port asked for (0 never shared) and the listener it got.
    let mut by_port: Vec<(u16, usize)> = Vec::new();
    let mut origins = Vec::new();
    for each in opened {
        let name = &each.pinned.name;
        let address =
            one.unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], each.pinned.port)));
        let asked = address.port();
        let shared = by_port
            .iter()
            .find(|(port, _)| *port == asked && (asked != 0 || one.is_some()))
            .map(|(_, index)| *index);
        let index = match shared {
            Some(index) => index,
            None => {
                let listener = match std::net::TcpListener::bind(address) {
                    Ok(listener) => listener,
                    Err(e) if fall_back && asked != 0 => {
                        eprintln!(
                            "cargo-tuf: warning: port {asked} (for `{name}`) is taken ({e}); \
                             using a free port, so cargo will not reuse its caches of `{name}` \
                             from earlier runs"
                        );
                        std::net::TcpListener::bind((address.ip(), 0))
                            .with_context(|| format!("while binding the proxy for `{name}`"))?
                    }
                    Err(e) => {
                        return Err(e).with_context(|| {
                            format!(
                                "while binding {address} for `{name}`{}",
                                if one.is_none() {
                                    " (the port pinned by `cargo tuf init`; give another with \
                                     --listen)"
                                } else {
                                    ""
                                }
                            )
                        })
                    }
                };
                listener.set_nonblocking(true)?;
                listeners.push(listener);
                let index = listeners.len() - 1;
                by_port.push((asked, index));
                index
            }
        };
        let address = listeners
            .get(index)
            .context("proxy listener missing")?
            .local_addr()?;
        origins.push(format!("http://{address}"));
    }
    Ok(Bound { listeners, origins })
}

/// The `--config` arguments that make cargo use the proxy in place of each registry of
/// `served` (source replacement; nothing in the user's files changes), given with the
/// proxy URL of its pin ([`PinnedRegistry::proxy_url`],
/// `http://127.0.0.1:PORT/{registry}/{pin}/`): cargo keys its caches by it.
///
/// crates.io is replaced through its built-in source name `crates-io`. A `[registries]`
/// entry has no `[source]` name of its own; cargo matches sources by URL, so a source
/// `cargo-tuf-upstream-{name}` with the registry's exact index URL names it, and is
/// replaced. The replacement sources are `cargo-tuf-{name}`: one per registry, so several
/// registries can be replaced in one cargo run.
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
pub fn source_replacement_args<'a>(
    served: impl IntoIterator<Item = (&'a PinnedRegistry, &'a str)>,
) -> Vec<String> {
    let quote = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let mut args = Vec::new();
    let mut config = |key: &str, value: &str| {
        args.push("--config".to_owned());
        args.push(format!("{key}={}", quote(value)));
    };
    for (pinned, proxy_url) in served {
        // Registry names are letters, digits, `-` and `_` (`RegistryName`): valid in a
        // dotted config key as they stand.
        let name = &pinned.name;
        let replacement = format!("cargo-tuf-{name}");
        if name.is_crates_io() {
            config("source.crates-io.replace-with", &replacement);
        } else {
            let upstream = format!("source.cargo-tuf-upstream-{name}");
            config(&format!("{upstream}.registry"), &pinned.index_url);
            config(&format!("{upstream}.replace-with"), &replacement);
        }
        config(
            &format!("source.{replacement}.registry"),
            &format!("sparse+{proxy_url}"),
        );
    }
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
        let pinned = PinnedRegistry {
            name: RegistryName::parse("crates-io").unwrap(),
            index_url: "sparse+https://index.crates.io/".into(),
            metadata_url: "https://m/".into(),
            port: 0,
            pin: crate::state::PinId::parse("0123456789abcdef").unwrap(),
        };
        let url = pinned.proxy_url("http://127.0.0.1:9");
        assert_eq!(url, "http://127.0.0.1:9/crates-io/0123456789abcdef/");
        assert_eq!(
            source_replacement_args([(&pinned, url.as_str())]),
            [
                "--config",
                "source.crates-io.replace-with=\"cargo-tuf-crates-io\"",
                "--config",
                "source.cargo-tuf-crates-io.registry=\"sparse+http://127.0.0.1:9/crates-io/0123456789abcdef/\"",
                "--config",
                "http.multiplexing=false"
            ]
        );
        let mut private = pinned.clone();
        private.name = RegistryName::parse("private").unwrap();
        private.index_url = "sparse+https://reg.example/index/".into();
        let private_url = private.proxy_url("http://127.0.0.1:10");
        let args = source_replacement_args([(&private, private_url.as_str())]);
        assert_eq!(
            args[1],
            "source.cargo-tuf-upstream-private.registry=\"sparse+https://reg.example/index/\""
        );
        assert_eq!(
            args[3],
            "source.cargo-tuf-upstream-private.replace-with=\"cargo-tuf-private\""
        );
        assert_eq!(args.len(), 8);
        // Both in one run: a replacement source each, multiplexing off once.
        let both =
            source_replacement_args([(&pinned, url.as_str()), (&private, private_url.as_str())]);
        assert_eq!(both.len(), 12);
        assert!(both.contains(
            &"source.cargo-tuf-private.registry=\"sparse+http://127.0.0.1:10/private/0123456789abcdef/\"".to_owned()
        ));
        assert_eq!(both.iter().filter(|a| a.starts_with("http.")).count(), 1);
    }
}
