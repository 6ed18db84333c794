//! Private and public key files, passphrases, and the [`KeySource`] trait.
//!
//! * Private keys are PKCS#8 PEM. Unencrypted: `PRIVATE KEY` (readable by `openssl pkey`).
//!   Encrypted: `ENCRYPTED PRIVATE KEY`, PKCS#5 v2 PBES2 with scrypt (N = 2^14, r = 8,
//!   p = 1, the parameters `openssl pkcs8 -scrypt` uses, within OpenSSL's default memory
//!   cap) and AES-256-CBC, through the `pkcs8` crate.
//! * A private key file must not be readable or writable by group or others; one that is
//!   is refused before it is read.
//! * Public keys are TUF key JSON (`keytype`, `scheme`, `keyval.public`).
//!
//! A [`KeySource`] yields a `Box<dyn Signer>`: [`FileKeySource`] for a key file, or
//! [`crate::pkcs11::Pkcs11KeySource`] for a key on a hardware token; [`key_source`] picks
//! one from a `--key` value (a `pkcs11:` URI or a path; see `docs/keys.md`).

use std::fmt;
use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use pkcs8::der::pem::LineEnding;
use pkcs8::pkcs5::{pbes2, scrypt};
use pkcs8::EncryptedPrivateKeyInfo;
use tuf_core::crypto::{
    signer_from_pkcs8_der, EcdsaP256Signer, Ed25519Signer, PublicKey, SharedRandom, Signer,
};
use tuf_core::metadata::KeyId;
use tuf_core::{cjson, Limits};
use zeroize::Zeroizing;

use crate::exit::{err, Code};
use crate::pkcs11::{Pkcs11KeySource, SCHEME};

pub use crate::pkcs11::PinArgs;

/// PEM label of an unencrypted PKCS#8 key.
const LABEL_PLAIN: &str = "PRIVATE KEY";
/// PEM label of an encrypted PKCS#8 key.
const LABEL_ENCRYPTED: &str = "ENCRYPTED PRIVATE KEY";
/// A private key file is never larger than this; anything bigger is not ours.
const MAX_PRIVATE_KEY_BYTES: u64 = 64 * 1024;

/// Key algorithms `tuf key generate` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyType {
    /// Ed25519 (scheme `ed25519`).
    Ed25519,
    /// ECDSA over P-256 with SHA-256 (scheme `ecdsa-sha2-nistp256`).
    EcdsaP256,
}

/// Where a passphrase comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct PassphraseArgs {
    /// Read the passphrase from the environment variable NAME instead of prompting on the
    /// terminal (for scripts; the variable's value is never printed).
    #[arg(long, value_name = "NAME")]
    pub passphrase_env: Option<String>,
}

impl PassphraseArgs {
    /// The passphrase, from the named variable or a terminal prompt about `what`.
    /// `confirm` asks twice on a terminal (for a new key).
    pub fn get(&self, what: &str, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
        if let Some(name) = &self.passphrase_env {
            let value = std::env::var(name).map_err(|_| {
                err(
                    Code::KeyRefused,
                    format!(
                        "the environment variable {name} named by --passphrase-env is not set \
                         (or not UTF-8); export it or drop the flag to be asked on the terminal"
                    ),
                )
            })?;
            if value.is_empty() {
                return Err(err(
                    Code::KeyRefused,
                    format!("the passphrase in {name} is empty; set a non-empty passphrase"),
                ));
            }
            return Ok(Zeroizing::new(value));
        }
        let prompt = |p: &str| {
            rpassword::prompt_password(p)
                .map(Zeroizing::new)
                .map_err(|e| {
                    err(
                        Code::KeyRefused,
                        format!(
                            "cannot ask for the passphrase of {what} on a terminal ({e}); \
                         use --passphrase-env NAME in scripts"
                        ),
                    )
                })
        };
        let first = prompt(&format!("Passphrase for {what}: "))?;
        if first.is_empty() {
            return Err(err(Code::KeyRefused, "empty passphrase"));
        }
        if confirm {
            let again = prompt(&format!("Same passphrase again for {what}: "))?;
            if *again != *first {
                return Err(err(
                    Code::KeyRefused,
                    "the two passphrases differ; nothing was written",
                ));
            }
        }
        Ok(first)
    }
}

