//! tough-gen: writes a small signed TUF repository with awslabs' `tough` (an implementation
//! independent of ours) and copies its metadata into test vectors.
//!
//! Usage: `cargo run -- ../tough` (from `test-vectors/tough-gen`). Writes
//! `<out>/repo/metadata/` and `<out>/repo/targets/` exactly as tough's editor writes them, and
//! `<out>/../metadata/tough-*.json` vectors in the format of `test-vectors/README.md`.
//!
//! Everything fixed is fixed here: keys (`keys/`, test keys only), index files (`index/`),
//! versions and expiry dates. What is not reproducible byte for byte comes from tough itself:
//! its ECDSA and RSA-PSS signatures are randomized and it pretty-prints from `HashMap`s, so
//! member order in the written files changes from run to run (see `../tough/README.md`).

#![forbid(unsafe_code)]

use anyhow::{anyhow, bail, ensure, Context, Result};
use aws_lc_rs::rand::SystemRandom;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use tough::editor::signed::{PathExists, SignedRole};
use tough::editor::RepositoryEditor;
use tough::key_source::KeySource;
use tough::schema::{
    KeyHolder, PathHashPrefix, PathPattern, PathSet, RoleKeys, RoleType, Root, Target,
};
use tough::sign::{parse_keypair, Sign};
use tough::{async_trait, IntoVec, RepositoryLoader, TargetName};

/// Expiry of every role: far enough away that the vectors never go stale.
const EXPIRES: &str = "2099-01-01T00:00:00Z";

/// Distinct versions per role, so that a verifier mixing roles up is caught.
const ROOT_VERSION: u64 = 1;
const TARGETS_VERSION: u64 = 3;
const SNAPSHOT_VERSION: u64 = 5;
const TIMESTAMP_VERSION: u64 = 7;
const CRATES_SE_VERSION: u64 = 2;
const CRATES_BINS_VERSION: u64 = 4;

/// Delegated role trusted by `paths` patterns.
const CRATES_SE: &str = "crates-se";
const CRATES_SE_PATHS: &[&str] = &["se/rd/*"];
/// Delegated role trusted by `path_hash_prefixes`. SHA-256("3/a/abc") = 31b6bb70...,
/// SHA-256 of the other target paths starts with 2a, 58 and bf, so only `3/a/abc` falls here.
const CRATES_BINS: &str = "crates-bins";
const CRATES_BINS_PREFIXES: &[&str] = &["30", "31", "32", "33"];

/// Which role lists a target, and its `custom` field.
struct TargetSpec {
    path: &'static str,
    role: &'static str,
    custom: fn() -> Value,
}

