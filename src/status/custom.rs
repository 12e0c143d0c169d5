//! Custom resources and every other kind without a rule of its own: the rules table first
//! (the built-in one and the user's `--status-rules`), then the conventions operators use.
//!
//! The conventions, in order: an Argo CD style `status.health.status`; the `Ready`
//! condition (kstatus), Crossplane's `Synced`, the prometheus-operator's `Reconciled` and
//! `Available`; the words of `status.phase` or `status.state`. An object with none of these
//! is done once it exists. kstatus's generation check and its `Reconciling` and `Stalled`
//! conditions have been looked at before (`conditions::preamble`). Must not know any
//! particular kind: kinds belong in the table.

use super::conditions::{explain, find, named};
use super::fields::{at, text};
use super::rules::Table;
use super::summary::Condition;
use super::{Assessment, Status};
use serde_json::Value;

pub(crate) fn assess(object: &Value, conditions: &[Condition], table: &Table) -> Assessment {
    table
        .judge(object)
        .or_else(|| health(object))
        .or_else(|| by_conditions(conditions))
        .or_else(|| by_words(object))
        .unwrap_or_else(|| Assessment::new(Status::Success, "Exists (no readiness condition)"))
}

/// `status.health.status`, in Argo CD's words (its own Application, and operators that
/// copy it).
fn health(object: &Value) -> Option<Assessment> {
    let word = text(object, "/status/health/status")?;
    let status = match word {
        "Healthy" => Status::Success,
        "Progressing" => Status::InProgress,
        "Degraded" => Status::Failed,
        "Suspended" => Status::Suspended,
        "Missing" => Status::Missing,
        _ => Status::Unknown,
    };
    let message = text(object, "/status/health/message").filter(|m| !m.is_empty());
    Some(Assessment::new(
        status,
        message.map_or_else(|| format!("Health {word}"), |m| format!("{word}: {m}")),
    ))
}

/// The conditions operators agree on.
fn by_conditions(conditions: &[Condition]) -> Option<Assessment> {
    // Crossplane: Synced=False is a reconcile error, whatever Ready says.
    if let Some(synced) = find(conditions, "Synced").filter(|c| c.status == "False") {
        return Some(Assessment::new(Status::Failed, named(synced)));
    }
    // prometheus-operator: Reconciled=False means the operator could not act on the spec.
    if let Some(reconciled) = find(conditions, "Reconciled").filter(|c| c.status == "False") {
        return Some(Assessment::new(Status::Failed, named(reconciled)));
    }
    if let Some(ready) = find(conditions, "Ready") {
        return Some(match ready.status.as_str() {
            "True" => Assessment::new(Status::Success, explain("Ready", ready)),
            _ => Assessment::new(Status::InProgress, explain("Not ready", ready)),
        });
    }
    let available = find(conditions, "Available")?;
    Some(match available.status.as_str() {
        "True" => Assessment::new(Status::Success, explain("Available", available)),
        // The prometheus-operator writes Degraded when some replicas are unavailable.
        "Degraded" => Assessment::new(Status::Failed, explain("Degraded", available)),
        _ => Assessment::new(Status::InProgress, explain("Not available", available)),
    })
}

/// `status.phase` (or `status.state`) in the words operators use for it.
fn by_words(object: &Value) -> Option<Assessment> {
    let word = ["/status/phase", "/status/state"]
        .iter()
        .find_map(|pointer| at(object, pointer)?.as_str().filter(|w| !w.is_empty()))?;
    let status = word_status(word)?;
    let message = text(object, "/status/message")
        .filter(|m| !m.is_empty())
        .map_or_else(|| word.to_owned(), |m| format!("{word}: {m}"));
    Some(Assessment::new(status, message))
}

/// What a phase word means, compared without case; `None` for a word of no known meaning.
fn word_status(word: &str) -> Option<Status> {
    const SUCCESS: &[&str] = &[
        "Succeeded",
        "Successful",
        "Success",
        "Complete",
        "Completed",
        "Ready",
        "Running",
        "Active",
        "Available",
        "Bound",
        "Healthy",
        "Deployed",
        "Established",
        "Synced",
        "Online",
        "Provisioned",
        "Created",
        "Exists",
    ];
    const IN_PROGRESS: &[&str] = &[
        "Pending",
        "Progressing",
        "Creating",
        "Provisioning",
        "Initializing",
        "Deploying",
        "Updating",
        "Upgrading",
        "Reconciling",
        "Installing",
        "Starting",
        "Waiting",
        "Scaling",
        "Scheduled",
        "Restarting",
    ];
    const FAILED: &[&str] = &[
        "Failed",
        "Failure",
        "Error",
        "Degraded",
        "Unhealthy",
        "Rejected",
        "Invalid",
    ];
    const SUSPENDED: &[&str] = &["Paused", "Suspended"];
    let is = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(word));
    [
        (SUCCESS, Status::Success),
        (IN_PROGRESS, Status::InProgress),
        (FAILED, Status::Failed),
        (SUSPENDED, Status::Suspended),
        (&["Unknown"][..], Status::Unknown),
    ]
    .into_iter()
    .find_map(|(words, status)| is(words).then_some(status))
}

