//! PKCS#11 URIs (RFC 7512) as `tuf sign --key pkcs11:...` reads them: never panic; a
//! parsed URI written back parses to the same URI; a URI never parses with a PIN in it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_cli::pkcs11::{Pkcs11Uri, UriError};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Pkcs11Uri::parse(text) {
        Ok(uri) => {
            let written = uri.to_string();
            assert_eq!(
                Pkcs11Uri::parse(&written).expect("parses back"),
                uri,
                "{written}"
            );
            assert!(!written.contains("pin-"), "{written}");
        }
        Err(UriError::PinInUri { attribute }) => {
            assert!(attribute == "pin-value" || attribute == "pin-source");
        }
        Err(_) => {}
    }
});
