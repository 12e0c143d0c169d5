//! The rules of the smaller kinds: `PersistentVolumeClaim`, `PersistentVolume`,
//! `PodDisruptionBudget`,
//! `HorizontalPodAutoscaler` (v2 conditions and the `autoscaling/v1` annotation),
//! `CustomResourceDefinition`, `APIService`, Namespace, `ConfigMap` and Secret, and Argo
//! Workflows (a run the user waits on, like a Job).
//!
//! Each reads only its own status. `ConfigMap` and Secret are never read beyond the number
//! of their keys: their data must not reach a message.

use super::conditions::{self, explain, find, named};
use super::fields::{int, plural, text, text_or_empty};
use super::summary::Condition;
use super::{Assessment, Status};
use serde_json::Value;

pub(crate) fn persistent_volume_claim(object: &Value) -> Assessment {
    match text(object, "/status/phase") {
        Some("Bound") => {
            let message = match text(object, "/spec/volumeName") {
                Some(volume) => format!("Bound to {volume}"),
                None => "Bound".to_owned(),
            };
            Assessment::new(Status::Success, message)
        }
        None | Some("" | "Pending") => Assessment::new(Status::InProgress, "Pending"),
        // The volume behind the claim is gone: data may be lost, a person must look.
        Some("Lost") => Assessment::new(Status::Failed, "Lost: the bound volume no longer exists"),
        Some(other) => Assessment::new(Status::Unknown, format!("Phase {other}")),
    }
}

/// A volume is ready for use once `Available` (for a claim to bind) or `Bound`. `Released`
/// (its claim was deleted) is transient when the reclaim policy deletes or recycles the
/// volume; under `Retain` no new claim can bind it until someone clears `spec.claimRef`,
/// which a deploy that expects to use it must be told.
pub(crate) fn persistent_volume(object: &Value) -> Assessment {
    let with_message = |word: &str| phase_message(word, object);
    match text(object, "/status/phase") {
        Some("Available") => Assessment::new(Status::Success, "Available"),
        Some("Bound") => {
            let claim = (
                text(object, "/spec/claimRef/namespace"),
                text(object, "/spec/claimRef/name"),
            );
            let message = match claim {
                (Some(ns), Some(name)) => format!("Bound to {ns}/{name}"),
                (None, Some(name)) => format!("Bound to {name}"),
                _ => "Bound".to_owned(),
            };
            Assessment::new(Status::Success, message)
        }
        None | Some("" | "Pending") => Assessment::new(Status::InProgress, "Pending"),
        Some("Released") => match text(object, "/spec/persistentVolumeReclaimPolicy") {
            Some("Delete" | "Recycle") => Assessment::new(
                Status::InProgress,
                "Released: its claim was deleted and the volume is being reclaimed",
            ),
            _ => Assessment::new(
                Status::Failed,
                "Released: its claim was deleted; no new claim can bind it until spec.claimRef \
                 is removed (reclaim policy Retain)",
            ),
        },
        Some("Failed") => Assessment::new(Status::Failed, with_message("Failed")),
        Some(other) => Assessment::new(Status::Unknown, format!("Phase {other}")),
    }
}

pub(crate) fn pod_disruption_budget(object: &Value) -> Assessment {
    let has_status = super::fields::at(object, "/status")
        .and_then(Value::as_object)
        .is_some_and(|status| !status.is_empty());
    if !has_status {
        return Assessment::new(Status::InProgress, "Waiting for the disruption controller");
    }
    // InsufficientPods only says no disruption is allowed right now, which a budget as
    // strict as the replica count says forever: not a failure.
    let conditions = conditions::read(object);
    if let Some(bad) = conditions
        .iter()
        .find(|c| c.status == "False" && c.reason != "InsufficientPods")
    {
        return Assessment::new(Status::Failed, named(bad));
    }
    let message = match int(object, "/status/disruptionsAllowed") {
        Some(n) => format!("{} allowed", plural(n, "disruption")),
        None => "Observed".to_owned(),
    };
    Assessment::new(Status::Success, message)
}

