//! The normalised `Cargo.toml` against `Cargo.toml.orig`: `cargo package` rewrites the
//! manifest (inheritance resolved, paths dropped, targets listed), but the package's
//! name, version and every dependency's version requirement and rename are copied.
//! A normalised manifest that disagrees was not written by `cargo package` from that
//! original, and it is the one cargo builds from.

use crate::manifest::{Dependency, Manifest};
use crate::report::{Note, Problem};

/// Compare `normalized` with `original`, resolving `{ workspace = true }` in `original`
/// through `workspace_root` when it is known.
pub fn check_manifest(
    normalized: &Manifest,
    original: &Manifest,
    workspace_root: Option<&Manifest>,
    problems: &mut Vec<Problem>,
    notes: &mut Vec<Note>,
) {
    for field in ["name", "version"] {
        let original_value = if original.package_inherits(field) {
            match workspace_root.and_then(|ws| ws.workspace_package_str(field)) {
                Some(value) => Some(value.to_owned()),
                None => {
                    notes.push(Note::InheritanceUnresolved(format!("package.{field}")));
                    continue;
                }
            }
        } else {
            original.package_str(field).map(str::to_owned)
        };
        let normalized_value = normalized.package_str(field).map(str::to_owned);
        if normalized_value != original_value {
            problems.push(Problem::ManifestField {
                field: format!("package.{field}"),
                normalized: normalized_value,
                original: original_value,
            });
        }
    }

    let normalized_deps = normalized.dependencies();
    let original_deps = original.dependencies();
    for (key, original_dep) in &original_deps {
        let field = field_name(key);
        let resolved = if original_dep.workspace {
            match workspace_root.and_then(|ws| ws.workspace_dependency(&key.2)) {
                Some(ws) => Dependency {
                    version: ws.version,
                    package: ws.package.or_else(|| original_dep.package.clone()),
                    workspace: false,
                },
                None => {
                    notes.push(Note::InheritanceUnresolved(field));
                    continue;
                }
            }
        } else {
            original_dep.clone()
        };
        match normalized_deps.get(key) {
            None if resolved.version.is_none() => {
                // A path-only dependency (dev-dependencies may be) is dropped by cargo.
            }
            None => problems.push(Problem::ManifestField {
                field,
                normalized: None,
                original: resolved.version.clone(),
            }),
            Some(normalized_dep) => {
                if normalized_dep.version != resolved.version {
                    problems.push(Problem::ManifestField {
                        field: format!("{field}.version"),
                        normalized: normalized_dep.version.clone(),
                        original: resolved.version.clone(),
                    });
                }
                if normalized_dep.package != resolved.package {
                    problems.push(Problem::ManifestField {
                        field: format!("{field}.package"),
                        normalized: normalized_dep.package.clone(),
                        original: resolved.package.clone(),
                    });
                }
            }
        }
    }
    for (key, normalized_dep) in &normalized_deps {
        if !original_deps.contains_key(key) {
            problems.push(Problem::ManifestField {
                field: field_name(key),
                normalized: normalized_dep.version.clone(),
                original: None,
            });
        }
    }
}

fn field_name((table, target, name): &(String, Option<String>, String)) -> String {
    match target {
        Some(cfg) => format!("target.{cfg}.{table}.{name}"),
        None => format!("{table}.{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(normalized: &str, original: &str, ws: Option<&str>) -> (Vec<Problem>, Vec<Note>) {
        let n = Manifest::parse(normalized.as_bytes()).unwrap();
        let o = Manifest::parse(original.as_bytes()).unwrap();
        let w = ws.map(|w| Manifest::parse(w.as_bytes()).unwrap());
        let (mut problems, mut notes) = (Vec::new(), Vec::new());
        check_manifest(&n, &o, w.as_ref(), &mut problems, &mut notes);
        (problems, notes)
    }

    #[test]
    fn consistent_with_inheritance_and_dropped_path_dev_dependency() {
        let normalized = "[package]\nname = \"a\"\nversion = \"1.2.0\"\n\n[dependencies.serde]\nversion = \"1.0\"\nfeatures = [\"derive\"]\n";
        let original = "[package]\nname = \"a\"\nversion.workspace = true\n\n[dependencies]\nserde = { workspace = true, features = [\"derive\"] }\n\n[dev-dependencies]\nhelper = { path = \"../helper\" }\n";
        let ws = "[workspace]\nmembers = [\"a\"]\n[workspace.package]\nversion = \"1.2.0\"\n[workspace.dependencies]\nserde = \"1.0\"\n";
        let (problems, notes) = run(normalized, original, Some(ws));
        assert_eq!(problems, []);
        assert_eq!(notes, []);
    }

    #[test]
    fn a_changed_dependency_version_and_an_added_dependency_are_problems() {
        let normalized = "[package]\nname = \"a\"\nversion = \"1.0.0\"\n[dependencies]\nserde = \"=1.0.1\"\nevil = \"1\"\n";
        let original =
            "[package]\nname = \"a\"\nversion = \"1.0.0\"\n[dependencies]\nserde = \"1.0\"\n";
        let (problems, _) = run(normalized, original, None);
        assert_eq!(
            problems,
            [
                Problem::ManifestField {
                    field: "dependencies.serde.version".into(),
                    normalized: Some("=1.0.1".into()),
                    original: Some("1.0".into()),
                },
                Problem::ManifestField {
                    field: "dependencies.evil".into(),
                    normalized: Some("1".into()),
                    original: None,
                },
            ]
        );
    }

    #[test]
    fn inheritance_without_a_workspace_root_is_a_note_not_a_problem() {
        let normalized = "[package]\nname = \"a\"\nversion = \"1.0.0\"\n";
        let original = "[package]\nname = \"a\"\nversion.workspace = true\n";
        let (problems, notes) = run(normalized, original, None);
        assert_eq!(problems, []);
        assert_eq!(
            notes,
            [Note::InheritanceUnresolved("package.version".into())]
        );
    }

    #[test]
    fn a_version_changed_in_the_normalised_manifest_is_a_problem() {
        let (problems, _) = run(
            "[package]\nname = \"a\"\nversion = \"2.0.0\"\n",
            "[package]\nname = \"a\"\nversion = \"1.0.0\"\n",
            None,
        );
        assert_eq!(problems.len(), 1);
    }
}
