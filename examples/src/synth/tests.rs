//! Tests of the synthetic index: shape, format, determinism, mutations.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::sync::OnceLock;

use super::content::{derived_cksum, format_pubtime, unix_time};
use super::line::{push_json_str, push_u64, write_line, DepKind, IndexLine, CONFIG_JSON};
use super::names::{canonical, crate_names, is_reserved, sparse_path};
use super::rng::derive_key;
use super::versions::{version_triple, Semver};
use super::*;

fn small(crates: usize, seed: u64) -> SynthConfig {
    SynthConfig::new(crates, seed)
}

fn files(config: &SynthConfig) -> Vec<SynthFile> {
    generate(config).collect()
}

/// One 2,000-crate registry, generated and parsed once for all the tests that only read
/// it (debug builds parse slowly).
struct Sample {
    config: SynthConfig,
    files: Vec<SynthFile>,
    /// Every index line: the raw text and its parse.
    lines: Vec<(String, IndexLine<'static>)>,
    /// Crate name -> its versions in file order.
    versions: HashMap<String, Vec<String>>,
}

fn sample() -> &'static Sample {
    static SAMPLE: OnceLock<Sample> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let config = small(2_000, 5);
        let files = files(&config);
        let mut lines = Vec::new();
        let mut versions: HashMap<String, Vec<String>> = HashMap::new();
        for file in files.iter().skip(1) {
            for raw in std::str::from_utf8(&file.contents).unwrap().lines() {
                let parsed: IndexLine<'static> = serde_json::from_str(raw).unwrap();
                versions
                    .entry(parsed.name.to_string())
                    .or_default()
                    .push(parsed.vers.to_string());
                lines.push((raw.to_owned(), parsed));
            }
        }
        Sample {
            config,
            files,
            lines,
            versions,
        }
    })
}

