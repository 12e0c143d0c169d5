//! The rules of the replicated workloads: Deployment, `ReplicaSet` (and its predecessor
//! `ReplicationController`), `StatefulSet`, `DaemonSet`.
//!
//! Success waits for what a person running a rollout waits for: every replica of the new
//! revision updated, ready and available, no old replica left, the controller caught up
//! with the latest generation, and (for Deployments) the controller's own conditions
//! agreeing. That is the union of kstatus's and `kubectl rollout status`'s checks. Failure
//! shows as soon as the controller reports it (`ProgressDeadlineExceeded`,
//! `ReplicaFailure`). These rules read only the object itself, never its pods.

use super::conditions::{self, detail, explain, find, named, unobserved};
use super::fields::{count, flag, int, int_or, plural, text};
use super::summary::Condition;
use super::{Assessment, Counts, Status};
use serde_json::Value;

/// The replica numbers of a Deployment, `ReplicaSet` or `StatefulSet`.
struct Replicas {
    /// `spec.replicas`, 1 when absent as the API defaults it.
    spec: i64,
    /// `status.replicas`: every pod, of any revision.
    total: i64,
    updated: i64,
    ready: i64,
    available: i64,
}

impl Replicas {
    fn read(object: &Value) -> Self {
        let status = |field: &str| int_or(object, &format!("/status/{field}"), 0);
        Replicas {
            spec: int_or(object, "/spec/replicas", 1),
            total: status("replicas"),
            updated: status("updatedReplicas"),
            ready: status("readyReplicas"),
            available: status("availableReplicas"),
        }
    }

    fn counts(&self, ready: i64) -> Counts {
        Counts {
            desired: count(self.spec),
            ready: count(ready),
        }
    }
}

/// The first check that fails, as an in-progress assessment.
fn first_unmet(checks: Vec<(bool, String)>) -> Option<Assessment> {
    checks
        .into_iter()
        .find(|(unmet, _)| *unmet)
        .map(|(_, message)| Assessment::new(Status::InProgress, message))
}

fn of_total(n: i64, total: i64, what: &str) -> String {
    format!("{n}/{total} {what}")
}

fn failure(condition: &Condition) -> Assessment {
    Assessment::new(Status::Failed, named(condition))
}

pub(crate) fn deployment(object: &Value) -> Assessment {
    let r = Replicas::read(object);
    let conditions = conditions::read(object);
    let mut assessment = deployment_state(object, &conditions, &r);
    assessment.counts = Some(r.counts(r.available));
    assessment
}

fn deployment_state(object: &Value, conditions: &[Condition], r: &Replicas) -> Assessment {
    if flag(object, "/spec/paused") {
        return Assessment::new(Status::Suspended, "Paused");
    }
    let progressing = find(conditions, "Progressing");
    if let Some(deadline) = progressing.filter(|c| c.reason == "ProgressDeadlineExceeded") {
        // The condition's status is not looked at: the controller sets False, but the
        // reason alone is the verdict (as kstatus and kubectl read it).
        return Assessment::new(Status::Failed, detail(deadline));
    }
    if let Some(replica_failure) = find(conditions, "ReplicaFailure").filter(|c| c.status == "True")
    {
        return failure(replica_failure);
    }
    if let Some(pending) = unobserved(object) {
        return pending;
    }
    let replicas_message = of_total(r.available, r.spec, "replicas available");
    let rollout = first_unmet(vec![
        (
            r.updated < r.spec,
            of_total(r.updated, r.spec, "replicas updated"),
        ),
        (
            r.total > r.updated,
            format!(
                "Waiting for {} to terminate",
                plural(r.total - r.updated, "old replica")
            ),
        ),
        (
            r.available < r.updated || r.available < r.spec,
            replicas_message.clone(),
        ),
        (
            r.ready < r.spec,
            of_total(r.ready, r.spec, "replicas ready"),
        ),
    ]);
    if let Some(rollout) = rollout {
        return rollout;
    }
    if let Some(waiting) = controller_disagrees(object, progressing, find(conditions, "Available"))
    {
        return waiting;
    }
    Assessment::new(Status::Success, replicas_message)
}

