//! Whole Kubernetes objects in, the small summaries the watch keeps out.
//!
//! Pure. The status engine judges the object; this module keeps only what the views and
//! the owner graph need (never `data`, `spec` or `managedFields`), so Secret data cannot
//! travel further than this function.

use super::object::{Object, PodKind};
use crate::model::{ObjectKey, TrackedObject};
use crate::status::{self, Later, Status};
use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// The label Argo Rollouts gives a Rollout's `ReplicaSets`, their pods and the selectors of
/// the Services it points at them.
pub const POD_TEMPLATE_HASH: &str = "rollouts-pod-template-hash";

/// What the watch keeps of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The summary; `owner`, `applied` and `counted` are set when the graph is walked.
    pub object: TrackedObject,
    /// The uid of the controlling owner (or of the first owner when none controls).
    pub owner_uid: Option<String>,
    /// The revision this object belongs to or points at: a Deployment's and `ReplicaSet`'s
    /// `deployment.kubernetes.io/revision`, a `StatefulSet`'s `status.updateRevision`, a
    /// pod's `controller-revision-hash` label; an Argo Rollout's `status.currentPodHash`
    /// and its `ReplicaSets`' `rollouts-pod-template-hash` label.
    pub revision: Option<String>,
    /// An Argo Rollout's `status.stableRS`: during a blue/green or canary rollout its
    /// `ReplicaSet` still serves beside the current one, and counts too.
    pub stable: Option<String>,
    /// Being deleted (`metadata.deletionTimestamp` set).
    pub terminating: bool,
    /// A pod that has run to its end (phase Succeeded or Failed).
    pub finished: bool,
    /// How it reaches other objects by name or by label rather than by ownerReferences.
    pub links: Links,
}

/// What ties an object to others by name or by label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// An Argo Rollout's Services, by name, each with its part: `active`, `preview`,
    /// `canary` or `stable`.
    pub services: Vec<(&'static str, String)>,
    /// The pod labels a Service's selector asks for, or those a workload's pod template
    /// gives its pods.
    pub pods: BTreeMap<String, String>,
}

/// The fields of a Rollout's strategy that name its Services, with their parts.
const ROLLOUT_SERVICES: [(&str, &str); 4] = [
    ("active", "/spec/strategy/blueGreen/activeService"),
    ("preview", "/spec/strategy/blueGreen/previewService"),
    ("canary", "/spec/strategy/canary/canaryService"),
    ("stable", "/spec/strategy/canary/stableService"),
];

/// What `object` of `kind` links to: a Rollout's Services, a Service's selector, a
/// workload's pod template labels.
fn links(object: &Value, kind: &str) -> Links {
    let labels = |pointer: &str| -> BTreeMap<String, String> {
        status::at(object, pointer)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect()
    };
    let services = if kind == "Rollout" {
        ROLLOUT_SERVICES
            .iter()
            .filter_map(|(part, pointer)| {
                let name = status::at(object, pointer)?.as_str()?;
                (!name.is_empty()).then(|| (*part, name.to_owned()))
            })
            .collect()
    } else {
        Vec::new()
    };
    let pods = if kind == "Service" {
        labels("/spec/selector")
    } else {
        labels("/spec/template/metadata/labels")
    };
    Links { services, pods }
}

