//! The client benchmark of issue #14 (not a timed test). Run in release:
//!
//! ```text
//! cargo bench -p registry-plugin --bench proxy -- --index INDEX_DIR --repo REPO_DIR
//!     [--files 300] [--seed 1] [--delays 0,20] [--parallel 8] [--repeat 1] [--python PY]
//! ```
//!
//! INDEX_DIR is a sparse index (`synth-index --crates N --seed 1 DIR`), REPO_DIR its TUF
//! repository (`tuf key generate`, `tuf init --bit-length 12`, `tuf sign`, `tuf publish`,
//! with target copies: the recipe in docs/benchmarks.md). Both are served on 127.0.0.1 by a static server that behaves like a CDN
//! edge: HTTP/1.1 keep-alive, `TCP_NODELAY`, one write per response (headers and body
//! flattened), gzip when the request accepts it (compressed once, then kept in memory,
//! as an edge keeps its objects), and the same added delay before every response.
//!
//! For each delay, `--files` random index files (fixed seed) are requested:
//!
//! * direct: unverified, straight from the server, one at a time and `--parallel` at
//!   once, over keep-alive connections (a reqwest client with gzip on): the baseline;
//! * proxy cold: through a new `cargo tuf proxy` process with a fresh `CARGO_HOME`
//!   (pinned with `cargo tuf init`, nothing fetched yet), same two shapes; the time runs
//!   from the first request (which starts the metadata refresh) to the last answer;
//! * proxy warm: a new proxy process on the cache the parallel cold run left, the same
//!   files `--parallel` at once; its upstream requests are counted, and its first answer
//!   (the timestamp check included) is timed on its own;
//! * python-tuf: `tuf.ngclient.Updater` in one process (`--python`, else
//!   `$TUF_INTEROP_PYTHON`, else `target/python-interop-venv/bin/python`): refresh, then
//!   `get_targetinfo` + `download_target` for the same paths one at a time, timed inside
//!   the process (interpreter start excluded), from a fresh metadata directory.
//!
//! Every body is compared with the file on disk after it was timed. Ratios are to the
//! direct fetch of the same shape in the same run. Figures: `docs/benchmarks.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss
)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

#[derive(Debug, Parser)]
struct Args {
    /// The sparse index directory.
    #[arg(long)]
    index: PathBuf,
    /// The TUF repository directory (`metadata/`, `targets/`).
    #[arg(long)]
    repo: PathBuf,
    /// Index files requested.
    #[arg(long, default_value_t = 300)]
    files: usize,
    /// Seed of the random choice of files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Delays added before every response, in ms, comma-separated.
    #[arg(long, default_value = "0,20", value_delimiter = ',')]
    delays: Vec<u64>,
    /// Requests in flight at once for the parallel shape.
    #[arg(long, default_value_t = 8)]
    parallel: usize,
    /// Runs of each measurement; the median is printed.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// The python with python-tuf (ngclient) installed.
    #[arg(long)]
    python: Option<PathBuf>,
    /// Where the proxies' `CARGO_HOME`s and python-tuf's directories go.
    #[arg(long, default_value = "/tmp")]
    work: PathBuf,
    // `cargo bench` passes `--bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

const REGISTRY: &str = "benchreg";

fn main() {
    let args = Args::parse();
    let files = choose_files(&args.index, args.files, args.seed);
    let expected: Vec<Vec<u8>> = files
        .iter()
        .map(|p| fs::read(args.index.join(p)).unwrap())
        .collect();
    let index_bytes: usize = expected.iter().map(Vec::len).sum();
    let cdn = Cdn::start(&args.index, &args.repo);
    let python = args
        .python
        .clone()
        .or_else(|| std::env::var_os("TUF_INTEROP_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/python-interop-venv/bin/python")
        });
    println!(
        "{} random index files of {} ({} bytes), seed {}, CDN on {}, {} in parallel, median of {}",
        files.len(),
        args.index.display(),
        index_bytes,
        args.seed,
        cdn.base,
        args.parallel,
        args.repeat
    );

    // Gzip every file once, as an edge holds its objects, before anything is timed.
    let client = direct_client();
    let prime: Vec<String> = files.iter().map(|p| cdn.url("index", p)).collect();
    fetch_all(&client, &prime, args.parallel);
    for entry in fs::read_dir(args.repo.join("metadata")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let _ = client.get(cdn.url("metadata", &name)).send();
    }