/// HPA conditions that mean the autoscaler cannot do its job. Their status is not read:
/// the reason alone says it (as Argo CD reads them).
fn hpa_failure(condition: &Condition) -> bool {
    match condition.type_.as_str() {
        "AbleToScale" => matches!(
            condition.reason.as_str(),
            "FailedGetScale" | "FailedUpdateScale"
        ),
        "ScalingActive" => {
            missing_metrics(condition) || condition.reason.as_str() == "InvalidSelector"
        }
        _ => false,
    }
}

/// The HPA controller's reasons for metrics it could not read (or compute a replica count
/// from): what a new autoscaler shows until the metrics pipeline has scraped its pods.
fn missing_metrics(condition: &Condition) -> bool {
    matches!(
        condition.reason.as_str(),
        "FailedGetResourceMetric"
            | "FailedGetContainerResourceMetric"
            | "FailedGetObjectMetric"
            | "FailedGetPodsMetric"
            | "FailedGetExternalMetric"
            | "FailedComputeMetricsReplicas"
    )
}

/// Whether every failure the autoscaler shows is metrics it could not read yet (`young`).
pub(crate) fn only_missing_metrics(object: &Value) -> bool {
    let conditions = super::summary::conditions(object);
    let mut failing = conditions.iter().filter(|c| hpa_failure(c)).peekable();
    failing.peek().is_some() && failing.all(missing_metrics)
}

pub(crate) fn horizontal_pod_autoscaler(object: &Value) -> Assessment {
    let conditions = super::summary::conditions(object);
    if conditions.is_empty() {
        return Assessment::new(Status::InProgress, "Waiting for the autoscaler");
    }
    if let Some(failure) = conditions.iter().find(|c| hpa_failure(c)) {
        return Assessment::new(Status::Failed, named(failure));
    }
    let healthy = conditions.iter().find(|c| {
        c.status == "True" && matches!(c.type_.as_str(), "AbleToScale" | "ScalingLimited")
    });
    match healthy {
        Some(c) => Assessment::new(Status::Success, named(c)),
        None => Assessment::new(
            Status::InProgress,
            "Waiting for the autoscaler to be able to scale",
        ),
    }
}

pub(crate) fn custom_resource_definition(object: &Value) -> Assessment {
    let conditions = conditions::read(object);
    if let Some(terminating) = find(&conditions, "Terminating").filter(|c| c.status == "True") {
        return Assessment::new(Status::InProgress, named(terminating));
    }
    if let Some(names) = find(&conditions, "NamesAccepted").filter(|c| c.status == "False") {
        return Assessment::new(Status::Failed, named(names));
    }
    if let Some(schema) = find(&conditions, "NonStructuralSchema").filter(|c| c.status == "True") {
        return Assessment::new(Status::Failed, named(schema));
    }
    match find(&conditions, "Established") {
        Some(c) if c.status == "True" => Assessment::new(Status::Success, "Established"),
        Some(c) if c.reason != "Installing" => Assessment::new(Status::Failed, named(c)),
        _ => Assessment::new(Status::InProgress, "Installing"),
    }
}

pub(crate) fn api_service(object: &Value) -> Assessment {
    let conditions = conditions::read(object);
    match find(&conditions, "Available") {
        Some(c) if c.status == "True" => Assessment::new(Status::Success, "Available"),
        // Missing endpoints usually mean the serving pods are still starting.
        Some(c) => Assessment::new(Status::InProgress, explain("Not available", c)),
        None => Assessment::new(Status::InProgress, "Waiting for the Available condition"),
    }
}

pub(crate) fn namespace(object: &Value) -> Assessment {
    match text(object, "/status/phase") {
        Some("Terminating") => Assessment::new(Status::Terminating, "Terminating"),
        _ => Assessment::new(Status::Success, "Active"),
    }
}

/// `ConfigMap` and Secret: done once they exist. Only the number of keys is read.
pub(crate) fn data(object: &Value) -> Assessment {
    let keys: usize = ["data", "binaryData", "stringData"]
        .iter()
        .filter_map(|field| object.get(field).and_then(Value::as_object))
        .map(serde_json::Map::len)
        .sum();
    Assessment::new(Status::Success, plural(keys as i64, "key"))
}

