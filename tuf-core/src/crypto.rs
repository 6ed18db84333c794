//! Public keys, signature schemes, key ids and the [`Signer`] trait (TUF §4.2, "KEYS").
//!
//! Supported (keytype / scheme → what `keyval.public` holds):
//!
//! | keytype | scheme | public | sign | verify |
//! |---|---|---|---|---|
//! | `ed25519` | `ed25519` | 64 hex chars | yes | yes (strict: RFC 8032 §5.1.7, no small-order keys) |
//! | `ecdsa` or `ecdsa-sha2-nistp256` | `ecdsa-sha2-nistp256` | PEM SubjectPublicKeyInfo | yes | yes (DER signature) |
//! | `rsa` | `rsassa-pss-sha256` | PEM SubjectPublicKeyInfo | no | yes (salt length 32, 0, maximum, 20, 48 or 64) |
//!
//! A key of any other type still parses (so a root that lists it is usable); it just never
//! verifies a signature.
//!
//! # Key ids
//!
//! TUF §4.2: a KEYID is the hex SHA-256 of the canonical form of the key object. We compute
//! it over the key object as received, unknown fields included ([`PublicKey::key_id`]).
//! Policy for a key id declared in metadata that differs from the computed one: the
//! declared id is accepted as the *name* the metadata uses for that key (python-tuf and
//! tough do the same, and some producers hash differently), so authorisation goes by
//! declared ids only; this crate never emits a key id it did not compute. Because an id
//! is only a name, thresholds count keys, not ids ([`KeyMaterial`]).
//!
//! # Randomness
//!
//! This crate never reaches for the operating system's generator (it is sans-IO; its
//! `clippy.toml` refuses `ring::rand::SystemRandom`): key generation and ECDSA signing take
//! a [`ring::rand::SecureRandom`] from the caller, which passes `SystemRandom` (a
//! [`SharedRandom`] where a signer keeps it for its signatures).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ring::rand::SecureRandom;
use ring::signature::{self as ring_sig, KeyPair as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spki::der::{self, Decode as _, Encode as _};
use zeroize::Zeroizing;

use crate::cjson;
use crate::error::Error;
use crate::hash;
use crate::metadata::KeyId;

/// `keytype` of ed25519 keys.
pub const KEYTYPE_ED25519: &str = "ed25519";
/// `keytype` of ECDSA keys, as securesystemslib ≥ 0.23 and python-tuf write it.
pub const KEYTYPE_ECDSA: &str = "ecdsa";
/// `keytype` of ECDSA keys, as older securesystemslib and go-tuf write it.
pub const KEYTYPE_ECDSA_NISTP256: &str = "ecdsa-sha2-nistp256";
/// `keytype` of RSA keys.
pub const KEYTYPE_RSA: &str = "rsa";
/// `scheme` for ed25519.
pub const SCHEME_ED25519: &str = "ed25519";
/// `scheme` for ECDSA over P-256 with SHA-256.
pub const SCHEME_ECDSA_P256: &str = "ecdsa-sha2-nistp256";
/// `scheme` for RSASSA-PSS with SHA-256.
pub const SCHEME_RSA_PSS_SHA256: &str = "rsassa-pss-sha256";

const OID_EC_PUBLIC_KEY: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_PRIME256V1: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_RSA_ENCRYPTION: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// A public key as TUF metadata writes it. Unknown fields are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    /// Key type (`ed25519`, `ecdsa`, `rsa`, ...).
    pub keytype: String,
    /// Signature scheme.
    pub scheme: String,
    /// Key value.
    pub keyval: KeyVal,
    /// Fields this version does not know, kept for round trips and key ids.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `keyval` of a public key. Unknown fields are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyVal {
    /// The public key, hex (ed25519) or PEM (ECDSA, RSA).
    pub public: String,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl PublicKey {
    /// An ed25519 public key from its 32 bytes.
    pub fn ed25519(public: &[u8; 32]) -> Self {
        Self::new(KEYTYPE_ED25519, SCHEME_ED25519, hex::encode(public))
    }

    /// An ECDSA P-256 public key from its uncompressed SEC1 point (65 bytes), written as a
    /// PEM SubjectPublicKeyInfo with keytype `ecdsa` (python-tuf's spelling).
    pub fn ecdsa_p256(point: &[u8]) -> Result<Self, Error> {
        let key_err = |reason: String| Error::Key {
            keyid: String::new(),
            reason,
        };
        let spki = spki::SubjectPublicKeyInfoOwned {
            algorithm: spki::AlgorithmIdentifierOwned {
                oid: OID_EC_PUBLIC_KEY,
                parameters: Some(der::Any::from(OID_PRIME256V1)),
            },
            subject_public_key: der::asn1::BitString::from_bytes(point)
                .map_err(|e| key_err(e.to_string()))?,
        };
        let der = spki.to_der().map_err(|e| key_err(e.to_string()))?;
        let pem = der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, &der)
            .map_err(|e| key_err(e.to_string()))?;
        Ok(Self::new(KEYTYPE_ECDSA, SCHEME_ECDSA_P256, pem))
    }

    fn new(keytype: &str, scheme: &str, public: String) -> Self {
        Self {
            keytype: keytype.to_owned(),
            scheme: scheme.to_owned(),
            keyval: KeyVal {
                public,
                extra: BTreeMap::new(),
            },
            extra: BTreeMap::new(),
        }
    }

    /// The key id: hex SHA-256 of the canonical form of `{keytype, scheme, keyval}`
    /// (TUF §4.2, as securesystemslib computes it; see the module documentation).
    pub fn key_id(&self) -> Result<KeyId, Error> {
        let core = serde_json::json!({
            "keytype": self.keytype,
            "scheme": self.scheme,
            "keyval": self.keyval,
        });
        let canonical = cjson::to_canonical(&core)?;
        KeyId::parse(&hex::encode(hash::sha256(&canonical)))
    }

    /// Whether this implementation can verify signatures of this key type and scheme.
    pub fn is_supported(&self) -> bool {
        matches!(
            (self.keytype.as_str(), self.scheme.as_str()),
            (KEYTYPE_ED25519, SCHEME_ED25519)
                | (KEYTYPE_ECDSA | KEYTYPE_ECDSA_NISTP256, SCHEME_ECDSA_P256)
                | (KEYTYPE_RSA, SCHEME_RSA_PSS_SHA256)
        )
    }

    /// Check the key material decodes for its scheme, without a signature.
    pub fn validate(&self) -> Result<(), Error> {
        self.decode().map(|_| ())
    }

    /// Check `signature` over `message` with this key.
    ///
    /// `Ok(())` only for a valid signature. A key that cannot be decoded, an unsupported
    /// scheme and a bad signature are all errors; the threshold counter treats every error
    /// as "this signature does not count" (TUF §5.3.4: invalid signatures are ignored).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        self.verify_identified(message, signature).map(|_| ())
    }

    /// [`PublicKey::verify`], giving on success the [`KeyMaterial`] that verified, so a
    /// threshold can count each distinct key once (TUF §5.3.4). The key is decoded once
    /// for both.
    pub fn verify_identified(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<KeyMaterial, Error> {
        let bad = || Error::Key {
            keyid: String::new(),
            reason: "signature does not verify".to_owned(),
        };
        match self.decode()? {
            Decoded::Ed25519(key) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| bad())?;
                key.verify_strict(message, &sig).map_err(|_| bad())?;
                Ok(KeyMaterial::new(
                    KeyFamily::Ed25519,
                    &[key.as_bytes().as_slice()],
                ))
            }
            Decoded::EcdsaP256(point) => {
                ring_sig::UnparsedPublicKey::new(&ring_sig::ECDSA_P256_SHA256_ASN1, &point)
                    .verify(message, signature)
                    .map_err(|_| bad())?;
                Ok(KeyMaterial::new(KeyFamily::EcdsaP256, &[&point]))
            }
            Decoded::Rsa(key) => {
                use rsa::traits::PublicKeyParts as _;
                verify_rsa_pss_sha256(&key, message, signature).map_err(|_| bad())?;
                Ok(KeyMaterial::new(
                    KeyFamily::Rsa,
                    &[&key.n().to_bytes_be(), &key.e().to_bytes_be()],
                ))
            }
        }
    }

    fn decode(&self) -> Result<Decoded, Error> {
        let key_err = |reason: &str| Error::Key {
            keyid: String::new(),
            reason: format!("{} key: {reason}", self.keytype),
        };
        match (self.keytype.as_str(), self.scheme.as_str()) {
            (KEYTYPE_ED25519, SCHEME_ED25519) => {
                let bytes =
                    hex::decode(&self.keyval.public).map_err(|_| key_err("public is not hex"))?;
                let bytes: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| key_err("public is not 32 bytes"))?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map_err(|_| key_err("public is not a curve point"))?;
                Ok(Decoded::Ed25519(key))
            }
            (KEYTYPE_ECDSA | KEYTYPE_ECDSA_NISTP256, SCHEME_ECDSA_P256) => {
                let der = pem_der(&self.keyval.public).map_err(|r| key_err(&r))?;
                let spki = spki::SubjectPublicKeyInfoRef::from_der(&der)
                    .map_err(|e| key_err(&format!("not a SubjectPublicKeyInfo: {e}")))?;
                let curve_ok = spki
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
                    == Some(OID_PRIME256V1);
                if spki.algorithm.oid != OID_EC_PUBLIC_KEY || !curve_ok {
                    return Err(key_err("not a P-256 public key"));
                }
                let point = spki
                    .subject_public_key
                    .as_bytes()
                    .ok_or_else(|| key_err("public key bits not whole bytes"))?;
                Ok(Decoded::EcdsaP256(point.to_vec()))
            }
            (KEYTYPE_RSA, SCHEME_RSA_PSS_SHA256) => {
                use rsa::pkcs8::DecodePublicKey as _;
                let der = pem_der(&self.keyval.public).map_err(|r| key_err(&r))?;
                let spki = spki::SubjectPublicKeyInfoRef::from_der(&der)
                    .map_err(|e| key_err(&format!("not a SubjectPublicKeyInfo: {e}")))?;
                if spki.algorithm.oid != OID_RSA_ENCRYPTION {
                    return Err(key_err("not an RSA public key"));
                }
                let key = rsa::RsaPublicKey::from_public_key_der(&der)
                    .map_err(|e| key_err(&format!("bad RSA key: {e}")))?;
                Ok(Decoded::Rsa(key))
            }
            _ => Err(Error::UnsupportedKey {
                keytype: self.keytype.clone(),
                scheme: self.scheme.clone(),
            }),
        }
    }
}