    let mut table = Vec::new();
    for &delay in &args.delays {
        cdn.set_delay(Duration::from_millis(delay));
        let bench = Bench {
            args: &args,
            cdn: &cdn,
            files: &files,
            expected: &expected,
            python: &python,
        };
        table.extend(bench.run(delay));
    }
    print_table(&table, files.len());
}

/// One measurement: a row of the table.
#[derive(Debug, Clone)]
struct Row {
    delay: u64,
    what: String,
    shape: &'static str,
    seconds: f64,
    /// The direct fetch's time of the same delay and shape.
    baseline: Option<f64>,
    upstream: Stats,
    note: String,
}

struct Bench<'a> {
    args: &'a Args,
    cdn: &'a Cdn,
    files: &'a [String],
    expected: &'a [Vec<u8>],
    python: &'a Path,
}

impl Bench<'_> {
    fn run(&self, delay: u64) -> Vec<Row> {
        let mut rows = Vec::new();
        let shapes: [(&'static str, usize); 2] =
            [("1 at a time", 1), ("parallel", self.args.parallel)];
        let mut direct = HashMap::new();
        for (shape, parallel) in shapes {
            let (seconds, upstream) = self.median(|| {
                let client = direct_client();
                let urls: Vec<String> = self
                    .files
                    .iter()
                    .map(|p| self.cdn.url("index", p))
                    .collect();
                self.cdn.reset();
                let started = Instant::now();
                let bodies = fetch_all(&client, &urls, parallel);
                let took = started.elapsed();
                self.check(&bodies);
                (took.as_secs_f64(), self.cdn.stats())
            });
            direct.insert(shape, seconds);
            rows.push(self.row(
                delay,
                "direct (unverified)",
                shape,
                seconds,
                None,
                upstream,
                String::new(),
            ));
            eprintln!("{:?}", rows.last().unwrap());
        }
        let mut warm_home = None;
        for (shape, parallel) in shapes {
            let (seconds, upstream, cpu) = self.median3(|| {
                let home = Home::new(self.args, self.cdn);
                let proxy = ProxyProcess::start(&home.cargo_home);
                let client = direct_client();
                let urls: Vec<String> = self
                    .files
                    .iter()
                    .map(|p| format!("{}{p}", proxy.base))
                    .collect();
                self.cdn.reset();
                let started = Instant::now();
                let bodies = fetch_all(&client, &urls, parallel);
                let took = started.elapsed();
                let upstream = self.cdn.stats();
                let cpu = proxy.cpu_seconds();
                self.check(&bodies);
                drop(proxy);
                if parallel > 1 {
                    warm_home = Some(home);
                }
                (took.as_secs_f64(), upstream, cpu)
            });
            let baseline = direct.get(shape).copied();
            let note = format!(
                "proxy CPU {:.2} ms/file",
                cpu * 1e3 / self.files.len() as f64
            );
            rows.push(self.row(
                delay,
                "cargo tuf proxy, cold",
                shape,
                seconds,
                baseline,
                upstream,
                note,
            ));
            eprintln!("{:?}", rows.last().unwrap());
        }
        if let Some(home) = warm_home {
            // A new process on the same cache: the first answer (it checks the timestamp),
            // then the rest.
            let proxy = ProxyProcess::start(&home.cargo_home);
            let client = direct_client();
            self.cdn.reset();
            let started = Instant::now();
            let first = fetch_all(&client, &[format!("{}{}", proxy.base, self.files[0])], 1);
            let first_took = started.elapsed();
            let urls: Vec<String> = self
                .files
                .iter()
                .map(|p| format!("{}{p}", proxy.base))
                .collect();
            let bodies = fetch_all(&client, &urls, self.args.parallel);
            let took = started.elapsed();
            let upstream = self.cdn.stats();
            let cpu = proxy.cpu_seconds();
            self.check(&bodies);
            assert_eq!(first[0], self.expected[0]);
            let baseline = direct.get("parallel").copied();
            rows.push(self.row(
                delay,
                "cargo tuf proxy, warm",
                "parallel",
                took.as_secs_f64(),
                baseline,
                upstream,
                format!(
                    "first answer {:.1} ms; proxy CPU {:.2} ms/file",
                    first_took.as_secs_f64() * 1e3,
                    cpu * 1e3 / self.files.len() as f64
                ),
            ));
            eprintln!("{:?}", rows.last().unwrap());
        }
        match self.median_python() {
            Ok((seconds, upstream, wall)) => {
                let baseline = direct.get("1 at a time").copied();
                rows.push(self.row(
                    delay,
                    "python-tuf ngclient",
                    "1 at a time",
                    seconds,
                    baseline,
                    upstream,
                    format!("process {wall:.2} s"),
                ));
                eprintln!("{:?}", rows.last().unwrap());
            }
            Err(e) => eprintln!("python-tuf not run: {e}"),
        }
        rows
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &self,
        delay: u64,
        what: &str,
        shape: &'static str,
        seconds: f64,
        baseline: Option<f64>,
        upstream: Stats,
        note: String,
    ) -> Row {
        Row {
            delay,
            what: what.to_owned(),
            shape,
            seconds,
            baseline,
            upstream,
            note,
        }
    }

    /// The median of `repeat` runs of `measure` (by time), with that run's counts.
    fn median(&self, mut measure: impl FnMut() -> (f64, Stats)) -> (f64, Stats) {
        let mut runs: Vec<(f64, Stats)> = (0..self.args.repeat.max(1)).map(|_| measure()).collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        runs.swap_remove(runs.len() / 2)
    }

    /// [`Bench::median`] with one more figure per run.
    fn median3(&self, mut measure: impl FnMut() -> (f64, Stats, f64)) -> (f64, Stats, f64) {
        let mut runs: Vec<(f64, Stats, f64)> =
            (0..self.args.repeat.max(1)).map(|_| measure()).collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        runs.swap_remove(runs.len() / 2)
    }

    fn median_python(&self) -> Result<(f64, Stats, f64), String> {
        if !self.python.exists() {
            return Err(format!("no python at {}", self.python.display()));
        }
        let mut runs = Vec::new();
        for _ in 0..self.args.repeat.max(1) {
            runs.push(self.python_once()?);
        }
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(runs.swap_remove(runs.len() / 2))
    }

    /// python-tuf's ngclient over the same paths, one process: (time inside, upstream,
    /// process wall time).
    fn python_once(&self) -> Result<(f64, Stats, f64), String> {
        let dir = tempfile::Builder::new()
            .prefix("proxy-bench-python-")
            .tempdir_in(&self.args.work)
            .map_err(|e| e.to_string())?;
        let metadata = dir.path().join("metadata");
        let targets = dir.path().join("targets");
        fs::create_dir_all(&metadata).unwrap();
        fs::create_dir_all(&targets).unwrap();
        let paths = dir.path().join("paths.txt");
        fs::write(&paths, self.files.join("\n")).unwrap();
        let script = dir.path().join("ngclient_bench.py");
        fs::write(&script, PYTHON_SCRIPT).unwrap();
        self.cdn.reset();
        let started = Instant::now();
        let out = Command::new(self.python)
            .arg(&script)
            .arg(self.cdn.url("metadata", ""))
            .arg(self.cdn.url("targets", ""))
            .arg(&metadata)
            .arg(&targets)
            .arg(&paths)
            .arg(self.args.repo.join("metadata/1.root.json"))
            .output()
            .map_err(|e| e.to_string())?;
        let wall = started.elapsed().as_secs_f64();
        let upstream = self.cdn.stats();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let inside: f64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|e| format!("{e}"))?;
        // The downloaded files are the index files.
        for (path, expected) in self.files.iter().zip(self.expected) {
            let name = path.replace('/', "%2F");
            let got = fs::read(targets.join(&name)).map_err(|e| format!("{name}: {e}"))?;
            assert_eq!(&got, expected, "{path}");
        }
        Ok((inside, upstream, wall))
    }

    fn check(&self, bodies: &[Vec<u8>]) {
        assert_eq!(bodies.len(), self.expected.len());
        for ((body, expected), path) in bodies.iter().zip(self.expected).zip(self.files) {
            assert!(
                body == expected,
                "{path}: {}",
                String::from_utf8_lossy(body)
            );
        }
    }
}

