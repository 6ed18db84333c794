//! The test HTTP server: one request per connection, `Connection: close`, GET only.
//!
//! It logs every request path, so a test can assert what a client fetched (and how
//! often), and can delay its answers, so a test can see requests overlap.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the server answers for a path.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with these bytes.
    Body(Vec<u8>),
    /// 200 without a length, sending bytes until the client stops reading (at most
    /// 64 MiB, so the test always ends).
    Endless,
}

impl From<Vec<u8>> for Reply {
    fn from(bytes: Vec<u8>) -> Self {
        Reply::Body(bytes)
    }
}

impl From<String> for Reply {
    fn from(text: String) -> Self {
        Reply::Body(text.into_bytes())
    }
}

#[derive(Debug, Default)]
struct Shared {
    /// Scripted replies by request path; they take precedence over `dir`.
    files: BTreeMap<String, Reply>,
    /// A repository directory whose `metadata/` and `targets/` are served.
    dir: Option<PathBuf>,
    /// Request paths since the last [`Server::take_requests`] or [`Server::reset_counts`].
    requests: Vec<String>,
    /// Requests being answered now.
    in_flight: usize,
    /// Most requests answered at once since the last [`Server::reset_counts`].
    max_in_flight: usize,
    /// How long every answer waits before it is sent.
    delay: Duration,
}

/// A file server on 127.0.0.1; stops when dropped.
#[derive(Debug)]
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    port: u16,
}

impl Server {
    /// A server answering 404 to everything until the test [`Server::put`]s replies.
    pub fn start() -> Self {
        Self::with(Shared::default())
    }

    /// A server for `/metadata/*` and `/targets/*` from the repository directory `root`,
    /// read at each request; paths with `..`, `%` or an empty segment get 404.
    pub fn serve_dir(root: &Path) -> Self {
        Self::with(Shared {
            dir: Some(root.to_path_buf()),
            ..Shared::default()
        })
    }

    fn with(shared: Shared) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Mutex::new(shared));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let shared = Arc::clone(&shared);
                        std::thread::spawn(move || handle(stream, &shared));
                    }
                }
            })
        };
        Self {
            base: format!("http://127.0.0.1:{port}"),
            shared,
            stop,
            thread: Some(thread),
            port,
        }
    }

    pub fn metadata_url(&self) -> String {
        format!("{}/metadata/", self.base)
    }

    pub fn targets_url(&self) -> String {
        format!("{}/targets/", self.base)
    }

    /// Serve `bytes` at `/metadata/{name}`.
    pub fn put_metadata(&self, name: &str, bytes: &[u8]) {
        self.put(&format!("/metadata/{name}"), Reply::Body(bytes.to_vec()));
    }

    /// The bytes put at `/metadata/{name}`; panics if there are none.
    pub fn metadata(&self, name: &str) -> Vec<u8> {
        match self
            .shared
            .lock()
            .unwrap()
            .files
            .get(&format!("/metadata/{name}"))
        {
            Some(Reply::Body(b)) => b.clone(),
            other => panic!("no metadata {name}: {other:?}"),
        }
    }

    /// Answer requests for `path` (with or without its leading `/`) with `reply`.
    pub fn put(&self, path: &str, reply: impl Into<Reply>) {
        self.shared
            .lock()
            .unwrap()
            .files
            .insert(url_path(path), reply.into());
    }

    /// The bytes put at `path` (with or without its leading `/`), if any; files served
    /// from a [`Server::serve_dir`] directory are not looked at.
    pub fn get(&self, path: &str) -> Option<Vec<u8>> {
        match self.shared.lock().unwrap().files.get(&url_path(path)) {
            Some(Reply::Body(bytes)) => Some(bytes.clone()),
            Some(Reply::Endless) | None => None,
        }
    }

    /// Stop answering `path` (with or without its leading `/`) with what was put there.
    pub fn remove(&self, path: &str) {
        self.shared.lock().unwrap().files.remove(&url_path(path));
    }

    /// The request paths since the last call (or [`Server::reset_counts`]), with the
    /// `/metadata/` or `/targets/` prefix.
    pub fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut self.shared.lock().unwrap().requests)
    }

    /// Requests for `path` (with or without its leading `/`) since the last
    /// [`Server::reset_counts`] or [`Server::take_requests`].
    pub fn count(&self, path: &str) -> u64 {
        let path = url_path(path);
        self.count_where(|requested| *requested == path)
    }

    /// Requests for paths starting with `prefix` (with or without its leading `/`; `""`
    /// counts every request) since the last [`Server::reset_counts`] or
    /// [`Server::take_requests`].
    pub fn count_prefix(&self, prefix: &str) -> u64 {
        let prefix = url_path(prefix);
        self.count_where(|requested| requested.starts_with(&prefix))
    }

    fn count_where(&self, matches: impl Fn(&String) -> bool) -> u64 {
        let shared = self.shared.lock().unwrap();
        let count = shared.requests.iter().filter(|p| matches(p)).count();
        u64::try_from(count).unwrap()
    }

    /// Forget the requests so far and the most seen at once.
    pub fn reset_counts(&self) {
        let mut shared = self.shared.lock().unwrap();
        shared.requests.clear();
        shared.max_in_flight = 0;
    }

    /// The most requests being answered at once since the last [`Server::reset_counts`].
    pub fn max_in_flight(&self) -> usize {
        self.shared.lock().unwrap().max_in_flight
    }

    /// Wait `delay` before every answer (from now on), so that concurrent requests
    /// overlap visibly in [`Server::max_in_flight`].
    pub fn set_delay(&self, delay: Duration) {
        self.shared.lock().unwrap().delay = delay;
    }
}

