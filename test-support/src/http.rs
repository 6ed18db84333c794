//! The test HTTP server: one request per connection, `Connection: close`, GET only.

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

#[derive(Debug, Default)]
struct Shared {
    /// Scripted replies by request path; they take precedence over `dir`.
    files: BTreeMap<String, Reply>,
    /// A repository directory whose `metadata/` and `targets/` are served.
    dir: Option<PathBuf>,
    requests: Vec<String>,
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

    pub fn put(&self, path: &str, reply: Reply) {
        self.shared
            .lock()
            .unwrap()
            .files
            .insert(path.to_owned(), reply);
    }

    pub fn remove(&self, path: &str) {
        self.shared.lock().unwrap().files.remove(path);
    }

    /// The request paths since the last call, with the `/metadata/` or `/targets/` prefix.
    pub fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut self.shared.lock().unwrap().requests)
    }
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
    let (scripted, dir) = {
        let mut shared = shared.lock().unwrap();
        shared.requests.push(path.clone());
        (shared.files.get(&path).cloned(), shared.dir.clone())
    };
    // The file is read outside the lock, so slow reads do not hold up other requests.
    let reply = scripted.or_else(|| {
        let file = file_of(dir.as_deref()?, &path)?;
        fs::read(file).ok().map(Reply::Body)
    });
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
