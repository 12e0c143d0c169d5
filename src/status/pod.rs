//! The Pod rules, taking the deploy-time view: a failure shows as soon as a container shows
//! it (image pull errors, crash loops, config errors, OOM kills), for init containers too
//! and whatever the restart policy; success is a Running pod that is Ready (or a Succeeded
//! one).
//!
//! An Unschedulable pod stays `in_progress`: a cluster autoscaler may still add a node, and
//! the rule must stay clock-free (kstatus fails it after 15 s of wall clock).

use super::conditions::{self, find};
use super::fields::{count, plural, text, text_or_empty};
use super::summary::Condition;
use super::summary::{Container, State};
use super::{Assessment, Counts, Status};
use serde_json::Value;

/// The pod's verdict, from its `conditions` ([`conditions::read`]) and `containers`
/// ([`summary::read`]), which its caller has read once for every use.
pub(crate) fn assess(
    object: &Value,
    conditions: &[Condition],
    containers: &[Container],
) -> Assessment {
    let mut assessment = match text(object, "/status/phase") {
        Some("Succeeded") => Assessment::new(Status::Success, "Completed"),
        Some("Failed") => Assessment::new(Status::Failed, failed_message(object, containers)),
        phase => match container_failure(containers) {
            Some(message) => Assessment::new(Status::Failed, message),
            None => by_phase(object, phase, conditions, containers),
        },
    };
    assessment.counts = ready_containers(containers);
    assessment
}

/// `kubectl get pod`'s READY column: ready regular containers out of all of them.
fn ready_containers(containers: &[Container]) -> Option<Counts> {
    let regular: Vec<_> = containers.iter().filter(|c| !c.init).collect();
    if regular.is_empty() {
        return None;
    }
    let ready = regular.iter().filter(|c| c.ready).count();
    Some(Counts {
        desired: count(regular.len() as i64),
        ready: count(ready as i64),
    })
}

/// Waiting reasons that need a person. Beyond the named ones, kubelet's own naming marks
/// failures: `Err…` (`ErrImagePull`, `ErrImageNeverPull`), `…Error`
/// (`CreateContainerConfigError`, `RunContainerError`, `PostStartHookError`) and
/// `…BackOff` (`ImagePullBackOff`, `CrashLoopBackOff`); Argo CD reads them the same way.
fn is_failure_reason(reason: &str) -> bool {
    reason == "InvalidImageName"
        || reason.starts_with("Err")
        || reason.ends_with("Error")
        || reason.ends_with("BackOff")
}

/// The first container, init containers first, that shows a failure.
fn container_failure(containers: &[Container]) -> Option<String> {
    containers.iter().find_map(failure_of)
}

/// Whether every failure the pod shows is a container waiting for a Secret or `ConfigMap`
/// (or a key of one) that does not exist: the start-up state that another component
/// creating it ends (`young`). `containers` are the pod's ([`summary::read`]).
pub(crate) fn only_missing_configuration(object: &Value, containers: &[Container]) -> bool {
    if text(object, "/status/phase") == Some("Failed") {
        return false;
    }
    let mut failing = containers
        .iter()
        .filter(|c| failure_of(c).is_some())
        .peekable();
    failing.peek().is_some()
        && failing.all(|c| {
            matches!(&c.state, State::Waiting { reason, message }
                if *reason == "CreateContainerConfigError"
                    && (message.ends_with(" not found") || message.starts_with("couldn't find key")))
        })
}

/// The failure one container shows, as `name: what — N restarts`.
fn failure_of(c: &Container) -> Option<String> {
    let what = match &c.state {
        State::Waiting { reason, message } if is_failure_reason(reason) => {
            with_detail(reason, &kubelet_message(message))
        }
        State::Terminated(t) if t.is_error() => t.describe(),
        // Finished cleanly, whatever an earlier attempt did.
        State::Terminated(_) => return None,
        // A restarted container that is not ready again is crash looping between
        // back-offs; an OOM kill is worth showing even once the container is back.
        _ => match &c.last {
            Some(last) if last.reason == "OOMKilled" || !c.ready => last.describe(),
            _ => return None,
        },
    };
    Some(format!("{}: {what}{}", c.name, restarts(c.restarts)))
}

fn with_detail(reason: &str, message: &str) -> String {
    if message.is_empty() {
        reason.to_owned()
    } else {
        format!("{reason} ({message})")
    }
}

/// Kubelet's back-off message ends in `container=NAME pod=NAME_NS(UID)`, which the message
/// already says better; keep the part a person reads.
fn kubelet_message(message: &str) -> String {
    const CONTAINER: &str = " container=";
    match message.find(CONTAINER) {
        Some(at) => message[..at + CONTAINER.len() - 1].to_owned(),
        None => message.to_owned(),
    }
}

