//! The targets role and delegations (TUF §4.5), with TAP 15 succinct hashed bins.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::root::check_keyids;
use super::{Expires, Hashes, KeyId, Length, Role, RoleName, RoleType, SpecVersion, TargetPath};
use super::{Threshold, Version};
use crate::crypto::PublicKey;
use crate::error::{Error, SchemaKind};
use crate::hash;
use crate::limits::Limits;

/// The `signed` part of `targets.json` or of a delegated targets role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    #[serde(rename = "_type")]
    type_tag: String,
    /// Spec version.
    pub spec_version: SpecVersion,
    /// Metadata version.
    pub version: Version,
    /// Expiry.
    pub expires: Expires,
    /// Target path → length, hashes and custom data.
    pub targets: BTreeMap<TargetPath, TargetFile>,
    /// Roles this role delegates to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegations: Option<Delegations>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// What targets metadata says of one target file (TUF §4.5 "TARGETS").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetFile {
    /// Length in bytes.
    pub length: Length,
    /// Hashes; at least one.
    pub hashes: Hashes,
    /// Opaque application data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl TargetFile {
    /// A target of `bytes`, with its length and SHA-256.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self::from_parts(
            u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            hash::sha256(bytes),
        )
    }

    /// A target from a length and a SHA-256 digest computed elsewhere.
    pub fn from_parts(length: u64, sha256: [u8; 32]) -> Self {
        Self {
            length: Length::new(length),
            hashes: BTreeMap::from([("sha256".to_owned(), super::HexDigest::new(sha256.to_vec()))]),
            custom: None,
            extra: BTreeMap::new(),
        }
    }

    /// The SHA-256 digest, when listed and 32 bytes long.
    pub fn sha256(&self) -> Option<[u8; 32]> {
        self.hashes
            .get("sha256")
            .and_then(|h| <[u8; 32]>::try_from(h.as_bytes()).ok())
    }
}

/// `delegations` (TUF §4.5): keys, and either explicit `roles` or TAP 15 `succinct_roles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delegations {
    /// Keys the delegated roles use.
    pub keys: BTreeMap<KeyId, PublicKey>,
    /// Explicit delegated roles, searched in this order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<DelegatedRole>>,
    /// TAP 15 hashed bins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succinct_roles: Option<SuccinctRoles>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One explicitly delegated role (TUF §4.5 "DELEGATIONS").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatedRole {
    /// Role name.
    pub name: RoleName,
    /// Key ids allowed to sign it.
    pub keyids: Vec<KeyId>,
    /// Distinct keys needed.
    pub threshold: Threshold,
    /// Whether a search stops here when this role matches the path (TUF §5.6.7.2.1).
    #[serde(default)]
    pub terminating: bool,
    /// Shell-style path patterns this role is trusted for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<PathPattern>>,
    /// Hex prefixes of SHA-256(target path) this role is trusted for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hash_prefixes: Option<Vec<String>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl DelegatedRole {
    /// Whether this role is trusted for `path`: a pattern of `paths` matches it, or the
    /// hex SHA-256 of the path starts with one of `path_hash_prefixes` (TUF §5.6.7.2).
    pub fn is_delegated_path(&self, path: &str) -> bool {
        if let Some(patterns) = &self.paths {
            return patterns.iter().any(|p| p.matches(path));
        }
        if let Some(prefixes) = &self.path_hash_prefixes {
            let digest = hex::encode(hash::sha256(path.as_bytes()));
            return prefixes.iter().any(|p| digest.starts_with(p.as_str()));
        }
        false
    }
}

/// A shell-style path pattern (TUF §4.5 "PATHPATTERN"), matched as python-tuf does: the
/// pattern and the path are split on `/`, must have the same number of segments, and
/// each segment matches by `fnmatch` rules (`*` any run, `?` one character, `[seq]`,
/// `[!seq]`), case-sensitively. So `*` and `?` never cross a `/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PathPattern(String);

