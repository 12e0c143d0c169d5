//! The cells that weigh several fields, as a real API server's printers derive them, by
//! resource: a pod's status, a service's external IP, an event's source. Each is a function
//! a column of `columns` names.

use super::cells::{
    deleting, has_condition, human_signed, int, items, or_none, since, text, text_or, time,
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub(super) mod pods {
    use super::{DateTime, Utc, Value, deleting, has_condition, human_signed, int, items, json};
    use super::{or_none, text, time};

    /// Restart count and the latest restart time, over some container statuses.
    #[derive(Default)]
    struct Restarts {
        count: i64,
        last: Option<DateTime<Utc>>,
    }

    impl Restarts {
        fn add(&mut self, status: &Value) {
            self.count += int(status, "/restartCount");
            let finished = time(text(status, "/lastState/terminated/finishedAt"));
            self.last = self.last.max(finished);
        }

        fn cell(&self, now: DateTime<Utc>) -> String {
            match self.last {
                Some(last) if self.count != 0 => {
                    format!(
                        "{} ({} ago)",
                        self.count,
                        human_signed(now.signed_duration_since(last))
                    )
                }
                _ => self.count.to_string(),
            }
        }
    }

    /// What kubectl derives from a pod's container statuses: the STATUS reason, the ready
    /// containers and the restarts (of the init containers while they are not done).
    struct State {
        reason: String,
        ready: usize,
        restarts: Restarts,
    }

    /// A terminated state's reason, or `Signal:N` / `ExitCode:N` when it gives none.
    fn terminated_reason(terminated: &Value) -> String {
        let reason = text(terminated, "/reason");
        if !reason.is_empty() {
            return reason.to_owned();
        }
        match int(terminated, "/signal") {
            0 => format!("ExitCode:{}", int(terminated, "/exitCode")),
            signal => format!("Signal:{signal}"),
        }
    }

    /// The init containers' contribution: the reason while one is not done, and the
    /// restarts.
    fn init_status(pod: &Value, restarts: &mut Restarts) -> Option<String> {
        let total = items(pod, "/spec/initContainers").len();
        for (index, status) in items(pod, "/status/initContainerStatuses")
            .iter()
            .enumerate()
        {
            restarts.add(status);
            let state = &status["state"];
            let waiting = text(state, "/waiting/reason");
            if let Some(terminated) = state.get("terminated") {
                if int(terminated, "/exitCode") == 0 {
                    continue;
                }
                return Some(format!("Init:{}", terminated_reason(terminated)));
            }
            if !waiting.is_empty() && waiting != "PodInitializing" {
                return Some(format!("Init:{waiting}"));
            }
            return Some(format!("Init:{index}/{total}"));
        }
        None
    }

    /// The app containers' contribution, over `reason` (the phase or the pod's reason).
    fn containers_status(pod: &Value, mut reason: String) -> State {
        let mut restarts = Restarts::default();
        let mut ready = 0;
        let mut running = false;
        for status in items(pod, "/status/containerStatuses").iter().rev() {
            restarts.add(status);
            let state = &status["state"];
            let waiting = text(state, "/waiting/reason");
            if !waiting.is_empty() {
                waiting.clone_into(&mut reason);
            } else if let Some(terminated) = state.get("terminated") {
                reason = terminated_reason(terminated);
            } else if status["ready"] == true && state.get("running").is_some() {
                running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && running {
            reason = if has_condition(pod, "Ready") {
                "Running"
            } else {
                "NotReady"
            }
            .into();
        }
        State {
            reason,
            ready,
            restarts,
        }
    }

    /// The STATUS reason a person reads first, with ready containers and restarts.
    fn state(pod: &Value) -> State {
        let phase = text(pod, "/status/phase");
        let reason = match text(pod, "/status/reason") {
            "" => phase.to_owned(),
            given => given.to_owned(),
        };
        let mut init_restarts = Restarts::default();
        let initializing = init_status(pod, &mut init_restarts);
        let mut state = match initializing.filter(|_| !has_condition(pod, "Initialized")) {
            Some(init) => State {
                reason: init,
                ready: 0,
                restarts: init_restarts,
            },
            None => containers_status(pod, reason),
        };
        if deleting(pod) && text(pod, "/status/reason") == "NodeLost" {
            state.reason = "Unknown".into();
        } else if deleting(pod) && phase != "Succeeded" && phase != "Failed" {
            state.reason = "Terminating".into();
        }
        state
    }

    pub(in crate::table) fn ready(pod: &Value) -> Value {
        let total = items(pod, "/spec/containers").len();
        json!(format!("{}/{total}", state(pod).ready))
    }

    pub(in crate::table) fn status(pod: &Value) -> Value {
        json!(state(pod).reason)
    }

    pub(in crate::table) fn restarts(pod: &Value, now: DateTime<Utc>) -> Value {
        json!(state(pod).restarts.cell(now))
    }

    pub(in crate::table) fn ip(pod: &Value) -> Value {
        let ip = items(pod, "/status/podIPs")
            .first()
            .map_or_else(|| text(pod, "/status/podIP"), |ip| text(ip, "/ip"));
        json!(or_none(ip))
    }

    /// `passing/all` readiness gates, `<none>` without any.
    pub(in crate::table) fn readiness_gates(pod: &Value) -> Value {
        let gates = items(pod, "/spec/readinessGates");
        if gates.is_empty() {
            return json!("<none>");
        }
        let passing = gates
            .iter()
            .filter(|gate| has_condition(pod, text(gate, "/conditionType")))
            .count();
        json!(format!("{passing}/{}", gates.len()))
    }
}

pub(super) mod jobs {
    use super::{DateTime, Utc, Value, deleting, has_condition, human_signed, int, json};
    use super::{text, time};

    /// The first condition that holds, in the order kubectl checks them.
    pub(in crate::table) fn status(job: &Value) -> Value {
        json!(if has_condition(job, "Complete") {
            "Complete"
        } else if has_condition(job, "Failed") {
            "Failed"
        } else if deleting(job) {
            "Terminating"
        } else if has_condition(job, "Suspended") {
            "Suspended"
        } else if has_condition(job, "FailureTarget") {
            "FailureTarget"
        } else if has_condition(job, "SuccessCriteriaMet") {
            "SuccessCriteriaMet"
        } else {
            "Running"
        })
    }

    /// `succeeded/wanted`; without wanted completions, `/1`, and the parallelism if more.
    pub(in crate::table) fn completions(job: &Value) -> Value {
        let succeeded = int(job, "/status/succeeded");
        json!(
            match job.pointer("/spec/completions").and_then(Value::as_i64) {
                Some(wanted) => format!("{succeeded}/{wanted}"),
                None => match int(job, "/spec/parallelism") {
                    parallel if parallel > 1 => format!("{succeeded}/1 of {parallel}"),
                    _ => format!("{succeeded}/1"),
                },
            }
        )
    }

    /// From the start to completion (or now); empty before it started.
    pub(in crate::table) fn duration(job: &Value, now: DateTime<Utc>) -> Value {
        let start = time(text(job, "/status/startTime"));
        let end = time(text(job, "/status/completionTime")).unwrap_or(now);
        json!(start.map_or_else(String::new, |start| human_signed(end - start)))
    }
}

pub(super) mod cronjobs {
    use super::{DateTime, Utc, Value, json, since, text};

    pub(in crate::table) fn suspend(cron: &Value) -> Value {
        json!(
            match cron.pointer("/spec/suspend").and_then(Value::as_bool) {
                Some(true) => "True",
                Some(false) => "False",
                None => "<unset>",
            }
        )
    }

    pub(in crate::table) fn last_schedule(cron: &Value, now: DateTime<Utc>) -> Value {
        json!(match text(cron, "/status/lastScheduleTime") {
            "" => "<none>".to_owned(),
            stamp => since(stamp, now),
        })
    }
}

/// Load-balancer ingress addresses (IP, else hostname), comma-joined.
fn balancer_addresses(object: &Value) -> String {
    items(object, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| text_or(i, "/ip", text(i, "/hostname")))
        .filter(|a| !a.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) mod services {
    use super::{Value, balancer_addresses, int, items, json, or_none, text, text_or};

    pub(in crate::table) fn external_ip(service: &Value) -> Value {
        let external: Vec<&str> = items(service, "/spec/externalIPs")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        json!(match text(service, "/spec/type") {
            "" | "ClusterIP" | "NodePort" => or_none(&external.join(",")),
            "LoadBalancer" => {
                let balancer = balancer_addresses(service);
                let all: Vec<&str> = std::iter::once(balancer.as_str())
                    .chain(external)
                    .filter(|a| !a.is_empty())
                    .collect();
                if all.is_empty() {
                    "<pending>".into()
                } else {
                    all.join(",")
                }
            }
            "ExternalName" => text(service, "/spec/externalName").to_owned(),
            _ => "<unknown>".into(),
        })
    }

    /// `port/protocol`, or `port:nodePort/protocol`, of each port.
    pub(in crate::table) fn ports(service: &Value) -> Value {
        let ports: Vec<String> = items(service, "/spec/ports")
            .iter()
            .map(|port| {
                let protocol = text_or(port, "/protocol", "TCP");
                match int(port, "/nodePort") {
                    0 => format!("{}/{protocol}", int(port, "/port")),
                    node => format!("{}:{node}/{protocol}", int(port, "/port")),
                }
            })
            .collect();
        json!(or_none(&ports.join(",")))
    }
}

pub(super) mod ingresses {
    use super::{Value, balancer_addresses, items, json, text_or};

    pub(in crate::table) fn hosts(ingress: &Value) -> Value {
        let hosts: Vec<&str> = items(ingress, "/spec/rules")
            .iter()
            .map(|rule| text_or(rule, "/host", "*"))
            .collect();
        // kubectl names three hosts, then counts the rest.
        json!(match hosts.len() {
            0 => "*".to_owned(),
            1..=3 => hosts.join(","),
            n => format!("{} + {} more...", hosts[..3].join(","), n - 3),
        })
    }

    pub(in crate::table) fn address(ingress: &Value) -> Value {
        json!(balancer_addresses(ingress))
    }

    pub(in crate::table) fn ports(ingress: &Value) -> Value {
        json!(if items(ingress, "/spec/tls").is_empty() {
            "80"
        } else {
            "80, 443"
        })
    }
}

pub(super) mod events {
    use super::{DateTime, Utc, Value, int, json, since, text, text_or};

    /// The `series` of a recurring event (events.k8s.io style), if it is one.
    fn series(event: &Value) -> Option<&Value> {
        event.get("series").filter(|series| series.is_object())
    }

    fn first(event: &Value, now: DateTime<Utc>) -> String {
        since(
            text_or(event, "/firstTimestamp", text(event, "/eventTime")),
            now,
        )
    }

    pub(in crate::table) fn first_seen(event: &Value, now: DateTime<Utc>) -> Value {
        json!(first(event, now))
    }

    pub(in crate::table) fn last_seen(event: &Value, now: DateTime<Utc>) -> Value {
        json!(match series(event) {
            Some(series) => since(text(series, "/lastObservedTime"), now),
            None => match text(event, "/lastTimestamp") {
                "" => first(event, now),
                stamp => since(stamp, now),
            },
        })
    }

    pub(in crate::table) fn count(event: &Value) -> Value {
        json!(series(event).map_or_else(|| int(event, "/count").max(1), |s| int(s, "/count")))
    }

    /// `kind/name` of the involved object, lower-case kind.
    pub(in crate::table) fn object(event: &Value) -> Value {
        let kind = text(event, "/involvedObject/kind").to_lowercase();
        json!(match text(event, "/involvedObject/name") {
            "" => kind,
            object => format!("{kind}/{object}"),
        })
    }

    /// `component, host`; the component from the reporting one without a source.
    pub(in crate::table) fn source(event: &Value) -> Value {
        let component = text_or(
            event,
            "/source/component",
            text(event, "/reportingComponent"),
        );
        json!(match text(event, "/source/host") {
            "" => component.to_owned(),
            host => format!("{component}, {host}"),
        })
    }

    pub(in crate::table) fn message(event: &Value) -> Value {
        json!(text(event, "/message").trim())
    }
}

pub(super) mod nodes {
    use super::{Value, items, json, or_none, text};

    /// `Ready`, `NotReady` or `Unknown`, and `SchedulingDisabled` when cordoned.
    pub(in crate::table) fn status(node: &Value) -> Value {
        let ready = items(node, "/status/conditions")
            .iter()
            .find(|c| c["type"] == "Ready");
        let mut status = vec![match ready {
            Some(c) if c["status"] == "True" => "Ready",
            Some(_) => "NotReady",
            None => "Unknown",
        }];
        if node.pointer("/spec/unschedulable") == Some(&Value::Bool(true)) {
            status.push("SchedulingDisabled");
        }
        json!(status.join(","))
    }

    /// The roles the `node-role.kubernetes.io/ROLE` and `kubernetes.io/role` labels give.
    pub(in crate::table) fn roles(node: &Value) -> Value {
        let mut roles: Vec<&str> = node["metadata"]["labels"]
            .as_object()
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(key, value)| {
                        key.strip_prefix("node-role.kubernetes.io/")
                            .filter(|role| !role.is_empty())
                            .or_else(|| {
                                (key == "kubernetes.io/role")
                                    .then(|| value.as_str().unwrap_or_default())
                            })
                    })
                    .collect()
            })
            .unwrap_or_default();
        roles.sort_unstable();
        json!(or_none(&roles.join(",")))
    }

    fn address(node: &Value, type_: &str) -> Value {
        json!(
            items(node, "/status/addresses")
                .iter()
                .find(|a| a["type"] == type_)
                .map_or_else(|| "<none>".to_owned(), |a| text(a, "/address").to_owned())
        )
    }

    pub(in crate::table) fn internal_ip(node: &Value) -> Value {
        address(node, "InternalIP")
    }

    pub(in crate::table) fn external_ip(node: &Value) -> Value {
        address(node, "ExternalIP")
    }
}

pub(super) mod pvcs {
    use super::{Value, deleting, items, json, text, text_or};

    pub(in crate::table) fn status(claim: &Value) -> Value {
        json!(if deleting(claim) {
            "Terminating"
        } else {
            text(claim, "/status/phase")
        })
    }

    /// Capacity and access modes are the bound volume's: empty while unbound.
    fn bound(claim: &Value) -> bool {
        !text(claim, "/spec/volumeName").is_empty()
    }

    pub(in crate::table) fn capacity(claim: &Value) -> Value {
        json!(if bound(claim) {
            text(claim, "/status/capacity/storage")
        } else {
            ""
        })
    }

    /// `RWO,ROX,RWX,RWOP`, as kubectl abbreviates them.
    pub(in crate::table) fn modes(list: &[Value]) -> Value {
        let modes: Vec<&str> = list
            .iter()
            .filter_map(|m| match m.as_str()? {
                "ReadWriteOnce" => Some("RWO"),
                "ReadOnlyMany" => Some("ROX"),
                "ReadWriteMany" => Some("RWX"),
                "ReadWriteOncePod" => Some("RWOP"),
                _ => None,
            })
            .collect();
        json!(modes.join(","))
    }

    pub(in crate::table) fn access_modes(claim: &Value) -> Value {
        if !bound(claim) {
            return json!("");
        }
        modes(items(claim, "/status/accessModes"))
    }

    /// The class field, else the beta annotation older claims carry.
    pub(in crate::table) fn storage_class(claim: &Value) -> Value {
        json!(text_or(
            claim,
            "/spec/storageClassName",
            text(
                claim,
                "/metadata/annotations/volume.beta.kubernetes.io~1storage-class"
            ),
        ))
    }
}

pub(super) mod pvs {
    use super::{Value, deleting, items, json, text};

    pub(in crate::table) fn status(volume: &Value) -> Value {
        json!(if deleting(volume) {
            "Terminating"
        } else {
            text(volume, "/status/phase")
        })
    }

    pub(in crate::table) fn access_modes(volume: &Value) -> Value {
        super::pvcs::modes(items(volume, "/spec/accessModes"))
    }

    /// `namespace/name` of the claim it is bound to, or empty.
    pub(in crate::table) fn claim(volume: &Value) -> Value {
        let reference = &volume["spec"]["claimRef"];
        json!(if reference.is_object() {
            format!(
                "{}/{}",
                text(reference, "/namespace"),
                text(reference, "/name")
            )
        } else {
            String::new()
        })
    }
}

pub(super) mod storage_classes {
    use super::{Value, json, text};

    /// The name, with ` (default)` after the default class's.
    pub(in crate::table) fn name(class: &Value) -> Value {
        let default = [
            "storageclass.kubernetes.io/is-default-class",
            "storageclass.beta.kubernetes.io/is-default-class",
        ]
        .iter()
        .any(|key| class["metadata"]["annotations"][*key] == "true");
        let name = text(class, "/metadata/name");
        json!(if default {
            format!("{name} (default)")
        } else {
            name.to_owned()
        })
    }
}

pub(super) mod quotas {
    use super::{Value, json};

    /// `resource: used/hard, …` of `status.hard`, sorted by resource: the `limits.*` ones
    /// when `limits`, else the others.
    fn usage(quota: &Value, limits: bool) -> Value {
        let hard = quota["status"]["hard"].as_object();
        let mut resources: Vec<&String> = hard.into_iter().flat_map(|h| h.keys()).collect();
        resources.sort();
        let parts: Vec<String> = resources
            .into_iter()
            .filter(|r| r.starts_with("limits.") == limits)
            .map(|r| {
                let quantity = |field: &str| {
                    quota["status"][field][r.as_str()]
                        .as_str()
                        .unwrap_or("0")
                        .to_owned()
                };
                format!("{r}: {}/{}", quantity("used"), quantity("hard"))
            })
            .collect();
        json!(parts.join(", "))
    }

    pub(in crate::table) fn request(quota: &Value) -> Value {
        usage(quota, false)
    }

    pub(in crate::table) fn limit(quota: &Value) -> Value {
        usage(quota, true)
    }
}

pub(super) mod autoscalers {
    use super::{Value, items, json, text};

    pub(in crate::table) fn reference(hpa: &Value) -> Value {
        let target = |field: &str| text(hpa, &format!("/spec/scaleTargetRef/{field}"));
        json!(format!("{}/{}", target("kind"), target("name")))
    }

    pub(in crate::table) fn min_pods(hpa: &Value) -> Value {
        json!(
            match hpa.pointer("/spec/minReplicas").and_then(Value::as_i64) {
                Some(min) => min.to_string(),
                None => "<unset>".to_owned(),
            }
        )
    }

    /// Current of target for each metric (`cpu: 5%/80%`), two of them at most, as
    /// kubectl's `formatHPAMetrics` writes them; an `autoscaling/v1` object's CPU target.
    pub(in crate::table) fn targets(hpa: &Value) -> Value {
        if hpa["apiVersion"] == "autoscaling/v1" {
            let Some(target) = hpa.pointer("/spec/targetCPUUtilizationPercentage") else {
                return json!("<none>");
            };
            let current = match hpa.pointer("/status/currentCPUUtilizationPercentage") {
                Some(current) => format!("{current}%"),
                None => "<unknown>".to_owned(),
            };
            return json!(format!("cpu: {current}/{target}%"));
        }
        let specs = items(hpa, "/spec/metrics");
        if specs.is_empty() {
            return json!("<none>");
        }
        let statuses = items(hpa, "/status/currentMetrics");
        let list: Vec<String> = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| metric(spec, statuses.get(i).unwrap_or(&Value::Null)))
            .collect();
        json!(match list.len() {
            0..=2 => list.join(", "),
            n => format!("{} + {} more...", list[..2].join(", "), n - 2),
        })
    }

    fn metric(spec: &Value, status: &Value) -> String {
        let type_ = text(spec, "/type");
        let field = match type_ {
            "Resource" => "resource",
            "ContainerResource" => "containerResource",
            "Pods" => "pods",
            "Object" => "object",
            "External" => "external",
            _ => return "<unknown type>".to_owned(),
        };
        let (spec, status) = (&spec[field], &status[field]);
        let quantity = |value: &Value, pointer: &str| match value.pointer(pointer) {
            Some(Value::String(q)) => Some(q.clone()),
            Some(other) if !other.is_null() => Some(other.to_string()),
            _ => None,
        };
        let unknown = || "<unknown>".to_owned();
        match field {
            "resource" | "containerResource" => {
                let name = text(spec, "/name");
                if let Some(target) = quantity(spec, "/target/averageValue") {
                    let current = quantity(status, "/current/averageValue").unwrap_or_else(unknown);
                    format!("{name}: {current}/{target}")
                } else {
                    let current = status
                        .pointer("/current/averageUtilization")
                        .and_then(Value::as_i64)
                        .map_or_else(unknown, |u| format!("{u}%"));
                    let target = spec.pointer("/target/averageUtilization").map_or_else(
                        || "<auto>".to_owned(),
                        |u| format!("{}%", u.as_i64().unwrap_or(0)),
                    );
                    format!("{name}: {current}/{target}")
                }
            }
            "pods" => {
                let current = quantity(status, "/current/averageValue").unwrap_or_else(unknown);
                let target = quantity(spec, "/target/averageValue").unwrap_or_default();
                format!("{current}/{target}")
            }
            _ => {
                if let Some(target) = quantity(spec, "/target/averageValue") {
                    let current = quantity(status, "/current/averageValue").unwrap_or_else(unknown);
                    format!("{current}/{target} (avg)")
                } else {
                    let current = quantity(status, "/current/value").unwrap_or_else(unknown);
                    let target = quantity(spec, "/target/value").unwrap_or_default();
                    format!("{current}/{target}")
                }
            }
        }
    }
}

