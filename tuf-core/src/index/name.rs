//! Crate names and their sparse index paths.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::{excerpt, IndexError};

/// The longest crate name, in characters (crates.io's `MAX_NAME_LENGTH`).
pub const MAX_CRATE_NAME_LEN: usize = 64;

/// A crate name that passes crates.io's rules: 1 to 64 characters, the first an
/// ASCII letter, the rest ASCII letters, digits, `-` or `_`.
///
/// The name keeps the case it was given; equality is exact. Cargo looks crates
/// up ASCII case-insensitively, so use [`CrateName::eq_ignore_ascii_case`] to ask
/// whether two names are the same crate. Because every name is ASCII, its length
/// in bytes equals its length in characters.
///
/// Source: crates.io `Crate::validate_crate_name` /
/// `validate_create_ident` (`crates/crates_io_database/src/models/krate.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CrateName(String);

impl CrateName {
    /// Checks `s` against crates.io's crate name rules, in crates.io's order:
    /// length, emptiness, first character, other characters.
    pub fn parse(s: &str) -> Result<Self, IndexError> {
        let found = s.chars().count();
        if found > MAX_CRATE_NAME_LEN {
            return Err(IndexError::CrateNameTooLong {
                name: excerpt(s),
                found,
                max: MAX_CRATE_NAME_LEN,
            });
        }
        let Some(first) = s.chars().next() else {
            return Err(IndexError::CrateNameEmpty {
                max: MAX_CRATE_NAME_LEN,
            });
        };
        // crates.io reports a leading digit separately ("cannot start with a
        // digit"); both are one rule here: the first character is an ASCII letter.
        if !first.is_ascii_alphabetic() {
            return Err(IndexError::CrateNameBadStart {
                name: excerpt(s),
                found: first,
            });
        }
        if let Some((index, found)) = s
            .chars()
            .enumerate()
            .skip(1)
            .find(|(_, ch)| !(ch.is_ascii_alphanumeric() || *ch == '-' || *ch == '_'))
        {
            return Err(IndexError::CrateNameBadChar {
                name: excerpt(s),
                found,
                index,
            });
        }
        Ok(CrateName(s.to_owned()))
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `self` and `other` name the same crate for cargo: equal ignoring
    /// ASCII case. `-` and `_` stay distinct (they give different index paths).
    pub fn eq_ignore_ascii_case(&self, other: &CrateName) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }

    /// The sparse index path of this crate's index file, relative to the index
    /// root, in lowercase: `1/a`, `2/ab`, `3/a/abc`, `se/rd/serde`.
    ///
    /// Source: the cargo book, "Registry Index", *Index files* (the
    /// `{lowerprefix}` directory followed by the lowercased name).
    pub fn sparse_path(&self) -> String {
        let lower = self.0.to_ascii_lowercase();
        // Longest prefix is "ab/cd/": six bytes.
        let mut path = String::with_capacity(lower.len().saturating_add(6));
        push_prefix(&lower, &mut path);
        path.push('/');
        path.push_str(&lower);
        path
    }

    /// The directory part of the index path in the name's own case, cargo's `{prefix}`
    /// of a `dl` template: `1`, `2`, `3/S`, `Se/rd` for `a`, `ab`, `Syn`, `Serde`. Its
    /// lowercase is `{lowerprefix}`, the directory of [`CrateName::sparse_path`].
    ///
    /// Source: the cargo book, "Registry Index", *Index Configuration* (`dl` markers).
    pub fn index_prefix(&self) -> String {
        let mut prefix = String::with_capacity(5);
        push_prefix(&self.0, &mut prefix);
        prefix
    }

    /// Reads a sparse index path back into the crate name it is for.
    ///
    /// Accepts exactly the paths [`CrateName::sparse_path`] produces: the last
    /// segment must be a valid crate name, and the whole path must equal that
    /// name's sparse path (so the directories must match, there is no leading or
    /// trailing `/`, and everything is lowercase). The returned name is lowercase,
    /// as the path is; the original case is not recoverable from a path.
    pub fn from_sparse_path(path: &str) -> Result<Self, IndexError> {
        let file_name = path.rsplit_once('/').map_or(path, |(_, name)| name);
        let name = CrateName::parse(file_name)?;
        let expected = name.sparse_path();
        if expected == path {
            return Ok(name);
        }
        if expected.eq_ignore_ascii_case(path) {
            Err(IndexError::SparsePathNotLowercase {
                expected,
                found: excerpt(path),
            })
        } else {
            Err(IndexError::SparsePathMismatch {
                expected,
                found: excerpt(path),
            })
        }
    }
}