const TARGETS: &[TargetSpec] = &[
    TargetSpec {
        path: "config.json",
        role: "targets",
        custom: || json!({ "kind": "config" }),
    },
    TargetSpec {
        path: "1/a",
        role: "targets",
        custom: || json!({ "kind": "index", "crate": "a", "lines": 1 }),
    },
    TargetSpec {
        path: "se/rd/serde",
        role: CRATES_SE,
        custom: || json!({ "kind": "index", "crate": "serde", "lines": 2 }),
    },
    TargetSpec {
        path: "3/a/abc",
        role: CRATES_BINS,
        custom: || json!({ "kind": "index", "crate": "abc", "lines": 2, "yanked": ["0.2.0"] }),
    },
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let out_dir = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => bail!("usage: tough-gen OUT_DIR   (e.g. `cargo run -- ../tough`)"),
    };
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tough_version = locked_version(crate_dir, "tough")?;
    let source = format!("tough {tough_version} (tough-gen)");

    let repo_dir = out_dir.join("repo");
    let metadata_dir = repo_dir.join("metadata");
    let targets_dir = repo_dir.join("targets");
    if repo_dir.exists() {
        // Old consistent-snapshot files have other names; start from nothing.
        std::fs::remove_dir_all(&repo_dir)
            .with_context(|| format!("while removing {}", repo_dir.display()))?;
    }
    std::fs::create_dir_all(&metadata_dir)?;
    std::fs::create_dir_all(&targets_dir)?;

    let keys = Keys::load(&crate_dir.join("keys")).await?;
    let expires: jiff::Timestamp = EXPIRES.parse()?;

    // Root: tough's editor starts from a signed root file; the library builds one from its
    // schema types and signs it with `SignedRole`.
    let root = build_root(&keys, expires).await?;
    let signed_root = SignedRole::new(
        root.clone(),
        &KeyHolder::Root(root),
        &keys.sources(ROOT_KEYS),
        &SystemRandom::new(),
    )
    .await?;
    let root_path = metadata_dir.join(format!("{ROOT_VERSION}.root.json"));
    std::fs::write(&root_path, signed_root.buffer())?;

    let index_dir = crate_dir.join("index");
    let mut editor = RepositoryEditor::new(&root_path).await?;
    editor
        .snapshot_version(nz(SNAPSHOT_VERSION)?)
        .snapshot_expires(expires)
        .timestamp_version(nz(TIMESTAMP_VERSION)?)
        .timestamp_expires(expires);
    let patterns = CRATES_SE_PATHS
        .iter()
        .map(|p| PathPattern::new(*p))
        .collect::<Result<Vec<_>, _>>()?;
    editor
        .delegate_role(
            CRATES_SE,
            &keys.sources(CRATES_SE_KEYS),
            PathSet::Paths(patterns),
            false,
            nz(1)?,
            expires,
            nz(CRATES_SE_VERSION)?,
        )
        .await?;
    let prefixes = CRATES_BINS_PREFIXES
        .iter()
        .map(|p| PathHashPrefix::new(*p))
        .collect::<Result<Vec<_>, _>>()?;
    editor
        .delegate_role(
            CRATES_BINS,
            &keys.sources(CRATES_BINS_KEYS),
            PathSet::PathHashPrefixes(prefixes),
            true,
            nz(1)?,
            expires,
            nz(CRATES_BINS_VERSION)?,
        )
        .await?;

    // Top-level targets, then each delegated role in turn (tough's editor is modal).
    let roles = [
        ("targets", TARGETS_VERSION, TARGETS_KEYS),
        (CRATES_SE, CRATES_SE_VERSION, CRATES_SE_KEYS),
        (CRATES_BINS, CRATES_BINS_VERSION, CRATES_BINS_KEYS),
    ];
    for (i, (role, version, role_keys)) in roles.iter().enumerate() {
        if i > 0 {
            editor.change_delegated_targets(role)?;
        }
        for spec in TARGETS.iter().filter(|t| t.role == *role) {
            editor.add_target(spec.path, target(&index_dir, spec).await?)?;
        }
        editor
            .targets_version(nz(*version)?)?
            .targets_expires(expires)?
            .sign_targets_editor(&keys.sources(role_keys))
            .await?;
    }

    let signed_repo = editor.sign(&keys.all()).await?;
    signed_repo.write(&metadata_dir).await?;
    for spec in TARGETS {
        let name = TargetName::new(spec.path)?;
        signed_repo
            .copy_target(
                &index_dir.join(spec.path),
                &targets_dir,
                PathExists::Fail,
                Some(&name),
            )
            .await?;
    }

    load_with_tough_client(&metadata_dir, &targets_dir, &index_dir).await?;
    write_vectors(&out_dir, &metadata_dir, &source)?;
    println!("wrote {} with {source}", repo_dir.display());
    Ok(())
}

/// The fixed test keys (files in `keys/`). ed25519, ecdsa-sha2-nistp256 and RSA
/// (rsassa-pss-sha256) are the three key types tough signs with; root mixes all three.
const ROOT_KEYS: &[&str] = &["root-1.ed25519.pem", "root-2.ecdsa.pem", "root-3.rsa.pem"];
const TARGETS_KEYS: &[&str] = &["targets.ed25519.pem"];
const SNAPSHOT_KEYS: &[&str] = &["snapshot.ecdsa.pem"];
const TIMESTAMP_KEYS: &[&str] = &["timestamp.ed25519.pem"];
const CRATES_SE_KEYS: &[&str] = &["crates-se.ecdsa.pem"];
const CRATES_BINS_KEYS: &[&str] = &["crates-bins.ed25519.pem"];

