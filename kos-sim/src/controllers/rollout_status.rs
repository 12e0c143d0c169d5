//! The status the Rollout controller writes, without I/O: the replica counts of its
//! ReplicaSets, the strategy's state, the conditions (Progressing, Available, Paused,
//! Healthy, Completed, InvalidSpec) and `phase` / `message` worked out from them the way
//! Argo Rollouts does, with its wording. `observedGeneration` is a string there.

use crate::controllers::objects::{
    conditions_of, generation, int_at, selector_text, set_progress_condition,
};
use crate::controllers::rollout_plan::{HASH, Spec, State, Strategy};
use crate::store::Object;
use serde_json::{Map, Value, json};

/// What one reconcile saw of the ReplicaSets, after its own writes.
pub struct Facts<'a> {
    pub sets: &'a [Object],
    /// The current revision's ReplicaSet.
    pub new: Option<&'a Value>,
    /// Its revision number.
    pub revision: i64,
    /// It was created by this reconcile.
    pub created: bool,
}

fn count(rs: &Value, field: &str) -> i64 {
    int_at(rs, &format!("/status/{field}"), 0)
}

fn hash_of(rs: &Value) -> &str {
    rs["metadata"]["labels"][HASH].as_str().unwrap_or_default()
}

/// The status of a Rollout whose spec cannot be played.
pub fn invalid(ro: &Value, message: &str, now: &str) -> Value {
    let mut conditions = conditions_of(ro);
    set_progress_condition(
        &mut conditions,
        "InvalidSpec",
        ["True", "InvalidSpec", message],
        false,
        now,
    );
    json!({
        "observedGeneration": generation(ro).to_string(),
        "conditions": conditions,
        "phase": "Degraded",
        "message": format!("InvalidSpec: {message}"),
    })
}

/// The status of a Rollout after a reconcile that leaves the strategy in `state`.
pub fn status(ro: &Value, spec: &Spec, state: &State, facts: &Facts<'_>, now: &str) -> Value {
    let sum = |field: &str| -> i64 { facts.sets.iter().map(|rs| count(rs, field)).sum() };
    let active = facts
        .sets
        .iter()
        .find(|rs| !state.active.is_empty() && hash_of(rs) == state.active);
    let mut selector = ro["spec"]["selector"].clone();
    let (available, hpa) = match &spec.strategy {
        // Blue/green serves from the active ReplicaSet alone.
        Strategy::BlueGreen(_) => {
            if !state.active.is_empty() {
                selector["matchLabels"][HASH] = json!(state.active);
            }
            let of_active = |field| active.map_or(0, |rs| count(rs, field));
            (of_active("availableReplicas"), of_active("replicas"))
        }
        Strategy::Canary(_) => (sum("availableReplicas"), sum("replicas")),
    };
    let mut fields = Map::new();
    fields.insert(
        "observedGeneration".into(),
        json!(generation(ro).to_string()),
    );
    let counts = [
        ("replicas", sum("replicas")),
        (
            "updatedReplicas",
            facts.new.map_or(0, |rs| count(rs, "replicas")),
        ),
        ("readyReplicas", sum("readyReplicas")),
        ("availableReplicas", available),
        ("HPAReplicas", hpa),
    ];
    for (field, value) in counts {
        // Zero counts are left out, as the real controller's JSON does (omitempty).
        if value != 0 {
            fields.insert(field.into(), json!(value));
        }
    }
    fields.insert("selector".into(), json!(selector_text(&selector)));
    state.write(&mut fields);
    let conditions = conditions(ro, spec, state, facts, &fields, now);
    fields.insert("conditions".into(), Value::Array(conditions));
    let mut status = Value::Object(fields);
    let (phase, message) = phase(spec, &status);
    status["phase"] = json!(phase);
    status["message"] = json!(message);
    status
}

/// `status` so far (counts and state) as numbers and texts.
struct Seen<'a> {
    replicas: i64,
    updated: i64,
    available: i64,
    current: &'a str,
    stable: &'a str,
}

