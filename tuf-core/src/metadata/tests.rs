use super::*;
use crate::crypto::{Ed25519Signer, Signer};
use crate::verify;
use serde_json::json;

fn limits() -> Limits {
    Limits::default()
}

fn key() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[5; 32]).unwrap()
}

fn root_json(k: &Ed25519Signer) -> Value {
    let id = k.key_id().to_string();
    json!({
        "_type": "root",
        "spec_version": "1.0.31",
        "consistent_snapshot": true,
        "version": 1,
        "expires": "2030-01-01T00:00:00Z",
        "keys": { id.clone(): k.public_key() },
        "roles": {
            "root": {"keyids": [id.clone()], "threshold": 1},
            "timestamp": {"keyids": [id.clone()], "threshold": 1},
            "snapshot": {"keyids": [id.clone()], "threshold": 1},
            "targets": {"keyids": [id], "threshold": 1}
        }
    })
}

fn envelope(signed: Value, k: &Ed25519Signer) -> Vec<u8> {
    let canonical = cjson::to_canonical(&signed).unwrap();
    let sig = hex::encode(k.sign(&canonical).unwrap());
    serde_json::to_vec(
        &json!({"signatures": [{"keyid": k.key_id(), "sig": sig}], "signed": signed}),
    )
    .unwrap()
}

fn parse_root(signed: Value) -> Result<Root, Error> {
    let k = key();
    let meta = SignedMetadata::parse(&envelope(signed, &k), RoleType::Root, &limits())?;
    verify::verify_root_self_signed(&meta, &limits()).map(verify::Verified::into_inner)
}

#[test]
fn root_parses_and_keeps_unknown_fields() {
    let k = key();
    let mut signed = root_json(&k);
    signed["x-top"] = json!([1, {"b": 2}]);
    signed["roles"]["root"]["x-role"] = json!("r");
    signed["keys"][k.key_id().as_str()]["x-key"] = json!(true);
    signed["keys"][k.key_id().as_str()]["keyval"]["x-val"] = json!(7);
    let root = parse_root(signed.clone()).unwrap();
    assert_eq!(root.extra["x-top"], json!([1, {"b": 2}]));
    // Serialize back: identical to what was received.
    assert_eq!(serde_json::to_value(&root).unwrap(), signed);
}

#[test]
fn root_rejections() {
    let k = key();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "missing-field",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("expires");
            }),
        ),
        (
            "missing-field",
            Box::new(|v| {
                v["roles"].as_object_mut().unwrap().remove("snapshot");
            }),
        ),
        ("wrong-type", Box::new(|v| v["_type"] = json!("targets"))),
        ("bad-version", Box::new(|v| v["version"] = json!(0))),
        ("bad-version", Box::new(|v| v["version"] = json!(-1))),
        ("bad-version", Box::new(|v| v["version"] = json!("1"))),
        (
            "bad-threshold",
            Box::new(|v| v["roles"]["root"]["threshold"] = json!(0)),
        ),
        ("bad-date", Box::new(|v| v["expires"] = json!("2030-01-01"))),
        (
            "bad-date",
            Box::new(|v| v["expires"] = json!("2030-01-01T00:00:00+01:00")),
        ),
        (
            "bad-date",
            Box::new(|v| v["expires"] = json!("2030-13-01T00:00:00Z")),
        ),
        (
            "bad-date",
            Box::new(|v| v["expires"] = json!("2030-01-01T00:00:00.5Z")),
        ),
        (
            "bad-date",
            Box::new(|v| v["expires"] = json!("2030-1-1T0:0:0Z")),
        ),
        (
            "spec-version",
            Box::new(|v| v["spec_version"] = json!("2.0.0")),
        ),
        ("spec-version", Box::new(|v| v["spec_version"] = json!("1"))),
        (
            "bad-keyid",
            Box::new(|v| v["roles"]["root"]["keyids"] = json!(["ABC"])),
        ),
        (
            "wrong-field-type",
            Box::new(|v| v["consistent_snapshot"] = json!("yes")),
        ),
    ];
    for (code, mutate) in cases {
        let mut signed = root_json(&k);
        mutate(&mut signed);
        let err = parse_root(signed.clone()).unwrap_err();
        assert_eq!(err.code(), code, "{signed}: {err}");
    }
}

#[test]
fn spec_versions_accepted() {
    let k = key();
    for version in ["1.0", "1.0.0", "1.0.31", "1.2"] {
        let mut signed = root_json(&k);
        signed["spec_version"] = json!(version);
        parse_root(signed).unwrap();
    }
}

