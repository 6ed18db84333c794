//! Hardware keys through PKCS#11, against SoftHSM2 (a real PKCS#11 implementation, one
//! token directory per test): keys made on the token or imported from files, a 2-of-3
//! root ceremony with one token key beside two file keys (in place, detached, merged,
//! `--expect-sha256`, `--dry-run`), published and followed by the client; a root
//! rotation that adds a token key; and the errors a key holder meets. python-tuf's
//! ngclient (the reference client) verifies a repository whose root and targets are
//! signed only by token keys (ECDSA P-256 and Ed25519), follows a token-signed rotation,
//! and refuses a token signature altered by one byte.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;
mod ngclient;
mod softhsm;

use std::fs;
use std::time::Instant;

use chrono::Utc;
use cli_support::{parse, role, Env};
use ngclient::{interop_python, Ngclient};
use predicates::prelude::*;
use softhsm::{SoftHsm, P384_TEST_KEY, PIN, RSA_TEST_KEY};
use tuf_client::{HttpFetcher, Updater, UpdaterConfig};
use tuf_core::crypto::{signer_from_pkcs8_der, PublicKey};
use tuf_core::metadata::{KeyId, RoleType, SignedMetadata};
use tuf_core::verify::{verify_root_rotation, verify_root_self_signed};
use tuf_core::Limits;
use tuf_test_support::http::Server;

/// `tuf` in `env`, pointed at `hsm`.
fn tuf(env: &Env, hsm: &SoftHsm) -> assert_cmd::Command {
    let mut cmd = env.tuf();
    hsm.env(&mut cmd);
    cmd
}

