//! Metadata parsing for every role type, typed deserialization and signature checks:
//! never panics on any input, and a typed value serializes again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_core::metadata::{RoleType, Root, SignedMetadata, Snapshot, Targets, Timestamp};
use tuf_core::{verify, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    for role in [RoleType::Root, RoleType::Timestamp, RoleType::Snapshot, RoleType::Targets] {
        let Ok(meta) = SignedMetadata::parse(data, role, &limits) else {
            continue;
        };
        match role {
            RoleType::Root => {
                if let Ok(root) = meta.decode_unverified::<Root>("root", &limits) {
                    serde_json::to_value(&root).expect("serializes");
                }
                let _ = verify::verify_root_self_signed(&meta, &limits);
            }
            RoleType::Timestamp => {
                if let Ok(t) = meta.decode_unverified::<Timestamp>("timestamp", &limits) {
                    serde_json::to_value(&t).expect("serializes");
                }
            }
            RoleType::Snapshot => {
                if let Ok(s) = meta.decode_unverified::<Snapshot>("snapshot", &limits) {
                    serde_json::to_value(&s).expect("serializes");
                }
            }
            RoleType::Targets => {
                if let Ok(t) = meta.decode_unverified::<Targets>("targets", &limits) {
                    serde_json::to_value(&t).expect("serializes");
                    if let Some(bins) = t.delegations.as_ref().and_then(|d| d.succinct_roles.as_ref()) {
                        let _ = bins.role_for("se/rd/serde");
                    }
                    if let Some(roles) = t.delegations.as_ref().and_then(|d| d.roles.as_ref()) {
                        for role in roles {
                            let _ = role.is_delegated_path("se/rd/serde");
                        }
                    }
                }
            }
        }
        let _ = meta.to_file_bytes();
    }
});
