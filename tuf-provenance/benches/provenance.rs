//! Provenance over 120 crates with warm clones: 12 synthetic repositories (workspaces
//! of 10 crates, each of `--files` source files), packaged once with the real `cargo package`
//! into `target/provenance-bench/`, cloned once into a cache; then every crate checked
//! as `cargo tuf provenance` does (the cached clone opened without fetching, the
//! `.crate` unpacked and compared). Prints time per crate and peak memory (VmHWM).
//!
//! `cargo bench -p tuf-provenance --bench provenance [-- --files N --later-commits N]`
//! (needs git and cargo to build the fixtures on the first run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use tuf_provenance::{check_crate, Limits, SourceRepository, Status};

const REPOS: usize = 12;
const CRATES_PER_REPO: usize = 10;

/// `--files N` (source files per crate, 80 lines each; default 12) and `--later-commits N`
/// (commits made after the release, so reachability walks history; default 0).
fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap())
        .unwrap_or(default)
}

fn main() {
    let files = arg("--files", 12);
    let later = arg("--later-commits", 0);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join(format!("provenance-bench-f{files}-c{later}"));
    let started = Instant::now();
    let crates = fixtures(&root, files, later);
    let setup = started.elapsed();
    let cache = root.join("clones");
    let limits = Limits::default();
    // Warm the cache: one clone per repository (not timed below).
    for (repo, _) in &crates {
        SourceRepository::cached_clone(&file_url(repo), &cache, false, &limits).unwrap();
    }

    let mut times = Vec::new();
    let started = Instant::now();
    let mut opened: std::collections::BTreeMap<PathBuf, SourceRepository> = Default::default();
    for (repo, crate_file) in &crates {
        let one = Instant::now();
        let bytes = std::fs::read(crate_file).unwrap();
        if !opened.contains_key(repo) {
            let source =
                SourceRepository::cached_clone(&file_url(repo), &cache, true, &limits).unwrap();
            opened.insert(repo.clone(), source);
        }
        let report = check_crate(&bytes, Ok(&opened[repo]), &limits).unwrap();
        assert_eq!(report.status, Status::Verified, "{}", report.one_line());
        times.push(one.elapsed());
    }
    let total = started.elapsed();
    times.sort();
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    println!(
        "provenance: {} crates from {REPOS} repositories (warm clones), {files} source files \
         per crate, release {later} commits behind the branch tip; fixtures ready in {:.1} s",
        crates.len(),
        setup.as_secs_f64()
    );
    println!(
        "total {:.3} s, mean {:.1} ms/crate, median {:.1} ms, max {:.1} ms (first crate of a repository opens it)",
        total.as_secs_f64(),
        total.as_secs_f64() * 1000.0 / crates.len() as f64,
        median.as_secs_f64() * 1000.0,
        worst.as_secs_f64() * 1000.0
    );
    println!("peak memory (VmHWM): {}", peak_memory());
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// (repository, .crate file) for every crate, made on the first run.
fn fixtures(root: &Path, files: usize, later: usize) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for r in 0..REPOS {
        let repo = root.join(format!("repo{r:02}"));
        let target = root.join(format!("target{r:02}"));
        let names: Vec<String> = (0..CRATES_PER_REPO)
            .map(|c| format!("bench-r{r:02}-c{c:02}"))
            .collect();
        let all_there = names.iter().all(|n| {
            target
                .join("package")
                .join(format!("{n}-1.0.0.crate"))
                .exists()
        });
        if !all_there {
            let _ = std::fs::remove_dir_all(&repo);
            make_repo(&repo, &names, files);
            let status = clean_cargo()
                .current_dir(&repo)
                .env("CARGO_HOME", root.join("cargo-home"))
                .env("CARGO_TARGET_DIR", &target)
                .args(["package", "--workspace", "--no-verify", "--offline", "-q"])
                .status()
                .unwrap();
            assert!(status.success());
            for c in 0..later {
                std::fs::write(repo.join("CHANGELOG.md"), format!("change {c}\n")).unwrap();
                git(&repo, &["add", "-A"]);
                git(
                    &repo,
                    &["-c", "commit.gpgsign=false", "commit", "-q", "-m", "later"],
                );
            }
        }
        for n in names {
            out.push((
                repo.clone(),
                target.join("package").join(format!("{n}-1.0.0.crate")),
            ));
        }
    }
    out
}

fn make_repo(repo: &Path, names: &[String], files: usize) {
    std::fs::create_dir_all(repo).unwrap();
    let members: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    std::fs::write(
        repo.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    )
    .unwrap();
    std::fs::write(repo.join("README.md"), "# bench\n".repeat(50)).unwrap();
    for name in names {
        let dir = repo.join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\
                 description = \"bench\"\nlicense = \"MIT\"\nreadme = \"../README.md\"\n"
            ),
        )
        .unwrap();
        let mut lib = String::new();
        for f in 0..files {
            lib.push_str(&format!("pub mod m{f};\n"));
            let body: String = (0..80)
                .map(|i| format!("pub fn f{i}(x: u64) -> u64 {{ x.wrapping_mul({i}) ^ {f} }}\n"))
                .collect();
            std::fs::write(dir.join("src").join(format!("m{f}.rs")), body).unwrap();
        }
        std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    }
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["add", "-A"]);
    git(
        repo,
        &["-c", "commit.gpgsign=false", "commit", "-q", "-m", "bench"],
    );
}

fn git(repo: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(repo)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .args(args)
        .status()
        .unwrap();
    assert!(status.success());
}

fn clean_cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
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

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