#[test]
fn envelope_rejections() {
    let k = key();
    let signed = root_json(&k);
    let canonical = cjson::to_canonical(&signed).unwrap();
    let sig = hex::encode(k.sign(&canonical).unwrap());
    let one = json!({"keyid": k.key_id(), "sig": sig});
    let dup =
        serde_json::to_vec(&json!({"signatures": [one.clone(), one], "signed": signed})).unwrap();
    let err = SignedMetadata::parse(&dup, RoleType::Root, &limits()).unwrap_err();
    assert_eq!(err.code(), "duplicate-signature");
    let none = serde_json::to_vec(&json!({"signed": signed})).unwrap();
    assert_eq!(
        SignedMetadata::parse(&none, RoleType::Root, &limits())
            .unwrap_err()
            .code(),
        "missing-field"
    );
    let float =
        br#"{"signatures":[],"signed":{"_type":"root","spec_version":"1.0","version":1.5}}"#;
    assert_eq!(
        SignedMetadata::parse(float, RoleType::Root, &limits())
            .unwrap_err()
            .code(),
        "float"
    );
    let dup_key = br#"{"signatures":[],"signed":{"_type":"root","_type":"targets"}}"#;
    assert_eq!(
        SignedMetadata::parse(dup_key, RoleType::Root, &limits())
            .unwrap_err()
            .code(),
        "duplicate-key"
    );
    let mut small = limits();
    small.max_root_bytes = 10;
    assert_eq!(
        SignedMetadata::parse(&envelope(signed.clone(), &k), RoleType::Root, &small)
            .unwrap_err()
            .code(),
        "too-large"
    );
    small = limits();
    small.max_signatures = 0;
    assert_eq!(
        SignedMetadata::parse(&envelope(signed, &k), RoleType::Root, &small)
            .unwrap_err()
            .code(),
        "too-many"
    );
}

#[test]
fn targets_delegation_rules() {
    let k = key();
    let id = k.key_id().to_string();
    let base = json!({
        "_type": "targets", "spec_version": "1.0", "version": 1,
        "expires": "2030-01-01T00:00:00Z",
        "targets": {"se/rd/serde": {"length": 3, "hashes": {"sha256": "00ff"}, "custom": {"x": 1}}},
        "delegations": {"keys": {id.clone(): k.public_key()}, "roles": [
            {"name": "a", "keyids": [id.clone()], "threshold": 1, "terminating": true, "paths": ["se/*/*"]},
            {"name": "b", "keyids": [id.clone()], "threshold": 1, "terminating": false, "path_hash_prefixes": ["ab"]}
        ]}
    });
    let parse = |v: &Value| {
        let meta = SignedMetadata::parse(&envelope(v.clone(), &k), RoleType::Targets, &limits())?;
        meta.decode_unverified::<Targets>("targets", &limits())
    };
    let targets = parse(&base).unwrap();
    assert_eq!(serde_json::to_value(&targets).unwrap(), base);
    let cases: Vec<(&str, Value)> = vec![
        ("bad-delegation", {
            let mut v = base.clone();
            v["delegations"]["roles"][0]["path_hash_prefixes"] = json!(["00"]);
            v
        }),
        ("bad-delegation", {
            let mut v = base.clone();
            v["delegations"]["roles"][1]["name"] = json!("a");
            v
        }),
        ("bad-delegation", {
            let mut v = base.clone();
            v["delegations"]["roles"][1]["name"] = json!("snapshot");
            v
        }),
        ("bad-delegation", {
            let mut v = base.clone();
            v["delegations"]["succinct_roles"] = json!({"keyids": [id.clone()], "threshold": 1, "bit_length": 8, "name_prefix": "bin"});
            v
        }),
        ("bad-delegation", {
            let mut v = base.clone();
            v["delegations"].as_object_mut().unwrap().remove("roles");
            v["delegations"]["succinct_roles"] = json!({"keyids": [id.clone()], "threshold": 1, "bit_length": 33, "name_prefix": "bin"});
            v
        }),
        ("bad-target-path", {
            let mut v = base.clone();
            v["targets"] = json!({"../etc/passwd": {"length": 1, "hashes": {"sha256": "00"}}});
            v
        }),
        ("bad-target-path", {
            let mut v = base.clone();
            v["targets"] = json!({"/abs": {"length": 1, "hashes": {"sha256": "00"}}});
            v
        }),
        ("bad-length", {
            let mut v = base.clone();
            v["targets"]["se/rd/serde"]["length"] = json!(-3);
            v
        }),
        ("bad-hash", {
            let mut v = base.clone();
            v["targets"]["se/rd/serde"]["hashes"] = json!({"sha256": "xyz"});
            v
        }),
        ("bad-hash", {
            let mut v = base.clone();
            v["targets"]["se/rd/serde"]["hashes"] = json!({});
            v
        }),
    ];
    for (code, value) in cases {
        let err = parse(&value).unwrap_err();
        assert_eq!(err.code(), code, "{value}: {err}");
    }
    // Succinct roles alone are fine.
    let mut v = base.clone();
    v["delegations"].as_object_mut().unwrap().remove("roles");
    v["delegations"]["succinct_roles"] =
        json!({"keyids": [id], "threshold": 1, "bit_length": 12, "name_prefix": "crates-bin"});
    let t = parse(&v).unwrap();
    let bins = t.delegations.unwrap().succinct_roles.unwrap();
    assert_eq!(bins.bin_count(), 4096);
}

