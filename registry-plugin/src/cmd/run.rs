//! `cargo tuf run -- <cargo args>`: cargo, with the registry behind the verifying proxy.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::{bind_pins, source_replacement_args, ProxyArgs, VerifyArgs};
use crate::proxy::{AbsenceLog, Absences, Routes};
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
    /// Loopback port for the proxy, serving every registry (default: each registry on
    /// the port `init` pinned for it; 0 = any free).
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
///
/// Every pinned registry (or those `--registry` names) is served by one proxy, a route
/// (`/<registry>/<pin>/`) and a verifier each, and replaced for cargo; cargo asks only for
/// the registries the project uses.
pub fn run(args: &Args) -> anyhow::Result<i32> {
    let opened = args.verify.open_all(&args.proxy)?;
    if args.verify.offline {
        // Say up front, not through cargo, when cached metadata may not be used offline.
        for each in &opened {
            each.verifier.refresh_if_stale().map_err(|e| {
                anyhow::anyhow!(
                    "registry `{}`: {e}\nWhat to do: {}",
                    each.pinned.name,
                    e.advice()
                )
            })?;
        }
    }
    let one = args
        .port
        .map(|port| SocketAddr::from(([127, 0, 0, 1], port)));
    let bound = bind_pins(&opened, one, true)?;
    // The absence lines explain a failure of cargo, and are noise when it succeeds
    // (cargo probes absent names while resolving): kept, and printed only if it fails.
    let absences = AbsenceLog::default();
    let proxies = args
        .verify
        .proxies(&opened, &bound.origins, &args.proxy, |settings| {
            // Cargo prints a refusal's body itself (see `proxy`).
            settings.echo_refusals = false;
            settings.absences = Absences::Collect(absences.clone());
        });
    let proxy_urls: Vec<String> = proxies.iter().map(|p| p.public_url().to_owned()).collect();
    let routes = Arc::new(Routes::new(proxies));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("while starting the proxy runtime")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = {
        let _guard = runtime.enter();
        let listeners = bound
            .listeners
            .into_iter()
            .map(tokio::net::TcpListener::from_std)
            .collect::<Result<Vec<_>, _>>()?;
        runtime.spawn(routes.serve(listeners, async {
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
    command.args(source_replacement_args(
        opened
            .iter()
            .map(|each| &each.pinned)
            .zip(proxy_urls.iter().map(String::as_str)),
    ));
    command.args(user_args);
    if args.proxy.verbose {
        for (each, url) in opened.iter().zip(&proxy_urls) {
            eprintln!("cargo-tuf: proxy for `{}` on {url}", each.pinned.name);
        }
        eprintln!("cargo-tuf: running {command:?}");
    }
    let status = command
        .status()
        .with_context(|| format!("while running {}", cargo.to_string_lossy()));

    let _ = stop.send(());
    runtime.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    let status = status?;
    if !status.success() {
        // After cargo's own error ("no matching package named ..."), what explains it.
        for line in absences.lines() {
            eprintln!("{line}");
        }
    }
    Ok(exit_code(status))
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
