//! Strict JSON parsing and canonical output: never panics; whatever parses has a
//! canonical form that parses back to the same value (through the file form, which is
//! valid JSON even with control characters), and canonicalisation is a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_core::cjson;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = cjson::parse(data, 64) else {
        return;
    };
    let canonical = cjson::to_canonical(&value).expect("a parsed value has a canonical form");
    let file = cjson::to_file_form(&value).expect("a parsed value has a file form");
    let again = cjson::parse(&file, 64).expect("the file form parses");
    assert_eq!(again, value);
    assert_eq!(cjson::to_canonical(&again).expect("canonical"), canonical);
});
