//! A real S3-compatible server on 127.0.0.1 for the object-storage publisher's tests:
//! moto's S3 (a venv from `test-support/s3/requirements.txt`) run by
//! `test-support/s3/serve.py`, which handles one request at a time so that a
//! conditional PUT (`If-None-Match: *`, `If-Match: <etag>`) is an atomic check-and-set,
//! as it is on S3. moto keeps objects in memory; nothing is written to disk.
//!
//! [`S3Server::start`] starts one (about 0.6 s) and [`S3Server::shared`] gives the one
//! of the test binary; tests take a bucket each with [`S3Server::create_bucket`], so
//! tests sharing a server do not see each other's objects. The server goes away on
//! `Drop`, and also when the test process ends however it ends (it exits when its
//! stdin, held by this process, closes).
//!
//! The python comes from `$TUF_TEST_S3_PYTHON` (`.ci/run` makes that venv), else a venv
//! made once under `target/` (see [`crate::venv`]).

use std::collections::hash_map::RandomState;
use std::fs::{self, File};
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::venv::{workspace_target_dir, Venv};

/// The python (of a venv with `test-support/s3/requirements.txt` installed) to run the
/// server with.
pub const PYTHON_ENV: &str = "TUF_TEST_S3_PYTHON";

/// How long the server may take to start before the test fails (it takes about 0.6 s;
/// a first run that makes the venv is not counted).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// An S3-compatible server on `127.0.0.1`, stopped on drop.
#[derive(Debug)]
pub struct S3Server {
    child: Child,
    /// Held open for the server's life: its end is the server's signal to exit.
    _stdin: ChildStdin,
    /// Held open so that the server never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
    port: u16,
    /// The server's stderr (python errors, if any), kept with the test binary's temp
    /// files.
    log: PathBuf,
    started_in: Duration,
}

