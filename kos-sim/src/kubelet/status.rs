//! A pod's status as the kubelet keeps it: per container state, last state, restarts; pod
//! conditions with their transition times; phase, IPs, QoS class. Renders the
//! `.status` a real kubelet writes. Pure; the pod task decides when things change.

use crate::controllers::objects::{fnv32a, set_condition};
use serde_json::{Value, json};
use std::fmt::Write;

/// One container (or init container) as the kubelet tracks it.
#[derive(Debug, Clone)]
pub struct Container {
    pub name: String,
    pub image: String,
    /// `imagePullPolicy` as the spec gives it ("" when it does not).
    pub pull_policy: String,
    pub image_id: String,
    pub container_id: String,
    pub restart_count: u32,
    pub state: Value,
    pub last_state: Value,
    pub ready: bool,
    pub started: bool,
}

impl Container {
    fn new(spec: &Value, waiting_reason: &str) -> Self {
        Container {
            name: spec["name"].as_str().unwrap_or_default().to_owned(),
            image: spec["image"].as_str().unwrap_or_default().to_owned(),
            pull_policy: spec["imagePullPolicy"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            image_id: String::new(),
            container_id: String::new(),
            restart_count: 0,
            state: json!({"waiting": {"reason": waiting_reason}}),
            last_state: json!({}),
            ready: false,
            started: false,
        }
    }

    pub fn wait(&mut self, reason: &str, message: Option<String>) {
        let mut waiting = json!({"reason": reason});
        if let Some(message) = message {
            waiting["message"] = json!(message);
        }
        self.state = json!({"waiting": waiting});
        self.ready = false;
        self.started = false;
    }

    pub fn run(&mut self, now: &str) {
        self.state = json!({"running": {"startedAt": now}});
        self.started = true;
    }

    /// The container exits on its own; returns the terminated state.
    pub fn terminate(&mut self, code: i32, now: &str) -> Value {
        let reason = if code == 0 { "Completed" } else { "Error" };
        self.terminate_as(code, reason, now)
    }

    /// The container exits, or is killed, for `reason` (`OOMKilled`); returns the
    /// terminated state.
    pub fn terminate_as(&mut self, code: i32, reason: &str, now: &str) -> Value {
        let started = self
            .state
            .pointer("/running/startedAt")
            .cloned()
            .unwrap_or_else(|| json!(now));
        self.state = json!({"terminated": {
            "exitCode": code, "reason": reason, "startedAt": started, "finishedAt": now,
            "containerID": self.container_id,
        }});
        self.ready = false;
        self.started = false;
        self.state.clone()
    }

    pub fn running(&self) -> bool {
        self.state.get("running").is_some()
    }

    fn render(&self) -> Value {
        let mut status = json!({
            "name": self.name,
            "image": self.image,
            "imageID": self.image_id,
            "ready": self.ready,
            "started": self.started,
            "restartCount": self.restart_count,
            "state": self.state,
            "lastState": self.last_state,
        });
        if !self.container_id.is_empty() {
            status["containerID"] = json!(self.container_id);
        }
        status
    }
}

/// A pod's status, kept by its kubelet task.
#[derive(Debug, Clone)]
pub struct PodState {
    pub phase: &'static str,
    pub conditions: Vec<Value>,
    pub init: Vec<Container>,
    pub containers: Vec<Container>,
    pub host_ip: Option<String>,
    pub pod_ip: Option<String>,
    pub start_time: Option<String>,
    pub qos: &'static str,
}

impl PodState {
    /// The status of a pod just seen: Pending, nothing scheduled.
    pub fn new(spec: &Value) -> Self {
        let list = |field: &str, reason: &str| -> Vec<Container> {
            spec[field]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| Container::new(c, reason))
                .collect()
        };
        PodState {
            phase: "Pending",
            conditions: Vec::new(),
            init: list("initContainers", "PodInitializing"),
            containers: list(
                "containers",
                if spec["initContainers"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
                {
                    "PodInitializing"
                } else {
                    "ContainerCreating"
                },
            ),
            host_ip: None,
            pod_ip: None,
            start_time: None,
            qos: qos_class(spec),
        }
    }

    pub fn condition(
        &mut self,
        type_: &str,
        status: bool,
        reason: Option<(&str, String)>,
        now: &str,
    ) {
        let mut condition = json!({"type": type_, "status": if status { "True" } else { "False" },
                                   "lastProbeTime": null});
        if let Some((reason, message)) = reason {
            condition["reason"] = json!(reason);
            if !message.is_empty() {
                condition["message"] = json!(message);
            }
        }
        set_condition(&mut self.conditions, condition, now);
    }

    /// Sets ContainersReady and Ready from the containers' readiness.
    pub fn readiness(&mut self, now: &str) {
        let unready: Vec<&str> = self
            .containers
            .iter()
            .filter(|c| !c.ready)
            .map(|c| c.name.as_str())
            .collect();
        let reason = if self.phase == "Succeeded" || self.phase == "Failed" {
            Some(("PodCompleted", String::new()))
        } else if unready.is_empty() {
            None
        } else {
            let message = format!("containers with unready status: [{}]", unready.join(" "));
            Some(("ContainersNotReady", message))
        };
        let ready = unready.is_empty() && reason.is_none();
        self.condition("ContainersReady", ready, reason.clone(), now);
        self.condition("Ready", ready, reason, now);
    }

