//! Bounded HTTP downloads from the upstream registry (index files, `config.json`,
//! `.crate` files). TUF metadata is fetched by `tuf-client`'s own `HttpFetcher`.
//!
//! Every download has a byte cap chosen by the caller (TUF §1.5.2 "endless data"): the
//! body is read up to the cap plus one byte, and a longer body is refused without being
//! read further. Timeouts bound a server that stalls ("slow retrieval").
//!
//! Index files and `config.json` ([`Fetcher::get`]) are asked for gzipped
//! (`Accept-Encoding: gzip`): JSON lines compress several times over. A gzipped body is
//! decoded as it is read, and the cap counts the *decoded* bytes, so a compression bomb
//! is cut one byte past the cap; the decoded bytes are what the proxy checks against the
//! signed length and hashes. `.crate` files ([`Fetcher::get_crate`]) are already gzip
//! archives: they are asked for and read as they are, never decoded, so the bytes hashed
//! are the bytes the registry stored, even from a server that labels `.crate` files
//! `Content-Encoding: gzip` (a known object-storage misconfiguration that cargo, which
//! does not decode downloads, does not notice either).

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Time allowed to connect to a server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for one whole request: a 50 MiB `.crate` at a slow 1 MiB/s fits.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Blocking HTTP clients for upstream files. Cheap to clone (shared pools).
///
/// Must be created and dropped outside an async context (it owns runtimes); the proxy
/// uses it only from blocking tasks.
#[derive(Debug, Clone)]
pub struct Fetcher {
    /// Index files and `config.json`: asks for gzip and decodes it.
    index: reqwest::blocking::Client,
    /// `.crate` files: no `Accept-Encoding`, and no decoding whatever the server says.
    crates: reqwest::blocking::Client,
}

/// A download's outcome when the server answered.
#[derive(Debug)]
pub enum Fetched {
    /// 200, with the body.
    Found(Vec<u8>),
    /// 404 or 410: the server has no such file.
    NotFound,
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Network or protocol failure (a corrupt gzip stream included), or a status other
    /// than 200 / 404 / 410.
    #[error("{0}")]
    Http(String),
    /// The body (decoded, when it was gzipped) is longer than the cap.
    #[error("body is longer than the limit of {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: u64,
    },
}

impl Fetcher {
    /// Clients with this crate's timeouts.
    pub fn new() -> Result<Self, FetchError> {
        Ok(Self {
            index: client(true)?,
            crates: client(false)?,
        })
    }

    /// GET index file or `config.json` `url`, reading at most `limit` decoded bytes of
    /// body.
    pub fn get(&self, url: &str, limit: u64) -> Result<Fetched, FetchError> {
        get_capped(&self.index, url, &AtomicU64::new(limit))
    }

    /// [`Fetcher::get`] with a cap that another thread may lower while the body is read:
    /// an index file fetched before its signed length is known starts under the index
    /// file cap, and the cap drops to the signed length once the lookup found it (or to
    /// zero when the bytes are no longer wanted). It is read again before every read from
    /// the body, so at most the cap at that moment plus one byte is ever held.
    pub fn get_with_cap(&self, url: &str, cap: &AtomicU64) -> Result<Fetched, FetchError> {
        get_capped(&self.index, url, cap)
    }

    /// GET `.crate` file `url` as stored (never decoded), reading at most `limit` bytes
    /// of body.
    pub fn get_crate(&self, url: &str, limit: u64) -> Result<Fetched, FetchError> {
        get_capped(&self.crates, url, &AtomicU64::new(limit))
    }
}

/// A client with this crate's timeouts, asking for and decoding gzip when `gzip`.
fn client(gzip: bool) -> Result<reqwest::blocking::Client, FetchError> {
    reqwest::blocking::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("cargo-tuf/", env!("CARGO_PKG_VERSION")))
        .gzip(gzip)
        .build()
        .map_err(|e| FetchError::Http(format!("cannot build HTTP client: {e}")))
}

/// GET `url` with `client`, reading at most `cap` bytes of (decoded) body, where `cap`
/// is read again before every read (it may be lowered meanwhile).
fn get_capped(
    client: &reqwest::blocking::Client,
    url: &str,
    cap: &AtomicU64,
) -> Result<Fetched, FetchError> {
    let mut response = client
        .get(url)
        .send()
        .map_err(|e| FetchError::Http(error_chain(&e)))?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
        return Ok(Fetched::NotFound);
    }
    if !status.is_success() {
        return Err(FetchError::Http(format!("server answered HTTP {status}")));
    }
    // reqwest gives no length for a body it decodes: a gzipped body is capped while it
    // is read, below.
    let limit = cap.load(Ordering::Acquire);
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(FetchError::TooLarge { limit });
    }
    // `response` reads the decoded stream, so the cap is on decompressed bytes: a bomb
    // stops one byte past it.
    let mut body = Vec::new();
    let mut chunk = vec![0; READ_CHUNK];
    loop {
        let limit = cap.load(Ordering::Acquire);
        let held = u64::try_from(body.len()).unwrap_or(u64::MAX);
        if held > limit {
            return Err(FetchError::TooLarge { limit });
        }
        // One byte past the cap is enough to know the body is too long.
        let room = limit.saturating_add(1).saturating_sub(held);
        let want = usize::try_from(room).map_or(READ_CHUNK, |room| room.min(READ_CHUNK));
        let buffer = chunk.get_mut(..want).unwrap_or_default();
        let read = match response.read(buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(FetchError::Http(format!(
                    "reading the body: {}",
                    error_chain(&e)
                )))
            }
        };
        body.extend_from_slice(buffer.get(..read).unwrap_or_default());
    }
    // The cap may have been lowered after the last check.
    let limit = cap.load(Ordering::Acquire);
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > limit {
        return Err(FetchError::TooLarge { limit });
    }
    Ok(Fetched::Found(body))
}

/// Bytes read from a body at a time (decoded): the cap is checked between reads.
const READ_CHUNK: usize = 16 * 1024;

/// An error and its causes on one line (reqwest hides the useful part in `source()`).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