/// kstatus's last word: the counts say done, but the controller's own conditions do not
/// yet: `Progressing` is not `True/NewReplicaSetAvailable` (checked when a progress deadline
/// is set, as kstatus does) or `Available` is not `True`. A controller that writes no such
/// condition at all is judged by the counts alone.
fn controller_disagrees(
    object: &Value,
    progressing: Option<&Condition>,
    available: Option<&Condition>,
) -> Option<Assessment> {
    let deadline = int(object, "/spec/progressDeadlineSeconds")
        .is_some_and(|seconds| seconds != i64::from(i32::MAX));
    if let Some(progressing) = progressing.filter(|_| deadline)
        && !(progressing.status == "True" && progressing.reason == "NewReplicaSetAvailable")
    {
        return Some(Assessment::new(Status::InProgress, named(progressing)));
    }
    available
        .filter(|c| c.status != "True")
        .map(|c| Assessment::new(Status::InProgress, explain("Not available", c)))
}

pub(crate) fn replica_set(object: &Value) -> Assessment {
    let r = Replicas::read(object);
    let conditions = conditions::read(object);
    let mut assessment = replica_set_state(object, &conditions, &r);
    assessment.counts = Some(r.counts(r.available));
    assessment
}

fn replica_set_state(object: &Value, conditions: &[Condition], r: &Replicas) -> Assessment {
    // Pods the controller cannot create (quota, admission webhook, PodSecurity) need a
    // person; kstatus keeps waiting, Argo CD calls it Degraded.
    if let Some(replica_failure) = find(conditions, "ReplicaFailure").filter(|c| c.status == "True")
    {
        return failure(replica_failure);
    }
    if let Some(pending) = unobserved(object) {
        return pending;
    }
    // Checked only when written: the controller omits it at 0, when nothing is available
    // either, and controllers that never write it are judged by the other counts.
    let labeled = int(object, "/status/fullyLabeledReplicas").unwrap_or(r.spec);
    let available = of_total(r.available, r.spec, "replicas available");
    first_unmet(vec![
        (r.available < r.spec, available.clone()),
        (
            r.ready < r.spec,
            of_total(r.ready, r.spec, "replicas ready"),
        ),
        (
            labeled < r.spec,
            of_total(labeled, r.spec, "replicas fully labeled"),
        ),
        (
            r.total > r.spec,
            format!(
                "Waiting for {} to terminate",
                plural(r.total - r.spec, "extra replica")
            ),
        ),
    ])
    .unwrap_or_else(|| Assessment::new(Status::Success, available))
}

pub(crate) fn stateful_set(object: &Value) -> Assessment {
    let r = Replicas::read(object);
    let mut assessment = stateful_set_state(object, &r);
    assessment.counts = Some(r.counts(r.ready));
    assessment
}

fn stateful_set_state(object: &Value, r: &Replicas) -> Assessment {
    if let Some(pending) = unobserved(object) {
        return pending;
    }
    let ready = of_total(r.ready, r.spec, "replicas ready");
    if let Some(waiting) = first_unmet(vec![
        (
            r.total < r.spec,
            of_total(r.total, r.spec, "replicas created"),
        ),
        (r.ready < r.spec, ready.clone()),
        (
            r.total > r.spec,
            format!(
                "Waiting for {} to terminate",
                plural(r.total - r.spec, "extra replica")
            ),
        ),
    ]) {
        return waiting;
    }
    if text(object, "/spec/updateStrategy/type") == Some("OnDelete") {
        // Pods take the new revision only when someone deletes them: nothing to wait for.
        return Assessment::new(Status::Success, ready);
    }
    if let Some(partition) = int(object, "/spec/updateStrategy/rollingUpdate/partition") {
        let target = (r.spec - partition).max(0);
        return first_unmet(vec![(
            r.updated < target,
            of_total(r.updated, target, "replicas updated"),
        )])
        .unwrap_or_else(|| Assessment::new(Status::Success, ready));
    }
    // Checked only when written (the controller omits it at 0); the revisions still decide.
    let current = int(object, "/status/currentReplicas").unwrap_or(r.spec);
    let update_revision = text(object, "/status/updateRevision").unwrap_or_default();
    first_unmet(vec![
        (
            current < r.spec,
            of_total(current, r.spec, "replicas at the current revision"),
        ),
        (
            text(object, "/status/currentRevision").unwrap_or_default() != update_revision,
            format!("Waiting for every replica to reach revision {update_revision}"),
        ),
    ])
    .unwrap_or_else(|| Assessment::new(Status::Success, ready))
}

