//! The simulated API server's object store: every object of every resource, a global
//! resourceVersion, and a bounded history of changes for watches to resume from.
//!
//! Objects are JSON (`serde_json::Value`) shared behind `Arc`, so that lists and watch
//! events never copy them. Resources are named as kubectl names them: `pods`, `events`,
//! `deployments.apps`, `cronjobs.batch`. Cluster-scoped objects have the namespace `""`.
//!
//! The store knows nothing of HTTP, discovery or controllers; it only keeps metadata
//! (uid, resourceVersion, generation, creationTimestamp, deletionTimestamp) honest.

use rand::Rng;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::broadcast;

/// A stored object.
pub type Object = Arc<Value>;

/// What happened to an object, as a watch reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    /// The watch event's `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, in resourceVersion order.
#[derive(Debug, Clone)]
pub struct Event {
    pub type_: EventType,
    pub resource: String,
    pub namespace: String,
    pub object: Object,
    /// What selectors read of the object before the change (none for an ADDED event), so
    /// that a filtered watch can tell an object that left its selector from one that was
    /// never in it. Only that part ([`selectable`]): a whole copy would pin every old
    /// version for as long as the history keeps the event.
    pub previous: Option<Object>,
    pub revision: u64,
}

/// Why the store refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{resource} \"{name}\" not found")]
    NotFound { resource: String, name: String },
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists { resource: String, name: String },
    #[error(
        "Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; \
         please apply your changes to the latest version and try again"
    )]
    Conflict { resource: String, name: String },
    #[error("too old resource version: {requested} ({oldest})")]
    Gone { requested: u64, oldest: u64 },
    #[error("{0}")]
    Invalid(String),
}

/// How many changes are kept for watches to resume from. Older resourceVersions get
/// 410 Gone, as from a real API server's compacted etcd. Every kept change pins a version
/// of an object, so this bounds the server's memory as much as the live objects do.
const HISTORY: usize = 8_192;
/// Watch events buffered per subscriber before it counts as too slow and is cut off (it
/// then resumes from the history, or relists). The ring pins as many versions as it holds.
const BROADCAST: usize = 8_192;

type Objects = BTreeMap<(String, String), Object>;

/// The events a watch missed, and the subscription that carries it on.
pub type Resumed = (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>);

struct Inner {
    revision: u64,
    objects: HashMap<String, Objects>,
    history: VecDeque<Arc<Event>>,
}

/// The object store. Share it behind an `Arc`.
pub struct Store {
    inner: Mutex<Inner>,
    events: broadcast::Sender<Arc<Event>>,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            inner: Mutex::new(Inner {
                revision: 1,
                objects: HashMap::new(),
                history: VecDeque::new(),
            }),
            events: broadcast::channel(BROADCAST).0,
        }
    }
}

/// The part of an object that label and field selectors read: name, namespace, labels,
/// and the fields a real API server lets a field selector name (`spec.nodeName`,
/// `status.phase`, an Event's `involvedObject`, `type`, `reason`, `source`).
pub fn selectable(object: &Value) -> Value {
    let mut view = json!({"metadata": {}});
    for field in ["name", "namespace", "labels"] {
        if let Some(value) = object["metadata"].get(field) {
            view["metadata"][field] = value.clone();
        }
    }
    for (parent, field) in [("spec", "nodeName"), ("status", "phase")] {
        if let Some(value) = object.get(parent).and_then(|p| p.get(field)) {
            view[parent] = json!({ field: value });
        }
    }
    for field in [
        "involvedObject",
        "type",
        "reason",
        "source",
        "reportingComponent",
    ] {
        if let Some(value) = object.get(field) {
            view[field] = value.clone();
        }
    }
    view
}

/// The current time as Kubernetes writes it: `2026-11-26T09:30:00Z`.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn str_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Everything but `metadata` and `status`: a change there bumps `metadata.generation`.
fn spec_part(object: &Value) -> Value {
    let mut rest = object.clone();
    if let Some(map) = rest.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    rest
}

fn random_suffix(length: usize) -> String {
    // The alphabet Kubernetes uses for generated names: no vowels, no look-alikes.
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..length)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

