//! The test HTTP server: one request per connection, `Connection: close`, GET only.
//!
//! It logs every request path, so a test can assert what a client fetched (and how
//! often), and can delay its answers, so a test can see requests overlap.
//!
//! HTTP compression: with [`Server::set_gzip`] it gzips a reply when the request's
//! `Accept-Encoding` lists `gzip`, as a static server or CDN configured for it does, and
//! it logs what each request accepted and how many body bytes went out
//! ([`Server::take_sent`]), so a test can count the bytes compression saved. A hostile
//! server is scripted with [`Reply::Encoded`] (any bytes labelled with any
//! `Content-Encoding`, e.g. a [`gzip`] of other bytes than the signed ones) and
//! [`Reply::GzipBomb`] (a gzip stream of zeros that does not end).

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
    /// 200 with exactly `body`, labelled `Content-Encoding: {encoding}` whatever the
    /// request accepts: a hostile or broken server (a [`gzip`] of other bytes than the
    /// file, of more bytes than it, a bomb).
    Encoded {
        /// The `Content-Encoding` value.
        encoding: String,
        /// The bytes sent, as they are.
        body: Vec<u8>,
    },
    /// 200 without a length, `Content-Encoding: gzip`, and a gzip stream of zeros that
    /// goes on until the client stops reading: a compression bomb of unbounded size
    /// (about 1000 zeros a byte; stops after 64 GiB of zeros, 64 MiB sent, so the test
    /// always ends).
    GzipBomb,
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
    /// Whether [`Reply::Body`] replies are gzipped for requests that accept gzip.
    gzip: bool,
    /// What each request accepted and what was sent, since the last
    /// [`Server::take_sent`] or [`Server::reset_counts`].
    sent: Vec<Sent>,
}

/// One answered request: what it accepted, and the body that went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The request path.
    pub path: String,
    /// The request's `Accept-Encoding` header, if it had one.
    pub accept_encoding: Option<String>,
    /// The reply's `Content-Encoding`, if it had one.
    pub content_encoding: Option<String>,
    /// Body bytes written (as sent: compressed when compressed); for a body without a
    /// length, what was written before the client stopped reading.
    pub body_bytes: u64,
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
            Some(Reply::Endless | Reply::Encoded { .. } | Reply::GzipBomb) | None => None,
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

    /// Forget the requests so far, what was sent, and the most seen at once.
    pub fn reset_counts(&self) {
        let mut shared = self.shared.lock().unwrap();
        shared.requests.clear();
        shared.sent.clear();
        shared.max_in_flight = 0;
    }

    /// From now on, gzip every [`Reply::Body`] (scripted or read from the directory)
    /// for a request whose `Accept-Encoding` lists `gzip`, with `Content-Encoding: gzip`
    /// and the compressed length, as nginx's `gzip on` or a CDN does; `false` sends
    /// bodies as they are again.
    pub fn set_gzip(&self, on: bool) {
        self.shared.lock().unwrap().gzip = on;
    }

    /// What was accepted and sent for each request answered since the last call (or
    /// [`Server::reset_counts`]), in the order the answers finished.
    ///
    /// An answer is recorded after its last byte is written, so a client can have read
    /// a whole answer before it is recorded: this waits (up to 5 s) until no request is
    /// being answered, so a test that calls it after its client returned sees them all.
    pub fn take_sent(&self) -> Vec<Sent> {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let mut shared = self.shared.lock().unwrap();
            if shared.in_flight == 0 || std::time::Instant::now() >= deadline {
                return std::mem::take(&mut shared.sent);
            }
            drop(shared);
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// What was sent for `path`, waiting (up to 20 s) for its answer to finish, e.g.
    /// until the server noticed the client stopped reading. Answers to other paths taken
    /// meanwhile are dropped, as [`Server::take_sent`] takes them.
    pub fn sent_for(&self, path: &str) -> Sent {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while std::time::Instant::now() < deadline {
            seen.extend(self.take_sent());
            if let Some(sent) = seen.iter().find(|s| s.path == path) {
                return sent.clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no answer for {path} finished: {seen:?}");
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
    // Headers (bounded): only `Accept-Encoding` is looked at.
    let mut accept_encoding = None;
    for _ in 0..100 {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {
                if let Some((name, value)) = line.split_once(':') {
                    if name.trim().eq_ignore_ascii_case("accept-encoding") {
                        accept_encoding = Some(value.trim().to_owned());
                    }
                }
            }
        }
    }
    let mut stream = reader.into_inner();
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let (scripted, dir, delay, gzip_on) = {
        let mut shared = shared.lock().unwrap();
        shared.requests.push(path.clone());
        shared.in_flight += 1;
        shared.max_in_flight = shared.max_in_flight.max(shared.in_flight);
        (
            shared.files.get(&path).cloned(),
            shared.dir.clone(),
            shared.delay,
            shared.gzip,
        )
    };
    // The delay and the file read happen outside the lock, so they do not hold up other
    // requests.
    std::thread::sleep(delay);
    let reply = scripted.or_else(|| {
        let file = file_of(dir.as_deref()?, &path)?;
        fs::read(file).ok().map(Reply::Body)
    });
    let accepts_gzip = accept_encoding.as_deref().is_some_and(lists_gzip);
    let reply = match reply {
        Some(Reply::Body(body)) if gzip_on && accepts_gzip => Some(Reply::Encoded {
            encoding: "gzip".to_owned(),
            body: gzip(&body),
        }),
        other => other,
    };
    let (content_encoding, body_bytes) = answer(&mut stream, reply);
    let mut shared = shared.lock().unwrap();
    shared.in_flight -= 1;
    shared.sent.push(Sent {
        path,
        accept_encoding,
        content_encoding,
        body_bytes,
    });
}

/// Whether an `Accept-Encoding` value lists `gzip` (with any quality but `q=0`).
fn lists_gzip(value: &str) -> bool {
    value.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        parts
            .next()
            .is_some_and(|coding| coding.eq_ignore_ascii_case("gzip"))
            && parts.all(|param| param.replace(' ', "") != "q=0")
    })
}

