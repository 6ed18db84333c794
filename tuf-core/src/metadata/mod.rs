//! TUF metadata wire types (TUF §4) and the self-checking newtypes they are built from.
//!
//! * [`SignedMetadata`] is the envelope as received: `signatures` and the untyped `signed`
//!   value, with the canonical bytes the signatures cover. Nothing in it is trusted.
//! * [`Root`], [`Timestamp`], [`Snapshot`], [`Targets`] are the typed `signed` parts.
//!   Unknown fields are kept in an `extra` map at every level, so a parse/serialize round
//!   trip loses nothing.
//! * Newtypes ([`RoleName`], [`TargetPath`], [`KeyId`], [`Threshold`], [`Version`],
//!   [`Length`], [`SpecVersion`], [`Expires`], [`HexDigest`]) check themselves when parsed,
//!   so a value of the type is valid by construction.

pub(crate) mod fast;
pub mod names;
mod root;
mod snapshot;
mod targets;
mod timestamp;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

pub use names::{parse_versioned_file_name, versioned_file_name, TIMESTAMP_FILE};
pub use root::{RoleKeys, Root};
pub use snapshot::{MetaFile, Snapshot};
pub use targets::{
    BinMismatch, DelegatedRole, Delegations, NotHashedBins, PathPattern, SuccinctRoles, TargetFile,
    Targets,
};
pub use timestamp::Timestamp;

use crate::cjson;
use crate::error::{Error, SchemaKind};
use crate::limits::Limits;

/// The four top-level roles and delegated targets: what `_type` a file must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleType {
    /// `root`
    Root,
    /// `timestamp`
    Timestamp,
    /// `snapshot`
    Snapshot,
    /// `targets` (top-level and delegated)
    Targets,
}

impl RoleType {
    /// The `_type` string (TUF §4.3–§4.6).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Timestamp => "timestamp",
            Self::Snapshot => "snapshot",
            Self::Targets => "targets",
        }
    }
}

impl fmt::Display for RoleType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed `signed` part of a metadata file.
pub trait Role: de::DeserializeOwned + Serialize {
    /// The `_type` this role carries.
    const TYPE: RoleType;
    /// The metadata version.
    fn version(&self) -> Version;
    /// When the metadata expires.
    fn expires(&self) -> &Expires;
    /// Checks that serde's derive cannot express (required roles present, delegation
    /// shape, counts against `limits`). Called by [`SignedMetadata::decode_unverified`].
    fn check(&self, role_name: &str, limits: &Limits) -> Result<(), Error>;
    /// The canonical form of this `signed` part (with `_type`), written without going
    /// through `serde_json::Value`, when the value has a shape such a writer handles and
    /// no string in it needs an escape; `None` otherwise. When `Some`, it must be
    /// byte-identical to the general path's canonical form. Used by [`sign_role`].
    fn canonical_direct(&self) -> Option<Vec<u8>> {
        None
    }
}

/// One entry of `signatures`. The signature stays hex text until it is checked, so a
/// malformed one is ignored like any other invalid signature (TUF §5.3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Key id of the key that made it.
    pub keyid: KeyId,
    /// Hex of the signature bytes.
    pub sig: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A metadata file as received: not trusted, not typed. Made by [`SignedMetadata::parse`].
#[derive(Debug, Clone)]
pub struct SignedMetadata {
    role: RoleType,
    signatures: Vec<Signature>,
    signed: Value,
    canonical_signed: Vec<u8>,
}

impl SignedMetadata {
    /// Parse a metadata file of type `role`.
    ///
    /// Checks, in order: size against `limits` for the role; strict JSON (no floats, no
    /// repeated keys, bounded depth); the envelope shape; at most `limits.max_signatures`
    /// signatures, none repeating a key id; `signed._type` equal to `role`; `spec_version`
    /// major 1. The canonical form of `signed` *as received* is computed here and is what
    /// signatures are checked over (never a re-serialized typed value).
    pub fn parse(bytes: &[u8], role: RoleType, limits: &Limits) -> Result<Self, Error> {
        let limit = match role {
            RoleType::Root => limits.max_root_bytes,
            RoleType::Timestamp => limits.max_timestamp_bytes,
            RoleType::Snapshot => limits.max_snapshot_bytes,
            RoleType::Targets => limits.max_targets_bytes,
        };
        let found = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if found > limit {
            return Err(Error::TooLarge {
                role: role.to_string(),
                found,
                limit,
            });
        }
        let value = cjson::parse(bytes, limits.max_json_depth)?;
        Self::from_value(value, role, limits)
    }

