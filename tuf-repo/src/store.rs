//! Object storage for the publisher: a synchronous facade over the `object_store` crate
//! (S3 and S3-compatible servers, Google Cloud Storage, Azure Blob Storage, `file://`).
//!
//! The publisher is synchronous (rayon for hashing and signing); `object_store` is async.
//! A [`Store`] owns a small multi-threaded tokio runtime and blocks on it, so any number
//! of rayon threads may call it at once, and batch operations ([`Store::get_many`],
//! [`Store::put_new_many`], [`Store::delete_many`]) run up to
//! [`StoreConfig::concurrency`] requests at a time on it.
//!
//! What the publish protocol on storage (issue #12, `docs/repository.md`) needs from a
//! store, and how each is had:
//! - create-only writes for versioned metadata and hash-named copies
//!   ([`Store::put_new`]: `PutMode::Create`, S3 `If-None-Match: *`);
//! - a compare-and-swap on `timestamp.json` or a lease ([`Store::put_if`]:
//!   `PutMode::Update`, S3 `If-Match`);
//! - server-side create-only copies of index files ([`Store::copy_new`]), and a way to
//!   know the copy holds the bytes that were hashed ([`Store::copy_new_checked`]);
//! - CDN headers per kind of object ([`ObjectKind`]);
//! - clear errors naming the store and key, never a credential ([`StoreErrorKind`]).
//!
//! Keys are relative to the store's prefix and `/`-separated (`metadata/timestamp.json`).

use std::fmt;
use std::future::Future;
use std::path::{Path as FsPath, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, S3ConditionalPut};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse, HttpService,
    ReqwestConnector,
};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, AttributeValue, Attributes, BackoffConfig, ClientConfigKey, ClientOptions,
    ObjectMeta, ObjectStore, PutMode, PutOptions, PutPayload, RetryConfig, UpdateVersion,
};

use crate::Error;

/// Where a repository or an index lives: a local directory or an object-store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory on this machine (a plain path, or a `file:///abs` URL): the local
    /// publisher with its lock file, atomic renames and `syncfs` durability.
    Local(PathBuf),
    /// A bucket (and prefix) on object storage.
    Url(StoreUrl),
}

impl Location {
    /// Parse what an operator gave: `s3://bucket/prefix` (also `s3a://`),
    /// `gs://bucket/prefix`, `az://container/prefix` (also `azure://`, `adl://`,
    /// `abfs[s]://container/prefix` and `abfs[s]://container@account.dfs.core.windows.net/prefix`),
    /// `file:///absolute/dir`, or a plain path.
    ///
    /// `file://` URLs become [`Location::Local`]: a directory on this machine is best
    /// published by the local publisher (lock file, atomic renames, durability), which
    /// `file://` through `object_store` cannot match (it has no compare-and-swap).
    pub fn parse(given: &str) -> Result<Self, Error> {
        match split_scheme(given) {
            None if given.is_empty() => Err(bad_location(given, "empty")),
            None => Ok(Self::Local(PathBuf::from(given))),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("file") => {
                Ok(Self::Local(parse_file_url(given, rest)?))
            }
            Some(_) => StoreUrl::parse(given).map(Self::Url),
        }
    }
}

/// The kind of object store a [`StoreUrl`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// Amazon S3 or an S3-compatible server (`s3://`).
    S3,
    /// Google Cloud Storage (`gs://`).
    Gcs,
    /// Azure Blob Storage (`az://`, `azure://`, `adl://`, `abfs[s]://`).
    Azure,
    /// A local directory through `object_store`'s `LocalFileSystem` (`file://`).
    File,
}

/// A bucket (or container, or directory) and a prefix in it, without credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoreUrl {
    scheme: Scheme,
    /// How the scheme was spelled (`s3`, `s3a`, `abfss`, ...), for `Display`.
    spelled: String,
    /// The bucket or container; for `file://`, the absolute directory.
    bucket: String,
    /// Azure `abfs[s]://container@ACCOUNT.dfs.core.windows.net`: the host.
    host: Option<String>,
    /// `""` or `a/b`: no leading or trailing `/`, no empty, `.` or `..` segments.
    prefix: String,
}

impl StoreUrl {
    /// Parse an object-store URL (the forms of [`Location::parse`]), including
    /// `file:///absolute/dir`, which [`Location::parse`] turns into a local path
    /// instead: use this to reach a directory through `object_store` (tests, an index
    /// read-only).
    pub fn parse(given: &str) -> Result<Self, Error> {
        let Some((spelled, rest)) = split_scheme(given) else {
            return Err(bad_location(
                given,
                "not a URL: use s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or file:///dir",
            ));
        };
        let spelled = spelled.to_ascii_lowercase();
        if given.contains(['?', '#']) {
            return Err(bad_location(
                given,
                "a query or fragment is not accepted: give options with --s3-endpoint and the environment",
            ));
        }
        let scheme = match spelled.as_str() {
            "s3" | "s3a" => Scheme::S3,
            "gs" => Scheme::Gcs,
            "az" | "azure" | "adl" | "abfs" | "abfss" => Scheme::Azure,
            "file" => {
                let dir = parse_file_url(given, rest)?;
                return Ok(Self {
                    scheme: Scheme::File,
                    spelled,
                    bucket: dir.to_string_lossy().into_owned(),
                    host: None,
                    prefix: String::new(),
                });
            }
            "http" | "https" => {
                return Err(bad_location(
                    given,
                    "give the bucket as s3://bucket/prefix and an S3-compatible server with --s3-endpoint",
                ))
            }
            _ => {
                return Err(bad_location(
                    given,
                    "unknown scheme: use s3://, gs://, az://, abfs://, file:/// or a path",
                ))
            }
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (bucket, host) = match authority.split_once('@') {
            // `abfs[s]://container@account.dfs.core.windows.net/path`: the user part is
            // the container, not a credential.
            Some((container, host))
                if matches!(spelled.as_str(), "abfs" | "abfss")
                    && !container.contains(':')
                    && (host.ends_with(".dfs.core.windows.net")
                        || host.ends_with(".dfs.fabric.microsoft.com")) =>
            {
                (container, Some(host.to_owned()))
            }
            Some(_) => {
                return Err(bad_location(
                    given,
                    "credentials in the URL are refused (they would end up in logs): use the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT_KEY)",
                ))
            }
            None => (authority, None),
        };
        if bucket.is_empty() {
            return Err(bad_location(given, "no bucket: use s3://bucket/prefix"));
        }
        if bucket.contains(':') {
            return Err(bad_location(
                given,
                "a port is not part of a bucket name: give the server with --s3-endpoint",
            ));
        }
        if !bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b))
            || bucket.len() > 222
        {
            return Err(bad_location(
                given,
                "a bucket name is lowercase letters, digits, '-', '.' and '_'",
            ));
        }
        let prefix = normalise_prefix(given, path)?;
        Ok(Self {
            scheme,
            spelled,
            bucket: bucket.to_owned(),
            host,
            prefix,
        })
    }

    /// The kind of store.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The bucket or container (for `file://`, the directory).
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The prefix inside the bucket, `""` or `a/b` (no leading or trailing `/`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scheme == Scheme::File {
            return write!(f, "file://{}", self.bucket);
        }
        write!(f, "{}://{}", self.spelled, self.bucket)?;
        if let Some(host) = &self.host {
            write!(f, "@{host}")?;
        }
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix)?;
        }
        Ok(())
    }
}