impl PathPattern {
    /// Wrap a pattern.
    pub fn new(pattern: &str) -> Self {
        Self(pattern.to_owned())
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        let pattern_segments: Vec<&str> = self.0.split('/').collect();
        let path_segments: Vec<&str> = path.split('/').collect();
        pattern_segments.len() == path_segments.len()
            && pattern_segments
                .iter()
                .zip(&path_segments)
                .all(|(p, s)| fnmatch_segment(p, s))
    }
}

/// `fnmatch.fnmatchcase` for one segment. Iterative with one backtrack point, so the cost
/// is O(pattern × text) at worst, whatever the pattern.
fn fnmatch_segment(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let step = match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => match match_class(&pattern, p, text.get(t).copied()) {
                ClassMatch::Matched(len) => Some(len),
                ClassMatch::NotMatched => None,
                // An unclosed `[` is a literal `[`, as in fnmatch.
                ClassMatch::NotAClass => (text.get(t) == Some(&'[')).then_some(1),
            },
            Some(c) => (text.get(t) == Some(c)).then_some(1),
            None => None,
        };
        match step {
            Some(len) => {
                p += len;
                t += 1;
            }
            None => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

enum ClassMatch {
    /// The class matched; it spans this many pattern characters.
    Matched(usize),
    NotMatched,
    NotAClass,
}

fn match_class(pattern: &[char], start: usize, c: Option<char>) -> ClassMatch {
    let mut i = start + 1;
    let negate = matches!(pattern.get(i), Some('!'));
    if negate {
        i += 1;
    }
    // A `]` right after `[` or `[!` is a member, not the end.
    let first = i;
    let mut matched = false;
    loop {
        match pattern.get(i) {
            None => return ClassMatch::NotAClass,
            Some(']') if i > first => break,
            Some(&lo) => {
                if pattern.get(i + 1) == Some(&'-') && pattern.get(i + 2).is_some_and(|h| *h != ']')
                {
                    let hi = pattern.get(i + 2).copied().unwrap_or(lo);
                    if c.is_some_and(|c| lo <= c && c <= hi) {
                        matched = true;
                    }
                    i += 3;
                } else {
                    if c == Some(lo) {
                        matched = true;
                    }
                    i += 1;
                }
            }
        }
    }
    match c {
        Some(_) if matched != negate => ClassMatch::Matched(i + 1 - start),
        _ => ClassMatch::NotMatched,
    }
}

/// TAP 15 succinct hashed bins: `2^bit_length` roles named `{name_prefix}-{bin}` (bin in
/// lowercase hex, zero-padded to the width of the largest bin), sharing keys and
/// threshold. A target's bin is the top `bit_length` bits of SHA-256(path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccinctRoles {
    /// Key ids of every bin.
    pub keyids: Vec<KeyId>,
    /// Threshold of every bin.
    pub threshold: Threshold,
    /// Number of hash bits that pick a bin (1..=32).
    pub bit_length: u8,
    /// Prefix of the bin names.
    pub name_prefix: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl SuccinctRoles {
    /// Bins with the given layout.
    pub fn new(
        keyids: Vec<KeyId>,
        threshold: Threshold,
        bit_length: u8,
        name_prefix: &str,
    ) -> Self {
        Self {
            keyids,
            threshold,
            bit_length,
            name_prefix: name_prefix.to_owned(),
            extra: BTreeMap::new(),
        }
    }

    /// Number of bins, `2^bit_length`.
    pub fn bin_count(&self) -> u64 {
        1u64 << u32::from(self.bit_length.clamp(1, 32))
    }

    fn suffix_len(&self) -> usize {
        // Width of the largest bin number in hex, as python-tuf computes it.
        format!("{:x}", self.bin_count().saturating_sub(1)).len()
    }

    /// The bin number of `path`: the top `bit_length` bits of SHA-256(path).
    pub fn bin_of(&self, path: &str) -> u32 {
        let digest = hash::sha256(path.as_bytes());
        let top = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        let shift = 32 - u32::from(self.bit_length.clamp(1, 32));
        top.checked_shr(shift).unwrap_or(0)
    }

    /// The name of bin number `bin`.
    pub fn bin_name(&self, bin: u32) -> String {
        format!(
            "{}-{:0width$x}",
            self.name_prefix,
            bin,
            width = self.suffix_len()
        )
    }

    /// The name of the bin `path` belongs to.
    pub fn role_for(&self, path: &str) -> String {
        self.bin_name(self.bin_of(path))
    }

    /// TAP 15's bin rule, the one place it is checked: every path bin number `bin` lists
    /// must hash to that bin. An [`Error::MisplacedTarget`] for each path that does not,
    /// in path order (a verifier lists them all; a loader stops at the first).
    pub fn misplaced_targets<'a>(
        &'a self,
        bin: u32,
        bin_targets: &'a Targets,
    ) -> impl Iterator<Item = Error> + 'a {
        bin_targets
            .targets
            .keys()
            .filter(move |path| self.bin_of(path.as_str()) != bin)
            .map(move |path| Error::MisplacedTarget {
                role: self.bin_name(bin),
                path: path.to_string(),
                belongs_to: self.role_for(path.as_str()),
            })
    }

    /// Every bin name, in bin order.
    pub fn bin_names(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.bin_count()).map(|bin| self.bin_name(u32::try_from(bin).unwrap_or(u32::MAX)))
    }

    /// The bin number `name` stands for, if it is one of these bins.
    pub fn bin_number(&self, name: &str) -> Option<u32> {
        let suffix = name.strip_prefix(&self.name_prefix)?.strip_prefix('-')?;
        if suffix.len() != self.suffix_len()
            || !suffix
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        let bin = u32::from_str_radix(suffix, 16).ok()?;
        (u64::from(bin) < self.bin_count()).then_some(bin)
    }

    /// The `path_hash_prefixes` that cover exactly bin number `bin` (TUF §4.5, the PEP 458
    /// layout): with `bit_length` a multiple of 4, the bin number itself in
    /// `bit_length / 4` hex digits; otherwise every `ceil(bit_length / 4)`-digit prefix
    /// whose top `bit_length` bits are the bin number (`bit_length` 1: bin 0 is `0`..`7`,
    /// bin 1 is `8`..`f`). A path's digest starts with one of them exactly when
    /// [`Self::bin_of`] gives `bin`.
    pub fn hash_prefixes(&self, bin: u32) -> Vec<String> {
        let bits = u32::from(self.bit_length.clamp(1, 32));
        let digits = bits.div_ceil(4);
        let spare = digits * 4 - bits;
        let first = u64::from(bin) << spare;
        let width = usize::try_from(digits).unwrap_or(8);
        (first..first + (1u64 << spare))
            .map(|prefix| format!("{prefix:0width$x}"))
            .collect()
    }

    /// The same bins as classic delegated roles (TUF §4.5 `roles` with
    /// `path_hash_prefixes`), for clients without TAP 15: one terminating role per bin, in
    /// bin order, named as the succinct bin, with the same keys and threshold.
    pub fn to_delegated_roles(&self) -> Result<Vec<DelegatedRole>, Error> {
        (0..self.bin_count())
            .map(|bin| {
                let bin = u32::try_from(bin).unwrap_or(u32::MAX);
                Ok(DelegatedRole {
                    name: RoleName::parse(&self.bin_name(bin))?,
                    keyids: self.keyids.clone(),
                    threshold: self.threshold,
                    terminating: true,
                    paths: None,
                    path_hash_prefixes: Some(self.hash_prefixes(bin)),
                    extra: BTreeMap::new(),
                })
            })
            .collect()
    }

    /// The bins that classic delegated `roles` lay out, if they are exactly what
    /// [`Self::to_delegated_roles`] makes of some bins: `2^bit_length` roles in bin order,
    /// each named `PREFIX-XXX`, terminating, with the hash prefixes of its bin and the
    /// same keys and threshold as the others, and no other field. Anything else is
    /// refused with the reason ([`NotHashedBins`]): the editor and `bin_of` must agree
    /// with every client on the bin of a path.
    pub fn from_delegated_roles(roles: &[DelegatedRole]) -> Result<Self, NotHashedBins> {
        let first = roles.first().ok_or(NotHashedBins::NoRoles)?;
        let count = u64::try_from(roles.len()).unwrap_or(u64::MAX);
        if !count.is_power_of_two() || !(2..=1u64 << 32).contains(&count) {
            return Err(NotHashedBins::RoleCount { count });
        }
        let bit_length = u8::try_from(count.trailing_zeros()).unwrap_or(u8::MAX);
        let (name_prefix, _) =
            first
                .name
                .as_str()
                .rsplit_once('-')
                .ok_or_else(|| NotHashedBins::NotPrefixBin {
                    role: first.name.clone(),
                })?;
        let bins = Self::new(
            first.keyids.clone(),
            first.threshold,
            bit_length,
            name_prefix,
        );
        for (bin, role) in roles.iter().enumerate() {
            let bin = u32::try_from(bin).unwrap_or(u32::MAX);
            let name = bins.bin_name(bin);
            if role.name.as_str() != name {
                return Err(NotHashedBins::OutOfOrder {
                    bin,
                    expected: name,
                    found: role.name.clone(),
                });
            }
            let mismatch = |mismatch: BinMismatch| {
                Err(NotHashedBins::Bin {
                    role: role.name.clone(),
                    mismatch,
                })
            };
            if role.keyids != bins.keyids || role.threshold != bins.threshold {
                return mismatch(BinMismatch::KeysOrThreshold);
            }
            if !role.terminating {
                return mismatch(BinMismatch::NotTerminating);
            }
            if role.paths.is_some() {
                return mismatch(BinMismatch::Paths);
            }
            let expected = bins.hash_prefixes(bin);
            if role.path_hash_prefixes.as_deref() != Some(expected.as_slice()) {
                return mismatch(BinMismatch::HashPrefixes { expected });
            }
            if !role.extra.is_empty() {
                return mismatch(BinMismatch::UnknownFields);
            }
        }
        Ok(bins)
    }
}

