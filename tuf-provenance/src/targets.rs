//! What a crate builds, from the `.crate` alone: its library target and its binaries,
//! by cargo's rules (The Cargo Book, "Cargo Targets", "Target auto-discovery").

use std::collections::BTreeMap;

use serde::Serialize;

use crate::manifest::Manifest;

/// The targets a crate builds that matter to a user: a library others link, and
/// binaries that run (examples, tests and benches are not installed or linked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildTargets {
    /// The library target, if any.
    pub library: Option<Library>,
    /// The binary targets, by name.
    pub binaries: Vec<Binary>,
}

/// A library target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Library {
    /// Its crate name (`foo_bar` for package `foo-bar` unless `[lib] name` says otherwise).
    pub name: String,
    /// Its root source file.
    pub path: String,
    /// `proc-macro = true`: code that runs inside the compiler of every user.
    pub proc_macro: bool,
    /// `crate-type`, when given (`cdylib`, `staticlib`, ...).
    pub crate_types: Vec<String>,
    /// Declared by `[lib]` rather than found at `src/lib.rs`.
    pub explicit: bool,
}

/// A binary target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Binary {
    /// Its name (the executable's).
    pub name: String,
    /// Its root source file, if found.
    pub path: Option<String>,
    /// Declared by `[[bin]]` rather than auto-discovered.
    pub explicit: bool,
}

impl BuildTargets {
    /// The targets of the package whose normalised manifest is `manifest` and whose
    /// files (paths relative to the package root) are `files`.
    pub fn discover<V>(manifest: &Manifest, files: &BTreeMap<String, V>) -> Self {
        let package = manifest.package_name().unwrap_or_default().to_owned();
        // Edition 2015 turns auto-discovery off for a kind once one target of it is
        // declared (The Cargo Book, "Target auto-discovery").
        let edition_2015 = manifest
            .package_str("edition")
            .map_or(true, |edition| edition == "2015");
        let library = library(manifest, files, &package);
        let binaries = binaries(manifest, files, &package, edition_2015);
        Self { library, binaries }
    }

    /// One line: `lib foo (proc-macro), bins: a, b`.
    pub fn summary(&self) -> String {
        let lib = match &self.library {
            Some(lib) if lib.proc_macro => format!("proc-macro lib {}", lib.name),
            Some(lib) => format!("lib {}", lib.name),
            None => "no lib".to_owned(),
        };
        let bins: Vec<&str> = self.binaries.iter().map(|b| b.name.as_str()).collect();
        if bins.is_empty() {
            format!("{lib}, no bins")
        } else {
            format!("{lib}, bins: {}", bins.join(", "))
        }
    }
}

fn library<V>(manifest: &Manifest, files: &BTreeMap<String, V>, package: &str) -> Option<Library> {
    let default_name = package.replace('-', "_");
    if let Some(lib) = manifest.value("lib").and_then(toml::Value::as_table) {
        let text = |key: &str| {
            lib.get(key)
                .and_then(toml::Value::as_str)
                .map(str::to_owned)
        };
        let flag = |key: &str| lib.get(key).and_then(toml::Value::as_bool).unwrap_or(false);
        let crate_types = ["crate-type", "crate_type"]
            .iter()
            .filter_map(|key| lib.get(*key).and_then(toml::Value::as_array))
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        return Some(Library {
            name: text("name").unwrap_or(default_name),
            path: text("path").unwrap_or_else(|| "src/lib.rs".to_owned()),
            proc_macro: flag("proc-macro") || flag("proc_macro"),
            crate_types,
            explicit: true,
        });
    }
    let auto = manifest.package_bool("autolib").unwrap_or(true);
    (auto && files.contains_key("src/lib.rs")).then(|| Library {
        name: default_name,
        path: "src/lib.rs".to_owned(),
        proc_macro: false,
        crate_types: Vec::new(),
        explicit: false,
    })
}