const PYTHON_SCRIPT: &str = r#"
import sys, time
from tuf.ngclient import Updater
metadata_url, targets_url, metadata_dir, targets_dir, paths_file, root = sys.argv[1:]
paths = open(paths_file).read().split()
root_bytes = open(root, "rb").read()
started = time.perf_counter()
updater = Updater(metadata_dir=metadata_dir, metadata_base_url=metadata_url,
                  target_base_url=targets_url, target_dir=targets_dir,
                  bootstrap=root_bytes)
updater.refresh()
for path in paths:
    info = updater.get_targetinfo(path)
    if info is None:
        sys.exit(f"no target {path}")
    updater.download_target(info)
print(f"{time.perf_counter() - started:.6f}")
"#;

fn print_table(rows: &[Row], files: usize) {
    println!();
    println!(
        "| delay | client | shape | seconds | × direct | ms/file over direct | upstream requests (ts/snap/targets/bins/index/targets) | metadata bytes | index bytes | note |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        let (ratio, over) = match row.baseline {
            Some(base) => (
                format!("{:.2}", row.seconds / base),
                format!("{:.2}", (row.seconds - base) * 1e3 / files as f64),
            ),
            None => ("1.00".to_owned(), "-".to_owned()),
        };
        let u = &row.upstream;
        println!(
            "| {} ms | {} | {} | {:.3} | {} | {} | {} ({}/{}/{}/{}/{}/{}) | {} | {} | {} |",
            row.delay,
            row.what,
            row.shape,
            row.seconds,
            ratio,
            over,
            u.requests,
            u.timestamp,
            u.snapshot,
            u.targets_role,
            u.bins,
            u.index,
            u.target_files,
            u.metadata_bytes,
            u.index_bytes,
            row.note
        );
    }
}