/// How a [`Store`] is reached and how hard it tries.
#[derive(Clone)]
pub struct StoreConfig {
    /// An S3-compatible server (`--s3-endpoint`, e.g. `http://127.0.0.1:9000`): plain
    /// HTTP is then allowed, and requests are path-style (`ENDPOINT/bucket/key`).
    pub s3_endpoint: Option<String>,
    /// Extra `object_store` configuration keys (`aws_access_key_id`,
    /// `google_service_account`, `azure_storage_account_key`, `timeout`, ...); they
    /// override the environment. Values are never printed.
    pub options: Vec<(String, String)>,
    /// Requests in flight at once in a batch operation.
    pub concurrency: usize,
    /// `Cache-Control: max-age` of `timestamp.json`: how stale a CDN may serve it, so a
    /// client sees a publish within this time.
    pub timestamp_max_age: Duration,
    /// The largest object [`Store::get`] reads: a hostile or broken store cannot make
    /// the publisher allocate without bound.
    pub max_object_bytes: u64,
    /// Retries of a failed request (5xx, timeouts, connection errors), with backoff.
    pub max_retries: usize,
    /// No retry starts after this long since the first attempt.
    pub retry_timeout: Duration,
    /// One request's time limit (connect to last body byte).
    pub request_timeout: Duration,
    /// Time limit to open a connection.
    pub connect_timeout: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            s3_endpoint: None,
            options: Vec::new(),
            // S3 serves thousands of requests per second per prefix; 32 in flight keeps
            // a publish of thousands of bins network-bound without a connection storm.
            concurrency: 32,
            // A client sees a publish within a minute through a CDN (issue #12 item 4).
            timestamp_max_age: Duration::from_secs(60),
            // 64 MiB: the largest object a publisher reads is snapshot metadata (185 KB
            // at 4096 bins) or an index file (capped by `Limits::max_target_bytes`).
            max_object_bytes: 64 << 20,
            // object_store's default is 10 retries within 3 minutes; a publish that
            // cannot reach its store should say so within about a minute.
            max_retries: 5,
            retry_timeout: Duration::from_secs(60),
            // Objects are small (metadata, index files); 30 s is generous on any link.
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Option values may be secrets (`aws_secret_access_key`): print the keys only.
        let option_keys: Vec<&str> = self.options.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("StoreConfig")
            .field("s3_endpoint", &self.s3_endpoint)
            .field("option_keys", &option_keys)
            .field("concurrency", &self.concurrency)
            .field("timestamp_max_age", &self.timestamp_max_age)
            .field("max_object_bytes", &self.max_object_bytes)
            .field("max_retries", &self.max_retries)
            .field("retry_timeout", &self.retry_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// What an object is to a CDN and a client: decides its `Cache-Control` and
/// `Content-Type` (issue #12 item 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectKind {
    /// Never changes once written: versioned metadata (`N.role.json`) and hash-named
    /// target copies. `Cache-Control: public, max-age=31536000, immutable`.
    Immutable,
    /// `timestamp.json`: `Cache-Control: public, max-age=<timestamp_max_age>`.
    Timestamp,
    /// Publisher state (manifest, leases): never served. `Cache-Control: no-store`.
    State,
    /// A mutable index file (the registry's sparse index itself): the same short
    /// max-age as the timestamp.
    Index,
}

/// A whole object read by [`Store::get`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Its bytes (at most [`StoreConfig::max_object_bytes`]).
    pub bytes: Bytes,
    /// The token [`Store::put_if`] conditions on: the ETag (S3, Azure, `file://`), the
    /// generation (GCS).
    pub etag: Option<String>,
    /// Its size in bytes.
    pub size: u64,
}

/// An object's metadata, from [`Store::head`] or [`Store::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Its key, relative to the store's prefix.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// As [`Object::etag`].
    pub etag: Option<String>,
    /// When it was last written.
    pub last_modified: DateTime<Utc>,
}

/// The outcome of a create-only write or copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// The object was created by this call.
    Created {
        /// Its new token (as [`Object::etag`]), when the store said.
        etag: Option<String>,
    },
    /// An object was already there under that key; it was left as it was.
    Exists,
}

/// The outcome of a compare-and-swap ([`Store::put_if`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CasOutcome {
    /// The object was replaced (or created); this is its new token.
    Swapped {
        /// The new token (as [`Object::etag`]), when the store said.
        etag: Option<String>,
    },
    /// The object was not what was expected (changed, created, or deleted meanwhile),
    /// or a concurrent write was in flight: reload and retry.
    Conflict,
}

/// Requests made by a [`Store`], by kind. On S3, GCS and Azure these are HTTP requests
/// as sent (retries and pages included); on `file://`, operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// GET of an object.
    pub get: u64,
    /// HEAD of an object.
    pub head: u64,
    /// A page of a listing.
    pub list: u64,
    /// PUT of a body (a whole object or a multipart part).
    pub put: u64,
    /// A server-side copy (CopyObject, UploadPartCopy, a hard link on `file://`).
    pub copy: u64,
    /// DELETE (one object, or one S3 batch).
    pub delete: u64,
    /// Anything else (multipart create and complete, credential fetches).
    pub other: u64,
}

impl RequestCounts {
    /// All requests.
    pub fn total(&self) -> u64 {
        self.get + self.head + self.list + self.put + self.copy + self.delete + self.other
    }
}

