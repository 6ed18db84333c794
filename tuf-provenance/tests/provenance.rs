//! The library against real git repositories and crates made by the real
//! `cargo package`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;
use tuf_provenance::{
    check_crate, CommitSource, DifferenceKind, GitError, InnocentCause, Limits, Note, Problem,
    Reachability, SourceRepository, Status,
};

#[test]
fn exact_match_is_verified() {
    let f = Fixture::new();
    f.lib_package("", "exact", "0.1.0");
    let commit = f.commit("first");
    let bytes = f.cargo_package("", "exact", "0.1.0", false);
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Verified, "{report:#?}");
    let c = report.commit.as_ref().unwrap();
    assert_eq!(
        (c.sha1.as_str(), &c.source, c.path_in_vcs.as_str()),
        (commit.as_str(), &CommitSource::VcsInfo, "")
    );
    assert!(c.found && !report.dirty);
    assert_eq!(report.reachability, Some(Reachability::Reachable));
    assert_eq!(report.differences, []);
    assert!(
        report.notes.contains(&Note::ManifestNormalized),
        "{:?}",
        report.notes
    );
    assert!(report.notes.contains(&Note::VcsInfoGenerated));
    // Lib only.
    assert_eq!(report.targets.library.as_ref().unwrap().name, "exact");
    assert!(report.targets.binaries.is_empty());
    assert!(
        report.one_line().starts_with("exact 0.1.0: verified ("),
        "{}",
        report.one_line()
    );
}

#[test]
fn packaged_from_a_dirty_tree_shows_the_change_as_a_diff() {
    let f = Fixture::new();
    f.lib_package("", "dirty", "0.1.0");
    f.commit("first");
    f.write("src/lib.rs", "pub fn hello() -> u32 { 2 }\n");
    let bytes = f.cargo_package("", "dirty", "0.1.0", true);
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Mismatch);
    assert!(report.dirty);
    let [difference] = report.differences.as_slice() else {
        panic!("{:#?}", report.differences)
    };
    assert_eq!(difference.path, "src/lib.rs");
    assert_eq!(difference.innocent, None);
    let DifferenceKind::ContentDiffers {
        diff: Some(diff), ..
    } = &difference.kind
    else {
        panic!("{difference:#?}")
    };
    assert!(diff.contains("-pub fn hello() -> u32 { 1 }"), "{diff}");
    assert!(diff.contains("+pub fn hello() -> u32 { 2 }"), "{diff}");
    assert!(report.details().contains("content differs: src/lib.rs"));
    assert!(report.one_line().contains("packaged from a dirty tree"));
}

#[test]
fn a_file_added_before_packaging_is_missing_from_the_repository() {
    let f = Fixture::new();
    f.lib_package("", "added", "0.1.0");
    f.commit("first");
    f.write("src/extra.rs", "pub fn planted() {}\n");
    // An editor's backup file lying around too: innocent, listed apart.
    f.write("notes.txt~", "scratch\n");
    let bytes = f.cargo_package("", "added", "0.1.0", true);
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Mismatch);
    let planted = report
        .differences
        .iter()
        .find(|d| d.path == "src/extra.rs")
        .unwrap();
    assert!(matches!(
        planted.kind,
        DifferenceKind::MissingFromRepository { .. }
    ));
    assert_eq!(planted.innocent, None);
    let backup = report
        .differences
        .iter()
        .find(|d| d.path == "notes.txt~")
        .unwrap();
    assert_eq!(backup.innocent, Some(InnocentCause::EditorFile));
    assert_eq!(report.findings().count(), 1);
}

