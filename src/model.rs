//! The tracked world: what the front ends (ui, plain, json) read.
//!
//! The watch actor owns the cluster side and sends [`Diff`]s; whoever drives a front end
//! owns one [`World`] and applies them. Rows are small summaries, never whole Kubernetes
//! objects, so that 5 000 pods stay cheap and Secret data can never reach a view.

use crate::status::{Condition, ContainerRow, Counts, Status};
use crate::tracker::{Overrides, RootState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Identity of an object: kind, namespace (none when cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectKey {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectKey {
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> Self {
        ObjectKey {
            kind: kind.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// `Kind/name`, the form of the JSON report's `owner` field and of `kos watch` args.
    pub fn kind_name(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// `Kind namespace/name`, or `Kind name` when cluster-scoped.
impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One Kubernetes Event about an object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventRow {
    /// `Normal` or `Warning`.
    pub type_: String,
    pub reason: String,
    pub message: String,
    pub count: u32,
    /// RFC 3339 time of the last occurrence, as the API gave it.
    pub last_seen: String,
}

/// One tracked object: a root the user applied or named, or a descendant of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedObject {
    pub key: ObjectKey,
    pub api_version: String,
    pub uid: String,
    pub status: Status,
    pub message: String,
    pub counts: Option<Counts>,
    /// The controlling owner, when it is tracked too.
    pub owner: Option<ObjectKey>,
    /// Applied (or named) by the user: a root of the tree.
    pub applied: bool,
    /// Counts toward the verdict. False for old revisions (older `ReplicaSets` and their pods).
    pub counted: bool,
    pub conditions: Vec<Condition>,
    pub containers: Vec<ContainerRow>,
    /// `metadata.creationTimestamp` by the cluster's clock (RFC 3339), empty when unknown.
    pub created: String,
}

impl TrackedObject {
    /// A root as kos shows it before, or without, the cluster's object (one held back, a
    /// hook already deleted): counted, with no counts, conditions or containers.
    pub fn root(
        key: ObjectKey,
        api_version: String,
        uid: String,
        status: Status,
        message: String,
    ) -> Self {
        TrackedObject {
            key,
            api_version,
            uid,
            status,
            message,
            counts: None,
            owner: None,
            applied: true,
            counted: true,
            conditions: Vec::new(),
            containers: Vec::new(),
            created: String::new(),
        }
    }
}

#[cfg(test)]
impl TrackedObject {
    /// An object for tests: a root when it has no owner, counted, its uid its name, with
    /// no message, counts, conditions or containers.
    pub(crate) fn for_test(key: ObjectKey, status: Status, owner: Option<&ObjectKey>) -> Self {
        TrackedObject {
            uid: key.name.clone(),
            key,
            api_version: "v1".into(),
            status,
            message: String::new(),
            counts: None,
            owner: owner.cloned(),
            applied: owner.is_none(),
            counted: true,
            conditions: Vec::new(),
            containers: Vec::new(),
            created: String::new(),
        }
    }
}

/// A change to the world, as the watch actor sends it.
#[derive(Debug, Clone, PartialEq)]
pub enum Diff {
    /// The object is new or changed.
    Upsert(Box<TrackedObject>),
    /// A root was expected but is not in the cluster (status `missing`), or a descendant
    /// is gone.
    Remove(ObjectKey),
    /// The latest Events of an object, newest last.
    Events(ObjectKey, Vec<EventRow>),
    /// A root that kos holds back (not applied yet), as a row saying why: it is shown, and
    /// judged, in its place until [`Diff::Released`].
    Held(Box<TrackedObject>),
    /// A held root was applied: its row stays until the watch reports the object, with this
    /// message.
    Released(ObjectKey, String),
}

impl Diff {
    /// The object the diff is about.
    pub fn key(&self) -> &ObjectKey {
        match self {
            Diff::Upsert(object) | Diff::Held(object) => &object.key,
            Diff::Remove(key) | Diff::Events(key, _) | Diff::Released(key, _) => key,
        }
    }
}

/// A root held back, as the world shows it.
#[derive(Debug, Clone, PartialEq)]
struct Hold {
    row: TrackedObject,
    /// Applied: the next row the watch sends of it replaces this one.
    released: bool,
}

/// The whole tracked state, keyed by object, with the roots in input order.
///
/// Change `objects` only through [`World::apply`]: it keeps the counts that make
/// [`World::raw_state`] cost nothing per diff at 5 000 pods.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub objects: BTreeMap<ObjectKey, TrackedObject>,
    pub events: BTreeMap<ObjectKey, Vec<EventRow>>,
    /// The roots, in the order the user gave them. A root absent from `objects` is missing.
    pub roots: Vec<ObjectKey>,
    /// The roots whose `kos.dev/` annotations change how they count (none: every root
    /// counts as README.md's "How the verdict is reached" says).
    pub overrides: BTreeMap<ObjectKey, Overrides>,
    /// The roots shown under another root (the objects of a Helm release under it), with
    /// that root; present or missing, they are listed there rather than at the top.
    pub parents: BTreeMap<ObjectKey, ObjectKey>,
    /// The roots held back, shown instead of what the watch reports of them.
    held: BTreeMap<ObjectKey, Hold>,
    /// Counted objects that failed.
    failed: usize,
    /// Counted descendants in progress.
    busy: usize,
}

/// What one object adds to the world's (failed, busy) counts.
fn weight(object: &TrackedObject) -> (usize, usize) {
    let failed = object.counted && object.status == Status::Failed;
    let busy = object.counted && !object.applied && object.status == Status::InProgress;
    (usize::from(failed), usize::from(busy))
}

impl World {
    /// A world that expects `roots`, in this order.
    pub fn new(roots: Vec<ObjectKey>) -> Self {
        World {
            roots,
            ..World::default()
        }
    }

    /// Applies one diff; returns whether anything changed.
    pub fn apply(&mut self, diff: Diff) -> bool {
        match diff {
            Diff::Upsert(object) => {
                let object = *object;
                let released = self.held.get(&object.key).is_some_and(|h| h.released);
                if released {
                    self.held.remove(&object.key);
                } else if self.objects.get(&object.key) == Some(&object) {
                    return false;
                }
                self.count(&object, true);
                if let Some(old) = self.objects.insert(object.key.clone(), object) {
                    self.count(&old, false);
                }
                true
            }
            Diff::Remove(key) => {
                self.events.remove(&key);
                let old = self.objects.remove(&key);
                if let Some(old) = &old {
                    self.count(old, false);
                }
                old.is_some()
            }
            Diff::Events(key, events) => {
                if self.events.get(&key) == Some(&events) {
                    return false;
                }
                self.events.insert(key, events);
                true
            }
            Diff::Held(row) => {
                let hold = Hold {
                    row: *row,
                    released: false,
                };
                let old = self.held.insert(hold.row.key.clone(), hold.clone());
                old.as_ref() != Some(&hold)
            }
            Diff::Released(key, message) => {
                if self.objects.contains_key(&key) {
                    return self.held.remove(&key).is_some();
                }
                let Some(hold) = self.held.get_mut(&key) else {
                    return false;
                };
                hold.row.message = message;
                hold.released = true;
                true
            }
        }
    }

    /// What the world shows of `key`: its row held back, or the one the watch reported.
    pub fn object(&self, key: &ObjectKey) -> Option<&TrackedObject> {
        self.held
            .get(key)
            .map(|hold| &hold.row)
            .or_else(|| self.objects.get(key))
    }

    /// Whether a root is still held back: nothing is decided while one is.
    pub fn holds(&self) -> bool {
        !self.held.is_empty()
    }

    /// Adds (or takes away) what `object` weighs in the counts.
    fn count(&mut self, object: &TrackedObject, add: bool) {
        let (failed, busy) = weight(object);
        if add {
            self.failed += failed;
            self.busy += busy;
        } else {
            self.failed -= failed;
            self.busy -= busy;
        }
    }

    /// The namespaces the roots live in, sorted, each once. Descendants live in their
    /// owner's namespace, so these are where every tracked object lives.
    pub fn namespaces(&self) -> Vec<&str> {
        let mut namespaces: Vec<&str> = self
            .roots
            .iter()
            .filter_map(|root| root.namespace.as_deref())
            .collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        namespaces
    }

    /// The tracked children of `key`, ordered by kind and name.
    pub fn children<'a>(&'a self, key: &'a ObjectKey) -> impl Iterator<Item = &'a TrackedObject> {
        self.objects
            .values()
            .filter(move |o| o.owner.as_ref() == Some(key))
    }

    /// The raw state the tracker judges (README.md, "How the verdict is reached"): `failed` if any counted object failed,
    /// `success` if every root succeeded and no counted descendant is failed or in progress,
    /// else `in_progress`.
    pub fn raw_state(&self) -> Status {
        if self.failed > 0 {
            return Status::Failed;
        }
        if self.holds() {
            return Status::InProgress;
        }
        let roots_done = self.roots.iter().all(|root| {
            self.objects
                .get(root)
                .is_some_and(|o| o.status == Status::Success)
        });
        if roots_done && self.busy == 0 {
            Status::Success
        } else {
            Status::InProgress
        }
    }

    /// Each root with its own status, the raw state of its subtree (itself and its counted
    /// descendants) and its overrides, in input order. One walk over every object: the
    /// tracker asks for it only when some root carries overrides.
    pub fn root_states(&self) -> Vec<RootState> {
        // (failed, busy) counted descendants under each root.
        let mut under: BTreeMap<&ObjectKey, (usize, usize)> = BTreeMap::new();
        for object in self.objects.values().filter(|o| !o.applied) {
            let (failed, busy) = weight(object);
            if failed + busy == 0 {
                continue;
            }
            if let Some(root) = self.root_of(object) {
                let entry = under.entry(root).or_default();
                entry.0 += failed;
                entry.1 += busy;
            }
        }
        let failures = self.failures_by_root();
        self.roots
            .iter()
            .map(|key| {
                let own = self.object(key).map(|o| o.status);
                let (failed, busy) = under.get(key).copied().unwrap_or_default();
                let overrides = self.overrides.get(key).copied().unwrap_or_default();
                let failures = failures.get(key).copied().unwrap_or_default();
                // Within its allowance, a failing descendant is waited out like a busy one.
                let (failed, busy) = match overrides.allowed_failures {
                    Some(allowed) if failures > allowed => (failed.max(1), busy),
                    Some(_) => (0, busy + failed),
                    None => (failed, busy),
                };
                let tree = match own {
                    _ if failed > 0 => Status::Failed,
                    Some(Status::Failed) => Status::Failed,
                    Some(Status::Success) if busy == 0 => Status::Success,
                    _ => Status::InProgress,
                };
                RootState {
                    key: key.clone(),
                    own,
                    tree,
                    overrides,
                }
            })
            .collect()
    }

    /// The roots whose failures exceed their `kos.dev/allowed-failures`, with (failures,
    /// allowed): each fails whatever its objects show now.
    pub fn over_allowance(&self) -> BTreeMap<&ObjectKey, (u32, u32)> {
        self.failures_by_root()
            .into_iter()
            .filter_map(|(root, failures)| {
                let allowed = self.overrides.get(root)?.allowed_failures?;
                (failures > allowed).then_some((root, (failures, allowed)))
            })
            .collect()
    }

    /// The failures (README.md, "Per-object overrides") of each root that has an
    /// allowance: the most any one pod under it shows (its restarts, at least one while it
    /// is failing) or any one Job under it has (its failed pods).
    fn failures_by_root(&self) -> BTreeMap<&ObjectKey, u32> {
        let mut most: BTreeMap<&ObjectKey, u32> = BTreeMap::new();
        if self
            .overrides
            .values()
            .all(|o| o.allowed_failures.is_none())
        {
            return most;
        }
        let mut failed_pods: BTreeMap<&ObjectKey, u32> = BTreeMap::new();
        for pod in self.objects.values().filter(|o| o.key.kind == "Pod") {
            let job = pod.owner.as_ref().filter(|owner| owner.kind == "Job");
            // A finished Job pod no longer counts, but it is one of its Job's failures.
            if !pod.counted && job.is_none() {
                continue;
            }
            let failing = pod.status == Status::Failed;
            if let Some(job) = job.filter(|_| failing) {
                *failed_pods.entry(job).or_default() += 1;
            }
            let restarts: u32 = pod.containers.iter().map(|c| c.restarts).sum();
            let failures = restarts.max(u32::from(failing));
            if let Some(root) = self.root_of(pod).or(pod.applied.then_some(&pod.key)) {
                let entry = most.entry(root).or_default();
                *entry = (*entry).max(failures);
            }
        }
        for (job, failed) in failed_pods {
            let root = match self.objects.get(job) {
                Some(object) if !object.applied => self.root_of(object),
                _ => Some(job),
            };
            if let Some(root) = root {
                let entry = most.entry(root).or_default();
                *entry = (*entry).max(failed);
            }
        }
        most
    }

    /// The root above `object`, up its owners; `None` when the chain breaks (an owner not
    /// seen yet).
    fn root_of<'a>(&'a self, mut object: &'a TrackedObject) -> Option<&'a ObjectKey> {
        // Owner chains are a few levels deep (CronJob → Job → Pod); the bound (the graph's
        // own) guards against cycles.
        for _ in 0..32 {
            let owner = object.owner.as_ref()?;
            match self.objects.get(owner) {
                Some(parent) if !parent.applied => object = parent,
                _ => return Some(owner),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, name: &str, status: Status, owner: Option<&ObjectKey>) -> TrackedObject {
        TrackedObject::for_test(ObjectKey::new(kind, Some("ns"), name), status, owner)
    }

    #[test]
    fn raw_state_follows_design_section_4() {
        let root = ObjectKey::new("Deployment", Some("ns"), "web");
        let mut world = World::new(vec![root.clone()]);
        assert_eq!(
            world.raw_state(),
            Status::InProgress,
            "a missing root is not success"
        );

        world.apply(Diff::Upsert(Box::new(object(
            "Deployment",
            "web",
            Status::Success,
            None,
        ))));
        assert_eq!(world.raw_state(), Status::Success);

        let mut pod = object("Pod", "web-1", Status::InProgress, Some(&root));
        world.apply(Diff::Upsert(Box::new(pod.clone())));
        assert_eq!(
            world.raw_state(),
            Status::InProgress,
            "a busy counted child holds success"
        );

        pod.counted = false;
        world.apply(Diff::Upsert(Box::new(pod.clone())));
        assert_eq!(
            world.raw_state(),
            Status::Success,
            "old revisions do not count"
        );

        pod.counted = true;
        pod.status = Status::Failed;
        world.apply(Diff::Upsert(Box::new(pod)));
        assert_eq!(world.raw_state(), Status::Failed);
        assert_eq!(world.children(&root).count(), 1);
    }

    #[test]
    fn root_states_judge_each_root_with_its_own_descendants() {
        let web = ObjectKey::new("Deployment", Some("ns"), "web");
        let job = ObjectKey::new("Job", Some("ns"), "job");
        let lb = ObjectKey::new("Service", Some("ns"), "lb");
        let mut world = World::new(vec![web.clone(), job.clone(), lb.clone()]);
        let rs = ObjectKey::new("ReplicaSet", Some("ns"), "web-1");
        for object in [
            object("Deployment", "web", Status::Success, None),
            object("ReplicaSet", "web-1", Status::Success, Some(&web)),
            object("Pod", "web-1-a", Status::InProgress, Some(&rs)),
            object("Job", "job", Status::InProgress, None),
            object("Pod", "job-a", Status::Failed, Some(&job)),
        ] {
            world.apply(Diff::Upsert(Box::new(object)));
        }
        let states: Vec<(Option<Status>, Status)> = world
            .root_states()
            .into_iter()
            .map(|root| (root.own, root.tree))
            .collect();
        assert_eq!(
            states,
            [
                (Some(Status::Success), Status::InProgress),
                (Some(Status::InProgress), Status::Failed),
                (None, Status::InProgress),
            ]
        );
    }

    /// A pod under `owner` with `restarts` restarts of its one container.
    fn restarted(name: &str, status: Status, restarts: u32, owner: &ObjectKey) -> TrackedObject {
        let mut pod = object("Pod", name, status, Some(owner));
        pod.containers = vec![ContainerRow {
            name: "app".into(),
            restarts,
            ..ContainerRow::default()
        }];
        pod
    }

    /// The tree status of `world`'s only root.
    fn tree(world: &World) -> Status {
        world.root_states()[0].tree
    }

    #[test]
    fn failures_within_the_allowance_are_waited_out_and_beyond_it_fail_the_root() {
        let web = ObjectKey::new("Deployment", Some("ns"), "web");
        let rs = ObjectKey::new("ReplicaSet", Some("ns"), "web-1");
        let mut world = World::new(vec![web.clone()]);
        world.overrides.insert(
            web.clone(),
            Overrides {
                allowed_failures: Some(2),
                ..Overrides::default()
            },
        );
        world.apply(Diff::Upsert(Box::new(object(
            "Deployment",
            "web",
            Status::InProgress,
            None,
        ))));
        world.apply(Diff::Upsert(Box::new(object(
            "ReplicaSet",
            "web-1",
            Status::InProgress,
            Some(&web),
        ))));
        // Failing without a restart (an image not pulled yet) is one failure.
        for (status, restarts, expected) in [
            (Status::Failed, 0, Status::InProgress),
            (Status::Failed, 2, Status::InProgress),
            (Status::InProgress, 2, Status::InProgress),
            (Status::Failed, 3, Status::Failed),
            // Once beyond, a pod that recovered does not undo it.
            (Status::Success, 3, Status::Failed),
        ] {
            world.apply(Diff::Upsert(Box::new(restarted(
                "web-1-a", status, restarts, &rs,
            ))));
            assert_eq!(
                tree(&world),
                expected,
                "{status:?} after {restarts} restarts"
            );
        }
        assert_eq!(world.over_allowance().get(&web), Some(&(3, 2)));

        // The allowance is per pod: two pods that each restarted twice are within it.
        world.apply(Diff::Upsert(Box::new(restarted(
            "web-1-a",
            Status::Success,
            2,
            &rs,
        ))));
        world.apply(Diff::Upsert(Box::new(restarted(
            "web-1-b",
            Status::Failed,
            2,
            &rs,
        ))));
        assert_eq!(tree(&world), Status::InProgress);
        assert!(world.over_allowance().is_empty());

        // Without an allowance, a failing pod fails the root as it shows.
        world.overrides.clear();
        assert_eq!(world.root_states()[0].tree, Status::Failed);
    }

    #[test]
    fn a_jobs_failed_pods_count_against_its_allowance_after_they_finished() {
        let job = ObjectKey::new("Job", Some("ns"), "migrate");
        let mut world = World::new(vec![job.clone()]);
        world.overrides.insert(
            job.clone(),
            Overrides {
                allowed_failures: Some(1),
                ..Overrides::default()
            },
        );
        world.apply(Diff::Upsert(Box::new(object(
            "Job",
            "migrate",
            Status::InProgress,
            None,
        ))));
        let mut finished = object("Pod", "migrate-a", Status::Failed, Some(&job));
        finished.counted = false;
        world.apply(Diff::Upsert(Box::new(finished.clone())));
        assert_eq!(
            tree(&world),
            Status::InProgress,
            "one failed pod is allowed"
        );
        finished.key.name = "migrate-b".into();
        world.apply(Diff::Upsert(Box::new(finished)));
        assert_eq!(tree(&world), Status::Failed, "the second one is not");
        assert_eq!(world.over_allowance().get(&job), Some(&(2, 1)));
    }

    #[test]
    fn namespaces_are_those_of_the_roots_each_once() {
        let world = World::new(vec![
            ObjectKey::new("Namespace", None, "b"),
            ObjectKey::new("RoleBinding", Some("b"), "reader"),
            ObjectKey::new("RoleBinding", Some("a"), "reader"),
            ObjectKey::new("Deployment", Some("b"), "web"),
        ]);
        assert_eq!(world.namespaces(), ["a", "b"]);
        assert!(
            World::new(vec![ObjectKey::new("Namespace", None, "a")])
                .namespaces()
                .is_empty()
        );
    }

    #[test]
    fn a_held_root_shows_why_and_holds_the_verdict_until_the_watch_sees_it_applied() {
        let issuer = ObjectKey::new("Issuer", Some("ns"), "selfsigned");
        let web = ObjectKey::new("Deployment", Some("ns"), "web");
        let mut world = World::new(vec![web.clone(), issuer.clone()]);
        world.apply(Diff::Upsert(Box::new(object(
            "Deployment",
            "web",
            Status::Success,
            None,
        ))));
        let mut row = object("Issuer", "selfsigned", Status::InProgress, None);
        row.message = "waiting for webhook w: Service ns/w has no ready endpoints".into();
        assert!(world.apply(Diff::Held(Box::new(row.clone()))));
        assert!(!world.apply(Diff::Held(Box::new(row.clone()))), "no change");
        assert_eq!(
            world.object(&issuer).map(|o| o.message.as_str()),
            Some(row.message.as_str())
        );
        assert_eq!(world.raw_state(), Status::InProgress);
        let own: Vec<Option<Status>> = world.root_states().iter().map(|r| r.own).collect();
        assert_eq!(own, [Some(Status::Success), Some(Status::InProgress)]);

        // An older object of the same name does not end the wait.
        let ready = object("Issuer", "selfsigned", Status::Success, None);
        world.apply(Diff::Upsert(Box::new(ready.clone())));
        assert_eq!(world.raw_state(), Status::InProgress);
        assert_eq!(world.object(&issuer), Some(&row));

        // Applied: the next row the watch sends replaces the held one.
        let mut fresh = World::new(vec![issuer.clone()]);
        fresh.apply(Diff::Held(Box::new(row)));
        assert!(fresh.apply(Diff::Released(issuer.clone(), "created".into())));
        assert_eq!(
            fresh.object(&issuer).map(|o| o.message.as_str()),
            Some("created")
        );
        assert_eq!(fresh.raw_state(), Status::InProgress);
        fresh.apply(Diff::Upsert(Box::new(ready.clone())));
        assert_eq!(fresh.object(&issuer), Some(&ready));
        assert_eq!(fresh.raw_state(), Status::Success);

        // Applied while the watch already shows it: released at once.
        assert!(world.apply(Diff::Released(issuer.clone(), "configured".into())));
        assert_eq!(world.object(&issuer), Some(&ready));
        assert_eq!(world.raw_state(), Status::Success);
    }

    #[test]
    fn apply_reports_whether_anything_changed() {
        let mut world = World::default();
        let pod = object("Pod", "p", Status::Success, None);
        assert!(world.apply(Diff::Upsert(Box::new(pod.clone()))));
        assert!(!world.apply(Diff::Upsert(Box::new(pod.clone()))));
        assert!(world.apply(Diff::Remove(pod.key.clone())));
        assert!(!world.apply(Diff::Remove(pod.key)));
    }
}
