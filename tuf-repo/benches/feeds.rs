//! Release feeds' cost (docs/feeds.md, figures in docs/benchmarks.md): the same index
//! published into two local repositories in the same run, one with feeds on and one
//! with them off. Run in release:
//!
//! ```text
//! cargo bench -p tuf-repo --bench feeds -- INDEX_DIR [--mode all|first,hook,updates]
//!     [--repeat N] [--work DIR] [--only-off | --only-on]
//! ```
//!
//! * first: the first publish of the whole index, feeds off then on (`--repeat` times
//!   each, a new repository each time): time and peak memory (VmHWM) of each publish
//!   alone, and what the feeds cost on top. The allocator keeps what a publish freed, so
//!   a later publish's peak is not its own: for peak memory, run `--mode first --repeat 1`
//!   once with `--only-off` and once with `--only-on` (each a new process).
//! * hook: a one-version change to one crate, published by path (a registry's hook) into
//!   both repositories, which sign the same index (off first in even runs, on first in
//!   odd ones), 20 crates, state loaded and verified each time (a new process): median
//!   of each, their difference and ratio.
//! * updates: the registry-wide feed's work on every publish at the size it can reach
//!   (`UPDATES_RULE.max_items`, and other sizes): read back the published feed, merge one
//!   new item, render, hash; the cost that bounds its size.
//!
//! `hook` appends versions to index files in place and puts the files back at the end:
//! use an index of your own (`synth-index`), not one another run is reading.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss
)]

mod support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use tuf_core::crypto::{Ed25519Signer, Signer};
use tuf_core::feed::{self, FeedItem, FeedRule, FeedScope, ItemKind, UPDATES_RULE};
use tuf_repo::feeds;
use tuf_repo::publish::{self, Changes, OnlineKeys, PublishOptions, Repository};

use support::{load_average, median, ms, pick_crate, remove_work, stamp, stats, vm_hwm_mib};

/// One-change publishes into each repository.
const HOOKS: usize = 20;

fn main() {
    let mut settings = vec![false, true];
    let args = support::parse_args(
        "usage: feeds INDEX_DIR [--mode all|first,hook,updates] [--repeat N] [--work DIR] \
         [--only-off | --only-on]",
        "tuf-bench-feeds",
        |flag| match flag {
            "--only-off" => {
                settings = vec![false];
                true
            }
            "--only-on" => {
                settings = vec![true];
                true
            }
            _ => false,
        },
    );
    let (paths, _) = tuf_repo::hashing::walk_index(&args.index).unwrap();
    println!(
        "index {}: {} files; nproc {}; load average {}",
        args.index.display(),
        paths.len(),
        std::thread::available_parallelism().map_or(0, usize::from),
        load_average()
    );
    let keys = Keys::generate();
    fs::create_dir_all(&args.work).unwrap();
    if args.wants("first") {
        first(&args.index, &args.work, &keys, args.repeat, &settings);
    }
    if args.wants("hook") {
        hook(&args.index, &args.work, &keys, &paths);
    }
    if args.wants("updates") {
        updates();
    }
    println!("done; load average {}", load_average());
}

struct Keys {
    root: Ed25519Signer,
    targets: Ed25519Signer,
    online: std::sync::Arc<Ed25519Signer>,
}

impl Keys {
    fn generate() -> Self {
        Self {
            root: Ed25519Signer::generate(&ring::rand::SystemRandom::new()).unwrap(),
            targets: Ed25519Signer::generate(&ring::rand::SystemRandom::new()).unwrap(),
            online: std::sync::Arc::new(
                Ed25519Signer::generate(&ring::rand::SystemRandom::new()).unwrap(),
            ),
        }
    }

    fn online(&self) -> OnlineKeys {
        let online: std::sync::Arc<dyn Signer> = self.online.clone();
        OnlineKeys::single(online)
    }

    /// A new repository at `dir` with feeds `on` or off.
    fn init(&self, index: &Path, dir: &Path, on: bool) -> Repository {
        let repo = support::init_repository(
            index,
            dir.to_path_buf(),
            &self.root,
            &self.targets,
            self.online.as_ref(),
        );
        feeds::set_enabled(&repo.state_dir(), on).unwrap();
        repo
    }
}

fn label(on: bool) -> &'static str {
    if on {
        "feeds on "
    } else {
        "feeds off"
    }
}

