//! The errors of the index model, each with a stable code.

/// Longest piece of untrusted input (a name, a version, a checksum) an error
/// keeps, in characters, so an attacker cannot make error messages huge.
const EXCERPT_CHARS: usize = 80;

/// An error of the index model.
///
/// Every variant has a stable kebab-case [`code`](IndexError::code), which test
/// vectors and callers compare; messages may change. Untrusted strings kept in a
/// variant are cut to 80 characters (with a trailing `…`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// A crate name is empty (`crate-name-empty`).
    #[error("crate name is empty; expected 1 to {max} ASCII characters")]
    CrateNameEmpty {
        /// The longest name allowed.
        max: usize,
    },

    /// A crate name has more characters than allowed (`crate-name-too-long`).
    #[error("crate name `{name}` has {found} characters; expected at most {max}")]
    CrateNameTooLong {
        /// The name, cut short.
        name: String,
        /// Its length in characters.
        found: usize,
        /// The longest name allowed.
        max: usize,
    },

    /// A crate name does not start with an ASCII letter (`crate-name-bad-start`).
    #[error("crate name `{name}` starts with {found:?}; expected an ASCII letter")]
    CrateNameBadStart {
        /// The name, cut short.
        name: String,
        /// Its first character.
        found: char,
    },

    /// A crate name has a character other than an ASCII letter, digit, `-` or
    /// `_` (`crate-name-bad-char`).
    #[error(
        "crate name `{name}` has {found:?} at index {index}; \
         expected only ASCII letters, digits, `-` and `_`"
    )]
    CrateNameBadChar {
        /// The name, cut short.
        name: String,
        /// The first offending character.
        found: char,
        /// Its position in the name, in characters from 0.
        index: usize,
    },

    /// A sparse path names a valid crate but is not all lowercase
    /// (`sparse-path-not-lowercase`).
    #[error("sparse path `{found}` is not lowercase; expected `{expected}`")]
    SparsePathNotLowercase {
        /// The path the crate name gives.
        expected: String,
        /// The path as given, cut short.
        found: String,
    },

    /// A sparse path's directories do not match its file name, or it has the
    /// wrong shape (`sparse-path-mismatch`).
    #[error("sparse path `{found}` does not match its crate name; expected `{expected}`")]
    SparsePathMismatch {
        /// The path the crate name (the last segment) gives.
        expected: String,
        /// The path as given, cut short.
        found: String,
    },

    /// An index file is larger than [`IndexLimits::max_file_bytes`](crate::index::IndexLimits)
    /// (`file-too-large`).
    #[error("index file is {found} bytes; expected at most {max}")]
    FileTooLarge {
        /// The file's size.
        found: u64,
        /// The cap.
        max: u64,
    },

    /// An index file has more lines than [`IndexLimits::max_lines`](crate::index::IndexLimits)
    /// (`too-many-lines`). Blank lines count.
    #[error("index file has more than {max} lines; expected at most {max}")]
    TooManyLines {
        /// The cap.
        max: usize,
    },

    /// A line is longer than [`IndexLimits::max_line_bytes`](crate::index::IndexLimits)
    /// (`line-too-long`).
    #[error("index file line {line} is {found} bytes; expected at most {max}")]
    LineTooLong {
        /// The line's number, from 1.
        line: usize,
        /// Its length in bytes, without the `\n`.
        found: usize,
        /// The cap.
        max: usize,
    },

    /// An index file is not valid UTF-8 (`not-utf8`).
    #[error("index file is not UTF-8: expected valid UTF-8, found an invalid byte at offset {offset} (line {line})")]
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
        /// Its line number, from 1.
        line: usize,
    },

    /// A line is not JSON (`line-not-json`).
    #[error("index line is not valid JSON: {reason}")]
    LineNotJson {
        /// What the JSON parser found wrong.
        reason: String,
    },

    /// A line is JSON but not an object (`line-not-object`).
    #[error("index line is a JSON {found}; expected an object")]
    LineNotObject {
        /// The JSON type found.
        found: &'static str,
    },

    /// A JSON object in a line has the same key twice (`line-duplicate-key`).
    #[error("index line has key `{key}` more than once; expected each key once")]
    LineDuplicateKey {
        /// The repeated key, cut short.
        key: String,
    },

    /// A required field is missing from a line (`line-missing-field`).
    #[error("index line has no `{field}` field; expected {expected}")]
    LineMissingField {
        /// The missing field.
        field: &'static str,
        /// What it should have held.
        expected: &'static str,
    },

    /// A field of a line has the wrong JSON type or range (`line-bad-field`).
    #[error("index line field `{field}` is {found}; expected {expected}")]
    LineBadField {
        /// The field.
        field: &'static str,
        /// What it should hold.
        expected: &'static str,
        /// What it holds, described and cut short.
        found: String,
    },

    /// A line's `vers` is not a SemVer 2.0.0 version (`line-bad-vers`).
    #[error("index line `vers` is `{found}`; expected a SemVer 2.0.0 version ({reason})")]
    LineBadVers {
        /// The version string, cut short.
        found: String,
        /// What the semver parser found wrong.
        reason: String,
    },

    /// A line's `cksum` is not 64 lowercase hex digits (`line-bad-cksum`).
    #[error("index line `cksum` is `{found}`; expected 64 lowercase hex digits (a SHA-256)")]
    LineBadCksum {
        /// The checksum string, cut short.
        found: String,
    },

    /// A line names a crate other than the file's (`line-wrong-crate`).
    #[error("index line names crate `{found}`; expected `{expected}` (ASCII case-insensitive)")]
    LineWrongCrate {
        /// The crate the file is for.
        expected: String,
        /// The crate the line names.
        found: String,
    },

    /// Two lines of a file have the same version (`line-duplicate-version`).
    #[error(
        "index line repeats version `{vers}` of line {first_line}; expected each version once"
    )]
    LineDuplicateVersion {
        /// The repeated version.
        vers: String,
        /// The line that first had it, from 1.
        first_line: usize,
    },

    /// A registry's `config.json` is not JSON (`config-not-json`).
    #[error("config.json is not valid JSON: {reason}")]
    ConfigNotJson {
        /// What the JSON parser found wrong.
        reason: String,
    },

    /// A registry's `config.json` is JSON but not an object (`config-not-object`).
    #[error("config.json is a JSON {found}; expected an object")]
    ConfigNotObject {
        /// The JSON type found.
        found: &'static str,
    },

    /// A JSON object in `config.json` has the same key twice (`config-duplicate-key`).
    #[error("config.json has key `{key}` more than once; expected each key once")]
    ConfigDuplicateKey {
        /// The repeated key, cut short.
        key: String,
    },

    /// A registry's `config.json` has no `dl` (`config-missing-dl`).
    #[error("config.json has no `dl` field; expected the download URL template, a string")]
    ConfigMissingDl,

    /// A registry's `config.json` has a `dl` that is not a string (`config-bad-dl`).
    #[error("config.json `dl` is a JSON {found}; expected a string (the download URL template)")]
    ConfigBadDl {
        /// The JSON type found.
        found: &'static str,
    },

    /// A line of an index file failed one of the checks above. [`code`](IndexError::code)
    /// is the inner error's code.
    #[error("index file for crate `{crate_name}`, line {line}: {error}")]
    InFile {
        /// The crate the file was parsed for.
        crate_name: String,
        /// The line's number, from 1.
        line: usize,
        /// What was wrong with the line.
        error: Box<IndexError>,
    },
}

