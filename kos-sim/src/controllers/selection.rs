//! Pods found by label selector rather than by ownership, for the controllers that work
//! that way (Endpoints, disruption budgets): every pod of each namespace as last seen, and
//! the selector of each object that selects them, so that a pod's change reconciles only
//! the objects that select it, before or after.

use crate::controllers::objects::{condition_true, name, namespace, phase, selects, str_at};
use crate::controllers::runner::Key;
use crate::store::Object;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub struct Selection {
    /// Namespace → pod name → pod.
    pods: HashMap<String, BTreeMap<String, Object>>,
    /// Namespace → selecting object's name → its `LabelSelector`.
    selectors: HashMap<String, HashMap<String, Value>>,
}

/// What of a pod matters to those that select it: its labels, address, readiness and
/// whether it is going away.
fn seen(pod: &Value) -> Value {
    json!([
        pod["metadata"]["labels"],
        str_at(pod, "/status/podIP"),
        condition_true(pod, "Ready"),
        pod["metadata"]["deletionTimestamp"],
        phase(pod),
        str_at(pod, "/spec/nodeName"),
    ])
}

impl Selection {
    /// Records a pod's change (`gone`: deleted); returns the keys of the objects that
    /// selected it before or select it now, when what they see of it changed.
    pub fn observe(&mut self, pod: &Object, gone: bool) -> Vec<Key> {
        let ns = namespace(pod).to_owned();
        let pods = self.pods.entry(ns.clone()).or_default();
        let before = if gone {
            pods.remove(name(pod))
        } else {
            pods.insert(name(pod).to_owned(), pod.clone())
        };
        if before.as_ref().map(|b| seen(b)) == (!gone).then(|| seen(pod)) {
            return Vec::new();
        }
        let labels = [before.as_deref(), (!gone).then_some(&**pod)];
        self.selectors
            .get(&ns)
            .into_iter()
            .flatten()
            .filter(|(_, selector)| {
                labels
                    .iter()
                    .flatten()
                    .any(|p| selects(selector, &p["metadata"]["labels"]))
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
    pub fn pods<'a>(&'a self, ns: &str, selector: &'a Value) -> impl Iterator<Item = &'a Object> {
        self.pods
            .get(ns)
            .into_iter()
            .flat_map(BTreeMap::values)
            .filter(move |p| selects(selector, &p["metadata"]["labels"]))
    }

    /// Forgets every pod (a fresh list follows); the selectors stay.
    pub fn clear_pods(&mut self) {
        self.pods.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
