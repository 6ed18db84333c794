//! `tuf publish`, `tuf refresh` and `tuf verify` through the binary, on the layout the
//! ceremony commands make: the whole flow, and error paths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use cli_support::Env;
use predicates::prelude::*;

/// A small sparse index under `index/`.
fn write_index(env: &Env) {
    env.write_index_config();
    env.write(
        "index/de/mo/demo",
        b"{\"name\":\"demo\",\"vers\":\"0.1.0\"}\n",
    );
}

fn publish(env: &Env) -> assert_cmd::Command {
    env.publish("online.pem")
}

#[test]
fn keys_to_publish_verify_and_refresh() {
    let env = Env::new();
    let h = env.committed_ceremony_repo();
    write_index(&env);
    env.trust_root_v1();

    // Targets is staged but unsigned: publish refuses with exit 3, naming the tgt key.
    publish(&env)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("staged targets"))
        .stderr(predicate::str::contains(h.tgt.as_str()))
        .stderr(predicate::str::contains("(tgt)"));
    assert!(!env.path("repo/metadata/timestamp.json").exists());
    assert!(!env.path("repo/metadata/1.targets.json").exists());

    env.sign("targets", "tgt");
    let staged = env.read("repo/staged/targets.json");
    publish(&env)
        .assert()
        .success()
        .stderr(predicate::str::contains("published (First)"));
    // Targets committed byte for byte; staged copy gone.
    assert_eq!(env.read("repo/metadata/1.targets.json"), staged);
    assert!(!env.path("repo/staged/targets.json").exists());
    assert!(env.path("repo/metadata/timestamp.json").exists());
    env.verify()
        .assert()
        .success()
        .stderr(predicate::str::contains("ok: root v1, timestamp v1"));

    // An index file changes: an incremental publish, and the result verifies.
    std::fs::write(
        env.path("index/de/mo/demo"),
        b"{\"name\":\"demo\",\"vers\":\"0.1.0\"}\n{\"name\":\"demo\",\"vers\":\"0.2.0\"}\n",
    )
    .unwrap();
    env.verify()
        .assert()
        .code(1)
        .stdout(predicate::str::contains("de/mo/demo"));
    publish(&env)
        .assert()
        .success()
        .stderr(predicate::str::contains("published (Incremental)"));
    env.verify()
        .assert()
        .success()
        .stderr(predicate::str::contains("timestamp v2"));

    // Hook mode: the registry names the changed path.
    env.write("index/ne/wc/newcrate", b"{\"name\":\"newcrate\"}\n");
    publish(&env)
        .args(["--changed", "ne/wc/newcrate"])
        .assert()
        .success();
    env.verify()
        .assert()
        .success()
        .stderr(predicate::str::contains("3 index files checked"));

    // Nothing staged, the wrong key on the hook path: the engine refuses it before
    // signing, and publish names the key and the one expected (exit 5). Nothing written.
    let before = env.read("repo/metadata/timestamp.json");
    let files_before = std::fs::read_dir(env.path("repo/metadata"))
        .unwrap()
        .count();
    env.write("index/ne/wc/newcrate", b"{\"name\":\"newcrate\",\"v\":2}\n");
    env.publish("tgt.pem")
        .args(["--changed", "ne/wc/newcrate"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("tgt.pem holds key"))
        .stderr(predicate::str::contains(
            "not the online (timestamp) key of published root v1",
        ))
        .stderr(predicate::str::contains("Nothing was signed"));
    assert_eq!(env.read("repo/metadata/timestamp.json"), before);
    assert_eq!(
        std::fs::read_dir(env.path("repo/metadata"))
            .unwrap()
            .count(),
        files_before
    );
    publish(&env)
        .args(["--changed", "ne/wc/newcrate"])
        .assert()
        .success();

    // Nothing expires within an hour: refresh says so and changes nothing.
    let before = env.read("repo/metadata/timestamp.json");
    env.refresh("online.pem")
        .args(["--within", "1h"])
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing to do"));
    assert_eq!(env.read("repo/metadata/timestamp.json"), before);
    // The timestamp (1d) expires within 2d: refresh re-signs it, and it still verifies.
    env.refresh("online.pem")
        .args(["--within", "2d"])
        .assert()
        .success()
        .stderr(predicate::str::contains("refreshed"));
    assert_ne!(env.read("repo/metadata/timestamp.json"), before);
    env.verify().assert().success();
}

#[test]
fn publish_needs_only_an_encrypted_online_key() {
    let env = Env::new();
    let _h = env.ceremony_repo();
    // A fresh 1-of-1 repository whose online key is encrypted.
    std::fs::remove_dir_all(env.path("repo")).unwrap();
    env.key("online2");
    env.init_with_online("repo", &["alice"], "online2")
        .assert()
        .success();
    write_index(&env);
    env.sign("root", "alice");
    env.sign("targets", "tgt");
    // The staged root is committed by publish itself; only the online key is given.
    // Without the passphrase: refused (exit 5) before anything is written.
    env.publish("online2.pem")
        .args(["--passphrase-env", "TUF_TEST_WRONG_PW"])
        .assert()
        .code(5);
    assert!(!env.path("repo/metadata/timestamp.json").exists());
    env.publish("online2.pem")
        .args(["--passphrase-env", "TUF_TEST_PW"])
        .assert()
        .success();
    assert!(env.path("repo/metadata/1.root.json").exists());
    assert!(env.path("repo/metadata/timestamp.json").exists());
}

