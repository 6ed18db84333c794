//! Every shell example in `README.md` and `docs/*.md` is checked here, so a snippet that
//! does not work when pasted fails CI (issue #15).
//!
//! The markdown conventions this test reads:
//!
//! * ```` ```sh ```` (or `bash`, `shell`): run, in document order, with `bash -e -o
//!   pipefail` in one scratch directory per document, with the `tuf` and `cargo-tuf` this
//!   test run built first on `PATH`. It must exit 0.
//! * ```` ```console ````: each `$ command` (continued by a trailing `\`) is run the same
//!   way; it must exit 0 and print (stdout and stderr together) the lines shown after it.
//!   In the shown output, a line `...` stands for any number of lines and `[..]` for any
//!   text within a line (trycmd's notation). To show a failing command, write
//!   `cmd || echo "exit $?"`, which is what a reader would paste too.
//! * ```` ```sh no-run ```` (or `console no-run`): not run (it needs a network host, a
//!   terminal for a passphrase, a hardware token, nightly, ...); the text says why.
//! * An indented code block is a `no-run` block too, and must be preceded by
//!   `<!-- docs-test: no-run REASON -->` (only `README.md` has them: `.ci/run` reads its
//!   test command from an indented block); elsewhere use a fenced block.
//! * `<!-- docs-test: setup` ... `-->`: a hidden `sh` block, run in order like the others,
//!   for what the reader is assumed to have done (keys made by other people, a registry's
//!   index, a signing done interactively in another document).
//!
//! Every shell block, run or not, is checked for syntax (`bash -n`) and for flags: each
//! `tuf ...` / `cargo tuf ...` subcommand used exists, and each flag used appears in that
//! subcommand's `--help`. `cargo install` must be given `--locked`.
//!
//! Absolute paths the docs use for a server's layout (under `/etc/`, `/srv/`, `/var/`)
//! are rewritten to the same paths under a scratch root (`$DOCS_ROOT`), the one
//! placeholder this test applies; the hidden setup blocks create them.
//!
//! `cargo-tuf` belongs to another package of the workspace: `cargo test --workspace`
//! builds it next to `tuf` before any test runs. With `cargo test -p tuf-cli` alone, build
//! it first (`cargo build -p registry-plugin`).

// A test: it fails loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The documents checked, relative to the workspace root.
const DOCS: &[&str] = &[
    "README.md",
    "docs/benchmarks.md",
    "docs/cargo-users.md",
    "docs/ceremony.md",
    "docs/client.md",
    "docs/design.md",
    "docs/feeds.md",
    "docs/fuzzing.md",
    "docs/keys.md",
    "docs/operator.md",
    "docs/provenance.md",
    "docs/repository.md",
];

/// Passphrase the hidden setup blocks encrypt keys with (`--passphrase-env DOCS_PW`).
const DOCS_PW: &str = "docs test passphrase";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `sh`: run, must exit 0.
    Run,
    /// `console`: run, output compared.
    Console,
    /// Not run; syntax and flags checked.
    NoRun,
    /// Hidden `<!-- docs-test: setup -->`: run.
    Setup,
}