/// Something that yields a signer: a key file, a key on a token (PKCS#11), a KMS key.
pub trait KeySource: fmt::Debug {
    /// What the source is, for messages (never secret).
    fn describe(&self) -> String;
    /// Make the signer, asking for whatever unlocks it.
    fn signer(&self) -> anyhow::Result<Box<dyn Signer>>;
}

/// The key a `--key` value names: a key on a token for an RFC 7512 `pkcs11:` URI (the
/// PIN from `pin`), else a key file (the passphrase, if it is encrypted, from
/// `passphrase`).
pub fn key_source(
    reference: &Path,
    passphrase: &PassphraseArgs,
    pin: &PinArgs,
) -> anyhow::Result<Box<dyn KeySource>> {
    if let Some(text) = reference.to_str().filter(|t| {
        t.get(..SCHEME.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(SCHEME))
    }) {
        return Ok(Box::new(Pkcs11KeySource::parse(text, pin.clone())?));
    }
    Ok(Box::new(FileKeySource::new(
        reference.to_owned(),
        passphrase.clone(),
    )))
}

/// A PKCS#8 PEM private key file, maybe passphrase-encrypted.
#[derive(Debug, Clone)]
pub struct FileKeySource {
    path: PathBuf,
    passphrase: PassphraseArgs,
}

impl FileKeySource {
    /// The key in `path`; `passphrase` says where the passphrase comes from if it is
    /// encrypted.
    pub fn new(path: PathBuf, passphrase: PassphraseArgs) -> Self {
        Self { path, passphrase }
    }
}

impl KeySource for FileKeySource {
    fn describe(&self) -> String {
        format!("key file {}", self.path.display())
    }

    fn signer(&self) -> anyhow::Result<Box<dyn Signer>> {
        let pem = read_private_file(&self.path)?;
        let what = self.path.display().to_string();
        signer_from_pem(&pem, &what, &|| self.passphrase.get(&what, false))
    }
}

/// Most memory (and, with `p`, work) an encrypted key file's scrypt parameters may ask
/// for: `128 * N * r * p` bytes. 32 MiB is OpenSSL's default scrypt memory cap; our own
/// keys (and `openssl pkcs8 -scrypt`'s) use 16 MiB.
pub const MAX_SCRYPT_WORK_BYTES: u128 = 32 * 1024 * 1024;
/// Most PBKDF2 iterations an encrypted key file may ask for (OpenSSL writes 2048; current
/// guidance for PBKDF2-HMAC-SHA256 is 600,000).
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;

/// Refuse key-derivation parameters that would make decryption arbitrarily expensive:
/// they come from the key file, and scrypt's `N`, `r`, `p` (up to 2^63, 65535, 65535)
/// could otherwise ask for terabytes of memory or hours of work before the passphrase is
/// even checked.
fn check_kdf_cost(scheme: &pkcs8::pkcs5::EncryptionScheme<'_>) -> Result<(), String> {
    let pkcs8::pkcs5::EncryptionScheme::Pbes2(params) = scheme else {
        return Ok(()); // PBES1 is refused by the decryption itself
    };
    match &params.kdf {
        pbes2::Kdf::Scrypt(s) => {
            let work = 128u128
                .saturating_mul(u128::from(s.cost_parameter))
                .saturating_mul(u128::from(s.block_size))
                .saturating_mul(u128::from(s.parallelization));
            if work > MAX_SCRYPT_WORK_BYTES {
                return Err(format!(
                    "its scrypt parameters (N = {}, r = {}, p = {}) ask for more than \
                     {} MiB of work (`tuf key generate` and `openssl pkcs8 -scrypt` \
                     use N = 2^14, r = 8, p = 1)",
                    s.cost_parameter,
                    s.block_size,
                    s.parallelization,
                    MAX_SCRYPT_WORK_BYTES >> 20
                ));
            }
        }
        pbes2::Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => {
            return Err(format!(
                "its PBKDF2 iteration count {} is over {MAX_PBKDF2_ITERATIONS}",
                p.iteration_count
            ));
        }
        // Any other KDF is refused by the decryption itself.
        _ => {}
    }
    Ok(())
}

