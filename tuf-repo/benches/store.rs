//! Object-storage benchmarks (not timed tests): the publisher on S3 (`tuf_repo::remote`)
//! beside the same work on a local directory (`tuf_repo::publish`), in the same run.
//! Run in release:
//!
//! ```text
//! cargo bench -p tuf-repo --bench store -- INDEX_DIR [--mode all|full,hook,index-store,race]
//!     [--repeat N] [--work DIR]
//! ```
//!
//! The S3 server is the tests' (`tuf_test_support::s3::S3Server`: moto on 127.0.0.1,
//! one request at a time), started here. Every S3 figure comes with the requests the
//! publisher made, by kind (`Store::requests`). Figures are kept in docs/benchmarks.md.
//!
//! * full: first publish of the whole index (index local): into a local directory, then
//!   into a bucket; then the *upload floor*: `put_new_many` of as many objects of the
//!   same keys and sizes as the bucket then holds, into a new bucket of the same server
//!   (the server's own speed for that upload, with nothing signed or hashed). Peak
//!   memory (VmHWM) of each publish alone.
//! * hook: add one version to one crate and publish that path (a registry's hook), 20
//!   crates each: locally with the state loaded and verified each time (a new process)
//!   and kept; on S3 with new `Store`/`RemoteRepository` values each time (a new
//!   process: their opening timed apart) and with one kept value. Exact request counts.
//! * index-store: the index uploaded to the same bucket (`Index::Store`): a first
//!   publish (target copies made server-side) and 20 hook publishes, new values each.
//! * race: two publishers (threads, each its own values) start each of 20 rounds
//!   together, each publishing its own one-crate change: total time and the attempts
//!   each publish needed (a lost compare-and-swap on `timestamp.json` is retried);
//!   beside two threads on one local repository (serialised by its lock file).
//!
//! `hook` and `race` use the repository of the last `full` run (or publish one first).
//! They append versions to index files in place and put the files back at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss
)]

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use ring::rand::SystemRandom;
use tuf_core::crypto::{Ed25519Signer, Signer};
use tuf_core::metadata::TargetPath;
use tuf_repo::publish::{self, Changes, OnlineKeys, PublishOptions, PublishReport, Repository};
use tuf_repo::remote::{self, Index, RemoteRepository};
use tuf_repo::store::{ObjectKind, RequestCounts, Store, StoreConfig, StoreUrl};
use tuf_test_support::s3::S3Server;

use support::{load_average, pick_crate, remove_work, stamp, stats, vm_hwm_mib, StageClock};

/// One-change publishes per kind, each on another crate.
const HOOKS: usize = 20;

/// The issue's aim for a one-change hook publish (index local): GET timestamp,
/// snapshot and one bin; PUT the bin, snapshot, timestamp and the index file's copy.
const HOOK_AIM: RequestCounts = RequestCounts {
    get: 3,
    head: 0,
    list: 0,
    put: 4,
    copy: 0,
    delete: 0,
    other: 0,
};

fn main() {
    let args = support::parse_args(
        "usage: store INDEX_DIR [--mode all|full,hook,index-store,race] [--repeat N] [--work DIR]",
        "tuf-bench-store",
        |_| false,
    );
    let (paths, _) = tuf_repo::hashing::walk_index(&args.index).unwrap();
    println!(
        "index {}: {} files; nproc {}; {}; load average {}",
        args.index.display(),
        paths.len(),
        std::thread::available_parallelism().map_or(0, usize::from),
        cpu_model(),
        load_average()
    );
    let server = S3Server::start();
    println!(
        "S3 server (moto, one request at a time) on {} started in {:.2} s",
        server.endpoint(),
        server.started_in().as_secs_f64()
    );
    let bench = Bench {
        server: &server,
        work: args.work.clone(),
        edits: Edits::new(&args.index),
        index: args.index.clone(),
        paths,
        keys: Keys::generate(),
    };

    let mut published = None;
    if args.wants("full") {
        for run in 0..args.repeat {
            if let Some(old) = published.take() {
                bench.forget(old);
            }
            published = Some(bench.full(run));
        }
    }
    if args.wants("hook") || args.wants("race") {
        let p = published.take().unwrap_or_else(|| bench.first_publish());
        if args.wants("hook") {
            bench.hook_local(&p);
            bench.hook_store(&p);
        }
        if args.wants("race") {
            bench.race(&p);
        }
        published = Some(p);
    }
    if let Some(old) = published.take() {
        bench.forget(old);
    }
    if args.wants("index-store") {
        bench.index_store();
    }
    println!("done; load average {}", load_average());
}

