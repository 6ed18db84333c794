//! Python virtual environments the tests run real third-party programs from (moto's S3
//! server; python-tuf's client could move here too), made once and shared.
//!
//! CI makes each venv in `.ci/run` and names its python in an environment variable, so a
//! missing python3 or an unreachable PyPI fails CI up front and says so. Without that
//! variable the first test that needs the venv makes it under the workspace's `target/`,
//! named by a hash of its `requirements.txt` (new pins make a new venv). No python3 or no
//! PyPI is then a failure that says so, never a skipped test: CI and developers run the
//! same checks.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sha2::{Digest, Sha256};

/// A venv with the pinned requirements of one file.
#[derive(Debug, Clone, Copy)]
pub struct Venv<'a> {
    /// Names the venv's directory under `target/` (`{name}-{hash of requirements}`).
    pub name: &'a str,
    /// The `requirements.txt` to install (pinned with `==`).
    pub requirements: &'a Path,
    /// The environment variable that, when set, names a python that has them already
    /// (what `.ci/run` exports).
    pub python_env: &'a str,
}

impl Venv<'_> {
    /// The python to run: `$python_env` if set (it must be a file), else the python of
    /// the venv under `target/`, made now if it is not there yet.
    ///
    /// Concurrent callers (tests of one binary, or of several binaries at once) wait on
    /// a file lock, so the venv is made once; it is built aside and renamed into place,
    /// so an interrupted build never leaves a venv that looks complete.
    pub fn python(&self) -> PathBuf {
        if let Some(python) = std::env::var_os(self.python_env) {
            let python = PathBuf::from(python);
            assert!(
                python.is_file(),
                "{}={} is not a file",
                self.python_env,
                python.display()
            );
            return python;
        }
        let requirements = fs::read(self.requirements)
            .unwrap_or_else(|e| panic!("reading {}: {e}", self.requirements.display()));
        let digest = hex::encode(&Sha256::digest(&requirements)[..8]);
        let dir = workspace_target_dir().join("test-venvs");
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let venv = dir.join(format!("{}-{digest}", self.name));
        let python = venv.join("bin/python");

        let lock_path = dir.join(format!("{}.lock", self.name));
        let lock = File::create(&lock_path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", lock_path.display()));
        // Released when `lock` is closed, also if this thread panics.
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
            .unwrap_or_else(|e| panic!("locking {}: {e}", lock_path.display()));
        if python.is_file() {
            return python;
        }

        let started = Instant::now();
        let building = venv.with_extension("building");
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
                .arg(self.requirements),
            format!(
                "pip install -r {}: this test needs PyPI (or a pip index configured for \
                 it), or {} naming a python that has them",
                self.requirements.display(),
                self.python_env
            ),
        );
        // A venv's `bin/python` works after a move; only its scripts' `#!` lines would
        // not, and nothing here runs them.
        fs::rename(&building, &venv)
            .unwrap_or_else(|e| panic!("moving the venv to {}: {e}", venv.display()));
        eprintln!(
            "made {} in {:.1} s",
            venv.display(),
            started.elapsed().as_secs_f64()
        );
        python
    }
}

/// The workspace's target directory: `$CARGO_TARGET_DIR` as it was when this crate was
/// built, else `target/` beside the workspace's `Cargo.toml`.
pub fn workspace_target_dir() -> PathBuf {
    match option_env!("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
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
