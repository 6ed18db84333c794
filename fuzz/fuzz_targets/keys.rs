//! Private key files (PKCS#8 PEM, plain or encrypted under the fixed passphrase `fuzz`)
//! and public key JSON: never panic; encrypted keys never cost more than the KDF cap
//! (libFuzzer's -timeout/-rss_limit_mb catch a cap that does not hold); a parsed public
//! key writes back to JSON that parses to the same key and key id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tuf_cli::keys::{parse_public_key, public_key_json, signer_from_pem};
use zeroize::Zeroizing;

fuzz_target!(|data: &[u8]| {
    if let Ok(pem) = std::str::from_utf8(data) {
        let pass = || Ok(Zeroizing::new("fuzz".to_owned()));
        if let Ok(signer) = signer_from_pem(pem, "fuzz.pem", &pass) {
            // A key that loads signs, and its public key is usable key JSON.
            let sig = signer.sign(b"fuzz").expect("a loaded key signs");
            signer
                .public_key()
                .verify(b"fuzz", &sig)
                .expect("its own signature verifies");
            let json = public_key_json(signer.public_key()).expect("writes");
            let (id, _) = parse_public_key(&json, "written").expect("parses back");
            assert_eq!(&id, signer.key_id());
        }
    }
    if let Ok((id, key)) = parse_public_key(data, "fuzz.pub.json") {
        let json = public_key_json(&key).expect("writes");
        let (id2, key2) = parse_public_key(&json, "written").expect("parses back");
        assert_eq!(id, id2);
        assert_eq!(key, key2);
    }
});
