//! The simulated API server's object store: every object of every resource, a global
//! resourceVersion, and a bounded history of changes for watches to resume from.
//!
//! Objects are handed out as JSON trees (`serde_json::Value`) shared behind `Arc`, so that
//! lists and watch events never copy them; but the store itself keeps each object, and each
//! change in the history, as its JSON text: a decoded tree costs several times its text
//! (a map node per object level, an allocation per key), and at thousands of objects that
//! was most of the server's memory. While anyone still holds a decoded version (a pod's
//! kubelet task, a controller's cache) the store hands out that same tree instead of
//! decoding again. Resources are named as kubectl names them: `pods`, `events`,
//! `deployments.apps`, `cronjobs.batch`. Cluster-scoped objects have the namespace `""`.
//!
//! The store knows nothing of HTTP, discovery or controllers; it only keeps metadata
//! (uid, resourceVersion, generation, creationTimestamp, deletionTimestamp) honest.

use rand::Rng;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};
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

/// One change, in resourceVersion order. The history keeps thousands of them and the
/// broadcast ring as many for a subscriber that lags, so the objects are kept as the store
/// keeps them (text, decoded on demand), never pinned decoded.
#[derive(Clone)]
pub struct Event {
    pub type_: EventType,
    pub resource: String,
    pub namespace: String,
    object: Stored,
    /// What selectors read of the object before the change (none for an ADDED event), so
    /// that a filtered watch can tell an object that left its selector from one that was
    /// never in it. Only that part ([`selectable`]).
    previous: Option<Stored>,
    pub revision: u64,
}

impl Event {
    /// The object after the change.
    pub fn object(&self) -> Object {
        self.object.object()
    }

    /// Appends the JSON text of the object after the change to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.object.write_json(out);
    }

    /// What selectors read of the object before the change; none for an ADDED event.
    pub fn previous(&self) -> Option<Object> {
        self.previous.as_ref().map(Stored::object)
    }

    /// Whether the object existed before the change (every event but ADDED).
    pub fn had_previous(&self) -> bool {
        self.previous.is_some()
    }
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
/// 410 Gone, as from a real API server whose watch cache has moved on. Every kept change
/// holds the text of a version of an object (a few KB for a pod), never a decoded tree.
/// A real API server's watch cache keeps up to 100 × 1024 changes of each resource (what
/// it takes for 75 s of history); this one store keeps as many for all resources together.
/// A rollout of 5 000 pods makes some 11 000 changes a second: a client that fell some
/// seconds behind or reconnected resumes from here, as it would from a real server, rather
/// than start over with a full list (with a quarter of this it had to after 3 s).
const HISTORY: usize = 100 * 1024;
/// Watch events buffered per subscriber before it counts as too slow (it then carries on
/// from the history). Its events hold text, like the history's.
const BROADCAST: usize = 8_192;

/// Nesting deeper than this is kept decoded: `serde_json` refuses to read back text nested
/// more than 128 levels deep, and the store must always get back what it wrote.
const MAX_COMPACT_DEPTH: usize = 100;

/// One version of an object as the store keeps it.
#[derive(Clone)]
enum Stored {
    /// Its JSON text, and the decoded tree while someone else still holds it.
    Compact {
        json: Arc<[u8]>,
        decoded: Weak<Value>,
    },
    /// Too deeply nested to be read back from text (see [`MAX_COMPACT_DEPTH`]).
    Whole(Object),
}

impl Stored {
    fn new(object: &Object) -> Stored {
        if nests_deeper_than(object, MAX_COMPACT_DEPTH) {
            return Stored::Whole(object.clone());
        }
        match serde_json::to_vec(&**object) {
            Ok(json) => Stored::Compact {
                json: json.into(),
                decoded: Arc::downgrade(object),
            },
            // A Value always serializes; were it ever not to, keeping it whole is still right.
            Err(_) => Stored::Whole(object.clone()),
        }
    }