/// `count` index files of `index` (config.json excluded), chosen at random with `seed`.
fn choose_files(index: &Path, count: usize, seed: u64) -> Vec<String> {
    let mut all = Vec::new();
    walk(index, index, &mut all);
    all.sort();
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut chosen = Vec::new();
    while chosen.len() < count.min(all.len()) {
        // xorshift64*
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        let pick = rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % all.len() as u64;
        let path = all.swap_remove(usize::try_from(pick).unwrap());
        chosen.push(path);
    }
    chosen
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name().into_string().unwrap();
        if name.starts_with('.') {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            walk(root, &path, out);
        } else if name != "config.json" {
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
}

/// A keep-alive client with gzip on (what cargo's curl and the proxy both ask for).
fn direct_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .gzip(true)
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .build()
        .unwrap()
}

/// GET every URL, `parallel` at a time (each worker keeps its connection); the bodies in
/// order.
fn fetch_all(client: &reqwest::blocking::Client, urls: &[String], parallel: usize) -> Vec<Vec<u8>> {
    let next = AtomicUsize::new(0);
    let bodies: Vec<Mutex<Vec<u8>>> = urls.iter().map(|_| Mutex::new(Vec::new())).collect();
    std::thread::scope(|scope| {
        for _ in 0..parallel.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(url) = urls.get(i) else { break };
                let response = client.get(url).send().unwrap();
                let status = response.status();
                let body = response.bytes().unwrap().to_vec();
                assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
                *bodies[i].lock().unwrap() = body;
            });
        }
    });
    bodies
        .into_iter()
        .map(|b| b.into_inner().unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------
// The proxy under test

/// A fresh `CARGO_HOME` with the bench registry pinned (`cargo tuf init`); removed on drop.
struct Home {
    _dir: tempfile::TempDir,
    cargo_home: PathBuf,
}

impl Home {
    fn new(args: &Args, cdn: &Cdn) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("proxy-bench-home-")
            .tempdir_in(&args.work)
            .unwrap();
        let cargo_home = dir.path().join("cargo-home");
        fs::create_dir_all(&cargo_home).unwrap();
        let root = args.repo.join("metadata/1.root.json");
        let out = cargo_tuf(&cargo_home)
            .args([
                "tuf",
                "init",
                "--registry",
                REGISTRY,
                "--port",
                "0",
                "--index-url",
            ])
            .arg(format!("sparse+{}", cdn.url("index", "")))
            .arg("--metadata-url")
            .arg(cdn.url("metadata", ""))
            .arg("--root")
            .arg(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            _dir: dir,
            cargo_home,
        }
    }
}

fn cargo_tuf(cargo_home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-tuf"));
    command
        .env("CARGO_HOME", cargo_home)
        .current_dir(cargo_home);
    command
}

/// A running `cargo tuf proxy`; killed when dropped.
struct ProxyProcess {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    base: String,
}

impl ProxyProcess {
    fn start(cargo_home: &Path) -> Self {
        let mut child = cargo_tuf(cargo_home)
            .args(["tuf", "proxy", "--registry", REGISTRY])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap()
            .to_owned();
        Self {
            child,
            _stdout: stdout,
            base,
        }
    }
}

