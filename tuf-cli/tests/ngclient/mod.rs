//! python-tuf's `ngclient.Updater`, the reference TUF client, for the tests that check our
//! repositories with it: the python to run it with, and one run of
//! `test-vectors/python/verify_published.py` (one `Updater`) against a repository served
//! on 127.0.0.1 (the test HTTP server, or an S3 bucket).
//!
//! The python comes from `$TUF_INTEROP_PYTHON` (`.ci/run` makes that venv from
//! `test-vectors/python/requirements.txt`); without it, the venv is made once under the
//! target directory. No python3 or no PyPI is a failure that says so, not a skipped test:
//! CI and developers run the same check.
// Test helpers panic on failure, as the tests that call them do.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use tuf_core::hash::sha256;

use crate::cli_support::Env;

/// The python interpreter (of a venv with requirements.txt installed) to use.
const PYTHON_ENV: &str = "TUF_INTEROP_PYTHON";

/// `verify_published.py`'s exit status when python-tuf refuses the repository.
pub const EXIT_REFUSED: i32 = 3;

pub fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/python")
}

/// `$TUF_INTEROP_PYTHON`, else the python of a venv made here once, named by the hash of
/// `requirements.txt` so new pins make a new venv.
pub fn interop_python() -> PathBuf {
    if let Some(python) = std::env::var_os(PYTHON_ENV) {
        let python = PathBuf::from(python);
        assert!(
            python.is_file(),
            "{PYTHON_ENV}={} is not a file",
            python.display()
        );
        return python;
    }
    let requirements = python_dir().join("requirements.txt");
    let digest = hex::encode(&sha256(&fs::read(&requirements).unwrap())[..8]);
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("python-interop-{digest}"));
    let python = venv.join("bin/python");
    if python.is_file() {
        return python;
    }
    // Made aside, then renamed into place: the rename is atomic, so a concurrent test run
    // sees no venv or a complete one, and the loser of a race drops its copy. (A venv's
    // `bin/python` works after a move; only its scripts' `#!` lines would not.)
    let started = Instant::now();
    let building = venv.with_extension(format!("building-{}", std::process::id()));
    let _ = fs::remove_dir_all(&building);
    run_setup(
        &building,
        Command::new("python3").args(["-m", "venv"]).arg(&building),
        "python3 -m venv: this test needs python3 with its venv module",
    );
    run_setup(
        &building,
        Command::new(building.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("-r")
            .arg(&requirements),
        format!(
            "pip install -r test-vectors/python/requirements.txt: this test needs PyPI (or \
             a pip index configured for it), or {PYTHON_ENV} naming a python that has them"
        ),
    );
    if let Err(e) = fs::rename(&building, &venv) {
        let _ = fs::remove_dir_all(&building);
        assert!(
            python.is_file(),
            "moving the venv to {}: {e}",
            venv.display()
        );
    }
    eprintln!(
        "made {} in {:.1} s",
        venv.display(),
        started.elapsed().as_secs_f64()
    );
    python
}

/// Run one step of making the venv `building`; on failure remove it and say why.
fn run_setup(building: &Path, command: &mut Command, what: impl std::fmt::Display) {
    let result = command.output();
    if !result.as_ref().is_ok_and(|out| out.status.success()) {
        let _ = fs::remove_dir_all(building);
    }
    match result {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "{what}\n{} failed ({}): {}{}",
            command.get_program().to_string_lossy(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "{what}\n{} did not start: {e}",
            command.get_program().to_string_lossy()
        ),
    }
}

/// Runs of `verify_published.py` against the repository at `base_url`: one ngclient
/// `Updater` each, keeping its metadata in the scratch directory's `CLIENT` (a new one
/// trusts `trusted-root.json`) and its downloads in `DOWNLOADS`; the bytes expected of a
/// target `PATH` are the scratch directory's `index/PATH`.
pub struct Ngclient<'a> {
    pub python: &'a Path,
    /// Metadata is served under `{base_url}/metadata/`, target copies under
    /// `{base_url}/targets/` (a test server's `base`, or a bucket's URL and prefix).
    pub base_url: String,
    pub env: &'a Env,
}

impl Ngclient<'_> {
    pub fn run(&self, client: &str, downloads: &str, expect: &[&str], absent: &[&str]) -> Output {
        let mut command = Command::new(self.python);
        command
            .arg(python_dir().join("verify_published.py"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .args(["--metadata-url", &format!("{}/metadata/", self.base_url)])
            .args(["--targets-url", &format!("{}/targets/", self.base_url)])
            .arg("--client-dir")
            .arg(self.env.path(client))
            .arg("--download-dir")
            .arg(self.env.path(downloads))
            .arg("--trusted-root")
            .arg(self.env.path("trusted-root.json"));
        for path in expect {
            let file = self.env.path(&format!("index/{path}"));
            command
                .arg("--expect")
                .arg(format!("{path}={}", file.display()));
        }
        for path in absent {
            command.args(["--absent", path]);
        }
        command.output().unwrap()
    }

    /// A run that must accept everything.
    pub fn accepts(&self, client: &str, downloads: &str, expect: &[&str], absent: &[&str]) {
        let out = self.run(client, downloads, expect, absent);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.ends_with("OK\n"),
            "python-tuf did not accept the repository ({}):\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        for path in expect {
            assert!(stdout.contains(&format!("ok {path} (")), "{path}: {stdout}");
        }
    }

    /// A run that python-tuf must refuse with `error` (its class and message); nothing
    /// is downloaded.
    pub fn refuses(&self, client: &str, downloads: &str, expect: &[&str], error: &str) {
        let out = self.run(client, downloads, expect, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(EXIT_REFUSED),
            "python-tuf did not refuse the tampered repository:\n{}{stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        let last = stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with(&format!("refused: {error}")),
            "expected `refused: {error}...`, got: {stderr}"
        );
        let downloaded = fs::read_dir(self.env.path(downloads)).unwrap().count();
        assert_eq!(downloaded, 0, "python-tuf kept a refused download");
    }
}