struct Keys {
    dir: PathBuf,
}

impl Keys {
    async fn load(dir: &Path) -> Result<Self> {
        let keys = Keys {
            dir: dir.to_owned(),
        };
        // Fail early, naming the file, if a key does not parse.
        for source in keys.all() {
            source
                .as_sign()
                .await
                .map_err(|e| anyhow!("{source:?}: {e}"))?;
        }
        Ok(keys)
    }

    fn sources(&self, files: &[&str]) -> Vec<Box<dyn KeySource>> {
        files
            .iter()
            .map(|file| -> Box<dyn KeySource> {
                Box::new(PemKeySource {
                    path: self.dir.join(file),
                })
            })
            .collect()
    }

    /// Every key; tough signs each role only with the keys its delegator lists for it.
    fn all(&self) -> Vec<Box<dyn KeySource>> {
        let files: Vec<&str> = [
            ROOT_KEYS,
            TARGETS_KEYS,
            SNAPSHOT_KEYS,
            TIMESTAMP_KEYS,
            CRATES_SE_KEYS,
            CRATES_BINS_KEYS,
        ]
        .concat();
        self.sources(&files)
    }
}

/// A PKCS#8 PEM private key file. tough's own `LocalKeySource` hands the file bytes to
/// `parse_keypair`, which reads ed25519 and ECDSA keys only as DER and RSA keys only as PEM;
/// this source accepts the PEM files `openssl genpkey` writes for all three.
#[derive(Debug)]
struct PemKeySource {
    path: PathBuf,
}

#[async_trait]
impl KeySource for PemKeySource {
    async fn as_sign(
        &self,
    ) -> Result<Box<dyn Sign>, Box<dyn std::error::Error + Send + Sync + 'static>> {
        let text = std::fs::read(&self.path)?;
        if let Ok(sign) = parse_keypair(&text) {
            return Ok(Box::new(sign));
        }
        let der = pem::parse(&text)?;
        Ok(Box::new(parse_keypair(der.contents())?))
    }

    async fn write(
        &self,
        _value: &str,
        _key_id_hex: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        Err("tough-gen never writes keys".into())
    }
}

async fn build_root(keys: &Keys, expires: jiff::Timestamp) -> Result<Root> {
    let mut root = Root {
        spec_version: "1.0.0".to_owned(),
        consistent_snapshot: true,
        version: nz(ROOT_VERSION)?,
        expires,
        keys: HashMap::new(),
        roles: HashMap::new(),
        _extra: HashMap::new(),
    };
    let roles = [
        (RoleType::Root, ROOT_KEYS, 2),
        (RoleType::Targets, TARGETS_KEYS, 1),
        (RoleType::Snapshot, SNAPSHOT_KEYS, 1),
        (RoleType::Timestamp, TIMESTAMP_KEYS, 1),
    ];
    for (role, files, threshold) in roles {
        let mut keyids = Vec::new();
        for source in keys.sources(files) {
            let key = source
                .as_sign()
                .await
                .map_err(|e| anyhow!("{source:?}: {e}"))?
                .tuf_key();
            let keyid = key.key_id()?;
            root.keys.insert(keyid.clone(), key);
            keyids.push(keyid);
        }
        root.roles.insert(
            role,
            RoleKeys {
                keyids,
                threshold: nz(threshold)?,
                _extra: HashMap::new(),
            },
        );
    }
    Ok(root)
}

async fn target(index_dir: &Path, spec: &TargetSpec) -> Result<Target> {
    let mut target = Target::from_path(index_dir.join(spec.path)).await?;
    let Value::Object(custom) = (spec.custom)() else {
        bail!("custom of {} is not an object", spec.path);
    };
    target.custom = custom.into_iter().collect();
    Ok(target)
}