    /// As [`SignedMetadata::parse`], from an already parsed value.
    pub fn from_value(value: Value, role: RoleType, limits: &Limits) -> Result<Self, Error> {
        let role_str = role.as_str();
        let Value::Object(mut envelope) = value else {
            return Err(schema(
                role_str,
                SchemaKind::WrongFieldType,
                "metadata is not a JSON object",
            ));
        };
        let signatures = envelope.remove("signatures").ok_or_else(|| {
            schema(
                role_str,
                SchemaKind::MissingField,
                "missing field `signatures`",
            )
        })?;
        let signed = envelope
            .remove("signed")
            .ok_or_else(|| schema(role_str, SchemaKind::MissingField, "missing field `signed`"))?;
        let count = signatures.as_array().map_or(0, Vec::len);
        if count > limits.max_signatures {
            return Err(Error::TooMany {
                role: role_str.to_owned(),
                what: "signatures",
                found: count,
                limit: limits.max_signatures,
            });
        }
        let signatures: Vec<Signature> =
            serde_json::from_value(signatures).map_err(|e| Error::from_schema(role_str, &e))?;
        let mut seen = std::collections::BTreeSet::new();
        for signature in &signatures {
            if !seen.insert(signature.keyid.as_str()) {
                return Err(Error::DuplicateSignature {
                    role: role_str.to_owned(),
                    keyid: signature.keyid.to_string(),
                });
            }
        }
        let Value::Object(signed_map) = &signed else {
            return Err(schema(
                role_str,
                SchemaKind::WrongFieldType,
                "`signed` is not a JSON object",
            ));
        };
        match signed_map.get("_type") {
            Some(Value::String(found)) if found == role_str => {}
            Some(Value::String(found)) => {
                return Err(Error::WrongType {
                    expected: role_str,
                    found: found.clone(),
                })
            }
            Some(other) => {
                return Err(Error::WrongType {
                    expected: role_str,
                    found: other.to_string(),
                })
            }
            None => {
                return Err(schema(
                    role_str,
                    SchemaKind::MissingField,
                    "missing field `_type`",
                ))
            }
        }
        match signed_map.get("spec_version") {
            Some(Value::String(found)) => {
                SpecVersion::from_str(found).map_err(|_| Error::SpecVersion {
                    role: role_str.to_owned(),
                    found: found.clone(),
                })?;
            }
            Some(_) => {
                return Err(schema(
                    role_str,
                    SchemaKind::WrongFieldType,
                    "`spec_version` is not a string",
                ))
            }
            None => {
                return Err(schema(
                    role_str,
                    SchemaKind::MissingField,
                    "missing field `spec_version`",
                ))
            }
        }
        let canonical_signed = cjson::to_canonical(&signed)?;
        Ok(Self {
            role,
            signatures,
            signed,
            canonical_signed,
        })
    }

    /// The role type this was parsed as.
    pub fn role_type(&self) -> RoleType {
        self.role
    }

    /// The signatures, as received.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// The untyped `signed` value, as received.
    pub fn signed(&self) -> &Value {
        &self.signed
    }

    /// The canonical bytes of `signed`: what the signatures cover.
    pub fn canonical_signed(&self) -> &[u8] {
        &self.canonical_signed
    }