pub(crate) fn daemon_set(object: &Value) -> Assessment {
    if let Some(pending) = unobserved(object) {
        return pending;
    }
    let Some(desired) = int(object, "/status/desiredNumberScheduled") else {
        return Assessment::new(
            Status::InProgress,
            "Waiting for the controller to schedule pods",
        );
    };
    let status = |field: &str| int_or(object, &format!("/status/{field}"), 0);
    let (current, updated) = (
        status("currentNumberScheduled"),
        status("updatedNumberScheduled"),
    );
    let (available, ready) = (status("numberAvailable"), status("numberReady"));
    // With OnDelete, pods take the new template only when someone deletes them.
    let on_delete = text(object, "/spec/updateStrategy/type") == Some("OnDelete");
    let available_message = of_total(available, desired, "pods available");
    let mut assessment = first_unmet(vec![
        (
            current < desired,
            of_total(current, desired, "pods scheduled"),
        ),
        (
            !on_delete && updated < desired,
            of_total(updated, desired, "pods updated"),
        ),
        (available < desired, available_message.clone()),
        (ready < desired, of_total(ready, desired, "pods ready")),
    ])
    .unwrap_or_else(|| Assessment::new(Status::Success, available_message));
    assessment.counts = Some(Counts {
        desired: count(desired),
        ready: count(available),
    });
    assessment
}

#[cfg(test)]
mod tests {
    use super::super::{counts, of};
    use super::*;
    use serde_json::json;

