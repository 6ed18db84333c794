//! Publishing benchmarks (not timed tests). Run in release:
//!
//! ```text
//! cargo bench -p tuf-cli --bench publish -- INDEX_DIR [--mode all|floor|check|full|incremental|process|refresh]
//!     [--repeat N] [--no-copies | --link-copies] [--work DIR]
//! ```
//!
//! INDEX_DIR is a sparse index, e.g. from `synth-index --crates 200000 --seed 1 DIR`.
//! Each phase prints one line; figures are kept in `docs/benchmarks.md`.
//!
//! * floor: read + SHA-256 every index file on all cores (the same walker and bytes), and
//!   as many ed25519 signatures as a full sign makes (bins + snapshot + timestamp), each
//!   over a message of the mean bin size; unless `--no-copies`, then also the least a
//!   copy of every file costs on the `--work` file system (the same reads and hashes,
//!   each file's bytes written once more into a new file: one create and one write, in
//!   directories made beforehand; no temporary name, rename or mode change);
//! * check: on one core, the cost per byte of the publisher's content check
//!   (`check_index_target`) beside SHA-256 of the same bytes and the verifier's
//!   `parse_index_file`, and serde_json skipping each line (`IgnoredAny`: the least a
//!   serde_json-based check costs), every file read into memory first (not part of `all`);
//! * full: first publish of the whole index into a fresh repository;
//! * incremental: add one version to one crate, publish with the changed path (the
//!   registry hook), repeated on different crates, first with the published state loaded
//!   and verified from disk each time (a publisher process per publish), then kept in
//!   memory between publishes (a long-running publisher); also one scan-mode publish;
//! * process: the same one-version publish, each in a new process as a registry's publish
//!   hook runs it: the operator verb `tuf publish REPO --changed PATH` (on a repository
//!   set up by the `tuf` ceremony commands: key generate, init, sign, first publish). The
//!   time is from spawn to exit, process start and key loading included (only with
//!   `--mode process`, not part of `all`);
//! * refresh: re-sign timestamp only (window 30 h), then every online role (window 8 d).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use rayon::prelude::*;
use tuf_core::crypto::Signer;
use tuf_repo::publish::{self, Changes, OnlineKeys, PublishOptions, Repository};

#[path = "../../tuf-repo/benches/support/mod.rs"]
mod support;

use support::{add_version, ms, pick_crate, remove_work, stamp, stats, vm_hwm_mib, StageClock};

struct Args {
    index: PathBuf,
    mode: String,
    repeat: usize,
    copies: bool,
    link_copies: bool,
    work: PathBuf,
}

fn args() -> Args {
    let mut copies = true;
    let mut link_copies = false;
    let common = support::parse_args(
        "usage: publish INDEX_DIR [--mode ...]",
        "tuf-bench",
        |flag| match flag {
            "--no-copies" => {
                copies = false;
                true
            }
            "--link-copies" => {
                link_copies = true;
                true
            }
            _ => false,
        },
    );
    Args {
        index: common.index,
        mode: common.mode,
        repeat: common.repeat,
        copies,
        link_copies,
        work: common.work,
    }
}