#[test]
fn timestamp_needs_exactly_snapshot_json() {
    let k = key();
    let mut signed = json!({
        "_type": "timestamp", "spec_version": "1.0.31", "version": 3,
        "expires": "2030-01-01T00:00:00Z",
        "meta": {"snapshot.json": {"version": 2, "length": 10, "hashes": {"sha256": "ab"}}}
    });
    let parse = |v: &Value| {
        let meta = SignedMetadata::parse(&envelope(v.clone(), &k), RoleType::Timestamp, &limits())?;
        meta.decode_unverified::<Timestamp>("timestamp", &limits())
    };
    let ts = parse(&signed).unwrap();
    assert_eq!(ts.snapshot_meta().unwrap().version.get(), 2);
    signed["meta"]["targets.json"] = json!({"version": 1});
    assert_eq!(parse(&signed).unwrap_err().code(), "missing-field");
}

#[test]
fn length_and_hash_checks() {
    let bytes = b"abc";
    let hashes: Hashes = [(
        "sha256".to_owned(),
        HexDigest::new(crate::hash::sha256(bytes).to_vec()),
    )]
    .into();
    check_length_and_hashes("t", bytes, Some(Length::new(3)), Some(&hashes)).unwrap();
    assert_eq!(
        check_length_and_hashes("t", bytes, Some(Length::new(4)), None)
            .unwrap_err()
            .code(),
        "length-mismatch"
    );
    assert_eq!(
        check_length_and_hashes("t", b"abd", None, Some(&hashes))
            .unwrap_err()
            .code(),
        "hash-mismatch"
    );
    let unknown: Hashes = [("md5".to_owned(), HexDigest::new(vec![1]))].into();
    assert_eq!(
        check_length_and_hashes("t", bytes, None, Some(&unknown))
            .unwrap_err()
            .code(),
        "unsupported-hash"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn target_paths_accept_exactly_the_safe_ones(s in "[a-z./\\\\]{0,12}") {
            let ok = TargetPath::parse(&s).is_ok();
            let safe = !s.is_empty()
                && !s.starts_with('/')
                && !s.contains('\\')
                && s.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..");
            prop_assert_eq!(ok, safe);
        }

        #[test]
        fn keyids_are_lowercase_hex_of_64_or_128(s in "[0-9a-fA-F]{60,130}") {
            let ok = KeyId::parse(&s).is_ok();
            let want = (s.len() == 64 || s.len() == 128) && !s.chars().any(|c| c.is_ascii_uppercase());
            prop_assert_eq!(ok, want);
        }

        #[test]
        fn versions_and_thresholds_are_positive(n in any::<u64>()) {
            prop_assert_eq!(Version::new(n).is_ok(), n >= 1);
            prop_assert_eq!(Threshold::new(n).is_ok(), n >= 1);
            let parsed: Result<Version, _> = serde_json::from_value(json!(n));
            prop_assert_eq!(parsed.is_ok(), n >= 1);
        }

        #[test]
        fn expires_round_trips(secs in 0i64..4_000_000_000) {
            let time = DateTime::from_timestamp(secs, 0).unwrap();
            let e = Expires::from_time(time);
            let again = Expires::parse(&e.to_string()).unwrap();
            prop_assert_eq!(again.time(), time);
        }

        #[test]
        fn role_names_reject_only_empty_long_or_control(s in "\\PC{0,8}|[\\x00-\\x1f]") {
            let ok = RoleName::parse(&s).is_ok();
            prop_assert_eq!(ok, !s.is_empty() && s.len() <= 255 && !s.chars().any(char::is_control));
        }
    }
}