    fn deployment(spec: &Value, status: &Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "generation": 2},
               "spec": spec, "status": status})
    }

    fn done_conditions() -> Value {
        json!([
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
        ])
    }

    fn rollout(total: i64, updated: i64, ready: i64, available: i64) -> Value {
        deployment(
            &json!({"replicas": 3, "progressDeadlineSeconds": 600}),
            &json!({"observedGeneration": 2, "replicas": total, "updatedReplicas": updated,
                    "readyReplicas": ready, "availableReplicas": available,
                    "conditions": done_conditions()}),
        )
    }

    #[test]
    fn rolling_update_in_progress_says_what_it_waits_for() {
        let a = of(&rollout(4, 1, 3, 3));
        assert_eq!(a.status, Status::InProgress);
        assert_eq!(a.message, "1/3 replicas updated");
        assert_eq!(a.counts, Some(counts(3, 3)));

        assert_eq!(
            of(&rollout(4, 3, 3, 3)).message,
            "Waiting for 1 old replica to terminate"
        );
        assert_eq!(
            of(&rollout(5, 3, 3, 3)).message,
            "Waiting for 2 old replicas to terminate"
        );
        let a = of(&rollout(3, 3, 3, 2));
        assert_eq!(a.message, "2/3 replicas available");
        assert_eq!(a.counts, Some(counts(3, 2)));
        assert_eq!(of(&rollout(3, 3, 2, 3)).message, "2/3 replicas ready");
    }

    #[test]
    fn complete_rollout_succeeds() {
        let a = of(&rollout(3, 3, 3, 3));
        assert_eq!(a.status, Status::Success);
        assert_eq!(a.message, "3/3 replicas available");
        assert_eq!(a.counts, Some(counts(3, 3)));
    }

    #[test]
    fn success_waits_for_the_controller() {
        let unobserved = deployment(
            &json!({"replicas": 1}),
            &json!({"replicas": 1,
            "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
            "conditions": done_conditions()}),
        );
        let a = of(&unobserved);
        assert_eq!(
            (a.status, a.message.as_str()),
            (
                Status::InProgress,
                "Waiting for generation 2 to be observed"
            )
        );

        let counts_done = json!({"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1,
            "readyReplicas": 1, "availableReplicas": 1, "conditions": [
                {"type": "Available", "status": "True"},
                {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                 "message": "ReplicaSet \"web-1\" is progressing."}]});
        let a = of(&deployment(
            &json!({"replicas": 1, "progressDeadlineSeconds": 600}),
            &counts_done,
        ));
        assert_eq!(a.status, Status::InProgress);
        assert_eq!(
            a.message,
            "Progressing: ReplicaSetUpdated: ReplicaSet \"web-1\" is progressing."
        );
        // Without a deadline the Progressing reason is not required (kstatus).
        assert_eq!(
            of(&deployment(&json!({"replicas": 1}), &counts_done)).status,
            Status::Success
        );

        let unavailable = json!({"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1,
            "readyReplicas": 1, "availableReplicas": 1, "conditions": [
                {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"}]});
        assert_eq!(
            of(&deployment(&json!({"replicas": 1}), &unavailable)).message,
            "Not available: MinimumReplicasUnavailable"
        );
    }

    #[test]
    fn a_controller_without_conditions_is_judged_by_the_counts() {
        let object = deployment(
            &json!({"replicas": 2, "progressDeadlineSeconds": 600}),
            &json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
                    "readyReplicas": 2, "availableReplicas": 2}),
        );
        assert_eq!(of(&object).status, Status::Success);
        let rs = replica_set(
            2,
            &json!({"observedGeneration": 1, "replicas": 2,
            "readyReplicas": 2, "availableReplicas": 2}),
        );
        assert_eq!(of(&rs).status, Status::Success);
        let sts = stateful_set(
            &json!({}),
            &json!({"observedGeneration": 1, "replicas": 3,
            "readyReplicas": 3}),
        );
        assert_eq!(of(&sts).status, Status::Success);
    }

    #[test]
    fn progress_deadline_exceeded_fails() {
        let object = deployment(
            &json!({"replicas": 1}),
            &json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1,
                "conditions": [{"type": "Progressing", "status": "False",
                    "reason": "ProgressDeadlineExceeded",
                    "message": "ReplicaSet \"web-2\" has timed out progressing."}]}),
        );
        let a = of(&object);
        assert_eq!(a.status, Status::Failed);
        assert_eq!(
            a.message,
            "ProgressDeadlineExceeded: ReplicaSet \"web-2\" has timed out progressing."
        );
    }

    #[test]
    fn stale_deadline_of_an_older_generation_is_not_a_failure() {
        let object = deployment(
            &json!({"replicas": 1}),
            &json!({"observedGeneration": 1, "conditions": [{"type": "Progressing",
                "status": "False", "reason": "ProgressDeadlineExceeded"}]}),
        );
        assert_eq!(of(&object).status, Status::InProgress);
    }

    #[test]
    fn paused_deployment_is_suspended() {
        let object = deployment(
            &json!({"replicas": 1, "paused": true}),
            &json!({"observedGeneration": 2}),
        );
        let a = of(&object);
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::Suspended, "Paused")
        );
    }

    #[test]
    fn replica_failure_fails_deployments_and_replica_sets() {
        let failure = json!([{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
            "message": "pods \"web-1\" is forbidden: exceeded quota"}]);
        let a = of(&deployment(
            &json!({}),
            &json!({"observedGeneration": 2, "conditions": failure}),
        ));
        assert_eq!(a.status, Status::Failed);
        assert_eq!(
            a.message,
            "ReplicaFailure: FailedCreate: pods \"web-1\" is forbidden: exceeded quota"
        );
        let rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "conditions": failure}});
        assert_eq!(of(&rs).status, Status::Failed);
    }

    fn replica_set(spec: i64, status: &Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"generation": 1},
               "spec": {"replicas": spec}, "status": status})
    }

    #[test]
    fn replica_set_counts_and_messages() {
        let status = |total: i64, ready: i64, available: i64| {
            json!({"observedGeneration": 1, "replicas": total, "readyReplicas": ready,
                   "availableReplicas": available, "fullyLabeledReplicas": total})
        };
        let a = of(&replica_set(3, &status(3, 3, 1)));
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::InProgress, "1/3 replicas available")
        );
        assert_eq!(a.counts, Some(counts(3, 1)));
        assert_eq!(
            of(&replica_set(2, &status(3, 2, 2))).message,
            "Waiting for 1 extra replica to terminate"
        );
        let a = of(&replica_set(3, &status(3, 3, 3)));
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::Success, "3/3 replicas available")
        );
        let old = of(&replica_set(
            0,
            &json!({"observedGeneration": 1, "replicas": 0}),
        ));
        assert_eq!(
            (old.status, old.message.as_str()),
            (Status::Success, "0/0 replicas available")
        );
    }

    #[test]
    fn a_replication_controller_is_judged_like_a_replica_set() {
        let rc = |ready: i64, conditions: &Value| {
            of(&json!({"apiVersion": "v1", "kind": "ReplicationController",
                "metadata": {"generation": 2}, "spec": {"replicas": 2},
                "status": {"observedGeneration": 2, "replicas": 2, "readyReplicas": ready,
                    "availableReplicas": ready, "fullyLabeledReplicas": 2,
                    "conditions": conditions}}))
        };
        let a = rc(1, &json!([]));
        assert_eq!(
            (a.status, a.message.as_str(), a.counts),
            (
                Status::InProgress,
                "1/2 replicas available",
                Some(counts(2, 1))
            )
        );
        assert_eq!(rc(2, &json!([])).status, Status::Success);
        let quota = json!([{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
            "message": "pods \"web-x\" is forbidden: exceeded quota"}]);
        assert_eq!(rc(1, &quota).status, Status::Failed);
    }

    fn stateful_set(strategy: &Value, status: &Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"generation": 1},
               "spec": {"replicas": 3, "updateStrategy": strategy}, "status": status})
    }

    #[test]
    fn stateful_set_rolling_update_with_partition() {
        let strategy = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 1}});
        let status = |updated: i64| {
            json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3,
                   "currentReplicas": 3 - updated, "updatedReplicas": updated,
                   "currentRevision": "web-1", "updateRevision": "web-2"})
        };
        let a = of(&stateful_set(&strategy, &status(1)));
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::InProgress, "1/2 replicas updated")
        );
        let a = of(&stateful_set(&strategy, &status(2)));
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::Success, "3/3 replicas ready")
        );
        assert_eq!(a.counts, Some(counts(3, 3)));
    }

    #[test]
    fn stateful_set_without_partition_waits_for_the_revision() {
        let status = json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3,
            "currentReplicas": 3, "updatedReplicas": 3,
            "currentRevision": "web-1", "updateRevision": "web-2"});
        let a = of(&stateful_set(&json!({"type": "RollingUpdate"}), &status));
        assert_eq!(
            a.message,
            "Waiting for every replica to reach revision web-2"
        );
        // OnDelete: pods change revision only when deleted, so nothing more to wait for.
        assert_eq!(
            of(&stateful_set(&json!({"type": "OnDelete"}), &status)).status,
            Status::Success
        );
        let not_ready = json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 1});
        assert_eq!(
            of(&stateful_set(&json!({"type": "OnDelete"}), &not_ready)).message,
            "1/3 replicas ready"
        );
        let unobserved = json!({"observedGeneration": 0, "replicas": 3, "readyReplicas": 3});
        assert_eq!(
            of(&stateful_set(&json!({}), &unobserved)).message,
            "Waiting for generation 1 to be observed (at 0)"
        );
        let never_observed = json!({"replicas": 3, "readyReplicas": 3});
        assert_eq!(
            of(&stateful_set(&json!({}), &never_observed)).message,
            "Waiting for generation 1 to be observed"
        );
    }

    fn daemon_set(strategy: &str, status: &Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"generation": 1},
               "spec": {"updateStrategy": {"type": strategy}}, "status": status})
    }

    #[test]
    fn daemon_set_rules() {
        let status = |updated: i64, available: i64| {
            json!({"observedGeneration": 1, "desiredNumberScheduled": 4,
                   "currentNumberScheduled": 4, "updatedNumberScheduled": updated,
                   "numberAvailable": available, "numberReady": available})
        };
        let a = of(&daemon_set("RollingUpdate", &status(2, 4)));
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::InProgress, "2/4 pods updated")
        );
        assert_eq!(
            of(&daemon_set("OnDelete", &status(2, 4))).status,
            Status::Success
        );
        let a = of(&daemon_set("RollingUpdate", &status(4, 3)));
        assert_eq!(a.message, "3/4 pods available");
        assert_eq!(a.counts, Some(counts(4, 3)));
        let a = of(&daemon_set("RollingUpdate", &status(4, 4)));
        assert_eq!(
            (a.status, a.message.as_str()),
            (Status::Success, "4/4 pods available")
        );
        let unscheduled = of(&daemon_set(
            "RollingUpdate",
            &json!({"observedGeneration": 1}),
        ));
        assert_eq!(
            unscheduled.message,
            "Waiting for the controller to schedule pods"
        );
    }
}
