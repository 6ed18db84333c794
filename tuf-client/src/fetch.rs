//! Fetchers: where metadata and targets come from.
//!
//! A [`Fetcher`] returns at most `max_bytes` bytes of a file, and says "not found"
//! distinctly from other failures (the root chain ends at the first missing version,
//! TUF §5.3.3). Every implementation stops reading once the cap is passed: it never
//! holds more than `max_bytes + 1` bytes of a body (TUF §1.5.2, "endless data").
//!
//! [`HttpFetcher`] asks for gzip (`Accept-Encoding: gzip`) and decodes a gzipped body as
//! it reads it: the cap counts *decompressed* bytes, read from the decoding stream, so a
//! compression bomb (a small body that inflates to gigabytes) costs at most
//! `max_bytes + 1` bytes of output before it is refused. The bytes returned are the
//! decompressed ones, which the caller checks against the signed length and hashes
//! (TUF §5.5.2, §5.6.2, §5.7.3) exactly as an uncompressed body: compression changes
//! what crosses the wire, never what is verified.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The file does not exist (HTTP 404, or 403 as S3-like stores answer for a missing
    /// object, as python-tuf also treats it; a missing local file).
    #[error("{url}: not found")]
    NotFound {
        /// What was asked for.
        url: String,
    },
    /// The body is longer than the cap (counted after decompression when the server
    /// compressed it).
    #[error("{url}: more than {max_bytes} bytes")]
    TooLarge {
        /// What was asked for.
        url: String,
        /// The cap.
        max_bytes: u64,
    },
    /// Any other HTTP status than success.
    #[error("{url}: HTTP status {status}")]
    Status {
        /// What was asked for.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The connection failed, timed out, or the body could not be read.
    #[error("{url}: {reason}")]
    Transport {
        /// What was asked for.
        url: String,
        /// The cause.
        reason: String,
    },
}

impl FetchError {
    /// A stable name of the kind.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not-found",
            Self::TooLarge { .. } => "too-large",
            Self::Status { .. } => "http-status",
            Self::Transport { .. } => "transport",
        }
    }
}

/// Gets files by URL, never more than a cap.
pub trait Fetcher {
    /// The bytes at `url`; [`FetchError::TooLarge`] as soon as more than `max_bytes`
    /// arrive; [`FetchError::NotFound`] when there is no such file.
    fn fetch(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError>;
}

/// HTTP(S) with `reqwest` (blocking, rustls), asking for gzip.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    client: reqwest::blocking::Client,
}

impl HttpFetcher {
    /// Default timeouts: 10 s to connect, 60 s for a whole request (a slow-retrieval
    /// attack ends there; TUF §1.5.2).
    pub fn new() -> Result<Self, FetchError> {
        Self::with_timeouts(Duration::from_secs(10), Duration::from_secs(60))
    }

    /// Explicit connect and whole-request timeouts.
    pub fn with_timeouts(connect: Duration, total: Duration) -> Result<Self, FetchError> {
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(connect)
            .timeout(total)
            // Metadata is JSON of hex digests and index files are JSON lines: gzip makes
            // them 2 to 10 times smaller on the wire (issue #14). Safe because the body
            // is decoded as it is read, through `read_capped` (see the module docs).
            .gzip(true)
            .user_agent(concat!("tuf-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Transport {
                url: String::new(),
                reason: e.to_string(),
            })?;
        Ok(Self { client })
    }
}

impl Fetcher for HttpFetcher {
    fn fetch(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
        let transport = |e: &dyn std::fmt::Display| FetchError::Transport {
            url: url.to_owned(),
            reason: e.to_string(),
        };
        let response = self.client.get(url).send().map_err(|e| transport(&e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::FORBIDDEN {
            return Err(FetchError::NotFound {
                url: url.to_owned(),
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let too_large = || FetchError::TooLarge {
            url: url.to_owned(),
            max_bytes,
        };
        // The length of the body as it will be read: reqwest gives none for a body it
        // decodes (a compressed length says nothing of the decoded one), so a
        // compressed body is capped while it is read, below.
        if response.content_length().is_some_and(|n| n > max_bytes) {
            return Err(too_large());
        }
        // `response` reads the decoded stream: the cap is on decompressed bytes.
        read_capped(response, max_bytes).map_err(|e| match e {
            CappedError::TooLarge => too_large(),
            CappedError::Io(e) => transport(&e),
        })
    }
}

/// Files on disk: `url` is a path, or a `file://` URL.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileFetcher;

impl Fetcher for FileFetcher {
    fn fetch(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
        let path = PathBuf::from(url.strip_prefix("file://").unwrap_or(url));
        let file = std::fs::File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FetchError::NotFound {
                url: url.to_owned(),
            },
            _ => FetchError::Transport {
                url: url.to_owned(),
                reason: e.to_string(),
            },
        })?;
        read_capped(file, max_bytes).map_err(|e| match e {
            CappedError::TooLarge => FetchError::TooLarge {
                url: url.to_owned(),
                max_bytes,
            },
            CappedError::Io(e) => FetchError::Transport {
                url: url.to_owned(),
                reason: e.to_string(),
            },
        })
    }
}

pub(crate) enum CappedError {
    TooLarge,
    Io(std::io::Error),
}

/// Read all of `reader` but never more than `max_bytes + 1` bytes.
pub(crate) fn read_capped(reader: impl Read, max_bytes: u64) -> Result<Vec<u8>, CappedError> {
    let mut body = Vec::new();
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(CappedError::Io)?;
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > max_bytes {
        return Err(CappedError::TooLarge);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_capped_stops_past_the_cap() {
        assert_eq!(read_capped(&b"abc"[..], 3).ok(), Some(b"abc".to_vec()));
        assert!(matches!(
            read_capped(&b"abcd"[..], 3),
            Err(CappedError::TooLarge)
        ));
        // An endless reader: only cap + 1 bytes are ever read.
        assert!(matches!(
            read_capped(std::io::repeat(b'x'), 1024),
            Err(CappedError::TooLarge)
        ));
    }

    #[test]
    fn file_fetcher_not_found_and_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        let url = path.to_str().unwrap();
        assert_eq!(FileFetcher.fetch(url, 5).unwrap(), b"12345");
        assert_eq!(FileFetcher.fetch(url, 4).unwrap_err().code(), "too-large");
        let missing = dir.path().join("missing");
        let url = format!("file://{}", missing.display());
        assert_eq!(FileFetcher.fetch(&url, 4).unwrap_err().code(), "not-found");
    }
}