/// Summarizes `object`, judged at `now`; `None` when it has no uid (not an object from a
/// server). With the node comes what a start-up failure it shows becomes, and when
/// ([`status::of_at`]).
pub fn node(object: &Value, now: DateTime<Utc>) -> Option<(Node, Option<Later>)> {
    let text = |pointer: &str| status::at(object, pointer).and_then(Value::as_str);
    // Read below `metadata` once: most of what a node keeps is there.
    let metadata = object.get("metadata");
    let meta = |field: &str| metadata.and_then(|m| m.get(field));
    let meta_text = |field: &str| meta(field).and_then(Value::as_str);
    let tag = |map: &str, key: &str| meta(map).and_then(|m| m.get(key)).and_then(Value::as_str);
    let uid = meta_text("uid")?.to_owned();
    let kind = text("/kind").unwrap_or_default();
    let namespace = meta_text("namespace").filter(|ns| !ns.is_empty());
    let status::Judged {
        assessment,
        conditions,
        containers,
    } = status::judge_at(object, now);
    let revision = match kind {
        "Deployment" => tag("annotations", "deployment.kubernetes.io/revision"),
        "ReplicaSet" => tag("annotations", "deployment.kubernetes.io/revision")
            .or_else(|| tag("labels", POD_TEMPLATE_HASH)),
        // An AnalysisRun a Rollout started is of the revision it analyses.
        "AnalysisRun" => tag("labels", POD_TEMPLATE_HASH),
        "Rollout" => text("/status/currentPodHash"),
        "StatefulSet" => text("/status/updateRevision"),
        "Pod" => tag("labels", "controller-revision-hash"),
        _ => None,
    };
    let terminating = meta("deletionTimestamp").is_some();
    let node = Node {
        object: TrackedObject {
            key: ObjectKey::new(kind, namespace, meta_text("name").unwrap_or_default()),
            api_version: text("/apiVersion").unwrap_or_default().to_owned(),
            uid,
            status: if terminating && assessment.status != Status::Failed {
                Status::Terminating
            } else {
                assessment.status
            },
            message: assessment.message,
            counts: assessment.counts,
            owner: None,
            applied: false,
            counted: true,
            conditions,
            containers,
            created: meta_text("creationTimestamp")
                .unwrap_or_default()
                .to_owned(),
        },
        owner_uid: owner_uid(meta("ownerReferences")),
        revision: revision.map(str::to_owned),
        stable: (kind == "Rollout")
            .then(|| text("/status/stableRS"))
            .flatten()
            .map(str::to_owned),
        terminating,
        finished: kind == "Pod" && matches!(text("/status/phase"), Some("Succeeded" | "Failed")),
        links: links(object, kind),
    };
    Some((node, assessment.later))
}

/// The row of a Helm release, `HelmRelease NAMESPACE/NAME`, from its storage record (a
/// Secret or ConfigMap): judged by the record's status, its message the revision, chart,
/// app version, status and description. The record is decoded here and dropped: its values
/// and manifest go no further. A record that cannot be read is `unknown`, saying why.
pub fn release_node(object: &Value) -> Option<Node> {
    let text = |pointer: &str| status::at(object, pointer).and_then(Value::as_str);
    let uid = text("/metadata/uid")?.to_owned();
    let namespace = text("/metadata/namespace").filter(|ns| !ns.is_empty());
    let name = text("/metadata/labels/name").unwrap_or_default();
    let (status, message) = match crate::helm::record::from_storage(object) {
        Ok(release) => (release.status(), release.message()),
        Err(error) => (
            Status::Unknown,
            format!("its release record cannot be read: {error}"),
        ),
    };
    Some(Node {
        object: TrackedObject {
            key: ObjectKey::new(crate::helm::KIND, namespace, name),
            api_version: crate::helm::record::SECRET_TYPE.to_owned(),
            uid,
            status,
            message,
            counts: None,
            owner: None,
            applied: false,
            counted: true,
            conditions: Vec::new(),
            containers: Vec::new(),
            created: text("/metadata/creationTimestamp")
                .unwrap_or_default()
                .to_owned(),
        },
        owner_uid: None,
        revision: None,
        stable: None,
        terminating: false,
        finished: false,
        links: Links::default(),
    })
}

impl Node {
    /// This node once `later` has come: its status and message replaced.
    #[must_use]
    pub fn settled(&self, later: &Later) -> Node {
        let mut node = self.clone();
        node.object.status = later.status;
        node.object.message.clone_from(&later.message);
        node
    }
}

/// A pod summarized as it is decoded: what a pod watch reads. kube-rs's watcher decodes a
/// whole list before it hands out the first object; kept as JSON, the pods of one list were
/// most of kos's peak memory (some 6 KB of maps a pod, 30 MB at 5 000 pods), kept as
/// summaries they take a fraction of it.
#[derive(Debug, Clone)]
pub struct SummarizedPod {
    /// What the watcher reads: the version to resume from, the uid of a deleted pod.
    metadata: ObjectMeta,
    /// `None` when it is not an object from a server (no uid).
    pub summary: Option<(Box<Node>, Option<Later>)>,
}

