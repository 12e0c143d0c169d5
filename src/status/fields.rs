//! Forgiving readers of JSON fields, shared by the status rules.
//!
//! Objects come from users and clusters: any field may be absent or of the wrong type. These
//! readers never fail; a field that is not what the rules expect reads as absent, as kstatus
//! treats it. They must not interpret fields: that is the rules' job.

use serde_json::Value;
use std::borrow::Cow;

/// The value at a JSON pointer (RFC 6901), as [`Value::pointer`] finds it but without an
/// allocation per step: the rules read a few dozen fields of every watched object, and
/// `Value::pointer` unescapes each token into a new `String` even when it holds no `~`.
/// The pointer is cut at its slashes byte by byte: its tokens are a few letters long, too
/// short for `str::split`'s searcher to pay for itself at a million lookups a rollout.
pub fn at<'a>(object: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(object);
    }
    let mut rest = pointer.strip_prefix('/')?;
    let mut value = object;
    loop {
        let end = rest.bytes().position(|b| b == b'/');
        value = step(value, &rest[..end.unwrap_or(rest.len())])?;
        match end {
            Some(slash) => rest = &rest[slash + 1..],
            None => return Some(value),
        }
    }
}

/// The value one pointer token below `value`.
fn step<'a>(value: &'a Value, token: &str) -> Option<&'a Value> {
    let token = if token.bytes().any(|b| b == b'~') {
        Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(token)
    };
    match value {
        Value::Object(map) => map.get(token.as_ref()),
        Value::Array(items) => index(&token).and_then(|i| items.get(i)),
        _ => None,
    }
}

/// An array index token: digits only, no leading zero (RFC 6901).
fn index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() > 1) {
        return None;
    }
    token.parse().ok()
}

/// The string at a JSON pointer (`/status/phase`), if it is a string.
pub(crate) fn text<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    at(object, pointer).and_then(Value::as_str)
}

/// The string at a JSON pointer, or `""`.
pub(crate) fn text_or_empty<'a>(object: &'a Value, pointer: &str) -> &'a str {
    text(object, pointer).unwrap_or_default()
}

/// The integer at a JSON pointer, if it is an integer.
pub(crate) fn int(object: &Value, pointer: &str) -> Option<i64> {
    at(object, pointer).and_then(Value::as_i64)
}

/// The integer at a JSON pointer, or `default` when absent or not an integer.
pub(crate) fn int_or(object: &Value, pointer: &str, default: i64) -> i64 {
    int(object, pointer).unwrap_or(default)
}

/// True only when the field is the boolean `true`.
pub(crate) fn flag(object: &Value, pointer: &str) -> bool {
    at(object, pointer).and_then(Value::as_bool) == Some(true)
}

/// The array at a JSON pointer, or an empty slice.
pub(crate) fn list<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    at(object, pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A count for [`crate::status::Counts`]: negative reads as 0, huge values saturate.
pub(crate) fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// `1 replica`, `2 replicas`.
pub(crate) fn plural(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Collapses every run of whitespace (newlines included) into one space: messages are one
/// line in every front end.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether [`one_line`] would leave `text` as it is: no whitespace but single spaces between
/// words. Most messages are, and checking is cheaper than rebuilding them.
pub(crate) fn is_one_line(text: &str) -> bool {
    let mut after_space = true;
    for c in text.chars() {
        if c == ' ' {
            if after_space {
                return false;
            }
            after_space = true;
        } else if c.is_whitespace() {
            return false;
        } else {
            after_space = false;
        }
    }
    !after_space || text.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn at_finds_what_value_pointer_finds() {
        let object = json!({
            "metadata": {"annotations": {"deployment.kubernetes.io/revision": "3", "a~b": 1}},
            "status": {"conditions": [{"type": "Ready"}, {"type": "Available"}]},
            "": {"empty": true},
        });
        for pointer in [
            "",
            "/metadata",
            "/metadata/annotations/deployment.kubernetes.io~1revision",
            "/metadata/annotations/a~0b",
            "/status/conditions/1/type",
            "/status/conditions/01/type",
            "/status/conditions/+1/type",
            "/status/conditions/2",
            "/status/conditions/",
            "/status/",
            "/",
            "/status/conditions/type",
            "//empty",
            "/missing/deeper",
            "no-slash",
        ] {
            assert_eq!(at(&object, pointer), object.pointer(pointer), "{pointer}");
        }
    }

    #[test]
    fn wrong_types_read_as_absent() {
        let object = json!({"status": {"replicas": "3", "phase": 4, "paused": "true"}});
        assert_eq!(int(&object, "/status/replicas"), None);
        assert_eq!(int_or(&object, "/status/replicas", 1), 1);
        assert_eq!(text(&object, "/status/phase"), None);
        assert!(!flag(&object, "/status/paused"));
        assert!(list(&object, "/status/replicas").is_empty());
    }

    #[test]
    fn counts_saturate_and_never_go_negative() {
        assert_eq!(count(-4), 0);
        assert_eq!(count(7), 7);
        assert_eq!(count(i64::MAX), u32::MAX);
    }

    #[test]
    fn messages_become_one_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
        for text in [
            "",
            "a",
            "a b",
            " a",
            "a ",
            "a  b",
            "a\nb",
            "a\u{a0}b",
            "Ready",
            "x: y (z) — 2",
        ] {
            assert_eq!(is_one_line(text), one_line(text) == text, "{text:?}");
        }
        assert_eq!(plural(1, "replica"), "1 replica");
        assert_eq!(plural(0, "replica"), "0 replicas");
    }
}
