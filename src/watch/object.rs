//! What the watches decode the API server's objects into: lean stand-ins for kube-rs's
//! `DynamicObject`, read once, straight from the bytes.
//!
//! `DynamicObject` buffers its flattened body and parses it twice, parses the metadata a third
//! time into a typed `ObjectMeta` (managedFields and all), and kos then turned that back into
//! JSON for the status rules: at 5 000 pods that was most of kos's work per event. An
//! [`Object`] is the JSON the status rules read, without `metadata.managedFields` (never
//! read, often the bulk of a real object), plus the four metadata fields kube-rs's watcher
//! reads. Of a pod, and of a built-in workload's pod template, it keeps only the fields of
//! the spec that the summary reads ([`Shape`]): the spec is most of a pod's bytes, and
//! building it as JSON was most of the decoding. An [`Event`] keeps only what kos shows of a core/v1 Event, so that listing the tens
//! of thousands of Events of a big rollout costs little memory.
//!
//! Decoding only: no I/O, no judging.

use crate::model::{EventRow, ObjectKey};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::ApiResource;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// One watched object as JSON, without its managedFields, and without the fields its kind's
/// summary never reads when `S` says which those are ([`Shaped`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Object<S = AnyKind> {
    metadata: ObjectMeta,
    body: Map<String, Value>,
    shape: PhantomData<S>,
}

impl<S> Object<S> {
    /// The object as the status rules read it. `kind` and `apiVersion` come from `resource`
    /// when the object does not carry them: a real API server leaves them out of list items.
    pub fn into_value(self, resource: &ApiResource) -> Value {
        self.into_parts(&resource.kind, &resource.api_version).1
    }

    /// The metadata the watcher reads, and the object as the status rules read it, its
    /// `kind` and `apiVersion` given when it does not carry them.
    pub fn into_parts(self, kind: &str, api_version: &str) -> (ObjectMeta, Value) {
        let mut body = self.body;
        for (field, value) in [("kind", kind), ("apiVersion", api_version)] {
            if !body.get(field).is_some_and(Value::is_string) {
                body.insert(field.to_owned(), Value::String(value.to_owned()));
            }
        }
        (self.metadata, Value::Object(body))
    }
}

impl<'de, S: Shaped> Deserialize<'de> for Object<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let body = deserializer.deserialize_map(Fields(S::SHAPE))?;
        let metadata = body.get("metadata");
        if metadata.is_some_and(|m| !m.is_object() && !m.is_null()) {
            return Err(de::Error::custom("its metadata is not an object"));
        }
        let text = |field: &str| {
            metadata
                .and_then(|m| m.get(field))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let metadata = ObjectMeta {
            name: text("name"),
            namespace: text("namespace"),
            uid: text("uid"),
            resource_version: text("resourceVersion"),
            ..ObjectMeta::default()
        };
        Ok(Object {
            metadata,
            body,
            shape: PhantomData,
        })
    }
}

/// Which parts of a JSON value kos reads. Decoding skips the rest without building it: a
/// pod's spec is most of its bytes, and its summary reads three of its fields.
#[derive(Debug)]
pub enum Shape {
    /// Kept as it is.
    Whole,
    /// Left out.
    Dropped,
    /// An object whose `named` fields have shapes of their own, every other field `rest`.
    /// Anything else (`null`, a string) is kept as it is.
    Fields {
        named: &'static [(&'static str, Shape)],
        rest: &'static Shape,
    },
    /// An array whose items have this shape; anything else is kept as it is.
    Items(&'static Shape),
}

/// `metadata`, without `managedFields`: never read, often the bulk of a real object.
const METADATA: Shape = Shape::Fields {
    named: &[("managedFields", Shape::Dropped)],
    rest: &Shape::Whole,
};

/// A container of a pod's spec: its summary shows the name and image, the status rules
/// read the rest from the pod's status.
const CONTAINER: Shape = Shape::Fields {
    named: &[("name", Shape::Whole), ("image", Shape::Whole)],
    rest: &Shape::Dropped,
};

/// A condition of a pod's status, as the rules and the details pane read it.
const CONDITION: Shape = Shape::Fields {
    named: &[
        ("type", Shape::Whole),
        ("status", Shape::Whole),
        ("reason", Shape::Whole),
        ("message", Shape::Whole),
        ("lastUpdateTime", Shape::Whole),
        ("lastTransitionTime", Shape::Whole),
    ],
    rest: &Shape::Dropped,
};

