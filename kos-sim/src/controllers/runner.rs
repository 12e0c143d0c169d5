//! The loop every controller runs: keep its objects and their children (indexed by the
//! controlling owner's uid) in memory from the store's change feed, and reconcile each
//! object that changed, or whose children changed, or whose requested re-check came due.
//!
//! Per change the work is small: one map update and one reconcile of the owner, never a
//! relist. Changes that arrive together are batched, so an object is reconciled once per
//! batch. A lagged feed is recovered from a fresh list. The runner knows nothing of what
//! a controller does; controllers know nothing of the feed.

use crate::clock::Clock;
use crate::controllers::events::Recorder;
use crate::controllers::objects::{controller_uid, name, namespace, uid};
use crate::store::{Event, EventType, Object, Store};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

/// Namespace and name.
pub type Key = (String, String);

/// The longest an object waits between two reconciles when it has changes.
const MAX_THROTTLE: Duration = Duration::from_millis(100);

/// What every controller works with.
#[derive(Clone)]
pub struct Ctx {
    pub store: Arc<Store>,
    pub clock: Clock,
    pub events: Recorder,
    /// When the simulation started, in real and in wall-clock time.
    started: (Instant, chrono::DateTime<chrono::Utc>),
}

impl Ctx {
    pub fn new(store: Arc<Store>, clock: Clock) -> Self {
        Ctx {
            events: Recorder::new(store.clone()),
            store,
            clock,
            started: (Instant::now(), chrono::Utc::now()),
        }
    }

    /// Simulated time: the wall-clock time at the start, plus the real time since then
    /// scaled by the clock's speed. Schedules (CronJob) run on it.
    pub fn sim_now(&self) -> chrono::DateTime<chrono::Utc> {
        let elapsed = self.started.0.elapsed().mul_f64(self.clock.speed());
        self.started.1 + chrono::Duration::from_std(elapsed).unwrap_or_default()
    }
}

/// What a reconcile wrote (so the in-memory view does not lag behind its own writes) and
/// when it wants to look again.
#[derive(Default)]
pub struct Outcome {
    /// Children created or changed, as the store returned them.
    pub written: Vec<Object>,
    /// Children removed for good, as the store returned them.
    pub removed: Vec<Object>,
    /// Reconcile again after this much simulated time, even if nothing changes.
    pub requeue: Option<Duration>,
}

impl Outcome {
    /// Asks for a re-check after `after`, keeping the earliest of several requests.
    pub fn requeue(&mut self, after: Duration) {
        self.requeue = Some(self.requeue.map_or(after, |d| d.min(after)));
    }
}

/// One controller: the resource it reconciles and the one it owns.
pub trait Controller: Send + 'static {
    /// The resource reconciled, e.g. `replicasets.apps`.
    const PRIMARY: &'static str;
    /// The resource of the children, indexed by their controller's uid.
    const CHILD: Option<&'static str>;

    /// Brings the world toward `object`'s spec and writes its status. `children` are the
    /// objects of [`Controller::CHILD`] it controls, ordered by name.
    fn reconcile(&mut self, ctx: &Ctx, object: &Object, children: &[Object]) -> Outcome;

    /// The object is gone: forget whatever was kept about it.
    fn forget(&mut self, _object: &Object) {}

    /// The object was deleted (seen as it happened, not found missing by a resync): clean
    /// up what it leaves behind without owning it.
    fn deleted(&mut self, _ctx: &Ctx, _object: &Object) {}

    /// Other resources whose objects matter to this controller's without being their
    /// children (the pods a Service selects): each of their changes goes to
    /// [`Controller::observe`].
    const WATCHES: &'static [&'static str] = &[];

    /// An object of [`Controller::WATCHES`] changed (`gone`: it was deleted); returns the
    /// keys of the objects to reconcile again for it. On a resync every watched object is
    /// observed again after [`Controller::reset`].
    fn observe(&mut self, _resource: &str, _object: &Object, _gone: bool) -> Vec<Key> {
        Vec::new()
    }

    /// Forget every watched object: a fresh list follows.
    fn reset(&mut self) {}
}

/// The in-memory view: primaries by key, children by owner uid.
#[derive(Default)]
struct View {
    primaries: HashMap<Key, Object>,
    by_uid: HashMap<String, Key>,
    children: HashMap<String, BTreeMap<String, Object>>,
    /// Child (namespace, name) → owner uid, to move or drop it.
    owner_of: HashMap<Key, String>,
    dirty: HashSet<Key>,
    /// When each primary was last reconciled.
    last: HashMap<Key, Instant>,
}