/// What went wrong with a store request, for callers that react to it; the advice in
/// [`Error::Store`]'s message follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The bucket or container (or `file://` directory) does not exist.
    BucketNotFound,
    /// The object a copy was to read does not exist.
    ObjectNotFound,
    /// No credentials, or the store refused them (wrong secret, expired token).
    Unauthenticated,
    /// The credentials are valid but lack permission for this operation.
    PermissionDenied,
    /// The store cannot do this operation (e.g. compare-and-swap on `file://`).
    Unsupported,
    /// The store could not be reached (connection refused, DNS, timeouts), after
    /// retries.
    Unreachable,
    /// An object is larger than [`StoreConfig::max_object_bytes`].
    TooLarge,
    /// A key is not a relative `/`-separated path without `.`, `..` or empty segments.
    BadKey,
    /// An option key or value was not understood.
    BadConfig,
    /// A server-side copy does not hold the bytes of the source that was hashed (the
    /// source changed between hashing and copying).
    CopyMismatch,
    /// Anything else the store answered.
    Other,
}

impl StoreErrorKind {
    /// A stable, kebab-case name (the `code()` of [`Error::Store`]).
    pub fn code(self) -> &'static str {
        match self {
            Self::BucketNotFound => "store-bucket-not-found",
            Self::ObjectNotFound => "store-object-not-found",
            Self::Unauthenticated => "store-unauthenticated",
            Self::PermissionDenied => "store-permission-denied",
            Self::Unsupported => "store-unsupported",
            Self::Unreachable => "store-unreachable",
            Self::TooLarge => "store-too-large",
            Self::BadKey => "store-bad-key",
            Self::BadConfig => "store-bad-config",
            Self::CopyMismatch => "store-copy-mismatch",
            Self::Other => "store",
        }
    }

    /// What the operator should do, for the error message.
    pub fn advice(self, url: &str) -> String {
        let s3 = url.starts_with("s3");
        match self {
            Self::BucketNotFound => format!(
                "the bucket of {url} does not exist{}: create it, or check the URL",
                if s3 { " (at this endpoint; check --s3-endpoint)" } else { "" }
            ),
            Self::ObjectNotFound => "the object to copy does not exist".to_owned(),
            Self::Unauthenticated => format!(
                "no credentials, or the store refused them: {}",
                credential_hint(url)
            ),
            Self::PermissionDenied => format!(
                "access denied: the credentials lack permission for this on {url} (they need read, write, list and delete on the prefix); {}",
                credential_hint(url)
            ),
            Self::Unsupported => "the store does not support this operation".to_owned(),
            Self::Unreachable => format!(
                "cannot reach the store for {url} (after retries): check the endpoint{} and the network",
                if s3 { " (--s3-endpoint, AWS_ENDPOINT_URL)" } else { "" }
            ),
            Self::TooLarge => "the object is larger than the publisher reads (max_object_bytes)".to_owned(),
            Self::BadKey => "not a relative '/'-separated key without '.', '..' or empty segments".to_owned(),
            Self::BadConfig => "an option was not understood".to_owned(),
            Self::CopyMismatch => "the copy does not hold the bytes that were hashed (the source changed meanwhile); it was removed, publish again".to_owned(),
            Self::Other => "the store failed".to_owned(),
        }
    }
}

/// An object store with a prefix, used synchronously.
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    url: StoreUrl,
    /// The URL, plus the endpoint when one was set: for messages (no credentials).
    described: String,
    /// The key prefix inside `inner` (`url.prefix`, or the directory for `file://`).
    prefix: String,
    backend: Backend,
    runtime: tokio::runtime::Runtime,
    config: StoreConfig,
    counts: Arc<Counters>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.described)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Which store, for [`Store::same_store`] and the per-backend rules.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Backend {
    S3 {
        bucket: String,
        endpoint: Option<String>,
        /// `aws_copy_if_not_exists=multipart`: copies are UploadPartCopy completed
        /// with `If-None-Match: *`, so a copy's ETag is the multipart form.
        multipart_copy: bool,
    },
    Gcs {
        bucket: String,
    },
    Azure {
        container: String,
        account: Option<String>,
    },
    File,
}