/// The public key a [`PublicKey`] stands for, whatever the spelling of its JSON: hex case,
/// PEM line breaks, the `ecdsa` / `ecdsa-sha2-nistp256` keytype alias and unknown fields
/// all give the same material, and so do two key ids naming one key. A threshold counts
/// keys by this, not by key id (TUF §5.3.4 "unique keys"): one key holder listed twice
/// must not count twice.
///
/// Made only from a key that just verified a signature ([`PublicKey::verify_identified`]).
/// For ed25519 it is the 32-byte encoding as given: the few other encodings of a point
/// are of points whose private key nobody knows, so they never verify a real signature.
/// For ECDSA it is the SEC1 point, which ring accepts only uncompressed; for RSA the
/// modulus and exponent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyMaterial {
    family: KeyFamily,
    /// The key's numbers, each prefixed by its length so that no two lists run together.
    bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum KeyFamily {
    Ed25519,
    EcdsaP256,
    Rsa,
}

impl KeyMaterial {
    fn new(family: KeyFamily, parts: &[&[u8]]) -> Self {
        let mut bytes = Vec::new();
        for part in parts {
            let len = u64::try_from(part.len()).unwrap_or(u64::MAX);
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(part);
        }
        Self { family, bytes }
    }
}

enum Decoded {
    Ed25519(ed25519_dalek::VerifyingKey),
    EcdsaP256(Vec<u8>),
    Rsa(rsa::RsaPublicKey),
}

