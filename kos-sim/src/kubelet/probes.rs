//! What the kubelet's probers and the kernel do to a pod's running containers, from their
//! spec (probes, memory limits) and what only the application knows (its annotations:
//! `readiness: fail`, `liveness: fail`, `memory-usage`): which containers never become
//! ready, how long passing readiness probes wait for their first success, when a failing
//! liveness probe gets a container killed, when one using more memory than its limit is
//! OOM-killed. The probe failure messages are the kubelet's.
//!
//! Pure: the pod task schedules the Events and the exits this describes.

use crate::kubelet::behaviour::Behaviour;
use serde_json::Value;
use std::time::Duration;

/// How soon after it starts a container over its memory limit is killed: the application
/// allocates what it uses as it starts, before it is ready.
const OOM_AFTER: Duration = Duration::from_millis(500);
/// The exit code of a container killed by SIGKILL (128 + 9).
pub const KILLED: i32 = 137;

/// One failing probe of one container: when it fails, and how the kubelet words it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failing {
    /// Index of the container in `spec.containers`.
    pub container: usize,
    /// Time from the container's start to its first failure (`initialDelaySeconds`).
    pub first: Duration,
    pub period: Duration,
    /// Failures in a row after which the kubelet acts (`failureThreshold`).
    pub threshold: u32,
    /// The Event's message: `Liveness probe failed: HTTP probe failed with statuscode: 500`.
    pub message: String,
}

impl Failing {
    /// The time of the `n`-th failure (0-based) after the container started.
    pub fn at(&self, n: u32) -> Duration {
        self.first + self.period * n
    }

    /// When the failures reach the threshold.
    pub fn fatal(&self) -> Duration {
        self.at(self.threshold.max(1) - 1)
    }
}

/// A forced end of one run of the containers.
#[derive(Debug, Clone, PartialEq)]
pub struct Kill {
    pub after: Duration,
    pub code: i32,
    /// The terminated state's reason: `OOMKilled`, or `Error` after a failed liveness probe.
    pub reason: &'static str,
    /// The liveness probe that failed (the kubelet's `Killing` Event names its container).
    pub liveness: Option<usize>,
}

/// The probes and limits that decide a pod's health.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Health {
    /// Readiness probes that fail: their containers never become ready.
    pub readiness: Vec<Failing>,
    /// Liveness probes that fail.
    pub liveness: Vec<Failing>,
    /// Containers whose memory limit is below what they use.
    pub over_limit: Vec<usize>,
    /// How long after the containers start the last of their passing readiness probes
    /// first runs (`initialDelaySeconds`): until then the prober reports them not ready.
    pub ready_after: Duration,
}

impl Health {
    /// The health of the containers of `spec`, whose pod has the IP `pod_ip`, as
    /// `behaviour` says the application behaves. Only a container that has a probe can fail
    /// it, and only one with a memory limit can go over it.
    pub fn of(spec: &Value, pod_ip: &str, behaviour: &Behaviour) -> Health {
        let containers = spec["containers"].as_array().cloned().unwrap_or_default();
        let probes = |field: &str, kind: &str, fails: bool| -> Vec<Failing> {
            if !fails {
                return Vec::new();
            }
            containers
                .iter()
                .enumerate()
                .filter_map(|(i, c)| failing(i, &c[field], kind, pod_ip))
                .collect()
        };
        let over_limit = behaviour.memory_usage.map_or_else(Vec::new, |usage| {
            containers
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    crate::scheduler::quantity_of(&c["resources"]["limits"]["memory"])
                        .is_some_and(|limit| usage > limit)
                })
                .map(|(i, _)| i)
                .collect()
        });
        let ready_after = containers
            .iter()
            .filter_map(|c| c["readinessProbe"]["initialDelaySeconds"].as_u64())
            .max()
            .map_or(Duration::ZERO, Duration::from_secs);
        Health {
            readiness: probes("readinessProbe", "Readiness", behaviour.readiness_fails),
            liveness: probes("livenessProbe", "Liveness", behaviour.liveness_fails),
            over_limit,
            ready_after,
        }
    }

    /// Whether container `i` fails its readiness probe.
    pub fn unready(&self, i: usize) -> bool {
        self.readiness.iter().any(|f| f.container == i)
    }

    /// The first forced end of a run: the kernel's OOM kill, or the kubelet's kill after
    /// a liveness probe failed `failureThreshold` times.
    pub fn kill(&self) -> Option<Kill> {
        let oom = (!self.over_limit.is_empty()).then_some(Kill {
            after: OOM_AFTER,
            code: KILLED,
            reason: "OOMKilled",
            liveness: None,
        });
        let liveness = self.liveness.iter().map(|f| Kill {
            after: f.fatal(),
            code: KILLED,
            reason: "Error",
            liveness: Some(f.container),
        });
        oom.into_iter().chain(liveness).min_by_key(|k| k.after)
    }
}

