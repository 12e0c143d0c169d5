//! The disruption controller: the status of each PodDisruptionBudget from the pods its
//! selector selects — `currentHealthy` (ready, not being deleted), `desiredHealthy`,
//! `expectedPods`, `disruptionsAllowed`, `observedGeneration` and the `DisruptionAllowed`
//! condition (`SufficientPods` / `InsufficientPods`). With `maxUnavailable` or a percentage
//! `minAvailable`, the expected pods are the replicas their controllers want (a
//! Deployment's, a ReplicaSet's, a StatefulSet's); a pod whose controller has no scale (a
//! DaemonSet's) makes the sync fail (`SyncFailed`, no disruption allowed), as it does on a
//! real cluster.

use crate::controllers::events::{Note, Source};
use crate::controllers::objects::{
    conditions_of, generation, int_at, name, namespace, set_condition, str_at, terminating,
};
use crate::controllers::runner::{Controller, Ctx, Key, Outcome};
use crate::controllers::selection::{Pod, Selection};
use crate::store::{self, Object};
use serde_json::{Value, json};
use std::collections::HashMap;

const SOURCE: Source = Source::controller("controllermanager");

#[derive(Default)]
pub struct Disruption {
    selection: Selection,
}

impl Controller for Disruption {
    const PRIMARY: &'static str = "poddisruptionbudgets.policy";
    const CHILD: Option<&'static str> = None;
    const WATCHES: &'static [&'static str] = &["pods"];

    fn reconcile(&mut self, ctx: &Ctx, pdb: &Object, _: &[Object]) -> Outcome {
        let (ns, pdb_name) = (namespace(pdb), name(pdb));
        if terminating(pdb) {
            return Outcome::default();
        }
        // No selector selects nothing (an empty one, everything).
        let selector = pdb["spec"]["selector"]
            .as_object()
            .map(|_| &pdb["spec"]["selector"]);
        self.selection
            .select(&(ns.to_owned(), pdb_name.to_owned()), selector);
        let pods: Vec<&Pod> = selector
            .map(|s| self.selection.pods(ns, s).collect())
            .unwrap_or_default();
        if pods.is_empty() {
            ctx.events.record(
                &SOURCE,
                pdb,
                &Note::normal("NoPods", "No matching pods found"),
            );
        }
        let now = store::now();
        let mut conditions = conditions_of(pdb);
        let status = match expected(ctx, pdb, &pods) {
            Ok((expected, desired)) => {
                let healthy = pods.iter().filter(|p| !p.terminating && p.ready).count() as i64;
                let allowed = if expected > 0 {
                    (healthy - desired).max(0)
                } else {
                    0
                };
                let (state, reason) = if allowed > 0 {
                    ("True", "SufficientPods")
                } else {
                    ("False", "InsufficientPods")
                };
                set_condition(
                    &mut conditions,
                    allowed_condition(pdb, state, reason, ""),
                    &now,
                );
                json!({"currentHealthy": healthy, "desiredHealthy": desired,
                       "expectedPods": expected, "disruptionsAllowed": allowed,
                       "observedGeneration": generation(pdb), "conditions": conditions})
            }
            Err(error) => {
                let message = format!("Failed to calculate the number of expected pods: {error}");
                ctx.events.record(
                    &SOURCE,
                    pdb,
                    &Note::warning("CalculateExpectedPodCountFailed", message),
                );
                let failed = allowed_condition(pdb, "False", "SyncFailed", &error);
                set_condition(&mut conditions, failed, &now);
                let mut status = pdb.get("status").cloned().unwrap_or_else(|| json!({}));
                status["disruptionsAllowed"] = json!(0);
                status["conditions"] = json!(conditions);
                status
            }
        };
        let _ = ctx.store.mutate(Self::PRIMARY, ns, pdb_name, |o| {
            o["status"] = status;
        });
        Outcome::default()
    }

    fn forget(&mut self, pdb: &Object) {
        self.selection.unselect(namespace(pdb), name(pdb));
    }

    fn observe(&mut self, _: &str, pod: &Object, gone: bool) -> Vec<Key> {
        self.selection.observe(pod, gone)
    }

    fn reset(&mut self) {
        self.selection.clear_pods();
    }
}

fn allowed_condition(pdb: &Value, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": "DisruptionAllowed", "status": status, "reason": reason,
           "message": message, "observedGeneration": generation(pdb)})
}