fn binaries<V>(
    manifest: &Manifest,
    files: &BTreeMap<String, V>,
    package: &str,
    edition_2015: bool,
) -> Vec<Binary> {
    let mut found: Vec<Binary> = Vec::new();
    let declared: Vec<&toml::Table> = manifest
        .value("bin")
        .and_then(toml::Value::as_array)
        .map(|bins| bins.iter().filter_map(toml::Value::as_table).collect())
        .unwrap_or_default();
    for bin in &declared {
        let Some(name) = bin.get("name").and_then(toml::Value::as_str) else {
            continue;
        };
        let path = bin
            .get("path")
            .and_then(toml::Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                let mut candidates = vec![
                    format!("src/bin/{name}.rs"),
                    format!("src/bin/{name}/main.rs"),
                ];
                if name == package {
                    candidates.insert(0, "src/main.rs".to_owned());
                }
                candidates.into_iter().find(|c| files.contains_key(c))
            });
        found.push(Binary {
            name: name.to_owned(),
            path,
            explicit: true,
        });
    }
    let auto = manifest
        .package_bool("autobins")
        .unwrap_or(!edition_2015 || declared.is_empty());
    if auto {
        let mut inferred: Vec<(String, String)> = Vec::new();
        if files.contains_key("src/main.rs") {
            inferred.push((package.to_owned(), "src/main.rs".to_owned()));
        }
        for path in files.keys() {
            let Some(rest) = path.strip_prefix("src/bin/") else {
                continue;
            };
            match rest.split('/').collect::<Vec<_>>().as_slice() {
                [file] if file.ends_with(".rs") => {
                    let stem = file.trim_end_matches(".rs");
                    inferred.push((stem.to_owned(), path.clone()));
                }
                [dir, "main.rs"] => inferred.push(((*dir).to_owned(), path.clone())),
                _ => {}
            }
        }
        for (name, path) in inferred {
            // A declared target with the same name or path replaces the inferred one.
            let taken = found
                .iter()
                .any(|b| b.name == name || b.path.as_deref() == Some(path.as_str()));
            if !taken {
                found.push(Binary {
                    name,
                    path: Some(path),
                    explicit: false,
                });
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(manifest: &str, files: &[&str]) -> BuildTargets {
        let manifest = Manifest::parse(manifest.as_bytes()).unwrap();
        let files: BTreeMap<String, ()> = files.iter().map(|f| ((*f).to_owned(), ())).collect();
        BuildTargets::discover(&manifest, &files)
    }

    const PKG: &str = "[package]\nname = \"foo-bar\"\nversion = \"1.0.0\"\nedition = \"2021\"\n";

    #[test]
    fn auto_discovered_lib_and_bins() {
        let t = targets(
            PKG,
            &[
                "src/lib.rs",
                "src/main.rs",
                "src/bin/tool.rs",
                "src/bin/multi/main.rs",
                "src/bin/multi/util.rs",
            ],
        );
        assert_eq!(t.library.as_ref().unwrap().name, "foo_bar");
        let names: Vec<&str> = t.binaries.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["foo-bar", "multi", "tool"]);
        assert_eq!(t.summary(), "lib foo_bar, bins: foo-bar, multi, tool");
    }

    #[test]
    fn autobins_false_keeps_only_declared_bins() {
        let manifest = format!(
            "{}autobins = false\nautolib = false\n\n[[bin]]\nname = \"only\"\npath = \"src/only.rs\"\n",
            PKG.trim_end_matches('\n').to_owned() + "\n"
        );
        let t = targets(&manifest, &["src/lib.rs", "src/main.rs", "src/only.rs"]);
        assert_eq!(t.library, None);
        assert_eq!(
            t.binaries,
            [Binary {
                name: "only".into(),
                path: Some("src/only.rs".into()),
                explicit: true
            }]
        );
    }

    #[test]
    fn explicit_proc_macro_lib() {
        let manifest = format!("{PKG}[lib]\nname = \"pm\"\npath = \"lib.rs\"\nproc-macro = true\n");
        let t = targets(&manifest, &["lib.rs"]);
        let lib = t.library.unwrap();
        assert!(lib.proc_macro && lib.explicit);
        assert_eq!((lib.name.as_str(), lib.path.as_str()), ("pm", "lib.rs"));
        assert!(t.binaries.is_empty());
    }

    #[test]
    fn edition_2015_declared_bin_turns_discovery_off() {
        let manifest = "[package]\nname = \"old\"\nversion = \"0.1.0\"\n\n[[bin]]\nname = \"a\"\n";
        let t = targets(manifest, &["src/bin/a.rs", "src/bin/b.rs"]);
        let names: Vec<&str> = t.binaries.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["a"]);
    }
}
