//! `policy.json` and `keyholders.json`: never panic; a policy that parses (and passes its
//! checks) writes back to bytes that parse to the same policy; same for key holders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_cli::policy::{parse_keyholders, Policy};

fuzz_target!(|data: &[u8]| {
    if let Ok(policy) = Policy::parse(data) {
        let bytes = policy.to_file_bytes().expect("writes");
        assert_eq!(Policy::parse(&bytes).expect("parses back"), policy);
    }
    if let Ok(names) = parse_keyholders(data) {
        let bytes = serde_json::to_vec_pretty(&names).expect("writes");
        assert_eq!(parse_keyholders(&bytes).expect("parses back"), names);
    }
});
