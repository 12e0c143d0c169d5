//! The ties between tracked objects that are not ownerReferences: the Services an Argo
//! Rollout names (they hang under it, each saying which `ReplicaSet` it routes to), and the
//! Services whose selector picks the pods of a workload the user applied (their
//! `EndpointSlices` then count: README.md, "How the verdict is reached").
//!
//! Pure bookkeeping for the owner graph (`watch::graph`), which asks it what to link and
//! what to judge again; no I/O here.

use super::summary::{Node, POD_TEMPLATE_HASH};
use crate::model::ObjectKey;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A Service a Rollout names: by which Rollout, in which part.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Naming {
    rollout_uid: String,
    rollout: String,
    /// `active`, `preview`, `canary` or `stable`.
    part: &'static str,
}

/// What ties Services to Rollouts and to the workloads of the batch.
#[derive(Debug, Default)]
pub struct Routes {
    /// Each Service a Rollout names, by the Service's key.
    named: HashMap<ObjectKey, Naming>,
    /// The pod template labels of each root that has a pod template.
    templates: HashMap<ObjectKey, BTreeMap<String, String>>,
    /// The uids of the Services hung under a Rollout here (the cluster gave them no owner).
    adopted: HashSet<String>,
}

impl Routes {
    /// Records the Services `node` names when it is a Rollout; returns the keys of the
    /// Services named or no longer named since, whose place changes.
    pub fn name(&mut self, node: &Node) -> Vec<ObjectKey> {
        if node.object.key.kind != "Rollout" {
            return Vec::new();
        }
        let uid = &node.object.uid;
        let wanted: HashMap<ObjectKey, Naming> = node
            .links
            .services
            .iter()
            .map(|&(part, ref name)| {
                let key = ObjectKey::new("Service", node.object.key.namespace.as_deref(), name);
                let naming = Naming {
                    rollout_uid: uid.clone(),
                    rollout: node.object.key.name.clone(),
                    part,
                };
                (key, naming)
            })
            .collect();
        let mut changed = self.unname(uid, &wanted);
        for (key, naming) in wanted {
            if self.named.get(&key) != Some(&naming) {
                self.named.insert(key.clone(), naming);
                changed.push(key);
            }
        }
        changed
    }

    /// Drops what the Rollout `uid` named, but for `keep`; returns the keys dropped.
    fn unname(&mut self, uid: &str, keep: &HashMap<ObjectKey, Naming>) -> Vec<ObjectKey> {
        let gone: Vec<ObjectKey> = self
            .named
            .iter()
            .filter(|(key, naming)| naming.rollout_uid == uid && !keep.contains_key(*key))
            .map(|(key, _)| key.clone())
            .collect();
        for key in &gone {
            self.named.remove(key);
        }
        gone
    }

    /// Forgets what the deleted `node` tied; returns the keys of the Services whose place
    /// changes with it.
    pub fn forget(&mut self, node: &Node) -> Vec<ObjectKey> {
        self.adopted.remove(&node.object.uid);
        self.templates.remove(&node.object.key);
        self.unname(&node.object.uid, &HashMap::new())
    }

    /// Hangs a Service that is not a root under the Rollout naming it, unless the cluster
    /// gave it an owner of its own. A root stays where the user put it: at the top, in the
    /// order given, its row saying which Rollout names it.
    pub fn adopt(&mut self, node: &mut Node, root: bool) {
        let uid = &node.object.uid;
        let naming = self.named.get(&node.object.key).filter(|_| !root);
        match naming {
            Some(naming) if node.owner_uid.is_none() || self.adopted.contains(uid) => {
                node.owner_uid = Some(naming.rollout_uid.clone());
                self.adopted.insert(uid.clone());
            }
            _ if self.adopted.remove(uid) => node.owner_uid = None,
            _ => {}
        }
    }

    /// Records the pod template of a root; returns whether it changed (the Services whose
    /// slices count may then differ).
    pub fn template(&mut self, root: &Node) -> bool {
        let key = &root.object.key;
        if key.kind == "Service" || root.links.pods.is_empty() {
            return self.templates.remove(key).is_some();
        }
        if self.templates.get(key) == Some(&root.links.pods) {
            return false;
        }
        self.templates.insert(key.clone(), root.links.pods.clone());
        true
    }

    /// Whether the `EndpointSlices` of `service` count: a Rollout names it, or its selector
    /// picks the pods of a workload the user applied, whose traffic it is there to carry.
    /// Any other Service's slices only inform: its pods are another release's or tool's.
    pub fn serves_batch(&self, service: &Node) -> bool {
        if service.object.key.kind != "Service" {
            return false;
        }
        if self.named.contains_key(&service.object.key) {
            return true;
        }
        // The hash a Rollout adds to a selector is on its pods, not in its template.
        let selector: Vec<_> = service
            .links
            .pods
            .iter()
            .filter(|(label, _)| *label != POD_TEMPLATE_HASH)
            .collect();
        // A Service without a selector picks no pods (its endpoints are written by hand).
        if selector.is_empty() {
            return false;
        }
        self.templates.values().any(|labels| {
            selector
                .iter()
                .all(|(label, value)| labels.get(*label) == Some(*value))
        })
    }

