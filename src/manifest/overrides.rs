//! The `kos.dev/` annotations of an object: how it counts toward the verdict (README.md,
//! "Per-object overrides"). Reading them is part of loading, so that a value kos cannot
//! use is bad input before anything is applied. Messages name the annotation and what it
//! accepts, never the value. Pure; no I/O.

use crate::duration;
use crate::tracker::{FailMode, Overrides, WaitFor};
use serde_json::Value;

pub const TRACK: &str = "kos.dev/track";
pub const TIMEOUT: &str = "kos.dev/timeout";
pub const FAIL_MODE: &str = "kos.dev/fail-mode";
pub const WAIT_FOR: &str = "kos.dev/wait-for";
pub const ALLOWED_FAILURES: &str = "kos.dev/allowed-failures";

/// The overrides `object` asks for, or one message per annotation kos cannot use.
pub fn read(object: &Value) -> Result<Overrides, Vec<String>> {
    let annotations = object.pointer("/metadata/annotations");
    let get = |key: &str| annotations.and_then(|a| a.get(key)).and_then(Value::as_str);
    let mut overrides = Overrides::default();
    let mut problems = Vec::new();
    let mut check = |key: &str, accepts: &str, ok: Option<()>| {
        if ok.is_none() {
            problems.push(format!("annotation {key} must be {accepts}"));
        }
    };
    if let Some(text) = get(TRACK) {
        let value = match text {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        check(
            TRACK,
            "\"true\" or \"false\"",
            value.map(|v| overrides.track = v),
        );
    }
    if let Some(text) = get(TIMEOUT) {
        let value = duration::parse(text).ok().filter(|d| !d.is_zero());
        let accepts = "a duration longer than zero, such as 90s, 2m or 1h30m";
        check(TIMEOUT, accepts, value.map(|v| overrides.timeout = Some(v)));
    }
    if let Some(text) = get(FAIL_MODE) {
        let value = match text {
            "fail" => Some(FailMode::Fail),
            "ignore" => Some(FailMode::Ignore),
            _ => None,
        };
        check(
            FAIL_MODE,
            "fail or ignore",
            value.map(|v| overrides.fail_mode = v),
        );
    }
    if let Some(text) = get(WAIT_FOR) {
        let value = match text {
            "exists" => Some(WaitFor::Exists),
            "ready" => Some(WaitFor::Ready),
            "complete" => Some(WaitFor::Complete),
            _ => None,
        };
        check(
            WAIT_FOR,
            "exists, ready or complete",
            value.map(|v| overrides.wait_for = v),
        );
    }
    if let Some(text) = get(ALLOWED_FAILURES) {
        // Digits only, as the annotation is written (`"2"`): no sign, no blanks.
        let value = text
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse::<u32>().ok())
            .flatten();
        check(
            ALLOWED_FAILURES,
            "a whole number, such as \"2\"",
            value.map(|v| overrides.allowed_failures = Some(v)),
        );
    }
    if problems.is_empty() {
        Ok(overrides)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn annotated(annotations: &Value) -> Value {
        json!({"kind": "Service", "metadata": {"name": "a", "annotations": annotations}})
    }

    #[test]
    fn no_annotations_are_the_defaults() {
        let bare = json!({"kind": "Service", "metadata": {"name": "a"}});
        assert_eq!(read(&bare), Ok(Overrides::default()));
        let others = annotated(&json!({"sim.kos.dev/crash": "true"}));
        assert_eq!(read(&others), Ok(Overrides::default()));
    }

    #[test]
    fn every_annotation_is_read() {
        let object = annotated(&json!({TRACK: "false", TIMEOUT: "2m",
            FAIL_MODE: "ignore", WAIT_FOR: "exists", ALLOWED_FAILURES: "2"}));
        let expected = Overrides {
            track: false,
            timeout: Some(Duration::from_mins(2)),
            fail_mode: FailMode::Ignore,
            wait_for: WaitFor::Exists,
            allowed_failures: Some(2),
        };
        assert_eq!(read(&object), Ok(expected));
    }

    #[test]
    fn each_value_kos_cannot_use_is_named_without_quoting_it() {
        let object = annotated(&json!({TRACK: "no", TIMEOUT: "0s",
            FAIL_MODE: "IgnoreAndContinueDeployProcess", WAIT_FOR: "s3cr3t",
            ALLOWED_FAILURES: "-1"}));
        let problems = read(&object).unwrap_err();
        assert_eq!(
            problems,
            [
                "annotation kos.dev/track must be \"true\" or \"false\"",
                "annotation kos.dev/timeout must be a duration longer than zero, such as 90s, \
                 2m or 1h30m",
                "annotation kos.dev/fail-mode must be fail or ignore",
                "annotation kos.dev/wait-for must be exists, ready or complete",
                "annotation kos.dev/allowed-failures must be a whole number, such as \"2\"",
            ]
        );
        assert!(problems.iter().all(|p| !p.contains("s3cr3t")));
    }
}
