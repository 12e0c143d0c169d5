//! Garbage collection through ownerReferences: when an object is deleted, every object that
//! names its uid as an owner is deleted too (background propagation, recursively since each
//! deletion is itself a change it sees); pods are deleted gracefully. With the
//! `foregroundDeletion` finalizer the owner waits until its dependents are gone; with
//! `orphan` its dependents lose the reference instead.
//!
//! It keeps an index of owner uid → dependents from the change feed, so a deletion costs a
//! lookup, never a scan. It never creates objects.

use crate::controllers::objects::{name, namespace, owner_uids, terminating, uid};
use crate::controllers::runner::Ctx;
use crate::store::{Event, EventType, Item, Object};
use std::collections::{HashMap, HashSet, VecDeque};
use tokio::sync::broadcast::error::RecvError;

/// Where an object lives: resource, namespace, name.
type Place = (String, String, String);

/// Deleted uids remembered, for dependents that show up after their owner went.
const REMEMBERED: usize = 10_000;

const FOREGROUND: &str = "foregroundDeletion";
const ORPHAN: &str = "orphan";

#[derive(Default)]
struct Collector {
    /// Owner uid → its dependents.
    dependents: HashMap<String, HashSet<Place>>,
    /// Dependent → the owner uids it names (to unindex it).
    owners: HashMap<Place, Vec<String>>,
    deleted: HashSet<String>,
    deleted_order: VecDeque<String>,
    /// Owners waiting in foreground deletion, by uid.
    waiting: HashMap<String, Place>,
}

fn place(event: &Event, object: &Object) -> Place {
    (
        event.resource.clone(),
        namespace(object).to_owned(),
        name(object).to_owned(),
    )
}

