//! Threshold signature verification: the only place a [`Verified`] value is made.
//!
//! Rules (TUF §5.3.4, §5.4.2, §5.5.3, §5.6.3, and §4.2 for the envelope):
//!
//! * Signatures are checked over the canonical form of `signed` as received.
//! * Only key ids the role authorises count, and each distinct *key* at most once: a key
//!   listed under two ids, or the same key spelled two ways (hex case, keytype alias),
//!   is one key ([`crate::crypto::KeyMaterial`]; TUF §5.3.4 "unique keys").
//! * A key id repeated in `signatures` makes the file invalid (refused at parse time by
//!   [`SignedMetadata::parse`]).
//! * A signature that does not verify (malformed hex, wrong length, wrong key, unsupported
//!   key type) is ignored, not fatal: other keys may still reach the threshold.
//! * `_type` must be the expected role (checked at parse time).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;

use crate::crypto::PublicKey;
use crate::error::Error;
use crate::limits::Limits;
use crate::metadata::{
    DelegatedRole, Delegations, KeyId, Role, RoleType, Root, Signature, SignedMetadata,
    SuccinctRoles, Threshold,
};

/// A role whose signatures met its threshold. Only this module can make one, so code that
/// takes a `Verified<T>` cannot be handed unverified metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified<T> {
    inner: T,
}

impl<T> Verified<T> {
    /// The verified value.
    pub fn signed(&self) -> &T {
        &self.inner
    }

    /// Take the verified value out (it is no longer marked as verified).
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T> Deref for Verified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

/// Who may sign a role: the keys known to the delegator, the ids the role names, and the
/// threshold.
#[derive(Debug, Clone, Copy)]
pub struct Authority<'a> {
    keys: &'a BTreeMap<KeyId, PublicKey>,
    keyids: &'a [KeyId],
    threshold: Threshold,
}

impl<'a> Authority<'a> {
    /// An authority from its parts.
    pub fn new(
        keys: &'a BTreeMap<KeyId, PublicKey>,
        keyids: &'a [KeyId],
        threshold: Threshold,
    ) -> Self {
        Self {
            keys,
            keyids,
            threshold,
        }
    }

    /// The authority a verified root gives a top-level role. `None` only for a root built
    /// in code without that role; parsed roots always have all four.
    ///
    /// Only a [`Verified`] root gives one: keys from a root nobody checked would make
    /// anything they sign look trusted. This does not compile:
    ///
    /// ```compile_fail
    /// # use tuf_core::metadata::{RoleType, Root, SignedMetadata};
    /// # use tuf_core::verify::Authority;
    /// # fn f(meta: &SignedMetadata, limits: &tuf_core::Limits) -> Result<(), tuf_core::Error> {
    /// let unverified: Root = meta.decode_unverified("root", limits)?;
    /// let _ = Authority::from_root(&unverified, RoleType::Timestamp);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// and neither does a rotation checked against an unverified trusted root:
    ///
    /// ```compile_fail
    /// # use tuf_core::metadata::{Root, SignedMetadata};
    /// # use tuf_core::verify::verify_root_rotation;
    /// # fn f(old: &SignedMetadata, new: &SignedMetadata, limits: &tuf_core::Limits) -> Result<(), tuf_core::Error> {
    /// let trusted: Root = old.decode_unverified("root", limits)?;
    /// verify_root_rotation(new, &trusted, limits)?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// while the verified one does:
    ///
    /// ```
    /// # use tuf_core::metadata::{RoleType, SignedMetadata};
    /// # use tuf_core::verify::{verify_root_self_signed, Authority};
    /// # fn f(meta: &SignedMetadata, limits: &tuf_core::Limits) -> Result<(), tuf_core::Error> {
    /// let root = verify_root_self_signed(meta, limits)?;
    /// let _ = Authority::from_root(&root, RoleType::Timestamp);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_root(root: &'a Verified<Root>, role: RoleType) -> Option<Self> {
        let role_keys = root.role_keys(role)?;
        Some(Self::new(
            &root.keys,
            &role_keys.keyids,
            role_keys.threshold,
        ))
    }

    /// The authority a delegating targets role gives an explicit delegated role.
    pub fn from_delegated_role(delegations: &'a Delegations, role: &'a DelegatedRole) -> Self {
        Self::new(&delegations.keys, &role.keyids, role.threshold)
    }

    /// The authority a delegating targets role gives each of its succinct bins.
    pub fn from_succinct(delegations: &'a Delegations, bins: &'a SuccinctRoles) -> Self {
        Self::new(&delegations.keys, &bins.keyids, bins.threshold)
    }

    /// The threshold.
    pub fn threshold(&self) -> Threshold {
        self.threshold
    }

    /// Key ids the role authorises, deduplicated.
    pub fn keyids(&self) -> BTreeSet<&'a KeyId> {
        self.keyids.iter().collect()
    }
}

