//! `demo-serve`: a tiny static HTTP/1.1 file server on 127.0.0.1 for the README demo
//! (`examples/demo.sh`). It stands in for a registry's web server: it serves the files of
//! one directory as they are on disk at each request (so the demo can tamper with a file
//! while it runs), GET and HEAD only, no directory listings, nothing outside the
//! directory (no `..`, no absolute paths). Not for production use.
//!
//! ```text
//! demo-serve DIR [--port-file FILE]
//! ```
//!
//! Binds 127.0.0.1 on a free port, writes the port to FILE (or prints it), and serves until
//! killed. Logs one line per request on stderr.

#![forbid(unsafe_code)]
// Output goes through `tuf_fs::outln!`, which a closed pipe (`| head`) does not crash.
#![deny(clippy::print_stdout)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

fn main() {
    if let Err(e) = run() {
        eprintln!("demo-serve: {e}");
        std::process::exit(1);
    }
}

/// `demo-serve --help`.
const HELP: &str = "demo-serve: a static file server on 127.0.0.1 for the README demo (examples/demo.sh); not for production use

Usage: demo-serve DIR [--port-file FILE]

Serves the files of DIR as they are on disk at each request (GET and HEAD, no listings,
nothing outside DIR) on a free port of 127.0.0.1, until killed; logs each request on stderr.

Options:
  --port-file FILE  write the port to FILE (else print it on stdout)
  -h, --help        print this help";

fn run() -> Result<(), String> {
    let mut args = std::env::args_os().skip(1);
    let mut root: Option<PathBuf> = None;
    let mut port_file: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            tuf_fs::outln!("{HELP}").map_err(|e| format!("writing the help: {e}"))?;
            return Ok(());
        }
        if arg.to_string_lossy().starts_with('-') && arg != "--port-file" {
            return Err(format!(
                "unknown option {}; usage: demo-serve DIR [--port-file FILE]",
                arg.to_string_lossy()
            ));
        }
        if arg == "--port-file" {
            port_file = Some(args.next().ok_or("--port-file needs a value")?.into());
        } else if root.is_none() {
            root = Some(arg.into());
        } else {
            return Err("usage: demo-serve DIR [--port-file FILE]".into());
        }
    }
    let root = root.ok_or("usage: demo-serve DIR [--port-file FILE]")?;
    if !root.is_dir() {
        return Err(format!("{} is not a directory", root.display()));
    }
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("local address: {e}"))?
        .port();
    match &port_file {
        Some(file) => {
            // Write then rename, so a reader never sees a partial port number.
            let tmp = file.with_extension("tmp");
            std::fs::write(&tmp, format!("{port}\n"))
                .and_then(|()| std::fs::rename(&tmp, file))
                .map_err(|e| format!("writing {}: {e}", file.display()))?;
        }
        // Nobody reading the port (`demo-serve DIR | head -0`) does not stop the server: it
        // is on stderr too.
        None => tuf_fs::outln!("{port}").map_err(|e| e.to_string())?,
    }
    eprintln!(
        "demo-serve: serving {} at http://127.0.0.1:{port}/",
        root.display()
    );
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let root = root.clone();
        std::thread::spawn(move || {
            if let Err(e) = serve(stream, &root) {
                eprintln!("demo-serve: connection error: {e}");
            }
        });
    }
    Ok(())
}

/// Answer the requests of one connection (keep-alive, as cargo's HTTP client expects).
fn serve(stream: TcpStream, root: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut close = false;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            if header == "\r\n" || header == "\n" {
                break;
            }
            let lower = header.to_ascii_lowercase();
            if lower.starts_with("connection:") && lower.contains("close") {
                close = true;
            }
            // Requests with a body are not supported (GET and HEAD have none).
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("/");
        if parts.next().is_some_and(|v| v == "HTTP/1.0") {
            close = true;
        }
        let path = target.split(['?', '#']).next().unwrap_or("/");
        let (status, body) = match (method, resolve(root, path)) {
            ("GET" | "HEAD", Some(file)) => match std::fs::read(&file) {
                Ok(bytes) => ("200 OK", bytes),
                Err(_) => ("404 Not Found", Vec::new()),
            },
            ("GET" | "HEAD", None) => ("404 Not Found", Vec::new()),
            _ => ("405 Method Not Allowed", Vec::new()),
        };
        eprintln!("demo-serve: {method} {path} -> {status}");
        write!(
            writer,
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n{}\r\n",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        )?;
        if method != "HEAD" {
            writer.write_all(&body)?;
        }
        writer.flush()?;
        if close {
            return Ok(());
        }
    }
}

/// The file under `root` that the URL path names, or `None` when the path is not a plain
/// relative path (`..`, percent escapes, empty segments) or names no file.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = url_path.strip_prefix('/')?;
    if relative.is_empty() || relative.contains('%') || relative.contains('\\') {
        return None;
    }
    let relative = Path::new(relative);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let file = root.join(relative);
    file.is_file().then_some(file)
}
