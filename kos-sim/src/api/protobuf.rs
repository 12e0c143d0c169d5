//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`), which kubectl's typed
//! commands (`kubectl create deployment`, `create job`, `run`, `expose`, ...) send and do
//! not fall back from.
//!
//! Decodes the Kubernetes envelope (`k8s\0` + `runtime.Unknown`) and the object it carries
//! into the JSON the rest of the server works on, generically: the message of the object's
//! kind, its field names and types come from the descriptors of Kubernetes' own
//! `generated.proto` files (`kos-sim/proto/`). The types that marshal themselves in Go get
//! their JSON forms here (times, quantities, int-or-strings, embedded raw JSON, the
//! `JSONSchemaProps` family). Pure.

use base64::Engine;
use chrono::{DateTime, SecondsFormat};
use prost_reflect::{DescriptorPool, DynamicMessage, FieldDescriptor, MapKey, MessageDescriptor};
use prost_reflect::{ReflectMessage, Value as Proto};
use serde_json::{Map, Value};
use std::sync::OnceLock;

use crate::errors::ApiError;

const MAGIC: &[u8] = b"k8s\0";

/// The envelope every object travels in.
const UNKNOWN: &str = "k8s.io.apimachinery.pkg.runtime.Unknown";

/// The descriptors of every API group's messages (see `kos-sim/proto/README.md`).
fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(include_bytes!("../../proto/kubernetes.fds").as_slice())
            .expect("the bundled Kubernetes descriptors decode (a unit test checks it)")
    })
}

/// The message of a kind: named as the kind, in the package of its version whose API group
/// directory (`apps`, `rbac`, `apiserverinternal`, `core` for the core group) the group's
/// first label ends.
fn message_of(api_version: &str, kind: &str) -> Option<MessageDescriptor> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let label = group
        .split('.')
        .next()
        .filter(|l| !l.is_empty())
        .unwrap_or("core");
    pool().all_messages().find(|message| {
        let mut package = message.package_name().rsplit('.');
        message.name() == kind
            && package.next() == Some(version)
            && package.next().is_some_and(|dir| dir.ends_with(label))
    })
}

fn malformed(why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "the body of the request was malformed: bad protobuf: {why}"
    ))
}