/// First publishes, off and on, each in a new repository.
fn first(index: &Path, work: &Path, keys: &Keys, repeat: usize, settings: &[bool]) {
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut peaks: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
    for run in 0..repeat {
        for &on in settings {
            let dir = work.join(format!("first-{}-{}", u8::from(on), stamp()));
            let repo = keys.init(index, &dir, on);
            support::reset_vm_hwm();
            let start = Instant::now();
            let report =
                publish::publish(&repo, &keys.online(), &Changes::Scan, &options()).unwrap();
            let took = start.elapsed();
            let peak = vm_hwm_mib();
            println!(
                "first publish, {} run {run}: {:.2} s, peak {peak} MiB; {} files hashed, \
                 {} bins, {} feeds written, {} feed items",
                label(on),
                took.as_secs_f64(),
                report.files_hashed,
                report.bins_signed,
                report.feeds_written,
                report.feed_items
            );
            times[usize::from(on)].push(took);
            peaks[usize::from(on)].push(peak);
            remove_work(&dir);
        }
    }
    if settings.len() < 2 {
        return;
    }
    let [off, on] = times.map(|mut t| {
        t.sort();
        median(&t)
    });
    let [peak_off, peak_on] = peaks.map(|p| p.into_iter().max().unwrap_or(0));
    println!(
        "first publish: median feeds off {:.2} s, on {:.2} s: +{:.2} s ({:.2}x); \
         peak memory off {peak_off} MiB, on {peak_on} MiB",
        off.as_secs_f64(),
        on.as_secs_f64(),
        on.as_secs_f64() - off.as_secs_f64(),
        on.as_secs_f64() / off.as_secs_f64()
    );
}

/// One-change hook publishes into a repository with feeds off and one with them on.
fn hook(index: &Path, work: &Path, keys: &Keys, paths: &[tuf_core::metadata::TargetPath]) {
    let dir = work.join(format!("hook-{}", stamp()));
    let repos = [false, true].map(|on| {
        let repo = keys.init(index, &dir.join(label(on).trim()), on);
        publish::publish(&repo, &keys.online(), &Changes::Scan, &options()).unwrap();
        repo
    });
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut originals = Vec::new();
    for run in 0..HOOKS {
        let path = pick_crate(paths, run, 31);
        let file = index.join(path.as_str());
        originals.push((file.clone(), fs::read(&file).unwrap()));
        support::add_version(&file, run);
        let changes = Changes::Paths(vec![path.as_str().to_owned()]);
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let repo = &repos[which];
            repo.forget_state();
            let start = Instant::now();
            let report = publish::publish(repo, &keys.online(), &changes, &options()).unwrap();
            times[which].push(start.elapsed());
            // The crate's feed and the updates feed change with it, nothing else.
            assert_eq!(report.feeds_written, if which == 1 { 2 } else { 0 });
        }
    }
    for (file, bytes) in originals.iter().rev() {
        fs::write(file, bytes).unwrap();
    }
    let [off, on] = times.clone().map(|mut t| {
        t.sort();
        median(&t)
    });
    for on in [false, true] {
        println!(
            "hook publish, {}: n={HOOKS} {}",
            label(on),
            stats(times[usize::from(on)].clone())
        );
    }
    println!(
        "hook publish: median on - off = {:+.1} ms ({:.2}x)",
        ms(on) - ms(off),
        ms(on) / ms(off)
    );
    remove_work(&dir);
}

/// The registry-wide feed's per-publish work at several sizes: what bounds its size.
fn updates() {
    let now = Utc::now();
    for size in [100, 300, 1000, 3000, 10_000] {
        // Every item within the window, so the rule keeps them all (`max_items`: size).
        let rule = FeedRule {
            latest: 100,
            window: TimeDelta::hours(24),
            max_items: size,
        };
        let items: Vec<FeedItem> = (0..size).map(|i| item(i, now)).collect();
        let published = feed::render(FeedScope::Updates, &items);
        let mut runs = Vec::new();
        for n in 0..20 {
            let start = Instant::now();
            let existing = feed::parse(&published, size).unwrap();
            let merged = feed::merge(vec![item(size + n, now)], existing, &rule, now);
            let bytes = feed::render(FeedScope::Updates, &merged);
            std::hint::black_box(tuf_core::hash::sha256(&bytes));
            runs.push(start.elapsed());
        }
        println!(
            "updates feed of {size} items ({} KiB): read back, merge one, render, hash: {}",
            published.len() / 1024,
            stats(runs)
        );
    }
    println!(
        "(the rule in force: latest {}, window {} min, at most {} items)",
        UPDATES_RULE.latest,
        UPDATES_RULE.window.num_minutes(),
        UPDATES_RULE.max_items
    );
}

fn item(i: usize, now: chrono::DateTime<Utc>) -> FeedItem {
    FeedItem {
        krate: format!("some-crate-{i}"),
        version: format!("1.{i}.0"),
        kind: ItemKind::Publish,
        time: Some(now - TimeDelta::seconds(i64::try_from(i).unwrap())),
        cksum: hex::encode(tuf_core::hash::sha256(&i.to_le_bytes())),
    }
}

fn options() -> PublishOptions {
    PublishOptions::new(Utc::now())
}
