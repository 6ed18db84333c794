//! The one runner of `test-vectors/`: every file there is a case with an expected outcome.
//! See `test-vectors/README.md` for the format. Adding a case is adding a file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use tuf_core::crypto::PublicKey;
use tuf_core::index::{parse_index_file, CrateName, IndexLimits};
use tuf_core::metadata::{Role, Snapshot};
use tuf_core::metadata::{RoleType, Root, SignedMetadata, Targets, Timestamp};
use tuf_core::verify::{self, Authority};
use tuf_core::{cjson, Limits};

/// Fewer files than this means vectors went missing.
const MIN_VECTORS: usize = 200;

/// Cases from an independent implementation where this crate deliberately differs, with
/// the error code this crate gives instead. Each is still checked, against this outcome.
///
/// * `-0`: python reads it as the integer 0. serde_json reads `-0` as the float -0.0 and
///   cannot tell it from the text `-0.0`; OLPC canonical JSON forbids "minus 0" anyway, so
///   we refuse it rather than accept a float spelling of zero.
const DEVIATIONS: &[(&str, &str)] = &[("cjson/py-int-negative-zero.json", "float")];

/// What a case produced: a JSON value for `ok`, or an error code.
type Outcome = Result<Value, String>;

/// A vector directory and the function that runs its cases.
type Kind = (&'static str, fn(&Value) -> Outcome);

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-vectors")
}

// The runner reads the vector files; the library it tests reads none (tuf-core/clippy.toml).
#[allow(clippy::disallowed_methods)]
fn run_dir(kind: &str, run: fn(&Value) -> Outcome) -> (usize, Vec<String>) {
    let dir = vectors_dir().join(kind);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    assert!(!entries.is_empty(), "no vectors in {}", dir.display());
    let mut failures = Vec::new();
    for path in &entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let case: Value = serde_json::from_slice(&std::fs::read(path).unwrap())
            .unwrap_or_else(|e| panic!("{kind}/{name}: not JSON: {e}"));
        for field in ["description", "source", "expect"] {
            assert!(case.get(field).is_some(), "{kind}/{name}: no `{field}`");
        }
        let deviation = DEVIATIONS
            .iter()
            .find(|(file, _)| *file == format!("{kind}/{name}"))
            .map(|(_, code)| serde_json::json!({ "error": code }));
        let expect = deviation.as_ref().unwrap_or(&case["expect"]);
        let got = run(&case);
        let pass = match (expect.get("ok"), expect.get("error"), &got) {
            (Some(want), None, Ok(value)) => want == value,
            (None, Some(Value::String(want)), Err(code)) => want == code,
            (None, None, _) | (Some(_), Some(_), _) => {
                panic!("{kind}/{name}: expect must have exactly one of ok / error")
            }
            _ => false,
        };
        if !pass {
            failures.push(format!("{kind}/{name}: expected {expect}, got {got:?}"));
        }
    }
    (entries.len(), failures)
}

fn str_field<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector has no string `{field}`"))
}

fn cjson_case(case: &Value) -> Outcome {
    let value =
        cjson::parse(str_field(case, "input").as_bytes(), 64).map_err(|e| e.code().to_owned())?;
    let bytes = cjson::to_canonical(&value).map_err(|e| e.code().to_owned())?;
    Ok(Value::String(
        String::from_utf8(bytes).expect("canonical form of UTF-8 is UTF-8"),
    ))
}

fn keyid_case(case: &Value) -> Outcome {
    let key: PublicKey =
        serde_json::from_value(case["key"].clone()).map_err(|_| "bad-key".to_owned())?;
    let id = key.key_id().map_err(|e| e.code().to_owned())?;
    Ok(Value::String(id.to_string()))
}

fn signature_case(case: &Value) -> Outcome {
    let key: PublicKey =
        serde_json::from_value(case["key"].clone()).map_err(|_| "bad-key".to_owned())?;
    let message = match (case.get("signed"), case.get("message_hex")) {
        (Some(signed), None) => cjson::to_canonical(signed).map_err(|e| e.code().to_owned())?,
        (None, Some(Value::String(hex_text))) => hex::decode(hex_text).expect("message_hex is hex"),
        _ => panic!("signature vector needs exactly one of signed / message_hex"),
    };
    // A signature that is not even hex is "does not verify", as in metadata.
    let valid = hex::decode(str_field(case, "signature"))
        .map(|sig| key.verify(&message, &sig).is_ok())
        .unwrap_or(false);
    Ok(Value::Bool(valid))
}

fn role_type(name: &str) -> RoleType {
    match name {
        "root" => RoleType::Root,
        "timestamp" => RoleType::Timestamp,
        "snapshot" => RoleType::Snapshot,
        "targets" => RoleType::Targets,
        other => panic!("unknown role {other:?}"),
    }
}

fn envelope_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

fn version_of<T: Role>(verified: &T) -> Value {
    serde_json::json!({ "version": verified.version().get() })
}

