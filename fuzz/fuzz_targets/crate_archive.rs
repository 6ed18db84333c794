//! What `cargo tuf provenance` reads from a `.crate` (its content is the crate author's,
//! even after TUF verified its identity): the gzip + tar unpacking with its caps
//! (`CrateArchive::from_bytes`), `.cargo_vcs_info.json` (`VcsInfo::parse`), `Cargo.toml`
//! (`Manifest::parse`), cargo's target discovery, and the check of the normalised
//! manifest against `Cargo.toml.orig` when there is no repository. Never panics; an
//! archive that unpacks stays within the caps it was given.
#![no_main]

use std::io::Write as _;

use libfuzzer_sys::fuzz_target;
use tuf_provenance::manifest::Manifest;
use tuf_provenance::{check_archive, BuildTargets, CrateArchive, Limits, NoRepository, VcsInfo};

fn small_limits() -> Limits {
    Limits {
        max_unpacked_bytes: 1 << 20,
        max_files: 64,
        ..Limits::default()
    }
}

/// Unpack `gz`; when it unpacks, check what it holds as `cargo tuf provenance` would
/// without a repository.
fn drive(gz: &[u8], limits: &Limits) {
    let Ok(archive) = CrateArchive::from_bytes(gz, limits) else {
        return;
    };
    assert!(archive.files.len() <= limits.max_files);
    let _ = check_archive(&archive, Err(NoRepository::NotDeclared), limits);
}

fuzz_target!(|data: &[u8]| {
    let limits = small_limits();
    let _ = VcsInfo::parse(data);
    if let Ok(manifest) = Manifest::parse(data) {
        let files = std::collections::BTreeMap::<String, ()>::new();
        let _ = BuildTargets::discover(&manifest, &files).summary();
        let _ = manifest.dependencies();
    }
    // The bytes as a .crate, and (so the tar reader sees them, not only gzip's
    // checks) gzipped as a tar stream.
    drive(data, &limits);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if gz.write_all(data).is_ok() {
        if let Ok(bytes) = gz.finish() {
            drive(&bytes, &limits);
        }
    }
});