#[test]
fn only_innocent_differences_keep_the_crate_verified() {
    let f = Fixture::new();
    f.lib_package("", "innocent", "0.1.0");
    f.write(".gitignore", "/target\n*.log\n");
    f.commit("first");
    f.write("src/.lib.rs.swp", "swap");
    let bytes = f.cargo_package("", "innocent", "0.1.0", true);
    // A build log force-included by a careless `include`: ignored by git.
    let bytes = edit_crate(&bytes, |files| {
        files.push(("build.log".into(), b"log".to_vec()))
    });
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Verified, "{:#?}", report.differences);
    let causes: Vec<_> = report
        .differences
        .iter()
        .map(|d| (d.path.as_str(), d.innocent))
        .collect();
    assert!(
        causes.contains(&("src/.lib.rs.swp", Some(InnocentCause::EditorFile))),
        "{causes:?}"
    );
    assert!(
        causes.contains(&("build.log", Some(InnocentCause::IgnoredByGit))),
        "{causes:?}"
    );
}

#[test]
fn a_file_modified_in_the_published_crate_is_a_mismatch() {
    let f = Fixture::new();
    f.lib_package("", "modified", "0.1.0");
    f.write("logo.bin", "\u{0}\u{1}binary");
    f.commit("first");
    let bytes = f.cargo_package("", "modified", "0.1.0", false);
    let tampered = edit_crate(&bytes, |files| {
        for (path, content) in files.iter_mut() {
            if path == "src/lib.rs" {
                *content = b"pub fn hello() -> u32 { std::process::abort() }\n".to_vec();
            }
            if path == "logo.bin" {
                *content = b"\x00\x02other".to_vec();
            }
        }
    });
    let report = f.check(&tampered);
    assert_eq!(report.status, Status::Mismatch);
    let binary = report
        .differences
        .iter()
        .find(|d| d.path == "logo.bin")
        .unwrap();
    let DifferenceKind::ContentDiffers {
        crate_file,
        repository_file,
        diff,
    } = &binary.kind
    else {
        panic!("{binary:#?}")
    };
    // No diff for binary files: sizes and hashes.
    assert_eq!(*diff, None);
    assert_eq!((crate_file.size, repository_file.size), (7, 8));
    assert_ne!(crate_file.sha256, repository_file.sha256);
    assert!(report.details().contains("sha256"), "{}", report.details());
}

#[test]
fn without_vcs_info_the_commit_is_inferred_from_a_tag() {
    let f = Fixture::new();
    f.lib_package("", "tagged", "1.2.3");
    let commit = f.commit("release");
    f.git(&["tag", "v1.2.3"]);
    f.write("src/lib.rs", "pub fn hello() -> u32 { 99 }\n");
    f.commit("later work");
    // Packaged outside git: no .cargo_vcs_info.json.
    let outside = f.dir.path().join("outside");
    std::fs::create_dir_all(outside.join("src")).unwrap();
    std::fs::copy(f.repo().join("Cargo.toml"), outside.join("Cargo.toml")).unwrap();
    std::fs::write(outside.join("src/lib.rs"), "pub fn hello() -> u32 { 1 }\n").unwrap();
    let bytes = package_at(&outside, f.dir.path(), "tagged", "1.2.3", false);
    assert!(!unpack(&bytes)
        .1
        .iter()
        .any(|(p, _)| p == ".cargo_vcs_info.json"));
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Inferred, "{report:#?}");
    let c = report.commit.clone().unwrap();
    assert_eq!(c.source, CommitSource::Tag("v1.2.3".into()));
    assert_eq!(c.sha1, commit);
    assert!(report.one_line().contains("tag v1.2.3"));
}

#[test]
fn without_vcs_info_or_tag_there_is_no_commit() {
    let f = Fixture::new();
    f.lib_package("", "untagged", "0.1.0");
    f.commit("first");
    let bytes = f.cargo_package("", "untagged", "0.1.0", false);
    let bytes = edit_crate(&bytes, |files| {
        files.retain(|(p, _)| p != ".cargo_vcs_info.json")
    });
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::NoCommit);
    assert_eq!(report.commit, None);
}

