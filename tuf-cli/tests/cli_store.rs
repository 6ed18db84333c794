//! `tuf publish`, `refresh`, `verify`, `status` and `store` with the published repository
//! and the index on a real S3-compatible server (`tuf_test_support::s3::S3Server`): the
//! whole flow, two `tuf publish` processes at once, and a `tuf publish` killed with
//! SIGKILL mid-upload, then published again and read by a client over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use cli_support::{index_line, sparse_path, Env};
use predicates::prelude::*;
use tuf_client::{HttpFetcher, Updater, UpdaterConfig};
use tuf_core::Limits;
use tuf_repo::remote::StoreFiles;
use tuf_repo::store::{Location, ObjectKind, Store, StoreConfig};
use tuf_repo::verify::RepoView;
use tuf_test_support::s3::S3Server;

/// A committed ceremony repository (targets signed), a bucket with the index under
/// `index/`, and the repository set to publish to `tuf/` in it.
struct Setup {
    env: Env,
    server: &'static S3Server,
    bucket: String,
    index: Store,
}

impl Setup {
    fn new() -> Self {
        let env = Env::new();
        // A 2-of-2 ceremony with 16 bins rather than 4096:
        // the test server takes one request at a time, and every verify reads every bin.
        env.signed_two_holder_repo(4);
        env.trust_root_v1();
        let server = S3Server::shared();
        let bucket = server.create_bucket("cli");
        let index = open(server, &bucket, "index");
        let setup = Self {
            env,
            server,
            bucket,
            index,
        };
        setup.put("config.json", "{\"dl\":\"http://x/\"}");
        setup.put(&sparse_path("demo"), &index_line("demo", "0.1.0"));
        setup.put(&sparse_path("other"), &index_line("other", "0.1.0"));
        setup
            .tuf()
            .args(["store", "set", "repo", &setup.url("tuf")])
            .args(["--s3-endpoint", &server.endpoint()])
            .assert()
            .success();
        setup
    }

    fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }

    fn put(&self, key: &str, text: &str) {
        self.index
            .put(key, Bytes::from(text.to_owned()), ObjectKind::Index)
            .unwrap();
    }

    /// `tuf` with the server's credentials in the environment, as an operator sets them.
    fn tuf(&self) -> assert_cmd::Command {
        let mut cmd = self.env.tuf();
        cmd.env("AWS_ACCESS_KEY_ID", self.server.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", self.server.secret_access_key())
            .env("AWS_REGION", self.server.region());
        cmd
    }

    fn publish_args(&self) -> Vec<String> {
        ["publish", "repo", "--index", &self.url("index")]
            .iter()
            .map(|s| (*s).to_owned())
            .chain(["--online-key".to_owned(), "online.pem".to_owned()])
            .collect()
    }

    fn publish(&self) -> assert_cmd::Command {
        let mut cmd = self.tuf();
        cmd.args(self.publish_args());
        cmd
    }

    fn verify(&self) -> assert_cmd::Command {
        let mut cmd = self.tuf();
        cmd.args(["verify", "--root", "trusted-root.json", &self.url("tuf")])
            .args(["--s3-endpoint", &self.server.endpoint()]);
        cmd
    }

    /// The SHA-256 the published repository signs for `path`, reached through its bin.
    fn signed(&self) -> impl Fn(&str) -> Option<[u8; 32]> + '_ {
        let files = Arc::new(StoreFiles::new(
            Arc::new(open(self.server, &self.bucket, "tuf")),
            None,
        ));
        let root = self.env.read("trusted-root.json");
        move |path| {
            let view =
                RepoView::load_from(files.clone(), &root, Utc::now(), &Limits::default()).unwrap();
            view.target(path).unwrap().map(|t| t.sha256().unwrap())
        }
    }

    /// No `timestamp.json` on the store: nothing was ever published.
    fn signed_timestamp_absent(&self) -> bool {
        open(self.server, &self.bucket, "tuf")
            .get("metadata/timestamp.json")
            .unwrap()
            .is_none()
    }

    fn index_sha(&self, path: &str) -> [u8; 32] {
        tuf_core::hash::sha256(&self.index.get(path).unwrap().unwrap().bytes)
    }

    /// This project's client trusting root v1, reading the bucket over HTTP.
    fn client(&self, dir: &std::path::Path) -> Updater<HttpFetcher> {
        let metadata = dir.join("metadata");
        std::fs::create_dir_all(&metadata).unwrap();
        std::fs::write(
            metadata.join("root.json"),
            self.env.read("trusted-root.json"),
        )
        .unwrap();
        let base = self.server.object_url(&self.bucket, "tuf");
        let mut config = UpdaterConfig::new(&format!("{base}/metadata/"), metadata);
        config.targets_base_url = Some(format!("{base}/targets/"));
        std::fs::create_dir_all(dir.join("targets")).unwrap();
        config.target_dir = Some(dir.join("targets"));
        Updater::new(config, HttpFetcher::new().unwrap()).unwrap()
    }
}

