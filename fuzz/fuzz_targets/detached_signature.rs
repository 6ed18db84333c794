//! `tuf sign --detached` files: never panic; what parses writes back (as `tuf sign`
//! writes it) to bytes that parse to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_cli::detached::DetachedSignature;

fuzz_target!(|data: &[u8]| {
    if let Ok(sig) = DetachedSignature::parse(data) {
        let bytes = sig.to_file_bytes().expect("writes");
        assert_eq!(DetachedSignature::parse(&bytes).expect("parses back"), sig);
    }
});