fn restarts(n: i64) -> String {
    if n > 0 {
        format!(" — {}", plural(n, "restart"))
    } else {
        String::new()
    }
}

fn failed_message(object: &Value, containers: &[Container]) -> String {
    let reason = text_or_empty(object, "/status/reason");
    let message = text_or_empty(object, "/status/message");
    if !reason.is_empty() || !message.is_empty() {
        let reason = if reason.is_empty() { "Failed" } else { reason };
        return with_detail(reason, message);
    }
    container_failure(containers).unwrap_or_else(|| "Failed".to_owned())
}

fn by_phase(
    object: &Value,
    phase: Option<&str>,
    conditions: &[Condition],
    containers: &[Container],
) -> Assessment {
    match phase {
        None | Some("" | "Pending") => {
            Assessment::new(Status::InProgress, pending_message(conditions, containers))
        }
        Some("Running") => running(object, conditions, containers),
        Some(other) => Assessment::new(Status::Unknown, format!("Phase {other}")),
    }
}

fn pending_message(conditions: &[Condition], containers: &[Container]) -> String {
    if let Some(scheduled) = find(conditions, "PodScheduled")
        && scheduled.status == "False"
        && scheduled.reason == "Unschedulable"
    {
        return conditions::detail(scheduled);
    }
    let busy = containers.iter().find_map(|c| match &c.state {
        State::Waiting { reason, .. } if !reason.is_empty() => {
            Some(format!("{}: {reason}", c.name))
        }
        State::Running if c.init => Some(format!("Init container {} running", c.name)),
        _ => None,
    });
    busy.unwrap_or_else(|| "Pending".to_owned())
}

fn running(object: &Value, conditions: &[Condition], containers: &[Container]) -> Assessment {
    let policy = text(object, "/spec/restartPolicy").unwrap_or("Always");
    if policy != "Always" {
        // A pod that is not restarted runs to completion: the user waits for it to end, as
        // for a Job, so Running is not the end state (Argo CD reads it the same way).
        return Assessment::new(
            Status::InProgress,
            format!("Running (restartPolicy {policy}: waits for completion)"),
        );
    }
    if conditions::is_true(conditions, "Ready") {
        return Assessment::new(Status::Success, "Ready");
    }
    let unready: Vec<&str> = containers
        .iter()
        .filter(|c| !c.init && !c.ready)
        .map(|c| c.name)
        .collect();
    let message = if unready.is_empty() {
        "Running, not ready".to_owned()
    } else {
        format!("Running, not ready: {}", unready.join(", "))
    };
    Assessment::new(Status::InProgress, message)
}

#[cfg(test)]
mod tests {
    use super::super::{counts, of};
    use super::*;
    use serde_json::json;

