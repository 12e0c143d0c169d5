//! Events as a real cluster writes them: core/v1 `events` objects about an involved object,
//! with a reason, message, type and source. A repeat of the same reason and message about
//! the same object (a BackOff) bumps `count` on the existing Event instead of adding one.
//!
//! The number of Event objects is bounded: a few dozen per object, and a global cap that
//! drops the events of the objects that were first written about longest ago (a real
//! cluster expires them after an hour). This module only writes Events; it decides nothing.

use crate::controllers::objects::{name, namespace, uid};
use crate::store::{self, Store, StoreError};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Events kept per involved object; the oldest goes first.
const PER_OBJECT: usize = 40;
/// Involved objects whose events are kept; the events of the oldest go first.
const OBJECTS: usize = 5_000;

/// `Normal` or `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Normal,
    Warning,
}

/// Who reports: `source.component`, and the node for the kubelet.
#[derive(Debug, Clone)]
pub struct Source {
    pub component: &'static str,
    pub host: Option<String>,
}

impl Source {
    pub const fn controller(component: &'static str) -> Self {
        Source {
            component,
            host: None,
        }
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub struct Note<'a> {
    pub kind: Kind,
    pub reason: &'a str,
    pub message: String,
    /// `spec.containers{name}` for container events.
    pub field_path: Option<String>,
}

impl<'a> Note<'a> {
    pub fn normal(reason: &'a str, message: impl Into<String>) -> Self {
        Note {
            kind: Kind::Normal,
            reason,
            message: message.into(),
            field_path: None,
        }
    }

    pub fn warning(reason: &'a str, message: impl Into<String>) -> Self {
        Note {
            kind: Kind::Warning,
            ..Note::normal(reason, message)
        }
    }

    #[must_use]
    pub fn at(mut self, field_path: String) -> Self {
        self.field_path = Some(field_path);
        self
    }
}

/// The object an Event is about, as its `involvedObject` names it. What a writer that does
/// not keep the whole object (a pod's kubelet task) keeps instead.
#[derive(Debug, Clone)]
pub struct Involved {
    pub kind: Value,
    pub api_version: Value,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub resource_version: Value,
}

impl Involved {
    pub fn of(object: &Value) -> Self {
        Involved {
            kind: object["kind"].clone(),
            api_version: object["apiVersion"].clone(),
            name: name(object).to_owned(),
            namespace: namespace(object).to_owned(),
            uid: uid(object).to_owned(),
            resource_version: object["metadata"]["resourceVersion"].clone(),
        }
    }

    /// Events about cluster-scoped objects (nodes) live in `default`.
    fn event_namespace(&self) -> String {
        match self.namespace.as_str() {
            "" => "default".to_owned(),
            ns => ns.to_owned(),
        }
    }
}

/// (involved uid, fieldPath, reason, message): what makes two events the same one.
type Identity = (String, String, String, String);

#[derive(Default)]
struct Kept {
    /// Event name by identity.
    names: HashMap<Identity, String>,
    /// Per involved uid: its events' identities, oldest first.
    per_object: HashMap<String, VecDeque<Identity>>,
    /// Involved uids, in the order they were first written about.
    objects: VecDeque<String>,
    /// The namespace of each event (for deleting it).
    namespaces: HashMap<String, String>,
}

/// Writes Events into the store. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    store: Arc<Store>,
    kept: Arc<Mutex<Kept>>,
    sequence: Arc<AtomicU64>,
}

impl Recorder {
    pub fn new(store: Arc<Store>) -> Self {
        Recorder {
            store,
            kept: Arc::default(),
            sequence: Arc::default(),
        }
    }

    /// Records that `note` happened to `object`, as `source` saw it.
    pub fn record(&self, source: &Source, object: &Value, note: &Note<'_>) {
        self.record_about(source, &Involved::of(object), note);
    }

    /// Records that `note` happened to the object `involved` names, as `source` saw it.
    pub fn record_about(&self, source: &Source, involved: &Involved, note: &Note<'_>) {
        let identity: Identity = (
            involved.uid.clone(),
            note.field_path.clone().unwrap_or_default(),
            note.reason.to_owned(),
            note.message.clone(),
        );
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = kept.names.get(&identity) {
            let ns = involved.event_namespace();
            let now = store::now();
            let bumped = self.store.mutate("events", &ns, existing, |event| {
                event["count"] = json!(event["count"].as_i64().unwrap_or(1) + 1);
                event["lastTimestamp"] = json!(now);
            });
            if !matches!(bumped, Err(StoreError::NotFound { .. })) {
                return;
            }
            kept.names.remove(&identity);
        }
        let event = self.event(source, involved, note);
        let event_name = name(&event).to_owned();
        let ns = namespace(&event).to_owned();
        if self.store.create("events", event).is_err() {
            return;
        }
        self.keep(&mut kept, identity, event_name, ns);
    }