    /// Deserialize the typed role from `signed` and run its [`Role::check`], **without
    /// verifying any signature**: what comes out is what the file says, not what its
    /// signers vouch for. Code that trusts metadata takes a [`crate::verify::Verified`],
    /// which only [`crate::verify`] makes (it calls this after the threshold is met).
    /// Public for what is rightly unverified: a staged role still collecting signatures,
    /// a display of a file that failed to verify, test and fuzz code.
    pub fn decode_unverified<T: Role>(&self, role_name: &str, limits: &Limits) -> Result<T, Error> {
        if T::TYPE != self.role {
            return Err(Error::WrongType {
                expected: T::TYPE.as_str(),
                found: self.role.as_str().to_owned(),
            });
        }
        let typed: T =
            T::deserialize(&self.signed).map_err(|e| Error::from_schema(role_name, &e))?;
        typed.check(role_name, limits)?;
        Ok(typed)
    }

    /// Append a signature by `signer` over the canonical `signed` bytes, replacing any
    /// earlier signature by the same key. The `signed` value is not touched.
    pub fn add_signature(&mut self, signer: &dyn crate::crypto::Signer) -> Result<(), Error> {
        let sig = signer.sign(&self.canonical_signed)?;
        self.signatures.retain(|s| &s.keyid != signer.key_id());
        self.signatures.push(Signature {
            keyid: signer.key_id().clone(),
            sig: hex::encode(sig),
            extra: BTreeMap::new(),
        });
        Ok(())
    }

    /// Add a signature made elsewhere (a detached signature from an air-gapped key
    /// holder), replacing any earlier one by the same key id. It is not checked here; the
    /// verifier ignores it if it is invalid.
    pub fn add_detached_signature(&mut self, signature: Signature) {
        self.signatures.retain(|s| s.keyid != signature.keyid);
        self.signatures.push(signature);
    }

    /// The whole file as this crate writes metadata: compact, keys sorted, the canonical
    /// form but for escaped control characters (see [`cjson::to_file_form`]); the
    /// smallest form, and for all practical metadata exactly the canonical one.
    pub fn to_file_bytes(&self) -> Result<Vec<u8>, Error> {
        // `signed`'s file form is its canonical form when that holds no control byte:
        // canonical JSON has no whitespace, so a byte below 0x20 can only be inside a
        // string, and strings without one are written the same in both forms.
        let reuse = !self.canonical_signed.iter().any(|&b| b < 0x20);
        let signed_form;
        let signed: &[u8] = if reuse {
            &self.canonical_signed
        } else {
            signed_form = cjson::to_file_form(&self.signed)?;
            &signed_form
        };
        file_bytes(&self.signatures, signed)
    }
}

/// The file form of `{"signatures":S,"signed":D}` (keys in byte order) from the
/// signatures and the file form of `signed`, written part by part rather than through a
/// copy of the whole `signed` tree.
fn file_bytes(signatures: &[Signature], signed_file_form: &[u8]) -> Result<Vec<u8>, Error> {
    let signatures = serde_json::to_value(signatures).map_err(|e| Error::Json {
        reason: e.to_string(),
    })?;
    let signatures = cjson::to_file_form(&signatures)?;
    let mut out = Vec::with_capacity(signatures.len() + signed_file_form.len() + 28);
    out.extend_from_slice(br#"{"signatures":"#);
    out.extend_from_slice(&signatures);
    out.extend_from_slice(br#","signed":"#);
    out.extend_from_slice(signed_file_form);
    out.push(b'}');
    Ok(out)
}

/// Serialize a typed role and sign it with every signer: the bytes of a new metadata file,
/// in canonical form.
pub fn sign_role<T: Role>(
    role: &T,
    signers: &[&dyn crate::crypto::Signer],
) -> Result<Vec<u8>, Error> {
    if let Some(canonical_signed) = role.canonical_direct() {
        // No string in it needs an escape, so it holds no control byte: its file form is
        // itself. Signatures as `SignedMetadata::add_signature` adds them.
        let mut signatures: Vec<Signature> = Vec::new();
        for signer in signers {
            let sig = signer.sign(&canonical_signed)?;
            signatures.retain(|s| &s.keyid != signer.key_id());
            signatures.push(Signature {
                keyid: signer.key_id().clone(),
                sig: hex::encode(sig),
                extra: BTreeMap::new(),
            });
        }
        return file_bytes(&signatures, &canonical_signed);
    }
    sign_role_general(role, signers)
}

/// [`sign_role`] through `serde_json::Value`, for any value.
pub(crate) fn sign_role_general<T: Role>(
    role: &T,
    signers: &[&dyn crate::crypto::Signer],
) -> Result<Vec<u8>, Error> {
    let mut signed = serde_json::to_value(role).map_err(|e| Error::Json {
        reason: e.to_string(),
    })?;
    if let Value::Object(map) = &mut signed {
        map.insert(
            "_type".to_owned(),
            Value::String(T::TYPE.as_str().to_owned()),
        );
    }
    let canonical_signed = cjson::to_canonical(&signed)?;
    let mut meta = SignedMetadata {
        role: T::TYPE,
        signatures: Vec::new(),
        signed,
        canonical_signed,
    };
    for signer in signers {
        meta.add_signature(*signer)?;
    }
    meta.to_file_bytes()
}

fn schema(role: &str, kind: SchemaKind, detail: &str) -> Error {
    Error::Schema {
        role: role.to_owned(),
        kind,
        detail: detail.to_owned(),
    }
}

/// A serde error that carries a [`SchemaKind`]; [`Error::from_schema`] recovers it.
pub(crate) fn schema_error<E: de::Error>(kind: SchemaKind, detail: impl fmt::Display) -> E {
    E::custom(format_args!("[{}] {detail}", kind.code()))
}

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            /// The string form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::parse(s)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::check(&s).map_err(|(kind, detail)| schema_error(kind, detail))?;
                Ok(Self(s))
            }
        }
    };
}

