//! `tuf verify`: check a published repository from a trusted root, as a client would
//! (root chain, timestamp, snapshot, targets, bins, target bytes), and list every problem
//! found, one per line, with what to do about it. Exit 0 when there is none, 1 otherwise.

use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::Serialize;
use std::sync::Arc;
use tuf_core::Limits;
use tuf_repo::publish::Repository;

use tuf_repo::remote::{Index, StoreFiles};
use tuf_repo::store::Location;
use tuf_repo::verify::{check_published, CheckReport, PublishedFiles, TargetCheck};

use crate::exit::{err, usage, Code};
use crate::files;
use crate::layout;
use crate::ui::Ui;

/// Arguments of `tuf verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The root the client trusts (e.g. a copy of `1.root.json` obtained out of band).
    #[arg(long, value_name = "TRUSTED_ROOT.json")]
    pub root: PathBuf,
    /// The published metadata directory (`REPO/metadata`), or the object-store URL the
    /// repository is published at (`s3://bucket/prefix`: its `metadata/` and `targets/`
    /// are read through the store).
    #[arg(value_name = "METADATA_DIR|URL")]
    pub metadata: PathBuf,
    /// An S3-compatible server for an `s3://` URL.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// Also check every signed index file's bytes in this index directory. Without it,
    /// the hash-named copies under `REPO/targets/` are checked if that directory exists.
    #[arg(long, value_name = "DIR")]
    pub index: Option<PathBuf>,
    /// Print the result as one JSON object on stdout (schema in docs/operator.md).
    #[arg(long)]
    pub json: bool,
}

/// The `--json` output.
#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    command: &'static str,
    metadata: String,
    trusted_root: String,
    /// `index`, `copies` or `none`.
    target_check: &'static str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp_version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot_version: Option<u64>,
    bins: usize,
    targets: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    index_files: Option<usize>,
    problems: Vec<JsonProblem<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped: Option<&'static str>,
    exit_code: u8,
}

#[derive(Debug, Serialize)]
struct JsonProblem<'a> {
    subject: &'a str,
    code: &'static str,
    message: String,
    advice: &'static str,
}

/// Run `tuf verify`.
pub fn run(args: &Args, ui: &Ui) -> anyhow::Result<Code> {
    let trusted = files::read(&args.root)?;
    let metadata = &args.metadata;
    let on_store = metadata
        .to_str()
        .map(Location::parse)
        .transpose()?
        .and_then(|l| match l {
            Location::Url(url) => Some(url),
            Location::Local(_) => None,
        });
    let (published, check): (Arc<dyn PublishedFiles>, _) = match on_store {
        Some(url) => {
            let store = crate::cmd::store::open_url(&url, args.s3_endpoint.as_deref())?;
            let index = args.index.as_ref().map(|dir| Index::Local(dir.clone()));
            let check = match &args.index {
                Some(_) => TargetCheck::Index,
                None => TargetCheck::Copies,
            };
            (Arc::new(StoreFiles::new(store, index)), check)
        }
        None => {
            let repository = local_repository(args)?;
            let check = match &args.index {
                Some(_) => TargetCheck::Index,
                None if repository.targets_dir().is_dir() => TargetCheck::Copies,
                None => TargetCheck::None,
            };
            (Arc::new(repository), check)
        }
    };
    let progress = ui.progress();
    // One `now` for the whole walk.
    let now = Utc::now();
    let report = check_published(
        published,
        &trusted,
        now,
        check,
        &Limits::default(),
        progress.as_ref(),
    );
    finish(args, check, &report, ui)
}

