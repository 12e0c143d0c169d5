//! The owner graph of everything the watches saw, and the diffs it makes for the front ends.
//!
//! Pure: the actor feeds it summaries ([`Node`]s) and Events; [`Graph::diffs`] follows
//! ownerReferences from the roots, decides which descendants count toward the verdict (old
//! revisions do not, nor anything under a root whose overrides say so), and returns what changed since the last call. No I/O here.
//! Ties that are not ownerReferences (a Rollout's Services, the Services whose slices count)
//! are kept by `watch::routes`.
//!
//! Work is per change, not per object: a change marks the objects it can affect (the object
//! alone when only its summary changed; its subtree, and a `CronJob`'s other Jobs, when its
//! place in the graph changed), and `diffs` re-judges only those by walking up to a root.
//! At 5 000 pods a full walk per watch event was most of kos's CPU time.
//!
//! Objects the cluster removes by design (README.md, "Objects removed by design"): a root
//! whose last status was success, and the descendants that succeeded under a root leaving
//! that way, stay in the graph when they are deleted, and are sent as a success that was
//! removed; while being deleted, they are sent as a success being removed.

use super::routes::Routes;
use super::summary::Node;
use crate::model::{Diff, EventRow, ObjectKey, TrackedObject};
use crate::status::Status;
use crate::tracker::Overrides;
use std::collections::{HashMap, HashSet};

/// How many Events are kept per object (newest last).
const EVENTS_PER_OBJECT: usize = 10;
/// Owner chains longer than this (only a cycle makes them) are not tracked.
const MAX_DEPTH: usize = 32;

/// Every object seen, by uid, plus what was last sent.
#[derive(Debug, Default)]
pub struct Graph {
    roots: HashSet<ObjectKey>,
    /// The roots whose `kos.dev/` annotations change what counts under them.
    overrides: HashMap<ObjectKey, Overrides>,
    nodes: HashMap<String, (usize, Node)>,
    /// uids of the objects naming each uid as their owner, whether or not the owner is seen.
    children: HashMap<String, HashSet<String>>,
    events: HashMap<ObjectKey, Vec<(String, EventRow)>>,
    /// uids seen by each watch since its relist began.
    relisting: HashMap<usize, HashSet<String>>,
    /// Objects to judge again at the next [`Graph::diffs`].
    dirty: HashSet<String>,
    /// Objects deleted since the last [`Graph::diffs`], as (uid, key).
    deleted: Vec<(String, ObjectKey)>,
    /// Objects whose Events changed since the last [`Graph::diffs`].
    dirty_events: HashSet<ObjectKey>,
    /// What was last sent of each object. Of its Events nothing is kept: they are marked
    /// dirty only when a row changes, and an object's rows, once it has any, never run out.
    sent: HashMap<ObjectKey, TrackedObject>,
    /// The objects whose last status, being deleted aside, was success: the message they
    /// had then, by uid (once deleted, an object says what it was, not how it went).
    succeeded: HashMap<String, String>,
    /// Objects deleted after they succeeded and kept as rows: the uid under each key.
    removed: HashMap<ObjectKey, String>,
    /// The roots shown under another root: the objects of a Helm release.
    members: HashMap<ObjectKey, Member>,
    /// The Services Rollouts name and the pod templates of the roots.
    routes: Routes,
}

/// A root shown under another root: an object of a Helm release, or one of its hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub parent: ObjectKey,
    pub hook: Option<Hook>,
}

/// What a Helm hook is, for its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// `pre-upgrade hook`: the start of its row's message.
    pub label: String,
    /// Its release's record says its last run succeeded: until its object is seen, it is a
    /// success its delete policy removed.
    pub succeeded: bool,
}

/// The uid of the stand-in row of a hook that succeeded before tracking began: no uid of
/// the API server's has this form.
fn recorded_uid(key: &ObjectKey) -> String {
    format!("recorded:{key}")
}

/// Where a tracked object hangs: its owner (none for a root), whether it counts, and
/// whether its root is leaving after it succeeded (being deleted, or deleted).
struct Place {
    owner: Option<ObjectKey>,
    counted: bool,
    root_leaving: bool,
}

/// What is said of an object that succeeded and is then deleted.
const REMOVED: &str = "removed after it succeeded";
const BEING_REMOVED: &str = "being removed after it succeeded";

impl Graph {
    pub fn new(roots: Vec<ObjectKey>) -> Self {
        Graph {
            roots: roots.into_iter().collect(),
            ..Graph::default()
        }
    }

    /// The graph of [`Graph::new`], with the roots' overrides: an untracked root and its
    /// descendants do not count, nor the descendants of a root that waits for less than
    /// its whole tree.
    #[must_use]
    pub fn with_overrides(mut self, overrides: HashMap<ObjectKey, Overrides>) -> Self {
        self.overrides = overrides;
        self
    }

    /// The graph with the roots shown under other roots. A hook whose last run succeeded
    /// starts as a success removed after it succeeded, which its object takes over once seen:
    /// its delete policy may have removed it before tracking began.
    #[must_use]
    pub fn with_members(mut self, members: HashMap<ObjectKey, Member>) -> Self {
        for (key, member) in &members {
            if !member.hook.as_ref().is_some_and(|hook| hook.succeeded) {
                continue;
            }
            let uid = recorded_uid(key);
            let object = TrackedObject::root(
                key.clone(),
                String::new(),
                uid.clone(),
                Status::Success,
                "its last run succeeded".to_owned(),
            );
            self.succeeded.insert(uid.clone(), object.message.clone());
            let node = Node {
                object,
                owner_uid: None,
                revision: None,
                stable: None,
                terminating: false,
                finished: false,
                links: super::summary::Links::default(),
            };
            // From no watch: no relist forgets it.
            self.nodes.insert(uid.clone(), (usize::MAX, node));
            self.removed.insert(key.clone(), uid.clone());
            self.dirty.insert(uid);
        }
        self.members = members;
        self
    }

