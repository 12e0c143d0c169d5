//! `meta.k8s.io/v1` Tables: what the simulated API server answers when kubectl asks for
//! `application/json;as=Table`, with the columns and cell wording of a real API server's
//! printers (kubernetes `pkg/printers/internalversion`), so `kubectl get` looks the same.
//!
//! Pure: objects in, one Table out. It does not read the store, parse requests or negotiate
//! content types; the API layer does that and passes the objects (and, for a custom
//! resource, its CRD) in. Secrets' values never reach a cell: only their count.
//!
//! The columns of each built-in resource are data (`columns`): a name, type, priority and
//! description, and where its cell comes from (`cells`: a JSON pointer or a named
//! computation, those that weigh several fields in `computed`, those of the objects that
//! connect others in `wiring`). A custom resource's columns
//! come from its CRD (`custom`). One printer, here, turns either into the Table.

mod cells;
mod columns;
mod computed;
mod custom;
#[cfg(test)]
mod tests;
mod wiring;

pub use cells::human;

use crate::store::Object;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// What each row's `object` holds (the `includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Include {
    /// No `object` in the rows.
    None,
    /// A `PartialObjectMetadata` with the object's metadata (the API server's default).
    #[default]
    Metadata,
    /// The whole object (kubectl asks for it with `--sort-by`).
    Object,
}

impl Include {
    /// Reads the `includeObject` query value; `None` for an unknown one.
    pub fn parse(value: &str) -> Option<Include> {
        match value {
            "None" => Some(Include::None),
            "Metadata" => Some(Include::Metadata),
            "Object" => Some(Include::Object),
            _ => None,
        }
    }
}

/// How to render beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options<'a> {
    pub include: Include,
    /// The `CustomResourceDefinition` of a custom resource: its `additionalPrinterColumns`
    /// (of the served version) become columns.
    pub crd: Option<&'a Value>,
    /// The list's resourceVersion; without it, the highest among the objects.
    pub resource_version: Option<u64>,
}

/// The Table of `objects` of `resource` (named as kubectl names it: `pods`,
/// `deployments.apps`), with each row's metadata.
pub fn render(resource: &str, objects: &[Object]) -> Value {
    render_with(resource, objects, &Options::default())
}

/// The Table of `objects` of `resource`, rendered as `options` say.
pub fn render_with(resource: &str, objects: &[Object], options: &Options<'_>) -> Value {
    render_at(resource, objects, options, Utc::now())
}

fn render_at(
    resource: &str,
    objects: &[Object],
    options: &Options<'_>,
    now: DateTime<Utc>,
) -> Value {
    let printer = Printer::of(resource, options.crd);
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| row(printer.cells(object, now), object, options.include))
        .collect();
    let resource_version = options
        .resource_version
        .unwrap_or_else(|| highest_resource_version(objects));
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": printer.definitions(),
        "rows": rows,
    })
}

fn highest_resource_version(objects: &[Object]) -> u64 {
    objects
        .iter()
        .filter_map(|o| {
            o["metadata"]["resourceVersion"]
                .as_str()?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

fn row(cells: Vec<Value>, object: &Value, include: Include) -> Value {
    let mut row = json!({});
    row["cells"] = Value::Array(cells);
    match include {
        Include::None => {}
        Include::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": object["metadata"],
            });
        }
        Include::Object => row["object"] = object.clone(),
    }
    row
}

/// One entry of `columnDefinitions`.
fn definition(name: &str, type_: &str, format: &str, description: &str, priority: i64) -> Value {
    json!({
        "name": name, "type": type_, "format": format,
        "description": description, "priority": priority,
    })
}

/// The columns of one resource: a built-in's from the definitions, a custom resource's
/// from its CRD (after the name, which every Table starts with).
enum Printer {
    Builtin(&'static [columns::Column]),
    Custom(Vec<custom::Column>),
}

impl Printer {
    fn of(resource: &str, crd: Option<&Value>) -> Printer {
        if let Some(builtin) = columns::of(resource) {
            return Printer::Builtin(builtin);
        }
        match crd.map(custom::printer_columns) {
            Some(columns) if !columns.is_empty() => Printer::Custom(columns),
            _ => Printer::Builtin(columns::DEFAULT),
        }
    }

    fn definitions(&self) -> Vec<Value> {
        match self {
            Printer::Builtin(columns) => columns.iter().map(columns::Column::definition).collect(),
            Printer::Custom(columns) => std::iter::once(columns::NAME.definition())
                .chain(columns.iter().map(custom::Column::definition))
                .collect(),
        }
    }

    fn cells(&self, object: &Value, now: DateTime<Utc>) -> Vec<Value> {
        match self {
            Printer::Builtin(columns) => columns
                .iter()
                .map(|column| column.cell.value(object, now))
                .collect(),
            Printer::Custom(columns) => std::iter::once(columns::NAME.cell.value(object, now))
                .chain(columns.iter().map(|column| column.cell(object, now)))
                .collect(),
        }
    }
}