impl Store {
    /// Connect to the store `url` names (no request is made yet). Credentials and
    /// region come from the environment (`AWS_*`, `GOOGLE_*`, `AZURE_*`, as
    /// `object_store`'s `from_env` reads them); [`StoreConfig::options`] override them.
    ///
    /// On S3, create-only and compare-and-swap writes use `If-None-Match` and
    /// `If-Match` (`aws_conditional_put=etag`), and create-only copies are a multipart
    /// UploadPartCopy completed with `If-None-Match: *` (`aws_copy_if_not_exists=
    /// multipart`), which S3 and the S3-compatible servers with conditional writes
    /// support; an option or `AWS_COPY_IF_NOT_EXISTS` can choose another mode (e.g.
    /// `header: If-None-Match: *` where CopyObject honours it).
    pub fn open(url: &StoreUrl, config: &StoreConfig) -> Result<Self, Error> {
        let counts = Arc::new(Counters::default());
        let described = match (&config.s3_endpoint, url.scheme) {
            (Some(endpoint), Scheme::S3) => format!("{url} at {endpoint}"),
            _ => url.to_string(),
        };
        let fail = |kind, source: Option<object_store::Error>| Error::Store {
            url: described.clone(),
            key: None,
            op: "open",
            kind,
            source: source.map(|e| Box::new(e) as _),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            // The work is waiting on the network; two threads drive hundreds of
            // requests, and the CPU stays with rayon's hashing and signing.
            .worker_threads(2)
            .thread_name("tuf-store")
            .enable_all()
            .build()
            .map_err(|source| Error::Io {
                op: "start the object-store runtime for",
                path: PathBuf::from(url.to_string()),
                source,
            })?;
        let connector = CountingConnector {
            counts: counts.clone(),
        };
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: config.max_retries,
            retry_timeout: config.retry_timeout,
        };
        let timeouts = [
            (ClientConfigKey::Timeout, config.request_timeout),
            (ClientConfigKey::ConnectTimeout, config.connect_timeout),
        ];
        let bad_option = |key: &str| Error::Store {
            url: described.clone(),
            key: None,
            op: "open",
            kind: StoreErrorKind::BadConfig,
            source: Some(format!("unknown option {key:?} for {url}").into()),
        };
        let (inner, prefix, backend): (Arc<dyn ObjectStore>, String, Backend) = match url.scheme {
            Scheme::S3 => {
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(&url.bucket)
                    .with_http_connector(connector)
                    .with_retry(retry)
                    .with_conditional_put(S3ConditionalPut::ETagMatch);
                for (key, value) in timeouts {
                    builder =
                        builder.with_config(AmazonS3ConfigKey::Client(key), humantime_secs(value));
                }
                if builder
                    .get_config_value(&AmazonS3ConfigKey::CopyIfNotExists)
                    .is_none()
                {
                    builder = builder.with_config(AmazonS3ConfigKey::CopyIfNotExists, "multipart");
                }
                if let Some(endpoint) = &config.s3_endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(true)
                        .with_virtual_hosted_style_request(false);
                }
                for (key, value) in &config.options {
                    let key = AmazonS3ConfigKey::from_str(key).map_err(|_| bad_option(key))?;
                    builder = builder.with_config(key, value);
                }
                let multipart_copy = builder
                    .get_config_value(&AmazonS3ConfigKey::CopyIfNotExists)
                    .is_some_and(|mode| mode.trim() == "multipart");
                let endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
                let store = builder
                    .build()
                    .map_err(|e| fail(StoreErrorKind::BadConfig, Some(e)))?;
                (
                    Arc::new(store),
                    url.prefix.clone(),
                    Backend::S3 {
                        bucket: url.bucket.clone(),
                        endpoint,
                        multipart_copy,
                    },
                )
            }
            Scheme::Gcs => {
                let mut builder = GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(&url.bucket)
                    .with_http_connector(connector)
                    .with_retry(retry);
                for (key, value) in timeouts {
                    builder =
                        builder.with_config(GoogleConfigKey::Client(key), humantime_secs(value));
                }
                for (key, value) in &config.options {
                    let key = GoogleConfigKey::from_str(key).map_err(|_| bad_option(key))?;
                    builder = builder.with_config(key, value);
                }
                let store = builder
                    .build()
                    .map_err(|e| fail(StoreErrorKind::BadConfig, Some(e)))?;
                (
                    Arc::new(store),
                    url.prefix.clone(),
                    Backend::Gcs {
                        bucket: url.bucket.clone(),
                    },
                )
            }
            Scheme::Azure => {
                let mut builder = MicrosoftAzureBuilder::from_env()
                    .with_container_name(&url.bucket)
                    .with_http_connector(connector)
                    .with_retry(retry);
                for (key, value) in timeouts {
                    builder =
                        builder.with_config(AzureConfigKey::Client(key), humantime_secs(value));
                }
                let account = url
                    .host
                    .as_deref()
                    .and_then(|host| host.split('.').next())
                    .map(str::to_owned);
                if let Some(account) = &account {
                    builder = builder.with_account(account);
                }
                for (key, value) in &config.options {
                    let key = AzureConfigKey::from_str(key).map_err(|_| bad_option(key))?;
                    builder = builder.with_config(key, value);
                }
                let store = builder
                    .build()
                    .map_err(|e| fail(StoreErrorKind::BadConfig, Some(e)))?;
                (
                    Arc::new(store),
                    url.prefix.clone(),
                    Backend::Azure {
                        container: url.bucket.clone(),
                        account,
                    },
                )
            }
            Scheme::File => {
                if let Some((key, _)) = config.options.first() {
                    return Err(bad_option(key));
                }
                if !FsPath::new(&url.bucket).is_dir() {
                    return Err(fail(StoreErrorKind::BucketNotFound, None));
                }
                // One root for every file:// store, so copies between two of them are
                // hard links (`same_store`); keys are the absolute path without its `/`.
                let prefix = url.bucket.trim_matches('/').to_owned();
                (Arc::new(LocalFileSystem::new()), prefix, Backend::File)
            }
        };
        Ok(Self {
            inner,
            url: url.clone(),
            described,
            prefix,
            backend,
            runtime,
            config: config.clone(),
            counts,
        })
    }

    /// The URL this store was opened with.
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// Same bucket (or container, or local file system) and endpoint as `other`, so a
    /// copy between them can be server-side.
    pub fn same_store(&self, other: &Store) -> bool {
        self.backend == other.backend
    }

    /// Read a whole object; `None` if there is none under `key`.
    pub fn get(&self, key: &str) -> Result<Option<Object>, Error> {
        self.block_on("get", Some(key), self.get_one(key))?
    }

    /// Read many objects, up to [`StoreConfig::concurrency`] at a time; the answers are
    /// in the order of `keys`.
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Object>>, Error> {
        self.block_on("get", None, async {
            stream::iter(keys)
                .map(|key| self.get_one(key))
                .buffered(self.concurrency())
                .try_collect()
                .await
        })?
    }

    /// An object's metadata; `None` if there is none under `key`.
    ///
    /// On S3 a HEAD of a missing bucket is a bare 404 like a missing key, so this
    /// answers `None` there; [`Store::get`], [`Store::list`] and writes tell a missing
    /// bucket apart.
    pub fn head(&self, key: &str) -> Result<Option<Meta>, Error> {
        self.block_on("head", Some(key), self.head_one(key))?
    }

    /// Every object under `prefix` (a key prefix ending at a `/` boundary: `metadata`
    /// lists `metadata/…`, not `metadata2`), recursively; `""` lists the whole store.
    /// Keys are relative to the store's prefix.
    pub fn list(&self, prefix: &str) -> Result<Vec<Meta>, Error> {
        let prefix = prefix.trim_end_matches('/');
        let path = if prefix.is_empty() {
            self.root_path()
        } else {
            Some(self.path("list", prefix)?)
        };
        self.count_local(Kind::List);
        self.block_on("list", Some(prefix), async {
            let metas: Vec<ObjectMeta> = self
                .inner
                .list(path.as_ref())
                .try_collect()
                .await
                .map_err(|e| self.error("list", Some(prefix), e, Missing::Bucket))?;
            Ok(metas
                .into_iter()
                .filter_map(|meta| self.meta(meta))
                .collect())
        })?
    }

    /// Create `key` only if no object is there (S3 `If-None-Match: *`): `Created`, or
    /// `Exists` when one is, which is left unchanged. Never overwrites.
    pub fn put_new(&self, key: &str, bytes: Bytes, kind: ObjectKind) -> Result<PutOutcome, Error> {
        self.block_on("put", Some(key), self.put_new_one(key, bytes, kind))?
    }

    /// [`Store::put_new`] of many objects, up to [`StoreConfig::concurrency`] at a
    /// time; the outcomes are in the order of `items`. The first error ends the batch
    /// (objects already created stay: they are create-only and harmless).
    pub fn put_new_many(
        &self,
        items: Vec<(String, Bytes, ObjectKind)>,
    ) -> Result<Vec<PutOutcome>, Error> {
        self.block_on("put", None, async {
            stream::iter(items)
                .map(|(key, bytes, kind)| async move { self.put_new_one(&key, bytes, kind).await })
                .buffered(self.concurrency())
                .try_collect()
                .await
        })?
    }

    /// Compare-and-swap: replace `key` only if its current token is `expected`
    /// (S3 `If-Match`), or create it only if absent when `expected` is `None`.
    /// `Swapped` with the new token, or `Conflict` (reload and retry).
    ///
    /// Refused on `file://` ([`StoreErrorKind::Unsupported`]): `object_store` has no
    /// compare-and-swap there; publish to the directory as a local path, which the
    /// local publisher serialises with its lock file.
    pub fn put_if(
        &self,
        key: &str,
        bytes: Bytes,
        expected: Option<&str>,
        kind: ObjectKind,
    ) -> Result<CasOutcome, Error> {
        if self.backend == Backend::File {
            return Err(Error::Store {
                url: self.described.clone(),
                key: Some(key.to_owned()),
                op: "compare-and-swap",
                kind: StoreErrorKind::Unsupported,
                source: Some(
                    "file:// has no compare-and-swap: give the repository as a local path (the local publisher serialises publishes with its lock file)"
                        .into(),
                ),
            });
        }
        let path = self.path("put", key)?;
        let mode = match expected {
            None => PutMode::Create,
            // GCS conditions on the generation, the others on the ETag; `etag` holds
            // whichever this store uses (see `Object::etag`).
            Some(token) if matches!(self.backend, Backend::Gcs { .. }) => {
                PutMode::Update(UpdateVersion {
                    e_tag: None,
                    version: Some(token.to_owned()),
                })
            }
            Some(token) => PutMode::Update(UpdateVersion {
                e_tag: Some(token.to_owned()),
                version: None,
            }),
        };
        let opts = PutOptions {
            mode,
            attributes: self.attributes(key, kind),
            ..PutOptions::default()
        };
        self.block_on("put", Some(key), async {
            match self
                .inner
                .put_opts(&path, PutPayload::from(bytes), opts)
                .await
            {
                Ok(result) => Ok(CasOutcome::Swapped {
                    etag: self.token(result.e_tag, result.version),
                }),
                // 412 (changed), 409 (S3 ConditionalRequestConflict: a concurrent write
                // in flight, retried by object_store and still conflicting), or "exists"
                // for a create: all are a lost race.
                Err(
                    object_store::Error::Precondition { .. }
                    | object_store::Error::AlreadyExists { .. },
                ) => Ok(CasOutcome::Conflict),
                Err(e @ object_store::Error::NotFound { .. }) if !says_no_bucket(&e) => {
                    Ok(CasOutcome::Conflict)
                }
                Err(e) => Err(self.error("put", Some(key), e, Missing::Bucket)),
            }
        })?
    }

    /// Write `key` whatever is there (publisher state that is safe to overwrite).
    pub fn put(&self, key: &str, bytes: Bytes, kind: ObjectKind) -> Result<(), Error> {
        let path = self.path("put", key)?;
        self.count_local(Kind::Put);
        let opts = PutOptions {
            attributes: self.attributes(key, kind),
            ..PutOptions::default()
        };
        self.block_on("put", Some(key), async {
            self.inner
                .put_opts(&path, PutPayload::from(bytes), opts)
                .await
                .map(|_| ())
                .map_err(|e| self.error("put", Some(key), e, Missing::Bucket))
        })?
    }

    /// Server-side copy of `from` (a key in `source`, which must be
    /// [`Store::same_store`]) to `to` in this store, create-only: `Created` with the
    /// copy's token, or `Exists` (left unchanged).
    ///
    /// `kind` sets the copy's headers on `file://` (none there) and where the copy
    /// can carry them; S3's create-only multipart copy carries no headers (an
    /// `object_store` limit), so a CDN in front should give `targets/` its cache
    /// policy by path. Use [`Store::copy_new_checked`] to know the copy holds the
    /// bytes that were hashed.
    pub fn copy_new(
        &self,
        source: &Store,
        from: &str,
        to: &str,
        kind: ObjectKind,
    ) -> Result<PutOutcome, Error> {
        let _ = kind;
        self.block_on("copy", Some(to), self.copy_new_one(source, from, to))?
    }

    /// [`Store::copy_new`], then a check that the copy holds the bytes of `from` as
    /// they were when the caller read them with token `source_etag`: if the source
    /// changed between hashing and copying, a hash-named copy would hold other bytes
    /// under that hash. A copy that fails the check is deleted and
    /// [`StoreErrorKind::CopyMismatch`] returned; an `Exists` is not checked (the
    /// caller that created it did).
    ///
    /// The check per store: S3 compares the copy's ETag with the one the source's
    /// ETag implies (equal for CopyObject; `md5(md5)-1` for a multipart copy, when the
    /// source is a single-part object whose ETag is its MD5); GCS and Azure check the
    /// source's generation/ETag is unchanged after the copy (both change on every
    /// write, so unchanged means the copy read those bytes); `file://` compares ETags
    /// (a hard link has the source's inode, size and mtime).
    pub fn copy_new_checked(
        &self,
        source: &Store,
        from: &str,
        source_etag: &str,
        to: &str,
        kind: ObjectKind,
    ) -> Result<PutOutcome, Error> {
        let _ = kind;
        self.block_on("copy", Some(to), async {
            let outcome = self.copy_new_one(source, from, to).await?;
            let PutOutcome::Created { etag } = &outcome else {
                return Ok(outcome);
            };
            let holds = match &self.backend {
                Backend::S3 { multipart_copy, .. } => etag
                    .as_deref()
                    .is_some_and(|copy| copy_etag_matches(source_etag, copy, *multipart_copy)),
                Backend::File => etag
                    .as_deref()
                    .is_some_and(|copy| unquote(copy) == unquote(source_etag)),
                Backend::Gcs { .. } | Backend::Azure { .. } => source
                    .head_one(from)
                    .await?
                    .and_then(|meta| meta.etag)
                    .is_some_and(|now| unquote(&now) == unquote(source_etag)),
            };
            if holds {
                return Ok(outcome);
            }
            self.delete_one(to).await?;
            Err(Error::Store {
                url: self.described.clone(),
                key: Some(to.to_owned()),
                op: "copy",
                kind: StoreErrorKind::CopyMismatch,
                source: Some(format!("from {from} with ETag {source_etag}").into()),
            })
        })?
    }

    /// Delete `key`: `true` if it was there, `false` if already gone.
    pub fn delete(&self, key: &str) -> Result<bool, Error> {
        self.block_on("delete", Some(key), self.delete_one(key))?
    }

    /// Delete many keys, up to [`StoreConfig::concurrency`] at a time; how many were
    /// there.
    pub fn delete_many(&self, keys: Vec<String>) -> Result<usize, Error> {
        self.block_on("delete", None, async {
            let deleted: Vec<bool> = stream::iter(&keys)
                .map(|key| self.delete_one(key))
                .buffered(self.concurrency())
                .try_collect()
                .await?;
            Ok(deleted.into_iter().filter(|&was| was).count())
        })?
    }

    /// Requests made so far, by kind (for the benchmark and tests).
    pub fn requests(&self) -> RequestCounts {
        self.counts.snapshot()
    }

    // --- helpers -----------------------------------------------------------------

    async fn get_one(&self, key: &str) -> Result<Option<Object>, Error> {
        let path = self.path("get", key)?;
        self.count_local(Kind::Get);
        let result = match self.inner.get(&path).await {
            Ok(result) => result,
            Err(e @ object_store::Error::NotFound { .. }) if !says_no_bucket(&e) => {
                return Ok(None)
            }
            Err(e) => return Err(self.error("get", Some(key), e, Missing::Bucket)),
        };
        let max = self.config.max_object_bytes;
        let too_large = |size: u64| Error::Store {
            url: self.described.clone(),
            key: Some(key.to_owned()),
            op: "get",
            kind: StoreErrorKind::TooLarge,
            source: Some(format!("{size} bytes or more, over the limit of {max}").into()),
        };
        if result.meta.size > max {
            return Err(too_large(result.meta.size));
        }
        let etag = self.token(result.meta.e_tag.clone(), result.meta.version.clone());
        let mut body = Vec::with_capacity(usize::try_from(result.meta.size).unwrap_or(0));
        let mut chunks = result.into_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| self.error("get", Some(key), e, Missing::Bucket))?;
            // The length the store announced is not trusted: count what arrives.
            let size = u64::try_from(body.len().saturating_add(chunk.len())).unwrap_or(u64::MAX);
            if size > max {
                return Err(too_large(size));
            }
            body.extend_from_slice(&chunk);
        }
        let size = u64::try_from(body.len()).unwrap_or(u64::MAX);
        Ok(Some(Object {
            bytes: Bytes::from(body),
            etag,
            size,
        }))
    }

    async fn head_one(&self, key: &str) -> Result<Option<Meta>, Error> {
        let path = self.path("head", key)?;
        self.count_local(Kind::Head);
        match self.inner.head(&path).await {
            Ok(meta) => Ok(self.meta(meta)),
            Err(e @ object_store::Error::NotFound { .. }) if !says_no_bucket(&e) => Ok(None),
            Err(e) => Err(self.error("head", Some(key), e, Missing::Bucket)),
        }
    }

    async fn put_new_one(
        &self,
        key: &str,
        bytes: Bytes,
        kind: ObjectKind,
    ) -> Result<PutOutcome, Error> {
        let path = self.path("put", key)?;
        self.count_local(Kind::Put);
        let opts = PutOptions {
            mode: PutMode::Create,
            attributes: self.attributes(key, kind),
            ..PutOptions::default()
        };
        match self
            .inner
            .put_opts(&path, PutPayload::from(bytes), opts)
            .await
        {
            Ok(result) => Ok(PutOutcome::Created {
                etag: self.token(result.e_tag, result.version),
            }),
            // Also S3's 409 ConditionalRequestConflict (a concurrent create of the key
            // in flight), which object_store reports the same way: the other writer
            // creates it.
            Err(object_store::Error::AlreadyExists { .. }) => Ok(PutOutcome::Exists),
            Err(e) => Err(self.error("put", Some(key), e, Missing::Bucket)),
        }
    }

    async fn copy_new_one(
        &self,
        source: &Store,
        from: &str,
        to: &str,
    ) -> Result<PutOutcome, Error> {
        if !self.same_store(source) {
            return Err(Error::Store {
                url: self.described.clone(),
                key: Some(to.to_owned()),
                op: "copy",
                kind: StoreErrorKind::Unsupported,
                source: Some(
                    format!(
                        "a server-side copy needs the same bucket; {} is elsewhere",
                        source.described
                    )
                    .into(),
                ),
            });
        }
        let from_path = source.path("copy", from)?;
        let to_path = self.path("copy", to)?;
        self.count_local(Kind::Copy);
        match self.inner.copy_if_not_exists(&from_path, &to_path).await {
            Ok(()) => {}
            Err(object_store::Error::AlreadyExists { .. }) => return Ok(PutOutcome::Exists),
            Err(e) => return Err(self.error("copy", Some(from), e, Missing::Object)),
        }
        // object_store's copy answers no ETag: one HEAD of the new object.
        let etag = self.head_one(to).await?.and_then(|meta| meta.etag);
        Ok(PutOutcome::Created { etag })
    }

    async fn delete_one(&self, key: &str) -> Result<bool, Error> {
        let path = self.path("delete", key)?;
        // S3 answers 204 whether or not the key was there; a HEAD first tells which
        // (a delete racing another is harmless: both end with the key gone).
        let existed = self.head_one(key).await?.is_some();
        if !existed {
            return Ok(false);
        }
        self.count_local(Kind::Delete);
        match self.inner.delete(&path).await {
            Ok(()) => Ok(true),
            Err(e @ object_store::Error::NotFound { .. }) if !says_no_bucket(&e) => Ok(false),
            Err(e) => Err(self.error("delete", Some(key), e, Missing::Bucket)),
        }
    }

    fn concurrency(&self) -> usize {
        self.config.concurrency.max(1)
    }

    /// Run `future` on the store's runtime, from a synchronous caller.
    fn block_on<F: Future>(
        &self,
        op: &'static str,
        key: Option<&str>,
        future: F,
    ) -> Result<F::Output, Error> {
        // Blocking inside an async runtime would panic (or deadlock): refuse instead.
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::Store {
                url: self.described.clone(),
                key: key.map(str::to_owned),
                op,
                kind: StoreErrorKind::Unsupported,
                source: Some(
                    "the store is synchronous: call it from a thread outside any async runtime (e.g. tokio::task::spawn_blocking)"
                        .into(),
                ),
            });
        }
        Ok(self.runtime.block_on(future))
    }

    /// The full object path of `key`.
    fn path(&self, op: &'static str, key: &str) -> Result<ObjectPath, Error> {
        let valid = !key.is_empty()
            && key
                .split('/')
                .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
        let full = if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        };
        match ObjectPath::parse(&full) {
            Ok(path) if valid => Ok(path),
            result => Err(Error::Store {
                url: self.described.clone(),
                key: Some(key.to_owned()),
                op,
                kind: StoreErrorKind::BadKey,
                source: result.err().map(|e| Box::new(e) as _),
            }),
        }
    }

    fn root_path(&self) -> Option<ObjectPath> {
        (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()))
    }

    /// `meta` with its key made relative to the prefix (`None` if it is outside it).
    fn meta(&self, meta: ObjectMeta) -> Option<Meta> {
        let location = meta.location.as_ref();
        let key = if self.prefix.is_empty() {
            location
        } else {
            location
                .strip_prefix(self.prefix.as_str())?
                .strip_prefix('/')?
        };
        Some(Meta {
            key: key.to_owned(),
            size: meta.size,
            etag: self.token(meta.e_tag, meta.version),
            last_modified: meta.last_modified,
        })
    }

    /// The token `put_if` conditions on: the generation on GCS, the ETag elsewhere.
    fn token(&self, e_tag: Option<String>, version: Option<String>) -> Option<String> {
        match self.backend {
            Backend::Gcs { .. } => version,
            _ => e_tag,
        }
    }

    /// `Cache-Control` and `Content-Type` for `kind` (issue #12 item 4). None on
    /// `file://`: `object_store` refuses attributes there, and a web server serving a
    /// directory sets its own headers (see `docs/operator.md`).
    fn attributes(&self, key: &str, kind: ObjectKind) -> Attributes {
        let mut attributes = Attributes::new();
        if self.backend == Backend::File {
            return attributes;
        }
        let cache_control = match kind {
            ObjectKind::Immutable => "public, max-age=31536000, immutable".to_owned(),
            ObjectKind::Timestamp | ObjectKind::Index => {
                format!(
                    "public, max-age={}",
                    self.config.timestamp_max_age.as_secs()
                )
            }
            ObjectKind::State => "no-store".to_owned(),
        };
        attributes.insert(Attribute::CacheControl, AttributeValue::from(cache_control));
        attributes.insert(
            Attribute::ContentType,
            AttributeValue::from(content_type(key)),
        );
        attributes
    }

    fn count_local(&self, kind: Kind) {
        if self.backend == Backend::File {
            self.counts.add(kind);
        }
    }

    /// An `object_store` error as the library's, with the kind the operator acts on.
    fn error(
        &self,
        op: &'static str,
        key: Option<&str>,
        error: object_store::Error,
        missing: Missing,
    ) -> Error {
        let kind = classify(&error, missing);
        Error::Store {
            url: self.described.clone(),
            key: key.map(str::to_owned),
            op,
            kind,
            source: Some(Box::new(error)),
        }
    }
}

