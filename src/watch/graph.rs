//! The owner graph of everything the watches saw, and the diffs it makes for the front ends.
//!
//! Pure: the actor feeds it summaries ([`Node`]s) and Events; [`Graph::diffs`] walks from
//! the roots through ownerReferences, decides which descendants count toward the verdict
//! (old revisions do not), and returns what changed since the last call. No I/O here.

use super::summary::Node;
use crate::model::{Diff, EventRow, ObjectKey, TrackedObject};
use std::collections::{HashMap, HashSet, VecDeque};

/// How many Events are kept per object (newest last).
const EVENTS_PER_OBJECT: usize = 10;

/// Every object seen, by uid, plus what was last sent.
#[derive(Debug, Default)]
pub struct Graph {
    roots: Vec<ObjectKey>,
    nodes: HashMap<String, (usize, Node)>,
    events: HashMap<ObjectKey, Vec<(String, EventRow)>>,
    /// uids seen by each watch since its relist began.
    relisting: HashMap<usize, HashSet<String>>,
    sent: HashMap<ObjectKey, TrackedObject>,
    sent_events: HashMap<ObjectKey, Vec<EventRow>>,
}

impl Graph {
    pub fn new(roots: Vec<ObjectKey>) -> Self {
        Graph {
            roots,
            ..Graph::default()
        }
    }

    /// An object from watch `source` was added or changed.
    pub fn upsert(&mut self, source: usize, node: Node) {
        if let Some(seen) = self.relisting.get_mut(&source) {
            seen.insert(node.object.uid.clone());
        }
        self.nodes.insert(node.object.uid.clone(), (source, node));
    }

    pub fn delete(&mut self, uid: &str) {
        self.nodes.remove(uid);
    }

    /// Watch `source` starts listing everything again (after a 410 or a reconnect).
    pub fn relist_started(&mut self, source: usize) {
        self.relisting.insert(source, HashSet::new());
    }

    /// Watch `source` has listed everything: what it did not list again is gone.
    pub fn relist_done(&mut self, source: usize) {
        if let Some(seen) = self.relisting.remove(&source) {
            self.nodes
                .retain(|uid, (from, _)| *from != source || seen.contains(uid));
        }
    }

    /// An Event about `about` (with the Event's own uid) was added or changed.
    pub fn record_event(&mut self, about: ObjectKey, uid: String, row: EventRow) {
        let rows = self.events.entry(about).or_default();
        rows.retain(|(existing, _)| *existing != uid);
        rows.push((uid, row));
        if rows.len() > EVENTS_PER_OBJECT {
            rows.remove(0);
        }
    }

    /// What changed for the front ends since the last call.
    pub fn diffs(&mut self) -> Vec<Diff> {
        let tracked = self.walk();
        let mut diffs = Vec::new();
        let gone: Vec<ObjectKey> = self
            .sent
            .keys()
            .filter(|key| !tracked.contains_key(*key))
            .cloned()
            .collect();
        for key in gone {
            self.sent.remove(&key);
            self.sent_events.remove(&key);
            diffs.push(Diff::Remove(key));
        }
        for (key, object) in tracked {
            let events: Vec<EventRow> = self
                .events
                .get(&key)
                .map(|rows| rows.iter().map(|(_, row)| row.clone()).collect())
                .unwrap_or_default();
            if self.sent.get(&key) != Some(&object) {
                self.sent.insert(key.clone(), object.clone());
                diffs.push(Diff::Upsert(Box::new(object)));
            }
            if self
                .sent_events
                .get(&key)
                .map_or(!events.is_empty(), |e| *e != events)
            {
                self.sent_events.insert(key.clone(), events.clone());
                diffs.push(Diff::Events(key, events));
            }
        }
        diffs
    }

