//! Crate contents: dependencies, features, MSRV and publish times, rendered to index lines.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::line::{
    push_hex_u64, push_json_str, write_deps, write_features, write_line_end, DepKind, FeatureMap,
    IndexDep,
};
use super::names::is_sys;
use super::plan::{crate_stream, Plan, RenderedCrate, SeriesHead, LANE_CONTENT, LANE_VERSIONS};
use super::rng::{splitmix64, Rng};
use super::versions::version_history;
use super::SynthFile;

#[rustfmt::skip]
const DEP_FEATURES: &[&str] = &[
    "derive", "std", "full", "alloc", "serde", "macros", "rt-multi-thread", "sync", "fs", "json",
    "v4", "rustls-tls", "cargo", "env-filter", "time", "io-util", "net", "fmt", "small_rng",
    "preserve_order", "blocking", "sink",
];
#[rustfmt::skip]
const CRATE_FEATURES: &[&str] = &[
    "std", "alloc", "serde", "derive", "full", "async", "tokio", "rt", "macros", "nightly",
    "unstable", "log", "tracing", "json", "tls", "rustls", "native-tls", "simd", "no_std",
    "parallel", "rayon", "cli", "bench", "test-utils", "experimental", "compat", "chrono", "time",
    "uuid", "backtrace", "color", "wasm", "ffi", "vendored", "static", "runtime", "client",
    "server", "blocking", "fs", "net", "sync", "schema", "codegen",
];
const TARGETS: &[&str] = &[
    "cfg(windows)",
    "cfg(unix)",
    "cfg(target_arch = \"wasm32\")",
    "cfg(not(target_arch = \"wasm32\"))",
    "cfg(target_os = \"linux\")",
    "cfg(target_os = \"macos\")",
    "cfg(any(target_os = \"macos\", target_os = \"ios\"))",
    "x86_64-pc-windows-msvc",
];
#[rustfmt::skip]
const RUST_VERSIONS: &[&str] = &[
    "1.31", "1.36", "1.46", "1.56", "1.56.1", "1.57", "1.60", "1.61", "1.63", "1.64.0", "1.65",
    "1.66", "1.67", "1.70", "1.70.0", "1.71", "1.72", "1.74", "1.75", "1.76", "1.78", "1.79",
    "1.80", "1.81", "1.82", "1.83", "1.85", "1.86", "1.88",
];

/// Share of versions yanked, in parts per million.
const YANKED_PPM: u64 = 30_000;

/// How a dependency's version requirement is written (kept across a crate's versions).
#[derive(Debug, Clone, Copy)]
enum ReqStyle {
    /// `^1.2`, `^0.4`
    CaretMinor,
    /// `^1.2.3`
    CaretPatch,
    /// `^1` (for 0.x: `^0.4`)
    CaretMajor,
    /// `=1.2.0`
    Exact,
    /// `~1.2`
    Tilde,
    /// `*`
    Any,
    /// `>=1.2, <2` (for 0.x: `>=0.4, <0.5`)
    Range,
}

/// A dependency as a crate declares it across its versions.
struct PoolDep {
    rank: usize,
    alias: Option<String>,
    pub(super) kind: DepKind,
    pub(super) optional: bool,
    default_features: bool,
    pub(super) features: Vec<&'static str>,
    target: Option<&'static str>,
    style: ReqStyle,
}

