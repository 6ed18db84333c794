//! The command line: global flags and the subcommand tree.

use clap::{Parser, Subcommand};

use crate::cmd;
use crate::exit::Code;
use crate::ui::Ui;

/// TUF signing for a Cargo registry: keys, ceremonies, status, root rotation, publish,
/// refresh and verify.
#[derive(Debug, Parser)]
#[command(name = "tuf", version, about, long_about = None)]
pub struct Cli {
    /// Print only errors (and the requested output, e.g. a key id or `--json`).
    // A heading of their own: otherwise clap lists them among each command's options.
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Global options"
    )]
    pub quiet: bool,
    /// Print more detail.
    #[arg(
        short,
        long,
        global = true,
        action = clap::ArgAction::Count,
        help_heading = "Global options"
    )]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The verbs of `tuf`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage signing keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Stage root version 1, top-level targets and the policy of a new repository.
    Init(cmd::init::Args),
    /// Add a signature to a staged root or targets (in place, detached, or merged).
    Sign(cmd::sign::Args),
    /// Show every role's version, expiry and signatures present vs. needed.
    Status(cmd::status::Args),
    /// Root key management: stage a rotation, commit a signed root.
    #[command(subcommand)]
    Root(RootCommand),
    /// Top-level targets: stage a re-signed targets (after a key rotation) or new bins.
    #[command(subcommand)]
    Targets(TargetsCommand),
    /// Publish: commit signed staged root/targets, then sign the index with the online key.
    Publish(cmd::publish::PublishArgs),
    /// Re-sign online roles (timestamp, snapshot, bins) that expire soon (for cron).
    Refresh(cmd::publish::RefreshArgs),
    /// Verify a published repository from a trusted root, as a client would.
    Verify(cmd::verify::Args),
    /// Where the repository is published: its directory, or object storage (S3, GCS,
    /// Azure), remembered in `REPO/store.json`.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Release feeds (docs/feeds.md): switch them on or off, or show the setting.
    #[command(subcommand)]
    Feeds(FeedsCommand),
}

/// `tuf key ...`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a new private key (PKCS#8 PEM, mode 0600) and its TUF public key JSON;
    /// or, given a `pkcs11:` URI, a key pair on a hardware token.
    Generate(cmd::key::GenerateArgs),
    /// List the keys on hardware tokens (PKCS#11) with their TUF key ids and URIs.
    List(cmd::key::ListArgs),
    /// Write a hardware token key's public key as TUF key JSON (for `tuf init
    /// --root-key`, `tuf root rotate --add-key`).
    Export(cmd::key::ExportArgs),
}

/// `tuf store ...`
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Publish the repository to this object-store URL from now on (`s3://bucket/prefix`).
    Set(cmd::store::SetArgs),
    /// Print where the repository publishes.
    Show(cmd::store::RepoArgs),
    /// Publish the repository to its own directory again.
    Unset(cmd::store::RepoArgs),
}

/// `tuf feeds ...`
#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Sign a feed per changed crate and the registry's feed of recent updates on every
    /// publish (the next publish builds them all if they are not published yet).
    On(cmd::feeds::Args),
    /// Stop: the next publish drops the published feeds.
    Off(cmd::feeds::Args),
    /// Print `on` or `off`.
    Status(cmd::feeds::Args),
}

/// `tuf root ...`
#[derive(Debug, Subcommand)]
pub enum RootCommand {
    /// Stage root N+1 from the current root: add/remove keys, thresholds, expiry.
    Rotate(cmd::root::RotateArgs),
    /// Publish the staged root as `metadata/N.root.json` once its thresholds are met.
    Commit(cmd::root::CommitArgs),
}

/// `tuf targets ...`
#[derive(Debug, Subcommand)]
pub enum TargetsCommand {
    /// Stage targets N+1 from the published targets N for its key holders to sign
    /// (after a targets or online key rotation, or to renew its expiry).
    Stage(cmd::targets::StageArgs),
    /// Stage targets N+1 with another number of hashed bins (TAP 15 bit_length).
    Rebin(cmd::targets::RebinArgs),
}

/// Run one command.
pub fn run(command: Command, ui: &Ui) -> anyhow::Result<Code> {
    match command {
        Command::Key(KeyCommand::Generate(args)) => cmd::key::run_generate(&args, ui),
        Command::Key(KeyCommand::List(args)) => cmd::key::run_list(&args, ui),
        Command::Key(KeyCommand::Export(args)) => cmd::key::run_export(&args, ui),
        Command::Init(args) => cmd::init::run(&args, ui),
        Command::Sign(args) => cmd::sign::run(&args, ui),
        Command::Status(args) => cmd::status::run(&args, ui),
        Command::Root(RootCommand::Rotate(args)) => cmd::root::run_rotate(&args, ui),
        Command::Root(RootCommand::Commit(args)) => cmd::root::run_commit(&args, ui),
        Command::Targets(TargetsCommand::Stage(args)) => cmd::targets::run_stage(&args, ui),
        Command::Targets(TargetsCommand::Rebin(args)) => cmd::targets::run_rebin(&args, ui),
        Command::Publish(args) => cmd::publish::run_publish(&args, ui),
        Command::Refresh(args) => cmd::publish::run_refresh(&args, ui),
        Command::Verify(args) => cmd::verify::run(&args, ui),
        Command::Store(StoreCommand::Set(args)) => cmd::store::run_set(&args, ui),
        Command::Store(StoreCommand::Show(args)) => cmd::store::run_show(&args, ui),
        Command::Store(StoreCommand::Unset(args)) => cmd::store::run_unset(&args, ui),
        Command::Feeds(FeedsCommand::On(args)) => cmd::feeds::run_on(&args, ui),
        Command::Feeds(FeedsCommand::Off(args)) => cmd::feeds::run_off(&args, ui),
        Command::Feeds(FeedsCommand::Status(args)) => cmd::feeds::run_status(&args, ui),
    }
}