/// The authorised key ids whose signature over `meta` verifies, one per distinct key: a
/// key the role lists under several ids (or spells several ways) gives only the first
/// of its ids that signed, in signature order (TUF §5.3.4 counts keys, not ids).
pub fn valid_signers<'m>(
    meta: &'m SignedMetadata,
    authority: &Authority<'_>,
) -> BTreeSet<&'m KeyId> {
    valid_signers_over(meta.signatures(), meta.canonical_signed(), authority)
}

/// [`valid_signers`] of `signatures` over the canonical bytes `canonical_signed`.
fn valid_signers_over<'m>(
    signatures: &'m [Signature],
    canonical_signed: &[u8],
    authority: &Authority<'_>,
) -> BTreeSet<&'m KeyId> {
    let authorised = authority.keyids();
    let mut valid = BTreeSet::new();
    // A declared key id is only a name the metadata gives a key (see `crypto`): the same
    // key may be listed under two ids, so what is counted is the key that verified.
    let mut counted_keys = BTreeSet::new();
    for signature in signatures {
        if !authorised.contains(&signature.keyid) || valid.contains(&signature.keyid) {
            continue;
        }
        let Some(key) = authority.keys.get(&signature.keyid) else {
            continue;
        };
        let Ok(sig) = hex::decode(&signature.sig) else {
            continue;
        };
        if let Ok(material) = key.verify_identified(canonical_signed, &sig) {
            if counted_keys.insert(material) {
                valid.insert(&signature.keyid);
            }
        }
    }
    valid
}

/// Check that `meta` is signed by a threshold of `authority`'s keys.
pub fn check_threshold(
    meta: &SignedMetadata,
    role_name: &str,
    authority: &Authority<'_>,
) -> Result<(), Error> {
    let valid = u64::try_from(valid_signers(meta, authority).len()).unwrap_or(u64::MAX);
    if valid < authority.threshold.get() {
        return Err(Error::Threshold {
            role: role_name.to_owned(),
            valid,
            threshold: authority.threshold.get(),
        });
    }
    Ok(())
}

/// Verify `meta` as role `role_name` against `authority`, then deserialize it.
///
/// Signatures are checked before the typed value is built; the typed value comes from
/// the same `signed` value the signatures covered.
pub fn verify<T: Role>(
    meta: &SignedMetadata,
    role_name: &str,
    authority: &Authority<'_>,
    limits: &Limits,
) -> Result<Verified<T>, Error> {
    check_threshold(meta, role_name, authority)?;
    let inner = meta.decode_unverified::<T>(role_name, limits)?;
    Ok(Verified { inner })
}

