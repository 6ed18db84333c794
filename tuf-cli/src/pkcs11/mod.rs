//! Keys on hardware tokens (YubiKey PIV, Nitrokey, HSMs; SoftHSM2 in the tests) through
//! PKCS#11: the one module of `tuf` that talks to a token.
//!
//! A key is named by an RFC 7512 URI ([`uri`]), e.g.
//! `pkcs11:token=root-alice;object=tuf-root?module-path=/usr/lib/softhsm/libsofthsm2.so`.
//! The module (the vendor's `.so`) comes from the URI's `module-path`, else from
//! `--module`, else from the environment variable [`MODULE_ENV`].
//!
//! Signing (what [`Pkcs11Signer`] does, so the signature verifies through
//! `tuf_core::crypto::PublicKey::verify` exactly like a file key's):
//! * `ecdsa-sha2-nistp256`: `CKM_ECDSA` signs a digest, so the message is hashed with
//!   SHA-256 here; the token returns `r || s` (PKCS#11 v2.40 §2.3.1), which is re-encoded
//!   as the DER `ECDSA-Sig-Value` securesystemslib and python-tuf write (RFC 3279 §2.2.3).
//! * `ed25519`: `CKM_EDDSA` (PKCS#11 v3.0 §2.3.14) over the whole message, 64 bytes.
//!
//! Every signature is checked against the public key before it is returned: a token
//! whose public and private objects do not belong together fails here, not in a client.
//!
//! The public key is read from the token's public key object (`CKA_EC_PARAMS`,
//! `CKA_EC_POINT`) and built with the same constructors a key file uses, so a key
//! imported from a file has the same key id on the token as in its `.pub.json`.
//!
//! The PIN is asked on the terminal or read from `--pin-env NAME`, held in a
//! zeroize-on-drop secret, and never printed; URIs carrying a PIN are refused.

pub mod uri;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType as CkKeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use cryptoki::types::AuthPin;
use pkcs8::der::{self, Decode as _};
use sha2::Digest as _;
use tuf_core::crypto::{PublicKey, Signer};
use tuf_core::metadata::KeyId;
use zeroize::Zeroizing;

use crate::exit::{err, usage, Code};
use crate::keys::{KeySource, KeyType};
pub use uri::{ObjectType, Pkcs11Uri, UriError, SCHEME};

/// The environment variable naming the PKCS#11 module when neither the URI's
/// `module-path` nor `--module` does.
pub const MODULE_ENV: &str = "TUF_PKCS11_MODULE";

/// `CKA_EC_PARAMS` of P-256: the DER OID 1.2.840.10045.3.1.7 (prime256v1).
const EC_PARAMS_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `CKA_EC_PARAMS` of Ed25519: the DER OID 1.3.101.112 (RFC 8410).
const EC_PARAMS_ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// The curve name PKCS#11 v3.0 §2.3.10 also allows for Ed25519 (a PrintableString).
const CURVE_NAME_ED25519: &str = "edwards25519";

/// Where the PIN of a token comes from.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PinArgs {
    /// For a `pkcs11:` key: read the token's PIN from the environment variable NAME
    /// instead of asking on the terminal (the value is never printed).
    #[arg(long, value_name = "NAME")]
    pub pin_env: Option<String>,
}

impl PinArgs {
    /// The PIN of `token`, from the named variable or a terminal prompt; `warning` (what
    /// the token says about tries left) is shown in the prompt.
    fn pin(&self, token: &str, warning: &str) -> anyhow::Result<AuthPin> {
        let pin: Zeroizing<String> = if let Some(name) = &self.pin_env {
            let value = std::env::var(name).map_err(|_| {
                err(
                    Code::KeyRefused,
                    format!(
                        "the environment variable {name} named by --pin-env is not set (or \
                         not UTF-8); export it or drop the flag to be asked on the terminal"
                    ),
                )
            })?;
            Zeroizing::new(value)
        } else {
            rpassword::prompt_password(format!("PIN of token {token:?}{warning}: "))
                .map(Zeroizing::new)
                .map_err(|e| {
                    err(
                        Code::KeyRefused,
                        format!(
                            "cannot ask for the PIN of token {token:?} on a terminal ({e}); \
                             use --pin-env NAME in scripts"
                        ),
                    )
                })?
        };
        if pin.is_empty() {
            return Err(err(
                Code::KeyRefused,
                format!("the PIN for token {token:?} is empty; nothing was signed"),
            ));
        }
        Ok(AuthPin::from(pin.as_str()))
    }
}

/// A key on a token, named by a PKCS#11 URI: the [`KeySource`] behind `--key pkcs11:...`.
#[derive(Debug, Clone)]
pub struct Pkcs11KeySource {
    uri: Pkcs11Uri,
    pin: PinArgs,
}

impl Pkcs11KeySource {
    /// The key `text` names; `pin` says where the PIN comes from.
    pub fn parse(text: &str, pin: PinArgs) -> anyhow::Result<Self> {
        let uri = parse_uri(text)?;
        if let Some(kind) = uri.object_type.filter(|t| *t != ObjectType::Private) {
            return Err(usage(format!(
                "{} names a {kind:?} object (type=); signing needs the private key: use \
                 type=private or drop type=",
                uri.without_module()
            )));
        }
        if uri.object.is_none() && uri.id.is_none() {
            return Err(usage(format!(
                "{} names no key: add object=LABEL or id=%XX (`tuf key list` shows them)",
                uri.without_module()
            )));
        }
        Ok(Self { uri, pin })
    }
}

impl KeySource for Pkcs11KeySource {
    fn describe(&self) -> String {
        format!("token key {}", self.uri.without_module())
    }

    fn signer(&self) -> anyhow::Result<Box<dyn Signer>> {
        let token = Token::open(&self.uri, None)?;
        let session = token.session(false)?;
        let pin = token.login(&session, &self.pin)?;
        let private = token.the_private_key(&session, &self.uri)?;
        let (algorithm, public) = token.public_key_of_private(&session, &private)?;
        token.check_mechanism(algorithm)?;
        let keyid = public.key_id()?;
        let always_authenticate = session
            .get_attributes(private.handle, &[AttributeType::AlwaysAuthenticate])
            .ok()
            .is_some_and(|attrs| {
                attrs
                    .iter()
                    .any(|a| matches!(a, Attribute::AlwaysAuthenticate(true)))
            });
        Ok(Box::new(Pkcs11Signer {
            session: Mutex::new(session),
            key: private.handle,
            algorithm,
            public,
            keyid,
            // PKCS#11 v2.40 §4.9: a key with CKA_ALWAYS_AUTHENTICATE (YubiKey PIV slot 9c)
            // needs a context-specific login before every signature.
            context_pin: if always_authenticate { pin } else { None },
            what: self.describe(),
        }))
    }
}

