//! Fuzz the snapshot steps (TUF §5.5): arbitrary bytes as the local snapshot and as the
//! new one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = tuf_fuzz::now();
    let mut state = tuf_fuzz::state_at_timestamp();
    let _ = state.load_local_snapshot(data, now);
    let _ = state.update_snapshot(data, now);
});