    /// The tracked objects: the roots and their descendants, with owner, applied and
    /// counted set.
    fn walk(&self) -> HashMap<ObjectKey, TrackedObject> {
        let mut children: HashMap<&str, Vec<&Node>> = HashMap::new();
        let mut by_key: HashMap<&ObjectKey, &Node> = HashMap::new();
        for (_, node) in self.nodes.values() {
            by_key.insert(&node.object.key, node);
            if let Some(owner) = &node.owner_uid {
                children.entry(owner.as_str()).or_default().push(node);
            }
        }
        let mut tracked = HashMap::new();
        let mut queue: VecDeque<(&Node, Option<&Node>, bool)> = self
            .roots
            .iter()
            .filter_map(|key| by_key.get(key))
            .map(|node| (*node, None, true))
            .collect();
        while let Some((node, parent, counted)) = queue.pop_front() {
            if tracked.contains_key(&node.object.key) {
                continue;
            }
            let mut object = node.object.clone();
            object.owner = parent.map(|p| p.object.key.clone());
            object.applied = parent.is_none();
            object.counted = counted;
            tracked.insert(object.key.clone(), object);
            let kids = children.get(node.object.uid.as_str());
            let newest = kids.and_then(|kids| newest_job(kids));
            for child in kids.into_iter().flatten() {
                let child_counted = counted && counts(node, child, newest);
                queue.push_back((child, Some(node), child_counted));
            }
        }
        tracked
    }
}

/// The uid of the newest Job among a `CronJob`'s children.
fn newest_job<'a>(children: &[&'a Node]) -> Option<&'a str> {
    children
        .iter()
        .filter(|c| c.object.key.kind == "Job")
        .max_by(|a, b| (&a.created, &a.object.key.name).cmp(&(&b.created, &b.object.key.name)))
        .map(|c| c.object.uid.as_str())
}