/// Why delegations are not the hashed bins a Cargo registry's targets delegates to (TAP 15
/// `succinct_roles`, or classic `roles` laid out exactly as
/// [`SuccinctRoles::to_delegated_roles`] makes them). The editor and `bin_of` must agree
/// with every client on the bin of a path, so anything else is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotHashedBins {
    /// Targets has no `delegations`.
    #[error("no delegations")]
    NoDelegations,
    /// `delegations` has both `succinct_roles` and `roles`, or neither.
    #[error("not exactly one of succinct_roles and delegated roles")]
    NotOneForm,
    /// `delegations.roles` is empty.
    #[error("the delegated roles are not hashed bins: delegations lists no roles")]
    NoRoles,
    /// The number of roles is not `2^bit_length` with `bit_length` in 1..=32.
    #[error(
        "the delegated roles are not hashed bins: {count} delegated roles; hashed bins are \
         2^bit_length roles (bit_length 1..=32)"
    )]
    RoleCount {
        /// Roles listed.
        count: u64,
    },
    /// The first role's name is not `PREFIX-BIN`.
    #[error("the delegated roles are not hashed bins: role {role} is not named PREFIX-BIN")]
    NotPrefixBin {
        /// Its name.
        role: RoleName,
    },
    /// A role is listed where another bin belongs (roles must be in bin order).
    #[error("the delegated roles are not hashed bins: role {found} is listed where bin {expected} belongs")]
    OutOfOrder {
        /// The bin at this position.
        bin: u32,
        /// Its name.
        expected: String,
        /// The role listed there.
        found: RoleName,
    },
    /// A bin's delegation differs from what the layout makes of it.
    #[error("the delegated roles are not hashed bins: role {role}: {mismatch}")]
    Bin {
        /// The bin's role name.
        role: RoleName,
        /// What differs.
        mismatch: BinMismatch,
    },
}

