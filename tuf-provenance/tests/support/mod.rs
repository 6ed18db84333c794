//! Fixtures: git repositories made with the git CLI (only to build fixtures; the code
//! under test reads them through gix) and crates made from them with the real
//! `cargo package`.
// Test scaffolding: a failure here is a broken test setup and should stop the test loudly.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use tuf_provenance::{check_crate, Limits, NoRepository, Report, SourceRepository};

/// A work area: a git repository at `repo/`, a CARGO_HOME and target dir for packaging.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        let fixture = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(fixture.repo()).unwrap();
        fixture.git(&["init", "-q", "-b", "main"]);
        fixture
    }

    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Run git in the repository with a fixed identity and no user configuration.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.repo(), args)
    }

    pub fn write(&self, path: &str, content: &str) {
        let file = self.repo().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }

    /// `git add -A && git commit`; the new commit's id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// A package `name` `version` at `dir` (relative to the repository root) with
    /// `extra` lines in `[package]` and `files` (path, content) besides its manifest.
    pub fn package_files(
        &self,
        dir: &str,
        name: &str,
        version: &str,
        extra: &str,
        files: &[(&str, &str)],
    ) {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.write(
            &format!("{prefix}Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
                 description = \"fixture\"\nlicense = \"MIT\"\n{extra}"
            ),
        );
        for (path, content) in files {
            self.write(&format!("{prefix}{path}"), content);
        }
    }

    /// A library package with `src/lib.rs`.
    pub fn lib_package(&self, dir: &str, name: &str, version: &str) {
        self.package_files(
            dir,
            name,
            version,
            "",
            &[("src/lib.rs", "pub fn hello() -> u32 { 1 }\n")],
        );
    }

    /// `cargo package` in `dir` (relative to the repository root); the `.crate` bytes.
    pub fn cargo_package(
        &self,
        dir: &str,
        name: &str,
        version: &str,
        allow_dirty: bool,
    ) -> Vec<u8> {
        package_at(
            &self.repo().join(dir),
            self.dir.path(),
            name,
            version,
            allow_dirty,
        )
    }

    /// Check `crate_bytes` against this repository (opened in place).
    pub fn check(&self, crate_bytes: &[u8]) -> Report {
        let repo = SourceRepository::open(&self.repo()).unwrap();
        check_crate(crate_bytes, Ok(&repo), &Limits::default()).unwrap()
    }
}

pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Fixture")
        .env("GIT_AUTHOR_EMAIL", "fixture@example.invalid")
        .env("GIT_COMMITTER_NAME", "Fixture")
        .env("GIT_COMMITTER_EMAIL", "fixture@example.invalid")
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The real cargo (the one running the tests), without the outer build's variables.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if (key.starts_with("CARGO") && key != "CARGO")
            || key.starts_with("RUSTC")
            || key.starts_with("RUSTFLAGS")
        {
            command.env_remove(key.as_ref());
        }
    }
    command
}

/// `cargo package --no-verify --offline` of the package at `dir`, with CARGO_HOME and
/// the target dir under `work`.
pub fn package_at(
    dir: &Path,
    work: &Path,
    name: &str,
    version: &str,
    allow_dirty: bool,
) -> Vec<u8> {
    let target = work.join("package-target");
    let mut command = cargo();
    command
        .current_dir(dir)
        .env("CARGO_HOME", work.join("cargo-home"))
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO_TERM_COLOR", "never")
        .args(["package", "--no-verify", "--offline", "-q"]);
    if allow_dirty {
        command.arg("--allow-dirty");
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "cargo package: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read(
        target
            .join("package")
            .join(format!("{name}-{version}.crate")),
    )
    .unwrap()
}

/// The files of a `.crate`: (path under the top directory, bytes), and the top directory.
pub fn unpack(crate_bytes: &[u8]) -> (String, Vec<(String, Vec<u8>)>) {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(crate_bytes));
    let mut files = Vec::new();
    let mut top = String::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let (first, rest) = path.split_once('/').unwrap();
        top = first.to_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        files.push((rest.to_owned(), bytes));
    }
    (top, files)
}

/// A `.crate` with the given files under `top/`.
pub fn repack(top: &str, files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{top}/{path}"), bytes.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// `crate_bytes` with `edit` applied to its file list.
pub fn edit_crate(crate_bytes: &[u8], edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> Vec<u8> {
    let (top, mut files) = unpack(crate_bytes);
    edit(&mut files);
    repack(&top, &files)
}

/// Check with no repository.
pub fn check_without_repository(crate_bytes: &[u8]) -> Report {
    check_crate(
        crate_bytes,
        Err(NoRepository::NotDeclared),
        &Limits::default(),
    )
    .unwrap()
}