fn pem_der(pem: &str) -> Result<Vec<u8>, String> {
    let (label, der) =
        der::pem::decode_vec(pem.trim().as_bytes()).map_err(|e| format!("bad PEM: {e}"))?;
    if label != "PUBLIC KEY" {
        return Err(format!("PEM label is {label:?}, expected \"PUBLIC KEY\""));
    }
    Ok(der)
}

/// RSASSA-PSS with SHA-256 and MGF1-SHA-256, accepting the salt lengths signers use.
///
/// securesystemslib signs with a salt as long as the digest and verifies with OpenSSL's
/// "auto" (any length). The `rsa` crate checks one given length, and each attempt costs a
/// public-key operation, so trying every possible length (up to ~500 for a 4096-bit key)
/// would let one bad signature cost ~500 operations. We try the lengths real signers use:
/// the digest length (securesystemslib, tough, go-tuf), 0, the maximum
/// (`PSS.MAX_LENGTH`), and the SHA-1/384/512 digest lengths. The python vectors pin
/// 32, 0 and the maximum.
fn verify_rsa_pss_sha256(
    key: &rsa::RsaPublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), rsa::Error> {
    use rsa::traits::PublicKeyParts as _;
    const HASH_LEN: usize = 32;
    let digest = hash::sha256(message);
    let mod_bits = key.n().bits();
    let em_len = mod_bits.saturating_sub(1).div_ceil(8);
    let max_salt = em_len.saturating_sub(HASH_LEN + 2);
    let mut tried = Vec::with_capacity(6);
    for salt_len in [HASH_LEN, 0, max_salt, 20, 48, 64] {
        if salt_len > max_salt || tried.contains(&salt_len) {
            continue;
        }
        tried.push(salt_len);
        let scheme = rsa::pss::Pss::new_with_salt::<sha2::Sha256>(salt_len);
        if key.verify(scheme, &digest, signature).is_ok() {
            return Ok(());
        }
    }
    Err(rsa::Error::Verification)
}

