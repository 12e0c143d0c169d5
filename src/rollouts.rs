//! Promoting and aborting an Argo Rollout, as `kubectl argo rollouts promote` and `abort`
//! do: the same merge patches, sent the same way.
//!
//! The plugin patches the status subresource first; a server that answers 404 there runs
//! Argo Rollouts before 0.10, without a status subresource, and gets one patch of the whole
//! object instead. [`patches`] decides what to send from the Rollout as it is now and is
//! pure; [`send`] does the requests.

use crate::cluster::describe;
use crate::model::ObjectKey;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use std::fmt;

/// What the user asked of a Rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Past the current pause: clears the pause conditions (and `spec.paused`), or moves a
    /// canary to its next step.
    Promote,
    /// Back to the stable `ReplicaSet`: `status.abort`.
    Abort,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Promote => "promote",
            Operation::Abort => "abort",
        })
    }
}

/// The merge patches for one operation. `status` goes to the status subresource, `spec` to
/// the object; `whole` replaces both where the status subresource does not exist.
#[derive(Debug, Clone, PartialEq)]
pub struct Patches {
    pub status: Option<Value>,
    pub spec: Option<Value>,
    pub whole: Value,
}

/// The API group, version and plural of Rollouts.
pub fn resource() -> ApiResource {
    ApiResource {
        group: "argoproj.io".to_owned(),
        version: "v1alpha1".to_owned(),
        api_version: "argoproj.io/v1alpha1".to_owned(),
        kind: "Rollout".to_owned(),
        plural: "rollouts".to_owned(),
    }
}

/// The patches `operation` needs on `rollout` (the whole object as the server has it).
pub fn patches(operation: Operation, rollout: &Value) -> Patches {
    match operation {
        Operation::Abort => {
            let abort = json!({"status": {"abort": true}});
            Patches {
                status: Some(abort.clone()),
                spec: None,
                whole: abort,
            }
        }
        Operation::Promote => promote(rollout),
    }
}

/// The plugin's plain `promote` (no `--full`, no step skipping).
fn promote(rollout: &Value) -> Patches {
    let paused = rollout.pointer("/spec/paused") == Some(&Value::Bool(true));
    let spec = paused.then(|| json!({"spec": {"paused": false}}));
    let paused_on = rollout
        .pointer("/status/pauseConditions")
        .and_then(Value::as_array)
        .is_some_and(|list| !list.is_empty());
    let step = next_step(rollout);
    let controller_pause = rollout.pointer("/status/controllerPause") == Some(&Value::Bool(true));
    let status = match step {
        // An inconclusive analysis paused the canary: go on past its step.
        Some(next) if paused_on && controller_pause && inconclusive(rollout) => Some(json!({
            "status": {"pauseConditions": null, "controllerPause": false, "currentStepIndex": next}
        })),
        _ if paused_on => Some(json!({"status": {"pauseConditions": null}})),
        // A canary not paused (running an analysis or experiment step): the next step.
        Some(next) => Some(json!({"status": {"pauseConditions": null, "currentStepIndex": next}})),
        None => None,
    };
    let whole = match (step, paused_on) {
        (Some(next), false) => json!({
            "spec": {"paused": false},
            "status": {"pauseConditions": null, "currentStepIndex": next}
        }),
        _ => json!({"spec": {"paused": false}, "status": {"pauseConditions": null}}),
    };
    Patches {
        status,
        spec,
        whole,
    }
}

/// The canary step after the current one (never past the end); `None` without steps.
fn next_step(rollout: &Value) -> Option<i64> {
    let steps = rollout
        .pointer("/spec/strategy/canary/steps")
        .and_then(Value::as_array)
        .filter(|steps| !steps.is_empty())?;
    let total = i64::try_from(steps.len()).unwrap_or(i64::MAX);
    let index = rollout
        .pointer("/status/currentStepIndex")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    Some(if index < total { index + 1 } else { index })
}

/// The canary's current step analysis came back inconclusive.
fn inconclusive(rollout: &Value) -> bool {
    rollout
        .pointer("/status/canary/currentStepAnalysisRunStatus/status")
        .and_then(Value::as_str)
        == Some("Inconclusive")
}

/// Whether `api_version` and `kind` name an Argo Rollout (what the keys act on).
pub fn is_rollout(api_version: &str, kind: &str) -> bool {
    kind == "Rollout" && api_version.starts_with("argoproj.io/")
}