/// What a 404 means for an operation: the bucket (a write, a list) or the object read
/// (a copy's source).
#[derive(Debug, Clone, Copy)]
enum Missing {
    Bucket,
    Object,
}

fn classify(error: &object_store::Error, missing: Missing) -> StoreErrorKind {
    let text = chain_text(error);
    match error {
        object_store::Error::NotFound { .. } => match missing {
            _ if says_no_bucket(error) => StoreErrorKind::BucketNotFound,
            Missing::Bucket => StoreErrorKind::BucketNotFound,
            Missing::Object => StoreErrorKind::ObjectNotFound,
        },
        object_store::Error::Unauthenticated { .. } => StoreErrorKind::Unauthenticated,
        // S3 answers 403 both for a bad signature or key and for a missing permission.
        object_store::Error::PermissionDenied { .. } => {
            if [
                "SignatureDoesNotMatch",
                "InvalidAccessKeyId",
                "InvalidToken",
                "ExpiredToken",
                "AuthenticationFailed",
            ]
            .iter()
            .any(|code| text.contains(code))
            {
                StoreErrorKind::Unauthenticated
            } else {
                StoreErrorKind::PermissionDenied
            }
        }
        object_store::Error::NotSupported { .. } | object_store::Error::NotImplemented => {
            StoreErrorKind::Unsupported
        }
        object_store::Error::InvalidPath { .. } => StoreErrorKind::BadKey,
        object_store::Error::UnknownConfigurationKey { .. } => StoreErrorKind::BadConfig,
        // Before `unreachable`: an instance-metadata service that does not answer means
        // there are no credentials, not that the store is down.
        _ if credential_lookup(&text) => StoreErrorKind::Unauthenticated,
        _ if unreachable(error) => StoreErrorKind::Unreachable,
        _ if text.contains("NoSuchBucket") => StoreErrorKind::BucketNotFound,
        // No credentials found (nothing in the environment, no instance role).
        _ if text.contains("credential") || text.contains("Credential") => {
            StoreErrorKind::Unauthenticated
        }
        _ => StoreErrorKind::Other,
    }
}