fn main() {
    let args = args();
    let (paths, _) = tuf_repo::hashing::walk_index(&args.index).unwrap();
    println!(
        "index {}: {} files; rayon threads {}",
        args.index.display(),
        paths.len(),
        rayon::current_num_threads()
    );
    let want = |m: &str| args.mode == "all" || args.mode == m;
    if want("floor") {
        for run in 0..args.repeat {
            floor(&args.index, run);
            if args.copies {
                copy_floor(&args, &paths, run);
            }
        }
    }
    if want("full") {
        for run in 0..args.repeat {
            let (repo, keys) = fresh_repo(&args, run);
            let mut options = options(&args);
            let clock = Arc::new(StageClock::default());
            options.progress = clock.clone();
            let start = Instant::now();
            let report = publish::publish(&repo, &keys, &Changes::Scan, &options).unwrap();
            let elapsed = start.elapsed();
            println!("  stages: {}", clock.report(start, elapsed));
            println!(
                "full sign run {run}: {:.2} s, of which waiting for the disk (syncfs/fsync) {:.2} s ({} files hashed, {} bins, {} copies of which {} linked, copies={}) VmHWM {} MiB",
                elapsed.as_secs_f64(),
                report.sync_wait.as_secs_f64(),
                report.files_hashed,
                report.bins_signed,
                report.copies_written,
                report.copies_linked,
                args.copies,
                vm_hwm_mib()
            );
            // After timing: tmpfs keeps a 200k repository (2 GB) in RAM until deleted.
            remove_work(&repo_root(&repo));
        }
    }
    // Not part of `all`: it holds the whole index in memory.
    if args.mode == "check" {
        for run in 0..args.repeat {
            check_cost(&args.index, &paths, run);
        }
    }
    // Not part of `all`: it sets up two more repositories through the binary.
    if args.mode == "process" {
        process(&args, &paths);
    }
    if want("incremental") || want("refresh") {
        let (repo, keys) = fresh_repo(&args, 99);
        let options = options(&args);
        publish::publish(&repo, &keys, &Changes::Scan, &options).unwrap();
        if want("incremental") {
            let runs = args.repeat.max(5) * 4;
            // A publisher started for each publish (loads and verifies the state), then
            // a long-running one (keeps the state it verified or signed in memory).
            incremental(&repo, &keys, &options, &paths, runs, true);
            incremental(&repo, &keys, &options, &paths, runs, false);
        }
        if want("refresh") {
            for (label, window) in [
                ("timestamp only (30 h window)", TimeDelta::hours(30)),
                ("all online roles (8 d window)", TimeDelta::days(8)),
            ] {
                for run in 0..args.repeat {
                    let start = Instant::now();
                    let report = publish::refresh(&repo, &keys, window, &options).unwrap();
                    println!(
                        "refresh {label} run {run}: {:.1} ms, fsync/syncfs wait {:.1} ms ({} bins, {} files written)",
                        ms(start.elapsed()),
                        ms(report.sync_wait),
                        report.bins_signed,
                        report.metadata_written
                    );
                }
            }
        }
        remove_work(&repo_root(&repo));
    }
}

fn options(args: &Args) -> PublishOptions {
    let mut options = PublishOptions::new(Utc::now());
    options.target_copies = args.copies;
    options.link_copies = args.link_copies;
    options
}

fn fresh_repo(args: &Args, run: usize) -> (Repository, OnlineKeys) {
    // A new directory each run, never one just emptied: ext4 slows down creating files
    // where thousands were just deleted (its allocator skips recently freed inodes).
    let dir = args.work.join(format!("run-{run}-{}", stamp()));
    fs::create_dir_all(&dir).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let key = || tuf_core::crypto::Ed25519Signer::generate(&rng).unwrap();
    let (root, targets) = (key(), key());
    let online: Arc<dyn Signer> = Arc::new(key());
    let repo = support::init_repository(
        &args.index,
        dir.join("repo"),
        &root,
        &targets,
        online.as_ref(),
    );
    (repo, OnlineKeys::single(online))
}

fn floor(index: &Path, run: usize) {
    let start = Instant::now();
    let (paths, _) = tuf_repo::hashing::walk_index(index).unwrap();
    let walked = start.elapsed();
    let bytes = read_and_hash(index, &paths, None);
    let hashed = start.elapsed();
    // The same number of signatures as a full sign: 4096 bins, snapshot, timestamp, over
    // a message of the mean bin size (~45 bytes of JSON per target, ~60 targets a bin).
    let key = tuf_core::crypto::Ed25519Signer::from_seed(&[7; 32]).unwrap();
    let message = vec![b'x'; (paths.len() * 130 / 4096).max(200)];
    let sign_start = Instant::now();
    (0..4098u32).into_par_iter().for_each(|i| {
        let mut m = message.clone();
        m[0] = i.to_le_bytes()[0];
        std::hint::black_box(key.sign(&m).unwrap());
    });
    let signed = sign_start.elapsed();
    println!(
        "floor run {run}: {:.2} s = walk {:.2} s + read+sha256 {:.2} s ({:.0} MB) + 4098 signatures {:.3} s",
        (hashed + signed).as_secs_f64(),
        walked.as_secs_f64(),
        (hashed - walked).as_secs_f64(),
        bytes as f64 / 1e6,
        signed.as_secs_f64()
    );
}

