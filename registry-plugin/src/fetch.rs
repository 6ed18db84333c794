//! Bounded HTTP downloads from the upstream registry (index files, `config.json`,
//! `.crate` files). TUF metadata is fetched by `tuf-client`'s own `HttpFetcher`.
//!
//! Every download has a byte cap chosen by the caller (TUF §1.5.2 "endless data"): the
//! body is read up to the cap plus one byte, and a longer body is refused without being
//! read further. Timeouts bound a server that stalls ("slow retrieval").

use std::io::Read;
use std::time::Duration;

/// Time allowed to connect to a server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for one whole request: a 50 MiB `.crate` at a slow 1 MiB/s fits.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A blocking HTTP client for upstream files. Cheap to clone (a shared pool).
///
/// Must be created and dropped outside an async context (it owns a runtime); the proxy
/// uses it only from blocking tasks.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::blocking::Client,
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
    /// Network or protocol failure, or a status other than 200 / 404 / 410.
    #[error("{0}")]
    Http(String),
    /// The body is longer than the cap.
    #[error("body is longer than the limit of {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: u64,
    },
}

impl Fetcher {
    /// A client with this crate's timeouts; gzip is accepted (metadata compresses well).
    pub fn new() -> Result<Self, FetchError> {
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("cargo-tuf/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Http(format!("cannot build HTTP client: {e}")))?;
        Ok(Self { client })
    }

    /// GET `url`, reading at most `limit` bytes of body.
    pub fn get(&self, url: &str, limit: u64) -> Result<Fetched, FetchError> {
        let response = self
            .client
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
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge { limit });
        }
        let mut body = Vec::new();
        response
            .take(limit.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| FetchError::Http(format!("reading the body: {e}")))?;
        if u64::try_from(body.len()).unwrap_or(u64::MAX) > limit {
            return Err(FetchError::TooLarge { limit });
        }
        Ok(Fetched::Found(body))
    }
}

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
