//! Unit tests of the store: locations, and every operation on `file://`.