#[test]
fn error_paths() {
    let env = Env::new();
    let _h = env.ceremony_repo();
    write_index(&env);
    // Root under threshold: refused, exit 3, naming root keys still missing.
    env.sign("root", "alice");
    env.sign("targets", "tgt");
    publish(&env)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("staged root"))
        .stderr(predicate::str::contains("(bob)"));
    // Not a repository.
    env.tuf()
        .args([
            "publish",
            "nope",
            "--index",
            "index",
            "--online-key",
            "online.pem",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a tuf repository"));
    // Nothing published: refresh and verify fail with a message.
    env.refresh("online.pem")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nothing published yet"));
    env.refresh("online.pem")
        .args(["--within", "soon"])
        .assert()
        .code(2);
    // The wrong key as the online key: refused (exit 5) before the staged root is
    // committed or anything is signed.
    env.sign("root", "bob");
    env.publish("tgt.pem").assert().code(5);
    assert!(!env.path("repo/metadata/timestamp.json").exists());
    assert!(!env.path("repo/metadata/1.root.json").exists());
    // A root not trusted by the verifier: a clear failure.
    env.root_commit().assert().success();
    std::fs::write(env.path("trusted-root.json"), b"{}").unwrap();
    env.verify()
        .assert()
        .code(1)
        .stderr(predicate::str::contains("does not verify"));
}

#[test]
fn x_repo_publish_reads_only_the_online_key() {
    let env = Env::new();
    write_index(&env);
    env.tuf()
        .args(["x-repo", "init", "--repo", "xr", "--keys", "xkeys"])
        .args(["--bit-length", "2"])
        .assert()
        .success();
    // The offline keys are not on the publishing server.
    std::fs::remove_file(env.path("xkeys/root.pem")).unwrap();
    std::fs::remove_file(env.path("xkeys/targets.pem")).unwrap();
    env.tuf()
        .args(["x-repo", "publish", "--index", "index", "--repo", "xr"])
        .args(["--keys", "xkeys"])
        .assert()
        .success();
    env.tuf()
        .args(["x-repo", "refresh", "--index", "index", "--repo", "xr"])
        .args(["--keys", "xkeys"])
        .assert()
        .success();
    env.tuf()
        .args(["verify", "--root", "xr/metadata/1.root.json", "xr/metadata"])
        .args(["--index", "index"])
        .assert()
        .success();
}

#[test]
fn link_copies_warns_of_index_files_rewritten_in_place() {
    let env = Env::new();
    let _h = env.committed_ceremony_repo();
    write_index(&env);
    env.sign("targets", "tgt");
    publish(&env).arg("--link-copies").assert().success();
    // The registry rewrites the file in place (same inode), which --link-copies forbids.
    std::fs::write(
        env.path("index/de/mo/demo"),
        b"{\"name\":\"demo\",\"vers\":\"0.1.0\"}\n{\"name\":\"demo\",\"vers\":\"0.3.0\"}\n",
    )
    .unwrap();
    let out = publish(&env)
        .args(["--link-copies", "--json", "--changed", "de/mo/demo"])
        .assert()
        .success()
        .stderr(predicate::str::contains("rewrote them in place"))
        .stderr(predicate::str::contains("de/mo/demo"))
        .get_output()
        .stdout
        .clone();
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        summary["modified_in_place"],
        serde_json::json!(["de/mo/demo"])
    );
    assert_eq!(summary["copies_written"], 1);
    assert_eq!(summary["copies_linked"], 0);
    // The current copies verify (without --index, `tuf verify` checks REPO/targets/).
    env.trust_root_v1();
    env.verify_copies()
        .assert()
        .success()
        .stderr(predicate::str::contains("target copies checked"));
    // --link-copies and --no-copies contradict each other.
    publish(&env)
        .args(["--link-copies", "--no-copies"])
        .assert()
        .code(2);
}

/// A committed repository (root v1, targets signed) with [`Env::write_small_index`]
/// published once by `online.pem`.
fn published_small_index(env: &Env) {
    let _h = env.committed_ceremony_repo();
    env.write_small_index();
    env.sign("targets", "tgt");
    publish(env)
        .assert()
        .success()
        .stderr(predicate::str::contains("published (First)"));
}

/// The names in `repo/metadata` and the bytes of `timestamp.json`.
fn metadata_state(env: &Env) -> (Vec<String>, Vec<u8>) {
    let mut names: Vec<String> = std::fs::read_dir(env.path("repo/metadata"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    (names, env.read("repo/metadata/timestamp.json"))
}

/// Issue #11 item 6: the online key is checked on every publish, not only on those that
/// sign something, so a misconfigured hook fails on its first run.
#[test]
fn a_wrong_online_key_is_refused_when_nothing_changed() {
    let env = Env::new();
    published_small_index(&env);
    env.plain_key("stranger");
    let before = metadata_state(&env);
    // A scan that finds nothing changed, and a hook naming an unchanged file.
    for extra in [&[][..], &["--changed", "de/mo/demo"][..]] {
        env.publish("stranger.pem")
            .args(extra)
            .assert()
            .code(5)
            .stderr(predicate::str::contains("stranger.pem holds key"))
            .stderr(predicate::str::contains("Nothing was signed"));
        assert_eq!(metadata_state(&env), before, "{extra:?}");
    }
    // The right key, nothing changed: nothing to sign, exit 0.
    publish(&env).assert().success();
}