#[test]
fn a_wrong_path_in_vcs_is_a_mismatch() {
    let f = Fixture::new();
    f.lib_package("", "wrongpath", "0.1.0");
    let commit = f.commit("first");
    let bytes = f.cargo_package("", "wrongpath", "0.1.0", false);
    let bytes = edit_crate(&bytes, |files| {
        for (path, content) in files.iter_mut() {
            if path == ".cargo_vcs_info.json" {
                *content =
                    format!("{{\"git\":{{\"sha1\":\"{commit}\"}},\"path_in_vcs\":\"elsewhere\"}}")
                        .into_bytes();
            }
        }
    });
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Mismatch);
    assert!(report.problems.contains(&Problem::PackageDirectoryMissing {
        path_in_vcs: "elsewhere".into()
    }));
    assert!(report
        .differences
        .iter()
        .all(|d| matches!(d.kind, DifferenceKind::MissingFromRepository { .. })));
}

#[test]
fn a_commit_missing_from_the_repository_is_unreachable() {
    let f = Fixture::new();
    f.lib_package("", "ghost", "0.1.0");
    f.commit("first");
    let bytes = f.cargo_package("", "ghost", "0.1.0", false);
    let bytes = edit_crate(&bytes, |files| {
        for (path, content) in files.iter_mut() {
            if path == ".cargo_vcs_info.json" {
                *content = br#"{"git":{"sha1":"1111111111111111111111111111111111111111"},"path_in_vcs":""}"#.to_vec();
            }
        }
    });
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Unreachable);
    assert!(!report.commit.as_ref().unwrap().found);
    assert!(report.one_line().contains("commit not in the repository"));
}

#[test]
fn a_commit_no_branch_or_tag_leads_to_is_unreachable() {
    let f = Fixture::new();
    f.lib_package("", "orphan", "0.1.0");
    f.commit("first");
    f.write("src/lib.rs", "pub fn hello() -> u32 { 7 }\n");
    f.commit("unpushed release");
    let bytes = f.cargo_package("", "orphan", "0.1.0", false);
    f.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Unreachable, "{report:#?}");
    assert_eq!(report.reachability, Some(Reachability::Unreachable));
    assert!(report.commit.as_ref().unwrap().found);
    assert_eq!(report.differences, []);
}

#[test]
fn workspace_member_with_inherited_fields_and_a_readme_from_the_parent() {
    let f = Fixture::new();
    f.write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"member\", \"crates/other\"]\n\n[workspace.package]\nversion = \"0.4.0\"\nedition = \"2021\"\n",
    );
    f.write("README.md", "# The project\n");
    f.write(
        "member/Cargo.toml",
        "[package]\nname = \"member\"\nversion.workspace = true\nedition.workspace = true\n\
         description = \"fixture\"\nlicense = \"MIT\"\nreadme = \"../README.md\"\n",
    );
    f.write("member/src/lib.rs", "pub fn m() {}\n");
    f.write("member/src/main.rs", "fn main() {}\n");
    f.lib_package("crates/other", "other", "0.1.0");
    f.commit("workspace");
    let bytes = f.cargo_package("member", "member", "0.4.0", false);
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Verified, "{report:#?}");
    assert_eq!(report.commit.as_ref().unwrap().path_in_vcs, "member");
    assert!(
        report
            .notes
            .contains(&Note::FromOutsidePackage("README.md".into())),
        "{:?}",
        report.notes
    );
    // Both a lib and a bin, auto-discovered.
    assert_eq!(report.targets.summary(), "lib member, bins: member");

    // The README changed after packaging: the difference names the file outside.
    let tampered = edit_crate(&bytes, |files| {
        for (path, content) in files.iter_mut() {
            if path == "README.md" {
                *content = b"# Another project\n".to_vec();
            }
        }
    });
    let report = f.check(&tampered);
    assert_eq!(report.status, Status::Mismatch);
    let readme = report
        .differences
        .iter()
        .find(|d| d.path == "README.md")
        .unwrap();
    assert_eq!(readme.repository_path, "README.md");
}

