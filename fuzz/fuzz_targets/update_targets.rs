//! Fuzz `TrustedState::update_targets` (TUF §5.6) with arbitrary bytes as targets, then
//! a lookup through whatever was accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_core::metadata::TargetPath;

fuzz_target!(|data: &[u8]| {
    let mut state = tuf_fuzz::state_at_snapshot();
    if state.update_targets(data, tuf_fuzz::now()).is_ok() {
        let path = TargetPath::parse("se/rd/serde").unwrap();
        let _ = tuf_core::delegation::find_target(&state, &path);
    }
});