/// Whether a connection could not be made (refused, DNS) or timed out. object_store's
/// `HttpError` sits behind a `#[error(transparent)]` in its retry error, so the chain
/// usually skips it and shows the reqwest error under it: both are looked for.
fn unreachable(error: &object_store::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(http) = current.downcast_ref::<HttpError>() {
            if matches!(http.kind(), HttpErrorKind::Connect | HttpErrorKind::Timeout) {
                return true;
            }
        }
        if let Some(reqwest) = current.downcast_ref::<reqwest::Error>() {
            if reqwest.is_connect() || reqwest.is_timeout() {
                return true;
            }
        }
        source = current.source();
    }
    false
}

/// Whether `text` (an error chain) is a failed credential lookup. With no credentials in
/// the environment, object_store asks the cloud's instance-metadata service for an
/// instance role (AWS IMDS `/latest/api/token` and `/latest/meta-data/iam/`, GCP's
/// `computeMetadata/v1`, Azure's `/metadata/identity/oauth2`); off a cloud VM, or without
/// a role, that fails, and the operator must be told to set credentials, not to check
/// the store's endpoint.
fn credential_lookup(text: &str) -> bool {
    [
        "/latest/api/token",
        "/latest/meta-data/iam",
        "computeMetadata/v1",
        "/metadata/identity/oauth2",
    ]
    .iter()
    .any(|path| text.contains(path))
}