impl fmt::Display for CrateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CrateName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for CrateName {
    type Err = IndexError;

    fn from_str(s: &str) -> Result<Self, IndexError> {
        CrateName::parse(s)
    }
}

impl TryFrom<String> for CrateName {
    type Error = IndexError;

    fn try_from(s: String) -> Result<Self, IndexError> {
        CrateName::parse(&s)
    }
}

impl From<CrateName> for String {
    fn from(name: CrateName) -> String {
        name.0
    }
}

/// Append the index directory of `name` (`1`, `2`, `3/a`, `ab/cd`), in `name`'s case: the
/// one spelling of the cargo index layout that [`CrateName::sparse_path`] and
/// [`CrateName::index_prefix`] share.
fn push_prefix(name: &str, out: &mut String) {
    match name.as_bytes() {
        // INVARIANT: a CrateName is never empty, so `[]` cannot occur; it
        // shares the one-character arm only to keep the match total.
        [] | [_] => out.push('1'),
        [_, _] => out.push('2'),
        [first, _, _] => {
            out.push_str("3/");
            out.push(char::from(*first));
        }
        [a, b, c, d, ..] => {
            out.push(char::from(*a));
            out.push(char::from(*b));
            out.push('/');
            out.push(char::from(*c));
            out.push(char::from(*d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(s: &str) -> &'static str {
        match CrateName::parse(s) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn accepts_valid_names_and_keeps_case() {
        for s in [
            "a",
            "Z",
            "ab",
            "serde",
            "Serde_JSON",
            "a-b_c",
            "x1",
            "a--",
            "a__",
        ] {
            assert_eq!(CrateName::parse(s).unwrap().as_str(), s);
        }
        let longest = "a".repeat(MAX_CRATE_NAME_LEN);
        assert!(CrateName::parse(&longest).is_ok());
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(code(""), "crate-name-empty");
    }

    #[test]
    fn rejects_too_long_counting_characters() {
        assert_eq!(
            code(&"a".repeat(MAX_CRATE_NAME_LEN + 1)),
            "crate-name-too-long"
        );
        // crates.io checks the length first, in characters.
        assert_eq!(
            code(&"é".repeat(MAX_CRATE_NAME_LEN + 1)),
            "crate-name-too-long"
        );
        assert_eq!(
            code(&"é".repeat(MAX_CRATE_NAME_LEN)),
            "crate-name-bad-start"
        );
        let err = CrateName::parse(&"a".repeat(1000)).unwrap_err();
        assert_eq!(
            err,
            IndexError::CrateNameTooLong {
                name: format!("{}…", "a".repeat(80)),
                found: 1000,
                max: MAX_CRATE_NAME_LEN
            }
        );
    }

    #[test]
    fn rejects_bad_start() {
        for s in ["1a", "0", "-a", "_a", "é", " a", "/a"] {
            assert_eq!(code(s), "crate-name-bad-start", "{s:?}");
        }
        assert_eq!(
            CrateName::parse("9lives").unwrap_err(),
            IndexError::CrateNameBadStart {
                name: "9lives".into(),
                found: '9'
            }
        );
    }

    #[test]
    fn rejects_bad_char() {
        for s in ["a.b", "a b", "a/b", "aé", "a+", "a\n", "a\0", "ab\u{200b}c"] {
            assert_eq!(code(s), "crate-name-bad-char", "{s:?}");
        }
        assert_eq!(
            CrateName::parse("ser.de").unwrap_err(),
            IndexError::CrateNameBadChar {
                name: "ser.de".into(),
                found: '.',
                index: 3
            }
        );
    }

    #[test]
    fn eq_ignore_ascii_case_is_not_dash_underscore_folding() {
        let a = CrateName::parse("Serde_Json").unwrap();
        assert!(a.eq_ignore_ascii_case(&CrateName::parse("serde_json").unwrap()));
        assert!(!a.eq_ignore_ascii_case(&CrateName::parse("serde-json").unwrap()));
        assert_ne!(a, CrateName::parse("serde_json").unwrap());
    }

    #[test]
    fn sparse_path_per_length() {
        let cases = [
            ("a", "1/a"),
            ("A", "1/a"),
            ("ab", "2/ab"),
            ("abc", "3/a/abc"),
            ("Abc", "3/a/abc"),
            ("abcd", "ab/cd/abcd"),
            ("serde", "se/rd/serde"),
            ("MyCrate", "my/cr/mycrate"),
            ("a-_b", "a-/_b/a-_b"),
        ];
        for (name, path) in cases {
            assert_eq!(
                CrateName::parse(name).unwrap().sparse_path(),
                path,
                "{name}"
            );
        }
    }

    #[test]
    fn index_prefix_keeps_the_case_and_lowercases_to_the_sparse_directory() {
        let cases = [
            ("a", "1"),
            ("Ab", "2"),
            ("Syn", "3/S"),
            ("Serde", "Se/rd"),
            ("MyCrate", "My/Cr"),
            ("a-_b", "a-/_b"),
        ];
        for (name, prefix) in cases {
            let name = CrateName::parse(name).unwrap();
            assert_eq!(name.index_prefix(), prefix, "{name:?}");
            let lower = prefix.to_ascii_lowercase();
            assert_eq!(
                name.sparse_path(),
                format!("{lower}/{}", name.as_str().to_ascii_lowercase()),
                "{name:?}"
            );
        }
    }

    #[test]
    fn from_sparse_path_accepts_canonical_paths() {
        for path in ["1/a", "2/ab", "3/a/abc", "ab/cd/abcd", "se/rd/serde"] {
            let name = CrateName::from_sparse_path(path).unwrap();
            assert_eq!(name.sparse_path(), path);
        }
    }

    #[test]
    fn from_sparse_path_rejects_wrong_directories_and_shapes() {
        for path in [
            "2/a",
            "1/ab",
            "3/b/abc",
            "3/abc",
            "ab/ce/abcd",
            "se/rd/serde/",
            "/se/rd/serde",
            "serde",
            "x/se/rd/serde",
            "se/serde",
            "se//rd/serde",
        ] {
            let err = CrateName::from_sparse_path(path).unwrap_err();
            assert!(
                matches!(
                    err.code(),
                    "sparse-path-mismatch" | "crate-name-empty" | "crate-name-bad-start"
                ),
                "{path}: {err}"
            );
        }
        assert_eq!(
            CrateName::from_sparse_path("3/b/abc").unwrap_err(),
            IndexError::SparsePathMismatch {
                expected: "3/a/abc".into(),
                found: "3/b/abc".into()
            }
        );
        // The last segment must itself be a crate name.
        assert_eq!(
            CrateName::from_sparse_path("se/rd/ser.de")
                .unwrap_err()
                .code(),
            "crate-name-bad-char"
        );
        assert_eq!(
            CrateName::from_sparse_path("se/rd/").unwrap_err().code(),
            "crate-name-empty"
        );
    }

    #[test]
    fn from_sparse_path_rejects_upper_case() {
        for path in ["Se/rd/serde", "se/rd/Serde", "1/A", "3/A/abc"] {
            assert_eq!(
                CrateName::from_sparse_path(path).unwrap_err().code(),
                "sparse-path-not-lowercase",
                "{path}"
            );
        }
    }

    #[test]
    fn serde_checks_on_the_way_in() {
        let name: CrateName = serde_json::from_str("\"Serde\"").unwrap();
        assert_eq!(name.as_str(), "Serde");
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"Serde\"");
        assert!(serde_json::from_str::<CrateName>("\"1a\"").is_err());
        assert_eq!("ab".parse::<CrateName>().unwrap().to_string(), "ab");
    }

    proptest! {
        #[test]
        fn valid_names_parse_and_round_trip_through_the_sparse_path(
            s in "[a-zA-Z][a-zA-Z0-9_-]{0,63}"
        ) {
            let name = CrateName::parse(&s).unwrap();
            prop_assert_eq!(name.as_str(), s.as_str());
            let path = name.sparse_path();
            prop_assert_eq!(path.to_ascii_lowercase(), path.clone());
            let back = CrateName::from_sparse_path(&path).unwrap();
            prop_assert_eq!(back.as_str(), s.to_ascii_lowercase());
            prop_assert!(back.eq_ignore_ascii_case(&name));
            prop_assert_eq!(back.sparse_path(), path);
        }

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            if let Ok(name) = CrateName::parse(&s) {
                prop_assert_eq!(name.as_str(), s.as_str());
                prop_assert!(CrateName::from_sparse_path(&name.sparse_path()).is_ok());
            }
            let _ = CrateName::from_sparse_path(&s);
        }

        #[test]
        fn path_like_strings_never_panic_and_only_canonical_ones_parse(
            s in "[a-zA-Z0-9_./-]{0,80}"
        ) {
            if let Ok(name) = CrateName::from_sparse_path(&s) {
                prop_assert_eq!(name.sparse_path(), s);
            }
        }
    }
}
