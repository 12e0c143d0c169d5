//! The LimitRanger admission plugin for pods, from the namespace's LimitRanges (their
//! `Container` items): the default requests and limits a container that names none gets
//! (`defaultRequest`, `default`, derived from `max` and `min` as the API server defaults a
//! LimitRange), recorded in the `kubernetes.io/limit-ranger` annotation; then the `min` and
//! `max` every container must keep, in the plugin's words.
//!
//! Pure: the caller gives the LimitRanges.

// Kubernetes kind and field names (LimitRange, defaultRequest) are words in these docs.
#![allow(clippy::doc_markdown)]

use super::quantities::{canonical, stated};
use crate::controllers::objects::put;
use crate::scheduler::quantity_of;
use serde_json::{Map, Value, json};

const ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// The effective defaults of one `Container` item: (default requests, default limits).
fn defaults(item: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let map = |field: &str| item[field].as_object().cloned().unwrap_or_default();
    let mut limits = map("default");
    for (resource, value) in map("max") {
        limits.entry(resource).or_insert(value);
    }
    let mut requests = map("defaultRequest");
    for (resource, value) in limits.iter().chain(&map("min")) {
        requests
            .entry(resource.clone())
            .or_insert_with(|| value.clone());
    }
    (requests, limits)
}

/// The `Container` items of `ranges`.
fn container_items(ranges: &[Value]) -> impl Iterator<Item = &Value> {
    ranges
        .iter()
        .flat_map(|r| r["spec"]["limits"].as_array().into_iter().flatten())
        .filter(|item| item["type"] == "Container")
}

/// Gives each container the defaults it lacks and records them in the pod's annotation.
pub fn apply_defaults(pod: &mut Value, ranges: &[Value]) {
    let mut notes: Vec<String> = Vec::new();
    for item in container_items(ranges) {
        let (default_requests, default_limits) = defaults(item);
        for (field, kind) in [
            ("initContainers", "init container"),
            ("containers", "container"),
        ] {
            let Some(containers) = pod["spec"][field].as_array_mut() else {
                continue;
            };
            for container in containers {
                let name = container["name"].as_str().unwrap_or_default().to_owned();
                let mut set_requests = Vec::new();
                let mut set_limits = Vec::new();
                // A limit the pod states is its request too (the API server's defaulting,
                // before admission); a default limit is not.
                let stated_limits = container["resources"]["limits"].clone();
                for (resource, value) in &default_limits {
                    if container["resources"]["limits"].get(resource).is_none() {
                        put(container, &["resources", "limits", resource], value.clone());
                        set_limits.push(resource.clone());
                    }
                }
                for (resource, value) in &default_requests {
                    let requests = &container["resources"]["requests"];
                    if requests.get(resource).is_none() && stated_limits.get(resource).is_none() {
                        put(
                            container,
                            &["resources", "requests", resource],
                            value.clone(),
                        );
                        set_requests.push(resource.clone());
                    }
                }
                for (set, what) in [(set_requests, "request"), (set_limits, "limit")] {
                    if !set.is_empty() {
                        let mut set = set;
                        set.sort();
                        notes.push(format!("{} {what} for {kind} {name}", set.join(", ")));
                    }
                }
            }
        }
    }
    if !notes.is_empty() {
        let value = format!("LimitRanger plugin set: {}", notes.join("; "));
        put(pod, &["metadata", "annotations", ANNOTATION], json!(value));
    }
}

/// The containers' violations of the `min` and `max` of `ranges`, in the plugin's words;
/// several are joined as the API server aggregates errors.
pub fn violations(pod: &Value, ranges: &[Value]) -> Option<String> {
    let mut errors = Vec::new();
    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .flat_map(|f| pod["spec"][*f].as_array().into_iter().flatten())
        .collect();
    for item in container_items(ranges) {
        for container in &containers {
            let bounds = [
                ("min", "requests", "minimum", "request"),
                ("max", "limits", "maximum", "limit"),
            ];
            for (bound, field, word, what) in bounds {
                for (resource, value) in item[bound].as_object().into_iter().flatten() {
                    let Some(bound_value) = quantity_of(value) else {
                        continue;
                    };
                    let shown = canonical(resource, bound_value);
                    let given = stated(container, field, resource);
                    let broken = given.is_none_or(|v| {
                        if bound == "min" {
                            v < bound_value
                        } else {
                            v > bound_value
                        }
                    });
                    if !broken {
                        continue;
                    }
                    errors.push(match given {
                        Some(v) => format!(
                            "{word} {resource} usage per Container is {shown}, but {what} is {}",
                            canonical(resource, v)
                        ),
                        None => format!(
                            "{word} {resource} usage per Container is {shown}.  No {what} is specified"
                        ),
                    });
                }
            }
        }
    }
    match errors.len() {
        0 => None,
        1 => errors.pop(),
        _ => Some(format!("[{}]", errors.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(item: &Value) -> Vec<Value> {
        vec![json!({"spec": {"limits": [item]}})]
    }

    #[test]
    fn containers_get_the_defaults_they_lack_and_the_annotation_says_so() {
        let ranges = range(&json!({"type": "Container",
            "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "100m"}}));
        let mut pod = json!({"spec": {"containers": [
            {"name": "app"},
            {"name": "sidecar", "resources": {"limits": {"memory": "64Mi"}}},
        ]}});
        apply_defaults(&mut pod, &ranges);
        let app = &pod["spec"]["containers"][0]["resources"];
        assert_eq!(app["requests"], json!({"cpu": "100m", "memory": "256Mi"}));
        assert_eq!(app["limits"], json!({"cpu": "500m", "memory": "256Mi"}));
        let sidecar = &pod["spec"]["containers"][1]["resources"];
        assert_eq!(sidecar["limits"]["memory"], "64Mi");
        assert!(
            sidecar["requests"].get("memory").is_none(),
            "the limit is its request"
        );
        assert_eq!(
            pod["metadata"]["annotations"][ANNOTATION],
            "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit \
             for container app; cpu request for container sidecar; cpu limit for container \
             sidecar"
        );
    }

    #[test]
    fn min_and_max_are_enforced_in_the_plugins_words() {
        let ranges = range(&json!({"type": "Container", "max": {"cpu": "2"},
                                   "min": {"memory": "64Mi"}}));
        let pod = |resources: &Value| json!({"spec": {"containers": [{"name": "app", "resources": resources}]}});
        assert_eq!(
            violations(
                &pod(&json!({"limits": {"cpu": "4", "memory": "128Mi"}})),
                &ranges
            ),
            Some("maximum cpu usage per Container is 2, but limit is 4".to_owned())
        );
        assert_eq!(
            violations(
                &pod(&json!({"limits": {"cpu": "4", "memory": "32Mi"}})),
                &ranges
            ),
            Some(
                "[minimum memory usage per Container is 64Mi, but request is 32Mi, maximum cpu \
                 usage per Container is 2, but limit is 4]"
                    .to_owned()
            )
        );
        assert_eq!(
            violations(&pod(&json!({})), &ranges),
            Some(
                "[minimum memory usage per Container is 64Mi.  No request is specified, maximum \
                 cpu usage per Container is 2.  No limit is specified]"
                    .to_owned()
            )
        );
        assert_eq!(
            violations(
                &pod(&json!({"limits": {"cpu": "1", "memory": "1Gi"}})),
                &ranges
            ),
            None
        );
    }
}
