//! `tuf key generate`: a new private key file (PKCS#8 PEM, mode 0600, encrypted unless
//! `--unencrypted`) and its TUF public key JSON; prints the key id on stdout.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::exit::Code;
use crate::fsutil::{self, Access, Existing};
use crate::keys::{self, KeyType, PassphraseArgs};
use crate::ui::Ui;

/// Arguments of `tuf key generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Private key file to write, e.g. `alice.pem` (refused if it exists).
    #[arg(value_name = "PRIVATE.pem")]
    pub out: PathBuf,
    /// Public key file to write [default: PRIVATE with `.pem` replaced by `.pub.json`].
    #[arg(long, value_name = "PUB.json")]
    pub public: Option<PathBuf>,
    /// Key algorithm.
    #[arg(long = "type", value_enum, default_value = "ed25519")]
    pub key_type: KeyType,
    /// Write the private key without a passphrase (for an online key that a cron job
    /// reads; protect it by file mode and host). Offline keys should be encrypted.
    #[arg(long, conflicts_with = "passphrase_env")]
    pub unencrypted: bool,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Run `tuf key generate`.
pub fn run_generate(args: &GenerateArgs, ui: &Ui) -> anyhow::Result<Code> {
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

    fsutil::write_atomic(
        &args.out,
        pem.as_bytes(),
        Access::OwnerOnly,
        Existing::Refuse,
    )
    .context("writing the private key")?;
    if let Err(e) = fsutil::write_atomic(&public_path, &public, Access::Public, Existing::Refuse) {
        // Nothing half-written: a private key without its public key is removed again
        // (it was never used).
        let _ = fsutil::remove(&args.out);
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
