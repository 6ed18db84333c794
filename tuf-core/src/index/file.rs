//! Whole index files: one crate, one JSON line per version.

use std::collections::BTreeMap;

use super::error::IndexError;
use super::line::{check_index_line, parse_index_line, IndexLine};
use super::name::CrateName;

/// Caps on an index file, checked on the raw bytes before any parsing.
///
/// An index file reaches a client only after its length and hash matched signed
/// metadata, so these bound what a compromised signer (or a bug) can make a
/// parser do, not what a network attacker can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexLimits {
    /// Most bytes in one index file.
    pub max_file_bytes: u64,
    /// Most lines (blank ones included) in one index file.
    pub max_lines: usize,
    /// Most bytes in one line, without its `\n`.
    pub max_line_bytes: usize,
}

impl Default for IndexLimits {
    fn default() -> Self {
        IndexLimits {
            // crates.io's largest index files are a few MiB; 16 MiB leaves
            // several-fold headroom while bounding the memory one parse holds.
            max_file_bytes: 16 * 1024 * 1024,
            // One line per published version (blank lines count too); 100k lines
            // of a minimal ~160-byte line already fill `max_file_bytes`.
            max_lines: 100_000,
            // Feature-heavy crates (e.g. `windows`) have the longest lines, well
            // below 1 MiB; crates.io also caps features per version.
            max_line_bytes: 1024 * 1024,
        }
    }
}

/// Parses the index file of crate `expected`.
///
/// In order, and failing on the first problem:
/// 1. the file is at most `limits.max_file_bytes`; it has at most
///    `limits.max_lines` lines, each at most `limits.max_line_bytes` (lines end at
///    `\n`; a final `\n` ends the last line rather than starting a new one);
/// 2. it is UTF-8;
/// 3. every line that is not blank (only spaces, tabs, `\r`) passes
///    [`parse_index_line`], names `expected` ASCII case-insensitively (`-` and `_`
///    differ), and has a version no earlier line had.
///
/// Returns the lines in file order; blank lines are skipped, so an empty file
/// gives no lines. Errors about one line come wrapped in
/// [`IndexError::InFile`], whose [`code`](IndexError::code) is the line's error
/// code.
pub fn parse_index_file(
    expected: &CrateName,
    bytes: &[u8],
    limits: &IndexLimits,
) -> Result<Vec<IndexLine>, IndexError> {
    let mut lines = Vec::new();
    each_line(expected, bytes, limits, parse_index_line, |line| {
        lines.push(line);
    })?;
    Ok(lines)
}

/// Accepts exactly the files [`parse_index_file`] accepts, and refuses the others
/// with the same error, keeping nothing: the same limits, the same line splitting
/// and the same per-line and per-file rules, with each line read by
/// [`check_index_line`] (which walks the fields a line does not type rather than
/// building them).
///
/// What a publisher must run on every index file before it signs it: a verifier
/// (`cargo tuf`'s proxy) runs [`parse_index_file`] on what it downloads and
/// refuses the whole file on any error, so a file this refuses would be signed
/// only to be refused by every verified client.
pub fn check_index_file(
    expected: &CrateName,
    bytes: &[u8],
    limits: &IndexLimits,
) -> Result<(), IndexError> {
    each_line(expected, bytes, limits, check_index_line, drop)
}

/// The rules of [`parse_index_file`], with `read_line` reading each line that is
/// not blank and `keep` given each line that passed.
fn each_line(
    expected: &CrateName,
    bytes: &[u8],
    limits: &IndexLimits,
    read_line: fn(&str) -> Result<IndexLine, IndexError>,
    mut keep: impl FnMut(IndexLine),
) -> Result<(), IndexError> {
    check_limits(bytes, limits)?;
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        IndexError::NotUtf8 {
            offset,
            line: line_number_at(bytes, offset),
        }
    })?;

    let in_file = |line: usize, error: IndexError| IndexError::InFile {
        crate_name: expected.as_str().to_owned(),
        line,
        error: Box::new(error),
    };
    let mut first_line_of: BTreeMap<semver::Version, usize> = BTreeMap::new();
    // INVARIANT: there are at most `bytes.len() + 1` lines, so counting them
    // from 1 cannot overflow `usize`.
    // Same cuts as `split_lines` (which `check_limits` used), on the text.
    let text_lines = text
        .split_inclusive('\n')
        .map(|line| line.strip_suffix('\n').unwrap_or(line));
    for (number, raw) in (1usize..).zip(text_lines) {
        if is_blank(raw.as_bytes()) {
            continue;
        }
        let line = read_line(raw).map_err(|e| in_file(number, e))?;
        if !line.name.eq_ignore_ascii_case(expected) {
            return Err(in_file(
                number,
                IndexError::LineWrongCrate {
                    expected: expected.as_str().to_owned(),
                    found: line.name.as_str().to_owned(),
                },
            ));
        }
        if let Some(first_line) = first_line_of.insert(line.vers.clone(), number) {
            return Err(in_file(
                number,
                IndexError::LineDuplicateVersion {
                    vers: line.vers.to_string(),
                    first_line,
                },
            ));
        }
        keep(line);
    }
    Ok(())
}

