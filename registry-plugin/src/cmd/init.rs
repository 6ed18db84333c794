//! `cargo tuf init`: pin a registry's trust.

use std::fs;
use std::path::PathBuf;

use anyhow::{bail, Context};
use tuf_core::metadata::{RoleType, SignedMetadata};
use tuf_core::{verify, Limits};

use crate::state::{
    cargo_home, normalise_base_url, normalise_index_url, pinned_registries, write_atomic, PinId,
    PinnedRegistry, RegistryDir, RegistryName,
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
    /// cannot reuse its caches between runs). A port another pinned registry uses is
    /// refused. Default: the port this registry is pinned on already, else a fixed port
    /// derived from the name (the next one up if another pinned registry has it).
    #[arg(long)]
    pub port: Option<u16>,
    /// Replace an existing pin of this registry. The new pin gets a new proxy URL, so
    /// nothing cargo cached under the old one is used.
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
    dir.migrate_legacy_root()
        .with_context(|| format!("while moving the trusted root in {}", dir.path().display()))?;
    let existing = if dir.registry_file().exists() {
        Some(dir.load()?)
    } else {
        None
    };
    let others = other_pins(&home, &name)?;
    let port = choose_port(&name, args.port, existing.as_ref(), &others)?;
    let mut pinned = PinnedRegistry {
        port: port.port,
        name,
        index_url,
        metadata_url,
        pin: PinId::default(),
    };
    match &existing {
        Some(existing) if !args.force => {
            // The same pin again keeps its id: the same URL, cargo's caches stay warm.
            pinned.pin = existing.pin.clone();
            let trusted_bytes = fs::read(dir.root_file()).ok();
            if *existing != pinned || trusted_bytes.as_deref() != Some(&root_bytes[..]) {
                bail!(
                    "registry `{}` is already pinned in {}{}; pass --force to replace the pin \
                     (a new chain of trust from the root you gave, and a new proxy URL)",
                    pinned.name,
                    dir.path().display(),
                    moved_on(trusted_bytes.as_deref(), root.version.get(), &limits)
                );
            }
        }
        // A new chain of trust: a new URL (see `PinId`).
        _ => pinned.pin = PinId::random()?,
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
    if let Some((derived, holder)) = &port.moved_from {
        tuf_fs::outln!(
            "  note:     port {derived}, derived from the name, is pinned for `{holder}`; \
             using {} instead",
            pinned.port
        )?;
    }
    let origin = if pinned.port == 0 {
        "http://127.0.0.1:<a free port each run>".to_owned()
    } else {
        format!("http://127.0.0.1:{}", pinned.port)
    };
    tuf_fs::outln!("  proxy:    {}", pinned.proxy_url(&origin))?;
    tuf_fs::outln!("Now build through it: cargo tuf run -- build")?;
    Ok(())
}

/// Why a re-pin with the same settings differs: the trusted root has moved on (updates
/// verified root rotations since the pin, TUF §5.3) past the root given now.
fn moved_on(trusted: Option<&[u8]>, given_version: u64, limits: &Limits) -> String {
    let trusted_version = trusted
        .and_then(|bytes| SignedMetadata::parse(bytes, RoleType::Root, limits).ok())
        .and_then(|meta| meta.signed().get("version").and_then(|v| v.as_u64()));
    match trusted_version {
        Some(v) if v != given_version => format!(
            "; its trust has moved on to root v{v} (verified since the pin), and the root \
             you gave is v{given_version}"
        ),
        _ => String::new(),
    }
}

/// The lowest port [`default_port`] gives.
const DERIVED_PORTS_START: u16 = 21000;
/// How many ports [`default_port`] chooses from.
const DERIVED_PORTS: u16 = 9000;

/// A fixed port per registry name in 21000..=29999: outside the ephemeral ranges of
/// Linux (32768+), macOS and Windows (49152+), so it is rarely taken.
pub fn default_port(name: &RegistryName) -> u16 {
    let digest = tuf_core::hash::sha256(name.as_str().as_bytes());
    let n = u16::from_be_bytes([digest[0], digest[1]]);
    DERIVED_PORTS_START + n % DERIVED_PORTS
}

/// The port a pin gets, and, when the derived port was taken, that port and who has it.
#[derive(Debug, PartialEq, Eq)]
struct PortChoice {
    port: u16,
    moved_from: Option<(u16, RegistryName)>,
}

/// The fixed ports of the other pinned registries (`0`, a free port each run, is
/// nobody's). A pin file that does not load is reported and left out: it cannot be used
/// by `cargo tuf run` either.
fn other_pins(
    home: &std::path::Path,
    name: &RegistryName,
) -> anyhow::Result<Vec<(RegistryName, u16)>> {
    let mut others = Vec::new();
    for other in pinned_registries(home)? {
        if other == *name {
            continue;
        }
        match RegistryDir::new(home, &other).load() {
            Ok(pinned) if pinned.port != 0 => others.push((other, pinned.port)),
            Ok(_) => {}
            Err(e) => eprintln!("cargo-tuf: warning: ignoring the pin of `{other}`: {e:#}"),
        }
    }
    Ok(others)
}

/// Choose the pin's port. Two pins on one port are refused even though their URLs
/// differ (see `PinId`): their proxies could not run at once, and `cargo tuf run` would
/// then fall back to a free port and cold caches. So:
///
/// * an explicit `--port` another pin has is refused, naming that pin;
/// * without `--port`, the port this registry is pinned on already is kept unless
///   another pin has taken it since; else the port derived from the name, or, when
///   another pin has that one, the next derived port up that nobody has. Moving on is
///   friendlier than refusing: the user did not choose the port, and the next one is
///   as fixed (it is stored in the pin) and as far from the ephemeral ranges.
fn choose_port(
    name: &RegistryName,
    explicit: Option<u16>,
    existing: Option<&PinnedRegistry>,
    others: &[(RegistryName, u16)],
) -> anyhow::Result<PortChoice> {
    let holder = |port: u16| others.iter().find(|(_, p)| *p == port).map(|(n, _)| n);
    let derived = default_port(name);
    // INVARIANT: `derived` is in DERIVED_PORTS_START..DERIVED_PORTS_START + DERIVED_PORTS
    // (`default_port`), so `derived - START + step` < 2 * DERIVED_PORTS and the result is
    // at most 29999: no overflow.
    let free_derived = || {
        (0..DERIVED_PORTS)
            .map(|step| {
                DERIVED_PORTS_START + (derived - DERIVED_PORTS_START + step) % DERIVED_PORTS
            })
            .find(|port| holder(*port).is_none())
    };
    match explicit {
        Some(0) => Ok(PortChoice {
            port: 0,
            moved_from: None,
        }),
        Some(port) => match holder(port) {
            None => Ok(PortChoice {
                port,
                moved_from: None,
            }),
            Some(other) => {
                let suggestion =
                    free_derived().map_or_else(String::new, |free| format!("--port {free}, or "));
                bail!(
                    "port {port} is already pinned for registry `{other}`; two pinned \
                     registries cannot share a proxy port: choose another with \
                     {suggestion}--port 0 for a free port each run"
                )
            }
        },
        None => {
            if let Some(existing) = existing.filter(|e| holder(e.port).is_none()) {
                return Ok(PortChoice {
                    port: existing.port,
                    moved_from: None,
                });
            }
            let port = free_derived().ok_or_else(|| {
                anyhow::anyhow!(
                    "every port from {DERIVED_PORTS_START} on is pinned for another registry; \
                     choose one with --port"
                )
            })?;
            let moved_from = holder(derived).map(|other| (derived, other.clone()));
            Ok(PortChoice { port, moved_from })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> RegistryName {
        RegistryName::parse(s).unwrap()
    }

    #[test]
    fn ports_are_derived_moved_on_kept_or_refused() {
        let crates_io = default_port(&name("crates-io"));
        // The collision the issue found.
        assert_eq!(default_port(&name("company4019")), crates_io);
        let others = vec![(name("crates-io"), crates_io)];
        let choice = choose_port(&name("company4019"), None, None, &others).unwrap();
        assert_eq!(choice.port, crates_io + 1);
        assert_eq!(choice.moved_from, Some((crates_io, name("crates-io"))));
        // Wrapping at the top of the range.
        let top = vec![(name("a"), 29999), (name("b"), 21000)];
        let mut at_top = name("x");
        for i in 0.. {
            at_top = name(&format!("r{i}"));
            if default_port(&at_top) == 29999 {
                break;
            }
        }
        assert_eq!(choose_port(&at_top, None, None, &top).unwrap().port, 21001);

        let err = choose_port(&name("third"), Some(crates_io), None, &others).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("`crates-io`") && message.contains("--port"),
            "{message}"
        );
        assert_eq!(
            choose_port(&name("third"), Some(0), None, &others)
                .unwrap()
                .port,
            0
        );

        let mut pinned = PinnedRegistry {
            name: name("company4019"),
            index_url: "sparse+https://i/".into(),
            metadata_url: "https://m/".into(),
            port: 30000,
            pin: PinId::default(),
        };
        let kept = choose_port(&pinned.name, None, Some(&pinned), &others).unwrap();
        assert_eq!(kept.port, 30000);
        pinned.port = crates_io;
        let moved = choose_port(&pinned.name, None, Some(&pinned), &others).unwrap();
        assert_eq!(moved.port, crates_io + 1);
    }
}