/// A key id: lowercase hex of a SHA-256 (64 chars) or SHA-512 (128 chars) digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);
string_newtype!(KeyId);

impl KeyId {
    /// Check and wrap `s`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::check(s).map_err(|(kind, detail)| schema("keyid", kind, &detail))?;
        Ok(Self(s.to_owned()))
    }

    fn check(s: &str) -> Result<(), (SchemaKind, String)> {
        let hex_ok = s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if (s.len() == 64 || s.len() == 128) && hex_ok {
            Ok(())
        } else {
            Err((
                SchemaKind::BadKeyId,
                format!("key id must be 64 or 128 lowercase hex characters, found {s:?}"),
            ))
        }
    }
}

/// A role name: non-empty, at most 255 bytes, no control characters. Any other text is a
/// valid name; where a name becomes a file or URL, the caller encodes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleName(String);
string_newtype!(RoleName);

impl RoleName {
    /// Check and wrap `s`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::check(s).map_err(|(kind, detail)| schema("role name", kind, &detail))?;
        Ok(Self(s.to_owned()))
    }

    fn check(s: &str) -> Result<(), (SchemaKind, String)> {
        if s.is_empty() || s.len() > 255 || s.chars().any(char::is_control) {
            return Err((
                SchemaKind::BadRoleName,
                format!("role name must be 1..=255 bytes without control characters, found {s:?}"),
            ));
        }
        Ok(())
    }

    /// Whether this is one of the four top-level role names.
    pub fn is_top_level(&self) -> bool {
        matches!(
            self.0.as_str(),
            "root" | "timestamp" | "snapshot" | "targets"
        )
    }

    /// Whether this is a top-level role name *ignoring ASCII case* (`Root`, `TIMESTAMP`):
    /// such a name is refused for a delegated role. Role names become file names and URL
    /// paths (`Timestamp.json`), and on a case-insensitive file system or server (macOS,
    /// Windows) that is the top-level role's file: a client's stored rollback baseline
    /// (TUF §5.4.3, §5.5.5) or the published role. python-tuf refuses only the exact
    /// names; refusing the case variants too costs no real repository anything.
    pub fn is_top_level_ignoring_case(&self) -> bool {
        ["root", "timestamp", "snapshot", "targets"]
            .iter()
            .any(|top| self.0.eq_ignore_ascii_case(top))
    }
}

/// A target path: relative, `/`-separated, no empty, `.` or `..` segment, no NUL or
/// backslash. (TUF §4.5 "TARGETPATH"; the segment rules keep a path from naming a file
/// outside the directory it is stored under.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetPath(String);
string_newtype!(TargetPath);