/// How one classic bin delegation differs from [`SuccinctRoles::to_delegated_roles`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BinMismatch {
    /// Its keys or threshold differ from the first bin's.
    #[error("keys or threshold differ from the other bins")]
    KeysOrThreshold,
    /// It is not terminating.
    #[error("a hashed bin must be terminating")]
    NotTerminating,
    /// It lists `paths`.
    #[error("a hashed bin has path_hash_prefixes, not paths")]
    Paths,
    /// Its `path_hash_prefixes` are not its bin's.
    #[error("path_hash_prefixes must be {expected:?}")]
    HashPrefixes {
        /// The bin's prefixes.
        expected: Vec<String>,
    },
    /// It has fields the layout does not make.
    #[error("unknown fields in a hashed bin delegation")]
    UnknownFields,
}

impl Delegations {
    /// The hashed-bin layout of these delegations, in either form: TAP 15
    /// `succinct_roles`, or classic `roles` with `path_hash_prefixes` laid out exactly as
    /// [`SuccinctRoles::to_delegated_roles`] makes them. Why not when it is neither.
    pub fn hashed_bins(&self) -> Result<SuccinctRoles, NotHashedBins> {
        match (&self.succinct_roles, &self.roles) {
            (Some(bins), None) => Ok(bins.clone()),
            (None, Some(roles)) => SuccinctRoles::from_delegated_roles(roles),
            _ => Err(NotHashedBins::NotOneForm),
        }
    }
}