/// A 404 that S3 (or Azure) says is for the bucket, not the key.
fn says_no_bucket(error: &object_store::Error) -> bool {
    let text = chain_text(error);
    text.contains("NoSuchBucket") || text.contains("ContainerNotFound")
}

fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(current) = source {
        text.push_str(": ");
        text.push_str(&current.to_string());
        source = current.source();
    }
    text
}

/// For [`Error::Store`]'s message: the store and key.
pub(crate) fn describe_key(url: &str, key: Option<&str>) -> String {
    match key {
        Some(key) => format!("{url} key {key}"),
        None => url.to_owned(),
    }
}

/// For [`Error::Store`]'s message: the underlying error, if any.
pub(crate) fn describe_source(
    source: Option<&(dyn std::error::Error + Send + Sync + 'static)>,
) -> String {
    match source {
        Some(source) => format!(" ({source})"),
        None => String::new(),
    }
}

fn credential_hint(url: &str) -> &'static str {
    if url.starts_with("gs") {
        "set GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_SERVICE_ACCOUNT"
    } else if url.starts_with("az") || url.starts_with("abfs") || url.starts_with("adl") {
        "set AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY (or a SAS token or client secret)"
    } else {
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), or use an instance role"
    }
}

/// Metadata is JSON. Hash-named copies of index files are JSON lines, one JSON object
/// per line, which is not `application/json`; `text/plain; charset=utf-8` is what
/// cargo accepts (it does not look at the type) and what CDNs compress by default
/// (an unknown type such as S3's `binary/octet-stream` is served uncompressed).
fn content_type(key: &str) -> &'static str {
    if key.ends_with(".json") {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// Whether an S3 copy's ETag is what a copy of a source with `source` ETag has: equal
/// for CopyObject; for a one-part multipart copy, `md5(md5 of the part)-1`, where the
/// part's MD5 is the source's ETag when that is a plain MD5 (a single-part upload).
fn copy_etag_matches(source: &str, copy: &str, multipart_copy: bool) -> bool {
    let (source, copy) = (unquote(source), unquote(copy));
    if !multipart_copy {
        return source == copy;
    }
    let Ok(part_md5) = hex::decode(source) else {
        return false;
    };
    if part_md5.len() != 16 {
        return false;
    }
    use md5::Digest;
    let expected = format!("{}-1", hex::encode(md5::Md5::digest(&part_md5)));
    copy.eq_ignore_ascii_case(&expected)
}

fn unquote(etag: &str) -> &str {
    let etag = etag.strip_prefix("W/").unwrap_or(etag);
    etag.trim_matches('"')
}

fn humantime_secs(duration: Duration) -> String {
    format!("{}ms", duration.as_millis())
}

fn bad_location(given: &str, reason: &str) -> Error {
    Error::BadLocation {
        given: given.to_owned(),
        reason: reason.to_owned(),
    }
}

/// `scheme://rest`, when `given` starts with a URL scheme (RFC 3986 §3.1).
fn split_scheme(given: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = given.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some((scheme, rest))
}

/// `file:///abs/dir` → `/abs/dir`. A host (`file://host/…`) or a relative path
/// (`file://dir`) is refused rather than guessed at.
fn parse_file_url(given: &str, rest: &str) -> Result<PathBuf, Error> {
    if given.contains(['?', '#']) {
        return Err(bad_location(given, "a query or fragment is not accepted"));
    }
    if !rest.starts_with('/') {
        return Err(bad_location(
            given,
            "a file:// URL takes an absolute path (file:///abs/dir); for a relative directory give the path itself",
        ));
    }
    if rest.contains('%') {
        return Err(bad_location(
            given,
            "percent-encoded file:// URLs are not accepted: give the path itself",
        ));
    }
    Ok(PathBuf::from(rest))
}

fn normalise_prefix(given: &str, path: &str) -> Result<String, Error> {
    let path = path.trim_matches('/');
    if path.is_empty() {
        return Ok(String::new());
    }
    if path
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return Err(bad_location(
            given,
            "the prefix has an empty, '.' or '..' segment",
        ));
    }
    if path.contains(|c: char| c.is_control() || c == '\\') {
        return Err(bad_location(
            given,
            "the prefix has a control character or '\\'",
        ));
    }
    Ok(path.to_owned())
}

