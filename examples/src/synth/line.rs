//! The wire shape of index lines and `config.json`: crates.io's field order and omission
//! rules, and a writer that produces exactly what `serde_json` would.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SynthConfig;

/// One index line, with crates.io's field order and omission rules
/// (rust-lang/crates.io `crates/crates_io_index/src/data.rs`). Used to parse lines for the
/// mutations and, in tests, to check that [`write_line`] writes what `serde_json` would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct IndexLine<'a> {
    pub(super) name: Cow<'a, str>,
    pub(super) vers: Cow<'a, str>,
    pub(super) deps: Cow<'a, [IndexDep<'a>]>,
    pub(super) cksum: Cow<'a, str>,
    pub(super) features: Cow<'a, FeatureMap<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) features2: Option<Cow<'a, FeatureMap<'a>>>,
    pub(super) yanked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    links: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rust_version: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pubtime: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) v: Option<u32>,
}

/// One dependency of an index line (crates.io's `Dependency`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct IndexDep<'a> {
    pub(super) name: Cow<'a, str>,
    pub(super) req: Cow<'a, str>,
    pub(super) features: Vec<Cow<'a, str>>,
    pub(super) optional: bool,
    pub(super) default_features: bool,
    pub(super) target: Option<Cow<'a, str>>,
    pub(super) kind: Option<DepKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) package: Option<Cow<'a, str>>,
}

/// Dependency kind; the declaration order is crates.io's sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum DepKind {
    Normal,
    Build,
    Dev,
}

impl DepKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Build => "build",
            Self::Dev => "dev",
        }
    }
}

pub(super) type FeatureMap<'a> = BTreeMap<Cow<'a, str>, Vec<Cow<'a, str>>>;

/// Appends `line` as compact JSON, byte for byte what `serde_json::to_writer` writes for
/// [`IndexLine`] (checked by a test), without the trailing newline. Hand-written because it
/// cannot fail and is on the hot path: the generator writes 1.6 M lines from the same pieces,
/// with each series' `deps` and `features` serialized once (see [`Epoch`](super::content::Epoch)).
pub(super) fn write_line(out: &mut Vec<u8>, line: &IndexLine<'_>) {
    out.extend_from_slice(b"{\"name\":");
    push_json_str(out, &line.name);
    out.extend_from_slice(b",\"vers\":");
    push_json_str(out, &line.vers);
    write_deps(out, &line.deps);
    out.extend_from_slice(b",\"cksum\":");
    push_json_str(out, &line.cksum);
    write_features(out, &line.features, line.features2.as_deref());
    write_line_end(
        out,
        line.yanked,
        line.links.as_deref(),
        line.rust_version.as_deref(),
        line.pubtime.as_deref(),
        line.v,
    );
}

/// `,"deps":[...]`
pub(super) fn write_deps(out: &mut Vec<u8>, deps: &[IndexDep<'_>]) {
    out.extend_from_slice(b",\"deps\":[");
    for (i, dep) in deps.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_dep(out, dep);
    }
    out.push(b']');
}

/// `,"features":{...}` and, when present, `,"features2":{...}`.
pub(super) fn write_features(
    out: &mut Vec<u8>,
    features: &FeatureMap<'_>,
    features2: Option<&FeatureMap<'_>>,
) {
    out.extend_from_slice(b",\"features\":");
    write_feature_map(out, features);
    if let Some(features2) = features2 {
        out.extend_from_slice(b",\"features2\":");
        write_feature_map(out, features2);
    }
}

/// `,"yanked":...` and the optional fields after it, then the closing brace.
pub(super) fn write_line_end(
    out: &mut Vec<u8>,
    yanked: Option<bool>,
    links: Option<&str>,
    rust_version: Option<&str>,
    pubtime: Option<&str>,
    v: Option<u32>,
) {
    out.extend_from_slice(b",\"yanked\":");
    out.extend_from_slice(match yanked {
        Some(true) => b"true",
        Some(false) => b"false",
        None => b"null",
    });
    for (key, value) in [
        (&b",\"links\":"[..], links),
        (b",\"rust_version\":", rust_version),
        (b",\"pubtime\":", pubtime),
    ] {
        if let Some(value) = value {
            out.extend_from_slice(key);
            push_json_str(out, value);
        }
    }
    if let Some(v) = v {
        out.extend_from_slice(b",\"v\":");
        push_u64(out, u64::from(v));
    }
    out.push(b'}');
}

fn write_dep(out: &mut Vec<u8>, dep: &IndexDep<'_>) {
    out.extend_from_slice(b"{\"name\":");
    push_json_str(out, &dep.name);
    out.extend_from_slice(b",\"req\":");
    push_json_str(out, &dep.req);
    out.extend_from_slice(b",\"features\":");
    write_str_array(out, &dep.features);
    out.extend_from_slice(b",\"optional\":");
    out.extend_from_slice(bool_json(dep.optional));
    out.extend_from_slice(b",\"default_features\":");
    out.extend_from_slice(bool_json(dep.default_features));
    out.extend_from_slice(b",\"target\":");
    match &dep.target {
        Some(target) => push_json_str(out, target),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"kind\":");
    match dep.kind {
        Some(kind) => push_json_str(out, kind.as_str()),
        None => out.extend_from_slice(b"null"),
    }
    if let Some(package) = &dep.package {
        out.extend_from_slice(b",\"package\":");
        push_json_str(out, package);
    }
    out.push(b'}');
}

fn write_feature_map(out: &mut Vec<u8>, map: &FeatureMap<'_>) {
    out.push(b'{');
    for (i, (name, values)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, name);
        out.push(b':');
        write_str_array(out, values);
    }
    out.push(b'}');
}

fn write_str_array(out: &mut Vec<u8>, items: &[Cow<'_, str>]) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, item);
    }
    out.push(b']');
}

fn bool_json(value: bool) -> &'static [u8] {
    if value {
        b"true"
    } else {
        b"false"
    }
}

/// A JSON string with serde_json's escapes: `"` and `\`, the short forms of control
/// characters that have one, `\u00XX` (lowercase hex) for the others; everything else as is.
pub(super) fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let plain = !s
        .bytes()
        .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\');
    if plain {
        // Nearly every string here: copy it whole.
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    for &byte in s.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0x0f)]);
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Sixteen lowercase hex digits.
pub(super) fn push_hex_u64(out: &mut Vec<u8>, word: u64) {
    for byte in word.to_be_bytes() {
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 0x0f)]);
    }
}

/// Decimal digits, as `u64::to_string` writes them, without allocating.
pub(super) fn push_u64(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut rest = value;
    // INVARIANT: a u64 has at most 20 decimal digits, so `len` stays below 20.
    while let Some(slot) = digits.get_mut(len) {
        *slot = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits.iter().take(len).rev());
}

pub(super) const CONFIG_JSON: &str = "config.json";

pub(super) fn config_json(config: &SynthConfig) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"dl\":");
    push_json_str(&mut out, &config.dl);
    out.extend_from_slice(b",\"api\":");
    match &config.api {
        Some(api) => push_json_str(&mut out, api),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"}\n");
    out
}