#[derive(Debug)]
struct Block {
    doc: &'static str,
    /// 1-based line of the opening fence.
    line: usize,
    kind: Kind,
    /// `console` blocks: the text after removing prompts is in `commands`.
    text: String,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.doc, self.line)
    }

    /// The shell text of the block (for console blocks, the commands only).
    fn script(&self) -> String {
        if self.kind == Kind::Console || self.text.lines().any(|l| l.starts_with("$ ")) {
            console_steps(&self.text)
                .into_iter()
                .map(|(cmd, _)| cmd)
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            self.text.clone()
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The shell blocks of one document. Panics on a block without an info string or an
/// unmarked indented block, so nothing shell-like escapes the test by omission.
fn blocks(doc: &'static str, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut pending_no_run = false;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.starts_with("<!-- docs-test: setup") {
            let start = i;
            let mut body = String::new();
            i += 1;
            while i < lines.len() && lines[i].trim() != "-->" {
                body.push_str(lines[i]);
                body.push('\n');
                i += 1;
            }
            assert!(
                i < lines.len(),
                "{doc}:{}: unclosed setup comment",
                start + 1
            );
            out.push(Block {
                doc,
                line: start + 1,
                kind: Kind::Setup,
                text: body,
            });
            i += 1;
            continue;
        }
        if trimmed.starts_with("<!-- docs-test: no-run") {
            pending_no_run = true;
            i += 1;
            continue;
        }
        if let Some(fence) = fence_of(trimmed) {
            let indent = line.len() - trimmed.len();
            let info = trimmed[fence.len()..].trim();
            assert!(
                !info.is_empty(),
                "{doc}:{}: a code block needs an info string (sh, console, text, json, ...)",
                i + 1
            );
            let start = i;
            let mut body = String::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with(fence) {
                let l = lines[i];
                let strip = l.len() - l.trim_start().len();
                body.push_str(&l[strip.min(indent)..]);
                body.push('\n');
                i += 1;
            }
            i += 1;
            let mut words = info.split_whitespace();
            let lang = words.next().unwrap_or_default();
            let no_run = words.any(|w| w == "no-run");
            let kind = match lang {
                "sh" | "bash" | "shell" if no_run => Kind::NoRun,
                "console" if no_run => Kind::NoRun,
                "sh" | "bash" | "shell" => Kind::Run,
                "console" => Kind::Console,
                _ => continue,
            };
            out.push(Block {
                doc,
                line: start + 1,
                kind,
                text: body,
            });
            continue;
        }
        // An indented code block: four spaces after a blank line (not a list's text).
        let after_blank = i > 0 && lines[i - 1].trim().is_empty();
        if after_blank && line.starts_with("    ") && !trimmed.is_empty() {
            let prev_nonblank = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
            let in_list = prev_nonblank.is_some_and(|l| l.starts_with("  "));
            if !in_list {
                assert!(
                    pending_no_run,
                    "{doc}:{}: an indented code block; use a fenced ```sh block (or mark it \
                     with <!-- docs-test: no-run REASON --> where the indentation is needed)",
                    i + 1
                );
                let start = i;
                let mut body = String::new();
                while i < lines.len() && (lines[i].starts_with("    ") || lines[i].is_empty()) {
                    body.push_str(lines[i].get(4..).unwrap_or_default());
                    body.push('\n');
                    i += 1;
                }
                out.push(Block {
                    doc,
                    line: start + 1,
                    kind: Kind::NoRun,
                    text: body,
                });
                pending_no_run = false;
                continue;
            }
        }
        if !trimmed.is_empty() && !trimmed.starts_with("<!--") {
            pending_no_run = false;
        }
        i += 1;
    }
    out
}

fn fence_of(trimmed: &str) -> Option<&'static str> {
    ["````", "```", "~~~"]
        .into_iter()
        .find(|f| trimmed.starts_with(f))
}

/// `$ command` lines (with `\` continuations) and the output lines shown after each.
fn console_steps(text: &str) -> Vec<(String, Vec<String>)> {
    let mut steps: Vec<(String, Vec<String>)> = Vec::new();
    let mut continuing = false;
    for line in text.lines() {
        if continuing {
            let step = steps.last_mut().unwrap();
            step.0.push('\n');
            step.0.push_str(line);
            continuing = line.ends_with('\\');
        } else if let Some(cmd) = line.strip_prefix("$ ") {
            steps.push((cmd.to_owned(), Vec::new()));
            continuing = cmd.ends_with('\\');
        } else if let Some(step) = steps.last_mut() {
            step.1.push(line.trim_end().to_owned());
        }
    }
    steps
}

/// Whether `actual` matches `expected`, where an expected line `...` matches any number
/// of lines and `[..]` any text within a line.
fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(line, more)| line_matches(first, line) && lines_match(rest, more)),
    }
}