    /// Whether `root` counts, and whether its descendants may.
    fn counting(&self, root: &ObjectKey) -> (bool, bool) {
        let rule = self.overrides.get(root).copied().unwrap_or_default();
        (rule.track, rule.counts_descendants())
    }

    /// An object from watch `source` was added or changed.
    pub fn upsert(&mut self, source: usize, node: Node) {
        if let Some(seen) = self.relisting.get_mut(&source) {
            seen.insert(node.object.uid.clone());
        }
        self.route(source, node);
    }

    /// Ties `node` to what it names or what names it, then places it.
    fn route(&mut self, source: usize, mut node: Node) {
        let root = self.roots.contains(&node.object.key);
        self.routes.adopt(&mut node, root);
        let template_changed = root && self.routes.template(&node);
        let renamed = self.routes.name(&node);
        self.place_node(source, node);
        if template_changed {
            self.mark_services();
        }
        for service in renamed {
            self.relink(&service);
        }
    }

    /// Puts `node` in the graph, marking what its change can affect.
    fn place_node(&mut self, source: usize, node: Node) {
        let uid = node.object.uid.clone();
        let key = node.object.key.clone();
        // A new object under the name of one removed after it succeeded takes its row.
        if let Some(old) = self.removed.get(&key).filter(|old| **old != uid).cloned() {
            self.forget(&old);
        }
        let revived = self.removed.get(&key) == Some(&uid);
        if revived {
            self.removed.remove(&key);
        }
        let latched = self.latch(&uid, &node.object);
        let old = self.nodes.insert(uid.clone(), (source, node));
        let old = old.map(|(_, old)| old);
        let new = self.nodes.get(&uid).map(|(_, node)| node);
        let moved = match (&old, new) {
            (Some(old), Some(new)) => !same_place(old, new),
            _ => true,
        };
        // Whether a root is leaving after it succeeded decides how its subtree shows; being
        // deleted is a change of place, what it last was only counts while it is deleted.
        let terminating = new.is_some_and(|n| n.terminating);
        let root_changed = (revived || (latched && terminating)) && self.roots.contains(&key);
        if !moved && !root_changed {
            self.dirty.insert(uid);
            return;
        }
        let (old_owner, new_owner) = (
            old.as_ref().and_then(|n| n.owner_uid.clone()),
            new.and_then(|n| n.owner_uid.clone()),
        );
        if old_owner != new_owner {
            self.unlink(&uid, old_owner.as_deref());
            if let Some(owner) = &new_owner {
                self.children
                    .entry(owner.clone())
                    .or_default()
                    .insert(uid.clone());
            }
        }
        self.mark_subtree(&uid);
        for owner in [old_owner, new_owner].iter().flatten() {
            self.mark_cronjob_children(owner);
        }
    }

    /// An object was deleted from the cluster. One that succeeded, as a root, under a root
    /// leaving after it succeeded, or as a pod that ran to completion under a root, stays as
    /// removed; others are forgotten.
    ///
    /// A completed pod is kept whatever its root does: the garbage collector deletes it after
    /// its Job, but the pods' watch may tell that before the Jobs' watch tells the Job is
    /// gone. Should the Job go later, the pod goes with it (`forget`).
    pub fn delete(&mut self, uid: &str) {
        let Some((_, node)) = self.nodes.get(uid) else {
            return;
        };
        if self.is_removed(uid) {
            return;
        }
        let key = node.object.key.clone();
        let keep = self.succeeded.contains_key(uid)
            && (self.roots.contains(&key)
                || self
                    .place(node)
                    .is_some_and(|p| p.root_leaving || node.finished));
        if keep {
            self.removed.insert(key, uid.to_owned());
            self.mark_subtree(uid);
        } else {
            self.forget(uid);
        }
    }

    /// Records whether the last status of `object`, being deleted aside, is success; returns
    /// whether that changed.
    fn latch(&mut self, uid: &str, object: &TrackedObject) -> bool {
        match (object.status, self.succeeded.get_mut(uid)) {
            // Most changes of a pod that is up change nothing here: no allocation for them.
            (Status::Success, Some(message)) => {
                if *message != object.message {
                    message.clone_from(&object.message);
                }
                false
            }
            (Status::Success, None) => {
                self.succeeded
                    .insert(uid.to_owned(), object.message.clone());
                true
            }
            (Status::Terminating, _) => false,
            _ => self.succeeded.remove(uid).is_some(),
        }
    }

    /// Drops `uid` from the graph, with the removed objects below it (they lose their way to
    /// a root for good).
    fn forget(&mut self, uid: &str) {
        let Some((_, node)) = self.nodes.remove(uid) else {
            return;
        };
        for service in self.routes.forget(&node) {
            self.relink(&service);
        }
        self.succeeded.remove(uid);
        if self
            .removed
            .get(&node.object.key)
            .is_some_and(|kept| kept == uid)
        {
            self.removed.remove(&node.object.key);
        }
        let removed_children: Vec<String> = self
            .children
            .get(uid)
            .into_iter()
            .flatten()
            .filter(|child| self.is_removed(child))
            .cloned()
            .collect();
        for child in removed_children {
            self.forget(&child);
        }
        self.unlink(uid, node.owner_uid.as_deref());
        self.deleted.push((uid.to_owned(), node.object.key));
        // Its descendants lose their way to a root.
        self.mark_subtree(uid);
        if let Some(owner) = &node.owner_uid {
            self.mark_cronjob_children(owner);
        }
    }

    /// Watch `source` starts listing everything again (after a 410 or a reconnect).
    pub fn relist_started(&mut self, source: usize) {
        self.relisting.insert(source, HashSet::new());
    }