/// Something that can sign TUF metadata: a key in memory today, a KMS or HSM later.
///
/// Implementations keep private material to themselves: no accessor returns it, and
/// `Debug` must not print it.
pub trait Signer: Send + Sync + fmt::Debug {
    /// The public key, as it goes into metadata.
    fn public_key(&self) -> &PublicKey;
    /// The key id of [`Signer::public_key`].
    fn key_id(&self) -> &KeyId;
    /// Sign `message` (the canonical bytes of a `signed` value) and return the raw
    /// signature bytes (hex-encoded when written into metadata).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
}

/// A caller's random generator that a signer keeps for as long as it signs (ECDSA needs a
/// fresh nonce per signature): `Arc::new(ring::rand::SystemRandom::new())` in a binary.
pub type SharedRandom = Arc<dyn SecureRandom + Send + Sync>;

/// An ed25519 private key held in memory; zeroized on drop.
pub struct Ed25519Signer {
    key: ed25519_dalek::SigningKey,
    public: PublicKey,
    keyid: KeyId,
}

impl Ed25519Signer {
    /// A new random key, its seed from `rng` (the caller's `ring::rand::SystemRandom`).
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self, Error> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill(seed.as_mut())
            .map_err(|_| signing_err("", "no randomness available"))?;
        Self::from_seed(&seed)
    }

    /// The key whose RFC 8032 secret seed is `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, Error> {
        Self::from_key(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// Load a PKCS#8 v1/v2 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_der(der)
            .map_err(|e| signing_err("", &format!("not an ed25519 PKCS#8 key: {e}")))?;
        Self::from_key(key)
    }

    /// The private key as PKCS#8 DER (zeroized when dropped).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let doc = self
            .key
            .to_pkcs8_der()
            .map_err(|e| signing_err(self.keyid.as_str(), &e.to_string()))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    fn from_key(key: ed25519_dalek::SigningKey) -> Result<Self, Error> {
        let public = PublicKey::ed25519(&key.verifying_key().to_bytes());
        let keyid = public.key_id()?;
        Ok(Self { key, public, keyid })
    }
}