/// The publisher's content check on one core, in ns per byte, beside SHA-256 (the
/// floor's per-byte work) and the verifier's full parse of the same bytes. Files are
/// read into memory before timing, so only the CPU work is measured.
fn check_cost(index: &Path, paths: &[tuf_core::metadata::TargetPath], run: usize) {
    use tuf_core::index::{check_index_target, parse_index_file, CrateName, IndexLimits};
    let files: Vec<(&str, Vec<u8>)> = paths
        .iter()
        .map(|p| (p.as_str(), fs::read(index.join(p.as_str())).unwrap()))
        .collect();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let limits = IndexLimits::default();
    let per_byte = |d: Duration| d.as_nanos() as f64 / bytes as f64;

    let start = Instant::now();
    for (path, file) in &files {
        check_index_target(path, file, &limits).unwrap();
    }
    let check = start.elapsed();
    let start = Instant::now();
    for (_, file) in &files {
        std::hint::black_box(tuf_core::hash::sha256(file));
    }
    let sha = start.elapsed();
    let start = Instant::now();
    for (path, file) in &files {
        if let Ok(name) = CrateName::from_sparse_path(path) {
            std::hint::black_box(parse_index_file(&name, file, &limits).unwrap());
        }
    }
    let parse = start.elapsed();
    // The least any check built on serde_json costs: a walk of every line that keeps
    // nothing and checks no repeated key.
    let start = Instant::now();
    for (_, file) in &files {
        for line in std::str::from_utf8(file).unwrap().lines() {
            std::hint::black_box(serde_json::from_str::<serde::de::IgnoredAny>(line).unwrap());
        }
    }
    let ignored = start.elapsed();
    println!(
        "check run {run} (one core, {:.0} MB in memory): check_index_target {:.2} s = {:.2} ns/byte ({:.2}x SHA-256); sha256 {:.2} s = {:.2} ns/byte; parse_index_file {:.2} s = {:.2} ns/byte; serde_json IgnoredAny per line {:.2} ns/byte",
        bytes as f64 / 1e6,
        check.as_secs_f64(),
        per_byte(check),
        check.as_secs_f64() / sha.as_secs_f64(),
        sha.as_secs_f64(),
        per_byte(sha),
        parse.as_secs_f64(),
        per_byte(parse),
        per_byte(ignored),
    );
}

/// The least that writing a copy of every index file costs here: read + SHA-256 as in
/// [`floor`], then one `create_new` and one `write` of the same bytes into a fresh
/// directory tree (made before timing). What `full` does per copy on top of this is a
/// temporary name, a mode change and a no-clobber rename (tuf-fs), so a copy is never
/// seen half-written.
fn copy_floor(args: &Args, paths: &[tuf_core::metadata::TargetPath], run: usize) {
    let dir = args.work.join(format!("floor-{run}-{}", stamp()));
    let mut dirs: Vec<&str> = paths
        .iter()
        .filter_map(|p| p.as_str().rsplit_once('/').map(|(d, _)| d))
        .collect();
    dirs.dedup();
    for d in dirs {
        fs::create_dir_all(dir.join(d)).unwrap();
    }
    let start = Instant::now();
    let bytes = read_and_hash(&args.index, paths, Some(&dir));
    let elapsed = start.elapsed();
    println!(
        "floor with copies run {run}: read+sha256+write {:.2} s ({:.0} MB into {} new files on {})",
        elapsed.as_secs_f64(),
        bytes as f64 / 1e6,
        paths.len(),
        args.work.display()
    );
    remove_work(&dir);
}

/// Read and SHA-256 every file on all cores, each into a reused buffer; with `copy_to`,
/// also write its bytes to a new file of the same path there. Returns the bytes read.
fn read_and_hash(
    index: &Path,
    paths: &[tuf_core::metadata::TargetPath],
    copy_to: Option<&Path>,
) -> u64 {
    paths
        .par_iter()
        .map_init(
            || Vec::with_capacity(64 * 1024),
            |buf, path| {
                use std::io::{Read, Write};
                buf.clear();
                let mut file = fs::File::open(index.join(path.as_str())).unwrap();
                file.read_to_end(buf).unwrap();
                std::hint::black_box(tuf_core::hash::sha256(buf));
                if let Some(dir) = copy_to {
                    let mut copy = fs::File::create_new(dir.join(path.as_str())).unwrap();
                    copy.write_all(buf).unwrap();
                }
                buf.len() as u64
            },
        )
        .sum()
}

