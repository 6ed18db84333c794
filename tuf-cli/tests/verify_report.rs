//! The library side of issue #5: `check_repository` lists every problem in client order
//! and goes on below an expired role, and publish and verify report progress in
//! batches, every unit counted once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use chrono::{TimeDelta, Utc};
use common::{crate_name, sparse_path, Fixture};
use tuf_core::Limits;
use tuf_repo::progress::{Progress, Stage};
use tuf_repo::publish::{self, Changes};
use tuf_repo::verify::{check_repository, verify_repository, TargetCheck};

/// Records every call, to check what the library reports.
#[derive(Debug, Default)]
struct Recorder {
    events: Mutex<Vec<Event>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Start(Stage, Option<u64>),
    Advance(u64),
    Finish,
}

impl Progress for Recorder {
    fn start(&self, stage: Stage, total: Option<u64>) {
        self.events.lock().unwrap().push(Event::Start(stage, total));
    }
    fn advance(&self, done: u64) {
        self.events.lock().unwrap().push(Event::Advance(done));
    }
    fn finish(&self) {
        self.events.lock().unwrap().push(Event::Finish);
    }
}

impl Recorder {
    /// Per stage, in order: its total, the sum of its advances and how many there were.
    fn stages(&self) -> Vec<(Stage, Option<u64>, u64, usize)> {
        let mut out: Vec<(Stage, Option<u64>, u64, usize)> = Vec::new();
        let mut open = false;
        for event in self.events.lock().unwrap().iter() {
            match event {
                Event::Start(stage, total) => {
                    assert!(!open, "{stage:?} started inside another stage");
                    open = true;
                    out.push((*stage, *total, 0, 0));
                }
                Event::Advance(n) => {
                    assert!(open, "advance outside a stage");
                    let last = out.last_mut().unwrap();
                    last.2 += n;
                    last.3 += 1;
                }
                Event::Finish => {
                    assert!(open, "finish outside a stage");
                    open = false;
                }
            }
        }
        assert!(!open, "a stage was never finished");
        out
    }
}

#[test]
fn expired_online_roles_are_all_listed_and_checking_goes_on() {
    let fx = Fixture::new(30, 3);
    // Signed ten days ago: timestamp (1d), snapshot (7d) and every bin (7d) have expired.
    let mut options = fx.options();
    options.now = Utc::now() - TimeDelta::days(10);
    publish::publish(&fx.repo, &fx.online, &Changes::Scan, &options).unwrap();
    // And an index file changed since: found below the expired roles.
    let changed = sparse_path(&crate_name(7));
    std::fs::write(fx.index().join(&changed), b"changed\n").unwrap();

    let recorder = Recorder::default();
    let report = check_repository(
        &fx.repo,
        &fx.trusted_root(),
        Utc::now(),
        TargetCheck::Index,
        &Limits::default(),
        &recorder,
    );
    let found: Vec<(&str, &str)> = report
        .problems
        .iter()
        .map(|p| (p.subject.as_str(), p.code))
        .collect();
    let mut expected = vec![("timestamp", "expired"), ("snapshot", "expired")];
    let view = tuf_repo::verify::RepoView::load(
        &fx.repo,
        &fx.trusted_root(),
        options.now,
        &Limits::default(),
    )
    .unwrap();
    let bin_names: Vec<String> = (0..8).map(|b| view.bins().bin_name(b)).collect();
    let changed_bin = view.bins().bin_of(&changed);
    for (bin, name) in bin_names.iter().enumerate() {
        expected.push((name.as_str(), "expired"));
        if u32::try_from(bin).unwrap() == changed_bin {
            expected.push((changed.as_str(), "target-mismatch"));
        }
    }
    assert_eq!(found, expected);
    assert!(report.stopped.is_none());
    assert_eq!(report.bins, 8);
    // 31 index files, and (release feeds on, docs/feeds.md) 30 crate feeds and the
    // registry's, checked against their copies.
    assert_eq!(report.targets, 31 + 31);
    assert_eq!(report.index_files, 31);
    for problem in &report.problems {
        assert!(!problem.advice().is_empty());
    }
    assert!(report.problems[0].advice().contains("tuf refresh"));

    // Progress: one stage over the index files, one advance per bin at most.
    let stages = recorder.stages();
    assert_eq!(stages.len(), 1, "{stages:?}");
    let (stage, total, done, calls) = stages[0];
    assert_eq!(stage, Stage::Verifying);
    // Over the index files (known before the bins are read); the feeds the bins also
    // list are checked (report.targets above) but not counted, so done == total.
    assert_eq!(total, Some(31));
    assert_eq!(done, 31);
    assert!(calls <= 8, "{calls} progress calls for 8 bins");

    // The strict walk stops at the first of them.
    let err = verify_repository(
        &fx.repo,
        &fx.trusted_root(),
        Utc::now(),
        TargetCheck::Index,
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "expired");
}