impl fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("keyid", &self.keyid)
            .field("private", &"<redacted>")
            .finish()
    }
}

impl Signer for Ed25519Signer {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }
    fn key_id(&self) -> &KeyId {
        &self.keyid
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(message).to_bytes().to_vec())
    }
}

/// An ECDSA P-256 / SHA-256 private key held in memory. The PKCS#8 bytes are zeroized on
/// drop; the parsed key lives inside `ring`, which does not promise to zeroize it.
pub struct EcdsaP256Signer {
    pkcs8: Zeroizing<Vec<u8>>,
    pair: ring_sig::EcdsaKeyPair,
    rng: SharedRandom,
    public: PublicKey,
    keyid: KeyId,
}

impl EcdsaP256Signer {
    /// A new random key from `rng`, which it keeps for its signatures.
    pub fn generate(rng: SharedRandom) -> Result<Self, Error> {
        let doc = ring_sig::EcdsaKeyPair::generate_pkcs8(
            &ring_sig::ECDSA_P256_SHA256_ASN1_SIGNING,
            rng.as_ref(),
        )
        .map_err(|_| signing_err("", "could not generate a P-256 key"))?;
        Self::from_pkcs8_der(doc.as_ref(), rng)
    }

    /// Load a PKCS#8 DER P-256 private key; `rng` gives each signature its nonce.
    pub fn from_pkcs8_der(der: &[u8], rng: SharedRandom) -> Result<Self, Error> {
        let pair = ring_sig::EcdsaKeyPair::from_pkcs8(
            &ring_sig::ECDSA_P256_SHA256_ASN1_SIGNING,
            der,
            rng.as_ref(),
        )
        .map_err(|e| signing_err("", &format!("not a P-256 PKCS#8 key: {e}")))?;
        let public = PublicKey::ecdsa_p256(pair.public_key().as_ref())?;
        let keyid = public.key_id()?;
        Ok(Self {
            pkcs8: Zeroizing::new(der.to_vec()),
            pair,
            rng,
            public,
            keyid,
        })
    }

    /// The private key as PKCS#8 DER (zeroized when dropped).
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        self.pkcs8.clone()
    }
}

impl fmt::Debug for EcdsaP256Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcdsaP256Signer")
            .field("keyid", &self.keyid)
            .field("private", &"<redacted>")
            .finish()
    }
}

impl Signer for EcdsaP256Signer {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }
    fn key_id(&self) -> &KeyId {
        &self.keyid
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.pair
            .sign(self.rng.as_ref(), message)
            .map(|sig| sig.as_ref().to_vec())
            .map_err(|_| signing_err(self.keyid.as_str(), "ECDSA signing failed"))
    }
}

/// Load a PKCS#8 DER private key of any supported type (ed25519 or P-256); a P-256 key
/// keeps `rng` for its signatures' nonces.
pub fn signer_from_pkcs8_der(der: &[u8], rng: SharedRandom) -> Result<Box<dyn Signer>, Error> {
    match Ed25519Signer::from_pkcs8_der(der) {
        Ok(signer) => Ok(Box::new(signer)),
        Err(_) => EcdsaP256Signer::from_pkcs8_der(der, rng)
            .map(|s| Box::new(s) as Box<dyn Signer>)
            .map_err(|_| signing_err("", "not an ed25519 or ECDSA P-256 PKCS#8 private key")),
    }
}