pub(super) mod apiservices {
    use super::{Value, json, text};

    /// `NAMESPACE/NAME` of the backing Service, or `Local`.
    pub(in crate::table) fn service(apiservice: &Value) -> Value {
        let service = &apiservice["spec"]["service"];
        json!(if service.is_object() {
            format!("{}/{}", text(service, "/namespace"), text(service, "/name"))
        } else {
            "Local".to_owned()
        })
    }

    /// `True`, or the status with the reason (`False (MissingEndpoints)`), or `Unknown`.
    pub(in crate::table) fn available(apiservice: &Value) -> Value {
        let condition = crate::controllers::objects::condition(apiservice, "Available");
        json!(match condition {
            None => "Unknown".to_owned(),
            Some(c) if c["status"] == "True" || text(c, "/reason").is_empty() => {
                text(c, "/status").to_owned()
            }
            Some(c) => format!("{} ({})", text(c, "/status"), text(c, "/reason")),
        })
    }
}

pub(super) mod component_statuses {
    use super::{Value, json, text};

    fn healthy(component: &Value) -> Option<&Value> {
        component["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Healthy")
    }

    /// `Healthy`, `Unhealthy`, or `Unknown` without a `Healthy` condition.
    pub(in crate::table) fn status(component: &Value) -> Value {
        json!(match healthy(component) {
            None => "Unknown",
            Some(condition) if condition["status"] == "True" => "Healthy",
            Some(_) => "Unhealthy",
        })
    }

    /// The `Healthy` condition's message.
    pub(in crate::table) fn message(component: &Value) -> Value {
        json!(healthy(component).map_or("", |c| text(c, "/message")))
    }

    /// The `Healthy` condition's error.
    pub(in crate::table) fn error(component: &Value) -> Value {
        json!(healthy(component).map_or("", |c| text(c, "/error")))
    }
}

pub(super) mod disruption_budgets {
    use super::{Value, json};

    /// An int-or-string field as it is written, or `N/A`.
    fn int_or_string(pdb: &Value, pointer: &str) -> Value {
        json!(match pdb.pointer(pointer) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => "N/A".to_owned(),
        })
    }

    pub(in crate::table) fn min_available(pdb: &Value) -> Value {
        int_or_string(pdb, "/spec/minAvailable")
    }

    pub(in crate::table) fn max_unavailable(pdb: &Value) -> Value {
        int_or_string(pdb, "/spec/maxUnavailable")
    }
}
