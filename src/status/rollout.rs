//! Argo Rollouts' `Rollout`: the verdict is the rules table's (Argo's own phase, conditions
//! and pod hashes), and the message adds what a person promoting by hand looks at: which
//! pod hash each blue/green Service selects, the canary's step and weight.
//!
//! Argo writes `status.message` as the pause reason (`BlueGreenPause`, `CanaryPauseStep`)
//! and leaves it empty once healthy; the details below come from the fields its own
//! `kubectl argo rollouts get` shows.

use super::Assessment;
use super::custom;
use super::fields::{int, list, text};
use super::rules::Table;
use super::summary::Condition;
use serde_json::Value;

/// Separates the parts of a Rollout's message.
const SEP: &str = " · ";

pub(crate) fn assess(object: &Value, conditions: &[Condition], table: &Table) -> Assessment {
    let mut assessment = custom::assess(object, conditions, table);
    let details = details(object);
    if !details.is_empty() {
        let head = assessment.message.trim();
        let mut parts = Vec::with_capacity(details.len() + 1);
        if !head.is_empty() {
            parts.push(head.to_owned());
        }
        parts.extend(details);
        assessment.message = parts.join(SEP);
    }
    assessment
}

/// The strategy's state, in the order a person reads it.
fn details(object: &Value) -> Vec<String> {
    if text(object, "/status/currentPodHash").is_none() {
        return Vec::new();
    }
    if super::fields::at(object, "/spec/strategy/blueGreen").is_some() {
        blue_green(object)
    } else if super::fields::at(object, "/spec/strategy/canary").is_some() {
        canary(object)
    } else {
        Vec::new()
    }
}

/// `preview 7c4b: 3/3 updated · active → 5d9f`: the preview is only worth naming while it
/// differs from what the active Service selects.
fn blue_green(object: &Value) -> Vec<String> {
    let active = text(object, "/status/blueGreen/activeSelector").filter(|s| !s.is_empty());
    let preview = text(object, "/status/blueGreen/previewSelector").filter(|s| !s.is_empty());
    let mut parts = Vec::new();
    if let Some(preview) = preview.filter(|p| Some(*p) != active) {
        parts.push(format!("preview {preview}: {} updated", updated(object)));
    }
    parts.push(format!("active → {}", active.unwrap_or("none yet")));
    parts
}

/// `step 2/4 · weight 20% · stable 5d9f · canary 7c4b`.
fn canary(object: &Value) -> Vec<String> {
    let steps = list(object, "/spec/strategy/canary/steps");
    let mut parts = Vec::new();
    let index = int(object, "/status/currentStepIndex").unwrap_or(0);
    if !steps.is_empty() {
        parts.push(format!(
            "step {}/{}",
            index.min(steps.len() as i64),
            steps.len()
        ));
    }
    let stable = text(object, "/status/stableRS")
        .or_else(|| text(object, "/status/canary/stableRS"))
        .filter(|s| !s.is_empty());
    let current = text(object, "/status/currentPodHash");
    if stable.is_some() && stable != current {
        if let Some(weight) = weight(object, steps, index) {
            parts.push(format!("weight {weight}%"));
        }
        parts.push(format!("stable {}", stable.unwrap_or_default()));
        parts.push(format!(
            "canary {}: {} updated",
            current.unwrap_or_default(),
            updated(object)
        ));
    }
    parts
}

/// The canary's traffic weight: what the traffic router reports, else the last `setWeight`
/// step reached (the step at the current index is the one being carried out).
fn weight(object: &Value, steps: &[Value], index: i64) -> Option<i64> {
    int(object, "/status/canary/weights/canary/weight").or_else(|| {
        let reached = usize::try_from(index + 1).unwrap_or(0).min(steps.len());
        steps[..reached]
            .iter()
            .rev()
            .find_map(|step| step.get("setWeight").and_then(Value::as_i64))
    })
}

/// `updatedReplicas` out of the replicas asked for (1 when `spec.replicas` is unset, as
/// the API's default).
fn updated(object: &Value) -> String {
    format!(
        "{}/{}",
        int(object, "/status/updatedReplicas").unwrap_or(0),
        int(object, "/spec/replicas").unwrap_or(1)
    )
}

#[cfg(test)]
mod tests {
    use crate::status::{Status, of};
    use serde_json::{Value, json};

