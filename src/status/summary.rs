//! Readers that turn an object into the small rows the details pane shows: its conditions
//! and, for pods, its containers.
//!
//! Pure, like the rest of `status`; the pod rules read containers through [`read`] so that
//! the verdict and the details pane see the same thing. Only names, images, states and
//! exit codes are read: never environment values, volumes or any Secret data.

use super::fields::{flag, int, int_or, list, text, text_or_empty};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One condition of an object's `.status.conditions`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Condition {
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    /// When it last changed, by the cluster's clock (RFC 3339): `lastUpdateTime` where the
    /// kind keeps one (a Deployment's progress), else `lastTransitionTime`; empty when unset.
    pub updated: String,
}

/// The state of one container of a pod, for the details pane and the digest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContainerRow {
    pub name: String,
    pub init: bool,
    pub image: String,
    pub ready: bool,
    pub restarts: u32,
    /// `running`, `waiting` or `terminated`.
    pub state: String,
    /// Waiting or terminated reason (`ImagePullBackOff`, `Error`, `Completed`).
    pub reason: String,
    pub message: String,
    pub exit_code: Option<i32>,
    /// The previous instance, when it terminated: `Error (exit 1)`.
    pub last_state: Option<String>,
}

/// The object's conditions: `.status.conditions`, or for an `autoscaling/v1`
/// `HorizontalPodAutoscaler` the ones kept in its annotation.
pub fn conditions(object: &Value) -> Vec<Condition> {
    conditions_or_hpa(object, super::conditions::read(object))
}

/// `own`, the object's `.status.conditions`, or when it has none and is a
/// `HorizontalPodAutoscaler` those of its annotation.
pub(crate) fn conditions_or_hpa(object: &Value, own: Vec<Condition>) -> Vec<Condition> {
    if own.is_empty() && text(object, "/kind") == Some("HorizontalPodAutoscaler") {
        return super::conditions::hpa_annotation(object);
    }
    own
}

/// A pod's containers, init containers first, with their state, restarts and last
/// termination. Empty for anything that has no containers.
pub fn containers(object: &Value) -> Vec<ContainerRow> {
    read(object).iter().map(Container::row).collect()
}

/// How a container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Termination<'a> {
    pub reason: &'a str,
    pub message: &'a str,
    pub exit_code: Option<i64>,
}

impl Termination<'_> {
    fn read(terminated: &Value) -> Termination<'_> {
        Termination {
            reason: text_or_empty(terminated, "/reason"),
            message: text_or_empty(terminated, "/message"),
            exit_code: int(terminated, "/exitCode"),
        }
    }

    /// Whether the container ended badly: a non-zero exit code or an OOM kill.
    pub fn is_error(&self) -> bool {
        self.reason == "OOMKilled" || self.exit_code.is_some_and(|code| code != 0)
    }

    /// `Error (exit 1)`, `OOMKilled (exit 137)`, `exit 2`.
    pub fn describe(&self) -> String {
        match (self.reason.is_empty(), self.exit_code) {
            (false, Some(code)) => format!("{} (exit {code})", self.reason),
            (false, None) => self.reason.to_owned(),
            (true, Some(code)) => format!("exit {code}"),
            (true, None) => "terminated".to_owned(),
        }
    }
}

/// The current state of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State<'a> {
    Running,
    /// Also a container the kubelet has not reported yet (empty reason).
    Waiting {
        reason: &'a str,
        message: &'a str,
    },
    Terminated(Termination<'a>),
}

/// One container as the pod rules and the details pane see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Container<'a> {
    pub name: &'a str,
    pub init: bool,
    pub image: &'a str,
    pub ready: bool,
    pub restarts: i64,
    pub state: State<'a>,
    /// The previous instance, when it terminated.
    pub last: Option<Termination<'a>>,
}

impl Container<'_> {
    pub(crate) fn row(&self) -> ContainerRow {
        let (state, reason, message, exit_code) = match &self.state {
            State::Running => ("running", "", "", None),
            State::Waiting { reason, message } => ("waiting", *reason, *message, None),
            State::Terminated(t) => ("terminated", t.reason, t.message, t.exit_code),
        };
        ContainerRow {
            name: self.name.to_owned(),
            init: self.init,
            image: self.image.to_owned(),
            ready: self.ready,
            restarts: super::fields::count(self.restarts),
            state: state.to_owned(),
            reason: reason.to_owned(),
            message: message.to_owned(),
            exit_code: exit_code.and_then(|code| i32::try_from(code).ok()),
            last_state: self.last.as_ref().map(Termination::describe),
        }
    }
}

/// The pod's containers, init containers first, each in spec order, then any status entry
/// the spec does not name (objects written by hand may carry only a status).
pub(crate) fn read(object: &Value) -> Vec<Container<'_>> {
    let mut all = side(
        object,
        "/spec/initContainers",
        "/status/initContainerStatuses",
        true,
    );
    all.extend(side(
        object,
        "/spec/containers",
        "/status/containerStatuses",
        false,
    ));
    all
}