fn incremental(
    repo: &Repository,
    keys: &OnlineKeys,
    options: &PublishOptions,
    paths: &[tuf_core::metadata::TargetPath],
    runs: usize,
    cold: bool,
) {
    let mut times = Vec::new();
    let mut syncs = Vec::new();
    for run in 0..runs {
        let path = pick_crate(paths, run, 3 + usize::from(cold));
        add_version(&repo.index_dir().join(path.as_str()), run);
        let mut options = options.clone();
        options.now = Utc::now();
        if cold {
            repo.forget_state();
        }
        let start = Instant::now();
        let report = publish::publish(
            repo,
            keys,
            &Changes::Paths(vec![path.as_str().to_owned()]),
            &options,
        )
        .unwrap();
        let elapsed = start.elapsed();
        assert_eq!(report.bins_signed, 1);
        times.push(elapsed);
        syncs.push(report.sync_wait);
    }
    let compute: Vec<Duration> = times
        .iter()
        .zip(&syncs)
        .map(|(t, s)| t.saturating_sub(*s))
        .collect();
    println!(
        "incremental (publish hook, 1 version, {}): n={} total {}; without waiting for fsync {}; fsync wait {}",
        if cold { "state loaded and verified" } else { "state kept in memory" },
        times.len(),
        stats(times.clone()),
        stats(compute),
        stats(syncs)
    );
    if cold {
        return;
    }
    // Scan mode after one change: stat every file.
    let path = &paths[paths.len() / 3];
    add_version(&repo.index_dir().join(path.as_str()), 999);
    let start = Instant::now();
    let report = publish::publish(repo, keys, &Changes::Scan, options).unwrap();
    println!(
        "incremental (scan, 1 version): {:.1} ms ({} files seen, {} hashed, {} bins)",
        ms(start.elapsed()),
        report.files_seen,
        report.files_hashed,
        report.bins_signed
    );
}

/// One-version publishes, each in a new `tuf` process (see the module documentation).
fn process(args: &Args, paths: &[tuf_core::metadata::TargetPath]) {
    let tuf = Path::new(env!("CARGO_BIN_EXE_tuf"));
    let runs = args.repeat.max(5) * 4;
    let copies: &[&str] = match (args.copies, args.link_copies) {
        (false, _) => &["--no-copies"],
        (true, true) => &["--link-copies"],
        (true, false) => &[],
    };

    // The operator verb, on a repository set up by the ceremony commands.
    let index = args.index.to_str().unwrap();
    let dir = args.work.join(format!("verb-{}", stamp()));
    fs::create_dir_all(&dir).unwrap();
    let tuf_in = |args: &[&str]| {
        let mut cmd = std::process::Command::new(tuf);
        cmd.current_dir(&dir).args(args);
        cmd
    };
    for key in ["root", "targets", "online"] {
        run_ok(&mut tuf_in(&[
            "key",
            "generate",
            &format!("{key}.pem"),
            "--unencrypted",
        ]));
    }
    run_ok(&mut tuf_in(&[
        "init",
        "repo",
        "--root-key",
        "root.pub.json",
        "--targets-key",
        "targets.pub.json",
        "--online-key",
        "online.pub.json",
    ]));
    for (role, key) in [("root", "root.pem"), ("targets", "targets.pem")] {
        run_ok(&mut tuf_in(&[
            "sign", "--repo", "repo", "--role", role, "--key", key,
        ]));
    }
    let verb = |changed: Option<&str>| {
        let mut cmd = tuf_in(&[
            "--quiet",
            "publish",
            "repo",
            "--index",
            index,
            "--online-key",
            "online.pem",
        ]);
        cmd.args(copies);
        if let Some(path) = changed {
            cmd.args(["--changed", path]);
        }
        cmd
    };
    time_hook(args, paths, runs, 2, "tuf publish --changed", verb);
    remove_work(&dir);
}

/// First publish with `command(None)`, then time `command(Some(path))` after adding a
/// version to each of `runs` crates, and print the figures under `label`.
fn time_hook(
    args: &Args,
    paths: &[tuf_core::metadata::TargetPath],
    runs: usize,
    salt: usize,
    label: &str,
    command: impl Fn(Option<&str>) -> std::process::Command,
) {
    run_ok(&mut command(None));
    let times = spawn_runs(&args.index, paths, runs, salt, |path| command(Some(path)));
    println!(
        "incremental (publish hook, 1 version, new process: {label}): n={} total {}",
        times.len(),
        stats(times)
    );
}

/// Add a version to `runs` crates and time `command(path)` for each, spawn to exit.
fn spawn_runs(
    index: &Path,
    paths: &[tuf_core::metadata::TargetPath],
    runs: usize,
    salt: usize,
    command: impl Fn(&str) -> std::process::Command,
) -> Vec<Duration> {
    let mut times = Vec::new();
    for run in 0..runs {
        let path = pick_crate(paths, run, salt);
        add_version(&index.join(path.as_str()), 5000 + salt * 1000 + run);
        let mut cmd = command(path.as_str());
        let start = Instant::now();
        let output = cmd.output().unwrap();
        let elapsed = start.elapsed();
        assert!(
            output.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        times.push(elapsed);
    }
    times
}

fn run_ok(cmd: &mut std::process::Command) {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn repo_root(repo: &Repository) -> PathBuf {
    repo.state_dir()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf()
}