    fn rollout(strategy: &Value, status: &Value) -> Value {
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 3, "strategy": strategy},
            "status": status,
        })
    }

    fn blue_green_paused() -> Value {
        rollout(
            &json!({"blueGreen": {"activeService": "web", "previewService": "web-preview"}}),
            &json!({
                "observedGeneration": 2, "phase": "Paused", "message": "BlueGreenPause",
                "pauseConditions": [{"reason": "BlueGreenPause", "startTime": "2024-01-01T00:00:00Z"}],
                "currentPodHash": "7c4b", "stableRS": "5d9f",
                "blueGreen": {"activeSelector": "5d9f", "previewSelector": "7c4b"},
                "replicas": 6, "updatedReplicas": 3, "readyReplicas": 6, "availableReplicas": 3,
            }),
        )
    }

    #[test]
    fn a_paused_blue_green_rollout_names_its_reason_preview_and_active_hash() {
        let a = of(&blue_green_paused());
        assert_eq!(a.status, Status::Suspended);
        assert_eq!(
            a.message,
            "Paused: BlueGreenPause · preview 7c4b: 3/3 updated · active → 5d9f"
        );
    }

    #[test]
    fn a_promoted_blue_green_rollout_succeeds_naming_only_the_active_hash() {
        let mut object = blue_green_paused();
        object["status"] = json!({
            "observedGeneration": 2, "phase": "Healthy", "message": "",
            "currentPodHash": "7c4b", "stableRS": "7c4b",
            "blueGreen": {"activeSelector": "7c4b", "previewSelector": "7c4b"},
            "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
        });
        let a = of(&object);
        assert_eq!(a.status, Status::Success);
        assert_eq!(a.message, "Healthy · active → 7c4b");
    }

    #[test]
    fn a_paused_rollout_without_a_phase_names_its_pause_reason() {
        let mut object = blue_green_paused();
        let status = object["status"].as_object_mut().unwrap();
        status.remove("phase");
        status.remove("message");
        let a = of(&object);
        assert_eq!(a.status, Status::Suspended);
        assert!(
            a.message.starts_with("Paused: BlueGreenPause · "),
            "{}",
            a.message
        );
    }

    #[test]
    fn a_canary_paused_at_a_step_shows_the_step_weight_and_both_hashes() {
        let object = rollout(
            &json!({"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {"duration": "1m"}}]}}),
            &json!({
                "observedGeneration": 2, "phase": "Paused", "message": "CanaryPauseStep",
                "pauseConditions": [{"reason": "CanaryPauseStep"}], "currentStepIndex": 1,
                "currentPodHash": "7c4b", "stableRS": "5d9f",
                "replicas": 4, "updatedReplicas": 1, "readyReplicas": 4, "availableReplicas": 4,
            }),
        );
        let a = of(&object);
        assert_eq!(a.status, Status::Suspended);
        assert_eq!(
            a.message,
            "Paused: CanaryPauseStep · step 1/4 · weight 20% · stable 5d9f · canary 7c4b: 1/3 updated"
        );
    }

    #[test]
    fn the_traffic_routers_weight_wins_and_a_finished_canary_shows_only_its_steps() {
        let mut object = rollout(
            &json!({"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}),
            &json!({
                "observedGeneration": 2, "phase": "Progressing", "message": "more replicas need to be updated",
                "currentStepIndex": 0, "currentPodHash": "7c4b", "stableRS": "5d9f",
                "canary": {"weights": {"canary": {"weight": 25}}},
                "replicas": 4, "updatedReplicas": 1,
            }),
        );
        let a = of(&object);
        assert_eq!(a.status, Status::InProgress);
        assert!(a.message.contains("step 0/2 · weight 25%"), "{}", a.message);
        object["status"] = json!({
            "observedGeneration": 2, "phase": "Healthy", "currentStepIndex": 2,
            "currentPodHash": "7c4b", "stableRS": "7c4b",
            "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3,
        });
        let a = of(&object);
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::Success, "Healthy · step 2/2")
        );
    }

    #[test]
    fn a_rollout_not_yet_reconciled_adds_nothing() {
        let object = rollout(&json!({"blueGreen": {"activeService": "web"}}), &json!({}));
        let a = of(&object);
        assert_eq!(a.status, Status::InProgress);
        assert!(!a.message.contains("active"), "{}", a.message);
    }
}