#[test]
fn sparse_paths_follow_cargo() {
    assert_eq!(sparse_path("a").as_deref(), Some("1/a"));
    assert_eq!(sparse_path("AB").as_deref(), Some("2/ab"));
    assert_eq!(sparse_path("abc").as_deref(), Some("3/a/abc"));
    assert_eq!(sparse_path("Serde").as_deref(), Some("se/rd/serde"));
    assert_eq!(sparse_path("cfg-if").as_deref(), Some("cf/g-/cfg-if"));
    for bad in ["", "../etc", "a/b", "a.b", "é", &"x".repeat(65)] {
        assert_eq!(sparse_path(bad), None, "{bad:?}");
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = files(&small(600, 7));
    assert_eq!(a, files(&small(600, 7)));
    assert_ne!(a, files(&small(600, 8)));
}

#[test]
fn config_json_has_dl_and_api() {
    let mut config = small(3, 1);
    config.dl = "http://127.0.0.1:4321/dl".to_owned();
    let first = generate(&config).next().unwrap();
    assert_eq!(first.path, "config.json");
    assert_eq!(
        first.contents,
        b"{\"dl\":\"http://127.0.0.1:4321/dl\",\"api\":null}\n"
    );
    config.api = Some("http://127.0.0.1:4321".to_owned());
    let first = generate(&config).next().unwrap();
    let value: serde_json::Value = serde_json::from_slice(&first.contents).unwrap();
    assert_eq!(value["api"], "http://127.0.0.1:4321");
}

#[test]
fn every_path_shape_appears_and_matches_the_name() {
    let files = &sample().files;
    assert_eq!(files.len(), 2_001);
    let paths: Vec<&str> = files.iter().skip(1).map(|f| f.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted, "files come in path order");
    // Directory shape: lengths of the directory segments.
    let shapes: HashSet<Vec<usize>> = paths
        .iter()
        .map(|p| {
            let mut segments: Vec<usize> = p.split('/').map(str::len).collect();
            segments.pop();
            segments
        })
        .collect();
    for expected in [vec![1], vec![1, 1], vec![2, 2]] {
        assert!(shapes.contains(&expected), "no {expected:?} in {shapes:?}");
    }
    let lengths: HashSet<usize> = paths
        .iter()
        .map(|p| p.rsplit('/').next().unwrap().len())
        .collect();
    for len in 1..=3 {
        assert!(lengths.contains(&len), "no {len}-character name");
    }
    for file in files.iter().skip(1) {
        let text = std::str::from_utf8(&file.contents).unwrap();
        for line in text.lines() {
            let parsed: IndexLine<'_> = serde_json::from_str(line).unwrap();
            assert_eq!(
                sparse_path(&parsed.name).as_deref(),
                Some(file.path.as_str())
            );
        }
    }
}

#[test]
fn names_are_unique_and_look_like_crates_io() {
    let names = crate_names(&derive_key(3), 20_000);
    assert_eq!(names.len(), 20_000);
    let canonical_names: HashSet<String> = names.iter().map(|n| canonical(n)).collect();
    assert_eq!(
        canonical_names.len(),
        names.len(),
        "unique modulo case and -/_"
    );
    let mut lengths = [0usize; 4];
    for name in &names {
        assert!(sparse_path(name).is_some(), "{name:?}");
        assert!(
            name.starts_with(|c: char| c.is_ascii_lowercase()),
            "{name:?}"
        );
        assert!(!is_reserved(name), "{name:?}");
        lengths[name.len().min(4) - 1] += 1;
    }
    assert_eq!(lengths[..3], [2, 40, 250]);
    let typical = names.iter().filter(|n| (5..=20).contains(&n.len())).count();
    assert!(
        typical * 100 >= names.len() * 85,
        "{typical} of {}",
        names.len()
    );
    assert!(names.iter().any(|n| n.contains('-')));
    assert!(names.iter().any(|n| n.contains('_')));
    // At the smallest sizes every shape still appears.
    let tiny = crate_names(&derive_key(3), 3);
    let mut tiny_lengths: Vec<usize> = tiny.iter().map(String::len).collect();
    tiny_lengths.sort_unstable();
    assert_eq!(tiny_lengths, [1, 2, 3]);
}

#[test]
fn every_line_is_a_crates_io_line() {
    let sample = sample();
    let hex = |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    for file in sample.files.iter().skip(1) {
        assert!(file.contents.ends_with(b"\n"), "{}", file.path);
    }
    for (line, parsed) in &sample.lines {
        // Byte-identical to serde_json of crates.io's struct: same field order, same
        // omissions, same escapes. `write_line` must agree too.
        assert_eq!(&serde_json::to_string(parsed).unwrap(), line);
        let mut written = Vec::new();
        write_line(&mut written, parsed);
        assert_eq!(written, line.as_bytes());
        // The typed parse needed name, vers, deps, cksum and features; cargo also reads
        // `yanked`, which crates.io always writes.
        assert!(parsed.yanked.is_some(), "{line}");
        assert!(hex(&parsed.cksum), "{line}");
        assert!(version_triple(&parsed.vers).is_some(), "{line}");
        assert_eq!(parsed.v.is_some(), parsed.features2.is_some(), "{line}");
        let mut sorted = parsed.deps.to_vec();
        sorted.sort_by(|a, b| (&a.name, a.kind).cmp(&(&b.name, b.kind)));
        assert_eq!(sorted, parsed.deps.to_vec(), "deps sorted in {line}");
        let mut declared = HashSet::new();
        for dep in parsed.deps.iter() {
            assert!(
                declared.insert((&dep.name, dep.kind)),
                "duplicate dep in {line}"
            );
            let real = dep.package.as_deref().unwrap_or(&dep.name);
            assert!(
                sample.versions.contains_key(real),
                "{real} is not a generated crate"
            );
            assert_ne!(real, parsed.name, "self-dependency in {line}");
        }
    }
    for (name, versions) in &sample.versions {
        let unique: HashSet<&String> = versions.iter().collect();
        assert_eq!(unique.len(), versions.len(), "duplicate version of {name}");
    }
}

/// The releases (not pre-releases) among `versions`.
fn releases(versions: &[String]) -> Vec<(u64, u64, u64)> {
    versions
        .iter()
        .filter(|v| !v.split('+').next().unwrap().contains('-'))
        .map(|v| version_triple(v).unwrap())
        .collect()
}

/// Whether a requirement this module writes is met by one of `releases`.
fn matches(req: &str, releases: &[(u64, u64, u64)]) -> bool {
    let nums = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.trim().parse().unwrap()).collect() };
    if req == "*" {
        return !releases.is_empty();
    }
    if let Some(rest) = req.strip_prefix(">=") {
        let (lo, hi) = rest.split_once(", <").unwrap();
        let pad = |v: &[u64]| (v[0], *v.get(1).unwrap_or(&0), *v.get(2).unwrap_or(&0));
        let (lo, hi) = (pad(&nums(lo)), pad(&nums(hi)));
        return releases.iter().any(|r| *r >= lo && *r < hi);
    }
    let (op, rest) = req.split_at(1);
    let n = nums(rest);
    releases
        .iter()
        .any(|&(ma, mi, pa)| match (op, n.as_slice()) {
            ("=", [a, b, c]) => (ma, mi, pa) == (*a, *b, *c),
            ("~", [a, b]) => (ma, mi) == (*a, *b),
            ("^", [a]) => ma == *a,
            ("^", [0, b]) => ma == 0 && mi == *b,
            ("^", [a, b]) => ma == *a && mi >= *b,
            ("^", [0, 0, c]) => (ma, mi, pa) == (0, 0, *c),
            ("^", [0, b, c]) => ma == 0 && mi == *b && pa >= *c,
            ("^", [a, b, c]) => ma == *a && (mi, pa) >= (*b, *c),
            _ => panic!("unexpected requirement {req}"),
        })
}