impl ProxyProcess {
    /// User + system CPU time of the proxy so far (`/proc/PID/stat`, 10 ms ticks).
    fn cpu_seconds(&self) -> f64 {
        let stat =
            fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the `(comm)`: state is the 3rd field, utime the 14th, stime the 15th.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<u64> = after
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|f| f.parse().ok())
            .collect();
        fields.iter().sum::<u64>() as f64 / 100.0
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// The CDN edge

/// Upstream requests and body bytes sent since the last reset.
#[derive(Debug, Clone, Default)]
struct Stats {
    requests: u64,
    timestamp: u64,
    snapshot: u64,
    targets_role: u64,
    bins: u64,
    index: u64,
    target_files: u64,
    metadata_bytes: u64,
    index_bytes: u64,
}

struct Cdn {
    base: String,
    shared: Arc<CdnShared>,
    _runtime: tokio::runtime::Runtime,
}

struct CdnShared {
    index: PathBuf,
    repo: PathBuf,
    delay_ms: AtomicU64,
    /// Objects by URL path: identity and gzipped bytes; `None` for a missing file.
    objects: Mutex<HashMap<String, Option<(Bytes, Bytes)>>>,
    stats: Mutex<Stats>,
}

impl Cdn {
    fn start(index: &Path, repo: &Path) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let shared = Arc::new(CdnShared {
            index: index.to_path_buf(),
            repo: repo.to_path_buf(),
            delay_ms: AtomicU64::new(0),
            objects: Mutex::new(HashMap::new()),
            stats: Mutex::new(Stats::default()),
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let serving = Arc::clone(&shared);
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, Infallible>(shared.answer(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        // Headers and body copied into one buffer: one write per response.
                        .writev(false)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            base,
            shared,
            _runtime: runtime,
        }
    }

    fn url(&self, top: &str, path: &str) -> String {
        format!("{}/{top}/{path}", self.base)
    }

    fn set_delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(u64::try_from(delay.as_millis()).unwrap(), Ordering::SeqCst);
    }

    fn reset(&self) {
        *self.shared.stats.lock().unwrap() = Stats::default();
    }

    fn stats(&self) -> Stats {
        self.shared.stats.lock().unwrap().clone()
    }
}

impl CdnShared {
    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_owned();
        let gzip = request
            .headers()
            .get(hyper::header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("gzip"));
        let object = self.object(&path);
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let Some((identity, gzipped)) = object else {
            self.count(&path, 0);
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::NOT_FOUND;
            return response;
        };
        let body = if gzip { gzipped } else { identity };
        self.count(&path, body.len());
        let mut response = Response::new(Full::new(body));
        if gzip {
            response.headers_mut().insert(
                hyper::header::CONTENT_ENCODING,
                hyper::header::HeaderValue::from_static("gzip"),
            );
        }
        response
    }

    fn object(&self, path: &str) -> Option<(Bytes, Bytes)> {
        if let Some(object) = self.objects.lock().unwrap().get(path) {
            return object.clone();
        }
        let file = self.file_of(path);
        let object = file.and_then(|f| fs::read(f).ok()).map(|bytes| {
            let gzipped = tuf_test_support::http::gzip(&bytes);
            (Bytes::from(bytes), Bytes::from(gzipped))
        });
        self.objects
            .lock()
            .unwrap()
            .insert(path.to_owned(), object.clone());
        object
    }

    fn file_of(&self, path: &str) -> Option<PathBuf> {
        let rest = path.strip_prefix('/')?;
        if rest
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
            || rest.contains('%')
        {
            return None;
        }
        let (top, rest) = rest.split_once('/')?;
        match top {
            "index" => Some(self.index.join(rest)),
            "metadata" | "targets" => Some(self.repo.join(top).join(rest)),
            _ => None,
        }
    }

    fn count(&self, path: &str, bytes: usize) {
        let bytes = u64::try_from(bytes).unwrap();
        let mut stats = self.stats.lock().unwrap();
        stats.requests += 1;
        if let Some(name) = path.strip_prefix("/metadata/") {
            stats.metadata_bytes += bytes;
            if name == "timestamp.json" {
                stats.timestamp += 1;
            } else if name.ends_with(".snapshot.json") {
                stats.snapshot += 1;
            } else if name.ends_with(".targets.json") {
                stats.targets_role += 1;
            } else if name.contains("bin") {
                stats.bins += 1;
            }
        } else if path.starts_with("/index/") {
            stats.index += 1;
            stats.index_bytes += bytes;
        } else if path.starts_with("/targets/") {
            stats.target_files += 1;
            stats.index_bytes += bytes;
        }
    }
}