/// The probe at `probe` of container `i`, failing, if the container has one.
fn failing(i: usize, probe: &Value, kind: &str, pod_ip: &str) -> Option<Failing> {
    if !probe.is_object() {
        return None;
    }
    let seconds = |field: &str, default: u64| {
        probe[field]
            .as_u64()
            .map_or(Duration::from_secs(default), Duration::from_secs)
    };
    let threshold = probe["failureThreshold"].as_u64().unwrap_or(3);
    Some(Failing {
        container: i,
        first: seconds("initialDelaySeconds", 0),
        period: seconds("periodSeconds", 10).max(Duration::from_secs(1)),
        threshold: u32::try_from(threshold).unwrap_or(u32::MAX),
        message: format!("{kind} probe failed: {}", failure(probe, pod_ip)),
    })
}

/// What the prober reports when the application fails the probe: the HTTP prober's status
/// code, the TCP prober's refused connection, the gRPC prober's NOT_SERVING, or an exec
/// probe's (empty) output.
fn failure(probe: &Value, pod_ip: &str) -> String {
    let port = |action: &Value| match &action["port"] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    if probe["httpGet"].is_object() {
        "HTTP probe failed with statuscode: 500".to_owned()
    } else if probe["tcpSocket"].is_object() {
        let action = &probe["tcpSocket"];
        let host = action["host"].as_str().unwrap_or(pod_ip);
        format!(
            "dial tcp {host}:{}: connect: connection refused",
            port(action)
        )
    } else if probe["grpc"].is_object() {
        "service unhealthy (responded with \"NOT_SERVING\")".to_owned()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn behaviour(annotations: &Value) -> Behaviour {
        Behaviour::of(&json!({"metadata": {"annotations": annotations}}))
    }

    #[test]
    fn failing_probes_are_worded_as_the_kubelet_words_them() {
        let spec = json!({"containers": [
            {"name": "web", "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080},
                                               "periodSeconds": 5}},
            {"name": "db", "livenessProbe": {"tcpSocket": {"port": 5432},
                                             "initialDelaySeconds": 10, "periodSeconds": 2,
                                             "failureThreshold": 4}},
            {"name": "plain"},
        ]});
        let both = json!({"sim.kos.dev/readiness": "fail", "sim.kos.dev/liveness": "fail"});
        let health = Health::of(&spec, "10.244.1.7", &behaviour(&both));
        assert_eq!(
            health.readiness[0].message,
            "Readiness probe failed: HTTP probe failed with statuscode: 500"
        );
        assert!(health.unready(0) && !health.unready(1) && !health.unready(2));
        let liveness = &health.liveness[0];
        assert_eq!(
            liveness.message,
            "Liveness probe failed: dial tcp 10.244.1.7:5432: connect: connection refused"
        );
        // Failures at 10 s, 12 s, 14 s, 16 s: the fourth kills.
        assert_eq!(liveness.fatal(), Duration::from_secs(16));
        let kill = health.kill().unwrap();
        assert_eq!(
            (kill.code, kill.reason, kill.liveness),
            (137, "Error", Some(1))
        );
        // Probes that pass, or that a container does not have, change nothing.
        assert_eq!(
            Health::of(&spec, "10.244.1.7", &behaviour(&json!({}))),
            Health::default()
        );
        let unprobed = json!({"containers": [{"name": "plain"}]});
        assert_eq!(
            Health::of(&unprobed, "ip", &behaviour(&both)),
            Health::default()
        );
    }

    #[test]
    fn passing_readiness_probes_report_ready_after_their_initial_delay() {
        let spec = json!({"containers": [
            {"name": "web", "readinessProbe": {"httpGet": {"port": 8080},
                                               "initialDelaySeconds": 20}},
            {"name": "sidecar", "readinessProbe": {"tcpSocket": {"port": 9090},
                                                   "initialDelaySeconds": 5}},
            {"name": "late-liveness", "livenessProbe": {"tcpSocket": {"port": 1},
                                                        "initialDelaySeconds": 60}},
        ]});
        let health = Health::of(&spec, "ip", &behaviour(&json!({})));
        assert_eq!(health.ready_after, Duration::from_secs(20));
        assert!(health.readiness.is_empty(), "they pass");
    }

    #[test]
    fn a_container_using_more_than_its_memory_limit_is_oom_killed() {
        let spec = |limit: &str| {
            json!({"containers": [{"name": "app",
                "resources": {"limits": {"memory": limit}}}]})
        };
        let hungry = behaviour(&json!({"sim.kos.dev/memory-usage": "300Mi"}));
        let kill = Health::of(&spec("128Mi"), "ip", &hungry).kill().unwrap();
        assert_eq!((kill.code, kill.reason), (137, "OOMKilled"));
        assert_eq!(kill.after, OOM_AFTER);
        assert_eq!(Health::of(&spec("512Mi"), "ip", &hungry).kill(), None);
        let unlimited = json!({"containers": [{"name": "app"}]});
        assert_eq!(Health::of(&unlimited, "ip", &hungry).kill(), None);
    }
}