/// Size, line-count and line-length caps, on raw bytes, before any parsing.
fn check_limits(bytes: &[u8], limits: &IndexLimits) -> Result<(), IndexError> {
    // A slice longer than u64::MAX bytes cannot exist on any supported target;
    // saturating keeps the comparison right if it did.
    let found = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if found > limits.max_file_bytes {
        return Err(IndexError::FileTooLarge {
            found,
            max: limits.max_file_bytes,
        });
    }
    // INVARIANT: at most `bytes.len() + 1` lines; see `parse_index_file`.
    for (number, raw) in (1usize..).zip(split_lines(bytes)) {
        if number > limits.max_lines {
            return Err(IndexError::TooManyLines {
                max: limits.max_lines,
            });
        }
        if raw.len() > limits.max_line_bytes {
            return Err(IndexError::LineTooLong {
                line: number,
                found: raw.len(),
                max: limits.max_line_bytes,
            });
        }
    }
    Ok(())
}

/// The lines of `bytes` as cargo splits them: at each `\n`, the `\n` dropped,
/// with no empty line after a final `\n` (and none at all for empty input).
///
/// The same cuts as `bytes.split_inclusive(|b| *b == b'\n')` with the `\n`
/// stripped, found with `memchr` rather than byte by byte: the publisher splits
/// every index file it signs, and this was a sixth of its check's cost.
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', bytes);
    std::iter::from_fn(move || {
        let rest = bytes.get(start..).filter(|rest| !rest.is_empty())?;
        match ends.next() {
            Some(end) => {
                let line = bytes.get(start..end);
                // INVARIANT: `end` is the index of a byte of `bytes`, so `end + 1`
                // is at most `bytes.len()`.
                start = end.saturating_add(1);
                line
            }
            None => {
                start = bytes.len();
                Some(rest)
            }
        }
    })
}

/// A line with nothing but JSON whitespace other than `\n` (which ends lines).
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'))
}