/// `path` as a request names it: with one leading `/`.
fn url_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The file under `root` that `url_path` names, if it is under `/metadata/` or
/// `/targets/` and has no `..`, `%` or empty segment.
fn file_of(root: &Path, url_path: &str) -> Option<PathBuf> {
    let rest = url_path.strip_prefix('/')?;
    let (top, _) = rest.split_once('/')?;
    if !matches!(top, "metadata" | "targets")
        || rest.contains('%')
        || rest
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return None;
    }
    Some(root.join(rest))
}

fn handle(stream: TcpStream, shared: &Mutex<Shared>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Skip headers (bounded).
    for _ in 0..100 {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let mut stream = reader.into_inner();
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let (scripted, dir, delay) = {
        let mut shared = shared.lock().unwrap();
        shared.requests.push(path.clone());
        shared.in_flight += 1;
        shared.max_in_flight = shared.max_in_flight.max(shared.in_flight);
        (
            shared.files.get(&path).cloned(),
            shared.dir.clone(),
            shared.delay,
        )
    };
    // The delay and the file read happen outside the lock, so they do not hold up other
    // requests.
    std::thread::sleep(delay);
    let reply = scripted.or_else(|| {
        let file = file_of(dir.as_deref()?, &path)?;
        fs::read(file).ok().map(Reply::Body)
    });
    answer(&mut stream, reply);
    shared.lock().unwrap().in_flight -= 1;
}

fn answer(stream: &mut TcpStream, reply: Option<Reply>) {
    match reply {
        None => {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
        Some(Reply::Body(body)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&body));
        }
        Some(Reply::Endless) => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..1024 {
                if stream.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_only_metadata_and_targets_without_escapes() {
        let root = Path::new("/r");
        assert_eq!(
            file_of(root, "/metadata/1.root.json"),
            Some(root.join("metadata/1.root.json"))
        );
        assert_eq!(
            file_of(root, "/targets/de/mo/demo"),
            Some(root.join("targets/de/mo/demo"))
        );
        for refused in [
            "/",
            "/policy.json",
            "/state/retired",
            "/metadata/../policy.json",
            "/metadata//x",
            "/targets/./x",
            "/metadata/%2e%2e/x",
        ] {
            assert_eq!(file_of(root, refused), None, "{refused}");
        }
    }
}
