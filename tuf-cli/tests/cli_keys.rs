//! `tuf key generate` and the key-loading rules: file modes, passphrases, formats.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use std::os::unix::fs::PermissionsExt as _;

use cli_support::{parse, Env};
use predicates::prelude::*;
use tuf_core::metadata::RoleType;

fn mode(env: &Env, name: &str) -> u32 {
    std::fs::metadata(env.path(name))
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn generate_writes_private_0600_public_json_and_prints_key_id() {
    let env = Env::new();
    let id = env.key("alice");
    assert_eq!(id.len(), 64);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(mode(&env, "alice.pem"), 0o600);
    let pem = String::from_utf8(env.read("alice.pem")).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let public: tuf_core::crypto::PublicKey =
        serde_json::from_slice(&env.read("alice.pub.json")).unwrap();
    assert_eq!(public.keytype, "ed25519");
    assert_eq!(public.key_id().unwrap().as_str(), id);

    let plain = env.plain_key("online");
    assert_eq!(mode(&env, "online.pem"), 0o600);
    assert!(String::from_utf8(env.read("online.pem"))
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_ne!(plain, id);
}

#[test]
fn generate_ecdsa_p256() {
    let env = Env::new();
    env.tuf()
        .args([
            "key",
            "generate",
            "ec.pem",
            "--type",
            "ecdsa-p256",
            "--unencrypted",
        ])
        .assert()
        .success()
        .stdout(predicate::function(|out: &str| {
            out.len() == 65
                && out.ends_with('\n')
                && out.bytes().take(64).all(|b| b.is_ascii_hexdigit())
        }));
    let public: tuf_core::crypto::PublicKey =
        serde_json::from_slice(&env.read("ec.pub.json")).unwrap();
    assert_eq!(public.keytype, "ecdsa");
    assert_eq!(public.scheme, "ecdsa-sha2-nistp256");
    // An ECDSA key works in a repository like any other.
    env.plain_key("tgt");
    env.plain_key("online");
    env.init("repo", &["ec"]).assert().success();
    env.sign_cmd("root", "ec")
        .assert()
        .success()
        .stderr(predicate::str::contains("threshold met"));
}

#[test]
fn generate_never_overwrites_a_key() {
    let env = Env::new();
    env.key("alice");
    let before = env.read("alice.pem");
    env.tuf()
        .args(["key", "generate", "alice.pem", "--unencrypted"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(env.read("alice.pem"), before);
}

#[test]
fn generate_without_passphrase_source_or_terminal_fails_cleanly() {
    let env = Env::new();
    env.tuf()
        .args([
            "key",
            "generate",
            "k.pem",
            "--passphrase-env",
            "TUF_UNSET_VARIABLE",
        ])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("TUF_UNSET_VARIABLE"));
    assert!(!env.path("k.pem").exists());
    assert!(!env.path("k.pub.json").exists());
}

#[test]
fn openssl_reads_plain_and_encrypted_keys() {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("openssl not installed; skipping");
        return;
    }
    let env = Env::new();
    env.key("alice");
    env.plain_key("plain");
    env.tuf()
        .args(["-q", "key", "generate", "ec.pem", "--type", "ecdsa-p256"])
        .args(["--passphrase-env", "TUF_TEST_PW"])
        .assert()
        .success();
    for (file, pass) in [
        ("plain.pem", None),
        ("alice.pem", Some("env:TUF_TEST_PW")),
        ("ec.pem", Some("env:TUF_TEST_PW")),
    ] {
        let mut cmd = std::process::Command::new("openssl");
        cmd.current_dir(env.dir.path())
            .args(["pkey", "-noout", "-in", file])
            .env("TUF_TEST_PW", cli_support::PW);
        if let Some(pass) = pass {
            cmd.args(["-passin", pass]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "openssl pkey {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn wrong_passphrase_is_refused_and_nothing_signed() {
    let env = Env::new();
    env.ceremony_repo();
    let before = env.read("repo/staged/root.json");
    env.sign_cmd("root", "alice")
        .args(["--passphrase-env", "TUF_TEST_WRONG_PW"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("wrong passphrase"));
    assert_eq!(env.read("repo/staged/root.json"), before);
}

#[test]
fn key_readable_by_others_is_refused() {
    let env = Env::new();
    env.ceremony_repo();
    std::fs::set_permissions(
        env.path("alice.pem"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    env.sign_cmd("root", "alice")
        .args(["--passphrase-env", "TUF_TEST_PW"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("mode 0644"))
        .stderr(predicate::str::contains("chmod 600"));
    let staged = parse(&env.path("repo/staged/root.json"), RoleType::Root);
    assert!(staged.signatures().is_empty());
}

#[test]
fn key_of_another_role_is_refused() {
    let env = Env::new();
    env.ceremony_repo();
    env.sign_cmd("root", "tgt")
        .assert()
        .code(5)
        .stderr(predicate::str::contains("is not a root key"));
}
