//! A custom resource's columns: the `additionalPrinterColumns` of its CRD, each read with
//! its `JSONPath` and typed as the column says.

use super::cells::{int, items, since, text};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// One printer column of a CRD.
#[derive(Debug)]
pub(super) struct Column {
    name: String,
    type_: String,
    format: String,
    description: String,
    priority: i64,
    json_path: String,
}

/// The `additionalPrinterColumns` of the CRD's served storage version (or first served
/// version), with their `JSONPaths`.
pub(super) fn printer_columns(crd: &Value) -> Vec<Column> {
    let versions = items(crd, "/spec/versions");
    let version = versions
        .iter()
        .find(|v| v["storage"] == true)
        .or_else(|| versions.first());
    version
        .map(|v| items(v, "/additionalPrinterColumns"))
        .unwrap_or_default()
        .iter()
        .map(|c| Column {
            name: text(c, "/name").to_owned(),
            type_: text(c, "/type").to_owned(),
            format: text(c, "/format").to_owned(),
            description: text(c, "/description").to_owned(),
            priority: int(c, "/priority"),
            json_path: text(c, "/jsonPath").to_owned(),
        })
        .collect()
}

impl Column {
    pub(super) fn definition(&self) -> Value {
        super::definition(
            &self.name,
            &self.type_,
            &self.format,
            &self.description,
            self.priority,
        )
    }

    /// The value at the column's path, as its type says; `null` when absent.
    pub(super) fn cell(&self, object: &Value, now: DateTime<Utc>) -> Value {
        let Some(value) = json_path(object, &self.json_path) else {
            return Value::Null;
        };
        match (self.type_.as_str(), value) {
            ("date", Value::String(stamp)) => json!(since(stamp, now)),
            ("string", Value::String(_)) | (_, Value::Null) => value.clone(),
            ("string", other) => json!(other.to_string()),
            ("integer", other) => json!(other.as_i64()),
            ("number", other) => json!(other.as_f64()),
            ("boolean", other) => json!(other.as_bool()),
            (_, other) => other.clone(),
        }
    }
}

/// Follows the simple `JSONPaths` printer columns use: `.a.b`, `.a[0]`, and
/// `.a[?(@.k=="v")].b`. Anything fancier reads as absent.
fn json_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = object;
    let mut rest = path.trim().trim_start_matches('{').trim_end_matches('}');
    rest = rest.strip_prefix('.').unwrap_or(rest);
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            current = index(current, &after[..end])?;
            rest = &after[end + 1..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            current = current.get(&rest[..end])?;
            rest = &rest[end..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    Some(current)
}

/// One `[...]` step: a filter `?(@.k=="v")` (the first match) or an index.
fn index<'a>(current: &'a Value, selector: &str) -> Option<&'a Value> {
    let Some(filter) = selector
        .strip_prefix("?(@.")
        .and_then(|f| f.strip_suffix(')'))
    else {
        return current.get(selector.parse::<usize>().ok()?);
    };
    let (field, wanted) = filter.split_once("==")?;
    let wanted = wanted.trim().trim_matches(|c| c == '"' || c == '\'');
    current
        .as_array()?
        .iter()
        .find(|item| item[field.trim()].as_str() == Some(wanted))
}