/// `word`, followed by the object's `status.message` when it has one.
fn phase_message(word: &str, object: &Value) -> String {
    match text_or_empty(object, "/status/message") {
        "" => word.to_owned(),
        message => format!("{word}: {message}"),
    }
}

/// An Argo Workflow: a run, judged by its phase.
pub(crate) fn workflow(object: &Value) -> Assessment {
    let with_message = |word: &str| phase_message(word, object);
    match text(object, "/status/phase").unwrap_or_default() {
        "" | "Pending" | "Running" => Assessment::new(Status::InProgress, with_message("Running")),
        "Succeeded" => Assessment::new(Status::Success, with_message("Succeeded")),
        "Failed" | "Error" => Assessment::new(Status::Failed, with_message("Failed")),
        other => Assessment::new(Status::Unknown, format!("Phase {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::of;
    use super::*;
    use serde_json::json;

    fn object(api_version: &str, kind: &str, rest: &Value) -> Value {
        let mut object = json!({"apiVersion": api_version, "kind": kind});
        if let (Some(target), Some(fields)) = (object.as_object_mut(), rest.as_object()) {
            target.extend(fields.clone());
        }
        object
    }

    #[test]
    fn pvc_phases() {
        let pvc = |phase: &str| {
            of(&object(
                "v1",
                "PersistentVolumeClaim",
                &json!({"spec": {"volumeName": "pv-1"}, "status": {"phase": phase}}),
            ))
        };
        assert_eq!(pvc("Bound").message, "Bound to pv-1");
        assert_eq!(pvc("Bound").status, Status::Success);
        assert_eq!(pvc("Pending").status, Status::InProgress);
        assert_eq!(pvc("Lost").status, Status::Failed);
        assert_eq!(pvc("Strange").status, Status::Unknown);
    }

    #[test]
    fn pv_phases() {
        let pv = |phase: &str, policy: &str| {
            of(&object(
                "v1",
                "PersistentVolume",
                &json!({"spec": {"persistentVolumeReclaimPolicy": policy,
                    "claimRef": {"namespace": "shop", "name": "data"}},
                    "status": {"phase": phase, "message": "disk gone"}}),
            ))
        };
        assert_eq!(pv("Available", "Retain").status, Status::Success);
        let bound = pv("Bound", "Retain");
        assert_eq!(
            (bound.status, bound.message.as_str()),
            (Status::Success, "Bound to shop/data")
        );
        assert_eq!(pv("Pending", "Retain").status, Status::InProgress);
        let failed = pv("Failed", "Delete");
        assert_eq!(
            (failed.status, failed.message.as_str()),
            (Status::Failed, "Failed: disk gone")
        );
        assert_eq!(pv("Released", "Retain").status, Status::Failed);
        assert_eq!(pv("Released", "Delete").status, Status::InProgress);
        assert_eq!(pv("Odd", "Delete").status, Status::Unknown);
    }

    #[test]
    fn pdb_rules() {
        let pdb = |status: &Value| {
            of(&object(
                "policy/v1",
                "PodDisruptionBudget",
                &json!({"status": status}),
            ))
        };
        assert_eq!(pdb(&Value::Null).status, Status::InProgress);
        let ok = pdb(&json!({"disruptionsAllowed": 1, "conditions": [
            {"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods"}]}));
        assert_eq!(
            (ok.status, ok.message.as_str()),
            (Status::Success, "1 disruption allowed")
        );
        let strict = pdb(&json!({"disruptionsAllowed": 0, "conditions": [
            {"type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods"}]}));
        assert_eq!(strict.status, Status::Success);
        let broken = pdb(&json!({"conditions": [
            {"type": "DisruptionAllowed", "status": "False", "reason": "SyncFailed", "message": "boom"}]}));
        assert_eq!(
            (broken.status, broken.message.as_str()),
            (Status::Failed, "DisruptionAllowed: SyncFailed: boom")
        );
    }

    #[test]
    fn hpa_rules_for_v2_and_the_v1_annotation() {
        let v2 = |conditions: &Value| {
            of(&object(
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                &json!({"status": {"conditions": conditions}}),
            ))
        };
        assert_eq!(v2(&json!([])).status, Status::InProgress);
        let failed = v2(&json!([
            {"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale"},
            {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
             "message": "no metrics"}]));
        assert_eq!(
            (failed.status, failed.message.as_str()),
            (
                Status::Failed,
                "ScalingActive: FailedGetResourceMetric: no metrics"
            )
        );
        let ok =
            v2(&json!([{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}]));
        assert_eq!(ok.status, Status::Success);
        let limited =
            v2(&json!([{"type": "ScalingLimited", "status": "True", "reason": "TooFewReplicas"}]));
        assert_eq!(limited.status, Status::Success);
        let unable =
            v2(&json!([{"type": "AbleToScale", "status": "False", "reason": "BackoffBoth"}]));
        assert_eq!(unable.status, Status::InProgress);

        let v1 = object(
            "autoscaling/v1",
            "HorizontalPodAutoscaler",
            &json!({"metadata": {"annotations": {
            "autoscaling.alpha.kubernetes.io/conditions":
                r#"[{"type":"AbleToScale","status":"True","reason":"FailedGetScale"}]"#}}}),
        );
        assert_eq!(of(&v1).status, Status::Failed);
    }

    #[test]
    fn crd_rules() {
        let crd = |conditions: &Value| {
            of(&object(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                &json!({"status": {"conditions": conditions}}),
            ))
        };
        let cond = |type_: &str, status: &str, reason: &str| json!({"type": type_, "status": status, "reason": reason});
        assert_eq!(crd(&json!([])).status, Status::InProgress);
        assert_eq!(
            crd(&json!([cond(
                "Established",
                "True",
                "InitialNamesAccepted"
            )]))
            .status,
            Status::Success
        );
        assert_eq!(
            crd(&json!([cond("Established", "False", "Installing")])).status,
            Status::InProgress
        );
        assert_eq!(
            crd(&json!([cond("Established", "False", "Other")])).status,
            Status::Failed
        );
        assert_eq!(
            crd(&json!([cond("NamesAccepted", "False", "Conflict")])).status,
            Status::Failed
        );
        assert_eq!(
            crd(&json!([
                cond("NonStructuralSchema", "True", "Violations"),
                cond("Established", "True", "")
            ]))
            .status,
            Status::Failed
        );
        assert_eq!(
            crd(&json!([cond(
                "Terminating",
                "True",
                "InstanceDeletionInProgress"
            )]))
            .status,
            Status::InProgress
        );
    }

    #[test]
    fn api_service_namespace_and_data() {
        let api = |status: &str| {
            of(&object(
                "apiregistration.k8s.io/v1",
                "APIService",
                &json!({"status": {"conditions": [
                {"type": "Available", "status": status, "reason": "MissingEndpoints"}]}}),
            ))
        };
        assert_eq!(api("True").status, Status::Success);
        assert_eq!(api("False").message, "Not available: MissingEndpoints");
        let ns = |phase: &str| {
            of(&object(
                "v1",
                "Namespace",
                &json!({"status": {"phase": phase}}),
            ))
        };
        assert_eq!(ns("Active").status, Status::Success);
        assert_eq!(ns("Terminating").status, Status::Terminating);
        let secret = of(&object(
            "v1",
            "Secret",
            &json!({"data": {"password": "aHVudGVyMg=="},
            "stringData": {"token": "hunter2"}}),
        ));
        assert_eq!(
            (secret.status, secret.message.as_str()),
            (Status::Success, "2 keys")
        );
    }

    #[test]
    fn workflow_phases() {
        let wf = |status: &Value| {
            of(&object(
                "argoproj.io/v1alpha1",
                "Workflow",
                &json!({"status": status}),
            ))
        };
        assert_eq!(wf(&Value::Null).status, Status::InProgress);
        assert_eq!(wf(&json!({"phase": "Succeeded"})).status, Status::Success);
        let failed = wf(&json!({"phase": "Error", "message": "pod deleted"}));
        assert_eq!(
            (failed.status, failed.message.as_str()),
            (Status::Failed, "Failed: pod deleted")
        );
    }
}
