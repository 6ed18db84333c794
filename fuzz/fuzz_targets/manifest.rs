//! The publish manifest and its journal (state files, rewritten after crashes): never
//! panic; parse → write → parse is the identity, for the manifest file and for journal
//! records replayed on an empty manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_repo::manifest::{journal_bytes, JournalRecord, Manifest};

fuzz_target!(|data: &[u8]| {
    // The input as a manifest file, as a journal, and split in two as both.
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (a, b) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));
    let _ = Manifest::parse(Some(a), Some(b));
    let _ = Manifest::parse(None, Some(data));

    let manifest = Manifest::parse(Some(data), None);
    let again = Manifest::parse(Some(&manifest.to_file_bytes()), None);
    assert_eq!(again, manifest);

    let records: Vec<JournalRecord<'_>> = manifest
        .entries
        .iter()
        .map(|(path, entry)| JournalRecord::Put(path, entry))
        .collect();
    let replayed = Manifest::parse(None, Some(&journal_bytes(&records)));
    assert_eq!(replayed, manifest);
    // Removing every path again leaves nothing.
    let mut both = journal_bytes(&records);
    let removals: Vec<JournalRecord<'_>> = manifest
        .entries
        .keys()
        .map(|p| JournalRecord::Remove(p))
        .collect();
    both.extend(journal_bytes(&removals));
    assert!(Manifest::parse(None, Some(&both)).entries.is_empty());
});
