//! What operators and their monitoring see from `tuf publish`, `tuf refresh` and
//! `tuf verify`: no progress bars when stderr is not a terminal, `--json` objects with
//! the documented fields, `-q`, and `verify` listing every problem at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use std::collections::{BTreeMap, BTreeSet};

use cli_support::{index_line, sparse_path, Env};
use serde_json::Value;
use tuf_core::metadata::versioned_file_name;

/// Crates in the test index: enough that every stage would get a progress bar on a
/// terminal (a bar needs 500 units).
const CRATES: usize = 600;

fn crate_name(i: usize) -> String {
    format!("ux{i:04}")
}

/// An index of `crates` crates, and a repository staged with unencrypted keys (fast),
/// root and targets signed, `2^bit_length` bins, not yet published.
fn signed_repo(env: &Env, crates: usize, bit_length: u8) {
    env.write_index_config();
    for i in 0..crates {
        let name = crate_name(i);
        env.write_crate(&name, index_line(&name, "0.1.0"));
    }
    for key in ["root", "tgt", "online"] {
        env.plain_key(key);
    }
    env.init("repo", &["root"])
        .args(["-q", "--bit-length", &bit_length.to_string()])
        .assert()
        .success();
    // What these tests count (files checked, bins signed, bins by size) is the index's:
    // release feeds (on after `tuf init`) are tested in cli_publish.rs and tuf-repo.
    env.tuf()
        .args(["-q", "feeds", "off", "repo"])
        .assert()
        .success();
    for (role, key) in [("root", "root"), ("targets", "tgt")] {
        env.sign_cmd(role, key).arg("-q").assert().success();
    }
}

fn publish(env: &Env) -> assert_cmd::Command {
    env.publish("online.pem")
}

fn refresh(env: &Env, within: &str) -> assert_cmd::Command {
    let mut cmd = env.refresh("online.pem");
    cmd.args(["--within", within]);
    cmd
}

fn verify(env: &Env) -> assert_cmd::Command {
    let mut cmd = env.tuf();
    cmd.args([
        "verify",
        "--root",
        "repo/metadata/1.root.json",
        "repo/metadata",
    ]);
    cmd
}

/// Run `cmd`, expect exit `code`, and parse stdout: it must be exactly one JSON object.
fn json_of(cmd: &mut assert_cmd::Command, code: i32) -> (Value, String) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert!(json.is_object(), "{json}");
    (json, stderr)
}

/// Nothing a progress bar draws: no carriage returns or cursor control, no stage labels.
fn assert_no_progress(stderr: &str) {
    for drawn in [
        "\r",
        "\u{1b}[",
        "scanning index files",
        "signing bins",
        "writing metadata",
        "reading bins",
        "verifying",
    ] {
        assert!(
            !stderr.contains(drawn),
            "progress output {drawn:?} in: {stderr:?}"
        );
    }
}

