//! A direct reader and writer for the snapshot in the exact form this crate writes it,
//! without building a `serde_json::Value` tree: the snapshot lists every bin (4097 entries,
//! ~185 KB at 4096 bins), and going through `Value` on every publish cost more than the
//! rest of a one-version publish together.
//!
//! Both halves are shortcuts, never a second set of rules:
//!
//! * [`parse_envelope`] and [`parse_snapshot`] accept only bytes that are *already* in
//!   canonical form — no whitespace, object keys in strictly increasing byte order (so none
//!   repeats), strings without any escape or control byte, integers without leading zeros
//!   and within `u64`, valid UTF-8 — and only the fields this crate writes. For such bytes
//!   the general path (`cjson::parse`, then `cjson::to_canonical`) gives back exactly the
//!   slice of `signed`, so signatures can be checked over that slice, and the typed value
//!   built here is the one serde would build. Anything else returns `None` and the caller
//!   takes the general path, which then accepts or refuses it with its own error.
//! * [`write_snapshot`] writes the canonical form of a snapshot with no unknown fields,
//!   version-only entries and no string that would need an escape; it returns `None`
//!   otherwise and the caller takes the general path. The result is byte-identical to the
//!   general path's canonical form (a property test checks both halves against it).
//! * [`write_targets`] does the same for a targets role without delegations, unknown
//!   fields or `custom` data: a hashed bin. A full sign writes 4096 of them listing every
//!   index file (200k at crates.io scale), ~1 s through `Value` on two cores.

use std::collections::BTreeMap;

use super::{Expires, KeyId, MetaFile, Signature, Snapshot, SpecVersion, Targets, Version};
use crate::cjson::write_integer;
use crate::limits::Limits;

/// A metadata file split into its signatures and the exact bytes of `signed`, which are
/// its canonical form.
#[derive(Debug)]
pub(crate) struct Envelope<'a> {
    pub(crate) signatures: Vec<Signature>,
    pub(crate) signed: &'a [u8],
}

/// Depth of the deepest value this reader accepts (a snapshot `meta` entry's object:
/// envelope, `signed`, `meta`, entry), as `cjson::parse` counts it.
const DEPTH: usize = 4;