pub fn new_uid() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    let hex: String = bytes.iter().fold(String::with_capacity(32), |mut hex, b| {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
        hex
    });
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The latest resourceVersion.
    pub fn revision(&self) -> u64 {
        self.lock().revision
    }

    /// The stored object, if any.
    pub fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Object> {
        let inner = self.lock();
        inner
            .objects
            .get(resource)?
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Every object of `resource` (in one namespace, or all when `None`), ordered by
    /// namespace and name, with the resourceVersion of the list.
    pub fn list(&self, resource: &str, namespace: Option<&str>) -> (Vec<Object>, u64) {
        let inner = self.lock();
        (Self::select(&inner, resource, namespace), inner.revision)
    }

    fn select(inner: &Inner, resource: &str, namespace: Option<&str>) -> Vec<Object> {
        let Some(objects) = inner.objects.get(resource) else {
            return Vec::new();
        };
        match namespace {
            None => objects.values().cloned().collect(),
            Some(ns) => objects
                .range((ns.to_owned(), String::new())..)
                .take_while(|((object_ns, _), _)| object_ns == ns)
                .map(|(_, object)| object.clone())
                .collect(),
        }
    }

    /// The names of every resource that has, or had, objects.
    pub fn resources(&self) -> Vec<String> {
        self.lock().objects.keys().cloned().collect()
    }

    /// Stores a new object. Fills in uid, resourceVersion, generation and
    /// creationTimestamp, and the name from `metadata.generateName` when there is none.
    pub fn create(&self, resource: &str, mut object: Value) -> Result<Object, StoreError> {
        let namespace = str_at(&object, "/metadata/namespace").to_owned();
        let mut name = str_at(&object, "/metadata/name").to_owned();
        if name.is_empty() {
            let prefix = str_at(&object, "/metadata/generateName");
            if prefix.is_empty() {
                return Err(StoreError::Invalid(
                    "metadata.name: Required value: name or generateName is required".into(),
                ));
            }
            name = format!("{prefix}{}", random_suffix(5));
        }
        let mut inner = self.lock();
        let key = (namespace.clone(), name.clone());
        if inner
            .objects
            .get(resource)
            .is_some_and(|objects| objects.contains_key(&key))
        {
            return Err(StoreError::AlreadyExists {
                resource: resource.to_owned(),
                name,
            });
        }
        let revision = inner.revision + 1;
        let metadata = object
            .as_object_mut()
            .ok_or_else(|| StoreError::Invalid("the object is not a JSON object".into()))?
            .entry("metadata")
            .or_insert_with(|| json!({}));
        let Some(metadata) = metadata.as_object_mut() else {
            return Err(StoreError::Invalid("metadata: must be an object".into()));
        };
        metadata.insert("name".into(), json!(name));
        metadata.insert("uid".into(), json!(new_uid()));
        metadata.insert("resourceVersion".into(), json!(revision.to_string()));
        metadata.insert("generation".into(), json!(1));
        metadata.insert("creationTimestamp".into(), json!(now()));
        let object = Arc::new(object);
        inner
            .objects
            .entry(resource.to_owned())
            .or_default()
            .insert(key, object.clone());
        self.record(
            &mut inner,
            (EventType::Added, None),
            resource,
            &namespace,
            object.clone(),
        );
        Ok(object)
    }

    /// Replaces an object's metadata and spec with those of `object`, keeping its status.
    /// A `metadata.resourceVersion` in `object` must match the stored one (409 otherwise).
    pub fn update(&self, resource: &str, object: &Value) -> Result<Object, StoreError> {
        self.replace(resource, object, false)
    }

    /// Replaces an object's status with that of `object` (the `status` subresource).
    pub fn update_status(&self, resource: &str, object: &Value) -> Result<Object, StoreError> {
        self.replace(resource, object, true)
    }

    fn replace(&self, resource: &str, object: &Value, status: bool) -> Result<Object, StoreError> {
        let namespace = str_at(object, "/metadata/namespace").to_owned();
        let name = str_at(object, "/metadata/name").to_owned();
        let expected = str_at(object, "/metadata/resourceVersion").to_owned();
        self.modify(resource, &namespace, &name, |current| {
            if !expected.is_empty() && expected != str_at(current, "/metadata/resourceVersion") {
                return Err(StoreError::Conflict {
                    resource: resource.to_owned(),
                    name: name.clone(),
                });
            }
            let mut next = if status {
                current.clone()
            } else {
                object.clone()
            };
            let source = if status { object } else { current };
            match source.get("status") {
                Some(value) => next["status"] = value.clone(),
                None => {
                    if let Some(map) = next.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
            if !status {
                // Identity and bookkeeping fields belong to the server, not the client.
                for field in [
                    "uid",
                    "creationTimestamp",
                    "generation",
                    "deletionTimestamp",
                ] {
                    match current["metadata"].get(field) {
                        Some(value) => next["metadata"][field] = value.clone(),
                        None => {
                            if let Some(meta) = next["metadata"].as_object_mut() {
                                meta.remove(field);
                            }
                        }
                    }
                }
            }
            Ok(next)
        })
    }

    /// Read-modify-write under the store's lock: `change` edits a copy of the object.
    /// Nothing is recorded when the copy comes back unchanged. Used by the controllers.
    pub fn mutate(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) -> Result<Object, StoreError> {
        self.modify(resource, namespace, name, |current| {
            let mut next = current.clone();
            change(&mut next);
            Ok(next)
        })
    }

    fn modify(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&Value) -> Result<Value, StoreError>,
    ) -> Result<Object, StoreError> {
        let mut inner = self.lock();
        let key = (namespace.to_owned(), name.to_owned());
        let not_found = || StoreError::NotFound {
            resource: resource.to_owned(),
            name: name.to_owned(),
        };
        let current = inner
            .objects
            .get(resource)
            .and_then(|o| o.get(&key))
            .ok_or_else(not_found)?;
        let mut next = change(current)?;
        let previous = Some(Arc::new(selectable(current)));
        // The key fields cannot change through an update.
        next["metadata"]["name"] = json!(name);
        if !namespace.is_empty() {
            next["metadata"]["namespace"] = json!(namespace);
        }
        next["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        if next == **current {
            return Ok(current.clone());
        }
        if spec_part(&next) != spec_part(current) {
            let generation = current["metadata"]["generation"].as_i64().unwrap_or(0);
            next["metadata"]["generation"] = json!(generation + 1);
        }
        let revision = inner.revision + 1;
        next["metadata"]["resourceVersion"] = json!(revision.to_string());
        let finalized = next["metadata"].get("deletionTimestamp").is_some()
            && next["metadata"]["finalizers"]
                .as_array()
                .is_none_or(Vec::is_empty);
        let next = Arc::new(next);
        if finalized {
            inner.objects.get_mut(resource).map(|o| o.remove(&key));
            self.record(
                &mut inner,
                (EventType::Deleted, previous),
                resource,
                namespace,
                next.clone(),
            );
        } else {
            inner
                .objects
                .get_mut(resource)
                .map(|o| o.insert(key, next.clone()));
            self.record(
                &mut inner,
                (EventType::Modified, previous),
                resource,
                namespace,
                next.clone(),
            );
        }
        Ok(next)
    }

    /// Deletes an object. With `graceful`, or while it has finalizers, it only gets a
    /// `deletionTimestamp` (it is terminating) and stays until [`Store::remove`] or until
    /// its last finalizer is removed; otherwise it is gone at once. Returns the object as
    /// it is after the call.
    pub fn delete(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
        graceful: bool,
    ) -> Result<Object, StoreError> {
        let current = self
            .get(resource, namespace, name)
            .ok_or_else(|| StoreError::NotFound {
                resource: resource.to_owned(),
                name: name.to_owned(),
            })?;
        let has_finalizers = current["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty());
        if graceful || has_finalizers {
            if current["metadata"].get("deletionTimestamp").is_some() {
                return Ok(current);
            }
            // With no finalizers, `modify` would treat the timestamp as final; keep it.
            let stamp = now();
            return self.mutate(resource, namespace, name, |object| {
                object["metadata"]["deletionTimestamp"] = json!(stamp);
                if !has_finalizers {
                    object["metadata"]["finalizers"] = json!(["sim.kos.dev/graceful"]);
                }
            });
        }
        self.remove(resource, namespace, name)
    }

    /// Removes an object for good (a graceful deletion that has run its course).
    pub fn remove(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Object, StoreError> {
        let mut inner = self.lock();
        let key = (namespace.to_owned(), name.to_owned());
        let removed = inner.objects.get_mut(resource).and_then(|o| o.remove(&key));
        let Some(removed) = removed else {
            return Err(StoreError::NotFound {
                resource: resource.to_owned(),
                name: name.to_owned(),
            });
        };
        let revision = inner.revision + 1;
        let mut last = (*removed).clone();
        last["metadata"]["resourceVersion"] = json!(revision.to_string());
        let last = Arc::new(last);
        self.record(
            &mut inner,
            (EventType::Deleted, Some(removed)),
            resource,
            namespace,
            last.clone(),
        );
        Ok(last)
    }

    /// A consistent snapshot of `resource` and a subscription to every change after it.
    pub fn list_and_watch(
        &self,
        resource: &str,
        namespace: Option<&str>,
    ) -> (Vec<Object>, u64, broadcast::Receiver<Arc<Event>>) {
        let inner = self.lock();
        let objects = Self::select(&inner, resource, namespace);
        (objects, inner.revision, self.events.subscribe())
    }

    /// The changes of `resource` after `revision`, and a subscription to every later one.
    /// A revision older than the kept history is 410 Gone. Subscribers filter the
    /// broadcast by resource and namespace themselves.
    pub fn watch_from(
        &self,
        resource: &str,
        namespace: Option<&str>,
        revision: u64,
    ) -> Result<Resumed, StoreError> {
        let inner = self.lock();
        let oldest = inner
            .history
            .front()
            .map_or(inner.revision, |e| e.revision - 1);
        if revision < oldest {
            return Err(StoreError::Gone {
                requested: revision,
                oldest,
            });
        }
        let missed = inner
            .history
            .iter()
            .filter(|e| e.revision > revision && e.resource == resource)
            .filter(|e| namespace.is_none_or(|ns| ns == e.namespace))
            .cloned()
            .collect();
        Ok((missed, self.events.subscribe()))
    }

    fn record(
        &self,
        inner: &mut Inner,
        (type_, previous): (EventType, Option<Object>),
        resource: &str,
        namespace: &str,
        object: Object,
    ) {
        inner.revision += 1;
        let event = Arc::new(Event {
            type_,
            resource: resource.to_owned(),
            namespace: namespace.to_owned(),
            object,
            previous,
            revision: inner.revision,
        });
        if inner.history.len() == HISTORY {
            inner.history.pop_front();
        }
        inner.history.push_back(event.clone());
        // No subscribers is fine: nobody watches right now.
        let _ = self.events.send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": "ns"}, "spec": {"x": 1}})
    }

    #[test]
    fn create_fills_metadata_and_refuses_duplicates() {
        let store = Store::default();
        let created = store.create("pods", pod("a")).unwrap();
        assert_eq!(created["metadata"]["generation"], 1);
        assert!(created["metadata"]["uid"].as_str().unwrap().len() == 36);
        assert!(matches!(
            store.create("pods", pod("a")),
            Err(StoreError::AlreadyExists { .. })
        ));
        let generated = store
            .create(
                "pods",
                json!({"metadata": {"generateName": "web-", "namespace": "ns"}}),
            )
            .unwrap();
        assert!(
            generated["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("web-")
        );
        assert_eq!(store.list("pods", Some("ns")).0.len(), 2);
        assert_eq!(store.list("pods", Some("other")).0.len(), 0);
    }

    #[test]
    fn update_checks_resource_version_and_bumps_generation_on_spec_change() {
        let store = Store::default();
        let created = store.create("pods", pod("a")).unwrap();
        let mut stale = (*created).clone();
        stale["spec"]["x"] = json!(2);
        let updated = store.update("pods", &stale).unwrap();
        assert_eq!(updated["metadata"]["generation"], 2);
        assert!(matches!(
            store.update("pods", &stale),
            Err(StoreError::Conflict { .. })
        ));

        let mut with_status = (*updated).clone();
        with_status["status"] = json!({"phase": "Running"});
        let status = store.update_status("pods", &with_status).unwrap();
        assert_eq!(
            status["metadata"]["generation"], 2,
            "status does not bump generation"
        );
        assert_eq!(status["status"]["phase"], "Running");
    }

    #[test]
    fn graceful_delete_marks_then_remove_deletes() {
        let store = Store::default();
        store.create("pods", pod("a")).unwrap();
        let marked = store.delete("pods", "ns", "a", true).unwrap();
        assert!(marked["metadata"]["deletionTimestamp"].is_string());
        assert!(store.get("pods", "ns", "a").is_some());
        store.remove("pods", "ns", "a").unwrap();
        assert!(store.get("pods", "ns", "a").is_none());
        assert!(matches!(
            store.delete("pods", "ns", "a", false),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn watch_resumes_from_a_revision_and_reports_gone_past_history() {
        let store = Store::default();
        let start = store.revision();
        store.create("pods", pod("a")).unwrap();
        store.create("configmaps", pod("c")).unwrap();
        store
            .mutate("pods", "ns", "a", |p| p["spec"]["x"] = json!(5))
            .unwrap();
        let (missed, _rx) = store.watch_from("pods", Some("ns"), start).unwrap();
        let types: Vec<_> = missed.iter().map(|e| e.type_).collect();
        assert_eq!(types, [EventType::Added, EventType::Modified]);
        for i in 0..HISTORY {
            store
                .mutate("pods", "ns", "a", |p| p["spec"]["x"] = json!(i))
                .unwrap();
        }
        assert!(matches!(
            store.watch_from("pods", None, start),
            Err(StoreError::Gone { .. })
        ));
    }

    #[test]
    fn unchanged_mutation_records_nothing() {
        let store = Store::default();
        store.create("pods", pod("a")).unwrap();
        let before = store.revision();
        store.mutate("pods", "ns", "a", |_| {}).unwrap();
        assert_eq!(store.revision(), before);
    }
}
