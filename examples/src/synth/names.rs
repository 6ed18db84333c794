//! Crate names: crates.io-like, unique modulo case and `-`/`_`, and their sparse paths.

use std::collections::HashSet;

use super::plan::NAMES_STREAM;
use super::rng::{shuffle, Rng};

/// The sparse-index path of a crate name: `1/a`, `2/ab`, `3/a/abc`, `se/rd/serde`, lowercase.
/// `None` for a name crates.io would not accept (which also keeps `..` and `/` out of paths).
pub(super) fn sparse_path(name: &str) -> Option<String> {
    tuf_core::index::CrateName::parse(name)
        .ok()
        .map(|n| n.sparse_path())
}

/// crates.io's limit on name length.
const MAX_NAME_LEN: usize = 64;

/// `count` crate names, unique after lowercasing and treating `-` and `_` alike, in rank order.
pub(super) fn crate_names(key: &[u8; 32], count: usize) -> Vec<String> {
    let mut rng = Rng::new(key, NAMES_STREAM);
    let mut taken: HashSet<String> = HashSet::with_capacity(count);
    let mut names = Vec::with_capacity(count);
    let mut left = count;
    // A few short names, at least one of each length whenever there is room, so every sparse
    // path shape appears even in small test registries. crates.io has every 1-letter name,
    // hundreds of 2-letter ones and thousands of 3-letter ones.
    let one = take(&mut left, (count / 10_000).clamp(1, 26));
    let two = take(&mut left, (count / 500).clamp(1, 600));
    let three = take(&mut left, (count / 80).clamp(1, 20_000));

    let mut letters: Vec<u8> = LETTERS.to_vec();
    shuffle(&mut rng, &mut letters);
    for &letter in letters.iter().take(one) {
        let name = char::from(letter).to_string();
        taken.insert(canonical(&name));
        names.push(name);
    }
    for (len, wanted) in [(2, two), (3, three)] {
        let mut made = 0;
        while made < wanted {
            let name = short_name(&mut rng, len);
            if !is_reserved(&name) && taken.insert(canonical(&name)) {
                names.push(name);
                made += 1;
            }
        }
    }
    for serial in 0..left {
        let mut attempt = 0u32;
        let name = loop {
            attempt = attempt.saturating_add(1);
            let candidate = if attempt <= 100 {
                long_name(&mut rng)
            } else {
                // The word space is large, so this is near impossible; it still must end.
                format!("{}-{serial}-{attempt}", long_name(&mut rng))
            };
            if (4..=MAX_NAME_LEN).contains(&candidate.len())
                && !is_reserved(&candidate)
                && taken.insert(canonical(&candidate))
            {
                break candidate;
            }
        };
        names.push(name);
    }
    shuffle(&mut rng, &mut names);
    names
}

pub(super) fn take(left: &mut usize, wanted: usize) -> usize {
    let got = wanted.min(*left);
    *left -= got;
    got
}