/// The signer of a PKCS#8 PEM private key (`PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY`
/// decrypted with what `passphrase` returns; it is asked only for an encrypted key).
/// `what` names the key in messages. Encryption parameters that would make decryption
/// arbitrarily expensive are refused before the passphrase is asked for.
pub fn signer_from_pem(
    pem: &str,
    what: &str,
    passphrase: &dyn Fn() -> anyhow::Result<Zeroizing<String>>,
) -> anyhow::Result<Box<dyn Signer>> {
    let (label, der) = pkcs8::der::pem::decode_vec(pem.as_bytes()).map_err(|e| {
        err(
            Code::KeyRefused,
            format!(
                "{what} is not a PEM private key ({e}); give the private key file that \
                 `tuf key generate` wrote"
            ),
        )
    })?;
    let der = Zeroizing::new(der);
    let plain = match label {
        LABEL_PLAIN => der,
        LABEL_ENCRYPTED => {
            let info = EncryptedPrivateKeyInfo::try_from(der.as_slice()).map_err(|e| {
                err(
                    Code::KeyRefused,
                    format!("{what} is not a valid encrypted PKCS#8 key: {e}"),
                )
            })?;
            check_kdf_cost(&info.encryption_algorithm)
                .map_err(|e| err(Code::KeyRefused, format!("refusing to decrypt {what}: {e}")))?;
            let pass = passphrase()?;
            let doc = info.decrypt(pass.as_bytes()).map_err(|_| {
                err(
                    Code::KeyRefused,
                    format!(
                        "cannot decrypt {what}: wrong passphrase (or a damaged file); \
                         nothing was signed"
                    ),
                )
            })?;
            Zeroizing::new(doc.as_bytes().to_vec())
        }
        other => {
            return Err(err(
                Code::KeyRefused,
                format!(
                    "{what} holds a PEM {other:?}, expected {LABEL_PLAIN:?} or \
                     {LABEL_ENCRYPTED:?} (PKCS#8)"
                ),
            ))
        }
    };
    signer_from_pkcs8_der(&plain, system_random())
        .map_err(|e| err(Code::KeyRefused, format!("{what}: {e}")))
}

/// A signer and its private key as PKCS#8 DER (zeroized on drop).
pub type NewKey = (Box<dyn Signer>, Zeroizing<Vec<u8>>);

/// The operating system's random generator, which tuf-core takes from its callers (it is
/// sans-IO): for new keys and for the nonces of ECDSA signatures.
pub fn system_random() -> SharedRandom {
    Arc::new(ring::rand::SystemRandom::new())
}

/// A new key and its PKCS#8 DER.
pub fn generate(kind: KeyType) -> anyhow::Result<NewKey> {
    Ok(match kind {
        KeyType::Ed25519 => {
            let key = Ed25519Signer::generate(&ring::rand::SystemRandom::new())?;
            let der = pkcs8_v1(&key.to_pkcs8_der()?)?;
            (Box::new(key), der)
        }
        KeyType::EcdsaP256 => {
            let key = EcdsaP256Signer::generate(system_random())?;
            let der = key.to_pkcs8_der();
            (Box::new(key), der)
        }
    })
}

/// The same key as PKCS#8 v1 (RFC 5208, no embedded public key): `ed25519-dalek` writes
/// v2 (RFC 5958), which OpenSSL 3.0 cannot read; the public key is derived from the
/// private one anyway.
fn pkcs8_v1(der: &[u8]) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    use pkcs8::der::Encode as _;
    let mut info = pkcs8::PrivateKeyInfo::try_from(der)
        .map_err(|e| anyhow::anyhow!("reading the new private key: {e}"))?;
    info.public_key = None;
    info.to_der()
        .map(Zeroizing::new)
        .map_err(|e| anyhow::anyhow!("encoding the new private key: {e}"))
}