#[cfg(test)]
mod tests {
    use super::super::of;
    use super::*;
    use serde_json::json;

    fn cr(api_version: &str, kind: &str, status: &Value) -> Assessment {
        of(&json!({"apiVersion": api_version, "kind": kind,
            "metadata": {"name": "x", "generation": 1}, "status": status}))
    }

    #[test]
    fn the_built_in_rules_parse() {
        let table = Table::parse(
            include_str!("../../assets/status-rules.yaml"),
            "assets/status-rules.yaml",
        )
        .expect("the built-in table parses");
        assert!(table.len() > 100, "{} rules", table.len());
    }

    #[test]
    fn a_flagger_canary_by_its_phase() {
        let canary = |phase: &str| {
            cr(
                "flagger.app/v1beta1",
                "Canary",
                &json!({"phase": phase, "canaryWeight": 20, "iterations": 2,
                    "conditions": [{"type": "Promoted", "status": "Unknown",
                        "reason": "Waiting", "message": "Waiting for approval."}]}),
            )
        };
        let waiting = canary("WaitingPromotion");
        assert_eq!(waiting.status, Status::Suspended);
        assert_eq!(waiting.message, "WaitingPromotion: Waiting for approval.");
        let progressing = canary("Progressing");
        assert_eq!(progressing.status, Status::InProgress);
        assert_eq!(
            progressing.message,
            "Progressing: canary weight 20%, iteration 2"
        );
        assert_eq!(canary("Initializing").status, Status::InProgress);
        assert_eq!(canary("Terminated").status, Status::Success);
        assert_eq!(canary("Failed").status, Status::Failed);
    }

    #[test]
    fn operators_that_have_not_reported_are_in_progress() {
        // A Prometheus before the operator wrote anything: no pod exists yet.
        let fresh = cr("monitoring.coreos.com/v1", "Prometheus", &Value::Null);
        assert_eq!(fresh.status, Status::InProgress);
        let available = cr(
            "monitoring.coreos.com/v1",
            "Alertmanager",
            &json!({"conditions": [
            {"type": "Available", "status": "True"},
            {"type": "Reconciled", "status": "True"}]}),
        );
        assert_eq!(available.status, Status::Success);
        let starting = cr(
            "monitoring.coreos.com/v1",
            "Prometheus",
            &json!({"conditions": [
            {"type": "Available", "status": "False", "reason": "SomePodsNotReady"}]}),
        );
        assert_eq!(starting.status, Status::InProgress);
    }

    #[test]
    fn health_status_is_read_as_argo_cd_writes_it() {
        let degraded = cr(
            "argoproj.io/v1alpha1",
            "Application",
            &json!({"health": {"status": "Degraded", "message": "back-off"}}),
        );
        assert_eq!(
            (degraded.status, degraded.message.as_str()),
            (Status::Failed, "Degraded: back-off")
        );
        let healthy = cr(
            "argoproj.io/v1alpha1",
            "Application",
            &json!({"health": {"status": "Healthy"}}),
        );
        assert_eq!(healthy.status, Status::Success);
    }

    #[test]
    fn unknown_kinds_follow_the_shared_conventions() {
        let group = "widgets.example.com/v1";
        let conventions = [
            (json!(null), Status::Success),
            (
                json!({"conditions": [{"type": "Ready", "status": "True"}]}),
                Status::Success,
            ),
            (
                json!({"conditions": [{"type": "Ready", "status": "False"}]}),
                Status::InProgress,
            ),
            (
                json!({"conditions": [{"type": "Ready", "status": "True"},
                {"type": "Synced", "status": "False", "reason": "ReconcileError"}]}),
                Status::Failed,
            ),
            (
                json!({"conditions": [{"type": "Available", "status": "True"}]}),
                Status::Success,
            ),
            (
                json!({"conditions": [{"type": "Reconciled", "status": "False"}]}),
                Status::Failed,
            ),
            (
                json!({"conditions": [{"type": "Stalled", "status": "True"}]}),
                Status::Failed,
            ),
            (json!({"phase": "Pending"}), Status::InProgress),
            (json!({"phase": "running"}), Status::Success),
            (
                json!({"phase": "Failed", "message": "disk full"}),
                Status::Failed,
            ),
            (json!({"state": "Paused"}), Status::Suspended),
            (json!({"phase": "Mystery"}), Status::Success),
        ];
        for (status, want) in conventions {
            assert_eq!(cr(group, "Widget", &status).status, want, "{status}");
        }
        assert_eq!(
            cr(
                group,
                "Widget",
                &json!({"phase": "Failed", "message": "disk full"})
            )
            .message,
            "Failed: disk full"
        );
    }

    #[test]
    fn a_condition_written_for_an_older_generation_is_passed_over() {
        let stale = of(&json!({"apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass", "metadata": {"generation": 2},
            "status": {"conditions": [{"type": "Accepted", "status": "True",
                "observedGeneration": 1}]}}));
        assert_eq!(stale.status, Status::InProgress);
    }
}
