//! Messages to the person at the terminal: informational lines on stderr (off with
//! `-q`), detail with `-v`, errors always. Requested output (a key id, `--json`) goes to
//! stdout through `println!` in the commands themselves.

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