/// Loads what was written with tough's own client, from file:// URLs, as a check that the
/// repository is whole: every target must be found (through its delegation) and match.
async fn load_with_tough_client(
    metadata_dir: &Path,
    targets_dir: &Path,
    index_dir: &Path,
) -> Result<()> {
    let trusted_root = std::fs::read(metadata_dir.join(format!("{ROOT_VERSION}.root.json")))?;
    let dir_url = |dir: &Path| -> Result<url::Url> {
        let dir = dir.canonicalize()?;
        url::Url::from_directory_path(&dir).map_err(|()| anyhow!("no URL for {}", dir.display()))
    };
    let repo = RepositoryLoader::new(&trusted_root, dir_url(metadata_dir)?, dir_url(targets_dir)?)
        .load()
        .await
        .context("tough's client could not load the repository it wrote")?;
    for spec in TARGETS {
        let name = TargetName::new(spec.path)?;
        let stream = repo
            .read_target(&name)
            .await?
            .with_context(|| format!("tough's client finds no target {}", spec.path))?;
        let bytes = stream.into_vec().await?;
        ensure!(
            bytes == std::fs::read(index_dir.join(spec.path))?,
            "target {} read back differs",
            spec.path
        );
    }
    Ok(())
}

/// One vector per role as written, plus tampered copies that must fail.
fn write_vectors(out_dir: &Path, metadata_dir: &Path, source: &str) -> Result<()> {
    let vectors_dir = out_dir.join("..").join("metadata");
    std::fs::create_dir_all(&vectors_dir)?;
    let read = |file: String| -> Result<Value> {
        let path = metadata_dir.join(&file);
        let text = std::fs::read(&path).with_context(|| format!("while reading {file}"))?;
        serde_json::from_slice(&text).with_context(|| format!("while parsing {file}"))
    };
    let root = read(format!("{ROOT_VERSION}.root.json"))?;
    let targets = read(format!("{TARGETS_VERSION}.targets.json"))?;
    let roles = [
        (
            "root",
            "root",
            read(format!("{ROOT_VERSION}.root.json"))?,
            ROOT_VERSION,
        ),
        (
            "timestamp",
            "timestamp",
            read("timestamp.json".to_owned())?,
            TIMESTAMP_VERSION,
        ),
        (
            "snapshot",
            "snapshot",
            read(format!("{SNAPSHOT_VERSION}.snapshot.json"))?,
            SNAPSHOT_VERSION,
        ),
        ("targets", "targets", targets.clone(), TARGETS_VERSION),
        (
            CRATES_SE,
            "targets",
            read(format!("{CRATES_SE_VERSION}.{CRATES_SE}.json"))?,
            CRATES_SE_VERSION,
        ),
        (
            CRATES_BINS,
            "targets",
            read(format!("{CRATES_BINS_VERSION}.{CRATES_BINS}.json"))?,
            CRATES_BINS_VERSION,
        ),
    ];

    for (name, role_type, metadata, version) in roles {
        // Members come out sorted by name: serde_json's `preserve_order` would also change
        // how tough (sharing the crate) builds its `Value`s, and its output must stay its own.
        let base = |description: String, metadata: Value, expect: Value| -> Value {
            let mut vector = json!({
                "description": description,
                "source": source,
                "role": role_type,
            });
            if role_type == "targets" && name != "targets" {
                vector["delegated_role"] = json!(name);
            }
            vector["metadata"] = metadata;
            match (name, role_type) {
                ("root", _) => vector["self_signed"] = json!(true),
                ("targets", _) | (_, "timestamp" | "snapshot") => {
                    vector["verify_with_root"] = root.clone();
                }
                _ => vector["verify_with_delegator"] = targets.clone(),
            }
            vector["expect"] = expect;
            vector
        };
        let write = |file: String, vector: Value| -> Result<()> {
            let mut text = serde_json::to_string_pretty(&vector)?;
            text.push('\n');
            std::fs::write(vectors_dir.join(file), text)?;
            Ok(())
        };

        write(
            format!("tough-{name}.json"),
            base(
                format!(
                    "{name} metadata (version {version}) as tough's editor signs and writes it"
                ),
                metadata.clone(),
                json!({ "ok": { "version": version } }),
            ),
        )?;

        // Signatures removed until one fewer than the threshold remains (root: 2 of 3).
        let threshold: usize = if name == "root" { 2 } else { 1 };
        let mut unsigned = metadata.clone();
        let sigs = unsigned["signatures"]
            .as_array_mut()
            .context("signatures is not an array")?;
        ensure!(
            sigs.len() >= threshold,
            "{name} has fewer signatures than its threshold"
        );
        sigs.truncate(threshold - 1);
        write(
            format!("tough-{name}-signature-removed.json"),
            base(
                format!(
                    "{name} from tough with signatures removed: {} left, threshold {threshold}",
                    threshold - 1
                ),
                unsigned,
                json!({ "error": "threshold" }),
            ),
        )?;

        // A target's length changed inside `signed`: every signature is now invalid.
        if role_type == "targets" {
            let mut tampered = metadata.clone();
            let listed = tampered["signed"]["targets"]
                .as_object_mut()
                .context("signed.targets is not an object")?;
            let (path, entry) = listed
                .iter_mut()
                .min_by(|a, b| a.0.cmp(b.0))
                .context("role lists no targets")?;
            let length = entry["length"]
                .as_u64()
                .context("length is not an integer")?;
            entry["length"] = json!(length + 1);
            let description =
                format!("{name} from tough with the length of target {path} changed after signing");
            write(
                format!("tough-{name}-length-changed.json"),
                base(description, tampered, json!({ "error": "threshold" })),
            )?;
        }
    }
    Ok(())
}

