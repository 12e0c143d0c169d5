//! `kos apply`: load, have the server check every object, apply in dependency order, then
//! track (the view, or headless plain or JSON).

use super::Failure;
use crate::apply::later::Later;
use crate::apply::{self, Applied, ApplyOptions, Progress};
use crate::cli::{ApplyArgs, Validate};
use crate::cluster::Cluster;
use crate::exit::{BadInput, ExitCode};
use crate::headless::{self, Format, Options};
use crate::manifest::{self, LoadOptions};
use crate::output::{problem, safe, sink};
use crate::watch::Root;
use color_eyre::Result;
use kube::api::ValidationDirective;
use serde::Serialize;
use tokio::time::Instant;

pub async fn run(args: &ApplyArgs) -> Result<ExitCode> {
    let options = Options::from_args(&args.track, false);
    let started = Instant::now();
    let mut progress = Progress {
        say: Some(|line| sink::err(&safe::clean(line))),
        ..Progress::default()
    };
    let applied = apply_all(args, &mut progress).await;
    say_warnings(&progress);
    let (cluster, later) = match applied {
        Ok(applied) => applied,
        Err(failure) => {
            return Err(super::stopped(
                failure,
                &options,
                started.elapsed(),
                &progress,
            ));
        }
    };
    let only_apply = args.dry_run || args.no_wait;
    report_applied(&progress, args.dry_run, options.format, only_apply)?;
    if only_apply {
        return Ok(ExitCode::Success);
    }
    // The tree keeps the input's order; held objects are tracked from the start.
    let held = later.iter().flat_map(Later::objects);
    let mut roots: Vec<&Applied> = progress.applied.iter().chain(held).collect();
    roots.sort_by_key(|applied| applied.position);
    let sent = roots
        .iter()
        .map(|applied| (applied.key.clone(), applied.sent.clone()))
        .collect();
    let roots = roots.into_iter().map(Root::from).collect();
    if crate::ui::wanted(&args.track) {
        let applied = crate::ui::AppliedBatch {
            warnings: progress
                .warnings
                .iter()
                .map(|w| format!("{}: {}", w.key, w.text))
                .collect(),
            sent,
            later,
        };
        return crate::ui::track(&cluster, roots, &args.track, applied).await;
    }
    headless::track(&cluster, roots, &options, &progress, later).await
}

/// How `args` asks to apply.
pub fn options(args: &ApplyArgs) -> ApplyOptions {
    ApplyOptions {
        field_manager: args.field_manager.clone(),
        force_conflicts: args.force_conflicts,
        dry_run: args.dry_run,
        validation: match args.validate {
            Validate::Strict => ValidationDirective::Strict,
            Validate::Warn => ValidationDirective::Warn,
            Validate::Ignore => ValidationDirective::Ignore,
        },
        deadline: (!args.track.timeout.is_zero()).then(|| Instant::now() + args.track.timeout),
    }
}

/// Loads the manifests and applies them (within the step timeout), recording in `progress`
/// what was applied; returns the cluster they went to and the objects held back until a
/// webhook of the batch can be called, if any (with `--no-wait`, none: they are applied
/// here).
async fn apply_all(
    args: &ApplyArgs,
    progress: &mut Progress,
) -> Result<(Cluster, Option<Later>), Failure> {
    let load = LoadOptions {
        recursive: args.files.recursive,
        namespace: args.cluster.namespace.clone(),
        ..LoadOptions::default()
    };
    let manifests = manifest::load(&args.files.files, &load).map_err(|errors| Failure {
        error: BadInput(errors.to_string()).into(),
        problems: problem::of_load(&errors),
    })?;
    if manifests.is_empty() {
        return Err(color_eyre::Report::from(BadInput("the input holds no objects".into())).into());
    }
    let cluster = super::connect(&args.cluster).await?;
    let options = options(args);
    let later = super::within(args.track.timeout, "applying", async {
        let none: Result<Option<Later>, Failure> = Ok(None);
        let later = apply::apply(&cluster, &manifests, &options, progress).await;
        let later = later.map_err(|e| Failure::of_apply(&e))?;
        if later.is_empty() {
            return none;
        }
        if !args.no_wait {
            return Ok(Some(later));
        }
        later
            .finish(progress)
            .await
            .map_err(|e| Failure::of_apply(&e))?;
        none
    })
    .await?;
    Ok((cluster, later))
}

/// The server's warnings, as kubectl shows them: on stderr, each naming its object.
fn say_warnings(progress: &Progress) {
    for warning in &progress.warnings {
        let line = format!("Warning: {}: {}", warning.key, warning.text);
        sink::err(&safe::clean(&line));
    }
}

/// One applied object in the JSON of `--dry-run` and `--no-wait`.
#[derive(Serialize)]
struct AppliedRow<'a> {
    kind: &'a str,
    api_version: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
    action: apply::Action,
    checked: bool,
}

/// Says what was applied, in the order it was applied: lines (on stderr when stdout is for
/// the JSON report), or the JSON document itself when nothing is tracked afterwards.
fn report_applied(progress: &Progress, dry_run: bool, format: Format, last: bool) -> Result<()> {
    if format == Format::Json && last {
        let rows: Vec<AppliedRow> = progress
            .applied
            .iter()
            .map(|a| AppliedRow {
                kind: &a.key.kind,
                api_version: &a.api_version,
                namespace: a.key.namespace.as_deref(),
                name: &a.key.name,
                action: a.action,
                checked: a.unchecked.is_none(),
            })
            .collect();
        let warnings = crate::output::report::warnings(progress);
        let document =
            serde_json::json!({"dry_run": dry_run, "applied": rows, "warnings": warnings});
        sink::out(&safe::json(&serde_json::to_string_pretty(&document)?));
        return Ok(());
    }
    for object in &progress.applied {
        let suffix = match (dry_run, &object.unchecked) {
            (false, _) => String::new(),
            (true, None) => " (server dry run)".to_owned(),
            (true, Some(why)) => format!(" (dry run; not checked by the server: {why})"),
        };
        let line = format!(
            "{} {}{suffix}",
            safe::clean(&object.key.to_string()),
            object.action
        );
        match format {
            Format::Plain => sink::out(&line),
            Format::Json => sink::err(&line),
        }
    }
    Ok(())
}