fn revision(object: &Object) -> u64 {
    object["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn key_of(object: &Object) -> Key {
    (namespace(object).to_owned(), name(object).to_owned())
}

impl View {
    fn upsert_primary(&mut self, object: &Object) {
        let key = key_of(object);
        if self
            .primaries
            .get(&key)
            .is_some_and(|old| revision(old) >= revision(object))
        {
            return;
        }
        self.by_uid.insert(uid(object).to_owned(), key.clone());
        if let Some(replaced) = self.primaries.insert(key.clone(), object.clone())
            && uid(&replaced) != uid(object)
        {
            self.by_uid.remove(uid(&replaced));
        }
        self.dirty.insert(key);
    }

    fn remove_primary(&mut self, object: &Object) -> bool {
        let key = key_of(object);
        let current = self.primaries.get(&key).map(|o| uid(o) == uid(object));
        if current != Some(true) {
            return false;
        }
        self.primaries.remove(&key);
        self.by_uid.remove(uid(object));
        self.dirty.remove(&key);
        self.last.remove(&key);
        true
    }

    fn upsert_child(&mut self, object: Object) {
        let key = key_of(&object);
        let owner = controller_uid(&object).map(str::to_owned);
        if let Some(previous) = self.owner_of.get(&key).cloned() {
            let stale = self
                .children
                .get(&previous)
                .and_then(|c| c.get(&key.1))
                .is_some_and(|old| uid(old) == uid(&object) && revision(old) >= revision(&object));
            if stale {
                return;
            }
            if owner.as_deref() != Some(previous.as_str()) {
                self.drop_child(&key, &previous);
            }
        }
        if let Some(owner) = owner {
            self.mark_owner(&owner);
            self.children
                .entry(owner.clone())
                .or_default()
                .insert(key.1.clone(), object);
            self.owner_of.insert(key, owner);
        }
    }

    fn remove_child(&mut self, object: &Object) {
        let key = key_of(object);
        let Some(owner) = self.owner_of.get(&key).cloned() else {
            return;
        };
        let newer = self
            .children
            .get(&owner)
            .and_then(|c| c.get(&key.1))
            .is_some_and(|current| revision(current) > revision(object));
        if !newer {
            self.drop_child(&key, &owner);
            self.mark_owner(&owner);
        }
    }

    fn drop_child(&mut self, key: &Key, owner: &str) {
        self.owner_of.remove(key);
        if let Some(children) = self.children.get_mut(owner) {
            children.remove(&key.1);
            if children.is_empty() {
                self.children.remove(owner);
            }
        }
        self.mark_owner(owner);
    }

    fn mark_owner(&mut self, owner: &str) {
        if let Some(key) = self.by_uid.get(owner) {
            self.dirty.insert(key.clone());
        }
    }

    /// How long after its last reconcile an object waits before the next: reconciling
    /// looks at every child, so an object with thousands of pods is looked at a few dozen
    /// times a second at most rather than once per pod change.
    fn throttle(&self, owner: &str) -> Duration {
        let children = self.children.get(owner).map_or(0, BTreeMap::len) as u32;
        (Duration::from_micros(10) * children).min(MAX_THROTTLE)
    }

    fn children_of(&self, owner: &str) -> Vec<Object> {
        self.children
            .get(owner)
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// Runs `controller` until the task is aborted.
pub async fn run<C: Controller>(ctx: Ctx, mut controller: C) {
    let mut view = View::default();
    let mut feed = resync::<C>(&ctx, &mut view, &mut controller);
    let mut due: HashMap<Key, Instant> = HashMap::new();
    loop {
        reconcile_dirty(&ctx, &mut view, &mut controller, &mut due);
        let next = due.values().min().copied();
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = feed.recv() => {
                let lagged = match received {
                    Ok(event) => { apply(&ctx, &mut view, &mut controller, &event); false }
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return,
                };
                if lagged || !drain(&ctx, &mut feed, &mut view, &mut controller) {
                    feed = resync::<C>(&ctx, &mut view, &mut controller);
                }
            }
            () = sleep => {
                let now = Instant::now();
                due.retain(|key, at| {
                    if *at <= now { view.dirty.insert(key.clone()); false } else { true }
                });
            }
        }
    }
}

/// Applies every change already waiting; false when the feed lagged.
fn drain<C: Controller>(
    ctx: &Ctx,
    feed: &mut broadcast::Receiver<Arc<Event>>,
    view: &mut View,
    controller: &mut C,
) -> bool {
    loop {
        match feed.try_recv() {
            Ok(event) => apply(ctx, view, controller, &event),
            Err(TryRecvError::Empty | TryRecvError::Closed) => return true,
            Err(TryRecvError::Lagged(_)) => return false,
        }
    }
}

fn apply<C: Controller>(ctx: &Ctx, view: &mut View, controller: &mut C, event: &Event) {
    if event.resource == C::PRIMARY {
        let object = event.object();
        if event.type_ == EventType::Deleted {
            if view.remove_primary(&object) {
                controller.forget(&object);
                controller.deleted(ctx, &object);
            }
        } else {
            view.upsert_primary(&object);
        }
    } else if Some(event.resource.as_str()) == C::CHILD {
        let object = event.object();
        if event.type_ == EventType::Deleted {
            view.remove_child(&object);
        } else {
            view.upsert_child(object);
        }
    } else if C::WATCHES.contains(&event.resource.as_str()) {
        let gone = event.type_ == EventType::Deleted;
        for key in controller.observe(&event.resource, &event.object(), gone) {
            if view.primaries.contains_key(&key) {
                view.dirty.insert(key);
            }
        }
    }
}

/// A fresh view from the store, every object marked for reconcile.
fn resync<C: Controller>(
    ctx: &Ctx,
    view: &mut View,
    controller: &mut C,
) -> broadcast::Receiver<Arc<Event>> {
    let (primaries, _, feed) = ctx.store.list_and_watch(C::PRIMARY, None);
    // Children are decoded one at a time and kept only when a primary controls them.
    let children = C::CHILD.map(|c| ctx.store.items(c, None).0);
    let live: HashSet<&str> = primaries.iter().map(|p| uid(p)).collect();
    for gone in view.primaries.values() {
        if !live.contains(uid(gone)) {
            controller.forget(gone);
        }
    }
    *view = View::default();
    for primary in primaries {
        view.upsert_primary(&primary);
    }
    for child in children.iter().flatten() {
        view.upsert_child(child.object());
    }
    controller.reset();
    for resource in C::WATCHES {
        for item in ctx.store.items(resource, None).0 {
            controller.observe(resource, &item.object(), false);
        }
    }
    feed
}

fn reconcile_dirty<C: Controller>(
    ctx: &Ctx,
    view: &mut View,
    controller: &mut C,
    due: &mut HashMap<Key, Instant>,
) {
    // Reconciling may mark more keys dirty (through its own writes); those wait a turn.
    let keys: Vec<Key> = view.dirty.drain().collect();
    for key in keys {
        let Some(object) = view.primaries.get(&key).cloned() else {
            continue;
        };
        let throttle = view.throttle(uid(&object));
        if let Some(last) = view.last.get(&key)
            && last.elapsed() < throttle
        {
            let at = *last + throttle;
            let entry = due.entry(key).or_insert(at);
            *entry = (*entry).min(at);
            continue;
        }
        view.last.insert(key.clone(), Instant::now());
        let children = view.children_of(uid(&object));
        let outcome = controller.reconcile(ctx, &object, &children);
        for child in outcome.written {
            view.upsert_child(child);
        }
        for child in &outcome.removed {
            view.remove_child(child);
        }
        // Its own writes need no second look.
        view.dirty.remove(&key);
        // A re-check too far away to represent is one that never comes.
        if let Some(at) = outcome
            .requeue
            .and_then(|after| Instant::now().checked_add(ctx.clock.real(after)))
        {
            let entry = due.entry(key).or_insert(at);
            *entry = (*entry).min(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(name: &str, uid: &str, revision: u64, owner: Option<&str>) -> Object {
        let mut object = json!({"metadata": {"name": name, "namespace": "ns", "uid": uid,
                                             "resourceVersion": revision.to_string()}});
        if let Some(owner) = owner {
            object["metadata"]["ownerReferences"] = json!([{"uid": owner, "controller": true}]);
        }
        Arc::new(object)
    }

    fn key(name: &str) -> Key {
        ("ns".into(), name.into())
    }

    #[test]
    fn children_are_indexed_by_owner_and_stale_changes_ignored() {
        let mut view = View::default();
        view.upsert_primary(&object("rs", "owner", 1, None));
        view.dirty.clear();
        view.upsert_child(object("pod", "p1", 5, Some("owner")));
        assert!(
            view.dirty.contains(&key("rs")),
            "a child change marks its owner"
        );
        view.dirty.clear();
        // An older change arriving after a newer one (the controller's own write) is dropped.
        view.upsert_child(object("pod", "p1", 4, Some("owner")));
        assert!(view.dirty.is_empty());
        assert_eq!(revision(&view.children_of("owner")[0]), 5);
        // A deletion older than what is known does not remove it either.
        view.remove_child(&object("pod", "p1", 3, Some("owner")));
        assert_eq!(view.children_of("owner").len(), 1);
        view.remove_child(&object("pod", "p1", 6, Some("owner")));
        assert!(view.children_of("owner").is_empty());
        assert!(view.dirty.contains(&key("rs")));
    }

    #[test]
    fn a_recreated_primary_is_not_removed_by_the_old_ones_deletion() {
        let mut view = View::default();
        view.upsert_primary(&object("rs", "old", 1, None));
        view.upsert_primary(&object("rs", "new", 3, None));
        assert!(!view.remove_primary(&object("rs", "old", 4, None)));
        assert!(view.primaries.contains_key(&key("rs")));
        assert!(view.remove_primary(&object("rs", "new", 5, None)));
        assert!(view.primaries.is_empty() && view.by_uid.is_empty());
    }

    #[test]
    fn busy_owners_are_throttled_in_proportion_to_their_children() {
        let mut view = View::default();
        view.upsert_primary(&object("rs", "owner", 1, None));
        assert_eq!(view.throttle("owner"), Duration::ZERO);
        for i in 0..20_000 {
            view.upsert_child(object(
                &format!("pod-{i}"),
                &format!("p{i}"),
                2,
                Some("owner"),
            ));
        }
        assert_eq!(view.throttle("owner"), MAX_THROTTLE);
    }
}
