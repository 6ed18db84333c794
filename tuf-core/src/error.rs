//! The one error type of `tuf-core`.
//!
//! Every variant says what was expected and what was found, with structured fields so a
//! caller can act on it without parsing the message. [`Error::code`] gives a stable,
//! kebab-case name for each kind; the test vectors and the binaries' JSON output use it.

use crate::index::IndexError;

/// A boxed error, `Send + Sync`, for sources from other crates.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in `tuf-core`.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not JSON (or not UTF-8).
    #[error("invalid JSON: {reason}")]
    Json {
        /// What the parser reported, with line and column.
        reason: String,
    },

    /// Canonical JSON allows integers only (OLPC canonical JSON; TUF §4.2).
    #[error(
        "number {found} is not an integer in -2^63..2^64: canonical JSON allows integers only"
    )]
    Float {
        /// The number as written.
        found: String,
    },

    /// An object repeats a key; parsers disagree on which value wins, so signed metadata
    /// with a repeated key is ambiguous and refused.
    #[error("object key {key:?} appears more than once")]
    DuplicateKey {
        /// The repeated key.
        key: String,
    },

    /// JSON nests deeper than [`crate::Limits::max_json_depth`].
    #[error("JSON nests deeper than the limit of {limit} levels")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },

    /// A metadata file is larger than its role's limit in [`crate::Limits`].
    #[error("{role} metadata is {found} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Role the bytes were fetched as.
        role: String,
        /// Size found (or a lower bound of it).
        found: u64,
        /// The limit in force.
        limit: u64,
    },

    /// More signatures, keys or roles than [`crate::Limits`] allows.
    #[error("{role}: {what} count {found} is over the limit of {limit}")]
    TooMany {
        /// Role the metadata belongs to.
        role: String,
        /// What was counted (`signatures`, `keys`, `delegated roles`, ...).
        what: &'static str,
        /// Count found.
        found: usize,
        /// The limit in force.
        limit: usize,
    },

    /// The metadata does not follow the TUF schema (TUF §4): a field is missing, has the
    /// wrong type, or holds a value its newtype refuses.
    #[error("{role}: {kind}: {detail}")]
    Schema {
        /// Role the metadata was parsed as.
        role: String,
        /// Which rule was broken.
        kind: SchemaKind,
        /// What was expected and what was found.
        detail: String,
    },

    /// `signed._type` is not the role the caller asked for (TUF §4.2: "_type").
    #[error("expected {expected} metadata but `_type` is {found:?}")]
    WrongType {
        /// Role type expected.
        expected: &'static str,
        /// `_type` found.
        found: String,
    },

    /// `spec_version` has a major version this implementation does not follow (TUF §4.2).
    #[error("{role}: spec_version {found:?} is not supported: expected 1.x")]
    SpecVersion {
        /// Role of the metadata.
        role: String,
        /// `spec_version` found.
        found: String,
    },

    /// The same key id appears twice in `signatures` (TUF §4.2: each key signs once).
    #[error("{role}: key id {keyid} appears more than once in signatures")]
    DuplicateSignature {
        /// Role of the metadata.
        role: String,
        /// The repeated key id.
        keyid: String,
    },

    /// Fewer distinct authorised keys produced a valid signature than the threshold
    /// (TUF §5.3.4, §5.4.2, §5.5.3, §5.6.3).
    #[error("{role}: {valid} valid signature(s) from authorised keys, threshold is {threshold}")]
    Threshold {
        /// Role whose signatures were checked.
        role: String,
        /// Distinct authorised keys with a valid signature (a key listed under two ids
        /// counts once).
        valid: u64,
        /// Signatures needed.
        threshold: u64,
    },

    /// A public key object could not be used (bad hex or PEM, wrong curve, ...).
    #[error("key {keyid}: {reason}")]
    Key {
        /// Key id the key is known by (may be empty when not known yet).
        keyid: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The key type / scheme pair is not one this implementation can use.
    #[error("unsupported key: keytype {keytype:?} with scheme {scheme:?}")]
    UnsupportedKey {
        /// `keytype` found.
        keytype: String,
        /// `scheme` found.
        scheme: String,
    },

    /// Producing a signature failed.
    #[error("signing with key {keyid} failed: {reason}")]
    Signing {
        /// Key id of the signer.
        keyid: String,
        /// Why.
        reason: String,
    },

    /// A role's signed data was changed by an operation that expects it unchanged, or an
    /// editor was asked for something inconsistent (e.g. a threshold larger than its keys).
    #[error("{role}: {reason}")]
    Invalid {
        /// Role concerned.
        role: String,
        /// What is inconsistent.
        reason: String,
    },

    /// Bytes are not the length the trusted metadata gives (TUF §5.6.2, §5.7.3).
    #[error("{what}: length is {found} bytes, trusted metadata says {expected}")]
    LengthMismatch {
        /// What was checked (a role or target path).
        what: String,
        /// Length from trusted metadata.
        expected: u64,
        /// Length of the bytes received.
        found: u64,
    },

    /// Bytes do not hash to what the trusted metadata gives (TUF §5.5.2, §5.7.3).
    #[error("{what}: {algorithm} is {found}, trusted metadata says {expected}")]
    HashMismatch {
        /// What was checked.
        what: String,
        /// Hash algorithm.
        algorithm: String,
        /// Hex digest from trusted metadata.
        expected: String,
        /// Hex digest of the bytes received.
        found: String,
    },

    /// Trusted metadata lists a hash algorithm this implementation cannot compute; a hash
    /// that cannot be checked never passes.
    #[error("{what}: hash algorithm {algorithm:?} is not supported (sha256 and sha512 are)")]
    UnsupportedHash {
        /// What was checked.
        what: String,
        /// The algorithm named.
        algorithm: String,
    },

    /// A role's new metadata has a lower version than the trusted one: a rollback
    /// (TUF §5.4.3.1, §5.4.3.2, §5.5.5). For the snapshot version a timestamp names, `role`
    /// is `snapshot`; for a targets version a snapshot names, the targets role.
    #[error("{role}: rollback from trusted version {trusted} to version {new}")]
    Rollback {
        /// Role whose version went down.
        role: String,
        /// Version trusted before.
        trusted: u64,
        /// Version offered.
        new: u64,
    },

    /// Metadata has expired: its `expires` is not after the client's `now` (TUF §5.3.10,
    /// §5.4.4, §5.5.6, §5.6.5). A freeze attack looks like this.
    #[error("{role} metadata version {version} expired at {expires}")]
    Expired {
        /// Role of the metadata.
        role: String,
        /// Its version (which copy expired: a stale mirror serves an old one).
        version: u64,
        /// Its `expires` as written.
        expires: String,
    },

    /// Metadata has a version other than the one its parent names (TUF §5.3.5: root N+1
    /// after N; §5.5.4: snapshot = timestamp's `snapshot.json` version; §5.6.4: a targets
    /// role = snapshot's version for it). A mix-and-match attack looks like this.
    #[error("{role}: version is {found}, expected {expected}")]
    VersionMismatch {
        /// Role of the metadata.
        role: String,
        /// Version the trusted metadata requires.
        expected: u64,
        /// Version found.
        found: u64,
    },

    /// A new snapshot no longer lists a targets role that the trusted snapshot lists
    /// (TUF §5.5.5).
    #[error("new snapshot no longer lists {role}, which the trusted snapshot lists")]
    RoleRemoved {
        /// The `ROLE.json` entry that disappeared.
        role: String,
    },

    /// A targets role is needed but the trusted snapshot does not list it (TUF §5.6.1:
    /// its version comes from snapshot, so it is never requested).
    #[error("{role} is not listed in the trusted snapshot")]
    MissingRole {
        /// The targets role.
        role: String,
    },

    /// A role is loaded as delegated by `delegator`, but the trusted `delegator` does not
    /// delegate to it (or is not loaded).
    #[error("{delegator} does not delegate to {role}")]
    NotDelegated {
        /// The delegating role.
        delegator: String,
        /// The role that was offered.
        role: String,
    },

    /// A client step was called out of the order of TUF §5 (e.g. root after timestamp,
    /// snapshot before timestamp): a bug in the caller, not an attack.
    #[error("{step}: {reason}")]
    OutOfOrder {
        /// The step that was called.
        step: &'static str,
        /// Which step must (not) come first.
        reason: String,
    },

    /// The root changed the keys of `role` since the local timestamp and snapshot were
    /// stored, so they are no longer a rollback baseline and are discarded (TUF §5.3.11:
    /// fast-forward attack recovery).
    #[error("root rotated the {role} keys: local timestamp and snapshot are discarded")]
    KeysRotated {
        /// `timestamp` or `snapshot`.
        role: String,
    },

    /// One role was offered with two different contents in one update (the client holds
    /// one copy of a role however many delegators reach it).
    #[error("{role}: different metadata than the copy already trusted in this update")]
    ConflictingMetadata {
        /// The role.
        role: String,
    },

    /// A hashed bin lists a target path that hashes to another bin (TAP 15: a path is
    /// delegated to the one bin its hash names). A client looks a path up in its own bin
    /// only, so the entry is never seen: a publisher bug or a tampered bin.
    #[error("{role} lists {path}, which hashes to {belongs_to}")]
    MisplacedTarget {
        /// The bin that lists it.
        role: String,
        /// The target path.
        path: String,
        /// The bin it hashes to.
        belongs_to: String,
    },

    /// A Cargo index file or name was refused.
    #[error(transparent)]
    Index(#[from] IndexError),

    /// The published repository a repository edit starts from is inconsistent or
    /// incomplete (a bin the snapshot does not list, a bin file of the wrong version, a
    /// bin the edit needs that was not loaded, ...).
    #[error("repository state: {what}: {reason}")]
    RepoState {
        /// The file or role concerned.
        what: String,
        /// What was expected and what was found.
        reason: String,
    },

    /// The same target path was given twice to a repository edit that builds every bin.
    #[error("target {path} is listed more than once")]
    DuplicateTarget {
        /// The repeated path.
        path: String,
    },
}

/// Which schema rule a [`Error::Schema`] broke. Each maps to one [`Error::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaKind {
    /// A required field is absent.
    MissingField,
    /// A field has the wrong JSON type or an unknown enum value.
    WrongFieldType,
    /// `version` is 0 or out of range (TUF §4.2: an integer ≥ 1).
    BadVersion,
    /// `threshold` is 0 or out of range (TUF §4.3: an integer ≥ 1).
    BadThreshold,
    /// `expires` is not an RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SSZ` (TUF §4.2).
    BadDate,
    /// A key id is not lowercase hex of a SHA-256 / SHA-512 digest.
    BadKeyId,
    /// A role name is empty or unusable.
    BadRoleName,
    /// A target path is absolute, empty, or has a `..`, `.` or empty segment.
    BadTargetPath,
    /// A length is negative or out of range.
    BadLength,
    /// A hash is not lowercase hex or is empty.
    BadHash,
    /// A delegation is inconsistent (e.g. both `paths` and `path_hash_prefixes`, or
    /// `succinct_roles` together with `roles`).
    BadDelegation,
    /// Any other schema problem.
    Other,
}