    /// The message of a Service a Rollout names: its part, and the `ReplicaSet` its
    /// selector routes to now (`active of Rollout web → ReplicaSet web-5d9f8c · ClusterIP
    /// 10.96.0.12`); `None` for any other object.
    pub fn describe(&self, node: &Node) -> Option<String> {
        let naming = self.named.get(&node.object.key)?;
        let (part, rollout) = (naming.part, &naming.rollout);
        let routes = match node.links.pods.get(POD_TEMPLATE_HASH) {
            Some(hash) => format!("{part} of Rollout {rollout} → ReplicaSet {rollout}-{hash}"),
            None => format!("{part} of Rollout {rollout}"),
        };
        Some(match node.object.message.as_str() {
            "" => routes,
            message => format!("{routes} · {message}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::summary::Links;

    fn node(kind: &str, name: &str, links: Links) -> Node {
        let (mut node, _) = crate::watch::summary::node(
            &serde_json::json!({
                "apiVersion": "v1", "kind": kind,
                "metadata": {"name": name, "namespace": "ns", "uid": name}
            }),
            chrono::Utc::now(),
        )
        .expect("a node");
        node.links = links;
        node
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn rollout(services: &[(&'static str, &str)]) -> Node {
        let services = services
            .iter()
            .map(|(part, name)| (*part, (*name).to_owned()))
            .collect();
        node(
            "Rollout",
            "web",
            Links {
                services,
                pods: labels(&[("app", "web")]),
            },
        )
    }

    fn service(name: &str, selector: &[(&str, &str)]) -> Node {
        let pods = labels(selector);
        node(
            "Service",
            name,
            Links {
                pods,
                ..Links::default()
            },
        )
    }

    #[test]
    fn a_rollouts_services_hang_under_it_until_it_names_them_no_more() {
        let mut routes = Routes::default();
        let named = routes.name(&rollout(&[("active", "web"), ("preview", "web-preview")]));
        assert_eq!(named.len(), 2);
        assert!(
            routes
                .name(&rollout(&[("active", "web"), ("preview", "web-preview")]))
                .is_empty()
        );

        let mut active = service("web", &[("app", "web"), (POD_TEMPLATE_HASH, "5d9f")]);
        routes.adopt(&mut active, false);
        assert_eq!(active.owner_uid.as_deref(), Some("web"));
        assert_eq!(
            routes.describe(&active).as_deref(),
            Some("active of Rollout web → ReplicaSet web-5d9f · ClusterIP"),
            "its part and route, then what the Service itself says"
        );
        // A root stays a root.
        let mut root = service("web-preview", &[("app", "web")]);
        routes.adopt(&mut root, true);
        assert_eq!(root.owner_uid, None);
        assert!(
            routes
                .describe(&root)
                .unwrap()
                .starts_with("preview of Rollout web")
        );

        assert_eq!(
            routes.name(&rollout(&[("preview", "web-preview")])),
            [ObjectKey::new("Service", Some("ns"), "web")]
        );
        routes.adopt(&mut active, false);
        assert_eq!(
            active.owner_uid, None,
            "no longer named: no longer under it"
        );
        assert_eq!(routes.describe(&active), None);
    }

    #[test]
    fn a_services_slices_count_when_it_carries_the_traffic_of_a_workload_applied() {
        let mut routes = Routes::default();
        let deployment = node(
            "Deployment",
            "api",
            Links {
                pods: labels(&[("app", "api"), ("tier", "back")]),
                ..Links::default()
            },
        );
        assert!(routes.template(&deployment));
        assert!(!routes.template(&deployment), "unchanged");
        assert!(routes.serves_batch(&service("api", &[("app", "api")])));
        assert!(!routes.serves_batch(&service("db", &[("app", "db")])));
        assert!(
            !routes.serves_batch(&service("all", &[])),
            "no selector: no pods"
        );
        // Named by a Rollout: its slices count whatever the templates.
        routes.name(&rollout(&[("canary", "db")]));
        assert!(routes.serves_batch(&service("db", &[("app", "db")])));
        // The Rollout's hash in a selector is no template's.
        routes.template(&rollout(&[]));
        let hashed = service("x", &[("app", "web"), (POD_TEMPLATE_HASH, "5d9f")]);
        assert!(routes.serves_batch(&hashed));
        routes.forget(&deployment);
        assert!(!routes.serves_batch(&service("api", &[("app", "api")])));
    }
}