#[test]
fn requirements_resolve_and_normal_deps_are_acyclic() {
    let sample = sample();
    let rank: HashMap<String, usize> =
        crate_names(&derive_key(sample.config.seed), sample.config.crates)
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, i))
            .collect();
    let releases: HashMap<&str, Vec<(u64, u64, u64)>> = sample
        .versions
        .iter()
        .map(|(name, versions)| (name.as_str(), releases(versions)))
        .collect();
    let mut checked = 0;
    for (line, parsed) in &sample.lines {
        for dep in parsed.deps.iter() {
            let real = dep.package.as_deref().unwrap_or(&dep.name);
            assert!(
                matches(&dep.req, &releases[real]),
                "{real} {} in {line}",
                dep.req
            );
            if dep.kind != Some(DepKind::Dev) {
                assert!(rank[real] < rank[parsed.name.as_ref()], "may cycle: {line}");
            }
            checked += 1;
        }
    }
    assert!(checked > 10_000, "{checked}");
    assert!(!matches("^9.9", &[(1, 0, 0)]), "the matcher can say no");
}

#[test]
fn features_name_only_what_exists() {
    let mut with_features2 = 0;
    for (line, parsed) in &sample().lines {
        let mut all = parsed.features.clone().into_owned();
        if let Some(features2) = &parsed.features2 {
            with_features2 += 1;
            all.extend(features2.clone().into_owned());
        }
        let normal_dep = |name: &str| {
            parsed
                .deps
                .iter()
                .find(|d| d.name == name && d.kind == Some(DepKind::Normal))
        };
        for (feature, values) in &all {
            assert!(
                parsed.deps.iter().all(|d| d.name != *feature),
                "feature {feature} shadows a dependency in {line}"
            );
            for value in values {
                if let Some(name) = value.strip_prefix("dep:") {
                    assert!(
                        normal_dep(name).is_some_and(|d| d.optional),
                        "{value}: {line}"
                    );
                } else if let Some((name, _)) = value.split_once('/') {
                    let name = name.trim_end_matches('?');
                    assert!(normal_dep(name).is_some(), "{value}: {line}");
                } else {
                    let optional = normal_dep(value).is_some_and(|d| d.optional);
                    assert!(
                        all.contains_key(value.as_ref()) || optional,
                        "{value}: {line}"
                    );
                }
            }
        }
    }
    assert!(with_features2 > 0);
}

#[test]
fn shape_is_like_crates_io() {
    let sample = sample();
    let crates = sample.versions.len() as f64;
    let lines = sample.lines.len() as f64;
    let mean_versions = lines / crates;
    assert!((6.0..11.0).contains(&mean_versions), "{mean_versions}");
    let yanked = sample
        .lines
        .iter()
        .filter(|(_, l)| l.yanked == Some(true))
        .count() as f64;
    assert!(
        (0.02..0.04).contains(&(yanked / lines)),
        "{}",
        yanked / lines
    );
    let bytes: usize = sample.lines.iter().map(|(raw, _)| raw.len() + 1).sum();
    let mean_line = bytes as f64 / lines;
    assert!((600.0..1_100.0).contains(&mean_line), "{mean_line}");
    let single = sample.versions.values().filter(|v| v.len() == 1).count() as f64;
    assert!(
        (0.28..0.45).contains(&(single / crates)),
        "{}",
        single / crates
    );
    assert!(
        sample.versions.values().any(|v| v.len() >= 200),
        "none with hundreds"
    );
    let text: String = sample.lines.iter().map(|(raw, _)| raw.as_str()).collect();
    for needle in [
        "\"rust_version\":",
        "\"pubtime\":",
        "\"links\":",
        "\"features2\":",
        "\"package\":",
        "-alpha.",
        "\"target\":\"cfg(",
        "\"kind\":\"dev\"",
        "\"kind\":\"build\"",
        "\"optional\":true",
        "\"yanked\":true",
    ] {
        assert!(text.contains(needle), "no line has {needle}");
    }
}