    /// The decoded object: the tree someone still holds, or a fresh one from the text.
    fn object(&self) -> Object {
        match self {
            Stored::Whole(object) => object.clone(),
            Stored::Compact { json, decoded } => decoded.upgrade().unwrap_or_else(|| {
                // The text was written by `Stored::new` from a tree no deeper than
                // MAX_COMPACT_DEPTH, so it always reads back; Null only stands in for the
                // impossible, and is logged.
                Arc::new(serde_json::from_slice(json).unwrap_or_else(|error| {
                    tracing::error!(%error, "a stored object does not read back");
                    Value::Null
                }))
            }),
        }
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Stored::Compact { json, .. } => out.extend_from_slice(json),
            // A Value always serializes.
            Stored::Whole(object) => {
                let _ = serde_json::to_writer(out, &**object);
            }
        }
    }

    /// The decoded object, kept for later readers while this one holds it.
    fn object_cached(&mut self) -> Object {
        let object = self.object();
        if let Stored::Compact { decoded, .. } = self {
            *decoded = Arc::downgrade(&object);
        }
        object
    }
}

/// Whether `value` nests arrays or maps more than `limit` levels deep.
fn nests_deeper_than(value: &Value, limit: usize) -> bool {
    match value {
        Value::Array(items) => limit == 0 || items.iter().any(|v| nests_deeper_than(v, limit - 1)),
        Value::Object(map) => limit == 0 || map.values().any(|v| nests_deeper_than(v, limit - 1)),
        _ => false,
    }
}

/// An object as a list hands it out: decoded only when asked, so that a list of thousands
/// of objects never holds them all decoded at once, and a plain JSON list copies their text.
#[derive(Clone)]
pub struct Item(Stored);

impl Item {
    /// The decoded object.
    pub fn object(&self) -> Object {
        self.0.object()
    }

    /// Appends the object's JSON text to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.0.write_json(out);
    }

    /// The length of its JSON text, when the store keeps it as text (to size a response).
    pub fn json_len(&self) -> usize {
        match &self.0 {
            Stored::Compact { json, .. } => json.len(),
            Stored::Whole(_) => 0,
        }
    }
}

/// Namespace and name: the order of lists.
pub type Key = (String, String);

type Objects = BTreeMap<Key, Stored>;

/// Paged lists kept for their continuations at most; the oldest goes first.
const PAGED: usize = 4;
/// How long a paged list's continuations read it as it was at its first page. A real API
/// server's last until etcd compacts (five minutes); pages follow each other within
/// seconds, and a kept list pins a version of every object it lists.
const PAGED_KEPT: Duration = Duration::from_mins(1);

/// A list a client reads page by page: its objects as of its first page, in key order.
struct Paged {
    resource: String,
    namespace: Option<String>,
    revision: u64,
    taken: Instant,
    objects: Arc<[(Key, Item)]>,
}

impl Paged {
    fn is(&self, resource: &str, namespace: Option<&str>, revision: u64) -> bool {
        self.resource == resource
            && self.namespace.as_deref() == namespace
            && self.revision == revision
            && self.taken.elapsed() < PAGED_KEPT
    }
}

/// The events a watch missed, and the subscription that carries it on.
pub type Resumed = (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>);

struct Inner {
    revision: u64,
    objects: HashMap<String, Objects>,
    history: VecDeque<Arc<Event>>,
}

/// How many suffixes a generated name draws before it gives up, as the API server does
/// since Kubernetes 1.32: five characters of 27 are some 14 million names, and among
/// thousands of pods of one `ReplicaSet` two draws alike are likely.
const NAME_DRAWS: usize = 8;

impl Inner {
    fn taken(&self, resource: &str, key: &(String, String)) -> bool {
        self.objects
            .get(resource)
            .is_some_and(|objects| objects.contains_key(key))
    }

