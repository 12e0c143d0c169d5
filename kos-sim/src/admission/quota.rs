//! The ResourceQuota admission plugin for pods: what a pod charges against each resource
//! a quota limits (`pods`, `requests.cpu`, `limits.memory`, …), the containers that must
//! state a request or limit the quota counts, and the refusal when the pod would take the
//! usage past the hard limit — in the plugin's words (`exceeded quota: q, requested: …,
//! used: …, limited: …`). Quotas with scopes are not modelled: they are left out.
//!
//! Pure: the caller charges the admitted usage to the quotas' status.

// Kubernetes kind and field names (ResourceQuota, requests.cpu) are words in these docs.
#![allow(clippy::doc_markdown)]

use super::quantities::{canonical, stated};
use crate::controllers::objects::name;
use crate::scheduler::quantity_of;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The compute resources every container must state once a quota limits them (a rule kept
/// for backward compatibility by the real plugin).
const STATED: [&str; 6] = [
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

/// Whether the quota applies to every pod (it has no scopes).
pub fn unscoped(quota: &Value) -> bool {
    let empty = |v: &Value| v.as_array().is_none_or(Vec::is_empty);
    empty(&quota["spec"]["scopes"]) && empty(&quota["spec"]["scopeSelector"]["matchExpressions"])
}

/// The quota's hard limits.
pub fn hard(quota: &Value) -> Map<String, Value> {
    quota["spec"]["hard"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// The `requests` or `limits` field and the resource a quota key names.
fn field_of(key: &str) -> (&'static str, &str) {
    if let Some(resource) = key.strip_prefix("limits.") {
        ("limits", resource)
    } else {
        ("requests", key.strip_prefix("requests.").unwrap_or(key))
    }
}

fn containers<'a>(spec: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    spec[field].as_array().into_iter().flatten()
}

/// What the pod with `spec` charges against the quota key `key`, if it counts there at
/// all: the sum of its containers' requests or limits, or its largest init container's.
pub fn charge(spec: &Value, key: &str) -> Option<f64> {
    if key == "pods" || key == "count/pods" {
        return Some(1.0);
    }
    let (field, resource) = field_of(key);
    let compute = key.starts_with("requests.")
        || key.starts_with("limits.")
        || matches!(key, "cpu" | "memory" | "ephemeral-storage");
    if !compute {
        return None;
    }
    let each = |c: &Value| stated(c, field, resource).unwrap_or(0.0);
    let sum: f64 = containers(spec, "containers").map(each).sum();
    let init = containers(spec, "initContainers")
        .map(each)
        .fold(0.0, f64::max);
    Some(sum.max(init))
}

/// `must specify limits.cpu for: app; limits.memory for: app`, when containers leave out
/// a compute resource the quota limits.
fn unstated(spec: &Value, hard: &Map<String, Value>) -> Option<String> {
    let mut missing: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for key in STATED.iter().filter(|k| hard.contains_key(**k)) {
        let (field, resource) = field_of(key);
        for container in containers(spec, "containers").chain(containers(spec, "initContainers")) {
            if stated(container, field, resource).is_none() {
                let name = container["name"].as_str().unwrap_or_default();
                missing.entry(key).or_default().insert(name);
            }
        }
    }
    if missing.is_empty() {
        return None;
    }
    let parts: Vec<String> = missing
        .iter()
        .map(|(key, names)| {
            let names: Vec<&str> = names.iter().copied().collect();
            format!("{key} for: {}", names.join(","))
        })
        .collect();
    Some(format!("must specify {}", parts.join("; ")))
}

/// `key=value,…` sorted by key, as the plugin prints resource lists.
fn listed(values: &BTreeMap<String, f64>) -> String {
    values
        .iter()
        .map(|(key, value)| format!("{key}={}", canonical(key, *value)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The usage `used` (base units per key) plus the pod's charges, or why the quota refuses
/// the pod.
pub fn admit(
    quota: &Value,
    used: &BTreeMap<String, f64>,
    spec: &Value,
) -> Result<BTreeMap<String, f64>, String> {
    let quota_name = name(quota);
    let hard = hard(quota);
    if let Some(problem) = unstated(spec, &hard) {
        return Err(format!("failed quota: {quota_name}: {problem}"));
    }
    let mut next = used.clone();
    let mut requested = BTreeMap::new();
    let mut exceeded = BTreeMap::new();
    for (key, limit) in &hard {
        let Some(charge) = charge(spec, key).filter(|c| *c > 0.0) else {
            continue;
        };
        let limit = quantity_of(limit).unwrap_or(0.0);
        let now = used.get(key).copied().unwrap_or(0.0);
        next.insert(key.clone(), now + charge);
        if now + charge > limit {
            requested.insert(key.clone(), charge);
            exceeded.insert(key.clone(), (now, limit));
        }
    }
    if exceeded.is_empty() {
        return Ok(next);
    }
    let used: BTreeMap<String, f64> = exceeded.iter().map(|(k, (u, _))| (k.clone(), *u)).collect();
    let limited: BTreeMap<String, f64> =
        exceeded.iter().map(|(k, (_, l))| (k.clone(), *l)).collect();
    Err(format!(
        "exceeded quota: {quota_name}, requested: {}, used: {}, limited: {}",
        listed(&requested),
        listed(&used),
        listed(&limited)
    ))
}

/// A usage map as `status.used` writes it.
pub fn written(used: &BTreeMap<String, f64>) -> Value {
    let map: Map<String, Value> = used
        .iter()
        .map(|(key, value)| (key.clone(), json!(canonical(key, *value))))
        .collect();
    Value::Object(map)
}

/// `status.used` read back in base units.
pub fn read(used: &Value) -> BTreeMap<String, f64> {
    used.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| Some((key.clone(), quantity_of(value)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(hard: &Value) -> Value {
        json!({"metadata": {"name": "compute"}, "spec": {"hard": hard}})
    }

    fn pod(cpu: &str, memory: &str) -> Value {
        json!({"containers": [{"name": "app", "resources": {
            "requests": {"cpu": cpu}, "limits": {"memory": memory}}}]})
    }

    #[test]
    fn a_pod_past_the_hard_limit_is_refused_in_the_plugins_words() {
        let quota = quota(&json!({"pods": "2", "limits.memory": "1Gi", "requests.cpu": "1"}));
        let first = admit(&quota, &BTreeMap::new(), &pod("500m", "512Mi")).unwrap();
        assert_eq!(
            written(&first),
            json!({"pods": "1", "limits.memory": "512Mi", "requests.cpu": "500m"})
        );
        let second = admit(&quota, &first, &pod("500m", "512Mi")).unwrap();
        assert_eq!(
            admit(&quota, &second, &pod("250m", "256Mi")).unwrap_err(),
            "exceeded quota: compute, requested: limits.memory=256Mi,pods=1,requests.cpu=250m, \
             used: limits.memory=1Gi,pods=2,requests.cpu=1, limited: limits.memory=1Gi,pods=2,\
             requests.cpu=1"
        );
        assert_eq!(read(&written(&second)), second);
    }

    #[test]
    fn containers_must_state_what_the_quota_limits() {
        let quota = quota(&json!({"limits.cpu": "2", "limits.memory": "1Gi"}));
        let bare = json!({"containers": [{"name": "app"}, {"name": "log",
            "resources": {"limits": {"cpu": "100m"}}}]});
        assert_eq!(
            admit(&quota, &BTreeMap::new(), &bare).unwrap_err(),
            "failed quota: compute: must specify limits.cpu for: app; limits.memory for: app,log"
        );
        assert!(unscoped(&quota));
        assert!(!unscoped(&json!({"spec": {"scopes": ["BestEffort"]}})));
    }
}