/// PKCS#8 DER as PEM, encrypted under `passphrase` when one is given.
pub fn private_pem(der: &[u8], passphrase: Option<&str>) -> anyhow::Result<Zeroizing<String>> {
    let Some(passphrase) = passphrase else {
        return pkcs8::der::pem::encode_string(LABEL_PLAIN, LineEnding::LF, der)
            .map(Zeroizing::new)
            .map_err(|e| anyhow::anyhow!("encoding the private key as PEM: {e}"));
    };
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    let rng = ring::rand::SystemRandom::new();
    ring::rand::SecureRandom::fill(&rng, &mut salt)
        .and_then(|()| ring::rand::SecureRandom::fill(&rng, &mut iv))
        .map_err(|_| anyhow::anyhow!("no randomness available for the key encryption"))?;
    // N = 2^14, r = 8, p = 1: `openssl pkcs8 -scrypt`'s parameters; N = 2^15 would
    // exceed OpenSSL's default 32 MiB scrypt memory cap and `openssl pkey` could not
    // read the key.
    let params =
        scrypt::Params::new(14, 8, 1, 32).map_err(|e| anyhow::anyhow!("scrypt parameters: {e}"))?;
    let pbes2 = pbes2::Parameters::scrypt_aes256cbc(params, &salt, &iv)
        .map_err(|e| anyhow::anyhow!("PBES2 parameters: {e}"))?;
    let info = pkcs8::PrivateKeyInfo::try_from(der)
        .map_err(|e| anyhow::anyhow!("reading the new private key: {e}"))?;
    let doc = info
        .encrypt_with_params(pbes2, passphrase.as_bytes())
        .map_err(|e| anyhow::anyhow!("encrypting the private key: {e}"))?;
    doc.to_pem(LABEL_ENCRYPTED, LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the encrypted key as PEM: {e}"))
}

/// The TUF key JSON of `key`: the canonical form, but with the PEM's newlines escaped so
/// any JSON parser reads it (see `cjson::to_file_form`), then a newline.
pub fn public_key_json(key: &PublicKey) -> anyhow::Result<Vec<u8>> {
    let mut bytes = cjson::to_file_form(&serde_json::to_value(key)?)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Read a TUF public key JSON file; returns its key id and the key.
pub fn read_public_key(path: &Path) -> anyhow::Result<(KeyId, PublicKey)> {
    let bytes = crate::files::read(path)?;
    parse_public_key(&bytes, &path.display().to_string())
}

/// Parse TUF public key JSON (`what` names it in messages); returns its key id and the key.
pub fn parse_public_key(bytes: &[u8], what: &str) -> anyhow::Result<(KeyId, PublicKey)> {
    let value = cjson::parse(bytes, Limits::default().max_json_depth)
        .with_context(|| format!("{what} is not JSON"))?;
    let key: PublicKey = serde_json::from_value(value).with_context(|| {
        format!(
            "{what} is not a TUF public key (keytype, scheme, keyval.public); give the \
             .pub.json file from `tuf key generate`"
        )
    })?;
    key.validate()
        .with_context(|| format!("{what} holds an unusable public key"))?;
    let id = key.key_id()?;
    Ok((id, key))
}

/// A key holder's name from a public key file name: `alice.pub.json` → `alice`.
pub fn holder_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for suffix in [".pub.json", ".json"] {
        if let Some(stem) = name.strip_suffix(suffix) {
            return stem.to_owned();
        }
    }
    name
}

/// Read a private key file after checking no one but its owner can read or write it.
fn read_private_file(path: &Path) -> anyhow::Result<Zeroizing<String>> {
    let file = File::open(path).map_err(|e| {
        err(
            Code::KeyRefused,
            format!("cannot open private key {}: {e}", path.display()),
        )
    })?;
    // Check the mode of the file we opened, not of the path (no race with a swap).
    let meta = file
        .metadata()
        .with_context(|| format!("reading the mode of {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(err(
            Code::KeyRefused,
            format!(
                "private key {} has mode {mode:04o}: group or others can access it. \
                 Refusing to use it. Run `chmod 600 {}`, and treat the key as exposed \
                 (rotate it) if others could have read it",
                path.display(),
                path.display()
            ),
        ));
    }
    if meta.len() > MAX_PRIVATE_KEY_BYTES {
        return Err(err(
            Code::KeyRefused,
            format!(
                "{} is {} bytes; a private key file is under {MAX_PRIVATE_KEY_BYTES}",
                path.display(),
                meta.len()
            ),
        ));
    }
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_PRIVATE_KEY_BYTES)
        .read_to_string(&mut text)
        .with_context(|| format!("reading private key {}", path.display()))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_round_trip_and_wrong_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let (signer, der) = generate(KeyType::EcdsaP256).unwrap();
        let pem = private_pem(&der, Some("correct horse")).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let path = dir.path().join("k.pem");
        crate::files::write_atomic(
            &path,
            pem.as_bytes(),
            crate::files::Access::OwnerOnly,
            crate::files::Existing::Refuse,
        )
        .unwrap();
        std::env::set_var("TUF_TEST_PASS_OK", "correct horse");
        std::env::set_var("TUF_TEST_PASS_BAD", "wrong");
        let ok = FileKeySource::new(
            path.clone(),
            PassphraseArgs {
                passphrase_env: Some("TUF_TEST_PASS_OK".into()),
            },
        );
        assert_eq!(ok.signer().unwrap().key_id(), signer.key_id());
        let bad = FileKeySource::new(
            path,
            PassphraseArgs {
                passphrase_env: Some("TUF_TEST_PASS_BAD".into()),
            },
        );
        let e = bad.signer().unwrap_err();
        assert_eq!(crate::exit::code_of(&e), Code::KeyRefused);
        assert!(e.to_string().contains("wrong passphrase"), "{e}");
    }

    #[test]
    fn an_unencrypted_key_file_loads_only_as_pem_and_0600() {
        let dir = tempfile::tempdir().unwrap();
        let no_prompt = || PassphraseArgs {
            passphrase_env: None,
        };
        let (made, der) = generate(KeyType::Ed25519).unwrap();
        let pem = dir.path().join("online.pem");
        std::fs::write(&pem, private_pem(&der, None).unwrap().as_bytes()).unwrap();
        std::fs::set_permissions(&pem, std::fs::Permissions::from_mode(0o600)).unwrap();
        let loaded = FileKeySource::new(pem.clone(), no_prompt())
            .signer()
            .unwrap();
        assert_eq!(loaded.key_id(), made.key_id());
        // The 0600 rule of every key file.
        std::fs::set_permissions(&pem, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = FileKeySource::new(pem, no_prompt()).signer().unwrap_err();
        assert_eq!(crate::exit::code_of(&e), Code::KeyRefused);
        // A DER file (the old `.pk8` format) is refused, not guessed at.
        let der_file = dir.path().join("der.pem");
        std::fs::write(&der_file, der.as_slice()).unwrap();
        std::fs::set_permissions(&der_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(FileKeySource::new(der_file, no_prompt()).signer().is_err());
    }

    /// Scrypt parameters come from the key file: ones that would cost more than the cap
    /// are refused before the passphrase is asked for (found by the `keys` fuzz target's
    /// review: N up to 2^63 and r, p up to 65535 were passed to scrypt unchecked).
    #[test]
    fn expensive_kdf_parameters_are_refused_before_decrypting() {
        let (_, der) = generate(KeyType::Ed25519).unwrap();
        let info = pkcs8::PrivateKeyInfo::try_from(der.as_slice()).unwrap();
        let encrypt = |log_n: u8, r: u32, p: u32| {
            let params = scrypt::Params::new(log_n, r, p, 32).unwrap();
            let pbes2 = pbes2::Parameters::scrypt_aes256cbc(params, &[7; 16], &[9; 16]).unwrap();
            let doc = info.encrypt_with_params(pbes2, b"pass").unwrap();
            doc.to_pem(LABEL_ENCRYPTED, LineEnding::LF).unwrap()
        };
        let asked = std::cell::Cell::new(false);
        let pass = || {
            asked.set(true);
            Ok(Zeroizing::new("pass".to_owned()))
        };
        // 128 * 2^10 * 8 * 64 = 64 MiB of work: over the cap.
        let e = signer_from_pem(&encrypt(10, 8, 64), "k", &pass).unwrap_err();
        assert_eq!(crate::exit::code_of(&e), Code::KeyRefused);
        assert!(e.to_string().contains("scrypt parameters"), "{e}");
        assert!(!asked.get(), "the passphrase was asked for");
        // The parameters we write (and `openssl pkcs8 -scrypt` writes) decrypt.
        let ok = signer_from_pem(&encrypt(14, 8, 1), "k", &pass).unwrap();
        assert!(asked.get());
        assert_eq!(
            ok.key_id(),
            signer_from_pem(&private_pem(&der, None).unwrap(), "k", &pass)
                .unwrap()
                .key_id()
        );
    }

    #[test]
    fn holder_names() {
        assert_eq!(holder_name(Path::new("/x/alice.pub.json")), "alice");
        assert_eq!(holder_name(Path::new("bob.json")), "bob");
    }
}
