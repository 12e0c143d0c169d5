//! The ResourceQuota controller: every quota's `status.hard` (its spec's) and `status.used`,
//! recounted from what its namespace holds — the pods that are not finished (their
//! requests and limits, as the admission plugin charges them), objects by kind
//! (`count/deployments.apps`, `services`, `configmaps`, …) and claims' storage
//! (`requests.storage`). Admission adds each pod it admits at once; this recount follows
//! pods as they go, every few seconds, as the real controller's replenishment does.

// Kubernetes kind and field names (ResourceQuota) are words in these docs, not code.
#![allow(clippy::doc_markdown)]

use crate::admission::quota::{charge, hard, read, written};
use crate::controllers::objects::{name, namespace, phase, terminating};
use crate::controllers::runner::{Controller, Ctx, Outcome};
use crate::scheduler::quantity_of;
use crate::store::{Object, Store};
use std::collections::BTreeMap;
use std::time::Duration;

/// How often a quota's usage is recounted.
const RECOUNT: Duration = Duration::from_secs(5);

/// Kinds a quota counts by their plain name, as the API server's object-count evaluators
/// know them.
const COUNTED: [&str; 6] = [
    "services",
    "configmaps",
    "secrets",
    "persistentvolumeclaims",
    "replicationcontrollers",
    "resourcequotas",
];

/// The usage of every resource `quota` limits, counted in its namespace.
pub fn usage(store: &Store, quota: &Object) -> BTreeMap<String, f64> {
    let ns = namespace(quota);
    let (pods, _) = store.list("pods", Some(ns));
    let live: Vec<&Object> = pods
        .iter()
        .filter(|p| !matches!(phase(p), "Succeeded" | "Failed"))
        .collect();
    let mut used = BTreeMap::new();
    for key in hard(quota).keys() {
        let total = if let Some(resource) = key.strip_prefix("count/") {
            if resource == "pods" {
                live.len() as f64
            } else {
                store.list(resource, Some(ns)).0.len() as f64
            }
        } else if COUNTED.contains(&key.as_str()) {
            store.list(key, Some(ns)).0.len() as f64
        } else if key == "requests.storage" {
            let (claims, _) = store.list("persistentvolumeclaims", Some(ns));
            claims
                .iter()
                .filter_map(|c| {
                    c.pointer("/spec/resources/requests/storage")
                        .and_then(quantity_of)
                })
                .sum()
        } else {
            live.iter().filter_map(|p| charge(&p["spec"], key)).sum()
        };
        used.insert(key.clone(), total);
    }
    used
}

pub struct Quotas;

impl Controller for Quotas {
    const PRIMARY: &'static str = "resourcequotas";
    const CHILD: Option<&'static str> = None;

    fn reconcile(&mut self, ctx: &Ctx, quota: &Object, _: &[Object]) -> Outcome {
        let mut outcome = Outcome::default();
        if terminating(quota) {
            return outcome;
        }
        outcome.requeue(RECOUNT);
        let _recounting = ctx.store.quota_usage();
        let used = usage(&ctx.store, quota);
        let hard = quota["spec"]["hard"].clone();
        let unchanged = quota["status"]["hard"] == hard && read(&quota["status"]["used"]) == used;
        if !unchanged {
            let _ = ctx
                .store
                .mutate(Self::PRIMARY, namespace(quota), name(quota), |q| {
                    q["status"] = serde_json::json!({"hard": hard, "used": written(&used)});
                });
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usage_counts_live_pods_objects_and_storage() {
        let store = Store::default();
        let quota = store
            .create(
                "resourcequotas",
                json!({"metadata": {"name": "q", "namespace": "ns"}, "spec": {"hard": {
                    "pods": "10", "requests.memory": "1Gi", "configmaps": "5",
                    "count/deployments.apps": "2", "requests.storage": "10Gi"}}}),
            )
            .unwrap();
        let pod = |name: &str, phase: &str| {
            json!({"metadata": {"name": name, "namespace": "ns"},
                   "spec": {"containers": [{"name": "app",
                       "resources": {"requests": {"memory": "128Mi"}}}]},
                   "status": {"phase": phase}})
        };
        store.create("pods", pod("a", "Running")).unwrap();
        store.create("pods", pod("b", "Succeeded")).unwrap();
        store
            .create(
                "configmaps",
                json!({"metadata": {"name": "c", "namespace": "ns"}}),
            )
            .unwrap();
        store
            .create(
                "persistentvolumeclaims",
                json!({"metadata": {"name": "d", "namespace": "ns"},
                       "spec": {"resources": {"requests": {"storage": "2Gi"}}}}),
            )
            .unwrap();
        assert_eq!(
            written(&usage(&store, &quota)),
            json!({"pods": "1", "requests.memory": "128Mi", "configmaps": "1",
                   "count/deployments.apps": "0", "requests.storage": "2Gi"})
        );
    }
}
