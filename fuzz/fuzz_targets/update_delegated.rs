//! Fuzz `TrustedState::update_delegated` (TUF §5.6, §5.6.7): arbitrary bytes as a
//! succinct bin delegated by `a`, with the role name taken from the first byte, then a
//! lookup through it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_core::metadata::TargetPath;

fuzz_target!(|data: &[u8]| {
    let Some((selector, bytes)) = data.split_first() else {
        return;
    };
    let names = ["bin-0", "bin-1", "bin-2", "bin-3", "a", "targets", "bin-00"];
    let role = names[usize::from(*selector) % names.len()];
    let mut state = tuf_fuzz::state_at_targets();
    if state
        .update_delegated("a", role, bytes, tuf_fuzz::now())
        .is_ok()
    {
        let path = TargetPath::parse("se/rd/serde").unwrap();
        let _ = tuf_core::delegation::find_target(&state, &path);
    }
});
