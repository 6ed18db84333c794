//! `tuf init --bin-style hash-prefixes`: the operator flow (init, sign, commit, publish,
//! verify, status) on a repository whose targets lists the bins as classic delegated roles
//! with `path_hash_prefixes` instead of TAP 15 `succinct_roles`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use cli_support::{index_line, Env};
use predicates::prelude::*;

fn init(env: &Env, extra: &[&str]) -> assert_cmd::assert::Assert {
    env.tuf()
        .args(["init", "repo", "--root-key", "alice.pub.json"])
        .args(["--targets-key", "tgt.pub.json"])
        .args(["--online-key", "online.pub.json"])
        .args(extra)
        .assert()
}

#[test]
fn hash_prefix_bins_from_init_to_verify() {
    let env = Env::new();
    env.key("alice");
    env.plain_key("tgt");
    env.plain_key("online");
    init(&env, &["--bit-length", "4", "--bin-style", "hash-prefixes"]).success();

    let policy: serde_json::Value = serde_json::from_slice(&env.read("repo/policy.json")).unwrap();
    assert_eq!(policy["bins"]["style"], "hash-prefixes");
    let staged: serde_json::Value =
        serde_json::from_slice(&env.read("repo/staged/targets.json")).unwrap();
    let delegations = &staged["signed"]["delegations"];
    assert!(delegations.get("succinct_roles").is_none(), "{delegations}");
    let roles = delegations["roles"].as_array().unwrap();
    assert_eq!(roles.len(), 16);
    assert_eq!(roles[10]["name"], "crates-bin-a");
    assert_eq!(roles[10]["path_hash_prefixes"], serde_json::json!(["a"]));
    assert_eq!(roles[10]["terminating"], true);

    std::fs::create_dir_all(env.path("index/de/mo")).unwrap();
    std::fs::write(env.path("index/config.json"), b"{\"dl\":\"http://x/\"}").unwrap();
    std::fs::write(env.path("index/de/mo/demo"), index_line("demo", "0.1.0")).unwrap();
    env.sign("root", "alice");
    env.tuf()
        .args(["root", "commit", "repo"])
        .assert()
        .success();
    env.sign("targets", "tgt");
    env.tuf()
        .args(["publish", "repo", "--index", "index"])
        .args(["--online-key", "online.pem"])
        .assert()
        .success()
        .stderr(predicate::str::contains("published (First)"));
    // Every bin is signed under the same names as with succinct roles.
    for bin in ["0", "a", "f"] {
        assert!(
            env.path(&format!("repo/metadata/1.crates-bin-{bin}.json"))
                .exists(),
            "bin {bin}"
        );
    }
    env.trust_root_v1();
    env.verify().assert().success();
    // Status reads the bins from the classic roles too.
    let (report, _) = env.status_json(&[]);
    let bins = report["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "bins")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(bins["notes"], serde_json::json!(["16 bins"]), "{bins:#}");
    assert_eq!(bins["threshold_met"], true, "{bins:#}");
}

#[test]
fn hash_prefix_bins_are_capped_by_the_delegated_roles_limit() {
    let env = Env::new();
    env.key("alice");
    env.plain_key("tgt");
    env.plain_key("online");
    // 2^14 roles is more than a client accepts (Limits::max_delegated_roles, 10 000).
    init(
        &env,
        &["--bit-length", "14", "--bin-style", "hash-prefixes"],
    )
    .code(2)
    .stderr(predicate::str::contains("delegated roles"));
    init(&env, &["--bin-style", "prefixes"])
        .code(2)
        .stderr(predicate::str::contains("hash-prefixes"));
    assert!(!env.path("repo/policy.json").exists());
}