// --- request counting -------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Kind {
    Get,
    Head,
    List,
    Put,
    Copy,
    Delete,
    Other,
}

#[derive(Debug, Default)]
struct Counters {
    get: AtomicU64,
    head: AtomicU64,
    list: AtomicU64,
    put: AtomicU64,
    copy: AtomicU64,
    delete: AtomicU64,
    other: AtomicU64,
}

impl Counters {
    fn add(&self, kind: Kind) {
        let counter = match kind {
            Kind::Get => &self.get,
            Kind::Head => &self.head,
            Kind::List => &self.list,
            Kind::Put => &self.put,
            Kind::Copy => &self.copy,
            Kind::Delete => &self.delete,
            Kind::Other => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> RequestCounts {
        RequestCounts {
            get: self.get.load(Ordering::Relaxed),
            head: self.head.load(Ordering::Relaxed),
            list: self.list.load(Ordering::Relaxed),
            put: self.put.load(Ordering::Relaxed),
            copy: self.copy.load(Ordering::Relaxed),
            delete: self.delete.load(Ordering::Relaxed),
            other: self.other.load(Ordering::Relaxed),
        }
    }
}

/// object_store's reqwest connector, with every request counted as it is sent (so
/// retries and pages count, as they cost).
#[derive(Debug)]
struct CountingConnector {
    counts: Arc<Counters>,
}

impl HttpConnector for CountingConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let inner = ReqwestConnector::default().connect(options)?;
        Ok(HttpClient::new(CountingService {
            inner,
            counts: self.counts.clone(),
        }))
    }
}

#[derive(Debug)]
struct CountingService {
    inner: HttpClient,
    counts: Arc<Counters>,
}

impl HttpService for CountingService {
    // The signature `#[async_trait]` gives the trait's method, written out so that no
    // proc-macro crate is needed for one method.
    fn call<'life0, 'async_trait>(
        &'life0 self,
        req: HttpRequest,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.counts.add(request_kind(&req));
        Box::pin(self.inner.execute(req))
    }
}

fn request_kind(req: &HttpRequest) -> Kind {
    let query = req.uri().query().unwrap_or("");
    let headers = req.headers();
    match req.method().as_str() {
        "HEAD" => Kind::Head,
        "GET" if query.contains("list-type=") || query.contains("comp=list") => Kind::List,
        "GET" => Kind::Get,
        "PUT"
            if [
                "x-amz-copy-source",
                "x-ms-copy-source",
                "x-goog-copy-source",
            ]
            .iter()
            .any(|name| headers.contains_key(*name)) =>
        {
            Kind::Copy
        }
        "PUT" => Kind::Put,
        // Aborting a multipart upload (a create-only copy that found the key taken).
        "DELETE" if query.contains("uploadId=") => Kind::Other,
        "DELETE" => Kind::Delete,
        // S3's DeleteObjects batch.
        "POST"
            if query
                .split('&')
                .any(|pair| pair == "delete" || pair == "delete=") =>
        {
            Kind::Delete
        }
        _ => Kind::Other,
    }
}

#[cfg(test)]
mod tests;