impl S3Server {
    /// Start a server on 127.0.0.1 with a port the OS picks; returns once it listens.
    pub fn start() -> S3Server {
        let python = Venv {
            name: "s3-server",
            requirements: &s3_dir().join("requirements.txt"),
            python_env: PYTHON_ENV,
        }
        .python();
        let started = Instant::now();
        let log = log_path();
        let log_file =
            File::create(&log).unwrap_or_else(|e| panic!("creating {}: {e}", log.display()));
        let mut child = Command::new(&python)
            .arg(s3_dir().join("serve.py"))
            .arg("127.0.0.1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", python.display()));
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            unreachable!("stdin and stdout are piped");
        };

        // serve.py prints its port once it listens; a server that dies first closes
        // stdout, one that hangs is caught by the timeout.
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            let mut line = String::new();
            let read = stdout.read_line(&mut line);
            let _ = sender.send((read.map(|_| line), stdout));
        });
        let port_line = receiver.recv_timeout(START_TIMEOUT);
        let Ok((Ok(line), stdout)) = port_line else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the S3 server did not start within {START_TIMEOUT:?}; its log:\n{}",
                fs::read_to_string(&log).unwrap_or_default()
            );
        };
        let Ok(port) = line.trim().parse::<u16>() else {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "the S3 server printed {line:?} instead of its port ({status:?}); its log:\n{}",
                fs::read_to_string(&log).unwrap_or_default()
            );
        };
        S3Server {
            child,
            _stdin: stdin,
            _stdout: stdout,
            port,
            log,
            started_in: started.elapsed(),
        }
    }

    /// The server of this test binary, started by the first caller; it exits when the
    /// test binary does. Tests share it through a bucket each ([`Self::create_bucket`]).
    pub fn shared() -> &'static S3Server {
        static SHARED: OnceLock<S3Server> = OnceLock::new();
        SHARED.get_or_init(S3Server::start)
    }

    /// `http://127.0.0.1:PORT`: the S3 endpoint (path-style requests).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The region to sign for (moto's default).
    pub fn region(&self) -> &'static str {
        "us-east-1"
    }

    /// An access key id the server accepts (moto accepts any).
    pub fn access_key_id(&self) -> &'static str {
        "tuf-test"
    }

    /// The secret for [`Self::access_key_id`].
    pub fn secret_access_key(&self) -> &'static str {
        "tuf-test-secret"
    }

    /// The process id of the server (to check it is gone after drop).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How long [`Self::start`] waited for it to listen (without making the venv).
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The server's stderr so far (python errors, if any), for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Create a new empty bucket named `{prefix}-{random}` and return its name, so that
    /// tests sharing a server do not collide. `prefix`: lowercase letters, digits and
    /// `-`, at most 40 characters (S3 bucket names are at most 63).
    ///
    /// Like a repository bucket that TUF clients update from, it has a bucket policy
    /// that lets anyone GET its objects (S3 and moto refuse anonymous reads without
    /// one); everything else needs credentials.
    pub fn create_bucket(&self, prefix: &str) -> String {
        assert!(
            !prefix.is_empty()
                && prefix.len() <= 40
                && prefix
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "bucket prefix {prefix:?}: use 1 to 40 of a-z, 0-9 and -"
        );
        let bucket = format!("{prefix}-{:016x}", unique());
        let (status, body) = self.unsigned_request("PUT", &format!("/{bucket}"), "");
        assert_eq!(
            status,
            200,
            "creating bucket {bucket}: {body}\nserver log:\n{}",
            self.log()
        );
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"AnonymousReads","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
        );
        let (status, body) = self.unsigned_request("PUT", &format!("/{bucket}?policy"), &policy);
        // S3 answers 204, moto 200.
        assert!(
            status == 200 || status == 204,
            "setting the policy of bucket {bucket}: {status} {body}\nserver log:\n{}",
            self.log()
        );
        bucket
    }

    /// Options for `object_store::parse_url_opts(&format!("s3://{bucket}"), ..)` or
    /// `AmazonS3Builder::from_env().with_config(..)` for each pair: this server,
    /// path-style requests over plain HTTP, and the conditional operations the
    /// publisher uses. `aws_conditional_put=etag` makes `PutMode::Create` send
    /// `If-None-Match: *` and `PutMode::Update` send `If-Match: <etag>` (object_store's
    /// default, stated so that a change of default cannot turn them off);
    /// `aws_copy_if_not_exists=multipart` makes `copy_if_not_exists` an
    /// `UploadPartCopy` completed with `If-None-Match: *` (it copies no attributes).
    pub fn object_store_options(&self, bucket: &str) -> Vec<(String, String)> {
        [
            ("aws_bucket", bucket.to_owned()),
            ("aws_endpoint", self.endpoint()),
            ("aws_allow_http", "true".to_owned()),
            ("aws_region", self.region().to_owned()),
            ("aws_access_key_id", self.access_key_id().to_owned()),
            ("aws_secret_access_key", self.secret_access_key().to_owned()),
            ("aws_virtual_hosted_style_request", "false".to_owned()),
            ("aws_conditional_put", "etag".to_owned()),
            ("aws_copy_if_not_exists", "multipart".to_owned()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }

    /// `http://127.0.0.1:PORT/{bucket}/{key}`: where an anonymous HTTP client (a TUF
    /// client updating from the bucket) reads an object. moto serves anonymous GETs
    /// without a bucket policy.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        format!("{}/{bucket}/{key}", self.endpoint())
    }

    /// One unsigned HTTP/1.1 request: (status, body). moto does not check signatures on
    /// bucket operations, so this is how the fixture sets buckets up without an S3
    /// client (and without an async runtime, so it works inside a `#[tokio::test]`).
    fn unsigned_request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("connecting to the S3 server: {e}"));
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let mut reply = String::new();
        stream
            .read_to_string(&mut reply)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = reply
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("{method} {path}: not an HTTP reply: {reply:?}"));
        let body = reply
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}

/// `test-support/s3/`: `serve.py` and `requirements.txt`.
fn s3_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("s3")
}

/// A fresh file for one server's stderr, under `target/tmp/`.
fn log_path() -> PathBuf {
    let dir = workspace_target_dir().join("tmp");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir.join(format!("s3-server-{:016x}.log", unique()))
}

/// A number no other call in any process is likely to return: a per-process counter
/// mixed with the process id by a randomly keyed hasher.
fn unique() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}