/// Reads Rollout `key` and sends `operation`'s patches; the answer is one line for the
/// view's status line.
pub async fn send(
    client: kube::Client,
    key: ObjectKey,
    operation: Operation,
) -> Result<String, String> {
    let namespace = key.namespace.as_deref().unwrap_or("default");
    let api: Api<DynamicObject> = Api::namespaced_with(client, namespace, &resource());
    let failed =
        |error: &kube::Error| format!("{operation} {} failed: {}", key.name, describe(error));
    let object = api.get(&key.name).await.map_err(|e| failed(&e))?;
    let rollout =
        serde_json::to_value(&object).map_err(|e| format!("{operation} {}: {e}", key.name))?;
    let patches = patches(operation, &rollout);
    let params = PatchParams::default();
    let mut spec = patches.spec;
    if let Some(status) = &patches.status {
        match api
            .patch_status(&key.name, &params, &Patch::Merge(status))
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(response)) if response.code == 404 => spec = Some(patches.whole),
            Err(error) => return Err(failed(&error)),
        }
    }
    if let Some(spec) = &spec {
        api.patch(&key.name, &params, &Patch::Merge(spec))
            .await
            .map_err(|e| failed(&e))?;
    }
    Ok(format!("{operation} sent to rollout {}", key.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary(status: &Value) -> Value {
        json!({"spec": {"strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}]}}},
               "status": status})
    }

    #[test]
    fn abort_sets_status_abort_on_the_status_subresource() {
        let p = patches(Operation::Abort, &canary(&json!({})));
        assert_eq!(p.status, Some(json!({"status": {"abort": true}})));
        assert_eq!(p.spec, None);
        assert_eq!(p.whole, json!({"status": {"abort": true}}));
    }

    #[test]
    fn promoting_a_paused_blue_green_clears_its_pause_conditions() {
        let rollout = json!({"spec": {"strategy": {"blueGreen": {}}},
            "status": {"pauseConditions": [{"reason": "BlueGreenPause"}]}});
        let p = patches(Operation::Promote, &rollout);
        assert_eq!(p.status, Some(json!({"status": {"pauseConditions": null}})));
        assert_eq!(p.spec, None);
        assert_eq!(
            p.whole,
            json!({"spec": {"paused": false}, "status": {"pauseConditions": null}})
        );
    }

    #[test]
    fn a_manual_pause_is_lifted_in_the_spec() {
        let rollout =
            json!({"spec": {"paused": true, "strategy": {"blueGreen": {}}}, "status": {}});
        let p = patches(Operation::Promote, &rollout);
        assert_eq!(p.spec, Some(json!({"spec": {"paused": false}})));
        assert_eq!(p.status, None);
    }

    #[test]
    fn a_canary_paused_at_a_step_only_clears_the_pause() {
        let p = patches(
            Operation::Promote,
            &canary(
                &json!({"currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep"}]}),
            ),
        );
        assert_eq!(p.status, Some(json!({"status": {"pauseConditions": null}})));
    }

    #[test]
    fn a_canary_not_paused_moves_to_the_next_step_never_past_the_end() {
        let p = patches(Operation::Promote, &canary(&json!({"currentStepIndex": 0})));
        assert_eq!(
            p.status,
            Some(json!({"status": {"pauseConditions": null, "currentStepIndex": 1}}))
        );
        let p = patches(Operation::Promote, &canary(&json!({"currentStepIndex": 3})));
        assert_eq!(
            p.status,
            Some(json!({"status": {"pauseConditions": null, "currentStepIndex": 3}}))
        );
        let p = patches(Operation::Promote, &canary(&json!({})));
        assert_eq!(
            p.whole,
            json!({"spec": {"paused": false}, "status": {"pauseConditions": null, "currentStepIndex": 1}})
        );
    }

    #[test]
    fn an_inconclusive_analysis_pause_also_lifts_the_controller_pause() {
        let p = patches(
            Operation::Promote,
            &canary(&json!({
                "currentStepIndex": 1, "controllerPause": true,
                "pauseConditions": [{"reason": "InconclusiveAnalysisRun"}],
                "canary": {"currentStepAnalysisRunStatus": {"status": "Inconclusive"}}
            })),
        );
        assert_eq!(
            p.status,
            Some(
                json!({"status": {"pauseConditions": null, "controllerPause": false, "currentStepIndex": 2}})
            )
        );
    }

    #[test]
    fn only_argo_rollouts_are_rollouts() {
        assert!(is_rollout("argoproj.io/v1alpha1", "Rollout"));
        assert!(!is_rollout("rollouts.kruise.io/v1beta1", "Rollout"));
        assert!(!is_rollout("apps/v1", "Deployment"));
    }
}