impl IndexError {
    /// The stable kebab-case code of this error, as used in `test-vectors/`.
    ///
    /// For [`IndexError::InFile`] this is the code of the line's error.
    pub fn code(&self) -> &'static str {
        match self {
            IndexError::CrateNameEmpty { .. } => "crate-name-empty",
            IndexError::CrateNameTooLong { .. } => "crate-name-too-long",
            IndexError::CrateNameBadStart { .. } => "crate-name-bad-start",
            IndexError::CrateNameBadChar { .. } => "crate-name-bad-char",
            IndexError::SparsePathNotLowercase { .. } => "sparse-path-not-lowercase",
            IndexError::SparsePathMismatch { .. } => "sparse-path-mismatch",
            IndexError::FileTooLarge { .. } => "file-too-large",
            IndexError::TooManyLines { .. } => "too-many-lines",
            IndexError::LineTooLong { .. } => "line-too-long",
            IndexError::NotUtf8 { .. } => "not-utf8",
            IndexError::LineNotJson { .. } => "line-not-json",
            IndexError::LineNotObject { .. } => "line-not-object",
            IndexError::LineDuplicateKey { .. } => "line-duplicate-key",
            IndexError::LineMissingField { .. } => "line-missing-field",
            IndexError::LineBadField { .. } => "line-bad-field",
            IndexError::LineBadVers { .. } => "line-bad-vers",
            IndexError::LineBadCksum { .. } => "line-bad-cksum",
            IndexError::LineWrongCrate { .. } => "line-wrong-crate",
            IndexError::LineDuplicateVersion { .. } => "line-duplicate-version",
            IndexError::ConfigNotJson { .. } => "config-not-json",
            IndexError::ConfigNotObject { .. } => "config-not-object",
            IndexError::ConfigDuplicateKey { .. } => "config-duplicate-key",
            IndexError::ConfigMissingDl => "config-missing-dl",
            IndexError::ConfigBadDl { .. } => "config-bad-dl",
            IndexError::InFile { error, .. } => error.code(),
        }
    }

    /// The line of the index file the error is on (from 1), when it is about one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            IndexError::InFile { line, .. }
            | IndexError::LineTooLong { line, .. }
            | IndexError::NotUtf8 { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The error without its file context: for [`IndexError::InFile`] the line's
    /// error, otherwise `self`.
    pub fn without_context(&self) -> &IndexError {
        match self {
            IndexError::InFile { error, .. } => error.without_context(),
            other => other,
        }
    }
}

/// At most [`EXCERPT_CHARS`] characters of `s`, with `…` when cut.
pub(crate) fn excerpt(s: &str) -> String {
    let mut chars = s.chars();
    let mut head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        head.push('…');
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_keeps_short_and_cuts_long() {
        assert_eq!(excerpt("serde"), "serde");
        let long = "é".repeat(200);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn in_file_code_is_the_inner_code() {
        let err = IndexError::InFile {
            crate_name: "serde".into(),
            line: 3,
            error: Box::new(IndexError::LineBadCksum { found: "x".into() }),
        };
        assert_eq!(err.code(), "line-bad-cksum");
        assert_eq!(err.line(), Some(3));
        assert_eq!(err.without_context().code(), "line-bad-cksum");
        let message = err.to_string();
        assert!(
            message.contains("serde") && message.contains("line 3"),
            "{message}"
        );
    }
}
