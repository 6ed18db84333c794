//! `tuf-conformance-client`: the command line the tuf-conformance suite drives.
//!
//! ```text
//! tuf-conformance-client --metadata-dir MD init ROOT_FILE
//! tuf-conformance-client --metadata-url URL --metadata-dir MD refresh
//! tuf-conformance-client --metadata-url URL --metadata-dir MD --target-name T [--target-name T2 ...] \
//!     --target-dir TD --target-base-url TURL download
//! ```
//!
//! Options come before the subcommand, in any order; `-v` is accepted and ignored. Exit
//! status 0 on success, 1 on any failure (including a bad command line). The clock is the
//! system clock, read here through `SystemTime` (the suite may shift it with libfaketime).
#![forbid(unsafe_code)]
// Output goes through `tuf_fs::outln!`, which a closed pipe (`| head`) does not crash.
#![deny(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use tuf_client::{ClientError, HttpFetcher, MetadataStore, Updater, UpdaterConfig};

#[derive(Debug, Parser)]
#[command(
    name = "tuf-conformance-client",
    version,
    about = "TUF conformance client"
)]
struct Args {
    /// Directory of trusted metadata.
    #[arg(long)]
    metadata_dir: PathBuf,
    /// Base URL of the repository's metadata.
    #[arg(long)]
    metadata_url: Option<String>,
    /// Target path to download (repeatable; downloaded in order).
    #[arg(long = "target-name")]
    target_names: Vec<String>,
    /// Directory for downloaded targets.
    #[arg(long)]
    target_dir: Option<PathBuf>,
    /// Base URL of the repository's targets.
    #[arg(long)]
    target_base_url: Option<String>,
    /// Accepted and ignored.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Store ROOT_FILE as the trusted root, byte for byte, without any request.
    Init {
        /// The initial trusted root.
        trusted_root: PathBuf,
    },
    /// Update the top-level metadata.
    Refresh,
    /// Refresh, then look up and download each --target-name.
    Download,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::FAILURE,
            };
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tuf-conformance-client: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let now: DateTime<Utc> = SystemTime::now().into();
    match &args.command {
        Command::Init { trusted_root } => {
            let bytes = std::fs::read(trusted_root)
                .with_context(|| format!("while reading {}", trusted_root.display()))?;
            let store = MetadataStore::open(&args.metadata_dir)?;
            store
                .store("root", &bytes)
                .context("while storing root.json")?;
        }
        Command::Refresh => {
            let mut updater = updater(&args)?;
            updater
                .refresh(now)
                .map_err(coded)
                .context("while refreshing")?;
        }
        Command::Download => {
            if args.target_names.is_empty() {
                anyhow::bail!("download needs at least one --target-name");
            }
            let mut updater = updater(&args)?;
            updater
                .refresh(now)
                .map_err(coded)
                .context("while refreshing")?;
            for name in &args.target_names {
                let info = updater
                    .target_info(name, now)
                    .map_err(coded)
                    .with_context(|| format!("while looking up {name:?}"))?
                    .ok_or_else(|| coded(ClientError::TargetNotFound { path: name.clone() }))?;
                updater
                    .fetch_target(&info)
                    .map_err(coded)
                    .with_context(|| format!("while downloading {name:?}"))?;
            }
        }
    }
    Ok(())
}

fn updater(args: &Args) -> anyhow::Result<Updater<HttpFetcher>> {
    let metadata_url = args
        .metadata_url
        .as_deref()
        .context("--metadata-url is required")?;
    let mut config = UpdaterConfig::new(metadata_url, &args.metadata_dir);
    config.target_dir.clone_from(&args.target_dir);
    config.targets_base_url.clone_from(&args.target_base_url);
    if let Some(dir) = &config.target_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("while creating {}", dir.display()))?;
    }
    Ok(Updater::new(config, HttpFetcher::new()?)?)
}

/// The error with its code in front, so a log line says what kind of failure it was.
fn coded(e: ClientError) -> anyhow::Error {
    let code = e.code();
    anyhow::Error::new(e).context(format!("[{code}]"))
}