fn signing_err(keyid: &str, reason: &str) -> Error {
    Error::Signing {
        keyid: keyid.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The operating system's generator, as a binary passes it in. Tests may reach for it;
    /// the library may not (tuf-core/clippy.toml).
    #[allow(clippy::disallowed_types)]
    fn rng() -> SharedRandom {
        Arc::new(ring::rand::SystemRandom::new())
    }

    #[test]
    fn ed25519_sign_verify_and_reject() {
        let signer = Ed25519Signer::from_seed(&[7u8; 32]).unwrap();
        let sig = signer.sign(b"hello").unwrap();
        signer.public_key().verify(b"hello", &sig).unwrap();
        assert!(signer.public_key().verify(b"hellO", &sig).is_err());
        assert!(signer.public_key().verify(b"hello", &sig[..63]).is_err());
        assert!(signer.public_key().verify(b"hello", &[]).is_err());
        let other = Ed25519Signer::from_seed(&[8u8; 32]).unwrap();
        assert!(other.public_key().verify(b"hello", &sig).is_err());
    }

    #[test]
    fn ecdsa_sign_verify_and_reject() {
        let signer = EcdsaP256Signer::generate(rng()).unwrap();
        assert_eq!(signer.public_key().keytype, "ecdsa");
        assert!(signer
            .public_key()
            .keyval
            .public
            .starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let sig = signer.sign(b"hello").unwrap();
        signer.public_key().verify(b"hello", &sig).unwrap();
        assert!(signer.public_key().verify(b"hellO", &sig).is_err());
        // The other spelling of the key type verifies the same signature.
        let mut alt = signer.public_key().clone();
        alt.keytype = KEYTYPE_ECDSA_NISTP256.to_owned();
        alt.verify(b"hello", &sig).unwrap();
        assert_ne!(alt.key_id().unwrap(), *signer.key_id());
    }

    #[test]
    fn pkcs8_round_trips() {
        let ed = Ed25519Signer::generate(rng().as_ref()).unwrap();
        let again = signer_from_pkcs8_der(&ed.to_pkcs8_der().unwrap(), rng()).unwrap();
        assert_eq!(again.key_id(), ed.key_id());
        let ec = EcdsaP256Signer::generate(rng()).unwrap();
        let again = signer_from_pkcs8_der(&ec.to_pkcs8_der(), rng()).unwrap();
        assert_eq!(again.key_id(), ec.key_id());
        assert!(signer_from_pkcs8_der(b"not a key", rng()).is_err());
    }

    #[test]
    fn debug_redacts_private_material() {
        let ed = Ed25519Signer::from_seed(&[1u8; 32]).unwrap();
        let text = format!("{ed:?}");
        assert!(text.contains("redacted"));
        assert!(!text.contains(&hex::encode([1u8; 32])));
        let ec = EcdsaP256Signer::generate(rng()).unwrap();
        assert!(format!("{ec:?}").contains("redacted"));
    }

    #[test]
    fn key_id_is_sha256_of_canonical_key() {
        let key = PublicKey::ed25519(&[0u8; 32]);
        let canonical = br#"{"keytype":"ed25519","keyval":{"public":"0000000000000000000000000000000000000000000000000000000000000000"},"scheme":"ed25519"}"#;
        assert_eq!(
            key.key_id().unwrap().as_str(),
            hex::encode(hash::sha256(canonical))
        );
    }

    #[test]
    fn unsupported_and_malformed_keys() {
        let mut key = PublicKey::ed25519(&[0u8; 32]);
        key.scheme = "ed448".to_owned();
        assert!(!key.is_supported());
        assert_eq!(
            key.verify(b"m", &[0; 64]).unwrap_err().code(),
            "unsupported-key"
        );
        let mut key = PublicKey::ed25519(&[0u8; 32]);
        key.keyval.public = "zz".to_owned();
        assert_eq!(key.validate().unwrap_err().code(), "bad-key");
        let mut key = EcdsaP256Signer::generate(rng())
            .unwrap()
            .public_key()
            .clone();
        key.keyval.public = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".into();
        assert_eq!(key.validate().unwrap_err().code(), "bad-key");
    }
}