/// `tuf -q key generate URI --type TYPE --public NAME.pub.json --pin-env TUF_TEST_PIN`:
/// a key pair made on the token; the printed key id.
fn token_key(env: &Env, hsm: &SoftHsm, uri: &str, key_type: &str, name: &str) -> String {
    let out = tuf(env, hsm)
        .args(["-q", "key", "generate", uri, "--type", key_type])
        .args(["--public", &format!("{name}.pub.json")])
        .args(["--pin-env", "TUF_TEST_PIN"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap().trim().to_owned()
}

/// `tuf sign ... --key URI --pin-env TUF_TEST_PIN`, the caller adding what to sign.
fn sign_with_token(env: &Env, hsm: &SoftHsm, uri: &str) -> assert_cmd::Command {
    let mut cmd = tuf(env, hsm);
    cmd.args(["sign", "--key", uri, "--pin-env", "TUF_TEST_PIN"]);
    cmd
}

/// The public key in `NAME.pub.json`.
fn public_key(env: &Env, name: &str) -> PublicKey {
    serde_json::from_slice(&env.read(&format!("{name}.pub.json"))).unwrap()
}

/// `keyid`'s signature in `meta` checks out under `key`, through tuf-core's verifier (the
/// one every file-key signature goes through).
fn assert_signature_verifies(meta: &SignedMetadata, keyid: &str, key: &PublicKey) {
    let signature = meta
        .signatures()
        .iter()
        .find(|s| s.keyid.as_str() == keyid)
        .unwrap_or_else(|| panic!("no signature by {keyid}"));
    key.verify(
        meta.canonical_signed(),
        &hex::decode(&signature.sig).unwrap(),
    )
    .unwrap();
}

/// A client trusting `trusted-root.json` that refreshes from `repo` served on 127.0.0.1
/// and finds `config.json` in the index.
fn client_refreshes(env: &Env) -> Updater<HttpFetcher> {
    let server = Server::serve_dir(&env.path("repo"));
    let metadata = env.path("client/metadata");
    fs::create_dir_all(&metadata).unwrap();
    fs::write(metadata.join("root.json"), env.read("trusted-root.json")).unwrap();
    let config = UpdaterConfig::new(&format!("{}/metadata/", server.base), metadata);
    let mut updater = Updater::new(config, HttpFetcher::new().unwrap()).unwrap();
    updater.refresh(Utc::now()).unwrap();
    assert!(updater
        .target_info("config.json", Utc::now())
        .unwrap()
        .is_some());
    updater
}

/// Root keys: carol's on a token (ECDSA P-256, made there), alice's and bob's in files;
/// 2 of 3. Carol signs in place with the token, bob on an air-gapped copy with his file
/// key and a detached signature; then the repository is published and a client follows it.
#[test]
fn two_of_three_root_ceremony_with_a_token_key_beside_two_file_keys() {
    let env = Env::new();
    let hsm = SoftHsm::new();
    hsm.init_token("root-carol");
    let uri = hsm.uri("root-carol", "tuf-root");
    let carol = token_key(&env, &hsm, &uri, "ecdsa-p256", "carol");
    env.key("alice");
    env.key("bob");
    env.plain_key("tgt");
    env.plain_key("online");
    env.init("repo", &["alice", "bob", "carol"])
        .args(["--root-threshold", "2"])
        .assert()
        .success();

    // A dry run shows what would be signed and does not touch the token (no PIN given,
    // no terminal to ask one on: a login would fail).
    tuf(&env, &hsm)
        .args(["sign", "--repo", "repo", "--role", "root", "--key", &uri])
        .arg("--dry-run")
        .assert()
        .success()
        .stdout(predicate::str::contains("sha256 of signed bytes"));
    assert!(parse(&env.path("repo/staged/root.json"), RoleType::Root)
        .signatures()
        .is_empty());

    // Carol signs in place with the token, checking the hash she was told.
    let (report, _) = env.status_json(&[]);
    let sha = role(&report, "root", "staged")["signed_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    sign_with_token(&env, &hsm, &uri)
        .args(["--repo", "repo", "--role", "root", "--expect-sha256", &sha])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("with key {carol}")))
        .stderr(predicate::str::contains("1 of 2 signature(s)"));

    // Bob signs an air-gapped copy with his file key; the operator merges it.
    fs::create_dir(env.path("usb")).unwrap();
    fs::copy(env.path("repo/staged/root.json"), env.path("usb/root.json")).unwrap();
    env.sign_detached("usb/root.json", "bob", "usb/bob.sig.json")
        .args(["--expect-sha256", &sha])
        .assert()
        .success();
    env.merge_root_signature("usb/bob.sig.json")
        .assert()
        .success()
        .stderr(predicate::str::contains("threshold met"));

    // The token's ECDSA signature verifies through tuf-core like any file key's, and the
    // root verifies as a client's first root would.
    let staged = parse(&env.path("repo/staged/root.json"), RoleType::Root);
    assert_signature_verifies(&staged, &carol, &public_key(&env, "carol"));
    let verified = verify_root_self_signed(&staged, &Limits::default()).unwrap();
    assert!(verified
        .role_keys(RoleType::Root)
        .unwrap()
        .keyids
        .iter()
        .any(|k| k.as_str() == carol));

    // Publish, then verify as a client: `tuf verify` and tuf-client over HTTP.
    env.sign("targets", "tgt");
    env.write_index_config();
    env.write_crate("serde", cli_support::index_line("serde", "1.0.0"));
    env.publish("online.pem").assert().success();
    env.trust_root_v1();
    env.verify().assert().success();
    client_refreshes(&env);
}

/// The air-gapped flow with a token key: alice's Ed25519 key, made in a file and imported
/// into her token, signs a copy of the staged root detached (with `--expect-sha256`);
/// the operator merges it. The module comes from `TUF_PKCS11_MODULE`. Ed25519 is
/// deterministic, so the token's signature is byte for byte the file key's.
#[test]
fn detached_signature_by_a_token_key_merges_and_equals_the_file_keys() {
    let env = Env::new();
    let hsm = SoftHsm::new();
    hsm.init_token("alice-key");
    let alice = env.plain_key("alice-file");
    hsm.import(&env.path("alice-file.pem"), "alice-key", "tuf-root", "a1");
    let uri = "pkcs11:token=alice-key;object=tuf-root";
    let module = hsm.module.to_str().unwrap().to_owned();

    // Exported from the token: the same public key file, the same key id.
    let exported = tuf(&env, &hsm)
        .env("TUF_PKCS11_MODULE", &module)
        .args(["-q", "key", "export", uri, "alice.pub.json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8(exported).unwrap().trim(), alice);
    assert_eq!(env.read("alice.pub.json"), env.read("alice-file.pub.json"));

    env.key("bob");
    env.key("carol");
    env.plain_key("tgt");
    env.plain_key("online");
    env.init("repo", &["alice", "bob", "carol"])
        .args(["--root-threshold", "2"])
        .assert()
        .success();
    let (report, _) = env.status_json(&[]);
    let sha = role(&report, "root", "staged")["signed_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    fs::create_dir(env.path("usb")).unwrap();
    fs::copy(env.path("repo/staged/root.json"), env.path("usb/root.json")).unwrap();

    // The wrong hash: refused before the token is asked, nothing written.
    sign_with_token(&env, &hsm, uri)
        .env("TUF_PKCS11_MODULE", &module)
        .args([
            "--file",
            "usb/root.json",
            "--detached",
            "usb/alice.sig.json",
        ])
        .args(["--expect-sha256", &"ab".repeat(32)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not the file you meant to sign"));
    assert!(!env.path("usb/alice.sig.json").exists());

    sign_with_token(&env, &hsm, uri)
        .env("TUF_PKCS11_MODULE", &module)
        .args([
            "--file",
            "usb/root.json",
            "--detached",
            "usb/alice.sig.json",
        ])
        .args(["--expect-sha256", &sha])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "detached signature by key {alice}"
        )));
    // The copy is untouched; the signature equals the file key's over the same bytes.
    assert_eq!(env.read("usb/root.json"), env.read("repo/staged/root.json"));
    let detached: serde_json::Value =
        serde_json::from_slice(&env.read("usb/alice.sig.json")).unwrap();
    let staged = parse(&env.path("repo/staged/root.json"), RoleType::Root);
    let pem = String::from_utf8(env.read("alice-file.pem")).unwrap();
    let (_, der) = pkcs8::der::pem::decode_vec(pem.as_bytes()).unwrap();
    let file_signature = signer_from_pkcs8_der(&der, tuf_cli::keys::system_random())
        .unwrap()
        .sign(staged.canonical_signed())
        .unwrap();
    assert_eq!(
        detached["signature"]["sig"].as_str().unwrap(),
        hex::encode(file_signature)
    );

    env.merge_root_signature("usb/alice.sig.json")
        .assert()
        .success();
    env.sign("root", "bob");
    env.root_commit().assert().success();
    let root = parse(&env.path("repo/metadata/1.root.json"), RoleType::Root);
    assert_signature_verifies(&root, &alice, &public_key(&env, "alice"));
    verify_root_self_signed(&root, &Limits::default()).unwrap();
}

/// Root v2 adds dave's key, made on his token (Ed25519); alice and bob sign with files,
/// dave with the token; a client trusting root v1 accepts root v2.
#[test]
fn root_rotation_adds_a_token_key() {
    let env = Env::new();
    let hsm = SoftHsm::new();
    env.committed_ceremony_repo();
    hsm.init_token("root-dave");
    let uri = hsm.uri("root-dave", "tuf-root");
    let dave = token_key(&env, &hsm, &uri, "ed25519", "dave");
    env.tuf()
        .args(["root", "rotate", "repo", "--add-key", "root=dave.pub.json"])
        .args(["--threshold", "root=3"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("root: + {dave} (dave)")));
    env.sign("root", "alice");
    env.sign("root", "bob");
    sign_with_token(&env, &hsm, &uri)
        .args(["--repo", "repo", "--role", "root"])
        .assert()
        .success()
        .stderr(predicate::str::contains("threshold met"));
    env.root_commit().assert().success();

    // The client's trust anchor: root 1 as it verifies itself (TUF §5.2).
    let one = verify_root_self_signed(
        &parse(&env.path("repo/metadata/1.root.json"), RoleType::Root),
        &Limits::default(),
    )
    .unwrap();
    let two = parse(&env.path("repo/metadata/2.root.json"), RoleType::Root);
    assert_signature_verifies(&two, &dave, &public_key(&env, "dave"));
    let two = verify_root_rotation(&two, &one, &Limits::default()).unwrap();
    assert_eq!(two.version.get(), 2);
    assert!(two.keys.contains_key(&KeyId::parse(&dave).unwrap()));
}

/// Keys imported from `tuf key generate` files have the same key ids on the token;
/// `tuf key list` shows them, with URIs that sign, and marks keys TUF cannot use.
#[test]
fn key_list_shows_token_keys_with_the_key_ids_of_their_files() {
    let env = Env::new();
    let hsm = SoftHsm::new();
    hsm.init_token("keys");
    let ed = env.plain_key("ed");
    let ec = String::from_utf8(
        env.tuf()
            .args(["-q", "key", "generate", "ec.pem", "--unencrypted"])
            .args(["--type", "ecdsa-p256"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap()
    .trim()
    .to_owned();
    hsm.import(&env.path("ed.pem"), "keys", "ed", "01");
    hsm.import(&env.path("ec.pem"), "keys", "ec", "02");
    hsm.import_pem_text(RSA_TEST_KEY, "keys", "rsa", "03");

    let listed = tuf(&env, &hsm)
        .args(["key", "list", "--module", hsm.module.to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains("token \"keys\""))
        .stderr(predicate::str::contains("it is an RSA key"))
        .get_output()
        .stdout
        .clone();
    let listed = String::from_utf8(listed).unwrap();
    let module = hsm.module.display().to_string();
    for expected in [
        format!("{ed}  ed25519  pkcs11:token=keys;id=%01?module-path={module}"),
        format!("{ec}  ecdsa-sha2-nistp256  pkcs11:token=keys;id=%02?module-path={module}"),
        format!("-  unusable  pkcs11:token=keys;id=%03?module-path={module}"),
    ] {
        assert!(
            listed.lines().any(|l| l == expected),
            "{expected}\n{listed}"
        );
    }
    // A listed URI signs as it is (here: a detached signature over a copy of a root).
    let listed_ed = listed.lines().find(|l| l.starts_with(&ed)).unwrap();
    let listed_uri = listed_ed.rsplit("  ").next().unwrap();
    env.plain_key("tgt");
    env.plain_key("online");
    env.init("repo", &["ed"]).assert().success();
    fs::copy(env.path("repo/staged/root.json"), env.path("root.json")).unwrap();
    sign_with_token(&env, &hsm, listed_uri)
        .args(["--file", "root.json", "--detached", "ed.sig.json"])
        .assert()
        .success();
    env.merge_root_signature("ed.sig.json")
        .assert()
        .success()
        .stderr(predicate::str::contains("threshold met"));
    // Logged in, the same keys (their private halves are there too).
    tuf(&env, &hsm)
        .args([
            "key",
            "list",
            "--module",
            &module,
            "--pin-env",
            "TUF_TEST_PIN",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(&ed))
        .stderr(predicate::str::contains("no private key").not());
    // Export by id alone gives the file's public key.
    tuf(&env, &hsm)
        .args([
            "-q",
            "key",
            "export",
            "pkcs11:token=keys;id=%02",
            "ec-token.pub.json",
        ])
        .args(["--module", &module])
        .assert()
        .success()
        .stdout(format!("{ec}\n"));
    assert_eq!(env.read("ec-token.pub.json"), env.read("ec.pub.json"));
    // The RSA key cannot be exported as a TUF key.
    tuf(&env, &hsm)
        .args([
            "key",
            "export",
            "pkcs11:token=keys;object=rsa",
            "rsa.pub.json",
        ])
        .args(["--module", &module])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("RSA"));
    assert!(!env.path("rsa.pub.json").exists());
}

/// Every way a token key can be refused, each with a message a key holder can act on,
/// and nothing signed.
#[test]
fn token_errors_a_key_holder_understands() {
    let env = Env::new();
    let hsm = SoftHsm::new();
    hsm.init_token("root-carol");
    let uri = hsm.uri("root-carol", "tuf-root");
    token_key(&env, &hsm, &uri, "ecdsa-p256", "carol");
    hsm.import_pem_text(RSA_TEST_KEY, "root-carol", "old-rsa", "0a");
    hsm.import_pem_text(P384_TEST_KEY, "root-carol", "p384", "0b");
    env.key("alice");
    env.key("bob");
    env.plain_key("tgt");
    env.plain_key("online");
    env.init("repo", &["alice", "bob", "carol"])
        .args(["--root-threshold", "2"])
        .assert()
        .success();
    let staged = env.read("repo/staged/root.json");
    let module = hsm.module.display().to_string();
    let sign = |key: &str| {
        let mut cmd = tuf(&env, &hsm);
        cmd.args(["sign", "--repo", "repo", "--role", "root", "--key", key]);
        cmd
    };

    // Wrong PIN: exit 5, said plainly, the PIN never echoed.
    let out = sign(&uri)
        .args(["--pin-env", "TUF_TEST_WRONG_PIN"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains(
            "wrong PIN for token \"root-carol\"",
        ))
        .get_output()
        .clone();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("999999") && !all.contains(PIN), "{all}");
    // The PIN variable not set.
    sign(&uri)
        .args(["--pin-env", "NO_SUCH_PIN_VARIABLE"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("NO_SUCH_PIN_VARIABLE"));
    // No such token: the present ones are named.
    sign(&hsm.uri("root-dave", "tuf-root"))
        .args(["--pin-env", "TUF_TEST_PIN"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains(
            "no token matching pkcs11:token=root-dave is present (present: \"root-carol\")",
        ));
    // No such key on the token: the keys there are named.
    sign(&hsm.uri("root-carol", "tuf-targets"))
        .args(["--pin-env", "TUF_TEST_PIN"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("no private key matching"))
        .stderr(predicate::str::contains("\"tuf-root\""));
    // Keys TUF cannot sign with.
    sign(&hsm.uri("root-carol", "old-rsa"))
        .args(["--pin-env", "TUF_TEST_PIN"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("it is an RSA key"));
    sign(&hsm.uri("root-carol", "p384"))
        .args(["--pin-env", "TUF_TEST_PIN"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("curve P-384"));
    // A module that does not exist, and a file that is not a module.
    sign("pkcs11:token=root-carol;object=tuf-root?module-path=/nonexistent/libnothing.so")
        .args(["--pin-env", "TUF_TEST_PIN"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains(
            "PKCS#11 module /nonexistent/libnothing.so does not exist",
        ));
    env.write("not-a-module.so", "just text");
    let not_module = env.path("not-a-module.so").display().to_string();
    sign(&format!(
        "pkcs11:token=root-carol;object=tuf-root?module-path={not_module}"
    ))
    .args(["--pin-env", "TUF_TEST_PIN"])
    .assert()
    .code(5)
    .stderr(predicate::str::contains("cannot load"));
    // No module named anywhere.
    sign("pkcs11:token=root-carol;object=tuf-root")
        .args(["--pin-env", "TUF_TEST_PIN"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("TUF_PKCS11_MODULE"));
    // A PIN in the URI is refused, and not echoed.
    sign(&format!("{uri}&pin-value=246810"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("carries a PIN"))
        .stderr(predicate::str::contains("246810").not());
    // A token key that is not a root key: the existing authorisation check applies.
    token_key(
        &env,
        &hsm,
        &format!("pkcs11:token=root-carol;object=other?module-path={module}"),
        "ed25519",
        "other",
    );
    sign(&format!(
        "pkcs11:token=root-carol;object=other?module-path={module}"
    ))
    .args(["--pin-env", "TUF_TEST_PIN"])
    .assert()
    .code(5)
    .stderr(predicate::str::contains("is not a root key"));
    // An existing label is never overwritten by a generate.
    tuf(&env, &hsm)
        .args(["key", "generate", &uri, "--public", "again.pub.json"])
        .args(["--pin-env", "TUF_TEST_PIN"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already holds an object labelled"));

    // Nothing was signed by any of these.
    assert_eq!(env.read("repo/staged/root.json"), staged);
}

/// The signatures of `file` (under `repo/metadata/`) as written: `(keyid, sig hex)`.
fn signatures(env: &Env, file: &str) -> Vec<(String, String)> {
    let meta: serde_json::Value =
        serde_json::from_slice(&env.read(&format!("repo/metadata/{file}"))).unwrap();
    meta["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let field = |name: &str| s[name].as_str().unwrap().to_owned();
            (field("keyid"), field("sig"))
        })
        .collect()
}

/// The key ids that signed `file` (under `repo/metadata/`), sorted.
fn signers(env: &Env, file: &str) -> Vec<String> {
    cli_support::sorted(signatures(env, file).into_iter().map(|(k, _)| k).collect())
}

/// python-tuf checks what token keys sign, with the code path it checks file-key
/// signatures with (securesystemslib's `SSlibKey.verify_signature`): root v1 signed only by
/// an ECDSA P-256 key (the token's `r || s` as DER) and an Ed25519 key on a SoftHSM2
/// token, 2 of 2; targets only by a token ECDSA key. ngclient trusts root v1, refreshes and
/// downloads targets; then follows root v2 (the ECDSA root key replaced by another token
/// key, signed by all three); and refuses root v2 with any one token signature altered by
/// one byte, keeping root v1 and downloading nothing.
#[test]
fn python_tuf_verifies_token_signatures_and_follows_a_token_signed_rotation() {
    let started = Instant::now();
    let python = interop_python();
    let env = Env::new();
    let hsm = SoftHsm::new();
    hsm.init_token("tuf-keys");
    let ec_uri = hsm.uri("tuf-keys", "root-ec");
    let ed_uri = hsm.uri("tuf-keys", "root-ed");
    let tgt_uri = hsm.uri("tuf-keys", "targets-ec");
    let ec = token_key(&env, &hsm, &ec_uri, "ecdsa-p256", "ec");
    let ed = token_key(&env, &hsm, &ed_uri, "ed25519", "ed");
    let tgt = token_key(&env, &hsm, &tgt_uri, "ecdsa-p256", "tgt");
    env.plain_key("online");
    // 16 bins, not the default thousands: the test is about signatures, not bins.
    env.init("repo", &["ec", "ed"])
        .args(["--root-threshold", "2", "--bit-length", "4"])
        .assert()
        .success();
    for (uri, role) in [(&ec_uri, "root"), (&ed_uri, "root"), (&tgt_uri, "targets")] {
        sign_with_token(&env, &hsm, uri)
            .args(["--repo", "repo", "--role", role])
            .assert()
            .success();
    }
    env.root_commit().assert().success();
    env.write_index_config();
    env.write_crate("serde", cli_support::index_line("serde", "1.0.0"));
    env.publish("online.pem").assert().success();
    env.trust_root_v1();
    // Only token signatures: python meets each threshold with them or not at all.
    assert_eq!(
        signers(&env, "1.root.json"),
        cli_support::sorted(vec![ec.clone(), ed.clone()])
    );
    assert_eq!(signers(&env, "1.targets.json"), vec![tgt.clone()]);
    // What python is given to check: an `ecdsa-sha2-nistp256` key whose signature is the
    // DER `SEQUENCE { r, s }` made from the token's `r || s`, and an `ed25519` key.
    let root_v1: serde_json::Value =
        serde_json::from_slice(&env.read("repo/metadata/1.root.json")).unwrap();
    assert_eq!(
        root_v1["signed"]["keys"][&ec]["scheme"],
        "ecdsa-sha2-nistp256"
    );
    assert_eq!(root_v1["signed"]["keys"][&ed]["scheme"], "ed25519");
    for (keyid, sig) in signatures(&env, "1.root.json") {
        if keyid == ec {
            assert!(
                sig.starts_with("30") && (140..=144).contains(&sig.len()),
                "{sig}"
            );
        }
    }

    let server = Server::serve_dir(&env.path("repo"));
    let ngclient = Ngclient {
        python: &python,
        base_url: server.base.clone(),
        env: &env,
    };
    let serde = cli_support::sparse_path("serde");
    ngclient.accepts(
        "client",
        "downloads-1",
        &["config.json", &serde],
        &["no/ta/notacrate"],
    );

    // Root v2: the ECDSA root key replaced by another made on the token. Signed by the
    // outgoing key and the Ed25519 key (root v1's threshold, TUF §5.3.4) and by the
    // Ed25519 key and the new one (root v2's).
    let ec2_uri = hsm.uri("tuf-keys", "root-ec2");
    let ec2 = token_key(&env, &hsm, &ec2_uri, "ecdsa-p256", "ec2");
    env.tuf()
        .args(["root", "rotate", "repo", "--add-key", "root=ec2.pub.json"])
        .args(["--remove-key", "root=ec.pub.json"])
        .assert()
        .success();
    for uri in [&ec_uri, &ed_uri, &ec2_uri] {
        sign_with_token(&env, &hsm, uri)
            .args(["--repo", "repo", "--role", "root"])
            .assert()
            .success();
    }
    env.root_commit().assert().success();
    assert_eq!(
        signers(&env, "2.root.json"),
        cli_support::sorted(vec![ec.clone(), ed.clone(), ec2.clone()])
    );
    // The client that trusts root v1 (stored by its first run) follows the rotation.
    ngclient.accepts("client", "downloads-2", &["config.json", &serde], &[]);
    assert_eq!(
        env.read("client/root.json"),
        env.read("repo/metadata/2.root.json")
    );

    // Each token signature of the served root v2 altered by one byte (the last, so an
    // ECDSA signature stays well-formed DER and only its `s` is wrong): a new client
    // trusting root v1 refuses it, by the threshold the signature was needed for, keeps
    // root v1 and downloads nothing.
    let good_root = env.read("repo/metadata/2.root.json");
    let good_text = String::from_utf8(good_root.clone()).unwrap();
    let good_signatures = signatures(&env, "2.root.json");
    for (keyid, which, needed_by) in [
        (&ec, "ecdsa-p256", "root v1's threshold"),
        (&ed, "ed25519", "both thresholds"),
        (&ec2, "ecdsa-p256-new", "root v2's threshold"),
    ] {
        let (_, good_sig) = good_signatures.iter().find(|(k, _)| k == keyid).unwrap();
        let mut bytes = hex::decode(good_sig).unwrap();
        *bytes.last_mut().unwrap() ^= 0x01;
        let bad_sig = hex::encode(bytes);
        assert_eq!(good_text.matches(good_sig.as_str()).count(), 1);
        env.write(
            "repo/metadata/2.root.json",
            good_text.replace(good_sig.as_str(), &bad_sig),
        );
        let client = format!("client-{which}");
        ngclient.refuses(
            &client,
            &format!("downloads-{which}"),
            &["config.json"],
            "UnsignedMetadataError: root was signed by 1/2 keys",
        );
        assert_eq!(
            env.read(&format!("{client}/root.json")),
            env.read("trusted-root.json"),
            "{which} (needed for {needed_by}): ngclient kept a root it refused"
        );
    }
    env.write("repo/metadata/2.root.json", &good_root);
    ngclient.accepts(
        "client-fresh",
        "downloads-fresh",
        &["config.json", &serde],
        &[],
    );

    eprintln!(
        "python-tuf and token keys: whole test {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
