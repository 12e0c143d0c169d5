//! `kos status`: the offline status of the objects in manifests.

use crate::cli::{StatusArgs, StatusOutput};
use crate::exit::{BadInput, ExitCode};
use crate::manifest::{self, LoadOptions};
use crate::output::{safe, sink};
use crate::status;
use color_eyre::Result;
use serde::Serialize;

/// One line of `kos status --output json`.
#[derive(Debug, Serialize)]
struct Row<'a> {
    kind: &'a str,
    api_version: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
    status: status::Status,
    message: String,
}

pub fn run(args: &StatusArgs) -> Result<ExitCode> {
    let options = LoadOptions {
        recursive: args.files.recursive,
        namespace: None,
        inspect_only: true,
    };
    let manifests = manifest::load(&args.files.files, &options)
        .map_err(|errors| BadInput(errors.to_string()))?;
    // The objects' age, as the live view reads it (README.md, "Start-up states").
    let now = chrono::Utc::now();
    let rows: Vec<Row> = manifests
        .iter()
        .map(|m| {
            let assessment = status::of_at(&m.object, now);
            let field = |path: &str| m.object.pointer(path).and_then(|v| v.as_str());
            Row {
                kind: field("/kind").unwrap_or_default(),
                api_version: field("/apiVersion").unwrap_or_default(),
                namespace: field("/metadata/namespace"),
                name: field("/metadata/name").unwrap_or_default(),
                status: assessment.status,
                message: assessment.message,
            }
        })
        .collect();
    match args.output {
        StatusOutput::Json => sink::out(&safe::json(&serde_json::to_string_pretty(&rows)?)),
        StatusOutput::Plain => {
            let mut out = String::new();
            for row in &rows {
                out.push_str(&plain_line(row));
                out.push('\n');
            }
            sink::out(&out);
        }
    }
    Ok(ExitCode::Success)
}

/// `Kind namespace/name  status  message`, each piece cleaned: a manifest's text is as
/// untrusted as the cluster's.
fn plain_line(row: &Row) -> String {
    let name = match row.namespace {
        Some(ns) => format!("{}/{}", ns, row.name),
        None => row.name.to_owned(),
    };
    format!(
        "{} {}  {}  {}",
        safe::clean(row.kind),
        safe::clean(&name),
        row.status,
        safe::clean(&row.message)
    )
}
