//! Messages to the person at the terminal: informational lines on stderr (off with
//! `-q`), detail with `-v`, errors always. Requested output (a key id, `--json`) goes to
//! stdout through [`tuf_fs::outln!`] in the commands themselves, which drops it when the
//! reader has gone (`| head -1`) instead of panicking. Progress bars of long work are
//! drawn on stderr only when it is a terminal and `-q` is not given.

use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tuf_repo::progress::{Progress, Silent, Stage};

/// Verbosity for this run.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    quiet: bool,
    verbose: u8,
}

impl Ui {
    /// From the global flags.
    pub fn new(quiet: bool, verbose: u8) -> Self {
        Self { quiet, verbose }
    }

    /// Whether informational output is wanted.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Where long work reports its progress: bars on stderr when it is a terminal and
    /// `-q` is not given, else nowhere (tests, cron and CI logs stay clean).
    pub fn progress(&self) -> Arc<dyn Progress> {
        if self.quiet || !std::io::stderr().is_terminal() {
            Arc::new(Silent)
        } else {
            Arc::new(Bars::default())
        }
    }

    /// A line of progress or result, unless `-q`.
    pub fn info(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// A warning, unless `-q`.
    pub fn warn(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("warning: {}", line.as_ref());
        }
    }

    /// Detail, only with `-v`.
    pub fn detail(&self, line: impl AsRef<str>) {
        if self.verbose > 0 {
            eprintln!("{}", line.as_ref());
        }
    }

    /// The one error message of a failed run: the error, then each cause on its own line.
    pub fn error(&self, error: &anyhow::Error) {
        let mut chain = error.chain();
        if let Some(first) = chain.next() {
            eprintln!("error: {first}");
        }
        for cause in chain {
            eprintln!("  caused by: {cause}");
        }
    }
}

/// Stages that count fewer units than this get no bar: they are over before one could be
/// read, and a bar would only flicker (an incremental publish signs a few bins).
const MIN_UNITS_FOR_A_BAR: u64 = 500;

/// Progress bars on stderr, one per stage, cleared when the stage ends.
#[derive(Debug, Default)]
struct Bars {
    /// The current stage's bar. Locked once per batch of work the library reports (a
    /// chunk of files, a bin), never per file.
    current: Mutex<Option<ProgressBar>>,
}

impl Bars {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<ProgressBar>> {
        // A bar is replaced whole; a panic elsewhere cannot leave it half-made.
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Progress for Bars {
    fn start(&self, stage: Stage, total: Option<u64>) {
        let bar = match total {
            Some(total) if total < MIN_UNITS_FOR_A_BAR => None,
            Some(total) => {
                let template = format!(
                    "{{msg}} [{{bar:30}}] {{pos}}/{{len}} {} ({{elapsed}}, eta {{eta}})",
                    stage.unit()
                );
                let style = ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                Some(
                    ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                        .with_style(style)
                        .with_message(stage.label()),
                )
            }
            None => {
                let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                    .with_style(style)
                    .with_message(stage.label());
                bar.enable_steady_tick(Duration::from_millis(100));
                Some(bar)
            }
        };
        if let Some(old) = std::mem::replace(&mut *self.slot(), bar) {
            old.finish_and_clear();
        }
    }

    fn advance(&self, done: u64) {
        if let Some(bar) = self.slot().as_ref() {
            bar.inc(done);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.slot().take() {
            bar.finish_and_clear();
        }
    }
}
