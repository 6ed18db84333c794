//! `cargo tuf proxy`: the verifying proxy as a long-running local server.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;

use super::{bind_pins, source_replacement_args, ProxyArgs, VerifyArgs};
use crate::proxy::Routes;

/// Serve the verifying sparse registry until interrupted.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Registry and verification options.
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// Proxy options.
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// Address to listen on for every registry served (loopback only is sensible: the
    /// proxy has no authentication). Default: 127.0.0.1 and, for each registry, the port
    /// `init` pinned, so cargo reuses the caches of `cargo tuf run` (they are keyed by
    /// the proxy's URL).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

/// Run `cargo tuf proxy`: every pinned registry (or those `--registry` names) on one
/// proxy, a route each, each on its pinned port unless `--listen` gives one address.
/// Absence lines are printed as they happen: this proxy cannot know whether the cargo
/// that asked failed, and its stderr is the only place they can appear.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let opened = args.verify.open_all(&args.proxy)?;
    let bound = bind_pins(&opened, args.listen, false)?;
    let proxies = args
        .verify
        .proxies(&opened, &bound.origins, &args.proxy, |_| {});
    let proxy_urls: Vec<String> = proxies.iter().map(|p| p.public_url().to_owned()).collect();
    for (each, url) in opened.iter().zip(&proxy_urls) {
        tuf_fs::outln!(
            "cargo-tuf: verifying proxy for `{}` on {url}",
            each.pinned.name
        )?;
    }
    tuf_fs::outln!("Point cargo at it with:")?;
    let flags = source_replacement_args(
        opened
            .iter()
            .map(|each| &each.pinned)
            .zip(proxy_urls.iter().map(String::as_str)),
    );
    for pair in flags.chunks(2) {
        if let [_, value] = pair {
            tuf_fs::outln!("  --config '{value}'")?;
        }
    }
    let routes = Arc::new(Routes::new(proxies));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("while starting the proxy runtime")?;
    runtime.block_on(async {
        let listeners = bound
            .listeners
            .into_iter()
            .map(tokio::net::TcpListener::from_std)
            .collect::<Result<Vec<_>, _>>()?;
        routes
            .serve(listeners, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        anyhow::Ok(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(())
}