/// Parse and verify a snapshot against `authority` (root's snapshot keys) without
/// `serde_json::Value`, when `bytes`
/// are in canonical form with only the fields this crate writes (see
/// [`crate::metadata::fast`]): the same checks as [`SignedMetadata::parse`] and [`verify`]
/// (size, envelope, signature count and key ids, `_type`, `spec_version`, threshold of
/// `authority`'s keys over the canonical bytes of `signed`, field types), giving the
/// same value. `None` when the bytes are not in that form *or fail any check*: the caller
/// then takes the general path, which gives the answer (and the error) it always gave.
pub(crate) fn verify_snapshot_direct(
    authority: &Authority<'_>,
    bytes: &[u8],
    limits: &Limits,
) -> Option<Verified<crate::metadata::Snapshot>> {
    let envelope = crate::metadata::fast::parse_envelope(bytes, limits)?;
    // Read `signed` in full before trusting its bounds or its bytes as canonical.
    let snapshot = crate::metadata::fast::parse_snapshot(envelope.signed)?;
    let valid = valid_signers_over(&envelope.signatures, envelope.signed, authority);
    if u64::try_from(valid.len()).ok()? < authority.threshold.get() {
        return None;
    }
    Some(Verified { inner: snapshot })
}

/// Verify a root with its own root keys: how a client accepts the root it was given as
/// its trust anchor (TUF §5.2), and half of a rotation check (TUF §5.3.4).
pub fn verify_root_self_signed(
    meta: &SignedMetadata,
    limits: &Limits,
) -> Result<Verified<Root>, Error> {
    let root: Root = meta.decode_unverified("root", limits)?;
    // Its own keys are the only ones it can be checked with here: the trust in it comes
    // from how it was obtained (TUF §5.2) or from the root before it (§5.3.4).
    let role_keys = root
        .role_keys(RoleType::Root)
        .ok_or_else(|| Error::Invalid {
            role: "root".to_owned(),
            reason: "root has no root role".to_owned(),
        })?;
    let authority = Authority::new(&root.keys, &role_keys.keyids, role_keys.threshold);
    check_threshold(meta, "root", &authority)?;
    Ok(Verified { inner: root })
}