#[test]
fn write_tree_writes_what_generate_yields() {
    let config = small(150, 2);
    let dir = tempfile::tempdir().unwrap();
    let stats = write_tree(&config, dir.path()).unwrap();
    let mut expected = SynthStats::default();
    for file in generate(&config) {
        let on_disk = fs::read(dir.path().join(&file.path)).unwrap();
        assert_eq!(on_disk, file.contents, "{}", file.path);
        expected.files += 1;
        expected.bytes += file.contents.len() as u64;
        if file.path != CONFIG_JSON {
            expected.crates += 1;
            expected.index_bytes += file.contents.len() as u64;
            let text = String::from_utf8(file.contents).unwrap();
            expected.versions += text.lines().count() as u64;
            expected.yanked += text.matches("\"yanked\":true").count() as u64;
        }
    }
    assert_eq!(stats, expected);
    assert_eq!(stats.files, 151);
    assert_eq!(stats.mean_line_bytes(), stats.index_bytes / stats.versions);
    // A second run into the same directory is refused rather than mixed with the first.
    assert!(matches!(
        write_tree(&config, dir.path()),
        Err(SynthError::OutDirNotEmpty { .. })
    ));
}

#[test]
fn picks_are_reproducible_distinct_and_exist() {
    let config = small(500, 4);
    let picks = pick_crates(&config, 50);
    assert_eq!(picks.len(), 50);
    assert_eq!(picks.iter().collect::<HashSet<_>>().len(), 50);
    assert_eq!(picks, pick_crates(&config, 50));
    assert_eq!(pick_crate(&config, 7).as_ref(), Some(&picks[7]));
    assert_eq!(&pick_crates(&config, 10)[..], &picks[..10]);
    let names: HashSet<String> = crate_names(&derive_key(4), 500).into_iter().collect();
    assert!(picks.iter().all(|p| names.contains(p)));
    assert_eq!(pick_crates(&config, 10_000).len(), 500);
    assert_eq!(pick_crate(&config, 500), None);
    assert_eq!(pick_crate(&small(0, 4), 0), None);
}

fn tree(crates: usize) -> (tempfile::TempDir, SynthConfig) {
    let config = small(crates, 9);
    let dir = tempfile::tempdir().unwrap();
    write_tree(&config, dir.path()).unwrap();
    (dir, config)
}

#[test]
fn add_version_appends_a_patch_bump() {
    let (dir, config) = tree(40);
    let name = pick_crate(&config, 0).unwrap();
    let path = dir.path().join(sparse_path(&name).unwrap());
    let before = fs::read(&path).unwrap();
    let versions = crate_versions(dir.path(), &name).unwrap();
    let (ma, mi, pa) = versions
        .iter()
        .map(|v| version_triple(v).unwrap())
        .max()
        .unwrap();

    let added = add_version(dir.path(), &name).unwrap();
    assert_eq!(added, format!("{ma}.{mi}.{}", pa + 1));
    let after = fs::read(&path).unwrap();
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "existing lines untouched"
    );
    let new_line = std::str::from_utf8(&after[before.len()..]).unwrap();
    assert!(new_line.ends_with('\n') && new_line.matches('\n').count() == 1);
    let parsed: IndexLine<'_> = serde_json::from_str(new_line.trim_end()).unwrap();
    assert_eq!(parsed.vers, added);
    assert_eq!(parsed.name, name);
    assert_eq!(parsed.yanked, Some(false));
    assert_eq!(parsed.cksum, derived_cksum(&name, &added));
    assert_eq!(serde_json::to_string(&parsed).unwrap(), new_line.trim_end());
    assert_eq!(
        crate_versions(dir.path(), &name).unwrap().last(),
        Some(&added)
    );
    // The next one bumps past the one just added.
    let again = add_version(dir.path(), &name).unwrap();
    assert_eq!(again, format!("{ma}.{mi}.{}", pa + 2));
    // Other crates are untouched.
    for file in generate(&config).filter(|f| f.path != sparse_path(&name).unwrap()) {
        assert_eq!(
            fs::read(dir.path().join(&file.path)).unwrap(),
            file.contents
        );
    }
}