    /// Watch `source` has listed everything: what it did not list again is gone.
    pub fn relist_done(&mut self, source: usize) {
        if let Some(seen) = self.relisting.remove(&source) {
            let gone: Vec<String> = self
                .nodes
                .iter()
                .filter(|(uid, (from, _))| *from == source && !seen.contains(*uid))
                .map(|(uid, _)| uid.clone())
                .collect();
            for uid in gone {
                self.delete(&uid);
            }
        }
    }

    /// An Event about `about` (with the Event's own uid) was added or changed.
    pub fn record_event(&mut self, about: ObjectKey, uid: String, row: EventRow) {
        let rows = self.events.entry(about.clone()).or_default();
        if rows
            .iter()
            .any(|(existing, kept)| *existing == uid && *kept == row)
        {
            return;
        }
        rows.retain(|(existing, _)| *existing != uid);
        rows.push((uid, row));
        if rows.len() > EVENTS_PER_OBJECT {
            rows.remove(0);
        }
        self.dirty_events.insert(about);
    }

    /// What changed for the front ends since the last call.
    pub fn diffs(&mut self) -> Vec<Diff> {
        let mut diffs = Vec::new();
        for (uid, key) in std::mem::take(&mut self.deleted) {
            self.unsend(&uid, &key, &mut diffs);
        }
        for uid in std::mem::take(&mut self.dirty) {
            let Some((_, node)) = self.nodes.get(&uid) else {
                continue;
            };
            let key = node.object.key.clone();
            let Some(place) = self.place(node) else {
                self.unsend(&uid, &key, &mut diffs);
                continue;
            };
            let mut object = present(node, place, self.is_removed(&uid), self);
            if let Some(member) = self.members.get(&key) {
                object.owner = Some(member.parent.clone());
                if let Some(hook) = &member.hook {
                    object.message = format!("{}: {}", hook.label, object.message);
                }
            }
            if self.sent.get(&key) != Some(&object) {
                if !self.sent.contains_key(&key) {
                    // Newly tracked: its Events (which may have come first) go too.
                    self.dirty_events.insert(key.clone());
                }
                self.sent.insert(key, object.clone());
                diffs.push(Diff::Upsert(Box::new(object)));
            }
        }
        for key in std::mem::take(&mut self.dirty_events) {
            if !self.sent.contains_key(&key) {
                continue;
            }
            let events: Vec<EventRow> = self
                .events
                .get(&key)
                .map(|rows| rows.iter().map(|(_, row)| row.clone()).collect())
                .unwrap_or_default();
            // Newly tracked with no Events yet: nothing to say.
            if !events.is_empty() {
                diffs.push(Diff::Events(key, events));
            }
        }
        diffs
    }

    /// Where `node` hangs in the tracked tree, walking up to a root; `None` when no root is
    /// above it.
    fn place(&self, node: &Node) -> Option<Place> {
        // The chain from `node` up to (not including) the root, nearest first.
        let mut chain = vec![node];
        while !self.roots.contains(&chain[chain.len() - 1].object.key) {
            let top = chain[chain.len() - 1];
            let (_, owner) = self.nodes.get(top.owner_uid.as_ref()?)?;
            if chain.len() > MAX_DEPTH {
                return None;
            }
            chain.push(owner);
        }
        let root = chain[chain.len() - 1];
        let (root_counts, descendants_count) = self.counting(&root.object.key);
        let mut place = Place {
            owner: None,
            counted: root_counts,
            root_leaving: self.leaving(root),
        };
        // Down from the root: each child counts if its parent does and its rule says so.
        for pair in chain.windows(2).rev() {
            let (child, parent) = (pair[0], pair[1]);
            place = Place {
                owner: Some(parent.object.key.clone()),
                counted: place.counted
                    && descendants_count
                    && counts(parent, child, self.newest_job(parent), &self.routes),
                root_leaving: place.root_leaving,
            };
        }
        Some(place)
    }

    /// Whether `uid` was deleted after it succeeded and is kept as removed.
    fn is_removed(&self, uid: &str) -> bool {
        self.nodes
            .get(uid)
            .is_some_and(|(_, node)| self.removed.get(&node.object.key) == Some(&node.object.uid))
    }

    /// Whether `node` is leaving after it succeeded: being deleted, or deleted and kept.
    fn leaving(&self, node: &Node) -> bool {
        let uid = &node.object.uid;
        self.is_removed(uid) || (node.terminating && self.succeeded.contains_key(uid))
    }

    /// The uid of the newest Job of `parent`, when it is a `CronJob`.
    fn newest_job(&self, parent: &Node) -> Option<&str> {
        if parent.object.key.kind != "CronJob" {
            return None;
        }
        let kids: Vec<&Node> = self
            .children
            .get(&parent.object.uid)?
            .iter()
            .filter_map(|uid| self.nodes.get(uid).map(|(_, node)| node))
            .collect();
        newest_job(&kids)
    }

    /// Forgets `key` as sent, when it was sent for `uid`.
    fn unsend(&mut self, uid: &str, key: &ObjectKey, diffs: &mut Vec<Diff>) {
        if self.nodes.contains_key(uid) && self.dirty.contains(uid) {
            return;
        }
        if self.sent.get(key).is_some_and(|sent| sent.uid == uid) {
            self.sent.remove(key);
            diffs.push(Diff::Remove(key.clone()));
        }
    }

    fn unlink(&mut self, uid: &str, owner: Option<&str>) {
        let Some(owner) = owner else {
            return;
        };
        if let Some(siblings) = self.children.get_mut(owner) {
            siblings.remove(uid);
            if siblings.is_empty() {
                self.children.remove(owner);
            }
        }
    }