/// The signature algorithms `tuf` makes with a token key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `ecdsa-sha2-nistp256` through `CKM_ECDSA`.
    EcdsaP256,
    /// `ed25519` through `CKM_EDDSA`.
    Ed25519,
}

impl Algorithm {
    fn mechanism_type(self) -> MechanismType {
        match self {
            Self::EcdsaP256 => MechanismType::ECDSA,
            Self::Ed25519 => MechanismType::EDDSA,
        }
    }
}

/// A private key on a token; signs through the token, keeps the session open.
pub struct Pkcs11Signer {
    session: Mutex<Session>,
    key: ObjectHandle,
    algorithm: Algorithm,
    public: PublicKey,
    keyid: KeyId,
    context_pin: Option<AuthPin>,
    what: String,
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("key", &self.what)
            .field("keyid", &self.keyid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Signer for Pkcs11Signer {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn key_id(&self) -> &KeyId {
        &self.keyid
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, tuf_core::Error> {
        let fail = |reason: String| tuf_core::Error::Signing {
            keyid: self.keyid.as_str().to_owned(),
            reason,
        };
        // One signature at a time per session (a PKCS#11 session is not thread-safe); a
        // poisoned lock only means another signature failed, the session is still usable.
        let session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pin) = &self.context_pin {
            session
                .login(UserType::ContextSpecific, Some(pin))
                .map_err(|e| fail(format!("{}: context-specific login: {e}", self.what)))?;
        }
        let signature = match self.algorithm {
            Algorithm::EcdsaP256 => {
                let digest = sha2::Sha256::digest(message);
                let raw = session
                    .sign(&Mechanism::Ecdsa, self.key, &digest)
                    .map_err(|e| fail(format!("{}: C_Sign (CKM_ECDSA): {e}", self.what)))?;
                ecdsa_raw_to_der(&raw).ok_or_else(|| {
                    fail(format!(
                        "{}: the token returned a {}-byte ECDSA signature, expected 64 \
                         (r || s over P-256)",
                        self.what,
                        raw.len()
                    ))
                })?
            }
            Algorithm::Ed25519 => session
                .sign(
                    &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                    self.key,
                    message,
                )
                .map_err(|e| fail(format!("{}: C_Sign (CKM_EDDSA): {e}", self.what)))?,
        };
        self.public.verify(message, &signature).map_err(|_| {
            fail(format!(
                "{}: the token's signature does not verify under the public key it holds \
                 beside the private key (do the public and private objects belong \
                 together?); nothing was signed",
                self.what
            ))
        })?;
        Ok(signature)
    }
}

/// One key `tuf key list` shows.
#[derive(Debug)]
pub struct ListedKey {
    /// The URI that names it (with the module path).
    pub uri: Pkcs11Uri,
    /// Its TUF public key, or why TUF cannot use it.
    pub public: Result<PublicKey, String>,
    /// Whether a private key object belongs to it: `None` when not logged in (private
    /// objects are usually hidden until then).
    pub has_private: Option<bool>,
}

/// One token `tuf key list` shows, with its keys.
#[derive(Debug)]
pub struct ListedToken {
    /// Label, manufacturer, model, serial.
    pub description: String,
    /// The keys on it that match the URI.
    pub keys: Vec<ListedKey>,
}

/// The keys on every present token that `uri` matches (`pkcs11:` for all), logging in
/// with `pin` if given (to see private objects).
pub fn list(
    uri: &Pkcs11Uri,
    module: Option<&Path>,
    pin: Option<&PinArgs>,
) -> anyhow::Result<Vec<ListedToken>> {
    let module = resolve_module(uri, module)?;
    let ctx = open_module(&module)?;
    let mut out = Vec::new();
    for (slot, info) in matching_tokens(&ctx, uri, &module)? {
        let token = Token {
            ctx: ctx.clone(),
            module: module.clone(),
            slot,
            info,
        };
        let session = token.session(false)?;
        let logged_in = match pin {
            Some(pin) => {
                token.login(&session, pin)?;
                true
            }
            None => false,
        };
        let keys = token.keys(&session, uri, logged_in)?;
        out.push(ListedToken {
            description: token.describe(),
            keys,
        });
    }
    Ok(out)
}

/// The TUF public key of the one key `uri` names (for `tuf key export`), and the URI
/// that names it exactly.
pub fn export(
    uri: &Pkcs11Uri,
    module: Option<&Path>,
    pin: Option<&PinArgs>,
) -> anyhow::Result<(PublicKey, Pkcs11Uri)> {
    if uri.object.is_none() && uri.id.is_none() {
        return Err(usage(format!(
            "{} names no key: add object=LABEL or id=%XX (`tuf key list` shows them)",
            uri.without_module()
        )));
    }
    let token = Token::open(uri, module)?;
    let session = token.session(false)?;
    if let Some(pin) = pin {
        token.login(&session, pin)?;
    }
    let mut keys = token.keys(&session, uri, pin.is_some())?;
    let key = match keys.len() {
        1 => keys.remove(0),
        0 => {
            return Err(err(
                Code::KeyRefused,
                format!(
                    "no public key matching {} on token {}{}; `tuf key list` shows the keys \
                     it holds",
                    uri.without_module(),
                    token.describe(),
                    if pin.is_some() {
                        ""
                    } else {
                        " (if the token shows its keys only after login, add --login)"
                    }
                ),
            ))
        }
        n => {
            return Err(usage(format!(
                "{n} keys on token {} match {}; add id=%XX to pick one (`tuf key list` \
                 shows them)",
                token.describe(),
                uri.without_module()
            )))
        }
    };
    let public = key.public.map_err(|reason| {
        err(
            Code::KeyRefused,
            format!("{}: {reason}", key.uri.without_module()),
        )
    })?;
    Ok((public, key.uri))
}

/// Generate a key pair on the token `uri` names, labelled with its `object` (and `id`,
/// else a random one); the private key is sensitive and not extractable. Returns its
/// public key and the URI that names it.
pub fn generate(
    uri: &Pkcs11Uri,
    module: Option<&Path>,
    pin: &PinArgs,
    kind: KeyType,
) -> anyhow::Result<(PublicKey, Pkcs11Uri)> {
    let Some(label) = uri.object.clone() else {
        return Err(usage(format!(
            "{} has no object=LABEL: name the new key, e.g. `;object=tuf-root`",
            uri.without_module()
        )));
    };
    if uri.token.is_none() && uri.serial.is_none() && uri.slot_id.is_none() {
        return Err(usage(format!(
            "{} names no token: add token=LABEL (`tuf key list --module ...` shows them), \
             so the key is made where you mean",
            uri.without_module()
        )));
    }
    let token = Token::open(uri, module)?;
    let session = token.session(true)?;
    token.login(&session, pin)?;
    let existing = session
        .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
        .map_err(|e| token.failure("looking for existing keys", &e))?;
    if !existing.is_empty() {
        return Err(usage(format!(
            "token {} already holds an object labelled {label:?}; choose another object= \
             (a key is never replaced)",
            token.describe()
        )));
    }
    let id = match &uri.id {
        Some(id) => {
            let clash = session
                .find_objects(&[Attribute::Id(id.clone())])
                .map_err(|e| token.failure("looking for existing keys", &e))?;
            if !clash.is_empty() {
                return Err(usage(format!(
                    "token {} already holds an object with that id=; choose another",
                    token.describe()
                )));
            }
            id.clone()
        }
        None => {
            let mut id = vec![0u8; 8];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut id)
                .map_err(|_| anyhow::anyhow!("no randomness available for the key id"))?;
            id
        }
    };
    let (mechanism, params, algorithm) = match kind {
        KeyType::EcdsaP256 => (
            Mechanism::EccKeyPairGen,
            EC_PARAMS_P256,
            Algorithm::EcdsaP256,
        ),
        KeyType::Ed25519 => (
            Mechanism::EccEdwardsKeyPairGen,
            EC_PARAMS_ED25519,
            Algorithm::Ed25519,
        ),
    };
    token.check_mechanism(algorithm)?;
    let common = [
        Attribute::Token(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
    ];
    let mut public_template = common.to_vec();
    public_template.extend([
        Attribute::Verify(true),
        Attribute::EcParams(params.to_vec()),
    ]);
    let mut private_template = common.to_vec();
    private_template.extend([
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
    ]);
    let (public_handle, _) = session
        .generate_key_pair(&mechanism, &public_template, &private_template)
        .map_err(|e| token.failure("generating the key pair", &e))?;
    let (_, public) = token
        .public_key(&session, public_handle)?
        .map_err(|reason| err(Code::Failure, format!("the new key: {reason}")))?;
    let named = Pkcs11Uri {
        token: Some(token.info.label().to_owned()),
        object: Some(label),
        id: Some(id),
        module_path: Some(token.module.clone()),
        ..Pkcs11Uri::default()
    };
    Ok((public, named))
}

/// Parse a `pkcs11:` key reference; a syntax error is a usage error.
fn parse_uri(text: &str) -> anyhow::Result<Pkcs11Uri> {
    Pkcs11Uri::parse(text).map_err(|e| usage(format!("bad PKCS#11 URI: {e}")))
}

/// Parse the URI of `tuf key list` / `export` / `generate`.
pub fn parse_key_uri(text: &str) -> anyhow::Result<Pkcs11Uri> {
    parse_uri(text)
}

/// The module: the URI's `module-path`, else `flag` (`--module`), else [`MODULE_ENV`].
fn resolve_module(uri: &Pkcs11Uri, flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    match (&uri.module_path, flag) {
        (Some(a), Some(b)) if a != b => Err(usage(format!(
            "the URI's module-path {} and --module {} differ; give one",
            a.display(),
            b.display()
        ))),
        (Some(path), _) => Ok(path.clone()),
        (None, Some(path)) => Ok(path.to_owned()),
        (None, None) => match std::env::var_os(MODULE_ENV) {
            Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
            _ => Err(usage(format!(
                "which PKCS#11 module? Add `?module-path=/path/to/module.so` to the URI, \
                 give --module, or set {MODULE_ENV} (e.g. /usr/lib/x86_64-linux-gnu/libykcs11.so \
                 for a YubiKey, /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so for OpenSC cards \
                 and Nitrokeys, /usr/lib/softhsm/libsofthsm2.so for SoftHSM2)"
            ))),
        },
    }
}

/// Load and initialise a PKCS#11 module.
fn open_module(path: &Path) -> anyhow::Result<Pkcs11> {
    if !path.is_file() {
        return Err(err(
            Code::KeyRefused,
            format!(
                "PKCS#11 module {} does not exist: install the token's package (yubico-piv-tool \
                 or ykcs11 for a YubiKey, opensc for a Nitrokey or smart card, softhsm2 for \
                 SoftHSM2) or correct the path",
                path.display()
            ),
        ));
    }
    let ctx = Pkcs11::new(path).map_err(|e| {
        err(
            Code::KeyRefused,
            format!(
                "cannot load {} as a PKCS#11 module ({e}); give the path of the vendor's \
                 PKCS#11 library (a .so exporting C_GetFunctionList)",
                path.display()
            ),
        )
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Loaded before in this process (the module is the same library): usable as is.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(ctx),
        Err(e) => Err(err(
            Code::KeyRefused,
            format!(
                "PKCS#11 module {} failed to initialise: {e}",
                path.display()
            ),
        )),
    }
}

/// The present tokens `uri`'s token attributes match.
fn matching_tokens(
    ctx: &Pkcs11,
    uri: &Pkcs11Uri,
    module: &Path,
) -> anyhow::Result<Vec<(Slot, TokenInfo)>> {
    // Initialised tokens only: SoftHSM2 always offers a blank one to initialise.
    let slots = ctx.get_slots_with_initialized_token().map_err(|e| {
        err(
            Code::KeyRefused,
            format!("listing the slots of {}: {e}", module.display()),
        )
    })?;
    let mut matching = Vec::new();
    let mut seen = Vec::new();
    for slot in slots {
        let Ok(info) = ctx.get_token_info(slot) else {
            continue; // removed between the two calls
        };
        seen.push(format!("{:?}", info.label()));
        let wanted =
            |want: &Option<String>, have: &str| want.as_deref().map_or(true, |w| w == have);
        if wanted(&uri.token, info.label())
            && wanted(&uri.manufacturer, info.manufacturer_id())
            && wanted(&uri.model, info.model())
            && wanted(&uri.serial, info.serial_number())
            && uri.slot_id.map_or(true, |id| id == slot.id())
        {
            matching.push((slot, info));
        }
    }
    if matching.is_empty() {
        let wanted = Pkcs11Uri {
            token: uri.token.clone(),
            manufacturer: uri.manufacturer.clone(),
            model: uri.model.clone(),
            serial: uri.serial.clone(),
            slot_id: uri.slot_id,
            ..Pkcs11Uri::default()
        };
        return Err(err(
            Code::KeyRefused,
            if seen.is_empty() {
                format!(
                    "no token is present in any slot of {}: plug the token in (is pcscd \
                     running?) and try again",
                    module.display()
                )
            } else {
                format!(
                    "no token matching {wanted} is present (present: {}); plug in the right \
                     token or check the URI's token= label",
                    seen.join(", ")
                )
            },
        ));
    }
    Ok(matching)
}

/// A private key object found on a token.
struct FoundKey {
    handle: ObjectHandle,
    label: Option<String>,
    id: Option<Vec<u8>>,
}

/// One token of a loaded module.
struct Token {
    ctx: Pkcs11,
    module: PathBuf,
    slot: Slot,
    info: TokenInfo,
}

impl Token {
    /// The one present token `uri` names.
    fn open(uri: &Pkcs11Uri, module: Option<&Path>) -> anyhow::Result<Self> {
        let module = resolve_module(uri, module)?;
        let ctx = open_module(&module)?;
        let mut tokens = matching_tokens(&ctx, uri, &module)?;
        if tokens.len() > 1 {
            let labels: Vec<String> = tokens
                .iter()
                .map(|(_, info)| format!("{:?} (serial {})", info.label(), info.serial_number()))
                .collect();
            return Err(usage(format!(
                "{} tokens match {}: {}; add token= or serial= to pick one",
                tokens.len(),
                uri.without_module(),
                labels.join(", ")
            )));
        }
        let (slot, info) = tokens.remove(0);
        Ok(Self {
            ctx,
            module,
            slot,
            info,
        })
    }

    fn describe(&self) -> String {
        format!(
            "{:?} ({} {}, serial {})",
            self.info.label(),
            self.info.manufacturer_id(),
            self.info.model(),
            self.info.serial_number()
        )
    }

    fn failure(&self, doing: &str, e: &CkError) -> anyhow::Error {
        err(
            Code::KeyRefused,
            format!("token {}: {doing}: {e}", self.describe()),
        )
    }

    fn session(&self, read_write: bool) -> anyhow::Result<Session> {
        let opened = if read_write {
            self.ctx.open_rw_session(self.slot)
        } else {
            self.ctx.open_ro_session(self.slot)
        };
        opened.map_err(|e| match e {
            CkError::Pkcs11(RvError::TokenNotPresent | RvError::DeviceRemoved, _) => err(
                Code::KeyRefused,
                format!(
                    "token {} was removed; plug it in and try again",
                    self.describe()
                ),
            ),
            e => self.failure("opening a session", &e),
        })
    }

    /// Log the user in with the PIN from `pin`. Returns the PIN (for keys that need it
    /// again before each signature); `None` on a PIN pad.
    fn login(&self, session: &Session, pin: &PinArgs) -> anyhow::Result<Option<AuthPin>> {
        // Fresh flags: the count of wrong PINs is the token's, kept across sessions.
        let info = self
            .ctx
            .get_token_info(self.slot)
            .unwrap_or_else(|_| self.info.clone());
        if info.user_pin_locked() {
            return Err(pin_locked(&self.describe()));
        }
        let warning = pin_tries_warning(&info)
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        let (result, pin) = if info.protected_authentication_path() {
            eprintln!(
                "enter the PIN of token {} on its PIN pad{warning}",
                self.describe()
            );
            (session.login(UserType::User, None), None)
        } else {
            let pin = pin.pin(self.info.label(), &warning)?;
            (session.login(UserType::User, Some(&pin)), Some(pin))
        };
        match result {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(pin),
            Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                let after = self.ctx.get_token_info(self.slot).ok();
                if after.as_ref().is_some_and(TokenInfo::user_pin_locked) {
                    return Err(pin_locked(&self.describe()));
                }
                let tries = after
                    .as_ref()
                    .and_then(pin_tries_warning)
                    .map(|w| format!("; {w}"))
                    .unwrap_or_default();
                Err(err(
                    Code::KeyRefused,
                    format!(
                        "wrong PIN for token {}{tries}. Nothing was signed",
                        self.describe()
                    ),
                ))
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(pin_locked(&self.describe())),
            Err(CkError::Pkcs11(RvError::PinLenRange | RvError::PinInvalid, _)) => Err(err(
                Code::KeyRefused,
                format!(
                    "token {} refuses that PIN's length or characters (it takes {} to {} \
                         characters); nothing was signed",
                    self.describe(),
                    self.info.min_pin_length(),
                    self.info.max_pin_length()
                ),
            )),
            Err(CkError::Pkcs11(RvError::UserPinNotInitialized, _)) => Err(err(
                Code::KeyRefused,
                format!(
                    "token {} has no user PIN set yet; initialise it with the vendor's tool",
                    self.describe()
                ),
            )),
            Err(e) => Err(self.failure("logging in", &e)),
        }
    }

    fn check_mechanism(&self, algorithm: Algorithm) -> anyhow::Result<()> {
        let wanted = algorithm.mechanism_type();
        let offered = self
            .ctx
            .get_mechanism_list(self.slot)
            .map_err(|e| self.failure("listing its mechanisms", &e))?;
        if offered.contains(&wanted) {
            return Ok(());
        }
        Err(err(
            Code::KeyRefused,
            format!(
                "token {} does not offer {wanted} (needed for {}); use a key type it \
                 supports (ecdsa-p256 is the most widely supported)",
                self.describe(),
                match algorithm {
                    Algorithm::EcdsaP256 => "ecdsa-sha2-nistp256",
                    Algorithm::Ed25519 => "ed25519",
                }
            ),
        ))
    }

    /// Object handles of class `class` matching `uri`'s object and id.
    fn find(
        &self,
        session: &Session,
        class: ObjectClass,
        uri: &Pkcs11Uri,
    ) -> anyhow::Result<Vec<ObjectHandle>> {
        let mut template = vec![Attribute::Class(class)];
        if let Some(label) = &uri.object {
            template.push(Attribute::Label(label.as_bytes().to_vec()));
        }
        if let Some(id) = &uri.id {
            template.push(Attribute::Id(id.clone()));
        }
        session
            .find_objects(&template)
            .map_err(|e| self.failure("searching for keys", &e))
    }

    fn label_and_id(&self, session: &Session, handle: ObjectHandle) -> FoundKey {
        let mut found = FoundKey {
            handle,
            label: None,
            id: None,
        };
        if let Ok(attrs) =
            session.get_attributes(handle, &[AttributeType::Label, AttributeType::Id])
        {
            for attr in attrs {
                match attr {
                    Attribute::Label(l) if !l.is_empty() => {
                        found.label = Some(String::from_utf8_lossy(&l).into_owned());
                    }
                    Attribute::Id(id) if !id.is_empty() => found.id = Some(id),
                    _ => {}
                }
            }
        }
        found
    }

    /// The one private key `uri` names.
    fn the_private_key(&self, session: &Session, uri: &Pkcs11Uri) -> anyhow::Result<FoundKey> {
        let mut handles = self.find(session, ObjectClass::PRIVATE_KEY, uri)?;
        match handles.len() {
            1 => Ok(self.label_and_id(session, handles.remove(0))),
            0 => {
                let all = self.find(session, ObjectClass::PRIVATE_KEY, &Pkcs11Uri::default())?;
                let names: Vec<String> = all
                    .into_iter()
                    .map(|h| self.label_and_id(session, h))
                    .map(|k| object_name(k.label.as_deref(), k.id.as_deref()))
                    .collect();
                Err(err(
                    Code::KeyRefused,
                    format!(
                        "no private key matching {} on token {} (private keys there: {}); \
                         check object= and id= (`tuf key list --login` shows them)",
                        uri.without_module(),
                        self.describe(),
                        if names.is_empty() {
                            "none".to_owned()
                        } else {
                            names.join(", ")
                        }
                    ),
                ))
            }
            n => Err(usage(format!(
                "{n} private keys on token {} match {}; add id=%XX to pick one",
                self.describe(),
                uri.without_module()
            ))),
        }
    }

    /// The public key object beside a private key (same `CKA_ID`, else same label), as a
    /// TUF key.
    fn public_key_of_private(
        &self,
        session: &Session,
        private: &FoundKey,
    ) -> anyhow::Result<(Algorithm, PublicKey)> {
        let what = object_name(private.label.as_deref(), private.id.as_deref());
        let by = Pkcs11Uri {
            id: private.id.clone(),
            object: if private.id.is_none() {
                private.label.clone()
            } else {
                None
            },
            ..Pkcs11Uri::default()
        };
        if by.id.is_none() && by.object.is_none() {
            return Err(err(
                Code::KeyRefused,
                format!(
                    "the private key on token {} has neither id nor label, so its public key \
                     cannot be found",
                    self.describe()
                ),
            ));
        }
        let handles = self.find(session, ObjectClass::PUBLIC_KEY, &by)?;
        let [handle] = handles.as_slice() else {
            return Err(err(
                Code::KeyRefused,
                format!(
                    "key {what} on token {}: {} public key objects beside it, expected one \
                     (tuf needs the public key to compute the key id; import it beside the \
                     private key with the same id)",
                    self.describe(),
                    handles.len()
                ),
            ));
        };
        self.public_key(session, *handle)?.map_err(|reason| {
            err(
                Code::KeyRefused,
                format!(
                    "key {what} on token {}: {reason}; nothing was signed",
                    self.describe()
                ),
            )
        })
    }

    /// The TUF public key of a public key object, or (inner `Err`) why TUF cannot use it.
    fn public_key(
        &self,
        session: &Session,
        handle: ObjectHandle,
    ) -> anyhow::Result<Result<(Algorithm, PublicKey), String>> {
        let attrs = session
            .get_attributes(
                handle,
                &[
                    AttributeType::KeyType,
                    AttributeType::EcParams,
                    AttributeType::EcPoint,
                ],
            )
            .map_err(|e| self.failure("reading a public key", &e))?;
        let mut key_type = None;
        let mut params = None;
        let mut point = None;
        for attr in attrs {
            match attr {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::EcParams(p) => params = Some(p),
                Attribute::EcPoint(p) => point = Some(p),
                _ => {}
            }
        }
        let kind = match key_type {
            Some(t) if t == CkKeyType::EC => TokenKeyType::Ec,
            Some(t) if t == CkKeyType::EC_EDWARDS => TokenKeyType::EcEdwards,
            Some(t) if t == CkKeyType::RSA => TokenKeyType::Rsa,
            Some(t) => TokenKeyType::Other(t.to_string()),
            None => TokenKeyType::Other("unknown".to_owned()),
        };
        Ok(public_key_from_token(
            &kind,
            params.as_deref(),
            point.as_deref(),
        ))
    }

    /// Every key on the token matching `uri`: its public key objects, and (when logged
    /// in) private keys with no public key object beside them.
    fn keys(
        &self,
        session: &Session,
        uri: &Pkcs11Uri,
        logged_in: bool,
    ) -> anyhow::Result<Vec<ListedKey>> {
        let mut out = Vec::new();
        let privates: Vec<FoundKey> = if logged_in {
            self.find(session, ObjectClass::PRIVATE_KEY, uri)?
                .into_iter()
                .map(|h| self.label_and_id(session, h))
                .collect()
        } else {
            Vec::new()
        };
        let mut paired = vec![false; privates.len()];
        for handle in self.find(session, ObjectClass::PUBLIC_KEY, uri)? {
            let found = self.label_and_id(session, handle);
            let public = self.public_key(session, handle)?.map(|(_, key)| key);
            let has_private = logged_in.then(|| {
                let mut any = false;
                for (k, done) in privates.iter().zip(paired.iter_mut()) {
                    let same = match (&k.id, &found.id) {
                        (Some(a), Some(b)) => a == b,
                        _ => k.label.is_some() && k.label == found.label,
                    };
                    if same {
                        *done = true;
                        any = true;
                    }
                }
                any
            });
            out.push(ListedKey {
                uri: self.uri_of(&found),
                public,
                has_private,
            });
        }
        for (k, done) in privates.iter().zip(&paired) {
            if !done {
                out.push(ListedKey {
                    uri: self.uri_of(k),
                    public: Err("no public key object beside this private key, so its key \
                                 id is unknown"
                        .to_owned()),
                    has_private: Some(true),
                });
            }
        }
        Ok(out)
    }

    /// The URI that names the key pair `key` belongs to, for signing: by `CKA_ID` when
    /// it has one, since that is what ties a private key to its public key (PKCS#11
    /// v2.40 §4.4); their labels may differ (ykcs11: "Private key for ..." and "Public
    /// key for ..."), so a public key's label could name no private key.
    fn uri_of(&self, key: &FoundKey) -> Pkcs11Uri {
        Pkcs11Uri {
            token: Some(self.info.label().to_owned()),
            object: if key.id.is_some() {
                None
            } else {
                key.label.clone()
            },
            id: key.id.clone(),
            module_path: Some(self.module.clone()),
            ..Pkcs11Uri::default()
        }
    }
}

fn object_name(label: Option<&str>, id: Option<&[u8]>) -> String {
    match (label, id) {
        (Some(l), Some(id)) => format!("{l:?} (id {})", hex::encode(id)),
        (Some(l), None) => format!("{l:?}"),
        (None, Some(id)) => format!("id {}", hex::encode(id)),
        (None, None) => "(no label, no id)".to_owned(),
    }
}

fn pin_locked(token: &str) -> anyhow::Error {
    err(
        Code::KeyRefused,
        format!(
            "the user PIN of token {token} is locked after too many wrong PINs; nothing was \
             signed. Unblock it with the PUK or SO PIN using the vendor's tool (YubiKey: \
             `ykman piv access unblock-pin`)"
        ),
    )
}

/// What the token's flags say about PIN tries left (PKCS#11 v2.40 §5.2, CK_TOKEN_INFO).
fn pin_tries_warning(info: &TokenInfo) -> Option<&'static str> {
    if info.user_pin_final_try() {
        Some("the token says one try is left before the PIN locks")
    } else if info.user_pin_count_low() {
        Some("the token says few tries are left before the PIN locks")
    } else {
        None
    }
}

/// `CKA_KEY_TYPE` of a token key, as far as TUF cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKeyType {
    /// `CKK_EC` (ECDSA).
    Ec,
    /// `CKK_EC_EDWARDS` (EdDSA).
    EcEdwards,
    /// `CKK_RSA`.
    Rsa,
    /// Anything else, by name.
    Other(String),
}

/// The TUF public key of a token key from its type, `CKA_EC_PARAMS` and `CKA_EC_POINT`
/// (each as the token returned it), or why TUF cannot sign with it.
///
/// `CKA_EC_POINT` is a DER OCTET STRING holding the point (PKCS#11 v2.40 §2.3.3); some
/// tokens return the bare point, which is accepted when its length and form are
/// unambiguous. Ed25519's `CKA_EC_PARAMS` is the RFC 8410 OID or the PrintableString
/// `edwards25519` (PKCS#11 v3.0 §2.3.10).
pub fn public_key_from_token(
    kind: &TokenKeyType,
    ec_params: Option<&[u8]>,
    ec_point: Option<&[u8]>,
) -> Result<(Algorithm, PublicKey), String> {
    // A value of exactly the bare key's size (and, for P-256, form) is the bare key: such
    // bytes can also parse as a DER OCTET STRING (`04 3f …` is one of 63 bytes, 65 in all,
    // for one P-256 key in 256), and a wrapped key is never that size (67 and 34 bytes).
    let point = |is_bare: fn(&[u8]) -> bool| {
        let raw = ec_point.ok_or("the token gives no CKA_EC_POINT for it")?;
        if is_bare(raw) {
            return Ok::<_, String>(raw.to_vec());
        }
        Ok(der::asn1::OctetStringRef::from_der(raw)
            .map(|o| o.as_bytes().to_vec())
            .unwrap_or_else(|_| raw.to_vec()))
    };
    match kind {
        TokenKeyType::Ec => {
            let params = ec_params.ok_or("the token gives no CKA_EC_PARAMS for it")?;
            if params != EC_PARAMS_P256 {
                let curve = der::asn1::ObjectIdentifier::from_der(params)
                    .map(|oid| match oid.to_string().as_str() {
                        "1.3.132.0.34" => "P-384 (1.3.132.0.34)".to_owned(),
                        "1.3.132.0.35" => "P-521 (1.3.132.0.35)".to_owned(),
                        "1.3.132.0.10" => "secp256k1 (1.3.132.0.10)".to_owned(),
                        other => other.to_owned(),
                    })
                    .unwrap_or_else(|_| "an unnamed curve".to_owned());
                return Err(format!(
                    "it is an ECDSA key on curve {curve}; TUF's ecdsa-sha2-nistp256 needs \
                     P-256 (prime256v1, secp256r1)"
                ));
            }
            let point = point(|raw| raw.len() == 65 && raw.first() == Some(&0x04))?;
            if point.len() != 65 || point.first() != Some(&0x04) {
                return Err(format!(
                    "its CKA_EC_POINT is not an uncompressed P-256 point ({} bytes)",
                    point.len()
                ));
            }
            let key = PublicKey::ecdsa_p256(&point).map_err(|e| e.to_string())?;
            key.validate().map_err(|e| e.to_string())?;
            Ok((Algorithm::EcdsaP256, key))
        }
        TokenKeyType::EcEdwards => {
            let params = ec_params.ok_or("the token gives no CKA_EC_PARAMS for it")?;
            let is_ed25519 = params == EC_PARAMS_ED25519
                || der::asn1::PrintableStringRef::from_der(params)
                    .is_ok_and(|s| s.as_str() == CURVE_NAME_ED25519);
            if !is_ed25519 {
                return Err(
                    "it is an EdDSA key on a curve other than Ed25519 (Ed448?); TUF's \
                     ed25519 scheme needs Ed25519"
                        .to_owned(),
                );
            }
            let point = point(|raw| raw.len() == 32)?;
            let bytes: [u8; 32] = point.as_slice().try_into().map_err(|_| {
                format!(
                    "its CKA_EC_POINT is {} bytes, not a 32-byte Ed25519 key",
                    point.len()
                )
            })?;
            let key = PublicKey::ed25519(&bytes);
            key.validate().map_err(|e| e.to_string())?;
            Ok((Algorithm::Ed25519, key))
        }
        TokenKeyType::Rsa => Err("it is an RSA key; `tuf` signs with ed25519 or \
                                  ecdsa-sha2-nistp256 keys (make one with `tuf key generate \
                                  'pkcs11:...' --type ecdsa-p256`)"
            .to_owned()),
        TokenKeyType::Other(name) => Err(format!(
            "it is a {name} key; `tuf` signs with ed25519 or ecdsa-sha2-nistp256 keys"
        )),
    }
}

/// An ECDSA signature as PKCS#11 returns it (`r || s`, 32 bytes each for P-256) as the
/// DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3) that
/// `ecdsa-sha2-nistp256` signatures are in TUF metadata. `None` unless 64 bytes.
pub fn ecdsa_raw_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.len() != 64 {
        return None;
    }
    let (r, s) = raw.split_at(32);
    let mut body = Vec::with_capacity(70);
    der_unsigned_integer(r, &mut body);
    der_unsigned_integer(s, &mut body);
    // INVARIANT: each INTEGER is at most 2 + 33 bytes, so the body is under 128 bytes and
    // takes the short length form (X.690 §8.1.3.4).
    let len = u8::try_from(body.len()).ok().filter(|l| *l < 0x80)?;
    let mut out = Vec::with_capacity(body.len() + 2);
    out.push(0x30);
    out.push(len);
    out.extend_from_slice(&body);
    Some(out)
}