/// Send `reply`; its `Content-Encoding` and the body bytes written.
fn answer(stream: &mut TcpStream, reply: Option<Reply>) -> (Option<String>, u64) {
    match reply {
        None => {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            (None, 0)
        }
        Some(Reply::Body(body)) => (None, send_body(stream, "", &body)),
        Some(Reply::Encoded { encoding, body }) => {
            let header = format!("Content-Encoding: {encoding}\r\n");
            (Some(encoding), send_body(stream, &header, &body))
        }
        Some(Reply::Endless) => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = vec![b' '; 64 * 1024];
            (None, send_repeated(stream, &[], &chunk, 1024))
        }
        Some(Reply::GzipBomb) => {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n",
            );
            let (head, segment) = gzip_bomb_parts();
            (
                Some("gzip".to_owned()),
                send_repeated(stream, &head, &segment, 64 * 1024),
            )
        }
    }
}

/// A 200 with `Content-Length`, the extra header lines `headers`, and `body`; the body
/// bytes written.
fn send_body(stream: &mut TcpStream, headers: &str, body: &[u8]) -> u64 {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
        body.len()
    );
    match stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
    {
        Ok(()) => u64::try_from(body.len()).unwrap(),
        Err(_) => 0,
    }
}

/// Write `head`, then `segment` up to `times` times or until the client stops reading;
/// the bytes written.
fn send_repeated(stream: &mut TcpStream, head: &[u8], segment: &[u8], times: usize) -> u64 {
    if stream.write_all(head).is_err() {
        return 0;
    }
    let mut written = u64::try_from(head.len()).unwrap();
    for _ in 0..times {
        if stream.write_all(segment).is_err() {
            break;
        }
        written += u64::try_from(segment.len()).unwrap();
    }
    written
}

/// `bytes` gzipped (the default level, as servers use).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Zeros in one segment of [`Reply::GzipBomb`].
const BOMB_SEGMENT_ZEROS: usize = 1024 * 1024;

/// The start of a gzip stream (a gzip header and one deflate segment of
/// [`BOMB_SEGMENT_ZEROS`] zeros) and a segment that can follow it any number of times:
/// each segment ends with a full flush, which byte-aligns the output and forgets the
/// window, so the next segment compresses to the same bytes. No segment is final and no
/// trailer is ever sent: the stream never ends.
fn gzip_bomb_parts() -> (Vec<u8>, Vec<u8>) {
    let zeros = vec![0u8; BOMB_SEGMENT_ZEROS];
    let mut deflate = flate2::Compress::new(flate2::Compression::best(), false);
    let segment = |deflate: &mut flate2::Compress| {
        let mut out = Vec::with_capacity(BOMB_SEGMENT_ZEROS / 512);
        let before = deflate.total_in();
        loop {
            let consumed = usize::try_from(deflate.total_in() - before).unwrap();
            out.reserve(4096);
            deflate
                .compress_vec(&zeros[consumed..], &mut out, flate2::FlushCompress::Full)
                .unwrap();
            let consumed = usize::try_from(deflate.total_in() - before).unwrap();
            // Done when all input is in and the flush left spare room in `out`.
            if consumed == zeros.len() && out.len() < out.capacity() {
                return out;
            }
        }
    };
    // gzip header (RFC 1952): magic, deflate, no flags, no time, no extra flags, Unix.
    let mut head = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    head.extend(segment(&mut deflate));
    let repeat = segment(&mut deflate);
    (head, repeat)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn gzip_is_listed_unless_refused() {
        for yes in ["gzip", "gzip, br", "br;q=1.0, GZIP;q=0.5", "identity, gzip"] {
            assert!(lists_gzip(yes), "{yes}");
        }
        for no in ["", "identity", "br, zstd", "gzip;q=0", "x-gzip2"] {
            assert!(!lists_gzip(no), "{no}");
        }
    }

    #[test]
    fn gzip_round_trips_and_the_bomb_decodes_to_zeros() {
        let text = b"{\"signed\":{}}".repeat(100);
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gzip(&text)[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, text);

        // Head and three segments: 4 MiB of zeros from a few KiB, and the stream does
        // not end (the decoder wants more).
        let (head, segment) = gzip_bomb_parts();
        let mut stream = head.clone();
        for _ in 0..3 {
            stream.extend(&segment);
        }
        assert!(stream.len() < 16 * 1024, "{}", stream.len());
        let mut decoder = flate2::read::GzDecoder::new(&stream[..]);
        let mut zeros = vec![0xff; 4 * BOMB_SEGMENT_ZEROS];
        decoder.read_exact(&mut zeros).unwrap();
        assert!(zeros.iter().all(|&b| b == 0));
        let mut rest = Vec::new();
        assert!(decoder.read_to_end(&mut rest).is_err(), "the bomb ended");
    }

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