impl SchemaKind {
    /// Stable code of this kind (the same as [`Error::code`] gives).
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingField => "missing-field",
            Self::WrongFieldType => "wrong-field-type",
            Self::BadVersion => "bad-version",
            Self::BadThreshold => "bad-threshold",
            Self::BadDate => "bad-date",
            Self::BadKeyId => "bad-keyid",
            Self::BadRoleName => "bad-role-name",
            Self::BadTargetPath => "bad-target-path",
            Self::BadLength => "bad-length",
            Self::BadHash => "bad-hash",
            Self::BadDelegation => "bad-delegation",
            Self::Other => "schema",
        }
    }

    /// The kind whose code is `code`, if any.
    pub(crate) fn from_code(code: &str) -> Option<Self> {
        [
            Self::MissingField,
            Self::WrongFieldType,
            Self::BadVersion,
            Self::BadThreshold,
            Self::BadDate,
            Self::BadKeyId,
            Self::BadRoleName,
            Self::BadTargetPath,
            Self::BadLength,
            Self::BadHash,
            Self::BadDelegation,
            Self::Other,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

impl std::fmt::Display for SchemaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Error {
    /// A stable, kebab-case name of this error's kind, for test vectors, logs and JSON
    /// output. Messages may change; codes do not.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Json { .. } => "json",
            Self::Float { .. } => "float",
            Self::DuplicateKey { .. } => "duplicate-key",
            Self::TooDeep { .. } => "too-deep",
            Self::TooLarge { .. } => "too-large",
            Self::TooMany { .. } => "too-many",
            Self::Schema { kind, .. } => kind.code(),
            Self::WrongType { .. } => "wrong-type",
            Self::SpecVersion { .. } => "spec-version",
            Self::DuplicateSignature { .. } => "duplicate-signature",
            Self::Threshold { .. } => "threshold",
            Self::Key { .. } => "bad-key",
            Self::UnsupportedKey { .. } => "unsupported-key",
            Self::Signing { .. } => "signing",
            Self::Invalid { .. } => "invalid",
            Self::LengthMismatch { .. } => "length-mismatch",
            Self::HashMismatch { .. } => "hash-mismatch",
            Self::UnsupportedHash { .. } => "unsupported-hash",
            Self::Rollback { .. } => "rollback",
            Self::Expired { .. } => "expired",
            Self::VersionMismatch { .. } => "version-mismatch",
            Self::RoleRemoved { .. } => "role-removed",
            Self::MissingRole { .. } => "missing-role",
            Self::NotDelegated { .. } => "not-delegated",
            Self::OutOfOrder { .. } => "out-of-order",
            Self::KeysRotated { .. } => "keys-rotated",
            Self::ConflictingMetadata { .. } => "conflicting-metadata",
            Self::MisplacedTarget { .. } => "misplaced",
            Self::Index(e) => e.code(),
            Self::RepoState { .. } => "repo-state",
            Self::DuplicateTarget { .. } => "duplicate-target",
        }
    }

    /// The role this error is about, read from the variant's own field: the role for a
    /// check of one role's metadata, the expected role of a wrong `_type`, the file (or
    /// role) whose length or hash was checked. `None` when the error names no role (JSON
    /// syntax, keys, signing, index files, the repository editor's state), so a consumer
    /// never works a role out of a message. Every variant is listed: a new one decides.
    pub fn role(&self) -> Option<&str> {
        match self {
            Self::TooLarge { role, .. }
            | Self::TooMany { role, .. }
            | Self::Schema { role, .. }
            | Self::SpecVersion { role, .. }
            | Self::DuplicateSignature { role, .. }
            | Self::Threshold { role, .. }
            | Self::Invalid { role, .. }
            | Self::Rollback { role, .. }
            | Self::Expired { role, .. }
            | Self::VersionMismatch { role, .. }
            | Self::RoleRemoved { role }
            | Self::MissingRole { role }
            | Self::NotDelegated { role, .. }
            | Self::KeysRotated { role }
            | Self::ConflictingMetadata { role }
            | Self::MisplacedTarget { role, .. } => Some(role),
            Self::LengthMismatch { what, .. }
            | Self::HashMismatch { what, .. }
            | Self::UnsupportedHash { what, .. } => Some(what),
            Self::WrongType { expected, .. } => Some(expected),
            Self::Json { .. }
            | Self::Float { .. }
            | Self::DuplicateKey { .. }
            | Self::TooDeep { .. }
            | Self::Key { .. }
            | Self::UnsupportedKey { .. }
            | Self::Signing { .. }
            | Self::OutOfOrder { .. }
            | Self::Index(_)
            | Self::RepoState { .. }
            | Self::DuplicateTarget { .. } => None,
        }
    }

    /// Turn a `serde_json` error from deserializing a typed role into a schema error.
    ///
    /// Our newtypes report through serde as `"[code] detail"` (see
    /// [`crate::metadata::schema_error`]); serde's own messages are classified by their
    /// documented prefixes.
    pub(crate) fn from_schema(role: &str, err: &serde_json::Error) -> Self {
        let message = err.to_string();
        let (kind, detail) = classify_schema_message(&message);
        Self::Schema {
            role: role.to_owned(),
            kind,
            detail,
        }
    }
}