/// A big-endian unsigned number of at most 32 bytes as a DER INTEGER: minimal (leading
/// zeros dropped, X.690 §8.3.2) and positive (a 0x00 in front of a set top bit).
fn der_unsigned_integer(bytes: &[u8], out: &mut Vec<u8>) {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let digits = bytes.get(start..).unwrap_or_default();
    let pad = digits.first().map_or(true, |b| b & 0x80 != 0);
    out.push(0x02);
    // INVARIANT: digits.len() <= 32, so the length fits a byte in short form.
    out.push(u8::try_from(digits.len() + usize::from(pad)).unwrap_or(0x7f));
    if pad {
        out.push(0);
    }
    out.extend_from_slice(digits);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{self as ring_sig, KeyPair as _};

    /// A signature through the PKCS#11 path (fixed `r || s` over the SHA-256 digest, as
    /// `CKM_ECDSA` returns it) verifies through tuf-core's one verifier once re-encoded.
    #[test]
    fn raw_ecdsa_signature_as_der_verifies_with_tuf_core() {
        let rng = ring::rand::SystemRandom::new();
        let doc = ring_sig::EcdsaKeyPair::generate_pkcs8(
            &ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        let pair = ring_sig::EcdsaKeyPair::from_pkcs8(
            &ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            doc.as_ref(),
            &rng,
        )
        .unwrap();
        let public = PublicKey::ecdsa_p256(pair.public_key().as_ref()).unwrap();
        // Many signatures, so r or s with a high bit set or a leading zero byte occur.
        let mut saw_pad = false;
        for i in 0..200u32 {
            let message = format!("signed bytes {i}");
            let raw = pair.sign(&rng, message.as_bytes()).unwrap();
            let der = ecdsa_raw_to_der(raw.as_ref()).unwrap();
            saw_pad |= der.get(4) == Some(&0);
            public.verify(message.as_bytes(), &der).unwrap();
            assert!(public.verify(b"other bytes", &der).is_err());
        }
        assert!(saw_pad, "no r with its top bit set in 200 signatures");
        assert_eq!(ecdsa_raw_to_der(&[1; 63]), None);
        assert_eq!(ecdsa_raw_to_der(&[1; 65]), None);
    }

    #[test]
    fn der_integers_are_minimal_and_positive() {
        let mut out = Vec::new();
        der_unsigned_integer(&[0, 0, 0x7f], &mut out);
        assert_eq!(out, [0x02, 0x01, 0x7f]);
        out.clear();
        der_unsigned_integer(&[0, 0x80], &mut out);
        assert_eq!(out, [0x02, 0x02, 0x00, 0x80]);
        out.clear();
        der_unsigned_integer(&[0, 0], &mut out);
        assert_eq!(out, [0x02, 0x01, 0x00]);
        let mut raw = [0u8; 64];
        raw[31] = 1;
        raw[32] = 0xff;
        // r = 1 (one byte), s = 0xff00..00 (a 0x00 in front of its set top bit).
        let mut expected = vec![0x30, 38, 0x02, 0x01, 0x01, 0x02, 33, 0x00, 0xff];
        expected.extend_from_slice(&[0; 31]);
        assert_eq!(ecdsa_raw_to_der(&raw).unwrap(), expected);
    }

    /// A bare point whose second byte happens to be a DER length that fits (`04 3f ...`:
    /// an OCTET STRING of 63 bytes, 65 in all; an Ed25519 key `04 1e ...`) is the bare
    /// point, not a wrapped one: one random P-256 key in 256 starts its X so.
    #[test]
    fn a_bare_point_that_also_parses_as_der_is_taken_bare() {
        let rng = ring::rand::SystemRandom::new();
        let point = loop {
            let doc = ring_sig::EcdsaKeyPair::generate_pkcs8(
                &ring_sig::ECDSA_P256_SHA256_ASN1_SIGNING,
                &rng,
            )
            .unwrap();
            let pair = ring_sig::EcdsaKeyPair::from_pkcs8(
                &ring_sig::ECDSA_P256_SHA256_ASN1_SIGNING,
                doc.as_ref(),
                &rng,
            )
            .unwrap();
            let point = pair.public_key().as_ref().to_vec();
            if point[1] == 0x3f {
                break point;
            }
        };
        let (_, bare) =
            public_key_from_token(&TokenKeyType::Ec, Some(EC_PARAMS_P256), Some(&point)).unwrap();
        let mut wrapped = vec![0x04, 0x41];
        wrapped.extend_from_slice(&point);
        let (_, from_wrapped) =
            public_key_from_token(&TokenKeyType::Ec, Some(EC_PARAMS_P256), Some(&wrapped)).unwrap();
        assert_eq!(bare.key_id().unwrap(), from_wrapped.key_id().unwrap());

        // Ed25519: 32 bytes `04 1e ...` are also an OCTET STRING of 30 bytes. Of these
        // candidates, those that are curve points must be taken whole.
        let accepted: Vec<([u8; 32], PublicKey)> = (0u8..=255)
            .filter_map(|i| {
                let mut raw = [0u8; 32];
                raw[0] = 0x04;
                raw[1] = 0x1e;
                raw[2] = i;
                public_key_from_token(
                    &TokenKeyType::EcEdwards,
                    Some(EC_PARAMS_ED25519),
                    Some(&raw),
                )
                .ok()
                .map(|(_, key)| (raw, key))
            })
            .collect();
        assert!(
            !accepted.is_empty(),
            "no candidate was taken as an Ed25519 key"
        );
        for (raw, key) in accepted {
            assert_eq!(key.keyval.public, hex::encode(raw));
        }
    }

    #[test]
    fn token_public_keys_match_file_keys_and_others_are_refused() {
        // Ed25519: wrapped in an OCTET STRING (SoftHSM2) or bare, OID or curve name.
        let ed = tuf_core::crypto::Ed25519Signer::from_seed(&[3; 32]).unwrap();
        let raw = hex::decode(&ed.public_key().keyval.public).unwrap();
        let mut wrapped = vec![0x04, 0x20];
        wrapped.extend_from_slice(&raw);
        let printable = [&[0x13, 0x0c][..], CURVE_NAME_ED25519.as_bytes()].concat();
        for (params, point) in [(EC_PARAMS_ED25519, &wrapped), (&printable[..], &raw)] {
            let (alg, key) =
                public_key_from_token(&TokenKeyType::EcEdwards, Some(params), Some(point)).unwrap();
            assert_eq!(alg, Algorithm::Ed25519);
            assert_eq!(key.key_id().unwrap(), *ed.key_id());
        }
        // P-256, wrapped and bare: the key id of the same key from a file.
        let rng = ring::rand::SystemRandom::new();
        let doc =
            ring_sig::EcdsaKeyPair::generate_pkcs8(&ring_sig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                .unwrap();
        let file = tuf_core::crypto::EcdsaP256Signer::from_pkcs8_der(
            doc.as_ref(),
            crate::keys::system_random(),
        )
        .unwrap();
        let pair = ring_sig::EcdsaKeyPair::from_pkcs8(
            &ring_sig::ECDSA_P256_SHA256_ASN1_SIGNING,
            doc.as_ref(),
            &rng,
        )
        .unwrap();
        let point = pair.public_key().as_ref().to_vec();
        let mut wrapped = vec![0x04, 0x41];
        wrapped.extend_from_slice(&point);
        for p in [&wrapped, &point] {
            let (alg, key) =
                public_key_from_token(&TokenKeyType::Ec, Some(EC_PARAMS_P256), Some(p)).unwrap();
            assert_eq!(alg, Algorithm::EcdsaP256);
            assert_eq!(key.key_id().unwrap(), *file.key_id());
        }
        // Refused, each with its reason.
        let p384 = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
        let e = public_key_from_token(&TokenKeyType::Ec, Some(&p384), Some(&wrapped)).unwrap_err();
        assert!(e.contains("P-384"), "{e}");
        let e = public_key_from_token(&TokenKeyType::Rsa, None, None).unwrap_err();
        assert!(e.contains("RSA"), "{e}");
        let e =
            public_key_from_token(&TokenKeyType::EcEdwards, Some(&p384), Some(&raw)).unwrap_err();
        assert!(e.contains("Ed25519"), "{e}");
        let e = public_key_from_token(&TokenKeyType::Ec, Some(EC_PARAMS_P256), Some(&[4; 33]))
            .unwrap_err();
        assert!(e.contains("uncompressed"), "{e}");
        let e = public_key_from_token(&TokenKeyType::Ec, Some(EC_PARAMS_P256), None).unwrap_err();
        assert!(e.contains("CKA_EC_POINT"), "{e}");
        let e = public_key_from_token(&TokenKeyType::Other("DSA".into()), None, None).unwrap_err();
        assert!(e.contains("DSA"), "{e}");
    }

    #[test]
    fn module_comes_from_the_uri_then_the_flag() {
        let uri = Pkcs11Uri::parse("pkcs11:token=a?module-path=/m.so").unwrap();
        assert_eq!(resolve_module(&uri, None).unwrap(), Path::new("/m.so"));
        assert_eq!(
            resolve_module(&uri, Some(Path::new("/m.so"))).unwrap(),
            Path::new("/m.so")
        );
        let e = resolve_module(&uri, Some(Path::new("/other.so"))).unwrap_err();
        assert_eq!(crate::exit::code_of(&e), Code::Usage);
        let bare = Pkcs11Uri::parse("pkcs11:token=a").unwrap();
        assert_eq!(
            resolve_module(&bare, Some(Path::new("/f.so"))).unwrap(),
            Path::new("/f.so")
        );
    }

    #[test]
    fn a_key_reference_must_name_a_private_key() {
        let e = Pkcs11KeySource::parse("pkcs11:token=a", PinArgs::default()).unwrap_err();
        assert_eq!(crate::exit::code_of(&e), Code::Usage);
        let e = Pkcs11KeySource::parse("pkcs11:token=a;object=k;type=public", PinArgs::default())
            .unwrap_err();
        assert!(e.to_string().contains("private"), "{e}");
        let e = Pkcs11KeySource::parse("pkcs11:object=k?pin-value=1234", PinArgs::default())
            .unwrap_err();
        assert_eq!(crate::exit::code_of(&e), Code::Usage);
        assert!(!e.to_string().contains("1234"), "{e}");
        let ok = Pkcs11KeySource::parse("pkcs11:token=a;object=k", PinArgs::default()).unwrap();
        assert_eq!(ok.describe(), "token key pkcs11:token=a;object=k");
    }
}