impl TargetPath {
    /// Check and wrap `s`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::check(s).map_err(|(kind, detail)| schema("target path", kind, &detail))?;
        Ok(Self(s.to_owned()))
    }

    fn check(s: &str) -> Result<(), (SchemaKind, String)> {
        let bad = |why: &str| {
            Err((
                SchemaKind::BadTargetPath,
                format!("target path {s:?}: {why}"),
            ))
        };
        if s.is_empty() {
            return bad("empty");
        }
        if s.starts_with('/') {
            return bad("must not start with '/'");
        }
        if s.contains('\0') || s.contains('\\') {
            return bad("must not contain NUL or '\\'");
        }
        for segment in s.split('/') {
            match segment {
                "" => return bad("has an empty segment"),
                "." | ".." => return bad("has a '.' or '..' segment"),
                _ => {}
            }
        }
        Ok(())
    }

    /// The path split into its segments.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

macro_rules! positive_newtype {
    ($name:ident, $kind:expr, $what:literal) => {
        #[doc = concat!("A ", $what, ": an integer ≥ 1.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(std::num::NonZeroU64);

        impl $name {
            /// Check and wrap `n`.
            pub fn new(n: u64) -> Result<Self, Error> {
                std::num::NonZeroU64::new(n)
                    .map(Self)
                    .ok_or_else(|| schema($what, $kind, concat!($what, " must be >= 1, found 0")))
            }
            /// The number.
            pub fn get(self) -> u64 {
                self.0.get()
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u64(self.0.get())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let n = i128::deserialize(d).map_err(|_: D::Error| {
                    schema_error::<D::Error>($kind, concat!($what, " must be an integer"))
                })?;
                let n = u64::try_from(n)
                    .ok()
                    .and_then(std::num::NonZeroU64::new)
                    .ok_or_else(|| {
                        schema_error::<D::Error>(
                            $kind,
                            format_args!(concat!($what, " must be >= 1, found {}"), n),
                        )
                    })?;
                Ok(Self(n))
            }
        }
    };
}

positive_newtype!(Version, SchemaKind::BadVersion, "version");
positive_newtype!(Threshold, SchemaKind::BadThreshold, "threshold");

impl Version {
    /// The next version, or an error at `u64::MAX`.
    pub fn next(self) -> Result<Self, Error> {
        self.0
            .checked_add(1)
            .map(Self)
            .ok_or_else(|| schema("version", SchemaKind::BadVersion, "version would overflow"))
    }
}

/// A length in bytes: a non-negative integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Length(u64);

impl Length {
    /// Wrap `n`.
    pub fn new(n: u64) -> Self {
        Self(n)
    }
    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Length {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i128::deserialize(d).map_err(|_: D::Error| {
            schema_error::<D::Error>(SchemaKind::BadLength, "length must be an integer")
        })?;
        u64::try_from(n).map(Self).map_err(|_| {
            schema_error(
                SchemaKind::BadLength,
                format_args!("length must be >= 0, found {n}"),
            )
        })
    }
}

/// `spec_version`: `MAJOR.MINOR` or `MAJOR.MINOR.PATCH`, numeric, with major 1 (TUF
/// §4.2: clients reject metadata of a major version they do not follow).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpecVersion(String);
string_newtype!(SpecVersion);

impl SpecVersion {
    /// The version this crate writes.
    pub fn current() -> Self {
        Self("1.0.31".to_owned())
    }

    /// Check and wrap `s`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::check(s).map_err(|_| Error::SpecVersion {
            role: String::new(),
            found: s.to_owned(),
        })?;
        Ok(Self(s.to_owned()))
    }

    fn check(s: &str) -> Result<(), (SchemaKind, String)> {
        let parts: Vec<&str> = s.split('.').collect();
        let numeric = parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if (2..=3).contains(&parts.len()) && numeric && parts.first() == Some(&"1") {
            Ok(())
        } else {
            Err((
                SchemaKind::Other,
                format!("spec_version must be 1.x or 1.x.y, found {s:?}"),
            ))
        }
    }
}