fn metadata_case(case: &Value) -> Outcome {
    let limits = Limits::default();
    let code = |e: tuf_core::Error| e.code().to_owned();
    let role = role_type(str_field(case, "role"));
    let bytes = match (case.get("metadata"), case.get("metadata_text")) {
        (Some(value), None) => envelope_bytes(value),
        (None, Some(Value::String(text))) => text.clone().into_bytes(),
        _ => panic!("metadata vector needs exactly one of metadata / metadata_text"),
    };
    let meta = SignedMetadata::parse(&bytes, role, &limits).map_err(code)?;

    if case.get("self_signed") == Some(&Value::Bool(true)) {
        let root = verify::verify_root_self_signed(&meta, &limits).map_err(code)?;
        return Ok(version_of(root.signed()));
    }
    if let Some(root_env) = case.get("verify_with_root") {
        let root_meta = SignedMetadata::parse(&envelope_bytes(root_env), RoleType::Root, &limits)
            .expect("the vector's root parses");
        let root: Root = root_meta
            .decode_unverified("root", &limits)
            .expect("the vector's root is valid");
        // The vector's root is a given, not under test: its keys, without verifying it.
        let role_keys = root
            .role_keys(role)
            .expect("root lists every top-level role");
        let authority = Authority::new(&root.keys, &role_keys.keyids, role_keys.threshold);
        let name = role.as_str();
        return match role {
            RoleType::Root => verify::verify::<Root>(&meta, name, &authority, &limits)
                .map(|v| version_of(v.signed())),
            RoleType::Timestamp => verify::verify::<Timestamp>(&meta, name, &authority, &limits)
                .map(|v| version_of(v.signed())),
            RoleType::Snapshot => verify::verify::<Snapshot>(&meta, name, &authority, &limits)
                .map(|v| version_of(v.signed())),
            RoleType::Targets => verify::verify::<Targets>(&meta, name, &authority, &limits)
                .map(|v| version_of(v.signed())),
        }
        .map_err(code);
    }
    if let Some(delegator_env) = case.get("verify_with_delegator") {
        let role_name = str_field(case, "delegated_role");
        let delegator_meta =
            SignedMetadata::parse(&envelope_bytes(delegator_env), RoleType::Targets, &limits)
                .expect("the vector's delegator parses");
        let delegator: Targets = delegator_meta
            .decode_unverified("delegator", &limits)
            .expect("the vector's delegator is valid");
        let delegations = delegator.delegations.as_ref().expect("delegator delegates");
        let authority = if let Some(roles) = &delegations.roles {
            let role = roles
                .iter()
                .find(|r| r.name.as_str() == role_name)
                .expect("delegator lists the role");
            Authority::from_delegated_role(delegations, role)
        } else {
            let bins = delegations
                .succinct_roles
                .as_ref()
                .expect("roles or succinct_roles");
            assert!(
                bins.bin_number(role_name).is_some(),
                "{role_name} is one of the bins"
            );
            Authority::from_succinct(delegations, bins)
        };
        let verified =
            verify::verify::<Targets>(&meta, role_name, &authority, &limits).map_err(code)?;
        return Ok(version_of(verified.signed()));
    }
    // Parse only.
    let version = match role {
        RoleType::Root => meta
            .decode_unverified::<Root>("root", &limits)
            .map(|r| version_of(&r)),
        RoleType::Timestamp => meta
            .decode_unverified::<Timestamp>("timestamp", &limits)
            .map(|r| version_of(&r)),
        RoleType::Snapshot => meta
            .decode_unverified::<Snapshot>("snapshot", &limits)
            .map(|r| version_of(&r)),
        RoleType::Targets => meta
            .decode_unverified::<Targets>("targets", &limits)
            .map(|r| version_of(&r)),
    };
    version.map_err(code)
}

fn sparse_path_case(case: &Value) -> Outcome {
    let name = CrateName::parse(str_field(case, "name")).map_err(|e| e.code().to_owned())?;
    let path = name.sparse_path();
    // The path maps back to the (lowercased) name.
    let back = CrateName::from_sparse_path(&path).expect("a sparse path parses back");
    assert!(back.as_str().eq_ignore_ascii_case(name.as_str()));
    Ok(Value::String(path))
}

fn crate_name_case(case: &Value) -> Outcome {
    CrateName::parse(str_field(case, "name"))
        .map(|_| Value::Bool(true))
        .map_err(|e| e.code().to_owned())
}

fn index_file_case(case: &Value) -> Outcome {
    let name = CrateName::parse(str_field(case, "name")).map_err(|e| e.code().to_owned())?;
    let lines = parse_index_file(
        &name,
        str_field(case, "text").as_bytes(),
        &IndexLimits::default(),
    )
    .map_err(|e| e.code().to_owned())?;
    Ok(Value::from(lines.len()))
}

#[test]
fn all_vectors() {
    let kinds: [Kind; 7] = [
        ("cjson", cjson_case),
        ("keyid", keyid_case),
        ("signature", signature_case),
        ("metadata", metadata_case),
        ("sparse-path", sparse_path_case),
        ("crate-name", crate_name_case),
        ("index-file", index_file_case),
    ];
    let mut total = 0;
    let mut failures = Vec::new();
    for (kind, run) in kinds {
        let (count, mut failed) = run_dir(kind, run);
        println!("{kind}: {count} vectors, {} failed", failed.len());
        total += count;
        failures.append(&mut failed);
    }
    assert!(
        failures.is_empty(),
        "{} vector(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        total >= MIN_VECTORS,
        "only {total} vectors found, expected at least {MIN_VECTORS}"
    );
    println!("{total} vectors passed");
}
