//! `tuf key generate`: a new private key file (PKCS#8 PEM, mode 0600, encrypted unless
//! `--unencrypted`) and its TUF public key JSON; prints the key id on stdout. Given a
//! `pkcs11:` URI instead of a file, the key pair is made on the token.
//!
//! `tuf key list` and `tuf key export`: the keys a hardware token holds, with their TUF
//! key ids, and one of them as TUF public key JSON (see `docs/keys.md`).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::exit::Code;
use crate::files::{self, Access, Existing};
use crate::keys::{self, KeyType, PassphraseArgs, PinArgs};
use crate::ui::Ui;
use tuf_cli::pkcs11;

/// Arguments of `tuf key generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Private key file to write, e.g. `alice.pem` (refused if it exists); or a PKCS#11
    /// URI `pkcs11:token=LABEL;object=LABEL` to make the key pair on that token.
    #[arg(value_name = "PRIVATE.pem|pkcs11:URI")]
    pub out: PathBuf,
    /// Public key file to write [default: PRIVATE with `.pem` replaced by `.pub.json`].
    #[arg(long, value_name = "PUB.json")]
    pub public: Option<PathBuf>,
    /// Key algorithm: `ed25519`, or `ecdsa-p256` (ECDSA over P-256 with SHA-256, what
    /// every hardware token offers).
    // The values are in the line above: listing them with their own help would switch
    // `--help` to clap's long layout, unlike every other command's.
    #[arg(
        long = "type",
        value_enum,
        default_value = "ed25519",
        hide_possible_values = true
    )]
    pub key_type: KeyType,
    /// Write the private key without a passphrase (for an online key that a cron job
    /// reads; protect it by file mode and host). Offline keys should be encrypted.
    #[arg(long, conflicts_with = "passphrase_env")]
    pub unencrypted: bool,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// With a `pkcs11:` URI: the PKCS#11 module [default: the URI's module-path, else
    /// $TUF_PKCS11_MODULE].
    #[arg(long, value_name = "MODULE.so")]
    pub module: Option<PathBuf>,
    #[command(flatten)]
    pub pin: PinArgs,
}

/// Run `tuf key generate`.
pub fn run_generate(args: &GenerateArgs, ui: &Ui) -> anyhow::Result<Code> {
    if let Some(uri) = token_uri(&args.out) {
        return run_generate_on_token(args, uri, ui);
    }
    let public_path = args.public.clone().unwrap_or_else(|| {
        let name = args.out.file_name().map_or_else(String::new, |n| {
            let n = n.to_string_lossy();
            n.strip_suffix(".pem").unwrap_or(&n).to_owned()
        });
        args.out.with_file_name(format!("{name}.pub.json"))
    });
    for path in [&args.out, &public_path] {
        if path.exists() {
            return Err(crate::exit::usage(format!(
                "{} already exists; choose another name (an existing key is never overwritten)",
                path.display()
            )));
        }
    }
    let passphrase = if args.unencrypted {
        None
    } else {
        Some(
            args.passphrase
                .get(&format!("new key {}", args.out.display()), true)?,
        )
    };
    let (signer, der) = keys::generate(args.key_type)?;
    let pem = keys::private_pem(&der, passphrase.as_ref().map(|p| p.as_str()))?;
    let public = keys::public_key_json(signer.public_key())?;

    files::write_atomic(
        &args.out,
        pem.as_bytes(),
        Access::OwnerOnly,
        Existing::Refuse,
    )
    .context("writing the private key")?;
    if let Err(e) = files::write_atomic(&public_path, &public, Access::Public, Existing::Refuse) {
        // Nothing half-written: a private key without its public key is removed again
        // (it was never used).
        let _ = files::remove(&args.out);
        return Err(e.context("writing the public key; the private key was removed again"));
    }
    ui.info(format!(
        "wrote private key {} ({}, mode 0600)",
        args.out.display(),
        if passphrase.is_some() {
            "encrypted with your passphrase"
        } else {
            "NOT encrypted"
        }
    ));
    ui.info(format!(
        "wrote public key {} (give this file to the repository operator)",
        public_path.display()
    ));
    ui.info("key id:");
    tuf_fs::outln!("{}", signer.key_id())?;
    Ok(Code::Ok)
}

/// The text of `path` if it is a `pkcs11:` URI rather than a file name.
fn token_uri(path: &Path) -> Option<&str> {
    path.to_str().filter(|t| {
        t.get(..pkcs11::SCHEME.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(pkcs11::SCHEME))
    })
}

