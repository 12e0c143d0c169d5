//! The status engine: one Kubernetes object in, its status out.
//!
//! Pure: no I/O, no clock, no cluster. The offline `kos status` command, the watch actor and
//! the tests all call [`of`] (or [`of_at`], which is told the time by its caller). Custom
//! resources are judged by the rules table (`rules`, `assets/status-rules.yaml`), which
//! [`install_rules`] extends once at start with the user's `--status-rules` file. The rules follow kstatus and Argo CD's health checks, taking the
//! deploy-time view (ARCHITECTURE.md, "Status: the deploy-time view") where they disagree; the
//! corpus rows where kos answers differently are listed, with reasons, in
//! `tests/conformance/deviations.tsv`.
//!
//! This file owns the public types and the order of evaluation; each kind's rules live in
//! a file of their own. No rule may panic, whatever the object holds.

mod conditions;
mod custom;
mod fields;
mod job;
mod misc;
mod network;
mod pod;
mod rollout;
pub mod rules;
mod summary;
mod workload;
mod young;

pub use fields::at;
pub use network::AWAITING_LOAD_BALANCER;
pub use rules::{RulesError, Table};
pub use summary::{Condition, ContainerRow, conditions, containers};
pub use young::Later;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::sync::{LazyLock, OnceLock};

/// The built-in rules table. It is checked to parse by a test; were it ever broken, custom
/// resources would fall back to the conventions rather than stop kos.
static BUILT_IN: LazyLock<Table> = LazyLock::new(|| {
    Table::parse(
        include_str!("../../assets/status-rules.yaml"),
        "assets/status-rules.yaml",
    )
    .unwrap_or_default()
});

/// The user's rules before the built-in ones, once [`install_rules`] has run.
static INSTALLED: OnceLock<Table> = OnceLock::new();

/// Puts `user`'s rules before the built-in ones for the rest of the process (the
/// `--status-rules` file, read once at start). A second call changes nothing.
pub fn install_rules(user: Table) {
    let _ = INSTALLED.set(user.before(&BUILT_IN));
}

/// The rules custom resources are judged by.
fn table() -> &'static Table {
    INSTALLED.get().unwrap_or(&BUILT_IN)
}

/// The status of one object. Lower case everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    InProgress,
    Success,
    Failed,
    Terminating,
    Missing,
    Suspended,
    Unknown,
}

impl Status {
    /// The word used in the UI, plain output and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Success => "success",
            Status::Failed => "failed",
            Status::Terminating => "terminating",
            Status::Missing => "missing",
            Status::Suspended => "suspended",
            Status::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Replica or pod counts of a workload, for the `2/3` column of the views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// What the user asked for (spec.replicas, completions, desiredNumberScheduled).
    pub desired: u32,
    /// How many are ready (or, for Jobs, succeeded).
    pub ready: u32,
}

/// [`Counts`] on one line, for the rule tests' expectations.
#[cfg(test)]
fn counts(desired: u32, ready: u32) -> Counts {
    Counts { desired, ready }
}

/// The engine's answer for one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub status: Status,
    /// One line a person can act on: `2/3 replicas available`,
    /// `nginx: ImagePullBackOff (Back-off pulling image "nginx:doesnotexist")`.
    pub message: String,
    /// For workloads: desired and ready replicas or pods.
    pub counts: Option<Counts>,
    /// A failure forgiven while the object is young: what it becomes, and when, if
    /// nothing changes before (README.md, "Start-up states").
    pub later: Option<Later>,
}

impl Assessment {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Assessment {
            status,
            message: message.into(),
            counts: None,
            later: None,
        }
    }
}

/// Computes the status of `object`, a whole Kubernetes object as JSON (apiVersion, kind,
/// metadata, spec, status), without knowing its age: every failure counts as one.
///
/// The order is kstatus's: deletion first, then the generation and the standard
/// `Reconciling`/`Stalled` conditions, then the kind's own rule, and for kinds without one
/// the rules table and the conventions of custom resources.
pub fn of(object: &Value) -> Assessment {
    let read = Read::of(object);
    judged(object, &read)
}

/// [`of`] at the time `now`: a failure that objects commonly show for a while after they
/// are created (a pod's missing Secret, an autoscaler's missing metrics) is still
/// `in_progress` while the object is young, with [`Assessment::later`] saying when it
/// becomes a failure.
pub fn of_at(object: &Value, now: chrono::DateTime<chrono::Utc>) -> Assessment {
    forgiven(object, &Read::of(object), now)
}

/// An object judged at `now` ([`of_at`]), with the rows the details pane shows of it
/// ([`conditions`], [`containers`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub assessment: Assessment,
    pub conditions: Vec<Condition>,
    pub containers: Vec<ContainerRow>,
}

