//! What `cargo tuf init` pins, and where verified metadata is kept between runs.
//!
//! Layout under `$CARGO_HOME/tuf/<registry>/`:
//!
//! | path | what |
//! |---|---|
//! | `registry.json` | [`PinnedRegistry`]: name, index URL, metadata URL, proxy port, pin id |
//! | `metadata/` | `tuf-client`'s metadata store: `root.json` (the trusted root: the file given to `init`, replaced on each verified rotation), the last verified `timestamp.json`, `snapshot.json`, `targets.json` and bins (`delegated.crates-bin-*.json`); and `checked.json` (when the timestamp was last checked online) |
//! | `index/` | index files that passed verification, one flat file per sparse path, percent-encoded (`se%2Frd%2Fserde`): re-checked against the signed entry before each use |
//!
//! Every write is atomic: a temporary file in the same directory, fsync, rename (the
//! index cache in `proxy` skips the fsync: it is checked again before each use).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// The registry name cargo uses for crates.io; replacing it uses `source.crates-io`.
pub const CRATES_IO: &str = "crates-io";

/// A registry name as cargo accepts it in `[registries]`: ASCII letters, digits, `-`, `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegistryName(String);

impl RegistryName {
    /// Check and wrap `name`.
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            bail!(
                "registry name {name:?} must be 1 to 64 ASCII letters, digits, `-` or `_` \
                 (the names cargo accepts in [registries])"
            );
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is crates.io (replaced through `source.crates-io`).
    pub fn is_crates_io(&self) -> bool {
        self.0 == CRATES_IO
    }
}

impl TryFrom<String> for RegistryName {
    type Error = anyhow::Error;
    fn try_from(s: String) -> anyhow::Result<Self> {
        Self::parse(&s)
    }
}

impl From<RegistryName> for String {
    fn from(name: RegistryName) -> String {
        name.0
    }
}

impl std::fmt::Display for RegistryName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One pin of a registry: a random token, new for every `cargo tuf init` that starts a
/// chain of trust (a first pin, or `--force`), kept while the pin is unchanged.
///
/// It is a path segment of the proxy's URL ([`PinnedRegistry::mount`]), because cargo
/// names its caches (`registry/{index,cache,src}/<host>-<hash of URL>`) after the URL and
/// trusts what is in them: a `.crate` in `registry/cache` is not hashed again, a source
/// tree with `.cargo-ok` is not unpacked again. A new pin must therefore be a new URL, so
/// nothing cargo kept under an earlier chain of trust is used under this one.
///
/// Random rather than a counter: a counter starts again at 1 when the pin directory is
/// removed and the registry pinned anew (or `$CARGO_HOME/tuf` is restored from a CI
/// cache), and would bring back a URL whose cargo caches were filled under another
/// chain of trust; 64 random bits do not repeat, and need no state beyond the pin file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PinId(String);

impl PinId {
    /// The id of pins written before ids existed (`registry.json` without `pin`). Never
    /// a random id (those are 16 characters), so such a pin gets a URL of its own, apart
    /// from the caches of the port-only URLs earlier versions used.
    pub const LEGACY: &'static str = "0";

    /// A new random id: 16 lowercase hex digits (64 bits from the OS generator).
    pub fn random() -> anyhow::Result<Self> {
        let mut bytes = [0u8; 8];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| anyhow::anyhow!("the operating system's random generator failed"))?;
        Ok(Self(hex::encode(bytes)))
    }

    /// Check and wrap `id`: 1 to 64 lowercase ASCII letters or digits, so it is one URL
    /// path segment as it stands.
    pub fn parse(id: &str) -> anyhow::Result<Self> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
        if !ok {
            bail!("pin id {id:?} must be 1 to 64 lowercase ASCII letters or digits");
        }
        Ok(Self(id.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for PinId {
    fn default() -> Self {
        Self(Self::LEGACY.to_owned())
    }
}

impl TryFrom<String> for PinId {
    type Error = anyhow::Error;
    fn try_from(s: String) -> anyhow::Result<Self> {
        Self::parse(&s)
    }
}

impl From<PinId> for String {
    fn from(id: PinId) -> String {
        id.0
    }
}

/// Where the proxy serves one pinned registry: under `/{registry}/{pin}/`.
///
/// The replacement URL cargo is given is `http://127.0.0.1:PORT/{registry}/{pin}/`, so it
/// differs between registries (even on one port) and between pins of one registry, and
/// cargo's caches with it. The proxy routes a request on the first two segments of its
/// path ([`Mount::split`]); one proxy serving several pinned registries
/// ([`crate::proxy::Routes`]) routes on the same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mount {
    /// The registry.
    pub registry: RegistryName,
    /// Its pin.
    pub pin: PinId,
}

impl Mount {
    /// `/{registry}/{pin}/`.
    pub fn path(&self) -> String {
        format!("/{}/{}/", self.registry, self.pin.as_str())
    }

    /// Whether `registry` and `pin` (as [`Mount::split`] found them) name this mount.
    pub fn is(&self, registry: &str, pin: &str) -> bool {
        self.registry.as_str() == registry && self.pin.as_str() == pin
    }

    /// Split a request path `/{registry}/{pin}/{rest}` into its mount segments and the
    /// rest; `None` when it has fewer than two segments before a `/`.
    pub fn split(path: &str) -> Option<(&str, &str, &str)> {
        let (registry, after) = path.strip_prefix('/')?.split_once('/')?;
        let (pin, rest) = after.split_once('/')?;
        Some((registry, pin, rest))
    }
}

/// A registry's pinned trust settings (`registry.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedRegistry {
    /// The registry name (`crates-io`, or a name from `[registries]`).
    pub name: RegistryName,
    /// The index URL exactly as cargo names the registry (`sparse+https://.../`), so the
    /// source replacement matches it; the proxy fetches from it without `sparse+`.
    pub index_url: String,
    /// Base URL of the TUF metadata, ending in `/`.
    pub metadata_url: String,
    /// Loopback port for `cargo tuf run`'s proxy; 0 picks a free one each run. Cargo keys
    /// its caches by the replacement URL, port included, so a fixed port keeps them warm.
    #[serde(default)]
    pub port: u16,
    /// This pin's id, part of the proxy's URL (see [`PinId`]); [`PinId::LEGACY`] for pin
    /// files written before it existed.
    #[serde(default)]
    pub pin: PinId,
}