impl<'de> Deserialize<'de> for SummarizedPod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pod = Object::<PodKind>::deserialize(deserializer)?;
        // A real API server leaves `kind` and `apiVersion` out of list items.
        let (metadata, pod) = pod.into_parts("Pod", "v1");
        let summary = node(&pod, Utc::now()).map(|(node, later)| (Box::new(node), later));
        Ok(SummarizedPod { metadata, summary })
    }
}

super::object::dynamic_resource!([] SummarizedPod);

/// The owner's uid of the `metadata.ownerReferences` given.
fn owner_uid(references: Option<&Value>) -> Option<String> {
    let owners = references?.as_array()?;
    let controller = owners
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true));
    controller
        .or_else(|| owners.first())
        .and_then(|o| o.get("uid"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Resource;
    use serde_json::json;

    #[test]
    fn a_pod_is_summarized_as_it_is_decoded_as_it_would_be_whole() {
        // As a list item: no kind, no apiVersion. A failing pod past its start-up grace, so
        // that the judging instant does not matter.
        let pod = json!({
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "u1",
                "resourceVersion": "42", "creationTimestamp": "2020-01-01T00:00:00Z",
                "labels": {"app": "web", "controller-revision-hash": "7c4b"},
                "ownerReferences": [{"uid": "rs1", "controller": true, "kind": "ReplicaSet"}]},
            "spec": {"restartPolicy": "Always", "containers": [{"name": "app",
                "image": "nginx:doesnotexist", "env": [{"name": "A", "value": "1"}]}]},
            "status": {"phase": "Pending", "hostIP": "10.0.0.1", "conditions": [
                {"type": "PodScheduled", "status": "True",
                    "lastTransitionTime": "2020-01-01T00:00:00Z"},
                {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
                "containerStatuses": [{"name": "app", "image": "nginx:doesnotexist",
                    "ready": false, "restartCount": 0, "imageID": "",
                    "state": {"waiting": {"reason": "ImagePullBackOff",
                        "message": "Back-off pulling image"}}}]}
        });
        let decoded: SummarizedPod = serde_json::from_value(pod.clone()).unwrap();
        assert_eq!(decoded.meta().resource_version.as_deref(), Some("42"));
        assert_eq!(decoded.meta().uid.as_deref(), Some("u1"));
        let mut whole = pod;
        whole["kind"] = json!("Pod");
        whole["apiVersion"] = json!("v1");
        let (node, later) = node(&whole, Utc::now()).unwrap();
        assert_eq!(node.object.status, Status::Failed, "{node:?}");
        assert_eq!(decoded.summary, Some((Box::new(node), later)));

        let no_uid: SummarizedPod =
            serde_json::from_value(json!({"metadata": {"name": "web-2"}})).unwrap();
        assert_eq!(no_uid.summary, None, "not an object from a server");
    }

    #[test]
    fn a_rollout_points_at_its_current_and_stable_hashes_and_its_replica_sets_carry_theirs() {
        let now = Utc::now();
        let (rollout, _) = node(
            &serde_json::json!({
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                "metadata": {"name": "web", "uid": "u1"},
                "status": {"currentPodHash": "7c4b", "stableRS": "5d9f"}
            }),
            now,
        )
        .unwrap();
        assert_eq!(rollout.revision.as_deref(), Some("7c4b"));
        assert_eq!(rollout.stable.as_deref(), Some("5d9f"));
        let (rs, _) = node(
            &serde_json::json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "web-5d9f", "uid": "u2",
                    "labels": {"rollouts-pod-template-hash": "5d9f"}}
            }),
            now,
        )
        .unwrap();
        assert_eq!((rs.revision.as_deref(), rs.stable), (Some("5d9f"), None));
    }

    #[test]
    fn a_rollout_links_its_services_a_service_its_selector_and_a_run_its_revision() {
        let now = Utc::now();
        let (rollout, _) = node(
            &json!({
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                "metadata": {"name": "web", "uid": "u1"},
                "spec": {"strategy": {"blueGreen": {"activeService": "web",
                    "previewService": "web-preview"}},
                    "template": {"metadata": {"labels": {"app": "web"}}}}
            }),
            now,
        )
        .unwrap();
        assert_eq!(
            rollout.links.services,
            [
                ("active", "web".to_owned()),
                ("preview", "web-preview".to_owned())
            ]
        );
        assert_eq!(rollout.links.pods["app"], "web");
        let (service, _) = node(
            &json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "uid": "u2"},
                "spec": {"selector": {"app": "web", POD_TEMPLATE_HASH: "5d9f"}}
            }),
            now,
        )
        .unwrap();
        assert_eq!(service.links.pods[POD_TEMPLATE_HASH], "5d9f");
        assert!(service.links.services.is_empty());
        let (run, _) = node(
            &json!({
                "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
                "metadata": {"name": "web-5d9f-2-pre", "uid": "u3",
                    "labels": {POD_TEMPLATE_HASH: "5d9f"}}
            }),
            now,
        )
        .unwrap();
        assert_eq!(run.revision.as_deref(), Some("5d9f"));
    }

    #[test]
    fn a_pod_keeps_owner_revision_and_phase() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "ns", "uid": "p1",
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"controller-revision-hash": "web-abc"},
                "ownerReferences": [
                    {"uid": "other", "controller": false},
                    {"uid": "sts", "controller": true}]},
            "status": {"phase": "Succeeded"}
        });
        let (node, _) = node(&pod, Utc::now()).unwrap();
        assert_eq!(node.object.key, ObjectKey::new("Pod", Some("ns"), "web-0"));
        assert_eq!(node.owner_uid.as_deref(), Some("sts"));
        assert_eq!(node.revision.as_deref(), Some("web-abc"));
        assert!(node.finished);
        assert!(!node.terminating);
    }

    #[test]
    fn a_release_record_is_the_release_without_its_values() {
        let release = json!({
            "name": "web", "namespace": "ns", "version": 2,
            "info": {"status": "pending-upgrade", "description": "Preparing upgrade"},
            "chart": {"metadata": {"name": "web", "version": "1.0.0"}},
            "config": {"token": "hunter2"},
            "manifest": "kind: Secret\ndata:\n  token: aHVudGVyMg==\n"
        });
        let stored = crate::helm::record::tests::encode(&release);
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": "sh.helm.release.v1.web.v2", "namespace": "ns", "uid": "r2",
                "labels": {"owner": "helm", "name": "web", "version": "2"}},
            "data": {"release": base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD, &stored)}
        });
        let node = release_node(&secret).unwrap();
        assert_eq!(
            node.object.key,
            ObjectKey::new("HelmRelease", Some("ns"), "web")
        );
        assert_eq!(node.object.status, Status::InProgress);
        assert_eq!(
            node.object.message,
            "revision 2 · chart web-1.0.0 · pending-upgrade · Preparing upgrade"
        );
        assert!(!format!("{node:?}").contains("hunter2"));
        assert!(!format!("{node:?}").contains("aHVudGVyMg"));

        let broken = json!({
            "kind": "ConfigMap",
            "metadata": {"namespace": "ns", "uid": "c1", "labels": {"name": "web"}},
            "data": {"release": "H4sI-not-base64"}
        });
        let node = release_node(&broken).unwrap();
        assert_eq!(node.object.status, Status::Unknown);
        assert_eq!(
            node.object.message,
            "its release record cannot be read: its data is not base64 text"
        );
    }

    #[test]
    fn secret_data_is_not_kept() {
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "ns", "uid": "s1"},
            "data": {"password": "aHVudGVyMg=="}
        });
        let (node, _) = node(&secret, Utc::now()).unwrap();
        assert!(!format!("{node:?}").contains("aHVudGVyMg"));
    }
}
