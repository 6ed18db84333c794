//! Re-binning (TAP 15 `bit_length` changed in a new targets): the full publish that
//! follows keeps every role the previous snapshot listed, which a client requires
//! (TUF §5.5.5).

use super::tests::{
    entry, full_publish_now, now, offline_roles_with_targets_version, online_signers,
};
use super::*;
use crate::crypto::Ed25519Signer;
use crate::metadata::{sign_role, MetaFile, Snapshot, Timestamp};
use crate::trusted::TrustedState;

struct Repo {
    root: Ed25519Signer,
    targets: Ed25519Signer,
    online: Ed25519Signer,
}

impl Repo {
    fn new() -> Self {
        Self {
            root: Ed25519Signer::from_seed(&[1; 32]).unwrap(),
            targets: Ed25519Signer::from_seed(&[2; 32]).unwrap(),
            online: Ed25519Signer::from_seed(&[3; 32]).unwrap(),
        }
    }

    fn online(&self) -> [&dyn Signer; 1] {
        [&self.online]
    }

    /// Signed root v1 and targets v`version` with 2^`bit_length` bins.
    fn roles(&self, bit_length: u8, version: u64) -> (Vec<u8>, Vec<u8>) {
        let policy = Policy {
            bit_length,
            ..Policy::default()
        };
        let roles = offline_roles_with_targets_version(
            &policy,
            version,
            &self.root,
            &self.targets,
            &self.online,
        );
        (roles.root, roles.targets)
    }

    fn publish(
        &self,
        root: &[u8],
        targets: &[u8],
        previous: Option<&PublishedState>,
    ) -> Publication {
        let online = self.online();
        let entries = vec![entry("se/rd/serde", b"serde\n")];
        full_publish_now(root, targets, previous, entries, &online_signers(&online)).unwrap()
    }
}

fn file(publication: &Publication, kind: FileKind) -> &[u8] {
    &publication
        .files
        .iter()
        .find(|f| f.kind == kind)
        .unwrap()
        .bytes
}

/// A client that trusted `old` updates to `new_timestamp` and `new_snapshot`.
fn client_update(
    root: &[u8],
    old: &Publication,
    new_timestamp: &[u8],
    new_snapshot: &[u8],
) -> Result<(), Error> {
    let mut client = TrustedState::new_from_root(root, now()).unwrap();
    client
        .load_local_timestamp(file(old, FileKind::Timestamp), now())
        .unwrap();
    let _update = client.update_timestamp(new_timestamp, now())?;
    let _local = client
        .load_local_snapshot(file(old, FileKind::Snapshot), now())
        .unwrap();
    client.update_snapshot(new_snapshot, now())
}

#[test]
fn rebin_keeps_the_old_bins_listed_and_clients_accept_it() {
    let repo = Repo::new();
    let (root, targets_v1) = repo.roles(2, 1);
    let first = repo.publish(&root, &targets_v1, None);
    let (_, targets_v2) = repo.roles(4, 2);
    let rebinned = repo.publish(&root, &targets_v2, Some(&first.state));
    assert_eq!(rebinned.bins_signed(), 16);

    let meta = &rebinned.state.snapshot().meta;
    // targets, 16 new bins (crates-bin-0..f) of which 4 share a name with the old ones
    // (crates-bin-0..3), which continue their versions.
    assert_eq!(meta.len(), 1 + 16);
    assert_eq!(meta["crates-bin-0.json"].version.get(), 2);
    assert_eq!(meta["crates-bin-f.json"].version.get(), 1);
    // The old bins' files are superseded (retired for the grace period).
    assert!(rebinned
        .superseded
        .contains(&"1.crates-bin-0.json".to_owned()));

    // A prefix change: no name shared, the old entries stay at their versions.
    let policy = Policy {
        bit_length: 4,
        name_prefix: "bins".to_owned(),
        ..Policy::default()
    };
    let targets_v3 =
        offline_roles_with_targets_version(&policy, 3, &repo.root, &repo.targets, &repo.online)
            .targets;
    let renamed = repo.publish(&root, &targets_v3, Some(&rebinned.state));
    let meta = &renamed.state.snapshot().meta;
    assert_eq!(meta.len(), 1 + 16 + 16);
    assert_eq!(meta["crates-bin-0.json"].version.get(), 2);
    assert_eq!(meta["bins-0.json"].version.get(), 1);

    client_update(
        &root,
        &rebinned,
        file(&renamed, FileKind::Timestamp),
        file(&renamed, FileKind::Snapshot),
    )
    .unwrap();
}

#[test]
fn a_snapshot_that_drops_the_old_bins_is_refused_by_clients() {
    let repo = Repo::new();
    let (root, targets_v1) = repo.roles(2, 1);
    let first = repo.publish(&root, &targets_v1, None);
    let (_, targets_v2) = repo.roles(4, 2);
    let rebinned = repo.publish(&root, &targets_v2, Some(&first.state));

    // The same snapshot without the entries of the previous layout's bins.
    let snapshot = rebinned.state.snapshot();
    let mut meta = snapshot.meta.clone();
    meta.retain(|name, _| {
        !first.state.snapshot().meta.contains_key(name) || name == "targets.json"
    });
    let dropped = Snapshot::new(snapshot.version, snapshot.expires.clone(), meta);
    let online = repo.online();
    let snapshot_bytes = sign_role(&dropped, &online).unwrap();
    let mut snapshot_meta = MetaFile::new(snapshot.version);
    snapshot_meta.length = Some(crate::metadata::Length::new(snapshot_bytes.len() as u64));
    let timestamp = Timestamp::new(
        rebinned.state.timestamp().version,
        rebinned.state.timestamp().expires.clone(),
        snapshot_meta,
    );
    let timestamp_bytes = sign_role(&timestamp, &online).unwrap();
    let error = client_update(&root, &first, &timestamp_bytes, &snapshot_bytes).unwrap_err();
    assert!(matches!(error, Error::RoleRemoved { .. }), "{error:?}");
    // What full_publish wrote is accepted.
    client_update(
        &root,
        &first,
        file(&rebinned, FileKind::Timestamp),
        file(&rebinned, FileKind::Snapshot),
    )
    .unwrap();
}
