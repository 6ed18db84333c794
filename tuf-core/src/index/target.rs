//! Whole index targets: what a verifier accepts at each path of a sparse index.
//!
//! A registry's TUF targets are its index files at their sparse paths and its
//! `config.json`. The publisher signs a file only if [`check_index_target`] accepts
//! it, and the verifier (`cargo tuf`'s proxy) refuses a file unless
//! [`parse_index_file`](super::parse_index_file) or [`RegistryConfig::parse`]
//! accepts it: the rules below are those, so nothing is signed that every
//! verified client would then refuse.

use serde_json::{Map, Value};

use super::error::IndexError;
use super::file::{check_index_file, IndexLimits};
use super::line::{json_type, parse_strict_json};
use super::name::CrateName;

/// The path of a registry's configuration file, at the root of the index.
pub const CONFIG_PATH: &str = "config.json";

/// Checks `bytes` as the file at sparse index path `path`, as a verifier will:
///
/// * `config.json` must pass [`RegistryConfig::parse`];
/// * any other path must be the sparse path of a crate name
///   ([`CrateName::from_sparse_path`]) and the bytes that crate's index file
///   ([`check_index_file`], which accepts exactly what
///   [`parse_index_file`](super::parse_index_file) accepts, under `limits`).
pub fn check_index_target(
    path: &str,
    bytes: &[u8],
    limits: &IndexLimits,
) -> Result<(), IndexError> {
    if path == CONFIG_PATH {
        return RegistryConfig::parse(bytes).map(drop);
    }
    let name = CrateName::from_sparse_path(path)?;
    check_index_file(&name, bytes, limits)
}

/// A registry's `config.json` (cargo book, "Registry Index", *Index
/// Configuration*): a JSON object whose `dl` is a string (the download URL
/// template). Every member is kept as received, for a proxy that rewrites `dl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    dl: String,
    members: Map<String, Value>,
}

impl RegistryConfig {
    /// Parses a `config.json`: JSON text (surrounding whitespace allowed) with no
    /// key repeated at any depth (parsers differ on which copy wins, as for index
    /// lines), holding an object whose `dl` is a string. Other members (`api`,
    /// `auth-required`, and any a future cargo adds) are not checked: cargo reads
    /// them, a verifier only needs `dl`.
    pub fn parse(bytes: &[u8]) -> Result<Self, IndexError> {
        let text = std::str::from_utf8(bytes).map_err(|e| IndexError::ConfigNotJson {
            reason: format!("not UTF-8 at byte {}", e.valid_up_to()),
        })?;
        let value = parse_strict_json(text).map_err(|e| match e {
            IndexError::LineDuplicateKey { key } => IndexError::ConfigDuplicateKey { key },
            IndexError::LineNotJson { reason } => IndexError::ConfigNotJson { reason },
            other => other,
        })?;
        let members = match value {
            Value::Object(members) => members,
            other => {
                return Err(IndexError::ConfigNotObject {
                    found: json_type(&other),
                })
            }
        };
        let dl = match members.get("dl") {
            Some(Value::String(dl)) => dl.clone(),
            Some(other) => {
                return Err(IndexError::ConfigBadDl {
                    found: json_type(other),
                })
            }
            None => return Err(IndexError::ConfigMissingDl),
        };
        Ok(RegistryConfig { dl, members })
    }

    /// The download URL template, `dl`.
    pub fn dl(&self) -> &str {
        &self.dl
    }

    /// Every member, `dl` included, as received.
    pub fn members(&self) -> &Map<String, Value> {
        &self.members
    }

    /// Every member, `dl` included, as received.
    pub fn into_members(self) -> Map<String, Value> {
        self.members
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CKSUM: &str = "d867001db0e2b6e0496f9fac96930e2d42233ecd3ca0413e0753d4c7695d289c";

    fn check(path: &str, text: &str) -> Result<(), IndexError> {
        check_index_target(path, text.as_bytes(), &IndexLimits::default())
    }

    fn code(path: &str, text: &str) -> &'static str {
        match check(path, text) {
            Ok(()) => "ok",
            Err(e) => e.code(),
        }
    }

    fn line(name: &str) -> String {
        format!(r#"{{"name":"{name}","vers":"1.0.0","deps":[],"cksum":"{CKSUM}","features":{{}}}}"#)
    }

    #[test]
    fn config_json_needs_an_object_with_a_string_dl() {
        assert_eq!(code("config.json", r#"{"dl":"https://x/{crate}"}"#), "ok");
        assert_eq!(
            code(
                "config.json",
                "{\"dl\":\"https://x/\",\"api\":null,\"extra\":[1]}\n"
            ),
            "ok"
        );
        let config = RegistryConfig::parse(br#"{"dl":"https://x/","api":"https://a/"}"#).unwrap();
        assert_eq!(config.dl(), "https://x/");
        assert_eq!(config.members().len(), 2);
        assert_eq!(config.into_members()["api"], Value::from("https://a/"));

        assert_eq!(code("config.json", "not json"), "config-not-json");
        assert_eq!(code("config.json", "{\"dl\":\"x\"} {}"), "config-not-json");
        assert_eq!(
            RegistryConfig::parse(b"{\"dl\":\"\xff\"}")
                .unwrap_err()
                .code(),
            "config-not-json"
        );
        assert_eq!(
            check("config.json", "[]").unwrap_err(),
            IndexError::ConfigNotObject { found: "array" }
        );
        assert_eq!(
            check("config.json", r#"{"api":"x"}"#).unwrap_err(),
            IndexError::ConfigMissingDl
        );
        assert_eq!(
            check("config.json", r#"{"dl":7}"#).unwrap_err(),
            IndexError::ConfigBadDl { found: "number" }
        );
        assert_eq!(
            check("config.json", r#"{"dl":"a","dl":"b"}"#).unwrap_err(),
            IndexError::ConfigDuplicateKey { key: "dl".into() }
        );
    }

    #[test]
    fn a_crate_path_must_hold_that_crates_index_file() {
        assert_eq!(code("se/rd/serde", &line("serde")), "ok");
        assert_eq!(code("se/rd/serde", &line("Serde")), "ok");
        assert_eq!(code("se/rd/serde", ""), "ok");
        // The issue's cases: a line that is not JSON, and a file at one crate's path
        // whose line names another.
        assert_eq!(
            code("se/rd/serde", &format!("{}\nnot json\n", line("serde"))),
            "line-not-json"
        );
        let err = check("3/x/xyz", &line("serde")).unwrap_err();
        assert_eq!(err.code(), "line-wrong-crate");
        assert_eq!(err.line(), Some(1));
        // Not a crate's sparse path at all.
        assert_eq!(
            code("se/rd/Serde", &line("serde")),
            "sparse-path-not-lowercase"
        );
        assert_eq!(code("x/yz/serde", &line("serde")), "sparse-path-mismatch");
    }

    #[test]
    fn limits_apply_to_crate_files() {
        let limits = IndexLimits {
            max_file_bytes: 10,
            ..IndexLimits::default()
        };
        let err = check_index_target("se/rd/serde", line("serde").as_bytes(), &limits).unwrap_err();
        assert_eq!(err.code(), "file-too-large");
    }
}
