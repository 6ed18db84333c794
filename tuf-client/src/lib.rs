//! TUF client I/O (being written).
#![forbid(unsafe_code)]