/// What a feature enables, resolved against each epoch's dependencies.
#[derive(Debug, Clone, Copy)]
enum FeatureRef {
    /// Another feature of the crate (by index).
    Feature(usize),
    /// `dep/feature` (`dep?/feature` in new-syntax epochs) for a normal dependency.
    DepFeature(usize, &'static str),
    /// An optional dependency (`dep:name` in new-syntax epochs).
    OptionalDep(usize),
}

struct PoolFeature {
    pub(super) name: &'static str,
    refs: Vec<FeatureRef>,
}

/// What all versions of one minor series share, its `deps` and `features` already serialized
/// (as [`write_deps`] and [`write_features`] write them): most of a line's bytes, made once
/// per series instead of once per version.
pub(super) struct Epoch {
    deps_json: Vec<u8>,
    features_json: Vec<u8>,
    has_features2: bool,
    rust_version: Option<&'static str>,
}

/// Seconds since the Unix epoch of a UTC civil date (Howard Hinnant's `days_from_civil`).
pub(super) const fn unix_time(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400
}

/// crates.io opened in November 2014; the synthetic history ends in spring 2026.
const HISTORY_START: i64 = unix_time(2014, 11, 11);
const HISTORY_END: i64 = unix_time(2026, 3, 31);
/// crates.io started writing `pubtime` on new versions around this date (its own writer's
/// test uses 2025-11-18); older lines have none.
const PUBTIME_SINCE: i64 = unix_time(2025, 11, 18);

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch (Hinnant's `civil_from_days`).
pub(super) fn format_pubtime(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Makes the index file of the crate at `rank`.
pub(super) fn render_crate(plan: &Plan, rank: usize, path: String) -> RenderedCrate {
    let Some(name) = plan.names.get(rank) else {
        // Unreachable: ranks come from the plan itself. An empty file is the harmless answer.
        return RenderedCrate {
            file: SynthFile {
                path,
                contents: Vec::new(),
            },
            versions: 0,
            yanked: 0,
        };
    };
    let sys = is_sys(name);
    let history = version_history(
        &mut Rng::new(&plan.key, crate_stream(rank, LANE_VERSIONS)),
        sys,
    );
    let mut rng = Rng::new(&plan.key, crate_stream(rank, LANE_CONTENT));
    let count = history.len();

    // Epochs: a new one starts whenever major.minor changes (pre-releases included).
    let mut epoch_of = Vec::with_capacity(count);
    let mut epochs_len = 0usize;
    let mut previous: Option<(u64, u64)> = None;
    for version in &history {
        let series = (version.major, version.minor);
        if previous != Some(series) {
            epochs_len = epochs_len.saturating_add(1);
            previous = Some(series);
        }
        epoch_of.push(epochs_len.saturating_sub(1));
    }

    let pool = dep_pool(&mut rng, plan, rank, count);
    let features = feature_pool(&mut rng, plan, &pool, count);
    // About a third of crates declare an MSRV, from some epoch on, raising it now and then.
    let msrv = rng
        .chance(330_000)
        .then(|| (rng.below(epochs_len), rng.below(RUST_VERSIONS.len())));
    // About a fifth of crates with features switch to `dep:` / `?/` syntax at some epoch.
    let new_syntax_from = if !features.is_empty() && rng.chance(200_000) {
        rng.below(epochs_len)
    } else {
        usize::MAX
    };
    let links = (sys && rng.chance(700_000)).then(|| {
        name.trim_end_matches("-sys")
            .trim_end_matches("_sys")
            .to_owned()
    });

    let draft = CrateDraft {
        plan,
        pool,
        features,
        epochs: epochs_len,
        new_syntax_from,
        msrv,
    };
    let mut epochs: Vec<Epoch> = Vec::new();
    let mut rendering_of = Vec::with_capacity(epochs_len);
    let mut last_key: Option<EpochKey> = None;
    for k in 0..epochs_len {
        let key = draft.key(k);
        if last_key != Some(key) {
            epochs.push(draft.epoch(key));
            last_key = Some(key);
        }
        rendering_of.push(epochs.len().saturating_sub(1));
    }

    // Publish times: the first version some time in the registry's history (more crates are
    // recent), the others spread over an active span of random length within what is left of
    // it (crates stop being published), so last versions do not all bunch up at the end.
    let span = u64::try_from(HISTORY_END - HISTORY_START).unwrap_or(0);
    let first = rng.below_u64(span).max(rng.below_u64(span));
    let mut published = HISTORY_START.saturating_add(i64::try_from(first).unwrap_or(0));
    let left = u64::try_from(HISTORY_END.saturating_sub(published)).unwrap_or(0);
    let active = rng.below_u64(left.saturating_add(1));
    let mean_gap_x2 = active
        .saturating_mul(2)
        .checked_div(u64::try_from(count).unwrap_or(1))
        .unwrap_or(0);

    let mut contents = Vec::with_capacity(count.saturating_mul(800));
    let mut yanked = 0u64;
    for (i, version) in history.iter().enumerate() {
        if i > 0 {
            let gap = i64::try_from(rng.below_u64(mean_gap_x2.saturating_add(1))).unwrap_or(0);
            published = published.saturating_add(gap).min(HISTORY_END);
        }
        let rendering = epoch_of.get(i).and_then(|&k| rendering_of.get(k));
        let Some(epoch) = rendering.and_then(|&r| epochs.get(r)) else {
            continue;
        };
        let is_yanked = rng.chance(YANKED_PPM);
        yanked = yanked.saturating_add(u64::from(is_yanked));
        // The pieces of `write_line`, in its order; a test checks the result against serde.
        contents.extend_from_slice(b"{\"name\":");
        push_json_str(&mut contents, name);
        contents.extend_from_slice(b",\"vers\":\"");
        version.write_to(&mut contents);
        contents.push(b'"');
        contents.extend_from_slice(&epoch.deps_json);
        contents.extend_from_slice(b",\"cksum\":\"");
        for _ in 0..4 {
            push_hex_u64(&mut contents, rng.next());
        }
        contents.push(b'"');
        contents.extend_from_slice(&epoch.features_json);
        let pubtime = (published >= PUBTIME_SINCE).then(|| format_pubtime(published));
        write_line_end(
            &mut contents,
            Some(is_yanked),
            links.as_deref(),
            epoch.rust_version,
            pubtime.as_deref(),
            epoch.has_features2.then_some(2),
        );
        contents.push(b'\n');
    }
    RenderedCrate {
        file: SynthFile { path, contents },
        versions: u64::try_from(count).unwrap_or(u64::MAX),
        yanked,
    }
}

/// The dependencies a crate declares over its life. Larger crates (more versions) have more;
/// normal and build dependencies only point at more popular crates (lower rank), which keeps
/// the normal dependency graph acyclic like a real registry's.
fn dep_pool(rng: &mut Rng, plan: &Plan, rank: usize, versions: usize) -> Vec<PoolDep> {
    let wanted = if rng.chance(25_000) {
        // Frameworks and applications with dozens of dependencies.
        10 + rng.geometric(20, 110)
    } else {
        let (none_ppm, base, mean, cap) = match versions {
            1 => (450_000, 1, 2, 60),
            2..=5 => (150_000, 1, 3, 60),
            6..=30 => (80_000, 1, 4, 80),
            _ => (50_000, 2, 6, 100),
        };
        if rng.chance(none_ppm) {
            0
        } else {
            base + rng.geometric(mean, cap)
        }
    };
    let crates = plan.names.len();
    let mut pool: Vec<PoolDep> = Vec::new();
    for _ in 0..wanted {
        let kind = match rng.weighted(&[700, 80, 220]) {
            0 => DepKind::Normal,
            1 => DepKind::Build,
            _ => DepKind::Dev,
        };
        let dep_rank = if kind == DepKind::Dev {
            let r = rng.power_rank(crates);
            if r == rank {
                continue;
            }
            r
        } else if rank == 0 {
            continue;
        } else {
            rng.power_rank(rank)
        };
        let Some(real_name) = plan.names.get(dep_rank) else {
            continue;
        };
        let alias = rng
            .chance(15_000)
            .then(|| format!("{}_crate", real_name.replace('-', "_")));
        // One declaration per (name, kind), as Cargo requires. Pools are small (a few
        // dozen at most), so a scan beats hashing owned keys.
        let name = alias.as_deref().unwrap_or(real_name);
        if pool
            .iter()
            .any(|d| d.kind == kind && dep_name(plan, d) == Some(name))
        {
            continue;
        }
        let mut features: Vec<&'static str> = Vec::new();
        if rng.chance(250_000) {
            for _ in 0..1 + rng.below(3) {
                if let Some(feature) = rng.pick(DEP_FEATURES) {
                    if !features.contains(feature) {
                        features.push(feature);
                    }
                }
            }
        }
        let style = match rng.weighted(&[450, 300, 150, 30, 30, 10, 30]) {
            0 => ReqStyle::CaretMinor,
            1 => ReqStyle::CaretPatch,
            2 => ReqStyle::CaretMajor,
            3 => ReqStyle::Exact,
            4 => ReqStyle::Tilde,
            5 => ReqStyle::Any,
            _ => ReqStyle::Range,
        };
        pool.push(PoolDep {
            rank: dep_rank,
            alias,
            kind,
            optional: kind == DepKind::Normal && rng.chance(150_000),
            default_features: !rng.chance(120_000),
            features,
            target: if rng.chance(80_000) {
                rng.pick(TARGETS).copied()
            } else {
                None
            },
            style,
        });
    }
    pool
}

/// The features a crate defines over its life (none for most small crates). Names never equal
/// a dependency's name, which Cargo rejects.
fn feature_pool(rng: &mut Rng, plan: &Plan, pool: &[PoolDep], versions: usize) -> Vec<PoolFeature> {
    let featureful_ppm = match versions {
        1 => 300_000,
        2..=5 => 500_000,
        6..=30 => 700_000,
        _ => 850_000,
    };
    if !rng.chance(featureful_ppm) {
        return Vec::new();
    }
    let mut names: Vec<&'static str> = Vec::new();
    if rng.chance(700_000) {
        names.push("default");
    }
    let wanted = 1 + rng.geometric(3, 24);
    for _ in 0..wanted {
        if let Some(&feature) = rng.pick(CRATE_FEATURES) {
            let clashes = pool.iter().any(|dep| dep_name(plan, dep) == Some(feature));
            if !clashes && !names.contains(&feature) {
                names.push(feature);
            }
        }
    }
    let normal: Vec<usize> = (0..pool.len())
        .filter(|&i| pool.get(i).is_some_and(|d| d.kind == DepKind::Normal))
        .collect();
    let optional: Vec<usize> = (0..pool.len())
        .filter(|&i| pool.get(i).is_some_and(|d| d.optional))
        .collect();
    let count = names.len();
    names
        .iter()
        .enumerate()
        .map(|(i, &name)| {
            let mut refs = Vec::new();
            let wanted = if name == "default" {
                1 + rng.below(2)
            } else {
                rng.below(4)
            };
            for _ in 0..wanted {
                let choice = if name == "default" {
                    0
                } else {
                    rng.weighted(&[40, 35, 25])
                };
                let feature_ref = match choice {
                    0 => {
                        let other = rng.below(count);
                        // `default` is feature 0 when present; nothing enables it.
                        (other != i && names.get(other) != Some(&"default"))
                            .then_some(FeatureRef::Feature(other))
                    }
                    1 => rng.pick(&normal).and_then(|&dep| {
                        rng.pick(DEP_FEATURES)
                            .map(|&feature| FeatureRef::DepFeature(dep, feature))
                    }),
                    _ => rng.pick(&optional).map(|&dep| FeatureRef::OptionalDep(dep)),
                };
                refs.extend(feature_ref);
            }
            PoolFeature { name, refs }
        })
        .collect()
}

/// What is decided once per crate, from which each epoch is rendered.
struct CrateDraft<'a> {
    plan: &'a Plan,
    pool: Vec<PoolDep>,
    pub(super) features: Vec<PoolFeature>,
    epochs: usize,
    /// First epoch whose features use `dep:` / `?/` (`usize::MAX`: none).
    new_syntax_from: usize,
    /// First epoch with a `rust_version`, and its index in [`RUST_VERSIONS`].
    msrv: Option<(usize, usize)>,
}

/// The effective name of a dependency: its alias when renamed.
fn dep_name<'a>(plan: &'a Plan, dep: &'a PoolDep) -> Option<&'a str> {
    dep.alias
        .as_deref()
        .or_else(|| plan.names.get(dep.rank).map(String::as_str))
}

/// Everything an epoch's rendering depends on. Consecutive epochs often have the same key
/// (requirements move every [`REQ_AGE_STEP`] series, dependency lists grow slowly), and then
/// share one rendering: a crate with hundreds of versions renders a few dozen, not hundreds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EpochKey {
    dep_count: usize,
    feature_count: usize,
    /// How many series back the requirements point, in steps of [`REQ_AGE_STEP`].
    req_age: usize,
    new_syntax: bool,
    rust_version: Option<&'static str>,
}

/// Requirements are raised every this many minor series of the depending crate.
const REQ_AGE_STEP: usize = 4;

impl<'a> CrateDraft<'a> {
    /// What epoch `k` is made of. Early epochs have part of the dependencies and features
    /// (about half in the first, all in the last); their requirements point at older series.
    pub(super) fn key(&self, k: usize) -> EpochKey {
        let age = self.epochs.saturating_sub(k).saturating_sub(1);
        let grown = |total: usize| {
            let share = total.saturating_mul(age) / self.epochs.saturating_mul(2).max(1);
            total.saturating_sub(share)
        };
        let rust_version = self.msrv.and_then(|(from, base)| {
            (k >= from).then(|| {
                let index = base.saturating_add(k.saturating_sub(from) / 3);
                RUST_VERSIONS
                    .get(index.min(RUST_VERSIONS.len().saturating_sub(1)))
                    .copied()
            })?
        });
        EpochKey {
            dep_count: grown(self.pool.len()),
            feature_count: grown(self.features.len()),
            req_age: age / REQ_AGE_STEP,
            new_syntax: k >= self.new_syntax_from,
            rust_version,
        }
    }