#[test]
fn inferred_commit_finds_a_member_of_a_monorepo_by_its_crate_tag() {
    let f = Fixture::new();
    f.write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"crates/*\"]\n",
    );
    f.lib_package("crates/alpha", "alpha", "0.2.0");
    f.lib_package("crates/beta", "beta", "0.3.0");
    let commit = f.commit("both");
    f.git(&["tag", "beta-v0.3.0"]);
    f.git(&["tag", "v0.3.0-unrelated"]);
    let bytes = f.cargo_package("crates/beta", "beta", "0.3.0", false);
    let bytes = edit_crate(&bytes, |files| {
        files.retain(|(p, _)| p != ".cargo_vcs_info.json")
    });
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Inferred, "{report:#?}");
    let c = report.commit.unwrap();
    assert_eq!(
        (c.sha1.as_str(), c.path_in_vcs.as_str()),
        (commit.as_str(), "crates/beta")
    );
    assert_eq!(c.source, CommitSource::Tag("beta-v0.3.0".into()));
}

#[test]
fn bins_only_and_explicit_targets() {
    let f = Fixture::new();
    f.package_files(
        "bins",
        "bins",
        "0.1.0",
        "",
        &[
            ("src/main.rs", "fn main() {}\n"),
            ("src/bin/tool.rs", "fn main() {}\n"),
            ("src/bin/multi/main.rs", "fn main() {}\n"),
        ],
    );
    f.package_files(
        "explicit",
        "explicit",
        "0.1.0",
        "autobins = false\n\n[lib]\nname = \"explicit_core\"\npath = \"core/lib.rs\"\n\n[[bin]]\nname = \"run-it\"\npath = \"tools/run.rs\"\n",
        &[("core/lib.rs", "pub fn c() {}\n"), ("tools/run.rs", "fn main() {}\n"), ("src/main.rs", "fn main() {}\n")],
    );
    f.write(
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"bins\", \"explicit\"]\n",
    );
    f.commit("targets");
    let report = f.check(&f.cargo_package("bins", "bins", "0.1.0", false));
    assert_eq!(report.status, Status::Verified, "{report:#?}");
    assert_eq!(report.targets.summary(), "no lib, bins: bins, multi, tool");
    let report = f.check(&f.cargo_package("explicit", "explicit", "0.1.0", false));
    assert_eq!(report.status, Status::Verified, "{report:#?}");
    let lib = report.targets.library.as_ref().unwrap();
    assert_eq!(
        (lib.name.as_str(), lib.path.as_str(), lib.explicit),
        ("explicit_core", "core/lib.rs", true)
    );
    // autobins = false: src/main.rs is not a target.
    assert_eq!(report.targets.summary(), "lib explicit_core, bins: run-it");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["targets"]["binaries"][0]["name"], "run-it");
    assert_eq!(json["status"], "verified");
}

#[test]
fn a_normalised_manifest_that_disagrees_with_the_original_is_a_mismatch() {
    let f = Fixture::new();
    f.lib_package("", "sneaky", "0.1.0");
    f.commit("first");
    let bytes = f.cargo_package("", "sneaky", "0.1.0", false);
    let bytes = edit_crate(&bytes, |files| {
        for (path, content) in files.iter_mut() {
            if path == "Cargo.toml" {
                let mut text = String::from_utf8(content.clone()).unwrap();
                text.push_str("\n[dependencies.evil]\nversion = \"1\"\n");
                *content = text.into_bytes();
            }
        }
    });
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Mismatch);
    assert_eq!(
        report.problems,
        [Problem::ManifestField {
            field: "dependencies.evil".into(),
            normalized: Some("1".into()),
            original: None
        }]
    );
}