/// `tuf key generate 'pkcs11:token=T;object=O'`: the key pair is made on the token (the
/// private key never leaves it); writes the public key JSON and prints the key id.
fn run_generate_on_token(args: &GenerateArgs, text: &str, ui: &Ui) -> anyhow::Result<Code> {
    if args.unencrypted || args.passphrase.passphrase_env.is_some() {
        return Err(crate::exit::usage(
            "--unencrypted and --passphrase-env are for key files; a token key is \
             protected by the token's PIN (--pin-env NAME, or asked on the terminal)",
        ));
    }
    let uri = pkcs11::parse_key_uri(text)?;
    let public_path = match (&args.public, &uri.object) {
        (Some(path), _) => path.clone(),
        (None, Some(object)) => PathBuf::from(format!("{object}.pub.json")),
        (None, None) => PathBuf::new(), // refused by `generate` below: no object=
    };
    if public_path.exists() {
        return Err(crate::exit::usage(format!(
            "{} already exists; choose another name with --public",
            public_path.display()
        )));
    }
    let (public, named) = pkcs11::generate(&uri, args.module.as_deref(), &args.pin, args.key_type)?;
    let json = keys::public_key_json(&public)?;
    files::write_atomic(&public_path, &json, Access::Public, Existing::Refuse)
        .context("writing the public key (the key pair stays on the token)")?;
    ui.info(format!(
        "made a key pair on the token: {named} (the private key cannot leave the token)"
    ));
    ui.info(format!(
        "wrote public key {} (give this file to the repository operator)",
        public_path.display()
    ));
    ui.info("key id:");
    tuf_fs::outln!("{}", public.key_id()?)?;
    Ok(Code::Ok)
}

/// Which token and how to log in, for `tuf key list` and `tuf key export`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// The PKCS#11 module [default: the URI's module-path, else $TUF_PKCS11_MODULE].
    #[arg(long, value_name = "MODULE.so")]
    pub module: Option<PathBuf>,
    /// Log in to the token first (PIN asked on the terminal, or --pin-env): some tokens
    /// show private keys, or all keys, only after login.
    #[arg(long)]
    pub login: bool,
    #[command(flatten)]
    pub pin: PinArgs,
}

impl TokenArgs {
    fn pin(&self) -> Option<&PinArgs> {
        (self.login || self.pin.pin_env.is_some()).then_some(&self.pin)
    }
}

/// Arguments of `tuf key list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Which tokens and keys, e.g. `pkcs11:token=root-alice` [default: `pkcs11:`, every
    /// key on every token the module sees].
    #[arg(value_name = "pkcs11:URI", default_value = "pkcs11:")]
    pub uri: String,
    #[command(flatten)]
    pub token: TokenArgs,
}

/// Run `tuf key list`: one line per key on stdout, `KEYID  SCHEME  URI` (`-` and
/// `unusable` for a key TUF cannot sign with, and why on stderr).
pub fn run_list(args: &ListArgs, ui: &Ui) -> anyhow::Result<Code> {
    let uri = pkcs11::parse_key_uri(&args.uri)?;
    let tokens = pkcs11::list(&uri, args.token.module.as_deref(), args.token.pin())?;
    for token in tokens {
        ui.info(format!(
            "token {}: {} key(s){}",
            token.description,
            token.keys.len(),
            if args.token.pin().is_some() {
                ""
            } else {
                " (not logged in: add --login to see keys the token hides until then)"
            }
        ));
        for key in token.keys {
            match &key.public {
                Ok(public) => {
                    tuf_fs::outln!("{}  {}  {}", public.key_id()?, public.scheme, key.uri)?
                }
                Err(reason) => {
                    tuf_fs::outln!("-  unusable  {}", key.uri)?;
                    ui.info(format!("  {}: {reason}", key.uri.without_module()));
                }
            }
            if key.has_private == Some(false) {
                ui.warn(format!(
                    "{}: no private key beside this public key: it cannot sign",
                    key.uri.without_module()
                ));
            }
        }
    }
    Ok(Code::Ok)
}

/// Arguments of `tuf key export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The key, e.g. `pkcs11:token=root-alice;object=tuf-root`.
    #[arg(value_name = "pkcs11:URI")]
    pub uri: String,
    /// Public key file to write (TUF key JSON, as `tuf key generate` writes; refused if
    /// it exists).
    #[arg(value_name = "PUB.json")]
    pub out: PathBuf,
    #[command(flatten)]
    pub token: TokenArgs,
}

/// Run `tuf key export`: write a token key's public key as TUF key JSON, print its id.
pub fn run_export(args: &ExportArgs, ui: &Ui) -> anyhow::Result<Code> {
    let uri = pkcs11::parse_key_uri(&args.uri)?;
    if args.out.exists() {
        return Err(crate::exit::usage(format!(
            "{} already exists; choose another name (an existing file is never overwritten)",
            args.out.display()
        )));
    }
    let (public, named) = pkcs11::export(&uri, args.token.module.as_deref(), args.token.pin())?;
    let json = keys::public_key_json(&public)?;
    files::write_atomic(&args.out, &json, Access::Public, Existing::Refuse)
        .context("writing the public key")?;
    ui.info(format!(
        "wrote the public key of {named} to {} (give this file to the repository operator)",
        args.out.display()
    ));
    ui.info("key id:");
    tuf_fs::outln!("{}", public.key_id()?)?;
    Ok(Code::Ok)
}