    /// `prefix` and a random suffix no `resource` in `namespace` has; after [`NAME_DRAWS`]
    /// taken draws the last one, which the create then refuses as a real server does.
    fn unused_name(&self, resource: &str, namespace: &str, prefix: &str) -> String {
        let mut key = (namespace.to_owned(), String::new());
        for _ in 0..NAME_DRAWS {
            key.1 = format!("{prefix}{}", random_suffix(5));
            if !self.taken(resource, &key) {
                break;
            }
        }
        key.1
    }
}

/// The object store. Share it behind an `Arc`.
pub struct Store {
    inner: Mutex<Inner>,
    events: broadcast::Sender<Arc<Event>>,
    paged: Mutex<VecDeque<Paged>>,
    /// Held while a pod is charged to its namespace's quotas and stored, and while a quota
    /// is recounted, so that a recount never misses a pod admission has charged but not
    /// yet stored (the real plugin gets the same from its compare-and-swap on the quota).
    quota_usage: Mutex<()>,
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
            paged: Mutex::default(),
            quota_usage: Mutex::new(()),
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

/// Whether everything but `metadata` and `status` is the same in both: a change there bumps
/// `metadata.generation`. Compared in place: every write asks, and copies would be garbage.
fn same_spec(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    spec_entries(a).eq(spec_entries(b))
}

fn spec_entries(map: &serde_json::Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    map.iter()
        .filter(|(key, _)| !matches!(key.as_str(), "metadata" | "status"))
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
    /// A name of `prefix` and a random suffix that no `resource` in `namespace` has yet.
    pub fn generate_name(&self, resource: &str, namespace: &str, prefix: &str) -> String {
        self.lock().unused_name(resource, namespace, prefix)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Holds quota usage still: taken around a pod's admission and creation, and around a
    /// quota's recount.
    pub fn quota_usage(&self) -> MutexGuard<'_, ()> {
        self.quota_usage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The latest resourceVersion.
    pub fn revision(&self) -> u64 {
        self.lock().revision
    }

    /// The stored object, if any.
    pub fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Object> {
        let mut inner = self.lock();
        let stored = inner
            .objects
            .get_mut(resource)?
            .get_mut(&(namespace.to_owned(), name.to_owned()))?;
        Some(stored.object_cached())
    }

    /// Every object of `resource` (in one namespace, or all when `None`), ordered by
    /// namespace and name, with the resourceVersion of the list.
    pub fn list(&self, resource: &str, namespace: Option<&str>) -> (Vec<Object>, u64) {
        let (items, revision) = self.items(resource, namespace);
        (items.iter().map(Item::object).collect(), revision)
    }

    /// Like [`Store::list`], with the objects left undecoded.
    pub fn items(&self, resource: &str, namespace: Option<&str>) -> (Vec<Item>, u64) {
        let inner = self.lock();
        let items = Self::select(&inner, resource, namespace);
        (items.into_iter().map(Item).collect(), inner.revision)
    }

    /// Like [`Store::items`], each with its key.
    pub fn keyed_items(&self, resource: &str, namespace: Option<&str>) -> (Vec<(Key, Item)>, u64) {
        let inner = self.lock();
        let Some(objects) = inner.objects.get(resource) else {
            return (Vec::new(), inner.revision);
        };
        let keyed = |(key, object): (&Key, &Stored)| (key.clone(), Item(object.clone()));
        let items = match namespace {
            None => objects.iter().map(keyed).collect(),
            Some(ns) => Self::in_namespace(objects, ns, Bound::Unbounded)
                .map(keyed)
                .collect(),
        };
        (items, inner.revision)
    }

    /// The objects of `namespace` from `start` on, in key order.
    fn in_namespace<'a>(
        objects: &'a Objects,
        ns: &'a str,
        start: Bound<Key>,
    ) -> impl Iterator<Item = (&'a Key, &'a Stored)> {
        let start = match start {
            Bound::Unbounded => Bound::Included((ns.to_owned(), String::new())),
            bound => bound,
        };
        objects
            .range((start, Bound::Unbounded))
            .take_while(move |((object_ns, _), _)| object_ns == ns)
    }

    /// Keeps a list a client reads page by page (`objects`, as [`Store::keyed_items`] gave
    /// them at `revision`) for its continuations.
    pub fn keep_paged(
        &self,
        resource: &str,
        namespace: Option<&str>,
        revision: u64,
        objects: Arc<[(Key, Item)]>,
    ) {
        let mut paged = self.paged.lock().unwrap_or_else(PoisonError::into_inner);
        paged.retain(|p| p.taken.elapsed() < PAGED_KEPT);
        if paged.len() == PAGED {
            paged.pop_front();
        }
        paged.push_back(Paged {
            resource: resource.to_owned(),
            namespace: namespace.map(str::to_owned),
            revision,
            taken: Instant::now(),
            objects,
        });
    }

    /// The rest of a paged list first read at `revision`: its objects after `after`. From
    /// the list as it was while it is kept ([`Store::keep_paged`]); else from the objects
    /// as they are now while every change since `revision` is still kept; 410 Gone after.
    pub fn continued(
        &self,
        resource: &str,
        namespace: Option<&str>,
        revision: u64,
        after: &Key,
    ) -> Result<Vec<(Key, Item)>, StoreError> {
        {
            let paged = self.paged.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(kept) = paged.iter().find(|p| p.is(resource, namespace, revision)) {
                let start = kept.objects.partition_point(|(key, _)| key <= after);
                return Ok(kept.objects[start..].to_vec());
            }
        }
        let inner = self.lock();
        Self::check_kept(&inner, revision)?;
        let Some(objects) = inner.objects.get(resource) else {
            return Ok(Vec::new());
        };
        let keyed = |(key, object): (&Key, &Stored)| (key.clone(), Item(object.clone()));
        let start = Bound::Excluded(after.clone());
        Ok(match namespace {
            None => objects
                .range((start, Bound::Unbounded))
                .map(keyed)
                .collect(),
            Some(ns) => Self::in_namespace(objects, ns, start).map(keyed).collect(),
        })
    }

    /// The stored versions; decoding them is left to after the lock is released, so that a
    /// large list does not hold up every writer.
    fn select(inner: &Inner, resource: &str, namespace: Option<&str>) -> Vec<Stored> {
        let Some(objects) = inner.objects.get(resource) else {
            return Vec::new();
        };
        match namespace {
            None => objects.values().cloned().collect(),
            Some(ns) => Self::in_namespace(objects, ns, Bound::Unbounded)
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
        let prefix = str_at(&object, "/metadata/generateName");
        if name.is_empty() && prefix.is_empty() {
            return Err(StoreError::Invalid(
                "metadata.name: Required value: name or generateName is required".into(),
            ));
        }
        let mut inner = self.lock();
        if name.is_empty() {
            name = inner.unused_name(resource, &namespace, prefix);
        }
        let key = (namespace.clone(), name.clone());
        if inner.taken(resource, &key) {
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
        let stored = Stored::new(&object);
        inner
            .objects
            .entry(resource.to_owned())
            .or_default()
            .insert(key, stored.clone());
        self.record(
            &mut inner,
            (EventType::Added, None),
            (resource, &namespace),
            stored,
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

    /// Read-modify-write under the store's lock that may refuse: `change` gives the next
    /// object, or the error to answer with (nothing is written then).
    pub fn modify(
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
            .get_mut(resource)
            .and_then(|o| o.get_mut(&key))
            .ok_or_else(not_found)?
            .object_cached();
        let current = &current;
        let mut next = change(current)?;
        // The key fields cannot change through an update.
        next["metadata"]["name"] = json!(name);
        if !namespace.is_empty() {
            next["metadata"]["namespace"] = json!(namespace);
        }
        next["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        if next == **current {
            return Ok(current.clone());
        }
        if !same_spec(&next, current) {
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
        let stored = Stored::new(&next);
        let previous = Some(Stored::new(&Arc::new(selectable(current))));
        let type_ = if finalized {
            inner.objects.get_mut(resource).map(|o| o.remove(&key));
            EventType::Deleted
        } else {
            inner
                .objects
                .get_mut(resource)
                .map(|o| o.insert(key, stored.clone()));
            EventType::Modified
        };
        self.record(&mut inner, (type_, previous), (resource, namespace), stored);
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
        let mut last = (*removed.object()).clone();
        last["metadata"]["resourceVersion"] = json!(revision.to_string());
        let last = Arc::new(last);
        let stored = Stored::new(&last);
        self.record(
            &mut inner,
            (EventType::Deleted, Some(removed)),
            (resource, namespace),
            stored,
        );
        Ok(last)
    }

    /// A consistent snapshot of `resource` and a subscription to every change after it.
    pub fn list_and_watch(
        &self,
        resource: &str,
        namespace: Option<&str>,
    ) -> (Vec<Object>, u64, broadcast::Receiver<Arc<Event>>) {
        let (items, revision, receiver) = self.items_and_watch(resource, namespace);
        (items.iter().map(Item::object).collect(), revision, receiver)
    }

    /// Like [`Store::list_and_watch`], with the objects left undecoded.
    pub fn items_and_watch(
        &self,
        resource: &str,
        namespace: Option<&str>,
    ) -> (Vec<Item>, u64, broadcast::Receiver<Arc<Event>>) {
        let inner = self.lock();
        let items = Self::select(&inner, resource, namespace);
        (
            items.into_iter().map(Item).collect(),
            inner.revision,
            self.events.subscribe(),
        )
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
        Self::check_kept(&inner, revision)?;
        let missed = inner
            .history
            .iter()
            .filter(|e| e.revision > revision && e.resource == resource)
            .filter(|e| namespace.is_none_or(|ns| ns == e.namespace))
            .cloned()
            .collect();
        Ok((missed, self.events.subscribe()))
    }

    /// Whether the changes after `revision` are all still kept (410 Gone otherwise): what
    /// a list's continue token needs, without reading them.
    pub fn still_kept(&self, revision: u64) -> Result<(), StoreError> {
        Self::check_kept(&self.lock(), revision)
    }

    fn check_kept(inner: &Inner, revision: u64) -> Result<(), StoreError> {
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
        Ok(())
    }

    /// Records a change: `object` is the compact form of the version after it (shared with
    /// the live object's, so the history adds no copy of its text).
    fn record(
        &self,
        inner: &mut Inner,
        (type_, previous): (EventType, Option<Stored>),
        (resource, namespace): (&str, &str),
        object: Stored,
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
    use serde::Deserialize;

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
    fn generated_names_draw_again_when_taken() {
        // 20 000 names of 14 million: some 14 draws alike are expected, and any would be
        // refused as already existing if the store did not draw again.
        let store = Store::default();
        for _ in 0..20_000 {
            let name = store.generate_name("pods", "ns", "web-");
            store.create("pods", pod(&name)).unwrap();
            store
                .create(
                    "configmaps",
                    json!({"metadata": {"generateName": "web-", "namespace": "ns"}}),
                )
                .unwrap();
        }
        assert_eq!(store.list("pods", Some("ns")).0.len(), 20_000);
        assert_eq!(store.list("configmaps", Some("ns")).0.len(), 20_000);
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
    fn objects_read_back_as_written_and_the_history_pins_no_decoded_version() {
        let store = Store::default();
        let start = store.revision();
        let created = store.create("pods", pod("a")).unwrap();
        let first = Arc::downgrade(&created);
        drop(created);
        assert!(
            first.upgrade().is_none(),
            "the store keeps text, not the tree"
        );
        for i in 0..3 {
            store
                .mutate("pods", "ns", "a", |p| p["status"]["n"] = json!(i))
                .unwrap();
        }
        let current = store.get("pods", "ns", "a").unwrap();
        assert_eq!(current["status"]["n"], 2);
        assert_eq!(current["spec"]["x"], 1);
        assert!(
            Arc::ptr_eq(&current, &store.get("pods", "ns", "a").unwrap()),
            "a version someone holds is handed out again, not decoded twice"
        );
        let (missed, _rx) = store.watch_from("pods", Some("ns"), start).unwrap();
        assert_eq!(missed.len(), 4);
        assert_eq!(missed[0].object()["spec"]["x"], 1);
        assert!(missed[0].object()["status"].is_null());
        assert_eq!(missed[2].previous().unwrap()["metadata"]["name"], "a");
        let mut text = Vec::new();
        missed[3].write_json(&mut text);
        assert_eq!(text, serde_json::to_vec(&*current).unwrap());
        let (items, _) = store.items("pods", Some("ns"));
        let mut listed = Vec::new();
        items[0].write_json(&mut listed);
        assert_eq!(listed, text);
        assert_eq!(items[0].json_len(), text.len());
    }

    #[test]
    fn objects_too_deep_to_read_back_from_text_are_kept_whole() {
        let store = Store::default();
        let mut deep = json!("bottom");
        for _ in 0..MAX_COMPACT_DEPTH + 50 {
            deep = json!([deep]);
        }
        let mut object = pod("deep");
        object["spec"]["deep"] = deep.clone();
        store.create("pods", object).unwrap();
        assert_eq!(
            store.get("pods", "ns", "deep").unwrap()["spec"]["deep"],
            deep
        );
        let (items, _) = store.items("pods", Some("ns"));
        let mut text = Vec::new();
        items[0].write_json(&mut text);
        let mut parser = serde_json::Deserializer::from_slice(&text);
        assert!(
            Value::deserialize(&mut parser).is_err(),
            "this depth is past what serde_json reads back"
        );
    }

    #[test]
    fn generation_follows_everything_but_metadata_and_status() {
        assert!(same_spec(
            &json!({"spec": 1, "metadata": {"a": 1}}),
            &json!({"spec": 1, "metadata": {"a": 2}, "status": {}})
        ));
        assert!(!same_spec(&json!({"spec": 1}), &json!({"spec": 2})));
        assert!(!same_spec(
            &json!({"spec": 1}),
            &json!({"spec": 1, "data": {}})
        ));
        assert!(!same_spec(&json!([1]), &json!([2])));
    }

    fn names(items: &[(Key, Item)]) -> Vec<String> {
        items.iter().map(|((_, name), _)| name.clone()).collect()
    }

    #[test]
    fn a_paged_list_continues_as_of_its_first_page_after_the_history_moved_on() {
        let store = Store::default();
        for name in ["a", "b", "c", "d"] {
            store.create("pods", pod(name)).unwrap();
        }
        store
            .create(
                "pods",
                json!({"metadata": {"name": "x", "namespace": "other"}}),
            )
            .unwrap();
        let (listed, revision) = store.keyed_items("pods", Some("ns"));
        assert_eq!(names(&listed), ["a", "b", "c", "d"]);
        let after_b = ("ns".to_owned(), "b".to_owned());
        let unkept = store
            .continued("pods", Some("ns"), revision, &after_b)
            .unwrap();
        assert_eq!(names(&unkept), ["c", "d"], "while the history covers it");
        store.keep_paged("pods", Some("ns"), revision, listed.into());
        store.remove("pods", "ns", "c").unwrap();
        for i in 0..HISTORY {
            store
                .mutate("pods", "ns", "d", |p| p["spec"]["x"] = json!(i))
                .unwrap();
        }
        let rest = store
            .continued("pods", Some("ns"), revision, &after_b)
            .unwrap();
        assert_eq!(names(&rest), ["c", "d"]);
        assert_eq!(rest[1].1.object()["spec"]["x"], 1, "as it was");
        let everywhere = store.continued("pods", None, revision, &after_b);
        assert!(
            matches!(everywhere, Err(StoreError::Gone { .. })),
            "another list, past the history"
        );
        let (all, now) = store.keyed_items("pods", None);
        assert_eq!(names(&all), ["a", "b", "d", "x"]);
        let rest = store.continued("pods", None, now, &after_b).unwrap();
        assert_eq!(names(&rest), ["d", "x"]);
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
