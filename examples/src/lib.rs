//! Runnable examples for `tuf-core`; see the `examples/` binaries.
#![forbid(unsafe_code)]
