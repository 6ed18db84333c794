//! cargo-tuf's state files, `registry.json` and `metadata/checked.json`: never panic;
//! what parses writes back to JSON that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use registry_plugin::state::PinnedRegistry;
use registry_plugin::updater_verifier::Checked;

fuzz_target!(|data: &[u8]| {
    if let Ok(pinned) = serde_json::from_slice::<PinnedRegistry>(data) {
        let bytes = serde_json::to_vec_pretty(&pinned).expect("writes");
        let back: PinnedRegistry = serde_json::from_slice(&bytes).expect("parses back");
        assert_eq!(back, pinned);
    }
    if let Ok(checked) = serde_json::from_slice::<Checked>(data) {
        let bytes = serde_json::to_vec(&checked).expect("writes");
        let back: Checked = serde_json::from_slice(&bytes).expect("parses back");
        assert_eq!(back, checked);
    }
});