/// The line number (from 1) of byte `offset`.
fn line_number_at(bytes: &[u8], offset: usize) -> usize {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let newlines = before.iter().filter(|b| **b == b'\n').count();
    // INVARIANT: `newlines <= bytes.len() < usize::MAX`.
    newlines.saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CKSUM_A: &str = "d867001db0e2b6e0496f9fac96930e2d42233ecd3ca0413e0753d4c7695d289c";
    const CKSUM_B: &str = "0000000000000000000000000000000000000000000000000000000000000001";

    fn line(name: &str, vers: &str, cksum: &str) -> String {
        format!(
            r#"{{"name":"{name}","vers":"{vers}","deps":[],"cksum":"{cksum}","features":{{}},"yanked":false}}"#
        )
    }

    fn serde() -> CrateName {
        CrateName::parse("serde").unwrap()
    }

    fn parse(text: &str) -> Result<Vec<IndexLine>, IndexError> {
        parse_index_file(&serde(), text.as_bytes(), &IndexLimits::default())
    }

    fn code(text: &str) -> &'static str {
        match parse(text) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn parses_lines_in_order() {
        let text = format!(
            "{}\n{}\n",
            line("serde", "1.0.0", CKSUM_A),
            line("serde", "1.0.1", CKSUM_B)
        );
        let lines = parse(&text).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].vers.to_string(), "1.0.0");
        assert_eq!(lines[1].cksum.to_hex(), CKSUM_B);
    }

    #[test]
    fn trailing_newline_blank_lines_and_crlf_are_accepted() {
        let a = line("serde", "1.0.0", CKSUM_A);
        let b = line("serde", "1.0.1", CKSUM_B);
        for text in [
            format!("{a}\n{b}"),
            format!("{a}\n{b}\n"),
            format!("\n\n{a}\n\n  \t\n{b}\n\n"),
            format!("{a}\r\n{b}\r\n"),
            format!("\r\n{a}\r\n\r\n{b}"),
        ] {
            assert_eq!(parse(&text).unwrap().len(), 2, "{text:?}");
        }
    }

    #[test]
    fn empty_and_blank_files_have_no_lines() {
        for text in ["", "\n", "\n\n", " \r\n\t"] {
            assert!(parse(text).unwrap().is_empty(), "{text:?}");
        }
    }

    #[test]
    fn name_matches_ignoring_ascii_case_only() {
        let upper = line("Serde", "1.0.0", CKSUM_A);
        assert_eq!(parse(&upper).unwrap()[0].name.as_str(), "Serde");
        let expected = CrateName::parse("SERDE").unwrap();
        let lower = line("serde", "1.0.0", CKSUM_A);
        assert!(parse_index_file(&expected, lower.as_bytes(), &IndexLimits::default()).is_ok());

        let dash = CrateName::parse("serde-json").unwrap();
        let underscore = line("serde_json", "1.0.0", CKSUM_A);
        let err =
            parse_index_file(&dash, underscore.as_bytes(), &IndexLimits::default()).unwrap_err();
        assert_eq!(err.code(), "line-wrong-crate");
    }

    #[test]
    fn rejects_a_line_for_another_crate_with_its_line_number() {
        let text = format!(
            "{}\n{}\n",
            line("serde", "1.0.0", CKSUM_A),
            line("serde_json", "1.0.0", CKSUM_B)
        );
        assert_eq!(
            parse(&text).unwrap_err(),
            IndexError::InFile {
                crate_name: "serde".into(),
                line: 2,
                error: Box::new(IndexError::LineWrongCrate {
                    expected: "serde".into(),
                    found: "serde_json".into()
                })
            }
        );
    }

    #[test]
    fn line_numbers_count_blank_lines() {
        let text = format!("\n\n{}\n", line("serde", "1.0.0", "bad"));
        let err = parse(&text).unwrap_err();
        assert_eq!(err.code(), "line-bad-cksum");
        assert_eq!(err.line(), Some(3));
    }

    #[test]
    fn line_errors_are_wrapped_with_their_code() {
        let cases = [
            ("not json", "line-not-json"),
            ("[1]", "line-not-object"),
            (r#"{"name":"serde","vers":"1.0.0"}"#, "line-missing-field"),
            (r#"{"name":"serde","cksum":"00"}"#, "line-missing-field"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.code(), expected, "{text}");
            assert!(matches!(err, IndexError::InFile { line: 1, .. }), "{err:?}");
        }
        assert_eq!(code(&line("serde", "", CKSUM_A)), "line-bad-vers");
        assert_eq!(
            code(&line("serde", "1.0.0", &CKSUM_A.to_uppercase())),
            "line-bad-cksum"
        );
        assert_eq!(
            code(&line("se rde", "1.0.0", CKSUM_A)),
            "crate-name-bad-char"
        );
    }

    #[test]
    fn rejects_duplicate_versions() {
        let text = format!(
            "{}\n{}\n{}\n",
            line("serde", "1.0.0", CKSUM_A),
            line("serde", "1.0.1", CKSUM_A),
            line("serde", "1.0.0", CKSUM_B)
        );
        let err = parse(&text).unwrap_err();
        assert_eq!(err.code(), "line-duplicate-version");
        assert_eq!(
            err.without_context(),
            &IndexError::LineDuplicateVersion {
                vers: "1.0.0".into(),
                first_line: 1
            }
        );
        assert_eq!(err.line(), Some(3));
        // Build metadata makes a different version, as in cargo's version map.
        let build = format!(
            "{}\n{}\n",
            line("serde", "1.0.0+a", CKSUM_A),
            line("serde", "1.0.0+b", CKSUM_B)
        );
        assert_eq!(code(&build), "ok");
    }

    #[test]
    fn rejects_non_utf8_with_offset_and_line() {
        let mut bytes = format!("{}\n", line("serde", "1.0.0", CKSUM_A)).into_bytes();
        let offset = bytes.len() + 2;
        bytes.extend_from_slice(b"{\"\xff\"}\n");
        let err = parse_index_file(&serde(), &bytes, &IndexLimits::default()).unwrap_err();
        assert_eq!(err, IndexError::NotUtf8 { offset, line: 2 });
        assert!(parse_index_file(&serde(), b"\xef\xbb", &IndexLimits::default()).is_err());
    }

    #[test]
    fn file_size_cap() {
        let text = line("serde", "1.0.0", CKSUM_A);
        let size = u64::try_from(text.len()).unwrap();
        let at = IndexLimits {
            max_file_bytes: size,
            ..IndexLimits::default()
        };
        assert!(parse_index_file(&serde(), text.as_bytes(), &at).is_ok());
        let under = IndexLimits {
            max_file_bytes: size - 1,
            ..IndexLimits::default()
        };
        assert_eq!(
            parse_index_file(&serde(), text.as_bytes(), &under).unwrap_err(),
            IndexError::FileTooLarge {
                found: size,
                max: size - 1
            }
        );
    }

    #[test]
    fn line_count_cap_counts_blank_lines_but_not_a_final_newline() {
        let limits = IndexLimits {
            max_lines: 2,
            ..IndexLimits::default()
        };
        let a = line("serde", "1.0.0", CKSUM_A);
        let b = line("serde", "1.0.1", CKSUM_B);
        let ok = format!("{a}\n{b}\n");
        assert_eq!(
            parse_index_file(&serde(), ok.as_bytes(), &limits)
                .unwrap()
                .len(),
            2
        );
        let blank = format!("{a}\n\n{b}\n");
        assert_eq!(
            parse_index_file(&serde(), blank.as_bytes(), &limits).unwrap_err(),
            IndexError::TooManyLines { max: 2 }
        );
    }

    #[test]
    fn limits_are_checked_before_parsing() {
        // Invalid JSON on line 1 and too many lines: the cap wins.
        let limits = IndexLimits {
            max_lines: 1,
            ..IndexLimits::default()
        };
        assert_eq!(
            parse_index_file(&serde(), b"garbage\n\xff", &limits)
                .unwrap_err()
                .code(),
            "too-many-lines"
        );
    }

    #[test]
    fn line_length_cap() {
        let a = line("serde", "1.0.0", CKSUM_A);
        let limits = IndexLimits {
            max_line_bytes: a.len(),
            ..IndexLimits::default()
        };
        let ok = format!("{a}\n");
        assert!(parse_index_file(&serde(), ok.as_bytes(), &limits).is_ok());
        let crlf = format!("{a}\r\n");
        assert_eq!(
            parse_index_file(&serde(), crlf.as_bytes(), &limits).unwrap_err(),
            IndexError::LineTooLong {
                line: 1,
                found: a.len() + 1,
                max: a.len()
            }
        );
    }

    #[test]
    fn default_limits_hold_a_large_realistic_file() {
        // 5,000 versions of ~250-byte lines: about 1.3 MB.
        let text: String = (0..5000)
            .map(|i| format!("{}\n", line("serde", &format!("1.{i}.0"), CKSUM_A)))
            .collect();
        assert_eq!(parse(&text).unwrap().len(), 5000);
    }

    #[test]
    fn split_lines_matches_cargo() {
        let split = |b: &'static [u8]| split_lines(b).collect::<Vec<_>>();
        assert!(split(b"").is_empty());
        assert_eq!(split(b"a"), [b"a"]);
        assert_eq!(split(b"a\n"), [b"a"]);
        assert_eq!(split(b"a\nb"), [&b"a"[..], b"b"]);
        assert_eq!(split(b"\n"), [b""]);
        assert_eq!(split(b"a\n\n"), [&b"a"[..], b""]);
        assert_eq!(split(b"\n\na"), [&b""[..], b"", b"a"]);
    }

    proptest! {
        #[test]
        fn split_lines_cuts_where_split_inclusive_cuts(
            bytes in prop::collection::vec(prop::sample::select(vec![b'\n', b'\r', b'a', 0xff]), 0..64)
        ) {
            let reference: Vec<&[u8]> = bytes
                .split_inclusive(|b| *b == b'\n')
                .map(|line| line.strip_suffix(b"\n").unwrap_or(line))
                .collect();
            prop_assert_eq!(split_lines(&bytes).collect::<Vec<_>>(), reference);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_index_file(&serde(), &bytes, &IndexLimits::default());
        }

        #[test]
        fn check_index_file_agrees_with_parse_index_file(
            s in r#"(\{"name":"(serde|Serde|x)","vers":"1\.[0-9]\.0","cksum":"[0-9a-f]{64}"(,"d":\[\{"k":1(,"k":2)?\}\])?\}|[ \r\t{}]|garbage|\xff)(\r?\n(\{"name":"serde","vers":"1\.[0-9]\.0","cksum":"[0-9a-f]{64}"\}|[ \r\t]*)){0,6}\n?"#,
            max_lines in 1usize..8,
        ) {
            let limits = IndexLimits { max_lines, ..IndexLimits::default() };
            prop_assert_eq!(
                check_index_file(&serde(), s.as_bytes(), &limits),
                parse_index_file(&serde(), s.as_bytes(), &limits).map(|_| ())
            );
        }

        #[test]
        fn check_index_file_agrees_with_parse_index_file_on_tricky_files(
            lines in prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "serde", "Serde", "SERDE", r"s\u0065rde", r"\u0053erde", "serde_json",
                        "serde-json", "serde ", r"serde\u0000", "s\u{e9}rde",
                    ]),
                    prop::sample::select(vec![
                        "1.0.0", r"1.0.\u0030", "1.0.0+b", "1.0.1", "01.0.0", "1.0",
                    ]),
                    prop::sample::select(vec![
                        "",
                        r#","deps":[{"k":"\u00e9","q":"\"x\""}]"#,
                        r#","features":{"a":{"b":{"c":[1,2.5e3,-0]}}}"#,
                        r#","x":{"a":1,"a":2}"#,
                        r#","x":{"a":1,"\u0061":2}"#,
                        r#","x":[1,]"#,
                        r#","x":1e400"#,
                        r#","x":"\ud800""#,
                        r#","yanked":null"#,
                        r#","v":4294967296"#,
                        r#","cksum":"00""#,
                        r#" , "yanked" : true "#,
                        ",",
                    ]),
                    prop::sample::select(vec!["\n", "\r\n", "\n\n", "\n \t\r\n"]),
                ),
                0..5,
            ),
            raw in prop::option::of((any::<prop::sample::Index>(), prop::sample::select(vec![
                &b"\xff"[..], b"\xc3", b"\xc3\xa9", b"\xed\xa0\x80", b"\n", b"\r", b"{",
            ]))),
            last_newline in any::<bool>(),
        ) {
            // Whole files of lines with names spelled with escapes, in other cases and
            // with `-` for `_`; versions escaped or repeated; unknown fields holding
            // escapes, nested and repeated keys, numbers and trailing commas; and
            // maybe one raw byte (invalid UTF-8 among them) spliced in anywhere.
            let mut text = Vec::new();
            for (name, vers, extra, end) in &lines {
                text.extend_from_slice(
                    format!(r#"{{"name":"{name}","vers":"{vers}","cksum":"{CKSUM_A}"{extra}}}{end}"#)
                        .as_bytes(),
                );
            }
            if !last_newline && text.last() == Some(&b'\n') {
                text.pop();
            }
            if let Some((at, bytes)) = raw {
                let at = at.index(text.len() + 1);
                text.splice(at..at, bytes.iter().copied());
            }
            prop_assert_eq!(
                check_index_file(&serde(), &text, &IndexLimits::default()),
                parse_index_file(&serde(), &text, &IndexLimits::default()).map(|_| ())
            );
        }

        #[test]
        fn line_shaped_text_never_panics(
            s in r#"(\{"name":"(serde|Serde|x)","vers":"1\.[0-9]\.0","cksum":"[0-9a-f]{64}"\}|[ \r\t{}]|garbage)(\r?\n(\{"name":"serde","vers":"1\.[0-9]\.0","cksum":"[0-9a-f]{64}"\}|[ \r\t]*)){0,6}\n?"#
        ) {
            let _ = parse(&s);
        }

        #[test]
        fn every_parsed_line_names_the_expected_crate(
            names in prop::collection::vec("(serde|SERDE|Serde|serde_json|serde-json)", 1..5)
        ) {
            let text: String = names
                .iter()
                .enumerate()
                .map(|(i, name)| format!("{}\n", line(name, &format!("0.{i}.0"), CKSUM_A)))
                .collect();
            match parse(&text) {
                Ok(lines) => {
                    for line in lines {
                        prop_assert!(line.name.eq_ignore_ascii_case(&serde()));
                    }
                }
                Err(e) => prop_assert_eq!(e.code(), "line-wrong-crate"),
            }
        }
    }
}
