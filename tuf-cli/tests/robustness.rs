//! A reader never fails while a publisher runs, and a publisher stopped at any point
//! leaves a repository that verifies as the old state or the new one.

#![allow(clippy::unwrap_used, clippy::panic, clippy::cast_possible_truncation)]

mod common;

use std::fs;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use common::*;
use tuf_core::metadata::TargetPath;
use tuf_core::Limits;
use tuf_repo::publish::{self, Changes};
use tuf_repo::verify::{verify_repository, RepoView, TargetCheck};

/// xorshift64*: deterministic choices without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The verified SHA-256 of `path` in the current repository (`None`: no such target).
fn signed_hash(f: &Fixture, path: &str) -> Option<[u8; 32]> {
    f.view().target(path).unwrap().and_then(|t| t.sha256())
}

fn file_hash(f: &Fixture, path: &str) -> Option<[u8; 32]> {
    fs::read(f.index().join(path))
        .ok()
        .map(|b| tuf_core::hash::sha256(&b))
}

/// Change one crate at random: a new version, a yank, or a delete (or re-create).
fn random_change(f: &Fixture, rng: &mut Rng, crates: usize) -> String {
    let name = crate_name(rng.below(crates));
    let path = sparse_path(&name);
    let exists = f.index().join(&path).exists();
    let mut vs = versions(1 + rng.below(6));
    match (exists, rng.below(4)) {
        (false, _) => write_crate(f.index(), &name, &vs),
        (true, 0) => fs::remove_file(f.index().join(&path)).unwrap(),
        (true, 1) => {
            let last = vs.len() - 1;
            vs[last].1 = true;
            write_crate(f.index(), &name, &vs);
        }
        _ => write_crate(f.index(), &name, &vs),
    }
    path
}

#[test]
fn a_reader_sees_zero_failures_while_publishing_continues() {
    const CRATES: usize = 200;
    let f = Arc::new(Fixture::new(CRATES, 5));
    f.publish(&Changes::Scan);
    let done = Arc::new(AtomicBool::new(false));
    let trusted = f.trusted_root();

    let mut readers = Vec::new();
    for full in [false, true] {
        let (f, done, trusted) = (Arc::clone(&f), Arc::clone(&done), trusted.clone());
        readers.push(std::thread::spawn(move || {
            let mut rng = Rng(if full { 7 } else { 11 });
            let (mut reads, mut failures, mut last_version) = (0u64, Vec::new(), 0u64);
            while !done.load(Ordering::Relaxed) {
                let result = (|| -> Result<u64, tuf_repo::Error> {
                    if full {
                        let r = verify_repository(
                            &f.repo,
                            &trusted,
                            Utc::now(),
                            TargetCheck::Copies,
                            &Limits::default(),
                        )?;
                        return Ok(r.timestamp_version);
                    }
                    let view = RepoView::load(&f.repo, &trusted, Utc::now(), &Limits::default())?;
                    for _ in 0..4 {
                        let path = sparse_path(&crate_name(rng.below(CRATES)));
                        if let Some(entry) = view.target(&path)? {
                            view.check_target(
                                &TargetPath::parse(&path).unwrap(),
                                &entry,
                                TargetCheck::Copies,
                            )?;
                        }
                    }
                    Ok(view.timestamp().version.get())
                })();
                reads += 1;
                match result {
                    Ok(version) if version < last_version => {
                        failures.push(format!(
                            "timestamp went back from {last_version} to {version}"
                        ));
                    }
                    Ok(version) => last_version = version,
                    Err(e) => failures.push(e.to_string()),
                }
            }
            (reads, failures)
        }));
    }

    let mut rng = Rng(42);
    let mut options = f.options();
    // A short grace period, so pruning runs during the test too (a read takes
    // milliseconds; files are deleted 3 s after they stop being named).
    options.grace = TimeDelta::seconds(3);
    let start = Instant::now();
    let mut publishes = 0;
    while publishes < 150 || start.elapsed() < Duration::from_secs(4) {
        let mut paths = vec![random_change(&f, &mut rng, CRATES)];
        if rng.below(3) == 0 {
            paths.push(random_change(&f, &mut rng, CRATES));
        }
        options.now = Utc::now();
        let changes = if rng.below(5) == 0 {
            Changes::Scan
        } else {
            Changes::Paths(paths)
        };
        publish::publish(&f.repo, &f.online, &changes, &options).unwrap();
        publishes += 1;
    }
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        let (reads, failures) = reader.join().unwrap();
        assert!(
            failures.is_empty(),
            "{} failures in {reads} reads: {:?}",
            failures.len(),
            &failures[..failures.len().min(5)]
        );
        assert!(reads >= 20, "only {reads} reads");
        eprintln!("reader: {reads} reads, 0 failures, {publishes} publishes");
    }
    f.verify(TargetCheck::Index);
}

/// After an interrupted publish of `path`, the repository verifies and shows `path` as
/// it was before (old timestamp) or as it is now (new timestamp).
fn assert_old_or_new(
    f: &Fixture,
    ts_before: u64,
    path: &str,
    before: Option<[u8; 32]>,
    now: Option<[u8; 32]>,
) -> bool {
    f.verify(TargetCheck::Copies);
    let view = f.view();
    let ts = view.timestamp().version.get();
    let signed = view.target(path).unwrap().and_then(|t| t.sha256());
    if ts == ts_before {
        assert_eq!(signed, before, "old timestamp must show the old {path}");
        false
    } else {
        assert_eq!(ts, ts_before + 1);
        assert_eq!(signed, now, "new timestamp must show the new {path}");
        true
    }
}