#[test]
fn repository_files_left_out_by_package_rules_are_not_findings() {
    let f = Fixture::new();
    f.package_files(
        "",
        "rules",
        "0.1.0",
        "exclude = [\"fixtures/\"]\n",
        &[
            ("src/lib.rs", "pub fn r() {}\n"),
            ("fixtures/big.bin", "data"),
            (
                "nested/Cargo.toml",
                "[package]\nname = \"nested\"\nversion = \"0.1.0\"\n",
            ),
            ("nested/src/lib.rs", ""),
        ],
    );
    f.commit("first");
    let bytes = f.cargo_package("", "rules", "0.1.0", false);
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Verified, "{report:#?}");
    let only: Vec<_> = report
        .differences
        .iter()
        .map(|d| match &d.kind {
            DifferenceKind::OnlyInRepository { excluded } => (d.path.as_str(), *excluded),
            other => panic!("{other:?}"),
        })
        .collect();
    use tuf_provenance::Exclusion::*;
    assert!(
        only.contains(&("fixtures/big.bin", Some(Excluded))),
        "{only:?}"
    );
    assert!(
        only.contains(&("nested/src/lib.rs", Some(NestedPackage))),
        "{only:?}"
    );

    // A tracked file cargo would have packaged, missing from the crate: a finding.
    let bytes = edit_crate(&bytes, |files| files.retain(|(p, _)| p != "src/lib.rs"));
    let report = f.check(&bytes);
    assert_eq!(report.status, Status::Mismatch);
    assert!(report.findings().any(|d| d.path == "src/lib.rs"
        && matches!(d.kind, DifferenceKind::OnlyInRepository { excluded: None })));
}

#[test]
fn clones_over_file_urls_into_the_cache_and_fetches_new_tags() {
    let f = Fixture::new();
    f.lib_package("", "cloned", "0.1.0");
    f.commit("first");
    let bytes = f.cargo_package("", "cloned", "0.1.0", false);
    let cache = f.dir.path().join("cache");
    let url = format!("file://{}", f.repo().display());
    let limits = Limits::default();
    let repo = SourceRepository::cached_clone(&url, &cache, false, &limits).unwrap();
    let report = check_crate(&bytes, Ok(&repo), &limits).unwrap();
    assert_eq!(report.status, Status::Verified, "{report:#?}");
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);

    // A later release: the cached clone is fetched, new commits and tags arrive.
    f.write(
        "Cargo.toml",
        &std::fs::read_to_string(f.repo().join("Cargo.toml"))
            .unwrap()
            .replace("0.1.0", "0.2.0"),
    );
    f.commit("0.2.0");
    f.git(&["tag", "-a", "-m", "release", "v0.2.0"]);
    let newer = f.cargo_package("", "cloned", "0.2.0", false);
    let newer = edit_crate(&newer, |files| {
        files.retain(|(p, _)| p != ".cargo_vcs_info.json")
    });
    let offline = SourceRepository::cached_clone(&url, &cache, true, &limits).unwrap();
    assert_eq!(
        check_crate(&newer, Ok(&offline), &limits).unwrap().status,
        Status::NoCommit
    );
    let fetched = SourceRepository::cached_clone(&url, &cache, false, &limits).unwrap();
    assert_eq!(
        check_crate(&newer, Ok(&fetched), &limits).unwrap().status,
        Status::Inferred
    );

    // Offline with nothing cached: an error, nothing written.
    let empty = f.dir.path().join("empty-cache");
    let error = SourceRepository::cached_clone(&url, &empty, true, &limits).unwrap_err();
    assert!(matches!(error, GitError::Fetch { .. }), "{error}");
    assert!(!empty.exists());
    let error = SourceRepository::cached_clone("http://example.invalid/x", &cache, false, &limits)
        .unwrap_err();
    assert!(matches!(error, GitError::UnsupportedUrl { .. }), "{error}");
}

