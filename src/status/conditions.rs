//! Status conditions: reading them, and the rules every kind shares.
//!
//! Owns the kstatus conventions applied before and after the per-kind rules: the
//! generation check, `Reconciling=True` / `Stalled=True` (abnormal-true: their absence is
//! normal), and the `Ready` fallback for kinds without a rule of their own. It must not know
//! any particular kind.

use super::fields::{int, list, text_or_empty};
use super::summary::Condition;
use super::{Assessment, Status};
use serde_json::Value;

/// The annotation in which `autoscaling/v1` `HorizontalPodAutoscalers` carry their conditions.
const HPA_V1_CONDITIONS: &str = "autoscaling.alpha.kubernetes.io/conditions";

/// The entries of `.status.conditions` that are objects; fields of the wrong type read as
/// empty strings.
pub(crate) fn read(object: &Value) -> Vec<Condition> {
    from_list(list(object, "/status/conditions"))
}

/// The conditions an `autoscaling/v1` HPA keeps, JSON-encoded, in an annotation. Text that
/// does not parse as a list of conditions reads as none.
pub(crate) fn hpa_annotation(object: &Value) -> Vec<Condition> {
    let Some(encoded) = super::fields::at(object, "/metadata/annotations")
        .and_then(|annotations| annotations.get(HPA_V1_CONDITIONS))
        .and_then(Value::as_str)
    else {
        return Vec::new();
    };
    match serde_json::from_str::<Value>(encoded) {
        Ok(Value::Array(items)) => from_list(&items),
        _ => Vec::new(),
    }
}

pub(crate) fn from_list(items: &[Value]) -> Vec<Condition> {
    items
        .iter()
        .filter(|item| item.is_object())
        .map(|item| Condition {
            type_: text_or_empty(item, "/type").to_owned(),
            status: text_or_empty(item, "/status").to_owned(),
            reason: text_or_empty(item, "/reason").to_owned(),
            message: text_or_empty(item, "/message").to_owned(),
            updated: [
                text_or_empty(item, "/lastUpdateTime"),
                text_or_empty(item, "/lastTransitionTime"),
            ]
            .into_iter()
            .find(|time| !time.is_empty())
            .unwrap_or_default()
            .to_owned(),
        })
        .collect()
}

/// The first condition of `type_`.
pub(crate) fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether a condition of `type_` has status `True`.
pub(crate) fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "True")
}

/// `Reason: message`, or whichever of the two exists, or nothing.
pub(crate) fn detail(condition: &Condition) -> String {
    match (condition.reason.is_empty(), condition.message.is_empty()) {
        (false, false) => format!("{}: {}", condition.reason, condition.message),
        (false, true) => condition.reason.clone(),
        (true, false) => condition.message.clone(),
        (true, true) => String::new(),
    }
}

/// `prefix: Reason: message`, or just `prefix` when the condition says no more.
pub(crate) fn explain(prefix: &str, condition: &Condition) -> String {
    let detail = detail(condition);
    if detail.is_empty() {
        prefix.to_owned()
    } else {
        format!("{prefix}: {detail}")
    }
}

/// `Type: Reason: message`: a condition named, for messages about a condition that is not
/// obvious from the kind.
/// A condition without a type (half-written by its controller) is named by its status, so
/// that the message is never empty.
pub(crate) fn named(condition: &Condition) -> String {
    if condition.type_.is_empty() {
        let status = if condition.status.is_empty() {
            "no status"
        } else {
            &condition.status
        };
        return explain(&format!("A condition without a type ({status})"), condition);
    }
    explain(&condition.type_, condition)
}

/// The checks kstatus makes before any per-kind rule: a generation the controller has not
/// observed yet, then `Reconciling=True` and `Stalled=True` in list order.
pub(crate) fn preamble(object: &Value, conditions: &[Condition]) -> Option<Assessment> {
    if let Some(generation) = int(object, "/metadata/generation")
        && let Some(observed) = observed_generation(object, generation)
        && generation != observed
    {
        return Some(Assessment::new(
            Status::InProgress,
            format!("Waiting for generation {generation} to be observed (at {observed})"),
        ));
    }
    conditions
        .iter()
        .filter(|c| c.status == "True")
        .find_map(|c| match c.type_.as_str() {
            "Reconciling" => Some(reconciling(c, conditions)),
            "Stalled" => Some(Assessment::new(Status::Failed, named(c))),
            _ => None,
        })
}

/// `Reconciling=True` is work under way, except Flux's `ProgressingWithRetry` beside
/// `Ready=False`: the last attempt failed and the controller is trying again, a failure
/// that is visible now (the stabilization window forgives it if the retry works).
fn reconciling(condition: &Condition, conditions: &[Condition]) -> Assessment {
    match find(conditions, "Ready") {
        Some(ready) if condition.reason == "ProgressingWithRetry" && ready.status == "False" => {
            Assessment::new(Status::Failed, named(ready))
        }
        _ => Assessment::new(Status::InProgress, named(condition)),
    }
}

