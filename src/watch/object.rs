//! What the watches decode the API server's objects into: lean stand-ins for kube-rs's
//! `DynamicObject`, read once, straight from the bytes.
//!
//! `DynamicObject` buffers its flattened body and parses it twice, parses the metadata a third
//! time into a typed `ObjectMeta` (managedFields and all), and kos then turned that back into
//! JSON for the status rules: at 5 000 pods that was most of kos's work per event. An
//! [`Object`] is the JSON the status rules read, without `metadata.managedFields` (never
//! read, often the bulk of a real object), plus the four metadata fields kube-rs's watcher
//! reads. An [`Event`] keeps only what kos shows of a core/v1 Event, so that listing the tens
//! of thousands of Events of a big rollout costs little memory.
//!
//! Decoding only: no I/O, no judging.

use crate::model::{EventRow, ObjectKey};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::{ApiResource, DynamicResourceScope, Resource};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, de};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// One watched object as JSON, without its managedFields.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    metadata: ObjectMeta,
    body: Map<String, Value>,
}

impl Object {
    /// The object as the status rules read it. `kind` and `apiVersion` come from `resource`
    /// when the object does not carry them: a real API server leaves them out of list items.
    pub fn into_value(self, resource: &ApiResource) -> Value {
        let mut body = self.body;
        for (field, value) in [
            ("kind", &resource.kind),
            ("apiVersion", &resource.api_version),
        ] {
            if !body.get(field).is_some_and(Value::is_string) {
                body.insert(field.to_owned(), Value::String(value.clone()));
            }
        }
        Value::Object(body)
    }

    /// The object's uid, if it has one.
    pub fn uid(&self) -> Option<&str> {
        self.metadata.uid.as_deref()
    }
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let body = deserializer.deserialize_map(Fields {
            skip: None,
            nested: Some("metadata"),
        })?;
        let metadata = body.get("metadata");
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
        Ok(Object { metadata, body })
    }
}

/// Reads a JSON object into a map, leaving out the field `skip` and reading the field
/// `nested` the same way with `managedFields` left out: `metadata` of an object.
struct Fields {
    skip: Option<&'static str>,
    nested: Option<&'static str>,
}

impl<'de> Visitor<'de> for Fields {
    type Value = Map<String, Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a Kubernetes object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if Some(key.as_str()) == self.skip {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = if Some(key.as_str()) == self.nested {
                map.next_value::<Metadata>()?.0
            } else {
                map.next_value::<Value>()?
            };
            fields.insert(key, value);
        }
        Ok(fields)
    }
}

/// `metadata`, without `managedFields`; `null` reads as `null`.
struct Metadata(Value);

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MetadataVisitor).map(Metadata)
    }
}

struct MetadataVisitor;

impl<'de> Visitor<'de> for MetadataVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("object metadata")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        let fields = Fields {
            skip: Some("managedFields"),
            nested: None,
        };
        fields.visit_map(map).map(Value::Object)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
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
    ($type:ty) => {
        impl Resource for $type {
            type DynamicType = ApiResource;
            type Scope = DynamicResourceScope;

            fn kind(resource: &ApiResource) -> Cow<'_, str> {
                resource.kind.as_str().into()
            }
            fn group(resource: &ApiResource) -> Cow<'_, str> {
                resource.group.as_str().into()
            }
            fn version(resource: &ApiResource) -> Cow<'_, str> {
                resource.version.as_str().into()
            }
            fn api_version(resource: &ApiResource) -> Cow<'_, str> {
                resource.api_version.as_str().into()
            }
            fn plural(resource: &ApiResource) -> Cow<'_, str> {
                resource.plural.as_str().into()
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

dynamic_resource!(Object);
dynamic_resource!(Event);

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod};
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
        assert_eq!(object.uid(), Some("u1"));
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
        assert_eq!(object.uid(), None);
        assert!(serde_json::from_str::<Object>(r#"{"metadata": 4}"#).is_err());
        assert!(serde_json::from_str::<Object>("[1, 2]").is_err());
        assert!(serde_json::from_str::<Object>(r#""pod""#).is_err());
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
