//! `cargo tuf run -- <cargo args>`: cargo, with the registry behind the verifying proxy.

use std::ffi::OsString;
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::{source_replacement_args, ProxyArgs, VerifyArgs};
use crate::proxy::Proxy;
use crate::verifier::Verifier;

/// Run cargo with the registry replaced by the verifying proxy.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Registry and verification options.
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// Proxy options.
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// Loopback port for the proxy (default: the one pinned by `init`; 0 = any free).
    #[arg(long)]
    pub port: Option<u16>,
    /// Cargo arguments given without `--` (`cargo tuf run build`): refused by
    /// [`Args::usage_problem`] with the command line to use instead.
    #[arg(hide = true)]
    pub before_separator: Vec<OsString>,
    /// The cargo command line, after `--` (e.g. `-- build --release`).
    #[arg(last = true)]
    pub cargo_args: Vec<OsString>,
}

impl Args {
    /// What is wrong with the command line, if anything, with the line to type instead:
    /// cargo's arguments go after `--`, so `cargo tuf run build` is a mistake clap alone
    /// would report as "unexpected argument 'build'".
    pub fn usage_problem(&self) -> Option<String> {
        if !self.before_separator.is_empty() {
            let words: Vec<String> = self
                .before_separator
                .iter()
                .chain(&self.cargo_args)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            return Some(format!(
                "cargo's arguments go after `--`: `cargo tuf run -- {}`",
                words.join(" ")
            ));
        }
        if self.cargo_args.is_empty() {
            return Some(
                "give the cargo command after `--`, e.g. `cargo tuf run -- build`".to_owned(),
            );
        }
        None
    }
}

/// Run `cargo tuf run`; returns cargo's exit code.
pub fn run(args: &Args) -> anyhow::Result<i32> {
    let opened = args.verify.open(&args.proxy)?;
    if args.verify.offline {
        // Say up front, not through cargo, when cached metadata may not be used offline.
        opened
            .verifier
            .refresh_if_stale()
            .map_err(|e| anyhow::anyhow!("{e}\nWhat to do: {}", e.advice()))?;
    }
    let mut settings = args.verify.proxy_settings(&opened, &args.proxy);
    // Cargo prints a refusal's body itself (see `proxy`).
    settings.echo_refusals = false;
    let port = args.port.unwrap_or(opened.pinned.port);
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(listener) => listener,
        Err(e) if port != 0 => {
            eprintln!(
                "cargo-tuf: warning: port {port} is taken ({e}); using a free port, so cargo \
                 will not reuse its registry caches from earlier runs"
            );
            TcpListener::bind(("127.0.0.1", 0)).context("while binding the proxy")?
        }
        Err(e) => return Err(e).context("while binding the proxy"),
    };
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let proxy = Arc::new(Proxy::new(
        opened.verifier.clone(),
        opened.fetcher.clone(),
        settings,
        &format!("http://{address}"),
    ));
    let proxy_url = proxy.public_url().to_owned();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("while starting the proxy runtime")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = {
        let proxy = Arc::clone(&proxy);
        let _guard = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener)?;
        runtime.spawn(proxy.serve(listener, async {
            let _ = stopped.await;
        }))
    };

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(&cargo);
    let mut user_args = args.cargo_args.iter().peekable();
    // A rustup toolchain override (`+nightly`) must stay first.
    if let Some(toolchain) = user_args.next_if(|a| a.to_string_lossy().starts_with('+')) {
        command.arg(toolchain);
    }
    command.args(source_replacement_args(&opened.pinned, &proxy_url));
    command.args(user_args);
    if args.proxy.verbose {
        eprintln!("cargo-tuf: proxy on {proxy_url}; running {command:?}");
    }
    let status = command
        .status()
        .with_context(|| format!("while running {}", cargo.to_string_lossy()));

    let _ = stop.send(());
    runtime.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    Ok(exit_code(status?))
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    1
}