/// `.status.observedGeneration`. Argo Rollouts before 1.0 wrote it as a string, a pod-template
/// hash that may happen to be all digits; a string is a generation only when it is a number
/// no greater than `generation`.
fn observed_generation(object: &Value, generation: i64) -> Option<i64> {
    let observed = super::fields::at(object, "/status/observedGeneration")?;
    observed.as_i64().or_else(|| {
        observed
            .as_str()
            .and_then(|text| text.parse().ok())
            .filter(|&n| n <= generation)
    })
}

/// For controllers whose status is meaningless until they have written
/// `.status.observedGeneration` (the workloads): in progress while it is absent or 0, as
/// Argo CD and kubectl read it. A mismatch is already caught by [`preamble`].
pub(crate) fn unobserved(object: &Value) -> Option<Assessment> {
    if int(object, "/status/observedGeneration").is_some_and(|observed| observed > 0) {
        return None;
    }
    let message = match int(object, "/metadata/generation") {
        Some(generation) => format!("Waiting for generation {generation} to be observed"),
        None => "Waiting for the controller to observe the object".to_owned(),
    };
    Some(Assessment::new(Status::InProgress, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conditions(list: &Value) -> Vec<Condition> {
        read(&json!({"status": {"conditions": list}}))
    }

    #[test]
    fn reads_conditions_forgivingly() {
        let read = conditions(&json!([
            {"type": "Ready", "status": "True", "reason": "Ok", "message": "fine"},
            "not an object",
            {"type": 7, "status": true}
        ]));
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].reason, "Ok");
        assert_eq!(read[1].type_, "");
        assert!(is_true(&read, "Ready"));
    }

    #[test]
    fn a_condition_without_a_type_is_named_by_its_status() {
        let read = conditions(&json!([{"status": "False"}, {}]));
        assert_eq!(named(&read[0]), "A condition without a type (False)");
        assert_eq!(named(&read[1]), "A condition without a type (no status)");
    }

    #[test]
    fn unobserved_generation_is_in_progress() {
        let object = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 1}});
        let a = preamble(&object, &[]).expect("in progress");
        assert_eq!(a.status, Status::InProgress);
        assert_eq!(a.message, "Waiting for generation 2 to be observed (at 1)");
        let caught_up = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 2}});
        assert_eq!(preamble(&caught_up, &[]), None);
    }

    #[test]
    fn a_numeric_string_is_an_observed_generation_and_a_hash_is_not() {
        let lagging = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": "1"}});
        assert_eq!(
            preamble(&lagging, &[]).expect("in progress").status,
            Status::InProgress
        );
        let hash = json!({"metadata": {"generation": 2},
            "status": {"observedGeneration": "767f98959f"}});
        assert_eq!(preamble(&hash, &[]), None);
        let digits = json!({"metadata": {"generation": 2},
            "status": {"observedGeneration": "8575574967"}});
        assert_eq!(preamble(&digits, &[]), None);
    }

    #[test]
    fn a_retry_after_a_failure_is_a_failure() {
        let retrying = conditions(&json!([
            {"type": "Reconciling", "status": "True", "reason": "ProgressingWithRetry"},
            {"type": "Ready", "status": "False", "reason": "ArtifactFailed", "message": "auth"}
        ]));
        let a = preamble(&json!({}), &retrying).expect("decided");
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::Failed, "Ready: ArtifactFailed: auth")
        );
    }

    #[test]
    fn reconciling_and_stalled_decide_in_list_order() {
        let object = json!({});
        let stalled_first = conditions(&json!([
            {"type": "Stalled", "status": "True", "reason": "BadSpec", "message": "no image"},
            {"type": "Reconciling", "status": "True"}
        ]));
        let a = preamble(&object, &stalled_first).expect("decided");
        assert_eq!(a.status, Status::Failed);
        assert_eq!(a.message, "Stalled: BadSpec: no image");
        let reconciling = conditions(&json!([{"type": "Reconciling", "status": "True"}]));
        let a = preamble(&object, &reconciling).expect("decided");
        assert_eq!(a.status, Status::InProgress);
        assert_eq!(a.message, "Reconciling");
        let normal = conditions(&json!([{"type": "Stalled", "status": "False"}]));
        assert_eq!(preamble(&object, &normal), None);
    }

    #[test]
    fn hpa_annotation_conditions_parse_or_read_as_none() {
        let object = json!({"metadata": {"annotations": {HPA_V1_CONDITIONS:
            r#"[{"type":"AbleToScale","status":"True","reason":"SucceededGetScale"}]"#}}});
        assert_eq!(hpa_annotation(&object)[0].type_, "AbleToScale");
        let broken = json!({"metadata": {"annotations": {HPA_V1_CONDITIONS: "[{"}}});
        assert!(hpa_annotation(&broken).is_empty());
    }

    #[test]
    fn workloads_wait_for_an_observed_generation() {
        let a = unobserved(&json!({"metadata": {"generation": 3}})).expect("in progress");
        assert_eq!(a.message, "Waiting for generation 3 to be observed");
        assert_eq!(
            unobserved(&json!({"status": {"observedGeneration": 3}})),
            None
        );
    }
}