/// A container's status: its state now and at its last end, as the pod rules read them.
const CONTAINER_STATUS: Shape = Shape::Fields {
    named: &[
        ("name", Shape::Whole),
        ("image", Shape::Whole),
        ("ready", Shape::Whole),
        ("restartCount", Shape::Whole),
        ("state", CONTAINER_STATE),
        ("lastState", CONTAINER_STATE),
    ],
    rest: &Shape::Dropped,
};

/// A container's state: whether it runs (not since when), why it waits, how it ended.
const CONTAINER_STATE: Shape = Shape::Fields {
    named: &[
        (
            "running",
            Shape::Fields {
                named: &[],
                rest: &Shape::Dropped,
            },
        ),
        ("waiting", Shape::Whole),
        ("terminated", Shape::Whole),
    ],
    rest: &Shape::Dropped,
};

/// A pod's metadata, as far as its summary and the watch read it: its identity, version,
/// age, deletion, generation, the one label that names its revision and its owners' uids.
/// Its other labels and its annotations are many and never read of a pod.
const POD_METADATA: Shape = Shape::Fields {
    named: &[
        ("name", Shape::Whole),
        ("namespace", Shape::Whole),
        ("uid", Shape::Whole),
        ("resourceVersion", Shape::Whole),
        ("generation", Shape::Whole),
        ("creationTimestamp", Shape::Whole),
        ("deletionTimestamp", Shape::Whole),
        ("finalizers", Shape::Whole),
        (
            "labels",
            Shape::Fields {
                named: &[("controller-revision-hash", Shape::Whole)],
                rest: &Shape::Dropped,
            },
        ),
        (
            "ownerReferences",
            Shape::Items(&Shape::Fields {
                named: &[("uid", Shape::Whole), ("controller", Shape::Whole)],
                rest: &Shape::Dropped,
            }),
        ),
    ],
    rest: &Shape::Dropped,
};

/// A type that says which [`Shape`] an [`Object`] is decoded with.
pub trait Shaped {
    const SHAPE: &'static Shape;
}

/// Any kind: everything but `metadata.managedFields` (the status rules table may read any
/// field of a custom resource).
#[derive(Debug, Clone, PartialEq)]
pub struct AnyKind;

impl Shaped for AnyKind {
    const SHAPE: &'static Shape = &Shape::Fields {
        named: &[("metadata", METADATA)],
        rest: &Shape::Whole,
    };
}

/// A core/v1 Pod: of its spec and status, what `status::of`, `status::conditions`,
/// `status::containers` and the summary read — the restart policy, each container's name
/// and image (and a template's labels, should it have one); the phase, conditions and
/// containers' states (not the addresses, the quality-of-service class, the containers'
/// ids and image digests).
#[derive(Debug, Clone, PartialEq)]
pub struct PodKind;

impl Shaped for PodKind {
    const SHAPE: &'static Shape = &Shape::Fields {
        named: &[
            ("metadata", POD_METADATA),
            (
                "spec",
                Shape::Fields {
                    named: &[
                        ("containers", Shape::Items(&CONTAINER)),
                        ("initContainers", Shape::Items(&CONTAINER)),
                        ("restartPolicy", Shape::Whole),
                        // The summary reads any kind's pod template labels as its links;
                        // a pod has none, but one written by hand may.
                        (
                            "template",
                            Shape::Fields {
                                named: &[("metadata", Shape::Whole)],
                                rest: &Shape::Dropped,
                            },
                        ),
                    ],
                    rest: &Shape::Dropped,
                },
            ),
            (
                "status",
                Shape::Fields {
                    named: &[
                        ("phase", Shape::Whole),
                        ("reason", Shape::Whole),
                        ("message", Shape::Whole),
                        ("observedGeneration", Shape::Whole),
                        ("conditions", Shape::Items(&CONDITION)),
                        ("containerStatuses", Shape::Items(&CONTAINER_STATUS)),
                        ("initContainerStatuses", Shape::Items(&CONTAINER_STATUS)),
                    ],
                    rest: &Shape::Dropped,
                },
            ),
        ],
        rest: &Shape::Whole,
    };
}

/// A built-in workload with a pod template (a Deployment, `ReplicaSet`, `StatefulSet`,
/// `DaemonSet`, `ReplicationController`, Job): everything but its template's pod spec,
/// which nothing reads (the template's labels are its pods' links).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplatedKind;

