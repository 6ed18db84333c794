//! Dev-only helpers shared by the workspace's tests (never a dependency of shipped code).
//!
//! [`http::Server`]: a std-only HTTP/1.1 server on 127.0.0.1 (an ephemeral port), either
//! scripted by the test ([`http::Server::start`], [`http::Server::put`]) or serving a
//! repository directory from disk ([`http::Server::serve_dir`]), so a client reads
//! exactly the bytes a test or the publisher wrote. It logs the paths requested
//! ([`http::Server::take_requests`], [`http::Server::count`]) and can delay its answers
//! ([`http::Server::set_delay`]) to show how many requests a client has in flight. It
//! gzips replies for clients that accept it ([`http::Server::set_gzip`]), logs what each
//! request accepted and the bytes sent ([`http::Server::take_sent`]), and plays a hostile
//! server with compressed bodies ([`http::Reply::Encoded`], [`http::Reply::GzipBomb`]).
//!
//! [`pipe`]: run a binary with its stdout a pipe whose reader has gone away (`| head`).
//!
//! [`s3::S3Server`]: a real S3-compatible server (moto, handling one request at a time so
//! conditional PUTs are atomic) on 127.0.0.1, a bucket per test, for the publisher on
//! object storage; [`venv`] makes the python venvs such servers run from.

// Test helpers panic on failure, as the tests that call them do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod http;
pub mod pipe;
pub mod s3;
pub mod venv;
