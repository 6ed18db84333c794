//! `tuf publish`, `tuf refresh` and `tuf verify` through the binary, on the layout the
//! ceremony commands make: the whole flow, and error paths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use std::path::PathBuf;

use cli_support::{files_holding, index_line, signed_targets, Env};
use predicates::prelude::*;

/// A small sparse index under `index/`.
fn write_index(env: &Env) {
    env.write_small_index();
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
    env.write_crate(
        "demo",
        index_line("demo", "0.1.0") + &index_line("demo", "0.2.0"),
    );
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
    env.write_crate("newcrate", index_line("newcrate", "0.1.0"));
    publish(&env)
        .args(["--changed", "ne/wc/newcrate"])
        .assert()
        .success();
    env.verify()
        .assert()
        .success()
        // 3 index files and, since `tuf init` turns release feeds on (docs/feeds.md),
        // 3 feed targets: demo's, newcrate's and the registry's.
        .stderr(predicate::str::contains("6 signed targets checked"));

    // Nothing staged, the wrong key on the hook path: the engine refuses it before
    // signing, and publish names the key and the one expected (exit 5). Nothing written.
    let before = env.read("repo/metadata/timestamp.json");
    let files_before = std::fs::read_dir(env.path("repo/metadata"))
        .unwrap()
        .count();
    env.write_crate(
        "newcrate",
        index_line("newcrate", "0.1.0") + &index_line("newcrate", "0.2.0"),
    );
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
fn link_copies_warns_of_index_files_rewritten_in_place() {
    let env = Env::new();
    let _h = env.committed_ceremony_repo();
    write_index(&env);
    env.sign("targets", "tgt");
    publish(&env).arg("--link-copies").assert().success();
    // The registry rewrites the file in place (same inode), which --link-copies forbids.
    std::fs::write(
        env.path("index/de/mo/demo"),
        index_line("demo", "0.1.0") + &index_line("demo", "0.3.0"),
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

/// `publish ARGS --json` exiting with `code`; its JSON summary.
fn publish_json(env: &Env, args: &[&str], code: i32) -> serde_json::Value {
    let out = publish(env).args(args).arg("--json").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The `(path, code)` pairs of a summary's `files_refused`.
fn refused(summary: &serde_json::Value) -> Vec<(String, String)> {
    summary["files_refused"]
        .as_array()
        .unwrap_or_else(|| panic!("no files_refused in {summary:#}"))
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_owned(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
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

/// Issue #11 item 7: a symbolic link in the index, to a file outside it, is never
/// signed or copied into the public `targets/`, whether a scan finds it or the hook
/// names it, with or without --link-copies; nor is a file under a linked directory.
#[test]
fn a_symlink_out_of_the_index_is_never_signed_or_copied() {
    let env = Env::new();
    published_small_index(&env);
    // Outside the index: bytes that would pass the index check for crate `abd`, so only
    // the link stops them.
    let secret = index_line("abd", "6.6.6");
    env.write("outside/abd", &secret);
    env.write("outside/dir/bcd", index_line("bcd", "6.6.6"));
    std::fs::create_dir_all(env.path("index/3/a")).unwrap();
    std::os::unix::fs::symlink(env.path("outside/abd"), env.path("index/3/a/abd")).unwrap();
    std::os::unix::fs::symlink(env.path("outside/dir"), env.path("index/3/b")).unwrap();
    // A real change beside them still publishes.
    env.write_crate("serde", index_line("serde", "1.0.0"));

    let scan = publish_json(&env, &[], 6);
    assert_eq!(refused(&scan), pairs(&[("3/a/abd", "symlink")]));
    assert_eq!(scan["exit_code"], 6);
    let signed = signed_targets(&env);
    assert!(signed.contains_key("se/rd/serde"), "{signed:?}");
    assert!(!signed.contains_key("3/a/abd"), "{signed:?}");

    for extra in [&[][..], &["--link-copies"][..]] {
        let mut args = vec!["--changed", "3/a/abd", "--changed", "3/b/bcd"];
        args.extend_from_slice(extra);
        let hook = publish_json(&env, &args, 6);
        assert_eq!(
            refused(&hook),
            pairs(&[("3/a/abd", "symlink"), ("3/b/bcd", "symlink")]),
            "{extra:?}"
        );
        let signed = signed_targets(&env);
        assert!(!signed.contains_key("3/a/abd") && !signed.contains_key("3/b/bcd"));
    }
    publish(&env)
        .args(["--changed", "3/a/abd"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("3/a/abd (symlink:"))
        .stderr(predicate::str::contains("exit code 6"));
    assert_eq!(
        files_holding(&env.path("repo"), secret.as_bytes()),
        Vec::<PathBuf>::new()
    );
}

/// Issue #11 item 8: an index file a verifier would refuse (a line that is not JSON, a
/// line naming another crate, a `config.json` that is not JSON) is not signed, by a scan
/// or from the hook: it keeps the version signed before, a new one stays unsigned, the
/// publish names each with its reason and exits 6, and the other changes publish.
#[test]
fn index_files_a_verifier_would_refuse_are_not_signed() {
    let env = Env::new();
    published_small_index(&env);
    let signed_before = signed_targets(&env);
    let (demo_signed, config_signed) = (
        signed_before["de/mo/demo"].clone(),
        signed_before["config.json"].clone(),
    );
    let demo_good = env.read("index/de/mo/demo");

    // A scan, then the hook naming the same kind of damage.
    for hook in [false, true] {
        let version = if hook { "0.3.0" } else { "0.2.0" };
        let torn = format!(
            "{}{{\"name\":\"demo\",\"vers\n",
            index_line("demo", version)
        );
        let demo_bad = [demo_good.clone(), torn.into_bytes()].concat();
        env.write("index/de/mo/demo", &demo_bad);
        let xyz = index_line("serde", version);
        env.write("index/3/x/xyz", &xyz);
        let config_bad = format!("{{\"dl\":\"http://x/{version}\"");
        env.write("index/config.json", &config_bad);
        let good = index_line("abc", version);
        env.write_crate("abc", &good);
        let args: &[&str] = if hook {
            &[
                "--changed",
                "de/mo/demo",
                "--changed",
                "3/x/xyz",
                "--changed",
                "config.json",
                "--changed",
                "3/a/abc",
            ]
        } else {
            &[]
        };
        let summary = publish_json(&env, args, 6);
        assert_eq!(
            refused(&summary),
            pairs(&[
                ("3/x/xyz", "line-wrong-crate"),
                ("config.json", "config-not-json"),
                ("de/mo/demo", "line-not-json"),
            ]),
            "hook: {hook}"
        );
        assert!(
            summary["files_refused"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("`xyz`"),
            "{summary:#}"
        );
        let signed = signed_targets(&env);
        assert_eq!(signed["de/mo/demo"], demo_signed, "hook: {hook}");
        assert_eq!(signed["config.json"], config_signed, "hook: {hook}");
        assert!(!signed.contains_key("3/x/xyz"), "hook: {hook}");
        // The other change is published.
        let abc = hex::encode(tuf_core::hash::sha256(good.as_bytes()));
        assert_eq!(signed["3/a/abc"].1, abc, "hook: {hook}");
        // No refused bytes reach the public targets/.
        for bytes in [&demo_bad[..], xyz.as_bytes(), config_bad.as_bytes()] {
            assert_eq!(
                files_holding(&env.path("repo/targets"), bytes),
                Vec::<PathBuf>::new()
            );
        }
    }
    // The same files again: still refused (the manifest kept the signed versions), and
    // the human output names each file and why.
    publish(&env)
        .assert()
        .code(6)
        .stderr(predicate::str::contains(
            "3 changed index file(s) were refused",
        ))
        .stderr(predicate::str::contains("de/mo/demo (line-not-json:"))
        .stderr(predicate::str::contains("config.json (config-not-json:"));
    // Repaired, they publish.
    env.write(
        "index/de/mo/demo",
        index_line("demo", "0.1.0") + &index_line("demo", "0.2.0"),
    );
    env.write("index/3/x/xyz", index_line("xyz", "0.1.0"));
    env.write_index_config();
    let summary = publish_json(&env, &[], 0);
    assert_eq!(refused(&summary), Vec::new());
    let signed = signed_targets(&env);
    assert_ne!(signed["de/mo/demo"], demo_signed);
    assert!(signed.contains_key("3/x/xyz"));
    assert_eq!(signed["config.json"], config_signed);
    env.trust_root_v1();
    env.verify().assert().success();
}

#[test]
fn tuf_feeds_switches_the_setting_and_the_next_publish_follows_it() {
    let env = Env::new();
    env.committed_ceremony_repo();
    write_index(&env);
    env.sign("targets", "tgt");
    // `tuf init` turned release feeds on (docs/feeds.md).
    env.tuf()
        .args(["feeds", "status", "repo"])
        .assert()
        .success()
        .stdout("on\n");
    publish(&env)
        .assert()
        .success()
        .stderr(predicate::str::contains("published (First)"));
    env.trust_root_v1();
    env.tuf()
        .args(["status", "repo"])
        .assert()
        .stdout(predicate::str::contains("release feeds: on"));

    // Off: the next publish, with nothing changed in the index, is a full one that
    // drops the feeds.
    env.tuf()
        .args(["feeds", "off", "repo"])
        .assert()
        .success()
        .stderr(predicate::str::contains("release feeds off for repo"));
    env.tuf()
        .args(["-q", "feeds", "status", "repo"])
        .assert()
        .success()
        .stdout("off\n");
    env.tuf()
        .args(["status", "repo"])
        .assert()
        .stdout(predicate::str::contains("release feeds: off"));
    publish(&env)
        .assert()
        .success()
        .stderr(predicate::str::contains("published (Full)"));
    env.verify().assert().success();
    // Then nothing more to drop: an incremental publish again.
    env.write_crate("newcrate", index_line("newcrate", "0.1.0"));
    publish(&env)
        .assert()
        .success()
        .stderr(predicate::str::contains("published (Incremental)"));

    // On again: the next publish builds every feed.
    env.tuf()
        .args(["feeds", "on", "repo"])
        .assert()
        .success()
        .stderr(predicate::str::contains("release feeds on for repo"));
    publish(&env)
        .assert()
        .success()
        .stderr(predicate::str::contains("published (Full)"));
    env.verify().assert().success();

    // Not a repository: refused, nothing written.
    env.tuf()
        .args(["feeds", "on", "elsewhere"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not a tuf repository"));
    assert!(!env.path("elsewhere").exists());
}