#[test]
fn caps_on_the_repository_tree_and_blobs() {
    let f = Fixture::new();
    f.lib_package("", "capped", "0.1.0");
    f.write("data.txt", &"x".repeat(1000));
    f.commit("first");
    let bytes = f.cargo_package("", "capped", "0.1.0", false);
    let repo = SourceRepository::open(&f.repo()).unwrap();
    let limits = Limits {
        max_tree_entries: 2,
        ..Limits::default()
    };
    let error = check_crate(&bytes, Ok(&repo), &limits).unwrap_err();
    assert!(
        matches!(
            error,
            tuf_provenance::Error::Git(GitError::TreeTooLarge { limit: 2, .. })
        ),
        "{error}"
    );
    // A blob over the cap is not read: compared by size, reported without a hash.
    let limits = Limits {
        max_blob_bytes: 500,
        ..Limits::default()
    };
    let report = check_crate(&bytes, Ok(&repo), &limits).unwrap();
    let data = report
        .differences
        .iter()
        .find(|d| d.path == "data.txt")
        .unwrap();
    let DifferenceKind::ContentDiffers {
        repository_file, ..
    } = &data.kind
    else {
        panic!("{data:?}")
    };
    assert_eq!(
        (repository_file.size, repository_file.sha256.as_deref()),
        (1000, None)
    );
}

#[test]
fn no_repository_still_reports_targets_and_checks_the_manifest() {
    let f = Fixture::new();
    f.lib_package("", "alone", "0.1.0");
    f.commit("first");
    let bytes = f.cargo_package("", "alone", "0.1.0", false);
    let report = check_without_repository(&bytes);
    assert_eq!(report.status, Status::NoRepository);
    assert_eq!(report.targets.summary(), "lib alone, no bins");
    assert!(report.one_line().contains("no `repository` field"));
}

#[test]
fn malformed_crates_are_refused() {
    use tuf_provenance::{ArchiveError, Error};
    let limits = Limits::default();
    let refuse = |bytes: &[u8], limits: &Limits| match check_crate(
        bytes,
        Err(tuf_provenance::NoRepository::NotDeclared),
        limits,
    ) {
        Err(Error::Archive(e)) => e,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        refuse(b"not gzip", &limits),
        ArchiveError::Gzip(_)
    ));
    // A gzip bomb: 1 MiB of zeros against a 64 KiB cap.
    let zeros = repack("bomb-0.1.0", &[("Cargo.toml".into(), vec![0u8; 1 << 20])]);
    let small = Limits {
        max_unpacked_bytes: 64 * 1024,
        ..Limits::default()
    };
    assert_eq!(
        refuse(&zeros, &small),
        ArchiveError::TooLarge { limit: 64 * 1024 }
    );
    // Two top directories.
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for path in ["a-0.1.0/Cargo.toml", "b-0.1.0/src/lib.rs"] {
        let mut header = tar::Header::new_gnu();
        header.set_size(0);
        header.set_cksum();
        builder.append_data(&mut header, path, &[][..]).unwrap();
    }
    let two = builder.into_inner().unwrap().finish().unwrap();
    assert!(matches!(
        refuse(&two, &limits),
        ArchiveError::SeveralTopDirectories { .. }
    ));
    // A top directory that is not name-version of the manifest.
    let renamed = repack(
        "other-9.9.9",
        &[(
            "Cargo.toml".into(),
            b"[package]\nname = \"real\"\nversion = \"0.1.0\"\n".to_vec(),
        )],
    );
    assert!(matches!(
        refuse(&renamed, &limits),
        ArchiveError::PrefixMismatch { .. }
    ));
}

#[test]
fn a_silent_server_is_cut_off_at_the_time_limit() {
    // Accepts TCP connections and never answers (not even the TLS handshake).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _keep = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(4) {
            held.push(stream);
        }
        std::thread::sleep(std::time::Duration::from_secs(30));
    });
    let cache = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_network_time: std::time::Duration::from_secs(1),
        ..Limits::default()
    };
    let started = std::time::Instant::now();
    let error = SourceRepository::cached_clone(
        &format!("https://127.0.0.1:{port}/owner/repo"),
        cache.path(),
        false,
        &limits,
    )
    .unwrap_err();
    assert!(
        matches!(error, GitError::TimedOut { seconds: 1, .. }),
        "{error}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // Nothing that looks like a finished clone was left.
    let finished: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().contains(".partial-"))
        .collect();
    assert!(finished.is_empty(), "{finished:?}");
}
