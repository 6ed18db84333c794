//! Bytes on the wire (issue #14): a client resolves N crates of a published repository
//! served by the 127.0.0.1 test server, once as sent and once gzipped, and prints what
//! the metadata cost against the index files it fetched. A measurement, not a check:
//! ignored unless run by hand with the repository to measure (see docs/benchmarks.md):
//!
//! ```sh
//! TUF_WIRE_REPO=/tmp/wire-repo-12 TUF_WIRE_INDEX=/tmp/wire-2k \
//!   cargo test -p tuf-client --test wire_bytes -- --ignored --nocapture
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tuf_client::{HttpFetcher, MetadataStore, Updater, UpdaterConfig};
use tuf_test_support::http::{Sent, Server};

#[test]
#[ignore = "a measurement: needs TUF_WIRE_REPO and TUF_WIRE_INDEX (docs/benchmarks.md)"]
fn bytes_on_the_wire_for_n_random_crates() {
    let repo = PathBuf::from(std::env::var("TUF_WIRE_REPO").unwrap());
    let index = PathBuf::from(std::env::var("TUF_WIRE_INDEX").unwrap());
    let crates: usize = std::env::var("TUF_WIRE_CRATES")
        .map(|n| n.parse().unwrap())
        .unwrap_or(300);
    let chosen = pick(&index_files(&index), crates);
    let root = std::fs::read(repo.join("metadata/1.root.json")).unwrap();

    println!(
        "| HTTP | requests | timestamp | snapshot | targets | bins (count) | metadata | index files | metadata / index |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for gzip in [false, true] {
        let server = Server::serve_dir(&repo);
        server.set_gzip(gzip);
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("metadata");
        let td = dir.path().join("targets");
        std::fs::create_dir_all(&td).unwrap();
        MetadataStore::open(&md)
            .unwrap()
            .store("root", &root)
            .unwrap();
        let mut config = UpdaterConfig::new(&server.metadata_url(), &md);
        config.targets_base_url = Some(server.targets_url());
        config.target_dir = Some(td);
        let mut updater = Updater::new(config, HttpFetcher::new().unwrap()).unwrap();
        let now = chrono::Utc::now();
        updater.refresh(now).unwrap();
        for path in &chosen {
            let info = updater.target_info(path, now).unwrap().unwrap();
            updater.fetch_target(&info).unwrap();
        }
        let sent = server.take_sent();
        let by_kind = totals(&sent);
        let get = |kind: &str| by_kind.get(kind).copied().unwrap_or((0, 0));
        let metadata: u64 = ["root", "timestamp", "snapshot", "targets", "bins"]
            .iter()
            .map(|k| get(k).1)
            .sum();
        let index_bytes = get("index").1;
        println!(
            "| {} | {} | {} | {} | {} | {} ({}) | {} | {} | {:.1} % |",
            if gzip { "gzip" } else { "identity" },
            sent.len(),
            get("timestamp").1,
            get("snapshot").1,
            get("targets").1,
            get("bins").1,
            get("bins").0,
            metadata,
            index_bytes,
            100.0 * metadata as f64 / index_bytes as f64,
        );
    }
}

/// Requests and body bytes sent, by kind of file.
fn totals(sent: &[Sent]) -> BTreeMap<&'static str, (u64, u64)> {
    let mut totals = BTreeMap::new();
    for s in sent {
        let kind = match s.path.as_str() {
            p if p.starts_with("/targets/") => "index",
            "/metadata/timestamp.json" => "timestamp",
            p if p.ends_with(".root.json") => "root",
            p if p.ends_with(".snapshot.json") => "snapshot",
            p if p.ends_with(".targets.json") => "targets",
            _ => "bins",
        };
        let entry = totals.entry(kind).or_insert((0, 0));
        entry.0 += 1;
        entry.1 += s.body_bytes;
    }
    totals
}

/// Every index file's sparse path under `index` (config.json included), sorted.
fn index_files(index: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let relative = path.strip_prefix(base).unwrap();
                out.push(relative.to_str().unwrap().to_owned());
            }
        }
    }
    let mut files = Vec::new();
    walk(index, index, &mut files);
    files.sort();
    files
}

/// `n` of `files`, chosen by a fixed-seed generator (the same every run).
fn pick(files: &[String], n: usize) -> Vec<String> {
    let mut files = files.to_vec();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut chosen = Vec::with_capacity(n);
    while chosen.len() < n && !files.is_empty() {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let random = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let at = usize::try_from(random % files.len() as u64).unwrap();
        chosen.push(files.swap_remove(at));
    }
    chosen
}