fn line_matches(expected: &str, actual: &str) -> bool {
    let actual = actual.trim_end();
    let mut parts = expected.split("[..]");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (n, part) in parts.iter().enumerate() {
        if n + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Rewrite the server paths the docs use to the same paths under `$DOCS_ROOT`.
fn placeholders(script: &str) -> String {
    let mut out = String::with_capacity(script.len());
    let mut rest = script;
    'outer: while !rest.is_empty() {
        for prefix in ["/etc/", "/srv/", "/var/"] {
            if rest.starts_with(prefix) {
                let before = out.chars().last();
                if before.map_or(true, |c| c.is_whitespace() || "=\"'".contains(c)) {
                    out.push_str("$DOCS_ROOT");
                    out.push_str(prefix);
                    rest = &rest[prefix.len()..];
                    continue 'outer;
                }
            }
        }
        let ch = rest.chars().next().unwrap();
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

/// Runs the binaries' `--help` once per subcommand path.
struct Helps {
    bin_dir: PathBuf,
    cache: BTreeMap<(String, Vec<String>), String>,
}

impl Helps {
    fn help(&mut self, bin: &str, path: &[String]) -> Option<String> {
        let key = (bin.to_owned(), path.to_vec());
        if let Some(text) = self.cache.get(&key) {
            return Some(text.clone());
        }
        let mut command = Command::new(self.bin_dir.join(bin));
        if bin == "cargo-tuf" {
            command.arg("tuf");
        }
        let output = command.args(path).arg("--help").output().unwrap();
        if !output.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        self.cache.insert(key, text.clone());
        Some(text)
    }

    /// Problems with one `tuf`/`cargo tuf` invocation's words.
    fn check(&mut self, bin: &str, args: &[String]) -> Vec<String> {
        let mut problems = Vec::new();
        let mut path: Vec<String> = Vec::new();
        let mut positional_seen = false;
        let shown = |path: &[String]| {
            let name = if bin == "cargo-tuf" { "cargo tuf" } else { bin };
            std::iter::once(name.to_owned())
                .chain(path.iter().cloned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        for arg in args {
            if arg == "--" {
                break;
            }
            let Some(help) = self.help(bin, &path) else {
                problems.push(format!("`{} --help` fails", shown(&path)));
                break;
            };
            if arg.starts_with('-') {
                let flag = arg.split('=').next().unwrap_or_default();
                if !help_lists_flag(&help, flag) {
                    problems.push(format!("`{flag}` is not in `{} --help`", shown(&path)));
                }
            } else if !positional_seen && subcommands(&help).contains(arg.as_str()) {
                path.push(arg.clone());
            } else {
                positional_seen = true;
            }
        }
        problems
    }
}

fn help_lists_flag(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(at, _)| {
        let before = help[..at].chars().last();
        let after = help[at + flag.len()..].chars().next();
        before.map_or(true, |c| c == ' ' || c == ',')
            && after.map_or(true, |c| " ,=[<\n.".contains(c))
    })
}

fn subcommands(help: &str) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.ends_with("Commands:") {
            in_commands = true;
        } else if in_commands {
            match line.strip_prefix("  ") {
                Some(entry) if !entry.starts_with(' ') => {
                    if let Some(name) = entry.split_whitespace().next() {
                        out.insert(name);
                    }
                }
                Some(_) => {}
                None => in_commands = false,
            }
        }
    }
    out
}

/// Shell words of a script, with `\`-newline joined, comments dropped, and operators
/// (`|`, `||`, `&&`, `;`, `>`, `(`, `)`) as words of their own. Good enough for docs.
fn shell_words(script: &str) -> Vec<String> {
    let joined = script.replace("\\\n", " ");
    let mut words = Vec::new();
    for line in joined.lines() {
        let mut word = String::new();
        let mut has_word = false;
        let mut chars = line.chars().peekable();
        let flush = |word: &mut String, has_word: &mut bool, words: &mut Vec<String>| {
            if *has_word {
                words.push(std::mem::take(word));
                *has_word = false;
            }
        };
        while let Some(ch) = chars.next() {
            match ch {
                '\'' | '"' => {
                    has_word = true;
                    for c in chars.by_ref() {
                        if c == ch {
                            break;
                        }
                        word.push(c);
                    }
                }
                '#' if !has_word => break,
                c if c.is_whitespace() => flush(&mut word, &mut has_word, &mut words),
                '|' | '&' | ';' | '>' | '<' | '(' | ')' => {
                    flush(&mut word, &mut has_word, &mut words);
                    words.push(ch.to_string());
                }
                c => {
                    has_word = true;
                    word.push(c);
                }
            }
        }
        flush(&mut word, &mut has_word, &mut words);
        words.push(";".to_owned());
    }
    words
}

/// Every `tuf ...` and `cargo tuf ...` invocation of a script: (binary, arguments).
fn invocations(script: &str) -> Vec<(&'static str, Vec<String>)> {
    let words = shell_words(script);
    let operator = |w: &str| ["|", "&", ";", ">", "<", "(", ")"].contains(&w);
    let mut out = Vec::new();
    let mut at_command = true;
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        if operator(word) {
            at_command = true;
            i += 1;
            continue;
        }
        if at_command && word.contains('=') && !word.starts_with('-') {
            i += 1; // `NAME=value cmd`
            continue;
        }
        let bin = match (at_command, word, words.get(i + 1).map(String::as_str)) {
            (true, "tuf", _) => Some(("tuf", i + 1)),
            (true, "cargo", Some("tuf")) => Some(("cargo-tuf", i + 2)),
            _ => None,
        };
        at_command = false;
        if let Some((bin, start)) = bin {
            let end = words[start..]
                .iter()
                .position(|w| operator(w))
                .map_or(words.len(), |p| start + p);
            out.push((bin, words[start..end].to_vec()));
            i = end;
            continue;
        }
        if word == "cargo" && words.get(i + 1).is_some_and(|w| w == "install") {
            let end = words[i..]
                .iter()
                .position(|w| operator(w))
                .map_or(words.len(), |p| i + p);
            out.push(("cargo-install", words[i..end].to_vec()));
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// Syntax and flags of one block; problems as lines.
fn static_problems(block: &Block, helps: &mut Helps) -> Vec<String> {
    let script = block.script();
    let mut problems = Vec::new();
    let syntax = Command::new("bash")
        .args(["-n", "-c", &script])
        .output()
        .unwrap();
    if !syntax.status.success() {
        problems.push(format!(
            "{}: not valid shell: {}",
            block.at(),
            String::from_utf8_lossy(&syntax.stderr).trim()
        ));
    }
    for (bin, args) in invocations(&script) {
        if bin == "cargo-install" {
            if !args.iter().any(|a| a == "--locked") {
                problems.push(format!(
                    "{}: `{}` without --locked builds with dependency versions nobody tested",
                    block.at(),
                    args.join(" ")
                ));
            }
            continue;
        }
        for problem in helps.check(bin, &args) {
            problems.push(format!("{}: {problem}", block.at()));
        }
    }
    problems
}

/// Runs one document's runnable blocks in order; the first failure stops the document
/// (later blocks build on earlier ones).
fn run_doc(blocks: &[Block], bin_dir: &Path) -> Option<String> {
    if !blocks
        .iter()
        .any(|b| matches!(b.kind, Kind::Run | Kind::Console))
    {
        return None;
    }
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("work");
    let root = scratch.path().join("root");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&root).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let bash = |script: &str| {
        let mut command = Command::new("bash");
        command
            .args(["-e", "-o", "pipefail", "-c", &placeholders(script)])
            .current_dir(&work)
            .env("PATH", &path)
            .env("DOCS_ROOT", &root)
            .env("DOCS_PW", DOCS_PW)
            .env("CARGO_HOME", scratch.path().join("cargo-home"))
            .env_remove("TUF_PKCS11_MODULE");
        // The documents' commands must not see this test run's cargo settings.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("CARGO_") || key.starts_with("RUSTC") || key == "RUST_LOG" {
                command.env_remove(key.as_ref());
            }
        }
        command.output().unwrap()
    };
    for block in blocks {
        match block.kind {
            Kind::NoRun => {}
            Kind::Run | Kind::Setup => {
                let output = bash(&block.text);
                if !output.status.success() {
                    return Some(format!(
                        "{}: the block failed ({}){}\n--- block:\n{}--- stdout:\n{}--- stderr:\n{}",
                        block.at(),
                        output.status,
                        if block.kind == Kind::Setup {
                            " (a hidden setup block)"
                        } else {
                            ""
                        },
                        block.text,
                        String::from_utf8_lossy(&output.stdout),
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
            }
            Kind::Console => {
                for (cmd, expected) in console_steps(&block.text) {
                    let output = bash(&format!("{{\n{cmd}\n}} 2>&1"));
                    let actual = String::from_utf8_lossy(&output.stdout).into_owned();
                    let actual_lines: Vec<&str> = actual.lines().collect();
                    let mut expected = expected;
                    while expected.last().is_some_and(String::is_empty) {
                        expected.pop();
                    }
                    if !output.status.success() || !lines_match(&expected, &actual_lines) {
                        let mut message = format!(
                            "{}: `$ {cmd}` {}\n--- shown:\n",
                            block.at(),
                            if output.status.success() {
                                "printed something else than the document shows".to_owned()
                            } else {
                                format!("failed ({})", output.status)
                            }
                        );
                        for line in &expected {
                            let _ = writeln!(message, "{line}");
                        }
                        let _ = write!(message, "--- printed:\n{actual}");
                        return Some(message);
                    }
                }
            }
        }
    }
    None
}

#[test]
fn every_shell_example_in_the_docs_works() {
    if cfg!(not(unix)) {
        eprintln!("the docs' examples are shell for Unix-like systems; not run here");
        return;
    }
    let tuf = PathBuf::from(env!("CARGO_BIN_EXE_tuf"));
    let bin_dir = tuf.parent().unwrap().to_path_buf();
    assert!(
        bin_dir.join("cargo-tuf").is_file(),
        "{} is missing: run `cargo test --workspace`, or build it first with \
         `cargo build -p registry-plugin`",
        bin_dir.join("cargo-tuf").display()
    );
    let root = workspace_root();
    let mut helps = Helps {
        bin_dir: bin_dir.clone(),
        cache: BTreeMap::new(),
    };
    let mut problems = Vec::new();
    let only = std::env::var("DOCS_TEST_ONLY").ok();
    for doc in DOCS {
        if only.as_deref().is_some_and(|o| !doc.contains(o)) {
            continue;
        }
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        let blocks = blocks(doc, &text);
        for block in &blocks {
            problems.extend(static_problems(block, &mut helps));
        }
        if let Some(failure) = run_doc(&blocks, &bin_dir) {
            problems.push(failure);
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in the docs' shell examples:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

#[test]
fn the_matcher_and_the_parser_catch_what_they_should() {
    let lines = |s: &str| s.lines().map(str::to_owned).collect::<Vec<_>>();
    assert!(lines_match(&lines("a\n...\nd"), &["a", "b", "c", "d"]));
    assert!(lines_match(&lines("a [..] c"), &["a b c"]));
    assert!(!lines_match(&lines("a [..] c"), &["a b d"]));
    assert!(!lines_match(&lines("a\nb"), &["a", "b", "c"]));
    assert!(lines_match(&lines("...\nx[..]"), &["w", "xyz"]));
    // A comment inside a `\`-continued command ends it (the operator.md bug of issue #15).
    let broken = "tuf root rotate REPO \\\n  --remove-key root=c.pub.json   # or root=<keyid>\n  --threshold root=2\n";
    let calls = invocations(broken);
    assert_eq!(calls.len(), 1);
    assert!(!calls[0].1.iter().any(|a| a == "--threshold"));
    assert_eq!(
        invocations("X=1 cargo tuf run -- build | tee log")[0].1,
        ["run", "--", "build"]
    );
    assert_eq!(
        placeholders("tuf publish REPO --index /srv/i --online-key=/etc/tuf/o.pem"),
        "tuf publish REPO --index $DOCS_ROOT/srv/i --online-key=$DOCS_ROOT/etc/tuf/o.pem"
    );
}

/// Issue #15's help and usage items: one help layout for every `tuf` command, global
/// options apart from each command's own; `cargo tuf verify --help` without the proxy's
/// options; `cargo tuf run build` answered with the command line to use.
#[test]
fn helps_share_one_layout_and_usage_errors_say_what_to_type() {
    let tuf = PathBuf::from(env!("CARGO_BIN_EXE_tuf"));
    let bin_dir = tuf.parent().unwrap().to_path_buf();
    let mut helps = Helps {
        bin_dir: bin_dir.clone(),
        cache: BTreeMap::new(),
    };
    let top = helps.help("tuf", &[]).unwrap();
    let mut paths: Vec<Vec<String>> = Vec::new();
    for sub in subcommands(&top) {
        if sub == "help" {
            continue;
        }
        let help = helps.help("tuf", &[sub.to_owned()]).unwrap();
        let nested: Vec<String> = subcommands(&help)
            .into_iter()
            .filter(|s| *s != "help")
            .map(str::to_owned)
            .collect();
        if nested.is_empty() {
            paths.push(vec![sub.to_owned()]);
        }
        for n in nested {
            paths.push(vec![sub.to_owned(), n]);
        }
    }
    assert!(paths.len() >= 12, "{paths:?}");
    for path in &paths {
        let help = helps.help("tuf", path).unwrap();
        // clap's long layout puts a blank line after every option.
        let options = help.split("Options:").nth(1).unwrap_or_default();
        let own = options.split("Global options:").next().unwrap_or_default();
        assert!(
            !own.trim().contains("\n\n"),
            "`tuf {}` --help uses the long layout:\n{help}",
            path.join(" ")
        );
        let global = help.split("Global options:").nth(1).unwrap_or_else(|| {
            panic!(
                "`tuf {}` --help has no Global options:\n{help}",
                path.join(" ")
            )
        });
        assert!(global.contains("--quiet") && global.contains("--verbose"));
        assert!(!own.contains("--quiet"), "{help}");
    }

    let verify = helps.help("cargo-tuf", &["verify".to_owned()]).unwrap();
    for proxy_only in ["--refresh-interval", "--max-crate-bytes", "--verbose"] {
        assert!(!verify.contains(proxy_only), "{verify}");
    }
    let run = helps.help("cargo-tuf", &["run".to_owned()]).unwrap();
    assert!(run.contains("--refresh-interval"), "{run}");

    let output = Command::new(bin_dir.join("cargo-tuf"))
        .args(["tuf", "run", "build"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`cargo tuf run -- build`"),
        "no suggestion: {stderr}"
    );
}