impl<'a> Seen<'a> {
    fn of(status: &'a Value) -> Seen<'a> {
        let text = |field: &str| status[field].as_str().unwrap_or_default();
        Seen {
            replicas: int_at(status, "/replicas", 0),
            updated: int_at(status, "/updatedReplicas", 0),
            available: int_at(status, "/availableReplicas", 0),
            current: text("currentPodHash"),
            stable: text("stableRS"),
        }
    }
}

/// Whether the rollout is done and every pod of the current revision is available.
fn healthy(spec: &Spec, state: &State, seen: &Seen<'_>) -> bool {
    let strategy_done = match &spec.strategy {
        Strategy::BlueGreen(bg) => {
            state.active == seen.current && (bg.preview.is_empty() || state.preview == seen.current)
        }
        Strategy::Canary(c) => {
            let steps_done = state.step.is_none_or(|i| i == c.steps.len() as i64);
            steps_done && seen.stable == seen.current && seen.replicas == spec.replicas
        }
    };
    strategy_done && seen.updated == spec.replicas && seen.available == spec.replicas
}

fn conditions(
    ro: &Value,
    spec: &Spec,
    state: &State,
    facts: &Facts<'_>,
    fields: &Map<String, Value>,
    now: &str,
) -> Vec<Value> {
    let status = Value::Object(fields.clone());
    let seen = Seen::of(&status);
    let mut conditions = conditions_of(ro);
    conditions.retain(|c| c["type"] != "InvalidSpec");
    let paused = !state.pauses.is_empty() || spec.paused;
    let healthy = !paused && healthy(spec, state, &seen);
    let rs_name = facts
        .new
        .map_or("", |rs| rs["metadata"]["name"].as_str().unwrap_or_default());
    let progressing: (&str, &str, String) = if state.abort {
        let aborted = format!("Rollout aborted update to revision {}", facts.revision);
        let message = match state.analysis.as_ref().filter(|run| run.failed()) {
            Some(run) => format!("{aborted}: AnalysisRun \"{}\" {}", run.name, run.status),
            None => aborted,
        };
        ("False", "RolloutAborted", message)
    } else if paused {
        ("Unknown", "RolloutPaused", "Rollout is paused".into())
    } else if healthy {
        let message = format!("ReplicaSet \"{rs_name}\" has successfully progressed.");
        ("True", "NewReplicaSetAvailable", message)
    } else if facts.created {
        let message = format!("Created new replica set \"{rs_name}\"");
        ("True", "NewReplicaSetCreated", message)
    } else {
        let message = format!("ReplicaSet \"{rs_name}\" is progressing.");
        ("True", "ReplicaSetUpdated", message)
    };
    let (status_, reason, message) = progressing;
    let mut set = |type_: &str, [status, reason, message]: [&str; 3]| {
        set_progress_condition(
            &mut conditions,
            type_,
            [status, reason, message],
            false,
            now,
        );
    };
    set("Progressing", [status_, reason, &message]);
    let available = match &spec.strategy {
        Strategy::BlueGreen(_) => seen.available >= spec.replicas && !state.active.is_empty(),
        Strategy::Canary(_) => seen.available >= spec.replicas,
    };
    set(
        "Available",
        if available {
            [
                "True",
                "AvailableReason",
                "Rollout has minimum availability",
            ]
        } else {
            [
                "False",
                "AvailableReason",
                "Rollout does not have minimum availability",
            ]
        },
    );
    let had = |conditions: &[Value], type_: &str| conditions.iter().any(|c| c["type"] == type_);
    let (had_paused, had_healthy) = (had(&conditions, "Paused"), had(&conditions, "Healthy"));
    let mut set = |type_: &str, [status, reason, message]: [&str; 3]| {
        set_progress_condition(
            &mut conditions,
            type_,
            [status, reason, message],
            false,
            now,
        );
    };
    if paused || had_paused {
        let status = if paused { "True" } else { "False" };
        set("Paused", [status, "RolloutPaused", "Rollout is paused"]);
    }
    if healthy {
        set("Healthy", ["True", "RolloutHealthy", "Rollout is healthy"]);
    } else if had_healthy {
        set(
            "Healthy",
            ["False", "RolloutHealthy", "Rollout is not healthy"],
        );
    }
    let completed = !seen.stable.is_empty() && seen.stable == seen.current;
    let status = if completed { "True" } else { "False" };
    set(
        "Completed",
        [status, "RolloutCompleted", "RolloutCompleted"],
    );
    conditions
}

/// `phase` and `message`, from the status as written: what Argo Rollouts derives them from.
pub fn phase(spec: &Spec, status: &Value) -> (&'static str, String) {
    for c in status["conditions"].as_array().into_iter().flatten() {
        let reason = c["reason"].as_str().unwrap_or_default();
        let message = c["message"].as_str().unwrap_or_default();
        if c["type"] == "InvalidSpec" {
            return ("Degraded", format!("InvalidSpec: {message}"));
        }
        if matches!(reason, "RolloutAborted" | "ProgressDeadlineExceeded") {
            return ("Degraded", format!("{reason}: {message}"));
        }
    }
    if spec.paused {
        return ("Paused", "manually paused".into());
    }
    if let Some(reason) = status
        .pointer("/pauseConditions/0/reason")
        .and_then(Value::as_str)
    {
        return ("Paused", reason.to_owned());
    }
    let seen = Seen::of(status);
    let progressing = |message: &str| ("Progressing", message.to_owned());
    if seen.updated < spec.replicas {
        return progressing("more replicas need to be updated");
    }
    if seen.available < seen.updated {
        return progressing("updated replicas are still becoming available");
    }
    match &spec.strategy {
        Strategy::BlueGreen(_) => {
            let active = status
                .pointer("/blueGreen/activeSelector")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if active.is_empty() || active != seen.current {
                return progressing("active service cutover pending");
            }
            if seen.stable.is_empty() || seen.stable != seen.current {
                return progressing("waiting for post-promotion verification to complete");
            }
        }
        Strategy::Canary(_) => {
            if seen.replicas > seen.updated {
                return progressing("old replicas are pending termination");
            }
            if seen.stable.is_empty() || seen.stable != seen.current {
                return progressing("waiting for all steps to complete");
            }
        }
    }
    ("Healthy", String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::rollout_plan::Pause;

    fn spec() -> Spec {
        Spec::of(&json!({"spec": {"replicas": 2, "selector": {"matchLabels": {"app": "a"}},
            "strategy": {"blueGreen": {"activeService": "active", "autoPromotionEnabled": false}}}}))
        .unwrap()
    }

    fn rs(name: &str, hash: &str, replicas: i64) -> Object {
        std::sync::Arc::new(
            json!({"metadata": {"name": name, "labels": {"app": "a", HASH: hash}},
               "status": {"replicas": replicas, "readyReplicas": replicas,
                          "availableReplicas": replicas}}),
        )
    }

    fn ro() -> Value {
        json!({"metadata": {"name": "ro", "generation": 3},
               "spec": {"selector": {"matchLabels": {"app": "a"}}}})
    }

    #[test]
    fn a_blue_green_pause_shows_as_paused_with_its_reason() {
        let sets = [rs("ro-v1", "v1", 2), rs("ro-v2", "v2", 2)];
        let state = State {
            current: "v2".into(),
            stable: "v1".into(),
            active: "v1".into(),
            pauses: vec![Pause {
                reason: "BlueGreenPause".into(),
                start: "2026-01-01T00:00:00Z".into(),
            }],
            controller_pause: true,
            ..State::default()
        };
        let facts = Facts {
            sets: &sets,
            new: Some(&sets[1]),
            revision: 2,
            created: false,
        };
        let status = status(&ro(), &spec(), &state, &facts, "t");
        assert_eq!(status["phase"], "Paused");
        assert_eq!(status["message"], "BlueGreenPause");
        assert_eq!(status["observedGeneration"], "3");
        assert_eq!(status["selector"], "app=a,rollouts-pod-template-hash=v1");
        assert_eq!(status["replicas"], 4);
        assert_eq!(status["updatedReplicas"], 2);
        assert_eq!(status["availableReplicas"], 2);
        assert_eq!(status["pauseConditions"][0]["reason"], "BlueGreenPause");
        assert_eq!(status["controllerPause"], true);
        assert_eq!(status["blueGreen"]["activeSelector"], "v1");
        let condition = |type_: &str| {
            status["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["type"] == type_)
                .cloned()
                .unwrap()
        };
        assert_eq!(condition("Paused")["status"], "True");
        assert_eq!(condition("Progressing")["reason"], "RolloutPaused");
        assert_eq!(condition("Completed")["status"], "False");
        assert_eq!(condition("Available")["status"], "True");
    }

    #[test]
    fn a_promoted_rollout_is_healthy_and_an_aborted_one_degraded() {
        let sets = [rs("ro-v2", "v2", 2)];
        let mut state = State {
            current: "v2".into(),
            stable: "v2".into(),
            active: "v2".into(),
            ..State::default()
        };
        let facts = Facts {
            sets: &sets,
            new: Some(&sets[0]),
            revision: 2,
            created: false,
        };
        let healthy = status(&ro(), &spec(), &state, &facts, "t");
        assert_eq!(
            (healthy["phase"].as_str(), healthy["message"].as_str()),
            (Some("Healthy"), Some(""))
        );
        let progressing = &healthy["conditions"][0];
        assert_eq!(progressing["reason"], "NewReplicaSetAvailable");
        assert_eq!(
            progressing["message"],
            "ReplicaSet \"ro-v2\" has successfully progressed."
        );
        state.stable = "v1".into();
        state.abort = true;
        let aborted = status(&ro(), &spec(), &state, &facts, "t");
        assert_eq!(aborted["phase"], "Degraded");
        assert_eq!(
            aborted["message"],
            "RolloutAborted: Rollout aborted update to revision 2"
        );
        assert_eq!(aborted["abort"], true);
        // Aborted by its analysis: the message names the run.
        state.analysis = Some(crate::controllers::rollout_plan::Analysis {
            name: "ro-v2-2-1".into(),
            status: "Failed".into(),
        });
        let failed = status(&ro(), &spec(), &state, &facts, "t");
        assert_eq!(
            failed["message"],
            "RolloutAborted: Rollout aborted update to revision 2: AnalysisRun \"ro-v2-2-1\" Failed"
        );
    }

    #[test]
    fn an_invalid_spec_is_degraded_naming_the_problem() {
        let status = invalid(&ro(), "Rollout has missing field '.spec.selector'", "t");
        assert_eq!(status["phase"], "Degraded");
        assert_eq!(
            status["message"],
            "InvalidSpec: Rollout has missing field '.spec.selector'"
        );
    }
}