/// Verify root N+1 against trusted root N (TUF §5.3.4): signed by a threshold of the
/// trusted root's root keys *and* by a threshold of its own. Version and expiry rules are
/// the client's (see the trusted-state module).
pub fn verify_root_rotation(
    meta: &SignedMetadata,
    trusted: &Verified<Root>,
    limits: &Limits,
) -> Result<Verified<Root>, Error> {
    let old = Authority::from_root(trusted, RoleType::Root).ok_or_else(|| Error::Invalid {
        role: "root".to_owned(),
        reason: "trusted root has no root role".to_owned(),
    })?;
    check_threshold(meta, "root", &old)?;
    verify_root_self_signed(meta, limits)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::crypto::{Ed25519Signer, Signer};
    use crate::metadata::{sign_role, Expires, RoleKeys, Version};
    use chrono::TimeZone;

    fn signer(n: u8) -> Ed25519Signer {
        Ed25519Signer::from_seed(&[n; 32]).unwrap()
    }

    /// A root v1 (expiring 2030) whose four roles are `signers` with `threshold`; also
    /// used by `metadata::fast`'s tests.
    pub(crate) fn root_with(signers: &[&Ed25519Signer], threshold: u64) -> Root {
        let keys: BTreeMap<_, _> = signers
            .iter()
            .map(|s| (s.key_id().clone(), s.public_key().clone()))
            .collect();
        let ids: Vec<KeyId> = signers.iter().map(|s| s.key_id().clone()).collect();
        let t = Threshold::new(threshold).unwrap();
        let roles = ["root", "timestamp", "snapshot", "targets"]
            .into_iter()
            .map(|r| (r.to_owned(), RoleKeys::new(ids.clone(), t)))
            .collect();
        let expires =
            Expires::from_time(chrono::Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
        Root::new(Version::new(1).unwrap(), expires, keys, roles, true)
    }

    fn parse(bytes: &[u8]) -> SignedMetadata {
        SignedMetadata::parse(bytes, RoleType::Root, &Limits::default()).unwrap()
    }

    #[test]
    fn threshold_met_and_unmet() {
        let (a, b, c) = (signer(1), signer(2), signer(3));
        let root = root_with(&[&a, &b, &c], 2);
        let two = sign_role(&root, &[&a, &b]).unwrap();
        verify_root_self_signed(&parse(&two), &Limits::default()).unwrap();
        let one = sign_role(&root, &[&a]).unwrap();
        let err = verify_root_self_signed(&parse(&one), &Limits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Threshold {
                    valid: 1,
                    threshold: 2,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn key_listed_twice_counts_once() {
        let (a, b) = (signer(1), signer(2));
        let mut root = root_with(&[&a, &b], 2);
        let id = a.key_id().clone();
        root.roles.get_mut("root").unwrap().keyids = vec![id.clone(), id];
        let bytes = sign_role(&root, &[&a]).unwrap();
        let err = verify_root_self_signed(&parse(&bytes), &Limits::default()).unwrap_err();
        assert_eq!(err.code(), "threshold");
    }

    /// `meta` of `root` with one signature by `signer` under each of `keyids`: how one
    /// key holder would sign for a key the root lists under several ids.
    fn signed_under_ids(root: &Root, signer: &dyn Signer, keyids: &[&KeyId]) -> SignedMetadata {
        let signed = serde_json::to_value(root).unwrap();
        let sig = hex::encode(
            signer
                .sign(&crate::cjson::to_canonical(&signed).unwrap())
                .unwrap(),
        );
        let signatures: Vec<_> = keyids
            .iter()
            .map(|id| serde_json::json!({ "keyid": id.as_str(), "sig": sig }))
            .collect();
        let envelope = serde_json::json!({ "signatures": signatures, "signed": signed });
        parse(&serde_json::to_vec(&envelope).unwrap())
    }

    /// A key id no key hashes to, for listing a key under a second name.
    fn alias_id(n: u8) -> KeyId {
        KeyId::parse(&hex::encode([n; 32])).unwrap()
    }

    #[test]
    fn one_key_under_two_ids_counts_once() {
        // TUF §5.3.4: a threshold of distinct keys. One key holder listed under two ids
        // and signing twice is still one key.
        let (a, b) = (signer(1), signer(2));
        let mut root = root_with(&[&a, &b], 2);
        let alias = alias_id(0xaa);
        root.keys.insert(alias.clone(), a.public_key().clone());
        let ids = vec![a.key_id().clone(), alias.clone()];
        for role in root.roles.values_mut() {
            role.keyids.clone_from(&ids);
        }
        let meta = signed_under_ids(&root, &a, &[a.key_id(), &alias]);
        let err = verify_root_self_signed(&meta, &Limits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Threshold {
                    valid: 1,
                    threshold: 2,
                    ..
                }
            ),
            "{err}"
        );
        // Every role, not only root: the same count for a timestamp authority.
        let keys = root.role_keys(RoleType::Timestamp).unwrap();
        let authority = Authority::new(&root.keys, &keys.keyids, keys.threshold);
        assert_eq!(valid_signers(&meta, &authority).len(), 1);
        // Root rotation counts distinct keys under the trusted root too (TUF §5.3.4).
        let mut trusted = root_with(&[&a, &b], 2);
        trusted.keys.insert(alias.clone(), a.public_key().clone());
        trusted.roles.get_mut("root").unwrap().keyids = ids;
        let trusted = Verified { inner: trusted };
        let mut next = root_with(&[&a, &b], 1);
        next.version = Version::new(2).unwrap();
        let rotation = signed_under_ids(&next, &a, &[a.key_id(), &alias]);
        assert_eq!(
            verify_root_rotation(&rotation, &trusted, &Limits::default())
                .unwrap_err()
                .code(),
            "threshold"
        );
        // Two distinct keys do reach the threshold of 2.
        let two = sign_role(&root_with(&[&a, &b], 2), &[&a, &b]).unwrap();
        verify_root_self_signed(&parse(&two), &Limits::default()).unwrap();
    }

    #[test]
    fn one_key_spelled_two_ways_counts_once() {
        // The same ed25519 key with its hex in upper case has another computed key id;
        // it is still the same key (TUF §5.3.4 counts keys, not their spellings).
        let (a, b) = (signer(1), signer(2));
        let mut root = root_with(&[&a, &b], 2);
        let mut upper = a.public_key().clone();
        upper.keyval.public = upper.keyval.public.to_uppercase();
        let upper_id = upper.key_id().unwrap();
        assert_ne!(&upper_id, a.key_id());
        root.keys.insert(upper_id.clone(), upper);
        root.roles.get_mut("root").unwrap().keyids = vec![a.key_id().clone(), upper_id.clone()];
        let meta = signed_under_ids(&root, &a, &[a.key_id(), &upper_id]);
        assert_eq!(
            verify_root_self_signed(&meta, &Limits::default())
                .unwrap_err()
                .code(),
            "threshold"
        );
    }

    #[test]
    fn invalid_signatures_are_ignored_not_fatal() {
        let (a, b, c) = (signer(1), signer(2), signer(3));
        let root = root_with(&[&a, &b, &c], 2);
        let bytes = sign_role(&root, &[&a, &b]).unwrap();
        let mut meta = parse(&bytes);
        // A garbage signature by c, an empty one, and non-hex: all ignored.
        for sig in ["00", "", "zz"] {
            let mut m = meta.clone();
            m.add_detached_signature(Signature {
                keyid: c.key_id().clone(),
                sig: sig.to_owned(),
                extra: BTreeMap::new(),
            });
            verify_root_self_signed(&m, &Limits::default()).unwrap();
        }
        // Replace b's signature with garbage: now below threshold.
        meta.add_detached_signature(Signature {
            keyid: b.key_id().clone(),
            sig: "ab".repeat(64),
            extra: BTreeMap::new(),
        });
        assert_eq!(
            verify_root_self_signed(&meta, &Limits::default())
                .unwrap_err()
                .code(),
            "threshold"
        );
    }

    #[test]
    fn unauthorised_key_does_not_count() {
        let (a, b, outsider) = (signer(1), signer(2), signer(9));
        let root = root_with(&[&a, &b], 2);
        let bytes = sign_role(&root, &[&a, &outsider]).unwrap();
        assert_eq!(
            verify_root_self_signed(&parse(&bytes), &Limits::default())
                .unwrap_err()
                .code(),
            "threshold"
        );
    }

    #[test]
    fn rotation_needs_old_and_new_thresholds() {
        let (a, b, c, d) = (signer(1), signer(2), signer(3), signer(4));
        let old = Verified {
            inner: root_with(&[&a, &b], 1),
        };
        let mut new = root_with(&[&c, &d], 1);
        new.version = Version::new(2).unwrap();
        let both = sign_role(&new, &[&a, &c]).unwrap();
        verify_root_rotation(&parse(&both), &old, &Limits::default()).unwrap();
        let only_new = sign_role(&new, &[&c]).unwrap();
        assert_eq!(
            verify_root_rotation(&parse(&only_new), &old, &Limits::default())
                .unwrap_err()
                .code(),
            "threshold"
        );
        let only_old = sign_role(&new, &[&a]).unwrap();
        assert_eq!(
            verify_root_rotation(&parse(&only_old), &old, &Limits::default())
                .unwrap_err()
                .code(),
            "threshold"
        );
    }

    #[test]
    fn tampered_signed_fails() {
        let a = signer(1);
        let root = root_with(&[&a], 1);
        let bytes = sign_role(&root, &[&a]).unwrap();
        let text = String::from_utf8(bytes)
            .unwrap()
            .replace("2030-01-01", "2031-01-01");
        assert_eq!(
            verify_root_self_signed(&parse(text.as_bytes()), &Limits::default())
                .unwrap_err()
                .code(),
            "threshold"
        );
    }

    #[test]
    fn verifies_over_bytes_as_received_not_reserialized() {
        // Pretty-printed input with an unknown field still verifies: the signature is over
        // the canonical form of what was received, unknown field included.
        let a = signer(1);
        let mut root = root_with(&[&a], 1);
        root.extra
            .insert("x-custom".into(), serde_json::json!({"z": 1, "a": [1, 2]}));
        let bytes = sign_role(&root, &[&a]).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        let verified = verify_root_self_signed(&parse(&pretty), &Limits::default()).unwrap();
        assert_eq!(
            verified.extra["x-custom"],
            serde_json::json!({"z": 1, "a": [1, 2]})
        );
    }
}
