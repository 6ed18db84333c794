//! `cargo tuf proxy`: the verifying proxy as a long-running local server.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;

use super::{source_replacement_args, ProxyArgs, VerifyArgs};
use crate::proxy::Proxy;

/// Serve the verifying sparse registry until interrupted.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Registry and verification options.
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// Proxy options.
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// Address to listen on (loopback only is sensible: the proxy has no authentication).
    /// Default: 127.0.0.1 and the port `init` pinned, so cargo reuses the caches of
    /// `cargo tuf run` (they are keyed by the proxy's URL).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

/// Run `cargo tuf proxy`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let opened = args.verify.open(&args.proxy)?;
    let settings = args.verify.proxy_settings(&opened, &args.proxy);
    let listen = args
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], opened.pinned.port)));
    let listener = std::net::TcpListener::bind(listen).with_context(|| {
        format!(
            "while binding {listen}{}",
            if args.listen.is_none() {
                " (the port pinned by `cargo tuf init`; give another with --listen)"
            } else {
                ""
            }
        )
    })?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let proxy = Arc::new(Proxy::new(
        opened.verifier.clone(),
        opened.fetcher.clone(),
        settings,
        &format!("http://{address}"),
    ));
    let proxy_url = proxy.public_url().to_owned();
    tuf_fs::outln!(
        "cargo-tuf: verifying proxy for `{}` on {proxy_url}",
        opened.pinned.name
    )?;
    tuf_fs::outln!("Point cargo at it with:")?;
    let flags = source_replacement_args(&opened.pinned, &proxy_url);
    for pair in flags.chunks(2) {
        if let [_, value] = pair {
            tuf_fs::outln!("  --config '{value}'")?;
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("while starting the proxy runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        proxy
            .serve(listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        anyhow::Ok(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(())
}