#[test]
fn yank_flips_one_line_and_unyank_restores() {
    let (dir, config) = tree(40);
    let name = (0..40)
        .map(|k| pick_crate(&config, k).unwrap())
        .find(|n| crate_versions(dir.path(), n).unwrap().len() > 2)
        .unwrap();
    let path = dir.path().join(sparse_path(&name).unwrap());
    let before = fs::read_to_string(&path).unwrap();
    let (index, vers) = before
        .lines()
        .enumerate()
        .find(|(_, line)| line.contains("\"yanked\":false"))
        .map(|(i, line)| {
            let parsed: IndexLine<'_> = serde_json::from_str(line).unwrap();
            (i, parsed.vers.into_owned())
        })
        .unwrap();

    assert!(yank(dir.path(), &name, &vers).unwrap());
    let after = fs::read_to_string(&path).unwrap();
    assert_eq!(before.lines().count(), after.lines().count());
    for (i, (old, new)) in before.lines().zip(after.lines()).enumerate() {
        if i == index {
            assert_eq!(new, old.replacen("\"yanked\":false", "\"yanked\":true", 1));
        } else {
            assert_eq!(new, old);
        }
    }
    assert!(!yank(dir.path(), &name, &vers).unwrap(), "already yanked");
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        after,
        "no-op writes nothing"
    );
    assert!(unyank(dir.path(), &name, &vers).unwrap());
    assert_eq!(fs::read_to_string(&path).unwrap(), before);
    let leftovers = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".synth-tmp")
        })
        .count();
    assert_eq!(leftovers, 0);
    assert!(matches!(
        yank(dir.path(), &name, "999.0.0"),
        Err(SynthError::NoSuchVersion { .. })
    ));
}

#[test]
fn delete_removes_the_file_only() {
    let (dir, config) = tree(40);
    let name = pick_crate(&config, 2).unwrap();
    let path = dir.path().join(sparse_path(&name).unwrap());
    delete_crate(dir.path(), &name).unwrap();
    assert!(!path.exists());
    assert!(path.parent().unwrap().exists());
    assert!(matches!(
        delete_crate(dir.path(), &name),
        Err(SynthError::NoSuchCrate { .. })
    ));
    assert!(matches!(
        add_version(dir.path(), &name),
        Err(SynthError::NoSuchCrate { .. })
    ));
    let other = pick_crate(&config, 3).unwrap();
    assert!(crate_versions(dir.path(), &other).is_ok());
}

#[test]
fn mutations_refuse_bad_names_and_foreign_lines() {
    let (dir, config) = tree(20);
    for bad in ["../config.json", "a/b", ""] {
        assert!(matches!(
            add_version(dir.path(), bad),
            Err(SynthError::InvalidCrateName { .. })
        ));
        assert!(matches!(
            delete_crate(dir.path(), bad),
            Err(SynthError::InvalidCrateName { .. })
        ));
    }
    // A file holding another crate's lines is an error, not a silent edit.
    let name = pick_crate(&config, 0).unwrap();
    let other = pick_crate(&config, 1).unwrap();
    let path = dir.path().join(sparse_path(&name).unwrap());
    fs::copy(dir.path().join(sparse_path(&other).unwrap()), &path).unwrap();
    assert!(matches!(
        add_version(dir.path(), &name),
        Err(SynthError::NameMismatch { .. })
    ));
    fs::write(&path, "not json\n").unwrap();
    assert!(matches!(
        yank(dir.path(), &name, "1.0.0"),
        Err(SynthError::BadIndexLine { line: 1, .. })
    ));
    fs::write(&path, "").unwrap();
    assert!(matches!(
        add_version(dir.path(), &name),
        Err(SynthError::EmptyIndexFile { .. })
    ));
}

#[test]
fn json_strings_escape_like_serde_json() {
    for s in [
        "plain",
        "q\"uote",
        "back\\slash",
        "nl\nx",
        "tab\tcr\r",
        "\u{1}\u{1f}\u{7f}",
        "é✓",
    ] {
        let mut out = Vec::new();
        push_json_str(&mut out, s);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(s).unwrap()
        );
    }
    for n in [0u64, 7, 10, 1234, u64::MAX] {
        let mut out = Vec::new();
        push_u64(&mut out, n);
        assert_eq!(out, n.to_string().as_bytes());
    }
}

#[test]
fn versions_print_as_semver() {
    let mut out = Vec::new();
    Semver {
        major: 1,
        minor: 20,
        patch: 3,
        pre: Some(("rc", 2)),
        build: Some("1.2.13"),
    }
    .write_to(&mut out);
    assert_eq!(out, b"1.20.3-rc.2+1.2.13");
    assert_eq!(version_triple("0.1.5+1.2.13"), Some((0, 1, 5)));
    assert_eq!(version_triple("1.0.0-alpha.1"), Some((1, 0, 0)));
    assert_eq!(version_triple("1.0"), None);
    assert_eq!(version_triple("1.0.0.0"), None);
}

#[test]
fn pubtime_formats_civil_dates() {
    assert_eq!(format_pubtime(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_pubtime(1_763_456_303), "2025-11-18T08:58:23Z");
    assert_eq!(
        format_pubtime(unix_time(2024, 2, 29) + 3_661),
        "2024-02-29T01:01:01Z"
    );
}
