//! Where a cell comes from: the `Cell` a column names (a JSON pointer read one of a few
//! ways, or a computation), and the small readers and kubectl wordings (durations,
//! selectors, `<none>`) the cells share.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// A computed cell, for what weighs several fields (a pod's status, a service's ports).
pub(super) type Computed = fn(&Value) -> Value;
/// A computed cell that reads the clock (a time since, a duration up to now).
pub(super) type Timed = fn(&Value, DateTime<Utc>) -> Value;

/// How one column's cell is read from an object. Pointers are JSON pointers; an absent
/// field reads as empty, zero or `<none>` as each variant says, never as an error.
#[derive(Debug, Clone, Copy)]
pub(super) enum Cell {
    /// The string at the pointer; `""` when absent.
    Text(&'static str),
    /// The string at the pointer, or the fallback when it is absent or empty.
    TextOr(&'static str, &'static str),
    /// The integer at the pointer; 0 when absent.
    Int(&'static str),
    /// The boolean at the pointer; false when absent.
    Bool(&'static str),
    /// How many items the array at the pointer holds.
    Count(&'static str),
    /// How many keys the maps at the pointers hold together.
    Keys(&'static [&'static str]),
    /// `x/y` of the integers at the two pointers: ready of desired.
    Ratio(&'static str, &'static str),
    /// `a=b,c=d` of the string map at the pointer.
    Labels(&'static str),
    /// The label selector at the pointer: `app=web,tier in (a,b)`.
    Selector(&'static str),
    /// One field (`name`, `image`) of each container in the list at the pointer.
    Containers(&'static str, &'static str),
    /// Time since the object was created.
    Age,
    Computed(Computed),
    Timed(Timed),
}

impl Cell {
    pub(super) fn value(self, object: &Value, now: DateTime<Utc>) -> Value {
        match self {
            Cell::Text(pointer) => json!(text(object, pointer)),
            Cell::TextOr(pointer, fallback) => json!(text_or(object, pointer, fallback)),
            Cell::Int(pointer) => json!(int(object, pointer)),
            Cell::Bool(pointer) => json!(
                object
                    .pointer(pointer)
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            ),
            Cell::Count(pointer) => json!(items(object, pointer).len()),
            Cell::Keys(pointers) => json!(pointers.iter().map(|p| keys(object, p)).sum::<usize>()),
            Cell::Ratio(part, whole) => {
                json!(format!("{}/{}", int(object, part), int(object, whole)))
            }
            Cell::Labels(pointer) => json!(labels(object, pointer)),
            Cell::Selector(pointer) => json!(selector(object, pointer)),
            Cell::Containers(pointer, field) => json!(containers(object, pointer, field)),
            Cell::Age => json!(since(text(object, "/metadata/creationTimestamp"), now)),
            Cell::Computed(cell) => cell(object),
            Cell::Timed(cell) => cell(object, now),
        }
    }
}

// ---- readers -------------------------------------------------------------------------

pub(super) fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The string at `pointer`, or `fallback` when it is absent or empty.
pub(super) fn text_or<'a>(object: &'a Value, pointer: &str, fallback: &'a str) -> &'a str {
    match text(object, pointer) {
        "" => fallback,
        given => given,
    }
}

pub(super) fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

pub(super) fn items<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn keys(object: &Value, pointer: &str) -> usize {
    object
        .pointer(pointer)
        .and_then(Value::as_object)
        .map_or(0, Map::len)
}

pub(super) fn or_none(value: &str) -> String {
    if value.is_empty() { "<none>" } else { value }.to_owned()
}

pub(super) fn has_condition(object: &Value, type_: &str) -> bool {
    items(object, "/status/conditions")
        .iter()
        .any(|c| c["type"] == type_ && c["status"] == "True")
}

pub(super) fn deleting(object: &Value) -> bool {
    object["metadata"].get("deletionTimestamp").is_some()
}

// ---- times ---------------------------------------------------------------------------

pub(super) fn time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Time since `stamp` as kubectl writes it; `<unknown>` without a stamp.
pub(super) fn since(stamp: &str, now: DateTime<Utc>) -> String {
    match time(stamp) {
        Some(then) => human_signed(now.signed_duration_since(then)),
        None => "<unknown>".into(),
    }
}

pub(super) fn human_signed(delta: chrono::TimeDelta) -> String {
    match delta.num_seconds() {
        // A clock skew of a second or so still reads as "now", as kubectl allows.
        ..-1 => "<invalid>".into(),
        -1 => "0s".into(),
        _ => human(delta.to_std().unwrap_or_default()),
    }
}

/// kubectl's short human duration: `5s`, `3m2s`, `15m`, `5h3m`, `2d`, `2y`.
pub fn human(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    let with_rest = |big: u64, unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big}{unit}")
        } else {
            format!("{big}{unit}{small}{small_unit}")
        }
    };
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        with_rest(minutes, "m", seconds % 60, "s")
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        with_rest(hours, "h", minutes % 60, "m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        with_rest(days, "d", hours % 24, "h")
    } else if hours < 24 * 365 * 2 {
        format!("{days}d")
    } else if hours < 24 * 365 * 8 {
        with_rest(days / 365, "y", days % 365, "d")
    } else {
        format!("{}y", days / 365)
    }
}

// ---- maps, selectors and containers --------------------------------------------------

/// `k=v` of each entry of a string map.
fn pairs(map: Option<&Map<String, Value>>) -> Vec<String> {
    map.map(|map| {
        map.iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect()
    })
    .unwrap_or_default()
}

/// `a=b,c=d` of a string map, `<none>` when empty.
fn labels(object: &Value, pointer: &str) -> String {
    or_none(&pairs(object.pointer(pointer).and_then(Value::as_object)).join(","))
}

/// A label selector as kubectl writes it: `app=web,tier in (a,b),!x`.
fn selector(object: &Value, pointer: &str) -> String {
    let Some(selector) = object.pointer(pointer) else {
        return "<none>".into();
    };
    let mut parts = pairs(selector["matchLabels"].as_object());
    parts.extend(items(selector, "/matchExpressions").iter().map(expression));
    or_none(&parts.join(","))
}

/// One `matchExpressions` entry: `tier in (a,b)`, `tier notin (c)`, `x`, `!x`.
fn expression(expression: &Value) -> String {
    let key = text(expression, "/key");
    let values: Vec<&str> = items(expression, "/values")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match text(expression, "/operator") {
        "In" => format!("{key} in ({})", values.join(",")),
        "NotIn" => format!("{key} notin ({})", values.join(",")),
        "Exists" => key.to_owned(),
        "DoesNotExist" => format!("!{key}"),
        other => format!("{key} {other}"),
    }
}

/// `field` of each container in the list at `pointer`, comma-joined.
fn containers(object: &Value, pointer: &str, field: &str) -> String {
    items(object, pointer)
        .iter()
        .map(|c| c[field].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(",")
}