impl Targets {
    /// Empty targets metadata.
    pub fn new(version: Version, expires: Expires) -> Self {
        Self {
            type_tag: RoleType::Targets.as_str().to_owned(),
            spec_version: SpecVersion::current(),
            version,
            expires,
            targets: BTreeMap::new(),
            delegations: None,
            extra: BTreeMap::new(),
        }
    }
}

impl Role for Targets {
    const TYPE: RoleType = RoleType::Targets;

    fn canonical_direct(&self) -> Option<Vec<u8>> {
        super::fast::write_targets(self)
    }

    fn version(&self) -> Version {
        self.version
    }

    fn expires(&self) -> &Expires {
        &self.expires
    }

    fn check(&self, role_name: &str, limits: &Limits) -> Result<(), Error> {
        let bad = |detail: String| Error::Schema {
            role: role_name.to_owned(),
            kind: SchemaKind::BadDelegation,
            detail,
        };
        for (path, target) in &self.targets {
            if target.hashes.is_empty() {
                return Err(Error::Schema {
                    role: role_name.to_owned(),
                    kind: SchemaKind::BadHash,
                    detail: format!("target {path} lists no hashes"),
                });
            }
        }
        let Some(delegations) = &self.delegations else {
            return Ok(());
        };
        if delegations.keys.len() > limits.max_keys {
            return Err(Error::TooMany {
                role: role_name.to_owned(),
                what: "delegation keys",
                found: delegations.keys.len(),
                limit: limits.max_keys,
            });
        }
        match (&delegations.roles, &delegations.succinct_roles) {
            (Some(_), Some(_)) => Err(bad(
                "delegations has both roles and succinct_roles (TAP 15: one or the other)".into(),
            )),
            (None, None) => Err(bad(
                "delegations has neither roles nor succinct_roles".into()
            )),
            (Some(roles), None) => {
                if roles.len() > limits.max_delegated_roles {
                    return Err(Error::TooMany {
                        role: role_name.to_owned(),
                        what: "delegated roles",
                        found: roles.len(),
                        limit: limits.max_delegated_roles,
                    });
                }
                let mut names = BTreeSet::new();
                for role in roles {
                    if role.name.is_top_level_ignoring_case() {
                        return Err(bad(format!(
                            "delegated role is named {}, a top-level role name (ignoring case)",
                            role.name
                        )));
                    }
                    if !names.insert(role.name.as_str()) {
                        return Err(bad(format!("delegated role {} is listed twice", role.name)));
                    }
                    if role.paths.is_some() == role.path_hash_prefixes.is_some() {
                        return Err(bad(format!(
                            "delegated role {} must have exactly one of paths and path_hash_prefixes",
                            role.name
                        )));
                    }
                    check_keyids(role_name, &role.keyids, limits)?;
                }
                Ok(())
            }
            (None, Some(succinct)) => {
                let max = limits.max_succinct_bit_length.min(32);
                if succinct.bit_length == 0 || succinct.bit_length > max {
                    return Err(bad(format!(
                        "succinct_roles bit_length must be 1..={max}, found {}",
                        succinct.bit_length
                    )));
                }
                if RoleName::parse(&succinct.bin_name(0)).is_err() {
                    return Err(bad(format!(
                        "succinct_roles name_prefix {:?} does not make valid role names",
                        succinct.name_prefix
                    )));
                }
                check_keyids(role_name, &succinct.keyids, limits)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_segments() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "serde", true),
            ("*", "", true),
            ("se*", "serde", true),
            ("se*", "Serde", false),
            ("s?rde", "serde", true),
            ("s?rde", "srde", false),
            ("*.json", "config.json", true),
            ("[a-c]x", "bx", true),
            ("[a-c]x", "dx", false),
            ("[!a-c]x", "dx", true),
            ("[!a-c]x", "ax", false),
            ("[]]", "]", true),
            ("[!]]", "a", true),
            ("[", "[", true),
            ("[ab", "[ab", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("**", "anything", true),
            ("", "", true),
            ("", "a", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(
                fnmatch_segment(pattern, text),
                *want,
                "{pattern:?} vs {text:?}"
            );
        }
    }

    #[test]
    fn path_patterns_never_cross_slash() {
        let p = PathPattern::new("se/*/serde");
        assert!(p.matches("se/rd/serde"));
        assert!(!p.matches("se/rd/x/serde"));
        assert!(!PathPattern::new("*").matches("se/rd/serde"));
        assert!(PathPattern::new("*/*/*").matches("se/rd/serde"));
        assert!(!PathPattern::new("se/rd/*").matches("se/rd"));
        assert!(!PathPattern::new("?").matches("/"));
    }

    #[test]
    fn succinct_bins_follow_tap15() {
        let keyid = KeyId::parse(&"a".repeat(64)).unwrap();
        let bins = SuccinctRoles::new(vec![keyid], Threshold::new(1).unwrap(), 12, "crates-bin");
        assert_eq!(bins.bin_count(), 4096);
        assert_eq!(bins.bin_name(0), "crates-bin-000");
        assert_eq!(bins.bin_name(0xa3f), "crates-bin-a3f");
        assert_eq!(bins.bin_names().count(), 4096);
        assert_eq!(bins.bin_number("crates-bin-a3f"), Some(0xa3f));
        assert_eq!(bins.bin_number("crates-bin-A3F"), None);
        assert_eq!(bins.bin_number("crates-bin-0a3f"), None);
        assert_eq!(bins.bin_number("other-a3f"), None);
        // The bin is the top 12 bits of SHA-256 of the path.
        let digest = hash::sha256(b"se/rd/serde");
        let expected = (u32::from(digest[0]) << 4) | (u32::from(digest[1]) >> 4);
        assert_eq!(bins.bin_of("se/rd/serde"), expected);
        let one = SuccinctRoles::new(vec![], Threshold::new(1).unwrap(), 1, "b");
        assert_eq!(one.bin_names().collect::<Vec<_>>(), ["b-0", "b-1"]);
        let odd = SuccinctRoles::new(vec![], Threshold::new(1).unwrap(), 13, "b");
        assert_eq!(odd.bin_name(0), "b-0000");
        let full = SuccinctRoles::new(vec![], Threshold::new(1).unwrap(), 32, "b");
        assert_eq!(
            full.bin_of("x"),
            u32::from_be_bytes(hash::sha256(b"x")[..4].try_into().unwrap())
        );
    }

    #[test]
    fn hash_prefix_delegation() {
        let digest = hex::encode(hash::sha256(b"3/a/abc"));
        let role = DelegatedRole {
            name: RoleName::parse("bin").unwrap(),
            keyids: vec![],
            threshold: Threshold::new(1).unwrap(),
            terminating: false,
            paths: None,
            path_hash_prefixes: Some(vec![digest[..2].to_owned()]),
            extra: BTreeMap::new(),
        };
        assert!(role.is_delegated_path("3/a/abc"));
        let other = (0..1000)
            .map(|i| format!("x{i}"))
            .find(|p| !hex::encode(hash::sha256(p.as_bytes())).starts_with(&digest[..2]))
            .unwrap();
        assert!(!role.is_delegated_path(&other));
    }
}