/// The local repository whose metadata directory `args` names (`REPO/metadata`, beside
/// `REPO/targets`).
fn local_repository(args: &Args) -> anyhow::Result<Repository> {
    let metadata = &args.metadata;
    if !metadata.is_dir() {
        return Err(usage(format!(
            "{}: not a directory; give the published metadata directory (REPO/metadata)",
            metadata.display()
        )));
    }
    // The engine's layout: REPO/metadata and REPO/targets side by side.
    let repo_dir = if metadata
        .file_name()
        .is_some_and(|n| n == layout::METADATA_DIR)
    {
        metadata
            .parent()
            .map_or_else(PathBuf::new, Path::to_path_buf)
    } else if metadata.join(layout::METADATA_DIR).is_dir() {
        metadata.clone()
    } else {
        return Err(usage(format!(
            "{}: expected a directory named `{}` (REPO/metadata)",
            metadata.display(),
            layout::METADATA_DIR
        )));
    };
    if let Some(index) = &args.index {
        if !index.is_dir() {
            return Err(usage(format!(
                "--index {}: not a directory; give the registry's sparse index directory",
                index.display()
            )));
        }
    }
    Ok(Repository::new(
        args.index.clone().unwrap_or_default(),
        repo_dir.as_path(),
    ))
}

/// Print `report` and decide the exit code.
fn finish(args: &Args, check: TargetCheck, report: &CheckReport, ui: &Ui) -> anyhow::Result<Code> {
    let metadata = &args.metadata;
    let code = if report.is_ok() {
        Code::Ok
    } else {
        Code::Failure
    };
    if args.json {
        tuf_fs::outln!(
            "{}",
            serde_json::to_string_pretty(&json_report(args, check, report, code))?
        )?;
    } else {
        for problem in &report.problems {
            tuf_fs::outln!(
                "{}: {} [{}]; to fix: {}",
                problem.subject,
                problem.message(),
                problem.code,
                problem.advice()
            )?;
        }
    }
    let what = match check {
        // With release feeds on, the bins also sign feeds, checked against their copies
        // (docs/feeds.md): the count is of signed targets, not of index files.
        TargetCheck::Index => "signed targets checked",
        TargetCheck::Copies => "target copies checked",
        TargetCheck::None => "targets listed (bytes not checked)",
    };
    ui.detail(format!(
        "looked at {} bin(s), {} {what}{}",
        report.bins,
        report.targets,
        if check == TargetCheck::Index {
            format!(", {} file(s) in the index", report.index_files)
        } else {
            String::new()
        }
    ));
    if report.is_ok() {
        if !args.json {
            ui.info(format!(
                "ok: root v{}, timestamp v{}, snapshot v{}, {} bin(s), {} {what}",
                report.root_version.unwrap_or(0),
                report.timestamp_version.unwrap_or(0),
                report.snapshot_version.unwrap_or(0),
                report.bins,
                report.targets,
            ));
        }
        return Ok(Code::Ok);
    }
    let listed = if args.json {
        "listed in the JSON output"
    } else {
        "listed above"
    };
    let count = report.problems.len();
    Err(err(
        code,
        match (report.stopped, report.problems.last()) {
            (Some(stopped), Some(fatal)) => format!(
                "{} does not verify from {}: {}: {}; {stopped}. {count} problem(s) {listed}",
                metadata.display(),
                args.root.display(),
                fatal.subject,
                fatal.message()
            ),
            _ => format!(
                "{count} problem(s) found in {} ({} bin(s), {} target(s) looked at), {listed}",
                metadata.display(),
                report.bins,
                report.targets
            ),
        },
    ))
}

fn json_report<'a>(
    args: &Args,
    check: TargetCheck,
    report: &'a CheckReport,
    code: Code,
) -> JsonReport<'a> {
    JsonReport {
        command: "verify",
        metadata: args.metadata.display().to_string(),
        trusted_root: args.root.display().to_string(),
        target_check: match check {
            TargetCheck::Index => "index",
            TargetCheck::Copies => "copies",
            TargetCheck::None => "none",
        },
        ok: report.is_ok(),
        root_version: report.root_version,
        timestamp_version: report.timestamp_version,
        snapshot_version: report.snapshot_version,
        bins: report.bins,
        targets: report.targets,
        index_files: (check == TargetCheck::Index).then_some(report.index_files),
        problems: report
            .problems
            .iter()
            .map(|p| JsonProblem {
                subject: &p.subject,
                code: p.code,
                message: p.message(),
                advice: p.advice(),
            })
            .collect(),
        stopped: report.stopped,
        exit_code: code as u8,
    }
}
