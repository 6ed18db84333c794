//! `tuf feeds on|off|status REPO`: whether publishes write and sign the release feeds
//! (docs/feeds.md). The setting is the operator's, kept in the repository directory
//! (`REPO/state/feeds`, like `REPO/store.json`): it applies to publishes to the
//! directory and to object storage alike. `tuf init` turns feeds on.

use std::path::PathBuf;

use crate::exit::Code;
use crate::layout::Repo;
use crate::ui::Ui;

/// Arguments of `tuf feeds on|off|status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Repository directory.
    #[arg(value_name = "REPO")]
    pub repo: PathBuf,
}

/// Run `tuf feeds on`.
pub fn run_on(args: &Args, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    tuf_repo::feeds::set_enabled(&repo.dir().join("state"), true)?;
    ui.info(format!(
        "release feeds on for {}: every publish signs the feed of each crate it changes \
         and feeds/updates.xml; if feeds are not published yet, the next publish (a \
         hook's too) is a full one that builds every feed from the index",
        repo.dir().display()
    ));
    Ok(Code::Ok)
}

/// Run `tuf feeds off`.
pub fn run_off(args: &Args, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    tuf_repo::feeds::set_enabled(&repo.dir().join("state"), false)?;
    ui.info(format!(
        "release feeds off for {}: the next publish (a hook's too) is a full one that \
         stops signing the published feeds, so readers are told there is none rather \
         than shown one that no longer changes",
        repo.dir().display()
    ));
    Ok(Code::Ok)
}

/// Run `tuf feeds status`: `on` or `off` on stdout (for scripts), why on stderr.
pub fn run_status(args: &Args, ui: &Ui) -> anyhow::Result<Code> {
    let repo = Repo::open(&args.repo)?;
    let on = tuf_repo::feeds::enabled(&repo.dir().join("state"))?;
    tuf_fs::outln!("{}", if on { "on" } else { "off" })?;
    ui.info(format!(
        "from {} (`tuf feeds on|off`); feeds also need the target copies (not written \
         with `--no-copies`)",
        repo.dir()
            .join("state")
            .join(tuf_repo::feeds::SETTING_FILE)
            .display()
    ));
    Ok(Code::Ok)
}