/// The version of a package in this crate's Cargo.lock, so `source` names what really ran.
fn locked_version(crate_dir: &Path, package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(crate_dir.join("Cargo.lock"))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .with_context(|| format!("{package} is not in Cargo.lock"))?
        + needle.len();
    let len = lock[start..].find('"').context("unterminated version")?;
    Ok(lock[start..start + len].to_owned())
}

fn nz(n: u64) -> Result<NonZeroU64> {
    NonZeroU64::new(n).context("a version or threshold of 0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tough::key_source::LocalKeySource;

    fn key(file: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("keys")
            .join(file)
    }

    /// Why `PemKeySource` exists: tough's own file source reads PKCS#8 PEM only for RSA.
    #[tokio::test]
    async fn local_key_source_reads_pem_only_for_rsa() {
        for (file, tough_reads_it) in [
            ("root-1.ed25519.pem", false),
            ("root-2.ecdsa.pem", false),
            ("root-3.rsa.pem", true),
        ] {
            let local = LocalKeySource { path: key(file) };
            assert_eq!(local.as_sign().await.is_ok(), tough_reads_it, "{file}");
            let ours = PemKeySource { path: key(file) };
            assert!(ours.as_sign().await.is_ok(), "{file}");
        }
    }

    /// tough's `Delegations` has no `succinct_roles` and requires `roles` (TAP 15 layout).
    #[test]
    fn succinct_roles_do_not_parse() {
        let text = r#"{"signed": {"_type": "targets", "spec_version": "1.0.0", "version": 1,
            "expires": "2099-01-01T00:00:00Z", "targets": {},
            "delegations": {"keys": {}, "succinct_roles": {"keyids": [], "threshold": 1,
                "bit_length": 8, "name_prefix": "bin"}}},
            "signatures": []}"#;
        let parsed = serde_json::from_str::<tough::schema::Signed<tough::schema::Targets>>(text);
        assert!(parsed.is_err());
    }

    /// tough checks signatures over its typed struct re-serialized: what it drops on the way
    /// (an empty `custom`, an unknown field in a delegated role) is not in what it checks.
    #[test]
    fn reserialization_drops_empty_custom_and_role_extras() {
        use tough::schema::Role as _;
        let text = r#"{"_type": "targets", "spec_version": "1.0.0", "version": 1,
            "expires": "2099-01-01T00:00:00Z",
            "targets": {"1/a": {"length": 1, "hashes": {"sha256": "00"}, "custom": {}}},
            "delegations": {"keys": {}, "roles": [{"name": "r", "keyids": [], "threshold": 1,
                "paths": ["x/*"], "terminating": false, "x-note": "kept?"}]}}"#;
        let targets: tough::schema::Targets = serde_json::from_str(text).unwrap();
        let canonical = String::from_utf8(targets.canonical_form().unwrap()).unwrap();
        assert!(!canonical.contains("custom"), "{canonical}");
        assert!(!canonical.contains("x-note"), "{canonical}");
    }
}