/// [`of_at`], [`conditions`] and [`containers`] of `object` in one: its conditions and
/// containers are read once, for the verdict and the rows alike (the watch judges every
/// change of every pod).
pub fn judge_at(object: &Value, now: chrono::DateTime<chrono::Utc>) -> Judged {
    let read = Read::of(object);
    Judged {
        assessment: forgiven(object, &read, now),
        containers: read
            .containers
            .iter()
            .map(summary::Container::row)
            .collect(),
        conditions: summary::conditions_or_hpa(object, read.conditions),
    }
}

/// What the rules of several kinds read of an object, read once.
struct Read<'a> {
    /// `.status.conditions` ([`conditions::read`]).
    conditions: Vec<Condition>,
    /// A pod's containers ([`summary::read`]); empty for what has none.
    containers: Vec<summary::Container<'a>>,
}

impl<'a> Read<'a> {
    fn of(object: &'a Value) -> Self {
        Read {
            conditions: conditions::read(object),
            containers: summary::read(object),
        }
    }
}

/// The assessment of `object` at `now`, a young object's start-up failure forgiven.
fn forgiven(object: &Value, read: &Read, now: chrono::DateTime<chrono::Utc>) -> Assessment {
    young::forgive(object, judged(object, read), &read.containers, now)
}

/// The assessment of `object`, its message on one line.
fn judged(object: &Value, read: &Read) -> Assessment {
    let mut assessment = assess(object, read);
    if !fields::is_one_line(&assessment.message) {
        assessment.message = fields::one_line(&assessment.message);
    }
    assessment
}

fn assess(object: &Value, read: &Read) -> Assessment {
    if !object.is_object() {
        return Assessment::new(Status::Unknown, "Not a Kubernetes object");
    }
    if let Some(deleting) = terminating(object) {
        return deleting;
    }
    let standard = &read.conditions;
    if let Some(decided) = conditions::preamble(object, standard) {
        return decided;
    }
    match Rule::of(object) {
        Rule::Pod => pod::assess(object, standard, &read.containers),
        Rule::Deployment => workload::deployment(object),
        Rule::ReplicaSet => workload::replica_set(object),
        Rule::StatefulSet => workload::stateful_set(object),
        Rule::DaemonSet => workload::daemon_set(object),
        Rule::Job => job::job(object),
        Rule::CronJob => job::cron_job(object),
        Rule::Service => network::service(object),
        Rule::Ingress => network::ingress(object),
        Rule::EndpointSlice => network::endpoint_slice(object),
        Rule::PersistentVolumeClaim => misc::persistent_volume_claim(object),
        Rule::PersistentVolume => misc::persistent_volume(object),
        Rule::PodDisruptionBudget => misc::pod_disruption_budget(object),
        Rule::HorizontalPodAutoscaler => misc::horizontal_pod_autoscaler(object),
        Rule::CustomResourceDefinition => misc::custom_resource_definition(object),
        Rule::ApiService => misc::api_service(object),
        Rule::Namespace => misc::namespace(object),
        Rule::Data => misc::data(object),
        Rule::Workflow => misc::workflow(object),
        Rule::Rollout => rollout::assess(object, standard, table()),
        Rule::Standard => custom::assess(object, standard, table()),
    }
}

/// `metadata.deletionTimestamp` set: the object is going away, whatever its kind.
fn terminating(object: &Value) -> Option<Assessment> {
    fields::at(object, "/metadata/deletionTimestamp").filter(|stamp| !stamp.is_null())?;
    let finalizers: Vec<&str> = fields::list(object, "/metadata/finalizers")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let message = if finalizers.is_empty() {
        "Being deleted".to_owned()
    } else {
        format!(
            "Being deleted, waiting for finalizers: {}",
            finalizers.join(", ")
        )
    };
    Some(Assessment::new(Status::Terminating, message))
}

/// Which rule judges an object, chosen by API group and kind (the version does not
/// matter). An object without `apiVersion` is judged by its kind alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Pod,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    Service,
    Ingress,
    EndpointSlice,
    PersistentVolumeClaim,
    PersistentVolume,
    PodDisruptionBudget,
    HorizontalPodAutoscaler,
    CustomResourceDefinition,
    ApiService,
    Namespace,
    /// `ConfigMap` and Secret.
    Data,
    /// Argo Workflows.
    Workflow,
    /// Argo Rollouts: the rules table, with the strategy's state in the message.
    Rollout,
    /// Everything else: the standard conditions.
    Standard,
}