/// An expiry time, exactly `YYYY-MM-DDTHH:MM:SSZ` (TUF §4.2: "ISO 8601 ... in UTC";
/// RFC 3339 with a `Z` suffix and no fractional seconds, as python-tuf parses it). The text
/// as received is kept so a round trip writes it back unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expires {
    time: DateTime<Utc>,
    text: String,
}

impl Expires {
    /// From a time; written as `YYYY-MM-DDTHH:MM:SSZ` (sub-second part dropped).
    pub fn from_time(time: DateTime<Utc>) -> Self {
        let text = time.to_rfc3339_opts(SecondsFormat::Secs, true);
        // INVARIANT: the text we just wrote parses back.
        let time = DateTime::parse_from_rfc3339(&text).map_or(time, |t| t.with_timezone(&Utc));
        Self { time, text }
    }

    /// Parse the metadata text form.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::check_parse(s).map_err(|(kind, detail)| schema("expires", kind, &detail))
    }

    fn check_parse(s: &str) -> Result<Self, (SchemaKind, String)> {
        let bad = || {
            (
                SchemaKind::BadDate,
                format!(
                    "expires must be an RFC 3339 UTC time like 2030-01-01T00:00:00Z, found {s:?}"
                ),
            )
        };
        // Shape first: `0000-00-00T00:00:00Z`, digits where the zeros are.
        let shape_ok = s.len() == 20
            && s.bytes()
                .zip(b"0000-00-00T00:00:00Z".iter())
                .all(|(c, want)| {
                    if *want == b'0' {
                        c.is_ascii_digit()
                    } else {
                        c == *want
                    }
                });
        if !shape_ok {
            return Err(bad());
        }
        let time = DateTime::parse_from_rfc3339(s).map_err(|_| bad())?;
        Ok(Self {
            time: time.with_timezone(&Utc),
            text: s.to_owned(),
        })
    }

    /// The time.
    pub fn time(&self) -> DateTime<Utc> {
        self.time
    }

    /// Whether the metadata is expired at `now` (TUF §5.3.10: expired when `expires` is
    /// not in the future, i.e. `now >= expires`).
    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        now >= self.time
    }
}

impl fmt::Display for Expires {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Expires {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Expires {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::check_parse(&s).map_err(|(kind, detail)| schema_error(kind, detail))
    }
}

/// A digest in metadata: lowercase (or upper, normalised) hex, non-empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HexDigest(Vec<u8>);

impl HexDigest {
    /// Wrap raw digest bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for HexDigest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for HexDigest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match hex::decode(&s) {
            Ok(bytes) if !bytes.is_empty() => Ok(Self(bytes)),
            _ => Err(schema_error(
                SchemaKind::BadHash,
                format_args!("hash must be non-empty hex, found {s:?}"),
            )),
        }
    }
}

/// `hashes`: algorithm name → digest (TUF §4.4).
pub type Hashes = BTreeMap<String, HexDigest>;

/// Check `bytes` against a length and hashes from metadata (TUF §5.2.x, §5.6.2, §5.7.3):
/// the length if given must equal, every listed hash must match, and a listed algorithm
/// this implementation does not know is a failure rather than skipped.
pub fn check_length_and_hashes(
    what: &str,
    bytes: &[u8],
    length: Option<Length>,
    hashes: Option<&Hashes>,
) -> Result<(), Error> {
    let found = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if let Some(expected) = length {
        if expected.get() != found {
            return Err(Error::LengthMismatch {
                what: what.to_owned(),
                expected: expected.get(),
                found,
            });
        }
    }
    if let Some(hashes) = hashes {
        for (algorithm, expected) in hashes {
            let Some(actual) = crate::hash::digest_named(algorithm, bytes) else {
                return Err(Error::UnsupportedHash {
                    what: what.to_owned(),
                    algorithm: algorithm.clone(),
                });
            };
            if actual != expected.as_bytes() {
                return Err(Error::HashMismatch {
                    what: what.to_owned(),
                    algorithm: algorithm.clone(),
                    expected: hex::encode(expected.as_bytes()),
                    found: hex::encode(actual),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