/// The expected pods and the healthy ones the budget wants, or why they cannot be told.
fn expected(ctx: &Ctx, pdb: &Value, pods: &[&Pod]) -> Result<(i64, i64), String> {
    let spec = &pdb["spec"];
    if !spec["maxUnavailable"].is_null() {
        let expected = expected_scale(ctx, namespace(pdb), pods)?;
        let unavailable = scaled(&spec["maxUnavailable"], expected)?;
        return Ok((expected, (expected - unavailable).max(0)));
    }
    match &spec["minAvailable"] {
        Value::Number(n) => Ok((pods.len() as i64, n.as_i64().unwrap_or(0))),
        Value::String(_) => {
            let expected = expected_scale(ctx, namespace(pdb), pods)?;
            Ok((expected, scaled(&spec["minAvailable"], expected)?))
        }
        _ => Ok((0, 0)),
    }
}

/// An int-or-percent of `total`, percentages rounded up.
fn scaled(value: &Value, total: i64) -> Result<i64, String> {
    if let Some(n) = value.as_i64() {
        return Ok(n);
    }
    let text = value.as_str().unwrap_or_default();
    let percent: i64 = text
        .strip_suffix('%')
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("invalid value for IntOrString: invalid value {text:?}"))?;
    Ok((percent * total + 99) / 100)
}

/// The replicas the pods' controllers want, each controller counted once.
fn expected_scale(ctx: &Ctx, ns: &str, pods: &[&Pod]) -> Result<i64, String> {
    let mut scales: HashMap<String, i64> = HashMap::new();
    for pod in pods {
        let Some(owner) = &pod.controller else {
            // An unmanaged pod adds nothing to the expected count.
            continue;
        };
        let uid = owner["uid"].as_str().unwrap_or_default().to_owned();
        if scales.contains_key(&uid) {
            continue;
        }
        let (scale_uid, scale) = scale_of(ctx, ns, owner)?
            .ok_or_else(|| format!("found no controllers for pod {:?}", pod.name))?;
        scales.insert(uid, 0);
        scales.insert(scale_uid, scale);
    }
    Ok(scales.values().sum())
}

fn controller_of(pod: &Value) -> Option<&Value> {
    pod["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)
}

/// The uid and wanted replicas of the controller `owner` names: a ReplicaSet's Deployment
/// when it has one, else the ReplicaSet, StatefulSet or ReplicationController itself;
/// `None` when it is not there. A controller without a `scale` subresource is an error.
fn scale_of(ctx: &Ctx, ns: &str, owner: &Value) -> Result<Option<(String, i64)>, String> {
    let resource = match owner["kind"].as_str().unwrap_or_default() {
        "ReplicaSet" => "replicasets.apps",
        "StatefulSet" => "statefulsets.apps",
        "ReplicationController" => "replicationcontrollers",
        "DaemonSet" => return Err(unscaled("daemonsets.apps")),
        "Job" => return Err(unscaled("jobs.batch")),
        _ => return Ok(None),
    };
    Ok(scale_in_store(ctx, ns, resource, owner))
}

fn unscaled(resource: &str) -> String {
    format!("{resource} does not implement the scale subresource")
}

fn scale_in_store(ctx: &Ctx, ns: &str, resource: &str, owner: &Value) -> Option<(String, i64)> {
    let object = ctx.store.get(resource, ns, owner["name"].as_str()?)?;
    if object["metadata"]["uid"] != owner["uid"] {
        return None;
    }
    if let Some(deployment) = controller_of(&object).filter(|o| o["kind"] == "Deployment") {
        let name = deployment["name"].as_str()?;
        let deployment = ctx.store.get("deployments.apps", ns, name)?;
        let uid = str_at(&deployment, "/metadata/uid").to_owned();
        return Some((uid, int_at(&deployment, "/spec/replicas", 1)));
    }
    let uid = str_at(&object, "/metadata/uid").to_owned();
    Some((uid, int_at(&object, "/spec/replicas", 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_up() {
        assert_eq!(scaled(&json!("50%"), 3), Ok(2));
        assert_eq!(scaled(&json!("10%"), 10), Ok(1));
        assert_eq!(scaled(&json!(1), 10), Ok(1));
        assert!(scaled(&json!("half"), 10).is_err());
    }
}