impl Shaped for TemplatedKind {
    const SHAPE: &'static Shape = &Shape::Fields {
        named: &[
            ("metadata", METADATA),
            (
                "spec",
                Shape::Fields {
                    named: &[(
                        "template",
                        Shape::Fields {
                            named: &[("spec", Shape::Dropped)],
                            rest: &Shape::Whole,
                        },
                    )],
                    rest: &Shape::Whole,
                },
            ),
        ],
        rest: &Shape::Whole,
    };
}

/// Which [`Shaped`] type a watch of `resource` decodes its objects with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    Any,
    Pod,
    Templated,
}

impl Reads {
    pub fn of(resource: &ApiResource) -> Reads {
        match (resource.group.as_str(), resource.kind.as_str()) {
            ("", "Pod") => Reads::Pod,
            ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
            | ("", "ReplicationController")
            | ("batch", "Job") => Reads::Templated,
            _ => Reads::Any,
        }
    }
}

/// Reads a JSON object into a map by a [`Shape::Fields`] (any other shape reads it whole).
struct Fields(&'static Shape);

impl Fields {
    /// The shape of the field `key`, and of the others.
    fn of(&self, key: &str) -> &'static Shape {
        match self.0 {
            Shape::Fields { named, rest } => named
                .iter()
                .find_map(|(name, shape)| (*name == key).then_some(shape))
                .unwrap_or(rest),
            _ => &Shape::Whole,
        }
    }
}

impl<'de> Visitor<'de> for Fields {
    type Value = Map<String, Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a Kubernetes object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Map::new();
        while let Some(Key(key)) = map.next_key()? {
            match self.of(&key) {
                Shape::Dropped => {
                    map.next_value::<IgnoredAny>()?;
                }
                Shape::Whole => {
                    fields.insert(key.into_owned(), map.next_value::<Value>()?);
                }
                shape => {
                    fields.insert(key.into_owned(), map.next_value_seed(Part(shape))?);
                }
            }
        }
        Ok(fields)
    }
}

/// A field's name, borrowed from the input when it holds no escapes: a field that is left
/// out costs no allocation.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor).map(Key)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a field name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// One value read by its shape.
#[derive(Clone, Copy)]
struct Part(&'static Shape);

impl<'de> DeserializeSeed<'de> for Part {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.0 {
            Shape::Whole | Shape::Dropped => Value::deserialize(deserializer),
            Shape::Fields { .. } | Shape::Items(_) => deserializer.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Part {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        Fields(self.0).visit_map(map).map(Value::Object)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let item = match self.0 {
            Shape::Items(item) => Part(item),
            _ => Part(&Shape::Whole),
        };
        let mut items = Vec::new();
        while let Some(value) = seq.next_element_seed(item)? {
            items.push(value);
        }
        Ok(Value::Array(items))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }
}

/// A core/v1 Event, as far as kos shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    metadata: ObjectMeta,
    /// The object the Event is about; an empty kind and name when it names none.
    pub about: ObjectKey,
    pub row: EventRow,
}

impl Event {
    /// The Event's own uid.
    pub fn uid(&self) -> &str {
        self.metadata.uid.as_deref().unwrap_or_default()
    }
}

/// The fields of a core/v1 Event that kos reads; serde skips the rest without building it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventFields {
    #[serde(default)]
    metadata: EventMeta,
    #[serde(default)]
    involved_object: Involved,
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    count: Option<i64>,
    #[serde(default)]
    last_timestamp: Option<String>,
    #[serde(default)]
    event_time: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct EventMeta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    creation_timestamp: Option<String>,
}

#[derive(Deserialize, Default)]
struct Involved {
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = EventFields::deserialize(deserializer)?;
        let EventFields {
            metadata,
            involved_object: about,
            ..
        } = &fields;
        let about = ObjectKey::new(
            about.kind.as_deref().unwrap_or_default(),
            about.namespace.as_deref().filter(|ns| !ns.is_empty()),
            about.name.as_deref().unwrap_or_default(),
        );
        let last_seen = [
            &fields.last_timestamp,
            &fields.event_time,
            &metadata.creation_timestamp,
        ]
        .into_iter()
        .find_map(Option::as_deref)
        .unwrap_or_default()
        .to_owned();
        let metadata = ObjectMeta {
            name: fields.metadata.name,
            namespace: fields.metadata.namespace,
            uid: fields.metadata.uid,
            resource_version: fields.metadata.resource_version,
            ..ObjectMeta::default()
        };
        let row = EventRow {
            type_: fields.type_.unwrap_or_else(|| "Normal".to_owned()),
            reason: fields.reason.unwrap_or_default(),
            message: fields.message.unwrap_or_default(),
            count: fields
                .count
                .map_or(1, |c| u32::try_from(c.max(0)).unwrap_or(u32::MAX)),
            last_seen,
        };
        Ok(Event {
            metadata,
            about,
            row,
        })
    }
}

