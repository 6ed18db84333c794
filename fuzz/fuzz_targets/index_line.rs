//! Cargo index parsing: crate names, sparse paths, lines and whole files never panic; a
//! parsed name's sparse path maps back to it; the publisher's check (`check_index_line`,
//! `check_index_file`) gives the verifier's parse's answer, error included.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_core::index::{
    check_index_file, check_index_line, parse_index_file, parse_index_line, CrateName,
    IndexLimits,
};

fuzz_target!(|data: &[u8]| {
    let limits = IndexLimits::default();
    if let Ok(text) = std::str::from_utf8(data) {
        let parsed = parse_index_line(text);
        let checked = check_index_line(text);
        assert_eq!(
            checked.map(|l| (l.name, l.vers, l.cksum, l.yanked, l.v)),
            parsed.map(|l| (l.name, l.vers, l.cksum, l.yanked, l.v))
        );
        if let Ok(name) = CrateName::parse(text) {
            let back = CrateName::from_sparse_path(&name.sparse_path()).expect("round trip");
            assert!(back.as_str().eq_ignore_ascii_case(name.as_str()));
        }
        let _ = CrateName::from_sparse_path(text);
    }
    if let Some((first, rest)) = data.split_first() {
        let name = ["serde", "a", "ab", "abc", "serde_json"][usize::from(*first) % 5];
        let name = CrateName::parse(name).expect("valid");
        assert_eq!(
            check_index_file(&name, rest, &limits),
            parse_index_file(&name, rest, &limits).map(|_| ())
        );
    }
});
