//! `synth-index`: writes a synthetic Cargo sparse index shaped like crates.io to a directory.
//!
//! ```text
//! synth-index --crates 200000 --seed 1 /tmp/synth200k
//! ```
//!
//! The same `--crates` and `--seed` always give a byte-identical tree; see
//! `tuf_examples::synth` for the shape and where it comes from.
#![forbid(unsafe_code)]
// Output goes through `tuf_fs::outln!`, which a closed pipe (`| head`) does not crash.
#![deny(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Parser;
use tuf_examples::synth::{write_tree, SynthConfig};

/// Write a synthetic Cargo sparse index shaped like crates.io.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Number of crates (index files).
    #[arg(long, default_value_t = SynthConfig::DEFAULT_CRATES)]
    crates: usize,
    /// Seed of every random choice; same seed and size give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The `dl` URL written to config.json (where cargo fetches `.crate` files).
    #[arg(long, default_value = SynthConfig::DEFAULT_DL)]
    dl: String,
    /// The `api` URL written to config.json (default: null, no web API).
    #[arg(long)]
    api: Option<String>,
    /// Directory to write the index into; created if missing, must be empty.
    out_dir: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = SynthConfig {
        crates: args.crates,
        seed: args.seed,
        dl: args.dl,
        api: args.api,
    };
    let started = Instant::now();
    let stats = write_tree(&config, &args.out_dir).with_context(|| {
        format!(
            "while writing a synthetic index of {} crates to {}",
            config.crates,
            args.out_dir.display()
        )
    })?;
    let elapsed = started.elapsed();
    tuf_fs::outln!(
        "wrote {} crates, {} versions ({} yanked) in {} files, {} bytes \
         (mean index line {} bytes) to {} in {:.2} s",
        stats.crates,
        stats.versions,
        stats.yanked,
        stats.files,
        stats.bytes,
        stats.mean_line_bytes(),
        args.out_dir.display(),
        elapsed.as_secs_f64()
    )?;
    Ok(())
}
