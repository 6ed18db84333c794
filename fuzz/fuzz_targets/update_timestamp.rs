//! Fuzz the timestamp steps (TUF §5.4): arbitrary bytes as the local timestamp, then as
//! the new one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = tuf_fuzz::now();
    let mut state = tuf_fuzz::state_at_root();
    let _ = state.load_local_timestamp(data, now);
    let _ = state.update_timestamp(data, now);
    let mut fresh = tuf_fuzz::state_at_root();
    let _ = fresh.update_timestamp(data, now);
});