    fn pod(status: &Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1"},
               "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
               "status": status})
    }

    fn waiting(reason: &str, message: &str, restarts: i64) -> Value {
        pod(
            &json!({"phase": "Pending", "containerStatuses": [{"name": "nginx", "ready": false,
            "restartCount": restarts, "state": {"waiting": {"reason": reason, "message": message}}}]}),
        )
    }

    #[test]
    fn image_pull_back_off_names_container_and_reason() {
        let a = of(&waiting(
            "ImagePullBackOff",
            "Back-off pulling image \"nginx:doesnotexist\"",
            0,
        ));
        assert_eq!(a.status, Status::Failed);
        assert_eq!(
            a.message,
            "nginx: ImagePullBackOff (Back-off pulling image \"nginx:doesnotexist\")"
        );
        assert_eq!(a.counts, Some(counts(1, 0)));
    }

    #[test]
    fn every_deploy_time_waiting_failure_fails() {
        for reason in [
            "ErrImagePull",
            "ImagePullBackOff",
            "CrashLoopBackOff",
            "CreateContainerConfigError",
            "CreateContainerError",
            "InvalidImageName",
            "RunContainerError",
        ] {
            assert_eq!(
                of(&waiting(reason, "", 0)).status,
                Status::Failed,
                "{reason}"
            );
        }
        for reason in ["ContainerCreating", "PodInitializing"] {
            let a = of(&waiting(reason, "", 0));
            assert_eq!(a.status, Status::InProgress, "{reason}");
            assert_eq!(a.message, format!("nginx: {reason}"));
        }
    }

    #[test]
    fn crash_loop_message_drops_kubelet_noise_and_counts_restarts() {
        let a = of(&waiting(
            "CrashLoopBackOff",
            "back-off 40s restarting failed container=nginx pod=web-1_default(0b1c)",
            4,
        ));
        assert_eq!(
            a.message,
            "nginx: CrashLoopBackOff (back-off 40s restarting failed container) — 4 restarts"
        );
    }

    #[test]
    fn init_container_failures_fail_whatever_the_restart_policy() {
        let object = json!({"kind": "Pod", "apiVersion": "v1",
            "spec": {"restartPolicy": "Never",
                     "initContainers": [{"name": "migrate", "image": "app"}],
                     "containers": [{"name": "app", "image": "app"}]},
            "status": {"phase": "Pending",
                "initContainerStatuses": [{"name": "migrate", "restartCount": 0,
                    "state": {"terminated": {"reason": "Error", "exitCode": 3}}}],
                "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "PodInitializing"}}}]}});
        let a = of(&object);
        assert_eq!(a.status, Status::Failed);
        assert_eq!(a.message, "migrate: Error (exit 3)");

        let crash = json!({"kind": "Pod", "spec": {"restartPolicy": "OnFailure"},
            "status": {"phase": "Pending", "initContainerStatuses": [{"name": "init", "restartCount": 2,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        assert_eq!(of(&crash).message, "init: CrashLoopBackOff — 2 restarts");
    }

    #[test]
    fn oom_killed_restarts_fail_even_when_back_and_ready() {
        let object = pod(&json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "nginx", "ready": true, "restartCount": 3,
                "state": {"running": {}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}));
        let a = of(&object);
        assert_eq!(a.status, Status::Failed);
        assert_eq!(a.message, "nginx: OOMKilled (exit 137) — 3 restarts");
    }

    #[test]
    fn restarted_and_not_ready_is_a_crash_between_back_offs() {
        let restarted = |ready: bool| {
            pod(&json!({"phase": "Running",
                "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}],
                "containerStatuses": [{"name": "nginx", "ready": ready, "restartCount": 1,
                    "state": {"running": {}},
                    "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}))
        };
        let a = of(&restarted(false));
        assert_eq!(a.status, Status::Failed);
        assert_eq!(a.message, "nginx: Error (exit 1) — 1 restart");
        assert_eq!(
            of(&restarted(true)).status,
            Status::Success,
            "an old crash of a ready container is history"
        );
    }

    #[test]
    fn phases() {
        let ready = pod(&json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "nginx", "ready": true, "state": {"running": {}}}]}));
        let a = of(&ready);
        assert_eq!((a.status, a.message.as_str()), (Status::Success, "Ready"));
        assert_eq!(a.counts, Some(counts(1, 1)));

        let not_ready = pod(&json!({"phase": "Running",
            "containerStatuses": [{"name": "nginx", "ready": false, "state": {"running": {}}}]}));
        assert_eq!(of(&not_ready).message, "Running, not ready: nginx");
        assert_eq!(of(&not_ready).status, Status::InProgress);

        let done = pod(&json!({"phase": "Succeeded"}));
        assert_eq!(of(&done).status, Status::Success);

        let evicted = pod(&json!({"phase": "Failed", "reason": "Evicted",
            "message": "The node was low on resource: memory."}));
        let a = of(&evicted);
        assert_eq!(a.status, Status::Failed);
        assert_eq!(a.message, "Evicted (The node was low on resource: memory.)");

        let lost = pod(&json!({"phase": "Unknown"}));
        assert_eq!(of(&lost).status, Status::Unknown);

        let fresh = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
        assert_eq!(
            (of(&fresh).status, of(&fresh).message.as_str()),
            (Status::InProgress, "Pending")
        );
    }

    #[test]
    fn failed_phase_names_the_container() {
        let object = json!({"kind": "Pod", "spec": {"restartPolicy": "Never"},
            "status": {"phase": "Failed", "containerStatuses": [{"name": "main",
                "state": {"terminated": {"reason": "Error", "exitCode": 1}}}]}});
        assert_eq!(of(&object).message, "main: Error (exit 1)");
    }

    #[test]
    fn unschedulable_stays_in_progress() {
        let object = pod(
            &json!({"phase": "Pending", "conditions": [{"type": "PodScheduled",
            "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient cpu."}]}),
        );
        let a = of(&object);
        assert_eq!(a.status, Status::InProgress);
        assert_eq!(
            a.message,
            "Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."
        );
    }

    #[test]
    fn run_to_completion_pods_are_in_progress_while_running() {
        let object = json!({"kind": "Pod", "spec": {"restartPolicy": "Never"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        let a = of(&object);
        assert_eq!(a.status, Status::InProgress);
        assert_eq!(
            a.message,
            "Running (restartPolicy Never: waits for completion)"
        );
    }

    #[test]
    fn init_container_running_is_reported() {
        let object = json!({"kind": "Pod", "status": {"phase": "Pending",
            "initContainerStatuses": [{"name": "migrate", "state": {"running": {}}}]}});
        assert_eq!(of(&object).message, "Init container migrate running");
    }
}
