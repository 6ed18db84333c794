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

use tuf_test_support::venv::Venv;

use crate::cli_support::Env;

/// The python interpreter (of a venv with requirements.txt installed) to use.
const PYTHON_ENV: &str = "TUF_INTEROP_PYTHON";

/// `verify_published.py`'s exit status when python-tuf refuses the repository.
pub const EXIT_REFUSED: i32 = 3;

pub fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/python")
}

/// `$TUF_INTEROP_PYTHON`, else the python of a venv made once under the target directory
/// (shared with every test binary, named by the hash of `requirements.txt` so new pins
/// make a new venv; see `tuf_test_support::venv`).
pub fn interop_python() -> PathBuf {
    Venv {
        name: "python-interop",
        requirements: &python_dir().join("requirements.txt"),
        python_env: PYTHON_ENV,
    }
    .python()
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