fn roles(json: &Value) -> BTreeMap<String, String> {
    json["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["role"].as_str().unwrap().to_owned(),
                r["expires"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn no_progress_output_when_stderr_is_not_a_terminal() {
    let env = Env::new();
    signed_repo(&env, CRATES, 10);
    // First publish: a scan of 601 files, 1024 bins signed and written.
    let out = publish(&env).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_no_progress(&stderr);
    assert!(
        stderr.contains("published (First): 601 index file(s) seen"),
        "{stderr}"
    );
    // -v adds detail, still no progress.
    let out = refresh(&env, "30d").arg("-v").output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_no_progress(&stderr);
    assert!(stderr.contains("refreshed"), "{stderr}");
    assert!(
        stderr.contains("expires"),
        "-v lists the expiries: {stderr}"
    );
    let out = verify(&env).args(["--index", "index"]).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_no_progress(&stderr);
    assert!(stderr.contains("601 signed targets checked"), "{stderr}");
    // -q: nothing at all on success.
    verify(&env)
        .args(["-q", "--index", "index"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    publish(&env)
        .arg("-q")
        .assert()
        .success()
        .stdout("")
        .stderr("");
}

#[test]
fn publish_and_refresh_json_for_monitoring() {
    let env = Env::new();
    signed_repo(&env, 20, 3);
    let (first, stderr) = json_of(publish(&env).arg("--json"), 0);
    assert!(
        !stderr.contains("published ("),
        "--json replaces the line: {stderr}"
    );
    assert_eq!(first["command"], "publish");
    assert_eq!(first["kind"], "first");
    assert_eq!(first["result"], "published");
    assert_eq!(first["files_seen"], 21);
    assert_eq!(first["files_hashed"], 21);
    assert_eq!(first["files_skipped"], serde_json::json!([]));
    assert_eq!(first["bins_signed"], 8);
    // 8 bins, snapshot, timestamp.
    assert_eq!(first["metadata_written"], 10);
    assert_eq!(first["copies_written"], 21);
    assert_eq!(first["snapshot_version"], 1);
    assert_eq!(first["timestamp_version"], 1);
    assert_eq!(first["exit_code"], 0);
    // Root and targets were committed as their key holders signed them, not by the
    // online key.
    assert_eq!(
        first["roles_signed"],
        serde_json::json!(["bins", "snapshot", "timestamp"])
    );
    let expiries = roles(&first);
    assert_eq!(
        expiries.keys().map(String::as_str).collect::<Vec<_>>(),
        ["bins", "root", "snapshot", "targets", "timestamp"]
    );
    for expires in expiries.values() {
        chrono::DateTime::parse_from_rfc3339(expires).unwrap();
    }
    // The timestamp (1d) is the first online role to expire.
    assert_eq!(first["earliest_expiry"], expiries["timestamp"].as_str());

    // -q with --json: the object on stdout, nothing on stderr.
    env.write_crate(&crate_name(3), index_line("ux0003", "0.2.0"));
    let (incremental, stderr) = json_of(publish(&env).args(["-q", "--json"]), 0);
    assert_eq!(stderr, "");
    assert_eq!(incremental["kind"], "incremental");
    assert_eq!(incremental["files_seen"], 21);
    // Files written within the mtime granularity of the last publish are hashed again
    // (the manifest cannot trust their mtime), so at least the changed one.
    assert!(
        incremental["files_hashed"].as_u64().unwrap() >= 1,
        "{incremental}"
    );
    assert_eq!(incremental["bins_signed"], 1);
    assert_eq!(incremental["timestamp_version"], 2);
    assert_eq!(
        incremental["roles_signed"],
        serde_json::json!(["bins", "snapshot", "timestamp"])
    );

    // Refresh with nothing due: "nothing to do", nothing written, the earliest expiry.
    let before = env.read("repo/metadata/timestamp.json");
    let (idle, _) = json_of(refresh(&env, "1h").arg("--json"), 0);
    assert_eq!(idle["command"], "refresh");
    assert_eq!(idle["kind"], "refresh");
    assert_eq!(idle["result"], "nothing to do");
    assert_eq!(idle["metadata_written"], 0);
    assert_eq!(idle["roles_signed"], serde_json::json!([]));
    assert_eq!(idle["timestamp_version"], 2);
    assert!(idle["earliest_expiry"].is_string(), "{idle}");
    assert_eq!(env.read("repo/metadata/timestamp.json"), before);

    // The timestamp expires within 2d: re-signed, and only it.
    let (refreshed, _) = json_of(refresh(&env, "2d").arg("--json"), 0);
    assert_eq!(refreshed["result"], "refreshed");
    assert_eq!(refreshed["roles_signed"], serde_json::json!(["timestamp"]));
    assert_eq!(refreshed["timestamp_version"], 3);
    assert_eq!(refreshed["metadata_written"], 1);
    assert!(
        roles(&refreshed)["timestamp"] >= roles(&idle)["timestamp"],
        "the new timestamp expires no earlier (seconds resolution)"
    );
}

/// The bins of the published repository: bin role name → the target paths it lists.
fn bins(env: &Env) -> BTreeMap<String, Vec<String>> {
    let mut bins = BTreeMap::new();
    for entry in std::fs::read_dir(env.path("repo/metadata")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(role) = name
            .strip_prefix("1.crates-bin-")
            .and_then(|r| r.strip_suffix(".json"))
        else {
            continue;
        };
        let json: Value =
            serde_json::from_slice(&env.read(&format!("repo/metadata/{name}"))).unwrap();
        let paths = json["signed"]["targets"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        bins.insert(format!("crates-bin-{role}"), paths);
    }
    bins
}

#[test]
fn verify_reports_every_problem() {
    let env = Env::new();
    signed_repo(&env, 40, 3);
    publish(&env).arg("-q").assert().success();
    verify(&env).args(["--index", "index"]).assert().success();

    // Three different bins, the fullest first: tamper with one's signature, delete
    // another, and break two of the index files the third signs.
    let mut by_size: Vec<(String, Vec<String>)> = bins(&env).into_iter().collect();
    by_size.sort_by_key(|(_, paths)| std::cmp::Reverse(paths.len()));
    let (_, changed_paths) = &by_size[0];
    let (tampered_bin, _) = &by_size[1];
    let (deleted_bin, _) = &by_size[2];
    assert!(changed_paths.len() >= 2, "{by_size:?}");
    let tampered_file = env.path(&format!(
        "repo/metadata/{}",
        versioned_file_name(1, tampered_bin)
    ));
    let mut json: Value = serde_json::from_slice(&std::fs::read(&tampered_file).unwrap()).unwrap();
    let sig = json["signatures"][0]["sig"].as_str().unwrap().to_owned();
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    json["signatures"][0]["sig"] = Value::from(format!("{flipped}{}", &sig[1..]));
    std::fs::write(&tampered_file, serde_json::to_vec(&json).unwrap()).unwrap();
    let deleted_file = versioned_file_name(1, deleted_bin);
    std::fs::remove_file(env.path(&format!("repo/metadata/{deleted_file}"))).unwrap();
    let modified = &changed_paths[0];
    let deleted = &changed_paths[1];
    std::fs::write(env.path(&format!("index/{modified}")), b"changed\n").unwrap();
    std::fs::remove_file(env.path(&format!("index/{deleted}"))).unwrap();
    // An index file that was never published, in a bin that still verifies (one in a
    // refused bin is covered by that bin's problem).
    let layout = bin_layout(&env);
    let unsigned = (1000..)
        .map(crate_name)
        .find(|name| {
            let bin = layout.role_for(&sparse_path(name));
            bin != *tampered_bin && bin != *deleted_bin
        })
        .unwrap();
    env.write_crate(&unsigned, "{}\n");
    let unsigned = sparse_path(&unsigned);

    let expected: BTreeSet<(String, &str)> = [
        (tampered_bin.clone(), "threshold"),
        (deleted_bin.clone(), "missing"),
        (modified.clone(), "target-mismatch"),
        (deleted.clone(), "target-missing"),
        (unsigned.clone(), "unsigned"),
    ]
    .into_iter()
    .collect();

    // Human output: one line per problem on stdout, with what to do; a count on stderr.
    let out = verify(&env).args(["--index", "index"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{stdout}");
    for (subject, code) in &expected {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{subject}: ")))
            .unwrap_or_else(|| panic!("no line for {subject}: {stdout}"));
        assert!(line.contains(&format!("[{code}]")), "{line}");
        assert!(line.contains("to fix: "), "{line}");
    }
    assert!(stderr.contains("5 problem(s) found"), "{stderr}");
    assert_no_progress(&stderr);

    // The same as JSON, in client order: bins (in bin order) before unsigned index files.
    let (json, _) = json_of(verify(&env).args(["--index", "index", "--json"]), 1);
    assert_eq!(json["ok"], false);
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["target_check"], "index");
    assert_eq!(json["bins"], 8);
    assert!(json.get("stopped").is_none(), "{json}");
    let problems = json["problems"].as_array().unwrap();
    let found: BTreeSet<(String, &str)> = problems
        .iter()
        .map(|p| {
            assert!(p["message"].is_string() && p["advice"].is_string(), "{p}");
            (
                p["subject"].as_str().unwrap().to_owned(),
                p["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, expected);
    assert_eq!(problems.last().unwrap()["code"], "unsigned");

    // Without --index, the hash-named copies are checked: every missing copy is listed.
    // Remove the copies of two targets in bins that still verify (`ux/00/HASH.ux0003` is
    // the copy of `ux/00/ux0003`).
    let removed: Vec<String> = walk(&env.path("repo/targets"))
        .into_iter()
        .filter_map(|copy| {
            let rel = copy.strip_prefix(env.path("repo/targets")).unwrap();
            let dir = rel.parent().unwrap().to_str().unwrap().to_owned();
            let name = rel.file_name().unwrap().to_str().unwrap();
            let file = name.split_once('.').unwrap().1;
            let path = if dir.is_empty() {
                file.to_owned()
            } else {
                format!("{dir}/{file}")
            };
            let bin = layout.role_for(&path);
            (bin != *tampered_bin && bin != *deleted_bin).then(|| {
                std::fs::remove_file(&copy).unwrap();
                path
            })
        })
        .take(2)
        .collect();
    assert_eq!(removed.len(), 2);
    let (json, _) = json_of(verify(&env).arg("--json"), 1);
    assert_eq!(json["target_check"], "copies");
    let found: BTreeSet<(String, &str)> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["subject"].as_str().unwrap().to_owned(),
                p["code"].as_str().unwrap(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, &str)> = [
        (tampered_bin.clone(), "threshold"),
        (deleted_bin.clone(), "missing"),
        (removed[0].clone(), "target-missing"),
        (removed[1].clone(), "target-missing"),
    ]
    .into_iter()
    .collect();
    assert_eq!(found, expected);
}

#[test]
fn verify_stops_below_a_refused_timestamp_and_says_so() {
    let env = Env::new();
    signed_repo(&env, 5, 2);
    publish(&env).arg("-q").assert().success();
    let path = env.path("repo/metadata/timestamp.json");
    let mut json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    json["signed"]["version"] = Value::from(7);
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    // Break a bin too: it must not be reported, since nothing below the timestamp is
    // trusted.
    let bins = bins(&env);
    let first = bins.keys().next().unwrap();
    let first_file = versioned_file_name(1, first);
    std::fs::remove_file(env.path(&format!("repo/metadata/{first_file}"))).unwrap();
    let out = verify(&env).args(["--index", "index"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("timestamp: "), "{stdout}");
    assert!(stderr.contains("does not verify"), "{stderr}");
    assert!(
        stderr.contains("no bin or target below it was checked"),
        "{stderr}"
    );
    let (json, _) = json_of(verify(&env).arg("--json"), 1);
    assert!(json["stopped"].is_string(), "{json}");
    assert_eq!(json["problems"].as_array().unwrap().len(), 1);
}

/// The bin layout the published targets delegates with.
fn bin_layout(env: &Env) -> tuf_core::metadata::SuccinctRoles {
    let targets: Value = serde_json::from_slice(&env.read("repo/metadata/1.targets.json")).unwrap();
    serde_json::from_value(targets["signed"]["delegations"]["succinct_roles"].clone()).unwrap()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}
