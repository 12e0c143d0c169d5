//! Pods found by label selector rather than by ownership, for the controllers that work
//! that way (Endpoints, disruption budgets): every pod of each namespace as last seen, and
//! the selector of each object that selects them, so that a pod's change reconciles only
//! the objects that select it, before or after.

use crate::controllers::objects::{
    condition_true, name, namespace, phase, selects, str_at, terminating, uid,
};
use crate::controllers::runner::Key;
use crate::store::Object;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub struct Selection {
    /// Namespace → pod name → what is kept of the pod.
    pods: HashMap<String, BTreeMap<String, Pod>>,
    /// Namespace → selecting object's name → its `LabelSelector`.
    selectors: HashMap<String, HashMap<String, Value>>,
}

/// What those that select a pod read of it. Only this is kept, never the decoded pod: the
/// store hands out one decoded copy while anyone holds it, and thousands of pods held
/// decoded were most of the server's memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    pub name: String,
    pub uid: String,
    labels: Value,
    /// `status.podIP`, or `""`.
    pub ip: String,
    pub node: String,
    /// Its `Ready` condition is true.
    pub ready: bool,
    pub terminating: bool,
    /// `Succeeded` or `Failed`.
    pub finished: bool,
    /// The named ports of its containers.
    pub ports: Vec<(String, i64)>,
    /// Its controller's ownerReference.
    pub controller: Option<Value>,
}

impl Pod {
    fn of(pod: &Value) -> Pod {
        let ports = pod["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .filter_map(|p| Some((p["name"].as_str()?.to_owned(), p["containerPort"].as_i64()?)))
            .collect();
        let controller = pod["metadata"]["ownerReferences"]
            .as_array()
            .and_then(|refs| refs.iter().find(|r| r["controller"] == true))
            .cloned();
        Pod {
            name: name(pod).to_owned(),
            uid: uid(pod).to_owned(),
            labels: pod["metadata"]["labels"].clone(),
            ip: str_at(pod, "/status/podIP").to_owned(),
            node: str_at(pod, "/spec/nodeName").to_owned(),
            ready: condition_true(pod, "Ready"),
            terminating: terminating(pod),
            finished: matches!(phase(pod), "Succeeded" | "Failed"),
            ports,
            controller,
        }
    }
}

impl Selection {
    /// Records a pod's change (`gone`: deleted); returns the keys of the objects that
    /// selected it before or select it now, when what they see of it changed.
    pub fn observe(&mut self, pod: &Object, gone: bool) -> Vec<Key> {
        let ns = namespace(pod).to_owned();
        let pods = self.pods.entry(ns.clone()).or_default();
        let now = (!gone).then(|| Pod::of(pod));
        let before = match &now {
            Some(now) => pods.insert(now.name.clone(), now.clone()),
            None => pods.remove(name(pod)),
        };
        if before == now {
            return Vec::new();
        }
        let labels = [before.as_ref(), now.as_ref()];
        self.selectors
            .get(&ns)
            .into_iter()
            .flatten()
            .filter(|(_, selector)| {
                labels
                    .iter()
                    .flatten()
                    .any(|p| selects(selector, &p.labels))
            })
            .map(|(name, _)| (ns.clone(), name.clone()))
            .collect()
    }

    /// Records the selector of the object at `key`; `None`: it selects nothing.
    pub fn select(&mut self, (ns, name): &Key, selector: Option<&Value>) {
        match selector {
            Some(selector) => {
                self.selectors
                    .entry(ns.clone())
                    .or_default()
                    .insert(name.clone(), selector.clone());
            }
            None => self.unselect(ns, name),
        }
    }

    pub fn unselect(&mut self, ns: &str, name: &str) {
        if let Some(selectors) = self.selectors.get_mut(ns) {
            selectors.remove(name);
        }
    }

    /// The pods of `ns` that `selector` selects, by name.
    pub fn pods<'a>(&'a self, ns: &str, selector: &'a Value) -> impl Iterator<Item = &'a Pod> {
        self.pods
            .get(ns)
            .into_iter()
            .flat_map(BTreeMap::values)
            .filter(move |p| selects(selector, &p.labels))
    }

    /// Forgets every pod (a fresh list follows); the selectors stay.
    pub fn clear_pods(&mut self) {
        self.pods.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn pod(name: &str, app: &str, ip: &str) -> Object {
        Arc::new(
            json!({"metadata": {"name": name, "namespace": "ns", "labels": {"app": app}},
                        "status": {"podIP": ip}}),
        )
    }

    #[test]
    fn a_pod_change_reconciles_what_selects_it_before_or_after() {
        let mut selection = Selection::default();
        let key = |name: &str| ("ns".to_owned(), name.to_owned());
        selection.select(&key("web"), Some(&json!({"matchLabels": {"app": "web"}})));
        selection.select(&key("db"), Some(&json!({"matchLabels": {"app": "db"}})));
        assert_eq!(selection.observe(&pod("p", "web", ""), false), [key("web")]);
        assert!(
            selection.observe(&pod("p", "web", ""), false).is_empty(),
            "no change"
        );
        assert_eq!(
            selection.observe(&pod("p", "web", "10.0.0.1"), false),
            [key("web")]
        );
        let mut moved = selection.observe(&pod("p", "db", "10.0.0.1"), false);
        moved.sort();
        assert_eq!(moved, [key("db"), key("web")]);
        let selector = json!({"matchLabels": {"app": "db"}});
        assert_eq!(selection.pods("ns", &selector).count(), 1);
        assert_eq!(
            selection.observe(&pod("p", "db", "10.0.0.1"), true),
            [key("db")]
        );
        assert_eq!(selection.pods("ns", &selector).count(), 0);
        selection.unselect("ns", "db");
        assert!(selection.observe(&pod("q", "db", ""), false).is_empty());
    }
}
