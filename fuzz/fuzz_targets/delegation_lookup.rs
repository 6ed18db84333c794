//! Delegation lookups by path pattern, hash prefix and succinct bin, on arbitrary
//! patterns and paths: never panic; a pattern without wildcards matches exactly itself;
//! `*` in every segment matches any path of as many segments; a prefix of a path's
//! SHA-256 delegates it; a path's bin name maps back to its bin number.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_core::metadata::{DelegatedRole, PathPattern, SuccinctRoles, Threshold};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (pattern, path) = text.split_once('\0').unwrap_or((text, text));
    let p = PathPattern::new(pattern);
    let _ = p.matches(path);
    if !pattern.contains(['*', '?', '[']) {
        assert_eq!(p.matches(path), pattern == path);
    }
    let stars = vec!["*"; path.split('/').count()].join("/");
    assert!(PathPattern::new(&stars).matches(path));

    let digest = tuf_core::hash::sha256(path.as_bytes());
    let hex = hex_of(&digest);
    let cut = usize::from(first) % (hex.len() + 1);
    let role = |prefixes: Vec<String>| -> DelegatedRole {
        serde_json::from_value(serde_json::json!({
            "name": "r", "keyids": [], "threshold": 1, "terminating": false,
            "path_hash_prefixes": prefixes,
        }))
        .expect("valid role")
    };
    assert!(role(vec![hex[..cut].to_owned()]).is_delegated_path(path));
    let _ = role(vec![pattern.to_owned()]).is_delegated_path(path);

    let bits = first % 33; // 0 and out-of-range values are clamped by the lookup
    let bins = SuccinctRoles::new(vec![], Threshold::new(1).unwrap(), bits, pattern);
    let bin = bins.bin_of(path);
    assert!(u64::from(bin) < bins.bin_count());
    assert_eq!(bins.bin_number(&bins.role_for(path)), Some(bin));
    let _ = bins.bin_number(path);
});

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