impl Rule {
    fn of(object: &Value) -> Rule {
        let kind = fields::text_or_empty(object, "/kind");
        let group = fields::text(object, "/apiVersion")
            .map(|api_version| api_version.rsplit_once('/').map_or("", |(group, _)| group));
        // `extensions` is where these kinds lived before `apps`; kstatus still accepts it.
        let (rule, groups): (Rule, &[&str]) = match kind {
            "Pod" => (Rule::Pod, &[""]),
            "Deployment" => (Rule::Deployment, &["apps", "extensions"]),
            "ReplicaSet" => (Rule::ReplicaSet, &["apps", "extensions"]),
            // The ReplicaSet's predecessor: the same replica counts and ReplicaFailure.
            "ReplicationController" => (Rule::ReplicaSet, &[""]),
            "DaemonSet" => (Rule::DaemonSet, &["apps", "extensions"]),
            "StatefulSet" => (Rule::StatefulSet, &["apps"]),
            "Job" => (Rule::Job, &["batch"]),
            "CronJob" => (Rule::CronJob, &["batch"]),
            "Service" => (Rule::Service, &[""]),
            "Ingress" => (Rule::Ingress, &["networking.k8s.io", "extensions"]),
            "EndpointSlice" => (Rule::EndpointSlice, &["discovery.k8s.io"]),
            "PersistentVolumeClaim" => (Rule::PersistentVolumeClaim, &[""]),
            "PersistentVolume" => (Rule::PersistentVolume, &[""]),
            "PodDisruptionBudget" => (Rule::PodDisruptionBudget, &["policy"]),
            "HorizontalPodAutoscaler" => (Rule::HorizontalPodAutoscaler, &["autoscaling"]),
            "CustomResourceDefinition" => {
                (Rule::CustomResourceDefinition, &["apiextensions.k8s.io"])
            }
            "APIService" => (Rule::ApiService, &["apiregistration.k8s.io"]),
            "Namespace" => (Rule::Namespace, &[""]),
            "ConfigMap" | "Secret" => (Rule::Data, &[""]),
            "Workflow" => (Rule::Workflow, &["argoproj.io"]),
            "Rollout" => (Rule::Rollout, &["argoproj.io"]),
            _ => return Rule::Standard,
        };
        if group.is_none_or(|group| groups.contains(&group)) {
            rule
        } else {
            Rule::Standard
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_are_chosen_by_group_and_kind() {
        let rule = |api_version: &str, kind: &str| {
            Rule::of(&json!({"apiVersion": api_version, "kind": kind}))
        };
        assert_eq!(rule("apps/v1", "Deployment"), Rule::Deployment);
        assert_eq!(rule("extensions/v1beta1", "Deployment"), Rule::Deployment);
        assert_eq!(rule("v1", "Service"), Rule::Service);
        assert_eq!(rule("serving.knative.dev/v1", "Service"), Rule::Standard);
        assert_eq!(
            rule("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
            Rule::HorizontalPodAutoscaler
        );
        assert_eq!(rule("example.com/v1", "Deployment"), Rule::Standard);
        assert_eq!(Rule::of(&json!({"kind": "Pod"})), Rule::Pod);
        assert_eq!(rule("v1", "ReplicationController"), Rule::ReplicaSet);
        assert_eq!(rule("v1", "PersistentVolume"), Rule::PersistentVolume);
    }

    #[test]
    fn deletion_is_terminating_for_every_kind() {
        for (api_version, kind) in [
            ("v1", "Pod"),
            ("apps/v1", "Deployment"),
            ("v1", "Secret"),
            ("example.com/v1", "Widget"),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ] {
            let object = json!({"apiVersion": api_version, "kind": kind,
                "metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}});
            let a = of(&object);
            assert_eq!(a.status, Status::Terminating, "{kind}");
            assert_eq!(a.message, "Being deleted");
        }
        let stuck = json!({"kind": "Namespace", "metadata": {
            "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["kubernetes"]}});
        assert_eq!(
            of(&stuck).message,
            "Being deleted, waiting for finalizers: kubernetes"
        );
    }

    #[test]
    fn not_an_object_is_unknown() {
        assert_eq!(of(&json!([1, 2])).status, Status::Unknown);
        assert_eq!(of(&Value::Null).status, Status::Unknown);
    }

    #[test]
    fn stalled_fails_any_kind_and_messages_are_one_line() {
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "status": {"conditions": [
            {"type": "Stalled", "status": "True", "reason": "Broken", "message": "line one\nline two"}]}});
        let a = of(&object);
        assert_eq!(a.status, Status::Failed);
        assert_eq!(a.message, "Stalled: Broken: line one line two");
    }

    #[test]
    fn custom_resources_follow_the_standard_conditions() {
        let cr = |status: &Value| {
            of(&json!({"apiVersion": "example.com/v1", "kind": "Widget", "status": status}))
        };
        assert_eq!(cr(&Value::Null).status, Status::Success);
        assert_eq!(
            cr(&json!({"conditions": [{"type": "Ready", "status": "False"}]})).status,
            Status::InProgress
        );
        assert_eq!(
            cr(&json!({"conditions": [{"type": "Ready", "status": "True"}]})).status,
            Status::Success
        );
    }
}
