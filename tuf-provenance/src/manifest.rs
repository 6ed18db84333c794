//! The parts of a `Cargo.toml` provenance needs: package fields, dependencies, targets,
//! and workspace inheritance (`version.workspace = true`).

use std::collections::BTreeMap;

use serde::Serialize;

/// A parsed `Cargo.toml` (normalised or as written), kept as a TOML table: only a few
/// fields are read, and an unknown field must not make a manifest unreadable.
#[derive(Debug, Clone)]
pub struct Manifest {
    table: toml::Table,
}

/// One dependency as a manifest declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// The version requirement, if given (or inherited and resolved).
    pub version: Option<String>,
    /// `package = "..."`: the real crate name of a renamed dependency.
    pub package: Option<String>,
    /// `workspace = true` (before resolution).
    pub workspace: bool,
}

/// Where a dependency is declared: `dependencies`, `dev-dependencies` or
/// `build-dependencies`, under `target.'cfg'` or not, and its key.
pub type DependencyKey = (String, Option<String>, String);

const DEPENDENCY_TABLES: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

impl Manifest {
    /// Parse manifest text.
    pub fn parse(bytes: &[u8]) -> Result<Self, toml::de::Error> {
        let text = String::from_utf8_lossy(bytes);
        Ok(Self {
            table: toml::from_str(&text)?,
        })
    }

    /// `[package]`.
    pub fn package(&self) -> Option<&toml::Table> {
        self.table.get("package").and_then(toml::Value::as_table)
    }

    /// `[workspace]`, for a workspace root.
    pub fn workspace(&self) -> Option<&toml::Table> {
        self.table.get("workspace").and_then(toml::Value::as_table)
    }

    /// A string field of `[package]` (not inherited).
    pub fn package_str(&self, key: &str) -> Option<&str> {
        self.package()?.get(key)?.as_str()
    }

    /// `package.name`.
    pub fn package_name(&self) -> Option<&str> {
        self.package_str("name")
    }

    /// `package.version`, when written out (not inherited).
    pub fn package_version(&self) -> Option<&str> {
        self.package_str("version")
    }

    /// Whether `package.<key>` is `{ workspace = true }`.
    pub fn package_inherits(&self, key: &str) -> bool {
        self.package()
            .and_then(|p| p.get(key))
            .and_then(toml::Value::as_table)
            .and_then(|t| t.get("workspace"))
            .and_then(toml::Value::as_bool)
            .unwrap_or(false)
    }

    /// A boolean of `[package]` (`autobins`, `autolib`, ...), if set.
    pub fn package_bool(&self, key: &str) -> Option<bool> {
        self.package()?.get(key)?.as_bool()
    }

    /// `package.include` or `package.exclude`: gitignore-style patterns.
    pub fn package_patterns(&self, key: &str) -> Vec<String> {
        self.package()
            .and_then(|p| p.get(key))
            .and_then(toml::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A top-level table (`lib`) or array of tables (`bin`).
    pub fn value(&self, key: &str) -> Option<&toml::Value> {
        self.table.get(key)
    }

    /// Every dependency, by table, target and key.
    pub fn dependencies(&self) -> BTreeMap<DependencyKey, Dependency> {
        let mut found = BTreeMap::new();
        let mut collect = |table: &toml::Table, target: Option<&str>| {
            for kind in DEPENDENCY_TABLES {
                // `dev_dependencies` and `build_dependencies` are old spellings cargo still reads.
                let alt = kind.replace('-', "_");
                for key in [kind, alt.as_str()] {
                    let Some(deps) = table.get(key).and_then(toml::Value::as_table) else {
                        continue;
                    };
                    for (name, spec) in deps {
                        found.insert(
                            (kind.to_owned(), target.map(str::to_owned), name.clone()),
                            Dependency::from_value(spec),
                        );
                    }
                }
            }
        };
        collect(&self.table, None);
        if let Some(targets) = self.table.get("target").and_then(toml::Value::as_table) {
            for (cfg, table) in targets {
                if let Some(table) = table.as_table() {
                    collect(table, Some(cfg));
                }
            }
        }
        found
    }

    /// `[workspace.package].<key>` as a string.
    pub fn workspace_package_str(&self, key: &str) -> Option<&str> {
        self.workspace()?
            .get("package")?
            .as_table()?
            .get(key)?
            .as_str()
    }

    /// `[workspace.dependencies].<name>`.
    pub fn workspace_dependency(&self, name: &str) -> Option<Dependency> {
        let spec = self
            .workspace()?
            .get("dependencies")?
            .as_table()?
            .get(name)?;
        Some(Dependency::from_value(spec))
    }
}

impl Dependency {
    fn from_value(spec: &toml::Value) -> Self {
        match spec {
            toml::Value::String(version) => Self {
                version: Some(version.clone()),
                package: None,
                workspace: false,
            },
            toml::Value::Table(table) => Self {
                version: table
                    .get("version")
                    .and_then(toml::Value::as_str)
                    .map(str::to_owned),
                package: table
                    .get("package")
                    .and_then(toml::Value::as_str)
                    .map(str::to_owned),
                workspace: table
                    .get("workspace")
                    .and_then(toml::Value::as_bool)
                    .unwrap_or(false),
            },
            _ => Self {
                version: None,
                package: None,
                workspace: false,
            },
        }
    }
}