impl PinnedRegistry {
    /// Where the proxy serves this pin.
    pub fn mount(&self) -> Mount {
        Mount {
            registry: self.name.clone(),
            pin: self.pin.clone(),
        }
    }

    /// The proxy's URL for this pin when it listens on `origin` (`http://127.0.0.1:PORT`,
    /// no trailing `/`): `{origin}/{registry}/{pin}/`.
    pub fn proxy_url(&self, origin: &str) -> String {
        format!("{origin}{}", self.mount().path())
    }

    /// The URL the proxy fetches index files from: `index_url` without `sparse+`.
    pub fn upstream_index_url(&self) -> &str {
        self.index_url
            .strip_prefix("sparse+")
            .unwrap_or(&self.index_url)
    }
}

/// Normalise a sparse index URL: `sparse+` prefix, trailing `/`, http(s) only.
pub fn normalise_index_url(url: &str) -> anyhow::Result<String> {
    let bare = url.strip_prefix("sparse+").unwrap_or(url);
    if !(bare.starts_with("https://") || bare.starts_with("http://")) {
        bail!("index URL {url:?} must be a sparse index URL (sparse+https://...)");
    }
    let slash = if bare.ends_with('/') { "" } else { "/" };
    Ok(format!("sparse+{bare}{slash}"))
}

/// Normalise a metadata base URL: http(s), trailing `/`.
pub fn normalise_base_url(url: &str) -> anyhow::Result<String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        bail!("metadata URL {url:?} must start with https:// (or http:// for a local server)");
    }
    let slash = if url.ends_with('/') { "" } else { "/" };
    Ok(format!("{url}{slash}"))
}

/// `$CARGO_HOME`, as cargo finds it: the variable, else `~/.cargo`.
pub fn cargo_home() -> anyhow::Result<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("neither CARGO_HOME nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cargo"))
}

/// The directory of one pinned registry.
#[derive(Debug, Clone)]
pub struct RegistryDir {
    dir: PathBuf,
}

