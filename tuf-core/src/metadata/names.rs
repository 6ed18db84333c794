//! File names of metadata in a repository with consistent snapshots (TUF §5.3, §5.5,
//! §5.6): every role but the timestamp is published as `VERSION.ROLE.json`, the timestamp
//! as `timestamp.json`. Every place that builds or reads such a name calls these, so the
//! spelling lives in one place.

/// The name of the timestamp file: never versioned, the one file a client fetches without
/// knowing its version first (TUF §5.4).
pub const TIMESTAMP_FILE: &str = "timestamp.json";

/// The consistent-snapshot file name of `version` of `role`: `VERSION.ROLE.json` (TUF §5.3
/// for the root, §5.5 and §5.6 for snapshot, targets and delegated roles).
///
/// `role` is used as given: a delegated role whose name is not a safe file name must be
/// encoded by the caller first (the client percent-encodes it).
pub fn versioned_file_name(version: u64, role: &str) -> String {
    format!("{version}.{role}.json")
}

/// The version and role of a consistent-snapshot file name, the inverse of
/// [`versioned_file_name`]; `None` for any other name (`timestamp.json`, `root.json`,
/// `01.root.json`, `+1.root.json`, `0.root.json`, `1..json`).
///
/// The version is the canonical decimal spelling of a positive integer (TUF versions start
/// at 1, TUF §4.2), so one version has one name and no two names parse to one version.
pub fn parse_versioned_file_name(name: &str) -> Option<(u64, &str)> {
    let (version, rest) = name.split_once('.')?;
    let role = rest.strip_suffix(".json")?;
    let canonical = !version.is_empty()
        && version.bytes().all(|b| b.is_ascii_digit())
        && !version.starts_with('0');
    if !canonical || role.is_empty() {
        return None;
    }
    Some((version.parse().ok()?, role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_version_dot_role_dot_json() {
        assert_eq!(versioned_file_name(1, "root"), "1.root.json");
        assert_eq!(versioned_file_name(42, "snapshot"), "42.snapshot.json");
        assert_eq!(
            versioned_file_name(u64::MAX, "crates-bin-a3f"),
            "18446744073709551615.crates-bin-a3f.json"
        );
    }

    #[test]
    fn parses_what_it_builds() {
        for (version, role) in [(1, "root"), (7, "targets"), (u64::MAX, "crates-bin-0ff")] {
            let name = versioned_file_name(version, role);
            assert_eq!(parse_versioned_file_name(&name), Some((version, role)));
        }
        // A delegated role name may itself hold dots: only the first one ends the version.
        assert_eq!(
            parse_versioned_file_name("3.a.b.json"),
            Some((3, "a.b")),
            "role with a dot"
        );
    }

    #[test]
    fn rejects_other_names() {
        for name in [
            TIMESTAMP_FILE,
            "root.json",
            "0.root.json",
            "01.root.json",
            "+1.root.json",
            "-1.root.json",
            " 1.root.json",
            "1.root.json.tmp",
            "1..json",
            "1.json",
            ".root.json",
            "18446744073709551616.root.json",
            "",
        ] {
            assert_eq!(parse_versioned_file_name(name), None, "{name:?}");
        }
    }
}