/// crates.io compares names case-insensitively and with `-` and `_` treated alike.
pub(super) fn canonical(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

pub(super) fn is_reserved(name: &str) -> bool {
    // Windows device names cannot be files there; the rest are reserved by crates.io.
    const RESERVED: &[&str] = &[
        "con",
        "prn",
        "aux",
        "nul",
        "alloc",
        "core",
        "std",
        "test",
        "proc_macro",
        "proc-macro",
    ];
    let device = name.len() == 4
        && (name.starts_with("com") || name.starts_with("lpt"))
        && name.ends_with(|c: char| c.is_ascii_digit());
    device || RESERVED.contains(&name)
}

pub(super) fn is_sys(name: &str) -> bool {
    name.ends_with("-sys") || name.ends_with("_sys")
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn short_name(rng: &mut Rng, len: usize) -> String {
    let mut name = String::with_capacity(len);
    name.push(char::from(*rng.pick(LETTERS).unwrap_or(&b'a')));
    for _ in 1..len {
        name.push(char::from(*rng.pick(ALNUM).unwrap_or(&b'a')));
    }
    name
}

/// One to three words joined by `-` (or `_` in about a quarter of names), sometimes with a
/// conventional suffix: `http-body`, `serde_json`, `tokio-util`, `proc-macro2`, `libz-sys`.
fn long_name(rng: &mut Rng) -> String {
    let words = 1 + rng.weighted(&[30, 60, 10]);
    let sep = if rng.chance(280_000) { '_' } else { '-' };
    let mut name = String::with_capacity(24);
    for i in 0..words {
        if i > 0 {
            name.push(sep);
        }
        push_word(rng, &mut name);
    }
    if rng.chance(80_000) {
        let suffix = *rng.pick(NAME_SUFFIXES).unwrap_or(&"rs");
        if !suffix.starts_with(|c: char| c.is_ascii_digit()) {
            name.push(sep);
        }
        name.push_str(suffix);
    }
    name
}

fn push_word(rng: &mut Rng, name: &mut String) {
    if rng.chance(550_000) {
        name.push_str(rng.pick(WORDS).unwrap_or(&"util"));
        return;
    }
    // An invented word like `tokio`, `serde`, `axum`: consonant-vowel syllables.
    const CONSONANTS: &[u8] = b"bcdfghjklmnprstvwxz";
    const VOWELS: &[u8] = b"aeiouy";
    const FINALS: &[u8] = b"nrsxkml";
    let syllables = 2 + rng.below(2);
    for _ in 0..syllables {
        name.push(char::from(*rng.pick(CONSONANTS).unwrap_or(&b't')));
        name.push(char::from(*rng.pick(VOWELS).unwrap_or(&b'o')));
    }
    if rng.chance(350_000) {
        name.push(char::from(*rng.pick(FINALS).unwrap_or(&b'n')));
    }
}

#[rustfmt::skip]
const NAME_SUFFIXES: &[&str] = &[
    "rs", "sys", "cli", "derive", "macros", "core", "utils", "2", "ng", "lite", "impl", "types",
];

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "async", "http", "json", "serde", "parser", "parse", "derive", "macro", "util", "utils", "sys",
    "cli", "web", "api", "client", "server", "db", "sql", "log", "logger", "wasm", "bind",
    "config", "crypto", "hash", "tokio", "future", "futures", "stream", "buf", "bytes", "codec",
    "proto", "grpc", "rpc", "net", "tcp", "udp", "tls", "ssl", "io", "fs", "file", "path", "time",
    "date", "chrono", "uuid", "rand", "random", "math", "num", "float", "int", "big", "vec", "map",
    "set", "tree", "graph", "list", "queue", "cache", "pool", "sync", "lock", "atomic", "thread",
    "task", "runtime", "exec", "event", "bus", "channel", "signal", "process", "shell", "term",
    "color", "style", "text", "str", "string", "fmt", "format", "print", "render", "draw", "image",
    "gpu", "gfx", "vk", "gl", "audio", "sound", "midi", "video", "game", "engine", "ecs",
    "physics", "ui", "gui", "tui", "widget", "window", "input", "key", "mouse", "font", "svg",
    "pdf", "csv", "xml", "yaml", "toml", "ini", "env", "arg", "args", "flag", "opt", "error",
    "result", "fail", "trace", "tracing", "metric", "metrics", "stats", "bench", "mock", "fake",
    "fixture", "assert", "check", "lint", "build", "gen", "code", "lexer", "token", "ast",
    "syntax", "lang", "compiler", "vm", "jit", "ir", "eval", "script", "lua", "python", "js",
    "node", "ruby", "java", "ffi", "bindings", "native", "embedded", "hal", "board", "chip", "usb",
    "serial", "spi", "i2c", "gpio", "pwm", "rtos", "kernel", "os", "boot", "memory", "arena",
    "slab", "heap", "stack", "ring", "ptr", "cell", "rc", "arc", "iter", "zip", "tar", "gzip",
    "zstd", "lz4", "compress", "archive", "store", "storage", "kv", "redis", "mongo", "postgres",
    "mysql", "sqlite", "orm", "query", "schema", "migrate", "model", "entity", "auth", "oauth",
    "jwt", "session", "cookie", "cors", "router", "route", "handler", "middleware", "proxy",
    "gateway", "dns", "mail", "smtp", "chat", "bot", "discord", "slack", "matrix", "irc", "chain",
    "wallet", "coin", "ledger", "solana", "substrate", "zk", "proof", "merkle", "sign", "signer",
    "cert", "acme", "cloud", "aws", "azure", "k8s", "docker", "deploy", "git", "diff", "patch",
    "semver", "version", "cargo", "crate", "quick", "fast", "tiny", "mini", "micro", "simple",
    "easy", "smart", "super", "hyper", "ultra", "open", "free", "lib", "kit", "rust", "base64",
    "sha2", "x11",
];
