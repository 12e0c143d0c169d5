//! `kos apply`: load, apply in dependency order, then track headless (plain or JSON).

use crate::apply::{self, Applied, ApplyOptions};
use crate::cli::ApplyArgs;
use crate::exit::{BadInput, ExitCode};
use crate::headless::{self, Format, Options};
use crate::manifest::{self, LoadOptions};
use crate::output::{safe, sink};
use crate::watch::Root;
use color_eyre::Result;
use serde::Serialize;

pub async fn run(args: &ApplyArgs) -> Result<ExitCode> {
    let load = LoadOptions {
        recursive: args.files.recursive,
        namespace: args.cluster.namespace.clone(),
        ..LoadOptions::default()
    };
    let manifests =
        manifest::load(&args.files.files, &load).map_err(|errors| BadInput(errors.to_string()))?;
    if manifests.is_empty() {
        return Err(BadInput("the input holds no objects".into()).into());
    }
    let options = Options::from_args(&args.track, false);
    let cluster = super::connect(&args.cluster).await?;
    let apply_options = ApplyOptions {
        field_manager: args.field_manager.clone(),
        force_conflicts: args.force_conflicts,
        dry_run: args.dry_run,
    };
    let applied = super::within(args.track.timeout, "applying", async {
        apply::apply(&cluster, &manifests, &apply_options)
            .await
            .map_err(|e| super::apply_error(&e))
    })
    .await?;
    let only_apply = args.dry_run || args.no_wait;
    report_applied(&applied, args.dry_run, options.format, only_apply)?;
    if only_apply {
        return Ok(ExitCode::Success);
    }
    let roots = applied.iter().map(Root::from).collect();
    if crate::ui::wanted(&args.track) {
        return crate::ui::track(&cluster, roots, &args.track).await;
    }
    headless::track(&cluster, roots, &options).await
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

/// Says what was applied: lines (on stderr when stdout is for the JSON report), or the
/// JSON document itself when nothing is tracked afterwards.
fn report_applied(applied: &[Applied], dry_run: bool, format: Format, last: bool) -> Result<()> {
    if format == Format::Json && last {
        let rows: Vec<AppliedRow> = applied
            .iter()
            .map(|a| AppliedRow {
                kind: &a.key.kind,
                api_version: &a.api_version,
                namespace: a.key.namespace.as_deref(),
                name: &a.key.name,
                action: a.action,
                checked: a.checked,
            })
            .collect();
        let document = serde_json::json!({"dry_run": dry_run, "applied": rows});
        sink::out(&safe::json(&serde_json::to_string_pretty(&document)?));
        return Ok(());
    }
    for object in applied {
        let suffix = match (dry_run, object.checked) {
            (false, _) => "",
            (true, true) => " (server dry run)",
            (true, false) => " (dry run; not checked by the server: its Namespace or CRD is new)",
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