#[test]
fn a_failure_at_every_write_step_leaves_the_old_or_the_new_state() {
    let f = Fixture::new(60, 4);
    f.publish(&Changes::Scan);
    let mut rng = Rng(3);
    let mut runs = 0;
    let mut old_after_error = 0;
    for scenario in 0..4 {
        let path = random_change(&f, &mut rng, 60);
        let before_ts = f.view().timestamp().version.get();
        let before = signed_hash(&f, &path);
        let now = file_hash(&f, &path);
        if scenario == 3 {
            // A full re-sign: every bin is written.
            fs::remove_file(f.repo.state_dir().join("manifest")).unwrap();
        }
        for step in 0.. {
            let mut options = f.options();
            options.fail_after_writes = Some(step);
            let changes = if scenario >= 2 {
                Changes::Scan
            } else {
                Changes::Paths(vec![path.clone()])
            };
            let result = publish::publish(&f.repo, &f.online, &changes, &options);
            runs += 1;
            let published = assert_old_or_new(&f, before_ts, &path, before, now);
            match result {
                // A failure after the timestamp's rename (at its fsync) leaves the new
                // state visible; before it, the old one. Either verifies.
                Err(e) => {
                    assert_eq!(e.code(), "injected", "step {step}");
                    old_after_error += usize::from(!published);
                    if published {
                        break;
                    }
                }
                Ok(_) => {
                    assert!(published || before == now);
                    break;
                }
            }
        }
    }
    // Refresh, interrupted at every step.
    let before_ts = f.view().timestamp().version.get();
    for step in 0.. {
        let mut options = f.options();
        options.fail_after_writes = Some(step);
        let result = publish::refresh(&f.repo, &f.online, TimeDelta::days(8), &options);
        runs += 1;
        f.verify(TargetCheck::Copies);
        let ts = f.view().timestamp().version.get();
        if result.is_ok() || ts != before_ts {
            assert_eq!(ts, before_ts + 1);
            break;
        }
    }
    assert!(runs >= 50, "{runs} runs");
    assert!(old_after_error > 20, "{old_after_error}");
    eprintln!("{runs} interrupted or completed publishes, each verified");
}

#[test]
fn a_killed_publisher_leaves_the_old_or_the_new_state() {
    const CRATES: usize = 400;
    const RUNS: usize = 60;
    let f = Fixture::new(CRATES, 7);
    f.publish(&Changes::Scan);
    // `tuf publish` works on an operator's repository: the one the library made, with its
    // policy (the bins it was made with).
    let mut policy = tuf_cli::policy::Policy::default();
    policy.bins.bit_length = 7;
    fs::write(
        f.repo_dir().join("policy.json"),
        policy.to_file_bytes().unwrap(),
    )
    .unwrap();
    let tuf = env!("CARGO_BIN_EXE_tuf");
    let publish_cmd = |changed: &[String]| {
        let mut cmd = Command::new(tuf);
        cmd.arg("publish")
            .arg(f.repo_dir())
            .arg("--index")
            .arg(f.index())
            .arg("--online-key")
            .arg(f.online_key_file())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for path in changed {
            cmd.arg("--changed").arg(path);
        }
        cmd
    };
    // How long an uninterrupted publish takes, process start included.
    let mut rng = Rng(99);
    let probe = random_change(&f, &mut rng, CRATES);
    let started = Instant::now();
    assert!(publish_cmd(&[probe]).status().unwrap().success());
    let typical = started.elapsed().max(Duration::from_millis(5));
    let full_started = Instant::now();
    fs::remove_file(f.repo.state_dir().join("manifest")).unwrap();
    assert!(publish_cmd(&[]).status().unwrap().success());
    let typical_full = full_started.elapsed();

    let (mut killed, mut old_seen, mut new_seen) = (0, 0, 0);
    for run in 0..RUNS {
        let path = random_change(&f, &mut rng, CRATES);
        let before_ts = f.view().timestamp().version.get();
        let before = signed_hash(&f, &path);
        let now = file_hash(&f, &path);
        let (changed, budget) = match run % 5 {
            // Every fifth run re-signs every bin (lost manifest) through a scan.
            0 => {
                fs::remove_file(f.repo.state_dir().join("manifest")).unwrap();
                (vec![], typical_full)
            }
            1 => (vec![], typical_full),
            _ => (vec![path.clone()], typical),
        };
        let mut child = publish_cmd(&changed).spawn().unwrap();
        let delay = budget.mul_f64((rng.below(1000) as f64 / 1000.0) * 1.1);
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if !status.success() {
            killed += 1;
        }
        if assert_old_or_new(&f, before_ts, &path, before, now) {
            new_seen += 1;
        } else {
            old_seen += 1;
        }
        // The next publish completes what the killed one started.
        f.publish(&Changes::Scan);
        assert_eq!(signed_hash(&f, &path), now);
        f.verify(TargetCheck::Index);
    }
    eprintln!(
        "{RUNS} runs: {killed} killed mid-publish; afterwards {old_seen} showed the old state, {new_seen} the new; \
         publish takes ~{typical:?}, full ~{typical_full:?}"
    );
    assert!(
        killed >= RUNS / 4,
        "only {killed} of {RUNS} publishers were killed before finishing"
    );
    assert!(old_seen > 0 && new_seen > 0);
}