/// `Resource` as kube-rs's `DynamicObject` implements it: the kind is chosen at run time.
macro_rules! dynamic_resource {
    ([$($generics:tt)*] $type:ty) => {
        impl<$($generics)*> ::kube::core::Resource for $type {
            type DynamicType = ::kube::core::ApiResource;
            type Scope = ::kube::core::DynamicResourceScope;

            fn kind(resource: &::kube::core::ApiResource) -> ::std::borrow::Cow<'_, str> {
                resource.kind.as_str().into()
            }
            fn group(resource: &::kube::core::ApiResource) -> ::std::borrow::Cow<'_, str> {
                resource.group.as_str().into()
            }
            fn version(resource: &::kube::core::ApiResource) -> ::std::borrow::Cow<'_, str> {
                resource.version.as_str().into()
            }
            fn api_version(resource: &::kube::core::ApiResource) -> ::std::borrow::Cow<'_, str> {
                resource.api_version.as_str().into()
            }
            fn plural(resource: &::kube::core::ApiResource) -> ::std::borrow::Cow<'_, str> {
                resource.plural.as_str().into()
            }
            fn meta(&self) -> &::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

dynamic_resource!([S] Object<S>);
dynamic_resource!([] Event);
pub(super) use dynamic_resource;

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod};
    use kube::core::Resource;
    use serde_json::json;

    fn pods() -> ApiResource {
        ApiResource::erase::<Pod>(&())
    }

    #[test]
    fn an_object_is_its_json_without_managed_fields() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "u1",
                         "resourceVersion": "42", "labels": {"app": "web"},
                         "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
            "status": {"phase": "Running"},
        });
        let object: Object = serde_json::from_value(pod.clone()).unwrap();
        assert_eq!(object.meta().uid.as_deref(), Some("u1"));
        assert_eq!(object.meta().resource_version.as_deref(), Some("42"));
        assert_eq!(object.meta().name.as_deref(), Some("web-1"));
        let mut expected = pod;
        expected["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        assert_eq!(object.into_value(&pods()), expected);
    }

    #[test]
    fn a_list_item_without_kind_gets_the_watched_resource_s() {
        let object: Object =
            serde_json::from_str(r#"{"metadata": {"name": "web-1", "uid": "u1"}}"#).unwrap();
        let value = object.into_value(&pods());
        assert_eq!(value["kind"], "Pod");
        assert_eq!(value["apiVersion"], "v1");
    }

    #[test]
    fn odd_metadata_reads_as_it_is_and_non_objects_are_refused() {
        let object: Object = serde_json::from_str(r#"{"metadata": null, "kind": "Pod"}"#).unwrap();
        assert_eq!(object.meta().uid.as_deref(), None);
        assert!(serde_json::from_str::<Object>(r#"{"metadata": 4}"#).is_err());
        assert!(serde_json::from_str::<Object>("[1, 2]").is_err());
        assert!(serde_json::from_str::<Object>(r#""pod""#).is_err());
    }

    /// A pod as an API server sends it, running, with what its summary never reads.
    fn running_pod() -> Value {
        json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "web-7c4b-x2", "namespace": "shop", "uid": "p1",
                "resourceVersion": "901", "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"app": "web", "pod-template-hash": "7c4b"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": "web-7c4b", "uid": "rs1", "controller": true}],
                "managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}]},
            "spec": {
                "initContainers": [{"name": "migrate", "image": "app:2",
                    "command": ["migrate", "--up"]}],
                "containers": [{"name": "app", "image": "nginx:1.27",
                    "env": [{"name": "TOKEN", "value": "hunter2"}],
                    "resources": {"requests": {"cpu": "100m"}},
                    "ports": [{"containerPort": 80}],
                    "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
                    "volumeMounts": [{"name": "cfg", "mountPath": "/etc/app"}]}],
                "volumes": [{"name": "cfg", "configMap": {"name": "web"}}],
                "restartPolicy": "Always", "nodeName": "node-1",
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}]
            },
            "status": {"phase": "Running", "podIP": "10.0.0.7", "qosClass": "BestEffort",
                "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null,
                    "lastTransitionTime": "2026-01-01T00:00:06Z"}],
                "initContainerStatuses": [{"name": "migrate", "ready": true, "restartCount": 0,
                    "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}],
                "containerStatuses": [{"name": "app", "image": "docker.io/nginx:1.27",
                    "imageID": "docker.io/library/nginx@sha256:57a6", "containerID": "c://5604",
                    "ready": true, "restartCount": 1, "started": true,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:05Z"}},
                    "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}
        })
    }

    fn decoded<S: Shaped>(object: &Value) -> Value {
        serde_json::from_str::<Object<S>>(&object.to_string())
            .unwrap()
            .into_value(&pods())
    }

    #[test]
    fn a_pod_s_spec_keeps_only_what_its_summary_reads() {
        let pod = running_pod();
        let shaped = decoded::<PodKind>(&pod);
        assert_eq!(
            shaped["spec"],
            json!({"initContainers": [{"name": "migrate", "image": "app:2"}],
                   "containers": [{"name": "app", "image": "nginx:1.27"}],
                   "restartPolicy": "Always"})
        );
        assert!(!shaped.to_string().contains("hunter2"));
        assert_eq!(
            shaped["status"],
            json!({"phase": "Running",
                "conditions": [{"type": "Ready", "status": "True",
                    "lastTransitionTime": "2026-01-01T00:00:06Z"}],
                "initContainerStatuses": [{"name": "migrate", "ready": true, "restartCount": 0,
                    "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}],
                "containerStatuses": [{"name": "app", "image": "docker.io/nginx:1.27",
                    "ready": true, "restartCount": 1,
                    "state": {"running": {}},
                    "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]})
        );
        assert_eq!(
            shaped["metadata"],
            json!({"name": "web-7c4b-x2", "namespace": "shop", "uid": "p1",
                "resourceVersion": "901", "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {}, "ownerReferences": [{"uid": "rs1", "controller": true}]})
        );
        let mut whole = decoded::<AnyKind>(&pod);
        assert!(whole.to_string().contains("hunter2"));
        for part in ["metadata", "spec", "status"] {
            whole[part] = shaped[part].clone();
        }
        assert_eq!(
            shaped, whole,
            "all but the metadata, spec and status is read as it is"
        );
        let now = chrono::Utc::now();
        let (a, b) = (
            crate::watch::summary::node(&shaped, now),
            crate::watch::summary::node(&decoded::<AnyKind>(&pod), now),
        );
        assert_eq!(a, b);
        assert_eq!(a.unwrap().0.object.containers.len(), 2);
    }

    #[test]
    fn a_workload_leaves_out_its_template_s_pod_spec_alone() {
        let set = json!({
            "kind": "ReplicaSet", "apiVersion": "apps/v1",
            "metadata": {"name": "web-7c4b", "uid": "rs1",
                "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": running_pod()["spec"].clone()}},
            "status": {"replicas": 3, "readyReplicas": 2, "observedGeneration": 1}
        });
        let shaped = decoded::<TemplatedKind>(&set);
        let mut expected = set.clone();
        expected["spec"]["template"]
            .as_object_mut()
            .unwrap()
            .remove("spec");
        assert_eq!(shaped, expected);
    }

    #[test]
    fn fields_of_odd_types_read_as_they_are() {
        for (spec, shaped) in [
            (json!(null), json!(null)),
            (json!("text"), json!("text")),
            (
                json!([{"name": "a", "args": []}]),
                json!([{"name": "a", "args": []}]),
            ),
            (
                json!({"containers": "none", "volumes": []}),
                json!({"containers": "none"}),
            ),
            (
                json!({"initContainers": [1, null, "x", {"name": "a", "args": []}]}),
                json!({"initContainers": [1, null, "x", {"name": "a"}]}),
            ),
            (
                json!({"containers": [{"name": 7, "image": ["x"], "env": {"a": 1.5}}]}),
                json!({"containers": [{"name": 7, "image": ["x"]}]}),
            ),
        ] {
            let pod = json!({"kind": "Pod", "metadata": {"uid": "p1"}, "spec": spec});
            assert_eq!(decoded::<PodKind>(&pod)["spec"], shaped, "{spec}");
        }
        assert!(serde_json::from_str::<Object<PodKind>>(r#"{"metadata": [1]}"#).is_err());
    }

    #[test]
    fn watches_read_pods_and_built_in_workloads_by_their_shape_and_the_rest_whole() {
        use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
        use k8s_openapi::api::batch::v1::{CronJob, Job};
        use k8s_openapi::api::core::v1::{ReplicationController, Secret, Service};
        fn reads<K: Resource<DynamicType = ()>>() -> Reads {
            Reads::of(&ApiResource::erase::<K>(&()))
        }
        assert_eq!(reads::<Pod>(), Reads::Pod);
        for templated in [
            reads::<Deployment>(),
            reads::<ReplicaSet>(),
            reads::<StatefulSet>(),
            reads::<DaemonSet>(),
            reads::<ReplicationController>(),
            reads::<Job>(),
        ] {
            assert_eq!(templated, Reads::Templated);
        }
        for whole in [reads::<CronJob>(), reads::<Service>(), reads::<Secret>()] {
            assert_eq!(whole, Reads::Any);
        }
        let rollouts = ApiResource {
            group: "argoproj.io".into(),
            version: "v1alpha1".into(),
            api_version: "argoproj.io/v1alpha1".into(),
            kind: "Rollout".into(),
            plural: "rollouts".into(),
        };
        assert_eq!(Reads::of(&rollouts), Reads::Any);
    }

    #[test]
    fn an_event_keeps_what_kos_shows_keyed_by_the_object_it_is_about() {
        let event: Event = serde_json::from_value(json!({
            "metadata": {"uid": "e1", "namespace": "ns", "resourceVersion": "7",
                         "managedFields": [{"manager": "kubelet"}]},
            "involvedObject": {"kind": "Pod", "namespace": "ns", "name": "web-0"},
            "type": "Warning", "reason": "BackOff", "message": "Back-off pulling image",
            "count": 3, "lastTimestamp": "2026-01-01T00:00:05Z",
            "source": {"component": "kubelet"},
        }))
        .unwrap();
        assert_eq!(event.about, ObjectKey::new("Pod", Some("ns"), "web-0"));
        assert_eq!(event.uid(), "e1");
        assert_eq!(event.meta().resource_version.as_deref(), Some("7"));
        assert_eq!(
            event.row,
            EventRow {
                type_: "Warning".to_owned(),
                reason: "BackOff".to_owned(),
                message: "Back-off pulling image".to_owned(),
                count: 3,
                last_seen: "2026-01-01T00:00:05Z".to_owned(),
            }
        );
    }

    #[test]
    fn an_event_s_time_falls_back_to_event_time_then_creation() {
        let event = |extra: Value| {
            let mut value = json!({
                "metadata": {"uid": "e1", "creationTimestamp": "2026-01-01T00:00:01Z"},
                "involvedObject": {"kind": "Pod", "name": "web-0"},
                "lastTimestamp": null, "count": null,
            });
            value
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value::<Event>(value).unwrap().row
        };
        let row = event(json!({"eventTime": "2026-01-01T00:00:02.000000Z"}));
        assert_eq!(row.last_seen, "2026-01-01T00:00:02.000000Z");
        assert_eq!((row.count, row.type_.as_str()), (1, "Normal"));
        assert_eq!(event(json!({})).last_seen, "2026-01-01T00:00:01Z");
    }

    #[test]
    fn an_event_about_nothing_reads_as_about_nothing() {
        let event: Event = serde_json::from_value(json!({"metadata": {"uid": "e1"}})).unwrap();
        assert_eq!(event.about, ObjectKey::new("", None, ""));
    }

    #[test]
    fn a_typed_event_reads_the_same_through_its_json() {
        let typed: CoreEvent = serde_json::from_value(json!({
            "metadata": {"name": "web-0.1", "namespace": "ns", "uid": "e2"},
            "involvedObject": {"kind": "Pod", "namespace": "ns", "name": "web-0"},
            "reason": "Pulled", "message": "Pulled", "count": 1,
            "lastTimestamp": "2026-01-01T00:00:05Z",
        }))
        .unwrap();
        let event: Event = serde_json::from_value(serde_json::to_value(&typed).unwrap()).unwrap();
        assert_eq!(event.about.name, "web-0");
        assert_eq!(event.row.reason, "Pulled");
    }
}
