//! Version histories: how a crate's versions follow one another.

use super::line::push_u64;
use super::rng::Rng;

/// A semver version as this generator makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Semver {
    pub(super) major: u64,
    pub(super) minor: u64,
    pub(super) patch: u64,
    pub(super) pre: Option<(&'static str, u64)>,
    pub(super) build: Option<&'static str>,
}

impl Semver {
    fn release(major: u64, minor: u64, patch: u64, build: Option<&'static str>) -> Self {
        Self {
            major,
            minor,
            patch,
            pre: None,
            build,
        }
    }
}

impl Semver {
    /// `MAJOR.MINOR.PATCH[-TAG.N][+BUILD]`; only digits, letters, `.`, `-` and `+`, so it
    /// never needs JSON escaping.
    pub(super) fn write_to(&self, out: &mut Vec<u8>) {
        push_u64(out, self.major);
        out.push(b'.');
        push_u64(out, self.minor);
        out.push(b'.');
        push_u64(out, self.patch);
        if let Some((tag, n)) = self.pre {
            out.push(b'-');
            out.extend_from_slice(tag.as_bytes());
            out.push(b'.');
            push_u64(out, n);
        }
        if let Some(build) = self.build {
            out.push(b'+');
            out.extend_from_slice(build.as_bytes());
        }
    }
}

const PRE_TAGS: &[&str] = &["alpha", "beta", "rc"];
/// Upstream library versions that `-sys` crates put in build metadata (`0.1.5+1.2.13`).
#[rustfmt::skip]
const UPSTREAM: &[&str] = &[
    "1.2.13", "3.0.13", "1.1.1w", "3.45.0", "2.11.1", "1.0.20", "0.9.16", "7.88.1", "1.5.6",
];

/// Upper bound on versions per crate (the largest crates.io crates have a few thousand).
const MAX_VERSIONS: u64 = 3_000;

/// A crate's versions in publish order: increasing, mostly patch bumps, some minor and major
/// bumps, some pre-release runs (`-alpha.1`, `-rc.2`) before a release.
pub(super) fn version_history(rng: &mut Rng, sys: bool) -> Vec<Semver> {
    // Heavy-tailed count, mean ~8: almost 40% of crates are published once; one in a hundred
    // has hundreds of versions. A mixture of geometric laws keeps this integer-only.
    let count = match rng.weighted(&[250, 500, 180, 60, 10]) {
        0 => 1,
        1 => 1 + rng.geometric(3, MAX_VERSIONS),
        2 => 1 + rng.geometric(12, MAX_VERSIONS),
        3 => 1 + rng.geometric(25, MAX_VERSIONS),
        _ => 1 + rng.geometric(180, MAX_VERSIONS),
    };
    let build = if sys && rng.chance(250_000) {
        rng.pick(UPSTREAM).copied()
    } else {
        None
    };
    let start = match rng.weighted(&[500, 100, 40, 180, 60, 40, 80]) {
        0 => (0, 1, 0),
        1 => (0, 0, 1),
        2 => (0, 0, 0),
        3 => (1, 0, 0),
        4 => (0, 2, 0),
        5 => (0, 3, 0),
        _ => (0, 1, 0),
    };
    let mut current = Semver::release(start.0, start.1, start.2, build);
    let mut history = Vec::with_capacity(usize::try_from(count).unwrap_or(1));
    history.push(current);
    // The release a pre-release run leads to, and the run's current tag and number.
    let mut pending: Option<(Semver, usize, u64)> = None;
    // Numbers are bounded by MAX_VERSIONS, so the saturating adds never saturate.
    while u64::try_from(history.len()).unwrap_or(u64::MAX) < count {
        if let Some((target, tag, n)) = pending {
            if rng.chance(550_000) {
                let (tag, n) = if tag + 1 < PRE_TAGS.len() && rng.chance(300_000) {
                    (tag + 1, 1)
                } else {
                    (tag, n.saturating_add(1))
                };
                history.push(Semver {
                    pre: PRE_TAGS.get(tag).map(|t| (*t, n)),
                    ..target
                });
                pending = Some((target, tag, n));
            } else {
                history.push(target);
                current = target;
                pending = None;
            }
            continue;
        }
        let next_minor = Semver::release(
            current.major,
            current.minor.saturating_add(1),
            0,
            current.build,
        );
        let next_major = Semver::release(current.major.saturating_add(1), 0, 0, current.build);
        match rng.weighted(&[680, 240, 30, 50]) {
            0 => {
                current.patch = current.patch.saturating_add(1);
                history.push(current);
            }
            1 => {
                current = next_minor;
                history.push(current);
            }
            2 => {
                current = next_major;
                history.push(current);
            }
            _ => {
                let target = if rng.chance(300_000) {
                    next_major
                } else {
                    next_minor
                };
                let tag = rng.below(PRE_TAGS.len());
                history.push(Semver {
                    pre: PRE_TAGS.get(tag).map(|t| (*t, 1)),
                    ..target
                });
                pending = Some((target, tag, 1));
            }
        }
    }
    history
}

/// `MAJOR.MINOR.PATCH` of a version string, ignoring pre-release and build metadata.
pub(super) fn version_triple(vers: &str) -> Option<(u64, u64, u64)> {
    let core = vers.split('+').next()?;
    let core = core.split('-').next()?;
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((major, minor, patch))
}