fn classify_schema_message(message: &str) -> (SchemaKind, String) {
    if let Some(rest) = message.strip_prefix('[') {
        if let Some((code, detail)) = rest.split_once("] ") {
            if let Some(kind) = SchemaKind::from_code(code) {
                return (kind, detail.to_owned());
            }
        }
    }
    let kind = if message.starts_with("missing field") {
        SchemaKind::MissingField
    } else if message.starts_with("invalid type")
        || message.starts_with("unknown variant")
        || message.starts_with("invalid value")
        || message.starts_with("invalid length")
    {
        SchemaKind::WrongFieldType
    } else {
        SchemaKind::Other
    };
    (kind, message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_codes_round_trip() {
        for code in [
            "missing-field",
            "wrong-field-type",
            "bad-version",
            "bad-threshold",
            "bad-date",
            "bad-keyid",
            "bad-role-name",
            "bad-target-path",
            "bad-length",
            "bad-hash",
            "bad-delegation",
            "schema",
        ] {
            let kind = SchemaKind::from_code(code).expect("known code");
            assert_eq!(kind.code(), code);
        }
        assert_eq!(SchemaKind::from_code("nope"), None);
    }

    #[test]
    fn role_is_the_variants_own_field() {
        let threshold = Error::Threshold {
            role: "crates-bin-3".to_owned(),
            valid: 0,
            threshold: 1,
        };
        assert_eq!(threshold.role(), Some("crates-bin-3"));
        let hash = Error::HashMismatch {
            what: "snapshot".to_owned(),
            algorithm: "sha256".to_owned(),
            expected: "aa".to_owned(),
            found: "bb".to_owned(),
        };
        assert_eq!(hash.role(), Some("snapshot"));
        let wrong = Error::WrongType {
            expected: "timestamp",
            found: "root".to_owned(),
        };
        assert_eq!(wrong.role(), Some("timestamp"));
        let json = Error::Json {
            reason: "root: expected value".to_owned(),
        };
        assert_eq!(json.role(), None, "no role is read out of a message");
    }

    #[test]
    fn classifies_tagged_and_serde_messages() {
        let (kind, detail) = classify_schema_message("[bad-version] version must be >= 1, found 0");
        assert_eq!(kind, SchemaKind::BadVersion);
        assert_eq!(detail, "version must be >= 1, found 0");
        let (kind, _) = classify_schema_message("missing field `expires`");
        assert_eq!(kind, SchemaKind::MissingField);
        let (kind, _) = classify_schema_message("invalid type: string \"x\", expected u64");
        assert_eq!(kind, SchemaKind::WrongFieldType);
        let (kind, _) = classify_schema_message("[not-a-code] x");
        assert_eq!(kind, SchemaKind::Other);
    }
}