/// One key per role kind, shared by every repository of the run.
struct Keys {
    root: Ed25519Signer,
    targets: Ed25519Signer,
    online: Arc<Ed25519Signer>,
}

impl Keys {
    fn generate() -> Self {
        Self {
            root: Ed25519Signer::generate(&SystemRandom::new()).unwrap(),
            targets: Ed25519Signer::generate(&SystemRandom::new()).unwrap(),
            online: Arc::new(Ed25519Signer::generate(&SystemRandom::new()).unwrap()),
        }
    }

    fn online(&self) -> OnlineKeys {
        let online: Arc<dyn Signer> = self.online.clone();
        OnlineKeys::single(online)
    }
}

struct Bench<'s> {
    server: &'s S3Server,
    work: PathBuf,
    edits: Edits,
    index: PathBuf,
    paths: Vec<TargetPath>,
    keys: Keys,
}

/// A repository published both locally and to a bucket, signing the same index.
struct Published {
    dir: PathBuf,
    local: Repository,
    bucket: String,
    /// The operator's directory of the bucket's repository (its offline roles).
    offline: PathBuf,
}

impl Bench<'_> {
    /// A new repository (root and targets v1) at `dir`, signing the local index.
    fn init(&self, dir: PathBuf) -> Repository {
        support::init_repository(
            &self.index,
            dir,
            &self.keys.root,
            &self.keys.targets,
            self.keys.online.as_ref(),
        )
    }

    /// The bucket's repository as a new publisher process sees it: new stores.
    fn remote(&self, p: &Published) -> RemoteRepository {
        RemoteRepository::new(
            &p.offline,
            open(self.server, &p.bucket, "tuf"),
            Index::Local(self.index.clone()),
        )
    }

    /// New repositories, root and targets v1 each: one to publish locally, one whose
    /// offline roles the bucket's publisher uses; and a new bucket.
    fn prepare(&self, what: &str) -> Published {
        // A new directory each run, never one just emptied (see tuf-cli's bench).
        let dir = self.work.join(format!("{what}-{}", stamp()));
        fs::create_dir_all(&dir).unwrap();
        let local = self.init(dir.join("local"));
        let offline = dir.join("offline");
        self.init(offline.clone());
        Published {
            dir,
            local,
            bucket: self.server.create_bucket(what),
            offline,
        }
    }

    fn forget(&self, p: Published) {
        remove_work(&p.dir);
    }

    /// First publishes, locally and to a bucket, untimed (for `hook` and `race` alone).
    fn first_publish(&self) -> Published {
        let p = self.prepare("first");
        publish::publish(&p.local, &self.keys.online(), &Changes::Scan, &options()).unwrap();
        remote::publish(
            &self.remote(&p),
            &self.keys.online(),
            &Changes::Scan,
            &options(),
        )
        .unwrap();
        p
    }

    /// Full sign: local, S3, and the upload floor of the same objects.
    fn full(&self, run: usize) -> Published {
        let p = self.prepare("full");
        let (local_time, local_report, local_hwm) = timed_publish(|options| {
            publish::publish(&p.local, &self.keys.online(), &Changes::Scan, options)
        });
        println!(
            "full sign run {run}, local directory: {:.2} s ({} files hashed, {} bins, {} copies) VmHWM {local_hwm} MiB",
            local_time.as_secs_f64(),
            local_report.files_hashed,
            local_report.bins_signed,
            local_report.copies_written,
        );

        let repo = self.remote(&p);
        let load = load_average();
        let (s3_time, s3_report, s3_hwm) = timed_publish(|options| {
            remote::publish(&repo, &self.keys.online(), &Changes::Scan, options)
        });
        let requests = repo.store().requests();
        println!(
            "full sign run {run}, S3: {:.2} s = {:.1}x local ({} files hashed, {} bins, {} copies, {} metadata files) VmHWM {s3_hwm} MiB; load average before {load}",
            s3_time.as_secs_f64(),
            s3_time.as_secs_f64() / local_time.as_secs_f64(),
            s3_report.files_hashed,
            s3_report.bins_signed,
            s3_report.copies_written,
            s3_report.metadata_written,
        );
        println!(
            "  requests: {} ({:.0} requests/s)",
            counts(&requests),
            requests.total() as f64 / s3_time.as_secs_f64()
        );

        // The floor: the same keys and sizes, bytes that need no reading, hashing or
        // signing, uploaded create-only by the same store code to a new bucket.
        let objects = open(self.server, &p.bucket, "tuf").list("").unwrap();
        let bytes: u64 = objects.iter().map(|o| o.size).sum();
        let filler = Bytes::from(vec![
            b'x';
            usize::try_from(
                objects.iter().map(|o| o.size).max().unwrap_or(0)
            )
            .unwrap()
        ]);
        let items: Vec<(String, Bytes, ObjectKind)> = objects
            .iter()
            .map(|o| {
                let size = usize::try_from(o.size).unwrap();
                (o.key.clone(), filler.slice(..size), ObjectKind::Immutable)
            })
            .collect();
        let floor_bucket = self.server.create_bucket("bench-floor");
        let floor = open(self.server, &floor_bucket, "tuf");
        let start = Instant::now();
        floor.put_new_many(items).unwrap();
        let floor_time = start.elapsed();
        println!(
            "upload floor run {run}: {:.2} s for {} objects ({:.0} MB) = {:.0} objects/s; S3 full sign = {:.2}x floor; requests: {}",
            floor_time.as_secs_f64(),
            objects.len(),
            bytes as f64 / 1e6,
            objects.len() as f64 / floor_time.as_secs_f64(),
            s3_time.as_secs_f64() / floor_time.as_secs_f64(),
            counts(&floor.requests()),
        );
        p
    }

    /// One-change hook publishes on the local directory (state loaded each time, then
    /// kept).
    fn hook_local(&self, p: &Published) {
        for (salt, cold) in [(11, true), (12, false)] {
            let mut times = Vec::new();
            for run in 0..HOOKS {
                let path = self.edit(run, salt);
                if cold {
                    p.local.forget_state();
                }
                let start = Instant::now();
                let report =
                    publish::publish(&p.local, &self.keys.online(), &path, &options()).unwrap();
                times.push(start.elapsed());
                assert_eq!(report.bins_signed, 1);
            }
            println!(
                "hook publish, local directory ({}): n={HOOKS} {}",
                if cold {
                    "state loaded and verified each time"
                } else {
                    "state kept in memory"
                },
                stats(times)
            );
        }
    }

    /// One-change hook publishes to the bucket: new values each time, then one kept.
    fn hook_store(&self, p: &Published) {
        let mut opening = Vec::new();
        let mut times = Vec::new();
        let mut requests = Vec::new();
        for run in 0..HOOKS {
            let path = self.edit(run, 13);
            let start = Instant::now();
            let repo = self.remote(p);
            opening.push(start.elapsed());
            let report = remote::publish(&repo, &self.keys.online(), &path, &options()).unwrap();
            times.push(start.elapsed());
            assert_eq!((report.bins_signed, report.attempts), (1, 1));
            requests.push(repo.store().requests());
        }
        println!(
            "hook publish, S3, new stores each time (a new process): n={HOOKS} {} (of which opening the store: {})",
            stats(times),
            stats(opening)
        );
        print_counts("  requests per publish", &requests);
        let aim = HOOK_AIM;
        println!(
            "  the issue's aim: {} (GET timestamp, snapshot, one bin; PUT bin, snapshot, timestamp, the copy); beyond it: {}",
            counts(&aim),
            counts(&minus(requests[0], aim))
        );

        let repo = self.remote(p);
        let mut times = Vec::new();
        let mut requests = Vec::new();
        for run in 0..HOOKS {
            let path = self.edit(run, 14);
            let before = repo.store().requests();
            let start = Instant::now();
            let report = remote::publish(&repo, &self.keys.online(), &path, &options()).unwrap();
            times.push(start.elapsed());
            assert_eq!(report.bins_signed, 1);
            requests.push(minus(repo.store().requests(), before));
        }
        println!(
            "hook publish, S3, one kept value (a long-running publisher): n={HOOKS} {}",
            stats(times)
        );
        print_counts("  requests per publish", &requests);
    }

    /// Two publishers at once, 20 rounds each, on S3 and then on the local directory.
    fn race(&self, p: &Published) {
        let (s3_time, s3) = self.race_with(
            || {
                let repo = self.remote(p);
                let online = self.keys.online();
                move |changes: &Changes| {
                    remote::publish(&repo, &online, changes, &options()).unwrap()
                }
            },
            15,
        );
        let mut attempts: BTreeMap<u32, usize> = BTreeMap::new();
        for report in &s3 {
            *attempts.entry(report.attempts).or_default() += 1;
        }
        let mean = s3.iter().map(|r| f64::from(r.attempts)).sum::<f64>() / s3.len() as f64;
        println!(
            "race, S3, 2 publishers x {HOOKS} hook publishes: {:.2} s total; attempts per publish {} (mean {mean:.2}); timestamp version {} after",
            s3_time.as_secs_f64(),
            attempts
                .iter()
                .map(|(n, count)| format!("{count}x {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            s3.iter().map(|r| r.timestamp_version).max().unwrap_or(0)
        );
        let local_dir = p.local.state_dir().parent().unwrap().to_path_buf();
        let (local_time, _) = self.race_with(
            || {
                let repo = Repository::new(&self.index, &local_dir);
                let online = self.keys.online();
                move |changes: &Changes| {
                    publish::publish(&repo, &online, changes, &options()).unwrap()
                }
            },
            16,
        );
        println!(
            "race, local directory (lock file), 2 publishers x {HOOKS} hook publishes: {:.2} s total",
            local_time.as_secs_f64()
        );
    }

    /// Two threads, each with the publisher `make` gives it, publishing one change of
    /// their own in each round, rounds started together. Total time and every report.
    fn race_with<F, P>(&self, make: F, salt: usize) -> (Duration, Vec<PublishReport>)
    where
        F: Fn() -> P + Sync,
        P: Fn(&Changes) -> PublishReport,
    {
        let barrier = Barrier::new(2);
        let start = Instant::now();
        let reports: Vec<PublishReport> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..2)
                .map(|who| {
                    let (make, barrier) = (&make, &barrier);
                    scope.spawn(move || {
                        let publish = make();
                        (0..HOOKS)
                            .map(|round| {
                                let changes = self.edit(round, salt + 10 * who);
                                barrier.wait();
                                publish(&changes)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            threads
                .into_iter()
                .flat_map(|t| t.join().unwrap())
                .collect()
        });
        (start.elapsed(), reports)
    }

    /// The index in the bucket too: upload it, a first publish (server-side copies),
    /// then hook publishes with new values each time.
    fn index_store(&self) {
        let p = self.prepare("index-store");
        let bucket = &p.bucket;
        let registry = open(self.server, bucket, "index");
        let files: Vec<(String, Bytes, ObjectKind)> = self
            .paths
            .iter()
            .map(|p| {
                let bytes = fs::read(self.index.join(p.as_str())).unwrap();
                (p.to_string(), Bytes::from(bytes), ObjectKind::Index)
            })
            .collect();
        let start = Instant::now();
        registry.put_new_many(files).unwrap();
        println!(
            "index on S3: uploading its {} files took {:.2} s",
            self.paths.len(),
            start.elapsed().as_secs_f64()
        );
        let remote = || {
            RemoteRepository::new(
                &p.offline,
                open(self.server, bucket, "tuf"),
                Index::Store(open(self.server, bucket, "index")),
            )
        };
        let repo = remote();
        let (time, report, hwm) = timed_publish(|options| {
            remote::publish(&repo, &self.keys.online(), &Changes::Scan, options)
        });
        println!(
            "full sign, index on S3: {:.2} s ({} files hashed, {} bins, {} copies) VmHWM {hwm} MiB",
            time.as_secs_f64(),
            report.files_hashed,
            report.bins_signed,
            report.copies_written
        );
        println!(
            "  requests, repository: {}",
            counts(&repo.store().requests())
        );
        println!(
            "  requests, index: {}",
            counts(&repo.index().store().unwrap().requests())
        );

        let mut times = Vec::new();
        let mut published = Vec::new();
        let mut index = Vec::new();
        for run in 0..HOOKS {
            let path = pick_crate(&self.paths, run, 17).as_str();
            let text = registry.get(path).unwrap().unwrap().bytes;
            let text = support::with_version(std::str::from_utf8(&text).unwrap(), run);
            registry
                .put(path, Bytes::from(text), ObjectKind::Index)
                .unwrap();
            let start = Instant::now();
            let repo = remote();
            let report = remote::publish(
                &repo,
                &self.keys.online(),
                &Changes::Paths(vec![path.to_owned()]),
                &options(),
            )
            .unwrap();
            times.push(start.elapsed());
            assert_eq!((report.bins_signed, report.copies_written), (1, 1));
            published.push(repo.store().requests());
            index.push(repo.index().store().unwrap().requests());
        }
        println!(
            "hook publish, index on S3, new stores each time: n={HOOKS} {}",
            stats(times)
        );
        print_counts("  requests per publish, repository", &published);
        print_counts("  requests per publish, index", &index);
        self.forget(p);
    }

    /// Append a version to the crate of run `run` in phase `salt`: the hook's changes.
    fn edit(&self, run: usize, salt: usize) -> Changes {
        let path = pick_crate(&self.paths, run, salt);
        self.edits.add_version(path, salt * 1000 + run);
        Changes::Paths(vec![path.to_string()])
    }
}

/// Run a first publish with a stage clock; its time, report and peak memory.
fn timed_publish(
    publish: impl FnOnce(&PublishOptions) -> Result<PublishReport, tuf_repo::Error>,
) -> (Duration, PublishReport, u64) {
    let mut options = options();
    let clock = Arc::new(StageClock::default());
    options.progress = clock.clone();
    support::reset_vm_hwm();
    let start = Instant::now();
    let report = publish(&options).unwrap_or_else(|e| panic!("{e}"));
    let elapsed = start.elapsed();
    let hwm = vm_hwm_mib();
    println!("  stages: {}", clock.report(start, elapsed));
    (elapsed, report, hwm)
}

fn options() -> PublishOptions {
    PublishOptions::new(Utc::now())
}

/// A store on the bench's server: `s3://{bucket}/{prefix}`.
fn open(server: &S3Server, bucket: &str, prefix: &str) -> Arc<Store> {
    let url = StoreUrl::parse(&format!("s3://{bucket}/{prefix}")).unwrap();
    let config = StoreConfig {
        s3_endpoint: Some(server.endpoint()),
        options: server.object_store_options(bucket),
        ..StoreConfig::default()
    };
    Arc::new(Store::open(&url, &config).unwrap_or_else(|e| panic!("{e}")))
}

/// `12 = GET 3, HEAD 2, PUT 6, DELETE 1` (kinds with none left out).
fn counts(c: &RequestCounts) -> String {
    let kinds = [
        ("GET", c.get),
        ("HEAD", c.head),
        ("LIST", c.list),
        ("PUT", c.put),
        ("copy", c.copy),
        ("DELETE", c.delete),
        ("other", c.other),
    ];
    let parts: Vec<String> = kinds
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    format!("{} = {}", c.total(), parts.join(", "))
}

/// The counts of each publish, grouped: `exactly ...` when all are alike.
fn print_counts(label: &str, all: &[RequestCounts]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for c in all {
        *seen.entry(counts(c)).or_default() += 1;
    }
    if seen.len() == 1 {
        println!("{label}: exactly {}", counts(&all[0]));
    } else {
        let groups: Vec<String> = seen.iter().map(|(c, n)| format!("{n}x [{c}]")).collect();
        println!("{label}: {}", groups.join("; "));
    }
}

/// `after - before`, kind by kind (saturating: the aim may name kinds not made).
fn minus(after: RequestCounts, before: RequestCounts) -> RequestCounts {
    RequestCounts {
        get: after.get.saturating_sub(before.get),
        head: after.head.saturating_sub(before.head),
        list: after.list.saturating_sub(before.list),
        put: after.put.saturating_sub(before.put),
        copy: after.copy.saturating_sub(before.copy),
        delete: after.delete.saturating_sub(before.delete),
        other: after.other.saturating_sub(before.other),
    }
}

/// `lscpu`'s model name, from /proc/cpuinfo.
fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_default()
}

/// Index files this run edited, with their bytes before: put back when the run ends,
/// so a shared index (e.g. /tmp/bench-200k) stays as generated.
struct Edits {
    index: PathBuf,
    originals: Mutex<BTreeMap<PathBuf, Vec<u8>>>,
}

impl Edits {
    fn new(index: &Path) -> Self {
        Self {
            index: index.to_path_buf(),
            originals: Mutex::new(BTreeMap::new()),
        }
    }

    fn add_version(&self, path: &TargetPath, n: usize) {
        let file = self.index.join(path.as_str());
        let before = fs::read(&file).unwrap();
        let text = support::with_version(std::str::from_utf8(&before).unwrap(), n);
        self.originals
            .lock()
            .unwrap()
            .entry(file.clone())
            .or_insert(before);
        fs::write(&file, text).unwrap();
    }
}

impl Drop for Edits {
    fn drop(&mut self) {
        let originals = std::mem::take(&mut *self.originals.lock().unwrap());
        for (file, bytes) in originals {
            if let Err(e) = fs::write(&file, bytes) {
                eprintln!("could not put back {}: {e}", file.display());
            }
        }
    }
}
