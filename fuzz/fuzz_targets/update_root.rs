//! Fuzz `TrustedState::update_root` (TUF §5.3) with arbitrary bytes as root N+1.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut state = tuf_fuzz::state_at_root();
    if state.update_root(data, tuf_fuzz::now()).is_ok() {
        // Only a root signed by root 1's key can pass; the state moved to version 2.
        assert_eq!(state.root().version.get(), 2);
    }
});