/// Split `bytes` as `{"signatures":[{"keyid":K,"sig":S},...],"signed":...}` in canonical
/// form (strings are checked to be UTF-8 one by one; outside them only ASCII is accepted),
/// checking what [`super::SignedMetadata::parse`] checks of the envelope: size (as a
/// snapshot), signature count, key id syntax, no key id twice. `None`: take the general
/// path.
pub(crate) fn parse_envelope<'a>(bytes: &'a [u8], limits: &Limits) -> Option<Envelope<'a>> {
    if u64::try_from(bytes.len()).ok()? > limits.max_snapshot_bytes || limits.max_json_depth < DEPTH
    {
        return None;
    }
    let mut c = Cursor { bytes, at: 0 };
    c.lit(br#"{"signatures":["#)?;
    let mut signatures: Vec<Signature> = Vec::new();
    if !c.eat(b']') {
        loop {
            c.lit(br#"{"keyid":"#)?;
            let keyid = KeyId::parse(c.string()?).ok()?;
            c.lit(br#","sig":"#)?;
            let sig = c.string()?.to_owned();
            c.lit(b"}")?;
            if signatures.iter().any(|s| s.keyid == keyid) {
                return None;
            }
            signatures.push(Signature {
                keyid,
                sig,
                extra: BTreeMap::new(),
            });
            if signatures.len() > limits.max_signatures {
                return None;
            }
            if c.eat(b']') {
                break;
            }
            c.lit(b",")?;
        }
    }
    c.lit(br#","signed":"#)?;
    let start = c.at;
    // `signed` runs to the last byte, which closes the envelope. Nothing about it is
    // checked here: the caller must read it in full with a role reader that accepts only
    // canonical form (as [`parse_snapshot`] does), or the envelope means nothing.
    let end = bytes.len().checked_sub(1)?;
    if bytes.get(end) != Some(&b'}') || end <= start {
        return None;
    }
    Some(Envelope {
        signatures,
        signed: bytes.get(start..end)?,
    })
}

/// Read the `signed` bytes of a snapshot in canonical form:
/// `{"_type":"snapshot","expires":E,"meta":{NAME:{"version":N},...},"spec_version":S,
/// "version":N}` and nothing else. `None`: take the general path.
pub(crate) fn parse_snapshot(signed: &[u8]) -> Option<Snapshot> {
    let mut c = Cursor {
        bytes: signed,
        at: 0,
    };
    c.lit(br#"{"_type":"snapshot","expires":"#)?;
    let expires = Expires::parse(c.string()?).ok()?;
    c.lit(br#","meta":{"#)?;
    let mut entries: Vec<(String, MetaFile)> = Vec::new();
    if !c.eat(b'}') {
        let mut previous: Option<&str> = None;
        loop {
            let name = c.string()?;
            if previous.is_some_and(|p| p.as_bytes() >= name.as_bytes()) {
                return None;
            }
            previous = Some(name);
            c.lit(br#":{"version":"#)?;
            let version = Version::new(c.uint()?).ok()?;
            c.lit(b"}")?;
            entries.push((name.to_owned(), MetaFile::new(version)));
            if c.eat(b'}') {
                break;
            }
            c.lit(b",")?;
        }
    }
    c.lit(br#","spec_version":"#)?;
    let spec_version = SpecVersion::parse(c.string()?).ok()?;
    c.lit(br#","version":"#)?;
    let version = Version::new(c.uint()?).ok()?;
    c.lit(b"}")?;
    if c.at != signed.len() {
        return None;
    }
    // Sorted and distinct: the map is built in bulk.
    let meta: BTreeMap<String, MetaFile> = entries.into_iter().collect();
    let mut snapshot = Snapshot::new(version, expires, meta);
    snapshot.spec_version = spec_version;
    Some(snapshot)
}

/// The canonical form of `snapshot`'s `signed` part (with `_type`), written directly, or
/// `None` when it holds anything but version-only entries or a string that needs an
/// escape: then the general path writes it.
pub(crate) fn write_snapshot(snapshot: &Snapshot) -> Option<Vec<u8>> {
    // `_type` is always written as the role's type (as `sign_role` does).
    if !snapshot.extra.is_empty() {
        return None;
    }
    let expires = snapshot.expires.to_string();
    let spec = snapshot.spec_version.as_str();
    let names: usize = snapshot.meta.keys().map(String::len).sum();
    let mut out = Vec::with_capacity(names + snapshot.meta.len() * 20 + 128);
    out.extend_from_slice(br#"{"_type":"snapshot","expires":"#);
    plain_string(&mut out, &expires)?;
    out.extend_from_slice(br#","meta":{"#);
    // A `BTreeMap<String, _>` iterates in byte order of its keys: the canonical order.
    for (i, (name, entry)) in snapshot.meta.iter().enumerate() {
        if entry.length.is_some() || entry.hashes.is_some() || !entry.extra.is_empty() {
            return None;
        }
        if i > 0 {
            out.push(b',');
        }
        plain_string(&mut out, name)?;
        out.extend_from_slice(br#":{"version":"#);
        write_integer(&mut out, entry.version.get(), false);
        out.push(b'}');
    }
    out.extend_from_slice(br#"},"spec_version":"#);
    plain_string(&mut out, spec)?;
    out.extend_from_slice(br#","version":"#);
    write_integer(&mut out, snapshot.version.get(), false);
    out.push(b'}');
    Some(out)
}

/// The canonical form of `targets` (with `_type`), for a role with no delegations, no
/// unknown fields, no target with `custom` data or unknown fields, and no string that
/// needs an escape; `None` otherwise (take the general path). Keys in byte order, as the
/// general path sorts them: `_type`, `expires`, `spec_version`, `targets` (each target's
/// `hashes` then `length`), `version`.
pub(crate) fn write_targets(targets: &Targets) -> Option<Vec<u8>> {
    if !targets.extra.is_empty() || targets.delegations.is_some() {
        return None;
    }
    let expires = targets.expires.to_string();
    let paths: usize = targets.targets.keys().map(|p| p.as_str().len()).sum();
    let mut out = Vec::with_capacity(paths + targets.targets.len() * 112 + 128);
    out.extend_from_slice(br#"{"_type":"targets","expires":"#);
    plain_string(&mut out, &expires)?;
    out.extend_from_slice(br#","spec_version":"#);
    plain_string(&mut out, targets.spec_version.as_str())?;
    out.extend_from_slice(br#","targets":{"#);
    // `TargetPath` orders as its string, so the map iterates in canonical order.
    for (i, (path, file)) in targets.targets.iter().enumerate() {
        if file.custom.is_some() || !file.extra.is_empty() {
            return None;
        }
        if i > 0 {
            out.push(b',');
        }
        plain_string(&mut out, path.as_str())?;
        out.extend_from_slice(br#":{"hashes":{"#);
        for (j, (algorithm, digest)) in file.hashes.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            plain_string(&mut out, algorithm)?;
            out.extend_from_slice(b":\"");
            let at = out.len();
            out.resize(at + 2 * digest.as_bytes().len(), 0);
            // Lowercase, as `HexDigest` writes itself (`hex::encode`). INVARIANT: the
            // slice is exactly twice the digest's length, as `encode_to_slice` requires.
            hex::encode_to_slice(digest.as_bytes(), &mut out[at..]).ok()?;
            out.push(b'"');
        }
        out.extend_from_slice(br#"},"length":"#);
        write_integer(&mut out, file.length.get(), false);
        out.push(b'}');
    }
    out.extend_from_slice(br#"},"version":"#);
    write_integer(&mut out, targets.version.get(), false);
    out.push(b'}');
    Some(out)
}

/// Append `"s"` if `s` needs no escape in either canonical or file form.
fn plain_string(out: &mut Vec<u8>, s: &str) -> Option<()> {
    if s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        return None;
    }
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
    Some(())
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Consume exactly `want`.
    fn lit(&mut self, want: &[u8]) -> Option<()> {
        let end = self.at.checked_add(want.len())?;
        if self.bytes.get(self.at..end)? == want {
            self.at = end;
            Some(())
        } else {
            None
        }
    }

    /// Consume `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        if self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// A string with no escape and no control byte: `"..."`, its contents returned.
    fn string(&mut self) -> Option<&'a str> {
        if !self.eat(b'"') {
            return None;
        }
        let rest = self.bytes.get(self.at..)?;
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        let text = std::str::from_utf8(rest.get(..len)?).ok()?;
        self.at = self.at.checked_add(len + 1)?;
        Some(text)
    }

    /// A non-negative integer in canonical form (`0` or no leading zero), within `u64`.
    fn uint(&mut self) -> Option<u64> {
        let rest = self.bytes.get(self.at..)?;
        let len = rest.iter().position(|b| !b.is_ascii_digit())?;
        let digits = rest.get(..len)?;
        if len == 0 || (len > 1 && digits.first() == Some(&b'0')) {
            return None;
        }
        let mut n: u64 = 0;
        for &d in digits {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        self.at += len;
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Ed25519Signer, Signer};
    use crate::error::Error;
    use crate::metadata::{sign_role, sign_role_general, RoleType, Root, Threshold};
    use crate::verify::tests::root_with as root;
    use crate::verify::{self, Authority};
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn signer(n: u8) -> Ed25519Signer {
        Ed25519Signer::from_seed(&[n; 32]).unwrap()
    }

    fn expires() -> Expires {
        Expires::from_time(chrono::Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap())
    }

    fn snapshot(entries: &[(&str, u64)], version: u64) -> Snapshot {
        let meta = entries
            .iter()
            .map(|(name, v)| ((*name).to_owned(), MetaFile::new(Version::new(*v).unwrap())))
            .collect();
        Snapshot::new(Version::new(version).unwrap(), expires(), meta)
    }

    /// The general path: what `StateLoader` did before the direct reader.
    fn general(root: &Root, bytes: &[u8]) -> Result<Snapshot, Error> {
        let limits = Limits::default();
        let meta = crate::metadata::SignedMetadata::parse(bytes, RoleType::Snapshot, &limits)?;
        Ok(
            verify::verify::<Snapshot>(&meta, "snapshot", &snapshot_keys(root), &limits)?
                .into_inner(),
        )
    }

    fn direct(root: &Root, bytes: &[u8]) -> Option<Snapshot> {
        verify::verify_snapshot_direct(&snapshot_keys(root), bytes, &Limits::default())
            .map(|v| v.into_inner())
    }

    /// Root's snapshot keys: the roots here are built in code, never verified.
    fn snapshot_keys(root: &Root) -> Authority<'_> {
        let keys = root.role_keys(RoleType::Snapshot).unwrap();
        Authority::new(&root.keys, &keys.keyids, keys.threshold)
    }

    /// The direct reader never accepts what the general path refuses, and when it accepts,
    /// it gives the general path's value.
    fn agree(root: &Root, bytes: &[u8]) -> Result<bool, TestCaseError> {
        let general = general(root, bytes);
        match direct(root, bytes) {
            Some(fast) => {
                let Ok(general) = general else {
                    return Err(TestCaseError::fail(format!(
                        "direct reader accepted what the general path refuses: {:?}\n{}",
                        general.unwrap_err(),
                        String::from_utf8_lossy(bytes)
                    )));
                };
                prop_assert_eq!(fast, general);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn bins(n: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = (0..n)
            .map(|i| (format!("crates-bin-{i:03x}.json"), (i as u64 % 7) + 1))
            .collect();
        v.push(("targets.json".to_owned(), 3));
        v
    }

    fn ours(root_key: &Ed25519Signer, entries: &[(String, u64)]) -> Vec<u8> {
        let refs: Vec<(&str, u64)> = entries.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        sign_role(&snapshot(&refs, 9), &[root_key as &dyn Signer]).unwrap()
    }

    #[test]
    fn our_snapshots_take_the_direct_path_with_the_same_bytes_and_value() {
        let k = signer(1);
        let root = root(&[&k], 1);
        for n in [0, 1, 16, 4096] {
            let entries = bins(n);
            let refs: Vec<(&str, u64)> = entries.iter().map(|(n, v)| (n.as_str(), *v)).collect();
            let snap = snapshot(&refs, 9);
            let bytes = sign_role(&snap, &[&k as &dyn Signer]).unwrap();
            assert_eq!(
                bytes,
                sign_role_general(&snap, &[&k as &dyn Signer]).unwrap()
            );
            assert_eq!(direct(&root, &bytes), Some(snap.clone()));
            assert_eq!(general(&root, &bytes).unwrap(), snap);
        }
    }

    #[test]
    fn refuses_what_the_general_path_refuses() {
        let (k, other) = (signer(1), signer(2));
        let root1 = root(&[&k], 1);
        let good = String::from_utf8(ours(&k, &bins(3))).unwrap();
        let signed_at = good.find(r#","signed":"#).unwrap() + 10;
        let signed = &good[signed_at..good.len() - 1];
        // Re-sign an edited `signed` so only the edit is wrong, not the signature.
        let resign = |signed: &str| -> Vec<u8> {
            let sig = hex::encode(k.sign(signed.as_bytes()).unwrap());
            format!(
                r#"{{"signatures":[{{"keyid":"{}","sig":"{sig}"}}],"signed":{signed}}}"#,
                k.key_id()
            )
            .into_bytes()
        };
        let refused: Vec<(&str, Vec<u8>)> = vec![
            (
                "tampered",
                good.replace("\"version\":9}", "\"version\":8}")
                    .into_bytes(),
            ),
            ("signed by another key", ours(&other, &bins(3))),
            (
                "duplicate signature key id",
                good.replacen(
                    "}],\"signed\"",
                    &format!(
                        "}},{{\"keyid\":\"{}\",\"sig\":\"00\"}}],\"signed\"",
                        k.key_id()
                    ),
                    1,
                )
                .into_bytes(),
            ),
            (
                "duplicate meta key",
                resign(&signed.replace(
                    r#""crates-bin-001.json":{"version":2}"#,
                    r#""crates-bin-001.json":{"version":2},"crates-bin-001.json":{"version":2}"#,
                )),
            ),
            (
                "version zero",
                resign(&signed.replace(r#","version":9}"#, r#","version":0}"#)),
            ),
            (
                "version as a string",
                resign(&signed.replace(r#","version":9}"#, r#","version":"9"}"#)),
            ),
            (
                "version as a float",
                resign(&signed.replace(r#","version":9}"#, r#","version":9.0}"#)),
            ),
            (
                "entry version zero",
                resign(&signed.replace(
                    r#""crates-bin-001.json":{"version":2}"#,
                    r#""crates-bin-001.json":{"version":0}"#,
                )),
            ),
            (
                "leading zero",
                resign(&signed.replace(r#","version":9}"#, r#","version":09}"#)),
            ),
            (
                "version beyond u64",
                resign(&signed.replace(r#","version":9}"#, r#","version":18446744073709551616}"#)),
            ),
            (
                "wrong _type",
                resign(&signed.replace(r#""_type":"snapshot""#, r#""_type":"timestamp""#)),
            ),
            (
                "spec_version 2",
                resign(&signed.replace(r#""spec_version":"1.0.31""#, r#""spec_version":"2.0.0""#)),
            ),
            (
                "bad expiry",
                resign(&signed.replace("2030-01-01T00:00:00Z", "2030-01-01 00:00:00")),
            ),
            ("trailing data", format!("{good}{{}}").into_bytes()),
            ("truncated", good.as_bytes()[..good.len() - 1].to_vec()),
        ];
        for (what, bytes) in refused {
            assert!(general(&root1, &bytes).is_err(), "{what}: general accepts");
            assert_eq!(direct(&root1, &bytes), None, "{what}");
        }
        // Threshold 2 of {k, other}: one signature is not enough.
        let root2 = root(&[&k, &other], 2);
        let one = good.clone().into_bytes();
        assert_eq!(general(&root2, &one).unwrap_err().code(), "threshold");
        assert_eq!(direct(&root2, &one), None);
        let both = sign_role(
            &general(&root1, &one).unwrap(),
            &[&k as &dyn Signer, &other as &dyn Signer],
        )
        .unwrap();
        assert_eq!(direct(&root2, &both), Some(general(&root2, &both).unwrap()));
        // Size limit.
        let small = Limits {
            max_snapshot_bytes: 100,
            ..Limits::default()
        };
        assert!(verify::verify_snapshot_direct(&snapshot_keys(&root1), &one, &small).is_none());
    }

    #[test]
    fn valid_but_not_canonical_takes_the_general_path() {
        let k = signer(1);
        let root1 = root(&[&k], 1);
        let good = String::from_utf8(ours(&k, &bins(3))).unwrap();
        let value: serde_json::Value = serde_json::from_str(&good).unwrap();
        let mut with_length = value.clone();
        with_length["signed"]["meta"]["targets.json"]["length"] = 5.into();
        let mut unknown = value.clone();
        unknown["signed"]["x-custom"] = 1.into();
        let mut unknown_envelope = value.clone();
        unknown_envelope["x"] = 1.into();
        let cases: Vec<(&str, Vec<u8>, bool)> = vec![
            ("pretty", serde_json::to_vec_pretty(&value).unwrap(), true),
            ("trailing newline", format!("{good}\n").into_bytes(), true),
            (
                "escaped name",
                good.replace("crates-bin-000", "crates-bin-\\u0030\\u00300")
                    .into_bytes(),
                true,
            ),
            (
                "unknown envelope field",
                serde_json::to_vec(&unknown_envelope).unwrap(),
                true,
            ),
            // Signed fields change the signature: refused by both, but not read directly.
            (
                "entry with length",
                serde_json::to_vec(&with_length).unwrap(),
                false,
            ),
            (
                "unknown signed field",
                serde_json::to_vec(&unknown).unwrap(),
                false,
            ),
        ];
        for (what, bytes, verifies) in cases {
            assert_eq!(direct(&root1, &bytes), None, "{what}");
            assert_eq!(general(&root1, &bytes).is_ok(), verifies, "{what}");
        }
        // An unknown field or a length that *is* signed verifies on the general path only.
        let mut snap = general(&root1, good.as_bytes()).unwrap();
        snap.extra.insert("x-custom".into(), 1.into());
        let bytes = sign_role(&snap, &[&k as &dyn Signer]).unwrap();
        assert_eq!(direct(&root1, &bytes), None);
        assert_eq!(general(&root1, &bytes).unwrap(), snap);
    }

    fn arb_name() -> impl Strategy<Value = String> {
        // Mostly plain names, sometimes with a quote, a backslash, a control byte or
        // non-ASCII text, which the writer must leave to the general path.
        prop_oneof![
            8 => "[a-z0-9._-]{1,16}",
            1 => "[a-z\"\\\\\u{1}\n\u{e9}\u{4e2d}\u{1f600}]{1,6}",
        ]
    }

    fn arb_snapshot() -> impl Strategy<Value = Snapshot> {
        (
            prop::collection::btree_map(arb_name(), 1..=u64::MAX, 0..24),
            1..=u64::MAX,
            0i64..4_000_000_000,
            prop_oneof![Just("1.0.31".to_owned()), "1\\.[0-9]{1,3}(\\.[0-9]{1,3})?"],
        )
            .prop_map(|(meta, version, secs, spec)| {
                let meta = meta
                    .into_iter()
                    .map(|(k, v)| (k, MetaFile::new(Version::new(v).unwrap())))
                    .collect();
                let expires = Expires::from_time(chrono::Utc.timestamp_opt(secs, 0).unwrap());
                let mut snap = Snapshot::new(Version::new(version).unwrap(), expires, meta);
                snap.spec_version = SpecVersion::parse(&spec).unwrap();
                snap
            })
    }

    proptest! {
        #[test]
        fn direct_writer_is_byte_identical_to_the_general_path(snap in arb_snapshot()) {
            let k = signer(1);
            let fast = sign_role(&snap, &[&k as &dyn Signer]).unwrap();
            let slow = sign_role_general(&snap, &[&k as &dyn Signer]).unwrap();
            prop_assert_eq!(&fast, &slow);
            // And the direct reader reads back exactly what was written, when it reads.
            let root1 = root(&[&k], 1);
            let plain = snap.meta.keys().all(|n| !n.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20));
            let read = agree(&root1, &fast)?;
            prop_assert_eq!(read, plain);
            if read {
                prop_assert_eq!(direct(&root1, &fast).unwrap(), snap);
            }
        }

        #[test]
        fn direct_reader_agrees_with_the_general_path_on_edited_bytes(
            snap in arb_snapshot(),
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), 0u8..3, prop::sample::select(
                    b" \"\\0189{}[],:aZ\x01\x7f\xc3\xff".to_vec())),
                1..4,
            ),
            resign in any::<bool>(),
        ) {
            let k = signer(1);
            let root1 = root(&[&k], 1);
            let mut bytes = sign_role(&snap, &[&k as &dyn Signer]).unwrap();
            for (at, op, byte) in edits {
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ => { bytes.remove(i); }
                }
            }
            if resign {
                // Sign whatever `signed` now is (as raw bytes), so edits that keep the
                // document valid are not just refused for their signature.
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if let (Some(at), true) = (text.find(",\"signed\":"), text.ends_with('}')) {
                    let signed = &text[at + 10..text.len() - 1];
                    let sig = hex::encode(k.sign(signed.as_bytes()).unwrap());
                    bytes = format!(
                        r#"{{"signatures":[{{"keyid":"{}","sig":"{sig}"}}],"signed":{signed}}}"#,
                        k.key_id()
                    )
                    .into_bytes();
                }
            }
            agree(&root1, &bytes)?;
        }
    }

    fn arb_target_file() -> impl Strategy<Value = crate::metadata::TargetFile> {
        (
            prop::collection::btree_map(
                prop_oneof![
                    6 => Just("sha256".to_owned()),
                    1 => Just("sha512".to_owned()),
                    1 => arb_name(),
                ],
                prop::collection::vec(any::<u8>(), 0..40),
                0..3,
            ),
            0..=u64::MAX,
            prop_oneof![8 => Just(None), 1 => Just(Some(serde_json::json!({"v": 1})))],
            prop_oneof![8 => Just(false), 1 => Just(true)],
        )
            .prop_map(|(hashes, length, custom, extra)| {
                let mut file = crate::metadata::TargetFile::from_parts(length, [0; 32]);
                file.hashes = hashes
                    .into_iter()
                    .map(|(alg, bytes)| (alg, crate::metadata::HexDigest::new(bytes)))
                    .collect();
                file.custom = custom;
                if extra {
                    file.extra.insert("x-extra".into(), 2.into());
                }
                file
            })
    }

    fn arb_targets() -> impl Strategy<Value = Targets> {
        (
            prop::collection::btree_map(
                prop::collection::vec(arb_name(), 1..4).prop_map(|segments| segments.join("/")),
                arb_target_file(),
                0..16,
            ),
            1..=u64::MAX,
            0i64..4_000_000_000,
            prop_oneof![8 => Just(false), 1 => Just(true)],
        )
            .prop_map(|(targets, version, secs, extra)| {
                let expires = Expires::from_time(chrono::Utc.timestamp_opt(secs, 0).unwrap());
                let mut role = Targets::new(Version::new(version).unwrap(), expires);
                role.targets = targets
                    .into_iter()
                    .filter_map(|(path, file)| {
                        crate::metadata::TargetPath::parse(&path)
                            .ok()
                            .map(|p| (p, file))
                    })
                    .collect();
                if extra {
                    role.extra.insert("x-custom".into(), 1.into());
                }
                role
            })
    }

    proptest! {
        #[test]
        fn direct_targets_writer_is_byte_identical_to_the_general_path(role in arb_targets()) {
            let k = signer(1);
            let fast = sign_role(&role, &[&k as &dyn Signer]).unwrap();
            let slow = sign_role_general(&role, &[&k as &dyn Signer]).unwrap();
            prop_assert_eq!(&fast, &slow);
            // The writer takes the plain bins: no extras, no custom, no escapes.
            let plain = |t: &str| !t.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
            let simple = role.extra.is_empty()
                && role.targets.iter().all(|(p, f)| {
                    f.custom.is_none()
                        && f.extra.is_empty()
                        && plain(p.as_str())
                        && f.hashes.keys().all(|a| plain(a))
                });
            prop_assert_eq!(write_targets(&role).is_some(), simple);
        }
    }

    #[test]
    fn targets_with_delegations_take_the_general_path() {
        let k = signer(1);
        let expires = Expires::from_time(chrono::Utc.timestamp_opt(2_000_000_000, 0).unwrap());
        let mut role = Targets::new(Version::new(3).unwrap(), expires);
        role.targets.insert(
            crate::metadata::TargetPath::parse("se/rd/serde").unwrap(),
            crate::metadata::TargetFile::from_bytes(b"serde"),
        );
        assert!(write_targets(&role).is_some());
        role.delegations = Some(crate::metadata::Delegations {
            keys: BTreeMap::new(),
            roles: None,
            succinct_roles: Some(crate::metadata::SuccinctRoles::new(
                vec![k.key_id().clone()],
                Threshold::new(1).unwrap(),
                4,
                "bin",
            )),
            extra: BTreeMap::new(),
        });
        assert_eq!(write_targets(&role), None);
        assert_eq!(
            sign_role(&role, &[&k as &dyn Signer]).unwrap(),
            sign_role_general(&role, &[&k as &dyn Signer]).unwrap()
        );
    }
}