    /// Places the Service `key` again, its tie to a Rollout having changed: where it hangs,
    /// what its row says and whether its slices count.
    fn relink(&mut self, key: &ObjectKey) {
        let found = self
            .nodes
            .iter()
            .find(|(_, (_, node))| node.object.key == *key)
            .map(|(uid, (source, node))| (uid.clone(), *source, node.clone()));
        if let Some((uid, source, node)) = found {
            self.route(source, node);
            self.mark_subtree(&uid);
        }
    }

    /// Marks every Service's subtree to be judged again: which of their slices count
    /// depends on the roots' pod templates.
    fn mark_services(&mut self) {
        let services: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, (_, node))| node.object.key.kind == "Service")
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in services {
            self.mark_subtree(&uid);
        }
    }

    /// Marks `uid` and everything below it to be judged again.
    fn mark_subtree(&mut self, uid: &str) {
        let mut stack = vec![uid.to_owned()];
        let mut seen = HashSet::new();
        while let Some(uid) = stack.pop() {
            if !seen.insert(uid.clone()) {
                continue;
            }
            if let Some(kids) = self.children.get(&uid) {
                stack.extend(kids.iter().cloned());
            }
            self.dirty.insert(uid);
        }
    }

    /// Which Job of a `CronJob` counts depends on all of them: a Job coming or going marks
    /// its siblings.
    fn mark_cronjob_children(&mut self, owner: &str) {
        let is_cronjob = self
            .nodes
            .get(owner)
            .is_some_and(|(_, node)| node.object.key.kind == "CronJob");
        if is_cronjob {
            self.mark_subtree(owner);
        }
    }
}

/// The row sent for `node` at `place`: a success that is being removed or was removed shows
/// as that success (its message then), saying so; a Service a Rollout names says so and
/// where it routes; anything else as it is.
fn present(node: &Node, place: Place, removed: bool, graph: &Graph) -> TrackedObject {
    let mut object = node.object.clone();
    object.applied = place.owner.is_none();
    object.owner = place.owner;
    object.counted = place.counted;
    if let Some(message) = graph.routes.describe(node) {
        object.message = message;
    }
    let success = graph.succeeded.get(&object.uid);
    let note = match success {
        Some(_) if removed => REMOVED,
        Some(_) if node.terminating && place.root_leaving => BEING_REMOVED,
        _ => return object,
    };
    object.status = Status::Success;
    object.message = match success.map(String::as_str) {
        None | Some("") => note.to_owned(),
        Some(message) => format!("{message}; {note}"),
    };
    object
}

/// Whether two versions of an object hang the same way: same identity, owner and the fields
/// that decide whether it and its children count.
fn same_place(old: &Node, new: &Node) -> bool {
    old.object.key == new.object.key
        && old.owner_uid == new.owner_uid
        && old.revision == new.revision
        && old.stable == new.stable
        && old.terminating == new.terminating
        && old.finished == new.finished
        && old.object.created == new.object.created
        && old.links == new.links
}

/// The uid of the newest Job among a `CronJob`'s children.
fn newest_job<'a>(children: &[&'a Node]) -> Option<&'a str> {
    children
        .iter()
        .filter(|c| c.object.key.kind == "Job")
        .max_by(|a, b| {
            (&a.object.created, &a.object.key.name).cmp(&(&b.object.created, &b.object.key.name))
        })
        .map(|c| c.object.uid.as_str())
}