fn side<'a>(object: &'a Value, specs: &str, statuses: &str, init: bool) -> Vec<Container<'a>> {
    let statuses = list(object, statuses);
    let status_of = |name: &str| {
        statuses
            .iter()
            .find(|status| text(status, "/name") == Some(name))
    };
    let mut out: Vec<Container> = list(object, specs)
        .iter()
        .filter_map(|spec| {
            let name = text(spec, "/name")?;
            Some(container(name, init, Some(spec), status_of(name)))
        })
        .collect();
    for status in statuses {
        if let Some(name) = text(status, "/name")
            && !out.iter().any(|c| c.name == name)
        {
            out.push(container(name, init, None, Some(status)));
        }
    }
    out
}

fn container<'a>(
    name: &'a str,
    init: bool,
    spec: Option<&'a Value>,
    status: Option<&'a Value>,
) -> Container<'a> {
    let from_spec = spec.and_then(|spec| text(spec, "/image"));
    let from_status = status.and_then(|status| text(status, "/image"));
    let Some(status) = status else {
        return Container {
            name,
            init,
            image: from_spec.unwrap_or_default(),
            ready: false,
            restarts: 0,
            state: State::Waiting {
                reason: "",
                message: "",
            },
            last: None,
        };
    };
    Container {
        name,
        init,
        // The spec names what the user asked for; the status may hold a resolved digest.
        image: from_spec.or(from_status).unwrap_or_default(),
        ready: flag(status, "/ready"),
        restarts: int_or(status, "/restartCount", 0),
        state: state(status.get("state")),
        last: super::fields::at(status, "/lastState/terminated")
            .filter(|t| t.is_object())
            .map(Termination::read),
    }
}

fn state(state: Option<&Value>) -> State<'_> {
    let Some(state) = state else {
        return State::Waiting {
            reason: "",
            message: "",
        };
    };
    if let Some(terminated) = state.get("terminated").filter(|t| t.is_object()) {
        State::Terminated(Termination::read(terminated))
    } else if state.get("running").is_some_and(Value::is_object) {
        State::Running
    } else {
        State::Waiting {
            reason: text_or_empty(state, "/waiting/reason"),
            message: text_or_empty(state, "/waiting/message"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "spec": {
                "initContainers": [{"name": "migrate", "image": "app:2"}],
                "containers": [
                    {"name": "web", "image": "nginx:1.27", "env": [{"name": "P", "value": "s3cret"}]},
                    {"name": "sidecar", "image": "envoy:1"}
                ]
            },
            "status": {
                "initContainerStatuses": [{"name": "migrate", "ready": false, "restartCount": 0,
                    "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}],
                "containerStatuses": [
                    {"name": "sidecar", "image": "docker.io/envoy:1", "ready": true,
                     "restartCount": 0, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}},
                    {"name": "web", "ready": false, "restartCount": 4,
                     "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                     "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}
                ]
            }
        })
    }

    #[test]
    fn containers_come_init_first_in_spec_order() {
        let rows = containers(&pod());
        let names: Vec<_> = rows.iter().map(|r| (r.name.as_str(), r.init)).collect();
        assert_eq!(
            names,
            [("migrate", true), ("web", false), ("sidecar", false)]
        );
        assert_eq!(rows[0].state, "terminated");
        assert_eq!(rows[0].reason, "Completed");
        assert_eq!(rows[0].exit_code, Some(0));
        assert_eq!(rows[1].state, "waiting");
        assert_eq!(rows[1].reason, "CrashLoopBackOff");
        assert_eq!(rows[1].restarts, 4);
        assert_eq!(rows[1].last_state.as_deref(), Some("OOMKilled (exit 137)"));
        assert_eq!(rows[2].state, "running");
        assert!(rows[2].ready);
        assert_eq!(rows[2].image, "envoy:1", "the spec's image wins");
    }

    #[test]
    fn containers_never_carry_environment_values() {
        let rows = format!("{:?}", containers(&pod()));
        assert!(!rows.contains("s3cret"));
    }

    #[test]
    fn containers_without_status_are_waiting() {
        let object = json!({"spec": {"containers": [{"name": "web", "image": "nginx"}]}});
        let rows = containers(&object);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].state, "waiting");
        assert_eq!(rows[0].reason, "");
        assert_eq!(rows[0].image, "nginx");
    }

    #[test]
    fn status_only_containers_are_listed() {
        let object = json!({"status": {"containerStatuses": [{"name": "nginx", "image": "nginx:1",
            "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}});
        let rows = containers(&object);
        assert_eq!(rows[0].image, "nginx:1");
        assert_eq!(rows[0].last_state.as_deref(), Some("Error (exit 1)"));
    }

    #[test]
    fn conditions_include_the_hpa_v1_annotation() {
        let hpa = json!({"kind": "HorizontalPodAutoscaler", "metadata": {"annotations": {
            "autoscaling.alpha.kubernetes.io/conditions":
                r#"[{"type":"ScalingActive","status":"False","reason":"FailedGetResourceMetric"}]"#}}});
        let read = conditions(&hpa);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].reason, "FailedGetResourceMetric");
        let pod =
            json!({"kind": "Pod", "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(conditions(&pod)[0].type_, "Ready");
    }

    #[test]
    fn terminations_describe_themselves() {
        let t = |reason, exit_code| Termination {
            reason,
            message: "",
            exit_code,
        };
        assert_eq!(t("Error", Some(1)).describe(), "Error (exit 1)");
        assert_eq!(t("", Some(2)).describe(), "exit 2");
        assert_eq!(t("", None).describe(), "terminated");
        assert!(t("OOMKilled", None).is_error());
        assert!(!t("Completed", Some(0)).is_error());
    }
}