/// Whether `child` of `parent` counts toward the verdict. Old revisions do not: a
/// Deployment's `ReplicaSets` of another revision, `StatefulSet` pods of another revision, a
/// `CronJob`'s older Jobs (only the newest run is what the user waits for). Pods being
/// replaced do not, nor a Job's finished pods: the Job, with its backoffLimit, judges its
/// own retries.
fn counts(parent: &Node, child: &Node, newest_job: Option<&str>) -> bool {
    if child.terminating {
        return false;
    }
    let same_revision = || match (&parent.revision, &child.revision) {
        (Some(want), Some(have)) => want == have,
        _ => true,
    };
    match (
        parent.object.key.kind.as_str(),
        child.object.key.kind.as_str(),
    ) {
        ("Deployment", "ReplicaSet") | ("StatefulSet", "Pod") => same_revision(),
        ("CronJob", "Job") => newest_job == Some(child.object.uid.as_str()),
        ("Job", "Pod") => !child.finished,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    fn node(kind: &str, name: &str, owner: Option<&str>, revision: Option<&str>) -> Node {
        Node {
            object: TrackedObject {
                key: ObjectKey::new(kind, Some("ns"), name),
                api_version: "v1".into(),
                uid: name.into(),
                status: Status::InProgress,
                message: String::new(),
                counts: None,
                owner: None,
                applied: false,
                counted: true,
                conditions: Vec::new(),
                containers: Vec::new(),
            },
            owner_uid: owner.map(str::to_owned),
            revision: revision.map(str::to_owned),
            terminating: false,
            finished: false,
            created: String::new(),
        }
    }

    fn upserted(diffs: &[Diff]) -> HashMap<String, TrackedObject> {
        diffs
            .iter()
            .filter_map(|d| match d {
                Diff::Upsert(o) => Some((o.key.name.clone(), (**o).clone())),
                _ => None,
            })
            .collect()
    }

    fn key(kind: &str, name: &str) -> ObjectKey {
        ObjectKey::new(kind, Some("ns"), name)
    }

    #[test]
    fn old_replicasets_and_their_pods_are_tracked_but_not_counted() {
        let mut graph = Graph::new(vec![key("Deployment", "web")]);
        graph.upsert(0, node("Deployment", "web", None, Some("2")));
        graph.upsert(1, node("ReplicaSet", "web-new", Some("web"), Some("2")));
        graph.upsert(1, node("ReplicaSet", "web-old", Some("web"), Some("1")));
        graph.upsert(2, node("Pod", "web-new-a", Some("web-new"), None));
        graph.upsert(2, node("Pod", "web-old-a", Some("web-old"), None));
        graph.upsert(2, node("Pod", "stranger", Some("someone-else"), None));
        let objects = upserted(&graph.diffs());
        assert_eq!(objects.len(), 5, "the stranger is not tracked");
        assert!(objects["web"].applied && objects["web"].counted);
        assert!(objects["web-new"].counted && objects["web-new-a"].counted);
        assert!(!objects["web-old"].counted && !objects["web-old-a"].counted);
        assert_eq!(
            objects["web-old-a"].owner,
            Some(key("ReplicaSet", "web-old"))
        );
        assert!(!objects["web-old-a"].applied);
    }

    #[test]
    fn statefulset_pods_of_another_revision_and_terminating_pods_do_not_count() {
        let mut graph = Graph::new(vec![key("StatefulSet", "db")]);
        graph.upsert(0, node("StatefulSet", "db", None, Some("db-2")));
        graph.upsert(1, node("Pod", "db-0", Some("db"), Some("db-2")));
        graph.upsert(1, node("Pod", "db-1", Some("db"), Some("db-1")));
        let mut leaving = node("Pod", "db-2", Some("db"), Some("db-2"));
        leaving.terminating = true;
        graph.upsert(1, leaving);
        let objects = upserted(&graph.diffs());
        assert!(objects["db-0"].counted);
        assert!(!objects["db-1"].counted);
        assert!(!objects["db-2"].counted);
    }

    #[test]
    fn only_the_newest_job_of_a_cronjob_counts_and_finished_job_pods_do_not() {
        let mut graph = Graph::new(vec![key("CronJob", "nightly")]);
        graph.upsert(0, node("CronJob", "nightly", None, None));
        let mut old = node("Job", "nightly-1", Some("nightly"), None);
        old.created = "2026-01-01T00:00:00Z".into();
        let mut new = node("Job", "nightly-2", Some("nightly"), None);
        new.created = "2026-01-01T01:00:00Z".into();
        graph.upsert(1, old);
        graph.upsert(1, new);
        let mut done = node("Pod", "nightly-2-a", Some("nightly-2"), None);
        done.finished = true;
        graph.upsert(2, done);
        graph.upsert(2, node("Pod", "nightly-2-b", Some("nightly-2"), None));
        let objects = upserted(&graph.diffs());
        assert!(!objects["nightly-1"].counted);
        assert!(objects["nightly-2"].counted);
        assert!(!objects["nightly-2-a"].counted);
        assert!(objects["nightly-2-b"].counted);
    }

    #[test]
    fn diffs_send_only_changes_and_removals() {
        let mut graph = Graph::new(vec![key("Deployment", "web")]);
        graph.upsert(0, node("Deployment", "web", None, None));
        graph.upsert(1, node("ReplicaSet", "web-1", Some("web"), None));
        assert_eq!(graph.diffs().len(), 2);
        assert!(graph.diffs().is_empty(), "nothing changed");

        graph.delete("web-1");
        assert_eq!(graph.diffs(), [Diff::Remove(key("ReplicaSet", "web-1"))]);
    }

    #[test]
    fn a_relist_drops_what_it_no_longer_lists() {
        let mut graph = Graph::new(vec![key("Deployment", "web")]);
        graph.upsert(0, node("Deployment", "web", None, None));
        graph.upsert(1, node("ReplicaSet", "web-1", Some("web"), None));
        graph.upsert(1, node("ReplicaSet", "web-2", Some("web"), None));
        graph.diffs();
        graph.relist_started(1);
        graph.upsert(1, node("ReplicaSet", "web-2", Some("web"), None));
        graph.relist_done(1);
        assert_eq!(graph.diffs(), [Diff::Remove(key("ReplicaSet", "web-1"))]);
    }

    #[test]
    fn events_are_kept_per_object_newest_last_and_bounded() {
        let mut graph = Graph::new(vec![key("Pod", "p")]);
        graph.upsert(0, node("Pod", "p", None, None));
        for i in 0..12 {
            let row = EventRow {
                reason: format!("R{i}"),
                ..EventRow::default()
            };
            graph.record_event(key("Pod", "p"), format!("e{i}"), row);
        }
        // An update of a known Event replaces it.
        let row = EventRow {
            reason: "R11".into(),
            count: 2,
            ..EventRow::default()
        };
        graph.record_event(key("Pod", "p"), "e11".into(), row);
        let diffs = graph.diffs();
        let Some(Diff::Events(_, rows)) = diffs.iter().find(|d| matches!(d, Diff::Events(..)))
        else {
            panic!("no events diff in {diffs:?}")
        };
        assert_eq!(rows.len(), EVENTS_PER_OBJECT);
        assert_eq!(rows.last().unwrap().count, 2);
        assert_eq!(rows.first().unwrap().reason, "R2");
    }
}