    /// The dependencies, features and MSRV of an epoch with this key, serialized.
    fn epoch(&'a self, key: EpochKey) -> Epoch {
        let Self {
            plan,
            pool,
            features,
            ..
        } = self;
        let plan = *plan;
        let EpochKey {
            dep_count,
            feature_count,
            req_age,
            new_syntax,
            rust_version,
        } = key;

        let mut deps: Vec<IndexDep<'a>> = pool
            .iter()
            .take(dep_count)
            .filter_map(|dep| {
                let real_name = plan.names.get(dep.rank)?;
                let head = plan.heads.get(dep.rank).copied().unwrap_or_default();
                Some(IndexDep {
                    name: Cow::Borrowed(dep.alias.as_deref().unwrap_or(real_name)),
                    req: Cow::Owned(requirement(dep.style, head, req_age)),
                    features: dep.features.iter().map(|f| Cow::Borrowed(*f)).collect(),
                    optional: dep.optional,
                    default_features: dep.default_features,
                    target: dep.target.map(Cow::Borrowed),
                    kind: Some(dep.kind),
                    package: dep
                        .alias
                        .as_ref()
                        .map(|_| Cow::Borrowed(real_name.as_str())),
                })
            })
            .collect();
        deps.sort_by(|a, b| (&a.name, a.kind).cmp(&(&b.name, b.kind)));

        let name_of = |index: usize| -> Option<&'a str> { dep_name(plan, pool.get(index)?) };
        let mut all_features: FeatureMap<'a> = BTreeMap::new();
        for (i, feature) in features.iter().enumerate().take(feature_count) {
            let mut values: Vec<Cow<'a, str>> = Vec::new();
            for feature_ref in &feature.refs {
                let value = match *feature_ref {
                    FeatureRef::Feature(other) if other < feature_count && other != i => {
                        features.get(other).map(|f| Cow::Borrowed(f.name))
                    }
                    FeatureRef::DepFeature(dep, feat) if dep < dep_count => {
                        let weak = new_syntax && pool.get(dep).is_some_and(|d| d.optional);
                        name_of(dep).map(|name| {
                            Cow::Owned(format!("{name}{}/{feat}", if weak { "?" } else { "" }))
                        })
                    }
                    FeatureRef::OptionalDep(dep) if dep < dep_count => name_of(dep).map(|name| {
                        if new_syntax {
                            Cow::Owned(format!("dep:{name}"))
                        } else {
                            Cow::Borrowed(name)
                        }
                    }),
                    _ => None,
                };
                if let Some(value) = value {
                    if !values.contains(&value) {
                        values.push(value);
                    }
                }
            }
            all_features.insert(Cow::Borrowed(feature.name), values);
        }
        // crates.io moves features using the new syntax to `features2` so that cargo older than
        // 1.19 can still read `features`.
        let (new, old): (FeatureMap<'a>, FeatureMap<'a>) =
            all_features.into_iter().partition(|(_, values)| {
                values
                    .iter()
                    .any(|v| v.starts_with("dep:") || v.contains("?/"))
            });

        let features2 = (!new.is_empty()).then_some(new);
        let mut deps_json = Vec::new();
        write_deps(&mut deps_json, &deps);
        let mut features_json = Vec::new();
        write_features(&mut features_json, &old, features2.as_ref());
        Epoch {
            deps_json,
            features_json,
            has_features2: features2.is_some(),
            rust_version,
        }
    }
}

/// A version requirement in `style` that some release of the dependency matches: it names the
/// dependency's latest major series, at a minor `back` series back at most.
fn requirement(style: ReqStyle, head: SeriesHead, back: usize) -> String {
    let SeriesHead {
        major,
        minor_lo,
        minor_hi,
        patch_hi,
    } = head;
    let back = u64::try_from(back).unwrap_or(u64::MAX);
    // Within 0.x the minor is the breaking part; never name minor 0 of a 0.x crate that went
    // on to 0.1+, since its first release may be 0.0.1 and `^0.0.0` would match nothing.
    let floor = if major == 0 && minor_hi > 0 {
        minor_lo.max(1)
    } else {
        minor_lo
    };
    let minor = minor_hi.saturating_sub(back).max(floor);
    // A patch that was released in that series: the latest minor's latest (people write the
    // version they built with), else `.0`, which starts every series after the first one (and
    // the first series whenever it is not 0.0).
    let patch = if minor == minor_hi { patch_hi } else { 0 };
    let zero_zero = major == 0 && minor == 0;
    match style {
        _ if zero_zero => format!("^0.0.{patch}"),
        ReqStyle::CaretMinor => format!("^{major}.{minor}"),
        ReqStyle::CaretPatch => format!("^{major}.{minor}.{patch}"),
        ReqStyle::CaretMajor if major > 0 => format!("^{major}"),
        ReqStyle::CaretMajor => format!("^0.{minor}"),
        ReqStyle::Exact => format!("={major}.{minor}.{patch}"),
        ReqStyle::Tilde => format!("~{major}.{minor}"),
        ReqStyle::Any => "*".to_owned(),
        ReqStyle::Range if major > 0 => {
            format!(">={major}.{minor}, <{}", major.saturating_add(1))
        }
        ReqStyle::Range => format!(">=0.{minor}, <0.{}", minor.saturating_add(1)),
    }
}

fn hex64(words: [u64; 4]) -> String {
    words.iter().map(|w| format!("{w:016x}")).collect()
}

/// A checksum for a version added by [`add_version`](super::add_version): a function of name and version only, so
/// the same mutation gives the same bytes.
pub(super) fn derived_cksum(name: &str, vers: &str) -> String {
    // FNV-1a over "name@vers", expanded with SplitMix64.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name
        .bytes()
        .chain(std::iter::once(b'@'))
        .chain(vers.bytes())
    {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut state = hash;
    hex64([
        splitmix64(&mut state),
        splitmix64(&mut state),
        splitmix64(&mut state),
        splitmix64(&mut state),
    ])
}
