//! What the publishing benchmarks share: `tuf-repo/benches/store.rs` (object storage)
//! and `tuf-cli/benches/publish.rs` (local directories, and the `tuf` binary), which
//! includes this file by path so both measure with the same arguments, repository
//! set-up, index edits and figures (see docs/benchmarks.md).
// Each bench uses a part of it.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use tuf_core::crypto::Signer;
use tuf_core::metadata::TargetPath;
use tuf_core::repo::{offline::RepoKeys, Policy};
use tuf_repo::publish::Repository;

/// The arguments every publishing bench takes: `INDEX_DIR [--mode M] [--repeat N]
/// [--work DIR]`.
pub struct CommonArgs {
    /// The sparse index to sign (e.g. from `synth-index`).
    pub index: PathBuf,
    /// `all`, or the phases to run (a bench may take several, comma-separated).
    pub mode: String,
    /// Runs of each repeated phase.
    pub repeat: usize,
    /// Where repositories are written (each run's deleted after it is timed).
    pub work: PathBuf,
}

impl CommonArgs {
    /// Whether phase `name` is to run: `--mode all`, or `name` among `--mode a,b`.
    pub fn wants(&self, name: &str) -> bool {
        self.mode == "all" || self.mode.split(',').any(|m| m == name)
    }
}

/// Parse the command line; `extra` is offered every other flag (true: it took it).
/// `cargo bench` passes `--bench`, which is ignored.
pub fn parse_args(usage: &str, work: &str, mut extra: impl FnMut(&str) -> bool) -> CommonArgs {
    let mut index = None;
    let mut mode = "all".to_owned();
    let mut repeat = 3;
    let mut work = std::env::temp_dir().join(work);
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--mode" => mode = it.next().expect(usage),
            "--repeat" => repeat = it.next().expect(usage).parse().expect(usage),
            "--work" => work = PathBuf::from(it.next().expect(usage)),
            "--bench" => {}
            other if !other.starts_with("--") => index = Some(PathBuf::from(other)),
            other if extra(other) => {}
            other => panic!("unknown flag {other}\n{usage}"),
        }
    }
    CommonArgs {
        index: index.expect(usage),
        mode,
        repeat,
        work,
    }
}

/// A new repository at `repo` signing `index`: root and targets v1 (default policy:
/// 4096 bins), snapshot, timestamp and bins on the `online` key. Release feeds off (`tuf
/// init` turns them on): these benches' figures in docs/benchmarks.md are of the publish
/// without them; `tuf-repo/benches/feeds.rs` measures feeds on against off.
pub fn init_repository(
    index: &Path,
    repo: PathBuf,
    root: &dyn Signer,
    targets: &dyn Signer,
    online: &dyn Signer,
) -> Repository {
    let repository = Repository::new(index, repo);
    let online: [&dyn Signer; 1] = [online];
    repository
        .init(
            &Policy::default(),
            &RepoKeys {
                root: &[root],
                targets: &[targets],
                snapshot: &online,
                timestamp: &online,
                bins: &online,
            },
            Utc::now(),
        )
        .unwrap();
    tuf_repo::feeds::set_enabled(&repository.state_dir(), false).unwrap();
    repository
}

/// The index file a one-change publish edits in run `run` of the phase `salt`: spread
/// over the index, never `config.json` (not a crate).
pub fn pick_crate(paths: &[TargetPath], run: usize, salt: usize) -> &TargetPath {
    let mut at = (run * 7919 + salt * 2039 + 17) % paths.len();
    while paths[at].as_str() == "config.json" {
        at = (at + 1) % paths.len();
    }
    &paths[at]
}

/// Append a version to an index file: its last line with a new pre-release `vers`.
pub fn add_version(file: &Path, n: usize) {
    let text = fs::read_to_string(file).unwrap();
    fs::write(file, with_version(&text, n)).unwrap();
}

/// `text` (an index file) with a line appended: its last line with the pre-release
/// `-bench.N` added to `vers`.
pub fn with_version(text: &str, n: usize) -> String {
    let last = text.lines().last().unwrap();
    let start = last.find("\"vers\":\"").unwrap() + 8;
    let end = start + last[start..].find('"').unwrap();
    let mut out = text.to_owned();
    out.push_str(&last[..end]);
    out.push_str(&format!("-bench.{n}"));
    out.push_str(&last[end..]);
    out.push('\n');
    out
}

pub fn remove_work(dir: &Path) {
    if let Err(e) = fs::remove_dir_all(dir) {
        eprintln!("could not remove {}: {e}", dir.display());
    }
}

/// Nanoseconds since the epoch: names a run's directory or bucket.
pub fn stamp() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// `min 1.0 ms, median 2.0 ms, max 3.0 ms`.
pub fn stats(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "min {:.1} ms, median {:.1} ms, max {:.1} ms",
        ms(v[0]),
        ms(median(&v)),
        ms(*v.last().unwrap())
    )
}

/// The median of sorted durations.
pub fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// This process's peak resident memory (VmHWM) in MiB.
pub fn vm_hwm_mib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

/// Reset VmHWM to the current resident size (Linux `clear_refs` 5), so the next
/// [`vm_hwm_mib`] is the peak of what runs in between, not of an earlier phase.
pub fn reset_vm_hwm() {
    if let Err(e) = fs::write("/proc/self/clear_refs", "5") {
        eprintln!("could not reset VmHWM: {e}");
    }
}

/// `1.23 4.56 7.89` from /proc/loadavg: how busy the shared machine was.
pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Records when each stage of a publish (as told to its progress) starts and ends, to
/// show where a full sign's time goes, the serial gaps between stages included.
#[derive(Debug, Default)]
pub struct StageClock {
    stages: std::sync::Mutex<Vec<(tuf_repo::progress::Stage, Instant, Option<Instant>)>>,
}

impl tuf_repo::progress::Progress for StageClock {
    fn start(&self, stage: tuf_repo::progress::Stage, _total: Option<u64>) {
        self.stages
            .lock()
            .unwrap()
            .push((stage, Instant::now(), None));
    }
    fn advance(&self, _done: u64) {}
    fn finish(&self) {
        if let Some(last) = self.stages.lock().unwrap().last_mut() {
            last.2.get_or_insert_with(Instant::now);
        }
    }
}

impl StageClock {
    /// `before 0.41 s, scanning 3.90 s, 0.30 s, signing 1.02 s, ..., after 0.20 s`.
    pub fn report(&self, start: Instant, total: Duration) -> String {
        let mut parts = Vec::new();
        let mut at = start;
        let mut gap_name = "before";
        for (stage, began, ended) in self.stages.lock().unwrap().iter() {
            let ended = ended.unwrap_or(*began);
            parts.push(format!(
                "{gap_name} {:.2} s",
                began.duration_since(at).as_secs_f64()
            ));
            parts.push(format!(
                "{} {:.2} s",
                stage.label(),
                ended.duration_since(*began).as_secs_f64()
            ));
            at = ended;
            gap_name = "then";
        }
        parts.push(format!(
            "after {:.2} s",
            (start + total).duration_since(at).as_secs_f64()
        ));
        parts.join(", ")
    }
}