    pub fn render(&self) -> Value {
        let mut status = json!({
            "phase": self.phase,
            "conditions": self.conditions,
            "qosClass": self.qos,
        });
        // Containers have a status once the pod is on a node, not before.
        if let Some(ip) = &self.host_ip {
            status["containerStatuses"] = json!(
                self.containers
                    .iter()
                    .map(Container::render)
                    .collect::<Vec<_>>()
            );
            if !self.init.is_empty() {
                status["initContainerStatuses"] =
                    json!(self.init.iter().map(Container::render).collect::<Vec<_>>());
            }
            status["hostIP"] = json!(ip);
            status["hostIPs"] = json!([{"ip": ip}]);
        }
        if let Some(ip) = &self.pod_ip {
            status["podIP"] = json!(ip);
            status["podIPs"] = json!([{"ip": ip}]);
        }
        if let Some(time) = &self.start_time {
            status["startTime"] = json!(time);
        }
        status
    }
}

/// Guaranteed when every container limits cpu and memory at its requests, BestEffort when
/// none asks for anything, else Burstable.
pub fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .filter_map(|f| spec[*f].as_array())
        .flatten()
        .collect();
    let empty = |v: &Value| v.as_object().is_none_or(serde_json::Map::is_empty);
    if containers
        .iter()
        .all(|c| empty(&c["resources"]["requests"]) && empty(&c["resources"]["limits"]))
    {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let limits = &c["resources"]["limits"];
        let requests = &c["resources"]["requests"];
        ["cpu", "memory"].iter().all(|r| {
            !limits[*r].is_null() && (requests[*r].is_null() || requests[*r] == limits[*r])
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// The image as the runtime names it: `nginx:1.25` → `docker.io/library/nginx:1.25`.
pub fn full_image(image: &str) -> String {
    let (repository, tag) = split_image(image);
    let first = repository.split('/').next().unwrap_or_default();
    let registry_given = repository.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if registry_given {
        repository.to_owned()
    } else if repository.contains('/') {
        format!("docker.io/{repository}")
    } else {
        format!("docker.io/library/{repository}")
    };
    format!("{full}:{tag}")
}

/// Repository and tag (`latest` when none).
pub fn split_image(image: &str) -> (&str, &str) {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, tag),
        _ => (image, "latest"),
    }
}

/// 64 hex digits derived from `seed`: digests and container ids.
pub fn hex64(seed: &str) -> String {
    (0..8u8).fold(String::with_capacity(64), |mut out, i| {
        let mut bytes = seed.as_bytes().to_vec();
        bytes.push(i);
        let _ = write!(out, "{:08x}", fnv32a(&bytes));
        out
    })
}

/// `docker.io/library/nginx@sha256:…`
pub fn image_id(image: &str) -> String {
    let full = full_image(image);
    let repository = full.rsplit_once(':').map_or(full.as_str(), |(r, _)| r);
    format!("{repository}@sha256:{}", hex64(&full))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_named_like_containerd_names_them() {
        assert_eq!(full_image("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(full_image("bitnami/redis:7"), "docker.io/bitnami/redis:7");
        assert_eq!(full_image("ghcr.io/a/b:v1"), "ghcr.io/a/b:v1");
        assert_eq!(
            full_image("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(split_image("nginx:doesnotexist").1, "doesnotexist");
        assert!(image_id("nginx:1").starts_with("docker.io/library/nginx@sha256:"));
        assert_eq!(hex64("x").len(), 64);
    }

    #[test]
    fn qos_classes() {
        assert_eq!(
            qos_class(&json!({"containers": [{"name": "a"}]})),
            "BestEffort"
        );
        let guaranteed = json!({"containers": [{"resources": {
            "limits": {"cpu": "1", "memory": "1Gi"}}}]});
        assert_eq!(qos_class(&guaranteed), "Guaranteed");
        let burstable = json!({"containers": [{"resources": {"requests": {"cpu": "1"}}}]});
        assert_eq!(qos_class(&burstable), "Burstable");
    }

    #[test]
    fn readiness_names_the_unready_containers() {
        let mut state = PodState::new(&json!({"containers": [{"name": "a"}, {"name": "b"}]}));
        state.containers[0].ready = true;
        state.readiness("t");
        let ready = state
            .conditions
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert_eq!(ready["status"], "False");
        assert_eq!(ready["message"], "containers with unready status: [b]");
        state.containers[1].ready = true;
        state.readiness("t2");
        assert!(
            state.render()["containerStatuses"].is_null(),
            "not on a node yet"
        );
        state.host_ip = Some("172.18.0.2".into());
        let rendered = state.render();
        assert_eq!(rendered["conditions"][1]["status"], "True");
        assert_eq!(rendered["containerStatuses"][1]["name"], "b");
    }
}