impl RegistryDir {
    /// `$CARGO_HOME/tuf/<name>`.
    pub fn new(cargo_home: &Path, name: &RegistryName) -> Self {
        Self {
            dir: cargo_home.join("tuf").join(name.as_str()),
        }
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `registry.json`.
    pub fn registry_file(&self) -> PathBuf {
        self.dir.join("registry.json")
    }

    /// `metadata/root.json`: the trusted root, where `tuf-client`'s updater keeps it.
    pub fn root_file(&self) -> PathBuf {
        self.metadata_dir().join("root.json")
    }

    /// Move a trusted root kept where earlier versions put it (`root.json` beside
    /// `registry.json`) to [`RegistryDir::root_file`], unless one is already there.
    pub fn migrate_legacy_root(&self) -> std::io::Result<()> {
        let legacy = self.dir.join("root.json");
        let current = self.root_file();
        if current.exists() || !legacy.exists() {
            return Ok(());
        }
        write_atomic(&current, &fs::read(&legacy)?)?;
        fs::remove_file(&legacy)
    }

    /// `metadata/`: last verified top-level roles and bins.
    pub fn metadata_dir(&self) -> PathBuf {
        self.dir.join("metadata")
    }

    /// `index/`: verified index files, one file per sparse path (percent-encoded, flat).
    pub fn index_dir(&self) -> PathBuf {
        self.dir.join("index")
    }

    /// Read `registry.json`.
    pub fn load(&self) -> anyhow::Result<PinnedRegistry> {
        let path = self.registry_file();
        let bytes = fs::read(&path).with_context(|| {
            format!(
                "while reading {}: is this registry pinned? (run `cargo tuf init`)",
                path.display()
            )
        })?;
        serde_json::from_slice(&bytes).with_context(|| format!("while parsing {}", path.display()))
    }
}

/// The pinned registries under `$CARGO_HOME/tuf/`, by name.
pub fn pinned_registries(cargo_home: &Path) -> anyhow::Result<Vec<RegistryName>> {
    let dir = cargo_home.join("tuf");
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("while listing {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("while listing {}", dir.display()))?;
        if entry.path().join("registry.json").is_file() {
            if let Some(name) = entry.file_name().to_str() {
                if let Ok(name) = RegistryName::parse(name) {
                    names.push(name);
                }
            }
        }
    }
    names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    Ok(names)
}

/// Which pinned registry a command is about: the one named, else the only one pinned.
pub fn choose_registry(cargo_home: &Path, named: Option<&str>) -> anyhow::Result<RegistryDir> {
    let name = match named {
        Some(name) => RegistryName::parse(name)?,
        None => {
            let mut pinned = pinned_registries(cargo_home)?;
            match (pinned.pop(), pinned.is_empty()) {
                (Some(only), true) => only,
                (None, _) => bail!(
                    "no registry is pinned under {}; run `cargo tuf init` first",
                    cargo_home.join("tuf").display()
                ),
                (Some(last), false) => {
                    pinned.push(last);
                    let names: Vec<String> =
                        pinned.iter().map(|n| format!("`{}`", n.as_str())).collect();
                    bail!(
                        "several registries are pinned ({}); say which with --registry NAME",
                        names.join(", ")
                    )
                }
            }
        }
    };
    Ok(RegistryDir::new(cargo_home, &name))
}

/// Write `bytes` to `path` atomically and durably (`tuf_fs`): temp file beside it, fsync,
/// rename, fsync the directory; concurrent writers of one file each use their own temp
/// file. Creates parent directories. Every caller names the path in its error.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    tuf_fs::AtomicWrite::new()
        .create_parents()
        .write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names() {
        RegistryName::parse("crates-io").unwrap();
        RegistryName::parse("my_reg-2").unwrap();
        for bad in ["", "a/b", "..", "a b", "é"] {
            assert!(RegistryName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urls_are_normalised() {
        assert_eq!(
            normalise_index_url("https://index.example/x").unwrap(),
            "sparse+https://index.example/x/"
        );
        assert_eq!(
            normalise_index_url("sparse+http://127.0.0.1:1/").unwrap(),
            "sparse+http://127.0.0.1:1/"
        );
        assert!(normalise_index_url("git://x").is_err());
        assert!(normalise_index_url("https://github.com/rust-lang/crates.io-index").is_ok());
        assert_eq!(
            normalise_base_url("https://m.example/tuf").unwrap(),
            "https://m.example/tuf/"
        );
        assert!(normalise_base_url("file:///x").is_err());
    }

    #[test]
    fn pin_ids_and_mounts() {
        let a = PinId::random().unwrap();
        let b = PinId::random().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 16);
        PinId::parse(a.as_str()).unwrap();
        for bad in ["", "A", "a/b", "..", "a b", &"a".repeat(65)] {
            assert!(PinId::parse(bad).is_err(), "{bad:?}");
        }
        // A pin file from before pin ids loads, with the legacy id.
        let old: PinnedRegistry = serde_json::from_str(
            r#"{"name":"crates-io","index_url":"sparse+https://index.crates.io/","metadata_url":"https://m/","port":23157}"#,
        )
        .unwrap();
        assert_eq!(old.pin.as_str(), PinId::LEGACY);
        assert_eq!(
            old.proxy_url("http://127.0.0.1:23157"),
            "http://127.0.0.1:23157/crates-io/0/"
        );
        let bad: Result<PinnedRegistry, _> = serde_json::from_str(
            r#"{"name":"x","index_url":"sparse+https://i/","metadata_url":"https://m/","pin":"../x"}"#,
        );
        assert!(bad.is_err());

        let mount = old.mount();
        assert_eq!(mount.path(), "/crates-io/0/");
        assert_eq!(
            Mount::split("/crates-io/0/se/rd/serde"),
            Some(("crates-io", "0", "se/rd/serde"))
        );
        assert!(mount.is("crates-io", "0"));
        assert!(!mount.is("crates-io", "1"));
        assert_eq!(Mount::split("/crates-io/0"), None);
        assert_eq!(Mount::split("/config.json"), None);
        assert_eq!(Mount::split("config.json"), None);
    }

    #[test]
    fn atomic_write_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }
}