    fn keep(&self, kept: &mut Kept, identity: Identity, event_name: String, ns: String) {
        let object_uid = identity.0.clone();
        kept.namespaces.insert(event_name.clone(), ns);
        kept.names.insert(identity.clone(), event_name);
        if !kept.per_object.contains_key(&object_uid) {
            kept.objects.push_back(object_uid.clone());
        }
        let list = kept.per_object.entry(object_uid).or_default();
        list.push_back(identity);
        let mut dropped: Vec<Identity> = Vec::new();
        if list.len() > PER_OBJECT {
            dropped.extend(list.pop_front());
        }
        while kept.objects.len() > OBJECTS {
            if let Some(oldest) = kept.objects.pop_front() {
                dropped.extend(kept.per_object.remove(&oldest).into_iter().flatten());
            }
        }
        for identity in dropped {
            if let Some(event_name) = kept.names.remove(&identity)
                && let Some(ns) = kept.namespaces.remove(&event_name)
            {
                // Already gone is fine: someone deleted it first.
                let _ = self.store.delete("events", &ns, &event_name, false);
            }
        }
    }

    fn event(&self, source: &Source, object: &Involved, note: &Note<'_>) -> Value {
        let now = store::now();
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let unique = (nanos as u64).wrapping_add(sequence);
        let mut involved = json!({
            "kind": object.kind,
            "name": object.name,
            "uid": object.uid,
            "apiVersion": object.api_version,
            "resourceVersion": object.resource_version,
        });
        if !object.namespace.is_empty() {
            involved["namespace"] = json!(object.namespace);
        }
        if let Some(path) = &note.field_path {
            involved["fieldPath"] = json!(path);
        }
        let mut source_field = json!({"component": source.component});
        if let Some(host) = &source.host {
            source_field["host"] = json!(host);
        }
        json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": format!("{}.{unique:x}", object.name),
                "namespace": object.event_namespace(),
            },
            "involvedObject": involved,
            "reason": note.reason,
            "message": note.message,
            "type": match note.kind { Kind::Normal => "Normal", Kind::Warning => "Warning" },
            "source": source_field,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "eventTime": null,
            "reportingComponent": source.component,
            "reportingInstance": source.host.clone().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(store: &Store) -> Value {
        (*store
            .create(
                "pods",
                json!({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": "p", "namespace": "ns"}}),
            )
            .unwrap())
        .clone()
    }

    #[test]
    fn repeats_bump_count_and_distinct_events_are_new_objects() {
        let store = Arc::new(Store::default());
        let recorder = Recorder::new(store.clone());
        let pod = pod(&store);
        let kubelet = Source {
            component: "kubelet",
            host: Some("sim-node-1".into()),
        };
        let back_off =
            Note::normal("BackOff", "Back-off pulling image \"x\"").at("spec.containers{c}".into());
        recorder.record(&kubelet, &pod, &back_off);
        recorder.record(&kubelet, &pod, &back_off);
        recorder.record(
            &kubelet,
            &pod,
            &Note::warning("Failed", "Error: ErrImagePull"),
        );
        let (events, _) = store.list("events", Some("ns"));
        assert_eq!(events.len(), 2);
        let back_off = events.iter().find(|e| e["reason"] == "BackOff").unwrap();
        assert_eq!(back_off["count"], 2);
        assert_eq!(
            back_off["involvedObject"]["fieldPath"],
            "spec.containers{c}"
        );
        assert_eq!(back_off["source"]["host"], "sim-node-1");
        assert!(
            back_off["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("p.")
        );
    }

    #[test]
    fn events_per_object_are_capped() {
        let store = Arc::new(Store::default());
        let recorder = Recorder::new(store.clone());
        let pod = pod(&store);
        let source = Source::controller("test");
        for i in 0..PER_OBJECT + 10 {
            recorder.record(&source, &pod, &Note::normal("R", format!("message {i}")));
        }
        let (events, _) = store.list("events", Some("ns"));
        assert_eq!(events.len(), PER_OBJECT);
        assert!(events.iter().all(|e| e["message"] != "message 0"));
    }
}