/// Decodes a protobuf request body into the JSON object it carries.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| malformed("no k8s\\0 prefix"))?;
    let unknown = pool()
        .get_message_by_name(UNKNOWN)
        .ok_or_else(|| malformed("no runtime.Unknown descriptor"))?;
    let unknown = DynamicMessage::decode(unknown, envelope).map_err(malformed)?;
    let type_meta = unknown
        .get_field_by_name("typeMeta")
        .and_then(|v| v.as_message().cloned())
        .ok_or_else(|| malformed("no typeMeta"))?;
    let text = |name: &str| {
        type_meta
            .get_field_by_name(name)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let message = message_of(&api_version, &kind).ok_or_else(|| {
        ApiError::bad_request(format!(
            "no kind \"{kind}\" is registered for version \"{api_version}\""
        ))
    })?;
    let raw = unknown
        .get_field_by_name("raw")
        .and_then(|v| v.as_bytes().cloned())
        .unwrap_or_default();
    let object = DynamicMessage::decode(message, raw).map_err(malformed)?;
    let mut json = match message_json(&object).map_err(malformed)? {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    json.insert("apiVersion".into(), Value::String(api_version));
    json.insert("kind".into(), Value::String(kind));
    Ok(Value::Object(json))
}

/// The JSON of a message, `None` where Go's JSON leaves it out (a zero time).
fn message_json(message: &DynamicMessage) -> Result<Option<Value>, String> {
    let descriptor = message.descriptor();
    let package = descriptor.package_name();
    let first = |number| message.get_field_by_number(number);
    let json = match (package, descriptor.name()) {
        ("k8s.io.apimachinery.pkg.apis.meta.v1", "Time") => time(message, SecondsFormat::Secs),
        ("k8s.io.apimachinery.pkg.apis.meta.v1", "MicroTime") => {
            time(message, SecondsFormat::Micros)
        }
        ("k8s.io.apimachinery.pkg.api.resource", "Quantity" | "QuantityValue") => {
            first(1).and_then(|v| v.as_str().map(|s| Value::String(s.to_owned())))
        }
        ("k8s.io.apimachinery.pkg.util.intstr", "IntOrString") => Some(int_or_string(message)),
        // Embedded JSON: an object of any kind, managed fields, a CRD schema's values.
        ("k8s.io.apimachinery.pkg.runtime", "RawExtension")
        | ("k8s.io.apimachinery.pkg.apis.meta.v1", "FieldsV1")
        | (_, "JSON") => match first(1).as_deref() {
            Some(Proto::Bytes(raw)) => Some(embedded(raw)?),
            _ => None,
        },
        // Go slices given a message of their own so that they may be nil.
        (_, "Verbs" | "ExtraValue") => first(1).map(|items| value_json(&items)).transpose()?,
        (
            _,
            "JSONSchemaPropsOrArray" | "JSONSchemaPropsOrBool" | "JSONSchemaPropsOrStringArray",
        ) => schema_or(message)?,
        _ => Some(fields_json(message)?),
    };
    Ok(json)
}

/// The fields of Go structs embedded with `json:",inline"` (message, field): protobuf
/// nests them under a field of their own, JSON spreads them into the parent. The
/// descriptors do not say which they are; these are the built-in types' (`k8s.io/api`).
const INLINE: [(&str, &str); 12] = [
    ("Volume", "volumeSource"),
    ("PersistentVolumeSpec", "persistentVolumeSource"),
    ("Probe", "handler"),
    ("EphemeralContainer", "ephemeralContainerCommon"),
    ("IngressRule", "ingressRuleValue"),
    ("ConfigMapKeySelector", "localObjectReference"),
    ("SecretKeySelector", "localObjectReference"),
    ("ConfigMapEnvSource", "localObjectReference"),
    ("SecretEnvSource", "localObjectReference"),
    ("ConfigMapVolumeSource", "localObjectReference"),
    ("ConfigMapProjection", "localObjectReference"),
    ("SecretProjection", "localObjectReference"),
];

/// The fields present on the wire, by their JSON names. An empty string is Go's zero
/// value, which its JSON leaves out: the encoder writes every string that is not a pointer.
fn fields_json(message: &DynamicMessage) -> Result<Value, String> {
    let mut object = Map::new();
    let parent = message.descriptor();
    for (field, value) in message.fields() {
        if value.as_str() == Some("") {
            continue;
        }
        let Some(json) = field_value_json(value)? else {
            continue;
        };
        match json {
            Value::Object(fields) if INLINE.contains(&(parent.name(), field.name())) => {
                object.extend(fields);
            }
            json => {
                object.insert(json_name(message, &field), json);
            }
        }
    }
    Ok(Value::Object(object))
}

/// A field's JSON name: its protobuf name, except in `JSONSchemaProps`, whose JSON names
/// are not identifiers (`$ref`, `x-kubernetes-list-type`).
fn json_name(message: &DynamicMessage, field: &FieldDescriptor) -> String {
    let name = field.name();
    if message.descriptor().name() != "JSONSchemaProps" {
        return name.to_owned();
    }
    match name {
        "ref" | "schema" => format!("${name}"),
        _ if name.starts_with("xKubernetes") => name.chars().fold(String::new(), |mut kebab, c| {
            if c.is_ascii_uppercase() {
                kebab.push('-');
            }
            kebab.push(c.to_ascii_lowercase());
            kebab
        }),
        _ => name.to_owned(),
    }
}

fn field_value_json(value: &Proto) -> Result<Option<Value>, String> {
    match value {
        Proto::Message(message) => message_json(message),
        other => value_json(other).map(Some),
    }
}

fn value_json(value: &Proto) -> Result<Value, String> {
    Ok(match value {
        Proto::Bool(b) => Value::Bool(*b),
        Proto::I32(n) | Proto::EnumNumber(n) => Value::from(*n),
        Proto::I64(n) => Value::from(*n),
        Proto::U32(n) => Value::from(*n),
        Proto::U64(n) => Value::from(*n),
        Proto::F32(n) => float(f64::from(*n))?,
        Proto::F64(n) => float(*n)?,
        Proto::String(s) => Value::String(s.clone()),
        Proto::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Proto::Message(message) => message_json(message)?.unwrap_or(Value::Null),
        Proto::List(items) => Value::Array(items.iter().map(value_json).collect::<Result<_, _>>()?),
        Proto::Map(entries) => {
            let mut object = Map::new();
            for (key, value) in entries {
                object.insert(map_key(key), value_json(value)?);
            }
            Value::Object(object)
        }
    })
}

fn float(n: f64) -> Result<Value, String> {
    serde_json::Number::from_f64(n)
        .map(Value::Number)
        .ok_or_else(|| format!("{n} is not a JSON number"))
}

fn map_key(key: &MapKey) -> String {
    match key {
        MapKey::String(s) => s.clone(),
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
    }
}

/// RFC 3339 in UTC; the zero time (which Go encodes as an empty message) is left out.
fn time(message: &DynamicMessage, format: SecondsFormat) -> Option<Value> {
    let number = |n| message.get_field_by_number(n);
    let seconds = number(1).and_then(|v| v.as_i64()).unwrap_or(0);
    let nanos = number(2).and_then(|v| v.as_i32()).unwrap_or(0);
    if seconds == 0 && nanos == 0 {
        return None;
    }
    let time = DateTime::from_timestamp(seconds, u32::try_from(nanos).unwrap_or(0))?;
    Some(Value::String(time.to_rfc3339_opts(format, true)))
}

/// `type` 0 is an integer, 1 a string.
fn int_or_string(message: &DynamicMessage) -> Value {
    let number = |n| message.get_field_by_number(n);
    if number(1).and_then(|v| v.as_i64()) == Some(1) {
        let text = number(3).and_then(|v| v.as_str().map(str::to_owned));
        Value::String(text.unwrap_or_default())
    } else {
        Value::from(number(2).and_then(|v| v.as_i32()).unwrap_or(0))
    }
}

/// Raw bytes holding JSON, or an object in its own protobuf envelope.
fn embedded(raw: &[u8]) -> Result<Value, String> {
    if raw.starts_with(MAGIC) {
        return decode(raw).map_err(|e| e.message);
    }
    serde_json::from_slice(raw).map_err(|e| format!("embedded JSON: {e}"))
}

/// A schema or its alternative: a list of schemas, a boolean, a list of property names.
fn schema_or(message: &DynamicMessage) -> Result<Option<Value>, String> {
    let descriptor = message.descriptor();
    let field = |name| descriptor.get_field_by_name(name);
    for alternative in ["jSONSchemas", "property"] {
        if let Some(field) = field(alternative).filter(|f| message.has_field(f)) {
            return value_json(&message.get_field(&field)).map(Some);
        }
    }
    if let Some(schema) = field("schema").filter(|f| message.has_field(f)) {
        return field_value_json(&message.get_field(&schema));
    }
    Ok(field("allows")
        .map(|allows| Value::Bool(message.get_field(&allows).as_bool() == Some(true))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_reflect::prost::Message;
    use serde_json::json;

    /// A message from protobuf's own JSON mapping (numbers for times, `{"string": ..}` for
    /// quantities, base64 for bytes), encoded.
    fn encode(descriptor: MessageDescriptor, proto_json: &Value) -> Vec<u8> {
        let text = proto_json.to_string();
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        DynamicMessage::deserialize(descriptor, &mut deserializer)
            .expect("valid protobuf JSON")
            .encode_to_vec()
    }

    /// A body as kubectl sends it: the object in its `runtime.Unknown` envelope.
    fn body(api_version: &str, kind: &str, proto_json: &Value) -> Vec<u8> {
        let object = encode(message_of(api_version, kind).expect("a kind"), proto_json);
        let envelope = json!({
            "typeMeta": {"apiVersion": api_version, "kind": kind},
            "raw": base64::engine::general_purpose::STANDARD.encode(object),
        });
        let unknown = pool().get_message_by_name(UNKNOWN).expect("Unknown");
        [MAGIC, &encode(unknown, &envelope)].concat()
    }

    #[test]
    fn decodes_a_deployment_with_its_int_or_strings_inline_fields_and_zero_replicas() {
        let deployment = json!({
            "metadata": {"name": "web", "namespace": "", "labels": {"app": "web"},
                         "creationTimestamp": {}},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "nginx", "image": "nginx:1.27", "command": ["sleep", ""],
                     "resources": {"limits": {"cpu": {"string": "500m"}}},
                     "ports": [{"containerPort": 80}],
                     "readinessProbe": {"handler": {"httpGet": {"path": "/",
                                        "port": {"type": 1, "strVal": "http"}}}}},
                ], "volumes": [{"name": "cfg",
                                "volumeSource": {"configMap": {"localObjectReference": {"name": "settings"}}}}]}},
                "strategy": {"rollingUpdate": {"maxSurge": {"type": 0, "intVal": 2}}},
            },
            "status": {},
        });
        let object = decode(&body("apps/v1", "Deployment", &deployment)).unwrap();
        let expected = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "nginx", "image": "nginx:1.27", "command": ["sleep", ""],
                     "resources": {"limits": {"cpu": "500m"}},
                     "ports": [{"containerPort": 80}],
                     "readinessProbe": {"httpGet": {"path": "/", "port": "http"}}},
                ], "volumes": [{"name": "cfg", "configMap": {"name": "settings"}}]}},
                "strategy": {"rollingUpdate": {"maxSurge": 2}},
            },
            "status": {},
        });
        assert_eq!(object, expected);
    }

    #[test]
    fn times_are_rfc_3339_and_secret_data_base64() {
        let secret = json!({
            "metadata": {"name": "s", "creationTimestamp": {"seconds": 1_700_000_000},
                         "deletionTimestamp": {"seconds": 1_700_000_000, "nanos": 5}},
            "data": {"k": "aGVsbG8="},
            "type": "Opaque",
            "immutable": false,
        });
        let object = decode(&body("v1", "Secret", &secret)).unwrap();
        assert_eq!(
            object["metadata"]["creationTimestamp"],
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(object["data"]["k"], "aGVsbG8=");
        assert_eq!(object["type"], "Opaque");
        assert_eq!(object["immutable"], false);
        let event = json!({"metadata": {"name": "e"}, "eventTime": {"seconds": 1_700_000_000, "nanos": 1_500_000}});
        let object = decode(&body("events.k8s.io/v1", "Event", &event)).unwrap();
        assert_eq!(object["eventTime"], "2023-11-14T22:13:20.001500Z");
        assert_eq!(object["apiVersion"], "events.k8s.io/v1");
    }

    #[test]
    fn kinds_resolve_to_the_message_of_their_group() {
        let full_name =
            |api_version, kind| message_of(api_version, kind).map(|m| m.full_name().to_owned());
        assert_eq!(
            full_name("v1", "Event").as_deref(),
            Some("k8s.io.api.core.v1.Event")
        );
        assert_eq!(
            full_name("events.k8s.io/v1", "Event").as_deref(),
            Some("k8s.io.api.events.v1.Event")
        );
        assert_eq!(
            full_name("rbac.authorization.k8s.io/v1", "ClusterRole").as_deref(),
            Some("k8s.io.api.rbac.v1.ClusterRole")
        );
        assert_eq!(
            full_name("internal.apiserver.k8s.io/v1alpha1", "StorageVersion").as_deref(),
            Some("k8s.io.api.apiserverinternal.v1alpha1.StorageVersion")
        );
        assert_eq!(
            full_name("apiextensions.k8s.io/v1", "CustomResourceDefinition").as_deref(),
            Some(
                "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"
            )
        );
        assert_eq!(full_name("example.com/v1", "Deployment"), None);
    }

    /// Every kind the simulator serves has its message, but those the bundled descriptors
    /// (Kubernetes 1.37.0-beta.0) predate: k8s-openapi's 1.37 serves them at a version the
    /// beta's protos did not have yet. kubectl's typed commands create none of them.
    #[test]
    fn every_served_kind_has_a_message() {
        let missing: Vec<String> = crate::resources::Registry::default()
            .all()
            .into_iter()
            .filter(|resource| message_of(&resource.api_version(), &resource.kind).is_none())
            .map(|resource| format!("{} {}", resource.api_version(), resource.kind))
            .collect();
        assert_eq!(missing, ["certificates.k8s.io/v1 PodCertificateRequest"]);
    }

    #[test]
    fn a_crd_schema_keeps_its_json_names_and_embedded_values() {
        let crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "names": {"plural": "widgets", "kind": "Widget"},
                     "scope": "Namespaced", "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object",
                    "xKubernetesPreserveUnknownFields": true,
                    "properties": {"size": {"type": "integer", "default": {"raw": "Mw=="}},
                                   "tags": {"type": "array", "items": {"schema": {"type": "string"}}}},
                    "additionalProperties": {"allows": true}}}}]},
        });
        let object = decode(&body(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            &crd,
        ))
        .unwrap();
        let schema = &object["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        assert_eq!(schema["x-kubernetes-preserve-unknown-fields"], true);
        assert_eq!(schema["properties"]["size"]["default"], 3);
        assert_eq!(
            schema["properties"]["tags"]["items"],
            json!({"type": "string"})
        );
        assert_eq!(schema["additionalProperties"], true);
    }

    #[test]
    fn bad_bodies_and_unknown_kinds_are_refused() {
        assert_eq!(decode(b"garbage").unwrap_err().code, 400);
        assert_eq!(decode(b"k8s\0\xff\xff").unwrap_err().code, 400);
        let mut deployment = body("apps/v1", "Deployment", &json!({"metadata": {"name": "x"}}));
        deployment.truncate(deployment.len() - 2);
        assert_eq!(decode(&deployment).unwrap_err().code, 400);
        let unknown = pool().get_message_by_name(UNKNOWN).expect("Unknown");
        let envelope = json!({"typeMeta": {"apiVersion": "example.com/v1", "kind": "Widget"}});
        let error = decode(&[MAGIC, &encode(unknown, &envelope)].concat()).unwrap_err();
        assert_eq!(error.code, 400);
        assert!(
            error.message.contains("no kind \"Widget\""),
            "{}",
            error.message
        );
    }
}
