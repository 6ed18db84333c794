//! Signed release feeds (`tuf_core::feed`, docs/feeds.md): the bytes of a feed are signed,
//! but by the online key, which a compromised publisher holds; the publisher reads the
//! published feed back on every publish and `cargo tuf feed` prints it. `parse` never
//! panics and never returns more than its cap; what it returns, written again and read
//! back, is a fixed point after one pass (the writer normalises times to RFC 3339 UTC
//! seconds). The index side (`diff`, `backfill`) never panics on any two files, and
//! `merge` never keeps more than its rule's cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_core::feed::{self, FeedScope, CRATE_RULE, UPDATES_RULE};

fuzz_target!(|data: &[u8]| {
    let now = tuf_fuzz::now();
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    // A small cap from the first byte, so the cap's edge is reached by short inputs.
    let max = usize::from(*first % 16);
    if let Ok(items) = feed::parse(rest, max) {
        assert!(items.len() <= max);
        let scope = if first & 0x80 == 0 {
            FeedScope::Updates
        } else {
            FeedScope::Crate("serde")
        };
        let once = feed::parse(&feed::render(scope, &items), max).expect("written feed reads back");
        assert_eq!(once.len(), items.len());
        let twice = feed::parse(&feed::render(scope, &once), max).expect("written feed reads back");
        assert_eq!(twice, once);
        let merged = feed::merge(items.clone(), items, &CRATE_RULE, now);
        assert!(merged.len() <= CRATE_RULE.max_items);
    }
    // Two index files (old, new) split at the first NUL.
    let (old, new) = match rest.iter().position(|b| *b == 0) {
        Some(at) => {
            let (old, new) = rest.split_at(at);
            (old, new.get(1..).unwrap_or_default())
        }
        None => (rest, &[][..]),
    };
    if let Ok(items) = feed::diff(Some(old), Some(new), now) {
        let merged = feed::merge(items, Vec::new(), &UPDATES_RULE, now);
        assert!(merged.len() <= UPDATES_RULE.max_items);
    }
    let _ = feed::diff(None, Some(new), now);
    let _ = feed::diff(Some(old), None, now);
    let _ = feed::backfill(rest);
});