fn finalizer(object: &Object, which: &str) -> bool {
    object["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| f.iter().any(|f| f == which))
}

impl Collector {
    fn index(&mut self, at: Place, object: &Object) {
        self.unindex(&at);
        let owners: Vec<String> = owner_uids(object).map(str::to_owned).collect();
        for owner in &owners {
            self.dependents
                .entry(owner.clone())
                .or_default()
                .insert(at.clone());
        }
        if !owners.is_empty() {
            self.owners.insert(at, owners);
        }
    }

    fn unindex(&mut self, at: &Place) {
        for owner in self.owners.remove(at).into_iter().flatten() {
            if let Some(set) = self.dependents.get_mut(&owner) {
                set.remove(at);
                if set.is_empty() {
                    self.dependents.remove(&owner);
                }
            }
        }
    }

    fn remember_deleted(&mut self, uid: &str) {
        if self.deleted.insert(uid.to_owned()) {
            self.deleted_order.push_back(uid.to_owned());
        }
        while self.deleted_order.len() > REMEMBERED {
            if let Some(old) = self.deleted_order.pop_front() {
                self.deleted.remove(&old);
            }
        }
    }

    fn handle(&mut self, ctx: &Ctx, event: &Event) {
        let object = &event.object();
        let at = place(event, object);
        if event.type_ == EventType::Deleted {
            self.unindex(&at);
            self.remember_deleted(uid(object));
            self.delete_dependents(ctx, uid(object));
            self.waiting.remove(uid(object));
            // A dependent went: an owner in foreground deletion may now be free.
            for owner in owner_uids(object) {
                self.release_if_done(ctx, owner);
            }
            return;
        }
        self.index(at.clone(), object);
        if owner_uids(object).any(|o| self.deleted.contains(o)) && !terminating(object) {
            delete(ctx, &at);
        }
        if terminating(object) {
            if finalizer(object, ORPHAN) {
                self.orphan(ctx, object, &at);
            } else if finalizer(object, FOREGROUND) {
                self.waiting.insert(uid(object).to_owned(), at);
                self.delete_dependents(ctx, uid(object));
                self.release_if_done(ctx, uid(object));
            }
        }
    }

    fn delete_dependents(&self, ctx: &Ctx, owner: &str) {
        for at in self.dependents.get(owner).into_iter().flatten() {
            delete(ctx, at);
        }
    }

    /// Removes the foreground finalizer once no dependent is left.
    fn release_if_done(&mut self, ctx: &Ctx, owner: &str) {
        if self.dependents.get(owner).is_some_and(|d| !d.is_empty()) {
            return;
        }
        if let Some((resource, ns, name)) = self.waiting.remove(owner) {
            let _ = ctx.store.mutate(&resource, &ns, &name, |o| {
                remove_finalizer(o, FOREGROUND);
            });
        }
    }

    /// Strips the owner's reference from its dependents, then lets the owner go.
    fn orphan(&mut self, ctx: &Ctx, owner: &Object, at: &Place) {
        let owner_uid = uid(owner).to_owned();
        for (resource, ns, name) in self.dependents.remove(&owner_uid).into_iter().flatten() {
            let _ = ctx.store.mutate(&resource, &ns, &name, |o| {
                if let Some(refs) = o["metadata"]["ownerReferences"].as_array_mut() {
                    refs.retain(|r| r["uid"] != owner_uid.as_str());
                }
            });
        }
        let _ = ctx
            .store
            .mutate(&at.0, &at.1, &at.2, |o| remove_finalizer(o, ORPHAN));
    }
}

fn remove_finalizer(object: &mut serde_json::Value, which: &str) {
    if let Some(list) = object["metadata"]["finalizers"].as_array_mut() {
        list.retain(|f| f != which);
    }
}

/// Deletes `object` (of `resource`) as `propagationPolicy: Foreground` does: it gets the
/// `foregroundDeletion` finalizer and its `deletionTimestamp`, the collector deletes its
/// dependents, and it goes once they are gone. Only the object of that uid: one created
/// since under its name is left alone.
pub fn delete_in_foreground(ctx: &Ctx, resource: &str, object: &Object) {
    let (ns, name, owner) = (namespace(object), name(object), uid(object));
    let stamp = crate::store::now();
    // Already gone or already deleting is fine: it goes either way.
    let _ = ctx.store.mutate(resource, ns, name, |o| {
        if uid(o) != owner || terminating(o) {
            return;
        }
        o["metadata"]["deletionTimestamp"] = serde_json::json!(stamp);
        match o["metadata"]["finalizers"].as_array_mut() {
            Some(list) => list.push(serde_json::json!(FOREGROUND)),
            None => o["metadata"]["finalizers"] = serde_json::json!([FOREGROUND]),
        }
    });
}

/// Deletes a dependent: pods gracefully (the kubelet stops them), the rest at once.
fn delete(ctx: &Ctx, (resource, ns, name): &Place) {
    let graceful = resource == "pods";
    // Already gone is fine: nothing left to collect.
    let _ = ctx.store.delete(resource, ns, name, graceful);
}

/// Runs the collector until the task is aborted.
pub async fn run(ctx: Ctx) {
    loop {
        let mut collector = Collector::default();
        // Only the subscription is wanted here: the objects are read below, one at a time,
        // so that a rebuild never holds every object of the cluster decoded at once.
        let (_, _, mut feed) = ctx.store.items_and_watch("pods", None);
        for resource in ctx.store.resources() {
            for object in ctx.store.items(&resource, None).0.iter().map(Item::object) {
                if owner_uids(&object).next().is_some() {
                    let at = (
                        resource.clone(),
                        namespace(&object).to_owned(),
                        name(&object).to_owned(),
                    );
                    collector.index(at, &object);
                }
            }
        }
        loop {
            match feed.recv().await {
                Ok(event) => collector.handle(&ctx, &event),
                // Rebuild the index from a fresh list.
                Err(RecvError::Lagged(_)) => break,
                Err(RecvError::Closed) => return,
            }
        }
    }
}
