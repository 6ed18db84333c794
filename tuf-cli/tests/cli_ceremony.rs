//! Ceremonies end to end through the binary: init, sign (in place, detached, merged),
//! status, root commit and root rotation, with their error paths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use cli_support::{ids, parse, role, sorted, Env};
use predicates::prelude::*;
use tuf_core::metadata::{RoleType, Root};
use tuf_core::verify::{verify_root_rotation, verify_root_self_signed};
use tuf_core::Limits;

/// The `signed` part of a metadata file, as raw bytes.
fn signed_part(bytes: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap();
    let at = text.find(",\"signed\":").expect("compact envelope");
    text.as_bytes()[at..].to_vec()
}

#[test]
fn two_of_three_ceremony_with_a_detached_signature() {
    let env = Env::new();
    let h = env.ceremony_repo();
    assert!(env.path("repo/policy.json").exists());
    let original = env.read("repo/staged/root.json");

    // Nobody has signed: every root key is missing.
    let (report, code) = env.status_json(&[]);
    assert_eq!(code, 3);
    let root = role(&report, "root", "staged");
    assert_eq!(root["thresholds"][0]["threshold"], 2);
    assert_eq!(
        ids(&root["thresholds"][0], "missing"),
        sorted(vec![h.alice.clone(), h.bob.clone(), h.carol.clone()])
    );

    // Alice signs in place: one of two, bob and carol missing.
    env.sign("root", "alice");
    let (report, code) = env.status_json(&[]);
    assert_eq!(code, 3);
    let count = &role(&report, "root", "staged")["thresholds"][0];
    assert_eq!(count["met"], false);
    assert_eq!(ids(count, "signed"), vec![h.alice.clone()]);
    assert_eq!(
        ids(count, "missing"),
        sorted(vec![h.bob.clone(), h.carol.clone()])
    );
    env.tuf()
        .args(["status", "repo"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains(
            "1 of 2 signature(s) - THRESHOLD NOT MET",
        ))
        .stdout(predicate::str::contains(format!(
            "missing: {} (bob)",
            h.bob
        )));

    // Bob signs a copy on an air-gapped machine and hands back a detached signature.
    let sha = role(&report, "root", "staged")["signed_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::create_dir(env.path("usb")).unwrap();
    std::fs::copy(env.path("repo/staged/root.json"), env.path("usb/root.json")).unwrap();
    env.sign_detached("usb/root.json", "bob", "usb/bob.sig.json")
        .args(["--expect-sha256", &sha])
        .assert()
        .success()
        .stdout(predicate::str::contains(&sha));
    // The copy itself is untouched.
    assert_eq!(env.read("usb/root.json"), env.read("repo/staged/root.json"));
    env.merge_root_signature("usb/bob.sig.json")
        .assert()
        .success()
        .stderr(predicate::str::contains("threshold met"));

    // Targets signed too: everything met.
    env.sign("targets", "tgt");
    let (report, code) = env.status_json(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["thresholds_met"], true);

    // The signed bytes were never reformatted.
    let signed = env.read("repo/staged/root.json");
    assert_eq!(signed_part(&signed), signed_part(&original));
    let meta = parse(&env.path("repo/staged/root.json"), RoleType::Root);
    let verified = verify_root_self_signed(&meta, &Limits::default()).unwrap();
    assert_eq!(verified.version.get(), 1);

    // Commit publishes it as metadata/1.root.json, byte for byte.
    env.root_commit().assert().success();
    assert_eq!(env.read("repo/metadata/1.root.json"), signed);
    assert!(!env.path("repo/staged/root.json").exists());
}

#[test]
fn commit_refuses_below_threshold_and_names_missing_keys() {
    let env = Env::new();
    let h = env.ceremony_repo();
    env.sign("root", "alice");
    env.root_commit()
        .assert()
        .code(3)
        .stderr(predicate::str::contains("1 of 2"))
        .stderr(predicate::str::contains(&h.carol));
    assert!(!env.path("repo/metadata/1.root.json").exists());
}

#[test]
fn detached_signature_over_another_file_is_refused() {
    let env = Env::new();
    env.ceremony_repo();
    // A second repository with the same holders: a different staged root.
    env.init("other", &["alice", "bob", "carol"])
        .args(["--root-threshold", "2", "--expires", "100d"])
        .assert()
        .success();
    env.sign_detached("other/staged/root.json", "bob", "bob.sig.json")
        .assert()
        .success();
    let before = env.read("repo/staged/root.json");
    env.merge_root_signature("bob.sig.json")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("made for a different file"));
    assert_eq!(env.read("repo/staged/root.json"), before);

    // A detached signature whose hash matches but whose signature was tampered with.
    env.sign_detached("repo/staged/root.json", "bob", "bob2.sig.json")
        .assert()
        .success();
    let text = String::from_utf8(env.read("bob2.sig.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["signature"]["sig"] = serde_json::Value::String("00".repeat(64));
    std::fs::write(env.path("bob2.sig.json"), value.to_string()).unwrap();
    env.merge_root_signature("bob2.sig.json")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("does not verify"));
    assert_eq!(env.read("repo/staged/root.json"), before);
}

#[test]
fn expect_sha256_mismatch_refuses_to_sign() {
    let env = Env::new();
    env.ceremony_repo();
    env.sign_cmd("root", "alice")
        .args([
            "--passphrase-env",
            "TUF_TEST_PW",
            "--expect-sha256",
            &"ab".repeat(32),
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not the file you meant to sign"));
    let meta = parse(&env.path("repo/staged/root.json"), RoleType::Root);
    assert!(meta.signatures().is_empty());
    env.tuf()
        .args(["sign", "--repo", "repo", "--role", "root", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("sha256 of signed bytes"));
}

#[test]
fn root_rotation_status_under_old_and_new_thresholds() {
    let env = Env::new();
    let h = env.committed_ceremony_repo();
    let dave = env.key("dave");

    // Root 2: dave in, carol out, still 2 of 3.
    env.tuf()
        .args(["root", "rotate", "repo", "--add-key", "root=dave.pub.json"])
        .args([
            "--remove-key",
            "root=carol.pub.json",
            "--threshold",
            "root=2",
        ])
        .args(["--expires", "400d"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("root: + {dave} (dave)")))
        .stdout(predicate::str::contains(format!(
            "root: - {} (carol)",
            h.carol
        )));

    // Alice signs: 1 of 2 under both roots.
    env.sign("root", "alice");
    let (report, code) = env.status_json(&[]);
    assert_eq!(code, 3);
    let staged = role(&report, "root", "staged");
    let (old, new) = (&staged["thresholds"][0], &staged["thresholds"][1]);
    assert_eq!(old["authority"], "root v1 (trusted)");
    assert_eq!(new["authority"], "root v2 (itself)");
    assert_eq!(
        ids(old, "missing"),
        sorted(vec![h.bob.clone(), h.carol.clone()])
    );
    assert_eq!(
        ids(new, "missing"),
        sorted(vec![h.bob.clone(), dave.clone()])
    );

    // Dave signs: the new root's threshold is met, the old one's is not.
    env.sign("root", "dave");
    let (report, _) = env.status_json(&[]);
    let staged = role(&report, "root", "staged");
    assert_eq!(staged["thresholds"][0]["met"], false);
    assert_eq!(staged["thresholds"][1]["met"], true);
    assert_eq!(
        ids(&staged["thresholds"][0], "not_counted"),
        vec![dave.clone()]
    );
    env.root_commit()
        .assert()
        .code(3)
        .stderr(predicate::str::contains("under root v1 (trusted)"));

    // Bob signs: both met; commit; a client that trusts root 1 accepts root 2.
    env.sign("root", "bob");
    let (report, _) = env.status_json(&[]);
    assert_eq!(role(&report, "root", "staged")["threshold_met"], true);
    env.root_commit().assert().success();
    let one = parse(&env.path("repo/metadata/1.root.json"), RoleType::Root);
    // The client's trust anchor: root 1 as it verifies itself (TUF §5.2).
    let one = verify_root_self_signed(&one, &Limits::default()).unwrap();
    let two = parse(&env.path("repo/metadata/2.root.json"), RoleType::Root);
    let two = verify_root_rotation(&two, &one, &Limits::default()).unwrap();
    assert_eq!(two.version.get(), 2);
    assert!(!two
        .keys
        .contains_key(&tuf_core::metadata::KeyId::parse(&h.carol).unwrap()));
}

#[test]
fn rotate_replaces_the_online_key() {
    let env = Env::new();
    env.committed_ceremony_repo();
    let new_online = env.plain_key("online2");
    env.tuf()
        .args(["root", "rotate", "repo", "--online-key", "online2.pub.json"])
        .assert()
        .success()
        .stderr(predicate::str::contains("bins"));
    let staged = parse(&env.path("repo/staged/root.json"), RoleType::Root);
    let root: Root = staged
        .decode_unverified("root", &Limits::default())
        .unwrap();
    for r in [RoleType::Timestamp, RoleType::Snapshot] {
        let keys = root.role_keys(r).unwrap();
        assert_eq!(keys.keyids.len(), 1);
        assert_eq!(keys.keyids[0].as_str(), new_online);
    }
    // A second rotation needs --replace.
    env.tuf()
        .args(["root", "rotate", "repo", "--expires", "30d"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--replace"));
}

#[test]
fn status_warns_about_expiry() {
    let env = Env::new();
    env.key("alice");
    env.plain_key("tgt");
    env.plain_key("online");
    env.init("repo", &["alice"])
        .args(["--expires", "2d"])
        .assert()
        .success();
    env.sign("root", "alice");
    env.sign("targets", "tgt");
    let (report, code) = env.status_json(&["--warn-within", "7d"]);
    assert_eq!(code, 4, "{report:#}");
    assert_eq!(role(&report, "root", "staged")["expiry"], "expiring");
    assert_eq!(role(&report, "targets", "staged")["expiry"], "ok");
    let (_, code) = env.status_json(&["--warn-within", "1d"]);
    assert_eq!(code, 0);
    // The default window is per role: a quarter of the policy's period (here 2d: 12h),
    // at most 30d for root; the root's 2 days left are then not flagged...
    env.tuf().args(["status", "repo"]).assert().code(0);
    // ...but under a policy of a year they are (30d window), and the window is printed
    // as durations are written.
    let policy_path = env.path("repo/policy.json");
    let policy = std::fs::read_to_string(&policy_path).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&policy).unwrap();
    value["expiry"]["root"] = "365d".into();
    std::fs::write(&policy_path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    env.tuf()
        .args(["status", "repo"])
        .assert()
        .code(4)
        .stdout(predicate::str::contains("expires soon"))
        .stdout(predicate::str::contains(
            "warning window root 30d, targets 30d, snapshot 3h, timestamp 3h, bins 3h",
        ));
    let (report, code) = env.status_json(&[]);
    assert_eq!(code, 4);
    assert_eq!(report["warn_within"], "per role");
    assert_eq!(role(&report, "root", "staged")["warn_within"], "30d");
    assert_eq!(role(&report, "root", "staged")["expiry"], "expiring");
}

#[test]
fn usage_and_setup_errors() {
    let env = Env::new();
    env.ceremony_repo();
    // Initialising twice.
    env.init("repo", &["alice"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already a tuf repository"));
    // An impossible threshold.
    env.init("r2", &["alice"])
        .args(["--root-threshold", "2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "root threshold 2 is impossible with 1 key",
        ));
    // The online key doubling as an offline key.
    env.init_with_online("r3", &["alice"], "alice")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("must not hold offline authority"));
    assert!(!env.path("r2/policy.json").exists());
    // Rotation before anything is published.
    env.tuf()
        .args(["root", "rotate", "repo", "--threshold", "root=3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no root is published"));
    // Not a repository.
    env.tuf()
        .args(["status", "nowhere"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a tuf repository"));
    // Nothing to do.
    env.tuf()
        .args(["sign", "--repo", "repo", "--role", "root"])
        .assert()
        .code(2);
    // A bad duration.
    env.tuf()
        .args(["status", "repo", "--warn-within", "soon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a duration"));
}

#[test]
fn a_published_root_not_signed_by_the_root_before_it_is_not_trusted() {
    // `tuf status` and `tuf root rotate` used to take the newest N.root.json as the
    // published root without walking the chain; a 2.root.json signed only by its own
    // (new) keys looked trusted. They now walk from 1.root.json with the client's steps
    // (TUF §5.3.4), which refuse it.
    use tuf_core::crypto::{Ed25519Signer, Signer};
    use tuf_core::metadata::{sign_role, Threshold, Version};
    let env = Env::new();
    env.committed_ceremony_repo();
    let (report, _) = env.status_json(&[]);
    let published = role(&report, "root", "published");
    assert!(published["error"].is_null(), "{published}");
    assert_eq!(published["version"], 1);

    let limits = Limits::default();
    let one: Root = parse(&env.path("repo/metadata/1.root.json"), RoleType::Root)
        .decode_unverified("root", &limits)
        .unwrap();
    let stranger = Ed25519Signer::from_seed(&[77; 32]).unwrap();
    let mut two = one.clone();
    two.version = Version::new(2).unwrap();
    two.keys
        .insert(stranger.key_id().clone(), stranger.public_key().clone());
    let root_role = two.roles.get_mut("root").unwrap();
    root_role.keyids = vec![stranger.key_id().clone()];
    root_role.threshold = Threshold::new(1).unwrap();
    let signers: [&dyn Signer; 1] = [&stranger];
    env.write(
        "repo/metadata/2.root.json",
        sign_role(&two, &signers).unwrap(),
    );

    let (report, code) = env.status_json(&[]);
    assert_eq!(code, 1, "{report}");
    let published = role(&report, "root", "published");
    let error = published["error"].as_str().unwrap();
    assert!(
        error.contains("2.root.json") && error.contains("threshold"),
        "{error}"
    );
    env.tuf()
        .args(["root", "rotate", "repo"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("2.root.json"));
}
