//! SHA-256 and SHA-512, the hash algorithms TUF metadata names (TUF §4.4: "HASHES").

use ring::digest;

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

/// SHA-512 of `bytes`.
pub fn sha512(bytes: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out.copy_from_slice(digest::digest(&digest::SHA512, bytes).as_ref());
    out
}

/// The digest of `bytes` under the algorithm TUF names `algorithm`, or `None` for an
/// algorithm this implementation does not know (callers treat that as a failure: a hash
/// that cannot be checked never passes, TUF §5.6.2 / §5.7.3).
pub fn digest_named(algorithm: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    match algorithm {
        "sha256" => Some(sha256(bytes).to_vec()),
        "sha512" => Some(sha512(bytes).to_vec()),
        _ => None,
    }
}

/// An incremental SHA-256 for data that arrives in pieces.
#[derive(Clone)]
pub struct Sha256Stream(digest::Context);

impl std::fmt::Debug for Sha256Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sha256Stream")
    }
}

impl Default for Sha256Stream {
    fn default() -> Self {
        Self(digest::Context::new(&digest::SHA256))
    }
}

impl Sha256Stream {
    /// Feed more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest of everything fed.
    pub fn finish(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(hex::encode(sha512(b"abc")).starts_with("ddaf35a193617aba"));
        assert_eq!(
            digest_named("sha256", b"abc").unwrap(),
            sha256(b"abc").to_vec()
        );
        assert_eq!(digest_named("md5", b"abc"), None);
        let mut stream = Sha256Stream::default();
        stream.update(b"a");
        stream.update(b"bc");
        assert_eq!(stream.finish(), sha256(b"abc"));
    }
}