fn open(server: &S3Server, bucket: &str, prefix: &str) -> Store {
    let Location::Url(url) = Location::parse(&format!("s3://{bucket}/{prefix}")).unwrap() else {
        panic!("not a URL")
    };
    let config = StoreConfig {
        s3_endpoint: Some(server.endpoint()),
        options: server.object_store_options(bucket),
        ..StoreConfig::default()
    };
    Store::open(&url, &config).unwrap()
}

#[test]
fn publish_verify_refresh_and_status_through_a_store() {
    let s = Setup::new();
    s.tuf()
        .args(["store", "show", "repo"])
        .assert()
        .success()
        .stdout(predicate::str::contains(s.url("tuf")));
    s.tuf()
        .args(["status", "repo"])
        .assert()
        .stdout(predicate::str::contains(format!(
            "publishes to {}",
            s.url("tuf")
        )));

    s.publish()
        .assert()
        .success()
        .stderr(predicate::str::contains("published (First)"));
    // Published to the store, not to the directory.
    assert!(!s.env.path("repo/metadata/timestamp.json").exists());
    assert!(s.env.path("repo/metadata/1.targets.json").exists());
    s.verify()
        .assert()
        .success()
        .stderr(predicate::str::contains("ok: root v1, timestamp v1"));

    // A hook publish of one changed key.
    let demo = sparse_path("demo");
    s.put(
        &demo,
        &(index_line("demo", "0.1.0") + &index_line("demo", "0.2.0")),
    );
    s.publish().args(["--changed", &demo]).assert().success();
    s.verify()
        .assert()
        .success()
        .stderr(predicate::str::contains("timestamp v2"));
    assert_eq!(s.signed()(&demo), Some(s.index_sha(&demo)));

    s.tuf()
        .args([
            "refresh",
            "repo",
            "--online-key",
            "online.pem",
            "--within",
            "400d",
        ])
        .assert()
        .success();
    s.verify()
        .assert()
        .success()
        .stderr(predicate::str::contains("timestamp v3"));

    // `--store local` overrides the file: the directory has nothing published.
    s.tuf()
        .args([
            "refresh",
            "repo",
            "--online-key",
            "online.pem",
            "--store",
            "local",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nothing published yet"));
    // A bucket that does not exist: a clear error naming it, exit 1.
    s.publish()
        .args(["--store", "s3://no-such-bucket-tuf/tuf"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no-such-bucket-tuf"));
}

#[test]
fn two_tuf_publish_processes_at_once_publish_both_changes() {
    let s = Setup::new();
    s.publish().assert().success();
    let bin = assert_cmd::cargo::cargo_bin("tuf");
    for round in 0..3 {
        let mut children = Vec::new();
        for name in ["demo", "other"] {
            let path = sparse_path(name);
            s.put(
                &path,
                &(index_line(name, "0.1.0") + &index_line(name, &format!("1.{round}.0"))),
            );
            let child = std::process::Command::new(&bin)
                .current_dir(s.env.dir.path())
                .args(s.publish_args())
                .args(["--changed", &path])
                .env("AWS_ACCESS_KEY_ID", s.server.access_key_id())
                .env("AWS_SECRET_ACCESS_KEY", s.server.secret_access_key())
                .env("AWS_REGION", s.server.region())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            children.push(child);
        }
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for name in ["demo", "other"] {
            let path = sparse_path(name);
            assert_eq!(s.signed()(&path), Some(s.index_sha(&path)), "round {round}");
        }
    }
    s.verify().assert().success();
}

#[test]
fn a_publish_killed_mid_upload_leaves_a_repository_clients_update_from() {
    let s = Setup::new();
    s.publish().assert().success();
    let client_dir = tempfile::tempdir().unwrap();
    let mut client = s.client(client_dir.path());
    client.refresh(Utc::now()).unwrap();

    let demo = sparse_path("demo");
    s.put(
        &demo,
        &(index_line("demo", "0.1.0") + &index_line("demo", "0.5.0")),
    );
    // Stop after the first upload (the copy), and kill it there.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tuf"))
        .current_dir(s.env.dir.path())
        .args(s.publish_args())
        .args(["--changed", &demo])
        .env("AWS_ACCESS_KEY_ID", s.server.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", s.server.secret_access_key())
        .env("AWS_REGION", s.server.region())
        .env("TUF_TEST_PAUSE_AFTER_UPLOADS", "1:60000")
        .spawn()
        .unwrap();
    let repo_store = open(s.server, &s.bucket, "tuf");
    let copy = format!(
        "targets/{}",
        tuf_core::repo::target_copy_name(
            &tuf_core::metadata::TargetPath::parse(&demo).unwrap(),
            &s.index_sha(&demo)
        )
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while repo_store.head(&copy).unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the publish never uploaded its copy"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Killed: its intent is on the store, the old state is what clients see.
    assert_eq!(repo_store.list("state/pending").unwrap().len(), 1);
    s.verify()
        .assert()
        .success()
        .stderr(predicate::str::contains("timestamp v1"));
    client.refresh(Utc::now()).unwrap();
    let before = client.target_info(&demo, Utc::now()).unwrap().unwrap();
    assert_ne!(before.file.sha256(), Some(s.index_sha(&demo)));

    // The next publish goes through, and a client updates to it.
    s.publish().args(["--changed", &demo]).assert().success();
    s.verify().assert().success();
    client.refresh(Utc::now()).unwrap();
    let after = client.target_info(&demo, Utc::now()).unwrap().unwrap();
    assert_eq!(after.file.sha256(), Some(s.index_sha(&demo)));
    let got = std::fs::read(client.download_target(&after).unwrap()).unwrap();
    assert_eq!(
        got,
        s.index.get(&demo).unwrap().unwrap().bytes.as_ref().to_vec()
    );
}

/// `tuf store set --timestamp-max-age` is what a CDN reads on `timestamp.json`; versioned
/// metadata stays immutable; a max-age a CDN could serve past the timestamp's expiry is
/// refused as a usage error and changes nothing.
#[test]
fn the_timestamp_max_age_is_set_once_and_served_to_cdns() {
    let setup = Setup::new();
    setup
        .tuf()
        .args(["store", "set", "repo", &setup.url("tuf")])
        .args(["--s3-endpoint", &setup.server.endpoint()])
        .args(["--timestamp-max-age", "2d"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--timestamp-max-age 2d: over half the timestamp's expiry",
        ));
    setup
        .tuf()
        .args(["store", "set", "repo", &setup.url("tuf")])
        .args(["--s3-endpoint", &setup.server.endpoint()])
        .args(["--timestamp-max-age", "5m"])
        .assert()
        .success();
    setup
        .tuf()
        .args(["store", "show", "repo"])
        .assert()
        .success()
        .stdout(predicates::str::contains("max-age 300 s"));
    setup.publish().assert().success();
    let base = setup.server.object_url(&setup.bucket, "tuf");
    let cache_control = |key: &str| {
        let response = reqwest::blocking::get(format!("{base}/{key}")).unwrap();
        assert!(
            response.status().is_success(),
            "{key}: {}",
            response.status()
        );
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        cache_control("metadata/timestamp.json"),
        "public, max-age=300"
    );
    assert_eq!(
        cache_control("metadata/1.snapshot.json"),
        "public, max-age=31536000, immutable"
    );
}

/// No credentials anywhere (none in the environment, and the instance-metadata endpoint
/// object_store falls back to is a closed port here): the publish stops with exit 1, a
/// message naming the store and saying which variables to set, and nothing published.
#[test]
fn a_publish_without_credentials_says_what_to_set_and_publishes_nothing() {
    let s = Setup::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let metadata_endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut cmd = s.env.tuf();
    cmd.args(s.publish_args())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_REGION", s.server.region())
        .env("AWS_METADATA_ENDPOINT", &metadata_endpoint);
    let out = cmd.assert().code(1).get_output().stderr.clone();
    let err = String::from_utf8_lossy(&out);
    assert!(
        err.contains(&s.url("index")) || err.contains(&s.url("tuf")),
        "{err}"
    );
    assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
    assert!(
        s.signed_timestamp_absent(),
        "nothing may be published: {err}"
    );
}