/// Whether `child` of `parent` counts toward the verdict. Old revisions do not: a
/// Deployment's `ReplicaSets` of another revision, an Argo Rollout's other than its current
/// and stable ones (the preview and active, or canary and stable), `StatefulSet` pods of
/// another revision, a `CronJob`'s older Jobs (only the newest run is what the user waits
/// for). Pods being
/// replaced do not, nor a Job's finished pods: the Job, with its backoffLimit, judges its
/// own retries. A Service's `EndpointSlices` say where its traffic goes; they count (the
/// Service waits for a ready endpoint) only when the Service carries the traffic of a
/// workload the user applied or a Rollout names it (`Routes::serves_batch`): one whose
/// pods belong to another release or tool must not hold the run. An Argo Rollout's
/// `AnalysisRuns` count for its current revision only.
fn counts(parent: &Node, child: &Node, newest_job: Option<&str>, routes: &Routes) -> bool {
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
        ("Deployment", "ReplicaSet") | ("StatefulSet", "Pod") | ("Rollout", "AnalysisRun") => {
            same_revision()
        }
        ("Rollout", "ReplicaSet") => {
            same_revision() || (parent.stable.is_some() && parent.stable == child.revision)
        }
        ("CronJob", "Job") => newest_job == Some(child.object.uid.as_str()),
        ("Job", "Pod") => !child.finished,
        ("Service", "EndpointSlice") => routes.serves_batch(parent),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;
    use crate::watch::summary::{Links, POD_TEMPLATE_HASH};

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
                created: String::new(),
            },
            owner_uid: owner.map(str::to_owned),
            revision: revision.map(str::to_owned),
            stable: None,
            terminating: false,
            finished: false,
            links: crate::watch::summary::Links::default(),
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
    fn overrides_decide_what_counts_under_a_root() {
        use crate::tracker::{Overrides, WaitFor};
        let untracked = Overrides {
            track: false,
            ..Overrides::default()
        };
        let ready = Overrides {
            wait_for: WaitFor::Ready,
            ..Overrides::default()
        };
        let overrides = [
            (key("Deployment", "web"), untracked),
            (key("Job", "job"), ready),
        ];
        let mut graph = Graph::new(vec![key("Deployment", "web"), key("Job", "job")])
            .with_overrides(overrides.into_iter().collect());
        graph.upsert(0, node("Deployment", "web", None, None));
        graph.upsert(1, node("ReplicaSet", "web-1", Some("web"), None));
        graph.upsert(0, node("Job", "job", None, None));
        graph.upsert(1, node("Pod", "job-a", Some("job"), None));
        let objects = upserted(&graph.diffs());
        assert!(!objects["web"].counted && !objects["web-1"].counted);
        assert!(objects["job"].counted && !objects["job-a"].counted);
        assert_eq!(full_walk(&graph).len(), 4);
        for (key, object) in full_walk(&graph) {
            assert_eq!(objects[key.name.as_str()].counted, object.counted);
        }
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
    fn a_rollouts_current_and_stable_replicasets_count_and_older_ones_do_not() {
        let mut graph = Graph::new(vec![key("Rollout", "web")]);
        let mut rollout = node("Rollout", "web", None, Some("green"));
        rollout.stable = Some("blue".into());
        graph.upsert(0, rollout.clone());
        for (rs, hash) in [
            ("web-green", "green"),
            ("web-blue", "blue"),
            ("web-old", "old"),
        ] {
            graph.upsert(1, node("ReplicaSet", rs, Some("web"), Some(hash)));
            graph.upsert(2, node("Pod", &format!("{rs}-a"), Some(rs), None));
        }
        let objects = upserted(&graph.diffs());
        assert!(objects["web-green"].counted && objects["web-green-a"].counted);
        assert!(objects["web-blue"].counted && objects["web-blue-a"].counted);
        assert!(!objects["web-old"].counted && !objects["web-old-a"].counted);
        // Promoted: green is stable too, blue no longer counts.
        rollout.stable = Some("green".into());
        graph.upsert(0, rollout);
        let objects = upserted(&graph.diffs());
        assert!(!objects["web-blue"].counted && !objects["web-blue-a"].counted);
        assert!(
            !objects.contains_key("web-green"),
            "unchanged rows are not sent again"
        );
    }

    #[test]
    fn a_services_endpoint_slices_are_shown_and_do_not_count_on_their_own() {
        let mut graph = Graph::new(vec![key("Service", "web")]);
        graph.upsert(0, node("Service", "web", None, None));
        graph.upsert(1, node("EndpointSlice", "web-x7k2p", Some("web"), None));
        let objects = upserted(&graph.diffs());
        assert_eq!(objects["web-x7k2p"].owner, Some(key("Service", "web")));
        assert!(!objects["web-x7k2p"].counted);
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
        old.object.created = "2026-01-01T00:00:00Z".into();
        let mut new = node("Job", "nightly-2", Some("nightly"), None);
        new.object.created = "2026-01-01T01:00:00Z".into();
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

    /// A node of `kind` linked as `links` says.
    fn linked(kind: &str, name: &str, owner: Option<&str>, links: Links) -> Node {
        Node {
            links,
            ..node(kind, name, owner, None)
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_rollouts_services_and_analysis_runs_hang_under_it_and_a_root_service_stays_on_top() {
        let mut graph = Graph::new(vec![key("Rollout", "web"), key("Service", "front-preview")]);
        let selector = |hash: &str| Links {
            pods: labels(&[("app", "web"), (POD_TEMPLATE_HASH, hash)]),
            ..Links::default()
        };
        // The Services come first, then the Rollout that names them.
        graph.upsert(1, linked("Service", "front", None, selector("5d9f")));
        graph.upsert(
            1,
            linked("Service", "front-preview", None, selector("7c4b")),
        );
        graph.upsert(2, node("EndpointSlice", "front-x1", Some("front"), None));
        graph.upsert(
            2,
            node(
                "EndpointSlice",
                "front-preview-x1",
                Some("front-preview"),
                None,
            ),
        );
        let mut rollout = linked(
            "Rollout",
            "web",
            None,
            Links {
                services: vec![
                    ("active", "front".into()),
                    ("preview", "front-preview".into()),
                ],
                pods: labels(&[("app", "web")]),
            },
        );
        rollout.revision = Some("7c4b".into());
        rollout.stable = Some("5d9f".into());
        graph.upsert(0, rollout);
        graph.upsert(
            3,
            node("AnalysisRun", "web-7c4b-2-pre", Some("web"), Some("7c4b")),
        );
        graph.upsert(
            3,
            node("AnalysisRun", "web-5d9f-1-pre", Some("web"), Some("5d9f")),
        );
        let sent = upserted(&graph.diffs());
        let active = &sent["front"];
        assert_eq!(active.owner, Some(key("Rollout", "web")), "{sent:#?}");
        assert!(active.counted && !active.applied);
        assert_eq!(
            active.message,
            "active of Rollout web → ReplicaSet web-5d9f"
        );
        let preview = &sent["front-preview"];
        assert_eq!(preview.owner, None, "a root stays at the top");
        assert!(preview.applied);
        assert_eq!(
            preview.message,
            "preview of Rollout web → ReplicaSet web-7c4b"
        );
        assert!(sent["front-x1"].counted && sent["front-preview-x1"].counted);
        assert!(sent["web-7c4b-2-pre"].counted);
        assert!(!sent["web-5d9f-1-pre"].counted, "an old revision's run");
        // No longer named: the Service leaves the tree, the root one keeps its row alone.
        let mut rollout = linked("Rollout", "web", None, Links::default());
        rollout.revision = Some("7c4b".into());
        graph.upsert(0, rollout);
        let diffs = graph.diffs();
        assert!(
            diffs.contains(&Diff::Remove(key("Service", "front"))),
            "{diffs:?}"
        );
        assert_eq!(upserted(&diffs)["front-preview"].message, "");
    }

    #[test]
    fn a_services_slices_count_only_when_it_serves_a_workload_applied_with_it() {
        let mut graph = Graph::new(vec![
            key("Service", "api"),
            key("Service", "db"),
            key("Deployment", "api"),
        ]);
        let selects = |app: &str| Links {
            pods: labels(&[("app", app)]),
            ..Links::default()
        };
        graph.upsert(0, linked("Service", "api", None, selects("api")));
        graph.upsert(0, linked("Service", "db", None, selects("db")));
        graph.upsert(1, node("EndpointSlice", "api-x", Some("api"), None));
        graph.upsert(1, node("EndpointSlice", "db-x", Some("db"), None));
        let sent = upserted(&graph.diffs());
        assert!(
            !sent["api-x"].counted && !sent["db-x"].counted,
            "no workload seen yet"
        );
        // The Deployment's template picks the api Service's pods: its slice counts now.
        graph.upsert(2, linked("Deployment", "api", None, selects("api")));
        let sent = upserted(&graph.diffs());
        assert!(sent["api-x"].counted, "{sent:#?}");
        assert!(!sent.contains_key("db-x"), "unchanged: {sent:#?}");
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

    fn with_status(mut node: Node, status: Status, message: &str) -> Node {
        node.object.status = status;
        node.object.message = message.into();
        node
    }

    /// A completed Job `migrate` (a root) with its completed pod, both sent.
    fn completed_job() -> Graph {
        let mut graph = Graph::new(vec![key("Job", "migrate")]);
        let job = node("Job", "migrate", None, None);
        graph.upsert(0, with_status(job, Status::Success, "Job 1/1 completed"));
        let mut pod = node("Pod", "migrate-a", Some("migrate"), None);
        pod.finished = true;
        graph.upsert(1, with_status(pod, Status::Success, "Completed"));
        graph.diffs();
        graph
    }

    #[test]
    fn a_root_deleted_after_it_succeeded_keeps_its_success_and_so_do_its_completed_pods() {
        let mut graph = completed_job();
        // Deleted in the foreground, as the TTL-after-finished controller does: the Job is
        // marked first, its pods go, then the Job.
        let mut leaving = node("Job", "migrate", None, None);
        leaving.terminating = true;
        graph.upsert(
            0,
            with_status(leaving, Status::Terminating, "Being deleted"),
        );
        let mut pod = node("Pod", "migrate-a", Some("migrate"), None);
        (pod.finished, pod.terminating) = (true, true);
        graph.upsert(1, with_status(pod, Status::Terminating, "Being deleted"));
        let sent = upserted(&graph.diffs());
        assert_eq!(
            sent["migrate-a"].message, "Completed; being removed after it succeeded",
            "what it was, not how it goes"
        );
        assert_eq!(sent["migrate"].status, Status::Success, "{sent:?}");
        assert_eq!(
            sent["migrate"].message,
            "Job 1/1 completed; being removed after it succeeded"
        );
        graph.delete("migrate-a");
        graph.delete("migrate");
        let diffs = graph.diffs();
        assert!(
            !diffs.iter().any(|d| matches!(d, Diff::Remove(_))),
            "{diffs:?}"
        );
        let sent = upserted(&diffs);
        assert_eq!(sent["migrate"].status, Status::Success);
        assert_eq!(
            sent["migrate"].message,
            "Job 1/1 completed; removed after it succeeded"
        );
        assert!(sent["migrate"].applied && sent["migrate"].counted);
        assert_eq!(sent["migrate-a"].status, Status::Success);
        assert_eq!(
            sent["migrate-a"].message,
            "Completed; removed after it succeeded"
        );
        assert_eq!(sent["migrate-a"].owner, Some(key("Job", "migrate")));
        // A relist that no longer lists them does not take them away.
        graph.relist_started(0);
        graph.relist_done(0);
        graph.relist_started(1);
        graph.relist_done(1);
        assert_eq!(graph.diffs(), []);
    }

    #[test]
    fn a_root_deleted_in_the_background_keeps_the_pods_deleted_after_it() {
        let mut graph = completed_job();
        graph.delete("migrate");
        graph.delete("migrate-a");
        let sent = upserted(&graph.diffs());
        assert_eq!(sent["migrate-a"].status, Status::Success, "{sent:?}");
        assert!(
            sent["migrate-a"]
                .message
                .ends_with("removed after it succeeded")
        );
    }

    #[test]
    fn a_completed_pod_deleted_before_its_job_is_seen_deleted_keeps_its_success() {
        // The garbage collector deletes the pod after the Job, but the watches are apart.
        let mut graph = completed_job();
        graph.delete("migrate-a");
        let sent = upserted(&graph.diffs());
        assert_eq!(sent["migrate-a"].status, Status::Success, "{sent:?}");
        assert_eq!(
            sent["migrate-a"].message,
            "Completed; removed after it succeeded"
        );
        graph.delete("migrate");
        let sent = upserted(&graph.diffs());
        assert_eq!(
            sent["migrate"].message,
            "Job 1/1 completed; removed after it succeeded"
        );
    }

    #[test]
    fn a_job_that_goes_while_its_root_stays_takes_its_removed_pods_along() {
        // A CronJob's old Job, deleted by its history limit: its pod may be seen deleted
        // first, and both leave the tree whichever comes first.
        for pod_first in [true, false] {
            let mut graph = Graph::new(vec![key("CronJob", "nightly")]);
            let cron = node("CronJob", "nightly", None, None);
            graph.upsert(0, with_status(cron, Status::Success, "Scheduled"));
            let job = node("Job", "migrate", Some("nightly"), None);
            graph.upsert(1, with_status(job, Status::Success, "Job 1/1 completed"));
            let mut pod = node("Pod", "migrate-a", Some("migrate"), None);
            pod.finished = true;
            graph.upsert(2, with_status(pod, Status::Success, "Completed"));
            graph.diffs();
            let order = if pod_first {
                ["migrate-a", "migrate"]
            } else {
                ["migrate", "migrate-a"]
            };
            for uid in order {
                graph.delete(uid);
            }
            let mut diffs = graph.diffs();
            diffs.sort_by_key(|d| format!("{d:?}"));
            assert_eq!(
                diffs,
                [
                    Diff::Remove(key("Job", "migrate")),
                    Diff::Remove(key("Pod", "migrate-a"))
                ],
                "pod first: {pod_first}"
            );
            assert_eq!(graph.nodes.len(), 1, "only the CronJob is left");
        }
    }

    #[test]
    fn a_root_deleted_before_it_succeeded_is_gone_and_so_is_one_that_failed_since() {
        let mut graph = Graph::new(vec![key("Job", "migrate"), key("Pod", "debug")]);
        graph.upsert(0, node("Job", "migrate", None, None));
        let pod = node("Pod", "debug", None, None);
        graph.upsert(1, with_status(pod.clone(), Status::Success, "Running"));
        graph.upsert(1, with_status(pod, Status::Failed, "app: CrashLoopBackOff"));
        graph.diffs();
        graph.delete("migrate");
        graph.delete("debug");
        let mut diffs = graph.diffs();
        diffs.sort_by_key(|d| format!("{d:?}"));
        assert_eq!(
            diffs,
            [
                Diff::Remove(key("Job", "migrate")),
                Diff::Remove(key("Pod", "debug"))
            ]
        );
    }

    #[test]
    fn a_ready_pod_deleted_under_a_root_that_stays_leaves_the_tree() {
        let mut graph = Graph::new(vec![key("ReplicaSet", "web")]);
        let rs = node("ReplicaSet", "web", None, None);
        graph.upsert(0, with_status(rs, Status::Success, "1/1 ready"));
        let pod = node("Pod", "web-a", Some("web"), None);
        graph.upsert(1, with_status(pod, Status::Success, "Running"));
        graph.diffs();
        graph.delete("web-a");
        assert_eq!(graph.diffs(), [Diff::Remove(key("Pod", "web-a"))]);
    }

    #[test]
    fn a_new_object_under_a_removed_name_takes_its_row() {
        let mut graph = completed_job();
        graph.delete("migrate");
        graph.delete("migrate-a");
        graph.diffs();
        let mut again = node("Job", "migrate", None, None);
        again.object.uid = "migrate-2".into();
        graph.upsert(0, again);
        let diffs = graph.diffs();
        assert!(
            diffs.contains(&Diff::Remove(key("Pod", "migrate-a"))),
            "{diffs:?}"
        );
        let sent = upserted(&diffs);
        assert_eq!(sent["migrate"].uid, "migrate-2");
        assert_eq!(sent["migrate"].status, Status::InProgress);
        assert!(graph.nodes.len() == 1, "the removed pod is forgotten too");
    }

    #[test]
    fn a_releases_objects_hang_under_it_and_a_hook_that_ran_starts_as_its_success() {
        let release = key("HelmRelease", "site");
        let member = |hook: Option<Hook>| Member {
            parent: release.clone(),
            hook,
        };
        let ran = Hook {
            label: "pre-upgrade hook".into(),
            succeeded: true,
        };
        let mut graph = Graph::new(vec![
            release.clone(),
            key("Deployment", "web"),
            key("Job", "migrate"),
        ])
        .with_members(HashMap::from([
            (key("Deployment", "web"), member(None)),
            (key("Job", "migrate"), member(Some(ran))),
        ]));
        graph.upsert(0, node("HelmRelease", "site", None, None));
        graph.upsert(1, node("Deployment", "web", None, None));
        graph.upsert(1, node("ReplicaSet", "web-1", Some("web"), None));
        let sent = upserted(&graph.diffs());
        assert_eq!(sent["web-1"].owner, Some(key("Deployment", "web")));
        assert_eq!(sent["site"].owner, None);
        for name in ["web", "migrate"] {
            let object = &sent[name];
            assert_eq!(object.owner.as_ref(), Some(&release), "{object:?}");
            assert!(object.applied, "a root all the same: {object:?}");
        }
        let hook = &sent["migrate"];
        assert_eq!(hook.status, Status::Success);
        assert_eq!(
            hook.message,
            "pre-upgrade hook: its last run succeeded; removed after it succeeded"
        );
        // Its object, seen (kept by a `before-hook-creation` policy), takes the row.
        let mut job = node("Job", "migrate", None, None);
        job.object.uid = "migrate-uid".into();
        job.object.message = "Job 0/1 completed".into();
        graph.upsert(1, job);
        let sent = upserted(&graph.diffs());
        assert_eq!(sent["migrate"].uid, "migrate-uid");
        assert_eq!(sent["migrate"].status, Status::InProgress);
        assert_eq!(
            sent["migrate"].message,
            "pre-upgrade hook: Job 0/1 completed"
        );
    }

    /// The tracked objects by a full walk down from the roots: what the incremental
    /// [`Graph::diffs`] must add up to.
    fn full_walk(graph: &Graph) -> HashMap<ObjectKey, TrackedObject> {
        let mut children: HashMap<&str, Vec<&Node>> = HashMap::new();
        for (_, node) in graph.nodes.values() {
            if let Some(owner) = &node.owner_uid {
                children.entry(owner.as_str()).or_default().push(node);
            }
        }
        let mut tracked = HashMap::new();
        let mut queue: std::collections::VecDeque<(&Node, Option<&Node>, bool, bool)> = graph
            .nodes
            .values()
            .filter(|(_, node)| graph.roots.contains(&node.object.key))
            .map(|(_, node)| {
                let (counted, _) = graph.counting(&node.object.key);
                (node, None, counted, graph.leaving(node))
            })
            .collect();
        while let Some((node, parent, counted, root_leaving)) = queue.pop_front() {
            if tracked.contains_key(&node.object.key) {
                continue;
            }
            let place = Place {
                owner: parent.map(|p| p.object.key.clone()),
                counted,
                root_leaving,
            };
            let removed = graph.is_removed(&node.object.uid);
            let object = present(node, place, removed, graph);
            tracked.insert(object.key.clone(), object);
            let kids = children.get(node.object.uid.as_str());
            let newest = kids.and_then(|kids| newest_job(kids));
            // Below the first level, `counted` already carries the root's rule.
            let descendants = parent.is_some() || graph.counting(&node.object.key).1;
            for child in kids.into_iter().flatten() {
                let counted = counted && descendants && counts(node, child, newest, &graph.routes);
                queue.push_back((child, Some(node), counted, root_leaving));
            }
        }
        tracked
    }

    /// One change the watches may bring: (object index, owner index, revision, flags,
    /// status), or a delete.
    #[derive(Debug, Clone)]
    enum Change {
        Upsert(usize, usize, u8, u8, bool),
        Delete(usize),
        Diffs,
    }

    /// Deployment and `CronJob` roots, their `ReplicaSets` and Jobs, and pods under any of them.
    const OBJECTS: [(&str, &str, &[&str]); 8] = [
        ("Deployment", "web", &[]),
        ("CronJob", "cron", &[]),
        ("ReplicaSet", "rs-a", &["web", "cron"]),
        ("ReplicaSet", "rs-b", &["web"]),
        ("Job", "job-a", &["cron", "web"]),
        ("Job", "job-b", &["cron"]),
        ("Pod", "pod-0", &["rs-a", "rs-b", "job-a", "job-b", "ghost"]),
        ("Pod", "pod-1", &["rs-a", "rs-b", "job-a", "job-b", "pod-0"]),
    ];

    fn change() -> impl proptest::strategy::Strategy<Value = Change> {
        use proptest::prelude::*;
        prop_oneof![
            6 => (0..OBJECTS.len(), 0..6usize, 0..3u8, 0..4u8, any::<bool>())
                .prop_map(|(o, w, r, f, s)| Change::Upsert(o, w, r, f, s)),
            1 => (0..OBJECTS.len()).prop_map(Change::Delete),
            2 => Just(Change::Diffs),
        ]
    }

    fn changed_node(object: usize, owner: usize, revision: u8, flags: u8, ready: bool) -> Node {
        let (kind, name, owners) = OBJECTS[object];
        let owner = (!owners.is_empty()).then(|| owners[owner % owners.len()]);
        let revision = revision.to_string();
        let mut node = node(kind, name, owner, (revision != "0").then_some(&*revision));
        node.terminating = flags & 1 == 1;
        node.finished = flags & 2 == 2;
        node.object.created = format!("2026-01-01T00:0{}:00Z", (object + usize::from(flags)) % 3);
        node.object.status = if ready {
            Status::Success
        } else {
            Status::InProgress
        };
        node
    }

    proptest::proptest! {
        #[test]
        fn incremental_diffs_add_up_to_a_full_walk(changes in proptest::collection::vec(change(), 1..40)) {
            let mut graph = Graph::new(vec![key("Deployment", "web"), key("CronJob", "cron")]);
            let mut front: HashMap<ObjectKey, TrackedObject> = HashMap::new();
            let apply = |diffs: Vec<Diff>, front: &mut HashMap<ObjectKey, TrackedObject>| {
                for diff in diffs {
                    match diff {
                        Diff::Upsert(object) => { front.insert(object.key.clone(), *object); }
                        Diff::Remove(key) => { front.remove(&key); }
                        Diff::Events(..) | Diff::Held(_) | Diff::Released(..) => {}
                    }
                }
            };
            for change in changes {
                match change {
                    Change::Upsert(o, w, r, f, s) => graph.upsert(0, changed_node(o, w, r, f, s)),
                    Change::Delete(o) => graph.delete(OBJECTS[o].1),
                    Change::Diffs => apply(graph.diffs(), &mut front),
                }
            }
            apply(graph.diffs(), &mut front);
            proptest::prop_assert_eq!(front, full_walk(&graph));
        }
    }

    #[test]
    fn events_go_once_tracked_and_again_only_when_they_change() {
        let mut graph = Graph::new(vec![key("ReplicaSet", "web")]);
        graph.upsert(0, node("ReplicaSet", "web", None, None));
        let pulled = EventRow {
            reason: "Pulled".into(),
            ..EventRow::default()
        };
        // Before its pod is tracked, and for a tracked object with none: nothing to send.
        graph.record_event(key("Pod", "web-a"), "e1".into(), pulled.clone());
        let events = |diffs: &[Diff]| -> Vec<Diff> {
            diffs
                .iter()
                .filter(|d| matches!(d, Diff::Events(..)))
                .cloned()
                .collect()
        };
        assert_eq!(events(&graph.diffs()), []);
        graph.upsert(1, node("Pod", "web-a", Some("web"), None));
        let sent = vec![pulled.clone()];
        assert_eq!(
            events(&graph.diffs()),
            [Diff::Events(key("Pod", "web-a"), sent.clone())]
        );
        // The same Event again (a relist lists it again): nothing new.
        graph.record_event(key("Pod", "web-a"), "e1".into(), pulled.clone());
        assert_eq!(graph.diffs(), []);
        // Untracked and tracked again: its Events go again.
        graph.delete("web-a");
        graph.diffs();
        graph.upsert(1, node("Pod", "web-a", Some("web"), None));
        graph.record_event(key("Pod", "web-a"), "e1".into(), pulled);
        assert_eq!(
            events(&graph.diffs()),
            [Diff::Events(key("Pod", "web-a"), sent)]
        );
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