#[test]
fn a_clean_repository_has_no_problem() {
    let fx = Fixture::new(12, 2);
    fx.publish(&Changes::Scan);
    let report = check_repository(
        &fx.repo,
        &fx.trusted_root(),
        Utc::now(),
        TargetCheck::Copies,
        &Limits::default(),
        &tuf_repo::progress::Silent,
    );
    assert!(report.is_ok(), "{:?}", report.problems);
    // 13 index files, 12 crate feeds and the registry's (docs/feeds.md).
    assert_eq!(report.targets, 13 + 13);
    assert_eq!(report.root_version, Some(1));
}

#[test]
fn publish_reports_progress_in_batches() {
    let fx = Fixture::new(2000, 6);
    let recorder = Arc::new(Recorder::default());
    let mut options = fx.options();
    options.progress = recorder.clone();
    let report = publish::publish(&fx.repo, &fx.online, &Changes::Scan, &options).unwrap();
    let stages = recorder.stages();
    let names: Vec<Stage> = stages.iter().map(|s| s.0).collect();
    assert_eq!(names, [Stage::Scanning, Stage::Signing, Stage::Writing]);
    // Scan: every file counted once, in chunks rather than per file.
    let (_, total, done, calls) = stages[0];
    assert_eq!(total, Some(2001));
    assert_eq!(done, 2001);
    assert!(calls < 2001 / 4, "{calls} progress calls for 2001 files");
    // A first publish signs every bin inside tuf-core: no count known in advance.
    assert_eq!(stages[1].1, None);
    // Writing counts every file of the publication, root and targets included (already
    // written by init, so not written again).
    let (_, total, _, _) = stages[2];
    assert_eq!(
        total,
        Some(u64::try_from(report.metadata_written + 2).unwrap())
    );
    // Expiries and roles are reported.
    let expires = report.expires.unwrap();
    assert!(expires.timestamp <= expires.snapshot);
    assert_eq!(expires.earliest_online(), expires.timestamp);
    assert_eq!(report.roles_signed, ["bins", "snapshot", "timestamp"]);

    // A refresh of everything reads every bin with progress, in batches.
    let recorder = Arc::new(Recorder::default());
    options.progress = recorder.clone();
    options.now = Utc::now();
    let refreshed = publish::refresh(&fx.repo, &fx.online, TimeDelta::days(30), &options).unwrap();
    assert_eq!(refreshed.bins_signed, 64);
    let stages = recorder.stages();
    assert_eq!(stages[0].0, Stage::ReadingBins);
    assert_eq!((stages[0].1, stages[0].2), (Some(64), 64));
    assert!(stages[0].3 <= 2, "{stages:?}");
}

#[test]
fn a_bin_listing_a_path_of_another_bin_is_reported_and_refused() {
    // TAP 15: a path belongs to the bin its hash names; a client never looks for it
    // elsewhere. One function holds the rule (`SuccinctRoles::misplaced_targets`); the
    // strict walk refuses the bin, the diagnostic one names the path and goes on.
    use tuf_core::metadata::{sign_role, RoleType, SignedMetadata, Targets};
    let fx = Fixture::new(30, 3);
    fx.publish(&Changes::Scan);
    let view = fx.view();
    let limits = Limits::default();
    let file_of = |bin: u32| {
        let name = view.bins().bin_name(bin);
        let version = view.snapshot().role_meta(&name).unwrap().version.get();
        fx.repo
            .metadata_dir()
            .join(tuf_core::metadata::versioned_file_name(version, &name))
    };
    let read_bin = |bin: u32| -> Targets {
        let meta = SignedMetadata::parse(
            &std::fs::read(file_of(bin)).unwrap(),
            RoleType::Targets,
            &limits,
        )
        .unwrap();
        meta.decode_unverified("bin", &limits).unwrap()
    };
    let (home, away) = (0, 1);
    let mut forged = read_bin(home);
    let (stray, entry) = read_bin(away).targets.into_iter().next().unwrap();
    forged.targets.insert(stray.clone(), entry);
    let online: [&dyn tuf_core::crypto::Signer; 1] = [fx.keys.online.as_ref()];
    std::fs::write(file_of(home), sign_role(&forged, &online).unwrap()).unwrap();

    let err = verify_repository(
        &fx.repo,
        &fx.trusted_root(),
        Utc::now(),
        TargetCheck::Copies,
        &limits,
    )
    .unwrap_err();
    assert_eq!(err.code(), "misplaced", "{err}");

    let report = check_repository(
        &fx.repo,
        &fx.trusted_root(),
        Utc::now(),
        TargetCheck::Copies,
        &limits,
        &tuf_repo::progress::Silent,
    );
    let found: Vec<(&str, &str)> = report
        .problems
        .iter()
        .map(|p| (p.subject.as_str(), p.code))
        .collect();
    assert_eq!(found, [(stray.as_str(), "misplaced")]);
    assert!(report.stopped.is_none());
    // The entry in its own bin is still counted there, the stray one is not counted:
    // 31 index files and (release feeds on, docs/feeds.md) 30 crate feeds and the
    // registry's.
    assert_eq!(report.targets, 31 + 31);
}
